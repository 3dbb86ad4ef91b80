//! Patient login through ID-porten into the portal (issue 3 items 1 and 5; P1, S4, X2, X3):
//! the real client code against the local provider, the real router, a session cookie
//! that is HttpOnly and SameSite=Strict, CSRF-checked logout, and refusals that are
//! security events.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use fortrolig_identity::testing::{MockOp, browse};
use fortrolig_identity::{ClientKey, Provider, ProviderConfig, ProviderKind};
use fortrolig_web::{AppState, IDPORTEN_CALLBACK, LoginFlow, router};
use tower::ServiceExt;

use crate::support::{ORG_A, TestEnv, TestResult, both_backends, ctx, org, patient};

const BASE: &str = "http://127.0.0.1:9";

struct Page {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn call(
    routes: &axum::Router,
    request: Request<Body>,
) -> Result<Page, Box<dyn std::error::Error + Send + Sync>> {
    let response = routes.clone().oneshot(request).await?;
    let status = response.status();
    let headers = response.headers().clone();
    let body =
        String::from_utf8_lossy(&to_bytes(response.into_body(), 1 << 20).await?).into_owned();
    Ok(Page {
        status,
        headers,
        body,
    })
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut r = Request::get(path);
    if let Some(c) = cookie {
        r = r.header(header::COOKIE, c);
    }
    r.body(Body::empty()).unwrap_or_default()
}

/// Logs in as `pid` (the provider's test user) and returns the callback page.
async fn login_as(
    routes: &axum::Router,
    pid: &str,
) -> Result<Page, Box<dyn std::error::Error + Send + Sync>> {
    login_from(routes, &format!("/k/{ORG_A}/innlogging?nivaa=hoy"), pid).await
}

/// Follows a login that starts at `start_path` (our route) through the provider and back.
async fn login_from(
    routes: &axum::Router,
    start_path: &str,
    pid: &str,
) -> Result<Page, Box<dyn std::error::Error + Send + Sync>> {
    let start = call(routes, get(start_path, None)).await?;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    let to_provider = start
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or("location")?;
    assert!(
        to_provider.contains("code_challenge_method=S256") && to_provider.contains("idporten-loa-")
    );
    let url = format!("{to_provider}&login_hint={pid}");
    let back = browse(&url, &format!("{BASE}{IDPORTEN_CALLBACK}")).await;
    let query: String = back
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(':', "%3A").replace('/', "%2F")))
        .collect::<Vec<_>>()
        .join("&");
    call(routes, get(&format!("{IDPORTEN_CALLBACK}?{query}"), None)).await
}

