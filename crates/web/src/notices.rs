//! Notices on the web (issue 5): the patient chooses the channels notices may use (P4,
//! `/k/{clinic}/varsler`) and sees the notices sent to them; staff see the notice log
//! (N6) and the tasks of notices that did not reach the patient (N5, P10,
//! `/k/{clinic}/ansatt/varsler`); the clinic administrator writes the clinic's notice
//! templates and its neutral sender name (N3, `/k/{clinic}/ansatt/varselmaler`), each
//! judged by the notice checker before it is saved.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use fortrolig_domain::OrgNumber;
use fortrolig_domain::notice::{NoticeChannel, NoticeKind, Template};
use fortrolig_service::{ActContext, Clinic, NoticeSummary, ServiceError, Session};
use serde::Deserialize;

use crate::admin::{Admin, Halt};
use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{Lang, channel_name, notice_kind_name, notice_outcome, notice_status_name, tr};
use crate::portal_messages::visit;
use crate::respond::{clinic_of, see_other};
use crate::router::AppState;
use crate::source::RequestSource;
use crate::workspace::admin_context;
use crate::workspace_messages::{hex, inbox_session, unhex};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/k/{clinic}/varsler",
            get(patient_page).post(patient_choice),
        )
        .route("/k/{clinic}/ansatt/varsler", get(staff_page))
        .route("/k/{clinic}/ansatt/varsler/oppgave/{task}", post(task_done))
        .route("/k/{clinic}/ansatt/varselmaler", get(templates))
        .route("/k/{clinic}/ansatt/varselmaler/avsender", post(sender))
        .route("/k/{clinic}/ansatt/varselmaler/regler", post(rules))
        .route(
            "/k/{clinic}/ansatt/varselmaler/{kind}/{channel}",
            post(save_template),
        )
}

/// Notices as a table: what, how, where it stands, when. Never the text or the address.
pub(crate) fn notice_rows(lang: Lang, notices: &[NoticeSummary], with_findings: bool) -> String {
    let mut rows = String::new();
    for n in notices {
        let findings = if with_findings {
            format!("<td>{}</td>", escape(n.findings.as_deref().unwrap_or("–")))
        } else {
            String::new()
        };
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{findings}</tr>\n",
            escape(&n.created_at.oslo_minutes()),
            notice_kind_name(lang, n.kind),
            channel_name(lang, n.channel),
            if with_findings {
                notice_status_name(lang, n.status)
            } else {
                notice_outcome(lang, n.status, n.findings.as_deref())
            },
            n.sent_at
                .map_or("–".to_owned(), |t| escape(&t.oslo_minutes())),
        ));
    }
    rows
}

