//! Input as it arrives (already shaped, not yet trusted) and its validation
//! into values the store accepts. Every rule lives here, so the API, the web
//! forms and the command line give the same answer for the same input.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use platsen_taxonomy::survey::Sector;
use platsen_taxonomy::{Municipality, Role};

use crate::error::{Error, Errors, FieldError, Result};
use crate::model::{BillingMode, Contact, EmploymentType, JobAd, MAX_PLACES, RemoteMode, Salary, SalaryPeriod};
use crate::sanitize::{self, DescriptionFormat};
use crate::validate::{self, OrganisationNumber, end_of_swedish_day};

/// A field in a partial update: left alone, cleared, or set.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Patch<T> {
    #[default]
    Absent,
    Null,
    Set(T),
}

impl<T> Patch<T> {
    fn apply(self, current: &mut Option<T>) {
        match self {
            Patch::Absent => {}
            Patch::Null => *current = None,
            Patch::Set(v) => *current = Some(v),
        }
    }
}

/// A contact person as entered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactInput {
    pub name: Option<String>,
    pub title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A job ad as entered, every field optional so that all problems can be
/// reported at once.
#[derive(Debug, Clone, Default)]
pub struct JobInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub description_format: Option<DescriptionFormat>,
    pub role: Option<Role>,
    /// The ad's one place; with several, the first of `municipality_codes`
    /// (or left out).
    pub municipality_code: Option<String>,
    /// Every place of the ad, the first first (at most
    /// [`crate::model::MAX_PLACES`]).
    pub municipality_codes: Option<Vec<String>>,
    pub remote: Option<RemoteMode>,
    pub employment_type: Option<EmploymentType>,
    pub extent_percent: Option<i64>,
    pub salary_min: Option<i64>,
    pub salary_max: Option<i64>,
    pub salary_period: Option<SalaryPeriod>,
    pub vacancies: Option<i64>,
    pub application_deadline: Option<NaiveDate>,
    pub expires_at: Option<DateTime<Utc>>,
    pub start_text: Option<String>,
    pub apply_url: Option<String>,
    pub apply_email: Option<String>,
    pub contacts: Option<Vec<ContactInput>>,
    pub slug: Option<String>,
    pub featured: Option<bool>,
    /// The ad's description as stored, set when an update leaves the
    /// description alone: it is kept as it is instead of being checked and
    /// rendered again (`description` and `description_format` are then
    /// ignored).
    pub stored_description: Option<StoredDescription>,
}

/// A description as stored: its source as written and the HTML rendered from it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDescription {
    pub html: String,
    pub source: String,
    pub format: DescriptionFormat,
}

/// A partial update of a job ad (JSON Merge Patch semantics: an absent field
/// is left alone, `null` clears it).
#[derive(Debug, Clone, Default)]
pub struct JobPatch {
    pub title: Patch<String>,
    pub description: Patch<String>,
    pub description_format: Patch<DescriptionFormat>,
    pub role: Patch<Role>,
    /// Sets the ad's places to this one (the ad's first place alone changes
    /// nothing, see [`JobPatch::apply_to`]).
    pub municipality_code: Patch<String>,
    /// Sets the ad's places to these.
    pub municipality_codes: Patch<Vec<String>>,
    pub remote: Patch<RemoteMode>,
    pub employment_type: Patch<EmploymentType>,
    pub extent_percent: Patch<i64>,
    pub salary_min: Patch<i64>,
    pub salary_max: Patch<i64>,
    pub salary_period: Patch<SalaryPeriod>,
    pub vacancies: Patch<i64>,
    pub application_deadline: Patch<NaiveDate>,
    pub expires_at: Patch<DateTime<Utc>>,
    pub start_text: Patch<String>,
    pub apply_url: Patch<String>,
    pub apply_email: Patch<String>,
    pub contacts: Patch<Vec<ContactInput>>,
    pub featured: Patch<bool>,
}

impl JobPatch {
    pub fn is_empty(&self) -> bool {
        self.title == Patch::Absent
            && self.description == Patch::Absent
            && self.description_format == Patch::Absent
            && self.role == Patch::Absent
            && self.municipality_code == Patch::Absent
            && self.municipality_codes == Patch::Absent
            && self.remote == Patch::Absent
            && self.employment_type == Patch::Absent
            && self.extent_percent == Patch::Absent
            && self.salary_min == Patch::Absent
            && self.salary_max == Patch::Absent
            && self.salary_period == Patch::Absent
            && self.vacancies == Patch::Absent
            && self.application_deadline == Patch::Absent
            && self.expires_at == Patch::Absent
            && self.start_text == Patch::Absent
            && self.apply_url == Patch::Absent
            && self.apply_email == Patch::Absent
            && self.contacts == Patch::Absent
            && self.featured == Patch::Absent
    }

