//! Who may reach what (S1, S3, X2): roles per profession, security levels, and the one
//! decision function every access goes through. Pure rules, no I/O, so the whole
//! authorization matrix is tested and printed from here.

use std::fmt;

use crate::identifier::OrgNumber;
use crate::ids::PatientId;

/// Roles per profession. A person may hold several at one clinic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Doctor,
    Nurse,
    Physiotherapist,
    Psychologist,
    /// Administrative data only (contact data, appointments), never health data.
    Secretary,
    /// Manages people and authorisations; no patient data unless also clinical.
    ClinicAdmin,
    /// Runs the service; never patient data.
    Operator,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Doctor,
        Role::Nurse,
        Role::Physiotherapist,
        Role::Psychologist,
        Role::Secretary,
        Role::ClinicAdmin,
        Role::Operator,
    ];

    /// The stored, stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Doctor => "lege",
            Role::Nurse => "sykepleier",
            Role::Physiotherapist => "fysioterapeut",
            Role::Psychologist => "psykolog",
            Role::Secretary => "sekretaer",
            Role::ClinicAdmin => "klinikkadministrator",
            Role::Operator => "operator",
        }
    }

    /// The name shown to people (bokmål).
    pub fn display_name(self) -> &'static str {
        match self {
            Role::Doctor => "Lege",
            Role::Nurse => "Sykepleier",
            Role::Physiotherapist => "Fysioterapeut",
            Role::Psychologist => "Psykolog",
            Role::Secretary => "Sekretær",
            Role::ClinicAdmin => "Klinikkadministrator",
            Role::Operator => "Driftsoperatør",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Health personnel who may, with a work-related need, read health data.
    pub fn is_clinical(self) -> bool {
        matches!(
            self,
            Role::Doctor | Role::Nurse | Role::Physiotherapist | Role::Psychologist
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Authentication level (eIDAS): *substantial* (e.g. MinID) or *high* (BankID, passkey
/// with identity proven in person).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Level {
    Substantial,
    High,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Substantial => "substantial",
            Level::High => "high",
        }
    }
}

/// What an act touches, which decides the level it needs (X2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataClass {
    /// A patient's administrative data: contact data, appointment times. *Substantial*.
    Administrative,
    /// Health data: messages, reasons for appointments, prescriptions. *High*.
    Health,
    /// People, roles and authorisations of a clinic. *High*: it decides who sees health data.
    People,
    /// Running the service: health checks, backups, key rotation. *High*.
    Operations,
    /// Proving who a person is and handing them a way to log in (an activation code for a
    /// passkey). *High*: the code leads to a login at level high.
    Identity,
}

impl DataClass {
    pub const ALL: [DataClass; 5] = [
        DataClass::Administrative,
        DataClass::Health,
        DataClass::People,
        DataClass::Operations,
        DataClass::Identity,
    ];

    pub fn required_level(self) -> Level {
        match self {
            DataClass::Administrative => Level::Substantial,
            DataClass::Health | DataClass::People | DataClass::Operations | DataClass::Identity => {
                Level::High
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DataClass::Administrative => "administrative",
            DataClass::Health => "health",
            DataClass::People => "people",
            DataClass::Operations => "operations",
            DataClass::Identity => "identity",
        }
    }
}

/// Why a member of staff may reach a patient's data (tjenstlig behov, S1, S3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Need {
    /// A care relationship: the person treats the patient, or a team they are a current
    /// member of does (the service finds which; the rule is the same).
    CareRelationship,
    /// Emergency access (nødrett): stated reason, time-limited, flagged for review.
    Emergency,
    /// No recorded need.
    None,
}

/// Who asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Staff {
        clinic: OrgNumber,
        roles: Vec<Role>,
        level: Level,
    },
    Patient {
        clinic: OrgNumber,
        patient: PatientId,
        level: Level,
    },
}

impl Subject {
    fn clinic(&self) -> &OrgNumber {
        match self {
            Subject::Staff { clinic, .. } | Subject::Patient { clinic, .. } => clinic,
        }
    }

    fn level(&self) -> Level {
        match self {
            Subject::Staff { level, .. } | Subject::Patient { level, .. } => *level,
        }
    }
}

