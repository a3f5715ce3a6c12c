//! The clap definition of faultline's arguments. Doc comments are the `--help` text.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::rules::Severity;

/// Reads Elastic AutoOps agent logs and says which connection failed, why, and what to do.
///
/// With no command, faultline scans the paths it is given, or standard input:
///
///   docker logs autoops-otel-agent 2>&1 | faultline
///
///   faultline agent.log support-bundle.zip
///
/// Exit status: 0 no finding at or above --fail-on (with --fail-on failing: no connection failing
/// at the end); 1 such findings (a failing connection); 2 a usage error, a bad rule file, or an
/// input that could not be read (the other inputs are still scanned and reported). The human
/// report's last line says which.
#[derive(Debug, Parser)]
#[command(name = "faultline", version, about, long_about, max_term_width = 100)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Logs, directories and archives to scan, as with `scan` (`-` is standard input).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// Which rules to load: every command that classifies lines takes these.
#[derive(Debug, Clone, clap::Args)]
pub struct RuleArgs {
    /// Add the rules of a TOML file (repeatable). A rule with the id of a built-in one replaces it.
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,

    /// Use only the rules given with --rules (and the user's rule files, unless
    /// --no-user-rules).
    #[arg(long)]
    pub no_builtin_rules: bool,

    /// Skip the user's rule files: the `*.toml` in `$XDG_CONFIG_HOME/faultline/rules/`
    /// (`~/.config/faultline/rules/`) and those `FAULTLINE_RULES` lists (separated by `:`).
    #[arg(long)]
    pub no_user_rules: bool,
}

/// How a scan reads and reports: the options of `scan`, `watch` and of faultline without a
/// command.
#[derive(Debug, Clone, clap::Args)]
pub struct ScanArgs {
    /// Output format: a report for people, one JSON document, NDJSON events as they happen, the
    /// same events as Elastic Common Schema documents for a shipper, or Markdown for a ticket.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// When to colour the human report (NO_COLOR is honoured with `auto`).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Keep only lines logged at or after TIME: RFC 3339 (2025-10-14T09:00:00Z), a local date and
    /// time without an offset (2025-10-14 09:00, read in the local time zone), a date, or an age
    /// (2h, 3d).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub since: Option<jiff::Timestamp>,

    /// Keep only lines logged at or before TIME: as for --since (an age such as 30m means that
    /// long ago).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub until: Option<jiff::Timestamp>,

    /// Scan binary files and archive members too (they are skipped by default).
    #[arg(long)]
    pub text: bool,

    /// When to exit with 1: a finding at least this severe (error, warning, info), or `failing`:
    /// exactly when some connection is failing at the end of the input (a recovered one is not).
    /// Exit 2 (an input could not be read, a usage error) wins over both.
    #[arg(long, value_enum, default_value_t = FailOn::Error, value_name = "WHEN")]
    pub fail_on: FailOn,

