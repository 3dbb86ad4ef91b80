//! Pages and health checks.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{Lang, tr};
use crate::router::AppState;

pub(crate) async fn index(State(state): State<AppState>) -> Result<Html<String>, WebError> {
    let clinics = state.app.clinics().await?;
    let list: String = clinics
        .iter()
        .map(|c| {
            format!(
                "<li><a href=\"/k/{org}/\">{}</a> <span class=\"reference\">(org.nr. {org})</span></li>",
                escape(&c.name),
                org = c.org_number
            )
        })
        .collect();
    let body = format!(
        "<h1>Fortrolig</h1>\n\
         <p>Sikker digital kommunikasjon mellom deg og klinikken din. Du bruker en vanlig nettleser; \
         du trenger ikke installere noe.</p>\n\
         <h2>Klinikker på denne tjenesten</h2>\n<ul>{list}</ul>\n\
         <p>Innlogging for pasienter og ansatte kommer snart.</p>"
    );
    Ok(Html(page(Lang::Nb, "Velkommen", &body)))
}

pub(crate) fn error_page(
    lang: Lang,
    status: StatusCode,
    message: &'static str,
    request_id: &str,
) -> String {
    let body = format!(
        "<h1>{}</h1>\n<p>{}</p>\n<p>{} <span class=\"reference\">{}</span></p>\n<p><a href=\"/\">{}</a></p>",
        if status == StatusCode::NOT_FOUND {
            tr(lang, "Fant ikke siden")
        } else {
            tr(lang, "Beklager")
        },
        escape(tr(lang, message)),
        tr(lang, "Referanse:"),
        escape(request_id),
        tr(lang, "Til forsiden"),
    );
    page(lang, tr(lang, "Feil"), &body)
}

/// No icon: an empty answer instead of an error page on every page load.
pub(crate) async fn favicon() -> axum::http::StatusCode {
    axum::http::StatusCode::NO_CONTENT
}

pub(crate) async fn healthz() -> &'static str {
    "ok"
}

pub(crate) async fn readyz(State(state): State<AppState>) -> Result<&'static str, WebError> {
    state.app.ready().await?;
    Ok("ready")
}

/// The one script: runs the passkey ceremonies (WebAuthn needs JavaScript).
pub(crate) async fn passkey_script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../static/passnokkel.js"),
    )
        .into_response()
}

/// The script that checks the audit log's proofs on the innsyn page (P9): WebCrypto only.
pub(crate) async fn innsyn_script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../static/innsyn.js"),
    )
        .into_response()
}

pub(crate) async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../static/fortrolig.css"),
    )
        .into_response()
}

/// The one script: sends a form marked `data-videre` on by itself (logout at the provider).
pub(crate) async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../static/videre.js"),
    )
        .into_response()
}
