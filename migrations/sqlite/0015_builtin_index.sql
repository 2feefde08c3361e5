-- The built-in search is an in-memory index fed by the change log
-- (platsen_jobs::index): the FTS5 copy of every ad and its triggers go.
drop trigger if exists job_ads_fts_insert;
drop trigger if exists job_ads_fts_update;
drop trigger if exists job_ads_fts_delete;
drop table if exists job_ads_fts;
