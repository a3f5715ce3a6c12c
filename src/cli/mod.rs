//! The command line: clap arguments, their resolution into a [`Config`], the wiring of rules →
//! matcher → scan → report, and exit codes. Only this module knows clap, terminals and exit codes.

mod args;

use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;

use crate::drive::{self, RunOptions};
use crate::matcher::Matcher;
use crate::report::{
    self, Document, HumanPrinter, JsonPrinter, MarkdownPrinter, NdjsonPrinter, Observer, Style,
};
use crate::rules::{RuleSet, Severity};
use crate::scan::ScanOptions;
use crate::source::Input;

use args::{Args, ColorChoice, Command, Format, ListFormat, RuleArgs, RulesCommand, ScanArgs};

/// No finding at or above `--fail-on`.
pub const EXIT_OK: i32 = 0;
/// Findings (or failing rule examples).
pub const EXIT_FINDINGS: i32 = 1;
/// A usage error, a bad rule file, or an input that could not be read.
pub const EXIT_ERROR: i32 = 2;

/// Runs faultline with these arguments and returns the exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let args = args::hoist_options(args.into_iter().collect());
    let args = match Args::try_parse_from(args) {
        Ok(args) => args,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    match dispatch(args) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return EXIT_OK;
            }
            say(&format!("faultline: error: {err:#}"));
            EXIT_ERROR
        }
    }
}

/// Writes a message for the user on stderr, anything from the input in it escaped; a full or
/// closed stderr is no reason to die.
fn say(message: &str) {
    let mut err = io::stderr().lock();
    for line in message.split('\n') {
        let _ = writeln!(err, "{}", report::for_terminal(line));
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Validated settings of a scan (`scan`, `watch`, or no command).
struct Config {
    matcher: Matcher,
    format: Format,
    style: Style,
    /// The severity that makes the exit status 1; `None`: a failing component does.
    fail_on: Option<Severity>,
    since: Option<jiff::Timestamp>,
    until: Option<jiff::Timestamp>,
    text: bool,
}

/// The rule set the options name: built-in, the user's files, then `--rules`.
fn rule_set(args: &RuleArgs, extra: &[std::path::PathBuf]) -> anyhow::Result<RuleSet> {
    let mut set = if args.no_builtin_rules {
        RuleSet::default()
    } else {
        RuleSet::builtin().context("the built-in rules are broken (a bug in faultline)")?
    };
    if !args.no_user_rules {
        for path in user_rule_files()? {
            set.merge(RuleSet::load(&path)?);
        }
    }
    for path in args.rules.iter().chain(extra) {
        set.merge(RuleSet::load(path)?);
    }
    set.check_references()?;
    if set.rules.is_empty() {
        anyhow::bail!(
            "no rules to classify lines with: --no-builtin-rules needs at least one --rules FILE"
        );
    }
    Ok(set)
}

/// The matcher of the rules the options name.
fn matcher(args: &RuleArgs) -> anyhow::Result<Matcher> {
    Ok(Matcher::new(rule_set(args, &[])?))
}

fn style(color: ColorChoice) -> Style {
    let color = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    Style { color }
}

fn config(args: &ScanArgs) -> anyhow::Result<Config> {
    if let (Some(since), Some(until)) = (args.since, args.until) {
        if since > until {
            anyhow::bail!(
                "--since ({since}) is after --until ({until}): no line can be in that window"
            );
        }
    }
    Ok(Config {
        matcher: matcher(&args.rules)?,
        format: args.format,
        style: style(args.color),
        fail_on: args.fail_on.severity(),
        since: args.since,
        until: args.until,
        text: args.text,
    })
}

fn dispatch(args: Args) -> anyhow::Result<i32> {
    match args.command {
        // `faultline agent.log bundle.zip`: paths without `scan`, as `rg PATTERN PATH` reads.
        None if !args.paths.is_empty() => scan_cmd(&config(&args.scan)?, inputs_of(args.paths)),
        None => {
            let cfg = config(&args.scan)?;
            if io::stdin().is_terminal() {
                say(
                    "faultline: nothing to read. Pipe the agent's log in, or name files:\n  \
                     docker logs autoops-otel-agent 2>&1 | faultline\n  \
                     faultline scan /var/log/elastic-agent/elastic-agent.ndjson\n\
                     Run `faultline --help` for more.",
                );
                return Ok(EXIT_ERROR);
            }
            scan_cmd(&cfg, vec![Input::Stdin])
        }
        Some(Command::Scan { paths, scan }) => {
            let cfg = config(&scan)?;
            let inputs: Vec<Input> = if paths.is_empty() {
                if io::stdin().is_terminal() {
                    say("faultline: scan needs a file, or a log piped into it (`-` reads stdin).");
                    return Ok(EXIT_ERROR);
                }
                vec![Input::Stdin]
            } else {
                inputs_of(paths)
            };
            scan_cmd(&cfg, inputs)
        }
        Some(Command::Watch {
            paths,
            from_start,
            state,
            poll,
            poll_interval,
            digest_interval,
            scan,
        }) => watch_cmd(
            &config(&scan)?,
            drive::WatchOptions {
                targets: paths,
                from_start,
                state,
                poll,
                poll_interval,
                digest_interval,
            },
        ),
        Some(Command::Explain { what, color, rules }) => {
            let matcher = matcher(&rules)?;
            let mut out = io::stdout().lock();
            if report::explain(&mut out, matcher.rules(), &what, style(color))? {
                Ok(EXIT_OK)
            } else {
                say(&format!(
                    "faultline: `{}` is not a known error code, rule, cause or fix. \
                     `faultline rules list` lists the rules; codes look like HTTP_503 or LICENSE_EXPIRED.",
                    report::for_terminal(&what)
                ));
                Ok(EXIT_ERROR)
            }
        }
        Some(Command::Rules { command }) => rules_cmd(command),
        Some(Command::Completions { shell }) => {
            let mut cmd = <Args as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "faultline", &mut io::stdout().lock());
            Ok(EXIT_OK)
        }
        Some(Command::Man) => {
            let cmd = <Args as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd).render(&mut io::stdout().lock())?;
            Ok(EXIT_OK)
        }
    }
}

