//! The command line. These forms are relied on by scripts and tests: change them only
//! by adding.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "fortrolig",
    version,
    about = "Secure communication between Norwegian clinics and their patients"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the embedded default (SQLite) with the demo clinic «Normland legesenter».
    Demo {
        #[arg(long, default_value = "fortrolig-data")]
        data: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
    /// Run the server with a configuration file.
    Serve {
        #[arg(long)]
        config: PathBuf,
    },
    /// Clinics (virksomheter).
    #[command(subcommand)]
    Clinic(ClinicCommand),
    /// Patients of a clinic.
    #[command(subcommand)]
    Patient(PatientCommand),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Write an encrypted, integrity-checked backup of every clinic.
    Backup {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a backup and restore the clinics in it.
    Restore {
        file: PathBuf,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Key management.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The clinic's people: staff, their roles and care relationships.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Bootstrapping a clinic's administration.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Benchmarks against a server this command starts and stops itself.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// SMS and e-mail notices.
    #[command(subcommand)]
    Notice(NoticeCommand),
}

#[derive(Debug, Subcommand)]
pub enum NoticeCommand {
    /// Record an e-mail notice that came back (N5): reads one bounce (a delivery status
    /// notification) from standard input, as the mail system pipes it to the notices'
    /// from address. Exit 0 when handled (or not ours: a bounce is never bounced), 75
    /// (try again later) when the stores cannot be reached.
    Bounce {
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Judge notice texts read from standard input, one per line. Prints one JSON object
    /// per line: {"verdict":"allow|warn|block","findings":[{"rule","start","end",
    /// "message"}]}. start and end count Unicode scalar values (chars) from the start of
    /// the line, end exclusive. Exit 0 when every text is allowed, 1 otherwise, 2 on bad
    /// arguments. Rules and what they block or warn: crates/notice_check/README.md.
    Check {
        /// sms or email.
        #[arg(long, value_parser = ["sms", "email"])]
        channel: String,
        /// The patient can reply; without this flag the text must say that replies are
        /// not read (N2).
        #[arg(long)]
        replies_allowed: bool,
        /// The clinic's own sender number (repeatable), in any spacing, with or without +47.
        #[arg(long = "sender-phone", value_name = "NUMBER")]
        sender_phone: Vec<String>,
        /// An extra department or clinic name that reveals a condition (repeatable), in
        /// the term syntax of crates/notice_check/data/departments.txt («*term*»).
        #[arg(long = "department", value_name = "TERM")]
        department: Vec<String>,
        /// The host of the clinic's portal (repeatable); e-mail links there pass.
        #[arg(long = "portal-host", value_name = "HOST")]
        portal_host: Vec<String>,
        /// Judge with the clinic's own phone numbers and department names, as its
        /// administrator set them (the flags above add to them).
        #[arg(long, value_name = "ORGNR", requires = "data")]
        clinic: Option<String>,
        /// With --clinic: the data directory.
        #[arg(long, value_name = "DIR", requires = "clinic")]
        data: Option<PathBuf>,
        /// With --clinic: the PostgreSQL URL, when the stores live there.
        #[arg(
            long,
            env = "FORTROLIG_DATABASE_URL",
            hide_env_values = true,
            requires = "clinic"
        )]
        database_url: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Messaging over real HTTP: a fresh server on 127.0.0.1, 64 patient–clinician
    /// pairs, C concurrent senders, live delivery measured by two quiet probe pairs.
    /// The last line is the summary (see docs/PERFORMANCE.md).
    Messaging {
        /// Concurrent senders.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Measured seconds.
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// Unmeasured seconds of load first.
        #[arg(long, default_value_t = 3)]
        warmup: u64,
        /// PostgreSQL server URL (postgres://user@host:port/db); a fresh database named
        /// from it is used. Without it: SQLite in a fresh temporary directory.
        #[arg(long)]
        database_url: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Register a member of staff (e.g. the clinic's first administrator) and print a
    /// one-time link with which they enrol a passkey. The link works once, for 24 hours;
    /// hand it over only to the person named.
    Invite {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        name: String,
        /// lege, sykepleier, fysioterapeut, psykolog, sekretaer, klinikkadministrator, operator
        #[arg(long)]
        role: String,
        /// The address users type (the server's public_url); the link starts with it.
        #[arg(long, default_value = "http://localhost:8080")]
        url: String,
        #[arg(long)]
        hpr: Option<String>,
        /// How many days the role is granted (at most 3 years).
        #[arg(long, default_value_t = 365)]
        days: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Register a member of staff, link their identity number for HelseID login, and
    /// grant a role for a limited time. Prints the staff id.
    Add {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        name: String,
        /// lege, sykepleier, fysioterapeut, psykolog, sekretaer, klinikkadministrator, operator.
        /// Leave out to register the person only (e.g. before `staff grant` across clinics).
        #[arg(long)]
        role: Option<String>,
        /// Identity number, for login through HelseID.
        #[arg(long)]
        fnr: String,
        #[arg(long)]
        hpr: Option<String>,
        /// How many days the role is granted (at most 3 years).
        #[arg(long, default_value_t = 365)]
        days: u32,
    },
    /// Start a care relationship between a member of staff and a patient.
    Care {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        staff: String,
        #[arg(long)]
        patient: String,
    },
    /// Record that a member of staff completed training on the solution (S6).
    Trained {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        staff: String,
        #[arg(long, default_value = "fortrolig-grunnkurs")]
        course: String,
    },
    /// Require (or stop requiring) the basic course before first access to health data.
    RequireTraining {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        clinic: String,
        #[arg(long, action = clap::ArgAction::Set)]
        required: bool,
    },
    /// Deactivate a member of staff who leaves: every role ends and every session closes.
    Deactivate {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        staff: String,
    },
    /// Grant one person a role covering several clinics (S2), as the operator: one
    /// authorisation with a shared id, recorded and audited in every covered clinic's
    /// store. The person must be registered as staff in each clinic (`staff add`).
    Grant {
        #[command(flatten)]
        storage: StorageArgs,
        /// A clinic the authorisation covers; repeat, or separate with commas.
        #[arg(long = "clinic", required = true, value_delimiter = ',')]
        clinics: Vec<String>,
        /// The person's identity number, by which each clinic knows them.
        #[arg(long)]
        fnr: String,
        #[arg(long)]
        role: String,
        /// How many days the role is granted (at most 3 years).
        #[arg(long, default_value_t = 365)]
        days: u32,
    },
    /// End an authorisation now: in this clinic and in every other clinic it covers.
    EndGrant {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        grant: String,
    },
    /// List a member of staff's authorisations, current and past, with the clinics each
    /// covers.
    Grants {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        staff: String,
    },
    /// Teams and their care relationships (S1).
    #[command(subcommand)]
    Team(TeamCommand),
}

#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Create a team in a clinic. Prints the team id.
    Create {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        name: String,
    },
    /// Add a member of staff to a team, from now.
    Add {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        team: String,
        #[arg(long)]
        staff: String,
    },
    /// Remove a member of staff from a team now; their access through it ends at once.
    Remove {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        team: String,
        #[arg(long)]
        staff: String,
    },
    /// Start a care relationship between a team and a patient.
    Care {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        team: String,
        #[arg(long)]
        patient: String,
    },
    /// End a team's care relationship with a patient now.
    EndCare {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        team: String,
        #[arg(long)]
        patient: String,
    },
    /// List the clinic's teams: id, name, current members and patients.
    List {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        clinic: String,
    },
}

/// Where the stores and the vault are.
#[derive(Debug, Args, Clone)]
pub struct StorageArgs {
    /// Data directory (SQLite stores; also holds the vault unless --vault is given).
    #[arg(long, default_value = "fortrolig-data")]
    pub data: PathBuf,
    /// PostgreSQL URL; when given, the stores live in PostgreSQL.
    #[arg(long, env = "FORTROLIG_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Vault directory (master key file and, with SQLite, the key ring). Default: DATA/vault.
    #[arg(long)]
    pub vault: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ClinicCommand {
    /// Register a clinic with its own store and keys.
    Create {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        org_number: String,
        #[arg(long)]
        name: String,
    },
    /// List the registered clinics.
    List {
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum PatientCommand {
    /// Register one patient.
    Add {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        fnr: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        email: Option<String>,
    },
    /// Register patients from lines `fnr;name;phone;email` (phone and e-mail may be
    /// empty). Prints `ok LINE ID` once each is durably stored and audited.
    Import {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        clinic: String,
        /// File to read, or `-` for standard input.
        #[arg(long, default_value = "-")]
        file: PathBuf,
    },
    /// Crypto-shred a patient: delete the record and destroy the data key.
    Shred {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify the audit log of one or every clinic; exit 0 when intact.
    Verify {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        clinic: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Rotate a clinic's key: rewraps the patient keys, not the content.
    Rotate {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        clinic: String,
    },
}
