//! `just bench` (salary part): every figure next to a reference measured in
//! the same run.
//!
//! - the full statistics table (each single and each pairwise breakdown, by
//!   year, five years) on about 1,000,000 synthetic responses: Platsen's
//!   Polars aggregation, and the whole published table (privacy rules,
//!   intervals, changes), against the same aggregation in DuckDB;
//! - rendering each chart as SVG and PNG;
//! - a stats request through the API, against a bare handler serving the
//!   same bytes.
//!
//! Not a test: it asserts nothing and is never run by `cargo test`.

use std::io::Write;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use platsen_app::Clock;
use platsen_salary::{Chart, Dataset, Dimension, Format, StatsQuery};
use platsen_tests::bench::{bare, load_requests};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The synthetic survey has 8,507 responses over five years; this many copies.
const SCALE: usize = 118;
const DIMS: [Dimension; 6] = Dimension::WITHIN_YEAR;

fn groupings() -> Vec<Vec<Dimension>> {
    let mut out: Vec<Vec<Dimension>> = DIMS.iter().map(|d| vec![*d]).collect();
    for (i, a) in DIMS.iter().enumerate() {
        for b in &DIMS[i + 1..] {
            out.push(vec![*a, *b]);
        }
    }
    out
}

/// The DuckDB reference in a virtual environment of the project's (made on
/// first use, from PyPI).
fn duckdb_python() -> Option<std::path::PathBuf> {
    platsen_tests::python_tools("duckdb-venv", &["duckdb>=1.1,<2"]).map(|venv| venv.join("bin/python"))
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rows = platsen_jobs::demo::synthetic_survey(1, SCALE);
    let years = platsen_jobs::demo::SYNTHETIC_YEARS;
    eprintln!("{} synthetic responses", rows.len());
    let dir = std::env::temp_dir().join(format!("platsen-bench-salary-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();

    // The same rows, as DuckDB reads them: bands already computed, the
    // dimensions as their text codes. (Platsen's frame holds small integer
    // codes; DuckDB 1.5 was slower with integer keys here, 3.9 s against
    // 2.3 s, so it gets the text it is faster with.)
    let csv = dir.join("survey.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
        writeln!(f, "year,role,sector,county,gender,experience,age,fte").unwrap();
        for r in &rows {
            writeln!(
                f,
                "{},{},{},{},{},{},{},{}",
                r.year,
                r.role.code(),
                r.sector.code(),
                r.county_code,
                r.gender.code(),
                platsen_salary::ExperienceBand::of(r.experience_years).code(),
                platsen_salary::AgeBand::of(r.age).code(),
                r.full_time_salary()
            )
            .unwrap();
        }
    }
    let started = Instant::now();
    let data = Arc::new(Dataset::new(rows).unwrap());
    eprintln!("data set built in {:.0} ms (frame and disclosure blocks; once per import)", ms(started.elapsed()));

    // 1. The full table: Polars alone, then the published table, best of 3.
    let mut polars_best = f64::MAX;
    let mut table_best = f64::MAX;
    let mut groups = 0;
    for _ in 0..3 {
        let started = Instant::now();
        groups = 0;
        for g in groupings() {
            groups += data.aggregate(&g, &years).unwrap();
        }
        polars_best = polars_best.min(started.elapsed().as_secs_f64());
        data.clear_cache();
        let started = Instant::now();
        for g in groupings() {
            let mut group_by = g.clone();
            group_by.push(Dimension::Year);
            data.stats(&StatsQuery { year: None, group_by, ..Default::default() }).unwrap();
        }
        table_best = table_best.min(started.elapsed().as_secs_f64());
    }
    println!(
        "\nsalary statistics, {} responses, {} breakdowns by year ({groups} groups)",
        data.responses().len(),
        groupings().len()
    );
    match duckdb_python() {
        Some(python) => {
            let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/duckdb_stats.py");
            let out = Command::new(python).arg(script).arg(&csv).arg("3").output().unwrap();
            let reply: serde_json::Value = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|_| panic!("duckdb: {}", String::from_utf8_lossy(&out.stderr)));
            let duck = reply["seconds"].as_f64().unwrap();
            println!(
                "  DuckDB {} (same aggregation, {} groups)    {:>8.0} ms   1.00",
                reply["version"].as_str().unwrap_or("?"),
                reply["groups"],
                duck * 1000.0
            );
            println!(
                "  Platsen, Polars aggregation                {:>8.0} ms   {:.2} (DuckDB time ÷ Platsen time; ≥ 1 is at least as fast)",
                polars_best * 1000.0,
                duck / polars_best
            );
            println!(
                "  Platsen, whole published table             {:>8.0} ms   {:.2} (with privacy rules, intervals, changes, gender ratios)",
                table_best * 1000.0,
                duck / table_best
            );
        }
        None => {
            println!("*** DuckDB could not be installed: the reference is missing");
            println!(
                "  Platsen, Polars aggregation {:.0} ms; whole published table {:.0} ms",
                polars_best * 1000.0,
                table_best * 1000.0
            );
        }
    }

    // 2. Charts, from cached statistics: median of 30 renders each.
    println!("\nchart rendering, all respondents of the latest year (median of 30)");
    for chart in Chart::ALL {
        let mut times = Vec::new();
        for format in [Format::Svg, Format::Png] {
            let query = StatsQuery::default();
            let _ = platsen_salary::charts::render(&data, chart, &query, format, platsen_salary::charts::DEFAULT_WIDTH)
                .unwrap();
            let mut t: Vec<f64> = (0..30)
                .map(|_| {
                    let started = Instant::now();
                    let _ = platsen_salary::charts::render(
                        &data,
                        chart,
                        &query,
                        format,
                        platsen_salary::charts::DEFAULT_WIDTH,
                    )
                    .unwrap();
                    ms(started.elapsed())
                })
                .collect();
            t.sort_by(f64::total_cmp);
            times.push(t[15]);
        }
        println!("  {:<24} SVG {:>6.2} ms   PNG {:>6.2} ms", chart.name(), times[0], times[1]);
    }
    drop(data);

    // 3. A stats request through the API (demo survey, SQLite) versus a
    //    bare handler serving the same bytes.
    let url = format!("sqlite:{}", dir.join("api.db").display());
    let store = platsen::open_store(&url).await.unwrap();
    platsen_jobs::demo::seed_salaries_if_empty(&store, chrono::Utc::now()).await.unwrap();
    let config = platsen::ServerConfig::default();
    let running = platsen::start(store, config, Clock::default()).await.unwrap();
    let queries =
        ["group_by=role", "group_by=sector,gender", "group_by=county&role=upphandlare", "group_by=year&sector=stat"];
    let urls: Arc<Vec<String>> =
        Arc::new(queries.iter().map(|q| format!("http://{}/api/v1/salaries/stats?{q}", running.addr)).collect());
    let body = reqwest::get(&urls[0]).await.unwrap().bytes().await.unwrap().to_vec();
    for u in urls.iter() {
        reqwest::get(u).await.unwrap();
    }
    let ceiling_url = bare(body, "application/json").await;
    let ceiling = load_requests(1, move |c, _| c.get(&ceiling_url)).await;
    let u = urls.clone();
    let api = load_requests(u.len(), move |c, i| c.get(&u[i % u.len()])).await;
    println!("\nstats requests (cached), 32 connections          req/s        p50        p99   ratio");
    println!(
        "  bare handler, same bytes                  {:>9.0} {:>10.2?} {:>10.2?}    1.00",
        ceiling.rps, ceiling.p50, ceiling.p99
    );
    println!(
        "  GET /api/v1/salaries/stats (4 queries)    {:>9.0} {:>10.2?} {:>10.2?}    {:.2}",
        api.rps,
        api.p50,
        api.p99,
        api.rps / ceiling.rps
    );
    running.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
