//! Several `platsen serve` processes on one PostgreSQL behind a real
//! HAProxy (Debian's `haproxy`, installed with apt-get once when missing,
//! like Chromium), for the tests that must see what operators run.
//!
//! Each instance is the binary cargo built beside the test binary
//! (`target/<profile>/platsen`), started with the environment an operator
//! would set (deploy/systemd/platsen.env.example), on a PostgreSQL schema
//! of the test's own.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::require_services;

/// The `platsen` binary next to this test binary (`target/debug/deps/…`).
fn platsen_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("platsen");
    bin.exists().then_some(bin)
}

fn haproxy_binary() -> Option<PathBuf> {
    let found = || {
        ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    };
    if let Some(p) = found() {
        return Some(p);
    }
    static TRIED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    TRIED.get_or_init(|| crate::apt_install(&["haproxy"]));
    found()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_ready(url: &str, within: Duration) -> bool {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
    let until = Instant::now() + within;
    while Instant::now() < until {
        if client.get(url).send().await.is_ok_and(|r| r.status().is_success()) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// One `platsen serve` process.
pub struct Instance {
    pub port: u16,
    env: Vec<(String, String)>,
    child: Option<Child>,
    log: PathBuf,
}

impl Instance {
    /// One `platsen serve` process on `database_url`, logging into `dir`,
    /// or `None` (after a loud message) when the binary is not built and
    /// services are not required.
    pub async fn single(database_url: &str, dir: &std::path::Path) -> Option<Instance> {
        if platsen_binary().is_none() {
            if require_services() {
                panic!("PLATSEN_REQUIRE_SERVICES=1 but target/<profile>/platsen is not built");
            }
            eprintln!("\n*** SKIPPED: process test (target/<profile>/platsen is not built) ***\n");
            return None;
        }
        let env = vec![
            ("PLATSEN_DATABASE_URL".to_owned(), database_url.to_owned()),
            ("PLATSEN_ADMIN_TOKEN".to_owned(), crate::ADMIN_TOKEN.to_owned()),
            ("PLATSEN_DEMO".to_owned(), "0".to_owned()),
            ("PLATSEN_RATE_LIMIT".to_owned(), "0".to_owned()),
            ("PLATSEN_LOG".to_owned(), "warn".to_owned()),
        ];
        let mut inst = Instance { port: free_port(), env, child: None, log: dir.join("platsen.log") };
        inst.spawn().await;
        Some(inst)
    }

    async fn spawn(&mut self) {
        let bin = platsen_binary().expect("the platsen binary");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        let child = Command::new(bin)
            .arg("serve")
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("PLATSEN_BIND", format!("127.0.0.1:{}", self.port))
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("platsen starts");
        self.child = Some(child);
        let ready = wait_ready(&format!("http://127.0.0.1:{}/readyz", self.port), Duration::from_secs(60)).await;
        assert!(ready, "instance on {} did not become ready:\n{}", self.port, self.log_text());
    }

    /// The instance's own address (for what an operator reads from each
    /// instance directly, such as `/metrics`).
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// The value of one series of the instance's `/metrics`, written as
    /// Prometheus writes it (`platsen_duty_runs_total{duty="billing"}`);
    /// 0 when the series is absent.
    pub async fn metric(&self, series: &str) -> f64 {
        let text = reqwest::Client::new()
            .get(format!("{}/metrics", self.base()))
            .bearer_auth(crate::ADMIN_TOKEN)
            .send()
            .await
            .expect("the instance answers")
            .text()
            .await
            .unwrap();
        text.lines()
            .filter_map(|l| l.rsplit_once(' '))
            .find(|(name, _)| *name == series)
            .map_or(0.0, |(_, v)| v.parse().unwrap())
    }

    /// What the instance logged.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, as systemd stops it; waits for it to exit.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = child.id().expect("a running child").to_string();
            let sent = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
            assert!(sent.success());
            let status = tokio::time::timeout(Duration::from_secs(60), child.wait()).await.expect("it stops").unwrap();
            assert!(status.success(), "a clean exit after SIGTERM: {status}\n{}", self.log_text());
        }
    }

    /// SIGKILL: a crash.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.unwrap();
        }
    }

    /// Starts it again on the same port.
    pub async fn start(&mut self) {
        assert!(self.child.is_none(), "already running");
        self.spawn().await;
    }
}

