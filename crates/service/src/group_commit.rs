//! Group commit: the audited writes that reach one clinic at the same time share one
//! transaction, one signed tree head, one commit and one anchor update (X3, X7).
//!
//! A durable commit costs an fsync, and signing a head and moving the anchor cost about
//! as much again; one at a time they cap a clinic at a few hundred writes a second
//! whatever the load. Here a writer queues its act and waits. The first writer to find
//! the queue idle starts a task that takes whatever is queued (at most `MAX_BATCH`),
//! writes it as one transaction and answers each writer after the commit, then takes
//! what queued up meanwhile, until the queue is empty. A lone write still goes at once;
//! under load, the writes that arrive during one commit go together in the next.
//!
//! The batch runs in a task of its own rather than in one of the waiting callers, so a
//! caller that goes away (a browser that disconnects) cannot take its neighbours'
//! writes with it.
//!
//! Each act runs between `SAVEPOINT` and `RELEASE`: an act whose change fails is rolled
//! back to its savepoint and gets its own error, with no audit entry, as when it was a
//! transaction of its own; its neighbours never see what it did. An act that succeeds
//! gets the next entry number and its own root after it; the entries, the frontier and
//! the signed heads are written once, at the end (the entries in one statement per 64).
//! Nobody is answered before the commit, so every acknowledged write is durable. If the
//! transaction, the entries or the commit fail, nothing of the batch is written and
//! every act in it gets an error; if the anchor fails after the commit, the acts are
//! reported as failed though committed, as they were before group commit.

use std::any::Any;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError};

use fortrolig_audit::{CHECKPOINT_INTERVAL, Hash, LogEntry, SignedTreeHead, TreeHead, leaf_hash};
use fortrolig_domain::{Action, AuditEvent, Clock, Outcome, PatientId, Timestamp};
use fortrolig_store::{ActEnd, ClinicStore, ClinicTx, KeyRing, StoreError};
use tokio::sync::{Mutex, RwLock, oneshot};

use crate::clinic::{ActContext, BoxFuture};
use crate::error::ServiceError;
use crate::keys::ClinicKeys;

/// At most this many acts in one transaction: enough to fill a commit under any load
/// this server sees, few enough that one batch does not hold the clinic for long.
pub(crate) const MAX_BATCH: usize = 128;

/// What a change hands back, with its type erased so that acts of any type can queue
/// together; `Clinic::write_outcome` restores the type.
pub(crate) type Erased = Box<dyn Any + Send>;

/// A change to run in the batch's transaction.
pub(crate) type Change =
    Box<dyn for<'t> FnOnce(&'t mut ClinicTx) -> BoxFuture<'t, Result<Erased, StoreError>> + Send>;

/// Wraps a typed change as a `Change`.
pub(crate) fn erase<T, F>(change: F) -> Change
where
    T: Send + 'static,
    F: for<'t> FnOnce(&'t mut ClinicTx) -> BoxFuture<'t, Result<T, StoreError>> + Send + 'static,
{
    Box::new(
        move |tx: &mut ClinicTx| -> BoxFuture<'_, Result<Erased, StoreError>> {
            let run = change(tx);
            Box::pin(async move { run.await.map(|value| Box::new(value) as Erased) })
        },
    )
}

/// One audited act: what the entry records and the change it records.
pub(crate) struct Act {
    pub ctx: ActContext,
    pub action: Action,
    pub patient: Option<PatientId>,
    pub object: String,
    pub outcome: Outcome,
    pub change: Change,
}

impl Act {
    fn event(&self) -> AuditEvent {
        AuditEvent {
            actor: self.ctx.actor.clone(),
            patient: self.patient,
            action: self.action,
            object: self.object.clone(),
            reason: self.ctx.reason.clone(),
            outcome: self.outcome,
            source: self.ctx.source.clone(),
        }
    }
}

type Answer = Result<Erased, ServiceError>;

struct Queued {
    act: Act,
    answer: oneshot::Sender<Answer>,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Queued>,
    /// A task is writing batches; it will also take what is queued now.
    running: bool,
}

