//! Fuzzes the notice checker: it must never panic, every span must lie within the text,
//! and the verdict must be the most severe outcome of the findings.
//! Run with `cargo +nightly fuzz run notice_check` from the repository root.
#![no_main]

use std::sync::LazyLock;

use fortrolig_notice_check::{Channel, Checker, ClinicRules, Outcome, Replies};
use libfuzzer_sys::fuzz_target;

static CHECKER: LazyLock<Checker> = LazyLock::new(|| {
    Checker::new(ClinicRules {
        sender_phones: vec!["22 33 44 55".into()],
        extra_department_terms: vec!["*solsikken*".into()],
        portal_hosts: vec!["normland.no".into()],
    })
    .expect("the built-in lists compile")
});

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let channel = if flags & 1 == 0 { Channel::Sms } else { Channel::Email };
    let replies = if flags & 2 == 0 {
        Replies::Allowed
    } else {
        Replies::NotPossible
    };
    let verdict = CHECKER.check(text, channel, replies);
    let chars = text.chars().count();
    for f in &verdict.findings {
        assert!(f.start <= f.end && f.end <= chars);
    }
    let worst = verdict
        .findings
        .iter()
        .map(|f| f.rule.outcome())
        .max()
        .unwrap_or(Outcome::Allow);
    assert_eq!(verdict.verdict, worst);
});
