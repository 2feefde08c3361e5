//! Errors of the jobs domain. The api crate maps each variant to one HTTP
//! status; nothing here knows about HTTP.

use std::fmt;

/// One invalid field: which one, a stable machine code, and a Swedish message
/// that can be shown next to the field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self { field: field.into(), code, message: message.into() }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.message, self.code)
    }
}

/// Collects field errors so a client learns about every problem at once.
#[derive(Debug, Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn push(&mut self, field: impl Into<String>, code: &'static str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, code, message));
    }

    /// Records the error of a parse and gives back the value, if any.
    pub fn take<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, Error> {
        if self.0.is_empty() { Ok(value()) } else { Err(Error::Invalid(self.0)) }
    }
}

/// What can go wrong in the jobs domain.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more fields are invalid; nothing was stored.
    #[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The thing does not exist, or the caller may not know that it exists.
    #[error("not found")]
    NotFound,
    /// The caller knows the thing exists but may not do this to it.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The request conflicts with the current state (a unique value taken, a
    /// lifecycle step that is not allowed from the current status, or a
    /// concurrent change).
    #[error("conflict: {message}")]
    Conflict { code: &'static str, field: Option<&'static str>, message: String },
    /// Publishing needs an ad credit and the employer has none left.
    #[error("no credit: {0}")]
    NoCredit(String),
    /// The database failed; details are logged, never shown.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl Error {
    pub fn invalid(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid(vec![FieldError::new(field, code, message)])
    }

    /// Whether the database could not be reached (as opposed to a query failing).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Error::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed | sqlx::Error::Tls(_)
            )
        )
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Error::Conflict { code, field: None, message: message.into() }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
