//! Reads a clinic's whole audit log, in order, for verification.
//!
//! On SQLite the file is read natively on a blocking thread and rows are handed over in
//! batches. Through sqlx every row crossed from the driver's thread to the async side on
//! its own, which cost about 13.5 µs a row: 14 s for a million entries against a goal of
//! 2 s (docs/BENCHMARKS.md). PostgreSQL keeps the sqlx path.

use std::path::{Path, PathBuf};

use fortrolig_audit::{EntryFields, Fault, Hash, leaf_hash};
use rusqlite::{Connection, OpenFlags, Row};
use tokio::sync::mpsc;

use crate::error::StoreError;

const BATCH: usize = 4096;

/// (seq, leaf hash, stored root after) for each entry.
pub(crate) type Leaf = (u64, Hash, Vec<u8>);
type Batch = Vec<Leaf>;

/// Visits every entry of the SQLite store at `file` in order of `seq`, in one snapshot.
/// The reader thread also encodes and hashes, so that the two cores share the work.
pub(crate) async fn scan_sqlite(
    file: PathBuf,
    columns: &'static str,
    mut visit: impl FnMut(u64, Hash, &[u8]) -> Result<(), Fault>,
) -> Result<Result<(), Fault>, StoreError> {
    let (sender, mut batches) = mpsc::channel::<Result<Batch, StoreError>>(4);
    let reader = tokio::task::spawn_blocking(move || {
        if let Err(e) = read_all(&file, columns, &sender) {
            // The receiver may be gone already (a fault was found); nothing to tell then.
            let _ = sender.blocking_send(Err(e));
        }
    });
    while let Some(batch) = batches.recv().await {
        for (seq, leaf, root) in batch? {
            if let Err(fault) = visit(seq, leaf, &root) {
                drop(batches);
                let _ = reader.await;
                return Ok(Err(fault));
            }
        }
    }
    reader
        .await
        .map_err(|e| StoreError::Malformed(format!("the audit reader stopped: {e}")))?;
    Ok(Ok(()))
}

fn read_all(
    file: &Path,
    columns: &str,
    sender: &mpsc::Sender<Result<Batch, StoreError>>,
) -> Result<(), StoreError> {
    // Read-write without create: a WAL database cannot always be opened read-only, and
    // `query_only` keeps this connection from writing anyway.
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.execute_batch("PRAGMA query_only = ON; PRAGMA busy_timeout = 10000;")?;
    let mut statement =
        conn.prepare(&format!("SELECT {columns} FROM audit_entries ORDER BY seq"))?;
    let mut rows = statement.query([])?;
    let mut batch = Vec::with_capacity(BATCH);
    let mut encoded = Vec::with_capacity(512);
    while let Some(row) = rows.next()? {
        encoded.clear();
        let fields = fields_of(row)?;
        fields.encode_into(&mut encoded);
        batch.push((fields.seq, leaf_hash(&encoded), row.get(13)?));
        if batch.len() == BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if sender.blocking_send(Ok(full)).is_err() {
                return Ok(());
            }
        }
    }
    if !batch.is_empty() {
        let _ = sender.blocking_send(Ok(batch));
    }
    Ok(())
}

/// The row's entry, borrowed from the row.
fn fields_of<'r>(row: &'r Row<'_>) -> Result<EntryFields<'r>, StoreError> {
    let malformed = |i: usize| StoreError::Malformed(format!("audit entry column {i} is not text"));
    let text = |i: usize| -> Result<&'r str, StoreError> {
        row.get_ref(i)?.as_str().map_err(|_| malformed(i))
    };
    let optional = |i: usize| -> Result<Option<&'r str>, StoreError> {
        row.get_ref(i)?.as_str_or_null().map_err(|_| malformed(i))
    };
    let seq: i64 = row.get(0)?;
    Ok(EntryFields {
        seq: u64::try_from(seq).map_err(|_| StoreError::Malformed("negative audit seq".into()))?,
        at: row.get(1)?,
        actor_id: text(2)?,
        actor_role: text(3)?,
        actor_clinic: text(4)?,
        actor_hpr: optional(5)?,
        patient: optional(6)?,
        action: text(7)?,
        object: text(8)?,
        reason: text(9)?,
        outcome: text(10)?,
        source_session: optional(11)?,
        source_address: optional(12)?,
    })
}
