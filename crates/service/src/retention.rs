//! Retention (X4): the clinic's periods, and the job that deletes what has had its time.
//! The rules are `fortrolig_domain::retention`; here they are applied to the store.
//!
//! Every deletion is an audited act of its own (the log holds no content, so it keeps
//! verifying), and each re-checks in its transaction that the thread is still as the job
//! saw it: a thread that reopened or got a journal-worthy message meanwhile stays. A
//! patient who ended the portal and has nothing left goes by crypto-shredding, so no
//! earlier backup opens their content again; a deleted thread's own key is destroyed
//! too, with the same effect for that conversation (`thread_keys`). Deleted rows are
//! scrubbed out of the database files afterwards.

use std::time::Duration;

use fortrolig_domain::retention::{Category, Days, Kept, Policy};
use fortrolig_domain::{Action, Timestamp};
use fortrolig_store::StoreError;

use crate::Fortrolig;
use crate::clinic::{ActContext, Clinic, patient_id};
use crate::error::ServiceError;

/// Threads looked at in one round at most; the next round takes the rest.
const ROUND_LIMIT: i64 = 500;

/// How often the server applies retention.
pub const RETENTION_INTERVAL: Duration = Duration::from_secs(3600);

/// What one round deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionReport {
    pub threads: u64,
    pub messages: u64,
    pub attachments: u64,
    pub notices: u64,
    pub sessions: u64,
    pub patients: u64,
}

impl RetentionReport {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl std::ops::AddAssign for RetentionReport {
    fn add_assign(&mut self, r: Self) {
        self.threads += r.threads;
        self.messages += r.messages;
        self.attachments += r.attachments;
        self.notices += r.notices;
        self.sessions += r.sessions;
        self.patients += r.patients;
    }
}

fn malformed(what: &str) -> ServiceError {
    StoreError::Malformed(what.to_owned()).into()
}

/// `Ok(None)` when the act found its thread changed and wrote nothing.
fn unless_changed<T>(result: Result<T, ServiceError>) -> Result<Option<T>, ServiceError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(ServiceError::Store(StoreError::NotOpen)) => Ok(None),
        Err(e) => Err(e),
    }
}

impl Clinic {
    /// The clinic's periods: its own where set, the defaults elsewhere.
    pub async fn retention_policy(&self) -> Result<Policy, ServiceError> {
        let mut policy = Policy::default();
        for category in Category::ALL {
            if let Some(text) = self.store.setting(&category.setting()).await? {
                let days = Days::parse(&text).map_err(|_| malformed("retention setting"))?;
                policy.set(category, days);
            }
        }
        Ok(policy)
    }

