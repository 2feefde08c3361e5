//! Employers' logos: PNGs made on upload (see `platsen_app::logos`), one per
//! employer, read by their digest to be served, and the map from employer
//! to logo the lists use.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{Db, IdOrSlug, Store, ts};
use crate::error::{Error, Result};
use crate::model::{Actor, Employer, Logo};

/// A logo ready to store: the PNG, its size, and the first 16 hex digits
/// of its SHA-256.
#[derive(Debug, Clone)]
pub struct NewLogo {
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub digest: String,
}

impl Store {
    /// Sets an employer's logo, replacing any: an employer's own users and
    /// keys for that employer, operators for any.
    pub async fn set_logo(
        &self,
        actor: Actor,
        employer_id: i64,
        logo: &NewLogo,
        now: DateTime<Utc>,
    ) -> Result<Employer> {
        if actor.employer_id().is_some_and(|own| own != employer_id) {
            return Err(Error::Forbidden("an employer changes only its own logo"));
        }
        let now = ts(now);
        write_tx!(self, |tx| {
            let found: Option<i64> = sqlx::query_scalar("select id from employers where id = $1")
                .bind(employer_id)
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Err(Error::NotFound);
            }
            sqlx::query(
                "insert into employer_logos (employer_id, digest, png, width, height, updated_at)
                 values ($1, $2, $3, $4, $5, $6)
                 on conflict (employer_id) do update
                    set digest = excluded.digest, png = excluded.png, width = excluded.width,
                        height = excluded.height, updated_at = excluded.updated_at",
            )
            .bind(employer_id)
            .bind(&logo.digest)
            .bind(&logo.png)
            .bind(i64::from(logo.width))
            .bind(i64::from(logo.height))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("update employers set updated_at = $2 where id = $1")
                .bind(employer_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        });
        tracing::info!(employer_id, digest = %logo.digest, bytes = logo.png.len(), actor = %actor.label(), "logo set");
        self.employer(&IdOrSlug::Id(employer_id), now).await
    }

    /// Removes an employer's logo (nothing happens if it has none).
    pub async fn remove_logo(&self, actor: Actor, employer_id: i64, now: DateTime<Utc>) -> Result<Employer> {
        if actor.employer_id().is_some_and(|own| own != employer_id) {
            return Err(Error::Forbidden("an employer changes only its own logo"));
        }
        write_tx!(self, |tx| {
            sqlx::query("delete from employer_logos where employer_id = $1")
                .bind(employer_id)
                .execute(&mut *tx)
                .await?;
        });
        tracing::info!(employer_id, actor = %actor.label(), "logo removed");
        self.employer(&IdOrSlug::Id(employer_id), now).await
    }

    /// The PNG stored under `digest`, if any employer has it.
    pub async fn logo_png(&self, digest: &str) -> Result<Option<Vec<u8>>> {
        Ok(read!(self, |pool| {
            sqlx::query_scalar("select png from employer_logos where digest = $1 limit 1")
                .bind(digest)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Every employer's logo, by employer id (without the images).
    pub async fn logos(&self) -> Result<HashMap<i64, Logo>> {
        let rows: Vec<(i64, String, i64, i64)> = read!(self, |pool| {
            sqlx::query_as("select employer_id, digest, width, height from employer_logos").fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(|(id, digest, width, height)| (id, Logo { digest, width, height })).collect())
    }
}
