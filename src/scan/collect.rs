//! What a scan keeps of its failing lines besides the aggregation: a [`MatchEvent`] per line,
//! for the observers that show every line (NDJSON, ECS, watch's alerts). Identical failing lines
//! (same rules, same text: a failing agent repeats its error every few seconds) share one
//! [`EventLine`], made once: the captured values, the masked text and whatever an observer
//! rendered of it. An [`EventCache`] shared by the chunks and blocks of a run finds it again.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use super::Consumer;
use crate::findings::{Aggregation, Failed, Pos};
use crate::matcher::Failure;
use crate::rules::Component;

/// One classified failing line, for NDJSON and alerting observers.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchEvent {
    /// Where.
    pub at: Pos,
    /// What the line says, shared by the events of identical lines.
    pub line: Arc<EventLine>,
    /// The line as read, its envelope included, secrets masked and cut like a finding's sample:
    /// kept only when asked for ([`Collector::with_raw`]; ECS's `event.original`), since it
    /// differs on every line and costs a masking each.
    pub raw: Option<Arc<str>>,
}

/// What the failing lines with the same rules and the same text have in common.
#[derive(Debug)]
pub struct EventLine {
    /// The matcher's verdict.
    pub failure: Failure,
    /// Values captured from the line, secrets masked.
    pub values: BTreeMap<String, String>,
    /// The line's decoded text, secrets masked.
    pub text: Box<str>,
    /// What the observer of the run rendered of this line for its first event, for the next
    /// ones to reuse (NDJSON's fields after the position). A run has one observer that prints
    /// events, so one rendering.
    pub rendered: OnceLock<Vec<u8>>,
}

impl PartialEq for EventLine {
    fn eq(&self, other: &EventLine) -> bool {
        self.failure == other.failure && self.values == other.values && self.text == other.text
    }
}

/// How many shards an [`EventCache`] has: threads scanning chunks at once rarely wait on a lock.
const SHARDS: usize = 16;
/// How many distinct lines a shard's generation holds: about 1.5 KiB each (text, values, a
/// rendered event), so a cache holds a few MiB at most.
const SHARD_LINES: usize = 128;

/// The [`EventLine`]s of a run's recent distinct failing lines, by rules and text as read.
/// Bounded: each shard keeps two generations of lines; when the new one is full the old one is
/// dropped, and a line found in the old one moves to the new one. Recently seen lines stay,
/// and memory stays flat however many distinct lines come.
#[derive(Debug, Default)]
pub struct EventCache {
    shards: [Mutex<Shard>; SHARDS],
}

#[derive(Debug, Default)]
struct Shard {
    new: HashMap<u64, Cached>,
    old: HashMap<u64, Cached>,
}

#[derive(Debug)]
struct Cached {
    /// The text as read, when masking changed it (else it is the event line's text).
    unmasked: Option<Box<str>>,
    line: Arc<EventLine>,
}

impl Shard {
    fn insert(&mut self, hash: u64, cached: Cached) {
        if self.new.len() >= SHARD_LINES {
            self.old = std::mem::replace(&mut self.new, HashMap::with_capacity(SHARD_LINES));
        }
        self.new.insert(hash, cached);
    }
}

impl EventCache {
    /// The line shared by the events of `failure` on `text`, made by `make` if it is not known.
    fn get_or_make(
        &self,
        failure: &Failure,
        text: &str,
        make: impl FnOnce() -> EventLine,
    ) -> Arc<EventLine> {
        let hash = text_hash(text) ^ (failure.rule as u64).rotate_left(32);
        let shard = &self.shards[(hash >> 59) as usize % SHARDS];
        let same = |c: &Cached| {
            &c.line.failure == failure && c.unmasked.as_deref().unwrap_or(&c.line.text) == text
        };
        {
            let mut shard = lock(shard);
            if let Some(c) = shard.new.get(&hash).filter(|c| same(c)) {
                return c.line.clone();
            }
            if let Some(c) = shard.old.remove(&hash) {
                if same(&c) {
                    let line = c.line.clone();
                    shard.insert(hash, c);
                    return line;
                }
            }
        }
        // Made without the lock held: captures are the slow part.
        let line = Arc::new(make());
        let unmasked = (*line.text != *text).then(|| text.into());
        lock(shard).insert(
            hash,
            Cached {
                unmasked,
                line: line.clone(),
            },
        );
        line
    }
}

/// A shard's map, also when another thread panicked holding it (the map stays consistent: an
/// insert or a clear either happened or did not).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A quick hash of a line's text (FxHash's mixing, eight bytes at a time): it only picks the
/// cache entry whose text is then compared.
fn text_hash(text: &str) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = text.len() as u64;
    let mut words = text.as_bytes().chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes(w.try_into().expect("eight bytes"));
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    for &b in words.remainder() {
        h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
    }
    h
}

/// A failing line as read, for an event: masked and cut as a finding's samples are.
fn raw_sample(raw: &[u8]) -> String {
    let raw = &raw[..raw.len().min(crate::findings::RAW_SAMPLE_LEN)];
    crate::findings::sample_text(&String::from_utf8_lossy(raw))
}

/// A [`Consumer`](super::Consumer) that aggregates and, when asked to, also keeps a
/// [`MatchEvent`] per failing line. The values of lines with the same rules and text are
/// captured once while the cache remembers them (the capture regexes are the cost of an event).
#[derive(Debug, Default)]
pub struct Collector {
    /// The aggregation.
    pub agg: Aggregation,
    /// The match events, when kept.
    pub events: Option<Vec<MatchEvent>>,
    /// Where the lines of earlier events are found (one of the collector's own if none is given).
    cache: Option<Arc<EventCache>>,
    /// Keep each event's line as read.
    raw: bool,
}

