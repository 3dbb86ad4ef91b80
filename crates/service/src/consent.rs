//! Consent per service and notice channel (P4), and the end of a patient's use of the
//! portal (P11). The rules are `fortrolig_domain::consent`; here they are read from the
//! store and changed as audited writes.
//!
//! A change and what it stops go in one transaction: a withdrawn channel or service
//! skips the patient's notices still waiting on it, and an ended portal skips them all
//! and ends the patient's sessions, so nothing leaves after the patient said no.

use std::collections::HashMap;

use fortrolig_domain::Action;
use fortrolig_domain::consent::{ConsentSubject, Consents, PortalService};
use fortrolig_domain::info_pages::InfoPage;
use fortrolig_domain::notice::{NoticeChannel, NoticeKind};
use fortrolig_domain::{PatientId, Timestamp};
use fortrolig_store::{ClinicTx, ConsentRow, StoreError};

use crate::clinic::{ActContext, Clinic};
use crate::error::ServiceError;
use crate::notices::skip_reason;
use crate::sessions::SessionSubject;

/// The clinic's text the patient decides on, and its version: a digest of exactly what
/// the page shows, so a row says which wording the patient saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentText {
    pub title: String,
    pub body: String,
    pub version: String,
}

/// Bumped when the portal's own labels for the choices change wording.
const LABELS_VERSION: &str = "valg-v1";

/// One decision as kept: what it was about, yes or no, the text's version and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    pub subject: ConsentSubject,
    pub granted: bool,
    pub text_version: String,
    pub at: Timestamp,
}

/// Why the service refused to go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The patient said no to the service, or withdrew it.
    NoConsent(PortalService),
    /// The patient ended their use of the portal (P11).
    PortalEnded,
}

fn why_skipped(subject: ConsentSubject) -> &'static str {
    match subject {
        ConsentSubject::Portal => skip_reason::PORTAL_ENDED,
        _ => skip_reason::CONSENT_WITHDRAWN,
    }
}

/// The notices a "no" to `subject` stops: (channels, kinds), as stored names.
fn stopped_notices(subject: ConsentSubject) -> (Vec<&'static str>, Vec<&'static str>) {
    let all_channels = || NoticeChannel::ALL.iter().map(|c| c.as_str()).collect();
    match subject {
        ConsentSubject::Channel(c) => (
            vec![c.as_str()],
            NoticeKind::ALL.iter().map(|k| k.as_str()).collect(),
        ),
        ConsentSubject::Service(s) => (
            all_channels(),
            NoticeKind::ALL
                .into_iter()
                .filter(|k| PortalService::of_notice(*k) == Some(s))
                .map(NoticeKind::as_str)
                .collect(),
        ),
        ConsentSubject::Portal => (
            all_channels(),
            NoticeKind::ALL.iter().map(|k| k.as_str()).collect(),
        ),
    }
}

/// Writes the rows and stops what each "no" stops, inside the caller's transaction.
async fn apply(
    tx: &mut ClinicTx,
    patient: &[u8],
    rows: &[ConsentRow],
    now: i64,
) -> Result<(), StoreError> {
    for row in rows {
        tx.insert_consent(row).await?;
        if row.granted {
            continue;
        }
        if let Some(subject) = ConsentSubject::parse(&row.subject) {
            let (channels, kinds) = stopped_notices(subject);
            tx.skip_queued_notices(patient, &channels, &kinds, why_skipped(subject), now)
                .await?;
        }
    }
    Ok(())
}

/// The decisions in force per patient, kept in memory: every page and every message asks
/// for them (twice per message sent). Every consent row is written through this
/// `Clinic`, which forgets the patient's entry once the write is over, committed or not.
/// A read that began before a change is not kept (the generation moved on), so an entry
/// is never older than the last change.
#[derive(Debug, Default)]
pub(crate) struct ConsentCache {
    inner: std::sync::Mutex<(u64, HashMap<PatientId, Consents>)>,
}

/// Patients remembered at most; when full, the cache starts again.
const CACHED_PATIENTS: usize = 20_000;

