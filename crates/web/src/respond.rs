//! Small responses every area uses: a message page, a redirect after a form, the clinic
//! in a path.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use fortrolig_domain::OrgNumber;

use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{Lang, tr};

/// The clinic a path names; an invalid org number is simply a page that does not exist.
pub(crate) fn clinic_of(text: &str) -> Result<OrgNumber, WebError> {
    OrgNumber::parse(text).map_err(|_| WebError::NotFound)
}

/// A short page with a title, one paragraph and a link back to `back`.
/// `title` and `text` are already in `lang`.
pub(crate) fn message(
    lang: Lang,
    status: StatusCode,
    title: &str,
    text: &str,
    back: &str,
) -> Response {
    let body = format!(
        "<h1>{}</h1>\n<p>{}</p>\n<p><a href=\"{}\">{}</a></p>",
        escape(title),
        escape(text),
        escape(back),
        tr(lang, "Tilbake"),
    );
    (status, Html(page(lang, title, &body))).into_response()
}

/// 303 See Other to `to`, optionally setting a cookie.
pub(crate) fn see_other(to: &str, cookie: Option<&str>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = header::HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    if let Some(c) = cookie.and_then(|c| header::HeaderValue::from_str(c).ok()) {
        response.headers_mut().insert(header::SET_COOKIE, c);
    }
    response
}

/// An attachment as the browser shows it (P2): inline, never as a download, with the
/// type sniffed from its bytes when it was stored, `nosniff` (set for every response) and
/// a sandbox in which nothing runs.
pub(crate) fn attachment(
    opened: fortrolig_service::OpenedAttachment,
) -> Result<Response, WebError> {
    let media = fortrolig_domain::attachment::MediaType::ALL
        .into_iter()
        .find(|m| m.as_mime() == opened.media_type)
        .ok_or_else(|| WebError::Internal("an attachment of a type never accepted".into()))?;
    let disposition = format!("inline; filename=\"vedlegg.{}\"", media.extension());
    let mut response = (
        [
            (header::CONTENT_TYPE, media.as_mime().to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        opened.bytes,
    )
        .into_response();
    response
        .extensions_mut()
        .insert(crate::headers::AttachmentPolicy);
    Ok(response)
}
