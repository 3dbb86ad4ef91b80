//! The staff workspace through HelseID (S1, S3, S4, X2, X3): own patients only, health
//! data only through a care relationship or recorded emergency access, emergency access
//! reviewed by the clinic administrator, unknown people refused.

use std::sync::Arc;

use axum::http::StatusCode;
use fortrolig_domain::access::Role;
use fortrolig_domain::{PersonName, PersonNumber, Timestamp};
use fortrolig_identity::ProviderKind;
use fortrolig_identity::testing::Browser;
use fortrolig_web::{AppState, HELSEID_CALLBACK, HELSEID_LOGGED_OUT, LoginFlow, router};

use crate::support::{ORG_A, TestEnv, TestResult, both_backends, ctx, org, patient, synthetic_fnr};
use crate::web_support::{
    BASE, Page, Res, call, form_of, get, login, login_in, post, provider, session_rows,
};

/// Logs in through HelseID as `hint` (`PID:HPR`) and returns the session cookie, or the
/// refusal page.
async fn staff_login(routes: &axum::Router, hint: &str) -> Res<Result<String, Page>> {
    let page = login(
        routes,
        &format!("/k/{ORG_A}/ansatt/innlogging?nivaa=hoy"),
        hint,
        HELSEID_CALLBACK,
    )
    .await?;
    Ok(
        if page.headers.contains_key(axum::http::header::SET_COOKIE) {
            Ok(page.cookie())
        } else {
            Err(page)
        },
    )
}

