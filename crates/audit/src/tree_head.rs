//! Signed tree heads: a clinic's statement "my log had `size` entries with this `root`".

use fortrolig_vault::{SigningKey, VaultError, verify_signature};

use crate::merkle::Hash;

/// A signed checkpoint is kept every this many entries; the latest head is kept always.
pub const CHECKPOINT_INTERVAL: u64 = 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeHead {
    pub clinic: String,
    pub size: u64,
    pub root: Hash,
    /// Microseconds since the epoch.
    pub signed_at: i64,
}

impl TreeHead {
    /// The exact bytes that are signed.
    pub fn message(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(80 + self.clinic.len());
        out.extend_from_slice(b"fortrolig/tree-head/v1");
        out.extend_from_slice(&(self.clinic.len() as u32).to_be_bytes());
        out.extend_from_slice(self.clinic.as_bytes());
        out.extend_from_slice(&self.size.to_be_bytes());
        out.extend_from_slice(&self.root);
        out.extend_from_slice(&self.signed_at.to_be_bytes());
        out
    }

    pub fn sign(self, key_version: u32, key: &SigningKey) -> SignedTreeHead {
        let signature = key.sign(&self.message()).to_vec();
        SignedTreeHead {
            head: self,
            key_version,
            signature,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedTreeHead {
    pub head: TreeHead,
    pub key_version: u32,
    pub signature: Vec<u8>,
}

impl SignedTreeHead {
    pub fn verify(&self, public_key: &[u8]) -> Result<(), VaultError> {
        verify_signature(public_key, &self.head.message(), &self.signature)
    }
}
