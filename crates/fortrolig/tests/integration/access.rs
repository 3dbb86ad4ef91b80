//! S1, S2, S3, X2, X3: health data only with a role, a work-related need and level high;
//! emergency access is recorded, time-limited and reviewed; refusals are security events;
//! authorisations are time-limited and end when a person leaves.

use std::sync::Arc;

use fortrolig_domain::access::{DenyReason, Level, Need, Role};
use fortrolig_domain::{ManualClock, PersonName, Source, Timestamp};
use fortrolig_service::{AccessError, ServiceError, StaffActor};

use crate::support::{
    ORG_A, ORG_B, TestEnv, TestResult, both_backends, ctx, org, patient, synthetic_fnr,
};

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;

fn actor(staff: fortrolig_domain::StaffId, level: Level) -> StaffActor {
    StaffActor {
        staff,
        level,
        source: Source {
            session: Some("test".into()),
            address: Some("127.0.0.1".into()),
        },
    }
}

fn denied(result: Result<impl std::fmt::Debug, AccessError>) -> Option<DenyReason> {
    match result {
        Err(AccessError::Denied(reason)) => Some(reason),
        _ => None,
    }
}

async fn health_data_needs_role_need_and_level_and_refusals_are_audited_s1_s3_x2_x3(
    env: &TestEnv,
) -> TestResult {
    let start = Timestamp(1_800_000_000_000_000);
    let clock = Arc::new(ManualClock::new(start));
    let app = env.app_with_clock(clock.clone()).await?;
    let clinic = app.create_clinic(&org(ORG_A), "Tilgangsklinikken").await?;
    let admin = ctx(ORG_A);
    let p1 = clinic
        .add_patient(&admin, &patient(&synthetic_fnr(501), "Pasient En"))
        .await?;
    let p2 = clinic
        .add_patient(&admin, &patient(&synthetic_fnr(502), "Pasient To"))
        .await?;
    let name = |n: &str| PersonName::parse(n);
    let doctor = clinic.add_staff(&admin, &name("Dr. Lege")?, None).await?;
    let secretary = clinic
        .add_staff(&admin, &name("Sekretær Sekk")?, None)
        .await?;
    let nurse = clinic
        .add_staff(&admin, &name("Sykepleier Syk")?, None)
        .await?;
    let year = Timestamp(start.0 + 365 * DAY);
    clinic
        .grant_role(&admin, doctor, Role::Doctor, start, year)
        .await?;
    clinic
        .grant_role(&admin, secretary, Role::Secretary, start, year)
        .await?;
    clinic
        .grant_role(
            &admin,
            nurse,
            Role::Nurse,
            start,
            Timestamp(start.0 + 2 * DAY),
        )
        .await?;
    clinic.start_care(&admin, doctor, p1).await?;
    clinic.start_care(&admin, nurse, p1).await?;

    // Care relationship + level high: allowed, and the read is audited.
    let access = clinic
        .health_access(&actor(doctor, Level::High), p1, "behandling")
        .await?;
    assert_eq!(access.need(), Need::CareRelationship);
    assert_eq!(access.read_patient().await?.name.as_str(), "Pasient En");
    // Level substantial: sent to step up, not refused.
    assert!(matches!(
        clinic
            .health_access(&actor(doctor, Level::Substantial), p1, "behandling")
            .await,
        Err(AccessError::StepUp(Level::High))
    ));
    // No care relationship: refused, and the attempt is a security event.
    assert_eq!(
        denied(
            clinic
                .health_access(&actor(doctor, Level::High), p2, "nysgjerrig")
                .await
        ),
        Some(DenyReason::NoWorkRelatedNeed)
    );
    // A secretary never reads health data, care relationship or not.
    clinic.start_care(&admin, secretary, p1).await.ok();
    assert_eq!(
        denied(
            clinic
                .health_access(&actor(secretary, Level::High), p1, "timebok")
                .await
        ),
        Some(DenyReason::Role)
    );
    assert_eq!(
        denied(
            clinic
                .emergency_access(
                    &actor(secretary, Level::High),
                    p2,
                    "akutt situasjon i resepsjonen",
                    30
                )
                .await
        ),
        Some(DenyReason::Role)
    );

    let entries = clinic.store().entries_for_patient(&p2.to_string()).await?;
    let refusals: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "access.denied")
        .collect();
    assert_eq!(refusals.len(), 2, "each refusal is logged: {refusals:?}");
    assert!(
        refusals
            .iter()
            .all(|e| e.outcome == "denied" && e.actor_id.starts_with("staff:"))
    );

    // Emergency access: recorded, flagged, time-limited, reviewed.
    assert!(matches!(
        clinic
            .emergency_access(&actor(doctor, Level::High), p2, "kort", 30)
            .await,
        Err(AccessError::Service(ServiceError::Invalid(_)))
    ));
    let emergency = clinic
        .emergency_access(
            &actor(doctor, Level::High),
            p2,
            "Pasienten besvimte i venterommet",
            60,
        )
        .await?;
    assert_eq!(emergency.need(), Need::Emergency);
    assert_eq!(emergency.read_patient().await?.name.as_str(), "Pasient To");
    let again = clinic
        .health_access(&actor(doctor, Level::High), p2, "oppfølging")
        .await?;
    assert_eq!(
        again.need(),
        Need::Emergency,
        "the grant holds within its time"
    );
    let pending = clinic.emergency_reviews_pending().await?;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].reason, "Pasienten besvimte i venterommet");
    assert!(
        clinic
            .store()
            .entries_for_patient(&p2.to_string())
            .await?
            .iter()
            .any(|e| e.action == "access.emergency" && e.reason.contains("til gjennomgang"))
    );
    clock.advance_micros(2 * HOUR);
    assert_eq!(
        denied(
            clinic
                .health_access(&actor(doctor, Level::High), p2, "etterpå")
                .await
        ),
        Some(DenyReason::NoWorkRelatedNeed),
        "emergency access expires"
    );
    clinic
        .review_emergency(&admin, pending[0].id, "Begrunnet, i orden")
        .await?;
    assert!(clinic.emergency_reviews_pending().await?.is_empty());
    assert!(
        clinic
            .review_emergency(&admin, pending[0].id, "igjen")
            .await
            .is_err()
    );

    // Time-limited authorisation: the nurse's grant ran out after two days.
    assert!(
        clinic
            .health_access(&actor(nurse, Level::High), p1, "stell")
            .await
            .is_ok()
    );
    clock.advance_micros(2 * DAY);
    assert_eq!(
        denied(
            clinic
                .health_access(&actor(nurse, Level::High), p1, "stell")
                .await
        ),
        Some(DenyReason::Role)
    );

    // A person who leaves loses access at once; the history is kept (S2).
    clinic.deactivate_staff(&admin, doctor).await?;
    assert_eq!(
        denied(
            clinic
                .health_access(&actor(doctor, Level::High), p1, "behandling")
                .await
        ),
        Some(DenyReason::Role)
    );
    let history = clinic.authorisation_history(doctor).await?;
    assert_eq!(history.len(), 1);
    assert!(history[0].ended_at.is_some());
    assert!(
        clinic
            .grant_role(&admin, doctor, Role::Doctor, clock_now(&clock), year)
            .await
            .is_err(),
        "no grants to someone who left"
    );
    let review = clinic.access_review().await?;
    assert!(
        review.iter().all(|a| a.staff == secretary),
        "the review lists what is in force: {review:?}"
    );

    // Staff of one clinic have no roles at another: always denied there.
    let other = app.create_clinic(&org(ORG_B), "Annen klinikk").await?;
    let q = other
        .add_patient(&ctx(ORG_B), &patient(&synthetic_fnr(503), "Annen Pasient"))
        .await?;
    assert_eq!(
        denied(
            other
                .health_access(&actor(secretary, Level::High), q, "x")
                .await
        ),
        Some(DenyReason::Role)
    );

    clinic.verify_audit().await?;
    other.verify_audit().await?;
    app.close().await;
    Ok(())
}

