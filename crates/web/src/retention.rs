//! The clinic's retention periods (X4), for its administrator: how many days each kind
//! of data is kept. The retention job (`Clinic::apply_retention`) deletes by them; the
//! record of processing (C3) states them.

use axum::Router;
use axum::extract::Form;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use fortrolig_domain::retention::{Category, Days, MAX_DAYS, Policy};
use serde::Deserialize;
use std::collections::HashMap;

use crate::admin::{Admin, Halt};
use crate::html::{escape, page};
use crate::i18n::{Lang, tr};
use crate::respond::see_other;
use crate::router::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/k/{clinic}/ansatt/oppbevaring", get(show).post(save))
}

/// What each period means, for the administrator.
fn label(lang: Lang, c: Category) -> (&'static str, &'static str) {
    match c {
        Category::Threads => (
            tr(lang, "Avsluttede samtaler"),
            tr(
                lang,
                "Dager fra en samtale ble avsluttet til den slettes med alle meldinger.",
            ),
        ),
        Category::Attachments => (
            tr(lang, "Vedlegg"),
            tr(
                lang,
                "Dager fra en samtale ble avsluttet til vedleggene i den slettes.",
            ),
        ),
        Category::Journal => (
            tr(lang, "Journalverdig innhold"),
            tr(
                lang,
                "Dager fra journalverdig innhold er merket som overført til journalen til det kan slettes her. \
                 Det som ikke er overført, slettes aldri.",
            ),
        ),
        Category::Notices => (
            tr(lang, "Varsler"),
            tr(
                lang,
                "Dager fra et varsel ble sendt til teksten og adressen slettes.",
            ),
        ),
        Category::Sessions => (
            tr(lang, "Økter"),
            tr(
                lang,
                "Dager fra en innlogging ble avsluttet til økten og mislykkede innlogginger slettes.",
            ),
        ),
    }
}

fn path(admin: &Admin) -> String {
    format!("/k/{}/ansatt/oppbevaring", admin.org)
}

/// The form, with `values` as typed (after an error) or the policy in force.
fn form_page(
    admin: &Admin,
    values: &HashMap<String, String>,
    errors: &[Category],
    saved: bool,
) -> String {
    let lang = admin.lang;
    let mut fields = String::new();
    for c in Category::ALL {
        let (name, help) = label(lang, c);
        let key = c.as_str();
        let wrong = errors.contains(&c);
        let error = if wrong {
            format!(
                "<p class=\"feil\" id=\"{key}-feil\">{}</p>\n",
                tr(lang, "Skriv et helt antall dager fra 1 til {n}.")
                    .replace("{n}", &MAX_DAYS.to_string())
            )
        } else {
            String::new()
        };
        let described = if wrong {
            format!("{key}-hjelp {key}-feil")
        } else {
            format!("{key}-hjelp")
        };
        fields.push_str(&format!(
            "<div>\n<label for=\"{key}\">{name}</label>\n<p id=\"{key}-hjelp\">{help}</p>\n{error}\
             <input id=\"{key}\" name=\"{key}\" inputmode=\"numeric\" pattern=\"[0-9]*\" size=\"6\" \
             value=\"{value}\" aria-describedby=\"{described}\"{invalid} required>\n</div>\n",
            name = tr(lang, "{navn} (dager)").replace("{navn}", name),
            value = escape(values.get(key).map_or("", String::as_str)),
            invalid = if wrong { " aria-invalid=\"true\"" } else { "" },
        ));
    }
    let status = if saved {
        format!(
            "<p role=\"status\">{}</p>\n",
            tr(lang, "Oppbevaringstidene er lagret.")
        )
    } else if !errors.is_empty() {
        format!(
            "<p role=\"alert\">{}</p>\n",
            tr(
                lang,
                "Noe må rettes før oppbevaringstidene kan lagres. Ingenting er endret."
            )
        )
    } else {
        String::new()
    };
    format!(
        "<h1>{title}</h1>\n{status}<p>{intro}</p>\n\
         <form method=\"post\" action=\"{action}\">\n{csrf}\n{fields}\
         <button type=\"submit\">{save}</button>\n</form>\n\
         <p><a href=\"/k/{org}/ansatt/protokoll\">{record}</a></p>\n\
         <p><a href=\"/k/{org}/ansatt/\">{back}</a></p>",
        title = tr(lang, "Oppbevaring og sletting"),
        intro = tr(
            lang,
            "Fortrolig er ikke pasientjournalen. Det som skal dokumenteres, merkes som journalverdig og føres i journalen; \
             kopien her slettes når tiden under er ute. Sletting skjer automatisk hver time og føres i loggen. \
             En pasient som har avsluttet portalen og ikke har noen samtaler igjen, slettes helt ved at pasientens nøkkel destrueres."
        ),
        save = tr(lang, "Lagre oppbevaringstidene"),
        record = tr(lang, "Protokoll over behandlingsaktiviteter"),
        back = tr(lang, "Tilbake"),
        action = path(admin),
        csrf = admin.csrf_field(),
        org = admin.org,
    )
}

fn values_of(policy: &Policy) -> HashMap<String, String> {
    Category::ALL
        .into_iter()
        .map(|c| (c.as_str().to_owned(), policy.days(c).to_string()))
        .collect()
}

#[derive(Debug, Deserialize)]
struct SavedQuery {
    lagret: Option<String>,
}

/// `GET /k/{clinic}/ansatt/oppbevaring`.
async fn show(
    admin: Admin,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> Result<Response, Halt> {
    let policy = admin.clinic.retention_policy().await?;
    let lang = admin.lang;
    let body = form_page(&admin, &values_of(&policy), &[], q.lagret.is_some());
    Ok(Html(page(lang, tr(lang, "Oppbevaring og sletting"), &body)).into_response())
}

/// `POST /k/{clinic}/ansatt/oppbevaring`: all periods at once; any bad one changes none
/// and shows the form again with what was typed.
async fn save(admin: Admin, Form(form): Form<HashMap<String, String>>) -> Result<Response, Halt> {
    admin.check(form.get("csrf").map_or("", String::as_str))?;
    let mut policy = Policy::default();
    let mut errors = Vec::new();
    for c in Category::ALL {
        match form.get(c.as_str()).map(|v| Days::parse(v)) {
            Some(Ok(days)) => policy.set(c, days),
            _ => errors.push(c),
        }
    }
    if !errors.is_empty() {
        let lang = admin.lang;
        let body = form_page(&admin, &form, &errors, false);
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Html(page(lang, tr(lang, "Oppbevaring og sletting"), &body)),
        )
            .into_response());
    }
    admin
        .clinic
        .set_retention_policy(&admin.ctx("oppbevaringstider"), policy)
        .await?;
    Ok(see_other(&format!("{}?lagret=1", path(&admin)), None))
}
