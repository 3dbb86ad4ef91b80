//! `/k/{clinic}/ansatt/tilganger`: the clinic's people and their authorisations (S2).
//! An authorisation always has an end date (at most three years on); changing the end
//! date ends the old one and starts a new one, so the record keeps both. An authorisation
//! may cover other clinics too, when the administrator is an administrator there as well.

use axum::Form;
use axum::response::{Html, IntoResponse, Response};
use fortrolig_domain::access::Role;
use fortrolig_domain::{
    GrantId, HprNumber, OrgNumber, PersonName, PersonNumber, StaffId, Timestamp,
};
use fortrolig_service::{
    AccessError, Authorisation, Grantor, MAX_AUTHORISATION_MICROS, ServiceError, Staff,
};
use serde::Deserialize;

use super::{Admin, Halt};
use crate::html::{escape, page};
use crate::i18n::Lang;
use crate::respond::see_other;

const DAY_MICROS: i64 = 86_400_000_000;

fn list_path(org: &OrgNumber) -> String {
    format!("/k/{org}/ansatt/tilganger")
}

fn person_path(org: &OrgNumber, staff: StaffId) -> String {
    format!("/k/{org}/ansatt/tilganger/{staff}")
}

/// Where an authorisation stands now, in words.
fn standing(a: &Authorisation, now: Timestamp) -> &'static str {
    match a.ended_at {
        Some(_) => "Avsluttet",
        None if a.valid_until <= now => "Utløpt",
        None if a.valid_from > now => "Ikke startet",
        None => "I kraft",
    }
}

fn in_force(a: &Authorisation, now: Timestamp) -> bool {
    a.ended_at.is_none() && now < a.valid_until
}

/// The last day an authorisation counts, as a date field shows it: it ends at the
/// start of the next day.
fn last_day(until: Timestamp) -> String {
    Timestamp(until.0 - 1).oslo_date()
}

