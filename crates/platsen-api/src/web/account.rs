//! `/konto`: where an employer's users sign in and manage their ads (create,
//! edit, preview, publish, close, reopen; views and apply clicks), and reset
//! a forgotten password.
//!
//! - Sign-in checks an argon2id hash; the session is a random token in an
//!   `HttpOnly`, `SameSite=Lax` cookie (`Secure` when the public address is
//!   https), stored only as its SHA-256.
//! - Every form carries a CSRF token: the session's own once signed in, and
//!   before that a random one that must match a `SameSite=Strict` cookie
//!   (double submit), so even the sign-in form cannot be posted from
//!   elsewhere. A post without it is refused with 403.
//! - Sign-in attempts are limited per address and per client.
//! - Forms answer with the same validation messages as the API, next to the
//!   field, and keep what was typed.

use std::collections::HashMap;

use askama::Template;
use chrono::NaiveDate;
use platsen_jobs::input::{ContactInput, JobInput, JobPatch, Patch};
use platsen_jobs::model::{Actor, EmploymentType, JobAd, JobStatus, MAX_PLACES, RemoteMode, SalaryPeriod};
use platsen_jobs::sanitize::DescriptionFormat;
use platsen_jobs::store::Session;
use platsen_jobs::{FieldError, Lifecycle};
use platsen_taxonomy::Role;
use poem::http::{StatusCode, header};
use poem::web::{Data, Path, Query};
use poem::{Body, Request, Response, Route, handler};

use crate::http::allow::{get, post};
use serde::Deserialize;

use super::status_label;
use crate::AppState;
use crate::http::page::{Choice, Layout, PublicUrl, html, message, unavailable};
use crate::http::session::{
    CsrfOnly, MAX_AD_FORM_BODY, SESSION_COOKIE, actor, anonymous_csrf, anonymous_csrf_ok, cookie, csrf_refused, layout,
    private, read_form, read_form_within, see_other, session, session_for_post, set_cookie,
};

/// Adds the account pages to the routes.
pub fn mount(route: Route) -> Route {
    route
        .at("/konto", get(dashboard))
        .at("/konto/logga-in", post(sign_in))
        .at("/konto/logga-ut", post(sign_out))
        .at("/konto/glomt", get(forgot_page).post(forgot))
        .at("/konto/aterstall", get(reset_page).post(reset))
        .at("/konto/annonser/ny", get(new_ad_page).post(create_ad))
        .at("/konto/annonser/:id", get(edit_ad_page).post(update_ad))
        .at("/konto/annonser/:id/forhandsgranska", get(preview_ad))
        .at("/konto/annonser/:id/status", post(change_status))
        .at("/konto/annonser/:id/stang", get(close_page))
        .at("/konto/annonser/:id/statistik", get(stats_page))
        .at("/konto/inbaddning", post(save_embed_origins))
}

// ----- sign-in --------------------------------------------------------------

#[derive(Template)]
#[template(path = "account_sign_in.html")]
struct SignInPage {
    layout: Layout,
    csrf: String,
    email: String,
    error: Option<String>,
    notice: Option<String>,
}

fn sign_in_page(
    state: &AppState,
    req: &Request,
    status: StatusCode,
    email: &str,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let (csrf, set) = anonymous_csrf(state, req);
    let page = SignInPage { layout: layout("Logga in"), csrf, email: email.to_owned(), error, notice };
    private(html(status, &page), set)
}

#[derive(Debug, Default, Deserialize)]
struct SignInForm {
    csrf: Option<String>,
    email: Option<String>,
    password: Option<String>,
}

#[handler]
async fn sign_in(state: Data<&AppState>, req: &Request, body: Body) -> Response {
    let form: SignInForm = try_page!(read_form(body).await);
    if !anonymous_csrf_ok(req, form.csrf.as_deref()) {
        tracing::warn!("sign-in post without a valid CSRF token refused");
        return csrf_refused();
    }
    let email = form.email.unwrap_or_default();
    let password = form.password.unwrap_or_default();
    if email.trim().is_empty() || password.is_empty() {
        let e = "Fyll i både e-postadress och lösenord.".to_owned();
        return sign_in_page(&state, req, StatusCode::BAD_REQUEST, &email, Some(e), None);
    }
    if email.len() > 254 || password.chars().count() > platsen_jobs::passwords::MAX_LEN {
        let e = "Fel e-postadress eller lösenord.".to_owned();
        return sign_in_page(&state, req, StatusCode::BAD_REQUEST, "", Some(e), None);
    }
    let client = crate::http::client::client_ip(req);
    if !state.web.sign_in.may_try(&email, client) {
        tracing::warn!(client = ?client, "sign-in refused: too many failures");
        let e = "För många inloggningsförsök. Vänta en minut och försök igen.".to_owned();
        let mut r = sign_in_page(&state, req, StatusCode::TOO_MANY_REQUESTS, &email, Some(e), None);
        r.headers_mut().insert(header::RETRY_AFTER, "60".parse().expect("header"));
        return r;
    }
    match state.app.store.sign_in(&email, &password, state.app.clock.now()).await {
        Ok(Some(new)) => {
            let max_age = platsen_jobs::store::SESSION_HOURS * 3600;
            let cookie = set_cookie(&state, SESSION_COOKIE, &new.token, "/", "Lax", max_age);
            private(see_other("/konto"), Some(cookie))
        }
        Ok(None) => {
            state.web.sign_in.failed(&email, client);
            tracing::info!(client = ?client, "sign-in refused: wrong address or password");
            let e = "Fel e-postadress eller lösenord.".to_owned();
            sign_in_page(&state, req, StatusCode::UNAUTHORIZED, &email, Some(e), None)
        }
        Err(e) => unavailable(e),
    }
}

#[handler]
async fn sign_out(state: Data<&AppState>, req: &Request, body: Body) -> Response {
    let form: CsrfOnly = try_page!(read_form(body).await);
    if let Err(r) = session_for_post(&state, req, form.csrf.as_deref()).await {
        return r;
    }
    if let Some(token) = cookie(req, SESSION_COOKIE)
        && let Err(e) = state.app.store.sign_out(token).await
    {
        return unavailable(e);
    }
    private(see_other("/konto?utloggad=1"), Some(set_cookie(&state, SESSION_COOKIE, "", "/", "Lax", 0)))
}

// ----- the dashboard --------------------------------------------------------

struct AdRow {
    id: i64,
    title: String,
    status: String,
    /// Why the ad was sent back or taken down.
    reason: Option<String>,
    slug: String,
    public: bool,
    deadline: String,
    views: i64,
    clicks: i64,
}

/// A grant of ad credits on the dashboard.
struct GrantRow {
    remaining: i64,
    featured: bool,
    ad_days: i64,
    valid_until: String,
}

/// An order on the dashboard.
struct OrderRow {
    number: String,
    product: String,
    status: String,
    date: String,
}

/// How the employer pays, and what it has.
struct Billing {
    mode: platsen_jobs::model::BillingMode,
    balance: i64,
    grants: Vec<GrantRow>,
    orders: Vec<OrderRow>,
    invoices: Vec<super::billing::InvoiceRow>,
}

#[derive(Template)]
#[template(path = "account.html")]
struct DashboardPage {
    layout: Layout,
    billing: Billing,
    csrf: String,
    email: String,
    employer: String,
    employer_slug: String,
    ads: Vec<AdRow>,
    total: i64,
    /// The career-page snippet, its iframe alternative, and the feed's address.
    embed_script: String,
    embed_iframe: String,
    feed_url: String,
    /// The allowed origins as shown in the form (one per line), and what is
    /// wrong with them, if the last post was refused.
    embed_origins: String,
    embed_error: Option<String>,
    embed_saved: bool,
}

#[derive(Debug, Default, Deserialize)]
struct DashboardParams {
    utloggad: Option<String>,
    inbaddning: Option<String>,
}

