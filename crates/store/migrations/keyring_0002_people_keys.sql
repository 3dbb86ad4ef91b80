-- One data key per clinic for its staff's personal data (names), wrapped by the clinic
-- key like the patients' keys and rewrapped with them on rotation.
CREATE TABLE people_keys (
    org_number TEXT PRIMARY KEY,
    key_id {blob} NOT NULL,
    clinic_key_version BIGINT NOT NULL,
    wrapped {blob} NOT NULL
);
