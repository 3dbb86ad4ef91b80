//! The key ring: wrapped keys and audit anchors, in a database of its own.

use std::sync::Arc;

use fortrolig_audit::SignedTreeHead;
use sqlx::Executor;

use crate::clinic::{HeadRow, head_from_row};

use crate::backend::{Db, Dialect};
use crate::error::StoreError;
use crate::sql::{self, Durability, NativeWriter};

#[derive(Debug, Clone)]
pub struct KeyRing {
    pub db: Db,
    /// On SQLite, the connection the audit anchors move forward on (`set_anchor`).
    anchors: Option<Arc<NativeWriter>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicKeyRow {
    pub version: i64,
    pub key_id: Vec<u8>,
    pub wrapped: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRow {
    pub version: i64,
    pub public_key: Vec<u8>,
    pub wrapped: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientKeyRow {
    pub patient_id: Vec<u8>,
    pub key_id: Vec<u8>,
    pub clinic_key_version: i64,
    pub wrapped: Vec<u8>,
}

/// (patient id, key id, clinic key version, wrapped key)
type PatientKeyTuple = (Vec<u8>, Vec<u8>, i64, Vec<u8>);

impl KeyRing {
    pub(crate) fn new(db: Db) -> Self {
        let anchors = db
            .sqlite_file
            .clone()
            .map(|file| Arc::new(NativeWriter::new(file, Durability::Deferred)));
        Self { db, anchors }
    }

    pub async fn close(&self) {
        if let Some(anchors) = &self.anchors {
            anchors.close().await;
        }
        self.db.close().await;
    }

    /// Stores everything a new clinic needs in one transaction.
    pub async fn create_clinic(
        &self,
        org: &str,
        clinic_key: &ClinicKeyRow,
        blind_index_wrapped: &[u8],
        signing: &SigningKeyRow,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.db.pool.begin().await?;
        insert_clinic_key(&mut tx, org, clinic_key, now).await?;
        sqlx::query("INSERT INTO clinic_secrets (org_number, blind_index_wrapped) VALUES ($1, $2)")
            .bind(org)
            .bind(blind_index_wrapped)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO signing_keys (org_number, version, public_key, wrapped) VALUES ($1, $2, $3, $4)")
            .bind(org)
            .bind(signing.version)
            .bind(&signing.public_key)
            .bind(&signing.wrapped)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn has_clinic(&self, org: &str) -> Result<bool, StoreError> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM clinic_secrets WHERE org_number = $1")
                .bind(org)
                .fetch_one(&self.db.pool)
                .await?;
        Ok(n > 0)
    }

    /// All versions of the clinic key still held, newest first.
    pub async fn clinic_keys(&self, org: &str) -> Result<Vec<ClinicKeyRow>, StoreError> {
        let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT version, key_id, wrapped FROM clinic_keys WHERE org_number = $1 ORDER BY version DESC",
        )
        .bind(org)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(version, key_id, wrapped)| ClinicKeyRow {
                version,
                key_id,
                wrapped,
            })
            .collect())
    }

