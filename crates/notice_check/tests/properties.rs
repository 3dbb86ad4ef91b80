//! Property tests. N1: any valid identity number, written in any usual way and put
//! anywhere in any text, is blocked with the right span. The checker never panics, and
//! every span lies within the text.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

use std::sync::LazyLock;

use fortrolig_domain::identifier::PersonNumber;
use fortrolig_notice_check::{Channel, Checker, ClinicRules, Outcome, Replies, Rule};
use proptest::prelude::*;

static CHECKER: LazyLock<Checker> = LazyLock::new(|| {
    Checker::new(ClinicRules {
        sender_phones: vec!["22 33 44 55".into()],
        extra_department_terms: vec!["*solsikken*".into()],
        portal_hosts: vec!["normland.no".into()],
    })
    .unwrap()
});

const W1: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const W2: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

/// Completes nine digits with valid control digits: k1 by the classic rule or, when
/// `rule_2032` picks it, another k1 the 2032 rule accepts; k2 by the classic rule.
fn complete(nine: [u32; 9], rule_2032: u32) -> Option<String> {
    let s1: u32 = nine.iter().zip(W1).map(|(d, w)| d * w).sum();
    // k1 with (s1 + k1) mod 11 == r, r in 0..=3.
    let k1 = (11 - (s1 + 11 - rule_2032 % 4) % 11) % 11;
    if k1 > 9 {
        return None;
    }
    let mut ten: Vec<u32> = nine.to_vec();
    ten.push(k1);
    let s2: u32 = ten.iter().zip(W2).map(|(d, w)| d * w).sum();
    let k2 = (11 - s2 % 11) % 11;
    if k2 > 9 {
        return None;
    }
    ten.push(k2);
    Some(
        ten.iter()
            .map(|d| char::from_digit(*d, 10).unwrap_or('0'))
            .collect(),
    )
}

/// Valid fødselsnummer, D-, H-, FH- and synthetic (Test-Norge) numbers.
fn identity_number() -> impl Strategy<Value = String> {
    (
        0u32..5,
        1u32..=28,
        1u32..=12,
        0u32..100,
        0u32..1000,
        0u32..4,
        0u32..100_000_000,
    )
        .prop_filter_map(
            "no valid control digits",
            |(kind, day, month, year, ind, r, fh)| {
                let (day, month) = match kind {
                    0 => (day, month),      // fødselsnummer
                    1 => (day + 40, month), // D-nummer
                    2 => (day, month + 40), // H-nummer (and Dolly)
                    3 => (day, month + 80), // Test-Norge
                    _ => (0, 0),            // FH-nummer below
                };
                let nine: [u32; 9] = if kind == 4 {
                    let mut d = [0; 9];
                    d[0] = 8 + fh % 2;
                    let mut rest = fh;
                    for slot in d.iter_mut().skip(1) {
                        *slot = rest % 10;
                        rest /= 10;
                    }
                    d
                } else {
                    [
                        day / 10,
                        day % 10,
                        month / 10,
                        month % 10,
                        year / 10,
                        year % 10,
                        ind / 100,
                        ind / 10 % 10,
                        ind % 10,
                    ]
                };
                let number = complete(nine, r)?;
                PersonNumber::parse(&number).ok().map(|_| number)
            },
        )
}

/// The number written as people write it: bare, «ddmmyy nnnnn», «ddmmyy-nnnnn»,
/// «dd.mm.yy nnnnn», «dd.mm.yy-nnnnn», «dd mm yy nnn nn», or with no-break spaces.
fn written(number: &str, style: u8) -> String {
    let (a, b) = number.split_at(6);
    let (d, m, y) = (&a[..2], &a[2..4], &a[4..]);
    match style % 8 {
        0 => number.to_owned(),
        1 => format!("{a} {b}"),
        2 => format!("{a}-{b}"),
        3 => format!("{d}.{m}.{y} {b}"),
        4 => format!("{d}.{m}.{y}-{b}"),
        5 => format!("{d} {m} {y} {} {}", &b[..3], &b[3..]),
        6 => format!("{a}\u{00A0}{b}"),
        _ => format!("{a}.{b}"),
    }
}

/// Characters that may stand right before or after the number.
const EDGES: &[&str] = &[
    " ", "\n", ",", ":", "(", ")", "a", "ø", "nr", "fnr ", "—", "é", "\t",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn n1_any_valid_identity_number_anywhere_is_blocked(
        number in identity_number(),
        style in any::<u8>(),
        before in "\\PC{0,40}",
        after in "\\PC{0,40}",
        edge_before in 0..EDGES.len(),
        edge_after in 0..EDGES.len(),
        sms in any::<bool>(),
    ) {
        let written = written(&number, style);
        let text = format!("{before}{}{written}{}{after}", EDGES[edge_before], EDGES[edge_after]);
        let start = before.chars().count() + EDGES[edge_before].chars().count();
        let end = start + written.chars().count();
        let channel = if sms { Channel::Sms } else { Channel::Email };
        let v = CHECKER.check(&text, channel, Replies::Allowed);
        prop_assert_eq!(v.verdict, Outcome::Block);
        prop_assert!(
            v.findings.iter().any(|f| f.rule == Rule::IdentityNumber && f.start == start && f.end == end),
            "no identity finding at {}..{} in {:?}: {:?}", start, end, text, v.findings
        );
    }

    #[test]
    fn n1_check_never_panics_and_spans_stay_in_the_text(
        text in "\\PC{0,200}|[0-9 .\\-+a-zA-ZæøåÆØÅ]{0,120}",
        sms in any::<bool>(),
        open in any::<bool>(),
    ) {
        let channel = if sms { Channel::Sms } else { Channel::Email };
        let replies = if open { Replies::Allowed } else { Replies::NotPossible };
        let v = CHECKER.check(&text, channel, replies);
        let n = text.chars().count();
        for f in &v.findings {
            prop_assert!(f.start <= f.end && f.end <= n, "{:?} in {} chars", f, n);
        }
        let worst = v.findings.iter().map(|f| f.rule.outcome()).max().unwrap_or(Outcome::Allow);
        prop_assert_eq!(v.verdict, worst);
    }

    #[test]
    fn n1_arbitrary_bytes_as_text_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = CHECKER.check(&text, Channel::Sms, Replies::NotPossible);
    }
}
