//! Norwegian identifiers: person numbers (fødselsnummer and its variants),
//! organisation numbers and HPR numbers.
//!
//! Everything here is pure: parsing never does I/O and never panics.
//! See `norway-specs.md` section 4 for the rules.
//!
//! Decisions:
//! - Person numbers accept both the classic k1 rule and the 2032 rule
//!   (`(S1 + k1) mod 11` in `{0, 1, 2, 3}`); k2 is always the classic rule.
//! - Month +40 is both the H-nummer form and NAV Dolly's synthetic form. The
//!   two cannot be told apart, so month 41–52 is always [`PersonNumberKind::HNummer`].
//! - Month +80 (Test-Norge/Tenor) is [`PersonNumberKind::TestNorge`] and
//!   [`PersonNumber::is_synthetic`] is true. The day may also carry the
//!   D-nummer offset (a synthetic D-nummer); see [`PersonNumber::is_d_number_form`].
//! - FH-nummer (first digit 8 or 9) has no date, only the two control digits.
//! - HPR numbers have no checksum; leading zeros are rejected so that each
//!   number has one canonical string form.
//! - Error messages never contain the input, because it may be personal data.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why an identifier was rejected. Messages never contain the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum IdentifierError {
    /// Nothing but whitespace.
    #[error("identifier is empty")]
    Empty,
    /// A character that is not an ASCII digit (1-based position, after trimming).
    #[error("character at position {position} is not an ASCII digit")]
    NonDigit {
        /// 1-based character position in the trimmed input.
        position: usize,
    },
    /// The identifier must have exactly `expected` digits.
    #[error("wrong length: expected {expected} digits, got {actual}")]
    WrongLength {
        /// Required number of digits.
        expected: usize,
        /// Number of digits found.
        actual: usize,
    },
    /// The identifier may have at most `max` digits.
    #[error("too long: at most {max} digits allowed, got {actual}")]
    TooLong {
        /// Maximum number of digits.
        max: usize,
        /// Number of digits found.
        actual: usize,
    },
    /// A leading zero where the identifier does not allow one.
    #[error("leading zero is not allowed")]
    LeadingZero,
    /// Day of month (digits 1–2, after removing the D-nummer offset) is not 1–31.
    #[error("invalid date: day of month is out of range")]
    InvalidDay,
    /// Month (digits 3–4) is not 1–12, 41–52 (H-nummer) or 81–92 (Test-Norge).
    #[error("invalid date: month is out of range")]
    InvalidMonth,
    /// Control digit 1 (position 10) fails both the classic and the 2032 rule.
    #[error("control digit 1 (position 10) is wrong")]
    ControlDigit1,
    /// Control digit 2 (position 11) is wrong.
    #[error("control digit 2 (position 11) is wrong")]
    ControlDigit2,
    /// The organisation number check digit (position 9) is wrong, or the
    /// first eight digits admit no valid check digit.
    #[error("check digit (position 9) is wrong")]
    CheckDigit,
}

/// Trims surrounding whitespace and checks that only ASCII digits remain.
fn digits_only(input: &str) -> Result<&str, IdentifierError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(IdentifierError::Empty);
    }
    if let Some((i, _)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(IdentifierError::NonDigit { position: i + 1 });
    }
    Ok(s)
}

/// Parses exactly `N` ASCII digits into their values.
fn fixed_digits<const N: usize>(input: &str) -> Result<([u8; N], &str), IdentifierError> {
    let s = digits_only(input)?;
    let bytes = s.as_bytes();
    if bytes.len() != N {
        return Err(IdentifierError::WrongLength {
            expected: N,
            actual: bytes.len(),
        });
    }
    let mut out = [0u8; N];
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = b - b'0';
    }
    Ok((out, s))
}

fn weighted_sum(digits: &[u8], weights: &[u32]) -> u32 {
    digits
        .iter()
        .zip(weights)
        .map(|(&d, &w)| u32::from(d) * w)
        .sum()
}

const W1: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const W2: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
const ORG_WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];

