//! View, apply-click and search-appearance counts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use platsen_jobs::FieldError;
use platsen_jobs::model::Actor;
use platsen_jobs::store::{AdCounts, DayCounts, MAX_STATS_DAYS};

use crate::App;

/// How often pending counts are written at most.
const FLUSH_EVERY_MS: i64 = 5_000;

/// Views, apply clicks and appearances in search results, summed in memory
/// and written to the database in one transaction at most every five
/// seconds (a write per page view would queue every reader behind SQLite's
/// single writer), on the day of the write. The dashboard writes what is
/// pending before it reads, so employers see current numbers.
#[derive(Default)]
pub struct Counters {
    pending: std::sync::Mutex<HashMap<i64, AdCounts>>,
    /// Searches answered since the last write.
    searches: AtomicI64,
    /// Milliseconds since the epoch of the last write, by the caller's clock.
    last_flush: AtomicI64,
    flushing: AtomicBool,
    /// Held for the whole of a write, from taking the pending counts to
    /// their commit: a reader that finds nothing pending waits on it, so
    /// counts taken by a write in flight are never missing from its answer.
    writing: tokio::sync::Mutex<()>,
}

impl Counters {
    /// Adds to `job_id`'s counts; returns whether a write is due at `now`
    /// (and, if so, marks one as under way).
    fn add(&self, counts: impl IntoIterator<Item = (i64, AdCounts)>, now: DateTime<Utc>) -> bool {
        {
            let mut pending = self.pending.lock().expect("counters lock");
            for (job_id, c) in counts {
                *pending.entry(job_id).or_default() += c;
            }
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
        let _writing = self.writing.lock().await;
        let mut batch: Vec<(i64, AdCounts)> = {
            let mut pending = self.pending.lock().expect("counters lock");
            pending.drain().collect()
        };
        // Rows in one order on every instance: two flushes never wait on
        // each other's rows in opposite orders (a deadlock on PostgreSQL).
        batch.sort_unstable_by_key(|(id, _)| *id);
        let searches = self.searches.swap(0, Ordering::AcqRel);
        let views: i64 = batch.iter().map(|(_, c)| c.views).sum();
        let day = platsen_jobs::validate::today_in_sweden(now);
        if let Err(e) = store.add_board_counts(day, searches, views).await {
            tracing::warn!(error = %e, "writing the board's daily counts failed; keeping the searches for later");
            self.searches.fetch_add(searches, Ordering::AcqRel);
        }
        if let Err(e) = store.add_job_counts(day, &batch).await {
            tracing::warn!(error = %e, ads = batch.len(), "writing the ads' counts failed; keeping them for later");
            let mut pending = self.pending.lock().expect("counters lock");
            for (id, c) in batch {
                *pending.entry(id).or_default() += c;
            }
        }
    }
}

impl App {
    /// Counts a view of an ad's page.
    pub fn count_view(&self, job_id: i64) {
        self.count([(job_id, AdCounts { views: 1, ..Default::default() })]);
    }

    /// Counts a click on an ad's apply link.
    pub fn count_apply_click(&self, job_id: i64) {
        self.count([(job_id, AdCounts { apply_clicks: 1, ..Default::default() })]);
    }

    /// Counts a job seeker's search, on the search page or through the API,
    /// and an appearance of each ad on the page of results it showed (for
    /// the board's figures on `/platsannonsera` and each ad's statistics;
    /// alerts' runs, feeds and embeds are not searches).
    pub fn count_search(&self, shown: impl IntoIterator<Item = i64>) {
        self.counters.searches.fetch_add(1, Ordering::AcqRel);
        self.count(shown.into_iter().map(|id| (id, AdCounts { appearances: 1, ..Default::default() })));
    }

    /// One ad's counts per day from `from` to `to` (see [`stats_range`]),
    /// for its employer or an operator (the store checks). What is still
    /// pending in memory is written first, if anything is, so the figures
    /// are current (or, with nothing pending, a write under way is waited
    /// for); that write would come within five seconds anyway.
    pub async fn ad_daily_counts(
        &self,
        actor: Actor,
        job_id: i64,
        (from, to): (NaiveDate, NaiveDate),
    ) -> platsen_jobs::Result<Vec<DayCounts>> {
        if self.counters.is_pending() {
            self.write_counts().await;
        } else {
            // A write in flight may hold counts taken from `pending`: wait for its commit.
            drop(self.counters.writing.lock().await);
        }
        self.store.job_daily_counts(actor, job_id, from, to, self.clock.now()).await
    }

