//! A new thread from the clinic to one patient (S7): the member of staff types the
//! patient's full name and date of birth, and nothing is sent unless they match.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use fortrolig_domain::access::{DataClass, DenyReason};
use fortrolig_domain::messaging::{MessageText, Subject, ThreadKind};
use fortrolig_domain::{OrgNumber, PatientId};
use fortrolig_service::{AccessError, ServiceError};
use serde::Deserialize;

use super::thread::error_line;
use super::write::{template, template_picker};
use super::{not_found_or, step_up, thread_path};
use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{Lang, kind_name, text_error, tr};
use crate::respond::{clinic_of, see_other};
use crate::router::AppState;
use crate::source::RequestSource;
use crate::workspace::{actor, refuse_in, staff_session};

/// The kinds a new thread may have.
fn kind_options(chosen: Option<ThreadKind>, lang: Lang) -> String {
    ThreadKind::ALL
        .iter()
        .map(|k| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                k.as_str(),
                if chosen == Some(*k) { " selected" } else { "" },
                escape(kind_name(lang, *k))
            )
        })
        .collect()
}

/// What was typed in the new-thread form.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct NewThreadForm {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    emne: String,
    #[serde(default)]
    tekst: String,
    #[serde(default)]
    navn: String,
    #[serde(default)]
    fodselsdato: String,
}

fn new_path(org: &OrgNumber, patient: PatientId) -> String {
    format!("/k/{org}/ansatt/pasient/{patient}/ny-melding")
}

