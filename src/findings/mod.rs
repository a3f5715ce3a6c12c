//! Aggregation of classified lines into findings, and what each line changes. A finding is one
//! [`FindingKey`] (component, cause, fix) with its count, first and last sighting, samples and
//! captured values; each component has a status from the order of its failures and successes;
//! the scan has statistics. Applying an event ([`Aggregation::apply`]) or merging the aggregation
//! of later input ([`Aggregation::merge`]) returns the [`Delta`]s it caused: a new finding, a
//! finding seen again, a component whose status changed. Chunks scanned in parallel are merged in
//! input order, so a parallel scan gives the same result as a sequential one. The state names
//! rules, fixes and sources by id and path, never by an index into a vector, so it serialises
//! (serde) and can be restored against a rule set loaded again.

pub mod alert;

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::rules::{Component, Severity};

/// How many sample lines a finding keeps.
pub const MAX_SAMPLES: usize = 3;
/// How long a sample line may be before it is cut.
pub const MAX_SAMPLE_LEN: usize = 2000;

/// An input, by the name findings show (`agent.log`, `bundle.zip!logs/agent.ndjson`, `<stdin>`)
/// and its place among the run's inputs (which orders sightings that carry no timestamp).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The name.
    pub name: Arc<str>,
    /// The input's place in the run, from 0.
    pub ord: u32,
}

impl Source {
    /// A source named `name` at place `ord`.
    pub fn new(name: &str, ord: u32) -> Source {
        Source {
            name: Arc::from(name),
            ord,
        }
    }
}

/// Where a line was seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pos {
    /// The input.
    pub source: Source,
    /// 1-based line number.
    pub line: u64,
    /// The log's own timestamp, when the line has one.
    pub ts: Option<Timestamp>,
}

impl Pos {
    /// Whether `self` happened before `other`: by the log's timestamps when both have one, else by
    /// input order.
    pub fn before(&self, other: &Pos) -> bool {
        let order = (self.source.ord, self.line).cmp(&(other.source.ord, other.line));
        match (self.ts, other.ts) {
            (Some(a), Some(b)) => match a.cmp(&b) {
                Ordering::Equal => order == Ordering::Less,
                o => o == Ordering::Less,
            },
            _ => order == Ordering::Less,
        }
    }
}

/// A finding's identity, the same everywhere: the report groups lines by it, live output and
/// alerts announce it once, a saved state finds it again.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FindingKey {
    /// The component.
    pub component: Component,
    /// The cause.
    pub cause: String,
    /// The fix's id, when a fix applies.
    pub fix: Option<String>,
}

impl FindingKey {
    /// Whether this is the key of a failure with these parts (compared without allocating).
    fn is(&self, component: Component, cause: &str, fix: Option<&str>) -> bool {
        self.component == component && self.cause == cause && self.fix.as_deref() == fix
    }

    /// A short stable id: `component/cause/fix`, e.g. `export/timeout/export-timeout`.
    pub fn id(&self) -> String {
        format!(
            "{}/{}/{}",
            self.component,
            self.cause,
            self.fix.as_deref().unwrap_or("-")
        )
    }
}

/// A sample line, secrets masked once it is sealed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Where it was seen.
    pub pos: Pos,
    /// The raw line, masked and cut to [`MAX_SAMPLE_LEN`].
    pub text: String,
    /// The decoded message, masked and cut: what a person reads.
    pub message: String,
    /// The values captured from this line.
    pub values: BTreeMap<String, String>,
    /// Whether `text` and `message` are masked and cut yet. A chunk of a parallel scan keeps its
    /// first lines raw (most are dropped when chunks are merged); the run's aggregation seals the
    /// ones it keeps ([`Aggregation::seal`]) before anything sees them.
    pub sealed: bool,
}

/// How much of a raw sample is kept until it is sealed: enough that masking, which may shorten
/// it, still leaves [`MAX_SAMPLE_LEN`] characters to show.
pub(crate) const RAW_SAMPLE_LEN: usize = 4 * MAX_SAMPLE_LEN;

/// A line kept for a sample, to be masked when the sample is kept for good: at most
/// [`RAW_SAMPLE_LEN`] bytes, cut where masking still finds every secret before the cut
/// ([`crate::mask::cut_point`]), and `…` where it was cut.
pub(crate) fn sample_cut(line: &[u8]) -> String {
    match crate::mask::cut_point(line, RAW_SAMPLE_LEN) {
        None => String::from_utf8_lossy(line).into_owned(),
        Some(end) => String::from_utf8_lossy(&line[..end]).into_owned() + "…",
    }
}

/// One (component, cause, fix) and everything seen of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Its identity.
    pub key: FindingKey,
    /// The id of the rule that classified the first line.
    pub rule: String,
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

