//! Garbage in: every bad input gets a 4xx problem+json naming the field, and
//! nothing is stored.

use platsen_tests::{TestApp, with};
use reqwest::{Method, StatusCode};
use serde_json::json;

platsen_tests::contract!(
    bad_job_bodies_are_rejected_and_nothing_is_stored,
    bad_employer_bodies_are_rejected,
    oversized_and_mistyped_requests,
    bad_query_parameters_name_the_parameter,
    injection_strings_are_inert,
);

async fn bad_job_bodies_are_rejected_and_nothing_is_stored(app: &TestApp) {
    let (_, key) = app.employer_with_key("Skräpkontroll AB").await;
    let good = app.job("Upphandlare till skräpkontrollen");
    let cases: Vec<(serde_json::Value, u16, &str)> = vec![
        (with(good.clone(), json!({ "title": "x".repeat(100_000) })), 422, "title"),
        (with(good.clone(), json!({ "title": "   " })), 422, "title"),
        (with(good.clone(), json!({ "title": 42 })), 400, "title"),
        (with(good.clone(), json!({ "salary_min": -5 })), 422, "salary_min"),
        (with(good.clone(), json!({ "salary_min": 60000, "salary_max": 50000 })), 422, "salary_min"),
        (with(good.clone(), json!({ "salary_min": "mycket" })), 400, "salary_min"),
        (with(good.clone(), json!({ "salary_min": 1e300 })), 400, "salary_min"),
        (with(good.clone(), json!({ "municipality_code": "9999" })), 422, "municipality_code"),
        (with(good.clone(), json!({ "application_deadline": "2001-01-01" })), 422, "application_deadline"),
        (with(good.clone(), json!({ "application_deadline": "igår" })), 400, "application_deadline"),
        (with(good.clone(), json!({ "application_deadline": "2026-02-30" })), 400, "application_deadline"),
        (with(good.clone(), json!({ "role": "vd" })), 400, "role"),
        (with(good.clone(), json!({ "extent_percent": 0 })), 422, "extent_percent"),
        (with(good.clone(), json!({ "apply_url": "javascript:alert(1)" })), 422, "apply_url"),
        (with(good.clone(), json!({ "apply_url": null, "apply_email": null })), 422, "apply_url"),
        (with(good.clone(), json!({ "apply_email": "inte en adress" })), 422, "apply_email"),
        (with(good.clone(), json!({ "apply_email": "\u{0000} <a@nacka.se>" })), 422, "apply_email"),
        (with(good.clone(), json!({ "apply_email": "<script>x</script> <a@nacka.se>" })), 422, "apply_email"),
        (with(good.clone(), json!({ "title": "Upphandlare\u{0000}med nollbyte" })), 422, "title"),
        (with(good.clone(), json!({ "title": "Upphandlare \u{202E}nwod edispu" })), 422, "title"),
        (with(good.clone(), json!({ "description": "<script>alert(1)</script>" })), 422, "description"),
        (with(good.clone(), json!({ "contacts": [{ "name": "Anna", "email": "x" }] })), 422, "contacts[0].email"),
        (with(good.clone(), json!({ "contacts": "Anna" })), 400, "contacts"),
        (with(good.clone(), json!({ "vacancies": 1000000 })), 422, "vacancies"),
        (with(good.clone(), json!({ "slug": "Ogiltig Slug!" })), 422, "slug"),
        (with(good.clone(), json!({ "expires_at": "2001-01-01T00:00:00Z" })), 422, "expires_at"),
        (with(good.clone(), json!({ "hacker": true })), 400, "hacker"),
        (with(good.clone(), json!({ "featured": true })), 422, "featured"),
    ];
    for (body, status, field) in cases {
        let r = app.call(Method::POST, "/api/v1/jobs", Some(&key), Some(body.clone())).await;
        r.assert_problem(status, field);
    }
    // All required fields missing are reported at once.
    let r = app.call(Method::POST, "/api/v1/jobs", Some(&key), Some(json!({}))).await;
    for field in ["title", "description", "role", "municipality_code", "employment_type", "application_deadline"] {
        r.assert_problem(422, field);
    }
    assert_eq!(app.own_job_count(&key).await, 0, "a rejected request stores nothing");

    // The same rules hold for updates, which leave the ad untouched.
    let id = app.post_job(&key, good).await;
    let before = app.call(Method::GET, &format!("/api/v1/account/jobs/{id}"), Some(&key), None).await.body;
    for (body, status, field) in [
        (json!({ "salary_max": 1 }), 422, "salary_max"),
        (json!({ "title": null }), 422, "title"),
        (json!({ "municipality_code": "01\" OR 1=1" }), 422, "municipality_code"),
        (json!({ "nope": 1 }), 400, "nope"),
    ] {
        let r = app.call(Method::PATCH, &format!("/api/v1/jobs/{id}"), Some(&key), Some(body)).await;
        r.assert_problem(status, field);
    }
    let after = app.call(Method::GET, &format!("/api/v1/account/jobs/{id}"), Some(&key), None).await.body;
    assert_eq!(before, after);
}

