//! The patient's messages (issue 4 items 2, 4, 5, 6, 8, 9; P2, P3, P5, P10, X3): the
//! inbox, a thread with its default notice and read confirmations, attachments shown
//! inline (the page in `view.rs`), writing (`write.rs`) and live updates (`live.rs`).
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

pub(crate) mod draft;
mod live;
mod view;
mod write;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use fortrolig_domain::access::{DataClass, Decision, Level, Need, Request, Subject as Who};
use fortrolig_domain::attachment::MAX_ATTACHMENT_BYTES;
use fortrolig_domain::consent::PortalService;
use fortrolig_domain::{OrgNumber, PatientId, ThreadId};
use fortrolig_service::{
    AccessError, Clinic, PatientActor, ServiceError, Session, SessionSubject, ThreadReadAhead,
};

use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{Lang, kind_name, status_name, tr};
use crate::respond::clinic_of;
use crate::router::AppState;
use crate::session::{current, current_and_thread};
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
pub(crate) struct Visit {
    pub(crate) org: OrgNumber,
    pub(crate) clinic: Arc<Clinic>,
    pub(crate) session: Session,
    pub(crate) actor: PatientActor,
    /// The language the pages are shown in.
    pub(crate) lang: Lang,
    /// Refused forms' drafts (the application's).
    pub(crate) drafts: Arc<draft::Drafts>,
}

impl Visit {
    pub(crate) fn patient(&self) -> PatientId {
        self.actor.patient
    }

    pub(crate) fn csrf(&self) -> String {
        escape(self.session.csrf_token())
    }

    /// A form's token must be this session's (CSRF); anything else is refused.
    pub(crate) fn require_csrf(&self, token: &str) -> Result<(), WebError> {
        if self.session.csrf_matches(token) {
            Ok(())
        } else {
            Err(WebError::Forbidden)
        }
    }

    /// The patient said no to messaging, or ended the portal (P4, P11).
    pub(crate) async fn messaging_refused(&self) -> Result<bool, WebError> {
        Ok(self
            .clinic
            .consents(self.patient())
            .await?
            .refuses(PortalService::Messaging))
    }
}

/// The request's patient session, or the response that sends the browser to log in and
/// come back to `here`. A patient who has not yet answered the consent page is sent
/// there first (P4: consent at the first login), and comes back to `here`.
pub(crate) async fn visit(
    state: &AppState,
    clinic: &str,
    headers: &HeaderMap,
    source: &RequestSource,
    here: impl FnOnce(&OrgNumber) -> String,
) -> Result<Result<Visit, Response>, WebError> {
    Ok(visit_reading(state, clinic, headers, source, here, None)
        .await?
        .map(|(v, _)| v))
}

/// `visit`, with one of the patient's threads read together with the session.
pub(crate) async fn visit_in_thread(
    state: &AppState,
    clinic: &str,
    headers: &HeaderMap,
    source: &RequestSource,
    here: impl FnOnce(&OrgNumber) -> String,
    thread: ThreadId,
) -> Result<Result<(Visit, ThreadReadAhead), Response>, WebError> {
    match visit_reading(state, clinic, headers, source, here, Some(thread)).await? {
        Ok((v, Some(ahead))) => Ok(Ok((v, ahead))),
        // `visit_reading` reads a thread whenever it is given one.
        Ok((_, None)) => Err(WebError::NotFound),
        Err(response) => Ok(Err(response)),
    }
}

async fn visit_reading(
    state: &AppState,
    clinic: &str,
    headers: &HeaderMap,
    source: &RequestSource,
    here: impl FnOnce(&OrgNumber) -> String,
    thread: Option<ThreadId>,
) -> Result<Result<(Visit, Option<ThreadReadAhead>), Response>, WebError> {
    let org = clinic_of(clinic)?;
    let here = here(&org);
    let v = match visit_ungated_reading(state, clinic, headers, source, |_| here.clone(), thread)
        .await?
    {
        Ok(v) => v,
        Err(response) => return Ok(Err(response)),
    };
    let consents = v.0.clinic.consents(v.0.patient()).await?;
    // Ending the portal ends the sessions just after; a request in between is refused.
    if consents.ended() {
        return Err(WebError::Stopped(fortrolig_service::Stopped::PortalEnded));
    }
    if !consents.answered() {
        return Ok(Err(to_consent(&v.0.org, &here)));
    }
    Ok(Ok(v))
}

