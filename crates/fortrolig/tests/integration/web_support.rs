//! Driving the real router in-process, and a real local OpenID provider, for the web tests.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use fortrolig_identity::testing::{Browser, MockOp};
use fortrolig_identity::{ClientKey, Provider, ProviderConfig, ProviderKind};
use tower::ServiceExt;

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A session started in the service for `subject` at `level`: its cookie and CSRF token.
pub async fn session_cookie(
    clinic: &fortrolig_service::Clinic,
    subject: fortrolig_service::SessionSubject,
    level: fortrolig_domain::access::Level,
) -> Res<(String, String)> {
    let (token, session) = clinic
        .start_session(
            subject,
            level,
            "test",
            None,
            None,
            &fortrolig_domain::Source::default(),
        )
        .await?;
    Ok((
        format!("fortrolig_okt={}", token.as_str()),
        session.csrf_token().to_owned(),
    ))
}

/// A member of staff of clinic `ORG_A` with `role` for 30 days from `now`.
pub async fn staff_with_role(
    clinic: &fortrolig_service::Clinic,
    name: &str,
    role: fortrolig_domain::access::Role,
    now: fortrolig_domain::Timestamp,
) -> Res<fortrolig_domain::StaffId> {
    let admin = crate::support::ctx(crate::support::ORG_A);
    let id = clinic
        .add_staff(&admin, &fortrolig_domain::PersonName::parse(name)?, None)
        .await?;
    clinic
        .grant_role(
            &admin,
            id,
            role,
            now,
            fortrolig_domain::Timestamp(now.0 + 30 * 86_400_000_000),
        )
        .await?;
    Ok(id)
}

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
    provider_with(kind, callback, &[]).await
}

/// Where the provider sends the user after logout: the callback's sibling, as the
/// binary's configuration derives it.
pub fn logged_out_path(callback: &str) -> String {
    format!(
        "{}/utlogget",
        callback.strip_suffix("/tilbake").unwrap_or(callback)
    )
}

/// Like `provider`, with `MOCK_OP_*` settings (a misbehaving provider, no PAR).
pub async fn provider_with(
    kind: ProviderKind,
    callback: &str,
    env: &[(&str, &str)],
) -> Res<(MockOp, Provider)> {
    let (key, _) = ClientKey::generate("fortrolig-1")?;
    let profile = match kind {
        ProviderKind::IdPorten => "idporten",
        ProviderKind::HelseId => "helseid",
    };
    let logged_out = format!("{BASE}{}", logged_out_path(callback));
    let mut op = MockOp::builder(profile, &key, &format!("{BASE}{callback}"))
        .post_logout_redirect(&logged_out);
    for (name, value) in env {
        op = op.env(name, value);
    }
    let op = op.start();
    let provider = Provider::discover(
        ProviderConfig {
            kind,
            issuer: op.issuer.clone(),
            client_id: "fortrolig".into(),
            redirect_url: format!("{BASE}{callback}"),
            post_logout_redirect_url: Some(logged_out),
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
    login_in(&mut Browser::new(), routes, start_path, hint, callback).await
}

/// Like `login`, in `browser` (which keeps the provider's session for a later logout).
/// The person is picked on the provider's login page: the request itself was pushed
/// (PAR), so the address the browser is sent to carries nothing but its reference.
pub async fn login_in(
    browser: &mut Browser,
    routes: &axum::Router,
    start_path: &str,
    hint: &str,
    callback: &str,
) -> Res<Page> {
    login_carrying(browser, routes, start_path, None, hint, callback).await
}

/// Like `login_in`, started by a browser that already holds the session cookie `session`
/// (a step-up).
pub async fn login_carrying(
    browser: &mut Browser,
    routes: &axum::Router,
    start_path: &str,
    session: Option<&str>,
    hint: &str,
    callback: &str,
) -> Res<Page> {
    let start = call(routes, get(start_path, session)?).await?;
    assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.body);
    let to_provider = start.location();
    assert!(
        to_provider.contains("request_uri=") && !to_provider.contains("code_challenge"),
        "the request was pushed (PAR): {to_provider}"
    );
    let back = browser
        .follow(&to_provider, &format!("{BASE}{callback}"), Some(hint))
        .await;
    let query = query_string(&back);
    // The browser carries the binding cookie the start set.
    let binding = start.cookie();
    let landed = call(routes, get(&format!("{callback}?{query}"), Some(&binding))?).await?;
    let session = landed.cookie();
    if callback == fortrolig_web::IDPORTEN_CALLBACK && session.starts_with("fortrolig_okt=s1.") {
        answer_consent(routes, start_path, &session, &SERVICES).await?;
    }
    Ok(landed)
}

/// The consent page's boxes for the four services (not the notice channels).
pub const SERVICES: [&str; 4] = ["meldinger", "timer", "resept", "video"];

/// A patient at their first login answers the consent page (P4) as a browser would,
/// ticking `ticks`. A patient who answered before is not asked again.
pub async fn answer_consent(
    routes: &axum::Router,
    start_path: &str,
    cookie: &str,
    ticks: &[&str],
) -> Res<()> {
    let Some(org) = start_path
        .strip_prefix("/k/")
        .and_then(|rest| rest.split('/').next())
    else {
        return Ok(());
    };
    let page = call(routes, get(&format!("/k/{org}/samtykke"), Some(cookie))?).await?;
    if page.status != StatusCode::OK || !page.body.contains("Før du tar portalen i bruk") {
        return Ok(());
    }
    let (action, mut fields) = form_of(&page.body).ok_or("the consent page has no form")?;
    // `form_of` takes every input with a value; only the hidden ones go as they are.
    fields.retain(|(name, _)| ["csrf", "versjon", "neste"].contains(&name.as_str()));
    for field in ticks {
        fields.push(((*field).to_owned(), "ja".to_owned()));
    }
    let saved = call(routes, post(&action, cookie, &encode(&fields))?).await?;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    Ok(())
}

/// Form fields as `application/x-www-form-urlencoded`.
pub fn encode(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let value: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={value}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn query_string(pairs: &std::collections::BTreeMap<String, String>) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(':', "%3A").replace('/', "%2F")))
        .collect::<Vec<_>>()
        .join("&")
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
    let back = Browser::new()
        .follow(&start.location(), &format!("{BASE}{callback}"), Some(hint))
        .await;
    call(
        routes,
        get(&format!("{callback}?{}", query_string(&back)), None)?,
    )
    .await
}

/// `&amp;` and friends back to text (what `escape` in the web crate writes).
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of `attribute="…"` in one tag.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    tag[start..].split('"').next().map(unescape)
}

/// The first form on a page: its action and its hidden fields, as a browser would send
/// them.
pub fn form_of(body: &str) -> Option<(String, Vec<(String, String)>)> {
    let form = body.split("<form").nth(1)?.split("</form>").next()?;
    let action = attribute(form, "action")?;
    let fields = form
        .split("<input")
        .skip(1)
        .filter_map(|input| Some((attribute(input, "name")?, attribute(input, "value")?)))
        .collect();
    Some((action, fields))
}

/// The sessions' rows on «Dine økter»: (whether it is this session, its reference).
pub fn session_rows(body: &str) -> Vec<(bool, String)> {
    body.split("<tr>")
        .filter(|row| row.contains("name=\"okt\""))
        .map(|row| {
            let reference = row
                .split("name=\"okt\" value=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or_default()
                .to_owned();
            (row.contains("Denne økten"), reference)
        })
        .collect()
}
