//! Micro-benchmarks of the hot path, stage by stage: the anchor prefilter over whole buffers, the
//! envelope decoders on single lines, the classifier on single decoded lines, and `scan_block` (the
//! three together, one thread) over generated buffers. Run with `cargo bench --bench micro`; the
//! buffers come from the same generator as the corpus files (`benches/corpus_gen.rs`).

#[path = "corpus_gen.rs"]
mod corpus_gen;

use std::hint::black_box;
use std::time::Duration;

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use faultline::findings::{Aggregation, Source};
use faultline::matcher::{Matcher, Verdict};
use faultline::record::decode;
use faultline::rules::RuleSet;
use faultline::scan::{scan_into, ScanOptions};

use corpus_gen::{sample_line, Config, Envelope, Generator, Mode, Sample};

const BUF: usize = 4 << 20;

fn matcher() -> Matcher {
    Matcher::new(RuleSet::builtin().expect("the built-in rules load"))
}

/// About 4 MiB of whole lines from the generator.
fn buffer(failures_percent: f64) -> Vec<u8> {
    let mut g = Generator::new(Config {
        seed: 1,
        mode: Mode::Mixed,
        failures_percent,
    });
    let mut buf = Vec::with_capacity(BUF + 4096);
    g.fill(&mut buf, BUF);
    buf
}

/// Counts the anchor occurrences the prefilter finds in `buf`, as the scanner walks them.
fn walk_anchors(m: &Matcher, buf: &[u8]) -> usize {
    m.hits(buf).count()
}

/// The design the prefilter replaced, for comparison: one leftmost-first Aho-Corasick automaton
/// over all scan anchors, resuming after each hit's line.
fn walk_one_automaton(ac: &AhoCorasick, buf: &[u8]) -> usize {
    let mut pos = 0;
    let mut hits = 0;
    while let Some(m) = ac.find(Input::new(buf).span(pos..buf.len())) {
        hits += 1;
        pos = memchr::memchr(b'\n', &buf[m.end()..]).map_or(buf.len(), |i| m.end() + i + 1);
    }
    hits
}

fn prefilter(c: &mut Criterion) {
    let m = matcher();
    let healthy = buffer(0.0);
    // The same lines without the candidates: what the prefilter costs when it finds nothing.
    let quiet: Vec<u8> = healthy
        .split_inclusive(|&b| b == b'\n')
        .filter(|line| m.hits(line).next().is_none())
        .flatten()
        .copied()
        .collect();
    let one = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostFirst)
        .kind(Some(AhoCorasickKind::DFA))
        .build(m.anchors())
        .expect("anchors build");
    let mut group = c.benchmark_group("prefilter");
    group.throughput(Throughput::Bytes(healthy.len() as u64));
    group.bench_function("hits/healthy-4MiB", |b| {
        b.iter(|| walk_anchors(&m, black_box(&healthy)))
    });
    group.bench_function("one-automaton/healthy-4MiB", |b| {
        b.iter(|| walk_one_automaton(&one, black_box(&healthy)))
    });
    group.throughput(Throughput::Bytes(quiet.len() as u64));
    group.bench_function("hits/no-candidates", |b| {
        b.iter(|| walk_anchors(&m, black_box(&quiet)))
    });
    group.bench_function("one-automaton/no-candidates", |b| {
        b.iter(|| walk_one_automaton(&one, black_box(&quiet)))
    });
    group.finish();
}

fn decoders(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    for env in Envelope::ALL {
        let line = sample_line(Sample::Failing, env);
        group.throughput(Throughput::Bytes(line.len() as u64));
        group.bench_function(format!("{}/failing", env.name()), |b| {
            b.iter(|| decode(black_box(&line)).text.len())
        });
    }
    let line = sample_line(Sample::Candidate, Envelope::Zap);
    group.throughput(Throughput::Bytes(line.len() as u64));
    group.bench_function("zap/candidate", |b| {
        b.iter(|| decode(black_box(&line)).text.len())
    });
    group.finish();
}

fn classifier(c: &mut Criterion) {
    let m = matcher();
    let mut group = c.benchmark_group("classify");
    for (name, sample) in [
        ("failing", Sample::Failing),
        ("candidate-healthy", Sample::Candidate),
        ("trap-ignored", Sample::Trap),
        ("no-anchor", Sample::Healthy),
    ] {
        let line = sample_line(sample, Envelope::Zap);
        let rec = decode(&line).into_owned();
        let verdict = m.classify(&rec);
        match sample {
            Sample::Failing => assert!(matches!(verdict, Verdict::Failure(_)), "{verdict:?}"),
            Sample::Trap => assert!(matches!(verdict, Verdict::Ignore { .. }), "{verdict:?}"),
            Sample::Healthy => assert_eq!(verdict, Verdict::None),
            Sample::Candidate => {}
        }
        group.bench_function(name, |b| b.iter(|| m.classify(black_box(&rec))));
    }
    let line = sample_line(Sample::Failing, Envelope::Docker);
    group.bench_function("decode+classify/docker-failing", |b| {
        b.iter(|| m.classify(&decode(black_box(&line))))
    });
    group.finish();
}

fn scanner(c: &mut Criterion) {
    let m = matcher();
    let opts = ScanOptions::default();
    let source = Source::new("corpus", 0);
    let mut group = c.benchmark_group("scan_block");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    for (name, failures) in [("mixed-4MiB", 0.5), ("storm-4MiB", 10.0)] {
        let buf = buffer(failures);
        group.throughput(Throughput::Bytes(buf.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut agg = Aggregation::default();
                scan_into(&m, black_box(&buf), &source, 1, &opts, &mut agg).newlines
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = prefilter, decoders, classifier, scanner
}
criterion_main!(benches);
