//! Writes a deterministic, realistic AutoOps agent log of any size, for the throughput benchmark
//! (`benches/run.sh`, described in `benches/README.md`).
//!
//! ```text
//! cargo run --release --example gencorpus -- --size 1GiB --failures 0.5 --seed 1 \
//!     --envelope mixed --out benches/corpus/mixed-1GiB.log
//! ```
//!
//! `--size` takes bytes or a unit (`100MiB`, `1GiB`, `4G`, `500MB`); the file ends at the last whole
//! line that fits. `--failures` is the share of failure lines in percent (default 0.5; 10 for a
//! failure storm). `--envelope` is `zap`, `ecs`, `console`, `docker`, `cri` or `mixed` (default:
//! switch envelope every few thousand lines). `--out -` writes to standard output. The file is
//! written through a buffer (constant memory) to `OUT.tmp` and renamed when complete, and a
//! summary goes to standard error and, as JSON, to `OUT.meta.json`.

#[path = "../benches/corpus_gen.rs"]
mod corpus_gen;

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use corpus_gen::{Config, Conn, Envelope, Generator, Mode};

const USAGE: &str = "usage: gencorpus --size SIZE [--failures PERCENT] [--seed N] \
[--envelope zap|ecs|console|docker|cri|mixed] --out FILE|-";

struct Args {
    size: u64,
    cfg: Config,
    out: Option<PathBuf>,
}

fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        _ => return None,
    };
    (num >= 0.0 && num.is_finite()).then(|| (num * mult as f64).round() as u64)
}

fn parse_args() -> Result<Args, String> {
    let mut size = None;
    let mut failures = 0.5;
    let mut seed = 1u64;
    let mut mode = Mode::Mixed;
    let mut out = None;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (key, inline) = match arg.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if key == "-h" || key == "--help" {
            return Err(USAGE.to_string());
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{key} needs a value\n{USAGE}"))
        };
        match key.as_str() {
            "--size" => {
                let v = value()?;
                size = Some(parse_size(&v).ok_or_else(|| format!("bad --size {v:?}"))?);
            }
            "--failures" => {
                let v = value()?;
                failures = v
                    .trim_end_matches('%')
                    .parse::<f64>()
                    .ok()
                    .filter(|p| (0.0..=100.0).contains(p))
                    .ok_or_else(|| format!("bad --failures {v:?} (a percentage, 0 to 100)"))?;
            }
            "--seed" => {
                let v = value()?;
                seed = v.parse().map_err(|_| format!("bad --seed {v:?}"))?;
            }
            "--envelope" => {
                let v = value()?;
                mode = Mode::parse(&v).ok_or_else(|| format!("bad --envelope {v:?}\n{USAGE}"))?;
            }
            "--out" | "-o" => {
                let v = value()?;
                out = (v != "-").then(|| PathBuf::from(v));
            }
            _ => return Err(format!("unknown argument {arg:?}\n{USAGE}")),
        }
    }
    let size = size.ok_or_else(|| format!("--size is required\n{USAGE}"))?;
    Ok(Args {
        size,
        cfg: Config {
            seed,
            mode,
            failures_percent: failures,
        },
        out,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("gencorpus: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gencorpus: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> io::Result<()> {
    let started = Instant::now();
    let mut generator = Generator::new(args.cfg);
    match &args.out {
        None => {
            let stdout = io::stdout();
            let mut w = BufWriter::with_capacity(1 << 20, stdout.lock());
            generator.write_to(&mut w, args.size)?;
            w.flush()?;
        }
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                fs::create_dir_all(dir)?;
            }
            let mut tmp = path.clone().into_os_string();
            tmp.push(".tmp");
            let tmp = PathBuf::from(tmp);
            let mut w = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
            generator.write_to(&mut w, args.size)?;
            w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            fs::rename(&tmp, path)?;
        }
    }
    let s = generator.stats();
    let secs = started.elapsed().as_secs_f64();
    let share = |n: u64| 100.0 * n as f64 / s.lines.max(1) as f64;
    let by_conn: Vec<String> = Conn::ALL
        .iter()
        .map(|c| format!("{} {}", c.name(), s.failures_by_conn[*c as usize]))
        .collect();
    let by_env: Vec<String> = Envelope::ALL
        .iter()
        .filter(|e| s.lines_by_envelope[**e as usize] > 0)
        .map(|e| format!("{} {}", e.name(), s.lines_by_envelope[*e as usize]))
        .collect();
    eprintln!(
        "gencorpus: wrote {} bytes ({:.2} MiB), {} lines (avg {:.0} B), {} failure lines ({:.3} %: {}), envelope {} ({}), {} agent starts, seed {}, to {} in {:.1} s ({:.0} MB/s)",
        s.bytes,
        s.bytes as f64 / (1u64 << 20) as f64,
        s.lines,
        s.bytes as f64 / s.lines.max(1) as f64,
        s.failures,
        share(s.failures),
        by_conn.join(", "),
        args.cfg.mode.name(),
        by_env.join(", "),
        s.restarts,
        args.cfg.seed,
        args.out
            .as_ref()
            .map_or("<stdout>".to_string(), |p| p.display().to_string()),
        secs,
        s.bytes as f64 / secs.max(1e-9) / 1e6,
    );
    if let Some(path) = &args.out {
        let mut meta = path.clone().into_os_string();
        meta.push(".meta.json");
        let conns: Vec<String> = Conn::ALL
            .iter()
            .map(|c| format!("\"{}\":{}", c.name(), s.failures_by_conn[*c as usize]))
            .collect();
        let json = format!(
            "{{\"bytes\":{},\"lines\":{},\"failures\":{},\"failures_by_component\":{{{}}},\"failures_percent\":{},\"seed\":{},\"envelope\":\"{}\",\"size_requested\":{},\"restarts\":{}}}\n",
            s.bytes,
            s.lines,
            s.failures,
            conns.join(","),
            args.cfg.failures_percent,
            args.cfg.seed,
            args.cfg.mode.name(),
            args.size,
            s.restarts,
        );
        fs::write(PathBuf::from(meta), json)?;
    }
    Ok(())
}
