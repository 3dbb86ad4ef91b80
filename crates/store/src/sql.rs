//! Statements written once and run on either engine: through sqlx on PostgreSQL, and
//! natively (rusqlite, on the calling thread) on SQLite. They are a clinic's write
//! transaction (`ClinicTx`), the key ring's anchors and patient keys, and the hot reads.
//!
//! Through sqlx every SQLite statement is a hand-off to the driver's connection thread
//! and back, which on this 2-core machine cost 40–75 µs of CPU in thread wake-ups, ten
//! times what SQLite itself needs for a small insert (docs/BENCHMARKS.md). So on SQLite
//! writes run on a connection of their own (`NativeWriter`) and those reads on another
//! (`NativeReader`); other reads still go through sqlx's pool.
//!
//! A statement reads like sqlx's: `query(sql).bind(a).bind(b).execute(tx)`. Parameters
//! are written `$1 … $n` (or `?` in order); on SQLite the text may hold several
//! statements separated by `;`, which then share the parameters and run in order.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags};
use sqlx::{Any, AssertSqlSafe, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::StoreError;

/// One bound value.
#[derive(Debug, Clone)]
pub(crate) enum Arg<'a> {
    Int(Option<i64>),
    Int32(Option<i32>),
    Bool(Option<bool>),
    Text(Option<Cow<'a, str>>),
    Blob(Option<Cow<'a, [u8]>>),
}

/// What may be bound: the types the store's statements use.
pub(crate) trait IntoArg<'a> {
    fn into_arg(self) -> Arg<'a>;
}

impl<'a> IntoArg<'a> for i64 {
    fn into_arg(self) -> Arg<'a> {
        Arg::Int(Some(self))
    }
}
impl<'a> IntoArg<'a> for Option<i64> {
    fn into_arg(self) -> Arg<'a> {
        Arg::Int(self)
    }
}
impl<'a> IntoArg<'a> for i32 {
    fn into_arg(self) -> Arg<'a> {
        Arg::Int32(Some(self))
    }
}
impl<'a> IntoArg<'a> for bool {
    fn into_arg(self) -> Arg<'a> {
        Arg::Bool(Some(self))
    }
}
impl<'a> IntoArg<'a> for &'a str {
    fn into_arg(self) -> Arg<'a> {
        Arg::Text(Some(Cow::Borrowed(self)))
    }
}
impl<'a> IntoArg<'a> for &'a String {
    fn into_arg(self) -> Arg<'a> {
        Arg::Text(Some(Cow::Borrowed(self.as_str())))
    }
}
impl<'a> IntoArg<'a> for Option<&'a str> {
    fn into_arg(self) -> Arg<'a> {
        Arg::Text(self.map(Cow::Borrowed))
    }
}
impl<'a> IntoArg<'a> for &'a [u8] {
    fn into_arg(self) -> Arg<'a> {
        Arg::Blob(Some(Cow::Borrowed(self)))
    }
}
impl<'a> IntoArg<'a> for &'a Vec<u8> {
    fn into_arg(self) -> Arg<'a> {
        Arg::Blob(Some(Cow::Borrowed(self.as_slice())))
    }
}
impl<'a> IntoArg<'a> for Vec<u8> {
    fn into_arg(self) -> Arg<'a> {
        Arg::Blob(Some(Cow::Owned(self)))
    }
}
impl<'a> IntoArg<'a> for Option<&'a [u8]> {
    fn into_arg(self) -> Arg<'a> {
        Arg::Blob(self.map(Cow::Borrowed))
    }
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Arg::Int(Some(v)) => ValueRef::Integer(*v),
            Arg::Int32(Some(v)) => ValueRef::Integer(i64::from(*v)),
            Arg::Bool(Some(v)) => ValueRef::Integer(i64::from(*v)),
            Arg::Text(Some(v)) => ValueRef::Text(v.as_bytes()),
            Arg::Blob(Some(v)) => ValueRef::Blob(v),
            Arg::Int(None)
            | Arg::Int32(None)
            | Arg::Bool(None)
            | Arg::Text(None)
            | Arg::Blob(None) => ValueRef::Null,
        }))
    }
}