#[handler]
async fn dashboard(
    state: Data<&AppState>,
    base: Data<&PublicUrl>,
    req: &Request,
    params: Query<DashboardParams>,
) -> Response {
    let s = match session(&state, req).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            let notice = params.utloggad.as_ref().map(|_| "Du är utloggad.".to_owned());
            return sign_in_page(&state, req, StatusCode::OK, "", None, notice);
        }
        Err(r) => return r,
    };
    let Some(employer_id) = s.user.employer_id else {
        return super::admin::overview(&state, s).await;
    };
    let saved = params.inbaddning.is_some();
    employer_dashboard(&state, &base.0.0, s, employer_id, StatusCode::OK, None, saved).await
}

/// An employer's dashboard; `origins_form` is a refused allow-list post (what
/// was typed, and why it was refused).
async fn employer_dashboard(
    state: &AppState,
    base: &str,
    s: Session,
    employer_id: i64,
    status: StatusCode,
    origins_form: Option<(String, String)>,
    embed_saved: bool,
) -> Response {
    let now = state.app.clock.now();
    state.app.write_counts().await;
    let key = platsen_jobs::IdOrSlug::Id(employer_id);
    let (employer, ads, counts, credits, invoices) = match tokio::try_join!(
        state.app.store.employer(&key, now),
        state.app.store.employer_jobs(employer_id, None, 1, 100, now),
        state.app.store.job_counts(employer_id),
        state.app.store.credits(employer_id, now),
        state.app.store.invoices(Some(employer_id), None, 50),
    ) {
        Ok(x) => x,
        Err(e) => return unavailable(e),
    };
    let orders = match state.app.store.orders_of(&employer.organization_number, 20).await {
        Ok(o) => o,
        Err(e) => return unavailable(e),
    };
    let billing = Billing {
        mode: credits.billing_mode,
        balance: credits.balance(),
        grants: credits
            .grants
            .iter()
            .map(|g| GrantRow {
                remaining: g.remaining,
                featured: g.featured,
                ad_days: g.ad_days,
                valid_until: super::swedish_date(platsen_jobs::validate::today_in_sweden(g.valid_until)),
            })
            .collect(),
        orders: orders
            .into_iter()
            .map(|o| OrderRow {
                number: o.number(),
                product: format!("{} × {}", o.quantity, o.product_name),
                status: o.status.name_sv().to_owned(),
                date: super::swedish_date(platsen_jobs::validate::today_in_sweden(o.created_at)),
            })
            .collect(),
        invoices: invoices.iter().map(Into::into).collect(),
    };
    let rows = ads
        .items
        .iter()
        .map(|ad| {
            let (views, clicks) = counts.get(&ad.id).copied().unwrap_or_default();
            AdRow {
                id: ad.id,
                title: ad.title.clone(),
                status: status_label(ad).to_owned(),
                reason: ad.rejection_reason.clone(),
                slug: ad.slug.clone(),
                public: ad.is_public(),
                deadline: super::swedish_date(ad.application_deadline),
                views,
                clicks,
            }
        })
        .collect();
    let (embed_script, embed_iframe) = super::embed::snippets(base, &employer.slug);
    let (embed_origins, embed_error) = match origins_form {
        Some((typed, error)) => (typed, Some(error)),
        None => (employer.embed_origins.join("\n"), None),
    };
    let page = DashboardPage {
        billing,
        layout: layout("Ditt konto"),
        csrf: s.csrf,
        email: s.user.email,
        feed_url: format!("{base}/feeds/jobs.rss?employer={}", employer.slug),
        employer: employer.name,
        employer_slug: employer.slug,
        ads: rows,
        total: ads.total,
        embed_script,
        embed_iframe,
        embed_origins,
        embed_error,
        embed_saved,
    };
    private(html(status, &page), None)
}

#[derive(Debug, Default, Deserialize)]
struct OriginsForm {
    csrf: Option<String>,
    origins: Option<String>,
}

/// Saves the sites allowed to embed the employer's ads.
#[handler]
async fn save_embed_origins(state: Data<&AppState>, base: Data<&PublicUrl>, req: &Request, body: Body) -> Response {
    let form: OriginsForm = try_page!(read_form(body).await);
    let s = try_page!(session_for_post(&state, req, form.csrf.as_deref()).await);
    let (Some(actor), Some(employer_id)) = (actor(&s), s.user.employer_id) else {
        return not_found_ad();
    };
    let typed = form.origins.unwrap_or_default();
    if typed.len() > 5000 {
        let error = "Högst 5 000 tecken.".to_owned();
        return employer_dashboard(
            &state,
            &base.0.0,
            s,
            employer_id,
            StatusCode::BAD_REQUEST,
            Some((String::new(), error)),
            false,
        )
        .await;
    }
    let lines: Vec<String> = typed.lines().map(str::to_owned).collect();
    match state.app.store.set_embed_origins(actor, employer_id, &lines, state.app.clock.now()).await {
        Ok(_) => see_other("/konto?inbaddning=sparad#inbaddning"),
        Err(platsen_jobs::Error::Invalid(errors)) => {
            let error = errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join(" ");
            employer_dashboard(&state, &base.0.0, s, employer_id, StatusCode::BAD_REQUEST, Some((typed, error)), false)
                .await
        }
        Err(e) => unavailable(e),
    }
}

// ----- the ad form ----------------------------------------------------------

/// The ad form as posted: text throughout, so anything typed comes back with
/// a message instead of a bare 400.
#[derive(Debug, Default, Clone, Deserialize)]
struct AdForm {
    csrf: Option<String>,
    version: Option<String>,
    title: Option<String>,
    description: Option<String>,
    /// `markdown` or `html`: how the description in the box is written
    /// (an ad from an applicant-tracking system may be HTML).
    description_format: Option<String>,
    role: Option<String>,
    municipality_code: Option<String>,
    remote: Option<String>,
    employment_type: Option<String>,
    extent_percent: Option<String>,
    salary_min: Option<String>,
    salary_max: Option<String>,
    salary_period: Option<String>,
    vacancies: Option<String>,
    application_deadline: Option<String>,
    start_text: Option<String>,
    apply_url: Option<String>,
    apply_email: Option<String>,
    /// The numbered fields: the contact people's, `contact_name_1` …
    /// `contact_phone_5` (see [`contact_key`]), and the further places,
    /// `place_2` … `place_10` (see [`place_key`]).
    #[serde(flatten)]
    contacts: HashMap<String, String>,
}

/// The form field of the ad's `n`th place (2-based: the first is
/// `municipality_code`).
fn place_key(n: usize) -> String {
    format!("place_{n}")
}

/// The label of the ad's `n`th place's field (2-based).
fn place_label(n: usize) -> &'static str {
    const LABELS: [&str; MAX_PLACES - 1] = [
        "Kommun 2 (valfri)",
        "Kommun 3 (valfri)",
        "Kommun 4 (valfri)",
        "Kommun 5 (valfri)",
        "Kommun 6 (valfri)",
        "Kommun 7 (valfri)",
        "Kommun 8 (valfri)",
        "Kommun 9 (valfri)",
        "Kommun 10 (valfri)",
    ];
    LABELS[n - 2]
}

/// The parts of a contact person in the form, in order.
const CONTACT_PARTS: [&str; 4] = ["name", "title", "email", "phone"];

/// The form field of part `part` of contact person `n` (1-based).
fn contact_key(part: &str, n: usize) -> String {
    format!("contact_{part}_{n}")
}

