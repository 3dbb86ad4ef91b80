//! «Dine økter» (issue 3 item 5, S4): a patient or a member of staff sees where they are
//! logged in and can end any of those sessions. A session is named by its reference (a
//! prefix of the token's hash), never by its token. No health data, so any logged-in
//! session will do (X2: administrative functions need *substantial*).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use fortrolig_domain::OrgNumber;
use fortrolig_service::{Clinic, EndOwn, Session, SessionSubject};
use serde::Deserialize;

use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{Lang, level_name, tr};
use crate::logout::{home_of, log_out};
use crate::respond::{clinic_of, message, see_other};
use crate::router::AppState;
use crate::session::current;
use crate::source::RequestSource;

/// Whose sessions a path is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Patient,
    Staff,
}

impl Owner {
    /// The list's address.
    fn path(self, org: &OrgNumber) -> String {
        match self {
            Owner::Patient => format!("/k/{org}/okter"),
            Owner::Staff => format!("/k/{org}/ansatt/okter"),
        }
    }

    fn login(self, org: &OrgNumber) -> String {
        let next = self.path(org);
        match self {
            Owner::Patient => format!("/k/{org}/innlogging?nivaa=betydelig&neste={next}"),
            Owner::Staff => format!("/k/{org}/ansatt/innlogging?nivaa=betydelig&neste={next}"),
        }
    }

    fn owns(self, subject: SessionSubject) -> bool {
        matches!(
            (self, subject),
            (Owner::Patient, SessionSubject::Patient(_)) | (Owner::Staff, SessionSubject::Staff(_))
        )
    }
}

/// The request's session if it belongs to `owner`, or where to log in.
async fn own_session(
    clinic: &Clinic,
    headers: &HeaderMap,
    owner: Owner,
) -> Result<Result<Session, Response>, WebError> {
    match current(clinic, headers).await? {
        Some(session) if owner.owns(session.subject) => Ok(Ok(session)),
        _ => Ok(Err(Redirect::to(&owner.login(clinic.org())).into_response())),
    }
}

