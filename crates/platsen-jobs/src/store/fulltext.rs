//! The built-in search: SQLite FTS5 or PostgreSQL full-text search with the
//! Swedish configuration, answering with the same shape as Meilisearch,
//! facets included. Used when no Meilisearch is configured or it is down.

use std::time::Instant;

use chrono::{DateTime, Utc};
use platsen_taxonomy::Role;

use super::{Arg, Db, Store, ts};
use crate::error::Result;
use crate::model::{EmploymentType, RemoteMode};
use crate::search::{
    FacetCount, Facets, MARK_END, MARK_START, SearchHit, SearchQuery, SearchResults, SearchSort, Suggestion, crop,
    facet_name, fold, terms,
};

impl Store {
    /// Searches open ads in the database.
    pub async fn search_database(&self, query: &SearchQuery, now: DateTime<Utc>) -> Result<SearchResults> {
        let started = Instant::now();
        let words = query.q.as_deref().map(terms).unwrap_or_default();
        let conds = search_conds(query, now);
        let offset = i64::from(query.page.saturating_sub(1)) * i64::from(query.per_page);
        let limit = i64::from(query.per_page);
        let sort = match query.sort {
            SearchSort::Relevance if words.is_empty() => SearchSort::Newest,
            s => s,
        };
        let (hits, total, facets) = match &self.db {
            Db::Sqlite { read: pool, .. } => {
                // Each word a quoted prefix: `"upphandl"*`; quotes inside a
                // word cannot occur (see `terms`).
                let fts: Option<String> = (!words.is_empty())
                    .then(|| words.iter().map(|w| format!("\"{w}\"*")).collect::<Vec<_>>().join(" "));
                let from = if fts.is_some() {
                    "from job_ads j join employers e on e.id = j.employer_id join job_ads_fts f on f.rowid = j.id where "
                } else {
                    "from job_ads j join employers e on e.id = j.employer_id where "
                };
                let mark = |n: u32| format!("char({})", if n == 0 { MARK_START as u32 } else { MARK_END as u32 });
                let (title_expr, snippet_expr) = if fts.is_some() {
                    (
                        format!("highlight(job_ads_fts, 0, {}, {})", mark(0), mark(1)),
                        format!("snippet(job_ads_fts, 4, {}, {}, '…', 24)", mark(0), mark(1)),
                    )
                } else {
                    ("j.title".to_owned(), "substr(j.description_text, 1, 240)".to_owned())
                };
                let mut list = sqlx::QueryBuilder::new(format!(
                    "{}, {title_expr} as title_marked, {snippet_expr} as snippet_marked {from}",
                    JOB_COLUMNS
                ));
                push_conds!(list, &conds);
                if let Some(f) = &fts {
                    list.push(" and job_ads_fts match ").push_bind(f.clone());
                }
                list.push(match sort {
                    SearchSort::Relevance => {
                        " order by j.featured desc, bm25(job_ads_fts, 10.0, 8.0, 4.0, 4.0, 1.0), j.id desc"
                    }
                    SearchSort::Newest => " order by j.featured desc, j.published_at desc, j.id desc",
                    SearchSort::Deadline => " order by j.featured desc, j.application_deadline, j.id",
                });
                list.push(" limit ").push_bind(limit).push(" offset ").push_bind(offset);
                let hits = list.build().fetch_all(pool).await?.iter().map(hit_from_row).collect::<Result<Vec<_>>>()?;

                let mut q = sqlx::QueryBuilder::new(format!("{FACETS_MATCHES} {from}"));
                push_conds!(q, &conds);
                if let Some(f) = &fts {
                    q.push(" and job_ads_fts match ").push_bind(f.clone());
                }
                q.push(FACETS_COUNTS);
                let (total, facets) = facet_rows(q.build_query_as().fetch_all(pool).await?);
                (hits, total, facets)
            }
            Db::Postgres(pool) => {
                // `upphandl:* & stockholm:*`: words are letters and digits only.
                // Each word as typed (stemmed by the Swedish configuration)
                // or folded (`inkopare` → the unstemmed, folded copy).
                let tsq: Option<String> = (!words.is_empty()).then(|| {
                    words
                        .iter()
                        .map(|w| {
                            let folded = fold(w);
                            if folded == *w { format!("{w}:*") } else { format!("({w}:* | {folded}:*)") }
                        })
                        .collect::<Vec<_>>()
                        .join(" & ")
                });
                let from = "from job_ads j join employers e on e.id = j.employer_id where ";
                let mut list = sqlx::QueryBuilder::new(format!("{JOB_COLUMNS}, "));
                match &tsq {
                    Some(t) => {
                        let opts = format!("StartSel={MARK_START}, StopSel={MARK_END}, HighlightAll=true");
                        list.push("ts_headline('swedish', j.title, to_tsquery('swedish', ").push_bind(t.clone());
                        list.push("), ").push_bind(opts).push(") as title_marked, ");
                        let opts = format!("StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=15");
                        list.push("ts_headline('swedish', j.description_text, to_tsquery('swedish', ")
                            .push_bind(t.clone());
                        list.push("), ").push_bind(opts).push(") as snippet_marked ");
                    }
                    None => {
                        list.push("j.title as title_marked, substr(j.description_text, 1, 240) as snippet_marked ");
                    }
                }
                list.push(from);
                push_conds!(list, &conds);
                if let Some(t) = &tsq {
                    list.push(" and j.search_vector @@ to_tsquery('swedish', ").push_bind(t.clone()).push(")");
                }
                match (sort, &tsq) {
                    (SearchSort::Relevance, Some(t)) => {
                        list.push(" order by j.featured desc, ts_rank(j.search_vector, to_tsquery('swedish', ")
                            .push_bind(t.clone());
                        list.push(")) desc, j.id desc");
                    }
                    (SearchSort::Deadline, _) => {
                        list.push(" order by j.featured desc, j.application_deadline, j.id");
                    }
                    _ => {
                        list.push(" order by j.featured desc, j.published_at desc, j.id desc");
                    }
                }
                list.push(" limit ").push_bind(limit).push(" offset ").push_bind(offset);
                let hits = list.build().fetch_all(pool).await?.iter().map(hit_from_row).collect::<Result<Vec<_>>>()?;

                let mut q = sqlx::QueryBuilder::new(format!("{FACETS_MATCHES} {from}"));
                push_conds!(q, &conds);
                if let Some(t) = &tsq {
                    q.push(" and j.search_vector @@ to_tsquery('swedish', ").push_bind(t.clone()).push(")");
                }
                q.push(FACETS_COUNTS);
                let (total, facets) = facet_rows(q.build_query_as().fetch_all(pool).await?);
                (hits, total, facets)
            }
        };
        Ok(SearchResults {
            hits,
            total,
            facets,
            processing_ms: started.elapsed().as_millis() as u64,
            engine: "database",
        })
    }

