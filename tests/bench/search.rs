//! `just bench` (search part): every figure next to a reference measured in
//! the same run.
//!
//! - the built-in search on 10,000 ads on SQLite: p50 and p99 through the API,
//!   and its throughput as a ratio of Meilisearch's through the API;
//! - search through the API versus the same query straight to Meilisearch;
//! - freshness: commit to searchable, p50 and p99, under a steady stream;
//! - rebuilding 100,000 ads versus pushing the same documents straight in.
//!
//! Not a test: it asserts nothing and is never run by `cargo test`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use platsen_app::Clock;
use platsen_jobs::model::Actor;
use platsen_jobs::search::{SearchQuery, SearchSort};
use platsen_search::{JobDocument, MeiliConfig, MeiliEngine};
use platsen_tests::bench::{Figures, load_requests, load_requests_on};
use platsen_tests::meili::Meili;

/// The server binary's allocator, so the server in this process runs as it does there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ADS: usize = 10_000;
/// Publications timed by the freshness measurement.
const FRESHNESS_WRITES: usize = 500;
/// The first writes of the stream, not measured.
const FRESHNESS_WARMUP: usize = 100;
const WORDS: [&str; 8] = ["upphandlare", "inköp", "avtal", "kommun", "lou", "upphandlre", "strategisk", "region"];

fn server_config(meili: Option<&Meili>) -> platsen::ServerConfig {
    platsen::ServerConfig {
        meili: meili.map(|m| MeiliConfig {
            url: m.url.clone(),
            master_key: m.master_key.clone(),
            index: "jobs".into(),
        }),
        ..platsen::ServerConfig::default()
    }
}

/// Distinct searches (so the response cache never answers).
fn search_queries() -> Vec<SearchQuery> {
    let mut out = Vec::new();
    for page in 1..=50 {
        for w in WORDS {
            for sort in [SearchSort::Relevance, SearchSort::Newest] {
                out.push(SearchQuery { q: Some(w.into()), page, per_page: 20, sort, ..Default::default() });
            }
        }
    }
    out
}

/// The same searches as API URLs.
fn search_urls(base: &str) -> Vec<String> {
    search_queries()
        .iter()
        .map(|q| {
            let sort = if q.sort == SearchSort::Newest { "newest" } else { "relevance" };
            format!(
                "{base}/api/v1/jobs/search?q={}&page={}&per_page=20&sort={sort}",
                q.q.as_deref().unwrap_or(""),
                q.page
            )
        })
        .collect()
}

/// Which parts to run: `PLATSEN_BENCH_PARTS=database,api,freshness,rebuild`
/// (all when unset).
fn part(name: &str) -> bool {
    std::env::var("PLATSEN_BENCH_PARTS").map_or(true, |parts| parts.split(',').any(|p| p.trim() == name))
}

