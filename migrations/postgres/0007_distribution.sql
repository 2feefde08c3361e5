-- Distribution (PostgreSQL): the change log behind the change stream, the
-- snapshot and webhooks, and each employer's embed origins.

-- One row per change of what the public sees: an ad became visible or
-- changed while visible ("upsert", with the ad as it then was), or stopped
-- being visible ("removed", the tombstone). Rows are appended in the same
-- transaction as the change itself, as its last statement, under a
-- transaction-scoped advisory lock (see store/changes.rs). The lock is held
-- until commit, so ids are handed out in commit order and a reader that sees
-- an id sees every lower one: `id > cursor` can never skip a row that
-- commits late, which a plain sequence would.
create table job_changes (
    id          bigint generated always as identity primary key,
    job_id      bigint not null,
    employer_id bigint not null,
    change      text not null check (change in ('upsert', 'removed')),
    -- the ad's version after the change
    version     bigint not null,
    -- the ad's public fields as JSON (for a removal: as it was last seen)
    ad          text not null,
    -- why a removed ad went away: closed, expired, archived, in_review,
    -- unpublished, deleted
    reason      text,
    created_at  timestamptz not null
);
create index job_changes_job on job_changes (job_id, id);

-- Origins (scheme://host[:port]) allowed to embed the employer's ads; empty
-- means any. One origin per line.
alter table employers add column embed_origins text not null default '';
