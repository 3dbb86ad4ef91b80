//! What staff write in a thread: replies and internal notes with an optional attachment,
//! templates (S8), thread settings (status, assignment, «Kan ikke besvares», P5),
//! journal-worthy marks (S5) and recall of an unread message (S7). Every form is
//! CSRF-checked; an error keeps what was typed.

use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fortrolig_domain::messaging::{MessageText, ThreadStatus};
use fortrolig_domain::{MessageId, StaffId, ThreadId};
use fortrolig_service::{NewAttachment, Recall, ThreadChange};
use serde::Deserialize;

use super::thread::{Draft, render_thread};
use super::{Reached, not_found_or, reach, reach_as, thread_path};
use crate::error::WebError;
use crate::html::escape;
use crate::i18n::{Lang, n_, refusal, text_error, tr};
use crate::respond::{clinic_of, message, see_other};
use crate::router::AppState;
use crate::source::RequestSource;
use crate::workspace::{refuse_in, staff_session};

/// A reply template (S8): says enough to act on, and nothing a patient would mind
/// others seeing over their shoulder. The label is interface (translated where shown);
/// the text is what the patient reads, in Norwegian, whatever the staff's language.
#[derive(Debug)]
pub(super) struct Template {
    pub key: &'static str,
    pub label: &'static str,
    pub text: &'static str,
}

pub(super) const TEMPLATES: [Template; 5] = [
    Template {
        key: "mottatt",
        label: n_("Vi har mottatt meldingen din"),
        text: "Vi har mottatt meldingen din og svarer så snart vi kan, vanligvis innen tre virkedager. \
               Haster det, ring klinikken. Ved akutt sykdom, ring 113.",
    },
    Template {
        key: "svar-klart",
        label: n_("Svar er klart – logg inn for å lese"),
        text: "Svaret ditt er klart. Logg inn for å lese det. Har du spørsmål, kan du svare her eller ringe oss.",
    },
    Template {
        key: "ring-time",
        label: n_("Ring oss for å avtale time"),
        text: "Vi vil gjerne se deg. Ring klinikken for å avtale time.",
    },
    Template {
        key: "feil-kanal",
        label: n_("Denne kanalen kan ikke brukes til dette – ring klinikken"),
        text: "Denne kanalen kan ikke brukes til dette. Ring klinikken, så hjelper vi deg. \
               Ved akutt sykdom, ring 113.",
    },
    Template {
        key: "resept",
        label: n_("Resepten er fornyet"),
        text: "Resepten er fornyet og ligger klar på apoteket.",
    },
];

pub(super) fn template(key: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.key == key)
}

/// A form to pick a template; the server puts its text in the text box (no script).
pub(super) fn template_picker(action: &str, lang: Lang) -> String {
    let options: String = TEMPLATES
        .iter()
        .map(|t| {
            format!(
                "<option value=\"{}\">{}</option>",
                t.key,
                escape(tr(lang, t.label))
            )
        })
        .collect();
    format!(
        "<form method=\"get\" action=\"{action}\">\n<label for=\"mal\">{label}</label>\n\
         <select id=\"mal\" name=\"mal\">{options}</select>\n\
         <button type=\"submit\">{use_it}</button>\n</form>\n",
        label = tr(lang, "Mal"),
        use_it = tr(lang, "Bruk malen"),
    )
}

/// The reply form as it arrived (multipart: it may carry a file).
#[derive(Debug, Default)]
struct ReplyForm {
    csrf: String,
    text: String,
    internal: bool,
    file: Option<Vec<u8>>,
    /// The body could not be read to the end (too large, or broken); the text in bokmål,
    /// translated where it is shown.
    problem: Option<(StatusCode, &'static str)>,
}

impl ReplyForm {
    async fn read(mut multipart: Multipart) -> Self {
        let mut form = Self::default();
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(e) => {
                    form.problem = Some(Self::problem(e.status()));
                    break;
                }
            };
            let name = field.name().unwrap_or_default().to_owned();
            if name == "vedlegg" {
                match field.bytes().await {
                    Ok(bytes) if !bytes.is_empty() => form.file = Some(bytes.to_vec()),
                    Ok(_) => {}
                    Err(e) => {
                        form.problem = Some(Self::problem(e.status()));
                        break;
                    }
                }
                continue;
            }
            let value = match field.text().await {
                Ok(value) => value,
                Err(e) => {
                    form.problem = Some(Self::problem(e.status()));
                    break;
                }
            };
            match name.as_str() {
                "csrf" => form.csrf = value,
                "tekst" => form.text = value,
                "internt" => form.internal = value == "ja",
                _ => {}
            }
        }
        form
    }

    fn problem(status: StatusCode) -> (StatusCode, &'static str) {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            (
                status,
                n_(
                    "Vedlegget er for stort (høyst 10 MB). Ingenting er sendt. Gå tilbake og velg en mindre fil.",
                ),
            )
        } else {
            (
                StatusCode::BAD_REQUEST,
                n_("Skjemaet kom ikke fram i sin helhet. Ingenting er sendt; prøv igjen."),
            )
        }
    }
}

