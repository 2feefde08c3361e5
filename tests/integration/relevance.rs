//! The built-in search against Meilisearch on the same 10,000 ads, on both
//! databases: every query Meilisearch answers with hits gets hits from the
//! built-in engine, and each engine's top five are, on average, at least
//! 80 % among the other's hits (many ads tie for a query, so sets are
//! compared, not orders). The figure is printed per query class.

use std::collections::HashSet;

use platsen_app::search::SearchForm;
use platsen_tests::{TestApp, corpus, eventually};
use serde_json::{Value, json};

platsen_tests::contract_meili!(the_built_in_engine_finds_what_meilisearch_finds);

const ADS: usize = 10_000;

/// (class, query, filters as a query string).
const CASES: &[(&str, &str, &str)] = &[
    ("typo", "upphandlre", ""),
    ("typo", "uphandlare", ""),
    ("typo", "inköpchef", ""),
    ("typo", "ramavtl", ""),
    ("typo", "avtalscontroler", ""),
    ("typo", "kategoriledre", ""),
    ("typo", "upphandlingsjurst", ""),
    ("typo", "strategsik", ""),
    ("typo", "leverantröer", ""),
    ("typo", "direktupphandlnig", ""),
    ("folding", "inkopschef", ""),
    ("folding", "inköpschef", ""),
    ("folding", "avtalsforvaltare", ""),
    ("folding", "avtalsförvaltare", ""),
    ("folding", "inkopare", ""),
    ("folding", "malmo", ""),
    ("folding", "lulea", ""),
    ("folding", "goteborg", ""),
    ("folding", "orebro", ""),
    ("folding", "vasteras", ""),
    ("folding", "jonkoping", ""),
    ("folding", "forsakringskassan", ""),
    ("synonym", "inköpare", ""),
    ("synonym", "upphandlingsspecialist", ""),
    ("synonym", "kategoriledare", ""),
    ("synonym", "purchaser", ""),
    ("synonym", "upphandlingsjurist", ""),
    ("synonym", "inköpsassistent", ""),
    ("synonym", "upphandlingschef", ""),
    ("english", "procurement", ""),
    ("english", "purchasing manager", ""),
    ("english", "category manager", ""),
    ("english", "buyer", ""),
    ("english", "contract manager", ""),
    ("english", "procurement officer", ""),
    ("english", "head of procurement", ""),
    ("english", "purchasing", ""),
    ("english", "procurement manager", ""),
    ("english", "contract controller", ""),
    ("prefix", "upphandl", ""),
    ("prefix", "inköps", ""),
    ("prefix", "avtalsc", ""),
    ("prefix", "kategori", ""),
    ("prefix", "strateg", ""),
    ("prefix", "direktupp", ""),
    ("prefix", "hållbar", ""),
    ("words", "upphandlare stockholm", ""),
    ("words", "strategisk inköpare", ""),
    ("words", "inköpare it", ""),
    ("words", "avtal lou", ""),
    ("words", "upphandlare bygg anläggning", ""),
    ("words", "senior upphandlare", ""),
    ("words", "kategoriledare fastighet", ""),
    ("words", "offentlig upphandling", ""),
    ("words", "upphandlingschef region", ""),
    ("words", "chef för upphandlingsenheten", ""),
    ("place", "nacka", ""),
    ("place", "stockholm", ""),
    ("place", "uppsala", ""),
    ("place", "kiruna", ""),
    ("place", "örebro", ""),
    ("place", "skellefteå", ""),
    ("employer", "trafikverket", ""),
    ("employer", "nacka kommun", ""),
    ("employer", "region skåne", ""),
    ("employer", "kammarkollegiet", ""),
    ("employer", "västra götalandsregionen", ""),
    ("employer", "malmö stad", ""),
    ("filtered", "upphandlare", "county=01"),
    ("filtered", "avtal", "role=avtalscontroller"),
    ("filtered", "inköp", "municipality=1280"),
    ("filtered", "upphandlare", "employment_type=visstid"),
    ("filtered", "lou", "remote=remote"),
    ("filtered", "kategoriledare", "county=14"),
    ("filtered", "upphandlre", "role=upphandlare"),
    ("filtered", "procurement", "county=25"),
];

