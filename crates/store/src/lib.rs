#![doc = include_str!("../README.md")]

mod audit_scan;
mod backend;
mod clinic;
mod directory;
mod error;
mod incidents;
mod keyring;
mod messages;
mod migrate;
mod notices;
mod passkeys;
mod people;
mod requests;
mod retention;
mod sessions;
mod sql;
pub mod tables;
mod teams;
mod thread_keys;

pub use backend::{Backend, Db, Dialect, Stores};
pub use clinic::{ActEnd, AuditAppend, ClinicStore, ClinicTx, PatientRow};
pub use directory::ClinicEntry;
pub use error::StoreError;
pub use incidents::{IncidentDecision, IncidentRow};
pub use keyring::{ClinicKeyRow, KeyRing, PatientKeyRow, SigningKeyRow};
pub use messages::{AttachmentRow, MessageRow, ThreadRow};
pub use migrate::{Migration, Schema};
pub use notices::{ConsentRow, NoticeRow, TaskRow};
pub use passkeys::{ActivationRow, PasskeyRow};
pub use people::{AuthorisationRow, EmergencyRow, StaffRow};
pub use requests::{CorrectionRow, RequestAnswer, RequestRow};
pub use retention::{ClosedThread, KeptMessage, Removed};
pub use sessions::SessionRow;
pub use teams::{SpellRow, TeamRow};
pub use thread_keys::ThreadKeyRow;
