//! `fortrolig bench messaging`: secure messaging measured end to end, over real HTTP,
//! against a server this command starts as a child process and stops again.
//!
//! The model is the one `../shared/peers/matrix_loadgen.py` drives Matrix Synapse with:
//! 64 patient–clinician pairs with one thread each, C concurrent senders round-robin over
//! the threads for S seconds after a warm-up, and two quiet probe pairs whose clinicians
//! listen on the live channel. Setup goes through the service API in this process (a
//! clinic, people, care relationships, threads, sessions); the load goes through the
//! server's HTTP routes only, so every counted send is authenticated (session cookie),
//! CSRF-checked, authorised, encrypted, audited and durable before its 303 comes back.
//!
//! This module prepares the data and runs the server; [`load`] drives it and measures.

mod load;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use fortrolig_domain::access::{Level, Role};
use fortrolig_domain::consent::{ConsentSubject, PortalService};
use fortrolig_domain::messaging::{MessageText, Subject, ThreadKind};
use fortrolig_domain::{OrgNumber, PersonName, Source, Timestamp};
use fortrolig_service::{ActContext, Clinic, PatientActor, SessionSubject};

use crate::cli::BenchCommand;
use crate::commands::{CliError, parse_patient};
use crate::config::{Config, Secret};
use crate::system::{Create, open};

/// Patient–clinician pairs under load.
const PAIRS: usize = 64;
/// Quiet pairs that measure live delivery.
const PROBES: usize = 2;
const ORG: &str = "923456783";
const DAY_MICROS: i64 = 86_400_000_000;

/// One patient's way in: their thread, session cookie value and CSRF token.
#[derive(Debug, Clone)]
pub(crate) struct Sender {
    pub thread: String,
    pub token: String,
    pub csrf: String,
}

/// A quiet pair: the patient sends, the clinician listens on the live channel.
#[derive(Debug, Clone)]
pub(crate) struct ProbePair {
    pub patient: Sender,
    pub clinician_token: String,
}

/// What the setup made.
#[derive(Debug)]
pub(crate) struct Fixture {
    pub org: String,
    pub senders: Vec<Sender>,
    pub probes: Vec<ProbePair>,
}

/// Where the data lives for one run.
#[derive(Debug)]
struct Place {
    dir: PathBuf,
    database_url: Option<String>,
}

pub async fn run(command: BenchCommand) -> Result<ExitCode, CliError> {
    let BenchCommand::Messaging {
        concurrency,
        duration,
        warmup,
        database_url,
    } = command;
    if concurrency == 0 || concurrency > 1024 {
        return Err(CliError::Usage("--concurrency: 1 to 1024".into()));
    }
    if duration == 0 || duration > 600 || warmup > 600 {
        return Err(CliError::Usage(
            "--duration: 1 to 600 seconds; --warmup: at most 600".into(),
        ));
    }
    let suffix = hex(&fortrolig_vault::random_bytes::<6>()?);
    let dir = std::env::temp_dir().join(format!("fortrolig-bench-{suffix}"));
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::Usage(format!("cannot create {}: {e}", dir.display())))?;
    let place = Place {
        database_url: database_url
            .as_deref()
            .map(|url| fresh_database(url, &format!("fbench{suffix}")))
            .transpose()?,
        dir,
    };
    let result = bench(&place, concurrency, duration, warmup).await;
    cleanup(&place);
    let summary = result?;
    println!("{summary}");
    Ok(ExitCode::SUCCESS)
}

