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
use crate::i18n::tr;
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
    let lang = admin.lang;
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
        "<h1>{title}</h1>\n<p>{intro}</p>\n\
         <table>\n<caption>{caption}</caption>\n<thead><tr><th scope=\"col\">{team}</th>\
         <th scope=\"col\">{members}</th><th scope=\"col\">{patients}</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n\
         <h2>{new}</h2>\n<form method=\"post\" action=\"{list}/ny\">\n{csrf}\n\
         <label for=\"navn\">{name}</label>\n<input id=\"navn\" name=\"navn\" maxlength=\"100\" autocomplete=\"off\" required>\n\
         <button type=\"submit\">{create}</button>\n</form>\n\
         <p><a href=\"/k/{org}/ansatt/tilganger\">{people}</a></p>\n<p><a href=\"/k/{org}/ansatt/\">{back}</a></p>",
        title = tr(lang, "Team"),
        intro = tr(
            lang,
            "Medlemmene av et team har behandlingsrelasjon med pasientene teamet har ansvar for, \
             så lenge de er medlemmer."
        ),
        caption = tr(lang, "Klinikkens team"),
        team = tr(lang, "Team"),
        members = tr(lang, "Medlemmer"),
        patients = tr(lang, "Pasienter"),
        new = tr(lang, "Nytt team"),
        name = tr(lang, "Navn på teamet"),
        create = tr(lang, "Opprett team"),
        people = tr(lang, "Ansatte og tilganger"),
        back = tr(lang, "Tilbake"),
        list = teams_path(&admin),
        csrf = admin.csrf_field(),
        org = admin.org,
    );
    Ok(Html(page(lang, tr(lang, "Team"), &body)).into_response())
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
            tr(admin.lang, "Teamet ble ikke opprettet"),
            tr(
                admin.lang,
                "Navnet må være på én linje og høyst 100 tegn, og ingen andre team ved klinikken kan ha samme navn.",
            ),
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
    let lang = admin.lang;
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
                 <button type=\"submit\">{}<span class=\"skjult\"> ({name})</span></button></form></li>\n",
                person.id,
                tr(lang, "Ta ut av teamet"),
            ));
        } else if person.active {
            options.push_str(&format!("<option value=\"{}\">{name}</option>", person.id));
        }
    }
    let mut since = String::new();
    for spell in admin.clinic.team_care_history(id).await? {
        if spell.ended_at.is_none() {
            since.push_str(&format!(
                "<li>{}</li>\n",
                tr(lang, "Pasient siden {dato}").replace("{dato}", &spell.since.oslo_date())
            ));
        }
    }
    let add = if options.is_empty() {
        format!("<p>{}</p>", tr(lang, "Alle ansatte er med i teamet."))
    } else {
        format!(
            "<form method=\"post\" action=\"{here}/medlem\">\n{csrf}\n<label for=\"ansatt\">{}</label>\n\
             <select id=\"ansatt\" name=\"ansatt\">{options}</select>\n<button type=\"submit\">{}</button>\n</form>",
            tr(lang, "Ansatt"),
            tr(lang, "Legg til i teamet"),
        )
    };
    let body = format!(
        "<h1>{title}</h1>\n<h2>{t_members}</h2>\n<ul>{members}</ul>\n{add}\n\
         <h2>{t_patients}</h2>\n<p>{hidden}</p>\n<ul>{since}</ul>\n\
         <form method=\"post\" action=\"{here}/pasient\">\n{csrf}\n<label for=\"fnr-start\">{fnr}</label>\n\
         <input id=\"fnr-start\" name=\"fnr\" inputmode=\"numeric\" autocomplete=\"off\" required>\n\
         <button type=\"submit\">{start}</button>\n</form>\n\
         <form method=\"post\" action=\"{here}/pasient/avslutt\">\n{csrf}\n<label for=\"fnr-slutt\">{fnr}</label>\n\
         <input id=\"fnr-slutt\" name=\"fnr\" inputmode=\"numeric\" autocomplete=\"off\" required>\n\
         <button type=\"submit\">{end}</button>\n</form>\n\
         <p><a href=\"{list}\">{all}</a></p>",
        title = tr(lang, "Team: {navn}").replace("{navn}", &escape(&team.name)),
        t_members = tr(lang, "Medlemmer"),
        t_patients = tr(lang, "Pasienter teamet har ansvar for"),
        hidden = tr(
            lang,
            "Du ser ikke hvem pasientene er. \
             Oppgi fødselsnummeret for å starte eller avslutte teamets behandlingsrelasjon."
        ),
        fnr = tr(lang, "Fødselsnummer"),
        start = tr(lang, "Start behandlingsrelasjon"),
        end = tr(lang, "Avslutt behandlingsrelasjon"),
        all = tr(lang, "Alle team"),
        list = teams_path(&admin),
    );
    Ok(Html(page(lang, tr(lang, "Team"), &body)).into_response())
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
        return Err(admin.refuse(
            tr(admin.lang, "Ukjent ansatt"),
            tr(admin.lang, "Velg en ansatt fra listen."),
            &here,
        ));
    };
    let result = admin
        .clinic
        .add_team_member(&admin.ctx("nytt teammedlem"), team, staff)
        .await;
    changed(
        &admin,
        result,
        &here,
        tr(admin.lang, "Personen ble ikke lagt til"),
        tr(
            admin.lang,
            "Personen er allerede med i teamet, eller har sluttet.",
        ),
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
        tr(admin.lang, "Ingenting ble endret"),
        tr(admin.lang, "Personen er ikke med i teamet."),
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
            tr(admin.lang, "Ugyldig fødselsnummer"),
            tr(admin.lang, "Sjekk de elleve sifrene og prøv igjen."),
            back,
        ));
    };
    admin
        .clinic
        .patient_id_by_number(&number)
        .await?
        .ok_or_else(|| {
            admin.refuse(
                tr(admin.lang, "Fant ingen pasient"),
                tr(
                    admin.lang,
                    "Ingen pasient ved klinikken har dette fødselsnummeret.",
                ),
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
        tr(admin.lang, "Ingenting ble endret"),
        tr(
            admin.lang,
            "Teamet har allerede behandlingsrelasjon med denne pasienten.",
        ),
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
        tr(admin.lang, "Ingenting ble endret"),
        tr(
            admin.lang,
            "Teamet har ingen behandlingsrelasjon med denne pasienten.",
        ),
    )
}

/// Back to the team after a change; a refusal in plain words (`title` and `why` in the
/// admin's language) when the service said no.
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
