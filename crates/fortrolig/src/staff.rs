//! `fortrolig staff …`: the clinic's people from the command line (S1, S2).

use std::process::ExitCode;

use fortrolig_domain::access::Role;
use fortrolig_domain::{HprNumber, PatientId, PersonName, PersonNumber, StaffId, Timestamp};

use fortrolig_service::Fortrolig;

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

fn usage(what: &str, e: impl std::fmt::Display) -> CliError {
    CliError::Usage(format!("{what}: {e}"))
}

pub(crate) fn parse_role(text: &str) -> Result<Role, CliError> {
    Role::parse(text).ok_or_else(|| {
        let known: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        CliError::Usage(format!("role: choose one of {}", known.join(", ")))
    })
}

/// `--days` as a span of time: 1 day to three years.
pub(crate) fn authorisation_span(days: u32) -> Result<i64, CliError> {
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
            let role = parse_role(&role)?;
            let number = PersonNumber::parse(&fnr).map_err(|e| usage("identity number", e))?;
            let hpr = hpr
                .as_deref()
                .map(HprNumber::parse)
                .transpose()
                .map_err(|e| usage("HPR number", e))?;
            // Checked before anything is written, so a refused grant leaves no half-made person.
            let span = authorisation_span(days)?;
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
    }
}
