//! Hostile values (issue 10, items 3 to 5): log lines that try to inject shell commands into the
//! printed check command, escape sequences into the terminal, or that carry secrets. Each row is
//! one line run through the real binary in every format; the assertions read the real output.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::util::{run, run_stdin, Run};

/// What a masked secret reads as.
const MASK: &str = "****";

/// One hostile line and what must hold of the reports of it.
struct Row {
    name: &'static str,
    /// The input: one or more log lines.
    input: &'static str,
    /// Strings that must appear nowhere in any output (human, json, ndjson, ecs; stdout and stderr).
    secrets: &'static [&'static str],
    /// What the check command must contain: the value when it is valid, the placeholder's
    /// default when it is not.
    check_has: &'static str,
}

const ROWS: &[Row] = &[
    // --- item 3: shell injection through captured values ---
    Row {
        name: "es url with ; and ${IFS}",
        input: r#"{"level":"error","msg":"Get \"https://es;touch${IFS}PWNED;#:9200/_license\": dial tcp 10.0.0.5:9200: connect: connection refused"}"#,
        secrets: &[],
        check_has: "curl -XGET -i $AUTOOPS_ES_URL ",
    },
    Row {
        name: "proxy name with $(…)",
        input: r#"{"level":"error","msg":"failed to register Cloud Connected Mode: Post \"https://api.elastic-cloud.com/api/v1/cloud-connected/clusters\": proxyconnect tcp: dial tcp: lookup $(touch${IFS}PWNED): no such host"}"#,
        secrets: &[],
        check_has: "-x $HTTPS_PROXY https://api.elastic-cloud.com/",
    },
    Row {
        name: "proxy address with backticks",
        input: r#"{"level":"error","msg":"failed to register Cloud Connected Mode: Post \"https://api.elastic-cloud.com/api/v1/cloud-connected/clusters\": proxyconnect tcp: dial tcp `touch${IFS}PWNED`:3128: connect: connection refused"}"#,
        secrets: &[],
        check_has: "-x $HTTPS_PROXY ",
    },
    Row {
        name: "otel url with ;",
        input: r#"{"level":"error","msg":"Exporting failed. Dropping data.","kind":"exporter","error":"failed to make an HTTP request: Post \"https://x;touch${IFS}PWNED;#/v1/logs\": dial tcp 10.0.0.9:443: connect: connection refused"}"#,
        secrets: &[],
        check_has: "curl -XPOST -i 'https://otel-auto-ops.<region>.<csp>.svc.elastic.cloud'/v1/logs",
    },
    Row {
        name: "cloud api url with $(…)",
        input: r#"{"level":"error","msg":"failed to register Cloud Connected Mode: Post \"https://$(touch${IFS}PWNED)/api/v1/cloud-connected/clusters\": dial tcp 10.0.0.7:443: connect: connection refused"}"#,
        secrets: &[],
        check_has: "curl -XPOST -i https://api.elastic-cloud.com/api/v1/",
    },
    Row {
        name: "valid values are still used",
        input: r#"{"level":"error","msg":"failed to register Cloud Connected Mode: Post \"https://api.elastic-cloud.com/api/v1/cloud-connected/clusters\": proxyconnect tcp: dial tcp [2001:db8::8]:3128: connect: connection refused"}"#,
        secrets: &[],
        check_has: "-x '[2001:db8::8]:3128' ",
    },
    // --- item 4: terminal injection ---
    Row {
        name: "OSC 52 and a bell in the ES URL",
        input: r#"{"level":"error","msg":"Get \"https://es01\u001b]52;c;dG91Y2ggUFdORUQ=\u0007:9200/\": dial tcp 10.0.0.5:9200: connect: connection refused"}"#,
        secrets: &[],
        check_has: "curl -XGET -i $AUTOOPS_ES_URL ",
    },
    Row {
        name: "bidi override in the message",
        input: "{\"level\":\"error\",\"msg\":\"Get \\\"https://es01:9200/\\\": dial tcp: lookup es01\u{202e}lmth.exe on 10.0.0.2:53: no such host\"}",
        secrets: &[],
        check_has: "curl -XGET -i https://es01:9200 ",
    },
    // --- item 5: secrets ---
    Row {
        name: "curl -u",
        input: r#"{"level":"error","msg":"Get \"https://es01:9200/\": dial tcp 10.0.0.5:9200: connect: connection refused","hint":"try curl -u elastic:Pw9;d{SECRETA\"x https://es01:9200"}"#,
        secrets: &["Pw9", "SECRETA"],
        check_has: "https://es01:9200",
    },
    Row {
        name: "--es-password",
        input: "level=error msg=\"install failed\" cmd=\"./install.sh --es-password Hunter2SECRETB --es-url https://es01:9200\" err=\"Get https://es01:9200/: dial tcp 10.0.0.5:9200: connect: connection refused\"",
        secrets: &["Hunter2SECRETB"],
        check_has: "https://es01:9200",
    },
    Row {
        name: "cloud_auth",
        input: r#"{"level":"error","msg":"Get \"https://es01:9200/\": dial tcp 10.0.0.5:9200: connect: connection refused","settings":"cloud_auth=elastic:CloudSECRETC"}"#,
        secrets: &["CloudSECRETC"],
        check_has: "https://es01:9200",
    },
    Row {
        name: "password with ; { and \"",
        input: r#"{"level":"error","msg":"Get \"https://es01:9200/\": dial tcp 10.0.0.5:9200: connect: connection refused","args":"password=ab;SECRETD{x\"y"}"#,
        secrets: &["SECRETD", "ab;"],
        check_has: "https://es01:9200",
    },
    Row {
        name: "token in a URL",
        input: r#"{"level":"error","msg":"Get \"https://tokSECRETE123@es01:9200/_license\": dial tcp 10.0.0.5:9200: connect: connection refused"}"#,
        secrets: &["tokSECRETE123"],
        check_has: "curl -XGET -i https://es01:9200 ",
    },
    Row {
        name: "URL password holding @",
        input: r#"{"level":"error","msg":"Get \"https://elastic:pa@ssSECRETF@es01:9200/_license\": dial tcp 10.0.0.5:9200: connect: connection refused"}"#,
        secrets: &["ssSECRETF", "pa@ss"],
        check_has: "curl -XGET -i https://es01:9200 ",
    },
    Row {
        name: "short all-letter bearer token",
        input: r#"{"level":"error","msg":"Get \"https://es01:9200/\": dial tcp 10.0.0.5:9200: connect: connection refused","auth":"Bearer qwzxSECRETG"}"#,
        secrets: &["qwzxSECRETG"],
        check_has: "https://es01:9200",
    },
    Row {
        name: "AUTOOPS_TEMP_RESOURCE_ID",
        input: r#"{"level":"error","msg":"Get \"https://es01:9200/\": dial tcp 10.0.0.5:9200: connect: connection refused","env":"AUTOOPS_TEMP_RESOURCE_ID=res-SECRETH-7f3a"}"#,
        secrets: &["SECRETH"],
        check_has: "https://es01:9200",
    },
    Row {
        name: "JSON secret in zap in Docker json-file",
        input: r#"{"log":"{\"level\":\"error\",\"msg\":\"Get \\\"https://es01:9200/\\\": dial tcp 10.0.0.5:9200: connect: connection refused\",\"body\":\"{\\\"password\\\":\\\"Deep;SECRETI\\\\\\\"q\\\",\\\"api_key\\\":\\\"id:SECRETJ\\\"}\"}\n","stream":"stderr","time":"2025-10-14T09:15:03.512Z"}"#,
        secrets: &["SECRETI", "SECRETJ"],
        check_has: "https://es01:9200",
    },
    Row {
        name: "forms masked before stay masked",
        input: r#"{"level":"error","msg":"Get \"https://elastic:oldSECRETK@es01:9200/\": dial tcp 10.0.0.5:9200: connect: connection refused","headers":{"Authorization":["ApiKey SECRETL=="]},"env":"AUTOOPS_ES_API_KEY=SECRETM:x AUTOOPS_TOKEN=SECRETN password=SECRETO"}"#,
        secrets: &["SECRETK", "SECRETL", "SECRETM", "SECRETN", "SECRETO"],
        check_has: "https://es01:9200",
    },
];

