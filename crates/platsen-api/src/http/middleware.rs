//! Cross-cutting HTTP behaviour: conditional GETs with ETags, per-address
//! rate limiting, security headers and the access log.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Instant;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use sha2::{Digest, Sha256};

use crate::http::problem::Problem;

/// Adds a strong ETag to every successful GET (unless the handler set one),
/// answers `If-None-Match` with 304, and sets Cache-Control: public reads may
/// be cached briefly by anyone, authenticated ones only privately.
pub struct ConditionalGet;

impl<E: Endpoint> Middleware<E> for ConditionalGet {
    type Output = ConditionalGetEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        ConditionalGetEndpoint(ep)
    }
}

pub struct ConditionalGetEndpoint<E>(E);

impl<E: Endpoint> Endpoint for ConditionalGetEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        let is_get = req.method() == Method::GET || req.method() == Method::HEAD;
        let authed = req.headers().contains_key(header::AUTHORIZATION);
        let if_none_match = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let mut resp = self.0.call(req).await?.into_response();
        if !is_get || resp.status() != StatusCode::OK {
            return Ok(resp);
        }
        let etag = match resp.headers().get(header::ETAG) {
            Some(v) => v.clone(),
            None => {
                let body = resp.take_body().into_bytes().await?;
                let v = etag_of(&body);
                resp.set_body(body);
                resp.headers_mut().insert(header::ETAG, v.clone());
                v
            }
        };
        if !resp.headers().contains_key(header::CACHE_CONTROL) {
            let cc = if authed { "private, no-cache" } else { "public, max-age=30, stale-while-revalidate=30" };
            resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cc));
        }
        // A handler's own Vary (the embed varies by Origin) is kept.
        let vary = match resp.headers().get(header::VARY).and_then(|v| v.to_str().ok()) {
            Some(own) => HeaderValue::from_str(&format!("{own}, Authorization, Accept-Encoding"))
                .unwrap_or(HeaderValue::from_static("*")),
            None => HeaderValue::from_static("Authorization, Accept-Encoding"),
        };
        resp.headers_mut().insert(header::VARY, vary);
        let tag = etag.to_str().unwrap_or_default();
        if let Some(inm) = if_none_match
            && (inm.trim() == "*" || inm.split(',').any(|t| t.trim().trim_start_matches("W/") == tag))
        {
            let mut not_modified = Response::builder().status(StatusCode::NOT_MODIFIED).finish();
            for name in [header::ETAG, header::CACHE_CONTROL, header::VARY] {
                if let Some(v) = resp.headers().get(&name) {
                    not_modified.headers_mut().insert(name, v.clone());
                }
            }
            return Ok(not_modified);
        }
        Ok(resp)
    }
}

/// Limits requests per client address with a token bucket (GCRA).
#[derive(Clone)]
pub struct RateLimit {
    limiter: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
    per_sec: u32,
    metrics: Arc<platsen_app::metrics::Metrics>,
}

impl RateLimit {
    pub fn new(per_sec: u32, metrics: Arc<platsen_app::metrics::Metrics>) -> Self {
        let limiter = NonZeroU32::new(per_sec).map(|rate| {
            let burst = NonZeroU32::new(per_sec.saturating_mul(5)).expect("non-zero");
            Arc::new(RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)))
        });
        RateLimit { limiter, per_sec, metrics }
    }
}

impl<E: Endpoint> Middleware<E> for RateLimit {
    type Output = RateLimitEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        RateLimitEndpoint { inner: ep, limit: self.clone() }
    }
}

pub struct RateLimitEndpoint<E> {
    inner: E,
    limit: RateLimit,
}

