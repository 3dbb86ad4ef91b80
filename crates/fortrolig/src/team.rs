//! `fortrolig staff team …`: teams and their care relationships from the command line
//! (S1). Every change is an audited act in the clinic's store.

use std::process::ExitCode;

use fortrolig_domain::{PatientId, StaffId, TeamId};

use crate::cli::TeamCommand;
use crate::commands::{CliError, admin};
use crate::staff::{in_clinic, usage};

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
            in_clinic(&storage, &clinic, |c, org| async move {
                let id = c.create_team(&admin(&org, "team"), &name).await?;
                // The name is not echoed: it may be sensitive, and the caller has it.
                println!("team {id} created in clinic {org}");
                Ok(())
            })
            .await
        }
        TeamCommand::Add {
            storage,
            clinic,
            team,
            staff,
        } => {
            let (team, staff) = (parse_team(&team)?, parse_staff(&staff)?);
            in_clinic(&storage, &clinic, |c, org| async move {
                c.add_team_member(&admin(&org, "team"), team, staff).await?;
                println!("staff {staff} added to team {team}");
                Ok(())
            })
            .await
        }
        TeamCommand::Remove {
            storage,
            clinic,
            team,
            staff,
        } => {
            let (team, staff) = (parse_team(&team)?, parse_staff(&staff)?);
            in_clinic(&storage, &clinic, |c, org| async move {
                c.remove_team_member(&admin(&org, "team"), team, staff)
                    .await?;
                println!("staff {staff} removed from team {team}: access through it ended");
                Ok(())
            })
            .await
        }
        TeamCommand::Care {
            storage,
            clinic,
            team,
            patient,
        } => {
            let (team, patient) = (parse_team(&team)?, parse_patient(&patient)?);
            in_clinic(&storage, &clinic, |c, org| async move {
                c.start_team_care(&admin(&org, "behandlingsrelasjon"), team, patient)
                    .await?;
                println!("care relationship started: team {team} and patient {patient}");
                Ok(())
            })
            .await
        }
        TeamCommand::EndCare {
            storage,
            clinic,
            team,
            patient,
        } => {
            let (team, patient) = (parse_team(&team)?, parse_patient(&patient)?);
            in_clinic(&storage, &clinic, |c, org| async move {
                c.end_team_care(&admin(&org, "behandlingsrelasjon"), team, patient)
                    .await?;
                println!("care relationship ended: team {team} and patient {patient}");
                Ok(())
            })
            .await
        }
        TeamCommand::List { storage, clinic } => {
            in_clinic(&storage, &clinic, |c, _| async move {
                for team in c.teams().await? {
                    println!(
                        "{}\t{}\t{} member(s)\t{} patient(s)",
                        team.id,
                        team.name,
                        team.members.len(),
                        team.patients.len()
                    );
                }
                Ok(())
            })
            .await
        }
    }
}
