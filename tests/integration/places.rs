//! An ad in several municipalities, on both databases: posted through the
//! API and the dashboard form, found by a filter on any of its places and
//! counted once per county in the facets, one JSON-LD `jobLocation` per
//! place, named in lists and feeds, changed by a patch, charged as one ad;
//! unknown, repeated and too many places are refused naming the field, and
//! nothing is stored.

use platsen_tests::{TestApp, with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::konto::{PASSWORD, Visitor, ad_form};
use crate::web::json_ld;

platsen_tests::contract!(
    an_ad_in_several_municipalities_is_found_by_each,
    garbage_places_are_refused_naming_the_field,
    the_dashboard_form_takes_several_places,
);

fn codes(v: &Value) -> Vec<String> {
    v["locations"].as_array().unwrap().iter().map(|l| l["municipality_code"].as_str().unwrap().to_owned()).collect()
}

fn ids(r: &platsen_tests::Reply) -> Vec<i64> {
    let mut ids: Vec<i64> = r.body["items"]
        .as_array()
        .or_else(|| r.body["hits"].as_array())
        .unwrap_or_else(|| panic!("{}", r.text))
        .iter()
        .map(|h| h["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

fn facet(r: &platsen_tests::Reply, dim: &str, value: &str) -> i64 {
    r.body["facets"][dim]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["value"] == value)
        .map_or(0, |f| f["count"].as_i64().unwrap())
}

async fn an_ad_in_several_municipalities_is_found_by_each(app: &TestApp) {
    let (_, key) = app.employer_with_key("Västkustens upphandlingsbolag").await;
    // Göteborg and Härryda (Västra Götaland), Kungsbacka (Halland).
    let body = with(
        app.job("Upphandlare till Västkusten"),
        json!({ "municipality_code": null, "municipality_codes": ["1480", "1401", "1384"] }),
    );
    let id = app.publish_job(&key, body).await;
    let nacka = app.publish_job(&key, app.job("Upphandlare till Nacka")).await;

    let ad = app.get(&format!("/api/v1/jobs/{id}")).await;
    assert_eq!(ad.status, StatusCode::OK, "{}", ad.text);
    assert_eq!(codes(&ad.body), ["1480", "1401", "1384"], "in the employer's order");
    assert_eq!(ad.body["location"]["municipality"], "Göteborg", "the first place is the main one");
    assert_eq!(ad.body["locations"][2]["county"], "Hallands län");
    let single = app.get(&format!("/api/v1/jobs/{nacka}")).await;
    assert_eq!(codes(&single.body), ["0182"], "an ad in one place lists that place");

    // Found by a filter on any of its places or their counties; not by another.
    for (filter, expect) in [
        ("municipality=1480", vec![id]),
        ("municipality=1401", vec![id]),
        ("municipality=1384", vec![id]),
        ("county=13", vec![id]),
        ("county=14", vec![id]),
        ("municipality=0182", vec![nacka]),
        ("municipality=1402", vec![]),
    ] {
        let r = app.get(&format!("/api/v1/jobs/search?{filter}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(ids(&r), expect, "search {filter}: {}", r.text);
        let r = app.get(&format!("/api/v1/jobs?{filter}")).await;
        assert_eq!(ids(&r), expect, "list {filter}: {}", r.text);
    }
    // The facets count the ad once per place and once per county, however
    // many of its places a county holds.
    let r = app.get("/api/v1/jobs/search").await;
    assert_eq!(r.body["total"], 2);
    assert_eq!((facet(&r, "county", "14"), facet(&r, "county", "13"), facet(&r, "county", "01")), (1, 1, 1));
    for m in ["1480", "1401", "1384", "0182"] {
        assert_eq!(facet(&r, "municipality", m), 1, "{m}: {}", r.text);
    }
    let hit = r.body["hits"].as_array().unwrap().iter().find(|h| h["id"] == id).unwrap().clone();
    assert_eq!(codes(&hit), ["1480", "1401", "1384"]);
    // A word of a further place finds it too.
    assert_eq!(ids(&app.get("/api/v1/jobs/search?q=kungsbacka").await), vec![id]);

    // The ad's page names every place, with one JSON-LD jobLocation each.
    let slug = ad.body["slug"].as_str().unwrap();
    let page = app.get(&format!("/jobb/{slug}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Göteborg, Härryda och Kungsbacka"), "{}", page.text);
    let ld = json_ld(&page.text);
    let places = ld["jobLocation"].as_array().unwrap_or_else(|| panic!("an array: {ld}"));
    let localities: Vec<&str> = places.iter().map(|p| p["address"]["addressLocality"].as_str().unwrap()).collect();
    assert_eq!(localities, ["Göteborg", "Härryda", "Kungsbacka"]);
    assert_eq!(places[2]["address"]["addressRegion"], "Hallands län");
    assert!(places.iter().all(|p| p["@type"] == "Place" && p["address"]["addressCountry"] == "SE"));
    // The list page, filtered on a further place, shows it.
    let list = app.get("/jobb?municipality=1384").await;
    assert!(list.text.contains("Upphandlare till Västkusten") && !list.text.contains("Upphandlare till Nacka"));
    // With four places the list shortens, the ad's own page names them all.
    let four = json!({ "municipality_codes": ["1480", "1401", "1384", "1481"] });
    let r = app.call(Method::PATCH, &format!("/api/v1/jobs/{id}"), Some(&key), Some(four)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let page = app.get(&format!("/jobb/{slug}")).await;
    assert!(page.text.contains("Göteborg, Härryda, Kungsbacka och Mölndal"), "{}", page.text);
    let list = app.get("/jobb?municipality=1481").await;
    assert!(list.text.contains("Göteborg, Härryda och 2 orter till"), "{}", list.text);
    let three = json!({ "municipality_codes": ["1480", "1401", "1384"] });
    assert_eq!(app.call(Method::PATCH, &format!("/api/v1/jobs/{id}"), Some(&key), Some(three)).await.status, 200);
    // The JSON feed carries every code.
    let feed = app.get("/feeds/jobs.json?county=13").await;
    assert_eq!(feed.status, StatusCode::OK, "{}", feed.text);
    assert_eq!(feed.body["items"][0]["_platsen"]["municipality_codes"], json!(["1480", "1401", "1384"]));
    assert_eq!(feed.body["items"][0]["_platsen"]["county_codes"], json!(["14", "13"]));

    // A patch replaces the places; the old ones no longer find it.
    let path = format!("/api/v1/jobs/{id}");
    let r = app.call(Method::PATCH, &path, Some(&key), Some(json!({ "municipality_codes": ["1384", "1380"] }))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(codes(&r.body), ["1384", "1380"]);
    assert_eq!(ids(&app.get("/api/v1/jobs/search?municipality=1480").await), Vec::<i64>::new());
    assert_eq!(ids(&app.get("/api/v1/jobs/search?municipality=1380").await), vec![id]);
    // The audit trail records the change of places.
    let audit = app.call(Method::GET, &format!("/api/v1/jobs/{id}/events"), Some(&key), None).await;
    assert!(audit.text.contains("municipality_codes"), "{}", audit.text);
    // The single code, as older clients send it, makes it an ad in one place.
    let r = app.call(Method::PATCH, &path, Some(&key), Some(json!({ "municipality_code": "1480" }))).await;
    assert_eq!(codes(&r.body), ["1480"], "{}", r.text);
    assert_eq!(facet(&app.get("/api/v1/jobs/search").await, "county", "13"), 0);
    // Both, agreeing, are accepted (what a client that read the ad sends back).
    let both = json!({ "municipality_code": "1480", "municipality_codes": ["1480", "1401"] });
    let r = app.call(Method::PATCH, &path, Some(&key), Some(both)).await;
    assert_eq!(codes(&r.body), ["1480", "1401"], "{}", r.text);
    // A client that knows only the single code and sends back what it read
    // keeps the further places; a list of one makes it an ad in one place.
    let old_client = json!({ "title": "Upphandlare till Västkusten", "municipality_code": "1480" });
    let r = app.call(Method::PATCH, &path, Some(&key), Some(old_client)).await;
    assert_eq!(codes(&r.body), ["1480", "1401"], "{}", r.text);
    let r = app.call(Method::PATCH, &path, Some(&key), Some(json!({ "municipality_codes": ["1480"] }))).await;
    assert_eq!(codes(&r.body), ["1480"], "{}", r.text);
    let both = json!({ "municipality_codes": ["1480", "1401"] });
    assert_eq!(app.call(Method::PATCH, &path, Some(&key), Some(both)).await.status, StatusCode::OK);
    // The change stream carries the places.
    let stream = app.get("/api/v1/stream?limit=1000").await;
    assert_eq!(stream.status, StatusCode::OK, "{}", stream.text);
    let last = stream.body["changes"].as_array().unwrap().iter().rev().find(|c| c["id"] == id).unwrap().clone();
    assert_eq!(codes(&last["ad"]), ["1480", "1401"], "{last}");
}

async fn garbage_places_are_refused_naming_the_field(app: &TestApp) {
    let (employer, key) = app.employer_with_key("Nacka kommun").await;
    let base = app.job("Upphandlare till Nacka");
    let many: Vec<String> = platsen_taxonomy::municipalities().iter().take(11).map(|m| m.code.to_owned()).collect();
    for (change, status, field) in [
        (json!({ "municipality_codes": ["0182", "9999"] }), 422, "municipality_codes[1]"),
        (json!({ "municipality_codes": ["0182", "0120", "0182"] }), 422, "municipality_codes[2]"),
        (json!({ "municipality_codes": ["0182", " 0120 ", "0120"] }), 422, "municipality_codes[2]"),
        (json!({ "municipality_codes": ["0120", "0182"] }), 422, "municipality_code"),
        (json!({ "municipality_codes": [] }), 422, "municipality_codes"),
        (json!({ "municipality_codes": many }), 422, "municipality_codes"),
        (json!({ "municipality_codes": "0182" }), 400, "municipality_codes"),
        (json!({ "municipality_codes": [182] }), 400, "municipality_codes[0]"),
        (json!({ "municipality_codes": ["<script>"] }), 422, "municipality_codes[0]"),
        (json!({ "municipality_code": null }), 422, "municipality_code"),
    ] {
        let r = app.call(Method::POST, "/api/v1/jobs", Some(&key), Some(with(base.clone(), change.clone()))).await;
        r.assert_problem(status, field);
        assert!(!r.text.contains("<script>"), "{change}: the value is not echoed as markup");
    }
    // Nothing was stored.
    assert_eq!(app.store.employer_jobs(employer, None, 1, 10, app.clock.now()).await.unwrap().total, 0);

    // The same rules on a patch; the ad keeps its places.
    let id = app.publish_job(&key, with(base.clone(), json!({ "municipality_codes": ["0182", "0120"] }))).await;
    let path = format!("/api/v1/jobs/{id}");
    for (change, status, field) in [
        (json!({ "municipality_codes": ["0182", "0182"] }), 422, "municipality_codes[1]"),
        (json!({ "municipality_codes": ["0000"] }), 422, "municipality_codes[0]"),
        (json!({ "municipality_codes": null }), 422, "municipality_code"),
        (json!({ "municipality_codes": [] }), 422, "municipality_codes"),
    ] {
        app.call(Method::PATCH, &path, Some(&key), Some(change)).await.assert_problem(status, field);
    }
    assert_eq!(codes(&app.get(&path).await.body), ["0182", "0120"]);
}

async fn the_dashboard_form_takes_several_places(app: &TestApp) {
    let employer = app.create_employer("Nacka kommun").await;
    app.create_user(employer, "anna@nacka.se", PASSWORD).await;
    let mut anna = Visitor::new(app);
    assert_eq!(anna.sign_in("anna@nacka.se", PASSWORD).await.status, 303);
    let form_page = anna.get("/konto/annonser/ny").await;
    assert_eq!(form_page.status, 200);
    assert!(form_page.body.contains(r#"name="place_2""#), "one empty field for a further place");
    assert!(!form_page.body.contains(r#"name="place_3""#));
    let csrf = form_page.csrf();
    let deadline = app.date_in(20);

    // An unknown code and a repeated place are named at their fields; nothing is stored.
    let mut bad = ad_form(&csrf, "Upphandlare till Nacka och Värmdö", &deadline);
    bad.extend([("place_2", "0120"), ("place_3", "9999"), ("place_4", "0120")]);
    let r = anna.post("/konto/annonser/ny", &bad).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.field_error("place_3").is_some_and(|e| e.starts_with("Okänd kommunkod")), "{}", r.body);
    assert_eq!(r.field_error("place_4").as_deref(), Some("Värmdö finns redan bland annonsens kommuner."));
    assert!(r.body.contains(r##"<a href="#place_4">Kommun 4: "##), "the summary names the field");
    assert_eq!(app.store.employer_jobs(employer, None, 1, 10, app.clock.now()).await.unwrap().total, 0);

    // Two further places (an empty field between them is skipped).
    let mut good = ad_form(&csrf, "Upphandlare till Nacka och Värmdö", &deadline);
    good.extend([("place_2", "0120"), ("place_3", ""), ("place_4", "0138")]);
    let r = anna.post("/konto/annonser/ny", &good).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let edit = r.location().split('?').next().unwrap().to_owned();
    let id: i64 = edit.rsplit('/').next().unwrap().parse().unwrap();
    let ad = app.store.job_for(platsen_jobs::model::Actor::Admin, id, app.clock.now()).await.unwrap();
    assert_eq!(ad.places().map(|m| m.code).collect::<Vec<_>>(), ["0182", "0120", "0138"]);

    // The edit form shows them, and one more empty field.
    let page = anna.get(&edit).await;
    assert!(page.body.contains(r#"<option value="0120" selected>"#), "{}", page.body);
    assert!(page.body.contains(r#"name="place_3""#) && page.body.contains(r#"name="place_4""#));
    assert!(!page.body.contains(r#"name="place_5""#));
    // Clearing the further places leaves one place.
    let mut edit_form = ad_form(&csrf, "Upphandlare till Nacka", &deadline);
    let version = ad.version.to_string();
    edit_form.extend([("version", version.as_str()), ("place_2", ""), ("place_3", "")]);
    let r = anna.post(&edit, &edit_form).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let ad = app.store.job_for(platsen_jobs::model::Actor::Admin, id, app.clock.now()).await.unwrap();
    assert_eq!(ad.places().map(|m| m.code).collect::<Vec<_>>(), ["0182"]);
}
