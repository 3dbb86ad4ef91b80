-- The key ring is the vault's store: wrapped keys only, never content. It is kept apart
-- from the clinic stores and is not part of their backups, so a destroyed patient key
-- stays destroyed (X4).
CREATE TABLE clinic_keys (
    org_number TEXT NOT NULL,
    version BIGINT NOT NULL,
    key_id {blob} NOT NULL,
    wrapped {blob} NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_number, version)
);
CREATE TABLE clinic_secrets (
    org_number TEXT PRIMARY KEY,
    blind_index_wrapped {blob} NOT NULL
);
CREATE TABLE signing_keys (
    org_number TEXT NOT NULL,
    version BIGINT NOT NULL,
    public_key {blob} NOT NULL,
    wrapped {blob} NOT NULL,
    PRIMARY KEY (org_number, version)
);
CREATE TABLE patient_keys (
    org_number TEXT NOT NULL,
    patient_id {blob} NOT NULL,
    key_id {blob} NOT NULL,
    clinic_key_version BIGINT NOT NULL,
    wrapped {blob} NOT NULL,
    PRIMARY KEY (org_number, patient_id)
);
CREATE TABLE shredded_patients (
    org_number TEXT NOT NULL,
    patient_id {blob} NOT NULL,
    shredded_at BIGINT NOT NULL,
    PRIMARY KEY (org_number, patient_id)
);
-- The latest signed tree head of each clinic's audit log, outside the clinic's store,
-- so that a log cut short in the store is still detected (X3).
CREATE TABLE audit_anchors (
    org_number TEXT PRIMARY KEY,
    tree_size BIGINT NOT NULL,
    root {blob} NOT NULL,
    signed_at BIGINT NOT NULL,
    key_version BIGINT NOT NULL,
    signature {blob} NOT NULL
);
