//! `just bench`: throughput and latency of the public job reads with 10,000
//! ads, on SQLite and PostgreSQL, next to a bare poem handler that returns
//! the same bytes (the HTTP ceiling on this machine), printed as ratios of
//! that ceiling: the same URL again (the response cache answers), every ad
//! in turn and lists with rotating filters (it cannot). On PostgreSQL the
//! uncached ad read is also a ratio of `pgbench -S`, the database's own
//! one-row ceiling measured in the same run. Also the server's resident
//! memory with 10,000 ads. `PLATSEN_BENCH_PARTS=sqlite,postgres` runs those
//! parts only (of pages, sqlite, postgres, writes).
//!
//! Then the public web pages on the demo board (`cargo run --release`'s
//! data): each page's time at p50 and p99 on one connection, next to the
//! bare handler serving the same bytes; the difference is the server's own
//! time for the page. The issue's bar is < 20 ms at p50. Page sizes are
//! printed too (the test suite asserts the 150 KB budget).
//!
//! Then writes: ads created through the API on SQLite with
//! `synchronous=FULL` (what Platsen runs with: an acknowledged write survives
//! a power loss) against `NORMAL` (which may lose the last commits), on one
//! and on eight connections.
//!
//! Everything runs in one process on one runtime, load generator included,
//! so each figure pays the same overheads and the ratios compare like with
//! like. Not a test: it asserts nothing and is never run by `cargo test`.

use std::time::Duration;

use std::sync::Arc;

use platsen_app::Clock;
use platsen_jobs::Store;
use platsen_jobs::store::SqliteDurability;
use platsen_tests::bench::{CONNECTIONS, Figures, SECONDS, bare, load_requests, load_requests_on, seed_ads};

/// The server binary's allocator, so the server in this process runs as it does there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ADS: usize = 10_000;

/// Drives one URL with keep-alive connections.
async fn load(url: &str) -> Figures {
    let url = url.to_owned();
    load_requests(1, move |c, _| c.get(&url)).await
}

/// Drives a list of URLs, each connection walking it from its own offset.
async fn load_many(urls: Arc<Vec<String>>) -> Figures {
    let n = urls.len();
    load_requests(n, move |c, i| c.get(&urls[i % n])).await
}

async fn run_backend(
    name: &str,
    store: Store,
    postgres: Option<sqlx::postgres::PgConnectOptions>,
    rows: &mut Vec<(String, Figures, f64)>,
) {
    eprintln!("{name}: seeding {ADS} ads");
    store.migrate().await.unwrap();
    let ids = seed_ads(&store, ADS).await;
    if let Some(opts) = postgres {
        vacuum_analyze(opts).await;
    }
    let id = ids[ids.len() / 2];
    let config = platsen::ServerConfig::default();
    let running = platsen::start(store, config, Clock::default()).await.unwrap();
    let base = format!("http://{}", running.addr);
    for (label, path) in [
        ("GET /api/v1/jobs?per_page=20", "/api/v1/jobs?per_page=20".to_owned()),
        ("GET /api/v1/jobs/{id}", format!("/api/v1/jobs/{id}")),
    ] {
        let url = format!("{base}{path}");
        let body = reqwest::get(&url).await.unwrap().bytes().await.unwrap().to_vec();
        let ceiling_url = bare(body, "application/json").await;
        let _ = load(&ceiling_url).await; // warm-up
        let ceiling = load(&ceiling_url).await;
        let _ = load(&url).await;
        let real = load(&url).await;
        let ratio = real.rps / ceiling.rps;
        rows.push((format!("bare handler, same bytes as {label}"), ceiling, 1.0));
        rows.push((format!("{name}: {label}"), real, ratio));
    }
    // Every ad in turn (scattered ids): mostly cache misses, the cold path.
    let mut scattered: Vec<String> = ids.iter().map(|id| format!("{base}/api/v1/jobs/{id}")).collect();
    let n = scattered.len();
    for i in 0..n {
        scattered.swap(i, (i * 7919) % n);
    }
    let one = reqwest::get(&scattered[0]).await.unwrap().bytes().await.unwrap().to_vec();
    let ceiling = load(&bare(one, "application/json").await).await;
    let _ = load_many(Arc::new(scattered.clone())).await;
    let real = load_many(Arc::new(scattered)).await;
    let ratio = real.rps / ceiling.rps;
    rows.push(("bare handler, same bytes as one ad".into(), ceiling, 1.0));
    rows.push((format!("{name}: GET /api/v1/jobs/{{id}}, every id in turn"), real, ratio));
    // Lists with rotating filters (role × county × sort × page): distinct
    // URLs, so the response cache cannot answer either.
    let lists = Arc::new(rotating_lists(&base));
    let one = reqwest::get(&lists[0]).await.unwrap().bytes().await.unwrap().to_vec();
    let ceiling = load(&bare(one, "application/json").await).await;
    let _ = load_many(lists.clone()).await;
    let real = load_many(lists.clone()).await;
    let ratio = real.rps / ceiling.rps;
    rows.push(("bare handler, same bytes as one list".into(), ceiling, 1.0));
    rows.push((format!("{name}: GET /api/v1/jobs?role&county&sort&page, {} lists in turn", lists.len()), real, ratio));
    running.shutdown().await.unwrap();
}

