//! Search through the database engine (the built-in fallback): the same
//! endpoint and shape the Meilisearch engine answers with.

use platsen_tests::{TestApp, with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

platsen_tests::contract!(
    finds_open_ads_by_words_places_and_employers,
    facet_counts_equal_the_lists_counts,
    changes_show_in_search_at_once,
    hostile_queries_and_filters_are_inert,
    suggestions_cover_roles_places_employers_and_titles,
    the_demo_board_finds_what_a_person_expects,
    garbage_queries_answer_with_results_or_a_problem_naming_q,
    another_instance_on_the_same_database_sees_every_change,
    typos_prefixes_and_english_titles,
);

/// A typeahead answer as (kind, value) pairs.
fn suggestion_kinds(r: &Value) -> Vec<(String, String)> {
    r.as_array()
        .unwrap()
        .iter()
        .map(|s| (s["kind"].as_str().unwrap().to_owned(), s["value"].as_str().unwrap().to_owned()))
        .collect()
}

fn ids(r: &platsen_tests::Reply) -> Vec<i64> {
    r.body["hits"].as_array().unwrap().iter().map(|h| h["id"].as_i64().unwrap()).collect()
}

async fn seed(app: &TestApp) -> (String, i64, i64, i64) {
    let (_, nacka) = app.employer_with_key("Nacka kommun").await;
    let (_, lulea) = app.employer_with_key("Luleå kommun").await;
    let a = app.publish_job(&nacka, app.job("Upphandlare till Nacka kommun")).await;
    let b = app
        .publish_job(
            &nacka,
            with(
                app.job("Inköpschef med ansvar för strategiska avtal"),
                json!({ "role": "inkopschef", "salary_min": 70000, "salary_max": 80000,
                        "description": "Du leder inköpsavdelningen och vårt strategiska arbete med leverantörer." }),
            ),
        )
        .await;
    let c = app
        .publish_job(
            &lulea,
            with(
                app.job("Avtalsförvaltare inom entreprenad"),
                json!({ "role": "avtalscontroller", "municipality_code": "2580", "employment_type": "visstid",
                        "salary_min": null, "salary_max": null,
                        "description": "Du förvaltar våra avtal för bygg och anläggning i hela länet." }),
            ),
        )
        .await;
    app.post_job(&lulea, app.job("Upphandlare utkast som aldrig syns")).await;
    (nacka, a, b, c)
}

async fn finds_open_ads_by_words_places_and_employers(app: &TestApp) {
    let (_, a, b, c) = seed(app).await;
    let r = app.get("/api/v1/jobs/search?q=upphandlare").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("x-search-engine"), Some("database"));
    assert_eq!(r.body["engine"], "database");
    assert_eq!(ids(&r), vec![a], "the draft never shows");
    let hit = &r.body["hits"][0];
    assert!(hit["title_highlighted"].as_str().unwrap().contains("<mark>Upphandlare</mark>"), "{hit}");
    assert!(hit["snippet"].is_string());
    assert_eq!(hit["location"]["county"], "Stockholms län");

    // Word prefixes, places (county names) and employers all match.
    assert_eq!(ids(&app.get("/api/v1/jobs/search?q=upphandl").await), vec![a]);
    assert_eq!(ids(&app.get("/api/v1/jobs/search?q=upphandlare%20stockholm").await), vec![a]);
    assert_eq!(ids(&app.get("/api/v1/jobs/search?q=norrbotten").await), vec![c]);
    assert_eq!(ids(&app.get("/api/v1/jobs/search?q=lule%C3%A5").await), vec![c]);
    let mut nacka = ids(&app.get("/api/v1/jobs/search?q=nacka&sort=newest").await);
    nacka.sort();
    assert_eq!(nacka, vec![a, b]);

    // No words: every open ad, newest first; filters and sorting apply.
    let all = app.get("/api/v1/jobs/search").await;
    assert_eq!((all.body["total"].as_i64(), ids(&all)), (Some(3), vec![c, b, a]));
    assert_eq!(ids(&app.get("/api/v1/jobs/search?county=25").await), vec![c]);
    assert_eq!(ids(&app.get("/api/v1/jobs/search?salary_min=75000").await), vec![b]);
    assert_eq!(ids(&app.get("/api/v1/jobs/search?role=inkopschef&q=avtal").await), vec![b]);
    let tomorrow = app.date_in(1);
    assert_eq!(app.get(&format!("/api/v1/jobs/search?published_after={tomorrow}")).await.body["total"], 0);
    let page = app.get("/api/v1/jobs/search?per_page=2&page=2").await;
    assert_eq!((page.body["total_pages"].as_i64(), ids(&page)), (Some(2), vec![a]));
}