    /// Typeahead from the database and the shipped vocabularies: roles and
    /// places by prefix (diacritics optional), employers and titles by a word
    /// prefix.
    pub async fn suggest_database(&self, prefix: &str, now: DateTime<Utc>) -> Result<Vec<Suggestion>> {
        let folded = fold(prefix.trim());
        let Some(last) = terms(&folded).pop() else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        for role in Role::ALL {
            if fold(role.name_sv()).split(|c: char| !c.is_alphanumeric()).any(|w| w.starts_with(&last)) {
                out.push(Suggestion { kind: "role", text: role.name_sv().into(), value: role.code().into() });
            }
        }
        for c in platsen_taxonomy::counties() {
            if fold(c.name).starts_with(&last) {
                out.push(Suggestion { kind: "county", text: c.name.into(), value: c.code.into() });
            }
        }
        for m in platsen_taxonomy::municipalities() {
            if fold(m.name).starts_with(&last) {
                out.push(Suggestion { kind: "municipality", text: m.name.into(), value: m.code.into() });
            }
        }
        out.truncate(8);
        // `terms` leaves letters and digits only: no LIKE wildcard gets through.
        let pattern = format!("{last}%");
        let word_pattern = format!("% {}", &pattern);
        let (employers, titles): (Vec<(String, String)>, Vec<String>) = read!(self, |pool| {
            let employers = sqlx::query_as(
                "select e.name, e.slug from employers e
                  where (lower(e.slug) like $1 or lower(e.name) like $1 or lower(e.name) like $2)
                    and exists (select 1 from job_ads j where j.employer_id = e.id and j.status = 'published' and j.expires_at > $3)
                  order by e.name_sort, e.id limit 5",
            )
            .bind(pattern.as_str())
            .bind(word_pattern.as_str())
            .bind(ts(now))
            .fetch_all(pool)
            .await?;
            let titles = sqlx::query_scalar(
                "select distinct j.title from job_ads j
                  where j.status = 'published' and j.expires_at > $3
                    and (lower(j.title) like $1 or lower(j.title) like $2)
                  order by j.title limit 5",
            )
            .bind(pattern.as_str())
            .bind(word_pattern.as_str())
            .bind(ts(now))
            .fetch_all(pool)
            .await?;
            (employers, titles)
        });
        out.extend(employers.into_iter().map(|(name, slug)| Suggestion { kind: "employer", text: name, value: slug }));
        out.extend(titles.into_iter().map(|t| Suggestion { kind: "title", text: t.clone(), value: t }));
        Ok(out)
    }
}

