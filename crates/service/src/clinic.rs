//! The capability to act on one clinic's data.

use std::collections::HashMap;
use std::sync::Arc;

use fortrolig_audit::{CHECKPOINT_INTERVAL, Hash, LogEntry, LogVerifier, SignedTreeHead, Verified};
use fortrolig_domain::{
    Action, Actor, AuditEvent, Clock, Email, NewPatient, OrgNumber, Outcome, PatientId, PersonName,
    PersonNumber, Phone, Source, Timestamp,
};
use fortrolig_store::{
    AuditAppend, ClinicKeyRow, ClinicStore, ClinicTx, KeyRing, PatientKeyRow, PatientRow,
    StoreError,
};
use fortrolig_vault::{Aad, ClinicKey, DataKey, MasterKey, Wrapped};
use tokio::sync::{Mutex, RwLock};

/// A boxed future borrowing a transaction, for `Clinic::write`.
pub(crate) type BoxFuture<'t, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 't>>;

use crate::Fortrolig;
use crate::error::ServiceError;
use crate::group_commit::{Act, GroupCommit, WriteStats, erase, sign_head};
use crate::keys::{ClinicKeys, key_id, load_clinic_keys, random_key_id};

/// Who acts, from where, and why: every audited call takes one.
#[derive(Debug, Clone)]
pub struct ActContext {
    pub actor: Actor,
    pub source: Source,
    pub reason: String,
}

impl ActContext {
    /// The platform itself (start-up, administration from the command line).
    pub fn system(name: &str, clinic: &OrgNumber) -> Self {
        Self {
            actor: Actor::system(name, clinic.clone()),
            source: Source::cli(),
            reason: "drift".into(),
        }
    }

    /// A patient acting on their own data, from `source`.
    pub fn patient(patient: PatientId, clinic: &OrgNumber, source: Source, reason: &str) -> Self {
        Self {
            actor: Actor {
                id: format!("patient:{patient}"),
                role: "pasient".into(),
                clinic: clinic.clone(),
                hpr: None,
            },
            source,
            reason: reason.to_owned(),
        }
    }

    pub fn with_reason(mut self, reason: &str) -> Self {
        self.reason = reason.to_owned();
        self
    }
}

/// A patient's decrypted record. `Debug` of every personal field is redacted.
#[derive(Debug, Clone)]
pub struct Patient {
    pub id: PatientId,
    pub person_number: PersonNumber,
    pub name: PersonName,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub created_at: Timestamp,
}

/// A patient's audit entries, each with its audit path, proven against one signed head
/// (`Clinic::patient_log`).
#[derive(Debug, Clone)]
pub struct PatientLog {
    /// Oldest first.
    pub entries: Vec<(LogEntry, Vec<Hash>)>,
    pub head: SignedTreeHead,
    /// The Ed25519 public key the head is signed with (32 bytes).
    pub public_key: Vec<u8>,
}

#[derive(Debug)]
pub struct Clinic {
    pub(crate) store: ClinicStore,
    pub(crate) keyring: KeyRing,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) keys: Arc<RwLock<ClinicKeys>>,
    /// One writer at a time per clinic in this process; the store's row lock covers others.
    /// Each group-commit batch holds it too.
    pub(crate) writer: Arc<Mutex<()>>,
    /// Audited writes queue here and are committed in batches (`write_outcome`).
    group: Arc<GroupCommit>,
    /// Something new in a thread, for live updates (sent after the commit).
    pub(crate) events: tokio::sync::broadcast::Sender<crate::messaging::ThreadEvent>,
    /// Notice settings shared by the process, and the dispatcher's wake-up.
    pub(crate) notice_hub: Arc<crate::notices::NoticeHub>,
    /// The notice checker with this clinic's additions, built on first use.
    pub(crate) checker: RwLock<Option<Arc<fortrolig_notice_check::Checker>>>,
    /// The patients' decisions in force (`consent::ConsentCache`).
    pub(crate) consent_cache: crate::consent::ConsentCache,
    /// Unwrapped thread keys for a short while (`thread_keys::KeyCache`).
    pub(crate) key_cache: crate::thread_keys::KeyCache,
}

const PATIENTS: &str = "patients";

pub(crate) fn aad(org: &OrgNumber, table: &str, row: &PatientId, column: &str) -> Aad {
    Aad::new(org.as_str(), table, row.as_bytes(), column)
}

fn malformed(what: &str) -> ServiceError {
    StoreError::Malformed(what.to_owned()).into()
}

