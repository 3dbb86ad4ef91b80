//! The clinic's people: staff, their time-limited authorisations (S2) and care
//! relationships (S1). Every change is an audited act; nothing is deleted.

use std::collections::HashMap;

use fortrolig_domain::access::Role;
use fortrolig_domain::{
    Action, GrantId, HprNumber, OrgNumber, PatientId, PersonName, PersonNumber, StaffId, Timestamp,
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
    /// The clinics the authorisation was granted for, in org-number order: this clinic
    /// alone, or several when it was granted across clinics (S2). `id` is then the shared
    /// reference every covered clinic's store records it under.
    pub covers: Vec<OrgNumber>,
}

impl Authorisation {
    /// Granted for more than this clinic (S2).
    pub fn is_shared(&self) -> bool {
        self.covers.len() > 1
    }
}

pub(crate) fn malformed(what: &str) -> ServiceError {
    StoreError::Malformed(what.to_owned()).into()
}

/// The clinics each shared authorisation covers, by grant id.
type Coverage = HashMap<Vec<u8>, Vec<OrgNumber>>;

fn authorisation(
    row: AuthorisationRow,
    coverage: &Coverage,
    own: &OrgNumber,
) -> Result<Authorisation, ServiceError> {
    let covers = coverage
        .get(&row.id)
        .cloned()
        .unwrap_or_else(|| vec![own.clone()]);
    Ok(Authorisation {
        covers,
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

/// Org numbers as the audit log and the command line show them: `A,B`.
pub(crate) fn org_list(orgs: &[OrgNumber]) -> String {
    orgs.iter()
        .map(OrgNumber::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

/// An authorisation has an end, after its start, at most three years on (S2).
pub(crate) fn check_period(from: Timestamp, until: Timestamp) -> Result<(), ServiceError> {
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
    Ok(())
}

fn staff_aad(clinic: &str, id: &StaffId) -> Aad {
    Aad::new(clinic, "staff", id.as_bytes(), "name")
}

fn staff_number_aad(clinic: &str, id: &StaffId) -> Aad {
    Aad::new(clinic, "staff", id.as_bytes(), "person_number")
}

impl Clinic {
    /// The stored row of a member of staff, or `NoSuchStaff`.
    pub(crate) async fn staff_row(&self, staff: StaffId) -> Result<StaffRow, ServiceError> {
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
            move |tx| Box::pin(async move { tx.insert_staff(&row).await }),
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
        let sealed = self.people_key().await?.seal(
            &staff_number_aad(self.org().as_str(), &staff),
            number.as_str().as_bytes(),
        )?;
        let linked = self
            .write(
                ctx,
                Action::StaffAdded,
                None,
                &format!("staff:{staff} identity"),
                move |tx| {
                    Box::pin(async move {
                        tx.set_staff_person_number(staff.as_bytes(), &index, &sealed)
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

    /// Everyone who works or has worked at the clinic, by name.
    pub async fn staff_list(&self) -> Result<Vec<Staff>, ServiceError> {
        let mut out = Vec::new();
        for row in self.store.all_staff().await? {
            let id = StaffId::from_slice(&row.id).ok_or_else(|| malformed("staff id"))?;
            out.push(self.staff_member(id).await?);
        }
        out.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
        Ok(out)
    }

    /// The identity number a member of staff is linked to, if it was linked after
    /// migration 13 (earlier links kept only the blind index).
    pub async fn staff_person_number(
        &self,
        staff: StaffId,
    ) -> Result<Option<PersonNumber>, ServiceError> {
        let Some(sealed) = self.store.staff_person_number(staff.as_bytes()).await? else {
            return Ok(None);
        };
        let key = self.people_key().await?;
        let number = key.open(&staff_number_aad(self.org().as_str(), &staff), &sealed)?;
        let number =
            String::from_utf8(number).map_err(|_| malformed("staff number is not UTF-8"))?;
        PersonNumber::parse(&number)
            .map(Some)
            .map_err(|_| malformed("staff number"))
    }

    /// Gives an authorisation in force a new end date (S2). The old one is ended and a
    /// new one with the same role starts, in one audited transaction, so the record keeps
    /// both; the new one starts now, or at the old start if that is still to come.
    /// Authorisations across clinics are changed by ending and granting them anew.
    pub async fn change_grant_end(
        &self,
        ctx: &ActContext,
        grant: GrantId,
        until: Timestamp,
    ) -> Result<GrantId, ServiceError> {
        let now = self.clock.now();
        let old = self
            .authorisation(grant)
            .await?
            .filter(|a| a.ended_at.is_none() && now < a.valid_until)
            .ok_or_else(|| ServiceError::Invalid("no such authorisation in force".into()))?;
        if old.is_shared() {
            return Err(ServiceError::Invalid(
                "an authorisation across clinics is changed by ending it and granting it anew"
                    .into(),
            ));
        }
        let from = old.valid_from.max(now);
        check_period(from, until)?;
        self.grantable(old.staff).await?;
        let id = GrantId::from_bytes(fortrolig_vault::random_bytes::<16>()?);
        let row = AuthorisationRow {
            id: id.as_bytes().to_vec(),
            staff_id: old.staff.as_bytes().to_vec(),
            role: old.role.as_str().to_owned(),
            valid_from: from.0,
            valid_until: until.0,
            granted_by: ctx.actor.id.clone(),
            granted_at: now.0,
            ended_at: None,
            ended_by: None,
        };
        let by = ctx.actor.id.clone();
        let object = format!(
            "staff:{} role:{} grant:{grant} new-grant:{id} until:{until}",
            old.staff, old.role
        );
        let changed = self
            .write(
                ctx,
                Action::AuthorisationChanged,
                None,
                &object,
                move |tx| {
                    Box::pin(async move {
                        // Ended by someone else meanwhile: roll back, audit entry and all.
                        if !tx.end_authorisation(grant.as_bytes(), &by, now.0).await? {
                            return Err(StoreError::NotOpen);
                        }
                        tx.insert_authorisation(&row).await
                    })
                },
            )
            .await;
        match changed {
            Ok(()) => Ok(id),
            Err(ServiceError::Store(StoreError::NotOpen)) => Err(ServiceError::Invalid(
                "no such authorisation in force".into(),
            )),
            Err(e) => Err(e),
        }
    }

    /// Grants `role` from `from` until `until` (S2), for this clinic alone. The end date
    /// is required.
    pub async fn grant_role(
        &self,
        ctx: &ActContext,
        staff: StaffId,
        role: Role,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<GrantId, ServiceError> {
        check_period(from, until)?;
        self.grantable(staff).await?;
        let id = GrantId::from_bytes(fortrolig_vault::random_bytes::<16>()?);
        self.insert_grant(ctx, staff, role, from, until, id, &[])
            .await?;
        Ok(id)
    }

    /// Refuses a grant to someone unknown here or who has left.
    pub(crate) async fn grantable(&self, staff: StaffId) -> Result<(), ServiceError> {
        let member = self.staff_row(staff).await?;
        if !member.active {
            return Err(ServiceError::Invalid(
                "this person has left the clinic; reactivate before granting".into(),
            ));
        }
        Ok(())
    }

    /// Writes one authorisation and its audit entry in one transaction. `covers` lists
    /// every clinic of a grant across clinics (empty: this clinic alone); it is recorded
    /// with the grant and named in the audit entry.
    #[expect(
        clippy::too_many_arguments,
        reason = "one authorisation has this many parts"
    )]
    pub(crate) async fn insert_grant(
        &self,
        ctx: &ActContext,
        staff: StaffId,
        role: Role,
        from: Timestamp,
        until: Timestamp,
        id: GrantId,
        covers: &[OrgNumber],
    ) -> Result<(), ServiceError> {
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
        let mut object = format!("staff:{staff} role:{role} grant:{id}");
        if !covers.is_empty() {
            object.push_str(&format!(" covers:{}", org_list(covers)));
        }
        let clinics: Vec<String> = covers.iter().map(ToString::to_string).collect();
        self.write(
            ctx,
            Action::AuthorisationGranted,
            None,
            &object,
            move |tx| {
                Box::pin(async move {
                    tx.insert_authorisation(&row).await?;
                    tx.insert_authorisation_clinics(row.id.as_slice(), &clinics)
                        .await
                })
            },
        )
        .await
    }

    /// One authorisation of this clinic, current or past.
    pub async fn authorisation(
        &self,
        grant: GrantId,
    ) -> Result<Option<Authorisation>, ServiceError> {
        let Some(row) = self.store.authorisation(grant.as_bytes()).await? else {
            return Ok(None);
        };
        authorisation(row, &self.coverage().await?, self.org()).map(Some)
    }

    async fn coverage(&self) -> Result<Coverage, ServiceError> {
        let mut out = Coverage::new();
        for (grant, org) in self.store.authorisation_clinics().await? {
            let org = OrgNumber::parse(&org).map_err(|_| malformed("covered clinic"))?;
            out.entry(grant).or_default().push(org);
        }
        Ok(out)
    }

    pub async fn end_grant(&self, ctx: &ActContext, grant: GrantId) -> Result<(), ServiceError> {
        let by = ctx.actor.id.clone();
        let now = self.clock.now().as_micros();
        self.end_open(
            ctx,
            Action::AuthorisationEnded,
            None,
            &format!("grant:{grant}"),
            || ServiceError::Invalid("no such authorisation in force".into()),
            move |tx| {
                Box::pin(async move { tx.end_authorisation(grant.as_bytes(), &by, now).await })
            },
        )
        .await
    }

    /// Ends this clinic's copy of an authorisation across clinics, naming every clinic it
    /// covers in the audit entry. False when it had already ended here.
    pub(crate) async fn end_shared_grant(
        &self,
        ctx: &ActContext,
        grant: GrantId,
        covers: &[OrgNumber],
    ) -> Result<bool, ServiceError> {
        let by = ctx.actor.id.clone();
        let now = self.clock.now().as_micros();
        self.write(
            ctx,
            Action::AuthorisationEnded,
            None,
            &format!("grant:{grant} covers:{}", org_list(covers)),
            move |tx| {
                Box::pin(async move { tx.end_authorisation(grant.as_bytes(), &by, now).await })
            },
        )
        .await
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
            move |tx| {
                Box::pin(async move {
                    tx.deactivate_staff(staff.as_bytes(), &by, now).await?;
                    // A passkey must not outlive the person's place at the clinic.
                    tx.revoke_passkeys("staff", staff.as_bytes(), now).await?;
                    Ok(())
                })
            },
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
        let coverage = self.coverage().await?;
        self.store
            .authorisations_of(staff.as_bytes())
            .await?
            .into_iter()
            .map(|row| authorisation(row, &coverage, self.org()))
            .collect()
    }

    /// The access review (S2): every authorisation in force now, for an administrator to
    /// confirm or end.
    pub async fn access_review(&self) -> Result<Vec<Authorisation>, ServiceError> {
        let now = self.clock.now().as_micros();
        let coverage = self.coverage().await?;
        self.store
            .authorisations_in_force(now)
            .await?
            .into_iter()
            .map(|row| authorisation(row, &coverage, self.org()))
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
            move |tx| {
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
            move |tx| {
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
            move |tx| Box::pin(async move { tx.set_setting(TRAINING_REQUIRED, value).await }),
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
            move |tx| {
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
        self.end_open(
            ctx,
            Action::CareEnded,
            Some(patient),
            &format!("staff:{staff}"),
            || ServiceError::Invalid("no care relationship in force".into()),
            move |tx| {
                Box::pin(async move {
                    tx.end_care_relationship(staff.as_bytes(), patient.as_bytes(), now)
                        .await
                })
            },
        )
        .await
    }
}
