//! The JSON shapes of the API: what clients send and what they get back.
//! Request types derive both `Object` (for the spec) and `Deserialize` (for
//! [`crate::http::body::JsonBody`]); response types derive `Object`, and
//! the hot ones (an ad, a list of ads) also `Serialize`, to be written by
//! [`crate::api::fast_json::FastJson`] without poem-openapi's `Value` tree
//! (`fast_json`'s tests hold both writings to the same bytes).

use chrono::{DateTime, NaiveDate, Utc};
use platsen_jobs::input::{ContactInput, EmployerInput, JobInput, JobPatch, Patch};
use platsen_jobs::model::{self, ApiKey, AuditEvent, Employer, JobAd};
use platsen_jobs::sanitize::DescriptionFormat;
use platsen_taxonomy::Role;
use poem_openapi::types::MaybeUndefined;

use super::codes::{self, Code};
use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};

/// Maps an API enum onto the domain enum of the same variants, both ways.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident => $domain:ty { $($(#[$vmeta:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Deserialize, Serialize)]
        pub enum $name {
            $($(#[$vmeta])* #[oai(rename = $code)] #[serde(rename = $code)] $variant),+
        }

        impl From<$name> for $domain {
            fn from(v: $name) -> Self {
                match v { $($name::$variant => <$domain>::$variant),+ }
            }
        }

        impl From<$domain> for $name {
            fn from(v: $domain) -> Self {
                match v { $(<$domain>::$variant => $name::$variant),+ }
            }
        }

        #[cfg(test)]
        impl $name {
            /// Every variant with its code on the wire (the test
            /// `wire_codes_are_the_domains_codes` ties them to the domain's).
            pub(crate) const CODES: &'static [($name, &'static str)] = &[$(($name::$variant, $code)),+];
        }
    };
}

wire_enum!(
    /// Whether an ad became (or stayed) visible with new content, or went away.
    ChangeCode => platsen_jobs::store::ChangeKind {
        Upsert = "upsert",
        Removed = "removed",
    }
);

wire_enum!(
    /// Why an ad went away.
    RemovalCode => platsen_jobs::store::RemovalReason {
        /// Filled or withdrawn by the employer.
        Closed = "closed",
        /// Its publication period ended.
        Expired = "expired",
        Archived = "archived",
        /// Changed and waiting for review; it comes back as an upsert if approved.
        InReview = "in_review",
        /// Back to draft.
        Unpublished = "unpublished",
        Deleted = "deleted",
    }
);

wire_enum!(
    /// A procurement role, shared with Lönestatistik.
    RoleCode => Role {
        Upphandlare = "upphandlare",
        Inkopare = "inkopare",
        Upphandlingschef = "upphandlingschef",
        Inkopschef = "inkopschef",
        /// Avtalscontroller or avtalsförvaltare.
        Avtalscontroller = "avtalscontroller",
        Kategoriledare = "kategoriledare",
        Upphandlingsjurist = "upphandlingsjurist",
        Inkopsassistent = "inkopsassistent",
        Annan = "annan",
    }
);

wire_enum!(
    /// Form of employment.
    EmploymentTypeCode => model::EmploymentType {
        Tillsvidare = "tillsvidare",
        Visstid = "visstid",
        Vikariat = "vikariat",
        Konsultuppdrag = "konsultuppdrag",
    }
);

wire_enum!(
    /// Where the work is done.
    RemoteCode => model::RemoteMode {
        OnSite = "on_site",
        Hybrid = "hybrid",
        Remote = "remote",
    }
);

wire_enum!(
    /// What a salary amount is counted per.
    SalaryPeriodCode => model::SalaryPeriod {
        Month = "month",
        Hour = "hour",
    }
);

wire_enum!(
    /// Where an ad is in its lifecycle.
    JobStatusCode => model::JobStatus {
        Draft = "draft",
        PendingReview = "pending_review",
        Published = "published",
        Closed = "closed",
        Expired = "expired",
        Archived = "archived",
    }
);

wire_enum!(
    /// How `description` is written. Either way it is sanitized.
    DescriptionFormatCode => DescriptionFormat {
        Markdown = "markdown",
        Html = "html",
    }
);

/// Order of the job list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Deserialize)]
pub enum JobSortCode {
    /// Most recently published first.
    #[oai(rename = "newest")]
    Newest,
    /// Closest application deadline first.
    #[oai(rename = "deadline")]
    Deadline,
}

// ----- requests ------------------------------------------------------------

/// A contact person.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    #[oai(validator(min_length = 2, max_length = 100))]
    pub name: String,
    #[oai(nullable, validator(max_length = 100))]
    pub title: Option<String>,
    #[oai(nullable)]
    pub email: Option<String>,
    #[oai(nullable)]
    pub phone: Option<String>,
}

