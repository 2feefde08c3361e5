-- Search (SQLite): the columns the search engines index, a full-text index
-- for the built-in search, and the transactional outbox that keeps
-- Meilisearch in step. Triggers maintain both, so bulk SQL is caught too.

-- Display names and plain text, written by the application with the ad.
alter table job_ads add column role_name text not null default '';
-- "Nacka, Stockholms län"
alter table job_ads add column place_name text not null default '';
-- the description without markup
alter table job_ads add column description_text text not null default '';

-- rowid = job_ads.id; diacritics folded so "inkopare" finds "inköpare".
create virtual table job_ads_fts using fts5(
    title, role_name, employer_name, place_name, description_text,
    tokenize = 'unicode61 remove_diacritics 2'
);

create trigger job_ads_fts_insert after insert on job_ads begin
    insert into job_ads_fts (rowid, title, role_name, employer_name, place_name, description_text)
    select new.id, new.title, new.role_name, e.name, new.place_name, new.description_text
      from employers e where e.id = new.employer_id;
end;

create trigger job_ads_fts_update after update on job_ads begin
    delete from job_ads_fts where rowid = old.id;
    insert into job_ads_fts (rowid, title, role_name, employer_name, place_name, description_text)
    select new.id, new.title, new.role_name, e.name, new.place_name, new.description_text
      from employers e where e.id = new.employer_id;
end;

create trigger job_ads_fts_delete after delete on job_ads begin
    delete from job_ads_fts where rowid = old.id;
end;

insert into job_ads_fts (rowid, title, role_name, employer_name, place_name, description_text)
select j.id, j.title, j.role_name, e.name, j.place_name, j.description_text
  from job_ads j join employers e on e.id = j.employer_id;

-- One row per change that may alter what search shows. The worker reads the
-- ad's current state, so duplicates and order do not matter; rows are
-- deleted only after Meilisearch confirmed the change.
create table search_outbox (
    id           integer primary key autoincrement,
    job_id       integer not null,
    created_at   text not null default (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    attempts     integer not null default 0,
    available_at text not null default (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')),
    last_error   text,
    -- permanent failures wait here for an operator
    dead         boolean not null default false
);
create index search_outbox_pending on search_outbox (dead, available_at, id);

create trigger job_ads_outbox_insert after insert on job_ads begin
    insert into search_outbox (job_id) values (new.id);
end;
create trigger job_ads_outbox_update after update on job_ads begin
    insert into search_outbox (job_id) values (new.id);
end;
create trigger job_ads_outbox_delete after delete on job_ads begin
    insert into search_outbox (job_id) values (old.id);
end;

-- A renamed employer changes its ads' documents: bump their versions, which
-- fires the triggers above for each of them.
create trigger employers_rename after update of name, slug on employers
when old.name is not new.name or old.slug is not new.slug begin
    update job_ads set version = version + 1 where employer_id = new.id;
end;
