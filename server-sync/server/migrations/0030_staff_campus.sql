-- A staff account bound to one campus (E14, 多院区): its desk, queue pages
-- and figures are that campus's, and a visit of another campus is refused
-- at the route gate. NULL: every campus (总院, central control).
ALTER TABLE staff_users ADD COLUMN campus TEXT;
