//! What the search engines read from the database: the outbox Meilisearch's
//! worker follows, the ads to index, the descriptions the built-in index
//! leaves on disk, and the search worker's lease.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{Db, Store, ts};
use crate::error::Result;

impl Store {
    /// The plain text of the descriptions of `ids` (the built-in search's
    /// snippets; the index keeps no descriptions in memory): a page's worth
    /// of HTML stripped when asked, rather than a stored copy of every ad's.
    pub async fn description_texts(&self, ids: &[i64]) -> Result<HashMap<i64, String>> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            // On PostgreSQL an array parameter: a list of parameters in a
            // prepared statement's generic plan is checked against every
            // row a partial index yields instead of looked up by key.
            let rows: Vec<(i64, String)> = match &self.db {
                Db::Sqlite { read, .. } => {
                    let mut q = sqlx::QueryBuilder::new("select id, description from job_ads where id in (");
                    let mut sep = q.separated(", ");
                    for id in chunk {
                        sep.push_bind(*id);
                    }
                    q.push(")");
                    q.build_query_as().fetch_all(read).await?
                }
                Db::Postgres(pool) => {
                    sqlx::query_as("select id, description from job_ads where id = any($1)")
                        .bind(chunk)
                        .fetch_all(pool)
                        .await?
                }
            };
            out.extend(rows.into_iter().map(|(id, html)| (id, crate::search::html_to_text(&html))));
        }
        Ok(out)
    }

    /// The position of the change log's newest entry (0 when empty): every
    /// lower position is committed (see `changes`).
    pub async fn change_log_end(&self) -> Result<i64> {
        Ok(read!(self, |pool| {
            sqlx::query_scalar("select coalesce(max(id), 0) from job_changes").fetch_one(pool).await?
        }))
    }
}

/// A claimed outbox row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub job_id: i64,
    pub attempts: i64,
}

/// How far the search index is behind.
#[derive(Debug, Clone, Default)]
pub struct OutboxStatus {
    pub pending: i64,
    pub dead: i64,
    pub oldest_pending_at: Option<DateTime<Utc>>,
}

impl Store {
    /// The oldest pending outbox rows that are due, at most `limit`.
    ///
    /// One worker per database is active at a time (the caller holds the
    /// lease), so claiming is reading: rows are deleted only when the index
    /// has confirmed the change.
    pub async fn pending_search_changes(&self, limit: i64, now: DateTime<Utc>) -> Result<Vec<OutboxRow>> {
        let rows: Vec<(i64, i64, i64)> = read!(self, |pool| {
            sqlx::query_as(
                "select id, job_id, attempts from search_outbox
                  where not dead and available_at <= $1 order by id limit $2",
            )
            .bind(ts(now))
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(id, job_id, attempts)| OutboxRow { id, job_id, attempts }).collect())
    }

    /// Forgets outbox rows whose change the index confirmed.
    pub async fn ack_search_changes(&self, row_ids: &[i64]) -> Result<()> {
        for chunk in row_ids.chunks(500) {
            write_tx!(self, |tx| {
                for id in chunk {
                    sqlx::query("delete from search_outbox where id = $1").bind(*id).execute(&mut *tx).await?;
                }
            });
        }
        Ok(())
    }

    /// Schedules rows again after a failure, or sets them aside for an
    /// operator (`dead`) when retrying cannot help.
    pub async fn retry_search_changes(
        &self,
        row_ids: &[i64],
        error: &str,
        retry_at: DateTime<Utc>,
        dead: bool,
    ) -> Result<()> {
        let error: String = error.chars().take(1000).collect();
        for chunk in row_ids.chunks(500) {
            write_tx!(self, |tx| {
                for id in chunk {
                    sqlx::query(
                        "update search_outbox set attempts = attempts + 1, last_error = $2, available_at = $3, dead = $4
                          where id = $1",
                    )
                    .bind(*id)
                    .bind(error.as_str())
                    .bind(ts(retry_at))
                    .bind(dead)
                    .execute(&mut *tx)
                    .await?;
                }
            });
        }
        Ok(())
    }

    /// Puts dead rows back in the queue (an operator's retry).
    pub async fn revive_search_changes(&self, now: DateTime<Utc>) -> Result<u64> {
        let n = write_tx!(self, |tx| {
            sqlx::query("update search_outbox set dead = false, attempts = 0, available_at = $1 where dead")
                .bind(ts(now))
                .execute(&mut *tx)
                .await?
                .rows_affected()
        });
        Ok(n)
    }

    /// Queues these ads again, so the worker sends their current state once
    /// more (after a worker lost its lease while it may have sent an older
    /// state than another worker's).
    pub async fn requeue_for_search(&self, job_ids: &[i64]) -> Result<()> {
        for chunk in job_ids.chunks(500) {
            write_tx!(self, |tx| {
                for id in chunk {
                    sqlx::query("insert into search_outbox (job_id) values ($1)").bind(*id).execute(&mut *tx).await?;
                }
            });
        }
        Ok(())
    }

    /// Queues every ad for indexing (after connecting an empty index).
    pub async fn queue_all_for_search(&self) -> Result<u64> {
        let n = write_tx!(self, |tx| {
            sqlx::query("insert into search_outbox (job_id) select id from job_ads")
                .execute(&mut *tx)
                .await?
                .rows_affected()
        });
        Ok(n)
    }

