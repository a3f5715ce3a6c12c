//! Command-line behaviour: exit codes, stdin, rule files, unreadable inputs, explain, rules.

use crate::util::{run, run_stdin};

/// A registration failure through a refusing proxy, a zap JSON line as the collector logs it.
pub const PROXY_LINE: &str = r#"{"level":"error","ts":"2025-10-14T09:15:03.512Z","caller":"autoops_es/metricset.go:88","msg":"failed to register Cloud Connected Mode: Post \"https://api.elastic-cloud.com/api/v1/cloud-connected/clusters\": proxyconnect tcp: dial tcp 10.0.0.8:3128: connect: connection refused"}"#;
/// An exporter retry, logged at info: a warning.
pub const RETRY_LINE: &str = r#"{"level":"info","ts":"2025-10-14T09:15:04.000Z","caller":"internal/retry_sender.go:126","msg":"Exporting failed. Will retry the request after interval.","kind":"exporter","data_type":"logs","name":"otlphttp","error":"failed to make an HTTP request: Post \"https://otel-auto-ops.eu-west-1.aws.svc.elastic.cloud/v1/logs\": dial tcp: lookup otel-auto-ops.eu-west-1.aws.svc.elastic.cloud on 127.0.0.11:53: no such host","interval":"5.2s"}"#;
const HEALTHY: &str = r#"{"level":"info","ts":"2025-10-14T09:15:00.000Z","msg":"completed fetching node_stats metricset"}"#;

fn temp_file(name: &str, content: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    let p = path.display().to_string();
    (dir, p)
}

#[test]
fn stdin_is_scanned_without_a_subcommand() {
    let input = format!("{HEALTHY}\n{PROXY_LINE}\n");
    let r = run_stdin(&["--format", "json"], input.as_bytes());
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(doc["findings"][0]["component"], "registration");
    assert_eq!(doc["findings"][0]["cause"], "proxy");
    assert_eq!(doc["findings"][0]["first_seen"]["source"], "<stdin>");
    assert_eq!(doc["findings"][0]["first_seen"]["line"], 2);
    assert_eq!(doc["findings"][0]["values"]["proxy"], "10.0.0.8:3128");
    assert_eq!(doc["components"]["cluster"], "ok");
    assert_eq!(doc["stats"]["lines"], 2);
}

#[test]
fn empty_stdin_says_how_to_pipe_docker_logs() {
    let r = run_stdin(&[], b"");
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("2>&1"), "{}", r.stderr);
    assert!(
        r.stdout.starts_with("faultline: nothing to read"),
        "{}",
        r.stdout
    );
}

#[test]
fn check_command_is_filled_from_the_log() {
    let r = run_stdin(&["--format", "json"], PROXY_LINE.as_bytes());
    let check = r.json()["findings"][0]["check"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(check.contains("10.0.0.8:3128"), "{check}");
    assert!(
        check.contains("https://api.elastic-cloud.com/api/v1/cloud-connected/clusters"),
        "{check}"
    );
}

#[test]
fn fail_on_sets_the_threshold() {
    // A retry alone is a warning: exit 0 by default, 1 with --fail-on warning.
    let r = run_stdin(&["--format", "json"], RETRY_LINE.as_bytes());
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.json()["findings"][0]["severity"], "warning");
    let r = run_stdin(&["--fail-on", "warning"], RETRY_LINE.as_bytes());
    assert_eq!(r.code, 1);
}

