/// Why a notice did not leave, and whether to try again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The provider or the network failed for now: try again later.
    #[error("temporary failure: {0}")]
    Retry(String),
    /// The provider refused the notice for good (a bad number or address, a refused
    /// sender): trying again will not help.
    #[error("refused: {0}")]
    Permanent(String),
    /// Our own settings are wrong (no credentials, a bad URL or certificate).
    #[error("configuration: {0}")]
    Config(String),
}

impl SendError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, SendError::Retry(_))
    }
}
