-- Teams (S1, tjenstlig behov): a named team of the clinic, its members over time, and
-- the patients the team treats. A member of staff reaches a patient's health data through
-- their own care relationship or through a team they are a current member of that has a
-- current care relationship with the patient. Rows are never deleted: ending a membership
-- or a relationship sets ended_at, so the history is kept (S2: at least five years).
-- The team's name is free text and could name a patient or a condition, so it is sealed
-- under the clinic's people key, like staff names.
CREATE TABLE teams (
    id {blob} PRIMARY KEY,
    name {blob} NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE team_members (
    team_id {blob} NOT NULL,
    staff_id {blob} NOT NULL,
    since BIGINT NOT NULL,
    ended_at BIGINT,
    PRIMARY KEY (team_id, staff_id, since)
);
CREATE INDEX team_members_staff ON team_members (staff_id);
CREATE TABLE team_care (
    team_id {blob} NOT NULL,
    patient_id {blob} NOT NULL,
    since BIGINT NOT NULL,
    ended_at BIGINT,
    PRIMARY KEY (team_id, patient_id, since)
);
CREATE INDEX team_care_patient ON team_care (patient_id);
-- Authorisations covering several clinics (S2). Each covered clinic's store holds its own
-- copy of the authorisation under the same grant id (the shared reference), and here the
-- full list of clinics it was granted for. An authorisation without rows here covers only
-- this clinic. The list is a record, never a source of access: a clinic decides only from
-- its own authorisations table (X5).
CREATE TABLE authorisation_clinics (
    grant_id {blob} NOT NULL,
    org_number TEXT NOT NULL,
    PRIMARY KEY (grant_id, org_number)
);
