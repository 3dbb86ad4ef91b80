//! The clinic's record of processing activities (C3), for its administrator: a page, and
//! the same record as a text document the clinic keeps with its internal control. Made
//! from this installation's setup (`fortrolig_domain::processing`), never typed by hand.
//! The record's content is bokmål, as the domain writes it; the page around it follows the
//! reader's language, the text document is bokmål throughout.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use fortrolig_domain::processing::{Activity, SECURITY, Setup, TRANSFERS, activities};
use fortrolig_domain::retention::Policy;

use crate::admin::{Admin, Halt};
use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{Lang, n_, tr};
use crate::router::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/k/{clinic}/ansatt/protokoll", get(show))
        .route("/k/{clinic}/ansatt/protokoll.txt", get(document))
}

/// The record's heading facts: controller, date, where the data is.
struct Heading {
    clinic: String,
    org: String,
    date: String,
    /// The database engine the data is stored in.
    engine: String,
    /// The clinic's retention periods (X4).
    retention: Policy,
}

async fn heading(state: &AppState, admin: &Admin) -> Result<Heading, WebError> {
    let entry = state
        .app
        .stores()
        .clinic(&admin.org)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .ok_or(WebError::NotFound)?;
    Ok(Heading {
        clinic: entry.name,
        org: admin.org.to_string(),
        date: state.app.now().oslo_date(),
        engine: engine(&state.processing).to_owned(),
        retention: admin.clinic.retention_policy().await?,
    })
}

fn engine(setup: &Setup) -> &str {
    if setup.storage.is_empty() {
        "SQLite"
    } else {
        setup.storage.as_str()
    }
}

fn storage_text(lang: Lang, engine: &str) -> String {
    tr(
        lang,
        "Klinikkens egen database ({motor}), kryptert i applikasjonen.",
    )
    .replace("{motor}", engine)
}

const CLINIC_FILLS_IN: &str =
    n_("Kontaktperson, personvernombud og EPJ-leverandør fylles inn av klinikken.");

fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("<li>{}</li>", escape(i)))
        .collect::<Vec<_>>()
        .join("")
}

fn activity_html(lang: Lang, a: &Activity) -> String {
    let subjects: Vec<String> = a.data_subjects.iter().map(|s| (*s).to_owned()).collect();
    format!(
        "<section>\n<h2>{name}</h2>\n<dl>\n\
         <dt>{t_purpose}</dt><dd>{purpose}</dd>\n\
         <dt>{t_basis}</dt><dd>{basis}</dd>\n\
         <dt>{t_subjects}</dt><dd><ul>{subjects}</ul></dd>\n\
         <dt>{t_data}</dt><dd><ul>{data}</ul></dd>\n\
         <dt>{t_recipients}</dt><dd><ul>{recipients}</ul></dd>\n\
         <dt>{t_retention}</dt><dd>{retention}</dd>\n</dl>\n</section>\n",
        t_purpose = tr(lang, "Formål"),
        t_basis = tr(lang, "Rettslig grunnlag"),
        t_subjects = tr(lang, "Hvem opplysningene gjelder"),
        t_data = tr(lang, "Opplysninger"),
        t_recipients = tr(lang, "Mottakere"),
        t_retention = tr(lang, "Oppbevaring og sletting"),
        name = escape(a.name),
        purpose = escape(a.purpose),
        basis = escape(a.legal_basis),
        subjects = list(&subjects),
        data = list(&a.data),
        recipients = list(&a.recipients),
        retention = escape(&a.retention),
    )
}

/// `GET /k/{clinic}/ansatt/protokoll`.
async fn show(State(state): State<AppState>, admin: Admin) -> Result<Response, Halt> {
    let lang = admin.lang;
    let h = heading(&state, &admin).await?;
    let sections: String = activities(&state.processing, &h.retention)
        .iter()
        .map(|a| activity_html(lang, a))
        .collect();
    let security: Vec<String> = SECURITY.iter().map(|s| (*s).to_owned()).collect();
    let body = format!(
        "<h1>{title}</h1>\n<p>{controller}</p>\n<p>{fills}</p>\n\
         <p><a href=\"/k/{org}/ansatt/protokoll.txt\">{download}</a></p>\n\
         {sections}<section>\n<h2>{t_security}</h2>\n<ul>{security}</ul>\n\
         <p>{storage}</p>\n<p>{transfers}</p>\n</section>\n\
         <p><a href=\"/k/{org}/ansatt/\">{back}</a></p>",
        title = tr(lang, "Protokoll over behandlingsaktiviteter"),
        controller = tr(
            lang,
            "Behandlingsansvarlig: <strong>{klinikk}</strong>, org.nr. {orgnr}. Laget {dato} fra oppsettet av Fortrolig."
        )
        .replace("{klinikk}", &escape(&h.clinic))
        .replace("{orgnr}", &escape(&h.org))
        .replace("{dato}", &escape(&h.date)),
        fills = tr(lang, CLINIC_FILLS_IN),
        download = tr(lang, "Last ned protokollen som tekstfil"),
        t_security = tr(lang, "Sikkerhet for alle aktivitetene"),
        security = list(&security),
        storage = tr(lang, "Lagring: {lagring}")
            .replace("{lagring}", &escape(&storage_text(lang, &h.engine))),
        transfers = escape(TRANSFERS),
        org = escape(&h.org),
        back = tr(lang, "Tilbake"),
    );
    Ok(Html(page(
        lang,
        tr(lang, "Protokoll over behandlingsaktiviteter"),
        &body,
    ))
    .into_response())
}

/// The record as plain text, for the clinic's files.
fn text(h: &Heading, setup: &Setup) -> String {
    let mut out = format!(
        "PROTOKOLL OVER BEHANDLINGSAKTIVITETER\n\n\
         Behandlingsansvarlig: {} (org.nr. {})\nLaget: {} fra oppsettet av Fortrolig\n{CLINIC_FILLS_IN}\n",
        h.clinic, h.org, h.date
    );
    for (i, a) in activities(setup, &h.retention).iter().enumerate() {
        out.push_str(&format!(
            "\n{}. {}\n   Formål: {}\n   Rettslig grunnlag: {}\n   Hvem opplysningene gjelder: {}\n",
            i + 1,
            a.name,
            a.purpose,
            a.legal_basis,
            a.data_subjects.join(", "),
        ));
        out.push_str("   Opplysninger:\n");
        for d in &a.data {
            out.push_str(&format!("   - {d}\n"));
        }
        out.push_str("   Mottakere:\n");
        for r in &a.recipients {
            out.push_str(&format!("   - {r}\n"));
        }
        out.push_str(&format!("   Oppbevaring og sletting: {}\n", a.retention));
    }
    out.push_str("\nSIKKERHET FOR ALLE AKTIVITETENE\n");
    for s in SECURITY {
        out.push_str(&format!("- {s}\n"));
    }
    out.push_str(&format!(
        "Lagring: {}\n{TRANSFERS}\n",
        storage_text(Lang::Nb, &h.engine)
    ));
    out
}

/// `GET /k/{clinic}/ansatt/protokoll.txt`.
async fn document(State(state): State<AppState>, admin: Admin) -> Result<Response, Halt> {
    let h = heading(&state, &admin).await?;
    let body = text(&h, &state.processing);
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"behandlingsprotokoll-{}.txt\"",
                    h.org
                ),
            ),
        ],
        body,
    )
        .into_response())
}
