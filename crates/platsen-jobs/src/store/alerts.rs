//! Job alerts: a saved search mailed to a job seeker, with double opt-in
//! and no account.
//!
//! An alert is made unconfirmed and a confirmation link is mailed; only a
//! confirmed alert ever runs. Each mail carries its own random token for
//! its links (manage, one-click unsubscribe); only SHA-256 of a token is
//! stored, and every token ever sent for an alert keeps working until the
//! alert is gone. `job_alert_sent` remembers which ads an alert has mailed,
//! so an ad is never mailed twice, whatever the search engine returns.
//! Running the search and sending the mail are `platsen-app`'s.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};

use super::{Db, Store, ts};
use crate::error::{Error, Result};
use crate::{keys, validate};

/// Unconfirmed alerts are forgotten after this long.
pub const CONFIRM_DAYS: i64 = 7;
/// The most alerts one address may have.
pub const MAX_PER_ADDRESS: i64 = 20;
/// An address waits for at most one confirmation at a time: another
/// subscription within this many hours of an unconfirmed one mails nothing.
pub const PENDING_HOURS: i64 = 24;
/// How long a worker holds an alert it is running.
const LEASE_MINUTES: i64 = 10;

/// How often an alert mails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertFrequency {
    /// Checked every minute; mailed as soon as something new is found.
    Instant,
    Daily,
    Weekly,
}

impl AlertFrequency {
    pub fn code(self) -> &'static str {
        match self {
            AlertFrequency::Instant => "instant",
            AlertFrequency::Daily => "daily",
            AlertFrequency::Weekly => "weekly",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "instant" => Some(AlertFrequency::Instant),
            "daily" => Some(AlertFrequency::Daily),
            "weekly" => Some(AlertFrequency::Weekly),
            _ => None,
        }
    }

    pub fn name_sv(self) -> &'static str {
        match self {
            AlertFrequency::Instant => "Direkt",
            AlertFrequency::Daily => "En gång om dagen",
            AlertFrequency::Weekly => "En gång i veckan",
        }
    }

    /// The time between two runs.
    pub fn interval(self) -> Duration {
        match self {
            AlertFrequency::Instant => Duration::minutes(1),
            AlertFrequency::Daily => Duration::days(1),
            AlertFrequency::Weekly => Duration::days(7),
        }
    }
}

