//! What an audit entry says (X3): who did what to which patient's data, why, with what
//! outcome, and from where. Never the content itself.

use std::fmt;

use crate::identifier::{HprNumber, OrgNumber};
use crate::ids::PatientId;

/// The person or system that acted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// Internal person id, or `system:<name>` for the platform itself.
    pub id: String,
    /// Role at the time of the act (`lege`, `sekretær`, `operatør`, `system` …).
    pub role: String,
    /// The clinic the actor acted for.
    pub clinic: OrgNumber,
    pub hpr: Option<HprNumber>,
}

impl Actor {
    /// The platform acting on its own (start-up, CLI administration, retention jobs).
    pub fn system(name: &str, clinic: OrgNumber) -> Self {
        Self {
            id: format!("system:{name}"),
            role: "system".into(),
            clinic,
            hpr: None,
        }
    }
}

/// What was done. The string form is what the log stores, so it never changes meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    ClinicCreated,
    PatientCreated,
    PatientRead,
    PatientShredded,
    ClinicKeyRotated,
    BackupTaken,
    Restored,
    StaffAdded,
    StaffDeactivated,
    AuthorisationGranted,
    AuthorisationEnded,
    CareStarted,
    CareEnded,
    AccessDenied,
    EmergencyAccess,
    EmergencyReviewed,
    SessionStarted,
    SessionEnded,
    LoginFailed,
    AuthorisationReviewed,
    TrainingRecorded,
    SettingChanged,
    ActivationIssued,
    PasskeyEnrolled,
    PasskeysRevoked,
    TeamCreated,
    TeamMemberAdded,
    TeamMemberRemoved,
    TeamCareStarted,
    TeamCareEnded,
    ThreadOpened,
    ThreadRead,
    MessageSent,
    MessageRecalled,
    ThreadUpdated,
    AttachmentRead,
    InboxListed,
    AuthorisationChanged,
    NoticeSent,
    NoticeDelivered,
    NoticeFailed,
    NoticeBounced,
    /// Not sent because the contact and reservation register says not to (N4).
    NoticeSkipped,
    NoticeTemplateChanged,
    ConsentChanged,
    TaskCreated,
    TaskDone,
    /// A copy of everything held about the patient left the system (P9: the patient's own
    /// machine-readable copy).
    PatientExported,
    /// Staff marked journal-worthy content as transferred to the EPJ (S5); from then on
    /// the copy here is under the journal retention period.
    JournalTransferred,
    /// Retention removed data whose period ran out (X4); the object says what and how much.
    RetentionDeleted,
    /// The patient made a request under their rights (P9).
    RequestReceived,
    /// The clinic answered a request (granted, refused with a reason, or partly), and
    /// carried out what was granted in the same act.
    RequestAnswered,
    /// A granted restriction of processing was lifted.
    RestrictionLifted,
    /// A draft incident was assessed: registered with its risk, or discarded with the
    /// reason (C4, S7). Its creation is in the entry of the act that offered it.
    IncidentDecided,
    /// A registered incident's follow-up: reported to Datatilsynet, or the patient told.
    IncidentFollowedUp,
}

