//! Driving the real router in-process, and a real local OpenID provider, for the web tests.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use fortrolig_identity::testing::MockOp;
use fortrolig_identity::{ClientKey, Provider, ProviderConfig, ProviderKind};
use tower::ServiceExt;

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The address the provider sends users back to. Nothing listens there: the tests take
/// the redirect from the provider and hand it to the router themselves.
pub const BASE: &str = "http://127.0.0.1:9";

pub struct Page {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> String {
        self.header(header::LOCATION)
    }

    pub fn header(&self, name: header::HeaderName) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// The `name=value` part of the cookie this page sets.
    pub fn cookie(&self) -> String {
        self.header(header::SET_COOKIE)
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    /// The CSRF token of the first form on the page.
    pub fn csrf(&self) -> String {
        self.body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_default()
            .to_owned()
    }
}

pub async fn call(routes: &axum::Router, request: Request<Body>) -> Res<Page> {
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

pub fn get(path: &str, cookie: Option<&str>) -> Res<Request<Body>> {
    let mut r = Request::get(path);
    if let Some(c) = cookie {
        r = r.header(header::COOKIE, c);
    }
    Ok(r.body(Body::empty())?)
}

pub fn post(path: &str, cookie: &str, form: &str) -> Res<Request<Body>> {
    Ok(Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))?)
}

/// A local provider of `kind` and the real client discovered against it.
pub async fn provider(kind: ProviderKind, callback: &str) -> Res<(MockOp, Provider)> {
    let (key, _) = ClientKey::generate("fortrolig-1")?;
    let profile = match kind {
        ProviderKind::IdPorten => "idporten",
        ProviderKind::HelseId => "helseid",
    };
    let op = MockOp::start(profile, &key, &format!("{BASE}{callback}"));
    let provider = Provider::discover(
        ProviderConfig {
            kind,
            issuer: op.issuer.clone(),
            client_id: "fortrolig".into(),
            redirect_url: format!("{BASE}{callback}"),
        },
        key,
    )
    .await?;
    Ok((op, provider))
}

/// Starts a login at `start_path`, plays the browser at the provider as `hint`, and hands
/// the provider's answer to our callback.
pub async fn login(
    routes: &axum::Router,
    start_path: &str,
    hint: &str,
    callback: &str,
) -> Res<Page> {
    let start = call(routes, get(start_path, None)?).await?;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    let to_provider = start.location();
    assert!(
        to_provider.contains("code_challenge_method=S256"),
        "{to_provider}"
    );
    let back = fortrolig_identity::testing::browse(
        &format!("{to_provider}&login_hint={hint}"),
        &format!("{BASE}{callback}"),
    )
    .await;
    let query: String = back
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(':', "%3A").replace('/', "%2F")))
        .collect::<Vec<_>>()
        .join("&");
    // The browser carries the binding cookie the start set.
    let binding = start.cookie();
    call(routes, get(&format!("{callback}?{query}"), Some(&binding))?).await
}

/// Like `login`, but the provider's answer arrives in another browser (no binding
/// cookie): a login-CSRF attempt.
pub async fn login_elsewhere(
    routes: &axum::Router,
    start_path: &str,
    hint: &str,
    callback: &str,
) -> Res<Page> {
    let start = call(routes, get(start_path, None)?).await?;
    let back = fortrolig_identity::testing::browse(
        &format!("{}&login_hint={hint}", start.location()),
        &format!("{BASE}{callback}"),
    )
    .await;
    let query: String = back
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(':', "%3A").replace('/', "%2F")))
        .collect::<Vec<_>>()
        .join("&");
    call(routes, get(&format!("{callback}?{query}"), None)?).await
}
