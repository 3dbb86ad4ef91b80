//! Runs of digits: identity numbers, the clinic's phone numbers, dosages.
//!
//! A run is digits in groups joined by one separator each (space, `.` or `-`), as in
//! «010203 12345», «01.02.03-12345» or «22 33 44 55».

use fortrolig_domain::identifier::PersonNumber;

/// One group of digits: byte range in the folded text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Group {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Group {
    fn len(self) -> usize {
        self.end - self.start
    }
}

fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'.' | b'-')
}

/// Calls `f` with the groups of every run in `text`.
pub(crate) fn for_each_run(text: &str, groups: &mut Vec<Group>, mut f: impl FnMut(&[Group])) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        groups.clear();
        loop {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            groups.push(Group { start, end: i });
            let joined = i + 1 < bytes.len()
                && is_separator(bytes[i])
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
            if !joined {
                break;
            }
            i += 1;
        }
        f(groups);
    }
}

/// The digits of `groups` written together.
fn digits_of(text: &str, groups: &[Group]) -> String {
    groups
        .iter()
        .filter_map(|g| text.get(g.start..g.end))
        .collect()
}

/// Is this the grouping of a written identity number? `ddmmyyiiiii`, `ddmmyy iiiii`,
/// `dd.mm.yy iiiii`, `ddmmyy iii ii`, `dd mm yy iii ii`. Other groupings of eleven
/// digits (an account number «1503.12.34567») are not.
fn identity_grouping(groups: &[Group]) -> bool {
    let mut cuts = Vec::with_capacity(4);
    let mut n = 0;
    for g in &groups[..groups.len().saturating_sub(1)] {
        n += g.len();
        cuts.push(n);
    }
    matches!(
        cuts.as_slice(),
        [] | [6] | [2, 4, 6] | [6, 9] | [2, 4, 6, 9]
    )
}

/// Finds identity numbers (valid check digits; fødselsnummer, D-, H-, FH- and
/// synthetic numbers) in a run: any run of consecutive groups with eleven digits in
/// an identity grouping. Returns (start, end) byte ranges in the folded text.
pub(crate) fn identity_numbers(text: &str, groups: &[Group], out: &mut Vec<(usize, usize)>) {
    for first in 0..groups.len() {
        let mut count = 0;
        for last in first..groups.len() {
            count += groups[last].len();
            if count < 11 {
                continue;
            }
            let window = &groups[first..=last];
            if count == 11
                && identity_grouping(window)
                && PersonNumber::parse(&digits_of(text, window)).is_ok()
            {
                out.push((groups[first].start, groups[last].end));
            }
            break;
        }
    }
}

/// Words after which any eleven digits are taken as an identity number, valid or not.
const IDENTITY_WORDS: &[&str] = &[
    "fnr",
    "f.nr",
    "fødselsn",
    "fodselsn",
    "personn",
    "pers.nr",
    "pnr",
    "d-n",
    "dnr",
    "h-n",
    "identitetsn",
    "id-n",
    "id.nr",
];

/// Eleven digits (in any grouping) shortly after a word such as «fnr» or
/// «fødselsnummer», whatever their check digits.
pub(crate) fn identity_after_word(text: &str, groups: &[Group], out: &mut Vec<(usize, usize)>) {
    let Some(first) = groups.first() else {
        return;
    };
    let mut from = first.start.saturating_sub(32);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let before = &text[from..first.start];
    if !IDENTITY_WORDS.iter().any(|w| before.contains(w)) {
        return;
    }
    let mut count = 0;
    for (last, g) in groups.iter().enumerate() {
        count += g.len();
        if count >= 11 {
            if count == 11 {
                out.push((first.start, groups[last].end));
            }
            return;
        }
    }
}

/// A configured sender number, as digits without the country code +47.
pub(crate) fn phone_digits(number: &str) -> Option<String> {
    let trimmed = number.trim();
    let (international, rest) = match trimmed.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let mut digits = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '.' | '-' | '(' | ')' | '\u{00A0}' => {}
            _ => return None,
        }
    }
    let national = if international {
        digits.strip_prefix("47").map(str::to_owned)?
    } else if let Some(rest) = digits.strip_prefix("0047") {
        rest.to_owned()
    } else {
        digits
    };
    (5..=12).contains(&national.len()).then_some(national)
}

