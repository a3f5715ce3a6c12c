//! The scanner drives bytes through prefilter → decode → classify into an [`Aggregation`]. It runs
//! the matcher's anchor automaton over whole buffers, finds line boundaries only around hits, and
//! decodes and classifies only those lines; everything else is counted, not looked at. Static
//! buffers are split into line-aligned chunks scanned in parallel (rayon) and merged in input
//! order; streams are read in bounded blocks that carries the partial last line
//! over and never holds more than [`MAX_LINE`] bytes of one line ([`scan_stream`]).

use std::collections::BTreeMap;
use std::io::{self, Read};

use memchr::{memchr, memchr_iter, memrchr};
use rayon::prelude::*;

use crate::findings::{Aggregation, Pos};
use crate::matcher::{Matcher, Verdict};
use crate::record::{decode, Part, Record};
use crate::rules::{Component, Severity};

/// Chunk size for parallel scans of static buffers.
pub const CHUNK: usize = 8 << 20;
/// Block size of stream reads.
pub const BLOCK: usize = 1 << 20;
/// The longest line kept whole; a longer line is scanned in pieces of this size.
pub const MAX_LINE: usize = 16 << 20;
/// How many CRI `P` parts are joined into one line at most.
const MAX_PARTS: usize = 64;

/// One classified failing line, for NDJSON output.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchEvent {
    /// Where.
    pub pos: Pos,
    /// The winning rule.
    pub rule: usize,
    /// The component.
    pub component: Component,
    /// The cause.
    pub cause: String,
    /// How bad.
    pub severity: Severity,
    /// Values captured from this line.
    pub values: BTreeMap<String, String>,
}

/// The result of scanning a buffer.
#[derive(Debug, Default)]
pub struct Partial {
    /// Findings and statistics.
    pub agg: Aggregation,
    /// Every failing line, in input order, when events were asked for.
    pub events: Vec<MatchEvent>,
    /// Newlines in the buffer.
    pub newlines: u64,
}

impl Partial {
    fn shift_lines(&mut self, offset: u64) {
        self.agg.shift_lines(offset);
        for e in &mut self.events {
            e.pos.line += offset;
        }
    }
}

/// Scans one line-aligned buffer. Line numbers are `first_line` + the line's index in `buf`.
pub fn scan_chunk(matcher: &Matcher, buf: &[u8], source: u32, first_line: u64, events: bool) -> Partial {
    let mut out = Partial::default();
    let mut pos = 0usize;
    let mut counted = 0usize;
    let mut newlines = 0u64;
    while pos < buf.len() {
        let Some((hit, hit_end)) = matcher.find_anchor(buf, pos) else {
            break;
        };
        let start = memrchr(b'\n', &buf[pos..hit]).map_or(pos, |i| pos + i + 1);
        let mut end = memchr(b'\n', &buf[hit_end..]).map_or(buf.len(), |i| hit_end + i);
        newlines += count_newlines(&buf[counted..start]);
        counted = start;
        let line_no = first_line + newlines;
        out.agg.stats.candidates += 1;
        let raw = trim_cr(&buf[start..end]);
        let mut rec = decode(raw);
        let mut sample = String::from_utf8_lossy(raw);
        // A CRI partial line: join the parts that follow (and precede) into one record.
        if rec.part == Part::Partial || (is_cri(raw) && start > 0) {
            if let Some((joined, joined_end)) = join_cri(buf, start, end, &rec) {
                rec = joined;
                sample = rec.text.clone();
                end = joined_end;
            }
        }
        let at = Pos {
            source,
            line: line_no,
            ts: rec.ts,
        };
        match matcher.classify(&rec) {
            Verdict::None => {}
            Verdict::Ignore { .. } => out.agg.stats.ignored += 1,
            Verdict::Success { component, .. } => out.agg.add_success(component, at),
            Verdict::Failure(f) => {
                out.agg.add_failure(matcher, &f, at.clone(), &sample, &rec.text);
                if events {
                    let mut values = BTreeMap::new();
                    matcher.capture(&f, &rec.text, &mut values);
                    out.events.push(MatchEvent {
                        pos: at,
                        rule: f.rule,
                        component: f.component,
                        cause: matcher.cause(&f).to_string(),
                        severity: f.severity,
                        values,
                    });
                }
            }
        }
        pos = end + 1;
    }
    newlines += count_newlines(&buf[counted.min(buf.len())..]);
    out.newlines = newlines;
    out
}

