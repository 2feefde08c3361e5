//! The public read side: filters, counts, sorting, caching headers, the
//! spec, health checks.

use platsen_tests::{TestApp, with};
use reqwest::{Method, StatusCode};
use serde_json::json;

platsen_tests::contract!(
    filters_sorting_and_counts,
    the_list_answers_every_filter_combination_as_its_contract_says,
    public_reads_have_etags_and_cache_control,
    health_and_readiness,
    metrics_count_what_the_operator_watches,
);

async fn filters_sorting_and_counts(app: &TestApp) {
    let (_, nacka) = app.employer_with_key("Nacka kommun").await;
    let (_, lulea) = app.employer_with_key("Luleå kommun").await;
    let a = app
        .publish_job(&nacka, with(app.job("Upphandlare A"), json!({ "application_deadline": app.date_in(30) })))
        .await;
    let b = app
        .publish_job(
            &nacka,
            with(
                app.job("Inköpschef B"),
                json!({ "role": "inkopschef", "remote": "hybrid", "application_deadline": app.date_in(5) }),
            ),
        )
        .await;
    let c = app
        .publish_job(
            &lulea,
            with(
                app.job("Upphandlare C"),
                json!({ "municipality_code": "2580", "employment_type": "visstid", "application_deadline": app.date_in(10) }),
            ),
        )
        .await;
    app.post_job(&lulea, app.job("Utkast D")).await;

    let ids = |r: &platsen_tests::Reply| -> Vec<i64> {
        r.body["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect()
    };
    let all = app.get("/api/v1/jobs").await;
    assert_eq!(all.body["total"], 3);
    assert_eq!(ids(&all), vec![c, b, a], "newest first");
    assert_eq!(ids(&app.get("/api/v1/jobs?sort=deadline").await), vec![b, c, a]);
    assert_eq!(ids(&app.get("/api/v1/jobs?role=upphandlare").await), vec![c, a]);
    assert_eq!(ids(&app.get("/api/v1/jobs?county=25").await), vec![c]);
    assert_eq!(ids(&app.get("/api/v1/jobs?municipality=0182").await), vec![b, a]);
    assert_eq!(ids(&app.get("/api/v1/jobs?employment_type=visstid").await), vec![c]);
    assert_eq!(ids(&app.get("/api/v1/jobs?remote=hybrid").await), vec![b]);
    assert_eq!(ids(&app.get("/api/v1/jobs?employer=lulea-kommun").await), vec![c]);
    assert_eq!(ids(&app.get("/api/v1/jobs?role=upphandlare&county=01").await), vec![a]);
    let page2 = app.get("/api/v1/jobs?per_page=2&page=2").await;
    assert_eq!((page2.body["total"].as_i64(), page2.body["total_pages"].as_i64()), (Some(3), Some(2)));
    assert_eq!(ids(&page2), vec![a]);

    let employers = app.get("/api/v1/employers").await;
    assert_eq!(employers.body["total"], 2);
    let lulea_page = app.get("/api/v1/employers/lulea-kommun").await;
    assert_eq!(lulea_page.body["open_jobs"], 1);
    assert_eq!(lulea_page.body["jobs"][0]["id"], c);
    assert_eq!(app.get("/api/v1/employers/finns-inte").await.status, StatusCode::NOT_FOUND);
}

/// The public list is picked and counted by the in-memory index and read
/// from SQL: on 400 ads (some featured, some closed), every filter, pairs of
/// them, both orders and several pages answer what the list promises (open
/// ads passing every filter; featured first; newest publication or earliest
/// deadline, then id), checked against every open ad read from the store.
async fn the_list_answers_every_filter_combination_as_its_contract_says(app: &TestApp) {
    use chrono::Datelike;
    use platsen_tests::corpus;
    let now = chrono::Utc::now();
    let employers = corpus::employers(&app.store, now).await;
    corpus::publish(&app.store, &employers, 0, 400, 1).await;
    let open = app.store.indexable_versions(now).await.unwrap();
    let ids: Vec<i64> = open.iter().map(|(id, _)| *id).collect();
    for id in ids.iter().step_by(23) {
        let r = app.admin(Method::PATCH, &format!("/api/v1/jobs/{id}"), Some(json!({ "featured": true }))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    for id in ids.iter().skip(5).step_by(31) {
        let r = app.admin(Method::POST, &format!("/api/v1/jobs/{id}/close"), None).await;
        assert!(r.status.is_success(), "{}", r.text);
    }
    let ads = app.store.indexable_ads(&ids, chrono::Utc::now()).await.unwrap();
    assert!(ads.len() < 400 && ads.len() > 350, "{} open", ads.len());
    assert!(ads.iter().filter(|a| a.featured).count() > 10);

    let first = &ads[0];
    let other = &ads[ads.len() / 2];
    type Pick = fn(&platsen_jobs::model::JobAd) -> String;
    let dims: [(&str, Pick); 6] = [
        ("role", |a| a.role.code().into()),
        ("county", |a| a.municipality.county.code.into()),
        ("municipality", |a| a.municipality.code.into()),
        ("employment_type", |a| a.employment_type.code().into()),
        ("remote", |a| a.remote.code().into()),
        ("employer", |a| a.employer_slug.clone()),
    ];
    let mut filters: Vec<Vec<(usize, String)>> = vec![vec![]];
    for (d, (_, pick)) in dims.iter().enumerate() {
        filters.push(vec![(d, pick(first))]);
        filters.push(vec![(d, pick(other))]);
        for (e, (_, pick2)) in dims.iter().enumerate().skip(d + 1) {
            filters.push(vec![(d, pick(other)), (e, pick2(other))]);
            filters.push(vec![(d, pick(first)), (e, pick2(other))]);
        }
    }
    filters.push(vec![(0, "upphandlingsjurist".into()), (1, "23".into())]);
    let mut checked = 0;
    for filter in &filters {
        for sort in ["newest", "deadline"] {
            let mut expected: Vec<&platsen_jobs::model::JobAd> =
                ads.iter().filter(|a| filter.iter().all(|(d, v)| dims[*d].1(a) == *v)).collect();
            expected.sort_by_key(|a| {
                let order = match sort {
                    "newest" => (-a.published_at.unwrap().timestamp(), -a.id),
                    _ => (i64::from(a.application_deadline.num_days_from_ce()), a.id),
                };
                (!a.featured, order)
            });
            let query: String = filter.iter().map(|(d, v)| format!("{}={v}&", dims[*d].0)).collect();
            for page in 1..=3 {
                let r = app.get(&format!("/api/v1/jobs?{query}sort={sort}&per_page=7&page={page}")).await;
                assert_eq!(r.status, StatusCode::OK, "{query} {}", r.text);
                assert_eq!(r.body["total"].as_u64(), Some(expected.len() as u64), "total of {query}sort={sort}");
                let got: Vec<i64> =
                    r.body["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
                let want: Vec<i64> = expected.iter().skip((page - 1) * 7).take(7).map(|a| a.id).collect();
                assert_eq!(got, want, "page {page} of {query}sort={sort}");
                checked += 1;
            }
        }
    }
    assert!(checked > 250, "{checked} lists checked");

    // A change is in the next list at once.
    let top = app.get("/api/v1/jobs?per_page=1").await;
    let top_id = top.body["items"][0]["id"].as_i64().unwrap();
    let r = app.admin(Method::POST, &format!("/api/v1/jobs/{top_id}/close"), None).await;
    assert!(r.status.is_success(), "{}", r.text);
    let after = app.get("/api/v1/jobs?per_page=1&page=1&sort=newest").await;
    assert_ne!(after.body["items"][0]["id"].as_i64(), Some(top_id));
    assert_eq!(after.body["total"].as_i64(), top.body["total"].as_i64().map(|n| n - 1));
}

async fn public_reads_have_etags_and_cache_control(app: &TestApp) {
    let (_, key) = app.employer_with_key("Cachebolaget").await;
    let id = app.publish_job(&key, app.job("Upphandlare med cache")).await;
    let path = format!("/api/v1/jobs/{id}");
    let first = app.get(&path).await;
    let etag = first.header("etag").expect("an ETag").to_owned();
    assert!(first.header("cache-control").unwrap().starts_with("public"));
    let again = app.client.get(app.url(&path)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    // A change gives a new ETag.
    app.call(Method::PATCH, &format!("/api/v1/jobs/{id}"), Some(&key), Some(json!({ "vacancies": 2 }))).await;
    let changed = app.client.get(app.url(&path)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    // Authenticated reads are private.
    let own = app.call(Method::GET, "/api/v1/account/jobs", Some(&key), None).await;
    assert_eq!(own.header("cache-control"), Some("private, no-cache"));
}

async fn health_and_readiness(app: &TestApp) {
    assert_eq!(app.get("/healthz").await.body["status"], "ok");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["database"], app.store.backend());
    // An acknowledged write survives a power loss: SQLite syncs its log at
    // every commit (the benchmark measures what that costs).
    let durable = if app.store.backend() == "sqlite" { "full" } else { "postgres" };
    assert_eq!(ready.body["durability"], durable, "{}", ready.body);
    assert_eq!(ready.body["meilisearch"], "not_configured", "{}", ready.body);
    if app.store.backend() == "sqlite" {
        let dir = std::env::temp_dir().join(format!("platsen-durability-{:x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite:{}", dir.join("normal.db").display());
        let normal =
            platsen_jobs::Store::connect_with(&url, platsen_jobs::store::SqliteDurability::Normal).await.unwrap();
        assert_eq!(normal.durability().await.unwrap(), "normal", "the check tells the settings apart");
        normal.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
    let missing = app.get("/no/such/page").await;
    missing.assert_problem_kind(404, "not-found");
    let wrong_method = app.call(Method::PUT, "/api/v1/jobs", None, None).await;
    assert!(wrong_method.status.is_client_error());
    assert_eq!(wrong_method.header("content-type"), Some("application/problem+json"));
}

/// The spec documents every operation and, for each, its error responses.
#[tokio::test]
async fn openapi_spec_documents_every_endpoint_and_error() {
    let app = TestApp::sqlite().await;
    let spec = app.get("/api/openapi.json").await;
    assert_eq!(spec.status, StatusCode::OK);
    assert!(spec.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec.body["paths"].as_object().unwrap();
    let expected = [
        ("/v1/jobs", "get"),
        ("/v1/jobs", "post"),
        ("/v1/jobs/{id}", "get"),
        ("/v1/jobs/{id}", "patch"),
        ("/v1/jobs/{id}", "delete"),
        ("/v1/jobs/{id}/publish", "post"),
        ("/v1/jobs/{id}/close", "post"),
        ("/v1/jobs/{id}/archive", "post"),
        ("/v1/jobs/{id}/reopen", "post"),
        ("/v1/jobs/{id}/approve", "post"),
        ("/v1/jobs/{id}/reject", "post"),
        ("/v1/jobs/{id}/events", "get"),
        ("/v1/account/jobs", "get"),
        ("/v1/account/jobs/{id}", "get"),
        ("/v1/employers", "get"),
        ("/v1/employers", "post"),
        ("/v1/employers/{id}", "get"),
        ("/v1/employers/{id}/keys", "post"),
        ("/v1/keys/{id}", "delete"),
        ("/v1/jobs/search", "get"),
        ("/v1/jobs/suggest", "get"),
        ("/v1/employers/{id}", "patch"),
    ];
    for (path, method) in expected {
        let op = &paths.get(path).unwrap_or_else(|| panic!("{path} missing from {:?}", paths.keys()))[method];
        assert!(op.is_object(), "{method} {path} missing");
        let responses = op["responses"].as_object().unwrap();
        for status in ["400", "404", "422", "500"] {
            let content = &responses[status]["content"];
            assert!(content["application/problem+json"].is_object(), "{method} {path} lacks a documented {status}");
        }
    }
    assert!(spec.body["components"]["securitySchemes"]["Auth"]["scheme"] == "bearer");
    let docs = app.get("/api/docs").await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(docs.text.contains("swagger"), "interactive docs are served");
    app.stop().await;
}

/// Shutting down lets requests in flight finish: none is cut off half-way.
#[tokio::test]
async fn graceful_shutdown_finishes_requests_in_flight() {
    let app = TestApp::sqlite().await;
    let (_, key) = app.employer_with_key("Avstängningsbolaget").await;
    for i in 0..5 {
        app.publish_job(&key, app.job(&format!("Upphandlare nummer {i}"))).await;
    }
    let client = app.client.clone();
    let url = app.url("/api/v1/jobs?per_page=100");
    let load = tokio::spawn(async move {
        let mut outcomes = Vec::new();
        for _ in 0..200 {
            match client.get(&url).send().await {
                Ok(r) => {
                    let status = r.status();
                    let body = r.text().await;
                    outcomes.push(Some((status, body.map(|b| serde_json::from_str::<serde_json::Value>(&b).is_ok()))));
                }
                Err(_) => outcomes.push(None),
            }
        }
        outcomes
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    app.stop().await;
    let outcomes = load.await.unwrap();
    let answered = outcomes.iter().flatten().count();
    assert!(answered > 0, "some requests were served before the shutdown");
    for (status, parsed) in outcomes.iter().flatten() {
        assert_eq!(*status, StatusCode::OK);
        assert!(matches!(parsed, Ok(true)), "a response was cut off");
    }
}

/// With a drain time, a stopping instance first answers `/readyz` with 503
/// (a load balancer takes it out) while it still serves every request that
/// reaches it; then it closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_instance_drains_before_it_closes() {
    let dir = std::env::temp_dir().join(format!("platsen-drain-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = platsen::open_store(&format!("sqlite:{}", dir.join("d.db").display())).await.unwrap();
    let config = platsen::ServerConfig { drain: std::time::Duration::from_millis(800), ..Default::default() };
    let running = platsen::start(store, config, platsen_app::Clock::default()).await.unwrap();
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::new();
    assert_eq!(client.get(format!("{base}/readyz")).send().await.unwrap().status(), StatusCode::OK);
    let started = std::time::Instant::now();
    let stopping = tokio::spawn(running.shutdown());
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let ready = platsen_tests::Reply::from(client.get(format!("{base}/readyz")).send().await.unwrap()).await;
    ready.assert_problem_kind(503, "draining");
    for _ in 0..5 {
        let r = client.get(format!("{base}/api/v1/jobs")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "served while draining");
    }
    stopping.await.unwrap().unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_millis(800), "the drain time was kept");
    assert!(reqwest::Client::new().get(format!("{base}/readyz")).send().await.is_err(), "closed after the drain");
    let _ = std::fs::remove_dir_all(dir);
}

/// Request rate is bounded per client address: past the burst, 429 with
/// Retry-After, as problem+json.
#[tokio::test]
async fn requests_over_the_rate_limit_get_429() {
    let dir = std::env::temp_dir().join(format!("platsen-rate-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = platsen::open_store(&format!("sqlite:{}", dir.join("r.db").display())).await.unwrap();
    let config = platsen::ServerConfig { rate_limit: 2, ..Default::default() };
    let running = platsen::start(store, config, platsen_app::Clock::default()).await.unwrap();
    let url = format!("http://{}/api/v1/jobs", running.addr);
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(platsen_tests::Reply::from(client.get(&url).send().await.unwrap()).await);
    }
    let ok = statuses.iter().filter(|r| r.status == StatusCode::OK).count();
    assert!((10..20).contains(&ok), "the burst (5 × 2) passes, then the limit bites: {ok} passed");
    let limited = statuses.iter().find(|r| r.status == StatusCode::TOO_MANY_REQUESTS).expect("a 429");
    limited.assert_problem_kind(429, "rate-limited");
    assert_eq!(limited.header("retry-after"), Some("1"));
    running.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

/// Behind a trusted load balancer the limit counts each client named in
/// `X-Forwarded-For`; from anyone else the header is ignored (a client
/// cannot dodge the limit by writing it).
#[tokio::test]
async fn the_rate_limit_counts_the_client_behind_a_trusted_proxy() {
    let dir = std::env::temp_dir().join(format!("platsen-proxy-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let client = reqwest::Client::new();
    for trusted in [true, false] {
        let store =
            platsen::open_store(&format!("sqlite:{}", dir.join(format!("{trusted}.db")).display())).await.unwrap();
        let proxies = if trusted { "127.0.0.1, ::1" } else { "10.9.8.7" };
        let config = platsen::ServerConfig {
            rate_limit: 2,
            trusted_proxies: platsen::TrustedProxies(platsen_api::http::client::parse_trusted(proxies).unwrap()),
            ..Default::default()
        };
        let running = platsen::start(store, config, platsen_app::Clock::default()).await.unwrap();
        let url = format!("http://{}/api/v1/jobs", running.addr);
        let passed = |from: &'static str| {
            let (client, url) = (client.clone(), url.clone());
            async move {
                let mut ok = 0;
                for _ in 0..12 {
                    let r = client.get(&url).header("x-forwarded-for", from).send().await.unwrap();
                    ok += usize::from(r.status() == StatusCode::OK);
                }
                ok
            }
        };
        let first = passed("1.1.1.1, 198.51.100.7").await;
        assert!(first < 12, "trusted={trusted}: the limit bites ({first} of 12 passed)");
        let second = passed("198.51.100.8").await;
        if trusted {
            assert!(second >= 10, "another client has its own bucket: {second} of 12 passed");
            let forged = passed("198.51.100.8, 198.51.100.7").await;
            assert!(forged < 3, "a forged entry to the left does not help: {forged} of 12 passed");
        } else {
            assert!(second < 3, "an untrusted peer's header is ignored: {second} of 12 passed");
        }
        running.shutdown().await.unwrap();
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A load balancer's health checks and the metrics scrape, sent to the
/// instance directly, are never rate limited (a 429 on `/readyz` would take
/// a healthy instance out); through the public front they are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_are_never_rate_limited() {
    let dir = std::env::temp_dir().join(format!("platsen-probes-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = platsen::open_store(&format!("sqlite:{}", dir.join("p.db").display())).await.unwrap();
    let config = platsen::ServerConfig { rate_limit: 1, ..Default::default() };
    let running = platsen::start(store, config, platsen_app::Clock::default()).await.unwrap();
    let client = reqwest::Client::new();
    for path in ["/readyz", "/healthz", "/metrics"] {
        for i in 0..20 {
            let r = client.get(format!("http://{}{path}", running.addr)).send().await.unwrap();
            assert_ne!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{path}, request {i}");
        }
    }
    // Through the public front (a forwarded client), the same paths are
    // limited like the rest.
    let mut forwarded_refused = 0;
    for _ in 0..20 {
        let r = client
            .get(format!("http://{}/readyz", running.addr))
            .header("x-forwarded-for", "198.51.100.9")
            .send()
            .await
            .unwrap();
        forwarded_refused += usize::from(r.status() == StatusCode::TOO_MANY_REQUESTS);
    }
    assert!(forwarded_refused > 0, "a forwarded client's /readyz is limited");
    // The rest of the site is still limited (a burst of five).
    let mut refused = 0;
    for _ in 0..20 {
        let r = client.get(format!("http://{}/api/v1/jobs", running.addr)).send().await.unwrap();
        refused += usize::from(r.status() == StatusCode::TOO_MANY_REQUESTS);
    }
    assert!(refused > 0, "the API is limited");
    running.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

/// `GET /metrics`: Prometheus's text format for the admin token only, with
/// requests by route template (never the path), the response cache, the
/// pools and the search outbox.
async fn metrics_count_what_the_operator_watches(app: &TestApp) {
    // Garbage and strangers: no token, a wrong one, an employer's key.
    let (_, key) = app.employer_with_key("Mätkommunen").await;
    for auth in [None, Some("fel-token"), Some(key.as_str()), Some("")] {
        let r = app.call(Method::GET, "/metrics", auth, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{auth:?}: {}", r.text);
        assert!(!r.text.contains("platsen_http_requests_total"), "{}", r.text);
    }
    let id = app.publish_job(&key, app.job("Upphandlare till mätningen")).await;
    for _ in 0..3 {
        assert_eq!(app.get(&format!("/api/v1/jobs/{id}")).await.status, StatusCode::OK);
    }
    assert_eq!(app.get("/api/v1/jobs/999999999").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/finns/inte/alls").await.status, StatusCode::NOT_FOUND);
    let r = app.call(Method::GET, "/metrics", Some(platsen_tests::ADMIN_TOKEN), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.header("content-type").is_some_and(|c| c.starts_with("text/plain")), "{:?}", r.header("content-type"));
    let count = |prefix: &str| -> f64 {
        r.text
            .lines()
            .filter(|l| l.starts_with(prefix))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
            .sum()
    };
    let ok = count(r#"platsen_http_requests_total{method="GET",route="/api/v1/jobs/{id}",status="200"}"#);
    assert!(ok >= 3.0, "three reads of the ad, some from the cache: {ok}\n{}", r.text);
    let missing = count(r#"platsen_http_requests_total{method="GET",route="/api/v1/jobs/{id}",status="404"}"#);
    assert!(missing >= 1.0, "{}", r.text);
    assert!(count(r#"platsen_http_requests_total{method="GET",route="unmatched",status="404"}"#) >= 1.0, "{}", r.text);
    assert!(!r.text.contains("/finns/inte") && !r.text.contains(&format!("/jobs/{id}\"")), "paths are never labels");
    assert!(count(r#"platsen_response_cache_lookups_total{outcome="hit"}"#) >= 1.0, "{}", r.text);
    assert!(count(r#"platsen_response_cache_lookups_total{outcome="miss"}"#) >= 1.0, "{}", r.text);
    assert!(count("platsen_http_request_duration_seconds_count") >= 5.0, "{}", r.text);
    assert!(r.text.contains("platsen_db_connections{"), "{}", r.text);
    assert_eq!(count("platsen_database_up"), 1.0, "{}", r.text);
    assert_eq!(count("platsen_search_outbox_dead"), 0.0, "{}", r.text);
    assert!(r.text.contains("# TYPE platsen_rate_limited_requests counter"), "{}", r.text);
    assert!(r.text.contains("# TYPE platsen_webhook_deliveries counter"), "{}", r.text);
    assert!(r.text.contains("# TYPE platsen_alert_mails counter"), "{}", r.text);
    assert!(r.text.contains("# TYPE platsen_search_sync_lag_seconds gauge"), "{}", r.text);
}
