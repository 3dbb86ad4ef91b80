//! A key per conversation (issue 6 item 3; P9, X4). A thread made since migration 17 has
//! its own data key, wrapped by the patient's and kept in the key ring; its subject,
//! messages and attachments are sealed with it. Deleting a thread (a granted deletion
//! request, or retention) destroys that key after the rows are gone, so a backup taken
//! before holds the conversation sealed with a key that exists nowhere: crypto-shredding
//! of one conversation, as shredding the patient's key is of all their data. Notices,
//! requests and corrections stay under the patient's key: they outlive a thread.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use fortrolig_domain::{PatientId, ThreadId};
use fortrolig_store::{ThreadKeyRow, ThreadRow};
use fortrolig_vault::{Aad, DataKey, Wrapped};

use crate::clinic::{Clinic, patient_id};
use crate::error::ServiceError;
use crate::keys::{key_id, random_key_id};

/// A key whose thread has been gone this long is an orphan (a crash between deleting
/// the thread and its key, or a thread that was never written): swept by retention.
/// Long enough that no thread still being written is taken for one.
pub(crate) const ORPHAN_AFTER_MICROS: i64 = 60 * 60 * 1_000_000;

/// The keys a thread's content needs.
#[derive(Clone)]
pub(crate) struct ThreadKeys {
    /// The patient's: for what outlives the thread (notices, corrections).
    pub patient: DataKey,
    /// The thread's own, or the patient's for a thread made before it had one.
    pub content: DataKey,
}

/// How long unwrapped keys are kept in memory after they were read.
const KEPT_FOR: Duration = Duration::from_secs(120);
/// Threads whose keys are kept at most; when full, the cache starts again.
const KEPT_THREADS: usize = 4096;

/// Unwrapped thread keys for a short while: every message to or from a thread needs them,
/// and the key ring is another database. Shredding forgets them first thing after the
/// key ring's rows are gone; a read that began before is not kept (the generation moved
/// on), so no shredded key is held after its shredding returns.
#[derive(Default)]
pub(crate) struct KeyCache {
    inner: Mutex<Generation>,
}

/// The generation (moved on by every shredding) and the keys kept, by thread id.
type Generation = (u64, HashMap<Vec<u8>, (Instant, ThreadKeys)>);

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyCache({})", self.lock().1.len())
    }
}

impl KeyCache {
    fn lock(&self) -> MutexGuard<'_, Generation> {
        // The map stays consistent even if a holder panicked.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The thread's keys, or the generation a read from the key ring must start at.
    fn get(&self, thread: &[u8]) -> Result<ThreadKeys, u64> {
        let held = self.lock();
        match held.1.get(thread) {
            Some((at, keys)) if at.elapsed() < KEPT_FOR => Ok(keys.clone()),
            _ => Err(held.0),
        }
    }

    fn put(&self, thread: &[u8], keys: &ThreadKeys, read_at: u64) {
        let mut held = self.lock();
        if held.0 != read_at {
            return;
        }
        if held.1.len() >= KEPT_THREADS {
            held.1.retain(|_, (at, _)| at.elapsed() < KEPT_FOR);
            if held.1.len() >= KEPT_THREADS {
                held.1.clear();
            }
        }
        held.1
            .insert(thread.to_vec(), (Instant::now(), keys.clone()));
    }

    /// Forgets every key (a patient or a thread was shredded).
    pub(crate) fn forget_all(&self) {
        let mut held = self.lock();
        held.0 += 1;
        held.1.clear();
    }
}

fn wrap_context(org: &str, thread: &[u8]) -> Aad {
    Aad::new(org, "thread_keys", thread, "data_key")
}

impl Clinic {
    /// Makes a new thread's key and stores it in the key ring, before the thread itself
    /// is written: a thread row never names a key that was not kept.
    pub(crate) async fn new_thread_key(
        &self,
        patient: PatientId,
        thread: ThreadId,
    ) -> Result<ThreadKeys, ServiceError> {
        let patient_key = self.data_key(patient).await?;
        let content = DataKey::generate(random_key_id()?)?;
        let org = self.org().as_str();
        let wrapped = patient_key.wrap(&content, &wrap_context(org, thread.as_bytes()))?;
        self.keyring
            .insert_thread_key(
                org,
                &ThreadKeyRow {
                    thread_id: thread.as_bytes().to_vec(),
                    patient_id: patient.as_bytes().to_vec(),
                    key_id: content.id().0.to_vec(),
                    wrapped: wrapped.0,
                    created_at: self.clock.now().as_micros(),
                },
            )
            .await?;
        Ok(ThreadKeys {
            patient: patient_key,
            content,
        })
    }