/// One classified failing line, as the scanner hands it over: names borrowed from the rule set,
/// the line borrowed from the block. Values are captured only if the aggregation wants them
/// (for a sampled line), through `capture`.
pub struct Failed<'a> {
    /// Where.
    pub at: Pos,
    /// The component.
    pub component: Component,
    /// The cause.
    pub cause: &'a str,
    /// The winning rule's id.
    pub rule: &'a str,
    /// The fix's id.
    pub fix: Option<&'a str>,
    /// How bad.
    pub severity: Severity,
    /// The line as read (a joined line's joined text).
    pub raw: &'a [u8],
    /// The decoded text.
    pub text: &'a str,
    /// Adds the values captured from the line to a map (the first capture of a name wins).
    pub capture: &'a dyn Fn(&mut BTreeMap<String, String>),
}

/// What one line (or a run of them) says.
pub enum Event<'a> {
    /// A failure.
    Failure(Failed<'a>),
    /// `lines` success lines of a component, the last of them at `at`.
    Success {
        /// The component that works.
        component: Component,
        /// The last of the lines.
        at: Pos,
        /// How many lines.
        lines: u64,
    },
}

/// What applying an event or merging later input changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "delta", rename_all = "lowercase")]
pub enum Delta {
    /// A finding appeared for the first time.
    New {
        /// Which.
        key: FindingKey,
    },
    /// A known finding was seen again.
    Seen {
        /// Which.
        key: FindingKey,
        /// Lines added.
        added: u64,
        /// Lines in all.
        count: u64,
    },
    /// A component's status changed.
    Status {
        /// Which.
        component: Component,
        /// Before.
        was: Status,
        /// Now.
        now: Status,
    },
}

