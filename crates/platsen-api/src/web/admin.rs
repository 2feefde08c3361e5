//! The operator's pages, for a signed-in admin user: the overview at
//! `/konto` (review queue, search sync status, salary imports), the
//! moderation queue (approve, or reject with a reason the employer sees),
//! employers with their users (added with a password or an e-mailed
//! invitation) and API keys (shown once, revocable), and salary survey
//! uploads.
//!
//! Every page checks the session and that its user is an admin; anyone else
//! gets the same "page not found" as for a page that does not exist. Every
//! form carries the session's CSRF token, and every action goes through the
//! same store calls, and so the same rules and messages, as the admin API.

use std::collections::HashMap;

use askama::Template;
use chrono::{DateTime, Utc};
use platsen_jobs::input::{EmployerInput, EmployerPatch, Patch};
use platsen_jobs::model::{Actor, JobAd};
use platsen_jobs::store::Session;
use platsen_jobs::{FieldError, IdOrSlug, Lifecycle};
use platsen_taxonomy::survey::Sector;
use poem::http::StatusCode;
use poem::web::{Data, Multipart, Path, Query};
use poem::{Body, Request, Response, Route, handler};

use crate::http::allow::{get, post};
use serde::Deserialize;
use tokio::io::AsyncReadExt;

use crate::AppState;
use crate::http::page::{Choice, Layout, html, message, unavailable};
use crate::http::session::{CsrfOnly, layout, private, read_form, see_other, session, session_for_post};
use platsen_app::salary::{ImportFailure, MAX_SURVEY_BYTES as MAX_CSV_BODY};

/// Employers per page of the list.
const EMPLOYERS_PER_PAGE: u32 = 50;

pub(super) fn mount(route: Route) -> Route {
    route
        .at("/konto/granskning", get(review_page))
        .at("/konto/granskning/:id", post(review))
        .at("/konto/arbetsgivare", get(employers_page).post(create_employer))
        .at("/konto/arbetsgivare/:id", get(employer_page).post(update_employer))
        .at("/konto/arbetsgivare/:id/anvandare", post(create_user))
        .at("/konto/arbetsgivare/:id/anvandare/:user/ta-bort", post(remove_user))
        .at("/konto/arbetsgivare/:id/anvandare/:user/bjud-in-igen", post(reinvite_user))
        .at("/konto/alla-annonser", get(ads_page))
        .at("/konto/alla-annonser/:id", get(ad_page).post(moderate_ad))
        .at("/konto/arbetsgivare/:id/nycklar", post(create_key))
        .at("/konto/arbetsgivare/:id/nycklar/:key/aterkalla", post(revoke_key))
        .at("/konto/sokindex/forsok-igen", post(retry_search))
        .at("/konto/lonestatistik", get(imports_page).post(import))
}

// ----- access ---------------------------------------------------------------

pub(super) fn not_found() -> Response {
    private(message(StatusCode::NOT_FOUND, "Sidan finns inte", "Kontrollera adressen."), None)
}

fn refuse_non_admin(s: Session) -> Result<Session, Response> {
    if s.user.is_admin {
        Ok(s)
    } else {
        tracing::warn!(user_id = s.user.id, "a non-admin user asked for an admin page");
        Err(not_found())
    }
}

/// The signed-in admin of a page; others sign in or are told it does not exist.
pub(super) async fn admin_session(state: &AppState, req: &Request) -> Result<Session, Response> {
    match session(state, req).await? {
        Some(s) => refuse_non_admin(s),
        None => Err(see_other("/konto")),
    }
}

/// The signed-in admin of a form post carrying the session's CSRF token.
pub(super) async fn admin_post(state: &AppState, req: &Request, csrf: Option<&str>) -> Result<Session, Response> {
    refuse_non_admin(session_for_post(state, req, csrf).await?)
}

/// Stockholm time, to the minute.
pub(super) fn when(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::Stockholm).format("%Y-%m-%d %H:%M").to_string()
}

fn when_or(t: Option<DateTime<Utc>>, none: &str) -> String {
    t.map_or_else(|| none.to_owned(), when)
}

/// What every admin page's header needs.
pub(super) struct AdminHead {
    pub(super) csrf: String,
    pub(super) email: String,
    /// The current section, for `aria-current` in the menu.
    pub(super) section: &'static str,
    pub(super) notice: Option<String>,
}

pub(super) fn head(s: &Session, section: &'static str, notice: Option<String>) -> AdminHead {
    AdminHead { csrf: s.csrf.clone(), email: s.user.email.clone(), section, notice }
}

/// Field errors by field name, for messages next to the fields.
fn by_field(errors: Vec<FieldError>) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for e in errors {
        map.entry(e.field.clone()).or_insert(e.message);
    }
    map
}

/// A store error of a form as field messages (`Err` for a page to show instead).
pub(super) fn form_errors(
    e: platsen_jobs::Error,
    field_of_conflict: &str,
) -> Result<HashMap<String, String>, Response> {
    match e {
        platsen_jobs::Error::Invalid(errors) => Ok(by_field(errors)),
        platsen_jobs::Error::Conflict { field, message, .. } => {
            Ok(HashMap::from([(field.unwrap_or(field_of_conflict).to_owned(), message)]))
        }
        platsen_jobs::Error::NotFound => Err(not_found()),
        e => Err(unavailable(e)),
    }
}

// ----- the overview ---------------------------------------------------------

struct ImportRow {
    filename: String,
    responses: i64,
    years: String,
    created_at: String,
}

