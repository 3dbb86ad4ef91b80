#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod email;
mod error;
mod sms;

pub use email::{Email, Mailer, SmtpSettings, SmtpTls};
pub use error::SendError;
pub use sms::{
    Accepted, DeliveryReport, LinkSettings, Sms, SmsProvider, SveveSettings, sender_name,
};
