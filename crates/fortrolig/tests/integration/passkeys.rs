//! Activation codes and passkeys (issue 3 item 3; S4, P10, X3, X6): a code is shown once,
//! stored only as a keyed hash, works once and for 24 hours, and records how identity
//! was proven; a passkey is stored sealed and stops working when its person leaves or
//! their data is deleted. The WebAuthn ceremony itself runs in the browser tests.

use std::sync::Arc;

use fortrolig_domain::access::Role;
use fortrolig_domain::{ManualClock, PersonName, Source, Timestamp};
use fortrolig_service::{
    ACTIVATION_LIFETIME_MICROS, Clinic, IdentityProof, ServiceError, SessionSubject,
};

use crate::support::{
    ORG_A, TestEnv, TestResult, both_backends, ctx, find_marker, org, patient, stderr, stdout,
    synthetic_fnr,
};

fn from(address: &str) -> Source {
    Source {
        session: None,
        address: Some(address.into()),
    }
}

/// Enrols a made-up passkey (the service keeps the ceremony's result as opaque bytes).
async fn enrol(
    clinic: &Clinic,
    code: &str,
    credential: &[u8],
    stored: &[u8],
) -> Result<bool, ServiceError> {
    let activation = clinic
        .activation(code, &from("10.0.0.1"))
        .await?
        .ok_or_else(|| ServiceError::Invalid("the code was refused".into()))?;
    clinic
        .enrol_passkey(&activation, credential, &[9; 16], stored, &from("10.0.0.1"))
        .await
}

async fn activation_code_is_hashed_single_use_and_short_lived_s4_p10(env: &TestEnv) -> TestResult {
    let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000_000)));
    let app = env.app_with_clock(clock.clone()).await?;
    let clinic = app
        .create_clinic(&org(ORG_A), "Passnøkkelklinikken")
        .await?;
    let kari = clinic
        .add_patient(
            &ctx(ORG_A),
            &patient(&synthetic_fnr(810), "Kari Uten Bankid"),
        )
        .await?;
    let subject = SessionSubject::Patient(kari);

    let issued = clinic
        .issue_activation(&ctx(ORG_A), subject, IdentityProof::Passport)
        .await?;
    let code = issued.code.grouped();
    assert_eq!(
        issued.expires_at,
        Timestamp(app.now().as_micros() + ACTIVATION_LIFETIME_MICROS)
    );
    // Typed as people type it: lower case, spaces for dashes.
    let typed = code.to_lowercase().replace('-', " ");
    let marker = b"PASSKEY-MARKER-7f3a";
    assert!(enrol(&clinic, &typed, b"credential-1", marker).await?);

    // Used up: neither the same code nor a second enrolment with it works.
    assert!(clinic.activation(&code, &from("10.0.0.1")).await?.is_none());
    assert!(
        enrol(&clinic, &code, b"credential-2", marker)
            .await
            .is_err()
    );

    // The passkey opens for login; how identity was proven is on record.
    let stored = clinic
        .passkey_for_login(b"credential-1")
        .await?
        .ok_or("the enrolled passkey is not found")?;
    assert_eq!(stored.subject, subject);
    assert_eq!(stored.passkey, marker);
    let keys = clinic.passkeys_of(subject).await?;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].proof, IdentityProof::Passport.as_str());
    clinic
        .passkey_used(b"credential-1", subject, Some(b"PASSKEY-MARKER-counter-2"))
        .await?;
    assert!(clinic.passkeys_of(subject).await?[0].last_used_at.is_some());

    // Neither the code nor the passkey is anywhere in the stored bytes (X6).
    let bytes = env.clinic_bytes(ORG_A);
    for needle in [
        code.as_bytes(),
        code.replace('-', "").as_bytes(),
        &marker[..],
    ] {
        assert!(
            find_marker(&bytes, needle).is_empty(),
            "found {needle:?} in storage"
        );
    }
    assert!(find_marker(&bytes, b"PASSKEY-MARKER-counter-2").is_empty());

    // A code expires after 24 hours.
    let late = clinic
        .issue_activation(&ctx(ORG_A), subject, IdentityProof::DrivingLicence)
        .await?;
    clock.advance_micros(ACTIVATION_LIFETIME_MICROS + 60_000_000);
    assert!(
        clinic
            .activation(&late.code.grouped(), &from("10.0.0.1"))
            .await?
            .is_none()
    );

    // Deleting the patient's data (crypto-shredding) also ends their passkey.
    clinic.shred_patient(&ctx(ORG_A), kari).await?;
    assert!(clinic.passkey_for_login(b"credential-1").await?.is_none());

    let log: Vec<String> = clinic
        .store()
        .entries_for_patient(&kari.to_string())
        .await?
        .into_iter()
        .map(|e| e.action)
        .collect();
    for action in ["identity.activation_issued", "passkey.enrolled"] {
        assert!(
            log.iter().any(|a| a == action),
            "{action} missing from {log:?}"
        );
    }
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

