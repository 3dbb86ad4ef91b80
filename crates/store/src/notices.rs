//! Notices (the durable outbox and log, N5, N6), the clinic's notice templates, consents
//! (P4) and staff tasks (N5) in a clinic's store. Addresses and texts are ciphertext; the
//! service seals and opens them.

use crate::clinic::{ClinicStore, ClinicTx};
use crate::error::StoreError;
use crate::sql;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRow {
    pub id: Vec<u8>,
    pub patient_id: Vec<u8>,
    pub thread_id: Option<Vec<u8>>,
    pub kind: String,
    pub channel: String,
    /// Sealed under the patient's key; none when no address was usable.
    pub address: Option<Vec<u8>>,
    /// Sealed under the patient's key.
    pub body: Option<Vec<u8>>,
    /// SHA-256 of the text, for the log (N6).
    pub body_hash: Vec<u8>,
    pub status: String,
    /// For a blocked notice, the checker's rules (no content).
    pub findings: Option<String>,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub provider_ref: Option<String>,
    pub last_error: Option<String>,
}

const NOTICE: &str = "SELECT id, patient_id, thread_id, kind, channel, address, body, body_hash, status, \
     findings, attempts, next_attempt_at, created_at, sent_at, delivered_at, ended_at, provider_ref, \
     last_error FROM notices";

fn notice_from(row: &sqlx::any::AnyRow) -> Result<NoticeRow, StoreError> {
    use sqlx::Row;
    Ok(NoticeRow {
        id: row.try_get(0)?,
        patient_id: row.try_get(1)?,
        thread_id: row.try_get(2)?,
        kind: row.try_get(3)?,
        channel: row.try_get(4)?,
        address: row.try_get(5)?,
        body: row.try_get(6)?,
        body_hash: row.try_get(7)?,
        status: row.try_get(8)?,
        findings: row.try_get(9)?,
        attempts: row.try_get(10)?,
        next_attempt_at: row.try_get(11)?,
        created_at: row.try_get(12)?,
        sent_at: row.try_get(13)?,
        delivered_at: row.try_get(14)?,
        ended_at: row.try_get(15)?,
        provider_ref: row.try_get(16)?,
        last_error: row.try_get(17)?,
    })
}

/// One recorded consent decision (P4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    pub id: Vec<u8>,
    pub patient_id: Vec<u8>,
    /// What it is about: `varsel:sms`, `varsel:epost`, `tjeneste:meldinger` …
    pub subject: String,
    pub granted: bool,
    /// The version of the information text the patient was shown.
    pub text_version: String,
    pub at: i64,
}

type ConsentTuple = (Vec<u8>, Vec<u8>, String, i64, String, i64);

/// A task for staff (N5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    pub id: Vec<u8>,
    pub kind: String,
    pub patient_id: Vec<u8>,
    pub notice_id: Option<Vec<u8>>,
    pub thread_id: Option<Vec<u8>>,
    pub created_at: i64,
    pub done_at: Option<i64>,
    pub done_by: Option<String>,
}

type TaskTuple = (
    Vec<u8>,
    String,
    Vec<u8>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    i64,
    Option<i64>,
    Option<String>,
);

const TASK: &str = "SELECT id, kind, patient_id, notice_id, thread_id, created_at, done_at, done_by FROM staff_tasks";

fn task_from(t: TaskTuple) -> TaskRow {
    TaskRow {
        id: t.0,
        kind: t.1,
        patient_id: t.2,
        notice_id: t.3,
        thread_id: t.4,
        created_at: t.5,
        done_at: t.6,
        done_by: t.7,
    }
}

impl ClinicStore {
    async fn notices_where(
        &self,
        clause: &str,
        binds: &[i64],
        blob: Option<&[u8]>,
    ) -> Result<Vec<NoticeRow>, StoreError> {
        let sql = format!("{NOTICE} {clause}");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(b) = blob {
            query = query.bind(b.to_vec());
        }
        for v in binds {
            query = query.bind(*v);
        }
        query
            .fetch_all(&self.db().pool)
            .await?
            .iter()
            .map(notice_from)
            .collect()
    }

    pub async fn notice(&self, id: &[u8]) -> Result<Option<NoticeRow>, StoreError> {
        Ok(self
            .notices_where("WHERE id = $1", &[], Some(id))
            .await?
            .into_iter()
            .next())
    }

    /// Notices waiting to be sent whose time has come: queued ones, and ones whose
    /// sender's lease ran out (the server stopped while sending), oldest first.
    pub async fn due_notices(&self, now: i64, limit: i64) -> Result<Vec<NoticeRow>, StoreError> {
        self.notices_where(
            "WHERE status IN ('queued', 'sending') AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
            &[now, limit],
            None,
        )
        .await
    }

