//! `fortrolig staff …`: the clinic's people from the command line (S1, S2), and
//! authorisations covering several clinics, granted and ended by the operator.

use std::process::ExitCode;

use fortrolig_domain::access::Role;
use fortrolig_domain::{
    GrantId, HprNumber, OrgNumber, PatientId, PersonName, PersonNumber, StaffId, Timestamp,
};

use fortrolig_service::{Fortrolig, Grantor};

use crate::cli::{StaffCommand, StorageArgs};
use crate::commands::{CliError, admin, parse_org};
use crate::system::{Create, open_args};

const DAY_MICROS: i64 = 86_400_000_000;

/// Opens the stores, runs `act`, and closes them again whatever `act` returned.
pub(crate) async fn in_app<F, Fut>(storage: &StorageArgs, act: F) -> Result<ExitCode, CliError>
where
    F: FnOnce(Fortrolig) -> Fut,
    Fut: std::future::Future<Output = Result<ExitCode, CliError>>,
{
    let app = open_args(storage, Create::Never).await?;
    let result = act(app.clone()).await;
    app.close().await;
    result
}

/// Like `in_app`, for one clinic named on the command line: `act` gets its handle and
/// its number; success is exit code 0.
pub(crate) async fn in_clinic<F, Fut>(
    storage: &StorageArgs,
    clinic: &str,
    act: F,
) -> Result<ExitCode, CliError>
where
    F: FnOnce(std::sync::Arc<fortrolig_service::Clinic>, fortrolig_domain::OrgNumber) -> Fut,
    Fut: std::future::Future<Output = Result<(), CliError>>,
{
    let org = parse_org(clinic)?;
    in_app(storage, |app| async move {
        act(app.clinic(&org).await?, org).await?;
        Ok(ExitCode::SUCCESS)
    })
    .await
}

pub(crate) fn usage(what: &str, e: impl std::fmt::Display) -> CliError {
    CliError::Usage(format!("{what}: {e}"))
}

pub(crate) fn parse_role(text: &str) -> Result<Role, CliError> {
    Role::parse(text).ok_or_else(|| {
        let known: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        CliError::Usage(format!("role: choose one of {}", known.join(", ")))
    })
}

/// The length of a grant, checked before anything is written, so a refused grant leaves
/// no half-made person.
pub(crate) fn grant_span(days: u32) -> Result<i64, CliError> {
    let span = i64::from(days) * DAY_MICROS;
    if days == 0 || span > fortrolig_service::MAX_AUTHORISATION_MICROS {
        return Err(CliError::Usage(
            "--days: an authorisation lasts 1 day to three years; renew it after review".into(),
        ));
    }
    Ok(span)
}

