//! Sending what the outbox holds (N5, N6). A due notice is first claimed with a lease
//! (so a notice is handed to one sender at a time, and one whose sender died is taken up
//! again when the lease runs out), then handed to its channel with its reference, then
//! its outcome is written with an audit entry. A temporary failure puts it back in the
//! queue with a growing delay; after the last try, or a final refusal, it has failed or
//! bounced, and an important one becomes a task for staff (P10).
//!
//! Exactly once: a notice is marked sent in the same transaction as its audit entry, and
//! only a notice under lease can be. The one window left is a stop between the
//! provider's acceptance and that commit: the notice is then sent again after the lease,
//! under the same reference (LINK's `refId`, Sveve's `ref`, the e-mail's Message-ID), by
//! which the provider and the receiving side can tell it is the same one.

use fortrolig_domain::notice::{NoticeChannel, NoticeKind, NoticeStatus};
use fortrolig_domain::{Action, PatientId, ThreadId, Timestamp};
use fortrolig_notify::{DeliveryReport, Email, Mailer, SendError, Sms, SmsProvider};
use fortrolig_store::{NoticeRow, TaskRow};

use super::krr::{self, Destination, KrrLookup};
use super::{notice_aad, notice_object, reference};
use crate::Fortrolig;
use crate::clinic::{ActContext, Clinic};
use crate::error::ServiceError;

/// How long a sender holds a notice before another may take it up.
const LEASE_MICROS: i64 = 60 * 1_000_000;
/// Tries before a notice has failed: most of a day, with the delays below.
const MAX_ATTEMPTS: i64 = 16;
/// An important notice not read within this long becomes a task (N5).
pub const UNREAD_AFTER_MICROS: i64 = 48 * 3600 * 1_000_000;
/// Notices handed out per clinic per round.
const BATCH: i64 = 50;

/// The channels of this installation.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub sms: Option<SmsProvider>,
    pub mail: Option<Mailer>,
    /// For the SMS provider's, Maskinporten's and KRR's HTTP APIs (with timeouts).
    pub http: reqwest::Client,
    /// The contact and reservation register, when set up: then every notice's address
    /// is looked up when it is sent (N4).
    pub krr: Option<KrrLookup>,
}

/// How a try went, short of an error.
enum Handed {
    /// The channel took it, under this provider id.
    Sent(String),
    /// KRR says not to send it (N4).
    Withheld,
}

/// One try: how it went, and what KRR's answer adds to the notice's notes (N5).
struct Attempt {
    note: Option<&'static str>,
    result: Result<Handed, SendError>,
}

/// The delay before try `attempt + 1`: 5 s, doubling, at most 4 hours.
fn backoff_micros(attempt: i64) -> i64 {
    let exp = attempt.clamp(1, 20) - 1;
    (5_000_000_i64 << exp).min(4 * 3600 * 1_000_000)
}

/// A task for staff about this notice's patient (N5, P10).
fn task_row(row: &NoticeRow, kind: &str, now: i64) -> Result<TaskRow, ServiceError> {
    Ok(TaskRow {
        id: fortrolig_vault::random_bytes::<16>()?.to_vec(),
        kind: kind.to_owned(),
        patient_id: row.patient_id.clone(),
        notice_id: Some(row.id.clone()),
        thread_id: row.thread_id.clone(),
        created_at: now,
        done_at: None,
        done_by: None,
    })
}

fn system(clinic: &Clinic, reason: &str) -> ActContext {
    ActContext::system("varsler", clinic.org()).with_reason(reason)
}

impl Fortrolig {
    /// One round over every clinic: sends what is due, makes tasks of what was not
    /// delivered or not read. Returns when the next notice is due, if any.
    pub async fn dispatch_notices(
        &self,
        out: &Outbound,
    ) -> Result<Option<Timestamp>, ServiceError> {
        let mut next: Option<i64> = None;
        for entry in self.clinics().await? {
            let clinic = self.clinic(&entry.org_number).await?;
            match clinic.dispatch_due(out).await {
                Ok(Some(at)) => next = Some(next.map_or(at, |n| n.min(at))),
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(clinic = %entry.org_number, error = %e, "notices could not be sent")
                }
            }
            if let Err(e) = clinic.follow_up_unread().await {
                tracing::error!(clinic = %entry.org_number, error = %e, "unread notices could not be followed up");
            }
        }
        Ok(next.map(Timestamp))
    }

    /// Sends notices until `stop` says so: at once when woken by a new notice, else when
    /// the next is due, and at least every 30 seconds.
    pub async fn run_notices(&self, out: Outbound, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            let next = match self.dispatch_notices(&out).await {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!(error = %e, "notice round failed");
                    None
                }
            };
            let wait = next
                .map(|at| (at.0 - self.now().0).clamp(0, 30_000_000))
                .unwrap_or(30_000_000);
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_micros(wait.unsigned_abs())) => {}
                _ = self.notice_wake().notified() => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
        }
    }
}

