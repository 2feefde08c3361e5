//! Job alerts: subscribing (the API and the search page share it), the
//! confirmation mail, and the worker that runs each confirmed alert's search
//! and mails what is new.
//!
//! A run searches with the saved search for ads published since the last
//! run, less a margin: an ad's publication time is set before its
//! transaction commits, so an ad can become visible a moment after a run
//! that should have seen it. The margin catches it on the next run, and the
//! alert's record of ads already sent keeps the overlap from mailing
//! anything twice. Ads published before the alert was confirmed are never
//! new to it.
//!
//! Every alert mail carries RFC 8058 one-click unsubscription
//! (`List-Unsubscribe` with an https link and `List-Unsubscribe-Post:
//! List-Unsubscribe=One-Click`) and a link to manage the alert; no account
//! is needed.

use std::time::Duration;

use futures_util::StreamExt;
use platsen_jobs::search::{SearchHit, SearchSort};
use platsen_jobs::store::{AlertFrequency, ClaimedAlert};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Tags};
use serde::Deserialize;

use crate::AppState;
use crate::body::JsonBody;
use crate::problem::ApiError;
use crate::web::{SearchParams, describe_search, saved_search, search_of_saved};

/// How far back past the last run a run looks (see the module's comment).
const MARGIN_MINUTES: i64 = 15;
/// The most ads one alert mail lists.
const MAX_ADS: u32 = 30;

/// Why a subscription was refused.
pub(crate) enum Refusal {
    /// A field and a Swedish message.
    Field(&'static str, String),
    /// This client asked for too many confirmations just now.
    TooMany,
}

/// Confirmation mails a client address may ask for: five, then one every
/// ten minutes. (Per mail address: one pending confirmation at a time,
/// kept by the store.)
pub struct SubscribeLimit(governor::DefaultKeyedRateLimiter<std::net::IpAddr>);

impl Default for SubscribeLimit {
    fn default() -> Self {
        let n = |v: u32| std::num::NonZeroU32::new(v).expect("non-zero");
        let quota = governor::Quota::with_period(Duration::from_secs(600)).expect("non-zero").allow_burst(n(5));
        SubscribeLimit(governor::RateLimiter::keyed(quota))
    }
}

impl SubscribeLimit {
    fn allow(&self, client: Option<std::net::IpAddr>) -> bool {
        let Some(ip) = client else { return true };
        if self.0.len() > 10_000 {
            self.0.retain_recent();
        }
        self.0.check_key(&ip).is_ok()
    }
}

/// Saves an unconfirmed alert and mails the confirmation link. The answer
/// is the same whether or not the address already had alerts or waits for
/// a confirmation.
pub(crate) async fn subscribe(
    state: &AppState,
    base: &str,
    client: Option<std::net::IpAddr>,
    email: &str,
    params: &SearchParams,
    frequency: &str,
) -> Result<(), Refusal> {
    let frequency = AlertFrequency::from_code(frequency.trim())
        .ok_or(Refusal::Field("frequency", "välj instant, daily eller weekly.".to_owned()))?;
    let search = saved_search(params).map_err(|(field, message)| Refusal::Field(field, message))?;
    platsen_jobs::validate::email("email", email).map_err(|e| Refusal::Field("email", e.message))?;
    let now = state.clock.now();
    // The mail names the employer by its address on the board: only a real one.
    if let Some(employer) = search_of_saved(&search).and_then(|q| q.filter.employer) {
        match state.store.employer(&employer, now).await {
            Ok(_) => {}
            Err(platsen_jobs::Error::NotFound) => {
                return Err(Refusal::Field("employer", "okänd arbetsgivare.".to_owned()));
            }
            Err(e) => {
                tracing::error!(error = %e, "reading an alert's employer failed");
                let message = "Bevakningen kunde inte sparas just nu. Försök igen om en stund.".to_owned();
                return Err(Refusal::Field("email", message));
            }
        }
    }
    if !state.web.subscribe.allow(client) {
        tracing::warn!(client = ?client, "job alert refused: too many confirmations asked from one address");
        return Err(Refusal::TooMany);
    }
    let created = match state.store.create_alert(email, &search, frequency, now).await {
        Ok(c) => c,
        Err(platsen_jobs::Error::Invalid(errors)) => {
            let message = errors.into_iter().next().map(|e| e.message).unwrap_or_default();
            return Err(Refusal::Field("email", message));
        }
        Err(e) => {
            tracing::error!(error = %e, "saving a job alert failed");
            let message = "Bevakningen kunde inte sparas just nu. Försök igen om en stund.".to_owned();
            return Err(Refusal::Field("email", message));
        }
    };
    if let Some((_, token)) = created {
        let what = search_of_saved(&search).map(|q| describe_search(&q)).unwrap_or_default();
        let body = format!(
            "Hej!\n\nNågon, förhoppningsvis du, vill få mejl från Platsen om nya lediga jobb: {what} \
             ({}).\n\nBekräfta bevakningen här (länken gäller i {} dagar):\n{base}/bevakningar/bekrafta?token={token}\n\n\
             Om det inte var du kan du strunta i det här mejlet; då skickar vi inget mer.\n\n/Platsen\n",
            frequency.name_sv().to_lowercase(),
            platsen_jobs::store::CONFIRM_DAYS,
        );
        // A failed confirmation mail is logged by the mailer; the answer stays
        // the same so it does not tell anything about the address.
        let _ = state.web.mailer.send(email.trim(), "Bekräfta din jobbevakning på Platsen", body).await;
    }
    Ok(())
}

/// Runs due alerts until `stopped` changes: every two seconds, up to a
/// hundred, four at a time.
pub async fn run(state: AppState, base: String, mut stopped: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.changed() => return,
        }
        let due = match state.store.claim_due_alerts(state.clock.now(), 100).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "reading due job alerts failed");
                continue;
            }
        };
        // Four at a time: searches and mails overlap, the database is not flooded.
        futures_util::stream::iter(due).for_each_concurrent(4, |claimed| run_one(&state, &base, claimed)).await;
    }
}

