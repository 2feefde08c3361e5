//! The HTTP client meilisearch-sdk talks through.
//!
//! The SDK's own reqwest client sends every request body as a stream read
//! through a freshly zeroed 8 MiB buffer (`ReaderStream::new` in 0.33): a
//! search spends most of its client-side time in `memset`, and every request
//! goes out chunked. This client sends the serialized body in one piece with
//! its length, and is otherwise the SDK's: the same headers, the same
//! response parsing.

use async_trait::async_trait;
use futures_util::AsyncReadExt;
use meilisearch_sdk::errors::Error;
use meilisearch_sdk::request::{HttpClient, Method, parse_response};
use reqwest::header;
use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Clone, Debug)]
pub(crate) struct Http {
    client: reqwest::Client,
}

impl Http {
    pub(crate) fn new(api_key: &str) -> Result<Http, Error> {
        let mut headers = header::HeaderMap::new();
        headers.insert(
            header::USER_AGENT,
            header::HeaderValue::from_static(concat!("platsen/", env!("CARGO_PKG_VERSION"))),
        );
        let mut auth =
            header::HeaderValue::from_str(&format!("Bearer {api_key}")).map_err(|e| Error::Other(Box::new(e)))?;
        auth.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, auth);
        let client = reqwest::Client::builder().default_headers(headers).build()?;
        Ok(Http { client })
    }

    async fn send<Q: Serialize + Send + Sync, B, O: DeserializeOwned>(
        &self,
        url: &str,
        method: Method<Q, B>,
        body: Option<(Vec<u8>, &str)>,
        expected_status_code: u16,
    ) -> Result<O, Error> {
        let query = yaup::to_string(method.query())?;
        let url = if query.is_empty() { url.to_owned() } else { format!("{url}{query}") };
        let verb = match method {
            Method::Get { .. } => reqwest::Method::GET,
            Method::Delete { .. } => reqwest::Method::DELETE,
            Method::Post { .. } => reqwest::Method::POST,
            Method::Put { .. } => reqwest::Method::PUT,
            Method::Patch { .. } => reqwest::Method::PATCH,
        };
        let mut request = self.client.request(verb, &url);
        if let Some((bytes, content_type)) = body {
            request = request.header(header::CONTENT_TYPE, content_type).body(bytes);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        let text = if text.is_empty() { "null" } else { &text };
        parse_response(status, expected_status_code, text, url)
    }
}

#[async_trait]
impl HttpClient for Http {
    async fn request<Query, Body, Output>(
        &self,
        url: &str,
        method: Method<Query, Body>,
        expected_status_code: u16,
    ) -> Result<Output, Error>
    where
        Query: Serialize + Send + Sync,
        Body: Serialize + Send + Sync,
        Output: DeserializeOwned + 'static + Send,
    {
        let body = match method.body() {
            Some(b) => Some((serde_json::to_vec(b)?, "application/json")),
            None => None,
        };
        self.send(url, method, body, expected_status_code).await
    }

    async fn stream_request<
        Query: Serialize + Send + Sync,
        Body: futures_util::AsyncRead + Send + Sync + 'static,
        Output: DeserializeOwned + 'static,
    >(
        &self,
        url: &str,
        method: Method<Query, Body>,
        content_type: &str,
        expected_status_code: u16,
    ) -> Result<Output, Error> {
        let (method, body) = split(method);
        let bytes = match body {
            Some(body) => {
                let mut bytes = Vec::new();
                std::pin::pin!(body).read_to_end(&mut bytes).await.map_err(|e| Error::Other(Box::new(e)))?;
                Some((bytes, content_type))
            }
            None => None,
        };
        self.send(url, method, bytes, expected_status_code).await
    }

    fn is_tokio(&self) -> bool {
        true
    }
}

/// The method without its body, and the body.
fn split<Q, B>(method: Method<Q, B>) -> (Method<Q, ()>, Option<B>) {
    match method {
        Method::Get { query } => (Method::Get { query }, None),
        Method::Delete { query } => (Method::Delete { query }, None),
        Method::Post { query, body } => (Method::Post { query, body: () }, Some(body)),
        Method::Put { query, body } => (Method::Put { query, body: () }, Some(body)),
        Method::Patch { query, body } => (Method::Patch { query, body: () }, Some(body)),
    }
}
