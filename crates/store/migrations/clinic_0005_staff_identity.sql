-- Staff log in through HelseID: their identity number is found through a blind index,
-- as the patients' is.
ALTER TABLE staff ADD COLUMN person_number_index {blob};
CREATE UNIQUE INDEX staff_person_number_index ON staff (person_number_index);
