//! Activation codes and passkeys in a clinic's store (issue 3 item 3).

use crate::clinic::{ClinicStore, ClinicTx};
use crate::error::StoreError;
use crate::sql;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationRow {
    pub id: Vec<u8>,
    pub code_hash: Vec<u8>,
    pub subject_kind: String,
    pub subject_id: Vec<u8>,
    pub identity_proof: String,
    pub issued_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

type ActivationTuple = (
    Vec<u8>,
    Vec<u8>,
    String,
    Vec<u8>,
    String,
    String,
    i64,
    i64,
    Option<i64>,
);

const ACTIVATION: &str = "SELECT id, code_hash, subject_kind, subject_id, identity_proof, issued_by, \
     created_at, expires_at, used_at FROM activation_codes";

fn activation_from(t: ActivationTuple) -> ActivationRow {
    ActivationRow {
        id: t.0,
        code_hash: t.1,
        subject_kind: t.2,
        subject_id: t.3,
        identity_proof: t.4,
        issued_by: t.5,
        created_at: t.6,
        expires_at: t.7,
        used_at: t.8,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRow {
    pub credential_id: Vec<u8>,
    pub subject_kind: String,
    pub subject_id: Vec<u8>,
    pub user_handle: Vec<u8>,
    /// Sealed; see the migration.
    pub passkey: Vec<u8>,
    pub activation_id: Vec<u8>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

type PasskeyTuple = (
    Vec<u8>,
    String,
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    i64,
    Option<i64>,
    Option<i64>,
);

const PASSKEY: &str = "SELECT credential_id, subject_kind, subject_id, user_handle, passkey, \
     activation_id, created_at, last_used_at, revoked_at FROM passkeys";

fn passkey_from(t: PasskeyTuple) -> PasskeyRow {
    PasskeyRow {
        credential_id: t.0,
        subject_kind: t.1,
        subject_id: t.2,
        user_handle: t.3,
        passkey: t.4,
        activation_id: t.5,
        created_at: t.6,
        last_used_at: t.7,
        revoked_at: t.8,
    }
}

impl ClinicStore {
    pub async fn activation_by_hash(
        &self,
        code_hash: &[u8],
    ) -> Result<Option<ActivationRow>, StoreError> {
        let row: Option<ActivationTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{ACTIVATION} WHERE code_hash = $1"
        )))
        .bind(code_hash)
        .fetch_optional(&self.db().pool)
        .await?;
        Ok(row.map(activation_from))
    }

    pub async fn passkey(&self, credential_id: &[u8]) -> Result<Option<PasskeyRow>, StoreError> {
        let row: Option<PasskeyTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{PASSKEY} WHERE credential_id = $1"
        )))
        .bind(credential_id)
        .fetch_optional(&self.db().pool)
        .await?;
        Ok(row.map(passkey_from))
    }

    /// A subject's passkeys, revoked ones too, oldest first.
    pub async fn passkeys_of(
        &self,
        kind: &str,
        subject: &[u8],
    ) -> Result<Vec<PasskeyRow>, StoreError> {
        let rows: Vec<PasskeyTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{PASSKEY} WHERE subject_kind = $1 AND subject_id = $2 ORDER BY created_at"
        )))
        .bind(kind)
        .bind(subject)
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows.into_iter().map(passkey_from).collect())
    }

    /// A subject's activation codes (the record of how identity was proven), oldest first.
    pub async fn activations_of(
        &self,
        kind: &str,
        subject: &[u8],
    ) -> Result<Vec<ActivationRow>, StoreError> {
        let rows: Vec<ActivationTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{ACTIVATION} WHERE subject_kind = $1 AND subject_id = $2 ORDER BY created_at"
        )))
        .bind(kind)
        .bind(subject)
        .fetch_all(&self.db().pool)
        .await?;
        Ok(rows.into_iter().map(activation_from).collect())
    }

    /// Moves a passkey's signature counter (stored sealed) and last use forward. Not
    /// audited by itself: the login it belongs to is.
    pub async fn passkey_used(
        &self,
        credential_id: &[u8],
        passkey: Option<&[u8]>,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE passkeys SET passkey = COALESCE($1, passkey), last_used_at = $2 WHERE credential_id = $3",
        )
        .bind(passkey)
        .bind(now)
        .bind(credential_id)
        .execute(&self.db().pool)
        .await?;
        Ok(())
    }
}

impl ClinicTx {
    pub async fn insert_activation(&mut self, row: &ActivationRow) -> Result<(), StoreError> {
        sql::query(
            "INSERT INTO activation_codes (id, code_hash, subject_kind, subject_id, identity_proof, \
             issued_by, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)",
        )
        .bind(&row.id)
        .bind(&row.code_hash)
        .bind(&row.subject_kind)
        .bind(&row.subject_id)
        .bind(&row.identity_proof)
        .bind(&row.issued_by)
        .bind(row.created_at)
        .bind(row.expires_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Uses up an activation code and stores the passkey it enrolled, in the transaction
    /// that records the enrolment. A code that is already used or expired leaves nothing
    /// written (`NotOpen`), so one code can never enrol two passkeys, even at once.
    pub async fn enrol_passkey(&mut self, row: &PasskeyRow, now: i64) -> Result<(), StoreError> {
        let used = sql::query(
            "UPDATE activation_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(&row.activation_id)
        .execute(self.conn())
        .await?
        .rows_affected();
        if used != 1 {
            return Err(StoreError::NotOpen);
        }
        sql::query(
            "INSERT INTO passkeys (credential_id, subject_kind, subject_id, user_handle, passkey, \
             activation_id, created_at, last_used_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL)",
        )
        .bind(&row.credential_id)
        .bind(&row.subject_kind)
        .bind(&row.subject_id)
        .bind(&row.user_handle)
        .bind(&row.passkey)
        .bind(&row.activation_id)
        .bind(row.created_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Revokes every passkey of a subject (a person who leaves, a lost device, a patient
    /// whose data is deleted); returns how many were still valid.
    pub async fn revoke_passkeys(
        &mut self,
        kind: &str,
        subject: &[u8],
        now: i64,
    ) -> Result<u64, StoreError> {
        Ok(sql::query(
            "UPDATE passkeys SET revoked_at = $1 WHERE subject_kind = $2 AND subject_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(kind)
        .bind(subject)
        .execute(self.conn())
        .await?
        .rows_affected())
    }
}
