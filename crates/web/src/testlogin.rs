//! The demo's test login (like ID-porten's TestID): pick a synthetic person and log in
//! without an identity provider. It exists only when the server was started by
//! `fortrolig demo` (there is no configuration key for it), and every page says so.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use fortrolig_domain::PersonNumber;
use fortrolig_domain::access::Level;
use fortrolig_service::SessionSubject;
use serde::Deserialize;

use crate::error::WebError;
use crate::html::page;
use crate::i18n::{Lang, tr};
use crate::respond::{clinic_of, message, see_other};
use crate::router::AppState;
use crate::session::{SESSION_COOKIE, session_cookie};
use crate::source::RequestSource;

fn banner(lang: Lang) -> String {
    format!(
        "<p class=\"advarsel\" role=\"alert\">{}</p>",
        tr(
            lang,
            "<strong>TESTINNLOGGING – bare for demo.</strong> \
             Ingen ekte eID brukes. Slå aldri dette på for ekte pasienter."
        )
    )
}

pub(crate) async fn form(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    lang: Lang,
) -> Result<Response, WebError> {
    if !state.demo_login {
        return Err(WebError::NotFound);
    }
    let org = clinic_of(&clinic)?;
    state
        .app
        .clinic(&org)
        .await
        .map_err(|_| WebError::NotFound)?;
    let body = format!(
        "{banner}\n<h1>{title}</h1>\n<p>{intro}</p>\n\
         <form method=\"post\" action=\"/k/{org}/testinnlogging\">\n\
         <label for=\"fnr\">{fnr}</label>\n<input id=\"fnr\" name=\"fnr\" inputmode=\"numeric\" autocomplete=\"off\" required>\n\
         <label for=\"nivaa\">{level}</label>\n<select id=\"nivaa\" name=\"nivaa\">\
         <option value=\"hoy\">{high}</option><option value=\"betydelig\">{substantial}</option></select>\n\
         <button type=\"submit\">{log_in}</button>\n</form>",
        banner = banner(lang),
        title = tr(lang, "Testinnlogging"),
        intro = tr(
            lang,
            "Skriv fødselsnummeret til en syntetisk testperson (for eksempel 12858010053 for pasienten \
             Kari Testperson, eller 29906410093 for legen Lege Demosen)."
        ),
        fnr = tr(lang, "Fødselsnummer"),
        level = tr(lang, "Sikkerhetsnivå"),
        high = tr(lang, "Høyt"),
        substantial = tr(lang, "Betydelig"),
        log_in = tr(lang, "Logg inn (test)"),
    );
    Ok(Html(page(lang, tr(lang, "Testinnlogging"), &body)).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct TestLoginForm {
    fnr: String,
    nivaa: Option<String>,
}

pub(crate) async fn login(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<TestLoginForm>,
) -> Result<Response, WebError> {
    if !state.demo_login {
        return Err(WebError::NotFound);
    }
    // A login form posted from another site is refused (login CSRF).
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
        && headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|host| !origin.ends_with(host))
    {
        return Err(WebError::Forbidden);
    }
    let org = clinic_of(&clinic)?;
    let clinic = state.app.clinic(&org).await?;
    let Ok(number) = PersonNumber::parse(&form.fnr) else {
        return Ok(message(
            lang,
            StatusCode::BAD_REQUEST,
            tr(lang, "Ugyldig fødselsnummer"),
            tr(lang, "Sjekk de elleve sifrene."),
            &format!("/k/{org}/testinnlogging"),
        ));
    };
    let level = if form.nivaa.as_deref() == Some("betydelig") {
        Level::Substantial
    } else {
        Level::High
    };
    let (subject, next) = if let Some(p) = clinic.patient_id_by_number(&number).await? {
        (SessionSubject::Patient(p), format!("/k/{org}/"))
    } else if let Some(s) = clinic.staff_id_by_number(&number).await? {
        (SessionSubject::Staff(s), format!("/k/{org}/ansatt/"))
    } else {
        return Ok(message(
            lang,
            StatusCode::FORBIDDEN,
            tr(lang, "Fant ingen testperson"),
            tr(
                lang,
                "Ingen pasient eller ansatt ved klinikken har dette fødselsnummeret.",
            ),
            &format!("/k/{org}/testinnlogging"),
        ));
    };
    let (token, _) = clinic
        .start_session(subject, level, "testinnlogging", None, None, &source.0)
        .await?;
    Ok(see_other(
        &next,
        Some(&session_cookie(
            SESSION_COOKIE,
            token.as_str(),
            state.secure_cookies,
        )),
    ))
}
