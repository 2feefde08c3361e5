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
use platsen_taxonomy::survey::{AgeBand, ExperienceBand, Sector};
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

/// The comparison form's body: the reader's own full-time monthly salary,
/// and (optional) experience and age bands; role, sector and county are
/// the page's selection.
#[derive(Debug, Default, Deserialize)]
struct CompareForm {
    lon: Option<String>,
    erfarenhet: Option<String>,
    alder: Option<String>,
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

/// A band to compare within, with what is wrong with the value sent.
struct PeerSelect {
    name: &'static str,
    label: &'static str,
    options: Vec<Choice>,
    error: Option<String>,
}

struct CompareResult {
    text: String,
    /// 0–100, where the salary sits, for the bar; `None` outside the band.
    percentile: Option<u32>,
    /// Which group was used when the one that fits was too small.
    fallback: Option<String>,
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
    /// The breakdown's dimension, for its download.
    by_code: &'static str,
    breakdown: Vec<TableRow>,
    trend: Vec<TableRow>,
    /// Women's and men's medians: the whole selection first, then each group.
    gender: Vec<TableRow>,
    charts: Vec<ChartItem>,
    lon: String,
    lon_error: Option<String>,
    /// The experience and age bands to compare with (chosen ones selected,
    /// a value that does not read explained).
    peer_selects: Vec<PeerSelect>,
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
    let mut resp = render(&state, &params.0, Some(form)).await;
    // The reader's salary: kept by no cache, shown to no search engine.
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
    resp
}

/// The reader's band of `field` (`erfarenhet`, `alder`): none, a band, or
/// why the value does not read.
fn band<T: Copy>(
    raw: Option<&str>,
    field: &'static str,
    from_code: fn(&str) -> Option<T>,
) -> Result<Option<T>, (&'static str, String)> {
    match raw.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => from_code(v).map(Some).ok_or((field, "Välj ett av alternativen i listan.".to_owned())),
    }
}

/// A band's choices, "Vill inte ange" first, `current` selected.
fn band_options<T: Copy + PartialEq>(
    all: &'static [T],
    code: fn(T) -> &'static str,
    name: fn(T) -> &'static str,
    current: Option<T>,
) -> Vec<Choice> {
    std::iter::once(Choice { value: String::new(), label: "Vill inte ange".to_owned(), selected: current.is_none() })
        .chain(all.iter().map(|&v| Choice {
            value: code(v).to_owned(),
            label: name(v).to_owned(),
            selected: current == Some(v),
        }))
        .collect()
}

/// The comparison's part of the page: what was typed, an error in it, the
/// band selects, and the answer (against the nearest published group).
struct Compared {
    lon: String,
    lon_error: Option<String>,
    peer_selects: Vec<PeerSelect>,
    /// A band did not read.
    peer_failed: bool,
    result: Option<CompareResult>,
}

