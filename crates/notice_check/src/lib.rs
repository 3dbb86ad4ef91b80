#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod codes;
mod data;
mod digits;
mod normalize;
mod phrases;
mod terms;

use std::fmt;
use std::sync::LazyLock;

use serde::Serialize;

use crate::codes::{CodeKind, Codes};
use crate::normalize::Folded;
use crate::phrases::NoReply;
use crate::terms::{Hit, Kind, List, TermSet};

pub use crate::terms::TermError;

/// The channel a notice goes out on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// SMS: no links at all (N7).
    Sms,
    /// Ordinary (unencrypted) e-mail: links only to the clinic's portal (N7).
    Email,
}

/// Whether the patient can answer the notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Replies {
    /// Answers are read; no no-reply sentence is needed.
    Allowed,
    /// Answers are not read: the notice must say so (N2).
    NotPossible,
}

/// The judgement on a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Nothing found.
    Allow,
    /// Something that should not be there (VDP: «bør ikke»); staff may send after a
    /// second look.
    Warn,
    /// Something that must not be there (VDP: «kan ikke»); the text is not sent.
    Block,
}

impl Outcome {
    /// The lower-case name used in JSON and on the command line.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Warn => "warn",
            Outcome::Block => "block",
        }
    }
}

/// A rule of the checker. The kebab-case name is stable: scripts and tests use it.
///
/// | rule | outcome | why |
/// |---|---|---|
/// | `identity-number` | block | N1: fødselsnummer, D-, H-, FH- and synthetic numbers |
/// | `diagnosis-code` | block | N1: diagnosis as a code (ICD-10, ICPC-2) |
/// | `diagnosis-word` | block | N1: diagnosis as text |
/// | `drug` | block | N1: prescription information (a drug) |
/// | `atc-code` | block | N1: prescription information (an ATC code) |
/// | `department` | block | N1: a department or clinic name that reveals a condition |
/// | `missing-no-reply` | block | N2: «skal det opplyses om det i meldingen» |
/// | `dosage` | warn | N1: a dose («500 mg», «2 x daglig»); alone it may be practical («drikk 500 ml vann») |
/// | `clinic-phone` | warn | N1: the sender's phone number («bør ikke», VDP 5.1.1) |
/// | `link` | warn | N7: a link in an SMS, or in an e-mail to anywhere but the clinic's portal |
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Rule {
    /// An identity number (N1).
    IdentityNumber,
    /// A diagnosis code (N1).
    DiagnosisCode,
    /// A diagnosis word (N1).
    DiagnosisWord,
    /// A drug name (N1).
    Drug,
    /// An ATC code (N1).
    AtcCode,
    /// A dose (N1).
    Dosage,
    /// A department or clinic that reveals a condition (N1).
    Department,
    /// The clinic's own phone number (N1).
    ClinicPhone,
    /// No sentence saying that replies are not read (N2).
    MissingNoReply,
    /// A link (N7).
    Link,
}

impl Rule {
    /// Every rule, in the order of the table above.
    pub const ALL: [Rule; 10] = [
        Rule::IdentityNumber,
        Rule::DiagnosisCode,
        Rule::DiagnosisWord,
        Rule::Drug,
        Rule::AtcCode,
        Rule::Department,
        Rule::MissingNoReply,
        Rule::Dosage,
        Rule::ClinicPhone,
        Rule::Link,
    ];

