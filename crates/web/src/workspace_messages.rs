//! The staff side of secure messaging (issue 4 items 3, 5, 6, 7; S5, S7, S8, P5, X3):
//! the inbox, a thread with read confirmations, internal notes, journal-worthy marks,
//! recall and attachments shown inline; replies with templates and thread settings
//! (`write`); live updates (`live`).
//!
//! Every page goes through the service's doors. The inbox is `staff_inbox`: one audit
//! entry for the listing and no content. It names no patient, because a name is a read
//! of the patient's record, which would be an audit entry per row. A thread is
//! `thread_access`, which decides by the thread's kind (health data, or administrative
//! data that secretaries may read too); the thread view names the patient (one audited
//! read), so the person answering knows whom they answer (S7).

mod live;
mod write;

use std::collections::HashMap;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use fortrolig_domain::access::{
    DataClass, Decision, DenyReason, Level, Need, Request, Subject, decide,
};
use fortrolig_domain::attachment::{MAX_ATTACHMENT_BYTES, MediaType};
use fortrolig_domain::messaging::{ThreadKind, ThreadStatus};
use fortrolig_domain::{OrgNumber, PatientId, StaffId, ThreadId};
use fortrolig_service::{
    AccessError, Clinic, HealthAccess, MessageView, OpenedAttachment, ServiceError, Session,
};
use serde::Deserialize;

use crate::error::WebError;
use crate::headers::AttachmentPolicy;
use crate::html::{escape, page};
use crate::respond::clinic_of;
use crate::router::AppState;
use crate::source::RequestSource;
use crate::workspace::{actor, refuse, staff_session};

/// An upload: the largest attachment and room for the text and the form around it.
const UPLOAD_LIMIT: usize = MAX_ATTACHMENT_BYTES + 64 * 1024;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/k/{clinic}/ansatt/innboks", get(inbox))
        .route("/k/{clinic}/ansatt/strom", get(live::stream))
        .route("/static/innboks.js", get(live::script))
        .route("/k/{clinic}/ansatt/samtale/{thread}", get(thread_page))
        .route(
            "/k/{clinic}/ansatt/samtale/{thread}/svar",
            post(write::reply).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route(
            "/k/{clinic}/ansatt/samtale/{thread}/innstillinger",
            post(write::settings),
        )
        .route(
            "/k/{clinic}/ansatt/samtale/{thread}/melding/{message}/journal",
            post(write::journal),
        )
        .route(
            "/k/{clinic}/ansatt/samtale/{thread}/melding/{message}/tilbakekall",
            post(write::recall),
        )
        .route(
            "/k/{clinic}/ansatt/samtale/{thread}/vedlegg/{attachment}",
            get(attachment),
        )
        .route(
            "/k/{clinic}/ansatt/pasient/{patient}/ny-melding",
            get(write::new_form).post(write::new_thread),
        )
}

fn thread_path(org: &OrgNumber, thread: ThreadId) -> String {
    format!("/k/{org}/ansatt/samtale/{thread}")
}

/// To HelseID at level high, and back to `here`.
fn step_up(org: &OrgNumber, here: &str) -> Response {
    Redirect::to(&format!(
        "/k/{org}/ansatt/innlogging?nivaa=hoy&neste={here}"
    ))
    .into_response()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || text.len() > 64 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Text as HTML, line breaks kept.
fn paragraph(text: &str) -> String {
    escape(text).replace('\n', "<br>\n")
}

/// Staff names, looked up once per page (people data, not a patient read).
struct Names<'c> {
    clinic: &'c Clinic,
    known: HashMap<StaffId, String>,
}

impl<'c> Names<'c> {
    fn new(clinic: &'c Clinic) -> Self {
        Self {
            clinic,
            known: HashMap::new(),
        }
    }

    async fn of(&mut self, id: StaffId) -> String {
        if let Some(name) = self.known.get(&id) {
            return name.clone();
        }
        let name = self
            .clinic
            .staff_member(id)
            .await
            .map(|s| s.name.as_str().to_owned())
            .unwrap_or_else(|_| "Ukjent ansatt".into());
        self.known.insert(id, name.clone());
        name
    }
}

