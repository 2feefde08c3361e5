//! The change log behind the change stream, the snapshot and webhooks.
//!
//! Every write that changes what the public sees of an ad appends one row to
//! `job_changes`, in the same transaction, as its last statement: `upsert`
//! with the ad as the public then saw it, or `removed` (a tombstone, with the
//! reason) when a visible ad stops being visible. A change that leaves the
//! public view as it was (a draft edited, an employer's website changed)
//! appends nothing.
//!
//! **No change is skipped.** A consumer asks for rows with `id > cursor`.
//! That is only safe if a reader that sees an id also sees every lower one,
//! which a sequence alone does not give: a transaction can take id 7, commit
//! after the transaction that took id 8, and a reader between the two
//! commits would move its cursor past 7 for ever. So ids are handed out in
//! commit order: SQLite has one writer at a time (`BEGIN IMMEDIATE`), and on
//! PostgreSQL the appending transaction first takes a transaction-scoped
//! advisory lock, held until its commit is visible, so the next appender
//! takes its id only after this one committed. The lock is taken after the
//! transaction's last write to `job_ads`, so a transaction holding it never
//! waits for a row lock, and no deadlock is possible.
//!
//! **Stored compressed.** A row's ad is its public JSON (the [`Snapshot`]
//! below) compressed with zstd: about 1.8 KB of JSON, most of it the
//! description's HTML, takes about 55 % of that (higher levels gain 1–3 %),
//! and the log holds one copy per change of every ad the board has shown.
//! Rows written before migration 0018 hold the JSON itself; [`unpack`]
//! reads both, told apart by zstd's frame magic, which no JSON text starts
//! with.

use chrono::{DateTime, NaiveDate, Utc};
use platsen_taxonomy::Role;
use platsen_taxonomy::survey::Sector;
use serde::{Deserialize, Serialize};

use super::{Db, Store, ts};
use crate::error::{Error, Result};
use crate::model::{Contact, EmploymentType, JobAd, JobStatus, RemoteMode, Salary, SalaryPeriod};

/// The most entries one page of the log holds.
pub const MAX_PAGE: u32 = 1000;

/// Names the change log's advisory lock on PostgreSQL ("platsen", 1).
pub(super) const CHANGE_LOCK: i64 = 0x0070_6c61_7473_0001;

/// What happened to an ad, as the public sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// The ad became visible, or changed while visible.
    Upsert,
    /// The ad stopped being visible.
    Removed,
}

impl ChangeKind {
    pub fn code(self) -> &'static str {
        match self {
            ChangeKind::Upsert => "upsert",
            ChangeKind::Removed => "removed",
        }
    }
}

/// Why a visible ad stopped being visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovalReason {
    /// Filled or withdrawn by the employer.
    Closed,
    /// Its publication period ended.
    Expired,
    Archived,
    /// Changed by an employer whose ads are reviewed; back after approval.
    InReview,
    /// Back to draft.
    Unpublished,
    /// No longer stored.
    Deleted,
}

