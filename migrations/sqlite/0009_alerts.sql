-- Job alerts (SQLite): a saved search mailed to a job seeker (double
-- opt-in, no account), the links its mails carry, and which ads each alert
-- has already sent, so no ad is mailed twice.

create table job_alerts (
    id           integer primary key autoincrement,
    -- lower-cased
    email        text not null,
    -- the saved search as a canonical query string (q=…&role=…&county=…)
    search       text not null,
    frequency    text not null check (frequency in ('instant', 'daily', 'weekly')),
    -- null until the address owner followed the confirmation link
    confirmed_at text,
    -- when the search last ran; the next run looks for ads published since
    checked_at   text,
    next_due_at  text not null,
    created_at   text not null
);
create index job_alerts_due on job_alerts (next_due_at);
create index job_alerts_email on job_alerts (email);

-- One token per mail sent (the confirmation and every alert), so the links
-- in every mail keep working; only SHA-256 of each is stored.
create table job_alert_tokens (
    token_hash text primary key,
    alert_id   integer not null references job_alerts (id) on delete cascade,
    created_at text not null
);
create index job_alert_tokens_alert on job_alert_tokens (alert_id);

create table job_alert_sent (
    alert_id integer not null references job_alerts (id) on delete cascade,
    job_id   integer not null,
    sent_at  text not null,
    primary key (alert_id, job_id)
);
