//! The patient's requests under their rights (issue 6 item 3; P9, S5, X4): the rules are
//! `fortrolig_domain::requests`; here requests are filed, listed and answered as audited
//! writes through the group commit.
//!
//! - The patient files a request (`file_request`) and follows it (`my_requests`).
//! - Staff who may reach the patient's health data list requests by deadline
//!   (`requests_for_staff`, which decides quietly like the inbox) and answer one through
//!   `HealthAccess` (`request`, `answer_request`).
//! - A granted correction is a dated correction row beside the untouched original; a
//!   granted deletion deletes a thread (`ClinicTx::delete_thread`) or crypto-shreds the
//!   patient (`shred_patient`); a correction or deletion that touches journal-worthy
//!   messages is refused with the legal reason, whatever the member of staff chose.
//! - A copy request is answered when the patient downloads the innsyn copy
//!   (`answer_copy_requests`), or by staff pointing to it.

use fortrolig_domain::access::DataClass;
use fortrolig_domain::messaging::MessageText;
use fortrolig_domain::requests::{
    self, DOCUMENTATION_DUTY_REASON, RequestKind, RequestStatus, Touched,
};
use fortrolig_domain::{Action, MessageId, PatientId, RequestId, ThreadId, Timestamp};
use fortrolig_store::{
    CorrectionRow, MessageRow, RequestAnswer, RequestRow, StoreError, ThreadRow,
};
use fortrolig_vault::{Aad, DataKey};

use crate::access::{AccessError, HealthAccess, StaffActor};
use crate::clinic::Clinic;
use crate::error::ServiceError;
use crate::messaging::PatientActor;
use crate::sessions::SessionSubject;

/// Answered requests shown to staff besides the open ones.
const ANSWERED_SHOWN: i64 = 200;

/// One request as shown: texts only where they were opened (`None` in a staff list, or
/// once the patient is shredded).
#[derive(Debug, Clone)]
pub struct RequestRecord {
    pub id: RequestId,
    pub patient: PatientId,
    pub kind: RequestKind,
    pub thread: Option<ThreadId>,
    pub text: Option<String>,
    pub status: RequestStatus,
    pub received_at: Timestamp,
    pub due_at: Timestamp,
    pub overdue: bool,
    pub answered_at: Option<Timestamp>,
    pub answer: Option<String>,
    /// A granted restriction not lifted.
    pub restriction_in_force: bool,
}

/// A dated correction of a message (`message`) or of the registered data (`None`).
#[derive(Debug, Clone)]
pub struct Correction {
    pub message: Option<MessageId>,
    pub text: String,
    pub at: Timestamp,
}

/// A request opened for staff, with what they need to answer it.
#[derive(Debug, Clone)]
pub struct RequestDetail {
    pub record: RequestRecord,
    /// The messages of the request's thread (all of the patient's for a request about
    /// everything), for choosing what a correction corrects.
    pub messages: Vec<(MessageId, Timestamp, String, bool)>,
    /// A correction or deletion here would touch journal-worthy messages.
    pub barred: bool,
}

/// What the member of staff decided.
#[derive(Debug, Clone)]
pub enum Answer {
    /// Granted; `text` is the correction for a correction (required), a note otherwise.
    /// `message` is what a correction corrects (`None`: the registered data).
    Grant {
        text: String,
        message: Option<MessageId>,
    },
    /// Refused with a reason (required).
    Refuse { reason: String },
}

fn malformed(what: &str) -> ServiceError {
    StoreError::Malformed(what.to_owned()).into()
}

fn aad(org: &str, table: &str, row: &[u8], column: &str) -> Aad {
    Aad::new(org, table, row, column)
}

fn open_text(key: &DataKey, aad: &Aad, sealed: &[u8]) -> Result<String, ServiceError> {
    let plain = key.open(aad, sealed)?;
    String::from_utf8(plain).map_err(|_| malformed("request text is not UTF-8"))
}

/// A checked free text: the same limits as a message.
fn text_of(text: &str) -> Result<MessageText, ServiceError> {
    MessageText::parse(text.trim())
        .map_err(|_| ServiceError::Invalid("the text is empty or too long".into()))
}

