-- The yearly access review (S2): each authorisation confirmed or revoked by an
-- administrator, with time and reviewer. Kept like the authorisations themselves.
CREATE TABLE access_reviews (
    grant_id {blob} NOT NULL,
    reviewed_at BIGINT NOT NULL,
    reviewer TEXT NOT NULL,
    decision TEXT NOT NULL,
    PRIMARY KEY (grant_id, reviewed_at)
);
