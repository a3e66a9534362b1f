-- The seat's id in its source file where it differs from external_id (a pretix plan
-- may repeat a seat guid, so such seats get ids scoped by zone); NULL when the same.
ALTER TABLE seats ADD COLUMN source_id text;