impl AdForm {
    fn of(ad: &JobAd) -> AdForm {
        let n = |v: Option<i64>| v.map(|v| v.to_string());
        AdForm {
            csrf: None,
            version: Some(ad.version.to_string()),
            title: Some(ad.title.clone()),
            description: Some(ad.description_source().into_owned()),
            description_format: Some(ad.description_format.code().to_owned()),
            role: Some(ad.role.code().to_owned()),
            municipality_code: Some(ad.municipality.code.to_owned()),
            remote: Some(ad.remote.code().to_owned()),
            employment_type: Some(ad.employment_type.code().to_owned()),
            extent_percent: Some(ad.extent_percent.to_string()),
            salary_min: n(ad.salary.as_ref().and_then(|s| s.min)),
            salary_max: n(ad.salary.as_ref().and_then(|s| s.max)),
            salary_period: ad.salary.as_ref().map(|s| s.period.code().to_owned()),
            vacancies: Some(ad.vacancies.to_string()),
            application_deadline: Some(ad.application_deadline.to_string()),
            start_text: ad.start_text.clone(),
            apply_url: ad.apply_url.clone(),
            apply_email: ad.apply_email.clone(),
            contacts: ad
                .more_places
                .iter()
                .enumerate()
                .map(|(i, m)| (place_key(i + 2), m.code.to_owned()))
                .chain(ad.contacts.iter().enumerate().flat_map(|(i, c)| {
                    [
                        ("name", Some(c.name.clone())),
                        ("title", c.title.clone()),
                        ("email", c.email.clone()),
                        ("phone", c.phone.clone()),
                    ]
                    .into_iter()
                    .filter_map(move |(part, v)| v.map(|v| (contact_key(part, i + 1), v)))
                }))
                .collect(),
        }
    }

    /// The contact blocks (1-based) with anything filled in, in order: the
    /// domain numbers its contacts in this order.
    fn contact_blocks(&self) -> Vec<usize> {
        (1..=platsen_jobs::input::limits::CONTACTS_MAX)
            .filter(|n| {
                CONTACT_PARTS
                    .iter()
                    .any(|p| self.contacts.get(&contact_key(p, *n)).is_some_and(|v| !v.trim().is_empty()))
            })
            .collect()
    }

    /// The further place fields (2-based) with a municipality chosen, in order.
    fn place_blocks(&self) -> Vec<usize> {
        (2..=MAX_PLACES).filter(|n| self.contacts.get(&place_key(*n)).is_some_and(|v| !v.trim().is_empty())).collect()
    }

    /// The form as domain input, with the problems of values that are not
    /// even of the right kind (a word where a number goes).
    fn input(&self, format: DescriptionFormat) -> (JobInput, Vec<FieldError>) {
        let mut errors = Vec::new();
        let format = self.description_format.as_deref().and_then(DescriptionFormat::from_code).unwrap_or(format);
        let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        let mut number = |field: &str, v: &Option<String>| match text(v) {
            None => None,
            Some(raw) => match raw.replace([' ', '\u{a0}'], "").parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.push(FieldError::new(field, "not_a_number", "Ange ett heltal, till exempel 45000."));
                    None
                }
            },
        };
        let extent_percent = number("extent_percent", &self.extent_percent);
        let salary_min = number("salary_min", &self.salary_min);
        let salary_max = number("salary_max", &self.salary_max);
        let vacancies = number("vacancies", &self.vacancies);
        let mut code = |field: &str, v: &Option<String>, known: bool, what: &str| {
            if text(v).is_some() && !known {
                errors.push(FieldError::new(field, "unknown_value", format!("Välj {what} i listan.")));
            }
        };
        let role = text(&self.role).and_then(|c| Role::from_code(&c));
        code("role", &self.role, role.is_some(), "en roll");
        let remote = text(&self.remote).and_then(|c| RemoteMode::from_code(&c));
        code("remote", &self.remote, remote.is_some(), "arbetsplats");
        let employment_type = text(&self.employment_type).and_then(|c| EmploymentType::from_code(&c));
        code("employment_type", &self.employment_type, employment_type.is_some(), "en anställningsform");
        let salary_period = text(&self.salary_period).and_then(|c| SalaryPeriod::from_code(&c));
        code("salary_period", &self.salary_period, salary_period.is_some(), "månadslön eller timlön");
        let application_deadline = match text(&self.application_deadline) {
            None => None,
            Some(raw) => match NaiveDate::parse_from_str(&raw, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push(FieldError::new(
                        "application_deadline",
                        "invalid_date",
                        "Ange ett datum som ÅÅÅÅ-MM-DD, till exempel 2026-12-31.",
                    ));
                    None
                }
            },
        };
        // Empty contact blocks are skipped; the others keep their order.
        let contacts: Vec<ContactInput> = (1..=platsen_jobs::input::limits::CONTACTS_MAX)
            .map(|n| {
                let part = |p: &str| text(&self.contacts.get(&contact_key(p, n)).cloned());
                ContactInput { name: part("name"), title: part("title"), email: part("email"), phone: part("phone") }
            })
            .filter(|c| *c != ContactInput::default())
            .collect();
        let municipality_code = text(&self.municipality_code);
        // Further places go with the first; without a first, the first is
        // what is missing.
        let more: Vec<String> =
            self.place_blocks().iter().filter_map(|n| text(&self.contacts.get(&place_key(*n)).cloned())).collect();
        let municipality_codes = match &municipality_code {
            Some(first) if !more.is_empty() => Some(std::iter::once(first.clone()).chain(more).collect()),
            _ => None,
        };
        let input = JobInput {
            title: text(&self.title),
            description: text(&self.description),
            description_format: Some(format),
            role,
            municipality_code,
            municipality_codes,
            remote: remote.or(Some(RemoteMode::OnSite)),
            employment_type,
            extent_percent,
            salary_min,
            salary_max,
            salary_period: salary_period
                .or((salary_min.is_some() || salary_max.is_some()).then_some(SalaryPeriod::Month)),
            vacancies,
            application_deadline,
            expires_at: None,
            start_text: text(&self.start_text),
            apply_url: text(&self.apply_url),
            apply_email: text(&self.apply_email),
            contacts: Some(contacts),
            slug: None,
            featured: None,
            stored_description: None,
        };
        (input, errors)
    }
}

/// Every field set to the form's value (an empty field clears it), except the
/// description when it is the stored source, unchanged.
fn patch_of(input: JobInput, ad: &JobAd) -> JobPatch {
    let p = |v: Option<String>| v.map_or(Patch::Null, Patch::Set);
    let format = input.description_format.unwrap_or(ad.description_format);
    let description = match input.description {
        Some(d) if d.trim() == ad.description_source().trim() && format == ad.description_format => Patch::Absent,
        other => p(other),
    };
    JobPatch {
        title: p(input.title),
        description,
        description_format: Patch::Set(format),
        role: input.role.map_or(Patch::Null, Patch::Set),
        // The form always names every place, so clearing the further ones
        // leaves one place.
        municipality_codes: input
            .municipality_codes
            .or_else(|| input.municipality_code.clone().map(|c| vec![c]))
            .map_or(Patch::Absent, Patch::Set),
        municipality_code: p(input.municipality_code),
        remote: input.remote.map_or(Patch::Null, Patch::Set),
        employment_type: input.employment_type.map_or(Patch::Null, Patch::Set),
        extent_percent: input.extent_percent.map_or(Patch::Null, Patch::Set),
        salary_min: input.salary_min.map_or(Patch::Null, Patch::Set),
        salary_max: input.salary_max.map_or(Patch::Null, Patch::Set),
        salary_period: input.salary_period.map_or(Patch::Null, Patch::Set),
        vacancies: input.vacancies.map_or(Patch::Null, Patch::Set),
        application_deadline: input.application_deadline.map_or(Patch::Null, Patch::Set),
        expires_at: Patch::Absent,
        start_text: p(input.start_text),
        apply_url: p(input.apply_url),
        apply_email: p(input.apply_email),
        contacts: Patch::Set(input.contacts.unwrap_or_default()),
        featured: Patch::Absent,
    }
}

struct OptionGroup {
    label: String,
    options: Vec<Choice>,
}

