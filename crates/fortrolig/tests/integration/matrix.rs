//! The authorization matrix (issue 3, S1, S3, X2): every staff route × every role × with
//! a personal care relationship, through a team's care relationship, or without one ×
//! own and other clinic × security level, against the
//! one rule in `fortrolig_domain::access::decide` (the table in docs/ACCESS.md).
//! The staff messaging routes are in it too: the inbox (administrative: the clinical roles
//! and secretaries) and a thread, by its kind (an e-konsultasjon is health data, a
//! practical question administrative). The patients' requests (P9): the list like the
//! inbox, one request as the patient's health data. The incident register (C4) like the
//! inbox, one incident as its thread (health or administrative). The administrator's pages for people,
//! authorisations and teams, and the record of processing (C3), are people data.
//! Expected: allowed → 200, step-up → 303 to the HelseID login, denied → 403 (or, for a
//! session from another clinic, no session at all: 303 to the login). No case may show
//! the patient's name unless allowed.

use axum::http::StatusCode;
use fortrolig_domain::access::{DataClass, Decision, Level, Need, Request, Role, Subject, decide};
use fortrolig_domain::messaging::{MessageText, Subject as ThreadSubject, ThreadKind};
use fortrolig_domain::{PersonName, Source, Timestamp};
use fortrolig_service::{PatientActor, Recall, SessionSubject, StaffActor};
use fortrolig_web::{AppState, router};

use crate::support::{
    ORG_A, ORG_B, TestEnv, TestResult, both_backends, ctx, org, patient, synthetic_fnr,
};
use crate::web_support::{call, get};

/// How a member of staff is tied to the patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Care {
    Personal,
    /// A member of a team with a care relationship to the patient.
    Team,
    None,
}