impl RemovalReason {
    pub fn code(self) -> &'static str {
        match self {
            RemovalReason::Closed => "closed",
            RemovalReason::Expired => "expired",
            RemovalReason::Archived => "archived",
            RemovalReason::InReview => "in_review",
            RemovalReason::Unpublished => "unpublished",
            RemovalReason::Deleted => "deleted",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        [
            RemovalReason::Closed,
            RemovalReason::Expired,
            RemovalReason::Archived,
            RemovalReason::InReview,
            RemovalReason::Unpublished,
            RemovalReason::Deleted,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }

    fn of(status: JobStatus) -> Self {
        match status {
            JobStatus::Closed => RemovalReason::Closed,
            JobStatus::Expired => RemovalReason::Expired,
            JobStatus::Archived => RemovalReason::Archived,
            JobStatus::PendingReview => RemovalReason::InReview,
            JobStatus::Draft | JobStatus::Published => RemovalReason::Unpublished,
        }
    }
}

/// One entry of the change log.
#[derive(Debug, Clone)]
pub struct Change {
    /// The entry's place in the log: a cursor that has passed it.
    pub position: i64,
    pub job_id: i64,
    pub kind: ChangeKind,
    /// Set for removals.
    pub reason: Option<RemovalReason>,
    /// The ad as the public saw it after the change; for a removal, as it was
    /// when it went away (its codes let a consumer filter tombstones).
    pub ad: JobAd,
    pub at: DateTime<Utc>,
}

/// A page of the log.
#[derive(Debug, Clone)]
pub struct ChangePage {
    pub changes: Vec<Change>,
    /// Where the next request continues: the last entry returned, or the
    /// cursor asked for when there was nothing new.
    pub cursor: i64,
    /// Whether more entries were already waiting.
    pub more: bool,
}

/// The ad as stored in a log row: the public fields under their stable
/// codes (the same codes as the database columns), so a log row stays
/// readable whatever the Rust types are called later.
#[derive(Serialize, Deserialize)]
struct Snapshot {
    id: i64,
    slug: String,
    employer_id: i64,
    employer_slug: String,
    employer_name: String,
    employer_sector: Option<String>,
    status: String,
    title: String,
    description: String,
    role: String,
    municipality: String,
    /// The further places' codes (left out when there are none, as in
    /// rows written before ads had several places).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    more_places: Vec<String>,
    remote: String,
    employment_type: String,
    extent_percent: i64,
    salary_min: Option<i64>,
    salary_max: Option<i64>,
    salary_period: Option<String>,
    vacancies: i64,
    application_deadline: NaiveDate,
    start_text: Option<String>,
    apply_url: Option<String>,
    apply_email: Option<String>,
    contacts: Vec<Contact>,
    featured: bool,
    published_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    is_demo: bool,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Snapshot {
    fn of(ad: &JobAd) -> Snapshot {
        Snapshot {
            id: ad.id,
            slug: ad.slug.clone(),
            employer_id: ad.employer_id,
            employer_slug: ad.employer_slug.clone(),
            employer_name: ad.employer_name.clone(),
            employer_sector: ad.employer_sector.map(|s| s.code().to_owned()),
            status: ad.status.code().to_owned(),
            title: ad.title.clone(),
            description: ad.description.clone(),
            role: ad.role.code().to_owned(),
            municipality: ad.municipality.code.to_owned(),
            more_places: ad.more_places.iter().map(|m| m.code.to_owned()).collect(),
            remote: ad.remote.code().to_owned(),
            employment_type: ad.employment_type.code().to_owned(),
            extent_percent: ad.extent_percent,
            salary_min: ad.salary.and_then(|s| s.min),
            salary_max: ad.salary.and_then(|s| s.max),
            salary_period: ad.salary.map(|s| s.period.code().to_owned()),
            vacancies: ad.vacancies,
            application_deadline: ad.application_deadline,
            start_text: ad.start_text.clone(),
            apply_url: ad.apply_url.clone(),
            apply_email: ad.apply_email.clone(),
            contacts: ad.contacts.clone(),
            featured: ad.featured,
            published_at: ad.published_at,
            expires_at: ad.expires_at,
            closed_at: ad.closed_at,
            is_demo: ad.is_demo,
            version: ad.version,
            created_at: ad.created_at,
            updated_at: ad.updated_at,
        }
    }

    fn into_ad(self) -> Result<JobAd> {
        fn code<T>(what: &str, raw: &str, parsed: Option<T>) -> Result<T> {
            parsed.ok_or_else(|| corrupt(format!("change log: unknown {what} {raw:?}")))
        }
        let salary = match self.salary_period.as_deref() {
            Some(p) => Some(Salary {
                min: self.salary_min,
                max: self.salary_max,
                period: code("salary period", p, SalaryPeriod::from_code(p))?,
            }),
            None => None,
        };
        Ok(JobAd {
            id: self.id,
            slug: self.slug,
            employer_id: self.employer_id,
            employer_slug: self.employer_slug,
            employer_name: self.employer_name,
            employer_sector: self.employer_sector.as_deref().and_then(Sector::from_code),
            employer_requires_review: false,
            status: code("status", &self.status, JobStatus::from_code(&self.status))?,
            title: self.title,
            // The log keeps what the public saw; the source is the owner's.
            stored_source: None,
            description_format: crate::sanitize::DescriptionFormat::Html,
            description: self.description,
            role: code("role", &self.role, Role::from_code(&self.role))?,
            municipality: code("municipality", &self.municipality, platsen_taxonomy::municipality(&self.municipality))?,
            more_places: self
                .more_places
                .iter()
                .map(|m| code("municipality", m, platsen_taxonomy::municipality(m)))
                .collect::<Result<_>>()?,
            remote: code("remote", &self.remote, RemoteMode::from_code(&self.remote))?,
            employment_type: code(
                "employment type",
                &self.employment_type,
                EmploymentType::from_code(&self.employment_type),
            )?,
            extent_percent: self.extent_percent,
            salary,
            vacancies: self.vacancies,
            application_deadline: self.application_deadline,
            start_text: self.start_text,
            apply_url: self.apply_url,
            apply_email: self.apply_email,
            contacts: self.contacts,
            featured: self.featured,
            published_at: self.published_at,
            expires_at: self.expires_at,
            paid_until: None,
            closed_at: self.closed_at,
            rejection_reason: None,
            is_demo: self.is_demo,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            publish_at: None,
        })
    }
}

/// Compression level: zstd's default; higher levels gain little on a
/// 2 KB document and cost every write.
const LEVEL: i32 = 3;

/// The most bytes an ad's JSON may unpack to: far above any ad the
/// validation lets through, and a bound on what a damaged row can allocate.
const MAX_UNPACKED: usize = 4 << 20;

/// The four bytes every zstd frame starts with.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

thread_local! {
    // A context each way per thread: making one allocates more than a
    // row's worth of memory, and the snapshot unpacks every ad. Making one
    // fails only when memory has run out.
    static PACKER: std::cell::RefCell<zstd::bulk::Compressor<'static>> = std::cell::RefCell::new({
        let mut p = zstd::bulk::Compressor::new(LEVEL).expect("zstd makes a compression context");
        // Four bytes a row, so that a damaged row fails to unpack instead
        // of showing a changed ad.
        p.include_checksum(true).expect("zstd takes the checksum flag");
        p
    });
    static UNPACKER: std::cell::RefCell<zstd::bulk::Decompressor<'static>> =
        std::cell::RefCell::new(zstd::bulk::Decompressor::new().expect("zstd makes a decompression context"));
}