/// Every id Meilisearch matches for the query (straight to Meilisearch,
/// only ids), with the same filters the API would send.
async fn meili_matches(app: &TestApp, q: &str, filters: &str) -> HashSet<i64> {
    let m = app.meili.as_ref().unwrap();
    let mut filter = vec![format!("expires_at > {}", chrono::Utc::now().timestamp())];
    for (name, value) in url::form_urlencoded::parse(filters.as_bytes()) {
        let attribute = match &*name {
            "county" => "county_code",
            "municipality" => "municipality_code",
            other => other,
        };
        filter.push(format!("{attribute} = \"{value}\""));
    }
    let body = json!({ "q": q, "filter": filter.join(" AND "), "hitsPerPage": ADS, "page": 1,
                       "attributesToRetrieve": ["id"] });
    let r: Value = app
        .client
        .post(format!("{}/indexes/jobs/search", m.url))
        .bearer_auth(&m.master_key)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["hits"].as_array().unwrap_or_else(|| panic!("{r}")).iter().map(|h| h["id"].as_i64().unwrap()).collect()
}

async fn the_built_in_engine_finds_what_meilisearch_finds(app: &mut TestApp) {
    let now = chrono::Utc::now();
    let employers = corpus::employers(&app.store, now).await;
    let tasks = if app.store.backend() == "postgres" { 4 } else { 1 };
    corpus::publish(&app.store, &employers, 0, ADS, tasks).await;
    eventually(600, "Meilisearch holds every ad", || async {
        let r = app.get("/api/v1/jobs/search?per_page=1").await;
        r.body["engine"] == "meilisearch" && r.body["total"] == ADS
    })
    .await;
    let builtin = platsen_app::App::new(app.store.clone(), platsen_app::Clock::default(), "http://127.0.0.1");

    let mut by_class: Vec<(&str, Vec<f64>)> = Vec::new();
    let mut missing = Vec::new();
    for (class, q, filters) in CASES {
        let pairs = format!("q={}&{filters}", url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>());
        let form: SearchForm = serde_urlencoded::from_str(&pairs).unwrap();
        let mut query = form.parse().unwrap();

        let api = app.get(&format!("/api/v1/jobs/search?{pairs}&per_page=5")).await;
        assert_eq!(api.body["engine"], "meilisearch", "{}", api.text);
        let meili_top: Vec<i64> =
            api.body["hits"].as_array().unwrap().iter().map(|h| h["id"].as_i64().unwrap()).collect();
        let meili_all = meili_matches(app, q, filters).await;

        query.per_page = ADS as u32;
        let all = builtin.search(&query, chrono::Utc::now()).await.unwrap();
        assert_eq!(all.engine, "database");
        let builtin_all: HashSet<i64> = all.hits.iter().map(|h| h.id).collect();
        let builtin_top: Vec<i64> = all.hits.iter().take(5).map(|h| h.id).collect();
        assert_eq!(all.total as usize, builtin_all.len(), "{q}: the total counts the hits");

        if !meili_all.is_empty() && builtin_all.is_empty() {
            missing.push(*q);
        }
        let shown = meili_top.len() + builtin_top.len();
        if shown == 0 {
            continue;
        }
        let agree = meili_top.iter().filter(|id| builtin_all.contains(id)).count()
            + builtin_top.iter().filter(|id| meili_all.contains(id)).count();
        let share = agree as f64 / shown as f64;
        println!(
            "{class:<9} {q:<32} {filters:<24} meilisearch {:>5}  built-in {:>5}  top five shared {:>4.0} %",
            meili_all.len(),
            builtin_all.len(),
            share * 100.0
        );
        match by_class.iter_mut().find(|(c, _)| c == class) {
            Some((_, v)) => v.push(share),
            None => by_class.push((class, vec![share])),
        }
    }
    let mut all = Vec::new();
    for (class, shares) in &by_class {
        println!("{class:<9} {:>3} queries, top five shared {:>4.0} %", shares.len(), mean(shares) * 100.0);
        all.extend(shares);
    }
    let overall = mean(&all);
    println!("all       {:>3} queries, top five shared {:>4.0} %", all.len(), overall * 100.0);
    assert!(CASES.len() >= 60);
    assert!(missing.is_empty(), "Meilisearch finds ads for these, the built-in engine none: {missing:?}");
    assert!(overall >= 0.8, "the engines' top fives agree {:.0} % of the time", overall * 100.0);
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}
