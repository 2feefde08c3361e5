-- Employers, their API keys, job ads and the ads' audit trail (PostgreSQL).
-- Never edit an applied migration.

create table employers (
    id                  bigint generated always as identity primary key,
    slug                text not null unique,
    name                text not null,
    -- normalised NNNNNN-NNNN, Luhn-checked by the application
    organization_number text not null unique,
    website             text,
    logo_url            text,
    -- sanitized HTML
    description         text,
    -- ads go to pending_review instead of straight to published
    requires_review     boolean not null default false,
    is_demo             boolean not null default false,
    created_at          timestamptz not null,
    updated_at          timestamptz not null
);

create table api_keys (
    id           bigint generated always as identity primary key,
    employer_id  bigint not null references employers (id) on delete cascade,
    -- public part, e.g. plk_3f9a1c2b
    prefix       text not null unique,
    -- hex SHA-256 of the whole key; the key itself is never stored
    secret_hash  text not null,
    label        text not null,
    created_at   timestamptz not null,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
create index api_keys_employer on api_keys (employer_id);

create table job_ads (
    id                   bigint generated always as identity primary key,
    employer_id          bigint not null references employers (id),
    slug                 text not null unique,
    status               text not null check (status in ('draft', 'pending_review', 'published', 'closed', 'expired', 'archived')),
    title                text not null,
    -- sanitized HTML
    description          text not null,
    role                 text not null,
    municipality_code    text not null,
    -- denormalised from the municipality so listings filter on an index
    county_code          text not null,
    remote               text not null check (remote in ('on_site', 'hybrid', 'remote')),
    employment_type      text not null check (employment_type in ('tillsvidare', 'visstid', 'vikariat', 'konsultuppdrag')),
    extent_percent       bigint not null check (extent_percent between 1 and 100),
    salary_min           bigint check (salary_min >= 0),
    salary_max           bigint check (salary_max >= 0),
    salary_period        text check (salary_period in ('month', 'hour')),
    vacancies            bigint not null check (vacancies >= 1),
    application_deadline date not null,
    start_text           text,
    apply_url            text,
    apply_email          text,
    -- JSON array of {name, title, email, phone}
    contacts             text not null default '[]',
    featured             boolean not null default false,
    published_at         timestamptz,
    expires_at           timestamptz not null,
    closed_at            timestamptz,
    rejection_reason     text,
    is_demo              boolean not null default false,
    version              bigint not null default 1,
    created_at           timestamptz not null,
    updated_at           timestamptz not null,
    check (salary_min is null or salary_max is null or salary_min <= salary_max),
    check (apply_url is not null or apply_email is not null)
);
-- the public listing: published and unexpired, newest first or by deadline
create index job_ads_public_newest on job_ads (published_at desc, id desc) where status = 'published';
create index job_ads_public_deadline on job_ads (application_deadline, id) where status = 'published';
create index job_ads_expiry on job_ads (expires_at) where status = 'published';
create index job_ads_employer on job_ads (employer_id, status);

-- Who changed which ad, when, and how. Kept when a draft is deleted.
create table job_ad_events (
    id          bigint generated always as identity primary key,
    job_id      bigint not null,
    employer_id bigint not null,
    actor       text not null,
    action      text not null,
    -- JSON: changed fields with old and new values, or a reason
    detail      text not null default '{}',
    created_at  timestamptz not null
);
create index job_ad_events_job on job_ad_events (job_id, id);
