//! Secure messaging (issue 4; P2, P3, P5, S5, S7, X3, X4): threads between one patient
//! and the clinic. Patients reach their own threads; staff reach a thread only through a
//! `HealthAccess` for its patient (health data) or an administrative access (an
//! administrative thread). Subjects, texts and attachments are sealed under the patient's
//! data key. Every read and write of a thread is an audit entry in the same transaction.
//!
//! `patient` holds the patient's side, `staff` the clinic's; this module the types and
//! what both share.

mod patient;
mod staff;

pub use patient::ThreadReadAhead;
pub use staff::Recall;

use std::collections::HashMap;

use fortrolig_domain::access::Level;
use fortrolig_domain::consent::PortalService;
use fortrolig_domain::messaging::{MessageText, Subject, ThreadKind, ThreadStatus};
use fortrolig_domain::notice::NoticeKind;
use fortrolig_domain::{
    Action, MessageId, PatientId, Source, StaffId, TeamId, ThreadId, Timestamp,
};
use fortrolig_store::{AttachmentRow, MessageRow, StoreError, ThreadRow};
use fortrolig_vault::{Aad, DataKey};

use crate::clinic::{ActContext, Clinic};
use crate::error::ServiceError;
use crate::sessions::SessionSubject;
use crate::thread_keys::ThreadKeys;

/// Threads listed in a staff inbox at most.
const INBOX_LIMIT: i64 = 500;

/// Something new in a thread (after the commit), for live updates. It names no content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadEvent {
    pub thread: ThreadId,
    pub patient: PatientId,
}

/// A patient as a session presents them.
#[derive(Debug, Clone)]
pub struct PatientActor {
    pub patient: PatientId,
    pub level: Level,
    pub source: Source,
}

/// An attachment as uploaded: the bytes decide its type, never a file name.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub bytes: Vec<u8>,
}

/// A thread in a list: no subject or text, so a list is not a read of content.
#[derive(Debug, Clone)]
pub struct ThreadSummary {
    pub id: ThreadId,
    pub patient: PatientId,
    pub kind: ThreadKind,
    pub status: ThreadStatus,
    pub updated_at: Timestamp,
    /// Messages from the other side not yet read.
    pub unread: usize,
    pub assigned_staff: Option<StaffId>,
    pub assigned_team: Option<TeamId>,
}

#[derive(Debug, Clone)]
pub struct AttachmentInfo {
    pub id: Vec<u8>,
    pub media_type: String,
    pub size: i64,
}

#[derive(Debug, Clone)]
pub struct MessageView {
    pub id: MessageId,
    /// `None` for the patient.
    pub staff_author: Option<StaffId>,
    /// `None` once recalled.
    pub text: Option<MessageText>,
    pub created_at: Timestamp,
    /// When the other side first read it (read confirmation, P5).
    pub read_at: Option<Timestamp>,
    pub recalled_at: Option<Timestamp>,
    /// A staff note the patient never sees.
    pub internal: bool,
    pub journal_worthy: bool,
    /// When staff marked it transferred to the EPJ (S5); retention counts from then.
    pub transferred_at: Option<Timestamp>,
    pub attachments: Vec<AttachmentInfo>,
    /// Dated corrections of this message (P9); the text above stays as it was written.
    pub corrections: Vec<crate::requests::Correction>,
}

#[derive(Debug, Clone)]
pub struct ThreadView {
    pub id: ThreadId,
    pub patient: PatientId,
    pub kind: ThreadKind,
    pub status: ThreadStatus,
    pub subject: Subject,
    pub cannot_answer: bool,
    pub assigned_staff: Option<StaffId>,
    pub assigned_team: Option<TeamId>,
    pub messages: Vec<MessageView>,
}

impl ThreadView {
    /// The time of the newest message shown: reading marks nothing newer as read.
    pub(crate) fn seen_until(&self) -> i64 {
        self.messages
            .iter()
            .map(|m| m.created_at.as_micros())
            .max()
            .unwrap_or(i64::MIN)
    }
}

