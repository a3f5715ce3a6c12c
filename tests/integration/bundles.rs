//! Support bundles built at test time: directories with rotated and gzipped logs, zips holding
//! zips, tar.gz, corrupt and binary members, limits, and the same report whatever the threads.

use std::io::Write;
use std::path::Path;

use crate::util::{faultline, run, Run};

fn zap(level: &str, ts: &str, msg: &str, error: Option<&str>) -> String {
    let mut v = serde_json::json!({"level": level, "ts": ts, "caller": "autoops_es/metricset.go:88", "msg": msg});
    if let Some(e) = error {
        v["error"] = e.into();
    }
    v.to_string()
}

fn registration_dns(ts: &str) -> String {
    zap(
        "error",
        ts,
        "failed to register Cloud Connected Mode: Post \"https://api.elastic-cloud.com/api/v1/cloud-connected/clusters\": dial tcp: lookup api.elastic-cloud.com on 127.0.0.11:53: no such host",
        None,
    )
}

fn registered(ts: &str) -> String {
    zap(
        "info",
        ts,
        "Registered cluster 2O_EjO6kTR6AEVYwL5fPEw for Cloud Connect: a1b2c3d4",
        None,
    )
}

fn export_refused(ts: &str) -> String {
    zap(
        "error",
        ts,
        "Exporting failed. Dropping data.",
        Some("no more retries left: failed to make an HTTP request: Post \"https://otel-auto-ops.eu-west-1.aws.svc.elastic.cloud/v1/logs\": dial tcp 52.1.2.3:443: connect: connection refused"),
    )
}

fn cluster_refused(ts: &str) -> String {
    zap(
        "error",
        ts,
        "failed to get data, node_stats metricset error making http request: Get \"http://es01.internal:9200/_nodes/stats\": dial tcp 10.1.2.3:9200: connect: connection refused",
        None,
    )
}

fn healthy(ts: &str) -> String {
    zap("info", ts, "fetching cluster_health metricset", None)
}

