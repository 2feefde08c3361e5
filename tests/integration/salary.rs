//! Lönestatistik through the API: importing a survey (validated whole,
//! once), the statistics table with its privacy rules, charts, the salary
//! calculator and the market salary on a job ad.

use platsen_tests::{ADMIN_TOKEN, HEADER, TestApp, survey};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

platsen_tests::contract!(
    a_survey_is_imported_whole_and_once_and_feeds_the_statistics,
    bad_files_and_bad_parameters_get_problems_and_store_nothing,
    charts_and_the_salary_calculator,
    a_job_ad_shows_the_market_salary_for_its_role,
    a_filter_that_matches_one_respondent_answers_as_one_that_matches_none,
    the_downloads_publish_what_the_api_publishes_with_source_licence_and_method,
);

/// The open data (`/lonestatistik/data.csv` and `.json`) are the statistics
/// API's tables for the same query, so they hide what it hides (and its
/// privacy tests hold for them); on top: no count under five is shown, and
/// a table's shown counts never leave one hidden group of 1–4 to subtract.
async fn the_downloads_publish_what_the_api_publishes_with_source_licence_and_method(app: &TestApp) {
    let (csv, _) = survey();
    assert_eq!(app.upload_survey(&csv, Some(ADMIN_TOKEN), "text/csv").await.status, StatusCode::CREATED);
    // A few small groups, so that figures are hidden.
    let small = format!(
        "{HEADER}\n2025,avtalscontroller,region,03,man,44,7,52000,100,,false\n\
         2025,inkopare,kommun,03,kvinna,35,4,41000,100,,false\n2025,inkopare,kommun,03,man,36,5,42000,100,,false\n\
         2025,inkopare,region,03,kvinna,37,6,43000,100,,false\n"
    );
    assert_eq!(app.upload_survey(&small, Some(ADMIN_TOKEN), "text/csv").await.status, StatusCode::CREATED);
    let mut hidden_seen = 0;
    for (filters, by) in [
        ("", "role"),
        ("", "sector"),
        ("", "county"),
        ("", "year"),
        ("role=upphandlare", "experience"),
        ("role=upphandlare", "age"),
        ("role=upphandlare", "gender"),
        ("sector=kommun", "county"),
        ("county=03", "role"),
        ("year=2025", "gender"),
    ] {
        let query = format!("{filters}&group_by={by}");
        let api = app.get(&format!("/api/v1/salaries/stats?{query}")).await;
        assert_eq!(api.status, StatusCode::OK, "{query}: {}", api.text);
        let json = app.get(&format!("/lonestatistik/data.json?{query}")).await;
        assert_eq!(json.status, StatusCode::OK, "{query}: {}", json.text);
        assert_eq!(json.body["total"], api.body["total"], "{query}");
        assert_eq!(json.body["rows"], api.body["rows"], "{query}");
        assert!(json.body["licence"].as_str().unwrap().starts_with("CC BY 4.0"), "{}", json.text);
        assert!(
            json.body["about"].as_array().unwrap().iter().any(|l| l.as_str().unwrap().starts_with("Skydd av enskilda"))
        );

        let r = app.client.get(app.url(&format!("/lonestatistik/data.csv?{query}"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{query}");
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8; header=present");
        let disposition = r.headers()["content-disposition"].to_str().unwrap().to_owned();
        assert!(
            disposition.starts_with("attachment; filename=\"lonestatistik-")
                && disposition.ends_with(&format!("per-{by}.csv\"")),
            "{disposition}"
        );
        let text = r.text().await.unwrap();
        let (about, data): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| l.starts_with("# "));
        assert!(about[0].starts_with("# Platsen lönestatistik"), "{text}");
        assert!(about.iter().any(|l| l.starts_with("# Källa: Platsen lönestatistik. Licens: CC BY 4.0")), "{text}");
        assert!(about.iter().any(|l| l.starts_with("# Percentiler: linjärt")), "{text}");
        assert!(
            about.iter().any(|l| l.starts_with("# Skydd av enskilda: median och medelvärde visas från 5")),
            "{text}"
        );
        assert_eq!(data[0], format!("grupp,{by},antal,medel,p10,p25,median,p75,p90,median_ki_lag,median_ki_hog"));
        assert!(!text.contains('"'), "no quoting needed in these labels: {text}");
        let api_rows: Vec<&Value> =
            std::iter::once(&api.body["total"]).chain(api.body["rows"].as_array().unwrap().iter()).collect();
        assert_eq!(data.len() - 1, api_rows.len(), "{query}: {text}");
        for (line, api_row) in data[1..].iter().zip(&api_rows) {
            let cells: Vec<&str> = line.split(',').collect();
            for (i, key) in ["n", "mean", "p10", "p25", "median", "p75", "p90"].into_iter().enumerate() {
                let expected = api_row[key].as_i64().map(|v| v.to_string()).unwrap_or_default();
                assert_eq!(cells[2 + i], expected, "{query} {key}: {line}");
                hidden_seen += usize::from(expected.is_empty());
            }
        }
        // No count under five; no single hidden group left to subtract.
        let counts: Vec<Option<i64>> = api_rows[1..].iter().map(|r| r["n"].as_i64()).collect();
        for n in counts.iter().flatten() {
            assert!(*n >= 5, "{query}: a count of {n}");
        }
        if let Some(total) = api_rows[0]["n"].as_i64()
            && counts.iter().filter(|n| n.is_none()).count() == 1
        {
            let rest = total - counts.iter().flatten().sum::<i64>();
            assert!(rest == 0 || rest >= 5, "{query}: the one hidden group has {rest}");
        }
    }
    assert!(hidden_seen > 0, "some figures were hidden, so the comparison tested hiding");

    // Garbage in the query, named.
    for (query, field) in [
        ("group_by=lon", "group_by"),
        ("role=upphandlare&group_by=role", "group_by"),
        ("role=%3Cscript%3E", "role"),
        ("year=abc", "year"),
        ("county=99", "county"),
    ] {
        for file in ["data.csv", "data.json"] {
            let r = app.get(&format!("/lonestatistik/{file}?{query}")).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{file}?{query}");
            assert!(r.text.contains(&format!("Fältet {field}")), "{file}?{query}: {}", r.text);
            assert!(!r.text.contains("<script>"));
        }
    }
    // The page links to both, with its filters.
    let page = app.get("/lonestatistik?role=upphandlare&year=2025").await.text;
    assert!(page.contains("/lonestatistik/data.csv?role=upphandlare&#38;year=2025&amp;group_by=sector"), "{page}");
}

/// Whether a filter matched anybody must not show: one avtalscontroller
/// answers exactly as no inköpsassistent does, grouped or not, and every
/// hidden figure has the same code whatever hid it.
async fn a_filter_that_matches_one_respondent_answers_as_one_that_matches_none(app: &TestApp) {
    let (csv, _) = survey();
    assert_eq!(app.upload_survey(&csv, Some(ADMIN_TOKEN), "text/csv").await.status, StatusCode::CREATED);
    let one = format!("{HEADER}\n2025,avtalscontroller,region,03,man,44,7,52000,100,,false\n");
    assert_eq!(app.upload_survey(&one, Some(ADMIN_TOKEN), "text/csv").await.status, StatusCode::CREATED);
    for extra in ["", "&group_by=sector", "&group_by=gender,county", "&group_by=year", "&sector=region"] {
        let a = app.get(&format!("/api/v1/salaries/stats?role=avtalscontroller{extra}")).await;
        let b = app.get(&format!("/api/v1/salaries/stats?role=inkopsassistent{extra}")).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.body, b.body, "one respondent and none answer alike ({extra})");
    }
    // The codes: the 12 inköpschefer's hidden P10 (too few), the 26 women's
    // hidden count among 40 upphandlare (derivable), the missing change:
    // one code for all.
    let t = app.get("/api/v1/salaries/stats?role=upphandlare&group_by=gender").await;
    let mut codes: Vec<String> = Vec::new();
    for row in t.body["rows"].as_array().unwrap().iter().chain([&t.body["total"]]) {
        for (_, v) in row["suppressed"].as_object().unwrap() {
            codes.push(v["code"].as_str().unwrap().to_owned());
        }
    }
    let chef = app.get("/api/v1/salaries/stats?role=inkopschef").await;
    for (_, v) in chef.body["total"]["suppressed"].as_object().unwrap() {
        codes.push(v["code"].as_str().unwrap().to_owned());
    }
    assert!(codes.len() >= 3, "{codes:?}");
    codes.dedup();
    assert_eq!(codes, ["suppressed"]);
}

/// Hyndman–Fan type 7, computed here independently of Polars.
fn type7(sorted: &[f64], p: f64) -> i64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let v = sorted[lo] + (h - lo as f64) * (sorted[(lo + 1).min(sorted.len() - 1)] - sorted[lo]);
    ((v / 100.0).round() * 100.0) as i64
}

