//! `deploy/`: the shipping recipes (Filebeat, Elastic Agent, OpenTelemetry collector) parse and
//! hold what their docs require, and read what the real binary writes with `--format ecs`; the
//! Kubernetes manifests keep to least privilege, their DaemonSet's command runs as written, and
//! they validate offline against Kubernetes' schemas (`deploy/check.sh`, which installs the
//! `kubernetes-validate` package into a virtual environment under `target/` on first use); the
//! Dockerfile builds a static binary into an empty, non-root image.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;
use serde_json::Value;

use crate::util::{faultline, root, run};

fn deploy(path: &str) -> PathBuf {
    root().join("deploy").join(path)
}

/// The YAML documents of a file, as JSON values.
fn yaml(path: &str) -> Vec<Value> {
    let text = fs::read_to_string(deploy(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_norway::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{path}: {e}")))
        .collect()
}

/// A setting by its dotted name, written either way Beats accept: `a.b.c: 1` or nested maps.
fn setting<'v>(v: &'v Value, name: &str) -> Option<&'v Value> {
    if let Some(found) = v.get(name) {
        return Some(found);
    }
    name.match_indices('.').find_map(|(i, _)| {
        v.get(&name[..i])
            .and_then(|inner| setting(inner, &name[i + 1..]))
    })
}

fn str_of<'v>(v: &'v Value, name: &str) -> &'v str {
    setting(v, name)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string {name} in {v}"))
}

fn list_of<'v>(v: &'v Value, name: &str) -> &'v Vec<Value> {
    setting(v, name)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no list {name} in {v}"))
}

/// Whether `text` fits a Go time layout made of the reference time's digits and literals
/// (`2006-01-02T15:04:05.000Z`): a digit where the layout has one, the same character elsewhere.
fn fits_go_layout(text: &str, layout: &str) -> bool {
    text.len() == layout.len()
        && text.chars().zip(layout.chars()).all(|(t, l)| {
            if l.is_ascii_digit() {
                t.is_ascii_digit()
            } else {
                t == l
            }
        })
}

