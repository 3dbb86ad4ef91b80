//! Login (issue 3 item 1): patients through ID-porten, staff through HelseID. Send the
//! user to the provider, take them back, match their identity number through the blind
//! index, start a session.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use fortrolig_domain::access::Level;
use fortrolig_domain::{OrgNumber, PersonNumber, Source};
use fortrolig_identity::{Identity, LoginError, PendingLogin, Provider, ProviderKind};
use fortrolig_service::SessionSubject;
use serde::Deserialize;

use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{Lang, tr};
use crate::respond::{clinic_of, message};
use crate::router::AppState;
use crate::session::{SESSION_COOKIE, session_cookie};
use crate::source::RequestSource;

/// The cookie that binds a login under way to the browser that started it.
pub(crate) const BINDING_COOKIE: &str = "fortrolig_innlogging";

/// A login waits at most this long for the user to come back.
const PENDING_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// At most this many logins wait at once (a flood of started logins cannot fill memory).
const PENDING_MAX: usize = 10_000;
/// At most this many logins may be started from one address in `PENDING_LIFETIME`, so
/// that one address cannot use up the table for everyone else.
const STARTS_PER_ADDRESS: usize = 30;

/// One provider with the logins under way. Pending logins are kept in memory: a restart
/// only means the user starts the login again.
#[derive(Debug)]
pub struct LoginFlow {
    provider: Provider,
    pending: Mutex<HashMap<String, Waiting>>,
    /// Logouts sent on to the provider, by the `state` that comes back with the user:
    /// where to offer them to go next (the clinic's portal or workspace).
    logouts: Mutex<HashMap<String, (String, Instant)>>,
}

/// Logins under way, counted per address.
fn starts_from(pending: &HashMap<String, Waiting>, address: &str) -> usize {
    pending
        .values()
        .filter(|w| w.address.as_deref() == Some(address))
        .count()
}

#[derive(Debug)]
struct Waiting {
    login: PendingLogin,
    /// The random value of the browser's binding cookie: a login can only be completed in
    /// the browser that started it (no login CSRF with someone else's code and state).
    binding: String,
    /// Where the login was started from, for the per-address limit.
    address: Option<String>,
    clinic: OrgNumber,
    next: String,
    /// The session cookie the browser had when the login started (a step-up): the new
    /// session replaces it. The callback itself is cross-site and carries no such cookie.
    replaces: Option<String>,
    started: Instant,
}

