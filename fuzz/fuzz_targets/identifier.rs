//! Fuzzes the identifier parsers: they must never panic on any input.
//! Run with `cargo +nightly fuzz run identifier` from the repository root.
#![no_main]

use fortrolig_domain::identifier::{HprNumber, OrgNumber, PersonNumber};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = PersonNumber::parse(s);
        let _ = OrgNumber::parse(s);
        let _ = HprNumber::parse(s);
    }
});
