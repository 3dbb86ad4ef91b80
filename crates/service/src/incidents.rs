//! The clinic's incident register (avvik; C4, S7): the rules are
//! `fortrolig_domain::incidents`; here drafts are offered, listed, assessed and followed
//! up as audited writes through the group commit.
//!
//! - A recall offers a draft in the recall's own transaction (`draft_row`), whether the
//!   message was still unread or already read: either way the clinic must decide whether
//!   it went to the wrong person. The recall's audit entry names the draft.
//! - Staff who may reach the patient's data as the incident's thread needs see it in
//!   the register (`incidents_for_staff`, which decides quietly like the inbox) and open,
//!   assess and follow it up through `HealthAccess` (`incident_access`).
//! - The description is sealed under the clinic's key for its own records (the people
//!   key), so the register stays readable after the patient is shredded.

use fortrolig_domain::access::DataClass;
use fortrolig_domain::incidents::{self, FollowUp, IncidentOrigin, IncidentStatus, Risk};
use fortrolig_domain::messaging::{MessageText, ThreadKind};
use fortrolig_domain::{Action, IncidentId, MessageId, PatientId, StaffId, ThreadId, Timestamp};
use fortrolig_store::{IncidentDecision, IncidentRow, StoreError};
use fortrolig_vault::{Aad, DataKey};

use crate::access::{AccessError, HealthAccess, StaffActor};
use crate::clinic::Clinic;
use crate::error::ServiceError;
use crate::sessions::SessionSubject;

/// Assessed incidents shown besides the drafts.
const DECIDED_SHOWN: i64 = 200;

/// One incident as shown; the description only where it was opened.
#[derive(Debug, Clone)]
pub struct IncidentRecord {
    pub id: IncidentId,
    pub origin: IncidentOrigin,
    pub status: IncidentStatus,
    pub patient: Option<PatientId>,
    /// The thread and message it is about; `None` in an opened incident once the thread
    /// is deleted.
    pub thread: Option<ThreadId>,
    pub message: Option<MessageId>,
    /// When the clinic knew: the 72-hour clock starts here.
    pub known_at: Timestamp,
    /// The latest time to report it to Datatilsynet, should the risk call for it.
    pub report_by: Timestamp,
    pub created_by: Option<StaffId>,
    pub description: Option<String>,
    pub risk: Option<Risk>,
    pub decided_at: Option<Timestamp>,
    pub decided_by: Option<StaffId>,
    pub reported_at: Option<Timestamp>,
    pub patient_told_at: Option<Timestamp>,
}

impl IncidentRecord {
    /// Follow-ups the risk calls for that are not yet on record.
    pub fn follow_ups_due(&self) -> Vec<FollowUp> {
        let Some(risk) = self
            .risk
            .filter(|_| self.status == IncidentStatus::Registered)
        else {
            return Vec::new();
        };
        FollowUp::ALL
            .into_iter()
            .filter(|f| f.needed_for(risk) && self.followed_up_at(*f).is_none())
            .collect()
    }

    pub fn followed_up_at(&self, follow_up: FollowUp) -> Option<Timestamp> {
        match follow_up {
            FollowUp::Reported => self.reported_at,
            FollowUp::PatientTold => self.patient_told_at,
        }
    }
}

/// What the member of staff decided about a draft.
#[derive(Debug, Clone)]
pub enum Assessment {
    /// On the register: what happened, and the risk to the patient.
    Register { description: String, risk: Risk },
    /// No incident, and why (a recall of a typo to the right patient).
    Discard { reason: String },
}

fn malformed(what: &str) -> ServiceError {
    StoreError::Malformed(what.to_owned()).into()
}

fn description_aad(org: &str, id: &[u8]) -> Aad {
    Aad::new(org, "incidents", id, "description")
}

fn staff_of(actor_id: &str) -> Option<StaffId> {
    actor_id
        .strip_prefix("staff:")
        .and_then(|id| StaffId::parse(id).ok())
}

/// The class of data an incident needs, from its thread's stored kind (`None` once the
/// thread is gone: then health data).
fn class_for(thread_kind: Option<&str>) -> Result<DataClass, ServiceError> {
    match thread_kind {
        Some(kind) => Ok(ThreadKind::parse(kind)
            .ok_or_else(|| malformed("thread kind"))?
            .data_class()),
        None => Ok(DataClass::Health),
    }
}