/// `GET`: everyone at the clinic, with their roles in force.
pub(super) async fn list(admin: Admin) -> Result<Response, Halt> {
    let now = admin.now();
    let org = &admin.org;
    let mut rows = String::new();
    for person in admin.clinic.staff_list().await? {
        let roles: Vec<String> = admin
            .clinic
            .authorisation_history(person.id)
            .await?
            .iter()
            .filter(|a| in_force(a, now) && a.valid_from <= now)
            .map(|a| {
                format!(
                    "{} (til {})",
                    a.role.display_name(),
                    last_day(a.valid_until)
                )
            })
            .collect();
        rows.push_str(&format!(
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            person_path(org, person.id),
            escape(person.name.as_str()),
            escape(person.hpr.as_ref().map_or("–", |h| h.as_str())),
            if person.active { "Ansatt" } else { "Sluttet" },
            escape(&if roles.is_empty() {
                "–".to_owned()
            } else {
                roles.join(", ")
            }),
        ));
    }
    let body = format!(
        "<h1>Ansatte og tilganger</h1>\n<p>Gi bare tilganger som trengs i arbeidet, alltid med en sluttdato. \
         Alle endringer logges.</p>\n\
         <table>\n<caption>Ansatte ved klinikken</caption>\n<thead><tr><th scope=\"col\">Navn</th>\
         <th scope=\"col\">HPR-nummer</th><th scope=\"col\">Status</th><th scope=\"col\">Roller i kraft</th></tr></thead>\n\
         <tbody>\n{rows}</tbody>\n</table>\n\
         <h2>Legg til ansatt</h2>\n<form method=\"post\" action=\"{list}/ny\">\n{csrf}\n\
         <label for=\"navn\">Fullt navn</label>\n<input id=\"navn\" name=\"navn\" autocomplete=\"off\" required>\n\
         <label for=\"hpr\">HPR-nummer (for helsepersonell)</label>\n<input id=\"hpr\" name=\"hpr\" inputmode=\"numeric\" autocomplete=\"off\">\n\
         <label for=\"fnr\">Fødselsnummer (for innlogging med HelseID)</label>\n<input id=\"fnr\" name=\"fnr\" inputmode=\"numeric\" autocomplete=\"off\">\n\
         <button type=\"submit\">Legg til</button>\n</form>\n\
         <p><a href=\"/k/{org}/ansatt/team\">Team</a></p>\n<p><a href=\"/k/{org}/ansatt/\">Tilbake</a></p>",
        list = list_path(org),
        csrf = admin.csrf_field(),
    );
    Ok(Html(page(Lang::Nb, "Ansatte og tilganger", &body)).into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct NewStaffForm {
    csrf: String,
    navn: String,
    #[serde(default)]
    hpr: String,
    #[serde(default)]
    fnr: String,
}

/// `POST …/ny`: a new member of staff, then their page to grant roles.
pub(super) async fn add(admin: Admin, Form(form): Form<NewStaffForm>) -> Result<Response, Halt> {
    admin.check(&form.csrf)?;
    let back = list_path(&admin.org);
    let Ok(name) = PersonName::parse(&form.navn) else {
        return Err(admin.refuse("Ugyldig navn", "Skriv personens fulle navn.", &back));
    };
    let hpr = match form.hpr.trim() {
        "" => None,
        text => match HprNumber::parse(text) {
            Ok(hpr) => Some(hpr),
            Err(_) => {
                return Err(admin.refuse(
                    "Ugyldig HPR-nummer",
                    "HPR-nummeret er et tall på sju til ni sifre.",
                    &back,
                ));
            }
        },
    };
    let number = match form.fnr.trim() {
        "" => None,
        text => match PersonNumber::parse(text) {
            Ok(number) => Some(number),
            Err(_) => {
                return Err(admin.refuse(
                    "Ugyldig fødselsnummer",
                    "Sjekk de elleve sifrene og prøv igjen.",
                    &back,
                ));
            }
        },
    };
    if let Some(number) = &number
        && admin.clinic.staff_id_by_number(number).await?.is_some()
    {
        return Err(admin.refuse(
            "Personen er allerede registrert",
            "En ansatt ved klinikken har allerede dette fødselsnummeret.",
            &back,
        ));
    }
    let ctx = admin.ctx("ny ansatt");
    let staff = admin.clinic.add_staff(&ctx, &name, hpr.as_ref()).await?;
    if let Some(number) = &number {
        admin
            .clinic
            .link_staff_identity(&ctx, staff, number)
            .await?;
    }
    Ok(see_other(&person_path(&admin.org, staff), None))
}

fn person_of(admin: &Admin) -> Result<StaffId, Halt> {
    admin.part("staff", |s| StaffId::parse(s).ok())
}

/// `GET …/{staff}`: one person's authorisations, past and present, and the forms.
pub(super) async fn person(admin: Admin) -> Result<Response, Halt> {
    let staff = person_of(&admin)?;
    let person: Staff = match admin.clinic.staff_member(staff).await {
        Ok(person) => person,
        Err(ServiceError::NoSuchStaff) => return Err(crate::error::WebError::NotFound.into()),
        Err(e) => return Err(e.into()),
    };
    let now = admin.now();
    let here = person_path(&admin.org, staff);
    let csrf = admin.csrf_field();
    let mut rows = String::new();
    for a in admin.clinic.authorisation_history(staff).await? {
        let covers = if a.is_shared() {
            a.covers
                .iter()
                .map(OrgNumber::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            "Denne virksomheten".to_owned()
        };
        let actions = if in_force(&a, now) {
            let change = if a.is_shared() {
                String::new()
            } else {
                format!(
                    "<form method=\"post\" action=\"{here}/{id}/endre\">{csrf}\
                     <label for=\"til-{id}\">Ny siste dag</label>\
                     <input type=\"date\" id=\"til-{id}\" name=\"til\" value=\"{last}\" required>\
                     <button type=\"submit\">Endre sluttdato</button></form>",
                    id = a.id,
                    last = last_day(a.valid_until),
                )
            };
            format!(
                "{change}<form method=\"post\" action=\"{here}/{id}/avslutt\">{csrf}\
                 <button type=\"submit\">Avslutt nå{everywhere}</button></form>",
                id = a.id,
                everywhere = if a.is_shared() {
                    " i alle virksomhetene"
                } else {
                    ""
                },
            )
        } else {
            String::new()
        };
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{actions}</td></tr>\n",
            escape(a.role.display_name()),
            escape(&a.valid_from.oslo_date()),
            escape(&last_day(a.valid_until)),
            escape(&covers),
            standing(&a, now),
        ));
    }
    let options: String = Role::ALL
        .into_iter()
        .filter(|r| *r != Role::Operator)
        .map(|r| {
            format!(
                "<option value=\"{}\">{}</option>",
                r.as_str(),
                r.display_name()
            )
        })
        .collect();
    let forms = if person.active {
        format!(
            "<h2>Gi tilgang</h2>\n<form method=\"post\" action=\"{here}/tildel\">\n{csrf}\n\
             <label for=\"rolle\">Rolle</label>\n<select id=\"rolle\" name=\"rolle\">{options}</select>\n\
             <label for=\"fra\">Første dag</label>\n<input type=\"date\" id=\"fra\" name=\"fra\" value=\"{today}\" required>\n\
             <label for=\"til\">Siste dag (høyst tre år fram)</label>\n<input type=\"date\" id=\"til\" name=\"til\" value=\"{year}\" required>\n\
             <label for=\"andre\">Gjelder også virksomhetene (organisasjonsnumre, skilt med komma; tomt for bare denne)</label>\n\
             <input id=\"andre\" name=\"andre\" inputmode=\"numeric\" autocomplete=\"off\">\n\
             <button type=\"submit\">Gi tilgang</button>\n</form>\n\
             <h2>Slutter</h2>\n<p>Når en person slutter, avsluttes alle tilganger, team og økter med en gang.</p>\n\
             <form method=\"post\" action=\"{here}/slutter\">\n{csrf}\n\
             <input type=\"checkbox\" id=\"bekreft\" name=\"bekreft\" value=\"ja\" required>\n\
             <label for=\"bekreft\">Jeg bekrefter at {name} har sluttet</label>\n\
             <button type=\"submit\">Registrer at personen har sluttet</button>\n</form>",
            today = now.oslo_date(),
            year = last_day(Timestamp(now.0 + 365 * DAY_MICROS)),
            name = escape(person.name.as_str()),
        )
    } else {
        "<p>Personen har sluttet. Tilganger kan ikke gis.</p>".to_owned()
    };
    let body = format!(
        "<h1>{name}</h1>\n<p>HPR-nummer: {hpr}. Status: {status}.</p>\n\
         <table>\n<caption>Tilganger, nyeste først</caption>\n<thead><tr><th scope=\"col\">Rolle</th>\
         <th scope=\"col\">Første dag</th><th scope=\"col\">Siste dag</th><th scope=\"col\">Gjelder</th>\
         <th scope=\"col\">Status</th><th scope=\"col\">Endre</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n\
         {forms}\n<p><a href=\"{list}\">Alle ansatte</a></p>",
        name = escape(person.name.as_str()),
        hpr = escape(person.hpr.as_ref().map_or("–", |h| h.as_str())),
        status = if person.active { "ansatt" } else { "sluttet" },
        list = list_path(&admin.org),
    );
    Ok(Html(page(Lang::Nb, "Tilganger", &body)).into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct GrantForm {
    csrf: String,
    rolle: String,
    fra: String,
    til: String,
    #[serde(default)]
    andre: String,
}

/// The period of a grant from two date fields: from the start of the first day to the
/// end of the last, at most three years.
fn period(admin: &Admin, fra: &str, til: &str, back: &str) -> Result<(Timestamp, Timestamp), Halt> {
    let (Some(from), Some(last)) = (
        Timestamp::oslo_day_start(fra.trim()),
        Timestamp::oslo_day_start(til.trim()),
    ) else {
        return Err(admin.refuse("Ugyldig dato", "Velg både første og siste dag.", back));
    };
    let until = Timestamp(last.0 + DAY_MICROS);
    if until <= from || until <= admin.now() {
        return Err(admin.refuse(
            "Ugyldig periode",
            "Siste dag må være i dag eller senere, og ikke før første dag.",
            back,
        ));
    }
    if until.0 - from.0 > MAX_AUTHORISATION_MICROS {
        return Err(admin.refuse(
            "For lang periode",
            "En tilgang kan vare i høyst tre år. Forny den etter tilgangsgjennomgangen.",
            back,
        ));
    }
    Ok((from, until))
}

/// `POST …/{staff}/tildel`: a new authorisation, here or across clinics.
pub(super) async fn grant(admin: Admin, Form(form): Form<GrantForm>) -> Result<Response, Halt> {
    admin.check(&form.csrf)?;
    let staff = person_of(&admin)?;
    let here = person_path(&admin.org, staff);
    let Some(role) = Role::parse(&form.rolle).filter(|r| *r != Role::Operator) else {
        return Err(admin.refuse("Ukjent rolle", "Velg en rolle fra listen.", &here));
    };
    let (from, until) = period(&admin, &form.fra, &form.til, &here)?;
    let mut others = Vec::new();
    for part in form.andre.split([',', ' ', ';']).filter(|p| !p.is_empty()) {
        match OrgNumber::parse(part) {
            Ok(org) if org != admin.org => others.push(org),
            Ok(_) => {}
            Err(_) => {
                return Err(admin.refuse(
                    "Ugyldig organisasjonsnummer",
                    "Et organisasjonsnummer har ni sifre. Skill flere med komma.",
                    &here,
                ));
            }
        }
    }
    if others.is_empty() {
        match admin
            .clinic
            .grant_role(&admin.ctx("tildeling av tilgang"), staff, role, from, until)
            .await
        {
            Ok(_) => {}
            Err(ServiceError::Invalid(_)) => {
                return Err(admin.refuse(
                    "Tilgangen ble ikke gitt",
                    "Personen har sluttet og må registreres på nytt før tilgang kan gis.",
                    &here,
                ));
            }
            Err(e) => return Err(e.into()),
        }
        return Ok(see_other(&here, None));
    }
    let holder = identity_of(&admin, staff, "Personen", &here).await?;
    let grantor = grantor(&admin, &here).await?;
    others.push(admin.org.clone());
    let result = admin
        .app
        .grant_across_clinics(
            &grantor,
            &holder,
            role,
            from,
            until,
            &others,
            "tildeling av tilgang",
        )
        .await;
    across_clinics(&admin, result.map(|_| ()), &here)?;
    Ok(see_other(&here, None))
}

/// The identity number a member of staff is linked to, which finds them in other clinics.
async fn identity_of(
    admin: &Admin,
    staff: StaffId,
    who: &str,
    back: &str,
) -> Result<PersonNumber, Halt> {
    admin.clinic.staff_person_number(staff).await?.ok_or_else(|| {
        admin.refuse(
            "Fødselsnummer mangler",
            &format!(
                "{who} er ikke knyttet til et fødselsnummer her, så personen kan ikke finnes i andre \
                 virksomheter. Registrer fødselsnummeret (fortrolig staff add --fnr), eller gi tilgangen \
                 i hver virksomhet for seg."
            ),
            back,
        )
    })
}

/// The administrator as grantor across clinics: known in every clinic by identity number.
async fn grantor(admin: &Admin, back: &str) -> Result<Grantor, Halt> {
    Ok(Grantor::Administrator {
        number: identity_of(admin, admin.staff, "Du", back).await?,
        level: admin.session.level,
        source: admin.source.clone(),
    })
}

/// Norwegian words for how a change across clinics went.
fn across_clinics(admin: &Admin, result: Result<(), AccessError>, back: &str) -> Result<(), Halt> {
    match result {
        Ok(()) => Ok(()),
        Err(AccessError::StepUp(_)) => Err(Halt::page(see_other(
            &format!("/k/{}/ansatt/innlogging?nivaa=hoy&neste={back}", admin.org),
            None,
        ))),
        Err(AccessError::Denied(_)) => Err(Halt::page(crate::respond::message(
            Lang::Nb,
            axum::http::StatusCode::FORBIDDEN,
            "Ingen tilgang i alle virksomhetene",
            "Du må være administrator i hver virksomhet tilgangen gjelder. Ingenting er endret, og forsøket er logget.",
            back,
        ))),
        Err(AccessError::Service(ServiceError::Incomplete { in_force, .. })) => Err(admin.refuse(
            "Endringen ble bare delvis gjort",
            &format!(
                "Tilgangen er fortsatt i kraft i {}. Prøv igjen for å fullføre.",
                in_force.join(", ")
            ),
            back,
        )),
        Err(AccessError::Service(e))
            if matches!(e, ServiceError::Invalid(_)) || e.is_unknown_clinic() =>
        {
            Err(admin.refuse(
                "Ingenting ble endret",
                "Alle virksomhetene må være registrert her, og personen må være registrert som ansatt \
                 med fødselsnummer i hver av dem. Tilgangen kan være avsluttet allerede.",
                back,
            ))
        }
        Err(AccessError::Service(e)) => Err(e.into()),
    }
}

fn grant_of(admin: &Admin) -> Result<GrantId, Halt> {
    admin.part("grant", |s| GrantId::parse(s).ok())
}

/// The authorisation named in the path, if it belongs to the person named there.
async fn held(admin: &Admin, staff: StaffId, grant: GrantId) -> Result<Authorisation, Halt> {
    admin
        .clinic
        .authorisation(grant)
        .await?
        .filter(|a| a.staff == staff)
        .ok_or(Halt::Error(crate::error::WebError::NotFound))
}

#[derive(Debug, Deserialize)]
pub(super) struct ChangeForm {
    csrf: String,
    til: String,
}

/// `POST …/{staff}/{grant}/endre`: a new last day for an authorisation in force.
pub(super) async fn change(admin: Admin, Form(form): Form<ChangeForm>) -> Result<Response, Halt> {
    admin.check(&form.csrf)?;
    let staff = person_of(&admin)?;
    let grant = grant_of(&admin)?;
    let here = person_path(&admin.org, staff);
    let old = held(&admin, staff, grant).await?;
    let from = old.valid_from.max(admin.now());
    let (_, until) = period(&admin, &from.oslo_date(), &form.til, &here)?;
    match admin
        .clinic
        .change_grant_end(&admin.ctx("endret sluttdato"), grant, until)
        .await
    {
        Ok(_) => Ok(see_other(&here, None)),
        Err(ServiceError::Invalid(_)) => Err(admin.refuse(
            "Sluttdatoen ble ikke endret",
            "Tilgangen er ikke lenger i kraft, eller den gjelder flere virksomheter \
             (avslutt den og gi en ny), eller perioden ble lengre enn tre år.",
            &here,
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

/// `POST …/{staff}/{grant}/avslutt`: ends an authorisation now, in every clinic it covers.
pub(super) async fn end(admin: Admin, Form(form): Form<CsrfForm>) -> Result<Response, Halt> {
    admin.check(&form.csrf)?;
    let staff = person_of(&admin)?;
    let grant = grant_of(&admin)?;
    let here = person_path(&admin.org, staff);
    let record = held(&admin, staff, grant).await?;
    if record.is_shared() {
        let grantor = grantor(&admin, &here).await?;
        let result = admin
            .app
            .end_grant_everywhere(&grantor, &admin.org, grant, "avsluttet av administrator")
            .await;
        across_clinics(&admin, result.map(|_| ()), &here)?;
        return Ok(see_other(&here, None));
    }
    match admin
        .clinic
        .end_grant(&admin.ctx("avsluttet av administrator"), grant)
        .await
    {
        Ok(()) => Ok(see_other(&here, None)),
        Err(ServiceError::Invalid(_)) => Err(admin.refuse(
            "Tilgangen er allerede avsluttet",
            "Ingenting ble endret.",
            &here,
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct LeaveForm {
    csrf: String,
    #[serde(default)]
    bekreft: String,
}

/// `POST …/{staff}/slutter`: the person has left; everything they hold ends now.
pub(super) async fn deactivate(
    admin: Admin,
    Form(form): Form<LeaveForm>,
) -> Result<Response, Halt> {
    admin.check(&form.csrf)?;
    let staff = person_of(&admin)?;
    let here = person_path(&admin.org, staff);
    if form.bekreft != "ja" {
        return Err(admin.refuse(
            "Ikke bekreftet",
            "Kryss av for at personen har sluttet.",
            &here,
        ));
    }
    if staff == admin.staff {
        return Err(admin.refuse(
            "Du kan ikke avslutte deg selv",
            "En annen administrator, eller driftsoperatøren, må registrere at du har sluttet.",
            &here,
        ));
    }
    match admin
        .clinic
        .deactivate_staff(&admin.ctx("sluttet"), staff)
        .await
    {
        Ok(()) => Ok(see_other(&here, None)),
        Err(ServiceError::NoSuchStaff) => Err(crate::error::WebError::NotFound.into()),
        Err(e) => Err(e.into()),
    }
}
