//! Snapshots of the human and JSON reports (insta). Reports hold no volatile field but the
//! version, which is redacted; sources are relative paths.
