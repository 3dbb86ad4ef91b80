//! The clinic administrator's web pages (issue 3 item 8; S1, S2, X3): people and their
//! time-limited authorisations, granted, changed and ended with dates; teams with their
//! members and care relationships; authorisations across clinics by an administrator of
//! every covered clinic. Every change needs the session's CSRF token, is audited, and is
//! refused to anyone but the clinic administrator at level high.

use axum::http::StatusCode;
use fortrolig_domain::access::{Level, Role};
use fortrolig_domain::{PersonName, PersonNumber, StaffId, Timestamp};
use fortrolig_service::{Clinic, SessionSubject};
use fortrolig_web::{AppState, router};

use crate::support::{
    ORG_A, ORG_B, TestEnv, TestResult, both_backends, ctx, org, patient, synthetic_fnr,
};
use crate::web_support::{Page, Res, call, get, post, session_cookie};

const DAY: i64 = 86_400_000_000;
const ADMIN_FNR: &str = "41017040071";
const DOCTOR_FNR: &str = "01017040088";

/// A member of staff with an identity number and, if any, one role for a year.
async fn member(
    clinic: &Clinic,
    now: Timestamp,
    name: &str,
    fnr: &str,
    role: Option<Role>,
) -> Res<StaffId> {
    let setup = ctx(clinic.org().as_str());
    let id = clinic
        .add_staff(&setup, &PersonName::parse(name)?, None)
        .await?;
    clinic
        .link_staff_identity(&setup, id, &PersonNumber::parse(fnr)?)
        .await?;
    if let Some(role) = role {
        clinic
            .grant_role(&setup, id, role, now, Timestamp(now.0 + 365 * DAY))
            .await?;
    }
    Ok(id)
}

/// Normland legesenter with its administrator, Ada.
async fn clinic_with_admin(
    app: &fortrolig_service::Fortrolig,
) -> Res<(std::sync::Arc<Clinic>, StaffId)> {
    let clinic = app
        .create_clinic(&org(ORG_A), "Normland legesenter")
        .await?;
    let admin = member(
        &clinic,
        app.now(),
        "Ada Administrator",
        ADMIN_FNR,
        Some(Role::ClinicAdmin),
    )
    .await?;
    Ok((clinic, admin))
}

async fn send(routes: &axum::Router, path: &str, cookie: &str, form: &str) -> Res<Page> {
    call(routes, post(path, cookie, form)?).await
}

/// The audit entries of `action` in the clinic's log.
async fn entries(clinic: &Clinic, action: &str) -> Res<Vec<fortrolig_audit::LogEntry>> {
    let size = clinic.audit_size().await?;
    Ok(clinic
        .store()
        .entries_up_to(size)
        .await?
        .into_iter()
        .filter(|e| e.action == action)
        .collect())
}