fn lines(ls: &[String]) -> String {
    ls.iter().map(|l| format!("{l}\n")).collect()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn zip(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn tar_gz(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    gzip(&b.into_inner().unwrap())
}

fn findings(r: &Run) -> Vec<(String, String, String, u64, u64, String, u64)> {
    r.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["component"].as_str().unwrap().to_string(),
                f["cause"].as_str().unwrap().to_string(),
                f["first_seen"]["source"].as_str().unwrap().to_string(),
                f["first_seen"]["line"].as_u64().unwrap(),
                f["count"].as_u64().unwrap(),
                f["last_seen"]["source"].as_str().unwrap().to_string(),
                f["last_seen"]["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn s(x: &str) -> String {
    x.to_string()
}

/// A diagnostics folder: rotated logs (the oldest gzipped), a hidden file, a binary dump.
fn rotated_dir(root: &Path) {
    let logs = root.join("diag/logs");
    std::fs::create_dir_all(&logs).unwrap();
    // Newest: the cluster registers at 10:00.
    std::fs::write(
        logs.join("elastic-agent.ndjson"),
        lines(&[
            healthy("2025-10-14T10:00:00Z"),
            registered("2025-10-14T10:00:05Z"),
        ]),
    )
    .unwrap();
    // Older: failures from 09:00 to 09:30.
    std::fs::write(
        logs.join("elastic-agent-1.ndjson"),
        lines(&[
            registration_dns("2025-10-14T09:00:00Z"),
            healthy("2025-10-14T09:10:00Z"),
            registration_dns("2025-10-14T09:30:00Z"),
        ]),
    )
    .unwrap();
    // Oldest, rotated and gzipped: the first failure at 08:00, on line 2.
    std::fs::write(
        logs.join("elastic-agent-2.ndjson.gz"),
        gzip(
            lines(&[
                healthy("2025-10-14T07:59:00Z"),
                registration_dns("2025-10-14T08:00:00Z"),
            ])
            .as_bytes(),
        ),
    )
    .unwrap();
    std::fs::write(
        root.join("diag/.hidden.log"),
        lines(&[export_refused("2025-10-14T09:45:00Z")]),
    )
    .unwrap();
    let mut binary = b"pprof\x00\x01\x02".to_vec();
    binary.extend_from_slice(export_refused("2025-10-14T09:46:00Z").as_bytes());
    std::fs::write(root.join("diag/heap.pprof"), binary).unwrap();
}

#[test]
fn a_rotated_log_is_one_timeline_across_files() {
    let dir = tempfile::tempdir().unwrap();
    rotated_dir(dir.path());
    let d = dir.path().join("diag").display().to_string();
    let r = run(&["scan", &d, "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        findings(&r),
        vec![
            (
                s("registration"),
                s("dns"),
                format!("{d}/logs/elastic-agent-2.ndjson.gz"),
                2,
                3,
                format!("{d}/logs/elastic-agent-1.ndjson"),
                3
            ),
            (
                s("export"),
                s("refused"),
                format!("{d}/.hidden.log"),
                1,
                1,
                format!("{d}/.hidden.log"),
                1
            ),
        ]
    );
    let doc = r.json();
    // The success at 10:00 comes after the last failure at 09:30, though its file is read last.
    assert_eq!(doc["components"]["registration"], "recovered");
    assert_eq!(doc["stats"]["binary_skipped"], 1);
    assert_eq!(doc["stats"]["sources"], 4);
    // --text reads the binary dump too.
    let r = run(&["scan", &d, "--format", "json", "--text"]);
    assert_eq!(r.json()["findings"][1]["count"], 2);
}

#[test]
fn zip_in_zip_names_members_and_survives_a_corrupt_member() {
    let dir = tempfile::tempdir().unwrap();
    let inner = zip(&[(
        "logs/otel.log",
        lines(&[
            healthy("2025-10-14T09:00:00Z"),
            export_refused("2025-10-14T09:00:01Z"),
        ])
        .as_bytes(),
    )]);
    let agent_log = lines(&[
        cluster_refused("2025-10-14T09:00:00Z"),
        cluster_refused("2025-10-14T09:00:10Z"),
    ]);
    let broken_log = lines(&[registration_dns("2025-10-14T09:00:00Z")]).repeat(50);
    let mut outer = zip(&[
        ("diag/logs/elastic-agent.ndjson", agent_log.as_bytes()),
        ("diag/broken.log", broken_log.as_bytes()),
        ("diag/inner.zip", &inner),
        ("diag/pprof/heap.pb", b"\x00\x01\x02binary"),
    ]);
    // Corrupt the compressed data of diag/broken.log (the second member).
    let at = outer
        .windows(b"diag/broken.log".len())
        .position(|w| w == b"diag/broken.log")
        .unwrap()
        + b"diag/broken.log".len()
        + 8;
    for b in &mut outer[at..at + 16] {
        *b ^= 0x5a;
    }
    let path = dir.path().join("bundle.zip");
    std::fs::write(&path, outer).unwrap();
    let p = path.display().to_string();
    let r = run(&["scan", &p, "--format", "json"]);
    assert_eq!(
        r.code, 2,
        "a corrupt member makes the exit code 2: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!("{p}!diag/broken.log")),
        "{}",
        r.stderr
    );
    assert_eq!(
        findings(&r),
        vec![
            (
                s("cluster"),
                s("refused"),
                format!("{p}!diag/logs/elastic-agent.ndjson"),
                1,
                2,
                format!("{p}!diag/logs/elastic-agent.ndjson"),
                2
            ),
            (
                s("export"),
                s("refused"),
                format!("{p}!diag/inner.zip!logs/otel.log"),
                2,
                1,
                format!("{p}!diag/inner.zip!logs/otel.log"),
                2
            ),
        ]
    );
    let doc = r.json();
    assert_eq!(doc["stats"]["binary_skipped"], 1);
    assert_eq!(doc["stats"]["errors"], 1);
    assert_eq!(doc["stats"]["members"], 5);
    // The human report names the member too.
    let r = run(&["scan", &p]);
    assert!(
        r.stdout
            .contains(&format!("{p}!diag/inner.zip!logs/otel.log:2")),
        "{}",
        r.stdout
    );
}

#[test]
fn tar_gz_and_a_gzip_named_log_are_recognised_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let tgz = tar_gz(&[
        (
            "support/logs/agent.log",
            lines(&[
                healthy("2025-10-14T09:00:00Z"),
                cluster_refused("2025-10-14T09:00:01Z"),
            ])
            .as_bytes(),
        ),
        ("support/cluster.json", b"{\"status\":\"green\"}\n"),
    ]);
    let tgz_path = dir.path().join("support.tar.gz");
    std::fs::write(&tgz_path, tgz).unwrap();
    // A gzip file without a .gz name.
    let disguised = dir.path().join("agent.log");
    std::fs::write(
        &disguised,
        gzip(lines(&[export_refused("2025-10-14T09:00:02Z")]).as_bytes()),
    )
    .unwrap();
    let (t, g) = (
        tgz_path.display().to_string(),
        disguised.display().to_string(),
    );
    let r = run(&["scan", &t, &g, "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        findings(&r),
        vec![
            (
                s("cluster"),
                s("refused"),
                format!("{t}!support/logs/agent.log"),
                2,
                1,
                format!("{t}!support/logs/agent.log"),
                2
            ),
            (s("export"), s("refused"), g.clone(), 1, 1, g.clone(), 1),
        ]
    );
}

#[test]
fn ndjson_events_name_archive_members() {
    let dir = tempfile::tempdir().unwrap();
    let z = zip(&[(
        "a/agent.log",
        lines(&[cluster_refused("2025-10-14T09:00:01Z")]).as_bytes(),
    )]);
    let path = dir.path().join("b.zip");
    std::fs::write(&path, z).unwrap();
    let p = path.display().to_string();
    let r = run(&["scan", &p, "--format", "ndjson"]);
    let first: serde_json::Value = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["source"], format!("{p}!a/agent.log"));
    assert_eq!(first["line"], 1);
}

#[test]
fn a_compression_bomb_is_cut_short_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    // 40 MiB of one repeated healthy line compresses far past 500:1.
    let line = "all quiet\n";
    let plain = line.repeat((40 << 20) / line.len());
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(plain.as_bytes()).unwrap();
    let bomb = enc.finish().unwrap();
    assert!(
        plain.len() / bomb.len() > 500,
        "ratio {}",
        plain.len() / bomb.len()
    );
    std::fs::write(dir.path().join("bomb.log.gz"), bomb).unwrap();
    std::fs::write(
        dir.path().join("real.log"),
        lines(&[cluster_refused("2025-10-14T09:00:01Z")]),
    )
    .unwrap();
    let d = dir.path().display().to_string();
    let r = run(&["scan", &d, "--format", "json"]);
    assert!(
        r.stderr.contains("warning") && r.stderr.contains("bomb.log.gz"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(":1"), "{}", r.stderr);
    assert_eq!(
        r.code, 1,
        "a limit is a warning, not a read error: {}",
        r.stderr
    );
    let doc = r.json();
    assert_eq!(doc["stats"]["limited"], 1);
    assert_eq!(doc["findings"][0]["component"], "cluster");
}

#[test]
fn symlink_loops_are_reported_and_the_rest_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("logs");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        sub.join("agent.log"),
        lines(&[cluster_refused("2025-10-14T09:00:01Z")]),
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.path(), sub.join("loop")).unwrap();
    let r = run(&[
        "scan",
        &dir.path().display().to_string(),
        "--format",
        "json",
    ]);
    assert!(r.stderr.contains("loop"), "{}", r.stderr);
    assert_eq!(r.json()["findings"][0]["count"], 1);
}

#[test]
fn the_report_is_the_same_with_one_thread_or_many() {
    let dir = tempfile::tempdir().unwrap();
    rotated_dir(dir.path());
    for i in 0..6 {
        let ls: Vec<String> = (0..200)
            .map(|n| match n % 7 {
                0 => cluster_refused(&format!("2025-10-14T09:{:02}:{:02}Z", i, n % 60)),
                3 => export_refused(&format!("2025-10-14T09:{:02}:{:02}Z", i + 10, n % 60)),
                _ => healthy(&format!("2025-10-14T09:{:02}:{:02}Z", i, n % 60)),
            })
            .collect();
        std::fs::write(dir.path().join(format!("extra-{i}.log")), lines(&ls)).unwrap();
    }
    // The same files again as the members of one zip, which are read in parallel too.
    let mut members = Vec::new();
    for i in 0..6 {
        let name = format!("extra-{i}.log");
        members.push((name.clone(), std::fs::read(dir.path().join(&name)).unwrap()));
    }
    let refs: Vec<(&str, &[u8])> = members
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    std::fs::write(dir.path().join("all.zip"), zip(&refs)).unwrap();
    let d = dir.path().display().to_string();
    let once = |threads: &str| {
        let out = faultline()
            .env("RAYON_NUM_THREADS", threads)
            .args(["scan", &d, "--format", "json"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let one = once("1");
    assert!(one.contains("extra-5.log"));
    assert!(one.contains("all.zip!extra-"), "{one}");
    for _ in 0..3 {
        assert_eq!(once("2"), one);
        assert_eq!(once("4"), one);
    }
}

#[test]
fn since_and_until_keep_only_lines_inside_the_window() {
    let dir = tempfile::tempdir().unwrap();
    rotated_dir(dir.path());
    let d = dir.path().join("diag").display().to_string();
    let r = run(&[
        "scan",
        &d,
        "--format",
        "json",
        "--since",
        "2025-10-14T08:30:00Z",
        "--until",
        "2025-10-14T09:40:00Z",
    ]);
    let f = findings(&r);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].1, "dns");
    assert_eq!(f[0].4, 2, "the 09:00 and 09:30 failures, not the 08:00 one");
    let doc = r.json();
    assert_eq!(
        doc["components"]["registration"], "failing",
        "the 10:00 success is outside"
    );
    assert_eq!(doc["stats"]["outside_window"], 3);
}

/// Runs with `args`; panics if the run takes longer than `secs` seconds (it is killed first).
fn run_within(args: &[&str], secs: u64) -> Run {
    use std::io::Read;
    let mut child = crate::util::spawn(args, std::process::Stdio::null());
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).unwrap();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{args:?} still running after {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

#[test]
fn a_fifo_in_a_scanned_folder_is_skipped_not_opened() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("agent.log"),
        lines(&[cluster_refused("2025-10-14T09:00:01Z")]),
    )
    .unwrap();
    let fifo = dir.path().join("pipe.log");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let d = dir.path().display().to_string();
    let r = run_within(&["scan", &d, "--format", "json"], 20);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "warning: {}: not a regular file (a FIFO); skipped",
            fifo.display()
        )),
        "{}",
        r.stderr
    );
    let doc = r.json();
    assert_eq!(doc["findings"][0]["cause"], "refused");
    assert_eq!(doc["stats"]["sources"], 1);
    assert_eq!(doc["stats"]["limited"], 1);
}

