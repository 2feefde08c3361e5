//! `just bench`: the board at 100,000 ads on SQLite with the built-in search
//! (what `cargo run --release` runs), in one process, load generator included.
//!
//! 1. Creating ads through the API (create + publish, 8 connections) for
//!    the first 10,000 and for the 90,000th to the 100,000th, the ads in
//!    between written straight through the store: the later rate as a ratio
//!    of the earlier.
//! 2. The SQLite file's size, and where its bytes go (`dbstat`).
//! 3. Start-up: a server on the 100,000 ads until it answers searches, and
//!    `platsen serve`'s resident memory (release binary) with them.
//! 4. Searches through the API, one client: the search page with no words,
//!    a word in nearly every ad, common and rare words, typos, two words,
//!    filters; p50 and p99 of each, next to a bare poem handler serving the
//!    same bytes. Then the same searches rotating on 32 connections: the
//!    slowest request.
//! 5. The expiry sweep's query at 100,000 ads.
//!
//! Not a test: it asserts nothing and is never run by `cargo test`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use platsen_app::Clock;
use platsen_tests::bench::{Figures, bare, load_requests_on};
use platsen_tests::corpus;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ADS: usize = 100_000;
const API_ADS: usize = 10_000;

const SEARCHES: [&str; 12] = [
    "",
    "q=avtal",
    "q=upphandlare",
    "q=upphandlre",
    "q=inkopschef",
    "q=procurement",
    "q=strategisk+inköpare",
    "q=kiruna",
    "q=upphandl",
    "q=avtal&county=01",
    "q=lou&role=upphandlare&sort=newest",
    "sort=deadline&county=14&page=3",
];

fn row(name: &str, f: &Figures, ratio: Option<f64>) {
    let ratio = ratio.map_or_else(String::new, |r| format!("{r:.2}"));
    println!("{name:<58} {:>9.0} {:>10.2?} {:>10.2?} {ratio:>7}", f.rps, f.p50, f.p99);
}

