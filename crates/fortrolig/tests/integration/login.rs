//! Patient login through ID-porten into the portal (issue 3 items 1 and 5; P1, S4, X2, X3):
//! the real client code against the local provider, the real router, a session cookie
//! that is HttpOnly and SameSite=Strict, CSRF-checked logout, step-up to level high, and
//! refusals that are security events.

use std::sync::Arc;

use axum::http::{StatusCode, header};
use fortrolig_identity::ProviderKind;
use fortrolig_identity::testing::Browser;
use fortrolig_service::SessionSubject;
use fortrolig_web::{AppState, IDPORTEN_CALLBACK, IDPORTEN_LOGGED_OUT, LoginFlow, router};

use crate::support::{ORG_A, TestEnv, TestResult, both_backends, ctx, find_marker, org, patient};
use crate::web_support::{
    BASE, Res, call, form_of, get, login, login_carrying, login_elsewhere, login_in, post,
    provider_with, session_rows,
};

type Portal = (
    fortrolig_service::Fortrolig,
    fortrolig_identity::testing::MockOp,
    axum::Router,
);

async fn portal(env: &TestEnv, name: &str) -> Res<Portal> {
    let app = env.app().await?;
    let clinic = app
        .create_clinic(&org(ORG_A), "Normland legesenter")
        .await?;
    clinic
        .add_patient(&ctx(ORG_A), &patient("21879498012", name))
        .await?;
    let (op, routes) = portal_routes(&app, &[]).await?;
    Ok((app, op, routes))
}

/// The portal's routes with ID-porten played by a provider with `mock_env` settings.
async fn portal_routes(
    app: &fortrolig_service::Fortrolig,
    mock_env: &[(&str, &str)],
) -> Res<(fortrolig_identity::testing::MockOp, axum::Router)> {
    let (op, provider) = provider_with(ProviderKind::IdPorten, IDPORTEN_CALLBACK, mock_env).await?;
    let state = AppState {
        idporten: Some(Arc::new(LoginFlow::new(provider))),
        ..AppState::new(app.clone())
    };
    Ok((op, router(state, false)))
}

async fn login_high(routes: &axum::Router, pid: &str) -> Res<crate::web_support::Page> {
    login(
        routes,
        &format!("/k/{ORG_A}/innlogging?nivaa=hoy"),
        pid,
        IDPORTEN_CALLBACK,
    )
    .await
}

