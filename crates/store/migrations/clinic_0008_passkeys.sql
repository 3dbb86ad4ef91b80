-- Passkeys (WebAuthn) for staff and for patients without BankID, and the one-time
-- activation codes that let a person enrol one after the clinic has checked who they are.
-- A code is stored only as a keyed hash (HMAC with the clinic's blind-index key), so a copy
-- of the database does not give anyone a usable code. Codes are never deleted: each row
-- is also the record of how the person's identity was proven.
CREATE TABLE activation_codes (
    id {blob} PRIMARY KEY,
    code_hash {blob} NOT NULL UNIQUE,
    subject_kind TEXT NOT NULL,
    subject_id {blob} NOT NULL,
    identity_proof TEXT NOT NULL,
    issued_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX activation_codes_subject ON activation_codes (subject_kind, subject_id);
-- The passkey itself (public key, signature counter) is sealed with the clinic's people
-- key, with associated data naming the credential: a row written by someone without the
-- key does not open, so the database alone cannot plant a way in.
CREATE TABLE passkeys (
    credential_id {blob} PRIMARY KEY,
    subject_kind TEXT NOT NULL,
    subject_id {blob} NOT NULL,
    user_handle {blob} NOT NULL,
    passkey {blob} NOT NULL,
    activation_id {blob} NOT NULL REFERENCES activation_codes (id),
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX passkeys_subject ON passkeys (subject_kind, subject_id);
