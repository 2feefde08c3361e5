//! The change stream and the snapshot: every change once, in order, with a
//! tombstone for each removal, also while writers commit concurrently.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use platsen_tests::{TestApp, with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

platsen_tests::contract!(
    the_stream_follows_publishing_edits_and_removals,
    the_stream_refuses_garbage,
    the_stream_is_exactly_once_while_writers_commit_concurrently,
);

/// Every change after `since`, following `next_cursor` until `has_more` is off.
async fn drain(app: &TestApp, since: &str, limit: u32) -> (Vec<Value>, String) {
    let mut cursor = since.to_owned();
    let mut all = Vec::new();
    loop {
        let r = app.get(&format!("/api/v1/stream?since={cursor}&limit={limit}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        all.extend(r.body["changes"].as_array().unwrap().iter().cloned());
        cursor = r.body["next_cursor"].as_str().unwrap().to_owned();
        if !r.body["has_more"].as_bool().unwrap() {
            return (all, cursor);
        }
    }
}

/// The open ads (id → version) after applying `changes` to `start`.
fn replay(start: &mut BTreeMap<i64, i64>, changes: &[Value]) {
    for c in changes {
        let id = c["id"].as_i64().unwrap();
        match c["change"].as_str().unwrap() {
            "upsert" => {
                start.insert(id, c["ad"]["version"].as_i64().unwrap());
            }
            "removed" => {
                assert!(start.remove(&id).is_some(), "a tombstone for an ad the consumer never had: {c}");
            }
            other => panic!("unknown change {other}"),
        }
    }
}

async fn snapshot(app: &TestApp) -> (BTreeMap<i64, i64>, String) {
    let r = app.get("/api/v1/snapshot").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let ads = r.body["ads"].as_array().unwrap();
    assert_eq!(r.body["total"].as_u64().unwrap() as usize, ads.len());
    let open = ads.iter().map(|a| (a["id"].as_i64().unwrap(), a["version"].as_i64().unwrap())).collect();
    (open, r.body["cursor"].as_str().unwrap().to_owned())
}

async fn the_stream_follows_publishing_edits_and_removals(app: &TestApp) {
    let (open, start) = snapshot(app).await;
    assert!(open.is_empty());
    assert_eq!(start, "0");
    let r = app.get("/api/v1/stream").await;
    assert_eq!(r.body, json!({ "changes": [], "next_cursor": "0", "has_more": false }), "{}", r.text);

    let (employer, key) = app.employer_with_key("Strömsunds kommun").await;
    let draft = app.post_job(&key, app.job("Utkast som aldrig syns")).await;
    let a = app.publish_job(&key, app.job("Upphandlare till Strömsund")).await;
    let b = app.publish_job(&key, app.job("Inköpare till Strömsund")).await;
    let c = app.publish_job(&key, with(app.job("Avtalscontroller"), json!({ "expires_at": null }))).await;
    // Editing a draft changes nothing the public sees.
    let r =
        app.call(Method::PATCH, &format!("/api/v1/jobs/{draft}"), Some(&key), Some(json!({ "vacancies": 3 }))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.call(Method::PATCH, &format!("/api/v1/jobs/{a}"), Some(&key), Some(json!({ "vacancies": 2 }))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let a_version = r.body["version"].as_i64().unwrap();
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{b}/close"), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.call(Method::DELETE, &format!("/api/v1/jobs/{draft}"), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);

    let (changes, cursor) = drain(app, "0", 2).await;
    let seen: Vec<(i64, &str)> =
        changes.iter().map(|c| (c["id"].as_i64().unwrap(), c["change"].as_str().unwrap())).collect();
    assert_eq!(seen, [(a, "upsert"), (b, "upsert"), (c, "upsert"), (a, "upsert"), (b, "removed")], "{changes:#?}");
    assert_eq!(changes[3]["ad"]["vacancies"], 2);
    assert_eq!(changes[3]["ad"]["version"], a_version);
    assert_eq!(changes[3]["ad"]["employer"]["slug"], "stromsunds-kommun");
    assert!(changes[3]["ad"].get("rejection_reason").is_none_or(Value::is_null));
    let tomb = &changes[4];
    assert_eq!(tomb["reason"], "closed");
    assert!(tomb.get("ad").is_none(), "{tomb}");
    assert_eq!(tomb["removed"]["employer_id"], employer);
    assert_eq!(tomb["removed"]["municipality_code"], "0182");
    assert_eq!(tomb["removed"]["county_code"], "01");
    assert_eq!(tomb["removed"]["role"], "upphandlare");
    assert_eq!(cursor, changes[4]["cursor"].as_str().unwrap());

    // Nothing new: the same cursor back.
    let r = app.get(&format!("/api/v1/stream?since={cursor}")).await;
    assert_eq!(r.body["changes"], json!([]));
    assert_eq!(r.body["next_cursor"], cursor.as_str());

    // A renamed employer changes its open ads' content.
    let r = app
        .admin(
            Method::PATCH,
            &format!("/api/v1/employers/{employer}"),
            Some(json!({ "name": "Strömsunds kommun (ny)" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Expiry, written down by the sweeper, is a removal too.
    app.clock.advance(chrono::Duration::days(40));
    // (The server's own sweeper may get there first; either way, once.)
    app.store.expire_due(app.clock.now()).await.unwrap();
    let (later, cursor2) = drain(app, &cursor, 100).await;
    let seen: Vec<(i64, &str)> =
        later.iter().map(|c| (c["id"].as_i64().unwrap(), c["change"].as_str().unwrap())).collect();
    assert_eq!(seen, [(a, "upsert"), (c, "upsert"), (a, "removed"), (c, "removed")], "{later:#?}");
    assert_eq!(later[0]["ad"]["employer"]["name"], "Strömsunds kommun (ny)");
    assert!(later[2..].iter().all(|t| t["reason"] == "expired"), "{later:#?}");

    // The snapshot is the log's end state.
    let d = app.publish_job(&key, app.job("Inköpschef till Strömsund")).await;
    let (last, _) = drain(app, &cursor2, 100).await;
    let mut state = BTreeMap::new();
    replay(&mut state, &changes);
    replay(&mut state, &later);
    replay(&mut state, &last);
    let (open, snap_cursor) = snapshot(app).await;
    assert_eq!(state, open);
    assert_eq!(open.keys().copied().collect::<Vec<_>>(), [d]);
    assert_eq!(snap_cursor, last.last().unwrap()["cursor"].as_str().unwrap());
    // The public list agrees with the snapshot.
    let r = app.get("/api/v1/jobs").await;
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["items"][0]["id"], d);
}

async fn the_stream_refuses_garbage(app: &TestApp) {
    for bad in ["abc", "-1", "1.5", "%27%20or%201%3D1", "99999999999999999999", "%00"] {
        let r = app.get(&format!("/api/v1/stream?since={bad}")).await;
        r.assert_problem(400, "since");
    }
    let r = app.get(&format!("/api/v1/stream?since={}", "9".repeat(100))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    // A cursor this installation never handed out.
    let r = app.get("/api/v1/stream?since=12345").await;
    r.assert_problem(422, "since");
    assert!(r.text.contains("unknown_cursor"), "{}", r.text);
    for bad in ["0", "1001", "x", "-5"] {
        let r = app.get(&format!("/api/v1/stream?limit={bad}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "limit={bad}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("application/problem+json"), "limit={bad}");
    }
}

/// Writers publish, edit and close ads on several connections at once while
/// a consumer polls the stream. The consumer must see each committed change
/// exactly once: every version a writer was told it stored, and a tombstone
/// for every close, with nothing that a full read of the log afterwards has
/// and the consumer missed.
async fn the_stream_is_exactly_once_while_writers_commit_concurrently(app: &TestApp) {
    const WRITERS: usize = 8;
    const ADS_PER_WRITER: usize = 72;
    let mut keys = Vec::new();
    for w in 0..WRITERS {
        keys.push(app.employer_with_key(&format!("Samtidig arbetsgivare {w}")).await.1);
    }
    let done = Arc::new(AtomicBool::new(false));
    let consumer = {
        let base = app.base.clone();
        let client = app.client.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut cursor = String::from("0");
            let mut seen: Vec<Value> = Vec::new();
            let mut polls = 0usize;
            loop {
                let finished = done.load(Ordering::Acquire);
                // Small, varying pages so that page ends fall between commits.
                let limit = 7 + polls % 23;
                let r: Value = client
                    .get(format!("{base}/api/v1/stream?since={cursor}&limit={limit}"))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                polls += 1;
                seen.extend(r["changes"].as_array().unwrap().iter().cloned());
                cursor = r["next_cursor"].as_str().unwrap().to_owned();
                if finished && !r["has_more"].as_bool().unwrap() {
                    return (seen, polls);
                }
                if !r["has_more"].as_bool().unwrap() {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            }
        })
    };

    // Each writer: publish, two edits, close, for each of its ads. It keeps
    // what the API said it stored: (ad, version) of every visible state, and
    // the ads it closed.
    let mut writers = Vec::new();
    for (w, key) in keys.iter().enumerate() {
        let base = app.base.clone();
        let client = app.client.clone();
        let key = key.clone();
        let job = app.job("Samtidig annons");
        writers.push(tokio::spawn(async move {
            let call = |method: Method, path: String, body: Option<Value>| {
                let mut req = client.request(method, format!("{base}{path}")).bearer_auth(&key);
                if let Some(b) = body {
                    req = req.json(&b);
                }
                async move {
                    let r = req.send().await.unwrap();
                    let status = r.status();
                    let body: Value = r.json().await.unwrap();
                    assert!(status.is_success(), "{status}: {body}");
                    body
                }
            };
            let mut versions = Vec::new();
            let mut closed = Vec::new();
            for n in 0..ADS_PER_WRITER {
                let body = with(job.clone(), json!({ "title": format!("Samtidig annons {w}-{n}") }));
                let id = call(Method::POST, "/api/v1/jobs".into(), Some(body)).await["id"].as_i64().unwrap();
                let r = call(Method::POST, format!("/api/v1/jobs/{id}/publish"), None).await;
                versions.push((id, r["version"].as_i64().unwrap()));
                for vacancies in [2, 3] {
                    let patch = json!({ "vacancies": vacancies });
                    let r = call(Method::PATCH, format!("/api/v1/jobs/{id}"), Some(patch)).await;
                    versions.push((id, r["version"].as_i64().unwrap()));
                }
                // Every fourth ad stays open.
                if n % 4 != 0 {
                    call(Method::POST, format!("/api/v1/jobs/{id}/close"), None).await;
                    closed.push(id);
                }
            }
            (versions, closed)
        }));
    }
    let mut committed: HashSet<(i64, i64)> = HashSet::new();
    let mut closed: HashSet<i64> = HashSet::new();
    for w in writers {
        let (v, c) = w.await.unwrap();
        committed.extend(v);
        closed.extend(c);
    }
    done.store(true, Ordering::Release);
    let (seen, polls) = consumer.await.unwrap();

    // Positions strictly increase: nothing twice, nothing out of order.
    let positions: Vec<u64> = seen.iter().map(|c| c["cursor"].as_str().unwrap().parse().unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "positions out of order or repeated");
    // The whole log, read once now that nobody writes, is exactly what the
    // consumer saw while they did: no row committed late behind its cursor.
    let (full, _) = drain(app, "0", 1000).await;
    let full_positions: Vec<u64> = full.iter().map(|c| c["cursor"].as_str().unwrap().parse().unwrap()).collect();
    assert_eq!(positions, full_positions, "the polling consumer missed changes");
    // Every stored visible version arrived once as an upsert, and nothing else did.
    let mut upserts: HashMap<(i64, i64), usize> = HashMap::new();
    let mut tombstones: HashMap<i64, usize> = HashMap::new();
    for c in &seen {
        let id = c["id"].as_i64().unwrap();
        match c["change"].as_str().unwrap() {
            "upsert" => *upserts.entry((id, c["ad"]["version"].as_i64().unwrap())).or_default() += 1,
            _ => {
                assert_eq!(c["reason"], "closed", "{c}");
                *tombstones.entry(id).or_default() += 1;
            }
        }
    }
    assert_eq!(upserts.len(), committed.len());
    assert!(upserts.values().all(|&n| n == 1), "an upsert arrived twice");
    assert_eq!(upserts.keys().copied().collect::<HashSet<_>>(), committed);
    assert_eq!(tombstones.keys().copied().collect::<HashSet<_>>(), closed);
    assert!(tombstones.values().all(|&n| n == 1), "a tombstone arrived twice");
    assert!(seen.len() >= 2000, "thousands of changes: {}", seen.len());
    assert!(polls > 10, "the consumer polled while writers wrote ({polls} polls)");
    // Replaying the stream gives the snapshot.
    let mut state = BTreeMap::new();
    replay(&mut state, &seen);
    let (open, _) = snapshot(app).await;
    assert_eq!(state, open);
    assert_eq!(open.len(), WRITERS * ADS_PER_WRITER / 4);
}

// ----- an upgrade: a change log written before its ads were compressed ------

/// The schema version before the change log's ads were stored compressed.
const BEFORE_PACKED_LOG: i64 = 17;

/// An employer, one open ad and its entry in the change log, as the
/// previous version stored them (the ad as JSON text).
async fn seed_log_before_packing(db: platsen_tests::OldDatabase) {
    let now = chrono::Utc::now();
    let deadline = (now + chrono::Duration::days(20)).date_naive();
    let expires = now + chrono::Duration::days(21);
    let description = "<p>Gamla kommunen söker en upphandlare.</p>";
    macro_rules! seed {
        ($pool:expr) => {{
            let employer: i64 = sqlx::query_scalar(
                "insert into employers (slug, name, organization_number, requires_review, is_demo, created_at,
                                        updated_at, name_sort)
                 values ('gamla-kommunen', 'Gamla kommunen', '212000-0233', false, false, $1, $1, 'gamla kommunen')
                 returning id",
            )
            .bind(now)
            .fetch_one($pool)
            .await
            .unwrap();
            let job: i64 = sqlx::query_scalar(
                "insert into job_ads (employer_id, slug, status, title, description, role, municipality_code,
                                      county_code, remote, employment_type, extent_percent, vacancies,
                                      application_deadline, apply_url, published_at, expires_at, version,
                                      created_at, updated_at)
                 values ($1, 'upphandlare-fore-uppgraderingen', 'published', 'Upphandlare före uppgraderingen', $2,
                         'upphandlare', '0182', '01', 'on_site', 'tillsvidare', 100, 1, $3,
                         'https://gamla.example/jobb', $4, $5, 1, $4, $4)
                 returning id",
            )
            .bind(employer)
            .bind(description)
            .bind(deadline)
            .bind(now)
            .bind(expires)
            .fetch_one($pool)
            .await
            .unwrap();
            let ad = json!({
                "id": job, "slug": "upphandlare-fore-uppgraderingen", "employer_id": employer,
                "employer_slug": "gamla-kommunen", "employer_name": "Gamla kommunen", "employer_sector": null,
                "status": "published", "title": "Upphandlare före uppgraderingen", "description": description,
                "role": "upphandlare", "municipality": "0182", "remote": "on_site", "employment_type": "tillsvidare",
                "extent_percent": 100, "salary_min": null, "salary_max": null, "salary_period": null,
                "vacancies": 1, "application_deadline": deadline, "start_text": null,
                "apply_url": "https://gamla.example/jobb", "apply_email": null, "contacts": [], "featured": false,
                "published_at": now, "expires_at": expires, "closed_at": null, "is_demo": false, "version": 1,
                "created_at": now, "updated_at": now
            });
            sqlx::query(
                "insert into job_changes (job_id, employer_id, change, version, ad, created_at)
                 values ($1, $2, 'upsert', 1, $3, $4)",
            )
            .bind(job)
            .bind(employer)
            .bind(ad.to_string())
            .bind(now)
            .execute($pool)
            .await
            .unwrap();
        }};
    }
    match &db {
        platsen_tests::OldDatabase::Sqlite(pool) => seed!(pool),
        platsen_tests::OldDatabase::Postgres(pool) => seed!(pool),
    }
}

/// After the upgrade the old entry reads as before, at the same position,
/// and the log goes on after it: a consumer's cursor stays valid.
async fn a_change_log_from_before_packing_reads_as_before(app: &TestApp) {
    let (changes, cursor) = drain(app, "0", 100).await;
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(changes[0]["change"], "upsert");
    assert_eq!(changes[0]["ad"]["title"], "Upphandlare före uppgraderingen");
    assert_eq!(changes[0]["ad"]["employer"]["slug"], "gamla-kommunen");
    let job = changes[0]["id"].as_i64().unwrap();
    let (open, snap_cursor) = snapshot(app).await;
    assert_eq!(open.keys().copied().collect::<Vec<_>>(), [job]);
    assert_eq!(snap_cursor, cursor);

    // Closing it reads the old entry to decide, and writes a packed one.
    let employer =
        app.store.employer(&platsen_jobs::IdOrSlug::Slug("gamla-kommunen".into()), app.clock.now()).await.unwrap();
    let key = app.create_key(employer.id).await;
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{job}/close"), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let fresh = app.publish_job(&key, app.job("Inköpare efter uppgraderingen")).await;
    let (later, _) = drain(app, &cursor, 100).await;
    let seen: Vec<(i64, &str)> =
        later.iter().map(|c| (c["id"].as_i64().unwrap(), c["change"].as_str().unwrap())).collect();
    assert_eq!(seen, [(job, "removed"), (fresh, "upsert")], "{later:#?}");
    assert_eq!(later[0]["reason"], "closed");
    assert_eq!(later[0]["removed"]["employer_id"], employer.id);
    assert_eq!(later[1]["ad"]["title"], "Inköpare efter uppgraderingen");
    let positions: Vec<i64> =
        changes.iter().chain(&later).map(|c| c["cursor"].as_str().unwrap().parse().unwrap()).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]) && positions[0] == cursor.parse::<i64>().unwrap(),
        "{positions:?}"
    );
    let (open, _) = snapshot(app).await;
    assert_eq!(open.keys().copied().collect::<Vec<_>>(), [fresh]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_change_log_from_before_packing_reads_as_before() {
    let app = TestApp::sqlite_upgraded_from(BEFORE_PACKED_LOG, seed_log_before_packing).await;
    a_change_log_from_before_packing_reads_as_before(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_change_log_from_before_packing_reads_as_before() {
    let Some(app) = TestApp::postgres_upgraded_from(BEFORE_PACKED_LOG, seed_log_before_packing).await else {
        return;
    };
    a_change_log_from_before_packing_reads_as_before(&app).await;
    app.stop().await;
}