    /// The ad as it would be after this patch, as input to validate again.
    pub fn apply_to(self, ad: &JobAd) -> JobInput {
        let mut input = JobInput {
            title: Some(ad.title.clone()),
            description: Some(ad.description_source().into_owned()),
            description_format: Some(ad.description_format),
            role: Some(ad.role),
            municipality_code: None,
            municipality_codes: Some(ad.places().map(|m| m.code.to_owned()).collect()),
            remote: Some(ad.remote),
            employment_type: Some(ad.employment_type),
            extent_percent: Some(ad.extent_percent),
            salary_min: ad.salary.and_then(|s| s.min),
            salary_max: ad.salary.and_then(|s| s.max),
            salary_period: ad.salary.map(|s| s.period),
            vacancies: Some(ad.vacancies),
            application_deadline: Some(ad.application_deadline),
            expires_at: Some(ad.expires_at),
            start_text: ad.start_text.clone(),
            apply_url: ad.apply_url.clone(),
            apply_email: ad.apply_email.clone(),
            contacts: Some(
                ad.contacts
                    .iter()
                    .map(|c| ContactInput {
                        name: Some(c.name.clone()),
                        title: c.title.clone(),
                        email: c.email.clone(),
                        phone: c.phone.clone(),
                    })
                    .collect(),
            ),
            slug: Some(ad.slug.clone()),
            featured: Some(ad.featured),
            stored_description: Some(StoredDescription {
                html: ad.description.clone(),
                source: ad.description_source().into_owned(),
                format: ad.description_format,
            }),
        };
        // A new description comes in the format the client names (Markdown by
        // default), whatever the stored one's was.
        if self.description != Patch::Absent {
            input.description_format = Some(DescriptionFormat::Markdown);
            input.stored_description = None;
        }
        // A new deadline moves the default expiry along with it (re-sending
        // the same deadline changes nothing).
        if matches!(&self.application_deadline, Patch::Set(d) if *d != ad.application_deadline)
            && self.expires_at == Patch::Absent
        {
            input.expires_at = None;
        }
        self.title.apply(&mut input.title);
        self.description.apply(&mut input.description);
        self.description_format.apply(&mut input.description_format);
        self.role.apply(&mut input.role);
        // Either form of the places replaces all of them, except that a lone
        // `municipality_code` naming the ad's first place changes nothing: a
        // client that sends back the whole ad it read, not knowing of
        // `municipality_codes`, keeps the further places.
        let first_again = self.municipality_codes == Patch::Absent
            && matches!(&self.municipality_code, Patch::Set(c) if c.trim() == ad.municipality.code);
        if !first_again && (self.municipality_code != Patch::Absent || self.municipality_codes != Patch::Absent) {
            input.municipality_codes = None;
            self.municipality_code.apply(&mut input.municipality_code);
            self.municipality_codes.apply(&mut input.municipality_codes);
        }
        self.remote.apply(&mut input.remote);
        self.employment_type.apply(&mut input.employment_type);
        self.extent_percent.apply(&mut input.extent_percent);
        self.salary_min.apply(&mut input.salary_min);
        self.salary_max.apply(&mut input.salary_max);
        self.salary_period.apply(&mut input.salary_period);
        self.vacancies.apply(&mut input.vacancies);
        self.application_deadline.apply(&mut input.application_deadline);
        self.expires_at.apply(&mut input.expires_at);
        self.start_text.apply(&mut input.start_text);
        self.apply_url.apply(&mut input.apply_url);
        self.apply_email.apply(&mut input.apply_email);
        self.contacts.apply(&mut input.contacts);
        self.featured.apply(&mut input.featured);
        input
    }
}

/// A job ad that passed every rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidJob {
    pub title: String,
    /// The sanitized HTML every reader sees.
    pub description: String,
    /// What the employer wrote, and in which format.
    pub description_source: String,
    pub description_format: DescriptionFormat,
    pub role: Role,
    pub municipality: &'static Municipality,
    /// The further places, distinct and not the first.
    pub more_places: Vec<&'static Municipality>,
    pub remote: RemoteMode,
    pub employment_type: EmploymentType,
    pub extent_percent: i64,
    pub salary: Option<Salary>,
    pub vacancies: i64,
    pub application_deadline: NaiveDate,
    pub expires_at: DateTime<Utc>,
    pub start_text: Option<String>,
    pub apply_url: Option<String>,
    pub apply_email: Option<String>,
    pub contacts: Vec<Contact>,
    pub slug: Option<String>,
    pub featured: bool,
}

/// Limits that keep ads sane; changing them is a product decision.
pub mod limits {
    pub const TITLE: (usize, usize) = (5, 150);
    pub const DESCRIPTION_MAX: usize = 50_000;
    /// A product's price per unit excluding VAT, in öre (up to 1 000 000 kr).
    pub const PRODUCT_PRICE_ORE: (i64, i64) = (0, 100_000_000);
    /// Ad credits one unit of a product gives.
    pub const PRODUCT_AD_CREDITS: (i64, i64) = (1, 100);
    /// How long an ad bought with a credit may run.
    pub const PRODUCT_AD_DAYS: (i64, i64) = (1, 60);
    /// How long unused credits stay valid.
    pub const PRODUCT_CREDIT_VALID_DAYS: (i64, i64) = (1, 1095);
    /// Units of a product in one order.
    pub const ORDER_QUANTITY: (i64, i64) = (1, 100);
    pub const DESCRIPTION_MIN_VISIBLE: usize = 20;
    pub const MONTHLY_SALARY: (i64, i64) = (1_000, 1_000_000);
    pub const HOURLY_SALARY: (i64, i64) = (50, 10_000);
    pub const VACANCIES: (i64, i64) = (1, 1_000);
    pub const CONTACTS_MAX: usize = 5;
    /// How far ahead a deadline or an expiry may lie.
    pub const MAX_DAYS_AHEAD: i64 = 366;
}