impl<E: Endpoint> Endpoint for RateLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        // The operator's probes (a load balancer's health checks, the
        // metrics scrape), sent to the instance directly, are never
        // refused: a 429 there would take a healthy instance out of service.
        // The same paths asked through the public front (which names the
        // client in X-Forwarded-For) are limited like everything else.
        let probe = matches!(req.uri().path(), "/healthz" | "/readyz" | "/metrics")
            && !req.headers().contains_key("x-forwarded-for");
        if !probe && let (Some(limiter), Some(ip)) = (&self.limit.limiter, crate::http::client::client_ip(&req)) {
            if limiter.check_key(&ip).is_err() {
                tracing::warn!(client = %ip, "rate limited");
                self.limit.metrics.rate_limited.inc();
                let mut resp = Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited",
                    "För många förfrågningar",
                    format!("Högst {} förfrågningar per sekund; vänta en stund och försök igen.", self.limit.per_sec),
                )
                .into_poem_response();
                resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                return Ok(resp);
            }
            // Forget idle clients now and then so the table stays small.
            if limiter.len() > 10_000 {
                limiter.retain_recent();
            }
        }
        Ok(self.inner.call(req).await?.into_response())
    }
}

/// Headers every response carries.
pub struct SecurityHeaders;

impl<E: Endpoint> Middleware<E> for SecurityHeaders {
    type Output = SecurityHeadersEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        SecurityHeadersEndpoint(ep)
    }
}

pub struct SecurityHeadersEndpoint<E>(E);

impl<E: Endpoint> Endpoint for SecurityHeadersEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        let mut resp = self.0.call(req).await?.into_response();
        let h = resp.headers_mut();
        h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
        h.insert("referrer-policy", HeaderValue::from_static("strict-origin-when-cross-origin"));
        Ok(resp)
    }
}

/// CORS for what anyone may read: a GET of the public API (`/api/v1/…`
/// without an `Authorization` header) or a feed answers any origin, without
/// credentials. Nothing else gets a CORS header, so no other origin can read
/// an authenticated answer or a page with a session; and no preflight is
/// answered, so no other origin can send a write. The embed sets its own
/// (an employer may restrict it to its own sites).
pub struct PublicCors;

impl<E: Endpoint> Middleware<E> for PublicCors {
    type Output = PublicCorsEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        PublicCorsEndpoint(ep)
    }
}

pub struct PublicCorsEndpoint<E>(E);

impl<E: Endpoint> Endpoint for PublicCorsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        let public = matches!(*req.method(), Method::GET | Method::HEAD)
            && !req.headers().contains_key(header::AUTHORIZATION)
            && (req.uri().path().starts_with("/api/v1/") || req.uri().path().starts_with("/feeds/"));
        let mut resp = self.0.call(req).await?.into_response();
        let h = resp.headers_mut();
        if public {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        }
        h.remove(header::ACCESS_CONTROL_ALLOW_CREDENTIALS);
        Ok(resp)
    }
}

/// One structured log line per request: method, path (never the query, which
/// may hold personal data), status and duration.
/// Logs each request and counts it in the metrics, by route template.
pub struct AccessLog {
    metrics: Arc<platsen_app::metrics::Metrics>,
    /// poem-openapi's route patterns (`/api/v1/jobs/:param0`) with the
    /// spec's templates (`/api/v1/jobs/{id}`), what an operator recognises.
    labels: Arc<std::collections::HashMap<String, String>>,
}

impl AccessLog {
    /// `spec` is the OpenAPI document as JSON, its paths served under `prefix`.
    pub fn new(metrics: Arc<platsen_app::metrics::Metrics>, spec: &serde_json::Value, prefix: &str) -> Self {
        let labels = spec["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(path, _)| {
                let mut n = 0;
                let poem: Vec<String> = path
                    .split('/')
                    .map(|s| {
                        if s.starts_with('{') && s.ends_with('}') {
                            n += 1;
                            format!(":param{}", n - 1)
                        } else {
                            s.to_owned()
                        }
                    })
                    .collect();
                (format!("{prefix}{}", poem.join("/")), format!("{prefix}{path}"))
            })
            .collect();
        AccessLog { metrics, labels: Arc::new(labels) }
    }
}

impl<E: Endpoint> Middleware<E> for AccessLog {
    type Output = AccessLogEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        AccessLogEndpoint(ep, self.metrics.clone(), self.labels.clone())
    }
}

pub struct AccessLogEndpoint<E>(E, Arc<platsen_app::metrics::Metrics>, Arc<std::collections::HashMap<String, String>>);

/// A method as a label: the standard ones by name, anything else as one
/// value (the label set must not grow with what clients send).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