/// The new ads of one alert, mailed if there are any.
async fn run_one(state: &AppState, base: &str, claimed: ClaimedAlert) {
    let a = &claimed.alert;
    let now = state.clock.now();
    let Some(mut query) = search_of_saved(&a.search) else {
        tracing::warn!(alert_id = a.id, "a saved search no longer parses; the alert is skipped");
        let _ = state.store.record_alert_run(&claimed, &[], now, None).await;
        return;
    };
    let since = a.checked_at.unwrap_or(claimed.confirmed_at) - chrono::Duration::minutes(MARGIN_MINUTES);
    query.published_after = Some(since.max(claimed.confirmed_at - chrono::Duration::minutes(MARGIN_MINUTES)));
    query.sort = SearchSort::Newest;
    query.page = 1;
    query.per_page = MAX_ADS;
    let hits = match crate::routes::run_search(state, &query, now).await {
        Ok(r) => r.hits,
        Err(_) => {
            let _ = state.store.record_alert_run(&claimed, &[], now, Some(chrono::Duration::minutes(5))).await;
            return;
        }
    };
    // Published before the alert existed: not new to it.
    let candidates: Vec<SearchHit> =
        hits.into_iter().filter(|h| h.published_at.is_some_and(|p| p >= claimed.confirmed_at)).collect();
    let ids: Vec<i64> = candidates.iter().map(|h| h.id).collect();
    let sent = match state.store.alert_already_sent(a.id, &ids).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(alert_id = a.id, error = %e, "reading an alert's sent ads failed");
            let _ = state.store.record_alert_run(&claimed, &[], now, Some(chrono::Duration::minutes(5))).await;
            return;
        }
    };
    let new: Vec<&SearchHit> = candidates.iter().filter(|h| !sent.contains(&h.id)).collect();
    if new.is_empty() {
        let _ = state.store.record_alert_run(&claimed, &[], now, None).await;
        return;
    }
    let token = match state.store.alert_link_token(a.id, now).await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(alert_id = a.id, error = %e, "minting an alert's link token failed");
            let _ = state.store.record_alert_run(&claimed, &[], now, Some(chrono::Duration::minutes(5))).await;
            return;
        }
    };
    let (subject, body) = alert_mail(base, &query, &a.search, &new, &token);
    let unsubscribe = format!("{base}/bevakningar/avsluta?token={token}");
    let headers = [
        ("List-Unsubscribe", format!("<{unsubscribe}>")),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".to_owned()),
        ("Auto-Submitted", "auto-generated".to_owned()),
    ];
    match state.web.mailer.send_with_headers(&a.email, &subject, body, &headers).await {
        Ok(()) => {
            let ids: Vec<i64> = new.iter().map(|h| h.id).collect();
            tracing::info!(alert_id = a.id, ads = ids.len(), "job alert mailed");
            if let Err(e) = state.store.record_alert_run(&claimed, &ids, now, None).await {
                tracing::error!(alert_id = a.id, error = %e, "recording a job alert run failed");
            }
        }
        Err(_) => {
            let _ = state.store.record_alert_run(&claimed, &[], now, Some(chrono::Duration::minutes(5))).await;
        }
    }
}

