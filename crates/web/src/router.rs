//! Every route in one place.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use fortrolig_service::Fortrolig;

use std::sync::Arc;

use axum::routing::post;

use crate::login::{self, LoginFlow};
use crate::passkeys::PasskeyFlow;
use crate::portal_messages::draft::Drafts;
use crate::{
    activation, error, headers, innsyn, logout, own_sessions, pages, passkeys, portal, testlogin,
    workspace,
};

/// Where ID-porten sends patients back (register this path with the provider).
pub const IDPORTEN_CALLBACK: &str = "/innlogging/idporten/tilbake";
/// Where HelseID sends staff back.
pub const HELSEID_CALLBACK: &str = "/innlogging/helseid/tilbake";
/// Where ID-porten sends users after logging out there (register as post-logout URI).
pub const IDPORTEN_LOGGED_OUT: &str = "/innlogging/idporten/utlogget";
/// Where HelseID sends users after logging out there.
pub const HELSEID_LOGGED_OUT: &str = "/innlogging/helseid/utlogget";

#[derive(Debug, Clone)]
pub struct AppState {
    pub app: Fortrolig,
    /// Patient login through ID-porten, when configured.
    pub idporten: Option<Arc<LoginFlow>>,
    /// Staff login through HelseID, when configured.
    pub helseid: Option<Arc<LoginFlow>>,
    /// Passkeys (staff, and patients without BankID), when the public address allows.
    pub passkeys: Option<Arc<PasskeyFlow>>,
    /// Whether cookies get `Secure` (always, except plain HTTP on loopback).
    pub secure_cookies: bool,
    /// The demo's test login; only `fortrolig demo` turns it on.
    pub demo_login: bool,
    /// The secret path segment of the SMS provider's delivery reports, when set up.
    pub delivery_report_token: Option<String>,
    /// How this installation is set up, for the clinic's record of processing (C3).
    pub processing: Arc<fortrolig_domain::processing::Setup>,
    /// Refused patient forms' drafts, kept a few minutes (`portal_messages::draft`).
    pub drafts: Arc<Drafts>,
}

impl AppState {
    pub fn new(app: Fortrolig) -> Self {
        Self {
            app,
            idporten: None,
            helseid: None,
            passkeys: None,
            secure_cookies: false,
            demo_login: false,
            delivery_report_token: None,
            processing: Arc::default(),
            drafts: Arc::default(),
        }
    }
}

/// The application. `tls` says whether it is served over TLS (for HSTS).
pub fn router(state: AppState, tls: bool) -> Router {
    Router::new()
        .route("/", get(pages::index))
        .route("/sprak", get(crate::i18n::switch))
        .route("/healthz", get(pages::healthz))
        .route("/readyz", get(pages::readyz))
        .route("/static/fortrolig.css", get(pages::stylesheet))
        .route("/static/videre.js", get(pages::script))
        .route("/favicon.ico", get(pages::favicon))
        .route("/static/passnokkel.js", get(pages::passkey_script))
        .route("/static/innsyn.js", get(pages::innsyn_script))
        .route("/k/{clinic}/aktiver", get(passkeys::activation_page))
        .route(
            "/k/{clinic}/aktiver/start",
            post(passkeys::activation_start),
        )
        .route(
            "/k/{clinic}/aktiver/fullfor",
            post(passkeys::activation_finish),
        )
        .route("/k/{clinic}/passnokkel", get(passkeys::login_page))
        .route("/k/{clinic}/passnokkel/start", post(passkeys::login_start))
        .route(
            "/k/{clinic}/passnokkel/fullfor",
            post(passkeys::login_finish),
        )
        .route("/k/{clinic}/", get(portal::home))
        .route("/k/{clinic}/innlogging", get(login::start))
        .route("/k/{clinic}/utlogging", post(logout::logout))
        .route("/k/{clinic}/okter", get(own_sessions::patient_list))
        .route("/k/{clinic}/okter/avslutt", post(own_sessions::patient_end))
        .route("/k/{clinic}/ansatt/okter", get(own_sessions::staff_list))
        .route(
            "/k/{clinic}/ansatt/okter/avslutt",
            post(own_sessions::staff_end),
        )
        .route(IDPORTEN_LOGGED_OUT, get(logout::idporten_logged_out))
        .route(HELSEID_LOGGED_OUT, get(logout::helseid_logged_out))
        .route(IDPORTEN_CALLBACK, get(login::callback))
        .route("/k/{clinic}/ansatt/innlogging", get(login::start_staff))
        .route(HELSEID_CALLBACK, get(login::staff_callback))
        .route(
            "/k/{clinic}/testinnlogging",
            get(testlogin::form).post(testlogin::login),
        )
        .route("/k/{clinic}/ansatt/", get(workspace::home))
        .route("/k/{clinic}/ansatt/sok", post(workspace::search))
        .route(
            "/k/{clinic}/ansatt/aktivering",
            get(activation::form).post(activation::issue),
        )
        .route(
            "/k/{clinic}/ansatt/pasient/{patient}",
            get(workspace::patient),
        )
        .route(
            "/k/{clinic}/ansatt/pasient/{patient}/nodtilgang",
            post(workspace::emergency),
        )
        .route(
            "/k/{clinic}/ansatt/pasient/{patient}/gjenapne",
            post(workspace::reopen_portal),
        )
        .route(
            "/k/{clinic}/ansatt/nodtilgang",
            get(workspace::review_queue),
        )
        .route(
            "/k/{clinic}/ansatt/hendelser",
            get(workspace::security_events),
        )
        .route(
            "/k/{clinic}/ansatt/tilgangsgjennomgang",
            get(workspace::access_review),
        )
        .route(
            "/k/{clinic}/ansatt/tilgangsgjennomgang/{id}",
            post(workspace::review_grant),
        )
        .route(
            "/k/{clinic}/ansatt/nodtilgang/{id}",
            post(workspace::review),
        )
        .merge(crate::portal_messages::routes())
        .merge(innsyn::routes())
        .merge(crate::info::routes())
        .merge(crate::workspace_messages::routes())
        .merge(crate::admin::routes())
        .merge(crate::notices::routes())
        .merge(crate::consent::routes())
        .merge(crate::processing::routes())
        .merge(crate::retention::routes())
        .merge(crate::requests::routes())
        .merge(crate::incidents::routes())
        .route("/varsler/link/{token}", post(crate::delivery_reports::link))
        .fallback(error::not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(256 * 1024))
        .layer(axum::middleware::from_fn_with_state(tls, headers::secure))
}
