//! Figure 5, the notice checker (issue 5): texts per second on one core and the latency
//! of one check, over the notice corpus of `crates/notice_check/tests/corpus.txt`
//! repeated. Goal: 100,000 texts/s per core.

use std::error::Error;
use std::time::Instant;

use fortrolig_notice_check::{Channel, Checker, ClinicRules, Replies};

use crate::report::{self, Report};

const CORPUS: &str = include_str!("../../notice_check/tests/corpus.txt");

/// Checks `texts` texts of `corpus` (repeated) with no timer inside the loop.
fn throughput(
    report: &mut Report,
    checker: &Checker,
    corpus: &[(String, Channel, Replies)],
    texts: u64,
    label: &str,
) -> Result<(), Box<dyn Error>> {
    let n = usize::try_from(texts)?;
    let start = Instant::now();
    let mut findings = 0usize;
    for (text, channel, replies) in corpus.iter().cycle().take(n) {
        findings += checker.check(text, *channel, *replies).findings.len();
    }
    let elapsed = start.elapsed().as_secs_f64();
    std::hint::black_box(findings);
    let per_second = texts as f64 / elapsed;
    report.goal(
        label,
        &format!(
            "{} ({} texts in {})",
            report::rate(per_second),
            report::count(texts),
            report::secs(elapsed)
        ),
        "≥ 100,000 texts/s",
        per_second >= 100_000.0,
    );
    Ok(())
}

fn corpus() -> Vec<(String, Channel, Replies)> {
    CORPUS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let f: Vec<&str> = l.split('|').map(str::trim).collect();
            let channel = if *f.first()? == "sms" {
                Channel::Sms
            } else {
                Channel::Email
            };
            let replies = if *f.get(1)? == "open" {
                Replies::Allowed
            } else {
                Replies::NotPossible
            };
            Some(((*f.get(4)?).to_owned(), channel, replies))
        })
        .collect()
}

/// Checks `texts` texts (the corpus repeated) on this thread and prints the figures.
pub fn run(report: &mut Report, texts: u64) -> Result<(), Box<dyn Error>> {
    let build = Instant::now();
    let checker = Checker::new(ClinicRules {
        sender_phones: vec!["22 33 44 55".into()],
        extra_department_terms: vec!["*solsikken*".into()],
        portal_hosts: vec!["normland.no".into()],
    })?;
    report.info(
        "build (built-in lists + clinic)",
        &report::dur(build.elapsed()),
    );
    let corpus = corpus();
    if corpus.is_empty() {
        return Err("the notice corpus is empty".into());
    }
    let chars: usize = corpus.iter().map(|(t, _, _)| t.chars().count()).sum();
    report.info(
        "corpus",
        &format!(
            "{} texts, mean {} chars",
            corpus.len(),
            chars / corpus.len()
        ),
    );

    // Warm up: caches and the branch predictor.
    let mut blocked = 0u64;
    for (text, channel, replies) in corpus.iter().cycle().take(corpus.len() * 20) {
        blocked += u64::from(!checker.check(text, *channel, *replies).is_allowed());
    }
    std::hint::black_box(blocked);

    throughput(
        report,
        &checker,
        &corpus,
        texts,
        "texts/s on one core, corpus texts",
    )?;
    // SMS-length texts: four corpus texts joined (an SMS holds up to 160 characters).
    let long: Vec<(String, Channel, Replies)> = corpus
        .chunks(4)
        .map(|c| {
            let text: Vec<&str> = c.iter().map(|(t, _, _)| t.as_str()).collect();
            (text.join(" "), c[0].1, c[0].2)
        })
        .collect();
    let long_chars: usize = long.iter().map(|(t, _, _)| t.chars().count()).sum();
    report.info(
        "SMS-length texts",
        &format!(
            "{} texts of four corpus texts each, mean {} chars",
            long.len(),
            long_chars / long.len().max(1)
        ),
    );
    throughput(
        report,
        &checker,
        &long,
        texts,
        "texts/s on one core, SMS-length",
    )?;

    // Latency: each check of a corpus text timed on its own.
    let n = usize::try_from(texts)?;
    let mut nanos: Vec<u64> = Vec::with_capacity(n.min(1_000_000));
    for (text, channel, replies) in corpus.iter().cycle().take(n.min(1_000_000)) {
        let t = Instant::now();
        let v = checker.check(text, *channel, *replies);
        nanos.push(u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX));
        std::hint::black_box(v);
    }
    nanos.sort_unstable();
    let at = |q: f64| {
        let i = ((nanos.len() as f64 - 1.0) * q).round() as usize;
        nanos.get(i).copied().unwrap_or(0) as f64 / 1e9
    };
    report.info("latency p50", &report::secs(at(0.50)));
    report.info("latency p99", &report::secs(at(0.99)));
    report.info("latency max", &report::secs(at(1.0)));
    Ok(())
}
