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

    b.goto(&app.url("/konto")).await;
    b.el("#email").await.send_keys("drift@platsen.se").await.unwrap();
    b.el("#password").await.send_keys(password).await.unwrap();
    b.el("form.account button[type=submit]").await.click().await.unwrap();
    b.wait_text("h1", "Administration").await;
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
    let shown = employer.open_jobs.min(5);
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
                     r.querySelectorAll('li a.title[href]').length, r.querySelector('li time').dateTime]")
        .await;
    assert_eq!(a11y[0], "Lediga jobb");
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
    b.stop().await;
    app.stop().await;
}
