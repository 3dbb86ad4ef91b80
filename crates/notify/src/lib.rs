#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod email;
mod error;
mod krr;
mod sms;

pub use email::{Email, Mailer, SmtpSettings, SmtpTls};
pub use error::SendError;
pub use krr::{
    KrrAddress, KrrClient, KrrPerson, KrrStatus, months_before, parse_answer, parse_timestamp,
};
pub use sms::{
    Accepted, DeliveryReport, LinkSettings, Sms, SmsProvider, SveveSettings, sender_name,
};