impl<E: Endpoint> Endpoint for AccessLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        let start = Instant::now();
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let resp = self.0.call(req).await?.into_response();
        let status = resp.status().as_u16();
        let elapsed = start.elapsed();
        let micros = elapsed.as_micros() as u64;
        // The route template poem matched; a path nothing matched is one value.
        let route =
            resp.data::<poem::PathPattern>().map_or("unmatched", |p| self.2.get(&*p.0).map_or(&*p.0, String::as_str));
        self.1.request(method_label(&method), route, status, elapsed.as_secs_f64());
        if status >= 500 {
            tracing::error!(%method, %path, status, micros, "request");
        } else {
            tracing::debug!(%method, %path, status, micros, "request");
        }
        Ok(resp)
    }
}

/// A micro-cache of public (unauthenticated) GET responses under `/api/v1/`.
///
/// An entry is served only while nothing has been written through this
/// process's store since it was made (exact for one process) and for at most
/// [`ResponseCache::TTL_SECS`] on the application clock (which bounds how
/// late a write by another process, or an expiry, shows). The ETag is
/// computed once, when the entry is made.
///
/// Anyone can ask for any URL, so the cache must not grow with what is
/// asked: it is keyed by the path and only the query parameters the
/// operation declares in the OpenAPI spec (sorted), so `?cb=<n>` cache
/// busters share one entry; it holds at most [`ResponseCache::MAX_BYTES`]
/// of answers (the oldest go first) and no answer over
/// [`ResponseCache::MAX_ENTRY_BYTES`]; and expired entries are dropped every
/// second, with or without traffic.
pub struct ResponseCache {
    state: crate::AppState,
    inner: Arc<CacheInner>,
}

struct CacheInner {
    /// The public GET operations' path templates and query parameters.
    routes: Vec<RouteShape>,
    entries: std::sync::RwLock<Entries>,
    /// One gate per key being computed: concurrent misses of one URL wait
    /// for the first to finish and take its answer.
    computing: std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// An operation's path, split at `/` (`None` for a `{parameter}`), and the
/// names of its query parameters.
struct RouteShape {
    segments: Vec<Option<String>>,
    query: Vec<String>,
}

#[derive(Default)]
struct Entries {
    map: std::collections::HashMap<String, Arc<CachedResponse>>,
    /// Keys in the order they were stored, with the sequence number of the
    /// entry stored then (a key stored again has a newer one).
    order: std::collections::VecDeque<(String, u64)>,
    bytes: usize,
    seq: u64,
}

pub struct CachedResponse {
    body: bytes::Bytes,
    /// The handler's headers (content type, X-Search-Engine…) and the ETag.
    headers: poem::http::HeaderMap,
    /// The route it answered, for the metrics.
    pattern: Option<poem::PathPattern>,
    generation: u64,
    made_at: chrono::DateTime<chrono::Utc>,
    seq: u64,
    /// What the entry costs: body, key and headers.
    size: usize,
}

impl ResponseCache {
    pub const TTL_SECS: i64 = 1;
    /// The most the cached answers may hold together.
    pub const MAX_BYTES: usize = 32 * 1024 * 1024;
    /// Larger answers are not cached.
    pub const MAX_ENTRY_BYTES: usize = 2 * 1024 * 1024;
    const MAX_ENTRIES: usize = 20_000;

    /// A cache for the operations of `spec` (the OpenAPI document as JSON,
    /// served under `/api`). Starts a task that drops expired entries.
    pub fn new(state: crate::AppState, spec: &str) -> Self {
        let inner = Arc::new(CacheInner {
            routes: route_shapes(spec),
            entries: Default::default(),
            computing: Default::default(),
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (weak, clock) = (Arc::downgrade(&inner), state.app.clock.clone());
            runtime.spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
                loop {
                    tick.tick().await;
                    let Some(inner) = weak.upgrade() else { return };
                    inner.entries.write().expect("cache lock").drop_expired(clock.now());
                }
            });
        }
        ResponseCache { state, inner }
    }
}