/// An attachment's bytes, opened, with the type sniffed when it was stored.
#[derive(Debug)]
pub struct OpenedAttachment {
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// What a change to a thread asks for (staff).
#[derive(Debug, Clone, Copy)]
pub struct ThreadChange {
    pub status: ThreadStatus,
    pub assigned_staff: Option<StaffId>,
    pub assigned_team: Option<TeamId>,
    pub cannot_answer: bool,
}

fn malformed(what: &str) -> ServiceError {
    StoreError::Malformed(what.to_owned()).into()
}

fn aad(org: &str, table: &str, row: &[u8], column: &str) -> Aad {
    Aad::new(org, table, row, column)
}

pub(crate) fn thread_id(bytes: &[u8]) -> Result<ThreadId, ServiceError> {
    ThreadId::from_slice(bytes).ok_or_else(|| malformed("thread id"))
}

pub(crate) fn kind_of(row: &ThreadRow) -> Result<ThreadKind, ServiceError> {
    ThreadKind::parse(&row.kind).ok_or_else(|| malformed("thread kind"))
}

fn status_of(row: &ThreadRow) -> Result<ThreadStatus, ServiceError> {
    ThreadStatus::parse(&row.status).ok_or_else(|| malformed("thread status"))
}

/// Sniffs and seals the attachments of a new message (X4: content only as ciphertext).
fn seal_attachments(
    key: &DataKey,
    org: &str,
    message: &[u8],
    attachments: &[NewAttachment],
) -> Result<Vec<AttachmentRow>, ServiceError> {
    attachments
        .iter()
        .map(|a| {
            let media = fortrolig_domain::attachment::sniff(&a.bytes)
                .map_err(|r| ServiceError::Invalid(r.norwegian().into()))?;
            let id = fortrolig_vault::random_bytes::<16>()?.to_vec();
            Ok(AttachmentRow {
                content: key.seal(&aad(org, "attachments", &id, "content"), &a.bytes)?,
                id,
                message_id: message.to_vec(),
                media_type: media.as_mime().into(),
                size: i64::try_from(a.bytes.len()).unwrap_or(i64::MAX),
            })
        })
        .collect()
}

/// A thread as a list shows it; `unread` counts the other side's unread messages per
/// thread (`ClinicStore::unread_in_recent`, `unread_of_patient`).
fn summary(row: &ThreadRow, unread: &HashMap<Vec<u8>, i64>) -> Result<ThreadSummary, ServiceError> {
    Ok(ThreadSummary {
        id: thread_id(&row.id)?,
        patient: crate::clinic::patient_id(&row.patient_id)?,
        kind: kind_of(row)?,
        status: status_of(row)?,
        updated_at: Timestamp(row.updated_at),
        unread: unread
            .get(&row.id)
            .map_or(0, |n| usize::try_from(*n).unwrap_or(0)),
        assigned_staff: row.assigned_staff.as_deref().and_then(StaffId::from_slice),
        assigned_team: row.assigned_team.as_deref().and_then(TeamId::from_slice),
    })
}

impl Clinic {
    /// Tells live listeners that a thread has something new.
    fn announce(&self, thread: ThreadId, patient: PatientId) {
        // No listener is fine: nobody is waiting.
        let _ = self.events.send(ThreadEvent { thread, patient });
    }

    /// Live updates: every thread event of this clinic; the caller filters by access.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<ThreadEvent> {
        self.events.subscribe()
    }

    async fn thread_row(&self, id: ThreadId) -> Result<ThreadRow, ServiceError> {
        self.store
            .thread(id.as_bytes())
            .await?
            .ok_or_else(|| ServiceError::Invalid("no such thread".into()))
    }