/// `GET /k/{clinic}/varsler`: the patient's choice of channels and their notices.
async fn patient_page(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let v = match visit(&state, &clinic, &headers, &source, |org| {
        format!("/k/{org}/varsler")
    })
    .await?
    {
        Ok(v) => v,
        Err(login) => return Ok(login),
    };
    let lang = v.lang;
    let consents = v.clinic.notice_consents(v.patient()).await?;
    let boxes: String = consents
        .iter()
        .map(|(channel, granted)| {
            format!(
                "<p><input type=\"checkbox\" id=\"{c}\" name=\"{c}\" value=\"ja\"{checked}>\n\
                 <label for=\"{c}\">{label}</label></p>\n",
                c = channel.as_str(),
                label = match channel {
                    NoticeChannel::Sms => tr(lang, "Varsle meg på SMS"),
                    NoticeChannel::Email => tr(lang, "Varsle meg på e-post"),
                },
                checked = if *granted { " checked" } else { "" },
            )
        })
        .collect();
    let notices = v.clinic.notices_of(v.patient()).await?;
    let caption = if notices.len() == 1 {
        tr(lang, "1 varsel").to_owned()
    } else {
        tr(lang, "{n} varsler, nyeste først").replace("{n}", &notices.len().to_string())
    };
    let body = format!(
        "<h1>{title}</h1>\n<p>{intro}</p>\n\
         <form method=\"post\" action=\"/k/{org}/varsler\">\n<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <fieldset>\n<legend>{where_}</legend>\n{boxes}</fieldset>\n\
         <button type=\"submit\">{save}</button>\n</form>\n\
         <h2>{sent_to_you}</h2>\n<table>\n<caption>{caption}</caption>\n\
         <thead><tr><th scope=\"col\">{made}</th><th scope=\"col\">{what}</th><th scope=\"col\">{channel}</th>\
         <th scope=\"col\">{status}</th><th scope=\"col\">{sent}</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n\
         <p><a href=\"/k/{org}/\">{back}</a></p>",
        title = tr(lang, "Varsler"),
        intro = tr(
            lang,
            "Klinikken kan varsle deg på SMS eller e-post når noe nytt venter på deg her, \
             for eksempel en melding. Varselet sier bare at noe venter, aldri hva det gjelder, og du kan ikke \
             svare på det. Du velger selv, og du kan ombestemme deg når som helst."
        ),
        where_ = tr(lang, "Hvor vil du bli varslet?"),
        save = tr(lang, "Lagre valget"),
        sent_to_you = tr(lang, "Varsler sendt til deg"),
        made = tr(lang, "Laget"),
        what = tr(lang, "Hva"),
        channel = tr(lang, "Kanal"),
        status = tr(lang, "Status"),
        sent = tr(lang, "Sendt"),
        back = tr(lang, "Tilbake"),
        org = v.org,
        csrf = v.csrf(),
        rows = notice_rows(lang, &notices, false),
    );
    Ok(Html(page(lang, tr(lang, "Varsler"), &body)).into_response())
}

#[derive(Debug, Deserialize)]
struct ChoiceForm {
    csrf: String,
    #[serde(default)]
    sms: Option<String>,
    #[serde(default)]
    epost: Option<String>,
}

/// `POST /k/{clinic}/varsler`: the patient's choice (P4); each change is kept with the
/// version of the text above.
async fn patient_choice(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    headers: HeaderMap,
    Form(form): Form<ChoiceForm>,
) -> Result<Response, WebError> {
    let v = match visit(&state, &clinic, &headers, &source, |org| {
        format!("/k/{org}/varsler")
    })
    .await?
    {
        Ok(v) => v,
        Err(login) => return Ok(login),
    };
    v.require_csrf(&form.csrf)?;
    let ctx = ActContext::patient(
        v.patient(),
        &v.org,
        v.actor.source.clone(),
        "valg av varsler",
    );
    for (channel, granted) in v.clinic.notice_consents(v.patient()).await? {
        let wanted = match channel {
            NoticeChannel::Sms => form.sms.is_some(),
            NoticeChannel::Email => form.epost.is_some(),
        };
        if wanted != granted {
            v.clinic
                .set_notice_consent(&ctx, v.patient(), channel, wanted)
                .await?;
        }
    }
    Ok(see_other(&format!("/k/{}/varsler", v.org), None))
}

/// A member of staff at the notice pages: those who work with patients' administrative
/// data (clinical roles and secretaries), with the audit context of their acts there.
async fn desk(
    state: &AppState,
    clinic: &str,
    source: &RequestSource,
    lang: Lang,
    headers: &HeaderMap,
    reason: &str,
) -> Result<Result<(OrgNumber, Arc<Clinic>, ActContext, Session), Response>, WebError> {
    let org = clinic_of(clinic)?;
    let clinic = state.app.clinic(&org).await?;
    let here = format!("/k/{org}/ansatt/varsler");
    let (staff, session) = match inbox_session(
        &clinic,
        headers,
        &here,
        state.app.now(),
        lang,
        tr(
            lang,
            "Varsler og oppgaver er for klinikkens helsepersonell og kontor.",
        ),
    )
    .await?
    {
        Ok(pair) => pair,
        Err(response) => return Ok(Err(response)),
    };
    let mut ctx = admin_context(&clinic, staff, source.in_session(&session), reason);
    ctx.actor.role = "ansatt".into();
    Ok(Ok((org, clinic, ctx, session)))
}