struct FieldView {
    name: String,
    label: &'static str,
    /// `text`, `email`, `url`, `date`, `number` (text with a numeric
    /// keyboard), `textarea` or `select`.
    kind: &'static str,
    value: String,
    groups: Vec<OptionGroup>,
    hint: Option<&'static str>,
    error: Option<String>,
    required: bool,
    autocomplete: &'static str,
}

impl FieldView {
    fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if self.hint.is_some() {
            ids.push(format!("{}-hint", self.name));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.name));
        }
        ids.join(" ")
    }
}

struct Fieldset {
    legend: String,
    fields: Vec<FieldView>,
}

struct StatusAction {
    action: &'static str,
    label: &'static str,
    /// Asked about on a page of its own first (closing an ad).
    confirm: bool,
}

#[derive(Template)]
#[template(path = "account_ad.html")]
struct AdPage {
    layout: Layout,
    csrf: String,
    heading: String,
    action: String,
    version: String,
    /// How the description in the box is written (empty: Markdown).
    description_format: String,
    /// Errors in order, for the summary at the top: (field id, message).
    summary: Vec<(String, String)>,
    notice: Option<String>,
    fieldsets: Vec<Fieldset>,
    /// For an existing ad: its id, status, public address and next steps.
    id: Option<i64>,
    status: String,
    public_slug: Option<String>,
    actions: Vec<StatusAction>,
    rejection: Option<String>,
    no_credit: bool,
    /// A draft: when it goes live by itself ("14 december 2026 kl. 08:00").
    scheduled: Option<String>,
    /// A draft can be scheduled; the time in the box (Swedish local time).
    schedulable: bool,
    schedule_value: String,
    schedule_error: Option<String>,
}

fn options<T: Copy>(all: &[T], code: fn(T) -> &'static str, name: fn(T) -> &'static str, current: &str) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice { value: code(*v).to_owned(), label: name(*v).to_owned(), selected: code(*v) == current })
        .collect()
}

fn one_group(first: &str, options: Vec<Choice>) -> Vec<OptionGroup> {
    let mut all = vec![Choice { value: String::new(), label: first.to_owned(), selected: false }];
    all.extend(options);
    if !all.iter().any(|c| c.selected) {
        all[0].selected = true;
    }
    vec![OptionGroup { label: String::new(), options: all }]
}

fn fieldsets(form: &AdForm, errors: &HashMap<String, String>) -> Vec<Fieldset> {
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let field = |name: &str, label: &'static str, kind: &'static str, value: String| FieldView {
        name: name.to_owned(),
        label,
        kind,
        value,
        groups: vec![],
        hint: None,
        error: errors.get(name).cloned(),
        required: false,
        autocomplete: "off",
    };
    let role = v(&form.role);
    let municipality = v(&form.municipality_code);
    // Counties and their municipalities by name, in Swedish order.
    let mut counties: Vec<&platsen_taxonomy::County> = platsen_taxonomy::counties().iter().collect();
    counties.sort_by(|a, b| platsen_taxonomy::swedish_cmp(a.name, b.name));
    let municipality_groups = |selected: &str, none: &str| {
        let mut groups: Vec<OptionGroup> = vec![OptionGroup {
            label: String::new(),
            options: vec![Choice { value: String::new(), label: none.into(), selected: selected.is_empty() }],
        }];
        for county in &counties {
            let mut in_county: Vec<&platsen_taxonomy::Municipality> =
                platsen_taxonomy::municipalities().iter().filter(|m| m.county.code == county.code).collect();
            in_county.sort_by(|a, b| platsen_taxonomy::swedish_cmp(a.name, b.name));
            groups.push(OptionGroup {
                label: county.name.to_owned(),
                options: in_county
                    .into_iter()
                    .map(|m| Choice {
                        value: m.code.to_owned(),
                        label: m.name.to_owned(),
                        selected: m.code == selected,
                    })
                    .collect(),
            });
        }
        groups
    };
    // The further places chosen, and one empty field for another (up to
    // the most an ad may have).
    let given = form.place_blocks().last().copied().unwrap_or(1);
    let more_places: Vec<FieldView> = (2..=(given + 1).min(MAX_PLACES))
        .map(|n| {
            let key = place_key(n);
            let value = form.contacts.get(&key).cloned().unwrap_or_default();
            FieldView {
                groups: municipality_groups(value.trim(), "Ingen"),
                ..field(&key, place_label(n), "select", String::new())
            }
        })
        .collect();
    let html_source = form.description_format.as_deref() == Some("html");
    let description_hint = if html_source {
        "Texten är skriven i HTML (till exempel från ert rekryteringssystem). Rubriker, stycken, listor och \
         länkar behålls; allt annat tas bort när annonsen visas."
    } else {
        "Skriv i Markdown: en tom rad mellan stycken, ## före en rubrik och - före varje punkt i en lista. \
         Texten sparas som du skriver den."
    };
    let mut sets = vec![
        Fieldset {
            legend: "Tjänsten".into(),
            fields: vec![
                FieldView { required: true, ..field("title", "Rubrik", "text", v(&form.title)) },
                FieldView {
                    required: true,
                    groups: one_group(
                        "Välj roll",
                        Role::ALL
                            .iter()
                            .map(|r| Choice {
                                value: r.code().into(),
                                label: r.name_sv().into(),
                                selected: r.code() == role,
                            })
                            .collect(),
                    ),
                    ..field("role", "Roll", "select", String::new())
                },
                FieldView {
                    required: true,
                    hint: Some(description_hint),
                    ..field("description", "Beskrivning", "textarea", v(&form.description))
                },
                FieldView {
                    required: true,
                    groups: municipality_groups(&municipality, "Välj kommun"),
                    hint: Some(
                        "Gäller annonsen flera kommuner? Välj dem nedan, högst tio kommuner sammanlagt; fler rutor \
                         visas när du har sparat. Annonsen hittas då vid sökning på var och en av dem.",
                    ),
                    ..field("municipality_code", "Kommun", "select", String::new())
                },
                FieldView {
                    groups: one_group(
                        "Välj",
                        options(RemoteMode::ALL, RemoteMode::code, RemoteMode::name_sv, &v(&form.remote)),
                    ),
                    ..field("remote", "Arbetsplats", "select", String::new())
                },
                FieldView {
                    required: true,
                    groups: one_group(
                        "Välj anställningsform",
                        options(
                            EmploymentType::ALL,
                            EmploymentType::code,
                            EmploymentType::name_sv,
                            &v(&form.employment_type),
                        ),
                    ),
                    ..field("employment_type", "Anställningsform", "select", String::new())
                },
                FieldView {
                    hint: Some("Procent av heltid, 1–100. Tomt betyder heltid."),
                    ..field("extent_percent", "Omfattning", "number", v(&form.extent_percent))
                },
                FieldView {
                    hint: Some("Tomt betyder en tjänst."),
                    ..field("vacancies", "Antal tjänster", "number", v(&form.vacancies))
                },
                field("start_text", "Tillträde", "text", v(&form.start_text)),
            ],
        },
        Fieldset {
            legend: "Lön".into(),
            fields: vec![
                FieldView {
                    hint: Some("Kronor. Ett spann hjälper de sökande; båda fälten får vara tomma."),
                    ..field("salary_min", "Lägsta lön", "number", v(&form.salary_min))
                },
                field("salary_max", "Högsta lön", "number", v(&form.salary_max)),
                FieldView {
                    groups: one_group(
                        "Välj",
                        options(SalaryPeriod::ALL, SalaryPeriod::code, SalaryPeriod::name_sv, &v(&form.salary_period)),
                    ),
                    ..field("salary_period", "Lön per", "select", String::new())
                },
            ],
        },
        Fieldset {
            legend: "Ansökan".into(),
            fields: vec![
                FieldView {
                    required: true,
                    ..field("application_deadline", "Sista ansökningsdag", "date", v(&form.application_deadline))
                },
                FieldView {
                    hint: Some("Var de sökande ansöker. Ange en webbadress eller en e-postadress."),
                    ..field("apply_url", "Ansökningslänk", "url", v(&form.apply_url))
                },
                field("apply_email", "E-post för ansökan", "email", v(&form.apply_email)),
            ],
        },
    ];
    let after = sets[0].fields.iter().position(|f| f.name == "municipality_code").map_or(0, |i| i + 1);
    sets[0].fields.splice(after..after, more_places);
    // The contact people given, and one empty block for another (up to five).
    let given = form.contact_blocks().last().copied().unwrap_or(0);
    let blocks = (given + 1).clamp(2, platsen_jobs::input::limits::CONTACTS_MAX);
    for n in 1..=blocks {
        let value = |part: &str| form.contacts.get(&contact_key(part, n)).cloned().unwrap_or_default();
        sets.push(Fieldset {
            legend: if n == 1 { "Kontaktperson".into() } else { format!("Kontaktperson {n} (valfri)") },
            fields: vec![
                FieldView {
                    autocomplete: "name",
                    hint: (n == 1).then_some(
                        "Till exempel rekryterande chef och facklig företrädare. Tomma rutor sparas inte; \
                         fler rutor visas när du har sparat.",
                    ),
                    ..field(&contact_key("name", n), "Namn", "text", value("name"))
                },
                field(&contact_key("title", n), "Titel", "text", value("title")),
                field(&contact_key("email", n), "E-post", "email", value("email")),
                FieldView { autocomplete: "tel", ..field(&contact_key("phone", n), "Telefon", "tel", value("phone")) },
            ],
        });
    }
    sets
}