/// When a deadline is checked against today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineCheck {
    /// On create, publish and reopen, and when the deadline is changed.
    MustNotBePast,
    /// On other edits of an ad whose deadline was already accepted.
    Unchanged,
}

impl JobInput {
    /// Checks every rule and reports every broken one.
    pub fn validate(self, today: NaiveDate, deadline_check: DeadlineCheck) -> Result<ValidJob> {
        let mut errs = Errors::default();

        let title = match self.title.as_deref() {
            Some(t) => errs.take(validate::line("title", t, limits::TITLE.0, limits::TITLE.1)),
            None => missing(&mut errs, "title"),
        };

        let description = match (self.stored_description, self.description.as_deref()) {
            (Some(stored), _) => Some(stored),
            (None, None) => missing(&mut errs, "description"),
            (None, Some(raw)) => match validate::multiline("description", raw, 1, limits::DESCRIPTION_MAX) {
                Err(e) => {
                    errs.take::<()>(Err(e));
                    None
                }
                Ok(source) => {
                    let format = self.description_format.unwrap_or_default();
                    let html = sanitize::description_html(&source, format);
                    if sanitize::visible_text_len(&html) < limits::DESCRIPTION_MIN_VISIBLE {
                        errs.push(
                            "description",
                            "too_short",
                            format!("Beskrivningen behöver minst {} tecken text.", limits::DESCRIPTION_MIN_VISIBLE),
                        );
                        None
                    } else {
                        Some(StoredDescription { html, source, format })
                    }
                }
            },
        };

        let role = self.role.or_else(|| missing(&mut errs, "role"));

        let places = places(&mut errs, self.municipality_code.as_deref(), self.municipality_codes.as_deref());

        let employment_type = self.employment_type.or_else(|| missing(&mut errs, "employment_type"));

        let extent_percent = self.extent_percent.unwrap_or(100);
        if !(1..=100).contains(&extent_percent) {
            errs.push("extent_percent", "out_of_range", "Omfattningen anges i procent, 1–100.");
        }

        let salary = salary(&mut errs, self.salary_min, self.salary_max, self.salary_period);

        let vacancies = self.vacancies.unwrap_or(1);
        if !(limits::VACANCIES.0..=limits::VACANCIES.1).contains(&vacancies) {
            errs.push(
                "vacancies",
                "out_of_range",
                format!("Antal tjänster: {}–{}.", limits::VACANCIES.0, limits::VACANCIES.1),
            );
        }

        let last_allowed = today + Duration::days(limits::MAX_DAYS_AHEAD);
        let application_deadline = match self.application_deadline {
            None => missing(&mut errs, "application_deadline"),
            Some(d) if deadline_check == DeadlineCheck::MustNotBePast && d < today => {
                errs.push("application_deadline", "in_past", "Sista ansökningsdag har redan passerat.");
                None
            }
            Some(d) if d > last_allowed => {
                errs.push("application_deadline", "too_far_ahead", "Sista ansökningsdag får ligga högst ett år fram.");
                None
            }
            Some(d) => Some(d),
        };

        let expires_at = application_deadline.and_then(|deadline| {
            let earliest = end_of_swedish_day(deadline);
            match self.expires_at {
                None => Some(earliest),
                Some(e) if e < earliest => {
                    errs.push(
                        "expires_at",
                        "before_deadline",
                        "Annonsen kan inte sluta visas före sista ansökningsdagens slut.",
                    );
                    None
                }
                Some(e) if e > end_of_swedish_day(deadline + Duration::days(limits::MAX_DAYS_AHEAD)) => {
                    errs.push(
                        "expires_at",
                        "too_far_ahead",
                        "Annonsen kan visas högst ett år efter sista ansökningsdag.",
                    );
                    None
                }
                Some(e) => Some(e),
            }
        });

        let start_text = self.start_text.as_deref().and_then(|s| optional_line(&mut errs, "start_text", s, 200));

        let apply_url = self
            .apply_url
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .and_then(|u| errs.take(validate::web_url("apply_url", u)));
        let apply_email = self
            .apply_email
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .and_then(|e| errs.take(validate::email("apply_email", e)));
        if self.apply_url.as_deref().is_none_or(|s| s.trim().is_empty())
            && self.apply_email.as_deref().is_none_or(|s| s.trim().is_empty())
        {
            errs.push(
                "apply_url",
                "required_one_of",
                "Ange en ansökningslänk (apply_url) eller en e-postadress (apply_email).",
            );
        }

        let contacts = contacts(&mut errs, self.contacts.unwrap_or_default());

        let slug = self.slug.as_deref().and_then(|s| errs.take(validate::slug("slug", s)));

        errs.into_result(|| {
            let description = description.expect("checked");
            ValidJob {
                title: title.expect("checked"),
                description: description.html,
                description_source: description.source,
                description_format: description.format,
                role: role.expect("checked"),
                municipality: places.as_ref().expect("checked")[0],
                more_places: places.expect("checked")[1..].to_vec(),
                remote: self.remote.unwrap_or(RemoteMode::OnSite),
                employment_type: employment_type.expect("checked"),
                extent_percent,
                salary,
                vacancies,
                application_deadline: application_deadline.expect("checked"),
                expires_at: expires_at.expect("checked"),
                start_text,
                apply_url,
                apply_email,
                contacts,
                slug,
                featured: self.featured.unwrap_or(false),
            }
        })
    }
}

