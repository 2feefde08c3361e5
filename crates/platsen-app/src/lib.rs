//! Platsen's application layer: what the JSON API, the web pages and the
//! command line do, below all three.
//!
//! *Architecture invariant:* this crate knows no HTTP server, no OpenAPI and
//! no templates (no poem, poem-openapi or askama). It holds the state the
//! handlers and the background workers share ([`App`]) and the operations
//! that more than one of them uses: searching, saved searches and job
//! alerts, webhooks, salary imports and the market band, invitations and
//! password-reset mails, review mails, view counts. Each operation answers
//! with domain types and [`platsen_jobs::Error`]; the HTTP crate maps them
//! to its wire.

pub mod accounts;
pub mod ad_chart;
pub mod alerts;
pub mod builtin;
mod clock;
pub mod counters;
pub mod format;
pub mod invoicing;
pub mod limits;
pub mod logos;
pub mod mail;
pub mod metrics;
pub mod orders;
pub mod outgoing;
pub mod review;
pub mod salary;
pub mod saved;
pub mod saved_search;
pub mod search;
pub mod webhooks;
pub mod workers;

use std::sync::{Arc, OnceLock};

use platsen_jobs::Store;

pub use clock::Clock;
pub use mail::Mailer;

/// A connected Meilisearch and its sync worker's status.
#[derive(Clone, Debug)]
pub struct SearchHandle {
    pub engine: Arc<platsen_search::MeiliEngine>,
    pub status: Arc<platsen_search::SyncStatus>,
}

/// Everything the operations and the workers share. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    /// Set once Meilisearch is connected (if one is configured); until then,
    /// and whenever it fails, the database answers searches.
    pub search: Arc<OnceLock<SearchHandle>>,
    /// Whether a Meilisearch is configured at all.
    pub search_configured: bool,
    /// The built-in search: answers when Meilisearch does not, and typeahead.
    pub builtin: Arc<builtin::Builtin>,
    pub clock: Clock,
    /// Lönestatistik, loaded on first use and after every import.
    pub salary: Arc<salary::SalaryData>,
    pub mailer: Arc<Mailer>,
    /// View and apply-click counts on their way to the database.
    pub counters: Arc<counters::Counters>,
    /// Which employer has which logo, for the lists.
    pub logo_map: Arc<logos::LogoMap>,
    /// Confirmation mails of job alerts asked for per client address.
    pub alert_limit: Arc<limits::PerClient>,
    /// Orders placed per client address.
    pub order_limit: Arc<limits::PerClient>,
    /// Saved-ad lists mailed per client address.
    pub saved_limit: Arc<limits::PerClient>,
    /// The public base URL without a trailing slash, for links in mails.
    pub public_url: Arc<str>,
    /// The licence line of the salary statistics' open data.
    pub data_licence: Arc<str>,
    /// Where webhooks may go.
    pub outgoing: outgoing::Policy,
    /// The seller on invoices, and where they are sent.
    pub invoicing: Arc<invoicing::Invoicing>,
    /// What the operator's Prometheus scrapes (`GET /metrics`).
    pub metrics: Arc<metrics::Metrics>,
}

/// The salary statistics' licence unless the operator names another
/// (`PLATSEN_DATA_LICENCE`).
pub const DEFAULT_DATA_LICENCE: &str =
    "CC BY 4.0, https://creativecommons.org/licenses/by/4.0/deed.sv (ange källan: Platsen lönestatistik)";

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("database", &self.store.backend())
            .field("search_configured", &self.search_configured)
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl App {
    /// An application on `store` with nothing else configured: the database
    /// answers searches, mail goes to the log, webhooks reach public
    /// addresses only.
    pub fn new(store: Store, clock: Clock, public_url: &str) -> App {
        App {
            store,
            search: Default::default(),
            search_configured: false,
            builtin: Default::default(),
            clock,
            salary: Default::default(),
            mailer: Default::default(),
            counters: Default::default(),
            logo_map: Default::default(),
            metrics: Default::default(),
            alert_limit: Arc::new(alerts::subscribe_limit()),
            order_limit: Arc::new(orders::order_limit()),
            saved_limit: Arc::new(saved::mail_limit()),
            public_url: Arc::from(public_url.trim_end_matches('/')),
            data_licence: Arc::from(DEFAULT_DATA_LICENCE),
            outgoing: outgoing::Policy::PublicOnly,
            invoicing: Default::default(),
        }
    }

    /// The licence line the salary downloads carry.
    pub fn with_data_licence(self, licence: &str) -> App {
        App { data_licence: Arc::from(licence.trim()), ..self }
    }

    pub fn with_invoicing(self, invoicing: invoicing::Invoicing) -> App {
        App { invoicing: Arc::new(invoicing), ..self }
    }

    pub fn with_mailer(self, mailer: Mailer) -> App {
        App { mailer: Arc::new(mailer), ..self }
    }

    /// Searches go to Meilisearch once [`workers`] has connected it.
    pub fn with_search_configured(self, configured: bool) -> App {
        App { search_configured: configured, ..self }
    }

    pub fn with_outgoing(self, outgoing: outgoing::Policy) -> App {
        App { outgoing, ..self }
    }

    /// A link on the public site: `path` starts with `/`.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }
}

#[cfg(test)]
mod tests {
    /// The application layer stays below HTTP: none of the HTTP server,
    /// OpenAPI or template crates is a dependency.
    #[test]
    fn knows_no_http_server_openapi_or_templates() {
        let manifest = include_str!("../Cargo.toml");
        let deps = manifest.split("[dependencies]").nth(1).unwrap().split("\n[").next().unwrap();
        for line in deps.lines() {
            let name = line.split(['.', ' ', '=']).next().unwrap_or("");
            assert!(
                !["poem", "poem-openapi", "askama", "platsen-api"].contains(&name),
                "platsen-app depends on {name}"
            );
        }
        assert!(deps.contains("platsen-jobs"), "the check reads the dependency list");
    }
}
