//! The operations, one `#[OpenApi]` impl per resource.

use platsen_jobs::model::{Actor, JobStatus};
use platsen_jobs::search::{SearchQuery, SearchSort};
use platsen_jobs::{IdOrSlug, JobFilter, JobSort, Lifecycle, keys};
use poem::Request;
use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::auth::Bearer;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::ToJSON;
use poem_openapi::{ApiResponse, OpenApi, SecurityScheme, Tags};

use crate::AppState;
use crate::body::JsonBody;
use crate::problem::{ApiError, Problem};
use crate::wire::*;

#[derive(Tags)]
pub(crate) enum Tag {
    /// Job ads: public reads, and employers managing their own.
    Jobs,
    /// Employers and their public pages.
    Employers,
    /// Operator tasks: employers, keys and review.
    Admin,
    /// Lönestatistik: salary statistics, charts and the salary calculator.
    Salaries,
}

/// Who is calling, from the bearer token.
#[derive(Debug, Clone, Copy)]
pub enum Principal {
    Admin,
    Employer { employer_id: i64, key_id: i64 },
}

impl Principal {
    fn actor(self) -> Actor {
        match self {
            Principal::Admin => Actor::Admin,
            Principal::Employer { employer_id, key_id } => Actor::Employer { employer_id, key_id },
        }
    }

    pub(crate) fn require_admin(self) -> Result<(), ApiError> {
        match self {
            Principal::Admin => Ok(()),
            Principal::Employer { .. } => Err(ApiError::forbidden("Det här kräver administratörsbehörighet.")),
        }
    }
}

/// An employer API key (`plk_…`) or the operator's admin token.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "check_bearer")]
pub struct Auth(pub(crate) Principal);

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let state = req.data::<AppState>().expect("AppState is attached to every request");
    let token = bearer.token.trim();
    if let Some(admin) = &state.admin_token
        && keys::secrets_equal(token, admin)
    {
        return Ok(Principal::Admin);
    }
    match state.store.authenticate(token, state.clock.now()).await {
        Ok(Some((employer_id, key_id))) => Ok(Principal::Employer { employer_id, key_id }),
        Ok(None) => Err(poem_openapi::error::AuthorizationError.into()),
        Err(e) => Err(poem::Error::from_response(poem::IntoResponse::into_response(ApiError::from(e)))),
    }
}

