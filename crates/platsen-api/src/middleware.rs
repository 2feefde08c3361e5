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

use crate::problem::Problem;

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
}

impl RateLimit {
    pub fn new(per_sec: u32) -> Self {
        let limiter = NonZeroU32::new(per_sec).map(|rate| {
            let burst = NonZeroU32::new(per_sec.saturating_mul(5)).expect("non-zero");
            Arc::new(RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)))
        });
        RateLimit { limiter, per_sec }
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
        if let (Some(limiter), Some(addr)) = (&self.limit.limiter, req.remote_addr().as_socket_addr()) {
            if limiter.check_key(&addr.ip()).is_err() {
                tracing::warn!(client = %addr.ip(), "rate limited");
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
pub struct AccessLog;

impl<E: Endpoint> Middleware<E> for AccessLog {
    type Output = AccessLogEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        AccessLogEndpoint(ep)
    }
}

pub struct AccessLogEndpoint<E>(E);

impl<E: Endpoint> Endpoint for AccessLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        let start = Instant::now();
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let resp = self.0.call(req).await?.into_response();
        let status = resp.status().as_u16();
        let micros = start.elapsed().as_micros() as u64;
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
pub struct ResponseCache {
    state: crate::AppState,
    entries: Arc<std::sync::RwLock<std::collections::HashMap<String, Arc<CachedResponse>>>>,
}

pub struct CachedResponse {
    body: bytes::Bytes,
    /// The handler's headers (content type, X-Search-Engine…) and the ETag.
    headers: poem::http::HeaderMap,
    generation: u64,
    made_at: chrono::DateTime<chrono::Utc>,
}

impl ResponseCache {
    pub const TTL_SECS: i64 = 1;
    const MAX_ENTRIES: usize = 20_000;

    pub fn new(state: crate::AppState) -> Self {
        ResponseCache { state, entries: Arc::default() }
    }
}

impl<E: Endpoint> Middleware<E> for ResponseCache {
    type Output = ResponseCacheEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        ResponseCacheEndpoint { inner: ep, state: self.state.clone(), entries: self.entries.clone() }
    }
}

pub struct ResponseCacheEndpoint<E> {
    inner: E,
    state: crate::AppState,
    entries: Arc<std::sync::RwLock<std::collections::HashMap<String, Arc<CachedResponse>>>>,
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
        if !cacheable {
            return Ok(self.inner.call(req).await?.into_response());
        }
        let key = req.uri().path_and_query().map_or_else(|| req.uri().path().to_owned(), |pq| pq.as_str().to_owned());
        let now = self.state.clock.now();
        let generation = self.state.store.generation();
        let hit = self.entries.read().expect("cache lock").get(&key).cloned();
        if let Some(entry) = hit
            && entry.generation == generation
            && (now - entry.made_at).num_seconds() < ResponseCache::TTL_SECS
            && now >= entry.made_at
        {
            let mut resp = Response::builder().status(StatusCode::OK).body(entry.body.clone());
            *resp.headers_mut() = entry.headers.clone();
            return Ok(resp);
        }
        let mut resp = self.inner.call(req).await?.into_response();
        if resp.status() != StatusCode::OK {
            return Ok(resp);
        }
        let body = resp.take_body().into_bytes().await?;
        let etag = etag_of(&body);
        resp.headers_mut().insert(header::ETAG, etag);
        let mut headers = resp.headers().clone();
        headers.remove(header::DATE);
        let entry = Arc::new(CachedResponse { body: body.clone(), headers, generation, made_at: now });
        {
            let mut entries = self.entries.write().expect("cache lock");
            if entries.len() >= ResponseCache::MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key, entry);
        }
        resp.set_body(body);
        Ok(resp)
    }
}
