//! Blind index: find a patient by identity number without decrypting any row.

use ring::hmac;

use crate::error::VaultError;
use crate::keys::SecretKey;

/// A clinic's HMAC-SHA-256 key for blind indexes. It is separate from the clinic key so
/// that rotating the clinic key does not force recomputing every index.
#[derive(Clone)]
pub struct BlindIndexKey(SecretKey);

impl std::fmt::Debug for BlindIndexKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlindIndexKey(<secret>)")
    }
}

impl BlindIndexKey {
    pub fn generate() -> Result<Self, VaultError> {
        Ok(Self(SecretKey::random()?))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(SecretKey(bytes))
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.0
    }

    /// The index of `value` in the namespace `purpose` (e.g. `"fnr"`): 16 bytes that
    /// reveal nothing without the key, and are equal exactly when the values are.
    pub fn index(&self, purpose: &str, value: &str) -> [u8; 16] {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.0.0);
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(&(purpose.len() as u32).to_be_bytes());
        ctx.update(purpose.as_bytes());
        ctx.update(value.as_bytes());
        let tag = ctx.sign();
        let mut out = [0u8; 16];
        out.copy_from_slice(&tag.as_ref()[..16]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blind_index_is_deterministic_per_key_and_purpose() {
        let a = BlindIndexKey::from_bytes([1; 32]);
        let b = BlindIndexKey::from_bytes([2; 32]);
        assert_eq!(a.index("fnr", "01017040088"), a.index("fnr", "01017040088"));
        assert_ne!(a.index("fnr", "01017040088"), a.index("fnr", "41017040071"));
        assert_ne!(a.index("fnr", "01017040088"), b.index("fnr", "01017040088"));
        assert_ne!(
            a.index("fnr", "01017040088"),
            a.index("phone", "01017040088")
        );
    }
}