/// The GET operations of an OpenAPI document: path templates and query parameters.
fn route_shapes(spec: &str) -> Vec<RouteShape> {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(spec) else { return Vec::new() };
    let Some(paths) = doc["paths"].as_object() else { return Vec::new() };
    paths
        .iter()
        .filter_map(|(path, item)| {
            let get = item.get("get")?;
            let query = get["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "query")
                        .filter_map(|p| p["name"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let segments = format!("/api{path}")
                .split('/')
                .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_owned()))
                .collect();
            Some(RouteShape { segments, query })
        })
        .collect()
}

impl CacheInner {
    /// The cache key of a request: its path and the query parameters its
    /// operation declares, sorted; `None` when no public GET operation has
    /// that path.
    fn key(&self, path: &str, query: Option<&str>) -> Option<String> {
        let parts: Vec<&str> = path.split('/').collect();
        let shape = self
            .routes
            .iter()
            .filter(|r| {
                r.segments.len() == parts.len()
                    && r.segments.iter().zip(&parts).all(|(s, p)| s.as_deref().is_none_or(|s| s == *p))
            })
            // A literal segment wins over a parameter (`/jobs/search` over `/jobs/{id}`).
            .max_by_key(|r| r.segments.iter().filter(|s| s.is_some()).count())?;
        let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .filter(|(name, _)| shape.query.iter().any(|q| q == name))
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        pairs.sort();
        let mut key = url::form_urlencoded::Serializer::for_suffix(format!("{path}?"), path.len() + 1);
        key.extend_pairs(pairs);
        Some(key.finish())
    }
}

impl Entries {
    fn get(&self, key: &str) -> Option<Arc<CachedResponse>> {
        self.map.get(key).cloned()
    }

    fn insert(&mut self, key: String, mut entry: CachedResponse) {
        self.drop_expired(entry.made_at);
        self.seq += 1;
        entry.seq = self.seq;
        entry.size = entry.body.len()
            + 2 * key.len()
            + entry.headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 32).sum::<usize>()
            + 128;
        self.bytes += entry.size;
        self.order.push_back((key.clone(), entry.seq));
        if let Some(old) = self.map.insert(key, Arc::new(entry)) {
            self.bytes -= old.size;
        }
        while self.bytes > ResponseCache::MAX_BYTES || self.map.len() > ResponseCache::MAX_ENTRIES {
            if !self.pop_oldest() {
                break;
            }
        }
    }

    /// Forgets the oldest stored entry; `false` when there is none.
    fn pop_oldest(&mut self) -> bool {
        let Some((key, seq)) = self.order.pop_front() else { return false };
        if self.map.get(&key).is_some_and(|e| e.seq == seq)
            && let Some(e) = self.map.remove(&key)
        {
            self.bytes -= e.size;
        }
        true
    }

    /// Forgets the entries older than the time to live (in storage order,
    /// so this stops at the first fresh one).
    fn drop_expired(&mut self, now: chrono::DateTime<chrono::Utc>) {
        while let Some((key, seq)) = self.order.front() {
            let fresh = match self.map.get(key) {
                Some(e) if e.seq == *seq => {
                    (now - e.made_at).num_seconds() < ResponseCache::TTL_SECS && now >= e.made_at
                }
                // Replaced or gone: its place in the queue is stale.
                _ => false,
            };
            if fresh {
                break;
            }
            let _ = seq;
            self.pop_oldest();
        }
        if self.order.len() > 2 * self.map.len() + 64 {
            // Stale queue places of replaced keys add up under churn.
            let map = &self.map;
            self.order.retain(|(k, s)| map.get(k).is_some_and(|e| e.seq == *s));
        }
    }
}

impl<E: Endpoint> Middleware<E> for ResponseCache {
    type Output = ResponseCacheEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        ResponseCacheEndpoint { inner: ep, state: self.state.clone(), cache: self.inner.clone() }
    }
}

pub struct ResponseCacheEndpoint<E> {
    inner: E,
    state: crate::AppState,
    cache: Arc<CacheInner>,
}

fn etag_of(body: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(body);
    HeaderValue::from_str(&format!("\"{}\"", hex::encode(&digest[..12]))).expect("hex is a valid header value")
}