/// Three (or more) instances behind HAProxy, on one PostgreSQL schema.
pub struct Cluster {
    /// The proxy's address: `http://127.0.0.1:<port>`.
    pub base: String,
    pub instances: Vec<Instance>,
    haproxy: Child,
    dir: PathBuf,
    schema: crate::PgSchema,
    /// The instances' database URL (their schema on the search path).
    pub db_url: String,
}

impl Cluster {
    /// `n` instances, or `None` (after a loud message) when PostgreSQL,
    /// HAProxy or the binary is missing and services are not required.
    pub async fn start(n: usize, extra_env: &[(&str, &str)]) -> Option<Cluster> {
        let skip = |why: String| {
            if require_services() {
                panic!("PLATSEN_REQUIRE_SERVICES=1 but {why}");
            }
            eprintln!("\n*** SKIPPED: multi-instance test ({why}) ***\n");
            None::<Cluster>
        };
        let Some(haproxy) = haproxy_binary() else { return skip("haproxy is not installed".into()) };
        if platsen_binary().is_none() {
            return skip("target/<profile>/platsen is not built (run the workspace's tests)".into());
        }
        let schema = crate::PgSchema::create("platsen_c").await?;
        let dir = std::env::temp_dir().join(format!("platsen-cluster-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let db_url = schema.url.clone();
        let mut env: Vec<(String, String)> = vec![
            ("PLATSEN_DATABASE_URL".into(), db_url.clone()),
            ("PLATSEN_ADMIN_TOKEN".into(), crate::ADMIN_TOKEN.into()),
            ("PLATSEN_DEMO".into(), "0".into()),
            ("PLATSEN_RATE_LIMIT".into(), "0".into()),
            ("PLATSEN_TRUSTED_PROXIES".into(), "127.0.0.1".into()),
            // Longer than HAProxy's check below takes to see it (three
            // failed checks 100 ms apart).
            ("PLATSEN_DRAIN_SECONDS".into(), "1".into()),
            ("PLATSEN_LOG".into(), "warn".into()),
        ];
        env.extend(extra_env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let mut instances = Vec::new();
        for i in 0..n {
            let port = free_port();
            let mut inst = Instance { port, env: env.clone(), child: None, log: dir.join(format!("instance-{i}.log")) };
            // The first migrates; the others find the schema ready.
            inst.spawn().await;
            instances.push(inst);
        }
        let port = free_port();
        let servers: String = instances
            .iter()
            .enumerate()
            .map(|(i, inst)| format!("    server p{i} 127.0.0.1:{}\n", inst.port))
            .collect();
        let cfg = format!(
            "global\n    maxconn 4000\n\
             defaults\n    mode http\n    timeout connect 1s\n    timeout client 30s\n    timeout server 30s\n\
             \x20   retries 3\n    retry-on conn-failure\n    option redispatch 1\n\
             frontend www\n    bind 127.0.0.1:{port}\n    option forwardfor\n    default_backend platsen\n\
             backend platsen\n    balance roundrobin\n    option httpchk\n    http-check send meth GET uri /readyz\n\
             \x20   http-check expect status 200\n    timeout check 2s\n\
             \x20   default-server check inter 100ms fall 3 rise 1\n{servers}"
        );
        let cfg_path = dir.join("haproxy.cfg");
        std::fs::write(&cfg_path, cfg).unwrap();
        let haproxy = Command::new(haproxy)
            .arg("-db")
            .arg("-f")
            .arg(&cfg_path)
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(dir.join("haproxy.log")).unwrap()))
            .kill_on_drop(true)
            .spawn()
            .expect("haproxy starts");
        let base = format!("http://127.0.0.1:{port}");
        assert!(wait_ready(&format!("{base}/readyz"), Duration::from_secs(20)).await, "haproxy answers");
        Some(Cluster { base, instances, haproxy, dir, schema, db_url })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A connection pool on the instances' schema, for what a test sets up
    /// or checks behind the API's back.
    pub async fn db(&self) -> sqlx::PgPool {
        sqlx::PgPool::connect(&self.db_url).await.expect("the cluster's database")
    }

    /// Sums one metric series over the running instances.
    pub async fn metric_sum(&self, series: &str) -> f64 {
        let mut sum = 0.0;
        for inst in self.instances.iter().filter(|i| i.is_running()) {
            sum += inst.metric(series).await;
        }
        sum
    }

    /// Stops everything and drops the schema.
    pub async fn stop(mut self) {
        for inst in &mut self.instances {
            inst.stop().await;
        }
        let _ = self.haproxy.kill().await;
        let _ = std::fs::remove_dir_all(&self.dir);
        self.schema.drop().await;
    }
}