impl From<platsen_jobs::store::SalaryImport> for ImportRow {
    fn from(i: platsen_jobs::store::SalaryImport) -> Self {
        ImportRow {
            filename: i.filename,
            responses: i.responses,
            years: i.years.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
            created_at: when(i.created_at),
        }
    }
}

struct SearchView {
    engine: &'static str,
    configured: bool,
    pending: i64,
    dead: i64,
    oldest_wait: Option<String>,
    last_success: String,
    last_error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct OverviewPage {
    layout: Layout,
    head: AdminHead,
    pending_review: usize,
    employers: i64,
    search: SearchView,
    imports: Vec<ImportRow>,
}

fn wait_text(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} sekunder"),
        s if s < 7200 => format!("{} minuter", s / 60),
        s => format!("{} timmar", s / 3600),
    }
}

/// `/konto` for an admin user.
pub(super) async fn overview(state: &AppState, s: Session) -> Response {
    let s = match refuse_non_admin(s) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let now = state.app.clock.now();
    let (queue, employers, search, imports) = match tokio::try_join!(
        state.app.store.pending_review(now),
        state.app.store.employers(1, 1, now),
        state.app.search_status(),
        state.app.store.salary_imports(),
    ) {
        Ok(x) => x,
        Err(e) => return unavailable(e),
    };
    let search = SearchView {
        engine: if search.engine == "meilisearch" { "Meilisearch" } else { "databasens fritextsökning" },
        configured: search.meilisearch_configured,
        pending: search.outbox_pending,
        dead: search.outbox_dead,
        oldest_wait: search.oldest_pending_seconds.map(wait_text),
        last_success: when_or(search.last_success_at, "aldrig"),
        last_error: search.last_error,
    };
    let page = OverviewPage {
        layout: layout("Administration"),
        head: head(&s, "oversikt", None),
        pending_review: queue.len(),
        employers: employers.total,
        search,
        imports: imports.into_iter().take(3).map(Into::into).collect(),
    };
    private(html(StatusCode::OK, &page), None)
}

#[handler]
async fn retry_search(state: Data<&AppState>, req: &Request, body: Body) -> Response {
    let form: CsrfOnly = try_page!(read_form(body).await);
    let s = try_page!(admin_post(&state, req, form.csrf.as_deref()).await);
    match state.app.store.revive_search_changes(state.app.clock.now()).await {
        Ok(n) => {
            tracing::info!(user_id = s.user.id, retried = n, "search dead letters retried from the admin page");
            see_other("/konto")
        }
        Err(e) => unavailable(e),
    }
}

// ----- the moderation queue -------------------------------------------------

