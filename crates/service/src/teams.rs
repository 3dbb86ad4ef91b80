//! Teams (S1, tjenstlig behov): a named team of the clinic, its members over time, and
//! the patients it treats. A member of staff has a care relationship with a patient when
//! they have one themselves or when a team they are a current member of has one; the
//! check is made by `Clinic::health_access`, still the only door to health data, and
//! still followed by the role, level and training rules.
//!
//! Every change is an audited write in the same transaction, and nothing is deleted:
//! ending a membership or a team's care relationship records when it ended, and access
//! through it ends at that moment.

use fortrolig_domain::{Action, PatientId, StaffId, TeamId, Timestamp};
use fortrolig_store::{SpellRow, TeamRow};
use fortrolig_vault::Aad;

use crate::clinic::{ActContext, Clinic};
use crate::error::ServiceError;
use crate::people::malformed;

/// The longest team name, in characters.
pub const MAX_TEAM_NAME: usize = 100;

/// A team with its current members and patients.
#[derive(Debug, Clone)]
pub struct Team {
    pub id: TeamId,
    /// Free text, so sealed at rest like staff names.
    pub name: String,
    pub created_at: Timestamp,
    pub members: Vec<StaffId>,
    pub patients: Vec<PatientId>,
}

/// One spell of membership of a team, current or past.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub staff: StaffId,
    pub since: Timestamp,
    pub ended_at: Option<Timestamp>,
}

/// One spell of a team's care of a patient, current or past.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamCare {
    pub patient: PatientId,
    pub since: Timestamp,
    pub ended_at: Option<Timestamp>,
}

fn team_aad(clinic: &str, id: &TeamId) -> Aad {
    Aad::new(clinic, "teams", id.as_bytes(), "name")
}

/// A team name is one line of 1 to 100 printable characters.
fn team_name(name: &str) -> Result<String, ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_TEAM_NAME || name.chars().any(char::is_control)
    {
        return Err(ServiceError::Invalid(format!(
            "a team name must be 1-{MAX_TEAM_NAME} printable characters"
        )));
    }
    Ok(name.to_owned())
}

fn not_member() -> ServiceError {
    ServiceError::Invalid("this person is not a member of the team".into())
}

fn no_team_care() -> ServiceError {
    ServiceError::Invalid("the team has no care relationship with this patient".into())
}

fn memberships(rows: Vec<SpellRow>) -> Result<Vec<Membership>, ServiceError> {
    rows.into_iter()
        .map(|r| {
            Ok(Membership {
                staff: StaffId::from_slice(&r.other_id).ok_or_else(|| malformed("staff id"))?,
                since: Timestamp(r.since),
                ended_at: r.ended_at.map(Timestamp),
            })
        })
        .collect()
}

fn care_spells(rows: Vec<SpellRow>) -> Result<Vec<TeamCare>, ServiceError> {
    rows.into_iter()
        .map(|r| {
            Ok(TeamCare {
                patient: PatientId::from_slice(&r.other_id)
                    .ok_or_else(|| malformed("patient id"))?,
                since: Timestamp(r.since),
                ended_at: r.ended_at.map(Timestamp),
            })
        })
        .collect()
}

impl Clinic {
    /// Creates a team. Its name is sealed under the clinic's people key: it is free text
    /// and could name a patient or a condition. Names are unique in the clinic (compared
    /// without regard to case), so people pick the right team.
    pub async fn create_team(&self, ctx: &ActContext, name: &str) -> Result<TeamId, ServiceError> {
        let name = team_name(name)?;
        for team in self.teams().await? {
            if team.name.to_lowercase() == name.to_lowercase() {
                return Err(ServiceError::Invalid(
                    "the clinic already has a team with this name".into(),
                ));
            }
        }
        let key = self.people_key().await?;
        let id = TeamId::from_bytes(fortrolig_vault::random_bytes::<16>()?);
        let row = TeamRow {
            id: id.as_bytes().to_vec(),
            name: key.seal(&team_aad(self.org().as_str(), &id), name.as_bytes())?,
            created_at: self.clock.now().as_micros(),
        };
        // The audit entry names the team by id only: the name may be sensitive.
        self.write(
            ctx,
            Action::TeamCreated,
            None,
            &format!("team:{id}"),
            move |tx| Box::pin(async move { tx.insert_team(&row).await }),
        )
        .await?;
        Ok(id)
    }

    async fn team_row(&self, id: TeamId) -> Result<TeamRow, ServiceError> {
        self.store
            .team(id.as_bytes())
            .await?
            .ok_or(ServiceError::NoSuchTeam)
    }