/// `POST /k/{clinic}/ansatt/samtale/{thread}/svar`: a reply or an internal note.
pub(super) async fn reply(
    State(state): State<AppState>,
    Path((clinic, thread)): Path<(String, String)>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let thread = ThreadId::parse(&thread).map_err(|_| WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    // Who it is before reading an upload of up to 10 MB.
    let (staff, session) =
        match staff_session(&clinic, &headers, &thread_path(&org, thread)).await? {
            Ok(pair) => pair,
            Err(login) => return Ok(login),
        };
    let form = ReplyForm::read(multipart).await;
    if let Some((status, problem)) = form.problem
        && !session.csrf_matches(&form.csrf)
    {
        // Nothing could be read, not even what was typed (a body over the limit is
        // refused before its first byte when its length is declared, as browsers do).
        return Ok(message(
            lang,
            status,
            tr(lang, "Meldingen ble ikke sendt"),
            tr(lang, problem),
            &thread_path(&org, thread),
        ));
    }
    if !session.csrf_matches(&form.csrf) {
        return Err(WebError::Forbidden);
    }
    let reached = match reach_as(&clinic, staff, session, &source, thread, "svar", lang).await? {
        Ok(reached) => reached,
        Err(response) => return Ok(response),
    };
    let again = |error: String, status: StatusCode| {
        let draft = Draft {
            text: form.text.clone(),
            internal: form.internal,
            error: Some(error),
        };
        (draft, status)
    };
    let (draft, status) = if let Some((status, problem)) = form.problem {
        again(tr(lang, problem).to_owned(), status)
    } else {
        match MessageText::parse(&form.text) {
            Err(e) => again(text_error(lang, &e), StatusCode::BAD_REQUEST),
            Ok(text) => {
                let attachments = match &form.file {
                    None => Ok(Vec::new()),
                    Some(bytes) => fortrolig_domain::attachment::sniff(bytes)
                        .map(|_| {
                            vec![NewAttachment {
                                bytes: bytes.clone(),
                            }]
                        })
                        .map_err(|r| {
                            tr(lang, "{grunn} Velg en annen fil.")
                                .replace("{grunn}", refusal(lang, &r))
                        }),
                };
                match attachments {
                    Err(e) => again(e, StatusCode::UNPROCESSABLE_ENTITY),
                    Ok(attachments) => {
                        let id = reached
                            .access
                            .reply(thread, &text, form.internal, &attachments)
                            .await
                            .map_err(not_found_or)?;
                        let done = if form.internal { "notat" } else { "sendt" };
                        return Ok(see_other(
                            &format!("{}?melding={done}#melding-{id}", thread_path(&org, thread)),
                            None,
                        ));
                    }
                }
            }
        }
    };
    render_thread(&clinic, &reached, thread, &draft, "", status, lang).await
}

/// A CSRF-checked form on a thread: the access, or the page to show instead.
async fn checked<'c>(
    clinic: &'c fortrolig_service::Clinic,
    headers: &HeaderMap,
    source: &RequestSource,
    thread: ThreadId,
    csrf: &str,
    purpose: &str,
    lang: Lang,
) -> Result<Result<Reached<'c>, Response>, WebError> {
    let reached = match reach(clinic, headers, source, thread, purpose, lang).await? {
        Ok(reached) => reached,
        Err(response) => return Ok(Err(response)),
    };
    if !reached.session.csrf_matches(csrf) {
        return Err(WebError::Forbidden);
    }
    Ok(Ok(reached))
}

#[derive(Debug, Deserialize)]
pub(crate) struct SettingsForm {
    csrf: String,
    status: String,
    tildelt: String,
    /// A team's id, or empty for none.
    #[serde(default)]
    team: String,
    kan_ikke_besvares: Option<String>,
}

