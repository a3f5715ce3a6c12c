//! The prefilter finds every occurrence of every scan anchor in a buffer, and it is the hot path:
//! every byte of every log goes through it. One Aho-Corasick pass over all anchors runs at about
//! 1.5 GB/s per core (its SIMD searcher degrades past 16 literals), so the anchors are split in
//! two. Anchors of at least `GRAM + STRIDE - 1` bytes are found by sampling: only every `STRIDE`-th
//! position of the buffer is looked at, and the `GRAM` bytes there are hashed into a 64 KiB table
//! of the grams those anchors hold. For each long anchor, `STRIDE` consecutive grams are
//! registered (the rarest run of them, by a table of byte frequencies in agent logs), so whatever
//! its alignment, exactly one of its grams falls on a sampled position. A sampled gram that is in
//! the table is verified against the anchors it belongs to. The few short anchors go to a packed
//! SIMD searcher, which is fast with so few literals. Work is done in blocks that stay in the
//! CPU's cache, and hits come out sorted by start, overlapping ones included. A rule set the
//! sampling does not suit (too many short anchors) falls back to one Aho-Corasick automaton.

use aho_corasick::packed;
use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind, Span};

/// One anchor occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    /// Where it starts in the buffer.
    pub start: usize,
    /// Which anchor: an index into the list the prefilter was built from.
    pub anchor: u32,
}

/// Bytes scanned per block: small enough that the matcher's later look at the same bytes (line
/// bounds, newline counts) finds them in cache.
const BLOCK: usize = 64 * 1024;
/// (gram length, stride) pairs tried in order; the first one whose short anchors are few enough
/// for the packed searcher is used.
const SHAPES: [(usize, usize); 2] = [(6, 6), (4, 4)];
/// The packed searcher is fast up to this many literals.
const MAX_SHORT: usize = 16;
const HASH_BITS: u32 = 16;
const SLOTS: usize = 1 << HASH_BITS;
const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

/// How rare each byte is in agent logs: -log2 of its frequency in the benchmark corpus (five
/// envelopes, healthy and failing lines), capped at 20; printable bytes the corpus lacks get 14.
/// Only used to choose which grams of an anchor to register: a wrong guess costs speed, not hits.
#[rustfmt::skip]
const RARITY: [u8; 256] = [
    20, 20, 20, 20, 20, 20, 20, 20, 20,  9,  9, 20, 20, 20, 20, 20,
    20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20,
     6, 20,  3, 14, 14, 14, 13, 17, 12, 12, 11, 14,  5,  6,  5,  7,
     6,  6,  6,  7,  6,  6,  7,  7,  7,  7,  5, 14, 20, 12, 20, 13,
    10, 12, 13, 12, 13, 11, 10, 12, 11, 13, 13, 12, 14, 11, 12, 11,
    10, 13, 13, 11,  8, 13, 12, 13, 13, 13,  8, 12,  5, 12, 14,  7,
    14,  5,  7,  5,  6,  4,  7,  6,  7,  5, 12,  8,  5,  6,  5,  4,
     6, 10,  5,  5,  4,  6,  6, 10,  9,  9, 10,  7, 14,  7, 14, 20,
    14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14,
    14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14,
    14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14,
    14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14,
    14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14,
    14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14,
    14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14,
    14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14,
];

/// Finds anchor occurrences in buffers.
#[derive(Debug)]
pub struct Prefilter {
    anchors: Vec<Box<[u8]>>,
    /// The longest anchor's length: how far past a block the automaton fallback must read.
    longest: usize,
    engine: Engine,
    block: usize,
}

#[derive(Debug)]
enum Engine {
    Sampled(Box<Sampled>),
    Automaton(AhoCorasick),
}

#[derive(Debug)]
struct Sampled {
    gram: usize,
    stride: usize,
    mask: u64,
    /// `present[slot(g)]` is 1 when some registered gram hashes there.
    present: Box<[u8; SLOTS]>,
    /// The entries of slot `h` are `entries[slot_start[h]..slot_start[h + 1]]`.
    slot_start: Box<[u32]>,
    entries: Box<[Entry]>,
    /// The largest registered offset: a hit found later can start at most this far before the
    /// position sampling has reached.
    max_offset: usize,
    short: Option<Short>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    gram: u64,
    anchor: u32,
    offset: u32,
}

#[derive(Debug)]
struct Short {
    searcher: ShortSearcher,
    /// Indexes of the short anchors.
    anchors: Vec<u32>,
    max_len: usize,
}

