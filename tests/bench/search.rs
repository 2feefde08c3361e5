//! `just bench` (search part): every figure next to a reference measured in
//! the same run.
//!
//! - the built-in search on 10,000 ads on SQLite: p50 and p99 through the API;
//! - search through the API versus the same query straight to Meilisearch;
//! - freshness: commit to searchable, p50 and p99, under a steady stream;
//! - rebuilding 100,000 ads versus pushing the same documents straight in.
//!
//! Not a test: it asserts nothing and is never run by `cargo test`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use platsen_api::Clock;
use platsen_jobs::model::Actor;
use platsen_search::{JobDocument, MeiliConfig, MeiliEngine};
use platsen_tests::bench::{Figures, load_requests, seed_ads};
use platsen_tests::meili::Meili;

const ADS: usize = 10_000;
const WORDS: [&str; 8] = ["upphandlare", "inköp", "avtal", "kommun", "lou", "upphandlre", "strategisk", "region"];

fn server_config(meili: Option<&Meili>) -> platsen::ServerConfig {
    platsen::ServerConfig {
        meili: meili.map(|m| MeiliConfig {
            url: m.url.clone(),
            master_key: m.master_key.clone(),
            index: "jobs".into(),
        }),
        bind: "127.0.0.1:0".into(),
        admin_token: None,
        demo: false,
        rate_limit: 0,
        public_url: None,
    }
}

/// Distinct search URLs (so the response cache never answers).
fn search_urls(base: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for page in 1..=50 {
        for w in WORDS {
            for sort in ["relevance", "newest"] {
                urls.push(format!("{base}/api/v1/jobs/search?q={w}&page={page}&per_page=20&sort={sort}"));
            }
        }
    }
    urls
}

