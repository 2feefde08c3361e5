//! `/lonestatistik`: the salary statistics as a page. Filters (role, sector,
//! county, year), the key figures of the selection, charts with the same
//! numbers in tables beside them, "jämför din lön" and the methodology.
//!
//! The salary a reader compares travels in the query string of a GET (so the
//! answer is a plain, bookmarkable page without JavaScript) but is never
//! stored: the access log records paths only, the page is sent `no-store`
//! and `noindex`, and the API's response cache does not cover pages.

use askama::Template;
use platsen_salary::privacy::{DECILE_MIN, MEDIAN_MIN, QUARTILE_MIN};
use platsen_salary::stats::QUANTILE_METHOD;
use platsen_salary::{Cell, Dimension, Figure, Row, StatsQuery};
use platsen_taxonomy::Role;
use platsen_taxonomy::survey::Sector;
use poem::http::{HeaderValue, StatusCode, header};
use poem::web::{Data, Query};
use poem::{Response, handler};
use serde::Deserialize;

use super::{Choice, Layout, html, message, nonempty, unavailable, url_encode};
use crate::AppState;
use crate::problem::ApiError;

#[derive(Debug, Default, Deserialize)]
pub(super) struct SalaryParams {
    role: Option<String>,
    sector: Option<String>,
    county: Option<String>,
    year: Option<String>,
    /// The reader's own full-time monthly salary, for the comparison.
    lon: Option<String>,
}

/// A figure as the page shows it: the amount, or a dash and why.
struct Value {
    text: String,
    hidden: Option<&'static str>,
}

impl Value {
    fn amount(f: Figure<i64>) -> Value {
        match f {
            Figure::Shown(v) => Value { text: format!("{} kr", platsen_salary::format::thousands(v)), hidden: None },
            Figure::Hidden(r) => Value { text: "–".into(), hidden: Some(r.reason_sv()) },
        }
    }

    fn count(f: Figure<i64>) -> Value {
        match f {
            Figure::Shown(v) => Value { text: platsen_salary::format::thousands(v), hidden: None },
            Figure::Hidden(r) => Value { text: "–".into(), hidden: Some(r.reason_sv()) },
        }
    }

    fn change(f: Figure<f64>) -> Value {
        match f {
            Figure::Shown(v) => Value { text: percent(v, true), hidden: None },
            Figure::Hidden(r) => Value { text: "–".into(), hidden: Some(r.reason_sv()) },
        }
    }
}

/// `+3,2 %` (Swedish decimal comma; a sign when asked).
fn percent(v: f64, signed: bool) -> String {
    let s = format!("{:.1}", v.abs()).replace('.', ",");
    let sign = match (signed, v < 0.0, v > 0.0) {
        (_, true, _) => "−",
        (true, _, true) => "+",
        _ => "",
    };
    format!("{sign}{s} %")
}

struct TableRow {
    label: String,
    values: Vec<Value>,
}

impl TableRow {
    /// n, P10, P25, median, P75, P90 and the change of the median.
    fn of(label: String, row: &Row) -> TableRow {
        TableRow {
            // A break opportunity after a slash ("Avtalscontroller/
            // avtalsförvaltare"), so the row header can wrap on a phone.
            label: label.replace('/', "/\u{200B}"),
            values: vec![
                Value::count(row.n),
                Value::amount(row.p10),
                Value::amount(row.p25),
                Value::amount(row.median),
                Value::amount(row.p75),
                Value::amount(row.p90),
                Value::change(row.median_change_percent),
            ],
        }
    }
}

struct ChartItem {
    src: String,
    title: String,
    alt: String,
}

struct SelectView {
    name: &'static str,
    label: &'static str,
    options: Vec<Choice>,
}

struct CompareResult {
    text: String,
    /// 0–100, where the salary sits, for the bar; `None` outside the band.
    percentile: Option<u32>,
}

