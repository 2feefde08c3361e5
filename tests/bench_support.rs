//! Shared by the benchmarks: a load generator and seed data.

use std::sync::Arc;
use std::time::{Duration, Instant};

use platsen_jobs::Store;
use platsen_jobs::input::{EmployerInput, JobInput};
use platsen_jobs::model::{Actor, EmploymentType};
use platsen_taxonomy::Role;

/// Connections the load generator keeps busy.
pub const CONNECTIONS: usize = 32;
/// Seconds each measurement lasts.
pub const SECONDS: u64 = 5;

/// Throughput and latency of one measurement.
#[derive(Debug, Clone)]
pub struct Figures {
    pub rps: f64,
    pub p50: Duration,
    pub p99: Duration,
    /// The slowest request.
    pub max: Duration,
}

/// Sends requests made by `make(client, n)` (n counting up from a different
/// start per connection, so `distinct` different requests are spread out) on
/// `CONNECTIONS` keep-alive connections for `SECONDS`.
pub async fn load_requests<F>(distinct: usize, make: F) -> Figures
where
    F: Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    load_requests_on(CONNECTIONS, distinct, make).await
}

/// [`load_requests`] on `connections` connections.
pub async fn load_requests_on<F>(connections: usize, distinct: usize, make: F) -> Figures
where
    F: Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let mut tasks = Vec::new();
    for c in 0..connections {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
            let mut lat = Vec::with_capacity(100_000);
            let mut i = c * distinct.max(1) / connections;
            while Instant::now() < deadline {
                let t = Instant::now();
                let r = make(&client, i).send().await.expect("request");
                i += 1;
                assert!(r.status().is_success(), "{}", r.status());
                r.bytes().await.expect("body");
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Figures { rps: all.len() as f64 / SECONDS as f64, p50: pct(0.50), p99: pct(0.99), max: all[all.len() - 1] }
}

/// A valid organisation number for bench employer `i`.
pub fn org(i: u32) -> String {
    let base = format!("55{:07}", 9_000_000 + i);
    let sum: u32 = base
        .bytes()
        .rev()
        .enumerate()
        .map(|(k, b)| {
            let d = u32::from(b - b'0');
            if k % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    format!("{}-{}{}", &base[..6], &base[6..], (10 - sum % 10) % 10)
}

const TITLES: [&str; 6] =
    ["Upphandlare", "Inköpare", "Strategisk inköpare", "Avtalscontroller", "Upphandlingsjurist", "Kategoriledare IT"];

/// Bench ad number `n`.
pub fn ad_input(n: usize) -> JobInput {
    let now = chrono::Utc::now();
    let municipalities = platsen_taxonomy::municipalities();
    JobInput {
        title: Some(format!("{} nummer {n}", TITLES[n % TITLES.len()])),
        description: Some(
            "Vi söker en erfaren upphandlare till vår upphandlingsenhet. Du genomför upphandlingar enligt LOU, \
             följer upp avtal och stöttar verksamheten i strategiska inköpsfrågor."
                .into(),
        ),
        role: Some(Role::ALL[n % Role::ALL.len()]),
        municipality_code: Some(municipalities[n % municipalities.len()].code.into()),
        // One ad in twenty is for three municipalities, as a regional
        // employer's are (its places' extra bitmaps and counts are measured).
        municipality_codes: (n % 20 == 7)
            .then(|| (0..3).map(|k| municipalities[(n + k * 97) % municipalities.len()].code.to_owned()).collect()),
        employment_type: Some(EmploymentType::Tillsvidare),
        application_deadline: Some(platsen_jobs::validate::today_in_sweden(now) + chrono::Duration::days(30)),
        apply_url: Some("https://example.org/ansok".into()),
        salary_min: Some(40_000 + (n as i64 % 20) * 1_000),
        salary_max: Some(55_000 + (n as i64 % 20) * 1_000),
        ..Default::default()
    }
}

/// Seeds 50 employers and `n` published ads; returns the ads' ids.
pub async fn seed_ads(store: &Store, n: usize) -> Vec<i64> {
    let now = chrono::Utc::now();
    let mut employers = Vec::new();
    for i in 0..50 {
        let input = EmployerInput {
            name: Some(format!("Benchkommun {i}")),
            organization_number: Some(org(i)),
            ..Default::default()
        };
        employers.push(store.create_employer(input, true, now).await.unwrap().id);
    }
    let mut ids = Vec::with_capacity(n);
    for k in 0..n {
        let ad = store.create_job(Actor::System, employers[k % employers.len()], ad_input(k), now).await.unwrap();
        store.publish_as_operator(ad.id, now).await.unwrap();
        ids.push(ad.id);
        if k % 1000 == 999 {
            eprintln!("  seeded {} / {n} ads", k + 1);
        }
    }
    ids
}

/// Copies the seeded ads in SQL (triggers included) until there are
/// `target` of them; returns how many copies were made.
pub async fn multiply_ads(sqlite_url: &str, target: usize) -> usize {
    let pool = sqlx::SqlitePool::connect(sqlite_url).await.unwrap();
    let cols = "employer_id, status, title, description, role, municipality_code, county_code, remote, employment_type, \
                extent_percent, salary_min, salary_max, salary_period, vacancies, application_deadline, start_text, \
                apply_url, apply_email, contacts, featured, published_at, expires_at, closed_at, rejection_reason, \
                is_demo, version, created_at, updated_at, description_source, description_format";
    let seed: i64 = sqlx::query_scalar("select max(id) from job_ads").fetch_one(&pool).await.unwrap();
    let mut copies = 0;
    let mut round = 1;
    loop {
        let count: i64 = sqlx::query_scalar("select count(*) from job_ads").fetch_one(&pool).await.unwrap();
        let missing = target as i64 - count;
        if missing <= 0 {
            break;
        }
        let sql = format!(
            "insert into job_ads (slug, {cols}) select slug || '-k{round}', {cols} from job_ads where id <= {seed} limit {missing}"
        );
        copies += sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await.unwrap().rows_affected() as usize;
        round += 1;
        eprintln!("  {} ads", count + missing.min(seed));
    }
    pool.close().await;
    copies
}

/// Serves `body` (with `content_type`) from a bare poem handler: the
/// ceiling any endpoint is compared with. Returns a URL on it.
pub async fn bare(body: Vec<u8>, content_type: &'static str) -> String {
    use poem::endpoint::make_sync;
    use poem::listener::{Acceptor, Listener, TcpListener};
    use poem::{EndpointExt, Route, get};
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let app = Route::new()
        .at("/*path", get(make_sync(move |_| poem::Response::builder().content_type(content_type).body(body.clone()))));
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app.map_to_response()));
    format!("http://{addr}/x")
}

/// The resident memory of process `pid` in KiB, from `/proc`.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}