/// The text of `cmd` that a POSIX shell reads outside single quotes (where `$`, backticks and
/// operators act), with the content of single quotes left out.
fn outside_single_quotes(cmd: &str) -> String {
    let mut out = String::new();
    let mut single = false;
    let mut double = false;
    let mut chars = cmd.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' if !double => single = !single,
            _ if single => {}
            '"' => double = !double,
            '\\' => {
                chars.next();
            }
            c => out.push(c),
        }
    }
    assert!(!single && !double, "unbalanced quotes in {cmd:?}");
    out
}

/// Asserts that `check` is safe to paste: outside single quotes, no command separator, pipe,
/// redirection, command substitution, backtick, or control character.
fn assert_safe(row: &str, check: &str) {
    let active = outside_single_quotes(check);
    for bad in [";", "|", "&", "`", "$(", "${", "<", ">", "PWNED"] {
        assert!(
            !active.contains(bad),
            "{row}: `{bad}` outside single quotes in {check:?}"
        );
    }
    assert!(
        !check.chars().any(|c| c.is_control()),
        "{row}: control character in {check:?}"
    );
}

/// Runs every check command with `sh`, `curl`, `docker` and `widgetctl` stubbed, in an empty directory, and
/// asserts nothing was created there: a pasted command does what it says and nothing more.
fn assert_runs_harmlessly(row: &str, checks: &[String]) {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    let work = dir.path().join("work");
    let log = dir.path().join("ran.log");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    for stub in ["curl", "docker", "widgetctl"] {
        let path = bin.join(stub);
        // Each stub notes that it ran, outside the directory watched for side effects.
        std::fs::write(
            &path,
            format!("#!/bin/sh\necho {stub} >> '{}'\n", log.display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for check in checks {
        let _ = std::fs::remove_file(&log);
        let status = Command::new("sh")
            .arg("-c")
            .arg(check)
            .current_dir(&work)
            .env_clear()
            .env("PATH", &path)
            .status()
            .expect("sh runs");
        let created: Vec<_> = std::fs::read_dir(&work)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            created.is_empty(),
            "{row}: running {check:?} (status {status}) created {created:?}"
        );
        // The command is well formed and ran the one program it names, once.
        assert!(status.success(), "{row}: {check:?} failed: {status}");
        let program = check.split_whitespace().next().unwrap_or_default();
        let ran = std::fs::read_to_string(&log).unwrap_or_default();
        assert_eq!(ran, format!("{program}\n"), "{row}: {check:?}");
    }
}

/// The check commands of a JSON document's findings.
fn checks_of(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["check"].as_str().map(str::to_string))
        .collect()
}

fn assert_no_secret(row: &Row, format: &str, r: &Run) {
    for secret in row.secrets {
        for (stream, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
            assert!(
                !text.contains(secret),
                "{}: `{secret}` in the {format} {stream}:\n{text}",
                row.name
            );
        }
    }
}

#[test]
fn hostile_lines_yield_safe_reports_in_every_format() {
    // Every row is checked, and every failing row named, not only the first.
    let failed: Vec<&str> = ROWS
        .iter()
        .filter(|row| std::panic::catch_unwind(|| check_row(row)).is_err())
        .map(|row| row.name)
        .collect();
    assert!(failed.is_empty(), "rows failed: {failed:?}");
}

/// Runs one row in json, ndjson, ecs and human and asserts what must hold of each.
fn check_row(row: &Row) {
    let input = format!("{}\n", row.input);

    let json = run_stdin(&["--format", "json"], input.as_bytes());
    assert_eq!(json.code, 1, "{}: {}", row.name, json.stderr);
    let doc = json.json();
    assert_no_secret(row, "json", &json);
    let checks = checks_of(&doc);
    assert!(!checks.is_empty(), "{}: no check command", row.name);
    assert!(
        checks.iter().any(|c| c.contains(row.check_has)),
        "{}: no check holds {:?}: {checks:?}",
        row.name,
        row.check_has
    );
    for c in &checks {
        assert_safe(row.name, c);
    }
    assert_runs_harmlessly(row.name, &checks);
    if !row.secrets.is_empty() {
        // The secret was in a line that was reported, and masked there.
        let samples = doc["findings"][0]["samples"].to_string();
        assert!(samples.contains(MASK), "{}: {samples}", row.name);
    }

    let events = lines_in(row, "ndjson", input.as_bytes());
    let summary = events.last().expect("a summary");
    assert_eq!(summary["type"], "summary", "{}", row.name);
    if !row.secrets.is_empty() {
        // The match event carries the line, masked.
        let text = events[0]["text"].as_str().unwrap_or_default();
        assert!(text.contains(MASK), "{}: {text:?}", row.name);
    }
    assert_eq!(checks_of(summary), checks, "{}", row.name);

    let docs = lines_in(row, "ecs", input.as_bytes());
    for d in &docs {
        if let Some(check) = d["faultline"]["check"].as_str() {
            assert_safe(row.name, check);
        }
        // Only a valid host name or address becomes server.address.
        if let Some(host) = d["server"]["address"].as_str() {
            assert!(
                host.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-_:".contains(c)),
                "{}: server.address {host:?}",
                row.name
            );
        }
    }
    if !row.secrets.is_empty() {
        // The line as read is in event.original, masked.
        let original = docs[0]["event"]["original"].as_str().unwrap_or_default();
        assert!(original.contains(MASK), "{}: {original:?}", row.name);
    }

    let human = run_stdin(&[], input.as_bytes());
    assert_eq!(human.code, 1, "{}: {}", row.name, human.stderr);
    assert_no_secret(row, "human", &human);
    let human_checks: Vec<&str> = human
        .stdout
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("Check  "))
        .collect();
    assert_eq!(human_checks, checks, "{}", row.name);
    assert_terminal_safe(row.name, &human.stdout);
    assert_terminal_safe(row.name, &human.stderr);
}

