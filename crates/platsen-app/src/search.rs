//! Searching open ads: the rules for a search's parameters (one set, for
//! the API, the pages, the feeds, the embed and saved searches), the
//! search's canonical address, its description in Swedish, and running it
//! on Meilisearch or the database.

use chrono::{DateTime, NaiveDate, Utc};
use platsen_jobs::model::{EmploymentType, RemoteMode};
use platsen_jobs::search::{SearchQuery, SearchResults, SearchSort, Suggestion};
use platsen_jobs::{FieldError, IdOrSlug, JobFilter, JobSort};
use platsen_taxonomy::Role;
use serde::Deserialize;

use crate::App;

/// The highest page number a search answers.
pub const MAX_PAGE: u32 = 1000;
/// The most hits on one page.
pub const MAX_PER_PAGE: u32 = 100;
/// Hits on a page unless asked otherwise (the search page always).
pub const PER_PAGE: u32 = 20;
/// The longest search text, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// An ad "closes soon" when its last application day is at most this many
/// days away.
pub const CLOSING_SOON_DAYS: i64 = 3;

/// The search page's path; a search's address is this and its query string.
pub const SEARCH_PATH: &str = "/jobb";

/// Whether an ad whose last application day is `deadline` closes soon, seen
/// on `today` (in Sweden).
pub fn closing_soon(deadline: NaiveDate, today: NaiveDate) -> bool {
    deadline <= today + chrono::Duration::days(CLOSING_SOON_DAYS)
}

/// A search as typed: every value text, checked by [`SearchForm::parse`],
/// so a bad value gets an answer that names it.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct SearchForm {
    pub q: Option<String>,
    pub role: Option<String>,
    pub county: Option<String>,
    pub municipality: Option<String>,
    pub employment_type: Option<String>,
    pub remote: Option<String>,
    pub employer: Option<String>,
    pub sort: Option<String>,
    pub page: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Checks a municipality code.
pub fn municipality(raw: &str) -> Result<String, FieldError> {
    platsen_taxonomy::municipality(raw).map(|m| m.code.to_owned()).ok_or_else(|| {
        FieldError::new("municipality", "unknown_municipality", "Okänd kommunkod (fyra siffror enligt SCB).")
    })
}

/// Checks a county code.
pub fn county(raw: &str) -> Result<String, FieldError> {
    platsen_taxonomy::county(raw)
        .map(|c| c.code.to_owned())
        .ok_or_else(|| FieldError::new("county", "unknown_county", "Okänd länskod (två siffror enligt SCB)."))
}

/// Checks an id or a slug given in `field`.
pub fn id_or_slug(field: &str, raw: &str) -> Result<IdOrSlug, FieldError> {
    IdOrSlug::parse(raw).ok_or_else(|| {
        FieldError::new(field, "invalid_identifier", "Ange ett id (siffror) eller ett adressnamn (a–z, 0–9, -).")
    })
}

/// Checks a page number.
pub fn page(raw: u32) -> Result<u32, FieldError> {
    if (1..=MAX_PAGE).contains(&raw) {
        Ok(raw)
    } else {
        Err(FieldError::new("page", "out_of_range", format!("Ett sidnummer från 1 till {MAX_PAGE}.")))
    }
}

/// Checks a search text.
pub fn words(raw: &str) -> Result<Option<String>, FieldError> {
    let q = raw.trim();
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(FieldError::new("q", "too_long", format!("Högst {MAX_QUERY_CHARS} tecken.")));
    }
    Ok((!q.is_empty()).then(|| q.to_owned()))
}

impl SearchForm {
    /// The checked search (page size [`PER_PAGE`]), or the first field that
    /// is wrong and why.
    pub fn parse(&self) -> Result<SearchQuery, FieldError> {
        let q = match nonempty(&self.q) {
            Some(raw) => words(raw)?,
            None => None,
        };
        let role = nonempty(&self.role)
            .map(|c| Role::from_code(c).ok_or_else(|| FieldError::new("role", "unknown_role", "Okänd roll.")))
            .transpose()?;
        let county = nonempty(&self.county).map(county).transpose()?;
        let municipality = nonempty(&self.municipality).map(municipality).transpose()?;
        let employment_type = nonempty(&self.employment_type)
            .map(|c| {
                EmploymentType::from_code(c).ok_or_else(|| {
                    FieldError::new("employment_type", "unknown_employment_type", "Okänd anställningsform.")
                })
            })
            .transpose()?;
        let remote = nonempty(&self.remote)
            .map(|c| {
                RemoteMode::from_code(c).ok_or_else(|| FieldError::new("remote", "unknown_remote", "Okänt värde."))
            })
            .transpose()?;
        let employer = nonempty(&self.employer).map(|raw| id_or_slug("employer", raw)).transpose()?;
        let sort = match nonempty(&self.sort) {
            None => SearchSort::Relevance,
            Some(code) => SearchSort::from_code(code).ok_or_else(|| {
                FieldError::new("sort", "invalid_sort", "Välj relevans, nyast eller sista ansökningsdag.")
            })?,
        };
        let page = match nonempty(&self.page) {
            None => 1,
            Some(raw) => page(raw.parse::<u32>().unwrap_or(0))?,
        };
        Ok(SearchQuery {
            q,
            filter: JobFilter {
                role,
                municipality_code: municipality,
                county_code: county,
                employment_type,
                remote,
                employer,
                sort: JobSort::Newest,
            },
            salary_min: None,
            published_after: None,
            sort,
            page,
            per_page: PER_PAGE,
        })
    }
}

