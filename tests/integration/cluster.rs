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
async fn employer(c: &Cluster, name: &str) -> String {
    platsen_tests::employer_at(&c.base, name).await.1
}

/// A load generator through the proxy: worker 0 publishes ads, the others
/// read an ad and lists, until stopped.
struct Load {
    stop: Arc<AtomicBool>,
    started: Instant,
    workers: Vec<tokio::task::JoinHandle<Outcome>>,
}

/// What the load saw: acknowledged ads, failures (when each failing
/// request started, and why) and how many requests were sent.
#[derive(Default)]
struct Outcome {
    acked: Vec<i64>,
    failures: Vec<(Duration, String)>,
    requests: usize,
}

impl Load {
    fn start(c: &Cluster, key: &str, read: i64) -> Load {
        let (stop, started) = (Arc::new(AtomicBool::new(false)), Instant::now());
        let workers = (0..4)
            .map(|worker| {
                let (base, key, stop) = (c.base.clone(), key.to_owned(), stop.clone());
                tokio::spawn(async move {
                    let client = reqwest::Client::new();
                    let mut seen = Outcome::default();
                    while !stop.load(Ordering::Relaxed) {
                        seen.requests += 1;
                        let (i, at) = (seen.requests, started.elapsed());
                        let outcome = if worker == 0 {
                            publish(&base, &client, &key, &format!("Inköpare {i}")).await.map(|id| seen.acked.push(id))
                        } else {
                            let path = if i % 2 == 0 {
                                format!("/api/v1/jobs/{read}")
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
                            seen.failures.push((at, e));
                        }
                    }
                    seen
                })
            })
            .collect();
        Load { stop, started, workers }
    }

    /// Stops the load; what all workers saw.
    async fn finish(self) -> Outcome {
        self.stop.store(true, Ordering::Relaxed);
        let mut all = Outcome::default();
        for w in self.workers {
            let seen = w.await.unwrap();
            all.acked.extend(seen.acked);
            all.failures.extend(seen.failures);
            all.requests += seen.requests;
        }
        all
    }
}

fn ad(title: &str) -> Value {
    let deadline = (chrono::Utc::now() + chrono::Duration::days(20)).date_naive().to_string();
    platsen_tests::ad_body(title, &deadline)
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
    let key = employer(&c, "Klusterkommunen").await;
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
    let key = employer(&c, "Omstartskommunen").await;
    let first = publish(&c.base, &client, &key, "Upphandlare före omstarten").await.unwrap();
    let load = Load::start(&c, &key, first);
    tokio::time::sleep(Duration::from_secs(1)).await;
    for n in 0..c.instances.len() {
        c.instances[n].stop().await;
        c.instances[n].start().await;
        // HAProxy's check (every 100 ms) sees it up before the next goes.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let Outcome { acked, failures, requests } = load.finish().await;
    assert!(requests > 100 && acked.len() > 5, "the load ran: {requests} requests, {} writes", acked.len());
    assert!(failures.is_empty(), "{} of {requests} requests failed: {failures:?}", failures.len());
    for id in acked {
        let r = client.get(c.url(&format!("/api/v1/jobs/{id}"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "acknowledged ad {id} is there");
    }
    c.stop().await;
}

/// Instances that search with Meilisearch, mail through `smtp` and may
/// deliver webhooks to loopback.
async fn full_cluster(meili: &platsen_tests::meili::Meili, smtp: &platsen_tests::smtp::SmtpSink) -> Option<Cluster> {
    let smtp_url = format!("smtp://{}", smtp.addr);
    Cluster::start(
        3,
        &[
            ("PLATSEN_MEILI_URL", &meili.url),
            ("PLATSEN_MEILI_MASTER_KEY", &meili.master_key),
            ("PLATSEN_SMTP_URL", &smtp_url),
            ("PLATSEN_WEBHOOK_ALLOW_PRIVATE", "1"),
        ],
    )
    .await
}

/// Waits until a search through the proxy, answered by Meilisearch, finds
/// `title`; how long that took.
async fn searchable(c: &Cluster, client: &reqwest::Client, title: &str, within: Duration) -> Duration {
    let t0 = Instant::now();
    let q: String = url::form_urlencoded::byte_serialize(title.as_bytes()).collect();
    loop {
        if let Ok(r) = client.get(c.url(&format!("/api/v1/jobs/search?q={q}&per_page=50"))).send().await {
            let engine = r.headers().get("x-search-engine").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            if let Ok(body) = r.json::<Value>().await
                && engine == "meilisearch"
                && body["hits"].as_array().is_some_and(|a| a.iter().any(|h| h["title"] == title))
            {
                return t0.elapsed();
            }
        }
        assert!(t0.elapsed() < within, "\"{title}\" searchable in Meilisearch within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The instance whose worker keeps Meilisearch in step: there is one.
async fn sync_holder(c: &Cluster) -> usize {
    let mut holders = Vec::new();
    for (i, inst) in c.instances.iter().enumerate().filter(|(_, i)| i.is_running()) {
        if inst.metric("platsen_search_sync_active").await == 1.0 {
            holders.push(i);
        }
    }
    assert_eq!(holders.len(), 1, "one instance runs the search sync: {holders:?}");
    holders[0]
}

/// Every background duty runs once across three instances on one
/// PostgreSQL and one Meilisearch: the search sync (one lease holder),
/// webhook deliveries (each change delivered once), a job-alert mail (sent
/// once), and the periodic expiry sweep and billing (each due run claimed
/// by exactly one instance, though all three poll for it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_duty_runs_once_across_three_instances() {
    let Some(meili) = platsen_tests::meili::Meili::start().await else { return };
    let smtp = platsen_tests::smtp::SmtpSink::start().await;
    let Some(c) = full_cluster(&meili, &smtp).await else { return };
    let client = reqwest::Client::new();
    let db = c.db().await;
    let key = employer(&c, "Pliktkommunen").await;

    // A webhook and a confirmed job alert, each set up through the proxy.
    let receiver = crate::webhooks::Receiver::start(vec![]).await;
    let r = client
        .post(c.url("/api/v1/webhooks"))
        .bearer_auth(&key)
        .json(&json!({ "url": receiver.url }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let to = "bevakare@example.se";
    let r = client
        .post(c.url("/api/v1/alerts"))
        .json(&json!({ "email": to, "frequency": "instant", "role": "upphandlare" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let token = crate::alerts::token_in(&smtp.wait_for(to).await.body(), "/bevakningar/bekrafta");
    let mut v = crate::konto::Visitor::at(&c.base);
    let page = v.post("/bevakningar/bekrafta", &[("token", &token)]).await;
    assert!(page.body.contains("Bevakningen är aktiv"), "{}", page.body);

    // Twelve ads through the proxy: four through each instance.
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(publish(&c.base, &client, &key, &format!("Upphandlare nummer {i} i pliktkommunen")).await.unwrap());
    }
    // Search sync: one instance holds the lease, and it keeps up.
    sync_holder(&c).await;
    searchable(&c, &client, "Upphandlare nummer 11 i pliktkommunen", Duration::from_secs(20)).await;

    // The alert is made due now; all three instances look every two
    // seconds; one mail names the twelve ads, and no second one follows.
    sqlx::query("update job_alerts set next_due_at = now() where email = $1").bind(to).execute(&db).await.unwrap();
    platsen_tests::eventually(20, "the alert mail", || async { smtp.mails_to(to).len() >= 2 }).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let mails = smtp.mails_to(to);
    assert_eq!(mails.len(), 2, "the confirmation and one alert mail");
    let body = mails[1].body();
    assert_eq!(body.matches("/jobb/").count(), 12, "each ad once: {body}");

    // The periodic duties: frozen, counted, then made due once. Every
    // instance polls at least once in twelve seconds; one claims the run.
    for duty in ["expiry_sweep", "billing"] {
        let series = format!("platsen_duty_runs_total{{duty=\"{duty}\"}}");
        sqlx::query("update duty_runs set due_at = now() + interval '1 hour' where name = $1")
            .bind(duty)
            .execute(&db)
            .await
            .unwrap();
        // A claim that committed just before the freeze is counted a
        // moment later; let it land before counting.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let before = c.metric_sum(&series).await;
        if duty == "expiry_sweep" {
            sqlx::query("update job_ads set expires_at = now() - interval '1 second' where id = any($1)")
                .bind(&ids[..3])
                .execute(&db)
                .await
                .unwrap();
        }
        sqlx::query("update duty_runs set due_at = now() where name = $1").bind(duty).execute(&db).await.unwrap();
        tokio::time::sleep(Duration::from_secs(12)).await;
        let after = c.metric_sum(&series).await;
        assert_eq!(after - before, 1.0, "{duty}: one run across three instances");
        let holder: Option<String> =
            sqlx::query_scalar("select holder from duty_runs where name = $1").bind(duty).fetch_one(&db).await.unwrap();
        assert!(holder.is_some_and(|h| h.contains(':')), "the run names its process");
    }
    let expired: Vec<(i64, String)> = sqlx::query_as("select id, status from job_ads where id = any($1) order by id")
        .bind(&ids[..3])
        .fetch_all(&db)
        .await
        .unwrap();
    assert!(expired.iter().all(|(_, s)| s == "expired"), "{expired:?}");
    let events: i64 =
        sqlx::query_scalar("select count(*) from job_ad_events where action = 'expire' and job_id = any($1)")
            .bind(&ids[..3])
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(events, 3, "each ad expired once");

    // Webhooks: every change of this employer's, delivered once, in order.
    let changes: i64 = sqlx::query_scalar("select count(*) from job_changes").fetch_one(&db).await.unwrap();
    platsen_tests::eventually(15, "every change delivered", || async {
        let n: usize = receiver
            .requests()
            .iter()
            .map(|r| serde_json::from_str::<Value>(&r.body).unwrap()["changes"].as_array().unwrap().len())
            .sum();
        n as i64 >= changes
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let cursors: Vec<i64> = receiver
        .requests()
        .iter()
        .flat_map(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            body["changes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|ch| ch["cursor"].as_str().unwrap().parse::<i64>().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(cursors.len() as i64, changes, "no change delivered twice: {cursors:?}");
    assert!(cursors.windows(2).all(|w| w[0] < w[1]), "in order, no duplicate: {cursors:?}");
    c.stop().await;
}

/// A visitor signed in through one instance stays signed in through the
/// others, a CSRF token one instance wrote is taken by another, and views
/// and apply clicks counted on all three add up on the dashboard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_and_counts_span_the_instances() {
    let Some(c) = Cluster::start(3, &[]).await else { return };
    let client = reqwest::Client::new();
    let (employer, key) = platsen_tests::employer_at(&c.base, "Sessionskommunen").await;
    let password = "ett långt och bra lösenord 42";
    let r = client
        .post(c.url(&format!("/api/v1/employers/{employer}/users")))
        .bearer_auth(ADMIN)
        .json(&json!({ "email": "sara@sessionskommunen.se", "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    // Signing in: the form's token from one instance, the post to the next.
    let mut sara = crate::konto::Visitor::at(&c.base);
    assert_eq!(sara.sign_in("sara@sessionskommunen.se", password).await.status, 303);
    // Round robin: six dashboards, two from each instance, all signed in;
    // each form posted to another instance than the one that wrote it.
    let deadline = (chrono::Utc::now() + chrono::Duration::days(20)).date_naive().to_string();
    for i in 0..6 {
        let dash = sara.get("/konto").await;
        assert_eq!(dash.status, 200);
        assert!(dash.body.contains("<h1>Sessionskommunen</h1>"), "signed in on every instance: {}", dash.body);
        if i < 3 {
            let csrf = dash.csrf();
            let title = format!("Upphandlare {i} i sessionskommunen");
            let r = sara.post("/konto/annonser/ny", &crate::konto::ad_form(&csrf, &title, &deadline)).await;
            assert_eq!(r.status, 303, "a token from another instance is taken: {}", r.body);
        }
    }
    for inst in &c.instances {
        let served = inst.metric("platsen_http_requests_total{method=\"GET\",route=\"/konto\",status=\"200\"}").await;
        assert!(served >= 2.0, "instance {} served the signed-in dashboard ({served})", inst.port);
    }

    // Views and clicks on all three instances add up (each writes its
    // counts every five seconds).
    let id = publish(&c.base, &client, &key, "Upphandlare som räknas i klustret").await.unwrap();
    let r: Value = client.get(c.url(&format!("/api/v1/jobs/{id}"))).send().await.unwrap().json().await.unwrap();
    let slug = r["slug"].as_str().unwrap().to_owned();
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for _ in 0..9 {
        assert_eq!(plain.get(c.url(&format!("/jobb/{slug}"))).send().await.unwrap().status(), StatusCode::OK);
    }
    for _ in 0..3 {
        let r = plain.get(c.url(&format!("/jobb/{slug}/ansok"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let t0 = Instant::now();
    loop {
        let dash = sara.get("/konto").await;
        if dash.body.contains("<td>9</td><td>3</td>") {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(8), "nine views and three clicks within 8 s: {}", dash.body);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    c.stop().await;
}

/// Rate limits are counted per instance (docs/DEPLOYMENT.md): behind the
/// proxy a client gets more than one instance's allowance and at most
/// three, refused beyond it with 429 problem+json; another client has its
/// own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_per_instance() {
    // 2 requests a second with a burst of 10, per client and instance.
    let Some(c) = Cluster::start(3, &[("PLATSEN_RATE_LIMIT", "2")]).await else { return };
    let burst = |from: &'static str| {
        let url = c.url("/api/v1/jobs");
        async move {
            let client = reqwest::Client::builder().local_address(Some(from.parse().unwrap())).build().unwrap();
            let t0 = Instant::now();
            let (mut passed, mut refused) = (0usize, 0usize);
            for _ in 0..60 {
                let r = client.get(&url).send().await.unwrap();
                match r.status() {
                    StatusCode::OK => passed += 1,
                    StatusCode::TOO_MANY_REQUESTS => {
                        assert_eq!(r.headers()["content-type"], "application/problem+json");
                        assert_eq!(r.headers()["retry-after"], "1");
                        refused += 1;
                    }
                    s => panic!("unexpected {s}"),
                }
            }
            (passed, refused, t0.elapsed())
        }
    };
    let (passed, refused, took) = burst("127.0.0.1").await;
    // Refill: two a second on each of three instances.
    let ceiling = 30 + (6.0 * took.as_secs_f64()).ceil() as usize;
    assert!(passed > 10, "more than one instance's burst passes: {passed}");
    assert!(passed <= ceiling, "at most three instances' allowance: {passed} > {ceiling} in {took:?}");
    assert_eq!(passed + refused, 60);
    let (other, _, _) = burst("127.0.0.2").await;
    assert!(other > 10, "another client has its own allowance: {other}");
    c.stop().await;
}

/// SIGKILL one instance (the one running the search sync) while a load
/// generator reads and writes through the proxy: the proxy routes around
/// it (only requests in flight on it at that moment may fail), no
/// acknowledged write is lost, and another instance takes the search sync
/// over within ten seconds (the stated bound: the lease is a PostgreSQL
/// advisory lock, freed when the dead process's connection closes, and
/// the others try for it every two seconds).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_instance_hands_its_duties_over() {
    let Some(meili) = platsen_tests::meili::Meili::start().await else { return };
    let smtp = platsen_tests::smtp::SmtpSink::start().await;
    let Some(mut c) = full_cluster(&meili, &smtp).await else { return };
    let client = reqwest::Client::new();
    let key = employer(&c, "Kraschkommunen").await;
    let first = publish(&c.base, &client, &key, "Upphandlare före kraschen").await.unwrap();
    searchable(&c, &client, "Upphandlare före kraschen", Duration::from_secs(20)).await;
    let victim = sync_holder(&c).await;

    let load = Load::start(&c, &key, first);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let killed_at = load.started.elapsed();
    c.instances[victim].kill().await;
    // After the crash, a new ad must reach Meilisearch through whichever
    // instance took the sync over.
    let after = publish(&c.base, &client, &key, "Upphandlare efter kraschen").await.unwrap();
    let took = searchable(&c, &client, "Upphandlare efter kraschen", Duration::from_secs(10)).await;
    eprintln!("search sync taken over; the new ad searchable {took:?} after it was acknowledged");
    let holder = sync_holder(&c).await;
    assert_ne!(holder, victim);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let Outcome { mut acked, failures, requests } = load.finish().await;
    acked.extend([first, after]);
    assert!(requests > 100, "the load ran: {requests} requests");
    // Only what was in flight on the killed instance may fail (a proxy
    // cannot resend a request the dead server may have acted on): a request
    // or two per load worker, started before the proxy saw it gone.
    assert!(failures.len() <= 8, "{} of {requests} failed: {failures:?}", failures.len());
    for (at, e) in &failures {
        assert!(
            *at >= killed_at.saturating_sub(Duration::from_secs(1)) && *at < killed_at + Duration::from_millis(500),
            "a request failed away from the crash ({at:?}, killed at {killed_at:?}): {e}"
        );
    }
    for id in acked {
        let r = client.get(c.url(&format!("/api/v1/jobs/{id}"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "acknowledged ad {id} is there");
    }
    // The crashed instance comes back and joins in.
    c.instances[victim].start().await;
    c.stop().await;
}
