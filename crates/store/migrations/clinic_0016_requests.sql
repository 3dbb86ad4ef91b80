-- The patient's requests under their rights (issue 6 item 3; P9): correction, deletion,
-- restriction and copy, each with its 30-day deadline. Kind, status and times are kept
-- in the clear: they are not health data, and a request must stay answerable and on
-- record after the patient is shredded. The patient's text and the clinic's answer are
-- sealed under the patient's data key, so shredding makes them unreadable.
CREATE TABLE patient_requests (
    id {blob} PRIMARY KEY,
    patient_id {blob} NOT NULL,
    kind TEXT NOT NULL,
    thread_id {blob},
    body {blob} NOT NULL,
    status TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    due_at BIGINT NOT NULL,
    answered_at BIGINT,
    answered_by TEXT,
    answer {blob},
    lifted_at BIGINT
);
CREATE INDEX patient_requests_due ON patient_requests (status, due_at);
CREATE INDEX patient_requests_patient ON patient_requests (patient_id, received_at);
-- Dated corrections (P9: correction by a new, dated entry, never by editing): each points
-- at what it corrects (a message, or the patient's registered data when message_id is
-- NULL), which is left untouched and shown as corrected. The text is sealed.
CREATE TABLE corrections (
    id {blob} PRIMARY KEY,
    patient_id {blob} NOT NULL,
    request_id {blob} NOT NULL,
    message_id {blob},
    body {blob} NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX corrections_patient ON corrections (patient_id, created_at);
CREATE INDEX corrections_message ON corrections (message_id);
