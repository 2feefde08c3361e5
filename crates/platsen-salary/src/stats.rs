//! The statistics: n, mean and percentiles by any grouping, computed with
//! Polars (lazy), then passed through the privacy rules.

use std::collections::HashMap;
use std::sync::Mutex;

use platsen_taxonomy::Role;
use polars::prelude::*;
use serde::Serialize;

use crate::format::round_100;
use crate::privacy::{Blocks, DECILE_MIN, MEDIAN_MIN, QUARTILE_MIN, Suppressed};
use platsen_taxonomy::survey::{AgeBand, ExperienceBand, Gender, Response, Sector};

/// The quantile method, named in every answer.
pub const QUANTILE_METHOD: &str = "linjärt (Hyndman–Fan typ 7, som Excels PERCENTILE.INC)";

/// A dimension results can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Role,
    Sector,
    County,
    Gender,
    Experience,
    Age,
    Year,
}

impl Dimension {
    pub const ALL: [Dimension; 7] = [
        Dimension::Role,
        Dimension::Sector,
        Dimension::County,
        Dimension::Gender,
        Dimension::Experience,
        Dimension::Age,
        Dimension::Year,
    ];

    /// Every dimension a respondent is filtered or grouped by within a
    /// year: all but the year.
    pub const WITHIN_YEAR: [Dimension; 6] = [
        Dimension::Role,
        Dimension::Sector,
        Dimension::County,
        Dimension::Gender,
        Dimension::Experience,
        Dimension::Age,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Dimension::Role => "role",
            Dimension::Sector => "sector",
            Dimension::County => "county",
            Dimension::Gender => "gender",
            Dimension::Experience => "experience",
            Dimension::Age => "age",
            Dimension::Year => "year",
        }
    }

    pub fn from_code(code: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.code() == code)
    }

    /// The dimension's name in Swedish, as a column heading.
    pub fn name_sv(self) -> &'static str {
        match self {
            Dimension::Role => "Roll",
            Dimension::Sector => "Sektor",
            Dimension::County => "Län",
            Dimension::Gender => "Kön",
            Dimension::Experience => "Erfarenhet",
            Dimension::Age => "Ålder",
            Dimension::Year => "År",
        }
    }
}

/// A set of respondents: a year and any of the dimensions fixed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Cell {
    pub year: i32,
    pub role: Option<Role>,
    pub sector: Option<Sector>,
    pub county: Option<&'static str>,
    pub gender: Option<Gender>,
    pub experience: Option<ExperienceBand>,
    pub age: Option<AgeBand>,
}

impl Cell {
    pub fn contains(&self, r: &Response) -> bool {
        r.year == self.year
            && self.role.is_none_or(|v| v == r.role)
            && self.sector.is_none_or(|v| v == r.sector)
            && self.county.is_none_or(|v| v == r.county_code)
            && self.gender.is_none_or(|v| v == r.gender)
            && self.experience.is_none_or(|v| v == ExperienceBand::of(r.experience_years))
            && self.age.is_none_or(|v| v == AgeBand::of(r.age))
    }

    /// The value of `d` this cell fixes, as its code.
    pub fn value(&self, d: Dimension) -> Option<String> {
        match d {
            Dimension::Role => self.role.map(|v| v.code().to_owned()),
            Dimension::Sector => self.sector.map(|v| v.code().to_owned()),
            Dimension::County => self.county.map(str::to_owned),
            Dimension::Gender => self.gender.map(|v| v.code().to_owned()),
            Dimension::Experience => self.experience.map(|v| v.code().to_owned()),
            Dimension::Age => self.age.map(|v| v.code().to_owned()),
            Dimension::Year => Some(self.year.to_string()),
        }
    }

    /// The Swedish label of `d`'s value.
    pub fn label(&self, d: Dimension) -> String {
        match d {
            Dimension::Role => self.role.map_or("Alla roller", |v| v.name_sv()).to_owned(),
            Dimension::Sector => self.sector.map_or("Alla sektorer", |v| v.name_sv()).to_owned(),
            Dimension::County => self
                .county
                .and_then(platsen_taxonomy::county)
                .map_or_else(|| "Hela landet".to_owned(), |c| c.name.to_owned()),
            Dimension::Gender => self.gender.map_or("Alla", |v| v.name_sv()).to_owned(),
            Dimension::Experience => self.experience.map_or("All erfarenhet", |v| v.name_sv()).to_owned(),
            Dimension::Age => self.age.map_or("Alla åldrar", |v| v.name_sv()).to_owned(),
            Dimension::Year => self.year.to_string(),
        }
    }

    /// What this cell selects, in Swedish: "Upphandlare · Kommun ·
    /// Stockholms län", or "Alla svarande".
    pub fn selection_label(&self) -> String {
        let parts: Vec<String> =
            Dimension::WITHIN_YEAR.into_iter().filter(|d| self.value(*d).is_some()).map(|d| self.label(d)).collect();
        if parts.is_empty() { "Alla svarande".into() } else { parts.join(" · ") }
    }

    /// The value of `d` this cell fixes, as the frame's integer code.
    fn code(&self, d: Dimension) -> Option<u32> {
        match d {
            Dimension::Role => self.role.map(|v| v as u32),
            Dimension::Sector => self.sector.map(|v| v as u32),
            Dimension::County => self.county.and_then(|c| c.parse().ok()),
            Dimension::Gender => self.gender.map(|v| v as u32),
            Dimension::Experience => self.experience.map(|v| v as u32),
            Dimension::Age => self.age.map(|v| v as u32),
            Dimension::Year => Some(self.year as u32),
        }
    }