async fn compared(state: &AppState, filter: Cell, year: i32, form: Option<CompareForm>) -> Result<Compared, String> {
    let form = form.unwrap_or_default();
    let experience = band(form.erfarenhet.as_deref(), "erfarenhet", ExperienceBand::from_code);
    let age = band(form.alder.as_deref(), "alder", AgeBand::from_code);
    let peer_selects = vec![
        PeerSelect {
            name: "erfarenhet",
            label: "Din erfarenhet av upphandling och inköp",
            options: band_options(
                ExperienceBand::ALL,
                ExperienceBand::code,
                ExperienceBand::name_sv,
                experience.clone().ok().flatten(),
            ),
            error: experience.clone().err().map(|(_, m)| m),
        },
        PeerSelect {
            name: "alder",
            label: "Din ålder",
            options: band_options(AgeBand::ALL, AgeBand::code, AgeBand::name_sv, age.clone().ok().flatten()),
            error: age.clone().err().map(|(_, m)| m),
        },
    ];
    let peer_failed = peer_selects.iter().any(|s| s.error.is_some());
    let mut out = Compared { lon: String::new(), lon_error: None, peer_selects, peer_failed, result: None };
    let Some(lon) = form.lon else { return Ok(out) };
    let (Ok(experience), Ok(age)) = (experience, age) else {
        out.lon = lon;
        return Ok(out);
    };
    let raw = lon.trim();
    if raw.is_empty() {
        out.lon_error = Some("Skriv din månadslön i kronor.".to_owned());
        return Ok(out);
    }
    let v = match parse_salary(raw) {
        Ok(v) => v,
        Err(e) => {
            out.lon = raw.to_owned();
            out.lon_error = Some(e);
            return Ok(out);
        }
    };
    out.lon = platsen_salary::format::thousands(v);
    let asked = Cell { year, experience, age, ..filter };
    let peers = state.app.compare_with_peers(asked, v as f64).await.map_err(|e| format!("{e:?}"))?;
    let percentile = match peers.comparison.standing {
        Standing::At(p) => Some(p),
        Standing::Below(_) => Some(0),
        Standing::Above(_) => Some(100),
        Standing::Unknown => None,
    };
    let fallback = peers.fell_back_from.map(|asked| {
        format!(
            "Gruppen som passar dig bäst ({}) har för få svar för att visas, så jämförelsen görs med den närmaste större gruppen: {}.",
            asked.selection_label(),
            peers.used.selection_label()
        )
    });
    out.result = Some(CompareResult { text: peers.comparison.text, percentile, fallback });
    Ok(out)
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

async fn render(state: &AppState, params: &SalaryParams, form: Option<CompareForm>) -> Response {
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

    let compared = match compared(state, filter, year, form).await {
        Ok(c) => c,
        Err(e) => return unavailable(e),
    };
    let lon_error = compared.lon_error.clone();
    let failed = lon_error.is_some() || compared.peer_failed;

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
    layout.noindex = failed || compared.result.is_some() || !compared.lon.is_empty();
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
        by_code: by.code(),
        breakdown: grouped.rows.iter().map(|r| TableRow::of(r.cell.label(by), r)).collect(),
        trend: by_year.rows.iter().rev().map(|r| TableRow::of(r.cell.year.to_string(), r)).collect(),
        gender: gender_rows(row, &by_gender, &grouped, &split, by),
        charts,
        lon: compared.lon,
        compared: compared.result,
        lon_error,
        peer_selects: compared.peer_selects,
        median_min: MEDIAN_MIN,
        quartile_min: QUARTILE_MIN,
        decile_min: DECILE_MIN,
        quantile_method: QUANTILE_METHOD,
    };
    let status = if failed { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    html(status, &body)
}

// ----- open data -------------------------------------------------------------

/// The downloads' query: the page's filters and one dimension to group by
/// (the page's breakdown when absent).
#[derive(Debug, Default, Deserialize)]
pub(super) struct DataParams {
    #[serde(flatten)]
    filters: SalaryParams,
    group_by: Option<String>,
}

/// One row of a download, with the statistics API's field names and
/// values (a hidden figure is `None`, with the one reason the API gives).
fn open_row(row: &Row, group_by: &[Dimension]) -> serde_json::Value {
    use serde_json::json;
    let mut suppressed = serde_json::Map::new();
    let mut note = |name: &str, reason: Option<platsen_salary::Suppressed>| {
        if let Some(r) = reason {
            suppressed
                .insert(name.to_owned(), json!({ "code": platsen_salary::Suppressed::CODE, "reason": r.reason_sv() }));
        }
    };
    for (name, f) in [
        ("n", row.n),
        ("mean", row.mean),
        ("p10", row.p10),
        ("p25", row.p25),
        ("median", row.median),
        ("p75", row.p75),
        ("p90", row.p90),
    ] {
        note(name, f.reason());
    }
    note("median_ci", row.median_ci.reason());
    note("median_change_percent", row.median_change_percent.reason());
    note("women_median_percent_of_men", row.women_median_percent_of_men.reason());
    let group: serde_json::Map<String, serde_json::Value> =
        group_by.iter().filter_map(|d| row.cell.value(*d).map(|v| (d.code().to_owned(), v.into()))).collect();
    let label = if group_by.is_empty() {
        "Alla".to_owned()
    } else {
        group_by.iter().map(|d| row.cell.label(*d)).collect::<Vec<_>>().join(" · ")
    };
    json!({
        "group": group,
        "label": label,
        "n": row.n.shown(),
        "mean": row.mean.shown(),
        "p10": row.p10.shown(),
        "p25": row.p25.shown(),
        "median": row.median.shown(),
        "p75": row.p75.shown(),
        "p90": row.p90.shown(),
        "median_ci": row.median_ci.shown().map(|(low, high)| json!({ "low": low, "high": high })),
        "median_change_percent": row.median_change_percent.shown(),
        "women_median_percent_of_men": row.women_median_percent_of_men.shown(),
        "suppressed": suppressed,
    })
}

/// A published table as open data: the same query as the statistics API
/// answers, so the same figures are hidden.
struct OpenTable {
    table: std::sync::Arc<Table>,
    by: Dimension,
    title: String,
    /// The header rows: what the file is, its source and licence, and how
    /// it is computed and protected.
    about: Vec<String>,
    filename: String,
}

async fn open_table(state: &AppState, params: &DataParams) -> Result<OpenTable, Response> {
    let parsed = parse(&params.filters).map_err(|(field, reason)| {
        message(StatusCode::BAD_REQUEST, "Ogiltigt urval", format!("Fältet {field}: {reason}"))
    })?;
    let filter = parsed.filter;
    let by = match params.group_by.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        Some(code) => Dimension::from_code(code).filter(|d| filter.value(*d).is_none() || *d == Dimension::Year).ok_or_else(|| {
            message(
                StatusCode::BAD_REQUEST,
                "Ogiltigt urval",
                "Fältet group_by: en av role, sector, county, gender, experience, age och year, som inte redan är vald.",
            )
        })?,
        None => [Dimension::Role, Dimension::Sector, Dimension::County, Dimension::Experience]
            .into_iter()
            .find(|d| filter.value(*d).is_none())
            .unwrap_or(Dimension::Experience),
    };
    // Per year: every year; otherwise the year asked for, or the latest.
    let year = if by == Dimension::Year { None } else { parsed.year };
    let query = StatsQuery { year, group_by: vec![by], filter };
    let table = match state.app.salary_table(query).await {
        Ok((_, t)) => t,
        Err(e @ (SalaryError::NoData | SalaryError::NoYear(_))) => {
            return Err(message(StatusCode::NOT_FOUND, "Lönestatistik", e.public_text()));
        }
        Err(e) => return Err(unavailable(format!("{e:?}"))),
    };
    let selection = filter.selection_label();
    let years = if by == Dimension::Year { "alla år".to_owned() } else { table.year.to_string() };
    let title = format!("Platsen lönestatistik, {years}: {selection}, per {}", by.name_sv().to_lowercase());
    let about = vec![
        title.clone(),
        format!("Källa: Platsen lönestatistik. Licens: {}", state.app.data_licence),
        "Belopp: månadslön före skatt omräknad till heltid, kronor, avrundad till närmaste 100 kr.".to_owned(),
        format!("Percentiler: {QUANTILE_METHOD}."),
        format!(
            "Skydd av enskilda: median och medelvärde visas från {MEDIAN_MIN} svarande, kvartiler från \
             {QUARTILE_MIN}, P10 och P90 från {DECILE_MIN}; antal och medelvärde bara för grupper som inte \
             kan kombineras med andra publicerade siffror till en grupp med färre än {MEDIAN_MIN}. Tomma \
             celler är dolda av de skälen, som på sidan och i API:t."
        ),
    ];
    let mut name = vec!["lonestatistik".to_owned(), years.replace(' ', "-").replace("alla-år", "alla-ar")];
    for d in [Dimension::Role, Dimension::Sector, Dimension::County] {
        if let Some(v) = filter.value(d) {
            name.push(v);
        }
    }
    name.push(format!("per-{}", by.code()));
    let filename = name.join("-");
    Ok(OpenTable { table, by, title, about, filename })
}

