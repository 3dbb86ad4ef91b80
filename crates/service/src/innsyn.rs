//! Innsyn (P9): everything the clinic holds about a patient in Fortrolig, shown to the
//! patient themselves, at level high: their registered data, their threads with the
//! messages they see (with any dated corrections), the notices sent to them, their consent
//! decisions and their requests under their rights with the answers. One audit
//! entry covers the whole read; the access log with its proofs is `Clinic::patient_log`.

use fortrolig_domain::Action;
use fortrolig_domain::access::DataClass;

use crate::access::AccessError;
use crate::clinic::{Clinic, Patient};
use crate::consent::ConsentRecord;
use crate::messaging::{PatientActor, ThreadView};
use crate::notices::NoticeSummary;
use crate::requests::{Correction, RequestRecord};
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
    /// The patient's requests under their rights, newest first (P9).
    pub requests: Vec<RequestRecord>,
    /// Dated corrections of the registered data, oldest first (those of messages are
    /// with their messages).
    pub profile_corrections: Vec<Correction>,
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
        let key = self.data_key(who.patient).await?;
        let profile_corrections = self
            .corrections(who.patient, &key)
            .await?
            .into_iter()
            .filter(|c| c.message.is_none())
            .collect();
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
        if read == InnsynRead::Copy {
            // The copy answers the patient's open copy requests (P9).
            self.answer_copy_requests(who).await?;
        }
        let requests = self.requests_opened(who.patient).await?;
        Ok(Innsyn {
            patient,
            threads,
            notices,
            consents,
            requests,
            profile_corrections,
        })
    }
}
