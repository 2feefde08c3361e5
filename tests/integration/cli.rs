//! The command line's admin commands and the demo board, run as the binary
//! runs them (through `platsen::admin` and `platsen::start`).

use platsen::AdminCommand;
use platsen_tests::TestApp;
use reqwest::{Method, StatusCode};

platsen_tests::contract!(
    admin_commands_manage_employers_and_keys,
    migrations_are_idempotent,
    demo_board_seeds_on_both_databases,
    salary_import_command_reports_and_refuses_bad_files,
);

async fn admin_commands_manage_employers_and_keys(app: &TestApp) {
    let out = platsen::admin(
        &app.store,
        AdminCommand::CreateEmployer {
            name: "Kommandoradens kommun".into(),
            org_number: platsen_tests::org_number(),
            website: Some("https://example.org".into()),
            slug: None,
            sector: Some("kommun".into()),
            requires_review: false,
            billing_mode: Some("agreement".into()),
        },
    )
    .await
    .unwrap();
    assert!(out.contains("kommandoradens-kommun"), "{out}");
    let bad = platsen::admin(
        &app.store,
        AdminCommand::CreateEmployer {
            name: "X AB".into(),
            org_number: "123".into(),
            website: None,
            slug: None,
            sector: None,
            requires_review: false,
            billing_mode: None,
        },
    )
    .await
    .unwrap_err();
    assert!(bad.to_string().contains("organization_number"), "{bad}");
    let bad = platsen::admin(
        &app.store,
        AdminCommand::CreateEmployer {
            name: "Y AB".into(),
            org_number: platsen_tests::org_number(),
            website: None,
            slug: None,
            sector: Some("kommunen".into()),
            requires_review: false,
            billing_mode: None,
        },
    )
    .await
    .unwrap_err();
    assert!(bad.to_string().contains("sector"), "{bad}");
    let bad = platsen::admin(
        &app.store,
        AdminCommand::CreateEmployer {
            name: "Z AB".into(),
            org_number: platsen_tests::org_number(),
            website: None,
            slug: None,
            sector: None,
            requires_review: false,
            billing_mode: Some("gratis".into()),
        },
    )
    .await
    .unwrap_err();
    assert!(bad.to_string().contains("billing_mode"), "{bad}");
    let made = app
        .store
        .employer(&platsen_jobs::IdOrSlug::Slug("kommandoradens-kommun".into()), app.clock.now())
        .await
        .unwrap();
    assert_eq!(made.billing_mode, platsen_jobs::model::BillingMode::Agreement, "the mode given is kept");

    let out = platsen::admin(
        &app.store,
        AdminCommand::CreateKey { employer: "kommandoradens-kommun".into(), label: Some("ATS".into()) },
    )
    .await
    .unwrap();
    let key = out.lines().last().unwrap().trim().to_owned();
    assert!(key.starts_with("plk_"), "{out}");
    assert_eq!(app.own_job_count(&key).await, 0, "the printed key works");

    let list =
        platsen::admin(&app.store, AdminCommand::ListKeys { employer: None, prefix: Some(key[..12].to_owned()) })
            .await
            .unwrap();
    assert!(list.contains(&key[..12]) && !list.contains(&key), "{list}");
    platsen::admin(&app.store, AdminCommand::RevokeKey { key: key[..12].to_owned() }).await.unwrap();
    let r = app.call(Method::GET, "/api/v1/account/jobs", Some(&key), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let token = platsen::admin(&app.store, AdminCommand::GenerateToken).await.unwrap();
    assert!(token.len() >= 24 && !token.starts_with("plk_"));

    // What an operator reads when something is not there is Swedish, as the
    // rest of what the command prints.
    for (cmd, expected) in [
        (AdminCommand::RevokeKey { key: "987654".into() }, "finns inte"),
        (AdminCommand::RevokeKey { key: "plk_ingen".into() }, "det finns ingen nyckel"),
        (AdminCommand::CreateKey { employer: "finns-inte-kommun".into(), label: None }, "finns inte"),
        (
            AdminCommand::CreateKey { employer: "Inte Ett Namn".into(), label: None },
            "varken ett id eller ett adressnamn",
        ),
    ] {
        let err = format!("{:#}", platsen::admin(&app.store, cmd).await.unwrap_err());
        assert!(err.contains(expected), "{err}");
        assert!(!err.contains("not found") && !err.contains("no key"), "{err}");
    }
}

/// The seeding `cargo run` does, on either database: at least 40 ads from
/// at least 15 employers in several counties, all marked as demo.
async fn demo_board_seeds_on_both_databases(app: &TestApp) {
    let seeded = platsen_jobs::demo::seed_if_empty(&app.store, app.clock.now()).await.unwrap();
    assert!(seeded >= 40, "{seeded}");
    assert_eq!(
        platsen_jobs::demo::seed_if_empty(&app.store, app.clock.now()).await.unwrap(),
        0,
        "seeds only an empty database"
    );
    let jobs = app.get("/api/v1/jobs?per_page=100").await;
    assert_eq!(jobs.body["total"].as_u64(), Some(seeded as u64));
    assert!(app.get("/api/v1/employers").await.body["total"].as_i64().unwrap() >= 15);
    // One demo employer reviews its ads; its seeded ads were published by the system.
    let items = jobs.body["items"].as_array().unwrap();
    assert!(items.iter().all(|j| j["status"] == "published" && j["is_demo"] == true));
    // And a demo salary survey, once.
    let answers = platsen_jobs::demo::seed_salaries_if_empty(&app.store, app.clock.now()).await.unwrap();
    assert!(answers > 4_000, "{answers}");
    assert_eq!(platsen_jobs::demo::seed_salaries_if_empty(&app.store, app.clock.now()).await.unwrap(), 0);
    let by_role = app.get("/api/v1/salaries/stats?group_by=role").await;
    let upph =
        by_role.body["rows"].as_array().unwrap().iter().find(|r| r["group"]["role"] == "upphandlare").unwrap().clone();
    let median = upph["median"].as_i64().unwrap();
    assert!((38_000..55_000).contains(&median), "{upph}");
    assert!(upph["p10"].as_i64().is_some() && upph["n"].as_i64().is_some(), "{upph}");
}

async fn salary_import_command_reports_and_refuses_bad_files(app: &TestApp) {
    let dir = std::env::temp_dir().join(format!("platsen-salary-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let header = "year,role,sector,county_code,gender,age,experience_years,monthly_salary_sek,extent_percent,specialisation,is_manager";
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, format!("{header}\n2025,upphandlare,kommun,01,kvinna,40,5,45000,100,,false\n2025,upphandlare,kommun,01,kvinna,forty,5,45000,100,,false\n")).unwrap();
    let cmd = |file: &std::path::Path| platsen::SalaryCommand::Import { file: file.to_owned() };
    let err = platsen::salary_command(&app.store, cmd(&bad), app.clock.now()).await.unwrap_err().to_string();
    assert!(err.contains("rad 3, age"), "{err}");
    assert!(app.store.salary_responses().await.unwrap().is_empty());
    let good = dir.join("enkat.csv");
    let rows: String =
        (0..7).map(|i| format!("2025,inkopare,region,03,man,35,4,{},100,it,nej\n", 40_000 + i * 1_000)).collect();
    std::fs::write(&good, format!("{header}\n{rows}")).unwrap();
    let out = platsen::salary_command(&app.store, cmd(&good), app.clock.now()).await.unwrap();
    assert!(out.contains("7 svar för 2025 från enkat.csv"), "{out}");
    let again = platsen::salary_command(&app.store, cmd(&good), app.clock.now()).await.unwrap_err().to_string();
    assert!(again.contains("redan importerats"), "{again}");
    let missing = platsen::salary_command(&app.store, cmd(&dir.join("nope.csv")), app.clock.now()).await;
    assert!(missing.is_err());
    assert_eq!(app.store.salary_responses().await.unwrap().len(), 7);
    let stats = app.get("/api/v1/salaries/stats?role=inkopare").await;
    assert_eq!(stats.body["total"]["median"], 43_000, "{}", stats.text);
    let _ = std::fs::remove_dir_all(dir);
}

async fn migrations_are_idempotent(app: &TestApp) {
    app.store.migrate().await.unwrap();
    app.store.migrate().await.unwrap();
    app.store.ping().await.unwrap();
}

/// `cargo run` on an empty database shows a realistic demo board; a second
/// start does not seed again.
#[tokio::test]
async fn demo_board_is_seeded_once_on_an_empty_database() {
    let dir = std::env::temp_dir().join(format!("platsen-demo-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite:{}", dir.join("demo.db").display());
    let config = platsen::ServerConfig { demo: true, ..Default::default() };
    for round in 0..2 {
        let store = platsen::open_store(&url).await.unwrap();
        let running = platsen::start(store, config.clone(), platsen_app::Clock::default()).await.unwrap();
        let base = format!("http://{}", running.addr);
        let jobs: serde_json::Value =
            reqwest::get(format!("{base}/api/v1/jobs?per_page=100")).await.unwrap().json().await.unwrap();
        let employers: serde_json::Value =
            reqwest::get(format!("{base}/api/v1/employers?per_page=100")).await.unwrap().json().await.unwrap();
        let items = jobs["items"].as_array().unwrap();
        assert!(items.len() >= 40, "round {round}: {} ads", items.len());
        assert_eq!(jobs["total"].as_i64().unwrap() as usize, items.len(), "round {round}: seeded once");
        assert!(employers["total"].as_i64().unwrap() >= 15);
        assert!(
            items.iter().all(|j| j["is_demo"] == true && j["employer"]["name"].as_str().unwrap().contains("(demo)"))
        );
        let counties: std::collections::HashSet<&str> =
            items.iter().map(|j| j["location"]["county_code"].as_str().unwrap()).collect();
        assert!(counties.len() >= 5, "{counties:?}");
        running.shutdown().await.unwrap();
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// `platsen backup FILE` while ads are being written: the copy holds every
/// ad acknowledged before the backup began, and a fresh server started on
/// it serves them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_writing_holds_every_acknowledged_ad() {
    let app = TestApp::sqlite().await;
    let (_, key) = app.employer_with_key("Säkerhetskopians kommun").await;
    let mut before = Vec::new();
    for i in 0..20 {
        before.push(app.publish_job(&key, app.job(&format!("Upphandlare {i}"))).await);
    }
    // A writer that goes on publishing while the backup runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(std::time::Instant, i64)>::new()));
    let writer = {
        let (base, key, stop, acked) = (app.base.clone(), key.clone(), stop.clone(), acked.clone());
        let body = app.job("Inköpare under säkerhetskopieringen");
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = client.post(format!("{base}/api/v1/jobs")).bearer_auth(&key).json(&body).send().await.unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
                let id = r.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap();
                acked.lock().unwrap().push((std::time::Instant::now(), id));
            }
        })
    };
    while acked.lock().unwrap().len() < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let dir = app.dir().unwrap().join("kopior");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("platsen-backup.db");
    let url = app.sqlite_url().unwrap();
    let cli = |file: &std::path::Path| platsen::Cli {
        db: platsen::DbArgs { database_url: url.clone() },
        command: Some(platsen::Command::Backup { file: file.to_owned() }),
    };
    let began = std::time::Instant::now();
    platsen::run(cli(&file)).await.expect("the backup");
    let ended = std::time::Instant::now();
    while acked.lock().unwrap().last().is_none_or(|(at, _)| *at <= ended) {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.await.unwrap();
    let acked = acked.lock().unwrap().clone();
    before.extend(acked.iter().filter(|(at, _)| *at < began).map(|(_, id)| *id));
    assert!(acked.iter().any(|(at, _)| *at > ended), "writes went on after the backup");

    // Garbage: the file exists; a folder that does not.
    let again = platsen::run(cli(&file)).await.unwrap_err().to_string();
    assert!(again.contains("finns redan"), "{again}");
    let nowhere = platsen::run(cli(&dir.join("saknas").join("x.db"))).await.unwrap_err().to_string();
    assert!(!nowhere.is_empty());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no partial file is left behind");

    // Restore: a fresh server on the copy.
    let store = platsen::open_store(&format!("sqlite:{}", file.display())).await.unwrap();
    let running = platsen::start(store, platsen::ServerConfig::default(), app.clock.clone()).await.unwrap();
    let client = reqwest::Client::new();
    for id in &before {
        // The employer's own view: the writer's ads are drafts.
        let r = client
            .get(format!("http://{}/api/v1/account/jobs/{id}", running.addr))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "ad {id}, acknowledged before the backup, is in the copy");
    }
    running.shutdown().await.unwrap();
    app.stop().await;
}

/// PostgreSQL is backed up with pg_dump; the command says so.
#[tokio::test]
async fn a_backup_of_postgres_points_to_pg_dump() {
    let Some(app) = TestApp::postgres().await else { return };
    let target = std::env::temp_dir().join(format!("platsen-pg-{:x}.db", rand::random::<u64>()));
    let err = app.store.backup_into(&target).await.unwrap_err().to_string();
    assert!(err.contains("pg_dump"), "{err}");
    assert!(!target.exists());
    app.stop().await;
}

/// Views counted in memory are written when the server stops, so a restart
/// (a deploy) loses none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_counted_just_before_a_shutdown_are_kept() {
    let mut app = TestApp::sqlite().await;
    let (employer, key) = app.employer_with_key("Räknekommunen").await;
    let id = app.publish_job(&key, app.job("Upphandlare som räknas")).await;
    let slug = app.get(&format!("/api/v1/jobs/{id}")).await.body["slug"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        assert_eq!(app.get(&format!("/jobb/{slug}")).await.status, StatusCode::OK);
    }
    app.stop_server().await;
    let store = platsen::open_store(&app.sqlite_url().unwrap()).await.unwrap();
    let counts = store.job_counts(employer).await.unwrap();
    assert_eq!(counts.get(&id).map(|c| c.0), Some(3), "{counts:?}");
    store.close().await;
}