impl From<ContactBody> for ContactInput {
    fn from(c: ContactBody) -> Self {
        ContactInput { name: Some(c.name), title: c.title, email: c.email, phone: c.phone }
    }
}

/// A new job ad. It is created as a draft; publish it with `POST /jobs/{id}/publish`.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct CreateJob {
    /// The headline, 5–150 characters, e.g. "Inköpschef till Nacka kommun".
    #[oai(validator(min_length = 5, max_length = 150))]
    pub title: String,
    /// The ad text in Markdown (default) or HTML; sanitized, at most 50 000
    /// characters, and at least 20 characters of text once rendered.
    #[oai(validator(min_length = 20, max_length = 50000))]
    pub description: String,
    #[oai(nullable)]
    pub description_format: Option<DescriptionFormatCode>,
    pub role: RoleCode,
    /// Where the job is. An ad in several municipalities sends
    /// `municipality_codes` instead (this one may then repeat its first).
    #[oai(nullable)]
    pub municipality_code: Option<Code<codes::Municipality>>,
    /// Every municipality the ad is for, the main one first: up to 10,
    /// distinct. The ad is found by a filter on any of them.
    #[oai(nullable, validator(min_items = 1, max_items = 10))]
    pub municipality_codes: Option<Vec<Code<codes::Municipality>>>,
    pub employment_type: EmploymentTypeCode,
    /// The last day to apply (a date in Swedish time).
    pub application_deadline: NaiveDate,
    /// Where to apply; `apply_url` or `apply_email` is required.
    #[oai(nullable)]
    pub apply_url: Option<String>,
    #[oai(nullable)]
    pub apply_email: Option<String>,
    /// Default `on_site`.
    #[oai(nullable)]
    pub remote: Option<RemoteCode>,
    /// Default 100 (full time).
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "100")))]
    pub extent_percent: Option<i64>,
    /// Whole SEK: 1 000–1 000 000 a month, or 50–10 000 an hour.
    #[oai(nullable, validator(minimum(value = "50"), maximum(value = "1000000")))]
    pub salary_min: Option<i64>,
    #[oai(nullable, validator(minimum(value = "50"), maximum(value = "1000000")))]
    pub salary_max: Option<i64>,
    /// Default `month` when an amount is given.
    #[oai(nullable)]
    pub salary_period: Option<SalaryPeriodCode>,
    /// Default 1.
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "1000")))]
    pub vacancies: Option<i64>,
    /// When the ad stops being listed; default and earliest: the end of the deadline day.
    #[oai(nullable)]
    pub expires_at: Option<DateTime<Utc>>,
    /// When the job starts, free text ("Enligt överenskommelse").
    #[oai(nullable, validator(max_length = 200))]
    pub start_text: Option<String>,
    #[oai(nullable, validator(max_items = 5))]
    pub contacts: Option<Vec<ContactBody>>,
    /// The address name; generated from the title when left out.
    #[oai(nullable)]
    pub slug: Option<String>,
    /// Operators only.
    #[oai(nullable)]
    pub featured: Option<bool>,
    /// Operators only: the employer the ad is for (an employer key always posts for its own).
    #[oai(nullable)]
    pub employer_id: Option<i64>,
}

impl From<CreateJob> for JobInput {
    fn from(b: CreateJob) -> Self {
        JobInput {
            title: Some(b.title),
            description: Some(b.description),
            description_format: b.description_format.map(Into::into),
            role: Some(b.role.into()),
            municipality_code: b.municipality_code.map(|c| c.0),
            municipality_codes: b.municipality_codes.map(|v| v.into_iter().map(|c| c.0).collect()),
            remote: b.remote.map(Into::into),
            employment_type: Some(b.employment_type.into()),
            extent_percent: b.extent_percent,
            salary_min: b.salary_min,
            salary_max: b.salary_max,
            salary_period: b.salary_period.map(Into::into),
            vacancies: b.vacancies,
            application_deadline: Some(b.application_deadline),
            expires_at: b.expires_at,
            start_text: b.start_text,
            apply_url: b.apply_url,
            apply_email: b.apply_email,
            contacts: b.contacts.map(|c| c.into_iter().map(Into::into).collect()),
            slug: b.slug,
            featured: b.featured,
            stored_description: None,
        }
    }
}

