//! The [`Observer`] trait and the printers that implement it. A driver hands every observer the
//! match events of each block, the deltas each block caused, a tick whenever a live input pauses,
//! the problems it met, and at the end the [`Document`]. The human printer announces a new
//! finding or a recovered component while a live input is still open — after a short grace, so
//! that a finished log piped in (`docker logs` without `-f`) gets only its report; the NDJSON
//! printer writes a line per match event (flushed per block only when the input is live); the
//! JSON printer writes the document at the end. The NDJSON printer writes faultline's own
//! events or, with [`Schema::Ecs`], the same events as Elastic Common Schema documents.

use std::io::{self, BufWriter, Write};
use std::time::{Duration, Instant};

use super::{ecs, finding_doc, human, json, Document};
use crate::findings::alert::{Alert, AlertKind};
use crate::findings::{Aggregation, Delta, Status};
use crate::rules::RuleSet;
use crate::scan::MatchEvent;

/// How long a live announcement waits before it is shown: if the input ends within it, the
/// report says the same and the announcement is dropped.
pub const GRACE: Duration = Duration::from_millis(150);
/// How long a live input must stay quiet before the printer says it is following it.
pub const QUIET: Duration = Duration::from_millis(400);

/// What an observer renders of a failing line once for all its events (see
/// [`EventLine::rendered`](crate::scan::EventLine)), made on the threads that scan.
pub type Render = fn(&RuleSet, &crate::scan::EventLine) -> Vec<u8>;

/// Consumes what a run finds, as it finds it. Every method but [`Observer::finish`] has a default
/// that ignores what it is told; an error (a closed output) stops the run.
pub trait Observer {
    /// How the observer renders what a failing line says, if it does: the threads that scan
    /// render each new line as soon as its values are captured, while its text is at hand, and
    /// the observer finds it done.
    fn render(&self) -> Option<Render> {
        None
    }
    /// Failing lines, in input order (only when the run keeps events).
    fn matched(&mut self, _events: &[MatchEvent]) -> io::Result<()> {
        Ok(())
    }
    /// What a block of input changed; `agg` is the whole run's aggregation after it.
    fn changed(&mut self, _deltas: &[Delta], _agg: &Aggregation) -> io::Result<()> {
        Ok(())
    }
    /// An alert of a long run (`watch`): a problem opened, goes on, or recovered.
    fn alert(&mut self, _alert: &Alert, _agg: &Aggregation) -> io::Result<()> {
        Ok(())
    }
    /// Time passes on a live input; `quiet` if nothing came since the last tick.
    fn tick(&mut self, _quiet: bool) -> io::Result<()> {
        Ok(())
    }
    /// An input could not be read (`error`), or was cut short by a safety limit (a warning).
    fn problem(&mut self, source: &str, message: &str, error: bool) {
        print_problem(source, message, error);
    }
    /// A note for the person running faultline (what a watch follows), on stderr.
    fn note(&mut self, message: &str) {
        let mut err = io::stderr().lock();
        let _ = writeln!(err, "faultline: {}", super::for_terminal(message));
    }
    /// The run is over: the report.
    fn finish(&mut self, doc: &Document) -> io::Result<()>;
}

/// Writes a problem to stderr, escaped; a full or closed stderr is not an error worth dying of.
pub fn print_problem(source: &str, message: &str, error: bool) {
    let source = super::for_terminal(source);
    let message = super::for_terminal(message);
    let mut err = io::stderr().lock();
    let _ = if error {
        writeln!(err, "faultline: cannot read {source}: {message}")
    } else {
        writeln!(err, "faultline: warning: {source}: {message}")
    };
}

/// What a live human printer may announce.
struct Announcement {
    due: Instant,
    text: String,
}

/// The report for people, with live announcements while a live input is open.
pub struct HumanPrinter<'s, W: Write> {
    out: BufWriter<W>,
    style: human::Style,
    set: &'s RuleSet,
    /// Announcements are made (a live input is read).
    live: bool,
    pending: Vec<Announcement>,
    /// Whether the "following" line, or anything live, was printed.
    spoke: bool,
    quiet_since: Option<Instant>,
}

