-- Secure messaging (issue 4): threads between one patient and the clinic, their messages
-- and attachments. Subjects, texts and attachments are sealed under the patient's data
-- key, so crypto-shredding the patient makes them unreadable, also in earlier backups.
-- Flags are BIGINT 0/1 so that both backends read them alike.
CREATE TABLE threads (
    id {blob} PRIMARY KEY,
    patient_id {blob} NOT NULL,
    kind TEXT NOT NULL,
    subject {blob} NOT NULL,
    status TEXT NOT NULL,
    assigned_staff {blob},
    assigned_team {blob},
    cannot_answer BIGINT NOT NULL,
    started_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX threads_patient ON threads (patient_id, updated_at);
CREATE INDEX threads_updated ON threads (updated_at);
-- `internal` messages are staff notes the patient never sees. `read_at` is when the other
-- side first opened it (a read confirmation, P5). A recalled message keeps its row, for
-- the record, but loses its content.
CREATE TABLE messages (
    id {blob} PRIMARY KEY,
    thread_id {blob} NOT NULL REFERENCES threads (id),
    author_kind TEXT NOT NULL,
    author_id {blob} NOT NULL,
    internal BIGINT NOT NULL,
    body {blob} NOT NULL,
    journal_worthy BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT,
    recalled_at BIGINT
);
CREATE INDEX messages_thread ON messages (thread_id, created_at);
CREATE TABLE attachments (
    id {blob} PRIMARY KEY,
    message_id {blob} NOT NULL REFERENCES messages (id),
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    content {blob} NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id);
