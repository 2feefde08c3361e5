//! Platsen's HTTP surface: one poem service with an OpenAPI 3 spec.
//!
//! *Architecture invariant:* this is the only crate that knows HTTP, JSON
//! and HTML. It has three parts: [`api`] (the JSON API), [`web`] (the
//! pages) and [`http`] (what both share: problem+json, body reading,
//! middleware). `api` and `web` never import each other; both parse a
//! request, call the application layer ([`platsen_app::App`]) or the store,
//! and map the answer. Every rule lives below this crate.

// `ApiError` is the HTTP response itself (a problem document); boxing it
// would only add indirection on the error path.
#![allow(clippy::result_large_err)]

#[macro_use]
pub mod http;
pub mod api;
pub mod web;

use std::sync::Arc;

use http::allow::get;
use platsen_app::App;
use poem::endpoint::make_sync;
use poem::{Endpoint, EndpointExt, IntoEndpoint, Route};
use poem_openapi::OpenApiService;

pub use http::middleware::RateLimit;
use http::{middleware, problem};

/// Everything a request needs: the application, and what only HTTP keeps.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    /// The operator's token (`PLATSEN_ADMIN_TOKEN`); `None` disables admin routes.
    pub admin_token: Option<Arc<str>>,
    /// What the pages keep between requests: the sign-in limits, cookies.
    pub web: http::session::WebState,
    /// Set when the process is about to stop: `/readyz` answers 503 so the
    /// load balancer sends new requests elsewhere, while this instance
    /// still serves what reaches it.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
}

impl AppState {
    pub fn new(app: App, admin_token: Option<&str>, secure_cookies: bool) -> AppState {
        AppState {
            app,
            admin_token: admin_token.map(Arc::from),
            web: http::session::WebState::new(secure_cookies),
            draining: Default::default(),
        }
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the admin token.
        f.debug_struct("AppState")
            .field("app", &self.app)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// The JSON of a batch of changes as the stream and webhooks send it.
pub fn changes_json() -> platsen_app::webhooks::ChangesJson {
    use poem_openapi::types::ToJSON;
    Arc::new(|changes| {
        changes.into_iter().map(|c| api::stream::ChangeView::from(c).to_json().unwrap_or_default()).collect()
    })
}

/// Options for the HTTP layer.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Requests per second allowed per client address (burst: five times as
    /// many); 0 turns the limit off.
    pub rate_limit_per_sec: u32,
    /// The load balancers whose `X-Forwarded-For` says who the client is
    /// (see `http::client`); empty: the socket's peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions { rate_limit_per_sec: 50, trusted_proxies: Vec::new() }
    }
}

/// The OpenAPI service (also used to print the spec without a server).
pub fn openapi(state: &AppState) -> OpenApiService<api::Apis, ()> {
    OpenApiService::new(api::apis(state.clone()), "Platsen", env!("CARGO_PKG_VERSION"))
        .description(
            "Lediga jobb inom offentlig upphandling och inköp. Public reads need no key; \
             employers use an API key (`Authorization: Bearer plk_…`), operators the admin token. \
             Errors are `application/problem+json` (RFC 9457).",
        )
        .server(state.app.link("/api"))
}

/// The spec as served at `/api/openapi.json` and printed by `platsen
/// openapi`: poem-openapi's, with what it cannot say added. Every request
/// body is parsed with unknown fields refused, so its schemas (and those they
/// use) say `additionalProperties: false`; a `NaiveDate` is a `date`; a
/// nullable reference is written as generators read it; creating operations
/// link to what can be done with what they created.
pub fn spec_json(state: &AppState) -> String {
    let mut spec: serde_json::Value = serde_json::from_str(&openapi(state).spec()).expect("poem-openapi writes JSON");
    amend_spec(&mut spec);
    serde_json::to_string_pretty(&spec).expect("a spec serializes")
}