const UNKNOWN_MUNICIPALITY: &str = "Okänd kommunkod; ange kommunens fyrsiffriga kod enligt SCB (t.ex. 0182 för Nacka).";

/// The ad's places: `municipality_code` alone, or `municipality_codes`
/// (whose first may be repeated in `municipality_code`). Each is a known
/// municipality, none twice, at most [`MAX_PLACES`].
fn places(errs: &mut Errors, single: Option<&str>, list: Option<&[String]>) -> Option<Vec<&'static Municipality>> {
    let single = single.map(str::trim).filter(|s| !s.is_empty());
    let Some(list) = list else {
        return match single {
            None => missing(errs, "municipality_code"),
            Some(code) => match platsen_taxonomy::municipality(code) {
                Some(m) => Some(vec![m]),
                None => {
                    errs.push("municipality_code", "unknown_municipality", UNKNOWN_MUNICIPALITY);
                    None
                }
            },
        };
    };
    if list.is_empty() {
        errs.push("municipality_codes", "required", "Ange minst en kommun.");
        return None;
    }
    if list.len() > MAX_PLACES {
        errs.push(
            "municipality_codes",
            "too_many",
            format!("En annons kan gälla högst {MAX_PLACES} kommuner; lägg upp fler annonser för fler orter."),
        );
        return None;
    }
    let mut out: Vec<&'static Municipality> = Vec::with_capacity(list.len());
    let mut ok = true;
    for (i, raw) in list.iter().enumerate() {
        let field = format!("municipality_codes[{i}]");
        match platsen_taxonomy::municipality(raw.trim()) {
            None => {
                errs.push(field, "unknown_municipality", UNKNOWN_MUNICIPALITY);
                ok = false;
            }
            Some(m) if out.iter().any(|o| o.code == m.code) => {
                errs.push(field, "duplicate", format!("{} finns redan bland annonsens kommuner.", m.name));
                ok = false;
            }
            Some(m) => out.push(m),
        }
    }
    if let (Some(code), Some(first)) = (single, list.first())
        && code != first.trim()
    {
        errs.push(
            "municipality_code",
            "conflicts_with_municipality_codes",
            "municipality_code ska vara samma som den första kommunen i municipality_codes, eller utelämnas.",
        );
        ok = false;
    }
    ok.then_some(out)
}

fn missing<T>(errs: &mut Errors, field: &'static str) -> Option<T> {
    errs.push(field, "required", "Fältet är obligatoriskt.");
    None
}

fn optional_line(errs: &mut Errors, field: &str, raw: &str, max: usize) -> Option<String> {
    if raw.trim().is_empty() {
        return None;
    }
    errs.take(validate::line(field, raw, 1, max))
}

fn salary(errs: &mut Errors, min: Option<i64>, max: Option<i64>, period: Option<SalaryPeriod>) -> Option<Salary> {
    if min.is_none() && max.is_none() {
        if period.is_some() {
            errs.push(
                "salary_period",
                "without_amount",
                "Ange salary_min eller salary_max tillsammans med salary_period.",
            );
        }
        return None;
    }
    let period = period.unwrap_or(SalaryPeriod::Month);
    let (lo, hi) = match period {
        SalaryPeriod::Month => limits::MONTHLY_SALARY,
        SalaryPeriod::Hour => limits::HOURLY_SALARY,
    };
    let mut ok = true;
    for (field, value) in [("salary_min", min), ("salary_max", max)] {
        match value {
            Some(v) if v < 0 => {
                errs.push(field, "negative", "Lönen kan inte vara negativ.");
                ok = false;
            }
            Some(v) if !(lo..=hi).contains(&v) => {
                errs.push(field, "out_of_range", format!("Lönen {} anges i kronor, {lo}–{hi}.", period.name_sv()));
                ok = false;
            }
            _ => {}
        }
    }
    if let (Some(a), Some(b)) = (min, max)
        && a > b
    {
        errs.push("salary_min", "min_above_max", "Lägsta lön får inte vara högre än högsta lön.");
        ok = false;
    }
    ok.then_some(Salary { min, max, period })
}

fn contacts(errs: &mut Errors, input: Vec<ContactInput>) -> Vec<Contact> {
    if input.len() > limits::CONTACTS_MAX {
        errs.push("contacts", "too_many", format!("Högst {} kontaktpersoner.", limits::CONTACTS_MAX));
        return Vec::new();
    }
    let mut out = Vec::with_capacity(input.len());
    for (i, c) in input.into_iter().enumerate() {
        let f = |name: &str| format!("contacts[{i}].{name}");
        let name = match c.name.as_deref() {
            Some(n) => errs.take(validate::line(&f("name"), n, 2, 100)),
            None => {
                errs.push(f("name"), "required", "Fältet är obligatoriskt.");
                None
            }
        };
        let title = c.title.as_deref().and_then(|t| optional_line(errs, &f("title"), t, 100));
        let email = c
            .email
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .and_then(|e| errs.take(validate::email(&f("email"), e)));
        let phone = c
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .and_then(|p| errs.take(validate::phone(&f("phone"), p)));
        if let Some(name) = name {
            out.push(Contact { name, title, email, phone });
        }
    }
    out
}

