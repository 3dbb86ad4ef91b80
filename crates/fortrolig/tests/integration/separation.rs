//! X5: each clinic has its own store; one clinic's handle cannot reach another's data.

use fortrolig_service::ServiceError;

use crate::support::{
    ORG_A, ORG_B, TestEnv, TestResult, both_backends, ctx, find_marker, org, patient, random_hex,
    synthetic_fnr,
};

async fn clinic_stores_hold_nothing_of_each_other_x5(env: &TestEnv) -> TestResult {
    let app = env.app().await?;
    let a = app.create_clinic(&org(ORG_A), "Klinikk A").await?;
    let b = app.create_clinic(&org(ORG_B), "Klinikk B").await?;
    let marker = format!("Separat{}", random_hex(6));
    let fnr = synthetic_fnr(4242);
    let id_a = a
        .add_patient(&ctx(ORG_A), &patient(&fnr, &format!("Anne {marker}")))
        .await?;
    // The same person at both clinics gets unrelated ids and unrelated blind indexes.
    let id_b = b.add_patient(&ctx(ORG_B), &patient(&fnr, "Anne B")).await?;
    assert_ne!(id_a, id_b);
    let index_a = a
        .store()
        .patient(id_a.as_bytes())
        .await?
        .map(|r| r.person_number_index);
    let index_b = b
        .store()
        .patient(id_b.as_bytes())
        .await?
        .map(|r| r.person_number_index);
    assert!(
        index_a.is_some() && index_a != index_b,
        "blind indexes must not link clinics"
    );

    // B's handle cannot read A's patient, even knowing the id.
    assert!(matches!(
        b.read_patient(&ctx(ORG_B), id_a).await,
        Err(ServiceError::NoSuchPatient)
    ));

    let b_bytes = env.clinic_bytes(ORG_B);
    assert!(!b_bytes.is_empty(), "clinic B's store is found");
    for needle in [
        marker.as_bytes(),
        id_a.to_string().as_bytes(),
        ORG_A.as_bytes(),
    ] {
        let found = find_marker(&b_bytes, needle);
        assert!(
            found.is_empty(),
            "clinic B's store holds {:?} of clinic A: {found:?}",
            String::from_utf8_lossy(needle)
        );
    }
    let a_bytes = env.clinic_bytes(ORG_A);
    assert!(find_marker(&a_bytes, ORG_B.as_bytes()).is_empty());

    // A ciphertext row copied from A into B does not open there (it is bound to clinic A).
    let row = a.store().patient(id_a.as_bytes()).await?.ok_or("row")?;
    let mut tx = b.store().begin().await?;
    let mut forged = row.clone();
    forged.person_number_index = vec![7; 16];
    tx.insert_patient(&forged).await?;
    tx.commit().await?;
    assert!(
        b.read_patient(&ctx(ORG_B), id_a).await.is_err(),
        "a copied row must not decrypt in another clinic"
    );
    app.close().await;
    Ok(())
}

both_backends!(clinic_stores_hold_nothing_of_each_other_x5);