/// The ad columns of `job_select!` without its `from`, for queries that add
/// their own expressions and joins.
const JOB_COLUMNS: &str =
    "select j.id, j.employer_id, e.slug as employer_slug, e.name as employer_name, j.slug, j.status,
    j.title, j.role, j.municipality_code, j.remote, j.employment_type, j.extent_percent, j.salary_min, j.salary_max,
    j.salary_period, j.application_deadline, j.published_at, j.expires_at, j.featured";

/// Facet dimensions, the column each groups by, and the column with its
/// display name (codes get theirs from the vocabularies).
/// The matching ads, computed once for the total and every facet.
const FACETS_MATCHES: &str = "with m as materialized (select j.role, j.county_code, j.municipality_code,
    j.employment_type, j.remote, e.slug as employer_slug, e.name as employer_name";

/// The total and the six facets from the matching ads, one row per value:
/// (dimension, value, name, count). The total is the row with dimension ''.
const FACETS_COUNTS: &str = ")
    select '' as dim, '' as value, '' as name, count(*) as n from m
    union all select 'role', role, '', count(*) from m group by role
    union all select 'county', county_code, '', count(*) from m group by county_code
    union all select 'municipality', municipality_code, '', count(*) from m group by municipality_code
    union all select 'employment_type', employment_type, '', count(*) from m group by employment_type
    union all select 'remote', remote, '', count(*) from m group by remote
    union all select 'employer', employer_slug, employer_name, count(*) from m group by employer_slug, employer_name";

/// Splits the rows of `FACETS_COUNTS` into the total and the facets.
fn facet_rows(rows: Vec<(String, String, String, i64)>) -> (i64, Facets) {
    let mut total = 0;
    let mut by_dim: Vec<(String, Vec<FacetCount>)> = Vec::new();
    for (dim, value, name, count) in rows {
        if dim.is_empty() {
            total = count;
            continue;
        }
        let name = if dim == "employer" { name } else { facet_name(&dim, &value) };
        match by_dim.iter_mut().find(|(d, _)| *d == dim) {
            Some((_, counts)) => counts.push(FacetCount { value, name, count }),
            None => by_dim.push((dim, vec![FacetCount { value, name, count }])),
        }
    }
    let mut facets = Facets::default();
    for (dim, counts) in by_dim {
        facets.set(&dim, counts);
    }
    (total, facets)
}

fn search_conds(query: &SearchQuery, now: DateTime<Utc>) -> Vec<(&'static str, Arg)> {
    let mut conds = super::open_ads_conds(&query.filter, now);
    if let Some(min) = query.salary_min {
        conds.push((" and j.salary_period = 'month' and coalesce(j.salary_max, j.salary_min) >= ", Arg::Int(min)));
    }
    if let Some(after) = query.published_after {
        conds.push((" and j.published_at >= ", Arg::Time(ts(after))));
    }
    conds
}

