//! The scanner: a pure function of a block of complete lines. It runs the matcher's anchor
//! prefilter over the whole block, finds line boundaries only around hits, decodes and
//! classifies only those lines, and hands each verdict to a [`Consumer`] (the [`Aggregation`], or
//! a driver's collector that also keeps match events). Everything else is counted, not looked
//! at. It does no I/O and no scheduling: [`framer`] cuts blocks out of a stream (or a static
//! buffer) so that no line, and no split line's parts, straddles two blocks, and the drivers
//! (the `drive` module) decide which blocks to scan on which thread.

mod collect;
pub mod framer;

use std::collections::BTreeMap;

use memchr::{memchr, memrchr};

use crate::findings::{Aggregation, Failed, Pos, Source};
use crate::matcher::{Failure, Matcher, Quick, Verdict};
use crate::record::{self, decode, Part, Record};
use crate::rules::Component;

pub use collect::{Collector, EventCache, EventLine, MatchEvent};
pub use framer::{chunk_bounds, Block, Framer, Position, MAX_LINE};

/// How many parts of a split line (CRI `P` parts, Docker pieces) are joined into one line at most.
pub const MAX_PARTS: usize = 64;

/// Which lines a scan keeps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanOptions {
    /// Keep only lines whose own timestamp is at or after this.
    pub since: Option<jiff::Timestamp>,
    /// Keep only lines whose own timestamp is at or before this.
    pub until: Option<jiff::Timestamp>,
}

impl ScanOptions {
    /// Whether a time window is set.
    pub fn filters_time(&self) -> bool {
        self.since.is_some() || self.until.is_some()
    }

    /// Whether a line with this timestamp is inside the window (a line without one is not, when a
    /// window is set).
    pub fn keeps(&self, ts: Option<jiff::Timestamp>) -> bool {
        if !self.filters_time() {
            return true;
        }
        ts.is_some_and(|t| self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u))
    }
}

/// What a block scan counted besides the verdicts it handed over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Newlines in the block.
    pub newlines: u64,
    /// Lines that held an anchor.
    pub candidates: u64,
    /// Lines an ignore rule declared healthy.
    pub ignored: u64,
    /// Candidate lines outside the time window.
    pub outside_window: u64,
}

impl Counts {
    /// Adds these counts to an aggregation's statistics (all but lines, which the driver knows).
    pub fn add_to(&self, agg: &mut Aggregation) {
        agg.stats.candidates += self.candidates;
        agg.stats.ignored += self.ignored;
        agg.stats.outside_window += self.outside_window;
    }
}

/// Receives the verdicts of a block scan, in input order (except that success lines the scanner
/// recognised without decoding them come as one event per component at the end of the block).
pub trait Consumer {
    /// A failing line: the matcher's verdict (rule indexes) and the line (names, text, capture).
    fn failure(&mut self, failure: &Failure, line: Failed<'_>);
    /// `lines` success lines of `component`, the last of them at `at`.
    fn success(&mut self, component: Component, at: Pos, lines: u64);
    /// The block is scanned: what was put off until then (capturing values) is done now.
    fn block_done(&mut self, _matcher: &Matcher) {}
}

impl Consumer for Aggregation {
    fn failure(&mut self, _: &Failure, line: Failed<'_>) {
        self.add_failure(&line);
    }

