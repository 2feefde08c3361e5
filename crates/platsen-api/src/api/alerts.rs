//! Job alerts in the API: `POST /api/v1/alerts` starts a double opt-in
//! (see `platsen_app::alerts` for what happens next).

use platsen_app::alerts::Refusal;
use platsen_app::search::SearchForm;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Tags};
use serde::Deserialize;

use crate::AppState;
use crate::api::codes::{self, Code};
use crate::api::wire::{EmploymentTypeCode, RemoteCode, RoleCode};
use crate::http::body::JsonBody;
use crate::http::problem::ApiError;

#[derive(Tags)]
enum Tag {
    /// Job alerts: saved searches mailed to job seekers.
    Alerts,
}

/// How often an alert mails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum FrequencyCode {
    /// As soon as a new ad is found (checked every minute).
    Instant,
    Daily,
    Weekly,
}

/// A search to watch, and where to mail it.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct CreateAlert {
    /// The job seeker's address; a confirmation link goes there first.
    #[oai(validator(max_length = 254))]
    pub email: String,
    pub frequency: FrequencyCode,
    /// The search's words.
    #[oai(nullable)]
    pub q: Option<String>,
    #[oai(nullable)]
    pub role: Option<RoleCode>,
    #[oai(nullable)]
    pub county: Option<Code<codes::County>>,
    #[oai(nullable)]
    pub municipality: Option<Code<codes::Municipality>>,
    #[oai(nullable)]
    pub employment_type: Option<EmploymentTypeCode>,
    #[oai(nullable)]
    pub remote: Option<RemoteCode>,
    /// Employer id or slug.
    #[oai(nullable, validator(pattern = r"^[a-z0-9-]{1,100}$"))]
    pub employer: Option<String>,
}

/// The alert waits for confirmation.
#[derive(Debug, Clone, Object)]
pub struct AlertAccepted {
    /// Always `confirmation_sent`.
    pub status: String,
    pub message: String,
}

#[derive(ApiResponse)]
enum Accepted {
    /// A confirmation link was mailed (the same answer whatever the address).
    #[oai(status = 202)]
    Accepted(Json<AlertAccepted>),
}

pub struct AlertsApi {
    pub(crate) state: AppState,
}

#[OpenApi(prefix_path = "/v1", tag = "Tag::Alerts")]
impl AlertsApi {
    /// Save a job alert
    ///
    /// Starts a double opt-in: a confirmation link is mailed, and only a
    /// confirmed alert mails ads, each ad once, as they are published
    /// (`instant`), daily or weekly. Every mail has a one-click unsubscribe
    /// (RFC 8058) and a link to manage the alert; no account is needed.
    #[oai(path = "/alerts", method = "post", operation_id = "createAlert")]
    async fn create(&self, req: &poem::Request, body: JsonBody<CreateAlert>) -> Result<Accepted, ApiError> {
        let b = body.0;
        let search = SearchForm {
            q: b.q,
            role: b.role.map(|r| platsen_taxonomy::Role::from(r).code().to_owned()),
            county: b.county.map(|c| c.0),
            municipality: b.municipality.map(|c| c.0),
            employment_type: b.employment_type.map(|e| platsen_jobs::model::EmploymentType::from(e).code().to_owned()),
            remote: b.remote.map(|r| platsen_jobs::model::RemoteMode::from(r).code().to_owned()),
            employer: b.employer,
            sort: None,
            page: None,
        };
        let frequency = match b.frequency {
            FrequencyCode::Instant => "instant",
            FrequencyCode::Daily => "daily",
            FrequencyCode::Weekly => "weekly",
        };
        let client = crate::http::client::client_ip(req);
        self.state.app.subscribe(client, &b.email, &search, frequency).await.map_err(|r| match r {
            Refusal::Field(e) => platsen_jobs::Error::invalid(&e.field, e.code, e.message).into(),
            Refusal::TooMany => ApiError::too_many_requests(),
        })?;
        Ok(Accepted::Accepted(Json(AlertAccepted {
            status: "confirmation_sent".into(),
            message: "Vi har skickat en länk för att bekräfta bevakningen. Inga mejl skickas förrän den är bekräftad."
                .into(),
        })))
    }
}
