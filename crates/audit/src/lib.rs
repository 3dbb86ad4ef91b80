#![doc = include_str!("../README.md")]

mod entry;
mod merkle;
mod tree_head;
mod verify;

pub use entry::{EntryFields, LogEntry};
pub use merkle::{
    Frontier, Hash, inclusion_proof, inclusion_proofs, leaf_hash, node_hash, root_of,
    verify_inclusion,
};
pub use tree_head::{CHECKPOINT_INTERVAL, SignedTreeHead, TreeHead};
pub use verify::{Fault, LogVerifier, Verified};