fn amend_spec(spec: &mut serde_json::Value) {
    use serde_json::Value;
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.trim_start_matches("#/components/schemas/").to_owned());
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    fn tidy(v: &mut Value) {
        match v {
            Value::Object(m) => {
                if m.get("format").and_then(Value::as_str) == Some("naive-date") {
                    m.insert("format".into(), "date".into());
                }
                // A field's notes on a referenced schema come as `allOf: [$ref,
                // {nullable, description…}]` with the notes repeated beside
                // `allOf`; generators (openapi-python-client) refuse the second
                // member, so only the reference stays in `allOf`.
                let repeated = match m.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
                    Some([r, Value::Object(notes)]) if r.get("$ref").is_some() && !notes.contains_key("$ref") => {
                        notes.iter().all(|(k, v)| m.get(k) == Some(v))
                    }
                    _ => false,
                };
                if repeated && let Some(Value::Array(all)) = m.get_mut("allOf") {
                    all.truncate(1);
                }
                m.values_mut().for_each(tidy);
            }
            Value::Array(a) => a.iter_mut().for_each(tidy),
            _ => {}
        }
    }
    // The schemas request bodies use, and the schemas those use.
    let mut todo = Vec::new();
    for item in spec["paths"].as_object().into_iter().flat_map(|p| p.values()) {
        for op in item.as_object().into_iter().flat_map(|o| o.values()) {
            refs(&op["requestBody"], &mut todo);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone()) {
            refs(&spec["components"]["schemas"][&name], &mut todo);
        }
    }
    for name in seen {
        let schema = &mut spec["components"]["schemas"][&name];
        if schema["type"] == "object" {
            schema["additionalProperties"] = Value::Bool(false);
        }
    }
    tidy(spec);
    links(spec);
}

/// OpenAPI links from each creating operation (`POST` answering 201) to the
/// operations on what it created (`{path}/{id}…`), the id taken from the
/// answer's body, and the same links from every operation there that
/// answers with the created thing again (publish, update, read…): how a
/// client, and schemathesis's stateful phase, goes create → publish → read
/// → close.
fn links(spec: &mut serde_json::Value) {
    use serde_json::{Value, json};
    let schema_of = |answer: &Value| {
        answer["content"]
            .as_object()
            .and_then(|c| c.iter().find(|(media, _)| media.starts_with("application/json")))
            .and_then(|(_, m)| m["schema"]["$ref"].as_str().map(str::to_owned))
    };
    let paths = spec["paths"].as_object().cloned().unwrap_or_default();
    for (path, item) in &paths {
        let Some(created) = schema_of(&item["post"]["responses"]["201"]) else { continue };
        let prefix = format!("{path}/{{id}}");
        let under = |other: &str| other == prefix || other.starts_with(&format!("{prefix}/"));
        let mut links = serde_json::Map::new();
        for (_, other_item) in paths.iter().filter(|(other, _)| under(other)) {
            for op in other_item.as_object().into_iter().flat_map(|o| o.values()) {
                if let Some(id) = op["operationId"].as_str() {
                    let name = format!("{}{}", id[..1].to_ascii_uppercase(), &id[1..]);
                    links.insert(name, json!({ "operationId": id, "parameters": { "id": "$response.body#/id" } }));
                }
            }
        }
        if links.is_empty() {
            continue;
        }
        spec["paths"][path]["post"]["responses"]["201"]["links"] = Value::Object(links.clone());
        for (other, other_item) in paths.iter().filter(|(other, _)| under(other)) {
            for (method, op) in other_item.as_object().into_iter().flatten() {
                if schema_of(&op["responses"]["200"]).as_deref() == Some(created.as_str()) {
                    spec["paths"][other][method]["responses"]["200"]["links"] = Value::Object(links.clone());
                }
            }
        }
    }
}

