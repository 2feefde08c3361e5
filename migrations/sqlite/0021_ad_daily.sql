-- Each ad's views, apply clicks and appearances in search results per day
-- (the Swedish calendar's), written with the counters in batches, for the
-- employer's chart and the API. The totals stay in job_ad_counters.
create table job_ad_daily (
    job_id       integer not null references job_ads (id) on delete cascade,
    day          text not null,
    views        integer not null default 0,
    apply_clicks integer not null default 0,
    appearances  integer not null default 0,
    primary key (job_id, day)
);
