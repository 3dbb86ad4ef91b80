//! Activation codes and passkeys (issue 3 item 3): the clinic checks a person's identity
//! in person, hands over a one-time code, and the person enrols a passkey with it. The
//! WebAuthn ceremony itself is in `fortrolig-identity`; this module keeps its results.

use std::fmt;

use fortrolig_domain::{Action, PatientId, Source, StaffId, Timestamp};
use fortrolig_store::{ActivationRow, PasskeyRow, StoreError};
use fortrolig_vault::Aad;

use crate::clinic::{ActContext, Clinic};
use crate::error::ServiceError;
use crate::sessions::SessionSubject;

/// How long an activation code can be used. Short, because it stands in for an
/// identity check that happened at the desk.
pub const ACTIVATION_LIFETIME_MICROS: i64 = 24 * 3_600_000_000;

/// Characters of a code: Crockford's base32 (no I, L, O, U), easy to read out and type.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// 12 characters of 5 bits: 60 random bits, far beyond what the lockout lets anyone guess.
const CODE_LENGTH: usize = 12;

/// How a person's identity was proven before a code was issued (kept with the code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityProof {
    Passport,
    NationalIdCard,
    DrivingLicence,
    /// The operator created the first administrator from the command line
    /// (`fortrolig admin invite`) and vouches for who receives the link.
    OperatorInvite,
}

impl IdentityProof {
    /// The forms a member of staff can choose at the desk.
    pub const AT_THE_DESK: [IdentityProof; 3] = [
        IdentityProof::Passport,
        IdentityProof::NationalIdCard,
        IdentityProof::DrivingLicence,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdentityProof::Passport => "pass",
            IdentityProof::NationalIdCard => "nasjonalt-id-kort",
            IdentityProof::DrivingLicence => "forerkort",
            IdentityProof::OperatorInvite => "driftsinvitasjon",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            IdentityProof::Passport => "Pass, kontrollert ved oppmøte",
            IdentityProof::NationalIdCard => "Nasjonalt ID-kort, kontrollert ved oppmøte",
            IdentityProof::DrivingLicence => "Førerkort, kontrollert ved oppmøte",
            IdentityProof::OperatorInvite => "Invitasjon fra driftsoperatør",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            IdentityProof::Passport,
            IdentityProof::NationalIdCard,
            IdentityProof::DrivingLicence,
            IdentityProof::OperatorInvite,
        ]
        .into_iter()
        .find(|p| p.as_str() == text)
    }
}

/// A code as handed to the person. Shown once; only its keyed hash is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct ActivationCode(String);

impl ActivationCode {
    fn generate() -> Result<Self, ServiceError> {
        let random = fortrolig_vault::random_bytes::<8>()?;
        let mut bits = u64::from_be_bytes(random);
        let mut code = String::with_capacity(CODE_LENGTH);
        for _ in 0..CODE_LENGTH {
            code.push(char::from(ALPHABET[(bits & 31) as usize]));
            bits >>= 5;
        }
        Ok(Self(code))
    }

    /// Reads a code as a person typed it: any case, with or without dashes and spaces,
    /// and O, I and L read as 0, 1 and 1 as Crockford's base32 says.
    pub fn parse(typed: &str) -> Option<Self> {
        let mut code = String::with_capacity(CODE_LENGTH);
        for c in typed.chars().filter(|c| !matches!(c, '-' | ' ')) {
            let c = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return None;
            }
            code.push(c);
        }
        (code.len() == CODE_LENGTH).then_some(Self(code))
    }

    /// `ABCD-EFGH-JKMN`.
    pub fn grouped(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        chars
            .chunks(4)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join("-")
    }
}

impl fmt::Debug for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ActivationCode(<secret>)")
    }
}

#[derive(Debug)]
pub struct IssuedActivation {
    pub code: ActivationCode,
    pub expires_at: Timestamp,
}

/// A code that is valid now: whom it enrols.
#[derive(Debug, Clone)]
pub struct Activation {
    id: Vec<u8>,
    pub subject: SessionSubject,
    pub proof: String,
}

/// A passkey as the login ceremony needs it: whose it is and its opened stored form.
#[derive(Debug)]
pub struct StoredPasskey {
    pub subject: SessionSubject,
    pub user_handle: Vec<u8>,
    pub passkey: Vec<u8>,
}

/// What a person (or their administrator) sees of a passkey.
#[derive(Debug, Clone)]
pub struct PasskeyInfo {
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub proof: String,
}

/// Failed codes are counted per address, so that one guesser locks out only themselves.
fn activation_account(source: &Source) -> String {
    format!(
        "aktiveringskode:{}",
        source.address.as_deref().unwrap_or("ukjent")
    )
}

fn passkey_aad(clinic: &str, credential_id: &[u8]) -> Aad {
    Aad::new(clinic, "passkeys", credential_id, "passkey")
}

