//! «Who has looked at my data» (P9, X3): the audit entries about the patient, shown to
//! the patient, at level high. The first route that needs level high: a session at
//! *substantial* is sent to log in again (step-up, X2), not shown an error.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use fortrolig_domain::access::{Level, Role};
use fortrolig_domain::{Action, StaffId, Timestamp};
use fortrolig_service::{ActContext, SessionSubject};

use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::Lang;
use crate::router::AppState;
use crate::session::current;
use crate::source::RequestSource;

/// Plain-language names of what was done (bokmål).
fn action_text(action: &str) -> &'static str {
    match Action::parse(action) {
        Some(Action::PatientCreated) => "Registrerte deg som pasient",
        Some(Action::PatientRead) => "Åpnet opplysningene dine",
        Some(Action::AccessDenied) => "Forsøkte å åpne opplysningene dine, men ble avvist",
        Some(Action::EmergencyAccess) => {
            "Åpnet opplysningene dine i en nødsituasjon (blir kontrollert)"
        }
        Some(Action::EmergencyReviewed) => "Kontrollerte en nødtilgang",
        Some(Action::CareStarted) => "Ble en av dine behandlere",
        Some(Action::CareEnded) => "Sluttet å være en av dine behandlere",
        Some(Action::TeamCareStarted) => "Knyttet et behandlingsteam til deg",
        Some(Action::TeamCareEnded) => "Avsluttet et behandlingsteams behandling av deg",
        Some(Action::SessionStarted) => "Innlogging",
        Some(Action::SessionEnded) => "Utlogging",
        Some(Action::PatientShredded) => "Slettet opplysningene dine",
        _ => "Annen handling",
    }
}

async fn who(clinic: &fortrolig_service::Clinic, actor_id: &str, role: &str) -> String {
    if actor_id.starts_with("patient:") {
        return "Deg".into();
    }
    if actor_id.starts_with("system:") {
        return "Systemet (klinikkens drift)".into();
    }
    let roles: Vec<&str> = role
        .split('+')
        .filter_map(Role::parse)
        .map(Role::display_name)
        .collect();
    let name = match actor_id
        .strip_prefix("staff:")
        .and_then(|id| StaffId::parse(id).ok())
    {
        Some(id) => clinic
            .staff_member(id)
            .await
            .map(|s| s.name.as_str().to_owned())
            .ok(),
        None => None,
    };
    match (name, roles.is_empty()) {
        (Some(n), false) => format!("{n} ({})", roles.join(", ")),
        (Some(n), true) => n,
        (None, _) => "Ukjent".into(),
    }
}

pub(crate) async fn access_log(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let org = crate::respond::clinic_of(&clinic)?;
    let clinic = state.app.clinic(&org).await?;
    let here = format!("/k/{org}/innsyn/logg");
    let Some(session) = current(&clinic, &headers).await? else {
        return Ok(
            Redirect::to(&format!("/k/{org}/innlogging?nivaa=hoy&neste={here}")).into_response(),
        );
    };
    let SessionSubject::Patient(patient) = session.subject else {
        return Err(WebError::NotFound);
    };
    if session.level < Level::High {
        return Ok(
            Redirect::to(&format!("/k/{org}/innlogging?nivaa=hoy&neste={here}")).into_response(),
        );
    }
    let ctx = ActContext::patient(patient, &org, source.in_session(&session), "innsyn i logg");
    clinic
        .record(
            &ctx,
            Action::PatientRead,
            Some(patient),
            "innsyn:logg",
            "innsyn i logg",
        )
        .await?;
    let mut entries = clinic
        .store()
        .entries_for_patient(&patient.to_string())
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    entries.reverse();
    let mut rows = String::new();
    for e in &entries {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&Timestamp(e.at).oslo_minutes()),
            escape(&who(&clinic, &e.actor_id, &e.actor_role).await),
            escape(action_text(&e.action)),
            if e.outcome == "denied" {
                "Avvist"
            } else {
                "Tillatt"
            },
        ));
    }
    let body = format!(
        "<h1>Hvem har sett opplysningene dine</h1>\n\
         <p>Her ser du hver gang noen ved klinikken har åpnet eller endret opplysningene dine, og hvem det var. \
         Loggen kan ikke endres i ettertid. Mener du at noen har sett noe de ikke skulle, kontakt klinikken.</p>\n\
         <table>\n<caption>{} hendelser, nyeste først</caption>\n\
         <thead><tr><th scope=\"col\">Tid</th><th scope=\"col\">Hvem</th><th scope=\"col\">Hva</th><th scope=\"col\">Utfall</th></tr></thead>\n\
         <tbody>\n{rows}</tbody>\n</table>\n<p><a href=\"/k/{org}/\">Tilbake</a></p>",
        entries.len()
    );
    Ok(Html(page(Lang::Nb, "Hvem har sett opplysningene dine", &body)).into_response())
}
