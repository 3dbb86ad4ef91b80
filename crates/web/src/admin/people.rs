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
use crate::i18n::{Lang, role_name, tr};
use crate::respond::see_other;

const DAY_MICROS: i64 = 86_400_000_000;

fn list_path(org: &OrgNumber) -> String {
    format!("/k/{org}/ansatt/tilganger")
}

fn person_path(org: &OrgNumber, staff: StaffId) -> String {
    format!("/k/{org}/ansatt/tilganger/{staff}")
}

/// Where an authorisation stands now, in words.
fn standing(lang: Lang, a: &Authorisation, now: Timestamp) -> &'static str {
    match a.ended_at {
        Some(_) => tr(lang, "Avsluttet"),
        None if a.valid_until <= now => tr(lang, "Utløpt"),
        None if a.valid_from > now => tr(lang, "Ikke startet"),
        None => tr(lang, "I kraft"),
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
    let lang = admin.lang;
    let mut rows = String::new();
    for person in admin.clinic.staff_list().await? {
        let roles: Vec<String> = admin
            .clinic
            .authorisation_history(person.id)
            .await?
            .iter()
            .filter(|a| in_force(a, now) && a.valid_from <= now)
            .map(|a| {
                tr(lang, "{rolle} (til {dato})")
                    .replace("{rolle}", role_name(lang, a.role))
                    .replace("{dato}", &last_day(a.valid_until))
            })
            .collect();
        rows.push_str(&format!(
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            person_path(org, person.id),
            escape(person.name.as_str()),
            escape(person.hpr.as_ref().map_or("–", |h| h.as_str())),
            if person.active {
                tr(lang, "Ansatt")
            } else {
                tr(lang, "Sluttet")
            },
            escape(&if roles.is_empty() {
                "–".to_owned()
            } else {
                roles.join(", ")
            }),
        ));
    }
    let body = list_body(lang, &admin, &rows);
    Ok(Html(page(lang, tr(lang, "Ansatte og tilganger"), &body)).into_response())
}