/// `GET /readyz`: 200 when the database answers, 503 when it does not.
/// Meilisearch is reported (`ok`, `down` or `not_configured`) but does not
/// make the instance unready: the built-in search answers while it is away.
pub async fn readiness(state: &AppState) -> poem::Response {
    if state.draining.load(std::sync::atomic::Ordering::Acquire) {
        return problem::Problem::new(
            poem::http::StatusCode::SERVICE_UNAVAILABLE,
            "draining",
            "Stänger",
            "Servern stänger; nya förfrågningar går till en annan instans.",
        )
        .into_poem_response();
    }
    // A health check must answer before the load balancer's own timeout,
    // not after the pool's ten seconds of trying to reconnect.
    let ping = match tokio::time::timeout(std::time::Duration::from_secs(2), state.app.store.ping()).await {
        Ok(answer) => answer.map_err(|e| e.to_string()),
        Err(_) => Err("no answer within two seconds".to_owned()),
    };
    // What is only reported must not make the check slow either: the
    // writing connection (SQLite's durability) may be busy, and a hung
    // Meilisearch must not take every instance out at once.
    let brief = std::time::Duration::from_millis(500);
    match ping {
        Ok(()) => poem::IntoResponse::into_response(poem::web::Json(serde_json::json!({
            "status": "ok",
            "database": state.app.store.backend(),
            "durability": tokio::time::timeout(brief, state.app.store.durability())
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or("unknown"),
            "meilisearch": match (state.app.search_configured, state.app.search.get()) {
                (false, _) => "not_configured",
                (true, Some(h)) if tokio::time::timeout(brief, h.engine.healthy()).await == Ok(true) => "ok",
                (true, _) => "down",
            },
        }))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            problem::Problem::new(
                poem::http::StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Inte redo",
                "Databasen svarar inte.",
            )
            .into_poem_response()
        }
    }
}

/// `GET /metrics`: Prometheus's text format, for the operator's admin
/// token only (`Authorization: Bearer …`); 404 when no token is set, as the
/// admin API.
async fn metrics(state: &AppState, req: &poem::Request) -> poem::Response {
    let token = req
        .headers()
        .get(poem::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match (&state.admin_token, token) {
        (None, _) => problem::Problem::new(
            poem::http::StatusCode::NOT_FOUND,
            "not-found",
            "Finns inte",
            "Mätvärden kräver en administratörstoken, och ingen är satt.",
        )
        .into_poem_response(),
        (Some(admin), Some(token)) if platsen_jobs::keys::secrets_equal(token, admin) => {
            let text = state.app.metrics.scrape(&state.app).await;
            poem::Response::builder()
                .content_type("text/plain; version=0.0.4; charset=utf-8")
                .header(poem::http::header::CACHE_CONTROL, "no-store")
                .body(text)
        }
        _ => {
            let mut resp = problem::Problem::new(
                poem::http::StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Inloggning krävs",
                "Ange administratörstoken: Authorization: Bearer <token>.",
            )
            .into_poem_response();
            resp.headers_mut()
                .insert(poem::http::header::WWW_AUTHENTICATE, poem::http::HeaderValue::from_static("Bearer"));
            resp
        }
    }
}

/// The whole HTTP application.
pub fn app(state: AppState, options: &HttpOptions) -> impl Endpoint + 'static {
    let api = openapi(&state);
    let spec = spec_json(&state);
    let cache_spec = spec.clone();
    let spec_value: serde_json::Value = serde_json::from_str(&spec).expect("the spec is JSON");
    let spec_methods = std::sync::Arc::new(http::allow::SpecMethods::from_spec(&spec_value, "/api"));
    // Swagger UI, made accessible (see `docs.rs`), built once.
    let docs = api::docs::accessible_swagger_ui(&api.swagger_ui_html());
    let ready_state = state.clone();
    let metrics_state = state.clone();
    let metrics = state.app.metrics.clone();
    let state_metrics = metrics.clone();
    let public_url = http::page::PublicUrl(state.app.public_url.to_string());
    let routes = Route::new()
        .nest(
            "/api",
            api.around(move |ep, req| {
                // poem-openapi's 405 does not say what the path takes; the
                // spec does. Looked up only for a 405 (a `Uri` clone shares
                // its bytes).
                let uri = req.original_uri().clone();
                let spec_methods = spec_methods.clone();
                async move {
                    match ep.call(req).await {
                        Err(e) if e.status() == poem::http::StatusCode::METHOD_NOT_ALLOWED => {
                            Err(match spec_methods.allow(uri.path()) {
                                Some(allow) => http::allow::MethodNotAllowed { allow }.into(),
                                None => e,
                            })
                        }
                        other => other,
                    }
                }
            }),
        )
        .at(
            "/api/openapi.json",
            get(make_sync(move |_| poem::Response::builder().content_type("application/json").body(spec.clone()))),
        )
        .nest("/api/docs", Route::new().at("/", get(make_sync(move |_| poem::web::Html(docs.clone())))))
        .at("/healthz", get(make_sync(|_| poem::web::Json(serde_json::json!({ "status": "ok" })))))
        .at(
            "/metrics",
            get(poem::endpoint::make(move |req| {
                let state = metrics_state.clone();
                async move { self::metrics(&state, &req).await }
            })),
        )
        .at(
            "/readyz",
            get(poem::endpoint::make(move |_| {
                let state = ready_state.clone();
                async move { readiness(&state).await }
            })),
        );
    web::mount(routes)
        .around(|ep, req| async move {
            // A browser that asks for a page that is not there gets a page.
            let html = http::page::wants_html(&req);
            match ep.call(req).await {
                Err(e)
                    if html
                        && matches!(
                            e.status(),
                            poem::http::StatusCode::NOT_FOUND | poem::http::StatusCode::METHOD_NOT_ALLOWED
                        ) =>
                {
                    let mut page = http::page::not_found_page(e.status());
                    if let Some(m) = e.downcast_ref::<http::allow::MethodNotAllowed>()
                        && let Ok(v) = poem::http::HeaderValue::from_str(&m.allow)
                    {
                        page.headers_mut().insert(poem::http::header::ALLOW, v);
                    }
                    Ok(page)
                }
                other => other.map(poem::IntoResponse::into_response),
            }
        })
        .with(middleware::ResponseCache::new(state.clone(), &cache_spec))
        .data(state)
        .data(public_url)
        .with(middleware::ConditionalGet)
        .with(middleware::RateLimit::new(options.rate_limit_per_sec, state_metrics))
        .with(http::client::ClientAddress::new(options.trusted_proxies.clone()))
        .with(middleware::PublicCors)
        .with(middleware::SecurityHeaders)
        .catch_all_error(|err| async move {
            // Keep the matched route for the metrics.
            let pattern = err.data::<poem::PathPattern>().cloned();
            let mut resp = problem::problem_from_poem_error(err);
            if let Some(p) = pattern {
                resp.set_data(p);
            }
            resp
        })
        .with(middleware::AccessLog::new(metrics, &spec_value, "/api"))
        .into_endpoint()
}

