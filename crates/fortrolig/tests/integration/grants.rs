//! S2, X5: an authorisation covering several clinics is recorded and audited in each
//! covered clinic's own store under one shared id, with the covered clinics listed; ending
//! it ends it everywhere; a grant in one clinic never opens another clinic's data; only
//! the operator or an administrator of every covered clinic may grant across clinics.

use std::sync::Arc;

use fortrolig_domain::access::{DenyReason, Level, Role};
use fortrolig_domain::{
    Clock, ManualClock, PatientId, PersonName, PersonNumber, Source, StaffId, Timestamp,
};
use fortrolig_service::{AccessError, Clinic, Grantor, ServiceError, SessionSubject, StaffActor};
use fortrolig_web::{AppState, router};

use crate::support::{
    ORG_A, ORG_B, TestEnv, TestResult, both_backends, ctx, org, patient, stderr, stdout,
    synthetic_fnr,
};
use crate::web_support::{call, get};

const DAY: i64 = 86_400_000_000;
const ORG_C: &str = "974760673";

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn actor(staff: StaffId, level: Level) -> StaffActor {
    StaffActor {
        staff,
        level,
        source: Source::default(),
    }
}

fn denied<T>(result: Result<T, AccessError>) -> Option<DenyReason> {
    match result {
        Err(AccessError::Denied(reason)) => Some(reason),
        _ => None,
    }
}

/// Registers a person as staff (no role) with their identity number linked.
async fn register(clinic: &Clinic, name: &str, fnr: &PersonNumber) -> Res<StaffId> {
    let admin = ctx(clinic.org().as_str());
    let id = clinic
        .add_staff(&admin, &PersonName::parse(name)?, None)
        .await?;
    clinic.link_staff_identity(&admin, id, fnr).await?;
    Ok(id)
}

/// A patient with a care relationship to `staff`.
async fn cared_for(clinic: &Clinic, staff: StaffId, seed: u32) -> Res<PatientId> {
    let admin = ctx(clinic.org().as_str());
    let p = clinic
        .add_patient(&admin, &patient(&synthetic_fnr(seed), "Delt Pasient"))
        .await?;
    clinic.start_care(&admin, staff, p).await?;
    Ok(p)
}

async fn log_of(clinic: &Clinic) -> Res<Vec<fortrolig_audit::LogEntry>> {
    let size = clinic.audit_size().await?;
    Ok(clinic.store().entries_up_to(size).await?)
}

