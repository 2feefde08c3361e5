//! `/platsannonsera` and the billing pages over HTTP, on both databases: the
//! offer with live figures and products, the order form (field errors next
//! to the fields with what was typed kept, a honeypot, CSRF, garbage in
//! every field storing nothing), the operator's `/konto/ordrar` (approve,
//! reject with a reason), the invited contact's dashboard (balance,
//! orders, invoices), the refusal to publish without a credit with the way
//! to order more, and the printable invoice kept from other employers.

use platsen_tests::{TestApp, contract};
use reqwest::Method;
use serde_json::json;

use crate::konto::{PASSWORD, Visitor};

contract!(
    a_visitor_orders_on_the_page_and_the_operator_approves_in_konto,
    garbage_in_the_order_form_is_named_next_to_its_field_and_stores_nothing,
    the_operator_adds_and_retires_products_on_the_admin_page,
    the_offer_counts_searches_and_views_live,
);

async fn standard_products(app: &TestApp) -> i64 {
    platsen_jobs::demo::seed_products_if_empty(&app.store, app.clock.now()).await.expect("demo products");
    let products = app.get("/api/v1/products").await;
    products.body.as_array().unwrap().iter().find(|p| p["name"] == "Annonspaket 5").unwrap()["id"].as_i64().unwrap()
}

fn order_form<'a>(csrf: &'a str, product: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("webbplats", ""),
        ("product_id", product),
        ("quantity", "1"),
        ("organization_name", "Värmdö kommun"),
        ("organization_number", "212000-0209"),
        ("invoice_address.street", "Skogsbovägen 9"),
        ("invoice_address.postal_code", "134 81"),
        ("invoice_address.city", "Gustavsberg"),
        ("peppol_id", ""),
        ("buyer_reference", "HR 4711"),
        ("order_number", ""),
        ("invoice_email", "faktura@varmdo.se"),
        ("contact.name", "Eva Berg"),
        ("contact.email", "eva.berg@varmdo.se"),
        ("contact.phone", "08-570 470 00"),
        ("accept_terms", "1"),
    ]
}