#[test]
fn a_device_named_on_the_command_line_is_skipped_even_with_text() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("agent.log");
    std::fs::write(&log, lines(&[cluster_refused("2025-10-14T09:00:01Z")])).unwrap();
    let l = log.display().to_string();
    let r = run_within(&["scan", "/dev/zero", &l, "--text", "--format", "json"], 20);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("warning: /dev/zero: not a regular file (a character device); skipped"),
        "{}",
        r.stderr
    );
    let doc = r.json();
    assert_eq!(doc["findings"][0]["first_seen"]["source"], l);
    assert_eq!(doc["stats"]["sources"], 1);
}

/// `data` gzipped `layers` times (stored blocks: each layer adds a few bytes).
fn gzip_layers(data: &[u8], layers: usize) -> Vec<u8> {
    let mut out = data.to_vec();
    for _ in 0..layers {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
        enc.write_all(&out).unwrap();
        out = enc.finish().unwrap();
    }
    out
}

#[test]
fn gzip_layers_count_toward_the_nesting_limit() {
    let dir = tempfile::tempdir().unwrap();
    let log = lines(&[
        healthy("2025-10-14T09:00:00Z"),
        cluster_refused("2025-10-14T09:00:01Z"),
    ]);
    let path = |n: usize| dir.path().join(format!("layers-{n}.log.gz"));
    for n in [7, 10, 3000] {
        std::fs::write(path(n), gzip_layers(log.as_bytes(), n)).unwrap();
    }
    // The file's own gzip and six inside it: the deepest that is read.
    let seven = path(7).display().to_string();
    let r = run(&["scan", &seven, "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        findings(&r),
        vec![(s("cluster"), s("refused"), seven.clone(), 2, 1, seven, 2)]
    );
    assert!(!r.stderr.contains("nested"), "{}", r.stderr);
    // Deeper: a warning and nothing read from that file, the others still scanned.
    for n in [10, 3000] {
        let deep = path(n).display().to_string();
        let other = dir.path().join("agent.log");
        std::fs::write(&other, &log).unwrap();
        let o = other.display().to_string();
        let r = run(&["scan", &deep, &o, "--format", "json"]);
        assert_eq!(r.code, 1, "{n} layers: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!(
                "warning: {deep}: gzip nested deeper than 6 levels; not opened"
            )),
            "{n} layers: {}",
            r.stderr
        );
        assert_eq!(
            findings(&r),
            vec![(s("cluster"), s("refused"), o.clone(), 2, 1, o, 2)]
        );
        assert_eq!(r.json()["stats"]["limited"], 1);
    }
}

