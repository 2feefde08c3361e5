//! Lönestatistik as the API and the pages use it: the latest survey's data
//! set (kept between requests), statistics tables computed off the async
//! threads, importing a survey file, where a salary stands in its group,
//! and the market band shown with a job ad.

use std::sync::Arc;

use platsen_jobs::Store;
use platsen_salary::stats::position;
use platsen_salary::{Cell, Dataset, Position, Row, StatsError, StatsQuery, Table};
use platsen_taxonomy::Role;
use platsen_taxonomy::survey::Sector;
use sha2::{Digest, Sha256};

use crate::App;

/// The largest survey file accepted.
pub const MAX_SURVEY_BYTES: usize = 20 * 1024 * 1024;

/// Why statistics could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SalaryError {
    /// No survey has been imported.
    #[error("no survey imported")]
    NoData,
    /// No survey for that year.
    #[error("no survey for {0}")]
    NoYear(i32),
    #[error(transparent)]
    Store(#[from] platsen_jobs::Error),
    /// Computing failed (a bug; logged).
    #[error("salary statistics failed: {0}")]
    Failed(String),
}

impl SalaryError {
    /// What the public reads, in Swedish.
    pub fn public_text(&self) -> String {
        match self {
            SalaryError::NoData => "Ingen löneenkät har importerats ännu.".into(),
            SalaryError::NoYear(y) => format!("Det finns ingen enkät för {y}."),
            SalaryError::Store(_) | SalaryError::Failed(_) => {
                "Lönestatistiken kunde inte hämtas just nu. Försök igen om en stund.".into()
            }
        }
    }
}

impl From<StatsError> for SalaryError {
    fn from(e: StatsError) -> Self {
        match e {
            StatsError::NoData => SalaryError::NoData,
            StatsError::NoYear(y) => SalaryError::NoYear(y),
            StatsError::Polars(e) => failed("salary statistics failed", &e),
        }
    }
}

fn failed(what: &str, e: &dyn std::fmt::Display) -> SalaryError {
    tracing::error!(error = %e, "{what}");
    SalaryError::Failed(format!("{what}: {e}"))
}

/// The statistics of the latest import, rebuilt when another is imported
/// (by any instance: the import id is read from the database).
#[derive(Default)]
pub struct SalaryData {
    current: tokio::sync::Mutex<Option<Current>>,
    /// The data set and when it was last checked, for the many readers that
    /// need not check again (every ad's page asks): a read lock, where
    /// `current` would queue them all behind one another.
    fresh: std::sync::RwLock<Option<(std::time::Instant, Option<Arc<Dataset>>)>>,
}

struct Current {
    generation: i64,
    data: Option<Arc<Dataset>>,
    checked_at: std::time::Instant,
}

/// How long the newest import id read from the database is trusted. An
/// import through this process is seen at once; one through another
/// instance within this time.
const RECHECK: std::time::Duration = std::time::Duration::from_secs(2);

impl std::fmt::Debug for SalaryData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SalaryData")
    }
}

impl SalaryData {
    /// The current data set, or `None` before the first import.
    async fn dataset(&self, store: &Store) -> Result<Option<Arc<Dataset>>, SalaryError> {
        if let Some((checked_at, data)) = self.fresh.read().unwrap_or_else(|e| e.into_inner()).as_ref()
            && checked_at.elapsed() < RECHECK
        {
            return Ok(data.clone());
        }
        let mut current = self.current.lock().await;
        if let Some(c) = current.as_ref()
            && c.checked_at.elapsed() < RECHECK
        {
            return Ok(c.data.clone());
        }
        let generation = store.salary_generation().await?;
        if let Some(c) = current.as_mut()
            && c.generation == generation
        {
            c.checked_at = std::time::Instant::now();
            self.set_fresh(c);
            return Ok(c.data.clone());
        }
        let data = if generation == 0 {
            None
        } else {
            let rows = store.salary_responses().await?;
            let data = tokio::task::spawn_blocking(move || Dataset::new(rows))
                .await
                .map_err(|e| failed("building the salary data set panicked", &e))?
                .map_err(|e| failed("building the salary data set failed", &e))?;
            Some(Arc::new(data))
        };
        let c = current.insert(Current { generation, data: data.clone(), checked_at: std::time::Instant::now() });
        self.set_fresh(c);
        Ok(data)
    }

    fn set_fresh(&self, c: &Current) {
        *self.fresh.write().unwrap_or_else(|e| e.into_inner()) = Some((c.checked_at, c.data.clone()));
    }

