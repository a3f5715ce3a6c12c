//! Drivers: the I/O and scheduling around the one pipeline (framer → scanner → aggregation →
//! observers). [`batch`] reads files, directories and archives, several at once and each mapped
//! file in parallel chunks, and hands results to the observer in input order; [`live`] reads
//! standard input as it arrives and tells the observer at once. Both cut blocks with the same
//! [`Framer`](crate::scan::Framer), scan them with the same [`scan_block`](crate::scan::scan_block)
//! and merge them into one [`Aggregation`], whose deltas the observer receives.

mod batch;
mod live;
mod watch;

pub use watch::{watch, WatchOptions};

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rayon::prelude::*;

use crate::findings::{Aggregation, Source};
use crate::matcher::Matcher;
use crate::report::{Observer, Render};
use crate::scan::{chunk_bounds, Collector, EventCache, Framer, ScanOptions};
use crate::source::{Input, Item};

/// How much of a stream is gathered before it is scanned (unless the stream has no more for now):
/// big enough to be split across the cores, small enough to keep memory flat.
pub const BLOCK: usize = 8 << 20;
/// The smallest chunk of a parallel scan of a mapped file.
const CHUNK: usize = 8 << 20;
/// The largest chunk of a parallel scan of a mapped file.
const MAX_CHUNK: usize = 64 << 20;
/// The smallest chunk when a stream block is split across threads.
const BLOCK_CHUNK: usize = 1 << 20;
/// The chunk of a mapped file when events are kept: results go out chunk by chunk
/// ([`scan_ordered`]), so that a closed output stops the work early and events do not pile up.
/// Since a chunk's samples take their values from its event lines rather than capturing them
/// again, 8, 16 and 32 MiB take the same time on a 1 GiB storm (1.275, 1.294, 1.291 s).
const EVENT_CHUNK: usize = 16 << 20;

/// How a run reads its inputs.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The time window.
    pub scan: ScanOptions,
    /// Keep a match event per failing line (observers that print every line want them).
    pub events: bool,
    /// Keep each match event's line as read, masked (ECS's `event.original`).
    pub raw: bool,
    /// Safety limits for archives.
    pub limits: crate::source::bundle::Limits,
    /// Scan binary files too.
    pub text: bool,
}

/// What every driver shares.
struct Ctx<'a> {
    matcher: &'a Matcher,
    opts: &'a RunOptions,
    /// Set by Ctrl-C, or when the output is closed: stop reading, keep what was read.
    cancel: &'a AtomicBool,
    /// What a progress bar shows; called from any thread.
    progress: &'a (dyn Fn(Progress) + Sync),
    /// The lines of recent match events, for identical lines in any chunk or block to share.
    cache: Arc<EventCache>,
    /// How the observer renders a new event line, done by the threads that scan.
    render: Option<Render>,
}

/// What a driver tells a progress bar as it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The size of the named files together, once they are listed: what `Read` adds up to.
    Total(u64),
    /// This many more bytes of the named files were read (compressed bytes for an archive).
    Read(u64),
    /// This many more bytes of text were scanned (decompressed).
    Scanned(u64),
    /// One more input is finished.
    Done,
}