/// What kind of person number this is, decided from the digit offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PersonNumberKind {
    /// Ordinary fødselsnummer: day 1–31, month 1–12.
    Fodselsnummer,
    /// D-nummer: day +40 (41–71), month 1–12.
    DNummer,
    /// H-nummer: month +40 (41–52). NAV Dolly synthetic numbers use the same
    /// form and are indistinguishable, so they are classified here too.
    /// The day may carry the D-nummer offset (Dolly synthetic D-nummer).
    HNummer,
    /// NHN felles hjelpenummer: first digit 8 or 9, no date.
    FhNummer,
    /// Test-Norge/Tenor synthetic number: month +80 (81–92). The day may
    /// carry the D-nummer offset (synthetic D-nummer).
    TestNorge,
}

/// A validated 11-digit Norwegian person number (fødselsnummer, D-nummer,
/// H-nummer, FH-nummer or a Test-Norge synthetic number).
///
/// `Debug` is redacted; `Display` and serde write the full number.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonNumber {
    value: String,
    kind: PersonNumberKind,
    d_form: bool,
}

/// Checks both control digits of an 11-digit person number.
fn check_control_digits(d: &[u8; 11]) -> Result<(), IdentifierError> {
    // Classic rule: (S1 + k1) mod 11 == 0. 2032 rule: remainder 0..=3.
    // k1 is a single digit, so "k1 = 10" can never be accepted.
    let r1 = (weighted_sum(&d[..9], &W1) + u32::from(d[9])) % 11;
    if r1 > 3 {
        return Err(IdentifierError::ControlDigit1);
    }
    let r2 = (weighted_sum(&d[..10], &W2) + u32::from(d[10])) % 11;
    if r2 != 0 {
        return Err(IdentifierError::ControlDigit2);
    }
    Ok(())
}

/// Classifies the number and checks day/month plausibility.
/// Returns the kind and whether the day carries the D-nummer offset.
fn classify(d: &[u8; 11]) -> Result<(PersonNumberKind, bool), IdentifierError> {
    if d[0] >= 8 {
        return Ok((PersonNumberKind::FhNummer, false));
    }
    let (day_tens, d_form) = if d[0] >= 4 {
        (d[0] - 4, true)
    } else {
        (d[0], false)
    };
    let day = day_tens * 10 + d[1];
    if !(1..=31).contains(&day) {
        return Err(IdentifierError::InvalidDay);
    }
    let month = d[2] * 10 + d[3];
    let kind = match month {
        1..=12 if d_form => PersonNumberKind::DNummer,
        1..=12 => PersonNumberKind::Fodselsnummer,
        41..=52 => PersonNumberKind::HNummer,
        81..=92 => PersonNumberKind::TestNorge,
        _ => return Err(IdentifierError::InvalidMonth),
    };
    Ok((kind, d_form))
}

impl PersonNumber {
    /// Parses and validates a person number. Surrounding whitespace is
    /// trimmed; the rest must be exactly 11 ASCII digits with valid control
    /// digits and (except for FH-nummer) a plausible day and month.
    ///
    /// # Errors
    ///
    /// Returns the first problem found, checked in this order: empty input,
    /// non-digit, wrong length, control digit 1, control digit 2, day, month.
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        let (d, s) = fixed_digits::<11>(input)?;
        check_control_digits(&d)?;
        let (kind, d_form) = classify(&d)?;
        Ok(Self {
            value: s.to_owned(),
            kind,
            d_form,
        })
    }

    /// The kind of number, from the digit offsets.
    #[must_use]
    pub fn kind(&self) -> PersonNumberKind {
        self.kind
    }

    /// True for Test-Norge/Tenor synthetic numbers (month +80). Dolly
    /// synthetic numbers (month +40) cannot be told apart from H-nummer and
    /// give `false`.
    #[must_use]
    pub fn is_synthetic(&self) -> bool {
        self.kind == PersonNumberKind::TestNorge
    }

    /// True when the day carries the D-nummer offset (+40). This is true
    /// for every [`PersonNumberKind::DNummer`] and also for synthetic
    /// D-numbers classified as `TestNorge` or `HNummer`.
    #[must_use]
    pub fn is_d_number_form(&self) -> bool {
        self.d_form
    }

    /// The 11-digit string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The date of birth as `dd.mm.åååå` (the offsets of D-, H- and synthetic numbers
    /// taken off; the century from the individual number), for checking that a message
    /// goes to the right person (S7). `None` for an FH-nummer, which has no date.
    #[must_use]
    pub fn birth_date(&self) -> Option<String> {
        if self.kind == PersonNumberKind::FhNummer {
            return None;
        }
        let n: Vec<u32> = self.value.chars().filter_map(|c| c.to_digit(10)).collect();
        let day = (n[0] % 4) * 10 + n[1];
        // H-nummer +40, Test-Norge +80: both leave the month as the remainder by 40.
        let month = (n[2] * 10 + n[3]) % 40;
        let yy = n[4] * 10 + n[5];
        let individual = n[6] * 100 + n[7] * 10 + n[8];
        let century = match (individual, yy) {
            (0..=499, _) => 1900,
            (500..=749, 54..=99) => 1800,
            (500..=999, 0..=39) => 2000,
            (900..=999, 40..=99) => 1900,
            _ => return None,
        };
        Some(format!("{day:02}.{month:02}.{}", century + yy))
    }
}

