//! The machine-readable printers: one JSON document (`--format json`) and NDJSON events
//! (`--format ndjson`: a `match` object per failing line as it is found, then a `summary`).

use std::io::{self, Write};

use serde::Serialize;

use super::Document;
use crate::rules::RuleSet;
use crate::scan::{EventLine, MatchEvent};

/// Writes the document, pretty-printed, with a trailing newline.
pub fn print_json(out: &mut dyn Write, doc: &Document) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, doc)?;
    writeln!(out)
}

/// Appends `s` to `out` as a JSON string, escaped as `serde_json` escapes it (`\"`, `\\`, the
/// short escapes of `\b\t\n\f\r`, `\u00xx` for other control characters; anything else as
/// it is). `serde_json` looks up every byte and writes each run between escapes through its
/// writer; an event's text is most of what NDJSON writes, so this one skips from quote to
/// backslash to quote, once the text is known to hold no control character.
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Without an early exit, so that the compiler checks many bytes at once.
    let control = bytes.iter().fold(false, |any, &b| any | (b < 0x20));
    let mut copied = 0;
    if !control {
        for at in memchr::memchr2_iter(b'"', b'\\', bytes) {
            out.extend_from_slice(&bytes[copied..at]);
            out.extend_from_slice(&[b'\\', bytes[at]]);
            copied = at + 1;
        }
    } else {
        for (at, &b) in bytes.iter().enumerate() {
            let short = match b {
                b'"' => b'"',
                b'\\' => b'\\',
                0x08 => b'b',
                0x09 => b't',
                0x0a => b'n',
                0x0c => b'f',
                0x0d => b'r',
                0..0x20 => b'u',
                _ => continue,
            };
            out.extend_from_slice(&bytes[copied..at]);
            out.extend_from_slice(&[b'\\', short]);
            if short == b'u' {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 15)],
                ]);
            }
            copied = at + 1;
        }
    }
    out.extend_from_slice(&bytes[copied..]);
    out.push(b'"');
}

/// Appends a small value (a name, a timestamp) as `serde_json` writes it.
fn push_value(out: &mut Vec<u8>, value: &impl Serialize) {
    serde_json::to_writer(&mut *out, value).expect("names and timestamps serialize");
}

/// Renders the fields of a `match` event that tell what the line says, the same for identical
/// lines: `,"rule":…,"text":…}` and a newline, to follow the fields of its position. Written by
/// hand (the keys in the documented order) for speed: the NDJSON stream of a failing agent is
/// mostly this.
pub(crate) fn render_line(set: &RuleSet, line: &EventLine) -> Vec<u8> {
    let super::Verdict { rule, cause, code } = super::verdict(set, line);
    let values = line.values();
    // Room for the usual line at once: the text, the values, the title and the names.
    let room = 256
        + line.text.len()
        + rule.title.len()
        + values
            .iter()
            .map(|(k, v)| k.len() + v.len() + 8)
            .sum::<usize>();
    let mut out = Vec::with_capacity(room);
    out.extend_from_slice(b",\"rule\":");
    push_json_str(&mut out, &rule.id);
    out.extend_from_slice(b",\"component\":");
    push_value(&mut out, &line.failure.component);
    out.extend_from_slice(b",\"cause\":");
    push_json_str(&mut out, cause);
    out.extend_from_slice(b",\"code\":");
    match code {
        Some(code) => push_json_str(&mut out, code),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"severity\":");
    push_value(&mut out, &line.failure.severity);
    out.extend_from_slice(b",\"title\":");
    push_json_str(&mut out, &rule.title);
    out.extend_from_slice(b",\"values\":{");
    for (i, (name, value)) in values.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_json_str(&mut out, name);
        out.push(b':');
        push_json_str(&mut out, value);
    }
    out.extend_from_slice(b"},\"text\":");
    push_json_str(&mut out, &line.text);
    out.extend_from_slice(b"}\n");
    // Kept as it is: shrinking it to fit would cost a reallocation more.
    out
}

/// Writes `match` events, each as a single JSON line: `{"type":"match","source":…,"line":…,
/// "timestamp":…` then what the line says, rendered once for all the events of identical lines
/// (kept with them). Consecutive events mostly share their source and often the second of their
/// timestamp: the writer keeps both as written last (escaping a name and printing a date cost
/// more than the rest of an event's head).
#[derive(Debug, Default)]
pub struct MatchWriter {
    /// The event being written.
    line: Vec<u8>,
    /// The source name written last, and it as a JSON string.
    source: Option<(std::sync::Arc<str>, Vec<u8>)>,
    /// The whole second of the timestamp written last (floored), and the timestamp's JSON
    /// string up to it: `"2025-10-14T09:14:55`.
    second: Option<(i64, Vec<u8>)>,
}