async fn clinic_admin_grants_changes_and_ends_authorisations_with_dates_s2(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let (clinic, admin) = clinic_with_admin(&app).await?;
    let doctor = member(&clinic, app.now(), "Dr. Ny", DOCTOR_FNR, None).await?;
    let secretary = member(
        &clinic,
        app.now(),
        "Siri Sekretær",
        &synthetic_fnr(4400),
        Some(Role::Secretary),
    )
    .await?;
    let routes = router(AppState::new(app.clone()), false);
    let (cookie, csrf) = session_cookie(&clinic, SessionSubject::Staff(admin), Level::High).await?;
    let base = format!("/k/{ORG_A}/ansatt/tilganger");

    let list = call(&routes, get(&base, Some(&cookie))?).await?;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Dr. Ny") && list.body.contains("Siri Sekretær"));
    let home = call(&routes, get(&format!("/k/{ORG_A}/ansatt/"), Some(&cookie))?).await?;
    assert!(home.body.contains(&base), "the workspace links to the page");

    let now = app.now();
    let today = now.oslo_date();
    let in_30 = Timestamp(now.0 + 30 * DAY).oslo_date();
    let grant_path = format!("{base}/{doctor}/tildel");
    let grant_form =
        |token: &str, til: &str| format!("csrf={token}&rolle=lege&fra={today}&til={til}");

    // A form without this session's token changes nothing.
    for form in [grant_form("", &in_30), grant_form("feil", &in_30)] {
        let refused = send(&routes, &grant_path, &cookie, &form).await?;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "CSRF");
    }
    // Bad dates and periods are refused with a clear message; nothing changes.
    for (til, says) in [
        ("2026-02-30", "Ugyldig dato"),
        (
            Timestamp(now.0 - 2 * DAY).oslo_date().as_str(),
            "Ugyldig periode",
        ),
        (
            Timestamp(now.0 + 4 * 366 * DAY).oslo_date().as_str(),
            "høyst tre år",
        ),
    ] {
        let refused = send(&routes, &grant_path, &cookie, &grant_form(&csrf, til)).await?;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{til}");
        assert!(refused.body.contains(says), "{til}: {}", refused.body);
    }
    let unknown_role = send(
        &routes,
        &grant_path,
        &cookie,
        &format!("csrf={csrf}&rolle=operator&fra={today}&til={in_30}"),
    )
    .await?;
    assert_eq!(
        unknown_role.status,
        StatusCode::BAD_REQUEST,
        "no operator role from a clinic"
    );
    assert!(clinic.authorisation_history(doctor).await?.is_empty());

    let granted = send(&routes, &grant_path, &cookie, &grant_form(&csrf, &in_30)).await?;
    assert_eq!(granted.status, StatusCode::SEE_OTHER);
    assert_eq!(granted.location(), format!("{base}/{doctor}"));
    assert_eq!(
        clinic.roles_at(doctor, app.now()).await?,
        vec![Role::Doctor]
    );
    let history = clinic.authorisation_history(doctor).await?;
    let first = history.first().ok_or("granted")?.clone();
    assert_eq!(
        first.valid_until,
        Timestamp(Timestamp::oslo_day_start(&in_30).ok_or("day")?.0 + DAY)
    );
    assert_eq!(first.granted_by, format!("staff:{admin}"));
    let logged = entries(&clinic, "authorisation.granted").await?;
    let entry = logged.last().ok_or("audited")?;
    assert_eq!(entry.actor_id, format!("staff:{admin}"));
    assert!(entry.object.contains(&format!("grant:{}", first.id)));
    assert!(entry.source_session.is_some(), "the session is in the log");

    let page = call(&routes, get(&format!("{base}/{doctor}"), Some(&cookie))?).await?;
    assert!(
        page.body.contains("I kraft") && page.body.contains(&in_30),
        "{}",
        page.body
    );

    // A new end date: the old authorisation ends, a new one carries on; both are kept.
    let in_60 = Timestamp(now.0 + 60 * DAY).oslo_date();
    let changed = send(
        &routes,
        &format!("{base}/{doctor}/{}/endre", first.id),
        &cookie,
        &format!("csrf={csrf}&til={in_60}"),
    )
    .await?;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    let history = clinic.authorisation_history(doctor).await?;
    assert_eq!(history.len(), 2);
    let current: Vec<_> = history.iter().filter(|a| a.ended_at.is_none()).collect();
    assert_eq!(current.len(), 1);
    let second = current[0].clone();
    assert_eq!(second.role, Role::Doctor);
    assert_eq!(
        second.valid_until,
        Timestamp(Timestamp::oslo_day_start(&in_60).ok_or("day")?.0 + DAY)
    );
    assert!(
        history
            .iter()
            .any(|a| a.id == first.id && a.ended_at.is_some())
    );
    assert_eq!(entries(&clinic, "authorisation.changed").await?.len(), 1);
    // The old one cannot be changed again.
    let again = send(
        &routes,
        &format!("{base}/{doctor}/{}/endre", first.id),
        &cookie,
        &format!("csrf={csrf}&til={in_30}"),
    )
    .await?;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);

    // A grant in the path must belong to the person in the path.
    let mismatched = send(
        &routes,
        &format!("{base}/{secretary}/{}/avslutt", second.id),
        &cookie,
        &format!("csrf={csrf}"),
    )
    .await?;
    assert_eq!(mismatched.status, StatusCode::NOT_FOUND);

    let ended = send(
        &routes,
        &format!("{base}/{doctor}/{}/avslutt", second.id),
        &cookie,
        &format!("csrf={csrf}"),
    )
    .await?;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert!(clinic.roles_at(doctor, app.now()).await?.is_empty());
    assert_eq!(entries(&clinic, "authorisation.ended").await?.len(), 1);

    // A new member of staff, linked to their identity number for HelseID.
    let added = send(
        &routes,
        &format!("{base}/ny"),
        &cookie,
        &format!("csrf={csrf}&navn=Nora+Ny&hpr=&fnr=31129956715"),
    )
    .await?;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let new_id = clinic
        .staff_id_by_number(&PersonNumber::parse("31129956715")?)
        .await?
        .ok_or("linked")?;
    assert_eq!(added.location(), format!("{base}/{new_id}"));
    let twice = send(
        &routes,
        &format!("{base}/ny"),
        &cookie,
        &format!("csrf={csrf}&navn=Nora+Igjen&fnr=31129956715"),
    )
    .await?;
    assert_eq!(
        twice.status,
        StatusCode::BAD_REQUEST,
        "one person, one record"
    );

    // A secretary's workspace lists no patients, even one she is (wrongly) in a care
    // relationship with, and so logs no refusal on every view.
    let p = clinic
        .add_patient(
            &ctx(ORG_A),
            &patient(&synthetic_fnr(4403), "Skranke Pasient"),
        )
        .await?;
    clinic.start_care(&ctx(ORG_A), secretary, p).await?;
    let (desk, _) = session_cookie(&clinic, SessionSubject::Staff(secretary), Level::High).await?;
    let denied_before = entries(&clinic, "access.denied").await?.len();
    let front = call(&routes, get(&format!("/k/{ORG_A}/ansatt/"), Some(&desk))?).await?;
    assert_eq!(front.status, StatusCode::OK);
    assert!(!front.body.contains("Mine pasienter"));
    assert_eq!(
        entries(&clinic, "access.denied").await?.len(),
        denied_before
    );

    // Leaving needs a confirmation; then every role ends at once.
    let leave = format!("{base}/{secretary}/slutter");
    let unconfirmed = send(&routes, &leave, &cookie, &format!("csrf={csrf}")).await?;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        clinic.roles_at(secretary, app.now()).await?,
        vec![Role::Secretary]
    );
    let left = send(&routes, &leave, &cookie, &format!("csrf={csrf}&bekreft=ja")).await?;
    assert_eq!(left.status, StatusCode::SEE_OTHER);
    assert!(clinic.roles_at(secretary, app.now()).await?.is_empty());
    assert!(!clinic.staff_member(secretary).await?.active);
    let herself = send(
        &routes,
        &format!("{base}/{admin}/slutter"),
        &cookie,
        &format!("csrf={csrf}&bekreft=ja"),
    )
    .await?;
    assert_eq!(
        herself.status,
        StatusCode::BAD_REQUEST,
        "an administrator cannot lock herself out"
    );

    // Anyone else is refused, and a session at level substantial must step up.
    let (other_cookie, other_csrf) =
        session_cookie(&clinic, SessionSubject::Staff(doctor), Level::High).await?;
    let refused = call(&routes, get(&base, Some(&other_cookie))?).await?;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = send(
        &routes,
        &grant_path,
        &other_cookie,
        &grant_form(&other_csrf, &in_30),
    )
    .await?;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        clinic.roles_at(doctor, app.now()).await?.is_empty(),
        "nothing granted"
    );
    let (low, _) =
        session_cookie(&clinic, SessionSubject::Staff(admin), Level::Substantial).await?;
    let step_up = call(&routes, get(&base, Some(&low))?).await?;
    assert_eq!(step_up.status, StatusCode::SEE_OTHER);
    assert!(step_up.location().contains("nivaa=hoy"));

    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