/// The form's field for an error reported by the domain; `blocks` are the
/// form's contact blocks that were filled in, in the order the domain got them.
fn form_field(field: &str, blocks: &[usize], places: &[usize]) -> String {
    if let Some(rest) = field.strip_prefix("municipality_codes") {
        let i = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')).and_then(|i| i.parse::<usize>().ok());
        return match i {
            Some(i) if i >= 1 => places.get(i - 1).map_or_else(|| "municipality_code".to_owned(), |n| place_key(*n)),
            _ => "municipality_code".to_owned(),
        };
    }
    let Some(rest) = field.strip_prefix("contacts") else { return field.to_owned() };
    let parsed = rest
        .strip_prefix('[')
        .and_then(|r| r.split_once("]."))
        .and_then(|(i, part)| Some((i.parse::<usize>().ok()?, part)));
    match parsed {
        Some((i, part)) if CONTACT_PARTS.contains(&part) => contact_key(part, blocks.get(i).copied().unwrap_or(i + 1)),
        _ => contact_key("name", 1),
    }
}

/// The form's fields in order, with the label the error summary names.
fn form_fields() -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> =
        FORM_FIELDS.iter().map(|(f, label)| ((*f).to_owned(), (*label).to_owned())).collect();
    let after = all.iter().position(|(f, _)| f == "municipality_code").map_or(0, |i| i + 1);
    all.splice(after..after, (2..=MAX_PLACES).map(|n| (place_key(n), format!("Kommun {n}"))));
    for n in 1..=platsen_jobs::input::limits::CONTACTS_MAX {
        let who = if n == 1 { "Kontaktpersonens".to_owned() } else { format!("Kontaktperson {n}:s") };
        for (part, what) in CONTACT_PARTS.iter().zip(["namn", "titel", "e-post", "telefon"]) {
            all.push((contact_key(part, n), format!("{who} {what}")));
        }
    }
    all
}

const FORM_FIELDS: &[(&str, &str)] = &[
    ("title", "Rubrik"),
    ("role", "Roll"),
    ("description", "Beskrivning"),
    ("municipality_code", "Kommun"),
    ("remote", "Arbetsplats"),
    ("employment_type", "Anställningsform"),
    ("extent_percent", "Omfattning"),
    ("vacancies", "Antal tjänster"),
    ("start_text", "Tillträde"),
    ("salary_min", "Lägsta lön"),
    ("salary_max", "Högsta lön"),
    ("salary_period", "Lön per"),
    ("application_deadline", "Sista ansökningsdag"),
    ("apply_url", "Ansökningslänk"),
    ("apply_email", "E-post för ansökan"),
];

struct FormErrors {
    by_field: HashMap<String, String>,
    summary: Vec<(String, String)>,
}

/// Merges the form's own errors and the domain's (the form's first; one
/// message per field), in the order the fields appear.
fn form_errors(form: &AdForm, own: Vec<FieldError>, domain: Vec<FieldError>) -> FormErrors {
    let fields = form_fields();
    let blocks = form.contact_blocks();
    let places = form.place_blocks();
    let mut by_field: HashMap<String, String> = HashMap::new();
    let mut other = Vec::new();
    for e in own.into_iter().chain(domain) {
        let f = form_field(&e.field, &blocks, &places);
        if fields.iter().any(|(name, _)| *name == f) {
            by_field.entry(f).or_insert(e.message);
        } else {
            other.push(("title".to_owned(), e.message));
        }
    }
    let mut summary: Vec<(String, String)> =
        fields.iter().filter_map(|(f, label)| by_field.get(f).map(|m| (f.clone(), format!("{label}: {m}")))).collect();
    summary.extend(other);
    FormErrors { by_field, summary }
}

/// What an ad's employer can do with it next. Publishing says that the ad
/// goes to review when the employer's ads are reviewed; closing asks first;
/// an ad the operator took down is not reopened from here.
fn status_actions(ad: &JobAd) -> Vec<StatusAction> {
    let publish = if ad.employer_requires_review { "Skicka för granskning" } else { "Publicera" };
    match ad.status {
        JobStatus::Draft => vec![StatusAction { action: "publicera", label: publish, confirm: false }],
        JobStatus::Published => vec![StatusAction { action: "stang", label: "Stäng annonsen", confirm: true }],
        JobStatus::Closed if taken_down(ad) => vec![],
        JobStatus::Closed | JobStatus::Expired => {
            let label = if ad.employer_requires_review { "Öppna igen (granskas först)" } else { "Öppna igen" };
            vec![StatusAction { action: "oppna", label, confirm: false }]
        }
        JobStatus::PendingReview | JobStatus::Archived => vec![],
    }
}

/// Whether the operator closed the ad with a reason (a take-down).
fn taken_down(ad: &JobAd) -> bool {
    ad.status == JobStatus::Closed && ad.rejection_reason.is_some()
}

struct AdPageArgs<'a> {
    session: &'a Session,
    ad: Option<&'a JobAd>,
    form: &'a AdForm,
    errors: FormErrors,
    notice: Option<String>,
    /// Publishing was refused for want of a credit.
    no_credit: bool,
    /// Why the time asked for to publish at was refused.
    schedule_error: Option<String>,
}

