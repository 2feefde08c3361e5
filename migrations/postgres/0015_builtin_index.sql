-- The built-in search is an in-memory index fed by the change log
-- (platsen_jobs::index): the full-text vector, its trigger and index go.
drop trigger if exists job_ads_search_vector on job_ads;
drop function if exists job_ads_search_vector();
drop index if exists job_ads_search;
alter table job_ads drop column if exists search_vector;
