//! The staff workspace (S1, S3, X2): log in through HelseID, see one's own patients,
//! open a patient only through `HealthAccess`, and ask for emergency access with a reason
//! when there is no care relationship. Clinic administrators review emergency access.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use fortrolig_domain::access::{DenyReason, Need, Role};
use fortrolig_domain::consent::{ConsentSubject, Consents};
use fortrolig_domain::{Actor, EmergencyId, OrgNumber, PatientId, PersonNumber, Source, StaffId};
use fortrolig_service::{AccessError, ActContext, Clinic, Session, SessionSubject, StaffActor};
use serde::Deserialize;

use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{Lang, n_, role_name, tr};
use crate::respond::{clinic_of, message, see_other};

/// A message page whose link leads back to the workspace, in `lang` (`title` and `text`
/// already translated).
/// The refusal of health data to someone who has not finished the clinic's training.
pub(crate) fn training_missing(lang: Lang, org: &OrgNumber) -> Response {
    refuse_in(
        lang,
        StatusCode::FORBIDDEN,
        tr(lang, "Opplæring mangler"),
        tr(
            lang,
            "Klinikken krever at du har fullført opplæringen i løsningen før du får tilgang til helseopplysninger. \
             Kontakt klinikkens administrator.",
        ),
        org,
    )
}

pub(crate) fn refuse_in(
    lang: Lang,
    status: StatusCode,
    title: &str,
    text: &str,
    org: &OrgNumber,
) -> Response {
    message(lang, status, title, text, &format!("/k/{org}/ansatt/"))
}
use crate::router::AppState;
use crate::session::current;
use crate::source::RequestSource;

/// To HelseID at level high, and back to `here`.
pub(crate) fn step_up(org: &OrgNumber, here: &str) -> Response {
    Redirect::to(&format!(
        "/k/{org}/ansatt/innlogging?nivaa=hoy&neste={here}"
    ))
    .into_response()
}

/// The staff session of this request, or where to send the user to get one.
pub(crate) async fn staff_session(
    clinic: &Clinic,
    headers: &HeaderMap,
    here: &str,
) -> Result<Result<(StaffId, Session), Response>, WebError> {
    let login = format!(
        "/k/{}/ansatt/innlogging?nivaa=hoy&neste={here}",
        clinic.org()
    );
    match current(clinic, headers).await? {
        Some(session) => match session.subject {
            SessionSubject::Staff(id) => Ok(Ok((id, session))),
            SessionSubject::Patient(_) => Ok(Err(Redirect::to(&login).into_response())),
        },
        None => Ok(Err(Redirect::to(&login).into_response())),
    }
}

pub(crate) fn actor(staff: StaffId, session: &Session, source: &RequestSource) -> StaffActor {
    StaffActor {
        staff,
        level: session.level,
        source: source.in_session(session),
    }
}

pub(crate) fn admin_context(
    clinic: &Clinic,
    staff: StaffId,
    source: Source,
    reason: &str,
) -> ActContext {
    ActContext {
        actor: Actor {
            id: format!("staff:{staff}"),
            role: Role::ClinicAdmin.as_str().into(),
            clinic: clinic.org().clone(),
            hpr: None,
        },
        source,
        reason: reason.into(),
    }
}

fn need_text(lang: Lang, need: Need) -> &'static str {
    match need {
        Need::CareRelationship => tr(lang, "behandlingsrelasjon"),
        Need::Emergency => tr(lang, "nødtilgang (blir kontrollert)"),
        Need::None => tr(lang, "ingen"),
    }
}