/// A statement with its values, run by `execute` or one of the `fetch` calls.
#[derive(Debug)]
pub(crate) struct Query<'a> {
    sql: Cow<'a, str>,
    args: Vec<Arg<'a>>,
    /// Kept prepared for the next use (the default).
    persistent: bool,
}

/// Starts a statement.
pub(crate) fn query<'a>(sql: impl Into<Cow<'a, str>>) -> Query<'a> {
    Query {
        sql: sql.into(),
        args: Vec::new(),
        persistent: true,
    }
}

/// What a statement changed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Done {
    rows: u64,
}

impl Done {
    pub(crate) fn rows_affected(&self) -> u64 {
        self.rows
    }
}

impl<'a> Query<'a> {
    pub(crate) fn bind(mut self, value: impl IntoArg<'a>) -> Self {
        self.args.push(value.into_arg());
        self
    }

    /// Not kept prepared: for a statement whose shape varies.
    pub(crate) fn persistent(mut self, keep: bool) -> Self {
        self.persistent = keep;
        self
    }

    fn sqlx(&self) -> sqlx::query::Query<'_, Any, sqlx::any::AnyArguments> {
        let mut q = sqlx::query(AssertSqlSafe(self.sql.as_ref())).persistent(self.persistent);
        for arg in &self.args {
            q = match arg {
                Arg::Int(v) => q.bind(*v),
                Arg::Int32(v) => q.bind(*v),
                Arg::Bool(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_deref()),
                Arg::Blob(v) => q.bind(v.as_deref()),
            };
        }
        q
    }

    /// Runs the statement on a pool connection, as a transaction of its own.
    pub(crate) async fn execute_on(self, pool: &sqlx::AnyPool) -> Result<Done, StoreError> {
        Ok(Done {
            rows: self.sqlx().execute(pool).await?.rows_affected(),
        })
    }

    /// Runs the statement as a transaction of its own: natively on `native` (SQLite),
    /// else on a pool connection. The rows it changed.
    pub(crate) async fn execute_alone(
        self,
        native: Option<&NativeWriter>,
        pool: &sqlx::AnyPool,
    ) -> Result<u64, StoreError> {
        match native {
            Some(native) => native.execute(self).await,
            None => Ok(self.execute_on(pool).await?.rows_affected()),
        }
    }

    pub(crate) async fn execute(self, tx: &mut Conn) -> Result<Done, StoreError> {
        match tx {
            // Without values it goes as a simple query, which PostgreSQL lets hold
            // several statements (`RELEASE …; SAVEPOINT …`).
            Conn::Sqlx(tx) if self.args.is_empty() => Ok(Done {
                rows: tx
                    .execute(AssertSqlSafe(self.sql.as_ref()))
                    .await?
                    .rows_affected(),
            }),
            Conn::Sqlx(tx) => Ok(Done {
                rows: self.sqlx().execute(&mut **tx).await?.rows_affected(),
            }),
            Conn::Native(native) => Ok(Done {
                rows: native.conn()?.run(&self.sql, &self.args, self.persistent)?,
            }),
        }
    }

    /// The first column of the first row, if there is a row.
    pub(crate) async fn fetch_scalar<T>(self, tx: &mut Conn) -> Result<Option<T>, StoreError>
    where
        T: rusqlite::types::FromSql
            + for<'r> sqlx::Decode<'r, Any>
            + sqlx::Type<Any>
            + Send
            + Unpin,
    {
        match tx {
            Conn::Sqlx(tx) => {
                use sqlx::Row;
                let row = self.sqlx().fetch_optional(&mut **tx).await?;
                Ok(match row {
                    Some(row) => Some(row.try_get(0)?),
                    None => None,
                })
            }
            Conn::Native(native) => {
                let conn = native.conn()?;
                let mut stmt = conn.0.prepare_cached(&self.sql)?;
                bind_native(&mut stmt, &self.args)?;
                let mut rows = stmt.raw_query();
                Ok(match rows.next()? {
                    Some(row) => Some(row.get(0)?),
                    None => None,
                })
            }
        }
    }
}

