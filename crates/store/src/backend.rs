//! Which database engine, and where each store lives.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};
use std::time::Duration;

use fortrolig_domain::OrgNumber;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, AssertSqlSafe, Executor};

use crate::error::StoreError;
use crate::migrate::Schema;
use crate::sql::{Durability, NativeReader, NativeWriter};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn blob(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BLOB",
            Dialect::Postgres => "BYTEA",
        }
    }
}

/// Where the stores live. SQLite is the embedded default; PostgreSQL when a URL is given.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite {
        data_dir: PathBuf,
        vault_dir: PathBuf,
    },
    Postgres {
        url: String,
    },
}

/// One database: a pool and the dialect it speaks.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub dialect: Dialect,
    /// The database file, on SQLite (for the native audit scan).
    pub sqlite_file: Option<PathBuf>,
    /// On SQLite, the connection write transactions run on (`ClinicStore::begin`).
    pub(crate) native: Option<Arc<NativeWriter>>,
    /// On SQLite, the connection reads outside a write run on natively.
    pub(crate) reader: Option<Arc<NativeReader>>,
}

impl Db {
    /// Connects to one database by URL (`sqlite://…` or `postgres://…`).
    pub async fn connect(url: &str, dialect: Dialect) -> Result<Self, StoreError> {
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        connect(url, dialect).await
    }

    pub async fn close(&self) {
        if let Some(native) = &self.native {
            native.close().await;
        }
        if let Some(reader) = &self.reader {
            reader.close();
        }
        self.pool.close().await;
    }
}

static DRIVERS: Once = Once::new();

/// Creates a directory readable by the service's user only.
fn private_dir(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path).map_err(|e| dir_error(path, e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| dir_error(path, e))
}

fn dir_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Directory {
        path: path.display().to_string(),
        source,
    }
}

/// Splits `postgres://…/name?query` into the part before the name, the name and the query.
fn split_pg_url(url: &str) -> Result<(&str, &str, &str), StoreError> {
    let bad = || StoreError::BadUrl("expected postgres://user@host:port/database".into());
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .ok_or_else(bad)?;
    let slash = rest.rfind('/').ok_or_else(bad)?;
    let base_len = url.len() - rest.len() + slash;
    let (name, query) = match url[base_len + 1..].split_once('?') {
        Some((n, q)) => (n, q),
        None => (&url[base_len + 1..], ""),
    };
    if name.is_empty()
        || name.len() > 40
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(StoreError::BadUrl(
            "the database name must be 1-40 characters of a-z, 0-9 and _".into(),
        ));
    }
    Ok((&url[..base_len], name, query))
}

impl Backend {
    pub fn dialect(&self) -> Dialect {
        match self {
            Backend::Sqlite { .. } => Dialect::Sqlite,
            Backend::Postgres { .. } => Dialect::Postgres,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Backend::Sqlite { data_dir, .. } => format!("SQLite under {}", data_dir.display()),
            Backend::Postgres { url } => {
                let name = split_pg_url(url).map(|(_, n, _)| n).unwrap_or("?");
                format!("PostgreSQL database {name}")
            }
        }
    }

    fn clinic_location(&self, org: &OrgNumber) -> Result<String, StoreError> {
        match self {
            Backend::Sqlite { data_dir, .. } => Ok(sqlite_url(
                &data_dir.join("clinics").join(format!("{org}.db")),
            )),
            Backend::Postgres { url } => {
                let (base, name, query) = split_pg_url(url)?;
                Ok(pg_url(base, &format!("{name}_c{org}"), query))
            }
        }
    }

    async fn open(&self, which: Location<'_>) -> Result<Db, StoreError> {
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let dialect = self.dialect();
        let url = match (self, which) {
            (Backend::Sqlite { data_dir, .. }, Location::Directory) => {
                private_dir(data_dir)?;
                private_dir(&data_dir.join("clinics"))?;
                sqlite_url(&data_dir.join("directory.db"))
            }
            (Backend::Sqlite { vault_dir, .. }, Location::KeyRing) => {
                private_dir(vault_dir)?;
                sqlite_url(&vault_dir.join("keyring.db"))
            }
            (Backend::Postgres { url }, Location::Directory) => {
                let (base, name, query) = split_pg_url(url)?;
                ensure_pg_database(base, name, query).await?;
                url.clone()
            }
            (Backend::Postgres { url }, Location::KeyRing) => {
                let (base, name, query) = split_pg_url(url)?;
                let keyring = format!("{name}_keyring");
                ensure_pg_database(base, &keyring, query).await?;
                pg_url(base, &keyring, query)
            }
            (_, Location::Clinic(org)) => self.clinic_location(org)?,
        };
        connect(&url, dialect).await
    }

    /// Creates a clinic's database (PostgreSQL) or file (SQLite) if it is missing.
    async fn create_clinic_database(&self, org: &OrgNumber) -> Result<(), StoreError> {
        if let Backend::Postgres { url } = self {
            let (base, name, query) = split_pg_url(url)?;
            ensure_pg_database(base, &format!("{name}_c{org}"), query).await?;
        }
        Ok(())
    }