    /// Opens a thread's content with its keys.
    async fn view(
        &self,
        row: &ThreadRow,
        keys: &ThreadKeys,
        for_patient: bool,
    ) -> Result<ThreadView, ServiceError> {
        let org = self.org().as_str();
        let key = &keys.content;
        let subject_bytes = key.open(&aad(org, "threads", &row.id, "subject"), &row.subject)?;
        let subject = Subject::parse(&String::from_utf8_lossy(&subject_bytes))
            .map_err(|_| malformed("thread subject"))?;
        let attachments = self.store.attachments_of_thread(&row.id).await?;
        let patient = crate::clinic::patient_id(&row.patient_id)?;
        let corrections = self.corrections(patient, &keys.patient).await?;
        let mut messages = Vec::new();
        for m in self.store.messages_of(&row.id).await? {
            if for_patient && m.internal {
                continue;
            }
            let text = if m.recalled_at.is_some() {
                None
            } else {
                let plain = key.open(&aad(org, "messages", &m.id, "body"), &m.body)?;
                Some(
                    MessageText::parse(&String::from_utf8_lossy(&plain))
                        .map_err(|_| malformed("message text"))?,
                )
            };
            messages.push(MessageView {
                id: MessageId::from_slice(&m.id).ok_or_else(|| malformed("message id"))?,
                staff_author: (m.author_kind == "staff")
                    .then(|| StaffId::from_slice(&m.author_id))
                    .flatten(),
                text,
                created_at: Timestamp(m.created_at),
                read_at: m.read_at.map(Timestamp),
                recalled_at: m.recalled_at.map(Timestamp),
                internal: m.internal,
                journal_worthy: m.journal_worthy,
                transferred_at: m.transferred_at.map(Timestamp),
                attachments: attachments
                    .iter()
                    .filter(|a| a.1 == m.id)
                    .map(|a| AttachmentInfo {
                        id: a.0.clone(),
                        media_type: a.2.clone(),
                        size: a.3,
                    })
                    .collect(),
                corrections: corrections
                    .iter()
                    .filter(|c| c.message.is_some_and(|id| id.as_bytes() == m.id.as_slice()))
                    .cloned()
                    .collect(),
            });
        }
        Ok(ThreadView {
            id: thread_id(&row.id)?,
            patient: crate::clinic::patient_id(&row.patient_id)?,
            kind: kind_of(row)?,
            status: status_of(row)?,
            subject,
            cannot_answer: row.cannot_answer,
            assigned_staff: row.assigned_staff.as_deref().and_then(StaffId::from_slice),
            assigned_team: row.assigned_team.as_deref().and_then(TeamId::from_slice),
            messages,
        })
    }

    /// Seals and stores one message with its attachments and audit entry; announces it.
    #[allow(clippy::too_many_arguments)]
    async fn add_message(
        &self,
        ctx: &ActContext,
        row: &ThreadRow,
        author: SessionSubject,
        text: &MessageText,
        internal: bool,
        attachments: &[NewAttachment],
        status: ThreadStatus,
        new_thread: Option<ThreadRow>,
    ) -> Result<MessageId, ServiceError> {
        let patient = crate::clinic::patient_id(&row.patient_id)?;
        let thread = thread_id(&row.id)?;
        // A patient who said no to messaging gets no messages and sends none (P4, P11);
        // the clinic's internal notes are its documentation and need no consent.
        if !internal
            && let Some(stopped) = self
                .service_stopped(patient, PortalService::Messaging)
                .await?
        {
            return Err(ServiceError::Stopped(stopped));
        }
        let keys = self.thread_keys(row).await?;
        let key = &keys.content;
        let org = self.org().as_str();
        let id = MessageId::from_bytes(fortrolig_vault::random_bytes::<16>()?);
        let message = MessageRow {
            id: id.as_bytes().to_vec(),
            thread_id: row.id.clone(),
            author_kind: author.kind().into(),
            author_id: author.id_bytes().to_vec(),
            internal,
            body: key.seal(
                &aad(org, "messages", id.as_bytes(), "body"),
                text.as_str().as_bytes(),
            )?,
            journal_worthy: false,
            created_at: self.clock.now().as_micros(),
            read_at: None,
            recalled_at: None,
            transferred_at: None,
        };
        let sealed = seal_attachments(key, org, id.as_bytes(), attachments)?;
        let action = if new_thread.is_some() {
            Action::ThreadOpened
        } else {
            Action::MessageSent
        };
        // The clinic wrote to the patient: a notice that something is waiting (issue 5),
        // stored with the message or not at all. A notice that cannot be made does not
        // hold the message back.
        let notices = if matches!(author, SessionSubject::Staff(_)) && !internal {
            let kind = match kind_of(row)? {
                ThreadKind::ResultReady => NoticeKind::ResultReady,
                _ => NoticeKind::NewMessage,
            };
            self.prepare_notices(patient, &keys.patient, kind, Some(thread))
                .await
                .unwrap_or_else(|e| {
                    tracing::error!(clinic = %self.org(), error = %e, "no notice could be made for a message");
                    Vec::new()
                })
        } else {
            Vec::new()
        };
        let mut object = format!(
            "thread:{thread} message:{id}{}{}",
            if internal { " notat" } else { "" },
            if sealed.is_empty() {
                String::new()
            } else {
                format!(" vedlegg:{}", sealed.len())
            }
        );
        for n in &notices {
            object.push_str(&format!(" varsel:{}:{}", n.channel, n.status));
        }
        let queued = notices.clone();
        let from_patient = matches!(author, SessionSubject::Patient(_));
        let written = self.write(ctx, action, Some(patient), &object, move |tx| {
            Box::pin(async move {
                if let Some(new) = &new_thread {
                    tx.insert_thread(new).await?;
                }
                // The patient's message is refused in the transaction if the thread
                // was closed since it was read (the upload may have taken a while).
                if !tx
                    .insert_message(&message, &sealed, status.as_str(), from_patient)
                    .await?
                {
                    return Err(StoreError::NotOpen);
                }
                for notice in &notices {
                    tx.insert_notice(notice).await?;
                }
                Ok(())
            })
        });
        match written.await {
            Ok(()) => {}
            Err(ServiceError::Store(StoreError::NotOpen)) => {
                return Err(ServiceError::Invalid(
                    "this thread takes no more messages".into(),
                ));
            }
            Err(e) => return Err(e),
        }
        self.announce(thread, patient);
        self.notices_queued(&queued);
        Ok(id)
    }

