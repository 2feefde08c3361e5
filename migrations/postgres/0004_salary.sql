-- Lönestatistik: imported survey files and their responses (PostgreSQL).
-- Never edit an applied migration.

create table salary_imports (
    id          bigint generated always as identity primary key,
    -- hex SHA-256 of the file: the same file is imported once
    file_sha256 text not null unique,
    filename    text not null,
    responses   integer not null,
    -- the survey years in the file, e.g. "2024,2025"
    years       text not null,
    created_at  timestamptz not null
);

create table salary_responses (
    id                 bigint generated always as identity primary key,
    import_id          bigint not null references salary_imports (id) on delete cascade,
    year               integer not null,
    role               text not null,
    sector             text not null,
    county_code        text not null,
    gender             text not null,
    age                integer not null,
    experience_years   integer not null,
    monthly_salary_sek integer not null,
    extent_percent     integer not null check (extent_percent between 1 and 100),
    specialisation     text,
    is_manager         boolean not null
);

create index salary_responses_year on salary_responses (year);