/// The canonical query string of a search (what is chosen, in a fixed
/// order, `page` only past the first), without the `?`.
pub fn query_string(query: &SearchQuery, page: u32) -> String {
    let f = &query.filter;
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(q) = &query.q {
        pairs.push(("q", q.clone()));
    }
    if let Some(r) = f.role {
        pairs.push(("role", r.code().into()));
    }
    if let Some(c) = &f.county_code {
        pairs.push(("county", c.clone()));
    }
    if let Some(m) = &f.municipality_code {
        pairs.push(("municipality", m.clone()));
    }
    if let Some(e) = f.employment_type {
        pairs.push(("employment_type", e.code().into()));
    }
    if let Some(r) = f.remote {
        pairs.push(("remote", r.code().into()));
    }
    if let Some(e) = &f.employer {
        pairs.push(("employer", e.to_string()));
    }
    if query.sort != SearchSort::Relevance {
        pairs.push(("sort", query.sort.code().into()));
    }
    if page > 1 {
        pairs.push(("page", page.to_string()));
    }
    pairs.iter().map(|(k, v)| format!("{k}={}", url_encode(v))).collect::<Vec<_>>().join("&")
}

/// The search page's address for `query` at `page`: `/jobb?…`.
pub fn search_path(query: &SearchQuery, page: u32) -> String {
    match query_string(query, page) {
        qs if qs.is_empty() => SEARCH_PATH.to_owned(),
        qs => format!("{SEARCH_PATH}?{qs}"),
    }
}

/// Form encoding (`application/x-www-form-urlencoded`, space as `+`).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// What a search looks for (its words and codes, named in Swedish) and
/// where (a municipality's or county's name).
pub fn parts(query: &SearchQuery) -> (Vec<String>, Option<&'static str>) {
    let f = &query.filter;
    let mut what = Vec::new();
    // The words as the engines read them (letters and digits only), never
    // the text as typed: this names the search in mails anyone can ask for.
    if let Some(q) = &query.q {
        let words = platsen_jobs::search::terms(q);
        if !words.is_empty() {
            what.push(format!("”{}”", words.join(" ")));
        }
    }
    if let Some(r) = f.role {
        what.push(r.name_sv().to_lowercase());
    }
    if let Some(e) = f.employment_type {
        what.push(e.name_sv().to_lowercase());
    }
    if let Some(r) = f.remote {
        what.push(r.name_sv().to_lowercase());
    }
    let place = match (&f.municipality_code, &f.county_code) {
        (Some(m), _) => platsen_taxonomy::municipality(m).map(|m| m.name),
        (None, Some(c)) => platsen_taxonomy::county(c).map(|c| c.name),
        (None, None) => None,
    };
    (what, place)
}

/// What a search looks for, in Swedish: "”upphandlare”, inköpschef i Stockholms län".
pub fn describe(query: &SearchQuery) -> String {
    let (what, place) = parts(query);
    let mut text = if what.is_empty() { "alla lediga jobb".to_owned() } else { what.join(", ") };
    if let Some(p) = place {
        text.push_str(&format!(" i {p}"));
    }
    match &query.filter.employer {
        Some(IdOrSlug::Slug(s)) => text.push_str(&format!(" hos {s}")),
        Some(IdOrSlug::Id(id)) => text.push_str(&format!(" hos arbetsgivare {id}")),
        None => {}
    }
    text
}

