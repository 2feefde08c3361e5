//! Three `platsen serve` processes on one PostgreSQL behind a real HAProxy,
//! driven only through the proxy (issue 22).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use platsen_tests::cluster::Cluster;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ADMIN: &str = platsen_tests::ADMIN_TOKEN;

/// An employer with a key, made through the proxy.
async fn employer(c: &Cluster, client: &reqwest::Client, name: &str) -> String {
    let r = client
        .post(c.url("/api/v1/employers"))
        .bearer_auth(ADMIN)
        .json(&json!({ "name": name, "organization_number": platsen_tests::org_number() }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = client
        .post(c.url(&format!("/api/v1/employers/{id}/keys")))
        .bearer_auth(ADMIN)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["key"].as_str().unwrap().to_owned()
}

fn ad(title: &str) -> Value {
    let deadline = (chrono::Utc::now() + chrono::Duration::days(20)).date_naive().to_string();
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

/// Creates and publishes an ad; its id.
async fn publish(base: &str, client: &reqwest::Client, key: &str, title: &str) -> Result<i64, String> {
    let r = client
        .post(format!("{base}/api/v1/jobs"))
        .bearer_auth(key)
        .json(&ad(title))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if r.status() != StatusCode::CREATED {
        return Err(format!("create: {}", r.status()));
    }
    let id = r.json::<Value>().await.map_err(|e| e.to_string())?["id"].as_i64().unwrap();
    let r = client
        .post(format!("{base}/api/v1/jobs/{id}/publish"))
        .bearer_auth(key)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if r.status() != StatusCode::OK {
        return Err(format!("publish: {}", r.status()));
    }
    Ok(id)
}

/// A write through one instance is read through the others within the
/// micro-cache's second; the change stream read through the proxy, while
/// writers hit all three, has no gap and no duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_show_one_board() {
    let Some(c) = Cluster::start(3, &[]).await else { return };
    let client = reqwest::Client::new();
    let key = employer(&c, &client, "Klusterkommunen").await;
    let id = publish(&c.base, &client, &key, "Upphandlare i klustret").await.unwrap();
    // Round robin spreads the reads over the instances.
    for _ in 0..6 {
        let r = client.get(c.url(&format!("/api/v1/jobs/{id}"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = client
        .patch(c.url(&format!("/api/v1/jobs/{id}")))
        .bearer_auth(&key)
        .json(&json!({ "title": "Senior upphandlare i klustret" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let changed = Instant::now();
    loop {
        let mut titles = HashSet::new();
        for _ in 0..6 {
            let body: Value =
                client.get(c.url(&format!("/api/v1/jobs/{id}"))).send().await.unwrap().json().await.unwrap();
            titles.insert(body["title"].as_str().unwrap().to_owned());
        }
        if titles.len() == 1 && titles.contains("Senior upphandlare i klustret") {
            break;
        }
        assert!(
            changed.elapsed() < Duration::from_millis(1500),
            "every instance shows the change within 1 s: {titles:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Writers on all three at once; the stream through the proxy.
    let mut writers = Vec::new();
    for w in 0..4 {
        let (c_url, key, client) = (c.base.clone(), key.clone(), client.clone());
        writers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..10 {
                ids.push(publish(&c_url, &client, &key, &format!("Inköpare {w}-{i}")).await.unwrap());
            }
            ids
        }));
    }
    let mut published: HashSet<i64> = HashSet::from([id]);
    for w in writers {
        published.extend(w.await.unwrap());
    }
    let (mut cursor, mut seen, mut cursors) = ("0".to_owned(), HashSet::new(), Vec::new());
    loop {
        let r: Value = client
            .get(c.url(&format!("/api/v1/stream?since={cursor}&limit=7")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for ch in r["changes"].as_array().unwrap() {
            cursors.push(ch["cursor"].as_str().unwrap().parse::<i64>().unwrap());
            seen.insert(ch["id"].as_i64().unwrap());
        }
        cursor = r["next_cursor"].as_str().unwrap().to_owned();
        if r["has_more"] != true {
            break;
        }
    }
    assert!(cursors.windows(2).all(|w| w[0] < w[1]), "no duplicate and in order: {cursors:?}");
    assert_eq!(seen, published, "every published ad is in the stream once");
    c.stop().await;
}

/// While a load generator reads and writes through the proxy, every
/// instance is restarted in turn (SIGTERM, then started again): no request
/// fails and every acknowledged write is there afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_fails_no_request() {
    let Some(mut c) = Cluster::start(3, &[]).await else { return };
    let client = reqwest::Client::new();
    let key = employer(&c, &client, "Omstartskommunen").await;
    let first = publish(&c.base, &client, &key, "Upphandlare före omstarten").await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for worker in 0..4 {
        let (base, key, stop) = (c.base.clone(), key.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let (mut acked, mut failures, mut requests) = (Vec::new(), Vec::new(), 0usize);
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                requests += 1;
                let outcome = if worker == 0 {
                    publish(&base, &client, &key, &format!("Inköpare {i}")).await.map(|id| acked.push(id))
                } else {
                    let path = if i % 2 == 0 {
                        format!("/api/v1/jobs/{first}")
                    } else {
                        format!("/api/v1/jobs?page={}", i % 3 + 1)
                    };
                    match client.get(format!("{base}{path}")).send().await {
                        Ok(r) if r.status() == StatusCode::OK => Ok(()),
                        Ok(r) => Err(format!("GET {path}: {}", r.status())),
                        Err(e) => Err(format!("GET {path}: {e}")),
                    }
                };
                if let Err(e) = outcome {
                    failures.push(e);
                }
            }
            (acked, failures, requests)
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    for n in 0..c.instances.len() {
        c.instances[n].stop().await;
        c.instances[n].start().await;
        // HAProxy's check (every 100 ms) sees it up before the next goes.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let (mut acked, mut failures, mut requests) = (Vec::new(), Vec::new(), 0);
    for l in load {
        let (a, f, r) = l.await.unwrap();
        acked.extend(a);
        failures.extend(f);
        requests += r;
    }
    assert!(requests > 100 && acked.len() > 5, "the load ran: {requests} requests, {} writes", acked.len());
    assert!(failures.is_empty(), "{} of {requests} requests failed: {failures:?}", failures.len());
    for id in acked {
        let r = client.get(c.url(&format!("/api/v1/jobs/{id}"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "acknowledged ad {id} is there");
    }
    c.stop().await;
}
