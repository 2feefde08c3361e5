//! Periodic duties shared by every process on one database: the expiry
//! sweep and billing run once per period across all instances, whichever
//! instance comes first.
//!
//! A duty's row holds when it is next due. Claiming is one conditional
//! update (`… where due_at <= now`), so of several processes that try at
//! once exactly one moves the time on and runs the duty; the others find
//! it not due. Nothing is held while the duty runs: if the process that
//! claimed a run dies, the next period's run is claimed by another one, so
//! a duty is never late by more than one period plus the callers' polling
//! interval. (Duties whose work must not be done twice keep their own
//! guards as well: the expiry sweep's guarded updates, one expiry row per
//! credit grant, one invoice per customer and month.)

use chrono::{DateTime, Duration, Utc};

use super::{Db, Store, ts};
use crate::error::Result;

impl Store {
    /// Claims the run of duty `name` that is due at `now`: `true` for
    /// exactly one caller across every process on this database, which
    /// then owns the run; the duty is next due `every` later. `holder`
    /// names the claiming process (kept for the operator).
    pub async fn claim_duty(&self, name: &str, holder: &str, now: DateTime<Utc>, every: Duration) -> Result<bool> {
        let now = ts(now);
        let next = now + every;
        // The same two statements on either database's writing pool; not
        // through `write_tx!`: a claim changes no ad, so it must not count
        // as a write that invalidates cached answers.
        macro_rules! claim {
            ($pool:expr) => {{
                sqlx::query("insert into duty_runs (name, due_at) values ($1, $2) on conflict (name) do nothing")
                    .bind(name)
                    .bind(now)
                    .execute($pool)
                    .await?;
                // PostgreSQL (read committed): a concurrent claimer waits for
                // this row's lock, then re-checks `due_at` and finds it moved on.
                sqlx::query(
                    "update duty_runs set due_at = $2, ran_at = $3, holder = $4 where name = $1 and due_at <= $3",
                )
                .bind(name)
                .bind(next)
                .bind(now)
                .bind(holder)
                .execute($pool)
                .await?
                .rows_affected()
            }};
        }
        let claimed = match &self.db {
            Db::Sqlite { write, .. } => claim!(write),
            Db::Postgres(pool) => claim!(pool),
        };
        Ok(claimed == 1)
    }
}
