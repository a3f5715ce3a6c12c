//! The machine-readable printers: one JSON document (`--format json`) and NDJSON events
//! (`--format ndjson`: a `match` object per failing line as it is found, then a `summary`).

use std::io::{self, Write};

use serde::Serialize;

use super::{seen, Document};
use crate::matcher::Matcher;
use crate::rules::{Component, Severity};
use crate::scan::MatchEvent;

/// Writes the document, pretty-printed, with a trailing newline.
pub fn print_json(out: &mut dyn Write, doc: &Document) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, doc)?;
    writeln!(out)
}

#[derive(Serialize)]
struct MatchLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    source: String,
    line: u64,
    timestamp: Option<String>,
    rule: &'a str,
    component: Component,
    cause: &'a str,
    code: Option<&'a str>,
    severity: Severity,
    values: &'a std::collections::BTreeMap<String, String>,
}

/// One `match` event as a single JSON line (without the newline).
pub fn match_event(matcher: &Matcher, e: &MatchEvent, sources: &[String]) -> String {
    let set = matcher.rules();
    let rule = &set.rules[e.rule];
    let at = seen(&e.pos, sources);
    let line = MatchLine {
        kind: "match",
        source: at.source,
        line: at.line,
        timestamp: at.timestamp,
        rule: &rule.id,
        component: e.component,
        cause: &e.cause,
        code: rule.code.as_deref().or_else(|| {
            set.code_for_cause(e.component, &e.cause)
                .map(|c| c.code.as_str())
        }),
        severity: e.severity,
        values: &e.values,
    };
    serde_json::to_string(&line).expect("a match event serialises")
}

#[derive(Serialize)]
struct Summary<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    doc: &'a Document,
}

/// Writes the closing `summary` event of an NDJSON stream.
pub fn print_summary_line(out: &mut dyn Write, doc: &Document) -> io::Result<()> {
    serde_json::to_writer(
        &mut *out,
        &Summary {
            kind: "summary",
            doc,
        },
    )?;
    writeln!(out)
}
