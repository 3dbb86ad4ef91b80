//! What each subcommand does.

use std::io::BufRead;
use std::process::ExitCode;

use fortrolig_domain::{Email, NewPatient, OrgNumber, PatientId, PersonName, PersonNumber, Phone};
use fortrolig_service::{ActContext, Fortrolig, ServiceError, backup};

use crate::cli::{AuditCommand, ClinicCommand, Command, KeysCommand, PatientCommand};
use crate::config::{Config, ConfigError};
use crate::system::{Create, open, open_args};

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Access(#[from] fortrolig_service::AccessError),
    #[error(transparent)]
    Vault(#[from] fortrolig_vault::VaultError),
    #[error("{0}")]
    Usage(String),
    #[error("server: {0}")]
    Server(String),
    #[error("{0}")]
    Io(String),
    #[error("audit verification failed for {failed} of {checked} clinic(s)")]
    AuditFailed { failed: usize, checked: usize },
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::AuditFailed { .. } => 3,
            CliError::Usage(_) | CliError::Config(_) => 2,
            _ => 1,
        }
    }
}

pub fn parse_org(text: &str) -> Result<OrgNumber, CliError> {
    OrgNumber::parse(text).map_err(|e| CliError::Usage(format!("organisation number: {e}")))
}

pub fn parse_patient(
    fnr: &str,
    name: &str,
    phone: Option<&str>,
    email: Option<&str>,
) -> Result<NewPatient, CliError> {
    let usage = |what: &str, e: &dyn std::fmt::Display| CliError::Usage(format!("{what}: {e}"));
    Ok(NewPatient {
        person_number: PersonNumber::parse(fnr).map_err(|e| usage("identity number", &e))?,
        name: PersonName::parse(name).map_err(|e| usage("name", &e))?,
        phone: phone
            .filter(|p| !p.trim().is_empty())
            .map(Phone::parse)
            .transpose()
            .map_err(|e| usage("phone", &e))?,
        email: email
            .filter(|e| !e.trim().is_empty())
            .map(Email::parse)
            .transpose()
            .map_err(|e| usage("e-mail", &e))?,
    })
}

pub fn admin(org: &OrgNumber, reason: &str) -> ActContext {
    ActContext::system("cli", org).with_reason(reason)
}

