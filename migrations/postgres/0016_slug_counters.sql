-- How many slugs a base has given per table ("upphandlare-till-nacka-
-- kommun": 1 is the base itself, then -2, -3, …), so a new slug costs one
-- indexed upsert (which also serialises concurrent creators of a base)
-- instead of a read of every slug that starts the same way.
create table slug_counters (
    tbl  text not null,
    base text not null,
    next bigint not null,
    primary key (tbl, base)
);
