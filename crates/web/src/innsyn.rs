//! Innsyn for the patient (P9, X3), at level high; a session at *substantial* is sent to
//! log in again (step-up, X2), not shown an error.
//!
//! - `/k/{clinic}/innsyn` (`held.rs`): everything the clinic holds about the patient in
//!   Fortrolig — their registered data, threads with messages and attachments (and any
//!   dated corrections), notices, consents and requests with their answers — and the way
//!   to a machine-readable copy, which also answers an open copy request.
//! - `/k/{clinic}/innsyn/logg` (`log.rs`): who has done what with their data, from which
//!   business, with emergency access marked, and for every entry its proof of inclusion
//!   in the clinic's signed audit log, which `/static/innsyn.js` checks in the page.
//! - `POST /k/{clinic}/innsyn/kopi.json` (`copy.rs`): all of it as JSON, a download,
//!   audited as an export.
//!
//! Decisions:
//! - The proofs are the page's own check: the server hands out each entry's encoded leaf,
//!   its audit path and one signed tree head (size, root, time, signature, public key);
//!   the script recomputes leaf, root and signature with WebCrypto, and checks that the
//!   leaf holds what the row shows (number, time, actor, action, outcome). The server
//!   checks the head's signature too, before it is shown.
//! - Without JavaScript every page still shows everything; only the check in the page is
//!   missing, and the page says so.
//! - The leaf is the whole stored entry, so the patient also sees the actor's session
//!   reference and network address as logged: that is what the hash covers.

mod copy;
mod held;
mod log;

use std::collections::HashMap;

use axum::Router;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use fortrolig_domain::access::{Level, Role};
use fortrolig_domain::{Action, OrgNumber, StaffId, Timestamp};
use fortrolig_service::{AccessError, Clinic, Hash, LogEntry, PatientLog};

use crate::error::WebError;
use crate::i18n::{Lang, role_name, tr};
use crate::portal_messages::{Visit, to_login, visit};
use crate::router::AppState;
use crate::source::RequestSource;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/k/{clinic}/innsyn", get(held::show))
        .route("/k/{clinic}/innsyn/logg", get(log::show))
        .route("/k/{clinic}/innsyn/kopi.json", post(copy::download))
}

fn held_path(org: &OrgNumber) -> String {
    format!("/k/{org}/innsyn")
}

fn log_path(org: &OrgNumber) -> String {
    format!("/k/{org}/innsyn/logg")
}

/// The patient's session at level high, or the response that sends them to log in (again).
pub(crate) async fn patient_at_high(
    state: &AppState,
    clinic: &str,
    headers: &HeaderMap,
    source: &RequestSource,
    here: fn(&OrgNumber) -> String,
) -> Result<Result<Visit, Response>, WebError> {
    let v = match visit(state, clinic, headers, source, here).await? {
        Ok(v) => v,
        Err(to_login) => return Ok(Err(to_login)),
    };
    if v.session.level < Level::High {
        return Ok(Err(to_login(&v.org, Level::High, &here(&v.org))));
    }
    Ok(Ok(v))
}

/// A refusal from the service on an innsyn page: a step-up is a new login.
fn refused(e: AccessError, org: &OrgNumber, here: &str) -> Result<Response, WebError> {
    match e {
        AccessError::StepUp(_) => Ok(to_login(org, Level::High, here)),
        AccessError::Denied(_) => Err(WebError::NotFound),
        AccessError::Service(e) => Err(e.into()),
    }
}

