//! What staff write: replies and internal notes with an optional attachment, templates
//! (S8), thread settings (status, assignment, «Kan ikke besvares», P5), journal-worthy
//! marks (S5), recall of an unread message (S7), and a new thread to a patient confirmed
//! by name and date of birth (S7). Every form is CSRF-checked; an error keeps what was
//! typed.

use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use fortrolig_domain::access::DataClass;
use fortrolig_domain::messaging::{MessageText, Subject, ThreadKind, ThreadStatus};
use fortrolig_domain::{MessageId, OrgNumber, PatientId, StaffId, ThreadId};
use fortrolig_service::{AccessError, NewAttachment, ServiceError, ThreadChange, ThreadView};
use serde::Deserialize;

use super::{
    Reached, kind_options, not_found_or, reach, reach_as, render_thread, step_up, thread_path,
};
use crate::error::WebError;
use crate::html::{escape, page};
use crate::respond::{clinic_of, see_other};
use crate::router::AppState;
use crate::source::RequestSource;
use crate::workspace::{actor, refuse, staff_session};

/// A reply template (S8): says enough to act on, and nothing a patient would mind
/// others seeing over their shoulder.
#[derive(Debug)]
pub(super) struct Template {
    pub key: &'static str,
    pub label: &'static str,
    pub text: &'static str,
}

pub(super) const TEMPLATES: [Template; 5] = [
    Template {
        key: "mottatt",
        label: "Vi har mottatt meldingen din",
        text: "Vi har mottatt meldingen din og svarer så snart vi kan, vanligvis innen tre virkedager. \
               Haster det, ring klinikken. Ved akutt sykdom, ring 113.",
    },
    Template {
        key: "svar-klart",
        label: "Svar er klart – logg inn for å lese",
        text: "Svaret ditt er klart. Logg inn for å lese det. Har du spørsmål, kan du svare her eller ringe oss.",
    },
    Template {
        key: "ring-time",
        label: "Ring oss for å avtale time",
        text: "Vi vil gjerne se deg. Ring klinikken for å avtale time.",
    },
    Template {
        key: "feil-kanal",
        label: "Denne kanalen kan ikke brukes til dette – ring klinikken",
        text: "Denne kanalen kan ikke brukes til dette. Ring klinikken, så hjelper vi deg. \
               Ved akutt sykdom, ring 113.",
    },
    Template {
        key: "resept",
        label: "Resepten er fornyet",
        text: "Resepten er fornyet og ligger klar på apoteket.",
    },
];

pub(super) fn template(key: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.key == key)
}

/// A form to pick a template; the server puts its text in the text box (no script).
fn template_picker(action: &str) -> String {
    let options: String = TEMPLATES
        .iter()
        .map(|t| format!("<option value=\"{}\">{}</option>", t.key, escape(t.label)))
        .collect();
    format!(
        "<form method=\"get\" action=\"{action}\">\n<label for=\"mal\">Mal</label>\n\
         <select id=\"mal\" name=\"mal\">{options}</select>\n\
         <button type=\"submit\">Bruk malen</button>\n</form>\n"
    )
}

/// What was typed in the reply form, and what was wrong with it.
#[derive(Debug, Default)]
pub(super) struct Draft {
    pub text: String,
    pub internal: bool,
    pub error: Option<String>,
}

fn error_line(error: Option<&str>) -> String {
    error.map_or_else(String::new, |e| {
        format!(
            "<p class=\"advarsel\" role=\"alert\" id=\"feil\">{}</p>\n",
            escape(e)
        )
    })
}

