#![doc = include_str!("../README.md")]

mod access;
pub mod backup;
mod clinic;
mod consent;
mod error;
mod grants;
mod group_commit;
mod incidents;
mod info_pages;
mod innsyn;
mod keys;
mod messaging;
pub mod notices;
mod one_row;
mod passkeys;
mod people;
mod requests;
mod retention;
mod sessions;
mod teams;
mod thread_keys;

use std::collections::HashMap;
use std::sync::Arc;

pub use access::{AccessError, EmergencyReview, HealthAccess, MAX_EMERGENCY_MINUTES, StaffActor};
pub use clinic::{ActContext, Clinic, Patient, PatientLog};
pub use consent::{ConsentRecord, ConsentText, Stopped};
pub use error::ServiceError;
pub use fortrolig_audit::{Fault, Hash, LogEntry, SignedTreeHead, Verified};
use fortrolig_domain::{Clock, OrgNumber, Timestamp};
pub use fortrolig_store::{Backend, ClinicEntry, Stores};
use fortrolig_vault::MasterKey;
pub use grants::{Grantor, SharedGrant};
pub use group_commit::WriteStats;
pub use incidents::{Assessment, IncidentRecord};
pub use info_pages::ShownPage;
pub use innsyn::{Innsyn, InnsynRead};
pub use messaging::{
    AttachmentInfo, MessageView, NewAttachment, OpenedAttachment, PatientActor, Recall,
    ThreadChange, ThreadEvent, ThreadReadAhead, ThreadSummary, ThreadView,
};
pub use notices::{KrrLookup, NoticeSettings, NoticeSummary, Outbound, StaffTask, TemplateRefused};
pub use passkeys::{
    ACTIVATION_LIFETIME_MICROS, Activation, ActivationCode, IdentityProof, IssuedActivation,
    PasskeyInfo, StoredPasskey,
};
pub use people::{
    Authorisation, BASIC_COURSE, MAX_AUTHORISATION_MICROS, REVIEW_INTERVAL_MICROS, Staff,
};
pub use requests::{Answer, Correction, RequestDetail, RequestRecord};
pub use retention::{RETENTION_INTERVAL, RetentionReport};
pub use sessions::{
    ABSOLUTE_LIMIT_MICROS, EndOwn, IDLE_LIMIT_MICROS, MAX_FAILURES, Session, SessionProblem,
    SessionSubject, SessionToken, TOUCH_INTERVAL_MICROS,
};
pub use teams::{MAX_TEAM_NAME, Membership, Team, TeamCare};
use tokio::sync::Mutex;

/// The system clock, the only place that reads the wall time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[expect(clippy::disallowed_methods, reason = "this is the one clock")]
    fn now(&self) -> Timestamp {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as i64);
        Timestamp(micros)
    }
}

/// The whole system: stores, master key, clock, and the open clinics.
#[derive(Debug, Clone)]
pub struct Fortrolig {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    stores: Stores,
    master: MasterKey,
    clock: Arc<dyn Clock>,
    clinics: Mutex<HashMap<OrgNumber, Arc<Clinic>>>,
    notices: Arc<notices::NoticeHub>,
}

impl Fortrolig {
    pub async fn open(
        backend: Backend,
        master: MasterKey,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ServiceError> {
        let stores = Stores::open(backend).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                stores,
                master,
                clock,
                clinics: Mutex::new(HashMap::new()),
                notices: Arc::new(notices::NoticeHub::default()),
            }),
        })
    }

    /// Sets what every clinic's notices share (the default sender name, the portal).
    pub fn configure_notices(&self, settings: notices::NoticeSettings) {
        if let Ok(mut current) = self.inner.notices.settings.write() {
            *current = settings;
        }
    }

    pub(crate) fn notice_wake(&self) -> &tokio::sync::Notify {
        &self.inner.notices.wake
    }

    pub fn stores(&self) -> &Stores {
        &self.inner.stores
    }

    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    pub async fn clinics(&self) -> Result<Vec<ClinicEntry>, ServiceError> {
        Ok(self.inner.stores.clinics().await?)
    }

    /// Registers a clinic: its keys in the key ring, its own store, and a first audit entry.
    pub async fn create_clinic(
        &self,
        org: &OrgNumber,
        name: &str,
    ) -> Result<Arc<Clinic>, ServiceError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            return Err(ServiceError::Invalid(
                "the clinic name must be 1-200 printable characters".into(),
            ));
        }
        let stores = &self.inner.stores;
        if stores.clinic(org).await?.is_some() {
            return Err(ServiceError::ClinicExists(org.to_string()));
        }
        let now = self.now();
        if !stores.keyring.has_clinic(org.as_str()).await? {
            keys::create_clinic_keys(&stores.keyring, &self.inner.master, org, now).await?;
        }
        let store = stores
            .create_clinic_store(org, name, now.as_micros())
            .await?;
        let clinic = Arc::new(Clinic::load(self.clone(), store).await?);
        clinic
            .record(
                &ActContext::system("clinic-create", org),
                fortrolig_domain::Action::ClinicCreated,
                None,
                "clinic",
                "registrering",
            )
            .await?;
        self.inner
            .clinics
            .lock()
            .await
            .insert(org.clone(), clinic.clone());
        Ok(clinic)
    }

    /// The clinic's handle, opened on first use.
    pub async fn clinic(&self, org: &OrgNumber) -> Result<Arc<Clinic>, ServiceError> {
        let mut open = self.inner.clinics.lock().await;
        if let Some(clinic) = open.get(org) {
            return Ok(clinic.clone());
        }
        let store = self.inner.stores.open_clinic(org).await?;
        let clinic = Arc::new(Clinic::load(self.clone(), store).await?);
        open.insert(org.clone(), clinic.clone());
        Ok(clinic)
    }

    /// Rotates a clinic's key (see [`Clinic::rotate_key`]); returns the new version.
    pub async fn rotate_clinic_key(
        &self,
        org: &OrgNumber,
        ctx: &ActContext,
    ) -> Result<i64, ServiceError> {
        self.clinic(org)
            .await?
            .rotate_key(ctx, &self.inner.master)
            .await
    }

    /// Checks that the directory and key ring answer (for `/readyz`).
    pub async fn ready(&self) -> Result<(), ServiceError> {
        self.inner.stores.ping().await?;
        Ok(())
    }

    pub(crate) fn master(&self) -> &MasterKey {
        &self.inner.master
    }

    /// Forgets an open clinic handle (after its store was replaced by a restore).
    pub(crate) async fn forget_clinic(&self, org: &OrgNumber) {
        if let Some(clinic) = self.inner.clinics.lock().await.remove(org) {
            clinic.store().close().await;
        }
    }

    pub async fn close(&self) {
        let open: Vec<_> = self.inner.clinics.lock().await.drain().collect();
        for (_, clinic) in open {
            clinic.store().close().await;
        }
        self.inner.stores.close().await;
    }
}
