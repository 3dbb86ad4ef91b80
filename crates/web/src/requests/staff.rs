//! `/k/{clinic}/ansatt/foresporsler`: the requests a member of staff may answer, open ones
//! by deadline with the overdue marked first; `/k/{clinic}/ansatt/foresporsel/{id}`: one
//! request, opened through `HealthAccess` (an audited read), and its answer form.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use fortrolig_domain::requests::{DOCUMENTATION_DUTY_REASON, RequestKind};
use fortrolig_domain::{MessageId, OrgNumber, PatientId, RequestId, Timestamp};
use fortrolig_service::{
    AccessError, Answer, Clinic, HealthAccess, RequestDetail, ServiceError, Session,
};
use serde::Deserialize;

use super::{deadline_html, kind_name, status_name};
use crate::error::WebError;
use crate::html::{checked, escape, page};
use crate::i18n::{Lang, n_, tr};
use crate::respond::{clinic_of, see_other};
use crate::router::AppState;
use crate::source::RequestSource;
use crate::workspace::{CsrfForm, actor, refuse_in, staff_session, step_up};
use crate::workspace_messages::inbox_session;

fn list_path(org: &OrgNumber) -> String {
    format!("/k/{org}/ansatt/foresporsler")
}

fn request_path(org: &OrgNumber, id: RequestId) -> String {
    format!("/k/{org}/ansatt/foresporsel/{id}")
}

/// `GET /k/{clinic}/ansatt/foresporsler`.
pub(super) async fn list(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let clinic = state.app.clinic(&org).await?;
    let now = state.app.now();
    let here = list_path(&org);
    let denied = tr(
        lang,
        "Rollen din gir ikke tilgang til pasientenes forespørsler. Forsøket er logget.",
    );
    let (staff, session) = match inbox_session(&clinic, &headers, &here, now, lang, denied).await? {
        Ok(pair) => pair,
        Err(response) => return Ok(response),
    };
    let requests = clinic
        .requests_for_staff(&actor(staff, &session, &source))
        .await?;
    let rows: String = requests
        .iter()
        .map(|r| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><a href=\"{}\">{}</a></td></tr>\n",
                escape(&r.received_at.oslo_minutes()),
                kind_name(lang, r.kind),
                deadline_html(lang, r, now),
                status_name(lang, r.status),
                request_path(&org, r.id),
                tr(lang, "Åpne forespørselen"),
            )
        })
        .collect();
    let open = requests.iter().filter(|r| r.status.is_open()).count();
    let overdue = requests.iter().filter(|r| r.overdue).count();
    let body = format!(
        "<h1>{title}</h1>\n<p>{summary}</p>\n<p>{rule}</p>\n\
         <table>\n<caption>{caption}</caption>\n<thead><tr><th scope=\"col\">{received}</th>\
         <th scope=\"col\">{kind}</th><th scope=\"col\">{due}</th><th scope=\"col\">{status}</th>\
         <th scope=\"col\">{open_col}</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n\
         <p><a href=\"/k/{org}/ansatt/\">{back}</a></p>",
        title = tr(lang, "Forespørsler fra pasienter"),
        summary = tr(lang, "{n} åpne, {m} forfalt.")
            .replace("{n}", &open.to_string())
            .replace("{m}", &overdue.to_string()),
        rule = tr(
            lang,
            "Pasienten skal ha svar innen 30 dager. Journalverdige opplysninger kan ikke rettes eller slettes her."
        ),
        caption = tr(
            lang,
            "Åpne forespørsler etter frist, eldste først, deretter besvarte (norsk tid)"
        ),
        received = tr(lang, "Mottatt"),
        kind = tr(lang, "Gjelder"),
        due = tr(lang, "Svarfrist"),
        status = tr(lang, "Status"),
        open_col = tr(lang, "Forespørsel"),
        back = tr(lang, "Tilbake"),
    );
    Ok(Html(page(lang, tr(lang, "Forespørsler fra pasienter"), &body)).into_response())
}

