-- Personal data encrypted at rest (issue 17 item 9). A person's ID number,
-- name and mobile are stored sealed (AES-256-GCM, `exam_vault`); rows are
-- found by keyed blind indexes instead. Sealing needs the key ring, so rows
-- written before this migration are converted by the service right after
-- the migrator (`Db::seal_clear_rows`), which also seals photos, waiver
-- signatures, report PDFs, kiosk event payloads, roster error reports and
-- moved print jobs in place (their columns keep their names).

DROP INDEX people_mobile;
DROP INDEX people_name;
-- Created after the migrator on PostgreSQL before this change.
DROP INDEX IF EXISTS people_name_prefix;

-- The person's key: the ID number's blind index (until the conversion, the
-- clear ID number; `id_number` is NULL exactly while a row is in clear).
ALTER TABLE people RENAME COLUMN id_number TO person_key;
ALTER TABLE people ADD COLUMN id_number TEXT;
ALTER TABLE people ADD COLUMN mobile_idx TEXT NOT NULL DEFAULT '';
-- Both follow from the ID number, which is sealed now.
ALTER TABLE people DROP COLUMN sex;
ALTER TABLE people DROP COLUMN birth_date;
CREATE INDEX people_mobile_idx ON people(mobile_idx);

DROP INDEX bookings_id_number;
ALTER TABLE bookings RENAME COLUMN id_number TO person_key;
CREATE INDEX bookings_person ON bookings(person_key);

ALTER TABLE group_members RENAME COLUMN id_number TO person_key;

-- The desk's name search: one token per name prefix (see db/people.rs).
CREATE TABLE person_name_tokens (
    token      TEXT NOT NULL,
    person_key TEXT NOT NULL REFERENCES people(person_key),
    PRIMARY KEY (token, person_key)
);
CREATE INDEX person_name_tokens_person ON person_name_tokens(person_key);
