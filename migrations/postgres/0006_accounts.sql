-- Employer and admin users who sign in on the web, their sessions, password
-- reset tokens, and per-ad view and apply-click counts (PostgreSQL).

create table users (
    id              bigint generated always as identity primary key,
    -- null for an operator (admin) account
    employer_id     bigint references employers (id) on delete cascade,
    -- stored lower-cased; one account per address
    email           text not null unique,
    -- argon2id in PHC string format; the password itself is never stored
    password_hash   text not null,
    is_admin        boolean not null default false,
    created_at      timestamptz not null,
    last_sign_in_at timestamptz,
    check (is_admin or employer_id is not null)
);
create index users_employer on users (employer_id);

create table sessions (
    -- hex SHA-256 of the cookie's random token; the token is never stored
    token_hash  text primary key,
    user_id     bigint not null references users (id) on delete cascade,
    -- the token every form of this session carries (synchroniser pattern)
    csrf_token  text not null,
    created_at  timestamptz not null,
    expires_at  timestamptz not null
);
create index sessions_user on sessions (user_id);

create table password_resets (
    -- hex SHA-256 of the e-mailed token
    token_hash  text primary key,
    user_id     bigint not null references users (id) on delete cascade,
    created_at  timestamptz not null,
    expires_at  timestamptz not null,
    used_at     timestamptz
);

create table job_ad_counters (
    job_id       bigint primary key references job_ads (id) on delete cascade,
    views        bigint not null default 0,
    apply_clicks bigint not null default 0
);
