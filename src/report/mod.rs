//! Reports: the [`Document`] a scan produces (the JSON contract of DESIGN.md, "Interfaces that
//! others depend on") and the [`Observer`]s that print a run as it happens and when it ends: the
//! human printer (live announcements and the report grouped by component), one JSON document,
//! NDJSON events, in faultline's shape or as Elastic Common Schema documents (`ecs`). Observers consume the drivers' match events and the aggregation's deltas;
//! none of them scans, classifies or works out on its own what is new. They take the rule set,
//! not the matcher.

mod ecs;
mod escape;
mod human;
mod json;
mod markdown;
mod observe;

pub(crate) use escape::for_terminal;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::findings::{Aggregation, Finding, Pos, Status};
use crate::rules::{fill_template, fill_template_in, Component, RuleSet, Severity, Shell};

pub(crate) use human::plural;
pub use human::{explain, print_human, Style};
pub use json::write_problem;
pub use json::{print_json, print_summary_line};
pub use observe::{
    HumanPrinter, JsonPrinter, MarkdownPrinter, NdjsonPrinter, Observer, Render, Schema,
};

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
    /// The same test for Windows PowerShell, when the log came from Windows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_powershell: Option<String>,
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
    /// Inputs that could not be read (`error`) or were cut short by a safety limit, each with
    /// what happened (at most [`MAX_PROBLEMS`]; `stats` counts them all).
    pub problems: Vec<ProblemDoc>,
    /// Why the exit status is what it is (the human report's last line).
    #[serde(skip)]
    pub exit: Option<String>,
}

/// How many problems a report lists.
pub const MAX_PROBLEMS: usize = 1000;

/// An input that could not be read, or was cut short.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProblemDoc {
    /// The input (a file, an archive member, `<stdin>`).
    pub source: String,
    /// What happened, and what to do.
    pub message: String,
    /// `true`: it could not be read (exit 2); `false`: a safety limit cut it short.
    pub error: bool,
}

impl Document {
    /// Builds the document of a finished (or interrupted) scan.
    pub fn new(set: &RuleSet, agg: &Aggregation) -> Document {
        // Values any line of a component showed (its ES URL, its region) fill the check commands
        // of that component's findings whose own lines did not show them.
        let mut known: BTreeMap<Component, BTreeMap<String, String>> = BTreeMap::new();
        for f in &agg.findings {
            let k = known.entry(f.key.component).or_default();
            for (name, value) in &f.values {
                k.entry(name.clone()).or_insert_with(|| value.clone());
            }
        }
        let windows = from_windows(agg);
        let mut order: Vec<&Finding> = agg.findings.iter().collect();
        // Stable: ties keep the order of first appearance.
        order.sort_by_key(|f| (f.key.component, std::cmp::Reverse(f.severity)));
        Document {
            version: FORMAT_VERSION,
            findings: order
                .into_iter()
                .map(|f| finding_doc_with(set, f, known.get(&f.key.component), windows))
                .collect(),
            components: Component::ALL
                .into_iter()
                .map(|c| (c, agg.status(c)))
                .collect(),
            stats: agg.stats.clone(),
            problems: Vec::new(),
            exit: None,
        }
    }
}

/// What the rules say of a match event: the winning rule, the cause and the documented code.
pub(crate) struct Verdict<'s> {
    pub rule: &'s crate::rules::Rule,
    pub cause: &'s str,
    pub code: Option<&'s str>,
}

/// The [`Verdict`] of a failing line.
pub(crate) fn verdict<'s>(set: &'s RuleSet, line: &crate::scan::EventLine) -> Verdict<'s> {
    let rule = &set.rules[line.failure.rule];
    let cause = line
        .failure
        .cause_rule
        .and_then(|r| set.rules[r].cause.as_deref())
        .unwrap_or(crate::rules::UNKNOWN_CAUSE);
    let code = rule.code.as_deref().or_else(|| {
        set.code_for_cause(line.failure.component, cause)
            .map(|c| c.code.as_str())
    });
    Verdict { rule, cause, code }
}

/// Prints a position.
pub fn seen(pos: &Pos) -> Seen {
    Seen {
        source: pos.source.name.to_string(),
        line: pos.line,
        timestamp: pos.ts.map(|t| t.to_string()),
    }
}

/// The printable form of one finding, its check command filled with its own values.
pub fn finding_doc(set: &RuleSet, f: &Finding) -> FindingDoc {
    finding_doc_with(set, f, None, false)
}

/// What only Windows writes: its drive paths, Winsock's error texts, the collector's start line.
const WINDOWS_HINTS: [&str; 6] = [
    ":\\Program Files\\",
    "actively refused it",
    "wsarecv: ",
    "wsasend: ",
    "forcibly closed by the remote host",
    "(windows/",
];

/// Whether the failing lines kept show that the log came from Windows (its checks are then
/// given for PowerShell too).
fn from_windows(agg: &Aggregation) -> bool {
    agg.findings.iter().any(|f| {
        f.samples
            .iter()
            .any(|s| WINDOWS_HINTS.iter().any(|h| s.message.contains(h)))
    })
}

fn finding_doc_with(
    set: &RuleSet,
    f: &Finding,
    component_values: Option<&BTreeMap<String, String>>,
    windows: bool,
) -> FindingDoc {
    let rule = set.rules.iter().find(|r| r.id == f.rule);
    let fix = f
        .key
        .fix
        .as_deref()
        .and_then(|id| set.fixes.iter().find(|x| x.id == id));
    let code = rule.and_then(|r| r.code.clone()).or_else(|| {
        set.code_for_cause(f.key.component, &f.key.cause)
            .map(|c| c.code.clone())
    });
    let lookup = |name: &str| {
        f.values
            .get(name)
            .or_else(|| component_values.and_then(|v| v.get(name)))
            .map(String::as_str)
    };
    FindingDoc {
        rule: f.rule.clone(),
        component: f.key.component,
        cause: f.key.cause.clone(),
        code,
        severity: f.severity,
        title: rule.map_or_else(|| f.key.cause.clone(), |r| r.title.clone()),
        count: f.count,
        first_seen: seen(&f.first),
        last_seen: seen(&f.last),
        values: f.values.clone(),
        fix: fix.map(|x| x.summary.clone()),
        steps: fix.map(|x| x.steps.clone()).unwrap_or_default(),
        check: fix
            .and_then(|x| x.check.as_deref())
            .map(|c| fill_template(c, lookup)),
        check_powershell: fix
            .and_then(|x| x.check_powershell.as_deref())
            .filter(|_| windows)
            .map(|c| fill_template_in(Shell::PowerShell, c, lookup)),
        expect: fix.and_then(|x| x.expect.clone()),
        docs: fix.map(|x| x.docs.clone()),
        samples: f.samples.iter().map(|s| s.text.clone()).collect(),
        message: f.samples.first().map(|s| s.message.clone()),
    }
}