/// Which engine answers searches, and how far the index lags.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchStatus {
    /// `meilisearch` or `database`: which engine answers searches now.
    pub engine: &'static str,
    pub meilisearch_configured: bool,
    /// Changes waiting to reach the index.
    pub outbox_pending: i64,
    /// Changes Meilisearch rejected for good.
    pub outbox_dead: i64,
    /// How long the oldest waiting change has waited.
    pub oldest_pending_seconds: Option<i64>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl App {
    /// A search, by Meilisearch when it is connected and answers, else by
    /// the built-in index.
    pub async fn search(&self, query: &SearchQuery, now: DateTime<Utc>) -> platsen_jobs::Result<SearchResults> {
        if let Some(search) = self.search.get() {
            match search.engine.search(query, now).await {
                Ok(r) => return Ok(r),
                Err(e) => tracing::warn!(error = %e, "meilisearch failed; answering from the built-in index"),
            }
        }
        self.builtin.search(&self.store, query, now).await
    }

    /// A page of the public list (open ads, filtered, featured first, in
    /// the filter's order), with the total.
    pub async fn public_jobs(
        &self,
        filter: &JobFilter,
        page: u32,
        per_page: u32,
        now: DateTime<Utc>,
    ) -> platsen_jobs::Result<platsen_jobs::model::Page<platsen_jobs::model::JobAd>> {
        self.builtin.list(&self.store, filter, page, per_page, now).await
    }

    /// Open ads like `ad`, at most `n`, never `ad` itself: the same role
    /// in the same county (any of its places') first, then in the neighbouring counties, then
    /// the same role anywhere, then the same employer's other ads. Each
    /// step lists newest first (featured ads first, as the list does).
    pub async fn similar_jobs(
        &self,
        ad: &platsen_jobs::model::JobAd,
        n: usize,
        now: DateTime<Utc>,
    ) -> platsen_jobs::Result<Vec<platsen_jobs::model::JobAd>> {
        // An ad in several places: each of its counties, then their neighbours.
        let counties = platsen_jobs::model::counties_of(ad.places());
        let in_county =
            |code: &str| JobFilter { role: Some(ad.role), county_code: Some(code.to_owned()), ..Default::default() };
        let mut codes: Vec<&str> = counties.iter().map(|c| c.code).collect();
        for c in &counties {
            for n in platsen_taxonomy::neighbouring_counties(c.code) {
                if !codes.contains(n) {
                    codes.push(n);
                }
            }
        }
        let mut filters: Vec<JobFilter> = codes.into_iter().map(in_county).collect();
        filters.push(JobFilter { role: Some(ad.role), ..Default::default() });
        filters.push(JobFilter { employer: Some(IdOrSlug::Id(ad.employer_id)), ..Default::default() });
        let mut out: Vec<platsen_jobs::model::JobAd> = Vec::new();
        for filter in filters {
            if out.len() >= n {
                break;
            }
            let page = self.public_jobs(&filter, 1, (n + 1) as u32, now).await?;
            for j in page.items {
                if out.len() < n && j.id != ad.id && !out.iter().any(|o| o.id == j.id) {
                    out.push(j);
                }
            }
        }
        Ok(out)
    }

    /// Typeahead for the search box, from the built-in index.
    pub async fn suggest(&self, text: &str, now: DateTime<Utc>) -> platsen_jobs::Result<Vec<Suggestion>> {
        self.builtin.suggest(&self.store, text, now).await
    }

    /// The state of the search sync.
    pub async fn search_status(&self) -> platsen_jobs::Result<SearchStatus> {
        let now = self.clock.now();
        let outbox = self.store.search_outbox_status().await?;
        let handle = self.search.get();
        let engine = match handle {
            Some(h) if h.engine.healthy().await => "meilisearch",
            _ => "database",
        };
        Ok(SearchStatus {
            engine,
            meilisearch_configured: self.search_configured,
            outbox_pending: outbox.pending,
            outbox_dead: outbox.dead,
            oldest_pending_seconds: outbox.oldest_pending_at.map(|t| (now - t).num_seconds().max(0)),
            last_success_at: handle.and_then(|h| h.status.last_success_at()),
            last_error: handle.and_then(|h| h.status.last_error()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &str) -> SearchForm {
        serde_urlencoded::from_str(pairs).unwrap()
    }

    #[test]
    fn the_canonical_address_carries_only_what_is_chosen_and_parses_back_to_the_same_search() {
        let q = form("q=inköp chef&role=upphandlare&county=01&municipality=&sort=deadline&page=3").parse().unwrap();
        let qs = query_string(&q, q.page);
        assert_eq!(qs, "q=ink%C3%B6p+chef&role=upphandlare&county=01&sort=deadline&page=3");
        assert_eq!(form(&qs).parse().unwrap(), q);
        assert_eq!(search_path(&form("").parse().unwrap(), 1), "/jobb");
    }

    #[test]
    fn every_bad_value_is_named_with_its_field() {
        for (pairs, field) in [
            ("role=kock", "role"),
            ("county=99", "county"),
            ("municipality=0000", "municipality"),
            ("employment_type=x", "employment_type"),
            ("remote=maybe", "remote"),
            ("employer=%3Cscript%3E", "employer"),
            ("sort=cheapest", "sort"),
            ("page=0", "page"),
            ("page=1001", "page"),
            ("page=-1", "page"),
            ("page=1e3", "page"),
        ] {
            assert_eq!(form(pairs).parse().unwrap_err().field, field, "{pairs}");
        }
        assert_eq!(form(&format!("q={}", "a".repeat(201))).parse().unwrap_err().field, "q");
        assert_eq!(form(&format!("page={MAX_PAGE}")).parse().unwrap().page, MAX_PAGE);
    }

    #[test]
    fn closing_soon_is_three_days_or_less() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        assert!(closing_soon(today + chrono::Duration::days(3), today));
        assert!(!closing_soon(today + chrono::Duration::days(4), today));
    }
}
