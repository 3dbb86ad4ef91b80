//! Writing: a new thread (kind first, with its notice, P3), and a reply. Both forms are
//! `multipart/form-data` with an optional attachment, CSRF-checked; the attachment's type
//! is sniffed from its bytes (P2). A refused form is shown again with what was written,
//! so bad input loses nothing; only the file must be chosen again (a browser cannot be
//! given one back).
//!
//! Both the fields and the forms carry `autocomplete="off"` (P2): Chromium decides whether
//! to keep a `<textarea>`'s text for session restore (on disk) by its form's attribute,
//! not the field's; the browser test found the message text in the profile without it.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use fortrolig_domain::attachment::{MAX_ATTACHMENT_BYTES, Refusal, sniff};
use fortrolig_domain::messaging::{MessageText, Subject, ThreadKind};
use fortrolig_service::{AccessError, NewAttachment, ServiceError};
use serde::Deserialize;

use super::draft::Draft;
use super::{Visit, inbox_path, missing_level, parse_thread, thread_path, to_login};
use crate::error::WebError;
use crate::html::{escape, page};
use crate::i18n::{Lang, kind_name, kind_notice, refusal, text_error, tr};
use crate::respond::{message, see_other};
use crate::router::AppState;
use crate::source::RequestSource;

/// What the file field accepts; the server decides from the bytes regardless.
const ACCEPT: &str = "image/png,image/jpeg,image/gif,image/webp,application/pdf";

/// A form as posted. Fields arrive in the form's order, the file last, so a file that is
/// too large still leaves the text in hand.
#[derive(Default)]
struct Posted {
    csrf: String,
    kind: String,
    subject: String,
    text: String,
    file: Option<Vec<u8>>,
    /// Why the file could not be taken, before it was even looked at.
    file_refused: Option<Refusal>,
}

/// Reads a posted form. A body that is not multipart, or broken, did not come from our
/// form: refused like a missing CSRF token.
async fn read_form(multipart: Result<Multipart, MultipartRejection>) -> Result<Posted, WebError> {
    let mut multipart = multipart.map_err(|_| WebError::Forbidden)?;
    let mut posted = Posted::default();
    let too_large = Refusal::TooLarge {
        limit: MAX_ATTACHMENT_BYTES,
    };
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            // The body limit (the attachment plus a margin) was passed.
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                posted.file_refused = Some(too_large);
                break;
            }
            Err(_) => return Err(WebError::Forbidden),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "vedlegg" {
            let mut bytes = Vec::new();
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        if bytes.len() + chunk.len() > MAX_ATTACHMENT_BYTES {
                            posted.file_refused = Some(too_large);
                            break;
                        }
                        bytes.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                        posted.file_refused = Some(too_large);
                        break;
                    }
                    Err(_) => return Err(WebError::Forbidden),
                }
            }
            // An empty file input is sent as a part with no name and no bytes.
            if posted.file_refused.is_none() && !bytes.is_empty() {
                posted.file = Some(bytes);
            }
            if posted.file_refused.is_some() {
                break;
            }
            continue;
        }
        let slot = match name.as_str() {
            "csrf" => &mut posted.csrf,
            "type" => &mut posted.kind,
            "emne" => &mut posted.subject,
            "tekst" => &mut posted.text,
            _ => continue,
        };
        match field.text().await {
            Ok(text) => *slot = text,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                posted.file_refused = Some(too_large);
                break;
            }
            Err(_) => return Err(WebError::Forbidden),
        }
    }
    Ok(posted)
}

/// What is wrong with a posted form, in plain language (the page's), per field.
#[derive(Debug, Default, Clone)]
pub(super) struct Problems {
    subject: Option<String>,
    text: Option<String>,
    file: Option<String>,
    other: Option<String>,
}

impl Problems {
    fn any(&self) -> bool {
        self.subject.is_some() || self.text.is_some() || self.file.is_some() || self.other.is_some()
    }

