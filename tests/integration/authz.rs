//! Object-level authorization: an employer reaches only its own ads, on
//! every route; keys and admin routes are checked.

use platsen_tests::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::json;

platsen_tests::contract!(
    another_employer_cannot_read_or_change_ads_on_any_route,
    missing_bad_and_revoked_keys_get_401,
    employer_keys_cannot_use_admin_routes,
    keys_are_listed_by_prefix_and_never_shown_again,
);

async fn another_employer_cannot_read_or_change_ads_on_any_route(app: &TestApp) {
    let (_, a) = app.employer_with_key("Arbetsgivare A").await;
    let (b_id, b) = app.employer_with_key("Arbetsgivare B").await;
    let draft = app.post_job(&a, app.job("A:s utkast")).await;
    let live = app.publish_job(&a, app.job("A:s publicerade annons")).await;
    let before = app.call(Method::GET, &format!("/api/v1/account/jobs/{live}"), Some(&a), None).await.body;

    let patch = Some(json!({ "title": "Kapad annons" }));
    let routes: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::GET, "/api/v1/account/jobs/{id}".into(), None),
        (Method::GET, "/api/v1/jobs/{id}/events".into(), None),
        (Method::PATCH, "/api/v1/jobs/{id}".into(), patch.clone()),
        (Method::DELETE, "/api/v1/jobs/{id}".into(), None),
        (Method::POST, "/api/v1/jobs/{id}/publish".into(), None),
        (Method::POST, "/api/v1/jobs/{id}/close".into(), None),
        (Method::POST, "/api/v1/jobs/{id}/archive".into(), None),
        (Method::POST, "/api/v1/jobs/{id}/reopen".into(), None),
    ];
    for (method, path, body) in &routes {
        // A draft of someone else's does not exist for B.
        let r = app.call(method.clone(), &path.replace("{id}", &draft.to_string()), Some(&b), body.clone()).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path} on a draft: {}", r.text);
        // A published ad exists, but is not B's.
        let r = app.call(method.clone(), &path.replace("{id}", &live.to_string()), Some(&b), body.clone()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path} on a published ad: {}", r.text);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
    // Posting "for" A with B's key is refused too.
    let a_id = before["employer"]["id"].as_i64().unwrap();
    let r = app
        .call(
            Method::POST,
            "/api/v1/jobs",
            Some(&b),
            Some(platsen_tests::with(app.job("Falsk"), json!({ "employer_id": a_id }))),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    // Nothing changed, and B's own list is empty.
    let after = app.call(Method::GET, &format!("/api/v1/account/jobs/{live}"), Some(&a), None).await.body;
    assert_eq!(before, after);
    assert_eq!(app.own_job_count(&a).await, 2);
    assert_eq!(app.own_job_count(&b).await, 0);
    assert!(b_id != a_id);
}

async fn missing_bad_and_revoked_keys_get_401(app: &TestApp) {
    let (_, key) = app.employer_with_key("Nyckelbolaget").await;
    for token in
        [None, Some("nonsense"), Some("plk_00000000_0000000000000000000000000000000000000000000000000000000000000000")]
    {
        let r = app.call(Method::POST, "/api/v1/jobs", token, Some(app.job("Utan nyckel"))).await;
        r.assert_problem_kind(401, "unauthorized");
        assert!(r.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer")), "{:?}", r.headers);
    }
    // A tampered secret with a real prefix fails too.
    let tampered = format!("{}{}", &key[..key.len() - 1], if key.ends_with('0') { '1' } else { '0' });
    let r = app.call(Method::GET, "/api/v1/account/jobs", Some(&tampered), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let prefix = &key[..12];
    let keys = app.admin(Method::GET, &format!("/api/v1/keys?prefix={prefix}"), None).await;
    let key_id = keys.body[0]["id"].as_i64().unwrap();
    assert_eq!(app.own_job_count(&key).await, 0);
    let r = app.admin(Method::DELETE, &format!("/api/v1/keys/{key_id}"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.call(Method::GET, "/api/v1/account/jobs", Some(&key), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.admin(Method::DELETE, "/api/v1/keys/999999", None).await.status, StatusCode::NOT_FOUND);
}

async fn employer_keys_cannot_use_admin_routes(app: &TestApp) {
    let (id, key) = app.employer_with_key("Vanlig arbetsgivare").await;
    let job = app.post_job(&key, app.job("Upphandlare")).await;
    let attempts: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (
            Method::POST,
            "/api/v1/employers".into(),
            Some(json!({ "name": "Ny", "organization_number": platsen_tests::org_number() })),
        ),
        (Method::POST, format!("/api/v1/employers/{id}/keys"), Some(json!({}))),
        (Method::GET, format!("/api/v1/employers/{id}/keys"), None),
        (Method::GET, "/api/v1/keys".into(), None),
        (Method::DELETE, "/api/v1/keys/1".into(), None),
        (Method::GET, "/api/v1/admin/review".into(), None),
        (Method::POST, format!("/api/v1/jobs/{job}/approve"), None),
        (Method::POST, format!("/api/v1/jobs/{job}/reject"), Some(json!({ "reason": "Nej tack" }))),
    ];
    for (method, path, body) in attempts {
        let r = app.call(method.clone(), &path, Some(&key), body.clone()).await;
        r.assert_problem_kind(403, "forbidden");
        let r = app.call(method.clone(), &path, None, body).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    // An employer cannot feature its own ad.
    let r =
        app.call(Method::PATCH, &format!("/api/v1/jobs/{job}"), Some(&key), Some(json!({ "featured": true }))).await;
    r.assert_problem(422, "featured");
}

async fn keys_are_listed_by_prefix_and_never_shown_again(app: &TestApp) {
    let (id, key) = app.employer_with_key("Listade nycklar AB").await;
    let r = app.admin(Method::GET, &format!("/api/v1/employers/{id}/keys"), None).await;
    let listed = r.body.as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert!(key.starts_with(listed[0]["prefix"].as_str().unwrap()));
    assert!(!r.text.contains(&key), "a listing must never contain the secret");
    assert!(listed[0].get("key").is_none());
    // A LIKE wildcard is not a prefix; `_` is matched literally; case does not matter.
    app.admin(Method::GET, "/api/v1/keys?prefix=%25", None).await.assert_problem(400, "prefix");
    let upper = key[..8].to_ascii_uppercase();
    let r = app.admin(Method::GET, &format!("/api/v1/keys?prefix={upper}"), None).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1, "{}", r.text);
    let r = app.admin(Method::GET, "/api/v1/keys?prefix=plk__", None).await;
    assert_eq!(r.body.as_array().unwrap().len(), 0, "an underscore is not a wildcard: {}", r.text);
    assert_eq!(app.admin(Method::GET, "/api/v1/employers/999999/keys", None).await.status, StatusCode::NOT_FOUND);
}
