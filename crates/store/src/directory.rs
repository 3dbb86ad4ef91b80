//! The directory: which clinics exist. Routing data only, no personal data (X5).

use fortrolig_domain::OrgNumber;

use crate::backend::Stores;
use crate::error::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicEntry {
    pub org_number: OrgNumber,
    pub name: String,
    pub created_at: i64,
}

fn entry(org: String, name: String, created_at: i64) -> Result<ClinicEntry, StoreError> {
    let org_number = OrgNumber::parse(&org)
        .map_err(|e| StoreError::Malformed(format!("directory org number: {e}")))?;
    Ok(ClinicEntry {
        org_number,
        name,
        created_at,
    })
}

impl Stores {
    pub async fn clinic(&self, org: &OrgNumber) -> Result<Option<ClinicEntry>, StoreError> {
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT org_number, name, created_at FROM clinics WHERE org_number = $1",
        )
        .bind(org.as_str())
        .fetch_optional(&self.directory.pool)
        .await?;
        row.map(|(o, n, c)| entry(o, n, c)).transpose()
    }

    pub async fn clinics(&self) -> Result<Vec<ClinicEntry>, StoreError> {
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT org_number, name, created_at FROM clinics ORDER BY org_number")
                .fetch_all(&self.directory.pool)
                .await?;
        rows.into_iter().map(|(o, n, c)| entry(o, n, c)).collect()
    }

    pub(crate) async fn register_clinic(
        &self,
        org: &OrgNumber,
        name: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO clinics (org_number, name, created_at) VALUES ($1, $2, $3)")
            .bind(org.as_str())
            .bind(name)
            .bind(now)
            .execute(&self.directory.pool)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    StoreError::ClinicExists(org.to_string())
                }
                _ => StoreError::Database(e),
            })?;
        Ok(())
    }

    /// Registers a clinic from a backup, replacing its name if it is already there.
    pub async fn upsert_clinic(&self, entry: &ClinicEntry) -> Result<(), StoreError> {
        let mut tx = self.directory.pool.begin().await?;
        sqlx::query("DELETE FROM clinics WHERE org_number = $1")
            .bind(entry.org_number.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO clinics (org_number, name, created_at) VALUES ($1, $2, $3)")
            .bind(entry.org_number.as_str())
            .bind(&entry.name)
            .bind(entry.created_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