    /// Fixes `d` to the value with the frame's integer code `code`; false
    /// for a code that names nothing.
    fn set_code(&mut self, d: Dimension, code: u32) -> bool {
        let at = code as usize;
        match d {
            Dimension::Role => self.role = Role::ALL.get(at).copied(),
            Dimension::Sector => self.sector = Sector::ALL.get(at).copied(),
            Dimension::County => {
                self.county =
                    platsen_taxonomy::counties().iter().find(|c| c.code.parse::<u32>() == Ok(code)).map(|c| c.code)
            }
            Dimension::Gender => self.gender = Gender::ALL.get(at).copied(),
            Dimension::Experience => self.experience = ExperienceBand::ALL.get(at).copied(),
            Dimension::Age => self.age = AgeBand::ALL.get(at).copied(),
            Dimension::Year => self.year = code as i32,
        }
        self.code(d) == Some(code)
    }
}

/// What to compute: filters (a cell without its year), the year (the
/// latest when absent), and the grouping.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct StatsQuery {
    pub year: Option<i32>,
    pub group_by: Vec<Dimension>,
    pub filter: Cell,
}

/// A published value, or why it is not.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Figure<T> {
    Shown(T),
    Hidden(Suppressed),
}

impl<T: Copy> Figure<T> {
    pub fn shown(&self) -> Option<T> {
        match self {
            Figure::Shown(v) => Some(*v),
            Figure::Hidden(_) => None,
        }
    }

    pub fn reason(&self) -> Option<Suppressed> {
        match self {
            Figure::Shown(_) => None,
            Figure::Hidden(r) => Some(*r),
        }
    }
}

/// One group's measures. Amounts are kronor per month, full-time, rounded
/// to 100 kr.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The group: the query's filters and this row's values.
    pub cell: Cell,
    pub n: Figure<i64>,
    pub mean: Figure<i64>,
    pub p10: Figure<i64>,
    pub p25: Figure<i64>,
    pub median: Figure<i64>,
    pub p75: Figure<i64>,
    pub p90: Figure<i64>,
    /// 95 % interval for the median, from order statistics (exact binomial).
    pub median_ci: Figure<(i64, i64)>,
    /// Change of the median from the year before, in percent (cross-section:
    /// this year's respondents against last year's).
    pub median_change_percent: Figure<f64>,
    /// Women's median as a percentage of men's, in this group.
    pub women_median_percent_of_men: Figure<f64>,
}

/// The answer to a [`StatsQuery`].
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub year: i32,
    pub group_by: Vec<Dimension>,
    /// The whole filter combination (all groups together).
    pub total: Row,
    pub rows: Vec<Row>,
}

/// Errors of the statistics.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error("no salary survey has been imported")]
    NoData,
    #[error("no survey for {0}")]
    NoYear(i32),
    #[error("statistics failed: {0}")]
    Polars(#[from] PolarsError),
}

/// Every response of every year, with its disclosure blocks and a cache of
/// answers. Build a new one after an import.
///
/// The frame holds one row per response, sorted by full-time salary, with
/// each dimension as a small integer code and, per dimension, whether the
/// respondent's disclosure block is *pure* in it (all its members share the
/// value). A group is a union of whole blocks exactly when every block that
/// touches it is pure in every dimension the group fixes, so one `min` per
/// fixed dimension in the same aggregation decides whether its count and
/// mean may be published.
pub struct Dataset {
    responses: Vec<Response>,
    frame: DataFrame,
    years: Vec<i32>,
    cache: Mutex<HashMap<StatsQuery, std::sync::Arc<Table>>>,
    histograms: Mutex<HashMap<Cell, std::sync::Arc<Bars>>>,
}

impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataset").field("responses", &self.responses.len()).field("years", &self.years).finish()
    }
}

/// Histogram bars: label and count.
pub type Bars = Vec<(String, usize)>;

/// Raw (unrounded) measures of one group, from Polars.
#[derive(Debug, Clone, Copy, Default)]
struct Raw {
    n: usize,
    mean: f64,
    p10: f64,
    p25: f64,
    median: f64,
    p75: f64,
    p90: f64,
    /// Whether the group is a union of whole disclosure blocks.
    additive: bool,
    /// The order statistics bounding the median's 95 % interval (n ≥ 21).
    median_ci: Option<(f64, f64)>,
    /// Women's and men's count and median within the group.
    women: Option<(usize, f64)>,
    men: Option<(usize, f64)>,
}

/// One gender's count and median per group, as aggregated.
type GenderColumns = (Vec<u32>, Vec<f64>);

/// What an aggregation computes besides n, mean and the percentiles.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Extras {
    /// Nothing more: the benchmark's reference aggregation.
    None,
    /// Block purity and the median's interval.
    Privacy,
    /// That, and women's and men's medians.
    PrivacyAndGender,
}

/// A dimension's value for a response, as the frame stores it.
fn code_of(d: Dimension, r: &Response) -> u32 {
    match d {
        Dimension::Role => r.role as u32,
        Dimension::Sector => r.sector as u32,
        Dimension::County => r.county_code.parse().unwrap_or(0),
        Dimension::Gender => r.gender as u32,
        Dimension::Experience => ExperienceBand::of(r.experience_years) as u32,
        Dimension::Age => AgeBand::of(r.age) as u32,
        Dimension::Year => r.year as u32,
    }
}

/// The frame column of a dimension's purity.
fn pure_column(d: Dimension) -> String {
    format!("pure_{}", d.code())
}

