//! Career-page embeds over HTTP: the script, the data it reads, the iframe
//! page, CORS (public reads from any origin without credentials, nothing
//! for authenticated calls), an employer's allow-list of origins, and the
//! snippet on the dashboard. The rendering itself is in `browser.rs`.

use platsen_tests::{TestApp, with};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::konto::{PASSWORD, Visitor};

platsen_tests::contract!(
    the_embed_serves_an_employers_open_ads_to_any_origin,
    the_embed_refuses_garbage,
    an_employer_restricts_its_embed_to_its_own_sites,
    public_reads_answer_any_origin_and_authenticated_calls_none,
);

async fn get_from(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    app.client.get(app.url(path)).header("origin", origin).send().await.unwrap()
}

async fn the_embed_serves_an_employers_open_ads_to_any_origin(app: &TestApp) {
    let r = app.get("/embed/v1/platsen.js").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert!(r.text.len() < 15 * 1024, "the widget is {} bytes, over 15 KB even uncompressed", r.text.len());
    assert!(r.text.contains("attachShadow"), "renders into a shadow root");

    let (_, key) = app.employer_with_key("Nacka kommun").await;
    let (_, other) = app.employer_with_key("Värmdö kommun").await;
    for n in 0..3 {
        app.publish_job(&key, app.job(&format!("Upphandlare {n} till Nacka"))).await;
    }
    let closed = app.publish_job(&key, app.job("Stängd annons")).await;
    app.call(Method::POST, &format!("/api/v1/jobs/{closed}/close"), Some(&key), None).await;
    app.publish_job(&other, app.job("Inköpare till Värmdö")).await;
    app.publish_job(
        &key,
        with(app.job("Inköpschef till Nacka"), json!({ "role": "inkopschef", "application_deadline": app.date_in(2) })),
    )
    .await;

    let r = get_from(app, "/embed/v1/jobs.json?employer=nacka-kommun&limit=3", "https://karriar.example.se").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert!(r.headers().get("access-control-allow-credentials").is_none());
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["employer"]["name"], "Nacka kommun");
    assert_eq!(body["total"], 4, "open ads only: {body}");
    let jobs = body["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 3, "the limit");
    assert!(jobs.iter().all(|j| j["url"].as_str().unwrap().starts_with(&app.url("/jobb/"))));
    assert!(jobs.iter().all(|j| j["place"] == "Nacka, Stockholms län"));
    assert!(body.get("json_ld").is_none());
    assert_eq!(body["more_url"], app.url("/arbetsgivare/nacka-kommun"));
    // Newest first; the ad closing in two days says so.
    assert_eq!(jobs[0]["title"], "Inköpschef till Nacka");
    assert_eq!(jobs[0]["closing_soon"], true);
    // When each was published, as a time and in words.
    assert!(jobs.iter().all(|j| j["published_text"] == "Publicerad i dag"), "{body}");
    let published = chrono::DateTime::parse_from_rfc3339(jobs[0]["published"].as_str().unwrap()).unwrap();
    assert!((app.clock.now() - published.to_utc()).num_minutes().abs() < 10, "{body}");

    // Filters and JSON-LD.
    let r = app.get("/embed/v1/jobs.json?employer=nacka-kommun&role=inkopschef&jsonld=true&lang=en").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["jobs"][0]["published_text"], "Published today", "in the embed's language");
    let ld = &r.body["json_ld"][0];
    assert_eq!(ld["@type"], "JobPosting");
    assert_eq!(ld["title"], "Inköpschef till Nacka");
    assert_eq!(ld["hiringOrganization"]["name"], "Nacka kommun");

    // The iframe page: the same script, framable from anywhere.
    let r = app.get("/embed/jobs?employer=nacka-kommun&limit=5").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains(r#"data-employer="nacka-kommun""#) && r.text.contains(r#"data-frame="true""#));
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors *"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
}

async fn the_embed_refuses_garbage(app: &TestApp) {
    app.employer_with_key("Nacka kommun").await;
    for (query, field) in [
        ("", "employer"),
        ("employer=", "employer"),
        ("employer=Nacka%20Kommun", "employer"),
        ("employer=%3Cscript%3E", "employer"),
        ("employer=nacka-kommun&limit=0", "limit"),
        ("employer=nacka-kommun&limit=51", "limit"),
        ("employer=nacka-kommun&limit=tio", "limit"),
        ("employer=nacka-kommun&lang=de", "lang"),
        ("employer=nacka-kommun&jsonld=kanske", "jsonld"),
        ("employer=nacka-kommun&role=%27%20or%201%3D1", "role"),
        ("employer=nacka-kommun&county=999", "county"),
    ] {
        let r = get_from(app, &format!("/embed/v1/jobs.json?{query}"), "https://karriar.example.se").await;
        // The widget can read why.
        assert_eq!(r.headers()["access-control-allow-origin"], "*", "{query}");
        let reply = platsen_tests::Reply::from(r).await;
        reply.assert_problem(400, field);
        let frame = app.get(&format!("/embed/jobs?{query}")).await;
        frame.assert_problem(400, field);
    }
    let r = app.get("/embed/v1/jobs.json?employer=finns-inte").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let long = "a".repeat(201);
    app.get(&format!("/embed/v1/jobs.json?employer=nacka-kommun&q={long}")).await.assert_problem(400, "q");
}

