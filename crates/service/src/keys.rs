//! Creating and loading a clinic's keys from the key ring.

use fortrolig_domain::{OrgNumber, Timestamp};
use fortrolig_store::{ClinicKeyRow, KeyRing, SigningKeyRow, StoreError};
use fortrolig_vault::{BlindIndexKey, ClinicKey, KeyId, MasterKey, SigningKey, Wrapped};

use crate::error::ServiceError;

/// A clinic's unwrapped keys, held in memory while the clinic is open.
#[derive(Debug)]
pub(crate) struct ClinicKeys {
    pub clinic_key: ClinicKey,
    pub clinic_key_version: i64,
    pub blind: BlindIndexKey,
    pub signing: SigningKey,
    pub signing_version: u32,
}

pub(crate) fn random_key_id() -> Result<KeyId, ServiceError> {
    Ok(KeyId(fortrolig_vault::random_bytes::<16>()?))
}

pub(crate) fn key_id(bytes: &[u8]) -> Result<KeyId, ServiceError> {
    let id: [u8; 16] = bytes
        .try_into()
        .map_err(|_| StoreError::Malformed("key id is not 16 bytes".into()))?;
    Ok(KeyId(id))
}

pub(crate) fn version_u32(version: i64) -> Result<u32, ServiceError> {
    u32::try_from(version)
        .map_err(|_| StoreError::Malformed("key version out of range".into()).into())
}

pub(crate) async fn create_clinic_keys(
    keyring: &KeyRing,
    master: &MasterKey,
    org: &OrgNumber,
    now: Timestamp,
) -> Result<(), ServiceError> {
    let clinic_key = ClinicKey::generate(random_key_id()?)?;
    let blind = BlindIndexKey::generate()?;
    let signing = SigningKey::generate()?;
    let org_s = org.as_str();
    keyring
        .create_clinic(
            org_s,
            &ClinicKeyRow {
                version: 1,
                key_id: clinic_key.id().0.to_vec(),
                wrapped: master.wrap_clinic_key(org_s, 1, &clinic_key)?.0,
            },
            &master.wrap_blind_key(org_s, &blind)?.0,
            &SigningKeyRow {
                version: 1,
                public_key: signing.public_key().to_vec(),
                wrapped: master.wrap_signing_key(org_s, 1, &signing)?.0,
            },
            now.as_micros(),
        )
        .await?;
    Ok(())
}

pub(crate) async fn load_clinic_keys(
    keyring: &KeyRing,
    master: &MasterKey,
    org: &OrgNumber,
) -> Result<ClinicKeys, ServiceError> {
    let org_s = org.as_str();
    let current = keyring
        .clinic_keys(org_s)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            StoreError::Malformed(format!("the key ring has no key for clinic {org}"))
        })?;
    let version = version_u32(current.version)?;
    let clinic_key = master.unwrap_clinic_key(
        org_s,
        version,
        key_id(&current.key_id)?,
        &Wrapped(current.wrapped),
    )?;
    let blind = master.unwrap_blind_key(org_s, &Wrapped(keyring.blind_index_key(org_s).await?))?;
    let signing_row = keyring
        .signing_keys(org_s)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            StoreError::Malformed(format!("the key ring has no signing key for clinic {org}"))
        })?;
    let signing_version = version_u32(signing_row.version)?;
    let signing =
        master.unwrap_signing_key(org_s, signing_version, &Wrapped(signing_row.wrapped))?;
    Ok(ClinicKeys {
        clinic_key,
        clinic_key_version: current.version,
        blind,
        signing,
        signing_version,
    })
}