/// `GET /k/{clinic}/ansatt/varsler`: tasks to reach patients another way, and the log.
/// Tasks name the patient and how to reach them: administrative data.
async fn staff_page(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let (org, clinic, ctx, session) = match desk(
        &state,
        &clinic,
        &source,
        lang,
        &headers,
        "oppfølging av varsel",
    )
    .await?
    {
        Ok(desk) => desk,
        Err(response) => return Ok(response),
    };
    let here = format!("/k/{org}/ansatt/varsler");
    let csrf = escape(session.csrf_token());
    let mut tasks = String::new();
    for task in clinic.open_tasks().await? {
        let patient = clinic.read_patient(&ctx, task.patient).await?;
        let why = match task.kind.as_str() {
            "varsel-ulest" => tr(lang, "Et viktig varsel er ikke lest"),
            _ => tr(lang, "Et viktig varsel kom ikke fram"),
        };
        let name = escape(patient.name.as_str());
        let text = tr(
            lang,
            "<strong>{hva}</strong> ({tid}): {navn}, telefon {telefon}, e-post {epost}. \
             Kontakt pasienten på annen måte.",
        )
        .replace("{hva}", why)
        .replace("{tid}", &escape(&task.created_at.oslo_minutes()))
        .replace("{navn}", &name)
        .replace(
            "{telefon}",
            &escape(patient.phone.as_ref().map_or("–", |p| p.as_str())),
        )
        .replace(
            "{epost}",
            &escape(patient.email.as_ref().map_or("–", |e| e.as_str())),
        );
        tasks.push_str(&format!(
            "<li><p>{text}</p>\n<form method=\"post\" action=\"{here}/oppgave/{id}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\">{done}<span class=\"skjult\"> ({name})</span></button></form></li>\n",
            done = tr(lang, "Utført"),
            id = hex(&task.id),
        ));
    }
    if tasks.is_empty() {
        tasks.push_str(&format!("<li>{}</li>", tr(lang, "Ingen åpne oppgaver.")));
    }
    let log = clinic.notice_log(200).await?;
    let body = format!(
        "<h1>{title}</h1>\n<h2>{tasks_title}</h2>\n<ul>{tasks}</ul>\n\
         <h2>{log_title}</h2>\n<p>{log_help}</p>\n\
         <table>\n<caption>{caption}</caption>\n<thead><tr><th scope=\"col\">{made}</th><th scope=\"col\">{what}</th>\
         <th scope=\"col\">{channel}</th><th scope=\"col\">{status}</th><th scope=\"col\">{sent}</th><th scope=\"col\">{findings}</th></tr></thead>\n\
         <tbody>\n{rows}</tbody>\n</table>\n<p><a href=\"/k/{org}/ansatt/\">{back}</a></p>",
        title = tr(lang, "Varsler"),
        tasks_title = tr(lang, "Oppgaver"),
        log_title = tr(lang, "Logg over varsler"),
        log_help = tr(
            lang,
            "Varsler stoppet av kontrollen er aldri sendt; regelen står i siste kolonne."
        ),
        caption = tr(lang, "De siste {n} varslene").replace("{n}", &log.len().to_string()),
        made = tr(lang, "Laget"),
        what = tr(lang, "Hva"),
        channel = tr(lang, "Kanal"),
        status = tr(lang, "Status"),
        sent = tr(lang, "Sendt"),
        findings = tr(lang, "Funn"),
        back = tr(lang, "Tilbake"),
        rows = notice_rows(lang, &log, true),
    );
    Ok(Html(page(lang, tr(lang, "Varsler"), &body)).into_response())
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf: String,
}

/// `POST …/oppgave/{task}`: a task is done.
async fn task_done(
    State(state): State<AppState>,
    Path((clinic, task)): Path<(String, String)>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let task = unhex(&task).ok_or(WebError::NotFound)?;
    let (org, clinic, ctx, session) =
        match desk(&state, &clinic, &source, lang, &headers, "oppgave utført").await? {
            Ok(desk) => desk,
            Err(response) => return Ok(response),
        };
    if !session.csrf_matches(&form.csrf) {
        return Err(WebError::Forbidden);
    }
    let here = format!("/k/{org}/ansatt/varsler");
    clinic.finish_task(&ctx, &task).await?;
    Ok(see_other(&here, None))
}

