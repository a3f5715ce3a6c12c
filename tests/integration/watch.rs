//! `faultline watch`: the real binary follows files in a temporary directory while the test
//! appends, rotates both ways, truncates, deletes and re-creates, adds files, and restarts from
//! `--state`; each test checks the exact match events (no line lost, none read twice) and alerts.
//! Every wait is on a condition with a deadline.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::faultline;

/// A failing line (registration × proxy) told apart by its second.
pub(crate) fn failing(second: u32) -> String {
    format!(
        r#"{{"level":"error","ts":"2025-10-14T09:00:{second:02}.000Z","msg":"failed to register Cloud Connected Mode: Post \"https://api.elastic-cloud.com/api/v1/cloud-connected/clusters\": proxyconnect tcp: dial tcp 10.0.0.8:3128: connect: connection refused"}}"#
    )
}

pub(crate) const HEALTHY: &str =
    r#"{"level":"info","ts":"2025-10-14T08:59:00.000Z","msg":"starting"}"#;
pub(crate) const REGISTERED: &str = r#"{"level":"info","ts":"2025-10-14T09:30:00.000Z","msg":"Registered cluster h3P0q9vZT6mWb2x5KcL1dA for Cloud Connect: 8c2d0b6f91e34a7d85f0c1b2a3d4e5f6"}"#;

pub(crate) fn append(path: &Path, lines: &[String]) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
}

pub(crate) struct Watching {
    child: Child,
    out: mpsc::Receiver<String>,
    /// Every stdout event so far.
    events: Vec<Value>,
}

impl Watching {
    fn start(targets: &[&Path], extra: &[&str]) -> Watching {
        Watching::start_as("ndjson", targets, extra)
    }

    pub(crate) fn start_as(format: &str, targets: &[&Path], extra: &[&str]) -> Watching {
        let mut cmd = faultline();
        cmd.args(["watch", "--format", format, "--poll-interval", "100ms"])
            .args(extra)
            .args(targets)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let out = crate::util::lines_of(child.stdout.take().unwrap());
        // Ready once the first pass is done: it says what it watches.
        let err = crate::util::lines_of(child.stderr.take().unwrap());
        crate::util::wait_for(&err, "faultline: watching");
        Watching {
            child,
            out,
            events: Vec::new(),
        }
    }