/// A saved search.
#[derive(Debug, Clone)]
pub struct Alert {
    pub id: i64,
    pub email: String,
    /// The saved search in its stored form (see `platsen_app::saved_search`).
    pub search: String,
    /// The stored form's format.
    pub search_version: i32,
    pub frequency: AlertFrequency,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub checked_at: Option<DateTime<Utc>>,
    pub next_due_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// A confirmed alert leased to a worker to run.
#[derive(Debug, Clone)]
pub struct ClaimedAlert {
    pub alert: Alert,
    /// When it was confirmed: ads published before are not new to it.
    pub confirmed_at: DateTime<Utc>,
}

type AlertRow =
    (i64, String, String, i32, String, Option<DateTime<Utc>>, Option<DateTime<Utc>>, DateTime<Utc>, DateTime<Utc>);

fn alert(r: AlertRow) -> Result<Alert> {
    let (id, email, search, search_version, frequency, confirmed_at, checked_at, next_due_at, created_at) = r;
    let frequency = AlertFrequency::from_code(&frequency)
        .ok_or_else(|| Error::Database(sqlx::Error::Decode(format!("unknown alert frequency {frequency:?}").into())))?;
    Ok(Alert { id, email, search, search_version, frequency, confirmed_at, checked_at, next_due_at, created_at })
}

const ALERT_COLUMNS: &str = "select a.id, a.email, a.search, a.search_version, a.frequency, a.confirmed_at, a.checked_at, a.next_due_at, a.created_at from job_alerts a ";

fn new_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

impl Store {
    /// Saves an unconfirmed alert and returns its id and the token for the
    /// confirmation link; `None` when the address already has the most
    /// alerts allowed, or waits for the confirmation of one made less than
    /// [`PENDING_HOURS`] ago (the caller answers the same either way, so
    /// the answer does not tell whose address has alerts, and an address
    /// gets at most one confirmation mail a day however often it is given).
    /// An older unconfirmed alert of the address gives way to the new one.
    pub async fn create_alert(
        &self,
        email: &str,
        (search, search_version): (&str, i32),
        frequency: AlertFrequency,
        now: DateTime<Utc>,
    ) -> Result<Option<(i64, String)>> {
        let email = validate::email("email", email).map_err(|e| Error::Invalid(vec![e]))?.to_lowercase();
        let now = ts(now);
        let token = new_token();
        let created = write_tx!(self, |tx| {
            // Forget confirmations nobody followed.
            sqlx::query("delete from job_alerts where confirmed_at is null and created_at < $1")
                .bind(now - Duration::days(CONFIRM_DAYS))
                .execute(&mut *tx)
                .await?;
            let pending: i64 = sqlx::query_scalar(
                "select count(*) from job_alerts where email = $1 and confirmed_at is null and created_at >= $2",
            )
            .bind(email.as_str())
            .bind(now - Duration::hours(PENDING_HOURS))
            .fetch_one(&mut *tx)
            .await?;
            // One confirmation at a time: an unanswered one from before
            // the last day gives way to the new one.
            if pending == 0 {
                sqlx::query("delete from job_alerts where email = $1 and confirmed_at is null")
                    .bind(email.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            let n: i64 = sqlx::query_scalar("select count(*) from job_alerts where email = $1")
                .bind(email.as_str())
                .fetch_one(&mut *tx)
                .await?;
            if pending > 0 || n >= MAX_PER_ADDRESS {
                None
            } else {
                let id: i64 = sqlx::query_scalar(
                    "insert into job_alerts (email, search, search_version, frequency, next_due_at, created_at)
                     values ($1, $2, $5, $3, $4, $4) returning id",
                )
                .bind(email.as_str())
                .bind(search)
                .bind(frequency.code())
                .bind(now)
                .bind(search_version)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query("insert into job_alert_tokens (token_hash, alert_id, created_at) values ($1, $2, $3)")
                    .bind(keys::hash(&token))
                    .bind(id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                Some(id)
            }
        });
        match created {
            Some(id) => {
                tracing::info!(
                    alert_id = id,
                    frequency = frequency.code(),
                    "job alert saved, waiting for confirmation"
                );
                Ok(Some((id, token)))
            }
            None => {
                tracing::info!("job alert not saved: the address waits for a confirmation or has the most alerts");
                Ok(None)
            }
        }
    }

    /// The alert a link's token belongs to (`NotFound` for an unknown or
    /// expired token).
    pub async fn alert_by_token(&self, token: &str, now: DateTime<Utc>) -> Result<Alert> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::NotFound);
        }
        let row: Option<AlertRow> = read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{ALERT_COLUMNS} join job_alert_tokens t on t.alert_id = a.id where t.token_hash = $1"
            )))
            .bind(keys::hash(token))
            .fetch_optional(pool)
            .await?
        });
        let a = alert(row.ok_or(Error::NotFound)?)?;
        if a.confirmed_at.is_none() && a.created_at < ts(now) - Duration::days(CONFIRM_DAYS) {
            return Err(Error::NotFound);
        }
        Ok(a)
    }

    /// Confirms the alert of a confirmation link (again: no change). Its
    /// first run is one interval from now and looks for ads published after
    /// this moment.
    pub async fn confirm_alert(&self, token: &str, now: DateTime<Utc>) -> Result<Alert> {
        let a = self.alert_by_token(token, now).await?;
        if a.confirmed_at.is_none() {
            let now = ts(now);
            write_tx!(self, |tx| {
                sqlx::query(
                    "update job_alerts set confirmed_at = $2, checked_at = $2, next_due_at = $3
                      where id = $1 and confirmed_at is null",
                )
                .bind(a.id)
                .bind(now)
                .bind(now + a.frequency.interval())
                .execute(&mut *tx)
                .await?;
            });
            tracing::info!(alert_id = a.id, "job alert confirmed");
        }
        self.alert_by_token(token, now).await
    }

    /// Changes how often the alert of a link mails.
    pub async fn set_alert_frequency(
        &self,
        token: &str,
        frequency: AlertFrequency,
        now: DateTime<Utc>,
    ) -> Result<Alert> {
        let a = self.alert_by_token(token, now).await?;
        let now = ts(now);
        write_tx!(self, |tx| {
            sqlx::query("update job_alerts set frequency = $2, next_due_at = $3 where id = $1")
                .bind(a.id)
                .bind(frequency.code())
                .bind(a.checked_at.unwrap_or(now).max(now - frequency.interval()) + frequency.interval())
                .execute(&mut *tx)
                .await?;
        });
        self.alert_by_token(token, now).await
    }

    /// Deletes the alert of a link, with its tokens and what it has sent.
    pub async fn delete_alert(&self, token: &str, now: DateTime<Utc>) -> Result<()> {
        let a = self.alert_by_token(token, now).await?;
        write_tx!(self, |tx| {
            sqlx::query("delete from job_alert_sent where alert_id = $1").bind(a.id).execute(&mut *tx).await?;
            sqlx::query("delete from job_alert_tokens where alert_id = $1").bind(a.id).execute(&mut *tx).await?;
            sqlx::query("delete from job_alerts where id = $1").bind(a.id).execute(&mut *tx).await?;
        });
        tracing::info!(alert_id = a.id, "job alert ended");
        Ok(())
    }

    /// Every alert whose saved search is stored in a format older than
    /// `version`: id, format and stored text.
    pub async fn alert_searches_older_than(&self, version: i32) -> Result<Vec<(i64, i32, String)>> {
        Ok(read!(self, |pool| {
            sqlx::query_as("select id, search_version, search from job_alerts where search_version < $1 order by id")
                .bind(version)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Replaces an alert's saved search if it is still stored as `from`;
    /// returns whether it was.
    pub async fn rewrite_alert_search(&self, id: i64, from: i32, search: &str, version: i32) -> Result<bool> {
        let n = write_tx!(self, |tx| {
            sqlx::query("update job_alerts set search = $3, search_version = $4 where id = $1 and search_version = $2")
                .bind(id)
                .bind(from)
                .bind(search)
                .bind(version)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// Leases confirmed alerts that are due, at most `limit`.
    pub async fn claim_due_alerts(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<ClaimedAlert>> {
        let now = ts(now);
        let rows: Vec<AlertRow> = read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{ALERT_COLUMNS} where a.confirmed_at is not null and a.next_due_at <= $1 order by a.next_due_at limit $2"
            )))
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        let mut claimed = Vec::new();
        for row in rows {
            let a = alert(row)?;
            let got = write_tx!(self, |tx| {
                sqlx::query("update job_alerts set next_due_at = $2 where id = $1 and next_due_at = $3")
                    .bind(a.id)
                    .bind(now + Duration::minutes(LEASE_MINUTES))
                    .bind(a.next_due_at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
            });
            if got == 1
                && let Some(confirmed_at) = a.confirmed_at
            {
                claimed.push(ClaimedAlert { alert: a, confirmed_at });
            }
        }
        Ok(claimed)
    }

    /// Which of `job_ids` the alert has already mailed.
    pub async fn alert_already_sent(&self, alert_id: i64, job_ids: &[i64]) -> Result<HashSet<i64>> {
        let sent: Vec<i64> = read!(self, |pool| {
            sqlx::query_scalar("select job_id from job_alert_sent where alert_id = $1")
                .bind(alert_id)
                .fetch_all(pool)
                .await?
        });
        Ok(sent.into_iter().filter(|id| job_ids.contains(id)).collect())
    }

    /// A fresh token for the links of a mail about to be sent.
    pub async fn alert_link_token(&self, alert_id: i64, now: DateTime<Utc>) -> Result<String> {
        let token = new_token();
        let now = ts(now);
        write_tx!(self, |tx| {
            sqlx::query("insert into job_alert_tokens (token_hash, alert_id, created_at) values ($1, $2, $3)")
                .bind(keys::hash(&token))
                .bind(alert_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        });
        Ok(token)
    }

    /// Writes down a run: the ads mailed (none when nothing was new), the
    /// time the search ran, and the next run one interval later. After a
    /// failed mail, `retry_in` brings the next run closer and nothing is
    /// marked sent.
    pub async fn record_alert_run(
        &self,
        claimed: &ClaimedAlert,
        sent: &[i64],
        checked_at: DateTime<Utc>,
        retry_in: Option<Duration>,
    ) -> Result<()> {
        let a = &claimed.alert;
        let checked_at = ts(checked_at);
        write_tx!(self, |tx| {
            match retry_in {
                Some(wait) => {
                    sqlx::query("update job_alerts set next_due_at = $2 where id = $1")
                        .bind(a.id)
                        .bind(checked_at + wait)
                        .execute(&mut *tx)
                        .await?;
                }
                None => {
                    for job in sent {
                        sqlx::query(
                            "insert into job_alert_sent (alert_id, job_id, sent_at) values ($1, $2, $3)
                             on conflict (alert_id, job_id) do nothing",
                        )
                        .bind(a.id)
                        .bind(*job)
                        .bind(checked_at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    sqlx::query("update job_alerts set checked_at = $2, next_due_at = $3 where id = $1")
                        .bind(a.id)
                        .bind(checked_at)
                        .bind(checked_at + a.frequency.interval())
                        .execute(&mut *tx)
                        .await?;
                }
            }
        });
        Ok(())
    }
}