fn new_page(
    org: &OrgNumber,
    patient: PatientId,
    csrf: &str,
    typed: &NewThreadForm,
    error: Option<&str>,
    status: StatusCode,
    lang: Lang,
) -> Response {
    let path = new_path(org, patient);
    let body = format!(
        "<h1>{title}</h1>\n<p>{intro}</p>\n\
         {picker}{error}\
         <form method=\"post\" action=\"{path}\" autocomplete=\"off\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <label for=\"type\">{kind_label}</label>\n<select id=\"type\" name=\"type\">{kinds}</select>\n\
         <label for=\"emne\">{subject_label}</label>\n<input id=\"emne\" name=\"emne\" maxlength=\"200\" autocomplete=\"off\" required value=\"{subject}\">\n\
         <label for=\"tekst\">{message_label}</label>\n<textarea id=\"tekst\" name=\"tekst\" rows=\"6\" autocomplete=\"off\" required>{text}</textarea>\n\
         <fieldset>\n<legend>{confirm}</legend>\n\
         <label for=\"navn\">{name_label}</label>\n<input id=\"navn\" name=\"navn\" autocomplete=\"off\" required value=\"{name}\">\n\
         <label for=\"fodselsdato\">{born_label}</label>\n\
         <input id=\"fodselsdato\" name=\"fodselsdato\" inputmode=\"numeric\" autocomplete=\"off\" required value=\"{born}\">\n\
         </fieldset>\n<button type=\"submit\">{send}</button>\n</form>\n\
         <p><a href=\"/k/{org}/ansatt/pasient/{patient}\">{back}</a></p>",
        title = tr(lang, "Ny melding til pasient"),
        intro = tr(
            lang,
            "Meldingen går til denne ene pasienten og ingen andre. For å være sikker på at den går til riktig person, \
             skriv pasientens fulle navn og fødselsdato slik du har dem fra journalen eller timeboken."
        ),
        kind_label = tr(lang, "Type samtale"),
        subject_label = tr(lang, "Emne"),
        message_label = tr(lang, "Melding"),
        confirm = tr(lang, "Bekreft mottakeren"),
        name_label = tr(lang, "Pasientens fulle navn"),
        born_label = tr(lang, "Fødselsdato (dd.mm.åååå)"),
        send = tr(lang, "Send"),
        back = tr(lang, "Tilbake til pasienten"),
        picker = template_picker(&path, lang),
        error = error_line(error),
        kinds = kind_options(ThreadKind::parse(&typed.kind), lang),
        subject = escape(&typed.emne),
        text = escape(&typed.tekst),
        name = escape(&typed.navn),
        born = escape(&typed.fodselsdato),
    );
    (status, Html(page(lang, tr(lang, "Ny melding"), &body))).into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewQuery {
    mal: Option<String>,
}

/// `GET /k/{clinic}/ansatt/pasient/{patient}/ny-melding`. The patient's name is not
/// shown: the member of staff types it, to confirm the recipient (S7).
pub(super) async fn new_form(
    State(state): State<AppState>,
    Path((clinic, patient)): Path<(String, String)>,
    Query(query): Query<NewQuery>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let patient = PatientId::parse(&patient).map_err(|_| WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    let here = new_path(&org, patient);
    let (staff, session) = match staff_session(&clinic, &headers, &here).await? {
        Ok(pair) => pair,
        Err(login) => return Ok(login),
    };
    // The least a thread needs: administrative access. Health kinds are checked on send.
    if let Err(e) = clinic
        .administrative_access(&actor(staff, &session, &source), patient, "ny melding")
        .await
    {
        return start_refusal(&org, patient, e, lang);
    }
    let typed = NewThreadForm {
        tekst: query
            .mal
            .as_deref()
            .and_then(template)
            .map(|t| t.text.to_owned())
            .unwrap_or_default(),
        ..NewThreadForm::default()
    };
    Ok(new_page(
        &org,
        patient,
        &escape(session.csrf_token()),
        &typed,
        None,
        StatusCode::OK,
        lang,
    ))
}

fn start_refusal(
    org: &OrgNumber,
    patient: PatientId,
    error: AccessError,
    lang: Lang,
) -> Result<Response, WebError> {
    match error {
        AccessError::StepUp(_) => Ok(step_up(org, &new_path(org, patient))),
        AccessError::Denied(DenyReason::NoWorkRelatedNeed) => Ok(refuse_in(
            lang,
            StatusCode::FORBIDDEN,
            tr(lang, "Ingen behandlingsrelasjon"),
            tr(
                lang,
                "Meldinger med helseopplysninger kan bare sendes av behandlere med behandlingsrelasjon til pasienten. \
                 Forsøket er logget. Ingenting er sendt.",
            ),
            org,
        )),
        AccessError::Denied(_) => Ok(refuse_in(
            lang,
            StatusCode::FORBIDDEN,
            tr(lang, "Ingen tilgang"),
            tr(
                lang,
                "Rollen din gir ikke tilgang til å sende denne typen melding. Forsøket er logget. Ingenting er sendt.",
            ),
            org,
        )),
        AccessError::Service(e) => Err(not_found_or(e)),
    }
}

/// `dd.mm.åååå`, digits only: the form the service compares with.
fn birth_date_shape(text: &str) -> bool {
    let b = text.trim().as_bytes();
    b.len() == 10
        && b[2] == b'.'
        && b[5] == b'.'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 2 || i == 5 || c.is_ascii_digit())
}

/// `POST /k/{clinic}/ansatt/pasient/{patient}/ny-melding`: starts a thread (S7), only
/// when the typed name and date of birth match the patient; otherwise nothing is sent.
pub(super) async fn new_thread(
    State(state): State<AppState>,
    Path((clinic, patient)): Path<(String, String)>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<NewThreadForm>,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let patient = PatientId::parse(&patient).map_err(|_| WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    let here = new_path(&org, patient);
    let (staff, session) = match staff_session(&clinic, &headers, &here).await? {
        Ok(pair) => pair,
        Err(login) => return Ok(login),
    };
    if !session.csrf_matches(&form.csrf) {
        return Err(WebError::Forbidden);
    }
    let csrf = escape(session.csrf_token());
    let again = |error: &str| {
        Ok(new_page(
            &org,
            patient,
            &csrf,
            &form,
            Some(error),
            StatusCode::BAD_REQUEST,
            lang,
        ))
    };
    let Some(kind) = ThreadKind::parse(&form.kind) else {
        return again(tr(lang, "Velg en type samtale."));
    };
    let subject = match Subject::parse(&form.emne) {
        Ok(s) => s,
        Err(e) => {
            return again(&tr(lang, "Emnet: {feil}").replace("{feil}", &text_error(lang, &e)));
        }
    };
    let text = match MessageText::parse(&form.tekst) {
        Ok(t) => t,
        Err(e) => {
            return again(&tr(lang, "Meldingen: {feil}").replace("{feil}", &text_error(lang, &e)));
        }
    };
    if form.navn.trim().is_empty() || !birth_date_shape(&form.fodselsdato) {
        return again(tr(
            lang,
            "Skriv pasientens fulle navn, og fødselsdatoen som dd.mm.åååå (for eksempel 01.02.1980).",
        ));
    }
    let who = actor(staff, &session, &source);
    let access = match kind.data_class() {
        DataClass::Administrative => {
            clinic
                .administrative_access(&who, patient, "ny samtale")
                .await
        }
        _ => clinic.health_access(&who, patient, "ny samtale").await,
    };
    let access = match access {
        Ok(access) => access,
        Err(e) => return start_refusal(&org, patient, e, lang),
    };
    match access
        .start_thread(kind, &subject, &text, &form.navn, &form.fodselsdato)
        .await
    {
        Ok(thread) => Ok(see_other(
            &format!("{}?melding=ny", thread_path(&org, thread)),
            None,
        )),
        // The door was chosen by the kind, so a refusal here is the confirmation.
        Err(ServiceError::Invalid(_)) => again(tr(
            lang,
            "Navnet og fødselsdatoen stemmer ikke med pasienten. Ingenting er sendt. \
             Sjekk at du har riktig pasient.",
        )),
        Err(ServiceError::Stopped(_)) => again(tr(
            lang,
            "Pasienten har sagt nei til meldinger i pasientportalen, eller har avsluttet bruken av den. \
             Ingenting er sendt. Ta kontakt på annen måte.",
        )),
        Err(e) => Err(not_found_or(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_dates_are_typed_as_day_month_year_s7() {
        assert!(birth_date_shape("21.07.1994"));
        assert!(birth_date_shape(" 01.02.1980 "));
        for bad in ["21071994", "21.7.1994", "1994-07-21", "aa.bb.cccc", ""] {
            assert!(!birth_date_shape(bad), "{bad}");
        }
    }
}