/// Creates `n` ads through the API (create, then publish) on 8 connections;
/// returns ads per second.
async fn create_through_api(base: &str, key: &str, from: usize, n: usize) -> f64 {
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(from));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (base, key, next) = (base.to_owned(), key.to_owned(), next.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let now = chrono::Utc::now();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i >= from + n {
                    break;
                }
                let ad = corpus::ad(i, now);
                let body = serde_json::json!({
                    "title": ad.title, "description": ad.description, "role": ad.role.unwrap().code(),
                    "municipality_code": ad.municipality_code, "employment_type": ad.employment_type.unwrap().code(),
                    "remote": ad.remote.unwrap().code(), "application_deadline": ad.application_deadline,
                    "apply_url": ad.apply_url, "salary_min": ad.salary_min, "salary_max": ad.salary_max,
                });
                let r = client.post(format!("{base}/api/v1/jobs")).bearer_auth(&key).json(&body).send().await.unwrap();
                assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
                let created: serde_json::Value = r.json().await.unwrap();
                let id = created["id"].as_i64().unwrap();
                let r = client.post(format!("{base}/api/v1/jobs/{id}/publish")).bearer_auth(&key).send().await.unwrap();
                assert!(r.status().is_success(), "{}", r.text().await.unwrap());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    n as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::var_os("PLATSEN_LOG").is_some() {
        platsen::init_logging();
    }
    let dir = std::env::temp_dir().join(format!("platsen-bench-scale-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("scale.db");
    let url = format!("sqlite:{}", file.display());
    let store = platsen::open_store(&url).await.unwrap();
    let now = chrono::Utc::now();
    let employers = corpus::employers(&store, now).await;
    let key = store.create_key(employers[0], None, now).await.unwrap().secret;

    // 1. The API's creation rate, early and late.
    let running = platsen::start(store.clone(), platsen::ServerConfig::default(), Clock::default()).await.unwrap();
    let base = format!("http://{}", running.addr);
    eprintln!("creating {API_ADS} ads through the API");
    let early = create_through_api(&base, &key, 0, API_ADS).await;
    running.shutdown().await.unwrap();
    let store = platsen::open_store(&url).await.unwrap();
    eprintln!("writing ads {API_ADS}..{} straight through the store", ADS - API_ADS);
    let started = Instant::now();
    let mut at = API_ADS;
    while at < ADS - API_ADS {
        let to = (at + 10_000).min(ADS - API_ADS);
        corpus::publish(&store, &employers, at, to, 4).await;
        eprintln!("  {to} ads ({:.0} s)", started.elapsed().as_secs_f64());
        at = to;
    }
    let running = platsen::start(store.clone(), platsen::ServerConfig::default(), Clock::default()).await.unwrap();
    let base = format!("http://{}", running.addr);
    eprintln!("creating ads {}..{ADS} through the API", ADS - API_ADS);
    let late = create_through_api(&base, &key, ADS - API_ADS, API_ADS).await;
    running.shutdown().await.unwrap();
    println!("\nCreating ads through the API (create + publish, 8 connections), SQLite");
    println!("  ads 0–10,000:        {early:>7.0} ads/s");
    println!("  ads 90,000–100,000:  {late:>7.0} ads/s   ratio {:.2}", late / early);

    // 2. The file and where its bytes go.
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("pragma wal_checkpoint(truncate)").execute(&pool).await.unwrap();
    let size = std::fs::metadata(&file).unwrap().len();
    println!("\nSQLite file with {ADS} ads: {:.0} MB", size as f64 / 1e6);
    let rows: Vec<(String, i64)> =
        sqlx::query_as("select name, sum(pgsize) from dbstat group by name order by sum(pgsize) desc limit 12")
            .fetch_all(&pool)
            .await
            .unwrap_or_default();
    for (name, bytes) in rows {
        println!("  {name:<40} {:>8.1} MB", bytes as f64 / 1e6);
    }
    let sweep = Instant::now();
    let store = platsen::open_store(&url).await.unwrap();
    let n = store.expire_due(chrono::Utc::now()).await.unwrap().len();
    println!("\nexpiry sweep at {ADS} ads: {:.2?} ({n} due)", sweep.elapsed());
    pool.close().await;

    // 3. Start-up and memory.
    let started = Instant::now();
    let running = platsen::start(store.clone(), platsen::ServerConfig::default(), Clock::default()).await.unwrap();
    let base = format!("http://{}", running.addr);
    let r: serde_json::Value =
        reqwest::get(format!("{base}/api/v1/jobs/search?per_page=1")).await.unwrap().json().await.unwrap();
    println!("\nstart-up to the first search answer ({} ads): {:.2?}", r["total"], started.elapsed());
    let binary = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/platsen");
    if binary.exists() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let t = Instant::now();
        let mut child = std::process::Command::new(&binary)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--rate-limit", "0"])
            .env("PLATSEN_DATABASE_URL", &url)
            .env("PLATSEN_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let client = reqwest::Client::new();
        let search = format!("http://127.0.0.1:{port}/api/v1/jobs/search?q=upphandlare");
        loop {
            if client.get(&search).send().await.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let ready = t.elapsed();
        for q in SEARCHES {
            let _ = client.get(format!("http://127.0.0.1:{port}/api/v1/jobs/search?{q}")).send().await;
        }
        let rss = platsen_tests::bench::rss_kib(child.id());
        println!(
            "`platsen serve` (release): ready to search in {ready:.2?}; resident memory {}",
            rss.map_or("unknown".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0))
        );
        let _ = child.kill();
        let _ = child.wait();
    } else {
        println!("(build target/release/platsen for the release start-up and memory; `just bench` does)");
    }

    // 4. Searches, one client, then 32 connections.
    println!("\n{:<58} {:>9} {:>10} {:>10} {:>7}", "search at 100,000 ads, 1 client", "req/s", "p50", "p99", "ratio");
    let client = reqwest::Client::new();
    let mut urls = Vec::new();
    for q in SEARCHES {
        // Every request a distinct URL (200 pages × 10 page sizes, more than
        // one client asks for in a run): the response cache never answers.
        let pages: Vec<String> = (0..2000)
            .map(|i| format!("{base}/api/v1/jobs/search?{q}&page={}&per_page={}", i % 200 + 1, 15 + i / 200))
            .collect();
        let body = client.get(&pages[0]).send().await.unwrap().bytes().await.unwrap().to_vec();
        let ceiling = bare(body, "application/json").await;
        let c = ceiling.clone();
        let reference = load_requests_on(1, 1, move |cl, _| cl.get(&c)).await;
        let p = Arc::new(pages.clone());
        let f = load_requests_on(1, p.len(), move |cl, i| cl.get(&p[i % p.len()])).await;
        row(&format!("/api/v1/jobs/search?{q}"), &f, Some(reference.p50.as_secs_f64() / f.p50.as_secs_f64()));
        urls.extend(pages);
    }
    let urls = Arc::new(urls);
    let u = urls.clone();
    let f = load_requests_on(32, u.len(), move |cl, i| cl.get(&u[i % u.len()])).await;
    println!(
        "all of them rotating, 32 connections: {:.0} req/s, p50 {:.2?}, p99 {:.2?}, slowest {:.2?}",
        f.rps, f.p50, f.p99, f.max
    );
    running.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
