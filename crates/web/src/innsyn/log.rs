//! `GET /k/{clinic}/innsyn/logg`: who has done what with the patient's data, with proofs.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use fortrolig_domain::Action;
use fortrolig_service::{ActContext, PatientLog};

use super::{LogRow, base64, held_path, hex, log_path, log_rows, patient_at_high, patient_log};
use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{Lang, tr};
use crate::router::AppState;
use crate::source::RequestSource;

/// The script that checks the proofs in the page.
pub(crate) const SCRIPT_TAG: &str = "<script src=\"/static/innsyn.js\" defer></script>";

pub(super) async fn show(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let v = match patient_at_high(&state, &clinic, &headers, &source, log_path).await? {
        Ok(v) => v,
        Err(to_login) => return Ok(to_login),
    };
    let lang = v.lang;
    let ctx = ActContext::patient(v.patient(), &v.org, v.actor.source.clone(), "innsyn i logg");
    v.clinic
        .record(
            &ctx,
            Action::PatientRead,
            Some(v.patient()),
            "innsyn:logg",
            "innsyn i logg",
        )
        .await?;
    let log = patient_log(&v).await?;
    let rows = log_rows(&state, &v.clinic, lang, &log).await;
    let emergencies = rows.iter().filter(|r| r.emergency).count();
    let emergency_note = match emergencies {
        0 => String::new(),
        1 => format!(
            "<p class=\"merknad\">{}</p>\n",
            tr(
                lang,
                "Én hendelse er en nødtilgang: noen åpnet opplysningene dine uten å være behandleren din, fordi det hastet. Klinikken kontrollerer hver nødtilgang."
            )
        ),
        n => format!(
            "<p class=\"merknad\">{}</p>\n",
            tr(
                lang,
                "{n} hendelser er nødtilganger: noen åpnet opplysningene dine uten å være behandleren din, fordi det hastet. Klinikken kontrollerer hver nødtilgang."
            )
            .replace("{n}", &n.to_string())
        ),
    };
    let body = format!(
        "<h1>{title}</h1>\n<p>{intro}</p>\n{emergency_note}\
         <p><a href=\"{held}\">{see_held}</a></p>\n\
         {proof}\n{table}\n<p><a href=\"/k/{org}/\">{back}</a></p>\n{script}",
        title = tr(lang, "Hvem har sett opplysningene dine"),
        intro = tr(
            lang,
            "Her ser du hver gang noen ved klinikken har åpnet eller endret opplysningene dine, hvem det var, og hvilken virksomhet de handlet for. \
             Loggen kan ikke endres i ettertid. Mener du at noen har sett noe de ikke skulle, kontakt klinikken."
        ),
        held = held_path(&v.org),
        see_held = tr(lang, "Se alt klinikken har lagret om deg"),
        proof = head_section(lang, &log),
        table = table(lang, &rows),
        org = v.org,
        back = tr(lang, "Tilbake"),
        script = SCRIPT_TAG,
    );
    Ok(Html(page(
        lang,
        tr(lang, "Hvem har sett opplysningene dine"),
        &body,
    ))
    .into_response())
}

