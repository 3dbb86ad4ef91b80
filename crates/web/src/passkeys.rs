//! Passkeys in the browser (issue 3 item 3): enrolment with a one-time activation code,
//! and login with any passkey this site made. The pages are plain HTML; a small script
//! (`/static/passnokkel.js`) runs the ceremony and talks JSON to the endpoints here.
//!
//! The JSON endpoints only answer requests that carry our own `Origin` and a JSON body:
//! a form on another site can send neither, which is the CSRF protection here (there is
//! no session yet to hold a CSRF token).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use fortrolig_domain::access::Level;
use fortrolig_domain::{OrgNumber, Source};
use fortrolig_identity::{Enrolment, PasskeyLogin, PasskeyRp};
use fortrolig_service::{Activation, Clinic, SessionSubject};
use serde::Deserialize;

use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{Lang, tr};
use crate::pending::Pending;
use crate::respond::clinic_of;
use crate::router::AppState;
use crate::session::{SESSION_COOKIE, cookie, session_cookie};
use crate::source::RequestSource;

/// The cookie that binds a ceremony to the browser that started it.
const CEREMONY_COOKIE: &str = "fortrolig_passnokkel";
/// A ceremony waits this long for the authenticator (WebAuthn's own timeout is 5 min).
const CEREMONY_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// Largest browser answer accepted (an attestation is a few kilobytes).
const MAX_ANSWER: usize = 64 * 1024;

/// The relying party and the ceremonies under way.
#[derive(Debug)]
pub struct PasskeyFlow {
    rp: PasskeyRp,
    ceremonies: Pending<Ceremony>,
}

impl PasskeyFlow {
    pub fn new(rp: PasskeyRp) -> Self {
        Self {
            rp,
            ceremonies: Pending::new(CEREMONY_LIFETIME),
        }
    }
}

#[derive(Debug)]
enum Ceremony {
    Enrol {
        clinic: OrgNumber,
        activation: Activation,
        user_handle: [u8; 16],
        state: Enrolment,
    },
    Login {
        clinic: OrgNumber,
        state: PasskeyLogin,
    },
}

/// A JSON answer; `no-store` comes from the security headers.
fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// A refusal the script shows the user as it is (`text` already in the user's language).
fn refusal(status: StatusCode, text: &str) -> Response {
    json(status, &serde_json::json!({ "feil": text }))
}

fn with_cookie(mut response: Response, value: &str) -> Response {
    if let Ok(v) = header::HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

fn ceremony_cookie(org: &OrgNumber, value: &str, max_age: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{CEREMONY_COOKIE}={value}; Path=/k/{org}/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    )
}

/// The flow and the clinic for a request from our own page, if passkeys are set up; or
/// the answer that says why not.
async fn setup(
    state: &AppState,
    clinic: &str,
    headers: &HeaderMap,
    lang: Lang,
) -> Result<Result<(Arc<PasskeyFlow>, Arc<Clinic>), Response>, WebError> {
    let org = clinic_of(clinic)?;
    let clinic = state
        .app
        .clinic(&org)
        .await
        .map_err(|_| WebError::NotFound)?;
    match &state.passkeys {
        Some(flow) if !from_our_page(flow, headers) => Ok(Err(not_our_page(lang))),
        Some(flow) => Ok(Ok((flow.clone(), clinic))),
        None => Ok(Err(refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            tr(lang, "Passnøkler er ikke satt opp på denne tjenesten."),
        ))),
    }
}

/// Only JSON from our own origin (see the module comment).
fn from_our_page(flow: &PasskeyFlow, headers: &HeaderMap) -> bool {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    origin == Some(flow.rp.origin()) && json_body
}

fn not_our_page(lang: Lang) -> Response {
    refusal(
        StatusCode::FORBIDDEN,
        tr(
            lang,
            "Forespørselen kom ikke fra denne tjenestens egen side.",
        ),
    )
}

