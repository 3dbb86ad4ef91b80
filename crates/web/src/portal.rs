//! The patient portal's front page (P1, P3, P11). Logout is in `logout.rs`.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use fortrolig_service::{ActContext, SessionSubject};

use crate::error::WebError;
use crate::html::{escape, page};
use crate::respond::clinic_of;
use crate::router::AppState;
use crate::session::current;
use crate::source::RequestSource;

pub(crate) async fn home(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
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
            format!("<p><a href=\"/k/{org}/testinnlogging\">Testinnlogging (bare i demo)</a></p>\n")
        } else {
            String::new()
        };
        let body = format!(
            "<h1>{name}</h1>\n\
             <p>Her kan du sende meldinger til klinikken og se svar, trygt og uten å laste ned noe.</p>\n\
             <p><a class=\"knapp\" href=\"/k/{org}/innlogging?nivaa=hoy\">Logg inn med ID-porten</a></p>\n\
             <p>Har du ikke BankID? Klinikken kan gi deg en aktiveringskode når du møter opp med legitimasjon. \
             <a href=\"/k/{org}/aktiver\">Aktiver passnøkkel</a> eller \
             <a href=\"/k/{org}/passnokkel\">logg inn med passnøkkel</a>.</p>\n{demo}\
             <p><a href=\"/k/{org}/info\">Om tjenesten</a>: hvilke kanaler vi bruker, innlogging, egen enhet, sletting og hvordan du avslutter.</p>\n\
             <h2>Før du logger inn</h2>\n<ul>\n\
             <li>Bruk din egen telefon eller datamaskin, ikke en som andre deler.</li>\n\
             <li>Du logger inn med BankID eller en annen eID på høyt nivå gjennom ID-porten.</li>\n\
             <li>Logg ut når du er ferdig. Du blir logget ut av seg selv etter 30 minutter uten bruk.</li>\n\
             </ul>"
        );
        return Ok(Html(page(&entry.name, &body)).into_response());
    };
    let SessionSubject::Patient(patient) = session.subject else {
        return Err(WebError::NotFound);
    };
    let ctx = ActContext::patient(patient, &org, source.in_session(&session), "egen side");
    let me = clinic.read_patient(&ctx, patient).await?;
    let open = clinic.sessions_of(session.subject).await?.len();
    let csrf = escape(session.csrf_token());
    let body = format!(
        "<h1>{name}</h1>\n<p>Du er logget inn som <strong>{}</strong> (sikkerhetsnivå {}).</p>\n\
         <p><a class=\"knapp\" href=\"/k/{org}/meldinger\">Meldinger</a></p>\n\
         <p><a href=\"/k/{org}/varsler\">Varsler på SMS og e-post</a></p>\n\
         <p>Du har {open} åpen(e) økt(er). <a href=\"/k/{org}/okter\">Se og avslutt øktene dine</a></p>\n\
         <p><a href=\"/k/{org}/innsyn/logg\">Se hvem som har sett opplysningene dine</a></p>\n\
         <form method=\"post\" action=\"/k/{org}/utlogging\">\n<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <button type=\"submit\">Logg ut</button>\n\
         <button type=\"submit\" name=\"overalt\" value=\"ja\">Logg ut overalt</button>\n</form>",
        escape(me.name.as_str()),
        if session.level == fortrolig_domain::access::Level::High {
            "høyt"
        } else {
            "betydelig"
        },
    );
    Ok(Html(page(&entry.name, &body)).into_response())
}
