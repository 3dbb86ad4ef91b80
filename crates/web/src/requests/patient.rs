//! `/k/{clinic}/foresporsler`: the patient's own requests with deadlines and answers, and
//! the form for a new one. Health data (the texts), so at level high.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use fortrolig_domain::messaging::MessageText;
use fortrolig_domain::requests::{DEADLINE_DAYS, RequestKind};
use fortrolig_domain::{OrgNumber, ThreadId};
use fortrolig_service::{AccessError, ServiceError};
use serde::Deserialize;

use super::{kind_name, table};
use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{self, n_, tr};
use crate::innsyn::patient_at_high;
use crate::portal_messages::{Visit, to_login};
use crate::respond::see_other;
use crate::router::AppState;
use crate::source::RequestSource;

fn here(org: &OrgNumber) -> String {
    format!("/k/{org}/foresporsler")
}

fn refused(e: AccessError, org: &OrgNumber) -> Result<Response, WebError> {
    match e {
        AccessError::StepUp(level) => Ok(to_login(org, level, &here(org))),
        AccessError::Denied(_) | AccessError::Service(ServiceError::Invalid(_)) => {
            Err(WebError::NotFound)
        }
        AccessError::Service(e) => Err(e.into()),
    }
}

async fn render(
    v: &Visit,
    now: fortrolig_domain::Timestamp,
    notice: Option<&'static str>,
) -> Result<Result<String, Response>, WebError> {
    let lang = v.lang;
    let requests = match v.clinic.my_requests(&v.actor).await {
        Ok(r) => r,
        Err(e) => return refused(e, &v.org).map(Err),
    };
    let threads = match v.clinic.my_threads(&v.actor).await {
        Ok(t) => t,
        Err(e) => return refused(e, &v.org).map(Err),
    };
    let kinds: String = RequestKind::ALL
        .into_iter()
        .map(|k| {
            format!(
                "<p><input type=\"radio\" id=\"type-{v}\" name=\"type\" value=\"{v}\" required>\n\
                 <label for=\"type-{v}\">{label}</label></p>\n",
                v = k.as_str(),
                label = kind_name(lang, k),
            )
        })
        .collect();
    let options: String = threads
        .iter()
        .map(|t| {
            format!(
                "<option value=\"{id}\">{}</option>\n",
                escape(
                    &tr(lang, "Samtale: {type}, sist endret {tid}")
                        .replace("{type}", i18n::kind_name(lang, t.kind))
                        .replace("{tid}", &t.updated_at.oslo_minutes())
                ),
                id = t.id,
            )
        })
        .collect();
    let notice = notice
        .map(|n| format!("<p role=\"status\"><strong>{}</strong></p>\n", tr(lang, n)))
        .unwrap_or_default();
    Ok(Ok(format!(
        "<h1>{title}</h1>\n{notice}<p>{intro}</p>\n<p>{duty}</p>\n\
         <h2>{h_list}</h2>\n{list}\
         <h2>{h_new}</h2>\n\
         <form method=\"post\" action=\"/k/{org}/foresporsler\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <fieldset>\n<legend>{l_kind}</legend>\n{kinds}</fieldset>\n\
         <p><label for=\"samtale\">{l_scope}</label>\n<select id=\"samtale\" name=\"samtale\">\n\
         <option value=\"\">{all}</option>\n{options}</select></p>\n\
         <p><label for=\"tekst\">{l_text}</label>\n<textarea id=\"tekst\" name=\"tekst\" required rows=\"5\"></textarea></p>\n\
         <button type=\"submit\">{send}</button>\n</form>\n\
         <p><a href=\"/k/{org}/innsyn\">{held}</a></p>\n<p><a href=\"/k/{org}/\">{back}</a></p>",
        title = tr(lang, "Forespørsler om opplysningene dine"),
        intro = tr(
            lang,
            "Du kan be klinikken rette eller slette opplysninger, begrense behandlingen av dem, eller gi deg en kopi. \
             Klinikken svarer innen {n} dager."
        )
        .replace("{n}", &DEADLINE_DAYS.to_string()),
        duty = tr(
            lang,
            "Opplysninger som er ført i journalen, kan ikke rettes eller slettes her. Da kan du be klinikken rette eller slette i journalen."
        ),
        h_list = tr(lang, "Forespørslene dine"),
        list = table(lang, &requests, now),
        h_new = tr(lang, "Ny forespørsel"),
        org = v.org,
        csrf = v.csrf(),
        l_kind = tr(lang, "Hva ber du om?"),
        l_scope = tr(lang, "Hva gjelder det?"),
        all = tr(lang, "Alt klinikken har lagret om meg"),
        l_text = tr(lang, "Beskriv hva du ber om"),
        send = tr(lang, "Send forespørselen"),
        held = tr(lang, "Se alt klinikken har lagret om deg"),
        back = tr(lang, "Tilbake"),
    )))
}

#[derive(Debug, Deserialize)]
pub(super) struct ShowQuery {
    sendt: Option<String>,
}

/// `GET /k/{clinic}/foresporsler`.
pub(super) async fn show(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    Query(query): Query<ShowQuery>,
    source: RequestSource,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let v = match patient_at_high(&state, &clinic, &headers, &source, here).await? {
        Ok(v) => v,
        Err(login) => return Ok(login),
    };
    let notice = query.sendt.is_some().then_some(n_(
        "Forespørselen er sendt. Klinikken svarer innen fristen.",
    ));
    Ok(match render(&v, state.app.now(), notice).await? {
        Ok(body) => Html(page(v.lang, tr(v.lang, "Forespørsler"), &body)).into_response(),
        Err(response) => response,
    })
}

#[derive(Debug, Deserialize)]
pub(super) struct RequestForm {
    csrf: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    samtale: Option<String>,
    tekst: Option<String>,
}

/// `POST /k/{clinic}/foresporsler`: files a request; an incomplete form is shown again
/// with 422 and nothing is stored.
pub(super) async fn file(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    headers: HeaderMap,
    Form(form): Form<RequestForm>,
) -> Result<Response, WebError> {
    let v = match patient_at_high(&state, &clinic, &headers, &source, here).await? {
        Ok(v) => v,
        Err(login) => return Ok(login),
    };
    v.require_csrf(&form.csrf)?;
    let kind = form.kind.as_deref().and_then(RequestKind::parse);
    let text = MessageText::parse(form.tekst.as_deref().unwrap_or("").trim()).ok();
    let thread = match form.samtale.as_deref().filter(|s| !s.is_empty()) {
        Some(t) => Some(ThreadId::parse(t).map_err(|_| WebError::NotFound)?),
        None => None,
    };
    let (Some(kind), Some(text)) = (kind, text) else {
        let notice = n_("Velg hva du ber om, og beskriv det. Ingenting er sendt.");
        return Ok(match render(&v, state.app.now(), Some(notice)).await? {
            Ok(body) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Html(page(v.lang, tr(v.lang, "Forespørsler"), &body)),
            )
                .into_response(),
            Err(response) => response,
        });
    };
    match v.clinic.file_request(&v.actor, kind, thread, &text).await {
        Ok(_) => Ok(see_other(&format!("{}?sendt=ja", here(&v.org)), None)),
        Err(e) => refused(e, &v.org),
    }
}