async fn wrong_codes_lock_out_the_guessing_address_only_and_are_security_events_x3(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let clinic = app.create_clinic(&org(ORG_A), "Gjetteklinikken").await?;
    let p = clinic
        .add_patient(&ctx(ORG_A), &patient(&synthetic_fnr(811), "Ola Gjest"))
        .await?;
    let issued = clinic
        .issue_activation(
            &ctx(ORG_A),
            SessionSubject::Patient(p),
            IdentityProof::NationalIdCard,
        )
        .await?;
    let guesser = from("203.0.113.9");
    for guess in [
        "AAAA-BBBB-CCCC",
        "not a code",
        "",
        "0000-0000-0000",
        "ZZZZ-ZZZZ-ZZZZ",
    ] {
        assert!(!clinic.activation_locked_out(&guesser).await?);
        assert!(clinic.activation(guess, &guesser).await?.is_none());
    }
    assert!(clinic.activation_locked_out(&guesser).await?);
    // Someone else, at another address, is not locked out by the guesser.
    let desk = from("10.0.0.2");
    assert!(!clinic.activation_locked_out(&desk).await?);
    assert!(
        clinic
            .activation(&issued.code.grouped(), &desk)
            .await?
            .is_some()
    );
    let events = clinic.store().security_events(0, 100).await?;
    assert!(
        events
            .iter()
            .filter(|e| e.action == "login.failed"
                && e.source_address.as_deref() == Some("203.0.113.9"))
            .count()
            >= 5
    );
    app.close().await;
    Ok(())
}

async fn staff_invite_enrols_once_and_leaving_revokes_the_passkey_s2_s4(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    app.create_clinic(&org(ORG_A), "Invitasjonsklinikken")
        .await?;
    app.close().await;

    let args = [
        "admin",
        "invite",
        "--clinic",
        ORG_A,
        "--name",
        "Ada Administrator",
        "--role",
        "klinikkadministrator",
        "--url",
        "https://fortrolig.klinikk.example",
    ];
    let out = env.cli(&args);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let printed = stdout(&out);
    let link = printed
        .lines()
        .find(|l| l.starts_with("https://fortrolig.klinikk.example/k/923456783/aktiver#"))
        .ok_or_else(|| format!("no enrolment link in {printed}"))?;
    let code = link.rsplit('#').next().unwrap_or_default();

    let app = env.app().await?;
    let clinic = app.clinic(&org(ORG_A)).await?;
    let activation = clinic
        .activation(code, &from("10.0.0.1"))
        .await?
        .ok_or("the invite's code is refused")?;
    let SessionSubject::Staff(staff) = activation.subject else {
        return Err("an invite must enrol a member of staff".into());
    };
    assert_eq!(activation.proof, IdentityProof::OperatorInvite.as_str());
    assert_eq!(
        clinic.staff_member(staff).await?.name,
        PersonName::parse("Ada Administrator")?
    );
    assert_eq!(
        clinic.roles_at(staff, app.now()).await?,
        vec![Role::ClinicAdmin]
    );
    assert!(enrol(&clinic, code, b"staff-credential", b"staff-passkey").await?);
    assert!(
        clinic
            .passkey_for_login(b"staff-credential")
            .await?
            .is_some()
    );

    // A person who leaves: the passkey is revoked in the same transaction (S2).
    clinic.deactivate_staff(&ctx(ORG_A), staff).await?;
    assert!(
        clinic
            .passkey_for_login(b"staff-credential")
            .await?
            .is_none()
    );
    let keys = clinic.passkeys_of(SessionSubject::Staff(staff)).await?;
    assert!(keys[0].revoked_at.is_some());
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

both_backends!(
    activation_code_is_hashed_single_use_and_short_lived_s4_p10,
    wrong_codes_lock_out_the_guessing_address_only_and_are_security_events_x3,
    staff_invite_enrols_once_and_leaving_revokes_the_passkey_s2_s4,
);
