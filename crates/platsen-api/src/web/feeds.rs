//! Feeds of any search: RSS 2.0, Atom and JSON Feed 1.1 of the newest open
//! ads, and an iCalendar feed of their application deadlines.
//!
//! `/feeds/jobs.rss`, `/feeds/jobs.atom`, `/feeds/jobs.json` and
//! `/feeds/deadlines.ics` take the search page's parameters (`q`, `role`,
//! `county`, `municipality`, `employment_type`, `remote`, `employer`, `sort`),
//! so a search, an employer (`?employer=nacka-kommun`) and the whole board
//! each have their feeds. The XML is written by the `rss` and
//! `atom_syndication` crates and the calendar by `icalendar`, which escape
//! and fold what they write. Bad parameters get a problem document naming
//! the field. Anyone may read them from any origin (no credentials).

use chrono::{DateTime, Utc};
use platsen_jobs::search::{SearchHit, SearchQuery, SearchSort};
use poem::http::{StatusCode, header};
use poem::web::{Data, Query};
use poem::{IntoResponse, Response, handler};

use super::{SearchForm, search_path, swedish_date};
use crate::AppState;
use crate::http::page::PublicUrl;
use crate::http::problem::ApiError;

/// Ads in one feed: the newest 50 (the deadline calendar: the next 100).
const FEED_ITEMS: u32 = 50;
const CALENDAR_ITEMS: u32 = 100;

/// A feed's search, already run, with what the feed says about itself.
struct Feed {
    hits: Vec<SearchHit>,
    /// "Lediga jobb: upphandlare i Stockholms län"
    title: String,
    /// The search page that shows the same ads.
    html_url: String,
    /// The query string the feed was asked with, canonical (`?…` or empty).
    query: String,
    base: String,
    now: DateTime<Utc>,
}

impl Feed {
    fn self_url(&self, file: &str) -> String {
        format!("{}/feeds/{file}{}", self.base, self.query)
    }

    fn ad_url(&self, hit: &SearchHit) -> String {
        format!("{}/jobb/{}", self.base, hit.slug)
    }

    /// A stable identifier of an ad (its slug may change, its id does not).
    fn ad_id(&self, hit: &SearchHit) -> String {
        format!("{}/api/v1/jobs/{}", self.base, hit.id)
    }

    fn summary(hit: &SearchHit) -> String {
        let mut parts = vec![
            hit.employer_name.clone(),
            hit.place_text(),
            hit.employment_type.name_sv().to_owned(),
            format!("Sista ansökningsdag {}", swedish_date(hit.application_deadline)),
        ];
        if let Some(s) = &hit.salary {
            parts.push(super::salary_text(s));
        }
        let snippet = platsen_jobs::search::html_to_text(&hit.snippet);
        let snippet = snippet.trim();
        if snippet.is_empty() { parts.join(" · ") } else { format!("{}. {snippet}", parts.join(" · ")) }
    }

    fn updated(&self) -> DateTime<Utc> {
        self.hits.iter().filter_map(|h| h.published_at).max().unwrap_or(self.now)
    }
}

fn problem(e: ApiError) -> Response {
    e.into_response()
}

/// Runs the feed's search, or says which parameter is wrong.
async fn feed(state: &AppState, base: &str, params: &SearchForm, calendar: bool) -> Result<Feed, Response> {
    let mut query = params.parse().map_err(|e| problem(ApiError::bad_field(e)))?;
    // The feed's own address: its parameters as asked, in canonical form.
    let asked = search_path(&query, query.page);
    let query_string = asked.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
    // Feeds are read newest first unless asked otherwise; the calendar by date.
    if calendar {
        query.sort = SearchSort::Deadline;
    } else if params.sort.as_deref().map(str::trim).is_none_or(str::is_empty) {
        query.sort = SearchSort::Newest;
    }
    query.page = 1;
    query.per_page = if calendar { CALENDAR_ITEMS } else { FEED_ITEMS };
    let now = state.app.clock.now();
    let employer_name = match &query.filter.employer {
        Some(key) => match state.app.store.employer(key, now).await {
            Ok(e) => Some(e.name),
            Err(platsen_jobs::Error::NotFound) => return Err(problem(ApiError::not_found())),
            Err(e) => return Err(problem(e.into())),
        },
        None => None,
    };
    let results = state.app.search(&query, now).await.map_err(|e| problem(e.into()))?;
    let html_url = format!("{base}{}", search_path(&query, 1));
    Ok(Feed {
        hits: results.hits,
        title: title(&query, employer_name.as_deref(), calendar),
        html_url,
        query: query_string,
        base: base.to_owned(),
        now,
    })
}