#[test]
fn lines_read_before_a_broken_gzip_end_are_reported_then_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let first = lines(&[
        healthy("2025-10-14T09:00:00Z"),
        cluster_refused("2025-10-14T09:00:01Z"),
    ]);
    let second = lines(&[export_refused("2025-10-14T09:00:02Z")]);
    // A gzip cut short: its trailer and the end of its data are missing.
    let whole = gzip(format!("{first}{second}").as_bytes());
    let cut = dir.path().join("cut.log.gz");
    std::fs::write(&cut, &whole[..whole.len() - 40]).unwrap();
    // Two gzip members, the second one corrupt.
    let mut two = gzip(first.as_bytes());
    let mut bad = gzip(second.as_bytes());
    let n = bad.len();
    for b in &mut bad[10..n - 8] {
        *b ^= 0x5a;
    }
    two.extend_from_slice(&bad);
    let multi = dir.path().join("multi.log.gz");
    std::fs::write(&multi, two).unwrap();
    // A tar.gz cut short in the middle of its member (all of it within the first 8 KiB).
    let mut member = vec![
        healthy("2025-10-14T08:59:59Z"),
        cluster_refused("2025-10-14T09:00:01Z"),
    ];
    member.extend((0..40).map(|i| healthy(&format!("2025-10-14T09:01:{i:02}Z"))));
    let member = lines(&member);
    assert!(member.len() < 7000);
    let tgz = tar_gz(&[("support/agent.log", member.as_bytes())]);
    let tar_cut = dir.path().join("support.tar.gz");
    std::fs::write(&tar_cut, &tgz[..tgz.len() * 2 / 3]).unwrap();
    for (path, source) in [
        (&cut, cut.display().to_string()),
        (&multi, multi.display().to_string()),
        (&tar_cut, format!("{}!support/agent.log", tar_cut.display())),
    ] {
        let p = path.display().to_string();
        let r = run(&["scan", &p, "--format", "json"]);
        assert_eq!(r.code, 2, "{p}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("cannot read {p}")),
            "{p}: {}",
            r.stderr
        );
        let f = findings(&r);
        assert_eq!(
            f[0],
            (s("cluster"), s("refused"), source.clone(), 2, 1, source, 2),
            "{p}: {f:?}"
        );
        assert_eq!(r.json()["stats"]["errors"], 1);
    }
}

