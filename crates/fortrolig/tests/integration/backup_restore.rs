//! X7: backups are encrypted and integrity-checked; backup → wipe → restore → verify
//! gives back every clinic with an intact audit log. A damaged, cut or foreign backup is
//! refused before anything is written.

use std::process::Command;

use crate::support::{
    ORG_A, ORG_B, TestEnv, TestResult, both_backends, ctx, org, patient, stderr, stdout,
    synthetic_fnr,
};

async fn populate(env: &TestEnv) -> TestResult {
    let app = env.app().await?;
    for (o, n) in [(ORG_A, "Klinikk A"), (ORG_B, "Klinikk B")] {
        let clinic = app.create_clinic(&org(o), n).await?;
        for i in 0..5 {
            clinic
                .add_patient(
                    &ctx(o),
                    &patient(&synthetic_fnr(i + 10), &format!("{n} pasient {i}")),
                )
                .await?;
        }
    }
    app.close().await;
    Ok(())
}

fn wipe(env: &TestEnv) -> TestResult {
    match env.kind {
        crate::support::Kind::Sqlite => {
            let data = env.data();
            std::fs::remove_dir_all(data.join("clinics"))?;
            for f in ["directory.db", "directory.db-wal", "directory.db-shm"] {
                let _ = std::fs::remove_file(data.join(f));
            }
        }
        crate::support::Kind::Postgres => {
            for db in env
                .pg_databases()
                .into_iter()
                .filter(|d| !d.ends_with("_keyring"))
            {
                let out = Command::new("psql")
                    .args([
                        &env.pg_db_url("postgres"),
                        "-qc",
                        &format!("DROP DATABASE \"{db}\" WITH (FORCE)"),
                    ])
                    .output()?;
                assert!(out.status.success(), "{}", stderr(&out));
            }
        }
    }
    Ok(())
}

async fn backup_wipe_restore_verify_round_trip_x7(env: &TestEnv) -> TestResult {
    populate(env).await?;
    let file = env.dir.path().join("full.frt");
    let taken = env.backup_to(&file);
    assert!(taken.contains("2 clinic(s)"), "{taken}");

    wipe(env)?;
    let out = env.cli(&["restore", file.to_str().unwrap_or_default()]);
    assert!(
        out.status.success(),
        "restore: {}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("restored 2 clinic(s)"),
        "{}",
        stdout(&out)
    );

    let out = env.cli(&["audit", "verify"]);
    assert!(
        out.status.success(),
        "verify after restore: {}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(stdout(&out).matches("intact").count(), 2);

    let app = env.app().await?;
    for (o, n) in [(ORG_A, "Klinikk A"), (ORG_B, "Klinikk B")] {
        let clinic = app.clinic(&org(o)).await?;
        for i in 0..5 {
            let number = fortrolig_domain::PersonNumber::parse(&synthetic_fnr(i + 10))?;
            let found = clinic
                .find_patient(&ctx(o), &number)
                .await?
                .ok_or("patient restored")?;
            assert_eq!(found.name.as_str(), format!("{n} pasient {i}"));
        }
    }
    app.close().await;
    Ok(())
}

async fn damaged_cut_or_foreign_backups_are_refused_and_lose_nothing_x7(
    env: &TestEnv,
) -> TestResult {
    populate(env).await?;
    let file = env.dir.path().join("full.frt");
    env.backup_to(&file);
    let good = std::fs::read(&file)?;

    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    let cut = good[..good.len() - 10].to_vec();
    let mut no_end = good.clone();
    no_end.truncate(good.len() / 2);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("flipped byte", flipped, "does not open"),
        ("cut short", cut, "truncated"),
        ("half a file", no_end, "truncated"),
        (
            "not a backup",
            b"hello, world, this is not a backup at all, no, not at all!!!!!!!!!!!!".to_vec(),
            "not a Fortrolig backup",
        ),
        ("empty", Vec::new(), "not a Fortrolig backup"),
    ];
    for (what, bytes, expected) in cases {
        let path = env.dir.path().join("bad.frt");
        std::fs::write(&path, bytes)?;
        let out = env.cli(&["restore", path.to_str().unwrap_or_default()]);
        assert!(!out.status.success(), "{what}: restore must fail");
        assert!(stderr(&out).contains(expected), "{what}: {}", stderr(&out));
    }

    let out = Command::new(env!("CARGO_BIN_EXE_fortrolig"))
        .args(["restore", file.to_str().unwrap_or_default()])
        .args(env.storage_args())
        .env("FORTROLIG_MASTER_KEY", "42".repeat(32))
        .output()?;
    assert!(
        !out.status.success(),
        "a backup does not open with another master key"
    );
    assert!(stderr(&out).contains("master key"), "{}", stderr(&out));

    // Nothing was lost: every clinic still verifies and reads.
    let out = env.cli(&["audit", "verify"]);
    assert!(out.status.success(), "{}", stdout(&out));
    let app = env.app().await?;
    let clinic = app.clinic(&org(ORG_A)).await?;
    assert_eq!(clinic.store().patient_count().await?, 5);
    app.close().await;
    Ok(())
}

both_backends!(
    backup_wipe_restore_verify_round_trip_x7,
    damaged_cut_or_foreign_backups_are_refused_and_lose_nothing_x7
);
