//! The jobs domain as stored and returned: employers, job ads, their
//! lifecycle and audit events.

use chrono::{DateTime, NaiveDate, Utc};
use platsen_taxonomy::survey::Sector;
use platsen_taxonomy::{County, Municipality, Role};
use serde::{Deserialize, Serialize};

macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal => $sv:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code used in the API and the database.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The Swedish display name.
            pub fn name_sv(self) -> &'static str {
                match self { $($name::$variant => $sv),+ }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

code_enum!(
    /// How an employer pays for its ads.
    BillingMode {
        /// Buys credits in advance; each publication uses one.
        Prepaid = "prepaid" => "Förbetald",
        /// Publishes freely and is invoiced monthly for each ad published.
        Agreement = "agreement" => "Avtalskund",
        /// Pays nothing: the operator's own and the demo employers.
        Free = "free" => "Fri",
    }
);

code_enum!(
    /// Form of employment (anställningsform).
    EmploymentType {
        Tillsvidare = "tillsvidare" => "Tillsvidareanställning",
        Visstid = "visstid" => "Visstidsanställning",
        Vikariat = "vikariat" => "Vikariat",
        Konsultuppdrag = "konsultuppdrag" => "Konsultuppdrag",
    }
);

code_enum!(
    /// Where the work is done.
    RemoteMode {
        OnSite = "on_site" => "På plats",
        Hybrid = "hybrid" => "Hybrid",
        Remote = "remote" => "Distans",
    }
);

code_enum!(
    /// What a salary amount is counted per.
    SalaryPeriod {
        Month = "month" => "per månad",
        Hour = "hour" => "per timme",
    }
);

code_enum!(
    /// Where an ad is in its lifecycle.
    ///
    /// `draft → published → closed | expired | archived`; with review:
    /// `draft → pending_review → published` (or back to draft, rejected with a
    /// reason). A published ad whose expiry has passed *is* expired, whether or
    /// not the sweeper has written that down yet.
    JobStatus {
        Draft = "draft" => "Utkast",
        PendingReview = "pending_review" => "Väntar på granskning",
        Published = "published" => "Publicerad",
        /// Filled or withdrawn by the employer.
        Closed = "closed" => "Tillsatt/stängd",
        Expired = "expired" => "Utgången",
        Archived = "archived" => "Arkiverad",
    }
);

/// Who did something: recorded on every change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Admin,
    /// An employer's API key.
    Employer {
        employer_id: i64,
        key_id: i64,
    },
    /// An employer's user, signed in on the web.
    User {
        employer_id: i64,
        user_id: i64,
    },
    /// The command line on the server.
    Cli,
    /// Platsen itself (the expiry sweeper, demo seeding).
    System,
    /// Platsen publishing an employer's scheduled draft, on the employer's
    /// behalf: with the employer's rights (review, billing), no more.
    Scheduled {
        employer_id: i64,
    },
}

impl Actor {
    pub fn label(self) -> String {
        match self {
            Actor::Admin => "admin".into(),
            Actor::Employer { employer_id, key_id } => format!("employer:{employer_id}/key:{key_id}"),
            Actor::User { employer_id, user_id } => format!("employer:{employer_id}/user:{user_id}"),
            Actor::Cli => "cli".into(),
            Actor::System => "system".into(),
            Actor::Scheduled { employer_id } => format!("employer:{employer_id}/schedule"),
        }
    }

    /// The employer an employer's key or user acts for.
    pub fn employer_id(self) -> Option<i64> {
        match self {
            Actor::Employer { employer_id, .. }
            | Actor::User { employer_id, .. }
            | Actor::Scheduled { employer_id } => Some(employer_id),
            _ => None,
        }
    }

    /// Admin-like actors act for every employer.
    pub fn is_operator(self) -> bool {
        matches!(self, Actor::Admin | Actor::Cli | Actor::System)
    }
}

/// An employer as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Employer {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub organization_number: String,
    pub website: Option<String>,
    /// A remote address the operator once gave (kept, never fetched or
    /// shown: pages show only an uploaded [`Employer::logo`]).
    pub logo_url: Option<String>,
    /// Sanitized HTML.
    pub description: Option<String>,
    /// The description as written, and how (see [`Employer::description_source`]).
    pub description_text: Option<String>,
    pub description_format: crate::sanitize::DescriptionFormat,
    /// The uploaded logo, if any.
    pub logo: Option<Logo>,
    /// The sector, in the salary survey's vocabulary, if stated.
    pub sector: Option<Sector>,
    pub requires_review: bool,
    pub is_demo: bool,
    pub billing_mode: BillingMode,
    pub open_jobs: i64,
    /// Origins (`https://host[:port]`) allowed to embed its ads; empty: any.
    pub embed_origins: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Employer {
    /// The description as its users wrote it (employers stored before
    /// sources were kept: the HTML).
    pub fn description_source(&self) -> Option<&str> {
        self.description_text.as_deref().or(self.description.as_deref())
    }
}

