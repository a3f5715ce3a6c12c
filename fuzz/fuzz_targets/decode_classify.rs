//! bytes → record::decode → Matcher::classify → (failure) Matcher::capture → mask::mask on the
//! text and every captured value; masking must be idempotent.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use faultline::mask::mask;
use faultline::matcher::{Matcher, Verdict};
use faultline::record::decode;
use faultline::rules::RuleSet;
use libfuzzer_sys::fuzz_target;

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| Matcher::new(RuleSet::builtin().expect("builtin rules")))
}

fn check_mask(x: &str) {
    let once = mask(x);
    let twice = mask(&once);
    assert_eq!(once, twice, "mask is not idempotent on {x:?}");
}

fuzz_target!(|data: &[u8]| {
    let m = matcher();
    let rec = decode(data);
    check_mask(&rec.text);
    if let Verdict::Failure(f) = m.classify(&rec) {
        let mut values = BTreeMap::new();
        m.capture(&f, &rec.text, &mut values);
        for v in values.values() {
            check_mask(v);
        }
    }
});
