//! Patient login through ID-porten (issue 3 item 1): send the user to the provider,
//! take them back, match their `pid` through the blind index, start a session.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use fortrolig_domain::access::Level;
use fortrolig_domain::{OrgNumber, PersonNumber, Source};
use fortrolig_identity::{LoginError, PendingLogin, Provider};
use fortrolig_service::SessionSubject;
use serde::Deserialize;

use crate::error::WebError;
use crate::html::{escape, page};
use crate::router::AppState;
use crate::session::{SESSION_COOKIE, session_cookie};

/// A login waits at most this long for the user to come back.
const PENDING_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// At most this many logins wait at once (a flood of started logins cannot fill memory).
const PENDING_MAX: usize = 10_000;

/// ID-porten for patients, with the logins under way. Pending logins are kept in
/// memory: a restart only means the user starts the login again.
#[derive(Debug)]
pub struct PatientLogin {
    provider: Provider,
    pending: Mutex<HashMap<String, Waiting>>,
}

#[derive(Debug)]
struct Waiting {
    login: PendingLogin,
    clinic: OrgNumber,
    next: String,
    started: Instant,
}

impl PatientLogin {
    pub fn new(provider: Provider) -> Self {
        Self {
            provider,
            pending: Mutex::new(HashMap::new()),
        }
    }

    fn remember(&self, waiting: Waiting) -> Result<(), WebError> {
        let mut pending = self
            .pending
            .lock()
            .map_err(|_| WebError::Internal("login table poisoned".into()))?;
        pending.retain(|_, w| w.started.elapsed() < PENDING_LIFETIME);
        if pending.len() >= PENDING_MAX {
            return Err(WebError::Unavailable("too many logins under way".into()));
        }
        pending.insert(waiting.login.state.clone(), waiting);
        Ok(())
    }

