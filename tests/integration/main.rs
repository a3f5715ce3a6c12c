//! The one integration-test binary: every test runs the real `faultline` binary.

// Harness: run the binary in the repository root with a clean environment, capture its output.
mod util;

// Each fixture log against its hand-written expectation (fixtures/*.expect.json).
mod fixtures;

// Snapshots (insta) of the human and JSON reports of a few fixtures.
mod snapshots;

// Command-line behaviour: exit codes, stdin, bad rule files, unreadable inputs, explain, rules.
mod cli;

// Support bundles: directories, archives, nesting, limits, determinism, time windows.
mod bundles;

// Hostile input: binary data, invalid UTF-8, long lines, a closed pipe; and chunked scans.
mod robustness;

// Live standard input: announcements on a busy pipe, a finished pipe, a closed output.
mod live;

// Hostile values: shell injection into check commands, terminal escapes, secrets in every format.
mod hostile;

// `faultline watch`: appends, rotations, truncation, deletion, new files, restarts from state.
mod watch;

// The progress bar on a real (pseudo-)terminal: bytes, a percentage, no stale frames.
mod progress;

// `--format ecs`: every event kind checked against the ECS 9.4.0 reference, a golden file.
mod ecs;

// `deploy/`: shipping recipes against real ECS output, Kubernetes manifests (least privilege,
// the DaemonSet's command run for real, offline schema validation), the Dockerfile.
mod deploy;
