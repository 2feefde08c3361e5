//! The public web pages over HTTP: the job page's schema.org data, Open
//! Graph tags and 410 once closed, the search page's filters and paging,
//! garbage in the query string, the employer page, robots.txt and the
//! sitemap. (What a browser does with them is tested in Chromium.)

use platsen_tests::{ADMIN_TOKEN, TestApp, survey, with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

platsen_tests::contract!(
    the_job_page_carries_job_posting_data_and_answers_410_when_closed,
    the_search_page_filters_counts_and_pages,
    garbage_in_the_query_string_gets_a_page_naming_the_field,
    the_employer_page_lists_its_open_ads,
    the_salary_page_shows_figures_tables_charts_and_compares_a_salary,
    an_ad_shows_its_positions_and_every_contact_with_links,
    a_closed_ads_page_names_it_and_offers_similar_open_ads,
    an_ad_page_says_when_it_was_published_offers_similar_ads_and_ways_to_share,
    a_saved_list_lives_in_its_address_and_can_be_mailed,
    a_browser_gets_a_page_for_an_address_that_is_not_there,
    search_addresses_carry_only_what_is_chosen,
    names_are_sorted_as_swedish_sorts_them,
    snippets_keep_headings_apart_from_text,
);

/// A page as text, with its status and content type.
async fn page(app: &TestApp, path: &str) -> (StatusCode, String, String) {
    let r = app.client.get(app.url(path)).send().await.unwrap();
    let status = r.status();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

/// The JSON-LD block of a page, parsed.
pub(crate) fn json_ld(html: &str) -> Value {
    let start = html.find(r#"<script type="application/ld+json">"#).expect("a JSON-LD block") + 35;
    let end = start + html[start..].find("</script>").expect("the block ends");
    serde_json::from_str(&html[start..end]).unwrap_or_else(|e| panic!("JSON-LD does not parse: {e}"))
}

async fn slug_of(app: &TestApp, id: i64) -> String {
    app.get(&format!("/api/v1/jobs/{id}")).await.body["slug"].as_str().unwrap().to_owned()
}

async fn the_job_page_carries_job_posting_data_and_answers_410_when_closed(app: &TestApp) {
    let (_, key) = app.employer_with_key("Nacka kommun").await;
    // A title that tries to break out of the JSON-LD script and the HTML.
    let title = "Upphandlare </script><script>alert(1)</script>";
    let id = app.publish_job(&key, app.job(title)).await;
    let slug = slug_of(app, id).await;
    let (status, ct, html) = page(app, &format!("/jobb/{slug}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(html.starts_with("<!doctype html>\n<html lang=\"sv\">"));
    assert!(!html.contains("<script>alert(1)"), "the title must be escaped");
    // Two scripts: the JSON-LD block and the site's own file (no inline code).
    assert_eq!(html.matches("<script").count(), 2, "{html}");
    assert_eq!(html.matches(r#"<script src="/static/site."#).count(), 1, "{html}");

    let ld = json_ld(&html);
    assert_eq!(ld["@context"], "https://schema.org/");
    assert_eq!(ld["@type"], "JobPosting");
    assert_eq!(ld["title"], title, "escaped in the page, intact in the data");
    assert!(ld["description"].as_str().unwrap().contains("erfaren upphandlare"));
    assert_eq!(ld["identifier"]["value"], id.to_string());
    assert_eq!(ld["hiringOrganization"]["@type"], "Organization");
    assert_eq!(ld["hiringOrganization"]["name"], "Nacka kommun");
    assert_eq!(ld["jobLocation"]["address"]["addressLocality"], "Nacka");
    assert_eq!(ld["jobLocation"]["address"]["addressRegion"], "Stockholms län");
    assert_eq!(ld["jobLocation"]["address"]["addressCountry"], "SE");
    assert_eq!(ld["employmentType"], json!(["FULL_TIME"]));
    assert_eq!(ld["baseSalary"]["currency"], "SEK");
    assert_eq!(ld["baseSalary"]["value"]["minValue"], 45000);
    assert_eq!(ld["baseSalary"]["value"]["maxValue"], 55000);
    assert_eq!(ld["baseSalary"]["value"]["unitText"], "MONTH");
    assert_eq!(ld["directApply"], false);
    // The occupation in SSYK 2012: upphandlare are 3323.
    assert_eq!(ld["occupationalCategory"]["@type"], "CategoryCode");
    assert_eq!(ld["occupationalCategory"]["codeValue"], "3323");
    assert_eq!(ld["occupationalCategory"]["name"], "Inköpare och upphandlare");
    assert_eq!(ld["occupationalCategory"]["inCodeSet"]["name"], "SSYK 2012");
    let posted = ld["datePosted"].as_str().unwrap();
    assert!(chrono::NaiveDate::parse_from_str(posted, "%Y-%m-%d").is_ok(), "{posted}");
    let valid = ld["validThrough"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(valid).is_ok(), "{valid}");
    // Open Graph, the apply button and the canonical address.
    assert!(html.contains(r#"<meta property="og:title" content="Upphandlare &#60;/script&#62;"#), "{html}");
    let base = app.url("");
    assert!(html.contains(&format!(r#"<meta property="og:url" content="{base}/jobb/{slug}">"#)), "{html}");
    // The apply button goes through Platsen, which counts the click and
    // sends the reader on to the employer's form.
    assert!(html.contains(&format!(r#"<a class="apply" href="/jobb/{slug}/ansok""#)), "{html}");
    let apply = app.get(&format!("/jobb/{slug}/ansok")).await;
    assert_eq!(apply.status, 303);
    assert_eq!(apply.header("location"), Some("https://example.org/ansok"));
    assert_eq!(apply.header("cache-control"), Some("no-store"));
    assert_eq!(app.get("/jobb/finns-inte-alls/ansok").await.status, 410);
    assert!(!html.contains("noindex"));

    // The sitemap lists it; robots.txt points to the sitemap.
    let (status, ct, sitemap) = page(app, "/sitemap.xml").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("application/xml"));
    assert!(sitemap.contains(&format!("<loc>{base}/jobb/{slug}</loc>")), "{sitemap}");
    let (_, _, robots) = page(app, "/robots.txt").await;
    assert!(robots.contains(&format!("Sitemap: {base}/sitemap.xml")), "{robots}");

    // Closed: 410 with noindex, and out of the sitemap.
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{id}/close"), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (status, _, gone) = page(app, &format!("/jobb/{slug}")).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(gone.contains(r#"<meta name="robots" content="noindex">"#));
    assert!(gone.contains("inte längre öppen"));
    let (_, _, sitemap) = page(app, "/sitemap.xml").await;
    assert!(!sitemap.contains(&slug), "{sitemap}");
    // A slug that never existed is a plain 404.
    let (status, _, _) = page(app, "/jobb/finns-inte-alls").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn the_search_page_filters_counts_and_pages(app: &TestApp) {
    let (_, key) = app.employer_with_key("Sökkommunen").await;
    for i in 0..23 {
        app.publish_job(&key, app.job(&format!("Upphandlare nummer {i}"))).await;
    }
    app.publish_job(
        &key,
        with(app.job("Inköpare i Luleå"), json!({ "role": "inkopare", "municipality_code": "2580" })),
    )
    .await;
    let (status, _, html) = page(app, "/jobb").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("24 lediga jobb"), "{html}");
    // Facet counts on the filters.
    assert!(html.contains(r#"<option value="upphandlare">Upphandlare (23)</option>"#), "{html}");
    assert!(html.contains(r#"<option value="inkopare">Inköpare (1)</option>"#));
    assert!(html.contains(r#"<option value="25">Norrbottens län (1)</option>"#));
    // 20 a page, and a link to the next one that keeps the filters.
    assert_eq!(html.matches(r#"<li class="hit">"#).count(), 20);
    assert!(html.contains(r#"<a href="/jobb?page=2">Nästa</a>"#), "{html}");
    let (_, _, second) = page(app, "/jobb?page=2").await;
    assert_eq!(second.matches(r#"<li class="hit">"#).count(), 4);
    assert!(second.contains(r#"<span aria-current="page">2</span>"#));
    // A filter narrows the hits, and its option stays selected.
    let (_, _, filtered) = page(app, "/jobb?role=inkopare").await;
    assert!(filtered.contains("1 ledigt jobb"), "{filtered}");
    assert!(filtered.contains(r#"<option value="inkopare" selected>"#));
    assert!(filtered.contains("Inköpare i Luleå"));
    // Words, highlighted; the home page is the same search.
    let (_, _, words) = page(app, "/?q=lule%C3%A5").await;
    assert!(words.contains("<mark>"), "{words}");
    assert!(words.contains(r#"<meta name="robots" content="noindex">"#), "searches are not indexed");

    // The stylesheet and the script: addresses named by their content,
    // cached for a year; any other name is not found.
    for (tag, ct) in [(r#"<link rel="stylesheet" href=""#, "text/css"), (r#"<script src=""#, "text/javascript")] {
        let start = html.find(tag).unwrap_or_else(|| panic!("{tag} in {html}")) + tag.len();
        let href = &html[start..start + html[start..].find('"').unwrap()];
        let r = app.client.get(app.url(href)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{href}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with(ct), "{href}");
        assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable");
        assert!(!r.text().await.unwrap().is_empty());
    }
    for bad in ["/static/site.css", "/static/site.000000000000.js", "/static/..%2FCargo.toml"] {
        assert_eq!(app.client.get(app.url(bad)).send().await.unwrap().status(), StatusCode::NOT_FOUND, "{bad}");
    }
}

async fn garbage_in_the_query_string_gets_a_page_naming_the_field(app: &TestApp) {
    for (query, field) in [
        ("role=chef", "role"),
        ("county=99", "county"),
        ("municipality=%27%3B--", "municipality"),
        ("employment_type=fast", "employment_type"),
        ("remote=ja", "remote"),
        ("sort=random", "sort"),
        ("page=0", "page"),
        ("page=9999999999999", "page"),
        ("page=-1", "page"),
        ("employer=%3Cscript%3E", "employer"),
    ] {
        let (status, ct, html) = page(app, &format!("/jobb?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(ct.starts_with("text/html"), "{query}: {ct}");
        assert!(html.contains(&format!("Fältet {field}:")), "{query}: {html}");
        assert!(!html.contains("<script>"), "{query}");
    }
    let long = "a".repeat(201);
    let (status, _, _) = page(app, &format!("/jobb?q={long}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Not slugs at all.
    for path in ["/jobb/%3Cscript%3E", "/arbetsgivare/..%2F..%2Fetc", "/jobb/123"] {
        let (status, _, html) = page(app, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!html.contains("<script>"));
    }
}

async fn the_employer_page_lists_its_open_ads(app: &TestApp) {
    let (employer_id, key) = app.employer_with_key("Arbetsgivarsidans kommun").await;
    let open = app.publish_job(&key, app.job("Avtalscontroller")).await;
    app.post_job(&key, app.job("Utkastet")).await;
    let slug = app.get(&format!("/api/v1/employers/{employer_id}")).await.body["slug"].as_str().unwrap().to_owned();
    let (status, _, html) = page(app, &format!("/arbetsgivare/{slug}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>Arbetsgivarsidans kommun</h1>"), "{html}");
    assert!(html.contains("Lediga jobb (1)"));
    assert!(html.contains(&format!(r#"href="/jobb/{}""#, slug_of(app, open).await)));
    assert!(!html.contains("Utkastet"), "a draft is not public");
    // The feeds, announced in the head, are links under the list too.
    let main = &html[html.find("<main").unwrap()..];
    assert!(main.contains(&format!(r#"<a href="/feeds/jobs.rss?employer={slug}">RSS</a>"#)), "{html}");
    assert!(main.contains(&format!(r#"<a href="/feeds/deadlines.ics?employer={slug}">"#)), "{html}");
    let (status, _, _) = page(app, "/arbetsgivare/ingen-sadan").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn the_salary_page_shows_figures_tables_charts_and_compares_a_salary(app: &TestApp) {
    // No survey yet: a page that says so, not an error.
    let (status, _, html) = page(app, "/lonestatistik").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Lönestatistik"), "{html}");

    let (csv, upph) = survey();
    assert_eq!(app.upload_survey(&csv, Some(ADMIN_TOKEN), "text/csv").await.status, StatusCode::CREATED);

    // The whole board, the latest year: key figures, a table per role, one
    // per year, four charts whose addresses answer with SVG.
    let (status, ct, html) = page(app, "/lonestatistik").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(html.contains("<h1>Lönestatistik 2025</h1>"), "{html}");
    assert!(html.contains("Alla svarande"));
    assert!(html.contains("<h2 id=\"breakdown-h\">Per roll, 2025</h2>"), "{html}");
    assert!(html.contains("<th scope=\"row\">Upphandlare</th>"), "{html}");
    assert!(html.contains("<th scope=\"row\">2024</th>"), "{html}");
    assert!(html.contains("<option value=\"2025\" selected>2025</option>"), "{html}");
    let srcs: Vec<&str> = html
        .match_indices("<img src=\"")
        .map(|(i, _)| &html[i + 10..i + 10 + html[i + 10..].find('"').unwrap()])
        .collect();
    assert_eq!(srcs.len(), 4, "{html}");
    for src in srcs {
        let src = src.replace("&#38;", "&");
        let r = app.client.get(app.url(&src)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{src}");
        assert_eq!(r.headers()["content-type"], "image/svg+xml", "{src}");
    }
    assert!(html.contains("Varför saknas vissa värden?"));
    assert!(!html.contains("noindex"), "the plain page is indexed");

    // Filtered to the 2025 upphandlare: the median is the one computed here.
    let (status, _, html) = page(app, "/lonestatistik?role=upphandlare&year=2025").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let h = (upph.len() - 1) as f64 * 0.5;
    let median =
        (upph[h.floor() as usize] + (h - h.floor()) * (upph[h.ceil() as usize] - upph[h.floor() as usize])) / 100.0;
    let median = (median.round() * 100.0) as i64;
    let shown = format!("{} {:03} kr", median / 1000, median % 1000);
    assert!(html.contains(&format!("<dd class=\"big\">{shown}</dd>")), "median {shown} in {html}");
    assert!(html.contains("<h2 id=\"breakdown-h\">Per sektor, 2025</h2>"), "{html}");
    assert!(
        html.contains("/api/v1/salaries/charts/percentiles-by-sector.svg?role=upphandlare&#38;year=2025&#38;width=880"),
        "{html}"
    );
    assert!(html.contains("<th scope=\"col\">Sektor</th>"), "the breakdown's first column is named: {html}");
    // Women's and men's medians as a table too, the whole selection first.
    assert!(html.contains("<h2 id=\"gender-h\">Kvinnor och män, 2025</h2>"), "{html}");
    assert!(html.contains("<th scope=\"row\">Hela urvalet</th>"), "{html}");
    let women: Vec<f64> = {
        // The survey's 2025 upphandlare: women are those with i % 3 != 0.
        let (csv, _) = survey();
        csv.lines()
            .filter(|l| l.starts_with("2025,upphandlare") && l.contains(",kvinna,"))
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                f[7].parse::<f64>().unwrap() * 100.0 / f[8].parse::<f64>().unwrap()
            })
            .collect()
    };
    let mut women = women;
    women.sort_by(f64::total_cmp);
    let h = (women.len() - 1) as f64 * 0.5;
    let w = women[h.floor() as usize] + (h - h.floor()) * (women[h.ceil() as usize] - women[h.floor() as usize]);
    let w = ((w / 100.0).round() * 100.0) as i64;
    assert!(html.contains(&format!("<td>{} {:03} kr</td>", w / 1000, w % 1000)), "women's median {w} in {html}");

    // Jämför din lön: posted, an answer with a place on the scale, never cached.
    let r = app
        .client
        .post(app.url("/lonestatistik?role=upphandlare&year=2025"))
        .form(&[("lon", "45 000")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["x-robots-tag"], "noindex");
    let html = r.text().await.unwrap();
    let below = upph.iter().filter(|s| **s < 45_000.0).count();
    assert!(below > 0 && below < upph.len());
    assert!(html.contains("45 000 kr är mer än ungefär"), "{html}");
    assert!(html.contains("<meter id=\"gauge\""), "{html}");
    assert!(html.contains("noindex"), "a compared salary is not indexed");
    assert!(html.contains("value=\"45 000\""), "the field keeps the entry: {html}");
    assert!(
        html.contains("<form method=\"post\" action=\"/lonestatistik?role=upphandlare&#38;year=2025#jamfor\">"),
        "{html}"
    );
    // The group that fits the reader: the page's role, and the experience
    // and age the form adds.
    let post = |form: Vec<(&'static str, &'static str)>| {
        app.client.post(app.url("/lonestatistik?role=upphandlare&year=2025")).form(&form).send()
    };
    let r = post(vec![("lon", "45000"), ("alder", "30-39")]).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("(Upphandlare · 30–39 år, 2025)"), "{html}");
    assert!(!html.contains("class=\"fallback\""), "20 answered: no need to widen: {html}");
    assert!(html.contains("<option value=\"30-39\" selected>"), "the choice is kept: {html}");
    // Too few answered for the group that fits (no upphandlare of 60 or
    // more with 10–15 years): the nearest larger group, named.
    let r = post(vec![("lon", "45000"), ("erfarenhet", "10-15"), ("alder", "60-")]).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("<p class=\"fallback\">Gruppen som passar dig bäst (Upphandlare · 10–15 år · 60 år eller äldre) har för få svar"), "{html}");
    assert!(html.contains("den närmaste större gruppen: Upphandlare · 10–15 år."), "{html}");
    assert!(html.contains("<meter id=\"gauge\""), "{html}");
    // Garbage in a band: named next to its field, nothing compared.
    for (field, value) in [("erfarenhet", "99"), ("alder", "<script>"), ("alder", "30-39\u{0}"), ("erfarenhet", "")] {
        let r = post(vec![("lon", "45000"), (field, value)]).await.unwrap();
        if value.is_empty() {
            assert_eq!(r.status(), StatusCode::OK, "an empty band is no choice");
            continue;
        }
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}={value:?}");
        let html = r.text().await.unwrap();
        assert!(html.contains(&format!("<p class=\"error\" id=\"{field}-error\">")), "{field}: {html}");
        assert!(html.contains(&format!("aria-describedby=\"{field}-error\"")), "{field}: {html}");
        assert!(!html.contains("<script>") && !html.contains("kr är mer än"), "{field}: {html}");
    }

    // A salary in the address is not read: it belongs in no URL.
    let (_, _, html) = page(app, "/lonestatistik?role=upphandlare&year=2025&lon=45000").await;
    assert!(!html.contains("45 000 kr är"), "{html}");

    // Garbage in the salary: shown next to the field, with the filters kept.
    for garbage in ["abc", "-5", "99999999999999999999", "45000<script>", "0", ""] {
        let r =
            app.client.post(app.url("/lonestatistik?role=upphandlare")).form(&[("lon", garbage)]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{garbage}");
        let html = r.text().await.unwrap();
        assert!(html.contains("aria-invalid=\"true\""), "{garbage}: {html}");
        assert!(html.contains("<p class=\"error\" id=\"lon-error\">"), "{garbage}: {html}");
        assert!(!html.contains("<script>"), "{garbage} is escaped");
        assert!(html.contains("<option value=\"upphandlare\" selected>"), "{garbage}: {html}");
    }
    let huge = "9".repeat(200 * 1024);
    let r = app.client.post(app.url("/lonestatistik")).form(&[("lon", huge.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Garbage in a filter: a page naming the field.
    for (query, field) in [
        ("role=chef%00", "role"),
        ("sector=x", "sector"),
        ("county=99", "county"),
        ("year=tjugo", "year"),
        ("year=1850", "year"),
    ] {
        let (status, ct, html) = page(app, &format!("/lonestatistik?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {html}");
        assert!(ct.starts_with("text/html"), "{ct}");
        assert!(html.contains(&format!("Fältet {field}")), "{query}: {html}");
    }
    // A year with no survey.
    assert_eq!(page(app, "/lonestatistik?year=2019").await.0, StatusCode::NOT_FOUND);
}

/// The budget: no page over 150 KB of HTML (before images), on the demo
/// board; the largest are the ad form (all 290 municipalities), the salary
/// page (its tables) and the admin's lists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_is_over_150_kb() {
    use crate::konto::{PASSWORD, Visitor};
    const BUDGET: usize = 150 * 1024;
    let app = TestApp::sqlite().await;
    app.seed_demo().await;
    let list = app.get("/api/v1/jobs?per_page=100").await;
    let first = &list.body["items"][0];
    let (job, employer_slug) = (first["slug"].as_str().unwrap(), first["employer"]["slug"].as_str().unwrap());
    let employer = first["employer"]["id"].as_i64().unwrap();
    app.create_user(employer, "anna@demo.se", PASSWORD).await;
    app.store.create_user(None, "drift@platsen.se", PASSWORD, true, app.clock.now()).await.unwrap();
    let mut anna = Visitor::new(&app);
    assert_eq!(anna.sign_in("anna@demo.se", PASSWORD).await.status, 303);
    let mut admin = Visitor::new(&app);
    assert_eq!(admin.sign_in("drift@platsen.se", PASSWORD).await.status, 303);

    let mut measured = Vec::new();
    for path in [
        "/".to_owned(),
        "/jobb?q=upphandlare".to_owned(),
        format!("/jobb/{job}"),
        format!("/arbetsgivare/{employer_slug}"),
        "/lonestatistik".to_owned(),
        "/lonestatistik?role=upphandlare&lon=42000".to_owned(),
        "/sitemap.xml".to_owned(),
        "/konto/glomt".to_owned(),
    ] {
        let (status, _, body) = page(&app, &path).await;
        assert_eq!(status, 200, "{path}");
        measured.push((path, body.len()));
    }
    for path in ["/konto", "/konto/annonser/ny"] {
        let r = anna.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        measured.push((format!("{path} (employer)"), r.body.len()));
    }
    for path in ["/konto", "/konto/granskning", "/konto/arbetsgivare", "/konto/lonestatistik"] {
        let r = admin.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        measured.push((format!("{path} (admin)"), r.body.len()));
    }
    for (path, bytes) in &measured {
        assert!(*bytes > 500, "{path} is suspiciously small: {bytes} bytes");
        assert!(*bytes < BUDGET, "{path} is {} KB, over the 150 KB budget", bytes / 1024);
    }
}

/// An ad shows how many are hired (also in the JSON-LD) and every contact
/// person, with links to write and call.
async fn an_ad_shows_its_positions_and_every_contact_with_links(app: &TestApp) {
    let (_, key) = app.employer_with_key("Kontaktkommunen").await;
    let body = with(
        app.job("Tre upphandlare till Kontaktkommunen"),
        json!({
            "vacancies": 3,
            "contacts": [
                { "name": "Anna Lind", "title": "Upphandlingschef", "email": "anna@kontakt.se", "phone": "08-123 456 78" },
                { "name": "Bo Ek", "title": "Facklig företrädare, Vision", "phone": "+46 70 111 22 33" },
                { "name": "Cia Berg", "email": "cia@kontakt.se" },
            ],
        }),
    );
    let id = app.publish_job(&key, body).await;
    let slug = slug_of(app, id).await;
    let (status, _, html) = page(app, &format!("/jobb/{slug}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("<div><dt>Antal tjänster</dt><dd>3</dd></div>"), "{html}");
    assert_eq!(json_ld(&html)["totalJobOpenings"], 3);
    for name in ["Anna Lind", "Bo Ek", "Cia Berg"] {
        assert!(html.contains(&format!("<span class=\"name\">{name}</span>")), "{name} in {html}");
    }
    assert!(html.contains(r#"<a href="tel:+46812345678">08-123 456 78</a>"#), "{html}");
    assert!(html.contains(r#"<a href="tel:+46701112233">+46 70 111 22 33</a>"#), "{html}");
    assert!(html.contains(r#"<a href="mailto:anna@kontakt.se">anna@kontakt.se</a>"#), "{html}");
    assert_eq!(html.matches("href=\"tel:").count(), 2, "{html}");
}

/// A closed ad's page (410) says what the ad was and from whom, and leads
/// on to similar open ads, the employer and the role.
async fn a_closed_ads_page_names_it_and_offers_similar_open_ads(app: &TestApp) {
    let (_, key) = app.employer_with_key("Stängda kommunen").await;
    let (_, other) = app.employer_with_key("Öppna kommunen").await;
    let closed = app.publish_job(&key, app.job("Upphandlare som tillsattes")).await;
    let similar = app.publish_job(&other, app.job("Upphandlare som söks nu")).await;
    let unrelated =
        app.publish_job(&other, with(app.job("Kategoriledare IT"), json!({ "role": "kategoriledare" }))).await;
    let slug = slug_of(app, closed).await;
    app.call(Method::POST, &format!("/api/v1/jobs/{closed}/close"), Some(&key), None).await;
    let (status, _, html) = page(app, &format!("/jobb/{slug}")).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("<h1>Upphandlare som tillsattes</h1>"), "{html}");
    assert!(html.contains(">Stängda kommunen</a>"), "{html}");
    assert!(html.contains(&format!(r#"href="/jobb/{}""#, slug_of(app, similar).await)), "{html}");
    assert!(!html.contains(&slug_of(app, unrelated).await), "another role is not similar");
    assert!(html.contains(r#"href="/jobb?role=upphandlare""#), "{html}");
    assert!(html.contains(r#"<meta name="robots" content="noindex">"#));
}

/// An open ad's page: when it was published ("Publicerad i dag", then
/// days ago as the clock moves), similar open ads nearest first (the same
/// role in the county, then a neighbouring county, then anywhere; never
/// another role while the role has ads, never the ad itself), links to
/// share it and, for print, where to apply. The same similar ads through
/// the API, for a closed ad too (by slug), with garbage refused.
async fn an_ad_page_says_when_it_was_published_offers_similar_ads_and_ways_to_share(app: &TestApp) {
    let (_, key) = app.employer_with_key("Nacka kommun").await;
    let (_, other) = app.employer_with_key("Grannkommunen").await;
    let at = |code: &str, title: &str| with(app.job(title), json!({ "municipality_code": code }));
    let ad = app.publish_job(&key, at("0182", "Upphandlare till Nacka")).await;
    // Stockholms län (0180 Stockholm), Uppsala län (0380, a neighbour),
    // Skåne (1280 Malmö, far away) and another role in the same county.
    let same_county = app.publish_job(&other, at("0180", "Upphandlare i Stockholm")).await;
    let neighbour = app.publish_job(&other, at("0380", "Upphandlare i Uppsala")).await;
    let far = app.publish_job(&other, at("1280", "Upphandlare i Malmö")).await;
    let other_role = app
        .publish_job(&other, with(at("0180", "Kategoriledare i Stockholm"), json!({ "role": "kategoriledare" })))
        .await;
    let slug = slug_of(app, ad).await;

    let (status, _, html) = page(app, &format!("/jobb/{slug}")).await;
    assert_eq!(status, StatusCode::OK);
    let today = platsen_jobs::validate::today_in_sweden(app.clock.now()).format("%Y-%m-%d").to_string();
    assert!(
        html.contains(&format!(r#"<p class="published"><time datetime="{today}">Publicerad i dag</time></p>"#)),
        "{html}"
    );
    // Similar ads, nearest first; not the ad itself, not another role.
    let section = &html[html.find(r#"<section class="similar"#).expect("similar ads on an open ad's page")..];
    let position = |slug: &str| section.find(&format!(r#"href="/jobb/{slug}""#));
    let (s1, s2, s3) = (slug_of(app, same_county).await, slug_of(app, neighbour).await, slug_of(app, far).await);
    let (p1, p2, p3) =
        (position(&s1).expect("same county"), position(&s2).expect("neighbour"), position(&s3).expect("far"));
    assert!(p1 < p2 && p2 < p3, "nearest first: {section}");
    assert!(position(&slug).is_none(), "never the ad itself");
    assert!(position(&slug_of(app, other_role).await).is_none(), "another role is not similar");
    // Ways to share, with the address filled in; where to apply in print.
    let url = app.url(&format!("/jobb/{slug}"));
    let enc = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>().replace('+', "%20");
    assert!(html.contains(&format!(r#"data-url="{url}""#)), "{html}");
    assert!(html.contains(&format!("https://www.linkedin.com/sharing/share-offsite/?url={}", enc(&url))), "{html}");
    assert!(html.contains(&format!("mailto:?subject={}&#38;body=", enc("Upphandlare till Nacka"))), "{html}");
    assert!(html.contains(r#"<p class="print-only">Ansök: https://example.org/ansok"#), "{html}");

    // Three days later the lists and the page count the days.
    app.clock.advance(chrono::Duration::days(3));
    let (_, _, html) = page(app, &format!("/jobb/{slug}")).await;
    assert!(html.contains(">Publicerad för 3 dagar sedan</time>"), "{html}");
    let (_, _, list) = page(app, "/jobb?q=upphandlare").await;
    assert!(list.contains(r#"<time class="published" datetime=""#), "{list}");
    assert!(list.contains(">Publicerad för 3 dagar sedan</time> · Sista ansökningsdag"), "{list}");

    // The API: the occupation in SSYK 2012, and the same similar ads.
    let one = app.get(&format!("/api/v1/jobs/{ad}")).await;
    assert_eq!(one.body["occupation"], json!({ "code": "3323", "name": "Inköpare och upphandlare" }));
    let similar = app.get(&format!("/api/v1/jobs/{ad}/similar?limit=2")).await;
    assert_eq!(similar.status, 200, "{}", similar.text);
    let ids: Vec<i64> = similar.body["items"].as_array().unwrap().iter().map(|j| j["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![same_county, neighbour]);
    // Closed: by its slug still (its page offers the same); by id not found.
    app.call(Method::POST, &format!("/api/v1/jobs/{ad}/close"), Some(&key), None).await;
    let gone = app.get(&format!("/api/v1/jobs/{slug}/similar")).await;
    assert_eq!(gone.status, 200, "{}", gone.text);
    assert_eq!(gone.body["items"].as_array().unwrap().len(), 3);
    assert_eq!(app.get(&format!("/api/v1/jobs/{ad}/similar")).await.status, 404);
    // Garbage: a limit out of range or not a number, an unknown ad.
    for bad in ["limit=0", "limit=21", "limit=x", "limit=-1", "limit=99999999999999999999"] {
        let r = app.get(&format!("/api/v1/jobs/{same_county}/similar?{bad}")).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("application/problem+json"), "{bad}");
        assert!(r.text.contains("limit"), "{bad}: {}", r.text);
    }
    assert_eq!(app.get("/api/v1/jobs/finns-inte-alls/similar").await.status, 404);
    assert!(app.get("/api/v1/jobs/%00%27/similar").await.status.is_client_error());
}

/// Saved ads without an account or a cookie: the list is the address of
/// `/sparade`; ad pages reached from it add to it; the list can be mailed
/// (open ads only, at a bounded rate); garbage in the list is named.
async fn a_saved_list_lives_in_its_address_and_can_be_mailed(app: &TestApp) {
    let (_, key) = app.employer_with_key("Sparkommunen").await;
    let a = app.publish_job(&key, app.job("Upphandlare A")).await;
    let b = app.publish_job(&key, app.job("Inköpare B")).await;
    let c = app.publish_job(&key, app.job("Avtalscontroller C")).await;
    let (id_c, a, b, c) = (c, slug_of(app, a).await, slug_of(app, b).await, slug_of(app, c).await);
    app.call(Method::POST, &format!("/api/v1/jobs/{id_c}/close"), Some(&key), None).await;

    let (status, _, html) = page(app, "/sparade").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Du har inga sparade annonser"), "{html}");
    assert!(html.contains(r#"<meta name="robots" content="noindex">"#));

    // Repeated and comma-separated, repeats and unknown addresses dropped.
    let (status, _, html) =
        page(app, &format!("/sparade?annons={a}&annons={b},{c}&annons={a}&annons=finns-inte")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("3 sparade annonser, 2 öppna"), "{html}");
    let (pa, pb, pc) = (
        html.find("Upphandlare A").unwrap(),
        html.find("Inköpare B").unwrap(),
        html.find("Avtalscontroller C").unwrap(),
    );
    assert!(pa < pb && pb < pc, "in the list's order");
    assert_eq!(html.matches("Inte längre öppen").count(), 1, "{html}");
    assert!(html.contains(&format!(r#"href="/sparade?annons={b}&#38;annons={c}""#)), "removing A: {html}");
    assert!(html.contains(&format!(r#"href="/jobb/{a}?sparade={a},{b},{c}""#)), "{html}");
    assert!(html.contains(&format!(r#"name="annons" value="{a},{b},{c}""#)), "{html}");

    // "Spara" on an ad: alone, or added to the list it was reached from.
    let (_, _, ad) = page(app, &format!("/jobb/{b}")).await;
    assert!(ad.contains(&format!(r#"<a class="save" data-slug="{b}" href="/sparade?annons={b}">"#)), "{ad}");
    let (_, _, ad) = page(app, &format!("/jobb/{b}?sparade={a},{c}")).await;
    assert!(ad.contains(&format!(r#"href="/sparade?annons={a}&#38;annons={c}&#38;annons={b}">"#)), "{ad}");
    let (_, _, ad) = page(app, &format!("/jobb/{b}?sparade=%3Cscript%3E")).await;
    assert!(ad.contains(&format!(r#"href="/sparade?annons={b}">"#)), "a list that does not read is left out");
    let (_, _, list) = page(app, "/jobb?q=upphandlare").await;
    assert!(list.contains(&format!(r#"<a class="save" data-slug="{a}" href="/sparade?annons={a}">"#)), "{list}");

    // Garbage in the list is named.
    let many = (0..51).map(|i| format!("annons=annons-{i}")).collect::<Vec<_>>().join("&");
    for bad in [
        "annons=%3Cscript%3E".to_owned(),
        "annons=x".to_owned(),
        "annons=%00".to_owned(),
        format!("annons={}", "a".repeat(10_000)),
        many,
        "annons=%F0%9F%99%82".to_owned(),
    ] {
        let (status, _, html) = page(app, &format!("/sparade?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}", &bad[..bad.len().min(40)]);
        assert!(html.contains("Fältet annons"), "{html}");
    }

    // Mailed: the open ads, with a link back to the whole list.
    let form = |email: &str, list: &str| {
        app.client.post(app.url("/sparade/skicka")).form(&[("email", email), ("annons", list)]).send()
    };
    let list = format!("{a},{b},{c}");
    let r = form("spara@example.se", &list).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Listan är skickad till spara@example.se."));
    let mail = app.smtp.wait_for("spara@example.se").await;
    let body = mail.body();
    assert!(body.contains("Upphandlare A") && body.contains("Inköpare B"), "{body}");
    assert!(!body.contains("Avtalscontroller C"), "a closed ad is not mailed: {body}");
    assert!(body.contains(&format!("/sparade?annons={a}&annons={b}&annons={c}")), "{body}");

    // Refused, each with its reason and no mail.
    for (email, list, status, says) in [
        ("inte en adress", list.as_str(), StatusCode::UNPROCESSABLE_ENTITY, "e-post"),
        ("tom@example.se", "", StatusCode::UNPROCESSABLE_ENTITY, "inga sparade annonser att skicka"),
        ("stangd@example.se", c.as_str(), StatusCode::UNPROCESSABLE_ENTITY, "Ingen av de sparade annonserna"),
        ("skrap@example.se", "<script>", StatusCode::BAD_REQUEST, "Fältet annons"),
    ] {
        let r = form(email, list).await.unwrap();
        assert_eq!(r.status(), status, "{email} {list}");
        let text = r.text().await.unwrap();
        assert!(text.to_lowercase().contains(&says.to_lowercase()), "{email}: {text}");
    }
    assert_eq!(app.smtp.mails().len(), 1, "only the one mail");
    // Five lists per client address, then a pause.
    for _ in 0..4 {
        assert_eq!(form("flera@example.se", &a).await.unwrap().status(), StatusCode::OK);
    }
    let r = form("flera@example.se", &a).await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "600");
}

/// A browser (it asks for HTML) that mistypes an address gets a Swedish
/// page with the site's header and a search box; the API and clients that
/// ask for JSON keep problem+json.
async fn a_browser_gets_a_page_for_an_address_that_is_not_there(app: &TestApp) {
    let html_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    for (path, status) in [("/finns-inte", 404), ("/jobb/a/b/c", 404), ("/bevakningar", 405)] {
        let r = app.client.get(app.url(path)).header("accept", html_accept).send().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{path}");
        let html = r.text().await.unwrap();
        assert!(html.contains("<h1>Sidan finns inte</h1>"), "{path}: {html}");
        assert!(html.contains(r#"<form class="search" method="get" action="/jobb" role="search">"#), "{path}");
        assert!(html.contains(r#"<header class="site">"#), "{path}");
    }
    for (path, accept) in
        [("/finns-inte", "application/json"), ("/api/v1/finns-inte", html_accept), ("/finns-inte", "*/*")]
    {
        let r = app.client.get(app.url(path)).header("accept", accept).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.headers()["content-type"], "application/problem+json", "{path} {accept}");
    }
}

/// The search form sends every field, empty ones too; the address a reader
/// shares carries only what was chosen. A page past the last leads back to
/// the last one. The site has an icon.
async fn search_addresses_carry_only_what_is_chosen(app: &TestApp) {
    let (_, key) = app.employer_with_key("Adresskommunen").await;
    for i in 0..23 {
        app.publish_job(&key, app.job(&format!("Upphandlare nummer {i}"))).await;
    }
    let r = app.get("/jobb?q=&role=&county=01&municipality=&employment_type=&remote=&employer=&sort=relevance").await;
    assert_eq!((r.status.as_u16(), r.header("location")), (302, Some("/jobb?county=01")));
    let r = app.get("/jobb?q=upphandlare+nacka&sort=newest&page=1").await;
    assert_eq!(r.header("location"), Some("/jobb?q=upphandlare+nacka&sort=newest"));
    assert_eq!(app.get("/jobb?county=01").await.status, StatusCode::OK, "a canonical address is served");
    // Past the end: the last page.
    let r = app.get("/jobb?page=99").await;
    assert_eq!((r.status.as_u16(), r.header("location")), (302, Some("/jobb?page=2")));
    let r = app.get("/jobb?role=inkopare&page=3").await;
    assert_eq!(r.header("location"), Some("/jobb?role=inkopare"), "no hits: the first page");
    // The icon, linked from every page and at the address browsers try.
    let (_, _, html) = page(app, "/jobb").await;
    assert!(html.contains(r#"<link rel="icon" href="/favicon.ico" sizes="32x32">"#), "{html}");
    let start = html.find(r#"<link rel="icon" href="/static/favicon."#).expect("the SVG icon")
        + r#"<link rel="icon" href=""#.len();
    let href = &html[start..start + html[start..].find('"').unwrap()];
    let r = app.client.get(app.url(href)).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    assert!(r.text().await.unwrap().starts_with("<svg"));
    let r = app.client.get(app.url("/favicon.ico")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/x-icon");
    assert_eq!(&r.bytes().await.unwrap()[..4], &[0, 0, 1, 0], "an ICO file");
}

/// Names sort as Swedish does (å, ä, ö after z): employers, and the places
/// in the ad form and the search's filters.
async fn names_are_sorted_as_swedish_sorts_them(app: &TestApp) {
    for name in ["Örebro kommun", "Ronneby kommun", "Älmhults kommun", "Norrtälje kommun", "Åre kommun"] {
        app.create_employer(name).await;
    }
    let list = app.get("/api/v1/employers?per_page=100").await;
    let names: Vec<&str> = list.body["items"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Norrtälje kommun", "Ronneby kommun", "Åre kommun", "Älmhults kommun", "Örebro kommun"]);
    // Municipalities by name in the search's filter (Skåne: Ängelholm, Örkelljunga last).
    let (_, key) = app.employer_with_key("Skånska kommunen").await;
    for code in ["1292", "1257", "1277", "1230"] {
        app.publish_job(&key, with(app.job("Upphandlare i Skåne"), json!({ "municipality_code": code }))).await;
    }
    let (_, _, html) = page(app, "/jobb?county=12").await;
    let select = &html[html.find(r#"<select id="municipality""#).unwrap()..];
    let select = &select[..select.find("</select>").unwrap()];
    let order: Vec<&str> =
        ["Staffanstorp", "Åstorp", "Ängelholm", "Örkelljunga"].into_iter().filter(|n| select.contains(n)).collect();
    assert_eq!(order.len(), 4, "{select}");
    let positions: Vec<usize> = order.iter().map(|n| select.find(n).unwrap()).collect();
    assert!(positions.is_sorted(), "Staffanstorp, Åstorp, Ängelholm, Örkelljunga: {select}");
}

/// Search snippets keep a heading apart from the text after it.
async fn snippets_keep_headings_apart_from_text(app: &TestApp) {
    let (_, key) = app.employer_with_key("Snuttkommunen").await;
    let description =
        "## Om oss\n\nEn växande kommun med fokus på hållbar upphandling.\n\n## Vi erbjuder\n\n- Friskvård\n- Flex";
    app.publish_job(&key, with(app.job("Upphandlare hos Snuttkommunen"), json!({ "description": description }))).await;
    let r = app.get("/api/v1/jobs/search?q=v%C3%A4xande").await;
    let snippet = r.body["hits"][0]["snippet"].as_str().unwrap().replace("<mark>", "").replace("</mark>", "");
    assert!(snippet.contains("Om oss. En växande kommun"), "{snippet}");
    assert!(!snippet.contains("Om oss En"), "{snippet}");
}