impl ConsentCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, HashMap<PatientId, Consents>)> {
        // The map stays consistent even if a holder panicked.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The patient's entry, or the generation a read from the store must start at.
    fn get(&self, patient: PatientId) -> Result<Consents, u64> {
        let held = self.lock();
        held.1.get(&patient).cloned().ok_or(held.0)
    }

    fn put(&self, patient: PatientId, consents: &Consents, read_at: u64) {
        let mut held = self.lock();
        if held.0 != read_at {
            return;
        }
        if held.1.len() >= CACHED_PATIENTS {
            held.1.clear();
        }
        held.1.insert(patient, consents.clone());
    }

    pub(crate) fn forget(&self, patient: PatientId) {
        let mut held = self.lock();
        held.0 += 1;
        held.1.remove(&patient);
    }
}

impl Clinic {
    /// The decisions in force for `patient`.
    pub async fn consents(&self, patient: PatientId) -> Result<Consents, ServiceError> {
        let read_at = match self.consent_cache.get(patient) {
            Ok(consents) => return Ok(consents),
            Err(generation) => generation,
        };
        let rows = self.store.consents_of(patient.as_bytes()).await?;
        let consents = Consents::from_history(rows.iter().map(|r| (r.subject.as_str(), r.granted)));
        self.consent_cache.put(patient, &consents, read_at);
        Ok(consents)
    }

    /// Writes consent rows in one audited act, and forgets the cached decisions after.
    async fn write_consents(
        &self,
        ctx: &ActContext,
        patient: PatientId,
        object: &str,
        rows: Vec<ConsentRow>,
        now: i64,
    ) -> Result<(), ServiceError> {
        let id = patient.as_bytes().to_vec();
        let written = self
            .write(
                ctx,
                Action::ConsentChanged,
                Some(patient),
                object,
                move |tx| Box::pin(async move { apply(tx, &id, &rows, now).await }),
            )
            .await;
        self.consent_cache.forget(patient);
        written
    }

    /// Every decision the patient (or the clinic, reopening the portal) made, oldest
    /// first: what innsyn shows.
    pub async fn consent_history(
        &self,
        patient: PatientId,
    ) -> Result<Vec<ConsentRecord>, ServiceError> {
        let rows = self.store.consents_of(patient.as_bytes()).await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(ConsentRecord {
                    subject: ConsentSubject::parse(&r.subject)?,
                    granted: r.granted,
                    text_version: r.text_version,
                    at: Timestamp(r.at),
                })
            })
            .collect())
    }

    /// The text shown with the choices: the clinic's own where it wrote one.
    pub async fn consent_text(&self) -> Result<ConsentText, ServiceError> {
        let shown = self.info_page(InfoPage::Consent).await?;
        let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
        for part in [LABELS_VERSION, &shown.title, &shown.body] {
            digest.update(&(part.len() as u64).to_be_bytes());
            digest.update(part.as_bytes());
        }
        let hash = digest.finish();
        let hash = hash.as_ref();
        let version = format!(
            "samtykke-{}",
            hash[..6]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        Ok(ConsentText {
            title: shown.title,
            body: shown.body,
            version,
        })
    }

    /// Why `service` may not be used for `patient` now, if it may not.
    pub async fn service_stopped(
        &self,
        patient: PatientId,
        service: PortalService,
    ) -> Result<Option<Stopped>, ServiceError> {
        let consents = self.consents(patient).await?;
        Ok(if consents.ended() {
            Some(Stopped::PortalEnded)
        } else if consents.refuses(service) {
            Some(Stopped::NoConsent(service))
        } else {
            None
        })
    }

    /// Records the patient's answers (at the first login, or a change later), each with
    /// `version`, the text they were shown; a subject whose decision is unchanged gets no
    /// new row, except at the first answer, when every choice is kept. One audited
    /// write; a "no" stops the notices it covers at once. Returns the changes made.
    pub async fn record_consents(
        &self,
        ctx: &ActContext,
        patient: PatientId,
        answers: &[(ConsentSubject, bool)],
        version: &str,
    ) -> Result<usize, ServiceError> {
        if answers.iter().any(|(s, _)| *s == ConsentSubject::Portal) {
            return Err(ServiceError::Invalid(
                "the portal is ended and opened by its own acts".into(),
            ));
        }
        let consents = self.consents(patient).await?;
        let first = !consents.answered();
        let now = self.clock.now().as_micros();
        let mut rows = Vec::new();
        for (subject, granted) in answers {
            if !first && consents.decision(*subject) == Some(*granted) {
                continue;
            }
            rows.push(consent_row(patient, *subject, *granted, version, now)?);
        }
        if rows.is_empty() {
            return Ok(0);
        }
        let object = rows
            .iter()
            .map(|r| format!("{}={}", r.subject, if r.granted { "ja" } else { "nei" }))
            .collect::<Vec<_>>()
            .join(" ");
        let changed = rows.len();
        self.write_consents(ctx, patient, &format!("samtykke: {object}"), rows, now)
            .await?;
        Ok(changed)
    }

    /// The patient ends their use of the portal (P11): from now on they cannot log in,
    /// get no notices, and the clinic's retention rules take over. Their sessions end
    /// with it. Returns how many sessions ended.
    pub async fn end_portal(
        &self,
        ctx: &ActContext,
        patient: PatientId,
        version: &str,
    ) -> Result<u64, ServiceError> {
        self.set_portal(ctx, patient, false, version).await?;
        self.end_all_sessions(SessionSubject::Patient(patient), "portal-ended")
            .await
    }

    /// The clinic opens the portal again for a patient who ended it (at their request).
    pub async fn reopen_portal(
        &self,
        ctx: &ActContext,
        patient: PatientId,
    ) -> Result<bool, ServiceError> {
        if !self.consents(patient).await?.ended() {
            return Ok(false);
        }
        self.set_portal(ctx, patient, true, "gjenåpnet av klinikken")
            .await?;
        Ok(true)
    }

    async fn set_portal(
        &self,
        ctx: &ActContext,
        patient: PatientId,
        open: bool,
        version: &str,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now().as_micros();
        let rows = vec![consent_row(
            patient,
            ConsentSubject::Portal,
            open,
            version,
            now,
        )?];
        let object = if open {
            "portal gjenåpnet"
        } else {
            "portal avsluttet"
        };
        self.write_consents(ctx, patient, object, rows, now).await
    }
}