    fn success(&mut self, component: Component, at: Pos, lines: u64) {
        self.add_successes(component, at, lines);
    }
}

/// Scans one block of complete lines (see [`framer`]). Line numbers are `first_line` + the line's
/// index in `buf`.
pub fn scan_block(
    matcher: &Matcher,
    buf: &[u8],
    source: &Source,
    first_line: u64,
    opts: &ScanOptions,
    out: &mut impl Consumer,
) -> Counts {
    let mut counts = Counts::default();
    let mut pos = 0usize;
    let mut counted = 0usize;
    let mut newlines = 0u64;
    // Success-only lines are counted without decoding them; only the last one of each component
    // matters for status, so only it is decoded, at the end: (start, end, line number, count).
    let mut quick_success: [(usize, usize, u64, u64); 4] = [(0, 0, 0, 0); 4];
    let mut hits = matcher.hits(buf);
    let mut next = hits.next();
    while let Some(hit) = next {
        if hit.start < pos {
            next = hits.next();
            continue;
        }
        let start = memrchr(b'\n', &buf[pos..hit.start]).map_or(pos, |i| pos + i + 1);
        let mut end = memchr(b'\n', &buf[hit.end..]).map_or(buf.len(), |i| hit.end + i);
        // The line's other anchors: it is success-only if all of them prove the same component.
        let mut success = matcher.success_anchor(hit.anchor);
        next = hits.next();
        while let Some(h) = next.filter(|h| h.start < end) {
            if matcher.success_anchor(h.anchor) != success {
                success = None;
            }
            next = hits.next();
        }
        newlines += count_newlines(&buf[counted..start]);
        counted = start;
        let line_no = first_line + newlines;
        counts.candidates += 1;
        let raw = trim_cr(&buf[start..end]);
        match matcher.quick(raw, success) {
            Quick::Ignored => {
                counts.ignored += 1;
                pos = end + 1;
                continue;
            }
            // With a time window the line's own timestamp decides, so it must be decoded.
            Quick::Success(c) if !opts.filters_time() => {
                let q = &mut quick_success[c as usize];
                *q = (start, end, line_no, q.3 + 1);
                pos = end + 1;
                continue;
            }
            Quick::Success(_) | Quick::Decode => {}
        }
        let mut rec = decode(raw);
        // The raw line, for samples; a joined line's samples show its joined text.
        let mut joined_line = false;
        // A split line (CRI `P` parts, Docker's 16 KiB pieces): join the parts around it.
        let mut first_line_no = line_no;
        if rec.part == Part::Partial || (start > 0 && record::splits(raw)) {
            if let Some((joined, parts_before, joined_end)) = join_parts(buf, start, end, pos, &rec)
            {
                rec = joined;
                joined_line = true;
                end = joined_end;
                first_line_no = line_no.saturating_sub(parts_before as u64).max(first_line);
            }
        }
        if !opts.keeps(rec.ts) {
            counts.outside_window += 1;
            pos = end + 1;
            continue;
        }
        let at = Pos {
            source: source.clone(),
            line: first_line_no,
            ts: rec.ts,
        };
        match matcher.classify(&rec) {
            Verdict::None => {}
            Verdict::Ignore { .. } => counts.ignored += 1,
            Verdict::Success { component, .. } => out.success(component, at, 1),
            Verdict::Failure(f) => {
                let raw = if joined_line {
                    rec.text.as_bytes()
                } else {
                    raw
                };
                let text: &str = &rec.text;
                let capture = |into: &mut BTreeMap<String, String>| matcher.capture(&f, text, into);
                let line = Failed {
                    at,
                    component: f.component,
                    cause: matcher.cause(&f),
                    rule: matcher.rule_id(&f),
                    fix: matcher.fix_id(&f),
                    severity: f.severity,
                    raw,
                    text,
                    capture: &capture,
                };
                out.failure(&f, line);
            }
        }
        pos = end + 1;
    }
    newlines += count_newlines(&buf[counted.min(buf.len())..]);
    counts.newlines = newlines;
    for (c, (start, end, line, n)) in Component::ALL.into_iter().zip(quick_success) {
        if n > 0 {
            let ts = decode(trim_cr(&buf[start..end])).ts;
            let at = Pos {
                source: source.clone(),
                line,
                ts,
            };
            out.success(c, at, n);
        }
    }
    out.block_done(matcher);
    counts
}

/// Applies a block's verdicts to an aggregation and counts it: the common case of a driver that
/// keeps no events.
pub fn scan_into(
    matcher: &Matcher,
    buf: &[u8],
    source: &Source,
    first_line: u64,
    opts: &ScanOptions,
    agg: &mut Aggregation,
) -> Counts {
    let counts = scan_block(matcher, buf, source, first_line, opts, agg);
    counts.add_to(agg);
    counts
}

#[inline]
fn count_newlines(bytes: &[u8]) -> u64 {
    bytecount::count(bytes, b'\n') as u64
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Joins the parts of the split line around the line at `start..end`: the parts right before it,
/// none before `floor` (where the lines scanned already end), and, if it is itself a part, the
/// lines after it up to the closing one. Which raw line continues which is the record module's
/// knowledge. Returns the joined record, the number of parts before the line, and the end of its
/// last part; `None` when there is nothing to join.
fn join_parts<'a>(
    buf: &'a [u8],
    start: usize,
    end: usize,
    floor: usize,
    rec: &Record<'a>,
) -> Option<(Record<'a>, usize, usize)> {
    // Parts before: walk back while the previous line is a part. Not into a line of more than
    // `MAX_PARTS` parts joined already: its next parts make a line of their own, not one that
    // repeats the parts joined before.
    let mut before: Vec<Record<'a>> = Vec::new();
    let mut s = start;
    while s > floor && before.len() < MAX_PARTS {
        let prev_end = s - 1;
        let prev_start = memrchr(b'\n', &buf[..prev_end]).map_or(0, |i| i + 1);
        let prev_raw = trim_cr(&buf[prev_start..prev_end]);
        if !record::may_continue(prev_raw) {
            break;
        }
        let prev = decode(prev_raw);
        if prev.part != Part::Partial {
            break;
        }
        before.push(prev);
        s = prev_start;
    }
    let mut after: Vec<Record<'a>> = Vec::new();
    let mut e = end;
    if rec.part == Part::Partial {
        while e < buf.len() && after.len() < MAX_PARTS {
            let next_start = e + 1;
            if next_start >= buf.len() {
                break;
            }
            let next_end = memchr(b'\n', &buf[next_start..]).map_or(buf.len(), |i| next_start + i);
            let next_raw = trim_cr(&buf[next_start..next_end]);
            if !record::splits(next_raw) {
                break;
            }
            let next = decode(next_raw);
            let last = next.part == Part::Full;
            after.push(next);
            e = next_end;
            if last {
                break;
            }
        }
    }
    if before.is_empty() && after.is_empty() {
        return None;
    }
    let joined = record::join(
        before
            .iter()
            .rev()
            .chain(std::iter::once(rec))
            .chain(after.iter()),
    );
    Some((joined, before.len(), e))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn corpus() -> Vec<u8> {
        let lines = [
            r#"{"level":"info","ts":"2025-10-14T09:15:00.000Z","msg":"completed fetching node_stats metricset"}"#,
            r#"{"level":"error","ts":"2025-10-14T09:15:03.512Z","msg":"failed to register Cloud Connected Mode: Post \"https://api.elastic-cloud.com/api/v1/cloud-connected/clusters\": proxyconnect tcp: dial tcp 10.0.0.8:3128: connect: connection refused"}"#,
            "plain healthy line",
            r#"{"level":"info","ts":"2025-10-14T09:15:04.000Z","msg":"Exporting failed. Will retry the request after interval.","error":"failed to make an HTTP request: Post \"https://otel-auto-ops.eu-west-1.aws.svc.elastic.cloud/v1/logs\": dial tcp: lookup otel-auto-ops.eu-west-1.aws.svc.elastic.cloud on 127.0.0.11:53: no such host"}"#,
            "2025-10-14T09:15:05.000000000Z stderr P {\"level\":\"error\",\"msg\":\"Exporting failed. Dropping",
            "2025-10-14T09:15:05.000000000Z stderr F  data.\",\"error\":\"no more retries left: context deadline exceeded\"}",
            "",
            // One zap line that Docker split in three (16 KiB pieces in real life), the anchor cut
            // across the pieces: the framer keeps block boundaries away from them.
            r#"{"log":"{\"level\":\"error\",\"msg\":\"Exporting failed. Dro","stream":"stderr","time":"2025-10-14T09:15:06Z"}"#,
            r#"{"log":"pping data.\",\"error\":\"dial tcp: lookup otel-auto-ops.eu-west-1.aws.svc.elastic.cloud: no such ","stream":"stderr","time":"2025-10-14T09:15:06Z"}"#,
            r#"{"log":"host\"}\n","stream":"stderr","time":"2025-10-14T09:15:06Z"}"#,
            // A CRI part behind a `docker compose logs` prefix: the record module says it
            // continues, so it is joined like any other.
            "agent-1  | 2025-10-14T09:15:07.000000000Z stderr P {\"level\":\"error\",\"msg\":\"failed to register Cloud",
            "agent-1  | 2025-10-14T09:15:07.000000000Z stderr F  Connected Mode: dial tcp: lookup api.elastic-cloud.com: no such host\"}",
        ];
        let mut buf = Vec::new();
        for i in 0..48 {
            buf.extend_from_slice(lines[i % lines.len()].as_bytes());
            buf.push(b'\n');
        }
        buf.extend_from_slice(lines[1].as_bytes()); // no final newline
        buf
    }

    pub(crate) fn matcher() -> Matcher {
        Matcher::new(crate::rules::RuleSet::builtin().unwrap())
    }

    fn scan_all(m: &Matcher, buf: &[u8]) -> Collector {
        let mut c = Collector::new(true);
        let counts = scan_block(
            m,
            buf,
            &Source::new("t", 0),
            1,
            &ScanOptions::default(),
            &mut c,
        );
        counts.add_to(&mut c.agg);
        c
    }

    #[test]
    fn split_lines_are_joined_once() {
        let m = matcher();
        let c = scan_all(&m, &corpus());
        let events = c.events.unwrap();
        let at = |line: u64| events.iter().find(|e| e.at.line == line);
        // The CRI P+F pair starting at line 5 is one failing line, the F part not counted again.
        let cri = at(5).expect("the P+F pair is one failing line");
        assert_eq!(cri.line.failure.component, Component::Export);
        assert_eq!(m.cause(&cri.line.failure), "timeout");
        assert!(at(6).is_none());
        // Docker's three pieces from line 8 are one line.
        let docker = at(8).expect("the Docker pieces are one failing line");
        assert_eq!(m.cause(&docker.line.failure), "dns");
        assert!(at(9).is_none() && at(10).is_none());
        // The compose-prefixed CRI pair from line 11.
        let compose = at(11).expect("the compose-prefixed P+F pair is one failing line");
        assert_eq!(compose.line.failure.component, Component::Registration);
        assert_eq!(m.cause(&compose.line.failure), "dns");
        assert!(at(12).is_none());
    }

    #[test]
    fn a_line_of_more_parts_than_are_joined_goes_on_in_lines_that_do_not_overlap() {
        // A zap line that Docker split in MAX_PARTS + 6 pieces, with an error in the first piece
        // and another in the last: the first MAX_PARTS + 1 pieces are one line, the rest another.
        let parts = MAX_PARTS + 6;
        let mut buf = Vec::new();
        for i in 0..parts {
            let log = match i {
                0 => r#"{\"level\":\"error\",\"msg\":\"dial tcp 10.0.0.5:9200: connect: connection refused "#.to_string(),
                i if i == parts - 1 => "again: connect: connection refused\"}\\n".to_string(),
                i => format!("part{i} "),
            };
            buf.extend_from_slice(
                format!(r#"{{"log":"{log}","stream":"stderr","time":"2025-10-14T09:15:06Z"}}"#)
                    .as_bytes(),
            );
            buf.push(b'\n');
        }
        let m = matcher();
        let c = scan_all(&m, &buf);
        let events = c.events.unwrap();
        let lines: Vec<u64> = events.iter().map(|e| e.at.line).collect();
        assert_eq!(lines, [1, MAX_PARTS as u64 + 2]);
        // The second line holds the parts after the first one's, and none of them again.
        let second = &events[1].line.text;
        assert!(
            second.starts_with(&format!("part{} ", MAX_PARTS + 1)),
            "{second}"
        );
        assert!(!second.contains(&format!("part{} ", MAX_PARTS)), "{second}");
    }

    #[test]
    fn events_carry_values_captured_once_per_distinct_line() {
        let m = matcher();
        let c = scan_all(&m, &corpus());
        let events = c.events.unwrap();
        let proxies: Vec<_> = events
            .iter()
            .filter(|e| m.cause(&e.line.failure) == "proxy")
            .collect();
        assert_eq!(proxies.len(), 5);
        for e in &proxies {
            assert_eq!(&e.line.values()["proxy"], "10.0.0.8:3128");
            // Lines with the same text share what was made of it.
            let mut same = proxies.iter().filter(|o| o.line.text == e.line.text);
            assert!(same.clone().count() > 1);
            assert!(same.all(|o| std::sync::Arc::ptr_eq(&o.line, &e.line)));
        }
        assert_eq!(c.agg.stats.failures, events.len() as u64);
    }
}