/// `GET /k/{clinic}/ansatt/varselmaler`: the clinic's wording and sender name.
async fn templates(admin: Admin) -> Result<Response, Halt> {
    let base = format!("/k/{}/ansatt/varselmaler", admin.org);
    let csrf = admin.csrf_field();
    let sender = admin.clinic.notice_sender().await?.unwrap_or_default();
    let mut forms = String::new();
    for kind in NoticeKind::ALL {
        forms.push_str(&format!("<h2>{}</h2>\n", kind.display_name()));
        for channel in NoticeChannel::ALL {
            let template = admin.clinic.notice_template(kind, channel).await?;
            let id = format!("{}-{}", kind.as_str(), channel.as_str());
            let names: Vec<String> = kind
                .placeholders()
                .iter()
                .map(|p| format!("{{{}}}", p.name()))
                .collect();
            forms.push_str(&format!(
                "<form method=\"post\" action=\"{base}/{kind}/{channel}\">\n{csrf}\n\
                 <label for=\"{id}\">{cname} (plassholdere: {names})</label>\n\
                 <textarea id=\"{id}\" name=\"tekst\" rows=\"3\" autocomplete=\"off\">{text}</textarea>\n\
                 <button type=\"submit\">Lagre<span class=\"skjult\"> {kname}, {cname}</span></button>\n</form>\n",
                kind = kind.as_str(),
                channel = channel.as_str(),
                cname = channel.display_name(),
                kname = kind.display_name(),
                names = names.join(", "),
                text = escape(template.text()),
            ));
        }
    }
    let rules = admin.clinic.notice_rules().await?;
    let body = format!(
        "<h1>Varselmaler</h1>\n<p>Et varsel skal bare si at noe venter, aldri hva det gjelder: ingen diagnoser, \
         legemidler, avdelingsnavn som røper en tilstand, fødselsnummer eller lenker. Hver mal kontrolleres når \
         den lagres, og hvert varsel igjen før det sendes.</p>\n\
         <h2>Avsendernavn</h2>\n<form method=\"post\" action=\"{base}/avsender\">\n{csrf}\n\
         <label for=\"avsender\">Nøytralt avsendernavn (høyst 11 bokstaver, tall eller mellomrom)</label>\n\
         <input id=\"avsender\" name=\"avsender\" value=\"{sender}\" maxlength=\"11\" autocomplete=\"off\" required>\n\
         <button type=\"submit\">Lagre avsendernavn</button>\n</form>\n\
         <h2>Klinikkens telefonnumre og avdelingsnavn</h2>\n<p>Varsler skal ikke ha klinikkens telefonnumre, og ikke navn \
         på avdelinger som røper hva pasienten behandles for. Ett per linje; kontrollen bruker dem i tillegg til sine egne lister.</p>\n\
         <form method=\"post\" action=\"{base}/regler\">\n{csrf}\n\
         <label for=\"telefon\">Telefonnumre</label>\n<textarea id=\"telefon\" name=\"telefon\" rows=\"3\" autocomplete=\"off\">{phones}</textarea>\n\
         <label for=\"avdelinger\">Avdelingsnavn (for eksempel *hjerteklinikk*)</label>\n\
         <textarea id=\"avdelinger\" name=\"avdelinger\" rows=\"3\" autocomplete=\"off\">{departments}</textarea>\n\
         <button type=\"submit\">Lagre telefonnumre og avdelingsnavn</button>\n</form>\n{forms}\
         <p><a href=\"/k/{org}/ansatt/\">Tilbake</a></p>",
        sender = escape(&sender),
        org = admin.org,
        phones = escape(&rules.sender_phones.join("\n")),
        departments = escape(&rules.extra_department_terms.join("\n")),
    );
    Ok(Html(page(Lang::Nb, "Varselmaler", &body)).into_response())
}

