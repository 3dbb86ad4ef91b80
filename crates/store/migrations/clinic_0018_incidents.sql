-- The clinic's incident register (avvik; C4, S7). A draft is offered by the act that
-- revealed it (a recall of an unread message) in that act's transaction, then assessed:
-- registered with a description and the risk to the patient, or discarded with the reason.
-- Origin, status, times and the risk are plain: the register must stay readable and on
-- record after the patient is shredded. The description is sealed under the clinic's key
-- for its own records (the people key), not the patient's, for the same reason.
CREATE TABLE incidents (
    id {blob} PRIMARY KEY,
    origin TEXT NOT NULL,
    status TEXT NOT NULL,
    patient_id {blob},
    thread_id {blob},
    message_id {blob},
    known_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    description {blob},
    risk TEXT,
    decided_at BIGINT,
    decided_by TEXT,
    reported_at BIGINT,
    patient_told_at BIGINT
);
CREATE INDEX incidents_status ON incidents (status, known_at);
