//! Notices by SMS and e-mail (issue 5; N1–N7, P4, P8): what kinds there are, through
//! which channels, and the clinic's templates with their few placeholders. A notice only
//! says that something is waiting; the text is judged by the notice checker before it is
//! saved and again, filled in, before it is sent. No I/O.

use std::fmt;

/// What a notice tells the patient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NoticeKind {
    NewMessage,
    AppointmentReminder,
    AppointmentChanged,
    PrescriptionReady,
    ResultReady,
    ActivationCode,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 6] = [
        NoticeKind::NewMessage,
        NoticeKind::AppointmentReminder,
        NoticeKind::AppointmentChanged,
        NoticeKind::PrescriptionReady,
        NoticeKind::ResultReady,
        NoticeKind::ActivationCode,
    ];

    /// The stored, stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::NewMessage => "ny-melding",
            NoticeKind::AppointmentReminder => "timepaaminnelse",
            NoticeKind::AppointmentChanged => "timeendring",
            NoticeKind::PrescriptionReady => "resept-klar",
            NoticeKind::ResultReady => "svar-klart",
            NoticeKind::ActivationCode => "aktiveringskode",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The name staff see (bokmål).
    pub fn display_name(self) -> &'static str {
        match self {
            NoticeKind::NewMessage => "Ny melding",
            NoticeKind::AppointmentReminder => "Timepåminnelse",
            NoticeKind::AppointmentChanged => "Endret time",
            NoticeKind::PrescriptionReady => "Resept klar",
            NoticeKind::ResultReady => "Svar klart",
            NoticeKind::ActivationCode => "Aktiveringskode",
        }
    }

    /// Important notices (N5, P10): undeliverable or unread after a while, they become a
    /// task for staff to reach the patient another way.
    pub fn is_important(self) -> bool {
        matches!(
            self,
            NoticeKind::ResultReady | NoticeKind::AppointmentChanged
        )
    }

    /// The placeholders a template of this kind may use.
    pub fn placeholders(self) -> &'static [Placeholder] {
        use Placeholder::{ActivationCode, Date, FirstName, Sender, Time};
        match self {
            NoticeKind::NewMessage | NoticeKind::PrescriptionReady | NoticeKind::ResultReady => {
                &[FirstName, Sender]
            }
            NoticeKind::AppointmentReminder | NoticeKind::AppointmentChanged => {
                &[FirstName, Sender, Date, Time]
            }
            NoticeKind::ActivationCode => &[FirstName, Sender, ActivationCode],
        }
    }
}

impl fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a notice travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NoticeChannel {
    Sms,
    Email,
}

impl NoticeChannel {
    pub const ALL: [NoticeChannel; 2] = [NoticeChannel::Sms, NoticeChannel::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeChannel::Sms => "sms",
            NoticeChannel::Email => "epost",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    pub fn display_name(self) -> &'static str {
        match self {
            NoticeChannel::Sms => "SMS",
            NoticeChannel::Email => "E-post",
        }
    }
}

impl fmt::Display for NoticeChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a template may leave open (N1, N3): the first name only, a date and a time, the
/// clinic's neutral sender name, a one-time code. Nothing else about the patient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Placeholder {
    FirstName,
    Sender,
    Date,
    Time,
    ActivationCode,
}

impl Placeholder {
    pub const ALL: [Placeholder; 5] = [
        Placeholder::FirstName,
        Placeholder::Sender,
        Placeholder::Date,
        Placeholder::Time,
        Placeholder::ActivationCode,
    ];

    /// As written in a template, between braces.
    pub fn name(self) -> &'static str {
        match self {
            Placeholder::FirstName => "fornavn",
            Placeholder::Sender => "avsender",
            Placeholder::Date => "dato",
            Placeholder::Time => "klokkeslett",
            Placeholder::ActivationCode => "kode",
        }
    }

    /// A harmless stand-in, to judge a template before it is saved.
    pub fn sample(self) -> &'static str {
        match self {
            Placeholder::FirstName => "Kari",
            Placeholder::Sender => "Legekontoret",
            Placeholder::Date => "24.11.2026",
            Placeholder::Time => "10.30",
            Placeholder::ActivationCode => "K7QF-2MZP-9XRT",
        }
    }
}

/// Why a template is refused before the checker even looks at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the template is empty")]
    Empty,
    #[error("the template is longer than {MAX_TEMPLATE} characters")]
    TooLong,
    #[error("unknown or unclosed placeholder: {0}")]
    UnknownPlaceholder(String),
    #[error("this kind of notice has no placeholder {{{0}}}")]
    NotForThisKind(String),
    #[error("an SMS is one paragraph of plain text without control characters")]
    ControlCharacters,
}

impl TemplateError {
    /// For staff (bokmål).
    pub fn norwegian(&self) -> String {
        match self {
            TemplateError::Empty => "Malen er tom.".into(),
            TemplateError::TooLong => format!("Malen er lengre enn {MAX_TEMPLATE} tegn."),
            TemplateError::UnknownPlaceholder(p) => {
                format!("Ukjent eller uavsluttet plassholder: «{p}».")
            }
            TemplateError::NotForThisKind(p) => {
                format!("Denne typen varsel kan ikke bruke plassholderen {{{p}}}.")
            }
            TemplateError::ControlCharacters => {
                "Malen kan bare ha vanlig tekst og linjeskift.".into()
            }
        }
    }
}

