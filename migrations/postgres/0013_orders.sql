-- Orders (postgres): what a buyer ordered on /platsannonsera or through
-- POST /api/v1/orders, waiting for the operator (pending), approved or
-- rejected with a reason. The product is copied as it was ordered, so a
-- later change to the offer does not change an order.

create table orders (
    id                  bigint generated always as identity primary key,
    status              text not null default 'pending'
                        check (status in ('pending', 'approved', 'rejected')),
    organization_name   text not null,
    -- NNNNNN-NNNN
    organization_number text not null,
    street              text not null,
    postal_code         text not null,
    city                text not null,
    peppol_scheme       text not null check (peppol_scheme in ('0007', '0088')),
    peppol_id           text not null,
    -- the buyer's reference (Peppol R003) and its own order number
    buyer_reference     text not null,
    order_number        text,
    invoice_email       text not null,
    contact_name        text not null,
    contact_email       text not null,
    contact_phone       text not null,
    product_id          bigint not null references products (id),
    quantity            bigint not null check (quantity between 1 and 100),
    product_name        text not null,
    unit_price_ore      bigint not null,
    vat_percent         bigint not null,
    ad_credits          bigint not null,
    ad_days             bigint not null,
    featured            boolean not null,
    credit_valid_days   bigint not null,
    rejection_reason    text,
    decided_at          timestamptz,
    created_at          timestamptz not null
);
create index orders_status on orders (status, created_at);
