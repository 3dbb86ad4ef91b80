//! The staff side of secure messaging (issue 4 items 3, 5, 6, 7; S5, S7, S8, P5, X3):
//! the inbox, a thread with read confirmations, internal notes, journal-worthy marks,
//! recall and attachments shown inline (`thread`); replies with templates, thread
//! settings and recall (`write`); a new thread to a confirmed patient (`start`); live
//! updates (`live`).
//!
//! Every page goes through the service's doors. The inbox is `staff_inbox`: one audit
//! entry for the listing and no content. It names no patient, because a name is a read
//! of the patient's record, which would be an audit entry per row. A thread is
//! `thread_access`, which decides by the thread's kind (health data, or administrative
//! data that secretaries may read too); the thread view names the patient (one audited
//! read), so the person answering knows whom they answer (S7).

mod inbox;
mod live;
mod start;
mod thread;
mod write;

use std::collections::HashMap;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use fortrolig_domain::access::{DataClass, Decision, DenyReason, Need, Request, Subject, decide};
use fortrolig_domain::attachment::MAX_ATTACHMENT_BYTES;
use fortrolig_domain::{OrgNumber, PatientId, StaffId, ThreadId};
use fortrolig_service::{AccessError, Clinic, HealthAccess, ServiceError, Session};

use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{Lang, tr};
use crate::router::AppState;
use crate::source::RequestSource;
use crate::workspace::{actor, refuse_in, staff_session, step_up, training_missing};

/// An upload: the largest attachment and room for the text and the form around it.
const UPLOAD_LIMIT: usize = MAX_ATTACHMENT_BYTES + 64 * 1024;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/k/{clinic}/ansatt/innboks", get(inbox::inbox))
        .route("/k/{clinic}/ansatt/strom", get(live::stream))
        .route("/static/innboks.js", get(live::script))
        .route(
            "/k/{clinic}/ansatt/samtale/{thread}",
            get(thread::thread_page),
        )
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
            get(thread::attachment),
        )
        .route(
            "/k/{clinic}/ansatt/pasient/{patient}/ny-melding",
            get(start::new_form).post(start::new_thread),
        )
}

fn thread_path(org: &OrgNumber, thread: ThreadId) -> String {
    format!("/k/{org}/ansatt/samtale/{thread}")
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.len() > 64 {
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
pub(crate) struct Names<'c> {
    clinic: &'c Clinic,
    lang: Lang,
    known: HashMap<StaffId, String>,
}

impl<'c> Names<'c> {
    pub(crate) fn new(clinic: &'c Clinic, lang: Lang) -> Self {
        Self {
            clinic,
            lang,
            known: HashMap::new(),
        }
    }

    pub(crate) async fn of(&mut self, id: StaffId) -> String {
        if let Some(name) = self.known.get(&id) {
            return name.clone();
        }
        let name = self
            .clinic
            .staff_member(id)
            .await
            .map(|s| s.name.as_str().to_owned())
            .unwrap_or_else(|_| tr(self.lang, "Ukjent ansatt").into());
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
    lang: Lang,
) -> Result<Result<Reached<'c>, Response>, WebError> {
    let here = thread_path(clinic.org(), thread);
    match staff_session(clinic, headers, &here).await? {
        Ok((staff, session)) => {
            reach_as(clinic, staff, session, source, thread, purpose, lang).await
        }
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
    lang: Lang,
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
        Err(e) => refusal(clinic, thread, e, lang).await.map(Err),
    }
}

/// What a member of staff sees when `thread_access` says no.
async fn refusal(
    clinic: &Clinic,
    thread: ThreadId,
    error: AccessError,
    lang: Lang,
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
                    "<h2>{title}</h2>\n<p>{text}</p>\n\
                     <p><a href=\"/k/{org}/ansatt/pasient/{p}\">{link}</a></p>\n",
                    title = tr(lang, "Nødtilgang"),
                    text = tr(
                        lang,
                        "Trenger pasienten helsehjelp nå, og kan det ikke vente, kan du be om \
                         nødtilgang på pasientsiden. Tilgangen er tidsbegrenset, logges og kontrolleres av klinikken."
                    ),
                    link = tr(lang, "Til pasientsiden for å be om nødtilgang"),
                )
            });
            let body = format!(
                "<h1>{title}</h1>\n<p>{text}</p>\n{emergency}\
                 <p><a href=\"/k/{org}/ansatt/innboks\">{back}</a></p>",
                title = tr(lang, "Ingen behandlingsrelasjon"),
                text = tr(
                    lang,
                    "Samtalen gjelder helseopplysninger om en pasient du ikke har \
                     behandlingsrelasjon til. Forsøket er logget."
                ),
                back = tr(lang, "Til innboksen"),
            );
            Ok((
                StatusCode::FORBIDDEN,
                Html(page(lang, tr(lang, "Ingen tilgang"), &body)),
            )
                .into_response())
        }
        AccessError::Denied(DenyReason::TrainingMissing) => Ok(training_missing(lang, org)),
        AccessError::Denied(_) => Ok(refuse_in(
            lang,
            StatusCode::FORBIDDEN,
            tr(lang, "Ingen tilgang"),
            tr(
                lang,
                "Rollen din gir ikke tilgang til denne samtalen. Forsøket er logget.",
            ),
            org,
        )),
        AccessError::Service(ServiceError::Invalid(_)) => Err(WebError::NotFound),
        AccessError::Service(e) => Err(e.into()),
    }
}

/// The staff session of this request if its roles work with patients' messages: those
/// the access rule lets read patients' administrative data (the clinical roles and
/// secretaries). The inbox names no patient itself, so the rule is asked about any one.
pub(crate) async fn inbox_session(
    clinic: &Clinic,
    headers: &HeaderMap,
    here: &str,
    now: fortrolig_domain::Timestamp,
    lang: Lang,
    denied: &str,
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
        Decision::Deny(_) => Err(refuse_in(
            lang,
            StatusCode::FORBIDDEN,
            tr(lang, "Ingen tilgang"),
            denied,
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