impl MatchWriter {
    /// Writes one event.
    pub fn write(&mut self, out: &mut dyn Write, set: &RuleSet, e: &MatchEvent) -> io::Result<()> {
        let tail = e.line.rendered.get_or_init(|| render_line(set, &e.line));
        let line = &mut self.line;
        line.clear();
        line.extend_from_slice(b"{\"type\":\"match\",\"source\":");
        let name = &e.at.source.name;
        match &self.source {
            Some((known, json)) if known == name => line.extend_from_slice(json),
            _ => {
                let mut json = Vec::with_capacity(name.len() + 2);
                push_json_str(&mut json, name);
                line.extend_from_slice(&json);
                self.source = Some((name.clone(), json));
            }
        }
        line.extend_from_slice(b",\"line\":");
        push_u64(line, e.at.line);
        line.extend_from_slice(b",\"timestamp\":");
        match &e.at.ts {
            Some(ts) => push_timestamp(line, &mut self.second, ts),
            None => line.extend_from_slice(b"null"),
        }
        line.extend_from_slice(tail);
        out.write_all(line)
    }
}

/// Appends `n` in decimal.
fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Appends `ts` as a JSON string, as `jiff` prints it (RFC 3339 in UTC, the fraction of a second
/// only if there is one, without trailing zeros): the date and time up to the second from
/// `second` if it is that second, else printed and kept there.
fn push_timestamp(out: &mut Vec<u8>, second: &mut Option<(i64, Vec<u8>)>, ts: &jiff::Timestamp) {
    // A timestamp before 1970 has a negative fraction: floored, it is positive.
    let (mut whole, mut nanos) = (ts.as_second(), ts.subsec_nanosecond());
    if nanos < 0 {
        whole -= 1;
        nanos += 1_000_000_000;
    }
    if second.as_ref().is_none_or(|(s, _)| *s != whole) {
        let Ok(floor) = jiff::Timestamp::from_second(whole) else {
            push_value(out, ts);
            return;
        };
        let mut json = Vec::with_capacity(32);
        push_value(&mut json, &floor);
        // Without its closing `Z"`.
        json.truncate(json.len() - 2);
        *second = Some((whole, json));
    }
    let (_, json) = second.as_ref().expect("kept above");
    out.extend_from_slice(json);
    if nanos > 0 {
        let mut digits = [0u8; 10];
        digits[0] = b'.';
        let mut n = nanos as u32;
        for d in digits[1..].iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        let len = digits
            .iter()
            .rposition(|&d| d != b'0')
            .expect("a nonzero digit")
            + 1;
        out.extend_from_slice(&digits[..len]);
    }
    out.extend_from_slice(b"Z\"");
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

    use proptest::prelude::*;
    use serde_json::{json, Value};

    use crate::findings::{Pos, Source};
    use crate::matcher::Failure;
    use crate::rules::{Component, RuleSet, Severity};
    use crate::scan::{EventLine, MatchEvent};

    proptest! {
        #[test]
        fn strings_are_escaped_as_serde_json_escapes_them(s in "(\\PC|[\\x00-\\x1f\"\\\\\\x7f])*") {
            let mut out = b"x".to_vec();
            super::push_json_str(&mut out, &s);
            let expected = serde_json::to_string(&s).unwrap();
            prop_assert_eq!(&out[1..], expected.as_bytes());
        }

        #[test]
        fn timestamps_and_numbers_are_written_as_serde_json_writes_them(
            times in prop::collection::vec(
                (
                    jiff::Timestamp::MIN.as_second()..=jiff::Timestamp::MAX.as_second(),
                    0..1_000_000_000i32,
                    0..4u8,
                    0..3i64,
                ),
                1..20,
            ),
            n: u64,
        ) {
            // Timestamps a few seconds apart, some in the same second, with fractions of every
            // length (whole seconds, milliseconds, microseconds, nanoseconds), before and after
            // 1970.
            let mut second = None;
            let mut last = times[0].0;
            for (s, nanos, digits, step) in times {
                let s = if step == 0 { s } else { last.saturating_add(step - 1) };
                last = s;
                let nanos = nanos - nanos % 10i32.pow(3 * u32::from(3 - digits.min(3)));
                let nanos = if s < 0 { -nanos } else { nanos };
                let Ok(ts) = jiff::Timestamp::new(s, nanos) else {
                    continue;
                };
                let mut out = b"x".to_vec();
                super::push_timestamp(&mut out, &mut second, &ts);
                let expected = serde_json::to_string(&ts).unwrap();
                prop_assert_eq!(&out[1..], expected.as_bytes());
            }
            let mut out = Vec::new();
            super::push_u64(&mut out, n);
            prop_assert_eq!(out, n.to_string().into_bytes());
        }
    }

    #[test]
    fn control_characters_quotes_and_backslashes_are_escaped() {
        let mut out = Vec::new();
        super::push_json_str(&mut out, "a\"b\\c\u{1}\n\t\u{1f}\u{7f}\u{e9}");
        // DEL and anything past ASCII stay as they are.
        let expected = "\"a\\\"b\\\\c\\u0001\\n\\t\\u001f\u{7f}\u{e9}\"";
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

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
            .set(crate::matcher::Captured::from(&BTreeMap::from([(
                "es_port".to_string(),
                "9200".to_string(),
            )])))
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
        let (mut out, mut writer) = (Vec::new(), super::MatchWriter::default());
        writer.write(&mut out, &set, &event(3, None)).unwrap();
        assert!(
            line.rendered.get().is_some(),
            "the first event renders the line"
        );
        let at = "2025-10-14T09:14:55.003Z";
        writer.write(&mut out, &set, &event(9, Some(at))).unwrap();
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
