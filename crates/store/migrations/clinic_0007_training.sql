-- Training on the solution (S6), and the clinic's settings (such as requiring training
-- before a person's first access to health data).
CREATE TABLE training (
    staff_id {blob} NOT NULL,
    course TEXT NOT NULL,
    completed_at BIGINT NOT NULL,
    recorded_by TEXT NOT NULL,
    PRIMARY KEY (staff_id, course, completed_at)
);
CREATE TABLE clinic_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
