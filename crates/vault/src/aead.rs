//! AES-256-GCM with a key id and associated data.
//!
//! Layout of a sealed value: `0x01 | key id (16) | nonce (12) | ciphertext | tag (16)`.
//! Nonces are random: every data key belongs to one patient, so the number of values per
//! key stays far below the 2^32 that random 96-bit nonces allow.

use ring::aead::{AES_256_GCM, Aad as RingAad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use crate::error::VaultError;
use crate::keys::KeyId;

const FORMAT_V1: u8 = 1;
const HEADER_LEN: usize = 1 + 16 + NONCE_LEN;
const TAG_LEN: usize = 16;

/// Associated data: binds a ciphertext to the clinic, table, row and column it belongs
/// to, so a value copied elsewhere does not decrypt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Aad(Vec<u8>);

impl Aad {
    pub fn new(clinic: &str, table: &str, row: &[u8], column: &str) -> Self {
        let mut out = Vec::with_capacity(32 + clinic.len() + table.len() + row.len());
        out.extend_from_slice(b"fortrolig/aad/v1");
        for part in [clinic.as_bytes(), table.as_bytes(), row, column.as_bytes()] {
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part);
        }
        Self(out)
    }
}

fn key(secret: &[u8; 32]) -> Result<LessSafeKey, VaultError> {
    UnboundKey::new(&AES_256_GCM, secret)
        .map(LessSafeKey::new)
        .map_err(|_| VaultError::Malformed)
}

fn full_aad(key_id: KeyId, aad: &Aad) -> Vec<u8> {
    let mut out = Vec::with_capacity(aad.0.len() + 17);
    out.push(FORMAT_V1);
    out.extend_from_slice(&key_id.0);
    out.extend_from_slice(&aad.0);
    out
}

pub fn seal(
    key_id: KeyId,
    secret: &[u8; 32],
    aad: &Aad,
    plaintext: &[u8],
) -> Result<Vec<u8>, VaultError> {
    let nonce_bytes = crate::random_bytes::<NONCE_LEN>()?;
    let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
    out.push(FORMAT_V1);
    out.extend_from_slice(&key_id.0);
    out.extend_from_slice(&nonce_bytes);
    let mut body = plaintext.to_vec();
    key(secret)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce_bytes),
            RingAad::from(full_aad(key_id, aad)),
            &mut body,
        )
        .map_err(|_| VaultError::Malformed)?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// The key id a sealed value names, without opening it.
pub fn key_id_of(sealed: &[u8]) -> Result<KeyId, VaultError> {
    if sealed.len() < HEADER_LEN + TAG_LEN || sealed[0] != FORMAT_V1 {
        return Err(VaultError::Malformed);
    }
    let mut id = [0u8; 16];
    id.copy_from_slice(&sealed[1..17]);
    Ok(KeyId(id))
}

pub fn open(
    key_id: KeyId,
    secret: &[u8; 32],
    aad: &Aad,
    sealed: &[u8],
) -> Result<Vec<u8>, VaultError> {
    let found = key_id_of(sealed)?;
    if found != key_id {
        return Err(VaultError::WrongKey {
            expected: key_id.to_string(),
            found: found.to_string(),
        });
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&sealed[17..HEADER_LEN]);
    let mut body = sealed[HEADER_LEN..].to_vec();
    let plain_len = key(secret)?
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            RingAad::from(full_aad(key_id, aad)),
            &mut body,
        )
        .map_err(|_| VaultError::Decrypt)?
        .len();
    body.truncate(plain_len);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: [u8; 32] = [7; 32];
    const ID: KeyId = KeyId([3; 16]);

    fn aad() -> Aad {
        Aad::new("974760673", "patients", b"row-1", "name")
    }

    #[test]
    fn seal_then_open_returns_plaintext_x6() -> Result<(), VaultError> {
        let sealed = seal(ID, &K, &aad(), b"Kari Nordmann")?;
        assert!(!sealed.windows(4).any(|w| w == b"Kari"));
        assert_eq!(open(ID, &K, &aad(), &sealed)?, b"Kari Nordmann");
        Ok(())
    }

    #[test]
    fn ciphertext_moved_to_another_row_table_or_clinic_does_not_open_x6() -> Result<(), VaultError>
    {
        let sealed = seal(ID, &K, &aad(), b"secret")?;
        for other in [
            Aad::new("974760673", "patients", b"row-2", "name"),
            Aad::new("974760673", "messages", b"row-1", "name"),
            Aad::new("991825827", "patients", b"row-1", "name"),
            Aad::new("974760673", "patients", b"row-1", "phone"),
        ] {
            assert!(matches!(
                open(ID, &K, &other, &sealed),
                Err(VaultError::Decrypt)
            ));
        }
        Ok(())
    }

    #[test]
    fn wrong_key_id_and_tampering_are_refused() -> Result<(), VaultError> {
        let mut sealed = seal(ID, &K, &aad(), b"secret")?;
        assert!(matches!(
            open(KeyId([4; 16]), &K, &aad(), &sealed),
            Err(VaultError::WrongKey { .. })
        ));
        assert!(matches!(
            open(ID, &[8; 32], &aad(), &sealed),
            Err(VaultError::Decrypt)
        ));
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(matches!(
            open(ID, &K, &aad(), &sealed),
            Err(VaultError::Decrypt)
        ));
        assert!(matches!(
            open(ID, &K, &aad(), &sealed[..10]),
            Err(VaultError::Malformed)
        ));
        Ok(())
    }
}