/// A partial update (JSON Merge Patch): leave a field out to keep it, send
/// `null` to clear an optional one.
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields, default)]
pub struct PatchJob {
    #[oai(validator(min_length = 5, max_length = 150))]
    pub title: MaybeUndefined<String>,
    #[oai(validator(min_length = 20, max_length = 50000))]
    pub description: MaybeUndefined<String>,
    #[oai(nullable)]
    pub description_format: MaybeUndefined<DescriptionFormatCode>,
    pub role: MaybeUndefined<RoleCode>,
    /// Sets the ad's one place, replacing all its places; the ad's current
    /// first place alone changes nothing (so a client that sends back the
    /// ad it read keeps its further places).
    pub municipality_code: MaybeUndefined<Code<codes::Municipality>>,
    /// Sets the ad's places, the main one first (up to 10, distinct).
    #[oai(validator(min_items = 1, max_items = 10))]
    pub municipality_codes: MaybeUndefined<Vec<Code<codes::Municipality>>>,
    pub employment_type: MaybeUndefined<EmploymentTypeCode>,
    pub application_deadline: MaybeUndefined<NaiveDate>,
    #[oai(nullable)]
    pub apply_url: MaybeUndefined<String>,
    #[oai(nullable)]
    pub apply_email: MaybeUndefined<String>,
    #[oai(nullable)]
    pub remote: MaybeUndefined<RemoteCode>,
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "100")))]
    pub extent_percent: MaybeUndefined<i64>,
    #[oai(nullable, validator(minimum(value = "50"), maximum(value = "1000000")))]
    pub salary_min: MaybeUndefined<i64>,
    #[oai(nullable, validator(minimum(value = "50"), maximum(value = "1000000")))]
    pub salary_max: MaybeUndefined<i64>,
    #[oai(nullable)]
    pub salary_period: MaybeUndefined<SalaryPeriodCode>,
    #[oai(nullable, validator(minimum(value = "1"), maximum(value = "1000")))]
    pub vacancies: MaybeUndefined<i64>,
    #[oai(nullable)]
    pub expires_at: MaybeUndefined<DateTime<Utc>>,
    #[oai(nullable, validator(max_length = 200))]
    pub start_text: MaybeUndefined<String>,
    #[oai(nullable, validator(max_items = 5))]
    pub contacts: MaybeUndefined<Vec<ContactBody>>,
    /// Operators only.
    #[oai(nullable)]
    pub featured: MaybeUndefined<bool>,
}

fn patch<T, U: From<T>>(v: MaybeUndefined<T>) -> Patch<U> {
    match v {
        MaybeUndefined::Undefined => Patch::Absent,
        MaybeUndefined::Null => Patch::Null,
        MaybeUndefined::Value(v) => Patch::Set(v.into()),
    }
}

impl From<PatchJob> for JobPatch {
    fn from(b: PatchJob) -> Self {
        JobPatch {
            title: patch(b.title),
            description: patch(b.description),
            description_format: patch(b.description_format),
            role: patch(b.role),
            municipality_code: patch(b.municipality_code.map_value(|c| c.0)),
            municipality_codes: patch(
                b.municipality_codes.map_value(|v| v.into_iter().map(|c| c.0).collect::<Vec<_>>()),
            ),
            remote: patch(b.remote),
            employment_type: patch(b.employment_type),
            extent_percent: patch(b.extent_percent),
            salary_min: patch(b.salary_min),
            salary_max: patch(b.salary_max),
            salary_period: patch(b.salary_period),
            vacancies: patch(b.vacancies),
            application_deadline: patch(b.application_deadline),
            expires_at: patch(b.expires_at),
            start_text: patch(b.start_text),
            apply_url: patch(b.apply_url),
            apply_email: patch(b.apply_email),
            contacts: match b.contacts {
                MaybeUndefined::Undefined => Patch::Absent,
                MaybeUndefined::Null => Patch::Null,
                MaybeUndefined::Value(v) => Patch::Set(v.into_iter().map(Into::into).collect()),
            },
            featured: patch(b.featured),
        }
    }
}

/// A new employer.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct CreateEmployer {
    #[oai(validator(min_length = 2, max_length = 200))]
    pub name: String,
    /// Swedish organisation number, `NNNNNN-NNNN`; the check digit is verified.
    #[oai(validator(pattern = r"^\s*[0-9-]{10,20}\s*$"))]
    pub organization_number: String,
    #[oai(nullable)]
    pub website: Option<String>,
    /// An https URL.
    #[oai(nullable)]
    pub logo_url: Option<String>,
    /// Markdown; sanitized.
    #[oai(nullable)]
    pub description: Option<String>,
    /// The sector, as in the salary survey. Narrows the market salary
    /// shown with the employer's ads.
    #[oai(nullable)]
    pub sector: Option<Code<codes::Sector>>,
    /// Generated from the name when left out.
    #[oai(nullable)]
    pub slug: Option<String>,
    /// Ads go to review before they are published. Default false.
    #[oai(nullable)]
    pub requires_review: Option<bool>,
    /// How it pays; default `free`.
    #[oai(nullable)]
    pub billing_mode: Option<Code<codes::BillingMode>>,
}

impl From<CreateEmployer> for EmployerInput {
    fn from(b: CreateEmployer) -> Self {
        EmployerInput {
            name: Some(b.name),
            organization_number: Some(b.organization_number),
            website: b.website,
            logo_url: b.logo_url,
            description: b.description,
            sector: b.sector.map(|c| c.0),
            slug: b.slug,
            requires_review: b.requires_review,
            billing_mode: b.billing_mode.map(|c| c.0),
            description_format: None,
        }
    }
}