both_backends!(
    clinic_admin_gets_the_record_of_processing_from_the_setup_c3,
    clinic_admin_grants_changes_and_ends_authorisations_with_dates_s2
);

async fn clinic_admin_manages_teams_and_their_care_without_seeing_patients_s1(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let (clinic, admin) = clinic_with_admin(&app).await?;
    let doctor = member(
        &clinic,
        app.now(),
        "Dr. Team",
        DOCTOR_FNR,
        Some(Role::Doctor),
    )
    .await?;
    let fnr = synthetic_fnr(4401);
    let p = clinic
        .add_patient(&ctx(ORG_A), &patient(&fnr, "Hemmelig Pasientnavn"))
        .await?;
    let routes = router(AppState::new(app.clone()), false);
    let (cookie, csrf) = session_cookie(&clinic, SessionSubject::Staff(admin), Level::High).await?;
    let base = format!("/k/{ORG_A}/ansatt/team");

    let blank = send(
        &routes,
        &format!("{base}/ny"),
        &cookie,
        &format!("csrf={csrf}&navn="),
    )
    .await?;
    assert_eq!(blank.status, StatusCode::BAD_REQUEST);
    let created = send(
        &routes,
        &format!("{base}/ny"),
        &cookie,
        &format!("csrf={csrf}&navn=Rusteamet"),
    )
    .await?;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    let team_path = created.location();
    let team = clinic.teams().await?.first().ok_or("created")?.id;
    assert_eq!(team_path, format!("{base}/{team}"));
    let duplicate = send(
        &routes,
        &format!("{base}/ny"),
        &cookie,
        &format!("csrf={csrf}&navn=rusteamet"),
    )
    .await?;
    assert_eq!(
        duplicate.status,
        StatusCode::BAD_REQUEST,
        "names are unique"
    );

    let joined = send(
        &routes,
        &format!("{team_path}/medlem"),
        &cookie,
        &format!("csrf={csrf}&ansatt={doctor}"),
    )
    .await?;
    assert_eq!(joined.status, StatusCode::SEE_OTHER);
    let bad_fnr = send(
        &routes,
        &format!("{team_path}/pasient"),
        &cookie,
        &format!("csrf={csrf}&fnr=12345"),
    )
    .await?;
    assert_eq!(bad_fnr.status, StatusCode::BAD_REQUEST);
    let unknown = send(
        &routes,
        &format!("{team_path}/pasient"),
        &cookie,
        &format!("csrf={csrf}&fnr={}", synthetic_fnr(4402)),
    )
    .await?;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.body.contains("Fant ingen pasient"));
    let cared = send(
        &routes,
        &format!("{team_path}/pasient"),
        &cookie,
        &format!("csrf={csrf}&fnr={fnr}"),
    )
    .await?;
    assert_eq!(cared.status, StatusCode::SEE_OTHER);
    let current = clinic.team(team).await?;
    assert_eq!(current.members, vec![doctor]);
    assert_eq!(current.patients, vec![p]);

    // The doctor now reaches the patient through the team.
    let (doc_cookie, _) =
        session_cookie(&clinic, SessionSubject::Staff(doctor), Level::High).await?;
    let chart = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/pasient/{p}"), Some(&doc_cookie))?,
    )
    .await?;
    assert_eq!(chart.status, StatusCode::OK);
    assert!(chart.body.contains("gjennom teamet «Rusteamet»"));

    // The administrator's pages never name the patient.
    let page = call(&routes, get(&team_path, Some(&cookie))?).await?;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Dr. Team") && page.body.contains("Pasient siden"));
    assert!(!page.body.contains("Hemmelig") && !page.body.contains(&fnr));
    let listing = call(&routes, get(&base, Some(&cookie))?).await?;
    assert!(listing.body.contains("Rusteamet") && !listing.body.contains("Hemmelig"));

    let ended = send(
        &routes,
        &format!("{team_path}/pasient/avslutt"),
        &cookie,
        &format!("csrf={csrf}&fnr={fnr}"),
    )
    .await?;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    let twice = send(
        &routes,
        &format!("{team_path}/pasient/avslutt"),
        &cookie,
        &format!("csrf={csrf}&fnr={fnr}"),
    )
    .await?;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST, "nothing left to end");
    let removed = send(
        &routes,
        &format!("{team_path}/medlem/{doctor}/fjern"),
        &cookie,
        &format!("csrf={csrf}"),
    )
    .await?;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let after = clinic.team(team).await?;
    assert!(after.members.is_empty() && after.patients.is_empty());
    let chart = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/pasient/{p}"), Some(&doc_cookie))?,
    )
    .await?;
    assert_eq!(
        chart.status,
        StatusCode::FORBIDDEN,
        "access ended with the team's care"
    );

    for action in [
        "team.created",
        "team.member_added",
        "team.care_started",
        "team.care_ended",
        "team.member_removed",
    ] {
        let logged = entries(&clinic, action).await?;
        assert_eq!(logged.len(), 1, "{action}");
        assert_eq!(logged[0].actor_id, format!("staff:{admin}"), "{action}");
    }
    // Without the token nothing happens.
    let forged = send(
        &routes,
        &format!("{team_path}/medlem"),
        &cookie,
        &format!("csrf=x&ansatt={doctor}"),
    )
    .await?;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(clinic.team(team).await?.members.is_empty());
    let unknown_team = call(
        &routes,
        get(
            &format!("{base}/{}", StaffId::from_bytes([7; 16])),
            Some(&cookie),
        )?,
    )
    .await?;
    assert_eq!(unknown_team.status, StatusCode::NOT_FOUND);

    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

