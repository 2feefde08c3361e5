//! The pages in a real browser (headless Chromium, see
//! `platsen_tests::browser`), on the demo board: what a job seeker and a
//! reader do, with the keyboard too, at desktop and phone width. Each test
//! saves screenshots of the pages it visits (`target/screenshots/`, and
//! `docs/screenshots/` with `PLATSEN_UPDATE_SCREENSHOTS=1`).

use platsen_tests::TestApp;
use platsen_tests::browser::Browser;
use serde_json::Value;

async fn demo_board() -> TestApp {
    let app = TestApp::sqlite().await;
    app.seed_demo().await;
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_seeker_searches_filters_opens_an_ad_and_follows_the_apply_link() {
    let app = demo_board().await;
    let Some(b) = Browser::start(1280).await else { return };

    b.goto(&app.url("/")).await;
    assert!(b.client.title().await.unwrap().ends_with(" – Platsen"));
    b.screenshots("jobb").await;

    // Typeahead: two letters bring suggestions from the API into the list.
    let q = b.el("#q").await;
    q.send_keys("upph").await.unwrap();
    b.until("typeahead suggestions", "return document.querySelectorAll('#q-suggest option').length > 0").await;
    let first = b.js("return document.querySelector('#q-suggest option').value").await;
    assert!(first.as_str().unwrap().to_lowercase().contains("upph"), "{first}");

    // Search by words: the count and the marks follow.
    q.send_keys("andlare").await.unwrap();
    b.el("form.search button[type=submit]").await.click().await.unwrap();
    b.until("the search", "return location.search.includes('q=upphandlare')").await;
    let hits = b.js("return document.querySelectorAll('li.hit').length").await.as_u64().unwrap();
    assert!(hits > 0, "demo ads match 'upphandlare'");
    assert!(b.js("return document.querySelectorAll('li.hit mark').length").await.as_u64().unwrap() > 0);

    // A county filter: its count is what the search then finds.
    b.goto(&app.url("/jobb")).await;
    let option = b
        .js("const o = [...document.querySelectorAll('#county option')].find(o => o.value); \
             return [o.value, o.textContent]")
        .await;
    let (code, label) = (option[0].as_str().unwrap().to_owned(), option[1].as_str().unwrap().to_owned());
    let n: u64 = label.rsplit('(').next().unwrap().trim_end_matches(')').parse().unwrap();
    b.js(&format!("document.getElementById('county').value = '{code}'; return null")).await;
    b.el("form.search button[type=submit]").await.click().await.unwrap();
    b.until("the filtered search", &format!("return location.search.includes('county={code}')")).await;
    let summary = b.el("p.count").await.text().await.unwrap();
    let expected = if n == 1 { "1 ledigt jobb".to_owned() } else { format!("{n} lediga jobb") };
    assert!(summary.starts_with(&expected), "'{summary}' after choosing {label}");
    assert_eq!(b.js("return document.querySelectorAll('li.hit').length").await.as_u64().unwrap(), n.min(20));
    let selected = b.js("return document.getElementById('county').value").await;
    assert_eq!(selected, Value::String(code.clone()), "the filter stays chosen");

    // Open the first ad.
    let title = b.el("li.hit h2 a").await.text().await.unwrap();
    b.el("li.hit h2 a").await.click().await.unwrap();
    b.until("the job page", "return location.pathname.startsWith('/jobb/')").await;
    assert_eq!(b.el("h1").await.text().await.unwrap(), title);
    b.screenshots("jobb-annons").await;

    // The JSON-LD parses and holds Google's required properties.
    let ld =
        b.js("return JSON.parse(document.querySelector('script[type=\"application/ld+json\"]').textContent)").await;
    assert_eq!(ld["@type"], "JobPosting");
    assert_eq!(ld["title"], Value::String(title.clone()));
    for key in [
        "description",
        "datePosted",
        "validThrough",
        "hiringOrganization",
        "jobLocation",
        "employmentType",
        "identifier",
    ] {
        assert!(!ld[key].is_null(), "JobPosting.{key} in {ld}");
    }
    assert_eq!(ld["jobLocation"]["address"]["addressCountry"], "SE");

    // The apply link leads to the employer's address (not reachable from
    // this closed network, so the browser shows an error page there).
    // Platsen counts the click, then sends the browser on to the employer's
    // address, which this closed network cannot reach; WebDriver still
    // reports where the browser went.
    let href = b.el("a.apply").await.attr("href").await.unwrap().unwrap();
    assert!(href.starts_with("/jobb/") && href.ends_with("/ansok"), "{href}");
    b.el("a.apply").await.click().await.unwrap();
    let mut landed = String::new();
    for _ in 0..100 {
        landed = b.url().await;
        if landed.starts_with("https://example.org/demo/") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(landed.starts_with("https://example.org/demo/"), "{landed}");

    b.stop().await;
    app.stop().await;
}

/// How many pages a PDF has: its page objects (`/Type /Page`, not the
/// `/Type /Pages` tree above them).
fn pdf_pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    text.matches("/Type /Page").count() - text.matches("/Type /Pages").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ad_page_offers_similar_ads_ways_to_share_and_prints_on_one_page() {
    let app = demo_board().await;
    let Some(b) = Browser::start(1280).await else { return };
    let list = app.get("/api/v1/jobs?role=upphandlare&per_page=1").await;
    let slug = list.body["items"][0]["slug"].as_str().expect("a demo upphandlare").to_owned();
    b.goto(&app.url(&format!("/jobb/{slug}"))).await;

    let published = b.el("p.published time").await.text().await.unwrap();
    assert!(published.starts_with("Publicerad "), "{published}");

    // The script shows the copy and print buttons; copying says how it went.
    b.until("the copy button", "return !document.querySelector('button.copy-link').hidden").await;
    b.until("the print button", "return !document.querySelector('button.print').hidden").await;
    b.el("button.copy-link").await.click().await.unwrap();
    b.until("the copy status", "return document.querySelector('.copy-status').textContent.length > 0").await;
    let said = b.el(".copy-status").await.text().await.unwrap();
    assert!(["Länken är kopierad.", "Länken kunde inte kopieras."].contains(&said.as_str()), "{said}");
    let linkedin = b.el("section.share a[href^='https://www.linkedin.com/']").await.attr("href").await.unwrap();
    assert!(linkedin.unwrap().ends_with(
        &url::form_urlencoded::byte_serialize(app.url(&format!("/jobb/{slug}")).as_bytes()).collect::<String>()
    ));

    // Printed: one page, with where to apply, without the share controls
    // and the similar ads.
    let config = fantoccini::wd::PrintConfiguration::builder().build().unwrap();
    let pdf = b.client.print(config).await.unwrap();
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    assert_eq!(pdf_pages(&pdf), 1, "the ad prints on one page");
    let print_rules = b
        .js("const hidden = s => [...document.styleSheets].flatMap(x => [...x.cssRules]) \
               .filter(r => r.media && r.media.mediaText === 'print') \
               .flatMap(r => [...r.cssRules]).some(r => r.selectorText && r.selectorText.split(', ').includes(s) \
               && r.style.display === 'none'); \
             return [hidden('.no-print'), getComputedStyle(document.querySelector('.print-only')).display, \
               document.querySelector('section.share').classList.contains('no-print'), \
               document.querySelector('section.similar').classList.contains('no-print')]")
        .await;
    assert_eq!(print_rules, serde_json::json!([true, "none", true, true]), "print rules");
    b.screenshots("jobb-annons-liknande").await;

    // Similar ads, and one of them opens.
    let n = b.js("return document.querySelectorAll('section.similar li.hit').length").await.as_u64().unwrap();
    assert!((1..=5).contains(&n), "{n} similar ads");
    let title = b.el("section.similar li.hit h3 a").await.text().await.unwrap();
    b.el("section.similar li.hit h3 a").await.click().await.unwrap();
    b.until("the similar ad", &format!("return location.pathname !== '/jobb/{slug}'")).await;
    assert_eq!(b.el("h1").await.text().await.unwrap(), title);

    b.stop().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_seeker_saves_ads_and_finds_them_on_the_saved_page() {
    let app = demo_board().await;
    let Some(b) = Browser::start(1280).await else { return };
    b.goto(&app.url("/jobb")).await;
    let first = b.el("li.hit a.save").await.attr("data-slug").await.unwrap().unwrap();
    b.el("li.hit a.save").await.click().await.unwrap();
    b.wait_text("li.hit a.save .save-label", "Sparad").await;
    assert_eq!(b.el("li.hit a.save").await.attr("aria-pressed").await.unwrap().as_deref(), Some("true"));
    assert_eq!(b.url().await, app.url("/jobb"), "saving stays on the page");
    b.wait_text("a.saved-link", "Sparade (1)").await;

    // A second ad, from its own page.
    let second = b.js("return document.querySelectorAll('li.hit a.save')[1].dataset.slug").await;
    let second = second.as_str().unwrap().to_owned();
    b.goto(&app.url(&format!("/jobb/{second}"))).await;
    b.el("a.save").await.click().await.unwrap();
    b.wait_text("a.save .save-label", "Sparad – ta bort").await;
    b.wait_text("a.saved-link", "Sparade (2)").await;

    // The saved page: both, in the order saved, in its address too.
    b.el("a.saved-link").await.click().await.unwrap();
    b.until("the saved list", "return document.querySelectorAll('ul.saved li.hit').length === 2").await;
    assert_eq!(b.url().await, app.url(&format!("/sparade?annons={first}&annons={second}")));
    b.screenshots("sparade").await;

    // Removing one; a reload keeps the rest.
    b.el("ul.saved li.hit a.unsave").await.click().await.unwrap();
    b.until("one left", "return document.querySelectorAll('ul.saved li.hit').length === 1").await;
    b.goto(&app.url("/sparade")).await;
    b.until("the stored list", "return document.querySelectorAll('ul.saved li.hit').length === 1").await;
    assert_eq!(b.url().await, app.url(&format!("/sparade?annons={second}")));
    b.wait_text("a.saved-link", "Sparade (1)").await;

    b.stop().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_salary_page_shows_its_charts_and_the_calculator_answers() {
    let app = demo_board().await;
    let Some(b) = Browser::start(1280).await else { return };

    b.goto(&app.url("/lonestatistik")).await;
    assert!(b.el("h1").await.text().await.unwrap().starts_with("Lönestatistik "));
    // The four charts load as images.
    b.js("document.querySelectorAll('.charts img').forEach(i => i.loading = 'eager'); return null").await;
    b.until(
        "the charts",
        "const i = [...document.querySelectorAll('.charts img')]; \
         return i.length === 4 && i.every(i => i.complete && i.naturalWidth > 0)",
    )
    .await;
    b.screenshots("lonestatistik").await;

    // Narrow to a role, then compare a salary.
    b.js("document.getElementById('f-role').value = 'upphandlare'; return null").await;
    b.el("form.search button[type=submit]").await.click().await.unwrap();
    b.until("the role", "return location.search.includes('role=upphandlare')").await;
    let lon = b.el("#lon").await;
    lon.send_keys("45 000").await.unwrap();
    b.el("#jamfor button[type=submit]").await.click().await.unwrap();
    let answer = b.el(".answer p").await.text().await.unwrap();
    assert!(answer.starts_with("45 000 kr är"), "{answer}");
    assert!(b.url().await.contains("role=upphandlare"), "the comparison keeps the selection");
    let meter = b.js("const m = document.getElementById('gauge'); return m ? m.value : null").await;
    assert!(meter.as_f64().is_some_and(|v| (0.0..=100.0).contains(&v)), "{meter}");
    b.screenshots("lonestatistik-jamfor").await;

    // A wrong entry is explained next to the field, which keeps focus order.
    b.el("#lon").await.clear().await.unwrap();
    b.el("#lon").await.send_keys("fyrtiofemtusen").await.unwrap();
    b.el("#jamfor button[type=submit]").await.click().await.unwrap();
    let error = b.el("#lon-error").await.text().await.unwrap();
    assert!(error.starts_with("Ange lönen"), "{error}");
    assert_eq!(b.el("#lon").await.attr("aria-invalid").await.unwrap().as_deref(), Some("true"));

    // The group that fits a procurement lawyer in Norrbotten, new to the
    // work and over 60, is too small to publish: the answer says so and
    // which larger group it compared with.
    b.goto(&app.url("/lonestatistik?role=upphandlingsjurist&county=25")).await;
    b.js("document.getElementById('erfarenhet').value = '0-1'; document.getElementById('alder').value = '60-'; return null")
        .await;
    b.el("#lon").await.send_keys("52 000").await.unwrap();
    b.el("#jamfor button[type=submit]").await.click().await.unwrap();
    let fallback = b.el("#jamfor p.fallback").await.text().await.unwrap();
    assert!(
        fallback.starts_with("Gruppen som passar dig bäst (Upphandlingsjurist · Norrbottens län · Under 1 år · 60 år eller äldre) har för få svar"),
        "{fallback}"
    );
    assert!(b.el("#jamfor .answer").await.text().await.unwrap().contains("52 000 kr"));
    assert_eq!(b.js("return document.getElementById('alder').value").await, "60-", "the choices are kept");
    b.screenshots("lonestatistik-jamfor-storre-grupp").await;

    b.stop().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_work_from_the_keyboard_and_on_a_phone() {
    let app = demo_board().await;
    let Some(b) = Browser::start(390).await else { return };

    // Tab first reaches the skip link, which is then visible, and it jumps
    // to the main content.
    b.goto(&app.url("/jobb")).await;
    b.js("document.body.focus(); return null").await;
    b.client.active_element().await.unwrap().send_keys(&fantoccini::key::Key::Tab.to_string()).await.unwrap();
    let active = b.js("return document.activeElement.className").await;
    assert_eq!(active, "skip");
    let visible =
        b.js("const r = document.activeElement.getBoundingClientRect(); return r.top >= 0 && r.height > 0").await;
    assert_eq!(visible, Value::Bool(true), "the focused skip link is on screen");
    let outline = b.js("return getComputedStyle(document.activeElement).outlineStyle").await;
    assert_ne!(outline, "none", "focus is visible");

    // Every input has a label.
    for path in ["/jobb", "/lonestatistik"] {
        b.goto(&app.url(path)).await;
        let unlabelled = b
            .js("return [...document.querySelectorAll('input:not([type=hidden]), select')] \
                 .filter(e => !(e.labels && e.labels.length)).map(e => e.id || e.name)")
            .await;
        assert_eq!(unlabelled, Value::Array(vec![]), "{path}");
    }

    // The employer page, at phone width.
    b.goto(&app.url("/jobb")).await;
    let employer = b.el("li.hit p.meta a").await.attr("href").await.unwrap().unwrap();
    b.goto(&app.url(&employer)).await;
    assert!(b.js("return document.querySelectorAll('li.hit').length").await.as_u64().unwrap() > 0);
    b.screenshots("arbetsgivare").await;

    b.stop().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_employer_copies_a_closed_ad_and_schedules_the_copy() {
    let app = TestApp::sqlite().await;
    let password = "ett långt lösenord för test";
    let employer = app.create_employer("Vaxholms stad").await;
    app.create_user(employer, "karin@vaxholm.se", password).await;
    let key = app.create_key(employer).await;
    let closed = app.publish_job(&key, app.job("Upphandlare till Vaxholm")).await;
    app.call(reqwest::Method::POST, &format!("/api/v1/jobs/{closed}/close"), Some(&key), None).await;
    let Some(b) = Browser::start(1280).await else { return };
    b.sign_in(&app.url("/konto"), "karin@vaxholm.se", password, "Vaxholms stad").await;

    // Copy the closed ad: a new draft, opened for editing.
    b.goto(&app.url(&format!("/konto/annonser/{closed}"))).await;
    b.el("form:has(input[value='kopiera']) button").await.click().await.unwrap();
    b.until("the copy", "return location.search.includes('klart=kopiera')").await;
    let copy: i64 = b.url().await.split("/konto/annonser/").nth(1).unwrap().split('?').next().unwrap().parse().unwrap();
    assert_ne!(copy, closed);
    assert_eq!(b.el("h1").await.text().await.unwrap(), "Redigera: Upphandlare till Vaxholm");
    assert!(b.el("p.notice").await.text().await.unwrap().contains("kopia"));
    assert_eq!(b.el("#status-h").await.text().await.unwrap(), "Status: Utkast");

    // A time that has passed is refused next to the field.
    let local = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&chrono_tz::Europe::Stockholm).format("%Y-%m-%dT%H:%M").to_string()
    };
    let set = |v: String| format!("document.getElementById('publish_at').value = '{v}'; return null");
    b.js(&set(local(app.clock.now() - chrono::Duration::hours(1)))).await;
    b.el("form.schedule button").await.click().await.unwrap();
    b.wait_text("#publish_at-error", "Välj en tidpunkt som inte har passerat.").await;
    assert_eq!(b.el("#publish_at").await.attr("aria-invalid").await.unwrap().as_deref(), Some("true"));

    // Tomorrow at this time: scheduled, and said so.
    b.js(&set(local(app.clock.now() + chrono::Duration::days(1)))).await;
    b.el("form.schedule button").await.click().await.unwrap();
    b.until("the schedule", "return location.search.includes('klart=schemalagg')").await;
    assert_eq!(b.el("#status-h").await.text().await.unwrap(), "Status: Schemalagd");
    let said = b.el("p.scheduled").await.text().await.unwrap();
    assert!(said.starts_with("Publiceras automatiskt ") && said.contains(" kl. "), "{said}");
    b.screenshots("konto-schemalagd").await;

    // Its time comes: the sweep publishes it (the session has expired by
    // then, so the API tells), and the public page shows it.
    app.clock.advance(chrono::Duration::days(1) + chrono::Duration::minutes(1));
    let mut status = serde_json::Value::Null;
    for _ in 0..60 {
        let own = app.call(reqwest::Method::GET, &format!("/api/v1/account/jobs/{copy}"), Some(&key), None).await;
        status = own.body["status"].clone();
        if status == "published" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert_eq!(status, "published");
    let slug = app.get(&format!("/api/v1/jobs/{copy}")).await.body["slug"].as_str().unwrap().to_owned();
    b.goto(&app.url(&format!("/jobb/{slug}"))).await;
    assert_eq!(b.el("h1").await.text().await.unwrap(), "Upphandlare till Vaxholm");
    assert_eq!(b.el("p.published time").await.text().await.unwrap(), "Publicerad i dag");

    b.stop().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_employer_signs_in_posts_an_ad_and_another_employer_is_kept_out() {
    let app = TestApp::sqlite().await;
    let password = "ett långt lösenord för test";
    let nacka = app.create_employer("Nacka kommun").await;
    app.create_user(nacka, "anna@nacka.se", password).await;
    let sjobo = app.create_employer("Sjöbo kommun").await;
    app.create_user(sjobo, "olle@sjobo.se", password).await;
    let Some(b) = Browser::start(1280).await else { return };

    // Sign in from the menu.
    b.goto(&app.url("/")).await;
    b.el("a[href='/konto']").await.click().await.unwrap();
    b.el("#email").await.send_keys("anna@nacka.se").await.unwrap();
    b.el("#password").await.send_keys(password).await.unwrap();
    b.screenshots("konto-logga-in").await;
    b.el("form.account button[type=submit]").await.click().await.unwrap();
    b.wait_text("h1", "Nacka kommun").await;

    // A new ad: first with mistakes, shown next to the fields.
    b.el("a[href='/konto/annonser/ny']").await.click().await.unwrap();
    b.el("#title").await.send_keys("Upphandlare till Nacka kommun").await.unwrap();
    b.el("#salary_min").await.send_keys("fyrtiotusen").await.unwrap();
    b.el("form.ad button[type=submit]").await.click().await.unwrap();
    b.wait_text("#salary_min-error", "Ange ett heltal, till exempel 45000.").await;
    assert!(b.el("#description-error").await.text().await.unwrap().len() > 5);
    assert_eq!(b.js("return document.getElementById('title').value").await, "Upphandlare till Nacka kommun");
    b.screenshots("konto-annons-fel").await;

    // Then right.
    b.el("#salary_min").await.clear().await.unwrap();
    b.el("#salary_min").await.send_keys("45000").await.unwrap();
    b.el("#salary_max").await.send_keys("52000").await.unwrap();
    b.el("#description")
        .await
        .send_keys("Du leder upphandlingar enligt LOU, från behovsanalys till avtal och uppföljning.")
        .await
        .unwrap();
    let deadline = app.date_in(21);
    b.js(&format!(
        "document.getElementById('role').value = 'upphandlare'; \
         document.getElementById('municipality_code').value = '0182'; \
         document.getElementById('employment_type').value = 'tillsvidare'; \
         document.getElementById('application_deadline').value = '{deadline}'; return null"
    ))
    .await;
    b.el("#apply_url").await.send_keys("https://example.org/nacka/ansok").await.unwrap();
    b.el("form.ad button[type=submit]").await.click().await.unwrap();
    b.wait_text(".notice", "Ändringarna är sparade.").await;
    let edit = b.url().await.split('?').next().unwrap().to_owned();

    // A form posted without its CSRF token is refused.
    b.js("document.querySelector('form.ad input[name=csrf]').remove(); return null").await;
    b.el("form.ad button[type=submit]").await.click().await.unwrap();
    b.wait_text("h1", "Formuläret kunde inte skickas").await;
    b.goto(&edit).await;

    // Publish: live and searchable.
    b.el("form.inline button[type=submit]").await.click().await.unwrap();
    b.wait_text(".notice", "Annonsen är publicerad.").await;
    b.screenshots("konto-annons").await;
    b.goto(&app.url("/jobb?q=upphandlare+nacka")).await;
    let first = b.el("li.hit h2 a").await;
    assert_eq!(first.text().await.unwrap(), "Upphandlare till Nacka kommun");
    first.click().await.unwrap();
    b.wait_text("h1", "Upphandlare till Nacka kommun").await;
    b.goto(&app.url("/konto")).await;
    assert!(b.el("table.ads").await.text().await.unwrap().contains("Publicerad"));
    b.screenshots("konto").await;

    // Sign out; Olle from Sjöbo cannot open Anna's edit page.
    b.el(".account-head button[type=submit]").await.click().await.unwrap();
    b.wait_text(".notice", "Du är utloggad.").await;
    b.el("#email").await.send_keys("olle@sjobo.se").await.unwrap();
    b.el("#password").await.send_keys(password).await.unwrap();
    b.el("form.account button[type=submit]").await.click().await.unwrap();
    b.wait_text("h1", "Sjöbo kommun").await;
    b.goto(&edit).await;
    b.wait_text("h1", "Annonsen finns inte").await;
    assert!(!b.js("return document.body.textContent").await.as_str().unwrap().contains("Upphandlare till Nacka"));

    b.stop().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_rejects_and_approves_ads_in_the_review_queue() {
    let app = TestApp::sqlite().await;
    let password = "ett långt lösenord för drift";
    app.store.create_user(None, "drift@platsen.se", password, true, app.clock.now()).await.unwrap();
    let r = app
        .admin(
            reqwest::Method::POST,
            "/api/v1/employers",
            Some(serde_json::json!({
                "name": "Täby kommun", "organization_number": platsen_tests::org_number(), "requires_review": true
            })),
        )
        .await;
    let employer = r.body["id"].as_i64().unwrap();
    let key = app.create_key(employer).await;
    let mut ids = Vec::new();
    for title in ["Inköpare till Täby kommun", "Avtalscontroller till Täby kommun"] {
        let id = app.post_job(&key, app.job(title)).await;
        let r = app.call(reqwest::Method::POST, &format!("/api/v1/jobs/{id}/publish"), Some(&key), None).await;
        assert_eq!(r.body["status"], "pending_review");
        ids.push(id);
    }
    let Some(b) = Browser::start(1280).await else { return };

    b.sign_in(&app.url("/konto"), "drift@platsen.se", password, "Administration").await;
    assert!(b.el("main").await.text().await.unwrap().contains("annonser väntar på granskning"));
    b.screenshots("admin").await;

    b.el("nav.admin-nav a[href='/konto/granskning']").await.click().await.unwrap();
    b.wait_text("h1", "Granskning").await;
    b.screenshots("admin-granskning").await;
    // Reject without a reason: the message is next to that ad's field.
    let reject = format!("#annons-{} form.review-reject button", ids[1]);
    b.el(&reject).await.click().await.unwrap();
    b.wait_text(&format!("#reason-{}-error", ids[1]), "Fältet får inte vara tomt.").await;
    b.el(&format!("#reason-{}", ids[1])).await.send_keys("Ange lönen i kronor per månad.").await.unwrap();
    b.el(&reject).await.click().await.unwrap();
    b.wait_text(".notice", "Annonsen är avvisad och tillbaka hos arbetsgivaren som utkast.").await;
    // Approve the other: live at once.
    b.el(&format!("#annons-{} form.inline button", ids[0])).await.click().await.unwrap();
    b.wait_text(".notice", "Annonsen är godkänd och publicerad.").await;
    b.wait_text("#queue-empty", "Inga annonser väntar på granskning.").await;
    b.goto(&app.url("/jobb?q=inköpare+täby")).await;
    assert_eq!(b.el("li.hit h2 a").await.text().await.unwrap(), "Inköpare till Täby kommun");

    b.goto(&app.url(&format!("/konto/arbetsgivare/{employer}"))).await;
    b.wait_text("h1", "Täby kommun").await;
    b.screenshots("admin-arbetsgivare").await;

    b.stop().await;
    app.stop().await;
}

/// A career page of its own, on another origin (`localhost` and another
/// port), serving `html` for every request.
async fn career_site(html: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let html = html.clone();
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = vec![0u8; 8192];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let (status, body) =
                    if got.starts_with(b"GET / ") { ("200 OK", html) } else { ("404 Not Found", String::new()) };
                let head = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(body.as_bytes()).await;
            });
        }
    });
    format!("http://localhost:{port}/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_employers_ads_render_on_its_career_page_on_another_origin() {
    let app = demo_board().await;
    // The demo employer with the most open ads.
    let employers = app.store.employers(1, 100, app.clock.now()).await.unwrap();
    let employer = employers.items.iter().max_by_key(|e| e.open_jobs).unwrap().clone();
    assert!(employer.open_jobs >= 2, "{employer:?}");
    // One of its ads closes in two days and states a salary.
    let soon = app
        .admin(
            reqwest::Method::POST,
            "/api/v1/jobs",
            Some(platsen_tests::with(
                app.job("Upphandlare med bråttom"),
                serde_json::json!({ "employer_id": employer.id, "application_deadline": app.date_in(2),
                                    "salary_min": 145_000, "salary_max": 152_000 }),
            )),
        )
        .await;
    let soon = soon.body["id"].as_i64().unwrap();
    let r = app.admin(reqwest::Method::POST, &format!("/api/v1/jobs/{soon}/publish"), None).await;
    assert_eq!(r.status, reqwest::StatusCode::OK, "{}", r.body);
    let shown = (employer.open_jobs + 1).min(5);
    let host_page = format!(
        r#"<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Jobba hos oss – {name}</title>
<script>
  window.__errors = [];
  addEventListener("error", e => __errors.push("error: " + e.message));
  addEventListener("unhandledrejection", e => __errors.push("rejection: " + e.reason));
  document.addEventListener("securitypolicyviolation", e => __errors.push("csp: " + e.violatedDirective));
  const consoleError = console.error;
  console.error = (...a) => {{ __errors.push("console: " + a.join(" ")); consoleError(...a); }};
</script>
<style>
  /* The career site's own styles, deliberately hostile to anything embedded. */
  :root {{ --platsen-accent: rgb(0, 102, 51); --platsen-font: Georgia, serif; }}
  body {{ font-family: "Trebuchet MS", sans-serif; margin: 0; background: #f6f3ee; color: #2b2b2b; }}
  header {{ background: rgb(0, 102, 51); color: #fff; padding: 24px 32px; }}
  header h1 {{ margin: 0; font-size: 28px; }}
  main {{ display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); gap: 32px; padding: 32px; max-width: 1100px; }}
  @media (max-width: 700px) {{ main {{ grid-template-columns: minmax(0, 1fr); padding: 16px; }} }}
  li {{ color: rgb(150, 30, 30); font-size: 19px; }}
  .title {{ display: none; }}
  a {{ color: rgb(200, 0, 200); }}
  aside {{ background: #fff; padding: 16px; border-radius: 8px; }}
</style></head>
<body>
<header><h1>Jobba hos {name}</h1></header>
<main>
  <section>
    <p>Vi söker kollegor som vill göra skillnad i offentlig upphandling.</p>
    <script src="{platsen}/embed/v1/platsen.js" data-employer="{slug}" data-limit="5" data-jsonld="true" async></script>
  </section>
  <aside>
    <h2>Förmåner</h2>
    <ul class="host"><li id="host-li">Friskvård</li></ul>
    <h2>Som iframe</h2>
    <iframe id="frame" src="{platsen}/embed/jobs?employer={slug}&amp;limit=2" title="Lediga jobb" style="width:100%;border:0"></iframe>
    <script src="{platsen}/embed/v1/platsen.js" async></script>
  </aside>
</main>
</body></html>"#,
        name = employer.name,
        slug = employer.slug,
        platsen = app.base,
    );
    let site = career_site(host_page).await;
    let Some(b) = Browser::start(1280).await else { return };
    b.goto(&site).await;
    assert_ne!(
        b.js("return location.origin").await.as_str().unwrap(),
        app.base,
        "the career page is on another origin"
    );
    b.until(
        "the widget's list",
        "const h = document.querySelector('.platsen-jobs'); \
         return !!(h && h.shadowRoot && h.shadowRoot.querySelectorAll('li').length > 0)",
    )
    .await;
    let items = b.js("return document.querySelector('.platsen-jobs').shadowRoot.querySelectorAll('li').length").await;
    assert_eq!(items.as_i64().unwrap(), shown);
    // Accessible: a labelled region with a heading, and real links.
    let a11y = b
        .js("const r = document.querySelector('.platsen-jobs').shadowRoot; \
             const s = r.querySelector('section'); \
             return [r.getElementById(s.getAttribute('aria-labelledby')).textContent, \
                     r.querySelectorAll('li a.title[href]').length, r.querySelector('li time').dateTime, \
                     r.querySelector('li time.published').textContent, r.querySelector('li time.published').dateTime]")
        .await;
    assert_eq!(a11y[0], "Lediga jobb");
    assert_eq!(a11y[3], "Publicerad i dag", "the publish date, in words: {a11y}");
    assert!(a11y[4].as_str().unwrap().ends_with('Z'), "and machine-readable: {a11y}");
    assert_eq!(a11y[1].as_i64().unwrap(), shown);
    assert!(a11y[2].as_str().unwrap().len() == 10, "a machine-readable date: {a11y}");

    // Styles cross neither way: the page's `li` and `.title` rules do not
    // reach the widget, the widget's do not reach the page, and the page's
    // custom properties theme it.
    let inside = b
        .js("const r = document.querySelector('.platsen-jobs').shadowRoot; \
             const li = getComputedStyle(r.querySelector('li')); const a = getComputedStyle(r.querySelector('a.title')); \
             return [li.color, li.fontSize, a.display, a.color, getComputedStyle(r.querySelector('li')).fontFamily]")
        .await;
    assert_ne!(inside[0], "rgb(150, 30, 30)", "the page's li colour leaked in: {inside}");
    assert_ne!(inside[1], "19px", "the page's li size leaked in: {inside}");
    assert_ne!(inside[2], "none", "the page's .title rule leaked in: {inside}");
    assert_eq!(inside[3], "rgb(0, 102, 51)", "themed by --platsen-accent: {inside}");
    assert!(inside[4].as_str().unwrap().contains("Georgia"), "themed by --platsen-font: {inside}");
    let outside = b
        .js("const li = getComputedStyle(document.getElementById('host-li')); \
             return [li.color, li.fontSize, li.borderTopWidth, document.querySelectorAll('style').length]")
        .await;
    assert_eq!(outside[0], "rgb(150, 30, 30)");
    assert_eq!(outside[1], "19px");
    assert_eq!(outside[2], "0px", "the widget's li border leaked out: {outside}");
    assert_eq!(outside[3], 1, "the widget added no style element to the page");

    // JobPosting JSON-LD for search engines, on the career page itself.
    let ld = b
        .js("return [...document.querySelectorAll('head script[type=\"application/ld+json\"]')] \
             .map(s => JSON.parse(s.textContent)['@type'])")
        .await;
    assert_eq!(ld.as_array().unwrap().len() as i64, shown, "{ld}");
    assert!(ld.as_array().unwrap().iter().all(|t| t == "JobPosting"));

    // The iframe variant grew to its content.
    b.until(
        "the iframe's height",
        "const f = document.getElementById('frame'); return parseInt(f.style.height || '0') > 160",
    )
    .await;
    let errors = b.js("return window.__errors").await;
    assert_eq!(errors, serde_json::json!([]), "errors on the career page");
    b.screenshots("inbaddning").await;
    let errors = b.js("return window.__errors").await;
    assert_eq!(errors, serde_json::json!([]), "errors on the career page at phone width");
    // On a phone: no salary broken inside a number, and "closing soon" in words.
    b.resize(390, 900).await;
    let phone = b
        .js("const r = document.querySelector('.platsen-jobs').shadowRoot; let broken = 0;              for (const s of r.querySelectorAll('.salary')) { const t = s.firstChild;                for (const m of t.textContent.matchAll(/\\d{1,3}(?:\\u00a0\\d{3})+/g)) {                  const g = document.createRange(); g.setStart(t, m.index); g.setEnd(t, m.index + m[0].length);                  if (new Set([...g.getClientRects()].map(x => Math.round(x.top))).size > 1) broken++; } }              return [broken, r.querySelectorAll('.salary').length,                      [...r.querySelectorAll('strong.soon')].map(s => s.textContent)]")
        .await;
    assert_eq!(phone[0], 0, "salaries broken inside a number: {phone}");
    assert!(phone[1].as_u64().unwrap() >= 1, "{phone}");
    assert_eq!(phone[2], serde_json::json!(["Stänger snart"]), "closing soon, said in words: {phone}");
    b.stop().await;
    app.stop().await;
}

/// Lönestatistik filtered to one role, at desktop and phone width: every
/// chart draws its groups (the gender chart was an empty frame), its text is
/// never smaller than the page's small print as shown, every chart has an
/// alternative text with figures, and women's and men's medians are a table too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_salary_page_for_one_role_draws_readable_charts_at_both_widths() {
    let app = demo_board().await;
    let Some(b) = Browser::start(1280).await else { return };
    for width in [1280, 390] {
        b.resize(width, 900).await;
        b.goto(&app.url("/lonestatistik?role=upphandlare")).await;
        b.js("document.querySelectorAll('.charts img').forEach(i => i.loading = 'eager'); return null").await;
        b.until(
            "the charts",
            "const i = [...document.querySelectorAll('.charts img')]; \
             return i.length === 4 && i.every(i => i.complete && i.naturalWidth > 0)",
        )
        .await;
        // Each chart as drawn: its smallest text, scaled to the size shown,
        // and the bars it draws.
        b.js("window.__charts = null; \
              Promise.all([...document.querySelectorAll('.charts img')].map(async img => { \
                const svg = await (await fetch(img.currentSrc)).text(); \
                const doc = new DOMParser().parseFromString(svg, 'image/svg+xml'); \
                const sizes = [...doc.querySelectorAll('text')].filter(t => t.textContent.trim()) \
                  .map(t => parseFloat(t.getAttribute('font-size'))); \
                const bars = [...doc.querySelectorAll('rect')].filter(r => \
                  ['#0072B2', '#E69F00'].includes(r.getAttribute('fill')) && parseFloat(r.getAttribute('height')) >= 15.5).length; \
                return { src: img.currentSrc, alt: img.alt, min: Math.min(...sizes), \
                         scale: img.clientWidth / img.naturalWidth, shown: img.clientWidth, bars }; \
              })).then(c => window.__charts = c); return null")
            .await;
        b.until("the charts' SVG", "return window.__charts !== null").await;
        let charts = b.js("return window.__charts").await;
        let small_print =
            b.js("return parseFloat(getComputedStyle(document.querySelector('p.source')).fontSize)").await;
        let small_print = small_print.as_f64().unwrap();
        for chart in charts.as_array().unwrap() {
            let shown_px = chart["min"].as_f64().unwrap() * chart["scale"].as_f64().unwrap();
            assert!(
                shown_px + 0.01 >= small_print,
                "at {width} px, {} shows text at {shown_px:.1} px, under the page's small print {small_print} px",
                chart["src"]
            );
            let alt = chart["alt"].as_str().unwrap();
            assert!(alt.contains(" kr") || alt.contains("svar"), "an alternative text with figures: {alt}");
            assert!(chart["shown"].as_f64().unwrap() <= f64::from(width), "{chart}");
        }
        let gender =
            charts.as_array().unwrap().iter().find(|c| c["src"].as_str().unwrap().contains("/gender.svg")).unwrap();
        assert!(gender["bars"].as_u64().unwrap() >= 2, "the gender chart draws women and men: {gender}");
        let by_sector = charts
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["src"].as_str().unwrap().contains("percentiles-by-sector"))
            .unwrap();
        assert!(by_sector["bars"].as_u64().unwrap() >= 2, "one band per sector: {by_sector}");
        // The gender figures as a table too.
        let rows = b.js("return document.querySelectorAll('#gender-h ~ .scroll tbody tr').length").await;
        assert!(rows.as_u64().unwrap() >= 2, "{rows}");
        // Hidden figures say so in words next to them (never a bare blank).
        let blanks = b
            .js("return [...document.querySelectorAll('dl.facts dd')].filter(d => !d.textContent.trim()).length")
            .await;
        assert_eq!(blanks, 0);
    }
    b.screenshots("lonestatistik-roll").await;
    b.stop().await;
    app.stop().await;
}

/// The search on a phone: the filters fold behind "Filter" (saying how
/// many are chosen) so the first ad shows on the first screen; snippets
/// break between words; the alert page's radio buttons sit beside their
/// labels.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_and_the_alert_page_read_right_on_a_phone() {
    let app = demo_board().await;
    let Some(b) = Browser::start(390).await else { return };
    b.goto(&app.url("/jobb?q=upphandling")).await;
    let top = b.js("return document.querySelector('li.hit').getBoundingClientRect().top").await;
    assert!(top.as_f64().unwrap() < 600.0, "the first ad starts {top} px down");
    let folded = b.js("return [document.querySelector('details.filters').open, document.getElementById('county').checkVisibility()]").await;
    assert_eq!(folded, serde_json::json!([false, false]), "the filters are folded away");
    // Snippets wrap between words.
    let breaks = b.js("return getComputedStyle(document.querySelector('li.hit .snippet')).wordBreak").await;
    assert_ne!(breaks, "break-all");
    let split_words = b
        .js("let n = 0; for (const p of document.querySelectorAll('li.hit .snippet')) { \
               const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT); let t; \
               while ((t = walker.nextNode())) { for (const m of t.textContent.matchAll(/[\\p{L}\\p{N}]+/gu)) { \
                 const r = document.createRange(); r.setStart(t, m.index); r.setEnd(t, m.index + m[0].length); \
                 const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top))); if (tops.size > 1) n++; } } } \
             return n")
        .await;
    assert_eq!(split_words, 0, "words broken across lines in snippets");
    b.screenshots("jobb-sok").await;
    b.resize(390, 900).await;
    // Open the filters, choose a county: the summary counts it.
    b.el("details.filters summary").await.click().await.unwrap();
    let code = b.js("return [...document.querySelectorAll('#county option')].find(o => o.value).value").await;
    b.js(&format!("document.getElementById('county').value = '{}'; return null", code.as_str().unwrap())).await;
    b.el("form.search button[type=submit]").await.click().await.unwrap();
    b.until("the filtered search", "return location.search.includes('county=')").await;
    assert_eq!(b.js("return location.search.includes('role=')").await, false, "no empty parameters in the address");
    let summary = b.el("details.filters summary").await.text().await.unwrap();
    assert_eq!(summary, "Filter (1 valda)");
    // At desktop width the filters are simply open.
    b.resize(1280, 900).await;
    assert_eq!(b.js("return document.getElementById('county').checkVisibility()").await, true);
    b.resize(390, 900).await;

    // The alert page's radio buttons, beside their labels.
    let (_, token) = app
        .store
        .create_alert(
            "b@example.se",
            (r#"{"role":"upphandlare"}"#, 2),
            platsen_jobs::store::AlertFrequency::Daily,
            app.clock.now(),
        )
        .await
        .unwrap()
        .unwrap();
    let alert = app.store.confirm_alert(&token, app.clock.now()).await.unwrap();
    let manage = app.store.alert_link_token(alert.id, app.clock.now()).await.unwrap();
    for width in [390, 1280] {
        b.resize(width, 900).await;
        b.goto(&app.url(&format!("/bevakningar/hantera?token={manage}"))).await;
        let layout = b
            .js("return [...document.querySelectorAll('label.choice')].map(l => { \
                   const i = l.querySelector('input').getBoundingClientRect(); const r = l.getBoundingClientRect(); \
                   const text = document.createRange(); text.selectNodeContents(l); \
                   const last = [...text.getClientRects()].pop(); \
                   return [i.width, Math.round(r.height), i.right <= last.left + 1, Math.abs((i.top + i.bottom) / 2 - (last.top + last.bottom) / 2) < 8]; })")
            .await;
        for l in layout.as_array().unwrap() {
            assert!(l[0].as_f64().unwrap() < 40.0, "at {width} px a radio button is {} px wide", l[0]);
            assert_eq!(
                (l[2].as_bool(), l[3].as_bool()),
                (Some(true), Some(true)),
                "at {width} px: beside its label: {layout}"
            );
        }
    }
    b.screenshots("bevakning").await;
    b.stop().await;
    app.stop().await;
}

/// An operator's upload that is refused: its long error messages wrap on a
/// phone instead of running off the edge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_page_wraps_long_error_messages_on_a_phone() {
    let app = TestApp::sqlite().await;
    let password = "ett långt lösenord för drift";
    app.store.create_user(None, "drift@platsen.se", password, true, app.clock.now()).await.unwrap();
    let Some(b) = Browser::start(390).await else { return };
    b.sign_in(&app.url("/konto"), "drift@platsen.se", password, "Administration").await;
    b.goto(&app.url("/konto/lonestatistik")).await;
    let dir = std::env::temp_dir().join(format!("platsen-upload-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("enkat.csv");
    std::fs::write(
        &file,
        format!(
            "{}\n2025,upphandlare,kommun,01,kvinna,41,7,540000,100,,false\n2025,chef,kommun,99,x,4,7,1,0,,kanske\n",
            platsen_tests::HEADER
        ),
    )
    .unwrap();
    b.el("#file").await.send_keys(file.to_str().unwrap()).await.unwrap();
    b.el("form.account button[type=submit]").await.click().await.unwrap();
    b.el("table.wrap").await;
    let overflow = b
        .js("const s = document.querySelector('.errors .scroll'); return [s.scrollWidth - s.clientWidth, \
             [...document.querySelectorAll('table.wrap td')].some(td => td.textContent.includes('årslön'))]")
        .await;
    assert_eq!(overflow, serde_json::json!([0, true]), "the problems fit the phone's width");
    platsen_tests::axe::assert_no_serious(&b, "the upload page with a refused file at 390 px").await;
    b.resize(1280, 900).await;
    platsen_tests::axe::assert_no_serious(&b, "the upload page with a refused file at 1280 px").await;
    b.screenshots("admin-lonestatistik-fel").await;
    let _ = std::fs::remove_dir_all(dir);
    b.stop().await;
    app.stop().await;
}

/// An axe-core audit (WCAG 2.2 A and AA) of every public, employer and
/// admin page, at desktop and phone width: no critical or serious
/// violation anywhere. Every page's problems are reported at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_an_accessibility_audit_at_both_widths() {
    use platsen_tests::axe;
    let app = demo_board().await;
    let password = "ett långt lösenord för granskning";
    let now = app.clock.now();
    let employers = app.store.employers(1, 100, now).await.unwrap();
    let employer = employers.items.iter().max_by_key(|e| e.open_jobs).unwrap().clone();
    app.create_user(employer.id, "granskare@demo.se", password).await;
    app.store.create_user(None, "drift@platsen.se", password, true, now).await.unwrap();
    let own = app.store.employer_jobs(employer.id, None, 1, 10, now).await.unwrap().items;
    let (open, closed) = (own[0].clone(), own[1].clone());
    app.store
        .transition(platsen_jobs::model::Actor::Admin, closed.id, platsen_jobs::Lifecycle::Close, now)
        .await
        .unwrap();
    let (_, token) = app
        .store
        .create_alert(
            "lasare@example.se",
            (r#"{"role":"upphandlare"}"#, 2),
            platsen_jobs::store::AlertFrequency::Daily,
            now,
        )
        .await
        .unwrap()
        .unwrap();
    let alert = app.store.confirm_alert(&token, now).await.unwrap();
    platsen_jobs::demo::seed_products_if_empty(&app.store, now).await.unwrap();
    let product = app.store.products(false).await.unwrap()[0].id;
    let order = app
        .store
        .create_order(platsen_tests::order_input("232100-0016", "Region Testland", "kim@example.se", product, 1), now)
        .await
        .unwrap();
    let terms = platsen_jobs::store::billing::InvoiceTerms {
        seller: platsen_app::invoicing::demo_seller(),
        due_days: 30,
        today: platsen_jobs::validate::today_in_sweden(now),
    };
    let invoice_id = app.store.approve_order(order.id, &terms, now).await.unwrap().invoice_id;
    let pending_order = app
        .store
        .create_order(platsen_tests::order_input("212000-0142", "Kommun Väntar", "per@example.se", product, 2), now)
        .await
        .unwrap();
    assert!(pending_order.id > order.id);
    let manage = app.store.alert_link_token(alert.id, now).await.unwrap();
    let (_, pending) = app
        .store
        .create_alert("ny@example.se", (r#"{"q":"inkop"}"#, 2), platsen_jobs::store::AlertFrequency::Weekly, now)
        .await
        .unwrap()
        .unwrap();
    let Some(b) = Browser::start(1280).await else { return };
    let mut failures: Vec<String> = Vec::new();
    // The audit can fail: a page with no language and an unnamed field does.
    let broken = career_site(
        "<!doctype html><html><head><title>x</title></head><body><main><input></main></body></html>".into(),
    )
    .await;
    b.goto(&broken).await;
    if let Some(found) = axe::try_audit(&b, "").await {
        let rules: Vec<&str> = axe::serious(&found).iter().map(|v| v.id.as_str()).collect();
        assert!(
            rules.contains(&"html-has-lang") && rules.contains(&"label"),
            "the audit sees what is wrong: {rules:?}"
        );
    }

    async fn check(b: &Browser, failures: &mut Vec<String>, name: &str) {
        for width in [1280, 390] {
            b.resize(width, 900).await;
            let Some(violations) = axe::try_audit(b, "").await else { return };
            let bad = axe::serious(&violations);
            if !bad.is_empty() {
                failures.push(format!("{name} at {width} px ({}):\n{}", b.url().await, axe::report(&bad)));
            }
        }
    }

    let public = [
        ("the search", "/".to_owned()),
        ("a search with words and a filter", "/jobb?q=upphandlare&county=01".to_owned()),
        ("an ad", format!("/jobb/{}", open.slug)),
        ("a closed ad (410)", format!("/jobb/{}", closed.slug)),
        ("an employer", format!("/arbetsgivare/{}", employer.slug)),
        ("Lönestatistik", "/lonestatistik".to_owned()),
        ("Lönestatistik for one role", "/lonestatistik?role=upphandlare".to_owned()),
        ("an alert's page", format!("/bevakningar/hantera?token={manage}")),
        ("an alert's confirmation", format!("/bevakningar/bekrafta?token={pending}")),
        ("an address that is not there", "/finns-inte".to_owned()),
        ("the embed's iframe", format!("/embed/jobs?employer={}", employer.slug)),
        ("the sign-in page", "/konto".to_owned()),
        ("a forgotten password", "/konto/glomt".to_owned()),
        ("Platsannonsera", "/platsannonsera".to_owned()),
        ("an order's thanks", "/platsannonsera/tack?bestallning=B-000001".to_owned()),
    ];
    for (name, path) in &public {
        b.goto(&app.url(path)).await;
        check(&b, &mut failures, name).await;
    }
    // The salary comparison's answer (a post).
    b.goto(&app.url("/lonestatistik?role=upphandlare")).await;
    b.el("#lon").await.send_keys("45000").await.unwrap();
    b.el("#jamfor button[type=submit]").await.click().await.unwrap();
    b.el(".answer").await;
    check(&b, &mut failures, "a compared salary").await;
    // The API's documentation.
    b.goto(&app.url("/api/docs")).await;
    b.el(".swagger-ui .opblock-tag").await;
    check(&b, &mut failures, "the API documentation").await;

    // An employer's user.
    b.resize(1280, 900).await;
    b.sign_in(&app.url("/konto"), "granskare@demo.se", password, &employer.name).await;
    for (name, path) in [
        ("the dashboard", "/konto".to_owned()),
        ("a new ad", "/konto/annonser/ny".to_owned()),
        ("editing an ad", format!("/konto/annonser/{}", open.id)),
        ("a preview", format!("/konto/annonser/{}/forhandsgranska", open.id)),
        ("closing an ad", format!("/konto/annonser/{}/stang", open.id)),
    ] {
        b.goto(&app.url(&path)).await;
        check(&b, &mut failures, name).await;
    }
    // The ad form with its errors.
    b.resize(1280, 900).await;
    b.goto(&app.url("/konto/annonser/ny")).await;
    b.el("#salary_min").await.send_keys("fyrtiotusen").await.unwrap();
    b.el("form.ad button[type=submit]").await.click().await.unwrap();
    b.el("#salary_min-error").await;
    check(&b, &mut failures, "the ad form with errors").await;
    b.resize(1280, 900).await;
    b.goto(&app.url("/konto")).await;
    b.el(".account-head button[type=submit]").await.click().await.unwrap();
    b.wait_text(".notice", "Du är utloggad.").await;

    // An operator.
    b.el("#email").await.send_keys("drift@platsen.se").await.unwrap();
    b.el("#password").await.send_keys(password).await.unwrap();
    b.el("form.account button[type=submit]").await.click().await.unwrap();
    b.wait_text("h1", "Administration").await;
    for (name, path) in [
        ("the operator's overview", "/konto".to_owned()),
        ("the review queue", "/konto/granskning".to_owned()),
        ("every ad", "/konto/alla-annonser".to_owned()),
        ("one ad, for the operator", format!("/konto/alla-annonser/{}", open.id)),
        ("employers", "/konto/arbetsgivare".to_owned()),
        ("one employer", format!("/konto/arbetsgivare/{}", employer.id)),
        ("salary uploads", "/konto/lonestatistik".to_owned()),
        ("orders and invoices", "/konto/ordrar".to_owned()),
        ("products", "/konto/produkter".to_owned()),
        ("an invoice", format!("/konto/fakturor/{invoice_id}")),
    ] {
        b.goto(&app.url(&path)).await;
        check(&b, &mut failures, name).await;
    }
    b.stop().await;
    app.stop().await;
    assert!(failures.is_empty(), "{} pages are not accessible:\n\n{}", failures.len(), failures.join("\n\n"));
}

/// Platsannonsera end to end, as a new user meets it: a visitor finds the
/// offer, orders Annonspaket 5 with one field wrong and then right; the
/// operator approves it in /konto/ordrar; the contact person gets the
/// invitation, chooses a password, publishes five ads, and the sixth is
/// refused with the message and the link. A Premiumannons is listed under
/// "Utvalda jobb" and first in search. Screenshots at 1280 and 390 px.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_employer_orders_is_approved_invited_and_publishes_until_the_credits_run_out() {
    let app = demo_board().await;
    let now = app.clock.now();
    platsen_jobs::demo::seed_products_if_empty(&app.store, now).await.unwrap();
    let password = "ett långt lösenord för drift";
    app.store.create_user(None, "drift@platsen.se", password, true, now).await.unwrap();
    let Some(b) = Browser::start(1280).await else { return };

    // The visitor finds the offer from the header.
    b.goto(&app.url("/")).await;
    b.el("header.site a[href='/platsannonsera']").await.click().await.unwrap();
    b.wait_text("h1", "Platsannonsera på Platsen").await;
    assert!(b.el("ul.products").await.text().await.unwrap().contains("Annonspaket 5"));
    b.screenshots("platsannonsera").await;

    // Orders Annonspaket 5, the organisation number mistyped first.
    let package = app.store.products(false).await.unwrap().into_iter().find(|p| p.name == "Annonspaket 5").unwrap();
    b.js(&format!("document.getElementById('product_id').value = '{}'; return null", package.id)).await;
    for (id, value) in [
        ("organization_name", "Tyresö kommun"),
        ("organization_number", "212000-0210"),
        ("invoice_address-street", "Marknadsvägen 2"),
        ("invoice_address-postal_code", "135 81"),
        ("invoice_address-city", "Tyresö"),
        ("buyer_reference", "Karin HR"),
        ("invoice_email", "faktura@tyreso.se"),
        ("contact-name", "Karin Holm"),
        ("contact-email", "karin.holm@tyreso.se"),
        ("contact-phone", "08-578 291 00"),
    ] {
        b.el(&format!("#{id}")).await.send_keys(value).await.unwrap();
    }
    b.el("#accept_terms").await.click().await.unwrap();
    b.el("form.order button[type=submit]").await.click().await.unwrap();
    b.el("#organization_number-error").await;
    assert_eq!(b.js("return document.getElementById('invoice_address-city').value").await, "Tyresö");
    b.screenshots("platsannonsera-fel").await;
    b.el("#organization_number").await.clear().await.unwrap();
    b.el("#organization_number").await.send_keys("212000-0225").await.unwrap();
    if b.js("return document.getElementById('accept_terms').checked").await != serde_json::json!(true) {
        b.el("#accept_terms").await.click().await.unwrap();
    }
    b.el("form.order button[type=submit]").await.click().await.unwrap();
    b.wait_text("h1", "Tack för er beställning").await;
    let number = b.el("main strong").await.text().await.unwrap();
    assert!(number.starts_with("B-"), "{number}");

    // The operator approves it.
    b.sign_in(&app.url("/konto"), "drift@platsen.se", password, "Administration").await;
    b.el("nav.admin-nav a[href='/konto/ordrar']").await.click().await.unwrap();
    b.wait_text("h1", "Beställningar och fakturor").await;
    b.screenshots("admin-ordrar").await;
    b.js("document.querySelector('.order-row.pending form.inline button').click(); return null").await;
    b.wait_text(".notice", "Beställningen är godkänd: annonserna är tilldelade och fakturan är skapad.").await;
    b.el("a[href^='/konto/fakturor/'][href$='/xml']").await;
    b.js("document.querySelector('table.ads a[href^=\"/konto/fakturor/\"]').click(); return null").await;
    b.until("the invoice", "return document.querySelector('h1').textContent.startsWith('Faktura ')").await;
    b.screenshots("faktura").await;
    b.goto(&app.url("/konto")).await;
    b.el(".account-head button[type=submit]").await.click().await.unwrap();
    b.wait_text(".notice", "Du är utloggad.").await;

    // The contact person's invitation, a password, the dashboard.
    platsen_tests::eventually(10, "the invitation", || async {
        app.smtp.mails_to("karin.holm@tyreso.se").iter().any(|m| m.body().contains("valkommen=1"))
    })
    .await;
    let mail =
        app.smtp.mails_to("karin.holm@tyreso.se").into_iter().find(|m| m.body().contains("valkommen=1")).unwrap();
    let link = mail.body().split_whitespace().find(|w| w.contains("valkommen=1")).unwrap().to_owned();
    let path = &link[link.find("/konto").unwrap()..];
    b.goto(&app.url(path)).await;
    b.el("#password").await.send_keys(password).await.unwrap();
    b.el("#password_again").await.send_keys(password).await.unwrap();
    b.el("form.account button[type=submit]").await.click().await.unwrap();
    // The password is set before anything else is opened.
    b.wait_text("h1", "Ditt konto är klart").await;
    b.sign_in(&app.url("/konto"), "karin.holm@tyreso.se", password, "Tyresö kommun").await;
    b.until(
        "the balance",
        "const e = document.querySelector('.credits-balance'); return !!e && e.textContent.includes('5 annonser kvar')",
    )
    .await;
    b.screenshots("konto-annonskrediter").await;

    // Five ads are published; the sixth is refused with the link.
    let employer = app.store.employer(&platsen_jobs::IdOrSlug::Slug("tyreso-kommun".into()), now).await.unwrap();
    let key = app.create_key(employer.id).await;
    for n in 1..=5 {
        app.publish_job(&key, app.job(&format!("Upphandlare {n} till Tyresö"))).await;
    }
    let sixth = app.post_job(&key, app.job("Inköpare till Tyresö")).await;
    b.goto(&app.url(&format!("/konto/annonser/{sixth}"))).await;
    b.el("form.inline button[type=submit]").await.click().await.unwrap();
    b.until("the refusal", "const e = document.getElementById('no-credit'); return !!e && e.textContent.includes('Ni har inga annonser kvar')").await;
    assert!(b.js("return document.querySelector('#no-credit a').getAttribute('href')").await == "/platsannonsera");
    b.screenshots("konto-inga-annonser").await;

    // A Premiumannons: under "Utvalda jobb", first in search.
    let premium = app.store.products(false).await.unwrap().into_iter().find(|p| p.featured).unwrap();
    let order = app
        .store
        .create_order(
            platsen_tests::order_input("212000-0225", "Tyresö kommun", "karin.holm@tyreso.se", premium.id, 1),
            now,
        )
        .await
        .unwrap();
    let r = app.admin(reqwest::Method::POST, &format!("/api/v1/orders/{}/approve", order.id), None).await;
    assert_eq!(r.status, reqwest::StatusCode::OK, "{}", r.text);
    let r = app.call(reqwest::Method::POST, &format!("/api/v1/jobs/{sixth}/publish"), Some(&key), None).await;
    assert_eq!(r.status, reqwest::StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["featured"], true);
    b.goto(&app.url("/")).await;
    b.until("Utvalda jobb", "const e = document.querySelector('section.featured'); return !!e && e.textContent.includes('Inköpare till Tyresö')").await;
    b.screenshots("utvalda-jobb").await;
    b.goto(&app.url("/jobb?q=inkopare")).await;
    b.until(
        "the featured ad first",
        "const e = document.querySelector('li.hit h2'); return !!e && e.textContent.includes('Inköpare till Tyresö')",
    )
    .await;
    assert!(b.el("li.hit").await.text().await.unwrap().contains("Utvald"));

    b.stop().await;
    app.stop().await;
}

/// An employer's user uploads a logo on the profile page through the file
/// input; it shows there, on the ad list and on the ad. Garbage files — not
/// an image, 50 MB, a 20 000 × 20 000 image, an SVG with a script — are each
/// refused with the reason next to the field, and the logo stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_employer_uploads_a_logo_and_garbage_files_are_refused() {
    use crate::profiles::{SVG_WITH_SCRIPT, png, png_claiming};
    let app = TestApp::sqlite().await;
    let password = "ett långt lösenord för test";
    let employer = app.create_employer("Vaxholms stad").await;
    app.create_user(employer, "karin@vaxholm.se", password).await;
    let key = app.create_key(employer).await;
    let id = app.publish_job(&key, app.job("Upphandlare till Vaxholm")).await;
    let dir = std::env::temp_dir().join(format!("platsen-logos-{}-{}", std::process::id(), rand::random::<u32>()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let mut big = png(64, 64);
    big.resize(50 * 1024 * 1024, 0);
    let files = [
        file("vaxholm.png", &png(900, 300)),
        file("inte-en-bild.png", b"Det h\xc3\xa4r \xc3\xa4r text."),
        file("bomb.png", &png_claiming(20_000)),
        file("skript.svg", SVG_WITH_SCRIPT.as_bytes()),
        file("stor.png", &big),
    ];
    let Some(b) = Browser::start(1280).await else { return };
    b.sign_in(&app.url("/konto"), "karin@vaxholm.se", password, "Vaxholms stad").await;
    b.el("a[href='/konto/profil']").await.click().await.unwrap();
    b.wait_text("h1", "Profil: Vaxholms stad").await;
    assert_eq!(b.js("return document.querySelector('p.employer-logo')").await, Value::Null);

    let upload = |path: String| {
        let b = &b;
        async move {
            b.el("#logo").await.send_keys(&path).await.unwrap();
            b.el("form.logo-upload button[type=submit]").await.click().await.unwrap();
        }
    };
    upload(files[0].clone()).await;
    b.until("the saved logo", "return location.search.includes('klart=logotyp')").await;
    b.until(
        "the logo, loaded",
        "const i = document.querySelector('p.employer-logo img'); return !!i && i.complete && i.naturalWidth === 400",
    )
    .await;
    let src = b.js("return document.querySelector('p.employer-logo img').getAttribute('src')").await;
    b.screenshots("konto-profil").await;

    for (path, says) in [
        (&files[1], "Filen är inte en PNG-, JPEG- eller WebP-bild."),
        (&files[2], "Bilden får vara högst 6000 × 6000 bildpunkter; den här är 20000 × 20000."),
        (&files[3], "SVG-bilder tas inte emot (de kan innehålla skript). Spara logotypen som PNG och ladda upp den."),
    ] {
        upload(path.clone()).await;
        b.wait_text("#logo-error", says).await;
        assert_eq!(b.el("#logo").await.attr("aria-invalid").await.unwrap().as_deref(), Some("true"), "{path}");
        let kept = b.js("return document.querySelector('p.employer-logo img').getAttribute('src')").await;
        assert_eq!(kept, src, "{path}: the logo stays");
    }
    // 50 MB: said as soon as it is chosen, and the form is not sent.
    b.el("#logo").await.send_keys(&files[4]).await.unwrap();
    b.wait_text("#logo-error", "Filen får vara högst 5 MB.").await;
    b.el("form.logo-upload button[type=submit]").await.click().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(b.url().await.ends_with("/konto/profil/logotyp"), "still the page of the last refusal, not sent");
    assert_eq!(b.js("return document.getElementById('logo').validity.valid").await, Value::Bool(false));

    // On the list and on the ad.
    b.goto(&app.url("/jobb")).await;
    b.until(
        "the list's logo",
        "const i = document.querySelector('li.hit img.logo'); return !!i && i.complete && i.naturalWidth === 400",
    )
    .await;
    let slug = app.get(&format!("/api/v1/jobs/{id}")).await.body["slug"].as_str().unwrap().to_owned();
    b.goto(&app.url(&format!("/jobb/{slug}"))).await;
    b.until(
        "the ad's logo",
        "const i = document.querySelector('.employer-logo img'); return !!i && i.complete && i.naturalWidth === 400",
    )
    .await;

    // The ad's days: the view just made is in the chart, its sentence and the table.
    b.goto(&app.url("/konto")).await;
    b.el(&format!("a[href='/konto/annonser/{id}/statistik']")).await.click().await.unwrap();
    b.wait_text("h1", "Statistik: Upphandlare till Vaxholm").await;
    let chart = b
        .js("const s = document.querySelector('.ad-chart svg'); const r = s.getBoundingClientRect(); \
             return [r.width, document.getElementById(document.querySelector('.ad-chart [role=img]').getAttribute('aria-labelledby')).textContent, \
                     [...s.querySelectorAll('text')].map(t => t.textContent.trim())]")
        .await;
    assert!(chart[0].as_f64().unwrap() >= 300.0, "{chart}");
    assert!(chart[1].as_str().unwrap().contains(": 1 visning, 0 klick på Ansök och 1 gång i sökresultat."), "{chart}");
    assert!(chart[2].as_array().unwrap().iter().any(|t| t == "Visningar: 1"), "{chart}");
    b.screenshots("konto-statistik").await;
    b.stop().await;
    app.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_employer_posts_an_ad_in_several_municipalities_and_seekers_find_it_in_each() {
    let app = TestApp::sqlite().await;
    let password = "ett långt lösenord för test";
    let employer = app.create_employer("Västkustens upphandlingsbolag").await;
    app.create_user(employer, "eva@vastkusten.se", password).await;
    let key = app.create_key(employer).await;
    let id = app.post_job(&key, app.job("Upphandlare till Västkusten")).await;
    let Some(b) = Browser::start(1280).await else { return };
    b.sign_in(&app.url("/konto"), "eva@vastkusten.se", password, "Västkustens upphandlingsbolag").await;

    // The form has one field for a further place; the same place twice is
    // refused next to the field.
    let edit = app.url(&format!("/konto/annonser/{id}"));
    b.goto(&edit).await;
    assert_eq!(b.js("return document.querySelectorAll('select[name^=place_]').length").await, 1);
    b.js("document.getElementById('municipality_code').value = '1480'; \
          document.getElementById('place_2').value = '1480'; return null")
        .await;
    b.el("form.ad button[type=submit]").await.click().await.unwrap();
    b.wait_text("#place_2-error", "Göteborg finns redan bland annonsens kommuner.").await;
    assert_eq!(b.el("#place_2").await.attr("aria-invalid").await.unwrap().as_deref(), Some("true"));

    // Kungsbacka (Halland), saved; a field for a third place appears: Härryda.
    b.js("document.getElementById('place_2').value = '1384'; return null").await;
    b.el("form.ad button[type=submit]").await.click().await.unwrap();
    b.wait_text(".notice", "Ändringarna är sparade.").await;
    assert_eq!(b.js("return document.getElementById('place_2').value").await, "1384");
    b.js("document.getElementById('place_3').value = '1401'; return null").await;
    b.el("form.ad button[type=submit]").await.click().await.unwrap();
    b.wait_text(".notice", "Ändringarna är sparade.").await;
    b.el("form.inline button[type=submit]").await.click().await.unwrap();
    b.wait_text(".notice", "Annonsen är publicerad.").await;

    // A job seeker filtering on Halland finds it, named with its places.
    b.goto(&app.url("/jobb?county=13")).await;
    let hit = b.el("li.hit").await.text().await.unwrap();
    assert!(hit.contains("Upphandlare till Västkusten") && hit.contains("Göteborg, Kungsbacka och Härryda"), "{hit}");
    b.el("li.hit h2 a").await.click().await.unwrap();
    b.wait_text("h1", "Upphandlare till Västkusten").await;
    let places = b
        .js("return JSON.parse(document.querySelector('script[type=\"application/ld+json\"]').textContent)\
             .jobLocation.map(p => p.address.addressLocality)")
        .await;
    assert_eq!(places, serde_json::json!(["Göteborg", "Kungsbacka", "Härryda"]));
    // And on Härryda's filter, from the facet list of the search page.
    b.goto(&app.url("/jobb?municipality=1401")).await;
    assert!(b.el("li.hit").await.text().await.unwrap().contains("Upphandlare till Västkusten"));

    b.stop().await;
    app.stop().await;
}
