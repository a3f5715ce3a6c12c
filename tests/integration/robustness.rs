//! Hostile input: binary data, invalid UTF-8, a line longer than the read buffer, a closed pipe.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use crate::cli::PROXY_LINE;
use crate::util::{faultline, run_stdin};

#[test]
fn binary_and_invalid_utf8_do_not_hide_a_failure() {
    let mut input: Vec<u8> = (0..=255u8).cycle().take(64 * 1024).collect();
    input.extend_from_slice(b"\n\xff\xfe not utf-8 \xc3\x28\n");
    input.extend_from_slice(PROXY_LINE.as_bytes());
    input.extend_from_slice(b"\n\x00\x00\x00");
    let r = run_stdin(&["--format", "json"], &input);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
    assert_eq!(doc["findings"][0]["cause"], "proxy");
    // 256 newlines in the cycled bytes (one per 256 bytes), then the two lines added.
    let newlines_before = input[..input.len() - PROXY_LINE.len() - 4]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64;
    assert_eq!(
        doc["findings"][0]["first_seen"]["line"],
        newlines_before + 1
    );
}

#[test]
fn a_line_longer_than_the_buffer_is_survived() {
    // 20 MiB without a newline (more than the 16 MiB kept of one line), then a failing line.
    let mut input = vec![b'x'; 20 << 20];
    input.push(b'\n');
    input.extend_from_slice(PROXY_LINE.as_bytes());
    input.push(b'\n');
    let r = run_stdin(&["--format", "json"], &input);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(doc["findings"][0]["first_seen"]["line"], 2);
    assert_eq!(doc["stats"]["lines"], 2);
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let mut child = faultline()
        .args(["--format", "ndjson"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        for _ in 0..20_000 {
            if stdin.write_all(PROXY_LINE.as_bytes()).is_err() || stdin.write_all(b"\n").is_err() {
                break;
            }
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with("{\"type\":\"match\""), "{first}");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(out.status.code(), Some(0));
}
