//! The scan's sink on the command line: NDJSON events written as they are found, live one-line
//! alerts when a piped input goes quiet (`docker logs -f`), errors on stderr, and the final report
//! in the chosen format.

use std::collections::HashSet;
use std::io::{self, BufWriter, Write};

use super::args::Format;
use crate::findings::Aggregation;
use crate::matcher::Matcher;
use crate::report::{self, Document, Style};
use crate::rules::Component;
use crate::scan::{MatchEvent, Sink};

/// Prints a scan's progress and report.
pub struct CliSink<'m, W: Write> {
    out: BufWriter<W>,
    format: Format,
    style: Style,
    matcher: &'m Matcher,
    /// Whether live alerts may be printed (human format, reading standard input).
    live_capable: bool,
    /// Standard input went quiet at least once: from then on, new findings are announced.
    live: bool,
    announced: HashSet<(Component, String, Option<usize>)>,
}

impl<'m, W: Write> CliSink<'m, W> {
    /// A sink writing to `out`.
    pub fn new(
        out: W,
        format: Format,
        style: Style,
        matcher: &'m Matcher,
        reads_stdin: bool,
    ) -> Self {
        CliSink {
            out: BufWriter::with_capacity(64 * 1024, out),
            format,
            style,
            matcher,
            live_capable: reads_stdin && format == Format::Human,
            live: false,
            announced: HashSet::new(),
        }
    }

    /// Prints the final report.
    pub fn finish(&mut self, doc: &Document) -> io::Result<()> {
        if self.live && self.format == Format::Human {
            writeln!(self.out)?;
        }
        match self.format {
            Format::Human => report::print_human(&mut self.out, doc, self.style)?,
            Format::Json => report::print_json(&mut self.out, doc)?,
            Format::Ndjson => report::print_summary_line(&mut self.out, doc)?,
        }
        self.out.flush()
    }

    fn announce(&mut self, sources: &[String], agg: &Aggregation) -> io::Result<()> {
        let mut any = false;
        for f in &agg.findings {
            let key = (f.component, f.cause.clone(), f.fix);
            if self.announced.insert(key) {
                let doc = report::finding_doc(self.matcher, f, sources);
                writeln!(self.out, "{}", report::live_alert(&doc, self.style))?;
                any = true;
            }
        }
        if any {
            self.out.flush()?;
        }
        Ok(())
    }
}

impl<W: Write> Sink for CliSink<'_, W> {
    fn progress(
        &mut self,
        sources: &[String],
        agg: &Aggregation,
        events: &[MatchEvent],
        idle: bool,
    ) -> io::Result<()> {
        if self.format == Format::Ndjson && !events.is_empty() {
            for e in events {
                writeln!(
                    self.out,
                    "{}",
                    report::match_event(self.matcher, e, sources)
                )?;
            }
            self.out.flush()?;
        }
        if self.live_capable && idle && !self.live {
            self.live = true;
            writeln!(
                self.out,
                "{}",
                self.style_dim("faultline: following standard input; new problems are shown as they appear, the report on Ctrl-C or when the input ends.")
            )?;
        }
        if self.live {
            self.announce(sources, agg)?;
        }
        Ok(())
    }

    fn problem(&mut self, source: &str, message: &str, error: bool) {
        let _ = self.out.flush();
        if error {
            eprintln!("faultline: cannot read {source}: {message}");
        } else {
            eprintln!("faultline: warning: {source}: {message}");
        }
    }
}

impl<W: Write> CliSink<'_, W> {
    fn style_dim(&self, text: &str) -> String {
        if self.style.color {
            format!("\x1b[2m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}
