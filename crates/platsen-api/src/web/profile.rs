//! An employer's own profile: the description, website and sector its
//! users edit (with the same rules and sanitising as an ad's description),
//! and its logo, uploaded as a file and checked, resized and re-encoded
//! before anything is stored (`platsen_app::logos`).
//!
//! - `/konto/profil`: the signed-in employer user's own employer;
//! - `/konto/arbetsgivare/:id/profil`: the same page for the operator.
//!
//! The store decides who may change what (`Store::update_employer_as`,
//! `Store::set_logo`); these pages only find the employer meant.

use std::collections::HashMap;

use askama::Template;
use platsen_jobs::input::{EmployerPatch, Patch};
use platsen_jobs::model::{Actor, Employer};
use platsen_jobs::sanitize::DescriptionFormat;
use platsen_jobs::store::Session;
use poem::http::StatusCode;
use poem::web::{Data, Multipart, Path, Query};
use poem::{Body, FromRequest, Request, RequestBody, Response, Route, handler};
use serde::Deserialize;
use tokio::io::AsyncReadExt;

use super::LogoImg;
use super::admin::{form_errors, not_found, sector_choices};
use crate::AppState;
use crate::http::allow::{get, post};
use crate::http::body::{Capped, UPLOAD_DRAIN_LIMIT, read_capped};
use crate::http::page::{Choice, Layout, html, unavailable};
use crate::http::session::{CsrfOnly, actor, layout, private, read_form, see_other, session, session_for_post};

pub(super) fn mount(route: Route) -> Route {
    route
        .at("/konto/profil", get(own_page).post(own_save))
        .at("/konto/profil/logotyp", post(own_logo))
        .at("/konto/profil/logotyp/ta-bort", post(own_logo_removed))
        .at("/konto/arbetsgivare/:id/profil", get(operator_page).post(operator_save))
        .at("/konto/arbetsgivare/:id/profil/logotyp", post(operator_logo))
        .at("/konto/arbetsgivare/:id/profil/logotyp/ta-bort", post(operator_logo_removed))
}

/// Whose profile a request is about: the signed-in user's employer
/// (`id: None`), or for the operator the employer in the address.
struct Target {
    session: Session,
    actor: Actor,
    employer_id: i64,
    /// The page's own address.
    base: String,
}

fn target_of(s: Session, id: Option<&str>) -> Result<Target, Response> {
    let Some(actor) = actor(&s) else { return Err(see_other("/konto")) };
    match (id, actor) {
        (None, Actor::User { employer_id, .. }) => {
            Ok(Target { session: s, actor, employer_id, base: "/konto/profil".into() })
        }
        (Some(raw), Actor::Admin) => match raw.parse::<i64>() {
            Ok(employer_id) => {
                Ok(Target { session: s, actor, employer_id, base: format!("/konto/arbetsgivare/{employer_id}/profil") })
            }
            Err(_) => Err(not_found()),
        },
        // An operator has no profile of its own; an employer user no other's.
        (None, _) => Err(see_other("/konto")),
        (Some(_), _) => Err(not_found()),
    }
}

async fn target(state: &AppState, req: &Request, id: Option<&str>) -> Result<Target, Response> {
    match session(state, req).await? {
        Some(s) => target_of(s, id),
        None => Err(see_other("/konto")),
    }
}

async fn target_for_post(
    state: &AppState,
    req: &Request,
    id: Option<&str>,
    csrf: Option<&str>,
) -> Result<Target, Response> {
    target_of(session_for_post(state, req, csrf).await?, id)
}

#[derive(Debug, Default, Deserialize)]
struct ProfileForm {
    csrf: Option<String>,
    description: Option<String>,
    website: Option<String>,
    sector: Option<String>,
}

#[derive(Template)]
#[template(path = "account_profile.html")]
struct ProfilePage {
    layout: Layout,
    csrf: String,
    base: String,
    name: String,
    slug: String,
    notice: Option<String>,
    form: ProfileForm,
    sectors: Vec<Choice>,
    errors: HashMap<String, String>,
    logo: Option<LogoImg>,
    logo_error: Option<String>,
}

impl ProfilePage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

#[derive(Debug, Default, Deserialize)]
struct DoneParams {
    klart: Option<String>,
}

/// What the page shows besides the employer: a refused form, a refused logo.
#[derive(Default)]
struct Refused {
    form: Option<(ProfileForm, HashMap<String, String>)>,
    logo_error: Option<String>,
}