    /// The earliest time a notice is due, if any is waiting.
    pub async fn next_notice_due(&self) -> Result<Option<i64>, StoreError> {
        let next: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM notices WHERE status IN ('queued', 'sending')",
        )
        .fetch_one(&self.db().pool)
        .await?;
        Ok(next)
    }

    pub async fn notices_of_patient(&self, patient: &[u8]) -> Result<Vec<NoticeRow>, StoreError> {
        self.notices_where(
            "WHERE patient_id = $1 ORDER BY created_at DESC, id",
            &[],
            Some(patient),
        )
        .await
    }

    /// The newest notices, for the clinic's notice log (N6).
    pub async fn recent_notices(&self, limit: i64) -> Result<Vec<NoticeRow>, StoreError> {
        self.notices_where("ORDER BY created_at DESC, id LIMIT $1", &[limit], None)
            .await
    }

    /// Important notices sent before `before` and not yet followed up, for the unread
    /// check (N5).
    pub async fn sent_notices_before(&self, before: i64) -> Result<Vec<NoticeRow>, StoreError> {
        self.notices_where(
            "WHERE status IN ('sent', 'delivered') AND sent_at <= $1 ORDER BY sent_at, id",
            &[before],
            None,
        )
        .await
    }

    /// Whether the clinic wrote in this thread and the patient has not read it yet.
    pub async fn has_unread_from_staff(&self, thread: &[u8]) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM messages WHERE thread_id = $1 AND author_kind = 'staff' \
             AND internal = 0 AND read_at IS NULL AND recalled_at IS NULL",
        )
        .bind(thread)
        .fetch_one(&self.db().pool)
        .await?;
        Ok(n > 0)
    }

    /// The clinic's own templates: (kind, channel, text).
    pub async fn notice_templates(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT kind, channel, body FROM notice_templates ORDER BY kind, channel",
        )
        .fetch_all(&self.db().pool)
        .await?)
    }

    /// Every consent decision of a patient, oldest first.
    pub async fn consents_of(&self, patient: &[u8]) -> Result<Vec<ConsentRow>, StoreError> {
        let rows: Vec<ConsentTuple> = sqlx::query_as(
            "SELECT id, patient_id, subject, granted, text_version, at FROM consents \
             WHERE patient_id = $1 ORDER BY at, id",
        )
        .bind(patient)
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ConsentRow {
                id: r.0,
                patient_id: r.1,
                subject: r.2,
                granted: r.3 != 0,
                text_version: r.4,
                at: r.5,
            })
            .collect())
    }

    pub async fn open_tasks(&self) -> Result<Vec<TaskRow>, StoreError> {
        let rows: Vec<TaskTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{TASK} WHERE done_at IS NULL ORDER BY created_at, id"
        )))
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows.into_iter().map(task_from).collect())
    }

    pub async fn task(&self, id: &[u8]) -> Result<Option<TaskRow>, StoreError> {
        let row: Option<TaskTuple> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{TASK} WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.db().pool)
                .await?;
        Ok(row.map(task_from))
    }

    /// Whether a task already exists for this notice (a follow-up is made once).
    pub async fn task_for_notice(&self, notice: &[u8]) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staff_tasks WHERE notice_id = $1")
            .bind(notice)
            .fetch_one(&self.db().pool)
            .await?;
        Ok(n > 0)
    }

    /// Takes a due notice for sending: moves it to `sending` with a lease until
    /// `lease_until` and counts the attempt. False when another sender took it first.
    pub async fn claim_notice(
        &self,
        id: &[u8],
        now: i64,
        lease_until: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE notices SET status = 'sending', attempts = attempts + 1, next_attempt_at = $1 \
             WHERE id = $2 AND status IN ('queued', 'sending') AND next_attempt_at <= $3",
        )
        .bind(lease_until)
        .bind(id)
        .bind(now)
        .execute(&self.db().pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// After a temporary failure: back in the queue until `next_at`.
    pub async fn retry_notice(
        &self,
        id: &[u8],
        next_at: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE notices SET status = 'queued', next_attempt_at = $1, last_error = $2 \
             WHERE id = $3 AND status = 'sending'",
        )
        .bind(next_at)
        .bind(error)
        .bind(id)
        .execute(&self.db().pool)
        .await?;
        Ok(())
    }
}

