//! Authorisations covering several clinics (S2: «state which businesses they cover»),
//! without ever joining the clinics' data (X5).
//!
//! Each clinic keeps its own store, and a clinic decides access only from its own
//! authorisations table. An authorisation across clinics is therefore written into every
//! covered clinic's store, each in that clinic's own audited transaction, under one shared
//! grant id, with the list of covered clinics beside it. Ending it ends every copy. A
//! grant that reached clinic A but not B gives nothing in B: B's store does not hold it.
//!
//! Who may do it: the operator from the command line on the server, or a clinic
//! administrator who holds the administrator role, at level high, in **every** clinic
//! the change touches — the same rule (`decide` for people data) that each clinic applies
//! on its own. A refusal is a security event in each clinic that refused.
//!
//! There is no transaction across databases. A grant that fails part-way is withdrawn
//! from the clinics it reached; an end that fails part-way says where the grant is still
//! in force, and running it again finishes it (ending is idempotent).

use std::sync::Arc;

use fortrolig_domain::access::{
    DataClass, Decision, DenyReason, Level, Need, Request, Role, Subject, decide,
};
use fortrolig_domain::{
    Action, Actor, GrantId, OrgNumber, Outcome, PersonNumber, Source, StaffId, Timestamp,
};

use crate::Fortrolig;
use crate::access::AccessError;
use crate::clinic::{ActContext, Clinic};
use crate::error::ServiceError;
use crate::people::{check_period, org_list};

/// Who changes an authorisation across clinics.
#[derive(Debug, Clone)]
pub enum Grantor {
    /// The operator, from the command line on the server (`fortrolig staff grant`).
    OperatorCli,
    /// A clinic administrator in a session at `level`, from `source`. Known in each
    /// clinic by identity number, because staff ids are drawn per clinic.
    Administrator {
        number: PersonNumber,
        level: Level,
        source: Source,
    },
}

/// An authorisation granted across clinics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedGrant {
    /// The shared reference: the grant id in every covered clinic's store.
    pub id: GrantId,
    pub role: Role,
    pub valid_from: Timestamp,
    pub valid_until: Timestamp,
    /// Each covered clinic with the holder's staff id there, in org-number order.
    pub holders: Vec<(OrgNumber, StaffId)>,
}

impl SharedGrant {
    pub fn clinics(&self) -> Vec<OrgNumber> {
        self.holders.iter().map(|(org, _)| org.clone()).collect()
    }
}

type Opened = Vec<(OrgNumber, Arc<Clinic>)>;

impl Fortrolig {
    async fn open_all(&self, clinics: &[OrgNumber]) -> Result<Opened, ServiceError> {
        let mut out = Vec::with_capacity(clinics.len());
        for org in clinics {
            out.push((org.clone(), self.clinic(org).await?));
        }
        Ok(out)
    }

    /// The grantor's authority in each clinic, as the context each clinic's audit entry
    /// will carry. Refused in any clinic: refused everywhere, recorded as a security
    /// event in each clinic that refused, and nothing is changed.
    async fn authority(
        &self,
        by: &Grantor,
        clinics: &Opened,
        action: Action,
        object: &str,
        reason: &str,
    ) -> Result<Vec<ActContext>, AccessError> {
        let Grantor::Administrator {
            number,
            level,
            source,
        } = by
        else {
            return Ok(clinics
                .iter()
                .map(|(org, _)| ActContext::system("cli", org).with_reason(reason))
                .collect());
        };
        let now = self.now();
        let mut allowed = Vec::new();
        let mut refused = Vec::new();
        let mut step_up = None;
        for (org, clinic) in clinics {
            let staff = clinic.staff_id_by_number(number).await?;
            let roles = match staff {
                Some(id) => clinic.roles_at(id, now).await?,
                None => Vec::new(),
            };
            let ctx = ActContext {
                actor: Actor {
                    id: staff.map_or_else(|| "staff:ukjent".to_owned(), |id| format!("staff:{id}")),
                    role: roles
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join("+"),
                    clinic: org.clone(),
                    hpr: None,
                },
                source: source.clone(),
                reason: reason.to_owned(),
            };
            let subject = Subject::Staff {
                clinic: org.clone(),
                roles,
                level: *level,
            };
            let request = Request {
                clinic: org.clone(),
                class: DataClass::People,
                patient: None,
                need: Need::None,
            };
            match decide(&subject, &request) {
                Decision::Allow => allowed.push(ctx),
                Decision::StepUp(l) => step_up = Some(l),
                Decision::Deny(why) => refused.push((clinic, ctx, why)),
            }
        }
        // As in `decide`: a refusal comes before a step-up, so nobody logs in again for
        // something they could never do.
        if let Some((_, _, first)) = refused.first() {
            let first: DenyReason = *first;
            for (clinic, ctx, why) in &refused {
                let ctx = ActContext {
                    reason: format!("avvist: {}; gjelder {}", why.as_str(), reason),
                    ..ctx.clone()
                };
                clinic
                    .write_outcome(&ctx, action, None, object, Outcome::Denied, |_| {
                        Box::pin(async { Ok(()) })
                    })
                    .await?;
            }
            return Err(AccessError::Denied(first));
        }
        if let Some(level) = step_up {
            return Err(AccessError::StepUp(level));
        }
        Ok(allowed)
    }

