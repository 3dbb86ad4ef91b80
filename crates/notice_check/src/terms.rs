//! Word lists matched with one Aho-Corasick automaton: diagnosis terms, drug names,
//! department names and the allow-list that protects names such as «Krefting».
//!
//! Each line of a list is a term with markers (see `data/diagnosis-stems.txt`):
//! `*term*` anywhere, `term*` at a word start, `*term` ending a word, `term` a whole
//! word, `=Term` a whole word in exactly this case. Where a word may end, Norwegian
//! endings («-en», «-ene», «-a» …) may follow; after a drug name also the head of a
//! compound («metadonbehandling», «litiumspeil»).
//!
//! The automaton is leftmost-longest: at each position the longest term wins, so
//! «kreftavdelingen» is a department (not the diagnosis «kreft») and «Krefting» is
//! allowed. A match whose word-boundary condition fails is dropped and the search goes
//! on one byte further, so it hides no shorter match behind it.

use std::collections::HashSet;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};

use crate::normalize::{
    Folded, fold, word_end_from, word_ends_at, word_start_before, word_starts_at,
};

/// What a term is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Diagnosis,
    Drug,
    Department,
    Allow,
}

/// Where a term may start and end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mode {
    /// May start inside a word.
    free_start: bool,
    /// May end inside a word (anything may follow).
    free_end: bool,
    /// The original text must spell it exactly (case-sensitive), as a whole word.
    exact: Option<usize>,
    /// Compound heads may follow (drug names).
    heads: bool,
}

#[derive(Debug)]
struct Term {
    kind: Kind,
    mode: Mode,
}

/// Norwegian (bokmål and nynorsk) endings that may follow a word.
const ENDINGS: &[&str] = &[
    "", "e", "en", "et", "er", "ene", "a", "ar", "ane", "s", "es", "ens", "ets", "ers", "enes",
    "ane", "ers", "t", "te",
];

/// Heads of compounds that keep a drug name a drug name («sertralinbehandling»).
const DRUG_HEADS: &[&str] = &[
    "tablett",
    "behandling",
    "resept",
    "kur",
    "dose",
    "dosering",
    "sprøyte",
    "injeksjon",
    "plaster",
    "mikstur",
    "kapsel",
    "kapsler",
    "bruk",
    "pille",
    "speil",
    "nivå",
    "preparat",
    "medisin",
];

/// A match found in the folded text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit {
    pub(crate) kind: Kind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// A compiled set of term lists.
#[derive(Debug)]
pub(crate) struct TermSet {
    automaton: AhoCorasick,
    terms: Vec<Term>,
    endings: HashSet<String>,
    drug_endings: HashSet<String>,
    /// The exact spellings of `=Term` entries, indexed by `Mode::exact`.
    exact: Vec<String>,
}

/// One list: its kind, its text, and whether a plain word takes compound heads.
pub(crate) struct List<'a> {
    pub(crate) kind: Kind,
    pub(crate) text: &'a str,
    pub(crate) heads: bool,
}

/// Why a term list could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum TermError {
    /// The automaton could not be built (too many or too long terms).
    #[error("the term lists cannot be compiled: {0}")]
    Build(String),
}

