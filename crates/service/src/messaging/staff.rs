//! The clinic's side of messaging: a member of staff reaches a thread only through the
//! access its kind needs (health or administrative), and lists decide quietly.

use fortrolig_domain::access::DataClass;
use fortrolig_domain::incidents::IncidentOrigin;
use fortrolig_domain::messaging::{MessageText, Subject, ThreadKind, ThreadStatus};
use fortrolig_domain::{Action, IncidentId, MessageId, StaffId, ThreadId};
use fortrolig_store::{StoreError, ThreadRow};

use super::{
    INBOX_LIMIT, NewAttachment, OpenedAttachment, ThreadChange, ThreadSummary, ThreadView, kind_of,
    malformed, status_of, summary, thread_id,
};
use crate::access::{AccessError, HealthAccess, StaffActor};
use crate::clinic::{ActContext, Clinic};
use crate::error::ServiceError;
use crate::incidents::draft_row;
use crate::sessions::SessionSubject;

/// What a recall came to (S7); either way a draft incident was offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recall {
    /// Recalled before the patient read it.
    Recalled { incident: IncidentId },
    /// The patient had read it: it stays.
    AlreadyRead { incident: IncidentId },
}

impl Clinic {
    /// The access a member of staff has to a thread's patient for the thread's kind.
    pub async fn thread_access(
        &self,
        who: &StaffActor,
        thread: ThreadId,
        purpose: &str,
    ) -> Result<HealthAccess<'_>, AccessError> {
        let row = self.thread_row(thread).await?;
        let patient = crate::clinic::patient_id(&row.patient_id)?;
        match kind_of(&row)?.data_class() {
            DataClass::Administrative => self.administrative_access(who, patient, purpose).await,
            _ => self.health_access(who, patient, purpose).await,
        }
    }

    /// Whether a member of staff could open this thread now, decided without recording
    /// anything (to filter live updates; opening it still goes through `thread_access`).
    pub async fn may_see_thread(
        &self,
        who: &StaffActor,
        thread: ThreadId,
    ) -> Result<bool, ServiceError> {
        let Some(row) = self.store.thread(thread.as_bytes()).await? else {
            return Ok(false);
        };
        let patient = crate::clinic::patient_id(&row.patient_id)?;
        self.may_reach(who, patient, kind_of(&row)?.data_class())
            .await
    }

    /// The threads a member of staff may open, newest activity first. Decided quietly
    /// (a list is not an attempt to read); the listing itself is one audit entry.
    pub async fn staff_inbox(&self, who: &StaffActor) -> Result<Vec<ThreadSummary>, ServiceError> {
        let mut out = Vec::new();
        let unread = self.store.unread_in_recent("patient", INBOX_LIMIT).await?;
        let reach = self.list_reach(who).await?;
        for row in self.store.recent_threads(INBOX_LIMIT).await? {
            let patient = crate::clinic::patient_id(&row.patient_id)?;
            if reach.may(patient, kind_of(&row)?.data_class()) {
                out.push(summary(&row, &unread)?);
            }
        }
        let ctx = ActContext {
            actor: fortrolig_domain::Actor {
                id: format!("staff:{}", who.staff),
                role: "ansatt".into(),
                clinic: self.org().clone(),
                hpr: None,
            },
            source: who.source.clone(),
            reason: "innboks".into(),
        };
        self.record(
            &ctx,
            Action::InboxListed,
            None,
            &format!("threads:{}", out.len()),
            "innboks",
        )
        .await?;
        Ok(out)
    }
}