fn random_hex<const N: usize>() -> Result<String, WebError> {
    let bytes =
        fortrolig_vault::random_bytes::<N>().map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Starts the session and tells the script where to go next.
async fn welcome(
    state: &AppState,
    clinic: &Clinic,
    subject: SessionSubject,
    source: &Source,
    headers: &HeaderMap,
) -> Result<Response, WebError> {
    crate::session::end_replaced(clinic, cookie(headers, SESSION_COOKIE), subject, source).await?;
    let (token, _) = clinic
        .start_session(subject, Level::High, "passkey", None, None, source)
        .await?;
    let next = match subject {
        SessionSubject::Patient(_) => format!("/k/{}/", clinic.org()),
        SessionSubject::Staff(_) => format!("/k/{}/ansatt/", clinic.org()),
    };
    let response = json(StatusCode::OK, &serde_json::json!({ "neste": next }));
    let response = with_cookie(
        response,
        &session_cookie(SESSION_COOKIE, token.as_str(), state.secure_cookies),
    );
    Ok(with_cookie(
        response,
        &ceremony_cookie(clinic.org(), "", 0, state.secure_cookies),
    ))
}

/// What the script says while a ceremony runs, in the page's language: `data-tekst-*`
/// attributes on the form, as the script cannot see the language itself.
fn script_texts(lang: Lang) -> String {
    [
        ("feil", tr(lang, "Noe gikk galt. Prøv igjen.")),
        (
            "ikke-stottet",
            tr(
                lang,
                "Nettleseren din kan ikke bruke passnøkler. Prøv en nyere nettleser.",
            ),
        ),
        ("sjekker", tr(lang, "Sjekker koden …")),
        ("venter", tr(lang, "Venter på passnøkkelen …")),
        (
            "lag",
            tr(
                lang,
                "Følg instruksjonene på enheten din for å lage passnøkkelen.",
            ),
        ),
        (
            "laget",
            tr(lang, "Passnøkkelen er laget. Du blir sendt videre."),
        ),
        ("inne", tr(lang, "Du er logget inn. Du blir sendt videre.")),
        (
            "avbrutt",
            tr(
                lang,
                "Passnøkkelen ble ikke brukt (avbrutt eller tidsavbrudd). Prøv igjen.",
            ),
        ),
    ]
    .iter()
    .map(|(name, text)| format!(" data-tekst-{name}=\"{}\"", escape(text)))
    .collect()
}

/// The page both ceremonies share: a heading, a text, an optional code field, a button.
fn ceremony_page(
    lang: Lang,
    title: &str,
    intro: &str,
    org: &OrgNumber,
    kind: &str,
    code_field: bool,
) -> String {
    let field = if code_field {
        format!(
            "<label for=\"kode\">{}</label>\n\
             <input id=\"kode\" name=\"kode\" autocomplete=\"one-time-code\" autocapitalize=\"characters\" \
             spellcheck=\"false\" required maxlength=\"20\">\n",
            tr(
                lang,
                "Aktiveringskode (12 tegn, for eksempel ABCD-EFGH-JKMN)"
            )
        )
    } else {
        String::new()
    };
    let button = if code_field {
        tr(lang, "Lag passnøkkel")
    } else {
        tr(lang, "Logg inn med passnøkkel")
    };
    let body = format!(
        "<h1>{title}</h1>\n<p>{intro}</p>\n\
         <form id=\"passnokkel\" data-kind=\"{kind}\" data-clinic=\"{org}\"{texts}>\n{field}\
         <button type=\"submit\">{button}</button>\n</form>\n\
         <p id=\"status\" role=\"status\" aria-live=\"polite\"></p>\n\
         <noscript><p>{noscript}</p></noscript>\n\
         <script src=\"/static/passnokkel.js\"></script>",
        title = escape(title),
        intro = escape(intro),
        texts = script_texts(lang),
        noscript = tr(
            lang,
            "Passnøkler krever at JavaScript er slått på i nettleseren."
        ),
    );
    page(lang, title, &body)
}

/// `GET /k/{clinic}/aktiver`: enrol a passkey with an activation code.
pub(crate) async fn activation_page(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    lang: Lang,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    state
        .app
        .clinic(&org)
        .await
        .map_err(|_| WebError::NotFound)?;
    Ok(Html(ceremony_page(
        lang,
        tr(lang, "Aktiver innlogging med passnøkkel"),
        tr(
            lang,
            "Skriv inn aktiveringskoden du fikk av klinikken. Telefonen eller datamaskinen din lager \
             da en passnøkkel, som du bruker til å logge inn her senere. Koden virker én gang.",
        ),
        &org,
        "aktiver",
        true,
    ))
    .into_response())
}

/// `GET /k/{clinic}/passnokkel`: log in with a passkey.
pub(crate) async fn login_page(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    lang: Lang,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    state
        .app
        .clinic(&org)
        .await
        .map_err(|_| WebError::NotFound)?;
    Ok(Html(ceremony_page(
        lang,
        tr(lang, "Logg inn med passnøkkel"),
        tr(
            lang,
            "Bruk passnøkkelen du har laget for denne klinikken. Du bekrefter med PIN, fingeravtrykk \
             eller ansikt på enheten din.",
        ),
        &org,
        "logg-inn",
        false,
    ))
    .into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct CodeBody {
    kode: String,
}

/// `POST /k/{clinic}/aktiver/start` (JSON `{kode}`): checks the code, starts enrolment.
pub(crate) async fn activation_start(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let (flow, clinic) = match setup(&state, &clinic, &headers, lang).await? {
        Ok(pair) => pair,
        Err(response) => return Ok(response),
    };
    let source = source.0;
    if clinic.activation_locked_out(&source).await? {
        return Ok(refusal(
            StatusCode::TOO_MANY_REQUESTS,
            tr(lang, "For mange feil koder. Vent et kvarter og prøv igjen."),
        ));
    }
    let Ok(CodeBody { kode }) = serde_json::from_slice::<CodeBody>(&body) else {
        return Ok(refusal(
            StatusCode::BAD_REQUEST,
            tr(lang, "Skriv inn aktiveringskoden."),
        ));
    };
    let Some(activation) = clinic.activation(&kode, &source).await? else {
        return Ok(refusal(
            StatusCode::BAD_REQUEST,
            tr(
                lang,
                "Koden er ugyldig, utløpt eller allerede brukt. Be klinikken om en ny kode.",
            ),
        ));
    };
    let clinic_name = state
        .app
        .clinics()
        .await?
        .into_iter()
        .find(|c| &c.org_number == clinic.org())
        .map_or_else(|| clinic.org().to_string(), |c| c.name);
    // The name the person's device shows next to this passkey: which clinic, and as whom.
    let label = match activation.subject {
        SessionSubject::Patient(_) => tr(lang, "Pasient – {klinikk}"),
        SessionSubject::Staff(_) => tr(lang, "Ansatt – {klinikk}"),
    }
    .replace("{klinikk}", &clinic_name);
    let user_handle =
        fortrolig_vault::random_bytes::<16>().map_err(|e| WebError::Internal(e.to_string()))?;
    let (options, enrolment) = flow
        .rp
        .start_enrolment(user_handle, &label)
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let enrol = Ceremony::Enrol {
        clinic: clinic.org().clone(),
        activation,
        user_handle,
        state: enrolment,
    };
    begin_ceremony(&state, &flow, clinic.org(), &source, enrol, &options)
}

/// Keeps a ceremony for this browser and sends the options for the authenticator.
fn begin_ceremony(
    state: &AppState,
    flow: &PasskeyFlow,
    org: &OrgNumber,
    source: &Source,
    ceremony: Ceremony,
    options: &serde_json::Value,
) -> Result<Response, WebError> {
    let key = random_hex::<32>()?;
    flow.ceremonies
        .insert(key.clone(), source.address.clone(), ceremony)?;
    Ok(with_cookie(
        json(StatusCode::OK, options),
        &ceremony_cookie(org, &key, CEREMONY_LIFETIME.as_secs(), state.secure_cookies),
    ))
}

/// The ceremony this browser started at this clinic, taken (each is used once).
fn take_ceremony(
    flow: &PasskeyFlow,
    headers: &HeaderMap,
    org: &OrgNumber,
) -> Result<Option<Ceremony>, WebError> {
    let Some(key) = cookie(headers, CEREMONY_COOKIE) else {
        return Ok(None);
    };
    Ok(flow.ceremonies.take(key)?.filter(|c| match c {
        Ceremony::Enrol { clinic, .. } | Ceremony::Login { clinic, .. } => clinic == org,
    }))
}

fn expired(lang: Lang) -> Response {
    refusal(
        StatusCode::BAD_REQUEST,
        tr(
            lang,
            "Det tok for lang tid, eller siden ble åpnet i en annen nettleser. Prøv igjen.",
        ),
    )
}

/// `POST /k/{clinic}/aktiver/fullfor` (the new credential as JSON): stores the passkey,
/// uses up the code, logs the person in.
pub(crate) async fn activation_finish(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let (flow, clinic) = match setup(&state, &clinic, &headers, lang).await? {
        Ok(pair) => pair,
        Err(response) => return Ok(response),
    };
    let source = source.0;
    let Some(Ceremony::Enrol {
        activation,
        user_handle,
        state: enrolment,
        ..
    }) = take_ceremony(&flow, &headers, clinic.org())?
    else {
        return Ok(expired(lang));
    };
    if body.len() > MAX_ANSWER {
        return Ok(refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            tr(lang, "Svaret fra enheten er for stort."),
        ));
    }
    let passkey = match flow.rp.finish_enrolment(&body, &enrolment) {
        Ok(passkey) => passkey,
        Err(e) => {
            tracing::warn!(error = %e, "passkey enrolment refused");
            clinic
                .login_failed(
                    &passkey_account(&source),
                    &source,
                    &format!("passnøkkel: {e}"),
                )
                .await?;
            return Ok(refusal(
                StatusCode::BAD_REQUEST,
                tr(
                    lang,
                    "Passnøkkelen kunne ikke registreres. Prøv igjen, eller be klinikken om hjelp.",
                ),
            ));
        }
    };
    let enrolled = clinic
        .enrol_passkey(
            &activation,
            &passkey.credential_id,
            &user_handle,
            &passkey.stored,
            &source,
        )
        .await;
    match enrolled {
        Ok(true) => welcome(&state, &clinic, activation.subject, &source, &headers).await,
        Ok(false) => Ok(refusal(
            StatusCode::BAD_REQUEST,
            tr(
                lang,
                "Koden er allerede brukt eller utløpt. Be klinikken om en ny kode.",
            ),
        )),
        Err(fortrolig_service::ServiceError::Invalid(_)) => Ok(refusal(
            StatusCode::BAD_REQUEST,
            tr(lang, "Denne passnøkkelen er allerede registrert."),
        )),
        Err(e) => Err(e.into()),
    }
}

/// `POST /k/{clinic}/passnokkel/start`: starts a login with any passkey of this site.
pub(crate) async fn login_start(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let (flow, clinic) = match setup(&state, &clinic, &headers, lang).await? {
        Ok(pair) => pair,
        Err(response) => return Ok(response),
    };
    let (options, login) = flow
        .rp
        .start_login()
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let login = Ceremony::Login {
        clinic: clinic.org().clone(),
        state: login,
    };
    begin_ceremony(&state, &flow, clinic.org(), &source.0, login, &options)
}

/// Failed passkey attempts are counted per address (X3).
fn passkey_account(source: &Source) -> String {
    format!(
        "passnokkel:{}",
        source.address.as_deref().unwrap_or("ukjent")
    )
}

/// A refused passkey login: a security event, and one message whatever the reason, so
/// that the answer tells an attacker nothing about which check failed.
async fn refused(
    clinic: &Clinic,
    account: &str,
    source: &Source,
    why: &str,
    lang: Lang,
) -> Result<Response, WebError> {
    clinic.login_failed(account, source, why).await?;
    Ok(refusal(
        StatusCode::UNAUTHORIZED,
        tr(
            lang,
            "Vi kjente ikke igjen passnøkkelen hos denne klinikken. Bruk passnøkkelen du laget \
             for denne klinikken, eller be klinikken om en ny aktiveringskode.",
        ),
    ))
}

/// `POST /k/{clinic}/passnokkel/fullfor` (the assertion as JSON): checks it against the
/// stored passkey and logs the person in.
pub(crate) async fn login_finish(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let (flow, clinic) = match setup(&state, &clinic, &headers, lang).await? {
        Ok(pair) => pair,
        Err(response) => return Ok(response),
    };
    let source = source.0;
    let account = passkey_account(&source);
    if clinic
        .locked_out(&account, source.address.as_deref().unwrap_or_default())
        .await?
    {
        return Ok(refusal(
            StatusCode::TOO_MANY_REQUESTS,
            tr(
                lang,
                "Innlogging er midlertidig sperret. Prøv igjen om et kvarter.",
            ),
        ));
    }
    let Some(Ceremony::Login { state: login, .. }) = take_ceremony(&flow, &headers, clinic.org())?
    else {
        return Ok(expired(lang));
    };
    if body.len() > MAX_ANSWER {
        return Ok(refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            tr(lang, "Svaret fra enheten er for stort."),
        ));
    }
    let presented = match flow.rp.identify(&body) {
        Ok(p) => p,
        Err(e) => {
            let why = format!("passnøkkel: {e}");
            return refused(&clinic, &account, &source, &why, lang).await;
        }
    };
    let Some(stored) = clinic.passkey_for_login(&presented.credential_id).await? else {
        return refused(
            &clinic,
            &account,
            &source,
            "passnøkkel ukjent eller tilbakekalt",
            lang,
        )
        .await;
    };
    if stored.user_handle != presented.user_handle {
        return refused(
            &clinic,
            &account,
            &source,
            "passnøkkel: feil brukerreferanse",
            lang,
        )
        .await;
    }
    let updated = match flow.rp.finish_login(&presented, login, &stored.passkey) {
        Ok(updated) => updated,
        Err(e) => {
            let why = format!("passnøkkel: {e}");
            return refused(&clinic, &account, &source, &why, lang).await;
        }
    };
    if let SessionSubject::Staff(id) = stored.subject {
        let staff = clinic.staff_member(id).await?;
        if !staff.active || clinic.roles_at(id, state.app.now()).await?.is_empty() {
            return refused(
                &clinic,
                &account,
                &source,
                "passnøkkel: ansatt uten gyldig autorisasjon",
                lang,
            )
            .await;
        }
    }
    clinic
        .passkey_used(&presented.credential_id, stored.subject, updated.as_deref())
        .await?;
    clinic.login_succeeded(&account).await?;
    welcome(&state, &clinic, stored.subject, &source, &headers).await
}
