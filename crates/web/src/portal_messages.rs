//! The patient's messages (issue 4 items 2, 4, 5, 6, 8, 9; P2, P3, P5, P10, X3): the
//! inbox, a thread with its default notice and read confirmations, attachments shown
//! inline, writing (`write.rs`) and live updates (`live.rs`).
//!
//! Decisions:
//! - Every page needs the patient's own session; none (or a staff session) is sent to log
//!   in, and a page whose thread needs level high sends a session at *substantial* to log
//!   in again with `neste` (the service decides the level, X2).
//! - Nothing health-related is left in the browser (P2): every response is `no-store`
//!   (the headers middleware), page titles never hold a subject (they go into history),
//!   lists name no subject, message fields have `autocomplete="off"`, and the live script
//!   keeps nothing.
//! - An attachment is served inline with the type sniffed when it was stored, `nosniff`,
//!   and a sandboxing policy without script, so a crafted file cannot act as our page.
//! - Another patient's thread, a malformed id and a thread that does not exist are all
//!   the same 404.

mod live;
mod write;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use fortrolig_domain::access::{DataClass, Decision, Level, Need, Request, Subject as Who};
use fortrolig_domain::attachment::{MAX_ATTACHMENT_BYTES, MediaType};
use fortrolig_domain::messaging::ThreadStatus;
use fortrolig_domain::{OrgNumber, PatientId, StaffId, ThreadId, Timestamp};
use fortrolig_service::{
    AccessError, Clinic, MessageView, PatientActor, ServiceError, Session, SessionSubject,
    ThreadView,
};

use crate::error::WebError;
use crate::headers::Sandboxed;
use crate::html::{escape, page};
use crate::respond::clinic_of;
use crate::router::AppState;
use crate::session::current;
use crate::source::RequestSource;

/// The largest request body the upload forms take: one attachment and the form around it.
const UPLOAD_LIMIT: usize = MAX_ATTACHMENT_BYTES + 64 * 1024;

/// The patient's messaging routes; the router merges them.
pub(crate) fn routes() -> Router<AppState> {
    let upload = DefaultBodyLimit::max(UPLOAD_LIMIT);
    Router::new()
        .route("/static/meldinger.js", get(live::script))
        .route("/k/{clinic}/meldinger", get(inbox))
        .route("/k/{clinic}/meldinger/strom", get(live::stream))
        .route(
            "/k/{clinic}/meldinger/ny",
            get(write::form).post(write::create).layer(upload),
        )
        .route(
            "/k/{clinic}/meldinger/{thread}",
            get(thread).post(write::reply).layer(upload),
        )
        .route(
            "/k/{clinic}/meldinger/{thread}/vedlegg/{attachment}",
            get(attachment),
        )
}

/// A logged-in patient at one clinic, for one request.
struct Visit {
    org: OrgNumber,
    clinic: Arc<Clinic>,
    session: Session,
    actor: PatientActor,
}

impl Visit {
    fn patient(&self) -> PatientId {
        self.actor.patient
    }

    fn csrf(&self) -> String {
        escape(self.session.csrf_token())
    }
}

/// The request's patient session, or the response that sends the browser to log in and
/// come back to `here`.
async fn visit(
    state: &AppState,
    clinic: &str,
    headers: &HeaderMap,
    source: &RequestSource,
    here: impl FnOnce(&OrgNumber) -> String,
) -> Result<Result<Visit, Response>, WebError> {
    let org = clinic_of(clinic)?;
    let clinic = state.app.clinic(&org).await?;
    let session = match current(&clinic, headers).await? {
        Some(session) => session,
        None => return Ok(Err(to_login(&org, Level::High, &here(&org)))),
    };
    let SessionSubject::Patient(patient) = session.subject else {
        return Ok(Err(to_login(&org, Level::High, &here(&org))));
    };
    let actor = PatientActor {
        patient,
        level: session.level,
        source: source.in_session(&session),
    };
    Ok(Ok(Visit {
        org,
        clinic,
        session,
        actor,
    }))
}

/// Where a patient logs in at `level` and comes back to `next` (a path in this clinic).
fn to_login(org: &OrgNumber, level: Level, next: &str) -> Response {
    let level = match level {
        Level::High => "hoy",
        Level::Substantial => "betydelig",
    };
    // `next` is ours (ids and fixed words); only its query needs escaping here.
    let next = next
        .replace('%', "%25")
        .replace('&', "%26")
        .replace('=', "%3D")
        .replace('?', "%3F");
    Redirect::to(&format!("/k/{org}/innlogging?nivaa={level}&neste={next}")).into_response()
}