/// The user's rule files, loaded after the built-in set and before `--rules`: the `*.toml` of
/// `$XDG_CONFIG_HOME/faultline/rules/` (or `~/.config/faultline/rules/`) in name order, then the
/// files `FAULTLINE_RULES` lists (separated by `:`), which must exist.
fn user_rule_files() -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut files = Vec::new();
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".config")));
    if let Some(dir) = config.map(|c| c.join("faultline").join("rules")) {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            let mut found: Vec<std::path::PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
                .collect();
            found.sort();
            files.extend(found);
        }
    }
    if let Some(list) = std::env::var_os("FAULTLINE_RULES") {
        for p in std::env::split_paths(&list).filter(|p| !p.as_os_str().is_empty()) {
            if !p.is_file() {
                anyhow::bail!(
                    "FAULTLINE_RULES names {}, which is not a file: fix the list or unset it",
                    p.display()
                );
            }
            files.push(p);
        }
    }
    Ok(files)
}

/// The inputs named on the command line: `-` is standard input.
fn inputs_of(paths: Vec<std::path::PathBuf>) -> Vec<Input> {
    paths
        .into_iter()
        .map(|p| {
            if p.as_os_str() == "-" {
                Input::Stdin
            } else {
                Input::Path(p)
            }
        })
        .collect()
}

/// A flag that Ctrl-C (and SIGTERM) sets; a second one ends the process the usual way.
fn interrupt_flag() -> Arc<AtomicBool> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    interrupted
}

/// The exit status of a finished run, and why, in a sentence for the report's last line.
fn exit_status(cfg: &Config, agg: &crate::findings::Aggregation, doc: &Document) -> (i32, String) {
    if agg.stats.errors > 0 {
        return (
            EXIT_ERROR,
            format!(
                "Exit status 2: {} could not be read.",
                report::plural(agg.stats.errors, "input", "inputs")
            ),
        );
    }
    match cfg.fail_on {
        None => {
            let failing: Vec<&str> = doc
                .components
                .iter()
                .filter(|(_, s)| **s == crate::findings::Status::Failing)
                .map(|(c, _)| c.name())
                .collect();
            if failing.is_empty() {
                (
                    EXIT_OK,
                    "Exit status 0: no connection is failing at the end of the input (--fail-on failing).".into(),
                )
            } else {
                (
                    EXIT_FINDINGS,
                    format!(
                        "Exit status 1: {} failing at the end of the input (--fail-on failing).",
                        failing.join(", ")
                    ),
                )
            }
        }
        Some(level) => {
            let at = doc.findings.iter().filter(|f| f.severity >= level).count() as u64;
            let below = doc.findings.len() as u64 - at;
            if at > 0 {
                (
                    EXIT_FINDINGS,
                    format!(
                        "Exit status 1: {} at or above --fail-on {level}.",
                        report::plural(at, "finding", "findings")
                    ),
                )
            } else if below > 0 {
                (
                    EXIT_OK,
                    format!(
                        "Exit status 0: {} below --fail-on {level} (--fail-on failing exits 1 while a connection is failing).",
                        report::plural(below, "finding", "findings")
                    ),
                )
            } else {
                (EXIT_OK, "Exit status 0: no finding.".into())
            }
        }
    }
}