#[cfg(test)]
mod tests {
    use super::*;
    use platsen_app::search::{MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_CHARS};

    /// The JSON API and the pages share only `http/` and the application
    /// layer: neither imports the other, and the shared plumbing imports
    /// neither.
    #[test]
    fn the_api_and_the_pages_never_import_each_other() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        for (part, others) in [("api", ["crate::web", "super::web"]), ("web", ["crate::api", "super::api"])]
            .into_iter()
            .chain([("http", ["crate::api", "crate::web"])])
        {
            for entry in std::fs::read_dir(src.join(part)).unwrap() {
                let path = entry.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap();
                for other in others {
                    assert!(!text.contains(other), "{} uses {other}", path.display());
                }
            }
        }
    }

    /// The limits the spec declares (poem-openapi's validators take
    /// literals) are the search rules' own.
    #[tokio::test]
    async fn the_specs_search_limits_are_the_search_rules() {
        let store = platsen_jobs::Store::connect("sqlite::memory:").await.unwrap();
        let state = AppState::new(App::new(store, platsen_app::Clock::default(), "http://127.0.0.1"), None, false);
        let spec: serde_json::Value = serde_json::from_str(&spec_json(&state)).unwrap();
        for path in ["/v1/jobs", "/v1/jobs/search"] {
            let params = spec["paths"][path]["get"]["parameters"].as_array().unwrap();
            let schema = |name: &str| params.iter().find(|p| p["name"] == name).unwrap()["schema"].clone();
            assert_eq!(schema("page")["maximum"], f64::from(MAX_PAGE), "{path}");
            assert_eq!(schema("per_page")["maximum"], f64::from(MAX_PER_PAGE), "{path}");
        }
        let params = spec["paths"]["/v1/jobs/search"]["get"]["parameters"].as_array().unwrap();
        let q = params.iter().find(|p| p["name"] == "q").unwrap();
        assert_eq!(q["schema"]["maxLength"], MAX_QUERY_CHARS);
    }
}
