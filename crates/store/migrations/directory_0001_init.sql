-- The directory holds only what routing needs, and no personal data (X5).
CREATE TABLE clinics (
    org_number TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