impl Dataset {
    pub fn new(mut responses: Vec<Response>) -> Result<Dataset, StatsError> {
        // Sorted by salary, so every group's values come out of the
        // aggregation in order and the interval's order statistics are
        // simply read off (the sort is stable: the same file gives the same
        // frame).
        responses.sort_by(|a, b| a.full_time_salary().total_cmp(&b.full_time_salary()));
        let keys: Vec<Vec<(u8, i32)>> = responses
            .iter()
            .map(|r| {
                vec![
                    (0, r.year),
                    (1, r.role as i32),
                    (2, r.sector as i32),
                    (3, r.gender as i32),
                    (4, r.county_code.parse().unwrap_or(0)),
                    (5, ExperienceBand::of(r.experience_years) as i32),
                    (6, AgeBand::of(r.age) as i32),
                ]
            })
            .collect();
        let blocks = Blocks::new(&keys);
        drop(keys);
        // Per block and dimension: the first member's value, and whether all
        // members share it.
        let mut first: Vec<Option<[u32; 7]>> = Vec::new();
        let mut pure: Vec<[bool; 7]> = Vec::new();
        for (i, r) in responses.iter().enumerate() {
            let b = blocks.of(i) as usize;
            if first.len() <= b {
                first.resize(b + 1, None);
                pure.resize(b + 1, [true; 7]);
            }
            let values = Dimension::ALL.map(|d| code_of(d, r));
            match first[b] {
                None => first[b] = Some(values),
                Some(seen) => {
                    for k in 0..7 {
                        pure[b][k] &= seen[k] == values[k];
                    }
                }
            }
        }
        let mut columns: Vec<Column> = Dimension::ALL
            .iter()
            .map(|d| {
                let name = if *d == Dimension::Year { "year" } else { d.code() };
                Column::new(name.into(), responses.iter().map(|r| code_of(*d, r)).collect::<Vec<u32>>())
            })
            .collect();
        columns.push(Column::new("fte".into(), responses.iter().map(Response::full_time_salary).collect::<Vec<f64>>()));
        for (k, d) in Dimension::ALL.iter().enumerate() {
            let values: Vec<u32> = (0..responses.len()).map(|i| u32::from(pure[blocks.of(i) as usize][k])).collect();
            columns.push(Column::new(pure_column(*d).into(), values));
        }
        let frame = DataFrame::new_infer_height(columns)?;
        let mut years: Vec<i32> = responses.iter().map(|r| r.year).collect();
        years.sort_unstable();
        years.dedup();
        Ok(Dataset { responses, frame, years, cache: Mutex::default(), histograms: Mutex::default() })
    }

    /// The survey years, oldest first.
    pub fn years(&self) -> &[i32] {
        &self.years
    }

    /// Every response, in order of full-time salary.
    pub fn responses(&self) -> &[Response] {
        &self.responses
    }

    /// The full-time salaries in a cell, sorted (for histograms and tests;
    /// never published as such).
    pub fn salaries(&self, cell: &Cell) -> Vec<f64> {
        // Responses are kept in salary order.
        self.responses.iter().filter(|r| cell.contains(r)).map(Response::full_time_salary).collect()
    }

    /// A cell's histogram bars, made by `make` from its sorted salaries the
    /// first time and cached like the statistics.
    pub fn histogram(&self, cell: &Cell, make: impl FnOnce(&[f64]) -> Vec<(String, usize)>) -> std::sync::Arc<Bars> {
        if let Some(h) = self.histograms.lock().expect("cache lock").get(cell) {
            return h.clone();
        }
        let bars = std::sync::Arc::new(make(&self.salaries(cell)));
        let mut cache = self.histograms.lock().expect("cache lock");
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(*cell, bars.clone());
        bars
    }

    /// The statistics of a query if computed before (cheap; no Polars).
    pub fn cached(&self, query: &StatsQuery) -> Option<std::sync::Arc<Table>> {
        self.cache.lock().expect("cache lock").get(query).cloned()
    }

    /// The statistics of a query, from the cache when asked before.
    pub fn stats(&self, query: &StatsQuery) -> Result<std::sync::Arc<Table>, StatsError> {
        if let Some(t) = self.cache.lock().expect("cache lock").get(query) {
            return Ok(t.clone());
        }
        let table = std::sync::Arc::new(self.compute(query)?);
        let mut cache = self.cache.lock().expect("cache lock");
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(query.clone(), table.clone());
        Ok(table)
    }

    fn compute(&self, query: &StatsQuery) -> Result<Table, StatsError> {
        let latest = *self.years.last().ok_or(StatsError::NoData)?;
        let year = query.year.unwrap_or(latest);
        if !self.years.contains(&year) {
            return Err(StatsError::NoYear(year));
        }
        let mut group_by = query.group_by.clone();
        group_by.dedup();
        let by_year = group_by.contains(&Dimension::Year);
        // Every grouping is computed per year; the year before gives the change.
        let mut dims: Vec<Dimension> = vec![Dimension::Year];
        dims.extend(group_by.iter().copied().filter(|d| *d != Dimension::Year && query.filter.value(*d).is_none()));
        let years: Vec<i32> = if by_year { self.years.clone() } else { vec![year - 1, year] };
        let gender_split = query.filter.gender.is_none() && !dims.contains(&Dimension::Gender);
        let extras = if gender_split { Extras::PrivacyAndGender } else { Extras::Privacy };
        let raw = self.grouped(&query.filter, &dims, &years, extras)?;
        // A group of fewer than 5 is left out, as an empty group is: its
        // figures are all hidden anyway, and a row that is there or not
        // would tell 1–4 respondents from none.
        let mut rows: Vec<Row> = raw
            .iter()
            .filter(|(cell, r)| (by_year || cell.year == year) && r.n >= MEDIAN_MIN)
            .map(|(cell, r)| row(cell, Some(r), &raw))
            .collect();
        rows.sort_by_key(|r| order_key(&r.cell, &dims));
        let mut total_cell = query.filter;
        total_cell.year = year;
        let total = if dims.len() == 1 && !by_year {
            // No grouping: the one row is the total.
            rows.first().cloned().unwrap_or_else(|| row(&total_cell, None, &raw))
        } else {
            // The total is the answer to the same filters without grouping
            // (computed once and cached like any answer).
            let whole = self.stats(&StatsQuery { year: Some(year), group_by: Vec::new(), filter: query.filter })?;
            whole.total.clone()
        };
        Ok(Table { year, group_by, total, rows })
    }