/// The printer of the chosen format; `live` when the input is followed as it comes (human
/// announcements, NDJSON flushed per block).
fn printer<'c>(cfg: &'c Config, live_human: bool, live_ndjson: bool) -> Box<dyn Observer + 'c> {
    let set = cfg.matcher.rules();
    let stdout = io::stdout().lock();
    match cfg.format {
        Format::Human => Box::new(HumanPrinter::new(stdout, cfg.style, set, live_human)),
        Format::Json => Box::new(JsonPrinter::new(stdout)),
        Format::Ndjson => Box::new(NdjsonPrinter::new(
            stdout,
            set,
            live_ndjson,
            report::Schema::Faultline,
        )),
        Format::Ecs => Box::new(NdjsonPrinter::new(
            stdout,
            set,
            live_ndjson,
            report::Schema::Ecs,
        )),
        Format::Markdown => Box::new(MarkdownPrinter::new(stdout)),
    }
}

/// How the drivers read, from the validated settings.
fn run_options(cfg: &Config) -> RunOptions {
    RunOptions {
        scan: ScanOptions {
            since: cfg.since,
            until: cfg.until,
        },
        events: matches!(cfg.format, Format::Ndjson | Format::Ecs),
        raw: cfg.format == Format::Ecs,
        limits: Default::default(),
        text: cfg.text,
    }
}

/// Prints the report of a finished run (with the problems met and why the exit status is what
/// it is) and returns that status.
fn finish(
    cfg: &Config,
    observer: &mut dyn Observer,
    agg: &crate::findings::Aggregation,
    problems: Vec<report::ProblemDoc>,
) -> anyhow::Result<i32> {
    let mut doc = Document::new(cfg.matcher.rules(), agg);
    doc.problems = problems;
    let (code, why) = exit_status(cfg, agg, &doc);
    doc.exit = Some(why);
    observer.finish(&doc)?;
    Ok(code)
}

fn watch_cmd(cfg: &Config, w: drive::WatchOptions) -> anyhow::Result<i32> {
    let interrupted = interrupt_flag();
    let mut observer = printer(cfg, false, true);
    let opts = run_options(cfg);
    let mut problems = Vec::new();
    let agg = {
        let mut keeping = BarSuspends {
            inner: observer.as_mut(),
            bar: None,
            problems: &mut problems,
        };
        drive::watch(&cfg.matcher, &opts, &w, &interrupted, &mut keeping)?
    };
    finish(cfg, observer.as_mut(), &agg, problems)
}

fn scan_cmd(cfg: &Config, inputs: Vec<Input>) -> anyhow::Result<i32> {
    let interrupted = interrupt_flag();
    let reads_stdin = inputs.contains(&Input::Stdin);
    let mut observer = printer(cfg, reads_stdin, reads_stdin);
    let opts = run_options(cfg);
    let bar = (!reads_stdin && cfg.format == Format::Human && io::stderr().is_terminal())
        .then(progress_bar);
    let counts = BarCounts::default();
    let progress = |p: drive::Progress| {
        if let Some(bar) = &bar {
            counts.show(bar, p);
        }
    };
    let mut problems = Vec::new();
    let result = {
        let mut with_bar = BarSuspends {
            inner: observer.as_mut(),
            bar: bar.as_ref(),
            problems: &mut problems,
        };
        drive::run(
            &cfg.matcher,
            &inputs,
            &opts,
            &interrupted,
            &progress,
            &mut with_bar,
        )
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let agg = result?;
    if reads_stdin && agg.stats.lines == 0 && agg.stats.errors == 0 && inputs.len() == 1 {
        say(
            "faultline: standard input held no lines. `docker logs` writes the agent's log to \
             stderr: pipe both streams, as in `docker logs autoops-otel-agent 2>&1 | faultline`.",
        );
    }
    finish(cfg, observer.as_mut(), &agg, problems)
}

/// An observer whose problems are printed with the progress bar out of the way, and kept for
/// the report.
struct BarSuspends<'a> {
    inner: &'a mut dyn Observer,
    bar: Option<&'a indicatif::ProgressBar>,
    problems: &'a mut Vec<report::ProblemDoc>,
}

