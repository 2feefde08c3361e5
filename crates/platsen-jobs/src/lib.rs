//! Employers and job ads: the domain rules, the lifecycle, and storage on
//! SQLite and PostgreSQL.
//!
//! *Architecture invariant:* this crate knows nothing of HTTP. It takes shaped
//! input ([`input::JobInput`]), checks every rule, and answers with domain
//! values or an [`Error`] that says which field is wrong and why.

pub mod demo;
pub mod error;
pub mod index;
pub mod input;
pub mod invoice;
pub mod keys;
#[macro_use]
pub mod model;
pub mod passwords;
pub mod sanitize;
pub mod search;
pub mod store;
pub mod validate;

pub use error::{Error, FieldError, Result};
pub use store::{IdOrSlug, JobFilter, JobSort, Lifecycle, Store};
