//! The clinic's incident register (avvik; C4, S7): `/k/{clinic}/ansatt/avvik` lists the
//! incidents a member of staff may open, drafts first with the 72-hour clock;
//! `/k/{clinic}/ansatt/avvik/{id}` opens one through `incident_access` (an audited
//! read), where a draft is assessed and a registered incident followed up.
//!
//! Decisions:
//! - A recall offers the draft (S7); the thread page links to it at once, so the person
//!   who saw what went wrong assesses it while they remember.
//! - An assessment needs a choice, a text, and for an incident its risk: a form without
//!   them is shown again with 422, with what was typed, and nothing is stored.
//! - The clock is shown as the deadline and the whole hours left, from when the clinic
//!   knew (the recall), for drafts and for incidents whose risk calls for a report.

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use fortrolig_domain::incidents::{self, FollowUp, IncidentOrigin, IncidentStatus, Risk};
use fortrolig_domain::messaging::{MessageText, TextError};
use fortrolig_domain::{IncidentId, OrgNumber, Timestamp};
use fortrolig_service::{
    AccessError, Assessment, Clinic, HealthAccess, IncidentRecord, ServiceError,
};
use serde::Deserialize;

use crate::error::WebError;
use crate::html::{checked, escape, page};
use crate::i18n::{Lang, text_error, tr};
use crate::respond::{clinic_of, see_other};
use crate::router::AppState;
use crate::source::RequestSource;
use crate::workspace::{actor, refuse_in, staff_session, step_up};
use crate::workspace_messages::{Names, inbox_session};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/k/{clinic}/ansatt/avvik", get(list))
        .route("/k/{clinic}/ansatt/avvik/{id}", get(show))
        .route("/k/{clinic}/ansatt/avvik/{id}/vurdering", post(assess))
        .route("/k/{clinic}/ansatt/avvik/{id}/oppfolging", post(follow_up))
}

fn list_path(org: &OrgNumber) -> String {
    format!("/k/{org}/ansatt/avvik")
}

pub(crate) fn incident_path(org: &OrgNumber, id: IncidentId) -> String {
    format!("/k/{org}/ansatt/avvik/{id}")
}

fn origin_name(lang: Lang, origin: IncidentOrigin) -> &'static str {
    match origin {
        IncidentOrigin::Recall => tr(lang, "Melding trukket tilbake før den ble lest"),
        IncidentOrigin::RecallTooLate => tr(lang, "Melding lest før den kunne trekkes tilbake"),
    }
}

fn status_name(lang: Lang, status: IncidentStatus) -> &'static str {
    match status {
        IncidentStatus::Draft => tr(lang, "Utkast, ikke vurdert"),
        IncidentStatus::Registered => tr(lang, "Registrert avvik"),
        IncidentStatus::Discarded => tr(lang, "Forkastet, ikke et avvik"),
    }
}

fn risk_name(lang: Lang, risk: Risk) -> &'static str {
    match risk {
        Risk::Low => tr(lang, "Lav"),
        Risk::Medium => tr(lang, "Middels"),
        Risk::High => tr(lang, "Høy"),
    }
}

fn follow_up_done(lang: Lang, follow_up: FollowUp) -> &'static str {
    match follow_up {
        FollowUp::Reported => tr(lang, "Meldt til Datatilsynet {dato}"),
        FollowUp::PatientTold => tr(lang, "Pasienten varslet {dato}"),
    }
}

/// The 72-hour clock as a cell: the deadline and the hours left, once it applies.
fn clock_html(lang: Lang, r: &IncidentRecord, now: Timestamp) -> String {
    let running = match (r.status, r.risk) {
        (IncidentStatus::Draft, _) => true,
        (IncidentStatus::Registered, Some(risk)) => risk.must_report() && r.reported_at.is_none(),
        _ => false,
    };
    if let Some(at) = r.reported_at {
        return escape(
            &follow_up_done(lang, FollowUp::Reported).replace("{dato}", &at.oslo_minutes()),
        );
    }
    if !running {
        return tr(lang, "Skal ikke meldes").to_owned();
    }
    let date = escape(&r.report_by.oslo_minutes());
    let left = incidents::hours_left(r.report_by, now);
    if left <= 0 && now >= r.report_by {
        format!(
            "{date} <strong class=\"forfalt\">{}</strong>",
            tr(lang, "Fristen er passert")
        )
    } else {
        format!(
            "{date} ({})",
            tr(lang, "{n} timer igjen").replace("{n}", &left.to_string())
        )
    }
}