async fn one_authorisation_covers_several_clinics_and_ends_in_all_s2_x5(
    env: &TestEnv,
) -> TestResult {
    let start = Timestamp(1_800_000_000_000_000);
    let clock = Arc::new(ManualClock::new(start));
    let app = env.app_with_clock(clock.clone()).await?;
    let a = app
        .create_clinic(&org(ORG_A), "Legekontoret Sentrum")
        .await?;
    let b = app.create_clinic(&org(ORG_B), "Legekontoret Nord").await?;
    let c = app.create_clinic(&org(ORG_C), "Annen drift").await?;
    let fnr = PersonNumber::parse("01017040088")?;
    let gp_a = register(&a, "Dr. Delt", &fnr).await?;
    let gp_b = register(&b, "Dr. Delt", &fnr).await?;
    let gp_c = register(&c, "Dr. Delt", &fnr).await?;
    let pa = cared_for(&a, gp_a, 1401).await?;
    let pb = cared_for(&b, gp_b, 1402).await?;
    let pc = cared_for(&c, gp_c, 1403).await?;
    let until = Timestamp(start.0 + 365 * DAY);
    let high = |id| actor(id, Level::High);

    // Registered but without a role: nothing anywhere.
    assert_eq!(
        denied(a.health_access(&high(gp_a), pa, "x").await),
        Some(DenyReason::Role)
    );

    // Granted by the operator for A and B (in any order, repeats ignored).
    let grant = app
        .grant_across_clinics(
            &Grantor::OperatorCli,
            &fnr,
            Role::Doctor,
            start,
            until,
            &[org(ORG_B), org(ORG_A), org(ORG_B)],
            "to kontorer, samme drift",
        )
        .await?;
    assert_eq!(
        grant.holders,
        vec![(org(ORG_B), gp_b), (org(ORG_A), gp_a)],
        "in org-number order; each clinic knows the person by its own staff id"
    );
    // Recorded in each covered clinic's own store, under the shared id, with the list.
    for (clinic, staff) in [(&a, gp_a), (&b, gp_b)] {
        let held = clinic
            .authorisation(grant.id)
            .await?
            .ok_or("the grant is in each covered store")?;
        assert_eq!(held.staff, staff);
        assert_eq!(held.role, Role::Doctor);
        assert_eq!((held.valid_from, held.valid_until), (start, until));
        assert_eq!(held.covers, vec![org(ORG_B), org(ORG_A)]);
        assert!(held.is_shared() && held.ended_at.is_none());
        let review = clinic.access_review().await?;
        assert!(review.iter().any(|r| r.id == grant.id && r.is_shared()));
        // ... and in each clinic's own audit log.
        let log = log_of(clinic).await?;
        assert!(
            log.iter().any(|e| e.action == "authorisation.granted"
                && e.object.contains(&format!("grant:{}", grant.id))
                && e.object.contains(&format!("covers:{ORG_B},{ORG_A}"))
                && e.outcome == "granted"),
            "{log:?}"
        );
    }
    assert!(
        c.authorisation(grant.id).await?.is_none(),
        "C is not covered"
    );

    // Access in each covered clinic, to that clinic's patients only.
    assert!(a.health_access(&high(gp_a), pa, "x").await.is_ok());
    assert!(b.health_access(&high(gp_b), pb, "x").await.is_ok());
    // Not covered: no role in C, though the same person works there.
    assert_eq!(
        denied(c.health_access(&high(gp_c), pc, "x").await),
        Some(DenyReason::Role)
    );
    // Never across clinics: B's handle does not reach A's patient, grant or not.
    assert_eq!(
        denied(b.health_access(&high(gp_b), pa, "x").await),
        Some(DenyReason::NoWorkRelatedNeed)
    );
    assert!(b.store().patient(pa.as_bytes()).await?.is_none());
    assert!(matches!(
        b.read_patient(&ctx(ORG_B), pa).await,
        Err(ServiceError::NoSuchPatient)
    ));

    // Ending it (from either clinic) ends it in every covered clinic at once.
    clock.advance_micros(DAY);
    let ended = app
        .end_grant_everywhere(&Grantor::OperatorCli, &org(ORG_B), grant.id, "sluttet")
        .await?;
    assert_eq!(ended, vec![org(ORG_B), org(ORG_A)]);
    assert_eq!(
        denied(a.health_access(&high(gp_a), pa, "x").await),
        Some(DenyReason::Role)
    );
    assert_eq!(
        denied(b.health_access(&high(gp_b), pb, "x").await),
        Some(DenyReason::Role)
    );
    for clinic in [&a, &b] {
        let held = clinic.authorisation(grant.id).await?.ok_or("kept")?;
        assert_eq!(
            held.ended_at,
            Some(clock.now()),
            "history is kept, not deleted"
        );
        assert!(
            log_of(clinic)
                .await?
                .iter()
                .any(|e| e.action == "authorisation.ended"
                    && e.object == format!("grant:{} covers:{ORG_B},{ORG_A}", grant.id))
        );
    }
    assert!(
        app.end_grant_everywhere(&Grantor::OperatorCli, &org(ORG_A), grant.id, "igjen")
            .await
            .is_err(),
        "already ended everywhere"
    );

    // A clinic may withdraw its own part alone (its data, its decision); ending the
    // grant everywhere then ends what is left.
    let second = app
        .grant_across_clinics(
            &Grantor::OperatorCli,
            &fnr,
            Role::Doctor,
            clock.now(),
            until,
            &[org(ORG_A), org(ORG_B)],
            "ny periode",
        )
        .await?;
    b.end_grant(&ctx(ORG_B), second.id).await?;
    assert!(a.health_access(&high(gp_a), pa, "x").await.is_ok());
    assert_eq!(
        denied(b.health_access(&high(gp_b), pb, "x").await),
        Some(DenyReason::Role)
    );
    let ended = app
        .end_grant_everywhere(&Grantor::OperatorCli, &org(ORG_B), second.id, "slutt")
        .await?;
    assert_eq!(ended, vec![org(ORG_A)]);

    // Someone not registered in a clinic cannot be granted it there, and then nothing is
    // granted anywhere.
    let other = PersonNumber::parse("41017040071")?;
    let only_a = register(&a, "Bare A", &other).await?;
    let refused = app
        .grant_across_clinics(
            &Grantor::OperatorCli,
            &other,
            Role::Nurse,
            clock.now(),
            until,
            &[org(ORG_A), org(ORG_B)],
            "x",
        )
        .await;
    assert!(
        matches!(refused, Err(AccessError::Service(ServiceError::Invalid(_)))),
        "{refused:?}"
    );
    assert!(a.authorisation_history(only_a).await?.is_empty());
    // Dates are required and limited as for any authorisation.
    assert!(
        app.grant_across_clinics(
            &Grantor::OperatorCli,
            &fnr,
            Role::Doctor,
            clock.now(),
            Timestamp(clock.now().0 + 4 * 366 * DAY),
            &[org(ORG_A), org(ORG_B)],
            "for lenge",
        )
        .await
        .is_err()
    );
    assert_eq!(a.authorisation_history(gp_a).await?.len(), 2);

    for clinic in [&a, &b, &c] {
        clinic.verify_audit().await?;
    }
    app.close().await;
    Ok(())
}

