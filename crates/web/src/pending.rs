//! Ceremonies under way (a login at a provider, a passkey ceremony), kept in memory for
//! a few minutes under a random key. Bounded in all and per address, so that a flood of
//! started ceremonies cannot fill memory or crowd others out. A restart only means the
//! user starts again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::WebError;

/// At most this many ceremonies wait at once.
const MAX_WAITING: usize = 10_000;
/// At most this many may be started from one address within one lifetime.
const MAX_PER_ADDRESS: usize = 30;

#[derive(Debug)]
struct Entry<T> {
    value: T,
    address: Option<String>,
    started: Instant,
}

#[derive(Debug)]
pub(crate) struct Pending<T> {
    lifetime: Duration,
    entries: Mutex<HashMap<String, Entry<T>>>,
}

impl<T> Pending<T> {
    pub(crate) fn new(lifetime: Duration) -> Self {
        Self {
            lifetime,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Entry<T>>>, WebError> {
        self.entries
            .lock()
            .map_err(|_| WebError::Internal("table of ceremonies poisoned".into()))
    }

    /// Keeps `value` under `key` (random, unguessable) for one lifetime.
    pub(crate) fn insert(
        &self,
        key: String,
        address: Option<String>,
        value: T,
    ) -> Result<(), WebError> {
        let mut entries = self.lock()?;
        let lifetime = self.lifetime;
        entries.retain(|_, e| e.started.elapsed() < lifetime);
        if entries.len() >= MAX_WAITING {
            return Err(WebError::Unavailable(
                "too many ceremonies under way".into(),
            ));
        }
        if let Some(address) = &address
            && entries
                .values()
                .filter(|e| e.address.as_deref() == Some(address))
                .count()
                >= MAX_PER_ADDRESS
        {
            return Err(WebError::TooMany);
        }
        entries.insert(
            key,
            Entry {
                value,
                address,
                started: Instant::now(),
            },
        );
        Ok(())
    }

    /// Takes what `key` holds, if it has not expired: each can be used once.
    pub(crate) fn take(&self, key: &str) -> Result<Option<T>, WebError> {
        let lifetime = self.lifetime;
        Ok(self
            .lock()?
            .remove(key)
            .filter(|e| e.started.elapsed() < lifetime)
            .map(|e| e.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_entry_is_taken_once_and_one_address_cannot_fill_the_table_x9() {
        let pending = Pending::new(Duration::from_secs(60));
        for i in 0..MAX_PER_ADDRESS {
            assert!(
                pending
                    .insert(format!("k{i}"), Some("10.0.0.1".into()), i)
                    .is_ok()
            );
        }
        assert!(matches!(
            pending.insert("over".into(), Some("10.0.0.1".into()), 0),
            Err(WebError::TooMany)
        ));
        assert!(
            pending
                .insert("other".into(), Some("10.0.0.2".into()), 7)
                .is_ok()
        );
        assert_eq!(pending.take("other").ok().flatten(), Some(7));
        assert_eq!(pending.take("other").ok().flatten(), None);
    }

    #[test]
    fn expired_entries_cannot_be_taken() {
        let pending = Pending::new(Duration::ZERO);
        assert!(pending.insert("k".into(), None, 1).is_ok());
        assert_eq!(pending.take("k").ok().flatten(), None);
    }
}