    async fn open_team(&self, row: TeamRow) -> Result<Team, ServiceError> {
        let id = TeamId::from_slice(&row.id).ok_or_else(|| malformed("team id"))?;
        let key = self.people_key().await?;
        let name = key.open(&team_aad(self.org().as_str(), &id), &row.name)?;
        let name = String::from_utf8(name).map_err(|_| malformed("team name is not UTF-8"))?;
        let members = memberships(self.store.team_memberships(&row.id).await?)?
            .into_iter()
            .filter(|m| m.ended_at.is_none())
            .map(|m| m.staff)
            .collect();
        let patients = care_spells(self.store.team_care_history(&row.id).await?)?
            .into_iter()
            .filter(|c| c.ended_at.is_none())
            .map(|c| c.patient)
            .collect();
        Ok(Team {
            id,
            name,
            created_at: Timestamp(row.created_at),
            members,
            patients,
        })
    }

    /// A team with its current members and patients.
    pub async fn team(&self, id: TeamId) -> Result<Team, ServiceError> {
        let row = self.team_row(id).await?;
        self.open_team(row).await
    }

    /// Every team of the clinic, oldest first.
    pub async fn teams(&self) -> Result<Vec<Team>, ServiceError> {
        let mut out = Vec::new();
        for row in self.store.teams().await? {
            out.push(self.open_team(row).await?);
        }
        Ok(out)
    }

    /// Every membership the team has had, oldest first (kept, never deleted).
    pub async fn team_membership_history(
        &self,
        id: TeamId,
    ) -> Result<Vec<Membership>, ServiceError> {
        self.team_row(id).await?;
        memberships(self.store.team_memberships(id.as_bytes()).await?)
    }

    /// Every care relationship the team has had, oldest first (kept, never deleted).
    pub async fn team_care_history(&self, id: TeamId) -> Result<Vec<TeamCare>, ServiceError> {
        self.team_row(id).await?;
        care_spells(self.store.team_care_history(id.as_bytes()).await?)
    }

    /// Adds a member of staff to a team from now. A person who has left cannot be added.
    pub async fn add_team_member(
        &self,
        ctx: &ActContext,
        team: TeamId,
        staff: StaffId,
    ) -> Result<(), ServiceError> {
        self.team_row(team).await?;
        if !self.staff_row(staff).await?.active {
            return Err(ServiceError::Invalid(
                "this person has left the clinic and cannot join a team".into(),
            ));
        }
        if self
            .store
            .is_team_member(team.as_bytes(), staff.as_bytes())
            .await?
        {
            return Err(ServiceError::Invalid(
                "this person is already a member of the team".into(),
            ));
        }
        let now = self.clock.now().as_micros();
        self.write(
            ctx,
            Action::TeamMemberAdded,
            None,
            &format!("team:{team} staff:{staff}"),
            move |tx| {
                Box::pin(async move {
                    tx.add_team_member(team.as_bytes(), staff.as_bytes(), now)
                        .await
                })
            },
        )
        .await
    }

    /// Ends a membership now; access through the team ends with it.
    pub async fn remove_team_member(
        &self,
        ctx: &ActContext,
        team: TeamId,
        staff: StaffId,
    ) -> Result<(), ServiceError> {
        self.team_row(team).await?;
        let now = self.clock.now().as_micros();
        self.end_open(
            ctx,
            Action::TeamMemberRemoved,
            None,
            &format!("team:{team} staff:{staff}"),
            not_member,
            move |tx| {
                Box::pin(async move {
                    tx.end_team_member(team.as_bytes(), staff.as_bytes(), now)
                        .await
                })
            },
        )
        .await
    }

    /// Starts a care relationship between a team and a patient: every current member may
    /// then reach the patient's health data (with a clinical role, at level high).
    pub async fn start_team_care(
        &self,
        ctx: &ActContext,
        team: TeamId,
        patient: PatientId,
    ) -> Result<(), ServiceError> {
        self.team_row(team).await?;
        self.store
            .patient(patient.as_bytes())
            .await?
            .ok_or(ServiceError::NoSuchPatient)?;
        if self
            .store
            .team_in_care(team.as_bytes(), patient.as_bytes())
            .await?
        {
            return Err(ServiceError::Invalid(
                "the team already has a care relationship with this patient".into(),
            ));
        }
        let now = self.clock.now().as_micros();
        self.write(
            ctx,
            Action::TeamCareStarted,
            Some(patient),
            &format!("team:{team}"),
            move |tx| {
                Box::pin(async move {
                    tx.start_team_care(team.as_bytes(), patient.as_bytes(), now)
                        .await
                })
            },
        )
        .await
    }

    /// Ends a team's care relationship now; access through it ends with it.
    pub async fn end_team_care(
        &self,
        ctx: &ActContext,
        team: TeamId,
        patient: PatientId,
    ) -> Result<(), ServiceError> {
        self.team_row(team).await?;
        let now = self.clock.now().as_micros();
        self.end_open(
            ctx,
            Action::TeamCareEnded,
            Some(patient),
            &format!("team:{team}"),
            no_team_care,
            move |tx| {
                Box::pin(async move {
                    tx.end_team_care(team.as_bytes(), patient.as_bytes(), now)
                        .await
                })
            },
        )
        .await
    }
}