fn clock_now(clock: &ManualClock) -> Timestamp {
    use fortrolig_domain::Clock;
    clock.now()
}

async fn authorisations_must_be_time_limited_s2(env: &TestEnv) -> TestResult {
    let app = env.app().await?;
    let clinic = app.create_clinic(&org(ORG_A), "Klinikk").await?;
    let admin = ctx(ORG_A);
    let person = clinic
        .add_staff(&admin, &PersonName::parse("Ny Ansatt")?, None)
        .await?;
    let now = app.now();
    assert!(
        clinic
            .grant_role(&admin, person, Role::Doctor, now, now)
            .await
            .is_err()
    );
    assert!(
        clinic
            .grant_role(
                &admin,
                person,
                Role::Doctor,
                now,
                Timestamp(now.0 + 4 * 366 * DAY)
            )
            .await
            .is_err()
    );
    clinic
        .grant_role(
            &admin,
            person,
            Role::Doctor,
            now,
            Timestamp(now.0 + 365 * DAY),
        )
        .await?;
    assert_eq!(
        clinic.staff_member(person).await?.name.as_str(),
        "Ny Ansatt"
    );
    app.close().await;
    Ok(())
}

async fn yearly_access_review_reminds_confirms_and_revokes_s2(env: &TestEnv) -> TestResult {
    let start = Timestamp(1_800_000_000_000_000);
    let clock = Arc::new(ManualClock::new(start));
    let app = env.app_with_clock(clock.clone()).await?;
    let clinic = app
        .create_clinic(&org(ORG_A), "Gjennomgangsklinikken")
        .await?;
    let admin = ctx(ORG_A);
    let until = Timestamp(start.0 + 3 * 365 * DAY);
    let keep = clinic
        .add_staff(&admin, &PersonName::parse("Blir Værende")?, None)
        .await?;
    let go = clinic
        .add_staff(&admin, &PersonName::parse("Skal Ut")?, None)
        .await?;
    let keep_grant = clinic
        .grant_role(&admin, keep, Role::Doctor, start, until)
        .await?;
    let go_grant = clinic
        .grant_role(&admin, go, Role::Secretary, start, until)
        .await?;
    assert!(
        clinic.reviews_due().await?.is_empty(),
        "nothing is due in the first year"
    );

    clock.advance_micros(366 * DAY);
    let due: Vec<_> = clinic
        .reviews_due()
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(due.len(), 2, "both are due after a year");
    clinic.review_grant(&admin, keep_grant, true).await?;
    clinic.review_grant(&admin, go_grant, false).await?;
    assert!(clinic.reviews_due().await?.is_empty());
    assert!(
        clinic.roles_at(go, clock_now(&clock)).await?.is_empty(),
        "a revoked grant ends at once"
    );
    assert_eq!(
        clinic.roles_at(keep, clock_now(&clock)).await?,
        vec![Role::Doctor]
    );
    assert!(
        clinic.review_grant(&admin, go_grant, true).await.is_err(),
        "an ended grant is not reviewed"
    );

    clock.advance_micros(366 * DAY);
    let due: Vec<_> = clinic
        .reviews_due()
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(
        due,
        vec![keep_grant],
        "a year after its confirmation it is due again"
    );
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

async fn clinic_can_require_training_before_first_access_s6(env: &TestEnv) -> TestResult {
    let app = env.app().await?;
    let clinic = app
        .create_clinic(&org(ORG_A), "Opplæringsklinikken")
        .await?;
    let admin = ctx(ORG_A);
    let p = clinic
        .add_patient(&admin, &patient(&synthetic_fnr(1101), "Pasient Kurs"))
        .await?;
    let doctor = clinic
        .add_staff(&admin, &PersonName::parse("Ny Lege")?, None)
        .await?;
    let now = app.now();
    clinic
        .grant_role(
            &admin,
            doctor,
            Role::Doctor,
            now,
            Timestamp(now.0 + 30 * DAY),
        )
        .await?;
    clinic.start_care(&admin, doctor, p).await?;
    assert!(
        clinic
            .health_access(&actor(doctor, Level::High), p, "behandling")
            .await
            .is_ok(),
        "not required by default"
    );
    app.close().await;

    let out = env.cli(&[
        "staff",
        "require-training",
        "--clinic",
        ORG_A,
        "--required",
        "true",
    ]);
    assert!(out.status.success(), "{}", crate::support::stderr(&out));
    let app = env.app().await?;
    let clinic = app.clinic(&org(ORG_A)).await?;
    assert_eq!(
        denied(
            clinic
                .health_access(&actor(doctor, Level::High), p, "behandling")
                .await
        ),
        Some(DenyReason::TrainingMissing)
    );
    assert_eq!(
        denied(
            clinic
                .emergency_access(
                    &actor(doctor, Level::High),
                    p,
                    "akutt, pasienten er dårlig",
                    30
                )
                .await
        ),
        Some(DenyReason::TrainingMissing)
    );
    app.close().await;
    let out = env.cli(&[
        "staff",
        "trained",
        "--clinic",
        ORG_A,
        "--staff",
        &doctor.to_string(),
    ]);
    assert!(out.status.success(), "{}", crate::support::stderr(&out));
    let app = env.app().await?;
    let clinic = app.clinic(&org(ORG_A)).await?;
    assert!(clinic.has_training(doctor).await?);
    assert!(
        clinic
            .health_access(&actor(doctor, Level::High), p, "behandling")
            .await
            .is_ok(),
        "trained: allowed"
    );
    let refusals = clinic.store().entries_for_patient(&p.to_string()).await?;
    assert_eq!(
        refusals
            .iter()
            .filter(|e| e.reason.contains("training-missing"))
            .count(),
        2,
        "each refusal is logged"
    );
    app.close().await;
    Ok(())
}

both_backends!(
    health_data_needs_role_need_and_level_and_refusals_are_audited_s1_s3_x2_x3,
    authorisations_must_be_time_limited_s2,
    yearly_access_review_reminds_confirms_and_revokes_s2,
    clinic_can_require_training_before_first_access_s6
);
