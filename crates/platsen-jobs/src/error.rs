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

    /// Whether the database could not be reached (as opposed to a query
    /// failing): no connection in time, a connection that broke (also in
    /// the middle of its startup, when the server went away: a protocol
    /// error), or PostgreSQL refusing sessions while it shuts down or starts
    /// (class 57P: admin_shutdown, crash_shutdown, cannot_connect_now).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Database(
                sqlx::Error::PoolTimedOut
                | sqlx::Error::Io(_)
                | sqlx::Error::PoolClosed
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_),
            ) => true,
            Error::Database(sqlx::Error::Database(d)) => d.code().is_some_and(|c| c.starts_with("57P")),
            _ => false,
        }
    }

    /// Whether the disk is full: SQLite's `SQLITE_FULL` (13), PostgreSQL's
    /// `disk_full` (53100). Reads still work; writes fail until space is
    /// freed, and each failed write has changed nothing (rolled back).
    pub fn is_storage_full(&self) -> bool {
        match self {
            Error::Database(sqlx::Error::Database(d)) => matches!(d.code().as_deref(), Some("13" | "53100")),
            _ => false,
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Error::Conflict { code, field: None, message: message.into() }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    /// A database's error with a given code, as a driver reports it.
    #[derive(Debug)]
    struct Coded(&'static str);

    impl std::fmt::Display for Coded {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "error {}", self.0)
        }
    }

    impl std::error::Error for Coded {}

    impl sqlx::error::DatabaseError for Coded {
        fn message(&self) -> &str {
            "database or disk is full"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    #[test]
    fn a_full_disk_and_a_database_going_away_are_told_apart() {
        let full = |code| Error::Database(sqlx::Error::Database(Box::new(Coded(code))));
        assert!(full("13").is_storage_full(), "SQLITE_FULL");
        assert!(full("53100").is_storage_full(), "PostgreSQL's disk_full");
        assert!(!full("23505").is_storage_full(), "a unique violation is not");
        assert!(!full("13").is_unavailable());
        assert!(full("57P01").is_unavailable(), "terminating connection due to administrator command");
        assert!(full("57P03").is_unavailable(), "the database system is shutting down");
        assert!(!full("23505").is_unavailable());
        assert!(Error::Database(sqlx::Error::Protocol("unexpected end".into())).is_unavailable());
        assert!(!Error::Database(sqlx::Error::PoolTimedOut).is_storage_full());
    }
}