/// A thread opened for a member of staff through `thread_access`.
struct Reached<'c> {
    access: HealthAccess<'c>,
    staff: StaffId,
    session: Session,
}

/// The staff session's access to `thread`, or the page to show instead.
async fn reach<'c>(
    clinic: &'c Clinic,
    headers: &HeaderMap,
    source: &RequestSource,
    thread: ThreadId,
    purpose: &str,
) -> Result<Result<Reached<'c>, Response>, WebError> {
    let here = thread_path(clinic.org(), thread);
    match staff_session(clinic, headers, &here).await? {
        Ok((staff, session)) => reach_as(clinic, staff, session, source, thread, purpose).await,
        Err(login) => Ok(Err(login)),
    }
}

/// Like `reach`, for a session already found (a form whose body is read first).
async fn reach_as<'c>(
    clinic: &'c Clinic,
    staff: StaffId,
    session: Session,
    source: &RequestSource,
    thread: ThreadId,
    purpose: &str,
) -> Result<Result<Reached<'c>, Response>, WebError> {
    match clinic
        .thread_access(&actor(staff, &session, source), thread, purpose)
        .await
    {
        Ok(access) => Ok(Ok(Reached {
            access,
            staff,
            session,
        })),
        Err(e) => refusal(clinic, thread, e).await.map(Err),
    }
}

/// What a member of staff sees when `thread_access` says no.
async fn refusal(
    clinic: &Clinic,
    thread: ThreadId,
    error: AccessError,
) -> Result<Response, WebError> {
    let org = clinic.org();
    match error {
        AccessError::StepUp(_) => Ok(step_up(org, &thread_path(org, thread))),
        AccessError::Denied(DenyReason::NoWorkRelatedNeed) => {
            // Only the patient's id, to lead to the emergency form on the patient page.
            let patient = clinic
                .store()
                .thread(thread.as_bytes())
                .await
                .map_err(|e| WebError::Internal(e.to_string()))?
                .and_then(|row| PatientId::from_slice(&row.patient_id));
            let emergency = patient.map_or_else(String::new, |p| {
                format!(
                    "<h2>Nødtilgang</h2>\n<p>Trenger pasienten helsehjelp nå, og kan det ikke vente, kan du be om \
                     nødtilgang på pasientsiden. Tilgangen er tidsbegrenset, logges og kontrolleres av klinikken.</p>\n\
                     <p><a href=\"/k/{org}/ansatt/pasient/{p}\">Til pasientsiden for å be om nødtilgang</a></p>\n"
                )
            });
            let body = format!(
                "<h1>Ingen behandlingsrelasjon</h1>\n<p>Samtalen gjelder helseopplysninger om en pasient du ikke har \
                 behandlingsrelasjon til. Forsøket er logget.</p>\n{emergency}\
                 <p><a href=\"/k/{org}/ansatt/innboks\">Til innboksen</a></p>"
            );
            Ok((StatusCode::FORBIDDEN, Html(page("Ingen tilgang", &body))).into_response())
        }
        AccessError::Denied(DenyReason::TrainingMissing) => Ok(refuse(
            StatusCode::FORBIDDEN,
            "Opplæring mangler",
            "Klinikken krever at du har fullført opplæringen i løsningen før du får tilgang til helseopplysninger. \
             Kontakt klinikkens administrator.",
            org,
        )),
        AccessError::Denied(_) => Ok(refuse(
            StatusCode::FORBIDDEN,
            "Ingen tilgang",
            "Rollen din gir ikke tilgang til denne samtalen. Forsøket er logget.",
            org,
        )),
        AccessError::Service(ServiceError::Invalid(_)) => Err(WebError::NotFound),
        AccessError::Service(e) => Err(e.into()),
    }
}

