#![doc = include_str!("../README.md")]

mod claims;
mod client_key;
mod error;
mod provider;

pub use claims::NorwayClaims;
pub use client_key::ClientKey;
pub use error::LoginError;
pub use provider::{Identity, PendingLogin, Provider, ProviderConfig, ProviderKind};
