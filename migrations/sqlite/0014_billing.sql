-- Billing (sqlite): how each employer pays, the credit ledger that
-- publishing draws on, and invoices numbered in one gap-free series.
--
-- Existing employers become `free`, so an installation and its
-- integrations publish as before after the upgrade.

alter table employers add column billing_mode text not null default 'free'
    check (billing_mode in ('prepaid', 'agreement', 'free'));

-- The end of the period an ad's credit paid for: reopening before it
-- costs nothing. Null for ads published without a credit.
alter table job_ads add column paid_until text;

-- A gap-free series: the next number is taken by the transaction that
-- issues the invoice, so a rolled-back issue takes no number.
create table invoice_series (
    name        text primary key,
    next_number integer not null check (next_number >= 1)
);
insert into invoice_series (name, next_number) values ('main', 1);

create table invoices (
    id                       integer primary key autoincrement,
    number                   integer not null unique,
    kind                     text not null check (kind in ('invoice', 'credit_note')),
    employer_id              integer not null references employers (id),
    order_id                 integer references orders (id),
    -- a credit note names the invoice it credits
    credited_invoice_id      integer references invoices (id),
    -- YYYY-MM for an agreement customer's monthly invoice
    period                   text,
    issue_date               text not null,
    due_date                 text not null,
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
    net_ore                  integer not null,
    vat_ore                  integer not null,
    total_ore                integer not null,
    status                   text not null default 'open' check (status in ('open', 'paid', 'cancelled')),
    paid_at                  text,
    cancelled_at             text,
    created_at               text not null
);
create index invoices_employer on invoices (employer_id, id);
create index invoices_issue on invoices (issue_date);
create unique index invoices_period on invoices (employer_id, period) where period is not null;

create table invoice_lines (
    invoice_id     integer not null references invoices (id),
    position       integer not null,
    name           text not null,
    quantity       integer not null,
    unit_price_ore integer not null,
    vat_percent    integer not null,
    primary key (invoice_id, position)
);

-- One row per grant, use, expiry, refund, take-back or (for agreement
-- customers) billable publication; an employer's balance is the sum of
-- `credits` over its grants still valid. Every row but a grant names the
-- grant it draws on.
create table credit_ledger (
    id          integer primary key autoincrement,
    employer_id integer not null references employers (id),
    kind        text not null check (kind in ('grant', 'use', 'expiry', 'refund', 'revoke', 'billable')),
    credits     integer not null,
    grant_id    integer references credit_ledger (id),
    featured    boolean not null default false,
    ad_days     integer,
    valid_until text,
    order_id    integer references orders (id),
    job_id      integer references job_ads (id),
    invoice_id  integer references invoices (id),
    created_at  text not null
);
create index credit_ledger_employer on credit_ledger (employer_id, kind, valid_until);
create index credit_ledger_grant on credit_ledger (grant_id);
create index credit_ledger_billable on credit_ledger (kind, created_at) where kind = 'billable' and invoice_id is null;

-- An approved order names the employer it went to and its invoice.
alter table orders add column employer_id integer references employers (id);
alter table orders add column invoice_id integer references invoices (id);

-- What /platsannonsera tells an employer about the board: searches and ad
-- views per day (written with the view counters, in batches).
create table board_daily (
    day      text primary key,
    searches integer not null default 0,
    views    integer not null default 0
);
