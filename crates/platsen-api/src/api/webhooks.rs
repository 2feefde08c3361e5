//! Webhooks in the API: registering, listing, the delivery log, removing.
//! The worker that delivers is `platsen_app::webhooks`; where a URL may
//! point, `platsen_app::outgoing`.
//!
//! What an integrator gets:
//!
//! An employer's key (its own ads) or the operator's token (every ad)
//! registers a URL and gets a signing secret once. A worker then POSTs each
//! batch of new changes, the same JSON as `/api/v1/stream`, signed:
//!
//! ```text
//! Platsen-Signature: t=1764000000,v1=<hex HMAC-SHA256(secret, "1764000000." + body)>
//! Platsen-Delivery: <webhook id>-<first position>-<last position>
//! ```
//!
//! A receiver checks the HMAC over the timestamp and the raw body, and
//! refuses a timestamp more than five minutes off (replay). A batch is
//! retried with backoff until the receiver answers 2xx; the cursor moves only
//! then, so a receiver gets every change at least once, in order, and can
//! drop a repeated `Platsen-Delivery`.
//!
//! **Server-side request forgery.** A webhook URL must not point into the
//! operator's network: its host must resolve only to public addresses, when
//! it is registered and again at every delivery (the resolver refuses the
//! rest, so a DNS answer that changes later does not help), and redirects are
//! not followed. `PLATSEN_WEBHOOK_ALLOW_PRIVATE=1` lifts this for development
//! and tests.

use chrono::{DateTime, Utc};
use platsen_jobs::model::Actor;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;

use crate::AppState;
use crate::http::auth::Auth;
use crate::http::body::JsonBody;
use crate::http::problem::ApiError;

#[derive(Tags)]
enum Tag {
    /// Changes pushed to your URL, signed.
    Webhooks,
}

/// A webhook to register.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where to POST the changes (http or https, a public address).
    #[oai(validator(pattern = r"^https?://", max_length = 2000))]
    pub url: String,
}

/// A registered webhook.
#[derive(Debug, Clone, Object)]
pub struct WebhookView {
    pub id: i64,
    pub url: String,
    /// Whose ads' changes it receives; absent: every ad.
    #[oai(nullable)]
    pub employer_id: Option<i64>,
    /// The last change delivered.
    pub cursor: String,
    /// Failed attempts at the current batch.
    pub failed_attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    #[oai(nullable)]
    pub last_error: Option<String>,
    /// Set after too many failures in a row; register it again to resume.
    #[oai(nullable)]
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<platsen_jobs::store::Webhook> for WebhookView {
    fn from(w: platsen_jobs::store::Webhook) -> Self {
        WebhookView {
            id: w.id,
            url: w.url,
            employer_id: w.employer_id,
            cursor: w.cursor.to_string(),
            failed_attempts: w.attempts,
            next_attempt_at: w.next_attempt_at,
            last_error: w.last_error,
            disabled_at: w.disabled_at,
            created_at: w.created_at,
        }
    }
}

/// A new webhook with its secret, shown this once.
#[derive(Debug, Clone, Object)]
pub struct NewWebhookView {
    #[oai(flatten)]
    pub webhook: WebhookView,
    /// The HMAC-SHA256 key of `Platsen-Signature`. Keep it; it is not shown again.
    pub secret: String,
}

/// One delivery attempt.
#[derive(Debug, Clone, Object)]
pub struct DeliveryView {
    pub id: i64,
    pub first_cursor: String,
    pub last_cursor: String,
    pub changes: i64,
    pub attempt: i64,
    /// The receiver's status; absent when it did not answer.
    #[oai(nullable)]
    pub status_code: Option<i64>,
    #[oai(nullable)]
    pub error: Option<String>,
    pub duration_ms: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(ApiResponse)]
enum CreatedWebhook {
    /// Registered; deliveries start with the next change.
    #[oai(status = 201)]
    Created(Json<NewWebhookView>, #[oai(header = "Location")] String),
}

#[derive(ApiResponse)]
enum Deleted {
    /// Removed, with its delivery log.
    #[oai(status = 204)]
    NoContent,
}

fn actor(auth: &Auth) -> Actor {
    auth.0.actor()
}

pub struct WebhooksApi {
    pub(crate) state: AppState,
}

#[OpenApi(prefix_path = "/v1", tag = "Tag::Webhooks")]
impl WebhooksApi {
    /// Register a webhook
    ///
    /// An employer's key receives its own ads' changes; the operator's token
    /// every ad's. The answer holds the signing secret, shown this once.
    #[oai(path = "/webhooks", method = "post", operation_id = "createWebhook")]
    async fn create(&self, auth: Auth, body: JsonBody<CreateWebhook>) -> Result<CreatedWebhook, ApiError> {
        let url = platsen_app::outgoing::check_url(&body.0.url, self.state.app.outgoing)
            .await
            .map_err(|e| platsen_jobs::Error::Invalid(vec![e]))?;
        let (w, secret) =
            self.state.app.store.create_webhook(actor(&auth), url.as_str(), self.state.app.clock.now()).await?;
        let location = format!("/api/v1/webhooks/{}", w.id);
        Ok(CreatedWebhook::Created(Json(NewWebhookView { webhook: w.into(), secret }), location))
    }

    /// Your webhooks
    #[oai(path = "/webhooks", method = "get", operation_id = "listWebhooks")]
    async fn list(&self, auth: Auth) -> Result<Json<Vec<WebhookView>>, ApiError> {
        let hooks = self.state.app.store.webhooks(actor(&auth)).await?;
        Ok(Json(hooks.into_iter().map(Into::into).collect()))
    }

    /// A webhook's delivery log
    ///
    /// The latest 200 attempts, newest first: what was sent, the receiver's
    /// status or error, and how long it took.
    #[oai(path = "/webhooks/:id/deliveries", method = "get", operation_id = "webhookDeliveries")]
    async fn deliveries(&self, auth: Auth, id: Path<i64>) -> Result<Json<Vec<DeliveryView>>, ApiError> {
        let log = self.state.app.store.webhook_deliveries(actor(&auth), id.0, 200).await?;
        Ok(Json(
            log.into_iter()
                .map(|d| DeliveryView {
                    id: d.id,
                    first_cursor: d.first_position.to_string(),
                    last_cursor: d.last_position.to_string(),
                    changes: d.changes,
                    attempt: d.attempt,
                    status_code: d.status_code,
                    error: d.error,
                    duration_ms: d.duration_ms,
                    created_at: d.created_at,
                })
                .collect(),
        ))
    }

    /// Remove a webhook
    #[oai(path = "/webhooks/:id", method = "delete", operation_id = "deleteWebhook")]
    async fn delete(&self, auth: Auth, id: Path<i64>) -> Result<Deleted, ApiError> {
        self.state.app.store.delete_webhook(actor(&auth), id.0).await?;
        Ok(Deleted::NoContent)
    }
}
