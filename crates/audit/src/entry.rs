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
        self.fields().encode_into(&mut out);
        out
    }

    pub fn fields(&self) -> EntryFields<'_> {
        EntryFields {
            seq: self.seq,
            at: self.at,
            actor_id: &self.actor_id,
            actor_role: &self.actor_role,
            actor_clinic: &self.actor_clinic,
            actor_hpr: self.actor_hpr.as_deref(),
            patient: self.patient.as_deref(),
            action: &self.action,
            object: &self.object,
            reason: &self.reason,
            outcome: &self.outcome,
            source_session: self.source_session.as_deref(),
            source_address: self.source_address.as_deref(),
        }
    }
}

/// An entry's fields borrowed from wherever they lie (a database row), so that a bulk
/// reader can hash entries without allocating a `LogEntry` for each.
#[derive(Clone, Copy, Debug)]
pub struct EntryFields<'a> {
    pub seq: u64,
    pub at: i64,
    pub actor_id: &'a str,
    pub actor_role: &'a str,
    pub actor_clinic: &'a str,
    pub actor_hpr: Option<&'a str>,
    pub patient: Option<&'a str>,
    pub action: &'a str,
    pub object: &'a str,
    pub reason: &'a str,
    pub outcome: &'a str,
    pub source_session: Option<&'a str>,
    pub source_address: Option<&'a str>,
}

impl EntryFields<'_> {
    /// Appends the canonical encoding (see `LogEntry::encode`) to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"fortrolig/audit/v1");
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.at.to_be_bytes());
        for field in [self.actor_id, self.actor_role, self.actor_clinic] {
            put_str(out, field);
        }
        put_opt(out, self.actor_hpr);
        put_opt(out, self.patient);
        for field in [self.action, self.object, self.reason, self.outcome] {
            put_str(out, field);
        }
        put_opt(out, self.source_session);
        put_opt(out, self.source_address);
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