/// Runs a row's input in a line-per-event `format` (exit 1, no secret) and returns its events.
fn lines_in(row: &Row, format: &str, input: &[u8]) -> Vec<Value> {
    let r = run_stdin(&["--format", format], input);
    assert_eq!(r.code, 1, "{}: {}", row.name, r.stderr);
    assert_no_secret(row, format, &r);
    r.stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON event a line"))
        .collect()
}

/// Asserts that `text` holds no character that acts on a terminal or reorders text, but the
/// newlines between lines.
fn assert_terminal_safe(row: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
        })
        .collect();
    assert!(bad.is_empty(), "{row}: {bad:?} reach the terminal:\n{text}");
}

#[test]
fn bidi_in_a_sample_is_shown_escaped() {
    let row = ROWS
        .iter()
        .find(|r| r.input.contains('\u{202e}'))
        .expect("a bidi row");
    let human = run_stdin(&[], format!("{}\n", row.input).as_bytes());
    assert!(
        human.stdout.contains(r"lookup es01\u{202e}lmth.exe"),
        "{}",
        human.stdout
    );
}

#[test]
fn file_names_with_escapes_are_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let name = "agent\x1b]52;c;dG91Y2g=\x07\u{202e}gol.log";
    let path = dir.path().join(name);
    std::fs::write(&path, format!("{}\n", ROWS[1].input)).unwrap();
    let p = path.display().to_string();
    for args in [vec!["scan", &p], vec!["scan", &p, "--color", "always"]] {
        let r = run(&args);
        assert_eq!(r.code, 1, "{}", r.stderr);
        let visible = format!(
            "{}:1",
            Path::new(&p)
                .with_file_name(r"agent\x1b]52;c;dG91Y2g=\x07\u{202e}gol.log")
                .display()
        );
        assert!(
            r.stdout.contains(&visible),
            "{visible} not in:\n{}",
            r.stdout
        );
        // With colour on, ESC starts only our own SGR sequences `ESC [ … m`.
        let mut rest = r.stdout.as_str();
        while let Some(i) = rest.find('\x1b') {
            rest = &rest[i + 1..];
            let sgr = rest.strip_prefix('[').is_some_and(|s| {
                let end = s.find('m').unwrap_or(s.len());
                end < s.len() && s[..end].bytes().all(|b| b.is_ascii_digit() || b == b';')
            });
            assert!(
                sgr,
                "a raw ESC that is not colour: {:?}",
                &rest[..rest.len().min(20)]
            );
        }
        assert!(!r.stdout.contains('\x07') && !r.stdout.contains('\u{202e}'));
    }
}

