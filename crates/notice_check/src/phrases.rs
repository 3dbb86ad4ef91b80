//! The no-reply sentence (N2) and links (N7).

use aho_corasick::AhoCorasick;

use crate::normalize::{fold, word_starts_at};

/// Sentences that tell the patient that a reply will not be read (bokmål, nynorsk,
/// English), folded. VDP 5.1.1: «Du kan ikke sende svar på denne SMS».
const NO_REPLY: &[&str] = &[
    "kan ikke svare på denne",
    "kan ikke svare på sms",
    "kan ikke svare på meldingen",
    "kan ikke svare på e-posten",
    "kan ikke sende svar",
    "kan ikke besvares",
    "kan ikke svares på",
    "ikke svar på denne",
    "ikke mulig å svare",
    "ikke mulig å besvare",
    "svar på denne meldingen blir ikke lest",
    "blir ikke lest",
    "blir ikke besvart",
    "kan ikkje svare på denne",
    "kan ikkje svare på sms",
    "kan ikkje svare på meldinga",
    "kan ikkje svare på e-posten",
    "kan ikkje sende svar",
    "kan ikkje svarast",
    "kan ikkje besvarast",
    "ikkje svar på denne",
    "ikkje mogleg å svare",
    "blir ikkje lese",
    "blir ikkje lest",
    "vert ikkje lese",
    "vert ikkje lest",
    "vert ikkje svart",
    "do not reply",
    "don't reply",
    "please do not respond",
    "cannot be answered",
    "cannot be replied",
    "cannot reply",
    "can not reply",
    "replies are not read",
    "no-reply",
];

/// Finds the no-reply sentence.
#[derive(Debug)]
pub(crate) struct NoReply(AhoCorasick);

impl NoReply {
    pub(crate) fn new() -> Result<Self, aho_corasick::BuildError> {
        let folded: Vec<String> = NO_REPLY.iter().map(|p| fold(p)).collect();
        AhoCorasick::new(folded).map(Self)
    }

    pub(crate) fn present(&self, folded: &str) -> bool {
        self.0.is_match(folded)
    }
}

/// Links in the folded text: `http://`, `https://` or `www.` at a word start, to the
/// next space (trailing punctuation left out). Calls `f` with the byte range and host.
pub(crate) fn links(text: &str, mut f: impl FnMut(usize, usize, &str)) {
    let mut from = 0;
    while let Some(rel) = text[from..].find(['h', 'w']) {
        let at = from + rel;
        let rest = &text[at..];
        let scheme = ["https://", "http://", "www."]
            .into_iter()
            .find(|s| rest.starts_with(s));
        let Some(scheme) = scheme else {
            from = at + 1;
            continue;
        };
        if !word_starts_at(text, at) {
            from = at + 1;
            continue;
        }
        let body_len = rest.find(' ').unwrap_or(rest.len());
        let link = rest[..body_len].trim_end_matches(['.', ',', ')', '!', '?', ';', ':', '»', '"']);
        let end = at + link.len();
        let after_scheme = if scheme == "www." {
            link
        } else {
            &link[scheme.len()..]
        };
        let host_len = after_scheme
            .find(['/', ':', '?', '#'])
            .unwrap_or(after_scheme.len());
        f(at, end, &after_scheme[..host_len]);
        from = end.max(at + 1);
    }
}
