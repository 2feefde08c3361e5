//! An employer's ad from draft to closed, review, expiry and the audit trail.

use platsen_tests::{TestApp, with};
use reqwest::{Method, StatusCode};
use serde_json::json;

platsen_tests::contract!(
    employer_creates_publishes_updates_and_closes_its_ad,
    drafts_and_closed_ads_are_not_public,
    expired_ads_stop_being_listed_without_an_edit,
    reviewed_employers_go_through_the_moderation_queue,
    every_change_is_in_the_audit_trail,
    if_match_refuses_stale_updates,
    only_drafts_can_be_deleted,
    stored_descriptions_and_expiry_survive_unrelated_edits,
    an_ad_is_copied_into_a_new_draft,
    a_scheduled_draft_publishes_itself_and_a_failed_one_says_why,
);

/// The ad's status (as its owner sees it) once the sweep has had time to
/// run: it polls every 10 s and runs once a minute of the test's clock.
async fn status_after_the_sweep(app: &TestApp, key: &str, id: i64, from: &str) -> serde_json::Value {
    for _ in 0..300 {
        let r = app.call(Method::GET, &format!("/api/v1/account/jobs/{id}"), Some(key), None).await;
        if r.body["status"] != from || r.body.get("publish_at").is_none() {
            return r.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the sweep did not act on ad {id} within 30 s");
}

async fn an_ad_is_copied_into_a_new_draft(app: &TestApp) {
    let (_, key) = app.employer_with_key("Kopierande kommunen").await;
    let (_, stranger) = app.employer_with_key("Främmande kommunen").await;
    let body = with(
        app.job("Upphandlare, vikariat"),
        json!({ "contacts": [{ "name": "Eva Ek", "email": "eva@example.org" }], "vacancies": 2 }),
    );
    let id = app.publish_job(&key, body).await;
    app.admin(Method::PATCH, &format!("/api/v1/jobs/{id}"), Some(json!({ "featured": true }))).await;
    app.call(Method::POST, &format!("/api/v1/jobs/{id}/close"), Some(&key), None).await;
    let original = app.call(Method::GET, &format!("/api/v1/account/jobs/{id}"), Some(&key), None).await.body;

    let r = app.call(Method::POST, &format!("/api/v1/jobs/{id}/copy"), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let copy = r.body["id"].as_i64().unwrap();
    assert_eq!(r.header("location"), Some(format!("/api/v1/account/jobs/{copy}").as_str()));
    assert_ne!(copy, id);
    assert_eq!(r.body["status"], "draft");
    assert_eq!(r.body["featured"], false, "featuring is paid for per ad");
    assert_ne!(r.body["slug"], original["slug"], "an address of its own");
    for field in ["title", "description", "role", "location", "salary", "contacts", "vacancies", "application_deadline"]
    {
        assert_eq!(r.body[field], original[field], "{field}");
    }
    assert!(r.body["published_at"].is_null());
    let events = app.call(Method::GET, &format!("/api/v1/jobs/{copy}/events"), Some(&key), None).await;
    assert_eq!(events.body[0]["action"], "created");
    assert_eq!(events.body[0]["detail"]["copied_from"], id, "{}", events.text);

    // Another employer's ad is not there to copy; garbage ids are refused.
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{id}/copy"), Some(&stranger), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(app.call(Method::POST, "/api/v1/jobs/abc/copy", Some(&key), None).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.call(Method::POST, &format!("/api/v1/jobs/{id}/copy"), None, None).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Once the last application day has passed, the copy gets 30 days more.
    app.clock.advance(chrono::Duration::days(25));
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{id}/copy"), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["application_deadline"], app.date_in(30));
    let publish = app.call(Method::POST, &format!("/api/v1/jobs/{}/publish", r.body["id"]), Some(&key), None).await;
    assert_eq!(publish.body["status"], "published", "{}", publish.text);
}

async fn a_scheduled_draft_publishes_itself_and_a_failed_one_says_why(app: &TestApp) {
    let (employer, key) = app.employer_with_key("Schemalagda kommunen").await;
    let id = app.post_job(&key, app.job("Upphandlare, publiceras i morgon")).await;
    let path = format!("/api/v1/jobs/{id}/schedule");
    let at = (app.clock.now() + chrono::Duration::hours(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);

    // Garbage and times that cannot be, each named.
    let deadline_past = format!("{}T23:00:00Z", app.date_in(25));
    let past = (app.clock.now() - chrono::Duration::minutes(5)).to_rfc3339();
    let far = (app.clock.now() + chrono::Duration::days(400)).to_rfc3339();
    let (bad, unprocessable) = (StatusCode::BAD_REQUEST, StatusCode::UNPROCESSABLE_ENTITY);
    for (body, status, reason) in [
        (json!({ "publish_at": "i morgon" }), bad, "publish_at"),
        (json!({ "publish_at": 1234 }), bad, "publish_at"),
        (json!({ "publish_at": "2026-13-45T99:00:00Z" }), bad, "publish_at"),
        (json!({ "publish_at": at, "extra": 1 }), bad, "extra"),
        (json!({ "publish_at": past }), unprocessable, "past"),
        (json!({ "publish_at": far }), unprocessable, "too_far"),
        (json!({ "publish_at": deadline_past }), unprocessable, "after_deadline"),
    ] {
        let r = app.call(Method::POST, &path, Some(&key), Some(body.clone())).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("application/problem+json"), "{body}");
        assert!(r.text.contains(reason), "{body}: {}", r.text);
    }
    let (_, stranger) = app.employer_with_key("Främlingen AB").await;
    let r = app.call(Method::POST, &path, Some(&stranger), Some(json!({ "publish_at": at }))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    let r = app.call(Method::POST, &path, Some(&key), Some(json!({ "publish_at": at }))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "draft");
    let instant = |v: &serde_json::Value| chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time")).unwrap();
    assert_eq!(instant(&r.body["publish_at"]), instant(&json!(at)));
    assert!(app.get(&format!("/api/v1/jobs/{id}")).await.status == StatusCode::NOT_FOUND, "not public before its time");

    // Its time comes: the sweep publishes it, as the employer.
    app.clock.advance(chrono::Duration::hours(2));
    let after = status_after_the_sweep(app, &key, id, "draft").await;
    assert_eq!(after["status"], "published", "{after}");
    assert!(after.get("publish_at").is_none(), "{after}");
    assert_eq!(app.get(&format!("/api/v1/jobs/{id}")).await.status, StatusCode::OK);
    let events = app.call(Method::GET, &format!("/api/v1/jobs/{id}/events"), Some(&key), None).await;
    let last = events.body.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "publish", "{}", events.text);
    assert_eq!(last["actor"], format!("employer:{employer}/schedule"));
    // A published ad is not scheduled.
    let r = app.call(Method::POST, &path, Some(&key), Some(json!({ "publish_at": null }))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    // A schedule that can no longer be kept: the deadline moved before it.
    let id = app.post_job(&key, app.job("Upphandlare som hinner stänga")).await;
    let path = format!("/api/v1/jobs/{id}/schedule");
    let at = format!("{}T08:00:00Z", app.date_in(10));
    let r = app.call(Method::POST, &path, Some(&key), Some(json!({ "publish_at": at }))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let moved = json!({ "application_deadline": app.date_in(2) });
    let r = app.call(Method::PATCH, &format!("/api/v1/jobs/{id}"), Some(&key), Some(moved)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    app.clock.advance(chrono::Duration::days(11));
    let after = status_after_the_sweep(app, &key, id, "draft").await;
    assert_eq!(after["status"], "draft", "{after}");
    assert!(after.get("publish_at").is_none(), "the schedule is dropped: {after}");
    let events = app.call(Method::GET, &format!("/api/v1/jobs/{id}/events"), Some(&key), None).await;
    let last = events.body.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "schedule_failed", "{}", events.text);
    assert!(last["detail"]["reason"].as_str().unwrap().contains("ansökningsdag"), "{last}");

    // Cancelling a schedule.
    let id = app.post_job(&key, app.job("Upphandlare som väntar")).await;
    let path = format!("/api/v1/jobs/{id}/schedule");
    let at = format!("{}T08:00:00Z", app.date_in(3));
    app.call(Method::POST, &path, Some(&key), Some(json!({ "publish_at": at }))).await;
    let r = app.call(Method::POST, &path, Some(&key), Some(json!({ "publish_at": null }))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body.get("publish_at").is_none(), "{}", r.text);
}

async fn stored_descriptions_and_expiry_survive_unrelated_edits(app: &TestApp) {
    let (_, key) = app.employer_with_key("Långa texter AB").await;
    // 40 000 characters of Markdown that grow when escaped as HTML.
    let long = "a&".repeat(20_000);
    let body = with(app.job("Upphandlare med lång text"), json!({ "description": long, "expires_at": null }));
    let id = app.post_job(&key, body).await;
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{id}/publish"), Some(&key), None).await;
    assert_eq!(r.body["status"], "published", "{}", r.text);
    let r = app.call(Method::PATCH, &format!("/api/v1/jobs/{id}"), Some(&key), Some(json!({ "vacancies": 2 }))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // A later expiry stays when a client re-sends the same deadline.
    let deadline = app.date_in(10);
    let expires = format!("{}T12:00:00Z", app.date_in(40));
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/jobs/{id}"),
            Some(&key),
            Some(json!({ "application_deadline": deadline, "expires_at": expires })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let expires_at = r.body["expires_at"].clone();
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/jobs/{id}"),
            Some(&key),
            Some(json!({ "application_deadline": deadline })),
        )
        .await;
    assert_eq!(r.body["expires_at"], expires_at, "{}", r.text);
    // Employers may send featured back unchanged but not change or clear it.
    let r =
        app.call(Method::PATCH, &format!("/api/v1/jobs/{id}"), Some(&key), Some(json!({ "featured": false }))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.call(Method::PATCH, &format!("/api/v1/jobs/{id}"), Some(&key), Some(json!({ "featured": null }))).await;
    r.assert_problem(422, "featured");
}

async fn employer_creates_publishes_updates_and_closes_its_ad(app: &TestApp) {
    let (employer_id, key) = app.employer_with_key("Nacka kommun").await;

    // Create: a draft, with defaults filled in.
    let r = app.call(Method::POST, "/api/v1/jobs", Some(&key), Some(app.job("Inköpschef till Nacka kommun"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.header("location"), Some(format!("/api/v1/account/jobs/{id}").as_str()));
    assert_eq!(r.body["status"], "draft");
    assert_eq!(r.body["slug"], "inkopschef-till-nacka-kommun");
    assert_eq!(r.body["employer"]["id"], employer_id);
    assert_eq!(r.body["location"]["county"], "Stockholms län");
    assert_eq!(r.body["extent_percent"], 100);
    assert_eq!(r.body["remote"], "on_site");

    // Publish.
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{id}/publish"), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "published");
    assert!(r.body["published_at"].is_string());
    let listed = app.get("/api/v1/jobs").await;
    assert_eq!(listed.body["total"], 1);
    assert_eq!(listed.body["items"][0]["id"], id);

    // Update: only what is sent changes; null clears.
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/jobs/{id}"),
            Some(&key),
            Some(json!({ "title": "Inköpschef till Nacka", "salary_max": null, "remote": "hybrid" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["title"], "Inköpschef till Nacka");
    assert_eq!(r.body["salary"]["min"], 45000);
    assert!(r.body["salary"]["max"].is_null());
    assert_eq!(r.body["remote"], "hybrid");
    assert_eq!(r.body["slug"], "inkopschef-till-nacka-kommun", "the slug stays when the title changes");
    let public = app.get(&format!("/api/v1/jobs/{id}")).await;
    assert_eq!(public.body["title"], "Inköpschef till Nacka");
    let by_slug = app.get("/api/v1/jobs/inkopschef-till-nacka-kommun").await;
    assert_eq!(by_slug.body["id"], id);

    // Close (filled): gone from the public list, still in the employer's.
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{id}/close"), Some(&key), None).await;
    assert_eq!(r.body["status"], "closed");
    assert_eq!(app.get("/api/v1/jobs").await.body["total"], 0);
    assert_eq!(app.get(&format!("/api/v1/jobs/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.own_job_count(&key).await, 1);

    // Reopen brings it back; archive is final.
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{id}/reopen"), Some(&key), None).await;
    assert_eq!(r.body["status"], "published", "{}", r.text);
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{id}/archive"), Some(&key), None).await;
    assert_eq!(r.body["status"], "archived");
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{id}/reopen"), Some(&key), None).await;
    r.assert_problem_kind(409, "invalid-transition");
    let r = app
        .call(Method::PATCH, &format!("/api/v1/jobs/{id}"), Some(&key), Some(json!({ "title": "Ändrad titel" })))
        .await;
    r.assert_problem_kind(409, "invalid-transition");
}

async fn drafts_and_closed_ads_are_not_public(app: &TestApp) {
    let (_, key) = app.employer_with_key("Region Uppsala").await;
    let draft = app.post_job(&key, app.job("Upphandlare, utkast")).await;
    let live = app.publish_job(&key, app.job("Upphandlare, publicerad")).await;
    let list = app.get("/api/v1/jobs").await;
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["items"][0]["id"], live);
    assert_eq!(app.get(&format!("/api/v1/jobs/{draft}")).await.status, StatusCode::NOT_FOUND);
    let employer =
        app.get(&format!("/api/v1/employers/{}", list.body["items"][0]["employer"]["slug"].as_str().unwrap())).await;
    assert_eq!(employer.body["open_jobs"], 1);
    assert_eq!(employer.body["jobs"].as_array().unwrap().len(), 1);
    // The owner sees both.
    assert_eq!(app.own_job_count(&key).await, 2);
    let drafts = app.call(Method::GET, "/api/v1/account/jobs?status=draft", Some(&key), None).await;
    assert_eq!(drafts.body["total"], 1);
    assert_eq!(drafts.body["items"][0]["id"], draft);
}

async fn expired_ads_stop_being_listed_without_an_edit(app: &TestApp) {
    let (_, key) = app.employer_with_key("Kort deadline AB").await;
    let soon = app
        .publish_job(&key, with(app.job("Inköpare, snart stängd"), json!({ "application_deadline": app.date_in(1) })))
        .await;
    let later = app
        .publish_job(&key, with(app.job("Inköpare, senare"), json!({ "application_deadline": app.date_in(30) })))
        .await;
    assert_eq!(app.get("/api/v1/jobs").await.body["total"], 2);

    // Three days pass; nobody edits anything.
    app.clock.advance(chrono::Duration::days(3));
    let list = app.get("/api/v1/jobs").await;
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["items"][0]["id"], later);
    assert_eq!(app.get(&format!("/api/v1/jobs/{soon}")).await.status, StatusCode::NOT_FOUND);
    let own = app.call(Method::GET, &format!("/api/v1/account/jobs/{soon}"), Some(&key), None).await;
    assert_eq!(own.body["status"], "expired");

    // The sweeper writes it down, once, with the system as actor (this call
    // or the worker, which polls every ten seconds, whichever came first).
    let expired = app.store.expire_due(app.clock.now()).await.unwrap();
    assert!(expired == vec![soon] || expired.is_empty(), "{expired:?}");
    assert!(app.store.expire_due(app.clock.now()).await.unwrap().is_empty(), "once only");
    let events = app.call(Method::GET, &format!("/api/v1/jobs/{soon}/events"), Some(&key), None).await;
    let expiries = events.body.as_array().unwrap().iter().filter(|e| e["action"] == "expire").count();
    assert_eq!(expiries, 1, "{}", events.text);
    let last = events.body.as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["action"].as_str(), last["actor"].as_str()), (Some("expire"), Some("system")));

    // Reopening needs a deadline that has not passed.
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{soon}/reopen"), Some(&key), None).await;
    r.assert_problem(422, "application_deadline");
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/jobs/{soon}"),
            Some(&key),
            Some(json!({ "application_deadline": app.date_in(10) })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "expired", "an edit alone does not bring it back");
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{soon}/reopen"), Some(&key), None).await;
    assert_eq!(r.body["status"], "published", "{}", r.text);
    assert_eq!(app.get("/api/v1/jobs").await.body["total"], 2);
}

async fn reviewed_employers_go_through_the_moderation_queue(app: &TestApp) {
    let r = app
        .admin(
            Method::POST,
            "/api/v1/employers",
            Some(json!({ "name": "Granskade konsulter AB", "organization_number": platsen_tests::org_number(), "requires_review": true })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let key = app.create_key(r.body["id"].as_i64().unwrap()).await;
    let id = app.post_job(&key, app.job("Upphandlingskonsult")).await;

    let r = app.call(Method::POST, &format!("/api/v1/jobs/{id}/publish"), Some(&key), None).await;
    assert_eq!(r.body["status"], "pending_review", "{}", r.text);
    assert_eq!(app.get("/api/v1/jobs").await.body["total"], 0);
    let queue = app.admin(Method::GET, "/api/v1/admin/review", None).await;
    assert_eq!(queue.body[0]["id"], id);

    // The employer cannot approve itself.
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{id}/approve"), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Reject with a reason: back to draft, the employer sees why.
    let r = app
        .admin(
            Method::POST,
            &format!("/api/v1/jobs/{id}/reject"),
            Some(json!({ "reason": "Lönespann saknas i texten." })),
        )
        .await;
    assert_eq!(r.body["status"], "draft", "{}", r.text);
    let own = app.call(Method::GET, &format!("/api/v1/account/jobs/{id}"), Some(&key), None).await;
    assert_eq!(own.body["rejection_reason"], "Lönespann saknas i texten.");

    // Submit again, approve: live.
    app.call(Method::POST, &format!("/api/v1/jobs/{id}/publish"), Some(&key), None).await;
    let r = app.admin(Method::POST, &format!("/api/v1/jobs/{id}/approve"), None).await;
    assert_eq!(r.body["status"], "published", "{}", r.text);
    assert!(r.body["rejection_reason"].is_null());
    assert_eq!(app.get("/api/v1/jobs").await.body["total"], 1);

    // A change to the live ad goes back to the reviewer; an admin's does not.
    let r = app
        .call(Method::PATCH, &format!("/api/v1/jobs/{id}"), Some(&key), Some(json!({ "title": "Något helt annat" })))
        .await;
    assert_eq!(r.body["status"], "pending_review", "{}", r.text);
    assert_eq!(app.get("/api/v1/jobs").await.body["total"], 0);
    app.admin(Method::POST, &format!("/api/v1/jobs/{id}/approve"), None).await;
    let r = app.admin(Method::PATCH, &format!("/api/v1/jobs/{id}"), Some(json!({ "vacancies": 2 }))).await;
    assert_eq!(r.body["status"], "published", "{}", r.text);
}

async fn every_change_is_in_the_audit_trail(app: &TestApp) {
    let (employer_id, key) = app.employer_with_key("Spårbar kommun").await;
    let id = app.publish_job(&key, app.job("Avtalscontroller")).await;
    app.call(Method::PATCH, &format!("/api/v1/jobs/{id}"), Some(&key), Some(json!({ "vacancies": 2 }))).await;
    app.admin(Method::PATCH, &format!("/api/v1/jobs/{id}"), Some(json!({ "featured": true }))).await;
    app.call(Method::POST, &format!("/api/v1/jobs/{id}/close"), Some(&key), None).await;

    for token in [Some(key.as_str()), Some(platsen_tests::ADMIN_TOKEN)] {
        let r = app.call(Method::GET, &format!("/api/v1/jobs/{id}/events"), token, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let events = r.body.as_array().unwrap();
        let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["created", "publish", "updated", "updated", "close"]);
        assert!(events[0]["actor"].as_str().unwrap().starts_with(&format!("employer:{employer_id}/key:")));
        assert_eq!(events[3]["actor"], "admin");
        assert_eq!(events[2]["detail"]["vacancies"], json!({ "from": 1, "to": 2 }));
        assert!(events.iter().all(|e| e["created_at"].is_string()));
    }
}

async fn if_match_refuses_stale_updates(app: &TestApp) {
    let (_, key) = app.employer_with_key("Samtidiga AB").await;
    let id = app.post_job(&key, app.job("Kategoriledare")).await;
    let read = app.call(Method::GET, &format!("/api/v1/account/jobs/{id}"), Some(&key), None).await;
    let etag = read.header("etag").unwrap().to_owned();
    assert_eq!(etag, "\"v1-draft\"");
    // Someone else changes it.
    app.call(Method::PATCH, &format!("/api/v1/jobs/{id}"), Some(&key), Some(json!({ "vacancies": 3 }))).await;
    let stale = app
        .client
        .patch(app.url(&format!("/api/v1/jobs/{id}")))
        .bearer_auth(&key)
        .header("if-match", &etag)
        .json(&json!({ "vacancies": 4 }))
        .send()
        .await
        .unwrap();
    let stale = platsen_tests::Reply::from(stale).await;
    stale.assert_problem_kind(412, "version-mismatch");
    let now = app.call(Method::GET, &format!("/api/v1/account/jobs/{id}"), Some(&key), None).await;
    assert_eq!(now.body["vacancies"], 3);
}

async fn only_drafts_can_be_deleted(app: &TestApp) {
    let (_, key) = app.employer_with_key("Raderande AB").await;
    let draft = app.post_job(&key, app.job("Inköpsassistent")).await;
    let live = app.publish_job(&key, app.job("Inköpsassistent, publicerad")).await;
    let r = app.call(Method::DELETE, &format!("/api/v1/jobs/{live}"), Some(&key), None).await;
    r.assert_problem_kind(409, "invalid-transition");
    let r = app.call(Method::DELETE, &format!("/api/v1/jobs/{draft}"), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(app.own_job_count(&key).await, 1);
    // The trail of a deleted draft stays, for operators.
    let r = app.admin(Method::GET, &format!("/api/v1/jobs/{draft}/events"), None).await;
    let actions: Vec<&str> = r.body.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["created", "deleted"]);
}
