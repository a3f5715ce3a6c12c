//! `--format ecs` against the Elastic Common Schema: every event kind the real binary writes
//! (`match` lines of scans and of standard input, a `problem`, the `open`, `repeat` and
//! `recovered` alerts of a `watch` run, the closing `summary`) is checked field by field against
//! the vendored ECS 9.4.0 reference (`tests/ecs/`): the field exists, its JSON value has the
//! declared type, and it uses an allowed value where ECS lists them. A golden file (insta) pins
//! one scan's documents; the alerts' times and the fields made of captured values are checked by
//! value.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

use crate::util::{fixture, root, run, run_stdin};
use crate::watch::{append, dir, failing, Watching, HEALTHY, REGISTERED};

/// One entry of `ecs_flat.yml`: what the test needs of it.
#[derive(Debug, Deserialize)]
struct Field {
    #[serde(rename = "type")]
    kind: String,
    /// `[array]` when the field holds a list.
    #[serde(default)]
    normalize: Vec<String>,
    #[serde(default)]
    allowed_values: Vec<Allowed>,
}

#[derive(Debug, Deserialize)]
struct Allowed {
    name: String,
}

fn reference() -> &'static BTreeMap<String, Field> {
    static REF: OnceLock<BTreeMap<String, Field>> = OnceLock::new();
    REF.get_or_init(|| {
        let path = root().join("tests/ecs/ecs_flat-9.4.0.subset.yml");
        let text = std::fs::read_to_string(&path).expect("the vendored ECS reference");
        let fields: BTreeMap<String, Field> =
            serde_norway::from_str(&text).expect("the ECS reference parses");
        // A reference that lost its entries would let anything pass.
        assert!(fields.len() > 100, "{} entries", fields.len());
        assert_eq!(fields["event.kind"].allowed_values.len(), 8);
        fields
    })
}

/// Whether a JSON value is what an ECS field of type `kind` holds.
fn type_ok(kind: &str, v: &Value) -> bool {
    match kind {
        "keyword" | "constant_keyword" | "wildcard" | "match_only_text" | "text" => v.is_string(),
        "long" | "integer" | "short" | "byte" | "unsigned_long" => v.is_i64() || v.is_u64(),
        "float" | "double" | "scaled_float" | "half_float" => v.is_number(),
        "boolean" => v.is_boolean(),
        "date" => v
            .as_str()
            .is_some_and(|s| s.parse::<jiff::Timestamp>().is_ok()),
        "ip" => v
            .as_str()
            .is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok()),
        "object" | "flattened" => v.is_object(),
        _ => false,
    }
}

/// The leaves of a document by dotted path; the walk stops at a field ECS declares an object
/// (`labels`) and at `faultline`, faultline's own namespace.
fn leaves<'v>(prefix: &str, v: &'v Value, out: &mut Vec<(String, &'v Value)>) {
    match v {
        Value::Object(map) if prefix.is_empty() || !reference().contains_key(prefix) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                if path == "faultline" {
                    out.push((path, v));
                } else {
                    leaves(&path, v, out);
                }
            }
        }
        _ => out.push((prefix.to_string(), v)),
    }
}

