//! The batch driver: files, directories and archives. Inputs are read in parallel (rayon); each
//! mapped file or in-memory member is split into line-aligned chunks scanned in parallel, and
//! each stream (a decompressing member) is framed into blocks. Results travel to the calling
//! thread as they are ready and reach the observer in input order, so the output is the same
//! whatever the thread count, and a closed output stops the work early.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{channel, Sender};

use rayon::prelude::*;

use super::{
    deliver, fill, scan_ordered, scan_parallel, scan_ready, Ctx, Progress, BLOCK, CHUNK,
    EVENT_CHUNK, MAX_CHUNK,
};
use crate::findings::{Aggregation, Source};
use crate::report::Observer;
use crate::scan::{Collector, Framer};
use crate::source::bundle::{Content, Opener, Visitor};
use crate::source::Item;

/// What a reading thread sends about one input.
enum Msg {
    /// Results, with sources numbered from 0 within the input.
    Part(Box<Collector>),
    /// Something could not be read (`error`), or was cut short by a safety limit.
    Problem {
        name: String,
        message: String,
        error: bool,
    },
    /// Something the person running faultline should know (a file skipped as binary).
    Note(String),
    /// The input is finished.
    Done,
}

/// Scans a run of files (no standard input among them) into `total`.
pub(super) fn scan_files(
    ctx: &Ctx<'_>,
    files: &[Item],
    total: &mut Aggregation,
    observer: &mut dyn Observer,
) -> io::Result<()> {
    let opener = Opener::new(ctx.opts.limits.clone(), ctx.opts.text);
    let split_blocks = files.len() < rayon::current_num_threads();
    std::thread::scope(|s| {
        let (tx, rx) = channel::<(usize, Msg)>();
        let opener = &opener;
        s.spawn(move || {
            files
                .par_iter()
                .enumerate()
                .for_each_with(tx, |tx, (i, item)| {
                    if let (Item::File { path, name }, false) = (item, ctx.cancelled()) {
                        let mut v = FileVisitor {
                            ctx,
                            out: Out::Send(i, tx.clone()),
                            sources: 0,
                            split_blocks,
                        };
                        opener.visit_file_reporting(path, name, &mut v, &|n| {
                            (ctx.progress)(Progress::Read(n))
                        });
                    }
                    let _ = tx.send((i, Msg::Done));
                });
        });
        // Messages come in any order; they are handed on in input order.
        let mut next = 0usize;
        let mut held: BTreeMap<usize, VecDeque<Msg>> = BTreeMap::new();
        let mut base = total.stats.sources as u32;
        let mut item_sources = 0u32;
        let mut handle = |msg: Msg, total: &mut Aggregation| -> io::Result<bool> {
            match msg {
                Msg::Part(part) => {
                    let mut part = *part;
                    part.agg.shift_sources(base);
                    if let Some(events) = &mut part.events {
                        for e in events {
                            e.at.source.ord += base;
                        }
                    }
                    item_sources += part.agg.stats.sources as u32;
                    deliver(part, total, observer, &ctx.cache)?;
                    Ok(false)
                }
                Msg::Problem {
                    name,
                    message,
                    error,
                } => {
                    if error {
                        total.stats.errors += 1;
                    } else {
                        total.stats.limited += 1;
                    }
                    observer.problem(&name, &message, error);
                    Ok(false)
                }
                Msg::Note(note) => {
                    observer.note(&note);
                    Ok(false)
                }
                Msg::Done => {
                    base += item_sources;
                    item_sources = 0;
                    Ok(true)
                }
            }
        };
        let result = (|| {
            for (i, msg) in &rx {
                if i != next {
                    held.entry(i).or_default().push_back(msg);
                    continue;
                }
                if handle(msg, total)? {
                    next += 1;
                    // Hand on what the next inputs sent meanwhile, up to one not yet done.
                    while let Some(mut queue) = held.remove(&next) {
                        let mut done = false;
                        while let Some(m) = queue.pop_front() {
                            if handle(m, total)? {
                                done = true;
                                break;
                            }
                        }
                        if !done {
                            held.insert(next, queue);
                            break;
                        }
                        next += 1;
                    }
                }
                if next == files.len() {
                    break;
                }
            }
            Ok(())
        })();
        if result.is_err() {
            // The output is gone: the reading threads stop at their next block.
            ctx.cancel.store(true, Ordering::Relaxed);
        }
        result
    })
}

/// Where a visitor's results go: to the calling thread, or (for a zip member read on a forked
/// visitor) into a list its parent hands on when it joins it.
enum Out {
    Send(usize, Sender<(usize, Msg)>),
    Keep(Vec<Msg>),
}

struct FileVisitor<'c> {
    ctx: &'c Ctx<'c>,
    out: Out,
    /// Sources opened so far by this visitor (numbered from 0).
    sources: u32,
    /// Whether stream blocks may be split across threads (fewer inputs than threads).
    split_blocks: bool,
}

