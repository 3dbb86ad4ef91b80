//! The master key: the one secret that must be kept apart from the data it protects.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::aead::Aad;
use crate::error::VaultError;
use crate::keys::{ClinicKey, KeyId, SecretKey, Wrapped};
use crate::signing::SigningKey;
use crate::{BlindIndexKey, aead};

const MASTER_ID: KeyId = KeyId(*b"fortrolig-master");

pub struct MasterKey(SecretKey);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<secret>)")
    }
}

fn file_error(path: &Path, problem: impl Into<String>) -> VaultError {
    VaultError::MasterKeyFile {
        path: path.display().to_string(),
        problem: problem.into(),
    }
}

impl MasterKey {
    /// Reads 64 hex characters (surrounding white space ignored).
    pub fn from_hex(text: &str) -> Result<Self, VaultError> {
        let text = text.trim();
        if text.len() != 64 {
            return Err(VaultError::MasterKeyText(
                "must be exactly 64 hexadecimal characters",
            ));
        }
        let mut out = [0u8; 32];
        for (i, pair) in text.as_bytes().chunks_exact(2).enumerate() {
            let s = std::str::from_utf8(pair)
                .map_err(|_| VaultError::MasterKeyText("not hexadecimal"))?;
            out[i] = u8::from_str_radix(s, 16)
                .map_err(|_| VaultError::MasterKeyText("not hexadecimal"))?;
        }
        if out == [0u8; 32] {
            return Err(VaultError::MasterKeyText("must not be all zeros"));
        }
        Ok(Self(SecretKey(out)))
    }

    /// Loads the key file, or creates it with mode 0600 when it does not exist. A file that
    /// others can read is refused rather than used.
    pub fn load_or_create(path: &Path) -> Result<Self, VaultError> {
        match fs::metadata(path) {
            Ok(meta) => {
                if meta.permissions().mode() & 0o077 != 0 {
                    return Err(file_error(
                        path,
                        "is readable by others; run `chmod 600` on it",
                    ));
                }
                let text = fs::read_to_string(path).map_err(|e| file_error(path, e.to_string()))?;
                Self::from_hex(&text).map_err(|e| file_error(path, e.to_string()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(path),
            Err(e) => Err(file_error(path, e.to_string())),
        }
    }

    fn create(path: &Path) -> Result<Self, VaultError> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| file_error(path, e.to_string()))?;
            let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
        }
        let key = SecretKey::random()?;
        let hex: String = key.0.iter().map(|b| format!("{b:02x}")).collect();
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| file_error(path, e.to_string()))?;
        file.write_all(format!("{hex}\n").as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| file_error(path, e.to_string()))?;
        Ok(Self(key))
    }

    fn seal(&self, context: &Aad, secret: &[u8]) -> Result<Wrapped, VaultError> {
        aead::seal(MASTER_ID, &self.0.0, context, secret).map(Wrapped)
    }

    fn open32(&self, context: &Aad, wrapped: &Wrapped) -> Result<[u8; 32], VaultError> {
        let bytes = aead::open(MASTER_ID, &self.0.0, context, &wrapped.0)?;
        bytes
            .as_slice()
            .try_into()
            .map_err(|_| VaultError::Malformed)
    }

    fn context(clinic: &str, what: &str, version: u32) -> Aad {
        Aad::new(clinic, "keyring", &version.to_be_bytes(), what)
    }

    pub fn wrap_clinic_key(
        &self,
        clinic: &str,
        version: u32,
        key: &ClinicKey,
    ) -> Result<Wrapped, VaultError> {
        key.wrap_under(
            MASTER_ID,
            &self.0.0,
            &Self::context(clinic, "clinic_key", version),
        )
    }

    pub fn unwrap_clinic_key(
        &self,
        clinic: &str,
        version: u32,
        id: KeyId,
        wrapped: &Wrapped,
    ) -> Result<ClinicKey, VaultError> {
        ClinicKey::unwrap_from(
            id,
            wrapped,
            MASTER_ID,
            &self.0.0,
            &Self::context(clinic, "clinic_key", version),
        )
    }

    pub fn wrap_blind_key(&self, clinic: &str, key: &BlindIndexKey) -> Result<Wrapped, VaultError> {
        self.seal(&Self::context(clinic, "blind_index", 0), &key.to_bytes())
    }

    pub fn unwrap_blind_key(
        &self,
        clinic: &str,
        wrapped: &Wrapped,
    ) -> Result<BlindIndexKey, VaultError> {
        self.open32(&Self::context(clinic, "blind_index", 0), wrapped)
            .map(BlindIndexKey::from_bytes)
    }

    pub fn wrap_signing_key(
        &self,
        clinic: &str,
        version: u32,
        key: &SigningKey,
    ) -> Result<Wrapped, VaultError> {
        self.seal(&Self::context(clinic, "signing", version), &key.seed())
    }

    pub fn unwrap_signing_key(
        &self,
        clinic: &str,
        version: u32,
        wrapped: &Wrapped,
    ) -> Result<SigningKey, VaultError> {
        SigningKey::from_seed(self.open32(&Self::context(clinic, "signing", version), wrapped)?)
    }

    /// A key for a purpose outside the hierarchy (backup files), derived so that it needs
    /// no storage of its own.
    pub fn derive(&self, purpose: &str, salt: &[u8]) -> [u8; 32] {
        use ring::hkdf::{HKDF_SHA256, Salt};
        let prk = Salt::new(HKDF_SHA256, salt).extract(&self.0.0);
        let info = [purpose.as_bytes()];
        let mut out = [0u8; 32];
        // The output length is fixed at 32 bytes, which HKDF-SHA-256 always allows.
        if let Ok(okm) = prk.expand(&info, HkdfLen) {
            let _ = okm.fill(&mut out);
        }
        out
    }
}