both_backends!(clinic_admin_manages_teams_and_their_care_without_seeing_patients_s1);

async fn an_administrator_of_every_covered_clinic_grants_across_clinics_on_the_web_s2(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let a = app
        .create_clinic(&org(ORG_A), "Legekontoret Sentrum")
        .await?;
    let b = app.create_clinic(&org(ORG_B), "Legekontoret Nord").await?;
    let admin_a = member(
        &a,
        app.now(),
        "Ada Administrator",
        ADMIN_FNR,
        Some(Role::ClinicAdmin),
    )
    .await?;
    member(
        &b,
        app.now(),
        "Ada Administrator",
        ADMIN_FNR,
        Some(Role::ClinicAdmin),
    )
    .await?;
    let holder_a = member(&a, app.now(), "Dr. Delt", DOCTOR_FNR, None).await?;
    let holder_b = member(&b, app.now(), "Dr. Delt", DOCTOR_FNR, None).await?;
    let routes = router(AppState::new(app.clone()), false);
    let (cookie, csrf) = session_cookie(&a, SessionSubject::Staff(admin_a), Level::High).await?;
    let person = format!("/k/{ORG_A}/ansatt/tilganger/{holder_a}");
    let now = app.now();
    let form = format!(
        "csrf={csrf}&rolle=lege&fra={}&til={}&andre={ORG_B}",
        now.oslo_date(),
        Timestamp(now.0 + 90 * DAY).oslo_date()
    );

    let granted = send(&routes, &format!("{person}/tildel"), &cookie, &form).await?;
    assert_eq!(granted.status, StatusCode::SEE_OTHER, "{}", granted.body);
    assert_eq!(a.roles_at(holder_a, app.now()).await?, vec![Role::Doctor]);
    assert_eq!(b.roles_at(holder_b, app.now()).await?, vec![Role::Doctor]);
    let shared = a
        .authorisation_history(holder_a)
        .await?
        .first()
        .ok_or("granted")?
        .clone();
    assert!(shared.is_shared());
    let page = call(&routes, get(&person, Some(&cookie))?).await?;
    assert!(page.body.contains(ORG_B) && page.body.contains("i alle virksomhetene"));
    for clinic in [&a, &b] {
        let logged = entries(clinic, "authorisation.granted").await?;
        assert!(
            logged
                .iter()
                .any(|e| e.object.contains(&format!("grant:{}", shared.id)))
        );
    }

    let ended = send(
        &routes,
        &format!("{person}/{}/avslutt", shared.id),
        &cookie,
        &format!("csrf={csrf}"),
    )
    .await?;
    assert_eq!(ended.status, StatusCode::SEE_OTHER, "{}", ended.body);
    assert!(a.roles_at(holder_a, app.now()).await?.is_empty());
    assert!(b.roles_at(holder_b, app.now()).await?.is_empty());

    // Without the administrator role in B: refused in both, a security event in B.
    let b_admin = b
        .authorisation_history(
            b.staff_id_by_number(&PersonNumber::parse(ADMIN_FNR)?)
                .await?
                .ok_or("in b")?,
        )
        .await?;
    b.end_grant(&ctx(ORG_B), b_admin.first().ok_or("admin grant")?.id)
        .await?;
    let refused = send(&routes, &format!("{person}/tildel"), &cookie, &form).await?;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("administrator i hver virksomhet"));
    assert!(a.roles_at(holder_a, app.now()).await?.is_empty());
    assert!(b.roles_at(holder_b, app.now()).await?.is_empty());
    let events = entries(&b, "authorisation.granted").await?;
    assert!(
        events.iter().any(|e| e.outcome == "denied"),
        "a security event in B"
    );

    // An unknown clinic is a clear refusal, not an error page.
    let unknown = send(
        &routes,
        &format!("{person}/tildel"),
        &cookie,
        &form.replace(ORG_B, "974760673"),
    )
    .await?;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.body);

    a.verify_audit().await?;
    b.verify_audit().await?;
    app.close().await;
    Ok(())
}