/// Plain-language names of what was done.
fn action_text(lang: Lang, action: &str) -> &'static str {
    match Action::parse(action) {
        Some(Action::PatientCreated) => tr(lang, "Registrerte deg som pasient"),
        Some(Action::PatientRead) => tr(lang, "Åpnet opplysningene dine"),
        Some(Action::PatientExported) => tr(lang, "Lastet ned en kopi av opplysningene dine"),
        Some(Action::AccessDenied) => {
            tr(lang, "Forsøkte å åpne opplysningene dine, men ble avvist")
        }
        Some(Action::EmergencyAccess) => tr(
            lang,
            "Åpnet opplysningene dine i en nødsituasjon (blir kontrollert)",
        ),
        Some(Action::EmergencyReviewed) => tr(lang, "Kontrollerte en nødtilgang"),
        Some(Action::CareStarted) => tr(lang, "Ble en av dine behandlere"),
        Some(Action::CareEnded) => tr(lang, "Sluttet å være en av dine behandlere"),
        Some(Action::TeamCareStarted) => tr(lang, "Knyttet et behandlingsteam til deg"),
        Some(Action::TeamCareEnded) => tr(lang, "Avsluttet et behandlingsteams behandling av deg"),
        Some(Action::SessionStarted) => tr(lang, "Innlogging"),
        Some(Action::SessionEnded) => tr(lang, "Utlogging"),
        Some(Action::LoginFailed) => tr(lang, "Mislykket innlogging"),
        Some(Action::PatientShredded) => tr(lang, "Slettet opplysningene dine"),
        Some(Action::ThreadOpened) => tr(lang, "Startet en samtale"),
        Some(Action::ThreadRead) => tr(lang, "Leste en samtale"),
        Some(Action::MessageSent) => tr(lang, "Sendte en melding"),
        Some(Action::MessageRecalled) => tr(lang, "Trakk tilbake en melding"),
        Some(Action::ThreadUpdated) => tr(lang, "Endret en samtale"),
        Some(Action::AttachmentRead) => tr(lang, "Åpnet et vedlegg"),
        Some(Action::NoticeSent) => tr(lang, "Sendte deg et varsel"),
        Some(Action::NoticeDelivered) => tr(lang, "Et varsel kom fram"),
        Some(Action::NoticeFailed | Action::NoticeBounced) => tr(lang, "Et varsel kom ikke fram"),
        Some(Action::NoticeSkipped) => tr(lang, "Et varsel ble ikke sendt"),
        Some(Action::ConsentChanged) => tr(lang, "Endret et samtykke"),
        Some(Action::TaskCreated) => tr(lang, "Laget en oppgave om et varsel"),
        Some(Action::TaskDone) => tr(lang, "Fullførte en oppgave om et varsel"),
        Some(Action::JournalTransferred) => tr(lang, "Førte en melding over i journalen din"),
        Some(Action::RetentionDeleted) => tr(
            lang,
            "Slettet opplysninger etter at oppbevaringstiden var ute",
        ),
        Some(Action::ActivationIssued) => tr(lang, "Ga deg en aktiveringskode"),
        Some(Action::PasskeyEnrolled) => tr(lang, "Registrerte en passnøkkel"),
        Some(Action::PasskeysRevoked) => tr(lang, "Trakk tilbake passnøkler"),
        Some(Action::RequestReceived) => tr(lang, "Tok imot en forespørsel fra deg"),
        Some(Action::RequestAnswered) => tr(lang, "Besvarte en forespørsel fra deg"),
        Some(Action::RestrictionLifted) => tr(lang, "Opphevet en begrensning av behandlingen"),
        Some(Action::IncidentDecided) => tr(lang, "Vurderte et avvik som gjelder deg"),
        Some(Action::IncidentFollowedUp) => tr(lang, "Fulgte opp et avvik som gjelder deg"),
        _ => tr(lang, "Annen handling"),
    }
}

fn outcome_text(lang: Lang, outcome: &str) -> &'static str {
    if outcome == "denied" {
        tr(lang, "Avvist")
    } else {
        tr(lang, "Tillatt")
    }
}

/// One entry of the access log as the patient is shown it, with its proof.
struct LogRow {
    entry: LogEntry,
    path: Vec<Hash>,
    /// The person (or «you», «the system»).
    who: String,
    /// Their roles, or «–».
    role: String,
    /// The business they acted for: its name and organisation number.
    business: String,
    action: &'static str,
    outcome: &'static str,
    emergency: bool,
}

