//! The Meilisearch index of open ads: settings, writes and queries.

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use meilisearch_sdk::client::Client;
use meilisearch_sdk::key::{Action, KeyBuilder};
use meilisearch_sdk::search::Selectors;
use meilisearch_sdk::settings::{FacetingSettings, PaginationSetting, Settings};
use meilisearch_sdk::task_info::TaskInfo;
use meilisearch_sdk::tasks::Task;
use platsen_jobs::IdOrSlug;
use platsen_jobs::model::{EmploymentType, RemoteMode, Salary, SalaryPeriod};
use platsen_jobs::search::{
    FacetCount, Facets, STOP_WORDS, SYNONYMS, SearchHit, SearchQuery, SearchResults, SearchSort, marked_html,
};
use platsen_taxonomy::Role;

use crate::http::Http;
use crate::{Error, JobDocument, Result};

/// How long one HTTP call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for Meilisearch to process one task.
const TASK_TIMEOUT: Duration = Duration::from_secs(120);

/// Where Meilisearch is.
#[derive(Clone, Debug)]
pub struct MeiliConfig {
    pub url: String,
    /// Used for administration only; queries use a key limited to search.
    pub master_key: String,
    pub index: String,
}

/// A connection to the index of open ads.
pub struct MeiliEngine {
    pub(crate) admin: Client<Http>,
    pub(crate) search: Client<Http>,
    pub(crate) index: String,
}

impl std::fmt::Debug for MeiliEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeiliEngine").field("index", &self.index).finish_non_exhaustive()
    }
}

pub(crate) async fn timed<T, E: Into<Error>>(fut: impl Future<Output = std::result::Result<T, E>>) -> Result<T> {
    match tokio::time::timeout(CALL_TIMEOUT, fut).await {
        Ok(r) => r.map_err(Into::into),
        Err(_) => Err(Error::Unreachable(format!("no answer within {CALL_TIMEOUT:?}"))),
    }
}

/// The facet dimensions, the document attribute each reads.
const FACETS: [&str; 6] = ["role", "county_code", "municipality_code", "employment_type", "remote", "employer_label"];

/// The index settings, applied idempotently before any document.
pub fn settings() -> Settings {
    let mut synonyms: HashMap<String, Vec<String>> = HashMap::new();
    for group in SYNONYMS {
        for word in *group {
            let others = group.iter().filter(|w| *w != word).map(|w| (*w).to_owned()).collect();
            synonyms.insert((*word).to_owned(), others);
        }
    }
    Settings::new()
        .with_searchable_attributes(["title", "role_name", "employer_name", "municipality", "county", "description"])
        .with_filterable_attributes([
            "role",
            "municipality_code",
            "county_code",
            "employment_type",
            "remote",
            "employer_id",
            "employer_slug",
            "employer_label",
            "salary_monthly",
            "published_at",
            "expires_at",
            "featured",
        ])
        .with_sortable_attributes(["published_at", "application_deadline", "salary_monthly"])
        // Featured ads first among the matches, then Meilisearch's own
        // rules, where `sort` applies a requested order.
        .with_ranking_rules(["featured_rank:desc", "words", "typo", "proximity", "attribute", "sort", "exactness"])
        .with_synonyms(synonyms)
        .with_stop_words(STOP_WORDS.iter().copied())
        .with_pagination(PaginationSetting { max_total_hits: 100_000 })
        .with_faceting(FacetingSettings { max_values_per_facet: 300, sort_facet_values_by: None })
}

