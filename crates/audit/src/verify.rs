//! Streaming verification of a clinic's log against its signed tree heads.

use std::collections::HashMap;

use crate::entry::LogEntry;
use crate::merkle::{Frontier, Hash, leaf_hash};
use crate::tree_head::SignedTreeHead;

/// What is wrong with a log, naming the first entry that can no longer be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    #[error("tree head for size {size} has an invalid signature")]
    BadSignature { size: u64 },
    #[error(
        "tree head for size {size} names signing key version {version}, which the key ring does not have"
    )]
    UnknownKey { size: u64, version: u32 },
    #[error("entry #{expected} is missing or out of order (found #{found} in its place)")]
    OutOfSequence { expected: u64, found: u64 },
    #[error("entry #{seq} has been changed (its hash no longer matches the tree)")]
    EntryChanged { seq: u64 },
    #[error(
        "entries #{first} to #{last} were rewritten: the signed tree head for size {last} does not match"
    )]
    Rewritten { first: u64, last: u64 },
    #[error("log truncated: a signed tree head covers {signed} entries but only {found} remain; entry #{} is the first missing", found + 1)]
    Truncated { signed: u64, found: u64 },
    #[error(
        "entry #{first} and later are not covered by any signed tree head (inserted after the fact)"
    )]
    Unsigned { first: u64 },
    #[error("the audit state of the log is malformed")]
    MalformedState,
}

impl Fault {
    /// The sequence number of the first bad entry, where one can be named.
    pub fn first_bad_seq(&self) -> Option<u64> {
        match *self {
            Fault::OutOfSequence { expected, .. } => Some(expected),
            Fault::EntryChanged { seq } => Some(seq),
            Fault::Rewritten { first, .. } => Some(first),
            Fault::Truncated { found, .. } => Some(found + 1),
            Fault::Unsigned { first } => Some(first),
            Fault::BadSignature { .. } | Fault::UnknownKey { .. } | Fault::MalformedState => None,
        }
    }
}

/// A log that verified: its size and root, and how many signed heads vouched for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub size: u64,
    pub root: [u8; 32],
    pub heads_checked: usize,
}

/// Streams a log against its signed heads. Each entry costs one leaf hash and, amortised,
/// one node hash; the root is computed only where a signed head stands. When a head does
/// not match, the entries since the last good head are replayed against their stored
/// roots to name the first changed one.
#[derive(Debug)]
pub struct LogVerifier {
    heads: Vec<SignedTreeHead>,
    next_head: usize,
    frontier: Frontier,
    /// The frontier at the last head that matched, and what came after it.
    trusted: Frontier,
    /// (seq, leaf, stored root); a stored root of the wrong length is kept as `None`,
    /// which matches nothing.
    pending: Vec<(u64, Hash, Option<Hash>)>,
}

impl LogVerifier {
    /// Checks every head's signature first; the entries are then fed in order of `seq`.
    pub fn new(
        public_keys: &HashMap<u32, Vec<u8>>,
        mut heads: Vec<SignedTreeHead>,
    ) -> Result<Self, Fault> {
        for head in &heads {
            let key = public_keys
                .get(&head.key_version)
                .ok_or(Fault::UnknownKey {
                    size: head.head.size,
                    version: head.key_version,
                })?;
            head.verify(key).map_err(|_| Fault::BadSignature {
                size: head.head.size,
            })?;
        }
        heads.retain(|h| h.head.size > 0);
        heads.sort_by_key(|h| h.head.size);
        Ok(Self {
            heads,
            next_head: 0,
            frontier: Frontier::default(),
            trusted: Frontier::default(),
            pending: Vec::with_capacity(1024),
        })
    }

    pub fn push(&mut self, entry: &LogEntry, stored_root_after: &[u8]) -> Result<(), Fault> {
        self.push_leaf(entry.seq, leaf_hash(&entry.encode()), stored_root_after)
    }

    /// `push` for a reader that hashed the entry itself (see `EntryFields`).
    pub fn push_leaf(
        &mut self,
        seq: u64,
        leaf: Hash,
        stored_root_after: &[u8],
    ) -> Result<(), Fault> {
        let expected = self.frontier.size() + 1;
        if seq != expected {
            self.locate_changed()?;
            return Err(Fault::OutOfSequence {
                expected,
                found: seq,
            });
        }
        self.frontier.push(leaf);
        self.pending
            .push((seq, leaf, stored_root_after.try_into().ok()));
        let mut root = None;
        while let Some(head) = self.heads.get(self.next_head) {
            if head.head.size != seq {
                break;
            }
            let root = *root.get_or_insert_with(|| self.frontier.root());
            if head.head.root != root {
                self.locate_changed()?;
                return Err(Fault::Rewritten {
                    first: self.trusted.size() + 1,
                    last: seq,
                });
            }
            self.next_head += 1;
        }
        if root.is_some() {
            self.trusted = self.frontier.clone();
            self.pending.clear();
        }
        Ok(())
    }

    /// Replays the entries since the last good head against their stored roots.
    fn locate_changed(&self) -> Result<(), Fault> {
        let mut replay = self.trusted.clone();
        for (seq, leaf, stored) in &self.pending {
            replay.push(*leaf);
            if *stored != Some(replay.root()) {
                return Err(Fault::EntryChanged { seq: *seq });
            }
        }
        Ok(())
    }

