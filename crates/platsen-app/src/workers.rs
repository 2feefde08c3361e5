//! The background workers, each a tokio task that runs until told to stop:
//!
//! - **expiry sweeper** (once a minute across all instances): writes down
//!   ads whose time is up (listings hide them regardless) and, without
//!   Meilisearch, empties the search outbox nobody reads;
//! - **search sync** (with Meilisearch): connects, retrying until it answers,
//!   then keeps the index in step with the outbox (`platsen_search::run_worker`);
//! - **webhooks** (every second): pushes the change log to integrators;
//! - **job alerts** (every two seconds): runs confirmed saved searches and
//!   mails what is new;
//! - **counts** (every five seconds): writes the view, click and search
//!   counts this process holds, also when no further view arrives to
//!   trigger it (so every instance's counts reach the dashboards in time);
//! - **billing** (once an hour across all instances): writes down ad
//!   credits that ran out unused, and invoices agreement customers for last
//!   month's ads (idempotent too, so the first run of a month does it and
//!   the others find nothing).
//!
//! With several instances on one PostgreSQL, each duty runs once: the
//! search sync and every webhook and alert are leased or claimed row by
//! row, and the two periodic duties are claimed per period
//! (`Store::claim_duty`); every instance polls, the first to find a duty
//! due runs it. A duty whose instance dies is run by another within one
//! period and one poll.

use std::sync::Arc;
use std::time::Duration;

use chrono::Datelike;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::metrics::DutyLabels;
use crate::webhooks::ChangesJson;
use crate::{App, SearchHandle};

/// The expiry sweep's name in `duty_runs` and in the metrics.
pub const EXPIRY_SWEEP: &str = "expiry_sweep";
/// Billing's name in `duty_runs` and in the metrics.
pub const BILLING: &str = "billing";
/// How often each instance looks whether a periodic duty is due.
const DUTY_POLL: Duration = Duration::from_secs(10);

/// Names this process in `duty_runs`: host and process id.
fn holder() -> String {
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_default();
    format!("{host}:{}", std::process::id())
}

/// Whether this instance claimed `duty`'s run due now (counted when so).
async fn claim(app: &App, duty: &'static str, every: chrono::Duration) -> bool {
    match app.store.claim_duty(duty, &holder(), app.clock.now(), every).await {
        Ok(true) => {
            app.metrics.duty_runs.get_or_create(&DutyLabels { duty }).inc();
            true
        }
        Ok(false) => false,
        Err(e) => {
            tracing::warn!(duty, error = %e, "could not claim a periodic duty");
            false
        }
    }
}

/// The running workers.
#[derive(Debug)]
pub struct Workers {
    tasks: Vec<(&'static str, JoinHandle<()>)>,
}

impl Workers {
    /// Starts every worker; they stop when `stopped` changes.
    pub fn start(
        app: &App,
        meili: Option<platsen_search::MeiliConfig>,
        changes_json: ChangesJson,
        stopped: &watch::Receiver<bool>,
    ) -> Workers {
        let mut tasks = vec![
            ("expiry sweeper", tokio::spawn(sweep(app.clone(), stopped.clone()))),
            ("webhooks", tokio::spawn(app.clone().run_webhooks(changes_json, stopped.clone()))),
            ("job alerts", tokio::spawn(app.clone().run_alerts(stopped.clone()))),
            ("billing", tokio::spawn(bill(app.clone(), stopped.clone()))),
            ("counts", tokio::spawn(write_counts(app.clone(), stopped.clone()))),
        ];
        if let Some(meili) = meili {
            tasks.push(("search sync", tokio::spawn(sync_search(app.clone(), meili, stopped.clone()))));
        }
        Workers { tasks }
    }

    /// Waits for every worker to finish (after the stop signal).
    pub async fn join(self) {
        for (name, task) in self.tasks {
            if let Err(e) = task.await {
                tracing::error!(worker = name, error = %e, "a background worker failed");
            }
        }
    }
}

/// Writes pending counts every few seconds.
async fn write_counts(app: App, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if app.counters.is_pending() {
                    app.write_counts().await;
                }
            }
            _ = stopped.changed() => break,
        }
    }
}