/// A value in a filter expression: always quoted, backslashes and quotes
/// escaped. Values are validated codes and slugs already; this is the second
/// line of defence.
fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The filter for a query: open ads, plus the query's filters.
pub(crate) fn filter(q: &SearchQuery, now: DateTime<Utc>) -> String {
    let f = &q.filter;
    let mut conds = vec![format!("expires_at > {}", now.timestamp())];
    if let Some(r) = f.role {
        conds.push(format!("role = {}", quoted(r.code())));
    }
    if let Some(m) = &f.municipality_code {
        conds.push(format!("municipality_code = {}", quoted(m)));
    }
    if let Some(c) = &f.county_code {
        conds.push(format!("county_code = {}", quoted(c)));
    }
    if let Some(t) = f.employment_type {
        conds.push(format!("employment_type = {}", quoted(t.code())));
    }
    if let Some(r) = f.remote {
        conds.push(format!("remote = {}", quoted(r.code())));
    }
    match &f.employer {
        Some(IdOrSlug::Id(id)) => conds.push(format!("employer_id = {id}")),
        Some(IdOrSlug::Slug(s)) => conds.push(format!("employer_slug = {}", quoted(s))),
        None => {}
    }
    if let Some(min) = q.salary_min {
        conds.push(format!("salary_monthly >= {min}"));
    }
    if let Some(after) = q.published_after {
        conds.push(format!("published_at >= {}", after.timestamp()));
    }
    conds.join(" AND ")
}

impl MeiliEngine {
    /// Connects with the master key and makes (or finds) a key limited to
    /// search for queries.
    pub async fn connect(config: &MeiliConfig) -> Result<MeiliEngine> {
        let admin =
            Client::new_with_client(config.url.clone(), Some(&config.master_key), Http::new(&config.master_key)?);
        let keys = timed(admin.get_keys()).await?;
        let existing = keys.results.into_iter().find(|k| {
            k.name.as_deref() == Some("platsen-search") && k.actions == [Action::Search] && k.expires_at.is_none()
        });
        let search_key = match existing {
            Some(k) => k.key,
            None => {
                let mut builder = KeyBuilder::new();
                builder
                    .with_name("platsen-search")
                    .with_description("Platsen: search only")
                    .with_action(Action::Search)
                    .with_index("*");
                timed(admin.create_key(builder)).await?.key
            }
        };
        let search = Client::new_with_client(config.url.clone(), Some(&search_key), Http::new(&search_key)?);
        Ok(MeiliEngine { admin, search, index: config.index.clone() })
    }

    /// The search-only key queries use.
    pub fn search_key(&self) -> &str {
        self.search.get_api_key().unwrap_or_default()
    }

    pub fn index_name(&self) -> &str {
        &self.index
    }

    /// Whether Meilisearch answers.
    pub async fn healthy(&self) -> bool {
        timed(self.admin.health()).await.is_ok()
    }

    pub(crate) async fn wait_task(&self, task: TaskInfo) -> Result<()> {
        let done = tokio::time::timeout(
            TASK_TIMEOUT + CALL_TIMEOUT,
            task.wait_for_completion(&self.admin, Some(Duration::from_millis(25)), Some(TASK_TIMEOUT)),
        )
        .await
        .map_err(|_| Error::Unreachable("no answer while waiting for a task".into()))??;
        match done {
            Task::Succeeded { .. } => Ok(()),
            Task::Failed { content } => Err(Error::from(meilisearch_sdk::errors::Error::Meilisearch(content.error))),
            _ => Err(Error::Unreachable("task did not finish".into())),
        }
    }

    /// Creates the index if missing and applies the settings (both
    /// idempotent). Returns the number of documents in it.
    pub async fn ensure_index(&self) -> Result<usize> {
        ensure_index_named(&self.admin, &self.index).await?;
        let task = timed(self.admin.index(&self.index).set_settings(&settings())).await?;
        self.wait_task(task).await?;
        Ok(timed(self.admin.index(&self.index).get_stats()).await?.number_of_documents)
    }

    /// Writes documents and deletes ids, waiting until Meilisearch confirms
    /// each task succeeded.
    pub async fn apply(&self, upserts: &[JobDocument], deletes: &[i64]) -> Result<()> {
        let index = self.admin.index(&self.index);
        if !upserts.is_empty() {
            let task = timed(index.add_or_replace(upserts, Some("id"))).await?;
            self.wait_task(task).await?;
        }
        if !deletes.is_empty() {
            let task = timed(index.delete_documents(deletes)).await?;
            self.wait_task(task).await?;
        }
        Ok(())
    }

