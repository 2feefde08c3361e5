//! `405 Method Not Allowed` with the `Allow` header RFC 9110 (§15.5.6)
//! requires. poem's `RouteMethod` answers 405 without saying which methods
//! the resource takes, so the pages route through [`Methods`], which knows
//! them, and the API's 405s are given the methods its spec lists for the path
//! ([`SpecMethods`]).

use poem::error::ResponseError;
use poem::http::{Method, StatusCode};
use poem::{Endpoint, IntoEndpoint, Request, Response, RouteMethod};

/// A 405 that knows what the resource takes.
#[derive(Debug, thiserror::Error)]
#[error("method not allowed; allowed: {allow}")]
pub struct MethodNotAllowed {
    /// The value of `Allow`, e.g. `GET, HEAD, POST`.
    pub allow: String,
}

impl ResponseError for MethodNotAllowed {
    fn status(&self) -> StatusCode {
        StatusCode::METHOD_NOT_ALLOWED
    }
}

/// `Allow`'s value for these methods; `HEAD` goes with `GET` (poem answers
/// it from the `GET` endpoint).
fn allow_value(methods: &[Method]) -> String {
    let mut names: Vec<&str> = methods.iter().map(Method::as_str).collect();
    if methods.contains(&Method::GET) && !methods.contains(&Method::HEAD) {
        names.push("HEAD");
    }
    names.join(", ")
}

/// poem's `RouteMethod`, with the methods it routes remembered.
pub struct Methods {
    inner: RouteMethod,
    methods: Vec<Method>,
}

impl Methods {
    fn new() -> Self {
        Methods { inner: RouteMethod::new(), methods: Vec::new() }
    }

    pub fn method<E>(mut self, method: Method, ep: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        self.inner = self.inner.method(method.clone(), ep);
        self.methods.push(method);
        self
    }

    pub fn get<E>(self, ep: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        self.method(Method::GET, ep)
    }

    pub fn post<E>(self, ep: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        self.method(Method::POST, ep)
    }
}

/// A resource that takes `GET` (and `HEAD`).
pub fn get<E>(ep: E) -> Methods
where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    Methods::new().get(ep)
}

/// A resource that takes `POST`.
pub fn post<E>(ep: E) -> Methods
where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    Methods::new().post(ep)
}

impl Endpoint for Methods {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        self.inner.call(req).await.map_err(|e| {
            if e.status() == StatusCode::METHOD_NOT_ALLOWED {
                MethodNotAllowed { allow: allow_value(&self.methods) }.into()
            } else {
                e
            }
        })
    }
}

/// The methods of every path in the OpenAPI spec, to answer the API's 405s.
#[derive(Debug, Clone, Default)]
pub struct SpecMethods(Vec<(Vec<Segment>, Vec<Method>)>);

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    /// `{name}`: any one segment.
    Param,
}

impl SpecMethods {
    /// Reads `paths` of `spec`; each path is served under `prefix`.
    pub fn from_spec(spec: &serde_json::Value, prefix: &str) -> Self {
        let mut table = Vec::new();
        for (path, item) in spec["paths"].as_object().into_iter().flatten() {
            let methods: Vec<Method> = item
                .as_object()
                .into_iter()
                .flat_map(|ops| ops.keys())
                .filter_map(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
                .collect();
            let segments = split(&format!("{prefix}{path}"))
                .map(|s| {
                    if s.starts_with('{') && s.ends_with('}') { Segment::Param } else { Segment::Literal(s.to_owned()) }
                })
                .collect();
            table.push((segments, methods));
        }
        SpecMethods(table)
    }

    /// `Allow` for a request path, if the spec has the path. A literal
    /// segment wins over a parameter (`/jobs/search` is not `/jobs/{id}`).
    pub fn allow(&self, path: &str) -> Option<String> {
        let parts: Vec<&str> = split(path).collect();
        let params = |segs: &[Segment]| segs.iter().filter(|s| **s == Segment::Param).count();
        let matches: Vec<_> = self
            .0
            .iter()
            .filter(|(segs, _)| {
                segs.len() == parts.len()
                    && segs.iter().zip(&parts).all(|(s, p)| match s {
                        Segment::Literal(l) => l == p,
                        Segment::Param => !p.is_empty(),
                    })
            })
            .collect();
        let fewest = matches.iter().map(|(segs, _)| params(segs)).min()?;
        let methods: Vec<Method> = matches
            .into_iter()
            .filter(|(segs, _)| params(segs) == fewest)
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect();
        Some(allow_value(&methods))
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.trim_matches('/').split('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_says_what_each_path_takes() {
        let spec = serde_json::json!({"paths": {
            "/v1/jobs": {"get": {}, "post": {}},
            "/v1/jobs/{id}": {"patch": {}, "delete": {}},
            "/v1/jobs/search": {"get": {}},
        }});
        let table = SpecMethods::from_spec(&spec, "/api");
        assert_eq!(table.allow("/api/v1/jobs").as_deref(), Some("GET, POST, HEAD"));
        assert_eq!(table.allow("/api/v1/jobs/search").as_deref(), Some("GET, HEAD"));
        assert_eq!(table.allow("/api/v1/jobs/17").as_deref(), Some("DELETE, PATCH"));
        assert_eq!(table.allow("/api/v1/nothing"), None);
    }
}