async fn staff_see_own_patients_and_need_reviewed_emergency_access_for_others_s1_s3(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let clinic = app
        .create_clinic(&org(ORG_A), "Normland legesenter")
        .await?;
    let admin_ctx = ctx(ORG_A);
    let own = clinic
        .add_patient(&admin_ctx, &patient(&synthetic_fnr(901), "Egen Pasient"))
        .await?;
    let other = clinic
        .add_patient(&admin_ctx, &patient(&synthetic_fnr(902), "Annen Pasient"))
        .await?;
    let now = app.now();
    let year = Timestamp(now.0 + 365 * 86_400_000_000);
    let doctor = clinic
        .add_staff(&admin_ctx, &PersonName::parse("Dr. Helse")?, None)
        .await?;
    clinic
        .link_staff_identity(&admin_ctx, doctor, &PersonNumber::parse("01017040088")?)
        .await?;
    clinic
        .grant_role(&admin_ctx, doctor, Role::Doctor, now, year)
        .await?;
    clinic.start_care(&admin_ctx, doctor, own).await?;
    // A patient of the doctor's team is one of their patients too (S1).
    let teams = clinic
        .add_patient(&admin_ctx, &patient(&synthetic_fnr(903), "Teamets Pasient"))
        .await?;
    let team = clinic.create_team(&admin_ctx, "Legeteamet").await?;
    clinic.add_team_member(&admin_ctx, team, doctor).await?;
    clinic.start_team_care(&admin_ctx, team, teams).await?;
    let admin = clinic
        .add_staff(&admin_ctx, &PersonName::parse("Ada Administrator")?, None)
        .await?;
    clinic
        .link_staff_identity(&admin_ctx, admin, &PersonNumber::parse("41017040071")?)
        .await?;
    clinic
        .grant_role(&admin_ctx, admin, Role::ClinicAdmin, now, year)
        .await?;

    let (_op, provider) = provider(ProviderKind::HelseId, HELSEID_CALLBACK).await?;
    let routes = router(
        AppState {
            helseid: Some(Arc::new(LoginFlow::new(provider))),
            ..AppState::new(app.clone())
        },
        false,
    );

    let front = call(&routes, get(&format!("/k/{ORG_A}/ansatt/"), None)?).await?;
    assert!(front.body.contains("Logg inn med HelseID"));

    // Someone HelseID knows but the clinic does not.
    let stranger = staff_login(&routes, "31129956715:181000009").await?;
    let refused = stranger.err().ok_or("a stranger gets no session")?;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("ikke registrert som ansatt"));

    let doc = staff_login(&routes, "01017040088:181000001")
        .await?
        .map_err(|p| p.body)?;
    let home = call(&routes, get(&format!("/k/{ORG_A}/ansatt/"), Some(&doc))?).await?;
    assert!(
        home.body.contains("Dr. Helse") && home.body.contains("Lege"),
        "{}",
        home.body
    );
    assert!(
        home.body.contains("Egen Pasient")
            && home.body.contains("Teamets Pasient")
            && !home.body.contains("Annen Pasient"),
        "own and the team's patients only"
    );
    let page = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/pasient/{teams}"), Some(&doc))?,
    )
    .await?;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("gjennom teamet «Legeteamet»"));
    let csrf = home.csrf();

    // Finding a patient by number; the number goes in a POST body, never in a URL.
    let found = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/ansatt/sok"),
            &doc,
            &format!("csrf={csrf}&fnr={}", synthetic_fnr(902)),
        )?,
    )
    .await?;
    assert_eq!(found.status, StatusCode::SEE_OTHER);
    assert_eq!(
        found.location(),
        format!("/k/{ORG_A}/ansatt/pasient/{other}")
    );
    let no_csrf = call(
        &routes,
        post(&format!("/k/{ORG_A}/ansatt/sok"), &doc, "csrf=x&fnr=1")?,
    )
    .await?;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);

    // Own patient: open. Other patient: refused, with the emergency form.
    let page = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/pasient/{own}"), Some(&doc))?,
    )
    .await?;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("behandlingsrelasjon"));
    let page = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/pasient/{other}"), Some(&doc))?,
    )
    .await?;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("Nødtilgang") && !page.body.contains("Annen Pasient"));

    let short = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/ansatt/pasient/{other}/nodtilgang"),
            &doc,
            &format!("csrf={csrf}&begrunnelse=kort&minutter=30"),
        )?,
    )
    .await?;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    let granted = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/ansatt/pasient/{other}/nodtilgang"),
            &doc,
            &format!(
                "csrf={csrf}&begrunnelse=Pasienten+er+bevisstl%C3%B8s+i+venterommet&minutter=30"
            ),
        )?,
    )
    .await?;
    assert_eq!(granted.status, StatusCode::SEE_OTHER);
    let page = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/pasient/{other}"), Some(&doc))?,
    )
    .await?;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Annen Pasient") && page.body.contains("nødtilgang"));

    // Only the administrator sees and closes the review queue.
    let denied = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/nodtilgang"), Some(&doc))?,
    )
    .await?;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let ada = staff_login(&routes, "41017040071")
        .await?
        .map_err(|p| p.body)?;
    let queue = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/nodtilgang"), Some(&ada))?,
    )
    .await?;
    assert!(
        queue.body.contains("Pasienten er bevisstløs i venterommet")
            && queue.body.contains("Dr. Helse"),
        "{}",
        queue.body
    );
    let id = queue
        .body
        .split("/ansatt/nodtilgang/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .ok_or("review form")?
        .to_owned();
    let done = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/ansatt/nodtilgang/{id}"),
            &ada,
            &format!("csrf={}&merknad=I+orden", queue.csrf()),
        )?,
    )
    .await?;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let queue = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/nodtilgang"), Some(&ada))?,
    )
    .await?;
    assert!(!queue.body.contains("venterommet"));
    // The administrator has no health-data access.
    let page = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/pasient/{own}"), Some(&ada))?,
    )
    .await?;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(!page.body.contains("Egen Pasient"));

    // The administrator sees the security events: the refusal and the emergency access.
    let events = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/hendelser"), Some(&ada))?,
    )
    .await?;
    assert_eq!(events.status, StatusCode::OK);
    assert!(
        events.body.contains("Avvist forsøk")
            && events.body.contains("Nødtilgang")
            && events.body.contains("Dr. Helse"),
        "{}",
        events.body
    );
    assert!(
        events.body.contains("Mislykket innlogging"),
        "the stranger's login is there too"
    );
    let not_admin = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/hendelser"), Some(&doc))?,
    )
    .await?;
    assert_eq!(not_admin.status, StatusCode::FORBIDDEN);

    // The access review lists the grants in force; the administrator can end one.
    let review = call(
        &routes,
        get(
            &format!("/k/{ORG_A}/ansatt/tilgangsgjennomgang"),
            Some(&ada),
        )?,
    )
    .await?;
    assert!(
        review.body.contains("Dr. Helse") && review.body.contains("Lege"),
        "{}",
        review.body
    );
    let grant = review
        .body
        .split("/ansatt/tilgangsgjennomgang/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .ok_or("form")?
        .to_owned();
    let bad = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/ansatt/tilgangsgjennomgang/{grant}"),
            &ada,
            &format!("csrf={}&beslutning=kanskje", review.csrf()),
        )?,
    )
    .await?;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // Acts done in a session name it in the audit log (X3).
    let entries = clinic.store().entries_for_patient(&own.to_string()).await?;
    assert!(
        entries.iter().any(|e| e.action == "patient.read"
            && e.source_session
                .as_deref()
                .is_some_and(|s| s.starts_with("session:"))),
        "{entries:?}"
    );
    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