/// What a refusal from the service means for a patient's page: a step-up is a new login,
/// anything that is not theirs or not there is the same 404.
fn refused(e: AccessError, org: &OrgNumber, here: &str) -> Result<Response, WebError> {
    match e {
        AccessError::StepUp(level) => Ok(to_login(org, level, here)),
        AccessError::Denied(_) | AccessError::Service(ServiceError::Invalid(_)) => {
            Err(WebError::NotFound)
        }
        AccessError::Service(e) => Err(e.into()),
    }
}

/// The level the patient's session lacks for `class`, if any (the one access rule, asked
/// before a form is shown so that nothing typed is lost to a step-up).
fn missing_level(visit: &Visit, class: DataClass) -> Option<Level> {
    let subject = Who::Patient {
        clinic: visit.org.clone(),
        patient: visit.patient(),
        level: visit.session.level,
    };
    let request = Request {
        clinic: visit.org.clone(),
        class,
        patient: Some(visit.patient()),
        need: Need::None,
    };
    match fortrolig_domain::access::decide(&subject, &request) {
        Decision::StepUp(level) => Some(level),
        _ => None,
    }
}

fn inbox_path(org: &OrgNumber) -> String {
    format!("/k/{org}/meldinger")
}

fn thread_path(org: &OrgNumber, thread: ThreadId) -> String {
    format!("/k/{org}/meldinger/{thread}")
}

fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `GET /k/{clinic}/meldinger`: the patient's threads, newest activity first. No
/// subjects: a list is not a read of content, and it stays out of the audit log's way.
async fn inbox(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let visit = match visit(&state, &clinic, &headers, &source, inbox_path).await? {
        Ok(v) => v,
        Err(to_login) => return Ok(to_login),
    };
    let org = &visit.org;
    let threads = match visit.clinic.my_threads(&visit.actor).await {
        Ok(threads) => threads,
        Err(e) => return refused(e, org, &inbox_path(org)),
    };
    let mut rows = String::new();
    for t in &threads {
        let when = t.updated_at.oslo_minutes();
        let unread = if t.unread == 0 {
            "Ingen".to_owned()
        } else {
            format!("<strong>{}</strong>", count(t.unread, "ny", "nye"))
        };
        rows.push_str(&format!(
            "<tr><td><a href=\"{}\">{}</a></td>\
             <td>{}</td><td>{unread}</td><td>{}</td></tr>\n",
            thread_path(org, t.id),
            escape(t.kind.display_name()),
            escape(t.status.display_name()),
            escape(&when),
        ));
    }
    let list = if threads.is_empty() {
        "<p>Du har ingen samtaler med klinikken ennå.</p>".to_owned()
    } else {
        format!(
            "<table>\n<caption>{}, nyeste først (norsk tid)</caption>\n\
             <thead><tr><th scope=\"col\">Samtale</th><th scope=\"col\">Status</th>\
             <th scope=\"col\">Uleste svar</th><th scope=\"col\">Sist aktiv</th></tr></thead>\n\
             <tbody>\n{rows}</tbody>\n</table>",
            count(threads.len(), "samtale", "samtaler")
        )
    };
    let body = format!(
        "<h1>Meldinger</h1>\n\
         <p>Her skriver du med klinikken. Meldingene blir ikke lagret på enheten din.</p>\n\
         <p><a class=\"knapp\" href=\"/k/{org}/meldinger/ny\">Ny melding</a></p>\n\
         <p id=\"direkte-status\" role=\"status\"></p>\n\
         <div id=\"innboks\" data-strom=\"/k/{org}/meldinger/strom\">\n{list}\n</div>\n\
         <p><a href=\"/k/{org}/\">Tilbake til forsiden</a></p>\n{script}",
        script = live::SCRIPT_TAG,
    );
    Ok(Html(page("Meldinger", &body)).into_response())
}

/// Names and roles of the staff who wrote in a thread, looked up once per page.
async fn authors(clinic: &Clinic, view: &ThreadView, now: Timestamp) -> HashMap<StaffId, String> {
    let mut names = HashMap::new();
    for id in view.messages.iter().filter_map(|m| m.staff_author) {
        if names.contains_key(&id) {
            continue;
        }
        let name = match clinic.staff_member(id).await {
            Ok(staff) => staff.name.as_str().to_owned(),
            Err(_) => "Klinikken".to_owned(),
        };
        let roles: Vec<&str> = clinic
            .roles_at(id, now)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.display_name())
            .collect();
        let shown = if roles.is_empty() {
            name
        } else {
            format!("{name} ({})", roles.join(", "))
        };
        names.insert(id, shown);
    }
    names
}

