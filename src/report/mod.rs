//! Reports: the [`Document`] a scan produces (the JSON contract of DESIGN.md, "Interfaces that
//! others depend on") and its printers: human text grouped by component, one JSON document, and
//! NDJSON events as they happen. Printers only format; they never scan or classify.

mod escape;
mod human;
mod json;

pub(crate) use escape::for_terminal;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::findings::{Aggregation, Finding, Pos, Status};
use crate::matcher::Matcher;
use crate::rules::{fill_template, Component, Severity};

pub use human::{explain, live_alert, print_human, Style};
pub use json::{match_event, print_json, print_summary_line};

/// The version of the JSON document's shape.
pub const FORMAT_VERSION: u32 = 1;

/// Where a line was seen, as printed.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Seen {
    /// The input's name (`<stdin>` for standard input).
    pub source: String,
    /// 1-based line number.
    pub line: u64,
    /// The log's own timestamp (RFC 3339), when the line has one.
    pub timestamp: Option<String>,
}

/// One finding, as printed.
#[derive(Debug, Clone, Serialize)]
pub struct FindingDoc {
    /// The rule that classified the first line.
    pub rule: String,
    /// `cluster`, `registration`, `export` or `agent`.
    pub component: Component,
    /// The cause.
    pub cause: String,
    /// The documented error code, where one applies.
    pub code: Option<String>,
    /// error, warning or info.
    pub severity: Severity,
    /// What the rule means.
    pub title: String,
    /// Lines.
    pub count: u64,
    /// The earliest line.
    pub first_seen: Seen,
    /// The latest line.
    pub last_seen: Seen,
    /// Values captured from the lines.
    pub values: BTreeMap<String, String>,
    /// What is wrong, in a sentence or two.
    pub fix: Option<String>,
    /// What to do.
    pub steps: Vec<String>,
    /// A command that tests the path, filled with the captured values.
    pub check: Option<String>,
    /// The answer of `check` that proves the path is open.
    pub expect: Option<String>,
    /// The documentation page.
    pub docs: Option<String>,
    /// Up to three lines as read, secrets masked.
    pub samples: Vec<String>,
    /// The first sample's decoded message, for people.
    #[serde(skip)]
    pub message: Option<String>,
}

/// The report of a scan.
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    /// [`FORMAT_VERSION`].
    pub version: u32,
    /// Findings: by component, then severity, then first appearance.
    pub findings: Vec<FindingDoc>,
    /// Each component's status.
    pub components: BTreeMap<Component, Status>,
    /// What was read.
    pub stats: crate::findings::Stats,
}

impl Document {
    /// Builds the document of a finished (or interrupted) scan.
    pub fn new(matcher: &Matcher, agg: &Aggregation, sources: &[String]) -> Document {
        // Values any line of a component showed (its ES URL, its region) fill the check commands
        // of that component's findings whose own lines did not show them.
        let mut known: BTreeMap<Component, BTreeMap<String, String>> = BTreeMap::new();
        for f in &agg.findings {
            let k = known.entry(f.component).or_default();
            for (name, value) in &f.values {
                k.entry(name.clone()).or_insert_with(|| value.clone());
            }
        }
        let mut order: Vec<&Finding> = agg.findings.iter().collect();
        // Stable: ties keep the order of first appearance.
        order.sort_by_key(|f| (f.component, std::cmp::Reverse(f.severity)));
        Document {
            version: FORMAT_VERSION,
            findings: order
                .into_iter()
                .map(|f| finding_doc_with(matcher, f, sources, known.get(&f.component)))
                .collect(),
            components: Component::ALL
                .into_iter()
                .map(|c| (c, agg.status(c)))
                .collect(),
            stats: agg.stats.clone(),
        }
    }

    /// The worst severity among the findings.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// Prints a position.
pub fn seen(pos: &Pos, sources: &[String]) -> Seen {
    Seen {
        source: sources
            .get(pos.source as usize)
            .cloned()
            .unwrap_or_else(|| "?".to_string()),
        line: pos.line,
        timestamp: pos.ts.map(|t| t.to_string()),
    }
}

/// The printable form of one finding.
pub fn finding_doc(matcher: &Matcher, f: &Finding, sources: &[String]) -> FindingDoc {
    finding_doc_with(matcher, f, sources, None)
}

fn finding_doc_with(
    matcher: &Matcher,
    f: &Finding,
    sources: &[String],
    component_values: Option<&BTreeMap<String, String>>,
) -> FindingDoc {
    let set = matcher.rules();
    let rule = &set.rules[f.rule];
    let fix = f.fix.map(|i| &set.fixes[i]);
    let code = rule.code.clone().or_else(|| {
        set.code_for_cause(f.component, &f.cause)
            .map(|c| c.code.clone())
    });
    let lookup = |name: &str| {
        f.values
            .get(name)
            .or_else(|| component_values.and_then(|v| v.get(name)))
            .map(String::as_str)
    };
    FindingDoc {
        rule: rule.id.clone(),
        component: f.component,
        cause: f.cause.clone(),
        code,
        severity: f.severity,
        title: rule.title.clone(),
        count: f.count,
        first_seen: seen(&f.first, sources),
        last_seen: seen(&f.last, sources),
        values: f.values.clone(),
        fix: fix.map(|x| x.summary.clone()),
        steps: fix.map(|x| x.steps.clone()).unwrap_or_default(),
        check: fix
            .and_then(|x| x.check.as_deref())
            .map(|c| fill_template(c, lookup)),
        expect: fix.and_then(|x| x.expect.clone()),
        docs: fix.map(|x| x.docs.clone()),
        samples: f.samples.iter().map(|s| s.text.clone()).collect(),
        message: f.samples.first().map(|s| s.message.clone()),
    }
}
