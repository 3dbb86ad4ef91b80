//! The clinic's information pages (P3, P11), readable before login, and the
//! administrator's form for the clinic's own text.

use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use fortrolig_domain::OrgNumber;
use fortrolig_domain::access::DataClass;
use fortrolig_domain::info_pages::{InfoPage, MAX_BODY, MAX_TITLE};
use fortrolig_service::{ServiceError, ShownPage};
use serde::Deserialize;

use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{Lang, n_, tr};
use crate::respond::{clinic_of, see_other};
use crate::router::AppState;
use crate::source::RequestSource;
use crate::workspace::require_class;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/k/{clinic}/info", get(index))
        .route("/k/{clinic}/info/{slug}", get(show))
        .route("/k/{clinic}/ansatt/sider/{slug}", get(edit_form).post(save))
}

/// Paragraphs at blank lines, line breaks within them; everything escaped.
pub(crate) fn paragraphs(body: &str) -> String {
    body.split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let lines: Vec<String> = p.trim().lines().map(escape).collect();
            format!("<p>{}</p>", lines.join("<br>\n"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `GET /k/{clinic}/info`: every page, linked.
async fn index(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    lang: Lang,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let clinic = state
        .app
        .clinic(&org)
        .await
        .map_err(|_| WebError::NotFound)?;
    let mut list = String::new();
    for p in InfoPage::ALL {
        let shown = clinic.info_page(p).await?;
        list.push_str(&format!(
            "<li><a href=\"/k/{org}/info/{}\">{}</a></li>\n",
            p.slug(),
            escape(&shown.title)
        ));
    }
    let body = format!(
        "<h1>{}</h1>\n<ul>\n{list}</ul>\n<p><a href=\"/k/{org}/\">{}</a></p>",
        tr(lang, "Om tjenesten"),
        tr(lang, "Til forsiden"),
    );
    Ok(Html(page(lang, tr(lang, "Om tjenesten"), &body)).into_response())
}

/// `GET /k/{clinic}/info/{slug}`.
async fn show(
    State(state): State<AppState>,
    Path((clinic, slug)): Path<(String, String)>,
    lang: Lang,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let info = InfoPage::parse(&slug).ok_or(WebError::NotFound)?;
    let clinic = state
        .app
        .clinic(&org)
        .await
        .map_err(|_| WebError::NotFound)?;
    let shown = clinic.info_page(info).await?;
    let body = format!(
        "<h1>{}</h1>\n{}\n<p><a href=\"/k/{org}/info\">{}</a> · <a href=\"/k/{org}/\">{}</a></p>",
        escape(&shown.title),
        paragraphs(&shown.body),
        tr(lang, "Mer om tjenesten"),
        tr(lang, "Til forsiden"),
    );
    Ok(Html(page(lang, &shown.title, &body)).into_response())
}

fn form_page(
    lang: Lang,
    org: &OrgNumber,
    shown: &ShownPage,
    csrf: &str,
    problem: Option<&str>,
) -> String {
    let problem = problem.map_or_else(String::new, |p| {
        format!("<p class=\"feil\" role=\"alert\">{}</p>\n", escape(p))
    });
    let origin = if shown.own_text {
        tr(lang, "Siden viser klinikkens egen tekst.")
    } else {
        tr(
            lang,
            "Siden viser standardteksten. Endre den hvis klinikken gjør ting annerledes.",
        )
    };
    let body = format!(
        "<h1>{heading}</h1>\n{problem}<p>{origin}</p>\n\
         <form method=\"post\" action=\"/k/{org}/ansatt/sider/{slug}\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <label for=\"tittel\">{title_label}</label>\n\
         <input id=\"tittel\" name=\"tittel\" value=\"{title}\" required maxlength=\"{MAX_TITLE}\">\n\
         <label for=\"tekst\">{text_label}</label>\n\
         <textarea id=\"tekst\" name=\"tekst\" rows=\"14\" required>{text}</textarea>\n\
         <button type=\"submit\">{save}</button>\n</form>\n\
         <p><a href=\"/k/{org}/info/{slug}\">{see}</a> · <a href=\"/k/{org}/ansatt/\">{back}</a></p>",
        heading = tr(lang, "Informasjonsside: {tittel}").replace("{tittel}", &escape(&shown.title)),
        title_label = tr(lang, "Tittel (høyst {n} tegn)").replace("{n}", &MAX_TITLE.to_string()),
        text_label = tr(lang, "Tekst (høyst {n} tegn; tom linje gir nytt avsnitt)")
            .replace("{n}", &MAX_BODY.to_string()),
        save = tr(lang, "Lagre"),
        see = tr(lang, "Se siden"),
        back = tr(lang, "Tilbake"),
        title = escape(&shown.title),
        text = escape(&shown.body),
        slug = shown.page.slug(),
        csrf = escape(csrf),
    );
    page(lang, tr(lang, "Informasjonsside"), &body)
}

const ONLY_ADMIN: &str = n_("Bare klinikkens administrator endrer informasjonssidene.");

/// `GET /k/{clinic}/ansatt/sider/{slug}`: the administrator's form.
async fn edit_form(
    State(state): State<AppState>,
    Path((clinic, slug)): Path<(String, String)>,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let info = InfoPage::parse(&slug).ok_or(WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    let here = format!("/k/{org}/ansatt/sider/{slug}");
    let now = state.app.now();
    let (_, session) =
        match require_class(&clinic, &headers, &here, now, DataClass::People, ONLY_ADMIN).await? {
            Ok(pair) => pair,
            Err(response) => return Ok(response),
        };
    let shown = clinic.info_page(info).await?;
    Ok(Html(form_page(lang, &org, &shown, session.csrf_token(), None)).into_response())
}

#[derive(Debug, Deserialize)]
struct PageForm {
    csrf: String,
    tittel: String,
    tekst: String,
}

/// `POST /k/{clinic}/ansatt/sider/{slug}`: saves the clinic's own text (audited).
async fn save(
    State(state): State<AppState>,
    Path((clinic, slug)): Path<(String, String)>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<PageForm>,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let info = InfoPage::parse(&slug).ok_or(WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    let here = format!("/k/{org}/ansatt/sider/{slug}");
    let now = state.app.now();
    let (staff, session) =
        match require_class(&clinic, &headers, &here, now, DataClass::People, ONLY_ADMIN).await? {
            Ok(pair) => pair,
            Err(response) => return Ok(response),
        };
    if !session.csrf_matches(&form.csrf) {
        return Err(WebError::Forbidden);
    }
    let ctx = crate::workspace::admin_context(
        &clinic,
        staff,
        source.in_session(&session),
        "informasjonsside",
    );
    match clinic
        .set_info_page(&ctx, info, &form.tittel, &form.tekst)
        .await
    {
        Ok(()) => Ok(see_other(&format!("/k/{org}/info/{slug}"), None)),
        Err(ServiceError::Invalid(problem)) => {
            // Shown again with what was typed: bad input loses nothing.
            let typed = ShownPage {
                page: info,
                title: form.tittel,
                body: form.tekst,
                own_text: true,
            };
            Ok((
                StatusCode::BAD_REQUEST,
                Html(form_page(
                    lang,
                    &org,
                    &typed,
                    session.csrf_token(),
                    Some(&problem),
                )),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_text_is_escaped_and_split_into_paragraphs_p3() {
        assert_eq!(
            paragraphs("Første <b>avsnitt</b>\nny linje\n\nAndre"),
            "<p>Første &lt;b&gt;avsnitt&lt;/b&gt;<br>\nny linje</p>\n<p>Andre</p>"
        );
    }
}
