//! X6: personal data is never written in plaintext to a store, a backup or the logs.

use fortrolig_domain::access::{Level, Role};
use fortrolig_domain::{Email, NewPatient, PersonName, PersonNumber, Phone, Source, Timestamp};
use fortrolig_service::StaffActor;

use crate::support::{
    ORG_A, TestEnv, TestResult, both_backends, ctx, find_marker, org, random_hex, stderr, stdout,
    synthetic_fnr,
};

async fn no_marker_in_stores_backups_or_logs_x6(env: &TestEnv) -> TestResult {
    let marker = format!("Markør{}", random_hex(8));
    let email_marker = format!("m{}", random_hex(8));
    let phone = format!(
        "9{}",
        1_000_000 + u32::from_str_radix(&random_hex(2), 16)? * 3
    );
    let fnr = synthetic_fnr(u32::from_str_radix(&random_hex(3), 16)?);
    let fnr2 = synthetic_fnr(u32::from_str_radix(&random_hex(3), 16)? + 7);

    // Through the library ...
    let app = env.app().await?;
    let clinic = app.create_clinic(&org(ORG_A), "Testklinikken").await?;
    let id = clinic
        .add_patient(
            &ctx(ORG_A),
            &NewPatient {
                person_number: PersonNumber::parse(&fnr)?,
                name: PersonName::parse(&format!("Kari {marker}"))?,
                phone: Some(Phone::parse(&phone)?),
                email: Some(Email::parse(&format!("{email_marker}@example.no"))?),
            },
        )
        .await?;
    let read = clinic.read_patient(&ctx(ORG_A), id).await?;
    assert!(read.name.as_str().contains(&marker), "the data reads back");
    // Staff names and emergency-access reasons are personal data too.
    let staff_marker = format!("Ansatt{}", random_hex(8));
    let reason_marker = format!("Grunn{}", random_hex(8));
    let doctor = clinic
        .add_staff(
            &ctx(ORG_A),
            &PersonName::parse(&format!("Dr {staff_marker}"))?,
            None,
        )
        .await?;
    let now = app.now();
    clinic
        .grant_role(
            &ctx(ORG_A),
            doctor,
            Role::Doctor,
            now,
            Timestamp(now.0 + 86_400_000_000),
        )
        .await?;
    let who = StaffActor {
        staff: doctor,
        level: Level::High,
        source: Source::default(),
    };
    clinic
        .emergency_access(&who, id, &format!("Akutt: {reason_marker}"), 30)
        .await?;
    assert_eq!(
        clinic.emergency_reviews_pending().await?[0].reason,
        format!("Akutt: {reason_marker}")
    );
    // A team's name is free text that could name a patient or a condition.
    let team_marker = format!("Team{}", random_hex(8));
    let team = clinic.create_team(&ctx(ORG_A), &team_marker).await?;
    assert_eq!(clinic.team(team).await?.name, team_marker);
    // A request under the patient's rights, its answer and a correction are free text
    // (P9): sealed like messages.
    let request_marker = format!("Forespørsel{}", random_hex(8));
    let answer_marker = format!("Svar{}", random_hex(8));
    let correction_marker = format!("Rettelse{}", random_hex(8));
    let me = fortrolig_service::PatientActor {
        patient: id,
        level: Level::High,
        source: Source::default(),
    };
    let access = clinic.health_access(&who, id, "svar").await?;
    for (kind, answer) in [
        (
            fortrolig_domain::requests::RequestKind::Correction,
            fortrolig_service::Answer::Grant {
                text: correction_marker.clone(),
                message: None,
            },
        ),
        (
            fortrolig_domain::requests::RequestKind::Restriction,
            fortrolig_service::Answer::Refuse {
                reason: answer_marker.clone(),
            },
        ),
    ] {
        let text = fortrolig_domain::messaging::MessageText::parse(&request_marker)?;
        let request = clinic.file_request(&me, kind, None, &text).await?;
        access.answer_request(request, answer).await?;
    }
    assert!(
        clinic
            .my_requests(&me)
            .await?
            .iter()
            .any(|r| r.answer.as_deref() == Some(answer_marker.as_str()))
    );
    drop(access);
    app.close().await;

    // ... and through the command line, with debug logging on.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fortrolig"))
        .args([
            "patient",
            "add",
            "--clinic",
            ORG_A,
            "--fnr",
            &fnr2,
            "--name",
            &format!("Ola {marker}2"),
        ])
        .args(env.storage_args())
        .env("RUST_LOG", "debug")
        .output()?;
    assert!(out.status.success(), "{}", stderr(&out));
    let mut logs = vec![
        ("cli stdout".to_owned(), out.stdout.clone()),
        ("cli stderr".to_owned(), out.stderr.clone()),
    ];

    let backup = env.dir.path().join("backup.frt");
    let out = env.cli(&["backup", "--out", backup.to_str().unwrap_or_default()]);
    assert!(out.status.success(), "{}", stderr(&out));
    logs.push(("backup stdout".into(), out.stdout.clone()));
    logs.push(("backup stderr".into(), out.stderr.clone()));

    let mut everything = env.stored_bytes();
    assert!(
        everything.iter().any(|(n, _)| n.ends_with("backup.frt")),
        "the backup is scanned"
    );
    if env.pg_url.is_some() {
        assert!(
            everything.iter().any(|(n, _)| n.contains("_c923456783")),
            "the clinic database is dumped"
        );
    }
    everything.extend(logs);
    for needle in [
        marker.as_str(),
        email_marker.as_str(),
        phone.as_str(),
        fnr.as_str(),
        fnr2.as_str(),
        staff_marker.as_str(),
        reason_marker.as_str(),
        team_marker.as_str(),
        request_marker.as_str(),
        answer_marker.as_str(),
        correction_marker.as_str(),
    ] {
        let found = find_marker(&everything, needle.as_bytes());
        assert!(found.is_empty(), "plaintext {needle:?} found in {found:?}");
    }
    assert!(stdout(&out).contains("backup written"));
    Ok(())
}

both_backends!(no_marker_in_stores_backups_or_logs_x6);
