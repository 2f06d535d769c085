-- What each kiosk can print for documents moved to it (receipt, label:tspl,
-- label:zpl, report), from its heartbeat: a move carries label and A4
-- parts only to a kiosk that can print them.
ALTER TABLE kiosks ADD COLUMN prints TEXT;
