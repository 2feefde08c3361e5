//! Orders through the API: a buyer orders without an account, gets a
//! number and a confirmation mail; the operator lists and rejects (the
//! reason is mailed); garbage in every field is refused with the field
//! named and nothing stored; only the operator sees orders.

use platsen_tests::{TestApp, with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

platsen_tests::contract!(
    a_buyer_orders_ads_and_the_operator_rejects_with_a_reason,
    garbage_orders_are_refused_and_nothing_is_stored,
);

async fn product(app: &TestApp, name: &str) -> i64 {
    let body = json!({
        "name": name, "price_ore": 1_990_000, "ad_credits": 5, "ad_days": 30, "credit_valid_days": 365
    });
    let r = app.admin(Method::POST, "/api/v1/products", Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_i64().unwrap()
}

fn order(product_id: i64) -> Value {
    json!({
        "organization_name": "Nacka kommun",
        "organization_number": "212000-0167",
        "invoice_address": { "street": "Granitvägen 15", "postal_code": "13181", "city": "Nacka" },
        "buyer_reference": "Anna Lind",
        "invoice_email": "faktura@nacka.se",
        "contact": { "name": "Anna Lind", "email": "anna.lind@nacka.se", "phone": "08-718 80 00" },
        "product_id": product_id,
        "quantity": 2,
        "accept_terms": true
    })
}

async fn a_buyer_orders_ads_and_the_operator_rejects_with_a_reason(app: &TestApp) {
    let id = product(app, "Annonspaket 5").await;
    let r = app.call(Method::POST, "/api/v1/orders", None, Some(order(id))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let order_id = r.body["id"].as_i64().unwrap();
    let number = r.body["number"].as_str().unwrap().to_owned();
    assert_eq!(number, format!("B-{order_id:06}"));
    assert_eq!(r.body["status"], "pending");
    let mail = app.smtp.wait_for("anna.lind@nacka.se").await;
    let body = mail.body();
    assert!(body.contains(&number) && body.contains("2 × Annonspaket 5"), "{body}");
    assert!(body.contains("39 800 kr exkl. moms") && body.contains("0007:2120000167"), "{body}");

    // A GLN under 0088, and an order number of the buyer's own.
    let gln = with(order(id), json!({ "peppol_id": "0088:7350000000009", "order_number": "PO <4711> & \"å\"" }));
    let r = app.call(Method::POST, "/api/v1/orders", None, Some(gln)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // The operator sees them, pending first, the product as it was ordered.
    app.admin(Method::PATCH, &format!("/api/v1/products/{id}"), Some(json!({ "price_ore": 1 }))).await;
    let list = app.admin(Method::GET, "/api/v1/orders", None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let orders = list.body.as_array().unwrap();
    assert_eq!(orders.len(), 2);
    assert_eq!(orders[0]["peppol_id"], "0088:7350000000009");
    assert_eq!(orders[0]["order_number"], "PO <4711> & \"å\"");
    assert_eq!(orders[1]["unit_price_ore"], 1_990_000, "a later price change does not touch it");
    assert_eq!(orders[1]["net_ore"], 3_980_000);
    assert_eq!(orders[1]["invoice_address"]["postal_code"], "131 81");

    // Rejected with a reason the contact person reads; only once.
    let path = format!("/api/v1/orders/{order_id}/reject");
    let r = app.admin(Method::POST, &path, Some(json!({ "reason": "Organisationen finns inte hos oss." }))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "rejected");
    platsen_tests::eventually(10, "the rejection mail", || async {
        app.smtp.mails_to("anna.lind@nacka.se").iter().any(|m| m.body().contains("Organisationen finns inte hos oss."))
    })
    .await;
    let again = app.admin(Method::POST, &path, Some(json!({ "reason": "Igen, igen." }))).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    app.admin(Method::POST, &path, Some(json!({ "reason": "" }))).await.assert_problem(422, "reason");
    let r = app.admin(Method::POST, "/api/v1/orders/999999/reject", Some(json!({ "reason": "Finns inte." }))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // Orders are the operator's: not an employer's, not anyone's.
    let (_, key) = app.employer_with_key("Värmdö kommun").await;
    for (method, path) in
        [(Method::GET, "/api/v1/orders".to_owned()), (Method::GET, format!("/api/v1/orders/{order_id}"))]
    {
        assert_eq!(app.call(method.clone(), &path, Some(&key), None).await.status, StatusCode::FORBIDDEN);
        assert_eq!(app.call(method, &path, None, None).await.status, StatusCode::UNAUTHORIZED);
    }
    let r = app.call(Method::POST, &path, Some(&key), Some(json!({ "reason": "Jag vill inte." }))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // One address places five orders, then one every ten minutes.
    for _ in 0..3 {
        let r = app.call(Method::POST, "/api/v1/orders", None, Some(order(id))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let r = app.call(Method::POST, "/api/v1/orders", None, Some(order(id))).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert_eq!(app.admin(Method::GET, "/api/v1/orders", None).await.body.as_array().unwrap().len(), 5);
}

async fn garbage_orders_are_refused_and_nothing_is_stored(app: &TestApp) {
    let id = product(app, "Annonspaket 5").await;
    let retired = product(app, "Gammalt paket").await;
    app.admin(Method::POST, &format!("/api/v1/products/{retired}/retire"), None).await;
    for (extra, field) in [
        (json!({ "organization_name": "" }), "organization_name"),
        (json!({ "organization_name": "<" }), "organization_name"),
        (json!({ "organization_number": "212000-0168" }), "organization_number"),
        (json!({ "organization_number": "hej" }), "organization_number"),
        (
            json!({ "invoice_address": { "street": "", "postal_code": "13181", "city": "Nacka" } }),
            "invoice_address.street",
        ),
        (
            json!({ "invoice_address": { "street": "Granitvägen 15", "postal_code": "1318", "city": "Nacka" } }),
            "invoice_address.postal_code",
        ),
        (
            json!({ "invoice_address": { "street": "Granitvägen 15", "postal_code": "13181", "city": "" } }),
            "invoice_address.city",
        ),
        (json!({ "peppol_id": "0007:2120000168" }), "peppol_id"),
        (json!({ "peppol_id": "0088:7350000000008" }), "peppol_id"),
        (json!({ "peppol_id": "9999:123" }), "peppol_id"),
        (json!({ "peppol_id": "2120000167" }), "peppol_id"),
        (json!({ "buyer_reference": "" }), "buyer_reference"),
        (json!({ "buyer_reference": "   " }), "buyer_reference"),
        (json!({ "order_number": "x".repeat(101) }), "order_number"),
        (json!({ "invoice_email": "faktura" }), "invoice_email"),
        (json!({ "contact": { "name": "A", "email": "anna@nacka.se", "phone": "08-718 80 00" } }), "contact.name"),
        (json!({ "contact": { "name": "Anna", "email": "anna@", "phone": "08-718 80 00" } }), "contact.email"),
        (json!({ "contact": { "name": "Anna", "email": "anna@nacka.se", "phone": "ring mig" } }), "contact.phone"),
        (json!({ "product_id": 0 }), "product_id"),
        (json!({ "product_id": 999_999 }), "product_id"),
        (json!({ "product_id": retired }), "product_id"),
        (json!({ "quantity": 0 }), "quantity"),
        (json!({ "quantity": 1_000_000_000_i64 }), "quantity"),
        (json!({ "accept_terms": false }), "accept_terms"),
    ] {
        let r = app.call(Method::POST, "/api/v1/orders", None, Some(with(order(id), extra.clone()))).await;
        r.assert_problem(422, field);
    }
    for (body, field) in [
        (with(order(id), json!({ "quantity": "två" })), "quantity"),
        (with(order(id), json!({ "discount": 10 })), "discount"),
        (json!({ "organization_name": "Nacka kommun" }), "organization_number"),
    ] {
        let r = app.call(Method::POST, "/api/v1/orders", None, Some(body.clone())).await;
        assert!(matches!(r.status.as_u16(), 400 | 422), "{body}: {}", r.text);
        assert!(r.text.contains(field), "{body} names {field}: {}", r.text);
    }
    assert_eq!(app.admin(Method::GET, "/api/v1/orders", None).await.body, json!([]), "nothing stored");
    assert!(app.smtp.mails_to("anna.lind@nacka.se").is_empty(), "no confirmation for a refused order");
}
