-- An employer's own profile, edited by its users: the description as they
-- wrote it (Markdown), so editing gives back what was written, while
-- `description` stays the sanitized HTML the pages show. Employers stored
-- before this have only the HTML: their source is that HTML.
alter table employers add column description_source text;
alter table employers add column description_format text not null default 'html'
    check (description_format in ('markdown', 'html'));

-- An employer's logo, uploaded by its users or the operator: checked,
-- resized and re-encoded as PNG on upload (nothing of the file as sent is
-- kept), and served under its digest with a long cache lifetime.
create table employer_logos (
    employer_id integer primary key references employers (id) on delete cascade,
    digest      text not null,
    png         blob not null,
    width       integer not null,
    height      integer not null,
    updated_at  text not null
);
create index employer_logos_digest on employer_logos (digest);