/// Vacuums and analyzes the schema's tables after the bulk load, as
/// `pgbench -i` does for its own: a database in steady state, so that
/// autovacuum does not start on the fresh rows in the middle of a
/// measurement (it did, and the uncached ad read varied between 8,800 and
/// 20,000 req/s from run to run).
async fn vacuum_analyze(opts: sqlx::postgres::PgConnectOptions) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect_with(&opts).await.unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("select quote_ident(tablename) from pg_tables where schemaname = current_schema()")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    for table in tables {
        sqlx::query(sqlx::AssertSqlSafe(format!("vacuum analyze {table}"))).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
}

/// Public lists, each with a role, a county, an order and a page.
fn rotating_lists(base: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for page in 1..=3 {
        for sort in ["newest", "deadline"] {
            for county in platsen_taxonomy::counties() {
                for role in platsen_taxonomy::Role::ALL {
                    urls.push(format!(
                        "{base}/api/v1/jobs?role={}&county={}&sort={sort}&page={page}&per_page=20",
                        role.code(),
                        county.code
                    ));
                }
            }
        }
    }
    // Spread neighbours apart, as real traffic is.
    let n = urls.len();
    for i in 0..n {
        urls.swap(i, (i * 7919) % n);
    }
    urls
}

/// PostgreSQL's own one-row ceiling on this machine: `pgbench -S` (select
/// only, one primary-key lookup per transaction) on 32 clients for as long
/// as the other measurements, in a schema of its own. `None` when pgbench
/// is missing or fails.
fn pgbench_select_only(admin_url: &str, schema: &str) -> Option<Figures> {
    let run = |args: &[&str]| {
        std::process::Command::new("pgbench")
            .args(args)
            .arg(admin_url)
            .env("PGOPTIONS", format!("-c search_path={schema}"))
            .output()
            .inspect_err(|e| eprintln!("*** pgbench: {e}"))
            .ok()
            .filter(|o| {
                let ok = o.status.success();
                if !ok {
                    eprintln!("*** pgbench failed: {}", String::from_utf8_lossy(&o.stderr));
                }
                ok
            })
    };
    run(&["-i", "-q", "-s", "10"])?;
    let clients = CONNECTIONS.to_string();
    let seconds = SECONDS.to_string();
    let out = run(&["-S", "-n", "-c", &clients, "-j", "2", "-T", &seconds, "-r"])?;
    let text = String::from_utf8_lossy(&out.stdout);
    let tps: f64 = text.lines().find_map(|l| l.strip_prefix("tps = "))?.split_whitespace().next()?.parse().ok()?;
    let latency: f64 =
        text.lines().find_map(|l| l.strip_prefix("latency average = "))?.split_whitespace().next()?.parse().ok()?;
    let average = Duration::from_secs_f64(latency / 1000.0);
    // pgbench reports the mean latency only: shown in both columns.
    Some(Figures { rps: tps, p50: average, p99: average, max: average })
}