    /// Forgets the data set (after an import through this process).
    async fn invalidate(&self) {
        let mut current = self.current.lock().await;
        *self.fresh.write().unwrap_or_else(|e| e.into_inner()) = None;
        *current = None;
    }
}

/// Why a survey file was not imported.
#[derive(Debug)]
pub enum ImportFailure {
    /// The file has invalid rows; nothing was stored.
    Rejected(platsen_salary::import::Rejected),
    /// The store refused it (the same file twice) or failed.
    Store(platsen_jobs::Error),
    /// The parser panicked (a bug; logged).
    Panicked,
}

/// Where a salary stands in its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Between the lowest and highest published percentiles: at this one.
    At(u32),
    /// Below the lowest published percentile.
    Below(u32),
    /// Above the highest published percentile.
    Above(u32),
    /// Too few answered to compare.
    Unknown,
}

impl Standing {
    fn of(p: Option<Position>) -> Standing {
        match p {
            Some(Position::Percentile { percentile }) => Standing::At(percentile),
            Some(Position::Below { percentile }) => Standing::Below(percentile),
            Some(Position::Above { percentile }) => Standing::Above(percentile),
            None => Standing::Unknown,
        }
    }

    /// The percentile, when the salary lies within the published ones.
    pub fn percentile(self) -> Option<u32> {
        match self {
            Standing::At(p) => Some(p),
            _ => None,
        }
    }
}

/// A salary compared with its group.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub standing: Standing,
    /// The answer in Swedish.
    pub text: String,
}

/// Where `salary` stands in `row`, the group `label` of `year`.
pub fn compare(row: &Row, salary: f64, label: &str, year: i32) -> Comparison {
    let kr = platsen_salary::format::thousands(salary.round() as i64);
    let standing = Standing::of(position(row, salary));
    let text = match standing {
        Standing::At(p) => format!("{kr} kr är mer än ungefär {p} % i gruppen tjänar ({label}, {year})."),
        Standing::Below(p) => format!("{kr} kr är lägre än P{p}: under de lägsta {p} % i gruppen ({label})."),
        Standing::Above(p) => {
            format!("{kr} kr är högre än P{p}: över de högsta {} % i gruppen ({label}).", 100 - p)
        }
        Standing::Unknown => format!("För få svar i gruppen ({label}) för att jämföra."),
    };
    Comparison { standing, text }
}

/// "Jämför din lön" against the group that fits the reader: the answer,
/// the group it was made in, and the group asked for when that one was too
/// small to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerComparison {
    pub comparison: Comparison,
    /// The group compared with, and its published figures.
    pub used: Cell,
    pub row: Row,
    /// The group asked for, when it differs from `used`.
    pub fell_back_from: Option<Cell>,
}

/// The groups to try for `asked`, nearest first: as asked, then without
/// the age band, the experience band, the county, the sector and the role
/// in turn (each step only when that part was given), ending with everyone.
pub fn peer_groups(asked: Cell) -> Vec<Cell> {
    let mut out = vec![asked];
    let mut cell = asked;
    let steps: [fn(&mut Cell) -> bool; 5] = [
        |c| c.age.take().is_some(),
        |c| c.experience.take().is_some(),
        |c| c.county.take().is_some(),
        |c| c.sector.take().is_some(),
        |c| c.role.take().is_some(),
    ];
    for step in steps {
        if step(&mut cell) {
            out.push(cell);
        }
    }
    out
}

/// The market salary of a role, shown with each job ad.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketBand {
    pub role: Role,
    /// The county the band is narrowed to, when that group is published.
    pub county_code: Option<&'static str>,
    /// The employer's sector, when the band is narrowed to it.
    pub sector: Option<Sector>,
    /// "Upphandlare inom kommunal sektor i Stockholms län",
    /// "Upphandlare i Stockholms län" or "Upphandlare i hela landet".
    pub label: String,
    pub year: i32,
    /// Full-time monthly salary, kronor, rounded to 100 kr; `None` where
    /// too few answered.
    pub p10: Option<i64>,
    pub p25: Option<i64>,
    pub median: Option<i64>,
    pub p75: Option<i64>,
    pub p90: Option<i64>,
    /// Where the ad's offered monthly range sits in the band.
    pub offered: Option<Offered>,
    /// "Källa: Platsen lönestatistik 2025".
    pub source: String,
}