fn subject_of(kind: &str, id: &[u8]) -> Result<SessionSubject, ServiceError> {
    let bad = || StoreError::Malformed("activation or passkey subject".into());
    match kind {
        "patient" => Ok(SessionSubject::Patient(
            PatientId::from_slice(id).ok_or_else(bad)?,
        )),
        "staff" => Ok(SessionSubject::Staff(
            StaffId::from_slice(id).ok_or_else(bad)?,
        )),
        _ => Err(bad().into()),
    }
}

impl Clinic {
    fn code_hash(&self, code: &ActivationCode, keys: &crate::keys::ClinicKeys) -> Vec<u8> {
        keys.blind.index("activation-code", &code.0).to_vec()
    }

    /// Issues a one-time code for `subject`, after their identity was proven as `proof`.
    /// The caller has checked that the actor may do so.
    pub async fn issue_activation(
        &self,
        ctx: &ActContext,
        subject: SessionSubject,
        proof: IdentityProof,
    ) -> Result<IssuedActivation, ServiceError> {
        match subject {
            SessionSubject::Patient(id) => {
                if self.store.patient(id.as_bytes()).await?.is_none() {
                    return Err(ServiceError::NoSuchPatient);
                }
            }
            SessionSubject::Staff(id) => {
                self.staff_member(id).await?;
            }
        }
        let code = ActivationCode::generate()?;
        let now = self.clock.now().as_micros();
        let expires_at = now + ACTIVATION_LIFETIME_MICROS;
        let row = ActivationRow {
            id: fortrolig_vault::random_bytes::<16>()?.to_vec(),
            code_hash: self.code_hash(&code, &*self.keys.read().await),
            subject_kind: subject.kind().into(),
            subject_id: subject.id_bytes().to_vec(),
            identity_proof: proof.as_str().into(),
            issued_by: ctx.actor.id.clone(),
            created_at: now,
            expires_at,
            used_at: None,
        };
        let patient = subject.patient();
        self.write(
            ctx,
            Action::ActivationIssued,
            patient,
            &format!("{} {}", subject.actor_id(), proof.as_str()),
            move |tx| Box::pin(async move { tx.insert_activation(&row).await }),
        )
        .await?;
        Ok(IssuedActivation {
            code,
            expires_at: Timestamp(expires_at),
        })
    }

    /// The activation a typed code stands for, if it is unused and not expired. A wrong
    /// code counts as a failed login from `source` (the caller checks the lockout first).
    pub async fn activation(
        &self,
        typed: &str,
        source: &Source,
    ) -> Result<Option<Activation>, ServiceError> {
        let row = match ActivationCode::parse(typed) {
            Some(code) => {
                let hash = self.code_hash(&code, &*self.keys.read().await);
                self.store.activation_by_hash(&hash).await?
            }
            None => None,
        };
        let now = self.clock.now().as_micros();
        match row {
            Some(row) if row.used_at.is_none() && row.expires_at > now => Ok(Some(Activation {
                subject: subject_of(&row.subject_kind, &row.subject_id)?,
                id: row.id,
                proof: row.identity_proof,
            })),
            _ => {
                self.login_failed(
                    &activation_account(source),
                    source,
                    "ugyldig eller brukt aktiveringskode",
                )
                .await?;
                Ok(None)
            }
        }
    }

    /// Whether this address has guessed wrong too often lately (S4, X3).
    pub async fn activation_locked_out(&self, source: &Source) -> Result<bool, ServiceError> {
        self.locked_out(
            &activation_account(source),
            source.address.as_deref().unwrap_or_default(),
        )
        .await
    }