#[test]
fn a_zip_member_that_lies_about_its_compressed_size_is_still_measured() {
    let dir = tempfile::tempdir().unwrap();
    // 40 MiB of one healthy line deflates about 1000:1; a 450 KB stored member follows it.
    let line = "all quiet\n";
    let plain = line.repeat((40 << 20) / line.len());
    let padding: Vec<u8> = (0..450_000u32).map(|i| (i % 251) as u8).collect();
    let agent_log = lines(&[cluster_refused("2025-10-14T09:00:01Z")]);
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let best = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    w.start_file("bomb.log", best).unwrap();
    w.write_all(plain.as_bytes()).unwrap();
    w.start_file("padding.bin", stored).unwrap();
    w.write_all(&padding).unwrap();
    w.start_file("agent.log", best).unwrap();
    w.write_all(agent_log.as_bytes()).unwrap();
    let mut z = w.finish().unwrap().into_inner();
    // Both headers of bomb.log claim 400 000 compressed bytes (it reaches into the padding): by
    // those sizes it expands about 100:1, under the 500:1 limit.
    let claim = 400_000u32.to_le_bytes();
    assert_eq!(&z[..4], b"PK\x03\x04");
    let real = u32::from_le_bytes(z[18..22].try_into().unwrap());
    assert!(
        (plain.len() as u32) / real > 500,
        "ratio {}",
        plain.len() as u32 / real
    );
    z[18..22].copy_from_slice(&claim);
    let central = z.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    z[central + 20..central + 24].copy_from_slice(&claim);
    let path = dir.path().join("bundle.zip");
    std::fs::write(&path, z).unwrap();
    let p = path.display().to_string();
    let r = run(&["scan", &p, "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "warning: {p}!bomb.log: expands more than 500:1; the rest is not read"
        )),
        "{}",
        r.stderr
    );
    let doc = r.json();
    assert_eq!(doc["stats"]["limited"], 1);
    assert_eq!(
        doc["findings"][0]["first_seen"]["source"],
        format!("{p}!agent.log")
    );
    // Cut short at the guard's first check, not read to its 40 MiB.
    assert!(doc["stats"]["bytes"].as_u64().unwrap() < 24 << 20, "{doc}");
}