async fn a_visitor_orders_on_the_page_and_the_operator_approves_in_konto(app: &TestApp) {
    let package = standard_products(app).await.to_string();
    let mut visitor = Visitor::new(app);
    let offer = visitor.get("/platsannonsera").await;
    assert_eq!(offer.status, 200, "{}", offer.body);
    for text in ["Lediga jobb", "Sökningar senaste 30 dagarna", "Annonspaket 5", "19 900 kr", "Villkor", "Google"] {
        assert!(offer.body.contains(text), "{text} missing");
    }
    let home = app.get("/").await;
    assert!(home.text.contains(r#"href="/platsannonsera""#), "the header links the offer");

    // One field wrong: named next to it, what was typed kept, nothing stored.
    let csrf = offer.csrf();
    let mut form = order_form(&csrf, &package);
    form.retain(|(k, _)| *k != "organization_number");
    form.push(("organization_number", "212000-0208"));
    let wrong = visitor.post("/platsannonsera", &form).await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(wrong.field_error("organization_number").is_some(), "{}", wrong.body);
    assert!(wrong.body.contains(r#"value="Skogsbovägen 9""#), "what was typed is kept");
    assert!(app.store.orders(10).await.unwrap().is_empty());

    // Right: a number, a confirmation mail.
    let csrf = wrong.csrf();
    let done = visitor.post("/platsannonsera", &order_form(&csrf, &package)).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(done.location().starts_with("/platsannonsera/tack?bestallning=B-"), "{}", done.location());
    let thanks = visitor.get(done.location()).await;
    let orders = app.store.orders(10).await.unwrap();
    assert_eq!(orders.len(), 1);
    assert!(thanks.body.contains(&orders[0].number()));
    app.smtp.wait_for("eva.berg@varmdo.se").await;

    // The operator approves it in /konto/ordrar.
    let admin_id = app.store.create_user(None, "drift@platsen.test", PASSWORD, true, app.clock.now()).await.unwrap().id;
    assert!(admin_id > 0);
    let mut operator = Visitor::new(app);
    operator.sign_in("drift@platsen.test", PASSWORD).await;
    let page = operator.get("/konto/ordrar").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&format!("Godkänn {}", orders[0].number())));
    let csrf = page.csrf();
    let approved =
        operator.post(&format!("/konto/ordrar/{}", orders[0].id), &[("csrf", &csrf), ("action", "godkann")]).await;
    assert_eq!(approved.status, 303, "{}", approved.body);
    let order = app.store.order(orders[0].id).await.unwrap();
    let invoice_id = order.invoice_id.expect("an invoice");
    let invoice = operator.get(&format!("/konto/fakturor/{invoice_id}")).await;
    assert!(invoice.body.contains("Att betala") && invoice.body.contains("24 875 kr"), "{}", invoice.body);
    let xml = operator.get(&format!("/konto/fakturor/{invoice_id}/xml")).await;
    assert!(xml.body.starts_with("<?xml"), "{}", xml.body);

    // The contact chooses a password from the invitation and signs in.
    let mail = platsen_tests::eventually(10, "the invitation", || async {
        app.smtp.mails_to("eva.berg@varmdo.se").iter().any(|m| m.body().contains("valkommen=1"))
    });
    mail.await;
    let body =
        app.smtp.mails_to("eva.berg@varmdo.se").into_iter().find(|m| m.body().contains("valkommen=1")).unwrap().body();
    let token = body.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let mut eva = Visitor::new(app);
    let reset = eva.get(&format!("/konto/aterstall?valkommen=1&token={token}")).await;
    let csrf = reset.csrf();
    let chosen = eva
        .post(
            "/konto/aterstall",
            &[("csrf", &csrf), ("token", &token), ("password", PASSWORD), ("password_again", PASSWORD)],
        )
        .await;
    assert!(chosen.status < 400, "{}", chosen.body);
    eva.sign_in("eva.berg@varmdo.se", PASSWORD).await;
    let dashboard = eva.get("/konto").await;
    assert!(dashboard.body.contains("5 annonser kvar"), "{}", dashboard.body);
    assert!(
        dashboard.body.contains(&order.number()) && dashboard.body.contains(&format!("/konto/fakturor/{invoice_id}"))
    );

    // Five ads use the five; the sixth is refused with the way to order more.
    let employer_id = order.employer_id.unwrap();
    let key = app.create_key(employer_id).await;
    for n in 0..5 {
        app.publish_job(&key, app.job(&format!("Upphandlare {n}"))).await;
    }
    let sixth = app.post_job(&key, app.job("Den sjätte")).await;
    let edit = eva.get(&format!("/konto/annonser/{sixth}")).await;
    let csrf = edit.csrf();
    let refused =
        eva.post(&format!("/konto/annonser/{sixth}/status"), &[("csrf", &csrf), ("action", "publicera")]).await;
    assert_eq!(refused.status, 402, "{}", refused.body);
    assert!(refused.body.contains(r#"id="no-credit""#) && refused.body.contains(r#"href="/platsannonsera""#));

    // Another employer's user sees neither the invoice nor its document.
    let (other, _) = app.employer_with_key("Nacka kommun").await;
    app.create_user(other, "ola@nacka.se", PASSWORD).await;
    let mut ola = Visitor::new(app);
    ola.sign_in("ola@nacka.se", PASSWORD).await;
    assert_eq!(ola.get(&format!("/konto/fakturor/{invoice_id}")).await.status, 404);
    assert_eq!(ola.get(&format!("/konto/fakturor/{invoice_id}/xml")).await.status, 404);
    assert_eq!(ola.get("/konto/ordrar").await.status, 404);
    let r = app.call(Method::GET, &format!("/api/v1/invoices/{invoice_id}"), None, None).await;
    assert_eq!(r.status.as_u16(), 401);
}

async fn garbage_in_the_order_form_is_named_next_to_its_field_and_stores_nothing(app: &TestApp) {
    let package = standard_products(app).await;
    let retired = app.admin(Method::POST, "/api/v1/products", Some(json!({
        "name": "Gammal", "description": "Utgår.", "price_ore": 100, "ad_credits": 1, "ad_days": 30, "credit_valid_days": 30
    }))).await.body["id"].as_i64().unwrap();
    app.admin(Method::POST, &format!("/api/v1/products/{retired}/retire"), None).await;
    let mut visitor = Visitor::new(app);
    let csrf = visitor.get("/platsannonsera").await.csrf();
    let package = package.to_string();
    let retired = retired.to_string();
    let cases: Vec<(&str, &str, &str)> = vec![
        ("organization_number", "1234", "organization_number"),
        ("peppol_id", "0007:2120000208", "peppol_id"),
        ("peppol_id", "9999:abc", "peppol_id"),
        ("buyer_reference", "", "buyer_reference"),
        ("quantity", "0", "quantity"),
        ("quantity", "1000000000", "quantity"),
        ("quantity", "två", "quantity"),
        ("product_id", "999999", "product_id"),
        ("product_id", &retired, "product_id"),
        ("organization_name", "<script>alert(1)</script>", "organization_name"),
        ("contact.email", "inte en adress", "contact-email"),
        ("invoice_address.postal_code", "1", "invoice_address-postal_code"),
        ("contact.phone", "ring mig", "contact-phone"),
    ];
    for (field, value, id) in cases {
        let mut form = order_form(&csrf, &package);
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let r = visitor.post("/platsannonsera", &form).await;
        assert_eq!(r.status, 422, "{field}={value}: {}", r.body);
        assert!(r.field_error(id).is_some(), "{field}={value}: no message next to #{id}");
        assert!(!r.body.contains("<script>alert(1)</script>"), "typed HTML is escaped");
    }
    // Terms not accepted.
    let mut form = order_form(&csrf, &package);
    form.retain(|(k, _)| *k != "accept_terms");
    assert!(visitor.post("/platsannonsera", &form).await.field_error("accept_terms").is_some());
    // A bot fills in the honeypot; a post without the token is refused.
    let mut form = order_form(&csrf, &package);
    form.retain(|(k, _)| *k != "webbplats");
    form.push(("webbplats", "https://spam.example"));
    assert_eq!(visitor.post("/platsannonsera", &form).await.status, 400);
    let mut stranger = Visitor::new(app);
    assert_eq!(stranger.post("/platsannonsera", &order_form("fel", &package)).await.status, 403);
    assert!(app.store.orders(10).await.unwrap().is_empty(), "nothing was stored");
}

async fn the_operator_adds_and_retires_products_on_the_admin_page(app: &TestApp) {
    app.store.create_user(None, "drift@platsen.test", PASSWORD, true, app.clock.now()).await.unwrap();
    let mut operator = Visitor::new(app);
    operator.sign_in("drift@platsen.test", PASSWORD).await;
    let page = operator.get("/konto/produkter").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.csrf();
    let good = [
        ("csrf", csrf.as_str()),
        ("name", "Annonspaket 10"),
        ("description", "Tio annonser under ett år."),
        ("price", "35 000"),
        ("vat_percent", "25"),
        ("ad_credits", "10"),
        ("ad_days", "30"),
        ("credit_valid_days", "365"),
    ];
    // Garbage in each field is named next to it, and nothing is stored.
    for (field, value) in [
        ("name", ""),
        ("price", "trettiofemtusen"),
        ("price", "-5"),
        ("vat_percent", "20"),
        ("ad_credits", "0"),
        ("ad_days", "61"),
        ("ad_days", "tre"),
        ("credit_valid_days", "100000"),
    ] {
        let mut form: Vec<(&str, &str)> = good.iter().filter(|(k, _)| *k != field).copied().collect();
        form.push((field, value));
        let r = operator.post("/konto/produkter", &form).await;
        assert_eq!(r.status, 422, "{field}={value}: {}", r.body);
        assert!(r.field_error(field).is_some(), "{field}={value}: no message next to the field");
    }
    assert!(app.store.products(true).await.unwrap().is_empty());

    let r = operator.post("/konto/produkter", &good).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let made = app.store.products(false).await.unwrap();
    assert_eq!(made.len(), 1);
    assert_eq!((made[0].price_ore, made[0].ad_credits, made[0].vat_percent), (3_500_000, 10, 25));
    assert!(app.get("/platsannonsera").await.text.contains("Annonspaket 10"));

    let page = operator.get("/konto/produkter").await;
    let csrf = page.csrf();
    let r = operator.post(&format!("/konto/produkter/{}/utga", made[0].id), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(app.store.products(false).await.unwrap().is_empty(), "retired: no longer offered");
    assert_eq!(app.store.products(true).await.unwrap().len(), 1, "but kept");

    // Not for employers' users.
    let (employer, _) = app.employer_with_key("Nacka kommun").await;
    app.create_user(employer, "ola@nacka.se", PASSWORD).await;
    let mut ola = Visitor::new(app);
    ola.sign_in("ola@nacka.se", PASSWORD).await;
    assert_eq!(ola.get("/konto/produkter").await.status, 404);
}

/// The figure after a label on the offer page.
fn figure(body: &str, label: &str) -> String {
    let at = body.find(&format!("<dt>{label}</dt>")).unwrap_or_else(|| panic!("no {label}"));
    let rest = &body[at..];
    let start = rest.find(r#"<dd class="big">"#).unwrap() + r#"<dd class="big">"#.len();
    rest[start..start + rest[start..].find("</dd>").unwrap()].to_owned()
}

async fn the_offer_counts_searches_and_views_live(app: &TestApp) {
    let (_, key) = app.employer_with_key("Nacka kommun").await;
    let id = app.publish_job(&key, app.job("Upphandlare till Nacka")).await;
    let slug = app.get(&format!("/api/v1/jobs/{id}")).await.body["slug"].as_str().unwrap().to_owned();
    let before = app.get("/platsannonsera").await.text;
    assert_eq!(figure(&before, "Lediga jobb"), "1");
    assert_eq!(figure(&before, "Sökningar senaste 30 dagarna"), "0");
    assert_eq!(figure(&before, "Visade annonser senaste 30 dagarna"), "0");
    // Three searches through the API, one on the search page, one ad viewed.
    for q in ["upphandlare", "inkopare", "nacka"] {
        assert_eq!(app.get(&format!("/api/v1/jobs/search?q={q}")).await.status.as_u16(), 200);
    }
    assert_eq!(app.get("/jobb?q=avtal").await.status.as_u16(), 200);
    assert_eq!(app.get(&format!("/jobb/{slug}")).await.status.as_u16(), 200);
    // A batch may still be on its way to the database from the background.
    platsen_tests::eventually(10, "the counts on the offer page", || async {
        let after = app.get("/platsannonsera").await.text;
        figure(&after, "Sökningar senaste 30 dagarna") == "4"
            && figure(&after, "Visade annonser senaste 30 dagarna") == "1"
    })
    .await;
    assert_eq!(figure(&app.get("/platsannonsera").await.text, "Aktiva jobbevakningar"), "0");
}
