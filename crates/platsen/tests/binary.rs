//! The `platsen` binary as an operator runs it: a separate process,
//! configured by its environment. Settings are read as people write them,
//! and the response cache keeps the server's memory bounded whatever URLs
//! anyone asks for.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `platsen serve` process on a fresh SQLite file, stopped when dropped.
struct Server {
    child: Child,
    base: String,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts the server with `env` and waits until it answers `/readyz`;
/// `Err` with what it printed if it exits first.
async fn serve(env: &[(&str, &str)]) -> Result<Server, String> {
    let dir = std::env::temp_dir().join(format!("platsen-binary-{:016x}", rand_u64()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_platsen"));
    cmd.arg("serve")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PLATSEN_DATABASE_URL", format!("sqlite:{}", dir.join("platsen.db").display()))
        .env("PLATSEN_BIND", format!("127.0.0.1:{port}"))
        .env("PLATSEN_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    // Owned by `Server` from the start, so it is stopped however this ends.
    let mut server = Server { child: cmd.spawn().unwrap(), base: format!("http://127.0.0.1:{port}"), dir };
    let client = reqwest::Client::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if let Some(status) = server.child.try_wait().unwrap() {
            let err = std::fs::read_to_string(server.dir.join("stderr.log")).unwrap_or_default();
            return Err(format!("exited with {status}: {err}"));
        }
        if client.get(format!("{}/readyz", server.base)).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok(server);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not become ready within 60 s");
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish() ^ u64::from(std::process::id())
}

/// Resident memory of a process, in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib / 1024.0
}

const ADMIN_TOKEN: &str = "binary-test-admin-token-0123456789";

/// `PLATSEN_DEMO` and `PLATSEN_WEBHOOK_ALLOW_PRIVATE`, spelt as people
/// write yes and no; anything else stops the server with a message that
/// names the variable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boolean_settings_accept_what_people_write() {
    let client = reqwest::Client::new();
    for (spelling, on) in [
        ("1", true),
        ("0", false),
        ("true", true),
        ("false", false),
        ("yes", true),
        ("no", false),
        ("on", true),
        ("off", false),
        ("TRUE", true),
        ("Off", false),
    ] {
        let server = serve(&[
            ("PLATSEN_DEMO", spelling),
            ("PLATSEN_WEBHOOK_ALLOW_PRIVATE", spelling),
            ("PLATSEN_ADMIN_TOKEN", ADMIN_TOKEN),
        ])
        .await
        .unwrap_or_else(|e| panic!("{spelling:?}: {e}"));
        let jobs: serde_json::Value =
            client.get(format!("{}/api/v1/jobs", server.base)).send().await.unwrap().json().await.unwrap();
        assert_eq!(jobs["total"].as_i64().unwrap() > 0, on, "PLATSEN_DEMO={spelling}: {jobs}");
        let hook = client
            .post(format!("{}/api/v1/webhooks", server.base))
            .bearer_auth(ADMIN_TOKEN)
            .json(&serde_json::json!({ "url": "http://127.0.0.1:9/hook" }))
            .send()
            .await
            .unwrap();
        let (status, body) = (hook.status().as_u16(), hook.text().await.unwrap());
        if on {
            assert_eq!(status, 201, "PLATSEN_WEBHOOK_ALLOW_PRIVATE={spelling}: {body}");
        } else {
            assert!(
                status == 422 && body.contains("private_address"),
                "PLATSEN_WEBHOOK_ALLOW_PRIVATE={spelling}: {body}"
            );
        }
    }
    let refused = serve(&[("PLATSEN_DEMO", "kanske")]).await.err().expect("a value that is neither yes nor no");
    assert!(refused.contains("PLATSEN_DEMO") || refused.contains("--demo"), "{refused}");
}

/// Anyone can ask for any URL: 20,000 distinct cacheable URLs with answers
/// of about 100 KB each (2 GB if all were kept) leave the server's
/// resident memory under 250 MB, during the run and after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_distinct_urls_leave_memory_bounded() {
    const BOUND_MIB: f64 = 250.0;
    let server = serve(&[("PLATSEN_DEMO", "1"), ("PLATSEN_RATE_LIMIT", "0")]).await.unwrap();
    let client = reqwest::Client::new();
    let full = client.get(format!("{}/api/v1/stream?since=0&limit=1000", server.base)).send().await.unwrap();
    let full_size = full.bytes().await.unwrap().len();
    assert!(full_size > 50_000, "the demo stream is a large answer ({full_size} bytes)");
    let before = rss_mib(server.child.id());
    // Half with a parameter the endpoint ignores, half with distinct values
    // of the ones it reads (leading zeros make each cursor a new URL).
    let urls: Vec<String> = (0..20_000)
        .map(|i| {
            if i % 2 == 0 {
                format!("{}/api/v1/stream?since=0&limit=1000&cb={i}", server.base)
            } else {
                let zeros = "0".repeat(1 + (i / 2) % 18);
                let limit = 100 + (i / 36) % 900;
                format!("{}/api/v1/stream?since={zeros}&limit={limit}", server.base)
            }
        })
        .collect();
    let urls = std::sync::Arc::new(urls);
    let peak = std::sync::Arc::new(std::sync::Mutex::new(before));
    let pid = server.child.id();
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                let now = rss_mib(pid);
                {
                    let mut p = peak.lock().unwrap();
                    *p = p.max(now);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let mut workers = Vec::new();
    for w in 0..8 {
        let (urls, client) = (urls.clone(), client.clone());
        workers.push(tokio::spawn(async move {
            let mut bytes = 0usize;
            for url in urls.iter().skip(w).step_by(8) {
                let r = client.get(url).send().await.unwrap();
                assert_eq!(r.status(), 200, "{url}");
                bytes += r.bytes().await.unwrap().len();
            }
            bytes
        }));
    }
    let mut served = 0;
    for w in workers {
        served += w.await.unwrap();
    }
    assert!(served > 20_000 * 50_000, "large answers were served ({served} bytes)");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = rss_mib(pid);
    sampler.abort();
    let peak = *peak.lock().unwrap();
    eprintln!("resident memory: {before:.0} MiB before, {peak:.0} MiB at most, {after:.0} MiB after 3 s idle");
    assert!(peak < BOUND_MIB, "resident memory reached {peak:.0} MiB (bound {BOUND_MIB} MiB)");
    assert!(after < BOUND_MIB, "resident memory after the run: {after:.0} MiB");
}