async fn every_route_role_need_clinic_and_level_matches_the_rule_s1_s3_x2(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let a = app.create_clinic(&org(ORG_A), "Klinikk A").await?;
    let b = app.create_clinic(&org(ORG_B), "Klinikk B").await?;
    let p = a
        .add_patient(
            &ctx(ORG_A),
            &patient(&synthetic_fnr(1001), "Matrise Pasient"),
        )
        .await?;
    let team = a.create_team(&ctx(ORG_A), "Matriseteamet").await?;
    a.start_team_care(&ctx(ORG_A), team, p).await?;
    // Messaging: a thread is health data or administrative data by its kind (issue 4).
    let me = PatientActor {
        patient: p,
        level: Level::High,
        source: Source::default(),
    };
    let mut threads = Vec::new();
    for kind in [ThreadKind::EConsultation, ThreadKind::Administrative] {
        threads.push(
            a.open_thread(
                &me,
                kind,
                &ThreadSubject::parse("Matriseemne")?,
                &MessageText::parse("Matrisetekst")?,
                &[],
            )
            .await?,
        );
    }
    // A request under the patient's rights (P9): the list is like the inbox, one request
    // is the patient's health data.
    let request = a
        .file_request(
            &me,
            fortrolig_domain::requests::RequestKind::Copy,
            Some(threads[0]),
            &MessageText::parse("Matrisetekst")?,
        )
        .await?;
    let request_link = format!("foresporsel/{request}");
    let people_page = a
        .add_staff(&ctx(ORG_A), &PersonName::parse("Matrise Ansatt")?, None)
        .await?;
    let routes = router(AppState::new(app.clone()), false);
    let now = app.now();
    let until = Timestamp(now.0 + 30 * 86_400_000_000);
    // Incidents (C4, S7): a recall in each thread offers one, reached as its thread is.
    let recaller = a
        .add_staff(&ctx(ORG_A), &PersonName::parse("Matrise Lege")?, None)
        .await?;
    a.grant_role(&ctx(ORG_A), recaller, Role::Doctor, now, until)
        .await?;
    a.start_care(&ctx(ORG_A), recaller, p).await?;
    let doctor = StaffActor {
        staff: recaller,
        level: Level::High,
        source: Source::default(),
    };
    let mut incidents = Vec::new();
    for &thread in &threads {
        let access = a.thread_access(&doctor, thread, "svar").await?;
        let sent = access
            .reply(thread, &MessageText::parse("Feil mottaker")?, false, &[])
            .await?;
        match access.recall(thread, sent).await? {
            Recall::Recalled { incident } => incidents.push(incident),
            Recall::AlreadyRead { .. } => return Err("the reply was read already".into()),
        }
    }
    let mut checked = 0;
    for role in Role::ALL {
        for care in [Care::Personal, Care::Team, Care::None] {
            for own_clinic in [true, false] {
                let home = if own_clinic { &a } else { &b };
                let home_org = if own_clinic { ORG_A } else { ORG_B };
                let staff = home
                    .add_staff(
                        &ctx(home_org),
                        &PersonName::parse(&format!("Ansatt {role}"))?,
                        None,
                    )
                    .await?;
                home.grant_role(&ctx(home_org), staff, role, now, until)
                    .await?;
                // Only clinic A's people can be in A's care relationships or teams.
                match care {
                    Care::Personal if own_clinic => a.start_care(&ctx(ORG_A), staff, p).await?,
                    Care::Team if own_clinic => a.add_team_member(&ctx(ORG_A), team, staff).await?,
                    _ => {}
                }
                for level in [Level::Substantial, Level::High] {
                    let (token, _) = home
                        .start_session(
                            SessionSubject::Staff(staff),
                            level,
                            "test",
                            None,
                            None,
                            &Source::default(),
                        )
                        .await?;
                    let cookie = format!("fortrolig_okt={}", token.as_str());
                    let subject = Subject::Staff {
                        clinic: org(home_org),
                        roles: vec![role],
                        level,
                    };
                    let need = if care != Care::None && own_clinic {
                        Need::CareRelationship
                    } else {
                        Need::None
                    };
                    for (path, class) in [
                        (format!("/k/{ORG_A}/ansatt/pasient/{p}"), DataClass::Health),
                        (format!("/k/{ORG_A}/ansatt/nodtilgang"), DataClass::People),
                        (format!("/k/{ORG_A}/ansatt/hendelser"), DataClass::People),
                        (
                            format!("/k/{ORG_A}/ansatt/tilgangsgjennomgang"),
                            DataClass::People,
                        ),
                        (format!("/k/{ORG_A}/ansatt/aktivering"), DataClass::Identity),
                        (format!("/k/{ORG_A}/ansatt/tilganger"), DataClass::People),
                        (
                            format!("/k/{ORG_A}/ansatt/tilganger/{people_page}"),
                            DataClass::People,
                        ),
                        (format!("/k/{ORG_A}/ansatt/team"), DataClass::People),
                        (format!("/k/{ORG_A}/ansatt/varselmaler"), DataClass::People),
                        (format!("/k/{ORG_A}/ansatt/protokoll"), DataClass::People),
                        (format!("/k/{ORG_A}/ansatt/oppbevaring"), DataClass::People),
                        (
                            format!("/k/{ORG_A}/ansatt/varsler"),
                            DataClass::Administrative,
                        ),
                        (format!("/k/{ORG_A}/ansatt/team/{team}"), DataClass::People),
                        (
                            format!("/k/{ORG_A}/ansatt/innboks"),
                            DataClass::Administrative,
                        ),
                        (
                            format!("/k/{ORG_A}/ansatt/samtale/{}", threads[0]),
                            DataClass::Health,
                        ),
                        (
                            format!("/k/{ORG_A}/ansatt/samtale/{}", threads[1]),
                            DataClass::Administrative,
                        ),
                        (
                            format!("/k/{ORG_A}/ansatt/foresporsler"),
                            DataClass::Administrative,
                        ),
                        (
                            format!("/k/{ORG_A}/ansatt/foresporsel/{request}"),
                            DataClass::Health,
                        ),
                        (
                            format!("/k/{ORG_A}/ansatt/avvik"),
                            DataClass::Administrative,
                        ),
                        (
                            format!("/k/{ORG_A}/ansatt/avvik/{}", incidents[0]),
                            DataClass::Health,
                        ),
                        (
                            format!("/k/{ORG_A}/ansatt/avvik/{}", incidents[1]),
                            DataClass::Administrative,
                        ),
                    ] {
                        let request = Request {
                            clinic: org(ORG_A),
                            class,
                            patient: Some(p),
                            need,
                        };
                        let expected = decide(&subject, &request);
                        let page = call(&routes, get(&path, Some(&cookie))?).await?;
                        let what =
                            format!("{role:?} care={care:?} own={own_clinic} {level:?} {path}");
                        match expected {
                            Decision::Allow => assert_eq!(page.status, StatusCode::OK, "{what}"),
                            Decision::StepUp(_) => {
                                assert_eq!(page.status, StatusCode::SEE_OTHER, "{what}");
                                assert!(
                                    page.location().contains("/ansatt/innlogging?nivaa=hoy"),
                                    "{what}"
                                );
                            }
                            Decision::Deny(_) if !own_clinic => {
                                // The session belongs to another clinic: here it is no session.
                                assert_eq!(page.status, StatusCode::SEE_OTHER, "{what}");
                                assert!(page.location().contains("/ansatt/innlogging"), "{what}");
                            }
                            Decision::Deny(_) => {
                                assert_eq!(page.status, StatusCode::FORBIDDEN, "{what}")
                            }
                        }
                        // A list shows exactly the rows the rule lets this person open.
                        let rows: Vec<(String, DataClass)> = if path.ends_with("/innboks") {
                            vec![
                                (format!("samtale/{}", threads[0]), DataClass::Health),
                                (format!("samtale/{}", threads[1]), DataClass::Administrative),
                            ]
                        } else if path.ends_with("/avvik") {
                            vec![
                                (format!("avvik/{}", incidents[0]), DataClass::Health),
                                (format!("avvik/{}", incidents[1]), DataClass::Administrative),
                            ]
                        } else if path.ends_with("/foresporsler") {
                            vec![(request_link.clone(), DataClass::Health)]
                        } else {
                            Vec::new()
                        };
                        for (row, row_class) in rows.iter().filter(|_| expected == Decision::Allow)
                        {
                            let row_rule = decide(
                                &subject,
                                &Request {
                                    clinic: org(ORG_A),
                                    class: *row_class,
                                    patient: Some(p),
                                    need,
                                },
                            );
                            assert_eq!(
                                page.body.contains(row.as_str()),
                                row_rule == Decision::Allow,
                                "the list shows {row} exactly when the rule allows it: {what}"
                            );
                        }
                        if expected == Decision::Allow && path.contains("/pasient/") {
                            assert_eq!(
                                page.body.contains("gjennom teamet «Matriseteamet»"),
                                care == Care::Team,
                                "the page names the ground for access: {what}"
                            );
                        }
                        if expected != Decision::Allow {
                            assert!(
                                !page.body.contains("Matrise Pasient")
                                    && !page.body.contains("Matriseemne"),
                                "no data leaks when refused: {what}"
                            );
                        }
                        checked += 1;
                    }
                }
            }
        }
    }
    assert_eq!(checked, Role::ALL.len() * 3 * 2 * 2 * 21);
    a.verify_audit().await?;
    app.close().await;
    Ok(())
}

both_backends!(every_route_role_need_clinic_and_level_matches_the_rule_s1_s3_x2);