#[derive(Debug)]
enum ShortSearcher {
    Packed(packed::Searcher),
    Automaton(AhoCorasick),
}

/// How far ahead of the sampling the bytes are asked for. The hardware prefetcher stops at 4 KiB
/// page boundaries, and a mapped log is made of such pages: asking 2 KiB ahead took the benchmark
/// from 368 to 338 ms (1 GiB, 2 threads).
const PREFETCH: usize = 2048;

/// Hints the CPU to bring the cache line at `p` in. Never faults, whatever `p` is.
#[inline(always)]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it reads nothing into the program and cannot fault, even for
    // an address outside any mapping (here, up to `PREFETCH` bytes past the buffer's end).
    unsafe {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[inline(always)]
fn slot(gram: u64) -> usize {
    (gram.wrapping_mul(MULTIPLIER) >> (64 - HASH_BITS)) as usize
}

/// The first `len` (≤ 8) bytes of `bytes` as a little-endian integer.
fn gram_of(bytes: &[u8], len: usize) -> u64 {
    let mut g = [0u8; 8];
    g[..len].copy_from_slice(&bytes[..len]);
    u64::from_le_bytes(g)
}

impl Prefilter {
    /// Builds a prefilter over `anchors` (each at least one byte).
    pub fn new<A: AsRef<[u8]>>(anchors: &[A]) -> Prefilter {
        let anchors: Vec<Box<[u8]>> = anchors.iter().map(|a| a.as_ref().into()).collect();
        let engine = SHAPES
            .iter()
            .find_map(|&(gram, stride)| Sampled::new(&anchors, gram, stride))
            .map(|s| Engine::Sampled(Box::new(s)))
            .unwrap_or_else(|| Engine::Automaton(automaton(&anchors, MatchKind::Standard)));
        let mut pf = Prefilter {
            longest: anchors.iter().map(|a| a.len()).max().unwrap_or(1),
            anchors,
            engine,
            block: BLOCK,
        };
        pf.block = pf.block_of(BLOCK);
        pf
    }

    /// The sampling engine's (gram length, stride), or `None` for the one-automaton fallback.
    pub fn shape(&self) -> Option<(usize, usize)> {
        match &self.engine {
            Engine::Sampled(s) => Some((s.gram, s.stride)),
            Engine::Automaton(_) => None,
        }
    }

    /// The anchor an index of a [`Hit`] stands for.
    pub fn anchor(&self, index: u32) -> &[u8] {
        &self.anchors[index as usize]
    }

    /// Every anchor occurrence in `buf`, by start (and anchor index at equal starts).
    pub fn hits<'p, 'b>(&'p self, buf: &'b [u8]) -> Hits<'p, 'b> {
        Hits {
            pf: self,
            buf,
            next_block: 0,
            pending: Vec::new(),
            head: 0,
            ready: 0,
        }
    }

    /// Finds the hits discovered while scanning `buf[from..to]`: with sampling, those whose
    /// sampled gram lies there; otherwise those that start there.
    fn scan_block(&self, buf: &[u8], from: usize, to: usize, out: &mut Vec<Hit>) {
        match &self.engine {
            Engine::Sampled(s) => {
                s.sample(buf, from, to, &self.anchors, out);
                if let Some(short) = &s.short {
                    short.find(buf, from, to, &self.anchors, out);
                }
            }
            Engine::Automaton(ac) => {
                let end = (to + self.longest - 1).min(buf.len());
                let input = Input::new(buf).span(from..end);
                for m in ac.find_overlapping_iter(input) {
                    if m.start() < to {
                        out.push(Hit {
                            start: m.start(),
                            anchor: m.pattern().as_u32(),
                        });
                    }
                }
            }
        }
    }

    /// How far before the end of the last scanned block a hit not found yet can start.
    fn lookbehind(&self) -> usize {
        match &self.engine {
            Engine::Sampled(s) => s.max_offset,
            Engine::Automaton(_) => 0,
        }
    }

    /// `block` rounded up to a whole number of strides: sampled positions are the multiples of
    /// the stride, so blocks must start on them.
    fn block_of(&self, block: usize) -> usize {
        let stride = self.shape().map_or(1, |(_, stride)| stride);
        block.div_ceil(stride) * stride
    }

    #[cfg(test)]
    fn with_block(mut self, block: usize) -> Prefilter {
        self.block = self.block_of(block);
        self
    }
}

fn automaton(anchors: &[Box<[u8]>], kind: MatchKind) -> AhoCorasick {
    AhoCorasick::builder()
        .match_kind(kind)
        .kind(Some(AhoCorasickKind::DFA))
        .build(anchors)
        .expect("anchors are plain literals of bounded size")
}

impl Sampled {
    fn new(anchors: &[Box<[u8]>], gram: usize, stride: usize) -> Option<Sampled> {
        let min_long = gram + stride - 1;
        let (long, short): (Vec<u32>, Vec<u32>) =
            (0..anchors.len() as u32).partition(|&i| anchors[i as usize].len() >= min_long);
        if long.is_empty() || short.len() > MAX_SHORT {
            return None;
        }
        let mut entries = Vec::with_capacity(long.len() * stride);
        for &i in &long {
            let a = &anchors[i as usize];
            // How likely a gram is, by its bytes' rarity: 2^-(sum of rarities).
            let likely = |at: usize| {
                let bits: u32 = a[at..at + gram]
                    .iter()
                    .map(|&b| RARITY[b as usize] as u32)
                    .sum();
                (-(bits as f64)).exp2()
            };
            let best = (0..=a.len() - min_long)
                .map(|w| (w, (w..w + stride).map(likely).sum::<f64>()))
                .min_by(|x, y| x.1.total_cmp(&y.1))
                .map_or(0, |(w, _)| w);
            for offset in best..best + stride {
                entries.push(Entry {
                    gram: gram_of(&a[offset..], gram),
                    anchor: i,
                    offset: offset as u32,
                });
            }
        }
        entries.sort_by_key(|e| (slot(e.gram), e.gram, e.anchor, e.offset));
        let mut present = Box::new([0u8; SLOTS]);
        let mut slot_start = vec![0u32; SLOTS + 1].into_boxed_slice();
        for e in &entries {
            present[slot(e.gram)] = 1;
            slot_start[slot(e.gram) + 1] += 1;
        }
        for h in 0..SLOTS {
            slot_start[h + 1] += slot_start[h];
        }
        let max_offset = entries.iter().map(|e| e.offset as usize).max().unwrap_or(0);
        let short = (!short.is_empty()).then(|| Short::new(anchors, short));
        Some(Sampled {
            gram,
            stride,
            mask: if gram >= 8 {
                u64::MAX
            } else {
                (1u64 << (8 * gram)) - 1
            },
            present,
            slot_start,
            entries: entries.into_boxed_slice(),
            max_offset,
            short,
        })
    }

    /// Samples the positions of `buf[from..to]` that are multiples of the stride (`from` is one).
    fn sample(
        &self,
        buf: &[u8],
        from: usize,
        to: usize,
        anchors: &[Box<[u8]>],
        out: &mut Vec<Hit>,
    ) {
        let s = self.stride;
        let present: &[u8; SLOTS] = &self.present;
        let mask = self.mask;
        let hit = |g: u64| present[slot(g)] != 0;
        // Positions from which 8 bytes can be read directly.
        let direct_end = to.min(buf.len().saturating_sub(7));
        let read = |i: usize| -> u64 {
            debug_assert!(i + 8 <= buf.len());
            // SAFETY: callers pass `i < direct_end <= buf.len() - 7`, so `i + 8 <= buf.len()`;
            // `read_unaligned` has no alignment requirement. This is the hottest load of the
            // program, and the bounds check of a slice costs a measurable share of it.
            let word = unsafe { buf.as_ptr().add(i).cast::<u64>().read_unaligned() };
            u64::from_le(word) & mask
        };
        let mut i = from;
        while i + 3 * s < direct_end {
            prefetch(buf.as_ptr().wrapping_add(i + PREFETCH));
            let g = [read(i), read(i + s), read(i + 2 * s), read(i + 3 * s)];
            if hit(g[0]) | hit(g[1]) | hit(g[2]) | hit(g[3]) {
                for (k, &g) in g.iter().enumerate() {
                    if hit(g) {
                        self.verify(buf, i + k * s, g, anchors, out);
                    }
                }
            }
            i += 4 * s;
        }
        while i < direct_end {
            let g = read(i);
            if hit(g) {
                self.verify(buf, i, g, anchors, out);
            }
            i += s;
        }
        // The last few positions, where fewer than 8 bytes are left.
        while i < to && i + self.gram <= buf.len() {
            let g = gram_of(&buf[i..], self.gram);
            if hit(g) {
                self.verify(buf, i, g, anchors, out);
            }
            i += s;
        }
    }

    #[inline(never)]
    fn verify(&self, buf: &[u8], at: usize, gram: u64, anchors: &[Box<[u8]>], out: &mut Vec<Hit>) {
        let h = slot(gram);
        let range = self.slot_start[h] as usize..self.slot_start[h + 1] as usize;
        for e in &self.entries[range] {
            if e.gram != gram {
                continue;
            }
            let Some(start) = at.checked_sub(e.offset as usize) else {
                continue;
            };
            let a = &anchors[e.anchor as usize];
            if buf.get(start..start + a.len()) == Some(&a[..]) {
                out.push(Hit {
                    start,
                    anchor: e.anchor,
                });
            }
        }
    }
}

impl Short {
    fn new(anchors: &[Box<[u8]>], short: Vec<u32>) -> Short {
        let literals: Vec<&[u8]> = short.iter().map(|&i| &anchors[i as usize][..]).collect();
        // The packed searcher fingerprints the first min(4, shortest literal) bytes of each
        // literal. Three are as selective for anchors like these and cheaper per block (2.46 →
        // 2.76 GB/s for the whole prefilter on the benchmark corpus), so a literal of three DEL
        // bytes, which log text does not hold, sets the fingerprint length. Where it does occur it
        // costs one check and is not a hit: `find` only reports the anchors.
        let sentinel: &[u8] = b"\x7f\x7f\x7f";
        let mut fingerprinted = literals.clone();
        if literals.iter().all(|l| l.len() > sentinel.len()) {
            fingerprinted.push(sentinel);
        }
        let searcher = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(&fingerprinted)
            .build()
            .map(ShortSearcher::Packed)
            .unwrap_or_else(|| {
                let owned: Vec<Box<[u8]>> = literals.iter().map(|&l| l.into()).collect();
                ShortSearcher::Automaton(automaton(&owned, MatchKind::LeftmostFirst))
            });
        Short {
            searcher,
            max_len: literals.iter().map(|l| l.len()).max().unwrap_or(1),
            anchors: short,
        }
    }

    /// Finds the short anchors that start in `buf[from..to]`. The searcher reports one literal
    /// per position, so every short anchor is checked where it reports one.
    fn find(&self, buf: &[u8], from: usize, to: usize, anchors: &[Box<[u8]>], out: &mut Vec<Hit>) {
        let end = (to + self.max_len - 1).min(buf.len());
        let mut pos = from;
        while pos < end {
            let found = match &self.searcher {
                ShortSearcher::Packed(p) => p.find_in(buf, Span::from(pos..end)).map(|m| m.start()),
                ShortSearcher::Automaton(ac) => {
                    ac.find(Input::new(buf).span(pos..end)).map(|m| m.start())
                }
            };
            let Some(at) = found.filter(|&at| at < to) else {
                break;
            };
            for &i in &self.anchors {
                if buf[at..].starts_with(&anchors[i as usize]) {
                    out.push(Hit {
                        start: at,
                        anchor: i,
                    });
                }
            }
            pos = at + 1;
        }
    }
}

/// The hits of one buffer, found a block at a time: see [`Prefilter::hits`].
#[derive(Debug)]
pub struct Hits<'p, 'b> {
    pf: &'p Prefilter,
    buf: &'b [u8],
    next_block: usize,
    /// Hits found but not handed out, sorted; `pending[head..ready]` are final (no hit found
    /// later can start before them).
    pending: Vec<Hit>,
    head: usize,
    ready: usize,
}

impl Iterator for Hits<'_, '_> {
    type Item = Hit;

    #[inline]
    fn next(&mut self) -> Option<Hit> {
        loop {
            if self.head < self.ready {
                self.head += 1;
                return Some(self.pending[self.head - 1]);
            }
            if self.next_block >= self.buf.len() {
                if self.ready < self.pending.len() {
                    self.ready = self.pending.len();
                    continue;
                }
                return None;
            }
            self.pending.drain(..self.head);
            self.head = 0;
            let from = self.next_block;
            let to = (from + self.pf.block).min(self.buf.len());
            let before = self.pending.len();
            self.pf.scan_block(self.buf, from, to, &mut self.pending);
            if self.pending.len() > before {
                self.pending.sort_unstable();
            }
            self.next_block = to;
            self.ready = if to == self.buf.len() {
                self.pending.len()
            } else {
                let frontier = to.saturating_sub(self.pf.lookbehind());
                self.pending.partition_point(|h| h.start < frontier)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every occurrence, overlapping ones included, the slow way.
    fn naive(anchors: &[&str], buf: &[u8]) -> Vec<Hit> {
        let mut out = Vec::new();
        for start in 0..buf.len() {
            for (i, a) in anchors.iter().enumerate() {
                if buf[start..].starts_with(a.as_bytes()) {
                    out.push(Hit {
                        start,
                        anchor: i as u32,
                    });
                }
            }
        }
        out
    }

    /// A deterministic haystack: pieces of the anchors, their prefixes and noise, glued together.
    fn haystack(anchors: &[&str], len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed;
        let mut next = move || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let noise: &[&[u8]] = &[
            b" ",
            b"\n",
            b"\"",
            b"e",
            b"error",
            b"connection ",
            b"x",
            b"\xff",
        ];
        let mut out = Vec::new();
        while out.len() < len {
            let r = next();
            let a = anchors[(r % anchors.len() as u64) as usize].as_bytes();
            match (r >> 8) % 4 {
                0 => out.extend_from_slice(a),
                1 => out.extend_from_slice(&a[..((r >> 16) as usize % a.len())]),
                2 => out.extend_from_slice(&a[((r >> 16) as usize % a.len())..]),
                _ => out.extend_from_slice(noise[((r >> 16) % noise.len() as u64) as usize]),
            }
        }
        out.truncate(len);
        out
    }

    const ANCHORS: &[&str] = &[
        "connection refused",
        "refused",
        "EOF",
        "tls: ",
        "no such host",
        "HTTP error ",
        "error making http request",
        "aaaaaaaaaaaaaaa",
        "aaaaaaaaaaaaaaaaaaa",
        "completed fetching",
        "x509: ",
    ];

    #[test]
    fn sampling_finds_every_occurrence_at_any_alignment_and_block_size() {
        let pf = Prefilter::new(ANCHORS);
        assert!(pf.shape().is_some());
        for seed in 0..12 {
            let buf = haystack(ANCHORS, 5_000 + seed as usize * 37, seed);
            let want = naive(ANCHORS, &buf);
            assert!(want.len() > 100, "the haystack holds anchors");
            for block in [6, 12, 66, 600, 4096, BLOCK] {
                let pf = Prefilter::new(ANCHORS).with_block(block);
                let got: Vec<Hit> = pf.hits(&buf).collect();
                assert_eq!(got, want, "seed {seed}, block {block}");
            }
            // Every suffix: hits at the very end of a buffer, where fewer than 8 bytes are left.
            for cut in (buf.len() - 40)..buf.len() {
                let got: Vec<Hit> = pf.hits(&buf[..cut]).collect();
                assert_eq!(got, naive(ANCHORS, &buf[..cut]), "seed {seed}, cut {cut}");
            }
        }
    }

    #[test]
    fn the_smaller_shape_and_the_automaton_give_the_same_hits() {
        // Too many anchors under 11 bytes for the (6, 6) shape: (4, 4) is used.
        let mid: Vec<String> = (0..20).map(|i| format!("word{i:02}x")).collect();
        let mut anchors: Vec<&str> = mid.iter().map(String::as_str).collect();
        anchors.push("long enough anchor");
        let pf = Prefilter::new(&anchors);
        assert!(pf.shape().is_some());
        let buf = haystack(&anchors, 20_000, 7);
        assert_eq!(pf.hits(&buf).collect::<Vec<_>>(), naive(&anchors, &buf));
        // Only short anchors: the automaton.
        let short: Vec<String> = (0..20).map(|i| format!("w{i:02}")).collect();
        let short: Vec<&str> = short.iter().map(String::as_str).collect();
        let pf = Prefilter::new(&short);
        assert_eq!(pf.shape(), None);
        let buf = haystack(&short, 20_000, 8);
        let want = naive(&short, &buf);
        assert!(want.len() > 100);
        for block in [1, 7, 4096] {
            let pf = Prefilter::new(&short).with_block(block);
            assert_eq!(pf.hits(&buf).collect::<Vec<_>>(), want, "block {block}");
        }
    }

    #[test]
    fn empty_and_tiny_buffers_have_no_hits_or_the_right_ones() {
        let pf = Prefilter::new(ANCHORS);
        assert_eq!(pf.hits(b"").count(), 0);
        assert_eq!(pf.hits(b"EO").count(), 0);
        assert_eq!(
            pf.hits(b"EOF").collect::<Vec<_>>(),
            vec![Hit {
                start: 0,
                anchor: 2
            }]
        );
        assert_eq!(pf.anchor(2), b"EOF");
    }
}
