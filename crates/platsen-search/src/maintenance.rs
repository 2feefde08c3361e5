//! Operator tasks on the index: a zero-downtime rebuild, and a comparison of
//! the index with SQL (ids and versions) that can repair what drifted.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use meilisearch_sdk::client::SwapIndexes;
use platsen_jobs::Store;

use crate::engine::timed;
use crate::{JobDocument, MeiliEngine, Result};

/// How the index differs from what SQL says it should hold.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Drift {
    /// Open ads the index lacks.
    pub missing: Vec<i64>,
    /// Ads indexed at another version than SQL's.
    pub stale: Vec<i64>,
    /// Documents of ads that are not open (or do not exist).
    pub extra: Vec<i64>,
    /// How many open ads SQL has.
    pub expected: usize,
}

impl Drift {
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.stale.is_empty() && self.extra.is_empty()
    }
}

/// Keyset pages of open ads, `batch` at a time, as documents.
async fn open_documents(
    store: &Store,
    now: DateTime<Utc>,
    mut each: impl AsyncFnMut(Vec<JobDocument>) -> Result<()>,
) -> Result<()> {
    let mut after = 0;
    loop {
        let ads = store.indexable_ads_after(after, 10_000, now).await?;
        let Some(last) = ads.last() else { break };
        after = last.id;
        each(ads.iter().map(JobDocument::from).collect()).await?;
    }
    Ok(())
}

impl MeiliEngine {
    /// Compares the index with SQL.
    pub async fn check(&self, store: &Store, now: DateTime<Utc>) -> Result<Drift> {
        // Both lists are read whole, side by side: ids and versions of
        // 100,000 ads are a few megabytes, and the ads themselves are not needed.
        let (indexed, open) = futures_util::future::join(self.ids_and_versions(), store.indexable_versions(now)).await;
        let (indexed, open): (HashMap<i64, i64>, _) = (indexed?.into_iter().collect(), open?);
        let mut drift = Drift { expected: open.len(), ..Drift::default() };
        let mut seen = std::collections::HashSet::with_capacity(open.len());
        for (id, version) in open {
            seen.insert(id);
            match indexed.get(&id) {
                None => drift.missing.push(id),
                Some(v) if *v != version => drift.stale.push(id),
                Some(_) => {}
            }
        }
        drift.extra = indexed.keys().copied().filter(|id| !seen.contains(id)).collect();
        drift.extra.sort_unstable();
        Ok(drift)
    }

    /// Fixes a drift: writes the missing and stale ads as SQL has them now,
    /// deletes the extra documents.
    pub async fn repair(&self, store: &Store, drift: &Drift, now: DateTime<Utc>) -> Result<()> {
        let ids: Vec<i64> = drift.missing.iter().chain(&drift.stale).copied().collect();
        let docs: Vec<JobDocument> = store.indexable_ads(&ids, now).await?.iter().map(JobDocument::from).collect();
        let open: std::collections::HashSet<i64> = docs.iter().map(|d| d.id).collect();
        // An ad that closed since the check is deleted rather than written.
        let deletes: Vec<i64> = drift.extra.iter().chain(ids.iter().filter(|id| !open.contains(id))).copied().collect();
        self.apply(&docs, &deletes).await
    }

    /// Rebuilds the index without downtime: a fresh index gets the settings
    /// first, then every open ad in large batches; the two are swapped
    /// atomically and the old one is dropped. Changes made meanwhile reached
    /// the live index through the outbox; a check-and-repair afterwards
    /// brings them into the new one too. `progress(done, of)` reports.
    pub async fn rebuild(&self, store: &Store, now: DateTime<Utc>, progress: impl Fn(usize, usize)) -> Result<Drift> {
        let started = std::time::Instant::now();
        self.ensure_index().await?;
        let fresh = format!("{}__rebuild_{}", self.index_name(), now.timestamp());
        let building = MeiliEngine { admin: self.admin.clone(), search: self.search.clone(), index: fresh.clone() };
        building.ensure_index().await?;
        let expected = store.count_indexable_ads(now).await? as usize;
        let mut done = 0;
        let mut tasks = Vec::new();
        // Enqueue each batch as soon as it is read; Meilisearch indexes one
        // while the next is read from SQL. Every task is checked below.
        open_documents(store, now, async |docs| {
            done += docs.len();
            tasks.push(building.enqueue_upsert(&docs).await?);
            progress(done, expected);
            Ok(())
        })
        .await?;
        let sent = started.elapsed();
        for task in tasks {
            building.wait_task(task).await?;
        }
        let indexed = started.elapsed();
        let swap = SwapIndexes { indexes: (self.index_name().to_owned(), fresh.clone()), rename: None };
        let task = timed(self.admin.swap_indexes([&swap])).await?;
        self.wait_task(task).await?;
        let task = timed(self.admin.delete_index(&fresh)).await?;
        self.wait_task(task).await?;
        let swapped = started.elapsed();
        // Catch what changed while the new index was being filled.
        let drift = self.check(store, now).await?;
        if !drift.is_clean() {
            self.repair(store, &drift, now).await?;
        }
        tracing::info!(
            index = self.index_name(),
            ads = done,
            sent_ms = sent.as_millis() as u64,
            indexed_ms = indexed.as_millis() as u64,
            swapped_ms = swapped.as_millis() as u64,
            checked_ms = started.elapsed().as_millis() as u64,
            missing = drift.missing.len(),
            stale = drift.stale.len(),
            extra = drift.extra.len(),
            "index rebuilt"
        );
        Ok(drift)
    }
}
