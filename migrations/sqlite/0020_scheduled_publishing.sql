-- A draft can be scheduled: the expiry sweep publishes it once `publish_at`
-- has passed (as its employer would, review and billing included) and
-- clears the time when the ad leaves the draft state.
alter table job_ads add column publish_at text;
create index job_ads_scheduled on job_ads (publish_at) where status = 'draft' and publish_at is not null;
