//! The patient's requests under their rights (issue 6 item 3; P9, S5): `patient.rs` is
//! `/k/{clinic}/foresporsler`, where the patient files a correction, deletion,
//! restriction or copy request and follows it; `staff.rs` is
//! `/k/{clinic}/ansatt/foresporsler`, open requests by deadline (overdue first), and the
//! page that answers one.
//!
//! Decisions:
//! - The deadline is 30 days from receipt (GDPR art. 12(3), a month); it is shown to both
//!   sides with the days left, and an open request past it is marked overdue.
//! - A refusal needs a reason: a form without one is shown again with 422 and nothing is
//!   stored. A correction or deletion that touches journal-worthy messages is refused
//!   with the legal reason (the service decides, whatever was chosen).
//! - A correction is a dated entry beside the original, which stays as written and is
//!   marked «Rettet <dato>» wherever it is shown (`corrections_html`).

mod patient;
mod staff;

use axum::Router;
use axum::routing::{get, post};
use fortrolig_domain::Timestamp;
use fortrolig_domain::requests::{RequestKind, RequestStatus, days_left};
use fortrolig_service::{Correction, RequestRecord};

use crate::html::escape;
use crate::i18n::{Lang, tr};
use crate::router::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/k/{clinic}/foresporsler",
            get(patient::show).post(patient::file),
        )
        .route("/k/{clinic}/ansatt/foresporsler", get(staff::list))
        .route("/k/{clinic}/ansatt/foresporsel/{id}", get(staff::show))
        .route(
            "/k/{clinic}/ansatt/foresporsel/{id}/svar",
            post(staff::answer),
        )
        .route(
            "/k/{clinic}/ansatt/foresporsel/{id}/opphev",
            post(staff::lift),
        )
}

pub(crate) fn kind_name(lang: Lang, kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Correction => tr(lang, "Retting"),
        RequestKind::Deletion => tr(lang, "Sletting"),
        RequestKind::Restriction => tr(lang, "Begrensning av behandlingen"),
        RequestKind::Copy => tr(lang, "Kopi av opplysningene"),
    }
}

pub(crate) fn status_name(lang: Lang, status: RequestStatus) -> &'static str {
    match status {
        RequestStatus::Open => tr(lang, "Mottatt, ikke besvart"),
        RequestStatus::Granted => tr(lang, "Innvilget"),
        RequestStatus::Refused => tr(lang, "Avslått"),
        RequestStatus::Partly => tr(lang, "Delvis innvilget"),
    }
}

/// The deadline as a cell: the date, and for an open request the days left or «Forfalt».
pub(crate) fn deadline_html(lang: Lang, r: &RequestRecord, now: Timestamp) -> String {
    let date = escape(&r.due_at.oslo_minutes());
    if r.overdue {
        format!(
            "{date} <strong class=\"forfalt\">{}</strong>",
            tr(lang, "Forfalt")
        )
    } else if r.status.is_open() {
        format!(
            "{date} ({})",
            tr(lang, "{n} dager igjen").replace("{n}", &days_left(r.due_at, now).to_string())
        )
    } else {
        date
    }
}

/// A message's (or the registered data's) corrections: each dated, beside the original.
pub(crate) fn corrections_html(lang: Lang, corrections: &[Correction]) -> String {
    corrections
        .iter()
        .map(|c| {
            format!(
                "<div class=\"rettet\">\n<p><strong>{}</strong></p>\n<p>{}: {}</p>\n</div>\n",
                tr(lang, "Rettet {dato}").replace("{dato}", &escape(&c.at.oslo_minutes())),
                tr(lang, "Rettelse"),
                escape(&c.text).replace('\n', "<br>\n"),
            )
        })
        .collect()
}

/// The patient's requests as a table (their page and innsyn).
pub(crate) fn table(lang: Lang, requests: &[RequestRecord], now: Timestamp) -> String {
    if requests.is_empty() {
        return format!("<p>{}</p>\n", tr(lang, "Du har ingen forespørsler."));
    }
    let unreadable = || format!("<em>{}</em>", tr(lang, "Kan ikke leses"));
    let rows: String = requests
        .iter()
        .map(|r| {
            format!(
                "<tr><td>{}</td><td>{}</td><td class=\"meldingstekst\">{}</td><td>{}</td><td>{}</td><td class=\"meldingstekst\">{}</td></tr>\n",
                escape(&r.received_at.oslo_minutes()),
                kind_name(lang, r.kind),
                r.text.as_deref().map_or_else(unreadable, escape),
                deadline_html(lang, r, now),
                status_name(lang, r.status),
                r.answer.as_deref().map_or_else(|| "–".to_owned(), escape),
            )
        })
        .collect();
    format!(
        "<table>\n<caption>{caption}</caption>\n<thead><tr><th scope=\"col\">{received}</th>\
         <th scope=\"col\">{kind}</th><th scope=\"col\">{text}</th><th scope=\"col\">{due}</th>\
         <th scope=\"col\">{status}</th><th scope=\"col\">{answer}</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n",
        caption = tr(lang, "Forespørslene dine, nyeste først (norsk tid)"),
        received = tr(lang, "Mottatt"),
        kind = tr(lang, "Gjelder"),
        text = tr(lang, "Det du skrev"),
        due = tr(lang, "Svarfrist"),
        status = tr(lang, "Status"),
        answer = tr(lang, "Svar fra klinikken"),
    )
}