impl Collector {
    /// A collector that keeps events if `events`, with a cache of its own.
    pub fn new(events: bool) -> Collector {
        Collector {
            agg: Aggregation::default(),
            events: events.then(Vec::new),
            cache: None,
            raw: false,
        }
    }

    /// Keeps each event's line as read too (`raw`), masked.
    pub fn with_raw(mut self, raw: bool) -> Collector {
        self.raw = raw;
        self
    }

    /// Finds the lines of earlier events in `cache` (shared by the collectors of a run).
    pub fn with_cache(mut self, cache: &Arc<EventCache>) -> Collector {
        self.cache = Some(cache.clone());
        self
    }
}

impl Consumer for Collector {
    fn failure(&mut self, failure: &Failure, line: Failed<'_>) {
        if let Some(events) = &mut self.events {
            let cache = self.cache.get_or_insert_with(Arc::default);
            let shared = cache.get_or_make(failure, line.text, || {
                let mut values = BTreeMap::new();
                (line.capture)(&mut values);
                EventLine {
                    failure: failure.clone(),
                    values,
                    text: crate::mask::mask(line.text).into(),
                    rendered: OnceLock::new(),
                }
            });
            events.push(MatchEvent {
                at: line.at.clone(),
                line: shared,
                raw: self.raw.then(|| raw_sample(line.raw).into()),
            });
        }
        self.agg.add_failure(&line);
    }

    fn success(&mut self, component: Component, at: Pos, lines: u64) {
        self.agg.add_successes(component, at, lines);
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::findings::Source;
    use crate::rules::Severity;

    fn failure(rule: usize) -> Failure {
        Failure {
            rule,
            component: Component::Cluster,
            cause_rule: None,
            fix: None,
            severity: Severity::Error,
        }
    }

    /// Hands `text` to a collector as a failing line of `failure` at line `n`.
    fn feed(c: &mut Collector, failure: &Failure, text: &str, n: u64) {
        let capture = |into: &mut BTreeMap<String, String>| {
            into.insert("len".to_string(), text.len().to_string());
        };
        let line = Failed {
            at: Pos {
                source: Source::new("t", 0),
                line: n,
                ts: None,
            },
            component: failure.component,
            cause: "unknown",
            rule: "r",
            fix: None,
            severity: failure.severity,
            raw: text.as_bytes(),
            text,
            capture: &capture,
        };
        c.failure(failure, line);
    }

    #[test]
    fn identical_lines_share_one_event_line_across_collectors() {
        let cache = Arc::new(EventCache::default());
        let mut a = Collector::new(true).with_cache(&cache);
        let mut b = Collector::new(true).with_cache(&cache);
        feed(&mut a, &failure(1), "dial tcp: connection refused", 1);
        feed(&mut b, &failure(1), "dial tcp: connection refused", 7);
        // Another rule on the same text, and the same rule on other text: lines of their own.
        feed(&mut b, &failure(2), "dial tcp: connection refused", 8);
        feed(&mut b, &failure(1), "dial tcp: i/o timeout", 9);
        let (a, b) = (a.events.unwrap(), b.events.unwrap());
        assert!(Arc::ptr_eq(&a[0].line, &b[0].line));
        assert_eq!((a[0].at.line, b[0].at.line), (1, 7));
        assert!(!Arc::ptr_eq(&b[0].line, &b[1].line));
        assert_eq!(b[1].line.failure.rule, 2);
        assert_eq!(&*b[2].line.text, "dial tcp: i/o timeout");
        assert_eq!(b[2].line.values["len"], "21");
    }

    #[test]
    fn lines_that_differ_only_in_a_secret_are_not_confused() {
        let mut c = Collector::new(true);
        feed(&mut c, &failure(1), "login failed password=first", 1);
        feed(&mut c, &failure(1), "login failed password=second", 2);
        feed(&mut c, &failure(1), "login failed password=first", 3);
        let events = c.events.unwrap();
        // Masked alike, but captured apart: their values may differ.
        assert_eq!(events[0].line.text, events[1].line.text);
        assert_eq!(&*events[0].line.text, "login failed password=****");
        assert!(!Arc::ptr_eq(&events[0].line, &events[1].line));
        assert!(Arc::ptr_eq(&events[0].line, &events[2].line));
    }

    #[test]
    fn the_cache_stays_bounded_and_keeps_the_lines_in_use() {
        let cache = EventCache::default();
        let f = failure(1);
        let made = Cell::new(0);
        let line = |text: &str| {
            cache.get_or_make(&f, text, || {
                made.set(made.get() + 1);
                EventLine {
                    failure: f.clone(),
                    values: BTreeMap::new(),
                    text: text.into(),
                    rendered: OnceLock::new(),
                }
            })
        };
        let kept = line("the agent's usual error");
        for i in 0..50_000 {
            line(&format!("distinct line {i}"));
            if i % 100 == 0 {
                // A line seen again and again is never let go.
                assert!(Arc::ptr_eq(&kept, &line("the agent's usual error")));
            }
        }
        assert_eq!(made.get(), 50_001);
        let held: usize = cache
            .shards
            .iter()
            .map(|s| {
                let s = lock(s);
                s.new.len() + s.old.len()
            })
            .sum();
        assert!(held <= 2 * SHARDS * SHARD_LINES, "{held}");
        assert!(held >= SHARDS * SHARD_LINES / 2, "{held}");
    }
}