async fn page(state: &AppState, t: Target, status: StatusCode, notice: Option<String>, refused: Refused) -> Response {
    let now = state.app.clock.now();
    let employer: Employer = match state.app.store.employer(&platsen_jobs::IdOrSlug::Id(t.employer_id), now).await {
        Ok(e) => e,
        Err(platsen_jobs::Error::NotFound) => return not_found(),
        Err(e) => return unavailable(e),
    };
    let (form, errors) = refused.form.unwrap_or_else(|| {
        let form = ProfileForm {
            csrf: None,
            description: employer.description_source().map(str::to_owned),
            website: employer.website.clone(),
            sector: employer.sector.map(|s| s.code().to_owned()),
        };
        (form, HashMap::new())
    });
    let failed = !errors.is_empty() || refused.logo_error.is_some();
    let title = if failed {
        format!("Fel i formuläret – {}", employer.name)
    } else {
        format!("Profil – {}", employer.name)
    };
    let page = ProfilePage {
        layout: layout(&title),
        csrf: t.session.csrf.clone(),
        base: t.base,
        sectors: sector_choices(form.sector.as_deref().unwrap_or_default()),
        name: employer.name,
        slug: employer.slug,
        notice,
        form,
        errors,
        logo: LogoImg::of(employer.logo.as_ref()),
        logo_error: refused.logo_error,
    };
    private(html(status, &page), None)
}

fn notice_of(done: Option<&str>) -> Option<String> {
    match done? {
        "sparad" => Some("Profilen är sparad. Er sida och era annonser visar den nu.".into()),
        "logotyp" => Some("Logotypen är sparad.".into()),
        "utan-logotyp" => Some("Logotypen är borttagen.".into()),
        _ => None,
    }
}

#[handler]
async fn own_page(state: Data<&AppState>, req: &Request, params: Query<DoneParams>) -> Response {
    let t = try_page!(target(&state, req, None).await);
    page(&state, t, StatusCode::OK, notice_of(params.klart.as_deref()), Refused::default()).await
}

#[handler]
async fn operator_page(state: Data<&AppState>, req: &Request, id: Path<String>, params: Query<DoneParams>) -> Response {
    let t = try_page!(target(&state, req, Some(&id.0)).await);
    page(&state, t, StatusCode::OK, notice_of(params.klart.as_deref()), Refused::default()).await
}

#[handler]
async fn own_save(state: Data<&AppState>, req: &Request, body: Body) -> Response {
    save(&state, req, None, body).await
}

#[handler]
async fn operator_save(state: Data<&AppState>, req: &Request, id: Path<String>, body: Body) -> Response {
    save(&state, req, Some(&id.0), body).await
}

/// Saves the description, website and sector.
async fn save(state: &AppState, req: &Request, id: Option<&str>, body: Body) -> Response {
    let form: ProfileForm = try_page!(read_form(body).await);
    let t = try_page!(target_for_post(state, req, id, form.csrf.as_deref()).await);
    let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let set = |v: Option<String>| v.map_or(Patch::Null, Patch::Set);
    // A description left as it was stays in its own format (an employer
    // stored before sources were kept has HTML, not Markdown).
    let now = state.app.clock.now();
    let current = match state.app.store.employer(&platsen_jobs::IdOrSlug::Id(t.employer_id), now).await {
        Ok(e) => e,
        Err(platsen_jobs::Error::NotFound) => return not_found(),
        Err(e) => return unavailable(e),
    };
    let description = text(&form.description);
    let unchanged = description.as_deref().map(|d| d.replace("\r\n", "\n"))
        == current.description_source().map(|d| d.trim().replace("\r\n", "\n"));
    let patch = EmployerPatch {
        description: if unchanged { Patch::Absent } else { set(description) },
        description_format: Some(DescriptionFormat::Markdown),
        website: set(text(&form.website)),
        sector: set(text(&form.sector)),
        ..Default::default()
    };
    match state.app.store.update_employer_as(t.actor, t.employer_id, patch, state.app.clock.now()).await {
        Ok(_) => {
            tracing::info!(user_id = t.session.user.id, employer_id = t.employer_id, "employer profile saved");
            see_other(&format!("{}?klart=sparad", t.base))
        }
        Err(e) => match form_errors(e, "description") {
            Ok(errors) => {
                let refused = Refused { form: Some((form, errors)), ..Default::default() };
                page(state, t, StatusCode::UNPROCESSABLE_ENTITY, None, refused).await
            }
            Err(r) => r,
        },
    }
}

