//! Innsyn (P9): everything the clinic holds about a patient in Fortrolig, shown to the
//! patient themselves, at level high: their registered data, their threads with the
//! messages they see, the notices sent to them and their consent decisions. One audit
//! entry covers the whole read; the access log with its proofs is `Clinic::patient_log`.

use fortrolig_domain::Action;
use fortrolig_domain::access::DataClass;

use crate::access::AccessError;
use crate::clinic::{Clinic, Patient};
use crate::consent::ConsentRecord;
use crate::messaging::{PatientActor, ThreadView};
use crate::notices::NoticeSummary;
use crate::sessions::SessionSubject;

/// Why the patient reads everything: to see it, or to take a copy (an export).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InnsynRead {
    /// The page `/k/{clinic}/innsyn`.
    Page,
    /// The machine-readable copy: audited as an export (`innsyn:kopi`).
    Copy,
}

impl InnsynRead {
    fn object(self) -> &'static str {
        match self {
            InnsynRead::Page => "innsyn:alt",
            InnsynRead::Copy => "innsyn:kopi",
        }
    }

    fn reason(self) -> &'static str {
        match self {
            InnsynRead::Page => "innsyn i alt",
            InnsynRead::Copy => "innsyn: eksport av kopi",
        }
    }
}

/// Everything the clinic holds about one patient in Fortrolig.
#[derive(Debug, Clone)]
pub struct Innsyn {
    pub patient: Patient,
    /// Newest activity first.
    pub threads: Vec<ThreadView>,
    /// Newest first.
    pub notices: Vec<NoticeSummary>,
    /// Oldest first.
    pub consents: Vec<ConsentRecord>,
}

impl Clinic {
    /// The patient reads everything held about them (P9). Health data: a session below
    /// level high is sent to step up. Nothing is marked read; the read is one audit entry,
    /// written before anything is returned.
    pub async fn innsyn(
        &self,
        who: &PatientActor,
        read: InnsynRead,
    ) -> Result<Innsyn, AccessError> {
        self.patient_may(who, DataClass::Health)?;
        let patient = self.patient_record(who.patient).await?;
        let threads = self.threads_in_full(who.patient).await?;
        let notices = self.notices_of(who.patient).await?;
        let consents = self.consent_history(who.patient).await?;
        let ctx = self.subject_context(
            SessionSubject::Patient(who.patient),
            &who.source,
            read.reason(),
        );
        let action = match read {
            InnsynRead::Page => Action::PatientRead,
            InnsynRead::Copy => Action::PatientExported,
        };
        self.record(
            &ctx,
            action,
            Some(who.patient),
            read.object(),
            read.reason(),
        )
        .await?;
        Ok(Innsyn {
            patient,
            threads,
            notices,
            consents,
        })
    }
}