impl Ctx<'_> {
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// Reads every input and returns the aggregation of all of them. Files, directories and archives
/// are read in parallel and reported in the order they were named (directories list their
/// entries by name), standard input as a live stream in its place. The observer sees events,
/// deltas and problems as they happen; an error of the observer (a closed output) stops the run
/// and is returned. `cancel` (Ctrl-C) ends the run early with what was read.
pub fn run(
    matcher: &Matcher,
    inputs: &[Input],
    opts: &RunOptions,
    cancel: &Arc<AtomicBool>,
    progress: &(dyn Fn(Progress) + Sync),
    observer: &mut dyn Observer,
) -> io::Result<Aggregation> {
    let ctx = Ctx {
        matcher,
        opts,
        cancel,
        progress,
        cache: Arc::default(),
        render: observer.render(),
    };
    let mut total = Aggregation::default();
    let items = crate::source::expand(inputs, &mut |name, message| {
        total.stats.errors += 1;
        observer.problem(name, message, true);
    });
    if !items.contains(&Item::Stdin) {
        let size = |i: &Item| match i {
            Item::File { path, .. } => std::fs::metadata(path).map_or(0, |m| m.len()),
            Item::Stdin => 0,
        };
        progress(Progress::Total(items.iter().map(size).sum()));
    }
    let mut rest: &[Item] = &items;
    while !rest.is_empty() && !ctx.cancelled() {
        if rest[0] == Item::Stdin {
            let source = Source::new("<stdin>", total.stats.sources as u32);
            let mut reader = crate::source::stdin::StdinReader::spawn(cancel.clone());
            let head = peek(&mut reader, 4);
            let reader = io::Cursor::new(head.clone()).chain(reader);
            if head.starts_with(&[0x1f, 0x8b]) {
                // `cat agent.log.gz | faultline`: decompressed as it comes.
                let gz = flate2::read::MultiGzDecoder::new(Waiting(reader));
                live::scan_stdin(&ctx, gz, &source, &mut total, observer)?;
            } else if let Some(le) = crate::source::utf16::bom(&head) {
                // What Windows PowerShell 5.1 `>` writes.
                let text = crate::source::utf16::Utf16Reader::new(Waiting(reader), le);
                live::scan_stdin(&ctx, text, &source, &mut total, observer)?;
            } else if head.starts_with(b"PK\x03\x04") {
                total.stats.errors += 1;
                observer.problem(
                    "<stdin>",
                    "standard input holds a zip archive, which can only be read from a file: \
                     name it instead (faultline scan bundle.zip)",
                    true,
                );
            } else {
                live::scan_stdin(&ctx, reader, &source, &mut total, observer)?;
            }
            rest = &rest[1..];
            continue;
        }
        let run = rest.iter().take_while(|i| **i != Item::Stdin).count();
        batch::scan_files(&ctx, &rest[..run], &mut total, observer)?;
        rest = &rest[run..];
    }
    Ok(total)
}

/// Reads at least `n` bytes of a live reader (fewer at its end), waiting for them.
fn peek(reader: &mut impl Read, n: usize) -> Vec<u8> {
    let mut head = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match reader.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if not_yet(&e) => {}
            Err(_) => break,
        }
    }
    head.truncate(got);
    head
}

/// Whether a live reader's error only means "nothing yet": read again.
fn not_yet(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// A live reader made blocking (for a decompressor, which has no use for "nothing yet").
struct Waiting<R>(R);

impl<R: Read> Read for Waiting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.0.read(buf) {
                Err(e) if not_yet(&e) => {}
                r => return r,
            }
        }
    }
}

/// Hands a part of the input's results to the observer and merges it into the total: events
/// first, then the deltas the merge caused.
fn deliver(
    mut part: Collector,
    total: &mut Aggregation,
    observer: &mut dyn Observer,
    cache: &EventCache,
) -> io::Result<()> {
    if let Some(events) = part.events.take() {
        if !events.is_empty() {
            observer.matched(&events)?;
        }
        // Dropped by a scanning thread: see `EventCache::bury`.
        cache.bury(events);
    }
    let deltas = total.merge(part.agg);
    total.seal();
    if !deltas.is_empty() {
        observer.changed(&deltas, total)?;
    }
    Ok(())
}