/// The record of processing (C3) is made from the installation's setup: the SMS
/// provider it names is the one configured, and it comes as a page and as a document.
async fn clinic_admin_gets_the_record_of_processing_from_the_setup_c3(env: &TestEnv) -> TestResult {
    let app = env.app().await?;
    let (clinic, admin) = clinic_with_admin(&app).await?;
    let doctor = member(&clinic, app.now(), "Dr. Ny", DOCTOR_FNR, Some(Role::Doctor)).await?;
    let (adm, _) = session_cookie(&clinic, SessionSubject::Staff(admin), Level::High).await?;
    let (doc, _) = session_cookie(&clinic, SessionSubject::Staff(doctor), Level::High).await?;
    let path = format!("/k/{ORG_A}/ansatt/protokoll");

    // Without any notice channel set up, there is no notice activity.
    let bare = router(AppState::new(app.clone()), false);
    let page = call(&bare, get(&path, Some(&adm))?).await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Normland legesenter") && page.body.contains(ORG_A));
    assert!(
        page.body.contains("Sikker meldingsutveksling") && !page.body.contains("Varsler på SMS")
    );

    let configured = router(
        AppState {
            processing: std::sync::Arc::new(fortrolig_domain::processing::Setup {
                sms_provider: Some("LINK Mobility".into()),
                idporten: true,
                ..Default::default()
            }),
            ..AppState::new(app.clone())
        },
        false,
    );
    let page = call(&configured, get(&path, Some(&adm))?).await?;
    assert!(page.body.contains("LINK Mobility (databehandler, SMS)"));
    assert!(page.body.contains("ID-porten (Digdir)"));
    let document = call(&configured, get(&format!("{path}.txt"), Some(&adm))?).await?;
    assert_eq!(document.status, StatusCode::OK);
    assert!(
        document
            .header(axum::http::header::CONTENT_DISPOSITION)
            .contains("behandlingsprotokoll-")
    );
    assert!(
        document
            .body
            .starts_with("PROTOKOLL OVER BEHANDLINGSAKTIVITETER")
    );
    assert!(
        document.body.contains("LINK Mobility")
            && document.body.contains("Oppbevaring og sletting")
    );

    // Only the clinic's administrator.
    let refused = call(&configured, get(&path, Some(&doc))?).await?;
    assert_ne!(refused.status, StatusCode::OK);
    assert!(!refused.body.contains("LINK Mobility"));
    app.close().await;
    Ok(())
}