    /// Pushes documents in batches without waiting between them (Meilisearch
    /// works through its queue while the next batch is prepared), then waits
    /// for every task and checks each succeeded.
    pub async fn push_all(&self, docs: &[JobDocument], batch: usize) -> Result<()> {
        let mut tasks = Vec::new();
        for chunk in docs.chunks(batch.max(1)) {
            tasks.push(self.enqueue_upsert(chunk).await?);
        }
        for task in tasks {
            self.wait_task(task).await?;
        }
        Ok(())
    }

    /// Enqueues a deletion and returns its task, to be waited for later.
    pub(crate) async fn enqueue_delete(&self, ids: &[i64]) -> Result<TaskInfo> {
        timed(self.admin.index(&self.index).delete_documents(ids)).await
    }

    /// How a task ended: `None` while it is enqueued or processing.
    pub(crate) async fn outcome(&self, task: &TaskInfo) -> Result<Option<Result<()>>> {
        Ok(match timed(self.admin.get_task(task)).await? {
            Task::Succeeded { .. } => Some(Ok(())),
            Task::Failed { content } => {
                Some(Err(Error::from(meilisearch_sdk::errors::Error::Meilisearch(content.error))))
            }
            Task::Enqueued { .. } | Task::Processing { .. } => None,
        })
    }

    /// Enqueues an upsert and returns its task, to be waited for later.
    pub(crate) async fn enqueue_upsert(&self, docs: &[JobDocument]) -> Result<TaskInfo> {
        timed(self.admin.index(&self.index).add_or_replace(docs, Some("id"))).await
    }

    /// The request body a query becomes, exactly as `search` sends it (the
    /// benchmark sends it straight to Meilisearch for comparison).
    pub fn search_body(&self, q: &SearchQuery, now: DateTime<Utc>) -> serde_json::Value {
        let p = Prepared::new(q, now);
        let index = self.search.index(&self.index);
        let mut s = index.search();
        p.configure(&mut s);
        serde_json::to_value(&s).expect("a search query serializes")
    }

    /// Searches open ads, with the search-only key.
    pub async fn search(&self, q: &SearchQuery, now: DateTime<Utc>) -> Result<SearchResults> {
        let started = Instant::now();
        let p = Prepared::new(q, now);
        let index = self.search.index(&self.index);
        let mut s = index.search();
        p.configure(&mut s);
        let res = timed(s.execute::<HitFields>()).await?;
        let hits = res
            .hits
            .into_iter()
            .filter_map(|h| {
                let formatted = |field: &str| {
                    h.formatted_result.as_ref().and_then(|f| f.get(field)).and_then(|v| v.as_str()).map(str::to_owned)
                };
                let title = formatted("title").unwrap_or_else(|| h.result.title.clone());
                let snippet = formatted("description").unwrap_or_default();
                hit_from_document(h.result, &title, &snippet)
            })
            .collect();
        let mut facets = Facets::default();
        if let Some(dist) = res.facet_distribution {
            for (attr, values) in dist {
                let counts: Vec<FacetCount> = values
                    .into_iter()
                    .map(|(value, count)| {
                        let (value, name) = match attr.as_str() {
                            "employer_label" => match value.split_once('|') {
                                Some((slug, name)) => (slug.to_owned(), name.to_owned()),
                                None => (value.clone(), value),
                            },
                            other => {
                                let dim = other.trim_end_matches("_code");
                                let name = platsen_jobs::search::facet_name(dim, &value);
                                (value, name)
                            }
                        };
                        FacetCount { value, name, count: count as i64 }
                    })
                    .collect();
                facets.set(attr.trim_end_matches("_code"), counts);
            }
        }
        Ok(SearchResults {
            hits,
            total: res.total_hits.or(res.estimated_total_hits).unwrap_or(0) as i64,
            facets,
            processing_ms: started.elapsed().as_millis() as u64,
            engine: "meilisearch",
        })
    }

