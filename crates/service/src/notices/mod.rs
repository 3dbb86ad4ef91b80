//! Notices by SMS and e-mail (issue 5; N1–N7, P4, P8, P10). A notice only says that
//! something is waiting. It is made from the clinic's template (or Fortrolig's own),
//! filled in with the first name and the clinic's neutral sender name, judged by the
//! notice checker, and stored in the outbox in the same transaction as what it announces:
//! sealed under the patient's data key, with the text's hash in the clear for the log.
//! A blocked notice is stored as blocked and never sent. `dispatch` sends what is due.
//!
//! Notices go only through channels the patient has consented to (P4), to the address
//! the patient gave, or, where the contact and reservation register is set up, to the
//! address it holds, never against a reservation (N4; see `krr`).

mod bounce;
mod dispatch;
mod krr;

use std::sync::Arc;

use fortrolig_domain::consent::ConsentSubject;
use fortrolig_domain::notice::{NoticeChannel, NoticeKind, NoticeStatus, Template, Values};
use fortrolig_domain::{Action, PatientId, ThreadId, Timestamp};
use fortrolig_notice_check::{Channel, Checker, ClinicRules, Outcome, Replies, Rule, Verdict};
use fortrolig_store::{NoticeRow, StoreError};
use fortrolig_vault::{Aad, DataKey};

pub use bounce::{Bounce, read_bounce};
pub use dispatch::Outbound;
pub use krr::KrrLookup;

/// Why a notice was not sent, as kept in its findings: the patient's pages explain these.
pub mod skip_reason {
    pub use super::krr::{CANNOT_NOTIFY as KRR_CANNOT_NOTIFY, RESERVED as KRR_RESERVED};
    /// The patient said no to the notice's channel or service after it was made.
    pub const CONSENT_WITHDRAWN: &str = "consent-withdrawn";
    /// The patient ended their use of the portal.
    pub const PORTAL_ENDED: &str = "portal-ended";
    /// The clinic holds no address for the channel.
    pub const NO_ADDRESS: &str = "no-address";
    /// Neither the clinic nor the installation has a sender name (N3).
    pub const NO_SENDER_NAME: &str = "no-sender-name";
}

use crate::clinic::{ActContext, Clinic};
use crate::error::ServiceError;

const SENDER_SETTING: &str = "notice_sender";
const PHONES_SETTING: &str = "notice_sender_phones";
const TERMS_SETTING: &str = "notice_department_terms";

/// What every clinic's notices share, set when the server starts.
#[derive(Debug, Clone, Default)]
pub struct NoticeSettings {
    /// The neutral sender name (N3) for clinics that have not set their own.
    pub default_sender: Option<String>,
    /// The portal's host, the only one an e-mail may link to (N7).
    pub portal_host: Option<String>,
}

/// The settings and the dispatcher's wake-up, shared by the clinics of one process.
#[derive(Debug, Default)]
pub(crate) struct NoticeHub {
    pub(crate) settings: std::sync::RwLock<NoticeSettings>,
    pub(crate) wake: tokio::sync::Notify,
}

impl NoticeHub {
    pub(crate) fn settings(&self) -> NoticeSettings {
        self.settings.read().map(|s| s.clone()).unwrap_or_default()
    }
}

fn checker_channel(channel: NoticeChannel) -> Channel {
    match channel {
        NoticeChannel::Sms => Channel::Sms,
        NoticeChannel::Email => Channel::Email,
    }
}

/// The rules a verdict found, by name: what the log and staff see of a refusal (never
/// the text).
pub fn rule_names(verdict: &Verdict) -> String {
    let mut names: Vec<&str> = verdict.findings.iter().map(|f| f.rule.name()).collect();
    names.dedup();
    names.join(",")
}

/// A template the checker refused, with what it found.
#[derive(Debug)]
pub struct TemplateRefused {
    pub verdict: Verdict,
}

