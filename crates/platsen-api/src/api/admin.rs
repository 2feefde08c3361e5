//! Operator tasks: review, the search sync, users and keys.

use crate::api::codes::IdOrSlugParam;
use platsen_jobs::model::JobStatus;
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;

use super::Tag;
use super::jobs::{key, page_args};
use super::wire::*;
use crate::AppState;
use crate::http::auth::{Auth, NoContent};
use crate::http::problem::ApiError;

pub struct AdminApi {
    pub(super) state: AppState,
}

#[OpenApi(prefix_path = "/v1", tag = "Tag::Admin")]
impl AdminApi {
    /// Find API keys by prefix (admin)
    #[oai(path = "/keys", method = "get", operation_id = "findKeys")]
    async fn find_keys(
        &self,
        auth: Auth,
        /// The start of a key's prefix, e.g. `plk_3f9a`.
        #[oai(validator(pattern = r"^[A-Za-z0-9_]{1,64}$"))]
        prefix: Query<Option<String>>,
    ) -> Result<Json<Vec<KeyView>>, ApiError> {
        auth.0.require_admin()?;
        let prefix = prefix.0.map(|p| p.to_ascii_lowercase());
        if let Some(p) = &prefix
            && !p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(ApiError::bad_request(
                "prefix",
                "invalid_prefix",
                "Ett nyckelprefix består av a–z, 0–9 och _.",
            ));
        }
        let keys = self.state.app.store.keys(None, prefix.as_deref()).await?;
        Ok(Json(keys.into_iter().map(Into::into).collect()))
    }

    /// Revoke an API key (admin)
    #[oai(path = "/keys/:id", method = "delete", operation_id = "revokeKey")]
    async fn revoke_key(&self, auth: Auth, id: Path<i64>) -> Result<NoContent, ApiError> {
        auth.0.require_admin()?;
        self.state.app.store.revoke_key(id.0, self.state.app.clock.now()).await?;
        Ok(NoContent::NoContent)
    }

    /// Search sync status (admin)
    ///
    /// Which engine answers, how many changes wait for the index (and how
    /// long the oldest has waited), dead letters, and the last successful sync.
    #[oai(path = "/admin/search", method = "get", operation_id = "searchStatus")]
    async fn search_status(&self, auth: Auth) -> Result<Json<SearchStatusView>, ApiError> {
        auth.0.require_admin()?;
        Ok(Json(self.state.app.search_status().await?.into()))
    }

    /// Retry dead letters of the search sync (admin)
    #[oai(path = "/admin/search/retry", method = "post", operation_id = "retrySearchDeadLetters")]
    async fn retry_dead(&self, auth: Auth) -> Result<Json<RetriedView>, ApiError> {
        auth.0.require_admin()?;
        let retried = self.state.app.store.revive_search_changes(self.state.app.clock.now()).await?;
        Ok(Json(RetriedView { retried: retried as i64 }))
    }

    /// Every ad, in any status (admin)
    ///
    /// Filtered by status, employer (id or slug) and words of the title
    /// (or an ad's id in `q`); the most recently changed first.
    #[oai(path = "/admin/jobs", method = "get", operation_id = "allJobs")]
    async fn all_jobs(
        &self,
        auth: Auth,
        status: Query<Option<JobStatusCode>>,
        /// Employer id or slug.
        employer: Query<Option<IdOrSlugParam>>,
        /// Words of the title, or an ad's id.
        #[oai(validator(max_length = 200))]
        q: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))] page: Query<Option<u32>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] per_page: Query<Option<u32>>,
    ) -> Result<Json<JobList>, ApiError> {
        auth.0.require_admin()?;
        let now = self.state.app.clock.now();
        let employer_id = match employer.0.as_deref() {
            Some(raw) => Some(self.state.app.store.employer(&key(raw), now).await?.id),
            None => None,
        };
        let (page, per_page) = page_args(page.0, per_page.0);
        let status: Option<JobStatus> = status.0.map(Into::into);
        let result = self.state.app.store.all_jobs(status, employer_id, q.0.as_deref(), page, per_page, now).await?;
        Ok(Json(JobList::from_page(result, JobView::owner)))
    }

    /// Ads waiting for review, oldest first (admin)
    #[oai(path = "/admin/review", method = "get", operation_id = "reviewQueue")]
    async fn review_queue(&self, auth: Auth) -> Result<Json<Vec<JobView>>, ApiError> {
        auth.0.require_admin()?;
        let ads = self.state.app.store.pending_review(self.state.app.clock.now()).await?;
        Ok(Json(ads.into_iter().map(JobView::owner).collect()))
    }
}