fn consent_row(
    patient: PatientId,
    subject: ConsentSubject,
    granted: bool,
    version: &str,
    now: i64,
) -> Result<ConsentRow, ServiceError> {
    Ok(ConsentRow {
        id: fortrolig_vault::random_bytes::<16>()?.to_vec(),
        patient_id: patient.as_bytes().to_vec(),
        subject: subject.key(),
        granted,
        text_version: version.to_owned(),
        at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_began_before_a_change_is_not_kept_and_a_change_forgets_p4() {
        let cache = ConsentCache::default();
        let kari = PatientId::from_bytes([1; 16]);
        let old = Consents::from_history([("tjeneste:meldinger", true)]);
        // A read starts, a change is written meanwhile, the read ends: not kept.
        let Err(read_at) = cache.get(kari) else {
            panic!("empty cache")
        };
        cache.forget(kari);
        cache.put(kari, &old, read_at);
        let Err(read_at) = cache.get(kari) else {
            panic!("the stale read was kept")
        };
        // A read with nothing in between is kept, until the next change.
        cache.put(kari, &old, read_at);
        assert_eq!(cache.get(kari), Ok(old));
        cache.forget(kari);
        assert!(cache.get(kari).is_err());
    }

    #[test]
    fn a_no_to_a_service_stops_only_its_own_notices_p4() {
        let (channels, kinds) =
            stopped_notices(ConsentSubject::Service(PortalService::Appointments));
        assert_eq!(channels, ["sms", "epost"]);
        assert_eq!(kinds, ["timepaaminnelse", "timeendring"]);
        let (channels, kinds) = stopped_notices(ConsentSubject::Channel(NoticeChannel::Sms));
        assert_eq!(channels, ["sms"]);
        assert_eq!(kinds.len(), NoticeKind::ALL.len());
        let (channels, kinds) = stopped_notices(ConsentSubject::Portal);
        assert_eq!((channels.len(), kinds.len()), (2, NoticeKind::ALL.len()));
    }
}
