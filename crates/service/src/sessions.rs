//! Server-side sessions (issue 3 item 5): opaque tokens of which only a hash is stored,
//! an idle and an absolute limit no longer than ID-porten's (30 and 120 minutes), a CSRF
//! token per session, "log out everywhere", and lockout after repeated failed logins.

use std::fmt;

use fortrolig_domain::access::Level;
use fortrolig_domain::{Action, Actor, Outcome, PatientId, Source, StaffId, ThreadId, Timestamp};
use fortrolig_store::{SessionRow, StoreError};
use ring::digest::{SHA256, digest};

use fortrolig_vault::{Aad, DataKey};

use crate::clinic::{ActContext, Clinic};
use crate::consent::Stopped;
use crate::error::ServiceError;
use crate::messaging::ThreadReadAhead;

pub const IDLE_LIMIT_MICROS: i64 = 30 * 60 * 1_000_000;
pub const ABSOLUTE_LIMIT_MICROS: i64 = 120 * 60 * 1_000_000;
/// A session's stored `last_seen` is moved forward only when it is at least this old.
/// Writing it on every request cost a durable commit per request (on SQLite an fsync,
/// queued behind the clinic's single writer); once a minute is enough for a limit of
/// 30 minutes. The idle limit is checked against the stored value, so a session may
/// end up to this much *earlier* than 30 minutes after its last request, never later.
pub const TOUCH_INTERVAL_MICROS: i64 = 60 * 1_000_000;
/// Failed logins allowed per account (and ten times as many per address) in the window.
pub const MAX_FAILURES: i64 = 5;
pub const FAILURE_WINDOW_MICROS: i64 = 15 * 60 * 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionSubject {
    Staff(StaffId),
    Patient(PatientId),
}

impl SessionSubject {
    pub(crate) fn kind(self) -> &'static str {
        match self {
            SessionSubject::Staff(_) => "staff",
            SessionSubject::Patient(_) => "patient",
        }
    }

    pub(crate) fn id_bytes(&self) -> &[u8; 16] {
        match self {
            SessionSubject::Staff(id) => id.as_bytes(),
            SessionSubject::Patient(id) => id.as_bytes(),
        }
    }

    pub(crate) fn actor_id(self) -> String {
        match self {
            SessionSubject::Staff(id) => format!("staff:{id}"),
            SessionSubject::Patient(id) => format!("patient:{id}"),
        }
    }

    /// The patient, for audit entries about a patient's own account.
    pub fn patient(self) -> Option<PatientId> {
        match self {
            SessionSubject::Patient(id) => Some(id),
            SessionSubject::Staff(_) => None,
        }
    }
}

/// The secret a browser holds (in a cookie). `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_cookie(value: &str) -> Self {
        Self(value.to_owned())
    }

    fn hash(&self) -> Vec<u8> {
        digest(&SHA256, self.0.as_bytes()).as_ref().to_vec()
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<secret>)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub subject: SessionSubject,
    pub level: Level,
    pub provider: String,
    pub created_at: Timestamp,
    pub last_seen: Timestamp,
    pub expires_at: Timestamp,
    csrf: String,
    token_hash: Vec<u8>,
    /// The provider's id_token, sealed (see `Clinic::id_token_hint`).
    id_token: Option<Vec<u8>>,
}

impl Session {
    /// The CSRF token forms must carry back.
    pub fn csrf_token(&self) -> &str {
        &self.csrf
    }

    /// A short, public reference to this session for the audit log: the first eight
    /// bytes of the token's hash, which cannot be turned back into the token.
    pub fn reference(&self) -> String {
        format!(
            "session:{}",
            hex(&self.token_hash[..self.token_hash.len().min(8)])
        )
    }

    /// Whether `other` is this same session (for "this session" in a list).
    pub fn same_as(&self, other: &Session) -> bool {
        self.token_hash == other.token_hash
    }

