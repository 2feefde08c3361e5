-- The search columns (display names and the description without markup)
-- fed the full-text vector, which is gone (0015): the built-in index and
-- Meilisearch make their text from the ad itself, and snippets strip the
-- page's descriptions when they are shown.
alter table job_ads drop column if exists role_name;
alter table job_ads drop column if exists place_name;
alter table job_ads drop column if exists description_text;
