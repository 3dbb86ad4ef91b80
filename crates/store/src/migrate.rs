//! Embedded migrations from one logical source for both backends.

use sqlx::{AssertSqlSafe, Executor};

use crate::backend::Db;
use crate::error::StoreError;

#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migration {
    ($version:literal, $file:literal) => {
        Migration {
            version: $version,
            name: $file,
            sql: include_str!(concat!("../migrations/", $file, ".sql")),
        }
    };
}

const DIRECTORY: &[Migration] = &[migration!(1, "directory_0001_init")];
const KEYRING: &[Migration] = &[
    migration!(1, "keyring_0001_init"),
    migration!(2, "keyring_0002_people_keys"),
    migration!(3, "keyring_0003_thread_keys"),
];
const CLINIC: &[Migration] = &[
    migration!(1, "clinic_0001_init"),
    migration!(2, "clinic_0002_tree_heads"),
    migration!(3, "clinic_0003_people"),
    migration!(4, "clinic_0004_sessions"),
    migration!(5, "clinic_0005_staff_identity"),
    migration!(6, "clinic_0006_access_reviews"),
    migration!(7, "clinic_0007_training"),
    migration!(8, "clinic_0008_passkeys"),
    migration!(9, "clinic_0009_teams"),
    migration!(10, "clinic_0010_session_id_token"),
    migration!(11, "clinic_0011_messages"),
    migration!(12, "clinic_0012_info_pages"),
    migration!(13, "clinic_0013_staff_person_number"),
    migration!(14, "clinic_0014_notices"),
    migration!(15, "clinic_0015_retention"),
    migration!(16, "clinic_0016_requests"),
    migration!(17, "clinic_0017_thread_keys"),
    migration!(18, "clinic_0018_incidents"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    Directory,
    KeyRing,
    Clinic,
}

impl Schema {
    pub fn migrations(self) -> &'static [Migration] {
        match self {
            Schema::Directory => DIRECTORY,
            Schema::KeyRing => KEYRING,
            Schema::Clinic => CLINIC,
        }
    }

    /// Applies the migrations this store lacks, each in its own transaction. A store from
    /// a newer build is refused rather than touched.
    pub async fn migrate(self, db: &Db) -> Result<(), StoreError> {
        self.migrate_to(db, i64::MAX).await
    }

    /// Like `migrate`, but stops after `target` (used to build old fixtures in tests).
    pub async fn migrate_to(self, db: &Db, target: i64) -> Result<(), StoreError> {
        db.pool
            .execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (\
                 version BIGINT PRIMARY KEY, name TEXT NOT NULL)",
            )
            .await?;
        let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(&db.pool)
            .await?;
        let current = current.unwrap_or(0);
        let known = self.migrations().last().map_or(0, |m| m.version);
        if current > known {
            return Err(StoreError::SchemaTooNew {
                found: current,
                known,
            });
        }
        for m in self.migrations() {
            if m.version <= current || m.version > target {
                continue;
            }
            let sql = m.sql.replace("{blob}", db.dialect.blob());
            let mut tx = db.pool.begin().await?;
            for statement in split_statements(&sql) {
                tx.execute(AssertSqlSafe(statement.to_owned())).await?;
            }
            sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
                .bind(m.version)
                .bind(m.name)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::info!(schema = ?self, version = m.version, name = m.name, "migration applied");
        }
        Ok(())
    }
}

/// Splits a migration into statements at `;` line ends, dropping `--` comment lines.
fn split_statements(sql: &str) -> Vec<&str> {
    sql.split(";\n")
        .map(str::trim)
        .filter(|s| {
            s.lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_has_ordered_versions_from_one() {
        // One after the other from 1: a store skips every version at or below its newest.
        for schema in [Schema::Directory, Schema::KeyRing, Schema::Clinic] {
            let mut last = 0;
            for m in schema.migrations() {
                assert_eq!(m.version, last + 1, "{}", m.name);
                last = m.version;
            }
        }
    }

    #[test]
    fn statements_split_and_comments_dropped() {
        let parts = split_statements("-- c\nCREATE TABLE a (x INT);\nCREATE TABLE b (y INT);\n");
        assert_eq!(parts.len(), 2);
        assert!(parts[1].starts_with("CREATE TABLE b"));
    }
}