pub(crate) async fn home(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let clinic = state.app.clinic(&org).await?;
    let here = format!("/k/{org}/ansatt/");
    if current(&clinic, &headers).await?.is_none() {
        let body = format!(
            "<h1>{}</h1>\n<p><a class=\"knapp\" href=\"/k/{org}/ansatt/innlogging?nivaa=hoy\">{}</a></p>\n\
             <p><a href=\"/k/{org}/passnokkel\">{}</a></p>{}",
            tr(lang, "Arbeidsflate for ansatte"),
            tr(lang, "Logg inn med HelseID"),
            tr(lang, "Logg inn med passnøkkel"),
            if state.demo_login {
                format!(
                    "\n<p><a href=\"/k/{org}/testinnlogging\">{}</a></p>",
                    tr(lang, "Testinnlogging (bare i demo)")
                )
            } else {
                String::new()
            }
        );
        return Ok(Html(page(lang, tr(lang, "Arbeidsflate"), &body)).into_response());
    }
    let (staff, session) = match staff_session(&clinic, &headers, &here).await? {
        Ok(pair) => pair,
        Err(redirect) => return Ok(redirect),
    };
    let me = clinic.staff_member(staff).await?;
    let roles = clinic.roles_at(staff, state.app.now()).await?;
    let role_names: Vec<&str> = roles.iter().map(|r| role_name(lang, *r)).collect();
    let mut list = String::new();
    let who = actor(staff, &session, &source);
    // Only a clinical role can reach health data; asking for anyone else would log a
    // refusal on every view of this page.
    let clinical = roles.iter().any(|r| r.is_clinical());
    let in_care = if clinical {
        clinic
            .store()
            .patients_in_care_of(staff.as_bytes())
            .await
            .map_err(|e| WebError::Internal(e.to_string()))?
    } else {
        Vec::new()
    };
    for id in in_care {
        let Some(patient) = PatientId::from_slice(&id) else {
            continue;
        };
        if let Ok(access) = clinic.health_access(&who, patient, "pasientliste").await {
            let record = access.read_patient().await?;
            list.push_str(&format!(
                "<li><a href=\"/k/{org}/ansatt/pasient/{patient}\">{}</a></li>",
                escape(record.name.as_str())
            ));
        }
    }
    let csrf = escape(session.csrf_token());
    let admin = if roles.contains(&Role::ClinicAdmin) {
        let due = clinic.reviews_due().await?.len();
        let reminder = if due > 0 {
            format!(
                "<p class=\"advarsel\"><a href=\"/k/{org}/ansatt/tilgangsgjennomgang\">{}</a></p>\n",
                tr(lang, "{n} tilganger må gjennomgås").replace("{n}", &due.to_string())
            )
        } else {
            String::new()
        };
        format!(
            "{reminder}<p><a href=\"/k/{org}/ansatt/tilganger\">{}</a></p>\n\
             <p><a href=\"/k/{org}/ansatt/team\">{}</a></p>\n\
             <p><a href=\"/k/{org}/ansatt/varselmaler\">{}</a></p>\n\
             <p><a href=\"/k/{org}/ansatt/nodtilgang\">{}</a></p>\n\
             <p><a href=\"/k/{org}/ansatt/hendelser\">{}</a></p>\n\
             <p><a href=\"/k/{org}/ansatt/tilgangsgjennomgang\">{}</a></p>\n\
             <p><a href=\"/k/{org}/ansatt/protokoll\">{}</a></p>\n\
             <p><a href=\"/k/{org}/ansatt/oppbevaring\">{}</a></p>\n\
             <p>{}</p>",
            tr(lang, "Ansatte og tilganger"),
            tr(lang, "Team"),
            tr(lang, "Varselmaler og avsendernavn"),
            tr(lang, "Nødtilganger til kontroll"),
            tr(lang, "Sikkerhetshendelser"),
            tr(lang, "Tilgangsgjennomgang"),
            tr(lang, "Protokoll over behandlingsaktiviteter"),
            tr(lang, "Oppbevaring og sletting"),
            tr(
                lang,
                "Informasjonssider for pasienter: <a href=\"{sider}kanaler\">kanaler</a>, \
                 <a href=\"{sider}innlogging\">innlogging</a>, \
                 <a href=\"{sider}egen-enhet\">egen enhet</a>, \
                 <a href=\"{sider}sletting\">sletting</a>, \
                 <a href=\"{sider}avslutte\">avslutte</a>, \
                 <a href=\"{sider}samtykke\">samtykke</a>"
            )
            .replace("{sider}", &format!("/k/{org}/ansatt/sider/")),
        )
    } else {
        String::new()
    };
    let body = format!(
        "<h1>{title}</h1>\n<p>{logged_in}</p>\n{admin}\
         <p><a href=\"/k/{org}/ansatt/innboks\">{inbox}</a></p>\n\
         <p><a href=\"/k/{org}/ansatt/varsler\">{notices}</a></p>\n\
         <p><a href=\"/k/{org}/ansatt/foresporsler\">{requests}</a></p>\n\
         <p><a href=\"/k/{org}/ansatt/avvik\">{incidents}</a></p>\n\
         <p><a href=\"/k/{org}/ansatt/aktivering\">{activation}</a></p>\n\
         {mine}\
         <h2>{find_patient}</h2>\n<form method=\"post\" action=\"/k/{org}/ansatt/sok\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <label for=\"fnr\">{fnr}</label>\n<input id=\"fnr\" name=\"fnr\" inputmode=\"numeric\" autocomplete=\"off\" required>\n\
         <button type=\"submit\">{find}</button>\n</form>\n\
         <h2>{login}</h2>\n<p><a href=\"/k/{org}/ansatt/okter\">{my_sessions}</a></p>\n\
         <form method=\"post\" action=\"/k/{org}/utlogging\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <button type=\"submit\">{log_out}</button>\n</form>",
        title = tr(lang, "Arbeidsflate"),
        logged_in = tr(lang, "Logget inn som <strong>{navn}</strong> ({roller}).")
            .replace("{navn}", &escape(me.name.as_str()))
            .replace("{roller}", &escape(&role_names.join(", "))),
        inbox = tr(lang, "Innboks"),
        notices = tr(lang, "Varsler og oppgaver"),
        requests = tr(lang, "Forespørsler fra pasienter"),
        incidents = tr(lang, "Avvik"),
        activation = tr(lang, "Aktiveringskode for pasient uten BankID"),
        find_patient = tr(lang, "Finn pasient"),
        fnr = tr(lang, "Fødselsnummer (11 siffer)"),
        find = tr(lang, "Finn"),
        login = tr(lang, "Innlogging"),
        my_sessions = tr(lang, "Mine økter"),
        log_out = tr(lang, "Logg ut"),
        mine = if clinical {
            format!("<h2>{}</h2>\n<ul>{list}</ul>\n", tr(lang, "Mine pasienter"))
        } else {
            String::new()
        },
    );
    Ok(Html(page(lang, tr(lang, "Arbeidsflate"), &body)).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct SearchForm {
    csrf: String,
    fnr: String,
}

pub(crate) async fn search(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<SearchForm>,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let clinic = state.app.clinic(&org).await?;
    let (_, session) = match staff_session(&clinic, &headers, &format!("/k/{org}/ansatt/")).await? {
        Ok(pair) => pair,
        Err(redirect) => return Ok(redirect),
    };
    if !session.csrf_matches(&form.csrf) {
        return Err(WebError::Forbidden);
    }
    let Ok(number) = PersonNumber::parse(&form.fnr) else {
        return Ok(refuse_in(
            lang,
            StatusCode::BAD_REQUEST,
            tr(lang, "Ugyldig fødselsnummer"),
            tr(lang, "Sjekk de elleve sifrene og prøv igjen."),
            &org,
        ));
    };
    match clinic.patient_id_by_number(&number).await? {
        Some(patient) => Ok(see_other(
            &format!("/k/{org}/ansatt/pasient/{patient}"),
            None,
        )),
        None => Ok(refuse_in(
            lang,
            StatusCode::NOT_FOUND,
            tr(lang, "Fant ingen pasient"),
            tr(
                lang,
                "Ingen pasient ved klinikken har dette fødselsnummeret.",
            ),
            &org,
        )),
    }
}

pub(crate) async fn patient(
    State(state): State<AppState>,
    Path((clinic, patient)): Path<(String, String)>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let patient = PatientId::parse(&patient).map_err(|_| WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    let here = format!("/k/{org}/ansatt/pasient/{patient}");
    let (staff, session) = match staff_session(&clinic, &headers, &here).await? {
        Ok(pair) => pair,
        Err(redirect) => return Ok(redirect),
    };
    let csrf = escape(session.csrf_token());
    match clinic
        .health_access(&actor(staff, &session, &source), patient, "behandling")
        .await
    {
        Ok(access) => {
            let record = access.read_patient().await?;
            let grounds = match access.team() {
                Some(team) => match clinic.team(team).await {
                    Ok(team) => tr(lang, "behandlingsrelasjon gjennom teamet «{team}»")
                        .replace("{team}", &escape(&team.name)),
                    Err(_) => tr(lang, "behandlingsrelasjon gjennom et team").to_owned(),
                },
                None => need_text(lang, access.need()).to_owned(),
            };
            let portal =
                portal_section(lang, &clinic.consents(patient).await?, &org, patient, &csrf);
            let restricted = clinic.restricted(patient).await?;
            let body = patient_body(lang, &org, patient, &record, &grounds, restricted, &portal);
            Ok(Html(page(lang, tr(lang, "Pasient"), &body)).into_response())
        }
        Err(AccessError::StepUp(_)) => Ok(step_up(&org, &here)),
        Err(AccessError::Denied(DenyReason::NoWorkRelatedNeed)) => Ok((
            StatusCode::FORBIDDEN,
            Html(page(
                lang,
                tr(lang, "Ingen tilgang"),
                &no_care_body(lang, &org, patient, &csrf),
            )),
        )
            .into_response()),
        Err(AccessError::Denied(DenyReason::TrainingMissing)) => Ok(training_missing(lang, &org)),
        Err(AccessError::Denied(_)) => Ok(refuse_in(
            lang,
            StatusCode::FORBIDDEN,
            tr(lang, "Ingen tilgang"),
            tr(
                lang,
                "Rollen din gir ikke tilgang til helseopplysninger. Forsøket er logget.",
            ),
            &org,
        )),
        Err(AccessError::Service(e)) => Err(e.into()),
    }
}

/// The patient page: who the patient is, why this member of staff may see them, and the
/// patient's choices in the portal (`grounds` and `portal` already HTML).
fn patient_body(
    lang: Lang,
    org: &OrgNumber,
    patient: PatientId,
    record: &fortrolig_service::Patient,
    grounds: &str,
    restricted: bool,
    portal: &str,
) -> String {
    let restricted = if restricted {
        format!(
            "<p class=\"begrenset\">{}</p>\n",
            tr(
                lang,
                "<strong>Behandling begrenset</strong> – pasienten har fått \
                 innvilget begrensning av behandlingen. Behandle bare det som er nødvendig, og se \
                 <a href=\"{lenke}\">forespørslene</a>."
            )
            .replace("{lenke}", &format!("/k/{org}/ansatt/foresporsler"))
        )
    } else {
        String::new()
    };
    format!(
        "<h1>{name}</h1>\n{restricted}<dl>\n<dt>{t_fnr}</dt><dd>{fnr}</dd>\n<dt>{t_phone}</dt><dd>{phone}</dd>\n\
         <dt>{t_email}</dt><dd>{email}</dd>\n<dt>{t_grounds}</dt><dd>{grounds}</dd>\n</dl>\n\
         <p><a href=\"/k/{org}/ansatt/pasient/{patient}/ny-melding\">{write}</a></p>\n{portal}\
         <p><a href=\"/k/{org}/ansatt/\">{back}</a></p>",
        name = escape(record.name.as_str()),
        t_fnr = tr(lang, "Fødselsnummer"),
        fnr = escape(record.person_number.as_str()),
        t_phone = tr(lang, "Telefon"),
        phone = escape(record.phone.as_ref().map_or("–", |p| p.as_str())),
        t_email = tr(lang, "E-post"),
        email = escape(record.email.as_ref().map_or("–", |e| e.as_str())),
        t_grounds = tr(lang, "Grunnlag for tilgang"),
        write = tr(lang, "Skriv ny melding til pasienten"),
        back = tr(lang, "Tilbake"),
    )
}

/// No care relationship: the attempt is logged, and emergency access is offered.
fn no_care_body(lang: Lang, org: &OrgNumber, patient: PatientId, csrf: &str) -> String {
    format!(
        "<h1>{title}</h1>\n<p>{logged}</p>\n<h2>{emergency}</h2>\n<p>{only_if}</p>\n\
         <form method=\"post\" action=\"/k/{org}/ansatt/pasient/{patient}/nodtilgang\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <label for=\"begrunnelse\">{reason}</label>\n<textarea id=\"begrunnelse\" name=\"begrunnelse\" required minlength=\"10\"></textarea>\n\
         <label for=\"minutter\">{minutes}</label>\n<input id=\"minutter\" name=\"minutter\" inputmode=\"numeric\" value=\"60\" required>\n\
         <button type=\"submit\">{ask}</button>\n</form>\n<p><a href=\"/k/{org}/ansatt/\">{back}</a></p>",
        title = tr(lang, "Ingen behandlingsrelasjon"),
        logged = tr(
            lang,
            "Du har ikke en behandlingsrelasjon til denne pasienten, og forsøket er logget."
        ),
        emergency = tr(lang, "Nødtilgang"),
        only_if = tr(
            lang,
            "Bare hvis pasienten trenger helsehjelp nå og du ikke kan vente. \
             Tilgangen er tidsbegrenset, logges og kontrolleres av klinikken."
        ),
        reason = tr(lang, "Begrunnelse"),
        minutes = tr(lang, "Varighet i minutter (høyst 720)"),
        ask = tr(lang, "Be om nødtilgang"),
        back = tr(lang, "Tilbake"),
    )
}

/// The patient's choices in the portal as staff see them (P4, P11): what the patient said
/// yes and no to, and, if they ended their use of it, the way to open it again.
fn portal_section(
    lang: Lang,
    consents: &Consents,
    org: &OrgNumber,
    patient: PatientId,
    csrf: &str,
) -> String {
    let rows: String = ConsentSubject::ASKED
        .into_iter()
        .map(|s| {
            format!(
                "<tr><td>{}</td><td>{}</td></tr>\n",
                // The names the patient chose by, not the stored keys.
                crate::consent::label(lang, s),
                match consents.decision(s) {
                    Some(true) => tr(lang, "Ja"),
                    Some(false) => tr(lang, "Nei"),
                    None => tr(lang, "Ikke spurt ennå"),
                }
            )
        })
        .collect();
    let state = if consents.ended() {
        format!(
            "<p>{ended}</p>\n\
             <form method=\"post\" action=\"/k/{org}/ansatt/pasient/{patient}/gjenapne\">\n\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
             <button type=\"submit\">{reopen}</button>\n</form>\n",
            ended = tr(
                lang,
                "<strong>Pasienten har avsluttet bruken av pasientportalen.</strong> Pasienten kan ikke logge inn \
                 og får ingen varsler. Åpne portalen igjen bare når pasienten ber om det."
            ),
            reopen = tr(lang, "Åpne pasientportalen igjen"),
        )
    } else {
        format!("<p>{}</p>\n", tr(lang, "Pasienten bruker pasientportalen."))
    };
    format!(
        "<h2>{title}</h2>\n{state}<table>\n<caption>{caption}</caption>\n\
         <thead><tr><th scope=\"col\">{concerns}</th><th scope=\"col\">{choice}</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n",
        title = tr(lang, "Pasientportalen"),
        caption = tr(lang, "Pasientens samtykker"),
        concerns = tr(lang, "Gjelder"),
        choice = tr(lang, "Valg"),
    )
}

/// A form posted about one patient from the workspace, by a member of staff whose
/// session and CSRF token check out.
struct PatientForm {
    org: OrgNumber,
    clinic: std::sync::Arc<Clinic>,
    patient: PatientId,
    /// The patient's page, where the form came from and goes back to.
    here: String,
    staff: StaffId,
    session: Session,
}

async fn patient_form(
    state: &AppState,
    clinic: &str,
    patient: &str,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Result<PatientForm, Response>, WebError> {
    let org = clinic_of(clinic)?;
    let patient = PatientId::parse(patient).map_err(|_| WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    let here = format!("/k/{org}/ansatt/pasient/{patient}");
    let (staff, session) = match staff_session(&clinic, headers, &here).await? {
        Ok(pair) => pair,
        Err(redirect) => return Ok(Err(redirect)),
    };
    if !session.csrf_matches(csrf) {
        return Err(WebError::Forbidden);
    }
    Ok(Ok(PatientForm {
        org,
        clinic,
        patient,
        here,
        staff,
        session,
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    pub(crate) csrf: String,
}

/// `POST /k/{clinic}/ansatt/pasient/{patient}/gjenapne`: opens the portal again for a
/// patient who ended it (P11), by anyone who may see the patient's administrative data.
pub(crate) async fn reopen_portal(
    State(state): State<AppState>,
    Path((clinic, patient)): Path<(String, String)>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let PatientForm {
        org,
        clinic,
        patient,
        here,
        staff,
        session,
    } = match patient_form(&state, &clinic, &patient, &headers, &form.csrf).await? {
        Ok(f) => f,
        Err(redirect) => return Ok(redirect),
    };
    match clinic
        .administrative_access(
            &actor(staff, &session, &source),
            patient,
            "gjenåpne portalen",
        )
        .await
    {
        Ok(access) => {
            access.reopen_portal().await?;
            Ok(see_other(&here, None))
        }
        Err(AccessError::StepUp(_)) => Ok(step_up(&org, &here)),
        Err(AccessError::Denied(_)) => Ok(refuse_in(
            lang,
            StatusCode::FORBIDDEN,
            tr(lang, "Ingen tilgang"),
            tr(
                lang,
                "Rollen din gir ikke tilgang til denne pasienten. Forsøket er logget.",
            ),
            &org,
        )),
        Err(AccessError::Service(e)) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct EmergencyForm {
    csrf: String,
    begrunnelse: String,
    minutter: String,
}

pub(crate) async fn emergency(
    State(state): State<AppState>,
    Path((clinic, patient)): Path<(String, String)>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<EmergencyForm>,
) -> Result<Response, WebError> {
    let PatientForm {
        org,
        clinic,
        patient,
        here,
        staff,
        session,
    } = match patient_form(&state, &clinic, &patient, &headers, &form.csrf).await? {
        Ok(f) => f,
        Err(redirect) => return Ok(redirect),
    };
    let minutes: u32 = form.minutter.trim().parse().unwrap_or(0);
    match clinic
        .emergency_access(
            &actor(staff, &session, &source),
            patient,
            &form.begrunnelse,
            minutes,
        )
        .await
    {
        Ok(_) => Ok(see_other(&here, None)),
        Err(AccessError::StepUp(_)) => Ok(step_up(&org, &here)),
        Err(AccessError::Denied(_)) => Ok(refuse_in(
            lang,
            StatusCode::FORBIDDEN,
            tr(lang, "Ingen tilgang"),
            tr(lang, "Rollen din gir ikke nødtilgang. Forsøket er logget."),
            &org,
        )),
        Err(AccessError::Service(fortrolig_service::ServiceError::Invalid(_))) => Ok(refuse_in(
            lang,
            StatusCode::BAD_REQUEST,
            tr(lang, "Nødtilgangen ble ikke gitt"),
            tr(
                lang,
                "Skriv en begrunnelse på minst ti tegn og en varighet fra 1 til 720 minutter.",
            ),
            &org,
        )),
        Err(AccessError::Service(e)) => Err(e.into()),
    }
}

async fn require_admin(
    clinic: &Clinic,
    headers: &HeaderMap,
    here: &str,
    now: fortrolig_domain::Timestamp,
) -> Result<Result<(StaffId, Session), Response>, WebError> {
    require_class(
        clinic,
        headers,
        here,
        now,
        fortrolig_domain::access::DataClass::People,
        n_("Bare klinikkens administrator kontrollerer nødtilganger."),
    )
    .await
}

/// The staff session of this request if the access rule lets its roles touch `class`;
/// otherwise a step-up, or a refusal saying `denied` (bokmål marked with `n_`, shown in
/// the language of the request).
pub(crate) async fn require_class(
    clinic: &Clinic,
    headers: &HeaderMap,
    here: &str,
    now: fortrolig_domain::Timestamp,
    class: fortrolig_domain::access::DataClass,
    denied: &'static str,
) -> Result<Result<(StaffId, Session), Response>, WebError> {
    let (staff, session) = match staff_session(clinic, headers, here).await? {
        Ok(pair) => pair,
        Err(redirect) => return Ok(Err(redirect)),
    };
    let roles = clinic.roles_at(staff, now).await?;
    let subject = fortrolig_domain::access::Subject::Staff {
        clinic: clinic.org().clone(),
        roles,
        level: session.level,
    };
    let request = fortrolig_domain::access::Request {
        clinic: clinic.org().clone(),
        class,
        patient: None,
        need: Need::None,
    };
    match fortrolig_domain::access::decide(&subject, &request) {
        fortrolig_domain::access::Decision::Allow => Ok(Ok((staff, session))),
        fortrolig_domain::access::Decision::StepUp(_) => Ok(Err(step_up(clinic.org(), here))),
        fortrolig_domain::access::Decision::Deny(_) => {
            let lang = Lang::of(headers);
            Ok(Err(refuse_in(
                lang,
                StatusCode::FORBIDDEN,
                tr(lang, "Ingen tilgang"),
                tr(lang, denied),
                clinic.org(),
            )))
        }
    }
}

pub(crate) async fn review_queue(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let clinic = state.app.clinic(&org).await?;
    let here = format!("/k/{org}/ansatt/nodtilgang");
    let (_, session) = match require_admin(&clinic, &headers, &here, state.app.now()).await? {
        Ok(pair) => pair,
        Err(response) => return Ok(response),
    };
    let csrf = escape(session.csrf_token());
    let mut rows = String::new();
    for r in clinic.emergency_reviews_pending().await? {
        let who = clinic
            .staff_member(r.staff)
            .await
            .map(|s| s.name.as_str().to_owned())
            .unwrap_or_else(|_| tr(lang, "Ukjent").into());
        rows.push_str(&format!(
            "<li><p><strong>{}</strong>, {}: «{}»</p>\n<form method=\"post\" action=\"/k/{org}/ansatt/nodtilgang/{}\">\n\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n<label for=\"merknad-{id}\">{note}</label>\n\
             <input id=\"merknad-{id}\" name=\"merknad\" required>\n<button type=\"submit\">{reviewed}</button>\n</form></li>\n",
            escape(&who),
            escape(&r.granted_at.oslo_minutes()),
            escape(&r.reason),
            r.id,
            id = r.id,
            note = tr(lang, "Merknad"),
            reviewed = tr(lang, "Kontrollert"),
        ));
    }
    let body = format!(
        "<h1>{}</h1>\n<ul>{rows}</ul>\n<p><a href=\"/k/{org}/ansatt/\">{}</a></p>",
        tr(lang, "Nødtilganger til kontroll"),
        tr(lang, "Tilbake"),
    );
    Ok(Html(page(lang, tr(lang, "Nødtilganger"), &body)).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct ReviewForm {
    csrf: String,
    merknad: String,
}

pub(crate) async fn review(
    State(state): State<AppState>,
    Path((clinic, id)): Path<(String, String)>,
    source: RequestSource,
    headers: HeaderMap,
    Form(form): Form<ReviewForm>,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let id = EmergencyId::parse(&id).map_err(|_| WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    let here = format!("/k/{org}/ansatt/nodtilgang");
    let (staff, session) = match require_admin(&clinic, &headers, &here, state.app.now()).await? {
        Ok(pair) => pair,
        Err(response) => return Ok(response),
    };
    if !session.csrf_matches(&form.csrf) {
        return Err(WebError::Forbidden);
    }
    clinic
        .review_emergency(
            &admin_context(
                &clinic,
                staff,
                source.in_session(&session),
                "kontroll av nødtilgang",
            ),
            id,
            &form.merknad,
        )
        .await?;
    Ok(see_other(&here, None))
}

/// Plain names of the security events.
fn event_text(lang: Lang, action: &str) -> &'static str {
    match action {
        "access.denied" => tr(lang, "Avvist forsøk på tilgang til helseopplysninger"),
        "access.emergency" => tr(lang, "Nødtilgang"),
        "login.failed" => tr(lang, "Mislykket innlogging"),
        "authorisation.granted" => tr(lang, "Avvist tildeling av tilgang"),
        "authorisation.ended" => tr(lang, "Avvist avslutning av tilgang"),
        _ => tr(lang, "Avvist handling"),
    }
}

/// `GET /k/{clinic}/ansatt/hendelser`: the last 30 days' security events, for the
/// clinic administrator (X3, issue 3 item 9).
pub(crate) async fn security_events(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let clinic = state.app.clinic(&org).await?;
    let here = format!("/k/{org}/ansatt/hendelser");
    if let Err(response) = require_admin(&clinic, &headers, &here, state.app.now()).await? {
        return Ok(response);
    }
    let since = state.app.now().as_micros() - 30 * 86_400_000_000;
    let events = clinic
        .store()
        .security_events(since, 500)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let mut rows = String::new();
    for e in &events {
        let who = match e
            .actor_id
            .strip_prefix("staff:")
            .and_then(|id| StaffId::parse(id).ok())
        {
            Some(id) => clinic
                .staff_member(id)
                .await
                .map(|s| s.name.as_str().to_owned())
                .unwrap_or_else(|_| tr(lang, "Ukjent ansatt").into()),
            None if e.actor_id.starts_with("patient:") => tr(lang, "Pasient").into(),
            None => tr(lang, "Ukjent").into(),
        };
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&fortrolig_domain::Timestamp(e.at).oslo_minutes()),
            escape(event_text(lang, &e.action)),
            escape(&who),
            escape(&e.reason),
            escape(e.source_address.as_deref().unwrap_or("–")),
        ));
    }
    let body = format!(
        "<h1>{title}</h1>\n<p>{intro}</p>\n\
         <table>\n<caption>{caption}</caption>\n<thead><tr><th scope=\"col\">{time}</th><th scope=\"col\">{what}</th>\
         <th scope=\"col\">{who}</th><th scope=\"col\">{reason}</th><th scope=\"col\">{address}</th></tr></thead>\n\
         <tbody>\n{rows}</tbody>\n</table>\n<p><a href=\"/k/{org}/ansatt/\">{back}</a></p>",
        title = tr(lang, "Sikkerhetshendelser"),
        intro = tr(
            lang,
            "Avviste forsøk, mislykkede innlogginger og nødtilganger de siste 30 dagene. \
             Følg opp det som ikke har en god forklaring, og meld avvik."
        ),
        caption = tr(lang, "{n} hendelser, nyeste først").replace("{n}", &events.len().to_string()),
        time = tr(lang, "Tid"),
        what = tr(lang, "Hva"),
        who = tr(lang, "Hvem"),
        reason = tr(lang, "Begrunnelse"),
        address = tr(lang, "Adresse"),
        back = tr(lang, "Tilbake"),
    );
    Ok(Html(page(lang, tr(lang, "Sikkerhetshendelser"), &body)).into_response())
}

/// `GET /k/{clinic}/ansatt/tilgangsgjennomgang`: the yearly access review (S2): every
/// authorisation in force, those due marked, each to confirm or revoke.
pub(crate) async fn access_review(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let clinic = state.app.clinic(&org).await?;
    let here = format!("/k/{org}/ansatt/tilgangsgjennomgang");
    let (_, session) = match require_admin(&clinic, &headers, &here, state.app.now()).await? {
        Ok(pair) => pair,
        Err(response) => return Ok(response),
    };
    let due: Vec<_> = clinic
        .reviews_due()
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    let csrf = escape(session.csrf_token());
    let mut rows = String::new();
    for a in clinic.access_review().await? {
        let who = clinic
            .staff_member(a.staff)
            .await
            .map(|s| s.name.as_str().to_owned())
            .unwrap_or_else(|_| tr(lang, "Ukjent").into());
        // An authorisation across clinics shows every clinic it covers (S2); ending it
        // here ends this clinic's part only, as each clinic decides over its own data.
        let covers = if a.is_shared() {
            a.covers
                .iter()
                .map(|o| o.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            tr(lang, "Denne virksomheten").to_owned()
        };
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>\
             <form method=\"post\" action=\"/k/{org}/ansatt/tilgangsgjennomgang/{id}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\" name=\"beslutning\" value=\"behold\">{keep}</button>\
             <button type=\"submit\" name=\"beslutning\" value=\"avslutt\">{end}</button></form></td></tr>\n",
            escape(&who),
            escape(role_name(lang, a.role)),
            escape(&covers),
            escape(&a.valid_until.oslo_minutes()),
            if due.contains(&a.id) {
                tr(lang, "Må gjennomgås")
            } else {
                tr(lang, "Gjennomgått siste år")
            },
            id = a.id,
            keep = tr(lang, "Behold"),
            end = tr(lang, "Avslutt"),
        ));
    }
    let body = format!(
        "<h1>{title}</h1>\n<p>{intro}</p>\n\
         <table>\n<caption>{caption}</caption>\n<thead><tr><th scope=\"col\">{person}</th>\
         <th scope=\"col\">{role}</th><th scope=\"col\">{covers}</th><th scope=\"col\">{until}</th>\
         <th scope=\"col\">{status}</th><th scope=\"col\">{decision}</th></tr></thead>\n\
         <tbody>\n{rows}</tbody>\n</table>\n<p><a href=\"/k/{org}/ansatt/\">{back}</a></p>",
        title = tr(lang, "Tilgangsgjennomgang"),
        intro = tr(
            lang,
            "Gå gjennom alle tilganger minst én gang i året, og etter avvik eller \
             omorganisering. Behold det som trengs i arbeidet; avslutt resten."
        ),
        caption = tr(lang, "{n} tilganger, {m} må gjennomgås")
            .replace("{n}", &rows.matches("<tr>").count().to_string())
            .replace("{m}", &due.len().to_string()),
        person = tr(lang, "Person"),
        role = tr(lang, "Rolle"),
        covers = tr(lang, "Gjelder"),
        until = tr(lang, "Gyldig til"),
        status = tr(lang, "Status"),
        decision = tr(lang, "Beslutning"),
        back = tr(lang, "Tilbake"),
    );
    Ok(Html(page(lang, tr(lang, "Tilgangsgjennomgang"), &body)).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct GrantReviewForm {
    csrf: String,
    beslutning: String,
}

pub(crate) async fn review_grant(
    State(state): State<AppState>,
    Path((clinic, id)): Path<(String, String)>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<GrantReviewForm>,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let id = fortrolig_domain::GrantId::parse(&id).map_err(|_| WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    let here = format!("/k/{org}/ansatt/tilgangsgjennomgang");
    let (staff, session) = match require_admin(&clinic, &headers, &here, state.app.now()).await? {
        Ok(pair) => pair,
        Err(response) => return Ok(response),
    };
    if !session.csrf_matches(&form.csrf) {
        return Err(WebError::Forbidden);
    }
    let keep = match form.beslutning.as_str() {
        "behold" => true,
        "avslutt" => false,
        _ => {
            return Ok(refuse_in(
                lang,
                StatusCode::BAD_REQUEST,
                tr(lang, "Ukjent beslutning"),
                tr(lang, "Velg «Behold» eller «Avslutt»."),
                &org,
            ));
        }
    };
    let ctx = admin_context(
        &clinic,
        staff,
        source.in_session(&session),
        "tilgangsgjennomgang",
    );
    clinic.review_grant(&ctx, id, keep).await?;
    Ok(see_other(&here, None))
}