/// One clinic's group commit. It shares the clinic's keys and its `writer` mutex with
/// the `Clinic` handle: each batch holds the mutex, so key rotation, shredding, patient
/// registration and backups, which take it too, never run in the middle of a batch.
pub(crate) struct GroupCommit {
    store: ClinicStore,
    keyring: KeyRing,
    clock: Arc<dyn Clock>,
    keys: Arc<RwLock<ClinicKeys>>,
    writer: Arc<Mutex<()>>,
    queue: std::sync::Mutex<Queue>,
    /// Acts committed and the transactions they took, since this handle was opened.
    acts: AtomicU64,
    commits: AtomicU64,
    /// Writers inside `submit`: queued, or in a batch that has not answered them yet.
    unanswered: AtomicUsize,
}

/// What group commit has done on one clinic handle (for tests and benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    /// Audited acts committed (each with its own audit entry).
    pub acts: u64,
    /// Transactions committed for them: one signed tree head and one anchor update each.
    pub commits: u64,
    /// Acts submitted whose writers have not had their answer yet: queued, or in a
    /// batch that has not committed. (Counting only the queue would miss the acts a
    /// batch has already taken while it waits for the writer lock.)
    pub waiting: usize,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("GroupCommit")
            .field("org", self.store.org())
            .field("waiting", &queue.waiting.len())
            .field("running", &queue.running)
            .finish_non_exhaustive()
    }
}

/// Clears the queue if the batch task ends without emptying it (a panic, or the runtime
/// shutting down): the waiting writers then get `WriterStopped` rather than waiting
/// forever, and the next write starts a new task.
struct StopGuard<'a> {
    group: &'a GroupCommit,
    armed: bool,
}

impl Drop for StopGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut queue = self
                .group
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            queue.running = false;
            queue.waiting.clear();
        }
    }
}

/// Counts one writer in `submit` until it returns or its caller goes away.
struct Unanswered<'a>(&'a AtomicUsize);

impl<'a> Unanswered<'a> {
    fn count(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter)
    }
}

impl Drop for Unanswered<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The signed head for a tree of `size` entries with `root`.
pub(crate) fn sign_head(
    org: &str,
    keys: &ClinicKeys,
    size: u64,
    root: Hash,
    now: Timestamp,
) -> SignedTreeHead {
    TreeHead {
        clinic: org.to_owned(),
        size,
        root,
        signed_at: now.as_micros(),
    }
    .sign(keys.signing_version, &keys.signing)
}

impl GroupCommit {
    pub(crate) fn new(
        store: ClinicStore,
        keyring: KeyRing,
        clock: Arc<dyn Clock>,
        keys: Arc<RwLock<ClinicKeys>>,
        writer: Arc<Mutex<()>>,
    ) -> Self {
        Self {
            store,
            keyring,
            clock,
            keys,
            writer,
            queue: std::sync::Mutex::new(Queue::default()),
            acts: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            unanswered: AtomicUsize::new(0),
        }
    }

    pub(crate) fn stats(&self) -> WriteStats {
        WriteStats {
            acts: self.acts.load(Ordering::Relaxed),
            commits: self.commits.load(Ordering::Relaxed),
            waiting: self.unanswered.load(Ordering::Relaxed),
        }
    }

    /// Queues `act` and waits until it is committed (or refused).
    pub(crate) async fn submit(self: &Arc<Self>, act: Act) -> Answer {
        let (answer, answered) = oneshot::channel();
        let _counted = Unanswered::count(&self.unanswered);
        let start = {
            let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            queue.waiting.push_back(Queued { act, answer });
            !std::mem::replace(&mut queue.running, true)
        };
        if start {
            tokio::spawn(Arc::clone(self).run());
        }
        answered.await.map_err(|_| ServiceError::WriterStopped)?
    }

    async fn run(self: Arc<Self>) {
        let mut guard = StopGuard {
            group: &self,
            armed: true,
        };
        while let Some(batch) = self.next_batch() {
            self.commit(batch).await;
        }
        // `next_batch` marked the queue idle under its lock; a new task may already be
        // running, so the guard must not touch the queue.
        guard.armed = false;
    }

    /// Up to `MAX_BATCH` queued acts, or `None` (and the queue marked idle) if none.
    fn next_batch(&self) -> Option<Vec<Queued>> {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.waiting.is_empty() {
            queue.running = false;
            return None;
        }
        let n = queue.waiting.len().min(MAX_BATCH);
        Some(queue.waiting.drain(..n).collect())
    }

