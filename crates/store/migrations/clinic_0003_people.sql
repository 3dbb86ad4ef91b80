-- People of the clinic, their time-limited authorisations (S2), care relationships
-- (tjenstlig behov, S1) and emergency access (nødrett, S3). Nothing here is ever deleted:
-- authorisations and their history are kept for at least five years.
CREATE TABLE staff (
    id {blob} PRIMARY KEY,
    name {blob} NOT NULL,
    hpr TEXT,
    active BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    deactivated_at BIGINT
);
CREATE TABLE authorisations (
    id {blob} PRIMARY KEY,
    staff_id {blob} NOT NULL,
    role TEXT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_until BIGINT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    ended_at BIGINT,
    ended_by TEXT
);
CREATE INDEX authorisations_staff ON authorisations (staff_id);
CREATE TABLE care_relationships (
    staff_id {blob} NOT NULL,
    patient_id {blob} NOT NULL,
    since BIGINT NOT NULL,
    ended_at BIGINT,
    PRIMARY KEY (staff_id, patient_id, since)
);
CREATE TABLE emergency_access (
    id {blob} PRIMARY KEY,
    staff_id {blob} NOT NULL,
    patient_id {blob} NOT NULL,
    reason {blob} NOT NULL,
    granted_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    reviewed_by TEXT,
    reviewed_at BIGINT,
    review_note TEXT
);
CREATE INDEX emergency_access_patient ON emergency_access (patient_id);
