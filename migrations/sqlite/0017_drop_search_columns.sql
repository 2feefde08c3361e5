-- The search columns (display names and the description without markup)
-- fed FTS5, which is gone (0015): the built-in index and Meilisearch make
-- their text from the ad itself, and snippets strip the page's
-- descriptions when they are shown. A stored copy of every description's
-- text cost about a fifth of the file.
alter table job_ads drop column role_name;
alter table job_ads drop column place_name;
alter table job_ads drop column description_text;