/// `GET /k/{clinic}/ansatt/avvik`.
async fn list(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let clinic = state.app.clinic(&org).await?;
    let now = state.app.now();
    let denied = tr(
        lang,
        "Rollen din gir ikke tilgang til avviksregisteret. Forsøket er logget.",
    );
    let (staff, session) =
        match inbox_session(&clinic, &headers, &list_path(&org), now, lang, denied).await? {
            Ok(pair) => pair,
            Err(response) => return Ok(response),
        };
    let register = clinic
        .incidents_for_staff(&actor(staff, &session, &source))
        .await?;
    let rows: String = register
        .iter()
        .map(|r| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><a href=\"{}\">{}</a></td></tr>\n",
                escape(&r.known_at.oslo_minutes()),
                origin_name(lang, r.origin),
                status_name(lang, r.status),
                r.risk.map_or_else(|| tr(lang, "Ikke vurdert"), |risk| risk_name(lang, risk)),
                clock_html(lang, r, now),
                incident_path(&org, r.id),
                tr(lang, "Åpne avviket"),
            )
        })
        .collect();
    let drafts = register
        .iter()
        .filter(|r| r.status == IncidentStatus::Draft)
        .count();
    let body = format!(
        "<h1>{title}</h1>\n<p>{summary}</p>\n<p>{rule}</p>\n\
         <table>\n<caption>{caption}</caption>\n<thead><tr><th scope=\"col\">{known}</th>\
         <th scope=\"col\">{what}</th><th scope=\"col\">{status}</th><th scope=\"col\">{risk}</th>\
         <th scope=\"col\">{due}</th><th scope=\"col\">{open_col}</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n\
         <p><a href=\"/k/{org}/ansatt/\">{back}</a></p>",
        title = tr(lang, "Avvik"),
        summary = tr(lang, "{n} utkast venter på vurdering.").replace("{n}", &drafts.to_string()),
        rule = tr(
            lang,
            "Et avvik med middels eller høy risiko for pasienten meldes til Datatilsynet innen 72 timer etter at klinikken fikk vite om det. Ved høy risiko varsles også pasienten."
        ),
        caption = tr(
            lang,
            "Utkast først, eldste først, deretter vurderte avvik, nyeste først (norsk tid)"
        ),
        known = tr(lang, "Kjent fra"),
        what = tr(lang, "Hendelse"),
        status = tr(lang, "Status"),
        risk = tr(lang, "Risiko for pasienten"),
        due = tr(lang, "Frist for melding til Datatilsynet"),
        open_col = tr(lang, "Avvik"),
        back = tr(lang, "Tilbake"),
    );
    Ok(Html(page(lang, tr(lang, "Avvik"), &body)).into_response())
}

/// The incident's patient, reached through the access rule, or the page to show instead.
/// A form's token (`csrf`) must be the session's.
async fn reach<'c>(
    clinic: &'c Clinic,
    headers: &HeaderMap,
    source: &RequestSource,
    id: IncidentId,
    lang: Lang,
    csrf: Option<&str>,
) -> Result<Result<(HealthAccess<'c>, String), Response>, WebError> {
    let org = clinic.org();
    let here = incident_path(org, id);
    let (staff, session) = match staff_session(clinic, headers, &here).await? {
        Ok(pair) => pair,
        Err(login) => return Ok(Err(login)),
    };
    if csrf.is_some_and(|token| !session.csrf_matches(token)) {
        return Err(WebError::Forbidden);
    }
    match clinic
        .incident_access(&actor(staff, &session, source), id, "avvik")
        .await
    {
        Ok(access) => Ok(Ok((access, session.csrf_token().to_owned()))),
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
        Err(AccessError::Service(ServiceError::Invalid(_))) => Err(WebError::NotFound),
        Err(AccessError::Service(e)) => Err(e.into()),
    }
}

