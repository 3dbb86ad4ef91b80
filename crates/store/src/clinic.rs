//! One clinic's store: patients (ciphertext only) and the audit log.

use fortrolig_audit::{Frontier, Hash, LogEntry, SignedTreeHead, TreeHead, leaf_hash};
use fortrolig_domain::OrgNumber;
use sqlx::AssertSqlSafe;

use crate::backend::{Db, Dialect};
use crate::error::StoreError;
use crate::sql::{self, Conn};

/// A handle on exactly one clinic's database. There is no way to reach another clinic's
/// data through it (X5).
#[derive(Debug, Clone)]
pub struct ClinicStore {
    org: OrgNumber,
    db: Db,
}

/// A patient as stored: ids, a blind index and ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientRow {
    pub id: Vec<u8>,
    pub person_number_index: Vec<u8>,
    pub person_number: Vec<u8>,
    pub name: Vec<u8>,
    pub phone: Option<Vec<u8>>,
    pub email: Option<Vec<u8>>,
    pub created_at: i64,
}

/// How an act's savepoint ends (`ClinicTx::act_savepoint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActEnd {
    /// Its changes stay in the transaction.
    Keep,
    /// Its changes are undone.
    Undo,
}

/// Everything one audited act writes to the log, in the same transaction as the act.
#[derive(Debug)]
pub struct AuditAppend<'a> {
    pub entry: &'a LogEntry,
    pub root_after: [u8; 32],
    pub frontier: &'a Frontier,
    pub latest: &'a SignedTreeHead,
    pub checkpoint: bool,
}

pub(crate) type HeadRow = (i64, Vec<u8>, i64, i64, Vec<u8>);

pub(crate) fn head_from_row(
    org: &str,
    (size, root, signed_at, version, signature): HeadRow,
) -> Result<SignedTreeHead, StoreError> {
    let root: [u8; 32] = root
        .try_into()
        .map_err(|_| StoreError::Malformed("tree head root is not 32 bytes".into()))?;
    Ok(SignedTreeHead {
        head: TreeHead {
            clinic: org.to_owned(),
            size: u64::try_from(size)
                .map_err(|_| StoreError::Malformed("negative tree size".into()))?,
            root,
            signed_at,
        },
        key_version: u32::try_from(version)
            .map_err(|_| StoreError::Malformed("bad key version".into()))?,
        signature,
    })
}

const PATIENT_COLUMNS: &str =
    "id, person_number_index, person_number, name, phone, email, created_at";
type PatientTuple = (
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    i64,
);

fn patient_from(t: PatientTuple) -> PatientRow {
    PatientRow {
        id: t.0,
        person_number_index: t.1,
        person_number: t.2,
        name: t.3,
        phone: t.4,
        email: t.5,
        created_at: t.6,
    }
}

const ENTRY_COLUMNS: &str = "seq, at, actor_id, actor_role, actor_clinic, actor_hpr, patient_id, action, \
     object, reason, outcome, source_session, source_address, root_after";

impl ClinicStore {
    pub(crate) fn new(org: OrgNumber, db: Db) -> Self {
        Self { org, db }
    }

    pub fn org(&self) -> &OrgNumber {
        &self.org
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Starts a write. The audit state is locked first, so concurrent writers (also from
    /// other processes) queue rather than fork the log.
    pub async fn begin(&self) -> Result<ClinicTx, StoreError> {
        let (tx, locked_frontier) = match &self.db.native {
            // Natively, on this process's writer connection. Taking the write lock at
            // once avoids a deferred transaction failing later.
            Some(writer) => (Conn::Native(writer.begin().await?), None),
            // Each statement is a round trip to PostgreSQL, so the lock is taken with
            // the read of the log's frontier that every audited write makes next.
            None => {
                let mut tx = self.db.pool.begin().await?;
                let frontier: Option<Vec<u8>> =
                    sqlx::query_scalar("SELECT frontier FROM audit_state WHERE id = 1 FOR UPDATE")
                        .fetch_optional(&mut *tx)
                        .await?;
                (Conn::Sqlx(tx), Some(frontier))
            }
        };
        Ok(ClinicTx {
            tx,
            org: self.org.clone(),
            dialect: self.db.dialect,
            locked_frontier,
        })
    }

    pub async fn patient(&self, id: &[u8]) -> Result<Option<PatientRow>, StoreError> {
        let row: Option<PatientTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {PATIENT_COLUMNS} FROM patients WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?;
        Ok(row.map(patient_from))
    }

    pub async fn patient_by_index(&self, index: &[u8]) -> Result<Option<PatientRow>, StoreError> {
        sql::query(format!(
            "SELECT {PATIENT_COLUMNS} FROM patients WHERE person_number_index = $1"
        ))
        .bind(index)
        .fetch_optional_in(&self.db, |row| {
            Ok(patient_from((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
                row.get(6)?,
            )))
        })
        .await
    }

    pub async fn patient_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM patients")
            .fetch_one(&self.db.pool)
            .await?)
    }