impl<'s, W: Write> HumanPrinter<'s, W> {
    /// A printer writing to `out`; `live` when the input is a live stream.
    pub fn new(out: W, style: human::Style, set: &'s RuleSet, live: bool) -> Self {
        HumanPrinter {
            out: BufWriter::with_capacity(64 * 1024, out),
            style,
            set,
            live,
            pending: Vec::new(),
            spoke: false,
            quiet_since: None,
        }
    }

    fn banner(&mut self) -> io::Result<()> {
        if !self.spoke {
            self.spoke = true;
            let text = "faultline: following standard input; new problems are shown as they appear, the report on Ctrl-C or when the input ends.";
            writeln!(self.out, "{}", self.style.dim_text(text))?;
        }
        Ok(())
    }

    /// Prints the announcements whose grace is over.
    fn flush_due(&mut self) -> io::Result<()> {
        let now = Instant::now();
        if !self.pending.iter().any(|a| a.due <= now) {
            return Ok(());
        }
        self.banner()?;
        let (due, later): (Vec<Announcement>, Vec<Announcement>) =
            std::mem::take(&mut self.pending)
                .into_iter()
                .partition(|a| a.due <= now);
        self.pending = later;
        for a in due {
            writeln!(self.out, "{}", a.text)?;
        }
        self.out.flush()
    }
}

impl<W: Write> Observer for HumanPrinter<'_, W> {
    fn changed(&mut self, deltas: &[Delta], agg: &Aggregation) -> io::Result<()> {
        if !self.live {
            return Ok(());
        }
        let due = Instant::now() + GRACE;
        for d in deltas {
            let text = match d {
                Delta::New { key } => match agg.finding(key) {
                    Some(f) => human::live_alert(&finding_doc(self.set, f), self.style),
                    None => continue,
                },
                Delta::Status {
                    component,
                    was,
                    now,
                } => match (was, now) {
                    (_, Status::Recovered) | (Status::Recovered, Status::Failing) => {
                        human::live_status(*component, *now, agg, self.style)
                    }
                    _ => continue,
                },
                Delta::Seen { .. } => continue,
            };
            self.pending.push(Announcement { due, text });
        }
        self.quiet_since = None;
        self.flush_due()
    }

    fn alert(&mut self, alert: &Alert, agg: &Aggregation) -> io::Result<()> {
        let Some(f) = agg.finding(&alert.key) else {
            return Ok(());
        };
        let doc = finding_doc(self.set, f);
        let text = match alert.kind {
            AlertKind::Open => human::live_alert(&doc, self.style),
            AlertKind::Repeat | AlertKind::Recovered => {
                human::alert_line(alert, &doc, agg, self.style)
            }
        };
        self.spoke = true;
        writeln!(self.out, "{text}")?;
        self.out.flush()
    }

    fn tick(&mut self, quiet: bool) -> io::Result<()> {
        if !self.live {
            return Ok(());
        }
        if quiet {
            let since = *self.quiet_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= QUIET && !self.spoke {
                self.banner()?;
                self.out.flush()?;
            }
        } else {
            self.quiet_since = None;
        }
        self.flush_due()
    }

    fn problem(&mut self, source: &str, message: &str, error: bool) {
        let _ = self.out.flush();
        print_problem(source, message, error);
    }

    fn finish(&mut self, doc: &Document) -> io::Result<()> {
        // What was not announced yet is in the report.
        self.pending.clear();
        if self.spoke {
            writeln!(self.out)?;
        }
        human::print_human(&mut self.out, doc, self.style)?;
        self.out.flush()
    }
}

/// One JSON document at the end.
pub struct JsonPrinter<W: Write> {
    out: BufWriter<W>,
}