    /// Writes one batch and answers every act in it.
    async fn commit(&self, batch: Vec<Queued>) {
        let (acts, answers): (Vec<Act>, Vec<oneshot::Sender<Answer>>) =
            batch.into_iter().map(|q| (q.act, q.answer)).unzip();
        let mut results = Vec::with_capacity(acts.len());
        let failed = {
            let _writer = self.writer.lock().await;
            let keys = self.keys.read().await;
            self.write(&keys, acts, &mut results).await.err()
        };
        let mut results = results.into_iter();
        let mut answers = answers.into_iter();
        let failed = match failed {
            // A batch of one: its writer gets the error itself, as before group commit.
            Some(failure) if answers.len() == 1 => {
                if let Some(answer) = answers.next() {
                    let reply = match results.next() {
                        Some(Err(own)) => Err(own),
                        _ => Err(failure),
                    };
                    let _ = answer.send(reply);
                }
                return;
            }
            failed => failed.map(Arc::new),
        };
        for answer in answers {
            let reply = match (results.next(), &failed) {
                // An act whose own change failed left nothing behind either way.
                (Some(Err(own)), _) => Err(own),
                (Some(Ok(value)), None) => Ok(value),
                (_, Some(failure)) => Err(ServiceError::Batch(Arc::clone(failure))),
                // `write` answers every act when it succeeds; this cannot happen.
                (None, None) => Err(ServiceError::WriterStopped),
            };
            // A writer that stopped waiting does not change what was written.
            let _ = answer.send(reply);
        }
    }

    /// The batch's transaction. `results` gets one answer per act, in order, for the
    /// acts reached; an `Err` return means nothing was committed.
    async fn write(
        &self,
        keys: &ClinicKeys,
        acts: Vec<Act>,
        results: &mut Vec<Answer>,
    ) -> Result<(), ServiceError> {
        // A batch of one needs no savepoint: if its change fails, the whole
        // transaction is dropped (rolled back), as it always was.
        let savepoints = acts.len() > 1;
        let org = self.store.org().as_str();
        let mut tx = self.store.begin().await?;
        let mut frontier = tx.frontier().await?;
        let first = frontier.size();
        // The entries are inserted together at the end, in as few statements as
        // possible; no change reads the log inside a transaction.
        let mut entries = Vec::with_capacity(acts.len());
        let mut checkpoints = Vec::new();
        let mut ended = None;
        for act in acts {
            if savepoints {
                tx.act_savepoint(ended.take(), true).await?;
            }
            let event = act.event();
            match (act.change)(&mut tx).await {
                Err(e) => {
                    ended = Some(ActEnd::Undo);
                    results.push(Err(e.into()));
                }
                Ok(value) => {
                    ended = Some(ActEnd::Keep);
                    let now = self.clock.now();
                    let entry = LogEntry::new(frontier.size() + 1, now, &event);
                    frontier.push(leaf_hash(&entry.encode()));
                    let after = frontier.root();
                    // A checkpoint stays exactly at every CHECKPOINT_INTERVAL-th entry,
                    // wherever the batch ends.
                    if entry.seq.is_multiple_of(CHECKPOINT_INTERVAL) {
                        checkpoints.push(sign_head(org, keys, entry.seq, after, now));
                    }
                    entries.push((entry, after));
                    results.push(Ok(value));
                }
            }
        }
        if savepoints {
            tx.act_savepoint(ended, false).await?;
        }
        let Some(&(_, root)) = entries.last() else {
            // Every change failed: nothing to record; dropping `tx` rolls it back.
            return Ok(());
        };
        tx.insert_entries(&entries).await?;
        let latest = sign_head(org, keys, frontier.size(), root, self.clock.now());
        let checkpoints: Vec<&SignedTreeHead> = checkpoints.iter().collect();
        tx.write_log_state(&frontier, &latest, &checkpoints).await?;
        tx.commit().await?;
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.acts
            .fetch_add(frontier.size() - first, Ordering::Relaxed);
        self.keyring.set_anchor(org, &latest, false).await?;
        Ok(())
    }
}
