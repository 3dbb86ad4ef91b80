//! The patient's requests and the dated corrections they lead to (issue 6 item 3; P9).
//! Texts are ciphertext here; kinds, statuses and times are plain, so a request stays on
//! record after its patient is shredded.

use crate::clinic::{ClinicStore, ClinicTx};
use crate::error::StoreError;
use crate::sql;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRow {
    pub id: Vec<u8>,
    pub patient_id: Vec<u8>,
    pub kind: String,
    pub thread_id: Option<Vec<u8>>,
    pub body: Vec<u8>,
    pub status: String,
    pub received_at: i64,
    pub due_at: i64,
    pub answered_at: Option<i64>,
    pub answered_by: Option<String>,
    pub answer: Option<Vec<u8>>,
    pub lifted_at: Option<i64>,
}

type RequestTuple = (
    Vec<u8>,
    Vec<u8>,
    String,
    Option<Vec<u8>>,
    Vec<u8>,
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<Vec<u8>>,
    Option<i64>,
);

const REQUEST: &str = "SELECT id, patient_id, kind, thread_id, body, status, received_at, due_at, \
     answered_at, answered_by, answer, lifted_at FROM patient_requests";

fn request_from(t: RequestTuple) -> RequestRow {
    RequestRow {
        id: t.0,
        patient_id: t.1,
        kind: t.2,
        thread_id: t.3,
        body: t.4,
        status: t.5,
        received_at: t.6,
        due_at: t.7,
        answered_at: t.8,
        answered_by: t.9,
        answer: t.10,
        lifted_at: t.11,
    }
}

/// A dated correction of a message (`message_id`) or of the patient's registered data
/// (`message_id` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionRow {
    pub id: Vec<u8>,
    pub patient_id: Vec<u8>,
    pub request_id: Vec<u8>,
    pub message_id: Option<Vec<u8>>,
    pub body: Vec<u8>,
    pub created_at: i64,
    pub created_by: String,
}

type CorrectionTuple = (
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    Option<Vec<u8>>,
    Vec<u8>,
    i64,
    String,
);

/// How a request was answered, for `ClinicTx::answer_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestAnswer {
    pub status: String,
    pub answered_at: i64,
    pub answered_by: String,
    pub answer: Vec<u8>,
}

impl ClinicStore {
    pub async fn request(&self, id: &[u8]) -> Result<Option<RequestRow>, StoreError> {
        let row: Option<RequestTuple> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{REQUEST} WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.db().pool)
                .await?;
        Ok(row.map(request_from))
    }

    /// A patient's requests, newest first.
    pub async fn requests_of(&self, patient: &[u8]) -> Result<Vec<RequestRow>, StoreError> {
        let rows: Vec<RequestTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{REQUEST} WHERE patient_id = $1 ORDER BY received_at DESC, id"
        )))
        .bind(patient)
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows.into_iter().map(request_from).collect())
    }

    /// The clinic's requests: the open ones by deadline, oldest first, then up to
    /// `answered` of the answered ones, newest first.
    pub async fn requests_for_staff(&self, answered: i64) -> Result<Vec<RequestRow>, StoreError> {
        let mut rows: Vec<RequestTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{REQUEST} WHERE status = 'mottatt' ORDER BY due_at, id"
        )))
        .fetch_all(&self.db().pool)
        .await?;
        let done: Vec<RequestTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{REQUEST} WHERE status <> 'mottatt' ORDER BY answered_at DESC, id LIMIT $1"
        )))
        .bind(answered)
        .fetch_all(&self.db().pool)
        .await?;
        rows.extend(done);
        Ok(rows.into_iter().map(request_from).collect())
    }

    /// A patient's corrections, oldest first.
    pub async fn corrections_of(&self, patient: &[u8]) -> Result<Vec<CorrectionRow>, StoreError> {
        let rows: Vec<CorrectionTuple> = sqlx::query_as(
            "SELECT id, patient_id, request_id, message_id, body, created_at, created_by \
             FROM corrections WHERE patient_id = $1 ORDER BY created_at, id",
        )
        .bind(patient)
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|t| CorrectionRow {
                id: t.0,
                patient_id: t.1,
                request_id: t.2,
                message_id: t.3,
                body: t.4,
                created_at: t.5,
                created_by: t.6,
            })
            .collect())
    }
}

impl ClinicTx {
    pub async fn insert_request(&mut self, row: &RequestRow) -> Result<(), StoreError> {
        sql::query(
            "INSERT INTO patient_requests (id, patient_id, kind, thread_id, body, status, \
             received_at, due_at, answered_at, answered_by, answer, lifted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, NULL, NULL)",
        )
        .bind(&row.id)
        .bind(&row.patient_id)
        .bind(&row.kind)
        .bind(row.thread_id.as_deref())
        .bind(&row.body)
        .bind(&row.status)
        .bind(row.received_at)
        .bind(row.due_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Answers an open request; `false` if it was answered meanwhile (nothing changed).
    pub async fn answer_request(
        &mut self,
        id: &[u8],
        answer: &RequestAnswer,
    ) -> Result<bool, StoreError> {
        Ok(sql::query(
            "UPDATE patient_requests SET status = $1, answered_at = $2, answered_by = $3, \
             answer = $4 WHERE id = $5 AND status = 'mottatt'",
        )
        .bind(&answer.status)
        .bind(answer.answered_at)
        .bind(&answer.answered_by)
        .bind(&answer.answer)
        .bind(id)
        .execute(self.conn())
        .await?
        .rows_affected()
            == 1)
    }

    /// Lifts a granted restriction; `false` if it was not in force.
    pub async fn lift_restriction(&mut self, id: &[u8], now: i64) -> Result<bool, StoreError> {
        Ok(sql::query(
            "UPDATE patient_requests SET lifted_at = $1 WHERE id = $2 AND kind = 'begrensning' \
             AND status = 'innvilget' AND lifted_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(self.conn())
        .await?
        .rows_affected()
            == 1)
    }

    pub async fn insert_correction(&mut self, row: &CorrectionRow) -> Result<(), StoreError> {
        sql::query(
            "INSERT INTO corrections (id, patient_id, request_id, message_id, body, created_at, \
             created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&row.id)
        .bind(&row.patient_id)
        .bind(&row.request_id)
        .bind(row.message_id.as_deref())
        .bind(&row.body)
        .bind(row.created_at)
        .bind(&row.created_by)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
