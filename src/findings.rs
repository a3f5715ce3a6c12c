//! Aggregation of classified lines into findings: one finding per (component, cause, fix) with its
//! count, first and last sighting, samples and captured values; each component's status from the
//! order of its failures and successes; and the scan's statistics. An [`Aggregation`] is built per
//! chunk and merged in input order, so a parallel scan gives the same result as a sequential one.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::matcher::{Failure, Matcher};
use crate::rules::{Component, Severity};

/// How many sample lines a finding keeps.
pub const MAX_SAMPLES: usize = 3;
/// How long a sample line may be before it is cut.
pub const MAX_SAMPLE_LEN: usize = 2000;

/// Where a line was seen.
#[derive(Debug, Clone, PartialEq)]
pub struct Pos {
    /// Index into the scan's source names.
    pub source: u32,
    /// 1-based line number.
    pub line: u64,
    /// The log's own timestamp, when the line has one.
    pub ts: Option<Timestamp>,
}

impl Pos {
    /// Whether `self` happened before `other`: by the log's timestamps when both have one, else by
    /// input order.
    pub fn before(&self, other: &Pos) -> bool {
        let order = (self.source, self.line).cmp(&(other.source, other.line));
        match (self.ts, other.ts) {
            (Some(a), Some(b)) => match a.cmp(&b) {
                Ordering::Equal => order == Ordering::Less,
                o => o == Ordering::Less,
            },
            _ => order == Ordering::Less,
        }
    }
}

/// A sample line, secrets masked.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Where it was seen.
    pub pos: Pos,
    /// The raw line, masked and cut to [`MAX_SAMPLE_LEN`].
    pub text: String,
    /// The decoded message, masked and cut: what a person reads.
    pub message: String,
}

/// One (component, cause, fix) and everything seen of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The winning rule of the first line.
    pub rule: usize,
    /// The component.
    pub component: Component,
    /// The cause.
    pub cause: String,
    /// The fix, an index into the rule set's fixes.
    pub fix: Option<usize>,
    /// The worst severity seen.
    pub severity: Severity,
    /// How many lines.
    pub count: u64,
    /// The earliest line.
    pub first: Pos,
    /// The latest line.
    pub last: Pos,
    /// Up to [`MAX_SAMPLES`] lines, in input order.
    pub samples: Vec<Sample>,
    /// Captured values; the first capture of a name wins.
    pub values: BTreeMap<String, String>,
}

/// Failures and successes of one component.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComponentState {
    /// Failing lines.
    pub failures: u64,
    /// Success lines.
    pub successes: u64,
    /// The latest failure.
    pub last_failure: Option<Pos>,
    /// The latest success.
    pub last_success: Option<Pos>,
}

/// A component's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Failures and no success after the last one.
    Failing,
    /// A success after the last failure.
    Recovered,
    /// Successes and no failure.
    Ok,
    /// No evidence either way.
    Unknown,
}

impl Status {
    /// The name used in output.
    pub fn name(self) -> &'static str {
        match self {
            Status::Failing => "failing",
            Status::Recovered => "recovered",
            Status::Ok => "ok",
            Status::Unknown => "unknown",
        }
    }
}

impl ComponentState {
    /// The status these sightings imply.
    pub fn status(&self) -> Status {
        match (&self.last_failure, &self.last_success) {
            (None, None) => Status::Unknown,
            (None, Some(_)) => Status::Ok,
            (Some(_), None) => Status::Failing,
            (Some(f), Some(s)) if f.before(s) => Status::Recovered,
            (Some(_), Some(_)) => Status::Failing,
        }
    }

    fn merge(&mut self, later: ComponentState) {
        self.failures += later.failures;
        self.successes += later.successes;
        self.last_failure = latest(self.last_failure.take(), later.last_failure);
        self.last_success = latest(self.last_success.take(), later.last_success);
    }
}

fn latest(a: Option<Pos>, b: Option<Pos>) -> Option<Pos> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.before(&a) { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// What the scan read.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Inputs read (files, archive members, stdin).
    pub sources: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Lines read.
    pub lines: u64,
    /// Lines that held an anchor and were decoded.
    pub candidates: u64,
    /// Failing lines.
    pub failures: u64,
    /// Success lines.
    pub successes: u64,
    /// Lines an ignore rule declared healthy.
    pub ignored: u64,
    /// Candidate lines left out by --since/--until.
    pub outside_window: u64,
    /// Archive members read.
    pub members: u64,
    /// Binary files and members skipped.
    pub binary_skipped: u64,
    /// Inputs cut short by a safety limit (size, ratio, depth, name).
    pub limited: u64,
    /// Inputs that could not be read.
    pub errors: u64,
}