async fn only_an_administrator_of_every_covered_clinic_may_grant_across_them_s2(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let a = app.create_clinic(&org(ORG_A), "Kontor A").await?;
    let b = app.create_clinic(&org(ORG_B), "Kontor B").await?;
    let now = app.now();
    let until = Timestamp(now.0 + 365 * DAY);
    let boss = PersonNumber::parse("41017040071")?;
    let boss_a = register(&a, "Ada Administrator", &boss).await?;
    let boss_b = register(&b, "Ada Administrator", &boss).await?;
    a.grant_role(&ctx(ORG_A), boss_a, Role::ClinicAdmin, now, until)
        .await?;
    let gp = PersonNumber::parse("01017040088")?;
    let gp_a = register(&a, "Dr. Delt", &gp).await?;
    register(&b, "Dr. Delt", &gp).await?;
    let admin = |level| Grantor::Administrator {
        number: boss.clone(),
        level,
        source: Source {
            session: Some("session:test".into()),
            address: Some("192.0.2.1".into()),
        },
    };
    let both = [org(ORG_B), org(ORG_A)];

    // Administrator in A only: refused for A and B together; nothing is granted in A,
    // and B records the attempt as a security event.
    let refused = app
        .grant_across_clinics(
            &admin(Level::High),
            &gp,
            Role::Doctor,
            now,
            until,
            &both,
            "x",
        )
        .await;
    assert_eq!(denied(refused), Some(DenyReason::Role));
    assert!(a.authorisation_history(gp_a).await?.is_empty());
    let events = b.store().security_events(0, 100).await?;
    assert!(
        events.iter().any(|e| e.action == "authorisation.granted"
            && e.outcome == "denied"
            && e.actor_id == format!("staff:{boss_b}")
            && e.source_address.as_deref() == Some("192.0.2.1")),
        "{events:?}"
    );
    assert!(
        a.store().security_events(0, 100).await?.is_empty(),
        "A allowed it"
    );
    // Alone for A, where the person is administrator, it is allowed.
    let own = app
        .grant_across_clinics(
            &admin(Level::High),
            &gp,
            Role::Doctor,
            now,
            until,
            &[org(ORG_A)],
            "x",
        )
        .await?;
    assert_eq!(own.clinics(), vec![org(ORG_A)]);

    // Administrator in both: allowed at level high, sent to step up at substantial.
    b.grant_role(&ctx(ORG_B), boss_b, Role::ClinicAdmin, now, until)
        .await?;
    assert!(matches!(
        app.grant_across_clinics(
            &admin(Level::Substantial),
            &gp,
            Role::Doctor,
            now,
            until,
            &both,
            "x"
        )
        .await,
        Err(AccessError::StepUp(Level::High))
    ));
    let grant = app
        .grant_across_clinics(
            &admin(Level::High),
            &gp,
            Role::Doctor,
            now,
            until,
            &both,
            "x",
        )
        .await?;
    for (clinic, boss_here) in [(&a, boss_a), (&b, boss_b)] {
        let held = clinic.authorisation(grant.id).await?.ok_or("granted")?;
        assert_eq!(held.granted_by, format!("staff:{boss_here}"));
    }
    // The administrator's access review shows which clinics each authorisation covers.
    let routes = router(AppState::new(app.clone()), false);
    let (token, _) = a
        .start_session(
            SessionSubject::Staff(boss_a),
            Level::High,
            "test",
            None,
            None,
            &Source::default(),
        )
        .await?;
    let review = call(
        &routes,
        get(
            &format!("/k/{ORG_A}/ansatt/tilgangsgjennomgang"),
            Some(&format!("fortrolig_okt={}", token.as_str())),
        )?,
    )
    .await?;
    assert!(
        review.body.contains(&format!("<td>{ORG_B}, {ORG_A}</td>"))
            && review.body.contains("<td>Denne virksomheten</td>"),
        "{}",
        review.body
    );
    // Ending everywhere needs the same authority, and is recorded under the same actor.
    let ended = app
        .end_grant_everywhere(&admin(Level::High), &org(ORG_A), grant.id, "slutt")
        .await?;
    assert_eq!(ended, both.to_vec());
    a.verify_audit().await?;
    b.verify_audit().await?;
    app.close().await;
    Ok(())
}