/// Scans `buf[s..e]`, a chunk of complete lines, numbering lines from `first`. Returns its
/// results (counts included) and its newline count.
fn scan_chunk(
    ctx: &Ctx<'_>,
    buf: &[u8],
    (s, e): (usize, usize),
    first: u64,
    source: &Source,
) -> (Collector, u64) {
    ctx.cache.sweep();
    let mut c = Collector::new(ctx.opts.events)
        .with_raw(ctx.opts.raw)
        .with_cache(&ctx.cache);
    // A name of its own for each chunk: every failing line clones its source into the
    // aggregation, and threads sharing one reference count would fight over its cache line.
    let source = Source::new(&source.name, source.ord);
    let counts = crate::scan::scan_block(
        ctx.matcher,
        &buf[s..e],
        &source,
        first,
        &ctx.opts.scan,
        &mut c,
    );
    counts.add_to(&mut c.agg);
    if let (Some(render), Some(events)) = (ctx.render, &c.events) {
        for e in events {
            e.line
                .rendered
                .get_or_init(|| render(ctx.matcher.rules(), &e.line));
        }
    }
    (c, counts.newlines)
}

/// Moves a chunk's results, its lines numbered from 1, after the `lines_before` lines before it.
fn shift(part: &mut Collector, lines_before: u64) {
    part.agg.shift_lines(lines_before);
    for e in part.events.iter_mut().flatten() {
        e.at.line += lines_before;
    }
}

/// Scans a buffer of complete lines in line-aligned chunks of about `chunk` bytes on the thread
/// pool, numbering lines from `first_line`, and merges the chunks in input order: the result is
/// the same as one sequential scan. Returns it with the buffer's newline count. `scanned` hears
/// of each chunk's size when it is done (for a progress bar).
fn scan_parallel(
    ctx: &Ctx<'_>,
    buf: &[u8],
    source: &Source,
    first_line: u64,
    chunk: usize,
    scanned: &(dyn Fn(u64) + Sync),
) -> (Collector, u64) {
    let bounds = chunk_bounds(buf, chunk);
    let scan = |s: usize, e: usize, first: u64| {
        let part = scan_chunk(ctx, buf, (s, e), first, source);
        scanned((e - s) as u64);
        part
    };
    if bounds.len() <= 1 {
        return scan(0, buf.len(), first_line);
    }
    let parts: Vec<(Collector, u64)> = bounds.par_iter().map(|&(s, e)| scan(s, e, 1)).collect();
    let mut total = Collector::new(ctx.opts.events).with_raw(ctx.opts.raw);
    let mut lines_before = first_line - 1;
    for (mut p, newlines) in parts {
        shift(&mut p, lines_before);
        if let (Some(all), Some(events)) = (&mut total.events, p.events) {
            all.extend(events);
        }
        lines_before += newlines;
        total.agg.merge(p.agg);
    }
    (total, lines_before - (first_line - 1))
}

/// Where [`scan_ordered`] stands.
struct Order {
    /// The chunk whose results go out next.
    next: usize,
    /// Results done before those of the chunks ahead of them.
    held: std::collections::BTreeMap<usize, (Collector, u64)>,
    /// The lines of the chunks handed on.
    lines_before: u64,
    /// Stop: the run is cancelled, or a scanning thread panicked.
    stop: bool,
}