impl Clinic {
    pub(crate) async fn load(app: Fortrolig, store: ClinicStore) -> Result<Self, ServiceError> {
        let keyring = app.stores().keyring.clone();
        let keys = Arc::new(RwLock::new(
            load_clinic_keys(&keyring, app.master(), store.org()).await?,
        ));
        let writer = Arc::new(Mutex::new(()));
        let clock = app.inner.clock.clone();
        let group = Arc::new(GroupCommit::new(
            store.clone(),
            keyring.clone(),
            clock.clone(),
            keys.clone(),
            writer.clone(),
        ));
        Ok(Self {
            store,
            keyring,
            clock,
            keys,
            writer,
            group,
            events: tokio::sync::broadcast::channel(1024).0,
            notice_hub: app.inner.notices.clone(),
            checker: RwLock::new(None),
            consent_cache: crate::consent::ConsentCache::default(),
            key_cache: crate::thread_keys::KeyCache::default(),
        })
    }

    pub fn org(&self) -> &OrgNumber {
        self.store.org()
    }

    pub fn store(&self) -> &ClinicStore {
        &self.store
    }

    /// Registers a patient. The data and its audit entry commit together.
    pub async fn add_patient(
        &self,
        ctx: &ActContext,
        patient: &NewPatient,
    ) -> Result<PatientId, ServiceError> {
        let _writer = self.writer.lock().await;
        let keys = self.keys.read().await;
        let org = self.org();
        let index = keys.blind.index("fnr", patient.person_number.as_str());
        if self.store.patient_by_index(&index).await?.is_some() {
            return Err(StoreError::PatientExists.into());
        }
        let id = PatientId::from_bytes(fortrolig_vault::random_bytes::<16>()?);
        let data_key = DataKey::generate(random_key_id()?)?;
        self.keyring
            .insert_patient_key(
                org.as_str(),
                &PatientKeyRow {
                    patient_id: id.as_bytes().to_vec(),
                    key_id: data_key.id().0.to_vec(),
                    clinic_key_version: keys.clinic_key_version,
                    wrapped: keys
                        .clinic_key
                        .wrap(&data_key, &aad(org, "patient_keys", &id, "data_key"))?
                        .0,
                },
            )
            .await?;
        let seal = |column: &str, text: &str| {
            data_key.seal(&aad(org, PATIENTS, &id, column), text.as_bytes())
        };
        let row = PatientRow {
            id: id.as_bytes().to_vec(),
            person_number_index: index.to_vec(),
            person_number: seal("person_number", patient.person_number.as_str())?,
            name: seal("name", patient.name.as_str())?,
            phone: patient
                .phone
                .as_ref()
                .map(|p| seal("phone", p.as_str()))
                .transpose()?,
            email: patient
                .email
                .as_ref()
                .map(|e| seal("email", e.as_str()))
                .transpose()?,
            created_at: self.clock.now().as_micros(),
        };
        let mut tx = self.store.begin().await?;
        tx.insert_patient(&row).await?;
        let head = self
            .append(
                &mut tx,
                &keys,
                ctx,
                Action::PatientCreated,
                Some(id),
                &format!("patient:{id}"),
            )
            .await?;
        tx.commit().await?;
        self.anchor(&head).await?;
        Ok(id)
    }

    /// Reads a patient's record; the read is audited before the data is returned.
    pub async fn read_patient(
        &self,
        ctx: &ActContext,
        id: PatientId,
    ) -> Result<Patient, ServiceError> {
        let row = self.store.patient(id.as_bytes()).await?;
        let Some(row) = row else {
            return Err(self.missing_patient(id).await?);
        };
        let patient = self.decrypt(&row).await?;
        self.record(
            ctx,
            Action::PatientRead,
            Some(id),
            &format!("patient:{id}"),
            &ctx.reason,
        )
        .await?;
        Ok(patient)
    }

    /// A patient's record for the platform's own use (a notice's first name and
    /// address), not a read by a person: the act it serves is what is audited.
    pub(crate) async fn patient_record(&self, id: PatientId) -> Result<Patient, ServiceError> {
        match self.store.patient(id.as_bytes()).await? {
            Some(row) => self.decrypt(&row).await,
            None => Err(self.missing_patient(id).await?),
        }
    }

