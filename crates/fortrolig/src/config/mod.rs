//! Configuration in layers: defaults → TOML file → `FORTROLIG_*` environment →
//! `FORTROLIG_*_FILE` secrets. Unknown keys and unknown `FORTROLIG_*` variables are
//! refused, and every problem is reported with how to fix it.

mod notices;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("configuration file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// A secret string: never printed, not even by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Self {
        Self(s)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    server: FileServer,
    #[serde(default)]
    storage: FileStorage,
    #[serde(default)]
    log: FileLog,
    idporten: Option<ProviderFile>,
    helseid: Option<ProviderFile>,
    #[serde(default)]
    notices: notices::FileNotices,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderFile {
    issuer: String,
    client_id: String,
    /// The public address the provider sends users back to (ends in
    /// /innlogging/idporten/tilbake or /innlogging/helseid/tilbake).
    redirect_url: String,
    client_key_file: Option<PathBuf>,
    key_id: Option<String>,
}

/// Login through ID-porten (patients) or HelseID (staff).
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub issuer: String,
    pub client_id: String,
    pub redirect_url: String,
    /// Where the provider sends users after logging out there: `redirect_url` with
    /// `/tilbake` replaced by `/utlogget` (register it with the provider too).
    pub post_logout_redirect_url: String,
    /// Fortrolig's private key (PKCS#8) for private_key_jwt; created on first start.
    pub client_key_file: PathBuf,
    pub key_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileServer {
    listen: Option<String>,
    /// The address users type, e.g. https://fortrolig.klinikk.no (passkeys are bound to
    /// its host name, and links printed by the CLI start with it).
    public_url: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileStorage {
    data_dir: Option<PathBuf>,
    vault_dir: Option<PathBuf>,
    master_key_file: Option<PathBuf>,
    database_url_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLog {
    format: Option<String>,
    level: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub public_url: String,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub data_dir: PathBuf,
    pub vault_dir: PathBuf,
    pub master_key_file: PathBuf,
    pub master_key: Option<Secret>,
    pub database_url: Option<Secret>,
    pub log_format: LogFormat,
    pub log_level: String,
    pub idporten: Option<ProviderSettings>,
    pub helseid: Option<ProviderSettings>,
    pub notices: notices::NoticeConfig,
}

const ENV_KEYS: &[&str] = &[
    "FORTROLIG_LISTEN",
    "FORTROLIG_PUBLIC_URL",
    "FORTROLIG_TLS_CERT",
    "FORTROLIG_TLS_KEY",
    "FORTROLIG_DATA_DIR",
    "FORTROLIG_VAULT_DIR",
    "FORTROLIG_MASTER_KEY",
    "FORTROLIG_MASTER_KEY_FILE",
    "FORTROLIG_DATABASE_URL",
    "FORTROLIG_DATABASE_URL_FILE",
    "FORTROLIG_LOG_FORMAT",
    "FORTROLIG_LOG_LEVEL",
];

fn read_secret_file(var: &str, path: &Path) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::Invalid(format!(
            "{var}: cannot read the secret file {}: {e}",
            path.display()
        ))
    })?;
    let text = text.trim().to_owned();
    if text.is_empty() {
        return Err(ConfigError::Invalid(format!(
            "{var}: the secret file {} is empty",
            path.display()
        )));
    }
    Ok(Secret(text))
}