/// What is wrong with one document, in ECS terms; empty if nothing.
fn ecs_problems(doc: &Value) -> Vec<String> {
    let refs = reference();
    let mut problems = Vec::new();
    let mut fields = Vec::new();
    leaves("", doc, &mut fields);
    for (path, v) in &fields {
        if path == "faultline" {
            if !v.is_object() {
                problems.push("faultline is not an object".into());
            }
            continue;
        }
        if path.starts_with("agent.") {
            problems.push(format!("{path}: agent.* belongs to the shipper"));
            continue;
        }
        let Some(field) = refs.get(path) else {
            problems.push(format!("{path}: not an ECS 9.4.0 field"));
            continue;
        };
        let values: Vec<&Value> = match v {
            Value::Array(items) => {
                if !field.normalize.iter().any(|n| n == "array") {
                    problems.push(format!("{path}: a list, but ECS holds one value"));
                }
                items.iter().collect()
            }
            v => vec![v],
        };
        for item in values {
            if !type_ok(&field.kind, item) {
                problems.push(format!("{path}: {item} is no {}", field.kind));
            }
            if !field.allowed_values.is_empty()
                && !field
                    .allowed_values
                    .iter()
                    .any(|a| item.as_str() == Some(a.name.as_str()))
            {
                problems.push(format!("{path}: {item} is not an allowed value"));
            }
        }
        if path == "labels" {
            // Keywords, and no nesting (ECS: "should not contain nested objects").
            for (k, l) in v.as_object().into_iter().flatten() {
                if !l.is_string() || k.contains('.') {
                    problems.push(format!("labels.{k}: {l} is not a keyword label"));
                }
            }
        }
    }
    for required in [
        "@timestamp",
        "ecs.version",
        "event.kind",
        "event.category",
        "event.type",
        "event.outcome",
        "event.action",
        "event.dataset",
        "observer.product",
        "observer.version",
    ] {
        if !fields.iter().any(|(p, _)| p == required) {
            problems.push(format!("{required}: missing"));
        }
    }
    problems
}

/// The documents of a run's standard output, each line one JSON object.
fn documents(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not one JSON document a line ({e}): {l}"));
            assert!(v.is_object(), "not an object: {l}");
            v
        })
        .collect()
}

/// A field by dotted path (`event.action`).
fn get<'v>(doc: &'v Value, path: &str) -> &'v Value {
    path.split('.').fold(doc, |v, k| &v[k])
}

fn action(doc: &Value) -> &str {
    get(doc, "event.action").as_str().unwrap_or("")
}

/// The documents of one `watch --format ecs` run: a problem opens, goes on (a digest), and
/// recovers; then Ctrl-C and the summary. Shared by the tests that read them.
fn watch_run() -> &'static [Value] {
    static RUN: OnceLock<Vec<Value>> = OnceLock::new();
    RUN.get_or_init(|| {
        let (_d, dir) = dir();
        let log = dir.join("agent.log");
        append(&log, &[HEALTHY.into()]);
        let mut w = Watching::start_as("ecs", &[log.as_path()], &["--digest-interval", "100ms"]);
        append(&log, &[failing(1)]);
        w.wait("open", |v| action(v) == "open");
        append(&log, &[failing(2), failing(3)]);
        w.wait("repeat", |v| action(v) == "repeat");
        append(&log, &[REGISTERED.into()]);
        w.wait("recovered", |v| action(v) == "recovered");
        let (mut events, summary) = w.stop();
        events.push(summary);
        events
    })
}

#[test]
fn every_field_of_every_event_kind_is_in_the_ecs_reference() {
    let mut docs = Vec::new();
    // Every fixture: matches of every component and envelope, and their summaries.
    for entry in std::fs::read_dir(root().join("fixtures")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".expect.json") {
            continue;
        }
        let r = run(&["scan", "--format", "ecs", &fixture(&name)]);
        assert!(r.code < 2, "{name}: {}", r.stderr);
        docs.extend(documents(&r.stdout));
    }
    // Standard input (no log.file.path), and an input that cannot be read (a problem).
    let line = std::fs::read_to_string(root().join(fixture("cluster-401-secrets.log"))).unwrap();
    docs.extend(documents(
        &run_stdin(&["--format", "ecs"], line.as_bytes()).stdout,
    ));
    let missing = run(&["scan", "--format", "ecs", "no-such-file.log"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    docs.extend(documents(&missing.stdout));
    docs.extend(watch_run().iter().cloned());

    let kinds: BTreeSet<&str> = docs.iter().map(action).collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["match", "open", "problem", "recovered", "repeat", "summary"])
    );
    let mut wrong = BTreeSet::new();
    for d in &docs {
        for p in ecs_problems(d) {
            wrong.insert(format!("{} event: {p}", action(d)));
        }
    }
    assert!(wrong.is_empty(), "{:#?}", wrong);
}

