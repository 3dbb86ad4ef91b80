//! Ed25519 keys that sign audit tree heads.

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

use crate::error::VaultError;
use crate::keys::SecretKey;

pub struct SigningKey {
    seed: SecretKey,
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey(public={:02x?})", &self.public_key()[..4])
    }
}

impl SigningKey {
    pub fn generate() -> Result<Self, VaultError> {
        Self::from_seed(crate::random_bytes::<32>()?)
    }

    pub fn from_seed(seed: [u8; 32]) -> Result<Self, VaultError> {
        let pair =
            Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| VaultError::SigningKey)?;
        Ok(Self {
            seed: SecretKey(seed),
            pair,
        })
    }

    pub fn seed(&self) -> [u8; 32] {
        self.seed.0
    }

    pub fn public_key(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.pair.public_key().as_ref());
        out
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let mut out = [0u8; 64];
        out.copy_from_slice(self.pair.sign(message).as_ref());
        out
    }
}

pub fn verify_signature(
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), VaultError> {
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(message, signature)
        .map_err(|_| VaultError::Signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_verifies_and_detects_change_x3() -> Result<(), VaultError> {
        let key = SigningKey::from_seed([9; 32])?;
        let sig = key.sign(b"tree head");
        verify_signature(&key.public_key(), b"tree head", &sig)?;
        assert!(verify_signature(&key.public_key(), b"tree heaD", &sig).is_err());
        Ok(())
    }
}
