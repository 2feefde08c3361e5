//! Employers: their public pages and lists, and the operator managing them.

use crate::api::codes::IdOrSlugParam;
use platsen_jobs::{IdOrSlug, JobFilter};
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;

use super::Tag;
use super::jobs::page_args;
use super::wire::*;
use crate::AppState;
use crate::http::auth::{Auth, Created, Principal};
use crate::http::body::{ImageBody, JsonBody};
use crate::http::problem::ApiError;

pub struct EmployersApi {
    pub(super) state: AppState,
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
        let p = self.state.app.store.employers(page, per_page, self.state.app.clock.now()).await?;
        Ok(Json(EmployerList {
            items: p.items.into_iter().map(EmployerView::public).collect(),
            total: p.total,
            page,
            per_page,
        }))
    }

    /// Get an employer with its open ads
    #[oai(path = "/employers/:id", method = "get", operation_id = "getEmployer")]
    async fn get(
        &self,
        /// The id, or the slug.
        id: Path<IdOrSlugParam>,
    ) -> Result<Json<EmployerDetail>, ApiError> {
        let key = super::jobs::key(&id.0);
        let now = self.state.app.clock.now();
        let employer = self.state.app.store.employer(&key, now).await?;
        let filter = JobFilter { employer: Some(IdOrSlug::Id(employer.id)), ..Default::default() };
        let jobs = self.state.app.public_jobs(&filter, 1, 100, now).await?;
        Ok(Json(EmployerDetail {
            employer: EmployerView::public(employer),
            jobs: jobs.items.into_iter().map(JobView::public).collect(),
        }))
    }

    /// Create an employer (admin)
    #[oai(path = "/employers", method = "post", operation_id = "createEmployer", tag = "Tag::Admin")]
    async fn create(&self, auth: Auth, body: JsonBody<CreateEmployer>) -> Result<Created<EmployerView>, ApiError> {
        auth.0.require_admin()?;
        let e = self.state.app.store.create_employer(body.0.into(), false, self.state.app.clock.now()).await?;
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
        let e = self.state.app.store.update_employer(id.0, body.0.into(), self.state.app.clock.now()).await?;
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
        let k = self.state.app.store.create_key(id.0, body.0.label.as_deref(), self.state.app.clock.now()).await?;
        let location = format!("/api/v1/keys/{}", k.key.id);
        Ok(Created::Created(Json(NewKeyView { info: k.key.into(), key: k.secret }), location))
    }

    /// An employer's API keys (admin)
    #[oai(path = "/employers/:id/keys", method = "get", operation_id = "employerKeys", tag = "Tag::Admin")]
    async fn keys(&self, auth: Auth, id: Path<i64>) -> Result<Json<Vec<KeyView>>, ApiError> {
        auth.0.require_admin()?;
        self.state.app.store.employer(&IdOrSlug::Id(id.0), self.state.app.clock.now()).await?;
        let keys = self.state.app.store.keys(Some(id.0), None).await?;
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
        id: Path<i64>,
        body: JsonBody<CreateUser>,
    ) -> Result<Created<CreatedUserView>, ApiError> {
        auth.0.require_admin()?;
        let now = self.state.app.clock.now();
        let (user, invitation_sent) = match &body.0.password {
            Some(password) => {
                (self.state.app.store.create_user(Some(id.0), &body.0.email, password, false, now).await?, None)
            }
            None => {
                let (user, sent) = self.state.app.invite(id.0, &body.0.email).await?;
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
        self.state.app.store.employer(&IdOrSlug::Id(id.0), self.state.app.clock.now()).await?;
        let users = self.state.app.store.users(Some(id.0)).await?;
        Ok(Json(users.into_iter().map(Into::into).collect()))
    }

    /// Your own employer (employer key)
    #[oai(path = "/account", method = "get", operation_id = "account")]
    async fn account(&self, auth: Auth) -> Result<Json<EmployerView>, ApiError> {
        let employer_id = own_employer(&auth)?;
        let e = self.state.app.store.employer(&IdOrSlug::Id(employer_id), self.state.app.clock.now()).await?;
        Ok(Json(e.into()))
    }

    /// Change your own profile (employer key)
    ///
    /// The description (Markdown, sanitized as an ad's is), the website and
    /// the sector, as JSON Merge Patch: a field left out stays, `null`
    /// clears it. The name, review and billing are the operator's.
    #[oai(path = "/account", method = "patch", operation_id = "updateAccount")]
    async fn update_account(&self, auth: Auth, body: JsonBody<PatchProfile>) -> Result<Json<EmployerView>, ApiError> {
        let employer_id = own_employer(&auth)?;
        let now = self.state.app.clock.now();
        let e = self.state.app.store.update_employer_as(auth.0.actor(), employer_id, body.0.into(), now).await?;
        Ok(Json(e.into()))
    }

    /// Upload your own logo (employer key)
    ///
    /// A PNG, JPEG or WebP file as the body, at most 5 MB and 6000 × 6000
    /// pixels; SVG is refused. It is scaled to fit 400 × 200 and stored as
    /// a new PNG, served at `logo.path` with a long cache lifetime; a new
    /// logo gets a new address.
    #[oai(path = "/account/logo", method = "put", operation_id = "putAccountLogo")]
    async fn put_account_logo(&self, auth: Auth, body: ImageBody) -> Result<Json<EmployerView>, ApiError> {
        let employer_id = own_employer(&auth)?;
        let e = self.state.app.upload_logo(auth.0.actor(), employer_id, body.0).await?;
        Ok(Json(e.into()))
    }

    /// Remove your own logo (employer key)
    #[oai(path = "/account/logo", method = "delete", operation_id = "deleteAccountLogo")]
    async fn delete_account_logo(&self, auth: Auth) -> Result<Json<EmployerView>, ApiError> {
        let employer_id = own_employer(&auth)?;
        let e = self.state.app.remove_logo(auth.0.actor(), employer_id).await?;
        Ok(Json(e.into()))
    }

    /// Upload an employer's logo (admin)
    ///
    /// As `putAccountLogo`, for any employer.
    #[oai(path = "/employers/:id/logo", method = "put", operation_id = "putEmployerLogo", tag = "Tag::Admin")]
    async fn put_logo(&self, auth: Auth, id: Path<i64>, body: ImageBody) -> Result<Json<EmployerView>, ApiError> {
        auth.0.require_admin()?;
        let e = self.state.app.upload_logo(auth.0.actor(), id.0, body.0).await?;
        Ok(Json(e.into()))
    }

    /// Remove an employer's logo (admin)
    #[oai(path = "/employers/:id/logo", method = "delete", operation_id = "deleteEmployerLogo", tag = "Tag::Admin")]
    async fn delete_logo(&self, auth: Auth, id: Path<i64>) -> Result<Json<EmployerView>, ApiError> {
        auth.0.require_admin()?;
        let e = self.state.app.remove_logo(auth.0.actor(), id.0).await?;
        Ok(Json(e.into()))
    }
}

/// The employer an employer key belongs to; others are refused.
fn own_employer(auth: &Auth) -> Result<i64, ApiError> {
    match auth.0 {
        Principal::Employer { employer_id, .. } => Ok(employer_id),
        _ => Err(ApiError::forbidden("Kontot gäller arbetsgivarnycklar.")),
    }
}
