//! `GET /k/{clinic}/innsyn`: everything the clinic holds about the patient in Fortrolig.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use fortrolig_service::{ConsentRecord, Innsyn, InnsynRead, NoticeSummary, ThreadView};

use super::{Names, held_path, hex, log_path, patient_at_high, refused};
use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{Lang, kind_name, status_name, tr};
use crate::router::AppState;
use crate::source::RequestSource;

pub(super) async fn show(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let v = match patient_at_high(&state, &clinic, &headers, &source, held_path).await? {
        Ok(v) => v,
        Err(to_login) => return Ok(to_login),
    };
    let lang = v.lang;
    let held = match v.clinic.innsyn(&v.actor, InnsynRead::Page).await {
        Ok(held) => held,
        Err(e) => return refused(e, &v.org, &held_path(&v.org)),
    };
    let clinic_name = state
        .app
        .stores()
        .clinic(&v.org)
        .await
        .ok()
        .flatten()
        .map_or_else(|| v.org.to_string(), |c| c.name);
    let mut names = Names::new(&state, &v.clinic, lang);
    let threads = threads(lang, &v.org, &held.threads, &mut names).await;
    let body = format!(
        "<h1>{title}</h1>\n<p>{intro}</p>\n<p>{journal}</p>\n\
         <p><a href=\"{log}\">{see_log}</a></p>\n\
         {profile}\n<h2>{h_threads}</h2>\n{threads}\n\
         <h2>{h_notices}</h2>\n{notices}\n<h2>{h_consents}</h2>\n{consents}\n\
         <h2>{h_requests}</h2>\n{requests}<p><a href=\"/k/{org}/foresporsler\">{make_request}</a></p>\n{copy}\n\
         <p><a href=\"/k/{org}/\">{back}</a></p>",
        title = tr(lang, "Alt klinikken har lagret om deg"),
        intro = escape(
            &tr(
                lang,
                "Her er alt {klinikk} har lagret om deg i Fortrolig: opplysningene dine, samtalene, varslene, samtykkene og forespørslene dine."
            )
            .replace("{klinikk}", &clinic_name)
        ),
        journal = tr(
            lang,
            "Journalen din hos klinikken er ikke her. Vil du se den, spør klinikken om innsyn i journalen. Innsyn er gratis."
        ),
        log = log_path(&v.org),
        see_log = tr(lang, "Se hvem som har sett opplysningene dine"),
        profile = profile(lang, &held),
        h_threads = tr(lang, "Samtaler"),
        h_notices = tr(lang, "Varsler sendt til deg"),
        notices = notices(lang, &held.notices),
        h_consents = tr(lang, "Samtykker"),
        consents = consents(lang, &held.consents),
        h_requests = tr(lang, "Forespørsler om opplysningene dine"),
        requests = crate::requests::table(lang, &held.requests, state.app.now()),
        make_request = tr(
            lang,
            "Be om retting, sletting, begrensning eller kopi"
        ),
        copy = copy_form(lang, &v.org, &v.csrf()),
        org = v.org,
        back = tr(lang, "Tilbake"),
    );
    Ok(Html(page(
        lang,
        tr(lang, "Alt klinikken har lagret om deg"),
        &body,
    ))
    .into_response())
}

fn profile(lang: Lang, held: &Innsyn) -> String {
    let p = &held.patient;
    format!(
        "<h2>{title}</h2>\n<dl>\n<dt>{l_name}</dt><dd>{name}</dd>\n<dt>{l_number}</dt><dd>{number}</dd>\n\
         <dt>{l_phone}</dt><dd>{phone}</dd>\n<dt>{l_email}</dt><dd>{email}</dd>\n\
         <dt>{l_registered}</dt><dd>{registered}</dd>\n</dl>\n{corrections}",
        title = tr(lang, "Opplysninger om deg"),
        l_name = tr(lang, "Navn"),
        l_number = tr(lang, "Fødselsnummer"),
        l_phone = tr(lang, "Telefon"),
        l_email = tr(lang, "E-post"),
        l_registered = tr(lang, "Registrert"),
        name = escape(p.name.as_str()),
        number = escape(p.person_number.as_str()),
        phone = escape(p.phone.as_ref().map_or("–", |x| x.as_str())),
        email = escape(p.email.as_ref().map_or("–", |x| x.as_str())),
        registered = escape(&p.created_at.oslo_minutes()),
        corrections = crate::requests::corrections_html(lang, &held.profile_corrections),
    )
}