#[inline]
fn count_newlines(bytes: &[u8]) -> u64 {
    memchr_iter(b'\n', bytes).count() as u64
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Whether a line looks like a CRI line (`<RFC 3339> stdout|stderr F|P …`).
fn is_cri(line: &[u8]) -> bool {
    let Some(sp) = memchr(b' ', line) else {
        return false;
    };
    let rest = &line[sp + 1..];
    line.first().is_some_and(u8::is_ascii_digit)
        && (rest.starts_with(b"stdout ") || rest.starts_with(b"stderr "))
        && rest.get(7).is_some_and(|&b| b == b'P' || b == b'F')
}

/// Joins the CRI parts around the line at `start..end`: the `P` lines right before it and, if it is
/// itself a `P` line, the lines after it up to the closing `F`. Returns the joined record and the
/// end of its last part, or `None` when there is nothing to join.
fn join_cri<'a>(buf: &'a [u8], start: usize, end: usize, rec: &Record<'a>) -> Option<(Record<'a>, usize)> {
    // Parts before: walk back while the previous line is a P part.
    let mut before: Vec<Record<'a>> = Vec::new();
    let mut s = start;
    while s > 0 && before.len() < MAX_PARTS {
        let prev_end = s - 1;
        let prev_start = memrchr(b'\n', &buf[..prev_end]).map_or(0, |i| i + 1);
        let prev = decode(trim_cr(&buf[prev_start..prev_end]));
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
            let next = decode(trim_cr(&buf[next_start..next_end]));
            let last = next.part == Part::Full;
            if !is_cri(&buf[next_start..next_end]) {
                break;
            }
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
    let mut text = String::new();
    let mut ts = None;
    let mut level = None;
    for part in before.iter().rev().chain(std::iter::once(rec)).chain(after.iter()) {
        text.push_str(&part.text);
        ts = ts.or(part.ts);
        level = level.or(part.level);
    }
    // The whole line decoded again: the joined text may itself be a structured log line.
    let inner = decode(text.as_bytes());
    let joined = Record {
        text: std::borrow::Cow::Owned(inner.text.into_owned()),
        level: inner.level.or(level),
        ts: inner.ts.or(ts),
        part: Part::Full,
    };
    Some((joined, e))
}

/// Scans a static buffer (a mapped file, a decompressed member) in parallel chunks. The result is
/// the same as one sequential [`scan_chunk`] over the whole buffer.
pub fn scan_static(matcher: &Matcher, buf: &[u8], source: u32, events: bool) -> Partial {
    scan_static_with(matcher, buf, source, events, CHUNK)
}

/// [`scan_static`] with a chosen chunk size (tests use small ones to cross boundaries).
pub fn scan_static_with(matcher: &Matcher, buf: &[u8], source: u32, events: bool, chunk: usize) -> Partial {
    let bounds = chunk_bounds(buf, chunk.max(1));
    let parts: Vec<Partial> = bounds
        .par_iter()
        .map(|&(s, e)| scan_chunk(matcher, &buf[s..e], source, 1, events))
        .collect();
    let mut total = Partial::default();
    let mut lines_before = 0u64;
    for mut p in parts {
        p.shift_lines(lines_before);
        lines_before += p.newlines;
        merge_partial(&mut total, p);
    }
    total.newlines = lines_before;
    total.agg.stats.bytes = buf.len() as u64;
    total.agg.stats.lines = lines_before + u64::from(!buf.is_empty() && !buf.ends_with(b"\n"));
    total.agg.stats.sources = 1;
    total
}

fn merge_partial(total: &mut Partial, p: Partial) {
    total.agg.merge(p.agg);
    total.events.extend(p.events);
}

/// Splits `buf` into ranges of about `chunk` bytes, each ending just after a newline (the last at
/// the end of the buffer).
pub fn chunk_bounds(buf: &[u8], chunk: usize) -> Vec<(usize, usize)> {
    let mut bounds = Vec::with_capacity(buf.len() / chunk + 1);
    let mut start = 0;
    while start < buf.len() {
        let target = start.saturating_add(chunk);
        if target >= buf.len() {
            bounds.push((start, buf.len()));
            break;
        }
        let end = memchr(b'\n', &buf[target..]).map_or(buf.len(), |i| target + i + 1);
        bounds.push((start, end));
        start = end;
    }
    bounds
}

/// Scans a whole stream. `on_block` is called after every block with the aggregation so far and
/// the block's events (already numbered), and with `idle` set when the reader reported that no
/// data came for a while (an `io::ErrorKind::WouldBlock` error, see [`crate::source::stdin`]).
pub fn scan_stream<R: Read>(
    matcher: &Matcher,
    mut reader: R,
    source: u32,
    events: bool,
    mut on_block: impl FnMut(&Aggregation, &[MatchEvent], bool) -> io::Result<()>,
) -> io::Result<Aggregation> {
    let mut buf: Vec<u8> = vec![0; BLOCK];
    let mut len = 0usize;
    let mut lines_before = 0u64;
    let mut bytes = 0u64;
    let mut total = Aggregation::default();
    let mut last_unterminated = false;
    let feed = |total: &mut Aggregation, piece: &[u8], lines_before: &mut u64| {
        let p = scan_piece(matcher, piece, source, *lines_before, events);
        *lines_before += p.newlines;
        total.merge(p.agg);
        p.events
    };
    loop {
        if len == buf.len() {
            if buf.len() < MAX_LINE {
                let grown = (buf.len() * 2).min(MAX_LINE);
                buf.resize(grown, 0);
            } else {
                // One line longer than MAX_LINE: scan what we have as a piece of it.
                let ev = feed(&mut total, &buf[..len], &mut lines_before);
                on_block(&total, &ev, false)?;
                len = 0;
                last_unterminated = true;
                continue;
            }
        }
        let n = match reader.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                on_block(&total, &[], true)?;
                continue;
            }
            Err(e) => return Err(e),
        };
        bytes += n as u64;
        let read_start = len;
        len += n;
        let Some(last_nl) = memrchr(b'\n', &buf[read_start..len]).map(|i| read_start + i) else {
            continue;
        };
        let ev = feed(&mut total, &buf[..=last_nl], &mut lines_before);
        last_unterminated = false;
        on_block(&total, &ev, false)?;
        buf.copy_within(last_nl + 1..len, 0);
        len -= last_nl + 1;
        if buf.len() > BLOCK && len < BLOCK {
            buf.truncate(BLOCK);
            buf.shrink_to(BLOCK);
        }
    }
    if len > 0 {
        let ev = feed(&mut total, &buf[..len], &mut lines_before);
        on_block(&total, &ev, false)?;
        last_unterminated = true;
    }
    total.stats.bytes = bytes;
    total.stats.lines = lines_before + u64::from(last_unterminated);
    total.stats.sources = 1;
    Ok(total)
}