async fn an_employer_restricts_its_embed_to_its_own_sites(app: &TestApp) {
    let (employer, key) = app.employer_with_key("Nacka kommun").await;
    app.publish_job(&key, app.job("Upphandlare till Nacka")).await;
    app.create_user(employer, "hr@nacka.test", PASSWORD).await;
    let mut v = Visitor::new(app);
    v.sign_in("hr@nacka.test", PASSWORD).await;

    // The dashboard shows the one line to paste, with this board's address.
    let page = v.get("/konto").await;
    assert_eq!(page.status, 200);
    let expected = format!(
        "&#60;script src=&#34;{}/embed/v1/platsen.js&#34; data-employer=&#34;nacka-kommun&#34; data-limit=&#34;10&#34; async&#62;&#60;/script&#62;",
        app.base
    );
    assert!(page.body.contains(&expected), "the snippet, escaped, in {}", page.body);
    assert!(page.body.contains("/embed/jobs?employer=nacka-kommun"), "the iframe alternative");

    // Garbage is refused next to the field, with what was typed kept.
    let csrf = page.csrf();
    for bad in ["nacka.se", "javascript:alert(1)", "https://nacka.se/jobb?x=1", "https://u:p@nacka.se", "*"] {
        let typed = format!("https://www.nacka.se\n{bad}");
        let r = v.post("/konto/inbaddning", &[("csrf", &csrf), ("origins", &typed)]).await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.field_error("origins").is_some(), "{bad}: {}", r.body);
        assert!(r.body.contains("https://www.nacka.se"), "what was typed stays");
    }
    let many = (0..21).map(|i| format!("https://s{i}.nacka.se")).collect::<Vec<_>>().join("\n");
    let r = v.post("/konto/inbaddning", &[("csrf", &csrf), ("origins", &many)]).await;
    assert_eq!(r.status, 400);
    let r = v.post("/konto/inbaddning", &[("csrf", &csrf), ("origins", &"x".repeat(6000))]).await;
    assert_eq!(r.status, 400);
    // Without the session's token nothing changes.
    let r = v.post("/konto/inbaddning", &[("csrf", "fel"), ("origins", "https://evil.example")]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = get_from(app, "/embed/v1/jobs.json?employer=nacka-kommun", "https://evil.example").await;
    assert_eq!(r.headers()["access-control-allow-origin"], "*", "still open to all");

    let r = v
        .post("/konto/inbaddning", &[("csrf", &csrf), ("origins", "https://www.Nacka.se/\nhttps://karriar.nacka.se\n")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = v.get("/konto").await;
    assert!(page.body.contains("https://www.nacka.se\nhttps://karriar.nacka.se</textarea>"), "{}", page.body);

    let r = get_from(app, "/embed/v1/jobs.json?employer=nacka-kommun", "https://karriar.nacka.se").await;
    assert_eq!(r.headers()["access-control-allow-origin"], "https://karriar.nacka.se");
    assert!(r.headers()["vary"].to_str().unwrap().split(", ").any(|v| v == "Origin"), "{:?}", r.headers()["vary"]);
    let r = get_from(app, "/embed/v1/jobs.json?employer=nacka-kommun", "https://evil.example").await;
    assert!(r.headers().get("access-control-allow-origin").is_none(), "another site cannot read it");
    let r = app.get("/embed/jobs?employer=nacka-kommun").await;
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors https://www.nacka.se https://karriar.nacka.se"), "{csp}");

    // Another employer's list is its own business: an employer user changes
    // only its own (the form has no employer field to forge), and an empty
    // list opens the embed to all again.
    let r = v.post("/konto/inbaddning", &[("csrf", &csrf), ("origins", "  \n")]).await;
    assert_eq!(r.status, 303);
    let r = get_from(app, "/embed/v1/jobs.json?employer=nacka-kommun", "https://evil.example").await;
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
}

async fn public_reads_answer_any_origin_and_authenticated_calls_none(app: &TestApp) {
    let (_, key) = app.employer_with_key("Nacka kommun").await;
    for path in ["/api/v1/jobs", "/api/v1/stream", "/api/v1/snapshot", "/feeds/jobs.rss", "/api/v1/jobs/search?q=x"] {
        let r = get_from(app, path, "https://aggregator.example").await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.headers()["access-control-allow-origin"], "*", "{path}");
        assert!(r.headers().get("access-control-allow-credentials").is_none(), "{path}");
    }
    // An authenticated call: no CORS header, whatever the origin.
    let r = app
        .client
        .get(app.url("/api/v1/account"))
        .header("origin", "https://evil.example")
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    // No preflight is granted, so no other origin can send a write.
    let r = app
        .client
        .request(Method::OPTIONS, app.url("/api/v1/jobs"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none(), "{:?}", r.headers());
    assert!(r.headers().get("access-control-allow-methods").is_none());
    // Pages with a session: nothing either.
    let r = get_from(app, "/konto", "https://evil.example").await;
    assert!(r.headers().get("access-control-allow-origin").is_none());
}
