-- An ad's description as its employer wrote it, so that editing gives back
-- what was written (Markdown, or the HTML an applicant-tracking system
-- sent) and not the HTML it was rendered to. `description` stays the
-- rendered, sanitized HTML that every page, feed and index shows.
--
-- Ads stored before this have only the HTML: their source is that HTML.
alter table job_ads add column description_source text;
alter table job_ads add column description_format text not null default 'html'
    check (description_format in ('markdown', 'html'));

-- Their search text is filled again, now with the breaks between headings,
-- paragraphs and list items kept (see `Store::backfill_search_columns`).
update job_ads set role_name = '';

-- Employers are listed by name in Swedish order (å, ä, ö after z): a key
-- that sorts so byte by byte (see `platsen_taxonomy::swedish_sort_key`),
-- filled in for existing employers at start.
alter table employers add column name_sort text not null default '';
