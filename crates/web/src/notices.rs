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
use crate::i18n::{
    Lang, channel_name, n_, notice_kind_name, notice_outcome, notice_status_name, template_error,
    tr,
};
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

/// One form per kind of notice and channel, each with the placeholders it may use.
async fn template_forms(admin: &Admin, base: &str) -> Result<String, Halt> {
    let (lang, csrf) = (admin.lang, admin.csrf_field());
    let mut forms = String::new();
    for kind in NoticeKind::ALL {
        let kname = notice_kind_name(lang, kind);
        forms.push_str(&format!("<h2>{kname}</h2>\n"));
        for channel in NoticeChannel::ALL {
            let template = admin.clinic.notice_template(kind, channel).await?;
            let id = format!("{}-{}", kind.as_str(), channel.as_str());
            let names: Vec<String> = kind
                .placeholders()
                .iter()
                .map(|p| format!("{{{}}}", p.name()))
                .collect();
            let cname = channel_name(lang, channel);
            // `{liste}` last: the names filled in are themselves in braces.
            let label = tr(lang, "{kanal} (plassholdere: {liste})")
                .replace("{kanal}", cname)
                .replace("{liste}", &names.join(", "));
            forms.push_str(&format!(
                "<form method=\"post\" action=\"{base}/{kind}/{channel}\">\n{csrf}\n\
                 <label for=\"{id}\">{label}</label>\n\
                 <textarea id=\"{id}\" name=\"tekst\" rows=\"3\" autocomplete=\"off\">{text}</textarea>\n\
                 <button type=\"submit\">{save}<span class=\"skjult\"> {kname}, {cname}</span></button>\n</form>\n",
                kind = kind.as_str(),
                channel = channel.as_str(),
                save = tr(lang, "Lagre"),
                text = escape(template.text()),
            ));
        }
    }
    Ok(forms)
}

/// The sender name's form and the clinic's own rules for the checker.
async fn sender_and_rules(admin: &Admin, base: &str) -> Result<String, Halt> {
    let (lang, csrf) = (admin.lang, admin.csrf_field());
    let sender = admin.clinic.notice_sender().await?.unwrap_or_default();
    let rules = admin.clinic.notice_rules().await?;
    Ok(format!(
        "<h2>{sender_title}</h2>\n<form method=\"post\" action=\"{base}/avsender\">\n{csrf}\n\
         <label for=\"avsender\">{sender_label}</label>\n\
         <input id=\"avsender\" name=\"avsender\" value=\"{sender}\" maxlength=\"11\" autocomplete=\"off\" required>\n\
         <button type=\"submit\">{sender_save}</button>\n</form>\n\
         <h2>{rules_title}</h2>\n<p>{rules_help}</p>\n\
         <form method=\"post\" action=\"{base}/regler\">\n{csrf}\n\
         <label for=\"telefon\">{phones_label}</label>\n<textarea id=\"telefon\" name=\"telefon\" rows=\"3\" autocomplete=\"off\">{phones}</textarea>\n\
         <label for=\"avdelinger\">{departments_label}</label>\n\
         <textarea id=\"avdelinger\" name=\"avdelinger\" rows=\"3\" autocomplete=\"off\">{departments}</textarea>\n\
         <button type=\"submit\">{rules_save}</button>\n</form>\n",
        sender_title = tr(lang, "Avsendernavn"),
        sender_label = tr(
            lang,
            "Nøytralt avsendernavn (høyst 11 bokstaver, tall eller mellomrom)"
        ),
        sender_save = tr(lang, "Lagre avsendernavn"),
        rules_title = tr(lang, "Klinikkens telefonnumre og avdelingsnavn"),
        rules_help = tr(
            lang,
            "Varsler skal ikke ha klinikkens telefonnumre, og ikke navn på avdelinger som røper hva pasienten \
             behandles for. Ett per linje; kontrollen bruker dem i tillegg til sine egne lister."
        ),
        phones_label = tr(lang, "Telefonnumre"),
        departments_label = tr(lang, "Avdelingsnavn (for eksempel *hjerteklinikk*)"),
        rules_save = tr(lang, "Lagre telefonnumre og avdelingsnavn"),
        sender = escape(&sender),
        phones = escape(&rules.sender_phones.join("\n")),
        departments = escape(&rules.extra_department_terms.join("\n")),
    ))
}

