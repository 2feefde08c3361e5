//! `/lonestatistik`: the salary statistics as a page. Filters (role, sector,
//! county, year), the key figures of the selection, charts with the same
//! numbers in tables beside them (women's and men's medians too), "jämför
//! din lön" and the methodology.
//!
//! The salary a reader compares is posted (so it never lands in a URL, the
//! browser's history or a server's log) and never stored: the answer is
//! sent `no-store` and `noindex`, and the API's response cache does not
//! cover pages. The page still works without JavaScript.
//!
//! Charts are drawn for the width they are shown at: a `<picture>` picks a
//! narrow drawing on a phone, a middle one on a tablet and a wide one on a
//! desktop, so chart text is never smaller than the page's small print; each
//! has an alternative text with its figures.

use askama::Template;
use platsen_salary::charts::{Chart, Described};
use platsen_salary::privacy::{DECILE_MIN, MEDIAN_MIN, QUARTILE_MIN};
use platsen_salary::stats::QUANTILE_METHOD;
use platsen_salary::{Cell, Dimension, Figure, Gender, Row, StatsQuery, Table};
use platsen_taxonomy::Role;
use platsen_taxonomy::survey::Sector;
use poem::http::{HeaderValue, StatusCode, header};
use poem::web::{Data, Query};
use poem::{Body, Response, handler};
use serde::Deserialize;

use super::{nonempty, url_encode};
use crate::http::page::{Choice, Layout, html, message, unavailable};
use platsen_app::salary::{SalaryError, Standing};

use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub(super) struct SalaryParams {
    role: Option<String>,
    sector: Option<String>,
    county: Option<String>,
    year: Option<String>,
}

/// The comparison form's body: the reader's own full-time monthly salary.
#[derive(Debug, Default, Deserialize)]
struct CompareForm {
    lon: Option<String>,
}

/// The widths charts are drawn for, and the widest screen each is for:
/// phones, tablets, the rest.
const CHART_WIDTHS: [(u32, Option<u32>); 3] = [(360, Some(640)), (600, Some(960)), (880, None)];

/// A figure as the page shows it: the amount, or a dash and why.
struct Value {
    text: String,
    hidden: Option<&'static str>,
}

impl Value {
    fn of<T: Copy>(f: Figure<T>, show: impl Fn(T) -> String) -> Value {
        match f {
            Figure::Shown(v) => Value { text: show(v), hidden: None },
            Figure::Hidden(r) => Value { text: "–".into(), hidden: Some(r.reason_sv()) },
        }
    }

    fn amount(f: Figure<i64>) -> Value {
        Value::of(f, |v| format!("{} kr", platsen_salary::format::thousands(v)))
    }

    fn count(f: Figure<i64>) -> Value {
        Value::of(f, platsen_salary::format::thousands)
    }

    fn change(f: Figure<f64>) -> Value {
        Value::of(f, |v| percent(v, true))
    }

