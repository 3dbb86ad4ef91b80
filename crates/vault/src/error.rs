#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the operating system gave no random bytes")]
    Random,
    #[error("decryption failed: wrong key, or the data was changed or moved")]
    Decrypt,
    #[error("the ciphertext is malformed or truncated")]
    Malformed,
    #[error("the ciphertext was made with key {found}, but key {expected} was given")]
    WrongKey { expected: String, found: String },
    #[error(
        "master key file {path}: {problem}. Create it with `fortrolig demo` or give 32 random bytes as 64 hex characters"
    )]
    MasterKeyFile { path: String, problem: String },
    #[error("master key: {0}")]
    MasterKeyText(&'static str),
    #[error("signing key is malformed")]
    SigningKey,
    #[error("signature does not verify")]
    Signature,
}
