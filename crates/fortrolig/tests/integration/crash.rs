//! Every acknowledged write survives a crash (X3, X7): a process doing audited,
//! encrypted writes is killed with SIGKILL again and again; afterwards every write it
//! acknowledged is there and readable, and the audit log verifies.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fortrolig_domain::PatientId;

use crate::support::{
    ORG_A, TestEnv, TestResult, both_backends, ctx, org, random_hex, stdout, synthetic_fnr,
};

const ROUNDS: u32 = 5;

/// One round: start an import, feed it patients, kill it with SIGKILL after `after`.
/// Returns the (line number, id) pairs it acknowledged.
fn round(env: &TestEnv, first_seed: u32, after: Duration) -> Vec<(u32, PatientId)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fortrolig"))
        .args(["patient", "import", "--clinic", ORG_A])
        .args(env.storage_args())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start import");
    let mut stdin = child.stdin.take().expect("stdin");
    let feeder = std::thread::spawn(move || {
        for i in 0..5000u32 {
            let line = format!(
                "{};Krasj Pasient {}\n",
                synthetic_fnr(first_seed + i),
                first_seed + i
            );
            if stdin.write_all(line.as_bytes()).is_err() {
                return;
            }
        }
    });
    let acked = Arc::new(Mutex::new(Vec::new()));
    let reader_acked = acked.clone();
    let out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let parts: Vec<&str> = line.split(' ').collect();
            if let ["ok", n, id] = parts.as_slice() {
                let n: u32 = n.parse().expect("line number");
                let id = PatientId::parse(id).expect("patient id");
                reader_acked.lock().expect("lock").push((n, id));
            }
        }
    });
    let started = Instant::now();
    while started.elapsed() < after {
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let _ = reader.join();
    let _ = feeder.join();
    acked.lock().expect("lock").clone()
}

async fn acknowledged_writes_survive_repeated_sigkill_x3(env: &TestEnv) -> TestResult {
    let app = env.app().await?;
    app.create_clinic(&org(ORG_A), "Krasjklinikken").await?;
    app.close().await;

    let mut acknowledged = Vec::new();
    for r in 0..ROUNDS {
        let jitter = u64::from_str_radix(&random_hex(1), 16)? * 2;
        let env_ref = env;
        let got = round(
            env_ref,
            10_000 * (r + 1),
            Duration::from_millis(700 + jitter),
        );
        assert!(
            !got.is_empty(),
            "round {r} acknowledged nothing: the test must put writes under way"
        );
        acknowledged.extend(got);
    }

    let app = env.app().await?;
    let clinic = app.clinic(&org(ORG_A)).await?;
    for (n, id) in &acknowledged {
        let patient = clinic
            .read_patient(&ctx(ORG_A), *id)
            .await
            .map_err(|e| format!("acknowledged line {n} lost: {e}"))?;
        assert!(patient.name.as_str().starts_with("Krasj Pasient"));
    }
    clinic.verify_audit().await?;
    app.close().await;
    let out = env.cli(&["audit", "verify"]);
    assert!(out.status.success(), "{}", stdout(&out));
    eprintln!(
        "{} acknowledged writes over {ROUNDS} SIGKILLs, all present",
        acknowledged.len()
    );
    Ok(())
}

both_backends!(acknowledged_writes_survive_repeated_sigkill_x3);
