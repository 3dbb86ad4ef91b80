-- The clinic's own texts for its information pages (P3, P11). Public information for
-- patients, not personal data; a page without a row shows the built-in default.
CREATE TABLE info_pages (
    slug TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