async fn staff_see_and_end_their_sessions_and_log_out_at_helseid_s4_x3(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let clinic = app
        .create_clinic(&org(ORG_A), "Normland legesenter")
        .await?;
    let admin_ctx = ctx(ORG_A);
    let now = app.now();
    let doctor = clinic
        .add_staff(&admin_ctx, &PersonName::parse("Dr. Økt")?, None)
        .await?;
    clinic
        .link_staff_identity(&admin_ctx, doctor, &PersonNumber::parse("01017040088")?)
        .await?;
    clinic
        .grant_role(
            &admin_ctx,
            doctor,
            Role::Doctor,
            now,
            Timestamp(now.0 + 365 * 86_400_000_000),
        )
        .await?;
    let (op, provider) = provider(ProviderKind::HelseId, HELSEID_CALLBACK).await?;
    let routes = router(
        AppState {
            helseid: Some(Arc::new(LoginFlow::new(provider))),
            ..AppState::new(app.clone())
        },
        false,
    );
    let hint = "01017040088:181000001";
    let elsewhere = staff_login(&routes, hint).await?.map_err(|p| p.body)?;
    let mut browser = Browser::new();
    let here = login_in(
        &mut browser,
        &routes,
        &format!("/k/{ORG_A}/ansatt/innlogging?nivaa=hoy"),
        hint,
        HELSEID_CALLBACK,
    )
    .await?
    .cookie();

    let list = format!("/k/{ORG_A}/ansatt/okter");
    let home = call(&routes, get(&format!("/k/{ORG_A}/ansatt/"), Some(&here))?).await?;
    assert!(
        home.body.contains(&format!("href=\"{list}\"")) && home.body.contains("Logg ut"),
        "{}",
        home.body
    );
    let page = call(&routes, get(&list, Some(&here))?).await?;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("HelseID") && page.body.contains("høyt"));
    let rows = session_rows(&page.body);
    assert_eq!(rows.len(), 2);
    let (_, other) = rows.iter().find(|(this, _)| !*this).ok_or("the other")?;
    let ended = call(
        &routes,
        post(
            &format!("{list}/avslutt"),
            &here,
            &format!("csrf={}&okt={other}", page.csrf()),
        )?,
    )
    .await?;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert_eq!(ended.location(), format!("{list}?avsluttet=ja"));
    let gone = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/"), Some(&elsewhere))?,
    )
    .await?;
    assert!(gone.body.contains("Logg inn med HelseID"), "{}", gone.body);

    // Logout from the workspace: here, then at HelseID, back to a page that leads to the
    // workspace.
    let out = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/utlogging"),
            &here,
            &format!("csrf={}", home.csrf()),
        )?,
    )
    .await?;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    assert!(out.body.contains("Logg ut av HelseID"));
    let (action, fields) = form_of(&out.body).ok_or("logout form")?;
    assert_eq!(action, format!("{}/connect/endsession", op.issuer));
    let returned = browser
        .logout_post(&action, &fields, &format!("{BASE}{HELSEID_LOGGED_OUT}"))
        .await;
    let done = call(
        &routes,
        get(
            &format!(
                "{HELSEID_LOGGED_OUT}?state={}",
                returned.get("state").ok_or("state")?
            ),
            None,
        )?,
    )
    .await?;
    assert!(
        done.body.contains("av HelseID")
            && done.body.contains(&format!("href=\"/k/{ORG_A}/ansatt/\"")),
        "{}",
        done.body
    );
    let after = call(&routes, get(&format!("/k/{ORG_A}/ansatt/"), Some(&here))?).await?;
    assert!(after.body.contains("Logg inn med HelseID"));
    app.close().await;
    Ok(())
}

both_backends!(
    staff_see_own_patients_and_need_reviewed_emergency_access_for_others_s1_s3,
    staff_see_and_end_their_sessions_and_log_out_at_helseid_s4_x3
);
