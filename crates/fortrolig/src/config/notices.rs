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
//! [notices.krr]                # the contact and reservation register (N4), optional
//! url = "https://kontaktregisteret.no"
//! maskinporten_token_url = "https://maskinporten.no/token"
//! maskinporten_audience = "https://maskinporten.no/"
//! client_id = "…"
//! client_key_file = "/etc/fortrolig/maskinporten-key.p8"   # PKCS#8, P-256
//! key_id = "…"
//! scope = "krr:global/kontaktinformasjon.read"            # the default
//! resource = "https://kontaktregisteret.no"                # default: url
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
    krr: Option<FileKrr>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileKrr {
    url: String,
    maskinporten_token_url: String,
    maskinporten_audience: String,
    client_id: String,
    client_key_file: PathBuf,
    key_id: String,
    scope: Option<String>,
    resource: Option<String>,
}

/// The scope that gives e-mail, mobile number, their timestamps and the reservation.
pub const KRR_SCOPE: &str = "krr:global/kontaktinformasjon.read";

/// The validated `[notices.krr]`.
#[derive(Clone)]
pub struct KrrConfig {
    pub url: String,
    pub maskinporten: fortrolig_identity::MaskinportenConfig,
    /// The client key, PKCS#8, checked to be a P-256 key.
    pub client_key_pkcs8: Vec<u8>,
    pub key_id: String,
}

// The key stays out of logs.
impl std::fmt::Debug for KrrConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KrrConfig")
            .field("url", &self.url)
            .field("maskinporten", &self.maskinporten)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl KrrConfig {
    pub fn client_key(&self) -> Result<fortrolig_identity::ClientKey, ConfigError> {
        fortrolig_identity::ClientKey::from_pkcs8(&self.client_key_pkcs8, &self.key_id).map_err(
            |_| {
                ConfigError::Invalid(
                    "[notices.krr] client_key_file is not a PKCS#8 P-256 key".into(),
                )
            },
        )
    }
}

impl FileKrr {
    fn validate(self) -> Result<KrrConfig, ConfigError> {
        let url = provider_url("krr", &self.url)?;
        let token_url = provider_url("krr", &self.maskinporten_token_url)?;
        let pkcs8 = std::fs::read(&self.client_key_file).map_err(|e| {
            ConfigError::Invalid(format!(
                "[notices.krr] client_key_file: cannot read {}: {e}",
                self.client_key_file.display()
            ))
        })?;
        let config = KrrConfig {
            maskinporten: fortrolig_identity::MaskinportenConfig {
                token_url,
                audience: self.maskinporten_audience,
                client_id: self.client_id,
                scope: self.scope.unwrap_or_else(|| KRR_SCOPE.to_owned()),
                resource: Some(self.resource.unwrap_or_else(|| url.clone())),
            },
            url,
            client_key_pkcs8: pkcs8,
            key_id: self.key_id,
        };
        // Refused at start-up, not at the first notice.
        config.client_key().map_err(|_| {
            ConfigError::Invalid(format!(
                "[notices.krr] {} is not a PKCS#8 P-256 key (the key registered with Maskinporten)",
                self.client_key_file.display()
            ))
        })?;
        Ok(config)
    }
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
    pub krr: Option<KrrConfig>,
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
            "[notices.{what}] {url:?} must be an https:// address (http only on loopback, for tests)"
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
        let krr = self.krr.map(FileKrr::validate).transpose()?;
        Ok(NoticeConfig {
            sender: self.sender,
            link,
            sveve,
            smtp,
            delivery_report_token,
            krr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn krr(
        dir: &Path,
        url: &str,
        key: &[u8],
    ) -> Result<Result<NoticeConfig, ConfigError>, Box<dyn std::error::Error>> {
        let key_file = dir.join("mp.p8");
        std::fs::write(&key_file, key)?;
        let text = format!(
            "[krr]\nurl = \"{url}\"\nmaskinporten_token_url = \"https://test.maskinporten.no/token\"\n\
             maskinporten_audience = \"https://test.maskinporten.no/\"\nclient_id = \"klient\"\n\
             client_key_file = {key_file:?}\nkey_id = \"k1\"\n"
        );
        let file: FileNotices = toml::from_str(&text)?;
        Ok(file.validate())
    }

    #[test]
    fn krr_config_reads_the_client_key_and_defaults_scope_and_resource_n4()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let (_, pkcs8) = fortrolig_identity::ClientKey::generate("k1")?;
        let config = krr(dir.path(), "https://test.kontaktregisteret.no/", &pkcs8)??;
        let krr = config.krr.ok_or("no krr")?;
        assert_eq!(krr.url, "https://test.kontaktregisteret.no");
        assert_eq!(krr.maskinporten.scope, KRR_SCOPE);
        assert_eq!(
            krr.maskinporten.resource.as_deref(),
            Some("https://test.kontaktregisteret.no")
        );
        assert!(krr.client_key().is_ok());
        assert!(!format!("{krr:?}").contains("pkcs8"));
        Ok(())
    }

    #[test]
    fn krr_config_refuses_plain_http_and_a_bad_key() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let (_, pkcs8) = fortrolig_identity::ClientKey::generate("k1")?;
        let http = krr(dir.path(), "http://kontaktregisteret.no", &pkcs8)?;
        assert!(http.is_err_and(|e| e.to_string().contains("https://")));
        let loopback = krr(dir.path(), "http://127.0.0.1:9/", &pkcs8)?;
        assert!(loopback.is_ok(), "plain http on loopback, for tests");
        let bad = krr(dir.path(), "https://kontaktregisteret.no", b"not a key")?;
        assert!(bad.is_err_and(|e| e.to_string().contains("PKCS#8")));
        Ok(())
    }
}
