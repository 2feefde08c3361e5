//! Test harness: starts the real server (the same `platsen::start` the binary
//! uses) on a free port with a fresh database, SQLite or PostgreSQL, and
//! gives tests intention-revealing helpers.
//!
//! PostgreSQL is found through `PLATSEN_TEST_DATABASE_URL` (the workspace's
//! `.cargo/config.toml` points it at the local server). If it cannot be
//! reached the PostgreSQL tests say so loudly and skip, unless
//! `PLATSEN_REQUIRE_SERVICES=1`, when they fail.

use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use platsen::{Running, ServerConfig};
use platsen_app::Clock;
use platsen_jobs::Store;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::postgres::PgConnectOptions;

pub mod axe;
#[path = "bench_support.rs"]
pub mod bench;
pub mod browser;
pub mod cluster;
pub mod corpus;
pub mod gate;
pub mod meili;
pub mod smtp;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef";

/// A database as an earlier version left it, to write rows into as that
/// version did.
#[derive(Debug, Clone)]
pub enum OldDatabase {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// A running server with its own empty database.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Clock,
    pub store: Store,
    /// The SMTP server this app sends its mail to.
    pub smtp: smtp::SmtpSink,
    running: Option<Running>,
    /// The Meilisearch this app keeps in step, if any.
    pub meili: Option<meili::Meili>,
    _dir: Option<tempfile_dir::TempDir>,
    /// The folder invoices are written to for the Peppol access point.
    peppol_outbox: tempfile_dir::TempDir,
    pg_schema: Option<(String, String)>,
}