impl Fortrolig {
    /// A delivery report LINK posted (JSON): recorded on the notice its `refId` names.
    /// False when it names no notice here or changes nothing (still on its way, or the
    /// notice already had its outcome).
    pub async fn link_delivery_report(&self, body: &[u8]) -> Result<bool, ServiceError> {
        let report = DeliveryReport::from_link_json(body)
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let Some((org, id)) = super::parse_reference(report.reference()) else {
            return Ok(false);
        };
        if self.stores().clinic(&org).await?.is_none() {
            return Ok(false);
        }
        self.clinic(&org).await?.delivery_report(&report, &id).await
    }
}

impl Clinic {
    /// Sends this clinic's due notices; returns when the next one is due.
    pub async fn dispatch_due(&self, out: &Outbound) -> Result<Option<i64>, ServiceError> {
        let now = self.clock.now().as_micros();
        for row in self.store.due_notices(now, BATCH).await? {
            if !self
                .store
                .claim_notice(&row.id, now, now + LEASE_MICROS)
                .await?
            {
                continue;
            }
            let attempt = row.attempts + 1;
            let tried = self.send(&row, out).await;
            self.record_attempt(&row, attempt, tried).await?;
        }
        Ok(self.store.next_notice_due().await?)
    }

    async fn send(&self, row: &NoticeRow, out: &Outbound) -> Attempt {
        let mut note = None;
        let result = self.try_send(row, out, &mut note).await;
        Attempt { note, result }
    }

    /// Opens the notice, finds where it goes and hands it to its channel. `note` gets
    /// KRR's remark as soon as there is one, so it is kept even when the channel fails.
    async fn try_send(
        &self,
        row: &NoticeRow,
        out: &Outbound,
        note: &mut Option<&'static str>,
    ) -> Result<Handed, SendError> {
        let patient = PatientId::from_slice(&row.patient_id)
            .ok_or_else(|| SendError::Permanent("a notice without a patient".into()))?;
        // A shredded patient's notices went with them; a key that is gone means so.
        let key = self
            .data_key(patient)
            .await
            .map_err(|e| SendError::Permanent(format!("the patient's key: {e}")))?;
        let org = self.org().as_str();
        let open = |column: &str, sealed: Option<&Vec<u8>>| -> Result<String, SendError> {
            let sealed = sealed.ok_or_else(|| SendError::Permanent(format!("no {column}")))?;
            let bytes = key
                .open(&notice_aad(org, &row.id, column), sealed)
                .map_err(|e| SendError::Permanent(format!("the {column} cannot be opened: {e}")))?;
            String::from_utf8(bytes)
                .map_err(|_| SendError::Permanent(format!("the {column} is not text")))
        };
        let channel = NoticeChannel::parse(&row.channel)
            .ok_or_else(|| SendError::Permanent(format!("unknown channel {}", row.channel)))?;
        // The patient may have said no since the notice was made: a "no" skips what is
        // queued at once, but a notice that was being tried then comes back queued.
        let kind = NoticeKind::parse(&row.kind)
            .ok_or_else(|| SendError::Permanent(format!("unknown kind {}", row.kind)))?;
        if kind != NoticeKind::ActivationCode
            && !self
                .consents(patient)
                .await
                .map_err(|e| SendError::Retry(e.to_string()))?
                .notice_allowed(kind, channel)
        {
            *note = Some(super::skip_reason::CONSENT_WITHDRAWN);
            return Ok(Handed::Withheld);
        }
        let given = open("address", row.address.as_ref())?;
        let address = match self.destination(patient, channel, given, out).await? {
            Destination::To { address, note: n } => {
                *note = n;
                address
            }
            Destination::Withhold(reason) => {
                *note = Some(reason);
                return Ok(Handed::Withheld);
            }
        };
        let text = open("body", row.body.as_ref())?;
        let sender = self
            .notice_sender()
            .await
            .map_err(|e| SendError::Retry(e.to_string()))?
            .ok_or_else(|| SendError::Config("no sender name".into()))?;
        let reference = reference(org, &row.id);
        let provider_id = match channel {
            NoticeChannel::Sms => {
                let provider = out
                    .sms
                    .as_ref()
                    .ok_or_else(|| SendError::Config("no SMS provider is configured".into()))?;
                let sender = fortrolig_notify::sender_name(&sender)?;
                provider
                    .send(
                        &out.http,
                        &Sms {
                            sender: &sender,
                            to: &address,
                            text: &text,
                            reference: &reference,
                        },
                    )
                    .await
                    .map(|a| a.provider_id)
            }
            NoticeChannel::Email => {
                let mailer: &Mailer = out
                    .mail
                    .as_ref()
                    .ok_or_else(|| SendError::Config("no mail server is configured".into()))?;
                let subject = format!("Melding fra {sender}");
                mailer
                    .send(&Email {
                        sender: &sender,
                        to: &address,
                        subject: &subject,
                        text: &text,
                        reference: &reference,
                    })
                    .await
            }
        }?;
        Ok(Handed::Sent(provider_id))
    }