/// The run itself; the caller removes what it made, whatever happened.
async fn bench(
    place: &Place,
    concurrency: usize,
    duration: u64,
    warmup: u64,
) -> Result<String, CliError> {
    let backend = if place.database_url.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let started = Instant::now();
    let fixture = setup(place).await?;
    println!(
        "setup: clinic {} on {backend}, {PAIRS} pairs + {PROBES} probe pairs, threads and sessions through the service in {:.1} s",
        fixture.org,
        started.elapsed().as_secs_f64()
    );
    let mut server = Server::start(place).await?;
    println!(
        "server: pid {} at {} (log level warn), ready",
        server.pid, server.base
    );
    let load = load::Load {
        base: server.base.clone(),
        concurrency,
        warmup: Duration::from_secs(warmup),
        duration: Duration::from_secs(duration),
        server_pid: server.pid,
    };
    let outcome = load::run(&load, &fixture).await;
    let peak_rss = server.peak_rss_mib();
    server.stop().await;
    let report = outcome?;
    for line in report.details() {
        println!("{line}");
    }
    Ok(report.summary(backend, concurrency, peak_rss))
}

/// `postgres://user@host:port/whatever?query` with the database name replaced.
fn fresh_database(url: &str, name: &str) -> Result<String, CliError> {
    let bad = || CliError::Usage("--database-url: expected postgres://user@host:port/db".into());
    let (scheme, rest) = url
        .split_once("://")
        .filter(|(s, _)| *s == "postgres" || *s == "postgresql")
        .ok_or_else(bad)?;
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let server = rest
        .split('/')
        .next()
        .filter(|s| !s.is_empty())
        .ok_or_else(bad)?;
    Ok(match query {
        Some(q) => format!("{scheme}://{server}/{name}?{q}"),
        None => format!("{scheme}://{server}/{name}"),
    })
}

/// Removes the temporary directory and, with PostgreSQL, the run's databases.
fn cleanup(place: &Place) {
    if let Some(url) = &place.database_url {
        drop_databases(url);
    }
    if let Err(e) = std::fs::remove_dir_all(&place.dir) {
        eprintln!("note: could not remove {}: {e}", place.dir.display());
    }
}

