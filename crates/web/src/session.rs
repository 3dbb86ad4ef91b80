//! The session cookie, and finding the session a request carries.

use axum::http::HeaderMap;
use fortrolig_domain::{OrgNumber, ThreadId};
use fortrolig_service::{Clinic, Session, SessionToken, ThreadReadAhead};

use crate::error::WebError;

pub(crate) const SESSION_COOKIE: &str = "fortrolig_okt";

/// `HttpOnly` (no script reads it), `SameSite=Strict` (no other site sends it), `Secure`
/// under TLS; no `Max-Age`, so it ends with the browser, and the server's limits apply.
pub(crate) fn session_cookie(name: &str, value: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{secure}")
}

pub(crate) fn clear_cookie(name: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
}

pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The open session of this request at this clinic, if any.
pub(crate) async fn current(
    clinic: &Clinic,
    headers: &HeaderMap,
) -> Result<Option<Session>, WebError> {
    let Some(value) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(clinic
        .session(&SessionToken::from_cookie(value))
        .await?
        .ok())
}

/// `current`, with one of the session's patient's threads read in the same statement.
pub(crate) async fn current_and_thread(
    clinic: &Clinic,
    headers: &HeaderMap,
    thread: ThreadId,
) -> Result<Option<(Session, ThreadReadAhead)>, WebError> {
    let Some(value) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let (session, ahead) = clinic
        .session_and_thread(&SessionToken::from_cookie(value), thread)
        .await?;
    Ok(session.ok().map(|session| (session, ahead)))
}

/// Ends the session a new login replaces (a step-up, a login in a browser that was
/// already logged in) when it belongs to the same person: one browser, one open session.
pub(crate) async fn end_replaced(
    clinic: &Clinic,
    token: Option<&str>,
    subject: fortrolig_service::SessionSubject,
    source: &fortrolig_domain::Source,
) -> Result<(), WebError> {
    let Some(token) = token else {
        return Ok(());
    };
    if let Ok(old) = clinic.session(&SessionToken::from_cookie(token)).await?
        && old.subject == subject
    {
        clinic.end_session(&old, source).await?;
    }
    Ok(())
}

pub(crate) fn clinic_path(org: &OrgNumber) -> String {
    format!("/k/{org}/")
}