    pub async fn audit_size(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_entries")
            .fetch_one(&self.db.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Every signed tree head the store holds (checkpoints and the latest).
    pub async fn tree_heads(&self) -> Result<Vec<SignedTreeHead>, StoreError> {
        let rows: Vec<HeadRow> = sqlx::query_as(
            "SELECT tree_size, root, signed_at, key_version, signature FROM audit_tree_heads ORDER BY tree_size",
        )
        .fetch_all(&self.db.pool)
        .await?;
        rows.into_iter()
            .map(|r| head_from_row(self.org.as_str(), r))
            .collect()
    }

    /// Streams the log in order of `seq` to `visit` (seq, leaf hash, stored root after).
    pub async fn for_each_leaf(
        &self,
        mut visit: impl FnMut(u64, Hash, &[u8]) -> Result<(), fortrolig_audit::Fault>,
    ) -> Result<Result<(), fortrolig_audit::Fault>, StoreError> {
        if let Some(file) = &self.db.sqlite_file {
            return crate::audit_scan::scan_sqlite(file.clone(), ENTRY_COLUMNS, visit).await;
        }
        const BATCH: i64 = 20_000;
        let mut after: i64 = i64::MIN;
        loop {
            let rows = sqlx::query(AssertSqlSafe(format!(
                "SELECT {ENTRY_COLUMNS} FROM audit_entries WHERE seq > $1 ORDER BY seq LIMIT {BATCH}"
            )))
            .bind(after)
            .fetch_all(&self.db.pool)
            .await?;
            let n = rows.len();
            for row in rows {
                let (entry, root) = entry_from_row(&row)?;
                after = entry.seq as i64;
                if let Err(fault) = visit(entry.seq, leaf_hash(&entry.encode()), &root) {
                    return Ok(Err(fault));
                }
            }
            if (n as i64) < BATCH {
                return Ok(Ok(()));
            }
        }
    }

    /// The entries that name a patient, for their innsyn and inclusion proofs.
    pub async fn entries_for_patient(&self, patient: &str) -> Result<Vec<LogEntry>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_entries WHERE patient_id = $1 ORDER BY seq"
        )))
        .bind(patient)
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter()
            .map(|r| entry_from_row(r).map(|(e, _)| e))
            .collect()
    }

    /// Security events since `since` (refusals, failed logins, emergency access), newest
    /// first, at most `limit` (X3: shown to the clinic's administrator).
    pub async fn security_events(
        &self,
        since: i64,
        limit: i64,
    ) -> Result<Vec<LogEntry>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_entries WHERE at >= $1 AND \
             (outcome = 'denied' OR action IN ('access.emergency', 'login.failed')) ORDER BY seq DESC LIMIT $2"
        )))
        .bind(since)
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter()
            .map(|r| entry_from_row(r).map(|(e, _)| e))
            .collect()
    }

    /// The leaf hashes' inputs for entries 1..=size, for building inclusion proofs.
    pub async fn entries_up_to(&self, size: u64) -> Result<Vec<LogEntry>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_entries WHERE seq <= $1 ORDER BY seq"
        )))
        .bind(size as i64)
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter()
            .map(|r| entry_from_row(r).map(|(e, _)| e))
            .collect()
    }

    /// A clinic's own text for an information page: (title, body), if it set one.
    pub async fn info_page(&self, slug: &str) -> Result<Option<(String, String)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT title, body FROM info_pages WHERE slug = $1")
                .bind(slug)
                .fetch_optional(&self.db.pool)
                .await?,
        )
    }

    pub async fn close(&self) {
        self.db.close().await;
    }
}

fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<(LogEntry, Vec<u8>), StoreError> {
    use sqlx::Row;
    let seq: i64 = row.try_get(0)?;
    Ok((
        LogEntry {
            seq: u64::try_from(seq)
                .map_err(|_| StoreError::Malformed("negative audit seq".into()))?,
            at: row.try_get(1)?,
            actor_id: row.try_get(2)?,
            actor_role: row.try_get(3)?,
            actor_clinic: row.try_get(4)?,
            actor_hpr: row.try_get(5)?,
            patient: row.try_get(6)?,
            action: row.try_get(7)?,
            object: row.try_get(8)?,
            reason: row.try_get(9)?,
            outcome: row.try_get(10)?,
            source_session: row.try_get(11)?,
            source_address: row.try_get(12)?,
        },
        row.try_get(13)?,
    ))
}

/// A write to one clinic's store; nothing is visible or durable before `commit`.
#[derive(Debug)]
pub struct ClinicTx {
    tx: Conn,
    org: OrgNumber,
    dialect: Dialect,
    /// The frontier as read when the lock was taken (PostgreSQL), until first asked for.
    locked_frontier: Option<Option<Vec<u8>>>,
}

impl ClinicTx {
    pub async fn frontier(&mut self) -> Result<Frontier, StoreError> {
        let bytes: Option<Vec<u8>> = match self.locked_frontier.take() {
            Some(read) => read,
            None => {
                sql::query("SELECT frontier FROM audit_state WHERE id = 1")
                    .fetch_scalar(self.conn())
                    .await?
            }
        };
        match bytes {
            None => Ok(Frontier::default()),
            Some(b) => Frontier::from_bytes(&b)
                .ok_or_else(|| StoreError::Malformed("audit frontier".into())),
        }
    }

