//! The patient's consent page (P4) and the end of their use of the portal (P11),
//! `/k/{clinic}/samtykke`.
//!
//! At the first login every patient page sends the patient here first (`visit`), and
//! back to where they were going once they have chosen. Nothing is ticked in advance:
//! a consent is something the patient does. The form carries the version of the text it
//! showed; if the clinic changed the text meanwhile, the choice is shown again with the
//! new text rather than recorded against words the patient never saw.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use fortrolig_domain::consent::{ConsentSubject, PortalService};
use fortrolig_domain::notice::NoticeChannel;
use fortrolig_service::{ActContext, ConsentRecord, ConsentText};
use serde::Deserialize;

use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{Lang, n_, tr};
use crate::info::paragraphs;
use crate::login::safe_next;
use crate::portal_messages::{Visit, visit_ungated};
use crate::respond::see_other;
use crate::router::AppState;
use crate::session::{SESSION_COOKIE, clear_cookie};
use crate::source::RequestSource;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/k/{clinic}/samtykke", get(show).post(save))
        .route("/k/{clinic}/samtykke/avslutt", post(end))
}

/// The choice's label on the page.
pub(crate) fn label(lang: Lang, subject: ConsentSubject) -> &'static str {
    match subject {
        ConsentSubject::Service(PortalService::Messaging) => {
            tr(lang, "Meldinger med klinikken (e-konsultasjon)")
        }
        ConsentSubject::Service(PortalService::Appointments) => tr(lang, "Timebestilling"),
        ConsentSubject::Service(PortalService::PrescriptionRenewal) => {
            tr(lang, "Fornyelse av resept")
        }
        ConsentSubject::Service(PortalService::Video) => tr(lang, "Videokonsultasjon"),
        ConsentSubject::Channel(NoticeChannel::Sms) => {
            tr(lang, "Varsel på SMS når noe nytt venter på meg")
        }
        ConsentSubject::Channel(NoticeChannel::Email) => {
            tr(lang, "Varsel på e-post når noe nytt venter på meg")
        }
        ConsentSubject::Portal => tr(lang, "Bruk av pasientportalen"),
    }
}

fn checkboxes(
    lang: Lang,
    subjects: &[ConsentSubject],
    ticked: &dyn Fn(ConsentSubject) -> bool,
) -> String {
    subjects
        .iter()
        .map(|s| {
            format!(
                "<p><input type=\"checkbox\" id=\"{f}\" name=\"{f}\" value=\"ja\"{checked}>\n\
                 <label for=\"{f}\">{label}</label></p>\n",
                f = s.field(),
                label = label(lang, *s),
                checked = if ticked(*s) { " checked" } else { "" },
            )
        })
        .collect()
}

fn history_table(lang: Lang, history: &[ConsentRecord]) -> String {
    if history.is_empty() {
        return String::new();
    }
    let rows: String = history
        .iter()
        .rev()
        .map(|r| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                escape(&r.at.oslo_minutes()),
                label(lang, r.subject),
                if r.granted {
                    tr(lang, "Ja")
                } else {
                    tr(lang, "Nei")
                },
                escape(&r.text_version),
            )
        })
        .collect();
    format!(
        "<h2>{title}</h2>\n<table>\n<caption>{caption}</caption>\n\
         <thead><tr><th scope=\"col\">{when}</th><th scope=\"col\">{what}</th>\
         <th scope=\"col\">{choice}</th><th scope=\"col\">{version}</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n",
        title = tr(lang, "Valgene dine over tid"),
        caption = tr(
            lang,
            "Hvert valg med tidspunkt og versjonen av teksten du så, nyeste først"
        ),
        when = tr(lang, "Tid"),
        what = tr(lang, "Gjelder"),
        choice = tr(lang, "Valg"),
        version = tr(lang, "Tekstversjon"),
    )
}

/// What the page shows besides the stored choices.
struct Shown<'a> {
    next: Option<&'a str>,
    /// A line for the status region: saved, or why nothing was saved.
    notice: Option<&'static str>,
    /// The ticks to show instead of the stored ones (a choice sent again).
    ticked: Option<&'a [ConsentSubject]>,
}

