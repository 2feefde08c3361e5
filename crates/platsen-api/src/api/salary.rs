//! Lönestatistik over HTTP: importing a survey (admin), the statistics
//! table, charts as SVG or PNG, and "where does my salary stand".

use std::collections::BTreeMap;
use std::sync::Arc;

use platsen_salary::stats::QUANTILE_METHOD;
use platsen_salary::{Cell, Chart, Dataset, Dimension, Figure, Format, Row, StatsError, StatsQuery, Table};
use platsen_taxonomy::Role;
use platsen_taxonomy::survey::{AgeBand, ExperienceBand, Gender, Sector};
use poem::http::StatusCode;
use poem::{Request, RequestBody};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json, ParsePayload, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::{ApiResponse, Object, OpenApi};
use tokio::io::AsyncReadExt;

use platsen_app::salary::{ImportFailure, MarketBand, SalaryError, Standing, compare};

use crate::AppState;
use crate::api::Tag;
use crate::api::codes::{self, Code, GroupBy};
use crate::api::wire::RoleCode;
use crate::http::auth::Auth;
use crate::http::body::JsonBody;
use crate::http::problem::{ApiError, FieldProblem, Problem};

/// The largest survey file accepted.
pub const MAX_CSV_BODY: usize = platsen_app::salary::MAX_SURVEY_BYTES;

fn internal(what: &str, e: &dyn std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "{what}");
    ApiError::internal()
}

fn no_data() -> ApiError {
    ApiError::NotFound(Json(Problem::new(
        StatusCode::NOT_FOUND,
        "no-salary-data",
        "Ingen lönestatistik",
        platsen_app::salary::SalaryError::NoData.public_text(),
    )))
}

/// Statistics that could not be had, as a problem.
pub(crate) fn salary_error(e: SalaryError) -> ApiError {
    match e {
        SalaryError::NoData => no_data(),
        e @ SalaryError::NoYear(_) => {
            ApiError::NotFound(Json(
                Problem::new(StatusCode::NOT_FOUND, "no-salary-data", "Ingen lönestatistik", e.public_text())
                    .with_field("year", "unknown_year", e.public_text()),
            ))
        }
        SalaryError::Store(e) => e.into(),
        SalaryError::Failed(_) => ApiError::internal(),
    }
}

fn stats_error(e: StatsError) -> ApiError {
    salary_error(e.into())
}

/// A survey file: `text/csv`, at most 20 MB.
#[derive(Debug)]
pub struct CsvBody(pub Vec<u8>);

impl Payload for CsvBody {
    const CONTENT_TYPE: &'static str = "text/csv";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(m) if m.type_() == "text" && m.subtype() == "csv")
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema { format: Some("binary"), ..MetaSchema::new("string") }))
    }

    fn register(_registry: &mut Registry) {}
}

impl ParsePayload for CsvBody {
    const IS_REQUIRED: bool = true;

    async fn from_request(_request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let mut bytes = Vec::new();
        let mut reader = body.take()?.into_async_read();
        (&mut reader)
            .take(MAX_CSV_BODY as u64 + 1)
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| poem::Error::from_string(e.to_string(), StatusCode::BAD_REQUEST))?;
        if bytes.len() > MAX_CSV_BODY {
            // Drain (up to a cap) what the client still sends, so it reads the answer.
            let _ = tokio::io::copy(&mut reader.take(4 * MAX_CSV_BODY as u64), &mut tokio::io::sink()).await;
            let detail = format!("Filen får vara högst {} MB.", MAX_CSV_BODY / 1024 / 1024);
            let p = Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "För stor fil", detail.clone())
                .with_field("file", "too_large", detail);
            return Err(poem::Error::from_response(p.into_poem_response()));
        }
        Ok(CsvBody(bytes))
    }
}

poem_openapi::impl_apirequest_for_payload!(CsvBody,);