/// The feed's name, in Swedish, from what it is a search for.
fn title(query: &SearchQuery, employer: Option<&str>, calendar: bool) -> String {
    let (what, place) = platsen_app::search::parts(query);
    let mut title = if calendar { "Sista ansökningsdagar".to_owned() } else { "Lediga jobb".to_owned() };
    if !what.is_empty() {
        title.push_str(": ");
        title.push_str(&what.join(", "));
    }
    if let Some(p) = place {
        title.push_str(&format!(" i {p}"));
    }
    if let Some(e) = employer {
        title.push_str(&format!(" hos {e}"));
    }
    title.push_str(" – Platsen");
    title
}

fn respond(content_type: &'static str, body: impl Into<poem::Body>) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .content_type(content_type)
        .header(header::CACHE_CONTROL, "public, max-age=300")
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .body(body)
}

#[handler]
pub(super) async fn rss_feed(state: Data<&AppState>, base: Data<&PublicUrl>, params: Query<SearchForm>) -> Response {
    let feed = try_page!(feed(&state, &base.0.0, &params.0, false).await);
    let self_url = feed.self_url("jobs.rss");
    let items = feed
        .hits
        .iter()
        .map(|hit| rss::Item {
            title: Some(hit.title.clone()),
            link: Some(feed.ad_url(hit)),
            // RSS readers take `<description>` as HTML: the summary is text,
            // so it goes in escaped (the `rss` crate wraps it in CDATA as is).
            description: Some(platsen_jobs::search::escape_html(&Feed::summary(hit))),
            guid: Some(rss::Guid { value: feed.ad_id(hit), permalink: false }),
            pub_date: hit.published_at.map(|t| t.to_rfc2822()),
            categories: vec![rss::Category { name: hit.role.name_sv().to_owned(), domain: None }],
            author: None,
            ..Default::default()
        })
        .collect();
    let channel = rss::Channel {
        title: feed.title.clone(),
        link: feed.html_url.clone(),
        description: format!("{} på Platsen, nyaste först.", feed.title.trim_end_matches(" – Platsen")),
        language: Some("sv".into()),
        last_build_date: Some(feed.updated().to_rfc2822()),
        generator: Some("Platsen".into()),
        ttl: Some("30".into()),
        items,
        atom_ext: Some(rss::extension::atom::AtomExtension {
            links: vec![rss::extension::atom::Link {
                href: self_url,
                rel: "self".into(),
                mime_type: Some("application/rss+xml".into()),
                ..Default::default()
            }],
        }),
        ..Default::default()
    };
    respond("application/rss+xml; charset=utf-8", channel.to_string())
}

