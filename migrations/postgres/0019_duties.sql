-- Periodic duties (the expiry sweep, billing) run once per period across
-- every instance on the database: the instance that moves `due_at` on
-- runs it (store/duties.rs).
create table duty_runs (
    name    text primary key,
    due_at  timestamptz not null,
    ran_at  timestamptz,
    -- the process that ran it last (host and pid), for the operator
    holder  text
);

-- A grant's unused credits are written down once. Two instances sweeping
-- at the same moment could each have written an expiry row before duties
-- were claimed; keep the first of any such pair.
delete from credit_ledger x
 where x.kind = 'expiry'
   and exists (select 1 from credit_ledger y where y.kind = 'expiry' and y.grant_id = x.grant_id and y.id < x.id);
create unique index credit_ledger_one_expiry on credit_ledger (grant_id) where kind = 'expiry';
