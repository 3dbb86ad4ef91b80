//! Folding a text for matching, keeping the way back to the original.
//!
//! The folded text is compatibility-decomposed (NFKD, so full-width letters, ligatures
//! and super-script digits become plain ones), stripped of combining marks ("gonoré" →
//! "gonore", "å" → "a"), lower-cased, with soft hyphens and zero-width characters
//! removed, every run of white space turned into one space, dash look-alikes into
//! `-`, and the decimal digits of other scripts into ASCII digits. Every byte of the
//! folded text remembers the byte offset of the original character it came from.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// A folded text and, for each of its bytes, the original character's byte offset.
#[derive(Debug, Default)]
pub(crate) struct Folded {
    pub(crate) text: String,
    origin: Vec<u32>,
    original_len: usize,
}

/// First code points of the decimal digit blocks of other scripts (Unicode category Nd)
/// that NFKD leaves alone: Arabic-Indic, Extended Arabic-Indic, NKo, Devanagari, Bengali,
/// Gurmukhi, Gujarati, Oriya, Tamil, Telugu, Kannada, Malayalam, Thai, Lao, Tibetan,
/// Myanmar, Khmer, Mongolian.
const DIGIT_ZEROS: [u32; 18] = [
    0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66,
    0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x17E0, 0x1810,
];

fn other_digit(c: char) -> Option<u8> {
    let cp = u32::from(c);
    DIGIT_ZEROS
        .iter()
        .find(|&&zero| (zero..zero + 10).contains(&cp))
        .and_then(|&zero| u8::try_from(cp - zero).ok())
        .map(|d| b'0' + d)
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
    )
}

fn is_dash(c: char) -> bool {
    matches!(
        c,
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}'
    )
}

impl Folded {
    /// Folds `text` into `self`, reusing its buffers.
    pub(crate) fn fold_into(&mut self, text: &str) {
        self.text.clear();
        self.origin.clear();
        self.original_len = text.len();
        for (at, c) in text.char_indices() {
            // Texts longer than 4 GiB are not notices; offsets saturate.
            let at = u32::try_from(at).unwrap_or(u32::MAX);
            if c.is_ascii() {
                if c.is_ascii_whitespace() || c.is_ascii_control() {
                    self.space(at);
                } else {
                    self.push(c.to_ascii_lowercase(), at);
                }
            } else if c.is_whitespace() || c.is_control() {
                self.space(at);
            } else if is_invisible(c) {
            } else if is_dash(c) {
                self.push('-', at);
            } else if let Some(d) = other_digit(c) {
                self.push(char::from(d), at);
            } else {
                decompose_compatible(c, |d| {
                    if is_combining_mark(d) {
                        return;
                    }
                    if d.is_whitespace() {
                        self.space(at);
                    } else {
                        for l in d.to_lowercase() {
                            self.push(l, at);
                        }
                    }
                });
            }
        }
    }

    fn push(&mut self, c: char, at: u32) {
        self.text.push(c);
        self.origin.extend(std::iter::repeat_n(at, c.len_utf8()));
    }

    fn space(&mut self, at: u32) {
        if !self.text.ends_with(' ') {
            self.push(' ', at);
        }
    }

    /// The original byte range of the folded byte range `start..end`.
    pub(crate) fn original(&self, start: usize, end: usize, original: &str) -> (usize, usize) {
        let begin = self
            .origin
            .get(start)
            .map_or(self.original_len, |&b| b as usize);
        let end = match end.checked_sub(1).and_then(|last| self.origin.get(last)) {
            Some(&last) => {
                let last = last as usize;
                last + original[last..].chars().next().map_or(0, char::len_utf8)
            }
            None => begin,
        };
        (begin, end.max(begin))
    }
}

/// Folds a pattern (a term from the data files) the same way as a text.
pub(crate) fn fold(text: &str) -> String {
    let mut f = Folded::default();
    f.fold_into(text);
    f.text.trim().to_owned()
}

/// Is `c` part of a word (a letter or a digit)?
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// Does a word start at byte `at` of `text` (no word character right before it)?
pub(crate) fn word_starts_at(text: &str, at: usize) -> bool {
    !text[..at].chars().next_back().is_some_and(is_word_char)
}

/// Does a word end at byte `at` of `text` (no word character right after it)?
pub(crate) fn word_ends_at(text: &str, at: usize) -> bool {
    !text[at..].chars().next().is_some_and(is_word_char)
}

/// The start of the word that byte `at` is in.
pub(crate) fn word_start_before(text: &str, at: usize) -> usize {
    text[..at]
        .char_indices()
        .rev()
        .find(|&(_, c)| !is_word_char(c))
        .map_or(0, |(i, c)| i + c.len_utf8())
}

/// The end of the word that runs on from byte `at`.
pub(crate) fn word_end_from(text: &str, at: usize) -> usize {
    text[at..]
        .char_indices()
        .find(|&(_, c)| !is_word_char(c))
        .map_or(text.len(), |(i, _)| at + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_keeps_offsets_into_the_original() {
        let text = "Gonoré\u{00A0}\u{00A0}og  ＦＮＲ\u{200B}1";
        let mut f = Folded::default();
        f.fold_into(text);
        assert_eq!(f.text, "gonore og fnr1");
        let at = f.text.find("fnr").unwrap_or(0);
        let (s, e) = f.original(at, at + 3, text);
        assert_eq!(&text[s..e], "ＦＮＲ");
        let (s, e) = f.original(0, 6, text);
        assert_eq!(&text[s..e], "Gonoré");
    }

    #[test]
    fn other_scripts_digits_become_ascii() {
        let mut f = Folded::default();
        f.fold_into("١٢ ۳");
        assert_eq!(f.text, "12 3");
    }
}
