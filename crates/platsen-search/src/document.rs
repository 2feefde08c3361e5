//! The document a job ad becomes in the index.

use platsen_jobs::model::{JobAd, SalaryPeriod};
use platsen_jobs::search::html_to_text;
use serde::{Deserialize, Serialize};

/// An open ad as Meilisearch stores it. Times are Unix seconds, so they can
/// be compared and sorted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobDocument {
    pub id: i64,
    /// The ad's version when indexed; `platsen search check` compares it with SQL.
    pub version: i64,
    pub slug: String,
    pub title: String,
    pub role: String,
    pub role_name: String,
    pub employer_id: i64,
    pub employer_slug: String,
    pub employer_name: String,
    /// `slug|name`, the employer facet's value (slugs hold no `|`).
    pub employer_label: String,
    /// Every place of the ad, the first first: a filter on any one finds it
    /// (`municipality_code = "0182"` matches an array holding it), and the
    /// facet counts it once per value.
    pub municipality_code: Vec<String>,
    pub municipality: Vec<String>,
    /// The places' distinct counties.
    pub county_code: Vec<String>,
    pub county: Vec<String>,
    pub employment_type: String,
    pub remote: String,
    pub extent_percent: i64,
    pub salary_min: Option<i64>,
    pub salary_max: Option<i64>,
    pub salary_period: Option<String>,
    /// The monthly amount the salary filter compares with: the upper bound,
    /// or the lower when only that is given; absent for hourly pay.
    pub salary_monthly: Option<i64>,
    pub application_deadline: String,
    pub published_at: i64,
    pub expires_at: i64,
    pub featured: bool,
    /// 1 for a featured ad, else 0: the first ranking rule, so featured
    /// ads come first among the matches whatever the sort.
    pub featured_rank: u8,
    /// The description as plain text.
    pub description: String,
}

impl From<&JobAd> for JobDocument {
    fn from(ad: &JobAd) -> Self {
        let counties = platsen_jobs::model::counties_of(ad.places());
        JobDocument {
            id: ad.id,
            version: ad.version,
            slug: ad.slug.clone(),
            title: ad.title.clone(),
            role: ad.role.code().into(),
            role_name: ad.role.name_sv().into(),
            employer_id: ad.employer_id,
            employer_slug: ad.employer_slug.clone(),
            employer_name: ad.employer_name.clone(),
            employer_label: format!("{}|{}", ad.employer_slug, ad.employer_name),
            municipality_code: ad.places().map(|m| m.code.into()).collect(),
            municipality: ad.places().map(|m| m.name.into()).collect(),
            county_code: counties.iter().map(|c| c.code.into()).collect(),
            county: counties.iter().map(|c| c.name.into()).collect(),
            employment_type: ad.employment_type.code().into(),
            remote: ad.remote.code().into(),
            extent_percent: ad.extent_percent,
            salary_min: ad.salary.and_then(|s| s.min),
            salary_max: ad.salary.and_then(|s| s.max),
            salary_period: ad.salary.map(|s| s.period.code().into()),
            salary_monthly: ad.salary.filter(|s| s.period == SalaryPeriod::Month).and_then(|s| s.max.or(s.min)),
            application_deadline: ad.application_deadline.to_string(),
            published_at: ad.published_at.map_or(0, |t| t.timestamp()),
            expires_at: ad.expires_at.timestamp(),
            featured: ad.featured,
            featured_rank: u8::from(ad.featured),
            description: html_to_text(&ad.description),
        }
    }
}
