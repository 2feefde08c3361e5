//! The job-alert pages: subscribing from the search page, confirming the
//! e-mailed link, managing an alert and unsubscribing, all by the link's
//! token, without an account.
//!
//! None of these forms needs a CSRF token: there is no session whose
//! authority a forged request could borrow. Subscribing only mails a
//! confirmation link to the address given, and the other forms act only
//! with the secret token from a mail. `POST /bevakningar/avsluta?token=…`
//! is RFC 8058's one-click unsubscription: it works from the mail's
//! headers alone, with no cookie and whatever the body.

use askama::Template;
use platsen_jobs::store::{Alert, AlertFrequency};
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Body, Request, Response, handler};
use serde::Deserialize;

use crate::http::session::{private, read_form};
use platsen_app::alerts::Refusal;
use platsen_app::saved_search::SavedSearch;

use super::SearchForm;
use crate::AppState;
use crate::http::page::{Choice, Layout, html, unavailable};

#[derive(Template)]
#[template(path = "alert.html")]
struct AlertPage {
    layout: Layout,
    step: AlertStep,
    what: String,
    /// The search page's address for the alert's search.
    search: String,
    token: String,
    frequency_name: String,
    frequencies: Vec<Choice>,
    notice: String,
    field: String,
}

/// Where a reader is on the alert pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AlertStep {
    /// A confirmation link is mailed.
    Subscribed,
    /// The subscription form had an error.
    Refused,
    /// Confirms from the mailed link.
    Confirm,
    /// Changes how often, or ends it.
    Manage,
    /// Asked to confirm ending it.
    Unsubscribe,
    /// Ended.
    Unsubscribed,
    /// The link's token is unknown or expired.
    Invalid,
}

fn page(status: StatusCode, step: AlertStep, alert: Option<&Alert>, token: &str, notice: &str) -> Response {
    let mut layout = Layout::new(match step {
        AlertStep::Confirm => "Bekräfta bevakningen",
        AlertStep::Manage => "Din jobbevakning",
        AlertStep::Unsubscribe | AlertStep::Unsubscribed => "Avsluta bevakningen",
        AlertStep::Subscribed => "Kolla din e-post",
        AlertStep::Refused | AlertStep::Invalid => "Jobbevakning",
    });
    layout.noindex = true;
    let (what, search, frequency) = match alert {
        Some(a) => (
            platsen_app::alerts::describe(a),
            platsen_app::alerts::saved_search_of(a)
                .map_or_else(|| "/jobb".to_owned(), |s| platsen_app::search::search_path(&s.query(), 1)),
            Some(a.frequency),
        ),
        None => (String::new(), String::new(), None),
    };
    let frequencies = [AlertFrequency::Instant, AlertFrequency::Daily, AlertFrequency::Weekly]
        .into_iter()
        .map(|f| Choice { value: f.code().into(), label: f.name_sv().into(), selected: Some(f) == frequency })
        .collect();
    let body = AlertPage {
        layout,
        step,
        what,
        search,
        token: token.to_owned(),
        frequency_name: frequency.map(|f| f.name_sv().to_lowercase()).unwrap_or_default(),
        frequencies,
        notice: notice.to_owned(),
        field: String::new(),
    };
    private(html(status, &body), None)
}

fn invalid_link() -> Response {
    page(StatusCode::NOT_FOUND, AlertStep::Invalid, None, "", "")
}

/// The subscription form under the search: the search's own parameters,
/// the address and the frequency.
#[derive(Debug, Default, Deserialize)]
pub(super) struct SubscribeForm {
    email: Option<String>,
    frequency: Option<String>,
    #[serde(flatten)]
    search: SearchForm,
}

#[handler]
pub(super) async fn subscribe(state: Data<&AppState>, req: &Request, body: Body) -> Response {
    let form: SubscribeForm = try_page!(read_form(body).await);
    let email = form.email.unwrap_or_default();
    let frequency = form.frequency.unwrap_or_else(|| "daily".into());
    let client = crate::http::client::client_ip(req);
    match state.app.subscribe(client, &email, &form.search, &frequency).await {
        Ok(()) => {
            let what = SavedSearch::from_form(&form.search)
                .map(|s| platsen_app::search::describe(&s.query()))
                .unwrap_or_default();
            let mut layout = Layout::new("Kolla din e-post");
            layout.noindex = true;
            let body = AlertPage {
                layout,
                step: AlertStep::Subscribed,
                what,
                search: String::new(),
                token: String::new(),
                frequency_name: String::new(),
                frequencies: Vec::new(),
                notice: String::new(),
                field: String::new(),
            };
            private(html(StatusCode::OK, &body), None)
        }
        Err(Refusal::TooMany) => {
            let mut r = super::message(
                StatusCode::TOO_MANY_REQUESTS,
                "För många bevakningar på en gång",
                "Vänta en stund och försök sedan igen.",
            );
            r.headers_mut().insert(poem::http::header::RETRY_AFTER, "600".parse().expect("header"));
            private(r, None)
        }
        Err(Refusal::Field(platsen_jobs::FieldError { field, message, .. })) => {
            let mut layout = Layout::new("Bevakningen sparades inte");
            layout.noindex = true;
            let body = AlertPage {
                layout,
                step: AlertStep::Refused,
                what: String::new(),
                search: String::new(),
                token: String::new(),
                frequency_name: String::new(),
                frequencies: Vec::new(),
                notice: format!("{}: {message}", field_name(&field)),
                field,
            };
            private(html(StatusCode::BAD_REQUEST, &body), None)
        }
    }
}