async fn patient_logs_in_with_idporten_and_out_with_csrf_checked_form_s4_x2(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let clinic = app
        .create_clinic(&org(ORG_A), "Normland legesenter")
        .await?;
    clinic
        .add_patient(&ctx(ORG_A), &patient("21879498012", "Kari Innlogget"))
        .await?;

    let (key, _) = ClientKey::generate("fortrolig-1")?;
    let op = MockOp::start("idporten", &key, &format!("{BASE}{IDPORTEN_CALLBACK}"));
    let provider = Provider::discover(
        ProviderConfig {
            kind: ProviderKind::IdPorten,
            issuer: op.issuer.clone(),
            client_id: "fortrolig".into(),
            redirect_url: format!("{BASE}{IDPORTEN_CALLBACK}"),
        },
        key,
    )
    .await?;
    let state = AppState {
        app: app.clone(),
        idporten: Some(Arc::new(LoginFlow::new(provider))),
        helseid: None,
        secure_cookies: false,
    };
    let routes = router(state, false);

    // Not logged in: the portal offers ID-porten and tells how to use it safely (P3).
    let front = call(&routes, get(&format!("/k/{ORG_A}/"), None)).await?;
    assert!(front.body.contains("Logg inn med ID-porten") && front.body.contains("egen telefon"));

    let back = login_as(&routes, "21879498012").await?;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    let cookie = back
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .ok_or("cookie")?
        .to_owned();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(
        back.headers.get(header::REFRESH).is_some(),
        "a same-site step carries the user on"
    );
    let session_cookie = cookie.split(';').next().unwrap_or_default().to_owned();

    let home = call(&routes, get(&format!("/k/{ORG_A}/"), Some(&session_cookie))).await?;
    assert!(
        home.body.contains("Kari Innlogget") && home.body.contains("høyt"),
        "{}",
        home.body
    );
    assert_eq!(
        home.headers
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let csrf = home
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .ok_or("csrf")?
        .to_owned();

    // The same callback again: the login was used once and is gone.
    let replay = login_as_replay(&routes).await?;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert!(replay.body.contains("utløpt eller allerede brukt"));

    // Logout without the CSRF token: refused in Norwegian, the session stays.
    let forged = Request::post(format!("/k/{ORG_A}/utlogging"))
        .header(header::COOKIE, &session_cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("csrf=feil"))?;
    let refused = call(&routes, forged).await?;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("Skjemaet var utløpt"));
    assert!(
        call(&routes, get(&format!("/k/{ORG_A}/"), Some(&session_cookie)))
            .await?
            .body
            .contains("Kari Innlogget")
    );

    let logout = Request::post(format!("/k/{ORG_A}/utlogging"))
        .header(header::COOKIE, &session_cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={csrf}")))?;
    let out = call(&routes, logout).await?;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(
        out.headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .contains("Max-Age=0")
    );
    let after = call(&routes, get(&format!("/k/{ORG_A}/"), Some(&session_cookie))).await?;
    assert!(
        after.body.contains("Logg inn med ID-porten"),
        "the old cookie no longer works"
    );

    // Someone ID-porten knows but the clinic does not: refused, and a security event.
    let stranger = login_as(&routes, "01017040088").await?;
    assert_eq!(stranger.status, StatusCode::FORBIDDEN);
    assert!(stranger.body.contains("ikke registrert som pasient"));
    assert!(stranger.headers.get(header::SET_COOKIE).is_none());
    let failures = app.clinic(&org(ORG_A)).await?.store().audit_size().await?;
    assert!(failures > 0);
    let out = env.cli(&["audit", "verify"]);
    assert!(out.status.success());
    app.close().await;
    Ok(())
}

/// A callback with a state that was never issued (or already used).
async fn login_as_replay(
    routes: &axum::Router,
) -> Result<Page, Box<dyn std::error::Error + Send + Sync>> {
    call(
        routes,
        get(
            &format!("{IDPORTEN_CALLBACK}?code=abc&state=brukt-eller-ukjent"),
            None,
        ),
    )
    .await
}

fn cookie_of(page: &Page) -> String {
    page.headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .unwrap_or_default()
        .to_owned()
}

async fn substantial_session_is_sent_to_step_up_for_the_access_log_x2_p9(
    env: &TestEnv,
) -> TestResult {
    let app = env.app().await?;
    let clinic = app
        .create_clinic(&org(ORG_A), "Normland legesenter")
        .await?;
    clinic
        .add_patient(&ctx(ORG_A), &patient("21879498012", "Kari Innsyn"))
        .await?;
    let (key, _) = ClientKey::generate("fortrolig-1")?;
    let op = MockOp::start("idporten", &key, &format!("{BASE}{IDPORTEN_CALLBACK}"));
    let provider = Provider::discover(
        ProviderConfig {
            kind: ProviderKind::IdPorten,
            issuer: op.issuer.clone(),
            client_id: "fortrolig".into(),
            redirect_url: format!("{BASE}{IDPORTEN_CALLBACK}"),
        },
        key,
    )
    .await?;
    let routes = router(
        AppState {
            app: app.clone(),
            idporten: Some(Arc::new(LoginFlow::new(provider))),
            helseid: None,
            secure_cookies: false,
        },
        false,
    );

    let low = login_from(
        &routes,
        &format!("/k/{ORG_A}/innlogging?nivaa=betydelig"),
        "21879498012",
    )
    .await?;
    let low_cookie = cookie_of(&low);
    let home = call(&routes, get(&format!("/k/{ORG_A}/"), Some(&low_cookie))).await?;
    assert!(home.body.contains("betydelig"), "{}", home.body);

    // The access log needs level high: the user is sent to log in again, and back here.
    let log_path = format!("/k/{ORG_A}/innsyn/logg");
    let step = call(&routes, get(&log_path, Some(&low_cookie))).await?;
    assert_eq!(step.status, StatusCode::SEE_OTHER);
    let again = step
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or("location")?
        .to_owned();
    assert_eq!(
        again,
        format!("/k/{ORG_A}/innlogging?nivaa=hoy&neste={log_path}")
    );
    let high = login_from(&routes, &again, "21879498012").await?;
    let refresh = high
        .headers
        .get(header::REFRESH)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        refresh,
        format!("0;url={log_path}"),
        "back to where the user was going"
    );
    let log = call(&routes, get(&log_path, Some(&cookie_of(&high)))).await?;
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

    // An open redirect through `neste` is not possible.
    let evil = call(
        &routes,
        get(
            &format!("/k/{ORG_A}/innlogging?nivaa=hoy&neste=https://evil.example/"),
            None,
        ),
    )
    .await?;
    assert_eq!(evil.status, StatusCode::SEE_OTHER);
    app.close().await;
    Ok(())
}

both_backends!(
    patient_logs_in_with_idporten_and_out_with_csrf_checked_form_s4_x2,
    substantial_session_is_sent_to_step_up_for_the_access_log_x2_p9
);