/// What faultline writes for the recipes to read: the ECS events of a scan of every fixture,
/// one per line.
fn ecs_output() -> Vec<String> {
    let r = run(&["scan", "--format", "ecs", "fixtures"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    r.stdout.lines().map(str::to_string).collect()
}

/// A filestream input (Filebeat's or an Elastic Agent stream): its id, paths, fingerprint and
/// parsers, as the filestream docs require; returns its fingerprint length.
fn check_filestream(input: &Value, what: &str) -> u64 {
    assert!(!str_of(input, "id").is_empty(), "{what}: an id");
    let paths = list_of(input, "paths");
    assert!(
        !paths.is_empty()
            && paths
                .iter()
                .all(|p| p.as_str().is_some_and(|p| p.starts_with('/'))),
        "{what}: absolute paths"
    );
    assert_eq!(
        setting(input, "prospector.scanner.fingerprint.enabled"),
        Some(&Value::Bool(true)),
        "{what}"
    );
    let length = setting(input, "prospector.scanner.fingerprint.length")
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{what}: the fingerprint length is lowered"));
    assert!(
        (64..1024).contains(&length),
        "{what}: fingerprint length {length}: at least filestream's minimum of 64, below the default 1024"
    );
    let parsers = list_of(input, "parsers");
    let ndjson = parsers
        .last()
        .and_then(|p| p.get("ndjson"))
        .unwrap_or_else(|| panic!("{what}: the last parser is ndjson"));
    // The document's fields at the root of the event, over the shipper's own.
    assert_eq!(ndjson["target"], "", "{what}");
    assert_eq!(ndjson["overwrite_keys"], true, "{what}");
    assert_eq!(ndjson["add_error_key"], true, "{what}");
    for p in parsers {
        let name = p.as_object().and_then(|m| m.keys().next()).unwrap();
        assert!(
            ["ndjson", "container"].contains(&name.as_str()),
            "{what}: parser {name}"
        );
    }
    if paths
        .iter()
        .any(|p| p.as_str().unwrap().starts_with("/var/log/containers/"))
    {
        // A container log: its envelope off first, stdout only.
        assert_eq!(parsers[0]["container"]["stream"], "stdout", "{what}");
    }
    length
}

/// The container log file names of faultline's pods on a node: `<pod>_<namespace>_<container>-
/// <container id>.log`, from the manifests.
fn container_log_names() -> Vec<String> {
    let mut names = Vec::new();
    for file in ["kubernetes/daemonset.yaml", "kubernetes/job.yaml"] {
        for doc in yaml(file) {
            let Some(pod) = pod_spec(&doc) else { continue };
            let ns = str_of(&doc, "metadata.namespace");
            let name = str_of(&doc, "metadata.name");
            for c in list_of(pod, "containers") {
                names.push(format!(
                    "{name}-7xk2p_{ns}_{}-0123456789abcdef.log",
                    str_of(c, "name")
                ));
            }
        }
    }
    assert_eq!(names.len(), 2, "{names:?}");
    names
}

#[test]
fn the_shipping_recipes_read_what_faultline_writes() {
    let lines = ecs_output();
    let docs: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).expect("one JSON document a line"))
        .collect();
    assert!(docs.iter().all(Value::is_object));
    let dataset = docs[0]["event"]["dataset"].as_str().unwrap().to_string();
    assert!(docs
        .iter()
        .all(|d| d["event"]["dataset"] == dataset.as_str()));
    let shortest = lines.iter().map(String::len).min().unwrap();
    // Why the fingerprint is lowered: a run with nothing to say writes less than 1024 bytes.
    let healthy = run(&[
        "scan",
        "--format",
        "ecs",
        "fixtures/healthy-traps-docker-json.log",
    ]);
    assert!(healthy.stdout.len() < 1024, "{}", healthy.stdout.len());
    let shortest = shortest.min(healthy.stdout.len());
    let k8s_logs = container_log_names();

    // Filebeat.
    let fb = &yaml("shippers/filebeat.yml")[0];
    let inputs = list_of(fb, "filebeat.inputs");
    assert_eq!(inputs.len(), 2);
    let mut ids = Vec::new();
    for input in inputs {
        assert_eq!(input["type"], "filestream");
        ids.push(str_of(input, "id"));
        let length = check_filestream(input, "filebeat");
        assert!(shortest as u64 >= length, "a line of {shortest} bytes");
    }
    ids.dedup();
    assert_eq!(ids.len(), 2, "unique input ids");
    assert_eq!(
        str_of(fb, "output.elasticsearch.index"),
        format!("logs-{dataset}-default")
    );
    let globs: Vec<&str> = inputs
        .iter()
        .flat_map(|i| list_of(i, "paths"))
        .filter_map(Value::as_str)
        .collect();
    for log in &k8s_logs {
        let path = format!("/var/log/containers/{log}");
        assert!(
            globs
                .iter()
                .any(|g| glob::Pattern::new(g).unwrap().matches(&path)),
            "filebeat reads no {path}"
        );
    }

    // Elastic Agent: the same streams, under a standalone policy.
    let agent = &yaml("shippers/elastic-agent.yml")[0];
    let outputs = agent["outputs"].as_object().expect("outputs");
    assert!(outputs.values().all(|o| o["type"] == "elasticsearch"));
    let inputs = list_of(agent, "inputs");
    assert_eq!(inputs.len(), 2);
    for input in inputs {
        assert_eq!(input["type"], "filestream");
        assert!(!str_of(input, "id").is_empty());
        assert!(outputs.contains_key(str_of(input, "use_output")));
        for stream in list_of(input, "streams") {
            assert_eq!(str_of(stream, "data_stream.type"), "logs");
            assert_eq!(str_of(stream, "data_stream.dataset"), dataset);
            let length = check_filestream(stream, "elastic-agent");
            assert!(shortest as u64 >= length);
        }
    }

    // OpenTelemetry collector: filelog receivers with a json_parser whose timestamp is
    // faultline's @timestamp in its layout.
    let otel = &yaml("shippers/otel-collector.yml")[0];
    let receivers = otel["receivers"].as_object().expect("receivers");
    assert_eq!(receivers.len(), 2);
    for (name, r) in receivers {
        assert!(name.starts_with("filelog"), "{name}");
        assert!(!list_of(r, "include").is_empty(), "{name}");
        let ops = list_of(r, "operators");
        let json = ops
            .iter()
            .find(|o| o["type"] == "json_parser")
            .unwrap_or_else(|| panic!("{name}: a json_parser"));
        assert_eq!(json["parse_from"], "body");
        assert_eq!(json["parse_to"], "body");
        assert_eq!(json["timestamp"]["parse_from"], r#"body["@timestamp"]"#);
        assert_eq!(json["timestamp"]["layout_type"], "gotime");
        let layout = json["timestamp"]["layout"].as_str().unwrap();
        for d in docs.iter().chain(std::iter::once(
            &serde_json::from_str::<Value>(&healthy.stdout).unwrap(),
        )) {
            let ts = d["@timestamp"].as_str().unwrap();
            assert!(fits_go_layout(ts, layout), "{ts} does not fit {layout}");
        }
        if list_of(r, "include")
            .iter()
            .any(|p| p.as_str().unwrap().starts_with("/var/log/pods/"))
        {
            assert_eq!(
                ops[0]["type"], "container",
                "{name}: the envelope off first"
            );
        }
    }
    let pods_glob = list_of(&receivers["filelog/faultline-containers"], "include")[0]
        .as_str()
        .unwrap();
    for log in &k8s_logs {
        // /var/log/pods/<namespace>_<pod>_<uid>/<container>/0.log
        let (pod, rest) = log.split_once('_').unwrap();
        let (ns, container) = rest.split_once('_').unwrap();
        let container = container.rsplit_once('-').unwrap().0;
        let path = format!("/var/log/pods/{ns}_{pod}_5f0c2c1e/{container}/0.log");
        assert!(
            glob::Pattern::new(pods_glob).unwrap().matches(&path),
            "the collector reads no {path}"
        );
    }
    let exporters = otel["exporters"].as_object().expect("exporters");
    for e in exporters.values() {
        assert_eq!(str_of(e, "mapping.mode"), "bodymap");
        assert_eq!(str_of(e, "logs_index"), format!("logs-{dataset}-default"));
    }
    for p in otel["service"]["pipelines"].as_object().unwrap().values() {
        for r in list_of(p, "receivers") {
            assert!(receivers.contains_key(r.as_str().unwrap()), "{r}");
        }
        for e in list_of(p, "exporters") {
            assert!(exporters.contains_key(e.as_str().unwrap()), "{e}");
        }
    }
    assert!(fits_go_layout(
        "2025-10-14T09:00:01.000Z",
        "2006-01-02T15:04:05.000Z"
    ));
    assert!(!fits_go_layout(
        "2025-10-14T09:00:01Z",
        "2006-01-02T15:04:05.000Z"
    ));
}

/// A workload's pod spec.
fn pod_spec(doc: &Value) -> Option<&Value> {
    setting(doc, "spec.template.spec")
}

/// A Kubernetes quantity of memory in bytes (`64Mi`, `512M`).
fn bytes(q: &str) -> u64 {
    let (n, unit) = q.split_at(q.find(|c: char| !c.is_ascii_digit()).unwrap_or(q.len()));
    let n: u64 = n.parse().unwrap();
    n * match unit {
        "" => 1,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        _ => panic!("quantity {q}"),
    }
}

#[test]
fn the_kubernetes_manifests_keep_to_least_privilege() {
    let mut kinds = Vec::new();
    let mut daemonset = None;
    for file in [
        "kubernetes/namespace.yaml",
        "kubernetes/daemonset.yaml",
        "kubernetes/job.yaml",
    ] {
        for doc in yaml(file) {
            let kind = str_of(&doc, "kind").to_string();
            if kind == "DaemonSet" {
                daemonset = Some(doc.clone());
            }
            kinds.push(kind);
            let Some(pod) = pod_spec(&doc) else { continue };
            let what = str_of(&doc, "metadata.name");
            // No Kubernetes API access, no host namespaces.
            assert_eq!(pod["automountServiceAccountToken"], false, "{what}");
            for host in ["hostNetwork", "hostPID", "hostIPC"] {
                assert_ne!(pod[host], true, "{what}: {host}");
            }
            assert_eq!(
                str_of(pod, "securityContext.seccompProfile.type"),
                "RuntimeDefault"
            );
            assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{what}");
            let uid = pod["securityContext"]["runAsUser"].as_u64().unwrap();
            assert_ne!(uid, 0, "{what}");
            for c in list_of(pod, "containers") {
                let name = str_of(c, "name");
                let sc = &c["securityContext"];
                assert_eq!(sc["allowPrivilegeEscalation"], false, "{name}");
                assert_eq!(sc["readOnlyRootFilesystem"], true, "{name}");
                assert_ne!(sc["privileged"], true, "{name}");
                assert_ne!(sc["runAsUser"], 0, "{name}");
                assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]));
                assert!(sc["capabilities"]["add"].is_null(), "{name}: no capability");
                for r in ["requests", "limits"] {
                    for res in ["cpu", "memory"] {
                        assert!(!c["resources"][r][res].is_null(), "{name}: {r}.{res}");
                    }
                }
                assert!(
                    bytes(str_of(c, "resources.requests.memory"))
                        <= bytes(str_of(c, "resources.limits.memory"))
                );
                for m in c["volumeMounts"].as_array().into_iter().flatten() {
                    if str_of(m, "mountPath").starts_with("/var/log") || m["name"] == "bundle" {
                        assert_eq!(m["readOnly"], true, "{name}: {m}");
                    }
                }
            }
            // The one init container may run as root, with CAP_CHOWN and nothing else.
            for c in pod["initContainers"].as_array().into_iter().flatten() {
                let sc = &c["securityContext"];
                assert_eq!(sc["allowPrivilegeEscalation"], false);
                assert_eq!(sc["readOnlyRootFilesystem"], true);
                assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]));
                assert_eq!(sc["capabilities"]["add"], serde_json::json!(["CHOWN"]));
            }
        }
    }
    kinds.sort();
    // No ServiceAccount, Role, ClusterRole or binding: nothing to grant.
    assert_eq!(
        kinds,
        ["DaemonSet", "Job", "Namespace", "PersistentVolumeClaim"]
    );

    let ds = daemonset.unwrap();
    let pod = pod_spec(&ds).unwrap();
    let c = &list_of(pod, "containers")[0];
    let args: Vec<&str> = list_of(c, "args")
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(&args[..2], ["watch", "/var/log/containers/*autoops*.log"]);
    let after = |flag: &str| {
        args.iter()
            .position(|a| *a == flag)
            .map(|i| args[i + 1])
            .unwrap_or_else(|| panic!("no {flag} in {args:?}"))
    };
    assert_eq!(after("--format"), "ecs");
    let state = Path::new(after("--state"));
    // The state's directory is a writable hostPath mount; the logs are hostPaths mounted
    // read-only, /var/log/pods too since the containers' logs are symlinks into it.
    let mounts = list_of(c, "volumeMounts");
    let volumes = list_of(pod, "volumes");
    let host_path = |mount_path: &str| {
        let m = mounts
            .iter()
            .find(|m| m["mountPath"] == mount_path)
            .unwrap_or_else(|| panic!("nothing mounted at {mount_path}"));
        let v = volumes.iter().find(|v| v["name"] == m["name"]).unwrap();
        (
            str_of(v, "hostPath.path").to_string(),
            m["readOnly"] == true,
        )
    };
    let state_dir = state.parent().unwrap().to_str().unwrap();
    assert_eq!(host_path(state_dir), (state_dir.to_string(), false));
    for dir in ["/var/log/containers", "/var/log/pods"] {
        assert_eq!(host_path(dir), (dir.to_string(), true));
    }
    // Sized from the watch soak (benches/README.md): peak RSS 10.3 MiB (inotify) and 13.6 MiB
    // (polling), 9.9 % of a core at 10 000 failing lines a second.
    let soak_rss = bytes("14Mi");
    assert!(bytes(str_of(c, "resources.requests.memory")) >= 2 * soak_rss);
    assert!(bytes(str_of(c, "resources.limits.memory")) >= 4 * soak_rss);
    let cpu_limit = str_of(c, "resources.limits.cpu");
    let millis: u64 = cpu_limit.strip_suffix('m').unwrap().parse().unwrap();
    assert!(
        millis >= 2 * 99,
        "{cpu_limit}: twice the storm's 9.9 % of a core"
    );
}