/// `GET /k/{clinic}/ansatt/varselmaler`: the clinic's wording and sender name.
async fn templates(admin: Admin) -> Result<Response, Halt> {
    let lang = admin.lang;
    let base = format!("/k/{}/ansatt/varselmaler", admin.org);
    let body = format!(
        "<h1>{title}</h1>\n<p>{intro}</p>\n{sender}{forms}<p><a href=\"/k/{org}/ansatt/\">{back}</a></p>",
        title = tr(lang, "Varselmaler"),
        intro = tr(
            lang,
            "Et varsel skal bare si at noe venter, aldri hva det gjelder: ingen diagnoser, legemidler, \
             avdelingsnavn som røper en tilstand, fødselsnummer eller lenker. Hver mal kontrolleres når den lagres, \
             og hvert varsel igjen før det sendes."
        ),
        sender = sender_and_rules(&admin, &base).await?,
        forms = template_forms(&admin, &base).await?,
        org = admin.org,
        back = tr(lang, "Tilbake"),
    );
    Ok(Html(page(lang, tr(lang, "Varselmaler"), &body)).into_response())
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
            tr(admin.lang, "Ugyldig avsendernavn"),
            tr(
                admin.lang,
                "Bruk 1 til 11 bokstaver (a–z), tall eller mellomrom, og et navn som ikke røper hva klinikken behandler.",
            ),
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
            tr(admin.lang, "Ikke lagret"),
            tr(
                admin.lang,
                "Et telefonnummer har 5 til 12 sifre (med eller uten +47), og et avdelingsnavn er ett ord eller uttrykk per linje.",
            ),
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

/// The notice checker's explanations for staff, as `fortrolig_notice_check` words them in
/// bokmål: listed here so the English catalogue has them (a unit test runs the checker's
/// corpus and fails on one missing here). One not listed is shown in bokmål.
const CHECKER_MESSAGES: [&str; 12] = [
    n_(
        "Fødselsnummer eller annet identitetsnummer (11 siffer). Varsler skal ikke inneholde identitetsnummer; fjern det.",
    ),
    n_(
        "Elleve siffer etter «fnr», «fødselsnummer» eller lignende. Varsler skal ikke inneholde identitetsnummer; fjern det.",
    ),
    n_(
        "Diagnosekode (ICD-10 eller ICPC-2). Varsler skal ikke vise helseopplysninger; be pasienten logge inn i stedet.",
    ),
    n_(
        "Ord som viser diagnose eller helsetilstand. Varsler skal ikke vise helseopplysninger; be pasienten logge inn i stedet.",
    ),
    n_(
        "Legemiddelnavn. Varsler skal ikke inneholde reseptinformasjon; skriv heller «Resepten din er klar».",
    ),
    n_("ATC-kode (legemiddel). Varsler skal ikke inneholde reseptinformasjon."),
    n_(
        "Ser ut som en dose (mengde, tabletter eller ganger daglig). Reseptinformasjon skal ikke stå i varsler; sjekk teksten.",
    ),
    n_(
        "Avdelings- eller klinikknavn som kan avsløre helseforhold (for eksempel psykiatrisk poliklinikk eller gynekologisk avdeling). Bruk et nøytralt navn.",
    ),
    n_(
        "Klinikkens eget telefonnummer. Avsenderens nummer bør ikke stå i varsler, fordi det kan avsløre avdelingen.",
    ),
    n_(
        "Pasienten kan ikke svare, men teksten sier det ikke. Legg til for eksempel «Du kan ikke svare på denne meldingen.»",
    ),
    n_(
        "Lenke i SMS. Varsler skal se like ut hver gang og ikke ligne nettfiske; skriv heller portalens adresse uten lenke.",
    ),
    n_(
        "Lenke til en annen adresse enn klinikkens portal. Varsler skal bare lenke til virksomhetens egen portal.",
    ),
];

/// The checker's findings (their messages) as a list, in `lang`.
fn findings_list<'a>(lang: Lang, messages: impl Iterator<Item = &'a str>) -> String {
    messages
        .map(|message| {
            let text = CHECKER_MESSAGES
                .iter()
                .find(|nb| **nb == message)
                .map_or(message, |nb| tr(lang, nb));
            format!("<li>{}</li>", escape(text))
        })
        .collect()
}

