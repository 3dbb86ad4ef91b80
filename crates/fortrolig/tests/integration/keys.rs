//! X6: clinic keys rotate without rewriting content; a wrong master key is a clear error
//! that destroys nothing.

use std::process::Command;

use crate::support::{
    ORG_A, TestEnv, TestResult, both_backends, ctx, org, patient, stderr, stdout, synthetic_fnr,
};

async fn clinic_key_rotation_rewraps_patient_keys_and_leaves_content_untouched_x6(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let clinic = app.create_clinic(&org(ORG_A), "Rotasjonsklinikken").await?;
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(
            clinic
                .add_patient(
                    &ctx(ORG_A),
                    &patient(&synthetic_fnr(300 + i), &format!("Rotert {i}")),
                )
                .await?,
        );
    }
    let rows_before: Vec<_> = {
        let mut v = Vec::new();
        for id in &ids {
            v.push(clinic.store().patient(id.as_bytes()).await?);
        }
        v
    };
    let keys_before = app.stores().keyring.patient_keys(ORG_A).await?;
    let clinic_key_before = app.stores().keyring.clinic_keys(ORG_A).await?;
    app.close().await;

    for expected in [2, 3] {
        let out = env.cli(&["keys", "rotate", "--clinic", ORG_A]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stdout(&out).contains(&format!("version {expected}")),
            "{}",
            stdout(&out)
        );
    }

    let app = env.app().await?;
    let clinic = app.clinic(&org(ORG_A)).await?;
    let clinic_keys = app.stores().keyring.clinic_keys(ORG_A).await?;
    assert_eq!(
        clinic_keys.len(),
        1,
        "old clinic key versions are forgotten"
    );
    assert_eq!(clinic_keys[0].version, 3);
    assert_ne!(clinic_keys[0].wrapped, clinic_key_before[0].wrapped);
    let keys_after = app.stores().keyring.patient_keys(ORG_A).await?;
    for after in &keys_after {
        let before = keys_before
            .iter()
            .find(|k| k.patient_id == after.patient_id)
            .ok_or("same patients")?;
        assert_eq!(
            after.key_id, before.key_id,
            "the data key itself is the same"
        );
        assert_ne!(after.wrapped, before.wrapped, "but it is wrapped anew");
        assert_eq!(after.clinic_key_version, 3);
    }
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            clinic.store().patient(id.as_bytes()).await?,
            rows_before[i],
            "content rows are not rewritten"
        );
        assert_eq!(
            clinic.read_patient(&ctx(ORG_A), *id).await?.name.as_str(),
            format!("Rotert {i}")
        );
    }
    // A patient added after rotation is wrapped under the new version and reads back.
    let late = clinic
        .add_patient(&ctx(ORG_A), &patient(&synthetic_fnr(399), "Etter rotasjon"))
        .await?;
    assert_eq!(
        clinic.read_patient(&ctx(ORG_A), late).await?.name.as_str(),
        "Etter rotasjon"
    );
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

async fn wrong_or_damaged_master_key_is_a_clear_error_that_destroys_nothing_x6(
    env: &TestEnv,
) -> TestResult {
    let out = env.cli(&[
        "clinic",
        "create",
        "--org-number",
        ORG_A,
        "--name",
        "Nøkkelklinikken",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.cli(&[
        "patient",
        "add",
        "--clinic",
        ORG_A,
        "--fnr",
        &synthetic_fnr(5),
        "--name",
        "Kari",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    let wrong = Command::new(env!("CARGO_BIN_EXE_fortrolig"))
        .args([
            "patient",
            "add",
            "--clinic",
            ORG_A,
            "--fnr",
            &synthetic_fnr(6),
            "--name",
            "Ola",
        ])
        .args(env.storage_args())
        .env("FORTROLIG_MASTER_KEY", "13".repeat(32))
        .output()?;
    assert!(!wrong.status.success());
    assert!(stderr(&wrong).contains("wrong key"), "{}", stderr(&wrong));

    let key_file = env.data().join("vault/master.key");
    let good = std::fs::read(&key_file)?;
    std::fs::write(&key_file, b"not a key\n")?;
    let out = env.cli(&["audit", "verify"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("master key file") && stderr(&out).contains("64 hex"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(&key_file)?,
        b"not a key\n",
        "a damaged key file is never replaced"
    );
    std::fs::write(&key_file, good)?;

    let out = env.cli(&["audit", "verify"]);
    assert!(
        out.status.success(),
        "everything is still there: {}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("intact: 2 entries"),
        "{}",
        stdout(&out)
    );
    Ok(())
}

both_backends!(
    clinic_key_rotation_rewraps_patient_keys_and_leaves_content_untouched_x6,
    wrong_or_damaged_master_key_is_a_clear_error_that_destroys_nothing_x6
);
