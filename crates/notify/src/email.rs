//! E-mail over SMTP, with TLS required (STARTTLS on the submission port, or TLS from the
//! first byte): a notice is never sent in the clear. Plain text only, from the clinic's
//! neutral sender name (N3); a link, if any, only to the clinic's own portal address,
//! which the checker enforces before this layer (N7).

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

use crate::error::SendError;

/// How TLS is started. There is no setting without TLS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// STARTTLS, required (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Implicit,
}

/// The mail server notices are handed to.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default)]
    pub tls: SmtpTls,
    /// The address notices come from (`varsel@legekontoret.no`); the display name is the
    /// clinic's neutral sender name.
    pub from: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// An extra certificate authority to trust (PEM), for a server with its own CA.
    #[serde(default)]
    pub extra_ca_pem: Option<String>,
}

fn default_port() -> u16 {
    587
}

/// One e-mail to send.
#[derive(Clone, Copy, Debug)]
pub struct Email<'a> {
    /// The clinic's neutral sender name (N3).
    pub sender: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    /// Our reference (the notice id), as the Message-ID's left part: a retry of the same
    /// notice carries the same Message-ID, so the receiving side can drop a duplicate.
    pub reference: &'a str,
}

/// A connection to the mail server, kept for reuse.
#[derive(Debug, Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: String,
    domain: String,
}

impl Mailer {
    pub fn new(settings: &SmtpSettings) -> Result<Self, SendError> {
        let config = |e: &dyn std::fmt::Display| SendError::Config(e.to_string());
        let mut tls = TlsParameters::builder(settings.host.clone());
        if let Some(pem) = &settings.extra_ca_pem {
            tls = tls.add_root_certificate(
                Certificate::from_pem(pem.as_bytes()).map_err(|e| config(&e))?,
            );
        }
        let tls = tls.build_rustls().map_err(|e| config(&e))?;
        let tls = match settings.tls {
            SmtpTls::Starttls => Tls::Required(tls),
            SmtpTls::Implicit => Tls::Wrapper(tls),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(20)));
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        let domain = settings
            .from
            .rsplit_once('@')
            .map(|(_, d)| d.to_owned())
            .filter(|d| !d.is_empty())
            .ok_or_else(|| SendError::Config("the from address has no domain".into()))?;
        Ok(Self {
            transport: builder.build(),
            from: settings.from.clone(),
            domain,
        })
    }

    /// The e-mail as it will be sent (for the log's hash and for tests).
    pub fn message(&self, email: &Email<'_>) -> Result<Message, SendError> {
        let from: Mailbox = format!("{} <{}>", email.sender, self.from)
            .parse()
            .map_err(|e| SendError::Config(format!("from address: {e}")))?;
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| SendError::Permanent(format!("the patient's address: {e}")))?;
        Message::builder()
            .from(from)
            .to(to)
            .subject(email.subject)
            .message_id(Some(format!("<{}@{}>", email.reference, self.domain)))
            .header(ContentType::TEXT_PLAIN)
            .body(email.text.to_owned())
            .map_err(|e| SendError::Permanent(format!("the e-mail could not be built: {e}")))
    }

    /// Hands one e-mail to the server. A permanent refusal (5xx) is a bounce; anything
    /// else that fails is worth another try.
    pub async fn send(&self, email: &Email<'_>) -> Result<String, SendError> {
        let message = self.message(email)?;
        match self.transport.send(message).await {
            Ok(response) => Ok(response.message().collect::<Vec<_>>().join(" ")),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(format!(
                "the mail server refused it: {e}"
            ))),
            Err(e) => Err(SendError::Retry(format!(
                "the mail server did not take it: {e}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SmtpSettings {
        SmtpSettings {
            host: "127.0.0.1".into(),
            port: 2525,
            tls: SmtpTls::Starttls,
            from: "varsel@legekontoret.example".into(),
            username: None,
            password: None,
            extra_ca_pem: None,
        }
    }

    #[test]
    fn an_email_is_plain_text_from_the_neutral_sender_with_our_message_id_n3()
    -> Result<(), SendError> {
        let mailer = Mailer::new(&settings())?;
        let message = mailer.message(&Email {
            sender: "Legekontoret",
            to: "kari@example.org",
            subject: "Ny melding",
            text: "Hei Kari! Du har en ny melding.",
            reference: "n123",
        })?;
        let raw = String::from_utf8_lossy(&message.formatted()).into_owned();
        assert!(
            raw.contains("From: Legekontoret <varsel@legekontoret.example>"),
            "{raw}"
        );
        assert!(
            raw.contains("Message-ID: <n123@legekontoret.example>"),
            "{raw}"
        );
        assert!(raw.contains("Content-Type: text/plain"), "{raw}");
        Ok(())
    }

    #[test]
    fn a_bad_address_is_refused_for_good_and_a_bad_from_is_our_settings() {
        let Ok(mailer) = Mailer::new(&settings()) else {
            unreachable!("valid settings")
        };
        let bad = mailer.message(&Email {
            sender: "L",
            to: "ikke en adresse",
            subject: "s",
            text: "t",
            reference: "r",
        });
        assert!(matches!(bad, Err(SendError::Permanent(_))));
        assert!(
            Mailer::new(&SmtpSettings {
                from: "uten-domene".into(),
                ..settings()
            })
            .is_err()
        );
    }
}
