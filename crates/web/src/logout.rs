//! Logout (issue 3 item 5, S4): the session ends here first, then the browser goes on to
//! the provider's end-session endpoint (OpenID Connect RP-Initiated Logout), so that the
//! single sign-on session at ID-porten or HelseID ends too, and comes back to a page of
//! ours that says so.
//!
//! The way on is a form the browser posts (ID-porten recommends POST), not a redirect:
//! the id_token in `id_token_hint` carries the identity number, and a form keeps it out
//! of addresses and browser history (P2). Our own policy allows posting only to
//! ourselves, so this one page also allows the provider's origin as a form target.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use fortrolig_domain::OrgNumber;
use fortrolig_identity::ProviderKind;
use fortrolig_service::{Clinic, Session, SessionSubject};
use serde::Deserialize;

use crate::error::WebError;
use crate::headers::FormTarget;
use crate::html::{escape, page};
use crate::i18n::{Lang, tr};
use crate::login::{LoginFlow, provider_name};
use crate::respond::{clinic_of, see_other};
use crate::router::AppState;
use crate::session::{SESSION_COOKIE, clear_cookie, clinic_path, current};
use crate::source::RequestSource;

#[derive(Debug, Deserialize)]
pub(crate) struct LogoutForm {
    csrf: String,
    overalt: Option<String>,
}

/// Where a subject's own pages start: the portal for patients, the workspace for staff.
pub(crate) fn home_of(org: &OrgNumber, subject: SessionSubject) -> String {
    match subject {
        SessionSubject::Patient(_) => format!("/k/{org}/"),
        SessionSubject::Staff(_) => format!("/k/{org}/ansatt/"),
    }
}

/// `POST /k/{clinic}/utlogging` (patients and staff): «Logg ut» and «Logg ut overalt».
pub(crate) async fn logout(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let clinic = state.app.clinic(&org).await?;
    let Some(session) = current(&clinic, &headers).await? else {
        return Ok(see_other(
            &clinic_path(&org),
            Some(&clear_cookie(SESSION_COOKIE, state.secure_cookies)),
        ));
    };
    if !session.csrf_matches(&form.csrf) {
        return Err(WebError::Forbidden);
    }
    log_out(
        &state,
        &clinic,
        &session,
        form.overalt.is_some(),
        &source,
        lang,
    )
    .await
}

fn flow_for<'s>(state: &'s AppState, provider: &str) -> Option<&'s LoginFlow> {
    match provider {
        "idporten" => state.idporten.as_deref(),
        "helseid" => state.helseid.as_deref(),
        _ => None,
    }
}

/// Ends `session` (with `everywhere`, every session of its owner), clears the cookie, and
/// sends the browser on to log out at the provider the session came from.
pub(crate) async fn log_out(
    state: &AppState,
    clinic: &Clinic,
    session: &Session,
    everywhere: bool,
    source: &RequestSource,
    lang: Lang,
) -> Result<Response, WebError> {
    let home = home_of(clinic.org(), session.subject);
    // Read before the session ends: ending it clears the id_token.
    let hint = clinic.id_token_hint(session).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the id_token for logout could not be opened");
        None
    });
    let in_session = source.in_session(session);
    if everywhere {
        clinic.end_all_own_sessions(session, &in_session).await?;
    } else {
        clinic.end_session(session, &in_session).await?;
    }
    let cookie = clear_cookie(SESSION_COOKIE, state.secure_cookies);
    let Some(flow) = flow_for(state, &session.provider) else {
        return Ok(see_other(&home, Some(&cookie)));
    };
    if flow.provider().end_session_url().is_none() {
        return Ok(see_other(&home, Some(&cookie)));
    }
    let back = flow.remember_logout(&home)?;
    let Some(request) = flow.provider().logout_request(hint.as_deref(), &back) else {
        return Ok(see_other(&home, Some(&cookie)));
    };
    let name = provider_name(flow.provider().kind());
    let fields: String = request
        .fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                escape(k),
                escape(v)
            )
        })
        .collect();
    let body = format!(
        "<h1>{}</h1>\n\
         <p>{}</p>\n\
         <form method=\"post\" action=\"{}\" data-videre>\n{fields}\
         <button type=\"submit\">{}</button>\n</form>\n\
         <script src=\"/static/videre.js\"></script>",
        tr(lang, "Du er logget ut her"),
        tr(
            lang,
            "Nå logger vi deg også ut av {name}, så ingen andre kan logge inn som deg på denne enheten."
        )
        .replace("{name}", name),
        escape(request.endpoint()),
        tr(lang, "Logg ut av {name}").replace("{name}", name),
    );
    let mut response = Html(page(lang, tr(lang, "Logger ut"), &body)).into_response();
    response
        .extensions_mut()
        .insert(FormTarget(request.origin()));
    if let Ok(value) = axum::http::HeaderValue::from_str(&cookie) {
        response
            .headers_mut()
            .insert(axum::http::header::SET_COOKIE, value);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoggedOutQuery {
    state: Option<String>,
}

fn logged_out(
    lang: Lang,
    flow: Option<&LoginFlow>,
    kind: ProviderKind,
    state: Option<&str>,
) -> Result<Response, WebError> {
    let home = match (flow, state) {
        (Some(flow), Some(state)) => flow.take_logout(state)?,
        _ => None,
    };
    let name = provider_name(kind);
    let back = match &home {
        Some(home) => format!(
            "<p><a href=\"{}\">{}</a></p>",
            escape(home),
            tr(lang, "Til innloggingen")
        ),
        None => format!("<p><a href=\"/\">{}</a></p>", tr(lang, "Til forsiden")),
    };
    let body = format!(
        "<h1>{}</h1>\n<p>{}</p>\n<p>{}</p>\n{back}",
        tr(lang, "Du er logget ut"),
        tr(lang, "Du er logget ut av Fortrolig og av {name}.").replace("{name}", name),
        tr(
            lang,
            "Bruker du en datamaskin eller telefon som andre også bruker, bør du lukke nettleseren nå."
        ),
    );
    Ok(Html(page(lang, tr(lang, "Logget ut"), &body)).into_response())
}

/// `GET /innlogging/idporten/utlogget`: back from logging out at ID-porten.
pub(crate) async fn idporten_logged_out(
    State(state): State<AppState>,
    lang: Lang,
    Query(query): Query<LoggedOutQuery>,
) -> Result<Response, WebError> {
    logged_out(
        lang,
        state.idporten.as_deref(),
        ProviderKind::IdPorten,
        query.state.as_deref(),
    )
}

/// `GET /innlogging/helseid/utlogget`: back from logging out at HelseID.
pub(crate) async fn helseid_logged_out(
    State(state): State<AppState>,
    lang: Lang,
    Query(query): Query<LoggedOutQuery>,
) -> Result<Response, WebError> {
    logged_out(
        lang,
        state.helseid.as_deref(),
        ProviderKind::HelseId,
        query.state.as_deref(),
    )
}
