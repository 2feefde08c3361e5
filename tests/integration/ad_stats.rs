//! Each ad's days: views of its page, clicks on its apply link and its
//! appearances in search results, per day of the Swedish calendar, in the
//! API and as a chart with a table on the employer's dashboard; another
//! employer reaches none of it, and garbage ranges are named.

use platsen_tests::{TestApp, with};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::konto::{PASSWORD, Visitor};

platsen_tests::contract!(an_employer_follows_each_ads_days_in_the_api_and_on_the_dashboard);

async fn stats(app: &TestApp, key: &str, id: i64, query: &str) -> platsen_tests::Reply {
    app.call(Method::GET, &format!("/api/v1/account/jobs/{id}/stats{query}"), Some(key), None).await
}

async fn an_employer_follows_each_ads_days_in_the_api_and_on_the_dashboard(app: &TestApp) {
    let (employer, key) = app.employer_with_key("Nacka kommun").await;
    app.create_user(employer, "anna@nacka.se", PASSWORD).await;
    let (other, other_key) = app.employer_with_key("Sjöbo kommun").await;
    app.create_user(other, "olle@sjobo.se", PASSWORD).await;
    let id = app.publish_job(&key, app.job("Upphandlare till Nacka")).await;
    let quiet = app
        .publish_job(
            &key,
            with(
                app.job("Inköpschef till Nacka"),
                json!({ "role": "inkopschef", "description": "Vi söker en chef för inköp och avtal." }),
            ),
        )
        .await;
    let slug = app.call(Method::GET, &format!("/api/v1/jobs/{id}"), None, None).await.body["slug"]
        .as_str()
        .unwrap()
        .to_owned();

    // Nothing yet: thirty days up to today, all zero.
    let r = stats(app, &key, id, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let today = platsen_jobs::validate::today_in_sweden(app.clock.now());
    assert_eq!(r.body["to"], today.to_string());
    assert_eq!(r.body["from"], (today - chrono::Duration::days(29)).to_string());
    assert_eq!(r.body["days"].as_array().unwrap().len(), 30);
    assert_eq!((r.body["views"].as_i64(), r.body["appearances"].as_i64()), (Some(0), Some(0)), "{}", r.text);

    // Day one: two views, one apply click, and a search on the page and one
    // through the API that both show it (one that does not, does not count).
    for _ in 0..2 {
        assert_eq!(app.get(&format!("/jobb/{slug}")).await.status, 200);
    }
    assert_eq!(app.get(&format!("/jobb/{slug}/ansok")).await.status.as_u16(), 303);
    assert_eq!(app.get("/jobb?q=upphandlare").await.status, 200);
    let r = app.get("/api/v1/jobs/search?q=upphandlare").await;
    assert_eq!(r.body["total"], 1, "{}", r.text);
    assert_eq!(app.get("/api/v1/jobs/search?role=inkopschef").await.body["total"], 1);
    let r = stats(app, &key, id, "").await;
    let last = r.body["days"][29].clone();
    assert_eq!(last["day"], today.to_string());
    assert_eq!(
        (last["views"].as_i64(), last["apply_clicks"].as_i64(), last["appearances"].as_i64()),
        (Some(2), Some(1), Some(2)),
        "{}",
        r.text
    );
    assert_eq!((r.body["views"].as_i64(), r.body["apply_clicks"].as_i64()), (Some(2), Some(1)));
    let q = stats(app, &key, quiet, "").await;
    assert_eq!((q.body["views"].as_i64(), q.body["appearances"].as_i64()), (Some(0), Some(1)), "{}", q.text);

    // The next day: one more view, on its own day.
    app.clock.advance(chrono::Duration::days(1));
    let tomorrow = today + chrono::Duration::days(1);
    assert_eq!(app.get(&format!("/jobb/{slug}")).await.status, 200);
    let r = stats(app, &key, id, &format!("?from={today}&to={tomorrow}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let days = r.body["days"].as_array().unwrap();
    assert_eq!(days.len(), 2);
    assert_eq!((days[0]["views"].as_i64(), days[1]["views"].as_i64()), (Some(2), Some(1)), "{}", r.text);
    assert_eq!(r.body["views"], 3);
    // The default range moved with the calendar.
    assert_eq!(stats(app, &key, id, "").await.body["to"], tomorrow.to_string());

    // Another employer reaches nothing of it; garbage is named.
    let theirs = stats(app, &other_key, id, "").await;
    assert!([403, 404].contains(&theirs.status.as_u16()), "{}", theirs.text);
    assert!(theirs.body.get("days").is_none());
    assert_eq!(stats(app, &key, 999_999, "").await.status, 404);
    for (query, status, field) in [
        ("?from=ig%C3%A5r", 400, "from"),
        ("?to=2026-02-30", 400, "to"),
        ("?from=%27%3B+drop+table+job_ads%3B+--", 400, "from"),
        (&format!("?from={}", "9".repeat(41)), 400, "from"),
        ("?from=2026-12-08&to=2026-12-07", 422, "from"),
        ("?from=2024-01-01&to=2026-01-01", 422, "from"),
    ] {
        stats(app, &key, id, query).await.assert_problem(status, field);
    }

    // The dashboard: a link from the list, the chart, its sentence and the table.
    let mut anna = Visitor::new(app);
    assert_eq!(anna.sign_in("anna@nacka.se", PASSWORD).await.status, 303);
    let dash = anna.get("/konto").await;
    let page_url = format!("/konto/annonser/{id}/statistik");
    assert!(dash.body.contains(&format!(r#"<a href="{page_url}">statistik</a>"#)), "{}", dash.body);
    let page = anna.get(&page_url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.headers["cache-control"], "no-store");
    assert!(page.body.contains("<svg"), "{}", page.body);
    assert!(page.body.contains("Visningar: 3") && page.body.contains("Klick på Ansök: 1"), "{}", page.body);
    assert!(
        page.body.contains("3 visningar, 1 klick på Ansök och 2 gånger i sökresultat."),
        "the sentence: {}",
        page.body
    );
    assert!(page.body.contains("<td>1</td><td>0</td><td>0</td>"), "tomorrow's row: {}", page.body);
    assert!(page.body.contains("<td>2</td><td>1</td><td>2</td>"), "today's row: {}", page.body);
    let bad = anna.get(&format!("{page_url}?from=nej")).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("Ange ett datum som ÅÅÅÅ-MM-DD.") && bad.body.contains(r#"aria-invalid="true""#));
    assert!(bad.body.contains(r#"value="nej""#), "what was typed stays");
    assert!(!bad.body.contains("<svg"));
    // Olle's session finds no such ad.
    let mut olle = Visitor::new(app);
    olle.sign_in("olle@sjobo.se", PASSWORD).await;
    let theirs = olle.get(&page_url).await;
    assert_eq!(theirs.status, 404, "{}", theirs.body);
    assert!(!theirs.body.contains("<svg"));
}
