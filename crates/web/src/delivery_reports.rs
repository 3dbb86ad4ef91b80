//! `POST /varsler/link/{token}`: delivery reports from the SMS provider (N5). LINK posts
//! one JSON report per message part to the address set up with its support; the token
//! in the path is a secret only LINK and we know (it is compared in constant time). LINK
//! wants 200 for every report it should not send again, so a report that names no notice
//! here is answered 200 too; a body that is no report is 400.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fortrolig_service::ServiceError;

use crate::error::WebError;
use crate::router::AppState;

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) async fn link(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let Some(expected) = state.delivery_report_token.as_deref() else {
        return Err(WebError::NotFound);
    };
    if !same(token.as_bytes(), expected.as_bytes()) {
        return Err(WebError::NotFound);
    }
    match state.app.link_delivery_report(&body).await {
        Ok(_) => Ok(StatusCode::OK.into_response()),
        Err(ServiceError::Invalid(why)) => {
            tracing::warn!(why, "a delivery report that is not one");
            Ok(StatusCode::BAD_REQUEST.into_response())
        }
        Err(e) => Err(e.into()),
    }
}
