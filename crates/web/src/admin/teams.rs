//! `/k/{clinic}/ansatt/team`: teams, their members and their care relationships (S1).
//! A team's current members reach the health data of the patients the team treats (with
//! a clinical role, at level high). The administrator manages who is in a team and which
//! patients it treats, but sees no patient data: patients are named by identity number
//! only when a care relationship is started or ended, and listed without names.

use axum::Form;
use axum::response::{Html, IntoResponse, Response};
use fortrolig_domain::{PatientId, PersonNumber, StaffId, TeamId};
use fortrolig_service::ServiceError;
use serde::Deserialize;

use super::{Admin, Halt};
use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::Lang;
use crate::respond::see_other;

fn teams_path(admin: &Admin) -> String {
    format!("/k/{}/ansatt/team", admin.org)
}

fn team_path(admin: &Admin, team: TeamId) -> String {
    format!("/k/{}/ansatt/team/{team}", admin.org)
}

fn team_of(admin: &Admin) -> Result<TeamId, Halt> {
    admin.part("team", |s| TeamId::parse(s).ok())
}

/// `GET`: the clinic's teams, and a form for a new one.
pub(super) async fn list(admin: Admin) -> Result<Response, Halt> {
    let mut rows = String::new();
    for team in admin.clinic.teams().await? {
        rows.push_str(&format!(
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td></tr>\n",
            team_path(&admin, team.id),
            escape(&team.name),
            team.members.len(),
            team.patients.len(),
        ));
    }
    let body = format!(
        "<h1>Team</h1>\n<p>Medlemmene av et team har behandlingsrelasjon med pasientene teamet har ansvar for, \
         så lenge de er medlemmer.</p>\n\
         <table>\n<caption>Klinikkens team</caption>\n<thead><tr><th scope=\"col\">Team</th>\
         <th scope=\"col\">Medlemmer</th><th scope=\"col\">Pasienter</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n\
         <h2>Nytt team</h2>\n<form method=\"post\" action=\"{list}/ny\">\n{csrf}\n\
         <label for=\"navn\">Navn på teamet</label>\n<input id=\"navn\" name=\"navn\" maxlength=\"100\" autocomplete=\"off\" required>\n\
         <button type=\"submit\">Opprett team</button>\n</form>\n\
         <p><a href=\"/k/{org}/ansatt/tilganger\">Ansatte og tilganger</a></p>\n<p><a href=\"/k/{org}/ansatt/\">Tilbake</a></p>",
        list = teams_path(&admin),
        csrf = admin.csrf_field(),
        org = admin.org,
    );
    Ok(Html(page(Lang::Nb, "Team", &body)).into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct NewTeamForm {
    csrf: String,
    navn: String,
}

/// `POST …/ny`: a new team.
pub(super) async fn create(admin: Admin, Form(form): Form<NewTeamForm>) -> Result<Response, Halt> {
    admin.check(&form.csrf)?;
    match admin
        .clinic
        .create_team(&admin.ctx("nytt team"), &form.navn)
        .await
    {
        Ok(team) => Ok(see_other(&team_path(&admin, team), None)),
        Err(ServiceError::Invalid(_)) => Err(admin.refuse(
            "Teamet ble ikke opprettet",
            "Navnet må være på én linje og høyst 100 tegn, og ingen andre team ved klinikken kan ha samme navn.",
            &teams_path(&admin),
        )),
        Err(e) => Err(e.into()),
    }
}

/// `GET …/{team}`: members with a way out, a way in for others, and the team's patients.
pub(super) async fn team(admin: Admin) -> Result<Response, Halt> {
    let id = team_of(&admin)?;
    let team = match admin.clinic.team(id).await {
        Ok(team) => team,
        Err(ServiceError::NoSuchTeam) => return Err(WebError::NotFound.into()),
        Err(e) => return Err(e.into()),
    };
    let here = team_path(&admin, id);
    let csrf = admin.csrf_field();
    let staff = admin.clinic.staff_list().await?;
    let mut members = String::new();
    let mut options = String::new();
    for person in &staff {
        let name = escape(person.name.as_str());
        if team.members.contains(&person.id) {
            members.push_str(&format!(
                "<li>{name} <form class=\"innfelt\" method=\"post\" action=\"{here}/medlem/{}/fjern\">{csrf}\
                 <button type=\"submit\">Ta ut av teamet<span class=\"skjult\"> ({name})</span></button></form></li>\n",
                person.id
            ));
        } else if person.active {
            options.push_str(&format!("<option value=\"{}\">{name}</option>", person.id));
        }
    }
    let mut since = String::new();
    for spell in admin.clinic.team_care_history(id).await? {
        if spell.ended_at.is_none() {
            since.push_str(&format!(
                "<li>Pasient siden {}</li>\n",
                spell.since.oslo_date()
            ));
        }
    }
    let add = if options.is_empty() {
        "<p>Alle ansatte er med i teamet.</p>".to_owned()
    } else {
        format!(
            "<form method=\"post\" action=\"{here}/medlem\">\n{csrf}\n<label for=\"ansatt\">Ansatt</label>\n\
             <select id=\"ansatt\" name=\"ansatt\">{options}</select>\n<button type=\"submit\">Legg til i teamet</button>\n</form>"
        )
    };
    let body = format!(
        "<h1>Team: {name}</h1>\n<h2>Medlemmer</h2>\n<ul>{members}</ul>\n{add}\n\
         <h2>Pasienter teamet har ansvar for</h2>\n<p>Du ser ikke hvem pasientene er. \
         Oppgi fødselsnummeret for å starte eller avslutte teamets behandlingsrelasjon.</p>\n<ul>{since}</ul>\n\
         <form method=\"post\" action=\"{here}/pasient\">\n{csrf}\n<label for=\"fnr-start\">Fødselsnummer</label>\n\
         <input id=\"fnr-start\" name=\"fnr\" inputmode=\"numeric\" autocomplete=\"off\" required>\n\
         <button type=\"submit\">Start behandlingsrelasjon</button>\n</form>\n\
         <form method=\"post\" action=\"{here}/pasient/avslutt\">\n{csrf}\n<label for=\"fnr-slutt\">Fødselsnummer</label>\n\
         <input id=\"fnr-slutt\" name=\"fnr\" inputmode=\"numeric\" autocomplete=\"off\" required>\n\
         <button type=\"submit\">Avslutt behandlingsrelasjon</button>\n</form>\n\
         <p><a href=\"{list}\">Alle team</a></p>",
        name = escape(&team.name),
        list = teams_path(&admin),
    );
    Ok(Html(page(Lang::Nb, "Team", &body)).into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct MemberForm {
    csrf: String,
    ansatt: String,
}

/// `POST …/{team}/medlem`: a member of staff joins from now.
pub(super) async fn add_member(
    admin: Admin,
    Form(form): Form<MemberForm>,
) -> Result<Response, Halt> {
    admin.check(&form.csrf)?;
    let team = team_of(&admin)?;
    let here = team_path(&admin, team);
    let Ok(staff) = StaffId::parse(&form.ansatt) else {
        return Err(admin.refuse("Ukjent ansatt", "Velg en ansatt fra listen.", &here));
    };
    let result = admin
        .clinic
        .add_team_member(&admin.ctx("nytt teammedlem"), team, staff)
        .await;
    changed(
        &admin,
        result,
        &here,
        "Personen ble ikke lagt til",
        "Personen er allerede med i teamet, eller har sluttet.",
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

/// `POST …/{team}/medlem/{staff}/fjern`: a membership ends now, and access through it.
pub(super) async fn remove_member(
    admin: Admin,
    Form(form): Form<CsrfForm>,
) -> Result<Response, Halt> {
    admin.check(&form.csrf)?;
    let team = team_of(&admin)?;
    let staff = admin.part("staff", |s| StaffId::parse(s).ok())?;
    let here = team_path(&admin, team);
    let result = admin
        .clinic
        .remove_team_member(&admin.ctx("teammedlem tatt ut"), team, staff)
        .await;
    changed(
        &admin,
        result,
        &here,
        "Ingenting ble endret",
        "Personen er ikke med i teamet.",
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct PatientForm {
    csrf: String,
    fnr: String,
}

/// The patient a typed identity number names, or a refusal that says which is wrong.
async fn patient_of(admin: &Admin, fnr: &str, back: &str) -> Result<PatientId, Halt> {
    let Ok(number) = PersonNumber::parse(fnr) else {
        return Err(admin.refuse(
            "Ugyldig fødselsnummer",
            "Sjekk de elleve sifrene og prøv igjen.",
            back,
        ));
    };
    admin
        .clinic
        .patient_id_by_number(&number)
        .await?
        .ok_or_else(|| {
            admin.refuse(
                "Fant ingen pasient",
                "Ingen pasient ved klinikken har dette fødselsnummeret.",
                back,
            )
        })
}

/// `POST …/{team}/pasient`: the team starts treating a patient.
pub(super) async fn start_care(
    admin: Admin,
    Form(form): Form<PatientForm>,
) -> Result<Response, Halt> {
    admin.check(&form.csrf)?;
    let team = team_of(&admin)?;
    let here = team_path(&admin, team);
    let patient = patient_of(&admin, &form.fnr, &here).await?;
    let result = admin
        .clinic
        .start_team_care(&admin.ctx("teamet har behandlingsansvar"), team, patient)
        .await;
    changed(
        &admin,
        result,
        &here,
        "Ingenting ble endret",
        "Teamet har allerede behandlingsrelasjon med denne pasienten.",
    )
}

/// `POST …/{team}/pasient/avslutt`: the team's care relationship with a patient ends now.
pub(super) async fn end_care(
    admin: Admin,
    Form(form): Form<PatientForm>,
) -> Result<Response, Halt> {
    admin.check(&form.csrf)?;
    let team = team_of(&admin)?;
    let here = team_path(&admin, team);
    let patient = patient_of(&admin, &form.fnr, &here).await?;
    let result = admin
        .clinic
        .end_team_care(
            &admin.ctx("teamets behandlingsansvar avsluttet"),
            team,
            patient,
        )
        .await;
    changed(
        &admin,
        result,
        &here,
        "Ingenting ble endret",
        "Teamet har ingen behandlingsrelasjon med denne pasienten.",
    )
}

/// Back to the team after a change; a refusal in plain words when the service said no.
fn changed(
    admin: &Admin,
    result: Result<(), ServiceError>,
    here: &str,
    title: &str,
    why: &str,
) -> Result<Response, Halt> {
    match result {
        Ok(()) => Ok(see_other(here, None)),
        Err(ServiceError::Invalid(_) | ServiceError::NoSuchStaff) => {
            Err(admin.refuse(title, why, here))
        }
        Err(ServiceError::NoSuchTeam) => Err(WebError::NotFound.into()),
        Err(e) => Err(e.into()),
    }
}