    /// The stable kebab-case name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Rule::IdentityNumber => "identity-number",
            Rule::DiagnosisCode => "diagnosis-code",
            Rule::DiagnosisWord => "diagnosis-word",
            Rule::Drug => "drug",
            Rule::AtcCode => "atc-code",
            Rule::Dosage => "dosage",
            Rule::Department => "department",
            Rule::ClinicPhone => "clinic-phone",
            Rule::MissingNoReply => "missing-no-reply",
            Rule::Link => "link",
        }
    }

    /// What a finding of this rule makes of the text.
    #[must_use]
    pub fn outcome(self) -> Outcome {
        match self {
            Rule::Dosage | Rule::ClinicPhone | Rule::Link => Outcome::Warn,
            _ => Outcome::Block,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Explanations for staff (bokmål). They never repeat what was found.
mod message {
    pub const IDENTITY: &str = "Fødselsnummer eller annet identitetsnummer (11 siffer). Varsler skal ikke inneholde identitetsnummer; fjern det.";
    pub const IDENTITY_AFTER_WORD: &str = "Elleve siffer etter «fnr», «fødselsnummer» eller lignende. Varsler skal ikke inneholde identitetsnummer; fjern det.";
    pub const DIAGNOSIS_CODE: &str = "Diagnosekode (ICD-10 eller ICPC-2). Varsler skal ikke vise helseopplysninger; be pasienten logge inn i stedet.";
    pub const DIAGNOSIS_WORD: &str = "Ord som viser diagnose eller helsetilstand. Varsler skal ikke vise helseopplysninger; be pasienten logge inn i stedet.";
    pub const DRUG: &str = "Legemiddelnavn. Varsler skal ikke inneholde reseptinformasjon; skriv heller «Resepten din er klar».";
    pub const ATC: &str = "ATC-kode (legemiddel). Varsler skal ikke inneholde reseptinformasjon.";
    pub const DOSAGE: &str = "Ser ut som en dose (mengde, tabletter eller ganger daglig). Reseptinformasjon skal ikke stå i varsler; sjekk teksten.";
    pub const DEPARTMENT: &str = "Avdelings- eller klinikknavn som kan avsløre helseforhold (for eksempel psykiatrisk poliklinikk eller gynekologisk avdeling). Bruk et nøytralt navn.";
    pub const CLINIC_PHONE: &str = "Klinikkens eget telefonnummer. Avsenderens nummer bør ikke stå i varsler, fordi det kan avsløre avdelingen.";
    pub const MISSING_NO_REPLY: &str = "Pasienten kan ikke svare, men teksten sier det ikke. Legg til for eksempel «Du kan ikke svare på denne meldingen.»";
    pub const LINK_SMS: &str = "Lenke i SMS. Varsler skal se like ut hver gang og ikke ligne nettfiske; skriv heller portalens adresse uten lenke.";
    pub const LINK_EMAIL: &str = "Lenke til en annen adresse enn klinikkens portal. Varsler skal bare lenke til virksomhetens egen portal.";
}

/// One thing found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule that found it.
    pub rule: Rule,
    /// Start, in Unicode scalar values (chars) from the start of the original text.
    pub start: usize,
    /// End (exclusive), in chars. For `missing-no-reply` the span is empty, at the end.
    pub end: usize,
    /// Why, for staff, in Norwegian bokmål. Never contains the text found.
    pub message: &'static str,
}

/// The checker's answer for one text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The most severe outcome of the findings; `Allow` when there are none.
    pub verdict: Outcome,
    /// What was found, by start.
    pub findings: Vec<Finding>,
}

impl Verdict {
    /// True when nothing was found.
    #[must_use]
    pub fn is_allowed(&self) -> bool {
        self.verdict == Outcome::Allow
    }
}

/// What a clinic adds to the built-in rules.
#[derive(Debug, Clone, Default)]
pub struct ClinicRules {
    /// The clinic's own phone numbers, in any spacing, with or without +47.
    pub sender_phones: Vec<String>,
    /// Department or service names of the clinic that reveal a condition, in the term
    /// syntax of `data/departments.txt` (`*term*`, `term*`, `term`, `=Term`).
    pub extra_department_terms: Vec<String>,
    /// Host names of the clinic's portal («normland.no»); e-mail links there pass.
    pub portal_hosts: Vec<String>,
}

/// Why a checker could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A sender number is not a phone number of 5–12 digits (after +47).
    #[error("sender phone number {position} is not a phone number of 5 to 12 digits")]
    SenderPhone {
        /// 1-based position in `sender_phones`.
        position: usize,
    },
    /// A term list could not be compiled.
    #[error(transparent)]
    Terms(#[from] TermError),
}