fn ad_page(status: StatusCode, a: AdPageArgs<'_>) -> Response {
    let heading = match a.ad {
        Some(ad) => format!("Redigera: {}", ad.title),
        None => "Ny annons".to_owned(),
    };
    let mut title = heading.clone();
    if !a.errors.summary.is_empty() {
        title = format!("Fel i formuläret – {title}");
    }
    let page = AdPage {
        layout: layout(&title),
        csrf: a.session.csrf.clone(),
        heading,
        action: a.ad.map_or_else(|| "/konto/annonser/ny".to_owned(), |ad| format!("/konto/annonser/{}", ad.id)),
        version: a.form.version.clone().unwrap_or_default(),
        description_format: a.form.description_format.clone().unwrap_or_default(),
        summary: a.errors.summary,
        notice: a.notice,
        no_credit: a.no_credit,
        fieldsets: fieldsets(a.form, &a.errors.by_field),
        id: a.ad.map(|ad| ad.id),
        status: a.ad.map(|ad| status_label(ad).to_owned()).unwrap_or_default(),
        public_slug: a.ad.filter(|ad| ad.is_public()).map(|ad| ad.slug.clone()),
        actions: a.ad.map(status_actions).unwrap_or_default(),
        scheduled: a.ad.and_then(|ad| ad.publish_at).map(|t| {
            let local = t.with_timezone(&chrono_tz::Europe::Stockholm);
            format!("{} kl. {}", super::swedish_date(local.date_naive()), local.format("%H:%M"))
        }),
        schedulable: a.ad.is_some_and(|ad| ad.status == JobStatus::Draft),
        schedule_value: a
            .ad
            .and_then(|ad| ad.publish_at)
            .map(|t| t.with_timezone(&chrono_tz::Europe::Stockholm).format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default(),
        schedule_error: a.schedule_error,
        rejection: a.ad.and_then(|ad| {
            let who = if taken_down(ad) { "Platsen stängde annonsen" } else { "Granskningen" };
            ad.rejection_reason.as_ref().map(|r| format!("{who}: {r}"))
        }),
    };
    private(html(status, &page), None)
}

fn no_errors() -> FormErrors {
    FormErrors { by_field: HashMap::new(), summary: vec![] }
}

fn not_found_ad() -> Response {
    private(message(StatusCode::NOT_FOUND, "Annonsen finns inte", "Den finns inte bland dina annonser."), None)
}

/// The signed-in employer user of a page (anyone else goes to sign in).
async fn employer_session(state: &AppState, req: &Request) -> Result<(Session, Actor), Response> {
    match session(state, req).await? {
        Some(s) => match actor(&s) {
            Some(a) => Ok((s, a)),
            None => Err(not_found_ad()),
        },
        None => Err(see_other("/konto")),
    }
}

/// An ad of the signed-in employer; another employer's is "not found".
async fn own_ad(state: &AppState, actor: Actor, id: &str) -> Result<JobAd, Response> {
    let Ok(id) = id.parse::<i64>() else { return Err(not_found_ad()) };
    match state.app.store.job_for(actor, id, state.app.clock.now()).await {
        Ok(ad) if actor.employer_id().is_none_or(|e| e == ad.employer_id) => Ok(ad),
        Ok(_) | Err(platsen_jobs::Error::NotFound | platsen_jobs::Error::Forbidden(_)) => {
            tracing::warn!(job_id = id, actor = %actor.label(), "an ad of another employer was asked for");
            Err(not_found_ad())
        }
        Err(e) => Err(unavailable(e)),
    }
}

/// The signed-in user's own ad, for a form post carrying the session's token.
async fn own_ad_for_post(
    state: &AppState,
    req: &Request,
    id: &str,
    csrf: Option<&str>,
) -> Result<(Session, Actor, JobAd), Response> {
    let s = session_for_post(state, req, csrf).await?;
    let Some(actor) = actor(&s) else { return Err(not_found_ad()) };
    let ad = own_ad(state, actor, id).await?;
    Ok((s, actor, ad))
}

#[handler]
async fn new_ad_page(state: Data<&AppState>, req: &Request) -> Response {
    let (s, _) = try_page!(employer_session(&state, req).await);
    let form = AdForm { vacancies: Some("1".into()), extent_percent: Some("100".into()), ..Default::default() };
    ad_page(
        StatusCode::OK,
        AdPageArgs {
            session: &s,
            ad: None,
            form: &form,
            errors: no_errors(),
            notice: None,
            no_credit: false,
            schedule_error: None,
        },
    )
}

fn domain_errors(e: platsen_jobs::Error) -> Result<Vec<FieldError>, Response> {
    match e {
        platsen_jobs::Error::Invalid(errors) => Ok(errors),
        platsen_jobs::Error::Conflict { code, field, message } => {
            Ok(vec![FieldError::new(field.unwrap_or("title"), code, message)])
        }
        platsen_jobs::Error::NotFound | platsen_jobs::Error::Forbidden(_) => Err(not_found_ad()),
        e => Err(unavailable(e)),
    }
}

#[handler]
async fn create_ad(state: Data<&AppState>, req: &Request, body: Body) -> Response {
    let form: AdForm = try_page!(read_form_within(body, MAX_AD_FORM_BODY).await);
    let s = try_page!(session_for_post(&state, req, form.csrf.as_deref()).await);
    let (Some(actor), Some(employer_id)) = (actor(&s), s.user.employer_id) else { return not_found_ad() };
    let now = state.app.clock.now();
    let (input, own) = form.input(DescriptionFormat::Markdown);
    let result = if own.is_empty() {
        state.app.store.create_job(actor, employer_id, input, now).await
    } else {
        // Nothing is stored while a value is of the wrong kind; the rest of
        // the form is still checked, so every problem shows at once.
        let today = platsen_jobs::validate::today_in_sweden(now);
        let domain = input.validate(today, platsen_jobs::input::DeadlineCheck::MustNotBePast).err();
        Err(domain.unwrap_or(platsen_jobs::Error::Invalid(vec![])))
    };
    match result {
        Ok(ad) => see_other(&format!("/konto/annonser/{}?sparad=1", ad.id)),
        Err(e) => match domain_errors(e) {
            Ok(domain) => ad_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                AdPageArgs {
                    session: &s,
                    ad: None,
                    form: &form,
                    errors: form_errors(&form, own, domain),
                    notice: None,
                    no_credit: false,
                    schedule_error: None,
                },
            ),
            Err(r) => r,
        },
    }
}

#[derive(Debug, Default, Deserialize)]
struct AdParams {
    sparad: Option<String>,
    klart: Option<String>,
    fel: Option<String>,
}

#[handler]
async fn edit_ad_page(state: Data<&AppState>, req: &Request, id: Path<String>, params: Query<AdParams>) -> Response {
    let (s, actor) = try_page!(employer_session(&state, req).await);
    let ad = try_page!(own_ad(&state, actor, &id.0).await);
    let notice = match (params.sparad.as_deref(), params.klart.as_deref(), params.fel.as_deref()) {
        (_, _, Some("status")) => Some("Statusen kunde inte ändras: annonsen ändrades nyss, eller så är steget inte tillåtet från den nuvarande statusen.".to_owned()),
        (_, Some("publicera"), _) if ad.status == JobStatus::PendingReview => Some("Annonsen väntar nu på granskning innan den publiceras.".to_owned()),
        (_, Some("publicera"), _) => Some("Annonsen är publicerad.".to_owned()),
        (_, Some("stang"), _) => Some("Annonsen är stängd.".to_owned()),
        (_, Some("oppna"), _) => Some("Annonsen är öppen igen.".to_owned()),
        (_, Some("kopiera"), _) => Some("Det här är en kopia, sparad som utkast. Se över den och publicera när den är klar.".to_owned()),
        (_, Some("schemalagg"), _) => Some("Annonsen publiceras automatiskt vid den valda tiden.".to_owned()),
        (_, Some("avschemalagg"), _) => Some("Schemaläggningen är borttagen; annonsen är ett utkast.".to_owned()),
        (Some(_), _, _) => Some("Ändringarna är sparade.".to_owned()),
        _ => None,
    };
    let form = AdForm::of(&ad);
    ad_page(
        StatusCode::OK,
        AdPageArgs {
            session: &s,
            ad: Some(&ad),
            form: &form,
            errors: no_errors(),
            notice,
            no_credit: false,
            schedule_error: None,
        },
    )
}