both_backends!(an_administrator_of_every_covered_clinic_grants_across_clinics_on_the_web_s2);

/// The clinic sets its retention periods (X4): a bad one changes nothing and the form
/// comes back with what was typed; good ones are saved, audited and stated in the record
/// of processing (C3). Only the administrator.
async fn clinic_admin_sets_retention_periods_and_the_record_of_processing_states_them_x4_c3(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let (clinic, admin) = clinic_with_admin(&app).await?;
    let doctor = member(&clinic, app.now(), "Dr. Ny", DOCTOR_FNR, Some(Role::Doctor)).await?;
    let (cookie, csrf) = session_cookie(&clinic, SessionSubject::Staff(admin), Level::High).await?;
    let (doc, doc_csrf) =
        session_cookie(&clinic, SessionSubject::Staff(doctor), Level::High).await?;
    let routes = router(AppState::new(app.clone()), false);
    let path = format!("/k/{ORG_A}/ansatt/oppbevaring");

    let page = call(&routes, get(&path, Some(&cookie))?).await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("value=\"90\""), "the defaults show");

    let form = |token: &str, threads: &str| {
        format!("csrf={token}&traader={threads}&vedlegg=14&journal=30&varsler=60&okter=7")
    };
    let bad = send(&routes, &path, &cookie, &form(&csrf, "-5")).await?;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Ingenting er endret") && bad.body.contains("value=\"-5\""));
    assert!(bad.body.contains("value=\"14\""), "what was typed is kept");
    assert_eq!(clinic.retention_policy().await?, Default::default());

    let forged = send(&routes, &path, &cookie, &form("feil", "45")).await?;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let refused = send(&routes, &path, &doc, &form(&doc_csrf, "45")).await?;
    assert_ne!(refused.status, StatusCode::SEE_OTHER);
    assert_eq!(clinic.retention_policy().await?, Default::default());

    let saved = send(&routes, &path, &cookie, &form(&csrf, "45")).await?;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let policy = clinic.retention_policy().await?;
    assert_eq!(
        (
            policy.threads.get(),
            policy.attachments.get(),
            policy.sessions.get()
        ),
        (45, 14, 7)
    );
    let changed = entries(&clinic, "clinic.setting_changed").await?;
    assert!(
        changed
            .iter()
            .any(|e| e.object.contains("oppbevaring.traader=45")
                && e.object.contains("oppbevaring.okter=7"))
    );
    let record = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/protokoll"), Some(&cookie))?,
    )
    .await?;
    assert!(
        record
            .body
            .contains("slettes 45 dager etter at den ble avsluttet"),
        "{}",
        record.body
    );
    app.close().await;
    Ok(())
}

both_backends!(clinic_admin_sets_retention_periods_and_the_record_of_processing_states_them_x4_c3);