/// An employer as entered.
#[derive(Debug, Clone, Default)]
pub struct EmployerInput {
    pub name: Option<String>,
    pub organization_number: Option<String>,
    pub website: Option<String>,
    pub logo_url: Option<String>,
    pub description: Option<String>,
    /// How `description` is written (default: Markdown).
    pub description_format: Option<DescriptionFormat>,
    /// A code of the salary survey's sector vocabulary.
    pub sector: Option<String>,
    pub slug: Option<String>,
    pub requires_review: Option<bool>,
    /// `prepaid`, `agreement` or `free` (the default).
    pub billing_mode: Option<String>,
}

/// A partial update of an employer. The organisation number and the slug
/// never change (links and identity depend on them).
#[derive(Debug, Clone, Default)]
pub struct EmployerPatch {
    pub name: Patch<String>,
    pub website: Patch<String>,
    pub logo_url: Patch<String>,
    pub description: Patch<String>,
    /// How a new `description` is written (Markdown unless said).
    pub description_format: Option<DescriptionFormat>,
    pub sector: Patch<String>,
    pub requires_review: Patch<bool>,
    pub billing_mode: Patch<String>,
}

impl EmployerPatch {
    /// The employer as it would be after this patch, as input to validate again.
    pub fn apply_to(self, e: &crate::model::Employer) -> EmployerInput {
        let mut input = EmployerInput {
            name: Some(e.name.clone()),
            organization_number: Some(e.organization_number.clone()),
            website: e.website.clone(),
            logo_url: e.logo_url.clone(),
            description: e.description_source().map(str::to_owned),
            description_format: Some(if e.description_text.is_some() {
                e.description_format
            } else {
                DescriptionFormat::Html
            }),
            sector: e.sector.map(|s| s.code().to_owned()),
            slug: None,
            requires_review: Some(e.requires_review),
            billing_mode: Some(e.billing_mode.code().to_owned()),
        };
        self.name.apply(&mut input.name);
        self.website.apply(&mut input.website);
        self.logo_url.apply(&mut input.logo_url);
        if self.description != Patch::Absent {
            input.description_format = Some(self.description_format.unwrap_or_default());
        }
        self.description.apply(&mut input.description);
        self.sector.apply(&mut input.sector);
        self.requires_review.apply(&mut input.requires_review);
        self.billing_mode.apply(&mut input.billing_mode);
        input
    }
}

/// An employer that passed every rule.
#[derive(Debug, Clone)]
pub struct ValidEmployer {
    pub name: String,
    pub organization_number: OrganisationNumber,
    pub website: Option<String>,
    pub logo_url: Option<String>,
    /// Sanitized HTML, rendered from the source.
    pub description: Option<String>,
    /// The description as written, and how.
    pub description_source: Option<String>,
    pub description_format: DescriptionFormat,
    pub sector: Option<Sector>,
    pub slug: Option<String>,
    pub requires_review: bool,
    pub billing_mode: BillingMode,
}

impl EmployerInput {
    pub fn validate(self) -> Result<ValidEmployer> {
        let mut errs = Errors::default();
        let name = match self.name.as_deref() {
            Some(n) => errs.take(validate::line("name", n, 2, 200)),
            None => missing(&mut errs, "name"),
        };
        let organization_number = match self.organization_number.as_deref() {
            Some(n) => errs.take(OrganisationNumber::parse("organization_number", n)),
            None => missing(&mut errs, "organization_number"),
        };
        let website = self
            .website
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|u| errs.take(validate::web_url("website", u)));
        let logo_url = self.logo_url.as_deref().filter(|s| !s.trim().is_empty()).and_then(|u| {
            let url = errs.take(validate::web_url("logo_url", u))?;
            if url.starts_with("https://") {
                Some(url)
            } else {
                errs.push("logo_url", "insecure_url", "Logotypen måste ligga på en https-adress.");
                None
            }
        });
        let description_format = self.description_format.unwrap_or_default();
        let description_source = self
            .description
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|d| errs.take(validate::multiline("description", d, 1, 10_000)));
        let description = description_source.as_deref().map(|d| sanitize::description_html(d, description_format));
        let sector = self.sector.as_deref().map(str::trim).filter(|s| !s.is_empty()).and_then(|code| {
            let found = Sector::from_code(&code.to_lowercase());
            if found.is_none() {
                errs.push("sector", "unknown_sector", format!("Okänd sektor. Välj en av: {}.", Sector::codes()));
            }
            found
        });
        let slug = self.slug.as_deref().and_then(|s| errs.take(validate::slug("slug", s)));
        let billing_mode = match self.billing_mode.as_deref().map(str::trim) {
            None => BillingMode::Free,
            Some(code) => BillingMode::from_code(code).unwrap_or_else(|| {
                errs.push("billing_mode", "unknown_billing_mode", "Välj prepaid, agreement eller free.");
                BillingMode::Free
            }),
        };
        errs.into_result(|| ValidEmployer {
            name: name.expect("checked"),
            organization_number: organization_number.expect("checked"),
            website,
            logo_url,
            description,
            description_source,
            description_format,
            sector,
            slug,
            requires_review: self.requires_review.unwrap_or(false),
            billing_mode,
        })
    }
}