fn hit_from_row<R: sqlx::Row>(r: &R) -> Result<SearchHit>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> chrono::NaiveDate: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> DateTime<Utc>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let role: String = r.try_get("role")?;
    let municipality: String = r.try_get("municipality_code")?;
    let remote: String = r.try_get("remote")?;
    let employment_type: String = r.try_get("employment_type")?;
    let salary_period: Option<String> = r.try_get("salary_period")?;
    let salary = match salary_period.as_deref() {
        Some(p) => Some(crate::model::Salary {
            min: r.try_get("salary_min")?,
            max: r.try_get("salary_max")?,
            period: crate::model::SalaryPeriod::from_code(p).ok_or_else(|| super::corrupt("salary period", p))?,
        }),
        None => None,
    };
    let title_marked: String = r.try_get("title_marked")?;
    let snippet_marked: String = r.try_get("snippet_marked")?;
    Ok(SearchHit {
        id: r.try_get("id")?,
        slug: r.try_get("slug")?,
        title: r.try_get("title")?,
        title_highlighted: crate::search::marked_html(&title_marked),
        snippet: crate::search::marked_html(&crop(&snippet_marked, 240)),
        employer_id: r.try_get("employer_id")?,
        employer_slug: r.try_get("employer_slug")?,
        employer_name: r.try_get("employer_name")?,
        role: Role::from_code(&role).ok_or_else(|| super::corrupt("role", &role))?,
        municipality: platsen_taxonomy::municipality(&municipality)
            .ok_or_else(|| super::corrupt("municipality", &municipality))?,
        remote: RemoteMode::from_code(&remote).ok_or_else(|| super::corrupt("remote", &remote))?,
        employment_type: EmploymentType::from_code(&employment_type)
            .ok_or_else(|| super::corrupt("employment type", &employment_type))?,
        extent_percent: r.try_get("extent_percent")?,
        salary,
        application_deadline: r.try_get("application_deadline")?,
        published_at: r.try_get("published_at")?,
        expires_at: r.try_get("expires_at")?,
        featured: r.try_get("featured")?,
    })
}

/// A claimed outbox row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub job_id: i64,
    pub attempts: i64,
}

/// How far the search index is behind.
#[derive(Debug, Clone, Default)]
pub struct OutboxStatus {
    pub pending: i64,
    pub dead: i64,
    pub oldest_pending_at: Option<DateTime<Utc>>,
}

impl Store {
    /// The oldest pending outbox rows that are due, at most `limit`.
    ///
    /// One worker per database is active at a time (the caller holds the
    /// lease), so claiming is reading: rows are deleted only when the index
    /// has confirmed the change.
    pub async fn pending_search_changes(&self, limit: i64, now: DateTime<Utc>) -> Result<Vec<OutboxRow>> {
        let rows: Vec<(i64, i64, i64)> = read!(self, |pool| {
            sqlx::query_as(
                "select id, job_id, attempts from search_outbox
                  where not dead and available_at <= $1 order by id limit $2",
            )
            .bind(ts(now))
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(id, job_id, attempts)| OutboxRow { id, job_id, attempts }).collect())
    }

    /// Forgets outbox rows whose change the index confirmed.
    pub async fn ack_search_changes(&self, row_ids: &[i64]) -> Result<()> {
        for chunk in row_ids.chunks(500) {
            write_tx!(self, |tx| {
                for id in chunk {
                    sqlx::query("delete from search_outbox where id = $1").bind(*id).execute(&mut *tx).await?;
                }
            });
        }
        Ok(())
    }

    /// Schedules rows again after a failure, or sets them aside for an
    /// operator (`dead`) when retrying cannot help.
    pub async fn retry_search_changes(
        &self,
        row_ids: &[i64],
        error: &str,
        retry_at: DateTime<Utc>,
        dead: bool,
    ) -> Result<()> {
        let error: String = error.chars().take(1000).collect();
        for chunk in row_ids.chunks(500) {
            write_tx!(self, |tx| {
                for id in chunk {
                    sqlx::query(
                        "update search_outbox set attempts = attempts + 1, last_error = $2, available_at = $3, dead = $4
                          where id = $1",
                    )
                    .bind(*id)
                    .bind(error.as_str())
                    .bind(ts(retry_at))
                    .bind(dead)
                    .execute(&mut *tx)
                    .await?;
                }
            });
        }
        Ok(())
    }

    /// Puts dead rows back in the queue (an operator's retry).
    pub async fn revive_search_changes(&self, now: DateTime<Utc>) -> Result<u64> {
        let n = write_tx!(self, |tx| {
            sqlx::query("update search_outbox set dead = false, attempts = 0, available_at = $1 where dead")
                .bind(ts(now))
                .execute(&mut *tx)
                .await?
                .rows_affected()
        });
        Ok(n)
    }

