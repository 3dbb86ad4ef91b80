//! The key hierarchy: master key → clinic key (per version) → patient data key →
//! conversation key.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::aead::{Aad, open, seal};
use crate::error::VaultError;

/// Names the key a ciphertext was sealed with, so that the right key is found and a wrong
/// one is refused before trying to decrypt. The id itself is no secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub [u8; 16]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// A 256-bit symmetric key that is wiped from memory when dropped.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct SecretKey(pub(crate) [u8; 32]);

impl SecretKey {
    pub(crate) fn random() -> Result<Self, VaultError> {
        Ok(Self(crate::random_bytes::<32>()?))
    }
}

/// A key as stored: sealed under the key one level up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wrapped(pub Vec<u8>);

macro_rules! symmetric_key {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone)]
        pub struct $name {
            id: KeyId,
            secret: SecretKey,
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.id)
            }
        }

        impl $name {
            pub fn generate(id: KeyId) -> Result<Self, VaultError> {
                Ok(Self {
                    id,
                    secret: SecretKey::random()?,
                })
            }

            pub fn id(&self) -> KeyId {
                self.id
            }

            pub(crate) fn secret(&self) -> &[u8; 32] {
                &self.secret.0
            }

            /// Seals this key under `kek`, bound to `context` (who owns the key).
            pub fn wrap_under(
                &self,
                kek_id: KeyId,
                kek: &[u8; 32],
                context: &Aad,
            ) -> Result<Wrapped, VaultError> {
                seal(kek_id, kek, context, &self.secret.0).map(Wrapped)
            }

            pub fn unwrap_from(
                id: KeyId,
                wrapped: &Wrapped,
                kek_id: KeyId,
                kek: &[u8; 32],
                context: &Aad,
            ) -> Result<Self, VaultError> {
                let mut bytes = open(kek_id, kek, context, &wrapped.0)?;
                let secret: Result<[u8; 32], _> = bytes.as_slice().try_into();
                bytes.zeroize();
                Ok(Self {
                    id,
                    secret: SecretKey(secret.map_err(|_| VaultError::Malformed)?),
                })
            }

            /// Seals a data key under this one: a patient's under the clinic key, a
            /// conversation's under its patient's.
            pub fn wrap(&self, key: &DataKey, context: &Aad) -> Result<Wrapped, VaultError> {
                key.wrap_under(self.id, self.secret(), context)
            }

            pub fn unwrap(
                &self,
                id: KeyId,
                wrapped: &Wrapped,
                context: &Aad,
            ) -> Result<DataKey, VaultError> {
                DataKey::unwrap_from(id, wrapped, self.id, self.secret(), context)
            }
        }
    };
}

symmetric_key!(
    ClinicKey,
    "One clinic's key-encrypting key (a version of it). It never encrypts content."
);
symmetric_key!(
    DataKey,
    "A content key: one patient's, or one conversation's (wrapped by its patient's). \
     Destroying every wrapped copy shreds what it sealed."
);

impl DataKey {
    pub fn seal(&self, aad: &Aad, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        seal(self.id, self.secret(), aad, plaintext)
    }

    pub fn open(&self, aad: &Aad, ciphertext: &[u8]) -> Result<Vec<u8>, VaultError> {
        open(self.id, self.secret(), aad, ciphertext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_key_wrapped_under_clinic_key_round_trips() -> Result<(), VaultError> {
        let clinic = ClinicKey::generate(KeyId([1; 16]))?;
        let data = DataKey::generate(KeyId([2; 16]))?;
        let ctx = Aad::new("974760673", "patient_keys", b"p1", "key");
        let wrapped = clinic.wrap(&data, &ctx)?;
        let back = clinic.unwrap(data.id(), &wrapped, &ctx)?;
        assert_eq!(back.secret(), data.secret());
        let other = Aad::new("974760673", "patient_keys", b"p2", "key");
        assert!(clinic.unwrap(data.id(), &wrapped, &other).is_err());
        Ok(())
    }

    #[test]
    fn a_conversation_key_wrapped_under_its_patients_key_round_trips() -> Result<(), VaultError> {
        let patient = DataKey::generate(KeyId([2; 16]))?;
        let thread = DataKey::generate(KeyId([3; 16]))?;
        let ctx = Aad::new("974760673", "thread_keys", b"t1", "key");
        let wrapped = patient.wrap(&thread, &ctx)?;
        assert_eq!(
            patient.unwrap(thread.id(), &wrapped, &ctx)?.secret(),
            thread.secret()
        );
        let other_patient = DataKey::generate(KeyId([2; 16]))?;
        assert!(other_patient.unwrap(thread.id(), &wrapped, &ctx).is_err());
        Ok(())
    }

    #[test]
    fn debug_shows_key_id_only() -> Result<(), VaultError> {
        let key = DataKey::generate(KeyId([0xab; 16]))?;
        assert_eq!(format!("{key:?}"), "DataKey(abababababababab)");
        Ok(())
    }
}
