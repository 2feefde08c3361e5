//! RSS, Atom, JSON Feed and the deadline calendar: valid by each format's
//! rules (read back with the formats' own parsers, RSS through its
//! validator), the search's filters applied, text escaped, garbage refused.

use platsen_tests::{TestApp, with};
use reqwest::{Method, StatusCode};
use rss::validation::Validate;
use serde_json::json;

platsen_tests::contract!(
    feeds_of_a_search_validate_in_every_format,
    feeds_refuse_garbage,
    rss_descriptions_carry_employer_text_as_text_never_as_markup,
);

/// A feed reader renders an RSS `<description>` as HTML: whatever an
/// employer wrote (an escaped tag in the description, a tag in its name)
/// must arrive there as text, escaped, never as a tag.
async fn rss_descriptions_carry_employer_text_as_text_never_as_markup(app: &TestApp) {
    let (_, key) = app.employer_with_key("<img src=x onerror=alert(1)> AB").await;
    let description = "Vi skriver &lt;script&gt;alert(1)&lt;/script&gt; och <img src=x onerror=alert(2)> i annonsen \
                       för att se att inget av det blir kod hos läsaren.";
    app.publish_job(&key, with(app.job("Inköpare <script>alert(3)</script>"), json!({ "description": description })))
        .await;
    let r = app.get("/feeds/jobs.rss").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let channel = rss::Channel::read_from(r.text.as_bytes()).expect("RSS parses");
    channel.validate().expect("RSS validates");
    assert_eq!(channel.items.len(), 1);
    let html = channel.items[0].description.as_deref().unwrap();
    assert!(!html.contains('<'), "the description as a reader's HTML holds a tag: {html}");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt; AB"), "the employer's name, as text: {html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the description's words, as text: {html}");
    // The title element is plain text by the RSS rules and parses back exactly.
    assert_eq!(channel.items[0].title.as_deref(), Some("Inköpare <script>alert(3)</script>"));
}

