//! `/konto` over HTTP, on both databases: accounts made by an admin, sign-in
//! with CSRF and rate limits, the ad form with the API's messages next to
//! the fields, another employer kept out, views and apply clicks, and a
//! password reset by e-mail through a real SMTP listener.

use std::collections::HashMap;

use platsen_tests::{TestApp, contract};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::json;

pub(crate) const PASSWORD: &str = "en lång mening som lösenord";

/// A client that keeps cookies, as a browser does (no JavaScript).
pub(crate) struct Visitor {
    /// Where requests go: the server's address, or a load balancer's.
    base: String,
    client: reqwest::Client,
    cookies: HashMap<String, String>,
}

pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Page {
    pub(crate) fn location(&self) -> &str {
        self.headers.get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The value of the first `name="csrf"` field.
    pub(crate) fn csrf(&self) -> String {
        let at = self.body.find(r#"name="csrf" value=""#).unwrap_or_else(|| panic!("no csrf field: {}", self.body));
        let rest = &self.body[at + r#"name="csrf" value=""#.len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }

    /// The error shown next to a field.
    pub(crate) fn field_error(&self, field: &str) -> Option<String> {
        let marker = format!(r#"<p class="error" id="{field}-error">"#);
        let at = self.body.find(&marker)?;
        let rest = &self.body[at + marker.len()..];
        Some(rest[..rest.find("</p>").unwrap()].to_owned())
    }
}

impl Visitor {
    pub(crate) fn new(app: &TestApp) -> Self {
        Visitor { base: app.url(""), client: app.client.clone(), cookies: HashMap::new() }
    }

    /// A visitor of the server (or the load balancer) at `base`.
    pub(crate) fn at(base: &str) -> Self {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Visitor { base: base.trim_end_matches('/').to_owned(), client, cookies: HashMap::new() }
    }

    /// A visitor whose connections come from another loopback address
    /// (`127.0.0.2`…): another office, another attacker.
    pub(crate) fn from_address(app: &TestApp, ip: &str) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .local_address(Some(ip.parse().unwrap()))
            .build()
            .unwrap();
        Visitor { base: app.url(""), client, cookies: HashMap::new() }
    }

    pub(crate) async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let r = req.header("cookie", cookie).send().await.unwrap();
        for c in r.headers().get_all(SET_COOKIE) {
            let c = c.to_str().unwrap();
            let (pair, _) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || c.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        Page { status: r.status().as_u16(), headers: r.headers().clone(), body: r.text().await.unwrap() }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Page {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self.client.post(format!("{}{path}", self.base)).form(form);
        self.send(req).await
    }

    /// A `multipart/form-data` post of text fields and one file, as a
    /// browser sends a form with a file input.
    pub(crate) async fn post_file(&mut self, path: &str, fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> Page {
        let boundary = "----platsen-test-boundary-7d9a";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        let (name, filename, bytes) = file;
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
                 Content-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body);
        self.send(req).await
    }

    pub(crate) async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        let csrf = self.get("/konto").await.csrf();
        self.post("/konto/logga-in", &[("csrf", &csrf), ("email", email), ("password", password)]).await
    }
}

pub(crate) fn ad_form<'a>(csrf: &'a str, title: &'a str, deadline: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("title", title),
        ("role", "upphandlare"),
        ("description", "## Om tjänsten\n\nDu leder upphandlingar enligt LOU från behovsanalys till avtal."),
        ("municipality_code", "0182"),
        ("remote", "hybrid"),
        ("employment_type", "tillsvidare"),
        ("extent_percent", "100"),
        ("salary_min", "45 000"),
        ("salary_max", "52000"),
        ("salary_period", "month"),
        ("vacancies", "1"),
        ("application_deadline", deadline),
        ("apply_url", "https://example.org/ansok/42"),
        ("contact_name_1", "Anna Lind"),
        ("contact_phone_1", "08-123 456 78"),
    ]
}

async fn admins_create_users_and_garbage_is_refused(app: &TestApp) {
    let (employer, key) = app.employer_with_key("Nacka kommun").await;
    let path = format!("/api/v1/employers/{employer}/users");
    let r = app.admin(Method::POST, &path, Some(json!({ "email": "Anna@Nacka.se", "password": PASSWORD }))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["email"], "anna@nacka.se", "addresses are kept lower-case");
    assert_eq!(r.body["employer_id"], employer);
    assert!(r.body.get("password").is_none() && !r.body.to_string().contains(PASSWORD), "{}", r.body);

    // The same address again, in other letters.
    let again = app.admin(Method::POST, &path, Some(json!({ "email": "ANNA@nacka.se", "password": PASSWORD }))).await;
    again.assert_problem(409, "email");
    // Garbage.
    app.admin(Method::POST, &path, Some(json!({ "email": "inte en adress", "password": PASSWORD })))
        .await
        .assert_problem(422, "email");
    app.admin(Method::POST, &path, Some(json!({ "email": "b@nacka.se", "password": "kort" })))
        .await
        .assert_problem(422, "password");
    app.admin(Method::POST, &path, Some(json!({ "email": "b@nacka.se", "password": PASSWORD, "is_admin": true })))
        .await
        .assert_problem(400, "is_admin");
    app.admin(Method::POST, &path, Some(json!({ "email": 5, "password": PASSWORD })))
        .await
        .assert_problem(400, "email");
    let missing = app.admin(
        Method::POST,
        "/api/v1/employers/999999/users",
        Some(json!({ "email": "c@x.se", "password": PASSWORD })),
    );
    assert_eq!(missing.await.status, 404);
    // Only an admin makes accounts; an employer key cannot.
    let r =
        app.call(Method::POST, &path, Some(&key), Some(json!({ "email": "d@nacka.se", "password": PASSWORD }))).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(app.call(Method::POST, &path, None, Some(json!({}))).await.status, 401);

    // The list shows the account without any secret.
    let list = app.admin(Method::GET, &path, None).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    // The stored hash is argon2id, not the password.
    let users = app.store.users(Some(employer)).await.unwrap();
    assert_eq!(users.len(), 1);
}

async fn an_employer_user_signs_in_posts_an_ad_and_sees_views_and_clicks(app: &TestApp) {
    let employer = app.create_employer("Nacka kommun").await;
    app.create_user(employer, "anna@nacka.se", PASSWORD).await;
    let other = app.create_employer("Sjöbo kommun").await;
    app.create_user(other, "olle@sjobo.se", PASSWORD).await;

    // Not signed in: the sign-in form, private and with a CSRF cookie.
    let mut anna = Visitor::new(app);
    let form = anna.get("/konto").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("<h1>Logga in</h1>"));
    assert_eq!(form.headers["cache-control"], "no-store");
    let csrf_cookie = form.headers.get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap()).collect::<Vec<_>>();
    assert!(
        csrf_cookie
            .iter()
            .any(|c| c.starts_with("platsen_csrf=") && c.contains("HttpOnly") && c.contains("SameSite=Strict")),
        "{csrf_cookie:?}"
    );
    // Pages behind it send you there.
    assert_eq!(anna.get("/konto/annonser/ny").await.location(), "/konto");

    // A sign-in without the form's token is refused; so is a wrong password.
    let r = anna.post("/konto/logga-in", &[("email", "anna@nacka.se"), ("password", PASSWORD)]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = anna
        .post(
            "/konto/logga-in",
            &[("csrf", "0".repeat(64).as_str()), ("email", "anna@nacka.se"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = anna.sign_in("anna@nacka.se", "fel lösenord helt och hållet").await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("Fel e-postadress eller lösenord."));
    assert!(r.body.contains(r#"value="anna@nacka.se""#), "the address stays filled in");
    let r = anna.sign_in("ingen@nacka.se", PASSWORD).await;
    assert_eq!(r.status, 401, "an unknown address gets the same answer");
    assert!(r.body.contains("Fel e-postadress eller lösenord."));

    // Signed in: an HttpOnly, SameSite session cookie that is not the stored value.
    let r = anna.sign_in("ANNA@nacka.se", PASSWORD).await;
    assert_eq!((r.status, r.location()), (303, "/konto"), "{}", r.body);
    let set = r.headers.get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>();
    let session = set.iter().find(|c| c.starts_with("platsen_session=")).expect("a session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Path=/"),
        "{session}"
    );
    assert!(!session.contains("Secure"), "not over plain http");
    let dash = anna.get("/konto").await;
    assert_eq!(dash.status, 200);
    assert!(dash.body.contains("<h1>Nacka kommun</h1>"), "{}", dash.body);
    assert!(dash.body.contains("Ni har inga annonser ännu."));
    let csrf = dash.csrf();

    // Garbage in the form: every problem next to its field, what was typed kept, nothing stored.
    let mut bad = ad_form(&csrf, "", "i morgon");
    bad.retain(|(k, _)| !["apply_url", "salary_min", "role", "extent_percent"].contains(k));
    bad.extend([
        ("salary_min", "fyrtiotusen"),
        ("role", "astronaut"),
        ("extent_percent", "250"),
        ("apply_email", "inte@"),
    ]);
    let r = anna.post("/konto/annonser/ny", &bad).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.field_error("title").is_some(), "{}", r.body);
    assert_eq!(r.field_error("salary_min").as_deref(), Some("Ange ett heltal, till exempel 45000."));
    assert_eq!(r.field_error("role").as_deref(), Some("Välj en roll i listan."));
    assert!(r.field_error("application_deadline").unwrap().starts_with("Ange ett datum"));
    assert_eq!(r.field_error("extent_percent").as_deref(), Some("Omfattningen anges i procent, 1–100."));
    assert_eq!(r.field_error("apply_email").as_deref(), Some("Ange en giltig e-postadress."));
    assert!(r.body.contains(r#"value="fyrtiotusen""#), "typed values stay");
    assert!(
        r.body.contains(r#"aria-invalid="true""#)
            && r.body.contains(r#"aria-describedby="salary_min-hint salary_min-error""#)
    );
    assert!(r.body.contains(r##"<a href="#salary_min">"##), "the summary links to the field");
    // The same message as the API gives for the same value.
    let api = app
        .call(
            Method::POST,
            "/api/v1/jobs",
            Some(&app.create_key(employer).await),
            Some(platsen_tests::with(app.job("Upphandlare"), json!({ "extent_percent": 250 }))),
        )
        .await;
    let api_message = api.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "extent_percent")
        .unwrap_or_else(|| panic!("{}", api.text))["message"]
        .clone();
    assert_eq!(api_message, "Omfattningen anges i procent, 1–100.");
    assert_eq!(app.store.employer_jobs(employer, None, 1, 10, app.clock.now()).await.unwrap().total, 0);

    // Without the CSRF token the form is refused, and nothing is stored.
    let deadline = app.date_in(20);
    let mut no_token = ad_form(&csrf, "Upphandlare till Nacka", &deadline);
    no_token.retain(|(k, _)| *k != "csrf");
    assert_eq!(anna.post("/konto/annonser/ny", &no_token).await.status, 403);
    let mut wrong_token = ad_form("fel", "Upphandlare till Nacka", &deadline);
    wrong_token[0] = ("csrf", "fel");
    assert_eq!(anna.post("/konto/annonser/ny", &wrong_token).await.status, 403);
    assert_eq!(app.store.employer_jobs(employer, None, 1, 10, app.clock.now()).await.unwrap().total, 0);

    // A good ad is saved as a draft and can be previewed, but is not public yet.
    let r = anna.post("/konto/annonser/ny", &ad_form(&csrf, "Upphandlare till Nacka", &deadline)).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let edit = r.location().split('?').next().unwrap().to_owned();
    let id: i64 = edit.rsplit('/').next().unwrap().parse().unwrap();
    let page = anna.get(r.location()).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Status: Utkast") && page.body.contains("Ändringarna är sparade."), "{}", page.body);
    let preview = anna.get(&format!("{edit}/forhandsgranska")).await;
    assert_eq!(preview.status, 200);
    assert!(preview.body.contains("Förhandsgranskning") && preview.body.contains("noindex"));
    assert!(preview.body.contains("<h1>Upphandlare till Nacka</h1>"));
    let ad = app.store.job_for(platsen_jobs::model::Actor::Admin, id, app.clock.now()).await.unwrap();
    assert_eq!(app.get(&format!("/jobb/{}", ad.slug)).await.status, 404);
    assert_eq!(ad.salary.unwrap().min, Some(45000), "'45 000' is read as a number");
    assert_eq!(ad.contacts[0].name, "Anna Lind");

    // Another employer's user cannot see, edit, preview or publish it.
    let mut olle = Visitor::new(app);
    assert_eq!(olle.sign_in("olle@sjobo.se", PASSWORD).await.status, 303);
    let olle_csrf = olle.get("/konto").await.csrf();
    assert_eq!(olle.get(&edit).await.status, 404);
    assert_eq!(olle.get(&format!("{edit}/forhandsgranska")).await.status, 404);
    let mut hijack = ad_form(&olle_csrf, "Kapad", &deadline);
    hijack.push(("version", "1"));
    assert_eq!(olle.post(&edit, &hijack).await.status, 404);
    assert_eq!(
        olle.post(&format!("{edit}/status"), &[("csrf", &olle_csrf), ("action", "publicera")]).await.status,
        404
    );
    // Nor with Anna's token from Olle's session.
    assert_eq!(olle.post(&format!("{edit}/status"), &[("csrf", &csrf), ("action", "publicera")]).await.status, 403);

    // Publish: live on the board and found by search.
    let r = anna.post(&format!("{edit}/status"), &[("csrf", &csrf), ("action", "publicera")]).await;
    assert_eq!(r.location(), format!("{edit}?klart=publicera"));
    assert!(anna.get(r.location()).await.body.contains("Annonsen är publicerad."));
    let public = app.get(&format!("/jobb/{}", ad.slug)).await;
    assert_eq!(public.status, 200);
    let search = app.get("/jobb?q=upphandlare+nacka").await;
    assert!(search.text.contains(&format!("/jobb/{}", ad.slug)), "searchable");

    // An edit with a stale version is refused; a current one is saved.
    let mut stale = ad_form(&csrf, "Senior upphandlare till Nacka", &deadline);
    stale.push(("version", "1"));
    let r = anna.post(&edit, &stale).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Annonsen har ändrats sedan du läste den."), "{}", r.body);
    let current = anna.get(&edit).await;
    let version = current.body.split(r#"name="version" value=""#).nth(1).unwrap().split('"').next().unwrap().to_owned();
    let description =
        app.store.job_for(platsen_jobs::model::Actor::Admin, id, app.clock.now()).await.unwrap().description;
    let mut fresh = ad_form(&csrf, "Senior upphandlare till Nacka", &deadline);
    fresh.retain(|(k, _)| *k != "description");
    fresh.push(("description", &description));
    fresh.push(("version", &version));
    let r = anna.post(&edit, &fresh).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let ad = app.store.job_for(platsen_jobs::model::Actor::Admin, id, app.clock.now()).await.unwrap();
    assert_eq!(ad.title, "Senior upphandlare till Nacka");
    assert_eq!(ad.description, description, "an unchanged description is kept as it was");

    // Views and apply clicks: two views, one click.
    for _ in 0..2 {
        assert_eq!(app.get(&format!("/jobb/{}", ad.slug)).await.status, 200);
    }
    let click = app.get(&format!("/jobb/{}/ansok", ad.slug)).await;
    assert_eq!(click.header("location"), Some("https://example.org/ansok/42"));
    let dash = anna.get("/konto").await;
    // The first public view came before the edit; three in all.
    assert!(dash.body.contains("<td>3</td><td>1</td>"), "{}", dash.body);
    // Olle sees none of it.
    let theirs = olle.get("/konto").await;
    assert!(!theirs.body.contains("Senior upphandlare") && theirs.body.contains("Ni har inga annonser ännu."));

    // Close (the button asks first), then reopen.
    let page = anna.get(&edit).await;
    assert!(
        page.body.contains(&format!(r#"<a class="apply" href="{edit}/stang">Stäng annonsen</a>"#)),
        "{}",
        page.body
    );
    let r = anna.post(&format!("{edit}/status"), &[("csrf", &csrf), ("action", "stang")]).await;
    assert_eq!(r.location(), format!("{edit}/stang"), "closing without the confirmation asks");
    assert_eq!(app.get(&format!("/jobb/{}", ad.slug)).await.status, 200, "still open");
    let confirm = anna.get(&format!("{edit}/stang")).await;
    assert!(confirm.body.contains("<h1>Stäng annonsen?</h1>"), "{}", confirm.body);
    assert!(confirm.body.contains(r#"name="bekraftad" value="1""#));
    let r = anna.post(&format!("{edit}/status"), &[("csrf", &csrf), ("action", "stang"), ("bekraftad", "1")]).await;
    assert_eq!(r.location(), format!("{edit}?klart=stang"));
    assert_eq!(app.get(&format!("/jobb/{}", ad.slug)).await.status, 410);
    let r = anna.post(&format!("{edit}/status"), &[("csrf", &csrf), ("action", "oppna")]).await;
    assert_eq!(r.location(), format!("{edit}?klart=oppna"));
    assert_eq!(app.get(&format!("/jobb/{}", ad.slug)).await.status, 200);
    // Garbage steps.
    assert_eq!(anna.post(&format!("{edit}/status"), &[("csrf", &csrf), ("action", "radera")]).await.status, 400);
    assert_eq!(
        anna.post(&format!("{edit}/status"), &[("csrf", &csrf), ("action", "oppna")]).await.location(),
        format!("{edit}?fel=status")
    );
    assert_eq!(anna.get("/konto/annonser/inte-ett-id").await.status, 404);

    // Sign out needs the token too; after it, the session is gone.
    assert_eq!(anna.post("/konto/logga-ut", &[]).await.status, 403);
    let r = anna.post("/konto/logga-ut", &[("csrf", &csrf)]).await;
    assert_eq!(r.location(), "/konto?utloggad=1");
    assert!(anna.get(r.location()).await.body.contains("Du är utloggad."));
    assert_eq!(anna.get(&edit).await.location(), "/konto");
}

async fn a_forgotten_password_is_reset_once_by_an_emailed_link(app: &TestApp) {
    let employer = app.create_employer("Nacka kommun").await;
    app.create_user(employer, "anna@nacka.se", PASSWORD).await;
    let mut anna = Visitor::new(app);
    assert_eq!(anna.sign_in("anna@nacka.se", PASSWORD).await.status, 303);
    let mut other_device = Visitor::new(app);

    let csrf = other_device.get("/konto/glomt").await.csrf();
    assert_eq!(other_device.post("/konto/glomt", &[("email", "anna@nacka.se")]).await.status, 403);
    let bad = other_device.post("/konto/glomt", &[("csrf", &csrf), ("email", "<script>")]).await;
    assert_eq!(bad.status, 400);
    assert!(!bad.body.contains("<script>"));
    // An unknown address gets the same answer and no mail.
    let r = other_device.post("/konto/glomt", &[("csrf", &csrf), ("email", "ingen@nacka.se")]).await;
    assert!(r.body.contains("Kolla din e-post"));
    let r = other_device.post("/konto/glomt", &[("csrf", &csrf), ("email", "Anna@Nacka.se")]).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Kolla din e-post"));
    let mail = app.smtp.wait_for("anna@nacka.se").await;
    assert!(app.smtp.mails().iter().all(|m| !m.to.contains(&"ingen@nacka.se".to_owned())));
    assert_eq!(mail.from, "noreply@platsen.test");
    let body = mail.body();
    assert!(body.contains("Välj ett nytt lösenord här inom 60 minuter"), "{body}");
    let link = body.split_whitespace().find(|w| w.contains("/konto/aterstall?token=")).expect("a link").to_owned();
    let path = link.trim_start_matches(&app.url(""));
    let token = path.split("token=").nth(1).unwrap().to_owned();

    let page = other_device.get(path).await;
    let csrf = page.csrf();
    let new_password = "ett helt nytt långt lösenord";
    let r = other_device
        .post(
            "/konto/aterstall",
            &[("csrf", &csrf), ("token", &token), ("password", new_password), ("password_again", "något annat")],
        )
        .await;
    assert_eq!(r.status, 422);
    let r = other_device
        .post(
            "/konto/aterstall",
            &[("csrf", &csrf), ("token", &token), ("password", "kort"), ("password_again", "kort")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Lösenordet måste ha minst 12 tecken."));
    let r = other_device
        .post(
            "/konto/aterstall",
            &[("csrf", &csrf), ("token", &token), ("password", new_password), ("password_again", new_password)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Lösenordet är bytt"));
    // Once only.
    let r = other_device
        .post(
            "/konto/aterstall",
            &[("csrf", &csrf), ("token", &token), ("password", new_password), ("password_again", new_password)],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Länken är ogiltig, redan använd eller för gammal."));
    // The old session ended; the old password no longer works, the new one does.
    assert!(anna.get("/konto").await.body.contains("<h1>Logga in</h1>"));
    assert_eq!(anna.sign_in("anna@nacka.se", PASSWORD).await.status, 401);
    assert_eq!(anna.sign_in("anna@nacka.se", new_password).await.status, 303);

    // A link past its hour does not work.
    let r = other_device.post("/konto/glomt", &[("csrf", &csrf), ("email", "anna@nacka.se")]).await;
    assert_eq!(r.status, 200);
    let (_, token) = app.store.start_password_reset("anna@nacka.se", app.clock.now()).await.unwrap().unwrap();
    app.clock.advance(chrono::Duration::minutes(61));
    let r = other_device
        .post(
            "/konto/aterstall",
            &[("csrf", &csrf), ("token", &token), ("password", new_password), ("password_again", new_password)],
        )
        .await;
    assert_eq!(r.status, 422);
}

/// The text in a page's `<textarea id="…">`, unescaped as a browser shows it.
fn textarea(body: &str, id: &str) -> String {
    let start = body.find(&format!(r#"<textarea id="{id}""#)).unwrap_or_else(|| panic!("no textarea {id}"));
    let rest = &body[start..];
    let open = rest.find('>').unwrap() + 1;
    let text = &rest[open..rest.find("</textarea>").unwrap()];
    text.replace("&lt;", "<")
        .replace("&#60;", "<")
        .replace("&gt;", ">")
        .replace("&#62;", ">")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

/// Editing an ad gives back what its employer wrote: Markdown as
/// Markdown, from the dashboard and from the API alike, and the HTML an
/// applicant-tracking system sent as that HTML; readers get the rendering.
/// A description as long as the rules allow, in Swedish letters, is saved
/// from the form as it is through the API (the form's body limit once
/// refused it with 413); one character more is refused next to the field.
async fn the_ad_form_takes_the_longest_description_the_api_takes(app: &TestApp) {
    let (employer, _) = app.employer_with_key("Nacka kommun").await;
    app.create_user(employer, "anna@nacka.se", PASSWORD).await;
    let mut anna = Visitor::new(app);
    assert_eq!(anna.sign_in("anna@nacka.se", PASSWORD).await.status, 303);
    let csrf = anna.get("/konto").await.csrf();
    let deadline = app.date_in(20);
    let longest = "Å".repeat(platsen_jobs::input::limits::DESCRIPTION_MAX);
    let mut form = ad_form(&csrf, "Upphandlare till Nacka", &deadline);
    form.retain(|(k, _)| *k != "description");
    form.push(("description", &longest));
    let r = anna.post("/konto/annonser/ny", &form).await;
    assert_eq!(r.status, 303, "{}", &r.body[..r.body.len().min(2000)]);
    let too_long = format!("{longest}Å");
    form.retain(|(k, _)| *k != "description");
    form.push(("description", &too_long));
    let r = anna.post("/konto/annonser/ny", &form).await;
    assert_eq!(r.status, 422, "{}", &r.body[..r.body.len().min(2000)]);
    assert!(r.body.contains("description-error"), "the error sits next to the field");
}

async fn the_ad_editor_gives_back_what_the_employer_wrote(app: &TestApp) {
    let (employer, key) = app.employer_with_key("Nacka kommun").await;
    app.create_user(employer, "anna@nacka.se", PASSWORD).await;
    let mut anna = Visitor::new(app);
    assert_eq!(anna.sign_in("anna@nacka.se", PASSWORD).await.status, 303);
    let csrf = anna.get("/konto").await.csrf();
    let deadline = app.date_in(20);
    let markdown = "## Om tjänsten\n\nDu leder **upphandlingar** enligt LOU.\n\n- avtal\n- analys & <uppföljning>";
    let mut form = ad_form(&csrf, "Upphandlare till Nacka", &deadline);
    form.retain(|(k, _)| *k != "description");
    form.push(("description", markdown));
    let r = anna.post("/konto/annonser/ny", &form).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let path = r.location().split('?').next().unwrap().to_owned();
    let id: i64 = path.trim_start_matches("/konto/annonser/").parse().unwrap();
    let edit = anna.get(&path).await;
    assert_eq!(textarea(&edit.body, "description"), markdown, "the Markdown comes back as written");
    // Saved again with another title, it stays Markdown; readers get HTML.
    let own = app.call(Method::GET, &format!("/api/v1/account/jobs/{id}"), Some(&key), None).await;
    let version = own.body["version"].to_string();
    let mut again = form.clone();
    again.retain(|(k, _)| *k != "title");
    again.extend([("title", "Upphandlare till Nacka kommun"), ("version", version.as_str())]);
    let r = anna.post(&path, &again).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let own = app.call(Method::GET, &format!("/api/v1/account/jobs/{id}"), Some(&key), None).await;
    assert_eq!(own.body["title"], "Upphandlare till Nacka kommun");
    assert_eq!(own.body["description_source"], markdown);
    assert_eq!(own.body["description_format"], "markdown");
    assert!(own.body["description"].as_str().unwrap().contains("<h2>Om tjänsten</h2>"), "{}", own.body);
    assert_eq!(textarea(&anna.get(&path).await.body, "description"), markdown);

    // Through the API in Markdown: the editor shows that Markdown.
    let api_markdown = "Vi söker en *strategisk* inköpare.\n\n### Kvalifikationer\n\n1. LOU\n2. Excel";
    let body = platsen_tests::with(app.job("Inköpare via API"), json!({ "description": api_markdown }));
    let from_api = app.post_job(&key, body).await;
    let edit = anna.get(&format!("/konto/annonser/{from_api}")).await;
    assert_eq!(textarea(&edit.body, "description"), api_markdown);
    // In HTML (an applicant-tracking system): the editor shows that HTML and keeps it HTML.
    let html = "<p>Vi söker en <strong>inköpschef</strong>.</p><ul><li>Ledarskap</li><li>Avtal</li></ul>";
    let body = platsen_tests::with(
        app.job("Inköpschef via ATS"),
        json!({ "description": html, "description_format": "html" }),
    );
    let from_ats = app.post_job(&key, body).await;
    let edit = anna.get(&format!("/konto/annonser/{from_ats}")).await;
    assert_eq!(textarea(&edit.body, "description"), html);
    assert!(edit.body.contains(r#"name="description_format" value="html""#));
    let own = app.call(Method::GET, &format!("/api/v1/account/jobs/{from_ats}"), Some(&key), None).await;
    assert_eq!(own.body["description_source"], html);
    assert_eq!(own.body["description_format"], "html");
    // The public never sees the source fields.
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{from_ats}/publish"), Some(&key), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let public = app.get(&format!("/api/v1/jobs/{from_ats}")).await;
    assert!(public.body.get("description_source").is_none(), "{}", public.body);
}

contract!(
    the_ad_form_takes_the_longest_description_the_api_takes,
    the_ad_editor_gives_back_what_the_employer_wrote,
    admins_create_users_and_garbage_is_refused,
    an_employer_user_signs_in_posts_an_ad_and_sees_views_and_clicks,
    a_forgotten_password_is_reset_once_by_an_emailed_link,
);

/// Only failures count: an office whose colleagues sign in all day from one
/// address, with the odd typo, is never locked out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn successful_sign_ins_never_count_against_an_address() {
    let app = TestApp::sqlite().await;
    let employer = app.create_employer("Nacka kommun").await;
    app.create_user(employer, "anna@nacka.se", PASSWORD).await;
    let mut anna = Visitor::new(&app);
    assert_eq!(anna.sign_in("anna@nacka.se", "fel lösenord igen och igen").await.status, 401);
    for _ in 0..6 {
        assert_eq!(Visitor::new(&app).sign_in("anna@nacka.se", PASSWORD).await.status, 303);
    }
    for i in 0..25 {
        let email = format!("kollega{i}@nacka.se");
        app.create_user(employer, &email, PASSWORD).await;
        assert_eq!(Visitor::new(&app).sign_in(&email, PASSWORD).await.status, 303, "colleague {i}");
    }
    app.stop().await;
}

/// Password-reset mails are limited per account: asking again and again
/// (from many addresses) sends a few, answers every time as if it had, and
/// keeps the account's sign-in open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_reset_requests_flood_no_inbox() {
    let app = TestApp::sqlite().await;
    let employer = app.create_employer("Nacka kommun").await;
    app.create_user(employer, "anna@nacka.se", PASSWORD).await;
    for i in 0..6 {
        let mut v = Visitor::from_address(&app, &format!("127.0.1.{}", i + 1));
        let csrf = v.get("/konto/glomt").await.csrf();
        let r = v.post("/konto/glomt", &[("csrf", &csrf), ("email", "anna@nacka.se")]).await;
        assert_eq!(r.status, 200, "request {i}: the same answer every time");
    }
    platsen_tests::eventually(5, "three reset mails", || async { app.smtp.mails_to("anna@nacka.se").len() >= 3 }).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.smtp.mails_to("anna@nacka.se").len(), 3, "at most three reset mails in a row");
    // One address asking for many accounts is slowed down.
    let mut v = Visitor::from_address(&app, "127.0.2.1");
    let csrf = v.get("/konto/glomt").await.csrf();
    let statuses: Vec<u16> = {
        let mut out = Vec::new();
        for i in 0..7 {
            let email = format!("x{i}@nacka.se");
            out.push(v.post("/konto/glomt", &[("csrf", &csrf), ("email", &email)]).await.status);
        }
        out
    };
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429]);
    assert_eq!(Visitor::new(&app).sign_in("anna@nacka.se", PASSWORD).await.status, 303);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_are_limited_per_address() {
    let app = TestApp::sqlite().await;
    let employer = app.create_employer("Nacka kommun").await;
    app.create_user(employer, "anna@nacka.se", PASSWORD).await;
    let mut v = Visitor::new(&app);
    for _ in 0..5 {
        assert_eq!(v.sign_in("anna@nacka.se", "fel lösenord igen och igen").await.status, 401);
    }
    // The sixth try within the minute is refused before the password is checked, even the right one.
    let r = v.sign_in("anna@nacka.se", PASSWORD).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers["retry-after"], "60");
    assert!(r.body.contains("För många inloggningsförsök"));
    // Another account is not held up by it.
    app.create_user(employer, "bo@nacka.se", PASSWORD).await;
    assert_eq!(v.sign_in("bo@nacka.se", PASSWORD).await.status, 303);
    // Nor is the real user, from an address that has not failed, though
    // the guessing goes on at one a minute.
    assert_eq!(Visitor::from_address(&app, "127.0.0.2").sign_in("anna@nacka.se", PASSWORD).await.status, 303);
    // The guessing address stays refused, and asking for a password reset
    // from anywhere neither locks the account nor is locked by it.
    assert_eq!(Visitor::new(&app).sign_in("anna@nacka.se", PASSWORD).await.status, 429);
    let mut reset = Visitor::from_address(&app, "127.0.0.3");
    let csrf = reset.get("/konto/glomt").await.csrf();
    assert_eq!(reset.post("/konto/glomt", &[("csrf", &csrf), ("email", "anna@nacka.se")]).await.status, 200);
    assert_eq!(reset.sign_in("anna@nacka.se", PASSWORD).await.status, 303);
    // Garbage: an overlong address, an empty form, a body that is too big.
    let mut v = Visitor::new(&app);
    assert_eq!(v.sign_in(&"a".repeat(300), PASSWORD).await.status, 400);
    let csrf = v.get("/konto").await.csrf();
    assert_eq!(v.post("/konto/logga-in", &[("csrf", &csrf)]).await.status, 400);
    let huge = "x".repeat(200 * 1024);
    assert_eq!(v.post("/konto/logga-in", &[("csrf", &csrf), ("email", &huge)]).await.status, 413);
    app.stop().await;
}