async fn patient_logs_in_with_idporten_and_out_with_csrf_checked_form_s4_x2(
    env: &TestEnv,
) -> TestResult {
    let (app, _op, routes) = portal(env, "Kari Innlogget").await?;

    // Not logged in: the portal offers ID-porten and tells how to use it safely (P3).
    let front = call(&routes, get(&format!("/k/{ORG_A}/"), None)?).await?;
    assert!(front.body.contains("Logg inn med ID-porten") && front.body.contains("egen telefon"));

    let back = login_high(&routes, "21879498012").await?;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    let cookie = back.header(header::SET_COOKIE);
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(
        !back.header(header::REFRESH).is_empty(),
        "a same-site step carries the user on"
    );
    let session = back.cookie();

    let home = call(&routes, get(&format!("/k/{ORG_A}/"), Some(&session))?).await?;
    assert!(
        home.body.contains("Kari Innlogget") && home.body.contains("høyt"),
        "{}",
        home.body
    );
    assert_eq!(home.header(header::CACHE_CONTROL), "no-store");
    let csrf = home.csrf();

    // Someone else's code and state, completed in this browser: refused (login CSRF).
    let elsewhere = login_elsewhere(
        &routes,
        &format!("/k/{ORG_A}/innlogging?nivaa=hoy"),
        "21879498012",
        IDPORTEN_CALLBACK,
    )
    .await?;
    assert_eq!(elsewhere.status, StatusCode::BAD_REQUEST);
    assert!(
        elsewhere.body.contains("samme nettleser"),
        "{}",
        elsewhere.body
    );
    assert!(elsewhere.headers.get(header::SET_COOKIE).is_none());

    // A callback with a state that was never issued (or was already used).
    let replay = call(
        &routes,
        get(
            &format!("{IDPORTEN_CALLBACK}?code=abc&state=brukt-eller-ukjent"),
            None,
        )?,
    )
    .await?;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert!(replay.body.contains("utløpt eller allerede brukt"));

    // A made-up state from a browser with a login under way: refused, and a security
    // event in the clinic where that login started (X3).
    let started = call(
        &routes,
        get(&format!("/k/{ORG_A}/innlogging?nivaa=hoy"), None)?,
    )
    .await?;
    let binding = started.cookie();
    assert!(!binding.is_empty(), "the login binds the browser");
    let forged = call(
        &routes,
        get(
            &format!("{IDPORTEN_CALLBACK}?code=abc&state=forfalsket"),
            Some(&binding),
        )?,
    )
    .await?;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    let clinic = app.clinic(&org(ORG_A)).await?;
    let logged = clinic
        .store()
        .entries_up_to(clinic.audit_size().await?)
        .await?;
    assert!(
        logged
            .iter()
            .any(|e| e.action == "login.failed" && e.reason.contains("feil state")),
        "the forged answer is a security event"
    );

    // Logout without the CSRF token: refused in Norwegian, the session stays.
    let refused = call(
        &routes,
        post(&format!("/k/{ORG_A}/utlogging"), &session, "csrf=feil")?,
    )
    .await?;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("Skjemaet var utløpt"));
    assert!(
        call(&routes, get(&format!("/k/{ORG_A}/"), Some(&session))?)
            .await?
            .body
            .contains("Kari Innlogget")
    );

    let out = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/utlogging"),
            &session,
            &format!("csrf={csrf}"),
        )?,
    )
    .await?;
    // Logged out here; the page carries the user on to log out at ID-porten too.
    assert_eq!(out.status, StatusCode::OK);
    assert!(out.header(header::SET_COOKIE).contains("Max-Age=0"));
    let after = call(&routes, get(&format!("/k/{ORG_A}/"), Some(&session))?).await?;
    assert!(
        after.body.contains("Logg inn med ID-porten"),
        "the old cookie no longer works"
    );

    // Someone ID-porten knows but the clinic does not: refused, and a security event.
    let before = app.clinic(&org(ORG_A)).await?.store().audit_size().await?;
    let stranger = login_high(&routes, "01017040088").await?;
    assert_eq!(stranger.status, StatusCode::FORBIDDEN);
    assert!(stranger.body.contains("ikke registrert som pasient"));
    assert!(stranger.headers.get(header::SET_COOKIE).is_none());
    assert_eq!(
        app.clinic(&org(ORG_A)).await?.store().audit_size().await?,
        before + 1,
        "the refusal is logged"
    );
    let event = last_security_event(&app).await?;
    assert_eq!(
        (event.action.as_str(), event.outcome.as_str()),
        ("login.failed", "denied")
    );
    assert!(event.reason.contains("ukjent person"), "{}", event.reason);
    let out = env.cli(&["audit", "verify"]);
    assert!(out.status.success());
    app.close().await;
    Ok(())
}