impl HealthAccess<'_> {
    async fn thread_row_for(&self, thread: ThreadId) -> Result<ThreadRow, ServiceError> {
        let row = self.clinic.thread_row(thread).await?;
        let kind = kind_of(&row)?;
        if row.patient_id != self.patient().as_bytes() || !self.covers(kind.data_class()) {
            return Err(ServiceError::Invalid("no such thread".into()));
        }
        Ok(row)
    }

    /// Reads a thread (notes included); the patient's messages count as read from now.
    pub async fn thread(&self, thread: ThreadId) -> Result<ThreadView, ServiceError> {
        let row = self.thread_row_for(thread).await?;
        let keys = self.clinic.thread_keys(&row).await?;
        let view = self.clinic.view(&row, &keys, false).await?;
        let now = self.clinic.clock.now().as_micros();
        let id = row.id.clone();
        let seen = view.seen_until();
        let read = self
            .clinic
            .write(
                &self.actor,
                Action::ThreadRead,
                Some(self.patient()),
                &format!("thread:{thread}"),
                move |tx| Box::pin(async move { tx.mark_read(&id, "patient", seen, now).await }),
            )
            .await?;
        if read > 0 {
            self.clinic.announce(thread, self.patient());
        }
        Ok(view)
    }

    fn author(&self) -> Result<SessionSubject, ServiceError> {
        self.actor
            .actor
            .id
            .strip_prefix("staff:")
            .and_then(|id| StaffId::parse(id).ok())
            .map(SessionSubject::Staff)
            .ok_or_else(|| malformed("staff actor"))
    }

    /// Replies to the patient, or adds a note the patient never sees (`internal`).
    pub async fn reply(
        &self,
        thread: ThreadId,
        text: &MessageText,
        internal: bool,
        attachments: &[NewAttachment],
    ) -> Result<MessageId, ServiceError> {
        let row = self.thread_row_for(thread).await?;
        let status = if internal {
            status_of(&row)?
        } else {
            ThreadStatus::Answered
        };
        self.clinic
            .add_message(
                &self.actor,
                &row,
                self.author()?,
                text,
                internal,
                attachments,
                status,
                None,
            )
            .await
    }

    /// Starts a thread to this patient (S7): only after the member of staff confirmed
    /// the patient's name and date of birth, so that it goes to the right person.
    pub async fn start_thread(
        &self,
        kind: ThreadKind,
        subject: &Subject,
        text: &MessageText,
        confirmed_name: &str,
        confirmed_birth_date: &str,
    ) -> Result<ThreadId, ServiceError> {
        if !self.covers(kind.data_class()) {
            return Err(ServiceError::Invalid(
                "no access to this kind of thread".into(),
            ));
        }
        let patient = self
            .clinic
            .read_patient(&self.actor, self.patient())
            .await?;
        let same_name =
            patient.name.as_str().trim().to_lowercase() == confirmed_name.trim().to_lowercase();
        let same_birth = patient
            .person_number
            .birth_date()
            .is_some_and(|d| d == confirmed_birth_date.trim());
        if !same_name || !same_birth {
            return Err(ServiceError::Invalid(
                "the name and date of birth do not match the patient".into(),
            ));
        }
        let author = self.author()?;
        let row = self
            .clinic
            .new_thread_row(self.patient(), kind, subject, &self.actor.actor.id)
            .await?;
        self.clinic
            .add_message(
                &self.actor,
                &row,
                author,
                text,
                false,
                &[],
                ThreadStatus::WaitingForPatient,
                Some(row.clone()),
            )
            .await?;
        thread_id(&row.id)
    }

    /// Recalls a message to the patient that has not been read (S7). Either way a draft
    /// incident is offered in the same act, and the audit entry names it: a recall that
    /// came in time (granted), or one refused because the patient had read the message
    /// (denied; nothing else changes).
    pub async fn recall(
        &self,
        thread: ThreadId,
        message: MessageId,
    ) -> Result<Recall, ServiceError> {
        let row = self.thread_row_for(thread).await?;
        let stored = self
            .clinic
            .store
            .message(message.as_bytes())
            .await?
            .filter(|m| m.thread_id == row.id && m.author_kind == "staff")
            .ok_or_else(|| ServiceError::Invalid("no such message".into()))?;
        let now = self.clinic.clock.now();
        let id = stored.id.clone();
        let ctx = ActContext {
            reason: "tilbakekalt før lest".into(),
            ..self.actor.clone()
        };
        let draft = |origin| {
            draft_row(
                origin,
                self.patient(),
                thread,
                message,
                now,
                &self.actor.actor.id,
            )
        };
        let (incident, draft_in_time) = draft(IncidentOrigin::Recall)?;
        let recalled = self
            .clinic
            .write(
                &ctx,
                Action::MessageRecalled,
                Some(self.patient()),
                &format!("thread:{thread} message:{message} incident:{incident}"),
                move |tx| {
                    Box::pin(async move {
                        // Not recalled (read already): roll back, so that the log does
                        // not record, as granted, a recall that did not happen.
                        if tx.recall_message(&id, &[], now.as_micros()).await? {
                            tx.insert_incident(&draft_in_time).await
                        } else {
                            Err(StoreError::NotOpen)
                        }
                    })
                },
            )
            .await;
        match recalled {
            Ok(()) => {
                self.clinic.announce(thread, self.patient());
                Ok(Recall::Recalled { incident })
            }
            Err(ServiceError::Store(StoreError::NotOpen)) => {
                // Already read: the message stays, the attempt is recorded, and the
                // draft says it came too late.
                let (incident, too_late) = draft(IncidentOrigin::RecallTooLate)?;
                self.clinic
                    .write_outcome(
                        &ctx,
                        Action::MessageRecalled,
                        Some(self.patient()),
                        &format!(
                            "thread:{thread} message:{message} allerede-lest incident:{incident}"
                        ),
                        fortrolig_domain::Outcome::Denied,
                        move |tx| Box::pin(async move { tx.insert_incident(&too_late).await }),
                    )
                    .await?;
                Ok(Recall::AlreadyRead { incident })
            }
            Err(e) => Err(e),
        }
    }

    /// Status, assignment and the "cannot be answered" flag (P5).
    pub async fn change_thread(
        &self,
        thread: ThreadId,
        change: ThreadChange,
    ) -> Result<(), ServiceError> {
        let row = self.thread_row_for(thread).await?;
        let now = self.clinic.clock.now().as_micros();
        let id = row.id.clone();
        if let Some(team) = change.assigned_team {
            // Only a team of this clinic (an unknown id is refused, not stored).
            self.clinic.team(team).await?;
        }
        let assigned = change.assigned_staff.map(|s| s.as_bytes().to_vec());
        let team = change.assigned_team.map(|t| t.as_bytes().to_vec());
        self.clinic
            .write(
                &self.actor,
                Action::ThreadUpdated,
                Some(self.patient()),
                &format!(
                    "thread:{thread} status:{}{}",
                    change.status.as_str(),
                    if change.cannot_answer {
                        " kan-ikke-besvares"
                    } else {
                        ""
                    }
                ),
                move |tx| {
                    Box::pin(async move {
                        tx.update_thread(
                            &id,
                            change.status.as_str(),
                            assigned.as_deref(),
                            team.as_deref(),
                            change.cannot_answer,
                            now,
                        )
                        .await
                    })
                },
            )
            .await?;
        self.clinic.announce(thread, self.patient());
        Ok(())
    }

    /// Marks a message as journal-worthy (S5), to be transferred to the EPJ.
    pub async fn mark_journal_worthy(
        &self,
        thread: ThreadId,
        message: MessageId,
        worthy: bool,
    ) -> Result<(), ServiceError> {
        let row = self.thread_row_for(thread).await?;
        let stored = self
            .clinic
            .store
            .message(message.as_bytes())
            .await?
            .filter(|m| m.thread_id == row.id)
            .ok_or_else(|| ServiceError::Invalid("no such message".into()))?;
        let id = stored.id.clone();
        self.clinic
            .write(
                &self.actor,
                Action::ThreadUpdated,
                Some(self.patient()),
                &format!("thread:{thread} message:{message} journal:{worthy}"),
                move |tx| Box::pin(async move { tx.set_journal_worthy(&id, worthy).await }),
            )
            .await
    }

    /// Marks a journal-worthy message as transferred to the EPJ (S5): from then on the
    /// copy here counts down the clinic's journal retention period (X4). Until the EPJ
    /// integration exists, staff do the transfer and say so here.
    pub async fn mark_transferred(
        &self,
        thread: ThreadId,
        message: MessageId,
    ) -> Result<(), ServiceError> {
        let row = self.thread_row_for(thread).await?;
        self.clinic
            .store
            .message(message.as_bytes())
            .await?
            .filter(|m| m.thread_id == row.id && m.journal_worthy && m.transferred_at.is_none())
            .ok_or_else(|| {
                ServiceError::Invalid("no journal-worthy message waiting for transfer".into())
            })?;
        let now = self.clinic.clock.now().as_micros();
        let id = message.as_bytes().to_vec();
        // Unmarked or transferred meanwhile: nothing to record.
        self.clinic
            .end_open(
                &self.actor,
                Action::JournalTransferred,
                Some(self.patient()),
                &format!("thread:{thread} message:{message}"),
                || ServiceError::Invalid("the message was changed meanwhile".into()),
                move |tx| Box::pin(async move { tx.mark_transferred(&id, now).await }),
            )
            .await
    }

    /// An attachment in this patient's thread, opened (audited).
    pub async fn attachment(
        &self,
        thread: ThreadId,
        attachment: &[u8],
    ) -> Result<OpenedAttachment, ServiceError> {
        let row = self.thread_row_for(thread).await?;
        self.clinic
            .open_attachment(&self.actor, &row, attachment, false)
            .await
    }
}
