//! The admin pages over HTTP, on both databases: only an admin user reaches
//! them; the moderation queue (approve, reject with a reason the employer
//! sees); employers created with the API's messages next to the fields;
//! users added with a password or an e-mailed invitation; API keys shown
//! once and revoked; salary surveys uploaded all or nothing; the search sync
//! status. Also the invitation through the admin API and the command that
//! creates an admin web user.

use platsen::AdminCommand;
use platsen_tests::{TestApp, contract};
use reqwest::Method;
use serde_json::json;

use crate::konto::{PASSWORD, Visitor};

const ADMIN: &str = "drift@platsen.se";

async fn admin_user(app: &TestApp) {
    app.store.create_user(None, ADMIN, PASSWORD, true, app.clock.now()).await.unwrap();
}

/// An employer whose ads are reviewed, a key, and an ad of it waiting for review.
async fn reviewed_employer(app: &TestApp, name: &str) -> (i64, String) {
    let r = app
        .admin(
            Method::POST,
            "/api/v1/employers",
            Some(json!({ "name": name, "organization_number": platsen_tests::org_number(), "requires_review": true })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    (id, app.create_key(id).await)
}

async fn submit_for_review(app: &TestApp, key: &str, title: &str) -> i64 {
    let id = app.post_job(key, app.job(title)).await;
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{id}/publish"), Some(key), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "pending_review");
    id
}

async fn only_admins_reach_the_admin_pages_and_review_ads(app: &TestApp) {
    admin_user(app).await;
    let (employer, key) = reviewed_employer(app, "Granskade kommunen").await;
    app.create_user(employer, "anna@granskade.se", PASSWORD).await;
    let good = submit_for_review(app, &key, "Upphandlare till granskningen").await;
    let bad = submit_for_review(app, &key, "Inköpare som ska avvisas").await;

    // Not signed in: to the sign-in page. An employer's user: "not found".
    let mut nobody = Visitor::new(app);
    for path in ["/konto/granskning", "/konto/arbetsgivare", "/konto/lonestatistik", "/konto/arbetsgivare/1"] {
        let r = nobody.get(path).await;
        assert_eq!((r.status, r.location()), (303, "/konto"), "{path}");
    }
    let mut anna = Visitor::new(app);
    assert_eq!(anna.sign_in("anna@granskade.se", PASSWORD).await.status, 303);
    let csrf = anna.get("/konto").await.csrf();
    for path in
        ["/konto/granskning", "/konto/arbetsgivare", "/konto/lonestatistik", &format!("/konto/arbetsgivare/{employer}")]
    {
        let r = anna.get(path).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        assert!(!r.body.contains("Godkänn"), "{path}");
    }
    // Her valid token does not make her an admin either.
    let r = anna.post(&format!("/konto/granskning/{good}"), &[("csrf", &csrf), ("action", "godkann")]).await;
    assert_eq!(r.status, 404);
    let before = app.store.employers(1, 100, app.clock.now()).await.unwrap().total;
    let r = anna
        .post(
            "/konto/arbetsgivare",
            &[("csrf", &csrf), ("name", "Smygbolaget AB"), ("organization_number", "556000-0000")],
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(app.store.employers(1, 100, app.clock.now()).await.unwrap().total, before, "nothing created");

    // The admin's overview counts the queue.
    let mut admin = Visitor::new(app);
    assert_eq!(admin.sign_in(ADMIN, PASSWORD).await.status, 303);
    let home = admin.get("/konto").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert_eq!(home.headers["cache-control"], "no-store");
    assert!(home.body.contains("<h1>Administration</h1>"), "{}", home.body);
    assert!(home.body.contains(r#"<p class="big">2</p><p>annonser väntar på granskning."#), "{}", home.body);
    let csrf = home.csrf();

    let queue = admin.get("/konto/granskning").await;
    assert_eq!(queue.status, 200);
    assert!(queue.body.contains("Upphandlare till granskningen") && queue.body.contains("Inköpare som ska avvisas"));
    assert!(queue.body.contains(&format!("/konto/annonser/{good}/forhandsgranska")));
    // The admin may preview an ad of any employer.
    let preview = admin.get(&format!("/konto/annonser/{good}/forhandsgranska")).await;
    assert_eq!(preview.status, 200);
    assert!(preview.body.contains("Upphandlare till granskningen"));

    // Garbage: no token, an unknown step, a reason that is missing or too long.
    let path = format!("/konto/granskning/{bad}");
    assert_eq!(admin.post(&path, &[("action", "avvisa"), ("reason", "Nej")]).await.status, 403);
    assert_eq!(admin.post(&path, &[("csrf", &csrf), ("action", "radera")]).await.status, 400);
    assert_eq!(admin.post("/konto/granskning/abc", &[("csrf", &csrf), ("action", "godkann")]).await.status, 404);
    assert_eq!(admin.post("/konto/granskning/999999", &[("csrf", &csrf), ("action", "godkann")]).await.status, 404);
    let r = admin.post(&path, &[("csrf", &csrf), ("action", "avvisa"), ("reason", "  ")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.field_error(&format!("reason-{bad}")).is_some(), "{}", r.body);
    let long = "x".repeat(2001);
    let r = admin.post(&path, &[("csrf", &csrf), ("action", "avvisa"), ("reason", &long)]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains(&long), "what was typed comes back");

    // Reject with a reason: back to draft, and the employer sees why.
    let reason = "Lönen måste anges <b>i kronor</b>.";
    let r = admin.post(&path, &[("csrf", &csrf), ("action", "avvisa"), ("reason", reason)]).await;
    assert_eq!((r.status, r.location()), (303, "/konto/granskning?klart=avvisad"), "{}", r.body);
    let mine = anna.get(&format!("/konto/annonser/{bad}")).await;
    assert!(mine.body.contains("Status: Avvisad"), "{}", mine.body);
    assert!(mine.body.contains("Lönen måste anges &#60;b&#62;i kronor&#60;/b&#62;."), "{}", mine.body);

    // Approve: published and public.
    let r = admin.post(&format!("/konto/granskning/{good}"), &[("csrf", &csrf), ("action", "godkann")]).await;
    assert_eq!(r.location(), "/konto/granskning?klart=godkand");
    let ad = app.get(&format!("/api/v1/jobs/{good}")).await;
    assert_eq!(ad.status, 200, "{}", ad.body);
    assert_eq!(ad.body["status"], "published");
    // Twice: it is no longer waiting; nothing breaks.
    let r = admin.post(&format!("/konto/granskning/{good}"), &[("csrf", &csrf), ("action", "godkann")]).await;
    assert_eq!(r.location(), "/konto/granskning?klart=andrad");
    let queue = admin.get("/konto/granskning").await;
    assert!(queue.body.contains("Inga annonser väntar på granskning."), "{}", queue.body);
    // The audit trail names the decision and the reason.
    let events = app.admin(Method::GET, &format!("/api/v1/jobs/{bad}/events"), None).await;
    assert!(events.body.to_string().contains("i kronor"), "{}", events.body);
}

async fn admins_manage_employers_users_and_keys_on_the_pages(app: &TestApp) {
    admin_user(app).await;
    let mut admin = Visitor::new(app);
    assert_eq!(admin.sign_in(ADMIN, PASSWORD).await.status, 303);
    let list = admin.get("/konto/arbetsgivare").await;
    assert_eq!(list.status, 200);
    let csrf = list.csrf();
    assert_eq!(admin.get("/konto/arbetsgivare?sida=abc").await.status, 400);
    assert_eq!(admin.get("/konto/arbetsgivare?sida=0").await.status, 400);
    assert_eq!(admin.get("/konto/arbetsgivare/abc").await.status, 404);
    assert_eq!(admin.get("/konto/arbetsgivare/999999").await.status, 404);

    // A new employer: the API's messages next to the fields, and what was typed kept.
    let r = admin
        .post(
            "/konto/arbetsgivare",
            &[
                ("csrf", &csrf),
                ("name", ""),
                ("organization_number", "12345"),
                ("website", "javascript:alert(1)"),
                ("sector", "hittepå"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    for field in ["name", "organization_number", "website", "sector"] {
        assert!(r.field_error(field).is_some(), "{field}: {}", r.body);
    }
    assert!(r.body.contains(r#"value="12345""#));
    let org = platsen_tests::org_number();
    let r = admin
        .post(
            "/konto/arbetsgivare",
            &[
                ("csrf", &csrf),
                ("name", "Vallentuna kommun"),
                ("organization_number", &org),
                ("website", "https://www.vallentuna.se"),
                ("sector", "kommun"),
                ("requires_review", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page_path = r.location().split('?').next().unwrap().to_owned();
    let employer: i64 = page_path.rsplit('/').next().unwrap().parse().unwrap();
    let e = app.store.employer(&platsen_jobs::IdOrSlug::Id(employer), app.clock.now()).await.unwrap();
    assert!(e.requires_review && e.sector.is_some(), "{e:?}");
    let page = admin.get(r.location()).await;
    assert!(page.body.contains("Arbetsgivaren är skapad."), "{}", page.body);
    // The same organisation number twice.
    let r = admin
        .post("/konto/arbetsgivare", &[("csrf", &csrf), ("name", "Vallentuna igen"), ("organization_number", &org)])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.field_error("organization_number").is_some(), "{}", r.body);

    // A user with a password signs in at once.
    let users = format!("{page_path}/anvandare");
    let r = admin.post(&users, &[("csrf", &csrf), ("email", "eva@vallentuna.se"), ("password", "kort")]).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("password").as_deref(), Some("Lösenordet måste ha minst 12 tecken."));
    assert!(r.body.contains(r#"value="eva@vallentuna.se""#));
    let r = admin.post(&users, &[("csrf", &csrf), ("email", "inte-en-adress"), ("password", "")]).await;
    assert_eq!(r.status, 422);
    assert!(r.field_error("email").is_some());
    let r = admin.post(&users, &[("csrf", &csrf), ("email", "eva@vallentuna.se"), ("password", PASSWORD)]).await;
    assert_eq!(r.location(), format!("{page_path}?klart=anvandare"));
    assert_eq!(Visitor::new(app).sign_in("eva@vallentuna.se", PASSWORD).await.status, 303);
    let r = admin.post(&users, &[("csrf", &csrf), ("email", "EVA@vallentuna.se"), ("password", PASSWORD)]).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("email").as_deref(), Some("Det finns redan ett konto med den e-postadressen."));

    // Without a password: an invitation by mail; no password works until it is used.
    let r = admin.post(&users, &[("csrf", &csrf), ("email", "per@vallentuna.se"), ("password", "")]).await;
    assert_eq!(r.location(), format!("{page_path}?klart=inbjuden"), "{}", r.body);
    let mail = app.smtp.wait_for("per@vallentuna.se").await;
    assert!(mail.data.contains("Subject: =?utf-8?") || mail.data.contains("Välkommen"), "{}", mail.data);
    let body = mail.body();
    assert!(body.contains("Vallentuna kommun") && body.contains("inom 7 dagar"), "{body}");
    let link = body.split_whitespace().find(|w| w.contains("/konto/aterstall?")).expect("a link").to_owned();
    assert!(link.contains("valkommen=1&token="), "an invitation is a welcome: {link}");
    let mut per = Visitor::new(app);
    assert_eq!(per.sign_in("per@vallentuna.se", "").await.status, 400);
    assert_eq!(per.sign_in("per@vallentuna.se", "!invited").await.status, 401);
    let path = link.trim_start_matches(&app.url(""));
    let token = path.split("token=").nth(1).unwrap().to_owned();
    let form = per.get(path).await;
    let chosen = "pers egna långa lösenord";
    let r = per
        .post(
            "/konto/aterstall",
            &[("csrf", &form.csrf()), ("token", &token), ("password", chosen), ("password_again", chosen)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(per.sign_in("per@vallentuna.se", chosen).await.status, 303);
    let page = admin.get(&page_path).await;
    assert!(page.body.contains("per@vallentuna.se") && page.body.contains("eva@vallentuna.se"));

    // A key is shown once, works, and is revoked from the page.
    let keys = format!("{page_path}/nycklar");
    let long_label = "x".repeat(500);
    let r = admin.post(&keys, &[("csrf", &csrf), ("label", &long_label)]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.field_error("label").is_some());
    let r = admin.post(&keys, &[("csrf", &csrf), ("label", "Rekryteringssystem")]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.headers["cache-control"], "no-store");
    let marker = r#"id="secret" type="text" readonly value=""#;
    let at = r.body.find(marker).expect("the secret") + marker.len();
    let secret: String = r.body[at..].chars().take_while(|c| *c != '"').collect();
    assert!(secret.starts_with("plk_") && secret.len() > 40, "{secret}");
    assert_eq!(app.call(Method::GET, "/api/v1/account", Some(&secret), None).await.status, 200);
    let page = admin.get(&page_path).await;
    assert!(!page.body.contains(&secret), "the secret is never shown again");
    let key_id = app.store.keys(Some(employer), None).await.unwrap()[0].id;
    // Not through another employer's page, nor without a token.
    let other = app.create_employer("Annan kommun").await;
    let r = admin.post(&format!("/konto/arbetsgivare/{other}/nycklar/{key_id}/aterkalla"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 404);
    let revoke = format!("{keys}/{key_id}/aterkalla");
    assert_eq!(admin.post(&revoke, &[]).await.status, 403);
    assert_eq!(app.call(Method::GET, "/api/v1/account", Some(&secret), None).await.status, 200);
    let r = admin.post(&revoke, &[("csrf", &csrf)]).await;
    assert_eq!(r.location(), format!("{page_path}?klart=aterkallad"));
    assert_eq!(app.call(Method::GET, "/api/v1/account", Some(&secret), None).await.status, 401);
    assert!(admin.get(&page_path).await.body.contains("återkallad"));

    // The admin API invites too.
    let path = format!("/api/v1/employers/{employer}/users");
    let r = app.admin(Method::POST, &path, Some(json!({ "email": "lisa@vallentuna.se" }))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["invitation_sent"], true);
    assert_eq!(r.body["email"], "lisa@vallentuna.se");
    assert!(app.smtp.wait_for("lisa@vallentuna.se").await.body().contains("/konto/aterstall?valkommen=1&token="));
    let r = app.admin(Method::POST, &path, Some(json!({ "email": "eva@vallentuna.se", "password": PASSWORD }))).await;
    assert!(r.body.get("invitation_sent").is_none(), "{}", r.body);
    r.assert_problem(409, "email");
    app.admin(Method::POST, &path, Some(json!({ "email": "<script>" }))).await.assert_problem(422, "email");
}

async fn admins_upload_salary_surveys_and_see_the_search_sync(app: &TestApp) {
    admin_user(app).await;
    let mut admin = Visitor::new(app);
    assert_eq!(admin.sign_in(ADMIN, PASSWORD).await.status, 303);
    let home = admin.get("/konto").await;
    assert!(home.body.contains("Sökindex") && home.body.contains("databasens fritextsökning"), "{}", home.body);
    assert!(home.body.contains("Ingen löneenkät är importerad."));
    let csrf = home.csrf();
    assert_eq!(admin.post("/konto/sokindex/forsok-igen", &[("csrf", &csrf)]).await.location(), "/konto");
    assert_eq!(admin.post("/konto/sokindex/forsok-igen", &[]).await.status, 403);

    let page = admin.get("/konto/lonestatistik").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"enctype="multipart/form-data""#));

    // A file with bad rows: refused whole, each problem with its line.
    let (good, _) = platsen_tests::survey();
    let bad = good.replacen("2025,upphandlare,kommun,01", "2025,astronaut,kommun,99", 1);
    let r = admin.post_file("/konto/lonestatistik", &[("csrf", &csrf)], ("file", "enkat.csv", bad.as_bytes())).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("har inte importerats; inget har sparats"), "{}", r.body);
    assert!(r.body.contains("<td>2</td><td>role</td>"), "{}", r.body);
    assert!(app.store.salary_imports().await.unwrap().is_empty());
    // No token; no file; not a form at all.
    let r = admin.post_file("/konto/lonestatistik", &[], ("file", "enkat.csv", good.as_bytes())).await;
    assert_eq!(r.status, 403);
    let r = admin.post_file("/konto/lonestatistik", &[("csrf", &csrf)], ("file", "tom.csv", b"")).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Välj en CSV-fil att importera."));
    let r = admin.post("/konto/lonestatistik", &[("csrf", &csrf)]).await;
    assert!((400..500).contains(&r.status), "{} {}", r.status, r.body);
    let binary = [0xffu8, 0xfe, 0x00, 0x41, 0x0a, 0x00];
    let r = admin.post_file("/konto/lonestatistik", &[("csrf", &csrf)], ("file", "bild.png", &binary)).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(app.store.salary_imports().await.unwrap().is_empty());

    // A part whose header is not even well-formed is refused as a whole.
    let r =
        admin.post_file("/konto/lonestatistik", &[("csrf", &csrf)], ("file", "enkät\u{7}.csv", good.as_bytes())).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("Filen kunde inte tas emot"));
    // A good file: imported, listed, and the statistics use it.
    let r =
        admin.post_file("/konto/lonestatistik", &[("csrf", &csrf)], ("file", "enkät-2025.csv", good.as_bytes())).await;
    let rows = good.lines().count() - 1;
    assert_eq!((r.status, r.location()), (303, format!("/konto/lonestatistik?klart={rows}").as_str()), "{}", r.body);
    let page = admin.get(r.location()).await;
    assert!(page.body.contains(&format!("Filen är importerad: {rows} svar.")), "{}", page.body);
    assert!(page.body.contains("enkät-2025.csv"), "{}", page.body);
    let stats = app.get("/api/v1/salaries/stats?year=2025&role=upphandlare").await;
    assert_eq!(stats.status, 200, "{}", stats.body);
    // The same file again is refused.
    let r = admin.post_file("/konto/lonestatistik", &[("csrf", &csrf)], ("file", "igen.csv", good.as_bytes())).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(app.store.salary_imports().await.unwrap().len(), 1);
}

async fn the_command_line_creates_web_users(app: &TestApp) {
    let create = |email: &str, employer: Option<String>, admin: bool, password: &str| AdminCommand::CreateUser {
        email: email.into(),
        employer,
        admin,
        password: Some(password.into()),
    };
    let out = platsen::admin(&app.store, create("Drift@Platsen.se", None, true, PASSWORD)).await.unwrap();
    assert!(out.contains("drift@platsen.se") && out.contains("administratör"), "{out}");
    let mut admin = Visitor::new(app);
    assert_eq!(admin.sign_in(ADMIN, PASSWORD).await.status, 303);
    assert!(admin.get("/konto").await.body.contains("<h1>Administration</h1>"));

    let employer = app.create_employer("Kommandoradens kommun").await;
    let slug = app.store.employer(&platsen_jobs::IdOrSlug::Id(employer), app.clock.now()).await.unwrap().slug;
    let out = platsen::admin(&app.store, create("ulla@kommun.se", Some(slug), false, PASSWORD)).await.unwrap();
    assert!(out.contains("användare"), "{out}");
    let mut ulla = Visitor::new(app);
    assert_eq!(ulla.sign_in("ulla@kommun.se", PASSWORD).await.status, 303);
    assert!(ulla.get("/konto").await.body.contains("Kommandoradens kommun"));

    // Garbage: a short password, a bad address, an unknown employer, an address taken.
    let e = platsen::admin(&app.store, create("x@kommun.se", None, true, "kort")).await.unwrap_err();
    assert!(e.to_string().contains("password: Lösenordet måste ha minst 12 tecken."), "{e}");
    let e = platsen::admin(&app.store, create("inte en adress", None, true, PASSWORD)).await.unwrap_err();
    assert!(e.to_string().starts_with("email:"), "{e}");
    let e = platsen::admin(&app.store, create("y@kommun.se", Some("finns-inte".into()), false, PASSWORD))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("finns inte"), "{e}");
    let e = platsen::admin(&app.store, create("ULLA@kommun.se", None, true, PASSWORD)).await.unwrap_err();
    assert!(e.to_string().contains("Det finns redan ett konto"), "{e}");
    assert_eq!(app.store.users(None).await.unwrap().len(), 2);
}

contract!(
    only_admins_reach_the_admin_pages_and_review_ads,
    admins_manage_employers_users_and_keys_on_the_pages,
    admins_upload_salary_surveys_and_see_the_search_sync,
    the_command_line_creates_web_users,
    review_is_mailed_both_ways_and_the_employer_sees_why,
    operators_find_ads_take_them_down_and_edit_employers,
);

/// Nobody has to keep looking: the operators are mailed when an ad waits
/// for review, the employer's users when it is sent back (with the reason)
/// or approved; the dashboard says "Avvisad" with the reason; an employer
/// whose ads are reviewed is offered "Skicka för granskning".
async fn review_is_mailed_both_ways_and_the_employer_sees_why(app: &TestApp) {
    admin_user(app).await;
    let (employer, _) = reviewed_employer(app, "Meddelade kommunen").await;
    app.create_user(employer, "eva@meddelade.se", PASSWORD).await;
    let mut eva = Visitor::new(app);
    assert_eq!(eva.sign_in("eva@meddelade.se", PASSWORD).await.status, 303);
    let csrf = eva.get("/konto").await.csrf();
    let deadline = app.date_in(20);
    let form = [
        ("csrf", csrf.as_str()),
        ("title", "Upphandlare som granskas"),
        ("role", "upphandlare"),
        ("description", "## Om tjänsten\n\nDu leder upphandlingar enligt LOU från behov till avtal."),
        ("municipality_code", "0182"),
        ("employment_type", "tillsvidare"),
        ("application_deadline", deadline.as_str()),
        ("apply_url", "https://example.org/ansok/7"),
    ];
    let r = eva.post("/konto/annonser/ny", &form).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let edit = r.location().split('?').next().unwrap().to_owned();
    let id: i64 = edit.trim_start_matches("/konto/annonser/").parse().unwrap();
    let page = eva.get(&edit).await;
    assert!(page.body.contains(">Skicka för granskning</button>"), "{}", page.body);
    assert!(!page.body.contains(">Publicera</button>"));
    let r = eva.post(&format!("{edit}/status"), &[("csrf", &csrf), ("action", "publicera")]).await;
    assert_eq!(r.location(), format!("{edit}?klart=publicera"));
    let mail = app.smtp.wait_for(ADMIN).await;
    assert!(
        mail.body().contains("Upphandlare som granskas") && mail.body().contains("/konto/granskning"),
        "{}",
        mail.body()
    );

    // Sent back with a reason: mailed, and named on the dashboard.
    let mut admin = Visitor::new(app);
    assert_eq!(admin.sign_in(ADMIN, PASSWORD).await.status, 303);
    let admin_csrf = admin.get("/konto").await.csrf();
    let reason = "Lönen måste anges i kronor per månad.";
    let r = admin
        .post(&format!("/konto/granskning/{id}"), &[("csrf", &admin_csrf), ("action", "avvisa"), ("reason", reason)])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let mail = app.smtp.wait_for("eva@meddelade.se").await;
    assert!(mail.body().contains(reason) && mail.body().contains(&format!("/konto/annonser/{id}")), "{}", mail.body());
    let dash = eva.get("/konto").await;
    assert!(dash.body.contains("<td>Avvisad<br><span class=\"reason\">"), "{}", dash.body);
    assert!(dash.body.contains(reason));
    assert!(!dash.body.contains("<td>Utkast"), "{}", dash.body);

    // Sent again and approved: mailed with the ad's address.
    let r = eva.post(&format!("{edit}/status"), &[("csrf", &csrf), ("action", "publicera")]).await;
    assert_eq!(r.location(), format!("{edit}?klart=publicera"));
    let r = admin.post(&format!("/konto/granskning/{id}"), &[("csrf", &admin_csrf), ("action", "godkann")]).await;
    assert_eq!(r.status, 303);
    platsen_tests::eventually(10, "the approval mail", || async {
        app.smtp.mails_to("eva@meddelade.se").iter().any(|m| m.body().contains("godkänd"))
    })
    .await;
    assert_eq!(app.smtp.mails_to(ADMIN).len(), 2, "one mail per ad waiting");
    // Through the API too: publishing for review mails the operators.
    let key = app.create_key(employer).await;
    submit_for_review(app, &key, "Inköpare via API").await;
    platsen_tests::eventually(10, "the third review mail", || async { app.smtp.mails_to(ADMIN).len() == 3 }).await;
}

/// The operator finds any ad without its id, takes one down with a reason
/// the employer sees (and cannot undo), edits an employer, and removes or
/// re-invites its users.
async fn operators_find_ads_take_them_down_and_edit_employers(app: &TestApp) {
    admin_user(app).await;
    let (employer, key) = app.employer_with_key("Ordningens kommun").await;
    app.create_user(employer, "olof@ordningen.se", PASSWORD).await;
    let (_, other_key) = app.employer_with_key("Andra kommunen").await;
    let bad = app.publish_job(&key, app.job("Upphandlare med olämplig text")).await;
    let _good = app.publish_job(&key, app.job("Avtalscontroller till Ordningen")).await;
    let draft = app.post_job(&key, app.job("Utkast som inte syns")).await;
    let _elsewhere = app.publish_job(&other_key, app.job("Inköpare hos andra")).await;
    let mut admin = Visitor::new(app);
    assert_eq!(admin.sign_in(ADMIN, PASSWORD).await.status, 303);
    let csrf = admin.get("/konto").await.csrf();

    // The list: all statuses, by status, employer and words or id.
    let all = admin.get("/konto/alla-annonser").await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert!(all.body.contains("4 annonser"), "{}", all.body);
    let drafts = admin.get("/konto/alla-annonser?status=draft").await;
    assert!(drafts.body.contains("Utkast som inte syns") && drafts.body.contains("1 annonser"), "{}", drafts.body);
    let theirs = admin.get(&format!("/konto/alla-annonser?arbetsgivare={employer}")).await;
    assert!(theirs.body.contains("3 annonser") && !theirs.body.contains("Inköpare hos andra"), "{}", theirs.body);
    let words = admin.get("/konto/alla-annonser?q=ol%C3%A4mplig").await;
    assert!(
        words.body.contains("1 annonser") && words.body.contains("Upphandlare med olämplig text"),
        "{}",
        words.body
    );
    let by_id = admin.get(&format!("/konto/alla-annonser?q={draft}")).await;
    assert!(by_id.body.contains("1 annonser") && by_id.body.contains("Utkast som inte syns"), "{}", by_id.body);
    for garbage in ["status=borta", "arbetsgivare=x", "sida=0", "q=%25%27%20or%201%3D1"] {
        let r = admin.get(&format!("/konto/alla-annonser?{garbage}")).await;
        assert!(r.status == 400 || (r.status == 200 && r.body.contains("0 annonser")), "{garbage}: {}", r.status);
    }

    // Take down: a reason is needed; the employer is told and cannot reopen it.
    let page = format!("/konto/alla-annonser/{bad}");
    let r = admin.post(&page, &[("csrf", &csrf), ("action", "ta-ner"), ("reason", "")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"reason-error\""), "{}", r.body);
    let reason = "Annonsen bryter mot reglerna för platsannonser.";
    let r = admin.post(&page, &[("csrf", &csrf), ("action", "ta-ner"), ("reason", reason)]).await;
    assert_eq!(r.location(), format!("{page}?klart=nertagen"), "{}", r.body);
    let slug = app.call(Method::GET, &format!("/api/v1/account/jobs/{bad}"), Some(&key), None).await.body["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.get(&format!("/jobb/{slug}")).await.status, 410);
    let mail = app.smtp.wait_for("olof@ordningen.se").await;
    assert!(mail.body().contains(reason), "{}", mail.body());
    let mut olof = Visitor::new(app);
    assert_eq!(olof.sign_in("olof@ordningen.se", PASSWORD).await.status, 303);
    let dash = olof.get("/konto").await;
    assert!(dash.body.contains("Stängd av Platsen") && dash.body.contains(reason), "{}", dash.body);
    let edit = olof.get(&format!("/konto/annonser/{bad}")).await;
    assert!(edit.body.contains(&format!("Platsen stängde annonsen: {reason}")), "{}", edit.body);
    assert!(!edit.body.contains("Öppna igen"), "{}", edit.body);
    let olof_csrf = edit.csrf();
    let r = olof.post(&format!("/konto/annonser/{bad}/status"), &[("csrf", &olof_csrf), ("action", "oppna")]).await;
    assert_eq!(r.location(), format!("/konto/annonser/{bad}?fel=status"));
    let r = app.call(Method::POST, &format!("/api/v1/jobs/{bad}/reopen"), Some(&key), None).await;
    assert_eq!(r.status, 409, "{}", r.text);
    // Only an admin takes ads down; the admin can reopen.
    let r = app
        .call(Method::POST, &format!("/api/v1/jobs/{bad}/take-down"), Some(&key), Some(json!({ "reason": "x y z" })))
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = admin.post(&page, &[("csrf", &csrf), ("action", "oppna")]).await;
    assert_eq!(r.location(), format!("{page}?klart=oppnad"));
    assert_eq!(app.get(&format!("/jobb/{slug}")).await.status, 200);
    // The admin API lists and takes down the same way.
    let r = app.admin(Method::GET, &format!("/api/v1/admin/jobs?status=published&employer={employer}"), None).await;
    assert_eq!(r.body["total"], 2, "{}", r.body);
    let r = app.admin(Method::POST, &format!("/api/v1/jobs/{bad}/take-down"), Some(json!({ "reason": reason }))).await;
    assert_eq!((r.status.as_u16(), r.body["status"].as_str()), (200, Some("closed")), "{}", r.body);
    assert_eq!(r.body["rejection_reason"], reason);

    // The employer: its name, sector, review flag, website and logo.
    let path = format!("/konto/arbetsgivare/{employer}");
    let r = admin
        .post(
            &path,
            &[("csrf", &csrf), ("name", "Ordningens kommun"), ("website", "inte en adress"), ("sector", "kommun")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"website-error\""), "{}", r.body);
    assert!(r.body.contains("value=\"inte en adress\""), "what was typed stays");
    let r = admin
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("name", "Ordningens nya kommun"),
                ("website", "https://ordningen.example.se"),
                ("logo_url", "https://ordningen.example.se/logo.png"),
                ("sector", "region"),
                ("requires_review", "1"),
            ],
        )
        .await;
    assert_eq!(r.location(), format!("{path}?klart=sparad"), "{}", r.body);
    let e = app.get(&format!("/api/v1/employers/{employer}")).await.body;
    assert_eq!((e["name"].as_str(), e["sector"].as_str()), (Some("Ordningens nya kommun"), Some("region")), "{e}");
    assert_eq!(e["requires_review"], true, "{e}");
    assert_eq!(e["website"], "https://ordningen.example.se/", "{e}");

    // Users: invited again (a welcome, not a reset), removed.
    let users = app.store.users(Some(employer)).await.unwrap();
    let olof_id = users.iter().find(|u| u.email == "olof@ordningen.se").unwrap().id;
    let r = admin
        .post(&format!("{path}/anvandare"), &[("csrf", &csrf), ("email", "nya@ordningen.se"), ("password", "")])
        .await;
    assert_eq!(r.status, 303);
    app.smtp.wait_for("nya@ordningen.se").await;
    let nya_id =
        app.store.users(Some(employer)).await.unwrap().iter().find(|u| u.email == "nya@ordningen.se").unwrap().id;
    let r = admin.post(&format!("{path}/anvandare/{nya_id}/bjud-in-igen"), &[("csrf", &csrf)]).await;
    assert_eq!(r.location(), format!("{path}?klart=inbjuden-igen"));
    platsen_tests::eventually(10, "the second invitation", || async {
        app.smtp.mails_to("nya@ordningen.se").len() == 2
    })
    .await;
    let body = app.smtp.mails_to("nya@ordningen.se")[1].body();
    let link = body.split_whitespace().find(|w| w.contains("/konto/aterstall?")).expect("a link").to_owned();
    assert!(link.contains("valkommen=1"), "{link}");
    let mut nya = Visitor::new(app);
    let welcome = nya.get(link.trim_start_matches(&app.url(""))).await;
    assert!(welcome.body.contains("<h1>Välj ditt lösenord</h1>"), "{}", welcome.body);
    assert!(!welcome.body.contains("nytt lösenord"), "an invited user has no old password");
    let token = link.split("token=").nth(1).unwrap();
    let chosen = "ett alldeles eget lösenord";
    let done = nya
        .post(
            "/konto/aterstall",
            &[
                ("csrf", &welcome.csrf()),
                ("token", token),
                ("valkommen", "1"),
                ("password", chosen),
                ("password_again", chosen),
            ],
        )
        .await;
    assert!(done.body.contains("<h1>Ditt konto är klart</h1>"), "{}", done.body);
    // The first invitation's link no longer works.
    let first = app.smtp.mails_to("nya@ordningen.se")[0].body();
    let old = first.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    assert!(app.store.finish_password_reset(&old, "ett annat långt lösenord", app.clock.now()).await.is_err());
    // Removed: Olof cannot sign in; another employer's user is not found from here.
    let r = admin.post(&format!("{path}/anvandare/{olof_id}/ta-bort"), &[("csrf", &csrf)]).await;
    assert_eq!(r.location(), format!("{path}?klart=borttagen"));
    assert_eq!(Visitor::new(app).sign_in("olof@ordningen.se", PASSWORD).await.status, 401);
    let other = app.create_employer("Tredje kommunen").await;
    let stranger = app.create_user(other, "x@tredje.se", PASSWORD).await;
    let r = admin.post(&format!("{path}/anvandare/{stranger}/ta-bort"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 404);
    assert_eq!(Visitor::new(app).sign_in("x@tredje.se", PASSWORD).await.status, 303);
    // A form without the token is refused.
    assert_eq!(admin.post(&format!("{path}/anvandare/{nya_id}/ta-bort"), &[]).await.status, 403);
}
