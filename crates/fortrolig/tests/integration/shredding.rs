//! X4: destroying a patient's data key makes their content unreadable, live and in every
//! backup taken before.

use fortrolig_service::ServiceError;

use crate::support::{
    ORG_A, TestEnv, TestResult, both_backends, ctx, find_marker, org, patient, stderr,
    synthetic_fnr,
};

async fn shredded_patient_is_unreadable_live_and_in_earlier_backups_x4(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let clinic = app.create_clinic(&org(ORG_A), "Klinikk").await?;
    let keep = clinic
        .add_patient(&ctx(ORG_A), &patient(&synthetic_fnr(1), "Beholdes Pasient"))
        .await?;
    let gone = clinic
        .add_patient(&ctx(ORG_A), &patient(&synthetic_fnr(2), "Slettes Pasient"))
        .await?;
    let wrapped = app
        .stores()
        .keyring
        .patient_key(ORG_A, gone.as_bytes())
        .await?
        .ok_or("the key exists before shredding")?
        .wrapped;
    app.close().await;

    let backup = env.dir.path().join("before.frt");
    env.backup_to(&backup);

    let out = env.cli(&[
        "patient",
        "shred",
        "--clinic",
        ORG_A,
        "--id",
        &gone.to_string(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    let app = env.app().await?;
    let clinic = app.clinic(&org(ORG_A)).await?;
    assert!(matches!(
        clinic.read_patient(&ctx(ORG_A), gone).await,
        Err(ServiceError::Shredded)
    ));
    assert!(clinic.read_patient(&ctx(ORG_A), keep).await.is_ok());
    assert!(
        app.stores()
            .keyring
            .patient_key(ORG_A, gone.as_bytes())
            .await?
            .is_none()
    );
    app.close().await;
    // No copy of the wrapped key is left in the key ring's files or database.
    let found = find_marker(&env.stored_bytes(), &wrapped);
    assert!(
        found.is_empty(),
        "the destroyed key's bytes remain in {found:?}"
    );

    // Restoring the backup taken before does not bring the patient back.
    let restored = env.restore_from(&backup);
    assert!(
        restored.contains("1 shredded patient(s) left out"),
        "{restored}"
    );
    let app = env.app().await?;
    let clinic = app.clinic(&org(ORG_A)).await?;
    assert!(clinic.read_patient(&ctx(ORG_A), gone).await.is_err());
    assert!(
        clinic.store().patient(gone.as_bytes()).await?.is_none(),
        "its ciphertext rows are dropped"
    );
    assert_eq!(
        clinic.read_patient(&ctx(ORG_A), keep).await?.name.as_str(),
        "Beholdes Pasient"
    );
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

both_backends!(shredded_patient_is_unreadable_live_and_in_earlier_backups_x4);
