-- Webhooks (PostgreSQL): integrators' URLs that receive the change stream as
-- signed POSTs, and the log of every delivery attempt.

create table webhooks (
    id              bigint generated always as identity primary key,
    -- whose ads' changes it receives; null: every ad (registered by an operator)
    employer_id     bigint references employers (id) on delete cascade,
    url             text not null,
    -- the HMAC-SHA256 key the deliveries are signed with. Unlike an API key
    -- it cannot be stored as a hash: the server signs with it. It is shown
    -- once, when the webhook is made, and never logged.
    secret          text not null,
    -- the change log position delivered last
    cursor          bigint not null,
    -- failed attempts at the current batch, and when to try again
    attempts        bigint not null default 0,
    next_attempt_at timestamptz not null,
    -- a worker delivering now holds it until then (several servers, one delivery)
    lease_until     timestamptz,
    last_error      text,
    -- set after too many failures in a row; nothing more is sent
    disabled_at     timestamptz,
    created_at      timestamptz not null
);
create index webhooks_due on webhooks (disabled_at, next_attempt_at);

create table webhook_deliveries (
    id             bigint generated always as identity primary key,
    webhook_id     bigint not null references webhooks (id) on delete cascade,
    -- the positions of the first and last change sent
    first_position bigint not null,
    last_position  bigint not null,
    changes        bigint not null,
    attempt        bigint not null,
    -- the receiver's status, or null when it did not answer
    status_code    bigint,
    error          text,
    duration_ms    bigint not null,
    created_at     timestamptz not null
);
create index webhook_deliveries_webhook on webhook_deliveries (webhook_id, id);