/// An imported survey file.
#[derive(Debug, Object)]
pub struct SalaryImportView {
    pub id: i64,
    pub filename: String,
    /// Responses stored.
    pub responses: i64,
    pub years: Vec<i32>,
    /// Hex SHA-256 of the file (the same file is imported once).
    pub file_sha256: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<platsen_jobs::store::SalaryImport> for SalaryImportView {
    fn from(i: platsen_jobs::store::SalaryImport) -> Self {
        SalaryImportView {
            id: i.id,
            filename: i.filename,
            responses: i.responses,
            years: i.years,
            file_sha256: i.file_sha256,
            created_at: i.created_at,
        }
    }
}

/// A survey file stored.
#[derive(ApiResponse)]
pub enum Imported {
    /// Imported; statistics now include it.
    #[oai(status = 201)]
    Created(Json<SalaryImportView>),
}

/// Why a value is absent.
#[derive(Debug, Clone, Object)]
pub struct SuppressionView {
    /// Always `suppressed`: one code whatever the reason, since the reason
    /// could tell a group of 1–4 respondents from a larger one.
    pub code: String,
    /// Why figures are hidden, in Swedish (the same general text for all).
    pub reason: String,
}

/// A 95 % interval for the median.
#[derive(Debug, Clone, Object)]
pub struct IntervalView {
    pub low: i64,
    pub high: i64,
}

/// One group. Amounts are kronor per month, full-time equivalent, rounded to
/// 100 kr; a hidden value is null and `suppressed` says why.
#[derive(Debug, Clone, Object)]
pub struct StatsRowView {
    /// The group's value per grouping dimension, as codes.
    pub group: BTreeMap<String, String>,
    /// The group in Swedish.
    pub label: String,
    #[oai(nullable)]
    pub n: Option<i64>,
    #[oai(nullable)]
    pub mean: Option<i64>,
    #[oai(nullable)]
    pub p10: Option<i64>,
    #[oai(nullable)]
    pub p25: Option<i64>,
    #[oai(nullable)]
    pub median: Option<i64>,
    #[oai(nullable)]
    pub p75: Option<i64>,
    #[oai(nullable)]
    pub p90: Option<i64>,
    /// 95 % confidence interval for the median (order statistics, exact binomial).
    #[oai(nullable)]
    pub median_ci: Option<IntervalView>,
    /// Change of the median since the year before, in percent (this year's
    /// respondents against last year's, not the same people).
    #[oai(nullable)]
    pub median_change_percent: Option<f64>,
    /// Women's median as a percentage of men's in this group (unadjusted).
    #[oai(nullable)]
    pub women_median_percent_of_men: Option<f64>,
    /// Why each null value is hidden.
    pub suppressed: BTreeMap<String, SuppressionView>,
}

/// A statistics table.
#[derive(Debug, Object)]
pub struct StatsView {
    pub year: i32,
    pub group_by: Vec<String>,
    /// How percentiles are computed.
    pub quantile_method: String,
    /// What the amounts are.
    pub basis: String,
    /// The filters' whole group.
    pub total: StatsRowView,
    pub rows: Vec<StatsRowView>,
}

fn row_view(row: &Row, group_by: &[Dimension]) -> StatsRowView {
    let mut suppressed = BTreeMap::new();
    let mut take = |name: &str, f: Figure<i64>| {
        if let Some(r) = f.reason() {
            suppressed.insert(name.to_owned(), suppression(r));
        }
        f.shown()
    };
    let (n, mean, p10, p25, median, p75, p90) = (
        take("n", row.n),
        take("mean", row.mean),
        take("p10", row.p10),
        take("p25", row.p25),
        take("median", row.median),
        take("p75", row.p75),
        take("p90", row.p90),
    );
    if let Some(r) = row.median_ci.reason() {
        suppressed.insert("median_ci".into(), suppression(r));
    }
    if let Some(r) = row.median_change_percent.reason() {
        suppressed.insert("median_change_percent".into(), suppression(r));
    }
    if let Some(r) = row.women_median_percent_of_men.reason() {
        suppressed.insert("women_median_percent_of_men".into(), suppression(r));
    }
    let group = group_by.iter().filter_map(|d| row.cell.value(*d).map(|v| (d.code().to_owned(), v))).collect();
    let label = if group_by.is_empty() {
        "Alla".to_owned()
    } else {
        group_by.iter().map(|d| row.cell.label(*d)).collect::<Vec<_>>().join(" · ")
    };
    StatsRowView {
        group,
        label,
        n,
        mean,
        p10,
        p25,
        median,
        p75,
        p90,
        median_ci: row.median_ci.shown().map(|(low, high)| IntervalView { low, high }),
        median_change_percent: row.median_change_percent.shown(),
        women_median_percent_of_men: row.women_median_percent_of_men.shown(),
        suppressed,
    }
}

fn suppression(r: platsen_salary::Suppressed) -> SuppressionView {
    SuppressionView { code: platsen_salary::Suppressed::CODE.to_owned(), reason: r.reason_sv().to_owned() }
}

fn stats_view(t: &Table) -> StatsView {
    StatsView {
        year: t.year,
        group_by: t.group_by.iter().map(|d| d.code().to_owned()).collect(),
        quantile_method: QUANTILE_METHOD.into(),
        basis: "Månadslön före skatt omräknad till heltid, kronor, avrundad till närmaste 100 kr.".into(),
        total: row_view(&t.total, &[]),
        rows: t.rows.iter().map(|r| row_view(r, &t.group_by)).collect(),
    }
}

/// Where a salary stands in its group.
#[derive(Debug, Object)]
pub struct CompareView {
    pub year: i32,
    /// The group's filters, as codes.
    pub group: BTreeMap<String, String>,
    pub label: String,
    /// The group's published band (hidden values null).
    pub band: StatsRowView,
    /// The percentile the salary corresponds to, interpolated linearly
    /// between published percentiles; null outside them or when too few
    /// are published.
    #[oai(nullable)]
    pub percentile: Option<u32>,
    /// `between`, `below` (under the lowest published percentile), `above`
    /// (over the highest) or `unknown` (too few percentiles published).
    pub position: String,
    /// The answer in Swedish.
    pub text: String,
    /// When the group that fits the request (`POST`) had too few answers to
    /// publish: that group, and `group`/`label` are the nearest larger one.
    #[oai(skip_serializing_if_is_none)]
    pub asked_group: Option<BTreeMap<String, String>>,
    #[oai(skip_serializing_if_is_none)]
    pub asked_label: Option<String>,
}

/// A salary to compare with its peers; everything but the salary optional.
#[derive(Debug, Clone, Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct CompareSalary {
    /// Full-time monthly salary in kronor.
    #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))]
    pub salary: i64,
    #[oai(nullable)]
    pub role: Option<RoleCode>,
    #[oai(nullable)]
    pub sector: Option<Code<codes::Sector>>,
    #[oai(nullable)]
    pub county: Option<Code<codes::County>>,
    /// Years of experience, banded (`3-6`).
    #[oai(nullable)]
    pub experience: Option<Code<codes::Experience>>,
    /// Age, banded (`30-39`).
    #[oai(nullable)]
    pub age: Option<Code<codes::Age>>,
    /// Survey year (the latest when absent or null).
    #[oai(nullable, validator(minimum(value = "2000"), maximum(value = "2100")))]
    pub year: Option<i32>,
}

