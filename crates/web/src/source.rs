//! Where a request came from, for the audit log (X3): the peer address and, once known,
//! a reference to the session (a prefix of the token's hash: it identifies the session in
//! the log without being able to take it over).

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use fortrolig_domain::Source;
use fortrolig_service::Session;

/// The request's origin as the audit log records it.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestSource(pub Source);

impl<S: Send + Sync> FromRequestParts<S> for RequestSource {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Behind a TLS-terminating proxy this is the proxy; a trusted-proxy setting for
        // X-Forwarded-For is planned.
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        Ok(Self(Source {
            session: None,
            address,
        }))
    }
}

impl RequestSource {
    /// The same origin, within `session`.
    pub(crate) fn in_session(&self, session: &Session) -> Source {
        Source {
            session: Some(session.reference()),
            address: self.0.address.clone(),
        }
    }
}
