-- One clinic's store. Every personal field is AES-256-GCM ciphertext bound to its row.
CREATE TABLE patients (
    id {blob} PRIMARY KEY,
    person_number_index {blob} NOT NULL UNIQUE,
    person_number {blob} NOT NULL,
    name {blob} NOT NULL,
    phone {blob},
    email {blob},
    created_at BIGINT NOT NULL
);
CREATE TABLE audit_entries (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_clinic TEXT NOT NULL,
    actor_hpr TEXT,
    patient_id TEXT,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    reason TEXT NOT NULL,
    outcome TEXT NOT NULL,
    source_session TEXT,
    source_address TEXT,
    root_after {blob} NOT NULL
);
CREATE TABLE audit_state (
    id BIGINT PRIMARY KEY,
    frontier {blob} NOT NULL
);