#[handler]
async fn update_ad(state: Data<&AppState>, req: &Request, id: Path<String>, body: Body) -> Response {
    let form: AdForm = try_page!(read_form_within(body, MAX_AD_FORM_BODY).await);
    let (s, actor, ad) = try_page!(own_ad_for_post(&state, req, &id.0, form.csrf.as_deref()).await);
    let now = state.app.clock.now();
    let (input, mut own) = form.input(ad.description_format);
    let version = match form.version.as_deref().map(str::parse::<i64>) {
        Some(Ok(v)) => Some(v),
        _ => {
            own.push(FieldError::new("title", "missing_version", "Ladda om sidan och gör ändringen igen."));
            None
        }
    };
    let patch = patch_of(input, &ad);
    let result = if own.is_empty() {
        state.app.store.update_job(actor, ad.id, patch, version, now).await
    } else {
        let today = platsen_jobs::validate::today_in_sweden(now);
        let domain = patch.apply_to(&ad).validate(today, platsen_jobs::input::DeadlineCheck::Unchanged).err();
        Err(domain.unwrap_or(platsen_jobs::Error::Invalid(vec![])))
    };
    match result {
        Ok(ad) => see_other(&format!("/konto/annonser/{}?sparad=1", ad.id)),
        Err(e) => match domain_errors(e) {
            Ok(domain) => ad_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                AdPageArgs {
                    session: &s,
                    ad: Some(&ad),
                    form: &form,
                    errors: form_errors(&form, own, domain),
                    notice: None,
                    no_credit: false,
                    schedule_error: None,
                },
            ),
            Err(r) => r,
        },
    }
}

#[handler]
async fn preview_ad(state: Data<&AppState>, base: Data<&PublicUrl>, req: &Request, id: Path<String>) -> Response {
    let (_, actor) = try_page!(employer_session(&state, req).await);
    match own_ad(&state, actor, &id.0).await {
        Ok(ad) => private(super::render_job(&state, &base.0.0, &ad, None).await, None),
        Err(r) => r,
    }
}

#[derive(Debug, Default, Deserialize)]
struct StatusForm {
    csrf: Option<String>,
    action: Option<String>,
    /// Set by the confirmation page's button (closing asks first).
    bekraftad: Option<String>,
    /// When to publish a draft (`schemalagg`): `datetime-local`, Swedish time.
    publish_at: Option<String>,
}

/// A `datetime-local` value ("2026-12-14T08:00", seconds allowed) read as
/// Swedish time; in the hour the clocks go back, the first of the two.
fn swedish_local_time(v: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::TimeZone;
    let v = v.trim();
    let naive = chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    chrono_tz::Europe::Stockholm.from_local_datetime(&naive).earliest().map(|t| t.to_utc())
}

#[derive(Template)]
#[template(path = "account_close_ad.html")]
struct ClosePage {
    layout: Layout,
    csrf: String,
    id: i64,
    title: String,
}

/// "Stäng annonsen?": the page the close button leads to, with the button
/// that closes.
#[handler]
async fn close_page(state: Data<&AppState>, req: &Request, id: Path<String>) -> Response {
    let (s, actor) = try_page!(employer_session(&state, req).await);
    let ad = try_page!(own_ad(&state, actor, &id.0).await);
    if ad.status != JobStatus::Published {
        return see_other(&format!("/konto/annonser/{}", ad.id));
    }
    private(
        html(
            StatusCode::OK,
            &ClosePage { layout: layout("Stäng annonsen?"), csrf: s.csrf, id: ad.id, title: ad.title },
        ),
        None,
    )
}

#[derive(Template)]
#[template(path = "account_ad_stats.html")]
struct StatsPage {
    layout: Layout,
    id: i64,
    title: String,
    /// The range as typed (or the default), for the form.
    from: String,
    to: String,
    /// Which field was refused, and why.
    error: Option<(String, String)>,
    /// The chart (SVG drawn here, no user text in it), its sentence and
    /// the table of days; empty when the range was refused.
    chart: String,
    alt: String,
    days: Vec<StatsDay>,
}

struct StatsDay {
    day: String,
    views: i64,
    clicks: i64,
    appearances: i64,
}

#[derive(Deserialize)]
struct StatsParams {
    from: Option<String>,
    to: Option<String>,
}

/// An ad's statistics per day: the chart, the sentence and the table.
#[handler]
async fn stats_page(state: Data<&AppState>, req: &Request, id: Path<String>, params: Query<StatsParams>) -> Response {
    let (_, actor) = try_page!(employer_session(&state, req).await);
    let ad = try_page!(own_ad(&state, actor, &id.0).await);
    let today = platsen_jobs::validate::today_in_sweden(state.app.clock.now());
    let typed =
        |v: &Option<String>| -> String { v.as_deref().map(str::trim).unwrap_or_default().chars().take(40).collect() };
    let mut page = StatsPage {
        layout: layout(&format!("Statistik: {}", ad.title)),
        id: ad.id,
        title: ad.title.clone(),
        from: typed(&params.from),
        to: typed(&params.to),
        error: None,
        chart: String::new(),
        alt: String::new(),
        days: Vec::new(),
    };
    // A date that does not read is a bad request; a range that breaks a
    // rule is refused as the other forms refuse one (422).
    let parsed = platsen_app::counters::parse_day("from", params.from.as_deref())
        .and_then(|from| Ok((from, platsen_app::counters::parse_day("to", params.to.as_deref())?)))
        .map_err(|e| (StatusCode::BAD_REQUEST, e))
        .and_then(|(from, to)| {
            platsen_app::counters::stats_range(from, to, today).map_err(|e| (StatusCode::UNPROCESSABLE_ENTITY, e))
        });
    let range = match parsed {
        Ok(r) => r,
        Err((status, e)) => {
            page.error = Some((e.field, e.message));
            return private(html(status, &page), None);
        }
    };
    let days = match state.app.ad_daily_counts(actor, ad.id, range).await {
        Ok(d) => d,
        Err(e) => return unavailable(e),
    };
    page.from = range.0.to_string();
    page.to = range.1.to_string();
    page.chart = match platsen_app::ad_chart::svg(&days) {
        Ok(svg) => svg,
        Err(e) => {
            tracing::error!(error = %e, job_id = ad.id, "drawing an ad's chart failed");
            String::new()
        }
    };
    page.alt = platsen_app::ad_chart::describe(&days);
    page.days = days
        .iter()
        .rev()
        .map(|d| StatsDay {
            day: super::swedish_date(d.day),
            views: d.views,
            clicks: d.apply_clicks,
            appearances: d.appearances,
        })
        .collect();
    private(html(StatusCode::OK, &page), None)
}

/// The ad's page again after a status form was refused, with why: no
/// credit to publish, or a time to publish at that cannot be.
async fn ad_page_again(
    state: &AppState,
    req: &Request,
    ad: &JobAd,
    status: StatusCode,
    no_credit: bool,
    schedule_error: Option<String>,
) -> Response {
    let s = try_page!(employer_session(state, req).await).0;
    let form = AdForm::of(ad);
    let args = AdPageArgs {
        session: &s,
        ad: Some(ad),
        form: &form,
        errors: no_errors(),
        notice: None,
        no_credit,
        schedule_error,
    };
    ad_page(status, args)
}