/// What is asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub clinic: OrgNumber,
    pub class: DataClass,
    /// The patient whose data it is, for `Administrative` and `Health`.
    pub patient: Option<PatientId>,
    pub need: Need,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DenyReason {
    /// Another clinic's data: always denied.
    OtherClinic,
    /// The role never reaches this class of data.
    Role,
    /// Health data without a care relationship or emergency access.
    NoWorkRelatedNeed,
    /// A patient asking for someone else's data.
    NotOwnData,
    /// Patient data asked for without naming the patient.
    NoPatient,
    /// The clinic requires training on the solution before first access (S6), and the
    /// person has none recorded. Decided by the service, which knows the records.
    TrainingMissing,
}

impl DenyReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DenyReason::OtherClinic => "other-clinic",
            DenyReason::Role => "role",
            DenyReason::NoWorkRelatedNeed => "no-work-related-need",
            DenyReason::NotOwnData => "not-own-data",
            DenyReason::NoPatient => "no-patient",
            DenyReason::TrainingMissing => "training-missing",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    Allow,
    /// Allowed once the session is at this level: send the user to log in again (X2).
    StepUp(Level),
    Deny(DenyReason),
}

/// The one access decision. Denials come before step-up: nobody is asked to log in
/// again for something they could never see.
pub fn decide(subject: &Subject, request: &Request) -> Decision {
    if subject.clinic() != &request.clinic {
        return Decision::Deny(DenyReason::OtherClinic);
    }
    let patient_data = matches!(request.class, DataClass::Administrative | DataClass::Health);
    if patient_data && request.patient.is_none() {
        return Decision::Deny(DenyReason::NoPatient);
    }
    match subject {
        Subject::Patient { patient, .. } => {
            if !patient_data {
                return Decision::Deny(DenyReason::Role);
            }
            if request.patient != Some(*patient) {
                return Decision::Deny(DenyReason::NotOwnData);
            }
        }
        Subject::Staff { roles, .. } => {
            let any = |f: fn(Role) -> bool| roles.iter().copied().any(f);
            let role_ok = match request.class {
                DataClass::Administrative => any(|r| r.is_clinical() || r == Role::Secretary),
                DataClass::Health => any(Role::is_clinical),
                DataClass::People => any(|r| r == Role::ClinicAdmin),
                DataClass::Operations => any(|r| r == Role::Operator),
                // The people at the desk and in the consulting room check identity papers.
                DataClass::Identity => {
                    any(|r| r.is_clinical() || r == Role::Secretary || r == Role::ClinicAdmin)
                }
            };
            if !role_ok {
                return Decision::Deny(DenyReason::Role);
            }
            if request.class == DataClass::Health && request.need == Need::None {
                return Decision::Deny(DenyReason::NoWorkRelatedNeed);
            }
        }
    }
    let required = request.class.required_level();
    if subject.level() < required {
        return Decision::StepUp(required);
    }
    Decision::Allow
}