    /// The Polars aggregation alone (n, mean, five percentiles per group of
    /// `dims` and year, for `years`), with no privacy rules: what the
    /// benchmark compares with DuckDB. Returns the number of groups.
    pub fn aggregate(&self, dims: &[Dimension], years: &[i32]) -> Result<usize, StatsError> {
        let mut all = vec![Dimension::Year];
        all.extend_from_slice(dims);
        Ok(self.grouped(&Cell::default(), &all, years, Extras::None)?.len())
    }

    /// Forgets every cached answer (for benchmarks).
    pub fn clear_cache(&self) {
        self.cache.lock().expect("cache lock").clear();
        self.histograms.lock().expect("cache lock").clear();
    }

    /// One Polars aggregation: n, mean and the five percentiles per group of
    /// `dims` within `filter`, for `years`, and the `extras`.
    fn grouped(
        &self,
        filter: &Cell,
        dims: &[Dimension],
        years: &[i32],
        extras: Extras,
    ) -> Result<HashMap<Cell, Raw>, StatsError> {
        let mut predicate = years.iter().fold(lit(false), |any, y| any.or(col("year").eq(lit(*y as u32))));
        // The dimensions every group fixes: the filter's and the grouping's.
        let mut fixed = vec![Dimension::Year];
        for d in Dimension::WITHIN_YEAR {
            if let Some(v) = filter.code(d) {
                predicate = predicate.and(col(d.code()).eq(lit(v)));
                fixed.push(d);
            }
        }
        fixed.extend(dims.iter().copied().filter(|d| *d != Dimension::Year));
        let keys: Vec<Expr> = dims.iter().map(|d| col(d.code())).collect();
        let q = |p: f64, name: &str| col("fte").quantile(lit(p), QuantileMethod::Linear).alias(name);
        let mut aggs = vec![
            len().alias("n"),
            col("fte").mean().alias("mean"),
            q(0.10, "p10"),
            q(0.25, "p25"),
            q(0.50, "median"),
            q(0.75, "p75"),
            q(0.90, "p90"),
        ];
        if extras != Extras::None {
            // The group's values, in salary order (the frame's order).
            aggs.push(col("fte").alias("values"));
            for d in &fixed {
                aggs.push(col(pure_column(*d)).min().alias(pure_column(*d)));
            }
        }
        if extras == Extras::PrivacyAndGender {
            for g in [Gender::Kvinna, Gender::Man] {
                let is = col("gender").eq(lit(g as u32));
                aggs.push(is.clone().cast(DataType::UInt32).sum().alias(format!("n_{}", g.code())));
                aggs.push(
                    col("fte")
                        .filter(is)
                        .quantile(lit(0.5), QuantileMethod::Linear)
                        .alias(format!("median_{}", g.code())),
                );
            }
        }
        let out = self.frame.clone().lazy().filter(predicate).group_by_stable(keys).agg(aggs).collect()?;
        let float = |name: &str| -> Result<Vec<f64>, StatsError> {
            let c = out.column(name)?.cast(&DataType::Float64)?;
            let ca = c.as_materialized_series().f64()?;
            Ok((0..ca.len()).map(|i| ca.get(i).unwrap_or(f64::NAN)).collect())
        };
        let uint = |name: &str| -> Result<Vec<u32>, StatsError> {
            let c = out.column(name)?.cast(&DataType::UInt32)?;
            let ca = c.as_materialized_series().u32()?;
            Ok((0..ca.len()).map(|i| ca.get(i).unwrap_or(0)).collect())
        };
        let n: Vec<usize> = uint("n")?.into_iter().map(|v| v as usize).collect();
        let (mean, p10, p25, median, p75, p90) =
            (float("mean")?, float("p10")?, float("p25")?, float("median")?, float("p75")?, float("p90")?);
        let codes: Vec<Vec<u32>> = dims.iter().map(|d| uint(d.code())).collect::<Result<_, _>>()?;
        let mut additive = vec![true; out.height()];
        let mut values_column = None;
        if extras != Extras::None {
            for d in &fixed {
                for (a, p) in additive.iter_mut().zip(uint(&pure_column(*d))?) {
                    *a &= p == 1;
                }
            }
            let exploded = out
                .column("values")?
                .explode(ExplodeOptions { empty_as_null: false, keep_nulls: false })?
                .as_materialized_series()
                .f64()?
                .rechunk()
                .into_owned();
            values_column = Some(exploded);
        }
        let values: &[f64] = match &values_column {
            Some(ca) => ca.cont_slice()?,
            None => &[],
        };
        if extras != Extras::None && values.len() != n.iter().sum::<usize>() {
            return Err(StatsError::Polars(PolarsError::ComputeError("group values do not match the counts".into())));
        }
        let gender = |g: Gender| -> Result<Option<GenderColumns>, StatsError> {
            if extras != Extras::PrivacyAndGender {
                return Ok(None);
            }
            Ok(Some((uint(&format!("n_{}", g.code()))?, float(&format!("median_{}", g.code()))?)))
        };
        let (women, men) = (gender(Gender::Kvinna)?, gender(Gender::Man)?);
        let mut result = HashMap::with_capacity(out.height());
        let mut offset = 0;
        for i in 0..out.height() {
            let group = values.get(offset..offset + n[i]).unwrap_or(&[]);
            offset += n[i];
            let mut cell = *filter;
            let mut ok = true;
            for (d, column) in dims.iter().zip(&codes) {
                ok &= cell.set_code(*d, column[i]);
            }
            if !ok {
                continue;
            }
            let median_ci = (n[i] >= DECILE_MIN && group.len() == n[i]).then(|| {
                let (lo, hi) = median_interval(n[i]);
                if group.is_sorted() {
                    (group[lo], group[hi])
                } else {
                    let mut sorted = group.to_vec();
                    sorted.sort_by(f64::total_cmp);
                    (sorted[lo], sorted[hi])
                }
            });
            let split = |g: &Option<GenderColumns>| g.as_ref().map(|(n, m)| (n[i] as usize, m[i]));
            let raw = Raw {
                n: n[i],
                mean: mean[i],
                p10: p10[i],
                p25: p25[i],
                median: median[i],
                p75: p75[i],
                p90: p90[i],
                additive: extras != Extras::None && additive[i],
                median_ci,
                women: split(&women),
                men: split(&men),
            };
            result.insert(cell, raw);
        }
        Ok(result)
    }
}

