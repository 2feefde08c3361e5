//! The public web pages, server-rendered with askama templates
//! (`crates/platsen-api/templates/`): the job search, a job ad (with
//! schema.org `JobPosting` data and Open Graph tags), an employer's page,
//! `robots.txt` and `sitemap.xml`. They work without JavaScript.
//!
//! Pages read through the same store and search as the API; bad query
//! values answer 400 with a Swedish page naming the field, never a 500.

use askama::Template;
use platsen_app::saved::SavedAd;
use platsen_jobs::model::{EmploymentType, JobAd, RemoteMode, Salary, SalaryPeriod};
use platsen_jobs::search::{FacetCount, SearchSort};
use platsen_jobs::{IdOrSlug, JobFilter};
use platsen_taxonomy::Role;
use poem::http::{StatusCode, header};
use poem::web::{Data, Path, Query};
use poem::{Response, Route, handler};

use crate::http::allow::{get, post};

use crate::AppState;

mod account;
mod admin;
mod alerts;
mod billing;
mod embed;
mod feeds;
mod offer;
mod profile;
mod salary;
mod saved;

use crate::http::page::PublicUrl;
use crate::http::page::{Choice, Layout, found, html, message, unavailable};

use platsen_app::search::PER_PAGE;

/// Adds the pages to the service's routes.
pub fn mount(route: Route) -> Route {
    profile::mount(billing::mount(admin::mount(account::mount(route))))
        .at("/", get(search_page))
        .at("/jobb", get(search_page))
        .at("/jobb/:slug", get(job_page))
        .at("/jobb/:slug/ansok", get(apply_redirect))
        .at("/sparade", get(saved::saved_page))
        .at("/sparade/skicka", post(saved::mail_list))
        .at("/arbetsgivare/:slug", get(employer_page))
        .at("/lonestatistik", get(salary::page).post(salary::compare))
        .at("/lonestatistik/data.csv", get(salary::data_csv))
        .at("/lonestatistik/data.json", get(salary::data_json))
        .at("/platsannonsera", get(offer::offer).post(offer::place_order))
        .at("/platsannonsera/tack", get(offer::thanks))
        .at("/robots.txt", get(robots))
        .at("/sitemap.xml", get(sitemap))
        .at("/bevakningar", post(alerts::subscribe))
        .at("/bevakningar/bekrafta", get(alerts::confirm_page).post(alerts::confirm))
        .at("/bevakningar/hantera", get(alerts::manage_page).post(alerts::manage))
        .at("/bevakningar/avsluta", get(alerts::unsubscribe_page).post(alerts::unsubscribe))
        .at("/embed/v1/platsen.js", get(embed::script))
        .at("/embed/v1/jobs.json", get(embed::jobs))
        .at("/embed/jobs", get(embed::frame))
        .at("/feeds/jobs.rss", get(feeds::rss_feed))
        .at("/feeds/jobs.atom", get(feeds::atom_feed))
        .at("/feeds/jobs.json", get(feeds::json_feed))
        .at("/feeds/deadlines.ics", get(feeds::deadline_calendar))
        .at("/static/:file", get(crate::http::page::asset))
        .at("/logotyp/:file", get(logo_file))
        .at("/favicon.ico", get(crate::http::page::favicon))
}

fn bad_request(field: &str, reason: &str) -> Response {
    message(StatusCode::BAD_REQUEST, "Ogiltig sökning", format!("Fältet {field}: {reason}"))
}

/// An ad's status as its employer and the operator read it: a draft sent
/// back from review is "Avvisad", an ad the operator closed "Stängd av Platsen".
pub(crate) fn status_label(ad: &JobAd) -> &'static str {
    use platsen_jobs::model::JobStatus;
    match ad.status {
        JobStatus::Draft if ad.rejection_reason.is_some() => "Avvisad",
        JobStatus::Draft if ad.publish_at.is_some() => "Schemalagd",
        JobStatus::Closed if ad.rejection_reason.is_some() => "Stängd av Platsen",
        s => s.name_sv(),
    }
}

// ----- the search ----------------------------------------------------------

pub(crate) use platsen_app::format::swedish_date;
pub(crate) use platsen_app::search::{SearchForm, search_path, url_encode};

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

struct FilterView {
    name: &'static str,
    label: &'static str,
    all_label: &'static str,
    options: Vec<Choice>,
}

struct HitItem {
    slug: String,
    title: String,
    title_html: String,
    snippet_html: String,
    employer: String,
    employer_slug: String,
    place: String,
    employment: String,
    deadline: String,
    closing_soon: bool,
    featured: bool,
    published: Option<Published>,
    logo: Option<LogoImg>,
}