impl Observer for BarSuspends<'_> {
    fn render(&self) -> Option<report::Render> {
        self.inner.render()
    }
    fn matched(&mut self, events: &[crate::scan::MatchEvent]) -> io::Result<()> {
        self.inner.matched(events)
    }
    fn changed(
        &mut self,
        deltas: &[crate::findings::Delta],
        agg: &crate::findings::Aggregation,
    ) -> io::Result<()> {
        self.inner.changed(deltas, agg)
    }
    fn tick(&mut self, quiet: bool) -> io::Result<()> {
        self.inner.tick(quiet)
    }
    fn alert(
        &mut self,
        alert: &crate::findings::alert::Alert,
        agg: &crate::findings::Aggregation,
    ) -> io::Result<()> {
        self.inner.alert(alert, agg)
    }
    fn note(&mut self, message: &str) {
        match self.bar {
            Some(bar) => bar.suspend(|| self.inner.note(message)),
            None => self.inner.note(message),
        }
    }
    fn problem(&mut self, source: &str, message: &str, error: bool) {
        if self.problems.len() < report::MAX_PROBLEMS {
            self.problems.push(report::ProblemDoc {
                source: source.to_string(),
                message: message.to_string(),
                error,
            });
        }
        match self.bar {
            Some(bar) => bar.suspend(|| self.inner.problem(source, message, error)),
            None => self.inner.problem(source, message, error),
        }
    }
    fn finish(&mut self, doc: &Document) -> io::Result<()> {
        self.inner.finish(doc)
    }
}

/// A spinner until the size of the inputs is known, then a bar of the bytes read.
fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg} · {bytes} read · {binary_bytes_per_sec} · {elapsed}",
        )
        .expect("a valid template"),
    );
    bar.set_message("0 files");
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// What the progress bar counts besides its position (the bytes of the named files read).
#[derive(Default)]
struct BarCounts {
    files: std::sync::atomic::AtomicU64,
    scanned: std::sync::atomic::AtomicU64,
}

impl BarCounts {
    fn show(&self, bar: &indicatif::ProgressBar, p: drive::Progress) {
        let message = |files: u64, scanned: u64| {
            let text = if scanned == 0 {
                String::new()
            } else {
                format!(" · {} of text", indicatif::HumanBytes(scanned))
            };
            format!(
                "{files} {}{text}",
                if files == 1 { "file" } else { "files" }
            )
        };
        match p {
            drive::Progress::Total(0) => {}
            drive::Progress::Total(n) => {
                bar.set_length(n);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{spinner} [{bar:24}] {percent:>3}% {bytes}/{total_bytes} · {msg} · \
                         {binary_bytes_per_sec} · {elapsed}, about {eta} left",
                    )
                    .expect("a valid template")
                    .progress_chars("=> "),
                );
            }
            drive::Progress::Read(n) => bar.inc(n),
            drive::Progress::Scanned(n) => {
                let scanned = self.scanned.fetch_add(n, Ordering::Relaxed) + n;
                bar.set_message(message(self.files.load(Ordering::Relaxed), scanned));
            }
            drive::Progress::Done => {
                let files = self.files.fetch_add(1, Ordering::Relaxed) + 1;
                bar.set_message(message(files, self.scanned.load(Ordering::Relaxed)));
            }
        }
    }
}