#[derive(Template)]
#[template(path = "lonestatistik.html")]
struct SalaryPage {
    layout: Layout,
    year: i32,
    selection: String,
    selects: Vec<SelectView>,
    hidden_filters: Vec<(&'static str, String)>,
    median: Value,
    quartiles: String,
    n: Value,
    change: Value,
    median_ci: Option<String>,
    breakdown_heading: String,
    breakdown: Vec<TableRow>,
    trend: Vec<TableRow>,
    charts: Vec<ChartItem>,
    lon: String,
    lon_error: Option<String>,
    compared: Option<CompareResult>,
    median_min: usize,
    quartile_min: usize,
    decile_min: usize,
    quantile_method: &'static str,
}

/// The checked filters and salary, or the field that is wrong and why.
struct Parsed {
    filter: Cell,
    year: Option<i32>,
    salary: Result<Option<i64>, String>,
}

fn parse(p: &SalaryParams) -> Result<Parsed, (&'static str, &'static str)> {
    let role = match nonempty(&p.role) {
        Some(c) => Some(Role::from_code(c).ok_or(("role", "okänd roll."))?),
        None => None,
    };
    let sector = match nonempty(&p.sector) {
        Some(c) => Some(Sector::from_code(c).ok_or(("sector", "okänd sektor."))?),
        None => None,
    };
    let county = match nonempty(&p.county) {
        Some(c) => Some(platsen_taxonomy::county(c).ok_or(("county", "okänt län."))?.code),
        None => None,
    };
    let year = match nonempty(&p.year) {
        Some(y) => match y.parse::<i32>() {
            Ok(y) if (2000..=2100).contains(&y) => Some(y),
            _ => return Err(("year", "ett årtal, t.ex. 2025.")),
        },
        None => None,
    };
    // The salary is the reader's own entry: a mistake there is shown next to
    // the field on the page, not as an error page.
    let salary = match nonempty(&p.lon) {
        None => Ok(None),
        Some(raw) => {
            let digits: String = raw
                .trim_end_matches("kr")
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{202f}')
                .collect();
            match digits.parse::<i64>() {
                Ok(v) if (1..=1_000_000).contains(&v) => Ok(Some(v)),
                Ok(_) => Err("Ange en månadslön mellan 1 och 1 000 000 kronor.".to_owned()),
                Err(_) => Err("Ange lönen i hela kronor, t.ex. 45 000.".to_owned()),
            }
        }
    };
    Ok(Parsed { filter: Cell { role, sector, county, ..Cell::default() }, year, salary })
}

/// The query string of the filters, for chart addresses.
fn filter_query(filter: &Cell, year: i32) -> String {
    let mut pairs = vec![format!("year={year}")];
    for d in [Dimension::Role, Dimension::Sector, Dimension::County] {
        if let Some(v) = filter.value(d) {
            pairs.push(format!("{}={}", d.code(), url_encode(&v)));
        }
    }
    pairs.join("&")
}

fn selection_label(filter: &Cell) -> String {
    let parts: Vec<String> = [Dimension::Role, Dimension::Sector, Dimension::County]
        .into_iter()
        .filter(|d| filter.value(*d).is_some())
        .map(|d| filter.label(d))
        .collect();
    if parts.is_empty() { "Alla svarande".to_owned() } else { parts.join(" · ") }
}

#[handler]
pub(super) async fn page(state: Data<&AppState>, params: Query<SalaryParams>) -> Response {
    let parsed = match parse(&params.0) {
        Ok(p) => p,
        Err((field, reason)) => {
            return message(StatusCode::BAD_REQUEST, "Ogiltigt urval", format!("Fältet {field}: {reason}"));
        }
    };
    let filter = parsed.filter;
    let query = StatsQuery { year: parsed.year, group_by: vec![], filter };
    let (data, total) = match crate::salary::table(&state, query).await {
        Ok(t) => t,
        Err(ApiError::NotFound(p)) => {
            let status = if parsed.year.is_some() { StatusCode::NOT_FOUND } else { StatusCode::OK };
            return message(status, "Lönestatistik", p.0.detail.clone());
        }
        Err(e) => return unavailable(format!("{e:?}")),
    };
    let year = total.year;
    // The breakdown: by the first of role, sector, county the filters leave open.
    let by = [Dimension::Role, Dimension::Sector, Dimension::County, Dimension::Experience]
        .into_iter()
        .find(|d| filter.value(*d).is_none())
        .unwrap_or(Dimension::Experience);
    let grouped = crate::salary::table(&state, StatsQuery { year: Some(year), group_by: vec![by], filter }).await;
    let by_year =
        crate::salary::table(&state, StatsQuery { year: None, group_by: vec![Dimension::Year], filter }).await;
    let (grouped, by_year) = match (grouped, by_year) {
        (Ok((_, g)), Ok((_, t))) => (g, t),
        (Err(e), _) | (_, Err(e)) => return unavailable(format!("{e:?}")),
    };
    let selection = selection_label(&filter);
    let row = &total.total;

    let (lon, lon_error, compared) = match parsed.salary {
        Ok(None) => (String::new(), None, None),
        Ok(Some(v)) => {
            let (percentile, kind, text) = crate::salary::compare_answer(row, v as f64, &selection, year);
            let percentile = percentile.or(match kind {
                "below" => Some(0),
                "above" => Some(100),
                _ => None,
            });
            (platsen_salary::format::thousands(v), None, Some(CompareResult { text, percentile }))
        }
        Err(e) => (params.0.lon.clone().unwrap_or_default(), Some(e), None),
    };

    let q = filter_query(&filter, year);
    let breakdown_chart = if filter.role.is_none() { "percentiles-by-role" } else { "percentiles-by-sector" };
    let charts = vec![
        ChartItem {
            src: format!("/api/v1/salaries/charts/{breakdown_chart}.svg?{q}"),
            title: if filter.role.is_none() { "Lön per roll".into() } else { "Lön per sektor".into() },
            alt: format!(
                "Stapeldiagram: P10, P25, median, P75 och P90 per {} för {selection}, {year}. Siffrorna finns i \
                 tabellen nedan.",
                if filter.role.is_none() { "roll" } else { "sektor" }
            ),
        },
        ChartItem {
            src: format!("/api/v1/salaries/charts/median-trend.svg?{q}"),
            title: "Medianlönen över tid".into(),
            alt: format!("Linjediagram: medianlönen per år för {selection}. Siffrorna finns i tabellen nedan."),
        },
        ChartItem {
            src: format!("/api/v1/salaries/charts/distribution.svg?{q}"),
            title: "Lönefördelning".into(),
            alt: format!("Histogram: antal svar per lönenivå för {selection}, {year}."),
        },
        ChartItem {
            src: format!("/api/v1/salaries/charts/gender.svg?{q}"),
            title: "Kvinnors och mäns medianlön".into(),
            alt: format!("Diagram: kvinnors och mäns medianlön för {selection}, {year}."),
        },
    ];

    let select = |name, label, all: &str, values: Vec<(String, String)>, current: Option<String>| SelectView {
        name,
        label,
        options: std::iter::once(Choice { value: String::new(), label: all.to_owned(), selected: current.is_none() })
            .chain(values.into_iter().map(|(value, label)| Choice {
                selected: current.as_deref() == Some(value.as_str()),
                value,
                label,
            }))
            .collect(),
    };
    let mut selects = vec![
        select(
            "role",
            "Roll",
            "Alla roller",
            Role::ALL.iter().map(|r| (r.code().to_owned(), r.name_sv().to_owned())).collect(),
            filter.value(Dimension::Role),
        ),
        select(
            "sector",
            "Sektor",
            "Alla sektorer",
            Sector::ALL.iter().map(|s| (s.code().to_owned(), s.name_sv().to_owned())).collect(),
            filter.value(Dimension::Sector),
        ),
        select(
            "county",
            "Län",
            "Hela landet",
            platsen_taxonomy::counties().iter().map(|c| (c.code.to_owned(), c.name.to_owned())).collect(),
            filter.value(Dimension::County),
        ),
    ];
    let mut years: Vec<i32> = data.years().to_vec();
    years.sort_unstable_by(|a, b| b.cmp(a));
    let mut year_select = select(
        "year",
        "År",
        "",
        years.iter().map(|y| (y.to_string(), y.to_string())).collect(),
        Some(year.to_string()),
    );
    year_select.options.remove(0);
    selects.push(year_select);
    let hidden_filters = [Dimension::Role, Dimension::Sector, Dimension::County]
        .into_iter()
        .filter_map(|d| filter.value(d).map(|v| (d.code(), v)))
        .chain(std::iter::once(("year", year.to_string())))
        .collect();

    let mut layout = Layout::new(format!("Lönestatistik {year}: {selection}"));
    layout.description = Some(format!(
        "Löner för upphandlare, inköpare och avtalscontroller {year}: median och percentiler per roll, sektor och län."
    ));
    layout.noindex = lon_error.is_some() || compared.is_some();
    let page = SalaryPage {
        layout,
        year,
        selection,
        selects,
        hidden_filters,
        median: Value::amount(row.median),
        quartiles: match (row.p25.shown(), row.p75.shown()) {
            (Some(a), Some(b)) => {
                format!("{}–{} kr", platsen_salary::format::thousands(a), platsen_salary::format::thousands(b))
            }
            _ => "–".into(),
        },
        n: Value::count(row.n),
        change: Value::change(row.median_change_percent),
        median_ci: row.median_ci.shown().map(|(a, b)| {
            format!("{}–{} kr", platsen_salary::format::thousands(a), platsen_salary::format::thousands(b))
        }),
        breakdown_heading: match by {
            Dimension::Role => "Per roll".into(),
            Dimension::Sector => "Per sektor".into(),
            Dimension::County => "Per län".into(),
            _ => "Per erfarenhet".into(),
        },
        breakdown: grouped.rows.iter().map(|r| TableRow::of(r.cell.label(by), r)).collect(),
        trend: by_year.rows.iter().rev().map(|r| TableRow::of(r.cell.year.to_string(), r)).collect(),
        charts,
        lon,
        compared,
        lon_error: lon_error.clone(),
        median_min: MEDIAN_MIN,
        quartile_min: QUARTILE_MIN,
        decile_min: DECILE_MIN,
        quantile_method: QUANTILE_METHOD,
    };
    let status = if lon_error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let mut resp = html(status, &page);
    if params.0.lon.is_some() {
        // The reader's salary: kept by no cache.
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}