    /// Grants `role` to the person with identity number `holder` in every clinic of
    /// `clinics`, from `from` until `until`, as one authorisation with one shared id.
    /// The person must be registered (and active) as staff in each clinic first.
    #[expect(
        clippy::too_many_arguments,
        reason = "one authorisation across clinics has this many parts"
    )]
    pub async fn grant_across_clinics(
        &self,
        by: &Grantor,
        holder: &PersonNumber,
        role: Role,
        from: Timestamp,
        until: Timestamp,
        clinics: &[OrgNumber],
        reason: &str,
    ) -> Result<SharedGrant, AccessError> {
        check_period(from, until)?;
        let mut orgs = clinics.to_vec();
        orgs.sort();
        orgs.dedup();
        if orgs.is_empty() {
            return Err(
                ServiceError::Invalid("name the clinics the authorisation covers".into()).into(),
            );
        }
        let opened = self.open_all(&orgs).await?;
        let id = GrantId::from_bytes(fortrolig_vault::random_bytes::<16>()?);
        let object = format!("role:{role} grant:{id} covers:{}", org_list(&orgs));
        let contexts = self
            .authority(by, &opened, Action::AuthorisationGranted, &object, reason)
            .await?;
        // Everything is checked before anything is written.
        let mut holders = Vec::with_capacity(opened.len());
        for (org, clinic) in &opened {
            let staff = clinic.staff_id_by_number(holder).await?.ok_or_else(|| {
                ServiceError::Invalid(format!(
                    "the person is not registered as staff at clinic {org}; add them there first"
                ))
            })?;
            clinic.grantable(staff).await?;
            holders.push((org.clone(), staff));
        }
        for (i, ((_, clinic), ctx)) in opened.iter().zip(&contexts).enumerate() {
            let staff = holders[i].1;
            if let Err(e) = clinic
                .insert_grant(ctx, staff, role, from, until, id, &orgs)
                .await
            {
                return Err(self
                    .withdraw(&opened[..i], &contexts[..i], id, &orgs, e)
                    .await
                    .into());
            }
        }
        Ok(SharedGrant {
            id,
            role,
            valid_from: from,
            valid_until: until,
            holders,
        })
    }

    /// After a grant failed in one clinic: ends it in the clinics it reached, so that it
    /// is in force everywhere or nowhere. Returns the error to report.
    async fn withdraw(
        &self,
        reached: &[(OrgNumber, Arc<Clinic>)],
        contexts: &[ActContext],
        id: GrantId,
        orgs: &[OrgNumber],
        cause: ServiceError,
    ) -> ServiceError {
        let mut in_force = Vec::new();
        for ((org, clinic), ctx) in reached.iter().zip(contexts) {
            let ctx = ctx
                .clone()
                .with_reason("tildeling over flere virksomheter feilet; trukket tilbake");
            if let Err(e) = clinic.end_shared_grant(&ctx, id, orgs).await {
                tracing::error!(clinic = %org, grant = %id, error = %e, "could not withdraw a partial grant");
                in_force.push(org.to_string());
            }
        }
        if in_force.is_empty() {
            cause
        } else {
            ServiceError::Incomplete {
                grant: id.to_string(),
                in_force,
                cause: Box::new(cause),
            }
        }
    }

    /// Ends an authorisation in every clinic it covers. `home` is any clinic whose store
    /// holds it (the list of covered clinics is read there). Clinics where it has already
    /// ended are left as they are; returns the clinics where it ended now.
    pub async fn end_grant_everywhere(
        &self,
        by: &Grantor,
        home: &OrgNumber,
        grant: GrantId,
        reason: &str,
    ) -> Result<Vec<OrgNumber>, AccessError> {
        let record = self
            .clinic(home)
            .await?
            .authorisation(grant)
            .await?
            .ok_or_else(|| ServiceError::Invalid("no such authorisation".into()))?;
        let covers = record.covers;
        let mut in_force = Vec::new();
        for (org, clinic) in self.open_all(&covers).await? {
            let held = clinic.authorisation(grant).await?;
            if held.is_some_and(|a| a.ended_at.is_none()) {
                in_force.push((org, clinic));
            }
        }
        if in_force.is_empty() {
            return Err(ServiceError::Invalid(
                "the authorisation has already ended in every clinic it covers".into(),
            )
            .into());
        }
        let object = format!("grant:{grant} covers:{}", org_list(&covers));
        let contexts = self
            .authority(by, &in_force, Action::AuthorisationEnded, &object, reason)
            .await?;
        let mut ended = Vec::new();
        let mut failed = Vec::new();
        let mut cause = None;
        // Every clinic is tried even if one fails: each one ended is access withdrawn.
        for ((org, clinic), ctx) in in_force.iter().zip(&contexts) {
            match clinic.end_shared_grant(ctx, grant, &covers).await {
                Ok(true) => ended.push(org.clone()),
                // Ended by someone else meanwhile: nothing left to do there.
                Ok(false) => {}
                Err(e) => {
                    failed.push(org.to_string());
                    cause.get_or_insert(e);
                }
            }
        }
        match cause {
            None => Ok(ended),
            Some(cause) => Err(ServiceError::Incomplete {
                grant: grant.to_string(),
                in_force: failed,
                cause: Box::new(cause),
            }
            .into()),
        }
    }
}