#[derive(Debug, Deserialize)]
struct SenderForm {
    csrf: String,
    avsender: String,
}

/// `POST …/avsender`: the clinic's neutral sender name (N3).
async fn sender(admin: Admin, Form(form): Form<SenderForm>) -> Result<Response, Halt> {
    admin.check(&form.csrf)?;
    let base = format!("/k/{}/ansatt/varselmaler", admin.org);
    match admin
        .clinic
        .set_notice_sender(&admin.ctx("avsendernavn for varsler"), &form.avsender)
        .await
    {
        Ok(()) => Ok(see_other(&base, None)),
        Err(ServiceError::Invalid(_)) => Err(admin.refuse(
            "Ugyldig avsendernavn",
            "Bruk 1 til 11 bokstaver (a–z), tall eller mellomrom, og et navn som ikke røper hva klinikken behandler.",
            &base,
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
struct RulesForm {
    csrf: String,
    #[serde(default)]
    telefon: String,
    #[serde(default)]
    avdelinger: String,
}

/// `POST …/regler`: the clinic's own phone numbers and department names for the checker.
async fn rules(admin: Admin, Form(form): Form<RulesForm>) -> Result<Response, Halt> {
    admin.check(&form.csrf)?;
    let base = format!("/k/{}/ansatt/varselmaler", admin.org);
    let lines = |text: &str| -> Vec<String> { text.lines().map(str::to_owned).collect() };
    match admin
        .clinic
        .set_notice_rules(&admin.ctx("regler for varsler"), &lines(&form.telefon), &lines(&form.avdelinger))
        .await
    {
        Ok(()) => Ok(see_other(&base, None)),
        Err(ServiceError::Invalid(_)) => Err(admin.refuse(
            "Ikke lagret",
            "Et telefonnummer har 5 til 12 sifre (med eller uten +47), og et avdelingsnavn er ett ord eller uttrykk per linje.",
            &base,
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
struct TemplateForm {
    csrf: String,
    tekst: String,
}

/// `POST …/{kind}/{channel}`: the clinic's wording, judged before it is saved.
async fn save_template(admin: Admin, Form(form): Form<TemplateForm>) -> Result<Response, Halt> {
    admin.check(&form.csrf)?;
    let base = format!("/k/{}/ansatt/varselmaler", admin.org);
    let kind = admin.part("kind", NoticeKind::parse)?;
    let channel = admin.part("channel", NoticeChannel::parse)?;
    let template = match Template::parse(kind, channel, &form.tekst) {
        Ok(t) => t,
        Err(e) => return Err(admin.refuse("Malen ble ikke lagret", &e.norwegian(), &base)),
    };
    match admin
        .clinic
        .set_notice_template(&admin.ctx("varselmal"), &template)
        .await?
    {
        Ok(verdict) if verdict.findings.is_empty() => Ok(see_other(&base, None)),
        Ok(verdict) => {
            let list: String = verdict
                .findings
                .iter()
                .map(|f| format!("<li>{}</li>", escape(f.message)))
                .collect();
            let body = format!(
                "<h1>Malen er lagret, med advarsler</h1>\n<ul>{list}</ul>\n<p><a href=\"{base}\">Tilbake til malene</a></p>"
            );
            Ok(Html(page(Lang::Nb, "Malen er lagret", &body)).into_response())
        }
        Err(refused) => {
            let list: String = refused
                .verdict
                .findings
                .iter()
                .map(|f| format!("<li>{}</li>", escape(f.message)))
                .collect();
            let body = format!(
                "<h1>Malen ble ikke lagret</h1>\n<p>Kontrollen fant dette, og et slikt varsel ville aldri blitt sendt:</p>\n\
                 <ul>{list}</ul>\n<p><a href=\"{base}\">Tilbake til malene</a></p>"
            );
            Err(Halt::page(
                (
                    StatusCode::BAD_REQUEST,
                    Html(page(Lang::Nb, "Malen ble ikke lagret", &body)),
                )
                    .into_response(),
            ))
        }
    }
}
