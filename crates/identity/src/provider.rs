//! One identity provider (ID-porten or HelseID), configured from its discovery document.

use fortrolig_domain::access::Level;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AuthenticationContextClass, AuthenticationFlow, AuthorizationCode, Client, ClientId, CsrfToken,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse,
    StandardTokenResponse, reqwest,
};
use serde::{Deserialize, Serialize};

use crate::claims::NorwayClaims;
use crate::client_key::ClientKey;
use crate::error::LoginError;

type TokenResponse = StandardTokenResponse<
    IdTokenFields<
        NorwayClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

type NorwayClient = Client<
    NorwayClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    IdPorten,
    HelseId,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::IdPorten => "idporten",
            ProviderKind::HelseId => "helseid",
        }
    }

    /// The `acr_values` asked for to reach `level`.
    fn acr_for(self, level: Level) -> &'static str {
        match (self, level) {
            (ProviderKind::IdPorten, Level::Substantial) => "idporten-loa-substantial",
            (ProviderKind::IdPorten, Level::High) => "idporten-loa-high",
            (ProviderKind::HelseId, Level::Substantial) => "Level3",
            (ProviderKind::HelseId, Level::High) => "Level4",
        }
    }

    /// The level an `acr` value (or HelseID security level) stands for.
    fn level_of(self, acr: &str) -> Option<Level> {
        match (self, acr) {
            (ProviderKind::IdPorten, "idporten-loa-substantial") => Some(Level::Substantial),
            (ProviderKind::IdPorten, "idporten-loa-high") => Some(Level::High),
            (ProviderKind::HelseId, "Level3" | "3") => Some(Level::Substantial),
            (ProviderKind::HelseId, "Level4" | "4") => Some(Level::High),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub kind: ProviderKind,
    pub issuer: String,
    pub client_id: String,
    pub redirect_url: String,
}

/// What a login must remember between sending the user away and their return. Kept
/// server-side; the browser only carries `state`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub level: Level,
}

/// A person the provider vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub kind: ProviderKind,
    /// The identity number (ID-porten `pid`, HelseID identity pid).
    pub person_number: String,
    pub hpr_number: Option<String>,
    pub level: Level,
    pub provider_session: Option<String>,
    pub subject: String,
}

#[derive(Debug)]
pub struct Provider {
    config: ProviderConfig,
    client: NorwayClient,
    http: reqwest::Client,
    key: ClientKey,
    token_endpoint: String,
    end_session_endpoint: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ExtraMetadata {
    end_session_endpoint: Option<String>,
}

impl Provider {
    /// Reads the provider's discovery document and keys.
    pub async fn discover(config: ProviderConfig, key: ClientKey) -> Result<Self, LoginError> {
        let http = reqwest::ClientBuilder::new()
            // Following redirects from the provider would open the client to SSRF.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| LoginError::Discovery(e.to_string()))?;
        let issuer = IssuerUrl::new(config.issuer.clone())
            .map_err(|e| LoginError::Discovery(e.to_string()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &http)
            .await
            .map_err(|e| LoginError::Discovery(e.to_string()))?;
        let token_endpoint = metadata
            .token_endpoint()
            .map(|u| u.url().to_string())
            .ok_or_else(|| LoginError::Discovery("no token endpoint".into()))?;
        let extra: ExtraMetadata = http
            .get(format!(
                "{}/.well-known/openid-configuration",
                config.issuer.trim_end_matches('/')
            ))
            .send()
            .await
            .map_err(|e| LoginError::Discovery(e.to_string()))?
            .bytes()
            .await
            .map_err(|e| LoginError::Discovery(e.to_string()))
            .and_then(|b| {
                serde_json::from_slice(&b).map_err(|e| LoginError::Discovery(e.to_string()))
            })?;
        let redirect = RedirectUrl::new(config.redirect_url.clone())
            .map_err(|e| LoginError::Discovery(e.to_string()))?;
        let client = NorwayClient::from_provider_metadata(
            metadata,
            ClientId::new(config.client_id.clone()),
            None,
        )
        .set_redirect_uri(redirect);
        Ok(Self {
            config,
            client,
            http,
            key,
            token_endpoint,
            end_session_endpoint: extra.end_session_endpoint,
        })
    }

    pub fn kind(&self) -> ProviderKind {
        self.config.kind
    }

    /// Where to send the user, and what to keep until they return.
    pub fn begin(&self, level: Level, login_hint: Option<&str>) -> (String, PendingLogin) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("openid".into()))
            .set_pkce_challenge(challenge)
            .add_auth_context_value(AuthenticationContextClass::new(
                self.config.kind.acr_for(level).into(),
            ));
        if self.config.kind == ProviderKind::HelseId {
            for scope in [
                "profile",
                "helseid://scopes/identity/pid",
                "helseid://scopes/identity/security_level",
                "helseid://scopes/hpr/hpr_number",
            ] {
                request = request.add_scope(Scope::new(scope.into()));
            }
        }
        if let Some(hint) = login_hint {
            request = request.add_extra_param("login_hint", hint.to_owned());
        }
        let (url, state, nonce) = request.url();
        (
            url.to_string(),
            PendingLogin {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
                level,
            },
        )
    }

