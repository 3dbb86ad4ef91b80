//! Consent to the portal's services and notice channels (P4), and the patient's end of
//! their use of the portal (P11).
//!
//! Each decision is kept as a row (subject, yes or no, the version of the text shown,
//! time); the newest row per subject is in force. A subject nobody has decided is "not
//! asked": the portal asks at the first login. Documentation the clinic's health
//! personnel must keep needs no consent (VDP 2.3.1.1), so consent governs the portal's
//! services and notices, never the journal.

use crate::notice::{NoticeChannel, NoticeKind};

/// A service of the portal the patient may choose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PortalService {
    /// Messages with the clinic (dialog and e-konsultasjon).
    Messaging,
    Appointments,
    PrescriptionRenewal,
    Video,
}

impl PortalService {
    pub const ALL: [PortalService; 4] = [
        PortalService::Messaging,
        PortalService::Appointments,
        PortalService::PrescriptionRenewal,
        PortalService::Video,
    ];

    /// The stored, stable name (also the form field's name).
    pub fn as_str(self) -> &'static str {
        match self {
            PortalService::Messaging => "meldinger",
            PortalService::Appointments => "timer",
            PortalService::PrescriptionRenewal => "resept",
            PortalService::Video => "video",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The service a notice of `kind` belongs to: withdrawing it stops those notices.
    /// An activation code belongs to none (it is how the patient reaches the portal).
    pub fn of_notice(kind: NoticeKind) -> Option<Self> {
        match kind {
            NoticeKind::NewMessage | NoticeKind::ResultReady => Some(PortalService::Messaging),
            NoticeKind::AppointmentReminder | NoticeKind::AppointmentChanged => {
                Some(PortalService::Appointments)
            }
            NoticeKind::PrescriptionReady => Some(PortalService::PrescriptionRenewal),
            NoticeKind::ActivationCode => None,
        }
    }
}

/// What one consent row is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConsentSubject {
    Service(PortalService),
    Channel(NoticeChannel),
    /// The patient's use of the portal as a whole: "no" means they ended it (P11); "yes"
    /// that the clinic opened it again.
    Portal,
}

impl ConsentSubject {
    /// The subjects the consent page asks about, services first.
    pub const ASKED: [ConsentSubject; 6] = [
        ConsentSubject::Service(PortalService::Messaging),
        ConsentSubject::Service(PortalService::Appointments),
        ConsentSubject::Service(PortalService::PrescriptionRenewal),
        ConsentSubject::Service(PortalService::Video),
        ConsentSubject::Channel(NoticeChannel::Sms),
        ConsentSubject::Channel(NoticeChannel::Email),
    ];

    /// The stored name: `tjeneste:meldinger`, `varsel:sms`, `portal`.
    pub fn key(self) -> String {
        match self {
            ConsentSubject::Service(s) => format!("tjeneste:{}", s.as_str()),
            ConsentSubject::Channel(c) => format!("varsel:{}", c.as_str()),
            ConsentSubject::Portal => "portal".to_owned(),
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        if key == "portal" {
            return Some(ConsentSubject::Portal);
        }
        if let Some(s) = key.strip_prefix("tjeneste:") {
            return PortalService::parse(s).map(ConsentSubject::Service);
        }
        key.strip_prefix("varsel:")
            .and_then(NoticeChannel::parse)
            .map(ConsentSubject::Channel)
    }

    /// The form field that carries the choice.
    pub fn field(self) -> &'static str {
        match self {
            ConsentSubject::Service(s) => s.as_str(),
            ConsentSubject::Channel(c) => c.as_str(),
            ConsentSubject::Portal => "portal",
        }
    }
}

/// The decisions in force for one patient, from their history of rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Consents {
    decided: Vec<(ConsentSubject, bool)>,
}

