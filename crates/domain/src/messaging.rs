//! Secure messaging between one patient and the clinic (issue 4; P3, P5, S7): the kinds
//! of thread, their status, and what a subject or a message may hold. No I/O.

use std::fmt;

use crate::access::DataClass;

/// What a thread is for. The kind decides who at the clinic may read it: an
/// administrative question is administrative data (secretaries too, level substantial);
/// everything else is health data (clinicians with a work-related need, level high).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ThreadKind {
    /// A question to the office that may touch health (renewals, referrals).
    Office,
    /// E-konsultasjon: a clinical question to a clinician.
    EConsultation,
    /// Appointments, invoices, practical matters; the patient is told not to put health
    /// information here.
    Administrative,
    /// The clinic tells the patient that a result is ready (started by staff).
    ResultReady,
}

impl ThreadKind {
    pub const ALL: [ThreadKind; 4] = [
        ThreadKind::Office,
        ThreadKind::EConsultation,
        ThreadKind::Administrative,
        ThreadKind::ResultReady,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ThreadKind::Office => "kontor",
            ThreadKind::EConsultation => "e-konsultasjon",
            ThreadKind::Administrative => "administrativ",
            ThreadKind::ResultReady => "svar-klart",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn display_name(self) -> &'static str {
        match self {
            ThreadKind::Office => "Spørsmål til kontoret",
            ThreadKind::EConsultation => "E-konsultasjon",
            ThreadKind::Administrative => "Praktisk spørsmål",
            ThreadKind::ResultReady => "Svar er klart",
        }
    }

    /// The data class the access rule applies to this thread's content.
    pub fn data_class(self) -> DataClass {
        match self {
            ThreadKind::Administrative => DataClass::Administrative,
            _ => DataClass::Health,
        }
    }

    /// Kinds a patient may open; a result notice comes only from the clinic.
    pub fn patient_may_open(self) -> bool {
        self != ThreadKind::ResultReady
    }

    /// The notice shown when a thread opens (P3): what the channel is for, and what not.
    pub fn default_notice(self) -> &'static str {
        match self {
            ThreadKind::Administrative => {
                "Bruk dette til praktiske spørsmål, for eksempel om timer og betaling. \
                 Ikke skriv om helsen din her. Vi svarer vanligvis innen tre virkedager. \
                 Haster det, ring klinikken. Ved akutt sykdom, ring 113."
            }
            ThreadKind::EConsultation => {
                "E-konsultasjon er for spørsmål som ikke haster, til en behandler som kjenner deg. \
                 Svaret kan komme i løpet av tre virkedager. Ved akutt sykdom, ring 113, \
                 eller legevakten på 116 117. Meldingen kan bli ført i journalen din."
            }
            ThreadKind::Office | ThreadKind::ResultReady => {
                "Meldinger her leses av klinikkens ansatte som har behov for dem i arbeidet. \
                 Vi svarer vanligvis innen tre virkedager. Ved akutt sykdom, ring 113, \
                 eller legevakten på 116 117."
            }
        }
    }
}

/// Where a thread stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ThreadStatus {
    Open,
    WaitingForPatient,
    Answered,
    Closed,
}

impl ThreadStatus {
    pub const ALL: [ThreadStatus; 4] = [
        ThreadStatus::Open,
        ThreadStatus::WaitingForPatient,
        ThreadStatus::Answered,
        ThreadStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ThreadStatus::Open => "apen",
            ThreadStatus::WaitingForPatient => "venter-pa-pasient",
            ThreadStatus::Answered => "besvart",
            ThreadStatus::Closed => "lukket",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn display_name(self) -> &'static str {
        match self {
            ThreadStatus::Open => "Åpen",
            ThreadStatus::WaitingForPatient => "Venter på pasienten",
            ThreadStatus::Answered => "Besvart",
            ThreadStatus::Closed => "Lukket",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("the text is empty")]
    Empty,
    #[error("the text is longer than {0} characters")]
    TooLong(usize),
    #[error("the text contains control characters")]
    Control,
}

impl TextError {
    pub fn norwegian(&self) -> String {
        match self {
            TextError::Empty => "Skriv noe før du sender.".into(),
            TextError::TooLong(n) => format!("Teksten er for lang (høyst {n} tegn)."),
            TextError::Control => "Teksten inneholder tegn som ikke kan brukes.".into(),
        }
    }
}

/// Longest subject, in characters.
pub const MAX_SUBJECT: usize = 200;
/// Longest message, in characters (a long letter; anything longer belongs in a document).
pub const MAX_MESSAGE: usize = 20_000;

/// Trims, normalises line endings, and checks length and characters.
fn checked(text: &str, max: usize, multiline: bool) -> Result<String, TextError> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.trim();
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    if text.chars().count() > max {
        return Err(TextError::TooLong(max));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t')))
    {
        return Err(TextError::Control);
    }
    Ok(text.to_owned())
}

/// A thread's subject: one line.
#[derive(Clone, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    pub fn parse(text: &str) -> Result<Self, TextError> {
        checked(text, MAX_SUBJECT, false).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message's text: may span lines.
#[derive(Clone, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    pub fn parse(text: &str) -> Result<Self, TextError> {
        checked(text, MAX_MESSAGE, true).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// Content is health data: `Debug` never shows it (X6: nothing of it in logs).
impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Subject(<{} chars>)", self.0.chars().count())
    }
}

impl fmt::Debug for MessageText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageText(<{} chars>)", self.0.chars().count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn kinds_and_statuses_round_trip_and_administrative_is_not_health_p5() {
        for kind in ThreadKind::ALL {
            assert_eq!(ThreadKind::parse(kind.as_str()), Some(kind));
            assert!(!kind.default_notice().is_empty());
        }
        for status in ThreadStatus::ALL {
            assert_eq!(ThreadStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(
            ThreadKind::Administrative.data_class(),
            DataClass::Administrative
        );
        assert_eq!(ThreadKind::EConsultation.data_class(), DataClass::Health);
        assert!(!ThreadKind::ResultReady.patient_may_open());
    }

    #[test]
    fn texts_are_trimmed_checked_and_never_shown_by_debug_x6() {
        assert_eq!(
            MessageText::parse("  Hei\r\nhvordan går det?\t ").map(|t| t.as_str().to_owned()),
            Ok("Hei\nhvordan går det?".to_owned())
        );
        assert_eq!(MessageText::parse(" \n "), Err(TextError::Empty));
        assert_eq!(Subject::parse("a\nb"), Err(TextError::Control));
        assert_eq!(MessageText::parse("a\u{7}b"), Err(TextError::Control));
        assert_eq!(
            Subject::parse(&"x".repeat(MAX_SUBJECT + 1)),
            Err(TextError::TooLong(MAX_SUBJECT))
        );
        let secret = MessageText::parse("Jeg har vondt i brystet").map(|t| format!("{t:?}"));
        assert_eq!(secret.as_deref(), Ok("MessageText(<23 chars>)"));
    }

    proptest! {
        #[test]
        fn parsing_any_text_never_panics_and_keeps_limits(text in ".{0,300}") {
            if let Ok(s) = Subject::parse(&text) {
                prop_assert!(s.as_str().chars().count() <= MAX_SUBJECT);
                prop_assert!(!s.as_str().chars().any(char::is_control));
            }
            let _ = MessageText::parse(&text);
        }
    }
}