/// The permission table, as Markdown, generated from [`decide`] (it is what `docs/ACCESS.md`
/// holds, and a test keeps the two equal).
pub fn permission_table() -> String {
    let clinic = OrgNumber::parse("923456783");
    let other = OrgNumber::parse("812345672");
    let (Ok(clinic), Ok(other)) = (clinic, other) else {
        return String::new();
    };
    let patient = PatientId::from_bytes([1; 16]);
    let cell = |d: Decision| match d {
        Decision::Allow => "ja".to_owned(),
        Decision::StepUp(l) => format!("løft til {}", l.as_str()),
        Decision::Deny(r) => format!("nei ({})", r.as_str()),
    };
    let mut out = String::from(
        "| rolle | data | behov | nivå | egen klinikk | annen klinikk |\n|---|---|---|---|---|---|\n",
    );
    for role in Role::ALL {
        for class in DataClass::ALL {
            for need in [Need::CareRelationship, Need::Emergency, Need::None] {
                if !matches!(class, DataClass::Health) && need != Need::None {
                    continue;
                }
                for level in [Level::Substantial, Level::High] {
                    let subject = Subject::Staff {
                        clinic: clinic.clone(),
                        roles: vec![role],
                        level,
                    };
                    let mut request = Request {
                        clinic: clinic.clone(),
                        class,
                        patient: Some(patient),
                        need,
                    };
                    let own = decide(&subject, &request);
                    request.clinic = other.clone();
                    let foreign = decide(&subject, &request);
                    out.push_str(&format!(
                        "| {} | {} | {} | {} | {} | {} |\n",
                        role.display_name(),
                        class.as_str(),
                        match need {
                            Need::CareRelationship => "behandlingsrelasjon",
                            Need::Emergency => "nødrett",
                            Need::None => "–",
                        },
                        level.as_str(),
                        cell(own),
                        cell(foreign)
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(s: &str) -> OrgNumber {
        OrgNumber::parse(s).unwrap_or_else(|_| unreachable!("valid test org number"))
    }

    fn staff(roles: &[Role], level: Level) -> Subject {
        Subject::Staff {
            clinic: org("923456783"),
            roles: roles.to_vec(),
            level,
        }
    }

    fn req(class: DataClass, need: Need) -> Request {
        Request {
            clinic: org("923456783"),
            class,
            patient: Some(PatientId::from_bytes([1; 16])),
            need,
        }
    }

    #[test]
    fn secretary_never_reads_health_data_s1() {
        for need in [Need::CareRelationship, Need::Emergency, Need::None] {
            assert_eq!(
                decide(
                    &staff(&[Role::Secretary], Level::High),
                    &req(DataClass::Health, need)
                ),
                Decision::Deny(DenyReason::Role)
            );
        }
        assert_eq!(
            decide(
                &staff(&[Role::Secretary], Level::Substantial),
                &req(DataClass::Administrative, Need::None)
            ),
            Decision::Allow
        );
    }

    #[test]
    fn health_data_needs_a_work_related_need_and_level_high_s1_s3_x2() {
        let doctor = staff(&[Role::Doctor], Level::High);
        assert_eq!(
            decide(&doctor, &req(DataClass::Health, Need::None)),
            Decision::Deny(DenyReason::NoWorkRelatedNeed)
        );
        assert_eq!(
            decide(&doctor, &req(DataClass::Health, Need::CareRelationship)),
            Decision::Allow
        );
        assert_eq!(
            decide(&doctor, &req(DataClass::Health, Need::Emergency)),
            Decision::Allow
        );
        let low = staff(&[Role::Doctor], Level::Substantial);
        assert_eq!(
            decide(&low, &req(DataClass::Health, Need::CareRelationship)),
            Decision::StepUp(Level::High)
        );
    }

    #[test]
    fn other_clinic_is_always_denied_s1() {
        let mut r = req(DataClass::Administrative, Need::CareRelationship);
        r.clinic = org("812345672");
        for role in Role::ALL {
            assert_eq!(
                decide(&staff(&[role], Level::High), &r),
                Decision::Deny(DenyReason::OtherClinic)
            );
        }
    }

    #[test]
    fn patients_see_only_their_own_data_p9() {
        let me = PatientId::from_bytes([1; 16]);
        let p = Subject::Patient {
            clinic: org("923456783"),
            patient: me,
            level: Level::Substantial,
        };
        assert_eq!(
            decide(&p, &req(DataClass::Health, Need::None)),
            Decision::StepUp(Level::High)
        );
        let mut other = req(DataClass::Health, Need::None);
        other.patient = Some(PatientId::from_bytes([2; 16]));
        assert_eq!(decide(&p, &other), Decision::Deny(DenyReason::NotOwnData));
        assert_eq!(
            decide(&p, &req(DataClass::People, Need::None)),
            Decision::Deny(DenyReason::Role)
        );
    }

    #[test]
    fn operator_and_admin_never_reach_patient_data_s1() {
        for role in [Role::Operator, Role::ClinicAdmin] {
            for class in [DataClass::Administrative, DataClass::Health] {
                assert_eq!(
                    decide(
                        &staff(&[role], Level::High),
                        &req(class, Need::CareRelationship)
                    ),
                    Decision::Deny(DenyReason::Role)
                );
            }
        }
    }
}
