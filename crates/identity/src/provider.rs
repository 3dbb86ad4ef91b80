//! One identity provider (ID-porten or HelseID), configured from its discovery document.

use fortrolig_domain::access::Level;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreClaimName, CoreClaimType, CoreClientAuthMethod,
    CoreErrorResponseType, CoreGenderClaim, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm,
    CoreResponseMode, CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreSubjectIdentifierType, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthenticationContextClass, AuthenticationFlow, AuthorizationCode,
    ClaimsVerificationError, Client, ClientId, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, ProviderMetadata, RedirectUrl, Scope, StandardErrorResponse,
    StandardTokenResponse, reqwest, url::Url,
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
    /// Where the provider sends the user after logging out there (RP-initiated logout);
    /// must be registered with the provider. `None`: the provider shows its own page.
    pub post_logout_redirect_url: Option<String>,
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

/// A person the provider vouched for. `Debug` leaves out the identity number and the
/// id_token (personal data, X6).
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    pub kind: ProviderKind,
    /// The identity number (ID-porten `pid`, HelseID identity pid).
    pub person_number: String,
    pub hpr_number: Option<String>,
    pub level: Level,
    pub provider_session: Option<String>,
    pub subject: String,
    /// The id_token as received, for `id_token_hint` at logout. It carries the identity
    /// number: keep it only sealed, and only while the session is open.
    pub id_token: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("kind", &self.kind)
            .field("person_number", &"<redacted>")
            .field("hpr_number", &self.hpr_number)
            .field("level", &self.level)
            .field("id_token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Discovery fields `openidconnect` does not model: RP-initiated logout and PAR (RFC 9126).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct NorwayMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end_session_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pushed_authorization_request_endpoint: Option<String>,
}

impl AdditionalProviderMetadata for NorwayMetadata {}

type NorwayProviderMetadata = ProviderMetadata<
    NorwayMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The provider's answer to a pushed authorization request (RFC 9126 §2.2).
#[derive(Debug, Deserialize)]
struct PushedResponse {
    request_uri: String,
}

#[derive(Debug)]
pub struct Provider {
    config: ProviderConfig,
    client: NorwayClient,
    http: reqwest::Client,
    key: ClientKey,
    token_endpoint: String,
    authorization_endpoint: Url,
    pushed_endpoint: Option<Url>,
    end_session_endpoint: Option<Url>,
}