/// A partial update of an employer (JSON Merge Patch). The organisation
/// number and slug do not change.
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields, default)]
pub struct PatchEmployer {
    #[oai(validator(min_length = 2, max_length = 200))]
    pub name: MaybeUndefined<String>,
    #[oai(nullable)]
    pub website: MaybeUndefined<String>,
    #[oai(nullable)]
    pub logo_url: MaybeUndefined<String>,
    #[oai(nullable)]
    pub description: MaybeUndefined<String>,
    /// null clears it.
    #[oai(nullable)]
    pub sector: MaybeUndefined<Code<codes::Sector>>,
    /// null: the default, false.
    #[oai(nullable)]
    pub requires_review: MaybeUndefined<bool>,
    /// null: the default, `free`.
    #[oai(nullable)]
    pub billing_mode: MaybeUndefined<Code<codes::BillingMode>>,
}

impl From<PatchEmployer> for platsen_jobs::input::EmployerPatch {
    fn from(b: PatchEmployer) -> Self {
        platsen_jobs::input::EmployerPatch {
            name: patch(b.name),
            website: patch(b.website),
            logo_url: patch(b.logo_url),
            description: patch(b.description),
            sector: patch(b.sector.map_value(|c| c.0)),
            requires_review: patch(b.requires_review),
            billing_mode: patch(b.billing_mode.map_value(|c| c.0)),
            description_format: None,
        }
    }
}

/// A new API key.
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// What the key is for, e.g. "Rekryteringssystem".
    #[oai(nullable)]
    pub label: Option<String>,
}

/// A web account for an employer's user.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// The address the user signs in with (one account per address).
    pub email: String,
    /// 12–128 characters; stored only as an argon2id hash. Leave it out to
    /// send the user an e-mailed invitation instead: a link, valid for 7
    /// days and usable once, where the user chooses a password.
    #[oai(write_only, validator(min_length = 12, max_length = 128))]
    #[oai(nullable)]
    pub password: Option<String>,
}

/// A web account, without its password.
#[derive(Debug, Clone, Object)]
pub struct UserView {
    pub id: i64,
    #[oai(nullable)]
    pub employer_id: Option<i64>,
    pub email: String,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
    #[oai(nullable)]
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

/// A web account just created.
#[derive(Debug, Clone, Object)]
pub struct CreatedUserView {
    #[oai(flatten)]
    pub user: UserView,
    /// Set when the account was created without a password: whether the
    /// invitation mail went out (if not, send a password reset later).
    #[oai(skip_serializing_if_is_none)]
    pub invitation_sent: Option<bool>,
}

impl From<platsen_jobs::store::User> for UserView {
    fn from(u: platsen_jobs::store::User) -> Self {
        UserView {
            id: u.id,
            employer_id: u.employer_id,
            email: u.email,
            is_admin: u.is_admin,
            created_at: u.created_at,
            last_sign_in_at: u.last_sign_in_at,
        }
    }
}

/// When a draft goes live by itself.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct ScheduleJob {
    /// An instant (RFC 3339, e.g. `2026-12-14T08:00:00+01:00`) within a
    /// year, on or before the ad's last application day. Null (or absent)
    /// cancels the schedule.
    #[oai(nullable)]
    pub publish_at: Option<DateTime<Utc>>,
}

/// Why an ad is rejected; shown to the employer.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct RejectJob {
    pub reason: String,
}

// ----- responses -----------------------------------------------------------

/// A code with its Swedish display name.
#[derive(Debug, Clone, Object, Serialize)]
pub struct Coded {
    pub code: String,
    pub name: String,
}

/// The employer behind an ad.
#[derive(Debug, Clone, Object, Serialize)]
pub struct EmployerRef {
    pub id: i64,
    pub slug: String,
    pub name: String,
}

/// Where the job is.
#[derive(Debug, Clone, Object, Serialize)]
pub struct Location {
    pub municipality_code: Code<codes::Municipality>,
    pub municipality: String,
    pub county_code: Code<codes::County>,
    pub county: String,
}

impl Location {
    pub fn of(m: &platsen_taxonomy::Municipality) -> Self {
        Location {
            municipality_code: Code::new(m.code),
            municipality: m.name.into(),
            county_code: Code::new(m.county.code),
            county: m.county.name.into(),
        }
    }
}

/// A salary range in SEK.
#[derive(Debug, Clone, Object, Serialize)]
pub struct SalaryView {
    #[oai(nullable)]
    pub min: Option<i64>,
    #[oai(nullable)]
    pub max: Option<i64>,
    pub period: SalaryPeriodCode,
    pub currency: String,
}

