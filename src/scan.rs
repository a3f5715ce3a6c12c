//! The scanner drives bytes through prefilter → decode → classify into an [`Aggregation`]. It runs
//! the matcher's anchor prefilter over whole buffers, finds line boundaries only around hits, and
//! decodes and classifies only those lines; everything else is counted, not looked at. Static
//! buffers are split into line-aligned chunks scanned in parallel (rayon) and merged in input
//! order; streams are read in bounded blocks that carries the partial last line
//! over and never holds more than [`MAX_LINE`] bytes of one line ([`scan_stream`]).

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use memchr::{memchr, memmem, memrchr};
use rayon::prelude::*;

use crate::findings::{Aggregation, Pos};
use crate::matcher::{Matcher, Quick, Verdict};
use crate::record::{decode, Part, Record};
use crate::rules::{Component, Severity};

/// The smallest chunk of a parallel scan of a static buffer.
pub const CHUNK: usize = 8 << 20;
/// The largest chunk of a parallel scan of a static buffer.
const MAX_CHUNK: usize = 64 << 20;
/// How much of a stream is gathered before it is scanned (unless the stream has no more for now):
/// big enough to be split across the cores, small enough to keep memory flat.
pub const BLOCK: usize = 8 << 20;
/// The smallest chunk when a stream block is split across threads.
const BLOCK_CHUNK: usize = 1 << 20;
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