/// A draft offered by a recall (S7), for the recall's own transaction.
pub(crate) fn draft_row(
    origin: IncidentOrigin,
    patient: PatientId,
    thread: ThreadId,
    message: MessageId,
    known_at: Timestamp,
    by: &str,
) -> Result<(IncidentId, IncidentRow), ServiceError> {
    let id = IncidentId::from_bytes(fortrolig_vault::random_bytes::<16>()?);
    Ok((
        id,
        IncidentRow {
            id: id.as_bytes().to_vec(),
            origin: origin.as_str().into(),
            status: IncidentStatus::Draft.as_str().into(),
            patient_id: Some(patient.as_bytes().to_vec()),
            thread_id: Some(thread.as_bytes().to_vec()),
            message_id: Some(message.as_bytes().to_vec()),
            known_at: known_at.as_micros(),
            created_by: by.to_owned(),
            description: None,
            risk: None,
            decided_at: None,
            decided_by: None,
            reported_at: None,
            patient_told_at: None,
        },
    ))
}

impl Clinic {
    fn incident_of(
        &self,
        row: &IncidentRow,
        key: Option<&DataKey>,
    ) -> Result<IncidentRecord, ServiceError> {
        let description = match (key, &row.description) {
            (Some(key), Some(sealed)) => {
                let plain = key.open(&description_aad(self.org().as_str(), &row.id), sealed)?;
                Some(
                    String::from_utf8(plain)
                        .map_err(|_| malformed("incident description is not UTF-8"))?,
                )
            }
            _ => None,
        };
        let known_at = Timestamp(row.known_at);
        Ok(IncidentRecord {
            id: IncidentId::from_slice(&row.id).ok_or_else(|| malformed("incident id"))?,
            origin: IncidentOrigin::parse(&row.origin)
                .ok_or_else(|| malformed("incident origin"))?,
            status: IncidentStatus::parse(&row.status)
                .ok_or_else(|| malformed("incident status"))?,
            patient: row
                .patient_id
                .as_deref()
                .map(crate::clinic::patient_id)
                .transpose()?,
            thread: row.thread_id.as_deref().and_then(ThreadId::from_slice),
            message: row.message_id.as_deref().and_then(MessageId::from_slice),
            known_at,
            report_by: incidents::report_deadline(known_at),
            created_by: staff_of(&row.created_by),
            description,
            risk: row
                .risk
                .as_deref()
                .map(|r| Risk::parse(r).ok_or_else(|| malformed("incident risk")))
                .transpose()?,
            decided_at: row.decided_at.map(Timestamp),
            decided_by: row.decided_by.as_deref().and_then(staff_of),
            reported_at: row.reported_at.map(Timestamp),
            patient_told_at: row.patient_told_at.map(Timestamp),
        })
    }

    /// The class of data an incident needs: its thread's (administrative for an
    /// administrative question, so that the secretary who recalled can assess it), or
    /// health data once the thread is gone.
    async fn incident_class(&self, row: &IncidentRow) -> Result<DataClass, ServiceError> {
        let thread = match row.thread_id.as_deref() {
            Some(id) => self.store.thread(id).await?,
            None => None,
        };
        class_for(thread.as_ref().map(|t| t.kind.as_str()))
    }

    /// The access a member of staff has to an incident's patient: what the incident's
    /// class needs (`incident_class`), checked and recorded like any access.
    pub async fn incident_access(
        &self,
        who: &StaffActor,
        id: IncidentId,
        purpose: &str,
    ) -> Result<HealthAccess<'_>, AccessError> {
        let row = self
            .store
            .incident(id.as_bytes())
            .await?
            .ok_or_else(|| ServiceError::Invalid("no such incident".into()))?;
        let patient = row
            .patient_id
            .as_deref()
            .ok_or_else(|| ServiceError::Invalid("no such incident".into()))?;
        let patient = crate::clinic::patient_id(patient)?;
        match self.incident_class(&row).await? {
            DataClass::Administrative => self.administrative_access(who, patient, purpose).await,
            _ => self.health_access(who, patient, purpose).await,
        }
    }

    /// The register as a member of staff may see it: the incidents they could open
    /// (`incident_access`), drafts first. No descriptions; the list is one audit
    /// entry, like the inbox.
    pub async fn incidents_for_staff(
        &self,
        who: &StaffActor,
    ) -> Result<Vec<IncidentRecord>, ServiceError> {
        let mut out = Vec::new();
        let reach = self.list_reach(who).await?;
        let kinds = self.store.incident_thread_kinds().await?;
        for row in self.store.incidents(DECIDED_SHOWN).await? {
            let Some(patient) = row.patient_id.as_deref() else {
                continue;
            };
            let patient = crate::clinic::patient_id(patient)?;
            let kind = row.thread_id.as_ref().and_then(|t| kinds.get(t));
            let class = class_for(kind.map(String::as_str))?;
            if reach.may(patient, class) {
                out.push(self.incident_of(&row, None)?);
            }
        }
        let ctx = self.subject_context(SessionSubject::Staff(who.staff), &who.source, "avvik");
        self.record(
            &ctx,
            Action::InboxListed,
            None,
            &format!("avvik:{}", out.len()),
            "avvik",
        )
        .await?;
        Ok(out)
    }
}