async fn substantial_session_is_sent_to_step_up_for_the_access_log_x2_p9(
    env: &TestEnv,
) -> TestResult {
    let (app, _op, routes) = portal(env, "Kari Innsyn").await?;

    let low = login(
        &routes,
        &format!("/k/{ORG_A}/innlogging?nivaa=betydelig"),
        "21879498012",
        IDPORTEN_CALLBACK,
    )
    .await?;
    let home = call(&routes, get(&format!("/k/{ORG_A}/"), Some(&low.cookie()))?).await?;
    assert!(home.body.contains("betydelig"), "{}", home.body);

    // The access log needs level high: the user is sent to log in again, and back here.
    let log_path = format!("/k/{ORG_A}/innsyn/logg");
    let step = call(&routes, get(&log_path, Some(&low.cookie()))?).await?;
    assert_eq!(step.status, StatusCode::SEE_OTHER);
    let again = step.location();
    assert_eq!(
        again,
        format!("/k/{ORG_A}/innlogging?nivaa=hoy&neste={log_path}")
    );
    let high = login_carrying(
        &mut Browser::new(),
        &routes,
        &again,
        Some(&low.cookie()),
        "21879498012",
        IDPORTEN_CALLBACK,
    )
    .await?;
    assert_eq!(
        high.header(header::REFRESH),
        format!("0;url={log_path}"),
        "back to where the user was going"
    );
    // The new session replaces the one the browser had: one browser, one open session.
    let old = call(&routes, get(&format!("/k/{ORG_A}/"), Some(&low.cookie()))?).await?;
    assert!(old.body.contains("Logg inn med ID-porten"), "{}", old.body);
    let clinic = app.clinic(&org(ORG_A)).await?;
    let p = clinic
        .patient_id_by_number(&fortrolig_domain::PersonNumber::parse("21879498012")?)
        .await?
        .ok_or("patient")?;
    assert_eq!(
        clinic.sessions_of(SessionSubject::Patient(p)).await?.len(),
        1
    );
    let log = call(&routes, get(&log_path, Some(&high.cookie()))?).await?;
    assert_eq!(log.status, StatusCode::OK);
    assert!(
        log.body.contains("Hvem har sett opplysningene dine")
            && log.body.contains("Innlogging")
            && log.body.contains("Deg"),
        "{}",
        log.body
    );
    assert!(
        log.body.contains("Systemet"),
        "the registration by the clinic shows"
    );
    app.close().await;
    Ok(())
}

async fn one_address_cannot_fill_the_table_of_logins_under_way_x9(env: &TestEnv) -> TestResult {
    use axum::extract::ConnectInfo;
    let (app, _op, routes) = portal(env, "Kari Flom").await?;
    let start = |ip: [u8; 4]| -> Res<axum::http::Request<axum::body::Body>> {
        let addr = std::net::SocketAddr::from((ip, 40000));
        Ok(
            axum::http::Request::get(format!("/k/{ORG_A}/innlogging?nivaa=hoy"))
                .extension(ConnectInfo(addr))
                .body(axum::body::Body::empty())?,
        )
    };
    for _ in 0..30 {
        assert_eq!(
            call(&routes, start([203, 0, 113, 9])?).await?.status,
            StatusCode::SEE_OTHER
        );
    }
    let refused = call(&routes, start([203, 0, 113, 9])?).await?;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        refused.body.contains("For mange forsøk"),
        "{}",
        refused.body
    );
    assert_eq!(
        call(&routes, start([198, 51, 100, 7])?).await?.status,
        StatusCode::SEE_OTHER,
        "others are not affected"
    );
    app.close().await;
    Ok(())
}

async fn last_security_event(app: &fortrolig_service::Fortrolig) -> Res<fortrolig_audit::LogEntry> {
    let clinic = app.clinic(&org(ORG_A)).await?;
    let events = clinic.store().security_events(0, 1).await?;
    Ok(events.into_iter().next().ok_or("no security event")?)
}