fn row(name: &str, f: &Figures, ratio: Option<f64>) {
    let ratio = ratio.map_or_else(|| "".to_owned(), |r| format!("{r:.2}"));
    println!("{name:<66} {:>9.0} {:>10.2?} {:>10.2?} {ratio:>7}", f.rps, f.p50, f.p99);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = std::env::temp_dir().join(format!("platsen-bench-search-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite:{}", dir.join("search.db").display());
    let store = platsen::open_store(&url).await.unwrap();
    eprintln!("seeding {ADS} ads");
    seed_ads(&store, ADS).await;
    println!("\n{:<66} {:>9} {:>10} {:>10} {:>7}", "target", "req/s", "p50", "p99", "ratio");

    // 1. The built-in search, through the API.
    let running = platsen::start(store.clone(), server_config(None), Clock::default()).await.unwrap();
    let base = format!("http://{}", running.addr);
    let urls = Arc::new(search_urls(&base));
    let u = urls.clone();
    let _ = load_requests(urls.len(), move |c, i| c.get(&u[i % u.len()])).await;
    let u = urls.clone();
    let fallback = load_requests(urls.len(), move |c, i| c.get(&u[i % u.len()])).await;
    row("database search (SQLite, 10,000 ads) through the API", &fallback, None);
    running.shutdown().await.unwrap();

    // 2. Meilisearch: through the API versus straight to Meilisearch.
    let Some(meili) = Meili::start().await else {
        println!("*** Meilisearch unavailable: its figures are skipped");
        return;
    };
    let store = platsen::open_store(&url).await.unwrap();
    let running = platsen::start(store.clone(), server_config(Some(&meili)), Clock::default()).await.unwrap();
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let r: serde_json::Value =
            client.get(format!("{base}/api/v1/jobs/search?per_page=1")).send().await.unwrap().json().await.unwrap();
        if r["engine"] == "meilisearch" && r["total"].as_u64() == Some(ADS as u64) {
            break;
        }
        assert!(Instant::now() < deadline, "the index did not fill");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let engine = MeiliEngine::connect(&MeiliConfig {
        url: meili.url.clone(),
        master_key: meili.master_key.clone(),
        index: "jobs".into(),
    })
    .await
    .unwrap();
    let search_key = engine.search_key().to_owned();
    let urls = Arc::new(search_urls(&base));
    let now = chrono::Utc::now().timestamp();
    let bodies: Arc<Vec<serde_json::Value>> = Arc::new(
        (1..=50)
            .flat_map(|page| {
                WORDS.iter().flat_map(move |w| {
                    ["relevance", "newest"].into_iter().map(move |sort| {
                        let mut body = serde_json::json!({
                            "q": w, "filter": format!("expires_at > {now}"), "page": page, "hitsPerPage": 20,
                            "facets": ["role", "county_code", "municipality_code", "employment_type", "remote", "employer_label"],
                            "attributesToHighlight": ["title"], "attributesToCrop": ["description:30"],
                            "highlightPreTag": "\u{E000}", "highlightPostTag": "\u{E001}", "cropMarker": "…"
                        });
                        if sort == "newest" {
                            body["sort"] = serde_json::json!(["published_at:desc"]);
                        }
                        body
                    })
                })
            })
            .collect(),
    );
    let direct_url = format!("{}/indexes/jobs/search", meili.url);
    let direct = || {
        let (bodies, direct_url, key) = (bodies.clone(), direct_url.clone(), search_key.clone());
        move |c: &reqwest::Client, i: usize| c.post(&direct_url).bearer_auth(&key).json(&bodies[i % bodies.len()])
    };
    let _ = load_requests(bodies.len(), direct()).await;
    let straight = load_requests(bodies.len(), direct()).await;
    let u = urls.clone();
    let _ = load_requests(urls.len(), move |c, i| c.get(&u[i % u.len()])).await;
    let u = urls.clone();
    let api = load_requests(urls.len(), move |c, i| c.get(&u[i % u.len()])).await;
    row("Meilisearch, the same queries sent straight to it", &straight, Some(1.0));
    row("Meilisearch through the API", &api, Some(api.rps / straight.rps));
    println!("  added p50 latency through the API: {:.2?}", api.p50.saturating_sub(straight.p50));

    // 3. Freshness: a steady stream of publications, each timed from commit
    //    until Meilisearch returns it.
    let mut lags = Vec::new();
    let mut waiters = Vec::new();
    let employer = store.employers(1, 1, chrono::Utc::now()).await.unwrap().items[0].id;
    for n in 0..200 {
        let input = platsen_tests::bench::ad_input(n + 1_000_000);
        let now = chrono::Utc::now();
        let ad = store.create_job(Actor::System, employer, input, now).await.unwrap();
        store.publish_as_operator(ad.id, now).await.unwrap();
        let committed = Instant::now();
        let (url, key) = (format!("{}/indexes/jobs/documents/{}", meili.url, ad.id), meili.master_key.clone());
        waiters.push(tokio::spawn(async move {
            let c = reqwest::Client::new();
            loop {
                if c.get(&url).bearer_auth(&key).send().await.is_ok_and(|r| r.status().is_success()) {
                    return committed.elapsed();
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
        tokio::time::sleep(Duration::from_millis(50)).await; // 20 writes a second
    }
    for w in waiters {
        lags.push(w.await.unwrap());
    }
    lags.sort();
    println!(
        "freshness, commit to searchable, 20 writes/s: p50 {:.0?}, p99 {:.0?}",
        lags[lags.len() / 2],
        lags[lags.len() * 99 / 100]
    );
    running.shutdown().await.unwrap();

    // 4. Rebuild 100,000 ads versus pushing the same documents straight in.
    let copies = platsen_tests::bench::multiply_ads(&url, 100_000).await;
    let store = platsen::open_store(&url).await.unwrap();
    let now = chrono::Utc::now();
    let started = Instant::now();
    let drift = engine.rebuild(&store, now, |_, _| {}).await.unwrap();
    let rebuild = started.elapsed();
    let docs = drift.expected;
    let mut all = Vec::with_capacity(docs);
    let mut after = 0;
    loop {
        let page = store.indexable_ads_after(after, 10_000, now).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.id;
        all.extend(page.iter().map(JobDocument::from));
    }
    let direct_engine = MeiliEngine::connect(&MeiliConfig {
        url: meili.url.clone(),
        master_key: meili.master_key.clone(),
        index: "direct".into(),
    })
    .await
    .unwrap();
    direct_engine.ensure_index().await.unwrap();
    let started = Instant::now();
    direct_engine.push_all(&all, 10_000).await.unwrap();
    let push = started.elapsed();
    let (r, p) = (docs as f64 / rebuild.as_secs_f64(), all.len() as f64 / push.as_secs_f64());
    println!(
        "rebuild of {docs} ads ({copies} copied in SQL): {r:.0} docs/s; straight push of the same documents: {p:.0} docs/s; ratio {:.2}",
        r / p
    );
    drop(meili);
    let _ = std::fs::remove_dir_all(dir);
}
