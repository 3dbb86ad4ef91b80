//! `fortrolig-bench`: measures what Fortrolig's goals are stated in.
//!
//! 1. Audit verification in memory (goal: 1,000,000 entries in under 2 s), and append.
//! 2. Audit verification through the real SQLite store (`Clinic::verify_audit`).
//! 3. AES-256-GCM seal and open throughput of a patient data key.
//! 4. The CPU and wall time of one audited, encrypted, durable write (`add_patient`),
//!    one at a time. 4b. The same for a patient's message (`write_to_clinic`), one at a
//!    time and from 64 patients at once; goal: under 0.2 ms of CPU per write then.
//! 5. The notice checker: texts per second on one core, p50/p99 latency; goal: 100,000
//!    texts/s per core.
//!
//! Run with `cargo run --release -p fortrolig-bench -- [--entries N] [--store-entries N]
//! [--writes N] [--texts N]`, or only the notice checker with `-- notice [--texts N]`.
//! See `docs/BENCHMARKS.md`.

mod audit_mem;
mod cpu;
mod crypto;
mod messages;
mod notice;
mod report;
mod service;
mod synth;

use std::error::Error;

use report::Report;

/// Command-line settings.
#[derive(Debug, Clone, Copy)]
struct Args {
    /// Entries in the in-memory audit log (figure 1).
    entries: u64,
    /// Entries appended through the service before `verify_audit` (figure 2).
    store_entries: u64,
    /// `add_patient` calls measured (figure 4).
    writes: u64,
    /// Notice texts checked (figure 5).
    texts: u64,
    /// Only the notice checker (figure 5).
    notice_only: bool,
}

const USAGE: &str =
    "usage: fortrolig-bench [notice] [--entries N] [--store-entries N] [--writes N] [--texts N]
  notice             run only the notice checker (figure 5)
  --entries N        audit entries verified in memory        (default 1_000_000)
  --store-entries N  audit entries appended to SQLite first  (default 20_000)
  --writes N         add_patient calls measured              (default 2_000)
  --texts N          notice texts checked                    (default 1_000_000)";

fn parse_count(flag: &str, value: Option<String>) -> Result<u64, Box<dyn Error>> {
    let value = value.ok_or_else(|| format!("{flag} needs a number\n{USAGE}"))?;
    let digits: String = value.chars().filter(|c| !matches!(c, '_' | ',')).collect();
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{flag}: {value:?} is not a whole number\n{USAGE}"))?;
    if n == 0 {
        return Err(format!("{flag} must be at least 1").into());
    }
    Ok(n)
}

fn parse_args() -> Result<Option<Args>, Box<dyn Error>> {
    let mut args = Args {
        entries: 1_000_000,
        store_entries: 20_000,
        writes: 2_000,
        texts: 1_000_000,
        notice_only: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| it.next());
        match flag.as_str() {
            "--entries" => args.entries = parse_count("--entries", value())?,
            "--store-entries" => args.store_entries = parse_count("--store-entries", value())?,
            "--writes" => args.writes = parse_count("--writes", value())?,
            "--texts" => args.texts = parse_count("--texts", value())?,
            "notice" => args.notice_only = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}").into()),
        }
    }
    Ok(Some(args))
}

/// Figures 2, 3, 4 and 4b: the service on SQLite, with figure 3's crypto in between.
async fn store_figures(
    report: &mut Report,
    dir: &std::path::Path,
    args: Args,
    sign_cost: f64,
) -> Result<(), Box<dyn Error>> {
    report.section("2. audit log through the SQLite store");
    service::verify_through_store(report, &dir.join("verify"), args.store_entries).await?;

    report.section("3. encryption (AES-256-GCM, one patient data key)");
    let seal_small = crypto::run(report)?;

    report.section("4. one audited, encrypted, durable write (Clinic::add_patient)");
    service::durable_writes(
        report,
        &dir.join("writes"),
        args.writes,
        service::KnownCosts {
            sign: sign_cost,
            seal_small,
        },
    )
    .await?;

    report.section("4b. a patient's message (Clinic::write_to_clinic)");
    messages::patient_messages(report, &dir.join("messages"), args.writes).await
}

fn main() -> Result<(), Box<dyn Error>> {
    if cfg!(debug_assertions) {
        eprintln!(
            "fortrolig-bench refuses to run in a debug build: the figures would be meaningless.\n\
             Run it as: cargo run --release -p fortrolig-bench"
        );
        std::process::exit(2);
    }
    let args = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => return Ok(()),
        Err(e) => {
            eprintln!("fortrolig-bench: {e}");
            std::process::exit(2);
        }
    };
    let mut report = Report::default();

    report.section("machine");
    let scratch = tempfile::Builder::new()
        .prefix("fortrolig-bench-")
        .tempdir()?;
    cpu::print_machine_facts(scratch.path());

    if args.notice_only {
        report.section("5. notice checker (one thread)");
        notice::run(&mut report, args.texts)?;
        report.summary();
        scratch.close()?;
        return Ok(());
    }

    report.section("1. audit log in memory");
    let sign_cost = audit_mem::run(&mut report, args.entries)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // Inside a task on the runtime's workers, as the server's request handlers run: a
    // caller outside them (`block_on`) would pay a wake-up across threads for every
    // task it starts and every answer it waits for, which the server does not.
    let dir = scratch.path().to_owned();
    let figures = async move {
        store_figures(&mut report, &dir, args, sign_cost)
            .await
            .map(|()| report)
            .map_err(|e| e.to_string())
    };
    let mut report = runtime.block_on(async { tokio::spawn(figures).await })??;
    drop(runtime);

    report.section("5. notice checker (one thread)");
    notice::run(&mut report, args.texts)?;

    report.summary();
    scratch.close()?;
    Ok(())
}
