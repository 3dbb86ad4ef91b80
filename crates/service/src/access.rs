//! The only way to a patient's health data (S1, S3, X2, X3).
//!
//! `Clinic::health_access` and `Clinic::emergency_access` are the two doors: each asks
//! `fortrolig_domain::access::decide` with the person's roles in force, the session's
//! level and the recorded need (their own care relationship, one of a team they are a
//! current member of, or emergency access), writes refused attempts to the audit log as
//! security events, and only on success hands out a `HealthAccess` — the capability that
//! health data is read through. It cannot be built any other way outside this module.

use std::collections::HashMap;

use fortrolig_domain::access::{DataClass, Decision, DenyReason, Level, Need, Request, Subject};
use fortrolig_domain::{
    Action, EmergencyId, OrgNumber, Outcome, PatientId, Source, StaffId, TeamId, Timestamp,
};
use fortrolig_store::EmergencyRow;

use crate::clinic::{ActContext, Clinic, Patient, aad};
use crate::error::ServiceError;

/// Emergency access lasts at most this long (S3).
pub const MAX_EMERGENCY_MINUTES: u32 = 12 * 60;

/// A member of staff as a session presents them: who, at which level, from where.
#[derive(Debug, Clone)]
pub struct StaffActor {
    pub staff: StaffId,
    pub level: Level,
    pub source: Source,
}

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("access denied: {}", .0.as_str())]
    Denied(DenyReason),
    #[error("log in again at level {}", .0.as_str())]
    StepUp(Level),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<fortrolig_vault::VaultError> for AccessError {
    fn from(e: fortrolig_vault::VaultError) -> Self {
        AccessError::Service(e.into())
    }
}

impl From<fortrolig_store::StoreError> for AccessError {
    fn from(e: fortrolig_store::StoreError) -> Self {
        AccessError::Service(e.into())
    }
}

/// Proof that one person may read one patient's health data now, and why.
#[derive(Debug)]
pub struct HealthAccess<'c> {
    pub(crate) clinic: &'c Clinic,
    pub(crate) actor: ActContext,
    patient: PatientId,
    need: Need,
    team: Option<TeamId>,
    /// What the access was granted for: health data, or only administrative data (a
    /// secretary, or a session at level substantial).
    class: DataClass,
}

impl HealthAccess<'_> {
    pub fn patient(&self) -> PatientId {
        self.patient
    }

    pub fn need(&self) -> Need {
        self.need
    }

    /// Whether this access covers data of `class` (health access covers administrative
    /// data too; administrative access only that).
    pub fn covers(&self, class: DataClass) -> bool {
        self.class == DataClass::Health || self.class == class
    }

    /// The team whose care relationship allowed the access, when it was not the person's
    /// own.
    pub fn team(&self) -> Option<TeamId> {
        self.team
    }

    /// The patient's record; the read is audited with the need that allowed it.
    pub async fn read_patient(&self) -> Result<Patient, ServiceError> {
        self.clinic.read_patient(&self.actor, self.patient).await
    }

    /// Opens the portal again for a patient who ended their use of it (P11), at their
    /// request; administrative access is enough. `Ok(false)` if it was not ended.
    pub async fn reopen_portal(&self) -> Result<bool, ServiceError> {
        self.clinic.reopen_portal(&self.actor, self.patient).await
    }
}

