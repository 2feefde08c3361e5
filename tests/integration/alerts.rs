//! Job alerts through a real SMTP listener: double opt-in, each new
//! matching ad mailed exactly once, nothing before confirmation or from
//! before it, RFC 8058 one-click unsubscription from the headers alone,
//! the manage page, and garbage refused.

use platsen_tests::{TestApp, smtp::Mail, with};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::konto::Visitor;

platsen_tests::contract!(
    alerts_mail_each_new_matching_ad_once_and_unsubscribe_in_one_click,
    alerts_refuse_garbage,
    alerts_cannot_mail_bomb_or_carry_a_strangers_text,
);

/// A header's value, unfolded.
fn header(mail: &Mail, name: &str) -> Option<String> {
    let head = mail.data.split("\r\n\r\n").next().unwrap().replace("\r\n ", " ").replace("\r\n\t", " ");
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

/// The token of the first link to `path` in a mail's body.
pub(crate) fn token_in(body: &str, path: &str) -> String {
    let at = body.find(&format!("{path}?token=")).unwrap_or_else(|| panic!("no {path} link in {body}"));
    body[at + path.len() + 7..].chars().take_while(char::is_ascii_hexdigit).collect()
}

fn mails_to(app: &TestApp, to: &str) -> Vec<Mail> {
    app.smtp.mails().into_iter().filter(|m| m.to.iter().any(|t| t == to)).collect()
}

/// Waits until `to` has `n` mails (and gives the worker a moment more, so
/// that an extra one would show).
async fn wait_mails(app: &TestApp, to: &str, n: usize) -> Vec<Mail> {
    platsen_tests::eventually(15, &format!("{n} mails to {to}"), || async { mails_to(app, to).len() >= n }).await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let got = mails_to(app, to);
    assert_eq!(got.len(), n, "exactly {n} mails to {to}: {:#?}", got.iter().map(Mail::body).collect::<Vec<_>>());
    got
}

async fn alerts_mail_each_new_matching_ad_once_and_unsubscribe_in_one_click(app: &TestApp) {
    let to = "sokande@example.se";
    let (_, key) = app.employer_with_key("Nacka kommun").await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/alerts",
            None,
            Some(json!({ "email": to, "frequency": "instant", "role": "upphandlare", "county": "01" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["status"], "confirmation_sent");
    let confirmation = app.smtp.wait_for(to).await;
    let body = confirmation.body();
    assert!(body.contains("upphandlare i Stockholms län"), "{body}");
    let confirm_token = token_in(&body, "/bevakningar/bekrafta");

    // Nothing is mailed before the address owner confirms; an ad published
    // before that is never new to the alert.
    let before = app.publish_job(&key, app.job("Upphandlare före bekräftelsen")).await;
    app.clock.advance(chrono::Duration::minutes(2));
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(mails_to(app, to).len(), 1, "only the confirmation");

    // Confirming takes a click on the page (a mail scanner's GET does not).
    let mut v = Visitor::new(app);
    let page = v.get(&format!("/bevakningar/bekrafta?token={confirm_token}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Bekräfta bevakningen"));
    let page = v.post("/bevakningar/bekrafta", &[("token", &confirm_token)]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Bevakningen är aktiv"));
    assert_eq!(page.headers["cache-control"], "no-store");

    app.clock.advance(chrono::Duration::seconds(30));
    let first = app.publish_job(&key, app.job("Upphandlare till Nacka")).await;
    app.publish_job(&key, with(app.job("Inköpare till Nacka"), json!({ "role": "inkopare" }))).await;
    app.publish_job(&key, with(app.job("Upphandlare i Malmö"), json!({ "municipality_code": "1280" }))).await;
    app.clock.advance(chrono::Duration::minutes(2));
    let mails = wait_mails(app, to, 2).await;
    let alert = &mails[1];
    let body = alert.body();
    assert!(body.contains("Upphandlare till Nacka"), "{body}");
    assert!(!body.contains("Inköpare till Nacka") && !body.contains("Malmö"), "only matching ads: {body}");
    assert!(!body.contains("före bekräftelsen"), "not an ad from before the alert: {body}");
    assert_eq!(header(alert, "Subject").as_deref(), Some("Nytt jobb: Upphandlare till Nacka"));
    let unsubscribe = header(alert, "List-Unsubscribe").expect("List-Unsubscribe");
    let unsubscribe = unsubscribe.trim_start_matches('<').trim_end_matches('>').to_owned();
    assert!(unsubscribe.starts_with(&app.url("/bevakningar/avsluta?token=")), "{unsubscribe}");
    assert_eq!(header(alert, "List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    let manage_token = token_in(&body, "/bevakningar/hantera");

    // An edit does not make an ad new; the next new ad comes alone.
    let r =
        app.call(Method::PATCH, &format!("/api/v1/jobs/{first}"), Some(&key), Some(json!({ "vacancies": 2 }))).await;
    assert_eq!(r.status, StatusCode::OK);
    app.clock.advance(chrono::Duration::minutes(2));
    tokio::time::sleep(std::time::Duration::from_millis(3000)).await;
    assert_eq!(mails_to(app, to).len(), 2, "an edited ad is not mailed again");
    app.publish_job(&key, app.job("Upphandlare till Nacka, vikariat")).await;
    app.clock.advance(chrono::Duration::minutes(2));
    let mails = wait_mails(app, to, 3).await;
    let body = mails[2].body();
    assert!(body.contains("Upphandlare till Nacka, vikariat"));
    assert_eq!(body.matches("/jobb/").count(), 1, "the first ad is not repeated: {body}");
    let r = app.get(&format!("/api/v1/jobs/{before}")).await;
    assert!(!body.contains(r.body["slug"].as_str().unwrap()), "nor the ad from before the alert");

    // The manage page changes the frequency.
    let page = v.get(&format!("/bevakningar/hantera?token={manage_token}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("upphandlare i Stockholms län"));
    let page = v.post("/bevakningar/hantera", &[("token", &manage_token), ("frequency", "varannan minut")]).await;
    assert_eq!(page.status, 400);
    let page = v.post("/bevakningar/hantera", &[("token", &manage_token), ("frequency", "weekly")]).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"value="weekly" checked"#), "{}", page.body);

    // One click, as a mail client does it (RFC 8058): a POST to the header's
    // address with `List-Unsubscribe=One-Click`, no cookie, no other token.
    let r = reqwest::Client::new()
        .post(&unsubscribe)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Bevakningen är avslutad"));
    app.publish_job(&key, app.job("Upphandlare efter avslutet")).await;
    app.clock.advance(chrono::Duration::days(8));
    tokio::time::sleep(std::time::Duration::from_millis(3000)).await;
    assert_eq!(mails_to(app, to).len(), 3, "nothing after unsubscribing");
    // Every link of the alert is dead now.
    let page = v.get(&format!("/bevakningar/hantera?token={manage_token}")).await;
    assert_eq!(page.status, 404);
    let page = v.get(&format!("/bevakningar/bekrafta?token={confirm_token}")).await;
    assert_eq!(page.status, 404);
}

async fn alerts_refuse_garbage(app: &TestApp) {
    let ok = json!({ "email": "a@example.se", "frequency": "daily" });
    for (patch, field) in [
        (json!({ "email": "inte-en-adress" }), "email"),
        (json!({ "email": format!("{}@example.se", "a".repeat(300)) }), "email"),
        (json!({ "role": "chef' or 1=1" }), "role"),
        (json!({ "county": "99" }), "county"),
        (json!({ "municipality": "<script>" }), "municipality"),
        (json!({ "employer": "Nacka Kommun!" }), "employer"),
        (json!({ "q": "a".repeat(201) }), "q"),
        (json!({ "remote": "kanske" }), "remote"),
    ] {
        let r = app.call(Method::POST, "/api/v1/alerts", None, Some(with(ok.clone(), patch.clone()))).await;
        assert!(r.status.is_client_error(), "{patch}: {}", r.text);
        assert!(r.text.contains(field), "{patch} names {field}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
    for body in [json!({ "email": "a@example.se", "frequency": "hourly" }), json!({ "email": "a@example.se" })] {
        let r = app.call(Method::POST, "/api/v1/alerts", None, Some(body.clone())).await;
        assert!(r.status.is_client_error() && r.text.contains("frequency"), "{body}: {}", r.text);
    }
    let r = app
        .client
        .post(app.url("/api/v1/alerts"))
        .header("content-type", "application/json")
        .body("{inte json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(app.smtp.mails().is_empty(), "no mail for refused alerts");

    // The page links with tokens that are not ours.
    let mut v = Visitor::new(app);
    for token in ["", "abc", &"0".repeat(64), "%27%20or%201%3D1", &"z".repeat(64)] {
        assert_eq!(v.get(&format!("/bevakningar/bekrafta?token={token}")).await.status, 404, "{token}");
        assert_eq!(v.get(&format!("/bevakningar/hantera?token={token}")).await.status, 404, "{token}");
        let r = v.post(&format!("/bevakningar/avsluta?token={token}"), &[("List-Unsubscribe", "One-Click")]).await;
        assert_eq!(r.status, 404, "{token}");
        assert_eq!(v.post("/bevakningar/bekrafta", &[("token", token)]).await.status, 404, "{token}");
    }

    // The search page's form: garbage is named, a good one asks for confirmation.
    let r = v.post("/bevakningar", &[("email", "nej"), ("frequency", "daily"), ("role", "upphandlare")]).await;
    assert_eq!(r.status, 400);
    assert!(r.field_error("email").is_some(), "{}", r.body);
    let r = v.post("/bevakningar", &[("email", "b@example.se"), ("frequency", "ibland")]).await;
    assert_eq!(r.status, 400);
    assert!(r.field_error("frequency").is_some(), "{}", r.body);
    let r = v.post("/bevakningar", &[("email", "b@example.se"), ("frequency", "weekly"), ("county", "1")]).await;
    assert_eq!(r.status, 400);
    assert!(r.field_error("county").is_some(), "{}", r.body);
    let r = v.post("/bevakningar", &[("email", "b@example.se"), ("frequency", "weekly"), ("q", "inköpare")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Kolla din e-post"));
    let mail = app.smtp.wait_for("b@example.se").await;
    assert!(mail.body().contains("”inköpare”"), "{}", mail.body());
    let search = v.get("/jobb?q=ink%C3%B6pare&county=01").await;
    assert!(search.body.contains(r#"action="/bevakningar""#), "the search page offers the alert");
    assert!(search.body.contains(r#"name="county" value="01""#), "with the search's own filters");

    // An address with the most alerts gets the same answer and no more mail.
    for i in 0..20 {
        let search = format!(r#"{{"q":"ord{i}"}}"#);
        let (_, token) =
            app.store.create_alert("c@example.se", (&search, 2), weekly(), app.clock.now()).await.unwrap().unwrap();
        app.store.confirm_alert(&token, app.clock.now()).await.unwrap();
    }
    let r = app
        .call(Method::POST, "/api/v1/alerts", None, Some(json!({ "email": "c@example.se", "frequency": "weekly" })))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(mails_to(app, "c@example.se").is_empty());
}

fn weekly() -> platsen_jobs::store::AlertFrequency {
    platsen_jobs::store::AlertFrequency::Weekly
}

/// Nobody can use the alerts to mail-bomb an address or to send their own
/// text in our name: an address waits for one confirmation at a time
/// however many ask, one client asks for a few confirmations and is then
/// refused, and the mail names the search by its filters and its words,
/// never by what was typed.
async fn alerts_cannot_mail_bomb_or_carry_a_strangers_text(app: &TestApp) {
    let typed = "Vinn! Besök https://evil.example/pris?id=1\r\n\r\nRing <070-123 45 67> nu";
    for i in 0..25 {
        let client = format!("127.0.3.{}", i + 1);
        let mut v = Visitor::from_address(app, &client);
        let r = v.post("/bevakningar", &[("email", "offer@example.se"), ("frequency", "instant"), ("q", typed)]).await;
        assert_eq!(r.status, 200, "request {i}: the same answer every time: {}", r.body);
        let api = reqwest::Client::builder().local_address(Some(client.parse().unwrap())).build().unwrap();
        let r = api
            .post(app.url("/api/v1/alerts"))
            .json(&json!({ "email": "offer@example.se", "frequency": "daily", "q": format!("{typed} {i}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }
    let mails = wait_mails(app, "offer@example.se", 1).await;
    let body = mails[0].body();
    assert!(body.contains("”vinn besök https evil example pris id 1 ring 070”"), "{body}");
    for stranger in ["https://evil", "evil.example/", "<070", "\r\n\r\nRing", "pris?id"] {
        assert!(!body.contains(stranger), "the mail carries {stranger:?}: {body}");
    }
    // The confirmed alert's search is what the typed words say, and a new
    // confirmation can be asked for once it is answered.
    let token = token_in(&body, "/bevakningar/bekrafta");
    app.store.confirm_alert(&token, app.clock.now()).await.unwrap();
    let mut v = Visitor::from_address(app, "127.0.4.1");
    let r =
        v.post("/bevakningar", &[("email", "offer@example.se"), ("frequency", "weekly"), ("role", "inkopare")]).await;
    assert_eq!(r.status, 200);
    wait_mails(app, "offer@example.se", 2).await;

    // One client asking for many addresses: five confirmations, then 429.
    let mut statuses = Vec::new();
    for i in 0..7 {
        let body = json!({ "email": format!("mottagare{i}@example.se"), "frequency": "weekly" });
        let r = Visitor::from_address(app, "127.0.5.1")
            .post("/bevakningar", &[("email", body["email"].as_str().unwrap()), ("frequency", "weekly")])
            .await;
        statuses.push(r.status);
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429]);
    // Garbage addresses and unknown employers count for nothing and mail nothing.
    let mut v = Visitor::from_address(app, "127.0.6.1");
    for _ in 0..8 {
        assert_eq!(v.post("/bevakningar", &[("email", "inte en adress"), ("frequency", "daily")]).await.status, 400);
    }
    let r =
        v.post("/bevakningar", &[("email", "x@example.se"), ("frequency", "daily"), ("employer", "finns-inte")]).await;
    assert_eq!(r.status, 400);
    assert!(r.field_error("employer").is_some(), "{}", r.body);
    assert!(mails_to(app, "x@example.se").is_empty());
    assert_eq!(v.post("/bevakningar", &[("email", "y@example.se"), ("frequency", "daily")]).await.status, 200);
}

// ----- an upgrade: alerts saved by the previous version -----------------------

/// The schema version before saved searches got a format of their own.
const BEFORE_SAVED_SEARCH_FORMAT: i64 = 10;

/// Two alerts as the previous version stored them: its search page's query
/// string. One still reads; one names a role that does not exist.
async fn seed_legacy_alerts(db: platsen_tests::OldDatabase) {
    let now = chrono::Utc::now();
    let hour_ago = now - chrono::Duration::hours(1);
    let insert = "insert into job_alerts (email, search, frequency, confirmed_at, next_due_at, created_at)
                  values ($1, $2, 'instant', $3, $4, $3)";
    macro_rules! seed {
        ($pool:expr) => {
            for (email, search) in
                [("gammal@example.se", "q=upphandlare&county=01"), ("trasig@example.se", "role=kock")]
            {
                sqlx::query(insert).bind(email).bind(search).bind(hour_ago).bind(now).execute($pool).await.unwrap();
            }
        };
    }
    match &db {
        platsen_tests::OldDatabase::Sqlite(pool) => seed!(pool),
        platsen_tests::OldDatabase::Postgres(pool) => seed!(pool),
    }
}

/// After the upgrade the stored searches are in the current format (the
/// unreadable one is left as it was), and the alert mails a new matching ad
/// with a link to the same search on the search page.
async fn alerts_saved_by_the_previous_version_still_run(app: &TestApp) {
    let left = app.store.alert_searches_older_than(platsen_app::saved_search::VERSION).await.unwrap();
    assert_eq!(left.len(), 1, "only the unreadable one is left: {left:?}");
    assert_eq!(left[0].2, "role=kock");
    let (_, key) = app.employer_with_key("Nacka kommun").await;
    app.publish_job(&key, app.job("Upphandlare till Nacka")).await;
    app.publish_job(&key, with(app.job("Upphandlare i Malmö"), json!({ "municipality_code": "1280" }))).await;
    // An instant alert runs every minute; it may have run once before the ads.
    app.clock.advance(chrono::Duration::minutes(2));
    let mails = wait_mails(app, "gammal@example.se", 1).await;
    let body = mails[0].body();
    assert!(body.contains("Upphandlare till Nacka"), "{body}");
    assert!(!body.contains("Malmö"), "{body}");
    assert!(body.lines().any(|l| l.trim_end().ends_with("/jobb?q=upphandlare&county=01")), "{body}");
    assert!(mails_to(app, "trasig@example.se").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_alerts_saved_by_the_previous_version_still_run() {
    let app = TestApp::sqlite_upgraded_from(BEFORE_SAVED_SEARCH_FORMAT, seed_legacy_alerts).await;
    alerts_saved_by_the_previous_version_still_run(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_alerts_saved_by_the_previous_version_still_run() {
    let Some(app) = TestApp::postgres_upgraded_from(BEFORE_SAVED_SEARCH_FORMAT, seed_legacy_alerts).await else {
        return;
    };
    alerts_saved_by_the_previous_version_still_run(&app).await;
    app.stop().await;
}
