//! What the JSON API and the pages share: errors as problem+json, reading
//! request bodies, and the middleware around every request (response cache,
//! conditional GET, rate limit, CORS, security headers, access log).

pub mod body;
pub(crate) mod middleware;
pub mod problem;