    /// Every document's id and version, for comparing with SQL.
    pub async fn ids_and_versions(&self) -> Result<Vec<(i64, i64)>> {
        #[derive(serde::Deserialize)]
        struct IdVersion {
            id: i64,
            version: i64,
        }
        // Offset paging costs Meilisearch more the further it goes: large pages.
        const PAGE: usize = 20_000;
        let index = self.admin.index(&self.index);
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let mut q = meilisearch_sdk::documents::DocumentsQuery::new(&index);
            q.with_offset(offset).with_limit(PAGE).with_fields(["id", "version"]);
            let page = match timed(q.execute::<IdVersion>()).await {
                Ok(page) => page,
                // No index yet: it holds nothing.
                Err(Error::IndexNotFound) => break,
                Err(e) => return Err(e),
            };
            let n = page.results.len();
            out.extend(page.results.into_iter().map(|d| (d.id, d.version)));
            if n < PAGE {
                break;
            }
            offset += n;
        }
        Ok(out)
    }
}

/// What a query sends, owned, so the borrowing SDK builder can be made from it.
struct Prepared {
    text: String,
    filter: String,
    sort: Option<[&'static str; 1]>,
    page: usize,
    per_page: usize,
}

/// The attributes a hit needs; the rest of the document (the whole
/// description above all) stays in Meilisearch.
const RETRIEVE: [&str; 18] = [
    "id",
    "slug",
    "title",
    "employer_id",
    "employer_slug",
    "employer_name",
    "role",
    "municipality_code",
    "remote",
    "employment_type",
    "extent_percent",
    "salary_min",
    "salary_max",
    "salary_period",
    "application_deadline",
    "published_at",
    "expires_at",
    "featured",
];

/// The retrieved part of a document (see `RETRIEVE`).
#[derive(Debug, serde::Deserialize)]
struct HitFields {
    id: i64,
    slug: String,
    title: String,
    employer_id: i64,
    employer_slug: String,
    employer_name: String,
    role: String,
    /// An array; a single string in documents written before ads had
    /// several places (until the index is rebuilt).
    #[serde(deserialize_with = "one_or_many")]
    municipality_code: Vec<String>,
    remote: String,
    employment_type: String,
    extent_percent: i64,
    salary_min: Option<i64>,
    salary_max: Option<i64>,
    salary_period: Option<String>,
    application_deadline: String,
    published_at: i64,
    expires_at: i64,
    featured: bool,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match serde::Deserialize::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

const PRE: &str = "\u{E000}";
const POST: &str = "\u{E001}";

impl Prepared {
    fn new(q: &SearchQuery, now: DateTime<Utc>) -> Prepared {
        let text: String = q.q.as_deref().unwrap_or("").chars().take(200).collect();
        let sort = match q.sort {
            SearchSort::Newest => Some(["published_at:desc"]),
            SearchSort::Deadline => Some(["application_deadline:asc"]),
            SearchSort::Relevance if text.trim().is_empty() => Some(["published_at:desc"]),
            SearchSort::Relevance => None,
        };
        Prepared {
            filter: filter(q, now),
            text,
            sort,
            page: q.page.max(1) as usize,
            per_page: q.per_page.max(1) as usize,
        }
    }

