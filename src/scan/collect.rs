//! What a scan keeps of its failing lines besides the aggregation: a [`MatchEvent`] per line,
//! for the observers that show every line (NDJSON, ECS, watch's alerts). Identical failing lines
//! (same rules, same text: a failing agent repeats its error every few seconds) share one
//! [`EventLine`], made once: the captured values, the masked text and whatever an observer
//! rendered of it. An [`EventCache`] shared by the chunks and blocks of a run finds it again.
//! Values are captured at the end of a block, each regex over all its new lines in turn.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use super::Consumer;
use crate::findings::{Aggregation, Failed, Pos};
use crate::matcher::{Captured, Failure, Matcher};
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
    /// Values captured from the line, secrets masked: set when the block that met the line
    /// first is scanned (see [`EventLine::values`]).
    pub captured: OnceLock<Captured>,
    /// The line's decoded text, secrets masked.
    pub text: Box<str>,
    /// What the observer of the run rendered of this line for its first event, for the next
    /// ones to reuse (NDJSON's fields after the position). A run has one observer that prints
    /// events, so one rendering.
    pub rendered: OnceLock<Vec<u8>>,
    /// The text as read, when masking changed it: what values are captured from and lines are
    /// told apart by, never printed.
    unmasked: Option<Box<str>>,
    /// The [`EventCache`] shard of the thread that made it: the thread whose memory it is.
    shard: usize,
    /// Whether the text as read could hold a secret ([`crate::mask::hinted`]).
    secret: bool,
}

impl EventLine {
    /// A line of `failure` whose text as read is `text`; its values are captured later.
    pub fn new(failure: Failure, text: &str) -> EventLine {
        let secret = crate::mask::hinted(text);
        let masked = if secret {
            crate::mask::mask(text)
        } else {
            std::borrow::Cow::Borrowed(text)
        };
        let (text, unmasked) = match masked {
            std::borrow::Cow::Borrowed(_) => (text.into(), None),
            std::borrow::Cow::Owned(masked) => (masked.into(), Some(text.into())),
        };
        EventLine {
            failure,
            captured: OnceLock::new(),
            text,
            rendered: OnceLock::new(),
            unmasked,
            shard: 0,
            secret,
        }
    }

    /// The text as read.
    fn read(&self) -> &str {
        self.unmasked.as_deref().unwrap_or(&self.text)
    }

    /// Values captured from the line, secrets masked. A collector captures them for all the new
    /// lines of a block at once, at its end, before its events are handed on.
    pub fn values(&self) -> &Captured {
        static NONE: OnceLock<Captured> = OnceLock::new();
        debug_assert!(self.captured.get().is_some(), "values are captured by now");
        self.captured
            .get()
            .unwrap_or_else(|| NONE.get_or_init(Captured::default))
    }
}

impl PartialEq for EventLine {
    fn eq(&self, other: &EventLine) -> bool {
        self.failure == other.failure
            && self.captured.get() == other.captured.get()
            && self.text == other.text
    }
}

/// How many distinct lines the new generations of an [`EventCache`]'s shards hold together, as
/// long as each shard gets [`SHARD_LINES_MIN`]: about 1.5 KiB a line (text, values, a rendered
/// event), so with two generations a cache holds about 9 MiB, more only past eleven threads
/// (256 lines, some 0.75 MiB, a thread).
const GENERATION_LINES: usize = 3072;
/// The fewest lines a shard's generation holds, however many threads share the budget.
const SHARD_LINES_MIN: usize = 256;

/// The [`EventLine`]s of a run's recent distinct failing lines, by rules and text as read. A
/// shard per scanning thread (and one for any other thread): a thread finds the lines it met,
/// never waits for another, and the lines it lets go are its own (freeing another thread's
/// memory contends for the allocator). Bounded: each shard keeps two generations of lines;
/// when the new one is full the old one is dropped, and a line found in the old one moves to
/// the new one. Recently seen lines stay, and memory stays flat however many distinct lines
/// come.
#[derive(Debug)]
pub struct EventCache {
    shards: Vec<Mutex<Shard>>,
    /// How many lines a shard's generation holds.
    lines: usize,
    /// Events the observer is done with, for a scanning thread to drop ([`EventCache::bury`]).
    done: Mutex<Vec<Vec<MatchEvent>>>,
}