    /// Removes a clinic's database entirely (used by restore before it writes anew).
    async fn drop_clinic_database(&self, org: &OrgNumber) -> Result<(), StoreError> {
        match self {
            Backend::Sqlite { data_dir, .. } => {
                let base = data_dir.join("clinics").join(format!("{org}.db"));
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut path = base.clone().into_os_string();
                    path.push(suffix);
                    match std::fs::remove_file(&path) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(dir_error(Path::new(&path), e)),
                    }
                }
                Ok(())
            }
            Backend::Postgres { url } => {
                let (base, name, query) = split_pg_url(url)?;
                let admin = connect(&pg_url(base, "postgres", query), Dialect::Postgres).await?;
                let sql = format!("DROP DATABASE IF EXISTS \"{name}_c{org}\" WITH (FORCE)");
                admin.pool.execute(AssertSqlSafe(sql)).await?;
                admin.close().await;
                Ok(())
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Location<'a> {
    Directory,
    KeyRing,
    Clinic(&'a OrgNumber),
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

fn pg_url(base: &str, name: &str, query: &str) -> String {
    if query.is_empty() {
        format!("{base}/{name}")
    } else {
        format!("{base}/{name}?{query}")
    }
}

async fn connect(url: &str, dialect: Dialect) -> Result<Db, StoreError> {
    let options: AnyConnectOptions = url.parse()?;
    let pool = AnyPoolOptions::new()
        .max_connections(if dialect == Dialect::Sqlite { 4 } else { 8 })
        .acquire_timeout(Duration::from_secs(10))
        // A SQLite connection is a file handle in this process, not a socket that can
        // die unseen, so the ping before every acquire (a round trip to sqlx's
        // connection thread) buys nothing there.
        .test_before_acquire(dialect != Dialect::Sqlite)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if dialect == Dialect::Sqlite {
                    // WAL with synchronous=FULL: a committed write survives power loss.
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = FULL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA secure_delete = ON").await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    let sqlite_file = url
        .strip_prefix("sqlite://")
        .map(|rest| PathBuf::from(rest.split_once('?').map_or(rest, |(path, _)| path)));
    let native = sqlite_file
        .clone()
        .map(|file| Arc::new(NativeWriter::new(file, Durability::Full)));
    let reader = sqlite_file
        .clone()
        .map(|file| Arc::new(NativeReader::new(file)));
    Ok(Db {
        pool,
        dialect,
        sqlite_file,
        native,
        reader,
    })
}

async fn ensure_pg_database(base: &str, name: &str, query: &str) -> Result<(), StoreError> {
    let admin = connect(&pg_url(base, "postgres", query), Dialect::Postgres).await?;
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&admin.pool)
        .await?;
    if exists.is_none() {
        // The name was checked to be [a-z0-9_] only, so quoting it is enough.
        let sql = format!("CREATE DATABASE \"{name}\"");
        if let Err(e) = admin.pool.execute(AssertSqlSafe(sql)).await {
            // Another process may have created it at the same moment.
            let again: Option<(i32,)> =
                sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
                    .bind(name)
                    .fetch_optional(&admin.pool)
                    .await?;
            if again.is_none() {
                return Err(e.into());
            }
        }
    }
    admin.close().await;
    Ok(())
}

/// The opened directory and key ring, and the way to open clinic stores.
#[derive(Clone, Debug)]
pub struct Stores {
    pub backend: Backend,
    pub directory: Db,
    pub keyring: crate::keyring::KeyRing,
}

impl Stores {
    /// Opens (creating if needed) the directory and key ring and runs their migrations.
    pub async fn open(backend: Backend) -> Result<Self, StoreError> {
        let directory = backend.open(Location::Directory).await?;
        Schema::Directory.migrate(&directory).await?;
        let keyring = backend.open(Location::KeyRing).await?;
        Schema::KeyRing.migrate(&keyring).await?;
        Ok(Self {
            backend,
            directory,
            keyring: crate::keyring::KeyRing::new(keyring),
        })
    }

    /// Opens one clinic's store. The clinic must be registered in the directory.
    pub async fn open_clinic(
        &self,
        org: &OrgNumber,
    ) -> Result<crate::clinic::ClinicStore, StoreError> {
        if self.clinic(org).await?.is_none() {
            return Err(StoreError::UnknownClinic(org.to_string()));
        }
        let db = self.backend.open(Location::Clinic(org)).await?;
        Schema::Clinic.migrate(&db).await?;
        Ok(crate::clinic::ClinicStore::new(org.clone(), db))
    }

    /// Creates a clinic's database and registers it; its store starts empty.
    pub async fn create_clinic_store(
        &self,
        org: &OrgNumber,
        name: &str,
        now: i64,
    ) -> Result<crate::clinic::ClinicStore, StoreError> {
        if self.clinic(org).await?.is_some() {
            return Err(StoreError::ClinicExists(org.to_string()));
        }
        self.backend.create_clinic_database(org).await?;
        let db = self.backend.open(Location::Clinic(org)).await?;
        Schema::Clinic.migrate(&db).await?;
        init_audit_state(&db).await?;
        self.register_clinic(org, name, now).await?;
        Ok(crate::clinic::ClinicStore::new(org.clone(), db))
    }

    /// Drops a clinic's store and creates it empty and migrated (restore only).
    pub async fn recreate_clinic_store(
        &self,
        org: &OrgNumber,
    ) -> Result<crate::clinic::ClinicStore, StoreError> {
        self.backend.drop_clinic_database(org).await?;
        self.backend.create_clinic_database(org).await?;
        let db = self.backend.open(Location::Clinic(org)).await?;
        Schema::Clinic.migrate(&db).await?;
        Ok(crate::clinic::ClinicStore::new(org.clone(), db))
    }

    /// A trivial query on the directory and the key ring.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.directory.pool)
            .await?;
        sqlx::query("SELECT 1")
            .execute(&self.keyring.db.pool)
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.directory.close().await;
        self.keyring.close().await;
    }
}

/// The audit state row exists from the start, so that writers can lock it.
async fn init_audit_state(db: &Db) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_state (id, frontier) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
    )
    .bind(fortrolig_audit::Frontier::default().to_bytes())
    .execute(&db.pool)
    .await?;
    Ok(())
}
