-- Notices by SMS and e-mail (issue 5; N1-N7, P4). `notices` is the durable outbox and
-- the log of every notice (N6): a notice is stored before it is sent, with its address
-- and text sealed under the patient's data key (shredding the patient makes them
-- unreadable) and the text's SHA-256 in the clear, for the log. `status` moves from
-- queued to sending (a lease) to sent and delivered, or to blocked, failed, bounced or
-- skipped; nothing is deleted except with the patient.
CREATE TABLE notices (
    id {blob} PRIMARY KEY,
    patient_id {blob} NOT NULL,
    thread_id {blob},
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    address {blob},
    body {blob},
    body_hash {blob} NOT NULL,
    status TEXT NOT NULL,
    findings TEXT,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    delivered_at BIGINT,
    ended_at BIGINT,
    provider_ref TEXT,
    last_error TEXT
);
CREATE INDEX notices_due ON notices (status, next_attempt_at);
CREATE INDEX notices_patient ON notices (patient_id, created_at);
-- The clinic's own wording per kind and channel (item 3); checked when saved.
CREATE TABLE notice_templates (
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (kind, channel)
);
-- Consent per service and notice channel (P4, N4): every change is a new row, with the
-- version of the text the patient saw; the newest row per subject counts.
CREATE TABLE consents (
    id {blob} PRIMARY KEY,
    patient_id {blob} NOT NULL,
    subject TEXT NOT NULL,
    granted BIGINT NOT NULL,
    text_version TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX consents_patient ON consents (patient_id, subject, at);
-- Work for staff (N5, P10): reach a patient another way when an important notice could
-- not be delivered or was not read in time.
CREATE TABLE staff_tasks (
    id {blob} PRIMARY KEY,
    kind TEXT NOT NULL,
    patient_id {blob} NOT NULL,
    notice_id {blob},
    thread_id {blob},
    created_at BIGINT NOT NULL,
    done_at BIGINT,
    done_by TEXT
);
CREATE INDEX staff_tasks_open ON staff_tasks (done_at, created_at);
