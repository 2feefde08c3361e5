-- Employer and admin users who sign in on the web, their sessions, password
-- reset tokens, and per-ad view and apply-click counts (SQLite).

create table users (
    id              integer primary key autoincrement,
    -- null for an operator (admin) account
    employer_id     integer references employers (id) on delete cascade,
    -- stored lower-cased; one account per address
    email           text not null unique,
    -- argon2id in PHC string format; the password itself is never stored
    password_hash   text not null,
    is_admin        boolean not null default false,
    created_at      text not null,
    last_sign_in_at text,
    check (is_admin or employer_id is not null)
);
create index users_employer on users (employer_id);

create table sessions (
    -- hex SHA-256 of the cookie's random token; the token is never stored
    token_hash  text primary key,
    user_id     integer not null references users (id) on delete cascade,
    -- the token every form of this session carries (synchroniser pattern)
    csrf_token  text not null,
    created_at  text not null,
    expires_at  text not null
);
create index sessions_user on sessions (user_id);

create table password_resets (
    -- hex SHA-256 of the e-mailed token
    token_hash  text primary key,
    user_id     integer not null references users (id) on delete cascade,
    created_at  text not null,
    expires_at  text not null,
    used_at     text
);

create table job_ad_counters (
    job_id       integer primary key references job_ads (id) on delete cascade,
    views        integer not null default 0,
    apply_clicks integer not null default 0
);
