//! Maskinporten: an access token for a machine-to-machine API (here the contact and
//! reservation register, KRR) by the JWT-bearer grant (RFC 7523 §2.1). Fortrolig signs a
//! short grant with its own client key (ES256, `kid` in the header) and posts it to the
//! token endpoint; the token is kept until shortly before it expires, so a burst of
//! notices costs one grant. Facts in `../shared/reference/norway-specs.md` §3.
//!
//! Time is a parameter (`now_secs`), so expiry is tested without sleeping.

use std::sync::Mutex;

use openidconnect::reqwest;
use serde::Deserialize;

use crate::client_key::{ClientKey, new_jti};

/// Maskinporten's limit on a grant's lifetime is 120 s; a shorter one leaves less to
/// replay.
const GRANT_SECS: i64 = 60;
/// A token is fetched anew this long before it expires, so one is never sent as it runs
/// out on the way.
const EXPIRY_MARGIN_SECS: i64 = 10;

/// Who Fortrolig is to Maskinporten and what it asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaskinportenConfig {
    /// E.g. `https://test.maskinporten.no/token`.
    pub token_url: String,
    /// Maskinporten's issuer, the grant's `aud`: e.g. `https://test.maskinporten.no/`.
    pub audience: String,
    /// The client (integration) id registered in Samarbeidsportalen.
    pub client_id: String,
    /// E.g. `krr:global/kontaktinformasjon.read`.
    pub scope: String,
    /// The API the token is for (`resource`, the token's audience), e.g. the KRR URL.
    pub resource: Option<String>,
}

/// Why no token came.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MaskinportenError {
    /// The network or Maskinporten failed for now: try again later.
    #[error("Maskinporten is unavailable: {0}")]
    Unavailable(String),
    /// Maskinporten refused the grant: our client id, key, scope or clock is wrong.
    #[error("Maskinporten refused the grant: {0}")]
    Refused(String),
}

impl MaskinportenError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, MaskinportenError::Unavailable(_))
    }
}

struct Cached {
    token: String,
    /// When to fetch a new one (seconds since the epoch).
    renew_at: i64,
}

/// A Maskinporten client with its token cache.
pub struct Maskinporten {
    config: MaskinportenConfig,
    key: ClientKey,
    cache: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for Maskinporten {
    // Never the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Maskinporten")
            .field("config", &self.config)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: Option<i64>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: Option<String>,
    error_description: Option<String>,
}

impl Maskinporten {
    pub fn new(config: MaskinportenConfig, key: ClientKey) -> Self {
        Self {
            config,
            key,
            cache: Mutex::new(None),
        }
    }

    pub fn config(&self) -> &MaskinportenConfig {
        &self.config
    }

    /// The signed grant: `aud`, `iss`, `scope`, `iat`, `exp`, `jti` (and `resource`).
    pub fn grant(&self, now_secs: i64) -> Result<String, MaskinportenError> {
        let mut claims = serde_json::json!({
            "aud": self.config.audience,
            "iss": self.config.client_id,
            "scope": self.config.scope,
            "iat": now_secs,
            "exp": now_secs + GRANT_SECS,
            "jti": new_jti().map_err(|e| MaskinportenError::Refused(e.to_string()))?,
        });
        if let (Some(resource), Some(map)) = (&self.config.resource, claims.as_object_mut()) {
            map.insert("resource".into(), resource.clone().into());
        }
        self.key
            .sign(&claims)
            .map_err(|e| MaskinportenError::Refused(e.to_string()))
    }