fn bind_native(stmt: &mut rusqlite::Statement<'_>, args: &[Arg<'_>]) -> rusqlite::Result<()> {
    bind_native_from(stmt, args, 0).map(|_| ())
}

/// Binds `stmt`, whose bare `?` take the values after the first `taken`; returns the
/// number taken after it (a list of statements shares one count, as in sqlx).
fn bind_native_from(
    stmt: &mut rusqlite::Statement<'_>,
    args: &[Arg<'_>],
    taken: usize,
) -> rusqlite::Result<usize> {
    // As sqlx binds: `$n` names the n-th value, a bare `?` takes the next one.
    let mut next = taken;
    for i in 1..=stmt.parameter_count() {
        let n = match stmt.parameter_name(i) {
            Some(name) => name
                .strip_prefix(['$', '?'])
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| rusqlite::Error::InvalidParameterName(name.to_owned()))?,
            None => {
                next += 1;
                next
            }
        };
        // Like sqlx (and SQLite itself): a value not given is NULL.
        if let Some(arg) = n.checked_sub(1).and_then(|k| args.get(k)) {
            stmt.raw_bind_parameter(i, arg)?;
        }
    }
    Ok(next)
}

/// The connection a `ClinicTx` writes through.
#[derive(Debug)]
pub(crate) enum Conn {
    Sqlx(Transaction<'static, Any>),
    Native(NativeTx),
}

/// A clinic's SQLite connection for writes, opened on first use. One per clinic and
/// process: writes to a clinic are one at a time anyway (`BEGIN IMMEDIATE`).
#[derive(Debug)]
pub(crate) struct NativeWriter {
    file: PathBuf,
    durability: Durability,
    conn: Arc<Mutex<Option<NativeConn>>>,
}

/// When a commit reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// Before the commit returns (`synchronous = FULL`): it survives a power cut.
    Full,
    /// With the next full commit or checkpoint (`synchronous = NORMAL` in WAL mode): it
    /// survives a crash of the process, and a power cut may take the last ones back.
    Deferred,
}

/// The connection itself (rusqlite's, which is `Send` but not `Sync`).
#[derive(Debug)]
pub(crate) struct NativeConn(Connection);

impl NativeWriter {
    pub(crate) fn new(file: PathBuf, durability: Durability) -> Self {
        Self {
            file,
            durability,
            conn: Arc::new(Mutex::new(None)),
        }
    }

    async fn connection(&self) -> Result<OwnedMutexGuard<Option<NativeConn>>, StoreError> {
        let mut guard = Arc::clone(&self.conn).lock_owned().await;
        if guard.is_none() {
            *guard = Some(NativeConn(open(&self.file, self.durability)?));
        }
        Ok(guard)
    }

    /// Waits for the connection and begins a write transaction on it.
    pub(crate) async fn begin(&self) -> Result<NativeTx, StoreError> {
        let mut tx = NativeTx {
            guard: self.connection().await?,
            open: false,
        };
        tx.conn()?.0.execute_batch("BEGIN IMMEDIATE")?;
        tx.open = true;
        Ok(tx)
    }

    /// Runs one statement as a transaction of its own; the rows it changed.
    pub(crate) async fn execute(&self, query: Query<'_>) -> Result<u64, StoreError> {
        let mut tx = NativeTx {
            guard: self.connection().await?,
            open: false,
        };
        tx.conn()?.run(&query.sql, &query.args, query.persistent)
    }

    /// Closes the connection (the store is being closed, or its file removed).
    pub(crate) async fn close(&self) {
        self.conn.lock().await.take();
    }
}