/// One row of the table of issue 10's bad inputs.
struct Bad {
    /// The issue's item.
    case: &'static str,
    args: Vec<String>,
    stdin: Vec<u8>,
    code: i32,
    /// Fragments that stdout, stderr must hold, and fragments neither may.
    stdout: &'static [&'static str],
    stderr: &'static [&'static str],
    never: &'static [&'static str],
}

/// Every bad input of issue 10 ("Hostile input"), run through the real binary, each with the
/// behaviour it must get: the exit status, what is reported, what is never printed. The tests
/// next to it go deeper into each; this table shows them side by side.
#[test]
fn every_bad_input_of_issue_10_gets_its_expected_behaviour() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name).display().to_string();
    let log = lines(&[
        healthy("2025-10-14T09:00:00Z"),
        cluster_refused("2025-10-14T09:00:01Z"),
    ]);
    std::fs::write(at("agent.log"), &log).unwrap();
    // 1. thousands of gzip layers
    std::fs::write(at("layers.log.gz"), gzip_layers(log.as_bytes(), 3000)).unwrap();
    // 2. a FIFO in a scanned folder
    std::fs::create_dir(at("withfifo")).unwrap();
    std::fs::write(at("withfifo/agent.log"), &log).unwrap();
    assert!(std::process::Command::new("mkfifo")
        .arg(at("withfifo/pipe.log"))
        .status()
        .unwrap()
        .success());
    // 4. a file name holding terminal escapes and a bidi override
    let evil = at("agent\u{1b}]52;c;aGk=\u{7}\u{202e}gol.log");
    std::fs::write(&evil, &log).unwrap();
    // 8. a gzip cut short
    let whole = gzip(log.as_bytes());
    std::fs::write(at("cut.log.gz"), &whole[..whole.len() - 12]).unwrap();
    // 9. many tiny members
    let members: Vec<(String, Vec<u8>)> = (0..5000)
        .map(|i| {
            (
                format!("m/{i}.log"),
                healthy("2025-10-14T09:00:00Z").into_bytes(),
            )
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = members
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    std::fs::write(at("many.zip"), zip(&refs)).unwrap();
    // 10. a NUL early in an otherwise text file; a rule file that is not UTF-8
    let mut nul = b"header\0\n".to_vec();
    nul.extend_from_slice(log.as_bytes());
    std::fs::write(at("nul.log"), nul).unwrap();
    std::fs::write(at("bad.toml"), b"[[rule]]\nid = \"x\xff\"\n").unwrap();
    let secret_line = r#"{"level":"error","msg":"Get \"https://es01:9200/\": dial tcp 10.0.0.5:9200: connect: connection refused curl -u elastic:Hunter2secret --es-password Hunter3secret cloud_auth=elastic:Hunter4secret"}"#;
    let injection = r#"{"level":"error","msg":"Get \"https://es;touch${IFS}PWNED;#:9200/_license\": dial tcp 10.0.0.5:9200: connect: connection refused"}"#;
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let rows = vec![
        Bad {
            case: "1. 3000 gzip layers",
            args: s(&["scan", &at("layers.log.gz"), &at("agent.log")]),
            stdin: vec![],
            code: 1,
            stdout: &["cluster       failing"],
            stderr: &["gzip nested deeper than 6 levels; not opened"],
            never: &["panicked", "overflow"],
        },
        Bad {
            case: "2. a FIFO in a folder",
            args: s(&["scan", &at("withfifo")]),
            stdin: vec![],
            code: 1,
            stdout: &["Read 1 source"],
            stderr: &["not a regular file (a FIFO); skipped"],
            never: &[],
        },
        Bad {
            case: "2. /dev/zero with --text",
            args: s(&["scan", "--text", "/dev/zero", &at("agent.log")]),
            stdin: vec![],
            code: 1,
            stdout: &["Read 1 source"],
            stderr: &["not a regular file (a character device); skipped"],
            never: &[],
        },
        Bad {
            case: "3. shell injection in a captured URL",
            args: s(&["--color", "never"]),
            stdin: injection.as_bytes().to_vec(),
            code: 1,
            stdout: &["Check  curl -XGET -i $AUTOOPS_ES_URL"],
            stderr: &[],
            never: &["curl -XGET -i https://es;touch"],
        },
        Bad {
            case: "4. escapes in a file name",
            args: s(&["scan", "--color", "never", &evil]),
            stdin: vec![],
            code: 1,
            stdout: &["\\x1b]52;c;aGk=\\x07\\u{202e}gol.log"],
            stderr: &[],
            never: &["\u{1b}]52", "\u{202e}"],
        },
        Bad {
            case: "5. secrets in every format (human)",
            args: s(&["--color", "never"]),
            stdin: secret_line.as_bytes().to_vec(),
            code: 1,
            stdout: &["elastic:****"],
            stderr: &[],
            never: &["Hunter2secret", "Hunter3secret", "Hunter4secret"],
        },
        Bad {
            case: "5. secrets in every format (ndjson)",
            args: s(&["--format", "ndjson"]),
            stdin: secret_line.as_bytes().to_vec(),
            code: 1,
            stdout: &["\"type\":\"summary\""],
            stderr: &[],
            never: &["Hunter2secret", "Hunter3secret", "Hunter4secret"],
        },
        Bad {
            case: "8. a gzip cut short",
            args: s(&["scan", &at("cut.log.gz")]),
            stdin: vec![],
            code: 2,
            stdout: &["cluster       failing", "1 input could not be read"],
            stderr: &["cannot read"],
            never: &[],
        },
        Bad {
            case: "9. 5000 one-line members",
            args: s(&["scan", &at("many.zip"), "--format", "json"]),
            stdin: vec![],
            code: 0,
            stdout: &["\"members\": 5000"],
            stderr: &[],
            never: &[],
        },
        Bad {
            case: "10. gzip on standard input",
            args: s(&["--color", "never"]),
            stdin: gzip(log.as_bytes()),
            code: 1,
            stdout: &["cluster       failing"],
            stderr: &[],
            never: &["no problem found"],
        },
        Bad {
            case: "10. a NUL in the first 8 KiB",
            args: s(&["scan", &at("nul.log")]),
            stdin: vec![],
            code: 0,
            stdout: &["1 binary file skipped (--text reads them)"],
            stderr: &["looks binary", "--text reads it"],
            never: &[],
        },
        Bad {
            case: "10. a rule file that is not UTF-8",
            args: s(&["--rules", &at("bad.toml"), "scan", &at("agent.log")]),
            stdin: vec![],
            code: 2,
            stdout: &[],
            stderr: &["bad.toml:2: this line is not valid UTF-8"],
            never: &[],
        },
    ];
    let mut failed = Vec::new();
    for row in &rows {
        let args: Vec<&str> = row.args.iter().map(String::as_str).collect();
        let r = if row.stdin.is_empty() {
            run_within(&args, 60)
        } else {
            crate::util::run_stdin(&args, &row.stdin)
        };
        let mut wrong = Vec::new();
        if r.code != row.code {
            wrong.push(format!("exit {} (want {})", r.code, row.code));
        }
        for f in row.stdout {
            if !r.stdout.contains(f) {
                wrong.push(format!("stdout lacks {f:?}"));
            }
        }
        for f in row.stderr {
            if !r.stderr.contains(f) {
                wrong.push(format!("stderr lacks {f:?}"));
            }
        }
        for f in row.never {
            if r.stdout.contains(f) || r.stderr.contains(f) {
                wrong.push(format!("prints {f:?}"));
            }
        }
        if !wrong.is_empty() {
            failed.push(format!(
                "{}: {}\n--- stdout\n{}\n--- stderr\n{}",
                row.case,
                wrong.join("; "),
                r.stdout,
                r.stderr
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}
