-- Signed tree heads: the latest one (kind 'latest') and a checkpoint every 1,024 entries.
CREATE TABLE audit_tree_heads (
    tree_size BIGINT NOT NULL,
    kind TEXT NOT NULL,
    root {blob} NOT NULL,
    signed_at BIGINT NOT NULL,
    key_version BIGINT NOT NULL,
    signature {blob} NOT NULL,
    PRIMARY KEY (kind, tree_size)
);
CREATE INDEX audit_entries_patient ON audit_entries (patient_id);
