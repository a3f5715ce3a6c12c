//! Any text given as a rules file is accepted or refused with an error, never a panic.
#![no_main]

use faultline::rules::RuleSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = RuleSet::parse("fuzz.toml", &text);
});
