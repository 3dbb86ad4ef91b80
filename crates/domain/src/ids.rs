//! Typed ids: a `PatientId` is not any other id, and it is validated where it enters.

use std::fmt;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    #[error("an id must be 32 lowercase hexadecimal characters")]
    Malformed,
}

/// A patient's internal, random id. It carries no personal data: it is what audit
/// entries and key ids refer to, so that neither needs the fødselsnummer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PatientId([u8; 16]);

impl PatientId {
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    pub fn parse(text: &str) -> Result<Self, IdError> {
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
        Ok(Self(out))
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

impl fmt::Display for PatientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for PatientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PatientId({self})")
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
