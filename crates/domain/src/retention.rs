//! Retention (X4, S5): how long the clinic keeps each kind of data, and when a given
//! piece of it has had its time.
//!
//! Fortrolig is not the patient's journal. What must be documented is marked
//! journal-worthy and transferred to the EPJ; after that, and after a thread has closed,
//! the copy here has no purpose left and goes. Nothing that is journal-worthy goes before
//! staff have marked it transferred: the documentation duty comes first.

use std::fmt;

use crate::clock::Timestamp;

const MICROS_PER_DAY: i64 = 86_400 * 1_000_000;

/// The longest period a clinic may set: ten years, far beyond any purpose of a copy
/// outside the journal, and far from overflowing a timestamp.
pub const MAX_DAYS: u32 = 3_650;

/// What the clinic sets a period for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// A closed thread with its messages, counted from when it closed.
    Threads,
    /// The attachments of a closed thread, counted from when it closed.
    Attachments,
    /// Journal-worthy content, counted from when staff marked it transferred to the EPJ.
    Journal,
    /// The record of a notice sent (address and text), counted from when it ended.
    Notices,
    /// Login sessions and failed-login counters, counted from when they ended.
    Sessions,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Threads,
        Category::Attachments,
        Category::Journal,
        Category::Notices,
        Category::Sessions,
    ];

    /// The name in settings, forms and audit entries; never changes meaning.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Threads => "traader",
            Category::Attachments => "vedlegg",
            Category::Journal => "journal",
            Category::Notices => "varsler",
            Category::Sessions => "okter",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// What the clinic's own default is, in days, until it sets one.
    pub fn default_days(self) -> u32 {
        match self {
            Category::Threads => 90,
            Category::Attachments => 30,
            Category::Journal => 30,
            Category::Notices => 90,
            Category::Sessions => 30,
        }
    }

    /// The setting's key in the clinic's settings.
    pub fn setting(self) -> String {
        format!("oppbevaring.{}", self.as_str())
    }
}

/// A number of whole days, 1 to `MAX_DAYS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Days(u32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("en oppbevaringstid må være et helt antall dager fra 1 til {MAX_DAYS}")]
pub struct DaysError;

impl Days {
    pub fn new(days: u32) -> Result<Self, DaysError> {
        if (1..=MAX_DAYS).contains(&days) {
            Ok(Self(days))
        } else {
            Err(DaysError)
        }
    }

    /// From a form field or a stored setting: digits only, no sign, no spaces inside.
    pub fn parse(text: &str) -> Result<Self, DaysError> {
        let text = text.trim();
        if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DaysError);
        }
        text.parse().map_err(|_| DaysError).and_then(Self::new)
    }

    pub fn get(self) -> u32 {
        self.0
    }

    pub fn micros(self) -> i64 {
        i64::from(self.0) * MICROS_PER_DAY
    }
}

impl fmt::Display for Days {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The clinic's periods, one per category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub threads: Days,
    pub attachments: Days,
    pub journal: Days,
    pub notices: Days,
    pub sessions: Days,
}

impl Default for Policy {
    fn default() -> Self {
        let d = |c: Category| Days(c.default_days());
        Self {
            threads: d(Category::Threads),
            attachments: d(Category::Attachments),
            journal: d(Category::Journal),
            notices: d(Category::Notices),
            sessions: d(Category::Sessions),
        }
    }
}

impl Policy {
    pub fn days(&self, category: Category) -> Days {
        match category {
            Category::Threads => self.threads,
            Category::Attachments => self.attachments,
            Category::Journal => self.journal,
            Category::Notices => self.notices,
            Category::Sessions => self.sessions,
        }
    }

    pub fn set(&mut self, category: Category, days: Days) {
        match category {
            Category::Threads => self.threads = days,
            Category::Attachments => self.attachments = days,
            Category::Journal => self.journal = days,
            Category::Notices => self.notices = days,
            Category::Sessions => self.sessions = days,
        }
    }

    /// When a closed thread and its messages go: its period after closing, and for
    /// journal-worthy messages also the journal period after their transfer. `None` while
    /// the thread is open or a journal-worthy message has not been transferred.
    pub fn thread_expires(
        &self,
        closed_at: Option<Timestamp>,
        messages: &[Kept],
    ) -> Option<Timestamp> {
        let closed = closed_at?;
        let journal = self.journal_expires(messages)?;
        Some(later(after(closed, self.threads), journal))
    }

    /// When a closed thread's attachments go: their own period after closing, and not
    /// before the journal period after the transfer of any journal-worthy message they
    /// belong to. `None` while that cannot be known.
    pub fn attachments_expire(
        &self,
        closed_at: Option<Timestamp>,
        messages: &[Kept],
    ) -> Option<Timestamp> {
        let closed = closed_at?;
        let with_attachments: Vec<Kept> = messages
            .iter()
            .copied()
            .filter(|m| m.attachments > 0)
            .collect();
        if with_attachments.is_empty() {
            return None;
        }
        let journal = self.journal_expires(&with_attachments)?;
        Some(later(after(closed, self.attachments), journal))
    }

    /// The journal bound over `messages`: `None` if one of them is journal-worthy and
    /// not transferred, else the latest transfer plus the journal period (or the epoch,
    /// no bound, when none is journal-worthy).
    fn journal_expires(&self, messages: &[Kept]) -> Option<Timestamp> {
        let mut bound = Timestamp(i64::MIN);
        for m in messages.iter().filter(|m| m.journal_worthy) {
            bound = later(bound, after(m.transferred_at?, self.journal));
        }
        Some(bound)
    }

