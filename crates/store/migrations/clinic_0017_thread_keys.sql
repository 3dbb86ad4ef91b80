-- Deleting one conversation is crypto-shredding too (issue 6 item 3; P9, X4): a thread
-- made from now on has a key of its own in the key ring, wrapped by the patient's key, and
-- its subject, messages and attachments are sealed with it. `key_id` names that key; it
-- is empty for the threads made before, which stay sealed with the patient's key.
ALTER TABLE threads ADD COLUMN key_id {blob};