/// Where a patient who has not answered the consent page goes, to come back to `next`.
pub(crate) fn to_consent(org: &OrgNumber, next: &str) -> Response {
    Redirect::to(&format!("/k/{org}/samtykke?neste={}", query_value(next))).into_response()
}

/// Like `visit`, without asking for consent first: for the consent page itself.
pub(crate) async fn visit_ungated(
    state: &AppState,
    clinic: &str,
    headers: &HeaderMap,
    source: &RequestSource,
    here: impl FnOnce(&OrgNumber) -> String,
) -> Result<Result<Visit, Response>, WebError> {
    Ok(
        visit_ungated_reading(state, clinic, headers, source, here, None)
            .await?
            .map(|(v, _)| v),
    )
}

async fn visit_ungated_reading(
    state: &AppState,
    clinic: &str,
    headers: &HeaderMap,
    source: &RequestSource,
    here: impl FnOnce(&OrgNumber) -> String,
    thread: Option<ThreadId>,
) -> Result<Result<(Visit, Option<ThreadReadAhead>), Response>, WebError> {
    let org = clinic_of(clinic)?;
    let clinic = state.app.clinic(&org).await?;
    let (session, ahead) = match thread {
        None => (current(&clinic, headers).await?, None),
        Some(thread) => match current_and_thread(&clinic, headers, thread).await? {
            Some((session, ahead)) => (Some(session), Some(ahead)),
            None => (None, None),
        },
    };
    let session = match session {
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
    let visit = Visit {
        org,
        clinic,
        session,
        actor,
        lang: Lang::of(headers),
        drafts: state.drafts.clone(),
    };
    Ok(Ok((visit, ahead)))
}

/// Where a patient logs in at `level` and comes back to `next` (a path in this clinic).
pub(crate) fn to_login(org: &OrgNumber, level: Level, next: &str) -> Response {
    let level = match level {
        Level::High => "hoy",
        Level::Substantial => "betydelig",
    };
    let next = query_value(next);
    Redirect::to(&format!("/k/{org}/innlogging?nivaa={level}&neste={next}")).into_response()
}

/// A path of ours as a query value: it holds ids and fixed words, so only the
/// characters that would end or split the value need escaping.
fn query_value(next: &str) -> String {
    next.replace('%', "%25")
        .replace('&', "%26")
        .replace('=', "%3D")
        .replace('?', "%3F")
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

/// `one` for 1, else `many` with `{n}` filled in (both already in the page's language).
fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        one.to_owned()
    } else {
        many.replace("{n}", &n.to_string())
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
    let lang = visit.lang;
    let threads = match visit.clinic.my_threads(&visit.actor).await {
        Ok(threads) => threads,
        Err(e) => return refused(e, org, &inbox_path(org)),
    };
    let mut rows = String::new();
    for t in &threads {
        let when = t.updated_at.oslo_minutes();
        let unread = if t.unread == 0 {
            tr(lang, "Ingen").to_owned()
        } else {
            format!(
                "<strong>{}</strong>",
                count(t.unread, tr(lang, "1 ny"), tr(lang, "{n} nye"))
            )
        };
        rows.push_str(&format!(
            "<tr><td><a href=\"{}\">{}</a></td>\
             <td>{}</td><td>{unread}</td><td>{}</td></tr>\n",
            thread_path(org, t.id),
            escape(kind_name(lang, t.kind)),
            escape(status_name(lang, t.status)),
            escape(&when),
        ));
    }
    let list = if threads.is_empty() {
        format!(
            "<p>{}</p>",
            tr(lang, "Du har ingen samtaler med klinikken ennå.")
        )
    } else {
        format!(
            "<table>\n<caption>{}</caption>\n\
             <thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
             <th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead>\n\
             <tbody>\n{rows}</tbody>\n</table>",
            count(
                threads.len(),
                tr(lang, "1 samtale, nyeste først (norsk tid)"),
                tr(lang, "{n} samtaler, nyeste først (norsk tid)")
            ),
            tr(lang, "Samtale"),
            tr(lang, "Status"),
            tr(lang, "Uleste svar"),
            tr(lang, "Sist aktiv"),
        )
    };
    // A patient who said no to messaging still sees what was written (it is theirs), but
    // is offered no new message (P4).
    let new = if visit
        .clinic
        .consents(visit.patient())
        .await?
        .refuses(PortalService::Messaging)
    {
        format!(
            "<p><strong>{}</strong> <a href=\"/k/{org}/samtykke\">{}</a></p>",
            tr(lang, "Du har sagt nei til meldinger med klinikken."),
            tr(lang, "Endre samtykket")
        )
    } else {
        format!(
            "<p><a class=\"knapp\" href=\"/k/{org}/meldinger/ny\">{}</a></p>",
            tr(lang, "Ny melding")
        )
    };
    let body = format!(
        "<h1>{title}</h1>\n\
         <p>{intro}</p>\n\
         {new}\n\
         <p id=\"direkte-status\" role=\"status\"></p>\n\
         <div id=\"innboks\" data-strom=\"/k/{org}/meldinger/strom\">\n{list}\n</div>\n\
         <p><a href=\"/k/{org}/\">{back}</a></p>\n{script}",
        title = tr(lang, "Meldinger"),
        intro = tr(
            lang,
            "Her skriver du med klinikken. Meldingene blir ikke lagret på enheten din."
        ),
        back = tr(lang, "Tilbake til forsiden"),
        script = live::SCRIPT_TAG,
    );
    Ok(Html(page(lang, tr(lang, "Meldinger"), &body)).into_response())
}

fn parse_thread(text: &str) -> Result<ThreadId, WebError> {
    ThreadId::parse(text).map_err(|_| WebError::NotFound)
}

#[derive(Debug, serde::Deserialize)]
struct ThreadQuery {
    /// A refused reply's draft to show again.
    utkast: Option<String>,
}

/// `GET /k/{clinic}/meldinger/{thread}`: the thread; the clinic's messages count as read.
async fn thread(
    State(state): State<AppState>,
    Path((clinic, thread)): Path<(String, String)>,
    Query(query): Query<ThreadQuery>,
    source: RequestSource,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let id = parse_thread(&thread)?;
    let visit = match visit(&state, &clinic, &headers, &source, |o| thread_path(o, id)).await? {
        Ok(v) => v,
        Err(to_login) => return Ok(to_login),
    };
    match visit.clinic.my_thread(&visit.actor, id).await {
        Ok(view) => {
            let draft = write::draft_of(&visit, query.utkast.as_deref());
            Ok(view::thread_page(&state, &visit, &view, draft.as_ref()).await)
        }
        Err(e) => refused(e, &visit.org, &thread_path(&visit.org, id)),
    }
}

pub(super) fn hex(bytes: &[u8]) -> String {
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
    crate::respond::attachment(opened)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;

    #[test]
    fn attachment_ids_are_exactly_32_lowercase_hex_characters() {
        let id = "00ff10aa00ff10aa00ff10aa00ff10aa";
        assert_eq!(attachment_id(id).map(|b| hex(&b)), Some(id.to_owned()));
        for bad in [
            "",
            "00FF10AA00FF10AA00FF10AA00FF10AA",
            "0g",
            &id[..30],
            "é".repeat(16).as_str(),
        ] {
            assert_eq!(attachment_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_way_back_after_login_keeps_its_query_inside_neste_x2() {
        let org = OrgNumber::parse("923456783").unwrap_or_else(|_| unreachable!());
        let to = to_login(
            &org,
            Level::High,
            "/k/923456783/meldinger/ny?type=kontor&x=1",
        );
        assert_eq!(
            to.headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok()),
            Some(
                "/k/923456783/innlogging?nivaa=hoy&neste=/k/923456783/meldinger/ny%3Ftype%3Dkontor%26x%3D1"
            )
        );
    }
}