impl LoginFlow {
    pub fn new(provider: Provider) -> Self {
        Self {
            provider,
            pending: Mutex::new(HashMap::new()),
            logouts: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn provider(&self) -> &Provider {
        &self.provider
    }

    /// Remembers a logout sent on to the provider; returns the `state` to send along.
    pub(crate) fn remember_logout(&self, home: &str) -> Result<String, WebError> {
        let state = random_hex()?;
        let mut logouts = self
            .logouts
            .lock()
            .map_err(|_| WebError::Internal("logout table poisoned".into()))?;
        logouts.retain(|_, (_, at)| at.elapsed() < PENDING_LIFETIME);
        // Only a logged-in user with the form's CSRF token gets here, so the table stays
        // small; at the limit the page after logout is just less specific.
        if logouts.len() < PENDING_MAX {
            logouts.insert(state.clone(), (home.to_owned(), Instant::now()));
        }
        Ok(state)
    }

    /// Where a user who logged out (and comes back with `state`) may go next.
    pub(crate) fn take_logout(&self, state: &str) -> Result<Option<String>, WebError> {
        let mut logouts = self
            .logouts
            .lock()
            .map_err(|_| WebError::Internal("logout table poisoned".into()))?;
        Ok(logouts
            .remove(state)
            .filter(|(_, at)| at.elapsed() < PENDING_LIFETIME)
            .map(|(home, _)| home))
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
        if let Some(address) = &waiting.address
            && starts_from(&pending, address) >= STARTS_PER_ADDRESS
        {
            return Err(WebError::TooMany);
        }
        pending.insert(waiting.login.state.clone(), waiting);
        Ok(())
    }

    /// Takes the login under way in the browser with this binding cookie, if any: for a
    /// callback whose `state` matches nothing, which then ends that login too.
    fn take_by_binding(&self, binding: &str) -> Result<Option<Waiting>, WebError> {
        let mut pending = self
            .pending
            .lock()
            .map_err(|_| WebError::Internal("login table poisoned".into()))?;
        let state = pending
            .iter()
            .find(|(_, w)| w.binding == binding && w.started.elapsed() < PENDING_LIFETIME)
            .map(|(state, _)| state.clone());
        Ok(state.and_then(|s| pending.remove(&s)))
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

/// 16 random bytes in hex: a cookie value or a `state`.
fn random_hex() -> Result<String, WebError> {
    Ok(fortrolig_vault::random_bytes::<16>()
        .map_err(|e| WebError::Internal(e.to_string()))?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Only paths inside the same clinic's portal (or workspace) may be returned to, so a
/// login cannot be made into an open redirect.
pub(crate) fn safe_next(home: &str, next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with(home) && !n.contains("//") && !n.contains('\\') => n.to_owned(),
        _ => home.to_owned(),
    }
}

async fn begin(
    state: &AppState,
    flow: Option<&Arc<LoginFlow>>,
    clinic: &str,
    query: &StartQuery,
    home: &str,
    source: &RequestSource,
    headers: &HeaderMap,
) -> Result<Response, WebError> {
    let clinic = clinic_of(clinic)?;
    state
        .app
        .clinic(&clinic)
        .await
        .map_err(|_| WebError::NotFound)?;
    let lang = Lang::of(headers);
    let Some(flow) = flow else {
        return Ok(message(
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            tr(lang, "Innlogging er ikke satt opp"),
            tr(
                lang,
                "Denne tjenesten har ikke denne innloggingen ennå. Kontakt klinikken.",
            ),
            "/",
        ));
    };
    let level = match query.nivaa.as_deref() {
        Some("betydelig") => Level::Substantial,
        _ => Level::High,
    };
    let (url, pending) = match flow.provider.begin(level, None, now_secs(state)).await {
        Ok(begun) => begun,
        Err(e) => {
            // The provider did not take the pushed request: its trouble (or ours), not
            // the user's, so no failed login is counted against anyone.
            tracing::warn!(error = %e, provider = flow.provider.kind().as_str(), "login could not start");
            return Ok(message(
                lang,
                StatusCode::SERVICE_UNAVAILABLE,
                tr(lang, "Innloggingen kan ikke startes nå"),
                &tr(
                    lang,
                    "{tjeneste} svarer ikke akkurat nå. Prøv igjen om litt.",
                )
                .replace("{tjeneste}", provider_name(flow.provider.kind())),
                "/",
            ));
        }
    };
    let home = format!("/k/{clinic}/{home}");
    let binding = random_hex()?;
    flow.remember(Waiting {
        login: pending,
        binding: binding.clone(),
        address: source.0.address.clone(),
        next: safe_next(&home, query.neste.as_deref()),
        clinic,
        replaces: crate::session::cookie(headers, SESSION_COOKIE).map(str::to_owned),
        started: Instant::now(),
    })?;
    let mut response = Redirect::to(&url).into_response();
    // Lax, not Strict: the provider's redirect back is a cross-site top-level navigation.
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{BINDING_COOKIE}={binding}; Path=/innlogging; HttpOnly; SameSite=Lax; Max-Age=600{secure}"
    );
    if let Ok(v) = header::HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// `GET /k/{clinic}/innlogging`: a patient logs in through ID-porten.
pub(crate) async fn start(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    headers: HeaderMap,
    Query(query): Query<StartQuery>,
) -> Result<Response, WebError> {
    begin(
        &state,
        state.idporten.as_ref(),
        &clinic,
        &query,
        "",
        &source,
        &headers,
    )
    .await
}

/// `GET /k/{clinic}/ansatt/innlogging`: a member of staff logs in through HelseID.
pub(crate) async fn start_staff(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    headers: HeaderMap,
    Query(query): Query<StartQuery>,
) -> Result<Response, WebError> {
    begin(
        &state,
        state.helseid.as_ref(),
        &clinic,
        &query,
        "ansatt/",
        &source,
        &headers,
    )
    .await
}

/// The provider's answer: `code` and `state` (and `iss`), or `error` and `state`.
#[derive(Debug, Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

fn now_secs(state: &AppState) -> i64 {
    state.app.now().as_micros() / 1_000_000
}

/// What the provider vouched for, after the checks every login shares.
enum Returned {
    Identity(Box<Identity>, Waiting),
    Refused(Response),
}

async fn come_back(
    state: &AppState,
    flow: Option<&Arc<LoginFlow>>,
    query: &CallbackQuery,
    binding: Option<&str>,
    source: &Source,
    lang: Lang,
) -> Result<Returned, WebError> {
    let Some(flow) = flow else {
        return Err(WebError::NotFound);
    };
    let waiting = match query.state.as_deref() {
        Some(s) => flow.take(s)?,
        None => None,
    };
    let Some(waiting) = waiting else {
        // A state that matches nothing, from a browser with a login under way: a forged
        // or mixed-up answer (X3). That login's clinic records it; without one, no clinic
        // is known and only the server log has it.
        if let Some(started) = binding
            .map(|b| flow.take_by_binding(b))
            .transpose()?
            .flatten()
        {
            let clinic = state.app.clinic(&started.clinic).await?;
            let provider = flow.provider.kind().as_str();
            let _ = clinic
                .login_failed(
                    &format!("{provider}:ugyldig"),
                    source,
                    refusal_reason(&LoginError::StateMismatch),
                )
                .await;
        }
        tracing::warn!(
            provider = flow.provider.kind().as_str(),
            "login callback with an unknown state"
        );
        return Ok(Returned::Refused(message(
            lang,
            StatusCode::BAD_REQUEST,
            tr(lang, "Innloggingen kan ikke fullføres"),
            tr(
                lang,
                "Innloggingen er utløpt eller allerede brukt. Start innloggingen på nytt.",
            ),
            "/",
        )));
    };
    let clinic = state.app.clinic(&waiting.clinic).await?;
    if binding != Some(waiting.binding.as_str()) {
        let _ = clinic
            .login_failed(
                "innlogging:annen-nettleser",
                source,
                "innlogging fullført i en annen nettleser",
            )
            .await;
        return Ok(Returned::Refused(message(
            lang,
            StatusCode::BAD_REQUEST,
            tr(lang, "Innloggingen kan ikke fullføres"),
            tr(
                lang,
                "Innloggingen må fullføres i samme nettleser som den ble startet i. Start innloggingen på nytt.",
            ),
            "/",
        )));
    }
    let provider = flow.provider.kind().as_str();
    if let Some(error) = &query.error {
        let _ = clinic
            .login_failed(
                &format!("{provider}:avbrutt"),
                source,
                &format!("{provider}: {error}"),
            )
            .await;
        return Ok(Returned::Refused(message(
            lang,
            StatusCode::UNAUTHORIZED,
            tr(lang, "Innloggingen ble avbrutt"),
            tr(lang, "Du ble ikke logget inn. Du kan prøve igjen."),
            "/",
        )));
    }
    let code = query.code.as_deref().unwrap_or_default();
    let returned_state = query.state.as_deref().unwrap_or_default();
    match flow
        .provider
        .finish(
            &waiting.login,
            returned_state,
            query.iss.as_deref(),
            code,
            now_secs(state),
        )
        .await
    {
        Ok(identity) => Ok(Returned::Identity(Box::new(identity), waiting)),
        Err(e) => {
            let _ = clinic
                .login_failed(&format!("{provider}:ugyldig"), source, refusal_reason(&e))
                .await;
            tracing::warn!(error = %e, provider, "login refused");
            Ok(Returned::Refused(message(
                lang,
                StatusCode::UNAUTHORIZED,
                tr(lang, "Innloggingen mislyktes"),
                &refusal_text(lang, &e, flow.provider.kind()),
                "/",
            )))
        }
    }
}

pub(crate) fn provider_name(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::IdPorten => "ID-porten",
        ProviderKind::HelseId => "HelseID",
    }
}

/// What the security log says about a refused login (X3): short Norwegian text for the
/// clinic administrator's page. The technical detail goes to the server log only.
fn refusal_reason(e: &LoginError) -> &'static str {
    match e {
        LoginError::BadSignature(_) => {
            "id_token med ugyldig signatur (mulig forfalsket eller endret underveis)"
        }
        LoginError::Expired(_) => "utløpt id_token",
        LoginError::InvalidIdToken(_) => "ugyldig id_token (feil nonce, utsteder eller mottaker)",
        LoginError::NoIdToken => "manglende id_token",
        LoginError::LevelTooLow => "for lavt sikkerhetsnivå",
        LoginError::MissingClaim(_) => "id_token mangler fødselsnummer",
        LoginError::StateMismatch => "feil state (mulig forfalsket svar)",
        LoginError::IssuerMismatch => "svar fra feil utsteder (mulig forveksling)",
        LoginError::TokenExchange(_) => "koden ble avvist av innloggingstjenesten",
        LoginError::Discovery(_)
        | LoginError::Request(_)
        | LoginError::PushedRequest(_)
        | LoginError::Provider(_)
        | LoginError::ClientKey => "feil i innloggingen",
    }
}

/// What the user is told when a login is refused: what happened, in plain words, and
/// what to do.
fn refusal_text(lang: Lang, e: &LoginError, kind: ProviderKind) -> String {
    let text = match e {
        LoginError::LevelTooLow => tr(
            lang,
            "Denne siden krever innlogging på høyt sikkerhetsnivå (for eksempel BankID).",
        ),
        LoginError::BadSignature(_) => tr(
            lang,
            "Vi kunne ikke bekrefte at svaret kom fra {name}, så du er ikke logget inn. \
             Start innloggingen på nytt. Skjer dette igjen, kontakt klinikken.",
        ),
        LoginError::Expired(_) => tr(
            lang,
            "Bekreftelsen fra {name} var utløpt da den kom fram, så du er ikke logget inn. \
             Start innloggingen på nytt.",
        ),
        LoginError::MissingClaim(_) => tr(
            lang,
            "{name} oppga ikke fødselsnummeret ditt, så vi kan ikke finne deg. \
             Kontakt klinikken.",
        ),
        _ => tr(
            lang,
            "Vi kunne ikke bekrefte innloggingen. Start innloggingen på nytt.",
        ),
    };
    text.replace("{name}", provider_name(kind))
}

/// Starts the session and carries the user on with a same-site page: a SameSite=Strict
/// cookie set at the end of a cross-site redirect chain would not be sent with a redirect.
async fn welcome(
    state: &AppState,
    clinic: &fortrolig_service::Clinic,
    subject: SessionSubject,
    identity: &Identity,
    next: &str,
    source: &Source,
    lang: Lang,
) -> Result<Response, WebError> {
    let (token, _) = clinic
        .start_session(
            subject,
            identity.level,
            identity.kind.as_str(),
            identity.provider_session.as_deref(),
            Some(&identity.id_token),
            source,
        )
        .await?;
    let body = format!(
        "<h1>{}</h1>\n<p><a href=\"{}\">{}</a></p>",
        tr(lang, "Du er logget inn"),
        escape(next),
        tr(lang, "Fortsett"),
    );
    let mut response = (
        StatusCode::OK,
        Html(page(lang, tr(lang, "Logget inn"), &body)),
    )
        .into_response();
    if let Ok(refresh) = header::HeaderValue::from_str(&format!("0;url={next}")) {
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

/// Who logs in: patients through ID-porten, staff through HelseID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    Patient,
    Staff,
}

/// Matches the identity number to someone the clinic knows, after the lockout check.
async fn known(
    clinic: &fortrolig_service::Clinic,
    identity: &Identity,
    source: &Source,
    audience: Audience,
    lang: Lang,
) -> Result<Result<SessionSubject, Response>, WebError> {
    let account = format!("{}:{}", identity.kind.as_str(), identity.subject);
    if clinic.locked_out(&account, "").await? {
        return Ok(Err(message(
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            tr(lang, "For mange forsøk"),
            tr(
                lang,
                "Innlogging er midlertidig sperret. Prøv igjen om et kvarter.",
            ),
            "/",
        )));
    }
    let subject = match (audience, PersonNumber::parse(&identity.person_number)) {
        (Audience::Patient, Ok(n)) => clinic
            .patient_id_by_number(&n)
            .await?
            .map(SessionSubject::Patient),
        (Audience::Staff, Ok(n)) => clinic
            .staff_id_by_number(&n)
            .await?
            .map(SessionSubject::Staff),
        (_, Err(_)) => None,
    };
    match subject {
        Some(subject) => {
            clinic.login_succeeded(&account).await?;
            Ok(Ok(subject))
        }
        None => {
            clinic
                .login_failed(&account, source, "ukjent person ved klinikken")
                .await?;
            let text = match audience {
                Audience::Patient => tr(
                    lang,
                    "Du er ikke registrert som pasient ved denne klinikken. Kontakt klinikken hvis du mener dette er feil.",
                ),
                Audience::Staff => tr(
                    lang,
                    "Du er ikke registrert som ansatt ved denne klinikken. Kontakt klinikkens administrator.",
                ),
            };
            Ok(Err(message(
                lang,
                StatusCode::FORBIDDEN,
                tr(lang, "Vi fant deg ikke"),
                text,
                "/",
            )))
        }
    }
}

async fn finish_login(
    state: &AppState,
    source: &RequestSource,
    headers: &HeaderMap,
    query: &CallbackQuery,
    audience: Audience,
) -> Result<Response, WebError> {
    let source = source.0.clone();
    let lang = Lang::of(headers);
    let binding = crate::session::cookie(headers, BINDING_COOKIE);
    let flow = match audience {
        Audience::Patient => state.idporten.as_ref(),
        Audience::Staff => state.helseid.as_ref(),
    };
    let (identity, waiting) = match come_back(state, flow, query, binding, &source, lang).await? {
        Returned::Identity(identity, waiting) => (identity, waiting),
        Returned::Refused(response) => return Ok(response),
    };
    let clinic = state.app.clinic(&waiting.clinic).await?;
    match known(&clinic, &identity, &source, audience, lang).await? {
        Ok(subject) => {
            crate::session::end_replaced(&clinic, waiting.replaces.as_deref(), subject, &source)
                .await?;
            welcome(
                state,
                &clinic,
                subject,
                &identity,
                &waiting.next,
                &source,
                lang,
            )
            .await
        }
        Err(response) => Ok(response),
    }
}

/// `GET /innlogging/idporten/tilbake`: a patient comes back from ID-porten.
pub(crate) async fn callback(
    State(state): State<AppState>,
    source: RequestSource,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, WebError> {
    finish_login(&state, &source, &headers, &query, Audience::Patient).await
}

/// `GET /innlogging/helseid/tilbake`: a member of staff comes back from HelseID.
pub(crate) async fn staff_callback(
    State(state): State<AppState>,
    source: RequestSource,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, WebError> {
    finish_login(&state, &source, &headers, &query, Audience::Staff).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_inside_the_same_clinic_portal_are_returned_to() {
        let home = "/k/923456783/";
        assert_eq!(
            safe_next(home, Some("/k/923456783/innsyn/logg")),
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
            assert_eq!(safe_next(home, Some(evil)), home, "{evil}");
        }
        assert_eq!(safe_next(home, None), home);
    }
}
