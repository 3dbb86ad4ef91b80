//! Sessions and failed-login counts in a clinic's store.

use crate::clinic::{ClinicStore, ClinicTx};
use crate::error::StoreError;
use crate::messages::{THREAD_COLUMNS_T, ThreadRow, thread_from_row};
use crate::sql::{self, RowRef};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub token_hash: Vec<u8>,
    pub subject_kind: String,
    pub subject_id: Vec<u8>,
    pub level: String,
    pub provider: String,
    pub provider_sid: Option<String>,
    pub csrf_token: Vec<u8>,
    pub created_at: i64,
    pub last_seen: i64,
    pub expires_at: i64,
    pub ended_at: Option<i64>,
    pub end_reason: Option<String>,
    /// The provider's id_token, sealed by the service; cleared when the session ends.
    pub id_token: Option<Vec<u8>>,
}

type SessionTuple = (
    Vec<u8>,
    String,
    Vec<u8>,
    String,
    String,
    Option<String>,
    Vec<u8>,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<Vec<u8>>,
);

fn session_from(t: SessionTuple) -> SessionRow {
    SessionRow {
        token_hash: t.0,
        subject_kind: t.1,
        subject_id: t.2,
        level: t.3,
        provider: t.4,
        provider_sid: t.5,
        csrf_token: t.6,
        created_at: t.7,
        last_seen: t.8,
        expires_at: t.9,
        ended_at: t.10,
        end_reason: t.11,
        id_token: t.12,
    }
}

/// A session from the first columns of a row, as `SESSION` selects them.
fn session_of(row: &RowRef<'_, '_>) -> Result<SessionRow, StoreError> {
    Ok(SessionRow {
        token_hash: row.get(0)?,
        subject_kind: row.get(1)?,
        subject_id: row.get(2)?,
        level: row.get(3)?,
        provider: row.get(4)?,
        provider_sid: row.get(5)?,
        csrf_token: row.get(6)?,
        created_at: row.get(7)?,
        last_seen: row.get(8)?,
        expires_at: row.get(9)?,
        ended_at: row.get(10)?,
        end_reason: row.get(11)?,
        id_token: row.get(12)?,
    })
}

const SESSION: &str = "SELECT token_hash, subject_kind, subject_id, level, provider, provider_sid, csrf_token, \
     created_at, last_seen, expires_at, ended_at, end_reason, id_token FROM sessions";

impl ClinicStore {
    pub async fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRow>, StoreError> {
        sql::query(format!("{SESSION} WHERE token_hash = $1"))
            .bind(token_hash)
            .fetch_optional_in(self.db(), session_of)
            .await
    }

    /// A session and, in the same read, one of its patient's threads (`None` if there is
    /// no such thread or it is not theirs): a patient's write needs both, and one
    /// statement is one round trip to PostgreSQL fewer.
    pub async fn session_and_thread(
        &self,
        token_hash: &[u8],
        thread_id: &[u8],
    ) -> Result<Option<(SessionRow, Option<ThreadRow>)>, StoreError> {
        sql::query(format!(
            "SELECT s.token_hash, s.subject_kind, s.subject_id, s.level, s.provider, \
             s.provider_sid, s.csrf_token, s.created_at, s.last_seen, s.expires_at, \
             s.ended_at, s.end_reason, s.id_token, {THREAD_COLUMNS_T} FROM sessions s \
             LEFT JOIN threads t ON t.id = $2 AND t.patient_id = s.subject_id \
             AND s.subject_kind = 'patient' WHERE s.token_hash = $1"
        ))
        .bind(token_hash)
        .bind(thread_id)
        .fetch_optional_in(self.db(), |row| {
            Ok((session_of(row)?, thread_from_row(row, 13)?))
        })
        .await
    }

