//! Fuzzes the attachment check: it must never panic, and whatever it accepts must be
//! one of the five types it promises.
//! Run with `cargo +nightly fuzz run attachment` from the repository root.
#![no_main]

use fortrolig_domain::attachment::{MediaType, sniff};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(media) = sniff(data) {
        assert!(MediaType::ALL.contains(&media));
    }
});
