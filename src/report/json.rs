//! The machine-readable printers: one JSON document (`--format json`) and NDJSON events
//! (`--format ndjson`: a `match` object per failing line as it is found, then a `summary`).

use std::io::{self, Write};

use serde::Serialize;

use super::Document;
use crate::rules::{Component, RuleSet, Severity};
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
    source: &'a str,
    line: u64,
    timestamp: Option<&'a jiff::Timestamp>,
    rule: &'a str,
    component: Component,
    cause: &'a str,
    code: Option<&'a str>,
    severity: Severity,
    title: &'a str,
    values: &'a std::collections::BTreeMap<String, String>,
    text: &'a str,
}

/// Writes one `match` event as a single JSON line.
pub fn write_match(out: &mut dyn Write, set: &RuleSet, e: &MatchEvent) -> io::Result<()> {
    let super::Verdict { rule, cause, code } = super::verdict(set, e);
    let line = MatchLine {
        kind: "match",
        source: &e.at.source.name,
        line: e.at.line,
        timestamp: e.at.ts.as_ref(),
        rule: &rule.id,
        component: e.failure.component,
        cause,
        code,
        severity: e.failure.severity,
        title: &rule.title,
        values: &e.values,
        text: &e.text,
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")
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

#[derive(Serialize)]
struct AlertLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    alert: crate::findings::alert::AlertKind,
    /// A stable id of the finding: `component/cause/fix`.
    id: String,
    /// Failing lines since the previous alert of this finding.
    lines: u64,
    /// Over how many seconds (a digest).
    #[serde(skip_serializing_if = "Option::is_none")]
    window_seconds: Option<u64>,
    #[serde(flatten)]
    finding: &'a super::FindingDoc,
}

/// Writes one `alert` event (open, repeat, recovered) as a single JSON line, with the finding's
/// fields.
pub fn write_alert(
    out: &mut dyn Write,
    alert: &crate::findings::alert::Alert,
    finding: &super::FindingDoc,
) -> io::Result<()> {
    let line = AlertLine {
        kind: "alert",
        alert: alert.kind,
        id: alert.key.id(),
        lines: alert.lines,
        window_seconds: (alert.kind == crate::findings::alert::AlertKind::Repeat)
            .then_some(alert.window.as_secs()),
        finding,
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")
}

#[derive(Serialize)]
struct ProblemLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    problem: &'a super::ProblemDoc,
}

/// Writes one `problem` event (an input that could not be read, or was cut short) as a JSON line.
pub fn write_problem(out: &mut dyn Write, problem: &super::ProblemDoc) -> io::Result<()> {
    serde_json::to_writer(
        &mut *out,
        &ProblemLine {
            kind: "problem",
            problem,
        },
    )?;
    out.write_all(b"\n")
}