#[test]
fn the_daemonset_s_command_runs_and_keeps_its_state() {
    // The DaemonSet's arguments, run for real with its host paths moved into a temporary
    // directory: the glob finds the agent's log, a failing line becomes an ECS alert on stdout,
    // and Ctrl-C (SIGTERM in a pod) leaves the state file behind.
    let ds = yaml("kubernetes/daemonset.yaml").remove(0);
    let c = &list_of(pod_spec(&ds).unwrap(), "containers")[0];
    let tmp = tempfile::tempdir().unwrap();
    let at = |p: &str| {
        p.replace("/var/log", tmp.path().join("log").to_str().unwrap())
            .replace("/var/lib", tmp.path().join("lib").to_str().unwrap())
    };
    let containers = tmp.path().join("log/containers");
    fs::create_dir_all(&containers).unwrap();
    fs::create_dir_all(tmp.path().join("lib/faultline")).unwrap();
    let log = containers.join("autoops-otel-agent-6d9f_elastic_agent-01ab.log");
    fs::write(&log, format!("{}\n", crate::watch::HEALTHY)).unwrap();
    let args: Vec<String> = list_of(c, "args")
        .iter()
        .map(|a| at(a.as_str().unwrap()))
        .collect();
    let mut child = faultline()
        .args(&args)
        .args(["--poll-interval", "100ms"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = crate::util::lines_of(child.stdout.take().unwrap());
    let err = crate::util::lines_of(child.stderr.take().unwrap());
    crate::util::wait_for(&err, "faultline: watching");
    crate::watch::append(&log, &[crate::watch::failing(1)]);
    let seen = crate::util::wait_for(&out, r#""action":"open""#);
    let open: Value = serde_json::from_str(seen.last().unwrap()).unwrap();
    assert_eq!(open["event"]["kind"], "alert");
    assert_eq!(open["log"]["file"]["path"], log.to_str().unwrap());
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let last: Vec<String> = out.iter().collect();
    child.wait().unwrap();
    let summary: Value = serde_json::from_str(last.last().unwrap()).unwrap();
    assert_eq!(summary["event"]["action"], "summary");
    let state = args.iter().position(|a| a == "--state").unwrap() + 1;
    let saved = fs::read_to_string(&args[state]).expect("the state file");
    assert!(saved.contains("proxy"), "{saved}");
}

#[test]
fn the_kubernetes_manifests_validate_offline() {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("deploy-venv");
    let check = |args: &[&Path]| {
        let out = Command::new("bash")
            .arg(deploy("check.sh"))
            .args(args)
            .env("FAULTLINE_VENV", &venv)
            .stdin(Stdio::null())
            .output()
            .expect("bash runs deploy/check.sh");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (code, said) = check(&[]);
    assert_eq!(code, Some(0), "deploy/check.sh failed:\n{said}");
    assert!(said.contains("valid for Kubernetes"), "{said}");
    // The validator is strict: a misspelt field fails it.
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("daemonset.yaml");
    let text = fs::read_to_string(deploy("kubernetes/daemonset.yaml")).unwrap();
    fs::write(
        &bad,
        text.replacen("readOnlyRootFilesystem", "readOnlyRootFilesytem", 1),
    )
    .unwrap();
    let (code, said) = check(&[&bad]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("readOnlyRootFilesytem"), "{said}");
}

#[test]
fn the_dockerfile_builds_a_static_binary_into_a_non_root_empty_image() {
    let text = fs::read_to_string(deploy("Dockerfile")).unwrap();
    // Instructions, continuation lines joined, comments dropped.
    let joined = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("\\\n", " ");
    let instructions: Vec<(&str, &str)> = joined
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().split_once(' ').unwrap_or((l.trim(), "")))
        .collect();
    let stages: Vec<usize> = instructions
        .iter()
        .enumerate()
        .filter(|(_, (i, _))| *i == "FROM")
        .map(|(n, _)| n)
        .collect();
    assert_eq!(stages.len(), 2, "a build stage and a run stage");
    let (build, run_stage) = instructions.split_at(stages[1]);
    // Build: Rust at least the crate's rust-version, on musl, statically, with the lock file.
    let image = build[0].1.split_whitespace().next().unwrap();
    let version = image
        .strip_prefix("rust:")
        .and_then(|v| v.strip_suffix("-alpine"))
        .expect("rust:X.Y-alpine (musl)");
    let manifest = fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let wanted = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .unwrap()
        .trim_matches('"');
    let minor = |v: &str| -> u32 { v.split('.').nth(1).unwrap().parse().unwrap() };
    assert!(minor(version) >= minor(wanted), "{version} < {wanted}");
    let runs: String = build
        .iter()
        .filter(|(i, _)| *i == "RUN")
        .map(|(_, a)| *a)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(runs.contains("cargo build --release --locked"), "{runs}");
    assert!(
        runs.contains("program interpreter"),
        "the build checks it is static"
    );
    assert!(joined.contains("target-feature=+crt-static"));
    // Run: an empty base, the binary, a numeric non-root user, exec-form entrypoint.
    assert_eq!(run_stage[0].1, "scratch");
    let copy = run_stage.iter().find(|(i, _)| *i == "COPY").unwrap().1;
    assert_eq!(
        copy,
        "--from=build /src/target/release/faultline /faultline"
    );
    let user = run_stage
        .iter()
        .rev()
        .find(|(i, _)| *i == "USER")
        .unwrap()
        .1;
    let (uid, gid) = user.split_once(':').unwrap();
    assert!(uid.parse::<u32>().unwrap() > 0 && gid.parse::<u32>().unwrap() > 0);
    let entry = run_stage
        .iter()
        .find(|(i, _)| *i == "ENTRYPOINT")
        .unwrap()
        .1;
    assert_eq!(entry, r#"["/faultline"]"#);
    // The manifests run the user the image declares.
    for file in ["kubernetes/daemonset.yaml", "kubernetes/job.yaml"] {
        for doc in yaml(file) {
            if let Some(pod) = pod_spec(&doc) {
                assert_eq!(pod["securityContext"]["runAsUser"].to_string(), uid);
            }
        }
    }
    // The build context leaves the build output out.
    let ignore = fs::read_to_string(deploy("Dockerfile.dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "target/"));
}
