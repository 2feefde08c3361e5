//! Webhooks: URLs that receive the change log as it grows.
//!
//! Each webhook is a consumer of the change log with its own cursor (see
//! `store/changes.rs`), so it gets every change once and in order, from the
//! moment it was registered. A delivery that fails is retried with backoff
//! and the cursor moves only after the receiver answered 2xx; every attempt
//! is logged. The delivering itself (HTTP, signatures, which addresses may
//! be reached) is `platsen-app`'s.

use chrono::{DateTime, Duration, Utc};

use super::changes::{ChangePage, LogRow, MAX_PAGE, page_of};
use super::{Db, Store, ts};
use crate::error::{Error, Result};
use crate::model::Actor;

/// After this many failed attempts in a row a webhook is disabled.
pub const MAX_ATTEMPTS: i64 = 12;
/// The most webhooks one employer may register.
pub const MAX_PER_EMPLOYER: i64 = 10;
/// Deliveries kept per webhook in the log.
const KEEP_DELIVERIES: i64 = 200;
/// How long a worker may hold a webhook while it delivers.
const LEASE_SECONDS: i64 = 60;

/// A registered webhook (never with its secret).
#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: i64,
    /// `None`: every employer's ads (an operator's webhook).
    pub employer_id: Option<i64>,
    pub url: String,
    pub cursor: i64,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// One delivery attempt.
#[derive(Debug, Clone)]
pub struct WebhookDelivery {
    pub id: i64,
    pub first_position: i64,
    pub last_position: i64,
    pub changes: i64,
    pub attempt: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub created_at: DateTime<Utc>,
}

/// A webhook that is due, leased to the caller, with what it needs to sign.
#[derive(Debug, Clone)]
pub struct DueWebhook {
    pub id: i64,
    pub employer_id: Option<i64>,
    pub url: String,
    pub secret: String,
    pub cursor: i64,
    pub attempts: i64,
}

/// What became of a delivery.
#[derive(Debug, Clone)]
pub struct WebhookOutcome {
    pub first_position: i64,
    pub last_position: i64,
    pub changes: i64,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

impl WebhookOutcome {
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|s| (200..300).contains(&s))
    }
}

/// How long to wait before attempt `n + 1` after `n` failures: 30 s,
/// doubling, at most 6 h (the twelve attempts span about 14 hours).
pub fn backoff(failures: i64) -> Duration {
    let exp = failures.clamp(1, 20) - 1;
    Duration::seconds((30i64 << exp).min(6 * 3600))
}

type WebhookRow =
    (i64, Option<i64>, String, i64, i64, DateTime<Utc>, Option<String>, Option<DateTime<Utc>>, DateTime<Utc>);

fn webhook(r: WebhookRow) -> Webhook {
    let (id, employer_id, url, cursor, attempts, next_attempt_at, last_error, disabled_at, created_at) = r;
    Webhook { id, employer_id, url, cursor, attempts, next_attempt_at, last_error, disabled_at, created_at }
}

const WEBHOOK_COLUMNS: &str = "select id, employer_id, url, cursor, attempts, next_attempt_at, last_error, disabled_at, created_at from webhooks ";

impl Store {
    /// Registers `url` for `actor`: an employer's key or user for its own
    /// ads, an operator for every ad. Deliveries start with the changes
    /// after this moment. Returns the webhook and its signing secret, which
    /// is shown this once.
    pub async fn create_webhook(&self, actor: Actor, url: &str, now: DateTime<Utc>) -> Result<(Webhook, String)> {
        let employer_id = match actor {
            a if a.is_operator() => None,
            a => Some(a.employer_id().ok_or(Error::Forbidden("no employer to register a webhook for"))?),
        };
        let secret = format!("whsec_{}", hex::encode(rand::random::<[u8; 32]>()));
        let now = ts(now);
        let id: i64 = write_tx!(self, |tx| {
            if let Some(e) = employer_id {
                let n: i64 = sqlx::query_scalar("select count(*) from webhooks where employer_id = $1")
                    .bind(e)
                    .fetch_one(&mut *tx)
                    .await?;
                if n >= MAX_PER_EMPLOYER {
                    return Err(Error::conflict(
                        "too_many_webhooks",
                        format!("Högst {MAX_PER_EMPLOYER} webhooks per arbetsgivare; ta bort en först."),
                    ));
                }
            }
            let head: i64 =
                sqlx::query_scalar("select coalesce(max(id), 0) from job_changes").fetch_one(&mut *tx).await?;
            sqlx::query_scalar(
                "insert into webhooks (employer_id, url, secret, cursor, next_attempt_at, created_at)
                 values ($1, $2, $3, $4, $5, $5) returning id",
            )
            .bind(employer_id)
            .bind(url)
            .bind(secret.as_str())
            .bind(head)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?
        });
        tracing::info!(webhook_id = id, employer_id, actor = %actor.label(), "webhook registered");
        Ok((self.webhook(actor, id).await?, secret))
    }