impl LogRow {
    fn at(&self) -> Timestamp {
        Timestamp(self.entry.at)
    }
}

/// Names of people and businesses, each looked up once per page.
struct Names<'a> {
    state: &'a AppState,
    clinic: &'a Clinic,
    lang: Lang,
    staff: HashMap<String, Option<String>>,
    businesses: HashMap<String, String>,
}

impl<'a> Names<'a> {
    fn new(state: &'a AppState, clinic: &'a Clinic, lang: Lang) -> Self {
        Self {
            state,
            clinic,
            lang,
            staff: HashMap::new(),
            businesses: HashMap::new(),
        }
    }

    /// A member of staff's name by id (`None` once they are gone from the register).
    async fn staff(&mut self, id: StaffId) -> Option<String> {
        let key = id.to_string();
        if let Some(name) = self.staff.get(&key) {
            return name.clone();
        }
        let name = self
            .clinic
            .staff_member(id)
            .await
            .ok()
            .map(|s| s.name.as_str().to_owned());
        self.staff.insert(key, name.clone());
        name
    }

    async fn who(&mut self, actor_id: &str) -> String {
        if actor_id.starts_with("patient:") {
            return tr(self.lang, "Deg").to_owned();
        }
        if actor_id.starts_with("system:") {
            return tr(self.lang, "Systemet (klinikkens drift)").to_owned();
        }
        let id = actor_id
            .strip_prefix("staff:")
            .and_then(|id| StaffId::parse(id).ok());
        match id {
            Some(id) => self.staff(id).await,
            None => None,
        }
        .unwrap_or_else(|| tr(self.lang, "Ukjent").to_owned())
    }

    fn roles(&self, role: &str) -> String {
        let roles: Vec<&str> = role
            .split('+')
            .filter_map(Role::parse)
            .map(|r| role_name(self.lang, r))
            .collect();
        if roles.is_empty() {
            "–".to_owned()
        } else {
            roles.join(", ")
        }
    }

    /// «Name (org.nr. 123456789)» of the business an actor acted for.
    async fn business(&mut self, org: &str) -> String {
        if let Some(name) = self.businesses.get(org) {
            return name.clone();
        }
        let name = match OrgNumber::parse(org) {
            Ok(number) => self.state.app.stores().clinic(&number).await.ok().flatten(),
            Err(_) => None,
        }
        .map(|entry| entry.name);
        let shown = match name {
            Some(name) => tr(self.lang, "{navn} (org.nr. {orgnr})")
                .replace("{navn}", &name)
                .replace("{orgnr}", org),
            None => tr(self.lang, "org.nr. {orgnr}").replace("{orgnr}", org),
        };
        self.businesses.insert(org.to_owned(), shown.clone());
        shown
    }
}

/// The access log's rows, newest first.
async fn log_rows(state: &AppState, clinic: &Clinic, lang: Lang, log: &PatientLog) -> Vec<LogRow> {
    let mut names = Names::new(state, clinic, lang);
    let mut rows = Vec::with_capacity(log.entries.len());
    for (entry, path) in log.entries.iter().rev() {
        rows.push(LogRow {
            who: names.who(&entry.actor_id).await,
            role: names.roles(&entry.actor_role),
            business: names.business(&entry.actor_clinic).await,
            action: action_text(lang, &entry.action),
            outcome: outcome_text(lang, &entry.outcome),
            emergency: Action::parse(&entry.action) == Some(Action::EmergencyAccess),
            entry: entry.clone(),
            path: path.clone(),
        });
    }
    rows
}

/// The patient's log with proofs, from the service.
async fn patient_log(v: &Visit) -> Result<PatientLog, WebError> {
    Ok(v.clinic.patient_log(v.patient()).await?)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    crate::workspace_messages::hex(bytes)
}

/// Standard base64 with padding (what the page's `atob` reads).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_test_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain}");
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
    }
}