/// `POST …/innstillinger`: status, assignment and «Kan ikke besvares» (P5).
pub(super) async fn settings(
    State(state): State<AppState>,
    Path((clinic, thread)): Path<(String, String)>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<SettingsForm>,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let thread = ThreadId::parse(&thread).map_err(|_| WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    let reached = match checked(
        &clinic,
        &headers,
        &source,
        thread,
        &form.csrf,
        "innstillinger",
        lang,
    )
    .await?
    {
        Ok(reached) => reached,
        Err(response) => return Ok(response),
    };
    let bad = |text: &str| {
        Ok(refuse_in(
            lang,
            StatusCode::BAD_REQUEST,
            tr(lang, "Endringen ble ikke lagret"),
            text,
            &org,
        ))
    };
    let Some(status) = ThreadStatus::parse(&form.status) else {
        return bad(tr(lang, "Velg en av statusene i listen."));
    };
    let assigned = match form.tildelt.as_str() {
        "meg" => Some(reached.staff),
        "ingen" => None,
        // The person it is assigned to now, kept.
        other => match StaffId::parse(other) {
            Ok(id) if clinic.staff_member(id).await.is_ok() => Some(id),
            _ => return bad(tr(lang, "Velg «Meg» eller «Ingen» under «Tildelt».")),
        },
    };
    let team = match form.team.as_str() {
        "" => None,
        id => match fortrolig_domain::TeamId::parse(id) {
            Ok(team) => Some(team),
            Err(_) => return bad(tr(lang, "Velg et team fra listen, eller «Ingen team».")),
        },
    };
    reached
        .access
        .change_thread(
            thread,
            ThreadChange {
                status,
                assigned_staff: assigned,
                assigned_team: team,
                cannot_answer: form.kan_ikke_besvares.as_deref() == Some("ja"),
            },
        )
        .await
        .map_err(not_found_or)?;
    Ok(see_other(
        &format!("{}?melding=lagret", thread_path(&org, thread)),
        None,
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct JournalForm {
    csrf: String,
    verdi: String,
}

/// `POST …/melding/{message}/journal`: marks a message journal-worthy, or not, or as
/// transferred to the EPJ (S5).
pub(super) async fn journal(
    State(state): State<AppState>,
    Path((clinic, thread, message)): Path<(String, String, String)>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<JournalForm>,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let thread = ThreadId::parse(&thread).map_err(|_| WebError::NotFound)?;
    let message = MessageId::parse(&message).map_err(|_| WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    let reached = match checked(
        &clinic, &headers, &source, thread, &form.csrf, "journal", lang,
    )
    .await?
    {
        Ok(reached) => reached,
        Err(response) => return Ok(response),
    };
    let access = &reached.access;
    match form.verdi.as_str() {
        // Transferred to the EPJ by staff (S5); retention counts from now (X4).
        "overfort" => access.mark_transferred(thread, message).await,
        verdi => {
            access
                .mark_journal_worthy(thread, message, verdi == "ja")
                .await
        }
    }
    .map_err(not_found_or)?;
    Ok(see_other(
        &format!(
            "{}?melding=journal#melding-{message}",
            thread_path(&org, thread)
        ),
        None,
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    csrf: String,
}

/// `POST …/melding/{message}/tilbakekall`: recalls a message the patient has not read
/// (S7). Both outcomes are in the audit log, and both offer a draft incident, which the
/// thread page links to.
pub(super) async fn recall(
    State(state): State<AppState>,
    Path((clinic, thread, message)): Path<(String, String, String)>,
    source: RequestSource,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let org = clinic_of(&clinic)?;
    let thread = ThreadId::parse(&thread).map_err(|_| WebError::NotFound)?;
    let message = MessageId::parse(&message).map_err(|_| WebError::NotFound)?;
    let clinic = state.app.clinic(&org).await?;
    let reached = match checked(
        &clinic,
        &headers,
        &source,
        thread,
        &form.csrf,
        "tilbakekalling",
        lang,
    )
    .await?
    {
        Ok(reached) => reached,
        Err(response) => return Ok(response),
    };
    let (done, incident) = match reached
        .access
        .recall(thread, message)
        .await
        .map_err(not_found_or)?
    {
        Recall::Recalled { incident } => ("trukket", incident),
        Recall::AlreadyRead { incident } => ("lest", incident),
    };
    Ok(see_other(
        &format!(
            "{}?melding={done}&avvik={incident}#melding-{message}",
            thread_path(&org, thread)
        ),
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_plain_and_found_by_key_s8() {
        for t in &TEMPLATES {
            assert_eq!(template(t.key).map(|f| f.label), Some(t.label));
            assert!(MessageText::parse(t.text).is_ok(), "{}", t.key);
        }
        assert!(template("ukjent").is_none());
    }
}