/// An emergency access waiting for review, with its stated reason.
#[derive(Debug, Clone)]
pub struct EmergencyReview {
    pub id: EmergencyId,
    pub staff: StaffId,
    pub patient: PatientId,
    pub reason: String,
    pub granted_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A list's access decisions for one member of staff (`Clinic::list_reach`), without a
/// query per row; `may_reach` asks it for a single row.
#[derive(Debug)]
pub(crate) struct ListReach {
    clinic: OrgNumber,
    subject: Subject,
    trained: bool,
    needs: HashMap<Vec<u8>, Need>,
}

impl ListReach {
    pub(crate) fn may(&self, patient: PatientId, class: DataClass) -> bool {
        let request = Request {
            clinic: self.clinic.clone(),
            class,
            patient: Some(patient),
            need: self
                .needs
                .get(patient.as_bytes().as_slice())
                .copied()
                .unwrap_or(Need::None),
        };
        self.trained
            && matches!(
                fortrolig_domain::access::decide(&self.subject, &request),
                Decision::Allow
            )
    }
}

fn staff_context(
    clinic: &Clinic,
    who: &StaffActor,
    roles: &[fortrolig_domain::access::Role],
    reason: &str,
) -> ActContext {
    ActContext {
        actor: fortrolig_domain::Actor {
            id: format!("staff:{}", who.staff),
            role: roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join("+"),
            clinic: clinic.org().clone(),
            hpr: None,
        },
        source: who.source.clone(),
        reason: reason.to_owned(),
    }
}

impl Clinic {
    async fn subject(
        &self,
        who: &StaffActor,
    ) -> Result<(Subject, Vec<fortrolig_domain::access::Role>), ServiceError> {
        let roles = self.roles_at(who.staff, self.clock.now()).await?;
        Ok((
            Subject::Staff {
                clinic: self.org().clone(),
                roles: roles.clone(),
                level: who.level,
            },
            roles,
        ))
    }

    /// False only when the clinic requires training and the person has none (S6).
    async fn trained_enough(&self, staff: StaffId) -> Result<bool, ServiceError> {
        Ok(!self.training_required().await? || self.has_training(staff).await?)
    }

    /// Records a refused attempt as a security event (X3) and returns the refusal.
    async fn refuse(
        &self,
        ctx: &ActContext,
        patient: PatientId,
        reason: DenyReason,
    ) -> AccessError {
        let ctx = ActContext {
            reason: format!("avvist: {}", reason.as_str()),
            ..ctx.clone()
        };
        let recorded = self
            .write_outcome(
                &ctx,
                Action::AccessDenied,
                Some(patient),
                &format!("patient:{patient}"),
                Outcome::Denied,
                |_| Box::pin(async { Ok(()) }),
            )
            .await;
        match recorded {
            Ok(()) => AccessError::Denied(reason),
            Err(e) => AccessError::Service(e),
        }
    }

    /// Opens a patient's health data for a member of staff with a care relationship or
    /// emergency access in force, at level high.
    pub async fn health_access(
        &self,
        who: &StaffActor,
        patient: PatientId,
        purpose: &str,
    ) -> Result<HealthAccess<'_>, AccessError> {
        self.patient_access(who, patient, DataClass::Health, purpose)
            .await
    }