impl Default for EventCache {
    /// A shard for each thread of the thread pool the caller is in.
    fn default() -> EventCache {
        let shards = rayon::current_num_threads() + 1;
        EventCache {
            shards: (0..shards).map(|_| Mutex::default()).collect(),
            lines: (GENERATION_LINES / shards).max(SHARD_LINES_MIN),
            done: Mutex::default(),
        }
    }
}

/// A shard's lines by [`text_hash`]: a key is a hash already, and is its own.
type Lines = HashMap<u64, Arc<EventLine>, std::hash::BuildHasherDefault<KeyHash>>;

/// The hash of a key that is a hash.
#[derive(Debug, Default)]
struct KeyHash(u64);

impl std::hash::Hasher for KeyHash {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not used by `u64` keys; a sound hash all the same.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[derive(Debug, Default)]
struct Shard {
    new: Lines,
    old: Lines,
    /// Lines of this shard's thread that another thread let go of last: this one frees them.
    orphans: Vec<Arc<EventLine>>,
}

impl Shard {
    fn insert(&mut self, hash: u64, line: Arc<EventLine>, lines: usize) {
        if self.new.len() >= lines {
            self.old = std::mem::replace(
                &mut self.new,
                Lines::with_capacity_and_hasher(lines, Default::default()),
            );
        }
        self.new.insert(hash, line);
    }
}

impl EventCache {
    /// The line shared by the events of `failure` on `text` (as read), made by `make` if it is
    /// not known.
    fn get_or_make(
        &self,
        failure: &Failure,
        text: &str,
        make: impl FnOnce() -> EventLine,
    ) -> Arc<EventLine> {
        let hash = text_hash(text) ^ (failure.rule as u64).rotate_left(32);
        let index = self.own_shard();
        let shard = &self.shards[index];
        let same = |l: &EventLine| &l.failure == failure && l.read() == text;
        {
            let mut shard = lock(shard);
            if let Some(line) = shard.new.get(&hash).filter(|l| same(l)) {
                return line.clone();
            }
            if let Some(line) = shard.old.remove(&hash) {
                if same(&line) {
                    shard.insert(hash, line.clone(), self.lines);
                    return line;
                }
            }
        }
        let mut line = make();
        line.shard = index;
        let line = Arc::new(line);
        lock(shard).insert(hash, line.clone(), self.lines);
        line
    }

    /// This thread's shard: the pool's thread `i` has shard `i + 1`, other threads shard 0.
    fn own_shard(&self) -> usize {
        rayon::current_thread_index().map_or(0, |i| i + 1) % self.shards.len()
    }

    /// Takes events an observer is done with, for the next scanning thread to drop
    /// ([`EventCache::sweep`]). Their lines' memory belongs to the threads that made them, and
    /// the allocator makes a thread that frees another's memory take that thread's arena lock:
    /// the thread printing events freeing them kept the scanning threads waiting (on a 256 MiB
    /// storm, NDJSON took a tenth less CPU time, and 83 voluntary context switches rather than
    /// 1 641, once it no longer did).
    pub fn bury(&self, events: Vec<MatchEvent>) {
        if !events.is_empty() {
            lock(&self.done).push(events);
        }
    }

    /// Drops the events buried since the last sweep, handing each line it would free to the
    /// thread that made it, and frees the lines other threads handed to this one. A scanning
    /// thread calls it before each chunk.
    pub fn sweep(&self) {
        let me = self.own_shard();
        let done = std::mem::take(&mut *lock(&self.done));
        if !done.is_empty() {
            let mut orphans: Vec<Vec<Arc<EventLine>>> = vec![Vec::new(); self.shards.len()];
            for e in done.into_iter().flatten() {
                // The last holder of another thread's line: that thread frees it. (Nobody can
                // take a new hold of a line no cache holds.)
                if e.line.shard != me && Arc::strong_count(&e.line) == 1 {
                    orphans[e.line.shard].push(e.line);
                }
            }
            for (shard, lines) in self.shards.iter().zip(orphans) {
                if !lines.is_empty() {
                    lock(shard).orphans.extend(lines);
                }
            }
        }
        let mine = std::mem::take(&mut lock(&self.shards[me]).orphans);
        drop(mine);
    }
}

/// A shard's map, also when another thread panicked holding it (the map stays consistent: an
/// insert or a new generation either happened or did not).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A quick hash of a line's text, eight bytes at a time (FxHash's multiply, and the high half
/// folded into the low one at each step: without it, lines that differ in a few digits, as
/// repeated errors do, collided, and the cache kept one of them). It only picks the cache entry
/// whose text is then compared.
fn text_hash(text: &str) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = text.len() as u64;
    let mut words = text.as_bytes().chunks_exact(8);
    let mut mix = |w: u64| {
        h = (h ^ w).wrapping_mul(K);
        h ^= h >> 32;
    };
    for w in &mut words {
        mix(u64::from_le_bytes(w.try_into().expect("eight bytes")));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        mix(u64::from_le_bytes(last));
    }
    h
}

