/// Why a login did not complete. Each is shown to the user as a Norwegian message by the
/// web layer and recorded as a security event.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("cannot reach or read the identity provider: {0}")]
    Discovery(String),
    #[error("the login request could not be built: {0}")]
    Request(String),
    #[error("the provider refused the pushed authorization request: {0}")]
    PushedRequest(String),
    #[error("the state returned does not match this login (possible forgery or a stale tab)")]
    StateMismatch,
    #[error("the response names another issuer than the one the login was sent to")]
    IssuerMismatch,
    #[error("the identity provider refused the code: {0}")]
    TokenExchange(String),
    #[error("the identity provider sent no id_token")]
    NoIdToken,
    /// The id_token's signature does not verify against the provider's published keys:
    /// it was changed on the way or made by someone else. A sign of attack, not of a slow
    /// user, so it gets its own variant (and its own entry in the security log).
    #[error("the id_token signature does not verify: {0}")]
    BadSignature(String),
    #[error("the id_token has expired: {0}")]
    Expired(String),
    #[error("the id_token is not valid: {0}")]
    InvalidIdToken(String),
    #[error("the login was at a lower security level than required")]
    LevelTooLow,
    #[error("the id_token lacks the identity claim {0}")]
    MissingClaim(&'static str),
    #[error("the identity provider reported an error: {0}")]
    Provider(String),
    #[error("the client key is malformed")]
    ClientKey,
}
