-- Search (PostgreSQL): the columns the search engines index, a Swedish
-- full-text vector for the built-in search, and the transactional outbox that
-- keeps Meilisearch in step. Triggers maintain both, so bulk SQL is caught too.

alter table job_ads
    add column role_name text not null default '',
    -- "Nacka, Stockholms län"
    add column place_name text not null default '',
    -- the description without markup
    add column description_text text not null default '',
    add column search_vector tsvector;

-- The Swedish configuration stems words; a second, unstemmed copy with
-- å/ä/ö folded lets "inkopare" or "malmo", typed without diacritics, match.
create function job_ads_search_vector() returns trigger language plpgsql as $$
declare
    employer text := coalesce((select name from employers where id = new.employer_id), '');
    everything text := concat_ws(' ', new.title, new.role_name, employer, new.place_name, new.description_text);
begin
    new.search_vector :=
           setweight(to_tsvector('swedish', coalesce(new.title, '')), 'A')
        || setweight(to_tsvector('swedish', coalesce(new.role_name, '')), 'A')
        || setweight(to_tsvector('swedish', employer), 'B')
        || setweight(to_tsvector('swedish', coalesce(new.place_name, '')), 'B')
        || setweight(to_tsvector('swedish', coalesce(new.description_text, '')), 'C')
        || setweight(to_tsvector('simple', translate(lower(everything), 'åäöáàéèëüø', 'aaoaaeeeuo')), 'D');
    return new;
end
$$;

create trigger job_ads_search_vector before insert or update on job_ads
    for each row execute function job_ads_search_vector();
update job_ads set version = version;
create index job_ads_search on job_ads using gin (search_vector);

-- One row per change that may alter what search shows. The worker reads the
-- ad's current state, so duplicates and order do not matter; rows are
-- deleted only after Meilisearch confirmed the change.
create table search_outbox (
    id           bigint generated always as identity primary key,
    job_id       bigint not null,
    created_at   timestamptz not null default now(),
    attempts     bigint not null default 0,
    available_at timestamptz not null default now(),
    last_error   text,
    -- permanent failures wait here for an operator
    dead         boolean not null default false
);
create index search_outbox_pending on search_outbox (dead, available_at, id);

create function search_outbox_enqueue() returns trigger language plpgsql as $$
begin
    insert into search_outbox (job_id) values (coalesce(new.id, old.id));
    -- a hint for a listening worker; polling stays the safety net
    perform pg_notify('platsen_search', '');
    return null;
end
$$;

create trigger job_ads_outbox after insert or update or delete on job_ads
    for each row execute function search_outbox_enqueue();

-- A renamed employer changes its ads' documents: bump their versions, which
-- fires the triggers above for each of them.
create function employers_rename() returns trigger language plpgsql as $$
begin
    update job_ads set version = version + 1 where employer_id = new.id;
    return null;
end
$$;

create trigger employers_rename after update of name, slug on employers
    for each row when (old.name is distinct from new.name or old.slug is distinct from new.slug)
    execute function employers_rename();
