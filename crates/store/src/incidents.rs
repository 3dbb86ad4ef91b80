//! The clinic's incident register (avvik; C4, S7). The description is ciphertext here;
//! origin, status, risk and times are plain, so the register outlives a shredded patient.

use std::collections::HashMap;

use crate::clinic::{ClinicStore, ClinicTx};
use crate::error::StoreError;
use crate::sql;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRow {
    pub id: Vec<u8>,
    pub origin: String,
    pub status: String,
    pub patient_id: Option<Vec<u8>>,
    pub thread_id: Option<Vec<u8>>,
    pub message_id: Option<Vec<u8>>,
    pub known_at: i64,
    pub created_by: String,
    pub description: Option<Vec<u8>>,
    pub risk: Option<String>,
    pub decided_at: Option<i64>,
    pub decided_by: Option<String>,
    pub reported_at: Option<i64>,
    pub patient_told_at: Option<i64>,
}

type IncidentTuple = (
    Vec<u8>,
    String,
    String,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    i64,
    String,
    Option<Vec<u8>>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

const INCIDENT: &str = "SELECT id, origin, status, patient_id, thread_id, message_id, known_at, \
     created_by, description, risk, decided_at, decided_by, reported_at, patient_told_at \
     FROM incidents";

fn incident_from(t: IncidentTuple) -> IncidentRow {
    IncidentRow {
        id: t.0,
        origin: t.1,
        status: t.2,
        patient_id: t.3,
        thread_id: t.4,
        message_id: t.5,
        known_at: t.6,
        created_by: t.7,
        description: t.8,
        risk: t.9,
        decided_at: t.10,
        decided_by: t.11,
        reported_at: t.12,
        patient_told_at: t.13,
    }
}

/// An assessment of a draft, for `ClinicTx::decide_incident`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentDecision {
    pub status: String,
    pub description: Vec<u8>,
    pub risk: Option<String>,
    pub decided_at: i64,
    pub decided_by: String,
}

impl ClinicStore {
    pub async fn incident(&self, id: &[u8]) -> Result<Option<IncidentRow>, StoreError> {
        let row: Option<IncidentTuple> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{INCIDENT} WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.db().pool)
                .await?;
        Ok(row.map(incident_from))
    }

    /// The register: drafts first, oldest first (their clock runs), then up to `decided`
    /// of the assessed ones, newest first.
    pub async fn incidents(&self, decided: i64) -> Result<Vec<IncidentRow>, StoreError> {
        let mut rows: Vec<IncidentTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{INCIDENT} WHERE status = 'utkast' ORDER BY known_at, id"
        )))
        .fetch_all(&self.db().pool)
        .await?;
        let done: Vec<IncidentTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{INCIDENT} WHERE status <> 'utkast' ORDER BY known_at DESC, id LIMIT $1"
        )))
        .bind(decided)
        .fetch_all(&self.db().pool)
        .await?;
        rows.extend(done);
        Ok(rows.into_iter().map(incident_from).collect())
    }
}

impl ClinicStore {
    /// The stored kind of every thread an incident names and that still exists, in one
    /// query (the register decides access per row by it).
    pub async fn incident_thread_kinds(&self) -> Result<HashMap<Vec<u8>, String>, StoreError> {
        let rows: Vec<(Vec<u8>, String)> = sqlx::query_as(
            "SELECT id, kind FROM threads WHERE id IN (SELECT thread_id FROM incidents)",
        )
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows.into_iter().collect())
    }
}

impl ClinicTx {
    pub async fn insert_incident(&mut self, row: &IncidentRow) -> Result<(), StoreError> {
        sql::query(
            "INSERT INTO incidents (id, origin, status, patient_id, thread_id, message_id, \
             known_at, created_by, description, risk, decided_at, decided_by, reported_at, \
             patient_told_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&row.id)
        .bind(&row.origin)
        .bind(&row.status)
        .bind(row.patient_id.as_deref())
        .bind(row.thread_id.as_deref())
        .bind(row.message_id.as_deref())
        .bind(row.known_at)
        .bind(&row.created_by)
        .bind(row.description.as_deref())
        .bind(row.risk.as_deref())
        .bind(row.decided_at)
        .bind(row.decided_by.as_deref())
        .bind(row.reported_at)
        .bind(row.patient_told_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Assesses a draft; `false` if it was assessed meanwhile (nothing changed).
    pub async fn decide_incident(
        &mut self,
        id: &[u8],
        decision: &IncidentDecision,
    ) -> Result<bool, StoreError> {
        Ok(sql::query(
            "UPDATE incidents SET status = $1, description = $2, risk = $3, decided_at = $4, \
             decided_by = $5 WHERE id = $6 AND status = 'utkast'",
        )
        .bind(&decision.status)
        .bind(&decision.description)
        .bind(decision.risk.as_deref())
        .bind(decision.decided_at)
        .bind(&decision.decided_by)
        .bind(id)
        .execute(self.conn())
        .await?
        .rows_affected()
            == 1)
    }

    /// Records that a registered incident was reported to Datatilsynet (`patient_told`
    /// false) or told to the patient (true); `false` if it was already, or is not
    /// registered. The first time stands.
    pub async fn follow_up_incident(
        &mut self,
        id: &[u8],
        patient_told: bool,
        at: i64,
    ) -> Result<bool, StoreError> {
        let sql = if patient_told {
            "UPDATE incidents SET patient_told_at = $1 WHERE id = $2 \
             AND status = 'registrert' AND patient_told_at IS NULL"
        } else {
            "UPDATE incidents SET reported_at = $1 WHERE id = $2 \
             AND status = 'registrert' AND reported_at IS NULL"
        };
        Ok(sql::query(sql)
            .bind(at)
            .bind(id)
            .execute(self.conn())
            .await?
            .rows_affected()
            == 1)
    }
}