/// A size in bytes as people read it.
pub(super) fn size_text(bytes: i64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{} kB", (bytes + 1023) / 1024)
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

/// The file name an attachment is shown under: its type decides it (no name is stored).
pub(super) fn attachment_name(media_type: &str) -> String {
    let extension = fortrolig_domain::attachment::MediaType::ALL
        .into_iter()
        .find(|m| m.as_mime() == media_type)
        .map_or("bin", |m| m.extension());
    format!("vedlegg.{extension}")
}

async fn threads(
    lang: Lang,
    org: &fortrolig_domain::OrgNumber,
    threads: &[ThreadView],
    names: &mut Names<'_>,
) -> String {
    if threads.is_empty() {
        return format!(
            "<p>{}</p>",
            tr(lang, "Du har ingen samtaler med klinikken.")
        );
    }
    let mut out = String::new();
    for t in threads {
        let mut rows = String::new();
        for m in &t.messages {
            let from = match m.staff_author {
                None => tr(lang, "Deg").to_owned(),
                Some(id) => names
                    .staff(id)
                    .await
                    .unwrap_or_else(|| tr(lang, "Klinikken").to_owned()),
            };
            let text = match &m.text {
                Some(text) => format!(
                    "{}{}",
                    escape(text.as_str()),
                    crate::requests::corrections_html(lang, &m.corrections)
                ),
                None => format!("<em>{}</em>", tr(lang, "Trukket tilbake av klinikken")),
            };
            let attachments: Vec<String> = m
                .attachments
                .iter()
                .map(|a| {
                    format!(
                        "<a href=\"/k/{org}/meldinger/{thread}/vedlegg/{id}\">{name}</a> ({size})",
                        thread = t.id,
                        id = hex(&a.id),
                        name = attachment_name(&a.media_type),
                        size = size_text(a.size),
                    )
                })
                .collect();
            rows.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td class=\"meldingstekst\">{}</td><td>{}</td><td>{}</td></tr>\n",
                escape(&m.created_at.oslo_minutes()),
                escape(&from),
                text,
                if attachments.is_empty() {
                    "–".to_owned()
                } else {
                    attachments.join("<br>")
                },
                m.read_at
                    .map_or("–".to_owned(), |at| escape(&at.oslo_minutes())),
            ));
        }
        out.push_str(&format!(
            "<section aria-labelledby=\"samtale-{id}\">\n<h3 id=\"samtale-{id}\">{kind}: {subject}</h3>\n\
             <p>{l_status}: {status}. <a href=\"/k/{org}/meldinger/{id}\">{open}</a></p>\n\
             <table>\n<caption>{caption}</caption>\n<thead><tr><th scope=\"col\">{l_written}</th>\
             <th scope=\"col\">{l_from}</th><th scope=\"col\">{l_text}</th><th scope=\"col\">{l_attachments}</th>\
             <th scope=\"col\">{l_read}</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n</section>\n",
            id = t.id,
            kind = escape(kind_name(lang, t.kind)),
            subject = escape(t.subject.as_str()),
            l_status = tr(lang, "Status"),
            status = escape(status_name(lang, t.status)),
            open = tr(lang, "Åpne samtalen"),
            caption = tr(lang, "Meldinger i samtalen, eldste først (norsk tid)"),
            l_written = tr(lang, "Skrevet"),
            l_from = tr(lang, "Fra"),
            l_text = tr(lang, "Tekst"),
            l_attachments = tr(lang, "Vedlegg"),
            l_read = tr(lang, "Lest av mottakeren"),
        ));
    }
    out
}

fn notices(lang: Lang, notices: &[NoticeSummary]) -> String {
    if notices.is_empty() {
        return format!(
            "<p>{}</p>",
            tr(lang, "Klinikken har ikke sendt deg varsler.")
        );
    }
    let rows = crate::notices::notice_rows(lang, notices, false);
    format!(
        "<p>{intro}</p>\n<table>\n<caption>{caption}</caption>\n<thead><tr><th scope=\"col\">{made}</th>\
         <th scope=\"col\">{what}</th><th scope=\"col\">{channel}</th><th scope=\"col\">{status}</th>\
         <th scope=\"col\">{sent}</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>",
        intro = tr(
            lang,
            "Et varsel sier bare at noe venter på deg. Teksten og adressen lagres ikke her etter at varselet er sendt."
        ),
        caption = tr(lang, "Varsler, nyeste først (norsk tid)"),
        made = tr(lang, "Laget"),
        what = tr(lang, "Hva"),
        channel = tr(lang, "Kanal"),
        status = tr(lang, "Status"),
        sent = tr(lang, "Sendt"),
    )
}

fn consents(lang: Lang, consents: &[ConsentRecord]) -> String {
    if consents.is_empty() {
        return format!(
            "<p>{}</p>",
            tr(lang, "Du har ikke gitt eller trukket noe samtykke.")
        );
    }
    let rows: String = consents
        .iter()
        .map(|c| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                escape(&c.at.oslo_minutes()),
                crate::consent::label(lang, c.subject),
                if c.granted {
                    tr(lang, "Ja")
                } else {
                    tr(lang, "Nei")
                },
                escape(&c.text_version),
            )
        })
        .collect();
    format!(
        "<table>\n<caption>{caption}</caption>\n<thead><tr><th scope=\"col\">{when}</th>\
         <th scope=\"col\">{what}</th><th scope=\"col\">{choice}</th><th scope=\"col\">{version}</th>\
         </tr></thead>\n<tbody>\n{rows}</tbody>\n</table>",
        caption = tr(lang, "Samtykker, eldste først (norsk tid)"),
        when = tr(lang, "Tidspunkt"),
        what = tr(lang, "Gjelder"),
        choice = tr(lang, "Samtykke gitt"),
        version = tr(lang, "Versjon av teksten du så"),
    )
}

fn copy_form(lang: Lang, org: &fortrolig_domain::OrgNumber, csrf: &str) -> String {
    format!(
        "<h2>{title}</h2>\n<p>{what}</p>\n<p class=\"advarsel\"><strong>{warning}</strong></p>\n\
         <form method=\"post\" action=\"/k/{org}/innsyn/kopi.json\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <button type=\"submit\">{button}</button>\n</form>",
        title = tr(lang, "Last ned en kopi"),
        what = tr(
            lang,
            "Du kan laste ned alt over, og loggen med bevisene, som én fil (JSON) som andre programmer kan lese."
        ),
        warning = tr(
            lang,
            "Ikke lagre filen på en PC eller telefon som andre bruker. Filen er ikke kryptert."
        ),
        button = tr(lang, "Last ned kopi (JSON)"),
    )
}