/// A created resource and where it lives.
#[derive(ApiResponse)]
pub enum Created<T: ToJSON> {
    /// Created.
    #[oai(status = 201)]
    Created(Json<T>, #[oai(header = "Location")] String),
}

/// Done; nothing to return.
#[derive(ApiResponse)]
pub enum NoContent {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}

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

fn page_args(page: Option<u32>, per_page: Option<u32>) -> (u32, u32) {
    (page.unwrap_or(1), per_page.unwrap_or(20))
}

/// The filters shared by the job list and search, checked.
fn job_filter(
    role: Option<RoleCode>,
    municipality: Option<String>,
    county: Option<String>,
    employment_type: Option<EmploymentTypeCode>,
    remote: Option<RemoteCode>,
    employer: Option<String>,
    sort: Option<JobSort>,
) -> Result<JobFilter, ApiError> {
    if let Some(m) = municipality.as_deref()
        && platsen_taxonomy::municipality(m).is_none()
    {
        return Err(ApiError::bad_request(
            "municipality",
            "unknown_municipality",
            "Okänd kommunkod (fyra siffror enligt SCB).",
        ));
    }
    if let Some(c) = county.as_deref()
        && platsen_taxonomy::county(c).is_none()
    {
        return Err(ApiError::bad_request("county", "unknown_county", "Okänd länskod (två siffror enligt SCB)."));
    }
    let employer = employer.as_deref().map(|e| parse_key("employer", e)).transpose()?;
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

/// A date (start of that day in Sweden) or an RFC 3339 instant.
fn parse_instant(raw: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    let date = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?;
    let day_before = date.pred_opt()?;
    Some(platsen_jobs::validate::end_of_swedish_day(day_before) + chrono::Duration::seconds(1))
}

/// Search results, with the engine that answered.
#[derive(ApiResponse)]
pub enum SearchResponse {
    /// The hits, facets and total.
    #[oai(status = 200)]
    Ok(Json<SearchView>, #[oai(header = "X-Search-Engine")] String),
}

fn parse_key(field: &str, raw: &str) -> Result<IdOrSlug, ApiError> {
    IdOrSlug::parse(raw).ok_or_else(|| {
        ApiError::bad_request(field, "invalid_identifier", "Ange ett id (siffror) eller ett adressnamn (a–z, 0–9, -).")
    })
}

/// A search, by Meilisearch when it is connected and answers, else by the
/// database (the API and the web pages share this).
pub(crate) async fn run_search(
    state: &AppState,
    query: &SearchQuery,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<platsen_jobs::search::SearchResults, ApiError> {
    Ok(match state.search.get() {
        Some(search) => match search.engine.search(query, now).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "meilisearch failed; answering from the database");
                state.store.search_database(query, now).await?
            }
        },
        None => state.store.search_database(query, now).await?,
    })
}

pub struct JobsApi {
    state: AppState,
    /// The public base URL, for the links in review mails.
    public_url: String,
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
        /// Municipality SCB code (four digits).
        municipality: Query<Option<String>>,
        /// County SCB code (two digits).
        county: Query<Option<String>>,
        employment_type: Query<Option<EmploymentTypeCode>>,
        remote: Query<Option<RemoteCode>>,
        /// Employer id or slug.
        employer: Query<Option<String>>,
        sort: Query<Option<JobSortCode>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))] page: Query<Option<u32>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] per_page: Query<Option<u32>>,
    ) -> Result<Json<JobList>, ApiError> {
        let sort = match sort.0 {
            Some(JobSortCode::Deadline) => JobSort::Deadline,
            _ => JobSort::Newest,
        };
        let filter = job_filter(role.0, municipality.0, county.0, employment_type.0, remote.0, employer.0, Some(sort))?;
        let (page, per_page) = page_args(page.0, per_page.0);
        let result = self.state.store.public_jobs(&filter, page, per_page, self.state.clock.now()).await?;
        Ok(Json(JobList::from_page(result, JobView::public)))
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
        /// Municipality SCB code (four digits).
        municipality: Query<Option<String>>,
        /// County SCB code (two digits).
        county: Query<Option<String>>,
        employment_type: Query<Option<EmploymentTypeCode>>,
        remote: Query<Option<RemoteCode>>,
        /// Employer id or slug.
        employer: Query<Option<String>>,
        /// Monthly salary (SEK) the ad must reach.
        #[oai(validator(minimum(value = "0"), maximum(value = "1000000")))]
        salary_min: Query<Option<i64>>,
        /// Published on or after this date (`YYYY-MM-DD`) or instant (RFC 3339).
        published_after: Query<Option<String>>,
        sort: Query<Option<SearchSortCode>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))] page: Query<Option<u32>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] per_page: Query<Option<u32>>,
    ) -> Result<SearchResponse, ApiError> {
        let filter = job_filter(role.0, municipality.0, county.0, employment_type.0, remote.0, employer.0, None)?;
        let published_after = match published_after.0.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(parse_instant(raw).ok_or_else(|| {
                ApiError::bad_request(
                    "published_after",
                    "invalid_date",
                    "Ange ett datum (ÅÅÅÅ-MM-DD) eller en tidpunkt (RFC 3339).",
                )
            })?),
        };
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
        let now = self.state.clock.now();
        let results = run_search(&self.state, &query, now).await?;
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
        let suggestions = self.state.store.suggest_database(&q.0, self.state.clock.now()).await?;
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
    #[oai(path = "/jobs/:id_or_slug", method = "get", operation_id = "getJob")]
    async fn get(&self, id_or_slug: Path<String>) -> Result<Json<JobView>, ApiError> {
        let key = parse_key("id_or_slug", &id_or_slug.0)?;
        let ad = self.state.store.public_job(&key, self.state.clock.now()).await?;
        let (role, sector, county) = (ad.role, ad.employer_sector, ad.municipality.county.code);
        // Only a monthly range compares with monthly survey salaries.
        let offered =
            ad.salary.filter(|s| s.period == platsen_jobs::model::SalaryPeriod::Month).map(|s| (s.min, s.max));
        let mut view = JobView::public(ad);
        view.market_salary = crate::salary::market_salary(&self.state, role, sector, county, offered).await;
        Ok(Json(view))
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
        let ad =
            self.state.store.create_job(auth.0.actor(), employer_id, body.0.into(), self.state.clock.now()).await?;
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
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
        body: JsonBody<PatchJob>,
    ) -> Result<Versioned, ApiError> {
        let expected = match if_match.0.as_deref() {
            None => None,
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
        let ad =
            self.state.store.update_job(auth.0.actor(), id.0, body.0.into(), expected, self.state.clock.now()).await?;
        Ok(versioned(ad))
    }

    /// Delete a draft
    ///
    /// Only drafts can be deleted; close or archive a published ad instead.
    #[oai(path = "/jobs/:id", method = "delete", operation_id = "deleteJob")]
    async fn delete(&self, auth: Auth, id: Path<i64>) -> Result<NoContent, ApiError> {
        self.state.store.delete_draft(auth.0.actor(), id.0, self.state.clock.now()).await?;
        Ok(NoContent::NoContent)
    }

    /// Publish a draft
    ///
    /// Goes live at once, or to `pending_review` if the employer's ads are reviewed.
    #[oai(path = "/jobs/:id/publish", method = "post", operation_id = "publishJob")]
    async fn publish(&self, auth: Auth, id: Path<i64>) -> Result<Versioned, ApiError> {
        self.step(auth, id.0, Lifecycle::Publish).await
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
        let events = self.state.store.job_events(auth.0.actor(), id.0, self.state.clock.now()).await?;
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
            self.state.store.employer_jobs(employer_id, status, page, per_page, self.state.clock.now()).await?;
        Ok(Json(JobList::from_page(result, JobView::owner)))
    }

    /// One of your own ads, in any status
    ///
    /// Another employer's draft is not found (404); its published ad is forbidden here (403).
    #[oai(path = "/account/jobs/:id", method = "get", operation_id = "accountJob")]
    async fn account_job(&self, auth: Auth, id: Path<i64>) -> Result<Versioned, ApiError> {
        let ad = self.state.store.job_for(auth.0.actor(), id.0, self.state.clock.now()).await?;
        Ok(versioned(ad))
    }
}

