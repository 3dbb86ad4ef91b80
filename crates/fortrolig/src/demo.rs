//! `fortrolig demo`: the embedded default with a demo clinic and synthetic people.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use fortrolig_domain::access::Role;
use fortrolig_domain::{OrgNumber, PersonName, PersonNumber, Timestamp};
use fortrolig_service::ServiceError;
use fortrolig_store::StoreError;

use crate::commands::CliError;
use crate::config::{Config, LogFormat};
use crate::system::{Create, open};

pub const DEMO_ORG: &str = "923456783";
pub const DEMO_NAME: &str = "Normland legesenter";

/// Synthetic staff: a doctor (in a care relationship with the first patient) and an
/// administrator.
const DEMO_STAFF: &[(&str, &str, Role)] = &[
    ("29906410093", "Lege Demosen", Role::Doctor),
    ("07849310059", "Admin Demosen", Role::ClinicAdmin),
];

/// Synthetic Test-Norge numbers (month + 80): they can never be a real person's.
const DEMO_PATIENTS: &[(&str, &str, &str, &str)] = &[
    (
        "12858010053",
        "Kari Testperson",
        "91234567",
        "kari@example.no",
    ),
    ("03915510786", "Ola Prøvemann", "92345678", ""),
    ("24820110028", "Aisha Demodatter", "", "aisha@example.no"),
    ("15877210054", "Per Eksempel", "93456789", ""),
];

pub async fn run(data: PathBuf, listen: SocketAddr) -> Result<ExitCode, CliError> {
    let mut config = Config::load(None, &crate::system::env())?;
    config.vault_dir = data.join("vault");
    config.master_key_file = config.vault_dir.join("master.key");
    config.data_dir = data;
    config.listen = listen;
    // Passkeys need a host name; browsers treat localhost as secure without TLS.
    config.public_url = format!("http://localhost:{}", listen.port());
    config.database_url = None;
    config.log_format = LogFormat::Pretty;
    if !listen.ip().is_loopback() {
        return Err(CliError::Usage(
            "the demo listens on loopback only (e.g. 127.0.0.1:8080)".into(),
        ));
    }
    let app = open(&config, Create::IfMissing).await?;
    let org = OrgNumber::parse(DEMO_ORG).map_err(|e| CliError::Usage(e.to_string()))?;
    let clinic = match app.create_clinic(&org, DEMO_NAME).await {
        Ok(c) => c,
        Err(ServiceError::ClinicExists(_)) => app.clinic(&org).await?,
        Err(e) => return Err(e.into()),
    };
    let ctx = fortrolig_service::ActContext::system("demo", &org).with_reason("demodata");
    let mut first = None;
    for (fnr, name, phone, email) in DEMO_PATIENTS {
        let patient = crate::commands::parse_patient(fnr, name, Some(phone), Some(email))?;
        match clinic.add_patient(&ctx, &patient).await {
            Ok(id) => {
                first.get_or_insert(id);
            }
            Err(ServiceError::Store(StoreError::PatientExists)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    for (fnr, name, role) in DEMO_STAFF {
        let number = PersonNumber::parse(fnr).map_err(|e| CliError::Usage(e.to_string()))?;
        if clinic.staff_id_by_number(&number).await?.is_some() {
            continue;
        }
        let name = PersonName::parse(name).map_err(|e| CliError::Usage(e.to_string()))?;
        let id = clinic.add_staff(&ctx, &name, None).await?;
        clinic.link_staff_identity(&ctx, id, &number).await?;
        let now = app.now();
        clinic
            .grant_role(
                &ctx,
                id,
                *role,
                now,
                Timestamp(now.0 + 365 * 86_400_000_000),
            )
            .await?;
        if *role == Role::Doctor
            && let Some(patient) = first
        {
            clinic.start_care(&ctx, id, patient).await?;
        }
    }
    app.close().await;
    println!(
        "Fortrolig demo: {DEMO_NAME} (org.nr. {DEMO_ORG}) with {} synthetic patients",
        DEMO_PATIENTS.len()
    );
    println!(
        "Data (SQLite, encrypted per field): {}",
        config.data_dir.display()
    );
    let url = &config.public_url;
    println!("Open {url}/ in a browser. Stop with Ctrl-C.");
    println!(
        "Test login (demo only, no real eID): {url}/k/{DEMO_ORG}/testinnlogging — patient 12858010053, doctor 29906410093, administrator 07849310059"
    );
    crate::commands::serve(config, true).await
}