struct QueueItem {
    id: i64,
    title: String,
    employer: String,
    employer_id: i64,
    place: String,
    deadline: String,
    waiting_since: String,
    reason: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_review.html")]
struct ReviewPage {
    layout: Layout,
    head: AdminHead,
    items: Vec<QueueItem>,
}

fn queue_item(ad: &JobAd) -> QueueItem {
    QueueItem {
        id: ad.id,
        title: ad.title.clone(),
        employer: ad.employer_name.clone(),
        employer_id: ad.employer_id,
        place: ad.place_text_full(),
        deadline: super::swedish_date(ad.application_deadline),
        waiting_since: when(ad.updated_at),
        reason: String::new(),
        error: None,
    }
}

#[derive(Debug, Default, Deserialize)]
struct DoneParams {
    klart: Option<String>,
}

async fn review_queue(
    state: &AppState,
    s: &Session,
    status: StatusCode,
    notice: Option<String>,
    failed: Option<(i64, String, String)>,
) -> Response {
    let ads = match state.app.store.pending_review(state.app.clock.now()).await {
        Ok(ads) => ads,
        Err(e) => return unavailable(e),
    };
    let items = ads
        .iter()
        .map(|ad| {
            let mut item = queue_item(ad);
            if let Some((id, reason, error)) = &failed
                && *id == ad.id
            {
                item.reason = reason.clone();
                item.error = Some(error.clone());
            }
            item
        })
        .collect();
    let title = if failed.is_some() { "Fel i formuläret – Granskning" } else { "Granskning" };
    private(html(status, &ReviewPage { layout: layout(title), head: head(s, "granskning", notice), items }), None)
}

#[handler]
async fn review_page(state: Data<&AppState>, req: &Request, params: Query<DoneParams>) -> Response {
    let s = try_page!(admin_session(&state, req).await);
    let notice = match params.klart.as_deref() {
        Some("godkand") => Some("Annonsen är godkänd och publicerad.".to_owned()),
        Some("avvisad") => Some("Annonsen är avvisad och tillbaka hos arbetsgivaren som utkast.".to_owned()),
        Some("andrad") => Some("Annonsen väntar inte längre på granskning (den har ändrats eller stängts).".to_owned()),
        _ => None,
    };
    review_queue(&state, &s, StatusCode::OK, notice, None).await
}

/// A moderation form: the step, and the reason the employer is given.
#[derive(Debug, Default, Deserialize)]
struct ReasonForm {
    csrf: Option<String>,
    action: Option<String>,
    reason: Option<String>,
}

/// A step an operator takes on an ad from a page, read from its form:
/// the signed-in admin, the ad, the step (by `steps`: action → step and the
/// word for "done") and the reason as typed; `Err` is the page to answer.
async fn admin_step(
    state: &AppState,
    req: &Request,
    id: &str,
    body: Body,
    steps: &[(&str, &'static str)],
) -> Result<(Session, i64, Lifecycle, &'static str, String), Response> {
    let form: ReasonForm = read_form(body).await?;
    let s = admin_post(state, req, form.csrf.as_deref()).await?;
    let Ok(id) = id.parse::<i64>() else { return Err(not_found()) };
    let reason = form.reason.unwrap_or_default();
    let Some((action, done)) = steps.iter().find(|(a, _)| Some(*a) == form.action.as_deref()) else {
        let names: Vec<&str> = steps.iter().map(|(a, _)| *a).collect();
        let e = format!("Fältet action: välj {}.", names.join(" eller "));
        return Err(private(message(StatusCode::BAD_REQUEST, "Okänt steg", e), None));
    };
    let step = match *action {
        "godkann" => Lifecycle::Approve,
        "avvisa" => Lifecycle::Reject { reason: reason.clone() },
        "ta-ner" => Lifecycle::TakeDown { reason: reason.clone() },
        _ => Lifecycle::Reopen,
    };
    Ok((s, id, step, done, reason))
}

/// Takes the step as the operator, and mails who should hear of it.
async fn moderate(state: &AppState, s: &Session, id: i64, step: &Lifecycle) -> platsen_jobs::Result<JobAd> {
    let ad = state.app.store.transition(Actor::Admin, id, step.clone(), state.app.clock.now()).await?;
    tracing::info!(user_id = s.user.id, job_id = ad.id, status = ad.status.code(), "ad moderated on the admin pages");
    state.app.after_step(step, &ad);
    Ok(ad)
}

#[handler]
async fn review(state: Data<&AppState>, req: &Request, id: Path<String>, body: Body) -> Response {
    let steps = [("godkann", "godkand"), ("avvisa", "avvisad")];
    let (s, id, step, done, reason) = try_page!(admin_step(&state, req, &id.0, body, &steps).await);
    match moderate(&state, &s, id, &step).await {
        Ok(_) => see_other(&format!("/konto/granskning?klart={done}")),
        Err(platsen_jobs::Error::Invalid(errors)) => {
            let message = errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join(" ");
            review_queue(&state, &s, StatusCode::UNPROCESSABLE_ENTITY, None, Some((id, reason, message))).await
        }
        Err(platsen_jobs::Error::Conflict { .. }) => see_other("/konto/granskning?klart=andrad"),
        Err(platsen_jobs::Error::NotFound | platsen_jobs::Error::Forbidden(_)) => not_found(),
        Err(e) => unavailable(e),
    }
}

// ----- employers ------------------------------------------------------------

struct EmployerRow {
    id: i64,
    name: String,
    organization_number: String,
    slug: String,
    open_jobs: i64,
    requires_review: bool,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct EmployerForm {
    csrf: Option<String>,
    name: Option<String>,
    organization_number: Option<String>,
    website: Option<String>,
    logo_url: Option<String>,
    sector: Option<String>,
    requires_review: Option<String>,
    billing_mode: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_employers.html")]
struct EmployersPage {
    layout: Layout,
    head: AdminHead,
    rows: Vec<EmployerRow>,
    total: i64,
    page: u32,
    page_numbers: Vec<u32>,
    form: EmployerForm,
    sectors: Vec<Choice>,
    billing_modes: Vec<Choice>,
    errors: HashMap<String, String>,
}

impl EmployersPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

fn value(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// How an employer pays, for the select (free when nothing is chosen).
fn billing_choices(current: &str) -> Vec<Choice> {
    platsen_jobs::model::BillingMode::ALL
        .iter()
        .map(|m| Choice {
            value: m.code().into(),
            label: match m {
                platsen_jobs::model::BillingMode::Prepaid => "Förbetald (annonser köps i förväg)".into(),
                platsen_jobs::model::BillingMode::Agreement => "Avtalskund (faktureras per månad)".into(),
                platsen_jobs::model::BillingMode::Free => "Fri (ingen kostnad)".into(),
            },
            selected: m.code() == current || (current.is_empty() && *m == platsen_jobs::model::BillingMode::Free),
        })
        .collect()
}

pub(super) fn sector_choices(current: &str) -> Vec<Choice> {
    let mut all = vec![Choice { value: String::new(), label: "Ingen angiven".into(), selected: current.is_empty() }];
    all.extend(Sector::ALL.iter().map(|s| Choice {
        value: s.code().into(),
        label: s.name_sv().into(),
        selected: s.code() == current,
    }));
    all
}

#[derive(Debug, Default, Deserialize)]
struct PageParams {
    sida: Option<String>,
}

async fn employers_list(
    state: &AppState,
    s: &Session,
    page: u32,
    status: StatusCode,
    form: EmployerForm,
    errors: HashMap<String, String>,
) -> Response {
    let list = match state.app.store.employers(page, EMPLOYERS_PER_PAGE, state.app.clock.now()).await {
        Ok(list) => list,
        Err(e) => return unavailable(e),
    };
    let rows = list
        .items
        .into_iter()
        .map(|e| EmployerRow {
            id: e.id,
            name: e.name,
            organization_number: e.organization_number,
            slug: e.slug,
            open_jobs: e.open_jobs,
            requires_review: e.requires_review,
        })
        .collect();
    let pages = (list.total.max(1) as u32).div_ceil(EMPLOYERS_PER_PAGE);
    let title = if errors.is_empty() { "Arbetsgivare" } else { "Fel i formuläret – Arbetsgivare" };
    let sectors = sector_choices(&value(&form.sector));
    let billing_modes = billing_choices(&value(&form.billing_mode));
    let page = EmployersPage {
        layout: layout(title),
        head: head(s, "arbetsgivare", None),
        rows,
        total: list.total,
        page,
        page_numbers: (1..=pages).collect(),
        form,
        sectors,
        billing_modes,
        errors,
    };
    private(html(status, &page), None)
}

#[handler]
async fn employers_page(state: Data<&AppState>, req: &Request, params: Query<PageParams>) -> Response {
    let s = try_page!(admin_session(&state, req).await);
    let page = match params.sida.as_deref().map(str::parse::<u32>) {
        None => 1,
        Some(Ok(p)) if (1..=10_000).contains(&p) => p,
        Some(_) => {
            let e = "Fältet sida: ange ett sidnummer från 1.";
            return private(message(StatusCode::BAD_REQUEST, "Ogiltig sida", e), None);
        }
    };
    employers_list(&state, &s, page, StatusCode::OK, EmployerForm::default(), HashMap::new()).await
}

#[handler]
async fn create_employer(state: Data<&AppState>, req: &Request, body: Body) -> Response {
    let form: EmployerForm = try_page!(read_form(body).await);
    let s = try_page!(admin_post(&state, req, form.csrf.as_deref()).await);
    let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let input = EmployerInput {
        name: text(&form.name),
        organization_number: text(&form.organization_number),
        website: text(&form.website),
        sector: text(&form.sector),
        requires_review: Some(form.requires_review.is_some()),
        billing_mode: text(&form.billing_mode),
        ..Default::default()
    };
    match state.app.store.create_employer(input, false, state.app.clock.now()).await {
        Ok(e) => {
            tracing::info!(user_id = s.user.id, employer_id = e.id, "employer created on the admin page");
            see_other(&format!("/konto/arbetsgivare/{}?klart=skapad", e.id))
        }
        Err(e) => match form_errors(e, "name") {
            Ok(errors) => employers_list(&state, &s, 1, StatusCode::UNPROCESSABLE_ENTITY, form, errors).await,
            Err(r) => r,
        },
    }
}

// ----- one employer: users and keys -----------------------------------------

struct UserRow {
    id: i64,
    email: String,
    created_at: String,
    last_sign_in: String,
    /// Never signed in (an invitation may wait): can be invited again.
    invited: bool,
}

struct KeyRow {
    id: i64,
    prefix: String,
    label: String,
    created_at: String,
    last_used: String,
    revoked: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct UserForm {
    csrf: Option<String>,
    email: Option<String>,
    password: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct KeyForm {
    csrf: Option<String>,
    label: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_employer.html")]
struct EmployerAdminPage {
    layout: Layout,
    head: AdminHead,
    id: i64,
    name: String,
    slug: String,
    organization_number: String,
    sector: String,
    requires_review: bool,
    open_jobs: i64,
    /// The employer form, as stored or as just posted, and its errors.
    form: EmployerForm,
    sectors: Vec<Choice>,
    billing_modes: Vec<Choice>,
    employer_errors: HashMap<String, String>,
    users: Vec<UserRow>,
    keys: Vec<KeyRow>,
    user_email: String,
    user_errors: HashMap<String, String>,
    key_label: String,
    key_errors: HashMap<String, String>,
    /// A key just created: its secret, shown this once.
    new_secret: Option<(String, String)>,
}

impl EmployerAdminPage {
    fn user_error(&self, field: &str) -> Option<&String> {
        self.user_errors.get(field)
    }

    fn key_error(&self, field: &str) -> Option<&String> {
        self.key_errors.get(field)
    }

    fn employer_error(&self, field: &str) -> Option<&String> {
        self.employer_errors.get(field)
    }
}

/// What the employer page shows besides its lists.
#[derive(Default)]
struct EmployerPageExtra {
    notice: Option<String>,
    user_email: String,
    user_errors: HashMap<String, String>,
    key_label: String,
    key_errors: HashMap<String, String>,
    new_secret: Option<(String, String)>,
    /// A refused edit of the employer: what was typed and what is wrong.
    employer_form: Option<(EmployerForm, HashMap<String, String>)>,
}

async fn employer_admin(
    state: &AppState,
    s: &Session,
    id: &str,
    status: StatusCode,
    extra: EmployerPageExtra,
) -> Response {
    let Ok(id) = id.parse::<i64>() else { return not_found() };
    let now = state.app.clock.now();
    let key = IdOrSlug::Id(id);
    let (employer, users, keys) = match tokio::try_join!(
        state.app.store.employer(&key, now),
        state.app.store.users(Some(id)),
        state.app.store.keys(Some(id), None),
    ) {
        Ok(x) => x,
        Err(platsen_jobs::Error::NotFound) => return not_found(),
        Err(e) => return unavailable(e),
    };
    let failed = !extra.user_errors.is_empty() || !extra.key_errors.is_empty() || extra.employer_form.is_some();
    let (form, employer_errors) = extra.employer_form.unwrap_or_else(|| {
        let form = EmployerForm {
            name: Some(employer.name.clone()),
            website: employer.website.clone(),
            logo_url: employer.logo_url.clone(),
            sector: employer.sector.map(|s| s.code().to_owned()),
            requires_review: employer.requires_review.then(|| "1".to_owned()),
            billing_mode: Some(employer.billing_mode.code().to_owned()),
            ..Default::default()
        };
        (form, HashMap::new())
    });
    let sectors = sector_choices(&value(&form.sector));
    let billing_modes = billing_choices(&value(&form.billing_mode));
    let title = if failed { format!("Fel i formuläret – {}", employer.name) } else { employer.name.clone() };
    let page = EmployerAdminPage {
        layout: layout(&title),
        head: head(s, "arbetsgivare", extra.notice),
        id: employer.id,
        name: employer.name,
        slug: employer.slug,
        organization_number: employer.organization_number,
        sector: employer.sector.map_or("Ingen angiven", |s| s.name_sv()).to_owned(),
        requires_review: employer.requires_review,
        open_jobs: employer.open_jobs,
        form,
        sectors,
        billing_modes,
        employer_errors,
        users: users
            .into_iter()
            .map(|u| UserRow {
                id: u.id,
                invited: u.last_sign_in_at.is_none(),
                email: u.email,
                created_at: when(u.created_at),
                last_sign_in: when_or(u.last_sign_in_at, "aldrig"),
            })
            .collect(),
        keys: keys
            .into_iter()
            .map(|k| KeyRow {
                id: k.id,
                prefix: k.prefix,
                label: k.label,
                created_at: when(k.created_at),
                last_used: when_or(k.last_used_at, "aldrig"),
                revoked: k.revoked_at.map(when),
            })
            .collect(),
        user_email: extra.user_email,
        user_errors: extra.user_errors,
        key_label: extra.key_label,
        key_errors: extra.key_errors,
        new_secret: extra.new_secret,
    };
    private(html(status, &page), None)
}

#[handler]
async fn employer_page(state: Data<&AppState>, req: &Request, id: Path<String>, params: Query<DoneParams>) -> Response {
    let s = try_page!(admin_session(&state, req).await);
    let notice = match params.klart.as_deref() {
        Some("skapad") => Some("Arbetsgivaren är skapad. Lägg till användare och nycklar nedan."),
        Some("anvandare") => Some("Användaren är skapad och kan logga in."),
        Some("inbjuden") => Some("Inbjudan är skickad. Länken i den gäller i 7 dagar."),
        Some("ej-skickad") => Some(
            "Användaren är skapad, men inbjudan kunde inte skickas. Be användaren välja \"Glömt lösenordet\" på inloggningssidan.",
        ),
        Some("aterkallad") => Some("Nyckeln är återkallad och fungerar inte längre."),
        Some("sparad") => Some("Arbetsgivarens uppgifter är sparade."),
        Some("borttagen") => Some("Användaren är borttagen och kan inte längre logga in."),
        Some("inbjuden-igen") => Some("En ny inbjudan är skickad. Länken i den gäller i 7 dagar."),
        _ => None,
    };
    let extra = EmployerPageExtra { notice: notice.map(str::to_owned), ..Default::default() };
    employer_admin(&state, &s, &id.0, StatusCode::OK, extra).await
}

#[handler]
async fn create_user(state: Data<&AppState>, req: &Request, id: Path<String>, body: Body) -> Response {
    let form: UserForm = try_page!(read_form(body).await);
    let s = try_page!(admin_post(&state, req, form.csrf.as_deref()).await);
    let Ok(employer_id) = id.0.parse::<i64>() else { return not_found() };
    let email = value(&form.email);
    let password = form.password.filter(|p| !p.is_empty());
    let created = match &password {
        Some(p) => state
            .app
            .store
            .create_user(Some(employer_id), &email, p, false, state.app.clock.now())
            .await
            .map(|_| "anvandare"),
        None => {
            state.app.invite(employer_id, &email).await.map(|(_, sent)| if sent { "inbjuden" } else { "ej-skickad" })
        }
    };
    match created {
        Ok(done) => {
            tracing::info!(user_id = s.user.id, employer_id, outcome = done, "employer user added on the admin page");
            see_other(&format!("/konto/arbetsgivare/{employer_id}?klart={done}"))
        }
        Err(e) => match form_errors(e, "email") {
            Ok(user_errors) => {
                let extra = EmployerPageExtra { user_email: email, user_errors, ..Default::default() };
                employer_admin(&state, &s, &id.0, StatusCode::UNPROCESSABLE_ENTITY, extra).await
            }
            Err(r) => r,
        },
    }
}

#[handler]
async fn create_key(state: Data<&AppState>, req: &Request, id: Path<String>, body: Body) -> Response {
    let form: KeyForm = try_page!(read_form(body).await);
    let s = try_page!(admin_post(&state, req, form.csrf.as_deref()).await);
    let Ok(employer_id) = id.0.parse::<i64>() else { return not_found() };
    let label = value(&form.label);
    let label_or_none = Some(label.trim()).filter(|l| !l.is_empty());
    match state.app.store.create_key(employer_id, label_or_none, state.app.clock.now()).await {
        Ok(k) => {
            tracing::info!(user_id = s.user.id, employer_id, key_id = k.key.id, "API key created on the admin page");
            // The secret is shown on this answer only (never in a URL, never cached).
            let extra = EmployerPageExtra {
                notice: Some("Nyckeln är skapad. Kopiera den nu; den visas inte igen.".into()),
                new_secret: Some((k.key.prefix, k.secret)),
                ..Default::default()
            };
            employer_admin(&state, &s, &id.0, StatusCode::CREATED, extra).await
        }
        Err(e) => match form_errors(e, "label") {
            Ok(key_errors) => {
                let extra = EmployerPageExtra { key_label: label, key_errors, ..Default::default() };
                employer_admin(&state, &s, &id.0, StatusCode::UNPROCESSABLE_ENTITY, extra).await
            }
            Err(r) => r,
        },
    }
}

#[handler]
async fn revoke_key(state: Data<&AppState>, req: &Request, ids: Path<(String, String)>, body: Body) -> Response {
    let form: CsrfOnly = try_page!(read_form(body).await);
    let s = try_page!(admin_post(&state, req, form.csrf.as_deref()).await);
    let (Ok(employer_id), Ok(key_id)) = (ids.0.0.parse::<i64>(), ids.0.1.parse::<i64>()) else { return not_found() };
    // Only a key of the employer whose page the form was on.
    match state.app.store.keys(Some(employer_id), None).await {
        Ok(keys) if keys.iter().any(|k| k.id == key_id) => {}
        Ok(_) => return not_found(),
        Err(e) => return unavailable(e),
    }
    match state.app.store.revoke_key(key_id, state.app.clock.now()).await {
        Ok(()) => {
            tracing::info!(user_id = s.user.id, employer_id, key_id, "API key revoked on the admin page");
            see_other(&format!("/konto/arbetsgivare/{employer_id}?klart=aterkallad"))
        }
        Err(platsen_jobs::Error::NotFound) => not_found(),
        Err(e) => unavailable(e),
    }
}

/// Saves an employer's name, website, logo address, sector and review flag.
#[handler]
async fn update_employer(state: Data<&AppState>, req: &Request, id: Path<String>, body: Body) -> Response {
    let form: EmployerForm = try_page!(read_form(body).await);
    let s = try_page!(admin_post(&state, req, form.csrf.as_deref()).await);
    let Ok(employer_id) = id.0.parse::<i64>() else { return not_found() };
    let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let set = |v: Option<String>| v.map_or(Patch::Null, Patch::Set);
    let patch = EmployerPatch {
        name: text(&form.name).map_or(Patch::Set(String::new()), Patch::Set),
        website: set(text(&form.website)),
        logo_url: set(text(&form.logo_url)),
        sector: set(text(&form.sector)),
        requires_review: Patch::Set(form.requires_review.is_some()),
        billing_mode: text(&form.billing_mode).map_or(Patch::Absent, Patch::Set),
        ..Default::default()
    };
    match state.app.store.update_employer(employer_id, patch, state.app.clock.now()).await {
        Ok(_) => {
            tracing::info!(user_id = s.user.id, employer_id, "employer changed on the admin page");
            see_other(&format!("/konto/arbetsgivare/{employer_id}?klart=sparad"))
        }
        Err(e) => match form_errors(e, "name") {
            Ok(errors) => {
                let extra = EmployerPageExtra { employer_form: Some((form, errors)), ..Default::default() };
                employer_admin(&state, &s, &id.0, StatusCode::UNPROCESSABLE_ENTITY, extra).await
            }
            Err(r) => r,
        },
    }
}

/// Removes one of an employer's users (from that employer's page only).
#[handler]
async fn remove_user(state: Data<&AppState>, req: &Request, ids: Path<(String, String)>, body: Body) -> Response {
    let form: CsrfOnly = try_page!(read_form(body).await);
    let s = try_page!(admin_post(&state, req, form.csrf.as_deref()).await);
    let (Ok(employer_id), Ok(user_id)) = (ids.0.0.parse::<i64>(), ids.0.1.parse::<i64>()) else { return not_found() };
    match state.app.store.remove_user(employer_id, user_id).await {
        Ok(()) => {
            tracing::info!(user_id = s.user.id, employer_id, removed = user_id, "user removed on the admin page");
            see_other(&format!("/konto/arbetsgivare/{employer_id}?klart=borttagen"))
        }
        Err(platsen_jobs::Error::NotFound) => not_found(),
        Err(e) => unavailable(e),
    }
}

/// Mails an employer's user a new invitation (a user who never signed in,
/// whose link was lost or went out of date).
#[handler]
async fn reinvite_user(state: Data<&AppState>, req: &Request, ids: Path<(String, String)>, body: Body) -> Response {
    let form: CsrfOnly = try_page!(read_form(body).await);
    let s = try_page!(admin_post(&state, req, form.csrf.as_deref()).await);
    let (Ok(employer_id), Ok(user_id)) = (ids.0.0.parse::<i64>(), ids.0.1.parse::<i64>()) else { return not_found() };
    match state.app.reinvite(employer_id, user_id).await {
        Ok(sent) => {
            tracing::info!(
                user_id = s.user.id,
                employer_id,
                invited = user_id,
                sent,
                "user invited again on the admin page"
            );
            let done = if sent { "inbjuden-igen" } else { "ej-skickad" };
            see_other(&format!("/konto/arbetsgivare/{employer_id}?klart={done}"))
        }
        Err(platsen_jobs::Error::NotFound) => not_found(),
        Err(e) => unavailable(e),
    }
}

// ----- every ad -------------------------------------------------------------

/// Ads per page of the operator's list.
const ADS_PER_PAGE: u32 = 50;

struct AdListRow {
    id: i64,
    title: String,
    employer: String,
    employer_id: i64,
    status: String,
    deadline: String,
    changed: String,
}

#[derive(Template)]
#[template(path = "admin_ads.html")]
struct AdsPage {
    layout: Layout,
    head: AdminHead,
    rows: Vec<AdListRow>,
    total: i64,
    statuses: Vec<Choice>,
    employers: Vec<Choice>,
    q: String,
    pages: Vec<(u32, String, bool)>,
}

#[derive(Debug, Default, Deserialize)]
struct AdsParams {
    status: Option<String>,
    arbetsgivare: Option<String>,
    q: Option<String>,
    sida: Option<String>,
}

/// Every ad, filtered by status, employer and words of its title (or its id).
#[handler]
async fn ads_page(state: Data<&AppState>, req: &Request, params: Query<AdsParams>) -> Response {
    let s = try_page!(admin_session(&state, req).await);
    let p = &params.0;
    let bad = |field: &str, what: &str| {
        private(message(StatusCode::BAD_REQUEST, "Ogiltigt urval", format!("Fältet {field}: {what}")), None)
    };
    let nonempty = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let status = match nonempty(&p.status) {
        None => None,
        Some(code) => match platsen_jobs::model::JobStatus::from_code(&code) {
            Some(st) => Some(st),
            None => return bad("status", "välj en status i listan."),
        },
    };
    let employer = match nonempty(&p.arbetsgivare).map(|e| e.parse::<i64>()) {
        None => None,
        Some(Ok(id)) if id > 0 => Some(id),
        Some(_) => return bad("arbetsgivare", "välj en arbetsgivare i listan."),
    };
    let q = nonempty(&p.q);
    if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return bad("q", "högst 200 tecken.");
    }
    let page = match nonempty(&p.sida).map(|v| v.parse::<u32>()) {
        None => 1,
        Some(Ok(n)) if (1..=10_000).contains(&n) => n,
        Some(_) => return bad("sida", "ett sidnummer från 1."),
    };
    let now = state.app.clock.now();
    let (list, employers) = match tokio::try_join!(
        state.app.store.all_jobs(status, employer, q.as_deref(), page, ADS_PER_PAGE, now),
        state.app.store.employers(1, 1000, now),
    ) {
        Ok(x) => x,
        Err(e) => return unavailable(e),
    };
    let statuses = std::iter::once(Choice { value: String::new(), label: "Alla".into(), selected: status.is_none() })
        .chain(platsen_jobs::model::JobStatus::ALL.iter().map(|st| Choice {
            value: st.code().into(),
            label: st.name_sv().into(),
            selected: Some(*st) == status,
        }))
        .collect();
    let employers =
        std::iter::once(Choice { value: String::new(), label: "Alla".into(), selected: employer.is_none() })
            .chain(employers.items.iter().map(|e| Choice {
                value: e.id.to_string(),
                label: e.name.clone(),
                selected: Some(e.id) == employer,
            }))
            .collect();
    let pages_total = (list.total.max(1) as u32).div_ceil(ADS_PER_PAGE);
    let query = |n: u32| {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        if let Some(st) = status {
            pairs.append_pair("status", st.code());
        }
        if let Some(e) = employer {
            pairs.append_pair("arbetsgivare", &e.to_string());
        }
        if let Some(q) = &q {
            pairs.append_pair("q", q);
        }
        if n > 1 {
            pairs.append_pair("sida", &n.to_string());
        }
        let q = pairs.finish();
        if q.is_empty() { "/konto/alla-annonser".to_owned() } else { format!("/konto/alla-annonser?{q}") }
    };
    let pages =
        if pages_total > 1 { (1..=pages_total.min(50)).map(|n| (n, query(n), n == page)).collect() } else { vec![] };
    let rows = list
        .items
        .iter()
        .map(|ad| AdListRow {
            id: ad.id,
            title: ad.title.clone(),
            employer: ad.employer_name.clone(),
            employer_id: ad.employer_id,
            status: super::status_label(ad).to_owned(),
            deadline: super::swedish_date(ad.application_deadline),
            changed: when(ad.updated_at),
        })
        .collect();
    let page = AdsPage {
        layout: layout("Alla annonser"),
        head: head(&s, "annonser", None),
        rows,
        total: list.total,
        statuses,
        employers,
        q: q.unwrap_or_default(),
        pages,
    };
    private(html(StatusCode::OK, &page), None)
}

#[derive(Template)]
#[template(path = "admin_ad.html")]
struct ModeratePage {
    layout: Layout,
    head: AdminHead,
    id: i64,
    title: String,
    employer: String,
    employer_id: i64,
    status: String,
    public_slug: Option<String>,
    can_take_down: bool,
    can_reopen: bool,
    reason: String,
    error: Option<String>,
    note: Option<String>,
}

async fn moderate_page(
    state: &AppState,
    s: &Session,
    id: &str,
    status: StatusCode,
    notice: Option<String>,
    failed: Option<(String, String)>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else { return not_found() };
    let ad = match state.app.store.job_for(Actor::Admin, id, state.app.clock.now()).await {
        Ok(ad) => ad,
        Err(platsen_jobs::Error::NotFound) => return not_found(),
        Err(e) => return unavailable(e),
    };
    use platsen_jobs::model::JobStatus as S;
    let taken_down = ad.status == S::Closed && ad.rejection_reason.is_some();
    let (reason, error) = failed.map_or((String::new(), None), |(r, e)| (r, Some(e)));
    let page = ModeratePage {
        layout: layout(&if error.is_some() { format!("Fel i formuläret – {}", ad.title) } else { ad.title.clone() }),
        head: head(s, "annonser", notice),
        id: ad.id,
        status: super::status_label(&ad).to_owned(),
        public_slug: ad.is_public().then(|| ad.slug.clone()),
        can_take_down: matches!(ad.status, S::Published | S::PendingReview | S::Expired),
        can_reopen: taken_down,
        note: ad.rejection_reason.clone(),
        title: ad.title,
        employer: ad.employer_name,
        employer_id: ad.employer_id,
        reason,
        error,
    };
    private(html(status, &page), None)
}

#[handler]
async fn ad_page(state: Data<&AppState>, req: &Request, id: Path<String>, params: Query<DoneParams>) -> Response {
    let s = try_page!(admin_session(&state, req).await);
    let notice = match params.klart.as_deref() {
        Some("nertagen") => {
            Some("Annonsen är nertagen. Arbetsgivaren ser förklaringen och har fått den i ett mejl.".to_owned())
        }
        Some("oppnad") => Some("Annonsen är öppen igen.".to_owned()),
        _ => None,
    };
    moderate_page(&state, &s, &id.0, StatusCode::OK, notice, None).await
}

/// Takes an ad down with a reason the employer sees, or reopens one that was.
#[handler]
async fn moderate_ad(state: Data<&AppState>, req: &Request, id: Path<String>, body: Body) -> Response {
    let steps = [("ta-ner", "nertagen"), ("oppna", "oppnad")];
    let (s, job_id, step, done, reason) = try_page!(admin_step(&state, req, &id.0, body, &steps).await);
    match moderate(&state, &s, job_id, &step).await {
        Ok(_) => see_other(&format!("/konto/alla-annonser/{job_id}?klart={done}")),
        Err(platsen_jobs::Error::Invalid(errors)) => {
            let message = errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join(" ");
            moderate_page(&state, &s, &id.0, StatusCode::UNPROCESSABLE_ENTITY, None, Some((reason, message))).await
        }
        Err(platsen_jobs::Error::Conflict { message, .. }) => {
            moderate_page(&state, &s, &id.0, StatusCode::CONFLICT, None, Some((reason, message))).await
        }
        Err(platsen_jobs::Error::NotFound | platsen_jobs::Error::Forbidden(_)) => not_found(),
        Err(e) => unavailable(e),
    }
}

// ----- salary survey imports ------------------------------------------------

struct ImportProblem {
    line: u64,
    field: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "admin_salary.html")]
struct ImportsPage {
    layout: Layout,
    head: AdminHead,
    imports: Vec<ImportRow>,
    error: Option<String>,
    problems: Vec<ImportProblem>,
}

async fn imports_list(
    state: &AppState,
    s: &Session,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
    problems: Vec<ImportProblem>,
) -> Response {
    let imports = match state.app.store.salary_imports().await {
        Ok(i) => i,
        Err(e) => return unavailable(e),
    };
    let title = if error.is_some() { "Filen importerades inte – Lönestatistik" } else { "Lönestatistik" };
    let page = ImportsPage {
        layout: layout(title),
        head: head(s, "lonestatistik", notice),
        imports: imports.into_iter().map(Into::into).collect(),
        error,
        problems,
    };
    private(html(status, &page), None)
}

#[handler]
async fn imports_page(state: Data<&AppState>, req: &Request, params: Query<DoneParams>) -> Response {
    let s = try_page!(admin_session(&state, req).await);
    let notice = params.klart.as_deref().map(|n| match n.parse::<i64>() {
        Ok(n) => format!("Filen är importerad: {n} svar. Statistiken och diagrammen visar dem nu."),
        Err(_) => "Filen är importerad.".to_owned(),
    });
    imports_list(&state, &s, StatusCode::OK, notice, None, vec![]).await
}

/// The upload form's fields: the CSRF token and the file (at most
/// [`MAX_CSV_BODY`] bytes).
async fn read_upload(mut multipart: Multipart) -> Result<(Option<String>, Option<(String, Vec<u8>)>), String> {
    let (mut csrf, mut file) = (None, None);
    while let Some(field) = multipart.next_field().await.map_err(|_| "Formuläret kunde inte läsas.".to_owned())? {
        match field.name() {
            Some("csrf") => {
                let mut token = Vec::new();
                let read = field.into_async_read().take(128).read_to_end(&mut token).await;
                csrf = read.ok().and_then(|_| String::from_utf8(token).ok());
            }
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_owned();
                let mut bytes = Vec::new();
                field
                    .into_async_read()
                    .take(MAX_CSV_BODY as u64 + 1)
                    .read_to_end(&mut bytes)
                    .await
                    .map_err(|_| "Filen kunde inte läsas.".to_owned())?;
                if bytes.len() > MAX_CSV_BODY {
                    return Err(format!("Filen får vara högst {} MB.", MAX_CSV_BODY / 1024 / 1024));
                }
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    Ok((csrf, file))
}

#[handler]
async fn import(state: Data<&AppState>, req: &Request, multipart: Multipart) -> Response {
    let (csrf, file) = match read_upload(multipart).await {
        Ok(x) => x,
        Err(e) => return private(message(StatusCode::BAD_REQUEST, "Filen kunde inte tas emot", e), None),
    };
    let s = try_page!(admin_post(&state, req, csrf.as_deref()).await);
    let fail = |status: StatusCode, error: &str, problems: Vec<ImportProblem>| {
        imports_list(&state, &s, status, None, Some(error.to_owned()), problems)
    };
    let Some((filename, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, "Välj en CSV-fil att importera.", vec![]).await;
    };
    let filename: String = filename.chars().filter(|c| !c.is_control()).take(200).collect();
    match state.app.import_survey(bytes, Some(filename), state.app.clock.now(), |_, _| {}).await {
        Ok(import) => {
            tracing::info!(
                user_id = s.user.id,
                import_id = import.id,
                responses = import.responses,
                "salary survey imported on the admin page"
            );
            see_other(&format!("/konto/lonestatistik?klart={}", import.responses))
        }
        Err(ImportFailure::Rejected(rejected)) => {
            let error = format!(
                "Filen har {} fel och har inte importerats; inget har sparats. Rätta felen och ladda upp filen igen.",
                rejected.problems
            );
            let problems = rejected
                .errors
                .into_iter()
                .map(|e| ImportProblem { line: e.line, field: e.field, reason: e.reason })
                .collect();
            fail(StatusCode::UNPROCESSABLE_ENTITY, &error, problems).await
        }
        Err(ImportFailure::Store(platsen_jobs::Error::Conflict { message, .. })) => {
            fail(StatusCode::CONFLICT, &message, vec![]).await
        }
        Err(ImportFailure::Store(e)) => unavailable(e),
        Err(ImportFailure::Panicked) => unavailable("parsing a salary file panicked"),
    }
}
