-- Billing (postgres): how each employer pays, the credit ledger that
-- publishing draws on, and invoices numbered in one gap-free series.
--
-- Existing employers become `free`, so an installation and its
-- integrations publish as before after the upgrade.

alter table employers add column billing_mode text not null default 'free'
    check (billing_mode in ('prepaid', 'agreement', 'free'));

-- The end of the period an ad's credit paid for: reopening before it
-- costs nothing. Null for ads published without a credit.
alter table job_ads add column paid_until timestamptz;

-- A gap-free series: the next number is taken by the transaction that
-- issues the invoice, so a rolled-back issue takes no number.
create table invoice_series (
    name        text primary key,
    next_number bigint not null check (next_number >= 1)
);
insert into invoice_series (name, next_number) values ('main', 1);

create table invoices (
    id                       bigint generated always as identity primary key,
    number                   bigint not null unique,
    kind                     text not null check (kind in ('invoice', 'credit_note')),
    employer_id              bigint not null references employers (id),
    order_id                 bigint references orders (id),
    -- a credit note names the invoice it credits
    credited_invoice_id      bigint references invoices (id),
    -- YYYY-MM for an agreement customer's monthly invoice
    period                   text,
    issue_date               date not null,
    due_date                 date not null,
    buyer_name               text not null,
    buyer_organization_number text not null,
    buyer_street             text not null,
    buyer_postal_code        text not null,
    buyer_city               text not null,
    buyer_peppol_scheme      text not null,
    buyer_peppol_id          text not null,
    buyer_reference          text not null,
    order_number             text,
    invoice_email            text not null,
    -- the seller as it was on the issue date (JSON)
    seller                   text not null,
    net_ore                  bigint not null,
    vat_ore                  bigint not null,
    total_ore                bigint not null,
    status                   text not null default 'open' check (status in ('open', 'paid', 'cancelled')),
    paid_at                  timestamptz,
    cancelled_at             timestamptz,
    created_at               timestamptz not null
);
create index invoices_employer on invoices (employer_id, id);
create index invoices_issue on invoices (issue_date);
create unique index invoices_period on invoices (employer_id, period) where period is not null;

create table invoice_lines (
    invoice_id     bigint not null references invoices (id),
    position       bigint not null,
    name           text not null,
    quantity       bigint not null,
    unit_price_ore bigint not null,
    vat_percent    bigint not null,
    primary key (invoice_id, position)
);

-- One row per grant, use, expiry, refund, take-back or (for agreement
-- customers) billable publication; an employer's balance is the sum of
-- `credits` over its grants still valid. Every row but a grant names the
-- grant it draws on.
create table credit_ledger (
    id          bigint generated always as identity primary key,
    employer_id bigint not null references employers (id),
    kind        text not null check (kind in ('grant', 'use', 'expiry', 'refund', 'revoke', 'billable')),
    credits     bigint not null,
    grant_id    bigint references credit_ledger (id),
    featured    boolean not null default false,
    ad_days     bigint,
    valid_until timestamptz,
    order_id    bigint references orders (id),
    job_id      bigint references job_ads (id),
    invoice_id  bigint references invoices (id),
    created_at  timestamptz not null
);
create index credit_ledger_employer on credit_ledger (employer_id, kind, valid_until);
create index credit_ledger_grant on credit_ledger (grant_id);
create index credit_ledger_billable on credit_ledger (kind, created_at) where kind = 'billable' and invoice_id is null;

-- An approved order names the employer it went to and its invoice.
alter table orders add column employer_id bigint references employers (id);
alter table orders add column invoice_id bigint references invoices (id);

-- What /platsannonsera tells an employer about the board: searches and ad
-- views per day (written with the view counters, in batches).
create table board_daily (
    day      date primary key,
    searches bigint not null default 0,
    views    bigint not null default 0
);
