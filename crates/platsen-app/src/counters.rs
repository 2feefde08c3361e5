//! View and apply-click counts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use chrono::{DateTime, Utc};

use crate::App;

/// How often pending counts are written at most.
const FLUSH_EVERY_MS: i64 = 5_000;

/// Views and apply clicks, summed in memory and written to the database in
/// one transaction at most every five seconds (a write per page view would
/// queue every reader behind SQLite's single writer). The dashboard writes
/// what is pending before it reads, so employers see current numbers.
#[derive(Default)]
pub struct Counters {
    pending: std::sync::Mutex<HashMap<i64, (i64, i64)>>,
    /// Searches answered since the last write.
    searches: AtomicI64,
    /// Milliseconds since the epoch of the last write, by the caller's clock.
    last_flush: AtomicI64,
    flushing: AtomicBool,
}

impl Counters {
    /// Adds to `job_id`'s counts; returns whether a write is due at `now`
    /// (and, if so, marks one as under way).
    fn add(&self, job_id: i64, views: i64, clicks: i64, now: DateTime<Utc>) -> bool {
        {
            let mut pending = self.pending.lock().expect("counters lock");
            let entry = pending.entry(job_id).or_default();
            entry.0 += views;
            entry.1 += clicks;
        }
        self.due(now)
    }

    /// Whether a write is due at `now` (and, if so, marks one as under way).
    fn due(&self, now: DateTime<Utc>) -> bool {
        let now = now.timestamp_millis();
        if now - self.last_flush.load(Ordering::Relaxed) >= FLUSH_EVERY_MS
            && !self.flushing.swap(true, Ordering::AcqRel)
        {
            self.last_flush.store(now, Ordering::Relaxed);
            return true;
        }
        false
    }

    /// Whether anything waits to be written.
    pub fn is_pending(&self) -> bool {
        self.searches.load(Ordering::Acquire) != 0 || !self.pending.lock().expect("counters lock").is_empty()
    }

    /// Writes what is pending; on failure it stays pending for next time.
    pub async fn write(&self, store: &platsen_jobs::Store, now: DateTime<Utc>) {
        let batch: Vec<(i64, i64, i64)> = {
            let mut pending = self.pending.lock().expect("counters lock");
            pending.drain().map(|(id, (v, c))| (id, v, c)).collect()
        };
        let searches = self.searches.swap(0, Ordering::AcqRel);
        let views: i64 = batch.iter().map(|b| b.1).sum();
        let day = platsen_jobs::validate::today_in_sweden(now);
        if let Err(e) = store.add_board_counts(day, searches, views).await {
            tracing::warn!(error = %e, "writing the board's daily counts failed; keeping the searches for later");
            self.searches.fetch_add(searches, Ordering::AcqRel);
        }
        if let Err(e) = store.add_job_counts(&batch).await {
            tracing::warn!(error = %e, ads = batch.len(), "writing view counts failed; keeping them for later");
            let mut pending = self.pending.lock().expect("counters lock");
            for (id, v, c) in batch {
                let entry = pending.entry(id).or_default();
                entry.0 += v;
                entry.1 += c;
            }
        }
    }
}

impl App {
    /// Counts a view of an ad's page.
    pub fn count_view(&self, job_id: i64) {
        self.count(job_id, 1, 0);
    }

    /// Counts a click on an ad's apply link.
    pub fn count_apply_click(&self, job_id: i64) {
        self.count(job_id, 0, 1);
    }

    /// Counts a job seeker's search, on the search page or through the API
    /// (for the board's figures on `/platsannonsera`; alerts' runs are not counted).
    pub fn count_search(&self) {
        self.counters.searches.fetch_add(1, Ordering::AcqRel);
        if self.counters.due(self.clock.now()) {
            self.flush_in_background();
        }
    }

    /// Writes pending counts now (before a dashboard reads them).
    pub async fn write_counts(&self) {
        self.counters.write(&self.store, self.clock.now()).await;
    }

    fn count(&self, job_id: i64, views: i64, clicks: i64) {
        if self.counters.add(job_id, views, clicks, self.clock.now()) {
            self.flush_in_background();
        }
    }

    fn flush_in_background(&self) {
        let (counters, store, now) = (self.counters.clone(), self.store.clone(), self.clock.now());
        tokio::spawn(async move {
            counters.write(&store, now).await;
            counters.flushing.store(false, Ordering::Release);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_is_due_by_the_callers_clock_not_the_wall_clock() {
        let c = Counters::default();
        let t0 = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        assert!(c.add(1, 1, 0, t0), "the first count starts a write");
        c.flushing.store(false, Ordering::Release);
        assert!(!c.add(1, 1, 0, t0 + chrono::Duration::seconds(4)), "within five seconds: no write");
        assert!(c.add(1, 0, 1, t0 + chrono::Duration::seconds(5)), "five seconds later by that clock: a write");
        assert_eq!(c.pending.lock().unwrap().get(&1), Some(&(2, 1)));
    }
}