/// A product as the operator enters it (see `store::products`).
#[derive(Debug, Clone, Default)]
pub struct ProductInput {
    pub name: Option<String>,
    pub description: Option<String>,
    /// The price of one unit excluding VAT, in öre.
    pub price_ore: Option<i64>,
    /// 25, 12 or 6; 25 when not given.
    pub vat_percent: Option<i64>,
    /// Ad credits one unit gives.
    pub ad_credits: Option<i64>,
    /// How long each ad may run, in days.
    pub ad_days: Option<i64>,
    pub featured: Option<bool>,
    /// How long unused credits stay valid, in days.
    pub credit_valid_days: Option<i64>,
}

/// A product that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidProduct {
    pub name: String,
    pub description: String,
    pub price_ore: i64,
    pub vat_percent: i64,
    pub ad_credits: i64,
    pub ad_days: i64,
    pub featured: bool,
    pub credit_valid_days: i64,
}

impl ProductInput {
    /// This input as a change to `p`: what it leaves out stays as it is.
    pub fn over(self, p: &crate::store::products::Product) -> ProductInput {
        ProductInput {
            name: self.name.or_else(|| Some(p.name.clone())),
            description: self.description.or_else(|| Some(p.description.clone())),
            price_ore: self.price_ore.or(Some(p.price_ore)),
            vat_percent: self.vat_percent.or(Some(p.vat_percent)),
            ad_credits: self.ad_credits.or(Some(p.ad_credits)),
            ad_days: self.ad_days.or(Some(p.ad_days)),
            featured: self.featured.or(Some(p.featured)),
            credit_valid_days: self.credit_valid_days.or(Some(p.credit_valid_days)),
        }
    }

    pub fn validate(self) -> Result<ValidProduct> {
        let mut errs = Errors::default();
        let name = match self.name.as_deref() {
            Some(n) => errs.take(validate::line("name", n, 2, 80)),
            None => missing(&mut errs, "name"),
        };
        let description = match self.description.as_deref() {
            Some(d) if !d.trim().is_empty() => errs.take(validate::multiline("description", d, 1, 1000)),
            _ => Some(String::new()),
        };
        let mut number = |field: &'static str, value: Option<i64>, (min, max): (i64, i64), unit: &str| match value {
            Some(v) if (min..=max).contains(&v) => Some(v),
            Some(_) => {
                errs.push(field, "out_of_range", format!("Ett tal från {min} till {max} {unit}."));
                None
            }
            None => missing(&mut errs, field),
        };
        let price_ore = number("price_ore", self.price_ore, limits::PRODUCT_PRICE_ORE, "öre");
        let ad_credits = number("ad_credits", self.ad_credits, limits::PRODUCT_AD_CREDITS, "annonser");
        let ad_days = number("ad_days", self.ad_days, limits::PRODUCT_AD_DAYS, "dagar");
        let credit_valid_days =
            number("credit_valid_days", self.credit_valid_days, limits::PRODUCT_CREDIT_VALID_DAYS, "dagar");
        let vat_percent = match self.vat_percent.unwrap_or(25) {
            v @ (6 | 12 | 25) => Some(v),
            _ => {
                errs.push("vat_percent", "invalid_vat_rate", "Momsen är 25, 12 eller 6 procent.");
                None
            }
        };
        errs.into_result(|| ValidProduct {
            name: name.expect("checked"),
            description: description.expect("checked"),
            price_ore: price_ore.expect("checked"),
            vat_percent: vat_percent.expect("checked"),
            ad_credits: ad_credits.expect("checked"),
            ad_days: ad_days.expect("checked"),
            featured: self.featured.unwrap_or(false),
            credit_valid_days: credit_valid_days.expect("checked"),
        })
    }
}

/// An order as a buyer enters it on `/platsannonsera` or sends it to
/// `POST /api/v1/orders`.
#[derive(Debug, Clone, Default)]
pub struct OrderInput {
    pub organization_name: Option<String>,
    pub organization_number: Option<String>,
    pub street: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    /// `0007:` + organisation number, or `0088:` + GLN; the organisation
    /// number under 0007 when left out.
    pub peppol_id: Option<String>,
    /// *Er referens* (required by Peppol rule R003).
    pub buyer_reference: Option<String>,
    /// The buyer's own order number, if it has one.
    pub order_number: Option<String>,
    pub invoice_email: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub product_id: Option<i64>,
    pub quantity: Option<i64>,
    pub accept_terms: Option<bool>,
}

/// An order that passed every rule (whether its product is still offered
/// is the store's to check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidOrder {
    pub organization_name: String,
    pub organization_number: OrganisationNumber,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub peppol_scheme: String,
    pub peppol_id: String,
    pub buyer_reference: String,
    pub order_number: Option<String>,
    pub invoice_email: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub product_id: i64,
    pub quantity: i64,
}