/// Applies the privacy rules to one group; `all` holds the groups of the
/// same aggregation (for the year before).
fn row(cell: &Cell, raw: Option<&Raw>, all: &HashMap<Cell, Raw>) -> Row {
    let raw = raw.copied().unwrap_or_default();
    let n = raw.n;
    let few = Figure::Hidden(Suppressed::FewRespondents);
    let amount = |min: usize, v: f64| if n >= min && v.is_finite() { Figure::Shown(round_100(v)) } else { few };
    let additive = |v: Figure<i64>| match v {
        Figure::Shown(_) if !raw.additive => Figure::Hidden(Suppressed::Complementary),
        other => other,
    };
    let median = amount(MEDIAN_MIN, raw.median);
    let median_ci = match raw.median_ci {
        Some((lo, hi)) if n >= DECILE_MIN => Figure::Shown((round_100(lo), round_100(hi))),
        _ => Figure::Hidden(Suppressed::FewRespondents),
    };
    let previous = Cell { year: cell.year - 1, ..*cell };
    let median_change_percent = match (median, all.get(&previous).filter(|r| r.n >= MEDIAN_MIN)) {
        (Figure::Shown(now), Some(before)) => {
            let before = round_100(before.median);
            Figure::Shown(((now as f64 / before as f64 - 1.0) * 1000.0).round() / 10.0)
        }
        _ => Figure::Hidden(Suppressed::NotComparable),
    };
    let published =
        |g: Option<(usize, f64)>| g.filter(|(n, m)| *n >= MEDIAN_MIN && m.is_finite()).map(|(_, m)| round_100(m));
    let women_median_percent_of_men = match (published(raw.women), published(raw.men)) {
        (Some(w), Some(m)) => Figure::Shown((w as f64 / m as f64 * 1000.0).round() / 10.0),
        _ => Figure::Hidden(Suppressed::NotComparable),
    };
    Row {
        cell: *cell,
        n: additive(if n >= MEDIAN_MIN { Figure::Shown(n as i64) } else { few }),
        mean: additive(amount(MEDIAN_MIN, raw.mean)),
        p10: amount(DECILE_MIN, raw.p10),
        p25: amount(QUARTILE_MIN, raw.p25),
        median,
        p75: amount(QUARTILE_MIN, raw.p75),
        p90: amount(DECILE_MIN, raw.p90),
        median_ci,
        median_change_percent,
        women_median_percent_of_men,
    }
}

/// The public order of rows: by each dimension's own order.
fn order_key(cell: &Cell, dims: &[Dimension]) -> Vec<i64> {
    dims.iter()
        .map(|d| match d {
            Dimension::Year => i64::from(cell.year),
            Dimension::Role => cell.role.map_or(-1, |v| v as i64),
            Dimension::Sector => cell.sector.map_or(-1, |v| v as i64),
            Dimension::County => cell.county.and_then(|c| c.parse().ok()).unwrap_or(-1),
            Dimension::Gender => cell.gender.map_or(-1, |v| v as i64),
            Dimension::Experience => cell.experience.map_or(-1, |v| v as i64),
            Dimension::Age => cell.age.map_or(-1, |v| v as i64),
        })
        .collect()
}

/// The 0-based ranks `(lo, hi)` of the order statistics that bound a 95 %
/// interval for the median of `n` values: the largest `j` with
/// P(X < j) ≤ 2.5 % for X ~ Bin(n, ½), and its mirror (at least the first
/// and last value).
///
/// Exact: it starts from the normal approximation and steps to the exact
/// rank, summing the binomial tail from the candidate down (in log space,
/// with exact log-factorials below 256 and Stirling's series above), so a
/// group of a million costs a few thousand terms, not a million.
pub fn median_interval(n: usize) -> (usize, usize) {
    if n == 0 {
        return (0, 0);
    }
    let nf = n as f64;
    let mut j = ((nf / 2.0 - 0.98 * nf.sqrt() + 0.5).floor().max(0.0) as usize).min(n);
    while j > 0 && binomial_below(n, j) > 0.025 {
        j -= 1;
    }
    while j < n && binomial_below(n, j + 1) <= 0.025 {
        j += 1;
    }
    let j = j.max(1);
    (j - 1, n - j)
}