/// The signed tree head every proof leads to, and the texts the script writes.
fn head_section(lang: Lang, log: &PatientLog) -> String {
    let head = &log.head.head;
    format!(
        "<section id=\"bevis\" aria-labelledby=\"bevis-tittel\" data-klinikk=\"{clinic}\" \
         data-storrelse=\"{size}\" data-rot=\"{root}\" data-signert=\"{signed_at}\" \
         data-signatur=\"{signature}\" data-nokkel=\"{key}\" \
         data-tekst-ok=\"{t_ok}\" data-tekst-feil=\"{t_bad}\" data-tekst-kontrollerer=\"{t_checking}\" \
         data-tekst-alle-ok=\"{t_all_ok}\" data-tekst-noen-feil=\"{t_some_bad}\" \
         data-tekst-signatur-ok=\"{t_sig_ok}\" data-tekst-signatur-feil=\"{t_sig_bad}\" \
         data-tekst-signatur-ukjent=\"{t_sig_unknown}\" data-tekst-kan-ikke=\"{t_cannot}\">\n\
         <h2 id=\"bevis-tittel\">{title}</h2>\n<p>{explain}</p>\n\
         <dl>\n<dt>{l_size}</dt><dd>{size}</dd>\n<dt>{l_signed}</dt><dd>{signed}</dd>\n\
         <dt>{l_root}</dt><dd class=\"reference\">{root_hex}</dd>\n\
         <dt>{l_key}</dt><dd class=\"reference\">{key_hex}</dd>\n</dl>\n\
         <p id=\"bevis-status\" role=\"status\">{no_script}</p>\n</section>",
        clinic = escape(&head.clinic),
        size = head.size,
        root = base64(&head.root),
        signed_at = head.signed_at,
        signature = base64(&log.head.signature),
        key = base64(&log.public_key),
        root_hex = hex(&head.root),
        key_hex = hex(&log.public_key),
        signed = escape(&fortrolig_domain::Timestamp(head.signed_at).oslo_minutes()),
        title = tr(lang, "Bevis for at loggen er ekte"),
        explain = tr(
            lang,
            "Klinikkens logg er en kjede av fingeravtrykk (et Merkle-tre) som klinikken signerer. \
             For hver hendelse under finnes et bevis for at den står i den signerte loggen, slik den vises her. \
             Nettleseren din regner over bevisene selv."
        ),
        l_size = tr(lang, "Hendelser i klinikkens logg"),
        l_signed = tr(lang, "Signert"),
        l_root = tr(lang, "Loggens fingeravtrykk (rot)"),
        l_key = tr(lang, "Klinikkens offentlige nøkkel"),
        no_script = tr(
            lang,
            "Serveren har kontrollert signaturen. Bevisene kontrolleres i nettleseren når JavaScript er slått på."
        ),
        t_ok = escape(tr(lang, "Bevis kontrollert")),
        t_bad = escape(tr(lang, "Beviset stemmer ikke")),
        t_checking = escape(tr(lang, "Kontrollerer bevisene …")),
        t_all_ok = escape(tr(
            lang,
            "Alle {n} bevis er kontrollert i nettleseren: hver hendelse står i klinikkens logg slik den vises her."
        )),
        t_some_bad = escape(tr(
            lang,
            "{feil} av {n} bevis stemmer ikke. Kontakt klinikken."
        )),
        t_sig_ok = escape(tr(
            lang,
            "Nettleseren har også kontrollert klinikkens signatur på loggen."
        )),
        t_sig_bad = escape(tr(
            lang,
            "Klinikkens signatur på loggen stemmer ikke. Kontakt klinikken."
        )),
        t_sig_unknown = escape(tr(
            lang,
            "Nettleseren din kan ikke kontrollere signaturen (Ed25519); serveren har kontrollert den."
        )),
        t_cannot = escape(tr(
            lang,
            "Nettleseren din kan ikke regne over bevisene her. Serveren har kontrollert signaturen."
        )),
    )
}

fn table(lang: Lang, rows: &[LogRow]) -> String {
    let mut body = String::new();
    for r in rows {
        let e = &r.entry;
        let path: Vec<String> = r.path.iter().map(|h| base64(h)).collect();
        let emergency = if r.emergency {
            format!(
                "<strong class=\"nodtilgang\">{}</strong> ",
                tr(lang, "Nødtilgang")
            )
        } else {
            String::new()
        };
        body.push_str(&format!(
            "<tr data-nr=\"{seq}\" data-tid=\"{at}\" data-aktor=\"{actor}\" data-handling=\"{action}\" \
             data-utfall=\"{outcome}\" data-blad=\"{leaf}\" data-sti=\"{path}\">\
             <td>{when}</td><td>{who}</td><td>{role}</td><td>{business}</td>\
             <td>{emergency}{what}</td><td>{result}</td><td class=\"bevis\">{unchecked}</td></tr>\n",
            seq = e.seq,
            at = e.at,
            actor = escape(&e.actor_id),
            action = escape(&e.action),
            outcome = escape(&e.outcome),
            leaf = base64(&e.encode()),
            path = path.join(","),
            when = escape(&r.at().oslo_minutes()),
            who = escape(&r.who),
            role = escape(&r.role),
            business = escape(&r.business),
            what = escape(r.action),
            result = escape(r.outcome),
            unchecked = tr(lang, "Ikke kontrollert i nettleseren"),
        ));
    }
    let caption = if rows.len() == 1 {
        tr(lang, "1 hendelse (norsk tid)").to_owned()
    } else {
        tr(lang, "{n} hendelser, nyeste først (norsk tid)").replace("{n}", &rows.len().to_string())
    };
    format!(
        "<table id=\"logg\">\n<caption>{caption}</caption>\n<thead><tr>\
         <th scope=\"col\">{when}</th><th scope=\"col\">{who}</th><th scope=\"col\">{role}</th>\
         <th scope=\"col\">{business}</th><th scope=\"col\">{what}</th><th scope=\"col\">{result}</th>\
         <th scope=\"col\">{proof}</th></tr></thead>\n<tbody>\n{body}</tbody>\n</table>",
        when = tr(lang, "Tid"),
        who = tr(lang, "Hvem"),
        role = tr(lang, "Rolle"),
        business = tr(lang, "Virksomhet"),
        what = tr(lang, "Hva"),
        result = tr(lang, "Utfall"),
        proof = tr(lang, "Bevis"),
    )
}