fn discovered_url(name: &str, text: Option<&String>) -> Result<Option<Url>, LoginError> {
    text.map(|t| Url::parse(t).map_err(|e| LoginError::Discovery(format!("{name}: {e}"))))
        .transpose()
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
        let metadata = NorwayProviderMetadata::discover_async(issuer, &http)
            .await
            .map_err(|e| LoginError::Discovery(error_text(&e)))?;
        let token_endpoint = metadata
            .token_endpoint()
            .map(|u| u.url().to_string())
            .ok_or_else(|| LoginError::Discovery("no token endpoint".into()))?;
        let authorization_endpoint = metadata.authorization_endpoint().url().clone();
        let extra = metadata.additional_metadata();
        let pushed_endpoint = discovered_url(
            "pushed_authorization_request_endpoint",
            extra.pushed_authorization_request_endpoint.as_ref(),
        )?;
        let end_session_endpoint =
            discovered_url("end_session_endpoint", extra.end_session_endpoint.as_ref())?;
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
            authorization_endpoint,
            pushed_endpoint,
            end_session_endpoint,
        })
    }

    pub fn kind(&self) -> ProviderKind {
        self.config.kind
    }

    /// Whether logins are pushed to the provider first (PAR, RFC 9126): the provider's
    /// discovery offers it.
    pub fn uses_pushed_requests(&self) -> bool {
        self.pushed_endpoint.is_some()
    }

    /// Where to send the user, and what to keep until they return.
    ///
    /// When the provider offers PAR the whole request (PKCE challenge, state, nonce,
    /// `acr_values`, `login_hint`) is posted to it with client authentication, and the
    /// browser carries only `client_id` and the `request_uri` it answered with: nothing in
    /// the request can be read or changed on the way (Digdir recommends PAR for services
    /// like ours). Otherwise the request goes in the address, as before.
    pub async fn begin(
        &self,
        level: Level,
        login_hint: Option<&str>,
        now_secs: i64,
    ) -> Result<(String, PendingLogin), LoginError> {
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
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            level,
        };
        let Some(pushed) = &self.pushed_endpoint else {
            return Ok((url.to_string(), pending));
        };
        let request_uri = self.push(pushed, &url, now_secs).await?;
        let mut redirect = self.authorization_endpoint.clone();
        redirect
            .query_pairs_mut()
            .append_pair("client_id", &self.config.client_id)
            .append_pair("request_uri", &request_uri);
        Ok((redirect.to_string(), pending))
    }

    /// Posts the authorization request the library built (its query parameters) to the
    /// PAR endpoint with `private_key_jwt`, and returns the `request_uri`.
    async fn push(&self, endpoint: &Url, built: &Url, now_secs: i64) -> Result<String, LoginError> {
        // RFC 9126 §2: the issuer is the audience every provider must accept for PAR.
        let assertion =
            self.key
                .assertion(&self.config.client_id, &self.config.issuer, now_secs)?;
        let mut form: Vec<(String, String)> = built.query_pairs().into_owned().collect();
        form.push(("client_assertion_type".into(), JWT_BEARER.into()));
        form.push(("client_assertion".into(), assertion));
        let response = self
            .http
            .post(endpoint.clone())
            .form(&form)
            .send()
            .await
            .map_err(|e| LoginError::PushedRequest(error_text(&e)))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| LoginError::PushedRequest(error_text(&e)))?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            return Err(LoginError::PushedRequest(format!(
                "{status}: {}",
                text.chars().take(300).collect::<String>()
            )));
        }
        let pushed: PushedResponse = serde_json::from_slice(&body)
            .map_err(|e| LoginError::PushedRequest(format!("unreadable answer: {e}")))?;
        Ok(pushed.request_uri)
    }

    /// Completes a login: checks `state`, exchanges the code with `private_key_jwt`,
    /// verifies the id_token (signature, issuer, audience, expiry at `now_secs`, nonce)
    /// and the level.
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
            .add_extra_param("client_assertion_type", JWT_BEARER)
            .add_extra_param("client_assertion", assertion)
            .request_async(&self.http)
            .await
            .map_err(|e| LoginError::TokenExchange(error_text(&e)))?;
        use openidconnect::TokenResponse as _;
        let id_token = response.id_token().ok_or(LoginError::NoIdToken)?;
        // Expiry is judged on the caller's clock (the same one the client assertion
        // uses), so a test can reason about it and a clock problem shows in one place.
        let now = chrono::DateTime::from_timestamp(now_secs, 0)
            .ok_or_else(|| LoginError::Request("clock out of range".into()))?;
        let verifier = self.client.id_token_verifier().set_time_fn(move || now);
        let claims = id_token
            .claims(&verifier, &Nonce::new(pending.nonce.clone()))
            .map_err(|e| match e {
                ClaimsVerificationError::SignatureVerification(s) => {
                    LoginError::BadSignature(s.to_string())
                }
                ClaimsVerificationError::Expired(text) => LoginError::Expired(text),
                other => LoginError::InvalidIdToken(other.to_string()),
            })?;
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
            id_token: id_token.to_string(),
        })
    }

    /// The provider's logout address (RP-initiated logout), if it has one.
    pub fn end_session_url(&self) -> Option<&str> {
        self.end_session_endpoint.as_ref().map(Url::as_str)
    }

    /// How to log out at the provider as well (OpenID Connect RP-Initiated Logout 1.0),
    /// or `None` if it has no logout endpoint. `client_id` always goes along: ID-porten
    /// accepts `post_logout_redirect_uri` with `id_token_hint` and/or `client_id`, so
    /// logout still works when the hint is gone (a shredded patient key). `state` comes
    /// back with the user.
    pub fn logout_request(
        &self,
        id_token_hint: Option<&str>,
        state: &str,
    ) -> Option<LogoutRequest> {
        let endpoint = self.end_session_endpoint.clone()?;
        let mut fields = Vec::new();
        if let Some(hint) = id_token_hint {
            fields.push(("id_token_hint".to_owned(), hint.to_owned()));
        }
        fields.push(("client_id".to_owned(), self.config.client_id.clone()));
        if let Some(back) = &self.config.post_logout_redirect_url {
            fields.push(("post_logout_redirect_uri".to_owned(), back.clone()));
        }
        fields.push(("state".to_owned(), state.to_owned()));
        Some(LogoutRequest { endpoint, fields })
    }
}

/// A logout at the provider: its end-session endpoint and the parameters to send there.
/// ID-porten recommends POST (a form the browser submits), which also keeps the id_token,
/// and the identity number in it, out of addresses and browser history.
#[derive(Clone)]
pub struct LogoutRequest {
    endpoint: Url,
    pub fields: Vec<(String, String)>,
}

impl std::fmt::Debug for LogoutRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogoutRequest")
            .field("endpoint", &self.endpoint.as_str())
            .finish_non_exhaustive()
    }
}

impl LogoutRequest {
    /// Where the form goes.
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    /// The provider's origin (`scheme://host:port`), for the form-action of a page's CSP.
    pub fn origin(&self) -> String {
        self.endpoint.origin().ascii_serialization()
    }

    /// The same request as an address (GET), for clients that cannot post.
    pub fn url(&self) -> String {
        let mut url = self.endpoint.clone();
        url.query_pairs_mut().extend_pairs(&self.fields);
        url.to_string()
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
