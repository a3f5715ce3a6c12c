use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The repository root (where `fixtures/` and `rules/` live).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The result of one run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// A command for the binary, run from the repository root with a clean environment.
pub fn faultline() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_faultline"));
    cmd.current_dir(root())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd
}

fn finish(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Starts the binary with `args` and `stdin`, its output piped back.
pub fn spawn(args: &[&str], stdin: Stdio) -> Child {
    faultline()
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs")
}

/// Runs with `args` and no standard input.
pub fn run(args: &[&str]) -> Run {
    finish(
        faultline()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("the binary runs"),
    )
}

/// Runs with `args`, feeding `input` on standard input.
pub fn run_stdin(args: &[&str], input: &[u8]) -> Run {
    use std::io::Write;
    let mut child = spawn(args, Stdio::piped());
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("the binary finishes");
    writer.join().unwrap();
    finish(out)
}

/// A fixture's path relative to the root.
pub fn fixture(name: &str) -> String {
    let p = Path::new("fixtures").join(name);
    assert!(root().join(&p).exists(), "missing fixture {}", p.display());
    p.display().to_string()
}

/// The lines a child writes to one of its pipes, forwarded by a thread to a channel as they come.
pub fn lines_of(pipe: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a line containing `needle`; panics after 20 s with what was seen. Returns the lines
/// seen, that one last.
pub fn wait_for(rx: &std::sync::mpsc::Receiver<String>, needle: &str) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                let done = line.contains(needle);
                seen.push(line);
                if done {
                    return seen;
                }
            }
            Err(_) => break,
        }
    }
    panic!(
        "no line with {needle:?} within 20 s; saw:\n{}",
        seen.join("\n")
    );
}