#[handler]
pub(super) async fn atom_feed(state: Data<&AppState>, base: Data<&PublicUrl>, params: Query<SearchForm>) -> Response {
    use atom_syndication as a;
    let feed = try_page!(feed(&state, &base.0.0, &params.0, false).await);
    let entries = feed
        .hits
        .iter()
        .map(|hit| {
            let published = hit.published_at.unwrap_or(feed.now).fixed_offset();
            a::Entry {
                id: feed.ad_id(hit),
                title: a::Text::plain(hit.title.clone()),
                updated: published,
                published: Some(published),
                authors: vec![a::Person { name: hit.employer_name.clone(), ..Default::default() }],
                links: vec![a::Link {
                    href: feed.ad_url(hit),
                    rel: "alternate".into(),
                    mime_type: Some("text/html".into()),
                    ..Default::default()
                }],
                categories: vec![a::Category {
                    term: hit.role.code().to_owned(),
                    label: Some(hit.role.name_sv().to_owned()),
                    scheme: None,
                }],
                summary: Some(a::Text::plain(Feed::summary(hit))),
                ..Default::default()
            }
        })
        .collect();
    let out = a::Feed {
        id: feed.self_url("jobs.atom"),
        title: a::Text::plain(feed.title.clone()),
        updated: feed.updated().fixed_offset(),
        authors: vec![a::Person { name: "Platsen".into(), uri: Some(feed.base.clone()), ..Default::default() }],
        links: vec![
            a::Link {
                href: feed.self_url("jobs.atom"),
                rel: "self".into(),
                mime_type: Some("application/atom+xml".into()),
                ..Default::default()
            },
            a::Link {
                href: feed.html_url.clone(),
                rel: "alternate".into(),
                mime_type: Some("text/html".into()),
                ..Default::default()
            },
        ],
        generator: Some(a::Generator { value: "Platsen".into(), uri: None, version: None }),
        lang: Some("sv".into()),
        entries,
        ..Default::default()
    };
    respond("application/atom+xml; charset=utf-8", out.to_string())
}

/// JSON Feed 1.1 (<https://jsonfeed.org/version/1.1>).
#[handler]
pub(super) async fn json_feed(state: Data<&AppState>, base: Data<&PublicUrl>, params: Query<SearchForm>) -> Response {
    let feed = try_page!(feed(&state, &base.0.0, &params.0, false).await);
    let items: Vec<serde_json::Value> = feed
        .hits
        .iter()
        .map(|hit| {
            serde_json::json!({
                "id": feed.ad_id(hit),
                "url": feed.ad_url(hit),
                "title": hit.title,
                "content_text": Feed::summary(hit),
                "date_published": hit.published_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                "authors": [{ "name": hit.employer_name }],
                "tags": [hit.role.name_sv()],
                "_platsen": {
                    "employer": hit.employer_slug,
                    "role": hit.role.code(),
                    "municipality_code": hit.municipality.code,
                    "county_code": hit.municipality.county.code,
                    "municipality_codes": hit.places().map(|m| m.code).collect::<Vec<_>>(),
                    "county_codes": platsen_jobs::model::counties_of(hit.places()).iter().map(|c| c.code).collect::<Vec<_>>(),
                    "application_deadline": hit.application_deadline.to_string(),
                },
            })
        })
        .collect();
    let body = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.title,
        "home_page_url": feed.html_url,
        "feed_url": feed.self_url("jobs.json"),
        "language": "sv",
        "items": items,
    });
    respond("application/feed+json; charset=utf-8", body.to_string())
}

/// The application deadlines as all-day events, for a calendar to subscribe to.
#[handler]
pub(super) async fn deadline_calendar(
    state: Data<&AppState>,
    base: Data<&PublicUrl>,
    params: Query<SearchForm>,
) -> Response {
    use icalendar::{Calendar, Component, EventLike};
    let feed = try_page!(feed(&state, &base.0.0, &params.0, true).await);
    let host = url::Url::parse(&feed.base).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
    let mut calendar = Calendar::new();
    calendar
        .name(&feed.title)
        .append_property(icalendar::Property::new("REFRESH-INTERVAL", "PT6H").add_parameter("VALUE", "DURATION").done())
        .append_property(("X-PUBLISHED-TTL", "PT6H"));
    for hit in &feed.hits {
        let day = hit.application_deadline;
        calendar.push(
            icalendar::Event::new()
                .uid(&format!("platsen-job-{}-deadline@{host}", hit.id))
                .timestamp(feed.now)
                .summary(&format!("Sista ansökningsdag: {} ({})", hit.title, hit.employer_name))
                .description(&format!("{}\n{}", Feed::summary(hit), feed.ad_url(hit)))
                .url(&feed.ad_url(hit))
                .starts(day)
                .ends(day + chrono::Duration::days(1))
                .done(),
        );
    }
    respond("text/calendar; charset=utf-8", calendar.done().to_string())
}
