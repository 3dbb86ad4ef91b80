use fortrolig_audit::Fault;
use fortrolig_store::StoreError;
use fortrolig_vault::VaultError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Vault(#[from] VaultError),
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("clinic {0} is already registered")]
    ClinicExists(String),
    #[error("no such patient")]
    NoSuchPatient,
    #[error("no such member of staff")]
    NoSuchStaff,
    #[error("no such team")]
    NoSuchTeam,
    /// A change across clinics went through in some clinics' stores but not all. Each
    /// clinic is its own database, so there is no transaction across them; this names
    /// where the authorisation is still in force, so it can be ended there (X5, S2).
    #[error(
        "authorisation {grant} is still in force in clinic(s) {}: {cause}; run the command again to finish",
        .in_force.join(", ")
    )]
    Incomplete {
        grant: String,
        in_force: Vec<String>,
        cause: Box<ServiceError>,
    },
    /// The patient withdrew consent to the service, or ended their use of the portal.
    #[error("the patient has stopped this: {0:?}")]
    Stopped(crate::consent::Stopped),
    #[error("this patient's data has been deleted (crypto-shredded)")]
    Shredded,
    #[error("the audit log of clinic {clinic} failed verification: {fault}")]
    AuditBroken { clinic: String, fault: Fault },
    #[error("backup file: {0}")]
    Backup(String),
    /// The group commit this write was part of failed as a whole (see
    /// `group_commit`): nothing of the batch was committed. The cause is shared by
    /// every write of the batch.
    #[error("the batch of writes this one was part of failed: {0}")]
    Batch(std::sync::Arc<ServiceError>),
    /// The clinic's writer stopped before it answered (the runtime shutting down).
    #[error("the clinic's writer stopped before the write was answered")]
    WriterStopped,
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl ServiceError {
    pub fn is_unavailable(&self) -> bool {
        match self {
            ServiceError::Store(e) => e.is_unavailable(),
            ServiceError::Batch(e) => e.is_unavailable(),
            ServiceError::WriterStopped => true,
            _ => false,
        }
    }

    /// A clinic that is not registered here was named.
    pub fn is_unknown_clinic(&self) -> bool {
        matches!(self, ServiceError::Store(StoreError::UnknownClinic(_)))
    }
}
