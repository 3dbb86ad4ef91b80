-- A member of staff's identity number, sealed under the clinic's key for staff data, next
-- to its blind index. An administrator acting across clinics is found in each covered
-- clinic by this number (S2), as HelseID logins are; the index alone cannot be reversed.
ALTER TABLE staff ADD COLUMN person_number {blob};
