//! faultline reads the logs of Elastic's AutoOps agent and says which of its connections failed
//! (the agent → Elasticsearch `cluster`, the Cloud Connect `registration`, the OTLP `export`, or
//! the `agent` itself), why, and what to do about it.
//!
//! # Pipeline
//!
//! [`source`] (stdin, files, directories, archives) → [`scan::framer`] (blocks of complete lines,
//! split lines kept whole) → [`scan`] (the anchor prefilter over whole blocks, lines found only
//! around hits) → [`record`] (decode the envelope: zap JSON, ECS, Docker, CRI, …) → [`matcher`]
//! (rules: component × cause, captured values, fix) → [`findings`] (aggregation, and the deltas
//! each block causes) → [`report`] (observers: human, JSON, NDJSON). The drivers (batch, live
//! standard input) own the I/O and the threads around that one pipeline. The rules are data:
//! [`rules`] loads and validates them.
//!
//! ```
//! use faultline::{matcher::{Matcher, Verdict}, record::decode, rules::RuleSet};
//!
//! let matcher = Matcher::new(RuleSet::builtin().unwrap());
//! let line = br#"{"level":"error","msg":"failed to register Cloud Connected Mode: Post \"https://api.elastic-cloud.com/api/v1/cloud-connected/clusters\": proxyconnect tcp: dial tcp 10.0.0.8:3128: connect: connection refused"}"#;
//! let Verdict::Failure(f) = matcher.classify(&decode(line)) else { panic!() };
//! assert_eq!(f.component.name(), "registration");
//! assert_eq!(matcher.cause(&f), "proxy");
//! ```

#![deny(missing_docs)]

mod cli;
mod drive;
pub mod findings;
pub mod mask;
pub mod matcher;
pub mod record;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;

/// Runs the command line with these arguments; returns the process exit code.
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    cli::run(args)
}