fn download(body: Vec<u8>, content_type: &'static str, filename: &str) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .content_type(content_type)
        .header(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\""))
        .header(header::CACHE_CONTROL, "public, max-age=300")
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .body(body)
}

/// `GET /lonestatistik/data.csv`: the table as CSV (comma-separated, UTF-8),
/// after header rows starting with `#` that say what it is, its source,
/// licence and method. A hidden figure is an empty cell.
#[handler]
pub(super) async fn data_csv(state: Data<&AppState>, params: Query<DataParams>) -> Response {
    let t = match open_table(&state, &params.0).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let mut out: Vec<u8> = Vec::new();
    for line in &t.about {
        out.extend_from_slice(format!("# {line}\n").as_bytes());
    }
    let mut w = csv::Writer::from_writer(out);
    let columns = [
        "grupp",
        t.by.code(),
        "antal",
        "medel",
        "p10",
        "p25",
        "median",
        "p75",
        "p90",
        "median_ki_lag",
        "median_ki_hog",
    ];
    let cell = |v: Figure<i64>| v.shown().map(|v| v.to_string()).unwrap_or_default();
    let mut rows = vec![("Hela urvalet".to_owned(), String::new(), &t.table.total)];
    rows.extend(t.table.rows.iter().map(|r| (r.cell.label(t.by), r.cell.value(t.by).unwrap_or_default(), r)));
    let written: Result<(), csv::Error> = (|| {
        w.write_record(columns)?;
        for (label, code, r) in rows {
            w.write_record([
                label,
                code,
                cell(r.n),
                cell(r.mean),
                cell(r.p10),
                cell(r.p25),
                cell(r.median),
                cell(r.p75),
                cell(r.p90),
                r.median_ci.shown().map(|c| c.0.to_string()).unwrap_or_default(),
                r.median_ci.shown().map(|c| c.1.to_string()).unwrap_or_default(),
            ])?;
        }
        Ok(())
    })();
    let bytes = match written.map_err(|e| e.to_string()).and_then(|()| w.into_inner().map_err(|e| e.to_string())) {
        Ok(b) => b,
        Err(e) => return unavailable(e),
    };
    download(bytes, "text/csv; charset=utf-8; header=present", &format!("{}.csv", t.filename))
}

/// `GET /lonestatistik/data.json`: the statistics API's answer for the
/// same query, with what the file is, its source, licence and method.
#[handler]
pub(super) async fn data_json(state: Data<&AppState>, params: Query<DataParams>) -> Response {
    let t = match open_table(&state, &params.0).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let json = serde_json::json!({
        "title": t.title,
        "licence": state.app.data_licence.to_string(),
        "about": t.about,
        "year": t.table.year,
        "group_by": t.table.group_by.iter().map(|d| d.code()).collect::<Vec<_>>(),
        "quantile_method": QUANTILE_METHOD,
        "basis": "Månadslön före skatt omräknad till heltid, kronor, avrundad till närmaste 100 kr.",
        "total": open_row(&t.table.total, &[]),
        "rows": t.table.rows.iter().map(|r| open_row(r, &t.table.group_by)).collect::<Vec<_>>(),
    });
    let bytes = serde_json::to_vec_pretty(&json).unwrap_or_default();
    download(bytes, "application/json; charset=utf-8", &format!("{}.json", t.filename))
}
