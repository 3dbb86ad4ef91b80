//! The patient's requests under their rights (P9; GDPR art. 15–18, art. 12(3)):
//! correction (retting), deletion (sletting), restriction (begrensning) and a copy (kopi).
//!
//! Every request is answered within a month of its receipt; Fortrolig counts that month
//! as 30 days (`DEADLINE_DAYS`), which is never later than the calendar month the
//! regulation names, so a deadline shown is one the clinic can trust.
//!
//! Messages marked journal-worthy (S5) belong in the patient's journal
//! (helsepersonelloven §§ 39–40): they are under the documentation duty, and a patient
//! cannot have them corrected or deleted here. The patient can ask the clinic to correct
//! or delete the journal itself (helsepersonelloven §§ 42–43), so a refusal says so.

use crate::clock::Timestamp;

/// The month of GDPR art. 12(3), counted as 30 days from receipt.
pub const DEADLINE_DAYS: i64 = 30;

const DAY_MICROS: i64 = 86_400_000_000;

/// What the patient asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// Retting: wrong data is corrected by a dated correction; the original stays.
    Correction,
    /// Sletting: a conversation, or everything the clinic holds in Fortrolig.
    Deletion,
    /// Begrensning: the clinic restricts its processing while a question is settled.
    Restriction,
    /// Kopi: a copy of everything held (answered with the innsyn copy).
    Copy,
}

impl RequestKind {
    pub const ALL: [RequestKind; 4] = [
        RequestKind::Correction,
        RequestKind::Deletion,
        RequestKind::Restriction,
        RequestKind::Copy,
    ];

    /// The stored, stable name (also the form value).
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Correction => "retting",
            RequestKind::Deletion => "sletting",
            RequestKind::Restriction => "begrensning",
            RequestKind::Copy => "kopi",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the documentation duty can stand in the way (it cannot for a copy, and a
    /// restriction changes nothing in the data).
    pub fn changes_data(self) -> bool {
        matches!(self, RequestKind::Correction | RequestKind::Deletion)
    }
}

/// Where a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestStatus {
    /// Received and not answered: the clock runs.
    Open,
    Granted,
    Refused,
    /// Granted for part of it, refused for the rest with a reason (a deletion of
    /// everything where some conversations are under the documentation duty).
    Partly,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 4] = [
        RequestStatus::Open,
        RequestStatus::Granted,
        RequestStatus::Refused,
        RequestStatus::Partly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Open => "mottatt",
            RequestStatus::Granted => "innvilget",
            RequestStatus::Refused => "avslått",
            RequestStatus::Partly => "delvis",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn is_open(self) -> bool {
        self == RequestStatus::Open
    }
}

/// The answer's deadline for a request received at `received`.
pub fn deadline(received: Timestamp) -> Timestamp {
    Timestamp(received.0.saturating_add(DEADLINE_DAYS * DAY_MICROS))
}

/// An open request past its deadline at `now`. An answered one is never overdue.
pub fn overdue(status: RequestStatus, due: Timestamp, now: Timestamp) -> bool {
    status.is_open() && now > due
}

/// Days left until `due` at `now`, rounded up (a request received now has all 30; zero
/// or less once the deadline has passed).
pub fn days_left(due: Timestamp, now: Timestamp) -> i64 {
    (due.0 - now.0 + DAY_MICROS - 1).div_euclid(DAY_MICROS)
}

/// What a correction or deletion would touch, as far as the documentation duty goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Touched {
    /// Messages in scope that are marked journal-worthy (S5).
    pub journal_worthy: usize,
    /// Messages in scope in all.
    pub messages: usize,
}

/// Whether a request of `kind` touching `touched` must be refused because of the
/// documentation duty.
pub fn barred_by_documentation_duty(kind: RequestKind, touched: Touched) -> bool {
    kind.changes_data() && touched.journal_worthy > 0
}

/// The reason given when the documentation duty bars a correction or deletion.
pub const DOCUMENTATION_DUTY_REASON: &str = "Opplysningene er merket som journalverdige og er \
     en del av journalen din. Helsepersonell har plikt til å dokumentere helsehjelpen \
     (helsepersonelloven §§ 39–40), så de kan ikke rettes eller slettes her. Du kan be \
     klinikken rette eller slette opplysninger i journalen (helsepersonelloven §§ 42–43).";

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn kinds_and_statuses_round_trip_through_their_stored_names_p9() {
        for k in RequestKind::ALL {
            assert_eq!(RequestKind::parse(k.as_str()), Some(k));
        }
        for s in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(RequestKind::parse("noe"), None);
    }

    #[test]
    fn the_deadline_is_thirty_days_and_only_open_requests_go_overdue_p9() {
        let received = Timestamp(1_800_000_000_000_000);
        let due = deadline(received);
        assert_eq!(due.0 - received.0, 30 * DAY_MICROS);
        assert!(!overdue(RequestStatus::Open, due, due));
        assert!(overdue(RequestStatus::Open, due, Timestamp(due.0 + 1)));
        assert!(!overdue(RequestStatus::Refused, due, Timestamp(due.0 + 1)));
        assert_eq!(days_left(due, received), 30);
        assert_eq!(days_left(due, Timestamp(received.0 + 1)), 30);
        assert_eq!(days_left(due, Timestamp(due.0 + 1)), 0);
    }

    #[test]
    fn journal_worthy_data_bars_correction_and_deletion_only_p9_s5() {
        let touched = Touched {
            journal_worthy: 1,
            messages: 3,
        };
        assert!(barred_by_documentation_duty(
            RequestKind::Correction,
            touched
        ));
        assert!(barred_by_documentation_duty(RequestKind::Deletion, touched));
        assert!(!barred_by_documentation_duty(RequestKind::Copy, touched));
        assert!(!barred_by_documentation_duty(
            RequestKind::Restriction,
            touched
        ));
        let free = Touched {
            journal_worthy: 0,
            messages: 3,
        };
        assert!(!barred_by_documentation_duty(RequestKind::Deletion, free));
        assert!(DOCUMENTATION_DUTY_REASON.contains("§§ 39–40"));
        assert!(DOCUMENTATION_DUTY_REASON.contains("§§ 42–43"));
    }

    proptest! {
        #[test]
        fn a_request_is_overdue_exactly_when_open_and_past_its_deadline_p9(
            received in 0i64..4_000_000_000_000_000,
            after in -100i64..100,
        ) {
            let due = deadline(Timestamp(received));
            let now = Timestamp(due.0 + after * DAY_MICROS / 3);
            for s in RequestStatus::ALL {
                prop_assert_eq!(overdue(s, due, now), s.is_open() && now > due);
            }
            prop_assert!(due > Timestamp(received));
            prop_assert_eq!(days_left(due, now) <= 0, now >= due);
        }
    }
}
