//! Durability under faults (issue 22): the server process SIGKILLed in the
//! middle of a burst of concurrent writes, five times over, on SQLite and on
//! PostgreSQL: every acknowledged write is there after the restart, and no
//! ad is half written.

use std::time::Duration;

use platsen_tests::cluster::Instance;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// An ad whose description is long enough that a torn write would show.
fn ad(title: &str) -> Value {
    let deadline = (chrono::Utc::now() + chrono::Duration::days(20)).date_naive().to_string();
    let description =
        format!("{title}. {}", "Vi söker en erfaren upphandlare som leder upphandlingar enligt LOU. ".repeat(40));
    platsen_tests::with(platsen_tests::ad_body(title, &deadline), json!({ "description": description }))
}

/// Writers create ads as fast as they can until the process dies under
/// them; returns the (id, title) pairs the server acknowledged.
async fn burst(base: String, key: String, round: usize) -> Vec<(i64, String)> {
    let mut writers = Vec::new();
    for w in 0..8 {
        let (base, key) = (base.clone(), key.clone());
        writers.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
            let mut acked = Vec::new();
            for i in 0.. {
                let title = format!("Upphandlare {round}-{w}-{i}");
                let Ok(r) = client.post(format!("{base}/api/v1/jobs")).bearer_auth(&key).json(&ad(&title)).send().await
                else {
                    break;
                };
                if r.status() != StatusCode::CREATED {
                    break;
                }
                // Acknowledged only once the whole answer has arrived.
                let Ok(body) = r.json::<Value>().await else { break };
                acked.push((body["id"].as_i64().unwrap(), title));
            }
            acked
        }));
    }
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    acked
}

async fn sigkill_during_writes(database_url: &str, dir: &std::path::Path, check: impl AsyncFn() -> (i64, i64)) {
    let Some(mut server) = Instance::single(database_url, dir).await else { return };
    let client = reqwest::Client::new();
    let (_, key) = platsen_tests::employer_at(&server.base(), "Kraschkommunen").await;
    let mut acked = Vec::new();
    for round in 0..5 {
        let writes = tokio::spawn(burst(server.base(), key.clone(), round));
        tokio::time::sleep(Duration::from_millis(400 + 150 * round as u64)).await;
        server.kill().await;
        let got = writes.await.unwrap();
        assert!(!got.is_empty(), "round {round}: the burst wrote something before the kill");
        acked.extend(got);
        server.start().await;
    }
    // Every acknowledged ad is there, whole.
    for (id, title) in &acked {
        let r =
            client.get(format!("{}/api/v1/account/jobs/{id}", server.base())).bearer_auth(&key).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "acknowledged ad {id}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["title"], title.as_str());
        assert!(body["description"].as_str().unwrap().len() > 2000, "ad {id} whole");
    }
    // No half-written ad: every stored ad has its creation in the audit
    // trail (same transaction), and the API lists exactly what is stored.
    let (rows, with_event) = check().await;
    assert_eq!(rows, with_event, "every ad row has its 'created' event");
    assert!(rows >= acked.len() as i64, "{rows} rows for {} acknowledged ads", acked.len());
    let r: Value = client
        .get(format!("{}/api/v1/account/jobs", server.base()))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["total"].as_i64(), Some(rows), "the API lists every stored ad");
    eprintln!("five SIGKILLs: {} acknowledged ads, {rows} stored, all whole", acked.len());
    server.stop().await;
}

