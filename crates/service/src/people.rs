//! The clinic's people: staff, their time-limited authorisations (S2) and care
//! relationships (S1). Every change is an audited act; nothing is deleted.

use fortrolig_domain::access::Role;
use fortrolig_domain::{
    Action, GrantId, HprNumber, PatientId, PersonName, PersonNumber, StaffId, Timestamp,
};
use fortrolig_store::{AuthorisationRow, PatientKeyRow, StaffRow, StoreError};
use fortrolig_vault::{Aad, DataKey, Wrapped};

use crate::clinic::{ActContext, Clinic, people_key_context};
use crate::error::ServiceError;
use crate::keys::{key_id, random_key_id};

/// The clinic's basic course on the solution (S6).
pub const BASIC_COURSE: &str = "fortrolig-grunnkurs";
const TRAINING_REQUIRED: &str = "training_required";

/// Rights are reviewed at least yearly (S2).
pub const REVIEW_INTERVAL_MICROS: i64 = 365 * 24 * 3600 * 1_000_000;

/// Authorisations are time-limited; none may run longer than this (S2).
pub const MAX_AUTHORISATION_MICROS: i64 = 3 * 366 * 24 * 3600 * 1_000_000;

/// A member of staff, decrypted.
#[derive(Debug, Clone)]
pub struct Staff {
    pub id: StaffId,
    pub name: PersonName,
    pub hpr: Option<HprNumber>,
    pub active: bool,
    pub created_at: Timestamp,
}

/// One authorisation, current or past.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorisation {
    pub id: GrantId,
    pub staff: StaffId,
    pub role: Role,
    pub valid_from: Timestamp,
    pub valid_until: Timestamp,
    pub granted_by: String,
    pub granted_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub ended_by: Option<String>,
}

fn malformed(what: &str) -> ServiceError {
    StoreError::Malformed(what.to_owned()).into()
}

fn authorisation(row: AuthorisationRow) -> Result<Authorisation, ServiceError> {
    Ok(Authorisation {
        id: GrantId::from_slice(&row.id).ok_or_else(|| malformed("grant id"))?,
        staff: StaffId::from_slice(&row.staff_id).ok_or_else(|| malformed("staff id"))?,
        role: Role::parse(&row.role).ok_or_else(|| malformed("unknown role"))?,
        valid_from: Timestamp(row.valid_from),
        valid_until: Timestamp(row.valid_until),
        granted_by: row.granted_by,
        granted_at: Timestamp(row.granted_at),
        ended_at: row.ended_at.map(Timestamp),
        ended_by: row.ended_by,
    })
}

fn staff_aad(clinic: &str, id: &StaffId) -> Aad {
    Aad::new(clinic, "staff", id.as_bytes(), "name")
}

impl Clinic {
    /// The stored row of a member of staff, or `NoSuchStaff`.
    async fn staff_row(&self, staff: StaffId) -> Result<StaffRow, ServiceError> {
        self.store
            .staff(staff.as_bytes())
            .await?
            .ok_or(ServiceError::NoSuchStaff)
    }

    /// The clinic's key for staff data, made on first use.
    pub(crate) async fn people_key(&self) -> Result<DataKey, ServiceError> {
        let org = self.org().as_str();
        let keys = self.keys.read().await;
        if self.keyring.people_key(org).await?.is_none() {
            let key = DataKey::generate(random_key_id()?)?;
            let row = PatientKeyRow {
                patient_id: Vec::new(),
                key_id: key.id().0.to_vec(),
                clinic_key_version: keys.clinic_key_version,
                wrapped: keys
                    .clinic_key
                    .wrap(&key, &people_key_context(self.org()))?
                    .0,
            };
            self.keyring.insert_people_key(org, &row).await?;
        }
        let row = self
            .keyring
            .people_key(org)
            .await?
            .ok_or_else(|| malformed("people key vanished"))?;
        Ok(keys.clinic_key.unwrap(
            key_id(&row.key_id)?,
            &Wrapped(row.wrapped),
            &people_key_context(self.org()),
        )?)
    }