#[handler]
async fn own_logo(state: Data<&AppState>, req: &Request, body: Body) -> Response {
    upload(&state, req, None, body).await
}

#[handler]
async fn operator_logo(state: Data<&AppState>, req: &Request, id: Path<String>, body: Body) -> Response {
    upload(&state, req, Some(&id.0), body).await
}

/// The upload form's fields: the CSRF token and the file.
enum Upload {
    Read { csrf: Option<String>, file: Vec<u8> },
    TooLarge,
    Unreadable,
}

async fn read_upload(req: &Request, body: Body) -> Upload {
    let max = platsen_app::logos::MAX_UPLOAD_BYTES;
    // A declared length far over the limit: read and drop what comes (so
    // the browser shows the answer, not a reset), without parsing it.
    let declared = req.header("content-length").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    if declared > max as u64 + 64 * 1024 {
        let _ = tokio::io::copy(&mut body.into_async_read().take(UPLOAD_DRAIN_LIMIT), &mut tokio::io::sink()).await;
        return Upload::TooLarge;
    }
    let mut request_body = RequestBody::new(body);
    let Ok(mut multipart) = Multipart::from_request(req, &mut request_body).await else { return Upload::Unreadable };
    let (mut csrf, mut file) = (None, Vec::new());
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => return Upload::Unreadable,
        };
        match field.name() {
            Some("csrf") => {
                let mut token = Vec::new();
                if field.into_async_read().take(128).read_to_end(&mut token).await.is_err() {
                    return Upload::Unreadable;
                }
                csrf = String::from_utf8(token).ok();
            }
            Some("logo") => match read_capped(field.into_async_read(), max).await {
                Ok(Capped::Fits(bytes)) => file = bytes,
                Ok(Capped::TooLarge) => return Upload::TooLarge,
                Err(_) => return Upload::Unreadable,
            },
            _ => {}
        }
    }
    Upload::Read { csrf, file }
}

async fn upload(state: &AppState, req: &Request, id: Option<&str>, body: Body) -> Response {
    let (csrf, file) = match read_upload(req, body).await {
        Upload::Read { csrf, file } => (csrf, file),
        // Nothing is changed, so the page with the reason needs no token.
        refused => {
            let (status, why) = match refused {
                Upload::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, platsen_app::logos::too_large_message()),
                _ => (StatusCode::BAD_REQUEST, "Filen kunde inte tas emot. Försök igen.".to_owned()),
            };
            let t = try_page!(target(state, req, id).await);
            return page(state, t, status, None, Refused { logo_error: Some(why), ..Default::default() }).await;
        }
    };
    let t = try_page!(target_for_post(state, req, id, csrf.as_deref()).await);
    match state.app.upload_logo(t.actor, t.employer_id, file).await {
        Ok(_) => {
            tracing::info!(
                user_id = t.session.user.id,
                employer_id = t.employer_id,
                "logo uploaded on the profile page"
            );
            see_other(&format!("{}?klart=logotyp", t.base))
        }
        Err(platsen_jobs::Error::Invalid(errors)) => {
            let why = errors.into_iter().next().map(|e| e.message).unwrap_or_default();
            let refused = Refused { logo_error: Some(why), ..Default::default() };
            page(state, t, StatusCode::UNPROCESSABLE_ENTITY, None, refused).await
        }
        Err(platsen_jobs::Error::NotFound | platsen_jobs::Error::Forbidden(_)) => not_found(),
        Err(e) => unavailable(e),
    }
}

#[handler]
async fn own_logo_removed(state: Data<&AppState>, req: &Request, body: Body) -> Response {
    remove(&state, req, None, body).await
}

#[handler]
async fn operator_logo_removed(state: Data<&AppState>, req: &Request, id: Path<String>, body: Body) -> Response {
    remove(&state, req, Some(&id.0), body).await
}

async fn remove(state: &AppState, req: &Request, id: Option<&str>, body: Body) -> Response {
    let form: CsrfOnly = try_page!(read_form(body).await);
    let t = try_page!(target_for_post(state, req, id, form.csrf.as_deref()).await);
    match state.app.remove_logo(t.actor, t.employer_id).await {
        Ok(_) => see_other(&format!("{}?klart=utan-logotyp", t.base)),
        Err(platsen_jobs::Error::NotFound | platsen_jobs::Error::Forbidden(_)) => not_found(),
        Err(e) => unavailable(e),
    }
}
