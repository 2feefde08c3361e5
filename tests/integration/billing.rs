//! Billing through the API: approving an order grants credits and issues
//! the invoice in one go (a new organisation becomes a prepaid employer
//! and is invited; a known one gets the credits); publishing uses a
//! credit, and without one answers 402 `no-credit`; a featured credit
//! features the ad; cancelling makes a credit note and takes back unused
//! credits; billing modes; the monthly run for agreement customers;
//! concurrency (16 publications for 5 credits, 50 approvals at once);
//! another employer's invoices and credits answer 404.

use platsen_jobs::input::OrderInput;
use platsen_tests::{TestApp, with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

platsen_tests::contract!(
    approving_an_order_grants_credits_issues_the_invoice_and_invites,
    publishing_uses_a_credit_and_without_one_answers_402,
    a_featured_credit_features_the_ad_first_in_search,
    cancelling_an_invoice_makes_a_credit_note_and_takes_back_credits,
    billing_modes_free_prepaid_and_agreement,
    an_ad_in_several_places_uses_one_credit,
    sixteen_publications_race_for_five_credits,
    fifty_approvals_at_once_number_invoices_without_gap,
    a_reviewed_ad_uses_its_credit_when_it_is_approved,
    a_board_without_products_has_nothing_to_invoice,
    a_grant_with_credits_left_expires_behind_a_thousand_used_ones,
);

/// A board that sells nothing (no products, no agreement customers) has
/// nothing to invoice: the monthly run answers an empty list, not a
/// conflict (the billing worker logged that as a warning every hour).
async fn a_board_without_products_has_nothing_to_invoice(app: &TestApp) {
    let month = platsen_jobs::validate::today_in_sweden(app.clock.now()).format("%Y-%m").to_string();
    let r = app.admin(Method::POST, &format!("/api/v1/invoices/monthly?month={month}"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["invoices"], json!([]));
}

async fn product(app: &TestApp, name: &str, ad_credits: i64, featured: bool) -> i64 {
    let body = json!({
        "name": name, "description": format!("{name} på Platsen."), "price_ore": 490_000,
        "ad_credits": ad_credits, "ad_days": 30, "featured": featured, "credit_valid_days": 365
    });
    let r = app.admin(Method::POST, "/api/v1/products", Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_i64().unwrap()
}

fn order_body(product_id: i64, quantity: i64, org: &str, email: &str) -> Value {
    json!({
        "organization_name": "Nacka kommun & \"HR\" Inköp",
        "organization_number": org,
        "invoice_address": { "street": "Granitvägen 15", "postal_code": "13181", "city": "Nacka" },
        "buyer_reference": "Anna Lind",
        "order_number": "PO-4711",
        "invoice_email": "faktura@nacka.se",
        "contact": { "name": "Anna Lind", "email": email, "phone": "08-718 80 00" },
        "product_id": product_id,
        "quantity": quantity,
        "accept_terms": true
    })
}

/// Orders through the store (the API limits orders per address) and
/// approves through the API; returns the approval.
async fn bought(app: &TestApp, product_id: i64, quantity: i64, org: &str, email: &str) -> Value {
    let o = order_input(product_id, quantity, org, email);
    let order = app.store.create_order(o, app.clock.now()).await.expect("order");
    let r = app.admin(Method::POST, &format!("/api/v1/orders/{}/approve", order.id), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

fn order_input(product_id: i64, quantity: i64, org: &str, email: &str) -> OrderInput {
    platsen_tests::order_input(org, &format!("Organisation {org}"), email, product_id, quantity)
}

async fn balance(app: &TestApp, key: &str) -> i64 {
    let r = app.call(Method::GET, "/api/v1/account/credits", Some(key), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["balance"].as_i64().unwrap()
}

async fn approving_an_order_grants_credits_issues_the_invoice_and_invites(app: &TestApp) {
    let package = product(app, "Annonspaket 5", 5, false).await;
    let r = app
        .call(Method::POST, "/api/v1/orders", None, Some(order_body(package, 1, "212000-0142", "anna@nacka.se")))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let order_id = r.body["id"].as_i64().unwrap();

    let r = app.admin(Method::POST, &format!("/api/v1/orders/{order_id}/approve"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["new_employer"], true);
    assert_eq!(r.body["order"]["status"], "approved");
    let employer_id = r.body["employer_id"].as_i64().unwrap();
    let invoice_id = r.body["invoice_id"].as_i64().unwrap();

    // The new employer is prepaid, and its contact person is invited.
    let e = app.admin(Method::GET, &format!("/api/v1/employers/{employer_id}"), None).await;
    assert_eq!(e.body["organization_number"], "212000-0142");
    assert!(e.body.get("billing_mode").is_none(), "the public answer leaves out how an employer pays: {}", e.text);
    let invitation = platsen_tests::eventually(10, "the invitation", || async {
        app.smtp.mails_to("anna@nacka.se").iter().any(|m| m.body().contains("valkommen=1"))
    });
    invitation.await;
    let credits = app.admin(Method::GET, &format!("/api/v1/account/credits?employer_id={employer_id}"), None).await;
    assert_eq!(credits.status, StatusCode::OK, "{}", credits.text);
    assert_eq!(credits.body["billing_mode"], "prepaid");
    assert_eq!(credits.body["balance"], 5);
    assert_eq!(credits.body["ledger"][0]["kind"], "grant");
    assert_eq!(credits.body["ledger"][0]["invoice_id"], invoice_id);

    // The invoice: one line, VAT 25 %, due in 30 days, the buyer's references.
    let key = app.create_key(employer_id).await;
    let inv = app.call(Method::GET, &format!("/api/v1/invoices/{invoice_id}"), Some(&key), None).await;
    assert_eq!(inv.status, StatusCode::OK, "{}", inv.text);
    assert_eq!(inv.body["id"], invoice_id, "{}", inv.text);
    assert_eq!(inv.body["kind"], "invoice");
    assert_eq!(inv.body["status"], "open");
    assert_eq!(inv.body["net_ore"], 490_000);
    assert_eq!(inv.body["vat_ore"], 122_500);
    assert_eq!(inv.body["total_ore"], 612_500);
    assert_eq!(inv.body["buyer_peppol_id"], "0007:2120000142");
    assert_eq!(inv.body["buyer_reference"], "Anna Lind");
    assert_eq!(inv.body["order_number"], "PO-4711");
    let issue = chrono::NaiveDate::parse_from_str(inv.body["issue_date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    let due = chrono::NaiveDate::parse_from_str(inv.body["due_date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    assert_eq!((due - issue).num_days(), 30);
    let number = inv.body["number"].as_i64().unwrap();

    // Its UBL, for the employer and the operator; it passes Peppol's rules.
    let xml_path = format!("/api/v1/invoices/{invoice_id}.xml");
    let xml = app.call(Method::GET, &xml_path, Some(&key), None).await;
    assert_eq!(xml.status, StatusCode::OK, "{}", xml.text);
    assert!(xml.header("content-type").unwrap().starts_with("application/xml"));
    assert!(xml.text.contains(&format!("<cbc:ID>{number}</cbc:ID>")), "{}", xml.text);
    assert!(xml.text.contains("Nacka kommun &amp; &quot;HR&quot; Inköp"), "{}", xml.text);
    assert_eq!(app.admin(Method::GET, &xml_path, None).await.status, StatusCode::OK);
    // The access point's folder got the same document.
    let sent = std::fs::read_to_string(app.peppol_outbox().join(format!("{number}.xml")))
        .expect("written for the access point");
    assert_eq!(sent, xml.text);
    if let Some((code, report)) =
        platsen_tests::peppol_validate(&[(format!("approved-{}", app.store.backend()), xml.text.clone())])
    {
        assert_eq!(code, Some(0), "{report}");
    }

    // Approved once; a second order from the same organisation adds to the
    // same employer, with the next invoice number.
    let again = app.admin(Method::POST, &format!("/api/v1/orders/{order_id}/approve"), None).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    let second = bought(app, package, 2, "212000-0142", "per@nacka.se").await;
    assert_eq!(second["new_employer"], false);
    assert_eq!(second["employer_id"], employer_id);
    assert_eq!(balance(app, &key).await, 15);
    let list = app.call(Method::GET, "/api/v1/invoices", Some(&key), None).await;
    let numbers: Vec<i64> = list.body.as_array().unwrap().iter().map(|i| i["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, vec![number + 1, number]);

    // Another employer sees none of it; the public sees nothing at all.
    let (_, other) = app.employer_with_key("Värmdö kommun").await;
    assert_eq!(
        app.call(Method::GET, &format!("/api/v1/invoices/{invoice_id}"), Some(&other), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.call(Method::GET, &xml_path, Some(&other), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.call(Method::GET, "/api/v1/invoices", Some(&other), None).await.body, json!([]));
    assert_eq!(balance(app, &other).await, 0);
    let r =
        app.call(Method::GET, &format!("/api/v1/account/credits?employer_id={employer_id}"), Some(&other), None).await;
    assert_ne!(r.body["employer_id"], employer_id, "an employer key reads its own credits whatever it asks");
    for path in [format!("/api/v1/invoices/{invoice_id}"), xml_path.clone(), "/api/v1/account/credits".into()] {
        assert_eq!(app.call(Method::GET, &path, None, None).await.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    for path in [
        format!("/api/v1/invoices/{invoice_id}/cancel"),
        format!("/api/v1/invoices/{invoice_id}/paid"),
        format!("/api/v1/orders/{order_id}/approve"),
    ] {
        assert_eq!(app.call(Method::POST, &path, Some(&key), None).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(app.admin(Method::POST, "/api/v1/orders/999999/approve", None).await.status, StatusCode::NOT_FOUND);

    // Paid, once; garbage months are named.
    let paid = app.admin(Method::POST, &format!("/api/v1/invoices/{invoice_id}/paid"), None).await;
    assert_eq!(paid.body["status"], "paid", "{}", paid.text);
    app.admin(Method::GET, "/api/v1/invoices?month=2026-13", None).await.assert_problem(400, "month");
    app.admin(Method::GET, "/api/v1/invoices/archive?month=november", None).await.assert_problem(400, "month");
}

async fn publishing_uses_a_credit_and_without_one_answers_402(app: &TestApp) {
    let one = product(app, "Standardannons", 1, false).await;
    let approval = bought(app, one, 2, "212000-0159", "hr@example.org").await;
    let employer_id = approval["employer_id"].as_i64().unwrap();
    let key = app.create_key(employer_id).await;
    let first = app.publish_job(&key, app.job("Upphandlare 1")).await;
    app.publish_job(&key, app.job("Upphandlare 2")).await;
    assert_eq!(balance(app, &key).await, 0);

    // The third is refused with the way to order more, and stays a draft.
    let third = app.post_job(&key, app.job("Upphandlare 3")).await;
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{third}/publish"), Some(&key), None).await;
    r.assert_problem_kind(402, "no-credit");
    assert!(r.body["detail"].as_str().unwrap().contains("/platsannonsera"), "{}", r.text);
    let ad = app.call(Method::GET, &format!("/api/v1/account/jobs/{third}"), Some(&key), None).await;
    assert_eq!(ad.body["status"], "draft");

    // Closing and reopening within the paid period costs nothing.
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{first}/close"), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{first}/reopen"), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "published");

    // The ledger says what happened: one grant of two, two uses.
    let credits = app.call(Method::GET, "/api/v1/account/credits", Some(&key), None).await;
    let kinds: Vec<&str> =
        credits.body["ledger"].as_array().unwrap().iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["use", "use", "grant"]);

    // An ad runs no longer than its credit paid for (30 days here).
    let long = with(app.job("Lång annons"), json!({ "application_deadline": app.date_in(55) }));
    let more = bought(app, one, 1, "212000-0159", "hr@example.org").await;
    assert_eq!(more["employer_id"], employer_id);
    let id = app.publish_job(&key, long).await;
    let ad = app.call(Method::GET, &format!("/api/v1/account/jobs/{id}"), Some(&key), None).await;
    let expires = chrono::DateTime::parse_from_rfc3339(ad.body["expires_at"].as_str().unwrap()).unwrap();
    assert!(expires.with_timezone(&chrono::Utc) <= app.clock.now() + chrono::Duration::days(30), "{}", ad.text);

    // Unused credits expire: a grant past its validity counts for nothing.
    bought(app, one, 1, "212000-0159", "hr@example.org").await;
    assert_eq!(balance(app, &key).await, 1);
    app.clock.advance(chrono::Duration::days(366));
    assert_eq!(balance(app, &key).await, 0);
    // Written down once, by this call or by the billing worker (which polls
    // every ten seconds and may have come first).
    app.store.expire_credits(app.clock.now()).await.unwrap();
    assert_eq!(app.store.expire_credits(app.clock.now()).await.unwrap(), 0, "once only");
    let credits = app.call(Method::GET, "/api/v1/account/credits", Some(&key), None).await;
    assert_eq!(credits.body["ledger"][0]["kind"], "expiry");
    assert_eq!(credits.body["ledger"][0]["credits"], -1);
}

/// Copies the grants that match `condition` (SQL on grant `g`) ten times
/// over, each round copying the last round's too: 1,024 of each, straight
/// in the ledger (no API grants credits this fast).
async fn double_grants_ten_times(app: &TestApp, condition: &str) {
    for _ in 0..10 {
        app.execute_sql(&format!(
            "insert into credit_ledger (employer_id, kind, credits, featured, ad_days, valid_until, order_id,
                                        invoice_id, created_at)
             select employer_id, kind, credits, featured, ad_days, valid_until, order_id, invoice_id, created_at
               from credit_ledger g
              where kind = 'grant' and {condition}"
        ))
        .await;
    }
}

/// The expiry sweep takes at most a thousand grants at a time. Grants used
/// up before they expired need no expiry row; a board with more than a
/// thousand of them must still write one for a grant that had credits left
/// (the sweep took the first thousand expired grants and only then skipped
/// the used ones, so it never got past them).
async fn a_grant_with_credits_left_expires_behind_a_thousand_used_ones(app: &TestApp) {
    let one = product(app, "Standardannons", 1, false).await;
    let approval = bought(app, one, 1, "212000-0191", "inkop@example.org").await;
    let key = app.create_key(approval["employer_id"].as_i64().unwrap()).await;
    // 1,024 grants of one credit, each used in full.
    double_grants_ten_times(app, "true").await;
    let used = app
        .execute_sql(
            "insert into credit_ledger (employer_id, kind, credits, grant_id, created_at)
             select employer_id, 'use', -credits, id, created_at from credit_ledger where kind = 'grant'",
        )
        .await;
    assert_eq!(used, 1024);
    // A later grant, unused.
    bought(app, one, 1, "212000-0191", "inkop@example.org").await;
    assert_eq!(balance(app, &key).await, 1);

    app.clock.advance(chrono::Duration::days(366));
    assert_eq!(balance(app, &key).await, 0);
    // By this call or by the billing worker, once.
    app.store.expire_credits(app.clock.now()).await.unwrap();
    assert_eq!(app.store.expire_credits(app.clock.now()).await.unwrap(), 0, "once only");
    let credits = app.call(Method::GET, "/api/v1/account/credits", Some(&key), None).await;
    let expiries: Vec<&Value> =
        credits.body["ledger"].as_array().unwrap().iter().filter(|l| l["kind"] == "expiry").collect();
    assert_eq!(expiries.len(), 1, "the newest ledger row: {}", credits.body["ledger"][0]);
    assert_eq!(expiries[0]["credits"], -1);

    // More grants with credits left than one batch: all are written down.
    bought(app, one, 1, "212000-0191", "inkop@example.org").await;
    double_grants_ten_times(app, "not exists (select 1 from credit_ledger u where u.grant_id = g.id)").await;
    assert_eq!(balance(app, &key).await, 1024);
    app.clock.advance(chrono::Duration::days(366));
    app.store.expire_credits(app.clock.now()).await.unwrap();
    assert_eq!(app.store.expire_credits(app.clock.now()).await.unwrap(), 0, "once only");
    // Rows an update touches: the number of expiry rows.
    let expiries = app.execute_sql("update credit_ledger set credits = credits where kind = 'expiry'").await;
    assert_eq!(expiries, 1 + 1024);
}

async fn a_featured_credit_features_the_ad_first_in_search(app: &TestApp) {
    let premium = product(app, "Premiumannons", 1, true).await;
    let standard = product(app, "Standardannons", 1, false).await;
    let a = bought(app, standard, 1, "212000-0167", "a@example.org").await;
    let key_a = app.create_key(a["employer_id"].as_i64().unwrap()).await;
    let b = bought(app, premium, 1, "212000-0175", "b@example.org").await;
    let key_b = app.create_key(b["employer_id"].as_i64().unwrap()).await;

    let plain = app.publish_job(&key_a, app.job("Upphandlare till Nacka")).await;
    let featured = app.publish_job(&key_b, app.job("Upphandlare till Värmdö")).await;
    let r = app.get(&format!("/api/v1/jobs/{featured}")).await;
    assert_eq!(r.body["featured"], true, "{}", r.text);
    assert_eq!(app.get(&format!("/api/v1/jobs/{plain}")).await.body["featured"], false);

    // First among the matches, whichever sort, though published last.
    for sort in ["relevance", "newest", "deadline"] {
        let r = app.get(&format!("/api/v1/jobs/search?q=upphandlare&sort={sort}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let ids: Vec<i64> = r.body["hits"].as_array().unwrap().iter().map(|h| h["id"].as_i64().unwrap()).collect();
        assert_eq!(ids.first(), Some(&featured), "{sort}: {ids:?}");
    }
    let r = app.get("/api/v1/jobs").await;
    assert_eq!(r.body["items"][0]["id"], featured, "{}", r.text);
    // The start page lists it under "Utvalda jobb", marked on its page.
    let home = app.get("/").await;
    assert!(home.text.contains("Utvalda jobb") && home.text.contains("Upphandlare till Värmdö"), "{}", home.text);
    let ad = app.get(&format!("/api/v1/jobs/{featured}")).await.body;
    let slug = ad["slug"].as_str().unwrap().to_owned();
    assert!(app.get(&format!("/jobb/{slug}")).await.text.contains("Utvald"));
    // The embed's JSON says so, for the widget to mark it.
    let employer = ad["employer"]["slug"].as_str().or(ad["employer_slug"].as_str()).unwrap().to_owned();
    let embed = app.get(&format!("/embed/v1/jobs.json?employer={employer}")).await;
    assert_eq!(embed.body["jobs"][0]["featured"], true, "{}", embed.text);
}

async fn cancelling_an_invoice_makes_a_credit_note_and_takes_back_credits(app: &TestApp) {
    let package = product(app, "Annonspaket 5", 5, false).await;
    let approval = bought(app, package, 1, "212000-0183", "c@example.org").await;
    let invoice_id = approval["invoice_id"].as_i64().unwrap();
    let key = app.create_key(approval["employer_id"].as_i64().unwrap()).await;
    app.publish_job(&key, app.job("Inköpare 1")).await;
    app.publish_job(&key, app.job("Inköpare 2")).await;
    assert_eq!(balance(app, &key).await, 3);

    let r = app.admin(Method::POST, &format!("/api/v1/invoices/{invoice_id}/cancel"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["kind"], "credit_note");
    assert_eq!(r.body["credited_invoice_id"], invoice_id);
    assert_eq!(r.body["total_ore"], 612_500);
    let credit_note = r.body["id"].as_i64().unwrap();
    let invoice = app.admin(Method::GET, &format!("/api/v1/invoices/{invoice_id}"), None).await;
    assert_eq!(invoice.body["status"], "cancelled");
    assert_eq!(r.body["number"].as_i64().unwrap(), invoice.body["number"].as_i64().unwrap() + 1);
    assert_eq!(balance(app, &key).await, 0, "the unused three are taken back");

    // Once only; a cancelled invoice is not paid.
    let again = app.admin(Method::POST, &format!("/api/v1/invoices/{invoice_id}/cancel"), None).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(
        app.admin(Method::POST, &format!("/api/v1/invoices/{invoice_id}/paid"), None).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.admin(Method::POST, &format!("/api/v1/invoices/{credit_note}/cancel"), None).await.status,
        StatusCode::CONFLICT
    );

    // The credit note's UBL names the invoice and passes Peppol's rules.
    let xml = app.call(Method::GET, &format!("/api/v1/invoices/{credit_note}.xml"), Some(&key), None).await;
    assert!(xml.text.contains("<CreditNote") && xml.text.contains("<cac:BillingReference>"), "{}", xml.text);
    let inv = app.admin(Method::GET, &format!("/api/v1/invoices/{invoice_id}.xml"), None).await;
    if let Some((code, report)) = platsen_tests::peppol_validate(&[
        (format!("cancelled-invoice-{}", app.store.backend()), inv.text),
        (format!("credit-note-{}", app.store.backend()), xml.text),
    ]) {
        assert_eq!(code, Some(0), "{report}");
    }

    // The month's archive holds both, as files named by number.
    let month = platsen_jobs::validate::today_in_sweden(app.clock.now()).format("%Y-%m").to_string();
    let r = app
        .client
        .get(app.url(&format!("/api/v1/invoices/archive?month={month}")))
        .bearer_auth(platsen_tests::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
    assert_eq!(zip.len(), 2);
    let names: Vec<String> = (0..zip.len()).map(|i| zip.by_index(i).unwrap().name().to_owned()).collect();
    assert!(names[0].ends_with("-invoice.xml") && names[1].ends_with("-credit_note.xml"), "{names:?}");
}

async fn billing_modes_free_prepaid_and_agreement(app: &TestApp) {
    // Made by the operator: free unless told otherwise; publishes as before.
    let (employer_id, key) = app.employer_with_key("Operatörens egen").await;
    app.publish_job(&key, app.job("Gratis annons")).await;
    let r = app.call(Method::GET, "/api/v1/account/credits", Some(&key), None).await;
    assert_eq!(r.body["billing_mode"], "free");

    // Prepaid without credits: 402.
    let r = app
        .admin(Method::PATCH, &format!("/api/v1/employers/{employer_id}"), Some(json!({ "billing_mode": "prepaid" })))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["billing_mode"], "prepaid");
    let draft = app.post_job(&key, app.job("Betald annons")).await;
    app.call(Method::POST, &format!("/api/v1/jobs/{draft}/publish"), Some(&key), None)
        .await
        .assert_problem_kind(402, "no-credit");

    // Garbage modes are named.
    for bad in [json!("gratis"), json!(""), json!(3)] {
        let r = app
            .admin(Method::PATCH, &format!("/api/v1/employers/{employer_id}"), Some(json!({ "billing_mode": bad })))
            .await;
        assert!(matches!(r.status.as_u16(), 400 | 422), "{bad}: {}", r.text);
        assert!(r.text.contains("billing_mode"), "{}", r.text);
    }
    let r = app
        .admin(
            Method::POST,
            "/api/v1/employers",
            Some(json!({ "name": "X", "organization_number": platsen_tests::org_number(), "billing_mode": "<b>" })),
        )
        .await;
    r.assert_problem(422, "billing_mode");

    // Agreement: publishes freely; the month's run invoices each ad once.
    let std_product = product(app, "Standardannons", 1, false).await;
    let approval = bought(app, std_product, 1, "212000-0191", "d@example.org").await;
    let agreement = approval["employer_id"].as_i64().unwrap();
    let r = app
        .admin(Method::PATCH, &format!("/api/v1/employers/{agreement}"), Some(json!({ "billing_mode": "agreement" })))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let key = app.create_key(agreement).await;
    let mut ads = Vec::new();
    for n in 0..3 {
        ads.push(app.publish_job(&key, app.job(&format!("Avtalsannons {n}"))).await);
    }
    assert_eq!(balance(app, &key).await, 1, "an agreement customer's credits are left alone");
    // Closed and reopened in the month: still one ad on the invoice.
    for step in ["close", "reopen"] {
        let r = app.call(Method::POST, &format!("/api/v1/jobs/{}/{step}", ads[0]), Some(&key), None).await;
        assert_eq!(r.status, StatusCode::OK, "{step}: {}", r.text);
    }
    // An agreement customer's ad is not held to a paid period: its run
    // follows a later deadline.
    let later = app.date_in(55);
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/jobs/{}", ads[1]),
            Some(&key),
            Some(json!({ "application_deadline": later })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let expires = chrono::DateTime::parse_from_rfc3339(r.body["expires_at"].as_str().unwrap()).unwrap();
    assert!(expires.with_timezone(&chrono::Utc) > app.clock.now() + chrono::Duration::days(50), "{}", r.text);
    let month = platsen_jobs::validate::today_in_sweden(app.clock.now()).format("%Y-%m").to_string();
    let r = app.admin(Method::POST, &format!("/api/v1/invoices/monthly?month={month}"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let invoices = r.body["invoices"].as_array().unwrap();
    assert_eq!(invoices.len(), 1, "{}", r.text);
    assert_eq!(invoices[0]["lines"].as_array().unwrap().len(), 3);
    assert_eq!(invoices[0]["period"], month);
    assert_eq!(invoices[0]["net_ore"], 3 * 490_000);
    let again = app.admin(Method::POST, &format!("/api/v1/invoices/monthly?month={month}"), None).await;
    assert_eq!(again.body["invoices"], json!([]), "nothing is invoiced twice");
    app.admin(Method::POST, "/api/v1/invoices/monthly?month=2026-1", None).await.assert_problem(400, "month");
    if let Some((code, report)) = platsen_tests::peppol_validate(&[(
        format!("agreement-{}", app.store.backend()),
        app.admin(Method::GET, &format!("/api/v1/invoices/{}.xml", invoices[0]["id"]), None).await.text,
    )]) {
        assert_eq!(code, Some(0), "{report}");
    }
}

async fn sixteen_publications_race_for_five_credits(app: &TestApp) {
    let package = product(app, "Annonspaket 5", 5, false).await;
    let approval = bought(app, package, 1, "212000-0209", "e@example.org").await;
    let key = app.create_key(approval["employer_id"].as_i64().unwrap()).await;
    let mut drafts = Vec::new();
    for n in 0..16 {
        drafts.push(app.post_job(&key, app.job(&format!("Kapplöpning {n}"))).await);
    }
    let results = futures_util::future::join_all(drafts.iter().map(|id| {
        let path = format!("/api/v1/jobs/{id}/publish");
        let key = key.clone();
        async move { app.call(Method::POST, &path, Some(&key), None).await }
    }))
    .await;
    let published = results.iter().filter(|r| r.status == StatusCode::OK).count();
    let refused = results.iter().filter(|r| r.status == StatusCode::PAYMENT_REQUIRED).count();
    assert_eq!((published, refused), (5, 11), "{:?}", results.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(balance(app, &key).await, 0);
    let open = app.get(&format!("/api/v1/jobs?employer={}", approval["employer_id"])).await;
    assert_eq!(open.body["total"], 5, "{}", open.text);
}

async fn fifty_approvals_at_once_number_invoices_without_gap(app: &TestApp) {
    let one = product(app, "Standardannons", 1, false).await;
    let mut ids = Vec::new();
    for n in 0..50 {
        let org = platsen_tests::org_number();
        let o = app
            .store
            .create_order(order_input(one, 1, &org, &format!("k{n}@example.org")), app.clock.now())
            .await
            .unwrap();
        ids.push(o.id);
    }
    let results = futures_util::future::join_all(ids.iter().map(|id| {
        let path = format!("/api/v1/orders/{id}/approve");
        async move { app.admin(Method::POST, &path, None).await }
    }))
    .await;
    for r in &results {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let list = app.admin(Method::GET, "/api/v1/invoices", None).await;
    let mut numbers: Vec<i64> = list.body.as_array().unwrap().iter().map(|i| i["number"].as_i64().unwrap()).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=50).collect::<Vec<_>>());
}

async fn a_reviewed_ad_uses_its_credit_when_it_is_approved(app: &TestApp) {
    let one = product(app, "Standardannons", 1, false).await;
    let approval = bought(app, one, 1, "212000-0217", "f@example.org").await;
    let employer_id = approval["employer_id"].as_i64().unwrap();
    let r = app
        .admin(Method::PATCH, &format!("/api/v1/employers/{employer_id}"), Some(json!({ "requires_review": true })))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let key = app.create_key(employer_id).await;

    // Sent to review: the credit is checked, not used.
    let first = app.post_job(&key, app.job("Granskad annons")).await;
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{first}/publish"), Some(&key), None).await;
    assert_eq!(r.body["status"], "pending_review", "{}", r.text);
    assert_eq!(balance(app, &key).await, 1);
    // Approved: published, and the credit is used then.
    let r = app.admin(Method::POST, &format!("/api/v1/jobs/{first}/approve"), None).await;
    assert_eq!(r.body["status"], "published", "{}", r.text);
    assert_eq!(balance(app, &key).await, 0);

    // With nothing left, an ad cannot even be sent to review.
    let second = app.post_job(&key, app.job("Ingen kredit")).await;
    app.call(Method::POST, &format!("/api/v1/jobs/{second}/publish"), Some(&key), None)
        .await
        .assert_problem_kind(402, "no-credit");
}

// ----- an upgrade: employers made before billing ---------------------------

/// The schema version before billing modes and credits.
const BEFORE_BILLING: i64 = 13;

/// An employer and one of its ads, as the previous version stored them.
async fn seed_employer_before_billing(db: platsen_tests::OldDatabase) {
    let now = chrono::Utc::now();
    macro_rules! seed {
        ($pool:expr) => {
            sqlx::query(
                "insert into employers (slug, name, organization_number, requires_review, is_demo, created_at,
                                        updated_at, name_sort)
                 values ('gamla-kommunen', 'Gamla kommunen', '212000-0233', false, false, $1, $1, 'gamla kommunen')",
            )
            .bind(now)
            .execute($pool)
            .await
            .unwrap()
        };
    }
    match &db {
        platsen_tests::OldDatabase::Sqlite(pool) => {
            seed!(pool);
        }
        platsen_tests::OldDatabase::Postgres(pool) => {
            seed!(pool);
        }
    }
}

/// After the upgrade, an employer that existed is free: its integration
/// publishes as before, with no credits.
async fn an_employer_from_before_billing_publishes_as_before(app: &TestApp) {
    let employer =
        app.store.employer(&platsen_jobs::IdOrSlug::Slug("gamla-kommunen".into()), app.clock.now()).await.unwrap();
    assert_eq!(employer.billing_mode, platsen_jobs::model::BillingMode::Free);
    let key = app.create_key(employer.id).await;
    app.publish_job(&key, app.job("Upphandlare efter uppgraderingen")).await;
    let r = app.call(Method::GET, "/api/v1/account/credits", Some(&key), None).await;
    assert_eq!((r.body["billing_mode"].as_str(), r.body["balance"].as_i64()), (Some("free"), Some(0)), "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_employers_from_before_billing_publish_as_before() {
    let app = TestApp::sqlite_upgraded_from(BEFORE_BILLING, seed_employer_before_billing).await;
    an_employer_from_before_billing_publishes_as_before(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_employers_from_before_billing_publish_as_before() {
    let Some(app) = TestApp::postgres_upgraded_from(BEFORE_BILLING, seed_employer_before_billing).await else {
        return;
    };
    an_employer_from_before_billing_publishes_as_before(&app).await;
    app.stop().await;
}

/// An ad in several municipalities is one ad: one credit, whatever its places.
async fn an_ad_in_several_places_uses_one_credit(app: &TestApp) {
    let std_product = product(app, "Standardannons", 1, false).await;
    let approval = bought(app, std_product, 1, &platsen_tests::org_number(), "k@example.org").await;
    let key = app.create_key(approval["employer_id"].as_i64().unwrap()).await;
    assert_eq!(balance(app, &key).await, 1);
    let places = json!({ "municipality_codes": ["0182", "0120", "0138", "1480"] });
    app.publish_job(&key, with(app.job("Upphandlare i fyra kommuner"), places)).await;
    assert_eq!(balance(app, &key).await, 0);
    let next = app.post_job(&key, app.job("Nästa annons")).await;
    app.call(Method::POST, &format!("/api/v1/jobs/{next}/publish"), Some(&key), None)
        .await
        .assert_problem_kind(402, "no-credit");
}