/// An employer's logo as an `<img>`: its address and size (the page's CSS
/// sets the size shown; the attributes keep the space while it loads).
pub(crate) struct LogoImg {
    pub(crate) src: String,
    pub(crate) width: i64,
    pub(crate) height: i64,
}

impl LogoImg {
    pub(crate) fn of(logo: Option<&platsen_jobs::model::Logo>) -> Option<LogoImg> {
        logo.map(|l| LogoImg { src: l.path(), width: l.width, height: l.height })
    }
}

/// When an ad was published: the date for `<time datetime>` and the words
/// ("Publicerad för 3 dagar sedan").
pub(crate) struct Published {
    iso: String,
    text: String,
}

impl Published {
    pub(crate) fn of(at: Option<chrono::DateTime<chrono::Utc>>, now: chrono::DateTime<chrono::Utc>) -> Option<Self> {
        at.map(|t| Published {
            iso: t.with_timezone(&chrono_tz::Europe::Stockholm).format("%Y-%m-%d").to_string(),
            text: platsen_app::format::published_ago(t, now),
        })
    }
}

/// An ad under "Utvalda jobb" on the start page.
struct FeaturedItem {
    slug: String,
    title: String,
    employer: String,
    place: String,
}

struct PageLink {
    label: String,
    href: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "jobs.html")]
struct SearchPage {
    layout: Layout,
    heading: String,
    q: String,
    filters: Vec<FilterView>,
    /// How many filters are chosen (shown on the folded filters on a phone).
    active_filters: usize,
    sorts: Vec<Choice>,
    summary: String,
    hits: Vec<HitItem>,
    /// On the start page (no words, no filter): the featured ads.
    featured: Vec<FeaturedItem>,
    pages: Vec<PageLink>,
    /// The feeds' query string (`?…`, or empty).
    feeds: String,
    /// The search's parameters, for the form that saves it as an alert.
    alert_fields: Vec<(String, String)>,
}

/// A facet's values as options, "Upphandlare (12)", keeping the selected
/// value even when no hit has it. Places and employers, which readers look
/// for by name, are listed by name in Swedish order; the rest as counted.
fn facet_options(
    counts: &[FacetCount],
    selected: Option<&str>,
    by_name: bool,
    name_of: impl Fn(&str) -> String,
) -> Vec<Choice> {
    let mut counts: Vec<&FacetCount> = counts.iter().collect();
    if by_name {
        counts.sort_by_cached_key(|c| platsen_taxonomy::swedish_sort_key(&c.name));
    }
    let mut out: Vec<Choice> = counts
        .iter()
        .map(|c| Choice {
            value: c.value.clone(),
            label: format!("{} ({})", c.name, c.count),
            selected: selected == Some(c.value.as_str()),
        })
        .collect();
    if let Some(s) = selected
        && !out.iter().any(|o| o.selected)
    {
        out.insert(0, Choice { value: s.to_owned(), label: format!("{} (0)", name_of(s)), selected: true });
    }
    out
}

/// The search's filters, each with its values and their counts.
fn filter_views(facets: &platsen_jobs::search::Facets, f: &JobFilter) -> Vec<FilterView> {
    vec![
        FilterView {
            name: "role",
            label: "Roll",
            all_label: "Alla roller",
            options: facet_options(&facets.role, f.role.map(Role::code), false, |c| {
                Role::from_code(c).map_or_else(|| c.to_owned(), |r| r.name_sv().to_owned())
            }),
        },
        FilterView {
            name: "county",
            label: "Län",
            all_label: "Hela landet",
            options: facet_options(&facets.county, f.county_code.as_deref(), true, |c| {
                platsen_taxonomy::county(c).map_or_else(|| c.to_owned(), |c| c.name.to_owned())
            }),
        },
        FilterView {
            name: "municipality",
            label: "Kommun",
            all_label: "Alla kommuner",
            options: facet_options(&facets.municipality, f.municipality_code.as_deref(), true, |c| {
                platsen_taxonomy::municipality(c).map_or_else(|| c.to_owned(), |m| m.name.to_owned())
            }),
        },
        FilterView {
            name: "employment_type",
            label: "Anställningsform",
            all_label: "Alla anställningsformer",
            options: facet_options(&facets.employment_type, f.employment_type.map(EmploymentType::code), false, |c| {
                EmploymentType::from_code(c).map_or_else(|| c.to_owned(), |e| e.name_sv().to_owned())
            }),
        },
        FilterView {
            name: "remote",
            label: "Distans",
            all_label: "Alla arbetsplatser",
            options: facet_options(&facets.remote, f.remote.map(RemoteMode::code), false, |c| {
                RemoteMode::from_code(c).map_or_else(|| c.to_owned(), |r| r.name_sv().to_owned())
            }),
        },
        FilterView {
            name: "employer",
            label: "Arbetsgivare",
            all_label: "Alla arbetsgivare",
            options: facet_options(
                &facets.employer,
                match &f.employer {
                    Some(IdOrSlug::Slug(s)) => Some(s.as_str()),
                    _ => None,
                },
                true,
                str::to_owned,
            ),
        },
    ]
}