/// An ad's JSON as a log row stores it.
pub(super) fn pack(json: &str) -> Result<Vec<u8>> {
    PACKER
        .with_borrow_mut(|packer| packer.compress(json.as_bytes()))
        .map_err(|e| corrupt(format!("change log: packing an ad: {e}")))
}

/// A log row's ad back as JSON: unpacked, or as written before 0018.
pub(super) fn unpack(stored: &[u8]) -> Result<String> {
    let bytes = if stored.starts_with(&ZSTD_MAGIC) {
        UNPACKER
            .with_borrow_mut(|unpacker| unpacker.decompress(stored, MAX_UNPACKED))
            .map_err(|e| corrupt(format!("change log: unpacking an ad: {e}")))?
    } else {
        stored.to_vec()
    };
    String::from_utf8(bytes).map_err(|_| corrupt("change log: an ad is not UTF-8".to_owned()))
}

/// A row to append.
pub(super) struct NewChange {
    pub employer_id: i64,
    pub kind: ChangeKind,
    pub version: i64,
    /// Packed ([`pack`]).
    pub ad: Vec<u8>,
    pub reason: Option<&'static str>,
}

/// What to append for an ad now read as `ad` (`None`: no longer stored),
/// given the last row appended for it (`(change, ad)`), if any.
pub(super) fn decide(ad: Option<&JobAd>, last: Option<(&str, &str)>) -> Result<Option<NewChange>> {
    let last_upsert = match last {
        Some(("upsert", json)) => Some(json),
        _ => None,
    };
    match ad {
        Some(ad) if ad.is_public() => {
            let json = serde_json::to_string(&Snapshot::of(ad)).expect("a snapshot serializes");
            if last_upsert == Some(json.as_str()) {
                return Ok(None);
            }
            Ok(Some(NewChange {
                employer_id: ad.employer_id,
                kind: ChangeKind::Upsert,
                version: ad.version,
                ad: pack(&json)?,
                reason: None,
            }))
        }
        Some(ad) => match last_upsert {
            Some(_) => Ok(Some(NewChange {
                employer_id: ad.employer_id,
                kind: ChangeKind::Removed,
                version: ad.version,
                ad: pack(&serde_json::to_string(&Snapshot::of(ad)).expect("a snapshot serializes"))?,
                reason: Some(RemovalReason::of(ad.status).code()),
            })),
            None => Ok(None),
        },
        None => match last_upsert {
            Some(json) => {
                let seen: Snapshot = parse(json)?;
                Ok(Some(NewChange {
                    employer_id: seen.employer_id,
                    kind: ChangeKind::Removed,
                    version: seen.version,
                    ad: pack(json)?,
                    reason: Some(RemovalReason::Deleted.code()),
                }))
            }
            None => Ok(None),
        },
    }
}

