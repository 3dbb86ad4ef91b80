//! The test harness: a fresh store per test on SQLite or PostgreSQL, the real binary,
//! and ways to look at every byte a backend keeps.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use fortrolig_domain::{NewPatient, OrgNumber, PersonName, PersonNumber};
use fortrolig_service::{ActContext, Backend, Fortrolig, SystemClock};
use fortrolig_vault::MasterKey;

pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// One test's private Fortrolig: a temporary data directory and, on PostgreSQL, its own
/// set of databases (all named with a random prefix, dropped at the end).
pub struct TestEnv {
    pub kind: Kind,
    pub dir: tempfile::TempDir,
    pub pg_url: Option<String>,
    pub pg_prefix: String,
}

pub fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| {
            fortrolig_vault::random_bytes::<1>()
                .map(|b| format!("{:02x}", b[0]))
                .unwrap_or_default()
        })
        .collect()
}

/// Runs `body` on both backends: SQLite always; PostgreSQL when `PGTEST_URL` is set (and
/// required to be when `PGTEST_REQUIRED=1`, as in CI).
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use crate::support::{Kind, TestEnv};

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let env = TestEnv::new(Kind::Sqlite).expect("sqlite env");
                    if let Err(e) = super::$name(&env).await {
                        panic!("{e}");
                    }
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(env) = TestEnv::new(Kind::Postgres) else { return };
                    if let Err(e) = super::$name(&env).await {
                        panic!("{e}");
                    }
                }
            }
        )*
    };
}
pub(crate) use both_backends;

impl TestEnv {
    pub fn new(kind: Kind) -> Option<Self> {
        let dir = tempfile::tempdir().expect("tempdir");
        let pg_prefix = format!("t{}", random_hex(6));
        let pg_url = match kind {
            Kind::Sqlite => None,
            Kind::Postgres => match std::env::var("PGTEST_URL") {
                Ok(base) => {
                    let base = base
                        .rsplit_once('/')
                        .map(|(b, _)| b.to_owned())
                        .expect("PGTEST_URL has a /database");
                    Some(format!("{base}/{pg_prefix}"))
                }
                Err(_) => {
                    assert!(
                        std::env::var("PGTEST_REQUIRED").as_deref() != Ok("1"),
                        "PGTEST_REQUIRED=1 but PGTEST_URL is not set"
                    );
                    eprintln!("PostgreSQL not configured (PGTEST_URL): skipping");
                    return None;
                }
            },
        };
        Some(Self {
            kind,
            dir,
            pg_url,
            pg_prefix,
        })
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn backend(&self) -> Backend {
        match &self.pg_url {
            Some(url) => Backend::Postgres { url: url.clone() },
            None => Backend::Sqlite {
                data_dir: self.data(),
                vault_dir: self.data().join("vault"),
            },
        }
    }

    pub async fn app(&self) -> Result<Fortrolig, Box<dyn std::error::Error + Send + Sync>> {
        self.app_with_clock(Arc::new(SystemClock)).await
    }

    pub async fn app_with_clock(
        &self,
        clock: Arc<dyn fortrolig_domain::Clock>,
    ) -> Result<Fortrolig, Box<dyn std::error::Error + Send + Sync>> {
        let master = MasterKey::load_or_create(&self.data().join("vault/master.key"))?;
        Ok(Fortrolig::open(self.backend(), master, clock).await?)
    }

    /// The storage arguments the CLI takes for this environment.
    pub fn storage_args(&self) -> Vec<String> {
        let mut args = vec!["--data".to_owned(), self.data().display().to_string()];
        if let Some(url) = &self.pg_url {
            args.push("--database-url".into());
            args.push(url.clone());
        }
        args
    }

    /// Runs the real binary: `args` first, then this environment's storage arguments.
    pub fn cli(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fortrolig"));
        cmd.args(args)
            .args(self.storage_args())
            .env_remove("FORTROLIG_DATABASE_URL");
        cmd.output().expect("run fortrolig")
    }

    /// `fortrolig backup --out FILE`, which must succeed; returns what it printed.
    pub fn backup_to(&self, file: &std::path::Path) -> String {
        let out = self.cli(&["backup", "--out", file.to_str().unwrap_or_default()]);
        assert!(out.status.success(), "backup: {}", stderr(&out));
        stdout(&out)
    }

    /// `fortrolig restore FILE`, which must succeed; returns what it printed.
    pub fn restore_from(&self, file: &std::path::Path) -> String {
        let out = self.cli(&["restore", file.to_str().unwrap_or_default()]);
        assert!(out.status.success(), "restore: {}", stderr(&out));
        stdout(&out)
    }

    /// Every byte the backend keeps: the files under the data directory (SQLite, with
    /// -wal and -journal files), or a pg_dump of each of this test's databases.
    pub fn stored_bytes(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        collect_files(self.dir.path(), &mut out);
        for db in self.pg_databases() {
            let url = self.pg_db_url(&db);
            let dump = Command::new("pg_dump")
                .args(["--no-owner", &url])
                .output()
                .expect("pg_dump");
            assert!(
                dump.status.success(),
                "pg_dump {db}: {}",
                String::from_utf8_lossy(&dump.stderr)
            );
            out.push((format!("pg_dump:{db}"), dump.stdout));
        }
        out
    }

    pub fn pg_db_url(&self, db: &str) -> String {
        let url = self.pg_url.as_deref().unwrap_or_default();
        let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or_default();
        format!("{base}/{db}")
    }

    pub fn pg_databases(&self) -> Vec<String> {
        if self.pg_url.is_none() {
            return Vec::new();
        }
        let out = Command::new("psql")
            .args([
                &self.pg_db_url("postgres"),
                "-Atc",
                &format!(
                    "SELECT datname FROM pg_database WHERE datname LIKE '{}%'",
                    self.pg_prefix
                ),
            ])
            .output()
            .expect("psql");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The database or file of one clinic's store, for checks that look at it alone.
    pub fn clinic_bytes(&self, org: &str) -> Vec<(String, Vec<u8>)> {
        self.stored_bytes()
            .into_iter()
            .filter(|(name, _)| {
                name.contains(&format!("clinics/{org}.db"))
                    || name == &format!("pg_dump:{}_c{org}", self.pg_prefix)
            })
            .collect()
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        for db in self.pg_databases() {
            let _ = Command::new("psql")
                .args([
                    &self.pg_db_url("postgres"),
                    "-qc",
                    &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
                ])
                .output();
        }
    }
}

fn collect_files(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out);
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path.display().to_string(), bytes));
        }
    }
}

