#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database error: {0}")]
    NativeSqlite(#[from] rusqlite::Error),
    #[error("cannot prepare the data directory {path}: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
    #[error("clinic {0} is not registered")]
    UnknownClinic(String),
    #[error("clinic {0} is already registered")]
    ClinicExists(String),
    #[error("a patient with this identity number is already registered at the clinic")]
    PatientExists,
    #[error("the session was no longer open")]
    NotOpen,
    #[error("the stored data is malformed: {0}")]
    Malformed(String),
    #[error("the database URL is not a usable postgres:// URL: {0}")]
    BadUrl(String),
    #[error(
        "the store was written by a newer Fortrolig (schema version {found}, this build knows {known})"
    )]
    SchemaTooNew { found: i64, known: i64 },
}

impl StoreError {
    /// True when the database could not be reached at all (answer 503, not 500).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Database(
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed
            )
        )
    }

    /// A unique key was taken: the patient is registered already.
    pub(crate) fn from_insert(e: StoreError) -> Self {
        if e.constraint() == Some(Constraint::Unique) {
            StoreError::PatientExists
        } else {
            e
        }
    }

    /// The statement was stopped by a `NOT NULL` column.
    pub(crate) fn is_not_null_violation(&self) -> bool {
        self.constraint() == Some(Constraint::NotNull)
    }

    fn constraint(&self) -> Option<Constraint> {
        use rusqlite::ffi;
        match self {
            StoreError::Database(sqlx::Error::Database(e)) => match e.kind() {
                sqlx::error::ErrorKind::UniqueViolation => Some(Constraint::Unique),
                sqlx::error::ErrorKind::NotNullViolation => Some(Constraint::NotNull),
                _ => None,
            },
            StoreError::NativeSqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                match e.extended_code {
                    ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                        Some(Constraint::Unique)
                    }
                    ffi::SQLITE_CONSTRAINT_NOTNULL => Some(Constraint::NotNull),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Constraint {
    Unique,
    NotNull,
}