    /// How many changes wait, how many failed for good, and the oldest wait.
    pub async fn search_outbox_status(&self) -> Result<OutboxStatus> {
        let (pending, dead): (i64, i64) = read!(self, |pool| {
            sqlx::query_as(
                "select coalesce(sum(case when dead then 0 else 1 end), 0), coalesce(sum(case when dead then 1 else 0 end), 0)
                   from search_outbox",
            )
            .fetch_one(pool)
            .await?
        });
        let oldest: Option<DateTime<Utc>> = read!(self, |pool| {
            sqlx::query_scalar("select created_at from search_outbox where not dead order by id limit 1")
                .fetch_optional(pool)
                .await?
        });
        Ok(OutboxStatus { pending, dead, oldest_pending_at: oldest })
    }

    /// The ads among `ids` that search should show now (published and
    /// unexpired), in full. The others should be deleted from the index.
    ///
    /// The rows are read by key alone and the status is checked here
    /// (`job_from_row` marks an ad past its expiry as expired): with the
    /// status and expiry in the `where` clause PostgreSQL's generic plan may
    /// AND the primary key with the partial expiry index, which reads every
    /// open ad's entry to return a page of twenty.
    pub async fn indexable_ads(&self, ids: &[i64], now: DateTime<Utc>) -> Result<Vec<crate::model::JobAd>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            // By key on both databases (see `description_texts`).
            let rows = match &self.db {
                Db::Sqlite { read, .. } => {
                    let mut q = sqlx::QueryBuilder::new(concat!(job_select!(), "where j.id in ("));
                    let mut sep = q.separated(", ");
                    for id in chunk {
                        sep.push_bind(*id);
                    }
                    q.push(")");
                    let rows = q.build().fetch_all(read).await?;
                    rows.iter().map(|r| super::job_from_row(r, now)).collect::<Result<Vec<_>>>()?
                }
                Db::Postgres(pool) => {
                    let rows =
                        sqlx::query(concat!(job_select!(), "where j.id = any($1)")).bind(chunk).fetch_all(pool).await?;
                    rows.iter().map(|r| super::job_from_row(r, now)).collect::<Result<Vec<_>>>()?
                }
            };
            out.extend(rows.into_iter().filter(|ad| ad.is_public()));
        }
        Ok(out)
    }

    /// How many ads search should show now.
    pub async fn count_indexable_ads(&self, now: DateTime<Utc>) -> Result<i64> {
        let n: i64 = read!(self, |pool| {
            sqlx::query_scalar("select count(*) from job_ads where status = 'published' and expires_at > $1")
                .bind(ts(now))
                .fetch_one(pool)
                .await?
        });
        Ok(n)
    }

    /// The id and version of every ad search should show now, by id: what
    /// `platsen search check` compares the index with, without reading the
    /// ads themselves.
    pub async fn indexable_versions(&self, now: DateTime<Utc>) -> Result<Vec<(i64, i64)>> {
        let rows: Vec<(i64, i64)> = read!(self, |pool| {
            sqlx::query_as("select id, version from job_ads where status = 'published' and expires_at > $1 order by id")
                .bind(ts(now))
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// Every ad search should show, by id after `after`, `limit` at a time
    /// (keyset pagination for rebuilding and checking the index).
    pub async fn indexable_ads_after(
        &self,
        after: i64,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<crate::model::JobAd>> {
        read!(self, |pool| {
            sqlx::query(concat!(
                job_select!(),
                "where j.status = 'published' and j.expires_at > $1 and j.id > $2 order by j.id limit $3"
            ))
            .bind(ts(now))
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| super::job_from_row(r, now))
            .collect()
        })
    }
}

/// The right to be the one search worker of a database. On PostgreSQL it is a
/// session advisory lock held by a connection of its own (released when the
/// lease, and with it the connection, is dropped or lost); SQLite has one
/// server process, so the lease is always granted.
pub struct SearchLease {
    _connection: Option<sqlx::PgConnection>,
}

impl std::fmt::Debug for SearchLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchLease").finish_non_exhaustive()
    }
}

impl SearchLease {
    /// Whether the lease is still this process's. On PostgreSQL the lock
    /// lives as long as its connection: a connection the server closed (a
    /// restart, a terminated backend, a network cut) has lost it, and another
    /// process may hold it now. An error or no answer within two seconds
    /// counts as lost.
    pub async fn is_held(&mut self) -> bool {
        let Some(conn) = self._connection.as_mut() else { return true };
        let check = sqlx::query_scalar::<_, bool>(
            "select exists(select 1 from pg_locks
                            where locktype = 'advisory' and pid = pg_backend_pid() and granted
                              and classid = $1::oid and objid = hashtext(current_schema())::oid and objsubid = 2)",
        )
        .bind(SEARCH_LOCK)
        .fetch_one(conn);
        matches!(tokio::time::timeout(std::time::Duration::from_secs(2), check).await, Ok(Ok(true)))
    }
}

/// The first half of the search worker's advisory lock key ("plat" in
/// ASCII); the second is the schema's hash.
const SEARCH_LOCK: i32 = 0x706c_6174;

impl Store {
    /// Takes the search-worker lease if no other process holds it.
    pub async fn try_search_lease(&self) -> Result<Option<SearchLease>> {
        match &self.db {
            Db::Sqlite { .. } => Ok(Some(SearchLease { _connection: None })),
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await?.detach();
                // One worker per installation: the lock is keyed by the schema
                // too, since several installations may share a database.
                let got: bool = sqlx::query_scalar("select pg_try_advisory_lock($1, hashtext(current_schema()))")
                    .bind(SEARCH_LOCK)
                    .fetch_one(&mut conn)
                    .await?;
                Ok(got.then_some(SearchLease { _connection: Some(conn) }))
            }
        }
    }
}