    pub async fn blind_index_key(&self, org: &str) -> Result<Vec<u8>, StoreError> {
        sqlx::query_scalar("SELECT blind_index_wrapped FROM clinic_secrets WHERE org_number = $1")
            .bind(org)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| StoreError::UnknownClinic(org.to_owned()))
    }

    pub async fn signing_keys(&self, org: &str) -> Result<Vec<SigningKeyRow>, StoreError> {
        let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT version, public_key, wrapped FROM signing_keys WHERE org_number = $1 ORDER BY version DESC",
        )
        .bind(org)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(version, public_key, wrapped)| SigningKeyRow {
                version,
                public_key,
                wrapped,
            })
            .collect())
    }

    pub async fn insert_patient_key(
        &self,
        org: &str,
        row: &PatientKeyRow,
    ) -> Result<(), StoreError> {
        let query = sql::query(
            "INSERT INTO patient_keys (org_number, patient_id, key_id, clinic_key_version, wrapped) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(org)
        .bind(&row.patient_id)
        .bind(&row.key_id)
        .bind(row.clinic_key_version)
        .bind(&row.wrapped);
        // Natively on SQLite (one statement, durable before the patient is written).
        query
            .execute_alone(self.db.native.as_deref(), &self.db.pool)
            .await?;
        Ok(())
    }

    pub async fn patient_key(
        &self,
        org: &str,
        patient_id: &[u8],
    ) -> Result<Option<PatientKeyRow>, StoreError> {
        let row: Option<(Vec<u8>, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT key_id, clinic_key_version, wrapped FROM patient_keys WHERE org_number = $1 AND patient_id = $2",
        )
        .bind(org)
        .bind(patient_id)
        .fetch_optional(&self.db.pool)
        .await?;
        Ok(
            row.map(|(key_id, clinic_key_version, wrapped)| PatientKeyRow {
                patient_id: patient_id.to_vec(),
                key_id,
                clinic_key_version,
                wrapped,
            }),
        )
    }

    pub async fn patient_keys(&self, org: &str) -> Result<Vec<PatientKeyRow>, StoreError> {
        let rows: Vec<PatientKeyTuple> = sqlx::query_as(
            "SELECT patient_id, key_id, clinic_key_version, wrapped FROM patient_keys WHERE org_number = $1",
        )
        .bind(org)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(patient_id, key_id, clinic_key_version, wrapped)| PatientKeyRow {
                    patient_id,
                    key_id,
                    clinic_key_version,
                    wrapped,
                },
            )
            .collect())
    }

    /// The clinic's key for its staff's personal data, if one was made. The row's
    /// `patient_id` is empty.
    pub async fn people_key(&self, org: &str) -> Result<Option<PatientKeyRow>, StoreError> {
        let row: Option<(Vec<u8>, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT key_id, clinic_key_version, wrapped FROM people_keys WHERE org_number = $1",
        )
        .bind(org)
        .fetch_optional(&self.db.pool)
        .await?;
        Ok(
            row.map(|(key_id, clinic_key_version, wrapped)| PatientKeyRow {
                patient_id: Vec::new(),
                key_id,
                clinic_key_version,
                wrapped,
            }),
        )
    }

    /// Stores the people key unless one is there already (then the stored one wins).
    pub async fn insert_people_key(
        &self,
        org: &str,
        row: &PatientKeyRow,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO people_keys (org_number, key_id, clinic_key_version, wrapped) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_number) DO NOTHING",
        )
        .bind(org)
        .bind(&row.key_id)
        .bind(row.clinic_key_version)
        .bind(&row.wrapped)
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// Installs a new clinic key version, rewraps every patient key (and the people key)
    /// under it and forgets the older versions, all in one transaction. Content is not
    /// touched.
    pub async fn rotate_clinic_key(
        &self,
        org: &str,
        new_key: &ClinicKeyRow,
        rewrapped: &[PatientKeyRow],
        people: Option<&PatientKeyRow>,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.db.pool.begin().await?;
        insert_clinic_key(&mut tx, org, new_key, now).await?;
        if let Some(row) = people {
            sqlx::query("UPDATE people_keys SET clinic_key_version = $1, wrapped = $2 WHERE org_number = $3")
                .bind(row.clinic_key_version)
                .bind(&row.wrapped)
                .bind(org)
                .execute(&mut *tx)
                .await?;
        }
        for row in rewrapped {
            sqlx::query(
                "UPDATE patient_keys SET clinic_key_version = $1, wrapped = $2 \
                 WHERE org_number = $3 AND patient_id = $4",
            )
            .bind(row.clinic_key_version)
            .bind(&row.wrapped)
            .bind(org)
            .bind(&row.patient_id)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM clinic_keys WHERE org_number = $1 AND version < $2")
            .bind(org)
            .bind(new_key.version)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.scrub().await
    }

    /// Destroys a patient's data key and records that it was destroyed.
    pub async fn shred_patient_key(
        &self,
        org: &str,
        patient_id: &[u8],
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.db.pool.begin().await?;
        let deleted =
            sqlx::query("DELETE FROM patient_keys WHERE org_number = $1 AND patient_id = $2")
                .bind(org)
                .bind(patient_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        // The patient's conversation keys are useless without theirs; they go too.
        sqlx::query("DELETE FROM thread_keys WHERE org_number = $1 AND patient_id = $2")
            .bind(org)
            .bind(patient_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM shredded_patients WHERE org_number = $1 AND patient_id = $2")
            .bind(org)
            .bind(patient_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO shredded_patients (org_number, patient_id, shredded_at) VALUES ($1, $2, $3)")
            .bind(org)
            .bind(patient_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.scrub().await?;
        Ok(deleted > 0)
    }

    /// Pushes deleted key material out of the write-ahead log and free pages. SQLite
    /// runs with `secure_delete`; PostgreSQL gets a VACUUM of the key tables.
    pub(crate) async fn scrub(&self) -> Result<(), StoreError> {
        match self.db.dialect {
            Dialect::Sqlite => {
                self.db
                    .pool
                    .execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    .await?;
            }
            Dialect::Postgres => {
                self.db
                    .pool
                    .execute("VACUUM patient_keys, clinic_keys, thread_keys")
                    .await?;
            }
        }
        Ok(())
    }

    pub async fn anchor(&self, org: &str) -> Result<Option<SignedTreeHead>, StoreError> {
        let row: Option<HeadRow> = sqlx::query_as(
            "SELECT tree_size, root, signed_at, key_version, signature FROM audit_anchors WHERE org_number = $1",
        )
        .bind(org)
        .fetch_optional(&self.db.pool)
        .await?;
        row.map(|r| head_from_row(org, r)).transpose()
    }

    /// Moves the anchor forward (never back, unless `allow_back` for a restore).
    ///
    /// It runs once per group commit, on the clinic's write path, so on SQLite it goes
    /// natively and without an fsync of its own (`Durability::Deferred`): the clinic's
    /// entries are durable already, and an anchor that a power cut takes back to an
    /// earlier head is the same as a crash between the commit and this update, which
    /// verification allows (the anchor is a floor). A restore's anchor is durable.
    pub async fn set_anchor(
        &self,
        org: &str,
        anchor: &SignedTreeHead,
        allow_back: bool,
    ) -> Result<(), StoreError> {
        let query = sql::query(
            "INSERT INTO audit_anchors (org_number, tree_size, root, signed_at, key_version, signature) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (org_number) DO UPDATE SET tree_size = excluded.tree_size, \
             root = excluded.root, signed_at = excluded.signed_at, \
             key_version = excluded.key_version, signature = excluded.signature \
             WHERE $7 OR audit_anchors.tree_size <= excluded.tree_size",
        )
        .bind(org)
        .bind(anchor.head.size as i64)
        .bind(anchor.head.root.as_slice())
        .bind(anchor.head.signed_at)
        .bind(i64::from(anchor.key_version))
        .bind(&anchor.signature)
        .bind(allow_back);
        let native = self.anchors.as_deref().filter(|_| !allow_back);
        query.execute_alone(native, &self.db.pool).await?;
        Ok(())
    }
}

async fn insert_clinic_key(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    org: &str,
    key: &ClinicKeyRow,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO clinic_keys (org_number, version, key_id, wrapped, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(org)
        .bind(key.version)
        .bind(&key.key_id)
        .bind(&key.wrapped)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