/// The staff session of this request if its roles work with patients' messages: those
/// the access rule lets read patients' administrative data (the clinical roles and
/// secretaries). The inbox names no patient itself, so the rule is asked about any one.
async fn inbox_session(
    clinic: &Clinic,
    headers: &HeaderMap,
    here: &str,
    now: fortrolig_domain::Timestamp,
) -> Result<Result<(StaffId, Session), Response>, WebError> {
    let (staff, session) = match staff_session(clinic, headers, here).await? {
        Ok(pair) => pair,
        Err(login) => return Ok(Err(login)),
    };
    let subject = Subject::Staff {
        clinic: clinic.org().clone(),
        roles: clinic.roles_at(staff, now).await?,
        level: session.level,
    };
    let request = Request {
        clinic: clinic.org().clone(),
        class: DataClass::Administrative,
        patient: Some(PatientId::from_bytes([0; 16])),
        need: Need::None,
    };
    Ok(match decide(&subject, &request) {
        Decision::Allow => Ok((staff, session)),
        Decision::StepUp(_) => Err(step_up(clinic.org(), here)),
        Decision::Deny(_) => Err(refuse(
            StatusCode::FORBIDDEN,
            "Ingen tilgang",
            "Innboksen er for behandlere og sekretærer.",
            clinic.org(),
        )),
    })
}

/// A thing from the service that names a thread, message or attachment that is not there.
fn not_found_or(e: ServiceError) -> WebError {
    match e {
        ServiceError::Invalid(_) | ServiceError::NoSuchPatient | ServiceError::Shredded => {
            WebError::NotFound
        }
        e => e.into(),
    }
}