async fn logout_ends_the_session_here_and_at_idporten_then_shows_our_page_s4_x6(
    env: &TestEnv,
) -> TestResult {
    let (app, op, routes) = portal(env, "Kari Utlogging").await?;
    let mut browser = Browser::new();
    let back = login_in(
        &mut browser,
        &routes,
        &format!("/k/{ORG_A}/innlogging?nivaa=hoy"),
        "21879498012",
        IDPORTEN_CALLBACK,
    )
    .await?;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    let session = back.cookie();
    // The id_token kept for the logout is sealed: no JWT is stored in the clear (X6).
    assert!(find_marker(&env.stored_bytes(), b"eyJhbGciOi").is_empty());

    let csrf = call(&routes, get(&format!("/k/{ORG_A}/"), Some(&session))?)
        .await?
        .csrf();
    let out = call(
        &routes,
        post(
            &format!("/k/{ORG_A}/utlogging"),
            &session,
            &format!("csrf={csrf}"),
        )?,
    )
    .await?;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    assert!(out.header(header::SET_COOKIE).contains("Max-Age=0"));
    assert!(out.body.contains("Du er logget ut her") && out.body.contains("Logg ut av ID-porten"));
    // Our policy lets this page post to the provider, and to nowhere else new.
    assert!(
        out.header(header::CONTENT_SECURITY_POLICY)
            .contains(&format!("form-action 'self' {};", op.issuer)),
        "{}",
        out.header(header::CONTENT_SECURITY_POLICY)
    );
    let (action, fields) = form_of(&out.body).ok_or("logout form")?;
    assert_eq!(action, format!("{}/logout", op.issuer));
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "id_token_hint",
            "client_id",
            "post_logout_redirect_uri",
            "state"
        ]
    );
    assert!(
        !out.header(header::LOCATION).contains("id_token"),
        "the id_token is posted, never put in an address"
    );
    // Logged out here before the provider is even asked.
    let after = call(&routes, get(&format!("/k/{ORG_A}/"), Some(&session))?).await?;
    assert!(after.body.contains("Logg inn med ID-porten"));

    // The provider accepts the id_token as hint (it checks signature, issuer, audience),
    // ends its session and sends the user to our registered page with our state.
    let returned = browser
        .logout_post(&action, &fields, &format!("{BASE}{IDPORTEN_LOGGED_OUT}"))
        .await;
    let state = returned.get("state").ok_or("state back")?;
    let done = call(
        &routes,
        get(&format!("{IDPORTEN_LOGGED_OUT}?state={state}"), None)?,
    )
    .await?;
    assert_eq!(done.status, StatusCode::OK);
    assert!(
        done.body
            .contains("Du er logget ut av Fortrolig og av ID-porten")
            && done.body.contains(&format!("href=\"/k/{ORG_A}/\"")),
        "{}",
        done.body
    );
    // The state is used once; a stale or made-up one gets a page without the clinic.
    let again = call(
        &routes,
        get(&format!("{IDPORTEN_LOGGED_OUT}?state={state}"), None)?,
    )
    .await?;
    assert!(again.body.contains("href=\"/\""), "{}", again.body);

    let out = env.cli(&["audit", "verify"]);
    assert!(out.status.success());
    app.close().await;
    Ok(())
}

async fn forged_and_expired_id_tokens_are_refused_in_norwegian_and_recorded_s4_x3(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let clinic = app
        .create_clinic(&org(ORG_A), "Normland legesenter")
        .await?;
    clinic
        .add_patient(&ctx(ORG_A), &patient("21879498012", "Kari Ekte"))
        .await?;
    // The person a tampered token names is a patient too: only the signature check
    // stands between the forgery and their data.
    clinic
        .add_patient(&ctx(ORG_A), &patient("31129956715", "Ola Offer"))
        .await?;
    for (mode, told, recorded) in [
        (
            "tampered",
            "Vi kunne ikke bekrefte at svaret kom fra ID-porten",
            "ugyldig signatur",
        ),
        ("expired", "var utløpt da den kom fram", "utløpt id_token"),
    ] {
        let (_op, routes) = portal_routes(&app, &[("MOCK_OP_ID_TOKEN", mode)]).await?;
        let before = clinic.store().audit_size().await?;
        let refused = login_high(&routes, "21879498012").await?;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{mode}");
        assert!(refused.body.contains(told), "{mode}: {}", refused.body);
        assert!(
            refused.headers.get(header::SET_COOKIE).is_none(),
            "{mode}: no session"
        );
        assert_eq!(clinic.store().audit_size().await?, before + 1, "{mode}");
        let event = last_security_event(&app).await?;
        assert_eq!(
            (event.action.as_str(), event.outcome.as_str()),
            ("login.failed", "denied"),
            "{mode}"
        );
        assert!(event.reason.contains(recorded), "{mode}: {}", event.reason);
    }
    let out = env.cli(&["audit", "verify"]);
    assert!(out.status.success());
    app.close().await;
    Ok(())
}