impl HealthAccess<'_> {
    async fn incident_row(&self, id: IncidentId) -> Result<IncidentRow, ServiceError> {
        self.clinic
            .store
            .incident(id.as_bytes())
            .await?
            .filter(|r| r.patient_id.as_deref() == Some(self.patient().as_bytes().as_slice()))
            .ok_or_else(|| ServiceError::Invalid("no such incident".into()))
    }

    /// One of the patient's incidents with its description; an audited read.
    pub async fn incident(&self, id: IncidentId) -> Result<IncidentRecord, ServiceError> {
        let row = self.incident_row(id).await?;
        let key = self.clinic.people_key().await?;
        let mut record = self.clinic.incident_of(&row, Some(&key))?;
        // Retention or a granted deletion may have removed the thread since: then there
        // is nothing to link to (the ids stay in the row and in the audit log).
        if let Some(thread) = record.thread
            && self.clinic.store.thread(thread.as_bytes()).await?.is_none()
        {
            record.thread = None;
            record.message = None;
        }
        self.clinic
            .record(
                &self.actor,
                Action::PatientRead,
                Some(self.patient()),
                &format!("incident:{id}"),
                &self.actor.reason,
            )
            .await?;
        Ok(record)
    }

    /// Assesses a draft: registered with its risk, or discarded with the reason. The text
    /// has a message's limits; a draft assessed meanwhile is refused and stays as it is.
    pub async fn assess_incident(
        &self,
        id: IncidentId,
        assessment: Assessment,
    ) -> Result<IncidentStatus, ServiceError> {
        let row = self.incident_row(id).await?;
        let (status, text, risk) = match &assessment {
            Assessment::Register { description, risk } => {
                (IncidentStatus::Registered, description, Some(*risk))
            }
            Assessment::Discard { reason } => (IncidentStatus::Discarded, reason, None),
        };
        let text = MessageText::parse(text.trim())
            .map_err(|_| ServiceError::Invalid("the text is empty or too long".into()))?;
        let key = self.clinic.people_key().await?;
        let decision = IncidentDecision {
            status: status.as_str().into(),
            description: key.seal(
                &description_aad(self.clinic.org().as_str(), &row.id),
                text.as_str().as_bytes(),
            )?,
            risk: risk.map(|r| r.as_str().into()),
            decided_at: self.clinic.clock.now().as_micros(),
            decided_by: self.actor.actor.id.clone(),
        };
        let object = match risk {
            Some(risk) => format!("incident:{id} {} risiko:{}", status.as_str(), risk.as_str()),
            None => format!("incident:{id} {}", status.as_str()),
        };
        let decided = self
            .clinic
            .write(
                &self.actor,
                Action::IncidentDecided,
                Some(self.patient()),
                &object,
                move |tx| {
                    Box::pin(async move {
                        if tx.decide_incident(&row.id, &decision).await? {
                            Ok(())
                        } else {
                            // Assessed by someone else meanwhile: roll back, so that the
                            // log does not record an assessment that did not happen.
                            Err(StoreError::NotOpen)
                        }
                    })
                },
            )
            .await;
        match decided {
            Ok(()) => Ok(status),
            Err(ServiceError::Store(StoreError::NotOpen)) => Err(ServiceError::Invalid(
                "the incident was assessed already".into(),
            )),
            Err(e) => Err(e),
        }
    }

    /// Records a follow-up of a registered incident that its risk calls for; one not
    /// called for, or already recorded, is refused.
    pub async fn follow_up_incident(
        &self,
        id: IncidentId,
        follow_up: FollowUp,
    ) -> Result<(), ServiceError> {
        let row = self.incident_row(id).await?;
        let record = self.clinic.incident_of(&row, None)?;
        if !record.follow_ups_due().contains(&follow_up) {
            return Err(ServiceError::Invalid(
                "this follow-up is not due for the incident".into(),
            ));
        }
        let now = self.clinic.clock.now().as_micros();
        let told = follow_up == FollowUp::PatientTold;
        let done = self
            .clinic
            .write(
                &self.actor,
                Action::IncidentFollowedUp,
                Some(self.patient()),
                &format!("incident:{id} {}", follow_up.as_str()),
                move |tx| {
                    Box::pin(async move {
                        if tx.follow_up_incident(&row.id, told, now).await? {
                            Ok(())
                        } else {
                            Err(StoreError::NotOpen)
                        }
                    })
                },
            )
            .await;
        match done {
            Ok(()) => Ok(()),
            Err(ServiceError::Store(StoreError::NotOpen)) => Err(ServiceError::Invalid(
                "the follow-up was recorded already".into(),
            )),
            Err(e) => Err(e),
        }
    }
}
