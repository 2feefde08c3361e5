//! Saved ads ("Sparade annonser") without an account. The list lives with
//! the reader: in the browser's storage with the script, and without it in
//! the address of `/sparade` itself (`?annons=…&annons=…`), which can be
//! bookmarked or mailed. Platsen stores nothing about it; mailing the list
//! sends it once and keeps neither the address nor the list.

use std::time::Duration;

use chrono::{DateTime, Utc};
use platsen_jobs::model::JobAd;
use platsen_jobs::{FieldError, IdOrSlug};

use crate::App;
use crate::alerts::Refusal;
use crate::limits::PerClient;

/// The most ads a saved list holds.
pub const MAX_SAVED: usize = 50;
/// The query parameter that carries the list.
pub const PARAM: &str = "annons";

/// Lists a client address may mail: five, then one every ten minutes.
pub fn mail_limit() -> PerClient {
    PerClient::new(5, Duration::from_secs(600))
}

/// The ads' slugs in a query string's `annons` values (each may itself be
/// a comma-separated list), in order, without repeats. Every value must be
/// an ad's address name, and there may be at most [`MAX_SAVED`].
pub fn parse_list<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, FieldError> {
    let mut slugs: Vec<String> = Vec::new();
    for value in values {
        for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let slug = platsen_jobs::validate::slug(PARAM, part).map_err(|_| {
                FieldError::new(PARAM, "invalid_slug", "Listan innehåller något som inte är en annons.")
            })?;
            if !slugs.contains(&slug) {
                slugs.push(slug);
            }
            if slugs.len() > MAX_SAVED {
                return Err(FieldError::new(
                    PARAM,
                    "too_many",
                    format!("En lista kan spara högst {MAX_SAVED} annonser."),
                ));
            }
        }
    }
    Ok(slugs)
}

/// The saved list as a query string (`annons=a&annons=b`).
pub fn query_of(slugs: &[String]) -> String {
    slugs.iter().map(|s| format!("{PARAM}={s}")).collect::<Vec<_>>().join("&")
}

/// The refusal when the list cannot be mailed for a reason of ours.
fn not_now() -> Refusal {
    Refusal::Field(FieldError::new(
        "email",
        "unavailable",
        "Listan kunde inte skickas just nu. Försök igen om en stund.",
    ))
}

/// A saved ad as it is now.
pub enum SavedAd {
    /// Published and open.
    Open(JobAd),
    /// Published once, no longer open (closed, expired, archived).
    Gone(JobAd),
}

impl App {
    /// The saved ads that exist, in the list's order; an address that never
    /// was an ad's, or a draft's, is left out.
    pub async fn saved_ads(&self, slugs: &[String], now: DateTime<Utc>) -> platsen_jobs::Result<Vec<SavedAd>> {
        let mut out = Vec::with_capacity(slugs.len());
        for slug in slugs {
            out.extend(self.open_or_gone(slug, now).await?);
        }
        Ok(out)
    }

    /// The ad with this slug if it is open, or was once (closed, expired,
    /// archived); `None` for a draft or an address that was never an ad's.
    pub async fn open_or_gone(&self, slug: &str, now: DateTime<Utc>) -> platsen_jobs::Result<Option<SavedAd>> {
        match self.store.public_job(&IdOrSlug::Slug(slug.to_owned()), now).await {
            Ok(ad) => Ok(Some(SavedAd::Open(ad))),
            Err(platsen_jobs::Error::NotFound) => Ok(self.store.gone_job(slug, now).await?.map(SavedAd::Gone)),
            Err(e) => Err(e),
        }
    }

    /// Mails the open ads of a saved list to `email`, with a link back to
    /// the list. Nothing is stored.
    pub async fn mail_saved_ads(
        &self,
        client: Option<std::net::IpAddr>,
        email: &str,
        slugs: &[String],
    ) -> Result<usize, Refusal> {
        let email = platsen_jobs::validate::email("email", email)?;
        if slugs.is_empty() {
            return Err(FieldError::new(PARAM, "empty", "Det finns inga sparade annonser att skicka.").into());
        }
        let now = self.clock.now();
        let ads = self.saved_ads(slugs, now).await.map_err(|e| {
            tracing::error!(error = %e, "reading saved ads failed");
            not_now()
        })?;
        let open: Vec<&JobAd> = ads
            .iter()
            .filter_map(|a| match a {
                SavedAd::Open(ad) => Some(ad),
                SavedAd::Gone(_) => None,
            })
            .collect();
        if open.is_empty() {
            return Err(FieldError::new(PARAM, "none_open", "Ingen av de sparade annonserna är öppen längre.").into());
        }
        if !self.saved_limit.allow(client) {
            tracing::warn!(client = ?client, "saved list refused: too many mails asked from one address");
            return Err(Refusal::TooMany);
        }
        let mut body = String::from("Hej!\n\nHär är de lediga jobb du sparade på Platsen:\n\n");
        for ad in &open {
            body.push_str(&format!(
                "{}\n{}, {}. Sista ansökningsdag {}.\n{}\n\n",
                ad.title,
                ad.employer_name,
                ad.place_text(),
                crate::format::swedish_date(ad.application_deadline),
                self.link(&format!("/jobb/{}", ad.slug)),
            ));
        }
        body.push_str(&format!(
            "Hela listan, att öppna och fortsätta på:\n{}\n\n\
             Du fick det här mejlet för att någon, förhoppningsvis du, bad om det på Platsen. \
             Vi sparar varken adressen eller listan.\n\n/Platsen\n",
            self.link(&format!("/sparade?{}", query_of(slugs))),
        ));
        let subject = match open.len() {
            1 => "Ditt sparade jobb på Platsen".to_owned(),
            n => format!("Dina {n} sparade jobb på Platsen"),
        };
        self.mailer.send(&email, &subject, body).await.map_err(|e| {
            tracing::warn!(error = %e, "mailing a saved list failed");
            not_now()
        })?;
        tracing::info!(ads = open.len(), "saved list mailed");
        Ok(open.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_reads_from_repeated_and_comma_separated_values_without_repeats() {
        let got = parse_list(["inkopare-i-nacka,upphandlare-i-malmo", " inkopare-i-nacka ", ""]).unwrap();
        assert_eq!(got, vec!["inkopare-i-nacka".to_owned(), "upphandlare-i-malmo".to_owned()]);
        assert_eq!(query_of(&got), "annons=inkopare-i-nacka&annons=upphandlare-i-malmo");
        assert!(parse_list([]).unwrap().is_empty());
    }

    #[test]
    fn garbage_in_a_list_is_named() {
        for bad in ["<script>", "a", "Versaler", "x\0y", "../etc", &"a".repeat(10_000), "🙂🙂🙂"] {
            let e = parse_list([bad]).unwrap_err();
            assert_eq!((e.field.as_str(), e.code), (PARAM, "invalid_slug"), "{bad:?}");
        }
        let many: Vec<String> = (0..=MAX_SAVED).map(|i| format!("annons-{i}")).collect();
        let e = parse_list(many.iter().map(String::as_str)).unwrap_err();
        assert_eq!(e.code, "too_many");
    }
}