impl ClinicTx {
    pub async fn insert_notice(&mut self, row: &NoticeRow) -> Result<(), StoreError> {
        sql::query(
            "INSERT INTO notices (id, patient_id, thread_id, kind, channel, address, body, body_hash, status, \
             findings, attempts, next_attempt_at, created_at, sent_at, delivered_at, ended_at, provider_ref, last_error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
        )
        .bind(&row.id)
        .bind(&row.patient_id)
        .bind(row.thread_id.as_deref())
        .bind(&row.kind)
        .bind(&row.channel)
        .bind(row.address.as_deref())
        .bind(row.body.as_deref())
        .bind(&row.body_hash)
        .bind(&row.status)
        .bind(row.findings.as_deref())
        .bind(row.attempts)
        .bind(row.next_attempt_at)
        .bind(row.created_at)
        .bind(row.sent_at)
        .bind(row.delivered_at)
        .bind(row.ended_at)
        .bind(row.provider_ref.as_deref())
        .bind(row.last_error.as_deref())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The provider took it. Only a notice being sent can become sent.
    pub async fn notice_sent(
        &mut self,
        id: &[u8],
        now: i64,
        provider_ref: &str,
    ) -> Result<bool, StoreError> {
        let n = sql::query(
            "UPDATE notices SET status = 'sent', sent_at = $1, provider_ref = $2, last_error = NULL \
             WHERE id = $3 AND status = 'sending'",
        )
        .bind(now)
        .bind(provider_ref)
        .bind(id)
        .execute(self.conn())
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// A final outcome: `delivered`, `failed` or `bounced`.
    pub async fn notice_outcome(
        &mut self,
        id: &[u8],
        status: &str,
        now: i64,
        error: Option<&str>,
    ) -> Result<bool, StoreError> {
        let delivered = (status == "delivered").then_some(now);
        let n = sql::query(
            "UPDATE notices SET status = $1, delivered_at = COALESCE($2, delivered_at), ended_at = $3, \
             last_error = COALESCE($4, last_error) \
             WHERE id = $5 AND status IN ('queued', 'sending', 'sent')",
        )
        .bind(status)
        .bind(delivered)
        .bind(now)
        .bind(error)
        .bind(id)
        .execute(self.conn())
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Skips the patient's notices still waiting to be sent on `channels` and of `kinds`
    /// (a withdrawn consent, an ended portal): they never leave. A notice already
    /// handed to a sender is not called back. Returns how many were skipped.
    pub async fn skip_queued_notices(
        &mut self,
        patient: &[u8],
        channels: &[&str],
        kinds: &[&str],
        why: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        if channels.is_empty() || kinds.is_empty() {
            return Ok(0);
        }
        // The lists are our own stable names, bound as parameters all the same.
        let list = |from: usize, n: usize| {
            (from..from + n)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let sql = format!(
            "UPDATE notices SET status = 'skipped', findings = $1, ended_at = $2 \
             WHERE patient_id = $3 AND status = 'queued' AND channel IN ({}) AND kind IN ({})",
            list(4, channels.len()),
            list(4 + channels.len(), kinds.len()),
        );
        let mut query = sql::query(sql).bind(why).bind(now).bind(patient);
        for value in channels.iter().chain(kinds) {
            query = query.bind(*value);
        }
        Ok(query.execute(self.conn()).await?.rows_affected())
    }

    /// Replaces what is noted on a notice for staff (the checker's rules, the contact
    /// register's remarks): no content, no address.
    pub async fn set_notice_findings(
        &mut self,
        id: &[u8],
        findings: &str,
    ) -> Result<(), StoreError> {
        sql::query("UPDATE notices SET findings = $1 WHERE id = $2")
            .bind(findings)
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn set_notice_template(
        &mut self,
        kind: &str,
        channel: &str,
        body: &str,
        now: i64,
        by: &str,
    ) -> Result<(), StoreError> {
        sql::query(
            "INSERT INTO notice_templates (kind, channel, body, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (kind, channel) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at, \
             updated_by = excluded.updated_by",
        )
        .bind(kind)
        .bind(channel)
        .bind(body)
        .bind(now)
        .bind(by)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn insert_consent(&mut self, row: &ConsentRow) -> Result<(), StoreError> {
        sql::query(
            "INSERT INTO consents (id, patient_id, subject, granted, text_version, at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&row.id)
        .bind(&row.patient_id)
        .bind(&row.subject)
        .bind(i64::from(row.granted))
        .bind(&row.text_version)
        .bind(row.at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn insert_task(&mut self, row: &TaskRow) -> Result<(), StoreError> {
        sql::query(
            "INSERT INTO staff_tasks (id, kind, patient_id, notice_id, thread_id, created_at, done_at, done_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&row.id)
        .bind(&row.kind)
        .bind(&row.patient_id)
        .bind(row.notice_id.as_deref())
        .bind(row.thread_id.as_deref())
        .bind(row.created_at)
        .bind(row.done_at)
        .bind(row.done_by.as_deref())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn finish_task(&mut self, id: &[u8], by: &str, now: i64) -> Result<bool, StoreError> {
        let n = sql::query(
            "UPDATE staff_tasks SET done_at = $1, done_by = $2 WHERE id = $3 AND done_at IS NULL",
        )
        .bind(now)
        .bind(by)
        .bind(id)
        .execute(self.conn())
        .await?
        .rows_affected();
        Ok(n > 0)
    }
}
