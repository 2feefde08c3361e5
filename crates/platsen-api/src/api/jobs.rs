//! Job ads: the public list, search and reads, and employers managing their own.

use crate::api::codes::IdOrSlugParam;
use crate::api::fast_json::FastJson;
use platsen_jobs::model::JobStatus;
use platsen_jobs::search::{SearchQuery, SearchSort};
use platsen_jobs::{IdOrSlug, JobFilter, JobSort, Lifecycle};
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::Tag;
use super::codes::{self, Code, DayOrInstant};
use super::wire::*;
use crate::AppState;
use crate::http::auth::{Auth, Created, NoContent, Principal};
use crate::http::body::JsonBody;
use crate::http::problem::ApiError;
use platsen_app::saved::SavedAd;

/// An ad with its version as ETag, for `If-Match`.
#[derive(ApiResponse)]
pub enum Versioned {
    /// The ad.
    #[oai(status = 200)]
    Ok(Json<JobView>, #[oai(header = "ETag")] String),
}

fn versioned(ad: platsen_jobs::model::JobAd) -> Versioned {
    // The status is part of the tag: an ad can expire without a new version.
    let etag = format!("\"v{}-{}\"", ad.version, ad.status.code());
    Versioned::Ok(Json(JobView::owner(ad)), etag)
}

pub(super) fn page_args(page: Option<u32>, per_page: Option<u32>) -> (u32, u32) {
    (page.unwrap_or(1), per_page.unwrap_or(platsen_app::search::PER_PAGE))
}

/// The filters shared by the job list and search, checked.
pub(super) fn job_filter(
    role: Option<RoleCode>,
    municipality: Option<Code<codes::Municipality>>,
    county: Option<Code<codes::County>>,
    employment_type: Option<EmploymentTypeCode>,
    remote: Option<RemoteCode>,
    employer: Option<String>,
    sort: Option<JobSort>,
) -> Result<JobFilter, ApiError> {
    use platsen_app::search as rules;
    let municipality =
        municipality.as_ref().map(|m| rules::municipality(m.as_str())).transpose().map_err(ApiError::bad_field)?;
    let county = county.as_ref().map(|c| rules::county(c.as_str())).transpose().map_err(ApiError::bad_field)?;
    let employer = employer.as_deref().map(key);
    Ok(JobFilter {
        role: role.map(Into::into),
        municipality_code: municipality,
        county_code: county,
        employment_type: employment_type.map(Into::into),
        remote: remote.map(Into::into),
        employer,
        sort: sort.unwrap_or_default(),
    })
}

/// Search results, with the engine that answered.
#[derive(ApiResponse)]
pub enum SearchResponse {
    /// The hits, facets and total.
    #[oai(status = 200)]
    Ok(Json<SearchView>, #[oai(header = "X-Search-Engine")] String),
}

/// An id or slug as the spec's pattern (`^[a-z0-9-]{1,100}$`) lets it
/// through; one that names nothing finds nothing (404, or no ads).
pub(super) fn key(raw: &str) -> IdOrSlug {
    IdOrSlug::parse(raw).unwrap_or_else(|| IdOrSlug::Slug(raw.to_owned()))
}

pub struct JobsApi {
    pub(super) state: AppState,
}

#[OpenApi(prefix_path = "/v1", tag = "Tag::Jobs")]
impl JobsApi {
    /// List open job ads
    ///
    /// Published ads whose expiry has not passed, filtered and paged, with the total count.
    #[oai(path = "/jobs", method = "get", operation_id = "listJobs")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        role: Query<Option<RoleCode>>,
        municipality: Query<Option<Code<codes::Municipality>>>,
        county: Query<Option<Code<codes::County>>>,
        employment_type: Query<Option<EmploymentTypeCode>>,
        remote: Query<Option<RemoteCode>>,
        /// Employer id or slug.
        employer: Query<Option<IdOrSlugParam>>,
        sort: Query<Option<JobSortCode>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))] page: Query<Option<u32>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] per_page: Query<Option<u32>>,
    ) -> Result<FastJson<JobList>, ApiError> {
        let sort = match sort.0 {
            Some(JobSortCode::Deadline) => JobSort::Deadline,
            _ => JobSort::Newest,
        };
        let filter = job_filter(
            role.0,
            municipality.0,
            county.0,
            employment_type.0,
            remote.0,
            employer.0.map(|e| e.0),
            Some(sort),
        )?;
        let (page, per_page) = page_args(page.0, per_page.0);
        let result = self.state.app.public_jobs(&filter, page, per_page, self.state.app.clock.now()).await?;
        Ok(FastJson(JobList::from_page(result, JobView::public)))
    }

    /// Search open job ads
    ///
    /// Typo-tolerant full-text search with the job list's filters, facet
    /// counts for every filter dimension, highlighted titles and snippets.
    /// `X-Search-Engine` says which engine answered (`meilisearch` or
    /// `database`); both give the same shape.
    #[oai(path = "/jobs/search", method = "get", operation_id = "searchJobs")]
    #[allow(clippy::too_many_arguments)]
    async fn search(
        &self,
        /// Words to look for, e.g. `upphandlare stockholm`.
        #[oai(validator(max_length = 200))]
        q: Query<Option<String>>,
        role: Query<Option<RoleCode>>,
        municipality: Query<Option<Code<codes::Municipality>>>,
        county: Query<Option<Code<codes::County>>>,
        employment_type: Query<Option<EmploymentTypeCode>>,
        remote: Query<Option<RemoteCode>>,
        /// Employer id or slug.
        employer: Query<Option<IdOrSlugParam>>,
        /// Monthly salary (SEK) the ad must reach.
        #[oai(validator(minimum(value = "0"), maximum(value = "1000000")))]
        salary_min: Query<Option<i64>>,
        /// Published on or after this date (`YYYY-MM-DD`) or instant (RFC 3339).
        published_after: Query<Option<DayOrInstant>>,
        sort: Query<Option<SearchSortCode>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))] page: Query<Option<u32>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] per_page: Query<Option<u32>>,
    ) -> Result<SearchResponse, ApiError> {
        let filter =
            job_filter(role.0, municipality.0, county.0, employment_type.0, remote.0, employer.0.map(|e| e.0), None)?;
        let published_after = published_after.0.map(|p| p.0);
        let (page, per_page) = page_args(page.0, per_page.0);
        let query = SearchQuery {
            q: q.0,
            filter,
            salary_min: salary_min.0,
            published_after,
            sort: match sort.0 {
                Some(SearchSortCode::Newest) => SearchSort::Newest,
                Some(SearchSortCode::Deadline) => SearchSort::Deadline,
                _ => SearchSort::Relevance,
            },
            page,
            per_page,
        };
        let now = self.state.app.clock.now();
        let results = self.state.app.search(&query, now).await?;
        self.state.app.count_search(results.hits.iter().map(|h| h.id));
        let today = platsen_jobs::validate::today_in_sweden(now);
        let per = i64::from(per_page);
        let engine = results.engine.to_owned();
        Ok(SearchResponse::Ok(
            Json(SearchView {
                hits: results.hits.into_iter().map(|h| HitView::from_hit(h, today)).collect(),
                total: results.total,
                page,
                per_page,
                total_pages: (results.total + per - 1) / per,
                facets: results.facets.into(),
                processing_time_ms: results.processing_ms,
                engine: engine.clone(),
            }),
            engine,
        ))
    }

    /// Typeahead suggestions
    ///
    /// Titles, roles, employers and places that start with what was typed.
    #[oai(path = "/jobs/suggest", method = "get", operation_id = "suggestJobs")]
    async fn suggest(
        &self,
        /// What has been typed so far.
        #[oai(validator(max_length = 100))]
        q: Query<String>,
    ) -> Result<Json<Vec<SuggestionView>>, ApiError> {
        let suggestions = self.state.app.suggest(&q.0, self.state.app.clock.now()).await?;
        Ok(Json(
            suggestions
                .into_iter()
                .map(|s| SuggestionView { kind: s.kind.into(), text: s.text, value: s.value })
                .collect(),
        ))
    }

    /// Get an open job ad
    ///
    /// By id or slug. Ads that are not published, or have expired, are not found.
    #[oai(path = "/jobs/:id", method = "get", operation_id = "getJob")]
    async fn get(
        &self,
        /// The id, or the slug.
        id: Path<IdOrSlugParam>,
    ) -> Result<FastJson<JobView>, ApiError> {
        let key = key(&id.0);
        let ad = self.state.app.store.public_job(&key, self.state.app.clock.now()).await?;
        let (role, sector, county) = (ad.role, ad.employer_sector, ad.municipality.county.code);
        // Only a monthly range compares with monthly survey salaries.
        let offered =
            ad.salary.filter(|s| s.period == platsen_jobs::model::SalaryPeriod::Month).map(|s| (s.min, s.max));
        let mut view = JobView::public(ad);
        view.market_salary = self.state.app.market_band(role, sector, county, offered).await.map(Into::into);
        Ok(FastJson(view))
    }

    /// Similar open job ads
    ///
    /// Up to `limit` (default 5) open ads like this one: the same role in
    /// the same county, then in neighbouring counties, then anywhere, then
    /// the same employer's. Also for an ad that is no longer open (closed or
    /// expired), found by its slug, so that its readers have somewhere to go.
    #[oai(path = "/jobs/:id/similar", method = "get", operation_id = "similarJobs")]
    async fn similar(
        &self,
        /// The id, or the slug.
        id: Path<IdOrSlugParam>,
        #[oai(validator(minimum(value = "1"), maximum(value = "20")))] limit: Query<Option<u32>>,
    ) -> Result<FastJson<JobItems>, ApiError> {
        let now = self.state.app.clock.now();
        let key = key(&id.0);
        let ad = match &key {
            IdOrSlug::Id(_) => self.state.app.store.public_job(&key, now).await?,
            IdOrSlug::Slug(slug) => match self.state.app.open_or_gone(slug, now).await? {
                Some(SavedAd::Open(ad) | SavedAd::Gone(ad)) => ad,
                None => return Err(platsen_jobs::Error::NotFound.into()),
            },
        };
        let n = limit.0.unwrap_or(5) as usize;
        let items = self.state.app.similar_jobs(&ad, n, now).await?;
        Ok(FastJson(JobItems { items: items.into_iter().map(JobView::public).collect() }))
    }

    /// Create a job ad
    ///
    /// Created as a draft. An employer key posts for its own employer; the
    /// admin token must name `employer_id`.
    #[oai(path = "/jobs", method = "post", operation_id = "createJob")]
    async fn create(&self, auth: Auth, body: JsonBody<CreateJob>) -> Result<Created<JobView>, ApiError> {
        let employer_id = match (auth.0, body.0.employer_id) {
            (Principal::Employer { employer_id, .. }, None) => employer_id,
            (Principal::Employer { employer_id, .. }, Some(id)) if id == employer_id => employer_id,
            (Principal::Employer { .. }, Some(_)) => {
                return Err(ApiError::forbidden(
                    "En arbetsgivarnyckel kan bara skapa annonser för den egna arbetsgivaren.",
                ));
            }
            (Principal::Admin, Some(id)) => id,
            (Principal::Admin, None) => {
                return Err(platsen_jobs::Error::invalid(
                    "employer_id",
                    "required",
                    "Ange vilken arbetsgivare annonsen gäller.",
                )
                .into());
            }
        };
        let ad = self
            .state
            .app
            .store
            .create_job(auth.0.actor(), employer_id, body.0.into(), self.state.app.clock.now())
            .await?;
        let location = format!("/api/v1/account/jobs/{}", ad.id);
        Ok(Created::Created(Json(JobView::owner(ad)), location))
    }

    /// Update a job ad
    ///
    /// A partial update (JSON Merge Patch). Send `If-Match: "v<version>"` to
    /// refuse the change if someone else changed the ad since you read it.
    #[oai(path = "/jobs/:id", method = "patch", operation_id = "updateJob")]
    async fn update(
        &self,
        auth: Auth,
        id: Path<i64>,
        /// The `ETag` of the version you read, e.g. `"v3-published"`.
        #[oai(name = "If-Match", validator(pattern = r#"^((W/)?"v[0-9]{1,18}(-[a-z_]+)?")?$"#))]
        if_match: Header<Option<String>>,
        body: JsonBody<PatchJob>,
    ) -> Result<Versioned, ApiError> {
        let expected = match if_match.0.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(
                raw.trim()
                    .trim_start_matches("W/")
                    .trim_matches('"')
                    .strip_prefix('v')
                    .map(|v| v.split('-').next().unwrap_or_default())
                    .and_then(|v| v.parse::<i64>().ok())
                    .ok_or_else(|| {
                        ApiError::bad_request("If-Match", "invalid_etag", "Ange versionen som \"v<nummer>\".")
                    })?,
            ),
        };
        let ad = self
            .state
            .app
            .store
            .update_job(auth.0.actor(), id.0, body.0.into(), expected, self.state.app.clock.now())
            .await?;
        Ok(versioned(ad))
    }

    /// Delete a draft
    ///
    /// Only drafts can be deleted; close or archive a published ad instead.
    #[oai(path = "/jobs/:id", method = "delete", operation_id = "deleteJob")]
    async fn delete(&self, auth: Auth, id: Path<i64>) -> Result<NoContent, ApiError> {
        self.state.app.store.delete_draft(auth.0.actor(), id.0, self.state.app.clock.now()).await?;
        Ok(NoContent::NoContent)
    }

    /// Publish a draft
    ///
    /// Goes live at once, or to `pending_review` if the employer's ads are reviewed.
    #[oai(path = "/jobs/:id/publish", method = "post", operation_id = "publishJob")]
    async fn publish(&self, auth: Auth, id: Path<i64>) -> Result<Versioned, ApiError> {
        self.step(auth, id.0, Lifecycle::Publish).await
    }

    /// Schedule a draft
    ///
    /// The draft goes live by itself at `publish_at` (within a minute), as
    /// if its employer published it then: to `pending_review` if the
    /// employer's ads are reviewed, paid for as any publication. If it
    /// cannot be published then (no credits left, say), the schedule is
    /// dropped and the ad's events say why. It leaves by itself at expiry.
    /// Null cancels the schedule; publishing by hand clears it.
    #[oai(path = "/jobs/:id/schedule", method = "post", operation_id = "scheduleJob")]
    async fn schedule(&self, auth: Auth, id: Path<i64>, body: JsonBody<ScheduleJob>) -> Result<Versioned, ApiError> {
        let now = self.state.app.clock.now();
        let ad = self.state.app.store.schedule_job(auth.0.actor(), id.0, body.0.publish_at, now).await?;
        Ok(versioned(ad))
    }

    /// Copy an ad into a new draft
    ///
    /// Everything the ad says, in a new draft with an address of its own
    /// (not featured, not scheduled): to post a closed or expired ad again,
    /// or to start from a similar one. A last application day that has
    /// passed becomes 30 days from today.
    #[oai(path = "/jobs/:id/copy", method = "post", operation_id = "copyJob")]
    async fn copy(&self, auth: Auth, id: Path<i64>) -> Result<Created<JobView>, ApiError> {
        let ad = self.state.app.store.copy_job(auth.0.actor(), id.0, self.state.app.clock.now()).await?;
        let location = format!("/api/v1/account/jobs/{}", ad.id);
        Ok(Created::Created(Json(JobView::owner(ad)), location))
    }

    /// Close an ad (filled or withdrawn)
    #[oai(path = "/jobs/:id/close", method = "post", operation_id = "closeJob")]
    async fn close(&self, auth: Auth, id: Path<i64>) -> Result<Versioned, ApiError> {
        self.step(auth, id.0, Lifecycle::Close).await
    }

    /// Archive an ad
    ///
    /// Hides it for good; an archived ad cannot be changed or reopened.
    #[oai(path = "/jobs/:id/archive", method = "post", operation_id = "archiveJob")]
    async fn archive(&self, auth: Auth, id: Path<i64>) -> Result<Versioned, ApiError> {
        self.step(auth, id.0, Lifecycle::Archive).await
    }

    /// Reopen a closed or expired ad
    ///
    /// Its deadline must not have passed; move it first with PATCH.
    #[oai(path = "/jobs/:id/reopen", method = "post", operation_id = "reopenJob")]
    async fn reopen(&self, auth: Auth, id: Path<i64>) -> Result<Versioned, ApiError> {
        self.step(auth, id.0, Lifecycle::Reopen).await
    }

    /// Approve an ad waiting for review (admin)
    #[oai(path = "/jobs/:id/approve", method = "post", operation_id = "approveJob", tag = "Tag::Admin")]
    async fn approve(&self, auth: Auth, id: Path<i64>) -> Result<Versioned, ApiError> {
        auth.0.require_admin()?;
        self.step(auth, id.0, Lifecycle::Approve).await
    }

    /// Reject an ad waiting for review, with a reason (admin)
    ///
    /// The ad goes back to draft and its employer sees the reason.
    #[oai(path = "/jobs/:id/reject", method = "post", operation_id = "rejectJob", tag = "Tag::Admin")]
    async fn reject(&self, auth: Auth, id: Path<i64>, body: JsonBody<RejectJob>) -> Result<Versioned, ApiError> {
        auth.0.require_admin()?;
        self.step(auth, id.0, Lifecycle::Reject { reason: body.0.reason }).await
    }

    /// Take down a published ad, with a reason (admin)
    ///
    /// The ad closes at once and its employer sees the reason (and is
    /// mailed it); only an administrator can reopen it.
    #[oai(path = "/jobs/:id/take-down", method = "post", operation_id = "takeDownJob", tag = "Tag::Admin")]
    async fn take_down(&self, auth: Auth, id: Path<i64>, body: JsonBody<RejectJob>) -> Result<Versioned, ApiError> {
        auth.0.require_admin()?;
        self.step(auth, id.0, Lifecycle::TakeDown { reason: body.0.reason }).await
    }

    /// The audit trail of an ad
    ///
    /// Who changed what, and when. The employer sees its own ads' trails, the admin every one.
    #[oai(path = "/jobs/:id/events", method = "get", operation_id = "jobEvents")]
    async fn events(&self, auth: Auth, id: Path<i64>) -> Result<Json<Vec<EventView>>, ApiError> {
        let events = self.state.app.store.job_events(auth.0.actor(), id.0, self.state.app.clock.now()).await?;
        Ok(Json(events.into_iter().map(Into::into).collect()))
    }

    /// Your own ads, in every status
    #[oai(path = "/account/jobs", method = "get", operation_id = "accountJobs")]
    async fn account_jobs(
        &self,
        auth: Auth,
        status: Query<Option<JobStatusCode>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))] page: Query<Option<u32>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] per_page: Query<Option<u32>>,
    ) -> Result<Json<JobList>, ApiError> {
        let Principal::Employer { employer_id, .. } = auth.0 else {
            return Err(ApiError::forbidden(
                "Kontot gäller arbetsgivarnycklar; administratören ser annonser via arbetsgivaren.",
            ));
        };
        let (page, per_page) = page_args(page.0, per_page.0);
        let status: Option<JobStatus> = status.0.map(Into::into);
        let result =
            self.state.app.store.employer_jobs(employer_id, status, page, per_page, self.state.app.clock.now()).await?;
        Ok(Json(JobList::from_page(result, JobView::owner)))
    }

    /// One of your own ads, in any status
    ///
    /// Another employer's draft is not found (404); its published ad is forbidden here (403).
    #[oai(path = "/account/jobs/:id", method = "get", operation_id = "accountJob")]
    async fn account_job(&self, auth: Auth, id: Path<i64>) -> Result<Versioned, ApiError> {
        let ad = self.state.app.store.job_for(auth.0.actor(), id.0, self.state.app.clock.now()).await?;
        Ok(versioned(ad))
    }

    /// An ad's statistics per day
    ///
    /// Views of the ad's page, clicks on its apply link and appearances in
    /// search results (the search page and `searchJobs`), per day of the
    /// Swedish calendar, every day of the range present. The 30 days up to
    /// today unless `from` and `to` are given; at most 366 days. The
    /// employer reads its own ads', the admin every ad's.
    #[oai(path = "/account/jobs/:id/stats", method = "get", operation_id = "accountJobStats")]
    async fn account_job_stats(
        &self,
        auth: Auth,
        id: Path<i64>,
        /// The first day (default: 29 days before `to`).
        from: Query<Option<chrono::NaiveDate>>,
        /// The last day (default: today in Sweden).
        to: Query<Option<chrono::NaiveDate>>,
    ) -> Result<Json<AdStatsView>, ApiError> {
        let today = platsen_jobs::validate::today_in_sweden(self.state.app.clock.now());
        let range = platsen_app::counters::stats_range(from.0, to.0, today)
            .map_err(|e| ApiError::from(platsen_jobs::Error::Invalid(vec![e])))?;
        let days = self.state.app.ad_daily_counts(auth.0.actor(), id.0, range).await?;
        Ok(Json(AdStatsView::new(id.0, range, days)))
    }
}

impl JobsApi {
    async fn step(&self, auth: Auth, id: i64, step: Lifecycle) -> Result<Versioned, ApiError> {
        let ad = self.state.app.store.transition(auth.0.actor(), id, step.clone(), self.state.app.clock.now()).await?;
        self.state.app.after_step(&step, &ad);
        Ok(versioned(ad))
    }
}
