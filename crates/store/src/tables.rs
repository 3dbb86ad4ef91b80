//! A generic, typed view of a clinic's tables, for backups: every row out and back in,
//! identically on both backends (and from one backend to the other).

use sqlx::{AssertSqlSafe, Row};

use crate::backend::Db;
use crate::error::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Int,
    Text,
    Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

#[derive(Debug)]
pub struct TableSpec {
    pub name: &'static str,
    pub order_by: &'static str,
    pub columns: &'static [(&'static str, ColumnType)],
}

use ColumnType::{Bytes, Int, Text};

/// The clinic store's tables, in the order they are restored.
pub const CLINIC_TABLES: &[TableSpec] = &[
    TableSpec {
        name: "patients",
        order_by: "id",
        columns: &[
            ("id", Bytes),
            ("person_number_index", Bytes),
            ("person_number", Bytes),
            ("name", Bytes),
            ("phone", Bytes),
            ("email", Bytes),
            ("created_at", Int),
        ],
    },
    TableSpec {
        name: "audit_entries",
        order_by: "seq",
        columns: &[
            ("seq", Int),
            ("at", Int),
            ("actor_id", Text),
            ("actor_role", Text),
            ("actor_clinic", Text),
            ("actor_hpr", Text),
            ("patient_id", Text),
            ("action", Text),
            ("object", Text),
            ("reason", Text),
            ("outcome", Text),
            ("source_session", Text),
            ("source_address", Text),
            ("root_after", Bytes),
        ],
    },
    TableSpec {
        name: "audit_state",
        order_by: "id",
        columns: &[("id", Int), ("frontier", Bytes)],
    },
    TableSpec {
        name: "audit_tree_heads",
        order_by: "kind, tree_size",
        columns: &[
            ("tree_size", Int),
            ("kind", Text),
            ("root", Bytes),
            ("signed_at", Int),
            ("key_version", Int),
            ("signature", Bytes),
        ],
    },
    TableSpec {
        name: "staff",
        order_by: "id",
        columns: &[
            ("id", Bytes),
            ("name", Bytes),
            ("hpr", Text),
            ("active", Int),
            ("created_at", Int),
            ("deactivated_at", Int),
            ("person_number_index", Bytes),
            ("person_number", Bytes),
        ],
    },
    TableSpec {
        name: "authorisations",
        order_by: "id",
        columns: &[
            ("id", Bytes),
            ("staff_id", Bytes),
            ("role", Text),
            ("valid_from", Int),
            ("valid_until", Int),
            ("granted_by", Text),
            ("granted_at", Int),
            ("ended_at", Int),
            ("ended_by", Text),
        ],
    },
    TableSpec {
        name: "access_reviews",
        order_by: "grant_id, reviewed_at",
        columns: &[
            ("grant_id", Bytes),
            ("reviewed_at", Int),
            ("reviewer", Text),
            ("decision", Text),
        ],
    },
    TableSpec {
        name: "training",
        order_by: "staff_id, course, completed_at",
        columns: &[
            ("staff_id", Bytes),
            ("course", Text),
            ("completed_at", Int),
            ("recorded_by", Text),
        ],
    },
    TableSpec {
        name: "clinic_settings",
        order_by: "name",
        columns: &[("name", Text), ("value", Text)],
    },
    TableSpec {
        name: "care_relationships",
        order_by: "staff_id, patient_id, since",
        columns: &[
            ("staff_id", Bytes),
            ("patient_id", Bytes),
            ("since", Int),
            ("ended_at", Int),
        ],
    },
    TableSpec {
        name: "authorisation_clinics",
        order_by: "grant_id, org_number",
        columns: &[("grant_id", Bytes), ("org_number", Text)],
    },
    TableSpec {
        name: "teams",
        order_by: "id",
        columns: &[("id", Bytes), ("name", Bytes), ("created_at", Int)],
    },
    TableSpec {
        name: "team_members",
        order_by: "team_id, staff_id, since",
        columns: &[
            ("team_id", Bytes),
            ("staff_id", Bytes),
            ("since", Int),
            ("ended_at", Int),
        ],
    },
    TableSpec {
        name: "team_care",
        order_by: "team_id, patient_id, since",
        columns: &[
            ("team_id", Bytes),
            ("patient_id", Bytes),
            ("since", Int),
            ("ended_at", Int),
        ],
    },
    TableSpec {
        name: "emergency_access",
        order_by: "id",
        columns: &[
            ("id", Bytes),
            ("staff_id", Bytes),
            ("patient_id", Bytes),
            ("reason", Bytes),
            ("granted_at", Int),
            ("expires_at", Int),
            ("reviewed_by", Text),
            ("reviewed_at", Int),
            ("review_note", Text),
        ],
    },
    TableSpec {
        name: "activation_codes",
        order_by: "id",
        columns: &[
            ("id", Bytes),
            ("code_hash", Bytes),
            ("subject_kind", Text),
            ("subject_id", Bytes),
            ("identity_proof", Text),
            ("issued_by", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("used_at", Int),
        ],
    },
    TableSpec {
        name: "passkeys",
        order_by: "credential_id",
        columns: &[
            ("credential_id", Bytes),
            ("subject_kind", Text),
            ("subject_id", Bytes),
            ("user_handle", Bytes),
            ("passkey", Bytes),
            ("activation_id", Bytes),
            ("created_at", Int),
            ("last_used_at", Int),
            ("revoked_at", Int),
        ],
    },
    TableSpec {
        name: "threads",
        order_by: "id",
        columns: &[
            ("id", Bytes),
            ("patient_id", Bytes),
            ("kind", Text),
            ("subject", Bytes),
            ("status", Text),
            ("assigned_staff", Bytes),
            ("assigned_team", Bytes),
            ("cannot_answer", Int),
            ("started_by", Text),
            ("created_at", Int),
            ("updated_at", Int),
            ("closed_at", Int),
            ("key_id", Bytes),
        ],
    },
    TableSpec {
        name: "messages",
        order_by: "id",
        columns: &[
            ("id", Bytes),
            ("thread_id", Bytes),
            ("author_kind", Text),
            ("author_id", Bytes),
            ("internal", Int),
            ("body", Bytes),
            ("journal_worthy", Int),
            ("created_at", Int),
            ("read_at", Int),
            ("recalled_at", Int),
            ("transferred_at", Int),
        ],
    },
    TableSpec {
        name: "attachments",
        order_by: "id",
        columns: &[
            ("id", Bytes),
            ("message_id", Bytes),
            ("media_type", Text),
            ("size", Int),
            ("content", Bytes),
        ],
    },
    TableSpec {
        name: "info_pages",
        order_by: "slug",
        columns: &[
            ("slug", Text),
            ("title", Text),
            ("body", Text),
            ("updated_at", Int),
            ("updated_by", Text),
        ],
    },
    TableSpec {
        name: "notices",
        order_by: "id",
        columns: &[
            ("id", Bytes),
            ("patient_id", Bytes),
            ("thread_id", Bytes),
            ("kind", Text),
            ("channel", Text),
            ("address", Bytes),
            ("body", Bytes),
            ("body_hash", Bytes),
            ("status", Text),
            ("findings", Text),
            ("attempts", Int),
            ("next_attempt_at", Int),
            ("created_at", Int),
            ("sent_at", Int),
            ("delivered_at", Int),
            ("ended_at", Int),
            ("provider_ref", Text),
            ("last_error", Text),
        ],
    },
    TableSpec {
        name: "notice_templates",
        order_by: "kind, channel",
        columns: &[
            ("kind", Text),
            ("channel", Text),
            ("body", Text),
            ("updated_at", Int),
            ("updated_by", Text),
        ],
    },
    TableSpec {
        name: "consents",
        order_by: "id",
        columns: &[
            ("id", Bytes),
            ("patient_id", Bytes),
            ("subject", Text),
            ("granted", Int),
            ("text_version", Text),
            ("at", Int),
        ],
    },
    TableSpec {
        name: "staff_tasks",
        order_by: "id",
        columns: &[
            ("id", Bytes),
            ("kind", Text),
            ("patient_id", Bytes),
            ("notice_id", Bytes),
            ("thread_id", Bytes),
            ("created_at", Int),
            ("done_at", Int),
            ("done_by", Text),
        ],
    },
    TableSpec {
        name: "patient_requests",
        order_by: "id",
        columns: &[
            ("id", Bytes),
            ("patient_id", Bytes),
            ("kind", Text),
            ("thread_id", Bytes),
            ("body", Bytes),
            ("status", Text),
            ("received_at", Int),
            ("due_at", Int),
            ("answered_at", Int),
            ("answered_by", Text),
            ("answer", Bytes),
            ("lifted_at", Int),
        ],
    },
    TableSpec {
        name: "corrections",
        order_by: "id",
        columns: &[
            ("id", Bytes),
            ("patient_id", Bytes),
            ("request_id", Bytes),
            ("message_id", Bytes),
            ("body", Bytes),
            ("created_at", Int),
            ("created_by", Text),
        ],
    },
    TableSpec {
        name: "incidents",
        order_by: "id",
        columns: &[
            ("id", Bytes),
            ("origin", Text),
            ("status", Text),
            ("patient_id", Bytes),
            ("thread_id", Bytes),
            ("message_id", Bytes),
            ("known_at", Int),
            ("created_by", Text),
            ("description", Bytes),
            ("risk", Text),
            ("decided_at", Int),
            ("decided_by", Text),
            ("reported_at", Int),
            ("patient_told_at", Int),
        ],
    },
];

/// Tables a backup leaves out on purpose: open sessions and failed-login counters are
/// short-lived security state, not the clinic's records; a restore starts them afresh.
pub const NOT_BACKED_UP: &[&str] = &["sessions", "login_failures", "schema_migrations"];

pub fn table(name: &str) -> Option<&'static TableSpec> {
    CLINIC_TABLES.iter().find(|t| t.name == name)
}