fn open(file: &Path, durability: Durability) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // The same settings as the pool's connections (`backend::connect`).
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON",
    )?;
    conn.execute_batch(match durability {
        Durability::Full => "PRAGMA synchronous = FULL",
        Durability::Deferred => "PRAGMA synchronous = NORMAL",
    })?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// An open transaction on the native connection; rolled back if dropped uncommitted.
#[derive(Debug)]
pub(crate) struct NativeTx {
    guard: OwnedMutexGuard<Option<NativeConn>>,
    open: bool,
}

impl NativeTx {
    fn conn(&mut self) -> Result<&mut NativeConn, StoreError> {
        self.guard
            .as_mut()
            .ok_or_else(|| StoreError::Malformed("the SQLite writer was closed".into()))
    }

    pub(crate) fn commit(mut self) -> Result<(), StoreError> {
        self.conn()?.0.execute_batch("COMMIT")?;
        self.open = false;
        Ok(())
    }
}

impl Drop for NativeTx {
    fn drop(&mut self) {
        if self.open
            && let Some(conn) = self.guard.as_mut()
            && conn.0.execute_batch("ROLLBACK").is_err()
        {
            // The connection's state is unknown: the next write opens a new one.
            self.guard.take();
        }
    }
}

fn execute_one(stmt: &mut rusqlite::Statement<'_>, args: &[Arg<'_>]) -> Result<u64, StoreError> {
    bind_native(stmt, args)?;
    Ok(stmt.raw_execute()? as u64)
}

impl NativeConn {
    /// Runs `sql` (one statement, or several separated by `;`) with `args`; the rows
    /// changed, summed over the statements.
    fn run(&self, sql: &str, args: &[Arg<'_>], keep: bool) -> Result<u64, StoreError> {
        if !sql.contains(';') {
            return if keep {
                execute_one(&mut *self.0.prepare_cached(sql)?, args)
            } else {
                execute_one(&mut self.0.prepare(sql)?, args)
            };
        }
        // A list, which the store writes only for SQLite (`…; …`, no `;` inside a
        // literal): each statement kept prepared on its own, and counted over the whole
        // list, since a statement such as `SAVEPOINT` reports the count of the change
        // before it as its own.
        let before = self.0.total_changes();
        let mut taken = 0;
        for one in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let mut stmt = self.0.prepare_cached(one)?;
            taken = bind_native_from(&mut stmt, args, taken)?;
            stmt.raw_execute()?;
        }
        Ok(self.0.total_changes().saturating_sub(before))
    }
}

/// A row being decoded, from either engine.
pub(crate) enum RowRef<'r, 's> {
    Any(&'r sqlx::any::AnyRow),
    Native(&'r rusqlite::Row<'s>),
}

impl RowRef<'_, '_> {
    /// Column `i` (from 0).
    pub(crate) fn get<T>(&self, i: usize) -> Result<T, StoreError>
    where
        T: rusqlite::types::FromSql + for<'x> sqlx::Decode<'x, Any> + sqlx::Type<Any>,
    {
        match self {
            RowRef::Any(row) => {
                use sqlx::Row;
                Ok(row.try_get(i)?)
            }
            RowRef::Native(row) => Ok(row.get(i)?),
        }
    }
}

/// A clinic's SQLite connection for reads outside a write, opened on first use: a
/// read takes microseconds natively, so it runs on the calling thread, one at a time.
#[derive(Debug)]
pub(crate) struct NativeReader {
    file: PathBuf,
    conn: std::sync::Mutex<Option<Connection>>,
}

impl NativeReader {
    pub(crate) fn new(file: PathBuf) -> Self {
        Self {
            file,
            conn: std::sync::Mutex::new(None),
        }
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self
            .conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let conn = match &mut *guard {
            Some(conn) => conn,
            none => {
                let conn = open(&self.file, Durability::Full)?;
                conn.execute_batch("PRAGMA query_only = ON")?;
                none.insert(conn)
            }
        };
        f(conn)
    }