impl FileVisitor<'_> {
    fn emit(&mut self, msg: Msg) {
        match &mut self.out {
            Out::Send(i, tx) => {
                let _ = tx.send((*i, msg));
            }
            Out::Keep(list) => list.push(msg),
        }
    }

    fn count(&mut self, f: impl FnOnce(&mut Aggregation)) {
        let mut part = Collector::new(false);
        f(&mut part.agg);
        self.emit(Msg::Part(Box::new(part)));
    }

    /// Scans a buffer that is all there: in one parallel pass, or, when events are kept, in
    /// windows of a few chunks whose results go out as each window is done. `file` when they are
    /// a named file's own bytes (each chunk scanned is then that much of the file read).
    fn scan_static(&mut self, bytes: &[u8], source: &Source, file: bool) {
        let ctx = self.ctx;
        let progress = |n| {
            (ctx.progress)(Progress::Scanned(n));
            if file {
                (ctx.progress)(Progress::Read(n));
            }
        };
        if ctx.opts.events {
            // Results go out chunk by chunk as soon as those before are done, at most a few
            // chunks a thread ahead of the printing.
            let bounds = crate::scan::chunk_bounds(bytes, EVENT_CHUNK);
            let me = std::sync::Mutex::new(&mut *self);
            scan_ordered(
                ctx,
                bytes,
                source,
                &bounds,
                rayon::current_num_threads() * 2,
                &progress,
                &|mut part, newlines, size| {
                    part.agg.stats.bytes = size;
                    part.agg.stats.lines = newlines;
                    me.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .emit(Msg::Part(Box::new(part)));
                },
            );
        } else {
            // Four chunks a thread balance the load; fewer, larger chunks keep the per-chunk work
            // (samples and captured values, merged away later) small.
            let threads = rayon::current_num_threads();
            let chunk = (bytes.len() / (threads * 4)).clamp(CHUNK, MAX_CHUNK);
            if !bytes.is_empty() && !ctx.cancelled() {
                let (mut part, newlines) = scan_parallel(ctx, bytes, source, 1, chunk, &progress);
                part.agg.stats.bytes = bytes.len() as u64;
                part.agg.stats.lines = newlines;
                self.emit(Msg::Part(Box::new(part)));
            }
        }
        let unterminated = !bytes.is_empty() && !bytes.ends_with(b"\n");
        self.count(|agg| {
            agg.stats.sources = 1;
            agg.stats.lines = u64::from(unterminated);
        });
    }

    /// Scans a stream in framed blocks. A read error ends it; what was read before counts.
    fn scan_stream(&mut self, reader: &mut dyn io::Read, source: &Source) -> io::Result<()> {
        let ctx = self.ctx;
        let split = self.split_blocks;
        let mut framer = Framer::new(BLOCK);
        let mut error = None;
        loop {
            let (bytes, f) = fill(&mut framer, reader, BLOCK);
            (ctx.progress)(Progress::Scanned(bytes));
            let mut parts = Vec::new();
            scan_ready(ctx, &mut framer, source, f.eof, split, &mut |p| {
                parts.push(p);
                Ok(())
            })
            .expect("collecting parts cannot fail");
            for p in parts {
                self.emit(Msg::Part(Box::new(p)));
            }
            if f.error.is_some() {
                error = f.error;
            }
            if f.eof || ctx.cancelled() {
                break;
            }
        }
        // The last line, if it had no newline.
        let unterminated = framer.lines() - (framer.position().line - 1);
        self.count(|agg| {
            agg.stats.sources = 1;
            agg.stats.lines = unterminated;
        });
        match error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Visitor for FileVisitor<'_> {
    fn content(&mut self, name: &str, content: Content<'_>) -> io::Result<()> {
        if self.ctx.cancelled() {
            return Ok(());
        }
        let source = Source::new(name, self.sources);
        self.sources += 1;
        let result = match content {
            Content::File(bytes) => {
                self.scan_static(bytes, &source, true);
                Ok(())
            }
            Content::Static(bytes) => {
                self.scan_static(bytes, &source, false);
                Ok(())
            }
            Content::Stream(reader) => self.scan_stream(reader, &source),
        };
        (self.ctx.progress)(Progress::Done);
        result
    }

    fn problem(&mut self, name: &str, message: String, error: bool) {
        self.emit(Msg::Problem {
            name: name.to_string(),
            message,
            error,
        });
    }

    fn binary(&mut self, name: &str) {
        self.count(|agg| agg.stats.binary_skipped += 1);
        self.emit(Msg::Note(format!(
            "{name} looks binary (a NUL byte in its first 8 KiB) and is skipped; --text reads it"
        )));
    }

    fn member(&mut self) {
        self.count(|agg| agg.stats.members += 1);
    }

    fn fork(&self) -> Self {
        FileVisitor {
            ctx: self.ctx,
            out: Out::Keep(Vec::new()),
            sources: 0,
            // Members already run in parallel: their blocks stay on their thread.
            split_blocks: false,
        }
    }

    fn join(&mut self, forked: Self) {
        let Out::Keep(msgs) = forked.out else {
            unreachable!("forked visitors keep their results")
        };
        let offset = self.sources;
        self.sources += forked.sources;
        for mut msg in msgs {
            if let Msg::Part(part) = &mut msg {
                part.agg.shift_sources(offset);
                if let Some(events) = &mut part.events {
                    for e in events {
                        e.at.source.ord += offset;
                    }
                }
            }
            self.emit(msg);
        }
    }
}