    pub fn finish(self) -> Result<Verified, Fault> {
        let found = self.frontier.size();
        let signed = self.heads.last().map_or(0, |h| h.head.size);
        if signed != found {
            self.locate_changed()?;
        }
        if signed > found {
            return Err(Fault::Truncated { signed, found });
        }
        if found > signed {
            return Err(Fault::Unsigned { first: signed + 1 });
        }
        Ok(Verified {
            size: found,
            root: self.frontier.root(),
            heads_checked: self.heads.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use fortrolig_vault::SigningKey;

    use super::*;
    use crate::merkle::Frontier;
    use crate::tree_head::TreeHead;

    fn entry(seq: u64) -> LogEntry {
        LogEntry {
            seq,
            at: seq as i64 * 1000,
            actor_id: format!("staff-{}", seq % 3),
            actor_role: "lege".into(),
            actor_clinic: "974760673".into(),
            actor_hpr: None,
            patient: None,
            action: "patient.read".into(),
            object: format!("patient:{seq}"),
            reason: "behandling".into(),
            outcome: "granted".into(),
            source_session: None,
            source_address: None,
        }
    }

    /// A log of `n` entries with stored roots, a checkpoint every 4 and a latest head.
    fn log(n: u64, key: &SigningKey) -> (Vec<(LogEntry, Vec<u8>)>, Vec<SignedTreeHead>) {
        let mut frontier = Frontier::default();
        let mut rows = Vec::new();
        let mut heads = Vec::new();
        for seq in 1..=n {
            let e = entry(seq);
            frontier.push(leaf_hash(&e.encode()));
            rows.push((e, frontier.root().to_vec()));
            if seq % 4 == 0 || seq == n {
                let head = TreeHead {
                    clinic: "974760673".into(),
                    size: seq,
                    root: frontier.root(),
                    signed_at: 0,
                };
                heads.push(head.sign(1, key));
            }
        }
        (rows, heads)
    }

    fn run(
        rows: &[(LogEntry, Vec<u8>)],
        heads: Vec<SignedTreeHead>,
        key: &SigningKey,
    ) -> Result<Verified, Fault> {
        let keys = HashMap::from([(1, key.public_key().to_vec())]);
        let mut v = LogVerifier::new(&keys, heads)?;
        for (e, root) in rows {
            v.push(e, root)?;
        }
        v.finish()
    }

    fn key() -> Result<SigningKey, fortrolig_vault::VaultError> {
        SigningKey::from_seed([4; 32])
    }

    #[test]
    fn untouched_log_verifies_x3() -> Result<(), Box<dyn std::error::Error>> {
        let key = key()?;
        let (rows, heads) = log(10, &key);
        let verified = run(&rows, heads, &key)?;
        assert_eq!(verified.size, 10);
        Ok(())
    }

    #[test]
    fn changed_entry_is_named_x3() -> Result<(), Box<dyn std::error::Error>> {
        let key = key()?;
        let (mut rows, heads) = log(10, &key);
        rows[6].0.reason = "nysgjerrighet".into();
        assert_eq!(run(&rows, heads, &key), Err(Fault::EntryChanged { seq: 7 }));
        Ok(())
    }

    #[test]
    fn consistently_rewritten_entries_are_caught_by_the_signed_head_x3()
    -> Result<(), Box<dyn std::error::Error>> {
        let key = key()?;
        let (mut rows, heads) = log(10, &key);
        rows[5].0.reason = "skjult".into();
        let mut frontier = Frontier::default();
        for (e, root) in &mut rows {
            frontier.push(leaf_hash(&e.encode()));
            *root = frontier.root().to_vec();
        }
        assert_eq!(
            run(&rows, heads, &key),
            Err(Fault::Rewritten { first: 5, last: 8 })
        );
        Ok(())
    }

    #[test]
    fn deleted_reordered_inserted_and_truncated_entries_are_caught_x3()
    -> Result<(), Box<dyn std::error::Error>> {
        let key = key()?;
        let (rows, heads) = log(10, &key);

        let mut deleted = rows.clone();
        deleted.remove(3);
        assert_eq!(
            run(&deleted, heads.clone(), &key),
            Err(Fault::OutOfSequence {
                expected: 4,
                found: 5
            })
        );

        let mut reordered = rows.clone();
        reordered.swap(2, 3);
        assert_eq!(
            run(&reordered, heads.clone(), &key),
            Err(Fault::OutOfSequence {
                expected: 3,
                found: 4
            })
        );

        let mut inserted = rows.clone();
        let extra = entry(11);
        let mut f = Frontier::default();
        for (e, _) in &rows {
            f.push(leaf_hash(&e.encode()));
        }
        f.push(leaf_hash(&extra.encode()));
        inserted.push((extra, f.root().to_vec()));
        assert_eq!(
            run(&inserted, heads.clone(), &key),
            Err(Fault::Unsigned { first: 11 })
        );

        let truncated = rows[..7].to_vec();
        let fault = run(&truncated, heads.clone(), &key);
        assert_eq!(
            fault,
            Err(Fault::Truncated {
                signed: 10,
                found: 7
            })
        );
        assert_eq!(fault.err().and_then(|f| f.first_bad_seq()), Some(8));
        Ok(())
    }

    #[test]
    fn forged_tree_head_is_refused_x3() -> Result<(), Box<dyn std::error::Error>> {
        let key = key()?;
        let (rows, mut heads) = log(10, &key);
        heads[0].head.root[0] ^= 1;
        assert_eq!(
            run(&rows, heads, &key),
            Err(Fault::BadSignature { size: 4 })
        );
        Ok(())
    }
}