    /// Opens a patient's administrative data (an administrative thread): the clinical
    /// roles and secretaries, at level substantial, no care relationship needed.
    pub async fn administrative_access(
        &self,
        who: &StaffActor,
        patient: PatientId,
        purpose: &str,
    ) -> Result<HealthAccess<'_>, AccessError> {
        self.patient_access(who, patient, DataClass::Administrative, purpose)
            .await
    }

    /// The work-related need recorded for `who` and this patient now: their own care
    /// relationship, one of a team they are a current member of (which team), emergency
    /// access in force, or none.
    async fn need_of(
        &self,
        who: &StaffActor,
        patient: PatientId,
    ) -> Result<(Need, Option<TeamId>), ServiceError> {
        let (staff, patient) = (who.staff.as_bytes(), patient.as_bytes());
        if self.store.in_care_relationship(staff, patient).await? {
            return Ok((Need::CareRelationship, None));
        }
        if let Some(id) = self.store.care_team_of(staff, patient).await? {
            let id = TeamId::from_slice(&id).ok_or_else(|| {
                ServiceError::from(fortrolig_store::StoreError::Malformed("team id".into()))
            })?;
            return Ok((Need::CareRelationship, Some(id)));
        }
        let now = self.clock.now().as_micros();
        if self
            .store
            .emergency_in_force(staff, patient, now)
            .await?
            .is_some()
        {
            return Ok((Need::Emergency, None));
        }
        Ok((Need::None, None))
    }

    /// What a list needs to decide its rows, read once: the person's
    /// roles and training, and the patients they have a need for now. A list of 500
    /// threads is then three queries, not a few per row.
    pub(crate) async fn list_reach(&self, who: &StaffActor) -> Result<ListReach, ServiceError> {
        let (subject, _) = self.subject(who).await?;
        let now = self.clock.now().as_micros();
        let mut needs = HashMap::new();
        for (patient, care) in self.store.needs_of_staff(who.staff.as_bytes(), now).await? {
            let need = if care {
                Need::CareRelationship
            } else {
                Need::Emergency
            };
            // A care relationship outranks emergency access, as in `need_of`.
            let known = needs.entry(patient).or_insert(need);
            if care {
                *known = Need::CareRelationship;
            }
        }
        Ok(ListReach {
            clinic: self.org().clone(),
            subject,
            trained: self.trained_enough(who.staff).await?,
            needs,
        })
    }

    /// Whether `who` would be let in to this patient's data of `class` now, decided
    /// without recording anything (for lists; opening still goes through the doors).
    /// The same rule as a list's, so that one answer never differs from the other.
    pub(crate) async fn may_reach(
        &self,
        who: &StaffActor,
        patient: PatientId,
        class: DataClass,
    ) -> Result<bool, ServiceError> {
        Ok(self.list_reach(who).await?.may(patient, class))
    }

    async fn patient_access(
        &self,
        who: &StaffActor,
        patient: PatientId,
        class: DataClass,
        purpose: &str,
    ) -> Result<HealthAccess<'_>, AccessError> {
        let (subject, roles) = self.subject(who).await?;
        let mut ctx = staff_context(self, who, &roles, purpose);
        let (need, team) = self.need_of(who, patient).await?;
        if let Some(id) = team {
            // The reads record which team allowed them, so a review can see why (S1).
            ctx.reason = format!("{purpose}; via team:{id}");
        }
        let request = Request {
            clinic: self.org().clone(),
            class,
            patient: Some(patient),
            need,
        };
        match fortrolig_domain::access::decide(&subject, &request) {
            Decision::Allow if !self.trained_enough(who.staff).await? => Err(self
                .refuse(&ctx, patient, DenyReason::TrainingMissing)
                .await),
            Decision::Allow => Ok(HealthAccess {
                clinic: self,
                actor: ctx,
                patient,
                need,
                team,
                class,
            }),
            Decision::StepUp(level) => Err(AccessError::StepUp(level)),
            Decision::Deny(reason) => Err(self.refuse(&ctx, patient, reason).await),
        }
    }

    /// Emergency access (nødrett, S3): a clinician without a care relationship states a
    /// reason and gets access for at most 12 hours. The grant is recorded, its audit
    /// entry is flagged, and it waits in the clinic's review queue.
    pub async fn emergency_access(
        &self,
        who: &StaffActor,
        patient: PatientId,
        reason: &str,
        minutes: u32,
    ) -> Result<HealthAccess<'_>, AccessError> {
        let reason = reason.trim();
        if reason.chars().count() < 10 {
            return Err(ServiceError::Invalid(
                "give a reason of at least 10 characters for emergency access".into(),
            )
            .into());
        }
        if minutes == 0 || minutes > MAX_EMERGENCY_MINUTES {
            return Err(ServiceError::Invalid(format!(
                "emergency access lasts 1 to {MAX_EMERGENCY_MINUTES} minutes"
            ))
            .into());
        }
        let (subject, roles) = self.subject(who).await?;
        let ctx = staff_context(self, who, &roles, "nødrett");
        let request = Request {
            clinic: self.org().clone(),
            class: DataClass::Health,
            patient: Some(patient),
            need: Need::Emergency,
        };
        match fortrolig_domain::access::decide(&subject, &request) {
            Decision::Allow if !self.trained_enough(who.staff).await? => {
                return Err(self
                    .refuse(&ctx, patient, DenyReason::TrainingMissing)
                    .await);
            }
            Decision::Allow => {}
            Decision::StepUp(level) => return Err(AccessError::StepUp(level)),
            Decision::Deny(reason) => return Err(self.refuse(&ctx, patient, reason).await),
        }
        if self.store.patient(patient.as_bytes()).await?.is_none() {
            return Err(ServiceError::NoSuchPatient.into());
        }
        let key = self.data_key(patient).await?;
        let id = EmergencyId::from_bytes(fortrolig_vault::random_bytes::<16>()?);
        let now = self.clock.now().as_micros();
        let row = EmergencyRow {
            id: id.as_bytes().to_vec(),
            staff_id: who.staff.as_bytes().to_vec(),
            patient_id: patient.as_bytes().to_vec(),
            reason: key.seal(
                &aad(self.org(), "emergency_access", &patient, &id.to_string()),
                reason.as_bytes(),
            )?,
            granted_at: now,
            expires_at: now + i64::from(minutes) * 60_000_000,
            reviewed_by: None,
            reviewed_at: None,
            review_note: None,
        };
        let flagged = ActContext {
            reason: format!("nødrett til gjennomgang; {minutes} min; tilgang {id}"),
            ..ctx.clone()
        };
        self.write(
            &flagged,
            Action::EmergencyAccess,
            Some(patient),
            &format!("emergency:{id}"),
            move |tx| Box::pin(async move { tx.insert_emergency(&row).await }),
        )
        .await?;
        Ok(HealthAccess {
            clinic: self,
            actor: ctx,
            patient,
            need: Need::Emergency,
            team: None,
            class: DataClass::Health,
        })
    }

    /// Emergency accesses not yet reviewed, oldest first, with their reasons (S3).
    pub async fn emergency_reviews_pending(&self) -> Result<Vec<EmergencyReview>, ServiceError> {
        let mut out = Vec::new();
        for row in self.store.emergency_unreviewed().await? {
            let malformed = || {
                ServiceError::from(fortrolig_store::StoreError::Malformed(
                    "emergency access row".into(),
                ))
            };
            let id = EmergencyId::from_slice(&row.id).ok_or_else(malformed)?;
            let patient = PatientId::from_slice(&row.patient_id).ok_or_else(malformed)?;
            let reason = match self.data_key(patient).await {
                Ok(key) => {
                    let plain = key.open(
                        &aad(self.org(), "emergency_access", &patient, &id.to_string()),
                        &row.reason,
                    )?;
                    String::from_utf8(plain).map_err(|_| malformed())?
                }
                // The patient was shredded since: the reason went with them.
                Err(ServiceError::Shredded) => String::from("(slettet sammen med pasienten)"),
                Err(e) => return Err(e),
            };
            out.push(EmergencyReview {
                id,
                staff: StaffId::from_slice(&row.staff_id).ok_or_else(malformed)?,
                patient,
                reason,
                granted_at: Timestamp(row.granted_at),
                expires_at: Timestamp(row.expires_at),
            });
        }
        Ok(out)
    }

    pub async fn review_emergency(
        &self,
        ctx: &ActContext,
        id: EmergencyId,
        note: &str,
    ) -> Result<(), ServiceError> {
        let row = self
            .store
            .emergency(id.as_bytes())
            .await?
            .ok_or_else(|| ServiceError::Invalid("no such emergency access".into()))?;
        let patient = PatientId::from_slice(&row.patient_id);
        let by = ctx.actor.id.clone();
        let now = self.clock.now().as_micros();
        let note = note.trim().to_owned();
        let done = self
            .write(
                ctx,
                Action::EmergencyReviewed,
                patient,
                &format!("emergency:{id}"),
                move |tx| {
                    Box::pin(
                        async move { tx.review_emergency(id.as_bytes(), &by, &note, now).await },
                    )
                },
            )
            .await?;
        if done {
            Ok(())
        } else {
            Err(ServiceError::Invalid(
                "this emergency access was already reviewed".into(),
            ))
        }
    }
}