/// Failures and successes of one component.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Adds another part's figures.
    pub fn merge(&mut self, o: &Stats) {
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Aggregation {
    /// Findings in order of first appearance in the input.
    pub findings: Vec<Finding>,
    /// Indexed by `Component as usize`, for the components of [`Component::ALL`].
    pub components: [ComponentState; 4],
    /// Statistics.
    pub stats: Stats,
}

impl Aggregation {
    /// Applies one event and returns what it changed, in this order: the finding's delta (new or
    /// seen again), then the component's status change, if any.
    pub fn apply(&mut self, event: Event<'_>) -> Vec<Delta> {
        let component = match &event {
            Event::Failure(f) => f.component,
            Event::Success { component, .. } => *component,
        };
        let was = self.status(component);
        let mut deltas = Vec::with_capacity(2);
        match event {
            Event::Failure(f) => {
                let (idx, new) = self.add_failure(&f);
                self.seal();
                let finding = &self.findings[idx];
                deltas.push(if new {
                    Delta::New {
                        key: finding.key.clone(),
                    }
                } else {
                    Delta::Seen {
                        key: finding.key.clone(),
                        added: 1,
                        count: finding.count,
                    }
                });
            }
            Event::Success {
                component,
                at,
                lines,
            } => self.add_successes(component, at, lines),
        }
        let now = self.status(component);
        if now != was {
            deltas.push(Delta::Status {
                component,
                was,
                now,
            });
        }
        deltas
    }

    /// Records a failing line (what [`Aggregation::apply`] does, without working out deltas: the
    /// scanner's hot path). Returns the index of its finding and whether the finding is new.
    pub fn add_failure(&mut self, failure: &Failed<'_>) -> (usize, bool) {
        self.stats.failures += 1;
        let pos = &failure.at;
        // A finding of no known connection counts, but gives no connection a status.
        if let Some(state) = self.components.get_mut(failure.component as usize) {
            state.failures += 1;
            state.last_failure = latest(state.last_failure.take(), Some(pos.clone()));
        }
        let idx = self
            .findings
            .iter()
            .position(|f| f.key.is(failure.component, failure.cause, failure.fix));
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
                    key: FindingKey {
                        component: failure.component,
                        cause: failure.cause.to_string(),
                        fix: failure.fix.map(str::to_string),
                    },
                    rule: failure.rule.to_string(),
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
            // Values come from the sampled lines: enough to fill a check command, and bounded.
            let mut values = BTreeMap::new();
            (failure.capture)(&mut values);
            for (k, v) in &values {
                f.values.entry(k.clone()).or_insert_with(|| v.clone());
            }
            f.samples.push(Sample {
                pos: pos.clone(),
                text: sample_cut(failure.raw),
                message: sample_cut(failure.text.as_bytes()),
                values,
                sealed: false,
            });
        }
        (idx, new)
    }

    /// Records `lines` success lines of a component, the last of them at `at`.
    pub fn add_successes(&mut self, component: Component, at: Pos, lines: u64) {
        self.stats.successes += lines;
        if let Some(state) = self.components.get_mut(component as usize) {
            state.successes += lines;
            state.last_success = latest(state.last_success.take(), Some(at));
        }
    }

    /// Adds every line number by `offset` (a chunk scanned with relative line numbers).
    pub fn shift_lines(&mut self, offset: u64) {
        if offset > 0 {
            self.for_each_pos(|p| p.line += offset);
        }
    }

    /// Adds `offset` to every source's place (an input scanned on its own, numbered from 0).
    pub fn shift_sources(&mut self, offset: u32) {
        if offset > 0 {
            self.for_each_pos(|p| p.source.ord += offset);
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

    /// Merges the aggregation of input that comes after this one's, and returns what changed:
    /// for each of the later findings, in their order, new or seen again; then each component
    /// whose status changed.
    pub fn merge(&mut self, later: Aggregation) -> Vec<Delta> {
        let touched: Vec<Component> = Component::ALL
            .into_iter()
            .filter(|&c| {
                let s = &later.components[c as usize];
                s.last_failure.is_some() || s.last_success.is_some()
            })
            .collect();
        let was: Vec<Status> = touched.iter().map(|&c| self.status(c)).collect();
        let mut deltas = Vec::new();
        self.stats.merge(&later.stats);
        for (mine, theirs) in self.components.iter_mut().zip(later.components) {
            mine.merge(theirs);
        }
        for g in later.findings {
            let same = self.findings.iter_mut().find(|f| f.key == g.key);
            match same {
                None => {
                    deltas.push(Delta::New { key: g.key.clone() });
                    self.findings.push(g);
                }
                Some(f) => {
                    f.count += g.count;
                    deltas.push(Delta::Seen {
                        key: g.key,
                        added: g.count,
                        count: f.count,
                    });
                    f.severity = f.severity.max(g.severity);
                    if g.first.before(&f.first) {
                        f.first = g.first;
                    }
                    if !g.last.before(&f.last) {
                        f.last = g.last;
                    }
                    // The values of the samples kept, in order: the same whatever the chunking.
                    let room = MAX_SAMPLES.saturating_sub(f.samples.len());
                    for sample in g.samples.into_iter().take(room) {
                        for (k, v) in &sample.values {
                            f.values.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                        f.samples.push(sample);
                    }
                }
            }
        }
        for (c, was) in touched.into_iter().zip(was) {
            let now = self.status(c);
            if now != was {
                deltas.push(Delta::Status {
                    component: c,
                    was,
                    now,
                });
            }
        }
        deltas
    }

    /// Gives sample `sample` of finding `finding` the values of its line, when the line's capture
    /// was put off (its [`Failed::capture`] left the map empty): they join the finding's values
    /// as they would have when the sample was taken, if the samples whose capture was put off
    /// are filled in the order they were taken and before any other is taken.
    pub fn fill_sample(&mut self, finding: usize, sample: usize, values: BTreeMap<String, String>) {
        let Some(f) = self.findings.get_mut(finding) else {
            return;
        };
        for (k, v) in &values {
            f.values.entry(k.clone()).or_insert_with(|| v.clone());
        }
        if let Some(s) = f.samples.get_mut(sample) {
            s.values = values;
        }
    }

    /// Masks and cuts the samples that are not yet: call it on the aggregation that observers
    /// see, after each merge. Only the samples kept are sealed, a few per finding.
    pub fn seal(&mut self) {
        for f in &mut self.findings {
            for s in f.samples.iter_mut().filter(|s| !s.sealed) {
                s.text = sample_text(&s.text);
                s.message = sample_text(&s.message);
                s.sealed = true;
            }
        }
    }

    /// The finding with this key.
    pub fn finding(&self, key: &FindingKey) -> Option<&Finding> {
        self.findings.iter().find(|f| &f.key == key)
    }

    /// The status of a component. A success after the last failure means `recovered`, except for
    /// the cluster, whose evidence is periodic: there a failure that kept recurring and would not
    /// have been due again yet is still failing (a metricset failing every poll while the others
    /// succeed), however the last lines interleave. Registration succeeds once and for good.
    /// [`Component::Unknown`] has no status of its own: always `unknown`.
    pub fn status(&self, component: Component) -> Status {
        let Some(state) = self.components.get(component as usize) else {
            return Status::Unknown;
        };
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
            .filter(|f| f.key.component == component)
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
            source: Source::new("agent.log", 0),
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
            key: FindingKey {
                component: Component::Cluster,
                cause: "http-403".into(),
                fix: None,
            },
            rule: "cause-http-403".into(),
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

    fn failed<'a>(
        component: Component,
        cause: &'a str,
        line: u64,
        ts: &str,
        capture: &'a dyn Fn(&mut BTreeMap<String, String>),
    ) -> Event<'a> {
        Event::Failure(Failed {
            at: pos(line, Some(ts)),
            component,
            cause,
            rule: "r",
            fix: Some("f"),
            severity: Severity::Error,
            raw: b"raw line",
            text: "text",
            capture,
        })
    }

    #[test]
    fn applying_a_scripted_log_gives_its_deltas_in_order() {
        let proxy = |v: &mut BTreeMap<String, String>| {
            v.entry("proxy".into()).or_insert("10.0.0.8:3128".into());
        };
        let none = |_: &mut BTreeMap<String, String>| {};
        let key = |component, cause: &str| FindingKey {
            component,
            cause: cause.into(),
            fix: Some("f".into()),
        };
        let reg = Component::Registration;
        let mut agg = Aggregation::default();
        let status = |was, now| Delta::Status {
            component: reg,
            was,
            now,
        };
        assert_eq!(
            agg.apply(failed(reg, "proxy", 1, "2025-10-14T09:00:00Z", &proxy)),
            vec![
                Delta::New {
                    key: key(reg, "proxy")
                },
                status(Status::Unknown, Status::Failing)
            ]
        );
        assert_eq!(
            agg.apply(failed(reg, "proxy", 2, "2025-10-14T09:00:10Z", &none)),
            vec![Delta::Seen {
                key: key(reg, "proxy"),
                added: 1,
                count: 2
            }]
        );
        assert_eq!(
            agg.apply(Event::Success {
                component: reg,
                at: pos(3, Some("2025-10-14T09:00:20Z")),
                lines: 1
            }),
            vec![status(Status::Failing, Status::Recovered)]
        );
        // Another cause on the same component: a new finding, and failing again.
        assert_eq!(
            agg.apply(failed(reg, "timeout", 4, "2025-10-14T09:00:30Z", &none)),
            vec![
                Delta::New {
                    key: key(reg, "timeout")
                },
                status(Status::Recovered, Status::Failing)
            ]
        );
        assert_eq!(agg.findings[0].values["proxy"], "10.0.0.8:3128");
        assert_eq!(agg.findings[0].count, 2);
        assert_eq!(agg.stats.failures, 3);
        assert_eq!(agg.stats.successes, 1);
    }

    #[test]
    fn merging_later_input_reports_the_same_deltas_as_applying_it() {
        let none = |_: &mut BTreeMap<String, String>| {};
        let exp = Component::Export;
        let mut early = Aggregation::default();
        early.apply(failed(exp, "timeout", 1, "2025-10-14T09:00:00Z", &none));
        let mut later = Aggregation::default();
        later.apply(failed(exp, "timeout", 7, "2025-10-14T09:01:00Z", &none));
        later.apply(failed(exp, "dns", 8, "2025-10-14T09:01:01Z", &none));
        later.apply(Event::Success {
            component: exp,
            at: pos(9, Some("2025-10-14T09:01:02Z")),
            lines: 4,
        });
        let deltas = early.merge(later);
        assert_eq!(deltas.len(), 3, "{deltas:?}");
        assert!(
            matches!(&deltas[0], Delta::Seen { key, added: 1, count: 2 } if key.cause == "timeout")
        );
        assert!(matches!(&deltas[1], Delta::New { key } if key.cause == "dns"));
        assert_eq!(
            deltas[2],
            Delta::Status {
                component: exp,
                was: Status::Failing,
                now: Status::Recovered
            }
        );
        assert_eq!(early.stats.successes, 4);
        assert_eq!(early.findings[0].last.line, 7);
    }

    #[test]
    fn the_state_round_trips_through_json() {
        let proxy = |v: &mut BTreeMap<String, String>| {
            v.insert("proxy".into(), "10.0.0.8:3128".into());
        };
        let mut agg = Aggregation::default();
        agg.apply(failed(
            Component::Registration,
            "proxy",
            1,
            "2025-10-14T09:00:00Z",
            &proxy,
        ));
        let text = serde_json::to_string(&agg).unwrap();
        // Rules, fixes and sources are named, not numbered.
        assert!(text.contains(r#""rule":"r""#), "{text}");
        assert!(text.contains(r#""fix":"f""#), "{text}");
        assert!(text.contains(r#""name":"agent.log""#), "{text}");
        let back: Aggregation = serde_json::from_str(&text).unwrap();
        assert_eq!(back, agg);
    }

    #[test]
    fn sample_text_is_cut_and_cleaned() {
        let long = "x".repeat(5000);
        let s = sample_text(&long);
        assert_eq!(s.chars().count(), MAX_SAMPLE_LEN + 1);
        assert_eq!(sample_text("a\tb\u{1b}c"), "a b\u{FFFD}c");
    }
}
