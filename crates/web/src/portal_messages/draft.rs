//! A refused form's text, kept on the server for a few minutes so that the form can be
//! shown again after a redirect (Post/Redirect/Get) rather than as the answer to the POST.
//!
//! Why: Chromium keeps the body of a POST whose answer is a page in the tab's history and
//! writes it to the profile's session file on disk, where the message text would outlive
//! the session (P2; the browser test found it there). After a 303 the history entry is a
//! plain GET with only a draft reference in its address, and nothing of the text.
//!
//! A draft is bound to the session that wrote it (its reference), kept in memory only (like
//! a login under way), for ten minutes at most, and at most one per session; the whole
//! store is bounded. A restart loses drafts, as it loses logins under way. The store
//! belongs to the application (`AppState::drafts`), not to the process.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::write::Problems;

/// How long a draft is kept.
const LIFETIME: Duration = Duration::from_secs(10 * 60);
/// Drafts held at most, across all sessions.
const MOST: usize = 2_000;

/// What a refused form held, and why it was refused.
#[derive(Clone)]
pub(super) struct Draft {
    pub subject: String,
    pub text: String,
    pub problems: Problems,
}

// The text is health data: `Debug` never shows it (X6).
impl fmt::Debug for Draft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Draft(<{} + {} chars>)",
            self.subject.chars().count(),
            self.text.chars().count()
        )
    }
}

struct Held {
    owner: String,
    draft: Draft,
    since: Instant,
}

/// The drafts of refused patient forms, for the whole application.
#[derive(Default)]
pub struct Drafts {
    held: Mutex<HashMap<String, Held>>,
}

impl fmt::Debug for Drafts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Drafts({})", self.lock().len())
    }
}

impl Drafts {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Held>> {
        // A panic while holding the lock leaves a map that is still consistent.
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps `draft` for the session `owner` (its reference) and returns the draft's id,
    /// or `None` if no id could be drawn.
    pub(super) fn keep(&self, owner: &str, draft: Draft) -> Option<String> {
        let id: String = fortrolig_vault::random_bytes::<16>()
            .ok()?
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut held = self.lock();
        held.retain(|_, h| h.since.elapsed() < LIFETIME && h.owner != owner);
        if held.len() >= MOST {
            // Full of live drafts: the oldest gives way.
            if let Some(oldest) = held
                .iter()
                .min_by_key(|(_, h)| h.since)
                .map(|(k, _)| k.clone())
            {
                held.remove(&oldest);
            }
        }
        held.insert(
            id.clone(),
            Held {
                owner: owner.to_owned(),
                draft,
                since: Instant::now(),
            },
        );
        Some(id)
    }

    /// The draft `id` of the session `owner`, if it is still kept. It stays until it
    /// expires or the session writes another, so a reload shows it again.
    pub(super) fn get(&self, owner: &str, id: &str) -> Option<Draft> {
        self.lock()
            .get(id)
            .filter(|h| h.owner == owner && h.since.elapsed() < LIFETIME)
            .map(|h| h.draft.clone())
    }

    /// Forgets the session's draft once what it held has been sent.
    pub(super) fn forget(&self, owner: &str) {
        self.lock().retain(|_, h| h.owner != owner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(text: &str) -> Draft {
        Draft {
            subject: "Emne".into(),
            text: text.into(),
            problems: Problems::default(),
        }
    }

    #[test]
    fn a_draft_is_its_sessions_only_one_at_a_time_and_never_in_debug_x6() {
        let drafts = Drafts::default();
        let (keep, get, forget) = (
            |o: &str, d| drafts.keep(o, d),
            |o: &str, id: &str| drafts.get(o, id),
            |o: &str| drafts.forget(o),
        );
        let first = keep("session:a", draft("første")).unwrap_or_default();
        assert_eq!(
            get("session:a", &first).map(|d| d.text),
            Some("første".into())
        );
        assert!(
            get("session:b", &first).is_none(),
            "another session's draft"
        );
        let second = keep("session:a", draft("andre")).unwrap_or_default();
        assert!(get("session:a", &first).is_none(), "one draft per session");
        let shown = get("session:a", &second).map(|d| format!("{d:?}"));
        assert_eq!(shown.as_deref(), Some("Draft(<4 + 5 chars>)"));
        forget("session:a");
        assert!(get("session:a", &second).is_none());
    }
}
