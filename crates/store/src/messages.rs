//! Threads, messages and attachments in a clinic's store (issue 4). Content columns hold
//! ciphertext only; the service seals and opens them.

use std::collections::HashMap;

use crate::backend::Dialect;
use crate::clinic::{ClinicStore, ClinicTx};
use crate::error::StoreError;
use crate::sql::{self, RowRef};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadRow {
    pub id: Vec<u8>,
    pub patient_id: Vec<u8>,
    pub kind: String,
    pub subject: Vec<u8>,
    pub status: String,
    pub assigned_staff: Option<Vec<u8>>,
    pub assigned_team: Option<Vec<u8>>,
    pub cannot_answer: bool,
    pub started_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// The thread's own key in the key ring; `None` for a thread sealed with the
    /// patient's key (made before migration 17).
    pub key_id: Option<Vec<u8>>,
}

type ThreadTuple = (
    Vec<u8>,
    Vec<u8>,
    String,
    Vec<u8>,
    String,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    i64,
    String,
    i64,
    i64,
    Option<Vec<u8>>,
);

const THREAD: &str = "SELECT id, patient_id, kind, subject, status, assigned_staff, assigned_team, \
     cannot_answer, started_by, created_at, updated_at, key_id FROM threads";

/// The thread columns of `THREAD` for a query that names the table `t`.
pub(crate) const THREAD_COLUMNS_T: &str = "t.id, t.patient_id, t.kind, t.subject, t.status, \
     t.assigned_staff, t.assigned_team, t.cannot_answer, t.started_by, t.created_at, \
     t.updated_at, t.key_id";

/// A thread from the columns of `THREAD_COLUMNS_T` starting at `first`, if the row has
/// one (a left join that found none has `NULL` there).
pub(crate) fn thread_from_row(
    row: &RowRef<'_, '_>,
    first: usize,
) -> Result<Option<ThreadRow>, StoreError> {
    let Some(id) = row.get::<Option<Vec<u8>>>(first)? else {
        return Ok(None);
    };
    Ok(Some(thread_from((
        id,
        row.get(first + 1)?,
        row.get(first + 2)?,
        row.get(first + 3)?,
        row.get(first + 4)?,
        row.get(first + 5)?,
        row.get(first + 6)?,
        row.get(first + 7)?,
        row.get(first + 8)?,
        row.get(first + 9)?,
        row.get(first + 10)?,
        row.get(first + 11)?,
    ))))
}

/// A whole thread row, as `THREAD` selects it.
fn thread_of(row: &RowRef<'_, '_>) -> Result<ThreadRow, StoreError> {
    thread_from_row(row, 0)?.ok_or_else(|| StoreError::Malformed("thread without an id".into()))
}

