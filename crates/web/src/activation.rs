//! The desk's side of passkeys for patients without BankID (issue 3 item 3, VDP 4.1
//! risk 34): a member of staff checks the patient's identity papers in person and hands
//! over a one-time activation code. The code is shown once and stored only hashed.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use fortrolig_domain::access::DataClass;
use fortrolig_domain::{Actor, PersonNumber};
use fortrolig_service::{ActContext, IdentityProof, SessionSubject};
use serde::Deserialize;

use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{Lang, n_, proof_name, tr};
use crate::respond::clinic_of;
use crate::router::AppState;
use crate::source::RequestSource;
use crate::workspace::require_class;

const DENIED: &str = n_("Rollen din gir ikke adgang til å utstede aktiveringskoder.");

fn form_page(lang: Lang, org: &str, csrf: &str, problem: Option<&str>) -> String {
    let options: String = IdentityProof::AT_THE_DESK
        .iter()
        .map(|p| {
            format!(
                "<option value=\"{}\">{}</option>",
                p.as_str(),
                escape(proof_name(lang, *p))
            )
        })
        .collect();
    let problem = problem.map_or_else(String::new, |p| {
        format!("<p class=\"feil\" role=\"alert\">{}</p>\n", escape(p))
    });
    let body = format!(
        "<h1>{title}</h1>\n{problem}<p>{intro}</p>\n\
         <form method=\"post\" action=\"/k/{org}/ansatt/aktivering\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <label for=\"fnr\">{fnr}</label>\n\
         <input id=\"fnr\" name=\"fnr\" inputmode=\"numeric\" autocomplete=\"off\" required maxlength=\"11\">\n\
         <label for=\"bevis\">{proof}</label>\n\
         <select id=\"bevis\" name=\"bevis\">{options}</select>\n\
         <button type=\"submit\">{make}</button>\n</form>\n\
         <p><a href=\"/k/{org}/ansatt/\">{back}</a></p>",
        title = tr(lang, "Aktiveringskode for pasient uten BankID"),
        intro = tr(
            lang,
            "Kontroller pasientens legitimasjon ved oppmøte. Koden gir pasienten én innlogging med \
             passnøkkel på høyt sikkerhetsnivå, så den skal bare gis til personen legitimasjonen viser."
        ),
        fnr = tr(lang, "Pasientens fødselsnummer (fra legitimasjonen)"),
        proof = tr(lang, "Legitimasjon som ble kontrollert"),
        make = tr(lang, "Lag aktiveringskode"),
        back = tr(lang, "Tilbake"),
        csrf = escape(csrf),
    );
    page(lang, tr(lang, "Aktiveringskode"), &body)
}

/// `GET /k/{clinic}/ansatt/aktivering`.
pub(crate) async fn form(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let clinic = state.app.clinic(&org).await?;
    let here = format!("/k/{org}/ansatt/aktivering");
    let now = state.app.now();
    let (_, session) =
        match require_class(&clinic, &headers, &here, now, DataClass::Identity, DENIED).await? {
            Ok(pair) => pair,
            Err(response) => return Ok(response),
        };
    Ok(Html(form_page(lang, org.as_str(), session.csrf_token(), None)).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct IssueForm {
    csrf: String,
    fnr: String,
    bevis: String,
}

/// `POST /k/{clinic}/ansatt/aktivering`: issues the code and shows it once.
pub(crate) async fn issue(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<IssueForm>,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let clinic = state.app.clinic(&org).await?;
    let here = format!("/k/{org}/ansatt/aktivering");
    let now = state.app.now();
    let (staff, session) =
        match require_class(&clinic, &headers, &here, now, DataClass::Identity, DENIED).await? {
            Ok(pair) => pair,
            Err(response) => return Ok(response),
        };
    if !session.csrf_matches(&form.csrf) {
        return Err(WebError::Forbidden);
    }
    let again = |problem: &str| {
        (
            StatusCode::BAD_REQUEST,
            Html(form_page(
                lang,
                org.as_str(),
                session.csrf_token(),
                Some(problem),
            )),
        )
            .into_response()
    };
    let Some(proof) =
        IdentityProof::parse(&form.bevis).filter(|p| IdentityProof::AT_THE_DESK.contains(p))
    else {
        return Ok(again(tr(
            lang,
            "Velg hvilken legitimasjon som ble kontrollert.",
        )));
    };
    let Ok(number) = PersonNumber::parse(form.fnr.trim()) else {
        return Ok(again(tr(
            lang,
            "Fødselsnummeret er ikke gyldig. Kontroller de 11 sifrene.",
        )));
    };
    let Some(patient) = clinic.patient_id_by_number(&number).await? else {
        return Ok(again(tr(
            lang,
            "Personen er ikke registrert som pasient ved klinikken. Registrer pasienten først.",
        )));
    };
    let roles = clinic.roles_at(staff, now).await?;
    let ctx = ActContext {
        actor: Actor {
            id: format!("staff:{staff}"),
            role: roles.first().map_or("ukjent", |r| r.as_str()).into(),
            clinic: org.clone(),
            hpr: clinic.staff_member(staff).await?.hpr,
        },
        source: source.in_session(&session),
        reason: "identitet kontrollert ved oppmøte".into(),
    };
    let issued = clinic
        .issue_activation(&ctx, SessionSubject::Patient(patient), proof)
        .await?;
    let body = format!(
        "<h1>{title}</h1>\n<p>{give}</p>\n\
         <p class=\"kode\"><strong>{code}</strong></p>\n<p>{how}</p>\n\
         <p><a href=\"/k/{org}/ansatt/\">{back}</a></p>",
        title = tr(lang, "Aktiveringskode"),
        give = tr(
            lang,
            "Gi koden til pasienten. Den vises bare nå, virker én gang og går ut {tid}."
        )
        .replace("{tid}", &escape(&issued.expires_at.oslo_minutes())),
        code = escape(&issued.code.grouped()),
        how = tr(
            lang,
            "Pasienten går til <strong>{adresse}</strong> på denne tjenesten, skriver inn koden \
             og lager en passnøkkel på telefonen eller datamaskinen sin."
        )
        .replace("{adresse}", &format!("/k/{org}/aktiver")),
        back = tr(lang, "Tilbake"),
    );
    Ok(Html(page(lang, tr(lang, "Aktiveringskode"), &body)).into_response())
}