    /// One webhook the actor may see: its own employer's, or any for an operator.
    pub async fn webhook(&self, actor: Actor, id: i64) -> Result<Webhook> {
        let row: Option<WebhookRow> = read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{WEBHOOK_COLUMNS} where id = $1")))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        let w = row.map(webhook).ok_or(Error::NotFound)?;
        match actor.employer_id() {
            Some(own) if w.employer_id != Some(own) => Err(Error::NotFound),
            None if !actor.is_operator() => Err(Error::NotFound),
            _ => Ok(w),
        }
    }

    /// The actor's webhooks (an operator: all), oldest first.
    pub async fn webhooks(&self, actor: Actor) -> Result<Vec<Webhook>> {
        let rows: Vec<WebhookRow> = match actor.employer_id() {
            Some(e) => read!(self, |pool| {
                sqlx::query_as(sqlx::AssertSqlSafe(format!("{WEBHOOK_COLUMNS} where employer_id = $1 order by id")))
                    .bind(e)
                    .fetch_all(pool)
                    .await?
            }),
            None if actor.is_operator() => read!(self, |pool| {
                sqlx::query_as(sqlx::AssertSqlSafe(format!("{WEBHOOK_COLUMNS} order by id"))).fetch_all(pool).await?
            }),
            None => Vec::new(),
        };
        Ok(rows.into_iter().map(webhook).collect())
    }