    #[command(flatten)]
    pub rules: RuleArgs,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Scan logs and support bundles (`-` is standard input) and report per connection.
    Scan {
        /// Log files, directories (read recursively) and archives (.gz, .zip, .tar, .tar.gz,
        /// nested), recognised by their content.
        paths: Vec<PathBuf>,
        #[command(flatten)]
        scan: ScanArgs,
    },
    /// Follow log files like `tail -F`, across rotation and truncation, and alert once per
    /// problem, then a digest while it goes on, then when it recovers. Ctrl-C (or SIGTERM)
    /// prints the report of the whole run.
    Watch {
        /// Files, directories (their files, and files that appear in them later) and glob
        /// patterns in quotes ('/var/log/containers/*autoops*.log'). Symlinks are followed.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Read what the files already hold first, rather than start at their end.
        #[arg(long)]
        from_start: bool,
        /// Keep positions, fingerprints and open alerts in FILE (written atomically), so that a
        /// restart resumes exactly: no line read twice or skipped, no alert opened again.
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
        /// Poll only, without filesystem events (NFS, Docker Desktop volumes).
        #[arg(long)]
        poll: bool,
        /// How often every file is checked, whatever the filesystem events say.
        #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
        poll_interval: Duration,
        /// How often a problem that goes on is summed up ("still failing, 42 times in the last
        /// 5 min").
        #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
        digest_interval: Duration,
        #[command(flatten)]
        scan: ScanArgs,
    },
    /// Explain an error code (HTTP_503, CLUSTER_ALREADY_CONNECTED, x509), a rule, a cause or a fix.
    Explain {
        /// What to explain.
        what: String,
        /// When to colour the explanation (NO_COLOR is honoured with `auto`).
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// List, test or show the anchors of the rules.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Print a shell completion script: `faultline completions bash > /etc/bash_completion.d/faultline`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `faultline man > /usr/local/share/man/man1/faultline.1`.
    Man,
}

#[derive(Debug, Clone, Subcommand)]
pub enum RulesCommand {
    /// List every rule with its component, cause, code and origin.
    List {
        /// A table, one JSON array, or one JSON object per rule a line.
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Check that every rule's examples classify as that rule (exit 1 if one does not).
    Test {
        /// Rule files to test (with the built-in rules loaded too); none tests the built-in set.
        files: Vec<PathBuf>,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Print the literal anchors the prefilter searches for, one per line (for `rg -F -f`).
    Anchors {
        /// One anchor a line, one JSON array, or one JSON string a line.
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
        #[command(flatten)]
        rules: RuleArgs,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// For people (and `rg -F -f`).
    Human,
    /// One JSON document.
    Json,
    /// One JSON value a line.
    Ndjson,
}

/// Moves the options written before a command to after it (`faultline --format json scan x` is
/// `faultline scan --format json x`), so that each command takes exactly its own options and
/// one that does not apply to it is refused by name instead of ignored. Stops at `--` and at
/// the first argument that is not an option: a path, or the command itself.
pub fn hoist_options(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    // Nothing to move unless the first argument is an option (the common case builds no second
    // command definition).
    let first_is_option = args
        .get(1)
        .and_then(|a| a.to_str())
        .is_some_and(|a| a.starts_with('-') && a != "-" && a != "--");
    if !first_is_option {
        return args;
    }
    let mut cmd = <Args as clap::CommandFactory>::command();
    cmd.build();
    let takes_value = |name: &str| {
        cmd.get_arguments().any(|a| {
            a.get_long() == Some(name)
                && a.get_num_args().is_some_and(|n| n.takes_values())
                && !matches!(a.get_action(), clap::ArgAction::SetTrue)
        })
    };
    let mut i = 1;
    while i < args.len() {
        let Some(arg) = args[i].to_str() else { break };
        if arg == "--" || !arg.starts_with('-') || arg == "-" {
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            if !long.contains('=') && takes_value(long) {
                i += 1;
            }
        }
        i += 1;
    }
    // `i` is the first argument that is not an option: move the options before it behind the
    // command path it starts (`rules list`), if it is a command.
    let mut sub = Some(&cmd);
    let mut end = i;
    while let Some(c) = sub {
        let next = args
            .get(end)
            .and_then(|a| a.to_str())
            .and_then(|name| c.find_subcommand(name));
        match next {
            Some(n) => {
                sub = Some(n);
                end += 1;
            }
            None => sub = None,
        }
    }
    if i == 1 || end == i {
        return args;
    }
    let mut out = Vec::with_capacity(args.len());
    out.push(args[0].clone());
    out.extend_from_slice(&args[i..end]);
    out.extend_from_slice(&args[1..i]);
    out.extend_from_slice(&args[end..]);
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Grouped by component, for people.
    Human,
    /// One JSON document.
    Json,
    /// One JSON event per failing line, then a summary.
    Ndjson,
    /// The NDJSON events as Elastic Common Schema 9.x documents, for Filebeat, Elastic Agent or
    /// an OpenTelemetry filelog receiver.
    Ecs,
    /// A report to paste into a support ticket or a GitHub issue.
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when standard output is a terminal.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Only errors.
    Error,
    /// Warnings and errors.
    Warning,
    /// Any finding.
    Info,
    /// A connection that is failing at the end of the input.
    Failing,
}

impl FailOn {
    /// The severity that makes the exit status 1, or `None` for `failing`.
    pub fn severity(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Failing => None,
        }
    }
}

/// Parses a duration: `100ms`, `1s`, `5m`, `1h`.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("`{s}` is not a duration like 500ms, 1s, 5m or 1h");
    let span: jiff::Span = s.parse().map_err(|_| bad())?;
    let d = jiff::SignedDuration::try_from(span).map_err(|_| bad())?;
    let d = Duration::try_from(d).map_err(|_| bad())?;
    if d.is_zero() {
        return Err(format!("`{s}` is zero; give a positive duration"));
    }
    Ok(d)
}

/// Parses a time: RFC 3339 with an offset; a date and time without one (`2025-10-14T15:05:00`,
/// `2025-10-14 15:05`), which is local time, as `date` reads it; a date (local midnight); or an
/// age before now (`2h`, `3d`, `1w`).
fn parse_time(s: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    let local = |dt: jiff::civil::DateTime| {
        dt.to_zoned(jiff::tz::TimeZone::system())
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string())
    };
    // A date and a time (`T` or a space between them): the time of day counts.
    if s.len() > 10 && matches!(s.as_bytes()[10], b'T' | b't' | b' ') {
        if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
            return local(dt);
        }
    }
    if s.len() == 10 {
        if let Ok(d) = s.parse::<jiff::civil::Date>() {
            return local(d.to_datetime(jiff::civil::Time::midnight()));
        }
    }
    match s.parse::<jiff::Span>() {
        Ok(span) => jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .checked_sub(span.abs())
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "`{s}` is neither an RFC 3339 time (2025-10-14T09:00:00Z), a local date and time \
             (2025-10-14 09:00), a date (2025-10-14) nor an age (2h, 3d, 90m)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_as_rfc3339_dates_and_ages() {
        assert_eq!(
            parse_time("2025-10-14T09:00:00Z").unwrap().to_string(),
            "2025-10-14T09:00:00Z"
        );
        let local = |y, mo, d, h, mi| {
            jiff::civil::date(y, mo, d)
                .at(h, mi, 0, 0)
                .to_zoned(jiff::tz::TimeZone::system())
                .unwrap()
                .timestamp()
        };
        assert_eq!(parse_time("2025-10-14").unwrap(), local(2025, 10, 14, 0, 0));
        // The time of day is kept, in local time.
        assert_eq!(
            parse_time("2025-10-14T15:05:00").unwrap(),
            local(2025, 10, 14, 15, 5)
        );
        assert_eq!(
            parse_time("2025-10-14 15:05").unwrap(),
            local(2025, 10, 14, 15, 5)
        );
        let two_hours_ago = parse_time("2h").unwrap();
        let diff = jiff::Timestamp::now()
            .duration_since(two_hours_ago)
            .as_secs();
        assert!((7199..=7201).contains(&diff), "{diff}");
        let three_days = jiff::Timestamp::now()
            .duration_since(parse_time("3d").unwrap())
            .as_secs();
        assert!(
            (3 * 86400 - 3700..=3 * 86400 + 3700).contains(&three_days),
            "{three_days}"
        );
        assert!(parse_time("yesterday-ish").is_err());
    }

    #[test]
    fn options_before_a_command_move_behind_it() {
        let hoist = |args: &str| {
            hoist_options(args.split(' ').map(Into::into).collect())
                .into_iter()
                .map(|a| a.into_string().unwrap())
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            hoist("faultline --format json scan a.log"),
            "faultline scan --format json a.log"
        );
        assert_eq!(
            hoist("faultline --text --rules r.toml rules test x.toml"),
            "faultline rules test --text --rules r.toml x.toml"
        );
        assert_eq!(
            hoist("faultline --format=json explain x"),
            "faultline explain --format=json x"
        );
        // A path is not a command; `--` and values are left alone.
        for same in [
            "faultline --format json agent.log",
            "faultline --format scan",
            "faultline -- scan",
            "faultline scan --format json",
            "faultline --since 2h",
        ] {
            assert_eq!(hoist(same), same);
        }
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