/// What syncing SQLite's log at every commit costs: ads created through
/// the API (one write transaction each) on `synchronous=FULL`, what Platsen
/// runs with, against `NORMAL`, which may lose the last commits on a power
/// loss. One connection (each write waits for its sync) and eight.
async fn run_writes(dir: &std::path::Path, rows: &mut Vec<(String, Figures, f64)>) {
    let mut reference: Vec<Figures> = Vec::new();
    for (label, durability) in [("NORMAL", SqliteDurability::Normal), ("FULL", SqliteDurability::Full)] {
        let url = format!("sqlite:{}", dir.join(format!("writes-{label}.db")).display());
        let store = Store::connect_with(&url, durability).await.unwrap();
        store.migrate().await.unwrap();
        let now = chrono::Utc::now();
        let input = platsen_jobs::input::EmployerInput {
            name: Some("Skrivkommunen".into()),
            organization_number: Some(platsen_tests::bench::org(77)),
            ..Default::default()
        };
        let employer = store.create_employer(input, false, now).await.unwrap().id;
        let key = store.create_key(employer, None, now).await.unwrap().secret;
        let config = platsen::ServerConfig::default();
        let running = platsen::start(store, config, Clock::default()).await.unwrap();
        let url = format!("http://{}/api/v1/jobs", running.addr);
        let deadline = (chrono::Utc::now() + chrono::Duration::days(30)).format("%Y-%m-%d").to_string();
        let body = Arc::new(serde_json::json!({
            "title": "Upphandlare till Skrivkommunen",
            "description": "Vi söker en upphandlare som leder upphandlingar enligt LOU och följer upp avtal.",
            "role": "upphandlare", "municipality_code": "0182", "employment_type": "tillsvidare",
            "application_deadline": deadline, "apply_url": "https://example.org/ansok",
        }));
        for (i, connections) in [1usize, 8].into_iter().enumerate() {
            let (url, key, body) = (url.clone(), key.clone(), body.clone());
            let f = load_requests_on(connections, 1, move |c, _| c.post(&url).bearer_auth(&key).json(&*body)).await;
            let ratio = match reference.get(i) {
                Some(normal) => f.rps / normal.rps,
                None => {
                    reference.push(f.clone());
                    1.0
                }
            };
            rows.push((format!("POST /api/v1/jobs, SQLite {label}, {connections} conn."), f, ratio));
        }
        running.shutdown().await.unwrap();
    }
}

