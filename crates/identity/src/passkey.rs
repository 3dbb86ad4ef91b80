//! Passkeys (WebAuthn) for staff, and for patients who have no BankID (issue 3 item 3,
//! VDP 4.1 risk 34). This module runs the two ceremonies with webauthn-rs and knows
//! nothing of storage: a passkey leaves it as bytes for the caller to seal and keep.
//!
//! Login is *discoverable*: the browser offers the passkeys it holds for this site, so a
//! patient needs neither a user name nor an identity number to log in.

use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

/// Why a passkey ceremony failed. The texts are for logs; users get a Norwegian message.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error(
        "the public address {0} cannot serve passkeys (it needs a host name, not an IP address)"
    )]
    Config(String),
    #[error("the browser's answer is not a WebAuthn response: {0}")]
    Malformed(String),
    #[error("the passkey was refused: {0}")]
    Refused(String),
    #[error("the stored passkey cannot be read: {0}")]
    Stored(String),
}

/// The relying party: this server, at its public address.
pub struct PasskeyRp {
    webauthn: Webauthn,
    origin: String,
}

impl std::fmt::Debug for PasskeyRp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyRp")
            .field("origin", &self.origin)
            .finish()
    }
}

/// A registration under way; kept by the server, never sent to the browser.
#[derive(Debug)]
pub struct Enrolment(PasskeyRegistration);

/// A login under way; kept by the server, never sent to the browser.
#[derive(Debug)]
pub struct PasskeyLogin(DiscoverableAuthentication);

/// A newly registered passkey: its credential id (to find it at login) and its stored
/// form (public key, counter; JSON), which the caller seals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPasskey {
    pub credential_id: Vec<u8>,
    pub stored: Vec<u8>,
}

/// What the browser's login answer names, before it is checked.
#[derive(Debug)]
pub struct Presented {
    credential: PublicKeyCredential,
    pub credential_id: Vec<u8>,
    pub user_handle: [u8; 16],
}

fn refused(e: impl std::fmt::Display) -> PasskeyError {
    PasskeyError::Refused(e.to_string())
}