/// The clinic and the request a staff route names; a malformed id is no page.
async fn target(
    state: &AppState,
    clinic: &str,
    id: &str,
) -> Result<(OrgNumber, Arc<Clinic>, RequestId), WebError> {
    let org = clinic_of(clinic)?;
    let id = RequestId::parse(id).map_err(|_| WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    Ok((org, clinic, id))
}

/// The request's patient, reached through the access rule, or the page to show instead.
/// A form's token (`csrf`) must be the session's.
async fn reach<'c>(
    clinic: &'c Clinic,
    headers: &HeaderMap,
    source: &RequestSource,
    id: RequestId,
    lang: Lang,
    csrf: Option<&str>,
) -> Result<Result<(HealthAccess<'c>, Session), Response>, WebError> {
    let org = clinic.org();
    let here = request_path(org, id);
    let (staff, session) = match staff_session(clinic, headers, &here).await? {
        Ok(pair) => pair,
        Err(login) => return Ok(Err(login)),
    };
    if csrf.is_some_and(|token| !session.csrf_matches(token)) {
        return Err(WebError::Forbidden);
    }
    let row = clinic
        .store()
        .request(id.as_bytes())
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .ok_or(WebError::NotFound)?;
    let patient = PatientId::from_slice(&row.patient_id).ok_or(WebError::NotFound)?;
    match clinic
        .health_access(
            &actor(staff, &session, source),
            patient,
            "svar på forespørsel",
        )
        .await
    {
        Ok(access) => Ok(Ok((access, session))),
        Err(AccessError::StepUp(_)) => Ok(Err(step_up(org, &here))),
        Err(AccessError::Denied(_)) => Ok(Err(refuse_in(
            lang,
            StatusCode::FORBIDDEN,
            tr(lang, "Ingen tilgang"),
            tr(
                lang,
                "Du har ikke tilgang til denne pasientens opplysninger. Forsøket er logget.",
            ),
            org,
        ))),
        Err(AccessError::Service(e)) => Err(e.into()),
    }
}

fn not_found_or(e: ServiceError) -> WebError {
    match e {
        ServiceError::Invalid(_) | ServiceError::NoSuchPatient => WebError::NotFound,
        e => e.into(),
    }
}

/// What the answer form held when it was refused, to show it again (nothing is lost).
#[derive(Debug, Default)]
struct Typed<'a> {
    decision: Option<&'a str>,
    text: Option<&'a str>,
    message: Option<&'a str>,
}

/// The answer form for an open request, with what was typed before.
fn answer_form(
    lang: Lang,
    org: &OrgNumber,
    csrf: &str,
    d: &RequestDetail,
    typed: &Typed<'_>,
) -> String {
    let r = &d.record;
    let action = format!("{}/svar", request_path(org, r.id));
    if d.barred {
        return format!(
            "<h2>{title}</h2>\n<p><strong>{barred}</strong></p>\n\
             <form method=\"post\" action=\"{action}\">\n\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
             <input type=\"hidden\" name=\"beslutning\" value=\"avslag\">\n\
             <p><label for=\"svar\">{l_reason}</label>\n<textarea id=\"svar\" name=\"svar\" rows=\"6\" required>{reason}</textarea></p>\n\
             <button type=\"submit\">{refuse}</button>\n</form>\n",
            title = tr(lang, "Svar"),
            barred = tr(
                lang,
                "Forespørselen gjelder journalverdige opplysninger (dokumentasjonsplikt) og kan ikke innvilges. Avslå med begrunnelse."
            ),
            l_reason = tr(lang, "Begrunnelse for avslaget"),
            reason = escape(typed.text.unwrap_or(DOCUMENTATION_DUTY_REASON)),
            refuse = tr(lang, "Avslå forespørselen"),
        );
    }
    let target = if r.kind == RequestKind::Correction {
        let options: String = d
            .messages
            .iter()
            .filter(|(_, _, _, worthy)| !worthy)
            .map(|(id, at, text, _)| {
                let excerpt: String = text.chars().take(60).collect();
                let selected = if typed.message == Some(id.to_string().as_str()) {
                    " selected"
                } else {
                    ""
                };
                format!(
                    "<option value=\"{id}\"{selected}>{}</option>\n",
                    escape(&format!("{}: {excerpt}", at.oslo_minutes()))
                )
            })
            .collect();
        // A request about everything may correct the registered data too.
        let profile = if r.thread.is_none() {
            format!(
                "<option value=\"\">{}</option>\n",
                tr(lang, "Pasientens registrerte opplysninger")
            )
        } else {
            String::new()
        };
        format!(
            "<p><label for=\"melding\">{l}</label>\n<select id=\"melding\" name=\"melding\">\n{options}\
             {profile}</select></p>\n",
            l = tr(lang, "Hva rettes"),
        )
    } else {
        String::new()
    };
    format!(
        "<h2>{title}</h2>\n<form method=\"post\" action=\"{action}\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <fieldset>\n<legend>{l_decision}</legend>\n\
         <p><input type=\"radio\" id=\"innvilg\" name=\"beslutning\" value=\"innvilg\" required{c_grant}>\n<label for=\"innvilg\">{grant}</label></p>\n\
         <p><input type=\"radio\" id=\"avslag\" name=\"beslutning\" value=\"avslag\"{c_refuse}>\n<label for=\"avslag\">{refuse}</label></p>\n\
         </fieldset>\n{target}\
         <p><label for=\"svar\">{l_text}</label>\n<textarea id=\"svar\" name=\"svar\" rows=\"5\">{text}</textarea></p>\n\
         <button type=\"submit\">{send}</button>\n</form>\n",
        title = tr(lang, "Svar"),
        l_decision = tr(lang, "Beslutning"),
        grant = tr(lang, "Innvilg"),
        c_grant = checked(typed.decision, "innvilg"),
        refuse = tr(lang, "Avslå"),
        c_refuse = checked(typed.decision, "avslag"),
        text = escape(typed.text.unwrap_or("")),
        l_text = tr(
            lang,
            "Rettelsen (ved retting), en merknad, eller begrunnelsen for et avslag (påkrevd)"
        ),
        send = tr(lang, "Send svaret"),
    )
}

