//! The worker that keeps the index equal to what SQL says search should show.
//!
//! It reads due outbox rows, merges them per ad, re-reads each ad's current
//! state, upserts the ads that are open and deletes the rest, and deletes the
//! rows only after Meilisearch confirmed every task of the batch. Up to
//! `MAX_IN_FLIGHT` batches are sent before the first is confirmed, so a
//! change waits for Meilisearch's indexing, not for a round trip per batch. A failure leaves
//! the rows for a retry with backoff; a request Meilisearch rejects outright
//! is retried a few times and then set aside as a dead letter for an
//! operator. Order and duplicates do not matter because the current state is
//! sent, never the event.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use meilisearch_sdk::task_info::TaskInfo;
use platsen_jobs::Store;
use platsen_jobs::store::{OutboxRow, SearchLease};
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
    holds_lease: bool,
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

    /// Whether this process holds the lease, i.e. is the one instance
    /// whose worker keeps the index in step.
    pub fn holds_lease(&self) -> bool {
        self.inner.lock().expect("status lock").holds_lease
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

/// How many outbox rows one batch carries.
const BATCH: i64 = 2_000;
/// Batches sent and not yet confirmed, at most. Meilisearch applies tasks in
/// the order they were enqueued, so a later batch (which read the ads' state
/// later) always lands after an earlier one.
const MAX_IN_FLIGHT: usize = 4;
/// Rejections retried this many times before a row becomes a dead letter.
const MAX_REJECTIONS: i64 = 5;

/// A batch sent to Meilisearch: its tasks, and the outbox rows it settles
/// once every task succeeded.
struct InFlight {
    tasks: Vec<TaskInfo>,
    rows: Vec<OutboxRow>,
    upserted: usize,
    deleted: usize,
    sent_at: std::time::Instant,
}

/// How often an active worker makes sure it still holds the lease.
const LEASE_CHECK: Duration = Duration::from_secs(1);

/// What one step of the worker works with.
struct Worker<'a, N> {
    store: &'a Store,
    engine: &'a MeiliEngine,
    status: &'a SyncStatus,
    now: &'a N,
}

/// Runs until `stop` turns true. `wake` is notified after writes (a hint:
/// the worker also polls), `now` is the application clock.
///
/// Exactly one worker per database is active: the one holding the lease.
/// A worker that loses it (on PostgreSQL the lock lives with a connection the
/// server can close) notices within `LEASE_CHECK`, stops sending and stands
/// by. What it sent since it last saw the lease held may have reached
/// Meilisearch after the new holder sent a newer state of the same ads, so it
/// queues those ads again: the holder then sends their current state last.
pub async fn run_worker(
    store: Store,
    engine: Arc<MeiliEngine>,
    status: Arc<SyncStatus>,
    wake: Arc<Notify>,
    now: impl Fn() -> DateTime<Utc> + Send + Sync + 'static,
    mut stop: watch::Receiver<bool>,
) {
    let worker = Worker { store: &store, engine: &engine, status: &status, now: &now };
    let mut unverified = BTreeSet::new();
    loop {
        while !unverified.is_empty() {
            let ids: Vec<i64> = unverified.iter().copied().collect();
            match store.requeue_for_search(&ids).await {
                Ok(()) => unverified.clear(),
                Err(e) => {
                    tracing::warn!(error = %e, ads = ids.len(), "could not queue again what was sent without the lease")
                }
            }
            if !unverified.is_empty() {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                    _ = stop.changed() => return,
                }
            }
        }
        let mut lease = loop {
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
        status.inner.lock().expect("status lock").holds_lease = true;
        let lost = sync_while_held(&worker, &wake, &mut stop, &mut lease, &mut unverified).await;
        status.inner.lock().expect("status lock").holds_lease = false;
        if !lost {
            break;
        }
        tracing::warn!(sent_unverified = unverified.len(), "search-sync lease lost; standing by");
    }
    tracing::info!("search sync stopped");
}