#[test]
fn free_text_values_are_single_quoted_in_user_rules() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("mine.toml");
    std::fs::write(
        &rules,
        r#"
[[rule]]
id = "mine-broke"
component = "agent"
cause = "config-invalid"
anchors = ["widget broke"]
regex = 'widget broke: (?P<widget>.+)$'
title = "A widget broke"
examples = ["widget broke: w1"]

[[fix]]
id = "mine-broke"
rule = "mine-broke"
summary = "Look at the widget."
check = '''widgetctl status {{widget}} --name "{{widget}}" -d '{"w": "{{widget}}"}''''
docs = "https://example.com/widgets"
"#,
    )
    .unwrap();
    let rules = rules.display().to_string();
    let hostile = r#"widget broke: a'b"c $(touch PWNED) `touch PWNED`; touch PWNED"#;
    let r = run_stdin(
        &["--rules", &rules, "--format", "json"],
        format!("{hostile}\n").as_bytes(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    let checks = checks_of(&doc);
    assert_eq!(checks.len(), 1, "{}", r.stdout);
    assert_safe("user rule", &checks[0]);
    assert_runs_harmlessly("user rule", &checks);
    // The shell gives the command the value exactly as captured, three times.
    let value = hostile.strip_prefix("widget broke: ").unwrap();
    let echo = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "printf '%s\\n' {}",
            checks[0].strip_prefix("widgetctl status ").unwrap()
        ))
        .output()
        .unwrap();
    let args = String::from_utf8(echo.stdout).unwrap();
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(
        args,
        [
            value,
            "--name",
            value,
            "-d",
            &format!(r#"{{"w": "{value}"}}"#)
        ]
    );
}