    /// The summary above the form, each problem linking to its field (WCAG 3.3.1).
    pub(super) fn summary(&self, lang: Lang) -> String {
        let mut items = String::new();
        for (field, problem) in [
            ("emne", &self.subject),
            ("tekst", &self.text),
            ("vedlegg", &self.file),
        ] {
            if let Some(p) = problem {
                items.push_str(&format!(
                    "<li><a href=\"#{field}\">{}</a></li>\n",
                    escape(p)
                ));
            }
        }
        if let Some(p) = &self.other {
            items.push_str(&format!("<li>{}</li>\n", escape(p)));
        }
        format!(
            "<div class=\"advarsel\" role=\"alert\">\n<h2>{}</h2>\n\
             <p>{}</p>\n<ul>\n{items}</ul>\n</div>\n",
            tr(lang, "Meldingen er ikke sendt"),
            tr(lang, "Det du skrev er tatt vare på nedenfor."),
        )
    }
}

/// An error text under a field, and the attributes that tie it to the field.
fn field_error(lang: Lang, id: &str, problem: Option<&String>) -> (String, String) {
    match problem {
        Some(p) => (
            format!(
                "<p id=\"{id}-feil\" class=\"feil\"><strong>{}</strong> {}</p>\n",
                tr(lang, "Feil:"),
                escape(p)
            ),
            format!(" aria-invalid=\"true\" aria-describedby=\"{id}-feil\""),
        ),
        None => (String::new(), String::new()),
    }
}

/// The message text and the attachment, shared by a new thread and a reply.
pub(super) fn text_and_file_fields(lang: Lang, kept: &str, problems: Option<&Problems>) -> String {
    let (text_error, text_attrs) =
        field_error(lang, "tekst", problems.and_then(|p| p.text.as_ref()));
    let (file_error, _) = field_error(lang, "vedlegg", problems.and_then(|p| p.file.as_ref()));
    let file_described = if file_error.is_empty() {
        "vedlegg-hjelp"
    } else {
        "vedlegg-hjelp vedlegg-feil"
    };
    let again = if problems.is_some() {
        format!(
            " {}",
            tr(lang, "Hadde du valgt en fil, må du velge den på nytt.")
        )
    } else {
        String::new()
    };
    format!(
        "<label for=\"tekst\">{}</label>\n{text_error}\
         <textarea id=\"tekst\" name=\"tekst\" rows=\"8\" required autocomplete=\"off\"{text_attrs}>{}</textarea>\n\
         <label for=\"vedlegg\">{}</label>\n\
         <p id=\"vedlegg-hjelp\">{}{again}</p>\n{file_error}\
         <input type=\"file\" id=\"vedlegg\" name=\"vedlegg\" accept=\"{ACCEPT}\" data-hoyst=\"{MAX_ATTACHMENT_BYTES}\" aria-describedby=\"{file_described}\">\n",
        tr(lang, "Melding"),
        escape(kept),
        tr(lang, "Vedlegg (valgfritt)"),
        tr(
            lang,
            "Et bilde (PNG, JPEG, GIF eller WebP) eller en PDF, høyst 10 MB. \
             Vedlegget vises i nettleseren; du trenger ikke laste det ned."
        ),
    )
}

/// Checks the text and the attachment of a posted form.
fn check_text_and_file(
    lang: Lang,
    posted: &Posted,
    problems: &mut Problems,
) -> (Option<MessageText>, Vec<NewAttachment>) {
    let text = MessageText::parse(&posted.text)
        .map_err(|e| problems.text = Some(text_error(lang, &e)))
        .ok();
    let mut attachments = Vec::new();
    if let Some(r) = posted.file_refused {
        problems.file = Some(refusal(lang, &r).into());
    } else if let Some(bytes) = &posted.file {
        // Sniffed here for the message; the service sniffs again before it seals.
        match sniff(bytes) {
            Ok(_) => attachments.push(NewAttachment {
                bytes: bytes.clone(),
            }),
            Err(r) => problems.file = Some(refusal(lang, &r).into()),
        }
    }
    (text, attachments)
}