#[test]
fn ndjson_has_a_match_per_failing_line_then_a_summary() {
    let input = format!("{PROXY_LINE}\n{HEALTHY}\n{PROXY_LINE}\n{RETRY_LINE}\n");
    let r = run_stdin(&["--format", "ndjson"], input.as_bytes());
    let lines: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 4, "{}", r.stdout);
    let matched: Vec<u64> = lines[..3]
        .iter()
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    assert_eq!(matched, vec![1, 3, 4]);
    assert!(lines[..3].iter().all(|l| l["type"] == "match"));
    assert_eq!(lines[2]["component"], "export");
    assert_eq!(lines[2]["cause"], "dns");
    assert_eq!(lines[2]["values"]["region"], "eu-west-1");
    // Each match names what its rule means, as the finding does.
    assert_eq!(lines[0]["title"], lines[3]["findings"][0]["title"]);
    assert!(!lines[0]["title"].as_str().unwrap().is_empty());
    // And carries the line's decoded text.
    assert_eq!(
        lines[0]["text"],
        serde_json::from_str::<serde_json::Value>(PROXY_LINE).unwrap()["msg"]
    );
    assert_eq!(lines[3]["type"], "summary");
    assert_eq!(lines[3]["stats"]["failures"], 3);
}

#[test]
fn unreadable_input_is_reported_and_the_rest_still_scanned() {
    let (_dir, good) = temp_file("agent.log", &format!("{PROXY_LINE}\n"));
    let r = run(&["scan", "does/not/exist.log", &good, "--format", "json"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("does/not/exist.log"), "{}", r.stderr);
    let doc = r.json();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
    assert_eq!(doc["stats"]["errors"], 1);
    // The JSON document names it, with what happened.
    assert_eq!(doc["problems"][0]["source"], "does/not/exist.log");
    assert_eq!(doc["problems"][0]["error"], true);
    assert!(
        doc["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("No such file"),
        "{}",
        doc["problems"]
    );
    // NDJSON has a `problem` event for it, and the summary lists it too.
    let r = run(&["scan", "does/not/exist.log", &good, "--format", "ndjson"]);
    assert_eq!(r.code, 2);
    let events: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let problem = events
        .iter()
        .find(|e| e["type"] == "problem")
        .expect("a problem event");
    assert_eq!(problem["source"], "does/not/exist.log");
    let summary = events.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["problems"][0]["source"], "does/not/exist.log");
}

#[test]
fn broken_rule_file_names_file_and_line() {
    let (_dir, rules) = temp_file(
        "my-rules.toml",
        "[[rule]]\nid = \"mine\"\ncause = \"dns\"\nanchors = [\"no such host\"]\nregex = 'lookup (unclosed'\ntitle = \"t\"\nexamples = [\"x\"]\n",
    );
    let r = run_stdin(&["--rules", &rules], PROXY_LINE.as_bytes());
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("my-rules.toml:5: invalid regex"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
}

#[test]
fn user_rule_replaces_builtin_rule_with_same_id() {
    let r = run(&["rules", "list"]);
    let proxy_rule = r
        .stdout
        .lines()
        .find(|l| l.contains(" proxy "))
        .and_then(|l| l.split_whitespace().next())
        .expect("a built-in proxy rule")
        .to_string();
    let (_dir, rules) = temp_file(
        "override.toml",
        &format!(
            "[[rule]]\nid = \"{proxy_rule}\"\ncause = \"proxy\"\nanchors = [\"never-in-any-log\"]\ntitle = \"t\"\nexamples = [\"never-in-any-log\"]\n"
        ),
    );
    let r = run_stdin(
        &["--rules", &rules, "--format", "json"],
        PROXY_LINE.as_bytes(),
    );
    let doc = r.json();
    assert_ne!(doc["findings"][0]["cause"], "proxy", "{doc}");
}

#[test]
fn rules_test_passes_on_the_builtin_set() {
    let r = run(&["rules", "test"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.trim_end().ends_with("all pass"), "{}", r.stdout);
}

#[test]
fn rules_test_reports_a_failing_example() {
    let (_dir, rules) = temp_file(
        "mine.toml",
        "[[rule]]\nid = \"mine-timeout\"\ncause = \"timeout\"\nanchors = [\"took forever\"]\ntitle = \"t\"\nexamples = [\"it took forever\", \"it was quick\"]\n",
    );
    let r = run(&["rules", "test", &rules]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout
            .contains("mine-timeout: example 2 classified as no rule"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("1 rules, 2 examples, 0 counterexamples: 1 failed"),
        "{}",
        r.stdout
    );
}

#[test]
fn every_documented_code_is_explained() {
    for code in [
        "HTTP_401",
        "HTTP_502",
        "HTTP_503",
        "HTTP_504",
        "CLUSTER_ALREADY_CONNECTED",
        "CLUSTER_NOT_READY",
        "HTTP_0",
        "LICENSE_EXPIRED",
        "LICENSE_USED_BY_ANOTHER_ACCOUNT",
        "VERSION_MISMATCH",
        "UNKNOWN_ERROR",
        "x509",
    ] {
        let r = run(&["explain", code]);
        assert_eq!(r.code, 0, "{code}: {}", r.stderr);
        assert!(r.stdout.starts_with(code), "{code}: {}", r.stdout);
        assert!(
            r.stdout.contains("Fix") || code == "UNKNOWN_ERROR",
            "{code} has no fix:\n{}",
            r.stdout
        );
    }
    let r = run(&["explain", "HTTP_503"]);
    assert!(r.stdout.contains("Server unavailable"), "{}", r.stdout);
}

#[test]
fn explain_accepts_causes_and_rules_and_rejects_nonsense() {
    let r = run(&["explain", "proxy"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("HTTPS_PROXY"), "{}", r.stdout);
    // A cause's declaration says what it means.
    let r = run(&["explain", "resource-exhausted"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains("refused the data for lack of resources"),
        "{}",
        r.stdout
    );
    let r = run(&["explain", "NOT_A_CODE"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("NOT_A_CODE"), "{}", r.stderr);
}

#[test]
fn anchors_are_printed_one_per_line() {
    let r = run(&["rules", "anchors"]);
    assert_eq!(r.code, 0);
    let anchors: Vec<&str> = r.stdout.lines().collect();
    assert!(anchors.contains(&"no such host"), "{anchors:?}");
    assert!(anchors.iter().all(|a| !a.is_empty() && !a.contains('"')));
}

#[test]
fn usage_errors_exit_2() {
    let r = run(&["--format", "yaml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("yaml"), "{}", r.stderr);
    let r = run(&["--help"]);
    assert_eq!(r.code, 0);
    assert!(r
        .stdout
        .contains("docker logs autoops-otel-agent 2>&1 | faultline"));
}

#[test]
fn many_short_user_anchors_change_the_prefilter_not_the_findings() {
    // 20 anchors under 7 bytes are more than the SIMD searcher for short anchors takes, so the
    // scan falls back to one automaton over all anchors: the findings must be the same.
    let mut rules = String::new();
    let mut lines = String::new();
    for i in 0..20 {
        rules += &format!(
            "[[cause]]\nname = \"user-{i:02}\"\ntitle = \"A cause of the user's own\"\n\n\
             [[rule]]\nid = \"user-{i:02}\"\ncomponent = \"agent\"\ncause = \"user-{i:02}\"\n\
             anchors = [\"Q{i:02}!x\"]\ntitle = \"t\"\nexamples = [\"Q{i:02}!x failed\"]\n\n"
        );
        for _ in 0..=i % 3 {
            lines += &format!("2025-10-14T09:15:0{}Z agent: Q{i:02}!x failed\n", i % 10);
        }
    }
    let (_dir, rules) = temp_file("short.toml", &rules);
    let builtin_only = format!("{HEALTHY}\n{PROXY_LINE}\n{RETRY_LINE}\n");
    let input = format!("{HEALTHY}\n{PROXY_LINE}\n{lines}{RETRY_LINE}\n");
    let doc = run_stdin(&["--rules", &rules, "--format", "json"], input.as_bytes()).json();
    let base = run_stdin(&["--format", "json"], builtin_only.as_bytes()).json();
    let findings = |doc: &serde_json::Value, user: bool| -> Vec<(String, String, u64)> {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["cause"].as_str().unwrap().starts_with("user-") == user)
            .map(|f| {
                (
                    f["component"].as_str().unwrap().to_string(),
                    f["cause"].as_str().unwrap().to_string(),
                    f["count"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let mut user = findings(&doc, true);
    user.sort();
    let want: Vec<(String, String, u64)> = (0..20)
        .map(|i| ("agent".to_string(), format!("user-{i:02}"), i % 3 + 1))
        .collect();
    assert_eq!(user, want);
    assert_eq!(findings(&doc, false), findings(&base, false));
    assert_eq!(findings(&base, false).len(), 2, "{base}");
}

#[test]
fn stdin_and_file_give_the_same_report() {
    let input = format!("{HEALTHY}\n{PROXY_LINE}\n{RETRY_LINE}\n{PROXY_LINE}\n");
    let (_dir, path) = temp_file("same.log", &input);
    let from_file = run(&["scan", &path, "--format", "json"]);
    let from_stdin = run_stdin(&["--format", "json"], input.as_bytes());
    let normalise = |s: &str, name: &str| s.replace(name, "SRC");
    assert_eq!(
        normalise(&from_file.stdout, &path),
        normalise(&from_stdin.stdout, "<stdin>")
    );
}

#[test]
fn secrets_are_masked_in_samples() {
    let line = r#"{"level":"error","ts":"2025-10-14T09:15:03.512Z","msg":"failed to get data, node_stats metricset error making http request: Get \"https://elastic:s3cr3tPass@es01:9200/_nodes/stats\": dial tcp 10.1.2.3:9200: connect: connection refused","headers":"Authorization: ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="}"#;
    let r = run_stdin(&["--format", "json"], line.as_bytes());
    assert!(!r.stdout.contains("s3cr3tPass"), "{}", r.stdout);
    assert!(
        !r.stdout
            .contains("VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw"),
        "{}",
        r.stdout
    );
    let r = run_stdin(&[], line.as_bytes());
    assert!(!r.stdout.contains("s3cr3tPass"), "{}", r.stdout);
}

#[test]
fn colour_follows_the_color_flag() {
    let r = run_stdin(&["--color", "always"], PROXY_LINE.as_bytes());
    assert!(
        r.stdout.contains("\x1b[1;31mfailing\x1b[0m"),
        "{}",
        r.stdout
    );
    // Piped output is plain by default.
    let r = run_stdin(&[], PROXY_LINE.as_bytes());
    assert!(!r.stdout.contains('\x1b'), "{}", r.stdout);
    assert!(r.stdout.contains("registration  failing"), "{}", r.stdout);
}

#[test]
fn paths_without_scan_are_scanned() {
    let fixture = crate::util::fixture("registration-proxy-docker-json.log");
    let with = run(&["scan", &fixture, "--format", "json"]);
    let without = run(&[&fixture, "--format", "json"]);
    assert_eq!(without.code, 1, "{}", without.stderr);
    assert_eq!(without.stdout, with.stdout);
    // A path that does not exist is an unreadable input, not an unknown command.
    let r = run(&["no-such-file.log"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("cannot read no-such-file.log"),
        "{}",
        r.stderr
    );
}

#[test]
fn no_rules_at_all_is_a_usage_error() {
    let r = run_stdin(&["--no-builtin-rules"], PROXY_LINE.as_bytes());
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("needs at least one --rules FILE"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[test]
fn a_time_without_an_offset_is_local_and_keeps_its_time_of_day() {
    let fixture = crate::util::fixture("registration-proxy-docker-json.log");
    // The fixture's failing lines are at 16:41:06.207Z and later on 2025-10-13.
    let count = |tz: &str, since: &str| {
        let out = crate::util::faultline()
            .env("TZ", tz)
            .args(["--since", since, "--format", "json", &fixture])
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        doc["stats"]["outside_window"].as_u64().unwrap()
    };
    assert_eq!(count("UTC", "2025-10-13 16:41:00"), 0);
    assert_eq!(count("UTC", "2025-10-13T16:41:30"), 1);
    // Two hours east of UTC (a POSIX TZ string: no time zone database needed), the same
    // wall-clock time is two hours earlier.
    assert_eq!(count("XST-2", "2025-10-13 18:41:00"), 0);
    assert_eq!(count("XST-2", "2025-10-13 18:41:30"), 1);
    let r = run(&[
        "--since",
        "2025-10-14T15:00:00Z",
        "--until",
        "2025-10-14T10:00:00Z",
        &fixture,
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is after --until"), "{}", r.stderr);
}

#[test]
fn fail_on_failing_follows_the_components_and_the_last_line_says_why() {
    let rotated = crate::util::fixture("export-503-rotated.log.gz");
    let recovered = crate::util::fixture("registration-recovered-zap-json.log");
    let last = |r: &crate::util::Run| r.stdout.lines().last().unwrap_or_default().to_string();
    // Retries logged as warnings: export is failing, but no error-level finding.
    let r = run(&["scan", &rotated, "--color", "never"]);
    assert_eq!(r.code, 0);
    assert!(
        last(&r).starts_with("Exit status 0: 1 finding below --fail-on error"),
        "{}",
        last(&r)
    );
    let r = run(&["scan", &rotated, "--color", "never", "--fail-on", "failing"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        last(&r),
        "Exit status 1: export failing at the end of the input (--fail-on failing)."
    );
    // Errors that recovered: 1 by severity, 0 by status.
    let r = run(&["scan", &recovered, "--color", "never"]);
    assert_eq!(r.code, 1);
    let r = run(&[
        "scan",
        &recovered,
        "--color",
        "never",
        "--fail-on",
        "failing",
    ]);
    assert_eq!(r.code, 0);
    assert_eq!(
        last(&r),
        "Exit status 0: no connection is failing at the end of the input (--fail-on failing)."
    );
}

#[test]
fn a_report_says_when_nothing_was_understood() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().display().to_string();
    let r = run(&["scan", &empty, "--color", "never"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.starts_with("faultline: nothing to read"),
        "{}",
        r.stdout
    );
    let r = run_stdin(
        &["--color", "never"],
        b"nginx: GET /index.html 200\nnginx: GET /favicon.ico 404\n",
    );
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.starts_with(
            "faultline: no problem found, but no line looked like the AutoOps agent's log"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("No line of the 2 lines read"),
        "{}",
        r.stdout
    );
    // A real agent log that is healthy says plainly that nothing is wrong.
    let healthy = crate::util::fixture("healthy-traps-docker-json.log");
    let r = run(&["scan", &healthy, "--color", "never"]);
    assert!(
        r.stdout.starts_with("faultline: no problem found\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn completions_and_a_man_page_come_from_the_command_line_definition() {
    for (shell, marker) in [
        ("bash", "_faultline()"),
        ("zsh", "#compdef faultline"),
        ("fish", "complete -c faultline"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let r = run(&["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(
            r.stdout.contains(marker),
            "{shell}: {}",
            &r.stdout[..r.stdout.len().min(300)]
        );
        assert!(
            r.stdout.contains("watch"),
            "{shell} completes the watch command"
        );
        assert!(r.stdout.contains("fail-on"), "{shell} completes --fail-on");
    }
    let r = run(&["man"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH DESCRIPTION",
        ".SH OPTIONS",
        ".SH SUBCOMMANDS",
    ] {
        assert!(r.stdout.contains(section), "man page lacks {section}");
    }
    assert!(
        r.stdout.contains("faultline\\-watch"),
        "the man page lists watch"
    );
}

#[test]
fn a_flag_is_honoured_or_refused_by_every_command() {
    // Written before the command or after it, a flag reaches the command it applies to.
    for args in [
        ["--format", "json", "rules", "list"],
        ["rules", "list", "--format", "json"],
    ] {
        let r = run(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        let rules = r.json();
        let rules = rules.as_array().expect("a JSON array of rules");
        assert!(rules.len() > 40, "{}", rules.len());
        assert!(rules
            .iter()
            .any(|x| x["id"] == "cause-proxy" && x["kind"] == "failure"));
    }
    let r = run(&["rules", "anchors", "--format", "json"]);
    assert_eq!(r.code, 0);
    assert!(r.json().as_array().unwrap().iter().all(|a| a.is_string()));
    let fixture = crate::util::fixture("registration-proxy-docker-json.log");
    let r = run(&[
        "--format",
        "json",
        "--since",
        "2020-01-01",
        "scan",
        &fixture,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.json()["components"]["registration"], "failing");
    // A flag that does not apply is refused by name, whichever side of the command it is on,
    // and the command's help lists only what it takes.
    for args in [
        vec!["explain", "proxy", "--format", "json"],
        vec!["--since", "2h", "explain", "proxy"],
        vec!["explain", "proxy", "--fail-on", "warning"],
        vec!["rules", "test", "--text"],
        vec!["--format", "json", "man"],
    ] {
        let r = run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stdout);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
        let flag = args.iter().find(|a| a.starts_with("--")).unwrap();
        assert!(
            r.stderr.contains(&format!("unexpected argument '{flag}'")),
            "{args:?}: {}",
            r.stderr
        );
    }
    let help = run(&["explain", "-h"]);
    assert_eq!(help.code, 0);
    for absent in ["--since", "--until", "--text", "--fail-on", "--format"] {
        assert!(
            !help.stdout.contains(absent),
            "explain -h lists {absent}:\n{}",
            help.stdout
        );
    }
    for present in ["--rules", "--color"] {
        assert!(
            help.stdout.contains(present),
            "explain -h lacks {present}:\n{}",
            help.stdout
        );
    }
    let help = run(&["scan", "-h"]);
    for present in [
        "--since",
        "--until",
        "--text",
        "--fail-on",
        "--format",
        "--rules",
    ] {
        assert!(
            help.stdout.contains(present),
            "scan -h lacks {present}:\n{}",
            help.stdout
        );
    }
    // The rules have no ECS form (they are no events): the value is refused.
    let r = run(&["rules", "list", "--format", "ecs"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(r.stderr.contains("invalid value 'ecs'"), "{}", r.stderr);
}

#[test]
fn user_rule_files_load_from_the_config_dir_and_faultline_rules() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("faultline").join("rules");
    std::fs::create_dir_all(&dir).unwrap();
    let rule = |id: &str, word: &str, cause: &str| {
        format!(
            "[[rule]]\nid = \"{id}\"\ncomponent = \"agent\"\ncause = \"{cause}\"\nanchors = [\"{word}\"]\ntitle = \"{id}\"\nexamples = ['{{\"level\":\"error\",\"msg\":\"{word} happened\"}}']\n"
        )
    };
    std::fs::write(
        dir.join("site.toml"),
        rule("site-wobble", "wobbly flux", "config-invalid"),
    )
    .unwrap();
    let extra = home.path().join("extra.toml");
    std::fs::write(
        &extra,
        rule("extra-glitch", "glitchy gear", "install-failed"),
    )
    .unwrap();
    let input = "{\"level\":\"error\",\"msg\":\"wobbly flux happened\"}\n{\"level\":\"error\",\"msg\":\"glitchy gear happened\"}\n";
    let run_with = |args: &[&str]| {
        let mut child = crate::util::faultline()
            .env("XDG_CONFIG_HOME", home.path())
            .env("FAULTLINE_RULES", &extra)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let doc: serde_json::Value = serde_json::from_str(&run_with(&["--format", "json"])).unwrap();
    let rules: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, vec!["site-wobble", "extra-glitch"], "{doc}");
    // `rules list` says where each came from.
    let list = run_with(&["rules", "list"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("site-wobble") && l.contains("site.toml:1")),
        "{list}"
    );
    // --no-user-rules skips them.
    let doc: serde_json::Value =
        serde_json::from_str(&run_with(&["--no-user-rules", "--format", "json"])).unwrap();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 0, "{doc}");
}

#[test]
fn explain_gives_a_code_s_fix_per_connection_and_takes_every_code_a_finding_carries() {
    let r = run(&["explain", "HTTP_503", "--color", "never"]);
    assert_eq!(r.code, 0);
    let sections: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with("On ")).collect();
    assert!(
        sections
            .iter()
            .any(|l| l.starts_with("On the cluster connection"))
            && sections
                .iter()
                .any(|l| l.starts_with("On the export connection")),
        "{sections:?}"
    );
    for (what, head) in [
        ("503", "HTTP_503"),
        ("HTTP_403", "http-403 (a cause)"),
        ("HTTP_404", "http-404 (a cause)"),
        ("404", "http-404 (a cause)"),
    ] {
        let r = run(&["explain", what, "--color", "never"]);
        assert_eq!(r.code, 0, "{what}: {}", r.stderr);
        assert!(r.stdout.starts_with(head), "{what}: {}", r.stdout);
    }
    // Every code a finding of a shipped fixture carries.
    let mut codes = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(crate::util::root().join("fixtures")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".expect.json") {
            continue;
        }
        let r = run(&["scan", &format!("fixtures/{name}"), "--format", "json"]);
        for f in r.json()["findings"].as_array().unwrap() {
            if let Some(code) = f["code"].as_str() {
                codes.insert(code.to_string());
            }
        }
    }
    assert!(codes.len() >= 3, "{codes:?}");
    for code in codes {
        let r = run(&["explain", &code]);
        assert_eq!(r.code, 0, "explain {code}: {}", r.stderr);
    }
}

#[test]
fn kubectl_prefix_lines_are_kept_by_a_time_window() {
    let input = format!(
        "[pod/autoops-otel-agent-7d9f/agent] {}\n[pod/autoops-otel-agent-7d9f/agent] {PROXY_LINE}\n",
        r#"{"level":"info","ts":"2025-10-14T09:00:00.000Z","msg":"starting"}"#
    );
    let r = run_stdin(
        &["--since", "2025-10-14T09:10:00Z", "--format", "json"],
        input.as_bytes(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(doc["findings"][0]["cause"], "proxy");
    assert_eq!(
        doc["findings"][0]["first_seen"]["timestamp"],
        "2025-10-14T09:15:03.512Z"
    );
    assert_eq!(doc["stats"]["outside_window"], 0);
}

#[test]
fn the_readme_s_rule_example_passes_its_own_test_and_a_loser_is_told_why() {
    let readme = std::fs::read_to_string(crate::util::root().join("README.md")).unwrap();
    let section = &readme[readme.find("## Rule files").expect("a Rule files section")..];
    let start = section.find("```toml\n").expect("a TOML example") + "```toml\n".len();
    let end = start + section[start..].find("```").unwrap();
    let (_dir, rules) = temp_file("readme.toml", &section[start..end]);
    let r = run(&["rules", "test", &rules]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.trim_end().ends_with("all pass"), "{}", r.stdout);
    // Without its priority, the built-in proxy rule wins, and the failure says so.
    let (_dir2, low) = temp_file(
        "low.toml",
        &section[start..end].replace("priority = 70", "priority = 0"),
    );
    let r = run(&["rules", "test", &low]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout
            .contains("won with priority 60 against this rule's 0"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_log_from_windows_gets_powershell_checks_too() {
    let windows = crate::util::fixture("windows-config-refused-golog.log");
    let r = run(&["scan", &windows, "--format", "json"]);
    let doc = r.json();
    let refused = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["cause"] == "refused")
        .expect("the refused finding");
    assert_eq!(
        refused["check_powershell"],
        r#"curl.exe -XGET -i https://localhost:9200 -H "Authorization: ApiKey $env:AUTOOPS_ES_API_KEY""#
    );
    let human = run(&["scan", &windows, "--color", "never"]);
    assert!(
        human
            .stdout
            .contains("  PS>    curl.exe -XGET -i https://localhost:9200 "),
        "{}",
        human.stdout
    );
    let md = run(&["scan", &windows, "--format", "markdown"]);
    assert!(
        md.stdout
            .contains("```powershell\ncurl.exe -XGET -i https://localhost:9200 "),
        "{}",
        md.stdout
    );
    // A log from Linux gets none.
    let linux = crate::util::fixture("cluster-refused-compose.log");
    let r = run(&["scan", &linux, "--format", "json"]);
    let doc = r.json();
    assert!(!doc["findings"].as_array().unwrap().is_empty());
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f.get("check_powershell").is_none()),
        "{doc}"
    );
}

/// A refused connection whose line names no host, port, path or component field: the finding's
/// component is `unknown`, the four connections keep their statuses, and the finding still counts.
#[test]
fn a_failure_without_evidence_of_its_connection_is_unknown_and_counts() {
    let line = r#"{"level":"error","ts":"2025-10-14T09:15:03.512Z","msg":"request failed","error":"dial tcp 10.0.0.9:8080: connect: connection refused"}"#;
    let input = format!("{HEALTHY}\n{line}\n");
    let r = run_stdin(&["--format", "json"], input.as_bytes());
    assert_eq!(r.code, 1, "{}", r.stdout);
    let doc = r.json();
    assert_eq!(doc["findings"][0]["component"], "unknown");
    assert_eq!(doc["findings"][0]["cause"], "refused");
    assert!(doc["findings"][0]["docs"]
        .as_str()
        .is_some_and(|d| d.starts_with("https://www.elastic.co/")));
    let components = doc["components"].as_object().unwrap();
    assert_eq!(
        components.keys().collect::<Vec<_>>(),
        ["agent", "cluster", "export", "registration"]
    );
    assert_eq!(doc["components"]["cluster"], "ok");
    assert_eq!(doc["components"]["agent"], "unknown");

    let r = run_stdin(&[], input.as_bytes());
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("connection unknown"), "{}", r.stdout);
    assert!(
        r.stdout.contains("the lines do not show which connection"),
        "{}",
        r.stdout
    );
    let r = run_stdin(&["--format", "markdown"], input.as_bytes());
    assert!(
        r.stdout
            .contains("| unknown (the lines do not show which) | — | 1 |"),
        "{}",
        r.stdout
    );
    let r = run_stdin(&["--format", "ndjson"], line.as_bytes());
    assert!(
        r.stdout
            .lines()
            .next()
            .unwrap()
            .contains(r#""component":"unknown""#),
        "{}",
        r.stdout
    );
}

/// A rule file cannot quietly invent a cause or a code: the binary refuses it with the file, the
/// line and the valid names (exit 2), and accepts it once the file declares the cause.
#[test]
fn a_rule_file_that_invents_a_cause_or_code_is_refused_until_it_declares_it() {
    let rule = "[[rule]]\nid = \"mine-throttled\"\ncause = \"throttled\"\nanchors = [\"Too Many Requests\"]\ntitle = \"Throttled\"\nexamples = [\"HTTP 429 Too Many Requests\"]\n";
    let (_dir, path) = temp_file("mine.toml", rule);
    let line = b"POST /v1/logs: HTTP 429 Too Many Requests\n";
    let r = run_stdin(&["--rules", &path], line);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains(&format!(
            "{path}:3: cause `throttled` is not a documented cause"
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("dns, "), "{}", r.stderr);
    let r = run(&["rules", "test", &path]);
    assert_eq!(r.code, 2, "{}", r.stdout);

    let coded = rule.replace(
        "cause = \"throttled\"\n",
        "cause = \"http-503\"\ncode = \"HTTP_429\"\n",
    );
    let (_dir2, coded_path) = temp_file("coded.toml", &coded);
    let r = run_stdin(&["--rules", &coded_path], line);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains(&format!(
            "{coded_path}:4: code `HTTP_429` is not a code in the code table"
        )),
        "{}",
        r.stderr
    );

    let declared = format!("[[cause]]\nname = \"throttled\"\ntitle = \"The server asks the agent to slow down\"\n\n{rule}");
    let (_dir3, declared_path) = temp_file("declared.toml", &declared);
    let r = run_stdin(&["--rules", &declared_path, "--format", "json"], line);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.json()["findings"][0]["cause"], "throttled");
    let r = run(&["rules", "test", &declared_path]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}