async fn a_survey_is_imported_whole_and_once_and_feeds_the_statistics(app: &TestApp) {
    app.get("/api/v1/salaries/stats").await.assert_problem_kind(404, "no-salary-data");
    let (csv, upph) = survey();
    let r = app.upload_survey(&csv, Some(ADMIN_TOKEN), "text/csv").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["responses"], 82);
    assert_eq!(r.body["years"], serde_json::json!([2024, 2025]));
    assert_eq!(r.body["filename"], "enkat-2025.csv");

    // The same file again is refused, and nothing is added.
    app.upload_survey(&csv, Some(ADMIN_TOKEN), "text/csv; charset=utf-8").await.assert_problem(409, "file");
    assert_eq!(app.store.salary_responses().await.unwrap().len(), 82);
    let imports = app.admin(Method::GET, "/api/v1/salaries/imports", None).await;
    assert_eq!(imports.body.as_array().unwrap().len(), 1);

    let t = app.get("/api/v1/salaries/stats?role=upphandlare").await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text);
    assert_eq!(t.body["year"], 2025, "the latest year by default");
    assert!(t.body["quantile_method"].as_str().unwrap().contains("typ 7"));
    let total = &t.body["total"];
    assert_eq!(total["n"], 40);
    for (name, p) in [("p10", 0.10), ("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("p90", 0.90)] {
        assert_eq!(total[name].as_i64(), Some(type7(&upph, p)), "{name}");
    }
    let mean = upph.iter().sum::<f64>() / upph.len() as f64;
    assert_eq!(total["mean"].as_i64(), Some(((mean / 100.0).round() * 100.0) as i64));
    let ci = &total["median_ci"];
    assert!(ci["low"].as_i64().unwrap() <= total["median"].as_i64().unwrap());
    assert!(ci["high"].as_i64().unwrap() >= total["median"].as_i64().unwrap());
    assert!(total["median_change_percent"].as_f64().is_some(), "2024 has 30 upphandlare: {total}");
    assert!(total["women_median_percent_of_men"].as_f64().is_some());

    // By role: inköpschefer are 12: quartiles yes, P10/P90 no, with the reason.
    let t = app.get("/api/v1/salaries/stats?group_by=role").await;
    let rows = t.body["rows"].as_array().unwrap();
    let chef = rows.iter().find(|r| r["group"]["role"] == "inkopschef").unwrap();
    assert!(chef["p25"].as_i64().is_some() && chef["median"].as_i64().is_some());
    assert_eq!(chef["p10"], Value::Null);
    assert_eq!(chef["suppressed"]["p10"]["code"], "suppressed");
    assert!(chef["suppressed"]["p10"]["reason"].as_str().unwrap().starts_with("Döljs"));
    assert_eq!(chef["label"], "Inköpschef");
    // Never a minimum or a maximum.
    assert!(!t.text.contains("\"min\"") && !t.text.contains("\"max\""));

    // By gender within upphandlare in 2024: all 30 are women. By year: both.
    let y = app.get("/api/v1/salaries/stats?group_by=year&role=upphandlare").await;
    let years: Vec<i64> = y.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["group"]["year"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(years, [2024, 2025]);
    let old = app.get("/api/v1/salaries/stats?year=2024&role=upphandlare").await;
    assert_eq!(old.body["total"]["n"], 30);
    app.get("/api/v1/salaries/stats?year=2019").await.assert_problem(404, "year");
}

async fn bad_files_and_bad_parameters_get_problems_and_store_nothing(app: &TestApp) {
    let (csv, _) = survey();
    let (_, key) = app.employer_with_key("Nacka kommun").await;
    assert_eq!(app.upload_survey(&csv, None, "text/csv").await.status, StatusCode::UNAUTHORIZED);
    app.upload_survey(&csv, Some(&key), "text/csv").await.assert_problem_kind(403, "forbidden");
    assert_eq!(app.upload_survey(&csv, Some(ADMIN_TOKEN), "application/json").await.status.as_u16(), 415);

    // One bad row among good ones: refused whole, every problem listed.
    let bad = format!(
        "{csv}2025,upphandlare,kommun,01,kvinna,17,9,45000,100,,false,\n2025,boss,kommun,99,kvinna,40,5,4500000,0,,maybe,\n"
    );
    let r = app.upload_survey(&bad, Some(ADMIN_TOKEN), "text/csv").await;
    r.assert_problem(422, "experience_years");
    let errors = r.body["errors"].as_array().unwrap();
    let line = |field: &str| {
        errors.iter().filter(|e| e["field"] == field).map(|e| e["line"].as_u64().unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(line("experience_years"), [84]);
    assert_eq!(line("role"), [85]);
    assert_eq!(line("county_code"), [85]);
    assert_eq!(line("extent_percent"), [85]);
    assert_eq!(line("is_manager"), [85]);
    assert!(errors.iter().all(|e| !e["message"].as_str().unwrap().is_empty()));
    for garbage in ["", "\u{0}\u{1}\u{2}", "year;role\n2025;x\n", "not,a,survey\n1,2,3\n"] {
        let r = app.upload_survey(garbage, Some(ADMIN_TOKEN), "text/csv").await;
        assert_eq!(r.status.as_u16(), 422, "{garbage:?}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
    let huge = format!("{HEADER}\n{}", "2025,upphandlare,kommun,01,kvinna,40,5,45000,100,,false\n".repeat(900_000));
    assert!(huge.len() > 50_000_000);
    app.upload_survey(&huge, Some(ADMIN_TOKEN), "text/csv").await.assert_problem(413, "file");
    assert!(app.store.salary_responses().await.unwrap().is_empty(), "nothing of a refused file is stored");
    assert_eq!(app.store.salary_generation().await.unwrap(), 0);

    assert_eq!(app.upload_survey(&csv, Some(ADMIN_TOKEN), "text/csv").await.status, StatusCode::CREATED);
    for (query, field) in [
        ("group_by=role,shoe", "group_by"),
        ("group_by=role,role", "group_by"),
        ("group_by=role,sector,gender,age", "group_by"),
        ("role=boss", "role"),
        ("sector=moon", "sector"),
        ("county=99", "county"),
        ("county=01%22%20OR%201%3D1", "county"),
        ("gender=x", "gender"),
        ("experience=many", "experience"),
        ("age=old", "age"),
        ("year=1999", "year"),
        ("year=abc", "year"),
    ] {
        app.get(&format!("/api/v1/salaries/stats?{query}")).await.assert_problem(400, field);
    }
    app.get("/api/v1/salaries/compare?salary=lots").await.assert_problem(400, "salary");
    app.get("/api/v1/salaries/compare?salary=-5").await.assert_problem(400, "salary");
    app.get("/api/v1/salaries/compare").await.assert_problem(400, "salary");
    app.get("/api/v1/salaries/charts/nope.svg").await.assert_problem(400, "file");
    app.get("/api/v1/salaries/charts/gender.gif").await.assert_problem(400, "file");
    app.get("/api/v1/salaries/charts/gender.svg?role=x").await.assert_problem(400, "role");
}

async fn charts_and_the_salary_calculator(app: &TestApp) {
    app.get("/api/v1/salaries/charts/gender.svg").await.assert_problem_kind(404, "no-salary-data");
    let (csv, upph) = survey();
    assert_eq!(app.upload_survey(&csv, Some(ADMIN_TOKEN), "text/csv").await.status, StatusCode::CREATED);
    for chart in [
        "percentiles-by-role",
        "percentiles-by-sector",
        "percentiles-by-county",
        "percentiles-by-experience",
        "median-trend",
        "distribution",
        "gender",
    ] {
        let r = app.client.get(app.url(&format!("/api/v1/salaries/charts/{chart}.svg"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{chart}");
        assert_eq!(r.headers()["content-type"], "image/svg+xml", "{chart}");
        let etag = r.headers()["etag"].to_str().unwrap().to_owned();
        let svg = r.text().await.unwrap();
        assert!(svg.contains("Källa: Platsen lönestatistik 2025, n\u{a0}=\u{a0}52"), "{chart}");
        let again = app
            .client
            .get(app.url(&format!("/api/v1/salaries/charts/{chart}.svg")))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{chart}");
        let png =
            app.client.get(app.url(&format!("/api/v1/salaries/charts/{chart}.png?year=2025"))).send().await.unwrap();
        assert_eq!(png.headers()["content-type"], "image/png");
        assert_eq!(&png.bytes().await.unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    }
    let by_role = app.get("/api/v1/salaries/charts/percentiles-by-role.svg").await.text;
    assert!(by_role.contains("Upphandlare") && by_role.contains("Inköpschef"));
    // Drawn for the width asked for (a phone's), no text below 15 px.
    let narrow = app.get("/api/v1/salaries/charts/gender.svg?width=360&group_by=sector").await.text;
    assert!(narrow.contains("<svg width=\"360\""), "{narrow}");
    for size in narrow.split("font-size=\"").skip(1).map(|s| s[..s.find('"').unwrap()].parse::<f64>().unwrap()) {
        assert!(size >= 15.0, "a text of {size} px");
    }
    for bad in ["100", "5000", "bred"] {
        app.get(&format!("/api/v1/salaries/charts/gender.svg?width={bad}")).await.assert_problem(400, "width");
    }

    let median = type7(&upph, 0.5);
    let c = app.get(&format!("/api/v1/salaries/compare?role=upphandlare&sector=kommun&salary={median}")).await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text);
    assert_eq!(c.body["percentile"], 50);
    assert_eq!(c.body["position"], "between");
    assert_eq!(c.body["band"]["median"].as_i64(), Some(median));
    let low = app.get("/api/v1/salaries/compare?role=upphandlare&salary=20000").await;
    assert_eq!(low.body["position"], "below");
    assert_eq!(low.body["percentile"], Value::Null);
    assert!(low.body["text"].as_str().unwrap().contains("P10"));
    let few = app.get("/api/v1/salaries/compare?role=inkopsassistent&salary=40000").await;
    assert_eq!(few.body["position"], "unknown");

    // POST: the salary in the body, the group that fits (experience and age
    // too), widened step by step while it is too small, and said so.
    let post = |body: Value| app.call(Method::POST, "/api/v1/salaries/compare", None, Some(body));
    let fits = post(json!({ "salary": median, "role": "upphandlare", "age": "30-39" })).await;
    assert_eq!(fits.status, StatusCode::OK, "{}", fits.text);
    assert_eq!(fits.body["group"], json!({ "role": "upphandlare", "age": "30-39" }));
    assert_eq!(fits.body["label"], "Upphandlare · 30–39 år");
    assert!(fits.body.get("asked_group").is_none(), "{}", fits.text);
    let wide = post(json!({ "salary": 45000, "role": "upphandlare", "experience": "10-15", "age": "60-" })).await;
    assert_eq!(wide.status, StatusCode::OK, "{}", wide.text);
    assert_eq!(wide.body["asked_group"], json!({ "role": "upphandlare", "experience": "10-15", "age": "60-" }));
    assert_eq!(wide.body["asked_label"], "Upphandlare · 10–15 år · 60 år eller äldre");
    assert_eq!(wide.body["group"], json!({ "role": "upphandlare", "experience": "10-15" }));
    assert_ne!(wide.body["position"], "unknown", "{}", wide.text);
    // Nobody at all fits a role without answers: everyone, then.
    let all = post(json!({ "salary": 45000, "role": "inkopsassistent", "county": "25" })).await;
    assert_eq!(all.body["group"], json!({}), "{}", all.text);
    assert_eq!(all.body["label"], "Alla svarande");
    // Garbage, each named.
    for (body, status, field) in [
        (json!({ "salary": 0 }), 422, "salary"),
        (json!({ "salary": 1_000_001 }), 422, "salary"),
        (json!({ "salary": "45000" }), 400, "salary"),
        (json!({ "role": "upphandlare" }), 422, "salary"),
        (json!({ "salary": 45000, "age": "100-" }), 422, "age"),
        (json!({ "salary": 45000, "experience": "<script>" }), 422, "experience"),
        (json!({ "salary": 45000, "county": "99" }), 422, "county"),
        (json!({ "salary": 45000, "role": "chef" }), 400, "role"),
        (json!({ "salary": 45000, "year": 1800 }), 422, "year"),
        (json!({ "salary": 45000, "lon": 1 }), 400, "lon"),
    ] {
        post(body).await.assert_problem(status, field);
    }
}

async fn a_job_ad_shows_the_market_salary_for_its_role(app: &TestApp) {
    let (employer_id, key) = app.employer_with_key("Nacka kommun").await;
    let id = app.publish_job(&key, app.job("Upphandlare till Nacka")).await;
    let before = app.get(&format!("/api/v1/jobs/{id}")).await;
    assert!(before.body.get("market_salary").is_none(), "no survey yet: {}", before.text);
    let (csv, upph) = survey();
    assert_eq!(app.upload_survey(&csv, Some(ADMIN_TOKEN), "text/csv").await.status, StatusCode::CREATED);
    let after = app.get(&format!("/api/v1/jobs/{id}")).await;
    let market = &after.body["market_salary"];
    assert_eq!(market["role"], "upphandlare", "{}", after.text);
    assert_eq!(market["year"], 2025);
    assert_eq!(market["median"].as_i64(), Some(type7(&upph, 0.5)));
    assert_eq!(market["p25"].as_i64(), Some(type7(&upph, 0.25)));
    assert_eq!(market["source"], "Källa: Platsen lönestatistik 2025");
    // The test ad is in Nacka (Stockholms län, 01), where the survey has 40
    // upphandlare: the band is narrowed to the county.
    assert_eq!(market["county_code"], "01");
    assert_eq!(market["label"], "Upphandlare i Stockholms län");
    // Its offered range, where stated, is placed in the band.
    // 45 000–55 000 kr: the lower end inside the band, the upper above P90.
    let offered = &market["offered"];
    assert!(55_000 > type7(&upph, 0.9), "the test's range reaches past P90");
    let low = offered["min_percentile"].as_u64().expect("the lower end is placed");
    assert_eq!(offered["max_percentile"], Value::Null);
    assert_eq!(
        offered["text"],
        format!("Lönespannets nedre gräns ligger vid percentil {low} och den övre över P90 för rollen."),
        "{market}"
    );

    // An ad elsewhere (Luleå, Norrbottens län) gets the national band.
    let lulea = app
        .publish_job(
            &key,
            platsen_tests::with(
                app.job("Upphandlare i Luleå"),
                serde_json::json!({ "municipality_code": "2580", "salary_min": null, "salary_max": null }),
            ),
        )
        .await;
    let far = app.get(&format!("/api/v1/jobs/{lulea}")).await;
    assert_eq!(far.body["market_salary"]["county_code"], Value::Null, "{}", far.text);
    assert_eq!(far.body["market_salary"]["label"], "Upphandlare i hela landet");
    assert_eq!(far.body["market_salary"]["offered"], Value::Null);
    assert_eq!(far.body["market_salary"]["sector"], Value::Null);

    // An employer that states its sector gets the band of its sector where
    // that group is published: all 40 upphandlare answered for kommun in
    // Stockholms län, none in Norrbotten.
    let set = async |sector: Value| {
        let path = format!("/api/v1/employers/{employer_id}");
        app.admin(Method::PATCH, &path, Some(serde_json::json!({ "sector": sector }))).await
    };
    let r = set(Value::from("kommun")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["sector"], "kommun");
    assert_eq!(r.body["sector_name"], "Kommun");
    let local = app.get(&format!("/api/v1/jobs/{id}")).await.body["market_salary"].clone();
    assert_eq!(local["sector"], "kommun", "{local}");
    assert_eq!(local["county_code"], "01");
    assert_eq!(local["label"], "Upphandlare inom kommunal sektor i Stockholms län");
    assert_eq!(local["median"].as_i64(), Some(type7(&upph, 0.5)));
    let far = app.get(&format!("/api/v1/jobs/{lulea}")).await.body["market_salary"].clone();
    assert_eq!(far["sector"], "kommun", "{far}");
    assert_eq!(far["county_code"], Value::Null);
    assert_eq!(far["label"], "Upphandlare inom kommunal sektor i hela landet");
    // No upphandlare answered for the state: back to the county.
    assert_eq!(set(Value::from("stat")).await.status, StatusCode::OK);
    let state = app.get(&format!("/api/v1/jobs/{id}")).await.body["market_salary"].clone();
    assert_eq!(state["sector"], Value::Null, "{state}");
    assert_eq!(state["label"], "Upphandlare i Stockholms län");
    // Garbage is refused, naming the field, and changes nothing.
    set(Value::from("kommunal")).await.assert_problem(422, "sector");
    set(Value::from(7)).await.assert_problem(400, "sector");
    let r = app.get(&format!("/api/v1/employers/{employer_id}")).await;
    assert_eq!(r.body["sector"], "stat", "{}", r.text);
    assert_eq!(set(Value::Null).await.body["sector"], Value::Null);
}
