//! Every route in one place.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use fortrolig_service::Fortrolig;

use crate::{error, headers, pages};

#[derive(Debug, Clone)]
pub struct AppState {
    pub app: Fortrolig,
}

/// The application. `tls` says whether it is served over TLS (for HSTS).
pub fn router(state: AppState, tls: bool) -> Router {
    Router::new()
        .route("/", get(pages::index))
        .route("/healthz", get(pages::healthz))
        .route("/readyz", get(pages::readyz))
        .route("/static/fortrolig.css", get(pages::stylesheet))
        .fallback(error::not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(256 * 1024))
        .layer(axum::middleware::from_fn_with_state(tls, headers::secure))
}