    /// Where the notice goes: the address the patient gave, or, when KRR is set up, what
    /// KRR says of this patient now (see `krr`). KRR out of reach is a temporary failure:
    /// the notice waits rather than go to an address KRR was not asked about.
    async fn destination(
        &self,
        patient: PatientId,
        channel: NoticeChannel,
        given: String,
        out: &Outbound,
    ) -> Result<Destination, SendError> {
        let Some(lookup) = &out.krr else {
            return Ok(Destination::To {
                address: given,
                note: None,
            });
        };
        let record = self
            .patient_record(patient)
            .await
            .map_err(|e| SendError::Retry(format!("the patient record: {e}")))?;
        let now_secs = self.clock.now().as_micros().div_euclid(1_000_000);
        let person = lookup
            .person(&out.http, record.person_number.as_str(), now_secs)
            .await?;
        Ok(krr::destination(person.as_ref(), channel, &given))
    }

    /// Writes how a try went: sent (audited), back in the queue, withheld by KRR, or
    /// failed or bounced (audited, and a task when the notice was important). KRR's note
    /// goes on the notice and into the audit entry with the outcome.
    async fn record_attempt(
        &self,
        row: &NoticeRow,
        attempt: i64,
        tried: Attempt,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now().as_micros();
        let (object, notes) = noted(row, tried.note);
        let patient = PatientId::from_slice(&row.patient_id);
        let id = row.id.clone();
        match tried.result {
            Ok(Handed::Sent(provider_id)) => {
                self.write(
                    &system(self, "varsel sendt"),
                    Action::NoticeSent,
                    patient,
                    &object,
                    move |tx| {
                        Box::pin(async move {
                            let sent = tx.notice_sent(&id, now, &provider_id).await?;
                            if sent && let Some(notes) = &notes {
                                tx.set_notice_findings(&id, notes).await?;
                            }
                            Ok(sent)
                        })
                    },
                )
                .await?;
            }
            Ok(Handed::Withheld) => {
                let reason = tried.note.unwrap_or("krr");
                self.end_notice(
                    row,
                    NoticeStatus::Skipped,
                    Action::NoticeSkipped,
                    reason,
                    tried.note,
                )
                .await?;
            }
            Err(e) if !matches!(e, SendError::Permanent(_)) && attempt < MAX_ATTEMPTS => {
                tracing::warn!(clinic = %self.org(), error = %e, attempt, "notice not sent; will try again");
                self.store
                    .retry_notice(&row.id, now + backoff_micros(attempt), &e.to_string())
                    .await?;
            }
            Err(e) => {
                let (status, action) = match e {
                    SendError::Permanent(_) => (NoticeStatus::Bounced, Action::NoticeBounced),
                    _ => (NoticeStatus::Failed, Action::NoticeFailed),
                };
                self.end_notice(row, status, action, &e.to_string(), tried.note)
                    .await?;
            }
        }
        Ok(())
    }