    /// Takes the login a returning `state` belongs to: each can be used once.
    fn take(&self, state: &str) -> Result<Option<Waiting>, WebError> {
        let mut pending = self
            .pending
            .lock()
            .map_err(|_| WebError::Internal("login table poisoned".into()))?;
        Ok(pending
            .remove(state)
            .filter(|w| w.started.elapsed() < PENDING_LIFETIME))
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct StartQuery {
    nivaa: Option<String>,
    neste: Option<String>,
}

fn clinic_of(text: &str) -> Result<OrgNumber, WebError> {
    OrgNumber::parse(text).map_err(|_| WebError::NotFound)
}

/// Only paths inside the same clinic's portal may be returned to (no open redirect).
fn safe_next(clinic: &OrgNumber, next: Option<&str>) -> String {
    let home = format!("/k/{clinic}/");
    match next {
        Some(n) if n.starts_with(&home) && !n.contains("//") && !n.contains('\\') => n.to_owned(),
        _ => home,
    }
}

pub(crate) async fn start(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    Query(query): Query<StartQuery>,
) -> Result<Response, WebError> {
    let clinic = clinic_of(&clinic)?;
    state
        .app
        .clinic(&clinic)
        .await
        .map_err(|_| WebError::NotFound)?;
    let Some(login) = &state.login else {
        return Ok(message(
            StatusCode::SERVICE_UNAVAILABLE,
            "Innlogging er ikke satt opp",
            "Denne tjenesten har ikke innlogging med ID-porten ennå. Kontakt klinikken.",
        ));
    };
    let level = match query.nivaa.as_deref() {
        Some("betydelig") => Level::Substantial,
        _ => Level::High,
    };
    let (url, pending) = login.provider.begin(level, None);
    login.remember(Waiting {
        login: pending,
        clinic: clinic.clone(),
        next: safe_next(&clinic, query.neste.as_deref()),
        started: Instant::now(),
    })?;
    Ok(Redirect::to(&url).into_response())
}

/// The provider's answer: `code` and `state` (and `iss`), or `error` and `state`.
#[derive(Debug, Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

fn message(status: StatusCode, title: &str, text: &str) -> Response {
    let body = format!(
        "<h1>{}</h1>\n<p>{}</p>\n<p><a href=\"/\">Til forsiden</a></p>",
        escape(title),
        escape(text)
    );
    (status, Html(page(title, &body))).into_response()
}

fn source(headers: &HeaderMap) -> Source {
    // The peer address is filled in by the proxy-aware layer later; the session id is not
    // known yet at login.
    let _ = headers;
    Source {
        session: None,
        address: None,
    }
}

fn now_secs(state: &AppState) -> i64 {
    state.app.now().as_micros() / 1_000_000
}

pub(crate) async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, WebError> {
    let Some(login) = &state.login else {
        return Err(WebError::NotFound);
    };
    let waiting = match query.state.as_deref() {
        Some(s) => login.take(s)?,
        None => None,
    };
    let Some(waiting) = waiting else {
        return Ok(message(
            StatusCode::BAD_REQUEST,
            "Innloggingen kan ikke fullføres",
            "Innloggingen er utløpt eller allerede brukt. Start innloggingen på nytt.",
        ));
    };
    let clinic = state.app.clinic(&waiting.clinic).await?;
    let source = source(&headers);
    if let Some(error) = &query.error {
        let _ = clinic
            .login_failed("idporten:avbrutt", &source, &format!("ID-porten: {error}"))
            .await;
        return Ok(message(
            StatusCode::UNAUTHORIZED,
            "Innloggingen ble avbrutt",
            "Du ble ikke logget inn. Du kan prøve igjen.",
        ));
    }
    let code = query.code.as_deref().unwrap_or_default();
    let returned_state = query.state.as_deref().unwrap_or_default();
    let identity = match login
        .provider
        .finish(
            &waiting.login,
            returned_state,
            query.iss.as_deref(),
            code,
            now_secs(&state),
        )
        .await
    {
        Ok(identity) => identity,
        Err(e) => {
            let _ = clinic
                .login_failed("idporten:ugyldig", &source, &e.to_string())
                .await;
            tracing::warn!(error = %e, "ID-porten login refused");
            let text = match e {
                LoginError::LevelTooLow => {
                    "Denne siden krever innlogging på høyt sikkerhetsnivå (for eksempel BankID)."
                }
                _ => "Vi kunne ikke bekrefte innloggingen. Start innloggingen på nytt.",
            };
            return Ok(message(
                StatusCode::UNAUTHORIZED,
                "Innloggingen mislyktes",
                text,
            ));
        }
    };
    let account = format!("idporten:{}", identity.subject);
    if clinic.locked_out(&account, "").await? {
        return Ok(message(
            StatusCode::TOO_MANY_REQUESTS,
            "For mange forsøk",
            "Innlogging er midlertidig sperret. Prøv igjen om et kvarter.",
        ));
    }
    let number = PersonNumber::parse(&identity.person_number).ok();
    let patient = match &number {
        Some(n) => clinic.patient_id_by_number(n).await?,
        None => None,
    };
    let Some(patient) = patient else {
        clinic
            .login_failed(&account, &source, "ukjent person ved klinikken")
            .await?;
        return Ok(message(
            StatusCode::FORBIDDEN,
            "Vi fant deg ikke",
            "Du er ikke registrert som pasient ved denne klinikken. Kontakt klinikken hvis du mener dette er feil.",
        ));
    };
    clinic.login_succeeded(&account).await?;
    let (token, _) = clinic
        .start_session(
            SessionSubject::Patient(patient),
            identity.level,
            "idporten",
            identity.provider_session.as_deref(),
            &source,
        )
        .await?;
    // A same-site page carries the user on: a SameSite=Strict cookie set at the end of a
    // cross-site redirect chain would not be sent with a redirect.
    let next = escape(&waiting.next);
    let body = format!("<h1>Du er logget inn</h1>\n<p><a href=\"{next}\">Fortsett</a></p>");
    let mut response = (StatusCode::OK, Html(page("Logget inn", &body))).into_response();
    if let Ok(refresh) = header::HeaderValue::from_str(&format!("0;url={}", waiting.next)) {
        response.headers_mut().insert(header::REFRESH, refresh);
    }
    if let Ok(cookie) = header::HeaderValue::from_str(&session_cookie(
        SESSION_COOKIE,
        token.as_str(),
        state.secure_cookies,
    )) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_inside_the_same_clinic_portal_are_returned_to() {
        let clinic = OrgNumber::parse("923456783").unwrap_or_else(|_| unreachable!());
        let home = "/k/923456783/";
        assert_eq!(
            safe_next(&clinic, Some("/k/923456783/innsyn/logg")),
            "/k/923456783/innsyn/logg"
        );
        for evil in [
            "https://evil.example/",
            "//evil.example/",
            "/k/923456783//evil.example",
            "/k/812345672/",
            "/k/923456783/\\evil",
            "",
        ] {
            assert_eq!(safe_next(&clinic, Some(evil)), home, "{evil}");
        }
        assert_eq!(safe_next(&clinic, None), home);
    }
}