    async fn new_thread_row(
        &self,
        patient: PatientId,
        kind: ThreadKind,
        subject: &Subject,
        started_by: &str,
    ) -> Result<ThreadRow, ServiceError> {
        let id = ThreadId::from_bytes(fortrolig_vault::random_bytes::<16>()?);
        let keys = self.new_thread_key(patient, id).await?;
        let now = self.clock.now().as_micros();
        Ok(ThreadRow {
            id: id.as_bytes().to_vec(),
            patient_id: patient.as_bytes().to_vec(),
            kind: kind.as_str().into(),
            subject: keys.content.seal(
                &aad(self.org().as_str(), "threads", id.as_bytes(), "subject"),
                subject.as_str().as_bytes(),
            )?,
            status: ThreadStatus::Open.as_str().into(),
            assigned_staff: None,
            assigned_team: None,
            cannot_answer: false,
            started_by: started_by.into(),
            created_at: now,
            updated_at: now,
            key_id: Some(keys.content.id().0.to_vec()),
        })
    }

    async fn open_attachment(
        &self,
        ctx: &ActContext,
        row: &ThreadRow,
        attachment: &[u8],
        for_patient: bool,
    ) -> Result<OpenedAttachment, ServiceError> {
        let missing = || ServiceError::Invalid("no such attachment".into());
        let a = self
            .store
            .attachment(attachment)
            .await?
            .ok_or_else(missing)?;
        let message = self
            .store
            .message(&a.message_id)
            .await?
            .ok_or_else(missing)?;
        if message.thread_id != row.id || (for_patient && message.internal) {
            return Err(missing());
        }
        let patient = crate::clinic::patient_id(&row.patient_id)?;
        let bytes = self.thread_keys(row).await?.content.open(
            &aad(self.org().as_str(), "attachments", &a.id, "content"),
            &a.content,
        )?;
        let thread = thread_id(&row.id)?;
        self.record(
            ctx,
            Action::AttachmentRead,
            Some(patient),
            &format!("thread:{thread}"),
            &ctx.reason,
        )
        .await?;
        Ok(OpenedAttachment {
            media_type: a.media_type,
            bytes,
        })
    }
}