impl Stats {
    fn merge(&mut self, o: &Stats) {
        self.sources += o.sources;
        self.bytes += o.bytes;
        self.lines += o.lines;
        self.candidates += o.candidates;
        self.failures += o.failures;
        self.successes += o.successes;
        self.ignored += o.ignored;
        self.outside_window += o.outside_window;
        self.members += o.members;
        self.binary_skipped += o.binary_skipped;
        self.limited += o.limited;
        self.errors += o.errors;
    }
}

/// Findings, component states and statistics of (part of) a scan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Aggregation {
    /// Findings in order of first appearance in the input.
    pub findings: Vec<Finding>,
    /// Indexed by `Component as usize`.
    pub components: [ComponentState; 4],
    /// Statistics.
    pub stats: Stats,
}

impl Aggregation {
    /// Records a failing line. `raw` is the line as read (for the sample, made text only if the
    /// line is sampled), `text` the decoded text (for captures). Returns the index of its finding
    /// and whether the finding is new.
    pub fn add_failure(
        &mut self,
        matcher: &Matcher,
        failure: &Failure,
        pos: Pos,
        raw: &[u8],
        text: &str,
    ) -> (usize, bool) {
        self.stats.failures += 1;
        let state = &mut self.components[failure.component as usize];
        state.failures += 1;
        state.last_failure = latest(state.last_failure.take(), Some(pos.clone()));
        let cause = matcher.cause(failure);
        let idx = self.findings.iter().position(|f| {
            f.component == failure.component && f.fix == failure.fix && f.cause == cause
        });
        let (idx, new) = match idx {
            Some(idx) => {
                let f = &mut self.findings[idx];
                f.count += 1;
                f.severity = f.severity.max(failure.severity);
                if pos.before(&f.first) {
                    f.first = pos.clone();
                }
                if !pos.before(&f.last) {
                    f.last = pos.clone();
                }
                (idx, false)
            }
            None => {
                self.findings.push(Finding {
                    rule: failure.rule,
                    component: failure.component,
                    cause: cause.to_string(),
                    fix: failure.fix,
                    severity: failure.severity,
                    count: 1,
                    first: pos.clone(),
                    last: pos.clone(),
                    samples: Vec::new(),
                    values: BTreeMap::new(),
                });
                (self.findings.len() - 1, true)
            }
        };
        let f = &mut self.findings[idx];
        if f.samples.len() < MAX_SAMPLES {
            f.samples.push(Sample {
                pos,
                text: sample_text(&String::from_utf8_lossy(raw)),
                message: sample_text(text),
            });
            // Values come from the sampled lines: enough to fill a check command, and bounded.
            matcher.capture(failure, text, &mut f.values);
        }
        (idx, new)
    }

    /// Records a success line.
    pub fn add_success(&mut self, component: Component, pos: Pos) {
        self.stats.successes += 1;
        let state = &mut self.components[component as usize];
        state.successes += 1;
        state.last_success = latest(state.last_success.take(), Some(pos));
    }

    /// Records a success whose line was already counted (see `scan`'s success-only fast path).
    pub fn note_success(&mut self, component: Component, pos: Pos) {
        let state = &mut self.components[component as usize];
        state.last_success = latest(state.last_success.take(), Some(pos));
    }

    /// Adds every line number by `offset` (a chunk scanned with relative line numbers).
    pub fn shift_lines(&mut self, offset: u64) {
        if offset > 0 {
            self.for_each_pos(|p| p.line += offset);
        }
    }

    /// Adds `offset` to every source index (an input scanned on its own, numbered from 0).
    pub fn shift_sources(&mut self, offset: u32) {
        if offset > 0 {
            self.for_each_pos(|p| p.source += offset);
        }
    }

    fn for_each_pos(&mut self, mut f: impl FnMut(&mut Pos)) {
        for finding in &mut self.findings {
            f(&mut finding.first);
            f(&mut finding.last);
            finding.samples.iter_mut().for_each(|s| f(&mut s.pos));
        }
        for c in &mut self.components {
            c.last_failure
                .iter_mut()
                .chain(c.last_success.iter_mut())
                .for_each(&mut f);
        }
    }

    /// Merges the aggregation of input that comes after this one's.
    pub fn merge(&mut self, later: Aggregation) {
        self.stats.merge(&later.stats);
        for (mine, theirs) in self.components.iter_mut().zip(later.components) {
            mine.merge(theirs);
        }
        for g in later.findings {
            let same = self
                .findings
                .iter_mut()
                .find(|f| f.component == g.component && f.fix == g.fix && f.cause == g.cause);
            match same {
                None => self.findings.push(g),
                Some(f) => {
                    f.count += g.count;
                    f.severity = f.severity.max(g.severity);
                    if g.first.before(&f.first) {
                        f.first = g.first;
                    }
                    if !g.last.before(&f.last) {
                        f.last = g.last;
                    }
                    let room = MAX_SAMPLES.saturating_sub(f.samples.len());
                    f.samples.extend(g.samples.into_iter().take(room));
                    for (k, v) in g.values {
                        f.values.entry(k).or_insert(v);
                    }
                }
            }
        }
    }