fn field_name(field: &str) -> &'static str {
    match field {
        "email" => "E-postadress",
        "frequency" => "Hur ofta",
        "q" => "Sökord",
        "role" => "Roll",
        "county" => "Län",
        "municipality" => "Kommun",
        "employment_type" => "Anställningsform",
        "remote" => "Distans",
        "employer" => "Arbetsgivare",
        _ => "Fält",
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct TokenParam {
    token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct TokenForm {
    token: Option<String>,
    frequency: Option<String>,
}

/// An alert by a link's token, or the page to answer.
async fn by_token(state: &AppState, token: Option<&str>) -> Result<(Alert, String), Response> {
    let token = token.map(str::trim).unwrap_or_default();
    match state.app.store.alert_by_token(token, state.app.clock.now()).await {
        Ok(a) => Ok((a, token.to_owned())),
        Err(platsen_jobs::Error::NotFound) => Err(invalid_link()),
        Err(e) => Err(unavailable(e)),
    }
}

#[handler]
pub(super) async fn confirm_page(state: Data<&AppState>, params: Query<TokenParam>) -> Response {
    let (alert, token) = try_page!(by_token(&state, params.token.as_deref()).await);
    if alert.confirmed_at.is_some() {
        return page(StatusCode::OK, AlertStep::Manage, Some(&alert), &token, "Bevakningen är redan bekräftad.");
    }
    page(StatusCode::OK, AlertStep::Confirm, Some(&alert), &token, "")
}

#[handler]
pub(super) async fn confirm(state: Data<&AppState>, body: Body) -> Response {
    let form: TokenForm = try_page!(read_form(body).await);
    let token = form.token.unwrap_or_default();
    match state.app.store.confirm_alert(token.trim(), state.app.clock.now()).await {
        Ok(a) => page(StatusCode::OK, AlertStep::Manage, Some(&a), token.trim(), "Klart! Bevakningen är aktiv."),
        Err(platsen_jobs::Error::NotFound) => invalid_link(),
        Err(e) => unavailable(e),
    }
}

#[handler]
pub(super) async fn manage_page(state: Data<&AppState>, params: Query<TokenParam>) -> Response {
    let (alert, token) = try_page!(by_token(&state, params.token.as_deref()).await);
    page(StatusCode::OK, AlertStep::Manage, Some(&alert), &token, "")
}

#[handler]
pub(super) async fn manage(state: Data<&AppState>, body: Body) -> Response {
    let form: TokenForm = try_page!(read_form(body).await);
    let (alert, token) = try_page!(by_token(&state, form.token.as_deref()).await);
    let Some(frequency) = form.frequency.as_deref().and_then(AlertFrequency::from_code) else {
        return page(
            StatusCode::BAD_REQUEST,
            AlertStep::Manage,
            Some(&alert),
            &token,
            "Välj hur ofta du vill få mejl.",
        );
    };
    match state.app.store.set_alert_frequency(&token, frequency, state.app.clock.now()).await {
        Ok(a) => page(StatusCode::OK, AlertStep::Manage, Some(&a), &token, "Sparat."),
        Err(platsen_jobs::Error::NotFound) => invalid_link(),
        Err(e) => unavailable(e),
    }
}

#[handler]
pub(super) async fn unsubscribe_page(state: Data<&AppState>, params: Query<TokenParam>) -> Response {
    let (alert, token) = try_page!(by_token(&state, params.token.as_deref()).await);
    page(StatusCode::OK, AlertStep::Unsubscribe, Some(&alert), &token, "")
}

/// RFC 8058 one-click (the token in the address, `List-Unsubscribe=One-Click`
/// in the body) and the page's button (the token in the form) alike.
#[handler]
pub(super) async fn unsubscribe(state: Data<&AppState>, params: Query<TokenParam>, body: Body) -> Response {
    let token = match params.0.token {
        Some(t) => t,
        None => {
            let form: TokenForm = try_page!(read_form(body).await);
            form.token.unwrap_or_default()
        }
    };
    match state.app.store.delete_alert(token.trim(), state.app.clock.now()).await {
        Ok(()) => page(StatusCode::OK, AlertStep::Unsubscribed, None, "", ""),
        Err(platsen_jobs::Error::NotFound) => invalid_link(),
        Err(e) => unavailable(e),
    }
}