impl Consents {
    /// From `(subject key, granted)` in the order they were made; unknown keys are
    /// skipped (a row from a newer version), the newest decision per subject wins.
    pub fn from_history<'a>(rows: impl IntoIterator<Item = (&'a str, bool)>) -> Self {
        let mut decided: Vec<(ConsentSubject, bool)> = Vec::new();
        for (key, granted) in rows {
            let Some(subject) = ConsentSubject::parse(key) else {
                continue;
            };
            match decided.iter_mut().find(|(s, _)| *s == subject) {
                Some(entry) => entry.1 = granted,
                None => decided.push((subject, granted)),
            }
        }
        Self { decided }
    }

    /// The decision in force, or `None` when the patient was never asked.
    pub fn decision(&self, subject: ConsentSubject) -> Option<bool> {
        self.decided
            .iter()
            .find(|(s, _)| *s == subject)
            .map(|(_, g)| *g)
    }

    /// Consent given and not withdrawn; never asked counts as no.
    pub fn granted(&self, subject: ConsentSubject) -> bool {
        self.decision(subject) == Some(true)
    }

    /// Whether the patient has answered the consent page (at their first login).
    pub fn answered(&self) -> bool {
        ConsentSubject::ASKED
            .into_iter()
            .any(|s| self.decision(s).is_some())
    }

    /// The patient said no to `service`, or ended their use of the portal: the service
    /// stops. (Not asked yet is not a refusal: the clinic may write to a patient who has
    /// not logged in; the portal asks before the patient uses it.)
    pub fn refuses(&self, service: PortalService) -> bool {
        self.ended() || self.decision(ConsentSubject::Service(service)) == Some(false)
    }

    /// The patient ended their use of the portal and the clinic has not opened it again.
    pub fn ended(&self) -> bool {
        self.decision(ConsentSubject::Portal) == Some(false)
    }

    /// Whether a notice of `kind` may go out on `channel`: the channel consented to, the
    /// portal in use, and the notice's service not refused.
    pub fn notice_allowed(&self, kind: NoticeKind, channel: NoticeChannel) -> bool {
        self.granted(ConsentSubject::Channel(channel))
            && !self.ended()
            && PortalService::of_notice(kind).is_none_or(|s| !self.refuses(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_round_trip_through_their_stored_names_p4() {
        for s in ConsentSubject::ASKED
            .into_iter()
            .chain([ConsentSubject::Portal])
        {
            assert_eq!(ConsentSubject::parse(&s.key()), Some(s));
        }
        assert_eq!(ConsentSubject::parse("tjeneste:ukjent"), None);
        assert_eq!(ConsentSubject::parse("varsel:brevdue"), None);
    }

    #[test]
    fn the_newest_decision_per_subject_is_in_force_and_never_asked_is_no_p4() {
        let c = Consents::from_history([
            ("tjeneste:meldinger", true),
            ("varsel:sms", true),
            ("tjeneste:meldinger", false),
            ("noe:nytt", true),
        ]);
        assert!(c.answered());
        assert_eq!(
            c.decision(ConsentSubject::Service(PortalService::Messaging)),
            Some(false)
        );
        assert!(c.refuses(PortalService::Messaging));
        assert!(!c.refuses(PortalService::Video), "not asked is not refused");
        assert!(!c.granted(ConsentSubject::Service(PortalService::Video)));
        assert!(!Consents::default().answered());
    }

    #[test]
    fn a_notice_needs_its_channel_and_its_service_and_an_open_portal_p4_p11() {
        let c = Consents::from_history([("varsel:sms", true), ("tjeneste:timer", false)]);
        assert!(c.notice_allowed(NoticeKind::NewMessage, NoticeChannel::Sms));
        assert!(!c.notice_allowed(NoticeKind::NewMessage, NoticeChannel::Email));
        assert!(!c.notice_allowed(NoticeKind::AppointmentReminder, NoticeChannel::Sms));
        assert!(c.notice_allowed(NoticeKind::ActivationCode, NoticeChannel::Sms));
        let ended = Consents::from_history([("varsel:sms", true), ("portal", false)]);
        assert!(ended.ended());
        assert!(ended.refuses(PortalService::Messaging));
        assert!(!ended.notice_allowed(NoticeKind::NewMessage, NoticeChannel::Sms));
        let reopened = Consents::from_history([("portal", false), ("portal", true)]);
        assert!(!reopened.ended());
    }
}