pub(super) fn reply_form(org: &OrgNumber, thread: ThreadId, csrf: &str, draft: &Draft) -> String {
    let path = thread_path(org, thread);
    format!(
        "<h2 id=\"svar\">Svar</h2>\n{picker}\
         <form method=\"post\" action=\"{path}/svar\" enctype=\"multipart/form-data\" autocomplete=\"off\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n{error}\
         <label for=\"tekst\">Melding</label>\n\
         <textarea id=\"tekst\" name=\"tekst\" rows=\"6\" autocomplete=\"off\" required>{text}</textarea>\n\
         <label><input type=\"checkbox\" name=\"internt\" value=\"ja\"{checked}> Internt notat (vises ikke for pasienten)</label>\n\
         <label for=\"vedlegg\">Vedlegg (valgfritt): bilde eller PDF, høyst 10 MB</label>\n\
         <input type=\"file\" id=\"vedlegg\" name=\"vedlegg\" accept=\"image/png,image/jpeg,image/gif,image/webp,application/pdf\">\n\
         <button type=\"submit\">Send</button>\n</form>\n",
        picker = template_picker(&format!("{path}#svar")),
        error = error_line(draft.error.as_deref()),
        text = escape(&draft.text),
        checked = if draft.internal { " checked" } else { "" },
    )
}

pub(super) fn settings_form(
    org: &OrgNumber,
    thread: ThreadId,
    csrf: &str,
    view: &ThreadView,
    me: StaffId,
    assigned_name: &str,
) -> String {
    let statuses: String = ThreadStatus::ALL
        .iter()
        .map(|s| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                s.as_str(),
                if view.status == *s { " selected" } else { "" },
                escape(s.display_name())
            )
        })
        .collect();
    let selected = |yes: bool| if yes { " selected" } else { "" };
    let other = match view.assigned_staff {
        Some(id) if id != me => {
            format!("<option value=\"{id}\" selected>{assigned_name} (som nå)</option>")
        }
        _ => String::new(),
    };
    format!(
        "<h2>Innstillinger for samtalen</h2>\n\
         <form method=\"post\" action=\"{}/innstillinger\">\n<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <label for=\"status-samtale\">Status</label>\n<select id=\"status-samtale\" name=\"status\">{statuses}</select>\n\
         <label for=\"tildelt\">Tildelt</label>\n<select id=\"tildelt\" name=\"tildelt\">{other}\
         <option value=\"meg\"{}>Meg</option><option value=\"ingen\"{}>Ingen</option></select>\n\
         <label><input type=\"checkbox\" name=\"kan_ikke_besvares\" value=\"ja\"{}> Kan ikke besvares \
         (pasienten kan ikke skrive mer i samtalen)</label>\n\
         <button type=\"submit\">Lagre</button>\n</form>\n",
        thread_path(org, thread),
        selected(view.assigned_staff == Some(me)),
        selected(view.assigned_staff.is_none()),
        if view.cannot_answer { " checked" } else { "" },
    )
}

/// The reply form as it arrived (multipart: it may carry a file).
#[derive(Debug, Default)]
struct ReplyForm {
    csrf: String,
    text: String,
    internal: bool,
    file: Option<Vec<u8>>,
    /// The body could not be read to the end (too large, or broken).
    problem: Option<(StatusCode, &'static str)>,
}

impl ReplyForm {
    async fn read(mut multipart: Multipart) -> Self {
        let mut form = Self::default();
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(e) => {
                    form.problem = Some(Self::problem(e.status()));
                    break;
                }
            };
            let name = field.name().unwrap_or_default().to_owned();
            if name == "vedlegg" {
                match field.bytes().await {
                    Ok(bytes) if !bytes.is_empty() => form.file = Some(bytes.to_vec()),
                    Ok(_) => {}
                    Err(e) => {
                        form.problem = Some(Self::problem(e.status()));
                        break;
                    }
                }
                continue;
            }
            let value = match field.text().await {
                Ok(value) => value,
                Err(e) => {
                    form.problem = Some(Self::problem(e.status()));
                    break;
                }
            };
            match name.as_str() {
                "csrf" => form.csrf = value,
                "tekst" => form.text = value,
                "internt" => form.internal = value == "ja",
                _ => {}
            }
        }
        form
    }

    fn problem(status: StatusCode) -> (StatusCode, &'static str) {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            (
                status,
                "Vedlegget er for stort (høyst 10 MB). Ingenting er sendt; velg en mindre fil.",
            )
        } else {
            (
                StatusCode::BAD_REQUEST,
                "Skjemaet kom ikke fram i sin helhet. Ingenting er sendt; prøv igjen.",
            )
        }
    }
}

