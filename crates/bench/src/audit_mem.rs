//! Figure 1: the audit log in memory — building it, appending with a signed head per
//! entry, and verifying it with `LogVerifier`.

use std::collections::HashMap;
use std::error::Error;
use std::hint::black_box;
use std::time::Instant;

use fortrolig_audit::{
    CHECKPOINT_INTERVAL, Frontier, Hash, LogEntry, LogVerifier, TreeHead, leaf_hash,
};
use fortrolig_vault::SigningKey;

use crate::report::{self, Report};
use crate::synth;

/// The goal: verify this many entries …
const GOAL_ENTRIES: f64 = 1_000_000.0;
/// … in under this many seconds.
const GOAL_SECONDS: f64 = 2.0;
/// Appends with a signature each are measured over at most this many entries (an
/// Ed25519 signature per entry makes a million of them take tens of seconds).
const APPEND_SAMPLE: u64 = 50_000;

fn head(seq: u64, root: Hash, at: i64, key: &SigningKey) -> fortrolig_audit::SignedTreeHead {
    TreeHead {
        clinic: synth::ORG.to_owned(),
        size: seq,
        root,
        signed_at: at,
    }
    .sign(1, key)
}

/// Runs figure 1; returns the measured time of one append (push + root + sign) in
/// seconds, for the breakdown of figure 4.
pub fn run(report: &mut Report, n: u64) -> Result<f64, Box<dyn Error>> {
    let key = SigningKey::from_seed([7; 32])?;

    let started = Instant::now();
    let entries: Vec<LogEntry> = (1..=n).map(synth::log_entry).collect();
    let generated = started.elapsed();
    let bytes: usize = entries.iter().take(10_000).map(|e| e.encode().len()).sum();
    let sampled = entries.len().clamp(1, 10_000);
    report.info(
        "synthetic entries",
        &format!(
            "{} entries, {} bytes encoded on average, generated in {}",
            report::count(n),
            bytes / sampled,
            report::dur(generated)
        ),
    );

    // The stored form: every entry's root after it, a signed checkpoint every 1,024
    // entries and a latest head at the end.
    let started = Instant::now();
    let mut frontier = Frontier::default();
    let mut roots: Vec<Hash> = Vec::with_capacity(entries.len());
    let mut heads = Vec::new();
    for entry in &entries {
        frontier.push(leaf_hash(&entry.encode()));
        let root = frontier.root();
        roots.push(root);
        if entry.seq % CHECKPOINT_INTERVAL == 0 || entry.seq == n {
            heads.push(head(entry.seq, root, entry.at, &key));
        }
    }
    let built = started.elapsed().as_secs_f64();
    report.info(
        "build stored log (no per-entry signature)",
        &format!(
            "{} in {} = {} entries/s, {} signed heads",
            report::count(n),
            report::secs(built),
            report::rate(n as f64 / built),
            report::count(heads.len() as u64)
        ),
    );

    // What the service does per audited act: leaf, frontier, root and a signed head.
    let sample = n.min(APPEND_SAMPLE);
    let started = Instant::now();
    let mut frontier = Frontier::default();
    for entry in entries.iter().take(sample as usize) {
        frontier.push(leaf_hash(&entry.encode()));
        let root = frontier.root();
        black_box(head(entry.seq, root, entry.at, &key));
    }
    let appended = started.elapsed().as_secs_f64();
    let per_append = appended / sample as f64;
    report.info(
        "append (push + root + Ed25519 sign)",
        &format!(
            "{} entries/s ({} per entry, over {} entries)",
            report::rate(sample as f64 / appended),
            report::secs(per_append),
            report::count(sample)
        ),
    );

    let keys = HashMap::from([(1u32, key.public_key().to_vec())]);
    let head_count = heads.len();
    let started = Instant::now();
    let mut verifier = LogVerifier::new(&keys, heads)?;
    let signatures_checked = started.elapsed().as_secs_f64();
    for (entry, root) in entries.iter().zip(&roots) {
        verifier.push(entry, root)?;
    }
    let verified = verifier.finish()?;
    let seconds = started.elapsed().as_secs_f64();
    if verified.size != n || verified.heads_checked != head_count {
        return Err(format!(
            "verification covered {} entries and {} heads, expected {n} and {head_count}",
            verified.size, verified.heads_checked
        )
        .into());
    }
    let per_second = n as f64 / seconds;
    let for_goal = GOAL_ENTRIES / per_second;
    report.goal(
        "verify (LogVerifier new + push + finish)",
        &format!(
            "{} in {} = {} entries/s",
            report::count(n),
            report::secs(seconds),
            report::rate(per_second)
        ),
        "1,000,000 in < 2 s",
        for_goal < GOAL_SECONDS,
    );
    report.info(
        "  of which head signatures",
        &format!(
            "{} for {} heads; 1,000,000 entries would take {}",
            report::secs(signatures_checked),
            report::count(head_count as u64),
            report::secs(for_goal)
        ),
    );
    breakdown(report, &entries)?;
    Ok(per_append)
}

/// Where the verifier's time per entry goes: encoding the entry, its leaf hash, and the
/// node hashes of the frontier push (the root is computed only where a signed head
/// stands, once per 1,024 entries, which is left out here).
fn breakdown(report: &mut Report, entries: &[LogEntry]) -> Result<(), Box<dyn Error>> {
    let sample = &entries[..entries.len().min(100_000)];
    if sample.is_empty() {
        return Ok(());
    }
    let count = sample.len() as f64;

    let started = Instant::now();
    for entry in sample {
        black_box(black_box(entry).encode());
    }
    let encode = started.elapsed().as_secs_f64() / count;

    let encoded: Vec<Vec<u8>> = sample.iter().map(LogEntry::encode).collect();
    let started = Instant::now();
    for bytes in &encoded {
        black_box(leaf_hash(black_box(bytes)));
    }
    let leaf = started.elapsed().as_secs_f64() / count;

    let nodes = 1_000_000u32;
    let mut acc: Hash = [3; 32];
    let other: Hash = [5; 32];
    let started = Instant::now();
    for _ in 0..nodes {
        acc = fortrolig_audit::node_hash(black_box(&acc), &other);
    }
    black_box(acc);
    let node = started.elapsed().as_secs_f64() / f64::from(nodes);

    // Node hashes per entry over the whole log: the merges in `push`.
    let n = entries.len() as u64;
    let node_calls: u64 = (1..=n)
        .map(|size| u64::from((size - 1).trailing_ones()))
        .sum();
    let per_entry_nodes = node_calls as f64 / n as f64;
    report.info(
        "  verify cost per entry (breakdown)",
        &format!(
            "encode {} + leaf hash {} + {per_entry_nodes:.1} node hashes × {} = {}",
            report::secs(encode),
            report::secs(leaf),
            report::secs(node),
            report::secs(encode + leaf + per_entry_nodes * node)
        ),
    );
    Ok(())
}