pub async fn run(command: StaffCommand) -> Result<ExitCode, CliError> {
    match command {
        StaffCommand::Add {
            storage,
            clinic,
            name,
            role,
            fnr,
            hpr,
            days,
        } => {
            let org = parse_org(&clinic)?;
            let name = PersonName::parse(&name).map_err(|e| usage("name", e))?;
            let role = role.as_deref().map(parse_role).transpose()?;
            let number = PersonNumber::parse(&fnr).map_err(|e| usage("identity number", e))?;
            let hpr = hpr
                .as_deref()
                .map(HprNumber::parse)
                .transpose()
                .map_err(|e| usage("HPR number", e))?;
            let span = grant_span(days)?;
            in_app(&storage, |app| async move {
                let clinic = app.clinic(&org).await?;
                let ctx = admin(&org, "personaladministrasjon");
                if clinic.staff_id_by_number(&number).await?.is_some() {
                    return Err(CliError::Usage(
                        "a member of staff with this identity number is already registered".into(),
                    ));
                }
                let id = clinic.add_staff(&ctx, &name, hpr.as_ref()).await?;
                clinic.link_staff_identity(&ctx, id, &number).await?;
                let Some(role) = role else {
                    println!("staff {id} added to clinic {org} without a role");
                    return Ok(ExitCode::SUCCESS);
                };
                let now = app.now();
                let until = Timestamp(now.0 + span);
                clinic.grant_role(&ctx, id, role, now, until).await?;
                println!(
                    "staff {id} added to clinic {org} as {} until {}",
                    role.display_name(),
                    until.oslo_minutes()
                );
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
        StaffCommand::Care {
            storage,
            clinic,
            staff,
            patient,
        } => {
            let org = parse_org(&clinic)?;
            let staff = StaffId::parse(&staff).map_err(|e| usage("staff id", e))?;
            let patient = PatientId::parse(&patient).map_err(|e| usage("patient id", e))?;
            in_app(&storage, |app| async move {
                app.clinic(&org)
                    .await?
                    .start_care(&admin(&org, "behandlingsrelasjon"), staff, patient)
                    .await?;
                println!("care relationship started: staff {staff} and patient {patient}");
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
        StaffCommand::Trained {
            storage,
            clinic,
            staff,
            course,
        } => {
            let org = parse_org(&clinic)?;
            let staff = StaffId::parse(&staff).map_err(|e| usage("staff id", e))?;
            in_app(&storage, |app| async move {
                app.clinic(&org)
                    .await?
                    .record_training(&admin(&org, "opplæring"), staff, &course)
                    .await?;
                println!("training «{}» recorded for staff {staff}", course.trim());
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
        StaffCommand::RequireTraining {
            storage,
            clinic,
            required,
        } => {
            let org = parse_org(&clinic)?;
            in_app(&storage, |app| async move {
                app.clinic(&org)
                    .await?
                    .set_training_required(&admin(&org, "innstilling"), required)
                    .await?;
                println!(
                    "clinic {org}: training {} before first access to health data",
                    if required { "required" } else { "not required" }
                );
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
        StaffCommand::Deactivate {
            storage,
            clinic,
            staff,
        } => {
            let org = parse_org(&clinic)?;
            let staff = StaffId::parse(&staff).map_err(|e| usage("staff id", e))?;
            in_app(&storage, |app| async move {
                app.clinic(&org)
                    .await?
                    .deactivate_staff(&admin(&org, "fratreden"), staff)
                    .await?;
                println!("staff {staff} deactivated: roles ended, sessions closed");
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
        StaffCommand::Grant {
            storage,
            clinics,
            fnr,
            role,
            days,
        } => {
            let orgs = clinics
                .iter()
                .map(|c| parse_org(c))
                .collect::<Result<Vec<_>, _>>()?;
            let role = parse_role(&role)?;
            let number = PersonNumber::parse(&fnr).map_err(|e| usage("identity number", e))?;
            let span = grant_span(days)?;
            in_app(&storage, |app| async move {
                let now = app.now();
                let grant = app
                    .grant_across_clinics(
                        &Grantor::OperatorCli,
                        &number,
                        role,
                        now,
                        Timestamp(now.0 + span),
                        &orgs,
                        "personaladministrasjon",
                    )
                    .await?;
                println!(
                    "grant {} as {} until {} covers clinic(s) {}",
                    grant.id,
                    role.display_name(),
                    grant.valid_until.oslo_minutes(),
                    org_list(&grant.clinics())
                );
                for (org, staff) in &grant.holders {
                    println!("  clinic {org}: staff {staff}");
                }
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
        StaffCommand::EndGrant {
            storage,
            clinic,
            grant,
        } => {
            let org = parse_org(&clinic)?;
            let grant = GrantId::parse(&grant).map_err(|e| usage("grant id", e))?;
            in_app(&storage, |app| async move {
                let ended = app
                    .end_grant_everywhere(
                        &Grantor::OperatorCli,
                        &org,
                        grant,
                        "personaladministrasjon",
                    )
                    .await?;
                println!("grant {grant} ended in clinic(s) {}", org_list(&ended));
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
        StaffCommand::Grants {
            storage,
            clinic,
            staff,
        } => {
            let org = parse_org(&clinic)?;
            let staff = StaffId::parse(&staff).map_err(|e| usage("staff id", e))?;
            in_app(&storage, |app| async move {
                let clinic = app.clinic(&org).await?;
                clinic.staff_member(staff).await?;
                let now = app.now();
                for a in clinic.authorisation_history(staff).await? {
                    let status = match a.ended_at {
                        Some(at) => format!("ended {}", at.oslo_minutes()),
                        None if a.valid_until <= now => "expired".to_owned(),
                        None if a.valid_from > now => "not yet in force".to_owned(),
                        None => "in force".to_owned(),
                    };
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        a.id,
                        a.role,
                        a.valid_from.oslo_minutes(),
                        a.valid_until.oslo_minutes(),
                        status,
                        org_list(&a.covers)
                    );
                }
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
        StaffCommand::Team(command) => crate::team::run(command).await,
    }
}

fn org_list(orgs: &[OrgNumber]) -> String {
    orgs.iter()
        .map(OrgNumber::as_str)
        .collect::<Vec<_>>()
        .join(",")
}