impl Config {
    /// Builds the configuration from an optional file and the given environment.
    pub fn load(file: Option<&Path>, env: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let parsed: FileConfig = match file {
            None => FileConfig::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?
            }
        };
        for key in env.keys().filter(|k| k.starts_with("FORTROLIG_")) {
            if !ENV_KEYS.contains(&key.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "unknown environment variable {key}; the known ones are {}",
                    ENV_KEYS.join(", ")
                )));
            }
        }
        let get = |k: &str| env.get(k).filter(|v| !v.is_empty()).cloned();

        let listen_text = get("FORTROLIG_LISTEN")
            .or(parsed.server.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            ConfigError::Invalid(format!(
                "listen address {listen_text:?} is not IP:PORT, e.g. 127.0.0.1:8080"
            ))
        })?;
        let cert = get("FORTROLIG_TLS_CERT")
            .map(PathBuf::from)
            .or(parsed.server.tls_cert);
        let key = get("FORTROLIG_TLS_KEY")
            .map(PathBuf::from)
            .or(parsed.server.tls_key);
        let tls = match (cert, key) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => {
                return Err(ConfigError::Invalid(
                    "TLS needs both tls_cert and tls_key (PEM files); give both or neither".into(),
                ));
            }
        };
        if tls.is_none() && !listen.ip().is_loopback() {
            return Err(ConfigError::Invalid(format!(
                "refusing plain HTTP on {listen}: outside loopback Fortrolig needs TLS. Set tls_cert and tls_key, \
                 or listen on 127.0.0.1 behind a TLS-terminating proxy"
            )));
        }

        let public_url = match get("FORTROLIG_PUBLIC_URL").or(parsed.server.public_url) {
            Some(url) => public_url(&url)?,
            // Browsers treat localhost as a secure context, and WebAuthn refuses IP addresses.
            None => format!(
                "{}://localhost:{}",
                if tls.is_some() { "https" } else { "http" },
                listen.port()
            ),
        };

        let data_dir = get("FORTROLIG_DATA_DIR")
            .map(PathBuf::from)
            .or(parsed.storage.data_dir)
            .unwrap_or_else(|| "fortrolig-data".into());
        let vault_dir = get("FORTROLIG_VAULT_DIR")
            .map(PathBuf::from)
            .or(parsed.storage.vault_dir)
            .unwrap_or_else(|| data_dir.join("vault"));
        let master_key_file = get("FORTROLIG_MASTER_KEY_FILE")
            .map(PathBuf::from)
            .or(parsed.storage.master_key_file)
            .unwrap_or_else(|| vault_dir.join("master.key"));
        let master_key = get("FORTROLIG_MASTER_KEY").map(Secret);

        let database_url = match (
            get("FORTROLIG_DATABASE_URL"),
            get("FORTROLIG_DATABASE_URL_FILE")
                .map(PathBuf::from)
                .or(parsed.storage.database_url_file),
        ) {
            (Some(url), _) => Some(Secret(url)),
            (None, Some(path)) => Some(read_secret_file("database_url_file", &path)?),
            (None, None) => None,
        };
        if let Some(url) = &database_url
            && !url.0.starts_with("postgres://")
            && !url.0.starts_with("postgresql://")
        {
            return Err(ConfigError::Invalid(
                "the database URL must start with postgres:// (leave it out to use the embedded SQLite)".into(),
            ));
        }

        let log_format = match get("FORTROLIG_LOG_FORMAT").or(parsed.log.format).as_deref() {
            None | Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => {
                return Err(ConfigError::Invalid(format!(
                    "log format {other:?} is not \"json\" or \"pretty\""
                )));
            }
        };
        let log_level = get("FORTROLIG_LOG_LEVEL")
            .or(parsed.log.level)
            .unwrap_or_else(|| "info".into());
        if !["error", "warn", "info", "debug", "trace"].contains(&log_level.as_str()) {
            return Err(ConfigError::Invalid(format!(
                "log level {log_level:?} is not one of error, warn, info, debug, trace"
            )));
        }
        let idporten = provider_settings("idporten", parsed.idporten, &vault_dir)?;
        let helseid = provider_settings("helseid", parsed.helseid, &vault_dir)?;
        let notices = parsed.notices.validate()?;
        Ok(Self {
            listen,
            public_url,
            tls,
            data_dir,
            vault_dir,
            master_key_file,
            master_key,
            database_url,
            log_format,
            log_level,
            idporten,
            helseid,
            notices,
        })
    }
}

/// `https://host[:port]` (or `http://localhost…` for tests), without a trailing slash.
fn public_url(url: &str) -> Result<String, ConfigError> {
    let url = url.trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://localhost").map(|_| ""));
    let valid = rest.is_some_and(|r| !r.contains('/') && !r.contains('?') && !r.contains('#'));
    if !valid {
        return Err(ConfigError::Invalid(format!(
            "public_url {url:?} must be https://host[:port] (http only for localhost), with no path"
        )));
    }
    Ok(url.to_owned())
}