fn alert_mail(
    base: &str,
    query: &platsen_jobs::search::SearchQuery,
    saved: &str,
    ads: &[&SearchHit],
    token: &str,
) -> (String, String) {
    let what = describe_search(query);
    let subject = match ads.len() {
        1 => format!("Nytt jobb: {}", ads[0].title),
        n => format!("{n} nya jobb: {what}"),
    };
    let mut body = format!("Hej!\n\nNya lediga jobb för din bevakning: {what}.\n\n");
    for h in ads {
        body.push_str(&format!(
            "{}\n{} · {}, {} · Sista ansökningsdag {}\n{base}/jobb/{}\n\n",
            h.title,
            h.employer_name,
            h.municipality.name,
            h.municipality.county.name,
            crate::web::swedish_date(h.application_deadline),
            h.slug,
        ));
    }
    body.push_str(&format!(
        "Alla träffar: {base}/jobb?{saved}\n\n\
         Ändra hur ofta du får mejl, eller avsluta bevakningen:\n{base}/bevakningar/hantera?token={token}\n\n\
         Avsluta direkt:\n{base}/bevakningar/avsluta?token={token}\n\n/Platsen\n"
    ));
    (subject, body)
}

// ----- the API ----------------------------------------------------------------

#[derive(Tags)]
enum Tag {
    /// Job alerts: saved searches mailed to job seekers.
    Alerts,
}

/// How often an alert mails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum FrequencyCode {
    /// As soon as a new ad is found (checked every minute).
    Instant,
    Daily,
    Weekly,
}

/// A search to watch, and where to mail it.
#[derive(Debug, Clone, Object, Deserialize)]
pub struct CreateAlert {
    /// The job seeker's address; a confirmation link goes there first.
    #[oai(validator(max_length = 254))]
    pub email: String,
    pub frequency: FrequencyCode,
    /// The search's words.
    pub q: Option<String>,
    /// Role code.
    pub role: Option<String>,
    /// County SCB code (two digits).
    pub county: Option<String>,
    /// Municipality SCB code (four digits).
    pub municipality: Option<String>,
    pub employment_type: Option<String>,
    pub remote: Option<String>,
    /// Employer id or slug.
    pub employer: Option<String>,
}

/// The alert waits for confirmation.
#[derive(Debug, Clone, Object)]
pub struct AlertAccepted {
    /// Always `confirmation_sent`.
    pub status: String,
    pub message: String,
}

#[derive(ApiResponse)]
enum Accepted {
    /// A confirmation link was mailed (the same answer whatever the address).
    #[oai(status = 202)]
    Accepted(Json<AlertAccepted>),
}

pub struct AlertsApi {
    pub(crate) state: AppState,
    pub(crate) public_url: String,
}

#[OpenApi(prefix_path = "/v1", tag = "Tag::Alerts")]
impl AlertsApi {
    /// Save a job alert
    ///
    /// Starts a double opt-in: a confirmation link is mailed, and only a
    /// confirmed alert mails ads, each ad once, as they are published
    /// (`instant`), daily or weekly. Every mail has a one-click unsubscribe
    /// (RFC 8058) and a link to manage the alert; no account is needed.
    #[oai(path = "/alerts", method = "post", operation_id = "createAlert")]
    async fn create(&self, req: &poem::Request, body: JsonBody<CreateAlert>) -> Result<Accepted, ApiError> {
        let b = body.0;
        let params = SearchParams {
            q: b.q,
            role: b.role,
            county: b.county,
            municipality: b.municipality,
            employment_type: b.employment_type,
            remote: b.remote,
            employer: b.employer,
            sort: None,
            page: None,
        };
        let frequency = match b.frequency {
            FrequencyCode::Instant => "instant",
            FrequencyCode::Daily => "daily",
            FrequencyCode::Weekly => "weekly",
        };
        let client = req.remote_addr().as_socket_addr().map(|a| a.ip());
        subscribe(&self.state, &self.public_url, client, &b.email, &params, frequency).await.map_err(|r| match r {
            Refusal::Field(field, message) => ApiError::bad_request(field, "invalid_parameter", message),
            Refusal::TooMany => ApiError::too_many_requests(),
        })?;
        Ok(Accepted::Accepted(Json(AlertAccepted {
            status: "confirmation_sent".into(),
            message: "Vi har skickat en länk för att bekräfta bevakningen. Inga mejl skickas förrän den är bekräftad."
                .into(),
        })))
    }
}