/// `POST /k/{clinic}/ansatt/samtale/{thread}/svar`: a reply or an internal note.
pub(super) async fn reply(
    State(state): State<AppState>,
    Path((clinic, thread)): Path<(String, String)>,
    source: RequestSource,
    headers: HeaderMap,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let thread = ThreadId::parse(&thread).map_err(|_| WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    // Who it is before reading an upload of up to 10 MB.
    let (staff, session) =
        match staff_session(&clinic, &headers, &thread_path(&org, thread)).await? {
            Ok(pair) => pair,
            Err(login) => return Ok(login),
        };
    let form = ReplyForm::read(multipart).await;
    if !session.csrf_matches(&form.csrf) {
        return Err(WebError::Forbidden);
    }
    let reached = match reach_as(&clinic, staff, session, &source, thread, "svar").await? {
        Ok(reached) => reached,
        Err(response) => return Ok(response),
    };
    let again = |error: String, status: StatusCode| {
        let draft = Draft {
            text: form.text.clone(),
            internal: form.internal,
            error: Some(error),
        };
        (draft, status)
    };
    let (draft, status) = if let Some((status, problem)) = form.problem {
        again(problem.to_owned(), status)
    } else {
        match MessageText::parse(&form.text) {
            Err(e) => again(e.norwegian(), StatusCode::BAD_REQUEST),
            Ok(text) => {
                let attachments = match &form.file {
                    None => Ok(Vec::new()),
                    Some(bytes) => fortrolig_domain::attachment::sniff(bytes)
                        .map(|_| {
                            vec![NewAttachment {
                                bytes: bytes.clone(),
                            }]
                        })
                        .map_err(|r| format!("{} Velg en annen fil.", r.norwegian())),
                };
                match attachments {
                    Err(e) => again(e, StatusCode::UNPROCESSABLE_ENTITY),
                    Ok(attachments) => {
                        let id = reached
                            .access
                            .reply(thread, &text, form.internal, &attachments)
                            .await
                            .map_err(not_found_or)?;
                        let done = if form.internal { "notat" } else { "sendt" };
                        return Ok(see_other(
                            &format!("{}?melding={done}#melding-{id}", thread_path(&org, thread)),
                            None,
                        ));
                    }
                }
            }
        }
    };
    render_thread(&clinic, &reached, thread, &draft, None, status).await
}

/// A CSRF-checked form on a thread: the access, or the page to show instead.
async fn checked<'c>(
    clinic: &'c fortrolig_service::Clinic,
    headers: &HeaderMap,
    source: &RequestSource,
    thread: ThreadId,
    csrf: &str,
    purpose: &str,
) -> Result<Result<Reached<'c>, Response>, WebError> {
    let reached = match reach(clinic, headers, source, thread, purpose).await? {
        Ok(reached) => reached,
        Err(response) => return Ok(Err(response)),
    };
    if !reached.session.csrf_matches(csrf) {
        return Err(WebError::Forbidden);
    }
    Ok(Ok(reached))
}

#[derive(Debug, Deserialize)]
pub(crate) struct SettingsForm {
    csrf: String,
    status: String,
    tildelt: String,
    kan_ikke_besvares: Option<String>,
}