    fn configure<'a>(&'a self, s: &mut meilisearch_sdk::search::SearchQuery<'a, Http>) {
        s.with_query(&self.text)
            .with_filter(&self.filter)
            .with_facets(Selectors::Some(&FACETS))
            .with_page(self.page)
            .with_hits_per_page(self.per_page)
            .with_attributes_to_retrieve(Selectors::Some(&RETRIEVE))
            .with_attributes_to_highlight(Selectors::Some(&["title", "description"]))
            .with_attributes_to_crop(Selectors::Some(&[("description", Some(30))]))
            .with_highlight_pre_tag(PRE)
            .with_highlight_post_tag(POST)
            .with_crop_marker("…");
        if let Some(sort) = &self.sort {
            s.with_sort(sort);
        }
    }
}

async fn ensure_index_named(admin: &Client<Http>, uid: &str) -> Result<()> {
    let task = timed(admin.create_index(uid, Some("id"))).await?;
    let done = tokio::time::timeout(
        TASK_TIMEOUT + CALL_TIMEOUT,
        task.wait_for_completion(admin, Some(Duration::from_millis(25)), Some(TASK_TIMEOUT)),
    )
    .await
    .map_err(|_| Error::Unreachable("no answer while creating the index".into()))??;
    match done {
        Task::Succeeded { .. } => Ok(()),
        // Creating an index that exists fails with `index_already_exists`: fine.
        Task::Failed { content }
            if content.error.error_code == meilisearch_sdk::errors::ErrorCode::IndexAlreadyExists =>
        {
            Ok(())
        }
        Task::Failed { content } => Err(Error::from(meilisearch_sdk::errors::Error::Meilisearch(content.error))),
        _ => Err(Error::Unreachable("index creation did not finish".into())),
    }
}

fn hit_from_document(d: HitFields, title_marked: &str, snippet_marked: &str) -> Option<SearchHit> {
    let salary = d.salary_period.as_deref().and_then(SalaryPeriod::from_code).map(|period| Salary {
        min: d.salary_min,
        max: d.salary_max,
        period,
    });
    Some(SearchHit {
        title_highlighted: marked_html(title_marked),
        snippet: marked_html(snippet_marked),
        role: Role::from_code(&d.role)?,
        municipality: platsen_taxonomy::municipality(d.municipality_code.first()?)?,
        more_places: d.municipality_code[1..]
            .iter()
            .map(|c| platsen_taxonomy::municipality(c))
            .collect::<Option<_>>()?,
        remote: RemoteMode::from_code(&d.remote)?,
        employment_type: EmploymentType::from_code(&d.employment_type)?,
        application_deadline: d.application_deadline.parse().ok()?,
        published_at: Utc.timestamp_opt(d.published_at, 0).single(),
        expires_at: Utc.timestamp_opt(d.expires_at, 0).single()?,
        id: d.id,
        slug: d.slug,
        title: d.title,
        employer_id: d.employer_id,
        employer_slug: d.employer_slug,
        employer_name: d.employer_name,
        extent_percent: d.extent_percent,
        salary,
        featured: d.featured,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use platsen_jobs::JobFilter;
    use platsen_jobs::search::{MARK_END, MARK_START};

    #[test]
    fn highlight_tags_are_the_marks() {
        assert_eq!(PRE, MARK_START.to_string());
        assert_eq!(POST, MARK_END.to_string());
    }

    #[test]
    fn filters_quote_every_value() {
        let q = SearchQuery {
            filter: JobFilter {
                county_code: Some("01\" OR employer_id = 5".into()),
                employer: Some(IdOrSlug::Slug("a\\\"b".into())),
                ..Default::default()
            },
            ..Default::default()
        };
        let f = filter(&q, Utc.timestamp_opt(100, 0).unwrap());
        assert_eq!(f, r#"expires_at > 100 AND county_code = "01\" OR employer_id = 5" AND employer_slug = "a\\\"b""#);
    }

    #[test]
    fn synonyms_go_both_ways_in_both_spellings() {
        let s = settings();
        let syn = s.synonyms.unwrap();
        assert!(syn["inköpare"].contains(&"upphandlare".to_owned()));
        assert!(syn["inkopare"].contains(&"upphandlare".to_owned()));
        assert!(syn["upphandlare"].contains(&"inköpare".to_owned()));
        assert!(syn["avtalsförvaltare"].contains(&"avtalscontroller".to_owned()));
    }
}