    /// The status of a component. A success after the last failure means `recovered`, except for
    /// the cluster, whose evidence is periodic: there a failure that kept recurring and would not
    /// have been due again yet is still failing (a metricset failing every poll while the others
    /// succeed), however the last lines interleave. Registration succeeds once and for good.
    pub fn status(&self, component: Component) -> Status {
        let state = &self.components[component as usize];
        let status = state.status();
        if component != Component::Cluster {
            return status;
        }
        let Some(success) = state.last_success.as_ref().and_then(|p| p.ts) else {
            return status;
        };
        if status != Status::Recovered {
            return status;
        }
        let recurring_still = self
            .findings
            .iter()
            .filter(|f| f.component == component)
            .any(|f| {
                let (Some(first), Some(last)) = (f.first.ts, f.last.ts) else {
                    return false;
                };
                if f.count < 2 || last <= first {
                    return false;
                }
                let every = first.duration_until(last).as_secs_f64() / (f.count - 1) as f64;
                let quiet = last.duration_until(success).as_secs_f64();
                quiet < 2.0 * every
            });
        if recurring_still {
            Status::Failing
        } else {
            status
        }
    }
}

/// A printable sample: masked, control characters made visible, and cut.
pub fn sample_text(raw: &str) -> String {
    let masked = crate::mask::mask(raw);
    let mut out = String::with_capacity(masked.len().min(MAX_SAMPLE_LEN + 3));
    for c in masked.chars() {
        if out.len() >= MAX_SAMPLE_LEN {
            out.push('…');
            break;
        }
        match c {
            '\t' => out.push(' '),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u64, ts: Option<&str>) -> Pos {
        Pos {
            source: 0,
            line,
            ts: ts.map(|t| t.parse().unwrap()),
        }
    }

    #[test]
    fn timestamps_order_before_input_order() {
        let a = pos(10, Some("2025-10-14T09:00:00Z"));
        let b = pos(2, Some("2025-10-14T10:00:00Z"));
        assert!(a.before(&b));
        assert!(!b.before(&a));
        assert!(pos(1, None).before(&pos(2, Some("2025-10-14T09:00:00Z"))));
    }

    #[test]
    fn status_follows_the_last_sighting() {
        let mut s = ComponentState::default();
        assert_eq!(s.status(), Status::Unknown);
        s.last_success = Some(pos(1, None));
        assert_eq!(s.status(), Status::Ok);
        s.last_failure = Some(pos(2, None));
        assert_eq!(s.status(), Status::Failing);
        s.last_success = Some(pos(3, None));
        assert_eq!(s.status(), Status::Recovered);
    }

    fn failure_at(agg: &mut Aggregation, line: u64, ts: &str, count: u64, first: &str) {
        agg.findings.push(Finding {
            rule: 0,
            component: Component::Cluster,
            cause: "http-403".into(),
            fix: None,
            severity: Severity::Error,
            count,
            first: pos(1, Some(first)),
            last: pos(line, Some(ts)),
            samples: Vec::new(),
            values: BTreeMap::new(),
        });
        agg.components[0].failures += count;
        agg.components[0].last_failure = Some(pos(line, Some(ts)));
    }

    #[test]
    fn a_failure_still_recurring_is_not_recovered() {
        // Failing every 10 s from 09:00:00 to 09:01:00; the last success at 09:01:05.
        let mut agg = Aggregation::default();
        failure_at(
            &mut agg,
            70,
            "2025-10-14T09:01:00Z",
            7,
            "2025-10-14T09:00:00Z",
        );
        agg.components[0].last_success = Some(pos(71, Some("2025-10-14T09:01:05Z")));
        assert_eq!(agg.components[0].status(), Status::Recovered);
        assert_eq!(agg.status(Component::Cluster), Status::Failing);
        // Quiet for 5 minutes after the last failure: it stopped.
        agg.components[0].last_success = Some(pos(200, Some("2025-10-14T09:06:00Z")));
        assert_eq!(agg.status(Component::Cluster), Status::Recovered);
    }

    #[test]
    fn sample_text_is_cut_and_cleaned() {
        let long = "x".repeat(5000);
        let s = sample_text(&long);
        assert_eq!(s.chars().count(), MAX_SAMPLE_LEN + 1);
        assert_eq!(sample_text("a\tb\u{1b}c"), "a b\u{FFFD}c");
    }
}