impl Action {
    pub const ALL: [Action; 55] = [
        Action::ClinicCreated,
        Action::PatientCreated,
        Action::PatientRead,
        Action::PatientShredded,
        Action::ClinicKeyRotated,
        Action::BackupTaken,
        Action::Restored,
        Action::StaffAdded,
        Action::StaffDeactivated,
        Action::AuthorisationGranted,
        Action::AuthorisationEnded,
        Action::CareStarted,
        Action::CareEnded,
        Action::AccessDenied,
        Action::EmergencyAccess,
        Action::EmergencyReviewed,
        Action::SessionStarted,
        Action::SessionEnded,
        Action::LoginFailed,
        Action::AuthorisationReviewed,
        Action::TrainingRecorded,
        Action::SettingChanged,
        Action::ActivationIssued,
        Action::PasskeyEnrolled,
        Action::PasskeysRevoked,
        Action::TeamCreated,
        Action::TeamMemberAdded,
        Action::TeamMemberRemoved,
        Action::TeamCareStarted,
        Action::TeamCareEnded,
        Action::ThreadOpened,
        Action::ThreadRead,
        Action::MessageSent,
        Action::MessageRecalled,
        Action::ThreadUpdated,
        Action::AttachmentRead,
        Action::InboxListed,
        Action::AuthorisationChanged,
        Action::NoticeSent,
        Action::NoticeDelivered,
        Action::NoticeFailed,
        Action::NoticeBounced,
        Action::NoticeSkipped,
        Action::NoticeTemplateChanged,
        Action::ConsentChanged,
        Action::TaskCreated,
        Action::TaskDone,
        Action::PatientExported,
        Action::JournalTransferred,
        Action::RetentionDeleted,
        Action::RequestReceived,
        Action::RequestAnswered,
        Action::RestrictionLifted,
        Action::IncidentDecided,
        Action::IncidentFollowedUp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::ClinicCreated => "clinic.created",
            Action::PatientCreated => "patient.created",
            Action::PatientRead => "patient.read",
            Action::PatientShredded => "patient.shredded",
            Action::ClinicKeyRotated => "clinic.key_rotated",
            Action::BackupTaken => "backup.taken",
            Action::Restored => "backup.restored",
            Action::StaffAdded => "staff.added",
            Action::StaffDeactivated => "staff.deactivated",
            Action::AuthorisationGranted => "authorisation.granted",
            Action::AuthorisationEnded => "authorisation.ended",
            Action::CareStarted => "care.started",
            Action::CareEnded => "care.ended",
            Action::AccessDenied => "access.denied",
            Action::EmergencyAccess => "access.emergency",
            Action::EmergencyReviewed => "access.emergency_reviewed",
            Action::SessionStarted => "session.started",
            Action::SessionEnded => "session.ended",
            Action::LoginFailed => "login.failed",
            Action::AuthorisationReviewed => "authorisation.reviewed",
            Action::TrainingRecorded => "training.recorded",
            Action::SettingChanged => "clinic.setting_changed",
            Action::ActivationIssued => "identity.activation_issued",
            Action::PasskeyEnrolled => "passkey.enrolled",
            Action::PasskeysRevoked => "passkey.revoked",
            Action::TeamCreated => "team.created",
            Action::TeamMemberAdded => "team.member_added",
            Action::TeamMemberRemoved => "team.member_removed",
            Action::TeamCareStarted => "team.care_started",
            Action::TeamCareEnded => "team.care_ended",
            Action::ThreadOpened => "thread.opened",
            Action::ThreadRead => "thread.read",
            Action::MessageSent => "message.sent",
            Action::MessageRecalled => "message.recalled",
            Action::ThreadUpdated => "thread.updated",
            Action::AttachmentRead => "attachment.read",
            Action::InboxListed => "inbox.listed",
            Action::AuthorisationChanged => "authorisation.changed",
            Action::NoticeSent => "notice.sent",
            Action::NoticeDelivered => "notice.delivered",
            Action::NoticeFailed => "notice.failed",
            Action::NoticeBounced => "notice.bounced",
            Action::NoticeSkipped => "notice.skipped",
            Action::NoticeTemplateChanged => "notice.template_changed",
            Action::ConsentChanged => "consent.changed",
            Action::TaskCreated => "task.created",
            Action::TaskDone => "task.done",
            Action::PatientExported => "patient.exported",
            Action::JournalTransferred => "message.journal_transferred",
            Action::RetentionDeleted => "retention.deleted",
            Action::RequestReceived => "request.received",
            Action::RequestAnswered => "request.answered",
            Action::RestrictionLifted => "request.restriction_lifted",
            Action::IncidentDecided => "incident.decided",
            Action::IncidentFollowedUp => "incident.followed_up",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Granted,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Granted => "granted",
            Outcome::Denied => "denied",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "granted" => Some(Outcome::Granted),
            "denied" => Some(Outcome::Denied),
            _ => None,
        }
    }
}

/// Where the act came from: a web session and address, or a local command.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Source {
    pub session: Option<String>,
    pub address: Option<String>,
}

impl Source {
    pub fn cli() -> Self {
        Self {
            session: Some("cli".into()),
            address: None,
        }
    }
}

/// One act to be recorded. The time and sequence number are added by the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    pub actor: Actor,
    pub patient: Option<PatientId>,
    pub action: Action,
    /// The object acted on, by id (`patient:<id>`, `clinic`, `backup:<file name>`).
    pub object: String,
    /// Reason or purpose, as given by the actor or the routine.
    pub reason: String,
    pub outcome: Outcome,
    pub source: Source,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_round_trip() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(action));
        }
        assert_eq!(Action::parse("nope"), None);
    }
}