impl<W: Write> JsonPrinter<W> {
    /// A printer writing to `out`.
    pub fn new(out: W) -> Self {
        JsonPrinter {
            out: BufWriter::new(out),
        }
    }
}

impl<W: Write> Observer for JsonPrinter<W> {
    fn finish(&mut self, doc: &Document) -> io::Result<()> {
        json::print_json(&mut self.out, doc)?;
        self.out.flush()
    }
}

/// A Markdown report at the end (`--format markdown`), for a ticket.
pub struct MarkdownPrinter<W: Write> {
    out: BufWriter<W>,
}

impl<W: Write> MarkdownPrinter<W> {
    /// A printer writing to `out`.
    pub fn new(out: W) -> Self {
        MarkdownPrinter {
            out: BufWriter::new(out),
        }
    }
}

impl<W: Write> Observer for MarkdownPrinter<W> {
    fn finish(&mut self, doc: &Document) -> io::Result<()> {
        super::markdown::print_markdown(&mut self.out, doc)?;
        self.out.flush()
    }
}

/// The shape of the NDJSON printer's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// faultline's own (`--format ndjson`): `{"type":"match", …}`.
    Faultline,
    /// Elastic Common Schema documents (`--format ecs`).
    Ecs,
}

/// NDJSON: a `match` line per failing line as it is found, a `summary` line at the end.
pub struct NdjsonPrinter<'s, W: Write> {
    out: BufWriter<W>,
    set: &'s RuleSet,
    /// Flush after every block (a live input), rather than when the buffer is full.
    live: bool,
    schema: Schema,
    /// Writes the `match` events.
    matches: json::MatchWriter,
}

impl<'s, W: Write> NdjsonPrinter<'s, W> {
    /// A printer writing events of `schema` to `out`; `live` flushes every block.
    pub fn new(out: W, set: &'s RuleSet, live: bool, schema: Schema) -> Self {
        NdjsonPrinter {
            out: BufWriter::with_capacity(256 * 1024, out),
            set,
            live,
            schema,
            matches: json::MatchWriter::default(),
        }
    }
}

impl<W: Write> Observer for NdjsonPrinter<'_, W> {
    fn render(&self) -> Option<Render> {
        match self.schema {
            Schema::Faultline => Some(json::render_line),
            Schema::Ecs => None,
        }
    }

    fn alert(&mut self, alert: &Alert, agg: &Aggregation) -> io::Result<()> {
        if let Some(f) = agg.finding(&alert.key) {
            let doc = finding_doc(self.set, f);
            match self.schema {
                Schema::Faultline => json::write_alert(&mut self.out, alert, &doc)?,
                Schema::Ecs => ecs::write_alert(&mut self.out, self.set, alert, &doc, agg)?,
            }
            self.out.flush()?;
        }
        Ok(())
    }

    fn matched(&mut self, events: &[MatchEvent]) -> io::Result<()> {
        for e in events {
            match self.schema {
                Schema::Faultline => self.matches.write(&mut self.out, self.set, e)?,
                Schema::Ecs => ecs::write_match(&mut self.out, self.set, e)?,
            }
        }
        if self.live {
            self.out.flush()?;
        }
        Ok(())
    }

    fn problem(&mut self, source: &str, message: &str, error: bool) {
        // On stdout as an event (a consumer sees what it missed), on stderr for a person. A
        // closed stdout shows at the next write that can return an error.
        let problem = super::ProblemDoc {
            source: source.to_string(),
            message: message.to_string(),
            error,
        };
        let _ = match self.schema {
            Schema::Faultline => json::write_problem(&mut self.out, &problem),
            Schema::Ecs => ecs::write_problem(&mut self.out, &problem),
        };
        let _ = self.out.flush();
        print_problem(source, message, error);
    }

    fn finish(&mut self, doc: &Document) -> io::Result<()> {
        match self.schema {
            Schema::Faultline => json::print_summary_line(&mut self.out, doc)?,
            Schema::Ecs => ecs::write_summary(&mut self.out, doc)?,
        }
        self.out.flush()
    }
}