    /// A final outcome for a notice, audited, with a task when it mattered (N5, P10),
    /// and KRR's note (if any) on it.
    pub(super) async fn end_notice(
        &self,
        row: &NoticeRow,
        status: NoticeStatus,
        action: Action,
        error: &str,
        note: Option<&'static str>,
    ) -> Result<bool, ServiceError> {
        let now = self.clock.now().as_micros();
        let task = self.task_for(row, status, now)?;
        let id = row.id.clone();
        let error = error.to_owned();
        let patient = PatientId::from_slice(&row.patient_id);
        let (object, notes) = noted(row, note);
        let reason = if status == NoticeStatus::Skipped {
            "varsel ikke sendt"
        } else {
            "varsel ikke levert"
        };
        self.write(&system(self, reason), action, patient, &object, move |tx| {
            Box::pin(async move {
                let changed = tx
                    .notice_outcome(&id, status.as_str(), now, Some(&error))
                    .await?;
                if changed && let Some(notes) = &notes {
                    tx.set_notice_findings(&id, notes).await?;
                }
                if changed && let Some(task) = &task {
                    tx.insert_task(task).await?;
                }
                Ok(changed)
            })
        })
        .await
    }

    fn task_for(
        &self,
        row: &NoticeRow,
        status: NoticeStatus,
        now: i64,
    ) -> Result<Option<TaskRow>, ServiceError> {
        let important = NoticeKind::parse(&row.kind).is_some_and(NoticeKind::is_important);
        // A notice KRR withheld did not reach the patient either (only the dispatcher
        // ends a notice as skipped; one skipped when made never comes here).
        let unreached = status.is_undeliverable() || status == NoticeStatus::Skipped;
        if !important || !unreached {
            return Ok(None);
        }
        task_row(row, "varsel-ikke-levert", now).map(Some)
    }

    /// A delivery report from the SMS provider (N5): delivered, or undelivered (a bounce,
    /// and a task when it mattered). False when the notice is unknown or already final.
    pub async fn delivery_report(
        &self,
        report: &DeliveryReport,
        notice: &[u8],
    ) -> Result<bool, ServiceError> {
        let Some(row) = self.store.notice(notice).await? else {
            return Ok(false);
        };
        match report {
            DeliveryReport::Pending { .. } => Ok(false),
            DeliveryReport::Delivered { .. } => {
                let now = self.clock.now().as_micros();
                let id = row.id.clone();
                self.write(
                    &system(self, "leveringsrapport"),
                    Action::NoticeDelivered,
                    PatientId::from_slice(&row.patient_id),
                    &notice_object(&row),
                    move |tx| {
                        Box::pin(
                            async move { tx.notice_outcome(&id, "delivered", now, None).await },
                        )
                    },
                )
                .await
            }
            DeliveryReport::Undelivered { code, .. } => {
                self.end_notice(
                    &row,
                    NoticeStatus::Bounced,
                    Action::NoticeBounced,
                    &format!("delivery report {code}"),
                    None,
                )
                .await
            }
        }
    }

    /// Important notices sent long enough ago whose message is still unread become a
    /// task to reach the patient another way (N5, P10), once each.
    pub async fn follow_up_unread(&self) -> Result<usize, ServiceError> {
        let now = self.clock.now().as_micros();
        let mut made = 0;
        for row in self
            .store
            .sent_notices_before(now - UNREAD_AFTER_MICROS)
            .await?
        {
            let important = NoticeKind::parse(&row.kind).is_some_and(NoticeKind::is_important);
            let Some(thread) = row.thread_id.as_deref().and_then(ThreadId::from_slice) else {
                continue;
            };
            if !important || self.store.task_for_notice(&row.id).await? {
                continue;
            }
            if !self.store.has_unread_from_staff(thread.as_bytes()).await? {
                continue;
            }
            let task = task_row(&row, "varsel-ulest", now)?;
            self.write(
                &system(self, "ulest varsel"),
                Action::TaskCreated,
                PatientId::from_slice(&row.patient_id),
                &format!("oppgave:varsel-ulest {}", notice_object(&row)),
                move |tx| Box::pin(async move { tx.insert_task(&task).await }),
            )
            .await?;
            made += 1;
        }
        Ok(made)
    }
}

/// The audit object and the notice's new notes, with KRR's note if there is one.
fn noted(row: &NoticeRow, note: Option<&'static str>) -> (String, Option<String>) {
    let object = notice_object(row);
    match note {
        Some(note) => (
            format!("{object} {note}"),
            Some(krr::with_note(row.findings.as_deref(), note)),
        ),
        None => (object, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_four_hours() {
        assert_eq!(backoff_micros(1), 5_000_000);
        assert_eq!(backoff_micros(2), 10_000_000);
        assert_eq!(backoff_micros(14), 4 * 3600 * 1_000_000);
        let total: i64 = (1..MAX_ATTEMPTS).map(backoff_micros).sum();
        assert!(
            total > 12 * 3600 * 1_000_000,
            "about a day of tries: {total}"
        );
    }
}
