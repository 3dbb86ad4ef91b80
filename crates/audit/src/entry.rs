//! The stored form of an audit entry and its canonical encoding.

use fortrolig_domain::{AuditEvent, Timestamp};

/// An entry as stored: plain strings, so that a tampered row can still be hashed and
/// reported rather than failing to parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    pub seq: u64,
    pub at: i64,
    pub actor_id: String,
    pub actor_role: String,
    pub actor_clinic: String,
    pub actor_hpr: Option<String>,
    pub patient: Option<String>,
    pub action: String,
    pub object: String,
    pub reason: String,
    pub outcome: String,
    pub source_session: Option<String>,
    pub source_address: Option<String>,
}

impl LogEntry {
    pub fn new(seq: u64, at: Timestamp, event: &AuditEvent) -> Self {
        Self {
            seq,
            at: at.as_micros(),
            actor_id: event.actor.id.clone(),
            actor_role: event.actor.role.clone(),
            actor_clinic: event.actor.clinic.to_string(),
            actor_hpr: event.actor.hpr.as_ref().map(ToString::to_string),
            patient: event.patient.map(|p| p.to_string()),
            action: event.action.as_str().to_owned(),
            object: event.object.clone(),
            reason: event.reason.clone(),
            outcome: event.outcome.as_str().to_owned(),
            source_session: event.source.session.clone(),
            source_address: event.source.address.clone(),
        }
    }

    /// Length-prefixed fields in a fixed order: two different entries never encode alike.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(160);
        out.extend_from_slice(b"fortrolig/audit/v1");
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.at.to_be_bytes());
        for field in [&self.actor_id, &self.actor_role, &self.actor_clinic] {
            put_str(&mut out, field);
        }
        put_opt(&mut out, self.actor_hpr.as_deref());
        put_opt(&mut out, self.patient.as_deref());
        for field in [&self.action, &self.object, &self.reason, &self.outcome] {
            put_str(&mut out, field);
        }
        put_opt(&mut out, self.source_session.as_deref());
        put_opt(&mut out, self.source_address.as_deref());
        out
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> LogEntry {
        LogEntry {
            seq: 1,
            at: 5,
            actor_id: "a".into(),
            actor_role: "lege".into(),
            actor_clinic: "974760673".into(),
            actor_hpr: None,
            patient: Some("p".into()),
            action: "patient.read".into(),
            object: "patient:p".into(),
            reason: "behandling".into(),
            outcome: "granted".into(),
            source_session: None,
            source_address: Some("127.0.0.1".into()),
        }
    }

    #[test]
    fn encoding_separates_fields_unambiguously() {
        let a = entry();
        let mut b = entry();
        b.actor_id = "al".into();
        b.actor_role = "ege".into();
        assert_ne!(a.encode(), b.encode());
        let mut c = entry();
        c.actor_hpr = Some(String::new());
        assert_ne!(a.encode(), c.encode());
    }
}