impl JobsApi {
    async fn step(&self, auth: Auth, id: i64, step: Lifecycle) -> Result<Versioned, ApiError> {
        let ad = self.state.store.transition(auth.0.actor(), id, step.clone(), self.state.clock.now()).await?;
        crate::notify::after_step(&self.state, &self.public_url, &step, &ad);
        Ok(versioned(ad))
    }
}

pub struct EmployersApi {
    state: AppState,
}

#[OpenApi(prefix_path = "/v1", tag = "Tag::Employers")]
impl EmployersApi {
    /// List employers
    #[oai(path = "/employers", method = "get", operation_id = "listEmployers")]
    async fn list(
        &self,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))] page: Query<Option<u32>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] per_page: Query<Option<u32>>,
    ) -> Result<Json<EmployerList>, ApiError> {
        let (page, per_page) = page_args(page.0, per_page.0);
        let p = self.state.store.employers(page, per_page, self.state.clock.now()).await?;
        Ok(Json(EmployerList { items: p.items.into_iter().map(Into::into).collect(), total: p.total, page, per_page }))
    }

    /// Get an employer with its open ads
    #[oai(path = "/employers/:id_or_slug", method = "get", operation_id = "getEmployer")]
    async fn get(&self, id_or_slug: Path<String>) -> Result<Json<EmployerDetail>, ApiError> {
        let key = parse_key("id_or_slug", &id_or_slug.0)?;
        let now = self.state.clock.now();
        let employer = self.state.store.employer(&key, now).await?;
        let filter = JobFilter { employer: Some(IdOrSlug::Id(employer.id)), ..Default::default() };
        let jobs = self.state.store.public_jobs(&filter, 1, 100, now).await?;
        Ok(Json(EmployerDetail {
            employer: employer.into(),
            jobs: jobs.items.into_iter().map(JobView::public).collect(),
        }))
    }

    /// Create an employer (admin)
    #[oai(path = "/employers", method = "post", operation_id = "createEmployer", tag = "Tag::Admin")]
    async fn create(&self, auth: Auth, body: JsonBody<CreateEmployer>) -> Result<Created<EmployerView>, ApiError> {
        auth.0.require_admin()?;
        let e = self.state.store.create_employer(body.0.into(), false, self.state.clock.now()).await?;
        let location = format!("/api/v1/employers/{}", e.slug);
        Ok(Created::Created(Json(e.into()), location))
    }

    /// Change an employer (admin)
    ///
    /// A new name shows on its ads, in search too. The organisation number and slug stay.
    #[oai(path = "/employers/:id", method = "patch", operation_id = "updateEmployer", tag = "Tag::Admin")]
    async fn update(
        &self,
        auth: Auth,
        id: Path<i64>,
        body: JsonBody<PatchEmployer>,
    ) -> Result<Json<EmployerView>, ApiError> {
        auth.0.require_admin()?;
        let e = self.state.store.update_employer(id.0, body.0.into(), self.state.clock.now()).await?;
        Ok(Json(e.into()))
    }

    /// Issue an API key for an employer (admin)
    ///
    /// The key is in this response and nowhere else; only its hash is stored.
    #[oai(path = "/employers/:id/keys", method = "post", operation_id = "createKey", tag = "Tag::Admin")]
    async fn create_key(
        &self,
        auth: Auth,
        id: Path<i64>,
        body: JsonBody<CreateKey>,
    ) -> Result<Created<NewKeyView>, ApiError> {
        auth.0.require_admin()?;
        let k = self.state.store.create_key(id.0, body.0.label.as_deref(), self.state.clock.now()).await?;
        let location = format!("/api/v1/keys/{}", k.key.id);
        Ok(Created::Created(Json(NewKeyView { info: k.key.into(), key: k.secret }), location))
    }

    /// An employer's API keys (admin)
    #[oai(path = "/employers/:id/keys", method = "get", operation_id = "employerKeys", tag = "Tag::Admin")]
    async fn keys(&self, auth: Auth, id: Path<i64>) -> Result<Json<Vec<KeyView>>, ApiError> {
        auth.0.require_admin()?;
        self.state.store.employer(&IdOrSlug::Id(id.0), self.state.clock.now()).await?;
        let keys = self.state.store.keys(Some(id.0), None).await?;
        Ok(Json(keys.into_iter().map(Into::into).collect()))
    }

    /// Create a web account for an employer's user (admin)
    ///
    /// The user signs in at `/konto` with this address and password and
    /// manages the employer's ads there. Without `password`, the address is
    /// sent an invitation to choose one (`invitation_sent` says whether the
    /// mail went out; the account exists either way).
    #[oai(path = "/employers/:id/users", method = "post", operation_id = "createUser", tag = "Tag::Admin")]
    async fn create_user(
        &self,
        auth: Auth,
        base: Data<&crate::web::PublicUrl>,
        id: Path<i64>,
        body: JsonBody<CreateUser>,
    ) -> Result<Created<CreatedUserView>, ApiError> {
        auth.0.require_admin()?;
        let now = self.state.clock.now();
        let (user, invitation_sent) = match &body.0.password {
            Some(password) => {
                (self.state.store.create_user(Some(id.0), &body.0.email, password, false, now).await?, None)
            }
            None => {
                let (user, sent) = crate::web::invite(&self.state, &base.0.0, id.0, &body.0.email).await?;
                (user, Some(sent))
            }
        };
        let location = format!("/api/v1/employers/{}/users", id.0);
        Ok(Created::Created(Json(CreatedUserView { user: user.into(), invitation_sent }), location))
    }

    /// An employer's web accounts (admin)
    #[oai(path = "/employers/:id/users", method = "get", operation_id = "employerUsers", tag = "Tag::Admin")]
    async fn users(&self, auth: Auth, id: Path<i64>) -> Result<Json<Vec<UserView>>, ApiError> {
        auth.0.require_admin()?;
        self.state.store.employer(&IdOrSlug::Id(id.0), self.state.clock.now()).await?;
        let users = self.state.store.users(Some(id.0)).await?;
        Ok(Json(users.into_iter().map(Into::into).collect()))
    }

    /// Your own employer (employer key)
    #[oai(path = "/account", method = "get", operation_id = "account")]
    async fn account(&self, auth: Auth) -> Result<Json<EmployerView>, ApiError> {
        let Principal::Employer { employer_id, .. } = auth.0 else {
            return Err(ApiError::forbidden("Kontot gäller arbetsgivarnycklar."));
        };
        let e = self.state.store.employer(&IdOrSlug::Id(employer_id), self.state.clock.now()).await?;
        Ok(Json(e.into()))
    }
}