/// Where an offered salary range sits in the market band.
#[derive(Debug, Clone, PartialEq)]
pub struct Offered {
    /// Percentile of the lower end (`None` outside the published percentiles).
    pub min_percentile: Option<u32>,
    pub max_percentile: Option<u32>,
    /// In Swedish, e.g. "Lönespannet ligger mellan percentil 40 och 75 för rollen."
    pub text: String,
}

/// Where an amount sits, as a phrase after "ligger": "vid percentil 40",
/// "under P25", "över P75".
fn position_phrase(s: Standing) -> String {
    match s {
        Standing::At(p) => format!("vid percentil {p}"),
        Standing::Below(p) => format!("under P{p}"),
        Standing::Above(p) => format!("över P{p}"),
        Standing::Unknown => "utanför det som går att visa".into(),
    }
}

/// A sector as it reads in a band's label: "Upphandlare inom kommunal sektor".
fn sector_phrase(sector: Sector) -> &'static str {
    match sector {
        Sector::Kommun => "kommunal sektor",
        Sector::Region => "regional sektor",
        Sector::Stat => "statlig sektor",
        Sector::OffentligtBolag => "offentligt ägda bolag",
        Sector::Privat => "privat sektor",
        Sector::Konsult => "konsultbranschen",
    }
}

impl App {
    /// The current data set.
    pub async fn salary_dataset(&self) -> Result<Arc<Dataset>, SalaryError> {
        self.salary.dataset(&self.store).await?.ok_or(SalaryError::NoData)
    }

    /// The answer to `query`, from the cache or computed off the async threads.
    pub async fn salary_table(&self, query: StatsQuery) -> Result<(Arc<Dataset>, Arc<Table>), SalaryError> {
        let data = self.salary_dataset().await?;
        if let Some(t) = data.cached(&query) {
            return Ok((data, t));
        }
        let d = data.clone();
        let table = tokio::task::spawn_blocking(move || d.stats(&query))
            .await
            .map_err(|e| failed("salary statistics panicked", &e))??;
        Ok((data, table))
    }

    /// Where `salary` stands among the reader's peers (`asked`, in its
    /// year): in the nearest group of [`peer_groups`] whose percentiles are
    /// published, saying which. The salary is neither stored nor logged.
    pub async fn compare_with_peers(&self, asked: Cell, salary: f64) -> Result<PeerComparison, SalaryError> {
        let groups = peer_groups(asked);
        let last = groups.len() - 1;
        for (i, cell) in groups.iter().enumerate() {
            let query = StatsQuery { year: Some(asked.year), group_by: vec![], filter: *cell };
            let (_, table) = self.salary_table(query).await?;
            // The group asked for, or the nearest with percentiles to place
            // the salary among; everyone when none has (then too few answered).
            if position(&table.total, salary).is_some() || i == last {
                return Ok(PeerComparison {
                    comparison: compare(&table.total, salary, &cell.selection_label(), asked.year),
                    used: *cell,
                    row: table.total.clone(),
                    fell_back_from: (i > 0).then_some(asked),
                });
            }
        }
        unreachable!("the last group answers")
    }

