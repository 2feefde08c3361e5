//! What every page shares: the layout, rendering a template with the
//! pages' headers, message and not-found pages, redirects, the static files
//! under content-hashed addresses, and the option of a drop-down.

use std::sync::LazyLock;

use askama::Template;
use poem::http::{StatusCode, header};
use poem::web::Path;
use poem::{Response, handler};
use sha2::{Digest, Sha256};

/// A static file served under an address that carries a hash of its
/// content, so it can be cached for a year and still change with a release.
struct Asset {
    body: &'static str,
    content_type: &'static str,
    href: LazyLock<String>,
}

macro_rules! asset {
    ($name:literal, $ext:literal, $content_type:literal) => {
        Asset {
            body: include_str!(concat!("../../static/", $name, ".", $ext)),
            content_type: $content_type,
            href: LazyLock::new(|| {
                let body = include_str!(concat!("../../static/", $name, ".", $ext));
                format!("/static/{}.{}.{}", $name, &hex::encode(Sha256::digest(body.as_bytes()))[..12], $ext)
            }),
        }
    };
}

static CSS: Asset = asset!("site", "css", "text/css; charset=utf-8");
/// Typeahead on the search box; the pages work without it.
static JS: Asset = asset!("site", "js", "text/javascript; charset=utf-8");
/// The site's icon, for browsers that take SVG.
static ICON: Asset = asset!("favicon", "svg", "image/svg+xml");
/// The same icon at 32 × 32 for `/favicon.ico`, which browsers, feed
/// readers and bookmark tools ask for whatever the page names.
static FAVICON_ICO: &[u8] = include_bytes!("../../static/favicon.ico");

/// What every page's layout needs.
pub(crate) struct Layout {
    pub(crate) title: String,
    pub(crate) description: Option<String>,
    pub(crate) canonical: Option<String>,
    pub(crate) noindex: bool,
    /// The query string (`?…`, or empty) of the feeds that follow this
    /// page's ads, announced in the head; `None`: no feeds.
    pub(crate) feeds: Option<String>,
    pub(crate) css: &'static str,
    pub(crate) js: &'static str,
    pub(crate) icon: &'static str,
}

impl Layout {
    pub(crate) fn new(title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            description: None,
            canonical: None,
            noindex: false,
            feeds: None,
            css: CSS.href.as_str(),
            js: JS.href.as_str(),
            icon: ICON.href.as_str(),
        }
    }
}

/// The base URL pages link to in feeds, canonical links and JSON-LD.
#[derive(Clone, Debug)]
pub struct PublicUrl(pub String);

pub(crate) fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => Response::builder()
            .status(status)
            .content_type("text/html; charset=utf-8")
            .header(header::CACHE_CONTROL, "no-cache")
            .header(
                "content-security-policy",
                "default-src 'self'; img-src 'self' https: data:; object-src 'none'; base-uri 'self'; \
                 form-action 'self'; frame-ancestors 'none'",
            )
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .content_type("text/plain; charset=utf-8")
                .body("Sidan kunde inte visas.")
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    layout: Layout,
    heading: String,
    text: String,
}

pub(crate) fn message(status: StatusCode, heading: &str, text: impl Into<String>) -> Response {
    let mut layout = Layout::new(heading);
    layout.noindex = true;
    html(status, &MessagePage { layout, heading: heading.to_owned(), text: text.into() })
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage {
    layout: Layout,
}

/// Whether a request comes from a browser reading pages (it asks for HTML,
/// and not under `/api/`), which gets an error page instead of problem+json.
pub fn wants_html(req: &poem::Request) -> bool {
    !req.uri().path().starts_with("/api/")
        && req
            .headers()
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|t| t.trim().starts_with("text/html")))
}

/// The page a browser gets for an address that does not exist (with the
/// status given: 404, or 405 for a page that only takes a form's post).
pub fn not_found_page(status: StatusCode) -> Response {
    let mut layout = Layout::new("Sidan finns inte");
    layout.noindex = true;
    html(status, &NotFoundPage { layout })
}

/// A redirect to another address of the same page.
pub(crate) fn found(to: &str) -> Response {
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, to)
        .header(header::CACHE_CONTROL, "no-cache")
        .finish()
}

pub(crate) fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "a page could not read its data");
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Tillfälligt fel",
        "Sidan kunde inte hämtas just nu. Försök igen om en stund.",
    )
}

/// An option of a drop-down or a choice.
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

/// `/favicon.ico`.
#[handler]
pub(crate) fn favicon() -> Response {
    Response::builder()
        .content_type("image/x-icon")
        .header(header::CACHE_CONTROL, "public, max-age=604800")
        .body(FAVICON_ICO)
}

/// A static file by its hashed name.
#[handler]
pub(crate) fn asset(file: Path<String>) -> Response {
    match [&CSS, &JS, &ICON].into_iter().find(|a| a.href.trim_start_matches("/static/") == file.0) {
        Some(a) => Response::builder()
            .content_type(a.content_type)
            .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
            .body(a.body),
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .content_type("text/plain; charset=utf-8")
            .body("Finns inte."),
    }
}