/// The expiry sweeper.
async fn sweep(app: App, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(DUTY_POLL);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if !claim(&app, EXPIRY_SWEEP, chrono::Duration::minutes(1)).await {
                    continue;
                }
                if let Err(e) = app.store.expire_due(app.clock.now()).await {
                    tracing::warn!(error = %e, "expiry sweep failed");
                }
                publish_scheduled(&app).await;
                // No external search engine to keep in step: the database
                // answers searches from the rows themselves.
                if !app.search_configured
                    && let Err(e) = app.store.discard_search_outbox().await
                {
                    tracing::warn!(error = %e, "discarding the search outbox failed");
                }
            }
            _ = stopped.changed() => break,
        }
    }
}

/// Publishes the scheduled drafts whose time has come, each as its
/// employer would (review, billing). One that cannot be published loses its
/// schedule, with the reason in its history; a database that cannot be
/// reached leaves it for the next sweep.
pub async fn publish_scheduled(app: &App) {
    let now = app.clock.now();
    let due = match app.store.due_for_publication(now).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "reading scheduled ads failed");
            return;
        }
    };
    for (id, employer_id) in due {
        let actor = platsen_jobs::model::Actor::Scheduled { employer_id };
        let step = platsen_jobs::Lifecycle::Publish;
        match app.store.transition(actor, id, step.clone(), now).await {
            Ok(ad) => {
                // Waiting for review: the operators are told, as when the
                // employer presses the button.
                app.after_step(&step, &ad);
                tracing::info!(job_id = id, status = ad.status.code(), "scheduled ad published");
            }
            Err(e) if e.is_unavailable() => {
                tracing::warn!(job_id = id, error = %e, "publishing a scheduled ad failed; next sweep tries again");
            }
            Err(e) => {
                let reason = why_not_published(&e);
                tracing::warn!(job_id = id, %reason, "a scheduled ad could not be published");
                if let Err(e) = app.store.schedule_failed(id, &reason, now).await {
                    tracing::warn!(job_id = id, error = %e, "dropping a failed schedule failed");
                }
            }
        }
    }
}

/// Why a scheduled ad was not published, in Swedish, for its history.
fn why_not_published(e: &platsen_jobs::Error) -> String {
    use platsen_jobs::Error as E;
    match e {
        E::Invalid(fields) => fields.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join(" "),
        E::Conflict { message, .. } | E::NoCredit(message) => message.clone(),
        E::NotFound | E::Forbidden(_) => "Annonsen kunde inte publiceras för arbetsgivarens räkning.".to_owned(),
        _ => "Ett tekniskt fel hindrade publiceringen.".to_owned(),
    }
}

/// The billing worker.
async fn bill(app: App, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(DUTY_POLL);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if !claim(&app, BILLING, chrono::Duration::hours(1)).await {
                    continue;
                }
                let now = app.clock.now();
                if let Err(e) = app.store.expire_credits(now).await {
                    tracing::warn!(error = %e, "expiring credits failed");
                }
                let this_month = platsen_jobs::validate::today_in_sweden(now).with_day(1).expect("day 1 exists");
                let last_month = this_month - chrono::Months::new(1);
                match app.invoice_agreements(last_month).await {
                    Ok(issued) if !issued.is_empty() => {
                        tracing::info!(count = issued.len(), month = %last_month.format("%Y-%m"), "monthly invoices issued");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "monthly invoicing failed"),
                }
            }
            _ = stopped.changed() => break,
        }
    }
}

/// Connects Meilisearch (retrying until it answers), then keeps the index
/// in step.
async fn sync_search(app: App, meili: platsen_search::MeiliConfig, mut stopped: watch::Receiver<bool>) {
    let mut wait = Duration::from_millis(200);
    let engine = loop {
        match platsen_search::MeiliEngine::connect(&meili).await {
            Ok(engine) => break Arc::new(engine),
            Err(e) => {
                tracing::warn!(error = %e, url = %meili.url, "meilisearch not reachable; searching the database meanwhile");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stopped.changed() => return,
                }
                wait = (wait * 2).min(Duration::from_secs(10));
            }
        }
    };
    let status = Arc::new(platsen_search::SyncStatus::default());
    let _ = app.search.set(SearchHandle { engine: engine.clone(), status: status.clone() });
    tracing::info!(url = %meili.url, index = engine.index_name(), "meilisearch connected");
    let clock = app.clock.clone();
    platsen_search::run_worker(app.store.clone(), engine, status, app.store.changes(), move || clock.now(), stopped)
        .await;
}
