-- Server-side sessions. Only a hash of the session token is stored, so a copy of the
-- database does not let anyone take over a session. Sessions are not backed up: a
-- restore must never bring an ended session back.
CREATE TABLE sessions (
    token_hash {blob} PRIMARY KEY,
    subject_kind TEXT NOT NULL,
    subject_id {blob} NOT NULL,
    level TEXT NOT NULL,
    provider TEXT NOT NULL,
    provider_sid TEXT,
    csrf_token {blob} NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT,
    end_reason TEXT
);
CREATE INDEX sessions_subject ON sessions (subject_kind, subject_id);
CREATE TABLE login_failures (
    key_hash {blob} NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key_hash, at);
