//! The patient's side of messaging: their own threads, at the level their session has.

use fortrolig_domain::access::{DataClass, Decision, Request, Subject as AccessSubject};
use fortrolig_domain::messaging::{MessageText, Subject, ThreadKind, ThreadStatus};
use fortrolig_domain::{Action, MessageId, PatientId, ThreadId};
use fortrolig_store::ThreadRow;

use super::{
    NewAttachment, OpenedAttachment, PatientActor, ThreadSummary, ThreadView, kind_of, status_of,
    summary, thread_id,
};
use crate::access::AccessError;
use crate::clinic::{ActContext, Clinic};
use crate::error::ServiceError;
use crate::sessions::SessionSubject;

/// A thread read together with the session (`Clinic::session_and_thread`), for the
/// request that follows: only the session's own patient's thread is found.
#[derive(Debug)]
pub struct ThreadReadAhead {
    pub(crate) row: Option<ThreadRow>,
}

impl Clinic {
    /// The rule for a patient and their own data of `class` (a step-up when the session's
    /// level is too low for health data).
    pub(crate) fn patient_may(
        &self,
        who: &PatientActor,
        class: DataClass,
    ) -> Result<(), AccessError> {
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
        self.check_own_thread(who, row)
    }

    fn check_own_thread(
        &self,
        who: &PatientActor,
        row: ThreadRow,
    ) -> Result<ThreadRow, AccessError> {
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
        let patient = who.patient.as_bytes();
        let unread = self.store.unread_of_patient("staff", patient).await?;
        let mut out = Vec::new();
        for row in self.store.threads_of_patient(patient).await? {
            out.push(summary(&row, &unread)?);
        }
        Ok(out)
    }

    /// Innsyn (P9): every thread of the patient, newest activity first, with the messages
    /// the patient sees, without marking anything read. Not audited here: the caller
    /// (`Clinic::innsyn`) records the whole read as one entry.
    pub(crate) async fn threads_in_full(
        &self,
        patient: PatientId,
    ) -> Result<Vec<ThreadView>, ServiceError> {
        let rows = self.store.threads_of_patient(patient.as_bytes()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let keys = self.thread_keys(row).await?;
            out.push(self.view(row, &keys, true).await?);
        }
        Ok(out)
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

    /// The patient reads their thread; the clinic's messages count as read from now.
    pub async fn my_thread(
        &self,
        who: &PatientActor,
        thread: ThreadId,
    ) -> Result<ThreadView, AccessError> {
        let row = self.own_thread(who, thread).await?;
        let keys = self.thread_keys(&row).await?;
        let view = self.view(&row, &keys, true).await?;
        let ctx = self.patient_context(who, "leste samtalen");
        let now = self.clock.now().as_micros();
        let id = row.id.clone();
        let seen = view.seen_until();
        let read = self
            .write(
                &ctx,
                Action::ThreadRead,
                Some(who.patient),
                &format!("thread:{thread}"),
                move |tx| Box::pin(async move { tx.mark_read(&id, "staff", seen, now).await }),
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
        self.write_in_own_thread(who, row, text, attachments).await
    }

    /// `write_to_clinic` with the thread read together with the session.
    pub async fn write_to_clinic_read_ahead(
        &self,
        who: &PatientActor,
        thread: ThreadReadAhead,
        text: &MessageText,
        attachments: &[NewAttachment],
    ) -> Result<MessageId, AccessError> {
        let row = thread
            .row
            .ok_or_else(|| ServiceError::Invalid("no such thread".into()))?;
        let row = self.check_own_thread(who, row)?;
        self.write_in_own_thread(who, row, text, attachments).await
    }

    async fn write_in_own_thread(
        &self,
        who: &PatientActor,
        row: ThreadRow,
        text: &MessageText,
        attachments: &[NewAttachment],
    ) -> Result<MessageId, AccessError> {
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
}
