//! What retention reads and deletes in a clinic's store (X4). The rules are in
//! `fortrolig_domain::retention`; here are only the rows.

use sqlx::Executor;

use crate::backend::Dialect;
use crate::clinic::{ClinicStore, ClinicTx};
use crate::error::StoreError;
use crate::sql;

/// A closed thread, for deciding whether its time is up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedThread {
    pub id: Vec<u8>,
    pub patient_id: Vec<u8>,
    pub closed_at: i64,
}

/// One message of a closed thread, as retention sees it: no content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptMessage {
    pub id: Vec<u8>,
    pub journal_worthy: bool,
    pub transferred_at: Option<i64>,
    pub attachments: i64,
}

/// What one deletion of a thread removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removed {
    pub threads: u64,
    pub messages: u64,
    pub attachments: u64,
}

/// No restriction of processing in force for the patient whose id is in `{col}` (GDPR
/// art. 18: a patient may need the data kept, for instance for a legal claim, and the
/// clinic must then not erase it). Retention waits until the restriction is lifted.
fn unrestricted(col: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM patient_requests r WHERE r.patient_id = {col} \
         AND r.kind = 'begrensning' AND r.status = 'innvilget' AND r.lifted_at IS NULL)"
    )
}

/// Notice statuses that are over: nothing more will happen to the notice.
const NOTICE_OVER: &str = "status NOT IN ('queued', 'sending')";

impl ClinicStore {
    /// Threads that closed at or before `closed_before`, oldest first, at most `limit`.
    pub async fn closed_threads(
        &self,
        closed_before: i64,
        limit: i64,
    ) -> Result<Vec<ClosedThread>, StoreError> {
        let rows: Vec<(Vec<u8>, Vec<u8>, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, patient_id, closed_at FROM threads \
             WHERE closed_at IS NOT NULL AND closed_at <= $1 AND {} \
             ORDER BY closed_at, id LIMIT $2",
            unrestricted("threads.patient_id")
        )))
        .bind(closed_before)
        .bind(limit)
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, patient_id, closed_at)| ClosedThread {
                id,
                patient_id,
                closed_at,
            })
            .collect())
    }

    pub async fn kept_messages(&self, thread: &[u8]) -> Result<Vec<KeptMessage>, StoreError> {
        let rows: Vec<(Vec<u8>, i64, Option<i64>, i64)> = sqlx::query_as(
            "SELECT m.id, m.journal_worthy, m.transferred_at, \
             (SELECT COUNT(*) FROM attachments a WHERE a.message_id = m.id) \
             FROM messages m WHERE m.thread_id = $1 ORDER BY m.created_at, m.id",
        )
        .bind(thread)
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, worthy, transferred_at, attachments)| KeptMessage {
                id,
                journal_worthy: worthy != 0,
                transferred_at,
                attachments,
            })
            .collect())
    }

    /// Patients with ended notices older than `ended_before`, and how many each has.
    pub async fn patients_with_old_notices(
        &self,
        ended_before: i64,
    ) -> Result<Vec<(Vec<u8>, i64)>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT patient_id, COUNT(*) FROM notices WHERE {NOTICE_OVER} \
             AND COALESCE(ended_at, sent_at, created_at) <= $1 AND {} \
             GROUP BY patient_id ORDER BY patient_id",
            unrestricted("notices.patient_id")
        )))
        .bind(ended_before)
        .fetch_all(&self.db().pool)
        .await?)
    }

    /// Sessions and failed-login counters that ended at or before `ended_before`.
    pub async fn old_sessions(&self, ended_before: i64) -> Result<i64, StoreError> {
        let sessions: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions WHERE COALESCE(ended_at, expires_at) <= $1",
        )
        .bind(ended_before)
        .fetch_one(&self.db().pool)
        .await?;
        let failures: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE at <= $1")
                .bind(ended_before)
                .fetch_one(&self.db().pool)
                .await?;
        Ok(sessions + failures)
    }

    /// Pushes deleted rows out of the write-ahead log and free pages, so that what
    /// retention removed is not left in the files. SQLite runs with `secure_delete`
    /// (deleted content is overwritten) and the log is checkpointed and truncated;
    /// PostgreSQL gets a VACUUM of the tables retention deletes from.
    pub async fn scrub(&self) -> Result<(), StoreError> {
        let db = self.db();
        match db.dialect {
            Dialect::Sqlite => {
                db.pool.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
            }
            Dialect::Postgres => {
                db.pool
                    .execute(
                        "VACUUM attachments, messages, threads, notices, sessions, login_failures",
                    )
                    .await?;
            }
        }
        Ok(())
    }
}

impl ClinicTx {
    /// Deletes a closed thread whose time is up, if it is still as retention saw it:
    /// closed since `closed_at`, with no journal-worthy message waiting for transfer.
    /// `None` when it changed meanwhile (reopened, written to, marked journal-worthy).
    pub async fn delete_expired_thread(
        &mut self,
        id: &[u8],
        closed_at: i64,
    ) -> Result<Option<Removed>, StoreError> {
        let unchanged: i64 = sql::query(format!(
            "SELECT COUNT(*) FROM threads t WHERE t.id = $1 AND t.closed_at = $2 AND {} \
             AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.thread_id = t.id \
             AND m.journal_worthy = 1 AND m.transferred_at IS NULL)",
            unrestricted("t.patient_id")
        ))
        .bind(id)
        .bind(closed_at)
        .fetch_scalar(self.conn())
        .await?
        .unwrap_or(0);
        if unchanged == 0 {
            return Ok(None);
        }
        self.delete_thread(id).await.map(Some)
    }