/// The clinic's own numbers in a run, in any spacing, with or without +47 / 0047:
/// whole groups whose digits together are the number.
pub(crate) fn phones(
    text: &str,
    groups: &[Group],
    phones: &[String],
    out: &mut Vec<(usize, usize)>,
) {
    if phones.is_empty() {
        return;
    }
    let longest = phones.iter().map(String::len).max().unwrap_or(0) + 4;
    let mut acc = String::with_capacity(longest + 12);
    for first in 0..groups.len() {
        acc.clear();
        for last in first..groups.len() {
            acc.push_str(text.get(groups[last].start..groups[last].end).unwrap_or(""));
            if acc.len() > longest {
                break;
            }
            let national = acc
                .strip_prefix("0047")
                .or_else(|| acc.strip_prefix("47"))
                .filter(|_| first == 0);
            let hit = phones
                .iter()
                .any(|p| *p == acc || national.is_some_and(|n| n == p));
            if hit {
                let mut start = groups[first].start;
                if start > 0 && text.as_bytes().get(start - 1) == Some(&b'+') {
                    start -= 1;
                }
                out.push((start, groups[last].end));
                break;
            }
        }
    }
}

/// Units and words that make a number a dose.
const DOSE_UNITS: &[&str] = &[
    "mg",
    "mikrogram",
    "mikrog",
    "μg",
    "mcg",
    "ml",
    "mmol",
    "ie",
    "tablett",
    "tabletter",
    "tablettar",
    "tbl",
    "kapsel",
    "kapsler",
    "kaps",
    "dråper",
    "dråpar",
    "drape",
    "draper",
    "puff",
    "sprøyter",
    "depotplaster",
];

const PER_DAY: &[&str] = &["daglig", "dagleg", "dagl", "pr", "per", "om", "i"];

/// A dose after a run: «500 mg», «2,5 ml», «2 tabletter», «3 x daglig», «2 ganger
/// daglig», and (case-sensitive) «1 g», «10 E».
pub(crate) fn dose(
    text: &str,
    original_unit: impl Fn(usize, usize) -> String,
    groups: &[Group],
) -> Option<(usize, usize)> {
    let first = groups.first()?;
    let last = groups.last()?;
    let bytes = text.as_bytes();
    let mut i = last.end;
    // A decimal comma: «2,5 mg».
    if bytes.get(i) == Some(&b',') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if bytes.get(i) == Some(&b' ') {
        i += 1;
    }
    let word_end = crate::normalize::word_end_from(text, i);
    let word = text.get(i..word_end)?;
    if word.is_empty() {
        return None;
    }
    if DOSE_UNITS.contains(&word) {
        return Some((first.start, word_end));
    }
    if word == "g" && original_unit(i, word_end) == "g" {
        return Some((first.start, word_end));
    }
    if word == "e" && original_unit(i, word_end) == "E" {
        return Some((first.start, word_end));
    }
    if matches!(word, "x" | "ganger" | "gonger" | "gang") {
        let next_start = word_end + usize::from(bytes.get(word_end) == Some(&b' '));
        let next_end = crate::normalize::word_end_from(text, next_start);
        let next = text.get(next_start..next_end)?;
        if PER_DAY.contains(&next) {
            let after = text.get(next_end..)?.trim_start();
            let daily = matches!(next, "daglig" | "dagleg" | "dagl")
                || after.starts_with("dag")
                || after.starts_with("døgn");
            if daily {
                return Some((first.start, next_end));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(text: &str) -> Vec<Vec<Group>> {
        let mut groups = Vec::new();
        let mut all = Vec::new();
        for_each_run(text, &mut groups, |g| all.push(g.to_vec()));
        all
    }

    #[test]
    fn groupings_of_identity_numbers_are_recognised() {
        for (text, expected) in [
            ("01020312345", true),
            ("010203 12345", true),
            ("01.02.03-12345", true),
            ("01 02 03 123 45", true),
            ("1503.12.34567", false),
            ("0102 0312 345", false),
        ] {
            let run = &runs(text)[0];
            assert_eq!(identity_grouping(run), expected, "{text}");
        }
    }

    #[test]
    fn sender_numbers_are_normalised() {
        assert_eq!(phone_digits("+47 22 33 44 55").as_deref(), Some("22334455"));
        assert_eq!(phone_digits("0047 22334455").as_deref(), Some("22334455"));
        assert_eq!(phone_digits("22.33.44.55").as_deref(), Some("22334455"));
        assert_eq!(phone_digits("+46 8 123 456 78"), None);
        assert_eq!(phone_digits("113"), None);
        assert_eq!(phone_digits("ring meg"), None);
    }
}
