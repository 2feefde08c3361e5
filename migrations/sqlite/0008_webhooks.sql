-- Webhooks (SQLite): integrators' URLs that receive the change stream as
-- signed POSTs, and the log of every delivery attempt.

create table webhooks (
    id              integer primary key autoincrement,
    -- whose ads' changes it receives; null: every ad (registered by an operator)
    employer_id     integer references employers (id) on delete cascade,
    url             text not null,
    -- the HMAC-SHA256 key the deliveries are signed with. Unlike an API key
    -- it cannot be stored as a hash: the server signs with it. It is shown
    -- once, when the webhook is made, and never logged.
    secret          text not null,
    -- the change log position delivered last
    cursor          integer not null,
    -- failed attempts at the current batch, and when to try again
    attempts        integer not null default 0,
    next_attempt_at text not null,
    -- a worker delivering now holds it until then (several servers, one delivery)
    lease_until     text,
    last_error      text,
    -- set after too many failures in a row; nothing more is sent
    disabled_at     text,
    created_at      text not null
);
create index webhooks_due on webhooks (disabled_at, next_attempt_at);

create table webhook_deliveries (
    id             integer primary key autoincrement,
    webhook_id     integer not null references webhooks (id) on delete cascade,
    -- the positions of the first and last change sent
    first_position integer not null,
    last_position  integer not null,
    changes        integer not null,
    attempt        integer not null,
    -- the receiver's status, or null when it did not answer
    status_code    integer,
    error          text,
    duration_ms    integer not null,
    created_at     text not null
);
create index webhook_deliveries_webhook on webhook_deliveries (webhook_id, id);