/// How the request page is shown: the session's token, a short notice, and what a refused
/// answer form held.
struct Shown<'a> {
    csrf: &'a str,
    notice: Option<&'static str>,
    typed: Typed<'a>,
}

async fn render(
    lang: Lang,
    org: &OrgNumber,
    access: &HealthAccess<'_>,
    id: RequestId,
    now: Timestamp,
    shown: &Shown<'_>,
) -> Result<String, WebError> {
    let csrf = shown.csrf;
    let d = access.request(id).await.map_err(not_found_or)?;
    let r = &d.record;
    // A shredded patient has no record left; the request stays answerable on record.
    let name = match access.read_patient().await {
        Ok(p) => escape(p.name.as_str()),
        Err(_) => tr(lang, "Slettet pasient").to_owned(),
    };
    let unreadable = tr(
        lang,
        "Teksten kan ikke leses: pasientens opplysninger er slettet.",
    );
    let notice = shown
        .notice
        .map(|n| format!("<p role=\"status\"><strong>{}</strong></p>\n", tr(lang, n)))
        .unwrap_or_default();
    let thread = r.thread.map_or_else(
        || tr(lang, "Alt klinikken har lagret om pasienten").to_owned(),
        |t| {
            format!(
                "<a href=\"/k/{org}/ansatt/samtale/{t}\">{}</a>",
                tr(lang, "Samtalen")
            )
        },
    );
    let restriction = if r.restriction_in_force {
        format!(
            "<p class=\"begrenset\"><strong>{mark}</strong></p>\n\
             <form method=\"post\" action=\"{path}/opphev\">\n<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
             <button type=\"submit\">{lift}</button>\n</form>\n",
            mark = tr(lang, "Behandling begrenset"),
            path = request_path(org, r.id),
            csrf = escape(csrf),
            lift = tr(lang, "Opphev begrensningen"),
        )
    } else {
        String::new()
    };
    let messages: String = d
        .messages
        .iter()
        .filter(|(_, _, _, worthy)| *worthy)
        .map(|(_, at, text, _)| {
            format!(
                "<li>{}: {}</li>\n",
                escape(&at.oslo_minutes()),
                escape(text)
            )
        })
        .collect();
    let journal = if messages.is_empty() {
        String::new()
    } else {
        format!(
            "<h2>{}</h2>\n<ul>\n{messages}</ul>\n",
            tr(lang, "Journalverdige meldinger i omfanget")
        )
    };
    let answer = if r.status.is_open() {
        answer_form(lang, org, &escape(csrf), &d, &shown.typed)
    } else {
        format!(
            "<h2>{}</h2>\n<p>{}</p>\n",
            tr(lang, "Svar"),
            r.answer
                .as_deref()
                .map_or_else(|| unreadable.to_owned(), escape)
        )
    };
    Ok(format!(
        "<h1>{title}</h1>\n{notice}<dl>\n<dt>{l_patient}</dt><dd>{name}</dd>\n\
         <dt>{l_received}</dt><dd>{received}</dd>\n<dt>{l_due}</dt><dd>{due}</dd>\n\
         <dt>{l_status}</dt><dd>{status}</dd>\n<dt>{l_scope}</dt><dd>{thread}</dd>\n</dl>\n\
         {restriction}<h2>{l_text}</h2>\n<p>{text}</p>\n{journal}{answer}\
         <p><a href=\"{list}\">{back}</a></p>",
        title = kind_name(lang, r.kind),
        l_patient = tr(lang, "Pasient"),
        l_received = tr(lang, "Mottatt"),
        received = escape(&r.received_at.oslo_minutes()),
        l_due = tr(lang, "Svarfrist"),
        due = deadline_html(lang, r, now),
        l_status = tr(lang, "Status"),
        status = status_name(lang, r.status),
        l_scope = tr(lang, "Gjelder"),
        l_text = tr(lang, "Pasientens forespørsel"),
        text = r.text.as_deref().map_or_else(
            || unreadable.to_owned(),
            |t| escape(t).replace('\n', "<br>\n")
        ),
        list = list_path(org),
        back = tr(lang, "Til forespørslene"),
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct ShowQuery {
    besvart: Option<String>,
}

/// `GET /k/{clinic}/ansatt/foresporsel/{id}`.
pub(super) async fn show(
    State(state): State<AppState>,
    Path((clinic, id)): Path<(String, String)>,
    Query(query): Query<ShowQuery>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let (org, clinic, id) = target(&state, &clinic, &id).await?;
    let (access, session) = match reach(&clinic, &headers, &source, id, lang, None).await? {
        Ok(pair) => pair,
        Err(response) => return Ok(response),
    };
    let csrf = session.csrf_token();
    let notice = query.besvart.is_some().then_some(n_("Svaret er lagret."));
    let shown = Shown {
        csrf,
        notice,
        typed: Typed::default(),
    };
    let body = render(lang, &org, &access, id, state.app.now(), &shown).await?;
    Ok(Html(page(lang, tr(lang, "Forespørsel"), &body)).into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct AnswerForm {
    csrf: String,
    beslutning: Option<String>,
    svar: Option<String>,
    melding: Option<String>,
}

/// `POST /k/{clinic}/ansatt/foresporsel/{id}/svar`: a refusal without a reason, or a
/// correction without its text, is shown again with 422 and nothing is stored.
pub(super) async fn answer(
    State(state): State<AppState>,
    Path((clinic, id)): Path<(String, String)>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<AnswerForm>,
) -> Result<Response, WebError> {
    let (org, clinic, id) = target(&state, &clinic, &id).await?;
    let csrf = Some(form.csrf.as_str());
    let (access, session) = match reach(&clinic, &headers, &source, id, lang, csrf).await? {
        Ok(pair) => pair,
        Err(response) => return Ok(response),
    };
    let csrf = session.csrf_token();
    let text = form.svar.as_deref().unwrap_or("").trim().to_owned();
    let kind = access.request(id).await.map_err(not_found_or)?.record.kind;
    let message = match form.melding.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => Some(MessageId::parse(m).map_err(|_| WebError::NotFound)?),
        None => None,
    };
    let decided = match form.beslutning.as_deref() {
        Some("avslag") if text.is_empty() => {
            Err(n_("Et avslag må ha en begrunnelse. Ingenting er lagret."))
        }
        Some("avslag") => Ok(Answer::Refuse { reason: text }),
        Some("innvilg") if kind == RequestKind::Correction && text.is_empty() => Err(n_(
            "Skriv rettelsen som skal stå ved siden av det opprinnelige. Ingenting er lagret.",
        )),
        Some("innvilg") => Ok(Answer::Grant { text, message }),
        _ => Err(n_("Velg innvilg eller avslå. Ingenting er lagret.")),
    };
    let answer = match decided {
        Ok(a) => a,
        Err(why) => {
            // Shown again with what was typed: nothing is lost.
            let shown = Shown {
                csrf,
                notice: Some(why),
                typed: Typed {
                    decision: form.beslutning.as_deref(),
                    text: form.svar.as_deref(),
                    message: form.melding.as_deref(),
                },
            };
            let body = render(lang, &org, &access, id, state.app.now(), &shown).await?;
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                Html(page(lang, tr(lang, "Forespørsel"), &body)),
            )
                .into_response());
        }
    };
    match access.answer_request(id, answer).await {
        Ok(_) => Ok(see_other(
            &format!("{}?besvart=ja", request_path(&org, id)),
            None,
        )),
        Err(ServiceError::Invalid(_)) => {
            let shown = Shown {
                csrf,
                notice: Some(n_(
                    "Forespørselen er allerede besvart. Ingenting er endret.",
                )),
                typed: Typed::default(),
            };
            let body = render(lang, &org, &access, id, state.app.now(), &shown).await?;
            Ok((
                StatusCode::CONFLICT,
                Html(page(lang, tr(lang, "Forespørsel"), &body)),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /k/{clinic}/ansatt/foresporsel/{id}/opphev`: lifts a restriction in force.
pub(super) async fn lift(
    State(state): State<AppState>,
    Path((clinic, id)): Path<(String, String)>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let (org, clinic, id) = target(&state, &clinic, &id).await?;
    let csrf = Some(form.csrf.as_str());
    let (access, _) = match reach(&clinic, &headers, &source, id, lang, csrf).await? {
        Ok(pair) => pair,
        Err(response) => return Ok(response),
    };
    access.lift_restriction(id).await.map_err(not_found_or)?;
    Ok(see_other(
        &format!("{}?besvart=ja", request_path(&org, id)),
        None,
    ))
}