/// A failing line as read, for an event: masked and cut as a finding's samples are.
fn raw_sample(raw: &[u8]) -> String {
    crate::findings::sample_text(&crate::findings::sample_cut(raw))
}

/// A [`Consumer`](super::Consumer) that aggregates and, when asked to, also keeps a
/// [`MatchEvent`] per failing line. The values of lines with the same rules and text are
/// captured once while the cache remembers them (the capture regexes are the cost of an event),
/// and those of a block's new lines all together when the block is scanned; the aggregation's
/// samples of those lines take their values from them then.
#[derive(Debug, Default)]
pub struct Collector {
    /// The aggregation.
    pub agg: Aggregation,
    /// The match events, when kept.
    pub events: Option<Vec<MatchEvent>>,
    /// Where the lines of earlier events are found (one of the collector's own if none is given).
    cache: Option<Arc<EventCache>>,
    /// Lines of this block's events whose values are still to be captured.
    uncaptured: Vec<Arc<EventLine>>,
    /// Samples the aggregation took of this block's events, in the order taken, whose values
    /// come from their lines once those are captured: (finding, sample, line).
    samples: Vec<(usize, usize, Arc<EventLine>)>,
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
            uncaptured: Vec::new(),
            samples: Vec::new(),
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
        let Some(events) = &mut self.events else {
            self.agg.add_failure(&line);
            return;
        };
        let cache = self.cache.get_or_insert_with(Arc::default);
        let shared = cache.get_or_make(failure, line.text, || {
            EventLine::new(failure.clone(), line.text)
        });
        // Captured at the end of the block, all together (a line met again before then, or
        // met first by another block still being scanned, is listed again: whichever
        // capture comes first sets the values, the same either way).
        if shared.captured.get().is_none() {
            self.uncaptured.push(shared.clone());
        }
        events.push(MatchEvent {
            at: line.at.clone(),
            line: shared.clone(),
            raw: self.raw.then(|| raw_sample(line.raw).into()),
        });
        // A sample's values are its line's: taken from it once captured rather than captured
        // twice (the aggregation of each chunk samples every finding again).
        let sampled = std::cell::Cell::new(false);
        let put_off = |_: &mut BTreeMap<String, String>| sampled.set(true);
        let (finding, _) = self.agg.add_failure(&Failed {
            capture: &put_off,
            ..line
        });
        if sampled.get() {
            let sample = self.agg.findings[finding].samples.len() - 1;
            self.samples.push((finding, sample, shared));
        }
    }

    fn success(&mut self, component: Component, at: Pos, lines: u64) {
        self.agg.add_successes(component, at, lines);
    }

    fn block_done(&mut self, matcher: &Matcher) {
        if !self.uncaptured.is_empty() {
            let mut todo = std::mem::take(&mut self.uncaptured);
            todo.retain(|line| line.captured.get().is_none());
            todo.sort_by_key(Arc::as_ptr);
            todo.dedup_by_key(|line| Arc::as_ptr(line));
            let lines: Vec<(&Failure, &str, bool)> = todo
                .iter()
                .map(|l| (&l.failure, l.read(), l.secret))
                .collect();
            let values = matcher.captured(&lines);
            for (line, values) in todo.iter().zip(values) {
                // Another block may have captured it meanwhile: the same values.
                let _ = line.captured.set(values);
            }
            // Its memory serves the next block.
            self.uncaptured = todo;
            self.uncaptured.clear();
        }
        for (finding, sample, line) in self.samples.drain(..) {
            self.agg
                .fill_sample(finding, sample, line.values().to_map());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use std::collections::BTreeMap;

    use super::*;
    use crate::findings::Source;
    use crate::matcher::Verdict;
    use crate::record::decode;

    /// Hands `text` to a collector as a failing line at line `n`, as the scanner does.
    fn feed(c: &mut Collector, m: &Matcher, text: &str, n: u64) -> Failure {
        let Verdict::Failure(f) = m.classify(&decode(text.as_bytes())) else {
            panic!("{text} does not fail");
        };
        let capture = |into: &mut BTreeMap<String, String>| m.capture(&f, text, into);
        let line = Failed {
            at: Pos {
                source: Source::new("t", 0),
                line: n,
                ts: None,
            },
            component: f.component,
            cause: m.cause(&f),
            rule: m.rule_id(&f),
            fix: m.fix_id(&f),
            severity: f.severity,
            raw: text.as_bytes(),
            text,
            capture: &capture,
        };
        c.failure(&f, line);
        f
    }

    /// A verdict for lines made by hand, not classified.
    fn a_failure() -> Failure {
        Failure {
            rule: 1,
            component: Component::Cluster,
            cause_rule: None,
            fix: None,
            severity: crate::rules::Severity::Error,
        }
    }

    const REFUSED: &str = r#"error making http request: Get "https://es01:9200/": dial tcp 10.0.0.5:9200: connect: connection refused"#;
    const TIMEOUT: &str = r#"error making http request: Get "https://es02:9201/": dial tcp 10.0.0.6:9201: i/o timeout"#;

    #[test]
    fn identical_lines_share_one_event_line_across_collectors() {
        let m = crate::scan::tests::matcher();
        let cache = Arc::new(EventCache::default());
        let mut a = Collector::new(true).with_cache(&cache);
        let mut b = Collector::new(true).with_cache(&cache);
        feed(&mut a, &m, REFUSED, 1);
        // Met again by another block before the first one is done: captured once either way.
        feed(&mut b, &m, REFUSED, 7);
        feed(&mut b, &m, TIMEOUT, 8);
        b.block_done(&m);
        a.block_done(&m);
        let (a, b) = (a.events.unwrap(), b.events.unwrap());
        assert!(Arc::ptr_eq(&a[0].line, &b[0].line));
        assert_eq!((a[0].at.line, b[0].at.line), (1, 7));
        assert!(!Arc::ptr_eq(&b[0].line, &b[1].line));
        assert_eq!(&a[0].line.values()["es_host"], "es01");
        assert_eq!(&b[1].line.values()["es_host"], "es02");
        assert_eq!(&b[1].line.values()["es_port"], "9201");
        assert_eq!(&*b[1].line.text, TIMEOUT);
    }

    #[test]
    fn values_are_captured_at_the_end_of_the_block_as_one_at_a_time() {
        let m = crate::scan::tests::matcher();
        let mut c = Collector::new(true);
        let lines = [REFUSED, TIMEOUT, REFUSED, "failed to register Cloud Connected Mode: Post \"https://api.elastic-cloud.com/api/v1/cloud-connected/clusters\": proxyconnect tcp: dial tcp 10.0.0.8:3128: connect: connection refused"];
        let failures: Vec<Failure> = (1..)
            .zip(lines)
            .map(|(n, l)| feed(&mut c, &m, l, n))
            .collect();
        assert!(c
            .events
            .as_ref()
            .unwrap()
            .iter()
            .all(|e| e.line.captured.get().is_none()));
        c.block_done(&m);
        for ((e, f), text) in c.events.unwrap().iter().zip(&failures).zip(lines) {
            let mut one = BTreeMap::new();
            m.capture(f, text, &mut one);
            assert!(!one.is_empty());
            assert_eq!(e.line.values().to_map(), one, "{text}");
        }
    }

    #[test]
    fn samples_get_the_values_of_their_lines_as_if_captured_when_taken() {
        let m = crate::scan::tests::matcher();
        let cache = Arc::new(EventCache::default());
        // Same finding (cluster, timeout), values that differ from line to line and names
        // that only some lines have: the first value of a name must win, in input order.
        let other = r#"error making http request: Get "https://elastic:pw@es03:9203/": dial tcp 10.0.0.7:9203: i/o timeout"#;
        let blocks: [&[&str]; 2] = [&[TIMEOUT, REFUSED], &[REFUSED, other, TIMEOUT, TIMEOUT]];
        let (mut sampled, mut plain) = (Vec::new(), Vec::new());
        let mut n = 0;
        for block in blocks {
            // With events, and a cache that knows the first block's lines in the second.
            let mut with = Collector::new(true).with_cache(&cache);
            let mut without = Collector::new(false);
            for text in block {
                n += 1;
                feed(&mut with, &m, text, n);
                feed(&mut without, &m, text, n);
            }
            with.block_done(&m);
            without.block_done(&m);
            sampled.push(with.agg);
            plain.push(without.agg);
        }
        for (with, without) in sampled.iter().zip(&plain) {
            assert!(!with.findings.is_empty());
            for (a, b) in with.findings.iter().zip(&without.findings) {
                assert_eq!(a.values, b.values, "{:?}", a.key);
                let values = |f: &crate::findings::Finding| {
                    f.samples
                        .iter()
                        .map(|s| s.values.clone())
                        .collect::<Vec<_>>()
                };
                assert_eq!(values(a), values(b), "{:?}", a.key);
            }
        }
        // The second block's timeout finding took `other`'s values first.
        let timeout = plain[1]
            .findings
            .iter()
            .find(|f| f.key.cause == "timeout")
            .unwrap();
        assert_eq!(timeout.values["es_host"], "es03");
        assert_eq!(timeout.samples.len(), 3);
    }

    #[test]
    fn lines_that_differ_only_in_a_secret_are_not_confused() {
        let m = crate::scan::tests::matcher();
        let mut c = Collector::new(true);
        let first = r#"error making http request: Get "https://elastic:first@es01:9200/": dial tcp 10.0.0.5:9200: connect: connection refused"#;
        let second = r#"error making http request: Get "https://elastic:second@es01:9200/": dial tcp 10.0.0.5:9200: connect: connection refused"#;
        feed(&mut c, &m, first, 1);
        feed(&mut c, &m, second, 2);
        feed(&mut c, &m, first, 3);
        c.block_done(&m);
        let events = c.events.unwrap();
        // Masked alike, but captured apart: their values could differ.
        assert_eq!(events[0].line.text, events[1].line.text);
        assert!(events[0].line.text.contains("elastic:****@es01"));
        assert!(!Arc::ptr_eq(&events[0].line, &events[1].line));
        assert!(Arc::ptr_eq(&events[0].line, &events[2].line));
        assert_eq!(
            &events[1].line.values()["es_url"],
            "https://elastic:****@es01:9200"
        );
    }

    #[test]
    fn lines_that_differ_in_a_few_digits_hash_apart() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..300 {
            for j in 0..300 {
                assert!(seen.insert(text_hash(&format!("error {i} at {j}"))));
            }
        }
        for i in 0..100_000 {
            assert!(seen.insert(text_hash(&format!("distinct line {i}"))));
            assert!(seen.insert(text_hash(&i.to_string())));
        }
    }

    #[test]
    fn lines_let_go_by_another_thread_are_freed_by_the_thread_that_made_them() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        // Shard 0 for this thread, shard 1 for the pool's.
        let cache = pool.install(EventCache::default);
        let f = a_failure();
        let event = |line: Arc<EventLine>| MatchEvent {
            at: Pos {
                source: crate::findings::Source::new("t", 0),
                line: 1,
                ts: None,
            },
            line,
            raw: None,
        };
        let make = |text: &str| {
            pool.install(|| cache.get_or_make(&f, text, || EventLine::new(f.clone(), text)))
        };
        // Pushed out of the pool thread's cache by newer lines, then held by events only.
        let gone = make("the first error");
        for i in 0..2 * cache.lines {
            make(&format!("distinct line {i}"));
        }
        let kept = make("still cached");
        assert_eq!(Arc::strong_count(&gone), 1);
        let (gone_weak, kept_weak) = (Arc::downgrade(&gone), Arc::downgrade(&kept));
        cache.bury(vec![event(gone), event(kept)]);
        // Swept by this thread: the line only the events held goes to its maker.
        cache.sweep();
        assert!(lock(&cache.done).is_empty());
        assert!(gone_weak.upgrade().is_some(), "handed to the pool's thread");
        assert_eq!(lock(&cache.shards[1]).orphans.len(), 1);
        assert_eq!(kept_weak.strong_count(), 1, "the cache still holds it");
        // The thread that made it frees it when it sweeps.
        pool.install(|| cache.sweep());
        assert!(gone_weak.upgrade().is_none());
        assert!(lock(&cache.shards[1]).orphans.is_empty());
        assert!(kept_weak.upgrade().is_some());
    }

    #[test]
    fn the_cache_stays_bounded_and_keeps_the_lines_in_use() {
        let cache = EventCache::default();
        let f = a_failure();
        let made = Cell::new(0);
        let line = |text: &str| {
            cache.get_or_make(&f, text, || {
                made.set(made.get() + 1);
                EventLine::new(f.clone(), text)
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
        // The test thread is not in the pool: one shard holds them all.
        assert!(held <= 2 * cache.lines && held >= cache.lines, "{held}");
    }
}
