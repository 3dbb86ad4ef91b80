//! Secure messaging (issue 4; P2, P3, P5, S5, S7, X3, X4): threads between one patient
//! and the clinic. Patients reach their own threads; staff reach a thread only through a
//! `HealthAccess` for its patient (health data) or an administrative access (an
//! administrative thread). Subjects, texts and attachments are sealed under the patient's
//! data key. Every read and write of a thread is an audit entry in the same transaction.

use fortrolig_domain::access::{DataClass, Decision, Level, Request, Subject as AccessSubject};
use fortrolig_domain::messaging::{MessageText, Subject, ThreadKind, ThreadStatus};
use fortrolig_domain::{Action, MessageId, PatientId, Source, StaffId, ThreadId, Timestamp};
use fortrolig_store::{AttachmentRow, MessageRow, StoreError, ThreadRow};
use fortrolig_vault::{Aad, DataKey};

use crate::access::{AccessError, HealthAccess, StaffActor};
use crate::clinic::{ActContext, Clinic};
use crate::error::ServiceError;
use crate::sessions::SessionSubject;

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
    pub attachments: Vec<AttachmentInfo>,
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
    pub messages: Vec<MessageView>,
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
    pub cannot_answer: bool,
}

fn malformed(what: &str) -> ServiceError {
    StoreError::Malformed(what.to_owned()).into()
}

fn aad(org: &str, table: &str, row: &[u8], column: &str) -> Aad {
    Aad::new(org, table, row, column)
}

fn thread_id(bytes: &[u8]) -> Result<ThreadId, ServiceError> {
    ThreadId::from_slice(bytes).ok_or_else(|| malformed("thread id"))
}

