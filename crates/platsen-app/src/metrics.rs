//! What an operator watches, in Prometheus's text format
//! (`prometheus-client`, the Prometheus project's own Rust client).
//!
//! Events are counted where they happen (requests by the HTTP crate, webhook
//! deliveries and alert mails here); levels that live in the database
//! (outbox depth, sync lag, dead letters) and the connection pools are read
//! when the metrics are scraped, so they are never stale and cost nothing
//! between scrapes. Counters are per process: Prometheus adds the instances
//! up (`sum by (route) (rate(platsen_http_requests_total[5m]))`).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// A request's method, route template (`/api/v1/jobs/{id}`, never the path
/// itself, so the label set stays small) and status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: &'static str,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: &'static str,
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DutyLabels {
    pub duty: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    pub pool: &'static str,
    pub state: &'static str,
}

fn latency() -> Histogram {
    // 0.5 ms to about 16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The process's metrics. Cheap to update from any thread.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub request_seconds: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pub rate_limited: Counter,
    /// Public API answers from the response cache (`hit`) or computed (`miss`).
    pub cache: Family<OutcomeLabels, Counter>,
    /// Webhook deliveries: `delivered` or `failed` (each try).
    pub webhooks: Family<OutcomeLabels, Counter>,
    /// Job-alert mails: `sent` or `failed`.
    pub alert_mails: Family<OutcomeLabels, Counter>,
    /// Periodic duties this instance claimed and ran (once per period
    /// across all instances: summed over instances, the count of periods).
    pub duty_runs: Family<DutyLabels, Counter>,
    /// 1 on the one instance whose worker keeps Meilisearch in step.
    pub search_sync_active: Gauge,
    pool: Family<PoolLabels, Gauge>,
    outbox_pending: Gauge,
    outbox_dead: Gauge,
    sync_lag: Gauge,
    up: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("platsen");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by route template and status", requests.clone());
        let request_seconds = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency);
        registry.register("http_request_duration_seconds", "Time to answer a request", request_seconds.clone());
        let rate_limited = Counter::default();
        registry.register(
            "rate_limited_requests",
            "Requests refused with 429 (this instance's limit)",
            rate_limited.clone(),
        );
        let cache = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "response_cache_lookups",
            "Public API answers: from the response cache or computed",
            cache.clone(),
        );
        let webhooks = Family::<OutcomeLabels, Counter>::default();
        registry.register("webhook_deliveries", "Webhook delivery attempts by outcome", webhooks.clone());
        let alert_mails = Family::<OutcomeLabels, Counter>::default();
        registry.register("alert_mails", "Job-alert mails by outcome", alert_mails.clone());
        let duty_runs = Family::<DutyLabels, Counter>::default();
        registry.register(
            "duty_runs",
            "Periodic duties (expiry sweep, billing) this instance claimed and ran",
            duty_runs.clone(),
        );
        let search_sync_active = Gauge::default();
        registry.register(
            "search_sync_active",
            "1 when this instance holds the search-sync lease (one instance does)",
            search_sync_active.clone(),
        );
        let pool = Family::<PoolLabels, Gauge>::default();
        registry.register("db_connections", "Database connections by pool and state", pool.clone());
        let outbox_pending = Gauge::default();
        registry.register("search_outbox_pending", "Ad changes not yet in Meilisearch", outbox_pending.clone());
        let outbox_dead = Gauge::default();
        registry.register(
            "search_outbox_dead",
            "Ad changes Meilisearch refused for good (dead letters)",
            outbox_dead.clone(),
        );
        let sync_lag = Gauge::default();
        registry.register(
            "search_sync_lag_seconds",
            "Age of the oldest change not yet in Meilisearch",
            sync_lag.clone(),
        );
        let up = Gauge::default();
        registry.register("database_up", "1 when the database answered the scrape's queries", up.clone());
        // Every outcome from the start, at zero: an alert on `rate()` of a
        // series that does not exist yet never fires.
        for (family, outcomes) in
            [(&cache, ["hit", "miss"]), (&webhooks, ["delivered", "failed"]), (&alert_mails, ["sent", "failed"])]
        {
            for outcome in outcomes {
                let _ = family.get_or_create(&OutcomeLabels { outcome });
            }
        }
        for duty in [crate::workers::EXPIRY_SWEEP, crate::workers::BILLING] {
            let _ = duty_runs.get_or_create(&DutyLabels { duty });
        }
        Metrics {
            registry,
            requests,
            request_seconds,
            rate_limited,
            cache,
            webhooks,
            alert_mails,
            duty_runs,
            search_sync_active,
            pool,
            outbox_pending,
            outbox_dead,
            sync_lag,
            up,
        }
    }

    /// Counts one answered request.
    pub fn request(&self, method: &'static str, route: &str, status: u16, seconds: f64) {
        self.requests.get_or_create(&RequestLabels { method, route: route.to_owned(), status }).inc();
        self.request_seconds.get_or_create(&RouteLabels { method, route: route.to_owned() }).observe(seconds);
    }

    /// Counts an outcome of a family (`webhooks`, `alert_mails`, `cache`).
    pub fn count(family: &Family<OutcomeLabels, Counter>, outcome: &'static str) {
        family.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    /// Reads the levels (pools, outbox, sync lag) and writes every metric in
    /// Prometheus's text format.
    pub async fn scrape(&self, app: &crate::App) -> String {
        for (pool, size, idle) in app.store.pool_stats() {
            self.pool.get_or_create(&PoolLabels { pool, state: "idle" }).set(idle as i64);
            self.pool.get_or_create(&PoolLabels { pool, state: "in_use" }).set(size.saturating_sub(idle) as i64);
        }
        self.search_sync_active.set(app.search.get().is_some_and(|h| h.status.holds_lease()).into());
        match app.store.search_outbox_status().await {
            Ok(s) => {
                let lag = s.oldest_pending_at.map_or(0, |t| (app.clock.now() - t).num_seconds().max(0));
                self.outbox_pending.set(s.pending);
                self.outbox_dead.set(s.dead);
                self.sync_lag.set(lag);
                self.up.set(1);
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics: the database did not answer");
                self.up.set(0);
            }
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String");
        out
    }
}