impl TermSet {
    pub(crate) fn build(lists: &[List<'_>]) -> Result<Self, TermError> {
        let mut patterns = Vec::new();
        let mut terms = Vec::new();
        let mut exact = Vec::new();
        for list in lists {
            for line in list.text.lines() {
                let line = line.split('#').next().unwrap_or("").trim();
                if line.is_empty() {
                    continue;
                }
                let (mode, word) = parse_term(line, list.heads, &mut exact);
                let folded = fold(word);
                if folded.is_empty() {
                    continue;
                }
                patterns.push(folded);
                terms.push(Term {
                    kind: list.kind,
                    mode,
                });
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .map_err(|e| TermError::Build(e.to_string()))?;
        let endings: HashSet<String> = ENDINGS.iter().map(|e| (*e).to_owned()).collect();
        let mut drug_endings = endings.clone();
        for head in DRUG_HEADS {
            let head = fold(head);
            for ending in ENDINGS {
                drug_endings.insert(format!("{head}{ending}"));
                drug_endings.insert(format!("s{head}{ending}"));
            }
        }
        Ok(Self {
            automaton,
            terms,
            endings,
            drug_endings,
            exact,
        })
    }

    /// Every accepted match in `folded`, allow-list matches left out.
    pub(crate) fn scan(&self, folded: &Folded, original: &str, out: &mut Vec<Hit>) {
        let text = folded.text.as_str();
        let mut at = 0;
        while at < text.len() {
            let input = Input::new(text).range(at..);
            let Some(m) = self.automaton.find(input) else {
                break;
            };
            let Some(term) = self.terms.get(m.pattern().as_usize()) else {
                break;
            };
            match self.accept(term, folded, original, m.start(), m.end()) {
                Some(end) => {
                    // Report the whole word(s), so staff see «kreftavdelingen», not «kreft».
                    let end = word_end_from(text, end);
                    if term.kind != Kind::Allow {
                        out.push(Hit {
                            kind: term.kind,
                            start: word_start_before(text, m.start()),
                            end,
                        });
                    }
                    at = end.max(m.start() + 1);
                }
                None => at = m.start() + 1,
            }
        }
    }

    /// Checks the boundary condition; returns where the reported span ends.
    fn accept(
        &self,
        term: &Term,
        folded: &Folded,
        original: &str,
        start: usize,
        end: usize,
    ) -> Option<usize> {
        let text = folded.text.as_str();
        let mode = term.mode;
        if !mode.free_start && !word_starts_at(text, start) {
            return None;
        }
        if let Some(i) = mode.exact {
            if !word_ends_at(text, end) {
                return None;
            }
            let (s, e) = folded.original(start, end, original);
            return (self.exact.get(i).map(String::as_str) == original.get(s..e)).then_some(end);
        }
        if mode.free_end {
            return Some(end);
        }
        let word_end = word_end_from(text, end);
        let rest = text.get(end..word_end)?;
        let endings = if mode.heads {
            &self.drug_endings
        } else {
            &self.endings
        };
        endings.contains(rest).then_some(word_end)
    }
}

fn parse_term<'a>(line: &'a str, heads: bool, exact: &mut Vec<String>) -> (Mode, &'a str) {
    if let Some(word) = line.strip_prefix('=') {
        exact.push(word.to_owned());
        let mode = Mode {
            free_start: false,
            free_end: false,
            exact: Some(exact.len() - 1),
            heads: false,
        };
        return (mode, word);
    }
    let free_start = line.starts_with('*');
    let free_end = line.len() > 1 && line.ends_with('*');
    let word = line.trim_matches('*');
    let mode = Mode {
        free_start,
        free_end,
        exact: None,
        heads: heads && !free_end,
    };
    (mode, word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(lists: &[List<'_>], text: &str) -> Vec<(Kind, String)> {
        let set = TermSet::build(lists).unwrap();
        let mut f = Folded::default();
        f.fold_into(text);
        let mut out = Vec::new();
        set.scan(&f, text, &mut out);
        out.iter()
            .map(|h| (h.kind, f.text[h.start..h.end].to_owned()))
            .collect()
    }

    #[test]
    fn markers_decide_where_a_term_may_stand() {
        let diag = List {
            kind: Kind::Diagnosis,
            text: "*kreft*\nrus*\nhiv\n",
            heads: false,
        };
        let allow = List {
            kind: Kind::Allow,
            text: "krefting*\nruss*\n",
            heads: false,
        };
        let drug = List {
            kind: Kind::Drug,
            text: "metadon\n=LAR\n",
            heads: true,
        };
        let lists = [diag, allow, drug];
        let found = hits(
            &lists,
            "Lungekreft, Krefting, russ, rusbehandling, arkiv hiv-test",
        );
        let words: Vec<&str> = found.iter().map(|(_, w)| w.as_str()).collect();
        assert_eq!(words, ["lungekreft", "rusbehandling", "hiv"]);
        let found = hits(&lists, "metadonbehandlingen metadoner metadonkatt LAR lar");
        let words: Vec<&str> = found.iter().map(|(_, w)| w.as_str()).collect();
        assert_eq!(words, ["metadonbehandlingen", "metadoner", "lar"]);
    }
}