fn corrupt(what: String) -> Error {
    Error::Database(sqlx::Error::Decode(what.into()))
}

fn parse(json: &str) -> Result<Snapshot> {
    serde_json::from_str(json).map_err(|e| corrupt(format!("change log: unreadable ad: {e}")))
}

/// A stored row back as a [`Change`].
pub(super) fn change_from(
    position: i64,
    job_id: i64,
    kind: &str,
    ad: &str,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> Result<Change> {
    let kind = match kind {
        "upsert" => ChangeKind::Upsert,
        "removed" => ChangeKind::Removed,
        other => return Err(corrupt(format!("change log: unknown change {other:?}"))),
    };
    let reason = match reason {
        Some(r) => {
            Some(RemovalReason::from_code(r).ok_or_else(|| corrupt(format!("change log: unknown reason {r:?}")))?)
        }
        None => None,
    };
    Ok(Change { position, job_id, kind, reason, ad: parse(ad)?.into_ad()?, at })
}

/// A stored upsert's ad.
pub(super) fn ad_from(json: &str) -> Result<JobAd> {
    parse(json)?.into_ad()
}

/// A row of `job_changes`: id, job_id, change, ad (packed), reason, created_at.
pub(super) type LogRow = (i64, i64, String, Vec<u8>, Option<String>, DateTime<Utc>);

/// Rows read with `limit + 1` as a page of at most `limit`, continuing from
/// `cursor` when there are none.
pub(super) fn page_of(rows: Vec<LogRow>, limit: u32, cursor: i64) -> Result<ChangePage> {
    let more = rows.len() > limit as usize;
    let changes = rows
        .into_iter()
        .take(limit as usize)
        .map(|(position, job_id, kind, ad, reason, at)| {
            change_from(position, job_id, &kind, &unpack(&ad)?, reason.as_deref(), at)
        })
        .collect::<Result<Vec<_>>>()?;
    let cursor = changes.last().map_or(cursor, |c| c.position);
    Ok(ChangePage { changes, cursor, more })
}

impl Store {
    /// The log entries after `cursor` (0: from the beginning), oldest first,
    /// at most `limit` of them. A cursor beyond the end of the log (from
    /// another installation, or a database restored from an older backup)
    /// is refused, so a consumer does not wait for ever at a place that will
    /// never come.
    pub async fn changes_since(&self, cursor: i64, limit: u32) -> Result<ChangePage> {
        let limit = limit.clamp(1, MAX_PAGE);
        let rows: Vec<LogRow> = read!(self, |pool| {
            sqlx::query_as(
                "select id, job_id, change, ad, reason, created_at from job_changes
                  where id > $1 order by id limit $2",
            )
            .bind(cursor)
            .bind(i64::from(limit) + 1)
            .fetch_all(pool)
            .await?
        });
        if rows.is_empty() && cursor > 0 {
            let end: i64 = read!(self, |pool| {
                sqlx::query_scalar("select coalesce(max(id), 0) from job_changes").fetch_one(pool).await?
            });
            if cursor > end {
                return Err(Error::Invalid(vec![crate::FieldError::new(
                    "since",
                    "unknown_cursor",
                    "Markören finns inte i ändringsloggen; börja om från /api/v1/snapshot.",
                )]));
            }
        }
        page_of(rows, limit, cursor)
    }

    /// Every ad the log shows as visible up to its newest entry, with that
    /// entry's position: replaying the log after it gives every later change.
    /// Ads whose expiry has passed are left out even before the sweeper has
    /// written their tombstone (which then follows in the stream).
    pub async fn changes_snapshot(&self, now: DateTime<Utc>) -> Result<(Vec<JobAd>, i64)> {
        // The newest id first: every lower id is committed by then (see the
        // module's comment), so the second read sees exactly the log up to it.
        let (cursor, rows): (i64, Vec<Vec<u8>>) = read!(self, |pool| {
            let cursor: i64 =
                sqlx::query_scalar("select coalesce(max(id), 0) from job_changes").fetch_one(pool).await?;
            let rows = sqlx::query_scalar(
                "select c.ad from job_changes c
                  where c.change = 'upsert'
                    and c.id in (select max(id) from job_changes where id <= $1 group by job_id)
                  order by c.job_id",
            )
            .bind(cursor)
            .fetch_all(pool)
            .await?;
            (cursor, rows)
        });
        let now = ts(now);
        let ads = rows
            .iter()
            .map(|packed| ad_from(&unpack(packed)?))
            .filter(|ad| !matches!(ad, Ok(ad) if ad.expires_at <= now))
            .collect::<Result<Vec<_>>>()?;
        Ok((ads, cursor))
    }

    /// Starts the log of a database that had visible ads before the log
    /// existed: one upsert each. Returns how many it wrote.
    pub(super) async fn backfill_changes(&self) -> Result<usize> {
        let (logged, visible): (i64, Vec<i64>) = read!(self, |pool| {
            let logged: i64 = sqlx::query_scalar("select count(*) from job_changes").fetch_one(pool).await?;
            let visible = if logged == 0 {
                sqlx::query_scalar("select id from job_ads where status = 'published' order by id")
                    .fetch_all(pool)
                    .await?
            } else {
                Vec::new()
            };
            (logged, visible)
        });
        if logged > 0 || visible.is_empty() {
            return Ok(0);
        }
        let now = ts(Utc::now());
        for chunk in visible.chunks(500) {
            write_tx!(self, |tx| {
                log_changes!(self, tx, chunk.iter().copied(), now);
            });
        }
        tracing::info!(ads = visible.len(), "started the change log with the visible ads");
        Ok(visible.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log row's JSON as the store writes it, with a description of the
    /// length the board's ads have (about 145 words).
    fn logged_json() -> String {
        let description = "<p>Sjövikens kommun söker en erfaren upphandlare till upphandlingsenheten, som \
            ansvarar för kommunens ramavtal inom bygg, IT, tjänster och livsmedel. Du leder upphandlingar \
            enligt LOU från behovsanalys och marknadsdialog till tilldelning, avtal och uppföljning.</p>\
            <h2>Arbetsuppgifter</h2><ul><li>Planera och genomföra upphandlingar tillsammans med \
            verksamheterna</li><li>Skriva förfrågningsunderlag, utvärdera anbud och fatta \
            tilldelningsbeslut</li><li>Följa upp avtal och leverantörer</li><li>Ge stöd och utbildning i \
            inköpsfrågor</li></ul><h2>Vi söker dig som</h2><p>Har högskoleutbildning inom juridik, ekonomi \
            eller annat relevant område, och minst tre års erfarenhet av offentlig upphandling. Du är \
            strukturerad, kommunikativ och trygg i att tolka lagen om offentlig upphandling. Erfarenhet av \
            upphandlingssystem som TendSign eller Kommers Annons är meriterande.</p><p>Vi erbjuder ett \
            stimulerande arbete i en växande kommun vid Saltsjön med goda möjligheter till \
            kompetensutveckling, flexibel arbetstid och friskvårdsbidrag.</p>";
        serde_json::json!({
            "id": 4711, "slug": "upphandlare-till-sjovikens-kommun", "employer_id": 3,
            "employer_slug": "sjovikens-kommun-demo", "employer_name": "Sjövikens kommun (demo)",
            "employer_sector": "kommun", "status": "published", "title": "Upphandlare till Sjövikens kommun",
            "description": description, "role": "upphandlare", "municipality": "0182", "remote": "hybrid",
            "employment_type": "permanent", "extent_percent": 100, "salary_min": 42000, "salary_max": 52000,
            "salary_period": "month", "vacancies": 1, "application_deadline": "2026-12-20",
            "start_text": "Enligt överenskommelse", "apply_url": "https://sjoviken.example/jobb/4711",
            "apply_email": null, "contacts": [], "featured": false,
            "published_at": "2026-11-28T09:12:44.123456Z", "expires_at": "2026-12-21T00:00:00Z",
            "closed_at": null, "is_demo": true, "version": 3,
            "created_at": "2026-11-27T14:02:10.654321Z", "updated_at": "2026-11-28T09:12:44.123456Z"
        })
        .to_string()
    }

    #[test]
    fn a_logged_ad_is_stored_compressed_and_read_back_exactly() {
        let json = logged_json();
        let packed = pack(&json).unwrap();
        assert!(packed.starts_with(&ZSTD_MAGIC));
        eprintln!("{} bytes of JSON packed into {}", json.len(), packed.len());
        assert!(packed.len() * 10 < json.len() * 7, "{} bytes packed from {}", packed.len(), json.len());
        assert_eq!(unpack(&packed).unwrap(), json);
        // Many times over on one thread: the contexts are reused.
        for _ in 0..3 {
            assert_eq!(unpack(&pack(&json).unwrap()).unwrap(), json);
        }
    }

    #[test]
    fn rows_written_before_compression_are_read_as_they_are() {
        let json = logged_json();
        assert_eq!(unpack(json.as_bytes()).unwrap(), json);
        assert!(parse(&unpack(json.as_bytes()).unwrap()).is_ok());
    }

    #[test]
    fn a_damaged_row_is_an_error_not_a_panic() {
        let packed = pack(&logged_json()).unwrap();
        let cut = &packed[..packed.len() / 2];
        assert!(unpack(cut).is_err(), "a frame cut short");
        let mut flipped = packed.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 0xff;
        assert!(unpack(&flipped).is_err(), "a flipped byte fails the checksum");
        assert!(unpack(&ZSTD_MAGIC).is_err(), "the magic alone");
        assert!(unpack(&[0xff, 0xfe, 0x00]).is_err(), "neither zstd nor UTF-8");
        assert!(parse(&unpack(b"").unwrap()).is_err(), "empty");
    }
}