/// P(X < j) for X ~ Bin(n, ½) and 1 ≤ j ≤ n.
fn binomial_below(n: usize, j: usize) -> f64 {
    let mut k = j - 1;
    let mut term = (ln_factorial(n) - ln_factorial(k) - ln_factorial(n - k) - n as f64 * std::f64::consts::LN_2).exp();
    let mut sum = 0.0;
    loop {
        sum += term;
        if k == 0 || term <= sum * 1e-17 {
            return sum;
        }
        // P(X = k − 1) / P(X = k) = k / (n − k + 1)
        term *= k as f64 / (n - k + 1) as f64;
        k -= 1;
    }
}

/// ln(n!).
fn ln_factorial(n: usize) -> f64 {
    static SMALL: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    let small = SMALL.get_or_init(|| {
        let mut t = vec![0.0; 256];
        for k in 1..256 {
            t[k] = t[k - 1] + (k as f64).ln();
        }
        t
    });
    if n < small.len() {
        return small[n];
    }
    let x = n as f64;
    x * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI * x).ln() + 1.0 / (12.0 * x) - 1.0 / (360.0 * x.powi(3))
        + 1.0 / (1260.0 * x.powi(5))
}

/// Binary-searchable position of `salary` among published percentiles.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Position {
    /// Between two published percentiles: the interpolated percentile.
    Percentile { percentile: u32 },
    /// Below the lowest published percentile.
    Below { percentile: u32 },
    /// Above the highest published percentile.
    Above { percentile: u32 },
}

