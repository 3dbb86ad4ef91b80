//! `fortrolig staff team …`: teams and their care relationships from the command line
//! (S1). Every change is an audited act in the clinic's store.

use std::process::ExitCode;

use fortrolig_domain::{PatientId, StaffId, TeamId};

use crate::cli::TeamCommand;
use crate::commands::{CliError, admin, parse_org};
use crate::staff::{in_app, usage};

fn parse_team(text: &str) -> Result<TeamId, CliError> {
    TeamId::parse(text).map_err(|e| usage("team id", e))
}

fn parse_staff(text: &str) -> Result<StaffId, CliError> {
    StaffId::parse(text).map_err(|e| usage("staff id", e))
}

fn parse_patient(text: &str) -> Result<PatientId, CliError> {
    PatientId::parse(text).map_err(|e| usage("patient id", e))
}

pub async fn run(command: TeamCommand) -> Result<ExitCode, CliError> {
    match command {
        TeamCommand::Create {
            storage,
            clinic,
            name,
        } => {
            let org = parse_org(&clinic)?;
            in_app(&storage, |app| async move {
                let id = app
                    .clinic(&org)
                    .await?
                    .create_team(&admin(&org, "team"), &name)
                    .await?;
                // The name is not echoed: it may be sensitive, and the caller has it.
                println!("team {id} created in clinic {org}");
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
        TeamCommand::Add {
            storage,
            clinic,
            team,
            staff,
        } => {
            let org = parse_org(&clinic)?;
            let (team, staff) = (parse_team(&team)?, parse_staff(&staff)?);
            in_app(&storage, |app| async move {
                app.clinic(&org)
                    .await?
                    .add_team_member(&admin(&org, "team"), team, staff)
                    .await?;
                println!("staff {staff} added to team {team}");
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
        TeamCommand::Remove {
            storage,
            clinic,
            team,
            staff,
        } => {
            let org = parse_org(&clinic)?;
            let (team, staff) = (parse_team(&team)?, parse_staff(&staff)?);
            in_app(&storage, |app| async move {
                app.clinic(&org)
                    .await?
                    .remove_team_member(&admin(&org, "team"), team, staff)
                    .await?;
                println!("staff {staff} removed from team {team}: access through it ended");
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
        TeamCommand::Care {
            storage,
            clinic,
            team,
            patient,
        } => {
            let org = parse_org(&clinic)?;
            let (team, patient) = (parse_team(&team)?, parse_patient(&patient)?);
            in_app(&storage, |app| async move {
                app.clinic(&org)
                    .await?
                    .start_team_care(&admin(&org, "behandlingsrelasjon"), team, patient)
                    .await?;
                println!("care relationship started: team {team} and patient {patient}");
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
        TeamCommand::EndCare {
            storage,
            clinic,
            team,
            patient,
        } => {
            let org = parse_org(&clinic)?;
            let (team, patient) = (parse_team(&team)?, parse_patient(&patient)?);
            in_app(&storage, |app| async move {
                app.clinic(&org)
                    .await?
                    .end_team_care(&admin(&org, "behandlingsrelasjon"), team, patient)
                    .await?;
                println!("care relationship ended: team {team} and patient {patient}");
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
        TeamCommand::List { storage, clinic } => {
            let org = parse_org(&clinic)?;
            in_app(&storage, |app| async move {
                for team in app.clinic(&org).await?.teams().await? {
                    println!(
                        "{}\t{}\t{} member(s)\t{} patient(s)",
                        team.id,
                        team.name,
                        team.members.len(),
                        team.patients.len()
                    );
                }
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
    }
}