/// Drops `NAME`, `NAME_keyring` and `NAME_c<org>` with `psql` when it is there; otherwise
/// says which databases are left.
fn drop_databases(url: &str) {
    let Some((base, name)) = url.split('?').next().and_then(|u| u.rsplit_once('/')) else {
        return;
    };
    let admin = format!("{base}/postgres");
    let names = [
        name.to_owned(),
        format!("{name}_keyring"),
        format!("{name}_c{ORG}"),
    ];
    let mut left = Vec::new();
    for db in &names {
        let dropped = std::process::Command::new("psql")
            .args([
                admin.as_str(),
                "-qc",
                &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !dropped {
            left.push(db.as_str());
        }
    }
    if !left.is_empty() {
        eprintln!(
            "note: could not drop the benchmark's databases {} (no psql?); drop them by hand",
            left.join(", ")
        );
    }
}

fn config_for(place: &Place) -> Result<Config, CliError> {
    let mut config = Config::load(None, &Default::default())?;
    config.data_dir = place.dir.join("data");
    config.vault_dir = config.data_dir.join("vault");
    config.master_key_file = config.vault_dir.join("master.key");
    config.database_url = place.database_url.clone().map(Secret::new);
    Ok(config)
}

fn usage(what: &str) -> impl Fn(&dyn std::fmt::Display) -> CliError + '_ {
    move |e| CliError::Usage(format!("{what}: {e}"))
}

/// The clinic, its people and threads, and a session for every patient and probe
/// clinician, made through the service; the stores are closed again afterwards.
async fn setup(place: &Place) -> Result<Fixture, CliError> {
    let config = config_for(place)?;
    std::fs::create_dir_all(&config.data_dir).map_err(|e| usage("data directory")(&e))?;
    let app = open(&config, Create::IfMissing).await?;
    let result = async {
        let org = OrgNumber::parse(ORG).map_err(|e| usage("organisation number")(&e))?;
        let clinic = app.create_clinic(&org, "Ytelsestest legesenter").await?;
        let ctx = ActContext::system("bench", &org).with_reason("ytelsestest");
        let now = app.now();
        let until = Timestamp(now.0 + 365 * DAY_MICROS);
        let mut senders = Vec::with_capacity(PAIRS);
        let mut probes = Vec::with_capacity(PROBES);
        for i in 0..PAIRS + PROBES {
            let (patient, clinician) = pair(&clinic, &ctx, i, now, until).await?;
            if i < PAIRS {
                senders.push(patient);
            } else {
                probes.push(ProbePair {
                    patient,
                    clinician_token: clinician,
                });
            }
        }
        Ok::<_, CliError>(Fixture {
            org: org.to_string(),
            senders,
            probes,
        })
    }
    .await;
    app.close().await;
    result
}

/// Pair `i`: a patient with a synthetic number, a doctor in a care relationship with
/// them, the patient's e-consultation thread, and a session for each (level high).
async fn pair(
    clinic: &Clinic,
    ctx: &ActContext,
    i: usize,
    now: Timestamp,
    until: Timestamp,
) -> Result<(Sender, String), CliError> {
    const FIRST: [&str; 9] = [
        "Kari", "Ola", "Per", "Liv", "Eva", "Tor", "Ane", "Siv", "Nils",
    ];
    const LAST: [&str; 8] = [
        "Berg", "Dahl", "Lund", "Moe", "Strand", "Vik", "Haug", "Bakke",
    ];
    let surname = LAST[i % LAST.len()];
    let name = format!("{} {surname}", FIRST[(i / LAST.len()) % FIRST.len()]);
    let seed = u32::try_from(i).unwrap_or(0) + 7_000;
    let new = parse_patient(&synthetic_fnr(seed), &name, None, None)?;
    let patient = clinic.add_patient(ctx, &new).await?;
    let doctor_name =
        PersonName::parse(&format!("Lege {surname}")).map_err(|e| usage("name")(&e))?;
    let doctor = clinic.add_staff(ctx, &doctor_name, None).await?;
    clinic
        .grant_role(ctx, doctor, Role::Doctor, now, until)
        .await?;
    clinic.start_care(ctx, doctor, patient).await?;
    let source = Source {
        session: Some("bench".into()),
        address: Some("127.0.0.1".into()),
    };
    let me = PatientActor {
        patient,
        level: Level::High,
        source: source.clone(),
    };
    // The patient has answered the consent page (P4): yes to messaging, no notices.
    let consent = ActContext::patient(patient, clinic.org(), source.clone(), "samtykke");
    let version = clinic.consent_text().await?.version;
    clinic
        .record_consents(
            &consent,
            patient,
            &[(ConsentSubject::Service(PortalService::Messaging), true)],
            &version,
        )
        .await?;
    let thread = clinic
        .open_thread(
            &me,
            ThreadKind::EConsultation,
            &Subject::parse("Ytelsestest").map_err(|e| usage("subject")(&e))?,
            &MessageText::parse("Første melding i ytelsestesten.")
                .map_err(|e| usage("text")(&e))?,
            &[],
        )
        .await
        .map_err(|e| CliError::Server(format!("opening a thread: {e}")))?;
    let (token, session) = clinic
        .start_session(
            SessionSubject::Patient(patient),
            Level::High,
            "bench",
            None,
            None,
            &source,
        )
        .await?;
    let (staff_token, _) = clinic
        .start_session(
            SessionSubject::Staff(doctor),
            Level::High,
            "bench",
            None,
            None,
            &source,
        )
        .await?;
    Ok((
        Sender {
            thread: thread.to_string(),
            token: token.as_str().to_owned(),
            csrf: session.csrf_token().to_owned(),
        },
        staff_token.as_str().to_owned(),
    ))
}

/// A valid Test-Norge number (month + 80, so never a real person's) from a seed, as the
/// tests make them.
fn synthetic_fnr(seed: u32) -> String {
    const W1: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
    const W2: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let control =
        |w: &[u32], d: &[u32]| match 11 - w.iter().zip(d).map(|(a, b)| a * b).sum::<u32>() % 11 {
            11 => Some(0),
            10 => None,
            r => Some(r),
        };
    let mut n = seed;
    loop {
        let day = 1 + n % 28;
        let month = 81 + (n / 28) % 12;
        let year = (n / 336) % 100;
        let individual = 100 + (n.wrapping_mul(7)) % 800;
        let base = format!("{day:02}{month:02}{year:02}{individual:03}");
        let mut digits: Vec<u32> = base.chars().filter_map(|c| c.to_digit(10)).collect();
        if let Some(k1) = control(&W1, &digits) {
            digits.push(k1);
            if let Some(k2) = control(&W2, &digits) {
                return format!("{base}{k1}{k2}");
            }
        }
        n = n.wrapping_add(100_003);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `fortrolig serve` as a child process of this one.
#[derive(Debug)]
struct Server {
    child: tokio::process::Child,
    pid: u32,
    base: String,
}

impl Server {
    async fn start(place: &Place) -> Result<Self, CliError> {
        let port = free_port()?;
        let data = place.dir.join("data");
        let config_file = place.dir.join("bench.toml");
        let text = format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://localhost:{port}\"\n\n\
             [storage]\ndata_dir = {}\n\n[log]\nlevel = \"warn\"\n",
            toml_string(&data)
        );
        std::fs::write(&config_file, text).map_err(|e| usage("config file")(&e))?;
        let exe = std::env::current_exe().map_err(|e| usage("own executable")(&e))?;
        let mut command = tokio::process::Command::new(exe);
        command
            .arg("serve")
            .arg("--config")
            .arg(&config_file)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true);
        // Only the configuration file decides, not this shell's FORTROLIG_* settings.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("FORTROLIG_") {
                command.env_remove(key);
            }
        }
        if let Some(url) = &place.database_url {
            command.env("FORTROLIG_DATABASE_URL", url);
        }
        let mut child = command
            .spawn()
            .map_err(|e| CliError::Server(format!("cannot start the server: {e}")))?;
        let pid = child
            .id()
            .ok_or_else(|| CliError::Server("the server exited at once".into()))?;
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(CliError::Server(format!(
                    "the server exited during startup ({status})"
                )));
            }
            let ready = client
                .get(format!("{base}/healthz"))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            if Instant::now() > deadline {
                return Err(CliError::Server(
                    "the server did not answer /healthz within 60 s".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Self { child, pid, base })
    }

    /// The child's peak resident set (VmHWM), in MiB.
    fn peak_rss_mib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid));
        status
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            })
            .map_or(0, |kib| kib.div_ceil(1024))
    }

    /// SIGTERM, then up to 10 s for a graceful shutdown, then SIGKILL.
    async fn stop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        match tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await {
            Ok(_) => {}
            Err(_) => {
                eprintln!("note: the server did not stop within 10 s of SIGTERM; killed");
                let _ = self.child.kill().await;
            }
        }
    }
}

fn free_port() -> Result<u16, CliError> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| usage("free port")(&e))?;
    Ok(listener
        .local_addr()
        .map_err(|e| usage("free port")(&e))?
        .port())
}

/// A path as a TOML basic string.
fn toml_string(path: &Path) -> String {
    let text = path.display().to_string();
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_database_keeps_the_server_and_query() -> Result<(), CliError> {
        assert_eq!(
            fresh_database("postgres://postgres@127.0.0.1:55432/postgres", "fbench1")?,
            "postgres://postgres@127.0.0.1:55432/fbench1"
        );
        assert_eq!(
            fresh_database("postgresql://u@h:1/x?sslmode=disable", "fbench2")?,
            "postgresql://u@h:1/fbench2?sslmode=disable"
        );
        assert!(fresh_database("mysql://h/x", "y").is_err());
        Ok(())
    }

    #[test]
    fn synthetic_numbers_are_valid_test_norge_numbers() {
        for seed in 7_000..7_066 {
            let fnr = synthetic_fnr(seed);
            assert!(fortrolig_domain::PersonNumber::parse(&fnr).is_ok(), "{fnr}");
            assert!(fnr[2..4].parse::<u32>().is_ok_and(|m| m > 80));
        }
    }
}