    /// An access token: the cached one while it lasts, else a new one.
    pub async fn token(
        &self,
        http: &reqwest::Client,
        now_secs: i64,
    ) -> Result<String, MaskinportenError> {
        if let Some(token) = self.cached(now_secs) {
            return Ok(token);
        }
        let grant = self.grant(now_secs)?;
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", grant.as_str()),
        ];
        let unavailable = |e: reqwest::Error| MaskinportenError::Unavailable(e.to_string());
        let response = http
            .post(&self.config.token_url)
            .form(&form)
            .send()
            .await
            .map_err(unavailable)?;
        let status = response.status();
        let text = response.text().await.map_err(unavailable)?;
        if !status.is_success() {
            let detail = serde_json::from_str::<ErrorAnswer>(&text)
                .ok()
                .map(|e| {
                    format!(
                        "{} {}",
                        e.error.unwrap_or_default(),
                        e.error_description.unwrap_or_default()
                    )
                })
                .unwrap_or_else(|| text.chars().take(200).collect());
            let detail = format!("HTTP {}: {}", status.as_u16(), detail.trim());
            // Maskinporten's own trouble passes; a refusal of the grant does not.
            return Err(
                if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                    MaskinportenError::Unavailable(detail)
                } else {
                    MaskinportenError::Refused(detail)
                },
            );
        }
        let answer: TokenAnswer = serde_json::from_str(&text).map_err(|e| {
            MaskinportenError::Unavailable(format!("an answer that is not a token: {e}"))
        })?;
        // Without `expires_in` the token is used for this lookup only.
        let renew_at = now_secs + answer.expires_in.unwrap_or(0) - EXPIRY_MARGIN_SECS;
        if let Ok(mut cache) = self.cache.lock() {
            *cache = Some(Cached {
                token: answer.access_token.clone(),
                renew_at,
            });
        }
        Ok(answer.access_token)
    }

    /// Forgets the cached token, after the API refused it (revoked, or the API restarted
    /// with new keys): the next call fetches a new one.
    pub fn forget(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            *cache = None;
        }
    }

    fn cached(&self, now_secs: i64) -> Option<String> {
        let cache = self.cache.lock().ok()?;
        cache
            .as_ref()
            .filter(|c| now_secs < c.renew_at)
            .map(|c| c.token.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Result<Maskinporten, crate::LoginError> {
        let (key, _) = ClientKey::generate("mp-1")?;
        Ok(Maskinporten::new(
            MaskinportenConfig {
                token_url: "http://127.0.0.1:1/token".into(),
                audience: "https://test.maskinporten.no/".into(),
                client_id: "klient-1".into(),
                scope: "krr:global/kontaktinformasjon.read".into(),
                resource: Some("https://test.kontaktregisteret.no".into()),
            },
            key,
        ))
    }

    fn claims(jwt: &str) -> serde_json::Value {
        let part = jwt.split('.').nth(1).unwrap_or_default();
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let vals: Vec<u32> = part
            .bytes()
            .filter_map(|c| ALPHABET.iter().position(|&a| a == c).map(|p| p as u32))
            .collect();
        let mut out = Vec::new();
        for chunk in vals.chunks(4) {
            let mut n = 0u32;
            for (i, v) in chunk.iter().enumerate() {
                n |= v << (18 - 6 * i);
            }
            for i in 0..chunk.len().saturating_sub(1) {
                out.push((n >> (16 - 8 * i)) as u8);
            }
        }
        serde_json::from_slice(&out).unwrap_or_default()
    }

    #[test]
    fn the_grant_names_client_scope_audience_and_resource_and_is_short()
    -> Result<(), crate::LoginError> {
        let mp = client()?;
        let jwt = mp
            .grant(1_800_000_000)
            .map_err(|e| crate::LoginError::Provider(e.to_string()))?;
        let c = claims(&jwt);
        assert_eq!(c["aud"], "https://test.maskinporten.no/");
        assert_eq!(c["iss"], "klient-1");
        assert_eq!(c["scope"], "krr:global/kontaktinformasjon.read");
        assert_eq!(c["resource"], "https://test.kontaktregisteret.no");
        assert_eq!(c["iat"], 1_800_000_000);
        let life = c["exp"].as_i64().unwrap_or_default() - 1_800_000_000;
        assert!(life > 0 && life <= 120, "{life}");
        assert!(c["jti"].as_str().is_some_and(|j| j.len() >= 20));
        Ok(())
    }

    #[test]
    fn a_token_is_kept_until_shortly_before_it_expires() -> Result<(), crate::LoginError> {
        let mp = client()?;
        if let Ok(mut cache) = mp.cache.lock() {
            *cache = Some(Cached {
                token: "t1".into(),
                renew_at: 1_000 + 120 - EXPIRY_MARGIN_SECS,
            });
        }
        assert_eq!(mp.cached(1_000).as_deref(), Some("t1"));
        assert_eq!(mp.cached(1_109).as_deref(), Some("t1"));
        assert_eq!(mp.cached(1_110), None, "renewed before it runs out");
        mp.forget();
        assert_eq!(mp.cached(1_000), None);
        Ok(())
    }

    #[test]
    fn only_maskinportens_own_trouble_is_worth_another_try() {
        assert!(MaskinportenError::Unavailable("503".into()).is_retryable());
        assert!(!MaskinportenError::Refused("invalid_grant".into()).is_retryable());
    }
}