    pub async fn add_staff(
        &self,
        ctx: &ActContext,
        name: &PersonName,
        hpr: Option<&HprNumber>,
    ) -> Result<StaffId, ServiceError> {
        let key = self.people_key().await?;
        let id = StaffId::from_bytes(fortrolig_vault::random_bytes::<16>()?);
        let row = StaffRow {
            id: id.as_bytes().to_vec(),
            name: key.seal(
                &staff_aad(self.org().as_str(), &id),
                name.as_str().as_bytes(),
            )?,
            hpr: hpr.map(ToString::to_string),
            active: true,
            created_at: self.clock.now().as_micros(),
            deactivated_at: None,
        };
        self.write(
            ctx,
            Action::StaffAdded,
            None,
            &format!("staff:{id}"),
            |tx| Box::pin(async move { tx.insert_staff(&row).await }),
        )
        .await?;
        Ok(id)
    }

    /// Links a member of staff to their identity number, so that they can log in through
    /// HelseID. Stored only as a blind index.
    pub async fn link_staff_identity(
        &self,
        ctx: &ActContext,
        staff: StaffId,
        number: &PersonNumber,
    ) -> Result<(), ServiceError> {
        self.staff_row(staff).await?;
        let index = self
            .keys
            .read()
            .await
            .blind
            .index("staff-fnr", number.as_str())
            .to_vec();
        let linked = self
            .write(
                ctx,
                Action::StaffAdded,
                None,
                &format!("staff:{staff} identity"),
                |tx| {
                    Box::pin(async move {
                        tx.set_staff_person_number_index(staff.as_bytes(), &index)
                            .await
                    })
                },
            )
            .await?;
        if linked {
            Ok(())
        } else {
            Err(ServiceError::NoSuchStaff)
        }
    }

    /// The member of staff with this identity number, if linked (a blind-index lookup).
    pub async fn staff_id_by_number(
        &self,
        number: &PersonNumber,
    ) -> Result<Option<StaffId>, ServiceError> {
        let index = self
            .keys
            .read()
            .await
            .blind
            .index("staff-fnr", number.as_str());
        Ok(self
            .store
            .staff_by_index(&index)
            .await?
            .and_then(|id| StaffId::from_slice(&id)))
    }

    pub async fn staff_member(&self, id: StaffId) -> Result<Staff, ServiceError> {
        let row = self.staff_row(id).await?;
        let key = self.people_key().await?;
        let name = key.open(&staff_aad(self.org().as_str(), &id), &row.name)?;
        let name = String::from_utf8(name).map_err(|_| malformed("staff name is not UTF-8"))?;
        Ok(Staff {
            id,
            name: PersonName::parse(&name).map_err(|_| malformed("staff name"))?,
            hpr: row
                .hpr
                .as_deref()
                .map(HprNumber::parse)
                .transpose()
                .map_err(|_| malformed("stored HPR number"))?,
            active: row.active,
            created_at: Timestamp(row.created_at),
        })
    }