/// A code in a JSON body is one of its vocabulary's (JSON bodies take any
/// string, so that the problem can name the field in Swedish).
fn known<V: codes::Vocabulary>(field: &str, code: &Option<Code<V>>) -> Result<(), ApiError> {
    match code {
        Some(c) if !V::codes().contains(&c.as_str()) => Err(platsen_jobs::Error::invalid(
            field,
            "unknown_code",
            format!("Okänd kod; se {} i API-specifikationen.", V::NAME),
        )
        .into()),
        _ => Ok(()),
    }
}

/// A group's filters as codes.
fn group_codes(cell: &Cell) -> BTreeMap<String, String> {
    Dimension::WITHIN_YEAR.iter().filter_map(|d| cell.value(*d).map(|v| (d.code().to_owned(), v))).collect()
}

/// A chart image.
#[derive(ApiResponse)]
pub enum ChartFormats {
    #[oai(status = 200, content_type = "image/svg+xml")]
    Svg(Binary<Vec<u8>>, #[oai(header = "Cache-Control")] String),
    #[oai(status = 200, content_type = "image/png")]
    Png(Binary<Vec<u8>>, #[oai(header = "Cache-Control")] String),
}

/// [`ChartFormats`] as the spec should state it: one 200 with both media
/// types (poem-openapi documents only the last variant of a status).
pub struct ChartResponse(ChartFormats);

impl poem_openapi::ApiResponse for ChartResponse {
    fn meta() -> poem_openapi::registry::MetaResponses {
        let mut merged: Vec<poem_openapi::registry::MetaResponse> = Vec::new();
        for r in ChartFormats::meta().responses {
            match merged.iter_mut().find(|m| m.status == r.status) {
                Some(m) => m.content.extend(r.content),
                None => merged.push(r),
            }
        }
        poem_openapi::registry::MetaResponses { responses: merged }
    }

    fn register(registry: &mut Registry) {
        ChartFormats::register(registry);
    }
}

impl poem::IntoResponse for ChartResponse {
    fn into_response(self) -> poem::Response {
        self.0.into_response()
    }
}

/// The shared filters as a cell of the table. Every value is already one
/// of its vocabulary's codes (a parameter outside it is a 400 before this).
fn filter_cell(
    role: &Option<RoleCode>,
    sector: &Option<Code<codes::Sector>>,
    county: &Option<Code<codes::County>>,
    gender: &Option<Code<codes::Gender>>,
    experience: &Option<Code<codes::Experience>>,
    age: &Option<Code<codes::Age>>,
) -> Cell {
    Cell {
        role: role.map(Role::from),
        sector: sector.as_ref().and_then(|c| Sector::from_code(c.as_str())),
        county: county.as_ref().and_then(|c| platsen_taxonomy::county(c.as_str()).map(|c| c.code)),
        gender: gender.as_ref().and_then(|c| Gender::from_code(c.as_str())),
        experience: experience.as_ref().and_then(|c| ExperienceBand::from_code(c.as_str())),
        age: age.as_ref().and_then(|c| AgeBand::from_code(c.as_str())),
        ..Cell::default()
    }
}

pub struct SalaryApi {
    pub(crate) state: AppState,
}

impl SalaryApi {
    async fn data(&self) -> Result<Arc<Dataset>, ApiError> {
        self.state.app.salary_dataset().await.map_err(salary_error)
    }

    async fn table(&self, query: StatsQuery) -> Result<(Arc<Dataset>, Arc<Table>), ApiError> {
        self.state.app.salary_table(query).await.map_err(salary_error)
    }
}

#[OpenApi(prefix_path = "/v1", tag = "Tag::Salaries")]
impl SalaryApi {
    /// Import a salary survey (admin)
    ///
    /// A CSV file (`text/csv`, UTF-8, comma or semicolon) with the header
    /// `year,role,sector,county_code,gender,age,experience_years,monthly_salary_sek,extent_percent,specialisation,is_manager`
    /// (any order; other columns are ignored). A file with any invalid row
    /// is refused whole (422, with line, field and reason for each problem)
    /// and nothing is stored; the same file twice is refused (409).
    #[oai(path = "/salaries/imports", method = "post", operation_id = "importSalaries")]
    async fn import(
        &self,
        auth: Auth,
        body: CsvBody,
        /// The file's name, kept with the import.
        #[oai(validator(max_length = 200))]
        filename: Query<Option<String>>,
    ) -> Result<Imported, ApiError> {
        auth.0.require_admin()?;
        let import = match self.state.app.import_survey(body.0, filename.0, self.state.app.clock.now(), |_, _| {}).await
        {
            Ok(import) => import,
            Err(ImportFailure::Rejected(rejected)) => {
                let detail =
                    format!("Filen har {} fel och har inte importerats; inget har sparats.", rejected.problems);
                let mut p = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", "Ogiltig fil", detail);
                p.errors = rejected
                    .errors
                    .into_iter()
                    .map(|e| FieldProblem {
                        field: e.field,
                        code: "invalid".into(),
                        message: e.reason,
                        line: Some(e.line),
                    })
                    .collect();
                return Err(ApiError::Unprocessable(Json(p)));
            }
            Err(ImportFailure::Store(e)) => return Err(e.into()),
            Err(ImportFailure::Panicked) => return Err(ApiError::internal()),
        };
        Ok(Imported::Created(Json(import.into())))
    }

    /// Salary imports (admin)
    #[oai(path = "/salaries/imports", method = "get", operation_id = "salaryImports")]
    async fn imports(&self, auth: Auth) -> Result<Json<Vec<SalaryImportView>>, ApiError> {
        auth.0.require_admin()?;
        Ok(Json(self.state.app.store.salary_imports().await?.into_iter().map(Into::into).collect()))
    }

    /// Salary statistics
    ///
    /// n, mean and P10, P25, median, P75, P90 of the full-time monthly
    /// salary for the filters, per group of `group_by`. Figures that could
    /// reveal individuals are null with the reason in `suppressed`: the
    /// median and mean need 5 respondents, quartiles 9, P10/P90 21, and the
    /// count and mean are shown only where they cannot be combined with
    /// other published figures to reveal a group of fewer than 5.
    #[oai(path = "/salaries/stats", method = "get", operation_id = "salaryStats")]
    #[allow(clippy::too_many_arguments)]
    async fn stats(
        &self,
        /// Survey year (the latest when absent).
        #[oai(validator(minimum(value = "2000"), maximum(value = "2100")))]
        year: Query<Option<i32>>,
        /// Up to three different dimensions, comma-separated (`role,sector`).
        #[oai(default, explode = false)]
        group_by: Query<GroupBy>,
        role: Query<Option<RoleCode>>,
        sector: Query<Option<Code<codes::Sector>>>,
        county: Query<Option<Code<codes::County>>>,
        gender: Query<Option<Code<codes::Gender>>>,
        experience: Query<Option<Code<codes::Experience>>>,
        age: Query<Option<Code<codes::Age>>>,
    ) -> Result<Json<StatsView>, ApiError> {
        let query = StatsQuery {
            year: year.0,
            group_by: group_by.0.0,
            filter: filter_cell(&role.0, &sector.0, &county.0, &gender.0, &experience.0, &age.0),
        };
        let (_, table) = self.table(query).await?;
        Ok(Json(stats_view(&table)))
    }

    /// A salary chart (SVG or PNG)
    ///
    /// `percentiles-by-role`, `percentiles-by-sector`, `percentiles-by-county`,
    /// `percentiles-by-experience`, `median-trend`, `distribution` or
    /// `gender`, followed by `.svg` or `.png`; the filters are those of the
    /// statistics (`group_by=sector` makes `gender` per sector). Drawn
    /// `width` pixels wide (320–1600, default 900), its text never smaller
    /// than 15 px; the height follows from the number of groups.
    #[oai(path = "/salaries/charts/:file", method = "get", operation_id = "salaryChart")]
    #[allow(clippy::too_many_arguments)]
    async fn chart(
        &self,
        /// e.g. `percentiles-by-role.svg`.
        file: Path<Code<codes::ChartFile>>,
        #[oai(validator(minimum(value = "2000"), maximum(value = "2100")))] year: Query<Option<i32>>,
        #[oai(default, explode = false)] group_by: Query<GroupBy>,
        role: Query<Option<RoleCode>>,
        sector: Query<Option<Code<codes::Sector>>>,
        county: Query<Option<Code<codes::County>>>,
        gender: Query<Option<Code<codes::Gender>>>,
        experience: Query<Option<Code<codes::Experience>>>,
        age: Query<Option<Code<codes::Age>>>,
        /// The width to draw for, in pixels.
        #[oai(validator(minimum(value = "320"), maximum(value = "1600")))]
        width: Query<Option<u32>>,
    ) -> Result<ChartResponse, ApiError> {
        let (name, format) = match file.0.as_str().rsplit_once('.') {
            Some((name, "svg")) => (name, Format::Svg),
            Some((name, "png")) => (name, Format::Png),
            _ => return Err(ApiError::bad_request("chart", "unknown_format", "Ange .svg eller .png.")),
        };
        let chart = Chart::from_name(name).ok_or_else(|| {
            ApiError::bad_request(
                "chart",
                "unknown_chart",
                "Diagram: percentiles-by-role, percentiles-by-sector, percentiles-by-county, \
                 percentiles-by-experience, median-trend, distribution, gender.",
            )
        })?;
        let query = StatsQuery {
            year: year.0,
            group_by: group_by.0.0,
            filter: filter_cell(&role.0, &sector.0, &county.0, &gender.0, &experience.0, &age.0),
        };
        let data = self.data().await?;
        let width = platsen_salary::charts::clamp_width(width.0);
        let image =
            tokio::task::spawn_blocking(move || platsen_salary::charts::render(&data, chart, &query, format, width))
                .await
                .map_err(|e| internal("drawing a chart panicked", &e))?
                .map_err(|e| match e {
                    platsen_salary::ChartError::Stats(e) => stats_error(e),
                    e => internal("drawing a chart failed", &e),
                })?;
        let cache = "public, max-age=300".to_owned();
        Ok(match format {
            Format::Svg => ChartResponse(ChartFormats::Svg(Binary(image), cache)),
            Format::Png => ChartResponse(ChartFormats::Png(Binary(image), cache)),
        })
    }

    /// Where a salary stands among its peers
    ///
    /// The percentile a full-time monthly salary corresponds to in the group
    /// that fits it (role, sector, county, experience band, age band; each
    /// optional), interpolated between the group's published percentiles.
    /// When that group has too few answers to publish, the nearest larger
    /// one is used (without the age band, then the experience band, the
    /// county, the sector, the role), and `asked_group`/`asked_label` say
    /// which was asked for. The salary is in the body, never in an address,
    /// and is neither stored nor logged.
    #[oai(path = "/salaries/compare", method = "post", operation_id = "compareSalaryWithPeers")]
    async fn compare_with_peers(&self, body: JsonBody<CompareSalary>) -> Result<Json<CompareView>, ApiError> {
        let b = body.0;
        if !(1..=1_000_000).contains(&b.salary) {
            let message = "Ange en månadslön mellan 1 och 1 000 000 kronor.";
            return Err(platsen_jobs::Error::invalid("salary", "out_of_range", message).into());
        }
        if b.year.is_some_and(|y| !(2000..=2100).contains(&y)) {
            return Err(platsen_jobs::Error::invalid("year", "out_of_range", "Ange ett årtal, t.ex. 2025.").into());
        }
        known("sector", &b.sector)?;
        known("county", &b.county)?;
        known("experience", &b.experience)?;
        known("age", &b.age)?;
        let filter = filter_cell(&b.role, &b.sector, &b.county, &None, &b.experience, &b.age);
        // The year asked for, or the latest.
        let (_, asked_table) = self.table(StatsQuery { year: b.year, group_by: Vec::new(), filter }).await?;
        let asked = Cell { year: asked_table.year, ..filter };
        let peers = self.state.app.compare_with_peers(asked, b.salary as f64).await.map_err(salary_error)?;
        let answer = peers.comparison;
        Ok(Json(CompareView {
            year: asked.year,
            group: group_codes(&peers.used),
            label: peers.used.selection_label(),
            band: row_view(&peers.row, &[]),
            percentile: answer.standing.percentile(),
            position: standing_code(answer.standing).into(),
            text: answer.text,
            asked_group: peers.fell_back_from.as_ref().map(group_codes),
            asked_label: peers.fell_back_from.map(|c| c.selection_label()),
        }))
    }

    /// Where a salary stands (salary in the address)
    ///
    /// The percentile a full-time monthly salary corresponds to in its group
    /// (role, sector, county), interpolated between the group's published
    /// percentiles. Deprecated: the salary travels in the address, where
    /// browsers, proxies and logs outside Platsen keep it; use `POST`, which
    /// also compares within experience and age. Platsen itself neither
    /// stores nor logs it.
    #[oai(path = "/salaries/compare", method = "get", operation_id = "compareSalary", deprecated)]
    #[allow(clippy::too_many_arguments)]
    async fn compare(
        &self,
        /// Full-time monthly salary in kronor.
        #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))]
        salary: Query<i64>,
        role: Query<Option<RoleCode>>,
        sector: Query<Option<Code<codes::Sector>>>,
        county: Query<Option<Code<codes::County>>>,
        #[oai(validator(minimum(value = "2000"), maximum(value = "2100")))] year: Query<Option<i32>>,
    ) -> Result<Json<CompareView>, ApiError> {
        let query = StatsQuery {
            year: year.0,
            group_by: Vec::new(),
            filter: filter_cell(&role.0, &sector.0, &county.0, &None, &None, &None),
        };
        let filter = query.filter;
        let (_, table) = self.table(query).await?;
        let row = &table.total;
        let salary = salary.0 as f64;
        let dims = [Dimension::Role, Dimension::Sector, Dimension::County];
        let group: BTreeMap<String, String> =
            dims.iter().filter_map(|d| filter.value(*d).map(|v| (d.code().to_owned(), v))).collect();
        let label = filter.selection_label();
        let answer = compare(row, salary, &label, table.year);
        Ok(Json(CompareView {
            year: table.year,
            group,
            label: label.clone(),
            band: row_view(row, &[]),
            percentile: answer.standing.percentile(),
            position: standing_code(answer.standing).into(),
            text: answer.text,
            asked_group: None,
            asked_label: None,
        }))
    }
}

/// The market salary of a role, shown with each job ad.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct MarketSalaryView {
    /// The role code.
    pub role: String,
    /// The county the band is narrowed to, when that group is published;
    /// otherwise the whole country.
    #[oai(nullable)]
    pub county_code: Option<String>,
    /// The employer's sector, when the band is narrowed to it.
    #[oai(nullable)]
    pub sector: Option<String>,
    /// "Upphandlare inom kommunal sektor i Stockholms län",
    /// "Upphandlare i Stockholms län" or "Upphandlare i hela landet".
    pub label: String,
    pub year: i32,
    /// Full-time monthly salary, kronor, rounded to 100 kr; null where too
    /// few answered.
    #[oai(nullable)]
    pub p10: Option<i64>,
    #[oai(nullable)]
    pub p25: Option<i64>,
    #[oai(nullable)]
    pub median: Option<i64>,
    #[oai(nullable)]
    pub p75: Option<i64>,
    #[oai(nullable)]
    pub p90: Option<i64>,
    /// Where the ad's offered monthly range sits in the band, if it states one.
    #[oai(nullable)]
    pub offered: Option<OfferedView>,
    /// "Källa: Platsen lönestatistik 2025".
    pub source: String,
}

/// Where an offered salary range sits in the market band.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct OfferedView {
    /// Percentile of the lower end (null outside the published percentiles).
    #[oai(nullable)]
    pub min_percentile: Option<u32>,
    /// Percentile of the upper end.
    #[oai(nullable)]
    pub max_percentile: Option<u32>,
    /// In Swedish, e.g. "Lönespannet ligger mellan percentil 40 och 75 för
    /// rollen." or "Lönespannets nedre gräns ligger under P25 och den övre
    /// vid percentil 63 för rollen."
    pub text: String,
}

/// The code of a standing: `between`, `below`, `above` or `unknown`.
fn standing_code(s: Standing) -> &'static str {
    match s {
        Standing::At(_) => "between",
        Standing::Below(_) => "below",
        Standing::Above(_) => "above",
        Standing::Unknown => "unknown",
    }
}

impl From<MarketBand> for MarketSalaryView {
    fn from(b: MarketBand) -> Self {
        MarketSalaryView {
            role: b.role.code().into(),
            county_code: b.county_code.map(str::to_owned),
            sector: b.sector.map(|s| s.code().to_owned()),
            label: b.label,
            year: b.year,
            p10: b.p10,
            p25: b.p25,
            median: b.median,
            p75: b.p75,
            p90: b.p90,
            offered: b.offered.map(|o| OfferedView {
                min_percentile: o.min_percentile,
                max_percentile: o.max_percentile,
                text: o.text,
            }),
            source: b.source,
        }
    }
}