async fn render(v: &Visit, text: &ConsentText, shown: Shown<'_>) -> Result<String, WebError> {
    let lang = v.lang;
    let consents = v.clinic.consents(v.patient()).await?;
    let history = v.clinic.consent_history(v.patient()).await?;
    let first = !consents.answered();
    let ticked = |s: ConsentSubject| match shown.ticked {
        Some(list) => list.contains(&s),
        None => consents.granted(s),
    };
    let (services, channels) = ConsentSubject::ASKED.split_at(PortalService::ALL.len());
    let intro = if first {
        format!(
            "<p>{}</p>\n",
            tr(
                lang,
                "Før du tar portalen i bruk: velg hva du vil bruke. Ingenting er valgt på forhånd."
            )
        )
    } else {
        String::new()
    };
    let notice = shown
        .notice
        .map(|n| format!("<p role=\"status\"><strong>{}</strong></p>\n", tr(lang, n)))
        .unwrap_or_default();
    let next = shown
        .next
        .map(|n| {
            format!(
                "<input type=\"hidden\" name=\"neste\" value=\"{}\">\n",
                escape(n)
            )
        })
        .unwrap_or_default();
    let back = if first {
        String::new()
    } else {
        format!(
            "<p><a href=\"/k/{}/\">{}</a></p>\n",
            v.org,
            tr(lang, "Tilbake")
        )
    };
    Ok(format!(
        "<h1>{title}</h1>\n{notice}{intro}{text}\n\
         <form method=\"post\" action=\"/k/{org}/samtykke\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <input type=\"hidden\" name=\"versjon\" value=\"{version}\">\n{next}\
         <fieldset>\n<legend>{services_legend}</legend>\n{services}</fieldset>\n\
         <fieldset>\n<legend>{channels_legend}</legend>\n<p>{channels_help}</p>\n{channels}</fieldset>\n\
         <button type=\"submit\">{save}</button>\n</form>\n{history}\
         <h2>{end_title}</h2>\n<p>{end_text}</p>\n\
         <form method=\"post\" action=\"/k/{org}/samtykke/avslutt\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <p><input type=\"checkbox\" id=\"bekreft\" name=\"bekreft\" value=\"ja\">\n\
         <label for=\"bekreft\">{confirm}</label></p>\n\
         <button type=\"submit\">{end_button}</button>\n</form>\n{back}",
        title = escape(&text.title),
        text = paragraphs(&text.body),
        org = v.org,
        csrf = v.csrf(),
        version = escape(&text.version),
        services_legend = tr(lang, "Tjenester jeg vil bruke"),
        services = checkboxes(lang, services, &ticked),
        channels_legend = tr(lang, "Varsler"),
        channels_help = tr(
            lang,
            "Varselet sier bare at noe venter, aldri hva det gjelder, og det kan ikke besvares."
        ),
        channels = checkboxes(lang, channels, &ticked),
        save = tr(lang, "Lagre valgene"),
        history = history_table(lang, &history),
        end_title = tr(lang, "Avslutt bruken av pasientportalen"),
        end_text = tr(
            lang,
            "Du blir logget ut overalt, du kan ikke logge inn igjen, og vi sender deg ingen varsler. \
             Opplysningene dine blir liggende så lenge klinikkens regler for oppbevaring sier. \
             Vil du ta portalen i bruk igjen senere, ta kontakt med klinikken."
        ),
        confirm = tr(lang, "Ja, jeg vil avslutte bruken av pasientportalen"),
        end_button = tr(lang, "Avslutt bruken"),
    ))
}

#[derive(Debug, Deserialize)]
struct ShowQuery {
    neste: Option<String>,
    lagret: Option<String>,
}

fn home(v: &Visit) -> String {
    format!("/k/{}/", v.org)
}

/// `GET /k/{clinic}/samtykke`.
async fn show(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    Query(query): Query<ShowQuery>,
    source: RequestSource,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let v = match visit_ungated(&state, &clinic, &headers, &source, |org| {
        format!("/k/{org}/samtykke")
    })
    .await?
    {
        Ok(v) => v,
        Err(login) => return Ok(login),
    };
    let text = v.clinic.consent_text().await?;
    let next = query
        .neste
        .as_deref()
        .map(|n| safe_next(&home(&v), Some(n)));
    let shown = Shown {
        next: next.as_deref(),
        notice: query.lagret.is_some().then_some(n_("Valgene er lagret.")),
        ticked: None,
    };
    let body = render(&v, &text, shown).await?;
    Ok(Html(page(v.lang, tr(v.lang, "Samtykke"), &body)).into_response())
}

/// The ticked boxes of a form, by field name.
#[derive(Debug, Deserialize)]
struct ChoiceForm {
    csrf: String,
    versjon: String,
    neste: Option<String>,
    meldinger: Option<String>,
    timer: Option<String>,
    resept: Option<String>,
    video: Option<String>,
    sms: Option<String>,
    epost: Option<String>,
}

impl ChoiceForm {
    fn ticked(&self, subject: ConsentSubject) -> bool {
        let field = match subject {
            ConsentSubject::Service(PortalService::Messaging) => &self.meldinger,
            ConsentSubject::Service(PortalService::Appointments) => &self.timer,
            ConsentSubject::Service(PortalService::PrescriptionRenewal) => &self.resept,
            ConsentSubject::Service(PortalService::Video) => &self.video,
            ConsentSubject::Channel(NoticeChannel::Sms) => &self.sms,
            ConsentSubject::Channel(NoticeChannel::Email) => &self.epost,
            ConsentSubject::Portal => return false,
        };
        field.is_some()
    }
}

