#![doc = include_str!("../README.md")]

pub mod access;
pub mod attachment;
pub mod audit;
pub mod clock;
pub mod consent;
pub mod identifier;
pub mod ids;
pub mod incidents;
pub mod info_pages;
pub mod messaging;
pub mod notice;
pub mod patient;
pub mod processing;
pub mod requests;
pub mod retention;

pub use audit::{Action, Actor, AuditEvent, Outcome, Source};
pub use clock::{Clock, ManualClock, Timestamp};
pub use identifier::{HprNumber, IdentifierError, OrgNumber, PersonNumber};
pub use ids::{
    EmergencyId, GrantId, IdError, IncidentId, MessageId, PatientId, RequestId, StaffId, TeamId,
    ThreadId,
};
pub use patient::{ContactError, Email, NewPatient, PersonName, Phone};
