//! The built-in search engine in step with SQL: the in-memory
//! [`platsen_jobs::index::Index`], filled from the open ads and then fed by
//! the change log.
//!
//! **Freshness.** Before every search the index reads the log after its
//! cursor (one indexed query, usually answering nothing). The log hands out
//! positions in commit order (see `platsen_jobs::store::changes`), so a
//! search that starts after a commit sees it, in this process and in every
//! other process on the same PostgreSQL. Concurrent searches share one read:
//! each takes a ticket on arrival, and a read that started after a ticket
//! was taken serves it, so under load one query feeds many searches.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use chrono::{DateTime, Utc};
use platsen_jobs::index::{Answer, Index, Terms};
use platsen_jobs::model::{JobAd, Page};
use platsen_jobs::search::{SearchQuery, SearchResults, Suggestion};
use platsen_jobs::store::{ChangeKind, JobFilter};
use platsen_jobs::{Error, Store};

/// Ads read per page when filling the index, and changes per page of the log.
const PAGE: i64 = 1000;

#[derive(Debug, Default)]
struct Feed {
    loaded: bool,
    /// The log position the index has applied.
    cursor: i64,
    /// Every ticket up to this one has been served by a finished read.
    served: u64,
}

/// Each ad with its words, made on as many threads as there are cores.
fn terms_in_parallel(ads: Vec<JobAd>) -> Vec<(JobAd, Terms)> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let chunk = ads.len().div_ceil(threads).max(1);
    let mut chunks: Vec<Vec<JobAd>> = Vec::new();
    let mut ads = ads.into_iter().peekable();
    while ads.peek().is_some() {
        chunks.push(ads.by_ref().take(chunk).collect());
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|part| {
                scope.spawn(move || {
                    part.into_iter()
                        .map(|ad| {
                            let t = Index::terms_of(&ad);
                            (ad, t)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}

/// The index and its feed.
#[derive(Debug, Default)]
pub struct Builtin {
    index: RwLock<Index>,
    feed: tokio::sync::Mutex<Feed>,
    tickets: AtomicU64,
}

impl Builtin {
    /// Brings the index up to every change committed before this call.
    pub async fn catch_up(&self, store: &Store, now: DateTime<Utc>) -> platsen_jobs::Result<()> {
        let ticket = self.tickets.fetch_add(1, Ordering::SeqCst) + 1;
        let mut feed = self.feed.lock().await;
        if feed.served >= ticket {
            return Ok(());
        }
        // Every ticket taken so far is served by a read that starts now.
        let serves = self.tickets.load(Ordering::SeqCst);
        if !feed.loaded {
            self.fill(store, &mut feed, now).await?;
        }
        loop {
            let page = match store.changes_since(feed.cursor, PAGE as u32).await {
                Ok(page) => page,
                // The log no longer reaches the cursor (a database restored
                // from an older backup): start again from the ads.
                Err(Error::Invalid(_)) => {
                    tracing::warn!(cursor = feed.cursor, "the change log is behind the search index; refilling it");
                    self.fill(store, &mut feed, now).await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if !page.changes.is_empty() {
                let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
                for change in &page.changes {
                    match change.kind {
                        ChangeKind::Upsert => index.upsert(&change.ad),
                        ChangeKind::Removed => index.remove(change.job_id),
                    }
                }
            }
            feed.cursor = page.cursor;
            if !page.more {
                break;
            }
        }
        feed.served = serves;
        Ok(())
    }

    /// Builds the index from the open ads: the log's end first, then the
    /// ads (any change after that end is applied again by the caller, which
    /// only brings an ad to the same or a newer state).
    async fn fill(&self, store: &Store, feed: &mut Feed, now: DateTime<Utc>) -> platsen_jobs::Result<()> {
        let started = Instant::now();
        let cursor = store.change_log_end().await?;
        let mut index = Index::new();
        let mut report = 10_000;
        // Making each ad's words is most of the work and needs no index: it
        // runs on every core while the next page is read, then the words go
        // into the index in order.
        let mut next = store.indexable_ads_after(0, PAGE, now).await?;
        while let Some(last) = next.last() {
            let after = last.id;
            let ads = std::mem::take(&mut next);
            let (terms, read) = tokio::join!(tokio::task::spawn_blocking(move || terms_in_parallel(ads)), async {
                store.indexable_ads_after(after, PAGE, now).await
            });
            // Only a panic (a bug) or the runtime shutting down fails a blocking task.
            let terms = terms.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
            next = read?;
            for (ad, terms) in terms {
                index.upsert_with_terms(&ad, terms);
            }
            if index.len() >= report {
                tracing::info!(ads = index.len(), "filling the built-in search index");
                report += 10_000;
            }
        }
        tracing::info!(ads = index.len(), ms = started.elapsed().as_millis() as u64, "built-in search index ready");
        *self.index.write().unwrap_or_else(|e| e.into_inner()) = index;
        feed.cursor = cursor;
        feed.loaded = true;
        Ok(())
    }

    /// A search on the index as of now, snippets from the descriptions.
    pub async fn search(
        &self,
        store: &Store,
        query: &SearchQuery,
        now: DateTime<Utc>,
    ) -> platsen_jobs::Result<SearchResults> {
        let started = Instant::now();
        self.catch_up(store, now).await?;
        let Answer { mut results, marks } = self.index.read().unwrap_or_else(|e| e.into_inner()).search(query, now);
        let ids: Vec<i64> = results.hits.iter().map(|h| h.id).collect();
        let texts = store.description_texts(&ids).await?;
        for hit in &mut results.hits {
            if let Some(text) = texts.get(&hit.id) {
                hit.snippet = marks.snippet(text);
            }
        }
        results.processing_ms = started.elapsed().as_millis() as u64;
        Ok(results)
    }

    /// A page of the public list on the index as of now: the index picks
    /// and counts the ads (SQL would walk every open ad for a count, and
    /// no SQL index serves every combination of filters), SQL reads them.
    pub async fn list(
        &self,
        store: &Store,
        filter: &JobFilter,
        page: u32,
        per_page: u32,
        now: DateTime<Utc>,
    ) -> platsen_jobs::Result<Page<JobAd>> {
        self.catch_up(store, now).await?;
        let (ids, total) = self.index.read().unwrap_or_else(|e| e.into_inner()).list(filter, page, per_page, now);
        let mut items = store.indexable_ads(&ids, now).await?;
        // An ad that closed since the index was read is left out; the rest
        // keep the index's order.
        let position: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        items.sort_by_key(|ad| position.get(&ad.id).copied().unwrap_or(usize::MAX));
        Ok(Page { items, total, page, per_page })
    }

    /// Typeahead on the index as of now.
    pub async fn suggest(
        &self,
        store: &Store,
        text: &str,
        now: DateTime<Utc>,
    ) -> platsen_jobs::Result<Vec<Suggestion>> {
        self.catch_up(store, now).await?;
        Ok(self.index.read().unwrap_or_else(|e| e.into_inner()).suggest(text, now))
    }
}