/// The public pages on the demo board, one connection at a time: what one
/// reader waits for, which is the server time plus the HTTP round trip the
/// bare handler also pays.
async fn run_pages(sqlite_url: &str, rows: &mut Vec<(String, Figures, f64)>, sizes: &mut Vec<(String, usize)>) {
    let store = Store::connect(sqlite_url).await.unwrap();
    store.migrate().await.unwrap();
    let config = platsen::ServerConfig { demo: true, ..platsen::ServerConfig::default() };
    let running = platsen::start(store, config, Clock::default()).await.unwrap();
    let base = format!("http://{}", running.addr);
    let list: serde_json::Value =
        reqwest::get(format!("{base}/api/v1/jobs?per_page=100")).await.unwrap().json().await.unwrap();
    let items = list["items"].as_array().expect("demo ads");
    let job = items[0]["slug"].as_str().unwrap().to_owned();
    let employer = items[0]["employer"]["slug"].as_str().unwrap().to_owned();
    let pages = [
        ("/ (start, search)", "/".to_owned()),
        ("/jobb?q=upphandlare", "/jobb?q=upphandlare".to_owned()),
        ("/jobb?q=upphandlrae (typo; no hit in the built-in search)", "/jobb?q=upphandlrae".to_owned()),
        ("/jobb?county=01&sort=deadline", "/jobb?county=01&sort=deadline".to_owned()),
        ("/jobb/{slug}", format!("/jobb/{job}")),
        ("/arbetsgivare/{slug}", format!("/arbetsgivare/{employer}")),
        ("/lonestatistik", "/lonestatistik".to_owned()),
        (
            "/lonestatistik?role=upphandlare (one role: its charts' sizes and texts)",
            "/lonestatistik?role=upphandlare".to_owned(),
        ),
        ("/sitemap.xml", "/sitemap.xml".to_owned()),
        ("/konto (sign-in form)", "/konto".to_owned()),
        ("/feeds/jobs.rss", "/feeds/jobs.rss".to_owned()),
        ("/feeds/deadlines.ics", "/feeds/deadlines.ics".to_owned()),
        ("/embed/v1/jobs.json?employer={slug}", format!("/embed/v1/jobs.json?employer={employer}")),
        ("/api/v1/stream?since=0&limit=100 (micro-cached)", "/api/v1/stream?since=0&limit=100".to_owned()),
        ("/api/v1/snapshot (micro-cached)", "/api/v1/snapshot".to_owned()),
    ];
    for (label, path) in pages {
        let url = format!("{base}{path}");
        let r = reqwest::get(&url).await.unwrap();
        assert!(r.status().is_success(), "{url}: {}", r.status());
        let body = r.bytes().await.unwrap().to_vec();
        sizes.push((label.to_owned(), body.len()));
        let ceiling_url = bare(body, "text/html; charset=utf-8").await;
        let one = |u: String| load_requests_on(1, 1, move |c, _| c.get(&u));
        let _ = one(ceiling_url.clone()).await;
        let ceiling = one(ceiling_url).await;
        let _ = one(url.clone()).await;
        let real = one(url).await;
        let ratio = real.rps / ceiling.rps;
        rows.push((format!("bare handler, same bytes as {label}"), ceiling, 1.0));
        rows.push((format!("page {label}"), real, ratio));
    }
    // Every ad's page in turn: past the response cache, the cold path.
    let urls: Vec<String> = items.iter().map(|i| format!("{base}/jobb/{}", i["slug"].as_str().unwrap())).collect();
    let n = urls.len();
    let urls = Arc::new(urls);
    let _ = load_requests_on(1, n, {
        let urls = urls.clone();
        move |c, i| c.get(&urls[i % n])
    })
    .await;
    let real = load_requests_on(1, n, move |c, i| c.get(&urls[i % n])).await;
    let ceiling = rows.iter().find(|(l, _, _)| l.ends_with("/jobb/{slug}") && l.starts_with("bare")).unwrap().1.clone();
    rows.push(("bare handler, same bytes as /jobb/{slug}".into(), ceiling.clone(), 1.0));
    rows.push((format!("page /jobb/{{slug}}, all {n} demo ads in turn"), real.clone(), real.rps / ceiling.rps));
    running.shutdown().await.unwrap();
}

