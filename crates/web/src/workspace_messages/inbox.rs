//! The staff inbox: the threads a member of staff may open, by `staff_inbox` (one audit
//! entry, no content, no patient names), with filters by status and «tildelt meg».

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use fortrolig_domain::access::Level;
use fortrolig_domain::messaging::ThreadStatus;
use serde::Deserialize;

use super::{Names, inbox_session, live_marker, thread_path};
use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{Lang, kind_name, status_name, tr};
use crate::respond::clinic_of;
use crate::router::AppState;
use crate::source::RequestSource;
use crate::workspace::actor;

#[derive(Debug, Deserialize)]
pub(crate) struct InboxQuery {
    status: Option<String>,
    tildelt: Option<String>,
    /// A team's id: only threads assigned to that team.
    team: Option<String>,
}

/// `GET /k/{clinic}/ansatt/innboks`: the threads this member of staff may open, with
/// filters by status and «tildelt meg».
pub(super) async fn inbox(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    Query(query): Query<InboxQuery>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let clinic = state.app.clinic(&org).await?;
    let here = format!("/k/{org}/ansatt/innboks");
    let (staff, session) = match inbox_session(
        &clinic,
        &headers,
        &here,
        state.app.now(),
        lang,
        tr(lang, "Innboksen er for behandlere og sekretærer."),
    )
    .await?
    {
        Ok(pair) => pair,
        Err(response) => return Ok(response),
    };
    let threads = clinic.staff_inbox(&actor(staff, &session, &source)).await?;
    let status = query.status.as_deref().and_then(ThreadStatus::parse);
    let mine = query.tildelt.as_deref() == Some("meg");
    let team = query
        .team
        .as_deref()
        .and_then(|t| fortrolig_domain::TeamId::parse(t).ok());
    let teams = clinic.teams().await?;
    let mut names = Names::new(&clinic, lang);
    let mut rows = String::new();
    let mut shown = 0;
    for t in threads.iter().filter(|t| {
        status.is_none_or(|s| t.status == s)
            && (!mine || t.assigned_staff == Some(staff))
            && team.is_none_or(|id| t.assigned_team == Some(id))
    }) {
        let assigned = match t.assigned_staff {
            Some(id) if id == staff => tr(lang, "Meg").to_owned(),
            Some(id) => escape(&names.of(id).await),
            None => "–".to_owned(),
        };
        rows.push_str(&format!(
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{assigned}</td></tr>\n",
            thread_path(&org, t.id),
            escape(kind_name(lang, t.kind)),
            escape(status_name(lang, t.status)),
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
                escape(status_name(lang, *s))
            )
        })
        .collect();
    let team_options: String = teams
        .iter()
        .map(|t| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                t.id,
                if team == Some(t.id) { " selected" } else { "" },
                escape(&t.name)
            )
        })
        .collect();
    let level_note = if session.level == Level::Substantial {
        format!(
            "<p class=\"advarsel\">{}</p>\n",
            tr(
                lang,
                "Du er logget inn på betydelig nivå og ser bare praktiske samtaler. \
                 <a href=\"{lenke}\">Logg inn på høyt nivå</a> \
                 for å se samtaler med helseopplysninger."
            )
            .replace(
                "{lenke}",
                &format!("/k/{org}/ansatt/innlogging?nivaa=hoy&amp;neste={here}")
            )
        )
    } else {
        String::new()
    };
    let caption = if shown == 1 {
        tr(lang, "1 samtale").to_owned()
    } else {
        tr(lang, "{n} samtaler, nyeste aktivitet først").replace("{n}", &shown.to_string())
    };
    let body = format!(
        "<h1>{title}</h1>\n{level_note}\
         <form method=\"get\" action=\"{here}\">\n<label for=\"status\">{status_label}</label>\n\
         <select id=\"status\" name=\"status\"><option value=\"\">{all}</option>{options}</select>\n\
         <label><input type=\"checkbox\" name=\"tildelt\" value=\"meg\"{checked}> {only_mine}</label>\n\
         <label for=\"team\">{team_label}</label>\n<select id=\"team\" name=\"team\"><option value=\"\">{all}</option>{team_options}</select>\n\
         <button type=\"submit\">{show}</button>\n</form>\n\
         <div id=\"innboks-liste\" aria-live=\"polite\">\n<table>\n<caption>{caption}</caption>\n\
         <thead><tr><th scope=\"col\">{thread}</th><th scope=\"col\">{status_label}</th><th scope=\"col\">{last}</th>\
         <th scope=\"col\">{unread}</th><th scope=\"col\">{assigned}</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n</div>\n\
         <p>{names_note}</p>\n\
         <p><a href=\"/k/{org}/ansatt/\">{to_workspace}</a></p>\n{live}",
        title = tr(lang, "Innboks"),
        status_label = tr(lang, "Status"),
        all = tr(lang, "Alle"),
        checked = if mine { " checked" } else { "" },
        only_mine = tr(lang, "Bare tildelt meg"),
        team_label = tr(lang, "Team"),
        show = tr(lang, "Vis"),
        thread = tr(lang, "Samtale"),
        last = tr(lang, "Sist aktivitet"),
        unread = tr(lang, "Uleste fra pasienten"),
        assigned = tr(lang, "Tildelt"),
        names_note = tr(
            lang,
            "Pasientens navn vises når du åpner samtalen; da blir oppslaget logget."
        ),
        to_workspace = tr(lang, "Til arbeidsflaten"),
        live = live_marker(&org, None),
    );
    Ok(Html(page(lang, tr(lang, "Innboks"), &body)).into_response())
}
