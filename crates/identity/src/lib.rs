#![doc = include_str!("../README.md")]

mod claims;
mod client_key;
mod error;
mod maskinporten;
mod passkey;
mod provider;

pub use claims::NorwayClaims;
pub use client_key::ClientKey;
pub use error::LoginError;
pub use maskinporten::{Maskinporten, MaskinportenConfig, MaskinportenError};
pub use passkey::{Enrolment, NewPasskey, PasskeyError, PasskeyLogin, PasskeyRp, Presented};
pub use provider::{Identity, LogoutRequest, PendingLogin, Provider, ProviderConfig, ProviderKind};

#[cfg(feature = "testing")]
pub mod testing;

/// The HTTP client the provider code uses (for callers that need the same one).
pub use openidconnect::reqwest;
