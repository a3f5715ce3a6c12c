use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let data = std::fs::read(&path).unwrap();
    let mut set = faultline::rules::RuleSet::default();
    for f in std::env::args().skip(2) {
        set.merge(faultline::rules::RuleSet::load(std::path::Path::new(&f)).unwrap());
    }
    let m = faultline::matcher::Matcher::new(set);
    let t = Instant::now();
    let n = memchr::memchr_iter(b'\n', &data).count();
    println!(
        "newlines {n}: {:?} {:.2} GB/s",
        t.elapsed(),
        data.len() as f64 / t.elapsed().as_secs_f64() / 1e9
    );
    let t = Instant::now();
    let n = data.iter().filter(|&&b| b == b'\n').count();
    println!(
        "newlines naive {n}: {:?} {:.2} GB/s",
        t.elapsed(),
        data.len() as f64 / t.elapsed().as_secs_f64() / 1e9
    );
    let t = Instant::now();
    let mut pos = 0;
    let mut hits = 0;
    while let Some((s, e)) = m.find_anchor(&data, pos) {
        hits += 1;
        pos = e;
        let _ = s;
    }
    println!(
        "anchors {hits}: {:?} {:.2} GB/s",
        t.elapsed(),
        data.len() as f64 / t.elapsed().as_secs_f64() / 1e9
    );
    let t = Instant::now();
    let p = faultline::scan::scan_chunk(&m, &data, 0, 1, &Default::default());
    println!(
        "scan_chunk 1 thread {}: {:?} {:.2} GB/s",
        p.agg.stats.failures,
        t.elapsed(),
        data.len() as f64 / t.elapsed().as_secs_f64() / 1e9
    );
    let t = Instant::now();
    let p = faultline::scan::scan_static(&m, &data, 0, &Default::default());
    println!(
        "scan_static {}: {:?} {:.2} GB/s",
        p.agg.stats.failures,
        t.elapsed(),
        data.len() as f64 / t.elapsed().as_secs_f64() / 1e9
    );
}
