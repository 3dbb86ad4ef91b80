//! Diagnosis codes (ICD-10 and ICPC-2, dotted and undotted) and ATC codes.
//!
//! - A dotted code («F32.1», «E13.4») whose category is an ICD-10 or ICPC-2 code is
//!   always a diagnosis code.
//! - An undotted code of four or five characters («F321») in the ICD-10 or ICPC-2 list
//!   is one, unless a room or road word stands right before it («rom B201», «E134
//!   mot Haukeli») or it is a European route number (E134, E136).
//! - A three-character code («F32», «P76») counts only next to a word such as
//!   «diagnose», «ICD», «ICPC» or «kode»: alone it is as likely a room, a road (E16)
//!   or a vitamin (B12).
//! - ATC: level 5 («N06AB06») by its shape; level 4 («N06AB») by its shape in capitals.

use std::collections::HashSet;

use crate::normalize::{word_ends_at, word_starts_at};

/// What a code is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeKind {
    Diagnosis,
    Atc,
}

/// The code lists.
#[derive(Debug)]
pub(crate) struct Codes {
    /// ICD-10 and ICPC-2 codes without dots, upper case («F321», «P76»).
    codes: HashSet<[u8; 5]>,
    /// Their three-character categories.
    categories: HashSet<[u8; 3]>,
}

/// Words that make a short code a diagnosis code when they stand near it.
const TRIGGERS: &[&str] = &["diagnos", "icd", "icpc", "kode", "dx", "diag."];

/// Words right before a code that make it a room, a road or a place.
const PLACE_WORDS: &[&str] = &[
    "rom",
    "rommet",
    "room",
    "kontor",
    "kontoret",
    "etasje",
    "inngang",
    "oppgang",
    "bygg",
    "bygning",
    "fløy",
    "fløyen",
    "sone",
    "dør",
    "døra",
    "døren",
    "luke",
    "sal",
    "port",
    "plan",
    "vei",
    "veien",
    "veg",
    "vegen",
    "riksvei",
    "europavei",
    "europaveg",
    "langs",
    "via",
    "buss",
    "linje",
    "rute",
    "spor",
    "hall",
    "hallen",
    "felt",
    "seksjon",
    "avsnitt",
    "plass",
];

/// European routes in Norway whose numbers are also ICD-10 codes.
const ROUTES: &[&str] = &["E134", "E136"];

/// Words right before a code that make it a vitamin.
const VITAMIN_WORDS: &[&str] = &["vitamin", "vit", "vitaminet"];

const ATC_GROUPS: &[u8] = b"ABCDGHJLMNPRSV";

fn key(code: &str) -> Option<[u8; 5]> {
    let b = code.as_bytes();
    if !(3..=5).contains(&b.len()) {
        return None;
    }
    let mut k = [0u8; 5];
    for (k, c) in k.iter_mut().zip(b) {
        *k = c.to_ascii_uppercase();
    }
    Some(k)
}

