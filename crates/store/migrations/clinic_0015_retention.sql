-- Retention (issue 6 item 5; X4, S5). A thread's retention counts from when it closed,
-- and journal-worthy content's from when staff marked it transferred to the EPJ; the
-- periods themselves are clinic settings (`oppbevaring.*`). Threads closed before this
-- migration count from their last change.
ALTER TABLE threads ADD COLUMN closed_at BIGINT;
UPDATE threads SET closed_at = updated_at WHERE status = 'lukket';
CREATE INDEX threads_closed ON threads (closed_at);
ALTER TABLE messages ADD COLUMN transferred_at BIGINT;
CREATE INDEX notices_ended ON notices (ended_at);