/// Scans the line-aligned chunks `bounds` of `buf` on the thread pool, lines numbered from 1, and
/// hands each chunk's results to `emit` (with its newline count and size) in input order as soon
/// as it and every chunk before it are done. A thread takes the next chunk as soon as it is done
/// with one (nobody waits for a batch of chunks to end, as a parallel iterator over a batch
/// would), unless it would be `ahead` chunks past the oldest one not handed on: that bounds the
/// results held. `scanned` hears of each chunk's size when it is done.
fn scan_ordered(
    ctx: &Ctx<'_>,
    buf: &[u8],
    source: &Source,
    bounds: &[(usize, usize)],
    ahead: usize,
    scanned: &(dyn Fn(u64) + Sync),
    emit: &(dyn Fn(Collector, u64, u64) + Sync),
) {
    use std::sync::atomic::AtomicUsize;
    use std::sync::{Condvar, Mutex, MutexGuard};
    fn lock(m: &Mutex<Order>) -> MutexGuard<'_, Order> {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// Stops the other threads if this one unwinds: they would wait for its chunk forever.
    struct StopOnPanic<'a>(&'a Mutex<Order>, &'a Condvar);
    impl Drop for StopOnPanic<'_> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                lock(self.0).stop = true;
                self.1.notify_all();
            }
        }
    }
    let order = Mutex::new(Order {
        next: 0,
        held: std::collections::BTreeMap::new(),
        lines_before: 0,
        stop: false,
    });
    let room = Condvar::new();
    let taken = AtomicUsize::new(0);
    let work = || {
        let _guard = StopOnPanic(&order, &room);
        loop {
            let i = taken.fetch_add(1, Ordering::Relaxed);
            let Some(&(s, e)) = bounds.get(i) else {
                break;
            };
            {
                let mut o = lock(&order);
                while i >= o.next + ahead && !o.stop {
                    o = room.wait(o).unwrap_or_else(|e| e.into_inner());
                }
                if o.stop || ctx.cancelled() {
                    // A chunk taken and left: the threads waiting for it must not wait.
                    o.stop = true;
                    room.notify_all();
                    break;
                }
            }
            let (part, newlines) = scan_chunk(ctx, buf, (s, e), 1, source);
            scanned((e - s) as u64);
            let mut o = lock(&order);
            o.held.insert(i, (part, newlines));
            let was = o.next;
            loop {
                let next = o.next;
                let Some((mut part, newlines)) = o.held.remove(&next) else {
                    break;
                };
                let (s, e) = bounds[next];
                shift(&mut part, o.lines_before);
                o.lines_before += newlines;
                o.next += 1;
                emit(part, newlines, (e - s) as u64);
            }
            if o.next != was {
                room.notify_all();
            }
        }
    };
    rayon::in_place_scope(|scope| {
        for _ in 1..rayon::current_num_threads().min(bounds.len()) {
            scope.spawn(|_| work());
        }
        work();
    });
}

/// What filling a framer from a reader ended with.
#[derive(Debug, Default)]
struct Fill {
    /// The reader has no more.
    eof: bool,
    /// A live reader had nothing for a while.
    idle: bool,
    /// The read error that ended the stream (what was read before it counts).
    error: Option<io::Error>,
}