impl PasskeyRp {
    /// `public_url` is the address users type (scheme, host and port); its host is the
    /// relying party id, so passkeys made here work only here.
    pub fn new(public_url: &str, name: &str) -> Result<Self, PasskeyError> {
        let bad = || PasskeyError::Config(public_url.to_owned());
        let url = Url::parse(public_url).map_err(|_| bad())?;
        let host = url.host_str().ok_or_else(bad)?.to_owned();
        if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
            return Err(bad());
        }
        let webauthn = WebauthnBuilder::new(&host, &url)
            .and_then(|b| b.rp_name(name).build())
            .map_err(|_| bad())?;
        let origin = url.origin().ascii_serialization();
        Ok(Self { webauthn, origin })
    }

    /// The origin (`https://host[:port]`) browsers must report; requests from any other
    /// origin are refused before a ceremony starts.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Starts enrolling a passkey for the user `user_handle` (random, not an identity
    /// number: it is stored in the authenticator). Returns the options for
    /// `navigator.credentials.create` as JSON.
    pub fn start_enrolment(
        &self,
        user_handle: [u8; 16],
        name: &str,
    ) -> Result<(serde_json::Value, Enrolment), PasskeyError> {
        let (options, state) = self
            .webauthn
            .start_passkey_registration(Uuid::from_bytes(user_handle), name, name, None)
            .map_err(refused)?;
        let mut json = serde_json::to_value(&options).map_err(refused)?;
        // A resident (discoverable) credential, so that login needs no user name.
        if let Some(selection) = json
            .pointer_mut("/publicKey/authenticatorSelection")
            .and_then(serde_json::Value::as_object_mut)
        {
            selection.insert("residentKey".into(), "required".into());
            selection.insert("requireResidentKey".into(), true.into());
        }
        Ok((json, Enrolment(state)))
    }

    /// Checks the browser's answer to `start_enrolment` (the JSON of
    /// `PublicKeyCredential.toJSON()`).
    pub fn finish_enrolment(
        &self,
        answer: &[u8],
        state: &Enrolment,
    ) -> Result<NewPasskey, PasskeyError> {
        let answer: RegisterPublicKeyCredential =
            serde_json::from_slice(answer).map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        let passkey = self
            .webauthn
            .finish_passkey_registration(&answer, &state.0)
            .map_err(refused)?;
        Ok(NewPasskey {
            credential_id: {
                let id: &[u8] = passkey.cred_id().as_ref();
                id.to_vec()
            },
            stored: serde_json::to_vec(&passkey).map_err(refused)?,
        })
    }

    /// Starts a login with any passkey of this site. Returns the options for
    /// `navigator.credentials.get` as JSON.
    pub fn start_login(&self) -> Result<(serde_json::Value, PasskeyLogin), PasskeyError> {
        let (mut options, state) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(refused)?;
        // webauthn-rs asks for conditional (autofill) mediation; a button is clearer.
        options.mediation = None;
        let json = serde_json::to_value(&options).map_err(refused)?;
        Ok((json, PasskeyLogin(state)))
    }

    /// Reads which credential and user the browser's login answer names.
    pub fn identify(&self, answer: &[u8]) -> Result<Presented, PasskeyError> {
        let credential: PublicKeyCredential =
            serde_json::from_slice(answer).map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        let (user, credential_id) = self
            .webauthn
            .identify_discoverable_authentication(&credential)
            .map_err(refused)?;
        let (user_handle, credential_id) = (*user.as_bytes(), credential_id.to_vec());
        Ok(Presented {
            credential,
            credential_id,
            user_handle,
        })
    }

    /// Checks the signature against the stored passkey. User verification (PIN or
    /// biometrics on the device) is required. Returns the stored form to keep if the
    /// signature counter moved.
    pub fn finish_login(
        &self,
        presented: &Presented,
        state: PasskeyLogin,
        stored: &[u8],
    ) -> Result<Option<Vec<u8>>, PasskeyError> {
        let mut passkey: Passkey =
            serde_json::from_slice(stored).map_err(|e| PasskeyError::Stored(e.to_string()))?;
        let result = self
            .webauthn
            .finish_discoverable_authentication_v2(&presented.credential, state.0, &passkey)
            .map_err(refused)?;
        if !result.user_verified() {
            return Err(PasskeyError::Refused("the user was not verified".into()));
        }
        match passkey.update_credential(&result) {
            Some(true) => Ok(Some(serde_json::to_vec(&passkey).map_err(refused)?)),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ip_address_cannot_be_a_relying_party() {
        assert!(PasskeyRp::new("http://127.0.0.1:8080", "Fortrolig").is_err());
        assert!(PasskeyRp::new("not a url", "Fortrolig").is_err());
        let rp = PasskeyRp::new("http://localhost:8080", "Fortrolig");
        assert_eq!(
            rp.map(|r| r.origin().to_owned()).ok().as_deref(),
            Some("http://localhost:8080")
        );
    }

    #[test]
    fn enrolment_asks_for_a_discoverable_verified_credential() -> Result<(), PasskeyError> {
        let rp = PasskeyRp::new("https://klinikk.example.no", "Fortrolig")?;
        let (options, _) = rp.start_enrolment([7; 16], "Kari Nordmann")?;
        let selection = &options["publicKey"]["authenticatorSelection"];
        assert_eq!(selection["residentKey"], "required");
        assert_eq!(selection["userVerification"], "required");
        assert_eq!(options["publicKey"]["rp"]["id"], "klinikk.example.no");
        let (login, _) = rp.start_login()?;
        assert!(login.get("mediation").is_none());
        assert_eq!(login["publicKey"]["userVerification"], "required");
        Ok(())
    }

    #[test]
    fn garbage_answers_are_refused_not_panicked_on() -> Result<(), PasskeyError> {
        let rp = PasskeyRp::new("https://klinikk.example.no", "Fortrolig")?;
        let (_, state) = rp.start_enrolment([7; 16], "Kari")?;
        for answer in [&b""[..], b"{}", b"null", b"{\"id\":\"x\",\"rawId\":\"x\"}"] {
            assert!(rp.finish_enrolment(answer, &state).is_err());
            assert!(rp.identify(answer).is_err());
        }
        Ok(())
    }
}