/// Where `salary` falls among a row's published percentiles (linear
/// between them; nothing is inferred beyond the outermost shown one).
pub fn position(row: &Row, salary: f64) -> Option<Position> {
    let points: Vec<(u32, f64)> = [(10, row.p10), (25, row.p25), (50, row.median), (75, row.p75), (90, row.p90)]
        .into_iter()
        .filter_map(|(p, f)| f.shown().map(|v| (p, v as f64)))
        .collect();
    if points.len() < 2 {
        return None;
    }
    let (first, last) = (points[0], points[points.len() - 1]);
    if salary < first.1 {
        return Some(Position::Below { percentile: first.0 });
    }
    if salary > last.1 {
        return Some(Position::Above { percentile: last.0 });
    }
    for w in points.windows(2) {
        let ((pa, a), (pb, b)) = (w[0], w[1]);
        if salary <= b {
            let t = if b > a { (salary - a) / (b - a) } else { 0.5 };
            return Some(Position::Percentile { percentile: (f64::from(pa) + t * f64::from(pb - pa)).round() as u32 });
        }
    }
    Some(Position::Above { percentile: last.0 })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use rand::{Rng, SeedableRng};

    use super::*;

    fn response(year: i32, role: Role, sector: Sector, gender: Gender, salary: u32) -> Response {
        Response {
            year,
            role,
            sector,
            county_code: "01",
            gender,
            age: 40,
            experience_years: 8,
            monthly_salary_sek: salary,
            extent_percent: 100,
            specialisation: None,
            is_manager: false,
        }
    }

    #[test]
    fn percentiles_are_type_7_and_rounded_to_hundreds() {
        // 30 000, 31 000 … 39 000: P25 at h = 9 × 0.25 = 2.25 → 32 250.
        let rows: Vec<Response> = (0..10)
            .map(|i| response(2025, Role::Upphandlare, Sector::Kommun, Gender::Kvinna, 30_000 + 1_000 * i))
            .collect();
        let data = Dataset::new(rows).unwrap();
        let t = data.stats(&StatsQuery::default()).unwrap();
        assert_eq!(t.total.n, Figure::Shown(10));
        assert_eq!(t.total.mean, Figure::Shown(34_500));
        assert_eq!(t.total.p25, Figure::Shown(32_300));
        assert_eq!(t.total.median, Figure::Shown(34_500));
        assert_eq!(t.total.p75, Figure::Shown(36_800));
        assert_eq!(t.total.p10, Figure::Hidden(Suppressed::FewRespondents));
        assert_eq!(t.total.median_ci, Figure::Hidden(Suppressed::FewRespondents));
    }

    #[test]
    fn part_time_is_converted_to_full_time_before_any_statistic() {
        let mut rows: Vec<Response> =
            (0..5).map(|_| response(2025, Role::Upphandlare, Sector::Kommun, Gender::Kvinna, 40_000)).collect();
        rows[0].monthly_salary_sek = 20_000;
        rows[0].extent_percent = 50;
        let data = Dataset::new(rows).unwrap();
        assert_eq!(data.stats(&StatsQuery::default()).unwrap().total.mean, Figure::Shown(40_000));
    }

    #[test]
    fn the_median_interval_uses_exact_binomial_ranks() {
        // Published tables: n = 21 → 6th and 16th, n = 100 → 40th and 61st.
        assert_eq!(median_interval(21), (5, 15));
        assert_eq!(median_interval(100), (39, 60));
    }

    /// The definition, summed from P(X = 0) upwards: slow but plain.
    fn naive_median_interval(n: usize) -> (usize, usize) {
        let nf = n as f64;
        let mut log_pmf = -nf * std::f64::consts::LN_2;
        let (mut cdf, mut j) = (0.0, 0);
        for k in 0..n {
            if cdf + log_pmf.exp() > 0.025 {
                break;
            }
            cdf += log_pmf.exp();
            j = k + 1;
            log_pmf += ((nf - k as f64) / (k as f64 + 1.0)).ln();
        }
        let j = j.max(1);
        (j - 1, n - j)
    }

    #[test]
    fn the_fast_median_interval_agrees_with_the_definition() {
        for n in (1..=3_000).chain([4_999, 10_000, 65_537, 250_000, 1_000_003]) {
            assert_eq!(median_interval(n), naive_median_interval(n), "n = {n}");
        }
    }

    #[test]
    fn frame_codes_round_trip_for_every_value() {
        let r = response(2025, Role::Annan, Sector::Konsult, Gender::UppgiftSaknas, 40_000);
        for d in Dimension::ALL {
            let mut cell = Cell { year: 2025, ..Cell::default() };
            assert!(cell.set_code(d, code_of(d, &r)), "{d:?}");
            assert!(cell.contains(&r), "{d:?}");
            assert_eq!(cell.code(d), Some(code_of(d, &r)));
        }
        for (i, role) in Role::ALL.iter().enumerate() {
            assert_eq!(*role as usize, i);
        }
        let mut cell = Cell::default();
        assert!(!cell.set_code(Dimension::Role, 99));
        assert!(!cell.set_code(Dimension::County, 2), "there is no county 02");
    }

    #[test]
    fn fifteen_with_eleven_women_hides_the_womens_count_and_mean() {
        let mut rows: Vec<Response> = (0..11)
            .map(|i| response(2025, Role::Upphandlare, Sector::Kommun, Gender::Kvinna, 40_000 + 500 * i))
            .collect();
        rows.extend((0..4).map(|i| response(2025, Role::Upphandlare, Sector::Kommun, Gender::Man, 50_000 + 500 * i)));
        let data = Dataset::new(rows).unwrap();
        let t = data.stats(&StatsQuery { group_by: vec![Dimension::Gender], ..Default::default() }).unwrap();
        assert_eq!(t.total.n, Figure::Shown(15));
        assert!(t.total.mean.shown().is_some());
        let women = t.rows.iter().find(|r| r.cell.gender == Some(Gender::Kvinna)).unwrap();
        assert_eq!(women.n, Figure::Hidden(Suppressed::Complementary));
        assert_eq!(women.mean, Figure::Hidden(Suppressed::Complementary));
        assert!(women.median.shown().is_some(), "a median of 11 is not additive and may show");
        assert!(t.rows.iter().all(|r| r.cell.gender != Some(Gender::Man)), "four men: no row, as for none");
    }

    /// A group of 1–4 answers exactly as an empty one: no row in a grouping,
    /// and a total hidden for the same reason, so nobody can tell that a
    /// filter matched someone.
    #[test]
    fn a_small_group_answers_exactly_like_an_empty_one() {
        let mut rows: Vec<Response> = (0..30)
            .map(|i| response(2025, Role::Upphandlare, Sector::Kommun, Gender::Kvinna, 40_000 + 100 * i))
            .collect();
        rows.push(response(2025, Role::Inkopare, Sector::Stat, Gender::Man, 61_000));
        let data = Dataset::new(rows).unwrap();
        let one = Cell { role: Some(Role::Inkopare), ..Cell::default() };
        let none = Cell { role: Some(Role::Upphandlingschef), ..Cell::default() };
        for group_by in
            [vec![], vec![Dimension::Sector], vec![Dimension::Gender, Dimension::Sector], vec![Dimension::Year]]
        {
            let a = data.stats(&StatsQuery { group_by: group_by.clone(), filter: one, ..Default::default() }).unwrap();
            let b = data.stats(&StatsQuery { group_by: group_by.clone(), filter: none, ..Default::default() }).unwrap();
            assert!(a.rows.is_empty() && b.rows.is_empty(), "{group_by:?}: {:?} / {:?}", a.rows, b.rows);
            let hidden = |r: &Row| {
                (
                    r.n,
                    r.mean,
                    r.p10,
                    r.p25,
                    r.median,
                    r.p75,
                    r.p90,
                    r.median_ci.reason(),
                    r.median_change_percent.reason(),
                    r.women_median_percent_of_men.reason(),
                )
            };
            assert_eq!(hidden(&a.total), hidden(&b.total), "{group_by:?}");
        }
        // Grouped by role, the one inköpare is not a row either.
        let t = data.stats(&StatsQuery { group_by: vec![Dimension::Role], ..Default::default() }).unwrap();
        assert_eq!(t.rows.len(), 1);
    }

    /// The guarantee, checked from the outside: over every answer to every
    /// grouping (up to two dimensions) and filter on one dimension, two
    /// respondents in exactly the same published counts can never be told
    /// apart by sums and differences of them. So every class of
    /// indistinguishable respondents must hold at least 5 people.
    #[test]
    fn no_combination_of_published_counts_isolates_fewer_than_five() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut rows = Vec::new();
        for year in [2024, 2025] {
            for _ in 0..400 {
                let role = Role::ALL[[0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8][rng.random_range(0..12)]];
                let sector = Sector::ALL[[0, 0, 0, 1, 2, 2, 3, 4, 5][rng.random_range(0..9)]];
                let gender = Gender::ALL[[0, 0, 0, 1, 1, 2, 3][rng.random_range(0..7)]];
                let mut r = response(year, role, sector, gender, rng.random_range(30_000..70_000));
                r.county_code = ["01", "14", "12", "03", "25"][rng.random_range(0..5)];
                r.age = rng.random_range(25..65);
                r.experience_years = rng.random_range(0..=(r.age - 22).min(30));
                rows.push(r);
            }
        }
        let data = Dataset::new(rows.clone()).unwrap();
        let dims = Dimension::WITHIN_YEAR;
        let mut groupings: Vec<Vec<Dimension>> = vec![vec![]];
        for (i, a) in dims.iter().enumerate() {
            groupings.push(vec![*a]);
            for b in &dims[i + 1..] {
                groupings.push(vec![*a, *b]);
            }
        }
        let mut filters = vec![Cell::default()];
        for role in [Role::Upphandlare, Role::Inkopare, Role::Annan] {
            filters.push(Cell { role: Some(role), ..Cell::default() });
        }
        for sector in [Sector::Kommun, Sector::Stat] {
            filters.push(Cell { sector: Some(sector), ..Cell::default() });
        }
        filters.push(Cell { gender: Some(Gender::Man), ..Cell::default() });
        // Every published count, as the set of respondents it covers.
        let mut published: Vec<Cell> = Vec::new();
        let mut shown = 0;
        for year in [2024, 2025] {
            for filter in &filters {
                for group_by in &groupings {
                    let t = data
                        .stats(&StatsQuery { year: Some(year), group_by: group_by.clone(), filter: *filter })
                        .unwrap();
                    for row in std::iter::once(&t.total).chain(&t.rows) {
                        if let Figure::Shown(n) = row.n {
                            assert_eq!(n as usize, rows.iter().filter(|r| row.cell.contains(r)).count());
                            assert!(row.mean.shown().is_some());
                            published.push(row.cell);
                            shown += 1;
                        } else {
                            assert!(row.mean.shown().is_none(), "a mean without its count");
                        }
                    }
                }
            }
        }
        assert!(shown > 100, "the rule must leave plenty to publish, not hide everything ({shown})");
        published.sort_by_key(|c| format!("{c:?}"));
        published.dedup();
        let mut classes: HashMap<Vec<bool>, usize> = HashMap::new();
        for r in &rows {
            *classes.entry(published.iter().map(|c| c.contains(r)).collect()).or_default() += 1;
        }
        for (signature, size) in classes {
            if signature.iter().any(|b| *b) {
                assert!(size >= 5, "{size} respondents can be isolated");
            }
        }
    }

    #[test]
    fn the_change_and_the_gender_ratio_use_published_medians_only() {
        let mut rows = Vec::new();
        for (year, base) in [(2024, 40_000), (2025, 42_000)] {
            for i in 0..10 {
                rows.push(response(year, Role::Upphandlare, Sector::Kommun, Gender::Kvinna, base + 100 * i));
                rows.push(response(year, Role::Upphandlare, Sector::Kommun, Gender::Man, base + 2_000 + 100 * i));
            }
        }
        rows.push(response(2025, Role::Inkopare, Sector::Kommun, Gender::Kvinna, 39_000));
        let data = Dataset::new(rows).unwrap();
        let t = data.stats(&StatsQuery { group_by: vec![Dimension::Role], ..Default::default() }).unwrap();
        let upph = t.rows.iter().find(|r| r.cell.role == Some(Role::Upphandlare)).unwrap();
        // medians 41 450 → 43 450 (rounded 41 500 → 43 500): +4.8 %
        assert_eq!(upph.median_change_percent, Figure::Shown(4.8));
        // women 42 450 → 42 500; men 44 450 → 44 500: 95.5 %
        assert_eq!(upph.women_median_percent_of_men, Figure::Shown(95.5));
        assert!(t.rows.iter().all(|r| r.cell.role != Some(Role::Inkopare)), "one inköpare: no row");
        let ink = data
            .stats(&StatsQuery { filter: Cell { role: Some(Role::Inkopare), ..Cell::default() }, ..Default::default() })
            .unwrap();
        assert_eq!(ink.total.median, Figure::Hidden(Suppressed::FewRespondents));
        assert_eq!(ink.total.median_change_percent, Figure::Hidden(Suppressed::NotComparable));
    }

    #[test]
    fn a_salary_is_placed_between_published_percentiles_only() {
        let row = Row {
            cell: Cell::default(),
            n: Figure::Shown(30),
            mean: Figure::Shown(45_000),
            p10: Figure::Hidden(Suppressed::FewRespondents),
            p25: Figure::Shown(40_000),
            median: Figure::Shown(45_000),
            p75: Figure::Shown(50_000),
            p90: Figure::Hidden(Suppressed::FewRespondents),
            median_ci: Figure::Hidden(Suppressed::FewRespondents),
            median_change_percent: Figure::Hidden(Suppressed::NotComparable),
            women_median_percent_of_men: Figure::Hidden(Suppressed::NotComparable),
        };
        assert_eq!(position(&row, 42_500.0), Some(Position::Percentile { percentile: 38 }));
        assert_eq!(position(&row, 45_000.0), Some(Position::Percentile { percentile: 50 }));
        assert_eq!(position(&row, 39_000.0), Some(Position::Below { percentile: 25 }));
        assert_eq!(position(&row, 60_000.0), Some(Position::Above { percentile: 75 }));
        let few = Row {
            p25: Figure::Hidden(Suppressed::FewRespondents),
            p75: Figure::Hidden(Suppressed::FewRespondents),
            ..row
        };
        assert_eq!(position(&few, 45_000.0), None);
    }
}
