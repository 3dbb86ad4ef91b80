//! The thread page: the messages with who wrote them and when, read confirmations (P5),
//! recalled messages, attachments inline (P2), and the reply form or why there is none.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use fortrolig_domain::attachment::MediaType;
use fortrolig_domain::messaging::ThreadStatus;
use fortrolig_domain::{OrgNumber, StaffId, ThreadId, Timestamp};
use fortrolig_service::{Clinic, MessageView, ThreadView};

use super::draft::Draft;
use super::{Visit, hex, inbox_path, live, thread_path, write};
use crate::html::{escape, page};
use crate::i18n::{Lang, kind_name, kind_notice, role_name, status_name, tr};
use crate::router::AppState;

/// Names and roles of the staff who wrote in a thread, looked up once per page.
async fn authors(
    lang: Lang,
    clinic: &Clinic,
    view: &ThreadView,
    now: Timestamp,
) -> HashMap<StaffId, String> {
    let mut names = HashMap::new();
    for id in view.messages.iter().filter_map(|m| m.staff_author) {
        if names.contains_key(&id) {
            continue;
        }
        let name = match clinic.staff_member(id).await {
            Ok(staff) => staff.name.as_str().to_owned(),
            Err(_) => tr(lang, "Klinikken").to_owned(),
        };
        let roles: Vec<&str> = clinic
            .roles_at(id, now)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|r| role_name(lang, r))
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

fn attachments_html(lang: Lang, org: &OrgNumber, thread: ThreadId, m: &MessageView) -> String {
    let mut out = String::new();
    for a in &m.attachments {
        let href = format!("{}/vedlegg/{}", thread_path(org, thread), hex(&a.id));
        let media = MediaType::ALL
            .into_iter()
            .find(|t| t.as_mime() == a.media_type);
        match media {
            Some(t) if t.is_image() => out.push_str(&format!(
                "<figure><img src=\"{href}\" alt=\"{}\">\
                 <figcaption><a href=\"{href}\">{}</a></figcaption></figure>\n",
                tr(lang, "Vedlagt bilde ({type}, {size})")
                    .replace("{type}", &t.extension().to_uppercase())
                    .replace("{size}", &kib(a.size)),
                tr(lang, "Åpne bildet alene"),
            )),
            _ => out.push_str(&format!(
                "<p>{}</p>\n",
                tr(
                    lang,
                    "<a href=\"{href}\">Åpne vedlagt PDF ({size})</a> – den åpnes i nettleseren."
                )
                .replace("{href}", &href)
                .replace("{size}", &kib(a.size)),
            )),
        }
    }
    out
}

/// The messages of a thread as a list; the live script replaces it (`id="samtale"`).
fn messages_html(
    lang: Lang,
    org: &OrgNumber,
    view: &ThreadView,
    names: &HashMap<StaffId, String>,
) -> String {
    let mut items = String::new();
    for m in &view.messages {
        let who = match m.staff_author {
            None => tr(lang, "Du").to_owned(),
            Some(id) => names
                .get(&id)
                .cloned()
                .unwrap_or_else(|| tr(lang, "Klinikken").into()),
        };
        let content = match &m.text {
            Some(text) => format!(
                "<p>{}</p>\n{}{}",
                paragraphs(text.as_str()),
                crate::requests::corrections_html(lang, &m.corrections),
                attachments_html(lang, org, view.id, m)
            ),
            None => format!(
                "<p><em>{}</em></p>\n",
                tr(lang, "Meldingen er trukket tilbake av klinikken.")
            ),
        };
        let read = match (m.staff_author, m.read_at) {
            (None, Some(at)) => format!(
                "<p class=\"lest\">{}</p>\n",
                tr(lang, "Lest av klinikken {tid}").replace("{tid}", &escape(&at.oslo_minutes()))
            ),
            (None, None) => format!(
                "<p class=\"lest\">{}</p>\n",
                tr(lang, "Ikke lest av klinikken ennå")
            ),
            (Some(_), _) => String::new(),
        };
        items.push_str(&format!(
            "<li><article>\n<h3>{} <span class=\"reference\">{}</span></h3>\n{content}{read}</article></li>\n",
            escape(&who),
            escape(&m.created_at.oslo_minutes()),
        ));
    }
    format!(
        "<p>{}</p>\n<h2>{}</h2>\n<ol class=\"meldinger\">\n{items}</ol>",
        tr(lang, "Status: {status}").replace("{status}", status_name(lang, view.status)),
        tr(lang, "Meldinger"),
    )
}

/// What the thread page shows under the messages: the reply form, or why there is none.
/// `error` and `kept` re-show a refused reply with the text the patient wrote.
fn reply_html(
    visit: &Visit,
    view: &ThreadView,
    error: Option<&write::Problems>,
    kept: &str,
    refused: bool,
) -> String {
    let lang = visit.lang;
    let why = if refused {
        Some(tr(
            lang,
            "Du har sagt nei til meldinger med klinikken. Du kan endre samtykket under «Samtykke».",
        ))
    } else if view.cannot_answer {
        Some(tr(
            lang,
            "Klinikken har merket at denne samtalen ikke kan besvares her. Har du noe nytt å \
              spørre om, skriv en ny melding, eller ring klinikken. Ved akutt sykdom, ring 113.",
        ))
    } else if view.status == ThreadStatus::Closed {
        Some(tr(
            lang,
            "Samtalen er avsluttet av klinikken. Skriv en ny melding om du har mer på hjertet.",
        ))
    } else {
        None
    };
    if let Some(why) = why {
        // A reply refused because the thread closed meanwhile: its text is still shown.
        let kept = if kept.trim().is_empty() {
            String::new()
        } else {
            format!(
                "<label for=\"tekst\">{}</label>\n\
                 <textarea id=\"tekst\" readonly autocomplete=\"off\">{}</textarea>\n",
                tr(lang, "Teksten du skrev (ikke sendt)"),
                escape(kept)
            )
        };
        return format!(
            "<h2>{}</h2>\n{}<p>{why}</p>\n{kept}<p><a href=\"/k/{}/meldinger/ny\">{}</a></p>",
            tr(lang, "Svar"),
            error.map(|e| e.summary(lang)).unwrap_or_default(),
            visit.org,
            tr(lang, "Skriv en ny melding"),
        );
    }
    format!(
        "<h2 id=\"svar-overskrift\">{}</h2>\n{}\
         <form method=\"post\" action=\"{}\" enctype=\"multipart/form-data\" autocomplete=\"off\" aria-labelledby=\"svar-overskrift\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\n{}\
         <button type=\"submit\">{}</button>\n</form>",
        tr(lang, "Svar"),
        error.map(|e| e.summary(lang)).unwrap_or_default(),
        thread_path(&visit.org, view.id),
        visit.csrf(),
        write::text_and_file_fields(lang, kept, error),
        tr(lang, "Send svaret"),
    )
}

/// The whole thread page. `status` is 200, or 422 when a refused reply is shown again
/// from its `draft`.
pub(super) async fn thread_page(
    state: &AppState,
    visit: &Visit,
    view: &ThreadView,
    draft: Option<&Draft>,
) -> Response {
    let (error, kept) = match draft {
        Some(d) => (Some(&d.problems), d.text.as_str()),
        None => (None, ""),
    };
    let org = &visit.org;
    let lang = visit.lang;
    let names = authors(lang, &visit.clinic, view, state.app.now()).await;
    // A failed read of the choices shows the form; the service refuses the reply anyway.
    let refused = visit.messaging_refused().await.unwrap_or(false);
    let body = format!(
        "<p><a href=\"{inbox}\">{back}</a></p>\n\
         <h1>{subject}</h1>\n<p>{kind}</p>\n\
         <aside aria-labelledby=\"om-kanalen\" class=\"advarsel\">\n<h2 id=\"om-kanalen\">{about}</h2>\n\
         <p>{notice}</p>\n</aside>\n\
         <p id=\"direkte-status\" role=\"status\"></p>\n\
         <div id=\"samtale\" data-strom=\"/k/{org}/meldinger/strom\" data-samtale=\"{id}\">\n{messages}\n</div>\n\
         {reply}\n{script}",
        inbox = inbox_path(org),
        back = tr(lang, "Tilbake til meldingene"),
        about = tr(lang, "Om denne kanalen"),
        subject = escape(view.subject.as_str()),
        kind = escape(kind_name(lang, view.kind)),
        notice = escape(kind_notice(lang, view.kind)),
        id = view.id,
        messages = messages_html(lang, org, view, &names),
        reply = reply_html(visit, view, error, kept, refused),
        script = live::SCRIPT_TAG,
    );
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    // The title goes into the browser's history: never the subject (P2).
    (status, Html(page(lang, tr(lang, "Samtale"), &body))).into_response()
}
