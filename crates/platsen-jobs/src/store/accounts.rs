//! Web accounts: employer users and operators who sign in with an e-mail
//! address and a password, their sessions, single-use password reset tokens,
//! and the per-ad view and apply-click counts employers see.
//!
//! Session and reset tokens are 256 random bits handed to the browser (a
//! cookie) or an inbox (a link); only their SHA-256 is stored, so a copy of
//! the database signs nobody in.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::Row;

use super::{Db, Store, ts};
use crate::error::{Error, Errors, Result};
use crate::{keys, passwords, validate};

/// How long a session lasts from sign-in.
pub const SESSION_HOURS: i64 = 12;
/// How long a password reset link works.
pub const RESET_MINUTES: i64 = 60;
/// How long an e-mailed invitation works.
pub const INVITE_DAYS: i64 = 7;
/// The stored "hash" of an invited user who has not chosen a password yet:
/// not a PHC string, so no password matches it.
const NO_PASSWORD: &str = "!invited";

/// A web account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct User {
    pub id: i64,
    /// The employer the user acts for; `None` for an operator.
    pub employer_id: Option<i64>,
    pub email: String,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

/// A signed-in session.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    /// The token each form of this session must carry.
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

/// A session just started: the token for the cookie is here and nowhere else.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub session: Session,
}

fn token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// A `User` from a row of either database (expanded in each `read!` arm).
macro_rules! user_from {
    ($r:expr) => {
        User {
            id: $r.try_get("id")?,
            employer_id: $r.try_get("employer_id")?,
            email: $r.try_get("email")?,
            is_admin: $r.try_get("is_admin")?,
            created_at: $r.try_get("created_at")?,
            last_sign_in_at: $r.try_get("last_sign_in_at")?,
        }
    };
}

/// The most days one read of an ad's daily counts covers.
pub const MAX_STATS_DAYS: i64 = 366;
/// Rows per statement when daily counts are written (four values each).
const DAILY_ROWS_PER_STATEMENT: usize = 200;

/// What happened to an ad, added up in memory until it is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdCounts {
    pub views: i64,
    pub apply_clicks: i64,
    /// Times the ad was on a page of search results (the search page or the API).
    pub appearances: i64,
}

impl std::ops::AddAssign for AdCounts {
    fn add_assign(&mut self, o: AdCounts) {
        self.views += o.views;
        self.apply_clicks += o.apply_clicks;
        self.appearances += o.appearances;
    }
}

/// One ad's counts on one day (the Swedish calendar's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCounts {
    pub day: NaiveDate,
    pub views: i64,
    pub apply_clicks: i64,
    pub appearances: i64,
}

/// `insert … select` of `rows` daily rows: `$1` the day, then four values
/// a row. The join drops ads that no longer exist; `where true` is
/// SQLite's way to tell the join's `on` from the upsert's.
fn daily_upsert(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|i| {
            let p = 2 + 4 * i;
            format!("(${}, ${}, ${}, ${})", p, p + 1, p + 2, p + 3)
        })
        .collect();
    format!(
        "insert into job_ad_daily (job_id, day, views, apply_clicks, appearances)
         select j.id, $1, v.column2, v.column3, v.column4
           from (values {}) v join job_ads j on j.id = v.column1
          where true
         on conflict (job_id, day) do update
            set views = job_ad_daily.views + excluded.views,
                apply_clicks = job_ad_daily.apply_clicks + excluded.apply_clicks,
                appearances = job_ad_daily.appearances + excluded.appearances",
        values.join(", ")
    )
}

/// The board's reach, as `/platsannonsera` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardFigures {
    pub open_ads: i64,
    pub searches_30_days: i64,
    pub views_30_days: i64,
    pub confirmed_alerts: i64,
}

impl Store {
    /// Creates a web account for an employer (or, with `employer_id: None`
    /// and `is_admin`, an operator). Every problem with the input is
    /// reported at once; an address can have one account.
    pub async fn create_user(
        &self,
        employer_id: Option<i64>,
        email: &str,
        password: &str,
        is_admin: bool,
        now: DateTime<Utc>,
    ) -> Result<User> {
        Ok(self.insert_user(employer_id, email, Some(password), is_admin, now).await?.0)
    }