    /// Queues every ad for indexing (after connecting an empty index).
    pub async fn queue_all_for_search(&self) -> Result<u64> {
        let n = write_tx!(self, |tx| {
            sqlx::query("insert into search_outbox (job_id) select id from job_ads")
                .execute(&mut *tx)
                .await?
                .rows_affected()
        });
        Ok(n)
    }

    /// How many changes wait, how many failed for good, and the oldest wait.
    pub async fn search_outbox_status(&self) -> Result<OutboxStatus> {
        let (pending, dead): (i64, i64) = read!(self, |pool| {
            sqlx::query_as(
                "select coalesce(sum(case when dead then 0 else 1 end), 0), coalesce(sum(case when dead then 1 else 0 end), 0)
                   from search_outbox",
            )
            .fetch_one(pool)
            .await?
        });
        let oldest: Option<DateTime<Utc>> = read!(self, |pool| {
            sqlx::query_scalar("select created_at from search_outbox where not dead order by id limit 1")
                .fetch_optional(pool)
                .await?
        });
        Ok(OutboxStatus { pending, dead, oldest_pending_at: oldest })
    }

    /// The ads among `ids` that search should show now (published and
    /// unexpired), in full. The others should be deleted from the index.
    pub async fn indexable_ads(&self, ids: &[i64], now: DateTime<Utc>) -> Result<Vec<crate::model::JobAd>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let rows = read!(self, |pool| {
                let mut q =
                    sqlx::QueryBuilder::new(concat!(job_select!(), "where j.status = 'published' and j.expires_at > "));
                q.push_bind(ts(now)).push(" and j.id in (");
                let mut sep = q.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                q.push(")");
                q.build()
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(|r| super::job_from_row(r, now))
                    .collect::<Result<Vec<_>>>()?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// How many ads search should show now.
    pub async fn count_indexable_ads(&self, now: DateTime<Utc>) -> Result<i64> {
        let n: i64 = read!(self, |pool| {
            sqlx::query_scalar("select count(*) from job_ads where status = 'published' and expires_at > $1")
                .bind(ts(now))
                .fetch_one(pool)
                .await?
        });
        Ok(n)
    }

    /// The id and version of every ad search should show now, by id: what
    /// `platsen search check` compares the index with, without reading the
    /// ads themselves.
    pub async fn indexable_versions(&self, now: DateTime<Utc>) -> Result<Vec<(i64, i64)>> {
        let rows: Vec<(i64, i64)> = read!(self, |pool| {
            sqlx::query_as("select id, version from job_ads where status = 'published' and expires_at > $1 order by id")
                .bind(ts(now))
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// Every ad search should show, by id after `after`, `limit` at a time
    /// (keyset pagination for rebuilding and checking the index).
    pub async fn indexable_ads_after(
        &self,
        after: i64,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<crate::model::JobAd>> {
        read!(self, |pool| {
            sqlx::query(concat!(
                job_select!(),
                "where j.status = 'published' and j.expires_at > $1 and j.id > $2 order by j.id limit $3"
            ))
            .bind(ts(now))
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| super::job_from_row(r, now))
            .collect()
        })
    }
}

/// The right to be the one search worker of a database. On PostgreSQL it is a
/// session advisory lock held by a connection of its own (released when the
/// lease, and with it the connection, is dropped or lost); SQLite has one
/// server process, so the lease is always granted.
pub struct SearchLease {
    _connection: Option<sqlx::PgConnection>,
}

impl std::fmt::Debug for SearchLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchLease").finish_non_exhaustive()
    }
}

/// The first half of the search worker's advisory lock key ("plat" in
/// ASCII); the second is the schema's hash.
const SEARCH_LOCK: i32 = 0x706c_6174;

impl Store {
    /// Takes the search-worker lease if no other process holds it.
    pub async fn try_search_lease(&self) -> Result<Option<SearchLease>> {
        match &self.db {
            Db::Sqlite { .. } => Ok(Some(SearchLease { _connection: None })),
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await?.detach();
                // One worker per installation: the lock is keyed by the schema
                // too, since several installations may share a database.
                let got: bool = sqlx::query_scalar("select pg_try_advisory_lock($1, hashtext(current_schema()))")
                    .bind(SEARCH_LOCK)
                    .fetch_one(&mut conn)
                    .await?;
                Ok(got.then_some(SearchLease { _connection: Some(conn) }))
            }
        }
    }
}
