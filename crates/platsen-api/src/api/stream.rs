//! The change stream and the snapshot, for aggregators and applicant-tracking
//! systems that keep a copy of the board.
//!
//! A consumer fetches `/api/v1/snapshot` once (every open ad and a cursor),
//! then polls `/api/v1/stream?since=<cursor>` and applies each change in
//! order. Both read the change log (`platsen_jobs::store::changes`), whose
//! positions are handed out in commit order, so no change is ever skipped
//! and none comes twice.

use chrono::{DateTime, Utc};
use platsen_jobs::store::{Change, ChangeKind};
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use super::wire::{ChangeCode, JobView, RemovalCode};
use crate::AppState;
use crate::http::problem::ApiError;

#[derive(Tags)]
enum Tag {
    /// Keeping a copy of the board: the snapshot and the change stream.
    Stream,
}

/// What a removed ad was, so a consumer can filter tombstones the way it
/// filters ads.
#[derive(Debug, Clone, Object)]
pub struct TombstoneView {
    pub slug: String,
    pub employer_id: i64,
    pub employer_slug: String,
    pub role: String,
    /// The ad's first place.
    pub municipality_code: String,
    pub county_code: String,
    /// Every place of the ad, the first first.
    pub municipality_codes: Vec<String>,
    /// The places' distinct counties.
    pub county_codes: Vec<String>,
    /// The ad's version when it went away.
    pub version: i64,
}

/// One change.
#[derive(Debug, Clone, Object)]
pub struct ChangeView {
    /// The ad's id.
    pub id: i64,
    pub change: ChangeCode,
    /// This change's place in the stream: `since` for a request that
    /// continues after it.
    pub cursor: String,
    pub changed_at: DateTime<Utc>,
    /// For `upsert`: the ad as the public now sees it.
    #[oai(skip_serializing_if_is_none)]
    pub ad: Option<JobView>,
    /// For `removed`: why.
    #[oai(skip_serializing_if_is_none)]
    pub reason: Option<RemovalCode>,
    /// For `removed`: what the ad was.
    #[oai(skip_serializing_if_is_none)]
    pub removed: Option<TombstoneView>,
}

impl From<Change> for ChangeView {
    fn from(c: Change) -> Self {
        let cursor = c.position.to_string();
        match c.kind {
            ChangeKind::Upsert => ChangeView {
                id: c.job_id,
                change: ChangeCode::Upsert,
                cursor,
                changed_at: c.at,
                ad: Some(JobView::public(c.ad)),
                reason: None,
                removed: None,
            },
            ChangeKind::Removed => {
                let municipality_codes = c.ad.places().map(|m| m.code.into()).collect();
                let county_codes =
                    platsen_jobs::model::counties_of(c.ad.places()).iter().map(|c| c.code.into()).collect();
                ChangeView {
                    id: c.job_id,
                    change: ChangeCode::Removed,
                    cursor,
                    changed_at: c.at,
                    ad: None,
                    reason: c.reason.map(Into::into),
                    removed: Some(TombstoneView {
                        slug: c.ad.slug,
                        employer_id: c.ad.employer_id,
                        employer_slug: c.ad.employer_slug,
                        role: c.ad.role.code().into(),
                        municipality_code: c.ad.municipality.code.into(),
                        county_code: c.ad.municipality.county.code.into(),
                        municipality_codes,
                        county_codes,
                        version: c.ad.version,
                    }),
                }
            }
        }
    }
}

/// Changes since a cursor.
#[derive(Debug, Clone, Object)]
pub struct StreamView {
    /// Oldest first; apply them in this order.
    pub changes: Vec<ChangeView>,
    /// Send it back as `since`. When nothing changed it is the cursor sent.
    pub next_cursor: String,
    /// More changes are waiting: ask again at once instead of after your
    /// polling interval.
    pub has_more: bool,
}

/// Every open ad, and where the stream continues.
#[derive(Debug, Clone, Object)]
pub struct SnapshotView {
    pub ads: Vec<JobView>,
    pub total: i64,
    /// Poll `/api/v1/stream?since=` with this.
    pub cursor: String,
}

/// A cursor as sent: the digits of a log position.
fn parse_cursor(raw: Option<&str>) -> Result<i64, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(0) };
    if raw.len() <= 18 && raw.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(raw.parse().expect("at most 18 digits"));
    }
    Err(ApiError::bad_request(
        "since",
        "invalid_cursor",
        "Ange en markör som ett tidigare svar gav (next_cursor eller cursor).",
    ))
}

pub struct StreamApi {
    pub(crate) state: AppState,
}

#[OpenApi(prefix_path = "/v1", tag = "Tag::Stream")]
impl StreamApi {
    /// Changes since a cursor
    ///
    /// The ads that became visible, changed or went away since `since`
    /// (from the beginning without it), oldest first. Each removal comes as
    /// a tombstone with its reason. Changes are never skipped and never
    /// repeated, whatever order concurrent writes commit in. Poll with
    /// `next_cursor`; when `has_more` is set, ask again at once.
    #[oai(path = "/stream", method = "get", operation_id = "changeStream")]
    async fn stream(
        &self,
        /// The `next_cursor` of the previous answer, or the snapshot's `cursor`.
        #[oai(validator(pattern = r"^[0-9]{1,18}$"))]
        since: Query<Option<String>>,
        /// At most this many changes (default 500).
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))]
        limit: Query<Option<u32>>,
    ) -> Result<Json<StreamView>, ApiError> {
        let since = parse_cursor(since.0.as_deref())?;
        let page = self.state.app.store.changes_since(since, limit.0.unwrap_or(500)).await?;
        Ok(Json(StreamView {
            next_cursor: page.cursor.to_string(),
            has_more: page.more,
            changes: page.changes.into_iter().map(Into::into).collect(),
        }))
    }

    /// Every open ad
    ///
    /// The whole board as it stands, and the cursor from which the stream
    /// continues without a gap.
    #[oai(path = "/snapshot", method = "get", operation_id = "snapshot")]
    async fn snapshot(&self) -> Result<Json<SnapshotView>, ApiError> {
        let (ads, cursor) = self.state.app.store.changes_snapshot(self.state.app.clock.now()).await?;
        Ok(Json(SnapshotView {
            total: ads.len() as i64,
            ads: ads.into_iter().map(JobView::public).collect(),
            cursor: cursor.to_string(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors() {
        assert_eq!(parse_cursor(None).unwrap(), 0);
        assert_eq!(parse_cursor(Some("")).unwrap(), 0);
        assert_eq!(parse_cursor(Some("42")).unwrap(), 42);
        for bad in ["-1", "1e3", "abc", "4 2", "9999999999999999999", "' or 1=1"] {
            assert!(parse_cursor(Some(bad)).is_err(), "{bad}");
        }
    }
}