/// Text with its line breaks kept, escaped.
fn paragraphs(text: &str) -> String {
    escape(text).replace('\n', "<br>\n")
}

fn kib(size: i64) -> String {
    format!("{} kB", (size.max(0) + 1023) / 1024)
}

fn attachments_html(org: &OrgNumber, thread: ThreadId, m: &MessageView) -> String {
    let mut out = String::new();
    for a in &m.attachments {
        let href = format!("{}/vedlegg/{}", thread_path(org, thread), hex(&a.id));
        let media = MediaType::ALL
            .into_iter()
            .find(|t| t.as_mime() == a.media_type);
        match media {
            Some(t) if t.is_image() => out.push_str(&format!(
                "<figure><img src=\"{href}\" alt=\"Vedlagt bilde ({}, {})\">\
                 <figcaption><a href=\"{href}\">Åpne bildet alene</a></figcaption></figure>\n",
                t.extension().to_uppercase(),
                kib(a.size)
            )),
            _ => out.push_str(&format!(
                "<p><a href=\"{href}\">Åpne vedlagt PDF ({})</a> – den åpnes i nettleseren.</p>\n",
                kib(a.size)
            )),
        }
    }
    out
}

/// The messages of a thread as a list; the live script replaces it (`id="samtale"`).
fn messages_html(org: &OrgNumber, view: &ThreadView, names: &HashMap<StaffId, String>) -> String {
    let mut items = String::new();
    for m in &view.messages {
        let who = match m.staff_author {
            None => "Du".to_owned(),
            Some(id) => names
                .get(&id)
                .cloned()
                .unwrap_or_else(|| "Klinikken".into()),
        };
        let content = match &m.text {
            Some(text) => format!(
                "<p>{}</p>\n{}",
                paragraphs(text.as_str()),
                attachments_html(org, view.id, m)
            ),
            None => "<p><em>Meldingen er trukket tilbake av klinikken.</em></p>\n".to_owned(),
        };
        let read = match (m.staff_author, m.read_at) {
            (None, Some(at)) => format!(
                "<p class=\"lest\">Lest av klinikken {}</p>\n",
                escape(&at.oslo_minutes())
            ),
            (None, None) => "<p class=\"lest\">Ikke lest av klinikken ennå</p>\n".to_owned(),
            (Some(_), _) => String::new(),
        };
        items.push_str(&format!(
            "<li><article>\n<h3>{} <span class=\"reference\">{}</span></h3>\n{content}{read}</article></li>\n",
            escape(&who),
            escape(&m.created_at.oslo_minutes()),
        ));
    }
    format!(
        "<p>Status: {}</p>\n<h2>Meldinger</h2>\n<ol class=\"meldinger\">\n{items}</ol>",
        escape(view.status.display_name())
    )
}

/// What the thread page shows under the messages: the reply form, or why there is none.
/// `error` and `kept` re-show a refused reply with the text the patient wrote.
fn reply_html(
    visit: &Visit,
    view: &ThreadView,
    error: Option<&write::Problems>,
    kept: &str,
) -> String {
    let why = if view.cannot_answer {
        Some(
            "Klinikken har merket at denne samtalen ikke kan besvares her. Har du noe nytt å \
              spørre om, skriv en ny melding, eller ring klinikken. Ved akutt sykdom, ring 113.",
        )
    } else if view.status == ThreadStatus::Closed {
        Some("Samtalen er avsluttet av klinikken. Skriv en ny melding om du har mer på hjertet.")
    } else {
        None
    };
    if let Some(why) = why {
        // A reply refused because the thread closed meanwhile: its text is still shown.
        let kept = if kept.trim().is_empty() {
            String::new()
        } else {
            format!(
                "<label for=\"tekst\">Teksten du skrev (ikke sendt)</label>\n\
                 <textarea id=\"tekst\" readonly autocomplete=\"off\">{}</textarea>\n",
                escape(kept)
            )
        };
        return format!(
            "<h2>Svar</h2>\n{}<p>{why}</p>\n{kept}<p><a href=\"/k/{}/meldinger/ny\">Skriv en ny melding</a></p>",
            error.map(write::Problems::summary).unwrap_or_default(),
            visit.org
        );
    }
    format!(
        "<h2 id=\"svar-overskrift\">Svar</h2>\n{}\
         <form method=\"post\" action=\"{}\" enctype=\"multipart/form-data\" aria-labelledby=\"svar-overskrift\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\n{}\
         <button type=\"submit\">Send svaret</button>\n</form>",
        error.map(write::Problems::summary).unwrap_or_default(),
        thread_path(&visit.org, view.id),
        visit.csrf(),
        write::text_and_file_fields(kept, error),
    )
}