#[test]
fn the_check_rejects_what_ecs_does_not_define() {
    // The checker itself: each of these documents breaks one rule, and is caught.
    let good = serde_json::json!({
        "@timestamp": "2025-10-14T09:00:01.000Z", "ecs": {"version": "9.4.0"},
        "event": {"kind": "alert", "category": ["network"], "type": ["start"],
                  "outcome": "failure", "action": "open", "dataset": "faultline.finding"},
        "observer": {"product": "faultline", "version": "0.1.0"},
        "server": {"port": 9200}, "labels": {"region": "eu-west-1"},
        "faultline": {"anything": {"goes": 1}}
    });
    assert_eq!(ecs_problems(&good), Vec::<String>::new());
    let broken = |path: &str, value: Value| {
        let mut d = good.clone();
        let mut at = &mut d;
        let parts: Vec<&str> = path.split('.').collect();
        for p in &parts[..parts.len() - 1] {
            at = at.as_object_mut().unwrap().entry(*p).or_insert(Value::Null);
            if at.is_null() {
                *at = serde_json::json!({});
            }
        }
        at[parts[parts.len() - 1]] = value;
        let problems = ecs_problems(&d);
        assert!(!problems.is_empty(), "{path} = not caught");
    };
    broken("event.kind", "finding".into());
    broken("event.category", serde_json::json!(["connection"]));
    broken("event.outcome", serde_json::json!(["failure"]));
    broken("server.port", "9200".into());
    broken("@timestamp", "yesterday".into());
    broken("service.target.kind", "cluster".into());
    broken("agent.name", "faultline".into());
    broken("labels.nested", serde_json::json!({"a": "b"}));
    broken("faultline_check", "curl".into());
}

#[test]
fn a_watch_run_alerts_with_the_log_s_times() {
    let docs = watch_run();
    let alerts: Vec<&Value> = docs
        .iter()
        .filter(|d| get(d, "event.kind") == "alert")
        .collect();
    let names: Vec<&str> = alerts.iter().map(|d| action(d)).collect();
    // Open, one digest or more (the watch may read the two later lines apart), recovered.
    assert!(
        names.len() >= 3
            && names[0] == "open"
            && names[names.len() - 1] == "recovered"
            && names[1..names.len() - 1].iter().all(|n| *n == "repeat"),
        "{names:?}"
    );
    let (open, recovered) = (alerts[0], alerts[alerts.len() - 1]);
    let repeats = &alerts[1..alerts.len() - 1];
    for a in &alerts {
        assert_eq!(get(a, "service.target.type"), "registration");
        assert_eq!(get(a, "error.type"), "proxy");
        assert_eq!(get(a, "event.start"), "2025-10-14T09:00:01.000Z");
        assert_eq!(get(a, "server.address"), "api.elastic-cloud.com");
        assert_eq!(get(a, "server.port"), 443);
        assert!(get(a, "faultline.check")
            .as_str()
            .unwrap()
            .contains("-x 10.0.0.8:3128"));
    }
    assert_eq!(get(open, "event.type"), &serde_json::json!(["start"]));
    assert_eq!(get(open, "event.outcome"), "failure");
    assert_eq!(get(open, "@timestamp"), "2025-10-14T09:00:01.000Z");
    let at = |v: &Value| v.as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    for r in repeats {
        assert_eq!(get(r, "event.type"), &serde_json::json!(["info"]));
        assert_eq!(get(r, "event.outcome"), "failure");
        // Up to the latest failing line read, and as long as from the first.
        let end = get(r, "event.end");
        assert!(
            end == "2025-10-14T09:00:02.000Z" || end == "2025-10-14T09:00:03.000Z",
            "{end}"
        );
        assert_eq!(get(r, "@timestamp"), end);
        let nanos = at(get(r, "event.start")).duration_until(at(end)).as_nanos();
        assert_eq!(get(r, "event.duration"), &Value::from(nanos as u64));
    }
    // Every line after the open is counted once: in a digest, or by the recovery.
    let lines: u64 = alerts[1..]
        .iter()
        .map(|a| get(a, "faultline.lines").as_u64().unwrap())
        .sum();
    assert_eq!(lines, 2);
    assert_eq!(get(recovered, "event.type"), &serde_json::json!(["end"]));
    assert_eq!(get(recovered, "event.outcome"), "success");
    // Recovered when the registration succeeded, 29 min 59 s after the first failure.
    assert_eq!(get(recovered, "@timestamp"), "2025-10-14T09:30:00.000Z");
    assert_eq!(get(recovered, "event.end"), "2025-10-14T09:30:00.000Z");
    assert_eq!(get(recovered, "event.duration"), 1_799_000_000_000u64);
    // Each match at its line's time.
    let matches: Vec<&Value> = docs.iter().filter(|d| action(d) == "match").collect();
    let times: Vec<&Value> = matches.iter().map(|d| get(d, "@timestamp")).collect();
    assert_eq!(
        times,
        [
            "2025-10-14T09:00:01.000Z",
            "2025-10-14T09:00:02.000Z",
            "2025-10-14T09:00:03.000Z"
        ]
    );
    assert!(matches.iter().all(|d| get(d, "event.kind") == "event"));
    let summary = docs.last().unwrap();
    assert_eq!(action(summary), "summary");
    assert_eq!(
        get(summary, "faultline.components.registration"),
        "recovered"
    );
    assert_eq!(get(summary, "event.outcome"), "success");
}

