//! Search on a real Meilisearch, kept in step from SQL through the outbox,
//! on both databases.

use platsen_tests::{TestApp, eventually, with};
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::Connection;

platsen_tests::contract_meili!(
    changes_reach_the_index_and_drafts_never_do,
    typos_and_swedish_synonyms,
    facet_counts_equal_the_database,
    the_database_answers_while_meilisearch_is_down,
    a_crash_in_a_burst_of_changes_loses_nothing,
    a_reindex_during_writes_loses_nothing,
    rejected_changes_become_dead_letters_an_admin_can_retry,
    featured_ads_come_first_whatever_the_sort,
);

fn meili_args(app: &TestApp) -> platsen::MeiliArgs {
    let m = app.meili.as_ref().unwrap();
    platsen::MeiliArgs { meili_url: m.url.clone(), meili_master_key: m.master_key.clone(), meili_index: "jobs".into() }
}

/// Waits until the outbox is empty and `platsen search check` finds the index
/// equal to the database: nothing missing, stale or extra.
async fn index_equals_database(app: &TestApp, secs: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let mut last = String::new();
    while std::time::Instant::now() < deadline {
        let status = app.admin(Method::GET, "/api/v1/admin/search", None).await;
        if status.body["outbox_pending"] == 0 {
            let cmd = platsen::SearchCommand::Check { meili: meili_args(app), repair: false };
            last = platsen::search_command(&app.store, cmd).await.unwrap();
            if last.contains("saknas i indexet: 0, inaktuella: 0, överflödiga: 0") {
                assert_eq!(status.body["outbox_dead"], 0, "{}", status.text);
                return;
            }
        } else {
            last = status.text.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("the index did not come to equal the database: {last}");
}

/// Writes `n` changes straight through the store (create + publish, and a
/// close for every third ad), fast enough to overlap a crash.
async fn burst(store: platsen_jobs::Store, employer_id: i64, n: usize, tag: &str) {
    use platsen_jobs::model::Actor;
    let now = chrono::Utc::now();
    let mut changes = 0;
    let mut i = 0;
    while changes < n {
        let input = platsen_jobs::input::JobInput {
            title: Some(format!("Upphandlare {tag} {i}")),
            description: Some("Vi söker en upphandlare med erfarenhet av LOU och avtalsuppföljning.".into()),
            role: Some(platsen_taxonomy::Role::Upphandlare),
            municipality_code: Some("0180".into()),
            employment_type: Some(platsen_jobs::model::EmploymentType::Tillsvidare),
            application_deadline: Some(platsen_jobs::validate::today_in_sweden(now) + chrono::Duration::days(20)),
            apply_url: Some("https://example.org/ansok".into()),
            ..Default::default()
        };
        let ad = store.create_job(Actor::System, employer_id, input, now).await.unwrap();
        store.publish_as_operator(ad.id, now).await.unwrap();
        changes += 2;
        if i % 3 == 0 {
            store.transition(Actor::System, ad.id, platsen_jobs::Lifecycle::Close, now).await.unwrap();
            changes += 1;
        }
        i += 1;
    }
}

async fn a_crash_in_a_burst_of_changes_loses_nothing(app: &mut TestApp) {
    let (employer_id, _) = app.employer_with_key("Krockkommunen").await;
    index_equals_database(app, 30).await;
    let writer = tokio::spawn(burst(app.store.clone(), employer_id, 5_000, "krasch"));
    // Let the sync get going, then kill Meilisearch as a crash would.
    eventually(60, "some changes indexed before the crash", || async {
        app.get("/api/v1/jobs/search?q=krasch").await.body["total"].as_i64().unwrap_or(0) > 0
    })
    .await;
    app.meili.as_mut().unwrap().kill();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    app.meili.as_mut().unwrap().restart().await;
    writer.await.unwrap();
    index_equals_database(app, 120).await;
}

async fn a_reindex_during_writes_loses_nothing(app: &mut TestApp) {
    let (employer_id, _) = app.employer_with_key("Ombyggda kommunen").await;
    burst(app.store.clone(), employer_id, 600, "tidig").await;
    index_equals_database(app, 60).await;
    let writer = tokio::spawn(burst(app.store.clone(), employer_id, 600, "sentida"));
    let out = platsen::search_command(&app.store, platsen::SearchCommand::Reindex(meili_args(app))).await.unwrap();
    assert!(out.contains("är ombyggt"), "{out}");
    writer.await.unwrap();
    index_equals_database(app, 60).await;
    let query =
        platsen_jobs::search::SearchQuery { q: Some("sentida".into()), page: 1, per_page: 1, ..Default::default() };
    let builtin = platsen_app::App::new(app.store.clone(), app.clock.clone(), "http://127.0.0.1");
    let expected = builtin.search(&query, app.clock.now()).await.unwrap().total;
    assert!(expected > 100, "{expected}");
    search_until_total(app, "q=sentida", expected).await;
}

/// Searches until Meilisearch reports at least `min` hits.
async fn search_until_total(app: &TestApp, query: &str, min: i64) {
    eventually(30, query, || async {
        let r = app.get(&format!("/api/v1/jobs/search?{query}")).await;
        r.header("x-search-engine") == Some("meilisearch") && r.body["total"].as_i64().unwrap_or(0) >= min
    })
    .await;
}

fn ids(r: &platsen_tests::Reply) -> Vec<i64> {
    let mut v: Vec<i64> = r.body["hits"].as_array().unwrap().iter().map(|h| h["id"].as_i64().unwrap()).collect();
    v.sort();
    v
}

/// Searches until the answer comes from Meilisearch and has `expected` ids.
async fn search_until(app: &TestApp, query: &str, expected: Vec<i64>) {
    let url = app.url(&format!("/api/v1/jobs/search?{query}"));
    let mut last = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        let r = platsen_tests::Reply::from(app.client.get(&url).send().await.unwrap()).await;
        if r.header("x-search-engine") == Some("meilisearch") && ids(&r) == expected {
            return;
        }
        last = format!("{:?} {:?}", r.header("x-search-engine"), ids(&r));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{query}: expected {expected:?} from meilisearch, last got {last}");
}

async fn changes_reach_the_index_and_drafts_never_do(app: &mut TestApp) {
    let (employer_id, key) = app.employer_with_key("Nacka kommun").await;
    let a = app.publish_job(&key, app.job("Upphandlare till Nacka kommun")).await;
    let draft = app.post_job(&key, app.job("Upphandlare som är ett utkast")).await;
    search_until(app, "q=upphandlare", vec![a]).await;
    let r = app.get("/api/v1/jobs/search?q=upphandlare").await;
    assert!(r.body["hits"][0]["title_highlighted"].as_str().unwrap().contains("<mark>"), "{}", r.text);
    assert!(!ids(&r).contains(&draft));

    // Update.
    let patch = json!({ "title": "Kategoriledare IT", "role": "kategoriledare",
                        "description": "Du leder kategorin IT och förhandlar med leverantörer." });
    app.call(Method::PATCH, &format!("/api/v1/jobs/{a}"), Some(&key), Some(patch)).await;
    search_until(app, "q=kategoriledare", vec![a]).await;
    search_until(app, "q=upphandlare", vec![]).await;

    // Employer rename.
    app.admin(
        Method::PATCH,
        &format!("/api/v1/employers/{employer_id}"),
        Some(json!({ "name": "Saltsjöstadens kommun" })),
    )
    .await;
    search_until(app, "q=saltsj%C3%B6stadens", vec![a]).await;

    // Close, reopen, expire.
    app.call(Method::POST, &format!("/api/v1/jobs/{a}/close"), Some(&key), None).await;
    search_until(app, "q=kategoriledare", vec![]).await;
    app.call(Method::POST, &format!("/api/v1/jobs/{a}/reopen"), Some(&key), None).await;
    search_until(app, "q=kategoriledare", vec![a]).await;
    app.clock.advance(chrono::Duration::days(40));
    search_until(app, "q=kategoriledare", vec![]).await;

    // The sync is idle and healthy.
    let status = app.admin(Method::GET, "/api/v1/admin/search", None).await;
    assert_eq!(status.body["engine"], "meilisearch", "{}", status.text);
    assert_eq!(status.body["outbox_dead"], 0);
}

async fn typos_and_swedish_synonyms(app: &mut TestApp) {
    let (_, key) = app.employer_with_key("Region Uppsala").await;
    let upph = app.publish_job(&key, app.job("Upphandlare till regionen")).await;
    let avtal = app
        .publish_job(
            &key,
            with(
                app.job("Avtalscontroller till regionen"),
                json!({ "role": "avtalscontroller", "description": "Du följer upp våra avtal och leverantörers åtaganden." }),
            ),
        )
        .await;
    search_until(app, "q=upphandlre", vec![upph]).await;
    search_until(app, "q=ink%C3%B6pare", vec![upph]).await;
    search_until(app, "q=inkopare", vec![upph]).await;
    search_until(app, "q=avtalsf%C3%B6rvaltare", vec![avtal]).await;
    search_until(app, "q=procurement%20officer", vec![upph]).await;
}

async fn facet_counts_equal_the_database(app: &mut TestApp) {
    let (_, nacka) = app.employer_with_key("Nacka kommun").await;
    let (_, lulea) = app.employer_with_key("Luleå kommun").await;
    app.publish_job(&nacka, app.job("Upphandlare A")).await;
    app.publish_job(&nacka, with(app.job("Inköpschef B"), json!({ "role": "inkopschef", "remote": "hybrid" }))).await;
    app.publish_job(&lulea, with(app.job("Upphandlare C"), json!({ "municipality_code": "2580" }))).await;
    // An ad in three places in two counties (Luleå, Piteå; Nacka).
    let places = json!({ "municipality_code": null, "municipality_codes": ["2580", "2581", "0182"] });
    let d = app.publish_job(&nacka, with(app.job("Upphandlare D"), places)).await;
    eventually(15, "four ads in meilisearch", || async {
        let r = app.get("/api/v1/jobs/search").await;
        r.header("x-search-engine") == Some("meilisearch") && r.body["total"] == 4
    })
    .await;
    let r = app.get("/api/v1/jobs/search").await;
    // Counted once per county and once per place.
    let count = |dim: &str, value: &str| {
        r.body["facets"][dim].as_array().unwrap().iter().find(|f| f["value"] == value).map(|f| f["count"].clone())
    };
    assert_eq!((count("county", "25"), count("county", "01")), (Some(json!(2)), Some(json!(3))), "{}", r.text);
    assert_eq!(count("municipality", "2581"), Some(json!(1)));
    let hit = r.body["hits"].as_array().unwrap().iter().find(|h| h["id"] == d).unwrap().clone();
    let codes: Vec<&str> =
        hit["locations"].as_array().unwrap().iter().map(|l| l["municipality_code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["2580", "2581", "0182"], "{hit}");
    let r2 = app.get("/api/v1/jobs/search?municipality=2581").await;
    assert_eq!(
        (r2.header("x-search-engine"), r2.body["total"].clone()),
        (Some("meilisearch"), json!(1)),
        "{}",
        r2.text
    );
    for (dim, param) in [
        ("role", "role"),
        ("county", "county"),
        ("municipality", "municipality"),
        ("remote", "remote"),
        ("employer", "employer"),
    ] {
        for v in r.body["facets"][dim].as_array().unwrap() {
            let value = v["value"].as_str().unwrap();
            let list = app.get(&format!("/api/v1/jobs?{param}={value}")).await;
            assert_eq!(list.body["total"], v["count"], "{dim}={value}: {}", r.text);
        }
    }
    assert_eq!(r.body["facets"]["employer"][0]["name"], "Nacka kommun");
    // A hostile filter value is refused before any engine sees it.
    app.get("/api/v1/jobs/search?county=01%22%20OR%20employer_id%20%3D%205").await.assert_problem(400, "county");
}

async fn the_database_answers_while_meilisearch_is_down(app: &mut TestApp) {
    let (_, key) = app.employer_with_key("Nacka kommun").await;
    let a = app.publish_job(&key, app.job("Upphandlare till Nacka")).await;
    search_until(app, "q=upphandlare", vec![a]).await;
    let up = app.get("/api/v1/jobs/search?q=upphandlare").await;

    app.meili.as_mut().unwrap().kill();
    let b = app.publish_job(&key, app.job("Upphandlare nummer två")).await;
    let down = app.get("/api/v1/jobs/search?q=upphandlare").await;
    assert_eq!(down.status, StatusCode::OK, "{}", down.text);
    assert_eq!(down.header("x-search-engine"), Some("database"));
    assert_eq!(ids(&down), vec![a, b], "the database already has the new ad");
    // The same shape, key for key.
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&up.body), keys(&down.body));
    assert_eq!(keys(&up.body["hits"][0]), keys(&down.body["hits"][0]));
    assert_eq!(keys(&up.body["facets"]), keys(&down.body["facets"]));

    // Back up: the outbox catches up with what happened meanwhile.
    app.meili.as_mut().unwrap().restart().await;
    search_until(app, "q=upphandlare", vec![a, b]).await;
}

/// The search-sync lease, taken as soon as it is free within five seconds.
async fn lease_within_5s(app: &TestApp) -> Option<platsen_jobs::store::SearchLease> {
    for _ in 0..100 {
        if let Some(lease) = app.store.try_search_lease().await.unwrap() {
            return Some(lease);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    None
}

/// On PostgreSQL exactly one process runs the search sync: the lease is an
/// advisory lock, free again when its holder goes.
#[tokio::test]
async fn one_search_worker_per_postgres_database() {
    let Some(app) = TestApp::postgres().await else { return };
    let first = app.store.try_search_lease().await.unwrap();
    assert!(first.is_some());
    assert!(app.store.try_search_lease().await.unwrap().is_none(), "a second worker stands by");
    drop(first);
    let again = lease_within_5s(&app).await;
    assert!(again.is_some(), "the lease is free once its holder is gone");
    drop(again);
    app.stop().await;
}

/// The app's `platsen_search_sync_active` gauge: 1 while its worker holds
/// the lease.
async fn sync_active(app: &TestApp) -> f64 {
    let r = app.call(Method::GET, "/metrics", Some(platsen_tests::ADMIN_TOKEN), None).await;
    let line = r.text.lines().find(|l| l.starts_with("platsen_search_sync_active ")).expect("the gauge is exported");
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// A worker whose lease goes (its connection closed by the server, as in a
/// failover or a network cut) while another instance takes it stops sending
/// and stands by; two workers never feed the index at once. Once the lease
/// is free again it takes it back, and what changed meanwhile arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_loses_its_lease_stands_by() {
    let Some(app) = TestApp::postgres_with_meili().await else { return };
    let (_, key) = app.employer_with_key("Nacka kommun").await;
    let a = app.publish_job(&key, app.job("Upphandlare före avbrottet")).await;
    search_until(&app, "q=upphandlare", vec![a]).await;
    assert_eq!(sync_active(&app).await, 1.0);

    // The server closes the connection that holds the worker's lock, and
    // "another instance" (this test) takes the lease before the worker can:
    // it waits in the lock's queue first, so that PostgreSQL hands it the
    // lock as the holder goes (polling for it lost the race to the
    // worker's own retry on a busy machine).
    let (url, schema) = app.postgres_url_and_schema().unwrap();
    let admin = sqlx::PgPool::connect(url).await.unwrap();
    let mut other = sqlx::PgConnection::connect(url).await.unwrap();
    let queued = tokio::spawn({
        let schema = schema.to_owned();
        async move {
            sqlx::query("select pg_advisory_lock(1886151028, hashtext($1))")
                .bind(schema)
                .execute(&mut other)
                .await
                .expect("the lease, once its holder goes");
            other
        }
    });
    eventually(5, "the test waits in the lease's queue", || async {
        let waiting: i64 = sqlx::query_scalar(
            "select count(*) from pg_locks
              where locktype = 'advisory' and not granted and classid = 1886151028::oid
                and objid = hashtext($1)::oid and objsubid = 2",
        )
        .bind(schema)
        .fetch_one(&admin)
        .await
        .unwrap();
        waiting == 1
    })
    .await;
    let killed: Vec<bool> = sqlx::query_scalar(
        "select pg_terminate_backend(pid) from pg_locks
          where locktype = 'advisory' and granted and classid = 1886151028::oid
            and objid = hashtext($1)::oid and objsubid = 2",
    )
    .bind(schema)
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(killed, vec![true], "one connection held the lease");
    let other = tokio::time::timeout(std::time::Duration::from_secs(5), queued)
        .await
        .expect("the lease is free once its connection is gone")
        .unwrap();

    eventually(5, "the worker notices and stands by", || async { sync_active(&app).await == 0.0 }).await;
    // Standing by, it sends nothing: a new ad waits in the outbox.
    let b = app.publish_job(&key, app.job("Upphandlare under avbrottet")).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let status = app.admin(Method::GET, "/api/v1/admin/search", None).await;
    assert!(status.body["outbox_pending"].as_i64().unwrap() >= 1, "{}", status.text);
    let r = app.get("/api/v1/jobs/search?q=upphandlare").await;
    assert_eq!((r.header("x-search-engine"), ids(&r)), (Some("meilisearch"), vec![a]));

    // The other holder goes: the worker takes the lease back and catches up.
    other.close().await.unwrap();
    search_until(&app, "q=upphandlare", vec![a, b]).await;
    assert_eq!(sync_active(&app).await, 1.0);
    admin.close().await;
    app.stop().await;
}

/// A change Meilisearch rejects (here: a document over a payload limit) is
/// retried with backoff, then set aside as a dead letter that does not hold
/// up other changes; an admin sees it and queues it again.
async fn rejected_changes_become_dead_letters_an_admin_can_retry(app: &mut TestApp) {
    let (_, key) = app.employer_with_key("Nacka kommun").await;
    let a = app.publish_job(&key, app.job("Upphandlare till Nacka")).await;
    search_until(app, "q=upphandlare", vec![a]).await;
    app.meili.as_mut().unwrap().restart_with(&["--http-payload-size-limit", "16KB"]).await;

    let long = "Upphandlingen omfattar ramavtal för hela kommunkoncernen. ".repeat(600);
    let b = app.publish_job(&key, with(app.job("Upphandlare med lång annons"), json!({ "description": long }))).await;
    // Each retry waits longer (2, 4, 8, 16 s on the application clock): move
    // the clock on until the change is given up on.
    let mut status = app.admin(Method::GET, "/api/v1/admin/search", None).await;
    for _ in 0..300 {
        if status.body["outbox_dead"] == 1 {
            break;
        }
        app.clock.advance(chrono::Duration::seconds(20));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        status = app.admin(Method::GET, "/api/v1/admin/search", None).await;
    }
    assert_eq!(status.body["outbox_dead"], 1, "{}", status.text);
    assert_eq!(status.body["outbox_pending"], 0, "{}", status.text);
    assert!(status.body["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{}", status.text);

    // Other changes still flow.
    let c = app.publish_job(&key, app.job("Upphandlare i Värmdö")).await;
    search_until(app, "q=upphandlare", vec![a, c]).await;

    // The limit lifted, the admin retries: the ad arrives.
    app.meili.as_mut().unwrap().restart_with(&[]).await;
    let retried = app.admin(Method::POST, "/api/v1/admin/search/retry", None).await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.text);
    assert_eq!(retried.body["retried"], 1);
    search_until(app, "q=upphandlare", vec![a, b, c]).await;
    index_equals_database(app, 30).await;
}

/// A featured ad (the operator's flag, or a featured credit) comes first
/// among Meilisearch's matches, whatever the sort, as it does in the
/// database's search.
async fn featured_ads_come_first_whatever_the_sort(app: &mut TestApp) {
    let (_, key) = app.employer_with_key("Region Uppsala").await;
    let featured = app.publish_job(&key, app.job("Upphandlare till Uppsala")).await;
    let r = app.admin(Method::PATCH, &format!("/api/v1/jobs/{featured}"), Some(json!({ "featured": true }))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Published later, with an exact title match and an earlier deadline.
    let plain =
        app.publish_job(&key, with(app.job("Upphandlare"), json!({ "application_deadline": app.date_in(5) }))).await;
    search_until(app, "q=upphandlare", vec![featured, plain]).await;
    for sort in ["relevance", "newest", "deadline"] {
        let what = format!("the featured ad first from meilisearch, sorted by {sort}");
        eventually(15, &what, || async {
            let r = app.get(&format!("/api/v1/jobs/search?q=upphandlare&sort={sort}")).await;
            r.header("x-search-engine") == Some("meilisearch") && r.body["hits"][0]["id"].as_i64() == Some(featured)
        })
        .await;
    }
}