    /// Sets the clinic's periods (one audited act naming every change).
    pub async fn set_retention_policy(
        &self,
        ctx: &ActContext,
        policy: Policy,
    ) -> Result<(), ServiceError> {
        let old = self.retention_policy().await?;
        let changes: Vec<(String, String)> = Category::ALL
            .into_iter()
            .filter(|c| old.days(*c) != policy.days(*c))
            .map(|c| (c.setting(), policy.days(c).to_string()))
            .collect();
        if changes.is_empty() {
            return Ok(());
        }
        let object = changes
            .iter()
            .map(|(name, days)| format!("{name}={days}"))
            .collect::<Vec<_>>()
            .join(" ");
        self.write(ctx, Action::SettingChanged, None, &object, move |tx| {
            Box::pin(async move {
                for (name, days) in &changes {
                    tx.set_setting(name, days).await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// Deletes what has had its time under the clinic's periods (X4).
    pub async fn apply_retention(&self) -> Result<RetentionReport, ServiceError> {
        let policy = self.retention_policy().await?;
        let now = self.clock.now();
        let ctx =
            ActContext::system("oppbevaring", self.org()).with_reason("oppbevaringstid utløpt");
        let mut report = RetentionReport::default();
        self.expire_threads(&ctx, &policy, now, &mut report).await?;
        let before = policy.notices_ended_before(now).as_micros();
        for (patient, count) in self.store.patients_with_old_notices(before).await? {
            let id = patient.clone();
            report.notices += self
                .write(
                    &ctx,
                    Action::RetentionDeleted,
                    Some(patient_id(&patient)?),
                    &format!("{}: notices:{count}", Category::Notices.as_str()),
                    move |tx| Box::pin(async move { tx.delete_old_notices(&id, before).await }),
                )
                .await?;
        }
        let before = policy.sessions_ended_before(now).as_micros();
        let sessions = self.store.old_sessions(before).await?;
        if sessions > 0 {
            report.sessions = self
                .write(
                    &ctx,
                    Action::RetentionDeleted,
                    None,
                    &format!("{}: sessions:{sessions}", Category::Sessions.as_str()),
                    move |tx| Box::pin(async move { tx.delete_old_sessions(before).await }),
                )
                .await?;
        }
        for patient in self
            .store
            .ended_patients_without_threads(policy.portal_ended_before(now).as_micros())
            .await?
        {
            self.shred_patient(&ctx, patient_id(&patient)?).await?;
            report.patients += 1;
        }
        // Keys left behind by a crash between a thread's deletion and its key's.
        self.sweep_thread_keys().await?;
        if !report.is_empty() {
            self.store.scrub().await?;
        }
        Ok(report)
    }

    async fn expire_threads(
        &self,
        ctx: &ActContext,
        policy: &Policy,
        now: Timestamp,
        report: &mut RetentionReport,
    ) -> Result<(), ServiceError> {
        let candidates = self
            .store
            .closed_threads(policy.closed_before(now).as_micros(), ROUND_LIMIT)
            .await?;
        for thread in candidates {
            let messages = self.store.kept_messages(&thread.id).await?;
            let kept: Vec<Kept> = messages
                .iter()
                .map(|m| Kept {
                    journal_worthy: m.journal_worthy,
                    transferred_at: m.transferred_at.map(Timestamp),
                    attachments: u32::try_from(m.attachments).unwrap_or(u32::MAX),
                })
                .collect();
            let attachments: i64 = messages.iter().map(|m| m.attachments).sum();
            let closed = Some(Timestamp(thread.closed_at));
            let patient = Some(patient_id(&thread.patient_id)?);
            let name = crate::messaging::thread_id(&thread.id)?;
            let closed_at = thread.closed_at;
            let id = thread.id.clone();
            if policy
                .thread_expires(closed, &kept)
                .is_some_and(|at| at <= now)
            {
                let object = format!(
                    "{}: thread:{name} messages:{} attachments:{attachments}",
                    Category::Threads.as_str(),
                    messages.len()
                );
                let removed =
                    self.write(ctx, Action::RetentionDeleted, patient, &object, move |tx| {
                        Box::pin(async move {
                            tx.delete_expired_thread(&id, closed_at)
                                .await?
                                .ok_or(StoreError::NotOpen)
                        })
                    });
                if let Some(removed) = unless_changed(removed.await)? {
                    self.shred_thread_keys(std::slice::from_ref(&thread.id))
                        .await?;
                    report.threads += 1;
                    report.messages += removed.messages;
                    report.attachments += removed.attachments;
                }
            } else if attachments > 0
                && policy
                    .attachments_expire(closed, &kept)
                    .is_some_and(|at| at <= now)
            {
                let object = format!(
                    "{}: thread:{name} attachments:{attachments}",
                    Category::Attachments.as_str()
                );
                let removed =
                    self.write(ctx, Action::RetentionDeleted, patient, &object, move |tx| {
                        Box::pin(async move {
                            tx.delete_expired_attachments(&id, closed_at)
                                .await?
                                .ok_or(StoreError::NotOpen)
                        })
                    });
                if let Some(n) = unless_changed(removed.await)? {
                    report.attachments += n;
                }
            }
        }
        Ok(())
    }
}

impl Fortrolig {
    /// One retention round over every clinic; a clinic that fails is logged and the
    /// others still get theirs.
    pub async fn apply_retention(&self) -> Result<RetentionReport, ServiceError> {
        let mut total = RetentionReport::default();
        for entry in self.clinics().await? {
            let clinic = self.clinic(&entry.org_number).await?;
            match clinic.apply_retention().await {
                Ok(r) => {
                    if !r.is_empty() {
                        tracing::info!(clinic = %entry.org_number, threads = r.threads, messages = r.messages,
                            attachments = r.attachments, notices = r.notices, sessions = r.sessions,
                            patients = r.patients, "retention deleted expired data");
                    }
                    total += r;
                }
                Err(e) => {
                    tracing::error!(clinic = %entry.org_number, error = %e, "retention round failed")
                }
            }
        }
        Ok(total)
    }

    /// Applies retention at start and then every `RETENTION_INTERVAL`, until `stop`.
    pub async fn run_retention(&self, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            if let Err(e) = self.apply_retention().await {
                tracing::error!(error = %e, "retention round failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(RETENTION_INTERVAL) => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
        }
    }
}