/// Reads into the framer until a block is due (a [`BLOCK`] of complete lines, or a piece of an
/// overlong line), the reader has nothing more for now (`WouldBlock`), reports a pause
/// (`TimedOut`), or ends. Returns the bytes read and how it ended.
fn fill(framer: &mut Framer, reader: &mut dyn Read, block: usize) -> (u64, Fill) {
    let mut bytes = 0u64;
    let mut fill = Fill::default();
    loop {
        if framer.pending() >= block && framer.take(false).is_some() {
            break;
        }
        match reader.read(framer.spare()) {
            Ok(0) => {
                fill.eof = true;
                break;
            }
            Ok(n) => {
                bytes += n as u64;
                framer.filled(n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                fill.idle = true;
                break;
            }
            Err(e) => {
                fill.error = Some(e);
                fill.eof = true;
                break;
            }
        }
    }
    (bytes, fill)
}

/// Scans every block the framer has ready (all that is held at the end of input), splitting a
/// block across threads when `split`, and hands each block's results to `emit`.
fn scan_ready(
    ctx: &Ctx<'_>,
    framer: &mut Framer,
    source: &Source,
    eof: bool,
    split: bool,
    emit: &mut dyn FnMut(Collector) -> io::Result<()>,
) -> io::Result<()> {
    while let Some(block) = framer.take(eof) {
        let buf = &framer.buffered()[..block.len];
        let chunk = if split {
            (buf.len() / (rayon::current_num_threads() * 2)).max(BLOCK_CHUNK)
        } else {
            buf.len()
        };
        let (mut part, newlines) = scan_parallel(ctx, buf, source, block.at.line, chunk, &|_| {});
        part.agg.stats.bytes = block.len as u64;
        part.agg.stats.lines = newlines;
        framer.advance(block, newlines);
        emit(part)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::tests::corpus;
    use crate::scan::Collector;

    pub(super) fn ctx_run<T>(events: bool, f: impl FnOnce(&Ctx<'_>) -> T) -> T {
        ctx_rendering(events, None, f)
    }

    /// [`ctx_run`] with an observer's rendering.
    fn ctx_rendering<T>(events: bool, render: Option<Render>, f: impl FnOnce(&Ctx<'_>) -> T) -> T {
        let matcher = crate::scan::tests::matcher();
        let opts = RunOptions {
            events,
            ..RunOptions::default()
        };
        let cancel = AtomicBool::new(false);
        let ctx = Ctx {
            matcher: &matcher,
            opts: &opts,
            cancel: &cancel,
            progress: &|_| {},
            cache: Arc::default(),
            render,
        };
        f(&ctx)
    }

    /// One sequential scan of the whole buffer.
    fn whole(ctx: &Ctx<'_>, buf: &[u8]) -> Collector {
        let (c, _) = scan_parallel(ctx, buf, &Source::new("t", 0), 1, usize::MAX, &|_| {});
        c
    }

    #[test]
    fn chunked_parallel_scan_equals_one_sequential_scan() {
        ctx_run(true, |ctx| {
            let buf = corpus();
            let want = whole(ctx, &buf);
            assert!(want.agg.stats.failures > 10, "{:?}", want.agg.stats);
            for chunk in [1, 7, 64, 150, 333, 1000, buf.len()] {
                let (got, newlines) =
                    scan_parallel(ctx, &buf, &Source::new("t", 0), 1, chunk, &|_| {});
                assert_eq!(newlines, 48, "chunk size {chunk}");
                assert_eq!(got.agg, want.agg, "chunk size {chunk}");
                assert_eq!(got.events, want.events, "chunk size {chunk}");
            }
        });
    }

    #[test]
    fn the_observers_rendering_is_made_by_the_scanning_threads_once_values_are_captured() {
        fn render(_: &crate::rules::RuleSet, line: &crate::scan::EventLine) -> Vec<u8> {
            let mut out = line.text.as_bytes().to_vec();
            for (name, value) in line.values().iter() {
                out.extend_from_slice(format!(" {name}={value}").as_bytes());
            }
            out
        }
        ctx_rendering(true, Some(render), |ctx| {
            let buf = corpus();
            let (c, _) = scan_parallel(ctx, &buf, &Source::new("t", 0), 1, 100, &|_| {});
            let events = c.events.unwrap();
            assert!(events.len() > 10);
            let mut with_values = 0;
            for e in &events {
                assert_eq!(
                    e.line.rendered.get(),
                    Some(&render(ctx.matcher.rules(), &e.line))
                );
                with_values += usize::from(!e.line.values().is_empty());
            }
            assert!(with_values > 0);
        });
    }

    /// Runs `f` on a pool of `threads` threads.
    fn on_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(f)
    }

    /// What [`scan_ordered`] hands on, in the order it does: (chunk size, newlines, results).
    fn ordered(
        ctx: &Ctx<'_>,
        buf: &[u8],
        chunk: usize,
        ahead: usize,
    ) -> Vec<(u64, u64, Collector)> {
        let bounds = chunk_bounds(buf, chunk);
        let got = std::sync::Mutex::new(Vec::new());
        scan_ordered(
            ctx,
            buf,
            &Source::new("t", 0),
            &bounds,
            ahead,
            &|_| {},
            &|part, newlines, size| {
                got.lock().unwrap().push((size, newlines, part));
            },
        );
        got.into_inner().unwrap()
    }

    #[test]
    fn ordered_scan_hands_chunks_on_in_input_order_as_one_sequential_scan() {
        ctx_run(true, |ctx| {
            let buf = corpus();
            let want = whole(ctx, &buf);
            for threads in [1, 2, 3, 5] {
                for (chunk, ahead) in [(1, 1), (7, 2), (64, 1), (150, 4), (buf.len(), 2)] {
                    let got = on_pool(threads, || ordered(ctx, &buf, chunk, ahead));
                    let bounds = chunk_bounds(&buf, chunk);
                    let sizes: Vec<u64> = got.iter().map(|(size, _, _)| *size).collect();
                    let want_sizes: Vec<u64> = bounds.iter().map(|(s, e)| (e - s) as u64).collect();
                    assert_eq!(sizes, want_sizes, "{threads} threads, chunk {chunk}");
                    assert_eq!(got.iter().map(|(_, n, _)| n).sum::<u64>(), 48);
                    let mut total = Collector::new(true);
                    for (_, _, part) in got {
                        total.events.as_mut().unwrap().extend(part.events.unwrap());
                        total.agg.merge(part.agg);
                    }
                    assert_eq!(total.agg, want.agg, "{threads} threads, chunk {chunk}");
                    assert_eq!(
                        total.events, want.events,
                        "{threads} threads, chunk {chunk}"
                    );
                }
            }
        });
    }

    #[test]
    fn a_cancelled_ordered_scan_stops_and_hands_on_only_a_prefix() {
        ctx_run(true, |ctx| {
            let buf = corpus().repeat(50);
            let bounds = chunk_bounds(&buf, 100);
            assert!(bounds.len() > 100);
            for threads in [1, 2, 4] {
                ctx.cancel.store(false, Ordering::Relaxed);
                let handed = std::sync::atomic::AtomicUsize::new(0);
                on_pool(threads, || {
                    scan_ordered(
                        ctx,
                        &buf,
                        &Source::new("t", 0),
                        &bounds,
                        2,
                        &|_| {},
                        &|_, _, _| {
                            // The output is closed after the tenth chunk.
                            if handed.fetch_add(1, Ordering::Relaxed) == 9 {
                                ctx.cancel.store(true, Ordering::Relaxed);
                            }
                        },
                    );
                });
                let handed = handed.into_inner();
                // Each thread finishes the chunk it has, at most `ahead` past the last handed on.
                assert!(
                    (10..10 + 2 * threads + 2).contains(&handed),
                    "{threads} threads: {handed}"
                );
            }
        });
    }

    /// A reader that hands out the sizes given, in turn, and says `WouldBlock` between reads
    /// now and then (a live pipe).
    pub(super) struct Trickle<'a> {
        data: &'a [u8],
        sizes: Vec<usize>,
        i: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.i += 1;
            if self.i % 3 == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = self.sizes[self.i % self.sizes.len()]
                .min(out.len())
                .min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// Reads `buf` through a [`Trickle`] of these sizes into a framer of `block` bytes, scanning
    /// every block as the live driver does; returns what was collected and the framer.
    pub(super) fn stream(
        ctx: &Ctx<'_>,
        buf: &[u8],
        sizes: Vec<usize>,
        block: usize,
    ) -> (Collector, Framer) {
        let mut reader = Trickle {
            data: buf,
            sizes,
            i: 0,
        };
        let mut framer = Framer::new(block);
        let mut total = Collector::new(true);
        loop {
            let (_, f) = fill(&mut framer, &mut reader, block);
            scan_ready(
                ctx,
                &mut framer,
                &Source::new("t", 0),
                f.eof,
                true,
                &mut |p| {
                    total.events.as_mut().unwrap().extend(p.events.unwrap());
                    total.agg.merge(p.agg);
                    Ok(())
                },
            )
            .unwrap();
            if f.eof {
                return (total, framer);
            }
        }
    }

    #[test]
    fn a_stream_read_in_any_pieces_equals_the_static_scan() {
        ctx_run(true, |ctx| {
            let buf = corpus();
            let want = whole(ctx, &buf);
            for (sizes, block) in [
                (vec![1], 64),
                (vec![5, 1, 300], 64),
                (vec![4096], 1 << 20),
                (vec![77, 13], 512),
            ] {
                let (total, framer) = stream(ctx, &buf, sizes.clone(), block);
                assert_eq!(framer.lines(), 49);
                let mut want_agg = want.agg.clone();
                want_agg.stats.bytes = buf.len() as u64;
                // Lines are the blocks' newlines (the driver adds the unterminated last one).
                want_agg.stats.lines = 48;
                assert_eq!(total.agg, want_agg, "sizes {sizes:?}");
                assert_eq!(total.events, want.events, "sizes {sizes:?}");
            }
        });
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Lines of every shape, failing and healthy, split and whole.
    const LINES: &[&str] = &[
        r#"{"level":"info","ts":"2025-10-14T09:15:00.000Z","msg":"completed fetching node_stats metricset"}"#,
        r#"{"level":"error","ts":"2025-10-14T09:15:03.512Z","msg":"failed to register Cloud Connected Mode: Post \"https://api.elastic-cloud.com/api/v1/cloud-connected/clusters\": proxyconnect tcp: dial tcp 10.0.0.8:3128: connect: connection refused"}"#,
        "plain healthy line",
        "",
        "2025-10-14T09:15:05.000000000Z stderr P {\"level\":\"error\",\"msg\":\"Exporting failed. Dropping",
        "2025-10-14T09:15:05.000000000Z stderr F  data.\",\"error\":\"no more retries left: context deadline exceeded\"}",
        r#"{"log":"{\"level\":\"error\",\"msg\":\"Exporting failed. Dro","stream":"stderr","time":"2025-10-14T09:15:06Z"}"#,
        r#"{"log":"pping data.\",\"error\":\"dial tcp: lookup otel-auto-ops.eu-west-1.aws.svc.elastic.cloud: no such host\"}\n","stream":"stderr","time":"2025-10-14T09:15:06Z"}"#,
        r#"{"level":"info","ts":"2025-10-14T09:15:09.000Z","msg":"Registered cluster abc for Cloud Connect"}"#,
        "agent-1  | 2025-10-14T09:15:07Z stderr P {\"level\":\"error\",\"msg\":\"failed to register Cloud",
        "agent-1  | 2025-10-14T09:15:07Z stderr F  Connected Mode: dial tcp: lookup api.elastic-cloud.com: no such host\"}",
        "\u{1b}[31mbinary \u{0} junk\r",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Any split of any input — read in any pieces, blocks of any size, chunks of any size —
        /// gives the findings, statuses and events of one pass.
        #[test]
        fn any_split_gives_the_same_findings(
            picks in proptest::collection::vec(0..LINES.len(), 1..120),
            sizes in proptest::collection::vec(1usize..400, 1..8),
            block in 1usize..2048,
            chunk in 1usize..4096,
        ) {
            let mut buf = Vec::new();
            for &p in &picks {
                buf.extend_from_slice(LINES[p].as_bytes());
                buf.push(b'\n');
            }
            let (whole, chunked, streamed) = super::tests::ctx_run(true, |ctx| {
                let source = Source::new("t", 0);
                let (whole, _) = scan_parallel(ctx, &buf, &source, 1, usize::MAX, &|_| {});
                let (chunked, _) = scan_parallel(ctx, &buf, &source, 1, chunk, &|_| {});
                let (streamed, _) = super::tests::stream(ctx, &buf, sizes, block);
                (whole, chunked, streamed)
            });
            prop_assert_eq!(&chunked.agg, &whole.agg);
            prop_assert_eq!(&chunked.events, &whole.events);
            let mut want = whole.agg.clone();
            want.stats.bytes = buf.len() as u64;
            want.stats.lines = picks.len() as u64;
            prop_assert_eq!(&streamed.agg, &want);
            prop_assert_eq!(&streamed.events, &whole.events);
        }
    }
}
