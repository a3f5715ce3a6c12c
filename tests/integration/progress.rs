//! The progress bar, seen on a real terminal: the binary's standard error is a pseudo-terminal
//! whose output the test reads back.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::Stdio;

use crate::util::faultline;

/// Runs the binary with stderr on a new pseudo-terminal (200 columns) and stdout on a pipe;
/// returns the exit code, stdout and everything written to the terminal.
fn run_on_a_terminal(args: &[&str]) -> (i32, String, String) {
    // SAFETY: plain libc calls on descriptors this function owns; each result is checked.
    let (master, slave) = unsafe {
        let fd = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(fd >= 0, "posix_openpt: {}", std::io::Error::last_os_error());
        let master = OwnedFd::from_raw_fd(fd);
        assert_eq!(libc::grantpt(fd), 0);
        assert_eq!(libc::unlockpt(fd), 0);
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(fd, name.as_mut_ptr(), name.len()), 0);
        let path = std::ffi::CStr::from_ptr(name.as_ptr())
            .to_str()
            .unwrap()
            .to_string();
        let slave = File::options().read(true).write(true).open(path).unwrap();
        let size = libc::winsize {
            ws_row: 40,
            ws_col: 200,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        assert_eq!(libc::ioctl(fd, libc::TIOCSWINSZ, &size), 0);
        (File::from(master), slave)
    };
    let child = faultline()
        .args(args)
        .env("TERM", "xterm-256color")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(slave))
        .spawn()
        .expect("the binary runs");
    // The only copy of the terminal's other end is the child's: reading ends (EIO) once it
    // exits.
    let reader = std::thread::spawn(move || {
        let mut master = master;
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match master.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        seen
    });
    let out = child.wait_with_output().expect("the binary ends");
    let terminal = reader.join().expect("the reader ends");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&terminal).into_owned(),
    )
}

/// The frames drawn on the terminal: what each carriage return or newline ends, with escape
/// sequences taken out.
fn frames(terminal: &str) -> Vec<String> {
    let mut plain = String::new();
    let mut chars = terminal.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next_if_eq(&'[').is_some() {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        plain.push(c);
    }
    plain
        .split(['\r', '\n'])
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
        .collect()
}

/// What the terminal shows at the end: the output played on a screen that knows carriage
/// return, newline, erasing a line (`ESC[2K`, `ESC[K`) and moving up (`ESC[nA`), the sequences
/// a progress bar draws with. Other sequences are ignored.
fn screen(terminal: &str) -> Vec<String> {
    let mut rows: Vec<Vec<char>> = vec![Vec::new()];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = terminal.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => col = 0,
            '\n' => {
                row += 1;
                col = 0;
                if row == rows.len() {
                    rows.push(Vec::new());
                }
            }
            '\u{1b}' => {
                if chars.next_if_eq(&'[').is_none() {
                    continue;
                }
                let mut param = String::new();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        let n: usize = param.parse().unwrap_or(1);
                        match (c, param.as_str()) {
                            ('K', "2") => rows[row].clear(),
                            ('K', "" | "0") => rows[row].truncate(col),
                            ('A', _) => row = row.saturating_sub(n),
                            _ => {}
                        }
                        break;
                    }
                    param.push(c);
                }
            }
            c if c.is_control() => {}
            c => {
                let line = &mut rows[row];
                if line.len() <= col {
                    line.resize(col, ' ');
                    line.push(c);
                } else {
                    line[col] = c;
                }
                col += 1;
            }
        }
    }
    rows.into_iter()
        .map(|r| r.into_iter().collect::<String>().trim_end().to_string())
        .filter(|r| !r.is_empty())
        .collect()
}

#[test]
fn a_large_file_shows_bytes_and_a_percentage_and_messages_leave_no_stale_frame() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("agent.log");
    let line = r#"{"level":"info","ts":"2025-10-14T09:15:00.000Z","msg":"completed fetching node_stats metricset"}"#;
    let mut f = std::io::BufWriter::new(File::create(&big).unwrap());
    // About 96 MiB: long enough to scan (unoptimised) for several frames.
    for _ in 0..1_000_000 {
        writeln!(f, "{line}").unwrap();
    }
    f.into_inner().unwrap().sync_all().unwrap();
    let binary = dir.path().join("core.bin");
    std::fs::write(&binary, b"\0\x01\x02ELF").unwrap();
    let (code, stdout, terminal) = run_on_a_terminal(&[
        "scan",
        "--color",
        "never",
        big.to_str().unwrap(),
        binary.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}\n{terminal}");
    assert!(stdout.contains("no problem found"), "{stdout}");
    let frames = frames(&terminal);
    let bars: Vec<&String> = frames.iter().filter(|f| f.contains("% ")).collect();
    assert!(!bars.is_empty(), "no bar with a percentage: {frames:?}");
    // A frame shows the bytes read of the total: `[===>  ]  42% 40.00 MiB/95.37 MiB`.
    let total = big.metadata().unwrap().len() + 7;
    let total = format!("{:.2} MiB", total as f64 / (1 << 20) as f64);
    assert!(
        bars.iter().all(|f| f.contains(&format!("/{total}"))),
        "{total} not in {bars:?}"
    );
    // The bar moved: some frame shows part of the file read, not just none or all of it.
    assert!(
        bars.iter()
            .any(|f| !f.contains(" 0% ") && !f.contains("100% ")),
        "{bars:?}"
    );
    // At the end the screen holds the note about the binary file, whole and on a line of its
    // own, and no frame of the bar.
    let screen = screen(&terminal);
    assert_eq!(screen.len(), 1, "{screen:?}");
    assert!(
        screen[0].starts_with("faultline: ") && screen[0].ends_with("--text reads it"),
        "{screen:?}"
    );
}
