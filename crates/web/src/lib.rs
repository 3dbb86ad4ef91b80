#![doc = include_str!("../README.md")]

mod error;
pub mod headers;
mod html;
mod pages;
mod router;
mod server;

pub use error::WebError;
pub use headers::RequestId;
pub use router::{AppState, router};
pub use server::{ServerError, ServerSettings, serve};
