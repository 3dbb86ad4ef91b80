//! The staff workspace through HelseID (S1, S3, S4, X2, X3): own patients only, health
//! data only through a care relationship or recorded emergency access, emergency access
//! reviewed by the clinic administrator, unknown people refused.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use fortrolig_domain::access::Role;
use fortrolig_domain::{PersonName, PersonNumber, Timestamp};
use fortrolig_identity::testing::{MockOp, browse};
use fortrolig_identity::{ClientKey, Provider, ProviderConfig, ProviderKind};
use fortrolig_web::{AppState, HELSEID_CALLBACK, LoginFlow, router};
use tower::ServiceExt;

use crate::support::{ORG_A, TestEnv, TestResult, both_backends, ctx, org, patient, synthetic_fnr};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;
const BASE: &str = "http://127.0.0.1:9";

struct Page {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn call(routes: &axum::Router, request: Request<Body>) -> Res<Page> {
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

fn get(path: &str, cookie: &str) -> Res<Request<Body>> {
    Ok(Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())?)
}

fn post(path: &str, cookie: &str, form: &str) -> Res<Request<Body>> {
    Ok(Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))?)
}

fn location(page: &Page) -> String {
    page.headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Logs in through HelseID as `hint` (`PID:HPR`) and returns the session cookie, or the
/// refusal page.
async fn staff_login(routes: &axum::Router, hint: &str) -> Res<Result<String, Page>> {
    let start = call(
        routes,
        get(&format!("/k/{ORG_A}/ansatt/innlogging?nivaa=hoy"), "")?,
    )
    .await?;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    let to_provider = location(&start);
    assert!(
        to_provider.contains("Level4") && to_provider.contains("helseid"),
        "{to_provider}"
    );
    let back = browse(
        &format!("{to_provider}&login_hint={hint}"),
        &format!("{BASE}{HELSEID_CALLBACK}"),
    )
    .await;
    let query: String = back
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(':', "%3A").replace('/', "%2F")))
        .collect::<Vec<_>>()
        .join("&");
    let page = call(routes, get(&format!("{HELSEID_CALLBACK}?{query}"), "")?).await?;
    match page
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
    {
        Some(c) => Ok(Ok(c.split(';').next().unwrap_or_default().to_owned())),
        None => Ok(Err(page)),
    }
}

fn csrf_of(body: &str) -> String {
    body.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_owned()
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
    let admin = clinic
        .add_staff(&admin_ctx, &PersonName::parse("Ada Administrator")?, None)
        .await?;
    clinic
        .link_staff_identity(&admin_ctx, admin, &PersonNumber::parse("41017040071")?)
        .await?;
    clinic
        .grant_role(&admin_ctx, admin, Role::ClinicAdmin, now, year)
        .await?;

    let (key, _) = ClientKey::generate("fortrolig-1")?;
    let op = MockOp::start("helseid", &key, &format!("{BASE}{HELSEID_CALLBACK}"));
    let provider = Provider::discover(
        ProviderConfig {
            kind: ProviderKind::HelseId,
            issuer: op.issuer.clone(),
            client_id: "fortrolig".into(),
            redirect_url: format!("{BASE}{HELSEID_CALLBACK}"),
        },
        key,
    )
    .await?;
    let routes = router(
        AppState {
            app: app.clone(),
            idporten: None,
            helseid: Some(Arc::new(LoginFlow::new(provider))),
            secure_cookies: false,
        },
        false,
    );

    let front = call(&routes, get(&format!("/k/{ORG_A}/ansatt/"), "")?).await?;
    assert!(front.body.contains("Logg inn med HelseID"));

    // Someone HelseID knows but the clinic does not.
    let stranger = staff_login(&routes, "31129956715:181000009").await?;
    let refused = stranger.err().ok_or("a stranger gets no session")?;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("ikke registrert som ansatt"));

    let doc = staff_login(&routes, "01017040088:181000001")
        .await?
        .map_err(|p| p.body)?;
    let home = call(&routes, get(&format!("/k/{ORG_A}/ansatt/"), &doc)?).await?;
    assert!(
        home.body.contains("Dr. Helse") && home.body.contains("Lege"),
        "{}",
        home.body
    );
    assert!(
        home.body.contains("Egen Pasient") && !home.body.contains("Annen Pasient"),
        "own patients only"
    );
    let csrf = csrf_of(&home.body);

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
        location(&found),
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
        get(&format!("/k/{ORG_A}/ansatt/pasient/{own}"), &doc)?,
    )
    .await?;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("behandlingsrelasjon"));
    let page = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/pasient/{other}"), &doc)?,
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
        get(&format!("/k/{ORG_A}/ansatt/pasient/{other}"), &doc)?,
    )
    .await?;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Annen Pasient") && page.body.contains("nødtilgang"));

    // Only the administrator sees and closes the review queue.
    let denied = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/nodtilgang"), &doc)?,
    )
    .await?;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let ada = staff_login(&routes, "41017040071")
        .await?
        .map_err(|p| p.body)?;
    let queue = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/nodtilgang"), &ada)?,
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
            &format!("csrf={}&merknad=I+orden", csrf_of(&queue.body)),
        )?,
    )
    .await?;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let queue = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/nodtilgang"), &ada)?,
    )
    .await?;
    assert!(!queue.body.contains("venterommet"));
    // The administrator has no health-data access.
    let page = call(
        &routes,
        get(&format!("/k/{ORG_A}/ansatt/pasient/{own}"), &ada)?,
    )
    .await?;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(!page.body.contains("Egen Pasient"));

    clinic.verify_audit().await?;
    app.close().await;
    Ok(())
}

both_backends!(staff_see_own_patients_and_need_reviewed_emergency_access_for_others_s1_s3);
