//! The worker that keeps the index equal to what SQL says search should show.
//!
//! It reads due outbox rows, merges them per ad, re-reads each ad's current
//! state, upserts the ads that are open and deletes the rest, waits for
//! Meilisearch to confirm, and only then deletes the rows. A failure leaves
//! the rows for a retry with backoff; a request Meilisearch rejects outright
//! is retried a few times and then set aside as a dead letter for an
//! operator. Order and duplicates do not matter because the current state is
//! sent, never the event.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use platsen_jobs::Store;
use tokio::sync::{Notify, watch};

use crate::{Error, JobDocument, MeiliEngine};

/// What the worker last did, for the admin status endpoint.
#[derive(Debug, Default)]
pub struct SyncStatus {
    inner: Mutex<StatusInner>,
}

#[derive(Debug, Default, Clone)]
struct StatusInner {
    last_success_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    index_ready: bool,
}

impl SyncStatus {
    pub fn last_success_at(&self) -> Option<DateTime<Utc>> {
        self.inner.lock().expect("status lock").last_success_at
    }

    pub fn last_error(&self) -> Option<String> {
        self.inner.lock().expect("status lock").last_error.clone()
    }

    pub fn index_ready(&self) -> bool {
        self.inner.lock().expect("status lock").index_ready
    }

    fn success(&self, now: DateTime<Utc>) {
        let mut s = self.inner.lock().expect("status lock");
        s.last_success_at = Some(now);
        s.last_error = None;
    }

    fn failure(&self, e: &Error) {
        self.inner.lock().expect("status lock").last_error = Some(e.to_string());
    }
}

/// How many outbox rows one round handles.
const BATCH: i64 = 2_000;
/// Rejections retried this many times before a row becomes a dead letter.
const MAX_REJECTIONS: i64 = 5;

/// Runs until `stop` turns true. `wake` is notified after writes (a hint:
/// the worker also polls), `now` is the application clock.
pub async fn run_worker(
    store: Store,
    engine: Arc<MeiliEngine>,
    status: Arc<SyncStatus>,
    wake: Arc<Notify>,
    now: impl Fn() -> DateTime<Utc> + Send + Sync + 'static,
    mut stop: watch::Receiver<bool>,
) {
    let poll = Duration::from_millis(250);
    let mut backoff = Duration::from_millis(200);
    // Exactly one worker per database is active: wait for the lease.
    let _lease = loop {
        match store.try_search_lease().await {
            Ok(Some(lease)) => break lease,
            Ok(None) => tracing::debug!("another instance runs the search sync; standing by"),
            Err(e) => tracing::warn!(error = %e, "could not take the search-sync lease"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stop.changed() => return,
        }
    };
    tracing::info!("search sync active");
    loop {
        if *stop.borrow() {
            break;
        }
        let round = one_round(&store, &engine, &status, &now).await;
        let pause = match round {
            Ok(0) => {
                backoff = Duration::from_millis(200);
                poll
            }
            Ok(_) => {
                backoff = Duration::from_millis(200);
                continue;
            }
            Err(e) => {
                if matches!(e, Error::IndexNotFound) {
                    // Someone dropped the index: make it again and refill it.
                    status.inner.lock().expect("status lock").index_ready = false;
                }
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "search sync failed");
                status.failure(&e);
                let pause = backoff;
                backoff = (backoff * 2).min(Duration::from_secs(10));
                pause
            }
        };
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => {}
        }
    }
    tracing::info!("search sync stopped");
}

/// One round: returns how many outbox rows it settled.
async fn one_round(
    store: &Store,
    engine: &MeiliEngine,
    status: &SyncStatus,
    now: &impl Fn() -> DateTime<Utc>,
) -> Result<usize, Error> {
    if !status.index_ready() {
        let documents = engine.ensure_index().await?;
        if documents == 0 {
            // A new (or emptied) index: everything goes through the outbox.
            let queued = store.queue_all_for_search().await?;
            tracing::info!(queued, "search index is empty; queued every ad");
        }
        status.inner.lock().expect("status lock").index_ready = true;
    }
    let t = now();
    let rows = store.pending_search_changes(BATCH, t).await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.job_id).collect::<BTreeSet<_>>().into_iter().collect();
    let open = store.indexable_ads(&ids, t).await?;
    let docs: Vec<JobDocument> = open.iter().map(JobDocument::from).collect();
    let open_ids: BTreeSet<i64> = open.iter().map(|a| a.id).collect();
    let deletes: Vec<i64> = ids.iter().copied().filter(|id| !open_ids.contains(id)).collect();
    let row_ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    match engine.apply(&docs, &deletes).await {
        Ok(()) => {
            store.ack_search_changes(&row_ids).await?;
            status.success(now());
            tracing::debug!(
                upserted = docs.len(),
                deleted = deletes.len(),
                rows = row_ids.len(),
                "search index updated"
            );
            Ok(row_ids.len())
        }
        Err(e) if e.is_permanent() => {
            let attempts = rows.iter().map(|r| r.attempts).max().unwrap_or(0) + 1;
            let dead = attempts >= MAX_REJECTIONS;
            let retry_at = t + chrono::Duration::seconds(2i64.pow(attempts.min(6) as u32));
            store.retry_search_changes(&row_ids, &e.to_string(), retry_at, dead).await?;
            if dead {
                tracing::error!(error = %e, rows = row_ids.len(), "search changes set aside as dead letters");
            }
            Err(e)
        }
        Err(e) => Err(e),
    }
}