    /// Removes a webhook and its delivery log.
    pub async fn delete_webhook(&self, actor: Actor, id: i64) -> Result<()> {
        self.webhook(actor, id).await?;
        write_tx!(self, |tx| {
            sqlx::query("delete from webhook_deliveries where webhook_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query("delete from webhooks where id = $1").bind(id).execute(&mut *tx).await?;
        });
        tracing::info!(webhook_id = id, actor = %actor.label(), "webhook deleted");
        Ok(())
    }

    /// A webhook's latest delivery attempts, newest first.
    pub async fn webhook_deliveries(&self, actor: Actor, id: i64, limit: i64) -> Result<Vec<WebhookDelivery>> {
        self.webhook(actor, id).await?;
        type Row = (i64, i64, i64, i64, i64, Option<i64>, Option<String>, i64, DateTime<Utc>);
        let rows: Vec<Row> = read!(self, |pool| {
            sqlx::query_as(
                "select id, first_position, last_position, changes, attempt, status_code, error, duration_ms, created_at
                   from webhook_deliveries where webhook_id = $1 order by id desc limit $2",
            )
            .bind(id)
            .bind(limit.clamp(1, KEEP_DELIVERIES))
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(id, first_position, last_position, changes, attempt, status_code, error, duration_ms, created_at)| {
                    WebhookDelivery {
                        id,
                        first_position,
                        last_position,
                        changes,
                        attempt,
                        status_code,
                        error,
                        duration_ms,
                        created_at,
                    }
                },
            )
            .collect())
    }

    /// Leases the webhooks that are due and have changes waiting, at most
    /// `limit` of them. A lease keeps other servers off while one delivers.
    pub async fn lease_due_webhooks(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<DueWebhook>> {
        let now = ts(now);
        type Row = (i64, Option<i64>, String, String, i64, i64);
        let candidates: Vec<Row> = read!(self, |pool| {
            sqlx::query_as(
                "select w.id, w.employer_id, w.url, w.secret, w.cursor, w.attempts from webhooks w
                  where w.disabled_at is null and w.next_attempt_at <= $1
                    and (w.lease_until is null or w.lease_until < $1)
                    and exists (select 1 from job_changes c
                                 where c.id > w.cursor and (w.employer_id is null or c.employer_id = w.employer_id))
                  order by w.next_attempt_at limit $2",
            )
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        let mut leased = Vec::new();
        for (id, employer_id, url, secret, cursor, attempts) in candidates {
            // Leased only as it was read: another server may have delivered
            // (moved the cursor) or failed (moved the next attempt) and
            // released its lease since the select, and a lease taken on that
            // stale row would deliver the same changes again.
            let got = write_tx!(self, |tx| {
                sqlx::query(
                    "update webhooks set lease_until = $2
                      where id = $1 and disabled_at is null and (lease_until is null or lease_until < $3)
                        and cursor = $4 and attempts = $5 and next_attempt_at <= $3",
                )
                .bind(id)
                .bind(now + Duration::seconds(LEASE_SECONDS))
                .bind(now)
                .bind(cursor)
                .bind(attempts)
                .execute(&mut *tx)
                .await?
                .rows_affected()
            });
            if got == 1 {
                leased.push(DueWebhook { id, employer_id, url, secret, cursor, attempts });
            }
        }
        Ok(leased)
    }

    /// The next changes for a webhook: after its cursor, its employer's only
    /// (an operator's: all).
    pub async fn webhook_changes(&self, due: &DueWebhook, limit: u32) -> Result<ChangePage> {
        let limit = limit.clamp(1, MAX_PAGE);
        let rows: Vec<LogRow> = match due.employer_id {
            Some(e) => read!(self, |pool| {
                sqlx::query_as(
                    "select id, job_id, change, ad, reason, created_at from job_changes
                      where id > $1 and employer_id = $2 order by id limit $3",
                )
                .bind(due.cursor)
                .bind(e)
                .bind(i64::from(limit) + 1)
                .fetch_all(pool)
                .await?
            }),
            None => read!(self, |pool| {
                sqlx::query_as(
                    "select id, job_id, change, ad, reason, created_at from job_changes
                      where id > $1 order by id limit $2",
                )
                .bind(due.cursor)
                .bind(i64::from(limit) + 1)
                .fetch_all(pool)
                .await?
            }),
        };
        page_of(rows, limit, due.cursor)
    }

    /// Records a delivery attempt and releases the lease: on success the
    /// cursor moves past what was delivered; on failure the next attempt
    /// waits [`backoff`], and after [`MAX_ATTEMPTS`] the webhook is disabled.
    pub async fn record_webhook_delivery(
        &self,
        due: &DueWebhook,
        outcome: &WebhookOutcome,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let now = ts(now);
        let attempt = due.attempts + 1;
        let ok = outcome.succeeded();
        let disable = !ok && attempt >= MAX_ATTEMPTS;
        write_tx!(self, |tx| {
            if ok {
                sqlx::query(
                    "update webhooks set cursor = $2, attempts = 0, next_attempt_at = $3, lease_until = null,
                            last_error = null
                      where id = $1",
                )
                .bind(due.id)
                .bind(outcome.last_position)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            } else {
                let error = outcome
                    .error
                    .clone()
                    .unwrap_or_else(|| format!("HTTP {}", outcome.status_code.unwrap_or_default()));
                sqlx::query(
                    "update webhooks set attempts = $2, next_attempt_at = $3, lease_until = null, last_error = $4,
                            disabled_at = case when $5 then $6 else disabled_at end
                      where id = $1",
                )
                .bind(due.id)
                .bind(attempt)
                .bind(now + backoff(attempt))
                .bind(error)
                .bind(disable)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "insert into webhook_deliveries (webhook_id, first_position, last_position, changes, attempt,
                        status_code, error, duration_ms, created_at)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(due.id)
            .bind(outcome.first_position)
            .bind(outcome.last_position)
            .bind(outcome.changes)
            .bind(attempt)
            .bind(outcome.status_code.map(i64::from))
            .bind(outcome.error.as_deref())
            .bind(outcome.duration_ms)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "delete from webhook_deliveries where webhook_id = $1 and id not in (
                     select id from webhook_deliveries where webhook_id = $1 order by id desc limit $2)",
            )
            .bind(due.id)
            .bind(KEEP_DELIVERIES)
            .execute(&mut *tx)
            .await?;
        });
        if disable {
            tracing::warn!(webhook_id = due.id, attempts = attempt, "webhook disabled after failing deliveries");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_six_hours() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(5), Duration::seconds(480));
        assert_eq!(backoff(11), Duration::hours(6));
        assert_eq!(backoff(100), Duration::hours(6));
        let total: i64 = (1..MAX_ATTEMPTS).map(|n| backoff(n).num_seconds()).sum();
        assert!((10 * 3600..=20 * 3600).contains(&total), "{total}");
    }
}
