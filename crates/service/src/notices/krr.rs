//! Where a notice goes when the contact and reservation register (KRR) is set up (N4,
//! N5). The patient is looked up when the notice is sent, not when it is made, so a
//! reservation or a new number registered in between is honoured:
//!
//! - reserved (`reservasjon = JA`), or the register says the person cannot be notified
//!   (`KAN_IKKE_VARSLES`): the notice is not sent;
//! - a KRR address for the channel updated or confirmed within 18 months: the notice goes
//!   there, noted when it differs from what the patient gave;
//! - a KRR address older than that, none, or a person the register does not hold: the
//!   address the patient gave, noted;
//! - the register or Maskinporten cannot be reached: a temporary failure, and the outbox
//!   tries again later. A notice never goes to an address KRR was not asked about.
//!
//! The notes go on the notice (its findings) and into its audit entry, so the staff
//! notice log shows a changed or stale address (N5, N6).

use std::sync::Arc;

use fortrolig_domain::notice::NoticeChannel;
use fortrolig_domain::{Email, Phone};
use fortrolig_identity::Maskinporten;
use fortrolig_notify::{KrrClient, KrrPerson, SendError};

/// The KRR address for the channel is fresh and not the one the patient gave.
pub const CHANGED: &str = "krr:endret-adresse";
/// The KRR address is older than 18 months: the patient's own was used.
pub const STALE: &str = "krr:utdatert";
/// KRR has no address for the channel (or does not hold the person).
pub const MISSING: &str = "krr:mangler";
/// The person has reserved against digital contact.
pub const RESERVED: &str = "krr:reservert";
/// The register says the person cannot be notified.
pub const CANNOT_NOTIFY: &str = "krr:kan-ikke-varsles";

/// Looking patients up in KRR: a Maskinporten client for the token and the KRR client.
#[derive(Debug, Clone)]
pub struct KrrLookup {
    maskinporten: Arc<Maskinporten>,
    krr: KrrClient,
}

impl KrrLookup {
    pub fn new(maskinporten: Maskinporten, krr: KrrClient) -> Self {
        Self {
            maskinporten: Arc::new(maskinporten),
            krr,
        }
    }

    /// One person, judged at `now_secs`. Every failure is worth another try: none may
    /// end the notice, and none may let it go without KRR's word.
    pub(crate) async fn person(
        &self,
        http: &reqwest::Client,
        person: &str,
        now_secs: i64,
    ) -> Result<Option<KrrPerson>, SendError> {
        let token = self.maskinporten.token(http, now_secs).await.map_err(|e| {
            if e.is_retryable() {
                SendError::Retry(e.to_string())
            } else {
                SendError::Config(e.to_string())
            }
        })?;
        let answer = self.krr.lookup(http, &token, person, now_secs).await;
        if matches!(answer, Err(SendError::Config(_))) {
            // KRR refused the token (revoked, or expired early): fetch a new one next time.
            self.maskinporten.forget();
        }
        answer
    }
}

/// Where one notice goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Destination {
    /// Send it to `address`, with what KRR's answer adds to the notice's notes.
    To {
        address: String,
        note: Option<&'static str>,
    },
    /// Do not send it; the reason is the note.
    Withhold(&'static str),
}

/// The address for `channel` given KRR's answer and what the patient gave.
pub(crate) fn destination(
    person: Option<&KrrPerson>,
    channel: NoticeChannel,
    given: &str,
) -> Destination {
    let own = |note| Destination::To {
        address: given.to_owned(),
        note: Some(note),
    };
    let Some(person) = person else {
        return own(MISSING);
    };
    // A reservation binds whatever else the register says.
    if person.reserved {
        return Destination::Withhold(RESERVED);
    }
    if !person.status.is_active() {
        // Deleted or never registered: the register has nothing to say about where to
        // reach the patient, so what the patient gave us stands.
        return own(MISSING);
    }
    if !person.can_notify {
        return Destination::Withhold(CANNOT_NOTIFY);
    }
    let from_krr = match channel {
        NoticeChannel::Sms => person.mobile.as_ref(),
        NoticeChannel::Email => person.email.as_ref(),
    };
    let Some(from_krr) = from_krr else {
        return own(MISSING);
    };
    if !from_krr.fresh {
        return own(STALE);
    }
    // In the forms the outbox sends to, so `99 99 99 99` and `+4799999999` are the same.
    let canonical = match channel {
        NoticeChannel::Sms => Phone::parse(&from_krr.value).map(|p| p.as_str().to_owned()),
        NoticeChannel::Email => Email::parse(&from_krr.value).map(|e| e.as_str().to_owned()),
    };
    let Ok(address) = canonical else {
        return own(MISSING);
    };
    let note = (!address.eq_ignore_ascii_case(given)).then_some(CHANGED);
    Destination::To { address, note }
}