struct HkdfLen;
impl ring::hkdf::KeyType for HkdfLen {
    fn len(&self) -> usize {
        32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_key_file_is_created_with_mode_0600_and_reloaded()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("vault/master.key");
        let first = MasterKey::load_or_create(&path)?;
        assert_eq!(fs::metadata(&path)?.permissions().mode() & 0o777, 0o600);
        let again = MasterKey::load_or_create(&path)?;
        assert_eq!(first.0.0, again.0.0);
        Ok(())
    }

    #[test]
    fn world_readable_master_key_file_is_refused() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("master.key");
        MasterKey::load_or_create(&path)?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644))?;
        let err = MasterKey::load_or_create(&path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("chmod 600"), "{err}");
        Ok(())
    }

    #[test]
    fn malformed_master_key_text_is_a_clear_error() {
        for bad in ["", "abc", &"zz".repeat(32), &"00".repeat(32)] {
            assert!(MasterKey::from_hex(bad).is_err());
        }
        assert!(MasterKey::from_hex(&"0a".repeat(32)).is_ok());
    }

    #[test]
    fn clinic_key_wrap_is_bound_to_clinic_and_version() -> Result<(), VaultError> {
        let master = MasterKey::from_hex(&"11".repeat(32))?;
        let key = ClinicKey::generate(KeyId([5; 16]))?;
        let wrapped = master.wrap_clinic_key("974760673", 1, &key)?;
        assert!(
            master
                .unwrap_clinic_key("974760673", 1, key.id(), &wrapped)
                .is_ok()
        );
        assert!(
            master
                .unwrap_clinic_key("974760673", 2, key.id(), &wrapped)
                .is_err()
        );
        assert!(
            master
                .unwrap_clinic_key("991825827", 1, key.id(), &wrapped)
                .is_err()
        );
        let wrong = MasterKey::from_hex(&"22".repeat(32))?;
        assert!(
            wrong
                .unwrap_clinic_key("974760673", 1, key.id(), &wrapped)
                .is_err()
        );
        Ok(())
    }
}
