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

    pub(crate) fn from_insert(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::PatientExists,
            _ => StoreError::Database(e),
        }
    }
}