async fn visit_here(
    state: &AppState,
    clinic: &str,
    headers: &HeaderMap,
    source: &RequestSource,
) -> Result<Result<Visit, Response>, WebError> {
    visit_ungated(state, clinic, headers, source, |org| {
        format!("/k/{org}/samtykke")
    })
    .await
}

/// `POST /k/{clinic}/samtykke`: records every choice that changed (all of them at the
/// first answer), with the version of the text the form showed.
async fn save(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    headers: HeaderMap,
    Form(form): Form<ChoiceForm>,
) -> Result<Response, WebError> {
    let v = match visit_here(&state, &clinic, &headers, &source).await? {
        Ok(v) => v,
        Err(login) => return Ok(login),
    };
    v.require_csrf(&form.csrf)?;
    let next = form.neste.as_deref().map(|n| safe_next(&home(&v), Some(n)));
    let text = v.clinic.consent_text().await?;
    if form.versjon != text.version {
        let ticked: Vec<ConsentSubject> = ConsentSubject::ASKED
            .into_iter()
            .filter(|s| form.ticked(*s))
            .collect();
        let shown = Shown {
            next: next.as_deref(),
            notice: Some(n_(
                "Klinikken har endret teksten siden du åpnet siden. Ingenting er lagret. \
                 Les teksten og lagre valgene igjen.",
            )),
            ticked: Some(&ticked),
        };
        let body = render(&v, &text, shown).await?;
        return Ok((
            StatusCode::CONFLICT,
            Html(page(v.lang, tr(v.lang, "Samtykke"), &body)),
        )
            .into_response());
    }
    let answers: Vec<(ConsentSubject, bool)> = ConsentSubject::ASKED
        .into_iter()
        .map(|s| (s, form.ticked(s)))
        .collect();
    let ctx = ActContext::patient(v.patient(), &v.org, v.actor.source.clone(), "samtykke");
    v.clinic
        .record_consents(&ctx, v.patient(), &answers, &text.version)
        .await?;
    Ok(match next {
        Some(next) => see_other(&next, None),
        None => see_other(&format!("/k/{}/samtykke?lagret=ja", v.org), None),
    })
}

#[derive(Debug, Deserialize)]
struct EndForm {
    csrf: String,
    bekreft: Option<String>,
}

/// `POST /k/{clinic}/samtykke/avslutt`: the patient ends their use of the portal (P11).
async fn end(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    headers: HeaderMap,
    Form(form): Form<EndForm>,
) -> Result<Response, WebError> {
    let v = match visit_here(&state, &clinic, &headers, &source).await? {
        Ok(v) => v,
        Err(login) => return Ok(login),
    };
    v.require_csrf(&form.csrf)?;
    let text = v.clinic.consent_text().await?;
    if form.bekreft.is_none() {
        let shown = Shown {
            next: None,
            notice: Some(n_(
                "Kryss av for at du vil avslutte bruken av pasientportalen. Ingenting er endret.",
            )),
            ticked: None,
        };
        let body = render(&v, &text, shown).await?;
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Html(page(v.lang, tr(v.lang, "Samtykke"), &body)),
        )
            .into_response());
    }
    let ctx = ActContext::patient(
        v.patient(),
        &v.org,
        v.actor.source.clone(),
        "avsluttet bruken av portalen",
    );
    v.clinic
        .end_portal(&ctx, v.patient(), &text.version)
        .await?;
    let lang = v.lang;
    let body = format!(
        "<h1>{title}</h1>\n<p>{done}</p>\n<p>{again}</p>\n<p><a href=\"/k/{org}/info/avslutte\">{more}</a></p>",
        title = tr(lang, "Du har avsluttet bruken av pasientportalen"),
        done = tr(
            lang,
            "Du er logget ut overalt, og vi sender deg ingen flere varsler. \
             Opplysningene dine blir liggende så lenge klinikkens regler for oppbevaring sier."
        ),
        again = tr(
            lang,
            "Vil du ta portalen i bruk igjen, ta kontakt med klinikken."
        ),
        more = tr(lang, "Les mer om å avslutte"),
        org = v.org,
    );
    let mut response = Html(page(
        lang,
        tr(lang, "Du har avsluttet bruken av pasientportalen"),
        &body,
    ))
    .into_response();
    if let Ok(cookie) = clear_cookie(SESSION_COOKIE, state.secure_cookies).parse() {
        response
            .headers_mut()
            .insert(axum::http::header::SET_COOKIE, cookie);
    }
    Ok(response)
}