/// Where `needle` occurs in any of `haystacks`, as "name@offset".
pub fn find_marker(haystacks: &[(String, Vec<u8>)], needle: &[u8]) -> Vec<String> {
    haystacks
        .iter()
        .filter_map(|(name, bytes)| {
            bytes
                .windows(needle.len())
                .position(|w| w == needle)
                .map(|at| format!("{name}@{at}"))
        })
        .collect()
}

pub const ORG_A: &str = "923456783";
pub const ORG_B: &str = "812345672";

pub fn org(text: &str) -> OrgNumber {
    OrgNumber::parse(text).expect("test org number")
}

pub fn ctx(org_text: &str) -> ActContext {
    ActContext::system("test", &org(org_text)).with_reason("test")
}

/// A valid synthetic (Test-Norge, month + 80) fødselsnummer built from `seed`.
pub fn synthetic_fnr(seed: u32) -> String {
    const W1: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
    const W2: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let mut n = seed;
    loop {
        let day = 1 + n % 28;
        let month = 81 + (n / 28) % 12;
        let year = (n / 336) % 100;
        let individual = 100 + (n * 7) % 800;
        let base = format!("{day:02}{month:02}{year:02}{individual:03}");
        let digits: Vec<u32> = base.chars().filter_map(|c| c.to_digit(10)).collect();
        let k = |w: &[u32], d: &[u32]| {
            let r = 11 - w.iter().zip(d).map(|(a, b)| a * b).sum::<u32>() % 11;
            if r == 11 {
                Some(0)
            } else if r == 10 {
                None
            } else {
                Some(r)
            }
        };
        if let Some(k1) = k(&W1, &digits) {
            let mut d2 = digits.clone();
            d2.push(k1);
            if let Some(k2) = k(&W2, &d2) {
                return format!("{base}{k1}{k2}");
            }
        }
        n = n.wrapping_add(100_003);
    }
}

pub fn patient(fnr: &str, name: &str) -> NewPatient {
    NewPatient {
        person_number: PersonNumber::parse(fnr).expect("valid fnr"),
        name: PersonName::parse(name).expect("valid name"),
        phone: None,
        email: None,
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A minimal PNG: signature, IHDR (1×1), IEND; `marker` rides in a text chunk, so a
/// test can look for it in storage.
pub fn png_with(marker: &[u8]) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&[0, 0, 0, 13]);
    png.extend_from_slice(b"IHDR");
    png.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
    png.extend_from_slice(&[0x90, 0x77, 0x53, 0xde]);
    png.extend_from_slice(&(marker.len() as u32).to_be_bytes());
    png.extend_from_slice(b"tEXt");
    png.extend_from_slice(marker);
    png.extend_from_slice(&[0, 0, 0, 0]);
    png.extend_from_slice(&[0, 0, 0, 0]);
    png.extend_from_slice(b"IEND");
    png.extend_from_slice(&[0xae, 0x42, 0x60, 0x82]);
    png
}