fn not_found_or(e: ServiceError) -> WebError {
    match e {
        ServiceError::Invalid(_) | ServiceError::NoSuchPatient => WebError::NotFound,
        e => e.into(),
    }
}

/// What the assessment form held, to show it again after a refusal.
#[derive(Debug, Default, Deserialize)]
struct AssessForm {
    csrf: String,
    beslutning: Option<String>,
    risiko: Option<String>,
    beskrivelse: Option<String>,
}

/// The assessment form of a draft, filled with what was typed before.
fn assess_form(
    lang: Lang,
    org: &OrgNumber,
    r: &IncidentRecord,
    csrf: &str,
    typed: &AssessForm,
) -> String {
    let risks: String = Risk::ALL
        .into_iter()
        .map(|risk| {
            let hint = if risk.must_tell_patient() {
                tr(lang, "meldes til Datatilsynet innen 72 timer, og pasienten varsles")
            } else if risk.must_report() {
                tr(lang, "meldes til Datatilsynet innen 72 timer")
            } else {
                tr(lang, "meldes ikke videre")
            };
            let value = risk.as_str();
            format!(
                "<p><input type=\"radio\" id=\"risiko-{value}\" name=\"risiko\" value=\"{value}\"{}>\n\
                 <label for=\"risiko-{value}\">{} – {hint}</label></p>\n",
                checked(typed.risiko.as_deref(), value),
                risk_name(lang, risk),
            )
        })
        .collect();
    let decision = typed.beslutning.as_deref();
    format!(
        "<h2>{title}</h2>\n<form method=\"post\" action=\"{path}/vurdering\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <fieldset>\n<legend>{l_decision}</legend>\n\
         <p><input type=\"radio\" id=\"registrer\" name=\"beslutning\" value=\"registrer\" required{c_reg}>\n<label for=\"registrer\">{register}</label></p>\n\
         <p><input type=\"radio\" id=\"forkast\" name=\"beslutning\" value=\"forkast\"{c_disc}>\n<label for=\"forkast\">{discard}</label></p>\n\
         </fieldset>\n<fieldset>\n<legend>{l_risk}</legend>\n{risks}</fieldset>\n\
         <p><label for=\"beskrivelse\">{l_text}</label>\n\
         <textarea id=\"beskrivelse\" name=\"beskrivelse\" rows=\"6\" autocomplete=\"off\" required>{text}</textarea></p>\n\
         <button type=\"submit\">{save}</button>\n</form>\n",
        title = tr(lang, "Vurdering"),
        path = incident_path(org, r.id),
        csrf = escape(csrf),
        l_decision = tr(lang, "Er dette et avvik?"),
        register = tr(lang, "Ja, registrer avviket"),
        c_reg = checked(decision, "registrer"),
        discard = tr(lang, "Nei, forkast utkastet"),
        c_disc = checked(decision, "forkast"),
        l_risk = tr(lang, "Risiko for pasienten (når det er et avvik)"),
        l_text = tr(
            lang,
            "Hva skjedde, og hva er gjort? Ved forkasting: hvorfor er det ikke et avvik?"
        ),
        text = escape(typed.beskrivelse.as_deref().unwrap_or("")),
        save = tr(lang, "Lagre vurderingen"),
    )
}

/// The follow-ups of a registered incident: those on record, and a button for each due.
fn follow_ups_html(lang: Lang, org: &OrgNumber, r: &IncidentRecord, csrf: &str) -> String {
    let Some(risk) = r.risk.filter(|_| r.status == IncidentStatus::Registered) else {
        return String::new();
    };
    let mut out = String::new();
    for f in FollowUp::ALL.into_iter().filter(|f| f.needed_for(risk)) {
        match r.followed_up_at(f) {
            Some(at) => out.push_str(&format!(
                "<p>{}</p>\n",
                escape(&follow_up_done(lang, f).replace("{dato}", &at.oslo_minutes()))
            )),
            None => out.push_str(&format!(
                "<form method=\"post\" action=\"{action}/oppfolging\">\n\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
                 <input type=\"hidden\" name=\"oppfolging\" value=\"{value}\">\n\
                 <button type=\"submit\">{label}</button>\n</form>\n",
                action = incident_path(org, r.id),
                csrf = escape(csrf),
                value = f.as_str(),
                label = match f {
                    FollowUp::Reported =>
                        tr(lang, "Registrer at avviket er meldt til Datatilsynet"),
                    FollowUp::PatientTold => tr(lang, "Registrer at pasienten er varslet"),
                },
            )),
        }
    }
    if out.is_empty() {
        return String::new();
    }
    format!(
        "<h2>{}</h2>\n<p>{}</p>\n{out}",
        tr(lang, "Oppfølging"),
        tr(
            lang,
            "Datatilsynet tar imot avviksmeldinger i sitt skjema i Altinn. Registrer her når det er gjort."
        ),
    )
}