pub struct AdminApi {
    state: AppState,
}

#[OpenApi(prefix_path = "/v1", tag = "Tag::Admin")]
impl AdminApi {
    /// Find API keys by prefix (admin)
    #[oai(path = "/keys", method = "get", operation_id = "findKeys")]
    async fn find_keys(
        &self,
        auth: Auth,
        /// The start of a key's prefix, e.g. `plk_3f9a`.
        #[oai(validator(max_length = 64))]
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
        let keys = self.state.store.keys(None, prefix.as_deref()).await?;
        Ok(Json(keys.into_iter().map(Into::into).collect()))
    }

    /// Revoke an API key (admin)
    #[oai(path = "/keys/:id", method = "delete", operation_id = "revokeKey")]
    async fn revoke_key(&self, auth: Auth, id: Path<i64>) -> Result<NoContent, ApiError> {
        auth.0.require_admin()?;
        self.state.store.revoke_key(id.0, self.state.clock.now()).await?;
        Ok(NoContent::NoContent)
    }

    /// Search sync status (admin)
    ///
    /// Which engine answers, how many changes wait for the index (and how
    /// long the oldest has waited), dead letters, and the last successful sync.
    #[oai(path = "/admin/search", method = "get", operation_id = "searchStatus")]
    async fn search_status(&self, auth: Auth) -> Result<Json<SearchStatusView>, ApiError> {
        auth.0.require_admin()?;
        Ok(Json(search_status(&self.state).await?))
    }

