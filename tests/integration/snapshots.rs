//! Snapshots of the human and JSON reports (insta). The reports hold no volatile field but the
//! format version, which is redacted; sources are paths relative to the repository root.

use crate::util::{fixture, run};

fn human(name: &str) -> String {
    let r = run(&["scan", &fixture(name), "--color", "never"]);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    r.stdout
}

fn json(name: &str) -> serde_json::Value {
    run(&["scan", &fixture(name), "--format", "json"]).json()
}

#[test]
fn human_report_of_a_registration_proxy_failure() {
    insta::assert_snapshot!(human("registration-proxy-docker-json.log"));
}

#[test]
fn human_report_of_a_recovered_registration() {
    insta::assert_snapshot!(human("registration-recovered-zap-json.log"));
}

#[test]
fn human_report_of_a_healthy_log() {
    insta::assert_snapshot!(human("healthy-traps-docker-json.log"));
}

#[test]
fn human_report_of_mixed_severities() {
    insta::assert_snapshot!(human("mixed-severities-zap-json.log"));
}

#[test]
fn json_report_of_an_export_dns_failure() {
    insta::assert_json_snapshot!(json("export-dns-zap-json.log"), { ".version" => "[version]" });
}

#[test]
fn json_report_of_a_cluster_crash_loop() {
    insta::assert_json_snapshot!(json("cluster-401-ecs-crashloop.log"), { ".version" => "[version]" });
}

#[test]
fn markdown_report_of_a_registration_proxy_failure() {
    let r = run(&[
        "scan",
        &fixture("registration-proxy-docker-json.log"),
        "--format",
        "markdown",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    insta::assert_snapshot!(r.stdout);
}