async fn bad_employer_bodies_are_rejected(app: &TestApp) {
    for (body, status, field) in [
        (json!({ "name": "Bolaget", "organization_number": "556016-0681" }), 422, "organization_number"),
        (json!({ "name": "Bolaget", "organization_number": "12345" }), 422, "organization_number"),
        (
            json!({ "name": "Bolaget", "organization_number": "'; drop table employers; --" }),
            422,
            "organization_number",
        ),
        (json!({ "name": "", "organization_number": "556016-0680" }), 422, "name"),
        (
            json!({ "name": "Bolaget", "organization_number": "556016-0680", "logo_url": "http://x.se/l.png" }),
            422,
            "logo_url",
        ),
        (json!({ "name": "Bolaget" }), 422, "organization_number"),
        (json!({ "name": ["lista"], "organization_number": "556016-0680" }), 400, "name"),
        (json!({ "name": "Bolaget", "organization_number": "556016-0680", "sector": "kommunen" }), 422, "sector"),
        (json!({ "name": "Bolaget", "organization_number": "556016-0680", "sector": "Kommun\u{0}" }), 422, "sector"),
        (json!({ "name": "Bolaget", "organization_number": "556016-0680", "sector": 3 }), 400, "sector"),
    ] {
        let r = app.admin(Method::POST, "/api/v1/employers", Some(body)).await;
        r.assert_problem(status, field);
    }
    assert_eq!(app.get("/api/v1/employers").await.body["total"], 0);
    // A taken organisation number is a conflict naming the field.
    let ok = json!({ "name": "Bolaget", "organization_number": "556016-0680" });
    assert_eq!(app.admin(Method::POST, "/api/v1/employers", Some(ok.clone())).await.status, StatusCode::CREATED);
    let r = app
        .admin(Method::POST, "/api/v1/employers", Some(with(ok, json!({ "organization_number": "5560160680" }))))
        .await;
    r.assert_problem(409, "organization_number");
}

async fn oversized_and_mistyped_requests(app: &TestApp) {
    let (_, key) = app.employer_with_key("Storleksbolaget").await;
    // A 10 MB title: 413, naming the field that overflowed.
    let body = with(app.job("x"), json!({ "title": "x".repeat(10 * 1024 * 1024) }));
    let r = app.call(Method::POST, "/api/v1/jobs", Some(&key), Some(body)).await;
    r.assert_problem(413, "title");

    let send = |ct: &'static str, body: &'static str| {
        let req = app.client.post(app.url("/api/v1/jobs")).bearer_auth(&key).header("content-type", ct).body(body);
        async move { platsen_tests::Reply::from(req.send().await.unwrap()).await }
    };
    send("application/json", "{\"title\": ").await.assert_problem(400, "body");
    send("application/json", "[]").await.assert_problem(400, "body");
    send("application/json", "").await.assert_problem(400, "body");
    send("application/json", "\u{feff}{}").await.assert_problem(400, "body");
    send("text/plain", "{}").await.assert_problem_kind(415, "unsupported-media-type");
    send("application/x-www-form-urlencoded", "title=x").await.assert_problem_kind(415, "unsupported-media-type");
    assert_eq!(app.own_job_count(&key).await, 0);
}

async fn bad_query_parameters_name_the_parameter(app: &TestApp) {
    for (query, field) in [
        ("per_page=101", "per_page"),
        ("per_page=0", "per_page"),
        ("page=abc", "page"),
        ("page=-1", "page"),
        ("role=vd", "role"),
        ("remote=sometimes", "remote"),
        ("municipality=9999", "municipality"),
        ("county=01%22%20OR%20employer_id%20%3D%205", "county"),
        ("employer=%27%20or%201%3D1", "employer"),
        ("sort=random", "sort"),
    ] {
        let r = app.get(&format!("/api/v1/jobs?{query}")).await;
        r.assert_problem(400, field);
    }
    app.get("/api/v1/jobs/a%20b").await.assert_problem(400, "id");
    let (_, key) = app.employer_with_key("Parameterbolaget").await;
    app.call(Method::PATCH, "/api/v1/jobs/abc", Some(&key), Some(json!({}))).await.assert_problem(400, "id");
    app.call(Method::POST, "/api/v1/jobs/99999999999999999999/close", Some(&key), None).await.assert_problem(400, "id");
}

async fn injection_strings_are_inert(app: &TestApp) {
    let (_, key) = app.employer_with_key("Injektionsbolaget").await;
    let title = "Robert'); DROP TABLE job_ads;-- <b>fet</b>";
    let body = with(
        app.job(title),
        json!({
            "description": "<p onclick=\"steal()\">Beskrivning med <script>alert('x')</script><a href=\"javascript:alert(1)\">länk</a> och tillräckligt mycket text.</p>",
            "description_format": "html"
        }),
    );
    let id = app.publish_job(&key, body).await;
    let r = app.get(&format!("/api/v1/jobs/{id}")).await;
    assert_eq!(r.body["title"], title, "titles are text, stored as given");
    let html = r.body["description"].as_str().unwrap();
    for bad in ["<script", "onclick", "javascript:"] {
        assert!(!html.contains(bad), "{bad} survived in {html}");
    }
    assert!(html.contains("Beskrivning med"));
    assert_eq!(app.get("/api/v1/jobs").await.body["total"], 1, "the table is still there");
    // Odd but legitimate Unicode is kept.
    let id = app.post_job(&key, app.job("Upphandlare – Åre/Östersund 🙂 (Ω)")).await;
    let r = app.call(Method::GET, &format!("/api/v1/account/jobs/{id}"), Some(&key), None).await;
    assert_eq!(r.body["title"], "Upphandlare – Åre/Östersund 🙂 (Ω)");
    assert_eq!(r.status, StatusCode::OK);
}