async fn authorisations_across_clinics_from_the_command_line_s2(env: &TestEnv) -> TestResult {
    let run = |args: &[&str]| {
        let out = env.cli(args);
        if out.status.success() {
            Ok(stdout(&out))
        } else {
            Err(format!("{args:?}: {}", stderr(&out)))
        }
    };
    for (number, name) in [(ORG_A, "Kontor A"), (ORG_B, "Kontor B")] {
        run(&["clinic", "create", "--org-number", number, "--name", name])?;
    }
    let fnr = "01017040088";
    let mut ids = Vec::new();
    for clinic in [ORG_A, ORG_B] {
        // Registered without a role, ready for a grant across clinics.
        let out = run(&[
            "staff", "add", "--clinic", clinic, "--name", "Dr. Delt", "--fnr", fnr,
        ])?;
        assert!(out.contains("without a role"), "{out}");
        ids.push(out.split_whitespace().nth(1).ok_or("staff id")?.to_owned());
    }
    let out = run(&[
        "staff", "grant", "--clinic", ORG_A, "--clinic", ORG_B, "--fnr", fnr, "--role", "lege",
        "--days", "30",
    ])?;
    assert!(
        out.contains(&format!("covers clinic(s) {ORG_B},{ORG_A}"))
            && out.contains(&format!("clinic {ORG_B}: staff {}", ids[1])),
        "{out}"
    );
    let grant = out.split_whitespace().nth(1).ok_or("grant id")?.to_owned();
    let listed = run(&["staff", "grants", "--clinic", ORG_B, "--staff", &ids[1]])?;
    assert!(
        listed.starts_with(&format!("{grant}\tlege\t"))
            && listed
                .trim_end()
                .ends_with(&format!("in force\t{ORG_B},{ORG_A}")),
        "{listed}"
    );

    // Refused without writing: a clinic that does not exist, a bad role, too long.
    let bad = env.cli(&[
        "staff", "grant", "--clinic", ORG_A, "--clinic", ORG_C, "--fnr", fnr, "--role", "lege",
    ]);
    assert!(!bad.status.success());
    let bad = env.cli(&[
        "staff", "grant", "--clinic", ORG_A, "--fnr", fnr, "--role", "sjef",
    ]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    let bad = env.cli(&[
        "staff", "grant", "--clinic", ORG_A, "--fnr", fnr, "--role", "lege", "--days", "2000",
    ]);
    assert_eq!(bad.status.code(), Some(2));

    let out = run(&["staff", "end-grant", "--clinic", ORG_A, "--grant", &grant])?;
    assert!(
        out.contains(&format!("ended in clinic(s) {ORG_B},{ORG_A}")),
        "{out}"
    );
    for (clinic, id) in [(ORG_A, &ids[0]), (ORG_B, &ids[1])] {
        let listed = run(&["staff", "grants", "--clinic", clinic, "--staff", id])?;
        assert_eq!(listed.lines().count(), 1, "{listed}");
        assert!(listed.contains("\tended "), "{listed}");
    }
    let again = env.cli(&["staff", "end-grant", "--clinic", ORG_B, "--grant", &grant]);
    assert!(!again.status.success(), "already ended");
    let audit = env.cli(&["audit", "verify"]);
    assert!(audit.status.success(), "{}", stderr(&audit));
    Ok(())
}

both_backends!(
    one_authorisation_covers_several_clinics_and_ends_in_all_s2_x5,
    only_an_administrator_of_every_covered_clinic_may_grant_across_them_s2,
    authorisations_across_clinics_from_the_command_line_s2
);