fn provider_text(lang: Lang, provider: &str) -> String {
    match provider {
        "idporten" => "ID-porten".into(),
        "helseid" => "HelseID".into(),
        "testinnlogging" => tr(lang, "Testinnlogging (demo)").into(),
        other => escape(other),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    avsluttet: Option<String>,
}

async fn list(
    state: &AppState,
    clinic: &str,
    headers: &HeaderMap,
    owner: Owner,
    query: &ListQuery,
) -> Result<Response, WebError> {
    let lang = Lang::of(headers);
    let org = clinic_of(clinic)?;
    let clinic = state.app.clinic(&org).await?;
    let session = match own_session(&clinic, headers, owner).await? {
        Ok(session) => session,
        Err(to_login) => return Ok(to_login),
    };
    let sessions = clinic.sessions_of(session.subject).await?;
    let csrf = escape(session.csrf_token());
    let action = format!("{}/avslutt", owner.path(&org));
    let mut rows = String::new();
    for s in &sessions {
        let started = s.created_at.oslo_minutes();
        let this = s.same_as(&session);
        let (marker, button) = if this {
            (
                format!("<br><strong>{}</strong>", tr(lang, "Denne økten")),
                format!(
                    "<button type=\"submit\" aria-label=\"{}\">{}</button>",
                    tr(lang, "Logg ut av denne økten"),
                    tr(lang, "Logg ut"),
                ),
            )
        } else {
            (
                String::new(),
                format!(
                    "<button type=\"submit\" aria-label=\"{}\">{}</button>",
                    tr(lang, "Avslutt økten startet {tid}").replace("{tid}", &escape(&started)),
                    tr(lang, "Avslutt"),
                ),
            )
        };
        rows.push_str(&format!(
            "<tr><td>{}{marker}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td><form method=\"post\" action=\"{action}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"okt\" value=\"{}\">{button}</form></td></tr>\n",
            escape(&started),
            escape(&s.last_seen.oslo_minutes()),
            provider_text(lang, &s.provider),
            level_name(lang, s.level),
            escape(&s.reference()),
        ));
    }
    let status = if query.avsluttet.is_some() {
        format!(
            "<p role=\"status\">{}</p>\n",
            tr(lang, "Økten er avsluttet.")
        )
    } else {
        String::new()
    };
    let caption = if sessions.len() == 1 {
        tr(lang, "1 åpen økt (norsk tid)").to_owned()
    } else {
        tr(lang, "{n} åpne økter (norsk tid)").replace("{n}", &sessions.len().to_string())
    };
    let body = format!(
        "<h1>{title}</h1>\n<p>{intro}</p>\n{status}\
         <table>\n<caption>{caption}</caption>\n\
         <thead><tr><th scope=\"col\">{started}</th><th scope=\"col\">{last}</th>\
         <th scope=\"col\">{login}</th><th scope=\"col\">{level}</th>\
         <th scope=\"col\">{end}</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n\
         <p><a href=\"{home}\">{back}</a></p>",
        title = tr(lang, "Dine økter"),
        intro = tr(
            lang,
            "Her ser du hvor du er logget inn nå. Avslutt økter du ikke kjenner igjen, \
             eller som er på en maskin du har glemt å logge ut av. En økt slutter også av seg selv \
             etter 30 minutter uten bruk, og senest etter to timer."
        ),
        started = tr(lang, "Startet"),
        last = tr(lang, "Sist brukt"),
        login = tr(lang, "Innlogging"),
        level = tr(lang, "Sikkerhetsnivå"),
        end = tr(lang, "Avslutt"),
        back = tr(lang, "Tilbake"),
        home = escape(&home_of(&org, session.subject)),
    );
    Ok(Html(page(lang, tr(lang, "Dine økter"), &body)).into_response())
}

/// `GET /k/{clinic}/okter`: a patient's sessions.
pub(crate) async fn patient_list(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    list(&state, &clinic, &headers, Owner::Patient, &query).await
}

/// `GET /k/{clinic}/ansatt/okter`: a member of staff's sessions.
pub(crate) async fn staff_list(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    list(&state, &clinic, &headers, Owner::Staff, &query).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct EndForm {
    csrf: String,
    okt: String,
}

async fn end(
    state: &AppState,
    clinic: &str,
    headers: &HeaderMap,
    source: &RequestSource,
    owner: Owner,
    form: &EndForm,
) -> Result<Response, WebError> {
    let org = clinic_of(clinic)?;
    let lang = Lang::of(headers);
    let clinic = state.app.clinic(&org).await?;
    let session = match own_session(&clinic, headers, owner).await? {
        Ok(session) => session,
        Err(to_login) => return Ok(to_login),
    };
    if !session.csrf_matches(&form.csrf) {
        return Err(WebError::Forbidden);
    }
    // Ending the session in use is logging out, at the provider too.
    if form.okt == session.reference() {
        return log_out(state, &clinic, &session, false, source, lang).await;
    }
    let list = owner.path(&org);
    match clinic
        .end_own_session(&session, &form.okt, &source.in_session(&session))
        .await?
    {
        EndOwn::Ended => Ok(see_other(&format!("{list}?avsluttet=ja"), None)),
        EndOwn::NotFound => Ok(message(
            lang,
            StatusCode::NOT_FOUND,
            tr(lang, "Fant ikke økten"),
            tr(lang, "Økten er allerede avsluttet, eller den er ikke din."),
            &list,
        )),
    }
}

/// `POST /k/{clinic}/okter/avslutt`: a patient ends one of their sessions.
pub(crate) async fn patient_end(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    headers: HeaderMap,
    Form(form): Form<EndForm>,
) -> Result<Response, WebError> {
    end(&state, &clinic, &headers, &source, Owner::Patient, &form).await
}

/// `POST /k/{clinic}/ansatt/okter/avslutt`: a member of staff ends one of their sessions.
pub(crate) async fn staff_end(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    headers: HeaderMap,
    Form(form): Form<EndForm>,
) -> Result<Response, WebError> {
    end(&state, &clinic, &headers, &source, Owner::Staff, &form).await
}
