//! Fortrolig's own key for `private_key_jwt` client authentication (RFC 7523).

use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

use crate::error::LoginError;

pub struct ClientKey {
    pair: EcdsaKeyPair,
    kid: String,
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientKey(kid={})", self.kid)
    }
}

fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

impl ClientKey {
    /// A new P-256 key; returns it with its PKCS#8 form for storing.
    pub fn generate(kid: &str) -> Result<(Self, Vec<u8>), LoginError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| LoginError::ClientKey)?;
        let bytes = pkcs8.as_ref().to_vec();
        Ok((Self::from_pkcs8(&bytes, kid)?, bytes))
    }

    pub fn from_pkcs8(pkcs8: &[u8], kid: &str) -> Result<Self, LoginError> {
        let pair = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            pkcs8,
            &SystemRandom::new(),
        )
        .map_err(|_| LoginError::ClientKey)?;
        Ok(Self {
            pair,
            kid: kid.to_owned(),
        })
    }

    /// The public half as a JWK, for registering the client with the provider.
    pub fn public_jwk(&self) -> serde_json::Value {
        // Uncompressed point: 0x04 | x (32) | y (32).
        let point = self.pair.public_key().as_ref();
        let (x, y) = if point.len() == 65 {
            (&point[1..33], &point[33..65])
        } else {
            (&[][..], &[][..])
        };
        serde_json::json!({
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig",
            "kid": self.kid, "x": b64url(x), "y": b64url(y),
        })
    }

    /// A client assertion: a short-lived JWT signed with this key (RFC 7523 §3).
    pub fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        now_secs: i64,
    ) -> Result<String, LoginError> {
        let claims = serde_json::json!({
            "iss": client_id, "sub": client_id, "aud": audience,
            "iat": now_secs, "nbf": now_secs, "exp": now_secs + 60, "jti": new_jti()?,
        });
        self.sign(&claims)
    }

    /// Any claims as a compact JWT signed ES256 with this key, `kid` in the header (the
    /// Maskinporten grant needs other claims than the client assertion).
    pub fn sign(&self, claims: &serde_json::Value) -> Result<String, LoginError> {
        let header = serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        let signing_input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let signature = self
            .pair
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|_| LoginError::ClientKey)?;
        Ok(format!("{signing_input}.{}", b64url(signature.as_ref())))
    }
}

/// A fresh JWT id: 128 random bits, so a provider can refuse a replayed assertion.
pub(crate) fn new_jti() -> Result<String, LoginError> {
    Ok(b64url(&fortrolig_random::<16>()?))
}

fn fortrolig_random<const N: usize>() -> Result<[u8; N], LoginError> {
    use ring::rand::SecureRandom;
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| LoginError::ClientKey)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_has_no_padding() {
        assert_eq!(b64url(b"f"), "Zg");
        assert_eq!(b64url(b"fo"), "Zm8");
        assert_eq!(b64url(b"foo"), "Zm9v");
        assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn assertion_is_a_verifiable_es256_jwt() -> Result<(), LoginError> {
        let (key, _) = ClientKey::generate("k1")?;
        let jwt = key.assertion("fortrolig", "http://127.0.0.1:1/token", 1_800_000_000)?;
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let public = key.pair.public_key().as_ref().to_vec();
        let sig = parts[2];
        let decoded = decode(sig);
        let verifier = ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            public,
        );
        assert!(
            verifier
                .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &decoded)
                .is_ok()
        );
        assert_eq!(key.public_jwk()["kid"], "k1");
        Ok(())
    }

    fn decode(text: &str) -> Vec<u8> {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let vals: Vec<u32> = text
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
        out
    }
}
