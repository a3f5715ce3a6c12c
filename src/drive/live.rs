//! The live driver: standard input, read as it arrives (`docker logs -f agent 2>&1 | faultline`).
//! Whatever has arrived is framed and scanned at once, and the observer hears of it at once: the
//! match events, the deltas, and a tick whenever the input pauses, so that it can show a new
//! problem while the pipe is still open. Ctrl-C ends the stream; the report of what was read
//! follows.

use std::io;

use super::{deliver, fill, scan_ready, Ctx, Progress, BLOCK};
use crate::findings::{Aggregation, Source};
use crate::report::Observer;
use crate::scan::Framer;

/// Reads standard input (a [`StdinReader`](crate::source::stdin::StdinReader), or what
/// decompresses it) to its end or Ctrl-C into `total`.
pub(super) fn scan_stdin(
    ctx: &Ctx<'_>,
    mut reader: impl io::Read,
    source: &Source,
    total: &mut Aggregation,
    observer: &mut dyn Observer,
) -> io::Result<()> {
    let mut framer = Framer::new(BLOCK);
    loop {
        let (bytes, f) = fill(&mut framer, &mut reader, BLOCK);
        (ctx.progress)(Progress::Scanned(bytes));
        scan_ready(ctx, &mut framer, source, f.eof, true, &mut |part| {
            deliver(part, total, observer, &ctx.cache)
        })?;
        if let Some(e) = &f.error {
            total.stats.errors += 1;
            observer.problem(&source.name, &e.to_string(), true);
        }
        if f.eof {
            break;
        }
        observer.tick(f.idle)?;
    }
    total.stats.sources += 1;
    // The last line, if it had no newline.
    total.stats.lines += framer.lines() - (framer.position().line - 1);
    Ok(())
}