    pub async fn insert_patient(&mut self, row: &PatientRow) -> Result<(), StoreError> {
        sql::query(format!(
            "INSERT INTO patients ({PATIENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&row.id)
        .bind(&row.person_number_index)
        .bind(&row.person_number)
        .bind(&row.name)
        .bind(row.phone.as_deref())
        .bind(row.email.as_deref())
        .bind(row.created_at)
        .execute(self.conn())
        .await
        .map_err(StoreError::from_insert)?;
        Ok(())
    }

    pub async fn set_info_page(
        &mut self,
        slug: &str,
        title: &str,
        body: &str,
        now: i64,
        by: &str,
    ) -> Result<(), StoreError> {
        sql::query(
            "INSERT INTO info_pages (slug, title, body, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (slug) DO UPDATE SET title = excluded.title, body = excluded.body, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(slug)
        .bind(title)
        .bind(body)
        .bind(now)
        .bind(by)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn delete_patient(&mut self, id: &[u8]) -> Result<bool, StoreError> {
        // Their conversations go with them: sealed under the key being destroyed, they
        // could never be read again, and surplus information is not kept (S5).
        for sql in [
            "DELETE FROM attachments WHERE message_id IN (SELECT m.id FROM messages m \
             JOIN threads t ON t.id = m.thread_id WHERE t.patient_id = $1)",
            "DELETE FROM messages WHERE thread_id IN (SELECT id FROM threads WHERE patient_id = $1)",
            "DELETE FROM threads WHERE patient_id = $1",
            // Notices, consents and tasks name the patient (and notices hold their
            // address): they go too.
            "DELETE FROM notices WHERE patient_id = $1",
            "DELETE FROM consents WHERE patient_id = $1",
            "DELETE FROM staff_tasks WHERE patient_id = $1",
            // Corrections are content; the requests themselves stay on record (kind,
            // status and times in the clear, their texts unreadable once the key is gone).
            "DELETE FROM corrections WHERE patient_id = $1",
        ] {
            sql::query(sql).bind(id).execute(self.conn()).await?;
        }
        let n = sql::query("DELETE FROM patients WHERE id = $1")
            .bind(id)
            .execute(self.conn())
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// One act's entry and its log state, for a transaction that records a single act.
    pub async fn append_audit(&mut self, append: &AuditAppend<'_>) -> Result<(), StoreError> {
        self.insert_entry(append.entry, &append.root_after).await?;
        let checkpoint = append.checkpoint.then_some(append.latest);
        self.write_log_state(append.frontier, append.latest, checkpoint.as_slice())
            .await
    }

    /// Inserts one audit entry with the root of the tree after it. A transaction that
    /// records several acts (group commit) calls this once per act and
    /// `write_log_state` once at the end.
    pub async fn insert_entry(
        &mut self,
        e: &LogEntry,
        root_after: &[u8; 32],
    ) -> Result<(), StoreError> {
        sql::query(format!(
            "INSERT INTO audit_entries ({ENTRY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(e.seq as i64)
        .bind(e.at)
        .bind(&e.actor_id)
        .bind(&e.actor_role)
        .bind(&e.actor_clinic)
        .bind(e.actor_hpr.as_deref())
        .bind(e.patient.as_deref())
        .bind(&e.action)
        .bind(&e.object)
        .bind(&e.reason)
        .bind(&e.outcome)
        .bind(e.source_session.as_deref())
        .bind(e.source_address.as_deref())
        .bind(root_after.as_slice())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The log's state after the entries of this transaction: the frontier, the latest
    /// signed head (replacing the previous one) and any signed checkpoints.
    pub async fn write_log_state(
        &mut self,
        frontier: &Frontier,
        latest: &SignedTreeHead,
        checkpoints: &[&SignedTreeHead],
    ) -> Result<(), StoreError> {
        self.locked_frontier = None;
        // The three changes in one statement, so one round trip on PostgreSQL, which
        // takes one statement with parameters as data-modifying `WITH` parts; SQLite
        // runs them natively as a list, in order. The old head is kept there only if
        // it is the same one, which is then replaced in place.
        let sql = match self.dialect {
            Dialect::Sqlite => {
                "INSERT INTO audit_state (id, frontier) VALUES (1, $1) \
                 ON CONFLICT (id) DO UPDATE SET frontier = excluded.frontier; \
                 DELETE FROM audit_tree_heads WHERE kind = 'latest'; \
                 INSERT INTO audit_tree_heads (tree_size, kind, root, signed_at, key_version, signature) \
                 VALUES ($2, 'latest', $3, $4, $5, $6)"
            }
            Dialect::Postgres => {
                "WITH state AS (INSERT INTO audit_state (id, frontier) VALUES (1, $1) \
                 ON CONFLICT (id) DO UPDATE SET frontier = excluded.frontier), \
                 old AS (DELETE FROM audit_tree_heads WHERE kind = 'latest' AND tree_size <> $2) \
                 INSERT INTO audit_tree_heads (tree_size, kind, root, signed_at, key_version, signature) \
                 VALUES ($2, 'latest', $3, $4, $5, $6) \
                 ON CONFLICT (kind, tree_size) DO UPDATE SET root = excluded.root, \
                 signed_at = excluded.signed_at, key_version = excluded.key_version, \
                 signature = excluded.signature"
            }
        };
        sql::query(sql)
            .bind(frontier.to_bytes())
            .bind(latest.head.size as i64)
            .bind(latest.head.root.as_slice())
            .bind(latest.head.signed_at)
            .bind(i64::from(latest.key_version))
            .bind(&latest.signature)
            .execute(self.conn())
            .await?;
        for head in checkpoints {
            self.insert_head("checkpoint", head).await?;
        }
        Ok(())
    }

    /// Ends the current act's savepoint and/or starts the next act's (group commit, see
    /// the service's `group_commit`), in one round trip on PostgreSQL: each act runs between
    /// `SAVEPOINT` and `RELEASE`, so that its failure undoes its own changes and none of
    /// its neighbours'. `ActEnd::Undo` also clears PostgreSQL's abort state after a
    /// failed statement, so the transaction can go on.
    pub async fn act_savepoint(
        &mut self,
        end: Option<ActEnd>,
        start_next: bool,
    ) -> Result<(), StoreError> {
        let sql = match (end, start_next) {
            (None, false) => return Ok(()),
            (None, true) => "SAVEPOINT fortrolig_act",
            (Some(ActEnd::Keep), false) => "RELEASE SAVEPOINT fortrolig_act",
            (Some(ActEnd::Keep), true) => {
                "RELEASE SAVEPOINT fortrolig_act; SAVEPOINT fortrolig_act"
            }
            (Some(ActEnd::Undo), false) => {
                "ROLLBACK TO SAVEPOINT fortrolig_act; RELEASE SAVEPOINT fortrolig_act"
            }
            (Some(ActEnd::Undo), true) => {
                "ROLLBACK TO SAVEPOINT fortrolig_act; RELEASE SAVEPOINT fortrolig_act; \
                 SAVEPOINT fortrolig_act"
            }
        };
        sql::query(sql).execute(self.conn()).await?;
        Ok(())
    }

    /// Inserts audit entries, each with the root of the tree after it, in as few
    /// statements as the databases' limits on bound values allow.
    pub async fn insert_entries(
        &mut self,
        rows: &[(LogEntry, [u8; 32])],
    ) -> Result<(), StoreError> {
        // 14 values a row; 64 rows stay under SQLite's oldest limit of 999.
        for chunk in rows.chunks(64) {
            let values: Vec<String> = (0..chunk.len())
                .map(|r| {
                    let n = r * 14;
                    let cells: Vec<String> = (1..=14)
                        .map(|c| match self.dialect {
                            // Anonymous on SQLite: it looks each named parameter up in a
                            // list, when parsing and when binding, which for 896 values is
                            // most of the statement's cost.
                            Dialect::Sqlite => "?".to_owned(),
                            Dialect::Postgres => format!("${}", n + c),
                        })
                        .collect();
                    format!("({})", cells.join(", "))
                })
                .collect();
            // Not kept prepared: up to 64 shapes of this statement per connection would
            // sit in the statement cache for a parse that costs little once a batch.
            let mut query = sql::query(format!(
                "INSERT INTO audit_entries ({ENTRY_COLUMNS}) VALUES {}",
                values.join(", ")
            ))
            .persistent(false);
            for (e, root_after) in chunk {
                query = query
                    .bind(e.seq as i64)
                    .bind(e.at)
                    .bind(e.actor_id.as_str())
                    .bind(e.actor_role.as_str())
                    .bind(e.actor_clinic.as_str())
                    .bind(e.actor_hpr.as_deref())
                    .bind(e.patient.as_deref())
                    .bind(e.action.as_str())
                    .bind(e.object.as_str())
                    .bind(e.reason.as_str())
                    .bind(e.outcome.as_str())
                    .bind(e.source_session.as_deref())
                    .bind(e.source_address.as_deref())
                    .bind(root_after.as_slice());
            }
            query.execute(self.conn()).await?;
        }
        Ok(())
    }

    async fn insert_head(&mut self, kind: &str, head: &SignedTreeHead) -> Result<(), StoreError> {
        sql::query(
            "INSERT INTO audit_tree_heads (tree_size, kind, root, signed_at, key_version, signature) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(head.head.size as i64)
        .bind(kind)
        .bind(head.head.root.as_slice())
        .bind(head.head.signed_at)
        .bind(i64::from(head.key_version))
        .bind(&head.signature)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub fn org(&self) -> &OrgNumber {
        &self.org
    }

    pub(crate) fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The connection the transaction's statements run on.
    pub(crate) fn conn(&mut self) -> &mut Conn {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self.tx {
            Conn::Sqlx(tx) => tx.commit().await?,
            Conn::Native(tx) => tx.commit()?,
        }
        Ok(())
    }
}
