//! `[notices]`: how notices leave (issue 5). The sender name is the clinics' default
//! neutral name (N3); each channel is optional, and a notice for a channel that is not
//! set up waits in the outbox (and is retried) until it is. Passwords and the delivery
//! report token are read from files, like every other secret.
//!
//! ```toml
//! [notices]
//! sender = "Legekontor"
//! delivery_report_token_file = "/etc/fortrolig/dlr-token"
//! [notices.link]
//! url = "https://n-eu.linkmobility.io"
//! username = "…"
//! password_file = "/etc/fortrolig/link-password"
//! platform_id = "COMMON_API"
//! platform_partner_id = "…"
//! gate_id = "…"
//! [notices.smtp]
//! host = "smtp.example.no"
//! port = 587
//! tls = "starttls"            # or "implicit"; there is no setting without TLS
//! from = "varsel@example.no"
//! username = "…"
//! password_file = "/etc/fortrolig/smtp-password"
//! extra_ca_file = "/etc/fortrolig/smtp-ca.pem"
//! ```

use std::path::{Path, PathBuf};

use fortrolig_notify::{LinkSettings, SmtpSettings, SmtpTls, SveveSettings};
use serde::Deserialize;

use super::{ConfigError, Secret};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileNotices {
    sender: Option<String>,
    delivery_report_token_file: Option<PathBuf>,
    link: Option<FileLink>,
    sveve: Option<FileSveve>,
    smtp: Option<FileSmtp>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLink {
    url: String,
    username: String,
    password_file: PathBuf,
    platform_id: String,
    platform_partner_id: String,
    gate_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSveve {
    url: String,
    user: String,
    password_file: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSmtp {
    host: String,
    port: Option<u16>,
    tls: Option<SmtpTls>,
    from: String,
    username: Option<String>,
    password_file: Option<PathBuf>,
    extra_ca_file: Option<PathBuf>,
}

/// The validated `[notices]`.
#[derive(Debug, Clone, Default)]
pub struct NoticeConfig {
    pub sender: Option<String>,
    pub link: Option<LinkSettings>,
    pub sveve: Option<SveveSettings>,
    pub smtp: Option<SmtpSettings>,
    /// The secret path segment LINK posts delivery reports to.
    pub delivery_report_token: Option<Secret>,
}

fn read(what: &str, path: &Path) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::Invalid(format!(
            "[notices] {what}: cannot read {}: {e}",
            path.display()
        ))
    })?;
    let text = text.trim().to_owned();
    if text.is_empty() {
        return Err(ConfigError::Invalid(format!(
            "[notices] {what}: {} is empty",
            path.display()
        )));
    }
    Ok(text)
}

/// An HTTPS address, or plain HTTP on loopback for tests.
fn provider_url(what: &str, url: &str) -> Result<String, ConfigError> {
    if url.starts_with("https://")
        || url.starts_with("http://127.0.0.1")
        || url.starts_with("http://localhost")
    {
        Ok(url.trim_end_matches('/').to_owned())
    } else {
        Err(ConfigError::Invalid(format!(
            "[notices.{what}] url must be an https:// address (http only on loopback, for tests)"
        )))
    }
}

impl FileNotices {
    pub(super) fn validate(self) -> Result<NoticeConfig, ConfigError> {
        if self.link.is_some() && self.sveve.is_some() {
            return Err(ConfigError::Invalid(
                "[notices] set up one SMS provider: link or sveve, not both".into(),
            ));
        }
        if let Some(sender) = &self.sender {
            fortrolig_notify::sender_name(sender)
                .map_err(|e| ConfigError::Invalid(format!("[notices] sender: {e}")))?;
        }
        let link = self
            .link
            .map(|l| -> Result<LinkSettings, ConfigError> {
                Ok(LinkSettings {
                    url: provider_url("link", &l.url)?,
                    username: l.username,
                    password: read("link password_file", &l.password_file)?,
                    platform_id: l.platform_id,
                    platform_partner_id: l.platform_partner_id,
                    gate_id: l.gate_id,
                })
            })
            .transpose()?;
        let sveve = self
            .sveve
            .map(|s| -> Result<SveveSettings, ConfigError> {
                Ok(SveveSettings {
                    url: provider_url("sveve", &s.url)?,
                    user: s.user,
                    password: read("sveve password_file", &s.password_file)?,
                })
            })
            .transpose()?;
        let smtp = self
            .smtp
            .map(|s| -> Result<SmtpSettings, ConfigError> {
                Ok(SmtpSettings {
                    host: s.host,
                    port: s.port.unwrap_or(587),
                    tls: s.tls.unwrap_or_default(),
                    from: s.from,
                    username: s.username,
                    password: s
                        .password_file
                        .map(|p| read("smtp password_file", &p))
                        .transpose()?,
                    extra_ca_pem: s
                        .extra_ca_file
                        .map(|p| read("smtp extra_ca_file", &p))
                        .transpose()?,
                })
            })
            .transpose()?;
        let delivery_report_token = self
            .delivery_report_token_file
            .map(|p| read("delivery_report_token_file", &p).map(Secret))
            .transpose()?;
        if delivery_report_token
            .as_ref()
            .is_some_and(|t| t.expose().len() < 24)
        {
            return Err(ConfigError::Invalid(
                "[notices] the delivery report token must be at least 24 characters".into(),
            ));
        }
        Ok(NoticeConfig {
            sender: self.sender,
            link,
            sveve,
            smtp,
            delivery_report_token,
        })
    }
}