fn notice_aad(clinic: &str, id: &[u8], column: &str) -> Aad {
    Aad::new(clinic, "notices", id, column)
}

fn sha256(text: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
        .as_ref()
        .to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The first name: the first word of the full name (N1: nothing more of it).
fn first_name(full: &str) -> String {
    full.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// A notice as the provider and the log know it: `ORGNR-hexid` (at most 36 characters,
/// Sveve's limit), so a delivery report finds its clinic.
pub fn reference(org: &str, id: &[u8]) -> String {
    format!("{org}-{}", hex(id))
}

/// The clinic and notice id a reference names.
pub fn parse_reference(text: &str) -> Option<(fortrolig_domain::OrgNumber, Vec<u8>)> {
    let (org, id) = text.split_once('-')?;
    let org = fortrolig_domain::OrgNumber::parse(org).ok()?;
    if id.len() != 24 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let bytes = (0..id.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&id[i..i + 2], 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    Some((org, bytes))
}

/// The audit object of a notice (N6): its id, kind, channel and the hash of its text.
pub(crate) fn notice_object(row: &NoticeRow) -> String {
    format!(
        "varsel:{} type:{} kanal:{} hash:{}",
        hex(&row.id),
        row.kind,
        row.channel,
        hex(&row.body_hash)
    )
}

impl Clinic {
    /// The neutral sender name notices carry (N3): the clinic's own, else the default.
    pub async fn notice_sender(&self) -> Result<Option<String>, ServiceError> {
        Ok(match self.store.setting(SENDER_SETTING).await? {
            Some(name) => Some(name),
            None => self.notice_hub.settings().default_sender,
        })
    }

    /// What this clinic adds to the checker's rules: its own phone numbers and department
    /// names (settings), and the portal's host.
    pub async fn notice_rules(&self) -> Result<ClinicRules, ServiceError> {
        let lines = |text: Option<String>| -> Vec<String> {
            text.unwrap_or_default()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        };
        Ok(ClinicRules {
            sender_phones: lines(self.store.setting(PHONES_SETTING).await?),
            extra_department_terms: lines(self.store.setting(TERMS_SETTING).await?),
            portal_hosts: self.notice_hub.settings().portal_host.into_iter().collect(),
        })
    }

    /// The checker with this clinic's own additions, built once and kept until they change.
    pub async fn notice_checker(&self) -> Result<Arc<Checker>, ServiceError> {
        if let Some(checker) = self.checker.read().await.as_ref() {
            return Ok(checker.clone());
        }
        let checker = Arc::new(
            Checker::new(self.notice_rules().await?)
                .map_err(|e| ServiceError::Invalid(format!("the clinic's notice rules: {e}")))?,
        );
        *self.checker.write().await = Some(checker.clone());
        Ok(checker)
    }

    /// Sets the clinic's phone numbers (a notice must not carry them, N1) and its own
    /// department names that reveal a condition. Refused unless the checker can use them.
    pub async fn set_notice_rules(
        &self,
        ctx: &ActContext,
        phones: &[String],
        departments: &[String],
    ) -> Result<(), ServiceError> {
        let clean = |items: &[String]| -> Vec<String> {
            items
                .iter()
                .map(|i| i.trim().to_owned())
                .filter(|i| !i.is_empty())
                .collect()
        };
        let (phones, departments) = (clean(phones), clean(departments));
        Checker::new(ClinicRules {
            sender_phones: phones.clone(),
            extra_department_terms: departments.clone(),
            portal_hosts: Vec::new(),
        })
        .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let (phones, departments) = (phones.join("\n"), departments.join("\n"));
        self.write(
            ctx,
            Action::SettingChanged,
            None,
            &format!(
                "{PHONES_SETTING},{TERMS_SETTING} hash:{}",
                hex(&sha256(&format!("{phones}\n{departments}")))
            ),
            move |tx| {
                Box::pin(async move {
                    tx.set_setting(PHONES_SETTING, &phones).await?;
                    tx.set_setting(TERMS_SETTING, &departments).await
                })
            },
        )
        .await?;
        *self.checker.write().await = None;
        Ok(())
    }

    /// The clinic's wording for a kind of notice on a channel, or Fortrolig's own.
    pub async fn notice_template(
        &self,
        kind: NoticeKind,
        channel: NoticeChannel,
    ) -> Result<Template, ServiceError> {
        for (k, c, text) in self.store.notice_templates().await? {
            if k == kind.as_str() && c == channel.as_str() {
                return Template::parse(kind, channel, &text)
                    .map_err(|e| ServiceError::Invalid(format!("a stored template: {e}")));
            }
        }
        Ok(Template::default_for(kind, channel))
    }

    /// Saves the clinic's wording (item 3), after the checker judged it with harmless
    /// values filled in. A blocked template is not saved; a warned one is, and the
    /// warnings are returned.
    pub async fn set_notice_template(
        &self,
        ctx: &ActContext,
        template: &Template,
    ) -> Result<Result<Verdict, TemplateRefused>, ServiceError> {
        let verdict = self.notice_checker().await?.check(
            &template.sample(),
            checker_channel(template.channel),
            Replies::NotPossible,
        );
        if verdict.verdict == Outcome::Block {
            return Ok(Err(TemplateRefused { verdict }));
        }
        let (kind, channel) = (template.kind.as_str(), template.channel.as_str());
        let text = template.text().to_owned();
        let by = ctx.actor.id.clone();
        let now = self.clock.now().as_micros();
        self.write(
            ctx,
            Action::NoticeTemplateChanged,
            None,
            &format!("mal:{kind}:{channel} hash:{}", hex(&sha256(&text))),
            move |tx| {
                Box::pin(
                    async move { tx.set_notice_template(kind, channel, &text, now, &by).await },
                )
            },
        )
        .await?;
        Ok(Ok(verdict))
    }

    /// Whether the patient has consented to notices on each channel (P4); never asked
    /// means no.
    pub async fn notice_consents(
        &self,
        patient: PatientId,
    ) -> Result<Vec<(NoticeChannel, bool)>, ServiceError> {
        let consents = self.consents(patient).await?;
        Ok(NoticeChannel::ALL
            .into_iter()
            .map(|channel| (channel, consents.granted(ConsentSubject::Channel(channel))))
            .collect())
    }

    /// Records the patient's choice for one channel (P4), with the version of the
    /// consent text shown now. Withdrawal stops notices on it at once.
    pub async fn set_notice_consent(
        &self,
        ctx: &ActContext,
        patient: PatientId,
        channel: NoticeChannel,
        granted: bool,
    ) -> Result<(), ServiceError> {
        let version = self.consent_text().await?.version;
        self.record_consents(
            ctx,
            patient,
            &[(ConsentSubject::Channel(channel), granted)],
            &version,
        )
        .await
        .map(|_| ())
    }

    /// The notices a message to the patient brings, made before its transaction: one per
    /// channel the patient consented to, filled in, judged and sealed. A blocked one is
    /// kept as blocked (shown to staff, never sent); a channel without an address is
    /// skipped and kept as skipped.
    pub(crate) async fn prepare_notices(
        &self,
        patient: PatientId,
        key: &DataKey,
        kind: NoticeKind,
        thread: Option<ThreadId>,
    ) -> Result<Vec<NoticeRow>, ServiceError> {
        let consents = self.consents(patient).await?;
        let channels: Vec<NoticeChannel> = NoticeChannel::ALL
            .into_iter()
            .filter(|c| consents.notice_allowed(kind, *c))
            .collect();
        if channels.is_empty() {
            return Ok(Vec::new());
        }
        let record = self.patient_record(patient).await?;
        let sender = self.notice_sender().await?.unwrap_or_default();
        let checker = self.notice_checker().await?;
        let now = self.clock.now().as_micros();
        let org = self.org().as_str();
        let mut out = Vec::new();
        for channel in channels {
            let address = match channel {
                NoticeChannel::Sms => record.phone.as_ref().map(|p| p.as_str().to_owned()),
                NoticeChannel::Email => record.email.as_ref().map(|e| e.as_str().to_owned()),
            };
            let template = self.notice_template(kind, channel).await?;
            let text = template.render(&Values {
                first_name: first_name(record.name.as_str()),
                sender: sender.clone(),
                ..Values::default()
            });
            let mut verdict = checker.check(&text, checker_channel(channel), Replies::NotPossible);
            // The checker only warns of a link, for staff to look again at their wording;
            // a notice that leaves carries none (N7), so here a link stops it.
            if verdict.findings.iter().any(|f| f.rule == Rule::Link) {
                verdict.verdict = Outcome::Block;
            }
            let (status, findings) = match (&address, verdict.verdict) {
                _ if sender.is_empty() => (
                    NoticeStatus::Skipped,
                    Some(skip_reason::NO_SENDER_NAME.to_owned()),
                ),
                (None, _) => (
                    NoticeStatus::Skipped,
                    Some(skip_reason::NO_ADDRESS.to_owned()),
                ),
                (Some(_), Outcome::Block) => (NoticeStatus::Blocked, Some(rule_names(&verdict))),
                (Some(_), Outcome::Warn) => (NoticeStatus::Queued, Some(rule_names(&verdict))),
                (Some(_), Outcome::Allow) => (NoticeStatus::Queued, None),
            };
            let id = fortrolig_vault::random_bytes::<12>()?.to_vec();
            let address = address
                .map(|a| key.seal(&notice_aad(org, &id, "address"), a.as_bytes()))
                .transpose()?;
            let body = key.seal(&notice_aad(org, &id, "body"), text.as_bytes())?;
            out.push(NoticeRow {
                body_hash: sha256(&text),
                patient_id: patient.as_bytes().to_vec(),
                thread_id: thread.map(|t| t.as_bytes().to_vec()),
                kind: kind.as_str().to_owned(),
                channel: channel.as_str().to_owned(),
                address,
                body: Some(body),
                status: status.as_str().to_owned(),
                findings,
                attempts: 0,
                next_attempt_at: now,
                created_at: now,
                sent_at: None,
                delivered_at: None,
                ended_at: None,
                provider_ref: None,
                last_error: None,
                id,
            });
        }
        Ok(out)
    }

    /// Wakes the dispatcher after a commit that queued notices.
    pub(crate) fn notices_queued(&self, rows: &[NoticeRow]) {
        if rows
            .iter()
            .any(|r| r.status == NoticeStatus::Queued.as_str())
        {
            self.notice_hub.wake.notify_one();
        }
    }

    /// The notices of one patient, newest first, as staff and the patient may see them:
    /// kind, channel, status and times, never the text or the address.
    pub async fn notices_of(&self, patient: PatientId) -> Result<Vec<NoticeSummary>, ServiceError> {
        self.store
            .notices_of_patient(patient.as_bytes())
            .await?
            .iter()
            .map(summary)
            .collect()
    }

    /// The clinic's newest notices (N6): the log staff check their routines against.
    pub async fn notice_log(&self, limit: i64) -> Result<Vec<NoticeSummary>, ServiceError> {
        self.store
            .recent_notices(limit)
            .await?
            .iter()
            .map(summary)
            .collect()
    }
}

/// A notice without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeSummary {
    pub id: Vec<u8>,
    pub patient: PatientId,
    pub kind: NoticeKind,
    pub channel: NoticeChannel,
    pub status: NoticeStatus,
    /// The checker's rules for a blocked or warned notice; a reason for a skipped one.
    pub findings: Option<String>,
    pub attempts: i64,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub delivered_at: Option<Timestamp>,
}

fn summary(row: &NoticeRow) -> Result<NoticeSummary, ServiceError> {
    let bad = |what: &str| ServiceError::Store(StoreError::Malformed(format!("notice {what}")));
    Ok(NoticeSummary {
        id: row.id.clone(),
        patient: PatientId::from_slice(&row.patient_id).ok_or_else(|| bad("patient"))?,
        kind: NoticeKind::parse(&row.kind).ok_or_else(|| bad("kind"))?,
        channel: NoticeChannel::parse(&row.channel).ok_or_else(|| bad("channel"))?,
        status: NoticeStatus::parse(&row.status).ok_or_else(|| bad("status"))?,
        findings: row.findings.clone(),
        attempts: row.attempts,
        created_at: Timestamp(row.created_at),
        sent_at: row.sent_at.map(Timestamp),
        delivered_at: row.delivered_at.map(Timestamp),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_the_clinic_and_fit_sveves_limit() {
        let id = [0xab_u8; 12];
        let r = reference("923456783", &id);
        assert!(r.len() <= 36, "{r}");
        let parsed = parse_reference(&r);
        assert_eq!(
            parsed.map(|(o, i)| (o.to_string(), i)),
            Some(("923456783".to_owned(), id.to_vec()))
        );
        for bad in [
            "",
            "923456783",
            "923456783-zz",
            "12-abababababababababababab",
            "923456783-abab",
        ] {
            assert!(parse_reference(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn only_the_first_name_goes_into_a_notice_n1() {
        assert_eq!(first_name("Kari Nordmann"), "Kari");
        assert_eq!(first_name("  Ola  Jakob Hansen"), "Ola");
    }
}

/// A task for staff (N5, P10): reach a patient another way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffTask {
    pub id: Vec<u8>,
    /// `varsel-ikke-levert` or `varsel-ulest`.
    pub kind: String,
    pub patient: PatientId,
    pub thread: Option<ThreadId>,
    pub created_at: Timestamp,
}

impl Clinic {
    /// The open tasks, oldest first.
    pub async fn open_tasks(&self) -> Result<Vec<StaffTask>, ServiceError> {
        self.store
            .open_tasks()
            .await?
            .into_iter()
            .map(|t| {
                Ok(StaffTask {
                    patient: PatientId::from_slice(&t.patient_id).ok_or_else(|| {
                        ServiceError::Store(StoreError::Malformed("task patient".into()))
                    })?,
                    thread: t.thread_id.as_deref().and_then(ThreadId::from_slice),
                    created_at: Timestamp(t.created_at),
                    kind: t.kind,
                    id: t.id,
                })
            })
            .collect()
    }

    /// Marks a task done (audited). False when it was done already or does not exist.
    pub async fn finish_task(&self, ctx: &ActContext, id: &[u8]) -> Result<bool, ServiceError> {
        let Some(task) = self.store.task(id).await? else {
            return Ok(false);
        };
        if task.done_at.is_some() {
            return Ok(false);
        }
        let by = ctx.actor.id.clone();
        let now = self.clock.now().as_micros();
        let key = id.to_vec();
        self.write(
            ctx,
            Action::TaskDone,
            PatientId::from_slice(&task.patient_id),
            &format!("oppgave:{} {}", hex(id), task.kind),
            move |tx| Box::pin(async move { tx.finish_task(&key, &by, now).await }),
        )
        .await
    }

    /// Sets the clinic's neutral sender name (N3): what every SMS and e-mail shows.
    pub async fn set_notice_sender(
        &self,
        ctx: &ActContext,
        name: &str,
    ) -> Result<(), ServiceError> {
        let name = fortrolig_notify::sender_name(name)
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        self.write(
            ctx,
            Action::SettingChanged,
            None,
            &format!("{SENDER_SETTING}={name}"),
            move |tx| Box::pin(async move { tx.set_setting(SENDER_SETTING, &name).await }),
        )
        .await
    }
}
