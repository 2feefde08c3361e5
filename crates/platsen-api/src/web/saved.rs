//! "Sparade annonser": the saved list's page and mailing it (see
//! `platsen_app::saved` for where the list lives). Like the alert forms,
//! mailing needs no CSRF token: there is no session to borrow, and it only
//! sends public ads to the address typed, at a bounded rate.

use askama::Template;
use platsen_app::alerts::Refusal;
use platsen_app::saved::{PARAM, SavedAd, parse_list, query_of};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Body, Request, Response, handler};
use serde::Deserialize;

use super::{Published, swedish_date};
use crate::AppState;
use crate::http::page::{Layout, html, message, unavailable};
use crate::http::session::{private, read_form};

struct SavedItem {
    slug: String,
    title: String,
    employer: String,
    place: String,
    deadline: String,
    published: Option<Published>,
    gone: bool,
    /// The link to this page without this ad.
    remove_href: String,
    /// The ad's page, carrying the list for readers without the script.
    href: String,
}

#[derive(Template)]
#[template(path = "saved.html")]
struct SavedPage {
    layout: Layout,
    items: Vec<SavedItem>,
    summary: String,
    /// The list, comma-separated, for the mail form.
    list: String,
    /// A refusal of the mail form, next to its field.
    error: Option<String>,
    /// The list was mailed to this address.
    mailed: Option<String>,
}

/// The values of `name` in a query string, in order.
pub(super) fn list_values(raw: &str, name: &str) -> Vec<String> {
    url::form_urlencoded::parse(raw.as_bytes()).filter(|(k, _)| k == name).map(|(_, v)| v.into_owned()).collect()
}

async fn render(
    state: &AppState,
    slugs: &[String],
    status: StatusCode,
    error: Option<String>,
    mailed: Option<String>,
) -> Response {
    let now = state.app.clock.now();
    let ads = match state.app.saved_ads(slugs, now).await {
        Ok(a) => a,
        Err(e) => return unavailable(e),
    };
    // What exists, in order: the list the page's links carry on.
    let kept: Vec<String> = ads
        .iter()
        .map(|a| match a {
            SavedAd::Open(ad) | SavedAd::Gone(ad) => ad.slug.clone(),
        })
        .collect();
    let items: Vec<SavedItem> = ads
        .into_iter()
        .map(|a| {
            let (ad, gone) = match a {
                SavedAd::Open(ad) => (ad, false),
                SavedAd::Gone(ad) => (ad, true),
            };
            let others: Vec<String> = kept.iter().filter(|s| **s != ad.slug).cloned().collect();
            SavedItem {
                remove_href: if others.is_empty() {
                    "/sparade".to_owned()
                } else {
                    format!("/sparade?{}", query_of(&others))
                },
                href: format!("/jobb/{}?sparade={}", ad.slug, kept.join(",")),
                place: ad.place_text(),
                deadline: swedish_date(ad.application_deadline),
                published: Published::of(ad.published_at, now),
                employer: ad.employer_name,
                title: ad.title,
                slug: ad.slug,
                gone,
            }
        })
        .collect();
    let open = items.iter().filter(|i| !i.gone).count();
    let summary = match (items.len(), open) {
        (1, 1) => "1 sparad annons".to_owned(),
        (n, o) if n == o => format!("{n} sparade annonser"),
        (n, o) => format!("{n} sparade annonser, {o} öppna"),
    };
    let mut layout = Layout::new("Sparade annonser");
    layout.noindex = true;
    let page = SavedPage { layout, items, summary, list: kept.join(","), error, mailed };
    private(html(status, &page), None)
}

/// `GET /sparade?annons=…`: the saved ads, open ones first in their order.
#[handler]
pub(super) async fn saved_page(state: Data<&AppState>, req: &Request) -> Response {
    let values = list_values(req.uri().query().unwrap_or(""), PARAM);
    match parse_list(values.iter().map(String::as_str)) {
        Ok(slugs) => render(&state, &slugs, StatusCode::OK, None, None).await,
        Err(e) => private(
            message(StatusCode::BAD_REQUEST, "Listan kunde inte läsas", format!("Fältet {}: {}", e.field, e.message)),
            None,
        ),
    }
}

#[derive(Debug, Default, Deserialize)]
struct MailForm {
    email: Option<String>,
    /// The list, comma-separated.
    annons: Option<String>,
}

/// `POST /sparade/skicka`: mails the list's open ads to the address typed.
#[handler]
pub(super) async fn mail_list(state: Data<&AppState>, req: &Request, body: Body) -> Response {
    let form: MailForm = try_page!(read_form(body).await);
    let slugs = match parse_list(form.annons.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            return private(
                message(
                    StatusCode::BAD_REQUEST,
                    "Listan kunde inte läsas",
                    format!("Fältet {}: {}", e.field, e.message),
                ),
                None,
            );
        }
    };
    let email = form.email.unwrap_or_default();
    let client = crate::http::client::client_ip(req);
    match state.app.mail_saved_ads(client, &email, &slugs).await {
        Ok(_) => render(&state, &slugs, StatusCode::OK, None, Some(email.trim().to_owned())).await,
        Err(Refusal::TooMany) => {
            let mut r = message(
                StatusCode::TOO_MANY_REQUESTS,
                "För många mejl på en gång",
                "Vänta en stund och försök sedan igen.",
            );
            r.headers_mut().insert(poem::http::header::RETRY_AFTER, "600".parse().expect("header"));
            private(r, None)
        }
        Err(Refusal::Field(e)) => {
            let status = if e.code == "unavailable" {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            render(&state, &slugs, status, Some(e.message), None).await
        }
    }
}
