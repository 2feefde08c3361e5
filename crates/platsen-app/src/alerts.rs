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
use platsen_jobs::FieldError;
use platsen_jobs::search::{SearchHit, SearchQuery, SearchSort};
use platsen_jobs::store::{Alert, AlertFrequency, ClaimedAlert};

use crate::App;
use crate::limits::PerClient;
use crate::saved_search::SavedSearch;
use crate::search::SearchForm;

/// How far back past the last run a run looks (see the module's comment).
const MARGIN_MINUTES: i64 = 15;
/// The most ads one alert mail lists.
const MAX_ADS: u32 = 30;
/// How long a failed run waits before the next try.
const RETRY_MINUTES: i64 = 5;

/// Why a subscription was refused.
#[derive(Debug)]
pub enum Refusal {
    /// A field, and why (in Swedish).
    Field(FieldError),
    /// This client asked for too many confirmations just now.
    TooMany,
}

impl From<FieldError> for Refusal {
    fn from(e: FieldError) -> Self {
        Refusal::Field(e)
    }
}

/// Confirmation mails a client address may ask for: five, then one every
/// ten minutes. (Per mail address: one pending confirmation at a time,
/// kept by the store.)
pub fn subscribe_limit() -> PerClient {
    PerClient::new(5, Duration::from_secs(600))
}

/// The message when an alert cannot be saved for a reason of ours.
fn not_now() -> Refusal {
    Refusal::Field(FieldError::new(
        "email",
        "unavailable",
        "Bevakningen kunde inte sparas just nu. Försök igen om en stund.",
    ))
}

/// A stored alert's search, or `None` (logged) when it no longer reads.
pub fn saved_search_of(alert: &Alert) -> Option<SavedSearch> {
    match SavedSearch::from_stored(alert.search_version, &alert.search) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(alert_id = alert.id, error = %e, "a saved search no longer reads");
            None
        }
    }
}

/// What an alert watches, in Swedish.
pub fn describe(alert: &Alert) -> String {
    saved_search_of(alert).map_or_else(|| "en sparad sökning".to_owned(), |s| crate::search::describe(&s.query()))
}

impl App {
    /// Saves an unconfirmed alert and mails the confirmation link. The
    /// answer is the same whether or not the address already had alerts or
    /// waits for a confirmation.
    pub async fn subscribe(
        &self,
        client: Option<std::net::IpAddr>,
        email: &str,
        search: &SearchForm,
        frequency: &str,
    ) -> Result<(), Refusal> {
        let frequency = AlertFrequency::from_code(frequency.trim())
            .ok_or_else(|| FieldError::new("frequency", "invalid_frequency", "Välj instant, daily eller weekly."))?;
        let search = SavedSearch::from_form(search)?;
        platsen_jobs::validate::email("email", email)?;
        let now = self.clock.now();
        // The mail names the employer by its address on the board: only a real one.
        if let Some(employer) = &search.filter.employer {
            match self.store.employer(employer, now).await {
                Ok(_) => {}
                Err(platsen_jobs::Error::NotFound) => {
                    return Err(FieldError::new("employer", "unknown_employer", "Okänd arbetsgivare.").into());
                }
                Err(e) => {
                    tracing::error!(error = %e, "reading an alert's employer failed");
                    return Err(not_now());
                }
            }
        }
        if !self.alert_limit.allow(client) {
            tracing::warn!(client = ?client, "job alert refused: too many confirmations asked from one address");
            return Err(Refusal::TooMany);
        }
        let stored = search.to_stored();
        let created =
            match self.store.create_alert(email, (&stored, crate::saved_search::VERSION), frequency, now).await {
                Ok(c) => c,
                Err(platsen_jobs::Error::Invalid(errors)) => {
                    return Err(errors.into_iter().next().map_or_else(not_now, Refusal::Field));
                }
                Err(e) => {
                    tracing::error!(error = %e, "saving a job alert failed");
                    return Err(not_now());
                }
            };
        if let Some((_, token)) = created {
            let what = crate::search::describe(&search.query());
            let body = format!(
                "Hej!\n\nNågon, förhoppningsvis du, vill få mejl från Platsen om nya lediga jobb: {what} \
                 ({}).\n\nBekräfta bevakningen här (länken gäller i {} dagar):\n{}\n\n\
                 Om det inte var du kan du strunta i det här mejlet; då skickar vi inget mer.\n\n/Platsen\n",
                frequency.name_sv().to_lowercase(),
                platsen_jobs::store::CONFIRM_DAYS,
                self.link(&format!("/bevakningar/bekrafta?token={token}")),
            );
            // A failed confirmation mail is logged by the mailer; the answer stays
            // the same so it does not tell anything about the address.
            let _ = self.mailer.send(email.trim(), "Bekräfta din jobbevakning på Platsen", body).await;
        }
        Ok(())
    }