/// The live channel: an invisible marker the script reads, and the script itself.
fn live_marker(org: &OrgNumber, thread: Option<ThreadId>) -> String {
    let thread = thread.map_or_else(String::new, |t| format!(" data-samtale=\"{t}\""));
    format!(
        "<div id=\"levende\" hidden data-strom=\"/k/{org}/ansatt/strom\"{thread}></div>\n\
         <script src=\"/static/innboks.js\" defer></script>"
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct InboxQuery {
    status: Option<String>,
    tildelt: Option<String>,
}

/// `GET /k/{clinic}/ansatt/innboks`: the threads this member of staff may open, with
/// filters by status and «tildelt meg».
async fn inbox(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    Query(query): Query<InboxQuery>,
    source: RequestSource,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let clinic = state.app.clinic(&org).await?;
    let here = format!("/k/{org}/ansatt/innboks");
    let (staff, session) = match inbox_session(&clinic, &headers, &here, state.app.now()).await? {
        Ok(pair) => pair,
        Err(response) => return Ok(response),
    };
    let threads = clinic.staff_inbox(&actor(staff, &session, &source)).await?;
    let status = query.status.as_deref().and_then(ThreadStatus::parse);
    let mine = query.tildelt.as_deref() == Some("meg");
    let mut names = Names::new(&clinic);
    let mut rows = String::new();
    let mut shown = 0;
    for t in threads.iter().filter(|t| {
        status.is_none_or(|s| t.status == s) && (!mine || t.assigned_staff == Some(staff))
    }) {
        let assigned = match t.assigned_staff {
            Some(id) if id == staff => "Meg".to_owned(),
            Some(id) => escape(&names.of(id).await),
            None => "–".to_owned(),
        };
        rows.push_str(&format!(
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{assigned}</td></tr>\n",
            thread_path(&org, t.id),
            escape(t.kind.display_name()),
            escape(t.status.display_name()),
            escape(&t.updated_at.oslo_minutes()),
            if t.unread == 0 {
                "–".to_owned()
            } else {
                format!("<strong>{}</strong>", t.unread)
            },
        ));
        shown += 1;
    }
    let options: String = ThreadStatus::ALL
        .iter()
        .map(|s| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                s.as_str(),
                if status == Some(*s) { " selected" } else { "" },
                escape(s.display_name())
            )
        })
        .collect();
    let level_note = if session.level == Level::Substantial {
        format!(
            "<p class=\"advarsel\">Du er logget inn på betydelig nivå og ser bare praktiske samtaler. \
             <a href=\"/k/{org}/ansatt/innlogging?nivaa=hoy&amp;neste={here}\">Logg inn på høyt nivå</a> \
             for å se samtaler med helseopplysninger.</p>\n"
        )
    } else {
        String::new()
    };
    let body = format!(
        "<h1>Innboks</h1>\n{level_note}\
         <form method=\"get\" action=\"{here}\">\n<label for=\"status\">Status</label>\n\
         <select id=\"status\" name=\"status\"><option value=\"\">Alle</option>{options}</select>\n\
         <label><input type=\"checkbox\" name=\"tildelt\" value=\"meg\"{}> Bare tildelt meg</label>\n\
         <button type=\"submit\">Vis</button>\n</form>\n\
         <div id=\"innboks-liste\" aria-live=\"polite\">\n<table>\n<caption>{shown} samtaler, nyeste aktivitet først</caption>\n\
         <thead><tr><th scope=\"col\">Samtale</th><th scope=\"col\">Status</th><th scope=\"col\">Sist aktivitet</th>\
         <th scope=\"col\">Uleste fra pasienten</th><th scope=\"col\">Tildelt</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n</div>\n\
         <p>Pasientens navn vises når du åpner samtalen; da blir oppslaget logget.</p>\n\
         <p><a href=\"/k/{org}/ansatt/\">Til arbeidsflaten</a></p>\n{}",
        if mine { " checked" } else { "" },
        live_marker(&org, None),
    );
    Ok(Html(page("Innboks", &body)).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ThreadQuery {
    /// A reply template to put in the text box (S8).
    mal: Option<String>,
    /// What the last form did, for a short notice.
    melding: Option<String>,
}

/// `GET /k/{clinic}/ansatt/samtale/{thread}`.
async fn thread_page(
    State(state): State<AppState>,
    Path((clinic, thread)): Path<(String, String)>,
    Query(query): Query<ThreadQuery>,
    source: RequestSource,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let thread = ThreadId::parse(&thread).map_err(|_| WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    let reached = match reach(&clinic, &headers, &source, thread, "samtale").await? {
        Ok(reached) => reached,
        Err(response) => return Ok(response),
    };
    let draft = write::Draft {
        text: query
            .mal
            .as_deref()
            .and_then(write::template)
            .map(|t| t.text.to_owned())
            .unwrap_or_default(),
        ..write::Draft::default()
    };
    render_thread(
        &clinic,
        &reached,
        thread,
        &draft,
        query.melding.as_deref(),
        StatusCode::OK,
    )
    .await
}

/// A short notice after a form, by the `melding` query parameter.
fn notice(what: Option<&str>) -> String {
    let (class, text) = match what {
        Some("sendt") => ("", "Meldingen er sendt."),
        Some("notat") => ("", "Notatet er lagret. Pasienten ser det ikke."),
        Some("lagret") => ("", "Endringene er lagret."),
        Some("journal") => ("", "Journalmerkingen er lagret."),
        Some("ny") => (
            "",
            "Samtalen er startet, og meldingen er sendt til pasienten.",
        ),
        Some("trukket") => (
            "advarsel",
            "Meldingen er trukket tilbake. Pasienten ser bare at en melding ble trukket tilbake. \
             Vurder om dette er et avvik (for eksempel feil mottaker eller feil innhold), og meld det i så fall. \
             Fortrolig får et eget avviksregister senere; til da melder du avvik slik klinikken gjør i dag.",
        ),
        Some("lest") => (
            "advarsel",
            "Meldingen er allerede lest av pasienten og kan ikke trekkes tilbake. Forsøket er logget. \
             Vurder om dette er et avvik, og meld det slik klinikken gjør i dag.",
        ),
        _ => return String::new(),
    };
    let class = if class.is_empty() {
        String::new()
    } else {
        format!(" class=\"{class}\"")
    };
    format!("<p role=\"status\"{class}>{}</p>\n", escape(text))
}

/// One message of a thread, with its read confirmation and the forms that act on it.
fn message_item(
    org: &OrgNumber,
    thread: ThreadId,
    m: &MessageView,
    author: &str,
    csrf: &str,
) -> String {
    let path = thread_path(org, thread);
    let id = m.id;
    let mut out = format!(
        "<li id=\"melding-{id}\">\n<h3>{} <span class=\"reference\">{}</span></h3>\n",
        escape(author),
        escape(&m.created_at.oslo_minutes())
    );
    if m.internal {
        out.push_str("<p><strong>Internt notat – vises ikke for pasienten</strong></p>\n");
    }
    match (&m.text, m.recalled_at) {
        (_, Some(at)) => out.push_str(&format!(
            "<p><em>Trukket tilbake {}</em></p>\n",
            escape(&at.oslo_minutes())
        )),
        (Some(text), None) => out.push_str(&format!("<p>{}</p>\n", paragraph(text.as_str()))),
        (None, None) => {}
    }
    if m.recalled_at.is_none() {
        for (n, a) in m.attachments.iter().enumerate() {
            let href = format!("{path}/vedlegg/{}", hex(&a.id));
            let kb = a.size.div_euclid(1024).max(1);
            if a.media_type.starts_with("image/") {
                out.push_str(&format!(
                    "<p><a href=\"{href}\"><img src=\"{href}\" alt=\"Vedlegg {}: bilde ({kb} kB)\"></a></p>\n",
                    n + 1
                ));
            } else {
                out.push_str(&format!(
                    "<p><a href=\"{href}\">Vedlegg {}: PDF-dokument ({kb} kB), vises i nettleseren</a></p>\n",
                    n + 1
                ));
            }
        }
    }
    let from_staff = m.staff_author.is_some();
    if !m.internal && m.recalled_at.is_none() {
        let read = match (from_staff, m.read_at) {
            (true, Some(at)) => format!("Lest av pasienten {}", at.oslo_minutes()),
            (true, None) => "Ikke lest av pasienten ennå".to_owned(),
            (false, Some(at)) => format!("Lest av klinikken {}", at.oslo_minutes()),
            (false, None) => "Ikke lest av klinikken før nå".to_owned(),
        };
        out.push_str(&format!("<p>{}</p>\n", escape(&read)));
    }
    if m.recalled_at.is_none() {
        let (value, label) = if m.journal_worthy {
            ("nei", "Fjern journalmerkingen")
        } else {
            ("ja", "Merk som journalverdig")
        };
        if m.journal_worthy {
            out.push_str("<p><strong>Journalverdig</strong> – skal føres i journalen.</p>\n");
        }
        out.push_str(&format!(
            "<form method=\"post\" action=\"{path}/melding/{id}/journal\">\n\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
             <input type=\"hidden\" name=\"verdi\" value=\"{value}\">\n\
             <button type=\"submit\">{label}</button>\n</form>\n"
        ));
    }
    if from_staff && !m.internal && m.read_at.is_none() && m.recalled_at.is_none() {
        out.push_str(&format!(
            "<form method=\"post\" action=\"{path}/melding/{id}/tilbakekall\">\n\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
             <button type=\"submit\">Trekk tilbake</button>\n</form>\n"
        ));
    }
    out.push_str("</li>\n");
    out
}

/// The thread page: the thread (an audited read that marks the patient's messages read),
/// the reply form with `draft`, and the settings.
async fn render_thread(
    clinic: &Clinic,
    reached: &Reached<'_>,
    thread: ThreadId,
    draft: &write::Draft,
    done: Option<&str>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let org = clinic.org();
    let view = reached.access.thread(thread).await.map_err(not_found_or)?;
    let patient = reached.access.read_patient().await.map_err(not_found_or)?;
    let csrf = escape(reached.session.csrf_token());
    let mut names = Names::new(clinic);
    let mut messages = String::new();
    for m in &view.messages {
        let author = match m.staff_author {
            Some(id) => names.of(id).await,
            None => "Pasienten".to_owned(),
        };
        messages.push_str(&message_item(org, thread, m, &author, &csrf));
    }
    let assigned = match view.assigned_staff {
        Some(id) if id == reached.staff => "Meg".to_owned(),
        Some(id) => escape(&names.of(id).await),
        None => "Ingen".to_owned(),
    };
    let patient_link = if reached.access.covers(DataClass::Health) {
        format!(
            "<a href=\"/k/{org}/ansatt/pasient/{}\">{}</a>",
            view.patient,
            escape(patient.name.as_str())
        )
    } else {
        escape(patient.name.as_str())
    };
    let cannot = if view.cannot_answer {
        "<dt>Kan ikke besvares</dt><dd>Ja – pasienten kan ikke skrive mer i samtalen</dd>\n"
    } else {
        ""
    };
    let body = format!(
        "<h1>{subject}</h1>\n<dl>\n<dt>Pasient</dt><dd>{patient_link}</dd>\n<dt>Type</dt><dd>{kind}</dd>\n\
         <dt>Status</dt><dd>{state}</dd>\n<dt>Tildelt</dt><dd>{assigned}</dd>\n{cannot}</dl>\n{notice}\
         <h2>Slik ble samtalen presentert for pasienten</h2>\n<p>{default_notice}</p>\n\
         <h2>Meldinger</h2>\n<ol id=\"meldinger\" aria-live=\"polite\">\n{messages}</ol>\n\
         {reply}\n{settings}\n\
         <p><a href=\"/k/{org}/ansatt/innboks\">Til innboksen</a></p>\n{live}",
        subject = escape(view.subject.as_str()),
        kind = escape(view.kind.display_name()),
        state = escape(view.status.display_name()),
        notice = notice(done),
        default_notice = escape(view.kind.default_notice()),
        reply = write::reply_form(org, thread, &csrf, draft),
        settings = write::settings_form(org, thread, &csrf, &view, reached.staff, &assigned),
        live = live_marker(org, Some(thread)),
    );
    Ok((status, Html(page("Samtale", &body))).into_response())
}

/// `GET /k/{clinic}/ansatt/samtale/{thread}/vedlegg/{id}`: an attachment, shown inline.
async fn attachment(
    State(state): State<AppState>,
    Path((clinic, thread, id)): Path<(String, String, String)>,
    source: RequestSource,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let thread = ThreadId::parse(&thread).map_err(|_| WebError::NotFound)?;
    let id = unhex(&id).ok_or(WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    let reached = match reach(&clinic, &headers, &source, thread, "vedlegg").await? {
        Ok(reached) => reached,
        Err(response) => return Ok(response),
    };
    let opened = reached
        .access
        .attachment(thread, &id)
        .await
        .map_err(not_found_or)?;
    inline(opened)
}

/// An attachment as the browser shows it (P2): inline, never as a download, with the
/// type sniffed from its bytes when it was stored, `nosniff` (set for every response) and
/// a sandbox in which nothing runs.
fn inline(opened: OpenedAttachment) -> Result<Response, WebError> {
    let media = MediaType::ALL
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
    response.extensions_mut().insert(AttachmentPolicy);
    Ok(response)
}

/// Used by `write` for the kinds a new thread may have.
fn kind_options(chosen: Option<ThreadKind>) -> String {
    ThreadKind::ALL
        .iter()
        .map(|k| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                k.as_str(),
                if chosen == Some(*k) { " selected" } else { "" },
                escape(k.display_name())
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_ids_round_trip_through_hex_and_nothing_else_parses() {
        let id = [0u8, 1, 0xab, 0xff];
        assert_eq!(unhex(&hex(&id)), Some(id.to_vec()));
        for bad in ["abc", "zz", "0g", &"00".repeat(33)] {
            assert_eq!(unhex(bad), None, "{bad}");
        }
    }

    #[test]
    fn texts_keep_their_lines_and_lose_their_markup() {
        assert_eq!(paragraph("a <b>\nc"), "a &lt;b&gt;<br>\nc");
    }
}