fn provider_settings(
    name: &str,
    file: Option<ProviderFile>,
    vault_dir: &Path,
) -> Result<Option<ProviderSettings>, ConfigError> {
    let Some(i) = file else {
        return Ok(None);
    };
    for (what, url) in [("issuer", &i.issuer), ("redirect_url", &i.redirect_url)] {
        if !url.starts_with("https://")
            && !url.starts_with("http://127.0.0.1")
            && !url.starts_with("http://localhost")
        {
            return Err(ConfigError::Invalid(format!(
                "[{name}] {what} must be an https:// address (http only on loopback, for tests)"
            )));
        }
    }
    let callback = format!("/innlogging/{name}/tilbake");
    if !i.redirect_url.ends_with(&callback) {
        return Err(ConfigError::Invalid(format!(
            "[{name}] redirect_url must end in {callback}"
        )));
    }
    Ok(Some(ProviderSettings {
        client_key_file: i
            .client_key_file
            .unwrap_or_else(|| vault_dir.join(format!("{name}-client.p8"))),
        key_id: i.key_id.unwrap_or_else(|| "fortrolig-1".into()),
        issuer: i.issuer,
        client_id: i.client_id,
        post_logout_redirect_url: format!(
            "{}/utlogget",
            i.redirect_url
                .strip_suffix("/tilbake")
                .unwrap_or(&i.redirect_url)
        ),
        redirect_url: i.redirect_url,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("fortrolig.toml");
        let _ = std::fs::write(&path, text);
        path
    }

    #[test]
    fn defaults_are_loopback_sqlite_and_json_logs() -> Result<(), ConfigError> {
        let c = Config::load(None, &env(&[]))?;
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert!(c.database_url.is_none() && c.tls.is_none());
        assert_eq!(c.vault_dir, PathBuf::from("fortrolig-data/vault"));
        assert_eq!(c.log_format, LogFormat::Json);
        Ok(())
    }

    #[test]
    fn layers_apply_in_order_file_then_env_then_secret_file()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let secret = dir.path().join("db-url");
        std::fs::write(&secret, "postgres://u@127.0.0.1:5432/fortrolig\n")?;
        let file = write(
            dir.path(),
            "[server]\nlisten = \"127.0.0.1:9000\"\n[storage]\ndata_dir = \"/srv/f\"\n",
        );
        let c = Config::load(
            Some(&file),
            &env(&[
                ("FORTROLIG_LISTEN", "127.0.0.1:9100"),
                ("FORTROLIG_DATABASE_URL_FILE", secret.to_str().unwrap_or("")),
            ]),
        )?;
        assert_eq!(c.listen.port(), 9100);
        assert_eq!(c.data_dir, PathBuf::from("/srv/f"));
        assert_eq!(
            c.database_url.as_ref().map(Secret::expose),
            Some("postgres://u@127.0.0.1:5432/fortrolig")
        );
        assert!(
            !format!("{c:?}").contains("postgres://"),
            "secrets stay out of Debug"
        );
        Ok(())
    }

    #[test]
    fn unknown_keys_and_variables_are_refused_with_a_hint() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let file = write(dir.path(), "[server]\nlisten_addr = \"x\"\n");
        let err = Config::load(Some(&file), &env(&[]))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("unknown field") && err.contains("listen_addr"),
            "{err}"
        );
        let err = Config::load(None, &env(&[("FORTROLIG_LISTNE", "x")]))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("FORTROLIG_LISTNE") && err.contains("FORTROLIG_LISTEN"),
            "{err}"
        );
        Ok(())
    }

    #[test]
    fn provider_sections_are_checked_x1() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let good = "[helseid]\nissuer = \"https://helseid-sts.test.nhn.no\"\nclient_id = \"c\"\n\
                    redirect_url = \"https://klinikk.example/innlogging/helseid/tilbake\"\n";
        let c = Config::load(Some(&write(dir.path(), good)), &env(&[]))?;
        let h = c.helseid.ok_or("helseid section")?;
        assert_eq!(
            h.client_key_file,
            PathBuf::from("fortrolig-data/vault/helseid-client.p8")
        );
        assert_eq!(
            h.post_logout_redirect_url,
            "https://klinikk.example/innlogging/helseid/utlogget"
        );
        for (bad, needle) in [
            (
                "[idporten]\nissuer = \"http://idporten.no\"\nclient_id = \"c\"\nredirect_url = \"https://k/innlogging/idporten/tilbake\"\n",
                "https://",
            ),
            (
                "[idporten]\nissuer = \"https://idporten.no\"\nclient_id = \"c\"\nredirect_url = \"https://k/tilbake\"\n",
                "must end in",
            ),
            (
                "[idporten]\nissuer = \"https://idporten.no\"\n",
                "missing field",
            ),
        ] {
            let err = Config::load(Some(&write(dir.path(), bad)), &env(&[]))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(needle), "{err}");
        }
        Ok(())
    }

    #[test]
    fn plain_http_outside_loopback_is_refused_x1() {
        let err = Config::load(None, &env(&[("FORTROLIG_LISTEN", "0.0.0.0:8080")]))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("needs TLS"), "{err}");
        let half = Config::load(None, &env(&[("FORTROLIG_TLS_CERT", "/c.pem")]))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(half.contains("both"), "{half}");
    }

    #[test]
    fn bad_values_say_how_to_fix_them() {
        for (k, v, needle) in [
            ("FORTROLIG_LISTEN", "localhost", "IP:PORT"),
            ("FORTROLIG_LOG_LEVEL", "loud", "one of"),
            ("FORTROLIG_LOG_FORMAT", "xml", "json"),
            ("FORTROLIG_DATABASE_URL", "mysql://x", "postgres://"),
            (
                "FORTROLIG_DATABASE_URL_FILE",
                "/nonexistent/secret",
                "cannot read",
            ),
        ] {
            let err = Config::load(None, &env(&[(k, v)]))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(needle), "{k}: {err}");
        }
    }
}