    /// Completes a login: checks `state`, exchanges the code with `private_key_jwt`,
    /// verifies the id_token (signature, issuer, audience, expiry, nonce) and the level.
    pub async fn finish(
        &self,
        pending: &PendingLogin,
        returned_state: &str,
        returned_issuer: Option<&str>,
        code: &str,
        now_secs: i64,
    ) -> Result<Identity, LoginError> {
        // RFC 9207: a response naming another issuer is a mix-up attack.
        if returned_issuer.is_some_and(|iss| {
            iss.trim_end_matches('/') != self.config.issuer.trim_end_matches('/')
        }) {
            return Err(LoginError::IssuerMismatch);
        }
        let state_ok = returned_state.len() == pending.state.len()
            && returned_state
                .bytes()
                .zip(pending.state.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !state_ok {
            return Err(LoginError::StateMismatch);
        }
        let assertion =
            self.key
                .assertion(&self.config.client_id, &self.token_endpoint, now_secs)?;
        let response = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| LoginError::Request(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .add_extra_param(
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )
            .add_extra_param("client_assertion", assertion)
            .request_async(&self.http)
            .await
            .map_err(|e| LoginError::TokenExchange(error_text(&e)))?;
        use openidconnect::TokenResponse as _;
        let id_token = response.id_token().ok_or(LoginError::NoIdToken)?;
        let verifier = self.client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(pending.nonce.clone()))
            .map_err(|e| LoginError::InvalidIdToken(e.to_string()))?;
        let extra = claims.additional_claims();
        let kind = self.config.kind;
        let level = match kind {
            ProviderKind::IdPorten => claims
                .auth_context_ref()
                .and_then(|acr| kind.level_of(acr.as_str())),
            ProviderKind::HelseId => extra
                .security_level
                .as_deref()
                .or(claims.auth_context_ref().map(|a| a.as_str()))
                .and_then(|l| kind.level_of(l)),
        };
        let level = level.ok_or(LoginError::LevelTooLow)?;
        if level < pending.level {
            return Err(LoginError::LevelTooLow);
        }
        let person_number = match kind {
            ProviderKind::IdPorten => extra.pid.clone().ok_or(LoginError::MissingClaim("pid"))?,
            ProviderKind::HelseId => extra
                .helseid_pid
                .clone()
                .ok_or(LoginError::MissingClaim("helseid pid"))?,
        };
        Ok(Identity {
            kind,
            person_number,
            hpr_number: extra.hpr_number.clone(),
            level,
            provider_session: extra.sid.clone(),
            subject: claims.subject().to_string(),
        })
    }

    /// The provider's logout address (RP-initiated logout), if it has one.
    pub fn end_session_url(&self) -> Option<&str> {
        self.end_session_endpoint.as_deref()
    }
}

fn error_text<E: std::error::Error>(e: &E) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