    /// The id of the patient with this identity number, if registered: a blind-index
    /// lookup that reads no personal data (used to match a login's `pid`).
    pub async fn patient_id_by_number(
        &self,
        number: &PersonNumber,
    ) -> Result<Option<PatientId>, ServiceError> {
        let index = self.keys.read().await.blind.index("fnr", number.as_str());
        match self.store.patient_by_index(&index).await? {
            None => Ok(None),
            Some(row) => patient_id(&row.id).map(Some),
        }
    }

    /// Finds a patient by identity number through the blind index, never by decrypting.
    pub async fn find_patient(
        &self,
        ctx: &ActContext,
        number: &PersonNumber,
    ) -> Result<Option<Patient>, ServiceError> {
        let index = self.keys.read().await.blind.index("fnr", number.as_str());
        match self.store.patient_by_index(&index).await? {
            None => Ok(None),
            Some(row) => {
                let id = patient_id(&row.id)?;
                self.read_patient(ctx, id).await.map(Some)
            }
        }
    }

    async fn missing_patient(&self, id: PatientId) -> Result<ServiceError, ServiceError> {
        let shredded = self
            .keyring
            .patient_key(self.org().as_str(), id.as_bytes())
            .await?
            .is_none()
            && self
                .store
                .entries_for_patient(&id.to_string())
                .await?
                .iter()
                .any(|e| e.action == Action::PatientShredded.as_str());
        Ok(if shredded {
            ServiceError::Shredded
        } else {
            ServiceError::NoSuchPatient
        })
    }

    pub(crate) async fn data_key(&self, id: PatientId) -> Result<DataKey, ServiceError> {
        let row = self
            .keyring
            .patient_key(self.org().as_str(), id.as_bytes())
            .await?
            .ok_or(ServiceError::Shredded)?;
        self.unwrap_data_key(id, row).await
    }

    /// A patient's data key from its key ring row.
    pub(crate) async fn unwrap_data_key(
        &self,
        id: PatientId,
        row: PatientKeyRow,
    ) -> Result<DataKey, ServiceError> {
        let org = self.org();
        let keys = self.keys.read().await;
        if row.clinic_key_version != keys.clinic_key_version {
            return Err(malformed(
                "a patient key is wrapped under a clinic key version that is gone",
            ));
        }
        Ok(keys.clinic_key.unwrap(
            key_id(&row.key_id)?,
            &Wrapped(row.wrapped),
            &aad(org, "patient_keys", &id, "data_key"),
        )?)
    }

    async fn decrypt(&self, row: &PatientRow) -> Result<Patient, ServiceError> {
        let id = patient_id(&row.id)?;
        let key = self.data_key(id).await?;
        let org = self.org();
        let open = |column: &str, bytes: &[u8]| -> Result<String, ServiceError> {
            let plain = key.open(&aad(org, PATIENTS, &id, column), bytes)?;
            String::from_utf8(plain).map_err(|_| malformed("decrypted text is not UTF-8"))
        };
        let invalid = |what: &str| malformed(&format!("stored {what} does not validate"));
        Ok(Patient {
            id,
            person_number: PersonNumber::parse(&open("person_number", &row.person_number)?)
                .map_err(|_| invalid("identity number"))?,
            name: PersonName::parse(&open("name", &row.name)?).map_err(|_| invalid("name"))?,
            phone: row
                .phone
                .as_deref()
                .map(|b| {
                    open("phone", b).and_then(|t| Phone::parse(&t).map_err(|_| invalid("phone")))
                })
                .transpose()?,
            email: row
                .email
                .as_deref()
                .map(|b| {
                    open("email", b).and_then(|t| Email::parse(&t).map_err(|_| invalid("e-mail")))
                })
                .transpose()?,
            created_at: Timestamp(row.created_at),
        })
    }

    /// Crypto-shreds a patient: the record is deleted with an audit entry, then the data
    /// key is destroyed, so no copy of the content — live or in a backup — opens again.
    pub async fn shred_patient(&self, ctx: &ActContext, id: PatientId) -> Result<(), ServiceError> {
        let org = self.org();
        let has_key = self
            .keyring
            .patient_key(org.as_str(), id.as_bytes())
            .await?
            .is_some();
        {
            let _writer = self.writer.lock().await;
            let keys = self.keys.read().await;
            let mut tx = self.store.begin().await?;
            let deleted = tx.delete_patient(id.as_bytes()).await?;
            if !deleted && !has_key {
                return Err(ServiceError::NoSuchPatient);
            }
            let head = self
                .append(
                    &mut tx,
                    &keys,
                    ctx,
                    Action::PatientShredded,
                    Some(id),
                    &format!("patient:{id}"),
                )
                .await?;
            tx.commit().await?;
            self.anchor(&head).await?;
        }
        self.consent_cache.forget(id);
        let shredded = self
            .keyring
            .shred_patient_key(org.as_str(), id.as_bytes(), self.clock.now().as_micros())
            .await;
        self.key_cache.forget_all();
        shredded?;
        Ok(())
    }