/// The built-in rules, compiled once per process.
#[derive(Debug)]
struct Builtin {
    terms: TermSet,
    codes: Codes,
    no_reply: NoReply,
}

static BUILTIN: LazyLock<Result<Builtin, String>> = LazyLock::new(|| {
    let terms = TermSet::build(&[
        List {
            kind: Kind::Allow,
            text: data::ALLOW_WORDS,
            heads: false,
        },
        List {
            kind: Kind::Department,
            text: data::DEPARTMENTS,
            heads: false,
        },
        List {
            kind: Kind::Diagnosis,
            text: data::DIAGNOSIS_STEMS,
            heads: false,
        },
        List {
            kind: Kind::Diagnosis,
            text: data::DIAGNOSIS_WORDS,
            heads: false,
        },
        List {
            kind: Kind::Drug,
            text: data::DRUG_NAMES_NO,
            heads: true,
        },
        List {
            kind: Kind::Drug,
            text: data::DRUG_NAMES,
            heads: true,
        },
    ])
    .map_err(|e| e.to_string())?;
    let codes = Codes::new([data::ICD10_CODES, data::ICPC2_CODES]);
    let no_reply = NoReply::new().map_err(|e| e.to_string())?;
    Ok(Builtin {
        terms,
        codes,
        no_reply,
    })
});

/// Judges notice texts. Build one per clinic and reuse it: building compiles the
/// clinic's additions; the built-in lists are compiled once per process.
#[derive(Debug)]
pub struct Checker {
    builtin: &'static Builtin,
    extra: Option<TermSet>,
    phones: Vec<String>,
    portal_hosts: Vec<String>,
}