impl Codes {
    pub(crate) fn new<'a>(lists: impl IntoIterator<Item = &'a str>) -> Self {
        let mut codes = HashSet::new();
        let mut categories = HashSet::new();
        for list in lists {
            for line in list.lines() {
                let line = line.trim();
                if line.starts_with('#') {
                    continue;
                }
                if let Some(k) = key(line) {
                    codes.insert(k);
                    categories.insert([k[0], k[1], k[2]]);
                }
            }
        }
        Self { codes, categories }
    }

    /// Every code in the folded `text`; `original` gives the original spelling of a
    /// folded byte range (for the capitals of ATC level 4).
    pub(crate) fn scan(
        &self,
        text: &str,
        original: impl Fn(usize, usize) -> String,
        out: &mut Vec<(CodeKind, usize, usize)>,
    ) {
        let b = text.as_bytes();
        let mut i = 0;
        while i + 3 <= b.len() {
            let candidate = b[i].is_ascii_lowercase()
                && b[i + 1].is_ascii_digit()
                && b[i + 2].is_ascii_digit()
                && word_starts_at(text, i);
            if !candidate {
                i += 1;
                continue;
            }
            if let Some((kind, end)) = self.code_at(text, i, &original) {
                out.push((kind, i, end));
                i = end;
            } else {
                i += 3;
            }
        }
    }

    fn code_at(
        &self,
        text: &str,
        i: usize,
        original: &impl Fn(usize, usize) -> String,
    ) -> Option<(CodeKind, usize)> {
        let b = text.as_bytes();
        let category = [b[i].to_ascii_uppercase(), b[i + 1], b[i + 2]];
        let j = i + 3;
        let digits_from = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
        // Dotted: F32.1, E13.41.
        if b.get(j) == Some(&b'.') {
            let n = digits_from(j + 1);
            if (1..=2).contains(&n) && word_ends_at(text, j + 1 + n) {
                let known = self.categories.contains(&category);
                return known.then_some((CodeKind::Diagnosis, j + 1 + n));
            }
        }
        // ATC: N06AB06, N06AB.
        let letters = b[j..].iter().take_while(|c| c.is_ascii_lowercase()).count();
        if letters > 0 {
            if letters != 2 || !ATC_GROUPS.contains(&category[0]) {
                return None;
            }
            let n = digits_from(j + 2);
            if n == 2 && word_ends_at(text, j + 4) {
                return Some((CodeKind::Atc, j + 4));
            }
            if n == 0 && word_ends_at(text, j + 2) {
                let spelled = original(i, j + 2);
                let capitals = spelled.chars().all(|c| !c.is_lowercase());
                return capitals.then_some((CodeKind::Atc, j + 2));
            }
            return None;
        }
        let n = digits_from(j);
        let end = j + n;
        if n > 2 || !word_ends_at(text, end) {
            return None;
        }
        let code = text.get(i..end)?.to_ascii_uppercase();
        let before = previous_word(text, i);
        if VITAMIN_WORDS.contains(&before) || text[end..].starts_with("-vitamin") {
            return None;
        }
        let triggered = self.trigger_near(text, i, end);
        if n > 0 {
            let known = key(&code).is_some_and(|k| self.codes.contains(&k));
            let place = PLACE_WORDS.contains(&before) || ROUTES.contains(&code.as_str());
            (known && (triggered || !place)).then_some((CodeKind::Diagnosis, end))
        } else {
            let known = key(&code).is_some_and(|k| self.codes.contains(&k))
                || self.categories.contains(&category);
            (known && triggered && !PLACE_WORDS.contains(&before))
                .then_some((CodeKind::Diagnosis, end))
        }
    }

    fn trigger_near(&self, text: &str, start: usize, end: usize) -> bool {
        let mut from = start.saturating_sub(48);
        while !text.is_char_boundary(from) {
            from -= 1;
        }
        let mut to = (end + 48).min(text.len());
        while !text.is_char_boundary(to) {
            to += 1;
        }
        let window = &text[from..to];
        TRIGGERS.iter().any(|t| window.contains(t))
    }
}

/// The word before byte `at` (skipping spaces and punctuation), folded.
fn previous_word(text: &str, at: usize) -> &str {
    let head = text[..at].trim_end_matches(|c: char| !c.is_alphanumeric());
    let start = head
        .char_indices()
        .rev()
        .find(|&(_, c)| !c.is_alphanumeric())
        .map_or(0, |(i, c)| i + c.len_utf8());
    &head[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<String> {
        let codes = Codes::new(["F321\nF329\nE134\nB201\nC104\nP76\nE100\nJ45\n"]);
        let mut folded = crate::normalize::Folded::default();
        folded.fold_into(text);
        let mut out = Vec::new();
        codes.scan(
            &folded.text,
            |s, e| {
                let (s, e) = folded.original(s, e, text);
                text[s..e].to_owned()
            },
            &mut out,
        );
        out.iter()
            .map(|(_, s, e)| folded.text[*s..*e].to_owned())
            .collect::<Vec<_>>()
    }

    #[test]
    fn n1_codes_in_context() {
        assert_eq!(found("Diagnose F32.1 er satt"), ["f32.1"]);
        assert_eq!(found("kode F321"), ["f321"]);
        assert_eq!(found("F321"), ["f321"]);
        assert_eq!(found("Møt i rom B201"), Vec::<String>::new());
        assert_eq!(found("Kjør E134 mot Haukeli"), Vec::<String>::new());
        assert_eq!(found("Vi ligger ved E18"), Vec::<String>::new());
        assert_eq!(found("Vitamin B12 og P76"), Vec::<String>::new());
        assert_eq!(found("Diagnosekode P76"), ["p76"]);
        assert_eq!(
            found("Resept på N06AB06 og N06AB, ikke n06ab"),
            ["n06ab06", "n06ab"]
        );
    }
}