const COUNT_SQL: &str = "select count(*), count(e.job_id) from job_ads a
    left join (select distinct job_id from job_ad_events where action = 'created') e on e.job_id = a.id";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_every_acknowledged_write_through_five_sigkills() {
    let dir = std::env::temp_dir().join(format!("platsen-kill-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("platsen.db");
    let url = format!("sqlite:{}", db.display());
    sigkill_during_writes(&url, &dir, async || {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}?mode=ro", db.display())).await.unwrap();
        let counts = sqlx::query_as(COUNT_SQL).fetch_one(&pool).await.unwrap();
        pool.close().await;
        counts
    })
    .await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_every_acknowledged_write_through_five_sigkills() {
    let Some(schema) = platsen_tests::PgSchema::create("platsen_k").await else { return };
    let url = schema.url.clone();
    let dir = std::env::temp_dir().join(format!("platsen-kill-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    sigkill_during_writes(&url, &dir, async || {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let counts = sqlx::query_as(COUNT_SQL).fetch_one(&pool).await.unwrap();
        pool.close().await;
        counts
    })
    .await;
    schema.drop().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// PostgreSQL gone for ten seconds under load (every connection cut and
/// new ones closed at once, by a relay the test controls): requests answer 503
/// problem+json — never 500, never later than the pool's ten-second
/// acquire timeout — `/readyz` says 503, and the server recovers by itself
/// when the database returns, with every acknowledged write kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_gone_for_ten_seconds_answers_503_and_recovers() {
    let Some(schema) = platsen_tests::PgSchema::create("platsen_g").await else { return };
    // The instance reaches PostgreSQL through the relay.
    let mut url = url::Url::parse(&schema.url).unwrap();
    let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let gate = platsen_tests::gate::Gate::start(&target).await;
    url.set_port(Some(gate.port)).unwrap();
    let dir = std::env::temp_dir().join(format!("platsen-gate-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let Some(mut server) = Instance::single(url.as_str(), &dir).await else { return };
    let base = server.base();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let (_, key) = platsen_tests::employer_at(&base, "Avbrottskommunen").await;

    let t0 = std::time::Instant::now();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for w in 0..3 {
        let (base, key, client, stop) = (base.clone(), key.clone(), client.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            // (started, took, status, content type, acknowledged id)
            let mut seen = Vec::new();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i += 1;
                let started = t0.elapsed();
                let req = if w == 0 {
                    client.post(format!("{base}/api/v1/jobs")).bearer_auth(&key).json(&ad(&format!("Avbrott {i}")))
                } else {
                    // An employer's own list: never from a cache.
                    client.get(format!("{base}/api/v1/account/jobs")).bearer_auth(&key)
                };
                let r = req.send().await.expect("the server answers");
                let status = r.status();
                let ctype = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
                let body: Value = r.json().await.unwrap_or(Value::Null);
                let id = (status == StatusCode::CREATED).then(|| body["id"].as_i64().unwrap());
                seen.push((started, t0.elapsed() - started, status, ctype, id));
                if status != StatusCode::OK && status != StatusCode::CREATED {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cut_at = t0.elapsed();
    gate.cut();
    // /readyz says so while the database is gone.
    let mut ready_503 = false;
    while t0.elapsed() < cut_at + Duration::from_secs(10) {
        let r = client.get(format!("{base}/readyz")).send().await.unwrap();
        if r.status() == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(r.headers()["content-type"], "application/problem+json");
            ready_503 = true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    gate.restore();
    let restored_at = t0.elapsed();
    tokio::time::sleep(Duration::from_secs(8)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut seen = Vec::new();
    for l in load {
        seen.extend(l.await.unwrap());
    }
    assert!(ready_503, "/readyz answered 503 while the database was gone");
    let mut refused = 0;
    for (started, took, status, ctype, _) in &seen {
        assert!(*took < Duration::from_secs(12), "no request hangs past the pool's timeout: {took:?} at {started:?}");
        match *status {
            StatusCode::OK | StatusCode::CREATED => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(ctype, "application/problem+json");
                assert!(
                    *started + *took >= cut_at && *started < restored_at + Duration::from_secs(5),
                    "503 only around the outage: started {started:?}"
                );
                refused += 1;
            }
            s => panic!("{s} at {started:?} (cut at {cut_at:?}): only 200, 201 or 503"),
        }
    }
    assert!(refused > 0, "the outage was seen");
    // Recovered by itself: the last three seconds all succeeded.
    let tail: Vec<_> = seen.iter().filter(|s| s.0 > restored_at + Duration::from_secs(5)).collect();
    assert!(!tail.is_empty() && tail.iter().all(|s| s.2.is_success()), "recovered within five seconds: {tail:?}");
    // Every acknowledged write is there.
    for id in seen.iter().filter_map(|s| s.4) {
        let r = client.get(format!("{base}/api/v1/account/jobs/{id}")).bearer_auth(&key).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "acknowledged ad {id}");
    }
    server.stop().await;
    schema.drop().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// Unmounts the test's file system, whatever happens.
struct Mounted(std::path::PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// The SQLite file's disk fills up (a size-limited tmpfs, filled to the
/// last byte): writes are refused with 503 problem+json `storage-full` and
/// store nothing, reads (API, pages, search, readiness) go on, and once
/// space is freed writes work again without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_on_a_full_disk_refuses_writes_cleanly_and_keeps_reading() {
    let root = std::env::temp_dir().join(format!("platsen-full-{:016x}", rand::random::<u64>()));
    let mnt = root.join("db");
    std::fs::create_dir_all(&mnt).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=16m", "tmpfs"])
        .arg(&mnt)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        assert!(!platsen_tests::require_services(), "PLATSEN_REQUIRE_SERVICES=1 but a tmpfs cannot be mounted");
        eprintln!("\n*** SKIPPED: a size-limited file system cannot be mounted here ***\n");
        return;
    }
    let _unmount = Mounted(mnt.clone());
    let url = format!("sqlite:{}", mnt.join("platsen.db").display());
    let Some(mut server) = Instance::single(&url, &root).await else { return };
    let base = server.base();
    let client = reqwest::Client::new();
    let (_, key) = platsen_tests::employer_at(&base, "Fullkommunen").await;
    let create = |title: String| {
        let (client, base, key) = (client.clone(), base.clone(), key.clone());
        async move {
            let r =
                client.post(format!("{base}/api/v1/jobs")).bearer_auth(&key).json(&ad(&title)).send().await.unwrap();
            let status = r.status();
            let ctype = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
            (status, ctype, r.json::<Value>().await.unwrap())
        }
    };
    let (status, _, body) = create("Upphandlare före fyllningen".to_owned()).await;
    assert_eq!(status, StatusCode::CREATED);
    let first = body["id"].as_i64().unwrap();
    let r = client.post(format!("{base}/api/v1/jobs/{first}/publish")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let slug = r.json::<Value>().await.unwrap()["slug"].as_str().unwrap().to_owned();

    // Fill the file system to the last byte.
    {
        use std::io::Write;
        let mut filler = std::fs::File::create(mnt.join("filler")).unwrap();
        let chunk = vec![0u8; 4096];
        while filler.write_all(&chunk).is_ok() {}
        let _ = filler.write_all(&chunk[..1]);
    }
    // Writes: refused cleanly (SQLite may still have room in its file or
    // its WAL for a write or two before the first refusal).
    let mut created = 1;
    let mut refused = 0;
    for i in 0..200 {
        let (status, ctype, body) = create(format!("Upphandlare {i} på full disk")).await;
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(ctype, "application/problem+json");
                assert_eq!(body["type"].as_str().map(|t| t.ends_with("storage-full")), Some(true), "{body}");
                refused += 1;
                if refused == 5 {
                    break;
                }
            }
            s => panic!("write {i}: {s} {body}"),
        }
    }
    assert_eq!(refused, 5, "the full disk was reached");
    let r = client
        .patch(format!("{base}/api/v1/jobs/{first}"))
        .bearer_auth(&key)
        .json(&json!({ "title": "Ändrad på full disk" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    // Reads go on.
    let r: Value = client.get(format!("{base}/api/v1/jobs/{first}")).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["title"], "Upphandlare före fyllningen", "the refused edit stored nothing");
    assert_eq!(client.get(format!("{base}/jobb/{slug}")).send().await.unwrap().status(), StatusCode::OK);
    let r = client.get(format!("{base}/api/v1/jobs?q=upphandlare")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["total"], 1);
    assert_eq!(client.get(format!("{base}/jobb")).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(client.get(format!("{base}/readyz")).send().await.unwrap().status(), StatusCode::OK);
    let r: Value =
        client.get(format!("{base}/api/v1/account/jobs")).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["total"], created, "exactly the acknowledged ads, nothing half stored");

    // Space freed: writes work again, without a restart.
    std::fs::remove_file(mnt.join("filler")).unwrap();
    let (status, _, body) = create("Upphandlare efter städningen".to_owned()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    server.stop().await;
    drop(_unmount);
    let _ = std::fs::remove_dir_all(root);
}