/// Whether the lease is still held, checked at most every `LEASE_CHECK`.
/// Everything sent before a check that finds it held was sent under it.
async fn still_held(lease: &mut SearchLease, checked: &mut Instant, unverified: &mut BTreeSet<i64>) -> bool {
    if checked.elapsed() < LEASE_CHECK {
        return true;
    }
    if !lease.is_held().await {
        return false;
    }
    unverified.clear();
    *checked = Instant::now();
    true
}

/// The worker's loop while it holds the lease. Returns `true` when the
/// lease was lost, `false` when asked to stop.
async fn sync_while_held<N: Fn() -> DateTime<Utc>>(
    worker: &Worker<'_, N>,
    wake: &Notify,
    stop: &mut watch::Receiver<bool>,
    lease: &mut SearchLease,
    unverified: &mut BTreeSet<i64>,
) -> bool {
    let poll = Duration::from_millis(250);
    let mut backoff = Duration::from_millis(200);
    let mut in_flight: VecDeque<InFlight> = VecDeque::new();
    let mut batch_size = BATCH;
    let mut checked = Instant::now();
    loop {
        if *stop.borrow() {
            return false;
        }
        if !still_held(lease, &mut checked, unverified).await {
            return true;
        }
        let pause = match step(worker, &mut in_flight, &mut batch_size, unverified).await {
            Ok(sent) => {
                backoff = Duration::from_millis(200);
                if sent {
                    continue;
                }
                if in_flight.is_empty() {
                    poll
                } else {
                    // Waiting for Meilisearch: look again soon.
                    Duration::from_millis(10)
                }
            }
            Err(e) => {
                if matches!(e, Error::IndexNotFound) {
                    // Someone dropped the index: make it again and refill it.
                    worker.status.inner.lock().expect("status lock").index_ready = false;
                }
                // What was in flight stays in the outbox and is sent again
                // (the current state, so sending twice is harmless).
                in_flight.clear();
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "search sync failed");
                worker.status.failure(&e);
                let pause = backoff;
                backoff = (backoff * 2).min(Duration::from_secs(10));
                pause
            }
        };
        // Wait out the pause, but keep checking the lease during a long one.
        let until = tokio::time::Instant::now() + pause;
        loop {
            let check_at = tokio::time::Instant::from_std(checked + LEASE_CHECK);
            tokio::select! {
                _ = wake.notified() => break,
                _ = tokio::time::sleep_until(until) => break,
                _ = stop.changed() => break,
                _ = tokio::time::sleep_until(check_at), if check_at < until => {
                    if !still_held(lease, &mut checked, unverified).await {
                        return true;
                    }
                }
            }
        }
    }
}