/// The incident page; `notice` is a short notice, `typed` the assessment form's values
/// with the session's CSRF token.
async fn render(
    state: &AppState,
    lang: Lang,
    clinic: &Clinic,
    access: &HealthAccess<'_>,
    id: IncidentId,
    notice: Option<&str>,
    typed: &AssessForm,
) -> Result<String, WebError> {
    let org = clinic.org();
    let csrf = typed.csrf.as_str();
    let r = access.incident(id).await.map_err(not_found_or)?;
    let now = state.app.now();
    let mut names = Names::new(clinic, lang);
    let created_by = match r.created_by {
        Some(s) => escape(&names.of(s).await),
        None => tr(lang, "Ukjent ansatt").to_owned(),
    };
    let notice = notice
        .map(|n| format!("<p role=\"status\"><strong>{}</strong></p>\n", escape(n)))
        .unwrap_or_default();
    let about = match (r.thread, r.message) {
        (Some(t), Some(m)) => format!(
            "<a href=\"/k/{org}/ansatt/samtale/{t}#melding-{m}\">{}</a>",
            tr(lang, "Meldingen i samtalen")
        ),
        _ => tr(lang, "Samtalen er slettet").to_owned(),
    };
    let explained = match r.origin {
        IncidentOrigin::Recall => tr(
            lang,
            "En melding til pasienten ble trukket tilbake før pasienten leste den. Vurder om den gikk til feil pasient eller sa noe den ikke skulle, og om noen kan ha sett den.",
        ),
        IncidentOrigin::RecallTooLate => tr(
            lang,
            "Noen prøvde å trekke tilbake en melding som pasienten allerede hadde lest. Var den sendt til feil pasient eller sa noe den ikke skulle, er den kommet fram.",
        ),
    };
    let decided = match (r.decided_at, r.decided_by) {
        (Some(at), by) => {
            let by = match by {
                Some(s) => names.of(s).await,
                None => tr(lang, "Ukjent ansatt").to_owned(),
            };
            format!(
                "<dt>{}</dt><dd>{}</dd>\n",
                tr(lang, "Vurdert"),
                escape(&format!("{}, {by}", at.oslo_minutes()))
            )
        }
        (None, _) => String::new(),
    };
    let rest = match r.status {
        IncidentStatus::Draft => assess_form(lang, org, &r, csrf, typed),
        IncidentStatus::Registered | IncidentStatus::Discarded => format!(
            "<h2>{}</h2>\n<p>{}</p>\n{}",
            if r.status == IncidentStatus::Registered {
                tr(lang, "Hva skjedde, og hva er gjort")
            } else {
                tr(lang, "Hvorfor det ikke er et avvik")
            },
            r.description
                .as_deref()
                .map(|d| escape(d).replace('\n', "<br>\n"))
                .unwrap_or_default(),
            follow_ups_html(lang, org, &r, csrf),
        ),
    };
    Ok(format!(
        "<h1>{title}</h1>\n{notice}<p>{explained}</p>\n<dl>\n\
         <dt>{l_status}</dt><dd>{status}</dd>\n<dt>{l_known}</dt><dd>{known}</dd>\n\
         <dt>{l_by}</dt><dd>{created_by}</dd>\n<dt>{l_about}</dt><dd>{about}</dd>\n\
         <dt>{l_risk}</dt><dd>{risk}</dd>\n<dt>{l_due}</dt><dd>{due}</dd>\n{decided}</dl>\n\
         {rest}<p><a href=\"{list}\">{back}</a></p>",
        title = origin_name(lang, r.origin),
        l_status = tr(lang, "Status"),
        status = status_name(lang, r.status),
        l_known = tr(lang, "Kjent fra"),
        known = escape(&r.known_at.oslo_minutes()),
        l_by = tr(lang, "Utkast laget av"),
        l_about = tr(lang, "Gjelder"),
        l_risk = tr(lang, "Risiko for pasienten"),
        risk = r
            .risk
            .map_or_else(|| tr(lang, "Ikke vurdert"), |risk| risk_name(lang, risk)),
        l_due = tr(lang, "Frist for melding til Datatilsynet"),
        due = clock_html(lang, &r, now),
        list = list_path(org),
        back = tr(lang, "Til avviksregisteret"),
    ))
}