    /// Retry dead letters of the search sync (admin)
    #[oai(path = "/admin/search/retry", method = "post", operation_id = "retrySearchDeadLetters")]
    async fn retry_dead(&self, auth: Auth) -> Result<Json<RetriedView>, ApiError> {
        auth.0.require_admin()?;
        let retried = self.state.store.revive_search_changes(self.state.clock.now()).await?;
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
        employer: Query<Option<String>>,
        /// Words of the title, or an ad's id.
        #[oai(validator(max_length = 200))]
        q: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))] page: Query<Option<u32>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] per_page: Query<Option<u32>>,
    ) -> Result<Json<JobList>, ApiError> {
        auth.0.require_admin()?;
        let now = self.state.clock.now();
        let employer_id = match employer.0.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            Some(raw) => Some(self.state.store.employer(&parse_key("employer", raw)?, now).await?.id),
            None => None,
        };
        let (page, per_page) = page_args(page.0, per_page.0);
        let status: Option<JobStatus> = status.0.map(Into::into);
        let result = self.state.store.all_jobs(status, employer_id, q.0.as_deref(), page, per_page, now).await?;
        Ok(Json(JobList::from_page(result, JobView::owner)))
    }

    /// Ads waiting for review, oldest first (admin)
    #[oai(path = "/admin/review", method = "get", operation_id = "reviewQueue")]
    async fn review_queue(&self, auth: Auth) -> Result<Json<Vec<JobView>>, ApiError> {
        auth.0.require_admin()?;
        let ads = self.state.store.pending_review(self.state.clock.now()).await?;
        Ok(Json(ads.into_iter().map(JobView::owner).collect()))
    }
}

pub type Apis = (
    JobsApi,
    EmployersApi,
    AdminApi,
    crate::salary::SalaryApi,
    crate::stream::StreamApi,
    crate::webhooks::WebhooksApi,
    crate::alerts::AlertsApi,
);

pub fn apis(state: AppState, public_url: &str) -> Apis {
    (
        JobsApi { state: state.clone(), public_url: public_url.trim_end_matches('/').to_owned() },
        EmployersApi { state: state.clone() },
        AdminApi { state: state.clone() },
        crate::salary::SalaryApi { state: state.clone() },
        crate::stream::StreamApi { state: state.clone() },
        crate::webhooks::WebhooksApi { state: state.clone() },
        crate::alerts::AlertsApi { state, public_url: public_url.trim_end_matches('/').to_owned() },
    )
}

/// The state of the search sync, for the API and the admin page.
pub(crate) async fn search_status(state: &AppState) -> platsen_jobs::Result<SearchStatusView> {
    let now = state.clock.now();
    let outbox = state.store.search_outbox_status().await?;
    let handle = state.search.get();
    let engine = match handle {
        Some(h) if h.engine.healthy().await => "meilisearch",
        _ => "database",
    };
    Ok(SearchStatusView {
        engine: engine.into(),
        meilisearch_configured: state.search_configured,
        outbox_pending: outbox.pending,
        outbox_dead: outbox.dead,
        oldest_pending_seconds: outbox.oldest_pending_at.map(|t| (now - t).num_seconds().max(0)),
        last_success_at: handle.and_then(|h| h.status.last_success_at()),
        last_error: handle.and_then(|h| h.status.last_error()),
    })
}

/// `GET /readyz`: 200 when the database answers, 503 when it does not.
pub async fn readiness(state: &AppState) -> poem::Response {
    match state.store.ping().await {
        Ok(()) => poem::IntoResponse::into_response(poem::web::Json(serde_json::json!({
            "status": "ok",
            "database": state.store.backend(),
            "durability": state.store.durability().await.unwrap_or("unknown"),
        }))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Inte redo", "Databasen svarar inte.")
                .into_poem_response()
        }
    }
}
