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

/// The fields of a `match` event that tell where the line was.
#[derive(Serialize)]
struct MatchHead<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    source: &'a str,
    line: u64,
    timestamp: Option<&'a jiff::Timestamp>,
}

/// The fields of a `match` event that tell what the line says: the same for identical lines.
#[derive(Serialize)]
struct MatchTail<'a> {
    rule: &'a str,
    component: Component,
    cause: &'a str,
    code: Option<&'a str>,
    severity: Severity,
    title: &'a str,
    values: &'a std::collections::BTreeMap<String, String>,
    text: &'a str,
}

/// Writes one `match` event as a single JSON line. What the line says is rendered once for all
/// the events of identical lines (kept with them); `scratch` is a buffer to reuse.
pub fn write_match(
    out: &mut dyn Write,
    set: &RuleSet,
    e: &MatchEvent,
    scratch: &mut Vec<u8>,
) -> io::Result<()> {
    let tail = e.line.rendered.get_or_init(|| {
        let super::Verdict { rule, cause, code } = super::verdict(set, e);
        let tail = MatchTail {
            rule: &rule.id,
            component: e.line.failure.component,
            cause,
            code,
            severity: e.line.failure.severity,
            title: &rule.title,
            values: e.line.values(),
            text: &e.line.text,
        };
        // Room for the usual line at once: the text, the values, the title and the names.
        let room = 256
            + tail.text.len()
            + tail.title.len()
            + (tail.values.iter())
                .map(|(k, v)| k.len() + v.len() + 8)
                .sum::<usize>();
        let mut bytes = Vec::with_capacity(room);
        serde_json::to_writer(&mut bytes, &tail).expect("strings and numbers serialize");
        // `{"rule":…}` goes on the head's object: `,"rule":…}`.
        bytes[0] = b',';
        bytes.push(b'\n');
        // Kept as it is: shrinking it to fit would cost a reallocation more.
        bytes
    });
    scratch.clear();
    let head = MatchHead {
        kind: "match",
        source: &e.at.source.name,
        line: e.at.line,
        timestamp: e.at.ts.as_ref(),
    };
    serde_json::to_writer(&mut *scratch, &head)?;
    scratch.pop(); // the head's closing brace: the tail closes the object
    scratch.extend_from_slice(tail);
    out.write_all(scratch)
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use serde_json::{json, Value};

    use crate::findings::{Pos, Source};
    use crate::matcher::Failure;
    use crate::rules::{Component, RuleSet, Severity};
    use crate::scan::{EventLine, MatchEvent};

    #[test]
    fn events_of_one_line_share_what_it_says_and_keep_their_own_position() {
        let set = RuleSet::builtin().unwrap();
        let rule = set
            .rules
            .iter()
            .position(|r| r.id == "cause-refused")
            .unwrap();
        let line = EventLine::new(
            Failure {
                rule,
                component: Component::Cluster,
                cause_rule: Some(rule),
                fix: None,
                severity: Severity::Error,
            },
            "dial tcp 10.0.0.5:9200: connect: \"connection refused\"",
        );
        line.captured
            .set(BTreeMap::from([(
                "es_port".to_string(),
                "9200".to_string(),
            )]))
            .unwrap();
        let line = Arc::new(line);
        let event = |n: u64, ts: Option<&str>| MatchEvent {
            at: Pos {
                source: Source::new("a \"quoted\" name.log", 0),
                line: n,
                ts: ts.map(|t| t.parse().unwrap()),
            },
            line: line.clone(),
            raw: None,
        };
        let (mut out, mut scratch) = (Vec::new(), Vec::new());
        super::write_match(&mut out, &set, &event(3, None), &mut scratch).unwrap();
        assert!(
            line.rendered.get().is_some(),
            "the first event renders the line"
        );
        let at = "2025-10-14T09:14:55.003Z";
        super::write_match(&mut out, &set, &event(9, Some(at)), &mut scratch).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let said = |line: u64, timestamp: Value| {
            json!({
                "type": "match",
                "source": "a \"quoted\" name.log",
                "line": line,
                "timestamp": timestamp,
                "rule": "cause-refused",
                "component": "cluster",
                "cause": "refused",
                "code": set.rules[rule].code.clone().or_else(|| set
                    .code_for_cause(Component::Cluster, "refused")
                    .map(|c| c.code.clone())),
                "severity": "error",
                "title": set.rules[rule].title.clone(),
                "values": {"es_port": "9200"},
                "text": "dial tcp 10.0.0.5:9200: connect: \"connection refused\"",
            })
        };
        assert_eq!(lines, [said(3, Value::Null), said(9, json!(at))]);
        // One object per line, its keys in the documented order.
        for line in text.lines() {
            let keys = [
                "type",
                "source",
                "line",
                "timestamp",
                "rule",
                "component",
                "cause",
                "code",
                "severity",
                "title",
                "values",
                "text",
            ]
            .map(|k| line.find(&format!("\"{k}\":")).expect(k));
            assert!(keys.is_sorted(), "{line}");
            assert!(line.starts_with("{\"type\":\"match\",") && line.ends_with('}'));
        }
    }
}
