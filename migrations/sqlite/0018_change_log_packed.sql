-- The change log's ads are stored compressed (zstd, written by the store):
-- the column holds bytes. Rows written before this migration keep their
-- JSON, read as such (the store tells the two apart by zstd's frame
-- magic). SQLite cannot change a column's type, so the table is rebuilt,
-- ids and the autoincrement counter kept: consumers' cursors stay valid.
create table job_changes_packed (
    id          integer primary key autoincrement,
    job_id      integer not null,
    employer_id integer not null,
    change      text not null check (change in ('upsert', 'removed')),
    -- the ad's version after the change
    version     integer not null,
    -- the ad's public fields as JSON, zstd-compressed (for a removal: as it
    -- was last seen)
    ad          blob not null,
    -- why a removed ad went away: closed, expired, archived, in_review,
    -- unpublished, deleted
    reason      text,
    created_at  text not null
);
insert into job_changes_packed (id, job_id, employer_id, change, version, ad, reason, created_at)
select id, job_id, employer_id, change, version, cast(ad as blob), reason, created_at from job_changes order by id;
insert into sqlite_sequence (name, seq)
select 'job_changes_packed', seq from sqlite_sequence where name = 'job_changes'
   and not exists (select 1 from sqlite_sequence where name = 'job_changes_packed');
update sqlite_sequence set seq = max(seq, coalesce((select seq from sqlite_sequence where name = 'job_changes'), 0))
 where name = 'job_changes_packed';
drop table job_changes;
alter table job_changes_packed rename to job_changes;
create index job_changes_job on job_changes (job_id, id);