/// The form's CSRF token must match the session's; otherwise this is the answer. A body
/// cut off by the size limit before the token arrived (a client that sends it in one
/// piece; browsers send the text first) is told so plainly.
fn csrf_refusal(visit: &Visit, posted: &Posted, back: &str) -> Option<Response> {
    if visit.session.csrf_matches(&posted.csrf) {
        return None;
    }
    if posted.csrf.is_empty() && posted.file_refused.is_some() {
        let lang = visit.lang;
        return Some(message(
            lang,
            StatusCode::PAYLOAD_TOO_LARGE,
            tr(lang, "Filen er for stor"),
            tr(
                lang,
                "Filen er for stor (høyst 10 MB). Gå tilbake og velg en mindre fil.",
            ),
            back,
        ));
    }
    Some(WebError::Forbidden.into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct NewQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
    /// A refused form's draft to show again.
    utkast: Option<String>,
}

/// Keeps what a refused form held and sends the browser to `to` to see it again (see
/// `draft.rs`: the answer to the POST itself must not be a page).
fn show_again(visit: &Visit, to: &str, subject: &str, text: &str, problems: Problems) -> Response {
    let draft = Draft {
        subject: subject.to_owned(),
        text: text.to_owned(),
        problems,
    };
    match visit.drafts.keep(&visit.session.reference(), draft) {
        Some(id) => {
            let join = if to.contains('?') { '&' } else { '?' };
            see_other(&format!("{to}{join}utkast={id}"), None)
        }
        None => WebError::Internal("no randomness for a draft id".into()).into_response(),
    }
}

/// The session's draft `id`, if the address names one that is still kept.
pub(super) fn draft_of(visit: &Visit, id: Option<&str>) -> Option<Draft> {
    id.and_then(|id| visit.drafts.get(&visit.session.reference(), id))
}

fn new_path(org: &fortrolig_domain::OrgNumber) -> String {
    format!("/k/{org}/meldinger/ny")
}

/// The kinds a patient may open, each with its notice, to choose from (P3).
fn choose_page(visit: &Visit) -> Response {
    let org = &visit.org;
    let lang = visit.lang;
    let mut kinds = String::new();
    for kind in ThreadKind::ALL.into_iter().filter(|k| k.patient_may_open()) {
        let name = escape(kind_name(lang, kind));
        kinds.push_str(&format!(
            "<section>\n<h2>{name}</h2>\n<p>{}</p>\n\
             <p><a class=\"knapp\" href=\"{}?type={}\">{}</a></p>\n</section>\n",
            escape(kind_notice(lang, kind)),
            new_path(org),
            kind.as_str(),
            tr(lang, "Skriv: {type}").replace("{type}", &name),
        ));
    }
    let body = format!(
        "<p><a href=\"{}\">{}</a></p>\n<h1>{}</h1>\n\
         <p>{}</p>\n\
         {kinds}<p>{}</p>",
        inbox_path(org),
        tr(lang, "Tilbake til meldingene"),
        tr(lang, "Ny melding"),
        tr(
            lang,
            "Velg hva meldingen gjelder. Da kommer den til riktige personer hos klinikken."
        ),
        tr(lang, "Ved akutt sykdom, ring 113."),
    );
    Html(page(lang, tr(lang, "Ny melding"), &body)).into_response()
}

/// The form for a new thread of `kind`, with its notice first (P3).
fn form_page(visit: &Visit, kind: ThreadKind, draft: Option<&Draft>) -> Response {
    let problems = draft.map(|d| &d.problems);
    let org = &visit.org;
    let lang = visit.lang;
    let (subject_error, subject_attrs) =
        field_error(lang, "emne", problems.and_then(|p| p.subject.as_ref()));
    let body = format!(
        "<p><a href=\"{back}\">{other}</a></p>\n\
         <h1>{heading}</h1>\n\
         <aside class=\"advarsel\" aria-labelledby=\"om-kanalen\">\n<h2 id=\"om-kanalen\">{before}</h2>\n\
         <p>{notice}</p>\n</aside>\n{summary}\
         <form method=\"post\" action=\"{action}\" enctype=\"multipart/form-data\" autocomplete=\"off\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <input type=\"hidden\" name=\"type\" value=\"{kind}\">\n\
         <label for=\"emne\">{subject_label}</label>\n{subject_error}\
         <input type=\"text\" id=\"emne\" name=\"emne\" maxlength=\"200\" required autocomplete=\"off\" value=\"{subject}\"{subject_attrs}>\n\
         {fields}<button type=\"submit\">{send}</button>\n</form>\n{script}",
        script = super::live::SCRIPT_TAG,
        back = new_path(org),
        other = tr(lang, "Velg en annen type melding"),
        heading = tr(lang, "Ny melding: {type}").replace("{type}", &escape(kind_name(lang, kind))),
        before = tr(lang, "Før du skriver"),
        subject_label = tr(lang, "Emne"),
        send = tr(lang, "Send meldingen"),
        notice = escape(kind_notice(lang, kind)),
        summary = problems.map(|p| p.summary(lang)).unwrap_or_default(),
        action = new_path(org),
        csrf = visit.csrf(),
        kind = kind.as_str(),
        subject = escape(draft.map(|d| d.subject.as_str()).unwrap_or_default()),
        fields = text_and_file_fields(
            lang,
            draft.map(|d| d.text.as_str()).unwrap_or_default(),
            problems
        ),
    );
    let status = if problems.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    // A generic title: the kind alone could tell others what the patient wrote about.
    (status, Html(page(lang, tr(lang, "Ny melding"), &body))).into_response()
}

fn openable(text: &str) -> Result<ThreadKind, WebError> {
    ThreadKind::parse(text)
        .filter(|k| k.patient_may_open())
        .ok_or(WebError::NotFound)
}

/// `GET /k/{clinic}/meldinger/ny[?type=…]`: choose a kind, then write.
pub(super) async fn form(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    Query(query): Query<NewQuery>,
    source: RequestSource,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let kind = query.kind.as_deref().map(openable).transpose()?;
    let here = |org: &fortrolig_domain::OrgNumber| match kind {
        Some(k) => format!("{}?type={}", new_path(org), k.as_str()),
        None => new_path(org),
    };
    let visit = match super::visit(&state, &clinic, &headers, &source, here).await? {
        Ok(v) => v,
        Err(to_login) => return Ok(to_login),
    };
    // No form for a patient who said no to messaging: the inbox says why (P4).
    if visit.messaging_refused().await? {
        return Ok(see_other(&inbox_path(&visit.org), None));
    }
    let Some(kind) = kind else {
        return Ok(choose_page(&visit));
    };
    // Step up before the patient writes, not after (nothing typed is lost to a login).
    if let Some(level) = missing_level(&visit, kind.data_class()) {
        return Ok(to_login(&visit.org, level, &here(&visit.org)));
    }
    let draft = draft_of(&visit, query.utkast.as_deref());
    Ok(form_page(&visit, kind, draft.as_ref()))
}

/// `POST /k/{clinic}/meldinger/ny`: opens the thread, then 303 to it.
pub(super) async fn create(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    source: RequestSource,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    let visit = match super::visit(&state, &clinic, &headers, &source, new_path).await? {
        Ok(v) => v,
        Err(to_login) => return Ok(to_login),
    };
    let posted = read_form(multipart).await?;
    if let Some(refused) = csrf_refusal(&visit, &posted, &new_path(&visit.org)) {
        return Ok(refused);
    }
    let kind = openable(&posted.kind)?;
    let lang = visit.lang;
    let mut problems = Problems::default();
    let subject = Subject::parse(&posted.subject)
        .map_err(|e| problems.subject = Some(text_error(lang, &e)))
        .ok();
    let (text, attachments) = check_text_and_file(lang, &posted, &mut problems);
    let back = format!("{}?type={}", new_path(&visit.org), kind.as_str());
    let (Some(subject), Some(text), false) = (subject, text, problems.any()) else {
        return Ok(show_again(
            &visit,
            &back,
            &posted.subject,
            &posted.text,
            problems,
        ));
    };
    match visit
        .clinic
        .open_thread(&visit.actor, kind, &subject, &text, &attachments)
        .await
    {
        Ok(id) => {
            visit.drafts.forget(&visit.session.reference());
            Ok(see_other(&thread_path(&visit.org, id), None))
        }
        Err(AccessError::StepUp(_)) => {
            problems.other = Some(
                tr(
                    lang,
                    "Denne typen melding krever innlogging på høyt sikkerhetsnivå. \
                     Kopier teksten din, logg inn på nytt med BankID og prøv igjen.",
                )
                .into(),
            );
            Ok(show_again(
                &visit,
                &back,
                &posted.subject,
                &posted.text,
                problems,
            ))
        }
        Err(AccessError::Service(ServiceError::Invalid(_))) => {
            problems.other = Some(tr(lang, "Meldingen kunne ikke sendes. Prøv igjen.").into());
            Ok(show_again(
                &visit,
                &back,
                &posted.subject,
                &posted.text,
                problems,
            ))
        }
        Err(AccessError::Denied(_)) => Err(WebError::NotFound),
        Err(AccessError::Service(e)) => Err(e.into()),
    }
}

/// `POST /k/{clinic}/meldinger/{thread}`: a reply in the patient's thread, then 303 back.
pub(super) async fn reply(
    State(state): State<AppState>,
    Path((clinic, thread)): Path<(String, String)>,
    source: RequestSource,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    let id = parse_thread(&thread)?;
    let here = |org: &fortrolig_domain::OrgNumber| thread_path(org, id);
    // The thread is read with the session: this is the busiest write there is.
    let (visit, ahead) =
        match super::visit_in_thread(&state, &clinic, &headers, &source, here, id).await? {
            Ok(v) => v,
            Err(to_login) => return Ok(to_login),
        };
    let posted = read_form(multipart).await?;
    if let Some(refused) = csrf_refusal(&visit, &posted, &here(&visit.org)) {
        return Ok(refused);
    }
    let mut problems = Problems::default();
    let (text, attachments) = check_text_and_file(visit.lang, &posted, &mut problems);
    if let (Some(text), false) = (&text, problems.any()) {
        match visit
            .clinic
            .write_to_clinic_read_ahead(&visit.actor, ahead, text, &attachments)
            .await
        {
            Ok(_) => {
                visit.drafts.forget(&visit.session.reference());
                return Ok(see_other(&thread_path(&visit.org, id), None));
            }
            Err(AccessError::Service(ServiceError::Invalid(_))) => {
                // Not theirs (or not there): the same 404 as reading it. Otherwise it was
                // closed or marked unanswerable meanwhile.
                let theirs = match visit.clinic.my_threads(&visit.actor).await {
                    Ok(threads) => threads.iter().any(|t| t.id == id),
                    Err(e) => return super::refused(e, &visit.org, &here(&visit.org)),
                };
                if !theirs {
                    return Err(WebError::NotFound);
                }
                problems.other =
                    Some(tr(visit.lang, "Samtalen tar ikke imot flere meldinger.").into());
            }
            Err(AccessError::Service(ServiceError::Stopped(_))) => {
                problems.other = Some(
                    tr(
                        visit.lang,
                        "Du har sagt nei til meldinger med klinikken, så meldingen er ikke sendt. \
                         Du kan endre samtykket under «Samtykke».",
                    )
                    .into(),
                );
            }
            Err(e) => return super::refused(e, &visit.org, &here(&visit.org)),
        }
    }
    Ok(show_again(
        &visit,
        &here(&visit.org),
        "",
        &posted.text,
        problems,
    ))
}
