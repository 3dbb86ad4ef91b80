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

/// Every entry of a clinic's log, oldest first.
async fn log_of(
    clinic: &fortrolig_service::Clinic,
) -> Result<Vec<fortrolig_audit::LogEntry>, Box<dyn std::error::Error + Send + Sync>> {
    let size = clinic.audit_size().await?;
    Ok(clinic.store().entries_up_to(size).await?)
}

async fn team_member_reaches_the_teams_patients_non_and_former_members_do_not_s1(
    env: &TestEnv,
) -> TestResult {
    let start = Timestamp(1_800_000_000_000_000);
    let clock = Arc::new(ManualClock::new(start));
    let app = env.app_with_clock(clock.clone()).await?;
    let clinic = app.create_clinic(&org(ORG_A), "Teamklinikken").await?;
    let admin = ctx(ORG_A);
    let p1 = clinic
        .add_patient(&admin, &patient(&synthetic_fnr(1201), "Team Pasient"))
        .await?;
    let p2 = clinic
        .add_patient(&admin, &patient(&synthetic_fnr(1202), "Annen Pasient"))
        .await?;
    let year = Timestamp(start.0 + 365 * DAY);
    let mut people = Vec::new();
    for (name, role) in [
        ("Dr. Medlem", Role::Doctor),
        ("Dr. Utenfor", Role::Doctor),
        ("Sykepleier Slutter", Role::Nurse),
        ("Sekretær Medlem", Role::Secretary),
    ] {
        let id = clinic
            .add_staff(&admin, &PersonName::parse(name)?, None)
            .await?;
        clinic.grant_role(&admin, id, role, start, year).await?;
        people.push(id);
    }
    let [member, outsider, leaver, secretary] = people[..] else {
        return Err("four people".into());
    };
    let team = clinic.create_team(&admin, "Diabetesteamet").await?;
    assert!(
        clinic
            .create_team(&admin, " diabetesteamet ")
            .await
            .is_err(),
        "team names are unique in the clinic"
    );
    for id in [member, leaver, secretary] {
        clinic.add_team_member(&admin, team, id).await?;
    }
    assert!(
        clinic.add_team_member(&admin, team, member).await.is_err(),
        "already a member"
    );
    let health = |who, p| {
        let clinic = clinic.clone();
        async move {
            clinic
                .health_access(&actor(who, Level::High), p, "behandling")
                .await
                .map(|a| (a.need(), a.team()))
        }
    };

    // Members of a team without a relationship to the patient reach nothing yet.
    assert_eq!(
        denied(health(member, p1).await),
        Some(DenyReason::NoWorkRelatedNeed)
    );
    clinic.start_team_care(&admin, team, p1).await?;
    assert!(
        clinic.start_team_care(&admin, team, p1).await.is_err(),
        "one relationship in force at a time"
    );

    // A current member reaches the team's patient, through `HealthAccess`, and the read
    // names the team.
    let access = clinic
        .health_access(&actor(member, Level::High), p1, "behandling")
        .await?;
    assert_eq!(access.need(), Need::CareRelationship);
    assert_eq!(access.team(), Some(team));
    assert_eq!(access.read_patient().await?.name.as_str(), "Team Pasient");
    let reads = clinic.store().entries_for_patient(&p1.to_string()).await?;
    assert!(
        reads.iter().any(|e| e.action == "patient.read"
            && e.actor_id == format!("staff:{member}")
            && e.reason.contains(&format!("team:{team}"))),
        "{reads:?}"
    );
    // ... but not the team's other patients that it does not treat.
    assert_eq!(
        denied(health(member, p2).await),
        Some(DenyReason::NoWorkRelatedNeed)
    );
    // The workspace list has the team's patients.
    assert_eq!(
        clinic
            .store()
            .patients_in_care_of(member.as_bytes())
            .await?,
        vec![p1.as_bytes().to_vec()]
    );
    // Not a member: refused, and the refusal is a security event.
    assert_eq!(
        denied(health(outsider, p1).await),
        Some(DenyReason::NoWorkRelatedNeed)
    );
    // Role rules still hold: a secretary in the team never reads health data.
    assert_eq!(denied(health(secretary, p1).await), Some(DenyReason::Role));
    // Level rules still hold: sent to step up at substantial.
    assert!(matches!(
        clinic
            .health_access(&actor(member, Level::Substantial), p1, "behandling")
            .await,
        Err(AccessError::StepUp(Level::High))
    ));
    // The emergency path is still there for someone outside the team.
    let emergency = clinic
        .emergency_access(
            &actor(outsider, Level::High),
            p1,
            "Akutt forverring mens teamet er borte",
            30,
        )
        .await?;
    assert_eq!(emergency.need(), Need::Emergency);
    assert_eq!(emergency.team(), None);

    // Removing a member ends their access at once; the others keep theirs.
    assert_eq!(
        health(leaver, p1).await?,
        (Need::CareRelationship, Some(team))
    );
    clinic.remove_team_member(&admin, team, leaver).await?;
    assert_eq!(
        denied(health(leaver, p1).await),
        Some(DenyReason::NoWorkRelatedNeed),
        "a former member has no access"
    );
    assert!(
        clinic
            .remove_team_member(&admin, team, leaver)
            .await
            .is_err(),
        "no longer a member"
    );
    assert!(health(member, p1).await.is_ok());

    // Training rules still hold on the team path (S6).
    clinic.set_training_required(&admin, true).await?;
    assert_eq!(
        denied(health(member, p1).await),
        Some(DenyReason::TrainingMissing)
    );
    clinic
        .record_training(&admin, member, fortrolig_service::BASIC_COURSE)
        .await?;
    assert!(health(member, p1).await.is_ok());

    // Ending the team's relationship ends every member's access at once.
    clock.advance_micros(HOUR);
    clinic.end_team_care(&admin, team, p1).await?;
    assert_eq!(
        denied(health(member, p1).await),
        Some(DenyReason::NoWorkRelatedNeed)
    );
    assert!(
        clinic
            .store()
            .patients_in_care_of(member.as_bytes())
            .await?
            .is_empty()
    );
    assert!(clinic.end_team_care(&admin, team, p1).await.is_err());

    // A new relationship is a new spell; the history keeps both, and every membership.
    clinic.start_team_care(&admin, team, p1).await?;
    assert!(health(member, p1).await.is_ok());
    let care = clinic.team_care_history(team).await?;
    assert_eq!(care.len(), 2);
    assert!(care[0].ended_at.is_some() && care[1].ended_at.is_none());
    let current = clinic.team(team).await?;
    assert_eq!(current.name, "Diabetesteamet");
    assert_eq!(current.patients, vec![p1]);
    assert_eq!(current.members.len(), 2, "member and secretary");

    // Someone who leaves the clinic leaves the team too (S2).
    clinic.deactivate_staff(&admin, member).await?;
    assert_eq!(denied(health(member, p1).await), Some(DenyReason::Role));
    let history = clinic.team_membership_history(team).await?;
    assert_eq!(history.len(), 3, "nothing is deleted");
    assert!(
        history
            .iter()
            .filter(|m| m.staff == member || m.staff == leaver)
            .all(|m| m.ended_at.is_some())
    );
    assert!(
        clinic.add_team_member(&admin, team, member).await.is_err(),
        "someone who left cannot join"
    );

    // Every change is in the log, as one entry each.
    let log = log_of(&clinic).await?;
    let count = |action: &str| log.iter().filter(|e| e.action == action).count();
    assert_eq!(count("team.created"), 1);
    assert_eq!(count("team.member_added"), 3);
    assert_eq!(count("team.member_removed"), 1);
    assert_eq!(count("team.care_started"), 2);
    assert_eq!(count("team.care_ended"), 1);
    assert!(
        log.iter()
            .filter(|e| e.action.starts_with("team."))
            .all(
                |e| e.object.starts_with(&format!("team:{team}")) && !e.object.contains("Diabetes")
            ),
        "the log names the team by id only"
    );
    assert!(
        log.iter()
            .filter(|e| e.action.starts_with("team.care"))
            .all(|e| e.patient.as_deref() == Some(p1.to_string().as_str())),
        "the team's care of a patient is in that patient's log (P9)"
    );
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

/// Reads `team <id>`, `staff <id>` or `patient <id>` from a command's output.
fn printed_id(out: &std::process::Output, word: &str) -> Result<String, String> {
    crate::support::stdout(out)
        .split_whitespace()
        .skip_while(|w| *w != word)
        .nth(1)
        .map(str::to_owned)
        .ok_or_else(|| format!("no {word} id in {:?}", crate::support::stdout(out)))
}

async fn teams_from_the_command_line_s1(env: &TestEnv) -> TestResult {
    let run = |args: &[&str]| {
        let out = env.cli(args);
        if out.status.success() {
            Ok(out)
        } else {
            Err(format!("{args:?}: {}", crate::support::stderr(&out)))
        }
    };
    run(&[
        "clinic",
        "create",
        "--org-number",
        ORG_A,
        "--name",
        "Teamklinikk",
    ])?;
    let fnr = synthetic_fnr(1301);
    let p = printed_id(
        &run(&[
            "patient",
            "add",
            "--clinic",
            ORG_A,
            "--fnr",
            &fnr,
            "--name",
            "Kari Team",
        ])?,
        "patient",
    )?;
    let doctor = printed_id(
        &run(&[
            "staff",
            "add",
            "--clinic",
            ORG_A,
            "--name",
            "Dr. Team",
            "--role",
            "lege",
            "--fnr",
            "01017040088",
        ])?,
        "staff",
    )?;
    let team = printed_id(
        &run(&[
            "staff",
            "team",
            "create",
            "--clinic",
            ORG_A,
            "--name",
            "Hjemmeteamet",
        ])?,
        "team",
    )?;
    run(&[
        "staff", "team", "add", "--clinic", ORG_A, "--team", &team, "--staff", &doctor,
    ])?;
    run(&[
        "staff",
        "team",
        "care",
        "--clinic",
        ORG_A,
        "--team",
        &team,
        "--patient",
        &p,
    ])?;
    let list = run(&["staff", "team", "list", "--clinic", ORG_A])?;
    assert!(
        crate::support::stdout(&list)
            .contains(&format!("{team}\tHjemmeteamet\t1 member(s)\t1 patient(s)")),
        "{}",
        crate::support::stdout(&list)
    );

    let app = env.app().await?;
    let clinic = app.clinic(&org(ORG_A)).await?;
    let (doctor_id, patient_id) = (
        fortrolig_domain::StaffId::parse(&doctor)?,
        fortrolig_domain::PatientId::parse(&p)?,
    );
    let access = clinic
        .health_access(&actor(doctor_id, Level::High), patient_id, "behandling")
        .await?;
    assert_eq!(access.team().map(|t| t.to_string()), Some(team.clone()));
    app.close().await;

    run(&[
        "staff", "team", "remove", "--clinic", ORG_A, "--team", &team, "--staff", &doctor,
    ])?;
    let again = env.cli(&[
        "staff", "team", "remove", "--clinic", ORG_A, "--team", &team, "--staff", &doctor,
    ]);
    assert!(!again.status.success(), "not a member any more");
    let bad = env.cli(&[
        "staff", "team", "add", "--clinic", ORG_A, "--team", "nope", "--staff", &doctor,
    ]);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "a malformed id is a usage error"
    );
    let app = env.app().await?;
    let clinic = app.clinic(&org(ORG_A)).await?;
    assert_eq!(
        denied(
            clinic
                .health_access(&actor(doctor_id, Level::High), patient_id, "behandling")
                .await
        ),
        Some(DenyReason::NoWorkRelatedNeed),
        "removed from the team: no access"
    );
    app.close().await;
    run(&[
        "staff",
        "team",
        "end-care",
        "--clinic",
        ORG_A,
        "--team",
        &team,
        "--patient",
        &p,
    ])?;
    let app = env.app().await?;
    let clinic = app.clinic(&org(ORG_A)).await?;
    assert!(
        clinic
            .team(clinic.teams().await?[0].id)
            .await?
            .patients
            .is_empty()
    );
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

both_backends!(
    team_member_reaches_the_teams_patients_non_and_former_members_do_not_s1,
    teams_from_the_command_line_s1,
    health_data_needs_role_need_and_level_and_refusals_are_audited_s1_s3_x2_x3,
    authorisations_must_be_time_limited_s2,
    yearly_access_review_reminds_confirms_and_revokes_s2,
    clinic_can_require_training_before_first_access_s6
);
