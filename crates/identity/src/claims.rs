//! The claims ID-porten and HelseID add to the id_token.

use openidconnect::AdditionalClaims;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NorwayClaims {
    /// ID-porten: the person's identity number (fødselsnummer or D-nummer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    /// The provider's session id, for logout at the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// HelseID: the person's identity number.
    #[serde(
        default,
        rename = "helseid://claims/identity/pid",
        skip_serializing_if = "Option::is_none"
    )]
    pub helseid_pid: Option<String>,
    /// HelseID: the HPR number of authorised health personnel.
    #[serde(
        default,
        rename = "helseid://claims/hpr/hpr_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub hpr_number: Option<String>,
    /// HelseID: the security level (3 = substantial, 4 = high).
    #[serde(
        default,
        rename = "helseid://claims/identity/security_level",
        skip_serializing_if = "Option::is_none"
    )]
    pub security_level: Option<String>,
}

impl AdditionalClaims for NorwayClaims {}
