//! One scan of the whole buffer, the same buffer scanned in `chunk_bounds` chunks merged in
//! order (as `drive::scan_parallel` does), and the buffer fed to a `Framer` in small pieces and
//! scanned block by block (as the stream drivers do) must find the same: findings (keys and
//! counts) and failure counts.
#![no_main]

use std::sync::OnceLock;

use faultline::findings::{Aggregation, Source};
use faultline::matcher::Matcher;
use faultline::rules::RuleSet;
use faultline::scan::{chunk_bounds, scan_block, Collector, Framer, ScanOptions};
use libfuzzer_sys::fuzz_target;

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| Matcher::new(RuleSet::builtin().expect("builtin rules")))
}

/// Scans one block numbered from `first_line`; returns its aggregation and newline count.
fn scan(buf: &[u8], first_line: u64) -> (Aggregation, u64) {
    let source = Source::new("fuzz", 0);
    let mut c = Collector::new(true);
    let counts = scan_block(
        matcher(),
        buf,
        &source,
        first_line,
        &ScanOptions::default(),
        &mut c,
    );
    counts.add_to(&mut c.agg);
    (c.agg, counts.newlines)
}

/// What must not depend on how the input was cut.
fn summary(agg: &Aggregation) -> (Vec<(String, u64)>, u64, Vec<(u64, u64)>) {
    let findings = agg.findings.iter().map(|f| (f.key.id(), f.count)).collect();
    let components = agg
        .components
        .iter()
        .map(|c| (c.failures, c.successes))
        .collect();
    (findings, agg.stats.failures, components)
}

fuzz_target!(|data: &[u8]| {
    let Some((&knob, buf)) = data.split_first() else {
        return;
    };
    let (whole, whole_lines) = scan(buf, 1);
    let expected = summary(&whole);

    // Chunks, each numbered from 1, shifted and merged in order (drive::scan_parallel).
    let chunk = usize::from(knob & 0x3f) + 1;
    let mut total = Aggregation::default();
    let mut lines_before = 0u64;
    for (s, e) in chunk_bounds(buf, chunk) {
        let (mut part, newlines) = scan(&buf[s..e], 1);
        part.shift_lines(lines_before);
        lines_before += newlines;
        total.merge(part);
    }
    assert_eq!(lines_before, whole_lines, "newlines, chunk {chunk}");
    assert_eq!(summary(&total), expected, "chunks of {chunk}");

    // A framer fed in pieces, each block scanned from its line number.
    let piece = usize::from(knob >> 6) * 5 + 1;
    let mut framer = Framer::new(chunk);
    let mut total = Aggregation::default();
    let mut line = 1u64;
    let mut blocks = Vec::new();
    // Hands out every block that is due (all that is held at the end of input), as copies.
    let drain = |framer: &mut Framer, eof: bool, blocks: &mut Vec<Vec<u8>>| {
        while let Some(b) = framer.take(eof) {
            let block = &framer.buffered()[..b.len];
            let newlines = block.iter().filter(|&&c| c == b'\n').count() as u64;
            blocks.push(block.to_vec());
            framer.advance(b, newlines);
        }
    };
    for mut bytes in buf.chunks(piece) {
        // As a reader fills it: into its spare room, then every block that is due.
        while !bytes.is_empty() {
            let room = framer.spare();
            let n = room.len().min(bytes.len());
            room[..n].copy_from_slice(&bytes[..n]);
            framer.filled(n);
            bytes = &bytes[n..];
            drain(&mut framer, false, &mut blocks);
        }
    }
    drain(&mut framer, true, &mut blocks);
    assert_eq!(blocks.concat(), buf, "framer bytes, piece {piece}");
    for block in &blocks {
        let (part, newlines) = scan(block, line);
        line += newlines;
        total.merge(part);
    }
    assert_eq!(line - 1, whole_lines, "framer newlines");
    assert_eq!(
        summary(&total),
        expected,
        "framer pieces of {piece}, block {chunk}"
    );
});