fn kind_of(row: &ThreadRow) -> Result<ThreadKind, ServiceError> {
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

    /// Opens a thread's content with `key` and marks the other side's messages read.
    async fn view(
        &self,
        row: &ThreadRow,
        key: &DataKey,
        for_patient: bool,
    ) -> Result<ThreadView, ServiceError> {
        let org = self.org().as_str();
        let subject_bytes = key.open(&aad(org, "threads", &row.id, "subject"), &row.subject)?;
        let subject = Subject::parse(&String::from_utf8_lossy(&subject_bytes))
            .map_err(|_| malformed("thread subject"))?;
        let attachments = self.store.attachments_of_thread(&row.id).await?;
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
                attachments: attachments
                    .iter()
                    .filter(|a| a.1 == m.id)
                    .map(|a| AttachmentInfo {
                        id: a.0.clone(),
                        media_type: a.2.clone(),
                        size: a.3,
                    })
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
        let key = self.data_key(patient).await?;
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
        };
        let sealed = seal_attachments(&key, org, id.as_bytes(), attachments)?;
        let action = if new_thread.is_some() {
            Action::ThreadOpened
        } else {
            Action::MessageSent
        };
        let object = format!(
            "thread:{thread} message:{id}{}{}",
            if internal { " notat" } else { "" },
            if sealed.is_empty() {
                String::new()
            } else {
                format!(" vedlegg:{}", sealed.len())
            }
        );
        self.write(ctx, action, Some(patient), &object, |tx| {
            Box::pin(async move {
                if let Some(new) = &new_thread {
                    tx.insert_thread(new).await?;
                }
                tx.insert_message(&message, &sealed, status.as_str()).await
            })
        })
        .await?;
        self.announce(thread, patient);
        Ok(id)
    }

    // ---- the patient's side -------------------------------------------------------

    /// The rule for a patient and their own data of `class` (a step-up when the session's
    /// level is too low for health data).
    fn patient_may(&self, who: &PatientActor, class: DataClass) -> Result<(), AccessError> {
        let subject = AccessSubject::Patient {
            clinic: self.org().clone(),
            patient: who.patient,
            level: who.level,
        };
        let request = Request {
            clinic: self.org().clone(),
            class,
            patient: Some(who.patient),
            need: fortrolig_domain::access::Need::None,
        };
        match fortrolig_domain::access::decide(&subject, &request) {
            Decision::Allow => Ok(()),
            Decision::StepUp(level) => Err(AccessError::StepUp(level)),
            Decision::Deny(reason) => Err(AccessError::Denied(reason)),
        }
    }

    fn patient_context(&self, who: &PatientActor, reason: &str) -> ActContext {
        self.subject_context(SessionSubject::Patient(who.patient), &who.source, reason)
    }

    /// The patient's own thread, if it is theirs and their level reaches its kind.
    async fn own_thread(
        &self,
        who: &PatientActor,
        thread: ThreadId,
    ) -> Result<ThreadRow, AccessError> {
        let row = self.thread_row(thread).await?;
        if row.patient_id != who.patient.as_bytes() {
            // Not theirs: answered as if it did not exist.
            return Err(ServiceError::Invalid("no such thread".into()).into());
        }
        self.patient_may(who, kind_of(&row)?.data_class())?;
        Ok(row)
    }

    /// The patient's threads, newest activity first (no content: a list is not a read).
    pub async fn my_threads(&self, who: &PatientActor) -> Result<Vec<ThreadSummary>, AccessError> {
        self.patient_may(who, DataClass::Administrative)?;
        let mut out = Vec::new();
        for row in self
            .store
            .threads_of_patient(who.patient.as_bytes())
            .await?
        {
            out.push(self.summary(&row, true).await?);
        }
        Ok(out)
    }

    async fn summary(
        &self,
        row: &ThreadRow,
        for_patient: bool,
    ) -> Result<ThreadSummary, ServiceError> {
        let other = if for_patient { "staff" } else { "patient" };
        let unread = self
            .store
            .messages_of(&row.id)
            .await?
            .iter()
            .filter(|m| {
                m.author_kind == other
                    && m.read_at.is_none()
                    && m.recalled_at.is_none()
                    && !m.internal
            })
            .count();
        Ok(ThreadSummary {
            id: thread_id(&row.id)?,
            patient: crate::clinic::patient_id(&row.patient_id)?,
            kind: kind_of(row)?,
            status: status_of(row)?,
            updated_at: Timestamp(row.updated_at),
            unread,
            assigned_staff: row.assigned_staff.as_deref().and_then(StaffId::from_slice),
        })
    }

    /// A patient opens a thread with a first message.
    pub async fn open_thread(
        &self,
        who: &PatientActor,
        kind: ThreadKind,
        subject: &Subject,
        text: &MessageText,
        attachments: &[NewAttachment],
    ) -> Result<ThreadId, AccessError> {
        if !kind.patient_may_open() {
            return Err(ServiceError::Invalid(
                "this kind of thread is opened by the clinic".into(),
            )
            .into());
        }
        self.patient_may(who, kind.data_class())?;
        let row = self
            .new_thread_row(who.patient, kind, subject, "patient")
            .await?;
        let ctx = self.patient_context(who, "ny samtale");
        self.add_message(
            &ctx,
            &row,
            SessionSubject::Patient(who.patient),
            text,
            false,
            attachments,
            ThreadStatus::Open,
            Some(row.clone()),
        )
        .await?;
        Ok(thread_id(&row.id)?)
    }

    async fn new_thread_row(
        &self,
        patient: PatientId,
        kind: ThreadKind,
        subject: &Subject,
        started_by: &str,
    ) -> Result<ThreadRow, ServiceError> {
        let key = self.data_key(patient).await?;
        let id = ThreadId::from_bytes(fortrolig_vault::random_bytes::<16>()?);
        let now = self.clock.now().as_micros();
        Ok(ThreadRow {
            id: id.as_bytes().to_vec(),
            patient_id: patient.as_bytes().to_vec(),
            kind: kind.as_str().into(),
            subject: key.seal(
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
        })
    }

    /// The patient reads their thread; the clinic's messages count as read from now.
    pub async fn my_thread(
        &self,
        who: &PatientActor,
        thread: ThreadId,
    ) -> Result<ThreadView, AccessError> {
        let row = self.own_thread(who, thread).await?;
        let key = self.data_key(who.patient).await?;
        let view = self.view(&row, &key, true).await?;
        let ctx = self.patient_context(who, "leste samtalen");
        let now = self.clock.now().as_micros();
        let id = row.id.clone();
        let read = self
            .write(
                &ctx,
                Action::ThreadRead,
                Some(who.patient),
                &format!("thread:{thread}"),
                |tx| Box::pin(async move { tx.mark_read(&id, "staff", now).await }),
            )
            .await?;
        if read > 0 {
            self.announce(thread, who.patient);
        }
        Ok(view)
    }

    /// The patient writes in their thread (not when the clinic marked it unanswerable or
    /// closed it).
    pub async fn write_to_clinic(
        &self,
        who: &PatientActor,
        thread: ThreadId,
        text: &MessageText,
        attachments: &[NewAttachment],
    ) -> Result<MessageId, AccessError> {
        let row = self.own_thread(who, thread).await?;
        if row.cannot_answer || status_of(&row)? == ThreadStatus::Closed {
            return Err(ServiceError::Invalid("this thread takes no more messages".into()).into());
        }
        let ctx = self.patient_context(who, "melding til klinikken");
        Ok(self
            .add_message(
                &ctx,
                &row,
                SessionSubject::Patient(who.patient),
                text,
                false,
                attachments,
                ThreadStatus::Open,
                None,
            )
            .await?)
    }

    /// An attachment of the patient's own thread (not of a staff note), opened.
    pub async fn my_attachment(
        &self,
        who: &PatientActor,
        thread: ThreadId,
        attachment: &[u8],
    ) -> Result<OpenedAttachment, AccessError> {
        let row = self.own_thread(who, thread).await?;
        let ctx = self.patient_context(who, "åpnet vedlegg");
        Ok(self.open_attachment(&ctx, &row, attachment, true).await?)
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
        let key = self.data_key(patient).await?;
        let bytes = key.open(
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

    // ---- the clinic's side --------------------------------------------------------

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

    /// The threads a member of staff may open, newest activity first. Decided quietly
    /// (a list is not an attempt to read); the listing itself is one audit entry.
    pub async fn staff_inbox(&self, who: &StaffActor) -> Result<Vec<ThreadSummary>, ServiceError> {
        let mut out = Vec::new();
        for row in self.store.recent_threads(INBOX_LIMIT).await? {
            let patient = crate::clinic::patient_id(&row.patient_id)?;
            let class = kind_of(&row)?.data_class();
            if self.may_reach(who, patient, class).await? {
                out.push(self.summary(&row, false).await?);
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
        let key = self.clinic.data_key(self.patient()).await?;
        let view = self.clinic.view(&row, &key, false).await?;
        let now = self.clinic.clock.now().as_micros();
        let id = row.id.clone();
        let read = self
            .clinic
            .write(
                &self.actor,
                Action::ThreadRead,
                Some(self.patient()),
                &format!("thread:{thread}"),
                |tx| Box::pin(async move { tx.mark_read(&id, "patient", now).await }),
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

    /// Recalls a message to the patient that has not been read (S7). `Ok(false)` when it
    /// was read already: then it stays, and the attempt is still on record.
    pub async fn recall(&self, thread: ThreadId, message: MessageId) -> Result<bool, ServiceError> {
        let row = self.thread_row_for(thread).await?;
        let stored = self
            .clinic
            .store
            .message(message.as_bytes())
            .await?
            .filter(|m| m.thread_id == row.id && m.author_kind == "staff")
            .ok_or_else(|| ServiceError::Invalid("no such message".into()))?;
        let now = self.clinic.clock.now().as_micros();
        let id = stored.id.clone();
        let ctx = ActContext {
            reason: "tilbakekalt før lest".into(),
            ..self.actor.clone()
        };
        let recalled = self
            .clinic
            .write(
                &ctx,
                Action::MessageRecalled,
                Some(self.patient()),
                &format!("thread:{thread} message:{message}"),
                |tx| Box::pin(async move { tx.recall_message(&id, &[], now).await }),
            )
            .await;
        match recalled {
            Ok(true) => {
                self.clinic.announce(thread, self.patient());
                Ok(true)
            }
            Ok(false) => {
                // Already read: nothing changed, but the attempt is recorded.
                self.clinic
                    .write_outcome(
                        &ctx,
                        Action::MessageRecalled,
                        Some(self.patient()),
                        &format!("thread:{thread} message:{message} allerede-lest"),
                        fortrolig_domain::Outcome::Denied,
                        |_| Box::pin(async { Ok(()) }),
                    )
                    .await?;
                Ok(false)
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
        let assigned = change.assigned_staff.map(|s| s.as_bytes().to_vec());
        let team = row.assigned_team.clone();
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
                |tx| {
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
                |tx| Box::pin(async move { tx.set_journal_worthy(&id, worthy).await }),
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