    /// Replaces the clinic key with a new version and rewraps every patient key under it.
    /// Content is not rewritten; the old version is forgotten.
    pub async fn rotate_key(
        &self,
        ctx: &ActContext,
        master: &MasterKey,
    ) -> Result<i64, ServiceError> {
        let _writer = self.writer.lock().await;
        let mut keys = self.keys.write().await;
        let org = self.org();
        let version = keys.clinic_key_version + 1;
        let new_key = ClinicKey::generate(random_key_id()?)?;
        let mut rewrapped = Vec::new();
        for row in self.keyring.patient_keys(org.as_str()).await? {
            let id = patient_id(&row.patient_id)?;
            let context = aad(org, "patient_keys", &id, "data_key");
            let data_key =
                keys.clinic_key
                    .unwrap(key_id(&row.key_id)?, &Wrapped(row.wrapped), &context)?;
            rewrapped.push(PatientKeyRow {
                clinic_key_version: version,
                wrapped: new_key.wrap(&data_key, &context)?.0,
                ..row
            });
        }
        let people = match self.keyring.people_key(org.as_str()).await? {
            None => None,
            Some(row) => {
                let context = people_key_context(org);
                let key = keys.clinic_key.unwrap(
                    key_id(&row.key_id)?,
                    &Wrapped(row.wrapped.clone()),
                    &context,
                )?;
                Some(PatientKeyRow {
                    clinic_key_version: version,
                    wrapped: new_key.wrap(&key, &context)?.0,
                    ..row
                })
            }
        };
        let wrapped =
            master.wrap_clinic_key(org.as_str(), crate::keys::version_u32(version)?, &new_key)?;
        self.keyring
            .rotate_clinic_key(
                org.as_str(),
                &ClinicKeyRow {
                    version,
                    key_id: new_key.id().0.to_vec(),
                    wrapped: wrapped.0,
                },
                &rewrapped,
                people.as_ref(),
                self.clock.now().as_micros(),
            )
            .await?;
        keys.clinic_key = new_key;
        keys.clinic_key_version = version;
        let mut tx = self.store.begin().await?;
        let head = self
            .append(
                &mut tx,
                &keys,
                ctx,
                Action::ClinicKeyRotated,
                None,
                &format!("clinic_key:v{version}"),
            )
            .await?;
        tx.commit().await?;
        self.anchor(&head).await?;
        Ok(version)
    }

