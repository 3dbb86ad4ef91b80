//! A thread as staff see it: subject, patient, the notice the patient saw, messages
//! with author, time and read confirmation (P5), internal notes marked, journal-worthy
//! marks (S5), recall of unread messages (S7), attachments inline (P2), the reply form
//! with templates (S8) and the thread's settings.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use fortrolig_domain::access::DataClass;
use fortrolig_domain::messaging::ThreadStatus;
use fortrolig_domain::{IncidentId, OrgNumber, StaffId, ThreadId};
use fortrolig_service::{Clinic, MessageView, ThreadView};
use serde::Deserialize;

use super::write::{template, template_picker};
use super::{Names, Reached, hex, live_marker, not_found_or, paragraph, reach, thread_path, unhex};
use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{Lang, kind_name, kind_notice, status_name, tr};
use crate::respond::clinic_of;
use crate::router::AppState;
use crate::source::RequestSource;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ThreadQuery {
    /// A reply template to put in the text box (S8).
    mal: Option<String>,
    /// What the last form did, for a short notice.
    melding: Option<String>,
    /// The draft incident a recall offered (S7), linked from the notice.
    avvik: Option<String>,
}

/// `GET /k/{clinic}/ansatt/samtale/{thread}`.
pub(super) async fn thread_page(
    State(state): State<AppState>,
    Path((clinic, thread)): Path<(String, String)>,
    Query(query): Query<ThreadQuery>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let thread = ThreadId::parse(&thread).map_err(|_| WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    let reached = match reach(&clinic, &headers, &source, thread, "samtale", lang).await? {
        Ok(reached) => reached,
        Err(response) => return Ok(response),
    };
    let draft = Draft {
        text: query
            .mal
            .as_deref()
            .and_then(template)
            .map(|t| t.text.to_owned())
            .unwrap_or_default(),
        ..Draft::default()
    };
    render_thread(
        &clinic,
        &reached,
        thread,
        &draft,
        &notice(
            lang,
            &org,
            query.melding.as_deref(),
            query
                .avvik
                .as_deref()
                .and_then(|a| IncidentId::parse(a).ok()),
        ),
        StatusCode::OK,
        lang,
    )
    .await
}

/// A short notice after a form, by the `melding` query parameter; after a recall, with
/// the link to the draft incident it offered (`avvik`).
fn notice(lang: Lang, org: &OrgNumber, what: Option<&str>, incident: Option<IncidentId>) -> String {
    let (class, text) = match what {
        Some("sendt") => ("", tr(lang, "Meldingen er sendt.")),
        Some("notat") => ("", tr(lang, "Notatet er lagret. Pasienten ser det ikke.")),
        Some("lagret") => ("", tr(lang, "Endringene er lagret.")),
        Some("journal") => ("", tr(lang, "Journalmerkingen er lagret.")),
        Some("ny") => (
            "",
            tr(
                lang,
                "Samtalen er startet, og meldingen er sendt til pasienten.",
            ),
        ),
        Some("trukket") => (
            "advarsel",
            tr(
                lang,
                "Meldingen er trukket tilbake. Pasienten ser bare at en melding ble trukket tilbake.",
            ),
        ),
        Some("lest") => (
            "advarsel",
            tr(
                lang,
                "Meldingen er allerede lest av pasienten og kan ikke trekkes tilbake. Forsøket er logget.",
            ),
        ),
        _ => return String::new(),
    };
    let class = if class.is_empty() {
        String::new()
    } else {
        format!(" class=\"{class}\"")
    };
    // Both outcomes of a recall offered a draft incident: the link is the next step.
    let draft = match (what, incident) {
        (Some("trukket" | "lest"), Some(id)) => format!(
            " <a href=\"{}\">{}</a>",
            crate::incidents::incident_path(org, id),
            escape(tr(
                lang,
                "Et utkast til avvik er laget: vurder det nå (frist 72 timer)"
            ))
        ),
        _ => String::new(),
    };
    format!("<p role=\"status\"{class}>{}{draft}</p>\n", escape(text))
}

/// One message of a thread, with its read confirmation and the forms that act on it.
fn message_item(
    org: &OrgNumber,
    thread: ThreadId,
    m: &MessageView,
    author: &str,
    csrf: &str,
    lang: Lang,
) -> String {
    let path = thread_path(org, thread);
    let id = m.id;
    let mut out = format!(
        "<li id=\"melding-{id}\">\n<h3>{} <span class=\"reference\">{}</span></h3>\n",
        escape(author),
        escape(&m.created_at.oslo_minutes())
    );
    if m.internal {
        out.push_str(&format!(
            "<p><strong>{}</strong></p>\n",
            tr(lang, "Internt notat – vises ikke for pasienten")
        ));
    }
    match (&m.text, m.recalled_at) {
        (_, Some(at)) => out.push_str(&format!(
            "<p><em>{}</em></p>\n",
            tr(lang, "Trukket tilbake {tid}").replace("{tid}", &escape(&at.oslo_minutes()))
        )),
        (Some(text), None) => out.push_str(&format!(
            "<p>{}</p>\n{}",
            paragraph(text.as_str()),
            crate::requests::corrections_html(lang, &m.corrections)
        )),
        (None, None) => {}
    }
    if m.recalled_at.is_none() {
        for (n, a) in m.attachments.iter().enumerate() {
            let href = format!("{path}/vedlegg/{}", hex(&a.id));
            let kb = a.size.div_euclid(1024).max(1);
            if a.media_type.starts_with("image/") {
                let alt = tr(lang, "Vedlegg {n}: bilde ({kb} kB)")
                    .replace("{n}", &(n + 1).to_string())
                    .replace("{kb}", &kb.to_string());
                out.push_str(&format!(
                    "<p><a href=\"{href}\"><img src=\"{href}\" alt=\"{}\"></a></p>\n",
                    escape(&alt)
                ));
            } else {
                let text = tr(
                    lang,
                    "Vedlegg {n}: PDF-dokument ({kb} kB), vises i nettleseren",
                )
                .replace("{n}", &(n + 1).to_string())
                .replace("{kb}", &kb.to_string());
                out.push_str(&format!(
                    "<p><a href=\"{href}\">{}</a></p>\n",
                    escape(&text)
                ));
            }
        }
    }
    let from_staff = m.staff_author.is_some();
    if !m.internal && m.recalled_at.is_none() {
        let read = match (from_staff, m.read_at) {
            (true, Some(at)) => {
                tr(lang, "Lest av pasienten {tid}").replace("{tid}", &at.oslo_minutes())
            }
            (true, None) => tr(lang, "Ikke lest av pasienten ennå").to_owned(),
            (false, Some(at)) => {
                tr(lang, "Lest av klinikken {tid}").replace("{tid}", &at.oslo_minutes())
            }
            (false, None) => tr(lang, "Ikke lest av klinikken før nå").to_owned(),
        };
        out.push_str(&format!("<p>{}</p>\n", escape(&read)));
    }
    if m.recalled_at.is_none() {
        out.push_str(&journal_forms(m, &path, csrf, lang));
    }
    if from_staff && !m.internal && m.read_at.is_none() && m.recalled_at.is_none() {
        out.push_str(&format!(
            "<form method=\"post\" action=\"{path}/melding/{id}/tilbakekall\">\n\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
             <button type=\"submit\">{}</button>\n</form>\n",
            tr(lang, "Trekk tilbake")
        ));
    }
    out.push_str("</li>\n");
    out
}

/// The journal mark (S5) and what can be done with it: mark, unmark, or say it has been
/// transferred to the EPJ, after which retention counts down (X4) and the mark stays.
fn journal_forms(m: &MessageView, path: &str, csrf: &str, lang: Lang) -> String {
    let id = m.id;
    let form = |value: &str, label: &str| {
        format!(
            "<form method=\"post\" action=\"{path}/melding/{id}/journal\">\n\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
             <input type=\"hidden\" name=\"verdi\" value=\"{value}\">\n\
             <button type=\"submit\">{label}</button>\n</form>\n"
        )
    };
    match (m.journal_worthy, m.transferred_at) {
        (false, _) => form("ja", tr(lang, "Merk som journalverdig")),
        (true, Some(at)) => format!(
            "<p>{}</p>\n",
            tr(
                lang,
                "<strong>Journalverdig</strong> – overført til journalen {tid}."
            )
            .replace("{tid}", &escape(&at.oslo_minutes()))
        ),
        (true, None) => format!(
            "<p>{}</p>\n{}{}",
            tr(
                lang,
                "<strong>Journalverdig</strong> – skal føres i journalen."
            ),
            form("overfort", tr(lang, "Merk som overført til journalen")),
            form("nei", tr(lang, "Fjern journalmerkingen")),
        ),
    }
}

/// The thread page: the thread (an audited read that marks the patient's messages read),
/// the reply form with `draft`, and the settings; `notice` is HTML from `notice`.
pub(super) async fn render_thread(
    clinic: &Clinic,
    reached: &Reached<'_>,
    thread: ThreadId,
    draft: &Draft,
    notice: &str,
    status: StatusCode,
    lang: Lang,
) -> Result<Response, WebError> {
    let org = clinic.org();
    let view = reached.access.thread(thread).await.map_err(not_found_or)?;
    let patient = reached.access.read_patient().await.map_err(not_found_or)?;
    let csrf = escape(reached.session.csrf_token());
    let mut names = Names::new(clinic, lang);
    let mut messages = String::new();
    for m in &view.messages {
        let author = match m.staff_author {
            Some(id) => names.of(id).await,
            None => tr(lang, "Pasienten").to_owned(),
        };
        messages.push_str(&message_item(org, thread, m, &author, &csrf, lang));
    }
    let assigned = match view.assigned_staff {
        Some(id) if id == reached.staff => tr(lang, "Meg").to_owned(),
        Some(id) => escape(&names.of(id).await),
        None => tr(lang, "Ingen").to_owned(),
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
        format!(
            "<dt>{}</dt><dd>{}</dd>\n",
            tr(lang, "Kan ikke besvares"),
            tr(lang, "Ja – pasienten kan ikke skrive mer i samtalen")
        )
    } else {
        String::new()
    };
    let restricted = if clinic.restricted(view.patient).await? {
        format!(
            "<p class=\"begrenset\"><strong>{}</strong></p>\n",
            tr(
                lang,
                "Behandling begrenset – pasienten har fått innvilget begrensning av behandlingen."
            )
        )
    } else {
        String::new()
    };
    let body = format!(
        "<h1>{subject}</h1>\n{restricted}<dl>\n<dt>{patient_label}</dt><dd>{patient_link}</dd>\n<dt>{kind_label}</dt><dd>{kind}</dd>\n\
         <dt>{status_label}</dt><dd>{state}</dd>\n<dt>{assigned_label}</dt><dd>{assigned}</dd>\n{cannot}</dl>\n{notice}\
         <h2>{presented}</h2>\n<p>{default_notice}</p>\n\
         <h2>{messages_title}</h2>\n<ol id=\"meldinger\" aria-live=\"polite\">\n{messages}</ol>\n\
         {reply}\n{settings}\n\
         <p><a href=\"/k/{org}/ansatt/innboks\">{to_inbox}</a></p>\n{live}",
        subject = escape(view.subject.as_str()),
        patient_label = tr(lang, "Pasient"),
        kind_label = tr(lang, "Type"),
        status_label = tr(lang, "Status"),
        assigned_label = tr(lang, "Tildelt"),
        presented = tr(lang, "Slik ble samtalen presentert for pasienten"),
        messages_title = tr(lang, "Meldinger"),
        to_inbox = tr(lang, "Til innboksen"),
        kind = escape(kind_name(lang, view.kind)),
        state = escape(status_name(lang, view.status)),
        default_notice = escape(kind_notice(lang, view.kind)),
        reply = reply_form(org, thread, &csrf, draft, lang),
        settings = settings_form(
            &thread_path(org, thread),
            &csrf,
            &view,
            reached.staff,
            &assigned,
            &team_options(clinic, view.assigned_team, lang).await?,
            lang,
        ),
        live = live_marker(org, Some(thread)),
    );
    Ok((status, Html(page(lang, tr(lang, "Samtale"), &body))).into_response())
}

/// `GET /k/{clinic}/ansatt/samtale/{thread}/vedlegg/{id}`: an attachment, shown inline.
pub(super) async fn attachment(
    State(state): State<AppState>,
    Path((clinic, thread, id)): Path<(String, String, String)>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let thread = ThreadId::parse(&thread).map_err(|_| WebError::NotFound)?;
    let id = unhex(&id).ok_or(WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    let reached = match reach(&clinic, &headers, &source, thread, "vedlegg", lang).await? {
        Ok(reached) => reached,
        Err(response) => return Ok(response),
    };
    let opened = reached
        .access
        .attachment(thread, &id)
        .await
        .map_err(not_found_or)?;
    crate::respond::attachment(opened)
}

/// What was typed in the reply form, and what was wrong with it.
#[derive(Debug, Default)]
pub(super) struct Draft {
    pub text: String,
    pub internal: bool,
    pub error: Option<String>,
}

pub(super) fn error_line(error: Option<&str>) -> String {
    error.map_or_else(String::new, |e| {
        format!(
            "<p class=\"advarsel\" role=\"alert\" id=\"feil\">{}</p>\n",
            escape(e)
        )
    })
}

fn reply_form(org: &OrgNumber, thread: ThreadId, csrf: &str, draft: &Draft, lang: Lang) -> String {
    let path = thread_path(org, thread);
    format!(
        "<h2 id=\"svar\">{title}</h2>\n{picker}\
         <form method=\"post\" action=\"{path}/svar\" enctype=\"multipart/form-data\" autocomplete=\"off\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n{error}\
         <label for=\"tekst\">{message}</label>\n\
         <textarea id=\"tekst\" name=\"tekst\" rows=\"6\" autocomplete=\"off\" required>{text}</textarea>\n\
         <label><input type=\"checkbox\" name=\"internt\" value=\"ja\"{checked}> {internal}</label>\n\
         <label for=\"vedlegg\">{attachment}</label>\n\
         <input type=\"file\" id=\"vedlegg\" name=\"vedlegg\" accept=\"image/png,image/jpeg,image/gif,image/webp,application/pdf\">\n\
         <button type=\"submit\">{send}</button>\n</form>\n",
        title = tr(lang, "Svar"),
        message = tr(lang, "Melding"),
        internal = tr(lang, "Internt notat (vises ikke for pasienten)"),
        attachment = tr(lang, "Vedlegg (valgfritt): bilde eller PDF, høyst 10 MB"),
        send = tr(lang, "Send"),
        picker = template_picker(&format!("{path}#svar"), lang),
        error = error_line(draft.error.as_deref()),
        text = escape(&draft.text),
        checked = if draft.internal { " checked" } else { "" },
    )
}

/// The clinic's teams as `<option>`s, the assigned one selected, «Ingen team» first.
async fn team_options(
    clinic: &Clinic,
    assigned: Option<fortrolig_domain::TeamId>,
    lang: Lang,
) -> Result<String, WebError> {
    let mut out = format!(
        "<option value=\"\"{}>{}</option>",
        if assigned.is_none() { " selected" } else { "" },
        tr(lang, "Ingen team")
    );
    for team in clinic.teams().await? {
        out.push_str(&format!(
            "<option value=\"{}\"{}>{}</option>",
            team.id,
            if assigned == Some(team.id) {
                " selected"
            } else {
                ""
            },
            escape(&team.name)
        ));
    }
    Ok(out)
}

/// The settings form; `path` is the thread's.
fn settings_form(
    path: &str,
    csrf: &str,
    view: &ThreadView,
    me: StaffId,
    assigned_name: &str,
    teams: &str,
    lang: Lang,
) -> String {
    let statuses: String = ThreadStatus::ALL
        .iter()
        .map(|s| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                s.as_str(),
                if view.status == *s { " selected" } else { "" },
                escape(status_name(lang, *s))
            )
        })
        .collect();
    let selected = |yes: bool| if yes { " selected" } else { "" };
    let other = match view.assigned_staff {
        Some(id) if id != me => {
            format!(
                "<option value=\"{id}\" selected>{}</option>",
                tr(lang, "{navn} (som nå)").replace("{navn}", assigned_name)
            )
        }
        _ => String::new(),
    };
    format!(
        "<h2>{title}</h2>\n\
         <form method=\"post\" action=\"{path}/innstillinger\">\n<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <label for=\"status-samtale\">{status}</label>\n<select id=\"status-samtale\" name=\"status\">{statuses}</select>\n\
         <label for=\"tildelt\">{assigned}</label>\n<select id=\"tildelt\" name=\"tildelt\">{other}\
         <option value=\"meg\"{me_selected}>{me}</option><option value=\"ingen\"{none_selected}>{none}</option></select>\n\
         <label for=\"team\">{team}</label>\n<select id=\"team\" name=\"team\">{teams}</select>\n\
         <label><input type=\"checkbox\" name=\"kan_ikke_besvares\" value=\"ja\"{checked}> {cannot}</label>\n\
         <button type=\"submit\">{save}</button>\n</form>\n",
        title = tr(lang, "Innstillinger for samtalen"),
        status = tr(lang, "Status"),
        assigned = tr(lang, "Tildelt"),
        me_selected = selected(view.assigned_staff == Some(me)),
        me = tr(lang, "Meg"),
        none_selected = selected(view.assigned_staff.is_none()),
        none = tr(lang, "Ingen"),
        team = tr(lang, "Team"),
        checked = if view.cannot_answer { " checked" } else { "" },
        cannot = tr(
            lang,
            "Kan ikke besvares (pasienten kan ikke skrive mer i samtalen)"
        ),
        save = tr(lang, "Lagre"),
    )
}
