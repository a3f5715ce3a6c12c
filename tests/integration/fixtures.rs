//! Every `fixtures/NAME.expect.json` names an input (default `NAME.log`) and what faultline must
//! report for it: the exit code, each component's status and each finding's component, cause,
//! rule, count, first and last line, and (a subset of) its captured values. The expectations are
//! written by hand from reading the logs.

use serde_json::Value;

use crate::util::{root, run};

fn check_fixture(expect_path: &std::path::Path) -> Vec<String> {
    let name = expect_path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .replace(".expect.json", "");
    let expect: Value = serde_json::from_str(&std::fs::read_to_string(expect_path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", expect_path.display()));
    let input = expect["input"]
        .as_str()
        .map(str::to_string)
        .unwrap_or(format!("{name}.log"));
    let path = format!("fixtures/{input}");
    let r = run(&["scan", &path, "--format", "json"]);
    let mut problems = Vec::new();
    let mut problem = |s: String| problems.push(format!("{name}: {s}"));
    let want_exit = expect["exit"].as_i64().unwrap_or(1) as i32;
    if r.code != want_exit {
        problem(format!(
            "exit {} (want {want_exit}); stderr: {}",
            r.code, r.stderr
        ));
    }
    let doc = r.json();
    if doc["components"] != expect["components"] {
        problem(format!(
            "components {} (want {})",
            doc["components"], expect["components"]
        ));
    }
    let got = doc["findings"].as_array().cloned().unwrap_or_default();
    let want = expect["findings"].as_array().cloned().unwrap_or_default();
    if got.len() != want.len() {
        let summary: Vec<String> = got
            .iter()
            .map(|f| {
                format!(
                    "{}×{} ({}, {} lines)",
                    f["component"], f["cause"], f["rule"], f["count"]
                )
            })
            .collect();
        problem(format!(
            "{} findings (want {}): {}",
            got.len(),
            want.len(),
            summary.join(", ")
        ));
    }
    for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
        for key in ["component", "cause", "rule", "count", "code", "severity"] {
            if !w[key].is_null() && g[key] != w[key] {
                problem(format!("finding {i}: {key} {} (want {})", g[key], w[key]));
            }
        }
        for (key, field) in [("first_line", "first_seen"), ("last_line", "last_seen")] {
            if !w[key].is_null() && g[field]["line"] != w[key] {
                problem(format!(
                    "finding {i}: {key} {} (want {})",
                    g[field]["line"], w[key]
                ));
            }
        }
        if let Some(values) = w["values"].as_object() {
            for (k, v) in values {
                if &g["values"][k] != v {
                    problem(format!(
                        "finding {i}: value {k} = {} (want {v})",
                        g["values"][k]
                    ));
                }
            }
        }
        if let Some(needle) = w["check_contains"].as_str() {
            let check = g["check"].as_str().unwrap_or("");
            if !check.contains(needle) {
                problem(format!("finding {i}: check `{check}` lacks `{needle}`"));
            }
        }
        for sample in g["samples"].as_array().into_iter().flatten() {
            let s = sample.as_str().unwrap_or("");
            for secret in expect["secrets"].as_array().into_iter().flatten() {
                if s.contains(secret.as_str().unwrap()) {
                    problem(format!("finding {i}: sample leaks a secret: {s}"));
                }
            }
        }
    }
    problems
}

#[test]
fn every_fixture_gives_its_expected_report() {
    let mut expects: Vec<_> = std::fs::read_dir(root().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".expect.json"))
        .collect();
    expects.sort();
    assert!(
        expects.len() >= 12,
        "only {} fixtures with expectations",
        expects.len()
    );
    let problems: Vec<String> = expects.iter().flat_map(|p| check_fixture(p)).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