fn row(name: &str, f: &Figures, ratio: Option<f64>) {
    let ratio = ratio.map_or_else(|| "".to_owned(), |r| format!("{r:.2}"));
    println!("{name:<66} {:>9.0} {:>10.2?} {:>10.2?} {ratio:>7}", f.rps, f.p50, f.p99);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::var_os("PLATSEN_LOG").is_some() {
        platsen::init_logging();
    }
    let dir = std::env::temp_dir().join(format!("platsen-bench-search-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite:{}", dir.join("search.db").display());
    let store = platsen::open_store(&url).await.unwrap();
    eprintln!("seeding {ADS} ads");
    let employers = platsen_tests::corpus::employers(&store, chrono::Utc::now()).await;
    platsen_tests::corpus::publish(&store, &employers, 0, ADS, 1).await;
    println!("\n{:<66} {:>9} {:>10} {:>10} {:>7}", "target", "req/s", "p50", "p99", "ratio");

    // 1. The built-in search, through the API.
    let mut builtin: Option<Figures> = None;
    if part("database") {
        let running = platsen::start(store.clone(), server_config(None), Clock::default()).await.unwrap();
        let base = format!("http://{}", running.addr);
        let urls = Arc::new(search_urls(&base));
        let u = urls.clone();
        let _ = load_requests(urls.len(), move |c, i| c.get(&u[i % u.len()])).await;
        let u = urls.clone();
        let fallback = load_requests(urls.len(), move |c, i| c.get(&u[i % u.len()])).await;
        row("built-in search (SQLite, 10,000 ads) through the API, 32 clients", &fallback, None);
        builtin = Some(fallback);
        let u = urls.clone();
        let alone = load_requests_on(1, urls.len(), move |c, i| c.get(&u[i % u.len()])).await;
        row("built-in search (SQLite, 10,000 ads) through the API, 1 client", &alone, None);
        running.shutdown().await.unwrap();
    }

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
    let now = chrono::Utc::now();
    let bodies: Arc<Vec<serde_json::Value>> =
        Arc::new(search_queries().iter().map(|q| engine.search_body(q, now)).collect());
    if part("api") {
        let direct_url = format!("{}/indexes/jobs/search", meili.url);
        let direct = || {
            let (bodies, direct_url, key) = (bodies.clone(), direct_url.clone(), search_key.clone());
            move |c: &reqwest::Client, i: usize| c.post(&direct_url).bearer_auth(&key).json(&bodies[i % bodies.len()])
        };
        let _ = load_requests(bodies.len(), direct()).await;
        let u = urls.clone();
        let _ = load_requests(urls.len(), move |c, i| c.get(&u[i % u.len()])).await;
        // Alternating rounds, so a drift in Meilisearch's speed over the run
        // falls on both sides; each side's best round is compared.
        let (mut straight, mut api): (Option<Figures>, Option<Figures>) = (None, None);
        for round in 1..=3 {
            eprintln!("measuring: search straight to Meilisearch, round {round}");
            let s = load_requests(bodies.len(), direct()).await;
            let u = urls.clone();
            eprintln!("measuring: search through the API, round {round}");
            let a = load_requests(urls.len(), move |c, i| c.get(&u[i % u.len()])).await;
            println!("  round {round}: straight {:.0} req/s, through the API {:.0} req/s", s.rps, a.rps);
            if straight.as_ref().is_none_or(|b| s.rps > b.rps) {
                straight = Some(s);
            }
            if api.as_ref().is_none_or(|b| a.rps > b.rps) {
                api = Some(a);
            }
        }
        let (straight, api) = (straight.unwrap(), api.unwrap());
        row("Meilisearch, the same queries sent straight to it (best of 3)", &straight, Some(1.0));
        row("Meilisearch through the API (best of 3)", &api, Some(api.rps / straight.rps));
        println!("  added p50 latency through the API: {:.2?}", api.p50.saturating_sub(straight.p50));
        if let Some(b) = &builtin {
            row("built-in search through the API / Meilisearch through the API", b, Some(b.rps / api.rps));
        }
    }

    // 3. Freshness: a steady stream of publications, each timed from commit
    //    until Meilisearch returns it. One poller asks for pending id
    //    every 10 ms (so the measuring adds little load).
    if part("freshness") {
        let pending: Arc<std::sync::Mutex<Vec<(i64, Instant)>>> = Arc::default();
        let (p, docs_url, key) =
            (pending.clone(), format!("{}/indexes/jobs/documents", meili.url), meili.master_key.clone());
        let poller = tokio::spawn(async move {
            let c = reqwest::Client::new();
            let mut lags = Vec::new();
            let give_up = Instant::now() + Duration::from_secs(300);
            while lags.len() < FRESHNESS_WRITES {
                assert!(Instant::now() < give_up, "ads never became searchable");
                tokio::time::sleep(Duration::from_millis(10)).await;
                let ids: Vec<i64> = p.lock().unwrap().iter().map(|(id, _)| *id).collect();
                if ids.is_empty() {
                    continue;
                }
                // `id` is not filterable: one GET per pending document.
                let mut gets = tokio::task::JoinSet::new();
                for id in ids {
                    let req = c.get(format!("{docs_url}/{id}")).bearer_auth(&key).send();
                    gets.spawn(async move { req.await.is_ok_and(|r| r.status().is_success()).then_some(id) });
                }
                let found: Vec<i64> = gets.join_all().await.into_iter().flatten().collect();
                let seen = Instant::now();
                p.lock().unwrap().retain(|(id, committed)| {
                    if found.contains(id) {
                        lags.push((*id, seen - *committed));
                        false
                    } else {
                        true
                    }
                });
            }
            lags
        });
        let employer = store.employers(1, 1, chrono::Utc::now()).await.unwrap().items[0].id;
        let mut warmup = Vec::new();
        let mut measured_from = chrono::Utc::now();
        for n in 0..FRESHNESS_WRITES {
            let input = platsen_tests::bench::ad_input(n + 1_000_000);
            let now = chrono::Utc::now();
            let ad = store.create_job(Actor::System, employer, input, now).await.unwrap();
            store.publish_as_operator(ad.id, now).await.unwrap();
            pending.lock().unwrap().push((ad.id, Instant::now()));
            if n < FRESHNESS_WARMUP {
                warmup.push(ad.id);
            } else if n == FRESHNESS_WARMUP {
                measured_from = chrono::Utc::now();
            }
            tokio::time::sleep(Duration::from_millis(50)).await; // 20 writes a second
        }
        // The first 5 s of the stream warm up (Meilisearch's first tasks
        // after the bulk fill and the search load take seconds); the rest
        // is the steady state, measured. The warm-up's worst is shown too.
        let (warm, steady): (Vec<_>, Vec<_>) =
            poller.await.unwrap().into_iter().partition(|(id, _)| warmup.contains(id));
        let warm_max = warm.iter().map(|(_, lag)| *lag).max().unwrap_or_default();
        let mut lags: Vec<Duration> = steady.into_iter().map(|(_, lag)| lag).collect();
        lags.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "freshness, commit to searchable, 20 writes/s, {} writes after {FRESHNESS_WARMUP} to warm up: p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
            lags.len(),
            ms(lags[lags.len() / 2]),
            ms(lags[lags.len() * 9 / 10]),
            ms(lags[lags.len() * 99 / 100]),
            ms(lags[lags.len() - 1]),
        );
        println!("  during the warm-up: max {:.0} ms", ms(warm_max));
        // The floor: how long Meilisearch itself took per task meanwhile.
        let tasks: serde_json::Value = reqwest::Client::new()
            .get(format!(
                "{}/tasks?indexUids=jobs&types=documentAdditionOrUpdate&limit=1000&afterEnqueuedAt={}",
                meili.url,
                measured_from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ))
            .bearer_auth(&meili.master_key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut task_ms: Vec<f64> = tasks["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["duration"].as_str()?.strip_prefix("PT")?.strip_suffix('S')?.parse::<f64>().ok())
            .map(|s| s * 1000.0)
            .collect();
        task_ms.sort_by(f64::total_cmp);
        if !task_ms.is_empty() {
            println!(
                "  meanwhile Meilisearch's own time per task ({} tasks): p50 {:.0} ms, p99 {:.0} ms",
                task_ms.len(),
                task_ms[task_ms.len() / 2],
                task_ms[task_ms.len() * 99 / 100]
            );
        }
    }
    running.shutdown().await.unwrap();

    if part("rebuild") {
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
    }
    drop(meili);
    let _ = std::fs::remove_dir_all(dir);
}