    /// Grants `role` from `from` until `until` (S2). The end date is required.
    pub async fn grant_role(
        &self,
        ctx: &ActContext,
        staff: StaffId,
        role: Role,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<GrantId, ServiceError> {
        if until <= from {
            return Err(ServiceError::Invalid(
                "an authorisation must end after it starts".into(),
            ));
        }
        if until.0 - from.0 > MAX_AUTHORISATION_MICROS {
            return Err(ServiceError::Invalid(
                "an authorisation may last at most three years; renew it after review".into(),
            ));
        }
        let member = self.staff_row(staff).await?;
        if !member.active {
            return Err(ServiceError::Invalid(
                "this person has left the clinic; reactivate before granting".into(),
            ));
        }
        let id = GrantId::from_bytes(fortrolig_vault::random_bytes::<16>()?);
        let row = AuthorisationRow {
            id: id.as_bytes().to_vec(),
            staff_id: staff.as_bytes().to_vec(),
            role: role.as_str().to_owned(),
            valid_from: from.0,
            valid_until: until.0,
            granted_by: ctx.actor.id.clone(),
            granted_at: self.clock.now().as_micros(),
            ended_at: None,
            ended_by: None,
        };
        let object = format!("staff:{staff} role:{role} grant:{id}");
        self.write(ctx, Action::AuthorisationGranted, None, &object, |tx| {
            Box::pin(async move { tx.insert_authorisation(&row).await })
        })
        .await?;
        Ok(id)
    }

    pub async fn end_grant(&self, ctx: &ActContext, grant: GrantId) -> Result<(), ServiceError> {
        let by = ctx.actor.id.clone();
        let now = self.clock.now().as_micros();
        let ended = self
            .write(
                ctx,
                Action::AuthorisationEnded,
                None,
                &format!("grant:{grant}"),
                |tx| {
                    Box::pin(async move { tx.end_authorisation(grant.as_bytes(), &by, now).await })
                },
            )
            .await?;
        if ended {
            Ok(())
        } else {
            Err(ServiceError::Invalid(
                "no such authorisation in force".into(),
            ))
        }
    }

    /// A person leaves: deactivated, every authorisation ended at once (S2).
    pub async fn deactivate_staff(
        &self,
        ctx: &ActContext,
        staff: StaffId,
    ) -> Result<(), ServiceError> {
        self.staff_row(staff).await?;
        let by = ctx.actor.id.clone();
        let now = self.clock.now().as_micros();
        self.write(
            ctx,
            Action::StaffDeactivated,
            None,
            &format!("staff:{staff}"),
            |tx| Box::pin(async move { tx.deactivate_staff(staff.as_bytes(), &by, now).await }),
        )
        .await?;
        // Their sessions end at once, not at the next timeout (S2).
        self.end_all_sessions(crate::SessionSubject::Staff(staff), "deactivated")
            .await?;
        Ok(())
    }

    /// The roles a person holds at `at`: active, authorisation not ended and in its dates.
    pub async fn roles_at(&self, staff: StaffId, at: Timestamp) -> Result<Vec<Role>, ServiceError> {
        let Some(member) = self.store.staff(staff.as_bytes()).await? else {
            return Ok(Vec::new());
        };
        if !member.active {
            return Ok(Vec::new());
        }
        let mut roles: Vec<Role> = self
            .authorisation_history(staff)
            .await?
            .into_iter()
            .filter(|a| a.ended_at.is_none() && a.valid_from <= at && at < a.valid_until)
            .map(|a| a.role)
            .collect();
        roles.sort();
        roles.dedup();
        Ok(roles)
    }

    /// Every authorisation the person has had, newest first (kept, never deleted).
    pub async fn authorisation_history(
        &self,
        staff: StaffId,
    ) -> Result<Vec<Authorisation>, ServiceError> {
        self.store
            .authorisations_of(staff.as_bytes())
            .await?
            .into_iter()
            .map(authorisation)
            .collect()
    }

    /// The access review (S2): every authorisation in force now, for an administrator to
    /// confirm or end.
    pub async fn access_review(&self) -> Result<Vec<Authorisation>, ServiceError> {
        let now = self.clock.now().as_micros();
        self.store
            .authorisations_in_force(now)
            .await?
            .into_iter()
            .map(authorisation)
            .collect()
    }

    /// Authorisations in force whose last review (or grant) is a year old or more: the
    /// reminders of the yearly access review (S2).
    pub async fn reviews_due(&self) -> Result<Vec<Authorisation>, ServiceError> {
        let now = self.clock.now();
        let reviewed: std::collections::HashMap<Vec<u8>, i64> =
            self.store.latest_reviews().await?.into_iter().collect();
        Ok(self
            .access_review()
            .await?
            .into_iter()
            .filter(|a| {
                let last = reviewed
                    .get(a.id.as_bytes().as_slice())
                    .copied()
                    .unwrap_or(a.granted_at.0);
                now.0 - last >= REVIEW_INTERVAL_MICROS
            })
            .collect())
    }

    /// Records the administrator's decision on one authorisation in the access review:
    /// confirmed (it stays) or revoked (it ends now). Both are kept and audited.
    pub async fn review_grant(
        &self,
        ctx: &ActContext,
        grant: GrantId,
        keep: bool,
    ) -> Result<(), ServiceError> {
        let by = ctx.actor.id.clone();
        let now = self.clock.now().as_micros();
        let decision = if keep { "confirmed" } else { "revoked" };
        let in_force = self.access_review().await?.iter().any(|a| a.id == grant);
        if !in_force {
            return Err(ServiceError::Invalid(
                "no such authorisation in force".into(),
            ));
        }
        self.write(
            ctx,
            Action::AuthorisationReviewed,
            None,
            &format!("grant:{grant} {decision}"),
            |tx| {
                Box::pin(async move {
                    tx.insert_access_review(grant.as_bytes(), &by, decision, now)
                        .await?;
                    if !keep {
                        tx.end_authorisation(grant.as_bytes(), &by, now).await?;
                    }
                    Ok(())
                })
            },
        )
        .await
    }

    /// Records that a person completed training on the solution (S6).
    pub async fn record_training(
        &self,
        ctx: &ActContext,
        staff: StaffId,
        course: &str,
    ) -> Result<(), ServiceError> {
        let course = course.trim().to_owned();
        if course.is_empty() || course.chars().count() > 100 {
            return Err(ServiceError::Invalid(
                "the course name must be 1-100 characters".into(),
            ));
        }
        self.staff_row(staff).await?;
        let by = ctx.actor.id.clone();
        let now = self.clock.now().as_micros();
        self.write(
            ctx,
            Action::TrainingRecorded,
            None,
            &format!("staff:{staff} course:{course}"),
            |tx| {
                Box::pin(async move {
                    tx.insert_training(staff.as_bytes(), &course, &by, now)
                        .await
                })
            },
        )
        .await
    }

    /// Whether the person has completed the clinic's basic course.
    pub async fn has_training(&self, staff: StaffId) -> Result<bool, ServiceError> {
        Ok(!self
            .store
            .training_of(staff.as_bytes(), BASIC_COURSE)
            .await?
            .is_empty())
    }

    /// Whether the clinic requires the basic course before a person's first access to
    /// health data (S6).
    pub async fn training_required(&self) -> Result<bool, ServiceError> {
        Ok(self.store.setting(TRAINING_REQUIRED).await?.as_deref() == Some("true"))
    }

    pub async fn set_training_required(
        &self,
        ctx: &ActContext,
        required: bool,
    ) -> Result<(), ServiceError> {
        let value = if required { "true" } else { "false" };
        self.write(
            ctx,
            Action::SettingChanged,
            None,
            &format!("{TRAINING_REQUIRED}={value}"),
            |tx| Box::pin(async move { tx.set_setting(TRAINING_REQUIRED, value).await }),
        )
        .await
    }

    pub async fn start_care(
        &self,
        ctx: &ActContext,
        staff: StaffId,
        patient: PatientId,
    ) -> Result<(), ServiceError> {
        self.staff_row(staff).await?;
        self.store
            .patient(patient.as_bytes())
            .await?
            .ok_or(ServiceError::NoSuchPatient)?;
        if self
            .store
            .in_care_relationship(staff.as_bytes(), patient.as_bytes())
            .await?
        {
            return Ok(());
        }
        let now = self.clock.now().as_micros();
        self.write(
            ctx,
            Action::CareStarted,
            Some(patient),
            &format!("staff:{staff}"),
            |tx| {
                Box::pin(async move {
                    tx.start_care_relationship(staff.as_bytes(), patient.as_bytes(), now)
                        .await
                })
            },
        )
        .await
    }

    pub async fn end_care(
        &self,
        ctx: &ActContext,
        staff: StaffId,
        patient: PatientId,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now().as_micros();
        let ended = self
            .write(
                ctx,
                Action::CareEnded,
                Some(patient),
                &format!("staff:{staff}"),
                |tx| {
                    Box::pin(async move {
                        tx.end_care_relationship(staff.as_bytes(), patient.as_bytes(), now)
                            .await
                    })
                },
            )
            .await?;
        if ended {
            Ok(())
        } else {
            Err(ServiceError::Invalid(
                "no care relationship in force".into(),
            ))
        }
    }
}