#[test]
fn captured_values_become_ecs_fields_only_when_they_are_valid() {
    let line = |url: &str| {
        format!(
            r#"{{"level":"error","ts":"2025-10-14T09:00:00.000Z","msg":"Get \"{url}/_cluster/health\": dial tcp 10.0.0.5:9200: connect: connection refused"}}"#
        )
    };
    let first = |url: &str| {
        let r = run_stdin(&["--format", "ecs"], format!("{}\n", line(url)).as_bytes());
        documents(&r.stdout).remove(0)
    };
    let ok = first("https://es01.internal:9243");
    assert_eq!(get(&ok, "url.full"), "https://es01.internal:9243");
    assert_eq!(get(&ok, "server.address"), "es01.internal");
    assert_eq!(get(&ok, "server.port"), 9243);
    assert_eq!(get(&ok, "service.target.type"), "cluster");
    // Read from standard input: no file path.
    assert!(get(&ok, "log.file.path").is_null());
    // User information never reaches url.full.
    let with_user = first("https://elastic:changeme@es01:9200");
    assert_eq!(get(&with_user, "url.full"), "https://es01:9200");
    assert!(!serde_json::to_string(&with_user)
        .unwrap()
        .contains("changeme"));
    // A port that is no port, a host that is no host: no url.full or server field.
    for bad in [
        "https://es01:92000",
        "https://es$(id):9200",
        "https://es01:0",
    ] {
        let d = first(bad);
        assert_eq!(get(&d, "event.action"), "match", "{bad}");
        assert!(get(&d, "url.full").is_null(), "{bad}: {d}");
        assert!(get(&d, "server.port").is_null(), "{bad}: {d}");
        assert!(
            get(&d, "server.address").is_null() || get(&d, "server.address") == "es01",
            "{bad}: {d}"
        );
    }
}

#[test]
fn the_ecs_events_of_a_scan_match_the_golden_file() {
    let r = run(&[
        "scan",
        "--format",
        "ecs",
        &fixture("cluster-refused-compose.log"),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut docs = documents(&r.stdout);
    for d in &mut docs {
        // The run's own time (summary, problem) and faultline's version are volatile.
        if matches!(action(d), "summary" | "problem") {
            d["@timestamp"] = "[now]".into();
        }
        d["observer"]["version"] = "[version]".into();
    }
    insta::assert_json_snapshot!(docs);
}
