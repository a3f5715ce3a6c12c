//! Bytes as a file handed to the bundle opener (gzip, zip, tar, nested, or text), with a visitor
//! that reads every stream to its end. Runs on a thread with a 2 MiB stack, as the rayon threads
//! of a real run have, so that deep recursion shows as a stack overflow.
#![no_main]

use std::io;
use std::path::PathBuf;
use std::sync::OnceLock;

use faultline::source::bundle::{Content, Limits, Opener, Visitor};
use libfuzzer_sys::fuzz_target;

/// Reads everything and counts it.
#[derive(Default)]
struct Drain {
    bytes: u64,
    problems: u64,
}

impl Visitor for Drain {
    fn content(&mut self, _name: &str, content: Content<'_>) -> io::Result<()> {
        match content {
            Content::File(b) | Content::Static(b) => self.bytes += b.len() as u64,
            Content::Stream(r) => {
                let mut buf = [0u8; 8192];
                loop {
                    match r.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => self.bytes += n as u64,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(())
    }
    fn problem(&mut self, _name: &str, _message: String, _error: bool) {
        self.problems += 1;
    }
    fn binary(&mut self, _name: &str) {}
    fn member(&mut self) {}
    fn fork(&self) -> Self {
        Drain::default()
    }
    fn join(&mut self, forked: Self) {
        self.bytes += forked.bytes;
        self.problems += forked.problems;
    }
}

/// One file per fuzzing process, rewritten for each input.
fn path() -> &'static PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        std::env::temp_dir().join(format!("faultline-fuzz-{}.bin", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = path();
    std::fs::write(path, data).expect("write the input");
    let limits = Limits {
        max_total: 4 << 20,
        ..Limits::default()
    };
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let opener = Opener::new(limits, false);
            let mut v = Drain::default();
            opener.visit_file(path, "fuzz", &mut v);
            std::hint::black_box((v.bytes, v.problems));
        })
        .expect("spawn")
        .join()
        .expect("the visit panicked");
});
