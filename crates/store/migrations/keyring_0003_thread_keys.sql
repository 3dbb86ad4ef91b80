-- One key per conversation (issue 6 item 3), wrapped by the patient's data key. Deleting
-- the row shreds the conversation: a backup of the clinic's store taken before holds its
-- content sealed with a key that no longer exists anywhere (backups never hold the ring).
CREATE TABLE thread_keys (
    org_number TEXT NOT NULL,
    thread_id {blob} NOT NULL,
    patient_id {blob} NOT NULL,
    key_id {blob} NOT NULL,
    wrapped {blob} NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_number, thread_id)
);
CREATE INDEX thread_keys_patient ON thread_keys (org_number, patient_id);
