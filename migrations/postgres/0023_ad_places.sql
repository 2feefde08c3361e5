-- An ad in several municipalities: its further places after the first
-- (`municipality_code`), as four-digit SCB codes separated by spaces, in the
-- employer's order. Empty for an ad in one place. Filters and facet counts
-- over places are answered by the search index, never by this column.
alter table job_ads add column more_places text not null default '';
