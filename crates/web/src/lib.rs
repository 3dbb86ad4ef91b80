#![doc = include_str!("../README.md")]

mod activation;
mod admin;
mod consent;
mod delivery_reports;
mod error;
pub mod headers;
mod html;
mod i18n;
mod incidents;
mod info;
mod innsyn;
mod live;
mod login;
mod logout;
mod notices;
mod own_sessions;
mod pages;
mod passkeys;
mod pending;
mod portal;
mod portal_messages;
mod processing;
mod requests;
mod respond;
mod retention;
mod router;
mod server;
mod session;
mod source;
mod testlogin;
mod workspace;
mod workspace_messages;

pub use error::WebError;
pub use headers::RequestId;
pub use login::LoginFlow;
pub use passkeys::PasskeyFlow;
pub use portal_messages::draft::Drafts;
pub use router::{
    AppState, HELSEID_CALLBACK, HELSEID_LOGGED_OUT, IDPORTEN_CALLBACK, IDPORTEN_LOGGED_OUT, router,
};
pub use server::{ServerError, ServerSettings, serve};