/// Settles the batches Meilisearch finished, oldest first, then sends one
/// more batch if there is room. Returns whether it sent one.
async fn step<N: Fn() -> DateTime<Utc>>(
    worker: &Worker<'_, N>,
    in_flight: &mut VecDeque<InFlight>,
    batch_size: &mut i64,
    unverified: &mut BTreeSet<i64>,
) -> Result<bool, Error> {
    let Worker { store, engine, status, now } = *worker;
    if !status.index_ready() {
        let documents = engine.ensure_index().await?;
        if documents == 0 {
            // A new (or emptied) index: everything goes through the outbox.
            let queued = store.queue_all_for_search().await?;
            tracing::info!(queued, "search index is empty; queued every ad");
        }
        status.inner.lock().expect("status lock").index_ready = true;
    }
    while let Some(batch) = in_flight.front() {
        let mut outcome = Some(Ok(()));
        for task in &batch.tasks {
            match engine.outcome(task).await? {
                Some(Ok(())) => {}
                other => {
                    outcome = other;
                    break;
                }
            }
        }
        let Some(outcome) = outcome else { break };
        let batch = in_flight.pop_front().expect("front exists");
        let row_ids: Vec<i64> = batch.rows.iter().map(|r| r.id).collect();
        match outcome {
            Ok(()) => {
                store.ack_search_changes(&row_ids).await?;
                status.success(now());
                *batch_size = (*batch_size * 2).min(BATCH);
                tracing::debug!(
                    upserted = batch.upserted,
                    deleted = batch.deleted,
                    rows = row_ids.len(),
                    confirmed_after_ms = batch.sent_at.elapsed().as_millis() as u64,
                    in_flight = in_flight.len(),
                    "search index updated"
                );
            }
            Err(e) if e.is_permanent() => reject(store, status, &batch.rows, &e, now(), batch_size).await?,
            Err(e) => return Err(e),
        }
    }
    if in_flight.len() >= MAX_IN_FLIGHT {
        return Ok(false);
    }
    let t = now();
    let busy: HashSet<i64> = in_flight.iter().flat_map(|b| b.rows.iter().map(|r| r.id)).collect();
    let rows: Vec<OutboxRow> = store
        .pending_search_changes(*batch_size + busy.len() as i64, t)
        .await?
        .into_iter()
        .filter(|r| !busy.contains(&r.id))
        .take(*batch_size as usize)
        .collect();
    if rows.is_empty() {
        return Ok(false);
    }
    // The state is read after the rows committed, so it is at least as new
    // as the changes they stand for.
    let ids: Vec<i64> = rows.iter().map(|r| r.job_id).collect::<BTreeSet<_>>().into_iter().collect();
    let open = store.indexable_ads(&ids, t).await?;
    let docs: Vec<JobDocument> = open.iter().map(JobDocument::from).collect();
    let open_ids: BTreeSet<i64> = open.iter().map(|a| a.id).collect();
    let deletes: Vec<i64> = ids.iter().copied().filter(|id| !open_ids.contains(id)).collect();
    unverified.extend(ids.iter().copied());
    let mut tasks = Vec::new();
    let mut send = async || {
        if !docs.is_empty() {
            tasks.push(engine.enqueue_upsert(&docs).await?);
        }
        if !deletes.is_empty() {
            tasks.push(engine.enqueue_delete(&deletes).await?);
        }
        Ok::<(), Error>(())
    };
    match send().await {
        Ok(()) => {}
        // Refused outright (e.g. too large): nothing of it was enqueued.
        // What was enqueued before a later call failed is harmless: it is
        // the current state, and the rows stay to be sent again.
        Err(e) if e.is_permanent() => {
            reject(store, status, &rows, &e, t, batch_size).await?;
            return Ok(true);
        }
        Err(e) => return Err(e),
    }
    in_flight.push_back(InFlight {
        tasks,
        rows,
        upserted: docs.len(),
        deleted: deletes.len(),
        sent_at: std::time::Instant::now(),
    });
    Ok(true)
}

/// Handles a batch Meilisearch rejected. A batch of several ads is not held
/// against them: the batch size halves, so the next rounds split it until the
/// ad Meilisearch refuses travels alone. A single ad is retried with backoff
/// and set aside as a dead letter after `MAX_REJECTIONS`.
async fn reject(
    store: &Store,
    status: &SyncStatus,
    rows: &[OutboxRow],
    e: &Error,
    now: DateTime<Utc>,
    batch_size: &mut i64,
) -> Result<(), Error> {
    status.failure(e);
    let ads: BTreeSet<i64> = rows.iter().map(|r| r.job_id).collect();
    if ads.len() > 1 {
        *batch_size = (rows.len() as i64 / 2).max(1);
        tracing::warn!(error = %e, rows = rows.len(), "Meilisearch rejected a batch; splitting it");
        return Ok(());
    }
    let row_ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let attempts = rows.iter().map(|r| r.attempts).max().unwrap_or(0) + 1;
    let dead = attempts >= MAX_REJECTIONS;
    let retry_at = now + chrono::Duration::seconds(2i64.pow(attempts.min(6) as u32));
    store.retry_search_changes(&row_ids, &e.to_string(), retry_at, dead).await?;
    if dead {
        tracing::error!(error = %e, rows = row_ids.len(), "search changes set aside as dead letters");
    } else {
        tracing::warn!(error = %e, rows = row_ids.len(), attempts, "Meilisearch rejected an ad's change");
    }
    Ok(())
}
