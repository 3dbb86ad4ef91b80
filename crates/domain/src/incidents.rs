//! The clinic's incident register (avvik; S7, C4; Normen's guide for small businesses
//! 4.5, the guide for patient communication 2.7.1): what happened, how great the risk to
//! the patient is, and what the clinic must do about it.
//!
//! - An incident starts as a **draft** (utkast). A recall offers one (S7), whether it
//!   came in time or the message was read already: it may have gone to the wrong person,
//!   or said what it should not, and the clinic must decide. The draft
//!   is then **registered** (registrert) with a description and the risk to the patient,
//!   or **discarded** (forkastet) with the reason it was no incident. Both are on record.
//! - The clock starts when the clinic knew (`known_at`), not when it decides: a breach of
//!   medium or high risk to the person is reported to Datatilsynet within 72 hours of
//!   that (`report_deadline`), and one of high risk is told to the patient too.

use crate::clock::Timestamp;

/// The 72 hours of GDPR art. 33(1), from when the clinic knew.
pub const REPORT_WITHIN_HOURS: i64 = 72;

const HOUR_MICROS: i64 = 3_600_000_000;

/// How the clinic came to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IncidentOrigin {
    /// A message to a patient was recalled before it was read (S7).
    Recall,
    /// Staff tried to recall a message the patient had read already: whatever was wrong
    /// with it has reached someone.
    RecallTooLate,
}

impl IncidentOrigin {
    pub const ALL: [IncidentOrigin; 2] = [IncidentOrigin::Recall, IncidentOrigin::RecallTooLate];

    /// The stored, stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentOrigin::Recall => "tilbakekalling",
            IncidentOrigin::RecallTooLate => "tilbakekalling-etter-lest",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// Where an incident stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IncidentStatus {
    /// Offered, not yet assessed: the clock runs.
    Draft,
    /// Assessed and on the register.
    Registered,
    /// Assessed as no incident, with the reason.
    Discarded,
}

impl IncidentStatus {
    pub const ALL: [IncidentStatus; 3] = [
        IncidentStatus::Draft,
        IncidentStatus::Registered,
        IncidentStatus::Discarded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Draft => "utkast",
            IncidentStatus::Registered => "registrert",
            IncidentStatus::Discarded => "forkastet",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The risk to the person the incident concerns (the data subject).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Risk {
    Low,
    Medium,
    High,
}

impl Risk {
    pub const ALL: [Risk; 3] = [Risk::Low, Risk::Medium, Risk::High];

    /// The stored, stable name (also the form value).
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "lav",
            Risk::Medium => "middels",
            Risk::High => "hoy",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Medium or high risk: reported to Datatilsynet within 72 hours (Normen 4.5).
    pub fn must_report(self) -> bool {
        self >= Risk::Medium
    }

    /// High risk: the patient is told as well (GDPR art. 34).
    pub fn must_tell_patient(self) -> bool {
        self == Risk::High
    }
}

/// The latest time to report an incident the clinic knew of at `known_at`.
pub fn report_deadline(known_at: Timestamp) -> Timestamp {
    Timestamp(known_at.0.saturating_add(REPORT_WITHIN_HOURS * HOUR_MICROS))
}

/// Whole hours left until `deadline` at `now`, rounded down (zero or less once passed),
/// so that the figure shown is never more than the time there is.
pub fn hours_left(deadline: Timestamp, now: Timestamp) -> i64 {
    (deadline.0 - now.0).div_euclid(HOUR_MICROS)
}

/// A follow-up the register records on a registered incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FollowUp {
    /// Reported to Datatilsynet.
    Reported,
    /// The patient was told.
    PatientTold,
}

impl FollowUp {
    pub const ALL: [FollowUp; 2] = [FollowUp::Reported, FollowUp::PatientTold];

    /// The stored, stable name (also the form value).
    pub fn as_str(self) -> &'static str {
        match self {
            FollowUp::Reported => "meldt",
            FollowUp::PatientTold => "pasient-varslet",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Whether an incident of `risk` calls for this follow-up at all.
    pub fn needed_for(self, risk: Risk) -> bool {
        match self {
            FollowUp::Reported => risk.must_report(),
            FollowUp::PatientTold => risk.must_tell_patient(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn stored_names_round_trip_c4() {
        for o in IncidentOrigin::ALL {
            assert_eq!(IncidentOrigin::parse(o.as_str()), Some(o));
        }
        for s in IncidentStatus::ALL {
            assert_eq!(IncidentStatus::parse(s.as_str()), Some(s));
        }
        for r in Risk::ALL {
            assert_eq!(Risk::parse(r.as_str()), Some(r));
        }
        for f in FollowUp::ALL {
            assert_eq!(FollowUp::parse(f.as_str()), Some(f));
        }
        assert_eq!(Risk::parse("høy"), None);
    }

    #[test]
    fn medium_and_high_risk_are_reported_and_only_high_is_told_to_the_patient_c4_x8() {
        assert!(!Risk::Low.must_report() && !Risk::Low.must_tell_patient());
        assert!(Risk::Medium.must_report() && !Risk::Medium.must_tell_patient());
        assert!(Risk::High.must_report() && Risk::High.must_tell_patient());
        assert!(!FollowUp::Reported.needed_for(Risk::Low));
        assert!(FollowUp::Reported.needed_for(Risk::Medium));
        assert!(!FollowUp::PatientTold.needed_for(Risk::Medium));
        assert!(FollowUp::PatientTold.needed_for(Risk::High));
    }

    #[test]
    fn the_clock_is_72_hours_from_when_the_clinic_knew_c4_x8() {
        let known = Timestamp(1_800_000_000_000_000);
        let due = report_deadline(known);
        assert_eq!(due.0 - known.0, 72 * HOUR_MICROS);
        assert_eq!(hours_left(due, known), 72);
        assert_eq!(hours_left(due, Timestamp(known.0 + 1)), 71);
        assert_eq!(hours_left(due, due), 0);
        assert!(hours_left(due, Timestamp(due.0 + 1)) < 0);
    }

    proptest! {
        #[test]
        fn the_hours_shown_never_exceed_the_time_left_c4(
            known in 0i64..4_000_000_000_000_000,
            elapsed in -1_000_000_000_000i64..1_000_000_000_000,
        ) {
            let due = report_deadline(Timestamp(known));
            let now = Timestamp(known + elapsed);
            let left = hours_left(due, now);
            prop_assert!(left * HOUR_MICROS <= due.0 - now.0);
            prop_assert!((left + 1) * HOUR_MICROS > due.0 - now.0);
        }
    }
}
