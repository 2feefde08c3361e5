-- The change log's ads are stored compressed (zstd, written by the store):
-- the column holds bytes. Rows written before this migration keep their
-- JSON, read as such (the store tells the two apart by zstd's frame
-- magic). Ids, and so consumers' cursors, are unchanged.
alter table job_changes alter column ad type bytea using convert_to(ad, 'UTF8');