/// The notes with `note` added once.
pub(crate) fn with_note(findings: Option<&str>, note: &str) -> String {
    match findings.filter(|f| !f.is_empty()) {
        None => note.to_owned(),
        Some(f) if f.split(',').any(|n| n == note) => f.to_owned(),
        Some(f) => format!("{f},{note}"),
    }
}

#[cfg(test)]
mod tests {
    use fortrolig_notify::{KrrAddress, KrrStatus};

    use super::*;

    fn person(reserved: bool, can_notify: bool, fresh: bool) -> KrrPerson {
        KrrPerson {
            reserved,
            can_notify,
            status: KrrStatus::Active,
            email: Some(KrrAddress {
                value: "Kari@KRR.example".into(),
                fresh,
            }),
            mobile: Some(KrrAddress {
                value: "99 99 99 99".into(),
                fresh,
            }),
        }
    }

    fn to(address: &str, note: Option<&'static str>) -> Destination {
        Destination::To {
            address: address.into(),
            note,
        }
    }

    #[test]
    fn a_reservation_or_the_registers_no_withholds_the_notice_n4() {
        let reserved = person(true, false, true);
        assert_eq!(
            destination(Some(&reserved), NoticeChannel::Sms, "+4791234567"),
            Destination::Withhold(RESERVED)
        );
        let cannot = person(false, false, true);
        assert_eq!(
            destination(Some(&cannot), NoticeChannel::Email, "kari@pasient.example"),
            Destination::Withhold(CANNOT_NOTIFY)
        );
    }

    #[test]
    fn a_fresh_krr_address_wins_and_a_change_is_noted_n4_n5() {
        let p = person(false, true, true);
        assert_eq!(
            destination(Some(&p), NoticeChannel::Sms, "+4791234567"),
            to("+4799999999", Some(CHANGED))
        );
        assert_eq!(
            destination(Some(&p), NoticeChannel::Sms, "+4799999999"),
            to("+4799999999", None),
            "the same number in another form is no change"
        );
        assert_eq!(
            destination(Some(&p), NoticeChannel::Email, "Kari@krr.example"),
            to("Kari@krr.example", None)
        );
    }

    #[test]
    fn a_stale_or_missing_krr_address_falls_back_to_the_patients_own_n5() {
        let stale = person(false, true, false);
        assert_eq!(
            destination(Some(&stale), NoticeChannel::Sms, "+4791234567"),
            to("+4791234567", Some(STALE))
        );
        let mut none = person(false, true, true);
        none.email = None;
        assert_eq!(
            destination(Some(&none), NoticeChannel::Email, "kari@pasient.example"),
            to("kari@pasient.example", Some(MISSING))
        );
        assert_eq!(
            destination(None, NoticeChannel::Sms, "+4791234567"),
            to("+4791234567", Some(MISSING))
        );
        let unregistered = KrrPerson {
            status: KrrStatus::NotRegistered,
            ..person(false, false, false)
        };
        assert_eq!(
            destination(Some(&unregistered), NoticeChannel::Sms, "+4791234567"),
            to("+4791234567", Some(MISSING))
        );
    }

    #[test]
    fn notes_are_added_once() {
        assert_eq!(with_note(None, CHANGED), CHANGED);
        assert_eq!(with_note(Some(""), CHANGED), CHANGED);
        assert_eq!(with_note(Some("link"), CHANGED), "link,krr:endret-adresse");
        assert_eq!(
            with_note(Some("link,krr:endret-adresse"), CHANGED),
            "link,krr:endret-adresse"
        );
    }
}
