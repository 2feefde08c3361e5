-- Each ad's views, apply clicks and appearances in search results per day
-- (the Swedish calendar's), written with the counters in batches, for the
-- employer's chart and the API. The totals stay in job_ad_counters.
create table job_ad_daily (
    job_id       bigint not null references job_ads (id) on delete cascade,
    day          date not null,
    views        bigint not null default 0,
    apply_clicks bigint not null default 0,
    appearances  bigint not null default 0,
    primary key (job_id, day)
);
