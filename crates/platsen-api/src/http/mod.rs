//! The plumbing under the JSON API and the pages: errors as problem+json,
//! reading request bodies, the middleware around every request (response
//! cache, conditional GET, rate limit, CORS, security headers, access log),
//! the API's bearer-token scheme, the pages' sessions, CSRF tokens and
//! forms, their layout, and `Allow` on 405. Nothing here calls a handler.

/// The value of a `Result<T, Response>`, or an early return of the page.
macro_rules! try_page {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(page) => return page,
        }
    };
}

pub mod allow;
pub mod auth;
pub mod body;
pub mod client;
pub(crate) mod middleware;
pub(crate) mod page;
pub mod problem;
pub(crate) mod session;