    /// Runs due alerts until `stopped` changes: every two seconds, up to a
    /// hundred, four at a time.
    pub async fn run_alerts(self, mut stopped: tokio::sync::watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(Duration::from_secs(2));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopped.changed() => return,
            }
            let due = match self.store.claim_due_alerts(self.clock.now(), 100).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(error = %e, "reading due job alerts failed");
                    continue;
                }
            };
            // Four at a time: searches and mails overlap, the database is not flooded.
            futures_util::stream::iter(due).for_each_concurrent(4, |claimed| self.run_alert(claimed)).await;
        }
    }

    /// The new ads of one alert, mailed if there are any.
    async fn run_alert(&self, claimed: ClaimedAlert) {
        let now = self.clock.now();
        let retry = Some(chrono::Duration::minutes(RETRY_MINUTES));
        let after = match self.alert_mail(&claimed, now).await {
            Ok(None) => None,
            Ok(Some((ids, to, subject, body, headers))) => {
                match self.mailer.send_with_headers(&to, &subject, body, &headers).await {
                    Ok(()) => {
                        crate::metrics::Metrics::count(&self.metrics.alert_mails, "sent");
                        tracing::info!(alert_id = claimed.alert.id, ads = ids.len(), "job alert mailed");
                        if let Err(e) = self.store.record_alert_run(&claimed, &ids, now, None).await {
                            tracing::error!(alert_id = claimed.alert.id, error = %e, "recording a job alert run failed");
                        }
                        return;
                    }
                    Err(_) => {
                        crate::metrics::Metrics::count(&self.metrics.alert_mails, "failed");
                        retry
                    }
                }
            }
            Err(()) => retry,
        };
        let _ = self.store.record_alert_run(&claimed, &[], now, after).await;
    }

    /// The mail for one alert's new ads: the ads' ids, the address, the
    /// subject, the body and the headers; `None` when nothing is new or
    /// the search no longer reads. `Err` when a step failed (logged).
    #[allow(clippy::type_complexity)]
    async fn alert_mail(
        &self,
        claimed: &ClaimedAlert,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<(Vec<i64>, String, String, String, [(&'static str, String); 3])>, ()> {
        let a = &claimed.alert;
        let Some(saved) = saved_search_of(a) else { return Ok(None) };
        let mut query = saved.query();
        let margin = chrono::Duration::minutes(MARGIN_MINUTES);
        let since = a.checked_at.unwrap_or(claimed.confirmed_at) - margin;
        query.published_after = Some(since.max(claimed.confirmed_at - margin));
        query.sort = SearchSort::Newest;
        query.per_page = MAX_ADS;
        let hits = self.search(&query, now).await.map_err(|e| {
            tracing::warn!(alert_id = a.id, error = %e, "an alert's search failed");
        })?;
        // Published before the alert existed: not new to it.
        let candidates: Vec<SearchHit> =
            hits.hits.into_iter().filter(|h| h.published_at.is_some_and(|p| p >= claimed.confirmed_at)).collect();
        let ids: Vec<i64> = candidates.iter().map(|h| h.id).collect();
        let sent = self.store.alert_already_sent(a.id, &ids).await.map_err(|e| {
            tracing::warn!(alert_id = a.id, error = %e, "reading an alert's sent ads failed");
        })?;
        let new: Vec<&SearchHit> = candidates.iter().filter(|h| !sent.contains(&h.id)).collect();
        if new.is_empty() {
            return Ok(None);
        }
        let token = self.store.alert_link_token(a.id, now).await.map_err(|e| {
            tracing::warn!(alert_id = a.id, error = %e, "minting an alert's link token failed");
        })?;
        let (subject, body) = self.alert_text(&query, &new, &token);
        let unsubscribe = self.link(&format!("/bevakningar/avsluta?token={token}"));
        let headers = [
            ("List-Unsubscribe", format!("<{unsubscribe}>")),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".to_owned()),
            ("Auto-Submitted", "auto-generated".to_owned()),
        ];
        Ok(Some((new.iter().map(|h| h.id).collect(), a.email.clone(), subject, body, headers)))
    }

    fn alert_text(&self, query: &SearchQuery, ads: &[&SearchHit], token: &str) -> (String, String) {
        let what = crate::search::describe(query);
        let subject = match ads.len() {
            1 => format!("Nytt jobb: {}", ads[0].title),
            n => format!("{n} nya jobb: {what}"),
        };
        let mut body = format!("Hej!\n\nNya lediga jobb för din bevakning: {what}.\n\n");
        // Featured ads are named first (the search already puts them
        // first; a stable sort keeps that true whatever the engine did).
        let mut ads = ads.to_vec();
        ads.sort_by_key(|h| !h.featured);
        for h in ads {
            body.push_str(&format!(
                "{}{}\n{} · {} · Sista ansökningsdag {}\n{}\n\n",
                if h.featured { "Utvalt jobb: " } else { "" },
                h.title,
                h.employer_name,
                h.place_text(),
                crate::format::swedish_date(h.application_deadline),
                self.link(&format!("/jobb/{}", h.slug)),
            ));
        }
        let mut all = query.clone();
        all.sort = SearchSort::Relevance;
        body.push_str(&format!(
            "Alla träffar: {}\n\n\
             Ändra hur ofta du får mejl, eller avsluta bevakningen:\n{}\n\n\
             Avsluta direkt:\n{}\n\n/Platsen\n",
            self.link(&crate::search::search_path(&all, 1)),
            self.link(&format!("/bevakningar/hantera?token={token}")),
            self.link(&format!("/bevakningar/avsluta?token={token}")),
        ));
        (subject, body)
    }
}
