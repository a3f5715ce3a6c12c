//! The clap definition of faultline's arguments. Doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::rules::Severity;

/// Reads Elastic AutoOps agent logs and says which connection failed, why, and what to do.
///
/// With no command, faultline scans standard input:
///
///   docker logs autoops-otel-agent 2>&1 | faultline
///
/// Exit status: 0 no finding at or above --fail-on; 1 findings; 2 a usage error, a bad rule file,
/// or an input that could not be read (the other inputs are still scanned and reported).
#[derive(Debug, Parser)]
#[command(name = "faultline", version, about, long_about, max_term_width = 100)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub common: Common,
}

/// Options every command takes.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Output format: a report for people, one JSON document, or NDJSON events as they happen.
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// When to colour the human report (NO_COLOR is honoured with `auto`).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Add the rules of a TOML file (repeatable). A rule with the id of a built-in one replaces it.
    #[arg(long = "rules", global = true, value_name = "FILE")]
    pub rules: Vec<PathBuf>,

    /// Use only the rules given with --rules.
    #[arg(long, global = true)]
    pub no_builtin_rules: bool,

    /// Exit with 1 when a finding is at least this severe.
    #[arg(long, global = true, value_enum, default_value_t = FailOn::Error, value_name = "SEVERITY")]
    pub fail_on: FailOn,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Scan log files (`-` is standard input) and report per connection.
    Scan {
        /// Log files; `.gz` files are read compressed.
        paths: Vec<PathBuf>,
    },
    /// Explain an error code (HTTP_503, CLUSTER_ALREADY_CONNECTED, x509), a rule, a cause or a fix.
    Explain {
        /// What to explain.
        what: String,
    },
    /// List, test or show the anchors of the rules.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum RulesCommand {
    /// List every rule with its component, cause, code and origin.
    List,
    /// Check that every rule's examples classify as that rule (exit 1 if one does not).
    Test {
        /// Rule files to test (with the built-in rules loaded too); none tests the built-in set.
        files: Vec<PathBuf>,
    },
    /// Print the literal anchors the prefilter searches for, one per line (for `rg -F -f`).
    Anchors,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Grouped by component, for people.
    Human,
    /// One JSON document.
    Json,
    /// One JSON event per failing line, then a summary.
    Ndjson,
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
}

impl FailOn {
    pub fn severity(self) -> Severity {
        match self {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Info => Severity::Info,
        }
    }
}