#[handler]
async fn change_status(state: Data<&AppState>, req: &Request, id: Path<String>, body: Body) -> Response {
    let form: StatusForm = try_page!(read_form(body).await);
    let (_, actor, ad) = try_page!(own_ad_for_post(&state, req, &id.0, form.csrf.as_deref()).await);
    let now = state.app.clock.now();
    match form.action.as_deref() {
        Some("kopiera") => {
            return match state.app.store.copy_job(actor, ad.id, now).await {
                Ok(copy) => see_other(&format!("/konto/annonser/{}?klart=kopiera", copy.id)),
                Err(platsen_jobs::Error::NotFound | platsen_jobs::Error::Forbidden(_)) => not_found_ad(),
                Err(platsen_jobs::Error::Invalid(_) | platsen_jobs::Error::Conflict { .. }) => {
                    see_other(&format!("/konto/annonser/{}?fel=status", ad.id))
                }
                Err(e) => unavailable(e),
            };
        }
        Some(action @ ("schemalagg" | "avschemalagg")) => {
            let at = match (action, form.publish_at.as_deref().map(str::trim)) {
                ("avschemalagg", _) => None,
                (_, None | Some("")) => Some(Err("Ange dag och klockslag.")),
                (_, Some(v)) => Some(
                    swedish_local_time(v).ok_or("Ange tiden som dag och klockslag, till exempel 2026-12-14 08:00."),
                ),
            };
            let result = match at {
                Some(Err(message)) => Err(platsen_jobs::Error::invalid("publish_at", "invalid", message)),
                Some(Ok(t)) => state.app.store.schedule_job(actor, ad.id, Some(t), now).await,
                None => state.app.store.schedule_job(actor, ad.id, None, now).await,
            };
            return match result {
                Ok(_) => see_other(&format!("/konto/annonser/{}?klart={action}", ad.id)),
                Err(platsen_jobs::Error::Invalid(errors)) => {
                    let message = errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join(" ");
                    ad_page_again(&state, req, &ad, StatusCode::UNPROCESSABLE_ENTITY, false, Some(message)).await
                }
                Err(platsen_jobs::Error::Conflict { .. }) => {
                    see_other(&format!("/konto/annonser/{}?fel=status", ad.id))
                }
                Err(platsen_jobs::Error::NotFound | platsen_jobs::Error::Forbidden(_)) => not_found_ad(),
                Err(e) => unavailable(e),
            };
        }
        _ => {}
    }
    let (step, done) = match form.action.as_deref() {
        Some("publicera") => (Lifecycle::Publish, "publicera"),
        Some("stang") if form.bekraftad.as_deref() == Some("1") => (Lifecycle::Close, "stang"),
        // Closing takes the ad off the board: the button asks first.
        Some("stang") => return see_other(&format!("/konto/annonser/{}/stang", ad.id)),
        Some("oppna") => (Lifecycle::Reopen, "oppna"),
        _ => {
            return private(
                message(
                    StatusCode::BAD_REQUEST,
                    "Okänt steg",
                    "Fältet action: välj publicera, stang, oppna, kopiera, schemalagg eller avschemalagg.",
                ),
                None,
            );
        }
    };
    match state.app.store.transition(actor, ad.id, step.clone(), now).await {
        Ok(after) => {
            state.app.after_step(&step, &after);
            see_other(&format!("/konto/annonser/{}?klart={done}", ad.id))
        }
        Err(platsen_jobs::Error::Conflict { .. } | platsen_jobs::Error::Invalid(_)) => {
            see_other(&format!("/konto/annonser/{}?fel=status", ad.id))
        }
        // No credit: the ad's page again, with the message and the way to
        // order more next to the button.
        Err(platsen_jobs::Error::NoCredit(_)) => {
            ad_page_again(&state, req, &ad, StatusCode::PAYMENT_REQUIRED, true, None).await
        }
        Err(platsen_jobs::Error::NotFound | platsen_jobs::Error::Forbidden(_)) => not_found_ad(),
        Err(e) => unavailable(e),
    }
}

// ----- password reset -------------------------------------------------------

#[derive(Template)]
#[template(path = "account_password.html")]
struct PasswordPage {
    layout: Layout,
    csrf: String,
    step: PasswordStep,
    token: String,
    error: Option<String>,
}

/// Where a reader is in choosing a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PasswordStep {
    /// Asks for the address to mail a link to.
    Forgot,
    /// The link is on its way.
    Sent,
    /// Chooses a new password from a reset link.
    Reset,
    /// Chooses a first password from an invitation.
    Welcome,
    /// The new password is set.
    Done,
    /// The first password is set.
    Welcomed,
}

fn password_page(
    state: &AppState,
    req: &Request,
    status: StatusCode,
    step: PasswordStep,
    token: String,
    error: Option<String>,
) -> Response {
    let (csrf, set) = anonymous_csrf(state, req);
    let title = match step {
        PasswordStep::Reset => "Välj ett nytt lösenord",
        PasswordStep::Welcome => "Välj ditt lösenord",
        PasswordStep::Done => "Lösenordet är bytt",
        PasswordStep::Welcomed => "Ditt konto är klart",
        PasswordStep::Forgot | PasswordStep::Sent => "Glömt lösenordet",
    };
    private(html(status, &PasswordPage { layout: layout(title), csrf, step, token, error }), set)
}

#[handler]
async fn forgot_page(state: Data<&AppState>, req: &Request) -> Response {
    password_page(&state, req, StatusCode::OK, PasswordStep::Forgot, String::new(), None)
}

#[derive(Debug, Default, Deserialize)]
struct ForgotForm {
    csrf: Option<String>,
    email: Option<String>,
}

#[handler]
async fn forgot(state: Data<&AppState>, req: &Request, body: Body) -> Response {
    let form: ForgotForm = try_page!(read_form(body).await);
    if !anonymous_csrf_ok(req, form.csrf.as_deref()) {
        return csrf_refused();
    }
    let email = form.email.unwrap_or_default();
    if let Err(e) = platsen_jobs::validate::email("email", &email) {
        return password_page(
            &state,
            req,
            StatusCode::BAD_REQUEST,
            PasswordStep::Forgot,
            String::new(),
            Some(e.message),
        );
    }
    let client = crate::http::client::client_ip(req);
    if !state.web.sign_in.may_ask_reset(client) {
        let e = "För många försök. Vänta några minuter och försök igen.".to_owned();
        let mut r =
            password_page(&state, req, StatusCode::TOO_MANY_REQUESTS, PasswordStep::Forgot, String::new(), Some(e));
        r.headers_mut().insert(header::RETRY_AFTER, "120".parse().expect("header"));
        return r;
    }
    // An inbox gets a few reset mails at most; the answer stays the same.
    if !state.web.sign_in.may_mail_reset(&email) {
        tracing::info!("password reset not mailed: the address had several just now");
        return password_page(&state, req, StatusCode::OK, PasswordStep::Sent, String::new(), None);
    }
    if let Err(e) = state.app.mail_password_reset(&email).await {
        return unavailable(e);
    }
    password_page(&state, req, StatusCode::OK, PasswordStep::Sent, String::new(), None)
}

#[derive(Debug, Default, Deserialize)]
struct TokenParams {
    token: Option<String>,
    /// Set in an invitation's link: the user chooses a first password.
    valkommen: Option<String>,
}

#[handler]
async fn reset_page(state: Data<&AppState>, req: &Request, params: Query<TokenParams>) -> Response {
    let token = params.token.clone().unwrap_or_default();
    let step = if params.valkommen.is_some() { PasswordStep::Welcome } else { PasswordStep::Reset };
    password_page(&state, req, StatusCode::OK, step, token, None)
}

#[derive(Debug, Default, Deserialize)]
struct ResetForm {
    csrf: Option<String>,
    token: Option<String>,
    password: Option<String>,
    password_again: Option<String>,
    valkommen: Option<String>,
}

#[handler]
async fn reset(state: Data<&AppState>, req: &Request, body: Body) -> Response {
    let form: ResetForm = try_page!(read_form(body).await);
    if !anonymous_csrf_ok(req, form.csrf.as_deref()) {
        return csrf_refused();
    }
    let token = form.token.unwrap_or_default();
    let password = form.password.unwrap_or_default();
    let (step, done) = if form.valkommen.is_some() {
        (PasswordStep::Welcome, PasswordStep::Welcomed)
    } else {
        (PasswordStep::Reset, PasswordStep::Done)
    };
    if Some(&password) != form.password_again.as_ref() {
        let e = "Lösenorden är inte likadana.".to_owned();
        return password_page(&state, req, StatusCode::UNPROCESSABLE_ENTITY, step, token, Some(e));
    }
    match state.app.store.finish_password_reset(&token, &password, state.app.clock.now()).await {
        Ok(_) => password_page(&state, req, StatusCode::OK, done, String::new(), None),
        Err(platsen_jobs::Error::Invalid(errors)) => {
            let e = errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join(" ");
            password_page(&state, req, StatusCode::UNPROCESSABLE_ENTITY, step, token, Some(e))
        }
        Err(e) => unavailable(e),
    }
}