#[test]
fn live_alerts_carry_the_safe_check() {
    use std::io::Write;
    use std::process::Stdio;

    let mut child = crate::util::spawn(&["--color", "never"], Stdio::piped());
    let mut stdin = child.stdin.take().unwrap();
    let rx = crate::util::lines_of(child.stdout.take().unwrap());
    // The proxy row, then the OSC 52 row; the pipe stays open so that alerts are live.
    let rows = [&ROWS[1], &ROWS[6]];
    for row in rows {
        writeln!(stdin, "{}", row.input).unwrap();
    }
    stdin.flush().unwrap();
    let mut checks = Vec::new();
    let mut seen = Vec::new();
    while checks.len() < rows.len() {
        seen.extend(crate::util::wait_for(&rx, "check: "));
        let line = seen.last().unwrap().trim_start();
        let check = line.strip_prefix("check: ").expect("a check line");
        checks.push(check.to_string());
    }
    drop(stdin);
    let _ = child.wait();
    for check in &checks {
        assert_safe("live alert", check);
    }
    for row in rows {
        assert!(
            checks.iter().any(|c| c.contains(row.check_has)),
            "{}: {checks:?}",
            row.name
        );
    }
    assert_terminal_safe("live alerts", &seen.join("\n"));
}

/// A sample keeps the first 8 000 bytes of a long line and masks them: a URL's password cut
/// there has lost the `@` that marks it as one, so the token the cut falls in is left out. A long
/// masked password earlier in the line brings the cut within the 2 000 characters a sample shows.
#[test]
fn a_password_cut_at_a_sample_s_end_is_not_shown_in_part() {
    let head = format!("{REFUSED}password={} ", "A".repeat(6500));
    let line = secret_cut_at(8000, &head, "https://elastic:{}@es01:9200/ more");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agent.log");
    std::fs::write(&file, &line).unwrap();
    for format in ["human", "json", "ndjson", "ecs", "markdown"] {
        for r in [
            run_stdin(&["--format", format, "--color", "never"], line.as_bytes()),
            run(&[
                "scan",
                file.to_str().unwrap(),
                "--format",
                format,
                "--color",
                "never",
            ]),
        ] {
            assert_eq!(r.code, 1, "{format}: {}", r.stderr);
            assert_no_part_of_the_secret(format, &r);
        }
    }
    // The sample says where it was cut: after the scheme, the rest left out.
    let doc = run_stdin(&["--format", "json"], line.as_bytes()).json();
    let sample = doc["findings"][0]["samples"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(sample.ends_with(" https://…"), "{sample}");
}

/// A line longer than 16 MiB is read from a pipe in pieces, each masked on its own: a piece must
/// not end inside a URL's password (the next piece would begin with its rest, without the scheme
/// that marks it as one) nor between a key and its value (the value would begin the next piece
/// without its key).
#[test]
fn a_password_across_the_pieces_of_an_over_long_line_is_masked() {
    const PIECE: usize = 16 << 20;
    let input = [
        "https://elastic:{}@es01:9200/ connection refused again",
        "Authorization: Bearer {} connection refused again",
    ]
    .map(|form| secret_cut_at(PIECE, REFUSED, form))
    .concat();
    // The events show each piece's text, the summary its samples (ECS events and the other
    // formats print the same masked text and samples).
    let r = run_stdin(&["--format", "ndjson"], input.as_bytes());
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_no_part_of_the_secret("ndjson", &r);
    // Both secrets were in pieces the events show, masked.
    assert!(r.stdout.contains("https://elastic:****@es01:9200/"));
    assert!(r.stdout.contains("Authorization: Bearer ****"));
}

/// A failing line's start, for the lines built around a secret.
const REFUSED: &str = "error making http request: Get \"https://es01:9200/\": dial tcp 10.0.0.5:9200: connect: connection refused ";

/// A line of `head`, a run of `B`, then `form` with the secret `QXZJVQXZ` in place of `{}`: its
/// byte `cut` (counted from 1) is the secret's fourth, so that a cut there falls inside it.
fn secret_cut_at(cut: usize, head: &str, form: &str) -> String {
    let before = form.split("{}").next().unwrap_or_default();
    let pad = cut - head.len() - before.len() - 4 - 1;
    let line = format!(
        "{head}{} {}\n",
        "B".repeat(pad),
        form.replace("{}", "QXZJVQXZ")
    );
    assert_eq!(&line[cut - 4..cut], "QXZJ");
    line
}

/// Fails if the run's output shows three letters running of the secret [`secret_cut_at`] writes.
fn assert_no_part_of_the_secret(format: &str, r: &Run) {
    for (stream, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        assert!(
            !text.contains("QXZ"),
            "{format} {stream} shows a part of the secret: {}",
            excerpt(text, "QXZ")
        );
    }
}

/// Some 300 bytes of `text` around the first `needle` (made valid UTF-8 where cut).
fn excerpt(text: &str, needle: &str) -> String {
    let at = text.find(needle).unwrap_or(0);
    let bytes = &text.as_bytes()[at.saturating_sub(150)..];
    String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned()
}