/// What a scan collects besides the aggregation, and which lines it keeps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanOptions {
    /// Collect a [`MatchEvent`] per failing line (for NDJSON).
    pub events: bool,
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
pub fn scan_chunk(
    matcher: &Matcher,
    buf: &[u8],
    source: u32,
    first_line: u64,
    opts: &ScanOptions,
) -> Partial {
    let mut out = Partial::default();
    let mut pos = 0usize;
    let mut counted = 0usize;
    let mut newlines = 0u64;
    // The last success-only line of each component: (start, end, line number). Only the last one
    // matters for status, so only it is decoded, at the end.
    let mut last_success: [Option<(usize, usize, u64)>; 4] = [None; 4];
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
        out.agg.stats.candidates += 1;
        let raw = trim_cr(&buf[start..end]);
        match matcher.quick(raw, success) {
            Quick::Ignored => {
                out.agg.stats.ignored += 1;
                pos = end + 1;
                continue;
            }
            // With a time window the line's own timestamp decides, so it must be decoded.
            Quick::Success(c) if !opts.filters_time() => {
                out.agg.stats.successes += 1;
                out.agg.components[c as usize].successes += 1;
                last_success[c as usize] = Some((start, end, line_no));
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
        if rec.part == Part::Partial || (start > 0 && (is_cri(raw) || is_docker(raw))) {
            if let Some((joined, parts_before, joined_end)) = join_cri(buf, start, end, &rec) {
                rec = joined;
                joined_line = true;
                end = joined_end;
                first_line_no = line_no.saturating_sub(parts_before as u64).max(first_line);
            }
        }
        if !opts.keeps(rec.ts) {
            out.agg.stats.outside_window += 1;
            pos = end + 1;
            continue;
        }
        let at = Pos {
            source,
            line: first_line_no,
            ts: rec.ts,
        };
        match matcher.classify(&rec) {
            Verdict::None => {}
            Verdict::Ignore { .. } => out.agg.stats.ignored += 1,
            Verdict::Success { component, .. } => out.agg.add_success(component, at),
            Verdict::Failure(f) => {
                let sample = if joined_line {
                    rec.text.as_bytes()
                } else {
                    raw
                };
                out.agg
                    .add_failure(matcher, &f, at.clone(), sample, &rec.text);
                if opts.events {
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
    for (c, last) in Component::ALL.into_iter().zip(last_success) {
        if let Some((start, end, line)) = last {
            let ts = decode(trim_cr(&buf[start..end])).ts;
            out.agg.note_success(c, Pos { source, line, ts });
        }
    }
    out
}

#[inline]
fn count_newlines(bytes: &[u8]) -> u64 {
    bytecount::count(bytes, b'\n') as u64
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Whether a raw line may be the part of a split line, judged without decoding it: a CRI line
/// tagged `P`, or a Docker json-file entry whose `log` does not end with an escaped newline.
fn may_be_part(line: &[u8]) -> bool {
    if is_cri(line) {
        return is_cri_part(line);
    }
    is_docker(line) && memmem::find(line, br#"\n","#).is_none()
}

/// Whether a CRI line is tagged `P`.
fn is_cri_part(line: &[u8]) -> bool {
    is_cri(line) && memchr(b' ', line).is_some_and(|sp| line.get(sp + 8) == Some(&b'P'))
}

/// Whether a line looks like a Docker json-file entry (whose parts may continue a split line).
fn is_docker(line: &[u8]) -> bool {
    line.starts_with(b"{\"log\":")
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

/// Joins the CRI (or Docker json-file) parts around the line at `start..end`: the `P` lines right before it and, if it is
/// itself a `P` line, the lines after it up to the closing `F`. Returns the joined record and the
/// number of parts before the line, and the end of its last part; `None` when there is nothing to
/// join.
fn join_cri<'a>(
    buf: &'a [u8],
    start: usize,
    end: usize,
    rec: &Record<'a>,
) -> Option<(Record<'a>, usize, usize)> {
    // Parts before: walk back while the previous line is a P part.
    let mut before: Vec<Record<'a>> = Vec::new();
    let mut s = start;
    while s > 0 && before.len() < MAX_PARTS {
        let prev_end = s - 1;
        let prev_start = memrchr(b'\n', &buf[..prev_end]).map_or(0, |i| i + 1);
        let prev_raw = trim_cr(&buf[prev_start..prev_end]);
        if !may_be_part(prev_raw) {
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
            if !is_cri(next_raw) && !is_docker(next_raw) {
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
    let mut text = String::new();
    let mut ts = None;
    let mut level = None;
    for part in before
        .iter()
        .rev()
        .chain(std::iter::once(rec))
        .chain(after.iter())
    {
        text.push_str(&part.text);
        ts = ts.or(part.ts);
        level = level.or(part.level);
    }
    // The whole line decoded again: the joined text may itself be a structured log line.
    let mut joined = decode(text.as_bytes()).into_owned();
    joined.level = joined.level.or(level);
    joined.ts = joined.ts.or(ts);
    joined.part = Part::Full;
    Some((joined, before.len(), e))
}

/// Whether the line ending just before `end` (which follows a newline) may be the part of a split
/// line (a CRI `P` part, a Docker json-file piece), whose line continues in the next one.
fn ends_in_part(buf: &[u8], end: usize) -> bool {
    if end < 2 {
        return false;
    }
    let line_end = end - 1;
    let line_start = memrchr(b'\n', &buf[..line_end]).map_or(0, |i| i + 1);
    may_be_part(trim_cr(&buf[line_start..line_end]))
}

/// Moves a block end (just after a newline) back before any trailing parts of a split line, so
/// the line is scanned whole in the next block (0 when the block holds nothing else yet).
fn end_before_parts(buf: &[u8], end: usize) -> usize {
    let mut e = end;
    for _ in 0..MAX_PARTS {
        if e == 0 || !ends_in_part(buf, e) {
            return e;
        }
        e = memrchr(b'\n', &buf[..e - 1]).map_or(0, |i| i + 1);
    }
    end
}

/// Scans a static buffer (a mapped file, a decompressed member) in parallel chunks. The result is
/// the same as one sequential [`scan_chunk`] over the whole buffer.
pub fn scan_static(matcher: &Matcher, buf: &[u8], source: u32, opts: &ScanOptions) -> Partial {
    scan_static_reporting(matcher, buf, source, opts, &|_| {})
}

/// [`scan_static`], telling `done` the bytes of each chunk as it is scanned (for a progress bar).
pub fn scan_static_reporting(
    matcher: &Matcher,
    buf: &[u8],
    source: u32,
    opts: &ScanOptions,
    done: &(dyn Fn(u64) + Sync),
) -> Partial {
    // Four chunks a thread balance the load; fewer, larger chunks keep the per-chunk work (samples
    // and captured values, merged away later) small.
    let chunk = (buf.len() / (rayon::current_num_threads() * 4)).clamp(CHUNK, MAX_CHUNK);
    let mut total = scan_parallel(matcher, buf, source, 1, opts, chunk, done);
    total.agg.stats.bytes = buf.len() as u64;
    total.agg.stats.lines = total.newlines + u64::from(!buf.is_empty() && !buf.ends_with(b"\n"));
    total.agg.stats.sources = 1;
    total
}

/// [`scan_static`] with a chosen chunk size (tests use small ones to cross boundaries).
pub fn scan_static_with(
    matcher: &Matcher,
    buf: &[u8],
    source: u32,
    opts: &ScanOptions,
    chunk: usize,
) -> Partial {
    let mut total = scan_parallel(matcher, buf, source, 1, opts, chunk, &|_| {});
    total.agg.stats.bytes = buf.len() as u64;
    total.agg.stats.lines = total.newlines + u64::from(!buf.is_empty() && !buf.ends_with(b"\n"));
    total.agg.stats.sources = 1;
    total
}

/// Scans `buf` in line-aligned chunks on the thread pool, numbering lines from `first_line`, and
/// merges the chunks in input order.
fn scan_parallel(
    matcher: &Matcher,
    buf: &[u8],
    source: u32,
    first_line: u64,
    opts: &ScanOptions,
    chunk: usize,
    done: &(dyn Fn(u64) + Sync),
) -> Partial {
    let bounds = chunk_bounds(buf, chunk.max(1));
    if bounds.len() <= 1 {
        let p = scan_chunk(matcher, buf, source, first_line, opts);
        done(buf.len() as u64);
        return p;
    }
    let parts: Vec<Partial> = bounds
        .par_iter()
        .map(|&(s, e)| {
            let p = scan_chunk(matcher, &buf[s..e], source, 1, opts);
            done((e - s) as u64);
            p
        })
        .collect();
    let mut total = Partial::default();
    let mut lines_before = first_line - 1;
    for mut p in parts {
        p.shift_lines(lines_before);
        lines_before += p.newlines;
        merge_partial(&mut total, p);
    }
    total.newlines = lines_before - (first_line - 1);
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
        let from = target - 1;
        let mut end = memchr(b'\n', &buf[from..]).map_or(buf.len(), |i| from + i + 1);
        // Never cut a split line (CRI `P` parts, Docker json-file pieces) between its parts.
        let mut parts = 0;
        while end < buf.len() && parts < MAX_PARTS && ends_in_part(buf, end) {
            end = memchr(b'\n', &buf[end..]).map_or(buf.len(), |i| end + i + 1);
            parts += 1;
        }
        bounds.push((start, end));
        start = end;
    }
    bounds
}

/// Scans a whole stream. `on_block` is called after every block with the aggregation so far and
/// the block's events (already numbered), and with `idle` set when the reader reported that no
/// data came for a while (an `io::ErrorKind::TimedOut` error, see [`crate::source::stdin`]).
///
/// Blocks of up to [`BLOCK`] bytes are gathered and scanned in parallel; a reader that has nothing
/// more for now says so with `io::ErrorKind::WouldBlock`, and what it gave is scanned at once (a
/// live `docker logs -f`). An error of `on_block` (the output is closed) ends the scan and is
/// returned as `Err`. A read error ends the stream but keeps what was read before it: it comes
/// back beside the aggregation.
pub fn scan_stream<R: Read>(
    matcher: &Matcher,
    reader: R,
    source: u32,
    opts: &ScanOptions,
    on_block: impl FnMut(&Aggregation, &[MatchEvent], bool) -> io::Result<()>,
) -> io::Result<(Aggregation, Option<io::Error>)> {
    scan_stream_with(matcher, reader, source, opts, true, on_block)
}

/// [`scan_stream`], choosing whether blocks are split across threads. A stream read while other
/// inputs keep the threads busy scans its blocks on its own thread: a nested split would leave the
/// thread waiting for a chunk another thread stole, while that thread's own stream waits too.
fn scan_stream_with<R: Read>(
    matcher: &Matcher,
    mut reader: R,
    source: u32,
    opts: &ScanOptions,
    split_blocks: bool,
    mut on_block: impl FnMut(&Aggregation, &[MatchEvent], bool) -> io::Result<()>,
) -> io::Result<(Aggregation, Option<io::Error>)> {
    let mut buf: Vec<u8> = vec![0; BLOCK];
    let mut len = 0usize;
    let mut lines_before = 0u64;
    let mut bytes = 0u64;
    let mut total = Aggregation::default();
    let mut last_unterminated = false;
    let mut read_error = None;
    loop {
        let (mut eof, mut idle) = (false, false);
        while len < buf.len() {
            match reader.read(&mut buf[len..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    bytes += n as u64;
                    len += n;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    idle = true;
                    break;
                }
                Err(e) => {
                    read_error = Some(e);
                    eof = true;
                    break;
                }
            }
        }
        let cut = if eof {
            len
        } else {
            match memrchr(b'\n', &buf[..len]) {
                Some(nl) => end_before_parts(&buf[..len], nl + 1),
                None => 0,
            }
        };
        if cut > 0 {
            let chunk = if split_blocks {
                (cut / (rayon::current_num_threads() * 2)).max(BLOCK_CHUNK)
            } else {
                cut
            };
            let p = scan_parallel(
                matcher,
                &buf[..cut],
                source,
                lines_before + 1,
                opts,
                chunk,
                &|_| {},
            );
            lines_before += p.newlines;
            last_unterminated = !buf[..cut].ends_with(b"\n");
            total.merge(p.agg);
            on_block(&total, &p.events, false)?;
            buf.copy_within(cut..len, 0);
            len -= cut;
            if buf.len() > BLOCK && len < BLOCK {
                buf.truncate(BLOCK);
                buf.shrink_to(BLOCK);
            }
        } else if len == buf.len() {
            if buf.len() < MAX_LINE {
                // A line longer than the buffer: make room for it.
                buf.resize((buf.len() * 2).min(MAX_LINE), 0);
            } else {
                // A line longer than MAX_LINE: scan what we have as a piece of it.
                let p = scan_piece(matcher, &buf[..len], source, lines_before, opts);
                lines_before += p.newlines;
                total.merge(p.agg);
                on_block(&total, &p.events, false)?;
                len = 0;
                last_unterminated = true;
            }
        }
        if idle {
            on_block(&total, &[], true)?;
        }
        if eof {
            break;
        }
    }
    total.stats.bytes = bytes;
    total.stats.lines = lines_before + u64::from(last_unterminated);
    total.stats.sources = 1;
    Ok((total, read_error))
}

fn scan_piece(
    matcher: &Matcher,
    buf: &[u8],
    source: u32,
    lines_before: u64,
    opts: &ScanOptions,
) -> Partial {
    scan_chunk(matcher, buf, source, lines_before + 1, opts)
}

/// An input named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input.
    Stdin,
    /// A file, a directory or an archive.
    Path(std::path::PathBuf),
}

/// Receives a scan's progress: new events as they are found, and the inputs that failed.
pub trait Sink {
    /// Called after each block of a stream, and once after each static input: `agg` is the
    /// current input's aggregation so far, `events` the failing lines found since the last call
    /// (only when events were asked for), `idle` whether a live input has gone quiet.
    fn progress(
        &mut self,
        sources: &[String],
        agg: &Aggregation,
        events: &[MatchEvent],
        idle: bool,
    ) -> io::Result<()>;
    /// Something could not be read (`error`), or was cut short by a safety limit (a warning); the
    /// scan goes on with the rest.
    fn problem(&mut self, source: &str, message: &str, error: bool);
}

/// How a run reads its inputs.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Events and time window.
    pub scan: ScanOptions,
    /// Safety limits for archives.
    pub limits: crate::source::bundle::Limits,
    /// Scan binary files too.
    pub text: bool,
}

/// What one file (and everything inside it) gave.
#[derive(Default)]
struct FileResult {
    sources: Vec<String>,
    agg: Aggregation,
    events: Vec<MatchEvent>,
    problems: Vec<(String, String, bool)>,
}

struct Collect<'a> {
    matcher: &'a Matcher,
    opts: &'a ScanOptions,
    interrupted: &'a AtomicBool,
    progress: &'a (dyn Fn(u64, u64) + Sync),
    /// Whether stream blocks may be split across threads (fewer inputs than threads).
    split_blocks: bool,
    result: FileResult,
}

impl crate::source::bundle::Visitor for Collect<'_> {
    fn content(
        &mut self,
        name: &str,
        content: crate::source::bundle::Content<'_>,
    ) -> io::Result<()> {
        if self.interrupted.load(Ordering::Relaxed) {
            return Ok(());
        }
        let source = self.result.sources.len() as u32;
        self.result.sources.push(name.to_string());
        let (agg, error) = match content {
            crate::source::bundle::Content::Static(bytes) => {
                let progress = self.progress;
                let p = scan_static_reporting(self.matcher, bytes, source, self.opts, &|n| {
                    progress(n, 0)
                });
                progress(0, 1);
                self.result.events.extend(p.events);
                (p.agg, None)
            }
            crate::source::bundle::Content::Stream(reader) => {
                let mut done = 0u64;
                let events = &mut self.result.events;
                let progress = self.progress;
                let (agg, error) = scan_stream_with(
                    self.matcher,
                    reader,
                    source,
                    self.opts,
                    self.split_blocks,
                    |agg, ev, _| {
                        events.extend_from_slice(ev);
                        progress(agg.stats.bytes.saturating_sub(done), 0);
                        done = agg.stats.bytes;
                        Ok(())
                    },
                )?;
                progress(agg.stats.bytes.saturating_sub(done), 1);
                (agg, error)
            }
        };
        self.result.agg.merge(agg);
        match error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn problem(&mut self, name: &str, message: String, error: bool) {
        if error {
            self.result.agg.stats.errors += 1;
        } else {
            self.result.agg.stats.limited += 1;
        }
        self.result
            .problems
            .push((name.to_string(), message, error));
    }

    fn binary(&mut self, _name: &str) {
        self.result.agg.stats.binary_skipped += 1;
    }

    fn member(&mut self) {
        self.result.agg.stats.members += 1;
    }

    fn fork(&self) -> Self {
        Collect {
            matcher: self.matcher,
            opts: self.opts,
            interrupted: self.interrupted,
            progress: self.progress,
            // Members already run in parallel: their blocks stay on their thread.
            split_blocks: false,
            result: FileResult::default(),
        }
    }

    fn join(&mut self, forked: Self) {
        let mut r = forked.result;
        r.renumber(self.result.sources.len() as u32);
        self.result.sources.append(&mut r.sources);
        self.result.events.append(&mut r.events);
        self.result.problems.append(&mut r.problems);
        self.result.agg.merge(r.agg);
    }
}

impl FileResult {
    /// Numbers this result's sources from `offset` on (they were numbered from 0).
    fn renumber(&mut self, offset: u32) {
        self.agg.shift_sources(offset);
        for e in &mut self.events {
            e.pos.source += offset;
        }
    }
}

/// Scans every input: files, directories (recursively) and archives in parallel, standard input
/// as a live stream. The report is the same whatever the thread timing: results are merged in the
/// order the inputs were named and directories list their entries by name. `progress` is told
/// the bytes read and the sources finished as they happen (for a progress bar). Errors of the sink itself (a closed stdout)
/// stop the scan and are returned.
pub fn scan_inputs(
    matcher: &Matcher,
    inputs: &[Input],
    opts: &RunOptions,
    interrupted: &Arc<AtomicBool>,
    progress: &(dyn Fn(u64, u64) + Sync),
    sink: &mut dyn Sink,
) -> io::Result<(Aggregation, Vec<String>)> {
    let mut total = Aggregation::default();
    let mut sources: Vec<String> = Vec::new();
    let opener = crate::source::bundle::Opener::new(opts.limits.clone(), opts.text);
    let items = crate::source::expand(inputs, &mut |name, message| {
        total.stats.errors += 1;
        sink.problem(name, message, true);
    });
    // Runs of files are scanned in parallel; standard input, where named, in its place.
    let mut rest: &[crate::source::Item] = &items;
    while !rest.is_empty() {
        if interrupted.load(Ordering::Relaxed) {
            break;
        }
        if rest[0] == crate::source::Item::Stdin {
            let source = sources.len() as u32;
            sources.push("<stdin>".to_string());
            let reader = crate::source::stdin::StdinReader::spawn(interrupted.clone());
            let (agg, error) =
                scan_stream(matcher, reader, source, &opts.scan, |agg, ev, idle| {
                    sink.progress(&sources, agg, ev, idle)
                })?;
            total.merge(agg);
            if let Some(e) = error {
                total.stats.errors += 1;
                sink.problem("<stdin>", &e.to_string(), true);
            }
            rest = &rest[1..];
            continue;
        }
        let run = rest
            .iter()
            .take_while(|i| **i != crate::source::Item::Stdin)
            .count();
        let results: Vec<FileResult> = rest[..run]
            .par_iter()
            .map(|item| {
                let crate::source::Item::File { path, name } = item else {
                    unreachable!("runs hold files only")
                };
                let mut collect = Collect {
                    matcher,
                    opts: &opts.scan,
                    interrupted,
                    progress,
                    split_blocks: run < rayon::current_num_threads(),
                    result: FileResult::default(),
                };
                opener.visit_file(path, name, &mut collect);
                collect.result
            })
            .collect();
        for mut r in results {
            r.renumber(sources.len() as u32);
            sources.append(&mut r.sources);
            sink.progress(&sources, &r.agg, &r.events, false)?;
            for (name, message, error) in &r.problems {
                sink.problem(name, message, *error);
            }
            total.merge(r.agg);
        }
        rest = &rest[run..];
    }
    Ok((total, sources))
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

    const EVENTS: ScanOptions = ScanOptions {
        events: true,
        since: None,
        until: None,
    };

    fn corpus() -> Vec<u8> {
        let lines = [
            r#"{"level":"info","ts":"2025-10-14T09:15:00.000Z","msg":"completed fetching node_stats metricset"}"#,
            r#"{"level":"error","ts":"2025-10-14T09:15:03.512Z","msg":"failed to register Cloud Connected Mode: Post \"https://api.elastic-cloud.com/api/v1/cloud-connected/clusters\": proxyconnect tcp: dial tcp 10.0.0.8:3128: connect: connection refused"}"#,
            "plain healthy line",
            r#"{"level":"info","ts":"2025-10-14T09:15:04.000Z","msg":"Exporting failed. Will retry the request after interval.","error":"failed to make an HTTP request: Post \"https://otel-auto-ops.eu-west-1.aws.svc.elastic.cloud/v1/logs\": dial tcp: lookup otel-auto-ops.eu-west-1.aws.svc.elastic.cloud on 127.0.0.11:53: no such host"}"#,
            "2025-10-14T09:15:05.000000000Z stderr P {\"level\":\"error\",\"msg\":\"Exporting failed. Dropping",
            "2025-10-14T09:15:05.000000000Z stderr F  data.\",\"error\":\"no more retries left: context deadline exceeded\"}",
            "",
            // One zap line that Docker split in three (16 KiB pieces in real life), the anchor cut
            // across the pieces: `may_be_part` keeps chunk boundaries away from them, as from CRI
            // `P` parts.
            r#"{"log":"{\"level\":\"error\",\"msg\":\"Exporting failed. Dro","stream":"stderr","time":"2025-10-14T09:15:06Z"}"#,
            r#"{"log":"pping data.\",\"error\":\"dial tcp: lookup otel-auto-ops.eu-west-1.aws.svc.elastic.cloud: no such ","stream":"stderr","time":"2025-10-14T09:15:06Z"}"#,
            r#"{"log":"host\"}\n","stream":"stderr","time":"2025-10-14T09:15:06Z"}"#,
        ];
        let mut buf = Vec::new();
        for i in 0..40 {
            buf.extend_from_slice(lines[i % lines.len()].as_bytes());
            buf.push(b'\n');
        }
        buf.extend_from_slice(lines[1].as_bytes()); // no final newline
        buf
    }

    #[test]
    fn chunked_parallel_scan_equals_one_sequential_scan() {
        let m = Matcher::new(crate::rules::RuleSet::builtin().unwrap());
        let buf = corpus();
        let whole = scan_chunk(&m, &buf, 0, 1, &EVENTS);
        assert!(whole.agg.stats.failures > 10, "{:?}", whole.agg.stats);
        // Chunk sizes that cut lines everywhere, including inside failing lines.
        for chunk in [1, 7, 64, 150, 333, 1000, buf.len()] {
            let p = scan_static_with(&m, &buf, 0, &EVENTS, chunk);
            let mut want = whole.agg.clone();
            want.stats.bytes = buf.len() as u64;
            want.stats.lines = 41;
            want.stats.sources = 1;
            assert_eq!(p.agg, want, "chunk size {chunk}");
            assert_eq!(p.events, whole.events, "chunk size {chunk}");
        }
    }

    #[test]
    fn stream_scan_equals_static_scan() {
        let m = Matcher::new(crate::rules::RuleSet::builtin().unwrap());
        let buf = corpus();
        let want = scan_static(&m, &buf, 0, &EVENTS);
        // A reader that hands out 5 bytes at a time.
        struct Slow<'a>(&'a [u8]);
        impl Read for Slow<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = out.len().min(5).min(self.0.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut events = Vec::new();
        let (agg, error) = scan_stream(&m, Slow(&buf), 0, &EVENTS, |_, ev, _| {
            events.extend_from_slice(ev);
            Ok(())
        })
        .unwrap();
        assert!(error.is_none());
        assert_eq!(agg, want.agg);
        assert_eq!(events, want.events);
    }

    #[test]
    fn cri_partial_lines_are_joined() {
        let m = Matcher::new(crate::rules::RuleSet::builtin().unwrap());
        let buf = corpus();
        let p = scan_chunk(&m, &buf, 0, 1, &EVENTS);
        let joined = p
            .events
            .iter()
            .find(|e| e.pos.line == 5)
            .expect("the P+F pair starting at line 5 is one failing line");
        assert_eq!(joined.component, Component::Export);
        assert_eq!(joined.cause, "timeout");
        assert!(
            !p.events.iter().any(|e| e.pos.line == 6),
            "the F part is not counted again"
        );
    }

    #[test]
    fn docker_split_lines_are_joined() {
        let m = Matcher::new(crate::rules::RuleSet::builtin().unwrap());
        // One zap line that Docker split in three, the anchor cut across the pieces.
        let buf = concat!(
            r#"{"log":"healthy\n","stream":"stderr","time":"2025-10-14T09:15:00Z"}"#,
            "\n",
            r#"{"log":"{\"level\":\"error\",\"msg\":\"Exporting failed. Dro","stream":"stderr","time":"2025-10-14T09:15:05Z"}"#,
            "\n",
            r#"{"log":"pping data.\",\"error\":\"no more retries left: dial tcp: lookup otel-auto-ops.eu-west-1.aws.svc.elastic.cloud: no such ","stream":"stderr","time":"2025-10-14T09:15:05Z"}"#,
            "\n",
            r#"{"log":"host\"}\n","stream":"stderr","time":"2025-10-14T09:15:05Z"}"#,
            "\n",
        );
        let p = scan_chunk(&m, buf.as_bytes(), 0, 1, &EVENTS);
        assert_eq!(p.events.len(), 1, "{:?}", p.events);
        assert_eq!(p.events[0].pos.line, 2);
        assert_eq!(p.events[0].component, Component::Export);
        assert_eq!(p.events[0].cause, "dns");
    }

    #[test]
    fn cri_lines_are_recognised() {
        assert!(is_cri(b"2025-10-14T09:15:03.512Z stderr P part"));
        assert!(is_cri(b"2025-10-14T09:15:03.512Z stdout F whole"));
        assert!(!is_cri(b"2025-10-14T09:15:03.512Z whatever"));
    }
}