impl OrderInput {
    pub fn validate(self) -> Result<ValidOrder> {
        let mut errs = Errors::default();
        let text = |errs: &mut Errors, field: &'static str, v: &Option<String>, min: usize, max: usize| match v
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            Some(v) => errs.take(validate::line(field, v, min, max)),
            None => missing(errs, field),
        };
        // Names go on invoices, mails and pages as they are: no markup.
        let name = |errs: &mut Errors, field: &'static str, v: &Option<String>, max: usize| {
            let n = text(errs, field, v, 2, max)?;
            if n.contains(['<', '>']) {
                errs.push(field, "markup", "Skriv namnet utan tecknen < och >.");
                return None;
            }
            Some(n)
        };
        let organization_name = name(&mut errs, "organization_name", &self.organization_name, 200);
        let organization_number = match self.organization_number.as_deref() {
            Some(n) => errs.take(OrganisationNumber::parse("organization_number", n)),
            None => missing(&mut errs, "organization_number"),
        };
        let street = text(&mut errs, "invoice_address.street", &self.street, 2, 200);
        let postal_code = match self.postal_code.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(p) => errs.take(validate::postal_code("invoice_address.postal_code", p)),
            None => missing(&mut errs, "invoice_address.postal_code"),
        };
        let city = text(&mut errs, "invoice_address.city", &self.city, 2, 100);
        let peppol = match (self.peppol_id.as_deref().filter(|s| !s.trim().is_empty()), &organization_number) {
            (Some(raw), _) => errs.take(validate::peppol_id("peppol_id", raw)),
            (None, Some(n)) => Some(("0007".to_owned(), n.as_str().replace('-', ""))),
            (None, None) => None,
        };
        let buyer_reference = match self.buyer_reference.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(r) => errs.take(validate::line("buyer_reference", r, 1, 100)),
            None => {
                errs.push(
                    "buyer_reference",
                    "required",
                    "Ange er referens: den som ska ta emot fakturan hos er (krävs i e-fakturor).",
                );
                None
            }
        };
        let order_number = self
            .order_number
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|o| errs.take(validate::line("order_number", o, 1, 100)));
        let email = |errs: &mut Errors, field: &'static str, v: &Option<String>| match v.as_deref() {
            Some(e) if !e.trim().is_empty() => errs.take(validate::email(field, e)),
            _ => missing(errs, field),
        };
        let invoice_email = email(&mut errs, "invoice_email", &self.invoice_email);
        let contact_name = name(&mut errs, "contact.name", &self.contact_name, 100);
        let contact_email = email(&mut errs, "contact.email", &self.contact_email);
        let contact_phone = match self.contact_phone.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(p) => errs.take(validate::phone("contact.phone", p)),
            None => missing(&mut errs, "contact.phone"),
        };
        let product_id = match self.product_id {
            Some(id) if id > 0 => Some(id),
            Some(_) => {
                errs.push("product_id", "unknown_product", "Välj en produkt i erbjudandet.");
                None
            }
            None => missing(&mut errs, "product_id"),
        };
        let (min, max) = limits::ORDER_QUANTITY;
        let quantity = match self.quantity {
            Some(q) if (min..=max).contains(&q) => Some(q),
            Some(_) => {
                errs.push("quantity", "out_of_range", format!("Ett antal från {min} till {max}."));
                None
            }
            None => missing(&mut errs, "quantity"),
        };
        if self.accept_terms != Some(true) {
            errs.push("accept_terms", "required", "Godkänn villkoren för att beställa.");
        }
        errs.into_result(|| {
            let (peppol_scheme, peppol_id) = peppol.expect("checked");
            ValidOrder {
                organization_name: organization_name.expect("checked"),
                organization_number: organization_number.expect("checked"),
                street: street.expect("checked"),
                postal_code: postal_code.expect("checked"),
                city: city.expect("checked"),
                peppol_scheme,
                peppol_id,
                buyer_reference: buyer_reference.expect("checked"),
                order_number,
                invoice_email: invoice_email.expect("checked"),
                contact_name: contact_name.expect("checked"),
                contact_email: contact_email.expect("checked"),
                contact_phone: contact_phone.expect("checked"),
                product_id: product_id.expect("checked"),
                quantity: quantity.expect("checked"),
            }
        })
    }
}

