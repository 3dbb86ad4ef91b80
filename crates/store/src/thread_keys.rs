//! Conversation keys in the key ring (issue 6 item 3): one per thread, wrapped by the
//! patient's data key. Deleting one shreds that conversation in every backup.

use crate::error::StoreError;
use crate::keyring::{KeyRing, PatientKeyRow};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadKeyRow {
    pub thread_id: Vec<u8>,
    pub patient_id: Vec<u8>,
    pub key_id: Vec<u8>,
    pub wrapped: Vec<u8>,
    pub created_at: i64,
}

/// The patient's key and, if there is one, the thread's.
type ContentKeysTuple = (
    Vec<u8>,
    i64,
    Vec<u8>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<i64>,
);

impl KeyRing {
    pub async fn insert_thread_key(&self, org: &str, row: &ThreadKeyRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO thread_keys (org_number, thread_id, patient_id, key_id, wrapped, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(org)
        .bind(&row.thread_id)
        .bind(&row.patient_id)
        .bind(&row.key_id)
        .bind(&row.wrapped)
        .bind(row.created_at)
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// The patient's key and the thread's, in one round trip (every message needs
    /// both). `None` when the patient's key is gone; the thread's is `None` when it was
    /// never made or has been shredded.
    pub async fn content_keys(
        &self,
        org: &str,
        patient_id: &[u8],
        thread_id: &[u8],
    ) -> Result<Option<(PatientKeyRow, Option<ThreadKeyRow>)>, StoreError> {
        let row: Option<ContentKeysTuple> = sqlx::query_as(
            "SELECT p.key_id, p.clinic_key_version, p.wrapped, t.key_id, t.wrapped, t.created_at \
             FROM patient_keys p LEFT JOIN thread_keys t \
             ON t.org_number = p.org_number AND t.patient_id = p.patient_id AND t.thread_id = $3 \
             WHERE p.org_number = $1 AND p.patient_id = $2",
        )
        .bind(org)
        .bind(patient_id)
        .bind(thread_id)
        .fetch_optional(&self.db.pool)
        .await?;
        Ok(
            row.map(|(key_id, version, wrapped, t_key, t_wrapped, t_made)| {
                let patient = PatientKeyRow {
                    patient_id: patient_id.to_vec(),
                    key_id,
                    clinic_key_version: version,
                    wrapped,
                };
                let thread = match (t_key, t_wrapped, t_made) {
                    (Some(key_id), Some(wrapped), Some(created_at)) => Some(ThreadKeyRow {
                        thread_id: thread_id.to_vec(),
                        patient_id: patient_id.to_vec(),
                        key_id,
                        wrapped,
                        created_at,
                    }),
                    _ => None,
                };
                (patient, thread)
            }),
        )
    }

    /// Destroys conversations' keys and pushes them out of the log and free pages.
    pub async fn shred_thread_keys(
        &self,
        org: &str,
        thread_ids: &[Vec<u8>],
    ) -> Result<u64, StoreError> {
        if thread_ids.is_empty() {
            return Ok(0);
        }
        let mut tx = self.db.pool.begin().await?;
        let mut deleted = 0;
        for id in thread_ids {
            deleted +=
                sqlx::query("DELETE FROM thread_keys WHERE org_number = $1 AND thread_id = $2")
                    .bind(org)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
        }
        tx.commit().await?;
        self.scrub().await?;
        Ok(deleted)
    }

    /// The threads with a key made before `before` (microseconds): for finding keys
    /// whose thread is gone.
    pub async fn thread_keys_made_before(
        &self,
        org: &str,
        before: i64,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
            "SELECT thread_id FROM thread_keys WHERE org_number = $1 AND created_at < $2 ORDER BY thread_id",
        )
        .bind(org)
        .bind(before)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}