fn scan_piece(matcher: &Matcher, buf: &[u8], source: u32, lines_before: u64, events: bool) -> Partial {
    scan_chunk(matcher, buf, source, lines_before + 1, events)
}

/// An input named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input.
    Stdin,
    /// A file.
    Path(std::path::PathBuf),
}

impl Input {
    /// The name findings report as their source.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_string(),
            Input::Path(p) => p.display().to_string(),
        }
    }
}

/// Receives a scan's progress: new events as they are found, and the inputs that failed.
pub trait Sink {
    /// Called after each block of a stream, and once after each static input: `agg` is the
    /// current input's aggregation so far, `events` the failing lines found since the last call
    /// (only when events were asked for), `idle` whether a live input has gone quiet.
    fn progress(&mut self, sources: &[String], agg: &Aggregation, events: &[MatchEvent], idle: bool) -> io::Result<()>;
    /// An input could not be read; the scan goes on with the others.
    fn error(&mut self, source: &str, err: &io::Error);
}

/// Errors of the sink itself (a closed stdout) stop the scan and are returned.
pub fn scan_inputs(
    matcher: &Matcher,
    inputs: &[Input],
    events: bool,
    interrupted: &std::sync::Arc<std::sync::atomic::AtomicBool>,
    sink: &mut dyn Sink,
) -> io::Result<(Aggregation, Vec<String>)> {
    use std::sync::atomic::Ordering;
    let mut total = Aggregation::default();
    let mut sources: Vec<String> = Vec::new();
    for input in inputs {
        if interrupted.load(Ordering::Relaxed) {
            break;
        }
        let source = sources.len() as u32;
        sources.push(input.name());
        let result = match input {
            Input::Stdin => {
                let reader = crate::source::stdin::StdinReader::spawn(interrupted.clone());
                scan_stream_to(matcher, reader, source, events, &sources, sink)
            }
            Input::Path(path) => match crate::source::open_path(path) {
                Err(e) => Err(e),
                Ok(crate::source::Opened::Mapped(map)) => Ok(scan_static_to(matcher, &map, source, events, &sources, sink)?),
                Ok(crate::source::Opened::Bytes(bytes)) => Ok(scan_static_to(matcher, &bytes, source, events, &sources, sink)?),
                Ok(crate::source::Opened::Stream(reader)) => scan_stream_to(matcher, reader, source, events, &sources, sink),
            },
        };
        match result {
            Ok(agg) => total.merge(agg),
            Err(e) if is_sink_error(&e) => return Err(e),
            Err(e) => {
                total.stats.errors += 1;
                sink.error(&input.name(), &e);
            }
        }
    }
    Ok((total, sources))
}