    /// Deletes a thread with its messages, their attachments and corrections, and the
    /// staff tasks about it (retention, X4, or a granted deletion, P9). Notices keep
    /// their own retention and lose the link. `threads` is 0 if it was not there.
    pub async fn delete_thread(&mut self, id: &[u8]) -> Result<Removed, StoreError> {
        let attachments = self.delete_attachments_of_thread(id).await?;
        sql::query(
            "DELETE FROM corrections WHERE message_id IN (SELECT id FROM messages WHERE thread_id = $1)",
        )
        .bind(id)
        .execute(self.conn())
        .await?;
        let messages = sql::query("DELETE FROM messages WHERE thread_id = $1")
            .bind(id)
            .execute(self.conn())
            .await?
            .rows_affected();
        for sql in [
            "UPDATE notices SET thread_id = NULL WHERE thread_id = $1",
            "DELETE FROM staff_tasks WHERE thread_id = $1",
        ] {
            sql::query(sql).bind(id).execute(self.conn()).await?;
        }
        let threads = sql::query("DELETE FROM threads WHERE id = $1")
            .bind(id)
            .execute(self.conn())
            .await?
            .rows_affected();
        Ok(Removed {
            threads,
            messages,
            attachments,
        })
    }

    /// Deletes the attachments of a closed thread whose time is up, if it is still as
    /// retention saw it: closed since `closed_at`, and no journal-worthy message with an
    /// attachment waiting for transfer. `None` when it changed meanwhile.
    pub async fn delete_expired_attachments(
        &mut self,
        thread: &[u8],
        closed_at: i64,
    ) -> Result<Option<u64>, StoreError> {
        let unchanged: i64 = sql::query(format!(
            "SELECT COUNT(*) FROM threads t WHERE t.id = $1 AND t.closed_at = $2 AND {} \
             AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.thread_id = t.id \
             AND m.journal_worthy = 1 AND m.transferred_at IS NULL \
             AND EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id))",
            unrestricted("t.patient_id")
        ))
        .bind(thread)
        .bind(closed_at)
        .fetch_scalar(self.conn())
        .await?
        .unwrap_or(0);
        if unchanged == 0 {
            return Ok(None);
        }
        self.delete_attachments_of_thread(thread).await.map(Some)
    }

    async fn delete_attachments_of_thread(&mut self, thread: &[u8]) -> Result<u64, StoreError> {
        Ok(sql::query(
            "DELETE FROM attachments WHERE message_id IN (SELECT id FROM messages WHERE thread_id = $1)",
        )
        .bind(thread)
        .execute(self.conn())
        .await?
        .rows_affected())
    }

    /// Deletes a patient's notices that ended at or before `ended_before`.
    pub async fn delete_old_notices(
        &mut self,
        patient: &[u8],
        ended_before: i64,
    ) -> Result<u64, StoreError> {
        Ok(sql::query(format!(
            "DELETE FROM notices WHERE patient_id = $1 AND {NOTICE_OVER} \
             AND COALESCE(ended_at, sent_at, created_at) <= $2 AND {}",
            unrestricted("notices.patient_id")
        ))
        .bind(patient)
        .bind(ended_before)
        .execute(self.conn())
        .await?
        .rows_affected())
    }

    /// Deletes sessions and failed-login counters that ended at or before `ended_before`.
    pub async fn delete_old_sessions(&mut self, ended_before: i64) -> Result<u64, StoreError> {
        let sessions =
            sql::query("DELETE FROM sessions WHERE COALESCE(ended_at, expires_at) <= $1")
                .bind(ended_before)
                .execute(self.conn())
                .await?
                .rows_affected();
        let failures = sql::query("DELETE FROM login_failures WHERE at <= $1")
            .bind(ended_before)
            .execute(self.conn())
            .await?
            .rows_affected();
        Ok(sessions + failures)
    }

    /// Marks a journal-worthy message as transferred to the EPJ (S5), once.
    pub async fn mark_transferred(&mut self, message: &[u8], now: i64) -> Result<bool, StoreError> {
        let n = sql::query(
            "UPDATE messages SET transferred_at = $1 \
             WHERE id = $2 AND journal_worthy = 1 AND transferred_at IS NULL",
        )
        .bind(now)
        .bind(message)
        .execute(self.conn())
        .await?
        .rows_affected();
        Ok(n == 1)
    }
}

impl ClinicStore {
    /// Patients whose latest portal decision is "ended" (P11), taken at or before
    /// `ended_before`, who have no thread left: nothing of theirs is kept for its own
    /// reasons any more.
    pub async fn ended_patients_without_threads(
        &self,
        ended_before: i64,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT c.patient_id FROM consents c WHERE c.subject = 'portal' AND c.granted = 0 \
             AND c.at <= $1 AND {} \
             AND c.at = (SELECT MAX(d.at) FROM consents d WHERE d.patient_id = c.patient_id AND d.subject = 'portal') \
             AND NOT EXISTS (SELECT 1 FROM threads t WHERE t.patient_id = c.patient_id) \
             AND EXISTS (SELECT 1 FROM patients p WHERE p.id = c.patient_id) \
             ORDER BY c.patient_id",
            unrestricted("c.patient_id")
        )))
        .bind(ended_before)
        .fetch_all(&self.db().pool)
        .await?)
    }
}
