//! Live standard input: problems and recoveries are announced while the pipe is open, however
//! busy it is; a finished log piped in gets its report only; a closed output ends the run even
//! when the input never does.

use std::io::{Read, Write};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use crate::cli::PROXY_LINE;
use crate::util::run_stdin;

const HEALTHY: &str = r#"{"level":"info","ts":"2025-10-14T09:15:00.000Z","msg":"completed fetching node_stats metricset"}"#;
const REGISTERED: &str = r#"{"level":"info","ts":"2025-10-14T09:20:00.000Z","caller":"metricset/register.go:215","msg":"Registered cluster h3P0q9vZT6mWb2x5KcL1dA for Cloud Connect: 8c2d0b6f91e34a7d85f0c1b2a3d4e5f6"}"#;

/// A running faultline whose stdin a writer thread keeps busy (a healthy line every 20 ms, never
/// pausing long enough to look idle) and whose stdout lines arrive on a channel.
struct Busy {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
    say: mpsc::Sender<&'static str>,
    stop: Arc<AtomicBool>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Busy {
    fn start(args: &[&str]) -> Busy {
        let mut child = crate::util::spawn(args, Stdio::piped());
        let mut stdin = child.stdin.take().unwrap();
        let lines = crate::util::lines_of(child.stdout.take().unwrap());
        let (say, heard) = mpsc::channel::<&'static str>();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let writer = std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                let mut chunk = format!("{HEALTHY}\n");
                while let Ok(line) = heard.try_recv() {
                    chunk.push_str(line);
                    chunk.push('\n');
                }
                if stdin.write_all(chunk.as_bytes()).is_err() || stdin.flush().is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            // Dropping stdin closes the pipe: the report follows.
        });
        Busy {
            child,
            lines,
            say,
            stop,
            writer: Some(writer),
        }
    }

    /// Waits for a stdout line containing `needle`, failing after 20 s; returns the lines seen.
    fn wait_for(&self, needle: &str) -> Vec<String> {
        crate::util::wait_for(&self.lines, needle)
    }

    /// Closes the pipe and returns the rest of stdout and the exit code.
    fn close(mut self) -> (Vec<String>, Option<i32>) {
        self.stop.store(true, Ordering::Relaxed);
        self.writer.take().unwrap().join().unwrap();
        let rest: Vec<String> = self.lines.iter().collect();
        (rest, self.child.wait().unwrap().code())
    }
}

#[test]
fn a_busy_pipe_shows_a_new_problem_and_its_recovery_while_it_is_open() {
    let busy = Busy::start(&["--color", "never"]);
    busy.say.send(PROXY_LINE).unwrap();
    let seen = busy.wait_for("registration · proxy");
    assert!(
        seen.iter().any(|l| l.contains("following standard input")),
        "{seen:?}"
    );
    assert!(
        busy.wait_for("check: curl")
            .iter()
            .any(|l| l.contains("-x 10.0.0.8:3128")),
        "the check command is filled from the line"
    );
    busy.say.send(REGISTERED).unwrap();
    let seen = busy.wait_for("registration · recovered");
    assert!(
        !seen.iter().any(|l| l.contains("· proxy")),
        "a problem is announced once: {seen:?}"
    );
    let (rest, code) = busy.close();
    assert!(
        rest.iter()
            .any(|l| l.starts_with("faultline: 1 problem found")),
        "{rest:?}"
    );
    assert!(
        rest.iter().any(|l| l.contains("registration  recovered")),
        "{rest:?}"
    );
    assert_eq!(code, Some(1));
}

#[test]
fn ndjson_on_a_busy_pipe_writes_each_match_while_it_is_open() {
    let busy = Busy::start(&["--format", "ndjson"]);
    busy.say.send(PROXY_LINE).unwrap();
    let seen = busy.wait_for(r#""type":"match""#);
    let event: serde_json::Value = serde_json::from_str(seen.last().unwrap()).unwrap();
    assert_eq!(event["cause"], "proxy");
    assert_eq!(event["values"]["proxy"], "10.0.0.8:3128");
    let (rest, code) = busy.close();
    let summary: serde_json::Value = serde_json::from_str(rest.last().unwrap()).unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["findings"][0]["count"], 1);
    assert_eq!(code, Some(1));
}

#[test]
fn a_finished_log_piped_in_gets_its_report_only() {
    let input = format!("{HEALTHY}\n{PROXY_LINE}\n{HEALTHY}\n{REGISTERED}\n");
    let r = run_stdin(&["--color", "never"], input.as_bytes());
    assert_eq!(r.code, 1, "{}", r.stderr);
    let first = r.stdout.lines().next().unwrap_or_default();
    assert_eq!(first, "faultline: 1 problem found", "{}", r.stdout);
    assert!(
        !r.stdout.contains("following standard input"),
        "{}",
        r.stdout
    );
    assert_eq!(r.stdout.matches("proxy — ").count(), 1, "{}", r.stdout);
}

#[test]
fn a_closed_output_ends_the_run_while_the_input_goes_on() {
    let mut child = crate::util::spawn(&["--format", "ndjson"], Stdio::piped());
    let mut stdin = child.stdin.take().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    // An endless input of failing lines.
    let writer = std::thread::spawn(move || {
        let block = format!("{PROXY_LINE}\n").repeat(200);
        while !stopping.load(Ordering::Relaxed) {
            if stdin.write_all(block.as_bytes()).is_err() {
                return true;
            }
        }
        false
    });
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    assert!(first.starts_with(br#"{"type":"match""#));
    drop(stdout);
    // faultline must notice the closed output and exit, although its input never ends.
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    stop.store(true, Ordering::Relaxed);
    let _ = child.kill();
    let _ = writer.join();
    let status = status.expect("faultline still runs 20 s after its output was closed");
    assert_eq!(
        status.code(),
        Some(0),
        "a closed output ends the run quietly"
    );
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.is_empty(), "{stderr}");
}