impl fmt::Debug for PersonNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonNumber({:?}, ***********)", self.kind)
    }
}

/// Shows the full number. Callers decide whether that may be logged.
impl fmt::Display for PersonNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// A validated 9-digit Norwegian organisation number (mod 11 check digit).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgNumber(String);

impl OrgNumber {
    /// Parses and validates an organisation number: surrounding whitespace
    /// is trimmed; exactly 9 ASCII digits; mod 11 check digit with weights
    /// 3,2,7,6,5,4,3,2 (remainder 0 gives check 0; a result of 10 is invalid).
    ///
    /// # Errors
    ///
    /// Empty input, a non-digit, a length other than 9, or a wrong check digit.
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        let (d, s) = fixed_digits::<9>(input)?;
        // Equivalent to "check = 11 - (S mod 11), 11 -> 0, 10 invalid".
        if !(weighted_sum(&d[..8], &ORG_WEIGHTS) + u32::from(d[8])).is_multiple_of(11) {
            return Err(IdentifierError::CheckDigit);
        }
        Ok(Self(s.to_owned()))
    }

    /// The 9-digit string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Helsepersonellregister (HPR) number: 1 to 9 ASCII digits, no checksum,
/// no leading zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HprNumber(String);

impl HprNumber {
    /// Maximum number of digits.
    pub const MAX_DIGITS: usize = 9;

    /// Parses an HPR number: surrounding whitespace is trimmed; 1 to 9
    /// ASCII digits; the first digit must not be 0.
    ///
    /// # Errors
    ///
    /// Empty input, a non-digit, more than 9 digits, or a leading zero.
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        let s = digits_only(input)?;
        if s.len() > Self::MAX_DIGITS {
            return Err(IdentifierError::TooLong {
                max: Self::MAX_DIGITS,
                actual: s.len(),
            });
        }
        if s.starts_with('0') {
            return Err(IdentifierError::LeadingZero);
        }
        Ok(Self(s.to_owned()))
    }

    /// The digit string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HprNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `FromStr` and serde (as a string; deserializing validates) for each type.