impl Checker {
    /// A checker with the built-in rules and the clinic's additions.
    ///
    /// # Errors
    ///
    /// A sender number that is no phone number, or term lists that cannot be compiled.
    pub fn new(rules: ClinicRules) -> Result<Self, ConfigError> {
        let builtin = BUILTIN
            .as_ref()
            .map_err(|e| ConfigError::Terms(TermError::Build(e.clone())))?;
        let phones = rules
            .sender_phones
            .iter()
            .enumerate()
            .map(|(i, p)| {
                digits::phone_digits(p).ok_or(ConfigError::SenderPhone { position: i + 1 })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let extra = if rules.extra_department_terms.is_empty() {
            None
        } else {
            let text = rules.extra_department_terms.join("\n");
            Some(TermSet::build(&[List {
                kind: Kind::Department,
                text: &text,
                heads: false,
            }])?)
        };
        let portal_hosts = rules
            .portal_hosts
            .iter()
            .map(|h| normalize::fold(h).trim_end_matches('.').to_owned())
            .filter(|h| !h.is_empty())
            .collect();
        Ok(Self {
            builtin,
            extra,
            phones,
            portal_hosts,
        })
    }

    /// Judges `text` for `channel`.
    #[must_use]
    pub fn check(&self, text: &str, channel: Channel, replies: Replies) -> Verdict {
        let mut folded = Folded::default();
        folded.fold_into(text);
        let mut raw: Vec<(Rule, &'static str, usize, usize)> = Vec::new();

        // Words.
        let mut hits: Vec<Hit> = Vec::new();
        self.builtin.terms.scan(&folded, text, &mut hits);
        if let Some(extra) = &self.extra {
            extra.scan(&folded, text, &mut hits);
        }
        for h in &hits {
            let (rule, message) = match h.kind {
                Kind::Diagnosis => (Rule::DiagnosisWord, message::DIAGNOSIS_WORD),
                Kind::Drug => (Rule::Drug, message::DRUG),
                Kind::Department | Kind::Allow => (Rule::Department, message::DEPARTMENT),
            };
            raw.push((rule, message, h.start, h.end));
        }

        // Codes.
        let original = |s: usize, e: usize| {
            let (s, e) = folded.original(s, e, text);
            text.get(s..e).unwrap_or("").to_owned()
        };
        let mut codes = Vec::new();
        self.builtin.codes.scan(&folded.text, original, &mut codes);
        for (kind, s, e) in codes {
            match kind {
                CodeKind::Diagnosis => {
                    raw.push((Rule::DiagnosisCode, message::DIAGNOSIS_CODE, s, e))
                }
                CodeKind::Atc => raw.push((Rule::AtcCode, message::ATC, s, e)),
            }
        }

        // Digits.
        let mut groups = Vec::new();
        let mut ids = Vec::new();
        let mut after_word = Vec::new();
        let mut phones = Vec::new();
        let mut doses = Vec::new();
        let ftext = folded.text.as_str();
        digits::for_each_run(ftext, &mut groups, |run| {
            digits::identity_numbers(ftext, run, &mut ids);
            digits::identity_after_word(ftext, run, &mut after_word);
            digits::phones(ftext, run, &self.phones, &mut phones);
            if let Some(d) = digits::dose(ftext, original, run) {
                doses.push(d);
            }
        });
        raw.extend(
            ids.into_iter()
                .map(|(s, e)| (Rule::IdentityNumber, message::IDENTITY, s, e)),
        );
        for (s, e) in after_word {
            if !raw
                .iter()
                .any(|r| r.0 == Rule::IdentityNumber && r.2 == s && r.3 == e)
            {
                raw.push((Rule::IdentityNumber, message::IDENTITY_AFTER_WORD, s, e));
            }
        }
        raw.extend(
            phones
                .into_iter()
                .map(|(s, e)| (Rule::ClinicPhone, message::CLINIC_PHONE, s, e)),
        );
        raw.extend(
            doses
                .into_iter()
                .map(|(s, e)| (Rule::Dosage, message::DOSAGE, s, e)),
        );

        // Links.
        phrases::links(ftext, |s, e, host| {
            let own = channel == Channel::Email
                && self.portal_hosts.iter().any(|p| {
                    host == p
                        || host
                            .strip_suffix(p.as_str())
                            .is_some_and(|h| h.ends_with('.'))
                });
            if !own {
                let message = match channel {
                    Channel::Sms => message::LINK_SMS,
                    Channel::Email => message::LINK_EMAIL,
                };
                raw.push((Rule::Link, message, s, e));
            }
        });

        let mut findings = to_findings(&folded, text, raw);
        if replies == Replies::NotPossible && !self.builtin.no_reply.present(ftext) {
            let n = text.chars().count();
            findings.push(Finding {
                rule: Rule::MissingNoReply,
                start: n,
                end: n,
                message: message::MISSING_NO_REPLY,
            });
        }
        let verdict = findings
            .iter()
            .map(|f| f.rule.outcome())
            .max()
            .unwrap_or(Outcome::Allow);
        Verdict { verdict, findings }
    }
}

/// Maps folded byte ranges to original char ranges, sorts, and drops a finding that
/// lies inside another of the same rule.
fn to_findings(
    folded: &Folded,
    text: &str,
    raw: Vec<(Rule, &'static str, usize, usize)>,
) -> Vec<Finding> {
    let mut spans: Vec<(Rule, &'static str, usize, usize)> = raw
        .into_iter()
        .map(|(rule, message, s, e)| {
            let (s, e) = folded.original(s, e, text);
            (rule, message, s, e)
        })
        .collect();
    spans.sort_by(|a, b| a.2.cmp(&b.2).then(b.3.cmp(&a.3)).then(a.0.cmp(&b.0)));
    let mut kept: Vec<(Rule, &'static str, usize, usize)> = Vec::with_capacity(spans.len());
    for span in spans {
        let inside = kept
            .iter()
            .any(|k| k.0 == span.0 && k.2 <= span.2 && span.3 <= k.3);
        if !inside {
            kept.push(span);
        }
    }
    // Byte offsets to char offsets, in one pass over the text.
    let mut findings = Vec::with_capacity(kept.len());
    for (rule, message, s, e) in kept {
        findings.push(Finding {
            rule,
            start: char_offset(text, s),
            end: char_offset(text, e),
            message,
        });
    }
    findings
}

fn char_offset(text: &str, byte: usize) -> usize {
    text.get(..byte)
        .map_or_else(|| text.chars().count(), |t| t.chars().count())
}