async fn a_patient_lists_their_sessions_and_ends_one_with_a_csrf_checked_form_s4_x3(
    env: &TestEnv,
) -> TestResult {
    let (app, _op, routes) = portal(env, "Kari Økter").await?;
    let list = format!("/k/{ORG_A}/okter");
    let not_logged_in = call(&routes, get(&list, None)?).await?;
    assert_eq!(not_logged_in.status, StatusCode::SEE_OTHER);
    assert_eq!(
        not_logged_in.location(),
        format!("/k/{ORG_A}/innlogging?nivaa=betydelig&neste={list}")
    );

    let elsewhere = login_high(&routes, "21879498012").await?.cookie();
    let here = login_high(&routes, "21879498012").await?.cookie();
    let home = call(&routes, get(&format!("/k/{ORG_A}/"), Some(&here))?).await?;
    assert!(
        home.body.contains(&format!("href=\"{list}\"")),
        "linked from the portal"
    );

    let page = call(&routes, get(&list, Some(&here))?).await?;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<h1>Dine økter</h1>")
            && page
                .body
                .contains("<caption>2 åpne økter (norsk tid)</caption>")
            && page.body.contains("<th scope=\"col\">Sist brukt</th>")
            && page.body.contains("ID-porten")
            && page.body.contains("høyt")
            && page.body.contains(" kl. "),
        "{}",
        page.body
    );
    for cookie in [&here, &elsewhere] {
        let token = cookie.split_once('=').map(|(_, t)| t).unwrap_or_default();
        assert!(!page.body.contains(token), "a session token is never shown");
    }
    let rows = session_rows(&page.body);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows.iter().filter(|(this, _)| *this).count(), 1);
    let (_, other) = rows.iter().find(|(this, _)| !*this).ok_or("the other")?;
    assert!(other.starts_with("session:"));
    let csrf = page.csrf();
    let end = format!("{list}/avslutt");

    let forged = call(
        &routes,
        post(&end, &here, &format!("csrf=feil&okt={other}"))?,
    )
    .await?;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        session_rows(&call(&routes, get(&list, Some(&here))?).await?.body).len(),
        2,
        "nothing ended without the CSRF token"
    );

    let ended = call(
        &routes,
        post(&end, &here, &format!("csrf={csrf}&okt={other}"))?,
    )
    .await?;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    let after = call(&routes, get(&ended.location(), Some(&here))?).await?;
    assert!(after.body.contains("Økten er avsluttet"), "{}", after.body);
    assert_eq!(session_rows(&after.body).len(), 1);
    let gone = call(&routes, get(&format!("/k/{ORG_A}/"), Some(&elsewhere))?).await?;
    assert!(
        gone.body.contains("Logg inn med ID-porten"),
        "the other browser is logged out"
    );
    let clinic = app.clinic(&org(ORG_A)).await?;
    let patient_id = clinic
        .patient_id_by_number(&fortrolig_domain::PersonNumber::parse("21879498012")?)
        .await?
        .ok_or("patient")?;
    assert!(
        clinic
            .store()
            .entries_for_patient(&patient_id.to_string())
            .await?
            .iter()
            .any(|e| e.action == "session.ended" && &e.object == other),
        "the ending is in the log, naming the session by its reference"
    );

    // Already ended: said so, nothing else happens.
    let again = call(
        &routes,
        post(&end, &here, &format!("csrf={csrf}&okt={other}"))?,
    )
    .await?;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(again.body.contains("Fant ikke økten"));

    // Ending this session from the list is logging out, at ID-porten too.
    let (_, mine) = session_rows(&after.body).into_iter().next().ok_or("mine")?;
    let out = call(
        &routes,
        post(&end, &here, &format!("csrf={csrf}&okt={mine}"))?,
    )
    .await?;
    assert_eq!(out.status, StatusCode::OK);
    assert!(out.body.contains("Logg ut av ID-porten"));
    assert!(out.header(header::SET_COOKIE).contains("Max-Age=0"));
    let out = env.cli(&["audit", "verify"]);
    assert!(out.status.success());
    app.close().await;
    Ok(())
}

both_backends!(
    logout_ends_the_session_here_and_at_idporten_then_shows_our_page_s4_x6,
    forged_and_expired_id_tokens_are_refused_in_norwegian_and_recorded_s4_x3,
    a_patient_lists_their_sessions_and_ends_one_with_a_csrf_checked_form_s4_x3,
    one_address_cannot_fill_the_table_of_logins_under_way_x9,
    patient_logs_in_with_idporten_and_out_with_csrf_checked_form_s4_x2,
    substantial_session_is_sent_to_step_up_for_the_access_log_x2_p9
);