impl<E: Endpoint> Endpoint for ResponseCacheEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        let cacheable = req.method() == Method::GET
            && !req.headers().contains_key(header::AUTHORIZATION)
            && req.uri().path().starts_with("/api/v1/")
            // The salary a reader compares is not kept, not even here.
            && req.uri().path() != "/api/v1/salaries/compare";
        let key = if cacheable { self.cache.key(req.uri().path(), req.uri().query()) } else { None };
        let Some(key) = key else {
            return Ok(self.inner.call(req).await?.into_response());
        };
        let generation = self.state.app.store.generation();
        let metrics = &self.state.app.metrics;
        if let Some(resp) = self.cached(&key, generation) {
            platsen_app::metrics::Metrics::count(&metrics.cache, "hit");
            return Ok(resp);
        }
        // A miss: the first request for the key computes it, the others
        // wait for it and then find its answer.
        let gate = self.cache.computing.lock().expect("cache lock").entry(key.clone()).or_default().clone();
        let computed = {
            let _turn = gate.lock().await;
            match self.cached(&key, generation) {
                Some(resp) => {
                    platsen_app::metrics::Metrics::count(&metrics.cache, "hit");
                    Ok(resp)
                }
                None => {
                    platsen_app::metrics::Metrics::count(&metrics.cache, "miss");
                    self.compute(req, key.clone(), generation).await
                }
            }
        };
        {
            let mut computing = self.cache.computing.lock().expect("cache lock");
            // Only the map and this request hold the gate: nobody waits.
            if Arc::strong_count(&gate) <= 2 {
                computing.remove(&key);
            }
        }
        computed
    }
}

impl<E: Endpoint> ResponseCacheEndpoint<E> {
    /// The stored answer for `key`, if it is still good: nothing written
    /// since (`generation`) and younger than the time to live.
    fn cached(&self, key: &str, generation: u64) -> Option<Response> {
        let now = self.state.app.clock.now();
        let entry = self.cache.entries.read().expect("cache lock").get(key)?;
        if entry.generation != generation
            || (now - entry.made_at).num_seconds() >= ResponseCache::TTL_SECS
            || now < entry.made_at
        {
            return None;
        }
        let mut resp = Response::builder().status(StatusCode::OK).body(entry.body.clone());
        *resp.headers_mut() = entry.headers.clone();
        if let Some(p) = &entry.pattern {
            resp.set_data(p.clone());
        }
        Some(resp)
    }

