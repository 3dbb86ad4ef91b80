//! Request ids, access logs, security headers, and rendering of errors, for every response.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use tracing::Instrument;

use crate::error::ErrorInfo;

/// The id that ties a user's error page to the log lines about it.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn new_request_id() -> String {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 12];
    // Without randomness the id is still unique enough per process for log lookups.
    if SystemRandom::new().fill(&mut bytes).is_err() {
        bytes = [0; 12];
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// No inline script or style, nothing from elsewhere, never framed (clickjacking).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// An uploaded file shown inline (a message attachment): in a sandbox (no script, no
/// plug-in, an opaque origin), loading nothing but images from here.
pub const ATTACHMENT_POLICY: &str = "sandbox; default-src 'none'; img-src 'self'";

/// Marks a response as an attachment: it gets [`ATTACHMENT_POLICY`], not a page's policy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AttachmentPolicy;

/// Another site a page's form may post to (the provider's logout endpoint): the only
/// change a handler can make to the policy, and only to `form-action`.
#[derive(Debug, Clone)]
pub(crate) struct FormTarget(pub String);

/// The policy, with `form-action` also allowing `target` if it is a plain origin.
fn policy(target: Option<&FormTarget>) -> HeaderValue {
    let origin = target.map(|t| t.0.as_str()).filter(|o| {
        (o.starts_with("https://") || o.starts_with("http://"))
            && o.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b":/.-[]".contains(&b))
    });
    match origin {
        Some(origin) => HeaderValue::from_str(&CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'",
            &format!("form-action 'self' {origin}"),
        ))
        .unwrap_or(HeaderValue::from_static(CONTENT_SECURITY_POLICY)),
        None => HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    }
}

pub(crate) async fn secure(State(tls): State<bool>, mut request: Request, next: Next) -> Response {
    let request_id = new_request_id();
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    // The path only: a query string could carry personal data.
    let span = tracing::info_span!("request", request_id = %request_id, method = %request.method(), path = %request.uri().path());
    let started = Instant::now();
    // The language of an error page, and the path the footer's language link returns to
    // (a GET only: a form's address is no page to come back to).
    let lang = crate::i18n::Lang::of(request.headers());
    let here =
        (request.method() == axum::http::Method::GET).then(|| request.uri().path().to_owned());
    let mut response = crate::i18n::HERE
        .scope(here, next.run(request).instrument(span.clone()))
        .await;

    if let Some(info) = response.extensions_mut().remove::<ErrorInfo>() {
        let status = response.status();
        if let Some(detail) = &info.detail {
            span.in_scope(
                || tracing::error!(status = status.as_u16(), detail = %detail, "request failed"),
            );
        }
        let body = crate::i18n::HERE.sync_scope(None, || {
            crate::pages::error_page(lang, status, info.message, &request_id)
        });
        response = (status, Html(body)).into_response();
    }

    let form_target = response.extensions_mut().remove::<FormTarget>();
    let attachment = response.extensions_mut().remove::<AttachmentPolicy>();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        match attachment {
            Some(_) => HeaderValue::from_static(ATTACHMENT_POLICY),
            None => policy(form_target.as_ref()),
        },
    );
    let fixed: [(header::HeaderName, &'static str); 6] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // Not `no-referrer`: under it browsers send `Origin: null` with a form post, and
        // the login forms without a session check the origin. No address leaves the site.
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Every page may show personal data once logged in: nothing is cached (P2).
        (header::CACHE_CONTROL, "no-store"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            header::HeaderName::from_static("permissions-policy"),
            "camera=(self), microphone=(self), geolocation=(), payment=()",
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if tls {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(header::HeaderName::from_static("x-request-id"), value);
    }
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request"
        )
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_target_widens_only_form_action_and_only_for_a_plain_origin() {
        let base = policy(None);
        assert_eq!(base, CONTENT_SECURITY_POLICY);
        let widened = policy(Some(&FormTarget("https://login.idporten.no".into())));
        assert_eq!(
            widened.to_str().unwrap_or_default(),
            CONTENT_SECURITY_POLICY.replace(
                "form-action 'self'",
                "form-action 'self' https://login.idporten.no"
            )
        );
        for evil in [
            "https://x.example; script-src *",
            "'unsafe-inline'",
            "*",
            "javascript:",
        ] {
            assert_eq!(policy(Some(&FormTarget(evil.into()))), base, "{evil}");
        }
    }
}