fn rules_cmd(command: RulesCommand) -> anyhow::Result<i32> {
    let mut out = io::stdout().lock();
    match command {
        RulesCommand::List { format, rules } if format != ListFormat::Human => {
            let matcher = matcher(&rules)?;
            let set = matcher.rules();
            // One JSON document (`--format json`) or one rule per line (`ndjson`).
            let rows: Vec<serde_json::Value> = set
                .rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id,
                        "kind": match r.kind {
                            crate::rules::RuleKind::Failure => "failure",
                            crate::rules::RuleKind::Success => "success",
                            crate::rules::RuleKind::Ignore => "ignore",
                        },
                        "component": r.component,
                        "cause": r.cause,
                        "code": r.code,
                        "title": r.title,
                        "anchors": r.anchors,
                        "file": r.origin.file,
                        "line": r.origin.line,
                    })
                })
                .collect();
            if format == ListFormat::Json {
                serde_json::to_writer_pretty(&mut out, &rows)?;
                writeln!(out)?;
            } else {
                for row in &rows {
                    serde_json::to_writer(&mut out, row)?;
                    writeln!(out)?;
                }
            }
            Ok(EXIT_OK)
        }
        RulesCommand::List { rules, .. } => {
            let matcher = matcher(&rules)?;
            let set = matcher.rules();
            writeln!(
                out,
                "{:<44} {:<8} {:<13} {:<22} {:<28} DEFINED AT",
                "ID", "KIND", "COMPONENT", "CAUSE", "CODE"
            )?;
            for r in &set.rules {
                let kind = match r.kind {
                    crate::rules::RuleKind::Failure => "failure",
                    crate::rules::RuleKind::Success => "success",
                    crate::rules::RuleKind::Ignore => "ignore",
                };
                writeln!(
                    out,
                    "{:<44} {:<8} {:<13} {:<22} {:<28} {}",
                    r.id,
                    kind,
                    r.component.map_or("-", |c| c.name()),
                    r.cause.as_deref().unwrap_or("-"),
                    r.code.as_deref().unwrap_or("-"),
                    r.origin
                )?;
            }
            writeln!(
                out,
                "{} rules, {} anchors, {} fixes, {} codes",
                set.rules.len(),
                matcher.anchors().len(),
                set.fixes.len(),
                set.codes.len()
            )?;
            Ok(EXIT_OK)
        }
        RulesCommand::Anchors { format, rules } => {
            let matcher = matcher(&rules)?;
            match format {
                ListFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &matcher.anchors())?;
                    writeln!(out)?;
                }
                ListFormat::Ndjson => {
                    for a in matcher.anchors() {
                        serde_json::to_writer(&mut out, a)?;
                        writeln!(out)?;
                    }
                }
                ListFormat::Human => {
                    for a in matcher.anchors() {
                        writeln!(out, "{a}")?;
                    }
                }
            }
            Ok(EXIT_OK)
        }
        RulesCommand::Test { files, rules } => {
            // The files given are merged into the set (after the built-in rules unless
            // --no-builtin-rules); test their rules, or the built-in ones when none is given.
            let matcher = Matcher::new(rule_set(&rules, &files)?);
            let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            let report = matcher.check_examples(|r| {
                if names.is_empty() {
                    RuleSet::builtin_files().any(|b| b == r.origin.file)
                } else {
                    names.contains(&r.origin.file)
                }
            });
            for f in &report.failures {
                let rule = &matcher.rules().rules[f.rule];
                let which = if f.counter {
                    "counterexample"
                } else {
                    "example"
                };
                let line = if f.counter {
                    &rule.counterexamples[f.index - 1]
                } else {
                    &rule.examples[f.index - 1]
                };
                writeln!(
                    out,
                    "FAIL {} {}: {which} {} {}\n     {}",
                    rule.origin,
                    rule.id,
                    f.index,
                    f.problem,
                    crate::findings::sample_text(line)
                )?;
            }
            let verdict = if report.failures.is_empty() {
                "all pass".to_string()
            } else {
                format!("{} failed", report.failures.len())
            };
            writeln!(
                out,
                "{} rules, {} examples, {} counterexamples: {verdict}",
                report.rules, report.examples, report.counterexamples
            )?;
            Ok(if report.failures.is_empty() {
                EXIT_OK
            } else {
                EXIT_FINDINGS
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_bar_wrapper_hands_on_how_its_observer_renders() {
        let set = crate::rules::RuleSet::builtin().unwrap();
        let mut problems = Vec::new();
        for (schema, renders) in [
            (report::Schema::Faultline, true),
            (report::Schema::Ecs, false),
        ] {
            let mut inner = report::NdjsonPrinter::new(io::sink(), &set, false, schema);
            let wrapped = BarSuspends {
                inner: &mut inner,
                bar: None,
                problems: &mut problems,
            };
            assert_eq!(wrapped.render().is_some(), renders, "{schema:?}");
        }
    }
}