/// An employer's uploaded logo: a PNG at most [`Logo::MAX_WIDTH`] ×
/// [`Logo::MAX_HEIGHT`], served at [`Logo::path`] for ever (a new logo has a
/// new digest, so a new address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Logo {
    /// The first 16 hex digits of the PNG's SHA-256.
    pub digest: String,
    pub width: i64,
    pub height: i64,
}

impl Logo {
    pub const MAX_WIDTH: u32 = 400;
    pub const MAX_HEIGHT: u32 = 200;

    /// Where the logo is served, relative to the site's root.
    pub fn path(&self) -> String {
        format!("/logotyp/{}.png", self.digest)
    }
}

/// A contact person named in an ad.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    pub title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// An optional salary range in whole SEK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Salary {
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub period: SalaryPeriod,
}

/// A job ad as stored, with its employer's name and place names resolved.
#[derive(Debug, Clone)]
pub struct JobAd {
    pub id: i64,
    pub slug: String,
    pub employer_id: i64,
    pub employer_slug: String,
    pub employer_name: String,
    /// The employer's sector, if it has stated one.
    pub employer_sector: Option<Sector>,
    /// Whether the employer's ads are reviewed before they are published.
    pub employer_requires_review: bool,
    /// The status as of the moment the ad was read (a published ad past its
    /// expiry reads as expired).
    pub status: JobStatus,
    pub title: String,
    /// Sanitized HTML, rendered from the source: what everyone is shown.
    pub description: String,
    /// The description as its employer wrote it, when the rendering does
    /// not give it back (see [`crate::sanitize::source_to_store`]).
    pub stored_source: Option<String>,
    pub description_format: crate::sanitize::DescriptionFormat,
    pub role: Role,
    /// The ad's first place: where one place fits (the salary comparison,
    /// similar jobs).
    pub municipality: &'static Municipality,
    /// The ad's further places, in the employer's order (none for most ads).
    pub more_places: Vec<&'static Municipality>,
    pub remote: RemoteMode,
    pub employment_type: EmploymentType,
    pub extent_percent: i64,
    pub salary: Option<Salary>,
    pub vacancies: i64,
    pub application_deadline: NaiveDate,
    pub start_text: Option<String>,
    pub apply_url: Option<String>,
    pub apply_email: Option<String>,
    pub contacts: Vec<Contact>,
    pub featured: bool,
    pub published_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    /// The end of the period a credit (or an agreement) paid for; reopening
    /// before it costs nothing.
    pub paid_until: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub rejection_reason: Option<String>,
    pub is_demo: bool,
    /// Incremented on every change; the basis of ETags and optimistic locking.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When a scheduled draft goes live by itself.
    pub publish_at: Option<DateTime<Utc>>,
}

impl JobAd {
    /// The description as its employer wrote it, given back for editing.
    pub fn description_source(&self) -> std::borrow::Cow<'_, str> {
        crate::sanitize::source_of(self.stored_source.as_deref(), self.description_format, &self.description)
    }

    /// Whether anyone may see the ad: published and not past its expiry.
    pub fn is_public(&self) -> bool {
        self.status == JobStatus::Published
    }

    /// Every place of the ad, the first first.
    pub fn places(&self) -> impl Iterator<Item = &'static Municipality> + '_ {
        std::iter::once(self.municipality).chain(self.more_places.iter().copied())
    }

    /// Where the job is, in Swedish, short enough for a list (see [`place_text`]).
    pub fn place_text(&self) -> String {
        place_text(self.municipality, &self.more_places)
    }

    /// Every place of the ad by name (see [`place_text_full`]).
    pub fn place_text_full(&self) -> String {
        place_text_full(self.municipality, &self.more_places)
    }
}

/// The most places one ad may name.
pub const MAX_PLACES: usize = 10;