macro_rules! string_impls {
    ($($ty:ident),*) => {$(
        impl FromStr for $ty {
            type Err = IdentifierError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    )*};
}

string_impls!(PersonNumber, OrgNumber, HprNumber);

#[cfg(test)]
mod tests {

    #[test]
    fn birth_date_takes_offsets_off_and_finds_the_century_s7() {
        let date = |n: &str| PersonNumber::parse(n).ok().and_then(|p| p.birth_date());
        // A Test-Norge number: month +80, individual number 980 with year 94.
        assert_eq!(date("21879498012").as_deref(), Some("21.07.1994"));
        assert_eq!(date("12858010053").as_deref(), Some("12.05.1980"));
    }
    use super::*;
    use IdentifierError as E;
    use proptest::prelude::*;
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as DeError, StrDeserializer};

    fn kind_of(s: &str) -> Result<PersonNumberKind, E> {
        PersonNumber::parse(s).map(|p| p.kind())
    }

    /// Computes a control digit from a weighted sum with the classic rule;
    /// `None` when the result is 10.
    fn control(sum: u32) -> Option<u8> {
        match 11 - sum % 11 {
            11 => Some(0),
            10 => None,
            k => u8::try_from(k).ok(),
        }
    }

    fn to_string(digits: &[u8]) -> String {
        digits.iter().map(|d| char::from(b'0' + d)).collect()
    }

    /// Appends classic-rule k1 and k2 to nine digits.
    fn with_controls(first9: &[u8; 9]) -> Option<String> {
        let mut d = [0u8; 11];
        d[..9].copy_from_slice(first9);
        d[9] = control(weighted_sum(first9, &W1))?;
        d[10] = control(weighted_sum(&d[..10], &W2))?;
        Some(to_string(&d))
    }

    fn date_digits(day: u8, month: u8, year: u8, ind: u16) -> [u8; 9] {
        let [i1, i2, i3] = [ind / 100, ind / 10 % 10, ind % 10].map(|x| x as u8);
        let [d, m, y] = [day, month, year];
        [d / 10, d % 10, m / 10, m % 10, y / 10, y % 10, i1, i2, i3]
    }

    /// A classic-rule number for the given day/month/year fields, using the
    /// first individnummer for which both control digits exist.
    fn make(day: u8, month: u8, year: u8) -> String {
        (0..1000)
            .find_map(|ind| with_controls(&date_digits(day, month, year, ind)))
            .unwrap_or_default()
    }

    /// `s` with the digit at `pos` replaced by `(old + delta) % 10`.
    fn bump_digit(s: &str, pos: usize, delta: u8) -> String {
        let mut d: Vec<u8> = s.bytes().map(|b| b - b'0').collect();
        d[pos] = (d[pos] + delta) % 10;
        to_string(&d)
    }

    #[test]
    fn identifiers_fnr_test_vectors_from_spec_are_valid() {
        use PersonNumberKind::*;
        let cases = [
            ("31129956715", Fodselsnummer),
            ("20914695016", TestNorge),
            ("21879498012", TestNorge),
            ("13031353453", Fodselsnummer),
            ("01017040088", Fodselsnummer),
            ("41017040071", DNummer),
            ("01417040060", HNummer),
            ("01817040043", TestNorge),
            ("81234567802", FhNummer),
            ("02013299997", Fodselsnummer),
            ("30108299920", Fodselsnummer),
        ];
        for (s, kind) in cases {
            assert_eq!(kind_of(s), Ok(kind), "vector {s}");
        }
    }

    #[test]
    fn identifiers_fnr_every_single_digit_change_of_spec_vectors_is_invalid() {
        for s in ["01017040088", "41017040071", "81234567802", "30108299939"] {
            for pos in 0..11 {
                for delta in 1..=9 {
                    assert!(PersonNumber::parse(&bump_digit(s, pos, delta)).is_err());
                }
            }
        }
    }

    #[test]
    fn identifiers_fnr_valid_only_under_2032_rule_is_accepted() {
        assert_eq!(kind_of("30108299939"), Ok(PersonNumberKind::Fodselsnummer));
    }

    #[test]
    fn identifiers_fnr_no_basis_example_13057444850_is_invalid() {
        // k1 fails the classic rule but has remainder 2, which the 2032 rule
        // accepts; k2 fails either way.
        assert_eq!(kind_of("13057444850"), Err(E::ControlDigit2));
    }

    #[test]
    fn identifiers_fnr_wrong_control_digits_are_reported() {
        // 01017040088 with k1 changed to 7: remainder 10 (not 0..=3).
        assert_eq!(kind_of("01017040078"), Err(E::ControlDigit1));
        assert_eq!(kind_of("01017040089"), Err(E::ControlDigit2));
    }

    #[test]
    fn identifiers_fnr_rejects_bad_format() {
        assert_eq!(kind_of(""), Err(E::Empty));
        assert_eq!(kind_of(" \t\n "), Err(E::Empty));
        let short = Err(E::WrongLength {
            expected: 11,
            actual: 10,
        });
        assert_eq!(kind_of("0101704008"), short);
        assert!(matches!(
            kind_of("010170400881"),
            Err(E::WrongLength { actual: 12, .. })
        ));
        assert_eq!(kind_of("0101704008a"), Err(E::NonDigit { position: 11 }));
        assert_eq!(kind_of("010170 40088"), Err(E::NonDigit { position: 7 }));
        assert_eq!(kind_of("0101704008٨"), Err(E::NonDigit { position: 11 }));
        assert_eq!(kind_of("-1017040088"), Err(E::NonDigit { position: 1 }));
    }

    #[test]
    fn identifiers_fnr_trims_surrounding_whitespace() {
        let p = PersonNumber::parse("  01017040088\n");
        assert_eq!(p.as_ref().map(PersonNumber::as_str), Ok("01017040088"));
    }

    #[test]
    fn identifiers_fnr_rejects_implausible_dates() {
        use E::{InvalidDay, InvalidMonth};
        let cases = [
            ((32, 1), InvalidDay),
            ((0, 1), InvalidDay),
            ((40, 1), InvalidDay),
            ((72, 1), InvalidDay),
            ((1, 0), InvalidMonth),
            ((1, 13), InvalidMonth),
            ((1, 40), InvalidMonth),
            ((1, 53), InvalidMonth),
            ((1, 80), InvalidMonth),
            ((1, 93), InvalidMonth),
        ];
        for ((day, month), err) in cases {
            let s = make(day, month, 70);
            assert_eq!(s.len(), 11, "test setup for {day}/{month}");
            assert_eq!(kind_of(&s), Err(err), "{day}/{month}");
        }
    }

    #[test]
    fn identifiers_fnr_synthetic_combinations_are_classified() {
        // D-nummer + Tenor (day +40, month +80).
        let d_tenor = make(41, 81, 70);
        let p = PersonNumber::parse(&d_tenor);
        assert!(
            matches!(&p, Ok(p) if p.kind() == PersonNumberKind::TestNorge
            && p.is_synthetic() && p.is_d_number_form())
        );
        // D-nummer + month +40 (Dolly synthetic D-nummer).
        let d_dolly = make(71, 52, 70);
        let p = PersonNumber::parse(&d_dolly);
        assert!(matches!(&p, Ok(p) if p.kind() == PersonNumberKind::HNummer
            && !p.is_synthetic() && p.is_d_number_form()));
        let p = PersonNumber::parse("01017040088");
        assert!(matches!(&p, Ok(p) if !p.is_synthetic() && !p.is_d_number_form()));
    }

    #[test]
    fn identifiers_fnr_debug_is_redacted_and_display_is_full() {
        let p = PersonNumber::parse("01017040088");
        let dbg = p.as_ref().map(|p| format!("{p:?}")).unwrap_or_default();
        assert_eq!(dbg, "PersonNumber(Fodselsnummer, ***********)");
        assert!(!dbg.chars().any(|c| c.is_ascii_digit()));
        let shown = p.as_ref().map(ToString::to_string).unwrap_or_default();
        assert_eq!(shown, "01017040088");
    }

    #[test]
    fn identifiers_error_messages_do_not_contain_input() {
        for s in ["01017040089", "01017040078", "0101704008", "13057444850"] {
            let msg = PersonNumber::parse(s).err().map(|e| e.to_string());
            assert!(msg.is_some());
            assert!(!msg.unwrap_or_default().contains(s));
        }
    }

    #[test]
    fn identifiers_serde_deserializes_with_validation() {
        let ok: StrDeserializer<'_, DeError> = "01017040088".into_deserializer();
        assert!(PersonNumber::deserialize(ok).is_ok());
        let bad: StrDeserializer<'_, DeError> = "01017040089".into_deserializer();
        let err = PersonNumber::deserialize(bad).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("control digit 2 (position 11) is wrong")
        );
        let org: StrDeserializer<'_, DeError> = "991825827".into_deserializer();
        assert!(OrgNumber::deserialize(org).is_ok());
        let hpr: StrDeserializer<'_, DeError> = "0181".into_deserializer();
        assert!(HprNumber::deserialize(hpr).is_err());
        assert!("181000001".parse::<HprNumber>().is_ok());
    }

    #[test]
    fn identifiers_orgnr_digdir_example_is_valid() {
        let o = OrgNumber::parse(" 991825827 ");
        assert_eq!(o.as_ref().map(OrgNumber::as_str), Ok("991825827"));
        assert_eq!(o.map(|o| o.to_string()), Ok("991825827".to_owned()));
    }

    #[test]
    fn identifiers_orgnr_rejects_invalid() {
        assert_eq!(OrgNumber::parse("991825828"), Err(E::CheckDigit));
        assert_eq!(OrgNumber::parse("991825820"), Err(E::CheckDigit));
        assert_eq!(OrgNumber::parse(""), Err(E::Empty));
        assert!(matches!(
            OrgNumber::parse("99182582"),
            Err(E::WrongLength {
                expected: 9,
                actual: 8
            })
        ));
        assert_eq!(
            OrgNumber::parse("99182582x"),
            Err(E::NonDigit { position: 9 })
        );
        assert_eq!(
            OrgNumber::parse("991 825 827"),
            Err(E::NonDigit { position: 4 })
        );
    }

    #[test]
    fn identifiers_hpr_accepts_one_to_nine_digits_without_leading_zero() {
        assert_eq!(
            HprNumber::parse("181000001").map(|h| h.to_string()),
            Ok("181000001".to_owned())
        );
        assert!(HprNumber::parse("1").is_ok());
        assert_eq!(HprNumber::parse("0"), Err(E::LeadingZero));
        assert_eq!(HprNumber::parse("012345"), Err(E::LeadingZero));
        assert_eq!(
            HprNumber::parse("1234567890"),
            Err(E::TooLong { max: 9, actual: 10 })
        );
        assert_eq!(HprNumber::parse("  "), Err(E::Empty));
        assert_eq!(HprNumber::parse("12a"), Err(E::NonDigit { position: 3 }));
    }

    proptest! {
        #[test]
        fn identifiers_parse_never_panics(s in prop_oneof![any::<String>(), "[0-9 ]{0,14}"]) {
            let _ = PersonNumber::parse(&s);
            let _ = OrgNumber::parse(&s);
            let _ = HprNumber::parse(&s);
        }

        #[test]
        fn identifiers_generated_fnr_and_dnr_are_accepted(
            day in 1u8..=31, month in 1u8..=12, year in 0u8..=99, ind in 0u16..=999, d in any::<bool>()
        ) {
            let day = if d { day + 40 } else { day };
            let s = with_controls(&date_digits(day, month, year, ind));
            prop_assume!(s.is_some());
            let s = s.unwrap_or_default();
            let expected = if d { PersonNumberKind::DNummer } else { PersonNumberKind::Fodselsnummer };
            prop_assert_eq!(kind_of(&s), Ok(expected));
        }

        /// The k2 check is the classic rule over all ten leading digits with
        /// weights that are all non-zero mod 11, so ANY single-digit change
        /// (including to k1, which the 2032 rule tolerates on its own) is
        /// rejected. Changing k2 alone in particular always invalidates.
        #[test]
        fn identifiers_single_digit_change_invalidates_fnr(
            day in 1u8..=31, month in 1u8..=12, year in 0u8..=99, ind in 0u16..=999,
            pos in 0usize..11, delta in 1u8..=9
        ) {
            let s = with_controls(&date_digits(day, month, year, ind));
            prop_assume!(s.is_some());
            let s = s.unwrap_or_default();
            let changed = bump_digit(&s, pos, delta);
            prop_assert!(PersonNumber::parse(&changed).is_err());
            if pos == 10 {
                prop_assert_eq!(kind_of(&changed), Err(E::ControlDigit2));
            }
        }

        #[test]
        fn identifiers_generated_orgnr_is_accepted_and_changed_check_rejected(
            base in proptest::array::uniform8(0u8..=9), delta in 1u8..=9
        ) {
            let check = control(weighted_sum(&base, &ORG_WEIGHTS));
            prop_assume!(check.is_some());
            let check = check.unwrap_or_default();
            let s = to_string(&[&base[..], &[check]].concat());
            prop_assert_eq!(OrgNumber::parse(&s).map(|o| o.to_string()), Ok(s.clone()));
            let bad = bump_digit(&s, 8, delta);
            prop_assert_eq!(OrgNumber::parse(&bad), Err(E::CheckDigit));
        }
    }
}