    /// Creates an employer's web account without a password and returns the
    /// token of the invitation to mail: a link that lets the user choose a
    /// password within [`INVITE_DAYS`] days, once (the reset page takes it).
    pub async fn invite_user(&self, employer_id: i64, email: &str, now: DateTime<Utc>) -> Result<(User, String)> {
        let (user, token) = self.insert_user(Some(employer_id), email, None, false, now).await?;
        Ok((user, token.expect("an invitation has a token")))
    }

    /// One account, with a password or (`None`) an invitation token.
    async fn insert_user(
        &self,
        employer_id: Option<i64>,
        email: &str,
        password: Option<&str>,
        is_admin: bool,
        now: DateTime<Utc>,
    ) -> Result<(User, Option<String>)> {
        let mut errors = Errors::default();
        let email = errors.take(validate::email("email", email)).map(|e| e.to_lowercase());
        if let Some(password) = password {
            errors.take(passwords::check("password", password));
        }
        if employer_id.is_none() && !is_admin {
            errors.push("employer_id", "required", "Ett konto hör till en arbetsgivare eller är en administratör.");
        }
        errors.into_result(|| ())?;
        let email = email.expect("checked");
        let hash = match password {
            Some(p) => {
                let p = p.to_owned();
                tokio::task::spawn_blocking(move || passwords::hash(&p)).await.expect("hashing")
            }
            None => NO_PASSWORD.to_owned(),
        };
        let invitation = password.is_none().then(token);
        let now = ts(now);
        let id: i64 = write_tx!(self, |tx| {
            if let Some(employer_id) = employer_id {
                let exists: Option<i64> = sqlx::query_scalar("select id from employers where id = $1")
                    .bind(employer_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if exists.is_none() {
                    return Err(Error::NotFound);
                }
            }
            let id: i64 = sqlx::query_scalar(
                "insert into users (employer_id, email, password_hash, is_admin, created_at)
                 values ($1, $2, $3, $4, $5) returning id",
            )
            .bind(employer_id)
            .bind(email.as_str())
            .bind(hash.as_str())
            .bind(is_admin)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_unique_violation() => Error::Conflict {
                    code: "email_taken",
                    field: Some("email"),
                    message: "Det finns redan ett konto med den e-postadressen.".into(),
                },
                _ => Error::Database(e),
            })?;
            if let Some(token) = &invitation {
                sqlx::query(
                    "insert into password_resets (token_hash, user_id, created_at, expires_at) values ($1, $2, $3, $4)",
                )
                .bind(keys::hash(token))
                .bind(id)
                .bind(now)
                .bind(now + Duration::days(INVITE_DAYS))
                .execute(&mut *tx)
                .await?;
            }
            id
        });
        tracing::info!(user_id = id, employer_id, is_admin, invited = invitation.is_some(), "user created");
        Ok((User { id, employer_id, email, is_admin, created_at: now, last_sign_in_at: None }, invitation))
    }

    /// Sends an employer's user a new invitation: a token valid for
    /// [`INVITE_DAYS`] days to choose a password (earlier unused tokens stop
    /// working). `NotFound` unless the user is one of that employer's.
    pub async fn reinvite_user(&self, employer_id: i64, user_id: i64, now: DateTime<Utc>) -> Result<(User, String)> {
        let user = self.users(Some(employer_id)).await?.into_iter().find(|u| u.id == user_id).ok_or(Error::NotFound)?;
        let token = self.replace_reset_token(user.id, Duration::days(INVITE_DAYS), now).await?;
        tracing::info!(user_id = user.id, employer_id, "user invited again");
        Ok((user, token))
    }

    /// A new reset token for a user, valid for `valid`; the user's earlier
    /// tokens (and everyone's expired ones) stop working.
    async fn replace_reset_token(&self, user_id: i64, valid: Duration, now: DateTime<Utc>) -> Result<String> {
        let token = token();
        let now = ts(now);
        write_tx!(self, |tx| {
            sqlx::query("delete from password_resets where user_id = $1 or expires_at <= $2")
                .bind(user_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "insert into password_resets (token_hash, user_id, created_at, expires_at) values ($1, $2, $3, $4)",
            )
            .bind(keys::hash(&token))
            .bind(user_id)
            .bind(now)
            .bind(now + valid)
            .execute(&mut *tx)
            .await?;
        });
        Ok(token)
    }

    /// Removes an employer's user: the account, its sessions and its reset
    /// links. `NotFound` unless the user is one of that employer's.
    pub async fn remove_user(&self, employer_id: i64, user_id: i64) -> Result<()> {
        let removed = write_tx!(self, |tx| {
            sqlx::query("delete from users where id = $1 and employer_id = $2")
                .bind(user_id)
                .bind(employer_id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        });
        if removed == 0 {
            return Err(Error::NotFound);
        }
        tracing::info!(user_id, employer_id, "user removed");
        Ok(())
    }

    /// The accounts of one employer, or every account.
    pub async fn users(&self, employer_id: Option<i64>) -> Result<Vec<User>> {
        read!(self, |pool| {
            sqlx::query(
                "select id, employer_id, email, is_admin, created_at, last_sign_in_at from users
                  where ($1 is null or employer_id = $1) order by id",
            )
            .bind(employer_id)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| Ok(user_from!(r)))
            .collect()
        })
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>> {
        let email = email.trim().to_lowercase();
        let found = read!(self, |pool| {
            match sqlx::query(
                "select id, employer_id, email, is_admin, created_at, last_sign_in_at, password_hash
                   from users where email = $1",
            )
            .bind(email)
            .fetch_optional(pool)
            .await?
            {
                Some(r) => Some((user_from!(r), r.try_get::<String, _>("password_hash")?)),
                None => None,
            }
        });
        Ok(found)
    }

    /// Checks an address and password and starts a session, or `None` when
    /// either is wrong (the caller cannot tell which, nor by the time taken).
    pub async fn sign_in(&self, email: &str, password: &str, now: DateTime<Utc>) -> Result<Option<NewSession>> {
        let found = self.user_by_email(email).await?;
        // An unknown address, or an invited user without a password yet, is
        // checked against a decoy hash: the same time, and never a match.
        let stored = found
            .as_ref()
            .map(|(_, h)| h.clone())
            .filter(|h| h != NO_PASSWORD)
            .unwrap_or_else(|| passwords::decoy().to_owned());
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || passwords::verify(&password, &stored)).await.expect("verifying");
        let Some((user, _)) = found.filter(|(_, h)| ok && h != NO_PASSWORD) else { return Ok(None) };
        let (token, csrf) = (token(), token());
        let now = ts(now);
        let expires_at = now + Duration::hours(SESSION_HOURS);
        write_tx!(self, |tx| {
            sqlx::query(
                "insert into sessions (token_hash, user_id, csrf_token, created_at, expires_at)
                 values ($1, $2, $3, $4, $5)",
            )
            .bind(keys::hash(&token))
            .bind(user.id)
            .bind(csrf.as_str())
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
            sqlx::query("update users set last_sign_in_at = $2 where id = $1")
                .bind(user.id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            // Sessions that ran out are forgotten as new ones start.
            sqlx::query("delete from sessions where expires_at <= $1").bind(now).execute(&mut *tx).await?;
        });
        tracing::info!(user_id = user.id, employer_id = user.employer_id, "signed in");
        Ok(Some(NewSession { token, session: Session { user, csrf, expires_at } }))
    }

    /// The unexpired session a cookie's token belongs to.
    pub async fn session(&self, token: &str, now: DateTime<Utc>) -> Result<Option<Session>> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let row = read!(self, |pool| {
            match sqlx::query(
                "select u.id, u.employer_id, u.email, u.is_admin, u.created_at, u.last_sign_in_at,
                        s.csrf_token, s.expires_at
                   from sessions s join users u on u.id = s.user_id
                  where s.token_hash = $1 and s.expires_at > $2",
            )
            .bind(keys::hash(token))
            .bind(ts(now))
            .fetch_optional(pool)
            .await?
            {
                Some(r) => Some(Session {
                    user: user_from!(r),
                    csrf: r.try_get("csrf_token")?,
                    expires_at: r.try_get("expires_at")?,
                }),
                None => None,
            }
        });
        Ok(row)
    }

    /// Ends a session (nothing happens for an unknown token).
    pub async fn sign_out(&self, token: &str) -> Result<()> {
        write_tx!(self, |tx| {
            sqlx::query("delete from sessions where token_hash = $1").bind(keys::hash(token)).execute(&mut *tx).await?;
        });
        Ok(())
    }

    /// Starts a password reset for an address: the user and the token to
    /// mail, or `None` for an unknown address (the caller says the same in
    /// both cases). Earlier unused tokens of the user stop working.
    pub async fn start_password_reset(&self, email: &str, now: DateTime<Utc>) -> Result<Option<(User, String)>> {
        let Some((user, _)) = self.user_by_email(email).await? else { return Ok(None) };
        let token = self.replace_reset_token(user.id, Duration::minutes(RESET_MINUTES), now).await?;
        tracing::info!(user_id = user.id, "password reset started");
        Ok(Some((user, token)))
    }

    /// Sets a new password with a reset token: once, before it expires. Every
    /// session of the user ends.
    pub async fn finish_password_reset(&self, token: &str, password: &str, now: DateTime<Utc>) -> Result<User> {
        passwords::check("password", password).map_err(|e| Error::Invalid(vec![e]))?;
        let password = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || passwords::hash(&password)).await.expect("hashing");
        let now = ts(now);
        let user_id: i64 = write_tx!(self, |tx| {
            let user_id: Option<i64> = sqlx::query_scalar(
                "update password_resets set used_at = $2
                  where token_hash = $1 and used_at is null and expires_at > $2
              returning user_id",
            )
            .bind(keys::hash(token))
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(user_id) = user_id else {
                return Err(Error::invalid(
                    "token",
                    "invalid_token",
                    "Länken är ogiltig, redan använd eller för gammal. Begär en ny.",
                ));
            };
            sqlx::query("update users set password_hash = $2 where id = $1")
                .bind(user_id)
                .bind(hash.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query("delete from sessions where user_id = $1").bind(user_id).execute(&mut *tx).await?;
            user_id
        });
        tracing::info!(user_id, "password reset");
        let users = self.users(None).await?;
        users.into_iter().find(|u| u.id == user_id).ok_or(Error::NotFound)
    }

    /// Adds each ad's views, apply clicks and search appearances to its
    /// totals and to its row for `day`, in one transaction. Counts for ads
    /// that no longer exist are dropped.
    pub async fn add_job_counts(&self, day: NaiveDate, counts: &[(i64, AdCounts)]) -> Result<()> {
        if counts.is_empty() {
            return Ok(());
        }
        // Appearances touch many ads at once (every hit of every search), so
        // the daily rows go in a few statements of many rows each.
        write_tx!(self, |tx| {
            for chunk in counts.chunks(DAILY_ROWS_PER_STATEMENT) {
                // Only placeholders are generated; every value is bound.
                let mut q = sqlx::query(sqlx::AssertSqlSafe(daily_upsert(chunk.len()))).bind(day);
                for (job_id, c) in chunk {
                    q = q.bind(*job_id).bind(c.views).bind(c.apply_clicks).bind(c.appearances);
                }
                q.execute(&mut *tx).await?;
            }
            for (job_id, c) in counts.iter().filter(|(_, c)| c.views != 0 || c.apply_clicks != 0) {
                sqlx::query(
                    "insert into job_ad_counters (job_id, views, apply_clicks)
                     select id, $2, $3 from job_ads where id = $1
                     on conflict (job_id) do update
                        set views = job_ad_counters.views + excluded.views,
                            apply_clicks = job_ad_counters.apply_clicks + excluded.apply_clicks",
                )
                .bind(*job_id)
                .bind(c.views)
                .bind(c.apply_clicks)
                .execute(&mut *tx)
                .await?;
            }
        });
        Ok(())
    }

    /// One ad's counts per day from `from` to `to` (both included, at most
    /// [`MAX_STATS_DAYS`]), every day present (zero where nothing
    /// happened), for whoever may read the ad: its employer or an operator.
    pub async fn job_daily_counts(
        &self,
        actor: crate::model::Actor,
        id: i64,
        from: NaiveDate,
        to: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Vec<DayCounts>> {
        self.job_for(actor, id, now).await?;
        let rows: Vec<(NaiveDate, i64, i64, i64)> = read!(self, |pool| {
            sqlx::query_as(
                "select day, views, apply_clicks, appearances from job_ad_daily
                  where job_id = $1 and day >= $2 and day <= $3 order by day",
            )
            .bind(id)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?
        });
        let found: HashMap<NaiveDate, (i64, i64, i64)> = rows.into_iter().map(|(d, v, c, a)| (d, (v, c, a))).collect();
        Ok(from
            .iter_days()
            .take_while(|d| *d <= to)
            .take(MAX_STATS_DAYS as usize)
            .map(|day| {
                let (views, apply_clicks, appearances) = found.get(&day).copied().unwrap_or_default();
                DayCounts { day, views, apply_clicks, appearances }
            })
            .collect())
    }

    /// Adds to the board's counts of searches and ad views on `day`.
    pub async fn add_board_counts(&self, day: chrono::NaiveDate, searches: i64, views: i64) -> Result<()> {
        if searches == 0 && views == 0 {
            return Ok(());
        }
        write_tx!(self, |tx| {
            sqlx::query(
                "insert into board_daily (day, searches, views) values ($1, $2, $3)
                 on conflict (day) do update
                    set searches = board_daily.searches + excluded.searches,
                        views = board_daily.views + excluded.views",
            )
            .bind(day)
            .bind(searches)
            .bind(views)
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// What the board offers an advertiser, read live: open ads, searches
    /// and ad views in the 30 days up to `now`, and confirmed job alerts.
    pub async fn board_figures(&self, now: DateTime<Utc>) -> Result<BoardFigures> {
        let since = crate::validate::today_in_sweden(now) - chrono::Duration::days(29);
        let (open_ads, (searches, views), alerts): (i64, (i64, i64), i64) = read!(self, |pool| {
            let open: i64 =
                sqlx::query_scalar("select count(*) from job_ads where status = 'published' and expires_at > $1")
                    .bind(now)
                    .fetch_one(pool)
                    .await?;
            let counts: (i64, i64) = sqlx::query_as(
                "select cast(coalesce(sum(searches), 0) as bigint), cast(coalesce(sum(views), 0) as bigint)
                   from board_daily where day >= $1",
            )
            .bind(since)
            .fetch_one(pool)
            .await?;
            let alerts: i64 = sqlx::query_scalar("select count(*) from job_alerts where confirmed_at is not null")
                .fetch_one(pool)
                .await?;
            (open, counts, alerts)
        });
        Ok(BoardFigures { open_ads, searches_30_days: searches, views_30_days: views, confirmed_alerts: alerts })
    }

    /// Views and apply clicks of an employer's ads, by ad id.
    pub async fn job_counts(&self, employer_id: i64) -> Result<HashMap<i64, (i64, i64)>> {
        let rows: Vec<(i64, i64, i64)> = read!(self, |pool| {
            sqlx::query_as(
                "select c.job_id, c.views, c.apply_clicks from job_ad_counters c
                   join job_ads j on j.id = c.job_id where j.employer_id = $1",
            )
            .bind(employer_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(id, v, c)| (id, (v, c))).collect())
    }
}
