//! Typed ids: a `PatientId` is not any other id, and it is validated where it enters.

use std::fmt;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    #[error("an id must be 32 lowercase hexadecimal characters")]
    Malformed,
}

macro_rules! random_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; 16]);

        impl $name {
            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(bytes)
            }

            pub fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }

            /// Parses the 32-character lowercase hex form.
            pub fn parse(text: &str) -> Result<Self, IdError> {
                parse_hex16(text).map(Self)
            }

            /// From stored bytes; `None` unless exactly 16.
            pub fn from_slice(bytes: &[u8]) -> Option<Self> {
                bytes.try_into().ok().map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                for b in self.0 {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }
    };
}

random_id!(
    /// A patient's internal, random id. It carries no personal data: it is what audit
    /// entries and key ids refer to, so that neither needs the fødselsnummer.
    PatientId
);
random_id!(
    /// A member of staff's internal, random id.
    StaffId
);
random_id!(
    /// One authorisation (a role granted for a period).
    GrantId
);
random_id!(
    /// One emergency access (nødrett).
    EmergencyId
);
random_id!(
    /// A team of the clinic, which can hold care relationships for its members (S1).
    TeamId
);
random_id!(
    /// A conversation between one patient and the clinic (P5, S7).
    ThreadId
);
random_id!(
    /// One message in a thread.
    MessageId
);
random_id!(
    /// A patient's request under their rights (retting, sletting, begrensning, kopi; P9).
    RequestId
);
random_id!(
    /// An incident in the clinic's register (avvik; C4, S7).
    IncidentId
);

fn parse_hex16(text: &str) -> Result<[u8; 16], IdError> {
    let bytes = text.as_bytes();
    if bytes.len() != 32 {
        return Err(IdError::Malformed);
    }
    let mut out = [0u8; 16];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let hi = hex_value(pair[0]).ok_or(IdError::Malformed)?;
        let lo = hex_value(pair[1]).ok_or(IdError::Malformed)?;
        out[i] = (hi << 4) | lo;
    }
    Ok(out)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patient_id_round_trips_through_text() {
        let id = PatientId::from_bytes([0xab; 16]);
        assert_eq!(PatientId::parse(&id.to_string()), Ok(id));
    }

    #[test]
    fn patient_id_rejects_malformed_text() {
        for bad in ["", "abc", &"g".repeat(32), &"A".repeat(32), &"a".repeat(33)] {
            assert_eq!(PatientId::parse(bad), Err(IdError::Malformed));
        }
    }
}