    /// When the record of a notice goes (counted from when it ended).
    pub fn notice_expires(&self, ended_at: Timestamp) -> Timestamp {
        after(ended_at, self.notices)
    }

    /// The latest end time a session or failed login may have and still go now.
    pub fn sessions_ended_before(&self, now: Timestamp) -> Timestamp {
        before(now, self.sessions)
    }

    /// The latest end time a notice may have and still go now.
    pub fn notices_ended_before(&self, now: Timestamp) -> Timestamp {
        before(now, self.notices)
    }

    /// The latest time a patient may have ended their use of the portal (P11) and go
    /// as a whole now, once nothing of theirs is kept for its own reasons any more: the
    /// thread period after the end, as if the portal were a thread that closed then.
    pub fn portal_ended_before(&self, now: Timestamp) -> Timestamp {
        before(now, self.threads)
    }

    /// The earliest close time that can have expired by `now`, for finding candidates.
    pub fn closed_before(&self, now: Timestamp) -> Timestamp {
        before(now, self.threads.min(self.attachments))
    }
}

/// What retention needs to know of one message in a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kept {
    pub journal_worthy: bool,
    pub transferred_at: Option<Timestamp>,
    pub attachments: u32,
}

fn after(t: Timestamp, days: Days) -> Timestamp {
    Timestamp(t.0.saturating_add(days.micros()))
}

fn before(t: Timestamp, days: Days) -> Timestamp {
    Timestamp(t.0.saturating_sub(days.micros()))
}

fn later(a: Timestamp, b: Timestamp) -> Timestamp {
    if a >= b { a } else { b }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = MICROS_PER_DAY;

    fn day(n: i64) -> Timestamp {
        Timestamp(1_800_000_000_000_000 + n * DAY)
    }

    fn plain(attachments: u32) -> Kept {
        Kept {
            journal_worthy: false,
            transferred_at: None,
            attachments,
        }
    }

    fn journal(transferred: Option<i64>) -> Kept {
        Kept {
            journal_worthy: true,
            transferred_at: transferred.map(day),
            attachments: 0,
        }
    }

    #[test]
    fn an_open_thread_never_expires_x4() {
        let p = Policy::default();
        assert_eq!(p.thread_expires(None, &[plain(0)]), None);
        assert_eq!(p.attachments_expire(None, &[plain(2)]), None);
    }

    #[test]
    fn a_closed_thread_goes_its_period_after_closing_x4() {
        let p = Policy::default();
        assert_eq!(p.thread_expires(Some(day(0)), &[plain(0)]), Some(day(90)));
        assert_eq!(p.thread_expires(Some(day(0)), &[]), Some(day(90)));
        assert_eq!(
            p.attachments_expire(Some(day(0)), &[plain(1)]),
            Some(day(30))
        );
        assert_eq!(
            p.attachments_expire(Some(day(0)), &[plain(0)]),
            None,
            "none to delete"
        );
    }

    #[test]
    fn journal_worthy_content_is_kept_until_transferred_s5() {
        let p = Policy::default();
        let untransferred = [plain(0), journal(None)];
        assert_eq!(p.thread_expires(Some(day(0)), &untransferred), None);
        let mut with_file = journal(None);
        with_file.attachments = 1;
        assert_eq!(p.attachments_expire(Some(day(0)), &[with_file]), None);
        // Attachments of other messages do not wait for it.
        assert_eq!(
            p.attachments_expire(Some(day(0)), &[plain(1), journal(None)]),
            Some(day(30))
        );
    }

    #[test]
    fn transferred_content_goes_the_journal_period_after_transfer_or_with_the_thread_x4() {
        let p = Policy::default();
        // Transferred late: the journal period after the transfer is the later bound.
        assert_eq!(
            p.thread_expires(Some(day(0)), &[journal(Some(100))]),
            Some(day(130))
        );
        // Transferred early: the thread's own period after closing is.
        assert_eq!(
            p.thread_expires(Some(day(0)), &[journal(Some(1)), journal(Some(5))]),
            Some(day(90))
        );
    }

    #[test]
    fn days_are_whole_numbers_in_range_and_bad_text_is_an_error_x4() {
        assert_eq!(Days::parse(" 30 ").map(Days::get), Ok(30));
        for bad in [
            "",
            "0",
            "-1",
            "+3",
            "1.5",
            "3651",
            "99999999999",
            "3 0",
            "abc",
        ] {
            assert_eq!(Days::parse(bad), Err(DaysError), "{bad:?}");
        }
        assert!(Days::new(MAX_DAYS).is_ok());
    }

    #[test]
    fn categories_round_trip_through_their_names() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
            assert!(c.setting().starts_with("oppbevaring."));
        }
    }

    #[test]
    fn expiry_is_never_before_closing_plus_the_period_whatever_the_messages_x4() {
        // A small exhaustive check over transfer times and flags.
        let p = Policy::default();
        for t1 in [None, Some(-10), Some(0), Some(50), Some(200)] {
            for t2 in [None, Some(3), Some(120)] {
                let msgs = [journal(t1), plain(1), journal(t2)];
                match p.thread_expires(Some(day(0)), &msgs) {
                    None => assert!(t1.is_none() || t2.is_none()),
                    Some(at) => {
                        assert!(at >= day(90));
                        for t in [t1, t2].into_iter().flatten() {
                            assert!(at >= day(t + 30));
                        }
                    }
                }
            }
        }
    }
}