/// The hits as the search page lists them.
fn hit_items(
    hits: Vec<platsen_jobs::search::SearchHit>,
    logos: &std::collections::HashMap<i64, platsen_jobs::model::Logo>,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<HitItem> {
    let today = platsen_jobs::validate::today_in_sweden(now);
    hits.into_iter()
        .map(|h| HitItem {
            place: h.place_text(),
            logo: LogoImg::of(logos.get(&h.employer_id)),
            published: Published::of(h.published_at, now),
            title: h.title,
            closing_soon: platsen_app::search::closing_soon(h.application_deadline, today),
            slug: h.slug,
            title_html: h.title_highlighted,
            snippet_html: h.snippet,
            employer: h.employer_name,
            employer_slug: h.employer_slug,
            employment: h.employment_type.name_sv().to_owned(),
            deadline: swedish_date(h.application_deadline),
            featured: h.featured,
        })
        .collect()
}

/// Links to the pages around the current one, with "Föregående" and "Nästa".
fn page_links(query: &platsen_jobs::search::SearchQuery, total_pages: u32) -> Vec<PageLink> {
    let mut pages = Vec::new();
    if total_pages > 1 {
        let (from, to) = (query.page.saturating_sub(3).max(1), (query.page + 3).min(total_pages));
        if query.page > 1 {
            pages.push(PageLink {
                label: "Föregående".into(),
                href: search_path(query, query.page - 1),
                current: false,
            });
        }
        for p in from..=to {
            pages.push(PageLink { label: p.to_string(), href: search_path(query, p), current: p == query.page });
        }
        if query.page < total_pages {
            pages.push(PageLink { label: "Nästa".into(), href: search_path(query, query.page + 1), current: false });
        }
    }
    pages
}

#[handler]
async fn search_page(state: Data<&AppState>, req: &poem::Request, params: Query<SearchForm>) -> Response {
    let query = match params.0.parse() {
        Ok(q) => q,
        Err(e) => return bad_request(&e.field, &e.message),
    };
    // The form sends every field, empty ones too: the address a reader
    // bookmarks or shares carries only what is chosen.
    let canonical = search_path(&query, query.page);
    if req.uri().query().is_some_and(|q| canonical.split_once('?').map(|(_, c)| c) != Some(q)) {
        return found(&canonical);
    }
    let now = state.app.clock.now();
    let results = match state.app.search(&query, now).await {
        Ok(r) => r,
        Err(e) => return unavailable(format!("{e:?}")),
    };
    state.app.count_search(results.hits.iter().map(|h| h.id));
    let total_pages = ((results.total + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE))
        .clamp(0, i64::from(platsen_app::search::MAX_PAGE)) as u32;
    // Past the last page (an old link, a typed number): the last page.
    if query.page > 1 && query.page > total_pages {
        return found(&search_path(&query, total_pages.max(1)));
    }
    let f = &query.filter;
    let filters = filter_views(&results.facets, f);
    let sorts = SearchSort::ALL
        .iter()
        .map(|&sort| Choice { value: sort.code().into(), label: sort.name_sv().into(), selected: query.sort == sort })
        .collect();
    let hits = hit_items(results.hits, &*state.app.logos().await, now);
    let pages = page_links(&query, total_pages);
    let summary = match results.total {
        0 => "Inga lediga jobb hittades.".to_owned(),
        1 => "1 ledigt jobb".to_owned(),
        n => format!("{} lediga jobb", platsen_salary::format::thousands(n)),
    };
    let heading = match &query.q {
        Some(q) => format!("Lediga jobb: {q}"),
        None => "Lediga jobb inom upphandling och inköp".to_owned(),
    };
    let mut layout = Layout::new(heading.clone());
    layout.description = Some("Lediga jobb för upphandlare, inköpare och avtalscontroller i hela Sverige.".to_owned());
    // Filtered and paged variants are not separate pages for search engines.
    layout.noindex = query.q.is_some() || query.page > 1;
    let mut feed_query = query.clone();
    feed_query.sort = SearchSort::Relevance;
    let feeds = search_path(&feed_query, 1).split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
    layout.feeds = Some(feeds.clone());
    let alert_fields: Vec<(String, String)> =
        serde_urlencoded::from_str(feeds.trim_start_matches('?')).unwrap_or_default();
    let active_filters = [
        f.role.is_some(),
        f.county_code.is_some(),
        f.municipality_code.is_some(),
        f.employment_type.is_some(),
        f.remote.is_some(),
        f.employer.is_some(),
    ]
    .into_iter()
    .filter(|on| *on)
    .count();
    let featured = if query.q.is_none() && active_filters == 0 && query.page <= 1 {
        match state.app.store.featured_jobs(6, now).await {
            Ok(ads) => ads
                .into_iter()
                .map(|ad| FeaturedItem {
                    place: ad.place_text(),
                    slug: ad.slug,
                    title: ad.title,
                    employer: ad.employer_name,
                })
                .collect(),
            Err(e) => return unavailable(format!("{e:?}")),
        }
    } else {
        Vec::new()
    };
    let page = SearchPage {
        featured,
        active_filters,
        alert_fields,
        feeds,
        layout,
        heading,
        q: query.q.clone().unwrap_or_default(),
        filters,
        sorts,
        summary,
        hits,
        pages,
    };
    html(StatusCode::OK, &page)
}

// ----- a job ad ------------------------------------------------------------

struct MarketItem {
    label: String,
    values: Vec<String>,
    offered: Option<String>,
    source: String,
}

#[derive(Template)]
#[template(path = "job.html")]
struct JobPage {
    layout: Layout,
    preview: bool,
    featured: bool,
    title: String,
    excerpt: String,
    url: String,
    json_ld: String,
    employer: String,
    employer_slug: String,
    place: String,
    employment: String,
    extent: String,
    remote: String,
    salary: Option<String>,
    deadline: String,
    closing_soon: bool,
    start: Option<String>,
    vacancies: i64,
    apply_href: Option<String>,
    description_html: String,
    market: Option<MarketItem>,
    contacts: Vec<ContactItem>,
    published: Option<Published>,
    share: Share,
    similar: Vec<SimilarJob>,
    similar_heading: &'static str,
    /// Where to apply, written out for the printed page.
    apply_print: Option<String>,
    slug: String,
    /// "Spara annonsen" without the script: the saved list with this ad.
    save_href: Option<String>,
    logo: Option<LogoImg>,
}

/// Ways to pass an ad on: its address to copy, an e-mail and a LinkedIn
/// post, each with the address (and the title) already filled in.
struct Share {
    url: String,
    mailto: String,
    linkedin: String,
}

impl Share {
    fn of(title: &str, url: &str) -> Share {
        // mailto: wants %20 for spaces, not the form encoding's `+`.
        let enc = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>().replace('+', "%20");
        Share {
            url: url.to_owned(),
            mailto: format!("mailto:?subject={}&body={}", enc(title), enc(&format!("{title}\n{url}"))),
            linkedin: format!("https://www.linkedin.com/sharing/share-offsite/?url={}", enc(url)),
        }
    }
}

/// A contact person on an ad, with links to write or call.
struct ContactItem {
    name: String,
    title: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    /// `tel:` with the number in international form, when it reads as one.
    phone_href: Option<String>,
}

/// A `tel:` link for a phone number as Swedish employers write it
/// ("08-123 456 78", "070 123 45 67", "+46 8 123 456 78"): digits in
/// international form, a leading 0 read as Sweden's trunk prefix. `None`
/// when it does not look like a number.
fn tel_href(phone: &str) -> Option<String> {
    let trimmed = phone.trim();
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 5 || digits.len() > 15 {
        return None;
    }
    let international = if trimmed.starts_with('+') {
        format!("+{digits}")
    } else if let Some(rest) = digits.strip_prefix("00") {
        format!("+{rest}")
    } else if let Some(rest) = digits.strip_prefix('0') {
        format!("+46{rest}")
    } else {
        digits
    };
    Some(format!("tel:{international}"))
}

/// "45 000–52 000 kr i månaden", with no-break spaces inside each amount so
/// that a narrow column never breaks a number in two.
fn salary_text(s: &Salary) -> String {
    let n = |v: i64| platsen_salary::format::thousands(v).replace(' ', "\u{a0}");
    let kr = |v: i64| format!("{}\u{a0}kr", n(v));
    let range = match (s.min, s.max) {
        (Some(a), Some(b)) if a != b => format!("{}–{}", n(a), kr(b)),
        (Some(a), _) | (None, Some(a)) => kr(a),
        (None, None) => return "Enligt överenskommelse".into(),
    };
    format!("{range} {}", s.period.name_sv())
}

/// schema.org `JobPosting` for Google for Jobs: the required properties
/// (title, description, datePosted, hiringOrganization, jobLocation) and the
/// recommended ones the ad has. Safe inside `<script>`: every `<` is escaped.
pub fn job_posting_json_ld(ad: &JobAd, base: &str, logo: Option<&platsen_jobs::model::Logo>) -> String {
    let employment_type: Vec<&str> = {
        let time = if ad.extent_percent >= 100 { "FULL_TIME" } else { "PART_TIME" };
        match ad.employment_type {
            EmploymentType::Tillsvidare => vec![time],
            EmploymentType::Visstid | EmploymentType::Vikariat => vec![time, "TEMPORARY"],
            EmploymentType::Konsultuppdrag => vec!["CONTRACTOR"],
        }
    };
    let mut posting = serde_json::json!({
        "@context": "https://schema.org/",
        "@type": "JobPosting",
        "title": ad.title,
        "description": ad.description,
        "identifier": { "@type": "PropertyValue", "name": ad.employer_name, "value": ad.id.to_string() },
        "datePosted": ad.published_at.unwrap_or(ad.created_at).format("%Y-%m-%d").to_string(),
        "validThrough": ad.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "employmentType": employment_type,
        "hiringOrganization": {
            "@type": "Organization",
            "name": ad.employer_name,
            "sameAs": format!("{base}/arbetsgivare/{}", ad.employer_slug),
        },
        // Applications are made on the employer's own site or by e-mail.
        "directApply": false,
        "totalJobOpenings": ad.vacancies,
        "url": format!("{base}/jobb/{}", ad.slug),
    });
    // One Place per place of the ad (an array only when there are several,
    // as Google's guidelines show it).
    let mut places: Vec<serde_json::Value> = ad
        .places()
        .map(|m| {
            serde_json::json!({
                "@type": "Place",
                "address": {
                    "@type": "PostalAddress",
                    "addressLocality": m.name,
                    "addressRegion": m.county.name,
                    "addressCountry": "SE",
                },
            })
        })
        .collect();
    posting["jobLocation"] = if places.len() == 1 { places.remove(0) } else { places.into() };
    if let Some(logo) = logo {
        posting["hiringOrganization"]["logo"] = format!("{base}{}", logo.path()).into();
    }
    // The occupation in SSYK 2012, as a code in a named code set
    // (schema.org `CategoryCode`), so that readers of SSYK place the ad.
    if let Some(ssyk) = ad.role.ssyk() {
        posting["occupationalCategory"] = serde_json::json!({
            "@type": "CategoryCode",
            "codeValue": ssyk.code,
            "name": ssyk.name,
            "inCodeSet": { "@type": "CategoryCodeSet", "name": "SSYK 2012" },
        });
    }
    if ad.remote == RemoteMode::Remote {
        posting["jobLocationType"] = "TELECOMMUTE".into();
        posting["applicantLocationRequirements"] = serde_json::json!({ "@type": "Country", "name": "Sverige" });
    }
    if let Some(s) = &ad.salary
        && (s.min.is_some() || s.max.is_some())
    {
        let mut value = serde_json::json!({
            "@type": "QuantitativeValue",
            "unitText": match s.period { SalaryPeriod::Month => "MONTH", SalaryPeriod::Hour => "HOUR" },
        });
        match (s.min, s.max) {
            (Some(a), Some(b)) if a != b => {
                value["minValue"] = a.into();
                value["maxValue"] = b.into();
            }
            (Some(a), _) | (None, Some(a)) => value["value"] = a.into(),
            (None, None) => {}
        }
        posting["baseSalary"] = serde_json::json!({ "@type": "MonetaryAmount", "currency": "SEK", "value": value });
    }
    serde_json::to_string(&posting).unwrap_or_default().replace('<', "\\u003c").replace('>', "\\u003e")
}

#[handler]
async fn job_page(state: Data<&AppState>, base: Data<&PublicUrl>, slug: Path<String>, req: &poem::Request) -> Response {
    let now = state.app.clock.now();
    // The saved list this page was reached from (`/sparade`, without the
    // script), so that "Spara" adds to it; a list that does not read is
    // ignored here (the saved page itself names what is wrong with it).
    let saved = saved::list_values(req.uri().query().unwrap_or(""), "sparade");
    let saved = platsen_app::saved::parse_list(saved.iter().map(String::as_str)).unwrap_or_default();
    if !IdOrSlug::parse(&slug.0).is_some_and(|k| matches!(k, IdOrSlug::Slug(_))) {
        return message(StatusCode::NOT_FOUND, "Annonsen finns inte", "Kontrollera adressen.");
    }
    let ad = match state.app.open_or_gone(&slug.0, now).await {
        Ok(Some(SavedAd::Open(ad))) => ad,
        Ok(Some(SavedAd::Gone(ad))) => return gone_page(&state, &ad).await,
        Ok(None) => return message(StatusCode::NOT_FOUND, "Annonsen finns inte", "Kontrollera adressen."),
        Err(e) => return unavailable(e),
    };
    state.app.count_view(ad.id);
    render_job(&state, &base.0.0, &ad, Some(saved)).await
}

struct SimilarJob {
    slug: String,
    title: String,
    employer: String,
    place: String,
    deadline: String,
    published: Option<Published>,
}

impl SimilarJob {
    fn of(j: JobAd, now: chrono::DateTime<chrono::Utc>) -> SimilarJob {
        SimilarJob {
            place: j.place_text(),
            deadline: swedish_date(j.application_deadline),
            published: Published::of(j.published_at, now),
            employer: j.employer_name,
            slug: j.slug,
            title: j.title,
        }
    }
}

#[derive(Template)]
#[template(path = "gone.html")]
struct GonePage {
    layout: Layout,
    title: String,
    employer: String,
    employer_slug: String,
    place: String,
    why: String,
    role_name: String,
    role_href: String,
    similar: Vec<SimilarJob>,
    similar_heading: &'static str,
}

/// The page of an ad that is no longer open (410): what it was, from whom,
/// and where to go instead, so the link is not a dead end.
async fn gone_page(state: &AppState, ad: &JobAd) -> Response {
    let now = state.app.clock.now();
    let similar = match state.app.similar_jobs(ad, 5, now).await {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let why = match ad.status {
        platsen_jobs::model::JobStatus::Expired => {
            format!("Ansökningstiden gick ut {}.", swedish_date(ad.application_deadline))
        }
        _ => "Annonsen är stängd: tjänsten är tillsatt eller ansökan har avslutats.".to_owned(),
    };
    let mut layout = Layout::new(format!("{} – inte längre öppen", ad.title));
    layout.noindex = true;
    let page = GonePage {
        layout,
        title: ad.title.clone(),
        employer: ad.employer_name.clone(),
        employer_slug: ad.employer_slug.clone(),
        place: ad.place_text_full(),
        why,
        role_name: ad.role.name_sv().to_lowercase(),
        role_href: format!("/jobb?role={}", ad.role.code()),
        similar: similar.into_iter().map(|j| SimilarJob::of(j, now)).collect(),
        similar_heading: "Lediga jobb som liknar den här",
    };
    html(StatusCode::GONE, &page)
}

/// Counts an apply click and sends the reader on to the employer's
/// application form (or e-mail).
#[handler]
async fn apply_redirect(state: Data<&AppState>, slug: Path<String>) -> Response {
    let now = state.app.clock.now();
    let Some(key) = IdOrSlug::parse(&slug.0).filter(|k| matches!(k, IdOrSlug::Slug(_))) else {
        return message(StatusCode::NOT_FOUND, "Annonsen finns inte", "Kontrollera adressen.");
    };
    let ad = match state.app.store.public_job(&key, now).await {
        Ok(ad) => ad,
        Err(platsen_jobs::Error::NotFound) => {
            return message(
                StatusCode::GONE,
                "Annonsen är inte längre öppen",
                "Tjänsten är tillsatt eller ansökningstiden har gått ut.",
            );
        }
        Err(e) => return unavailable(e),
    };
    let Some(target) = apply_target(&ad) else {
        return message(StatusCode::NOT_FOUND, "Ingen ansökningsväg", "Annonsen anger inte hur man ansöker.");
    };
    state.app.count_apply_click(ad.id);
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, target)
        .header(header::CACHE_CONTROL, "no-store")
        .header("x-robots-tag", "noindex")
        .finish()
}

/// Where "Ansök" leads: the employer's form, or a mail to its address.
fn apply_target(ad: &JobAd) -> Option<String> {
    ad.apply_url.clone().or_else(|| ad.apply_email.as_ref().map(|e| format!("mailto:{e}")))
}

/// The page of one ad: public, or a preview for its employer (`noindex`, a
/// banner, the apply link not counted).
/// `saved` is the reader's saved list as far as the page knows it (`None`:
/// the employer's preview, which is not for saving).
pub(crate) async fn render_job(state: &AppState, base: &str, ad: &JobAd, saved: Option<Vec<String>>) -> Response {
    let preview = saved.is_none();
    let save_href = saved.map(|mut list| {
        if !list.contains(&ad.slug) && list.len() < platsen_app::saved::MAX_SAVED {
            list.push(ad.slug.clone());
        }
        format!("/sparade?{}", platsen_app::saved::query_of(&list))
    });
    let now = state.app.clock.now();
    let base = base.trim_end_matches('/');
    let offered = ad.salary.as_ref().filter(|s| s.period == SalaryPeriod::Month).map(|s| (s.min, s.max));
    let market =
        state.app.market_band(ad.role, ad.employer_sector, ad.municipality.county.code, offered).await.map(|m| {
            // Whole kronor without a unit (the caption names it), so the
            // five columns fit a phone.
            let kr = |v: Option<i64>| v.map_or_else(|| "–".to_owned(), platsen_salary::format::thousands);
            MarketItem {
                label: m.label,
                values: vec![kr(m.p10), kr(m.p25), kr(m.median), kr(m.p75), kr(m.p90)],
                offered: m.offered.map(|o| o.text),
                source: m.source,
            }
        });
    let today = platsen_jobs::validate::today_in_sweden(now);
    let text = platsen_jobs::search::html_to_text(&ad.description);
    let excerpt = platsen_jobs::search::crop(&text, 200);
    let url = format!("{base}/jobb/{}", ad.slug);
    let apply_href =
        if preview { apply_target(ad) } else { apply_target(ad).map(|_| format!("/jobb/{}/ansok", ad.slug)) };
    let contacts = ad
        .contacts
        .iter()
        .map(|c| ContactItem {
            name: c.name.clone(),
            title: c.title.clone(),
            email: c.email.clone(),
            phone_href: c.phone.as_deref().and_then(tel_href),
            phone: c.phone.clone(),
        })
        .collect();
    // Where to go next, also when this ad is not for the reader (none in
    // an employer's preview, which is about the ad itself).
    let similar = if preview {
        Vec::new()
    } else {
        match state.app.similar_jobs(ad, 5, now).await {
            Ok(s) => s.into_iter().map(|j| SimilarJob::of(j, now)).collect(),
            Err(e) => return unavailable(e),
        }
    };
    let mut layout = Layout::new(format!("{} – {}", ad.title, ad.employer_name));
    layout.description = Some(excerpt.clone());
    layout.canonical = Some(url.clone());
    layout.noindex = preview;
    let share = Share::of(&ad.title, &url);
    let logos = state.app.logos().await;
    let logo = logos.get(&ad.employer_id);
    let page = JobPage {
        logo: LogoImg::of(logo),
        featured: ad.featured,
        layout,
        preview,
        json_ld: job_posting_json_ld(ad, base, logo),
        title: ad.title.clone(),
        excerpt,
        url,
        employer: ad.employer_name.clone(),
        employer_slug: ad.employer_slug.clone(),
        place: ad.place_text_full(),
        employment: ad.employment_type.name_sv().to_owned(),
        extent: format!("{} %", ad.extent_percent),
        remote: ad.remote.name_sv().to_owned(),
        salary: ad.salary.as_ref().map(salary_text),
        deadline: swedish_date(ad.application_deadline),
        closing_soon: platsen_app::search::closing_soon(ad.application_deadline, today),
        start: ad.start_text.clone(),
        vacancies: ad.vacancies,
        apply_href,
        description_html: ad.description.clone(),
        market,
        contacts,
        published: Published::of(ad.published_at, now),
        share,
        similar,
        similar_heading: "Liknande lediga jobb",
        apply_print: ad.apply_url.clone().or_else(|| ad.apply_email.clone()),
        slug: ad.slug.clone(),
        save_href,
    };
    html(StatusCode::OK, &page)
}

// ----- an employer ---------------------------------------------------------

struct EmployerJob {
    slug: String,
    title: String,
    place: String,
    deadline: String,
    published: Option<Published>,
}

#[derive(Template)]
#[template(path = "employer.html")]
struct EmployerPage {
    layout: Layout,
    /// The feeds' query string (`?employer=…`).
    feeds: String,
    name: String,
    description_html: Option<String>,
    website: Option<String>,
    logo: Option<LogoImg>,
    total: i64,
    jobs: Vec<EmployerJob>,
}

#[handler]
async fn employer_page(state: Data<&AppState>, base: Data<&PublicUrl>, slug: Path<String>) -> Response {
    let now = state.app.clock.now();
    let Some(key) = IdOrSlug::parse(&slug.0).filter(|k| matches!(k, IdOrSlug::Slug(_))) else {
        return message(StatusCode::NOT_FOUND, "Arbetsgivaren finns inte", "Kontrollera adressen.");
    };
    let employer = match state.app.store.employer(&key, now).await {
        Ok(e) => e,
        Err(platsen_jobs::Error::NotFound) => {
            return message(StatusCode::NOT_FOUND, "Arbetsgivaren finns inte", "Kontrollera adressen.");
        }
        Err(e) => return unavailable(e),
    };
    let filter = JobFilter { employer: Some(IdOrSlug::Id(employer.id)), ..JobFilter::default() };
    let jobs = match state.app.public_jobs(&filter, 1, 100, now).await {
        Ok(p) => p,
        Err(e) => return unavailable(e),
    };
    let mut layout = Layout::new(format!("Lediga jobb hos {}", employer.name));
    let feeds = format!("?employer={}", employer.slug);
    layout.feeds = Some(feeds.clone());
    layout.canonical = Some(format!("{}/arbetsgivare/{}", base.0.0.trim_end_matches('/'), employer.slug));
    let page = EmployerPage {
        layout,
        feeds,
        logo: LogoImg::of(employer.logo.as_ref()),
        name: employer.name,
        description_html: employer.description,
        website: employer.website,
        total: jobs.total,
        jobs: jobs
            .items
            .into_iter()
            .map(|j| EmployerJob {
                published: Published::of(j.published_at, now),
                place: j.place_text(),
                deadline: swedish_date(j.application_deadline),
                slug: j.slug,
                title: j.title,
            })
            .collect(),
    };
    html(StatusCode::OK, &page)
}

// ----- robots, sitemap, assets --------------------------------------------

/// An employer's logo, by its digest: the same address always has the same
/// bytes (a new logo has a new digest), so it is cached for a year.
#[handler]
async fn logo_file(state: Data<&AppState>, file: Path<String>) -> Response {
    let not_found = || message(StatusCode::NOT_FOUND, "Bilden finns inte", "Kontrollera adressen.");
    let Some(digest) =
        file.0.strip_suffix(".png").filter(|d| d.len() == 16 && d.bytes().all(|b| b.is_ascii_hexdigit()))
    else {
        return not_found();
    };
    match state.app.store.logo_png(&digest.to_ascii_lowercase()).await {
        Ok(Some(png)) => Response::builder()
            .content_type("image/png")
            .header(poem::http::header::CACHE_CONTROL, "public, max-age=31536000, immutable")
            .header(poem::http::header::ETAG, format!("\"{digest}\""))
            .body(png),
        Ok(None) => not_found(),
        Err(e) => unavailable(e),
    }
}

#[handler]
fn robots(base: Data<&PublicUrl>) -> Response {
    let body = format!(
        "User-agent: *\nDisallow: /api/\nDisallow: /konto\nAllow: /api/docs\n\nSitemap: {}/sitemap.xml\n",
        base.0.0.trim_end_matches('/')
    );
    Response::builder().content_type("text/plain; charset=utf-8").body(body)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

#[handler]
async fn sitemap(state: Data<&AppState>, base: Data<&PublicUrl>) -> Response {
    let now = state.app.clock.now();
    let ads = match state.app.store.open_job_slugs(now).await {
        Ok(a) => a,
        Err(e) => return unavailable(e),
    };
    let base = base.0.0.trim_end_matches('/');
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for path in ["/jobb", "/lonestatistik"] {
        out.push_str(&format!("<url><loc>{}</loc></url>\n", xml_escape(&format!("{base}{path}"))));
    }
    let mut employers: Vec<&str> = ads.iter().map(|(_, e, _)| e.as_str()).collect();
    employers.sort_unstable();
    employers.dedup();
    for (slug, _, updated) in &ads {
        out.push_str(&format!(
            "<url><loc>{}</loc><lastmod>{}</lastmod></url>\n",
            xml_escape(&format!("{base}/jobb/{slug}")),
            updated.format("%Y-%m-%d")
        ));
    }
    for e in employers {
        out.push_str(&format!("<url><loc>{}</loc></url>\n", xml_escape(&format!("{base}/arbetsgivare/{e}"))));
    }
    out.push_str("</urlset>\n");
    Response::builder()
        .content_type("application/xml; charset=utf-8")
        .header(header::CACHE_CONTROL, "max-age=300")
        .body(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_become_international_tel_links() {
        assert_eq!(tel_href("08-123 456 78").as_deref(), Some("tel:+46812345678"));
        assert_eq!(tel_href("070 123 45 67").as_deref(), Some("tel:+46701234567"));
        assert_eq!(tel_href("+46 (0)8 123 45").as_deref(), Some("tel:+460812345"));
        assert_eq!(tel_href("0046 8 123 456").as_deref(), Some("tel:+468123456"));
        assert_eq!(tel_href("ankn. 12"), None, "too short for a number");
        assert_eq!(tel_href("1234567890123456789"), None, "too long for a number");
    }
}
