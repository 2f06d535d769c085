-- Events a kiosk set aside because this server refused them (unknown kind,
-- bad payload), from its heartbeat: staff must see them, they are not lost.
ALTER TABLE kiosks ADD COLUMN rejected BIGINT;
