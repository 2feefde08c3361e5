//! Career-page embeds: an employer's open ads on its own site.
//!
//! - `/embed/v1/platsen.js`: the script a career page includes with one line
//!   (`static/embed.js`). It renders an accessible list into a shadow root,
//!   so no CSS crosses in either direction; CSS custom properties theme it.
//!   It also resizes the iframe variant.
//! - `/embed/v1/jobs.json`: what the script reads (and anyone may).
//! - `/embed/jobs`: the iframe variant, a page that runs the same script and
//!   tells its parent its height.
//!
//! Anyone may read the data from any origin, without credentials, unless the
//! employer keeps a list of allowed origins: then only those get the CORS
//! header, and only they may frame the iframe page.

use askama::Template;
use chrono::{DateTime, Utc};
use platsen_jobs::IdOrSlug;
use platsen_jobs::model::Employer;
use poem::http::{HeaderValue, StatusCode, header};
use poem::web::{Data, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde::{Deserialize, Serialize};

use super::{SearchForm, salary_text, swedish_date};
use crate::AppState;
use crate::http::page::PublicUrl;
use crate::http::problem::ApiError;

/// The widget, served at a fixed address (career pages paste it), so it is
/// cached for an hour rather than for ever.
static SCRIPT: &str = include_str!("../../static/embed.js");

/// At most this many ads in one embed.
const MAX_LIMIT: u32 = 50;

#[handler]
pub(super) fn script() -> Response {
    Response::builder()
        .content_type("text/javascript; charset=utf-8")
        .header(header::CACHE_CONTROL, "public, max-age=3600")
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .body(SCRIPT)
}

/// The embed's parameters, as the script's `data-` attributes give them.
#[derive(Debug, Default, Deserialize)]
pub(super) struct EmbedParams {
    employer: Option<String>,
    limit: Option<String>,
    role: Option<String>,
    county: Option<String>,
    municipality: Option<String>,
    q: Option<String>,
    lang: Option<String>,
    jsonld: Option<String>,
}

struct Embed {
    employer: Employer,
    query: platsen_jobs::search::SearchQuery,
    limit: u32,
    lang: &'static str,
    jsonld: bool,
}

/// Checks the parameters and finds the employer; or the problem to answer.
async fn embed(state: &AppState, p: &EmbedParams, now: DateTime<Utc>) -> Result<Embed, ApiError> {
    let Some(raw) = p.employer.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
        return Err(ApiError::bad_request("employer", "required", "Ange arbetsgivarens adressnamn (data-employer)."));
    };
    let key = IdOrSlug::parse(raw)
        .ok_or_else(|| ApiError::bad_request("employer", "invalid_identifier", "Ogiltigt adressnamn."))?;
    let limit = match p.limit.as_deref().map(str::trim) {
        None | Some("") => 10,
        Some(raw) => match raw.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(
                    "limit",
                    "out_of_range",
                    format!("Ett tal från 1 till {MAX_LIMIT}."),
                ));
            }
        },
    };
    let lang = match p.lang.as_deref().map(str::trim) {
        None | Some("") | Some("sv") => "sv",
        Some("en") => "en",
        Some(_) => return Err(ApiError::bad_request("lang", "unknown_language", "Välj sv eller en.")),
    };
    let jsonld = match p.jsonld.as_deref().map(str::trim) {
        None | Some("") | Some("0") | Some("false") => false,
        Some("1") | Some("true") => true,
        Some(_) => return Err(ApiError::bad_request("jsonld", "invalid_flag", "Ange true eller false.")),
    };
    let search = SearchForm {
        q: p.q.clone(),
        role: p.role.clone(),
        county: p.county.clone(),
        municipality: p.municipality.clone(),
        employer: Some(raw.to_owned()),
        sort: Some("newest".into()),
        ..Default::default()
    };
    let mut query = search.parse().map_err(ApiError::bad_field)?;
    query.per_page = limit;
    let employer = match state.app.store.employer(&key, now).await {
        Ok(e) => e,
        Err(platsen_jobs::Error::NotFound) => return Err(ApiError::not_found()),
        Err(e) => return Err(e.into()),
    };
    Ok(Embed { employer, query, limit, lang, jsonld })
}

/// The CORS answer for an origin: any origin when the employer keeps no
/// list, else only a listed one. Never with credentials.
fn allow_origin(employer: &Employer, origin: Option<&str>) -> Option<HeaderValue> {
    if employer.embed_origins.is_empty() {
        return Some(HeaderValue::from_static("*"));
    }
    let origin = origin?;
    employer.embed_origins.iter().any(|o| o == origin).then(|| HeaderValue::from_str(origin).ok()).flatten()
}

#[derive(Serialize)]
struct EmbedJob {
    id: i64,
    title: String,
    url: String,
    place: String,
    employment_type: String,
    deadline: String,
    deadline_text: String,
    closing_soon: bool,
    /// Featured (a Premiumannons): listed first, marked in words.
    featured: bool,
    salary: Option<String>,
    /// When the ad was published (RFC 3339), and that in words, in the
    /// embed's language ("Publicerad för 3 dagar sedan").
    published: Option<String>,
    published_text: Option<String>,
}

#[derive(Serialize)]
struct EmbedEmployer {
    name: String,
    slug: String,
    url: String,
    /// The logo's address, if it has one.
    logo: Option<String>,
}

#[derive(Serialize)]
struct EmbedData {
    employer: EmbedEmployer,
    jobs: Vec<EmbedJob>,
    /// How many open ads match in all (the list shows at most `limit`).
    total: i64,
    /// Where all of them are.
    more_url: String,
    /// schema.org `JobPosting` of each ad, when asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    json_ld: Vec<serde_json::Value>,
}