fn thread_from(t: ThreadTuple) -> ThreadRow {
    ThreadRow {
        id: t.0,
        patient_id: t.1,
        kind: t.2,
        subject: t.3,
        status: t.4,
        assigned_staff: t.5,
        assigned_team: t.6,
        cannot_answer: t.7 != 0,
        started_by: t.8,
        created_at: t.9,
        updated_at: t.10,
        key_id: t.11,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub id: Vec<u8>,
    pub thread_id: Vec<u8>,
    pub author_kind: String,
    pub author_id: Vec<u8>,
    pub internal: bool,
    pub body: Vec<u8>,
    pub journal_worthy: bool,
    pub created_at: i64,
    pub read_at: Option<i64>,
    pub recalled_at: Option<i64>,
    /// When staff marked it transferred to the EPJ (journal-worthy messages only).
    pub transferred_at: Option<i64>,
}

type MessageTuple = (
    Vec<u8>,
    Vec<u8>,
    String,
    Vec<u8>,
    i64,
    Vec<u8>,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

const MESSAGE: &str = "SELECT id, thread_id, author_kind, author_id, internal, body, journal_worthy, \
     created_at, read_at, recalled_at, transferred_at FROM messages";

fn message_from(t: MessageTuple) -> MessageRow {
    MessageRow {
        id: t.0,
        thread_id: t.1,
        author_kind: t.2,
        author_id: t.3,
        internal: t.4 != 0,
        body: t.5,
        journal_worthy: t.6 != 0,
        created_at: t.7,
        read_at: t.8,
        recalled_at: t.9,
        transferred_at: t.10,
    }
}

type AttachmentTuple = (Vec<u8>, Vec<u8>, String, i64, Vec<u8>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRow {
    pub id: Vec<u8>,
    pub message_id: Vec<u8>,
    pub media_type: String,
    pub size: i64,
    pub content: Vec<u8>,
}

/// A new message (`ClinicTx::insert_message`), and its thread's status after it, with
/// parameters numbered alike so that they can go in one statement.
/// A message, stored only while its thread takes it: always for staff (`$10 = 0`); for
/// the patient (`$10 = 1`) only while the thread is neither closed nor marked «cannot be
/// answered». Decided inside the write's transaction, so a thread closed while the
/// patient's upload was on its way takes nothing. A thread that takes nothing leaves
/// `thread_id` NULL, which its NOT NULL constraint refuses: the refusal comes in the same
/// statement, at no cost to the messages that are stored (`insert_message` reads it).
const INSERT_MESSAGE: &str = "INSERT INTO messages (id, thread_id, author_kind, author_id, \
     internal, body, journal_worthy, created_at, read_at, recalled_at) \
     VALUES ($1, CASE WHEN $10 = 0 OR EXISTS (SELECT 1 FROM threads WHERE id = $2 \
     AND cannot_answer = 0 AND status <> 'lukket') THEN $2 END, \
     $3, $4, $5, $6, $7, $8, NULL, NULL)";
const SET_STATUS: &str = "UPDATE threads SET status = $9, updated_at = $8, \
     closed_at = CASE WHEN $9 = 'lukket' THEN $8 ELSE NULL END WHERE id = $2";

/// Unread messages per thread of `threads` (a query giving thread ids): the thread index
/// finds each one's messages, and no body leaves the database.
fn unread_sql(threads: &str) -> String {
    format!(
        "SELECT m.thread_id, COUNT(*) FROM ({threads}) t JOIN messages m ON m.thread_id = t.id \
         WHERE m.author_kind = $1 AND m.read_at IS NULL AND m.recalled_at IS NULL \
         AND m.internal = 0 GROUP BY m.thread_id"
    )
}

impl ClinicStore {
    pub async fn thread(&self, id: &[u8]) -> Result<Option<ThreadRow>, StoreError> {
        sql::query(format!("{THREAD} WHERE id = $1"))
            .bind(id)
            .fetch_optional_in(self.db(), thread_of)
            .await
    }

    /// A patient's threads, most recently active first.
    pub async fn threads_of_patient(&self, patient: &[u8]) -> Result<Vec<ThreadRow>, StoreError> {
        sql::query(format!(
            "{THREAD} WHERE patient_id = $1 ORDER BY updated_at DESC"
        ))
        .bind(patient)
        .fetch_all_in(self.db(), thread_of)
        .await
    }

    /// The ids of the threads sealed with a key of their own, in id order.
    pub async fn keyed_threads(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        let rows: Vec<(Vec<u8>,)> =
            sqlx::query_as("SELECT id FROM threads WHERE key_id IS NOT NULL ORDER BY id")
                .fetch_all(&self.db().pool)
                .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// The clinic's most recently active threads (the service filters by access).
    pub async fn recent_threads(&self, limit: i64) -> Result<Vec<ThreadRow>, StoreError> {
        let rows: Vec<ThreadTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{THREAD} ORDER BY updated_at DESC LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows.into_iter().map(thread_from).collect())
    }

    /// Unread messages by `author_kind` (the other side's) per thread, for the threads a
    /// list shows: the `limit` most recently active (the staff inbox), in one query.
    pub async fn unread_in_recent(
        &self,
        author_kind: &str,
        limit: i64,
    ) -> Result<HashMap<Vec<u8>, i64>, StoreError> {
        let rows: Vec<(Vec<u8>, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(unread_sql(
            "SELECT id FROM threads ORDER BY updated_at DESC LIMIT $2",
        )))
        .bind(author_kind)
        .bind(limit)
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// The same for one patient's threads (the patient's inbox).
    pub async fn unread_of_patient(
        &self,
        author_kind: &str,
        patient: &[u8],
    ) -> Result<HashMap<Vec<u8>, i64>, StoreError> {
        let rows: Vec<(Vec<u8>, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(unread_sql(
            "SELECT id FROM threads WHERE patient_id = $2",
        )))
        .bind(author_kind)
        .bind(patient)
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    pub async fn messages_of(&self, thread: &[u8]) -> Result<Vec<MessageRow>, StoreError> {
        let rows: Vec<MessageTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{MESSAGE} WHERE thread_id = $1 ORDER BY created_at, id"
        )))
        .bind(thread)
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows.into_iter().map(message_from).collect())
    }

    pub async fn message(&self, id: &[u8]) -> Result<Option<MessageRow>, StoreError> {
        let row: Option<MessageTuple> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{MESSAGE} WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.db().pool)
                .await?;
        Ok(row.map(message_from))
    }

    /// The attachments of a thread's messages: id, message, type, size (no content).
    pub async fn attachments_of_thread(
        &self,
        thread: &[u8],
    ) -> Result<Vec<(Vec<u8>, Vec<u8>, String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT a.id, a.message_id, a.media_type, a.size FROM attachments a \
             JOIN messages m ON m.id = a.message_id WHERE m.thread_id = $1 ORDER BY a.id",
        )
        .bind(thread)
        .fetch_all(&self.db().pool)
        .await?)
    }

    pub async fn attachment(&self, id: &[u8]) -> Result<Option<AttachmentRow>, StoreError> {
        let row: Option<AttachmentTuple> = sqlx::query_as(
            "SELECT id, message_id, media_type, size, content FROM attachments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db().pool)
        .await?;
        Ok(row.map(|t| AttachmentRow {
            id: t.0,
            message_id: t.1,
            media_type: t.2,
            size: t.3,
            content: t.4,
        }))
    }
}

