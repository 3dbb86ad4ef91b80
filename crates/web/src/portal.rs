//! The patient portal's front page (P1, P3, P11). Logout is in `logout.rs`.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use fortrolig_service::{ActContext, SessionSubject};

use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{Lang, level_name, tr};
use crate::respond::clinic_of;
use crate::router::AppState;
use crate::session::current;
use crate::source::RequestSource;

pub(crate) async fn home(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let entry = state
        .app
        .stores()
        .clinic(&org)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .ok_or(WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    let name = escape(&entry.name);
    let Some(session) = current(&clinic, &headers).await? else {
        let demo = if state.demo_login {
            format!(
                "<p><a href=\"/k/{org}/testinnlogging\">{}</a></p>\n",
                tr(lang, "Testinnlogging (bare i demo)")
            )
        } else {
            String::new()
        };
        // Catalogue texts with links carry the markup, so each sentence stays whole.
        let body = format!(
            "<h1>{name}</h1>\n\
             <p>{intro}</p>\n\
             <p><a class=\"knapp\" href=\"/k/{org}/innlogging?nivaa=hoy\">{login}</a></p>\n\
             <p>{no_bankid}</p>\n{demo}\
             <p>{about}</p>\n\
             <h2>{before}</h2>\n<ul>\n\
             <li>{own_device}</li>\n\
             <li>{eid}</li>\n\
             <li>{log_out}</li>\n\
             </ul>",
            intro = tr(
                lang,
                "Her kan du sende meldinger til klinikken og se svar, trygt og uten å laste ned noe."
            ),
            login = tr(lang, "Logg inn med ID-porten"),
            no_bankid = tr(
                lang,
                "Har du ikke BankID? Klinikken kan gi deg en aktiveringskode når du møter opp med legitimasjon. \
                 <a href=\"{aktiver}\">Aktiver passnøkkel</a> eller \
                 <a href=\"{passnokkel}\">logg inn med passnøkkel</a>."
            )
            .replace("{aktiver}", &format!("/k/{org}/aktiver"))
            .replace("{passnokkel}", &format!("/k/{org}/passnokkel")),
            about = tr(
                lang,
                "<a href=\"{info}\">Om tjenesten</a>: hvilke kanaler vi bruker, innlogging, egen enhet, sletting og hvordan du avslutter."
            )
            .replace("{info}", &format!("/k/{org}/info")),
            before = tr(lang, "Før du logger inn"),
            own_device = tr(
                lang,
                "Bruk din egen telefon eller datamaskin, ikke en som andre deler."
            ),
            eid = tr(
                lang,
                "Du logger inn med BankID eller en annen eID på høyt nivå gjennom ID-porten."
            ),
            log_out = tr(
                lang,
                "Logg ut når du er ferdig. Du blir logget ut av seg selv etter 30 minutter uten bruk."
            ),
        );
        return Ok(Html(page(lang, &entry.name, &body)).into_response());
    };
    let SessionSubject::Patient(patient) = session.subject else {
        return Err(WebError::NotFound);
    };
    if !clinic.consents(patient).await?.answered() {
        return Ok(crate::portal_messages::to_consent(
            &org,
            &format!("/k/{org}/"),
        ));
    }
    let ctx = ActContext::patient(patient, &org, source.in_session(&session), "egen side");
    let me = clinic.read_patient(&ctx, patient).await?;
    let open = clinic.sessions_of(session.subject).await?.len();
    let csrf = escape(session.csrf_token());
    let logged_in = tr(
        lang,
        "Du er logget inn som <strong>{navn}</strong> (sikkerhetsnivå {nivaa}).",
    )
    .replace("{navn}", &escape(me.name.as_str()))
    .replace("{nivaa}", level_name(lang, session.level));
    let sessions = if open == 1 {
        tr(lang, "Du har én åpen økt.").to_owned()
    } else {
        tr(lang, "Du har {n} åpne økter.").replace("{n}", &open.to_string())
    };
    let body = format!(
        "<h1>{name}</h1>\n<p>{logged_in}</p>\n\
         <p><a class=\"knapp\" href=\"/k/{org}/meldinger\">{messages}</a></p>\n\
         <p><a href=\"/k/{org}/varsler\">{notices}</a></p>\n\
         <p><a href=\"/k/{org}/samtykke\">{consent}</a></p>\n\
         <p>{sessions} <a href=\"/k/{org}/okter\">{see_sessions}</a></p>\n\
         <p><a href=\"/k/{org}/innsyn\">{held}</a></p>\n\
         <p><a href=\"/k/{org}/innsyn/logg\">{access_log}</a></p>\n\
         <p><a href=\"/k/{org}/foresporsler\">{requests}</a></p>\n\
         <form method=\"post\" action=\"/k/{org}/utlogging\">\n<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <button type=\"submit\">{log_out}</button>\n\
         <button type=\"submit\" name=\"overalt\" value=\"ja\">{log_out_all}</button>\n</form>",
        messages = tr(lang, "Meldinger"),
        notices = tr(lang, "Varsler på SMS og e-post"),
        consent = tr(lang, "Samtykke, og å avslutte bruken av portalen"),
        see_sessions = tr(lang, "Se og avslutt øktene dine"),
        held = tr(lang, "Se alt klinikken har lagret om deg"),
        access_log = tr(lang, "Se hvem som har sett opplysningene dine"),
        requests = tr(lang, "Be om retting, sletting, begrensning eller kopi"),
        log_out = tr(lang, "Logg ut"),
        log_out_all = tr(lang, "Logg ut overalt"),
    );
    Ok(Html(page(lang, &entry.name, &body)).into_response())
}