    fn share(f: Figure<f64>) -> Value {
        Value::of(f, |v| percent(v, false))
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

/// One drawing of a chart: its address, size, and the widest screen it is for.
struct ChartSource {
    src: String,
    width: u32,
    height: u32,
    media: Option<String>,
}

struct ChartItem {
    title: String,
    alt: String,
    /// Narrowest first; the last is the `<img>` itself.
    sources: Vec<ChartSource>,
}

impl ChartItem {
    fn img(&self) -> &ChartSource {
        self.sources.last().expect("a chart has a drawing")
    }

    fn media_sources(&self) -> &[ChartSource] {
        &self.sources[..self.sources.len() - 1]
    }
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
#[template(path = "salary.html")]
struct SalaryPage {
    layout: Layout,
    year: i32,
    selection: String,
    selects: Vec<SelectView>,
    /// The filters' query string, for the comparison form's address.
    filter_query: String,
    median: Value,
    quartiles: Value,
    n: Value,
    change: Value,
    median_ci: Option<String>,
    breakdown_heading: String,
    breakdown_column: &'static str,
    breakdown: Vec<TableRow>,
    trend: Vec<TableRow>,
    /// Women's and men's medians: the whole selection first, then each group.
    gender: Vec<TableRow>,
    charts: Vec<ChartItem>,
    lon: String,
    lon_error: Option<String>,
    compared: Option<CompareResult>,
    median_min: usize,
    quartile_min: usize,
    decile_min: usize,
    quantile_method: &'static str,
}

/// The checked filters, or the field that is wrong and why.
struct Parsed {
    filter: Cell,
    year: Option<i32>,
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
    Ok(Parsed { filter: Cell { role, sector, county, ..Cell::default() }, year })
}

/// The reader's own entry: a mistake there is shown next to the field.
fn parse_salary(raw: &str) -> Result<i64, String> {
    let digits: String = raw
        .trim()
        .trim_end_matches("kr")
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{202f}')
        .collect();
    match digits.parse::<i64>() {
        Ok(v) if (1..=1_000_000).contains(&v) => Ok(v),
        Ok(_) => Err("Ange en månadslön mellan 1 och 1 000 000 kronor.".to_owned()),
        Err(_) => Err("Ange lönen i hela kronor, till exempel 45 000.".to_owned()),
    }
}

/// The query string of the filters, for chart addresses and the comparison.
fn filter_query(filter: &Cell, year: i32) -> String {
    let mut pairs = Vec::new();
    for d in [Dimension::Role, Dimension::Sector, Dimension::County] {
        if let Some(v) = filter.value(d) {
            pairs.push(format!("{}={}", d.code(), url_encode(&v)));
        }
    }
    pairs.push(format!("year={year}"));
    pairs.join("&")
}

/// Women's and men's medians and the ratio: the selection first, then
/// each group of `by` in which at least one of them is published.
fn gender_rows(total: &Row, by_gender: &Table, grouped: &Table, split: &Table, by: Dimension) -> Vec<TableRow> {
    let median_of = |rows: &[Row], cell: Cell, g: Gender| {
        rows.iter()
            .find(|r| r.cell == Cell { gender: Some(g), ..cell })
            .map_or(Figure::Hidden(platsen_salary::Suppressed::FewRespondents), |r| r.median)
    };
    let row = |label: String, cell: Cell, rows: &[Row], ratio: Figure<f64>| TableRow {
        label: label.replace('/', "/\u{200B}"),
        values: vec![
            Value::amount(median_of(rows, cell, Gender::Kvinna)),
            Value::amount(median_of(rows, cell, Gender::Man)),
            Value::share(ratio),
        ],
    };
    let mut out = vec![row("Hela urvalet".into(), total.cell, &by_gender.rows, total.women_median_percent_of_men)];
    for g in &grouped.rows {
        let r = row(g.cell.label(by), g.cell, &split.rows, g.women_median_percent_of_men);
        if r.values[..2].iter().any(|v| v.hidden.is_none()) {
            out.push(r);
        }
    }
    out
}

#[handler]
pub(super) async fn page(state: Data<&AppState>, params: Query<SalaryParams>) -> Response {
    render(&state, &params.0, None).await
}

/// "Jämför din lön": the salary comes in the body of a post, never in the address.
#[handler]
pub(super) async fn compare(state: Data<&AppState>, params: Query<SalaryParams>, body: Body) -> Response {
    let form: CompareForm = match crate::http::session::read_form(body).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let mut resp = render(&state, &params.0, Some(form.lon.unwrap_or_default())).await;
    // The reader's salary: kept by no cache, shown to no search engine.
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
    resp
}

/// The reader's salary compared with the selection: what was typed, an
/// error in it, and the answer.
fn compared(
    row: &Row,
    lon: Option<String>,
    selection: &str,
    year: i32,
) -> (String, Option<String>, Option<CompareResult>) {
    match lon.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        None => (String::new(), lon.map(|_| "Skriv din månadslön i kronor.".to_owned()), None),
        Some(raw) => match parse_salary(raw) {
            Ok(v) => {
                let answer = platsen_app::salary::compare(row, v as f64, selection, year);
                let percentile = match answer.standing {
                    Standing::At(p) => Some(p),
                    Standing::Below(_) => Some(0),
                    Standing::Above(_) => Some(100),
                    Standing::Unknown => None,
                };
                (platsen_salary::format::thousands(v), None, Some(CompareResult { text: answer.text, percentile }))
            }
            Err(e) => (raw.to_owned(), Some(e), None),
        },
    }
}

/// The page's charts, each at the widths of its `<picture>`, with its
/// alternative text.
async fn charts(
    data: &std::sync::Arc<platsen_salary::Dataset>,
    filter: Cell,
    year: i32,
    by: Dimension,
    fq: &str,
) -> Result<Vec<ChartItem>, String> {
    let breakdown_chart = Chart::percentiles_by(by).unwrap_or(Chart::PercentilesByExperience);
    let specs = [
        (breakdown_chart, format!("Lön per {}", by.name_sv().to_lowercase()), vec![]),
        (Chart::MedianTrend, "Medianlönen över tid".to_owned(), vec![]),
        (Chart::Distribution, "Lönefördelning".to_owned(), vec![]),
        (Chart::Gender, "Kvinnors och mäns medianlön".to_owned(), vec![by]),
    ];
    let mut charts = Vec::new();
    for (chart, title, group_by) in specs {
        let query = StatsQuery { year: Some(year), group_by: group_by.clone(), filter };
        let group = group_by.first().map(|d| format!("&group_by={}", d.code())).unwrap_or_default();
        let d = data.clone();
        let described = tokio::task::spawn_blocking(move || {
            CHART_WIDTHS
                .iter()
                .map(|(w, _)| platsen_salary::charts::describe(&d, chart, &query, *w))
                .collect::<Result<Vec<Described>, _>>()
        })
        .await;
        let described = match described {
            Ok(Ok(d)) => d,
            Ok(Err(e)) => return Err(e.to_string()),
            Err(e) => return Err(e.to_string()),
        };
        let sources = CHART_WIDTHS
            .iter()
            .zip(&described)
            .map(|((w, max), d)| ChartSource {
                src: format!("/api/v1/salaries/charts/{}.svg?{fq}{group}&width={w}", chart.name()),
                width: d.width,
                height: d.height,
                media: max.map(|m| format!("(max-width: {m}px)")),
            })
            .collect();
        let alt = described.last().map(|d| d.alt.clone()).unwrap_or_default();
        charts.push(ChartItem { title, alt, sources });
    }

    Ok(charts)
}

/// The selection's drop-downs: role, sector, county and year.
fn selects(filter: &Cell, data: &platsen_salary::Dataset, year: i32) -> Vec<SelectView> {
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
    // Roles and sectors in their own order (as everywhere on the board);
    // counties by name.
    let roles: Vec<(String, String)> =
        Role::ALL.iter().map(|r| (r.code().to_owned(), r.name_sv().to_owned())).collect();
    let sectors: Vec<(String, String)> =
        Sector::ALL.iter().map(|s| (s.code().to_owned(), s.name_sv().to_owned())).collect();
    let mut counties: Vec<(String, String)> =
        platsen_taxonomy::counties().iter().map(|c| (c.code.to_owned(), c.name.to_owned())).collect();
    counties.sort_by(|a, b| platsen_taxonomy::swedish_cmp(&a.1, &b.1));
    let mut selects = vec![
        select("role", "Roll", "Alla roller", roles, filter.value(Dimension::Role)),
        select("sector", "Sektor", "Alla sektorer", sectors, filter.value(Dimension::Sector)),
        select("county", "Län", "Hela landet", counties, filter.value(Dimension::County)),
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
    selects
}

async fn render(state: &AppState, params: &SalaryParams, lon: Option<String>) -> Response {
    let parsed = match parse(params) {
        Ok(p) => p,
        Err((field, reason)) => {
            return message(StatusCode::BAD_REQUEST, "Ogiltigt urval", format!("Fältet {field}: {reason}"));
        }
    };
    let filter = parsed.filter;
    let query = StatsQuery { year: parsed.year, group_by: vec![], filter };
    let (data, total) = match state.app.salary_table(query).await {
        Ok(t) => t,
        Err(e @ (SalaryError::NoData | SalaryError::NoYear(_))) => {
            let status = if parsed.year.is_some() { StatusCode::NOT_FOUND } else { StatusCode::OK };
            return message(status, "Lönestatistik", e.public_text());
        }
        Err(e) => return unavailable(format!("{e:?}")),
    };
    let year = total.year;
    // The breakdown: by the first of role, sector, county the filters leave open.
    let by = [Dimension::Role, Dimension::Sector, Dimension::County, Dimension::Experience]
        .into_iter()
        .find(|d| filter.value(*d).is_none())
        .unwrap_or(Dimension::Experience);
    let q = |group_by: Vec<Dimension>, year: Option<i32>| StatsQuery { year, group_by, filter };
    let tables = tokio::try_join!(
        state.app.salary_table(q(vec![by], Some(year))),
        state.app.salary_table(q(vec![Dimension::Year], None)),
        state.app.salary_table(q(vec![Dimension::Gender], Some(year))),
        state.app.salary_table(q(vec![by, Dimension::Gender], Some(year))),
    );
    let ((_, grouped), (_, by_year), (_, by_gender), (_, split)) = match tables {
        Ok(t) => t,
        Err(e) => return unavailable(format!("{e:?}")),
    };
    let selection = filter.selection_label();
    let row = &total.total;

    let (lon, lon_error, compared) = compared(row, lon, &selection, year);

    let fq = filter_query(&filter, year);
    let charts = match charts(&data, filter, year, by, &fq).await {
        Ok(c) => c,
        Err(e) => return unavailable(e),
    };

    let selects = selects(&filter, &data, year);

    let mut layout = Layout::new(format!("Lönestatistik {year}: {selection}"));
    layout.description = Some(format!(
        "Löner för upphandlare, inköpare och avtalscontroller {year}: median och percentiler per roll, sektor och län."
    ));
    layout.noindex = lon_error.is_some() || compared.is_some();
    let body = SalaryPage {
        layout,
        year,
        selection,
        selects,
        filter_query: fq,
        median: Value::amount(row.median),
        quartiles: match (row.p25, row.p75) {
            (Figure::Shown(a), Figure::Shown(b)) => Value {
                text: format!("{}–{} kr", platsen_salary::format::thousands(a), platsen_salary::format::thousands(b)),
                hidden: None,
            },
            (Figure::Hidden(r), _) | (_, Figure::Hidden(r)) => {
                Value { text: "–".into(), hidden: Some(r.reason_sv()) }
            }
        },
        n: Value::count(row.n),
        change: Value::change(row.median_change_percent),
        median_ci: row.median_ci.shown().map(|(a, b)| {
            format!("{}–{} kr", platsen_salary::format::thousands(a), platsen_salary::format::thousands(b))
        }),
        breakdown_heading: format!("Per {}", by.name_sv().to_lowercase()),
        breakdown_column: by.name_sv(),
        breakdown: grouped.rows.iter().map(|r| TableRow::of(r.cell.label(by), r)).collect(),
        trend: by_year.rows.iter().rev().map(|r| TableRow::of(r.cell.year.to_string(), r)).collect(),
        gender: gender_rows(row, &by_gender, &grouped, &split, by),
        charts,
        lon,
        compared,
        lon_error: lon_error.clone(),
        median_min: MEDIAN_MIN,
        quartile_min: QUARTILE_MIN,
        decile_min: DECILE_MIN,
        quantile_method: QUANTILE_METHOD,
    };
    let status = if lon_error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    html(status, &body)
}