/// A minimal temporary directory, removed on drop.
mod tempfile_dir {
    pub struct TempDir(pub std::path::PathBuf);
    impl TempDir {
        pub fn new() -> Self {
            let n: u64 = rand::random();
            let p = std::env::temp_dir().join(format!("platsen-test-{n:016x}"));
            std::fs::create_dir_all(&p).expect("create temp dir");
            TempDir(p)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Installs Debian packages with apt-get (an `apt-get update` first if that
/// fails), when running as root on a machine with apt; quietly nothing
/// otherwise (the caller then skips or fails as services require).
pub(crate) fn apt_install(packages: &[&str]) {
    let root = std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !root || !std::path::Path::new("/usr/bin/apt-get").exists() {
        return;
    }
    eprintln!("installing {} with apt-get (once)", packages.join(", "));
    let install = || {
        std::process::Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !install() {
        let _ =
            std::process::Command::new("apt-get").args(["update", "-q"]).stdout(std::process::Stdio::null()).status();
        install();
    }
}

pub fn require_services() -> bool {
    std::env::var("PLATSEN_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

impl TestApp {
    /// A server on a fresh SQLite file.
    pub async fn sqlite() -> TestApp {
        let dir = tempfile_dir::TempDir::new();
        let url = format!("sqlite:{}", dir.0.join("platsen.db").display());
        let store = platsen::open_store(&url).await.expect("open sqlite");
        Self::start(store, Some(dir), None, None).await
    }

    /// A server on a fresh SQLite file with a Meilisearch of its own, or
    /// `None` when Meilisearch cannot be had and services are not required.
    pub async fn sqlite_with_meili() -> Option<TestApp> {
        let meili = meili::Meili::start().await?;
        let dir = tempfile_dir::TempDir::new();
        let url = format!("sqlite:{}", dir.0.join("platsen.db").display());
        let store = platsen::open_store(&url).await.expect("open sqlite");
        Some(Self::start(store, Some(dir), None, Some(meili)).await)
    }

    /// PostgreSQL and a Meilisearch of its own.
    pub async fn postgres_with_meili() -> Option<TestApp> {
        let meili = meili::Meili::start().await?;
        let (store, schema) = Self::postgres_store().await?;
        Some(Self::start(store, None, Some(schema), Some(meili)).await)
    }

    /// A server on PostgreSQL in a schema of its own, or `None` (after a loud
    /// message) when no server is reachable and services are not required.
    pub async fn postgres() -> Option<TestApp> {
        let (store, schema) = Self::postgres_store().await?;
        Some(Self::start(store, None, Some(schema), None).await)
    }

    /// A server on a SQLite database that an earlier version of Platsen
    /// made: the migrations up to `version`, then `seed`'s rows written as
    /// that version wrote them; the server then starts as on an upgrade
    /// (migrating the rest).
    pub async fn sqlite_upgraded_from<F, Fut>(version: i64, seed: F) -> TestApp
    where
        F: FnOnce(OldDatabase) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let dir = tempfile_dir::TempDir::new();
        let url = format!("sqlite:{}", dir.0.join("platsen.db").display());
        let old = Store::connect(&url).await.expect("open sqlite");
        old.migrate_to(version).await.expect("the earlier schema");
        old.close().await;
        let pool = sqlx::SqlitePool::connect(&url).await.expect("sqlite for seeding");
        seed(OldDatabase::Sqlite(pool.clone())).await;
        pool.close().await;
        let store = platsen::open_store(&url).await.expect("open and migrate sqlite");
        Self::start(store, Some(dir), None, None).await
    }

    /// [`TestApp::sqlite_upgraded_from`] on PostgreSQL, or `None` as [`TestApp::postgres`].
    pub async fn postgres_upgraded_from<F, Fut>(version: i64, seed: F) -> Option<TestApp>
    where
        F: FnOnce(OldDatabase) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let (old, (url, schema)) = Self::postgres_schema().await?;
        old.migrate_to(version).await.expect("the earlier schema");
        let opts = PgConnectOptions::from_str(&url).expect("pg url").options([("search_path", schema.as_str())]);
        let pool = sqlx::PgPool::connect_with(opts).await.expect("postgres for seeding");
        seed(OldDatabase::Postgres(pool.clone())).await;
        pool.close().await;
        old.migrate().await.expect("migrate pg");
        Some(Self::start(old, None, Some((url, schema)), None).await)
    }

    async fn postgres_store() -> Option<(Store, (String, String))> {
        let (store, schema) = Self::postgres_schema().await?;
        store.migrate().await.expect("migrate pg");
        Some((store, schema))
    }

    /// A store on a new, empty PostgreSQL schema (not migrated).
    async fn postgres_schema() -> Option<(Store, (String, String))> {
        let Ok(url) = std::env::var("PLATSEN_TEST_DATABASE_URL") else {
            if require_services() {
                panic!("PLATSEN_REQUIRE_SERVICES=1 but PLATSEN_TEST_DATABASE_URL is not set");
            }
            eprintln!("\n*** SKIPPED: PostgreSQL test (PLATSEN_TEST_DATABASE_URL is not set) ***\n");
            return None;
        };
        let schema = format!("platsen_t_{:016x}", rand::random::<u64>());
        let admin = match sqlx::PgPool::connect(&url).await {
            Ok(p) => p,
            Err(e) => {
                if require_services() {
                    panic!("PLATSEN_REQUIRE_SERVICES=1 but PostgreSQL at {url} is unreachable: {e}");
                }
                eprintln!("\n*** SKIPPED: PostgreSQL test ({url} unreachable: {e}) ***\n");
                return None;
            }
        };
        sqlx::query(sqlx::AssertSqlSafe(format!("create schema {schema}")))
            .execute(&admin)
            .await
            .expect("create schema");
        admin.close().await;
        let opts = PgConnectOptions::from_str(&url).expect("pg url").options([("search_path", schema.as_str())]);
        let store = Store::connect_postgres(opts).await.expect("connect pg");
        Some((store, (url, schema)))
    }

    async fn start(
        store: Store,
        dir: Option<tempfile_dir::TempDir>,
        pg_schema: Option<(String, String)>,
        meili: Option<meili::Meili>,
    ) -> TestApp {
        Self::start_with(store, dir, pg_schema, meili, true).await
    }

    /// A SQLite app whose webhooks, as in production, reach only public
    /// addresses.
    pub async fn sqlite_public_webhooks_only() -> TestApp {
        let dir = tempfile_dir::TempDir::new();
        let url = format!("sqlite:{}", dir.0.join("platsen.db").display());
        let store = platsen::open_store(&url).await.expect("open sqlite");
        Self::start_with(store, Some(dir), None, None, false).await
    }

    async fn start_with(
        store: Store,
        dir: Option<tempfile_dir::TempDir>,
        pg_schema: Option<(String, String)>,
        meili: Option<meili::Meili>,
        webhook_allow_private: bool,
    ) -> TestApp {
        let clock = Clock::default();
        let smtp = smtp::SmtpSink::start().await;
        let peppol_outbox = tempfile_dir::TempDir::new();
        let config = ServerConfig {
            meili: meili.as_ref().map(|m| platsen_search::MeiliConfig {
                url: m.url.clone(),
                master_key: m.master_key.clone(),
                index: "jobs".into(),
            }),
            admin_token: Some(ADMIN_TOKEN.into()),
            smtp_url: Some(format!("smtp://{}", smtp.addr)),
            // The tests' webhook receivers listen on loopback.
            webhook_allow_private,
            peppol_outbox: Some(peppol_outbox.0.join("utkorg")),
            ..Default::default()
        };
        let running = platsen::start(store.clone(), config, clock.clone()).await.expect("server starts");
        TestApp {
            base: format!("http://{}", running.addr),
            client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            clock,
            store,
            smtp,
            running: Some(running),
            meili,
            _dir: dir,
            peppol_outbox,
            pg_schema,
        }
    }

    /// Stops the server as SIGTERM does, keeping its database (its folder
    /// goes when the app is dropped).
    pub async fn stop_server(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await.expect("clean shutdown");
        }
    }

    /// The database URL of a server on SQLite (`None` on PostgreSQL).
    pub fn sqlite_url(&self) -> Option<String> {
        self._dir.as_ref().map(|d| format!("sqlite:{}", d.0.join("platsen.db").display()))
    }

    /// The PostgreSQL server URL and this app's schema on it (`None` on SQLite).
    pub fn postgres_url_and_schema(&self) -> Option<(&str, &str)> {
        self.pg_schema.as_ref().map(|(url, schema)| (url.as_str(), schema.as_str()))
    }

    /// Runs one statement straight on this app's database, for set-up that
    /// no API offers (e.g. more rows than a sweep takes at once); returns
    /// the rows it affected. Written in SQL both databases accept.
    pub async fn execute_sql(&self, sql: &str) -> u64 {
        if let Some(url) = self.sqlite_url() {
            let opts = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
                .expect("sqlite url")
                .busy_timeout(std::time::Duration::from_secs(10));
            let pool = sqlx::SqlitePool::connect_with(opts).await.expect("the test's SQLite file");
            let n = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await.expect(sql).rows_affected();
            pool.close().await;
            n
        } else {
            let (url, schema) = self.postgres_url_and_schema().expect("a database");
            let opts = PgConnectOptions::from_str(url).expect("pg url").options([("search_path", schema)]);
            let pool = sqlx::PgPool::connect_with(opts).await.expect("the test's schema");
            let n = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await.expect(sql).rows_affected();
            pool.close().await;
            n
        }
    }

    /// A folder of this test's own, removed with the app (SQLite only).
    pub fn dir(&self) -> Option<&std::path::Path> {
        self._dir.as_ref().map(|d| d.0.as_path())
    }

    /// The folder the server writes invoices to for the Peppol access point.
    pub fn peppol_outbox(&self) -> std::path::PathBuf {
        self.peppol_outbox.0.join("utkorg")
    }

    /// Stops the server and drops a PostgreSQL schema.
    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await.expect("clean shutdown");
        }
        if let Some((url, schema)) = self.pg_schema.take()
            && let Ok(admin) = sqlx::PgPool::connect(&url).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("drop schema {schema} cascade"))).execute(&admin).await;
            admin.close().await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request; `auth` is a bearer token; `body` is sent as JSON.
    pub async fn call(&self, method: Method, path: &str, auth: Option<&str>, body: Option<Value>) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = auth {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        Reply::from(req.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None, None).await
    }

    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call(method, path, Some(ADMIN_TOKEN), body).await
    }