#[derive(Debug, Deserialize)]
struct ShowQuery {
    lagret: Option<String>,
}

fn target(clinic: &str, id: &str) -> Result<(OrgNumber, IncidentId), WebError> {
    Ok((
        clinic_of(clinic)?,
        IncidentId::parse(id).map_err(|_| WebError::NotFound)?,
    ))
}

fn incident_page(lang: Lang, status: StatusCode, body: &str) -> Response {
    (status, Html(page(lang, tr(lang, "Avvik"), body))).into_response()
}

/// `GET /k/{clinic}/ansatt/avvik/{id}`.
async fn show(
    State(state): State<AppState>,
    Path((clinic, id)): Path<(String, String)>,
    Query(query): Query<ShowQuery>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let (org, id) = target(&clinic, &id)?;
    let clinic = state.app.clinic(&org).await?;
    let (access, csrf) = match reach(&clinic, &headers, &source, id, lang, None).await? {
        Ok(pair) => pair,
        Err(response) => return Ok(response),
    };
    let notice = query
        .lagret
        .is_some()
        .then(|| tr(lang, "Avviket er lagret."));
    let body = render(
        &state,
        lang,
        &clinic,
        &access,
        id,
        notice,
        &AssessForm {
            csrf,
            ..AssessForm::default()
        },
    )
    .await?;
    Ok(incident_page(lang, StatusCode::OK, &body))
}

/// `POST /k/{clinic}/ansatt/avvik/{id}/vurdering`.
async fn assess(
    State(state): State<AppState>,
    Path((clinic, id)): Path<(String, String)>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<AssessForm>,
) -> Result<Response, WebError> {
    let (org, id) = target(&clinic, &id)?;
    let clinic = state.app.clinic(&org).await?;
    let (access, csrf) = match reach(&clinic, &headers, &source, id, lang, Some(&form.csrf)).await?
    {
        Ok(pair) => pair,
        Err(response) => return Ok(response),
    };
    let text = form.beskrivelse.as_deref().unwrap_or("").trim().to_owned();
    let risk = form.risiko.as_deref().and_then(Risk::parse);
    let choice = form
        .beslutning
        .as_deref()
        .filter(|c| matches!(*c, "registrer" | "forkast"));
    // The text is checked as the service will check it (a message's limits), so that a
    // refusal from the service below can only mean the draft was assessed meanwhile.
    let decided = match (choice, risk, MessageText::parse(&text)) {
        (None, _, _) => Err(tr(lang, "Velg om dette er et avvik. Ingenting er lagret.").to_owned()),
        (Some(_), _, Err(TextError::Empty)) => Err(tr(
            lang,
            "Skriv hva som skjedde, eller hvorfor det ikke er et avvik. Ingenting er lagret.",
        )
        .to_owned()),
        (Some(_), _, Err(e)) => Err(text_error(lang, &e)),
        (Some("registrer"), None, Ok(_)) => {
            Err(tr(lang, "Velg risikoen for pasienten. Ingenting er lagret.").to_owned())
        }
        (Some("registrer"), Some(risk), Ok(_)) => Ok(Assessment::Register {
            description: text,
            risk,
        }),
        (Some(_), _, Ok(_)) => Ok(Assessment::Discard { reason: text }),
    };
    let (status, notice) = match decided {
        Ok(assessment) => match access.assess_incident(id, assessment).await {
            Ok(_) => {
                return Ok(see_other(
                    &format!("{}?lagret=ja", incident_path(&org, id)),
                    None,
                ));
            }
            Err(ServiceError::Invalid(_)) => (
                StatusCode::CONFLICT,
                tr(lang, "Avviket er allerede vurdert. Ingenting er endret.").to_owned(),
            ),
            Err(e) => return Err(e.into()),
        },
        Err(why) => (StatusCode::UNPROCESSABLE_ENTITY, why),
    };
    let body = render(
        &state,
        lang,
        &clinic,
        &access,
        id,
        Some(&notice),
        &AssessForm { csrf, ..form },
    )
    .await?;
    Ok(incident_page(lang, status, &body))
}