impl Clinic {
    fn record_of(
        &self,
        row: &RequestRow,
        key: Option<&DataKey>,
    ) -> Result<RequestRecord, ServiceError> {
        let org = self.org().as_str();
        let kind = RequestKind::parse(&row.kind).ok_or_else(|| malformed("request kind"))?;
        let status =
            RequestStatus::parse(&row.status).ok_or_else(|| malformed("request status"))?;
        let due = Timestamp(row.due_at);
        let (text, answer) = match key {
            Some(key) => (
                Some(open_text(
                    key,
                    &aad(org, "patient_requests", &row.id, "body"),
                    &row.body,
                )?),
                row.answer
                    .as_deref()
                    .map(|a| open_text(key, &aad(org, "patient_requests", &row.id, "answer"), a))
                    .transpose()?,
            ),
            None => (None, None),
        };
        Ok(RequestRecord {
            id: RequestId::from_slice(&row.id).ok_or_else(|| malformed("request id"))?,
            patient: crate::clinic::patient_id(&row.patient_id)?,
            kind,
            thread: row.thread_id.as_deref().and_then(ThreadId::from_slice),
            text,
            status,
            received_at: Timestamp(row.received_at),
            due_at: due,
            overdue: requests::overdue(status, due, self.clock.now()),
            answered_at: row.answered_at.map(Timestamp),
            answer,
            restriction_in_force: kind == RequestKind::Restriction
                && status == RequestStatus::Granted
                && row.lifted_at.is_none(),
        })
    }