pub async fn run(command: Command) -> Result<ExitCode, CliError> {
    if !matches!(command, Command::Serve { .. } | Command::Demo { .. }) {
        // Administrative commands log warnings only (RUST_LOG overrides), as JSON.
        crate::logging::init(crate::config::LogFormat::Json, "warn");
    }
    match command {
        Command::Demo { data, listen } => crate::demo::run(data, listen).await,
        Command::Serve { config } => {
            let config = Config::load(Some(&config), &crate::system::env())?;
            serve(config, false).await
        }
        Command::Clinic(ClinicCommand::Create {
            storage,
            org_number,
            name,
        }) => {
            let org = parse_org(&org_number)?;
            let app = open_args(&storage, Create::IfMissing).await?;
            app.create_clinic(&org, &name).await?;
            println!(
                "clinic {org} «{}» created on {}",
                name.trim(),
                app.stores().backend.describe()
            );
            app.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Clinic(ClinicCommand::List { storage }) => {
            let app = open_args(&storage, Create::Never).await?;
            for c in app.clinics().await? {
                println!("{}\t{}", c.org_number, c.name);
            }
            app.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Patient(PatientCommand::Add {
            storage,
            clinic,
            fnr,
            name,
            phone,
            email,
        }) => {
            let org = parse_org(&clinic)?;
            let patient = parse_patient(&fnr, &name, phone.as_deref(), email.as_deref())?;
            let app = open_args(&storage, Create::Never).await?;
            let id = app
                .clinic(&org)
                .await?
                .add_patient(&admin(&org, "registrering"), &patient)
                .await?;
            println!("patient {id} added to clinic {org}");
            app.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Patient(PatientCommand::Import {
            storage,
            clinic,
            file,
        }) => {
            let org = parse_org(&clinic)?;
            let app = open_args(&storage, Create::Never).await?;
            let result = import(&app, &org, &file).await;
            app.close().await;
            result
        }
        Command::Patient(PatientCommand::Shred {
            storage,
            clinic,
            id,
        }) => {
            let org = parse_org(&clinic)?;
            let id =
                PatientId::parse(&id).map_err(|e| CliError::Usage(format!("patient id: {e}")))?;
            let app = open_args(&storage, Create::Never).await?;
            app.clinic(&org)
                .await?
                .shred_patient(&admin(&org, "sletting"), id)
                .await?;
            println!("patient {id} shredded: record deleted and data key destroyed");
            app.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(AuditCommand::Verify { storage, clinic }) => {
            let app = open_args(&storage, Create::Never).await?;
            let result = verify(&app, clinic.as_deref()).await;
            app.close().await;
            result
        }
        Command::Backup { storage, out } => {
            let app = open_args(&storage, Create::Never).await?;
            let summary = backup::take(&app, &out).await;
            app.close().await;
            let summary = summary?;
            println!(
                "backup written to {}: {} clinic(s), {} rows, {} bytes, encrypted and integrity-protected",
                out.display(),
                summary.clinics,
                summary.rows,
                summary.bytes
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { file, storage } => {
            let app = open_args(&storage, Create::IfMissing).await?;
            let summary = backup::restore(&app, &file).await;
            app.close().await;
            let summary = summary?;
            println!(
                "restored {} clinic(s) ({}) with {} rows; audit logs verified; {} shredded patient(s) left out; {} deleted conversation(s) left out",
                summary.clinics.len(),
                summary.clinics.join(", "),
                summary.rows,
                summary.shredded_dropped,
                summary.threads_dropped
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Staff(command) => crate::staff::run(command).await,
        Command::Admin(command) => crate::admin::run(command).await,
        Command::Bench(command) => crate::bench_messaging::run(command).await,
        Command::Notice(command) => crate::notice::run(command).await,
        Command::Keys(KeysCommand::Rotate { storage, clinic }) => {
            let org = parse_org(&clinic)?;
            let config = crate::system::config_for(&storage)?;
            let app = open(&config, Create::Never).await?;
            let version = app
                .rotate_clinic_key(&org, &admin(&org, "nøkkelrotasjon"))
                .await?;
            println!(
                "clinic {org}: key rotated to version {version}; patient keys rewrapped, content untouched"
            );
            app.close().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn import(
    app: &Fortrolig,
    org: &OrgNumber,
    file: &std::path::Path,
) -> Result<ExitCode, CliError> {
    let clinic = app.clinic(org).await?;
    let reader: Box<dyn BufRead> = if file.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(std::fs::File::open(file).map_err(
            |e| CliError::Usage(format!("cannot open {}: {e}", file.display())),
        )?))
    };
    let ctx = admin(org, "import");
    let mut failed = 0usize;
    for (n, line) in reader.lines().enumerate() {
        let line_no = n + 1;
        let line =
            line.map_err(|e| CliError::Usage(format!("line {line_no}: cannot read: {e}")))?;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(';').collect();
        let outcome = match fields.as_slice() {
            [fnr, name, rest @ ..] if rest.len() <= 2 => {
                match parse_patient(fnr, name, rest.first().copied(), rest.get(1).copied()) {
                    Ok(p) => clinic.add_patient(&ctx, &p).await.map_err(CliError::from),
                    Err(e) => Err(e),
                }
            }
            _ => Err(CliError::Usage("expected fnr;name;phone;email".into())),
        };
        match outcome {
            Ok(id) => println!("ok {line_no} {id}"),
            Err(e) => {
                failed += 1;
                println!("error {line_no} {e}");
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn verify(app: &Fortrolig, clinic: Option<&str>) -> Result<ExitCode, CliError> {
    let orgs = match clinic {
        Some(text) => vec![parse_org(text)?],
        None => app
            .clinics()
            .await?
            .into_iter()
            .map(|c| c.org_number)
            .collect(),
    };
    let mut failed = 0;
    for org in &orgs {
        let result = app.clinic(org).await?.verify_audit().await;
        match result {
            Ok(v) => println!(
                "clinic {org}: audit log intact: {} entries, root {}, {} signed head(s) checked",
                v.size,
                v.root
                    .iter()
                    .take(8)
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>(),
                v.heads_checked
            ),
            Err(ServiceError::AuditBroken { fault, .. }) => {
                failed += 1;
                match fault.first_bad_seq() {
                    Some(seq) => {
                        println!("clinic {org}: AUDIT LOG BROKEN at entry #{seq}: {fault}")
                    }
                    None => println!("clinic {org}: AUDIT LOG BROKEN: {fault}"),
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    if failed > 0 {
        return Err(CliError::AuditFailed {
            failed,
            checked: orgs.len(),
        });
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the server. `demo_login` turns on the demo's marked test login; only
/// `fortrolig demo` passes true.
pub async fn serve(config: Config, demo_login: bool) -> Result<ExitCode, CliError> {
    crate::logging::init(config.log_format, &config.log_level);
    let app = open(&config, Create::IfMissing).await?;
    let idporten = match &config.idporten {
        None => None,
        Some(s) => Some(std::sync::Arc::new(
            login_flow(fortrolig_identity::ProviderKind::IdPorten, s).await?,
        )),
    };
    let helseid = match &config.helseid {
        None => None,
        Some(s) => Some(std::sync::Arc::new(
            login_flow(fortrolig_identity::ProviderKind::HelseId, s).await?,
        )),
    };
    let passkeys = match fortrolig_identity::PasskeyRp::new(&config.public_url, "Fortrolig") {
        Ok(rp) => Some(std::sync::Arc::new(fortrolig_web::PasskeyFlow::new(rp))),
        Err(e) => {
            tracing::warn!(error = %e, "passkeys are off: set public_url to the address users type");
            None
        }
    };
    // The address users reach us at is https when a provider sends them back to one:
    // plain HTTP on loopback then sits behind a TLS proxy, and cookies must be Secure.
    let public_https = [&config.idporten, &config.helseid]
        .into_iter()
        .flatten()
        .any(|p| p.redirect_url.starts_with("https://"))
        || config.public_url.starts_with("https://");
    let settings = fortrolig_web::ServerSettings {
        listen: config.listen,
        tls: config.tls.clone(),
        public_https,
        idporten,
        helseid,
        passkeys,
        demo_login,
        delivery_report_token: config
            .notices
            .delivery_report_token
            .as_ref()
            .map(|t| t.expose().to_owned()),
        processing: fortrolig_domain::processing::Setup {
            sms_provider: match (&config.notices.link, &config.notices.sveve) {
                (Some(_), _) => Some("LINK Mobility".into()),
                (None, Some(_)) => Some("Sveve".into()),
                (None, None) => None,
            },
            mail_server: config.notices.smtp.as_ref().map(|s| s.host.clone()),
            contact_register: config.notices.krr.is_some(),
            idporten: config.idporten.is_some(),
            helseid: config.helseid.is_some(),
            storage: if config.database_url.is_some() {
                "PostgreSQL".into()
            } else {
                "SQLite".into()
            },
        },
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let notices = tokio::spawn({
        let app = app.clone();
        let outbound = outbound(&config)?;
        app.configure_notices(fortrolig_service::NoticeSettings {
            default_sender: config.notices.sender.clone(),
            portal_host: config
                .public_url
                .split_once("://")
                .map(|(_, host)| host.split(':').next().unwrap_or(host).to_owned()),
        });
        async move { app.run_notices(outbound, stopped).await }
    });
    // Retention (X4): at start, then every hour.
    let retention = tokio::spawn({
        let app = app.clone();
        let stopped = stop.subscribe();
        async move { app.run_retention(stopped).await }
    });
    let result = fortrolig_web::serve(app.clone(), settings)
        .await
        .map_err(|e| CliError::Server(e.to_string()));
    let _ = stop.send(true);
    let _ = notices.await;
    let _ = retention.await;
    app.close().await;
    result.map(|()| ExitCode::SUCCESS)
}

/// The channels notices leave through, from `[notices]`.
fn outbound(config: &Config) -> Result<fortrolig_service::Outbound, CliError> {
    let n = &config.notices;
    let sms = match (&n.link, &n.sveve) {
        (Some(link), _) => Some(fortrolig_notify::SmsProvider::Link(link.clone())),
        (None, Some(sveve)) => Some(fortrolig_notify::SmsProvider::Sveve(sveve.clone())),
        (None, None) => None,
    };
    let mail = n
        .smtp
        .as_ref()
        .map(fortrolig_notify::Mailer::new)
        .transpose()
        .map_err(|e| CliError::Usage(format!("[notices.smtp]: {e}")))?;
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .map_err(|e| CliError::Server(e.to_string()))?;
    let krr = n
        .krr
        .as_ref()
        .map(|k| -> Result<_, CliError> {
            let maskinporten =
                fortrolig_identity::Maskinporten::new(k.maskinporten.clone(), k.client_key()?);
            Ok(fortrolig_service::KrrLookup::new(
                maskinporten,
                fortrolig_notify::KrrClient::new(&k.url),
            ))
        })
        .transpose()?;
    Ok(fortrolig_service::Outbound {
        sms,
        mail,
        http,
        krr,
    })
}

/// Reads (or on first start creates, mode 0600) the client key and discovers the provider.
async fn login_flow(
    kind: fortrolig_identity::ProviderKind,
    config: &crate::config::ProviderSettings,
) -> Result<fortrolig_web::LoginFlow, CliError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    let path = &config.client_key_file;
    let key = if path.exists() {
        let bytes = std::fs::read(path)
            .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))?;
        fortrolig_identity::ClientKey::from_pkcs8(&bytes, &config.key_id)
            .map_err(|_| CliError::Usage(format!("{} is not a PKCS#8 P-256 key", path.display())))?
    } else {
        let (key, pkcs8) = fortrolig_identity::ClientKey::generate(&config.key_id)
            .map_err(|e| CliError::Server(e.to_string()))?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| CliError::Usage(format!("cannot create {}: {e}", path.display())))?;
        file.write_all(&pkcs8)
            .and_then(|()| file.sync_all())
            .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", path.display())))?;
        tracing::warn!(jwk = %key.public_jwk(), provider = kind.as_str(), "new client key created: register this public key with the provider");
        key
    };
    let provider = fortrolig_identity::Provider::discover(
        fortrolig_identity::ProviderConfig {
            kind,
            issuer: config.issuer.clone(),
            client_id: config.client_id.clone(),
            redirect_url: config.redirect_url.clone(),
            post_logout_redirect_url: Some(config.post_logout_redirect_url.clone()),
        },
        key,
    )
    .await
    .map_err(|e| CliError::Server(format!("{} at {}: {e}", kind.as_str(), config.issuer)))?;
    Ok(fortrolig_web::LoginFlow::new(provider))
}