    /// Runs `change` and the audit entry for it in one transaction (X3): either both are
    /// durable or neither is. Concurrent writes to the clinic share the transaction
    /// (group commit, see `group_commit`); `change` runs between savepoints there, so
    /// it sees its neighbours' committed-to-be changes but never their failed ones.
    /// `Ok` comes only after the commit.
    pub(crate) async fn write<T: Send + 'static>(
        &self,
        ctx: &ActContext,
        action: Action,
        patient: Option<PatientId>,
        object: &str,
        change: impl for<'t> FnOnce(&'t mut ClinicTx) -> BoxFuture<'t, Result<T, StoreError>>
        + Send
        + 'static,
    ) -> Result<T, ServiceError> {
        self.write_outcome(ctx, action, patient, object, Outcome::Granted, change)
            .await
    }

    /// Like `write`, with the outcome the entry records (`Denied` for security events).
    pub(crate) async fn write_outcome<T: Send + 'static>(
        &self,
        ctx: &ActContext,
        action: Action,
        patient: Option<PatientId>,
        object: &str,
        outcome: Outcome,
        change: impl for<'t> FnOnce(&'t mut ClinicTx) -> BoxFuture<'t, Result<T, StoreError>>
        + Send
        + 'static,
    ) -> Result<T, ServiceError> {
        let value = self
            .group
            .submit(Act {
                ctx: ctx.clone(),
                action,
                patient,
                object: object.to_owned(),
                outcome,
                change: erase(change),
            })
            .await?;
        // `erase` boxed a `T`, so this always succeeds.
        value
            .downcast::<T>()
            .map(|value| *value)
            .map_err(|_| malformed("a write's result came back as another type"))
    }

    /// Records an act that writes nothing else (a read, an export, a start-up).
    pub async fn record(
        &self,
        ctx: &ActContext,
        action: Action,
        patient: Option<PatientId>,
        object: &str,
        reason: &str,
    ) -> Result<(), ServiceError> {
        let ctx = ActContext {
            reason: reason.to_owned(),
            ..ctx.clone()
        };
        self.write(&ctx, action, patient, object, |_| {
            Box::pin(async { Ok(()) })
        })
        .await
    }

    /// Adds the entry, the new frontier and a freshly signed tree head to `tx`.
    pub(crate) async fn append(
        &self,
        tx: &mut ClinicTx,
        keys: &ClinicKeys,
        ctx: &ActContext,
        action: Action,
        patient: Option<PatientId>,
        object: &str,
    ) -> Result<SignedTreeHead, ServiceError> {
        self.append_with_outcome(tx, keys, ctx, action, patient, object, Outcome::Granted)
            .await
    }

    /// Like `append`, for acts that were refused (security events, X3).
    #[expect(
        clippy::too_many_arguments,
        reason = "one audit entry has this many parts"
    )]
    pub(crate) async fn append_with_outcome(
        &self,
        tx: &mut ClinicTx,
        keys: &ClinicKeys,
        ctx: &ActContext,
        action: Action,
        patient: Option<PatientId>,
        object: &str,
        outcome: Outcome,
    ) -> Result<SignedTreeHead, ServiceError> {
        let mut frontier = tx.frontier().await?;
        let now = self.clock.now();
        let event = AuditEvent {
            actor: ctx.actor.clone(),
            patient,
            action,
            object: object.to_owned(),
            reason: ctx.reason.clone(),
            outcome,
            source: ctx.source.clone(),
        };
        let entry = LogEntry::new(frontier.size() + 1, now, &event);
        frontier.push(fortrolig_audit::leaf_hash(&entry.encode()));
        let root = frontier.root();
        let head = sign_head(self.org().as_str(), keys, entry.seq, root, now);
        tx.append_audit(&AuditAppend {
            entry: &entry,
            root_after: root,
            frontier: &frontier,
            latest: &head,
            checkpoint: entry.seq.is_multiple_of(CHECKPOINT_INTERVAL),
        })
        .await?;
        Ok(head)
    }

    /// Moves the clinic's anchor in the key ring forward to `head`, after it committed.
    pub(crate) async fn anchor(&self, head: &SignedTreeHead) -> Result<(), ServiceError> {
        Ok(self
            .keyring
            .set_anchor(self.org().as_str(), head, false)
            .await?)
    }

    async fn public_keys(&self) -> Result<HashMap<u32, Vec<u8>>, ServiceError> {
        let mut out = HashMap::new();
        for row in self.keyring.signing_keys(self.org().as_str()).await? {
            out.insert(crate::keys::version_u32(row.version)?, row.public_key);
        }
        Ok(out)
    }

    /// Checks the whole log against its signed heads and the key ring's anchor (X3).
    pub async fn verify_audit(&self) -> Result<Verified, ServiceError> {
        let broken = |fault| ServiceError::AuditBroken {
            clinic: self.org().to_string(),
            fault,
        };
        let mut heads = self.store.tree_heads().await?;
        if let Some(anchor) = self.keyring.anchor(self.org().as_str()).await? {
            heads.push(anchor);
        }
        let mut verifier = LogVerifier::new(&self.public_keys().await?, heads).map_err(broken)?;
        self.store
            .for_each_leaf(|seq, leaf, root| verifier.push_leaf(seq, leaf, root))
            .await?
            .map_err(broken)?;
        verifier.finish().map_err(broken)
    }

    /// The entry `seq`, its audit path, and the signed head it is proven against.
    pub async fn inclusion_proof(
        &self,
        seq: u64,
    ) -> Result<(LogEntry, Vec<Hash>, SignedTreeHead), ServiceError> {
        let head = self
            .store
            .tree_heads()
            .await?
            .into_iter()
            .max_by_key(|h| h.head.size)
            .ok_or_else(|| ServiceError::Invalid("the log is empty".into()))?;
        let entries = self.store.entries_up_to(head.head.size).await?;
        let leaves: Vec<Hash> = entries
            .iter()
            .map(|e| fortrolig_audit::leaf_hash(&e.encode()))
            .collect();
        let index = usize::try_from(seq.wrapping_sub(1))
            .map_err(|_| ServiceError::Invalid("no such entry".into()))?;
        let path = fortrolig_audit::inclusion_proof(&leaves, index)
            .ok_or_else(|| ServiceError::Invalid("no such entry".into()))?;
        let entry = entries
            .into_iter()
            .nth(index)
            .ok_or_else(|| ServiceError::Invalid("no such entry".into()))?;
        Ok((entry, path, head))
    }

    /// The audit entries about `patient` with their inclusion proofs, all against one
    /// signed tree head (P9, X3: the patient's innsyn in the log). The leaves are read
    /// once for all the paths, so a patient with many entries costs one scan of the log.
    /// The head's signature is checked here before it is handed out.
    pub async fn patient_log(&self, patient: PatientId) -> Result<PatientLog, ServiceError> {
        // The entries first, then the head: every entry read is under a head read after it
        // (an entry and its head are committed together).
        let entries = self.store.entries_for_patient(&patient.to_string()).await?;
        let head = self
            .store
            .tree_heads()
            .await?
            .into_iter()
            .max_by_key(|h| h.head.size)
            .ok_or_else(|| ServiceError::Invalid("the log is empty".into()))?;
        let public_key = self
            .public_keys()
            .await?
            .remove(&head.key_version)
            .ok_or_else(|| malformed("no public key for the latest tree head"))?;
        head.verify(&public_key)?;
        let size = head.head.size;
        let mut leaves = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        self.store
            .for_each_leaf(|seq, leaf, _| {
                if seq <= size {
                    leaves.push(leaf);
                }
                Ok(())
            })
            .await?
            .map_err(|fault| ServiceError::AuditBroken {
                clinic: self.org().to_string(),
                fault,
            })?;
        let indices = entries
            .iter()
            .map(|e| usize::try_from(e.seq.wrapping_sub(1)))
            .collect::<Result<Vec<usize>, _>>()
            .map_err(|_| malformed("an entry number out of range"))?;
        let paths = fortrolig_audit::inclusion_proofs(&leaves, &indices)
            .ok_or_else(|| malformed("an entry about the patient is not under the latest head"))?;
        Ok(PatientLog {
            entries: entries.into_iter().zip(paths).collect(),
            head,
            public_key,
        })
    }

    /// What group commit has done on this handle: acts, commits, and acts waiting.
    pub fn write_stats(&self) -> WriteStats {
        self.group.stats()
    }

    /// Holds this clinic's writers back (in this process) until the guard is dropped:
    /// a backup reads the clinic under it. Writes queue meanwhile and go in one batch.
    pub async fn pause_writes(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.writer.lock().await
    }

    /// After a restore: drops the rows of patients whose key was destroyed since the
    /// backup, and records the restore, in one transaction.
    pub(crate) async fn finish_restore(
        &self,
        ctx: &ActContext,
        label: &str,
        shredded: &[PatientId],
        deleted_threads: &[fortrolig_domain::ThreadId],
    ) -> Result<(), ServiceError> {
        let ctx = ActContext {
            reason: format!(
                "gjenoppretting; {} slettede pasienter og {} slettede samtaler fjernet",
                shredded.len(),
                deleted_threads.len()
            ),
            ..ctx.clone()
        };
        let ids = shredded.to_vec();
        let threads = deleted_threads.to_vec();
        self.write(
            &ctx,
            Action::Restored,
            None,
            &format!("backup:{label}"),
            move |tx| {
                Box::pin(async move {
                    for id in &ids {
                        tx.delete_patient(id.as_bytes()).await?;
                    }
                    for thread in &threads {
                        tx.delete_thread(thread.as_bytes()).await?;
                    }
                    Ok(())
                })
            },
        )
        .await
    }

    /// The frontier as stored, for tests and tools that check the log's size.
    pub async fn audit_size(&self) -> Result<u64, ServiceError> {
        Ok(self.store.audit_size().await?)
    }
}

pub(crate) fn people_key_context(org: &OrgNumber) -> Aad {
    Aad::new(org.as_str(), "people_keys", b"", "data_key")
}

pub(crate) fn patient_id(bytes: &[u8]) -> Result<PatientId, ServiceError> {
    let id: [u8; 16] = bytes
        .try_into()
        .map_err(|_| malformed("patient id is not 16 bytes"))?;
    Ok(PatientId::from_bytes(id))
}
