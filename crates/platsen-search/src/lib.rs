//! Everything that knows Meilisearch: the document an ad becomes, the index
//! settings, queries, and the worker that keeps the index in step with SQL
//! through the transactional outbox.
//!
//! *Architecture invariant:* no other crate talks to Meilisearch, and no
//! filter expression here contains text a user typed: filter values are
//! codes and numbers validated upstream, and quoted with escaping anyway.
//!
//! meilisearch-sdk sets no HTTP timeout, reports a failed task as
//! `Ok(Task::Failed)`, and waits 5 s by default; every call here is wrapped
//! in a timeout and every task is waited for and checked.

mod document;
mod engine;
mod http;
mod maintenance;
mod sync;

pub use document::JobDocument;
pub use engine::{MeiliConfig, MeiliEngine};
pub use maintenance::Drift;
pub use sync::{SyncStatus, run_worker};

/// What can go wrong talking to Meilisearch.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Meilisearch did not answer in time or could not be reached.
    #[error("meilisearch unreachable: {0}")]
    Unreachable(String),
    /// The index does not exist (yet).
    #[error("meilisearch index not found")]
    IndexNotFound,
    /// Meilisearch refused the request itself (retrying will not help).
    #[error("meilisearch rejected the request: {0}")]
    Rejected(String),
    /// Meilisearch failed on its side (retrying may help).
    #[error("meilisearch failed: {0}")]
    Failed(String),
    #[error(transparent)]
    Store(#[from] platsen_jobs::Error),
}

impl Error {
    /// Whether a retry can succeed.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Error::Rejected(_))
    }
}

impl From<meilisearch_sdk::errors::Error> for Error {
    fn from(e: meilisearch_sdk::errors::Error) -> Self {
        use meilisearch_sdk::errors::{Error as E, ErrorType};
        match e {
            E::Meilisearch(m) if m.error_code == meilisearch_sdk::errors::ErrorCode::IndexNotFound => {
                Error::IndexNotFound
            }
            E::Meilisearch(m) if m.error_type == ErrorType::InvalidRequest => Error::Rejected(m.error_message),
            E::Meilisearch(m) => Error::Failed(m.error_message),
            E::Timeout => Error::Unreachable("timed out waiting for a task".into()),
            other => Error::Unreachable(other.to_string()),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