    pub async fn sessions_of(
        &self,
        kind: &str,
        subject: &[u8],
    ) -> Result<Vec<SessionRow>, StoreError> {
        let rows: Vec<SessionTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SESSION} WHERE subject_kind = $1 AND subject_id = $2 AND ended_at IS NULL ORDER BY created_at"
        )))
        .bind(kind)
        .bind(subject)
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows.into_iter().map(session_from).collect())
    }

    pub async fn touch_session(&self, token_hash: &[u8], now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sessions SET last_seen = $1 WHERE token_hash = $2 AND ended_at IS NULL",
        )
        .bind(now)
        .bind(token_hash)
        .execute(&self.db().pool)
        .await?;
        Ok(())
    }

    /// Ends one session on expiry; true if it was still open.
    pub async fn end_session(
        &self,
        token_hash: &[u8],
        reason: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = end_session(token_hash, reason, now)
            .execute_on(&self.db().pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Ends every open session of a subject (a person who leaves, "log out everywhere").
    pub async fn end_sessions_of(
        &self,
        kind: &str,
        subject: &[u8],
        reason: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        Ok(end_sessions_of(kind, subject, reason, now)
            .execute_on(&self.db().pool)
            .await?
            .rows_affected())
    }

    pub async fn record_login_failure(&self, key_hash: &[u8], now: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO login_failures (key_hash, at) VALUES ($1, $2)")
            .bind(key_hash)
            .bind(now)
            .execute(&self.db().pool)
            .await?;
        Ok(())
    }

    pub async fn login_failures_since(
        &self,
        key_hash: &[u8],
        since: i64,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_failures WHERE key_hash = $1 AND at >= $2",
        )
        .bind(key_hash)
        .bind(since)
        .fetch_one(&self.db().pool)
        .await?)
    }

    pub async fn clear_login_failures(&self, key_hash: &[u8]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE key_hash = $1")
            .bind(key_hash)
            .execute(&self.db().pool)
            .await?;
        Ok(())
    }
}

impl ClinicTx {
    /// In the transaction that records the login, so that no session exists unlogged.
    pub async fn insert_session(&mut self, row: &SessionRow) -> Result<(), StoreError> {
        sql::query(
            "INSERT INTO sessions (token_hash, subject_kind, subject_id, level, provider, provider_sid, csrf_token, \
             created_at, last_seen, expires_at, ended_at, end_reason, id_token) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, $11)",
        )
        .bind(&row.token_hash)
        .bind(&row.subject_kind)
        .bind(&row.subject_id)
        .bind(&row.level)
        .bind(&row.provider)
        .bind(row.provider_sid.as_deref())
        .bind(&row.csrf_token)
        .bind(row.created_at)
        .bind(row.last_seen)
        .bind(row.expires_at)
        .bind(row.id_token.as_deref())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Ends one session in the transaction that records the logout; true if it was open.
    pub async fn end_session(
        &mut self,
        token_hash: &[u8],
        reason: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = end_session(token_hash, reason, now)
            .execute(self.conn())
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Ends every open session of a subject in the transaction that records it.
    pub async fn end_sessions_of(
        &mut self,
        kind: &str,
        subject: &[u8],
        reason: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        Ok(end_sessions_of(kind, subject, reason, now)
            .execute(self.conn())
            .await?
            .rows_affected())
    }
}

// An ended session keeps no id_token: it was only kept for logging out at the provider.
fn end_sessions_of<'a>(
    kind: &'a str,
    subject: &'a [u8],
    reason: &'a str,
    now: i64,
) -> sql::Query<'a> {
    sql::query(
        "UPDATE sessions SET ended_at = $1, end_reason = $2, id_token = NULL \
         WHERE subject_kind = $3 AND subject_id = $4 AND ended_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(kind)
    .bind(subject)
}

fn end_session<'a>(token_hash: &'a [u8], reason: &'a str, now: i64) -> sql::Query<'a> {
    sql::query(
        "UPDATE sessions SET ended_at = $1, end_reason = $2, id_token = NULL \
         WHERE token_hash = $3 AND ended_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(token_hash)
}