/// Builds the error for a single field, for callers outside this module.
pub fn field_error(field: &str, code: &'static str, message: &str) -> Error {
    Error::Invalid(vec![FieldError::new(field, code, message)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    pub(crate) fn good() -> JobInput {
        JobInput {
            title: Some("Inköpschef till Nacka kommun".into()),
            description: Some("Vi söker en **erfaren** inköpschef som vill leda vårt inköpsarbete.".into()),
            role: Some(Role::Inkopschef),
            municipality_code: Some("0182".into()),
            employment_type: Some(EmploymentType::Tillsvidare),
            application_deadline: Some(NaiveDate::from_ymd_opt(2026, 12, 15).unwrap()),
            apply_url: Some("https://www.nacka.se/jobb/123".into()),
            salary_min: Some(55_000),
            salary_max: Some(65_000),
            ..Default::default()
        }
    }

    fn codes(input: JobInput) -> Vec<(String, &'static str)> {
        match input.validate(today(), DeadlineCheck::MustNotBePast) {
            Err(Error::Invalid(errs)) => errs.into_iter().map(|e| (e.field, e.code)).collect(),
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn a_good_ad_passes_with_defaults() {
        let job = good().validate(today(), DeadlineCheck::MustNotBePast).unwrap();
        assert_eq!(job.municipality.name, "Nacka");
        assert_eq!(job.extent_percent, 100);
        assert_eq!(job.vacancies, 1);
        assert_eq!(job.remote, RemoteMode::OnSite);
        assert_eq!(job.expires_at, end_of_swedish_day(job.application_deadline));
        assert!(job.description.contains("<strong>erfaren</strong>"));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let got = codes(JobInput::default());
        for field in [
            "title",
            "description",
            "role",
            "municipality_code",
            "employment_type",
            "application_deadline",
            "apply_url",
        ] {
            assert!(got.iter().any(|(f, _)| f == field), "{field} missing from {got:?}");
        }
    }

    #[test]
    fn salary_rules() {
        let mut j = good();
        j.salary_min = Some(-1);
        assert_eq!(codes(j), vec![("salary_min".into(), "negative")]);
        let mut j = good();
        j.salary_min = Some(70_000);
        assert_eq!(codes(j), vec![("salary_min".into(), "min_above_max")]);
        let mut j = good();
        j.salary_min = None;
        j.salary_max = None;
        j.salary_period = Some(SalaryPeriod::Hour);
        assert_eq!(codes(j), vec![("salary_period".into(), "without_amount")]);
    }

    #[test]
    fn deadline_and_expiry_rules() {
        let mut j = good();
        j.application_deadline = Some(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
        assert_eq!(codes(j), vec![("application_deadline".into(), "in_past")]);
        let mut j = good();
        j.expires_at = Some(end_of_swedish_day(NaiveDate::from_ymd_opt(2026, 12, 14).unwrap()));
        assert_eq!(codes(j), vec![("expires_at".into(), "before_deadline")]);
        let mut j = good();
        j.application_deadline = Some(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
        assert!(j.validate(today(), DeadlineCheck::Unchanged).is_ok());
    }

    #[test]
    fn unknown_municipality_and_bad_contacts() {
        let mut j = good();
        j.municipality_code = Some("9999".into());
        j.contacts =
            Some(vec![ContactInput { name: Some("A".into()), phone: Some("abc".into()), ..Default::default() }]);
        assert_eq!(
            codes(j),
            vec![
                ("municipality_code".into(), "unknown_municipality"),
                ("contacts[0].name".into(), "too_short"),
                ("contacts[0].phone".into(), "invalid_phone"),
            ]
        );
    }

    #[test]
    fn several_places_in_order_each_once_at_most_ten() {
        let list = |codes: &[&str]| Some(codes.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>());
        let mut j = good();
        j.municipality_code = None;
        j.municipality_codes = list(&["1480", " 1401 ", "1384"]);
        let v = j.validate(today(), DeadlineCheck::MustNotBePast).unwrap();
        assert_eq!(v.municipality.code, "1480");
        assert_eq!(v.more_places.iter().map(|m| m.code).collect::<Vec<_>>(), ["1401", "1384"]);
        // The single code may repeat the first.
        let mut j = good();
        j.municipality_code = Some("0182".into());
        j.municipality_codes = list(&["0182", "0120"]);
        assert!(j.validate(today(), DeadlineCheck::MustNotBePast).is_ok());

        let refused = |single: Option<&str>, codes: &[&str]| {
            let mut j = good();
            j.municipality_code = single.map(Into::into);
            j.municipality_codes = list(codes);
            self::codes(j)
        };
        assert_eq!(refused(None, &["0182", "0182"]), vec![("municipality_codes[1]".into(), "duplicate")]);
        assert_eq!(
            refused(None, &["x", "0120", "9999"]),
            vec![
                ("municipality_codes[0]".into(), "unknown_municipality"),
                ("municipality_codes[2]".into(), "unknown_municipality"),
            ]
        );
        assert_eq!(refused(None, &[]), vec![("municipality_codes".into(), "required")]);
        let eleven: Vec<&str> = platsen_taxonomy::municipalities().iter().take(11).map(|m| m.code).collect();
        assert_eq!(refused(None, &eleven), vec![("municipality_codes".into(), "too_many")]);
        let mut ten = good();
        ten.municipality_codes = list(&eleven[1..]);
        ten.municipality_code = None;
        assert_eq!(ten.validate(today(), DeadlineCheck::MustNotBePast).unwrap().more_places.len(), 9);
        assert_eq!(
            refused(Some("0180"), &["0182"]),
            vec![("municipality_code".into(), "conflicts_with_municipality_codes")]
        );
    }

    #[test]
    fn employer_rules() {
        let ok = EmployerInput {
            name: Some("Nacka kommun".into()),
            organization_number: Some("2120000167".into()),
            logo_url: Some("https://www.nacka.se/logo.svg".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(ok.organization_number.as_str(), "212000-0167");
        let err = EmployerInput {
            name: Some("N".into()),
            organization_number: Some("212000-0168".into()),
            logo_url: Some("http://x.se/l.png".into()),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        let Error::Invalid(errs) = err else { panic!() };
        let fields: Vec<_> = errs.iter().map(|e| e.code).collect();
        assert_eq!(fields, vec!["too_short", "invalid_checksum", "insecure_url"]);
        let with_sector = |sector: &str| {
            EmployerInput {
                name: Some("Nacka kommun".into()),
                organization_number: Some("2120000167".into()),
                sector: Some(sector.into()),
                ..Default::default()
            }
            .validate()
        };
        assert_eq!(with_sector(" Kommun ").unwrap().sector, Some(Sector::Kommun));
        assert_eq!(with_sector("").unwrap().sector, None);
        for garbage in ["kommunal", "stat; drop table employers", "\u{0}", "offentligt bolag"] {
            let Err(Error::Invalid(errs)) = with_sector(garbage) else { panic!("{garbage:?} accepted") };
            assert_eq!((errs[0].field.as_str(), errs[0].code), ("sector", "unknown_sector"));
        }
    }
}