    /// The keys of a stored thread. A thread whose own key is gone has been deleted
    /// (it can only come back with an older backup, and a restore deletes it again).
    pub(crate) async fn thread_keys(&self, row: &ThreadRow) -> Result<ThreadKeys, ServiceError> {
        let read_at = match self.key_cache.get(&row.id) {
            Ok(keys) => return Ok(keys),
            Err(generation) => generation,
        };
        let keys = self.read_thread_keys(row).await?;
        self.key_cache.put(&row.id, &keys, read_at);
        Ok(keys)
    }

    async fn read_thread_keys(&self, row: &ThreadRow) -> Result<ThreadKeys, ServiceError> {
        let patient = patient_id(&row.patient_id)?;
        let (patient_row, thread_row) = self
            .keyring
            .content_keys(self.org().as_str(), &row.patient_id, &row.id)
            .await?
            .ok_or(ServiceError::Shredded)?;
        let patient_key = self.unwrap_data_key(patient, patient_row).await?;
        let content = match (&row.key_id, thread_row) {
            (None, _) => patient_key.clone(),
            (Some(id), Some(k)) if *id == k.key_id => patient_key.unwrap(
                key_id(&k.key_id)?,
                &Wrapped(k.wrapped),
                &wrap_context(self.org().as_str(), &row.id),
            )?,
            (Some(_), _) => return Err(ServiceError::Invalid("no such thread".into())),
        };
        Ok(ThreadKeys {
            patient: patient_key,
            content,
        })
    }

    /// Destroys the keys of threads that are deleted (their rows already gone).
    pub(crate) async fn shred_thread_keys(&self, threads: &[Vec<u8>]) -> Result<(), ServiceError> {
        let shredded = self
            .keyring
            .shred_thread_keys(self.org().as_str(), threads)
            .await;
        self.key_cache.forget_all();
        shredded?;
        Ok(())
    }

    /// Keys older than `ORPHAN_AFTER_MICROS` whose thread is not in the store: shredded.
    /// Returns how many.
    pub(crate) async fn sweep_thread_keys(&self) -> Result<usize, ServiceError> {
        let before = self.clock.now().as_micros() - ORPHAN_AFTER_MICROS;
        let keyed = self.store.keyed_threads().await?;
        let orphans: Vec<Vec<u8>> = self
            .keyring
            .thread_keys_made_before(self.org().as_str(), before)
            .await?
            .into_iter()
            .filter(|id| keyed.binary_search(id).is_err())
            .collect();
        self.shred_thread_keys(&orphans).await?;
        Ok(orphans.len())
    }

    /// Threads in the store whose key is gone: deleted after the backup that brought
    /// them back was taken.
    pub(crate) async fn threads_without_keys(&self) -> Result<Vec<ThreadId>, ServiceError> {
        let kept = self
            .keyring
            .thread_keys_made_before(self.org().as_str(), i64::MAX)
            .await?;
        self.store
            .keyed_threads()
            .await?
            .into_iter()
            .filter(|id| kept.binary_search(id).is_err())
            .map(|id| crate::messaging::thread_id(&id))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use fortrolig_vault::KeyId;

    use super::*;

    #[test]
    fn a_key_read_before_a_shredding_is_not_kept_after_it_x4() -> Result<(), ServiceError> {
        let cache = KeyCache::default();
        let keys = ThreadKeys {
            patient: DataKey::generate(KeyId([1; 16]))?,
            content: DataKey::generate(KeyId([2; 16]))?,
        };
        // A read starts, a shredding ends meanwhile, the read ends: not kept.
        let read_at = cache.get(b"t1").err().unwrap_or(u64::MAX);
        cache.forget_all();
        cache.put(b"t1", &keys, read_at);
        assert!(cache.get(b"t1").is_err());
        // A read with nothing in between is kept, until the next shredding.
        let read_at = cache.get(b"t1").err().unwrap_or(u64::MAX);
        cache.put(b"t1", &keys, read_at);
        assert_eq!(
            cache.get(b"t1").ok().map(|k| k.content.id()),
            Some(KeyId([2; 16]))
        );
        cache.forget_all();
        assert!(cache.get(b"t1").is_err());
        Ok(())
    }
}