    /// Writes pending counts now (before a dashboard reads them).
    pub async fn write_counts(&self) {
        self.counters.write(&self.store, self.clock.now()).await;
    }

    fn count(&self, counts: impl IntoIterator<Item = (i64, AdCounts)>) {
        if self.counters.add(counts, self.clock.now()) {
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

/// A day as a reader types it (`ÅÅÅÅ-MM-DD`, a year from 2000 to 9999),
/// or none when left empty.
pub fn parse_day(field: &str, raw: Option<&str>) -> Result<Option<NaiveDate>, FieldError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .filter(|d| (2000..=9999).contains(&chrono::Datelike::year(d)))
            .map(Some)
            .ok_or_else(|| FieldError::new(field, "invalid_date", "Ange ett datum som ÅÅÅÅ-MM-DD.")),
    }
}

/// The days an ad's statistics cover, from the `from` and `to` a reader
/// gave (both included): by default the 30 days up to `today`; at most
/// [`MAX_STATS_DAYS`] at a time.
pub fn stats_range(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), FieldError> {
    let to = to.unwrap_or(today);
    let from = from.unwrap_or_else(|| to.checked_sub_signed(chrono::Duration::days(29)).unwrap_or(to));
    if from > to {
        return Err(FieldError::new("from", "after_to", "Startdagen ligger efter slutdagen."));
    }
    if (to - from).num_days() >= MAX_STATS_DAYS {
        return Err(FieldError::new("from", "range_too_long", format!("Högst {MAX_STATS_DAYS} dagar åt gången.")));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stats_range_defaults_to_thirty_days_and_names_what_is_wrong() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let range =
            |from: Option<&str>, to: Option<&str>| stats_range(parse_day("from", from)?, parse_day("to", to)?, today);
        assert_eq!(range(None, None), Ok((d("2026-11-08"), today)));
        assert_eq!(range(Some(" "), Some("")), Ok((d("2026-11-08"), today)));
        assert_eq!(range(Some("2026-01-01"), Some("2026-01-31")), Ok((d("2026-01-01"), d("2026-01-31"))));
        assert_eq!(range(None, Some("2026-01-31")), Ok((d("2026-01-02"), d("2026-01-31"))));
        assert_eq!(range(Some("2026-01-01"), Some("2026-12-31")).map(|r| r.0), Ok(d("2026-01-01")));
        assert!(stats_range(Some(NaiveDate::MIN), Some(NaiveDate::MIN), today).is_ok(), "no overflow");
        assert!(stats_range(None, Some(NaiveDate::MIN), today).is_ok(), "no overflow");
        for (from, to, field, code) in [
            (Some("igår"), None, "from", "invalid_date"),
            (None, Some("2026-13-01"), "to", "invalid_date"),
            (Some("2026-02-30"), None, "from", "invalid_date"),
            (Some("0001-01-01"), None, "from", "invalid_date"),
            (Some("2026-12-08"), Some("2026-12-07"), "from", "after_to"),
            (Some("2025-01-01"), Some("2026-12-31"), "from", "range_too_long"),
            (Some("2026-01-01'; drop table job_ads; --"), None, "from", "invalid_date"),
        ] {
            let e = range(from, to).unwrap_err();
            assert_eq!((e.field.as_str(), e.code), (field, code), "{from:?} {to:?}");
        }
    }

    #[test]
    fn a_write_is_due_by_the_callers_clock_not_the_wall_clock() {
        let c = Counters::default();
        let t0 = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let view = AdCounts { views: 1, ..Default::default() };
        let click = AdCounts { apply_clicks: 1, ..Default::default() };
        let shown = AdCounts { appearances: 1, ..Default::default() };
        assert!(c.add([(1, view)], t0), "the first count starts a write");
        c.flushing.store(false, Ordering::Release);
        assert!(!c.add([(1, view), (2, shown)], t0 + chrono::Duration::seconds(4)), "within five seconds: no write");
        assert!(
            c.add([(1, click), (1, shown)], t0 + chrono::Duration::seconds(5)),
            "five seconds later by that clock: a write"
        );
        assert_eq!(c.pending.lock().unwrap().get(&1), Some(&AdCounts { views: 2, apply_clicks: 1, appearances: 1 }));
        assert_eq!(c.pending.lock().unwrap().get(&2), Some(&shown));
    }
}