/// The longest template, in characters (a few SMS segments).
pub const MAX_TEMPLATE: usize = 480;

/// A clinic's wording for one kind of notice on one channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub kind: NoticeKind,
    pub channel: NoticeChannel,
    text: String,
}

/// The values a notice is filled in with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Values {
    pub first_name: String,
    pub sender: String,
    pub date: Option<String>,
    pub time: Option<String>,
    pub activation_code: Option<String>,
}

impl Template {
    /// A template, checked for its form: known placeholders for its kind, a sane length,
    /// no control characters except line breaks (never in an SMS).
    pub fn parse(
        kind: NoticeKind,
        channel: NoticeChannel,
        text: &str,
    ) -> Result<Self, TemplateError> {
        let text = text.trim().replace("\r\n", "\n");
        if text.is_empty() {
            return Err(TemplateError::Empty);
        }
        if text.chars().count() > MAX_TEMPLATE {
            return Err(TemplateError::TooLong);
        }
        let line_breaks_allowed = channel == NoticeChannel::Email;
        if text
            .chars()
            .any(|c| c.is_control() && !(c == '\n' && line_breaks_allowed))
        {
            return Err(TemplateError::ControlCharacters);
        }
        for name in placeholders_in(&text)? {
            let known = Placeholder::ALL
                .into_iter()
                .find(|p| p.name() == name)
                .ok_or_else(|| TemplateError::UnknownPlaceholder(name.to_owned()))?;
            if !kind.placeholders().contains(&known) {
                return Err(TemplateError::NotForThisKind(name.to_owned()));
            }
        }
        Ok(Self {
            kind,
            channel,
            text,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text with every placeholder filled in; a missing value becomes empty.
    pub fn render(&self, values: &Values) -> String {
        self.fill(|p| match p {
            Placeholder::FirstName => values.first_name.clone(),
            Placeholder::Sender => values.sender.clone(),
            Placeholder::Date => values.date.clone().unwrap_or_default(),
            Placeholder::Time => values.time.clone().unwrap_or_default(),
            Placeholder::ActivationCode => values.activation_code.clone().unwrap_or_default(),
        })
    }

    /// The text with harmless stand-ins, to judge the wording itself.
    pub fn sample(&self) -> String {
        self.fill(|p| p.sample().to_owned())
    }

    fn fill(&self, value: impl Fn(Placeholder) -> String) -> String {
        let mut out = String::with_capacity(self.text.len() + 32);
        let mut rest = self.text.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.find('}') {
                Some(close) => {
                    let name = &after[..close];
                    match Placeholder::ALL.into_iter().find(|p| p.name() == name) {
                        Some(p) => out.push_str(&value(p)),
                        None => out.push_str(&rest[open..open + close + 2]),
                    }
                    rest = &after[close + 1..];
                }
                None => {
                    out.push_str(&rest[open..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// Fortrolig's own wording (bokmål), used until the clinic writes its own. Each says
    /// only that something is waiting, never what, and that the notice cannot be
    /// answered (N2). SMS carry no links (N7).
    pub fn default_for(kind: NoticeKind, channel: NoticeChannel) -> Self {
        let body = match kind {
            NoticeKind::NewMessage => {
                "Hei {fornavn}! Du har en ny melding fra {avsender}. Logg inn for å lese den."
            }
            NoticeKind::AppointmentReminder => {
                "Hei {fornavn}! Påminnelse om time hos {avsender} {dato} kl. {klokkeslett}."
            }
            NoticeKind::AppointmentChanged => {
                "Hei {fornavn}! Timen din hos {avsender} er endret til {dato} kl. {klokkeslett}. Logg inn for å se mer."
            }
            NoticeKind::PrescriptionReady => "Hei {fornavn}! Resepten din fra {avsender} er klar.",
            NoticeKind::ResultReady => {
                "Hei {fornavn}! {avsender} har sendt deg en melding. Logg inn for å lese den."
            }
            NoticeKind::ActivationCode => {
                "Hei {fornavn}! Aktiveringskoden din fra {avsender} er {kode}. Den kan brukes én gang."
            }
        };
        let text = match channel {
            NoticeChannel::Sms => format!("{body} Du kan ikke svare på denne SMS-en."),
            NoticeChannel::Email => format!("{body}\n\nDu kan ikke svare på denne e-posten."),
        };
        Self {
            kind,
            channel,
            text,
        }
    }
}

/// The names between braces, in order; an unclosed brace is an error.
fn placeholders_in(text: &str) -> Result<Vec<&str>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| TemplateError::UnknownPlaceholder(after.chars().take(20).collect()))?;
        let name = &after[..close];
        if name.contains('{') {
            return Err(TemplateError::UnknownPlaceholder(name.to_owned()));
        }
        out.push(name);
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(TemplateError::UnknownPlaceholder("}".into()));
    }
    Ok(out)
}

/// Where a notice stands (N5, N6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NoticeStatus {
    /// Stored, waiting to be sent (or sent again after a failure).
    Queued,
    /// Handed to a sender that has not answered yet (a lease: taken up again if it runs out).
    Sending,
    /// Accepted by the SMS provider or the mail server.
    Sent,
    /// Confirmed delivered to the phone (SMS delivery report).
    Delivered,
    /// Refused by the checker: never sent, shown to staff.
    Blocked,
    /// Given up after retries, or refused for good.
    Failed,
    /// Returned as undeliverable (a delivery report or a permanent SMTP refusal).
    Bounced,
    /// Not sent: no consent, no usable address, or the patient is reserved in KRR.
    Skipped,
}

impl NoticeStatus {
    pub const ALL: [NoticeStatus; 8] = [
        NoticeStatus::Queued,
        NoticeStatus::Sending,
        NoticeStatus::Sent,
        NoticeStatus::Delivered,
        NoticeStatus::Blocked,
        NoticeStatus::Failed,
        NoticeStatus::Bounced,
        NoticeStatus::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeStatus::Queued => "queued",
            NoticeStatus::Sending => "sending",
            NoticeStatus::Sent => "sent",
            NoticeStatus::Delivered => "delivered",
            NoticeStatus::Blocked => "blocked",
            NoticeStatus::Failed => "failed",
            NoticeStatus::Bounced => "bounced",
            NoticeStatus::Skipped => "skipped",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn display_name(self) -> &'static str {
        match self {
            NoticeStatus::Queued => "I kø",
            NoticeStatus::Sending => "Sendes",
            NoticeStatus::Sent => "Sendt",
            NoticeStatus::Delivered => "Levert",
            NoticeStatus::Blocked => "Stoppet av kontrollen",
            NoticeStatus::Failed => "Kunne ikke sendes",
            NoticeStatus::Bounced => "Kom i retur",
            NoticeStatus::Skipped => "Ikke sendt",
        }
    }

    /// Whether the patient was not reached (N5): the ground for a fallback task.
    pub fn is_undeliverable(self) -> bool {
        matches!(self, NoticeStatus::Failed | NoticeStatus::Bounced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_template_is_well_formed_and_says_it_cannot_be_answered_n2() {
        for kind in NoticeKind::ALL {
            for channel in NoticeChannel::ALL {
                let t = Template::default_for(kind, channel);
                let parsed = Template::parse(kind, channel, t.text());
                assert_eq!(parsed.as_ref(), Ok(&t), "{kind} {channel}");
                assert!(t.text().contains("Du kan ikke svare på denne"), "{kind}");
                assert!(!t.text().contains("http"), "no links in the defaults (N7)");
            }
        }
    }

    #[test]
    fn templates_fill_in_only_known_placeholders_n1_n3() {
        let t = Template::parse(
            NoticeKind::AppointmentReminder,
            NoticeChannel::Sms,
            "Hei {fornavn}, time {dato} kl. {klokkeslett} hos {avsender}.",
        );
        let values = Values {
            first_name: "Ola".into(),
            sender: "Legekontoret".into(),
            date: Some("01.12.2026".into()),
            time: Some("09.15".into()),
            activation_code: None,
        };
        assert_eq!(
            t.map(|t| t.render(&values)).as_deref(),
            Ok("Hei Ola, time 01.12.2026 kl. 09.15 hos Legekontoret.")
        );
        for (text, error) in [
            ("", TemplateError::Empty),
            (
                "Hei {etternavn}",
                TemplateError::UnknownPlaceholder("etternavn".into()),
            ),
            (
                "Hei {fornavn",
                TemplateError::UnknownPlaceholder("fornavn".into()),
            ),
            (
                "Hei fornavn}",
                TemplateError::UnknownPlaceholder("}".into()),
            ),
            ("Time {dato}", TemplateError::NotForThisKind("dato".into())),
            ("Linje\nto", TemplateError::ControlCharacters),
        ] {
            assert_eq!(
                Template::parse(NoticeKind::NewMessage, NoticeChannel::Sms, text),
                Err(error),
                "{text:?}"
            );
        }
        assert_eq!(
            Template::parse(NoticeKind::NewMessage, NoticeChannel::Sms, &"a".repeat(481)),
            Err(TemplateError::TooLong)
        );
        assert!(
            Template::parse(
                NoticeKind::NewMessage,
                NoticeChannel::Email,
                "Hei\n\nDu kan ikke svare"
            )
            .is_ok()
        );
    }

    #[test]
    fn stored_names_round_trip() {
        for k in NoticeKind::ALL {
            assert_eq!(NoticeKind::parse(k.as_str()), Some(k));
        }
        for c in NoticeChannel::ALL {
            assert_eq!(NoticeChannel::parse(c.as_str()), Some(c));
        }
        for s in NoticeStatus::ALL {
            assert_eq!(NoticeStatus::parse(s.as_str()), Some(s));
        }
    }
}