    /// Constant-time comparison of a presented CSRF token.
    pub fn csrf_matches(&self, presented: &str) -> bool {
        let (a, b) = (self.csrf.as_bytes(), presented.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionProblem {
    #[error("no such session")]
    Unknown,
    #[error("the session has expired")]
    Expired,
    #[error("the session has ended")]
    Ended,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn level_of(text: &str) -> Option<Level> {
    match text {
        "substantial" => Some(Level::Substantial),
        "high" => Some(Level::High),
        _ => None,
    }
}

fn subject_of(row: &SessionRow) -> Option<SessionSubject> {
    let id: [u8; 16] = row.subject_id.as_slice().try_into().ok()?;
    match row.subject_kind.as_str() {
        "staff" => Some(SessionSubject::Staff(StaffId::from_bytes(id))),
        "patient" => Some(SessionSubject::Patient(PatientId::from_bytes(id))),
        _ => None,
    }
}

fn session_of(row: SessionRow) -> Result<Session, ServiceError> {
    let malformed =
        || ServiceError::from(fortrolig_store::StoreError::Malformed("session row".into()));
    Ok(Session {
        subject: subject_of(&row).ok_or_else(malformed)?,
        level: level_of(&row.level).ok_or_else(malformed)?,
        provider: row.provider,
        created_at: Timestamp(row.created_at),
        last_seen: Timestamp(row.last_seen),
        expires_at: Timestamp(row.expires_at),
        csrf: String::from_utf8(row.csrf_token).map_err(|_| malformed())?,
        token_hash: row.token_hash,
        id_token: row.id_token,
    })
}

fn failure_key(what: &str, value: &str) -> Vec<u8> {
    digest(&SHA256, format!("{what}\0{value}").as_bytes())
        .as_ref()
        .to_vec()
}

/// The id_token is bound to its clinic, table, session and column.
fn id_token_aad(clinic: &str, token_hash: &[u8]) -> Aad {
    Aad::new(clinic, "sessions", token_hash, "id_token")
}

/// What became of a request to end one of one's own sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndOwn {
    Ended,
    /// No open session of this person has that reference (already ended, or not theirs).
    NotFound,
}

impl Clinic {
    /// The key a person's own secrets (an id_token, a passkey) are sealed under: the
    /// patient's data key, so that shredding the patient makes them unreadable too; the
    /// clinic's staff data key for staff.
    pub(crate) async fn subject_key(
        &self,
        subject: SessionSubject,
    ) -> Result<DataKey, ServiceError> {
        match subject {
            SessionSubject::Patient(p) => self.data_key(p).await,
            SessionSubject::Staff(_) => self.people_key().await,
        }
    }

    pub(crate) fn subject_context(
        &self,
        subject: SessionSubject,
        source: &Source,
        reason: &str,
    ) -> ActContext {
        ActContext {
            actor: Actor {
                id: subject.actor_id(),
                role: subject.kind().into(),
                clinic: self.org().clone(),
                hpr: None,
            },
            source: source.clone(),
            reason: reason.to_owned(),
        }
    }

    /// Starts a session after a successful login; the login is an audited act. The
    /// provider's `id_token`, if given, is kept sealed for logging out there later.
    pub async fn start_session(
        &self,
        subject: SessionSubject,
        level: Level,
        provider: &str,
        provider_sid: Option<&str>,
        id_token: Option<&str>,
        source: &Source,
    ) -> Result<(SessionToken, Session), ServiceError> {
        // A patient who ended their use of the portal cannot log in (P11); the attempt
        // is on record, where innsyn shows it.
        if let Some(patient) = subject.patient()
            && self.consents(patient).await?.ended()
        {
            let ctx = self.subject_context(subject, source, "innlogging etter avsluttet bruk");
            self.write_outcome(
                &ctx,
                Action::SessionStarted,
                Some(patient),
                "session portal-ended",
                Outcome::Denied,
                |_| Box::pin(async { Ok(()) }),
            )
            .await?;
            return Err(ServiceError::Stopped(Stopped::PortalEnded));
        }
        let token = SessionToken(format!(
            "s1.{}",
            hex(&fortrolig_vault::random_bytes::<32>()?)
        ));
        let csrf = hex(&fortrolig_vault::random_bytes::<24>()?);
        let now = self.clock.now().as_micros();
        let token_hash = token.hash();
        let id_token = match id_token {
            Some(jwt) => Some(self.subject_key(subject).await?.seal(
                &id_token_aad(self.org().as_str(), &token_hash),
                jwt.as_bytes(),
            )?),
            None => None,
        };
        let row = SessionRow {
            token_hash,
            subject_kind: subject.kind().into(),
            subject_id: subject.id_bytes().to_vec(),
            level: level.as_str().into(),
            provider: provider.into(),
            provider_sid: provider_sid.map(str::to_owned),
            csrf_token: csrf.into_bytes(),
            created_at: now,
            last_seen: now,
            expires_at: now + ABSOLUTE_LIMIT_MICROS,
            ended_at: None,
            end_reason: None,
            id_token,
        };
        let ctx = self.subject_context(
            subject,
            source,
            &format!("innlogging via {provider}, nivå {}", level.as_str()),
        );
        let patient = subject.patient();
        let stored = row.clone();
        self.write(
            &ctx,
            Action::SessionStarted,
            patient,
            "session",
            move |tx| Box::pin(async move { tx.insert_session(&stored).await }),
        )
        .await?;
        Ok((token, session_of(row)?))
    }

    /// The session a token names, if it is open and within both limits; moves its idle
    /// clock forward (in the store at most once per `TOUCH_INTERVAL_MICROS`). The
    /// session's `last_seen` is the stored one, which the idle limit is checked against.
    pub async fn session(
        &self,
        token: &SessionToken,
    ) -> Result<Result<Session, SessionProblem>, ServiceError> {
        let row = self.store.session(&token.hash()).await?;
        self.checked_session(row).await
    }

    /// The session a token names, as `session` does, and one of its patient's threads
    /// read in the same statement, for a request about that thread (a patient's
    /// message: one read fewer on the busiest write).
    pub async fn session_and_thread(
        &self,
        token: &SessionToken,
        thread: ThreadId,
    ) -> Result<(Result<Session, SessionProblem>, ThreadReadAhead), ServiceError> {
        let (session, row) = match self
            .store
            .session_and_thread(&token.hash(), thread.as_bytes())
            .await?
        {
            Some((session, row)) => (Some(session), row),
            None => (None, None),
        };
        let session = self.checked_session(session).await?;
        Ok((session, ThreadReadAhead { row }))
    }

    async fn checked_session(
        &self,
        row: Option<SessionRow>,
    ) -> Result<Result<Session, SessionProblem>, ServiceError> {
        let Some(row) = row else {
            return Ok(Err(SessionProblem::Unknown));
        };
        if row.ended_at.is_some() {
            return Ok(Err(SessionProblem::Ended));
        }
        let now = self.clock.now().as_micros();
        if now >= row.expires_at || now - row.last_seen >= IDLE_LIMIT_MICROS {
            self.store
                .end_session(&row.token_hash, "expired", now)
                .await?;
            return Ok(Err(SessionProblem::Expired));
        }
        let last_seen = if now - row.last_seen >= TOUCH_INTERVAL_MICROS {
            self.store.touch_session(&row.token_hash, now).await?;
            now
        } else {
            row.last_seen
        };
        let mut session = session_of(row)?;
        session.last_seen = Timestamp(last_seen);
        Ok(Ok(session))
    }

    /// Logs out: ends the session and records it.
    pub async fn end_session(
        &self,
        session: &Session,
        source: &Source,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now().as_micros();
        let ctx = self.subject_context(session.subject, source, "utlogging");
        // Ending and recording are one transaction; a session that had already ended
        // (a race with expiry) makes the transaction roll back, unrecorded.
        let token_hash = session.token_hash.clone();
        let ended = self
            .write(&ctx, Action::SessionEnded, None, "session", move |tx| {
                Box::pin(async move {
                    if tx.end_session(&token_hash, "logout", now).await? {
                        Ok(())
                    } else {
                        Err(StoreError::NotOpen)
                    }
                })
            })
            .await;
        match ended {
            Err(ServiceError::Store(StoreError::NotOpen)) => Ok(()),
            other => other,
        }
    }

    /// The provider's id_token of an open session, for `id_token_hint` when logging out
    /// at the provider. `None` if there is none, or if it can no longer be opened (the
    /// patient's key was shredded): logout at the provider then goes by `client_id` alone.
    pub async fn id_token_hint(&self, session: &Session) -> Result<Option<String>, ServiceError> {
        let Some(sealed) = &session.id_token else {
            return Ok(None);
        };
        let key = match self.subject_key(session.subject).await {
            Ok(key) => key,
            Err(ServiceError::Shredded) => return Ok(None),
            Err(e) => return Err(e),
        };
        let plain = key.open(
            &id_token_aad(self.org().as_str(), &session.token_hash),
            sealed,
        )?;
        Ok(String::from_utf8(plain).ok())
    }

    /// Ends one of the caller's own sessions, named by its `reference()` (from "your
    /// sessions"). The change and its audit entry are one transaction (X3).
    pub async fn end_own_session(
        &self,
        current: &Session,
        reference: &str,
        source: &Source,
    ) -> Result<EndOwn, ServiceError> {
        let Some(target) = self
            .sessions_of(current.subject)
            .await?
            .into_iter()
            .find(|s| s.reference() == reference)
        else {
            return Ok(EndOwn::NotFound);
        };
        let now = self.clock.now().as_micros();
        let ctx = self.subject_context(
            current.subject,
            source,
            "avsluttet en økt fra øktoversikten",
        );
        let token_hash = target.token_hash.clone();
        let ended = self
            .write(
                &ctx,
                Action::SessionEnded,
                current.subject.patient(),
                &target.reference(),
                move |tx| {
                    Box::pin(async move {
                        if tx
                            .end_session(&token_hash, "ended by its owner", now)
                            .await?
                        {
                            Ok(())
                        } else {
                            Err(StoreError::NotOpen)
                        }
                    })
                },
            )
            .await;
        match ended {
            Ok(()) => Ok(EndOwn::Ended),
            // Expired or logged out in the meantime: nothing to end, nothing recorded.
            Err(ServiceError::Store(StoreError::NotOpen)) => Ok(EndOwn::NotFound),
            Err(e) => Err(e),
        }
    }

    /// "Log out everywhere": ends every open session of the caller's subject, recorded in
    /// the same transaction (X3). Returns how many were ended.
    pub async fn end_all_own_sessions(
        &self,
        current: &Session,
        source: &Source,
    ) -> Result<u64, ServiceError> {
        let now = self.clock.now().as_micros();
        let subject = current.subject;
        let ctx = self.subject_context(subject, source, "utlogging overalt");
        self.write(
            &ctx,
            Action::SessionEnded,
            subject.patient(),
            "session:alle",
            move |tx| {
                Box::pin(async move {
                    tx.end_sessions_of(subject.kind(), subject.id_bytes(), "logout everywhere", now)
                        .await
                })
            },
        )
        .await
    }

    /// The open sessions of a subject, for "your sessions" and "log out everywhere".
    pub async fn sessions_of(&self, subject: SessionSubject) -> Result<Vec<Session>, ServiceError> {
        self.store
            .sessions_of(subject.kind(), subject.id_bytes())
            .await?
            .into_iter()
            .map(session_of)
            .collect()
    }

    /// Whether `session` is still open and within its limits, without moving its idle
    /// clock: a live stream checks this, and listening is not activity.
    pub async fn session_still_open(&self, session: &Session) -> Result<bool, ServiceError> {
        let now = self.clock.now().as_micros();
        Ok(self.sessions_of(session.subject).await?.iter().any(|s| {
            s.same_as(session)
                && now < s.expires_at.as_micros()
                && now - s.last_seen.as_micros() < IDLE_LIMIT_MICROS
        }))
    }

    /// Ends every open session of a subject at once (logout everywhere; a person who leaves).
    pub async fn end_all_sessions(
        &self,
        subject: SessionSubject,
        reason: &str,
    ) -> Result<u64, ServiceError> {
        let now = self.clock.now().as_micros();
        Ok(self
            .store
            .end_sessions_of(subject.kind(), subject.id_bytes(), reason, now)
            .await?)
    }

    /// Whether logins for `account` (or from `address`) are locked out now.
    pub async fn locked_out(&self, account: &str, address: &str) -> Result<bool, ServiceError> {
        let since = self.clock.now().as_micros() - FAILURE_WINDOW_MICROS;
        let by_account = self
            .store
            .login_failures_since(&failure_key("account", account), since)
            .await?;
        let by_address = self
            .store
            .login_failures_since(&failure_key("address", address), since)
            .await?;
        Ok(by_account >= MAX_FAILURES || by_address >= MAX_FAILURES * 10)
    }

    /// Records a failed login as a security event (X3); says whether it now locks out.
    pub async fn login_failed(
        &self,
        account: &str,
        source: &Source,
        why: &str,
    ) -> Result<bool, ServiceError> {
        let now = self.clock.now().as_micros();
        let address = source.address.clone().unwrap_or_default();
        self.store
            .record_login_failure(&failure_key("account", account), now)
            .await?;
        self.store
            .record_login_failure(&failure_key("address", &address), now)
            .await?;
        let ctx = ActContext {
            actor: Actor {
                id: "unknown".into(),
                role: "none".into(),
                clinic: self.org().clone(),
                hpr: None,
            },
            source: source.clone(),
            reason: format!("mislykket innlogging: {why}"),
        };
        self.write_outcome(
            &ctx,
            Action::LoginFailed,
            None,
            "login",
            Outcome::Denied,
            |_| Box::pin(async { Ok(()) }),
        )
        .await?;
        self.locked_out(account, &address).await
    }

    /// After a successful login the account's failure count starts again.
    pub async fn login_succeeded(&self, account: &str) -> Result<(), ServiceError> {
        Ok(self
            .store
            .clear_login_failures(&failure_key("account", account))
            .await?)
    }
}
