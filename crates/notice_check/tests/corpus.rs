//! N1, N2, N7: every text of `corpus.txt` gets its expected verdict and rules.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

use std::collections::BTreeSet;

use fortrolig_notice_check::{Channel, Checker, ClinicRules, Replies};

const CORPUS: &str = include_str!("corpus.txt");

fn checker() -> Checker {
    Checker::new(ClinicRules {
        sender_phones: vec!["22 33 44 55".into(), "+47 987 65 432".into()],
        extra_department_terms: vec!["*solsikken*".into()],
        portal_hosts: vec!["normland.no".into()],
    })
    .unwrap()
}

struct Case<'a> {
    line: usize,
    channel: Channel,
    replies: Replies,
    verdict: &'a str,
    rules: BTreeSet<&'a str>,
    text: &'a str,
}

fn cases() -> Vec<Case<'static>> {
    let mut out = Vec::new();
    for (i, line) in CORPUS.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('|').map(str::trim).collect();
        assert_eq!(fields.len(), 6, "line {}: six fields", i + 1);
        let channel = match fields[0] {
            "sms" => Channel::Sms,
            "email" => Channel::Email,
            other => panic!("line {}: channel {other}", i + 1),
        };
        let replies = match fields[1] {
            "open" => Replies::Allowed,
            "none" => Replies::NotPossible,
            other => panic!("line {}: replies {other}", i + 1),
        };
        let rules = fields[3]
            .split(',')
            .map(str::trim)
            .filter(|r| *r != "-")
            .collect();
        out.push(Case {
            line: i + 1,
            channel,
            replies,
            verdict: fields[2],
            rules,
            text: fields[4],
        });
    }
    out
}

#[test]
fn n1_n2_n7_corpus_texts_get_their_expected_verdicts() {
    let checker = checker();
    let cases = cases();
    let mut failures = Vec::new();
    for case in &cases {
        let v = checker.check(case.text, case.channel, case.replies);
        let rules: BTreeSet<&str> = v.findings.iter().map(|f| f.rule.name()).collect();
        if v.verdict.as_str() != case.verdict || rules != case.rules {
            failures.push(format!(
                "line {}: expected {} {:?}, got {} {:?}: {}",
                case.line,
                case.verdict,
                case.rules,
                v.verdict.as_str(),
                rules,
                case.text
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn n1_corpus_is_large_and_covers_both_written_forms() {
    let cases = cases();
    assert!(cases.len() >= 150, "{} texts", cases.len());
    let nynorsk = cases
        .iter()
        .filter(|c| {
            ["ikkje", "frå", "melding.", "ei ", "eit ", "sjå"]
                .iter()
                .any(|w| c.text.contains(w))
        })
        .count();
    assert!(nynorsk >= 8, "{nynorsk} nynorsk texts");
    for verdict in ["allow", "warn", "block"] {
        assert!(cases.iter().any(|c| c.verdict == verdict), "{verdict}");
    }
}

#[test]
fn n1_spans_point_at_what_was_found() {
    let checker = checker();
    let text = "Time ved psykiatrisk poliklinikk, ring 22 33 44 55.";
    let v = checker.check(text, Channel::Sms, Replies::Allowed);
    let spans: Vec<(&str, String)> = v
        .findings
        .iter()
        .map(|f| {
            (
                f.rule.name(),
                text.chars().skip(f.start).take(f.end - f.start).collect(),
            )
        })
        .collect();
    assert_eq!(
        spans,
        [
            ("department", "psykiatrisk".to_owned()),
            ("clinic-phone", "22 33 44 55".to_owned())
        ]
    );
}
