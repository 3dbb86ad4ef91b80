-- The provider's id_token for an open session, kept so that logout can end the session at
-- the provider too (id_token_hint). It names the person (ID-porten's pid), so it is stored
-- only sealed: under the patient's data key (shredding the patient makes it unreadable) or
-- under the clinic's key for staff data. It is cleared when the session ends.
ALTER TABLE sessions ADD COLUMN id_token {blob};