/// The whole thread page. `status` is 200, or 422 when a refused reply is shown again.
async fn thread_page(
    state: &AppState,
    visit: &Visit,
    view: &ThreadView,
    error: Option<&write::Problems>,
    kept: &str,
) -> Response {
    let org = &visit.org;
    let names = authors(&visit.clinic, view, state.app.now()).await;
    let body = format!(
        "<p><a href=\"{inbox}\">Tilbake til meldingene</a></p>\n\
         <h1>{subject}</h1>\n<p>{kind}</p>\n\
         <aside aria-labelledby=\"om-kanalen\" class=\"advarsel\">\n<h2 id=\"om-kanalen\">Om denne kanalen</h2>\n\
         <p>{notice}</p>\n</aside>\n\
         <p id=\"direkte-status\" role=\"status\"></p>\n\
         <div id=\"samtale\" data-strom=\"/k/{org}/meldinger/strom\" data-samtale=\"{id}\">\n{messages}\n</div>\n\
         {reply}\n{script}",
        inbox = inbox_path(org),
        subject = escape(view.subject.as_str()),
        kind = escape(view.kind.display_name()),
        notice = escape(view.kind.default_notice()),
        id = view.id,
        messages = messages_html(org, view, &names),
        reply = reply_html(visit, view, error, kept),
        script = live::SCRIPT_TAG,
    );
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    // The title goes into the browser's history: never the subject (P2).
    (status, Html(page("Samtale", &body))).into_response()
}

fn parse_thread(text: &str) -> Result<ThreadId, WebError> {
    ThreadId::parse(text).map_err(|_| WebError::NotFound)
}

/// `GET /k/{clinic}/meldinger/{thread}`: the thread; the clinic's messages count as read.
async fn thread(
    State(state): State<AppState>,
    Path((clinic, thread)): Path<(String, String)>,
    source: RequestSource,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let id = parse_thread(&thread)?;
    let visit = match visit(&state, &clinic, &headers, &source, |o| thread_path(o, id)).await? {
        Ok(v) => v,
        Err(to_login) => return Ok(to_login),
    };
    match visit.clinic.my_thread(&visit.actor, id).await {
        Ok(view) => Ok(thread_page(&state, &visit, &view, None, "").await),
        Err(e) => refused(e, &visit.org, &thread_path(&visit.org, id)),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An attachment id from its 32-character hex form.
fn attachment_id(text: &str) -> Option<Vec<u8>> {
    if text.len() != 32 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}

/// `GET /k/{clinic}/meldinger/{thread}/vedlegg/{attachment}`: the attachment, inline,
/// with the type sniffed when it was stored (P2), in a sandbox without script.
async fn attachment(
    State(state): State<AppState>,
    Path((clinic, thread, attachment)): Path<(String, String, String)>,
    source: RequestSource,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let id = parse_thread(&thread)?;
    let key = attachment_id(&attachment).ok_or(WebError::NotFound)?;
    let here = |o: &OrgNumber| thread_path(o, id);
    let visit = match visit(&state, &clinic, &headers, &source, here).await? {
        Ok(v) => v,
        Err(to_login) => return Ok(to_login),
    };
    let opened = match visit.clinic.my_attachment(&visit.actor, id, &key).await {
        Ok(opened) => opened,
        Err(e) => return refused(e, &visit.org, &thread_path(&visit.org, id)),
    };
    // Only the types the sniffer accepts are ever served, whatever the row says.
    let media = MediaType::ALL
        .into_iter()
        .find(|t| t.as_mime() == opened.media_type)
        .ok_or_else(|| {
            WebError::Internal("stored attachment type is not an accepted one".into())
        })?;
    let mut response = opened.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.as_mime()),
    );
    if let Ok(disposition) = HeaderValue::from_str(&format!(
        "inline; filename=\"vedlegg.{}\"",
        media.extension()
    )) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The headers middleware sets the policy last; this marks the response for the sandbox.
    response.extensions_mut().insert(Sandboxed);
    Ok(response)
}
