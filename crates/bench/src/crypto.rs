//! Figure 3: AES-256-GCM seal and open under one patient data key.

use std::error::Error;
use std::hint::black_box;
use std::time::{Duration, Instant};

use fortrolig_vault::{Aad, DataKey, KeyId};

use crate::report::{self, Report};

/// Each measurement runs at least this long.
const MIN_TIME: Duration = Duration::from_millis(500);

/// Calls `op` until `MIN_TIME` has passed; returns (calls, seconds).
fn repeat(
    mut op: impl FnMut() -> Result<(), Box<dyn Error>>,
) -> Result<(u64, f64), Box<dyn Error>> {
    let started = Instant::now();
    let mut calls = 0u64;
    loop {
        op()?;
        calls += 1;
        let elapsed = started.elapsed();
        if elapsed >= MIN_TIME {
            return Ok((calls, elapsed.as_secs_f64()));
        }
    }
}

/// Runs figure 3; returns the time to seal one short field (a name, a phone number) in
/// seconds, for the breakdown of figure 4.
pub fn run(report: &mut Report) -> Result<f64, Box<dyn Error>> {
    let key = DataKey::generate(KeyId([1; 16]))?;
    let aad = Aad::new(crate::synth::ORG, "messages", &[0x42; 16], "body");
    let mut seal_small = 0.0;
    for size in [32usize, 1024, 64 * 1024] {
        let plain: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let (calls, seconds) = repeat(|| {
            black_box(key.seal(&aad, black_box(&plain))?);
            Ok(())
        })?;
        let per_call = seconds / calls as f64;
        if size == 32 {
            seal_small = per_call;
        }
        let mb_per_second = (size as u64 * calls) as f64 / seconds / 1e6;
        report.info(
            &format!("seal {}", label(size)),
            &format!(
                "{mb_per_second:.1} MB/s ({} per call)",
                report::secs(per_call)
            ),
        );

        let sealed = key.seal(&aad, &plain)?;
        let (calls, seconds) = repeat(|| {
            let opened = key.open(&aad, black_box(&sealed))?;
            if opened.len() != size {
                return Err("open returned the wrong length".into());
            }
            black_box(opened);
            Ok(())
        })?;
        let mb_per_second = (size as u64 * calls) as f64 / seconds / 1e6;
        report.info(
            &format!("open {}", label(size)),
            &format!(
                "{mb_per_second:.1} MB/s ({} per call)",
                report::secs(seconds / calls as f64)
            ),
        );
    }
    Ok(seal_small)
}

fn label(size: usize) -> String {
    if size >= 1024 {
        format!("{} KiB", size / 1024)
    } else {
        format!("{size} B (one short field)")
    }
}