    /// Answers the request and stores the answer, stamped with the time it
    /// was ready (so an answer that took long is not stored already old).
    async fn compute(&self, req: Request, key: String, generation: u64) -> Result<Response> {
        let mut resp = self.inner.call(req).await?.into_response();
        if resp.status() != StatusCode::OK {
            return Ok(resp);
        }
        let body = resp.take_body().into_bytes().await?;
        let etag = etag_of(&body);
        resp.headers_mut().insert(header::ETAG, etag);
        if body.len() <= ResponseCache::MAX_ENTRY_BYTES {
            let mut headers = resp.headers().clone();
            headers.remove(header::DATE);
            let made_at = self.state.app.clock.now();
            let pattern = resp.data::<poem::PathPattern>().cloned();
            let entry = CachedResponse { body: body.clone(), headers, pattern, generation, made_at, seq: 0, size: 0 };
            self.cache.entries.write().expect("cache lock").insert(key, entry);
        }
        resp.set_body(body);
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> CacheInner {
        let spec = serde_json::json!({ "paths": {
            "/v1/jobs": { "get": { "parameters": [
                { "name": "role", "in": "query" }, { "name": "page", "in": "query" } ] } },
            "/v1/jobs/search": { "get": { "parameters": [ { "name": "q", "in": "query" } ] } },
            "/v1/jobs/{id_or_slug}": { "get": { "parameters": [ { "name": "id_or_slug", "in": "path" } ] } },
            "/v1/jobs/{id}/publish": { "post": {} },
        }});
        CacheInner {
            routes: route_shapes(&spec.to_string()),
            entries: Default::default(),
            computing: Default::default(),
        }
    }

    #[test]
    fn the_key_holds_only_declared_parameters_in_order() {
        let c = cache();
        assert_eq!(
            c.key("/api/v1/jobs", Some("page=2&cb=1&role=upphandlare")),
            c.key("/api/v1/jobs", Some("role=upphandlare&page=2&cb=99"))
        );
        assert_ne!(c.key("/api/v1/jobs", Some("page=2")), c.key("/api/v1/jobs", Some("page=3")));
        assert_eq!(c.key("/api/v1/jobs/search", Some("q=a+b&x=1")).unwrap(), "/api/v1/jobs/search?q=a+b");
        assert_eq!(c.key("/api/v1/jobs/nacka-1", Some("q=x")).unwrap(), "/api/v1/jobs/nacka-1?");
        assert_eq!(c.key("/api/v1/nothing", None), None);
        assert_eq!(c.key("/api/v1/jobs/1/publish", None), None, "not a GET operation");
    }

    fn entry(bytes: usize, at: chrono::DateTime<chrono::Utc>) -> CachedResponse {
        CachedResponse {
            body: bytes::Bytes::from(vec![b'x'; bytes]),
            headers: Default::default(),
            pattern: None,
            generation: 0,
            made_at: at,
            seq: 0,
            size: 0,
        }
    }

    #[test]
    fn the_cache_holds_at_most_its_byte_budget_and_drops_the_oldest_first() {
        let now = chrono::Utc::now();
        let mut e = Entries::default();
        let n = 3 * ResponseCache::MAX_BYTES / 100_000;
        for i in 0..n {
            e.insert(format!("/k{i}"), entry(100_000, now));
            assert!(e.bytes <= ResponseCache::MAX_BYTES);
        }
        assert!(e.map.len() < n / 2);
        assert!(e.get(&format!("/k{}", n - 1)).is_some(), "the newest stays");
        assert!(e.get("/k0").is_none(), "the oldest went first");
        assert_eq!(e.bytes, e.map.values().map(|v| v.size).sum::<usize>());
    }

    #[test]
    fn expired_entries_are_dropped() {
        let now = chrono::Utc::now();
        let mut e = Entries::default();
        for i in 0..100 {
            e.insert(format!("/k{i}"), entry(1000, now));
        }
        e.insert("/k0".into(), entry(1000, now)); // stored again: one entry
        assert_eq!(e.map.len(), 100);
        e.drop_expired(now + chrono::Duration::seconds(ResponseCache::TTL_SECS));
        assert!(e.map.is_empty() && e.bytes == 0 && e.order.is_empty());
    }

    /// An endpoint that counts its calls, takes 300 ms and moves the
    /// application clock two seconds on meanwhile (a slow answer).
    struct Slow {
        calls: Arc<std::sync::atomic::AtomicUsize>,
        clock: platsen_app::Clock,
    }

    impl Endpoint for Slow {
        type Output = Response;
        async fn call(&self, _req: Request) -> Result<Response> {
            self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            self.clock.advance(chrono::Duration::seconds(2));
            Ok(Response::builder().content_type("application/json").body("{}"))
        }
    }

    #[tokio::test]
    async fn concurrent_misses_compute_once_and_a_slow_answer_is_stored_fresh() {
        let store = platsen_jobs::Store::connect("sqlite::memory:").await.unwrap();
        let clock = platsen_app::Clock::default();
        let state = crate::AppState::new(platsen_app::App::new(store, clock.clone(), "http://127.0.0.1"), None, false);
        let spec = serde_json::json!({ "paths": { "/v1/jobs/search": { "get": { "parameters": [
            { "name": "q", "in": "query" } ] } } } });
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let ep = Arc::new(
            ResponseCache::new(state, &spec.to_string()).transform(Slow { calls: calls.clone(), clock: clock.clone() }),
        );
        let get = |ep: Arc<ResponseCacheEndpoint<Slow>>| async move {
            let req = Request::builder().uri(poem::http::Uri::from_static("/api/v1/jobs/search?q=inkop")).finish();
            ep.call(req).await.unwrap().status()
        };
        let tasks: Vec<_> = (0..8).map(|_| tokio::spawn(get(ep.clone()))).collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), StatusCode::OK);
        }
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1, "eight concurrent misses, one computation");
        // The answer took "two seconds" and is served for the time to live
        // from when it was ready.
        assert_eq!(get(ep.clone()).await, StatusCode::OK);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1, "the slow answer was stored fresh");
        assert!(ep.cache.computing.lock().unwrap().is_empty(), "no gate is left behind");
    }
}
