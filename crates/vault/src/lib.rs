#![doc = include_str!("../README.md")]

mod aead;
mod blind;
mod error;
mod keys;
mod master;
mod signing;

pub use aead::{Aad, open, seal};
pub use blind::BlindIndexKey;
pub use error::VaultError;
pub use keys::{ClinicKey, DataKey, KeyId, Wrapped};
pub use master::MasterKey;
pub use signing::{SigningKey, verify_signature};

/// Fills `out` from the operating system's random source.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], VaultError> {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| VaultError::Random)?;
    Ok(out)
}