#[derive(Debug, Clone, Object, Serialize)]
pub struct ContactView {
    pub name: String,
    #[oai(nullable)]
    pub title: Option<String>,
    #[oai(nullable)]
    pub email: Option<String>,
    #[oai(nullable)]
    pub phone: Option<String>,
}

/// A job ad.
#[derive(Debug, Clone, Object, Serialize)]
pub struct JobView {
    pub id: i64,
    pub slug: String,
    pub status: JobStatusCode,
    pub title: String,
    /// Sanitized HTML.
    pub description: String,
    /// The description as it was written, to edit and send back with
    /// `description_format`; for its employer only (absent in public views).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description_source: Option<String>,
    /// How `description_source` is written; for its employer only.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description_format: Option<DescriptionFormatCode>,
    pub role: Coded,
    /// The role's occupation in SSYK 2012 (e.g. `3323` Inköpare och
    /// upphandlare); null for the role `annan`.
    #[oai(nullable)]
    pub occupation: Option<Coded>,
    pub employer: EmployerRef,
    /// The ad's main place (the first of `locations`).
    pub location: Location,
    /// Every place of the ad, the main one first.
    pub locations: Vec<Location>,
    pub remote: RemoteCode,
    pub employment_type: EmploymentTypeCode,
    pub extent_percent: i64,
    #[oai(nullable)]
    pub salary: Option<SalaryView>,
    /// What people in the ad's role earn (Lönestatistik), on the single-ad
    /// view; absent in lists and when no survey is imported.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub market_salary: Option<crate::api::salary::MarketSalaryView>,
    pub vacancies: i64,
    pub application_deadline: NaiveDate,
    #[serde(serialize_with = "super::fast_json::rfc3339")]
    pub expires_at: DateTime<Utc>,
    #[oai(nullable)]
    pub start_text: Option<String>,
    #[oai(nullable)]
    pub apply_url: Option<String>,
    #[oai(nullable)]
    pub apply_email: Option<String>,
    pub contacts: Vec<ContactView>,
    pub featured: bool,
    #[oai(nullable)]
    #[serde(serialize_with = "super::fast_json::rfc3339_opt")]
    pub published_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    #[serde(serialize_with = "super::fast_json::rfc3339_opt")]
    pub closed_at: Option<DateTime<Utc>>,
    /// When a scheduled draft goes live by itself (absent when none is set).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "super::fast_json::rfc3339_opt")]
    pub publish_at: Option<DateTime<Utc>>,
    /// Set when an administrator sent the ad back; shown to its employer only.
    #[oai(nullable)]
    pub rejection_reason: Option<String>,
    /// A fictional ad from the demo board.
    pub is_demo: bool,
    /// Increases with every change; send it back in `If-Match` to avoid overwriting others' edits.
    pub version: i64,
    #[serde(serialize_with = "super::fast_json::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "super::fast_json::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

impl JobView {
    /// The ad as its owner sees it.
    pub fn owner(ad: JobAd) -> Self {
        Self::shown(ad, true)
    }

    /// The ad, with the description's source only when asked for (deriving
    /// it may cost a pass over the HTML the public never needs).
    fn shown(ad: JobAd, with_source: bool) -> Self {
        let description_source = with_source.then(|| ad.description_source().into_owned());
        let locations = ad.places().map(Location::of).collect();
        JobView {
            id: ad.id,
            slug: ad.slug,
            status: ad.status.into(),
            title: ad.title,
            description: ad.description,
            description_source,
            description_format: Some(ad.description_format.into()),
            role: Coded { code: ad.role.code().into(), name: ad.role.name_sv().into() },
            occupation: ad.role.ssyk().map(|o| Coded { code: o.code.into(), name: o.name.into() }),
            employer: EmployerRef { id: ad.employer_id, slug: ad.employer_slug, name: ad.employer_name },
            location: Location::of(ad.municipality),
            locations,
            remote: ad.remote.into(),
            employment_type: ad.employment_type.into(),
            extent_percent: ad.extent_percent,
            salary: ad.salary.map(|s| SalaryView {
                min: s.min,
                max: s.max,
                period: s.period.into(),
                currency: "SEK".into(),
            }),
            market_salary: None,
            vacancies: ad.vacancies,
            application_deadline: ad.application_deadline,
            expires_at: ad.expires_at,
            start_text: ad.start_text,
            apply_url: ad.apply_url,
            apply_email: ad.apply_email,
            contacts: ad
                .contacts
                .into_iter()
                .map(|c| ContactView { name: c.name, title: c.title, email: c.email, phone: c.phone })
                .collect(),
            featured: ad.featured,
            published_at: ad.published_at,
            closed_at: ad.closed_at,
            publish_at: ad.publish_at,
            rejection_reason: ad.rejection_reason,
            is_demo: ad.is_demo,
            version: ad.version,
            created_at: ad.created_at,
            updated_at: ad.updated_at,
        }
    }