/// A closed output is the sink's error, not the input's.
fn is_sink_error(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

fn scan_static_to(
    matcher: &Matcher,
    buf: &[u8],
    source: u32,
    events: bool,
    sources: &[String],
    sink: &mut dyn Sink,
) -> io::Result<Aggregation> {
    let p = scan_static(matcher, buf, source, events);
    sink.progress(sources, &p.agg, &p.events, false)?;
    Ok(p.agg)
}

fn scan_stream_to(
    matcher: &Matcher,
    reader: impl Read,
    source: u32,
    events: bool,
    sources: &[String],
    sink: &mut dyn Sink,
) -> io::Result<Aggregation> {
    scan_stream(matcher, reader, source, events, |agg, ev, idle| {
        sink.progress(sources, agg, ev, idle)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_end_after_newlines_and_cover_the_buffer() {
        let buf = b"aaaa\nbb\ncccccc\nd";
        let b = chunk_bounds(buf, 3);
        assert_eq!(b, vec![(0, 5), (5, 8), (8, 15), (15, 16)]);
        assert_eq!(chunk_bounds(b"", 3), vec![]);
        assert_eq!(chunk_bounds(b"abc\n", 100), vec![(0, 4)]);
    }

    #[test]
    fn cri_lines_are_recognised() {
        assert!(is_cri(b"2025-10-14T09:15:03.512Z stderr P part"));
        assert!(is_cri(b"2025-10-14T09:15:03.512Z stdout F whole"));
        assert!(!is_cri(b"2025-10-14T09:15:03.512Z whatever"));
    }
}
