//! Patient login through ID-porten into the portal (issue 3 items 1 and 5; P1, S4, X2, X3):
//! the real client code against the local provider, the real router, a session cookie
//! that is HttpOnly and SameSite=Strict, CSRF-checked logout, step-up to level high, and
//! refusals that are security events.

use std::sync::Arc;

use axum::http::{StatusCode, header};
use fortrolig_identity::ProviderKind;
use fortrolig_web::{AppState, IDPORTEN_CALLBACK, LoginFlow, router};

use crate::support::{ORG_A, TestEnv, TestResult, both_backends, ctx, org, patient};
use crate::web_support::{Res, call, get, login, login_elsewhere, post, provider};

async fn portal(
    env: &TestEnv,
    name: &str,
) -> Res<(
    fortrolig_service::Fortrolig,
    fortrolig_identity::testing::MockOp,
    axum::Router,
)> {
    let app = env.app().await?;
    let clinic = app
        .create_clinic(&org(ORG_A), "Normland legesenter")
        .await?;
    clinic
        .add_patient(&ctx(ORG_A), &patient("21879498012", name))
        .await?;
    let (op, provider) = provider(ProviderKind::IdPorten, IDPORTEN_CALLBACK).await?;
    let state = AppState {
        idporten: Some(Arc::new(LoginFlow::new(provider))),
        ..AppState::new(app.clone())
    };
    Ok((app, op, router(state, false)))
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
    assert_eq!(out.status, StatusCode::SEE_OTHER);
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
    let high = login(&routes, &again, "21879498012", IDPORTEN_CALLBACK).await?;
    assert_eq!(
        high.header(header::REFRESH),
        format!("0;url={log_path}"),
        "back to where the user was going"
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

both_backends!(
    one_address_cannot_fill_the_table_of_logins_under_way_x9,
    patient_logs_in_with_idporten_and_out_with_csrf_checked_form_s4_x2,
    substantial_session_is_sent_to_step_up_for_the_access_log_x2_p9
);
