-- Products (PostgreSQL): what an employer can order on /platsannonsera.
-- One unit of a product gives `ad_credits` ad credits, each good for one
-- ad that runs at most `ad_days` days (featured or not), usable within
-- `credit_valid_days` of the order's approval. A retired product is no
-- longer offered; orders already made keep it.

create table products (
    id                bigint generated always as identity primary key,
    name              text not null,
    description       text not null,
    -- the price of one unit excluding VAT, in öre
    price_ore         bigint not null check (price_ore between 0 and 100000000),
    -- the Swedish VAT rates
    vat_percent       bigint not null check (vat_percent in (6, 12, 25)),
    ad_credits        bigint not null check (ad_credits between 1 and 100),
    ad_days           bigint not null check (ad_days between 1 and 60),
    featured          boolean not null,
    credit_valid_days bigint not null check (credit_valid_days between 1 and 1095),
    retired_at        timestamptz,
    created_at        timestamptz not null,
    updated_at        timestamptz not null
);