async fn facet_counts_equal_the_lists_counts(app: &TestApp) {
    seed(app).await;
    let r = app.get("/api/v1/jobs/search").await;
    let facets = &r.body["facets"];
    for (dim, param) in [
        ("role", "role"),
        ("county", "county"),
        ("municipality", "municipality"),
        ("employment_type", "employment_type"),
        ("remote", "remote"),
        ("employer", "employer"),
    ] {
        let values = facets[dim].as_array().unwrap();
        assert!(!values.is_empty(), "{dim}: {facets}");
        let sum: i64 = values.iter().map(|v| v["count"].as_i64().unwrap()).sum();
        assert_eq!(sum, 3, "{dim}: every hit has one value");
        for v in values {
            let value = v["value"].as_str().unwrap();
            let list = app.get(&format!("/api/v1/jobs?{param}={value}")).await;
            assert_eq!(list.body["total"], v["count"], "{dim}={value}");
            assert!(!v["name"].as_str().unwrap().is_empty());
        }
    }
    let roles: Vec<&str> = facets["role"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert!(roles.contains(&"Avtalscontroller/avtalsförvaltare"), "{roles:?}");
    // Facets follow the query.
    let r = app.get("/api/v1/jobs/search?q=upphandlare").await;
    assert_eq!(r.body["facets"]["county"], json!([{ "value": "01", "name": "Stockholms län", "count": 1 }]));
}

async fn changes_show_in_search_at_once(app: &TestApp) {
    let (nacka, a, b, _) = seed(app).await;
    let count = |r: &platsen_tests::Reply| r.body["total"].as_i64().unwrap();
    // Update: the new title is found, the old one is not.
    let patch = json!({ "title": "Kategoriledare IT", "role": "kategoriledare", "description": "Du ansvarar för kategorin IT och dess leverantörer." });
    let r = app.call(Method::PATCH, &format!("/api/v1/jobs/{a}"), Some(&nacka), Some(patch)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(ids(&app.get("/api/v1/jobs/search?q=kategoriledare").await), vec![a]);
    assert_eq!(count(&app.get("/api/v1/jobs/search?q=upphandlare").await), 0);
    // Close: gone.
    app.call(Method::POST, &format!("/api/v1/jobs/{b}/close"), Some(&nacka), None).await;
    assert_eq!(count(&app.get("/api/v1/jobs/search?q=inkopschef").await), 0);
    // Employer rename: found by the new name.
    let employer_id = app.get(&format!("/api/v1/jobs/{a}")).await.body["employer"]["id"].as_i64().unwrap();
    let r = app
        .admin(
            Method::PATCH,
            &format!("/api/v1/employers/{employer_id}"),
            Some(json!({ "name": "Saltsjöstadens kommun" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(ids(&app.get("/api/v1/jobs/search?q=saltsjostadens").await), vec![a]);
    assert_eq!(app.get(&format!("/api/v1/jobs/{a}")).await.body["employer"]["name"], "Saltsjöstadens kommun");
    // Expiry: gone without an edit.
    app.clock.advance(chrono::Duration::days(40));
    assert_eq!(count(&app.get("/api/v1/jobs/search").await), 0);
}

async fn hostile_queries_and_filters_are_inert(app: &TestApp) {
    let (nacka, a, _, _) = seed(app).await;
    for q in [
        "\"",
        "*",
        "upphandlare\" OR \"1",
        "NEAR(a b)",
        "-upphandlare",
        "title:upphandlare",
        "'); drop table job_ads; --",
        "%",
        "_",
        "\\",
        "🙂",
        "\u{202E}",
        "a b c d e f g h i j k l m n",
    ] {
        let r = app.client.get(app.url("/api/v1/jobs/search")).query(&[("q", q)]).send().await.unwrap();
        let r = platsen_tests::Reply::from(r).await;
        assert_eq!(r.status, StatusCode::OK, "{q:?}: {}", r.text);
        assert!(r.body["hits"].is_array());
    }
    // Filter values never become filter syntax.
    app.get("/api/v1/jobs/search?county=01%22%20OR%20employer_id%20%3D%205").await.assert_problem(400, "county");
    app.get("/api/v1/jobs/search?employer=1%20or%201%3D1").await.assert_problem(400, "employer");
    app.get("/api/v1/jobs/search?salary_min=-1").await.assert_problem(400, "salary_min");
    app.get("/api/v1/jobs/search?published_after=igår").await.assert_problem(400, "published_after");
    app.get(&format!("/api/v1/jobs/search?q={}", "x".repeat(201))).await.assert_problem(400, "q");
    app.get("/api/v1/jobs/search?per_page=1000").await.assert_problem(400, "per_page");
    // A title with markup is escaped in the highlight.
    app.call(
        Method::PATCH,
        &format!("/api/v1/jobs/{a}"),
        Some(&nacka),
        Some(json!({ "title": "<b>Upphandlare</b> & co" })),
    )
    .await;
    let r = app.get("/api/v1/jobs/search?q=upphandlare").await;
    assert_eq!(r.body["hits"][0]["title_highlighted"], "&lt;b&gt;<mark>Upphandlare</mark>&lt;/b&gt; &amp; co");
}

async fn suggestions_cover_roles_places_employers_and_titles(app: &TestApp) {
    seed(app).await;
    let kinds = suggestion_kinds;
    let r = app.get("/api/v1/jobs/suggest?q=upph").await;
    let got = kinds(&r.body);
    assert!(got.contains(&("role".into(), "upphandlare".into())), "{got:?}");
    assert!(got.contains(&("title".into(), "Upphandlare till Nacka kommun".into())), "{got:?}");
    let got = kinds(&app.get("/api/v1/jobs/suggest?q=lule").await.body);
    assert!(got.contains(&("municipality".into(), "2580".into())), "{got:?}");
    assert!(got.contains(&("employer".into(), "lulea-kommun".into())), "{got:?}");
    let got = kinds(&app.get("/api/v1/jobs/suggest?q=orebro").await.body);
    assert!(got.contains(&("county".into(), "18".into())), "diacritics are optional: {got:?}");
    assert_eq!(app.get("/api/v1/jobs/suggest?q=%25%25").await.body, json!([]));
    app.get("/api/v1/jobs/suggest").await.assert_problem(400, "q");
}

/// The hits' titles, in order.
fn titles(r: &platsen_tests::Reply) -> Vec<String> {
    r.body["hits"].as_array().unwrap().iter().map(|h| h["title"].as_str().unwrap().to_owned()).collect()
}

/// The sum of a facet's counts.
fn facet_sum(r: &platsen_tests::Reply, dim: &str) -> i64 {
    r.body["facets"][dim].as_array().unwrap().iter().map(|f| f["count"].as_i64().unwrap()).sum()
}

/// Every single-valued facet dimension adds up to the total; places add up
/// to at least the total (an ad in several places counts in each), and
/// every county's count is the total of the same search in that county.
async fn facets_add_up(app: &TestApp, q: &str, r: &platsen_tests::Reply) {
    let total = r.body["total"].as_i64().unwrap();
    for dim in ["role", "employment_type", "remote", "employer"] {
        assert_eq!(facet_sum(r, dim), total, "{q}: {dim} facet");
    }
    for dim in ["county", "municipality"] {
        assert!(facet_sum(r, dim) >= total, "{q}: {dim} facet");
    }
    for county in r.body["facets"]["county"].as_array().unwrap() {
        let code = county["value"].as_str().unwrap();
        let within = app.get(&format!("/api/v1/jobs/search?q={q}&county={code}&per_page=1")).await;
        assert_eq!(within.body["total"], county["count"], "{q}: the county facet counts what the county filter finds");
    }
}

async fn the_demo_board_finds_what_a_person_expects(app: &TestApp) {
    app.seed_demo().await;
    let all = app.get("/api/v1/jobs?per_page=100").await;
    let ads = all.body["items"].as_array().unwrap().clone();
    let with_title = |needle: &str| -> Vec<String> {
        ads.iter()
            .map(|a| a["title"].as_str().unwrap().to_owned())
            .filter(|t| t.to_lowercase().contains(needle))
            .collect()
    };

    // A typo: every procurement officer's ad (title or role), first.
    let r = app.get("/api/v1/jobs/search?q=upphandlre&per_page=100").await;
    assert_eq!(r.body["engine"], "database");
    let got = titles(&r);
    let expected: Vec<String> = ads
        .iter()
        .filter(|a| {
            a["role"]["code"] == "upphandlare" || a["title"].as_str().unwrap().to_lowercase().contains("upphandlare")
        })
        .map(|a| a["title"].as_str().unwrap().to_owned())
        .collect();
    assert!(!expected.is_empty());
    for t in &got[..expected.len()] {
        assert!(expected.contains(t), "upphandlre finds the procurement officers {expected:?} first: {got:?}");
    }
    assert!(r.body["hits"][0]["title_highlighted"].as_str().unwrap().contains("<mark>"), "{}", r.text);
    facets_add_up(app, "upphandlre", &r).await;

    // Without the diacritics: the purchasing managers, and only them.
    let r = app.get("/api/v1/jobs/search?q=inkopschef&per_page=100").await;
    let mut want = with_title("inköpschef");
    assert!(!want.is_empty());
    let mut got = titles(&r);
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(r.body["facets"]["role"][0]["value"], "inkopschef");
    facets_add_up(app, "inkopschef", &r).await;

    // English: procurement is "upphandling", which every demo ad is about.
    let r = app.get("/api/v1/jobs/search?q=procurement&per_page=1").await;
    let swedish = app.get("/api/v1/jobs/search?q=upphandling&per_page=1").await;
    assert!(r.body["total"].as_i64().unwrap() > 0);
    assert_eq!(r.body["total"], swedish.body["total"], "procurement finds what upphandling finds");
    facets_add_up(app, "procurement", &r).await;

    // A synonym: contract administrators are contract controllers too.
    let r = app.get("/api/v1/jobs/search?q=avtalsf%C3%B6rvaltare&per_page=100").await;
    let got = titles(&r);
    let mut want = with_title("avtalsförvaltare");
    want.extend(with_title("avtalscontroller"));
    assert!(!want.is_empty());
    for t in &want {
        assert!(got.contains(t), "avtalsförvaltare finds {t:?}: {got:?}");
    }
    assert!(got[..want.len()].iter().all(|t| t.starts_with("Avtals")), "contract roles first: {got:?}");
    facets_add_up(app, "avtalsf%C3%B6rvaltare", &r).await;

    // The page shows the same.
    for q in ["upphandlre", "inkopschef", "procurement", "avtalsf%C3%B6rvaltare"] {
        let page = app.get(&format!("/jobb?q={q}")).await;
        assert_eq!(page.status, StatusCode::OK, "{q}");
        assert!(page.text.contains("<mark>"), "{q}: matches are marked on the page");
    }
}

async fn garbage_queries_answer_with_results_or_a_problem_naming_q(app: &TestApp) {
    seed(app).await;
    let long = "upphandlare ".repeat(900);
    let words200 = (0..200).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
    for q in [
        long.as_str(),
        words200.as_str(),
        "!!!???...,,,;;;:::",
        "upphandlare AND NOT inköpare OR \"avtal\" NEAR/3 lou*",
        "\"\"\"\"''''",
        "upp\u{0}handlare",
        "\u{0}",
        "🙂🙂🙂 upphandlare 🙂",
        "𝔲𝔭𝔭𝔥𝔞𝔫𝔡𝔩𝔞𝔯𝔢",
        "a",
        "e e e e e e e e e e e e e e",
    ] {
        for path in ["/api/v1/jobs/search", "/jobb", "/api/v1/jobs/suggest"] {
            let r = app.client.get(app.url(path)).query(&[("q", q)]).send().await.unwrap();
            let r = platsen_tests::Reply::from(r).await;
            let short: String = q.chars().take(40).collect();
            match r.status {
                // The page redirects to the search's canonical address.
                StatusCode::OK | StatusCode::SEE_OTHER | StatusCode::FOUND => {}
                StatusCode::BAD_REQUEST if path.starts_with("/api") => r.assert_problem(400, "q"),
                StatusCode::BAD_REQUEST => assert!(r.text.contains("tecken"), "{path} {short:?}: {}", r.text),
                other => panic!("{path} {short:?}: {other} {}", r.text),
            }
        }
    }
    app.get(&format!("/api/v1/jobs/search?q={}", "a".repeat(10_000))).await.assert_problem(400, "q");
    // Operators are words: "NOT inköpare" does not exclude anything.
    let r = app.get("/api/v1/jobs/search?q=upphandlare%20NOT").await;
    assert!(r.body["total"].as_i64().unwrap() > 0, "{}", r.text);
}

async fn another_instance_on_the_same_database_sees_every_change(app: &TestApp) {
    let (nacka, a, _, _) = seed(app).await;
    // A second server process on the same database, with an index of its own.
    let other = platsen_app::App::new(app.store.clone(), platsen_app::Clock::default(), "http://127.0.0.1");
    let search = |q: &str| {
        let query =
            platsen_jobs::search::SearchQuery { q: Some(q.into()), page: 1, per_page: 20, ..Default::default() };
        let other = other.clone();
        async move { other.search(&query, chrono::Utc::now()).await.unwrap().hits.iter().map(|h| h.id).collect::<Vec<_>>() }
    };
    assert!(search("upphandlare").await.contains(&a));
    let d = app.publish_job(&nacka, app.job("Kategoriledare livsmedel")).await;
    assert_eq!(search("livsmedel").await, [d], "published through the first, found by the second at once");
    let patch = json!({ "title": "Kategoriledare mejeri", "description": "Du ansvarar för mejeriprodukter." });
    app.call(Method::PATCH, &format!("/api/v1/jobs/{d}"), Some(&nacka), Some(patch)).await;
    assert!(search("livsmedel").await.is_empty(), "the old words are gone");
    assert_eq!(search("mejeri").await, [d]);
    app.call(Method::POST, &format!("/api/v1/jobs/{d}/close"), Some(&nacka), None).await;
    assert!(search("mejeri").await.is_empty(), "closed: gone");
}

async fn typos_prefixes_and_english_titles(app: &TestApp) {
    let (_, a, b, c) = seed(app).await;
    for (q, id) in [
        ("uphandlare", a),
        ("upphandl", a),
        ("inköpchef", b),
        ("inkopschef", b),
        ("purchasing manager", b),
        ("contract manager", c),
        ("avtalsforvaltare", c),
        ("procurement officer", a),
    ] {
        let r = app.get(&format!("/api/v1/jobs/search?q={q}")).await;
        assert_eq!(ids(&r).first(), Some(&id), "{q}: {}", r.text);
    }
    let kinds = suggestion_kinds;
    let got = kinds(&app.get("/api/v1/jobs/suggest?q=uphandl").await.body);
    assert!(got.contains(&("role".into(), "upphandlare".into())), "a typo in what is typed: {got:?}");
    assert!(got.contains(&("title".into(), "Upphandlare till Nacka kommun".into())), "{got:?}");
    let got = kinds(&app.get("/api/v1/jobs/suggest?q=inkopsc").await.body);
    assert!(got.contains(&("title".into(), "Inköpschef med ansvar för strategiska avtal".into())), "{got:?}");
}
