//! The clinic administrator's pages (S1, S2): the clinic's people and their
//! time-limited authorisations, and teams with their members and care relationships.
//!
//! Everything here is people data (`DataClass::People`): the clinic administrator role at
//! level high, decided by the one rule in `fortrolig_domain::access::decide` and listed in
//! docs/ACCESS.md. Every change is a form with the session's CSRF token and an audited
//! write in the service; nothing is deleted, so the history stays readable.

mod people;
mod teams;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use fortrolig_domain::Timestamp;
use fortrolig_domain::access::DataClass;
use fortrolig_domain::{OrgNumber, Source, StaffId};
use fortrolig_service::{ActContext, Clinic, Fortrolig, ServiceError, Session};

use crate::error::WebError;
use crate::html::escape;
use crate::i18n::{Lang, n_};
use crate::respond::{clinic_of, message};
use crate::router::AppState;
use crate::source::RequestSource;
use crate::workspace::{admin_context, require_class};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/k/{clinic}/ansatt/tilganger", get(people::list))
        .route("/k/{clinic}/ansatt/tilganger/ny", post(people::add))
        .route("/k/{clinic}/ansatt/tilganger/{staff}", get(people::person))
        .route(
            "/k/{clinic}/ansatt/tilganger/{staff}/tildel",
            post(people::grant),
        )
        .route(
            "/k/{clinic}/ansatt/tilganger/{staff}/slutter",
            post(people::deactivate),
        )
        .route(
            "/k/{clinic}/ansatt/tilganger/{staff}/{grant}/endre",
            post(people::change),
        )
        .route(
            "/k/{clinic}/ansatt/tilganger/{staff}/{grant}/avslutt",
            post(people::end),
        )
        .route("/k/{clinic}/ansatt/team", get(teams::list))
        .route("/k/{clinic}/ansatt/team/ny", post(teams::create))
        .route("/k/{clinic}/ansatt/team/{team}", get(teams::team))
        .route(
            "/k/{clinic}/ansatt/team/{team}/medlem",
            post(teams::add_member),
        )
        .route(
            "/k/{clinic}/ansatt/team/{team}/medlem/{staff}/fjern",
            post(teams::remove_member),
        )
        .route(
            "/k/{clinic}/ansatt/team/{team}/pasient",
            post(teams::start_care),
        )
        .route(
            "/k/{clinic}/ansatt/team/{team}/pasient/avslutt",
            post(teams::end_care),
        )
}

/// Why a handler stops early: an error, or a page to show instead (the login, a step-up,
/// a refusal).
#[derive(Debug)]
pub(crate) enum Halt {
    Error(WebError),
    Page(Box<Response>),
}

impl Halt {
    pub fn page(response: Response) -> Self {
        Halt::Page(Box::new(response))
    }
}

impl From<WebError> for Halt {
    fn from(e: WebError) -> Self {
        Halt::Error(e)
    }
}

impl From<ServiceError> for Halt {
    fn from(e: ServiceError) -> Self {
        Halt::Error(e.into())
    }
}

impl IntoResponse for Halt {
    fn into_response(self) -> Response {
        match self {
            Halt::Error(e) => e.into_response(),
            Halt::Page(page) => *page,
        }
    }
}

/// A request from the clinic's administrator, at level high; anyone else is sent to log
/// in, to step up, or refused (and the refusal is a page, not a leak of what is here).
pub(crate) struct Admin {
    pub app: Fortrolig,
    pub org: OrgNumber,
    pub clinic: Arc<Clinic>,
    pub staff: StaffId,
    pub session: Session,
    pub source: Source,
    /// The language of the request's pages.
    pub lang: Lang,
    /// The path's other parts (`staff`, `grant`, `team`, `patient`).
    path: HashMap<String, String>,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Halt;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Halt> {
        let Path(path) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| WebError::NotFound)?;
        let org = clinic_of(path.get("clinic").map_or("", String::as_str))?;
        // After a login the browser comes back with GET: a form's page, not the form.
        let here = if parts.method == Method::GET {
            parts.uri.path().to_owned()
        } else {
            format!("/k/{org}/ansatt/tilganger")
        };
        let clinic = state.app.clinic(&org).await?;
        let (staff, session) = require_class(
            &clinic,
            &parts.headers,
            &here,
            state.app.now(),
            DataClass::People,
            n_("Bare klinikkens administrator styrer ansatte, tilganger og team. Forsøket er logget."),
        )
        .await?
        .map_err(Halt::page)?;
        let source = RequestSource::from_request_parts(parts, state)
            .await
            .unwrap_or_default()
            .in_session(&session);
        Ok(Self {
            app: state.app.clone(),
            org,
            clinic,
            staff,
            session,
            source,
            lang: Lang::of(&parts.headers),
            path,
        })
    }
}

impl Admin {
    pub fn now(&self) -> Timestamp {
        self.app.now()
    }

    /// A form's token must be this session's (CSRF).
    pub fn check(&self, csrf: &str) -> Result<(), Halt> {
        if self.session.csrf_matches(csrf) {
            Ok(())
        } else {
            Err(WebError::Forbidden.into())
        }
    }

    /// The hidden form field carrying the CSRF token.
    pub fn csrf_field(&self) -> String {
        format!(
            "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
            escape(self.session.csrf_token())
        )
    }

    /// A part of the path, parsed; anything unparsable is a page that does not exist.
    pub fn part<T>(&self, name: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<T, Halt> {
        self.path
            .get(name)
            .and_then(|text| parse(text))
            .ok_or(Halt::Error(WebError::NotFound))
    }

    /// The audit context of an administrator's act, with why it was done.
    pub fn ctx(&self, reason: &str) -> ActContext {
        admin_context(&self.clinic, self.staff, self.source.clone(), reason)
    }

    /// A refusal of bad input, with a link back to `back`; nothing was changed. `title`
    /// and `text` are in `self.lang` already.
    pub fn refuse(&self, title: &str, text: &str, back: &str) -> Halt {
        Halt::page(message(
            self.lang,
            StatusCode::BAD_REQUEST,
            title,
            text,
            back,
        ))
    }
}