    /// Stores the passkey an activation enrolled and uses the code up, in one audited
    /// transaction. `Ok(false)`: the code was used or expired in the meantime.
    pub async fn enrol_passkey(
        &self,
        activation: &Activation,
        credential_id: &[u8],
        user_handle: &[u8],
        passkey: &[u8],
        source: &Source,
    ) -> Result<bool, ServiceError> {
        if self.store.passkey(credential_id).await?.is_some() {
            return Err(ServiceError::Invalid(
                "this passkey is already registered".into(),
            ));
        }
        let subject = activation.subject;
        let key = self.subject_key(subject).await?;
        let now = self.clock.now().as_micros();
        let row = PasskeyRow {
            credential_id: credential_id.to_vec(),
            subject_kind: subject.kind().into(),
            subject_id: subject.id_bytes().to_vec(),
            user_handle: user_handle.to_vec(),
            passkey: key.seal(&passkey_aad(self.org().as_str(), credential_id), passkey)?,
            activation_id: activation.id.clone(),
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        };
        let ctx = self.subject_context(subject, source, "passnøkkel registrert");
        let done = self
            .write(
                &ctx,
                Action::PasskeyEnrolled,
                subject.patient(),
                &format!("{} {}", subject.actor_id(), activation.proof),
                move |tx| Box::pin(async move { tx.enrol_passkey(&row, now).await }),
            )
            .await;
        match done {
            Ok(()) => Ok(true),
            Err(ServiceError::Store(StoreError::NotOpen)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The passkey with this credential id, opened, if it is registered and not revoked.
    /// `None` also when it cannot be opened (a shredded patient, a planted row).
    pub async fn passkey_for_login(
        &self,
        credential_id: &[u8],
    ) -> Result<Option<StoredPasskey>, ServiceError> {
        let Some(row) = self.store.passkey(credential_id).await? else {
            return Ok(None);
        };
        if row.revoked_at.is_some() {
            return Ok(None);
        }
        let subject = subject_of(&row.subject_kind, &row.subject_id)?;
        let key = match self.subject_key(subject).await {
            Ok(key) => key,
            Err(ServiceError::Shredded) => return Ok(None),
            Err(e) => return Err(e),
        };
        match key.open(
            &passkey_aad(self.org().as_str(), credential_id),
            &row.passkey,
        ) {
            Ok(passkey) => Ok(Some(StoredPasskey {
                subject,
                user_handle: row.user_handle,
                passkey,
            })),
            Err(_) => {
                tracing::warn!("a stored passkey did not open: refused");
                Ok(None)
            }
        }
    }

    /// Records a login with a passkey: its new signature counter, if it moved.
    pub async fn passkey_used(
        &self,
        credential_id: &[u8],
        subject: SessionSubject,
        updated: Option<&[u8]>,
    ) -> Result<(), ServiceError> {
        let sealed = match updated {
            Some(passkey) => Some(
                self.subject_key(subject)
                    .await?
                    .seal(&passkey_aad(self.org().as_str(), credential_id), passkey)?,
            ),
            None => None,
        };
        let now = self.clock.now().as_micros();
        Ok(self
            .store
            .passkey_used(credential_id, sealed.as_deref(), now)
            .await?)
    }

    /// Revokes all of a subject's passkeys (a lost phone, a person who leaves).
    pub async fn revoke_passkeys(
        &self,
        ctx: &ActContext,
        subject: SessionSubject,
    ) -> Result<u64, ServiceError> {
        let now = self.clock.now().as_micros();
        self.write(
            ctx,
            Action::PasskeysRevoked,
            subject.patient(),
            &subject.actor_id(),
            move |tx| {
                Box::pin(async move {
                    tx.revoke_passkeys(subject.kind(), subject.id_bytes(), now)
                        .await
                })
            },
        )
        .await
    }

    /// A subject's passkeys with how their identity was proven, oldest first.
    pub async fn passkeys_of(
        &self,
        subject: SessionSubject,
    ) -> Result<Vec<PasskeyInfo>, ServiceError> {
        let proofs = self
            .store
            .activations_of(subject.kind(), subject.id_bytes())
            .await?;
        Ok(self
            .store
            .passkeys_of(subject.kind(), subject.id_bytes())
            .await?
            .into_iter()
            .map(|row| PasskeyInfo {
                created_at: Timestamp(row.created_at),
                last_used_at: row.last_used_at.map(Timestamp),
                revoked_at: row.revoked_at.map(Timestamp),
                proof: proofs
                    .iter()
                    .find(|a| a.id == row.activation_id)
                    .map(|a| a.identity_proof.clone())
                    .unwrap_or_default(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_twelve_unambiguous_characters_and_read_back_as_typed_s4()
    -> Result<(), ServiceError> {
        for _ in 0..200 {
            let code = ActivationCode::generate()?;
            assert_eq!(code.0.len(), CODE_LENGTH);
            let grouped = code.grouped();
            assert_eq!(grouped.len(), 14);
            assert_eq!(ActivationCode::parse(&grouped), Some(code.clone()));
            assert_eq!(
                ActivationCode::parse(&grouped.to_lowercase().replace('-', " ")),
                Some(code)
            );
        }
        assert_eq!(
            ActivationCode::parse("o1il-0000-0000"),
            ActivationCode::parse("0111-0000-0000")
        );
        for bad in [
            "",
            "ABCD",
            "ABCD-EFGH-JKMN-P",
            "ABCD-EFGH-JKMU",
            "ÆØÅÆ-ØÅÆØ-ÅÆØÅ",
        ] {
            assert_eq!(ActivationCode::parse(bad), None, "{bad}");
        }
        Ok(())
    }

    #[test]
    fn identity_proofs_round_trip() {
        for proof in IdentityProof::AT_THE_DESK
            .into_iter()
            .chain([IdentityProof::OperatorInvite])
        {
            assert_eq!(IdentityProof::parse(proof.as_str()), Some(proof));
        }
        assert_eq!(IdentityProof::parse("bankid"), None);
    }
}