/// The list page around its table rows: the table, and the form for a new person.
fn list_body(lang: Lang, admin: &Admin, rows: &str) -> String {
    let org = &admin.org;
    format!(
        "<h1>{title}</h1>\n<p>{intro}</p>\n\
         <table>\n<caption>{caption}</caption>\n<thead><tr><th scope=\"col\">{t_name}</th>\
         <th scope=\"col\">{t_hpr}</th><th scope=\"col\">{t_status}</th><th scope=\"col\">{t_roles}</th></tr></thead>\n\
         <tbody>\n{rows}</tbody>\n</table>\n\
         <h2>{add}</h2>\n<form method=\"post\" action=\"{list}/ny\">\n{csrf}\n\
         <label for=\"navn\">{l_name}</label>\n<input id=\"navn\" name=\"navn\" autocomplete=\"off\" required>\n\
         <label for=\"hpr\">{l_hpr}</label>\n<input id=\"hpr\" name=\"hpr\" inputmode=\"numeric\" autocomplete=\"off\">\n\
         <label for=\"fnr\">{l_fnr}</label>\n<input id=\"fnr\" name=\"fnr\" inputmode=\"numeric\" autocomplete=\"off\">\n\
         <button type=\"submit\">{add_button}</button>\n</form>\n\
         <p><a href=\"/k/{org}/ansatt/team\">{teams}</a></p>\n<p><a href=\"/k/{org}/ansatt/\">{back}</a></p>",
        title = tr(lang, "Ansatte og tilganger"),
        intro = tr(
            lang,
            "Gi bare tilganger som trengs i arbeidet, alltid med en sluttdato. Alle endringer logges."
        ),
        caption = tr(lang, "Ansatte ved klinikken"),
        t_name = tr(lang, "Navn"),
        t_hpr = tr(lang, "HPR-nummer"),
        t_status = tr(lang, "Status"),
        t_roles = tr(lang, "Roller i kraft"),
        add = tr(lang, "Legg til ansatt"),
        l_name = tr(lang, "Fullt navn"),
        l_hpr = tr(lang, "HPR-nummer (for helsepersonell)"),
        l_fnr = tr(lang, "Fødselsnummer (for innlogging med HelseID)"),
        add_button = tr(lang, "Legg til"),
        teams = tr(lang, "Team"),
        back = tr(lang, "Tilbake"),
        list = list_path(org),
        csrf = admin.csrf_field(),
    )
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
    let lang = admin.lang;
    let back = list_path(&admin.org);
    let Ok(name) = PersonName::parse(&form.navn) else {
        return Err(admin.refuse(
            tr(lang, "Ugyldig navn"),
            tr(lang, "Skriv personens fulle navn."),
            &back,
        ));
    };
    let hpr = match form.hpr.trim() {
        "" => None,
        text => match HprNumber::parse(text) {
            Ok(hpr) => Some(hpr),
            Err(_) => {
                return Err(admin.refuse(
                    tr(lang, "Ugyldig HPR-nummer"),
                    tr(lang, "HPR-nummeret er et tall på sju til ni sifre."),
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
                    tr(lang, "Ugyldig fødselsnummer"),
                    tr(lang, "Sjekk de elleve sifrene og prøv igjen."),
                    &back,
                ));
            }
        },
    };
    if let Some(number) = &number
        && admin.clinic.staff_id_by_number(number).await?.is_some()
    {
        return Err(admin.refuse(
            tr(lang, "Personen er allerede registrert"),
            tr(
                lang,
                "En ansatt ved klinikken har allerede dette fødselsnummeret.",
            ),
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
    let lang = admin.lang;
    let now = admin.now();
    let here = person_path(&admin.org, staff);
    let csrf = admin.csrf_field();
    let rows: String = admin
        .clinic
        .authorisation_history(staff)
        .await?
        .iter()
        .map(|a| grant_row(lang, a, now, &here, &csrf))
        .collect();
    let forms = if person.active {
        person_forms(lang, &person, now, &here, &csrf)
    } else {
        format!(
            "<p>{}</p>",
            tr(lang, "Personen har sluttet. Tilganger kan ikke gis.")
        )
    };
    let body = format!(
        "<h1>{name}</h1>\n<p>{facts}</p>\n\
         <table>\n<caption>{caption}</caption>\n<thead><tr><th scope=\"col\">{role}</th>\
         <th scope=\"col\">{first}</th><th scope=\"col\">{last}</th><th scope=\"col\">{covers}</th>\
         <th scope=\"col\">{status}</th><th scope=\"col\">{change}</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n\
         {forms}\n<p><a href=\"{list}\">{all}</a></p>",
        name = escape(person.name.as_str()),
        facts = if person.active {
            tr(lang, "HPR-nummer: {hpr}. Status: ansatt.")
        } else {
            tr(lang, "HPR-nummer: {hpr}. Status: sluttet.")
        }
        .replace(
            "{hpr}",
            &escape(person.hpr.as_ref().map_or("–", |h| h.as_str()))
        ),
        caption = tr(lang, "Tilganger, nyeste først"),
        role = tr(lang, "Rolle"),
        first = tr(lang, "Første dag"),
        last = tr(lang, "Siste dag"),
        covers = tr(lang, "Gjelder"),
        status = tr(lang, "Status"),
        change = tr(lang, "Endre"),
        list = list_path(&admin.org),
        all = tr(lang, "Alle ansatte"),
    );
    Ok(Html(page(lang, tr(lang, "Tilganger"), &body)).into_response())
}

/// One authorisation in the person's history, with the forms to change or end it while it
/// is in force.
fn grant_row(lang: Lang, a: &Authorisation, now: Timestamp, here: &str, csrf: &str) -> String {
    let covers = if a.is_shared() {
        a.covers
            .iter()
            .map(OrgNumber::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        tr(lang, "Denne virksomheten").to_owned()
    };
    let actions = if in_force(a, now) {
        let change = if a.is_shared() {
            String::new()
        } else {
            format!(
                "<form method=\"post\" action=\"{here}/{id}/endre\">{csrf}\
                 <label for=\"til-{id}\">{new_last}</label>\
                 <input type=\"date\" id=\"til-{id}\" name=\"til\" value=\"{last}\" required>\
                 <button type=\"submit\">{change}</button></form>",
                id = a.id,
                last = last_day(a.valid_until),
                new_last = tr(lang, "Ny siste dag"),
                change = tr(lang, "Endre sluttdato"),
            )
        };
        format!(
            "{change}<form method=\"post\" action=\"{here}/{id}/avslutt\">{csrf}\
             <button type=\"submit\">{end}</button></form>",
            id = a.id,
            end = if a.is_shared() {
                tr(lang, "Avslutt nå i alle virksomhetene")
            } else {
                tr(lang, "Avslutt nå")
            },
        )
    } else {
        String::new()
    };
    format!(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{actions}</td></tr>\n",
        escape(role_name(lang, a.role)),
        escape(&a.valid_from.oslo_date()),
        escape(&last_day(a.valid_until)),
        escape(&covers),
        standing(lang, a, now),
    )
}

/// The forms for a person still at the clinic: a new authorisation, and leaving.
fn person_forms(lang: Lang, person: &Staff, now: Timestamp, here: &str, csrf: &str) -> String {
    let options: String = Role::ALL
        .into_iter()
        .filter(|r| *r != Role::Operator)
        .map(|r| {
            format!(
                "<option value=\"{}\">{}</option>",
                r.as_str(),
                role_name(lang, r)
            )
        })
        .collect();
    format!(
        "<h2>{grant}</h2>\n<form method=\"post\" action=\"{here}/tildel\">\n{csrf}\n\
         <label for=\"rolle\">{role}</label>\n<select id=\"rolle\" name=\"rolle\">{options}</select>\n\
         <label for=\"fra\">{first}</label>\n<input type=\"date\" id=\"fra\" name=\"fra\" value=\"{today}\" required>\n\
         <label for=\"til\">{last}</label>\n<input type=\"date\" id=\"til\" name=\"til\" value=\"{year}\" required>\n\
         <label for=\"andre\">{others}</label>\n\
         <input id=\"andre\" name=\"andre\" inputmode=\"numeric\" autocomplete=\"off\">\n\
         <button type=\"submit\">{grant}</button>\n</form>\n\
         <h2>{leaves}</h2>\n<p>{leaving}</p>\n\
         <form method=\"post\" action=\"{here}/slutter\">\n{csrf}\n\
         <input type=\"checkbox\" id=\"bekreft\" name=\"bekreft\" value=\"ja\" required>\n\
         <label for=\"bekreft\">{confirm}</label>\n\
         <button type=\"submit\">{register}</button>\n</form>",
        grant = tr(lang, "Gi tilgang"),
        role = tr(lang, "Rolle"),
        first = tr(lang, "Første dag"),
        last = tr(lang, "Siste dag (høyst tre år fram)"),
        others = tr(
            lang,
            "Gjelder også virksomhetene (organisasjonsnumre, skilt med komma; tomt for bare denne)"
        ),
        leaves = tr(lang, "Slutter"),
        leaving = tr(
            lang,
            "Når en person slutter, avsluttes alle tilganger, team og økter med en gang."
        ),
        confirm = tr(lang, "Jeg bekrefter at {navn} har sluttet")
            .replace("{navn}", &escape(person.name.as_str())),
        register = tr(lang, "Registrer at personen har sluttet"),
        today = now.oslo_date(),
        year = last_day(Timestamp(now.0 + 365 * DAY_MICROS)),
    )
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
        return Err(admin.refuse(
            tr(admin.lang, "Ugyldig dato"),
            tr(admin.lang, "Velg både første og siste dag."),
            back,
        ));
    };
    let until = Timestamp(last.0 + DAY_MICROS);
    if until <= from || until <= admin.now() {
        return Err(admin.refuse(
            tr(admin.lang, "Ugyldig periode"),
            tr(
                admin.lang,
                "Siste dag må være i dag eller senere, og ikke før første dag.",
            ),
            back,
        ));
    }
    if until.0 - from.0 > MAX_AUTHORISATION_MICROS {
        return Err(admin.refuse(
            tr(admin.lang, "For lang periode"),
            tr(
                admin.lang,
                "En tilgang kan vare i høyst tre år. Forny den etter tilgangsgjennomgangen.",
            ),
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
    let lang = admin.lang;
    let Some(role) = Role::parse(&form.rolle).filter(|r| *r != Role::Operator) else {
        return Err(admin.refuse(
            tr(lang, "Ukjent rolle"),
            tr(lang, "Velg en rolle fra listen."),
            &here,
        ));
    };
    let (from, until) = period(&admin, &form.fra, &form.til, &here)?;
    let mut others = Vec::new();
    for part in form.andre.split([',', ' ', ';']).filter(|p| !p.is_empty()) {
        match OrgNumber::parse(part) {
            Ok(org) if org != admin.org => others.push(org),
            Ok(_) => {}
            Err(_) => {
                return Err(admin.refuse(
                    tr(lang, "Ugyldig organisasjonsnummer"),
                    tr(
                        lang,
                        "Et organisasjonsnummer har ni sifre. Skill flere med komma.",
                    ),
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
                    tr(lang, "Tilgangen ble ikke gitt"),
                    tr(
                        lang,
                        "Personen har sluttet og må registreres på nytt før tilgang kan gis.",
                    ),
                    &here,
                ));
            }
            Err(e) => return Err(e.into()),
        }
        return Ok(see_other(&here, None));
    }
    let missing = tr(
        lang,
        "Personen er ikke knyttet til et fødselsnummer her, så personen kan ikke finnes i andre \
         virksomheter. Registrer fødselsnummeret (fortrolig staff add --fnr), eller gi tilgangen \
         i hver virksomhet for seg.",
    );
    let holder = identity_of(&admin, staff, missing, &here).await?;
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

/// The identity number a member of staff is linked to, which finds them in other clinics;
/// without one, a refusal saying `missing`.
async fn identity_of(
    admin: &Admin,
    staff: StaffId,
    missing: &str,
    back: &str,
) -> Result<PersonNumber, Halt> {
    admin
        .clinic
        .staff_person_number(staff)
        .await?
        .ok_or_else(|| admin.refuse(tr(admin.lang, "Fødselsnummer mangler"), missing, back))
}

/// The administrator as grantor across clinics: known in every clinic by identity number.
async fn grantor(admin: &Admin, back: &str) -> Result<Grantor, Halt> {
    let missing = tr(
        admin.lang,
        "Du er ikke knyttet til et fødselsnummer her, så personen kan ikke finnes i andre \
         virksomheter. Registrer fødselsnummeret (fortrolig staff add --fnr), eller gi tilgangen \
         i hver virksomhet for seg.",
    );
    Ok(Grantor::Administrator {
        number: identity_of(admin, admin.staff, missing, back).await?,
        level: admin.session.level,
        source: admin.source.clone(),
    })
}

/// Plain words for how a change across clinics went.
fn across_clinics(admin: &Admin, result: Result<(), AccessError>, back: &str) -> Result<(), Halt> {
    let lang = admin.lang;
    match result {
        Ok(()) => Ok(()),
        Err(AccessError::StepUp(_)) => Err(Halt::page(see_other(
            &format!("/k/{}/ansatt/innlogging?nivaa=hoy&neste={back}", admin.org),
            None,
        ))),
        Err(AccessError::Denied(_)) => Err(Halt::page(crate::respond::message(
            lang,
            axum::http::StatusCode::FORBIDDEN,
            tr(lang, "Ingen tilgang i alle virksomhetene"),
            tr(
                lang,
                "Du må være administrator i hver virksomhet tilgangen gjelder. Ingenting er endret, og forsøket er logget.",
            ),
            back,
        ))),
        Err(AccessError::Service(ServiceError::Incomplete { in_force, .. })) => Err(admin.refuse(
            tr(lang, "Endringen ble bare delvis gjort"),
            &tr(
                lang,
                "Tilgangen er fortsatt i kraft i {virksomheter}. Prøv igjen for å fullføre.",
            )
            .replace("{virksomheter}", &in_force.join(", ")),
            back,
        )),
        Err(AccessError::Service(e))
            if matches!(e, ServiceError::Invalid(_)) || e.is_unknown_clinic() =>
        {
            Err(admin.refuse(
                tr(lang, "Ingenting ble endret"),
                tr(
                    lang,
                    "Alle virksomhetene må være registrert her, og personen må være registrert som ansatt \
                     med fødselsnummer i hver av dem. Tilgangen kan være avsluttet allerede.",
                ),
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
            tr(admin.lang, "Sluttdatoen ble ikke endret"),
            tr(
                admin.lang,
                "Tilgangen er ikke lenger i kraft, eller den gjelder flere virksomheter \
                 (avslutt den og gi en ny), eller perioden ble lengre enn tre år.",
            ),
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
            tr(admin.lang, "Tilgangen er allerede avsluttet"),
            tr(admin.lang, "Ingenting ble endret."),
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
            tr(admin.lang, "Ikke bekreftet"),
            tr(admin.lang, "Kryss av for at personen har sluttet."),
            &here,
        ));
    }
    if staff == admin.staff {
        return Err(admin.refuse(
            tr(admin.lang, "Du kan ikke avslutte deg selv"),
            tr(
                admin.lang,
                "En annen administrator, eller driftsoperatøren, må registrere at du har sluttet.",
            ),
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