#[derive(Debug, Deserialize)]
struct FollowUpForm {
    csrf: String,
    oppfolging: String,
}

/// `POST /k/{clinic}/ansatt/avvik/{id}/oppfolging`: one not due, or recorded already,
/// is refused with 409 and changes nothing.
async fn follow_up(
    State(state): State<AppState>,
    Path((clinic, id)): Path<(String, String)>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<FollowUpForm>,
) -> Result<Response, WebError> {
    let (org, id) = target(&clinic, &id)?;
    let clinic = state.app.clinic(&org).await?;
    let (access, csrf) = match reach(&clinic, &headers, &source, id, lang, Some(&form.csrf)).await?
    {
        Ok(pair) => pair,
        Err(response) => return Ok(response),
    };
    let done = match FollowUp::parse(&form.oppfolging) {
        Some(f) => access.follow_up_incident(id, f).await,
        None => Err(ServiceError::Invalid("unknown follow-up".into())),
    };
    match done {
        Ok(()) => Ok(see_other(
            &format!("{}?lagret=ja", incident_path(&org, id)),
            None,
        )),
        Err(ServiceError::Invalid(_)) => {
            let why = tr(
                lang,
                "Denne oppfølgingen er allerede registrert, eller avviket trenger den ikke. Ingenting er endret.",
            );
            let body = render(
                &state,
                lang,
                &clinic,
                &access,
                id,
                Some(why),
                &AssessForm {
                    csrf,
                    ..AssessForm::default()
                },
            )
            .await?;
            Ok(incident_page(lang, StatusCode::CONFLICT, &body))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(status: IncidentStatus, risk: Option<Risk>, reported: bool) -> IncidentRecord {
        let known = Timestamp(1_800_000_000_000_000);
        IncidentRecord {
            id: IncidentId::from_bytes([7; 16]),
            origin: IncidentOrigin::Recall,
            status,
            patient: None,
            thread: None,
            message: None,
            known_at: known,
            report_by: incidents::report_deadline(known),
            created_by: None,
            description: None,
            risk,
            decided_at: None,
            decided_by: None,
            reported_at: reported.then_some(Timestamp(known.0 + 1)),
            patient_told_at: None,
        }
    }

    #[test]
    fn the_clock_runs_for_drafts_and_unreported_incidents_of_medium_or_high_risk_only_c4() {
        let hour = 3_600_000_000;
        let known = 1_800_000_000_000_000;
        let now = Timestamp(known + 2 * hour);
        let draft = clock_html(Lang::Nb, &record(IncidentStatus::Draft, None, false), now);
        assert!(draft.contains("70 timer igjen"), "{draft}");
        let medium = record(IncidentStatus::Registered, Some(Risk::Medium), false);
        assert!(clock_html(Lang::Nb, &medium, now).contains("70 timer igjen"));
        let late = clock_html(Lang::Nb, &medium, Timestamp(known + 73 * hour));
        assert!(late.contains("Fristen er passert"), "{late}");
        let low = record(IncidentStatus::Registered, Some(Risk::Low), false);
        assert_eq!(clock_html(Lang::Nb, &low, now), "Skal ikke meldes");
        let discarded = record(IncidentStatus::Discarded, None, false);
        assert_eq!(clock_html(Lang::Nb, &discarded, now), "Skal ikke meldes");
        let reported = record(IncidentStatus::Registered, Some(Risk::High), true);
        assert!(clock_html(Lang::Nb, &reported, now).starts_with("Meldt til Datatilsynet"));
    }
}