#[handler]
pub(super) async fn jobs(
    state: Data<&AppState>,
    base: Data<&PublicUrl>,
    req: &Request,
    params: Query<EmbedParams>,
) -> Response {
    let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let now = state.app.clock.now();
    let base = base.0.0.as_str();
    // Problems are readable from any origin, so the widget can say what is wrong.
    let fail = |e: ApiError| {
        let mut r = e.into_response();
        r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        r
    };
    let e = match embed(&state, &params.0, now).await {
        Ok(e) => e,
        Err(problem) => return fail(problem),
    };
    let results = match state.app.search(&e.query, now).await {
        Ok(r) => r,
        Err(e) => return fail(e.into()),
    };
    let today = platsen_jobs::validate::today_in_sweden(now);
    let mut json_ld = Vec::new();
    if e.jsonld {
        for hit in &results.hits {
            match state.app.store.public_job(&IdOrSlug::Id(hit.id), now).await {
                Ok(ad) => json_ld.push(
                    serde_json::from_str(&super::job_posting_json_ld(&ad, base, e.employer.logo.as_ref()))
                        .expect("JSON-LD is JSON"),
                ),
                // Closed between the search and now: leave it out.
                Err(platsen_jobs::Error::NotFound) => {}
                Err(err) => return fail(err.into()),
            }
        }
    }
    let english = e.lang == "en";
    let jobs = results
        .hits
        .iter()
        .take(e.limit as usize)
        .map(|h| EmbedJob {
            id: h.id,
            title: h.title.clone(),
            url: format!("{base}/jobb/{}", h.slug),
            place: if english {
                platsen_jobs::model::place_text_en(h.municipality, &h.more_places)
            } else {
                h.place_text()
            },
            employment_type: h.employment_type.name_sv().to_owned(),
            deadline: h.application_deadline.to_string(),
            deadline_text: if english {
                h.application_deadline.format("%-d %B %Y").to_string()
            } else {
                swedish_date(h.application_deadline)
            },
            closing_soon: platsen_app::search::closing_soon(h.application_deadline, today),
            featured: h.featured,
            salary: h.salary.as_ref().map(salary_text),
            published: h.published_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            published_text: h.published_at.map(|t| {
                if english {
                    platsen_app::format::published_ago_en(t, now)
                } else {
                    platsen_app::format::published_ago(t, now)
                }
            }),
        })
        .collect();
    let data = EmbedData {
        employer: EmbedEmployer {
            name: e.employer.name.clone(),
            slug: e.employer.slug.clone(),
            url: format!("{base}/arbetsgivare/{}", e.employer.slug),
            logo: e.employer.logo.as_ref().map(|l| format!("{base}{}", l.path())),
        },
        jobs,
        total: results.total,
        more_url: format!("{base}/arbetsgivare/{}", e.employer.slug),
        json_ld,
    };
    let mut resp = Response::builder()
        .status(StatusCode::OK)
        .content_type("application/json; charset=utf-8")
        .header(header::CACHE_CONTROL, "public, max-age=60")
        .body(serde_json::to_vec(&data).expect("embed data serializes"));
    let h = resp.headers_mut();
    if !e.employer.embed_origins.is_empty() {
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    if let Some(allow) = allow_origin(&e.employer, origin.as_deref()) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
    }
    resp
}

#[derive(Template)]
#[template(path = "embed_frame.html")]
struct FramePage {
    title: String,
    lang: &'static str,
    script: &'static str,
    employer: String,
    employer_url: String,
    limit: u32,
    role: String,
    county: String,
    municipality: String,
    q: String,
}

/// The iframe variant: the same list, in a page of its own that tells the
/// embedding page its height.
#[handler]
pub(super) async fn frame(state: Data<&AppState>, base: Data<&PublicUrl>, params: Query<EmbedParams>) -> Response {
    let now = state.app.clock.now();
    let e = match embed(&state, &params.0, now).await {
        Ok(e) => e,
        Err(problem) => return problem.into_response(),
    };
    let p = &params.0;
    let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let page = FramePage {
        title: format!("Lediga jobb hos {}", e.employer.name),
        lang: e.lang,
        script: "/embed/v1/platsen.js",
        employer: e.employer.slug.clone(),
        employer_url: format!("{}/arbetsgivare/{}", base.0.0, e.employer.slug),
        limit: e.limit,
        role: text(&p.role),
        county: text(&p.county),
        municipality: text(&p.municipality),
        q: text(&p.q),
    };
    let ancestors =
        if e.employer.embed_origins.is_empty() { "*".to_owned() } else { e.employer.embed_origins.join(" ") };
    match page.render() {
        Ok(body) => Response::builder()
            .content_type("text/html; charset=utf-8")
            .header(header::CACHE_CONTROL, "public, max-age=60")
            .header(
                "content-security-policy",
                format!(
                    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; \
                     base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}"
                ),
            )
            .body(body),
        Err(err) => {
            tracing::error!(error = %err, "rendering the embed frame failed");
            ApiError::internal().into_response()
        }
    }
}

/// The one-line snippet for an employer's career page, and the iframe
/// alternative, as the dashboard shows them.
pub(crate) fn snippets(base: &str, slug: &str) -> (String, String) {
    let one_line =
        format!(r#"<script src="{base}/embed/v1/platsen.js" data-employer="{slug}" data-limit="10" async></script>"#);
    let iframe = format!(
        r#"<iframe src="{base}/embed/jobs?employer={slug}" title="Lediga jobb" style="width:100%;border:0" loading="lazy"></iframe>
<script src="{base}/embed/v1/platsen.js" async></script>"#
    );
    (one_line, iframe)
}
