//! Products: the operator defines the offer (create, change, retire), anyone
//! reads it, garbage is refused with the field named and nothing stored, and
//! the demo board seeds its three products.

use platsen_tests::{TestApp, with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

platsen_tests::contract!(
    the_operator_defines_products_and_anyone_reads_the_offer,
    garbage_products_are_refused_and_nothing_is_stored,
);

fn standard() -> Value {
    json!({
        "name": "Standardannons",
        "description": "En annons i 30 dagar.",
        "price_ore": 490_000,
        "ad_credits": 1,
        "ad_days": 30,
        "credit_valid_days": 365
    })
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect()
}

async fn the_operator_defines_products_and_anyone_reads_the_offer(app: &TestApp) {
    assert_eq!(app.get("/api/v1/products").await.body, json!([]), "no offer yet");
    let r = app.admin(Method::POST, "/api/v1/products", Some(standard())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.header("location"), Some(format!("/api/v1/products/{id}").as_str()));
    assert_eq!(r.body["vat_percent"], 25, "25 % unless told otherwise");
    assert_eq!(r.body["vat_ore"], 122_500);
    assert_eq!(r.body["featured"], false);
    let premium = with(standard(), json!({ "name": "Premium <&> \"å\"", "price_ore": 890_000, "featured": true }));
    let r = app.admin(Method::POST, "/api/v1/products", Some(premium)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let premium_id = r.body["id"].as_i64().unwrap();

    // Anyone reads the offer, cheapest first; names are text, kept as given.
    let offer = app.get("/api/v1/products").await;
    assert_eq!(offer.status, StatusCode::OK);
    assert_eq!(names(&offer.body), ["Standardannons", "Premium <&> \"å\""]);

    // A change applies from now on; what is left out stays.
    let r = app.admin(Method::PATCH, &format!("/api/v1/products/{id}"), Some(json!({ "price_ore": 990_000 }))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!((r.body["price_ore"].as_i64(), r.body["ad_days"].as_i64()), (Some(990_000), Some(30)));
    assert_eq!(names(&app.get("/api/v1/products").await.body), ["Premium <&> \"å\"", "Standardannons"]);

    // Retired: no longer offered, still in the operator's list; twice is harmless.
    for _ in 0..2 {
        let r = app.admin(Method::POST, &format!("/api/v1/products/{premium_id}/retire"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert!(r.body["retired_at"].is_string(), "{}", r.text);
    }
    assert_eq!(names(&app.get("/api/v1/products").await.body), ["Standardannons"]);
    let all = app.admin(Method::GET, "/api/v1/admin/products", None).await;
    assert_eq!(names(&all.body).len(), 2, "{}", all.text);

    // Only the operator defines the offer.
    let (_, key) = app.employer_with_key("Nacka kommun").await;
    let r = app.call(Method::POST, "/api/v1/products", Some(&key), Some(standard())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = app.call(Method::POST, "/api/v1/products", None, Some(standard())).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let r = app.call(Method::GET, "/api/v1/admin/products", Some(&key), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r =
        app.call(Method::PATCH, &format!("/api/v1/products/{id}"), Some(&key), Some(json!({ "price_ore": 1 }))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = app.admin(Method::PATCH, "/api/v1/products/999999", Some(json!({ "price_ore": 1 }))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = app.admin(Method::POST, "/api/v1/products/999999/retire", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
}

async fn garbage_products_are_refused_and_nothing_is_stored(app: &TestApp) {
    for (extra, field) in [
        (json!({ "name": "" }), "name"),
        (json!({ "name": "x" }), "name"),
        (json!({ "name": "x".repeat(81) }), "name"),
        (json!({ "name": "Annons\u{202e}" }), "name"),
        (json!({ "description": "d".repeat(1001) }), "description"),
        (json!({ "price_ore": -1 }), "price_ore"),
        (json!({ "price_ore": 1_000_000_000_i64 }), "price_ore"),
        (json!({ "vat_percent": 13 }), "vat_percent"),
        (json!({ "vat_percent": -25 }), "vat_percent"),
        (json!({ "vat_percent": 0 }), "vat_percent"),
        (json!({ "ad_credits": 0 }), "ad_credits"),
        (json!({ "ad_credits": 101 }), "ad_credits"),
        (json!({ "ad_days": 0 }), "ad_days"),
        (json!({ "ad_days": 61 }), "ad_days"),
        (json!({ "credit_valid_days": 0 }), "credit_valid_days"),
        (json!({ "credit_valid_days": 1096 }), "credit_valid_days"),
    ] {
        let r = app.admin(Method::POST, "/api/v1/products", Some(with(standard(), extra.clone()))).await;
        r.assert_problem(422, field);
    }
    // The wrong type, a missing field, an unknown field: named, 400 or 422.
    for (body, field) in [
        (with(standard(), json!({ "price_ore": "4900 kr" })), "price_ore"),
        (with(standard(), json!({ "featured": "ja" })), "featured"),
        (with(standard(), json!({ "price_ore": 1.5 })), "price_ore"),
        (json!({ "name": "Standardannons" }), "price_ore"),
        (with(standard(), json!({ "discount": 10 })), "discount"),
    ] {
        let r = app.admin(Method::POST, "/api/v1/products", Some(body.clone())).await;
        assert!(matches!(r.status.as_u16(), 400 | 422), "{body}: {}", r.text);
        assert!(r.text.contains(field), "{body} names {field}: {}", r.text);
    }
    let all = app.admin(Method::GET, "/api/v1/admin/products", None).await;
    assert_eq!(all.body, json!([]), "nothing stored");

    // A bad change leaves the product as it was.
    let id = app.admin(Method::POST, "/api/v1/products", Some(standard())).await.body["id"].as_i64().unwrap();
    let path = format!("/api/v1/products/{id}");
    let r = app.admin(Method::PATCH, &path, Some(json!({ "ad_days": 90, "name": "Nytt namn" }))).await;
    r.assert_problem(422, "ad_days");
    assert_eq!(names(&app.get("/api/v1/products").await.body), ["Standardannons"]);
}

/// `cargo run` shows an offer: the demo board seeds its three products once.
#[tokio::test]
async fn the_demo_board_seeds_its_offer_once() {
    let dir = std::env::temp_dir().join(format!("platsen-offer-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite:{}", dir.join("demo.db").display());
    let config = platsen::ServerConfig { demo: true, ..Default::default() };
    for _ in 0..2 {
        let store = platsen::open_store(&url).await.unwrap();
        let running = platsen::start(store, config.clone(), platsen_app::Clock::default()).await.unwrap();
        let offer: Value =
            reqwest::get(format!("http://{}/api/v1/products", running.addr)).await.unwrap().json().await.unwrap();
        assert_eq!(names(&offer), ["Standardannons", "Premiumannons", "Annonspaket 5"]);
        assert_eq!(offer[1]["featured"], true);
        assert_eq!((offer[2]["ad_credits"].as_i64(), offer[2]["credit_valid_days"].as_i64()), (Some(5), Some(365)));
        running.shutdown().await.unwrap();
    }
    let _ = std::fs::remove_dir_all(dir);
}