/// Which parts to run: `PLATSEN_BENCH_PARTS=pages,sqlite,postgres,writes`
/// (all when unset).
fn part(name: &str) -> bool {
    std::env::var("PLATSEN_BENCH_PARTS").map_or(true, |parts| parts.split(',').any(|p| p.trim() == name))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = std::env::temp_dir().join(format!("platsen-bench-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite_url = format!("sqlite:{}", dir.join("bench.db").display());
    let mut rows = Vec::new();

    let mut pages = Vec::new();
    let mut sizes = Vec::new();
    let pages_url = format!("sqlite:{}", dir.join("demo.db").display());
    if part("pages") {
        run_pages(&pages_url, &mut pages, &mut sizes).await;
    }

    if part("sqlite") {
        run_backend("sqlite", Store::connect(&sqlite_url).await.unwrap(), None, &mut rows).await;
    }

    let pg_url =
        std::env::var("PLATSEN_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    match sqlx::PgPool::connect(&pg_url).await {
        Ok(admin) if part("postgres") => {
            let schema = format!("platsen_bench_{:x}", rand::random::<u32>());
            sqlx::query(sqlx::AssertSqlSafe(format!("create schema {schema}"))).execute(&admin).await.unwrap();
            let opts = <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(&pg_url)
                .unwrap()
                .options([("search_path", schema.as_str())]);
            let mut pg_rows = Vec::new();
            run_backend("postgres", Store::connect_postgres(opts.clone()).await.unwrap(), Some(opts), &mut pg_rows)
                .await;
            sqlx::query(sqlx::AssertSqlSafe(format!("drop schema {schema} cascade"))).execute(&admin).await.unwrap();
            // The one-row ceiling, and the uncached ad read as a ratio of it.
            let schema = format!("platsen_pgbench_{:x}", rand::random::<u32>());
            sqlx::query(sqlx::AssertSqlSafe(format!("create schema {schema}"))).execute(&admin).await.unwrap();
            let pgbench = tokio::task::spawn_blocking({
                let (url, schema) = (pg_url.clone(), schema.clone());
                move || pgbench_select_only(&url, &schema)
            })
            .await
            .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("drop schema {schema} cascade"))).execute(&admin).await.unwrap();
            match pgbench {
                Some(tps) => {
                    let every = pg_rows.iter_mut().find(|(l, _, _)| l.contains("every id in turn")).expect("row");
                    every.2 = every.1.rps / tps.rps;
                    every.0 = format!("{} (ratio: of pgbench -S)", every.0);
                    pg_rows.push(("pgbench -S (select-only, 32 clients; mean latency)".into(), tps, 1.0));
                }
                None => eprintln!("*** pgbench unavailable: no ceiling for PostgreSQL's uncached reads"),
            }
            rows.extend(pg_rows);
        }
        Ok(_) => {}
        Err(e) => eprintln!("*** postgres skipped: {e}"),
    }

    println!("\n{CONNECTIONS} connections, {SECONDS} s each, {ADS} published ads, one process on this machine\n");
    println!("{:<62} {:>10} {:>10} {:>10} {:>9}", "target", "req/s", "p50", "p99", "ratio");
    for (name, f, ratio) in &rows {
        println!("{name:<62} {:>10.0} {:>10.2?} {:>10.2?} {:>9.2}", f.rps, f.p50, f.p99, ratio);
    }

    let mut writes = Vec::new();
    if part("writes") {
        run_writes(&dir, &mut writes).await;
    }
    println!("\nWrites: ads created through the API; ratio = req/s against SQLite NORMAL at the same connections");
    println!("(NORMAL may lose the last commits on a power loss; Platsen runs FULL)\n");
    println!("{:<62} {:>10} {:>10} {:>10} {:>9}", "target", "req/s", "p50", "p99", "ratio");
    for (name, f, ratio) in &writes {
        println!("{name:<62} {:>10.0} {:>10.2?} {:>10.2?} {:>9.2}", f.rps, f.p50, f.p99, ratio);
    }

    println!("\nPublic pages on the demo board, one connection (what one reader waits for)");
    println!("server p50 = page p50 - bare p50 (the bare handler pays the same HTTP round trip)\n");
    println!("{:<62} {:>10} {:>10} {:>10} {:>9} {:>11}", "target", "req/s", "p50", "p99", "ratio", "server p50");
    let mut bare_p50 = Duration::ZERO;
    for (name, f, ratio) in &pages {
        let server = if name.starts_with("bare") {
            bare_p50 = f.p50;
            String::new()
        } else {
            format!("{:.2?}", f.p50.saturating_sub(bare_p50))
        };
        println!("{name:<62} {:>10.0} {:>10.2?} {:>10.2?} {:>9.2} {server:>11}", f.rps, f.p50, f.p99, ratio);
    }
    println!("\nPage sizes (HTML, before images; budget 150 KB):");
    for (label, bytes) in &sizes {
        println!("  {label:<50} {:>7.1} KB", *bytes as f64 / 1024.0);
    }

    // Memory: the release binary on the seeded SQLite file, after some reads.
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/platsen");
    if part("sqlite") && bin.exists() {
        let mut child = std::process::Command::new(&bin)
            .args(["serve", "--bind", "127.0.0.1:18089", "--rate-limit", "0"])
            .env("PLATSEN_DATABASE_URL", &sqlite_url)
            .env("PLATSEN_LOG", "warn")
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(800)).await;
        for page in 1..=50 {
            let _ = reqwest::get(format!("http://127.0.0.1:18089/api/v1/jobs?per_page=100&page={page}")).await;
        }
        match platsen_tests::bench::rss_kib(child.id()) {
            Some(kib) => println!(
                "\nresident memory of `platsen serve` (release) with {ADS} ads on SQLite: {:.1} MiB",
                kib as f64 / 1024.0
            ),
            None => println!("\nresident memory: /proc not readable"),
        }
        let _ = child.kill();
        let _ = child.wait();
    } else if part("sqlite") {
        println!("\nresident memory: build target/release/platsen first (`just bench` does)");
    }
    let _ = std::fs::remove_dir_all(dir);
}