    pub(crate) fn close(&self) {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
    }
}

impl Query<'_> {
    /// The first row, decoded, if there is one; natively on SQLite.
    pub(crate) async fn fetch_optional_in<T>(
        self,
        db: &crate::backend::Db,
        decode: impl Fn(&RowRef<'_, '_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.rows_in(db, Some(1), decode).await?.pop())
    }

    /// Every row, decoded; natively on SQLite.
    pub(crate) async fn fetch_all_in<T>(
        self,
        db: &crate::backend::Db,
        decode: impl Fn(&RowRef<'_, '_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        self.rows_in(db, None, decode).await
    }

    /// The rows (the first `limit` of them), decoded.
    async fn rows_in<T>(
        self,
        db: &crate::backend::Db,
        limit: Option<usize>,
        decode: impl Fn(&RowRef<'_, '_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let limit = limit.unwrap_or(usize::MAX);
        match &db.reader {
            Some(reader) => reader.read(|conn| {
                let mut stmt = conn.prepare_cached(&self.sql)?;
                bind_native(&mut stmt, &self.args)?;
                let mut rows = stmt.raw_query();
                let mut out = Vec::new();
                while out.len() < limit
                    && let Some(row) = rows.next()?
                {
                    out.push(decode(&RowRef::Native(row))?);
                }
                Ok(out)
            }),
            None if limit == 1 => match self.sqlx().fetch_optional(&db.pool).await? {
                Some(row) => Ok(vec![decode(&RowRef::Any(&row))?]),
                None => Ok(Vec::new()),
            },
            None => self
                .sqlx()
                .fetch_all(&db.pool)
                .await?
                .iter()
                .take(limit)
                .map(|row| decode(&RowRef::Any(row)))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// A scratch database with one table, the native writer and reader on it, and a
    /// sqlx pool (as the rest of the store uses) to look with.
    async fn scratch() -> Result<(tempfile::TempDir, crate::backend::Db), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("t.db");
        let db = crate::backend::Db::connect(
            &format!("sqlite://{}?mode=rwc", file.display()),
            crate::backend::Dialect::Sqlite,
        )
        .await?;
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, a BLOB NOT NULL, b TEXT, c INTEGER)")
            .execute(&db.pool)
            .await?;
        Ok((dir, db))
    }

    fn writer(db: &crate::backend::Db) -> Result<&NativeWriter, Box<dyn std::error::Error>> {
        Ok(db.native.as_deref().ok_or("no native writer on SQLite")?)
    }

    async fn count(db: &crate::backend::Db) -> Result<i64, Box<dyn std::error::Error>> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&db.pool)
            .await?)
    }

    /// X7: a native write is seen by the rest of the store only once committed, and a
    /// transaction dropped without its commit leaves nothing.
    #[tokio::test]
    async fn a_native_write_is_visible_after_commit_and_gone_if_dropped_x7() -> TestResult {
        let (_dir, db) = scratch().await?;
        let mut tx = Conn::Native(writer(&db)?.begin().await?);
        query("INSERT INTO t (id, a) VALUES ($1, $2)")
            .bind(1i64)
            .bind(&b"x"[..])
            .execute(&mut tx)
            .await?;
        assert_eq!(count(&db).await?, 0, "not visible before the commit");
        let Conn::Native(native) = tx else {
            return Err("expected a native transaction".into());
        };
        native.commit()?;
        assert_eq!(count(&db).await?, 1);

        let mut dropped = Conn::Native(writer(&db)?.begin().await?);
        query("INSERT INTO t (id, a) VALUES ($1, $2)")
            .bind(2i64)
            .bind(&b"y"[..])
            .execute(&mut dropped)
            .await?;
        drop(dropped);
        assert_eq!(count(&db).await?, 1, "a dropped transaction is rolled back");
        // The writer is usable again after the rollback.
        let next = writer(&db)?.begin().await?;
        next.commit()?;
        Ok(())
    }

    /// `$n` names the n-th value wherever it stands, a bare `?` takes the next one across
    /// a list, a value not given is NULL, and a list counts the rows it changed once.
    #[tokio::test]
    async fn values_bind_by_number_and_in_order_across_a_list_as_in_sqlx_x7() -> TestResult {
        let (_dir, db) = scratch().await?;
        let mut tx = Conn::Native(writer(&db)?.begin().await?);
        let changed = query(
            "INSERT INTO t (id, a, b) VALUES ($2, $1, $3); SAVEPOINT s; \
             INSERT INTO t (id, a, b, c) VALUES ($2 + 1, $1, NULL, $9); RELEASE SAVEPOINT s",
        )
        .bind(&b"blob"[..])
        .bind(10i64)
        .bind("tekst")
        .execute(&mut tx)
        .await?;
        assert_eq!(changed.rows_affected(), 2);
        query("INSERT INTO t (id, a) VALUES (?, ?); UPDATE t SET c = ? WHERE id = 10")
            .bind(20i64)
            .bind(&b"z"[..])
            .bind(7i64)
            .execute(&mut tx)
            .await?;
        let c: Option<Option<i64>> = query("SELECT c FROM t WHERE id = $1")
            .bind(10i64)
            .fetch_scalar(&mut tx)
            .await?;
        assert_eq!(c, Some(Some(7)));
        let missing: Option<Option<i64>> = query("SELECT c FROM t WHERE id = $1")
            .bind(11i64)
            .fetch_scalar(&mut tx)
            .await?;
        assert_eq!(missing, Some(None), "an unbound value is NULL");
        let Conn::Native(native) = tx else {
            return Err("expected a native transaction".into());
        };
        native.commit()?;

        let rows = query("SELECT id, b FROM t ORDER BY id")
            .fetch_all_in(&db, |row| {
                Ok((row.get::<i64>(0)?, row.get::<Option<String>>(1)?))
            })
            .await?;
        assert_eq!(
            rows,
            vec![(10, Some("tekst".to_owned())), (11, None), (20, None)]
        );
        let first = query("SELECT id FROM t WHERE id > $1 ORDER BY id")
            .bind(10i64)
            .fetch_optional_in(&db, |row| row.get::<i64>(0))
            .await?;
        assert_eq!(first, Some(11));
        Ok(())
    }

    /// A unique key taken and a NOT NULL column are told apart from other errors on the
    /// native path, as on sqlx's (`PatientExists`, a closed thread in `insert_message`).
    #[tokio::test]
    async fn constraint_violations_are_recognised_natively_p5() -> TestResult {
        let (_dir, db) = scratch().await?;
        let mut tx = Conn::Native(writer(&db)?.begin().await?);
        query("INSERT INTO t (id, a) VALUES (1, x'00')")
            .execute(&mut tx)
            .await?;
        let taken = query("INSERT INTO t (id, a) VALUES (1, x'00')")
            .execute(&mut tx)
            .await
            .err()
            .ok_or("a second row with the same key was stored")?;
        assert!(matches!(
            StoreError::from_insert(taken),
            StoreError::PatientExists
        ));
        let null = query("INSERT INTO t (id, a) VALUES (2, $1)")
            .bind(None::<&[u8]>)
            .execute(&mut tx)
            .await
            .err()
            .ok_or("a NULL was stored in a NOT NULL column")?;
        assert!(null.is_not_null_violation());
        let other = query("INSERT INTO nowhere VALUES (1)")
            .execute(&mut tx)
            .await
            .err()
            .ok_or("an insert into a missing table worked")?;
        assert!(!other.is_not_null_violation());
        assert!(matches!(
            StoreError::from_insert(other),
            StoreError::NativeSqlite(_)
        ));
        Ok(())
    }
}