/// `POST …/{kind}/{channel}`: the clinic's wording, judged before it is saved.
async fn save_template(admin: Admin, Form(form): Form<TemplateForm>) -> Result<Response, Halt> {
    admin.check(&form.csrf)?;
    let lang = admin.lang;
    let base = format!("/k/{}/ansatt/varselmaler", admin.org);
    let kind = admin.part("kind", NoticeKind::parse)?;
    let channel = admin.part("channel", NoticeChannel::parse)?;
    let template = match Template::parse(kind, channel, &form.tekst) {
        Ok(t) => t,
        Err(e) => {
            return Err(admin.refuse(
                tr(lang, "Malen ble ikke lagret"),
                &template_error(lang, &e),
                &base,
            ));
        }
    };
    let back = tr(lang, "Tilbake til malene");
    match admin
        .clinic
        .set_notice_template(&admin.ctx("varselmal"), &template)
        .await?
    {
        Ok(verdict) if verdict.findings.is_empty() => Ok(see_other(&base, None)),
        Ok(verdict) => {
            let body = format!(
                "<h1>{title}</h1>\n<ul>{list}</ul>\n<p><a href=\"{base}\">{back}</a></p>",
                title = tr(lang, "Malen er lagret, med advarsler"),
                list = findings_list(lang, verdict.findings.iter().map(|f| f.message)),
            );
            Ok(Html(page(lang, tr(lang, "Malen er lagret"), &body)).into_response())
        }
        Err(refused) => {
            let title = tr(lang, "Malen ble ikke lagret");
            let body = format!(
                "<h1>{title}</h1>\n<p>{why}</p>\n<ul>{list}</ul>\n<p><a href=\"{base}\">{back}</a></p>",
                why = tr(
                    lang,
                    "Kontrollen fant dette, og et slikt varsel ville aldri blitt sendt:"
                ),
                list = findings_list(lang, refused.verdict.findings.iter().map(|f| f.message)),
            );
            Err(Halt::page(
                (StatusCode::BAD_REQUEST, Html(page(lang, title, &body))).into_response(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fortrolig_notice_check::{Channel, Checker, ClinicRules, Replies};

    /// Every explanation the checker gives on its own corpus (the same clinic set-up as
    /// its test) is listed for translation, so none shows in bokmål to an English user.
    #[test]
    fn every_checker_message_has_a_translation_p10() {
        let checker = Checker::new(ClinicRules {
            sender_phones: vec!["22 33 44 55".into(), "+47 987 65 432".into()],
            extra_department_terms: vec!["*solsikken*".into()],
            portal_hosts: vec!["normland.no".into()],
        });
        assert!(checker.is_ok(), "the checker is built");
        let Ok(checker) = checker else { return };
        let corpus = include_str!("../../notice_check/tests/corpus.txt");
        let mut seen = std::collections::BTreeSet::new();
        for line in corpus
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let fields: Vec<&str> = line.split('|').map(str::trim).collect();
            let channel = if fields[0] == "sms" {
                Channel::Sms
            } else {
                Channel::Email
            };
            let replies = if fields[1] == "open" {
                Replies::Allowed
            } else {
                Replies::NotPossible
            };
            for f in checker.check(fields[4], channel, replies).findings {
                assert!(
                    CHECKER_MESSAGES.contains(&f.message),
                    "not listed: {}",
                    f.message
                );
                seen.insert(f.message);
            }
        }
        // The corpus gives every explanation at least once: the list is not stale.
        assert_eq!(seen.len(), CHECKER_MESSAGES.len(), "listed but never given");
        assert_eq!(
            findings_list(Lang::En, ["Malen er tom.", CHECKER_MESSAGES[5]].into_iter()),
            "<li>Malen er tom.</li><li>ATC code (medicine). Notifications must not contain \
             prescription information.</li>"
        );
    }
}
