//! The one error policy.
//!
//! A handler returns `WebError`. Its response carries only a status and a safe Norwegian
//! message; the cause rides in a response extension, and the request-id middleware logs
//! it with the request id and renders the page the user sees (message + request id).
//! Database text, paths and stack traces never reach a response body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fortrolig_service::ServiceError;

use crate::i18n::n_;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("forbidden (CSRF token missing or wrong)")]
    Forbidden,
    #[error("too many requests from one address")]
    TooMany,
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// The patient said no to the service, or ended their use of the portal.
    #[error("stopped by the patient: {0:?}")]
    Stopped(fortrolig_service::Stopped),
}

impl From<ServiceError> for WebError {
    fn from(e: ServiceError) -> Self {
        if let ServiceError::Stopped(why) = e {
            WebError::Stopped(why)
        } else if e.is_unavailable() {
            WebError::Unavailable(e.to_string())
        } else {
            WebError::Internal(e.to_string())
        }
    }
}

/// What the middleware needs to log and render an error.
#[derive(Debug, Clone)]
pub(crate) struct ErrorInfo {
    /// Bokmål, marked with `n_`; translated where the page is rendered.
    pub message: &'static str,
    pub detail: Option<String>,
}

impl WebError {
    fn parts(&self) -> (StatusCode, &'static str, Option<String>) {
        match self {
            WebError::NotFound => (StatusCode::NOT_FOUND, n_("Siden finnes ikke."), None),
            WebError::TooMany => (
                StatusCode::TOO_MANY_REQUESTS,
                n_("For mange forsøk fra denne adressen. Vent noen minutter og prøv igjen."),
                None,
            ),
            WebError::Forbidden => (
                StatusCode::FORBIDDEN,
                n_(
                    "Skjemaet var utløpt eller kom fra et annet sted. Gå tilbake, last siden på nytt og prøv igjen.",
                ),
                None,
            ),
            WebError::Unavailable(d) => (
                StatusCode::SERVICE_UNAVAILABLE,
                n_("Tjenesten er midlertidig utilgjengelig. Prøv igjen om litt."),
                Some(d.clone()),
            ),
            WebError::Stopped(fortrolig_service::Stopped::PortalEnded) => (
                StatusCode::FORBIDDEN,
                n_(
                    "Bruken av pasientportalen er avsluttet. Vil du ta den i bruk igjen, ta kontakt med klinikken.",
                ),
                None,
            ),
            WebError::Stopped(fortrolig_service::Stopped::NoConsent(_)) => (
                StatusCode::CONFLICT,
                n_(
                    "Pasienten har sagt nei til denne tjenesten i pasientportalen. Ingenting er sendt. \
                     Samtykket kan endres under «Samtykke».",
                ),
                None,
            ),
            WebError::Internal(d) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                n_(
                    "Noe gikk galt hos oss. Ingenting av det du sendte er tapt; prøv igjen, eller kontakt klinikken.",
                ),
                Some(d.clone()),
            ),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, message, detail) = self.parts();
        let mut response = status.into_response();
        response
            .extensions_mut()
            .insert(ErrorInfo { message, detail });
        response
    }
}

/// The fallback for unknown paths.
pub(crate) async fn not_found() -> WebError {
    WebError::NotFound
}