    /// Parses, validates and stores a survey file, all or nothing, as
    /// imported at `now` (which also says which years are in the past);
    /// `progress` hears how many answers are stored of how many.
    pub async fn import_survey(
        &self,
        bytes: Vec<u8>,
        filename: Option<String>,
        now: chrono::DateTime<chrono::Utc>,
        progress: impl Fn(usize, usize) + Send,
    ) -> Result<platsen_jobs::store::SalaryImport, ImportFailure> {
        let file_sha256 = hex::encode(Sha256::digest(&bytes));
        let latest_year = chrono::Datelike::year(&now.with_timezone(&chrono_tz::Europe::Stockholm));
        let rows = tokio::task::spawn_blocking(move || platsen_salary::import::parse(&bytes, latest_year))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "parsing a salary file panicked");
                ImportFailure::Panicked
            })?
            .map_err(ImportFailure::Rejected)?;
        let filename =
            filename.map(|f| f.trim().to_owned()).filter(|f| !f.is_empty()).unwrap_or_else(|| "enkät.csv".into());
        let import = self
            .store
            .import_salaries(&file_sha256, &filename, &rows, now, progress)
            .await
            .map_err(ImportFailure::Store)?;
        self.salary.invalidate().await;
        Ok(import)
    }

    /// The market band of `role` in the latest survey, narrowed to the
    /// employer's sector and the ad's county as far as those groups'
    /// quartiles are published: sector and county, then sector, then
    /// county, then the whole country. `None` without a survey or when not
    /// even the national median is published. Failures only leave it out.
    pub async fn market_band(
        &self,
        role: Role,
        sector: Option<Sector>,
        county_code: &'static str,
        offered: Option<(Option<i64>, Option<i64>)>,
    ) -> Option<MarketBand> {
        let data = self.salary.dataset(&self.store).await.ok()??;
        let table_for = async |filter: Cell| -> Option<Arc<Table>> {
            let query = StatsQuery { year: None, group_by: vec![], filter };
            match data.cached(&query) {
                Some(t) => Some(t),
                None => {
                    let d = data.clone();
                    tokio::task::spawn_blocking(move || d.stats(&query)).await.ok()?.ok()
                }
            }
        };
        let national = Cell { role: Some(role), ..Cell::default() };
        let mut candidates = Vec::new();
        if let Some(sector) = sector {
            candidates.push(Cell { sector: Some(sector), county: Some(county_code), ..national });
            candidates.push(Cell { sector: Some(sector), ..national });
        }
        candidates.push(Cell { county: Some(county_code), ..national });
        let mut chosen = None;
        for cell in candidates {
            if let Some(t) = table_for(cell).await.filter(|t| t.total.p25.shown().is_some()) {
                chosen = Some((t, cell));
                break;
            }
        }
        let (table, cell) = match chosen {
            Some(found) => found,
            None => (table_for(national).await?, national),
        };
        let row = &table.total;
        row.median.shown()?;
        let place = cell
            .county
            .and_then(platsen_taxonomy::county)
            .map_or_else(|| "hela landet".to_owned(), |c| c.name.to_owned());
        let label = match cell.sector {
            Some(sector) => format!("{} inom {} i {place}", role.name_sv(), sector_phrase(sector)),
            None => format!("{} i {place}", role.name_sv()),
        };
        let offered = offered.and_then(|(min, max)| {
            let (lo, hi) = (min.or(max)?, max.or(min)?);
            let (a, b) = (Standing::of(position(row, lo as f64)), Standing::of(position(row, hi as f64)));
            let text = match (a.percentile(), b.percentile()) {
                _ if lo == hi => format!("Den erbjudna lönen ligger {} för rollen.", position_phrase(a)),
                (Some(x), Some(y)) => format!("Lönespannet ligger mellan percentil {x} och {y} för rollen."),
                _ => format!(
                    "Lönespannets nedre gräns ligger {} och den övre {} för rollen.",
                    position_phrase(a),
                    position_phrase(b)
                ),
            };
            Some(Offered { min_percentile: a.percentile(), max_percentile: b.percentile(), text })
        });
        Some(MarketBand {
            role,
            county_code: cell.county,
            sector: cell.sector,
            label,
            year: table.year,
            p10: row.p10.shown(),
            p25: row.p25.shown(),
            median: row.median.shown(),
            p75: row.p75.shown(),
            p90: row.p90.shown(),
            offered,
            source: format!("Källa: Platsen lönestatistik {}", table.year),
        })
    }
}

#[cfg(test)]
mod tests {
    use platsen_salary::Cell;
    use platsen_taxonomy::Role;
    use platsen_taxonomy::survey::{AgeBand, ExperienceBand, Sector};

    #[test]
    fn peer_groups_widen_one_given_part_at_a_time() {
        let asked = Cell {
            year: 2025,
            role: Some(Role::Upphandlare),
            sector: Some(Sector::Kommun),
            county: Some("01"),
            experience: Some(ExperienceBand::From3),
            age: Some(AgeBand::From30),
            ..Default::default()
        };
        let groups = super::peer_groups(asked);
        assert_eq!(groups.len(), 6);
        assert_eq!(groups[0], asked);
        assert_eq!(groups[1], Cell { age: None, ..asked });
        assert_eq!(groups[2], Cell { age: None, experience: None, ..asked });
        assert_eq!(groups[3], Cell { county: None, ..groups[2] });
        assert_eq!(groups[5], Cell { year: 2025, ..Default::default() });
        // Only the parts given are dropped.
        let few = Cell { year: 2025, role: Some(Role::Inkopare), ..Default::default() };
        assert_eq!(super::peer_groups(few), vec![few, Cell { year: 2025, ..Default::default() }]);
    }
}