/// `POST …/innstillinger`: status, assignment and «Kan ikke besvares» (P5).
pub(super) async fn settings(
    State(state): State<AppState>,
    Path((clinic, thread)): Path<(String, String)>,
    source: RequestSource,
    headers: HeaderMap,
    Form(form): Form<SettingsForm>,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let thread = ThreadId::parse(&thread).map_err(|_| WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    let reached = match checked(
        &clinic,
        &headers,
        &source,
        thread,
        &form.csrf,
        "innstillinger",
    )
    .await?
    {
        Ok(reached) => reached,
        Err(response) => return Ok(response),
    };
    let bad = |text: &str| {
        Ok(refuse(
            StatusCode::BAD_REQUEST,
            "Endringen ble ikke lagret",
            text,
            &org,
        ))
    };
    let Some(status) = ThreadStatus::parse(&form.status) else {
        return bad("Velg en av statusene i listen.");
    };
    let assigned = match form.tildelt.as_str() {
        "meg" => Some(reached.staff),
        "ingen" => None,
        // The person it is assigned to now, kept.
        other => match StaffId::parse(other) {
            Ok(id) if clinic.staff_member(id).await.is_ok() => Some(id),
            _ => return bad("Velg «Meg» eller «Ingen» under «Tildelt»."),
        },
    };
    reached
        .access
        .change_thread(
            thread,
            ThreadChange {
                status,
                assigned_staff: assigned,
                cannot_answer: form.kan_ikke_besvares.as_deref() == Some("ja"),
            },
        )
        .await
        .map_err(not_found_or)?;
    Ok(see_other(
        &format!("{}?melding=lagret", thread_path(&org, thread)),
        None,
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct JournalForm {
    csrf: String,
    verdi: String,
}

/// `POST …/melding/{message}/journal`: marks a message journal-worthy, or not (S5).
pub(super) async fn journal(
    State(state): State<AppState>,
    Path((clinic, thread, message)): Path<(String, String, String)>,
    source: RequestSource,
    headers: HeaderMap,
    Form(form): Form<JournalForm>,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let thread = ThreadId::parse(&thread).map_err(|_| WebError::NotFound)?;
    let message = MessageId::parse(&message).map_err(|_| WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    let reached = match checked(&clinic, &headers, &source, thread, &form.csrf, "journal").await? {
        Ok(reached) => reached,
        Err(response) => return Ok(response),
    };
    reached
        .access
        .mark_journal_worthy(thread, message, form.verdi == "ja")
        .await
        .map_err(not_found_or)?;
    Ok(see_other(
        &format!(
            "{}?melding=journal#melding-{message}",
            thread_path(&org, thread)
        ),
        None,
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    csrf: String,
}

/// `POST …/melding/{message}/tilbakekall`: recalls a message the patient has not read
/// (S7). Both outcomes are in the audit log; the page suggests reporting an incident.
pub(super) async fn recall(
    State(state): State<AppState>,
    Path((clinic, thread, message)): Path<(String, String, String)>,
    source: RequestSource,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let thread = ThreadId::parse(&thread).map_err(|_| WebError::NotFound)?;
    let message = MessageId::parse(&message).map_err(|_| WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    let reached = match checked(
        &clinic,
        &headers,
        &source,
        thread,
        &form.csrf,
        "tilbakekalling",
    )
    .await?
    {
        Ok(reached) => reached,
        Err(response) => return Ok(response),
    };
    let recalled = reached
        .access
        .recall(thread, message)
        .await
        .map_err(not_found_or)?;
    let done = if recalled { "trukket" } else { "lest" };
    Ok(see_other(
        &format!(
            "{}?melding={done}#melding-{message}",
            thread_path(&org, thread)
        ),
        None,
    ))
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
) -> Response {
    let path = new_path(org, patient);
    let body = format!(
        "<h1>Ny melding til pasient</h1>\n\
         <p>Meldingen går til denne ene pasienten og ingen andre. For å være sikker på at den går til riktig person, \
         skriv pasientens fulle navn og fødselsdato slik du har dem fra journalen eller timeboken.</p>\n\
         {picker}{error}\
         <form method=\"post\" action=\"{path}\" autocomplete=\"off\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <label for=\"type\">Type samtale</label>\n<select id=\"type\" name=\"type\">{kinds}</select>\n\
         <label for=\"emne\">Emne</label>\n<input id=\"emne\" name=\"emne\" maxlength=\"200\" autocomplete=\"off\" required value=\"{subject}\">\n\
         <label for=\"tekst\">Melding</label>\n<textarea id=\"tekst\" name=\"tekst\" rows=\"6\" autocomplete=\"off\" required>{text}</textarea>\n\
         <fieldset>\n<legend>Bekreft mottakeren</legend>\n\
         <label for=\"navn\">Pasientens fulle navn</label>\n<input id=\"navn\" name=\"navn\" autocomplete=\"off\" required value=\"{name}\">\n\
         <label for=\"fodselsdato\">Fødselsdato (dd.mm.åååå)</label>\n\
         <input id=\"fodselsdato\" name=\"fodselsdato\" inputmode=\"numeric\" autocomplete=\"off\" required value=\"{born}\">\n\
         </fieldset>\n<button type=\"submit\">Send</button>\n</form>\n\
         <p><a href=\"/k/{org}/ansatt/pasient/{patient}\">Tilbake til pasienten</a></p>",
        picker = template_picker(&path),
        error = error_line(error),
        kinds = kind_options(ThreadKind::parse(&typed.kind)),
        subject = escape(&typed.emne),
        text = escape(&typed.tekst),
        name = escape(&typed.navn),
        born = escape(&typed.fodselsdato),
    );
    (status, Html(page("Ny melding", &body))).into_response()
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
        return start_refusal(&org, patient, e);
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
    ))
}

fn start_refusal(
    org: &OrgNumber,
    patient: PatientId,
    error: AccessError,
) -> Result<Response, WebError> {
    match error {
        AccessError::StepUp(_) => Ok(step_up(org, &new_path(org, patient))),
        AccessError::Denied(fortrolig_domain::access::DenyReason::NoWorkRelatedNeed) => Ok(refuse(
            StatusCode::FORBIDDEN,
            "Ingen behandlingsrelasjon",
            "Meldinger med helseopplysninger kan bare sendes av behandlere med behandlingsrelasjon til pasienten. \
                 Forsøket er logget. Ingenting er sendt.",
            org,
        )),
        AccessError::Denied(_) => Ok(refuse(
            StatusCode::FORBIDDEN,
            "Ingen tilgang",
            "Rollen din gir ikke tilgang til å sende denne typen melding. Forsøket er logget. Ingenting er sendt.",
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
        ))
    };
    let Some(kind) = ThreadKind::parse(&form.kind) else {
        return again("Velg en type samtale.");
    };
    let subject = match Subject::parse(&form.emne) {
        Ok(s) => s,
        Err(e) => return again(&format!("Emnet: {}", e.norwegian())),
    };
    let text = match MessageText::parse(&form.tekst) {
        Ok(t) => t,
        Err(e) => return again(&format!("Meldingen: {}", e.norwegian())),
    };
    if form.navn.trim().is_empty() || !birth_date_shape(&form.fodselsdato) {
        return again(
            "Skriv pasientens fulle navn, og fødselsdatoen som dd.mm.åååå (for eksempel 01.02.1980).",
        );
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
        Err(e) => return start_refusal(&org, patient, e),
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
        Err(ServiceError::Invalid(_)) => again(
            "Navnet og fødselsdatoen stemmer ikke med pasienten. Ingenting er sendt. \
             Sjekk at du har riktig pasient.",
        ),
        Err(e) => Err(not_found_or(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_plain_and_found_by_key_s8() {
        for t in &TEMPLATES {
            assert_eq!(template(t.key).map(|f| f.label), Some(t.label));
            assert!(MessageText::parse(t.text).is_ok(), "{}", t.key);
        }
        assert!(template("ukjent").is_none());
    }

    #[test]
    fn birth_dates_are_typed_as_day_month_year_s7() {
        assert!(birth_date_shape("21.07.1994"));
        assert!(birth_date_shape(" 01.02.1980 "));
        for bad in ["21071994", "21.7.1994", "1994-07-21", "aa.bb.cccc", ""] {
            assert!(!birth_date_shape(bad), "{bad}");
        }
    }
}