impl ClinicTx {
    pub async fn insert_thread(&mut self, row: &ThreadRow) -> Result<(), StoreError> {
        sql::query(
            "INSERT INTO threads (id, patient_id, kind, subject, status, assigned_staff, assigned_team, \
             cannot_answer, started_by, created_at, updated_at, key_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&row.id)
        .bind(&row.patient_id)
        .bind(&row.kind)
        .bind(&row.subject)
        .bind(&row.status)
        .bind(row.assigned_staff.as_deref())
        .bind(row.assigned_team.as_deref())
        .bind(i64::from(row.cannot_answer))
        .bind(&row.started_by)
        .bind(row.created_at)
        .bind(row.updated_at)
        .bind(row.key_id.as_deref())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Adds a message (and its attachments) and moves the thread's status and time on.
    /// `false` when the message is the patient's (`from_patient`) and the thread takes no
    /// more (closed, or «cannot be answered»): then nothing is stored.
    pub async fn insert_message(
        &mut self,
        row: &MessageRow,
        attachments: &[AttachmentRow],
        status: &str,
        from_patient: bool,
    ) -> Result<bool, StoreError> {
        // The message and its thread's new status in one statement (one round trip per
        // message on PostgreSQL, as a data-modifying `WITH`; a list natively on SQLite). A message in a thread left closed starts its retention
        // clock again.
        let sql = match self.dialect() {
            Dialect::Sqlite => format!("{INSERT_MESSAGE}; {SET_STATUS}"),
            Dialect::Postgres => format!("WITH message AS ({INSERT_MESSAGE}) {SET_STATUS}"),
        };
        let stored = sql::query(sql)
            .bind(&row.id)
            .bind(&row.thread_id)
            .bind(&row.author_kind)
            .bind(&row.author_id)
            .bind(i64::from(row.internal))
            .bind(&row.body)
            .bind(i64::from(row.journal_worthy))
            .bind(row.created_at)
            .bind(status)
            .bind(i64::from(from_patient))
            .execute(self.conn())
            .await;
        match stored {
            Ok(_) => {}
            // Only `thread_id` can be NULL here (see `INSERT_MESSAGE`); the statement
            // stopped there, so nothing of it is stored.
            Err(e) if e.is_not_null_violation() => return Ok(false),
            Err(e) => return Err(e),
        }
        for a in attachments {
            sql::query(
                "INSERT INTO attachments (id, message_id, media_type, size, content) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&a.id)
            .bind(&a.message_id)
            .bind(&a.media_type)
            .bind(a.size)
            .bind(&a.content)
            .execute(self.conn())
            .await?;
        }
        Ok(true)
    }

    /// Marks the other side's unread messages in a thread as read, up to the newest one
    /// the reader was shown (`seen_until`): one that arrived meanwhile stays unread.
    pub async fn mark_read(
        &mut self,
        thread: &[u8],
        other_side: &str,
        seen_until: i64,
        now: i64,
    ) -> Result<u64, StoreError> {
        Ok(sql::query(
            "UPDATE messages SET read_at = $1 WHERE thread_id = $2 AND author_kind = $3 \
             AND read_at IS NULL AND internal = 0 AND recalled_at IS NULL AND created_at <= $4",
        )
        .bind(now)
        .bind(thread)
        .bind(other_side)
        .bind(seen_until)
        .execute(self.conn())
        .await?
        .rows_affected())
    }

    /// Recalls an unread message: its content and attachments are deleted. `false` if it
    /// was read (or recalled) in the meantime.
    pub async fn recall_message(
        &mut self,
        id: &[u8],
        emptied_body: &[u8],
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = sql::query(
            "UPDATE messages SET recalled_at = $1, body = $2 WHERE id = $3 \
             AND read_at IS NULL AND recalled_at IS NULL",
        )
        .bind(now)
        .bind(emptied_body)
        .bind(id)
        .execute(self.conn())
        .await?
        .rows_affected();
        if n == 1 {
            sql::query("DELETE FROM attachments WHERE message_id = $1")
                .bind(id)
                .execute(self.conn())
                .await?;
        }
        Ok(n == 1)
    }

    pub async fn update_thread(
        &mut self,
        id: &[u8],
        status: &str,
        assigned_staff: Option<&[u8]>,
        assigned_team: Option<&[u8]>,
        cannot_answer: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        // A thread's retention counts from when it first closed; reopening clears it.
        sql::query(
            "UPDATE threads SET status = $1, assigned_staff = $2, assigned_team = $3, \
             cannot_answer = $4, updated_at = $5, \
             closed_at = CASE WHEN $1 = 'lukket' THEN COALESCE(closed_at, $5) ELSE NULL END \
             WHERE id = $6",
        )
        .bind(status)
        .bind(assigned_staff)
        .bind(assigned_team)
        .bind(i64::from(cannot_answer))
        .bind(now)
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn set_journal_worthy(&mut self, id: &[u8], worthy: bool) -> Result<(), StoreError> {
        sql::query("UPDATE messages SET journal_worthy = $1 WHERE id = $2")
            .bind(i64::from(worthy))
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
