//! A saved search (what a job alert watches), and its stored form.
//!
//! The stored form is this module's own, not any page's address: a JSON
//! object of codes with a format version beside it in the database
//! (`job_alerts.search_version`), so the search page's URL can change
//! without touching a stored alert. Version 1 was the search page's query
//! string; [`migrate`] rewrites such rows as version 2, and
//! [`SavedSearch::from_stored`] still reads version 1 for a row the
//! migration could not rewrite yet.

use platsen_jobs::search::SearchQuery;
use platsen_jobs::{FieldError, JobFilter, Store};
use serde::{Deserialize, Serialize};

use crate::search::SearchForm;

/// The stored form written now.
pub const VERSION: i32 = 2;
/// The search page's query string, as stored before [`VERSION`] 2.
const LEGACY_QUERY_STRING: i32 = 1;

/// A search to watch: its words and filters (no sort, no page).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SavedSearch {
    pub q: Option<String>,
    pub filter: JobFilter,
}

/// Version 2 on disk: codes, each field only when set.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    county: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    municipality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    employment_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    remote: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    employer: Option<String>,
}

/// Why a stored search cannot be read back (a code retired since, say).
#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    #[error("unknown saved-search format {0}")]
    Version(i32),
    #[error("malformed saved search: {0}")]
    Malformed(String),
    #[error("saved search no longer valid: {0}")]
    Invalid(FieldError),
}

impl SavedSearch {
    /// The search to save from a search as typed: checked by the search's
    /// own rules; its sort and page are not saved.
    pub fn from_form(form: &SearchForm) -> Result<SavedSearch, FieldError> {
        let form = SearchForm { sort: None, page: None, ..form.clone() };
        Ok(SavedSearch::of(&form.parse()?))
    }

    /// The words and filters of `query`.
    pub fn of(query: &SearchQuery) -> SavedSearch {
        SavedSearch { q: query.q.clone(), filter: query.filter.clone() }
    }

    /// The search to run: by relevance, the first page.
    pub fn query(&self) -> SearchQuery {
        SearchQuery {
            q: self.q.clone(),
            filter: self.filter.clone(),
            salary_min: None,
            published_after: None,
            sort: platsen_jobs::search::SearchSort::Relevance,
            page: 1,
            per_page: crate::search::PER_PAGE,
        }
    }

    /// The stored form, [`VERSION`].
    pub fn to_stored(&self) -> String {
        let f = &self.filter;
        let stored = Stored {
            q: self.q.clone(),
            role: f.role.map(|r| r.code().to_owned()),
            county: f.county_code.clone(),
            municipality: f.municipality_code.clone(),
            employment_type: f.employment_type.map(|e| e.code().to_owned()),
            remote: f.remote.map(|r| r.code().to_owned()),
            employer: f.employer.as_ref().map(ToString::to_string),
        };
        serde_json::to_string(&stored).expect("a saved search serialises")
    }

    /// A stored search back, in either format.
    pub fn from_stored(version: i32, text: &str) -> Result<SavedSearch, Unreadable> {
        let form = match version {
            VERSION => {
                let s: Stored = serde_json::from_str(text).map_err(|e| Unreadable::Malformed(e.to_string()))?;
                SearchForm {
                    q: s.q,
                    role: s.role,
                    county: s.county,
                    municipality: s.municipality,
                    employment_type: s.employment_type,
                    remote: s.remote,
                    employer: s.employer,
                    sort: None,
                    page: None,
                }
            }
            LEGACY_QUERY_STRING => {
                serde_urlencoded::from_str(text).map_err(|e| Unreadable::Malformed(e.to_string()))?
            }
            other => return Err(Unreadable::Version(other)),
        };
        SavedSearch::from_form(&form).map_err(Unreadable::Invalid)
    }
}

/// Rewrites every alert stored in an older format as [`VERSION`]; returns
/// how many were rewritten. A row that no longer parses is left as it was
/// (and logged): its alert is skipped until it is deleted.
pub async fn migrate(store: &Store) -> platsen_jobs::Result<u64> {
    let old = store.alert_searches_older_than(VERSION).await?;
    if old.is_empty() {
        return Ok(0);
    }
    tracing::info!(alerts = old.len(), "rewriting saved searches in the current format");
    let mut done = 0;
    for (i, (id, version, text)) in old.iter().enumerate() {
        match SavedSearch::from_stored(*version, text) {
            Ok(search) => {
                if store.rewrite_alert_search(*id, *version, &search.to_stored(), VERSION).await? {
                    done += 1;
                }
            }
            Err(e) => tracing::warn!(alert_id = id, error = %e, "a saved search could not be rewritten"),
        }
        if (i + 1) % 1000 == 0 {
            tracing::info!(done = i + 1, of = old.len(), "rewriting saved searches");
        }
    }
    tracing::info!(rewritten = done, of = old.len(), "saved searches rewritten");
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &str) -> SearchForm {
        serde_urlencoded::from_str(pairs).unwrap()
    }

    #[test]
    fn the_stored_form_is_json_of_codes_and_reads_back_the_same() {
        let s = SavedSearch::from_form(&form(
            "q=inköp&role=upphandlare&county=01&municipality=0182&employment_type=tillsvidare&remote=hybrid&employer=nacka-kommun&sort=newest&page=4",
        ))
        .unwrap();
        let stored = s.to_stored();
        assert_eq!(
            stored,
            r#"{"q":"inköp","role":"upphandlare","county":"01","municipality":"0182","employment_type":"tillsvidare","remote":"hybrid","employer":"nacka-kommun"}"#
        );
        assert_eq!(SavedSearch::from_stored(VERSION, &stored).unwrap(), s);
        assert_eq!(SavedSearch::from_stored(VERSION, "{}").unwrap(), SavedSearch::default());
    }

    #[test]
    fn the_search_pages_old_query_string_reads_as_the_same_search() {
        let legacy =
            SavedSearch::from_stored(LEGACY_QUERY_STRING, "q=ink%C3%B6p+chef&role=upphandlare&county=01").unwrap();
        assert_eq!(legacy.q.as_deref(), Some("inköp chef"));
        assert_eq!(legacy, SavedSearch::from_stored(VERSION, &legacy.to_stored()).unwrap());
    }

    #[test]
    fn garbage_and_retired_codes_are_unreadable_not_a_different_search() {
        assert!(matches!(SavedSearch::from_stored(VERSION, "role=upphandlare"), Err(Unreadable::Malformed(_))));
        assert!(matches!(SavedSearch::from_stored(VERSION, r#"{"colour":"red"}"#), Err(Unreadable::Malformed(_))));
        assert!(matches!(SavedSearch::from_stored(VERSION, r#"{"role":"kock"}"#), Err(Unreadable::Invalid(_))));
        assert!(matches!(SavedSearch::from_stored(3, "{}"), Err(Unreadable::Version(3))));
    }
}
