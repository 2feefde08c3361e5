//! Platsen's HTTP surface: one poem service with an OpenAPI 3 spec.
//!
//! *Architecture invariant:* this is the only crate that knows HTTP and JSON.
//! Handlers parse, call [`platsen_jobs::Store`], and map the answer; every
//! rule lives in the domain crates.

// `ApiError` is the HTTP response itself (a problem document); boxing it
// would only add indirection on the error path.
#![allow(clippy::result_large_err)]

pub mod alerts;
pub mod body;
mod docs;
pub mod mail;
mod middleware;
mod notify;
pub mod problem;
mod routes;
pub mod salary;
pub mod stream;
pub mod web;
pub mod webhooks;
pub mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};
use platsen_jobs::Store;
use poem::endpoint::make_sync;
use poem::{Endpoint, EndpointExt, IntoEndpoint, Route, get};
use poem_openapi::OpenApiService;

pub use middleware::RateLimit;

/// The time as Platsen sees it. Production never moves it; tests move it
/// forward to see ads expire without waiting.
#[derive(Clone, Default, Debug)]
pub struct Clock {
    offset_secs: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(self.offset_secs.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_secs.fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
}

/// A connected Meilisearch and its sync worker's status.
#[derive(Clone, Debug)]
pub struct SearchHandle {
    pub engine: Arc<platsen_search::MeiliEngine>,
    pub status: Arc<platsen_search::SyncStatus>,
}

/// Everything a request needs.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Set once Meilisearch is connected (if one is configured); until then,
    /// and whenever it fails, the database answers searches.
    pub search: Arc<std::sync::OnceLock<SearchHandle>>,
    /// Whether a Meilisearch is configured at all.
    pub search_configured: bool,
    /// The operator's token (`PLATSEN_ADMIN_TOKEN`); `None` disables admin routes.
    pub admin_token: Option<Arc<str>>,
    pub clock: Clock,
    /// Lönestatistik, loaded on first use and after every import.
    pub salary: Arc<salary::SalaryData>,
    /// What the web pages keep between requests: view and apply-click
    /// counts on their way to the database, the sign-in limits, the mailer.
    pub web: web::WebState,
    /// Whether webhooks may target loopback, private and link-local
    /// addresses (`PLATSEN_WEBHOOK_ALLOW_PRIVATE=1`, development and tests).
    pub webhook_allow_private: bool,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the admin token.
        f.debug_struct("AppState")
            .field("database", &self.store.backend())
            .field("admin_token", &self.admin_token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// Options for the HTTP layer.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Requests per second allowed per client address (burst: five times as
    /// many); 0 turns the limit off.
    pub rate_limit_per_sec: u32,
    /// The public base URL, used as the server in the spec.
    pub public_url: String,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions { rate_limit_per_sec: 50, public_url: "http://127.0.0.1:8080".into() }
    }
}

/// The OpenAPI service (also used to print the spec without a server).
pub fn openapi(state: &AppState, public_url: &str) -> OpenApiService<routes::Apis, ()> {
    OpenApiService::new(routes::apis(state.clone(), public_url), "Platsen", env!("CARGO_PKG_VERSION"))
        .description(
            "Lediga jobb inom offentlig upphandling och inköp. Public reads need no key; \
             employers use an API key (`Authorization: Bearer plk_…`), operators the admin token. \
             Errors are `application/problem+json` (RFC 9457).",
        )
        .server(format!("{}/api", public_url.trim_end_matches('/')))
}

/// The whole HTTP application.
pub fn app(state: AppState, options: &HttpOptions) -> impl Endpoint + 'static {
    let api = openapi(&state, &options.public_url);
    let spec = api.spec();
    let cache_spec = spec.clone();
    // Swagger UI, made accessible (see `docs.rs`), built once.
    let docs = docs::accessible_swagger_ui(&api.swagger_ui_html());
    let ready_state = state.clone();
    let routes = Route::new()
        .nest("/api", api)
        .at(
            "/api/openapi.json",
            get(make_sync(move |_| poem::Response::builder().content_type("application/json").body(spec.clone()))),
        )
        .nest("/api/docs", Route::new().at("/", get(make_sync(move |_| poem::web::Html(docs.clone())))))
        .at("/healthz", get(make_sync(|_| poem::web::Json(serde_json::json!({ "status": "ok" })))))
        .at(
            "/readyz",
            get(poem::endpoint::make(move |_| {
                let state = ready_state.clone();
                async move { routes::readiness(&state).await }
            })),
        );
    web::mount(routes)
        .around(|ep, req| async move {
            // A browser that asks for a page that is not there gets a page.
            let html = web::wants_html(&req);
            match ep.call(req).await {
                Err(e)
                    if html
                        && matches!(
                            e.status(),
                            poem::http::StatusCode::NOT_FOUND | poem::http::StatusCode::METHOD_NOT_ALLOWED
                        ) =>
                {
                    Ok(web::not_found_page(e.status()))
                }
                other => other.map(poem::IntoResponse::into_response),
            }
        })
        .with(middleware::ResponseCache::new(state.clone(), &cache_spec))
        .data(state)
        .data(web::PublicUrl(options.public_url.clone()))
        .with(middleware::ConditionalGet)
        .with(middleware::RateLimit::new(options.rate_limit_per_sec))
        .with(middleware::PublicCors)
        .with(middleware::SecurityHeaders)
        .catch_all_error(|err| async move { problem::problem_from_poem_error(err) })
        .with(middleware::AccessLog)
        .into_endpoint()
}