    /// The ad as the public sees it (no moderation notes).
    pub fn public(ad: JobAd) -> Self {
        let mut v = Self::shown(ad, false);
        v.rejection_reason = None;
        v.description_format = None;
        v
    }
}

/// One page of job ads.
#[derive(Debug, Clone, Object, Serialize)]
pub struct JobList {
    pub items: Vec<JobView>,
    /// How many ads match in all.
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
    pub total_pages: i64,
}

/// Job ads without paging.
#[derive(Debug, Clone, Object, Serialize)]
pub struct JobItems {
    pub items: Vec<JobView>,
}

impl JobList {
    pub fn from_page(p: model::Page<JobAd>, view: fn(JobAd) -> JobView) -> Self {
        let per_page = i64::from(p.per_page.max(1));
        JobList {
            total_pages: (p.total + per_page - 1) / per_page,
            items: p.items.into_iter().map(view).collect(),
            total: p.total,
            page: p.page,
            per_page: p.per_page,
        }
    }
}

/// An employer.
#[derive(Debug, Clone, Object)]
pub struct EmployerView {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub organization_number: String,
    #[oai(nullable)]
    pub website: Option<String>,
    /// Deprecated: a remote address given once, never fetched or shown.
    /// Upload the logo instead (`putAccountLogo`); see `logo`.
    #[oai(nullable, deprecated)]
    pub logo_url: Option<String>,
    /// The uploaded logo, as Platsen serves it.
    #[oai(nullable)]
    pub logo: Option<LogoView>,
    /// Sanitized HTML.
    #[oai(nullable)]
    pub description: Option<String>,
    /// The description as written (Markdown, or for employers stored
    /// before it was kept, the HTML).
    #[oai(nullable)]
    pub description_source: Option<String>,
    #[oai(nullable)]
    pub sector: Option<Code<codes::Sector>>,
    /// The sector in Swedish, e.g. "Kommun".
    #[oai(nullable)]
    pub sector_name: Option<String>,
    /// How many of its ads are open now.
    pub open_jobs: i64,
    pub requires_review: bool,
    pub is_demo: bool,
    /// Shown to the operator and the employer itself, left out of public answers.
    #[oai(skip_serializing_if_is_none)]
    pub billing_mode: Option<Code<codes::BillingMode>>,
    pub created_at: DateTime<Utc>,
}

impl EmployerView {
    /// As anyone may see it: without how it pays.
    pub fn public(e: Employer) -> Self {
        EmployerView { billing_mode: None, ..e.into() }
    }
}

impl From<Employer> for EmployerView {
    fn from(e: Employer) -> Self {
        let description_source = e.description_source().map(str::to_owned);
        EmployerView {
            id: e.id,
            slug: e.slug,
            name: e.name,
            organization_number: e.organization_number,
            website: e.website,
            logo: e.logo.as_ref().map(LogoView::from),
            description_source,
            logo_url: e.logo_url,
            description: e.description,
            sector: e.sector.map(|s| Code::new(s.code())),
            sector_name: e.sector.map(|s| s.name_sv().to_owned()),
            open_jobs: e.open_jobs,
            requires_review: e.requires_review,
            is_demo: e.is_demo,
            billing_mode: Some(Code::new(e.billing_mode.code())),
            created_at: e.created_at,
        }
    }
}

/// An employer's own profile (JSON Merge Patch): what its users may change.
#[derive(Debug, Clone, Default, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields, default)]
pub struct PatchProfile {
    /// Markdown, at most 10 000 characters; sanitized as an ad's is.
    #[oai(nullable)]
    pub description: MaybeUndefined<String>,
    /// An http(s) address.
    #[oai(nullable)]
    pub website: MaybeUndefined<String>,
    /// The sector, as in the salary survey; null clears it.
    #[oai(nullable)]
    pub sector: MaybeUndefined<Code<codes::Sector>>,
}

impl From<PatchProfile> for platsen_jobs::input::EmployerPatch {
    fn from(b: PatchProfile) -> Self {
        platsen_jobs::input::EmployerPatch {
            description: patch(b.description),
            website: patch(b.website),
            sector: patch(b.sector.map_value(|c| c.0)),
            ..Default::default()
        }
    }
}

/// An employer's logo: a PNG, served with a long cache lifetime at an
/// address that changes with the logo.
#[derive(Debug, Clone, Object)]
pub struct LogoView {
    /// The address, relative to the site's root (`/logotyp/….png`).
    pub path: String,
    pub width: i64,
    pub height: i64,
}

impl From<&platsen_jobs::model::Logo> for LogoView {
    fn from(l: &platsen_jobs::model::Logo) -> Self {
        LogoView { path: l.path(), width: l.width, height: l.height }
    }
}

/// An employer with its open ads.
#[derive(Debug, Clone, Object)]
pub struct EmployerDetail {
    #[oai(flatten)]
    pub employer: EmployerView,
    pub jobs: Vec<JobView>,
}

/// One page of employers.
#[derive(Debug, Clone, Object)]
pub struct EmployerList {
    pub items: Vec<EmployerView>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// An API key, without its secret.
#[derive(Debug, Clone, Object)]
pub struct KeyView {
    pub id: i64,
    pub employer_id: i64,
    /// The public first part of the key.
    pub prefix: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
    #[oai(nullable)]
    pub last_used_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for KeyView {
    fn from(k: ApiKey) -> Self {
        KeyView {
            id: k.id,
            employer_id: k.employer_id,
            prefix: k.prefix,
            label: k.label,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new API key. `key` is shown this once; only its hash is stored.
#[derive(Debug, Clone, Object)]
pub struct NewKeyView {
    #[oai(flatten)]
    pub info: KeyView,
    /// The secret key. Store it now: it cannot be shown again.
    pub key: String,
}

/// One entry of an ad's audit trail.
#[derive(Debug, Clone, Object)]
pub struct EventView {
    pub id: i64,
    pub job_id: i64,
    /// `admin`, `employer:<id>/key:<key id>`, `cli` or `system`.
    pub actor: String,
    /// `created`, `updated`, `publish`, `approve`, `reject`, `close`, `archive`, `reopen`, `expire` or `deleted`.
    pub action: String,
    /// What changed (fields with `from` and `to`), or a reason.
    pub detail: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl From<AuditEvent> for EventView {
    fn from(e: AuditEvent) -> Self {
        EventView {
            id: e.id,
            job_id: e.job_id,
            actor: e.actor,
            action: e.action,
            detail: e.detail,
            created_at: e.created_at,
        }
    }
}

/// An ad's counts on one day.
#[derive(Debug, Clone, Object)]
pub struct AdDayView {
    pub day: NaiveDate,
    /// Views of the ad's page.
    pub views: i64,
    /// Clicks on its apply link or address.
    pub apply_clicks: i64,
    /// Times it was on a page of search results.
    pub appearances: i64,
}

/// An ad's statistics over a range of days.
#[derive(Debug, Clone, Object)]
pub struct AdStatsView {
    pub job_id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The sums over the range.
    pub views: i64,
    pub apply_clicks: i64,
    pub appearances: i64,
    /// Every day of the range, in order.
    pub days: Vec<AdDayView>,
}

impl AdStatsView {
    pub fn new(job_id: i64, (from, to): (NaiveDate, NaiveDate), days: Vec<platsen_jobs::store::DayCounts>) -> Self {
        let days: Vec<AdDayView> = days
            .into_iter()
            .map(|d| AdDayView { day: d.day, views: d.views, apply_clicks: d.apply_clicks, appearances: d.appearances })
            .collect();
        AdStatsView {
            job_id,
            from,
            to,
            views: days.iter().map(|d| d.views).sum(),
            apply_clicks: days.iter().map(|d| d.apply_clicks).sum(),
            appearances: days.iter().map(|d| d.appearances).sum(),
            days,
        }
    }
}

/// Liveness and readiness.
#[derive(Debug, Clone, Object)]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
}

// ----- search ----------------------------------------------------------------

/// Order of search results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Deserialize)]
pub enum SearchSortCode {
    /// Best match first (newest first without query text).
    #[oai(rename = "relevance")]
    Relevance,
    #[oai(rename = "newest")]
    Newest,
    #[oai(rename = "deadline")]
    Deadline,
}

/// One search hit.
#[derive(Debug, Clone, Object)]
pub struct HitView {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// The title as HTML with the matched words in `<mark>`; all else escaped.
    pub title_highlighted: String,
    /// A cropped part of the description as HTML, matches in `<mark>`.
    pub snippet: String,
    pub employer: EmployerRef,
    pub role: Coded,
    /// The ad's main place (the first of `locations`).
    pub location: Location,
    /// Every place of the ad, the main one first.
    pub locations: Vec<Location>,
    pub remote: RemoteCode,
    pub employment_type: EmploymentTypeCode,
    pub extent_percent: i64,
    #[oai(nullable)]
    pub salary: Option<SalaryView>,
    pub application_deadline: NaiveDate,
    /// The deadline is at most three days away.
    pub closing_soon: bool,
    #[oai(nullable)]
    pub published_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub featured: bool,
}

impl HitView {
    pub fn from_hit(h: platsen_jobs::search::SearchHit, today: NaiveDate) -> Self {
        let locations = h.places().map(Location::of).collect();
        HitView {
            closing_soon: platsen_app::search::closing_soon(h.application_deadline, today),
            id: h.id,
            slug: h.slug,
            title: h.title,
            title_highlighted: h.title_highlighted,
            snippet: h.snippet,
            employer: EmployerRef { id: h.employer_id, slug: h.employer_slug, name: h.employer_name },
            role: Coded { code: h.role.code().into(), name: h.role.name_sv().into() },
            location: Location::of(h.municipality),
            locations,
            remote: h.remote.into(),
            employment_type: h.employment_type.into(),
            extent_percent: h.extent_percent,
            salary: h.salary.map(|s| SalaryView {
                min: s.min,
                max: s.max,
                period: s.period.into(),
                currency: "SEK".into(),
            }),
            application_deadline: h.application_deadline,
            published_at: h.published_at,
            expires_at: h.expires_at,
            featured: h.featured,
        }
    }
}

/// How many hits have one value.
#[derive(Debug, Clone, Object)]
pub struct FacetView {
    /// The code, or the employer's slug: what to filter by.
    pub value: String,
    pub name: String,
    pub count: i64,
}

/// Counts per value for every filter dimension.
#[derive(Debug, Clone, Object)]
pub struct FacetsView {
    pub role: Vec<FacetView>,
    pub county: Vec<FacetView>,
    pub municipality: Vec<FacetView>,
    pub employment_type: Vec<FacetView>,
    pub remote: Vec<FacetView>,
    pub employer: Vec<FacetView>,
}

impl From<platsen_jobs::search::Facets> for FacetsView {
    fn from(f: platsen_jobs::search::Facets) -> Self {
        let v = |c: Vec<platsen_jobs::search::FacetCount>| {
            c.into_iter().map(|c| FacetView { value: c.value, name: c.name, count: c.count }).collect()
        };
        FacetsView {
            role: v(f.role),
            county: v(f.county),
            municipality: v(f.municipality),
            employment_type: v(f.employment_type),
            remote: v(f.remote),
            employer: v(f.employer),
        }
    }
}

/// Search results.
#[derive(Debug, Clone, Object)]
pub struct SearchView {
    pub hits: Vec<HitView>,
    /// How many ads match in all.
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
    pub total_pages: i64,
    pub facets: FacetsView,
    pub processing_time_ms: u64,
    /// `meilisearch` or `database`.
    pub engine: String,
}

/// A typeahead suggestion.
#[derive(Debug, Clone, Object)]
pub struct SuggestionView {
    /// `title`, `role`, `employer`, `county` or `municipality`.
    pub kind: String,
    pub text: String,
    /// What to search or filter by: the title, a code, or a slug.
    pub value: String,
}

/// The state of the search sync.
#[derive(Debug, Clone, Object)]
pub struct SearchStatusView {
    /// `meilisearch` or `database`: which engine answers searches now.
    pub engine: String,
    pub meilisearch_configured: bool,
    /// Changes waiting to reach the index.
    pub outbox_pending: i64,
    /// Changes Meilisearch rejected for good; retry them with `POST /admin/search/retry`.
    pub outbox_dead: i64,
    /// How long the oldest waiting change has waited.
    #[oai(nullable)]
    pub oldest_pending_seconds: Option<i64>,
    #[oai(nullable)]
    pub last_success_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub last_error: Option<String>,
}

impl From<platsen_app::search::SearchStatus> for SearchStatusView {
    fn from(s: platsen_app::search::SearchStatus) -> Self {
        SearchStatusView {
            engine: s.engine.into(),
            meilisearch_configured: s.meilisearch_configured,
            outbox_pending: s.outbox_pending,
            outbox_dead: s.outbox_dead,
            oldest_pending_seconds: s.oldest_pending_seconds,
            last_success_at: s.last_success_at,
            last_error: s.last_error,
        }
    }
}

/// How many dead letters were queued again.
#[derive(Debug, Clone, Object)]
pub struct RetriedView {
    pub retried: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The codes on the wire are the domain's own: a code renamed on one
    /// side only fails here.
    #[test]
    fn wire_codes_are_the_domains_codes() {
        macro_rules! same {
            ($($wire:ty => $domain:ty),+ $(,)?) => {$(
                for (v, code) in <$wire>::CODES {
                    assert_eq!(<$domain>::from(*v).code(), *code, "{}", stringify!($wire));
                    let json = poem_openapi::types::ToJSON::to_json(v);
                    assert_eq!(json, Some(serde_json::Value::from(*code)), "{}", stringify!($wire));
                }
            )+};
        }
        same!(
            ChangeCode => platsen_jobs::store::ChangeKind,
            RemovalCode => platsen_jobs::store::RemovalReason,
            RoleCode => Role,
            EmploymentTypeCode => model::EmploymentType,
            RemoteCode => model::RemoteMode,
            SalaryPeriodCode => model::SalaryPeriod,
            JobStatusCode => model::JobStatus,
            DescriptionFormatCode => DescriptionFormat,
        );
    }
}
