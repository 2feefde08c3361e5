-- A job alert's saved search gets a format of its own. Until now it was
-- the search page's query string (format 1); from now on it is a JSON
-- object of codes (format 2, see `platsen_app::saved_search`), so the
-- search page's address can change without touching stored alerts. Rows
-- of format 1 are rewritten when the server starts.
alter table job_alerts add column search_version integer not null default 1;