async fn feeds_of_a_search_validate_in_every_format(app: &TestApp) {
    let (_, key) = app.employer_with_key("Bröderna Ek & Söner").await;
    let (_, other) = app.employer_with_key("Malmö stad").await;
    let tricky = "Inköpare <senior> & strateg \"kategori\"";
    let a = app.publish_job(&key, app.job(tricky)).await;
    let b = app
        .publish_job(
            &other,
            with(
                app.job("Upphandlingschef till Malmö"),
                json!({ "role": "upphandlingschef", "municipality_code": "1280", "application_deadline": app.date_in(9) }),
            ),
        )
        .await;
    let closed = app.publish_job(&key, app.job("Avtalscontroller som stängs")).await;
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{closed}/close"), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let _draft = app.post_job(&key, app.job("Utkast syns inte")).await;

    // RSS 2.0, whole board.
    let r = app.get("/feeds/jobs.rss").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/rss+xml; charset=utf-8"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(r.header("access-control-allow-credentials"), None);
    let channel = rss::Channel::read_from(r.text.as_bytes()).expect("RSS parses");
    channel.validate().expect("RSS validates");
    let titles: Vec<&str> = channel.items.iter().filter_map(|i| i.title.as_deref()).collect();
    assert_eq!(titles.len(), 2, "open ads only: {titles:?}");
    assert!(titles.contains(&tricky), "the title comes back exactly: {titles:?}");
    assert!(r.text.contains("&lt;senior&gt; &amp; strateg"), "escaped in the XML");
    assert!(channel.items.iter().all(|i| i.pub_date.is_some() && i.guid.is_some() && i.link.is_some()));
    let item_a = channel.items.iter().find(|i| i.title.as_deref() == Some(tricky)).unwrap();
    assert_eq!(item_a.guid.as_ref().unwrap().value, app.url(&format!("/api/v1/jobs/{a}")));
    assert!(item_a.link.as_deref().unwrap().starts_with(&app.url("/jobb/")));
    // The description is HTML to a reader: the employer's "&" arrives escaped.
    assert!(item_a.description.as_deref().unwrap().contains("Bröderna Ek &amp; Söner"));
    assert!(item_a.description.as_deref().unwrap().contains("Sista ansökningsdag"));
    let self_link = &channel.atom_ext.as_ref().expect("atom:link rel=self").links[0];
    assert_eq!(self_link.rel, "self");
    assert_eq!(self_link.href, app.url("/feeds/jobs.rss"));
    assert_eq!(channel.language.as_deref(), Some("sv"));

    // A search: the filters apply, and the self link carries them.
    let r = app.get("/feeds/jobs.rss?role=upphandlingschef&county=12").await;
    let channel = rss::Channel::read_from(r.text.as_bytes()).expect("RSS parses");
    channel.validate().expect("RSS validates");
    assert_eq!(channel.items.len(), 1);
    assert_eq!(channel.items[0].title.as_deref(), Some("Upphandlingschef till Malmö"));
    assert!(channel.title.contains("upphandlingschef") && channel.title.contains("Skåne län"), "{}", channel.title);
    assert!(channel.atom_ext.unwrap().links[0].href.contains("role=upphandlingschef"));
    let r = app.get("/feeds/jobs.rss?q=upphandlingschef").await;
    let channel = rss::Channel::read_from(r.text.as_bytes()).unwrap();
    assert_eq!(channel.items.len(), 1, "{}", r.text);

    // Per employer.
    let r = app.get("/feeds/jobs.atom?employer=broderna-ek-soner").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/atom+xml; charset=utf-8"));
    let feed = atom_syndication::Feed::read_from(r.text.as_bytes()).expect("Atom parses");
    assert!(feed.title.value.contains("hos Bröderna Ek & Söner"), "{}", feed.title.value);
    assert_eq!(feed.entries.len(), 1);
    let entry = &feed.entries[0];
    assert_eq!(entry.title.value, tricky);
    assert_eq!(entry.id, app.url(&format!("/api/v1/jobs/{a}")));
    assert!(entry.published.is_some());
    assert_eq!(entry.authors[0].name, "Bröderna Ek & Söner");
    assert!(entry.links.iter().any(|l| l.rel == "alternate" && l.href.starts_with(&app.url("/jobb/"))));
    // Atom's required elements (RFC 4287 §4.1.1): id, title, updated; a self link.
    assert!(!feed.id.is_empty());
    assert!(
        feed.links.iter().any(|l| l.rel == "self" && l.href == app.url("/feeds/jobs.atom?employer=broderna-ek-soner"))
    );

    // JSON Feed 1.1.
    let r = app.get("/feeds/jobs.json").await;
    assert_eq!(r.header("content-type"), Some("application/feed+json; charset=utf-8"));
    let body = &r.body;
    assert_eq!(body["version"], "https://jsonfeed.org/version/1.1");
    assert!(body["title"].is_string() && body["feed_url"] == app.url("/feeds/jobs.json"));
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for item in items {
        assert!(item["id"].is_string() && item["url"].is_string() && item["content_text"].is_string(), "{item}");
        chrono::DateTime::parse_from_rfc3339(item["date_published"].as_str().unwrap()).expect("RFC 3339");
    }
    assert_eq!(items.iter().filter(|i| i["id"] == app.url(&format!("/api/v1/jobs/{b}"))).count(), 1);

    // The deadline calendar (RFC 5545).
    let r = app.get("/feeds/deadlines.ics").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("text/calendar; charset=utf-8"));
    let raw = &r.text;
    assert!(raw.starts_with("BEGIN:VCALENDAR\r\n") && raw.ends_with("END:VCALENDAR\r\n"));
    for line in raw.split("\r\n") {
        assert!(line.len() <= 75, "a content line longer than 75 octets: {line:?}");
        assert!(!line.contains('\n'), "a bare line feed");
    }
    let unfolded = icalendar::parser::unfold(raw);
    let calendar = icalendar::parser::read_calendar(&unfolded).expect("iCalendar parses");
    let prop = |props: &[icalendar::parser::Property], name: &str| {
        props.iter().find(|p| p.name.as_str() == name).map(|p| p.val.as_str().to_owned())
    };
    assert_eq!(prop(&calendar.properties, "VERSION").as_deref(), Some("2.0"));
    assert!(prop(&calendar.properties, "PRODID").is_some());
    let events: Vec<_> = calendar.components.iter().filter(|c| c.name.as_str() == "VEVENT").collect();
    assert_eq!(events.len(), 2);
    // Sorted by deadline: Malmö's (9 days) first.
    let first = &events[0].properties;
    let deadline_b = app.date_in(9).replace('-', "");
    assert_eq!(prop(first, "DTSTART").as_deref(), Some(deadline_b.as_str()));
    let dtstart = first.iter().find(|p| p.name.as_str() == "DTSTART").unwrap();
    assert!(dtstart.params.iter().any(|p| p.key.as_str() == "VALUE" && p.val.as_ref().unwrap().as_str() == "DATE"));
    assert!(prop(first, "SUMMARY").unwrap().starts_with("Sista ansökningsdag: Upphandlingschef till Malmö"));
    for e in &events {
        for required in ["UID", "DTSTAMP", "DTSTART", "DTEND", "URL"] {
            assert!(prop(&e.properties, required).is_some(), "{required} missing");
        }
    }
    // Closing an ad takes it out of every feed.
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{b}/close"), Some(&other), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app.get("/feeds/deadlines.ics").await;
    assert_eq!(r.text.matches("BEGIN:VEVENT").count(), 1);
}

async fn feeds_refuse_garbage(app: &TestApp) {
    for (query, field) in [
        ("role=chef%27%20or%201%3D1", "role"),
        ("county=99", "county"),
        ("municipality=abcd", "municipality"),
        ("employment_type=%3Cscript%3E", "employment_type"),
        ("remote=kanske", "remote"),
        ("sort=random", "sort"),
        ("page=0", "page"),
        ("employer=Nacka%20Kommun!", "employer"),
    ] {
        for feed in ["jobs.rss", "jobs.atom", "jobs.json", "deadlines.ics"] {
            let r = app.get(&format!("/feeds/{feed}?{query}")).await;
            r.assert_problem(400, field);
        }
    }
    let long = "a".repeat(201);
    app.get(&format!("/feeds/jobs.rss?q={long}")).await.assert_problem(400, "q");
    // An employer that does not exist.
    let r = app.get("/feeds/jobs.rss?employer=finns-inte").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    // Query syntax of any engine is just words.
    let r = app.get("/feeds/jobs.json?q=%22%20OR%20role%20%3D%20x").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["items"], json!([]));
}