    /// The patient's data key, or `None` once they are shredded (texts then stay shut).
    async fn key_if_any(&self, patient: PatientId) -> Result<Option<DataKey>, ServiceError> {
        match self.data_key(patient).await {
            Ok(key) => Ok(Some(key)),
            Err(ServiceError::Shredded) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The patient files a request (P9). Its text may be health data, so the session must
    /// be at level high; a thread named must be the patient's own.
    pub async fn file_request(
        &self,
        who: &PatientActor,
        kind: RequestKind,
        thread: Option<ThreadId>,
        text: &MessageText,
    ) -> Result<RequestId, AccessError> {
        self.patient_may(who, DataClass::Health)?;
        if let Some(thread) = thread {
            let row = self.store.thread(thread.as_bytes()).await?;
            if row.is_none_or(|r| r.patient_id != who.patient.as_bytes()) {
                return Err(ServiceError::Invalid("no such thread".into()).into());
            }
        }
        let key = self.data_key(who.patient).await?;
        let id = RequestId::from_bytes(fortrolig_vault::random_bytes::<16>()?);
        let now = self.clock.now();
        let row = RequestRow {
            id: id.as_bytes().to_vec(),
            patient_id: who.patient.as_bytes().to_vec(),
            kind: kind.as_str().into(),
            thread_id: thread.map(|t| t.as_bytes().to_vec()),
            body: key.seal(
                &aad(
                    self.org().as_str(),
                    "patient_requests",
                    id.as_bytes(),
                    "body",
                ),
                text.as_str().as_bytes(),
            )?,
            status: RequestStatus::Open.as_str().into(),
            received_at: now.as_micros(),
            due_at: requests::deadline(now).as_micros(),
            answered_at: None,
            answered_by: None,
            answer: None,
            lifted_at: None,
        };
        let ctx = self.subject_context(
            SessionSubject::Patient(who.patient),
            &who.source,
            "rettighetsforespørsel",
        );
        let object = format!(
            "request:{id} {}{}",
            kind.as_str(),
            thread.map_or_else(String::new, |t| format!(" thread:{t}"))
        );
        self.write(
            &ctx,
            Action::RequestReceived,
            Some(who.patient),
            &object,
            move |tx| Box::pin(async move { tx.insert_request(&row).await }),
        )
        .await?;
        Ok(id)
    }

    /// The patient's own requests with their answers, newest first (health data: level
    /// high). Opening them is one audited read.
    pub async fn my_requests(&self, who: &PatientActor) -> Result<Vec<RequestRecord>, AccessError> {
        self.patient_may(who, DataClass::Health)?;
        let out = self.requests_opened(who.patient).await?;
        let ctx = self.subject_context(
            SessionSubject::Patient(who.patient),
            &who.source,
            "egne forespørsler",
        );
        self.record(
            &ctx,
            Action::PatientRead,
            Some(who.patient),
            "foresporsler",
            "egne forespørsler",
        )
        .await?;
        Ok(out)
    }

    /// A patient's requests with their texts opened (for the patient and innsyn).
    pub(crate) async fn requests_opened(
        &self,
        patient: PatientId,
    ) -> Result<Vec<RequestRecord>, ServiceError> {
        let key = self.key_if_any(patient).await?;
        self.store
            .requests_of(patient.as_bytes())
            .await?
            .iter()
            .map(|r| self.record_of(r, key.as_ref()))
            .collect()
    }

    /// A patient's corrections, opened, oldest first.
    pub(crate) async fn corrections(
        &self,
        patient: PatientId,
        key: &DataKey,
    ) -> Result<Vec<Correction>, ServiceError> {
        let org = self.org().as_str();
        self.store
            .corrections_of(patient.as_bytes())
            .await?
            .into_iter()
            .map(|c| {
                Ok(Correction {
                    message: c.message_id.as_deref().and_then(MessageId::from_slice),
                    text: open_text(key, &aad(org, "corrections", &c.id, "body"), &c.body)?,
                    at: Timestamp(c.created_at),
                })
            })
            .collect()
    }

    /// Whether a granted restriction of processing is in force for the patient.
    pub async fn restricted(&self, patient: PatientId) -> Result<bool, ServiceError> {
        Ok(self
            .store
            .requests_of(patient.as_bytes())
            .await?
            .iter()
            .any(|r| {
                r.kind == RequestKind::Restriction.as_str()
                    && r.status == RequestStatus::Granted.as_str()
                    && r.lifted_at.is_none()
            }))
    }

    /// Requests a member of staff may answer (those of patients whose health data they
    /// may reach): open ones by deadline, oldest first, then answered ones. No texts; the
    /// list is one audit entry, like the inbox.
    pub async fn requests_for_staff(
        &self,
        who: &StaffActor,
    ) -> Result<Vec<RequestRecord>, ServiceError> {
        let mut out = Vec::new();
        let reach = self.list_reach(who).await?;
        for row in self.store.requests_for_staff(ANSWERED_SHOWN).await? {
            let patient = crate::clinic::patient_id(&row.patient_id)?;
            if reach.may(patient, DataClass::Health) {
                out.push(self.record_of(&row, None)?);
            }
        }
        let ctx = self.subject_context(
            SessionSubject::Staff(who.staff),
            &who.source,
            "forespørsler",
        );
        self.record(
            &ctx,
            Action::InboxListed,
            None,
            &format!("foresporsler:{}", out.len()),
            "forespørsler",
        )
        .await?;
        Ok(out)
    }

    /// Answers the patient's open copy requests once they downloaded the copy.
    pub(crate) async fn answer_copy_requests(
        &self,
        who: &PatientActor,
    ) -> Result<usize, ServiceError> {
        let open: Vec<RequestRow> = self
            .store
            .requests_of(who.patient.as_bytes())
            .await?
            .into_iter()
            .filter(|r| r.kind == RequestKind::Copy.as_str() && r.status == "mottatt")
            .collect();
        if open.is_empty() {
            return Ok(0);
        }
        let key = self.data_key(who.patient).await?;
        let ctx = self.subject_context(
            SessionSubject::Patient(who.patient),
            &who.source,
            "kopi lastet ned",
        );
        let now = self.clock.now().as_micros();
        let mut answered = 0;
        for r in open {
            let answer = RequestAnswer {
                status: RequestStatus::Granted.as_str().into(),
                answered_at: now,
                answered_by: ctx.actor.id.clone(),
                answer: key.seal(
                    &aad(self.org().as_str(), "patient_requests", &r.id, "answer"),
                    "Du lastet ned kopien av alt klinikken har lagret om deg.".as_bytes(),
                )?,
            };
            let id = RequestId::from_slice(&r.id).ok_or_else(|| malformed("request id"))?;
            let row_id = r.id.clone();
            self.write(
                &ctx,
                Action::RequestAnswered,
                Some(who.patient),
                &format!("request:{id} kopi innvilget"),
                move |tx| {
                    Box::pin(async move { tx.answer_request(&row_id, &answer).await.map(|_| ()) })
                },
            )
            .await?;
            answered += 1;
        }
        Ok(answered)
    }
}

/// What a correction or deletion would touch.
fn touched(messages: &[MessageRow]) -> Touched {
    Touched {
        journal_worthy: messages.iter().filter(|m| m.journal_worthy).count(),
        messages: messages.len(),
    }
}

impl HealthAccess<'_> {
    async fn request_row(&self, id: RequestId) -> Result<RequestRow, ServiceError> {
        self.clinic
            .store
            .request(id.as_bytes())
            .await?
            .filter(|r| r.patient_id == self.patient().as_bytes())
            .ok_or_else(|| ServiceError::Invalid("no such request".into()))
    }

    /// The messages a request is about: its thread's, or every thread's of the patient.
    async fn scope(
        &self,
        row: &RequestRow,
    ) -> Result<Vec<(ThreadRow, Vec<MessageRow>)>, ServiceError> {
        let store = &self.clinic.store;
        let threads = match &row.thread_id {
            Some(t) => store
                .thread(t)
                .await?
                .filter(|t| t.patient_id == self.patient().as_bytes())
                .into_iter()
                .collect(),
            None => store.threads_of_patient(self.patient().as_bytes()).await?,
        };
        let mut out = Vec::new();
        for t in threads {
            let messages = store.messages_of(&t.id).await?;
            out.push((t, messages));
        }
        Ok(out)
    }

    /// One request with its texts and what answering it would touch; an audited read.
    pub async fn request(&self, id: RequestId) -> Result<RequestDetail, ServiceError> {
        let row = self.request_row(id).await?;
        let key = self.clinic.key_if_any(self.patient()).await?;
        let record = self.clinic.record_of(&row, key.as_ref())?;
        let scope = self.scope(&row).await?;
        // Barred: a deletion whose every thread holds journal-worthy messages (one with
        // some free ones is granted in part), or a correction of a thread whose every
        // message is journal-worthy. Only what may be corrected is offered.
        let barred = match record.kind {
            RequestKind::Deletion => {
                !scope.is_empty()
                    && scope.iter().all(|(_, ms)| {
                        requests::barred_by_documentation_duty(record.kind, touched(ms))
                    })
            }
            RequestKind::Correction => {
                row.thread_id.is_some()
                    && scope
                        .iter()
                        .all(|(_, ms)| ms.iter().all(|m| m.journal_worthy))
            }
            RequestKind::Restriction | RequestKind::Copy => false,
        };
        let mut messages = Vec::new();
        if key.is_some() {
            let org = self.clinic.org().as_str();
            for (thread, all) in &scope {
                let content = self.clinic.thread_keys(thread).await?.content;
                for m in all.iter().filter(|m| m.recalled_at.is_none()) {
                    let text = open_text(&content, &aad(org, "messages", &m.id, "body"), &m.body)?;
                    let mid =
                        MessageId::from_slice(&m.id).ok_or_else(|| malformed("message id"))?;
                    messages.push((mid, Timestamp(m.created_at), text, m.journal_worthy));
                }
            }
        }
        self.clinic
            .record(
                &self.actor,
                Action::PatientRead,
                Some(self.patient()),
                &format!("request:{id}"),
                &self.actor.reason,
            )
            .await?;
        Ok(RequestDetail {
            record,
            messages,
            barred,
        })
    }

    /// Answers a request and carries out what is granted, in one audited act; a whole
    /// deletion then shreds the patient. Returns the status it ended in (a grant that
    /// the documentation duty bars ends refused, with the legal reason).
    pub async fn answer_request(
        &self,
        id: RequestId,
        answer: Answer,
    ) -> Result<RequestStatus, ServiceError> {
        let row = self.request_row(id).await?;
        if row.status != RequestStatus::Open.as_str() {
            return Err(ServiceError::Invalid(
                "the request is answered already".into(),
            ));
        }
        let kind = RequestKind::parse(&row.kind).ok_or_else(|| malformed("request kind"))?;
        let patient = self.patient();
        let key = self.clinic.data_key(patient).await?;
        let org = self.clinic.org().as_str().to_owned();
        let now = self.clinic.clock.now().as_micros();
        let scope = self.scope(&row).await?;

        // What happens, decided before the write: status, answer text, and the changes.
        let mut correction: Option<CorrectionRow> = None;
        let mut delete: Vec<Vec<u8>> = Vec::new();
        let mut shred = false;
        let (status, text) = match answer {
            Answer::Refuse { reason } => (RequestStatus::Refused, text_of(&reason)?),
            Answer::Grant { text, message } => match kind {
                RequestKind::Correction => {
                    let text = text_of(&text)?;
                    let target = match message {
                        Some(m) => Some(
                            scope
                                .iter()
                                .flat_map(|(_, ms)| ms)
                                .find(|x| x.id == m.as_bytes())
                                .ok_or_else(|| ServiceError::Invalid("no such message".into()))?,
                        ),
                        None => None,
                    };
                    if target.is_some_and(|m| m.journal_worthy) {
                        (RequestStatus::Refused, text_of(DOCUMENTATION_DUTY_REASON)?)
                    } else {
                        let cid = fortrolig_vault::random_bytes::<16>()?.to_vec();
                        correction = Some(CorrectionRow {
                            body: key.seal(
                                &aad(&org, "corrections", &cid, "body"),
                                text.as_str().as_bytes(),
                            )?,
                            id: cid,
                            patient_id: patient.as_bytes().to_vec(),
                            request_id: row.id.clone(),
                            message_id: target.map(|m| m.id.clone()),
                            created_at: now,
                            created_by: self.actor.actor.id.clone(),
                        });
                        (RequestStatus::Granted, text)
                    }
                }
                RequestKind::Deletion => {
                    let (barred, free): (Vec<_>, Vec<_>) = scope
                        .iter()
                        .partition(|(_, ms)| touched(ms).journal_worthy > 0);
                    delete = free.iter().map(|(t, _)| t.id.clone()).collect();
                    let note = |s: &str| {
                        if text.trim().is_empty() {
                            text_of(s)
                        } else {
                            text_of(&format!("{s}\n{}", text.trim()))
                        }
                    };
                    if barred.is_empty() {
                        shred = row.thread_id.is_none();
                        (
                            RequestStatus::Granted,
                            note(if shred {
                                "Alt klinikken hadde lagret om deg i Fortrolig er slettet."
                            } else {
                                "Samtalen er slettet."
                            })?,
                        )
                    } else if delete.is_empty() {
                        (RequestStatus::Refused, note(DOCUMENTATION_DUTY_REASON)?)
                    } else {
                        (
                            RequestStatus::Partly,
                            note(&format!(
                                "Samtaler uten journalverdige opplysninger er slettet. \
                                 {DOCUMENTATION_DUTY_REASON}"
                            ))?,
                        )
                    }
                }
                RequestKind::Restriction | RequestKind::Copy => {
                    let default = if kind == RequestKind::Copy {
                        "Kopien finner du under «Se alt klinikken har lagret om deg», «Last ned kopi»."
                    } else {
                        "Klinikken har begrenset behandlingen av opplysningene dine."
                    };
                    let text = if text.trim().is_empty() {
                        default
                    } else {
                        text.trim()
                    };
                    (RequestStatus::Granted, text_of(text)?)
                }
            },
        };
        let stored = RequestAnswer {
            status: status.as_str().into(),
            answered_at: now,
            answered_by: self.actor.actor.id.clone(),
            answer: key.seal(
                &aad(&org, "patient_requests", &row.id, "answer"),
                text.as_str().as_bytes(),
            )?,
        };
        let mut object = format!("request:{id} {} {}", kind.as_str(), status.as_str());
        if correction.is_some() {
            object.push_str(" rettelse");
        }
        for t in &delete {
            if let Some(t) = ThreadId::from_slice(t) {
                object.push_str(&format!(" slettet-thread:{t}"));
            }
        }
        let row_id = row.id.clone();
        let deleted = delete.clone();
        // Answered meanwhile by someone else: roll back, change nothing.
        self.clinic
            .end_open(
                &self.actor,
                Action::RequestAnswered,
                Some(patient),
                &object,
                || ServiceError::Invalid("the request is answered already".into()),
                move |tx| {
                    Box::pin(async move {
                        if !tx.answer_request(&row_id, &stored).await? {
                            return Ok(false);
                        }
                        if let Some(c) = &correction {
                            tx.insert_correction(c).await?;
                        }
                        for t in &delete {
                            tx.delete_thread(t).await?;
                        }
                        Ok(true)
                    })
                },
            )
            .await?;
        // The deleted conversations' keys go once their rows have (see `thread_keys`).
        self.clinic.shred_thread_keys(&deleted).await?;
        if shred {
            // Everything: the record and the key go (X4); the request stays on record.
            self.clinic.shred_patient(&self.actor, patient).await?;
            self.clinic
                .end_all_sessions(SessionSubject::Patient(patient), "shredded")
                .await?;
        }
        Ok(status)
    }

    /// Lifts a granted restriction of processing (the question is settled).
    pub async fn lift_restriction(&self, id: RequestId) -> Result<(), ServiceError> {
        let row = self.request_row(id).await?;
        let now = self.clinic.clock.now().as_micros();
        let row_id = row.id.clone();
        self.clinic
            .end_open(
                &self.actor,
                Action::RestrictionLifted,
                Some(self.patient()),
                &format!("request:{id}"),
                || ServiceError::Invalid("no restriction in force".into()),
                move |tx| Box::pin(async move { tx.lift_restriction(&row_id, now).await }),
            )
            .await
    }
}