    /// Waits until the events include one for which `pred` holds; 20 s at most.
    pub(crate) fn wait(&mut self, what: &str, pred: impl Fn(&Value) -> bool) {
        if self.events.iter().any(&pred) {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.out.recv_timeout(left) {
                Ok(line) => {
                    let v: Value = serde_json::from_str(&line).unwrap();
                    let done = pred(&v);
                    self.events.push(v);
                    if done {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("no event {what} within 20 s; saw:\n{:#?}", self.events);
    }

    fn wait_match(&mut self, second: u32) {
        let ts = format!("2025-10-14T09:00:{second:02}Z");
        self.wait(&format!("match {ts}"), |v| {
            v["type"] == "match" && v["timestamp"] == ts.as_str()
        });
    }

    /// Ctrl-C: the rest of the events and the summary.
    pub(crate) fn stop(mut self) -> (Vec<Value>, Value) {
        let ok = std::process::Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        for line in self.out.iter() {
            self.events.push(serde_json::from_str(&line).unwrap());
        }
        let status = self.child.wait().unwrap();
        assert!(status.code().is_some(), "ended by a signal: {status:?}");
        let summary = self.events.pop().expect("a summary");
        // faultline's own summary, or the ECS one.
        assert!(
            summary["type"] == "summary" || summary["event"]["action"] == "summary",
            "{summary}"
        );
        (self.events, summary)
    }
}

/// The (file name, line, second) of every match event, in order.
fn matches(events: &[Value]) -> Vec<(String, u64, String)> {
    events
        .iter()
        .filter(|e| e["type"] == "match")
        .map(|e| {
            let source = e["source"].as_str().unwrap();
            let name = Path::new(source)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let ts = e["timestamp"].as_str().unwrap_or("-");
            (name, e["line"].as_u64().unwrap(), ts[17..19].to_string())
        })
        .collect()
}

fn alerts(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["type"] == "alert")
        .map(|e| e["alert"].as_str().unwrap().to_string())
        .collect()
}

fn m(name: &str, line: u64, second: u32) -> (String, u64, String) {
    (name.to_string(), line, format!("{second:02}"))
}

pub(crate) fn dir() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().to_path_buf();
    (d, p)
}

#[test]
fn appends_and_rename_rotation_are_read_once_each() {
    let (_d, dir) = dir();
    let log = dir.join("agent.log");
    // What is there before the watch starts is skipped, like `tail -F`.
    append(&log, &[HEALTHY.into(), failing(1)]);
    let mut w = Watching::start(&[&dir], &[]);
    append(&log, &[failing(2), failing(3)]);
    w.wait_match(3);
    // Rotation by rename: the old file keeps its identity under its new name, and what is
    // written to it before the writer switches is still read; the new file is read from its
    // start.
    fs::rename(&log, dir.join("agent.log.1")).unwrap();
    append(&dir.join("agent.log.1"), &[failing(4)]);
    append(&log, &[failing(5), HEALTHY.into(), failing(6)]);
    w.wait_match(6);
    let (events, summary) = w.stop();
    assert_eq!(
        matches(&events),
        vec![
            m("agent.log", 3, 2),
            m("agent.log", 4, 3),
            m("agent.log.1", 5, 4),
            m("agent.log", 1, 5),
            m("agent.log", 3, 6),
        ]
    );
    assert_eq!(alerts(&events), vec!["open"]);
    assert_eq!(summary["findings"][0]["count"], 5);
    assert_eq!(summary["components"]["registration"], "failing");
}

#[test]
fn copytruncate_is_not_read_twice_and_truncation_starts_over() {
    let (_d, dir) = dir();
    let log = dir.join("agent.log");
    append(&log, &[HEALTHY.into()]);
    let mut w = Watching::start(&[&dir], &[]);
    append(&log, &[failing(1), failing(2)]);
    w.wait_match(2);
    // logrotate's copytruncate: a copy appears in the watched directory, the original is
    // emptied, and writing goes on from its start. Here the copy is seen while the original
    // still grows (the match of line 3 proves a pass saw both)…
    fs::copy(&log, dir.join("agent.log.1")).unwrap();
    append(&log, &[failing(3)]);
    w.wait_match(3);
    fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&log, &[failing(4)]);
    w.wait_match(4);
    // … and here the copy shows up only after the original was truncated and written again.
    let copy = fs::read(&log).unwrap();
    fs::write(&log, "").unwrap();
    append(&log, &[failing(5), failing(6)]);
    w.wait_match(6);
    fs::write(dir.join("agent.log.2"), copy).unwrap();
    append(&log, &[failing(7)]);
    w.wait_match(7);
    let (events, summary) = w.stop();
    assert_eq!(
        matches(&events),
        vec![
            m("agent.log", 2, 1),
            m("agent.log", 3, 2),
            m("agent.log", 4, 3),
            m("agent.log", 1, 4),
            m("agent.log", 1, 5),
            m("agent.log", 2, 6),
            m("agent.log", 3, 7),
        ]
    );
    assert_eq!(summary["findings"][0]["count"], 7);
}

#[test]
fn deleted_recreated_and_new_files_are_followed_from_their_start() {
    let (_d, dir) = dir();
    let log = dir.join("agent.log");
    append(&log, &[HEALTHY.into()]);
    // A named file that does not exist yet is picked up when it appears.
    let later = dir.join("sub").join("later.log");
    let mut w = Watching::start(&[&dir, &later], &[]);
    append(&log, &[failing(1)]);
    w.wait_match(1);
    fs::remove_file(&log).unwrap();
    append(&log, &[failing(2)]);
    w.wait_match(2);
    // A file that appears in the watched directory later.
    append(&dir.join("other.log"), &[HEALTHY.into(), failing(3)]);
    w.wait_match(3);
    fs::create_dir(dir.join("sub")).unwrap();
    append(&later, &[failing(4)]);
    w.wait_match(4);
    // Compressed rotations are not followed.
    fs::write(dir.join("agent.log.2.gz"), failing(9)).unwrap();
    append(&log, &[failing(5)]);
    w.wait_match(5);
    let (events, summary) = w.stop();
    assert_eq!(
        matches(&events),
        vec![
            m("agent.log", 2, 1),
            m("agent.log", 1, 2),
            m("other.log", 2, 3),
            m("later.log", 1, 4),
            m("agent.log", 2, 5),
        ]
    );
    assert_eq!(summary["findings"][0]["count"], 5);
}

#[test]
fn a_restart_from_state_resumes_exactly_and_does_not_open_again() {
    let (_d, dir) = dir();
    let log = dir.join("agent.log");
    let state = dir.join("state").join("watch.json");
    fs::create_dir(dir.join("state")).unwrap();
    append(&log, &[HEALTHY.into()]);
    let args = ["--state", state.to_str().unwrap()];
    let mut w = Watching::start(&[&log], &args);
    append(&log, &[failing(1), failing(2)]);
    w.wait_match(2);
    let (first, _) = w.stop();
    assert_eq!(alerts(&first), vec!["open"]);
    // Written while faultline was not running: read by the next run, and only that.
    append(&log, &[failing(3), failing(4)]);
    let mut w = Watching::start(&[&log], &args);
    append(&log, &[failing(5)]);
    w.wait_match(5);
    append(&log, &[REGISTERED.into()]);
    w.wait("recovered", |v| v["alert"] == "recovered");
    let (second, summary) = w.stop();
    assert_eq!(
        matches(&second),
        vec![
            m("agent.log", 4, 3),
            m("agent.log", 5, 4),
            m("agent.log", 6, 5)
        ]
    );
    // The problem was open before the restart: no second `open`.
    assert_eq!(alerts(&second), vec!["recovered"]);
    assert_eq!(summary["findings"][0]["count"], 5);
    assert_eq!(summary["components"]["registration"], "recovered");
}

#[test]
fn polling_alone_follows_a_rotation() {
    let (_d, dir) = dir();
    let log = dir.join("agent.log");
    append(&log, &[HEALTHY.into()]);
    let mut w = Watching::start(&[&dir], &["--poll", "--digest-interval", "100ms"]);
    append(&log, &[failing(1)]);
    w.wait_match(1);
    fs::rename(&log, dir.join("agent.log.1")).unwrap();
    append(&log, &[failing(2), failing(3)]);
    w.wait_match(3);
    // New lines of an open problem are summed up in a digest, not alerted one by one.
    w.wait("repeat", |v| v["alert"] == "repeat");
    let (events, _) = w.stop();
    assert_eq!(
        matches(&events),
        vec![
            m("agent.log", 2, 1),
            m("agent.log", 1, 2),
            m("agent.log", 2, 3)
        ]
    );
    let a = alerts(&events);
    assert_eq!(a[0], "open");
    assert!(a[1..].iter().all(|k| k == "repeat"), "{a:?}");
    let repeated: u64 = events
        .iter()
        .filter(|e| e["alert"] == "repeat")
        .map(|e| e["lines"].as_u64().unwrap())
        .sum();
    assert_eq!(repeated, 2, "every line after the open is in a digest once");
}

#[test]
fn a_symlink_is_followed_to_its_file_across_the_file_s_rotation() {
    // The kubelet's layout: /var/log/containers/x.log → /var/log/pods/…/0.log, which the
    // kubelet rotates by renaming it and creating a new 0.log.
    let (_d, dir) = dir();
    let pods = dir.join("pods");
    let containers = dir.join("containers");
    fs::create_dir_all(&pods).unwrap();
    fs::create_dir_all(&containers).unwrap();
    let target = pods.join("0.log");
    append(&target, &[HEALTHY.into()]);
    let link = containers.join("agent.log");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let mut w = Watching::start(&[&containers], &[]);
    append(&target, &[failing(1)]);
    w.wait_match(1);
    fs::rename(&target, pods.join("0.log.20251014-090000")).unwrap();
    append(&target, &[failing(2)]);
    w.wait_match(2);
    let (events, _) = w.stop();
    assert_eq!(
        matches(&events),
        vec![m("agent.log", 2, 1), m("agent.log", 1, 2)]
    );
}

#[test]
fn a_deleted_file_is_closed_once_it_is_read() {
    let (_d, dir) = dir();
    let log = dir.join("agent.log");
    append(&log, &[HEALTHY.into()]);
    let mut w = Watching::start(&[&dir], &[]);
    append(&log, &[failing(1)]);
    w.wait_match(1);
    let fds = PathBuf::from(format!("/proc/{}/fd", w.child.id()));
    let holds = || {
        fs::read_dir(&fds).unwrap().flatten().any(|e| {
            fs::read_link(e.path())
                .map(|t| t.to_string_lossy().contains("agent.log"))
                .unwrap_or(false)
        })
    };
    assert!(holds(), "the followed file is open");
    append(&log, &[failing(2)]);
    fs::remove_file(&log).unwrap();
    // Its last line is still read, and its space is given back: the descriptor is closed.
    w.wait_match(2);
    let deadline = Instant::now() + Duration::from_secs(20);
    while holds() {
        assert!(
            Instant::now() < deadline,
            "the deleted file is still open after 20 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (events, _) = w.stop();
    assert_eq!(
        matches(&events),
        vec![m("agent.log", 2, 1), m("agent.log", 3, 2)]
    );
}

#[test]
fn people_get_one_line_per_alert_and_the_report_at_the_end() {
    let (_d, dir) = dir();
    let log = dir.join("agent.log");
    append(&log, &[HEALTHY.into()]);
    let w = Watching::start_as("human", &[&log], &["--color", "never"]);
    let next = |needle: &str| crate::util::wait_for(&w.out, needle);
    append(&log, &[failing(1), failing(2)]);
    let open = next("check: curl");
    assert!(open[0].starts_with("✗ registration · proxy: "), "{open:?}");
    assert!(open[1].contains("-x 10.0.0.8:3128"), "{open:?}");
    append(&log, &[REGISTERED.into()]);
    let rec = next("recovered");
    assert_eq!(rec.len(), 1, "nothing is printed for repeats: {rec:?}");
    assert!(
        rec[0].starts_with("✓ registration · proxy: recovered"),
        "{rec:?}"
    );
    let child = w.child;
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let report: Vec<String> = w.out.iter().collect();
    let mut child = child;
    assert_eq!(child.wait().unwrap().code(), Some(1), "{report:?}");
    assert!(
        report
            .iter()
            .any(|l| l.starts_with("faultline: 1 problem found")),
        "{report:?}"
    );
    assert!(
        report.iter().any(|l| l.contains("registration  recovered")),
        "{report:?}"
    );
}

#[test]
fn from_start_reads_what_is_there_and_a_replaced_file_is_read_anew() {
    let (_d, dir) = dir();
    let log = dir.join("agent.log");
    append(&log, &[HEALTHY.into(), failing(1)]);
    let mut w = Watching::start(&[&log], &["--from-start"]);
    w.wait_match(1);
    // Another file moved over the name: a new file, read from its start.
    let other = dir.join("incoming.tmp");
    append(&other, &[failing(2), failing(3)]);
    fs::rename(&other, &log).unwrap();
    w.wait_match(3);
    append(&log, &[failing(4)]);
    w.wait_match(4);
    let (events, summary) = w.stop();
    assert_eq!(
        matches(&events),
        vec![
            m("agent.log", 2, 1),
            m("agent.log", 1, 2),
            m("agent.log", 2, 3),
            m("agent.log", 3, 4),
        ]
    );
    assert_eq!(summary["stats"]["sources"], 2);
}