/// Where a job is, in Swedish, for lists and headings: "Nacka, Stockholms
/// län"; "Nacka, Värmdö och Tyresö, Stockholms län" when every place is in
/// one county; "Nacka, Uppsala och Västerås" otherwise; and "Nacka, Värmdö
/// och 4 orter till" beyond three places.
pub fn place_text(first: &Municipality, more: &[&'static Municipality]) -> String {
    place_words(first, more, "och", Some("orter till"))
}

/// Every place by name, for the ad's own page and its review: "Göteborg,
/// Härryda, Kungsbacka och Mölndal" (with the county when they share one).
pub fn place_text_full(first: &Municipality, more: &[&'static Municipality]) -> String {
    place_words(first, more, "och", None)
}

/// [`place_text`] in English, for the embed's `lang=en` ("Nacka, Värmdö and
/// 4 more places").
pub fn place_text_en(first: &Municipality, more: &[&'static Municipality]) -> String {
    place_words(first, more, "and", Some("more places"))
}

/// The places' names; beyond three, the first two and how many more when
/// `more_places` says how to put it.
fn place_words(first: &Municipality, more: &[&'static Municipality], and: &str, more_places: Option<&str>) -> String {
    if more.is_empty() {
        return format!("{}, {}", first.name, first.county.name);
    }
    let names: Vec<&str> = std::iter::once(first.name).chain(more.iter().map(|m| m.name)).collect();
    if let Some(more_places) = more_places
        && names.len() > 3
    {
        return format!("{}, {} {and} {} {more_places}", names[0], names[1], names.len() - 2);
    }
    let (last, rest) = names.split_last().expect("at least two names");
    let listed = format!("{} {and} {last}", rest.join(", "));
    if more.iter().all(|m| m.county.code == first.county.code) {
        format!("{listed}, {}", first.county.name)
    } else {
        listed
    }
}

/// The distinct counties of a list of places, in order of first appearance.
pub fn counties_of(places: impl IntoIterator<Item = &'static Municipality>) -> Vec<&'static County> {
    let mut out: Vec<&'static County> = Vec::new();
    for m in places {
        if !out.iter().any(|c| c.code == m.county.code) {
            out.push(&m.county);
        }
    }
    out
}

/// One entry of an ad's audit trail.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    pub id: i64,
    pub job_id: i64,
    pub actor: String,
    pub action: String,
    /// What changed: field names with old and new values, or a reason.
    pub detail: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// An employer API key as listed (never with its secret).
#[derive(Debug, Clone, Serialize)]
pub struct ApiKey {
    pub id: i64,
    pub employer_id: i64,
    /// The public first part of the key, e.g. `plk_3f9a1c2b`.
    pub prefix: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key as created: the only time its secret is available.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub key: ApiKey,
    pub secret: String,
}

/// One page of results with the total count.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(code: &str) -> &'static Municipality {
        platsen_taxonomy::municipality(code).expect("known code")
    }

    #[test]
    fn places_are_named_as_a_swedish_reader_expects() {
        assert_eq!(place_text(m("0182"), &[]), "Nacka, Stockholms län");
        assert_eq!(place_text(m("0182"), &[m("0120")]), "Nacka och Värmdö, Stockholms län");
        assert_eq!(place_text(m("0182"), &[m("0120"), m("0138")]), "Nacka, Värmdö och Tyresö, Stockholms län");
        // Places in more than one county: no county named.
        assert_eq!(place_text(m("1480"), &[m("1384")]), "Göteborg och Kungsbacka");
        assert_eq!(
            place_text(m("0182"), &[m("0120"), m("0138"), m("0180"), m("1480")]),
            "Nacka, Värmdö och 3 orter till"
        );
        assert_eq!(place_text_en(m("0182"), &[m("0120"), m("0138"), m("0180")]), "Nacka, Värmdö and 2 more places");
        // In full, on the ad's own page.
        assert_eq!(
            place_text_full(m("0182"), &[m("0120"), m("0138"), m("0180")]),
            "Nacka, Värmdö, Tyresö och Stockholm, Stockholms län"
        );
        assert_eq!(place_text_full(m("0182"), &[m("0120")]), place_text(m("0182"), &[m("0120")]));
    }

    #[test]
    fn counties_are_listed_once_in_order_of_first_place() {
        let codes: Vec<&str> =
            counties_of([m("1480"), m("1384"), m("1401"), m("1381")]).iter().map(|c| c.code).collect();
        assert_eq!(codes, ["14", "13"]);
    }
}
