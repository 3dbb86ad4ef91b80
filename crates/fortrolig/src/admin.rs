//! `fortrolig admin …`: bootstrapping a clinic's administration (issue 3 item 3).

use std::process::ExitCode;

use fortrolig_domain::{HprNumber, PersonName, Timestamp};
use fortrolig_service::{IdentityProof, SessionSubject};

use crate::cli::AdminCommand;
use crate::commands::{CliError, admin, parse_org};
use crate::staff::{grant_span, in_app, parse_role};

pub async fn run(command: AdminCommand) -> Result<ExitCode, CliError> {
    match command {
        AdminCommand::Invite {
            storage,
            clinic,
            name,
            role,
            url,
            hpr,
            days,
        } => {
            let org = parse_org(&clinic)?;
            let name =
                PersonName::parse(&name).map_err(|e| CliError::Usage(format!("name: {e}")))?;
            let role = parse_role(&role)?;
            let hpr = hpr
                .as_deref()
                .map(HprNumber::parse)
                .transpose()
                .map_err(|e| CliError::Usage(format!("HPR number: {e}")))?;
            let span = grant_span(days)?;
            let url = url.trim_end_matches('/').to_owned();
            if !url.starts_with("https://") && !url.starts_with("http://localhost") {
                return Err(CliError::Usage(
                    "--url: the server's public address, https://host (http only for localhost)"
                        .into(),
                ));
            }
            in_app(&storage, |app| async move {
                let clinic = app.clinic(&org).await?;
                let ctx = admin(&org, "invitasjon av ansatt");
                let id = clinic.add_staff(&ctx, &name, hpr.as_ref()).await?;
                let now = app.now();
                let until = Timestamp(now.0 + span);
                clinic.grant_role(&ctx, id, role, now, until).await?;
                let issued = clinic
                    .issue_activation(
                        &ctx,
                        SessionSubject::Staff(id),
                        IdentityProof::OperatorInvite,
                    )
                    .await?;
                println!(
                    "staff {id} added to clinic {org} as {} until {}",
                    role.display_name(),
                    until.oslo_minutes()
                );
                println!(
                    "one-time enrolment link (valid until {}, works once):",
                    issued.expires_at.oslo_minutes()
                );
                // The code goes after '#', so it never reaches a server log.
                println!("{url}/k/{org}/aktiver#{}", issued.code.grouped());
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
    }
}