impl TableSpec {
    fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Reads every row, in a stable order, in batches handed to `visit`.
    pub async fn dump(
        &self,
        db: &Db,
        mut visit: impl FnMut(Vec<Value>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        const BATCH: i64 = 10_000;
        let mut offset = 0i64;
        loop {
            let sql = format!(
                "SELECT {} FROM {} ORDER BY {} LIMIT {BATCH} OFFSET {offset}",
                self.column_list(),
                self.name,
                self.order_by
            );
            let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&db.pool).await?;
            let n = rows.len() as i64;
            for row in rows {
                let mut values = Vec::with_capacity(self.columns.len());
                for (i, (_, ty)) in self.columns.iter().enumerate() {
                    values.push(match ty {
                        Int => row
                            .try_get::<Option<i64>, _>(i)?
                            .map_or(Value::Null, Value::Int),
                        Text => row
                            .try_get::<Option<String>, _>(i)?
                            .map_or(Value::Null, Value::Text),
                        Bytes => row
                            .try_get::<Option<Vec<u8>>, _>(i)?
                            .map_or(Value::Null, Value::Bytes),
                    });
                }
                visit(values)?;
            }
            if n < BATCH {
                return Ok(());
            }
            offset += BATCH;
        }
    }

    /// Writes rows back inside one transaction; a row that does not fit the table's
    /// columns is refused.
    pub async fn load(&self, db: &Db, rows: &[Vec<Value>]) -> Result<(), StoreError> {
        let placeholders: Vec<String> = (1..=self.columns.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            self.name,
            self.column_list(),
            placeholders.join(", ")
        );
        let mut tx = db.pool.begin().await?;
        if self.name == "audit_state" {
            sqlx::query("DELETE FROM audit_state")
                .execute(&mut *tx)
                .await?;
        }
        for row in rows {
            // A backup from before a migration added columns at the end of a table has
            // shorter rows: the new columns start empty, as the migration left them.
            if row.len() > self.columns.len() || row.is_empty() {
                return Err(StoreError::Malformed(format!(
                    "row of {} has the wrong width",
                    self.name
                )));
            }
            let missing = self.columns.len() - row.len();
            let mut q = sqlx::query(AssertSqlSafe(sql.as_str()));
            let padded = row.iter().chain(std::iter::repeat_n(&Value::Null, missing));
            for (value, (_, ty)) in padded.zip(self.columns) {
                q = match (value, ty) {
                    (Value::Null, Int) => q.bind(None::<i64>),
                    (Value::Null, Text) => q.bind(None::<String>),
                    (Value::Null, Bytes) => q.bind(None::<Vec<u8>>),
                    (Value::Int(v), Int) => q.bind(*v),
                    (Value::Text(v), Text) => q.bind(v.clone()),
                    (Value::Bytes(v), Bytes) => q.bind(v.clone()),
                    _ => {
                        return Err(StoreError::Malformed(format!(
                            "value of the wrong type in {}",
                            self.name
                        )));
                    }
                };
            }
            q.execute(&mut *tx).await?;
        }
        if self.name == "threads" {
            // As migration 15 does: a thread closed in an older backup counts its
            // retention from its last change.
            sqlx::query(
                "UPDATE threads SET closed_at = updated_at WHERE status = 'lukket' AND closed_at IS NULL",
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{Backend, Stores};

    async fn test_clinic()
    -> Result<(tempfile::TempDir, crate::ClinicStore), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let stores = Stores::open(Backend::Sqlite {
            data_dir: dir.path().join("data"),
            vault_dir: dir.path().join("vault"),
        })
        .await?;
        let org = fortrolig_domain::OrgNumber::parse("923456783")?;
        let clinic = stores.create_clinic_store(&org, "Test", 0).await?;
        Ok((dir, clinic))
    }

    /// X7: a backup holds every column of every clinic table but the short-lived ones, so
    /// a migration that adds a column cannot be silently left out of backups.
    #[tokio::test]
    async fn every_clinic_column_is_in_the_backup_x7() -> Result<(), Box<dyn std::error::Error>> {
        let (_dir, clinic) = test_clinic().await?;
        let tables: Vec<(String,)> = sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .fetch_all(&clinic.db().pool)
        .await?;
        let mut missing = Vec::new();
        for (name,) in tables {
            if NOT_BACKED_UP.contains(&name.as_str()) {
                continue;
            }
            let Some(spec) = table(&name) else {
                missing.push(format!("table {name}"));
                continue;
            };
            let columns: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT name FROM pragma_table_info('{name}')"
            )))
            .fetch_all(&clinic.db().pool)
            .await?;
            for (column,) in columns {
                if !spec.columns.iter().any(|(c, _)| *c == column) {
                    missing.push(format!("{name}.{column}"));
                }
            }
        }
        assert!(missing.is_empty(), "not in backups: {missing:?}");
        Ok(())
    }

    /// X7, X4: a backup made before migration 15 (threads without `closed_at` and
    /// `key_id`) restores, a thread that was closed counts its retention from its last
    /// change, and every thread stays sealed with the patient's key (no key of its own).
    #[tokio::test]
    async fn rows_from_before_a_column_was_added_restore_with_it_empty_x7()
    -> Result<(), Box<dyn std::error::Error>> {
        let (_dir, clinic) = test_clinic().await?;
        let spec = table("threads").ok_or("threads")?;
        let old_row = |id: u8, status: &str| {
            vec![
                Value::Bytes(vec![id]),
                Value::Bytes(vec![9]),
                Value::Text("dialog".into()),
                Value::Bytes(vec![1, 2, 3]),
                Value::Text(status.into()),
                Value::Null,
                Value::Null,
                Value::Int(0),
                Value::Text("pasient".into()),
                Value::Int(100),
                Value::Int(200),
            ]
        };
        assert_eq!(old_row(1, "x").len() + 2, spec.columns.len());
        spec.load(clinic.db(), &[old_row(1, "lukket"), old_row(2, "apen")])
            .await?;
        type Restored = (Vec<u8>, Option<i64>, Option<Vec<u8>>);
        let closed: Vec<Restored> =
            sqlx::query_as("SELECT id, closed_at, key_id FROM threads ORDER BY id")
                .fetch_all(&clinic.db().pool)
                .await?;
        assert_eq!(
            closed,
            vec![(vec![1], Some(200), None), (vec![2], None, None)]
        );
        let mut too_wide = old_row(3, "apen");
        too_wide.extend([Value::Null, Value::Null, Value::Null]);
        assert!(spec.load(clinic.db(), &[too_wide]).await.is_err());
        Ok(())
    }
}