    /// Creates an employer through the admin API and returns its id.
    pub async fn create_employer(&self, name: &str) -> i64 {
        let r = self
            .admin(
                Method::POST,
                "/api/v1/employers",
                Some(json!({ "name": name, "organization_number": org_number() })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_i64().unwrap()
    }

    /// Issues an API key for an employer and returns the secret.
    pub async fn create_key(&self, employer_id: i64) -> String {
        let r = self.admin(Method::POST, &format!("/api/v1/employers/{employer_id}/keys"), Some(json!({}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["key"].as_str().unwrap().to_owned()
    }

    /// Creates a web account for an employer's user through the admin API.
    pub async fn create_user(&self, employer_id: i64, email: &str, password: &str) -> i64 {
        let path = format!("/api/v1/employers/{employer_id}/users");
        let r = self.admin(Method::POST, &path, Some(json!({ "email": email, "password": password }))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_i64().unwrap()
    }

    /// A new employer with a key.
    pub async fn employer_with_key(&self, name: &str) -> (i64, String) {
        let id = self.create_employer(name).await;
        (id, self.create_key(id).await)
    }

    /// Posts a draft ad and returns its id.
    pub async fn post_job(&self, key: &str, body: Value) -> i64 {
        let r = self.call(Method::POST, "/api/v1/jobs", Some(key), Some(body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_i64().unwrap()
    }

    /// Posts and publishes an ad and returns its id.
    pub async fn publish_job(&self, key: &str, body: Value) -> i64 {
        let id = self.post_job(key, body).await;
        let r = self.call(Method::POST, &format!("/api/v1/jobs/{id}/publish"), Some(key), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        id
    }

    /// How many ads an employer has in any status.
    pub async fn own_job_count(&self, key: &str) -> i64 {
        let r = self.call(Method::GET, "/api/v1/account/jobs", Some(key), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body["total"].as_i64().unwrap()
    }

    /// The date `days` from today in Sweden, as the API writes it.
    pub fn date_in(&self, days: i64) -> String {
        let today = platsen_jobs::validate::today_in_sweden(self.clock.now());
        (today + chrono::Duration::days(days)).to_string()
    }

    /// Fills the board with the demo employers, ads and salary survey that
    /// `cargo run` starts with.
    pub async fn seed_demo(&self) {
        let ads = platsen_jobs::demo::seed_if_empty(&self.store, self.clock.now()).await.expect("demo ads");
        assert!(ads > 0, "the demo board has ads");
        platsen_jobs::demo::seed_salaries_if_empty(&self.store, self.clock.now()).await.expect("demo salaries");
    }

    /// Uploads a salary survey (`token` is the bearer token, if any).
    pub async fn upload_survey(&self, body: &str, token: Option<&str>, content_type: &str) -> Reply {
        let mut req = self
            .client
            .post(self.url("/api/v1/salaries/imports?filename=enkat-2025.csv"))
            .header("content-type", content_type)
            .body(body.to_owned());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Reply::from(req.send().await.unwrap()).await
    }

    /// A valid ad body with a salary, due in 20 days by the test's clock;
    /// override fields with `with`.
    pub fn job(&self, title: &str) -> Value {
        with(ad_body(title, &self.date_in(20)), json!({ "salary_min": 45000, "salary_max": 55000 }))
    }
}

pub const HEADER: &str = "year,role,sector,county_code,gender,age,experience_years,monthly_salary_sek,extent_percent,specialisation,is_manager";

/// A survey: 40 upphandlare (some part-time) and 12 inköpschefer in 2025,
/// 30 upphandlare in 2024. Returns the file and the 2025 upphandlare's
/// full-time salaries.
pub fn survey() -> (String, Vec<f64>) {
    let mut csv = format!("{HEADER},free text\n");
    let mut upph = Vec::new();
    for i in 0..40u32 {
        let extent = if i % 5 == 0 { 80 } else { 100 };
        let salary = 38_000 + i * 431;
        let paid = salary * extent / 100;
        let gender = if i % 3 == 0 { "man" } else { "kvinna" };
        csv.push_str(&format!(
            "2025,upphandlare,kommun,01,{gender},{},{},{paid},{extent},,false,\"x, y\"\n",
            30 + i % 30,
            i % 15
        ));
        upph.push(f64::from(paid) * 100.0 / f64::from(extent));
    }
    for i in 0..12u32 {
        csv.push_str(&format!("2025,inkopschef,stat,14,kvinna,50,12,{},100,it,true,\n", 60_000 + i * 900));
    }
    for i in 0..30u32 {
        csv.push_str(&format!("2024,upphandlare,kommun,01,kvinna,40,5,{},100,,false,\n", 37_000 + i * 400));
    }
    upph.sort_by(f64::total_cmp);
    (csv, upph)
}

/// Merges `extra` into a JSON object.
pub fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub async fn from(r: reqwest::Response) -> Reply {
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, headers, body, text }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json reply with this status and problem type.
    pub fn assert_problem_kind(&self, status: u16, kind: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{}", self.text);
        assert_eq!(self.body["type"].as_str(), Some(format!("urn:platsen:problem:{kind}").as_str()), "{}", self.text);
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{}", self.text);
    }

    /// Asserts a problem+json reply with this status that names `field`.
    pub fn assert_problem(&self, status: u16, field: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{}", self.text);
        assert_eq!(self.body["status"].as_u64(), Some(u64::from(status)), "{}", self.text);
        assert!(self.body["type"].as_str().is_some_and(|t| t.starts_with("urn:platsen:problem:")), "{}", self.text);
        let fields: Vec<&str> =
            self.body["errors"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
        assert!(fields.contains(&field), "expected {field} among {fields:?}: {}", self.text);
    }
}

/// A fresh organisation number with a valid check digit.
pub fn org_number() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed) + rand::random::<u32>() % 1_000_000 * 100;
    let base = format!("55{:07}", n % 10_000_000);
    let digits: Vec<u32> = base.bytes().map(|b| u32::from(b - b'0')).collect();
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    let check = (10 - sum % 10) % 10;
    format!("{}-{}{check}", &base[..6], &base[6..])
}

/// Runs each named test body against SQLite and against PostgreSQL.
#[macro_export]
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = platsen_tests::TestApp::sqlite().await;
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(app) = platsen_tests::TestApp::postgres().await else { return };
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
    };
}

/// Waits until `check` holds, polling, for at most `secs` seconds; panics
/// with `what` otherwise.
pub async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("not within {secs} s: {what}");
}

/// Runs each named test body on SQLite and on PostgreSQL, each with a real
/// Meilisearch of its own.
#[macro_export]
macro_rules! contract_meili {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(mut app) = platsen_tests::TestApp::sqlite_with_meili().await else { return };
                    super::$name(&mut app).await;
                    app.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(mut app) = platsen_tests::TestApp::postgres_with_meili().await else { return };
                    super::$name(&mut app).await;
                    app.stop().await;
                }
            )*
        }
    };
}

/// Runs `../shared/tools/peppol-validate` (the EN 16931 and Peppol BIS 3
/// Schematron rules) on UBL documents, written under `target/peppol` as
/// `<name>.xml`. Returns the exit code and the report, or `None` when the
/// tool is missing and services are not required.
pub fn peppol_validate(documents: &[(String, String)]) -> Option<(Option<i32>, String)> {
    let tool = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools/peppol-validate");
    if !tool.exists() {
        assert!(!require_services(), "PLATSEN_REQUIRE_SERVICES=1 but {} is missing", tool.display());
        eprintln!("\n*** SKIPPED: Peppol validation ({} is missing) ***\n", tool.display());
        return None;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/peppol");
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (name, xml) in documents {
        let path = dir.join(format!("{name}.xml"));
        std::fs::write(&path, xml).unwrap();
        files.push(path);
    }
    // The tool installs itself and compiles its rules into a cache on first
    // use, writing the compiled file in place: a second run at that moment
    // read it half-written ("XML document structures must start and end
    // within the same entity"). Runs take turns.
    static RUNNING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    let out = std::process::Command::new(&tool).args(&files).output().expect("peppol-validate runs");
    Some((
        out.status.code(),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    ))
}

/// An order as the form or the API would take it: `quantity` units of
/// `product_id` for the organisation `organization_number` (name `name`),
/// with `contact_email` as its contact person.
pub fn order_input(
    organization_number: &str,
    name: &str,
    contact_email: &str,
    product_id: i64,
    quantity: i64,
) -> platsen_jobs::input::OrderInput {
    platsen_jobs::input::OrderInput {
        organization_name: Some(name.into()),
        organization_number: Some(organization_number.into()),
        street: Some("Storgatan 1".into()),
        postal_code: Some("111 22".into()),
        city: Some("Stockholm".into()),
        peppol_id: None,
        buyer_reference: Some("Ref 1".into()),
        order_number: None,
        invoice_email: Some("faktura@example.org".into()),
        contact_name: Some("Kim Kontakt".into()),
        contact_email: Some(contact_email.into()),
        contact_phone: Some("08-123 456".into()),
        product_id: Some(product_id),
        quantity: Some(quantity),
        accept_terms: Some(true),
    }
}

/// The contract tools, pinned, in a virtual environment of the project's
/// (`.tools/contract-venv`, made on first use from PyPI): schemathesis, and
/// openapi-python-client with what the clients it generates import.
pub const CONTRACT_TOOLS: &[&str] = &[
    "schemathesis==4.32.5",
    "openapi-python-client==0.29.1",
    "httpx==0.28.1",
    "attrs==26.1.0",
    "python-dateutil==2.9.0.post0",
];

/// The virtual environment holding `packages`, made or brought up to date
/// on first use. `None` (after a loud message) when it cannot be made and
/// services are not required; with `PLATSEN_REQUIRE_SERVICES=1` it fails.
pub fn python_tools(name: &str, packages: &[&str]) -> Option<std::path::PathBuf> {
    use std::process::Command;
    // Tests run as threads of one process: two of them making the same
    // environment at once broke each other's pip install.
    static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _making = MAKING.lock().unwrap_or_else(|e| e.into_inner());
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools").join(name);
    let marker = venv.join("platsen-packages.txt");
    let wanted = packages.join("\n");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(wanted.as_str()) {
        return Some(venv);
    }
    eprintln!("installing {} into {}", packages.join(" "), venv.display());
    let made = venv.join("bin/pip").exists()
        || Command::new("python3").args(["-m", "venv"]).arg(&venv).status().is_ok_and(|s| s.success());
    let installed = made
        && Command::new(venv.join("bin/pip"))
            .args(["install", "-q", "--disable-pip-version-check"])
            .args(packages)
            .status()
            .is_ok_and(|s| s.success());
    if !installed {
        assert!(!require_services(), "PLATSEN_REQUIRE_SERVICES=1 but {} could not be installed", packages.join(" "));
        eprintln!("\n*** SKIPPED: {} could not be installed from PyPI ***\n", packages.join(" "));
        return None;
    }
    std::fs::write(&marker, wanted).expect("write the venv's marker");
    Some(venv)
}

/// The fields every ad needs, with `deadline` as the application deadline
/// (`YYYY-MM-DD`).
pub fn ad_body(title: &str, deadline: &str) -> Value {
    json!({
        "title": title,
        "description": "Vi söker en erfaren upphandlare som vill utveckla vårt inköpsarbete.",
        "role": "upphandlare",
        "municipality_code": "0182",
        "employment_type": "tillsvidare",
        "application_deadline": deadline,
        "apply_url": "https://example.org/ansok",
    })
}

/// A PostgreSQL schema of a test's own on `PLATSEN_TEST_DATABASE_URL`, for
/// tests that start `platsen` processes (which take a URL, not a pool).
pub struct PgSchema {
    pub name: String,
    /// The admin URL with this schema first on the search path.
    pub url: String,
    admin_url: String,
}

impl PgSchema {
    /// A fresh schema, or `None` (after a loud message) when PostgreSQL
    /// cannot be reached and services are not required.
    pub async fn create(prefix: &str) -> Option<PgSchema> {
        let admin_url = std::env::var("PLATSEN_TEST_DATABASE_URL").unwrap_or_default();
        let admin = match sqlx::PgPool::connect(&admin_url).await {
            Ok(p) => p,
            Err(e) => {
                assert!(!require_services(), "PLATSEN_REQUIRE_SERVICES=1 but PostgreSQL is unreachable: {e}");
                eprintln!("\n*** SKIPPED: PostgreSQL is unreachable ({e}) ***\n");
                return None;
            }
        };
        let name = format!("{prefix}_{:016x}", rand::random::<u64>());
        sqlx::query(sqlx::AssertSqlSafe(format!("create schema {name}"))).execute(&admin).await.unwrap();
        admin.close().await;
        let mut url = url::Url::parse(&admin_url).expect("PLATSEN_TEST_DATABASE_URL is a URL");
        url.query_pairs_mut().append_pair("options", &format!("-c search_path={name}"));
        Some(PgSchema { name, url: url.into(), admin_url })
    }

    /// Drops the schema and all in it.
    pub async fn drop(self) {
        if let Ok(admin) = sqlx::PgPool::connect(&self.admin_url).await {
            let _ =
                sqlx::query(sqlx::AssertSqlSafe(format!("drop schema {} cascade", self.name))).execute(&admin).await;
            admin.close().await;
        }
    }
}

/// An employer and an API key for it, made with the admin token through
/// the server (or the load balancer) at `base`, as an operator would.
pub async fn employer_at(base: &str, name: &str) -> (i64, String) {
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{base}/api/v1/employers"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({ "name": name, "organization_number": org_number() }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = client
        .post(format!("{base}/api/v1/employers/{id}/keys"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    (id, r.json::<Value>().await.unwrap()["key"].as_str().unwrap().to_owned())
}
