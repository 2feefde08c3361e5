//! Storage of employers, keys and job ads on SQLite or PostgreSQL.
//!
//! Both databases run the same SQL text (`$1` placeholders work in both;
//! `cast(... as text)` instead of `::text`), so each query is written once and
//! the [`read!`] and [`write_tx!`] macros expand it for each driver. Where the
//! dialects differ there are two migrations, nothing else.
//!
//! SQLite: WAL, a busy timeout, a read pool and a one-connection write pool,
//! and every write transaction starts with `BEGIN IMMEDIATE`, so a write can
//! never fail half-way with a busy snapshot. PostgreSQL: one pool; concurrent
//! edits of one ad are serialised by optimistic locking on `version`.
//!
//! Every timestamp comes from the caller's clock (`now`), never from the
//! database, so tests can move time and both databases agree.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use platsen_taxonomy::survey::Sector;
use platsen_taxonomy::{Municipality, Role};
use serde_json::{Value, json};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlSafeStr};

use crate::error::{Error, Result};
use crate::input::{DeadlineCheck, EmployerInput, EmployerPatch, JobInput, JobPatch, Patch, ValidEmployer, ValidJob};
use crate::keys;
use crate::model::{
    Actor, ApiKey, AuditEvent, BillingMode, Contact, Employer, EmploymentType, JobAd, JobStatus, Logo, NewApiKey, Page,
    RemoteMode, Salary, SalaryPeriod,
};
use crate::sanitize::{self, DescriptionFormat};
use crate::validate::{self, today_in_sweden};

#[derive(Clone)]
enum Db {
    Sqlite { read: SqlitePool, write: SqlitePool },
    Postgres(PgPool),
}

/// Connections to PostgreSQL per process: the pool's, and as many spares.
const PG_CONNECTIONS: u32 = 16;

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Db,
    /// Bumped after every committed write through this handle (and its
    /// clones), so caches in this process know when to forget.
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Notified after every committed write (wakes the search worker).
    changed: std::sync::Arc<tokio::sync::Notify>,
    /// Connections for reads of one statement (`read_one!`).
    spares: std::sync::Arc<Spares>,
}

/// The spare connections of whichever database the store has (the other
/// set stays empty).
struct Spares {
    sqlite: spare::Spares<sqlx::Sqlite>,
    postgres: spare::Spares<sqlx::Postgres>,
}

impl Spares {
    fn new(max: usize) -> std::sync::Arc<Spares> {
        std::sync::Arc::new(Spares { sqlite: spare::Spares::new(max), postgres: spare::Spares::new(max) })
    }
}

/// Runs a read on whichever pool serves reads.
macro_rules! read {
    ($self:ident, |$pool:ident| $body:expr) => {
        match &$self.db {
            Db::Sqlite { read: $pool, .. } => $body,
            Db::Postgres($pool) => $body,
        }
    };
}

/// Runs a read of one statement on a spare connection (`store/spare.rs`),
/// which skips the pool's test of the connection on its way back: `$conn`
/// is a `&mut` connection, used once.
macro_rules! read_one {
    ($self:ident, |$conn:ident| $body:expr) => {
        match &$self.db {
            Db::Sqlite { read, .. } => {
                let mut lent = $self.spares.sqlite.lend(read).await?;
                let $conn = &mut *lent;
                let out = $body;
                lent.done();
                out
            }
            Db::Postgres(pool) => {
                let mut lent = $self.spares.postgres.lend(pool).await?;
                let $conn = &mut *lent;
                let out = $body;
                lent.done();
                out
            }
        }
    };
}

/// Runs `$body` in a write transaction and commits it; an early return or `?`
/// rolls it back, so nothing is ever half-stored.
macro_rules! write_tx {
    ($self:ident, |$tx:ident| $body:expr) => {
        match &$self.db {
            Db::Sqlite { write, .. } => {
                let mut $tx = write.begin_with("BEGIN IMMEDIATE").await?;
                let out = $body;
                $tx.commit().await?;
                $self.generation.fetch_add(1, std::sync::atomic::Ordering::Release);
                $self.changed.notify_one();
                out
            }
            Db::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                $self.generation.fetch_add(1, std::sync::atomic::Ordering::Release);
                $self.changed.notify_one();
                out
            }
        }
    };
}

/// The slug of a new row of `$table`, inside the caller's transaction: the
/// one asked for if it is free (a conflict naming `slug` if not), else the
/// name made a slug (`$fallback` if nothing is left of it), numbered past
/// the ones taken.
macro_rules! allocate_slug {
    ($tx:ident, $table:literal, $wanted:expr, $name:expr, $fallback:literal, $taken:literal) => {
        match $wanted {
            Some(s) => {
                let taken: Option<i64> = sqlx::query_scalar(concat!("select id from ", $table, " where slug = $1"))
                    .bind(s.as_str())
                    .fetch_optional(&mut *$tx)
                    .await?;
                if taken.is_some() {
                    return Err(Error::Conflict { code: "slug_taken", field: Some("slug"), message: $taken.into() });
                }
                s.clone()
            }
            None => {
                let base = validate::slugify($name, $fallback);
                // Numbered from a counter per base (an indexed upsert), not
                // by reading every slug taken: creating the thousandth
                // "upphandlare-till-nacka-kommun" costs what the first did.
                // The upsert also locks the base's counter until commit, so
                // concurrent creators of one base take turns instead of
                // colliding on the unique index.
                loop {
                    let n: i64 = sqlx::query_scalar(
                        "insert into slug_counters (tbl, base, next) values ($1, $2, 1)
                         on conflict (tbl, base) do update set next = slug_counters.next + 1 returning next",
                    )
                    .bind($table)
                    .bind(base.as_str())
                    .fetch_one(&mut *$tx)
                    .await?;
                    let candidate = if n == 1 { base.clone() } else { format!("{base}-{n}") };
                    let taken: Option<i64> = sqlx::query_scalar(concat!("select id from ", $table, " where slug = $1"))
                        .bind(candidate.as_str())
                        .fetch_optional(&mut *$tx)
                        .await?;
                    if taken.is_none() {
                        break candidate;
                    }
                }
            }
        }
    };
}

/// Appends an event to an ad's audit trail inside the caller's transaction.
macro_rules! record {
    ($tx:expr, $job_id:expr, $employer_id:expr, $actor:expr, $action:expr, $detail:expr, $now:expr) => {
        sqlx::query(
            "insert into job_ad_events (job_id, employer_id, actor, action, detail, created_at)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind($job_id)
        .bind($employer_id)
        .bind($actor.label())
        .bind($action)
        .bind($detail.to_string())
        .bind($now)
        .execute($tx)
        .await
    };
}

/// Appends to the change log what the public now sees of each ad in `$ids`
/// (see `store/changes.rs`). It must come after the transaction's last write
/// to `job_ads`: on PostgreSQL it takes the log's advisory lock, held until
/// commit, which hands out log ids in commit order.
macro_rules! log_changes {
    ($self:ident, $tx:ident, $ids:expr, $now:expr) => {{
        if matches!($self.db, $crate::store::Db::Postgres(_)) {
            sqlx::query("select pg_advisory_xact_lock($1)")
                .bind($crate::store::changes::CHANGE_LOCK)
                .execute(&mut *$tx)
                .await?;
        }
        for id in $ids {
            let id: i64 = id;
            let ad = sqlx::query(concat!(job_select!(), "where j.id = $1"))
                .bind(id)
                .fetch_optional(&mut *$tx)
                .await?
                .map(|r| $crate::store::job_from_row(&r, $now))
                .transpose()?;
            let last: Option<(String, Vec<u8>)> =
                sqlx::query_as("select change, ad from job_changes where job_id = $1 order by id desc limit 1")
                    .bind(id)
                    .fetch_optional(&mut *$tx)
                    .await?;
            let last = match last {
                Some((kind, packed)) => Some((kind, $crate::store::changes::unpack(&packed)?)),
                None => None,
            };
            if let Some(c) =
                $crate::store::changes::decide(ad.as_ref(), last.as_ref().map(|(k, a)| (k.as_str(), a.as_str())))?
            {
                sqlx::query(
                    "insert into job_changes (job_id, employer_id, change, version, ad, reason, created_at)
                     values ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(id)
                .bind(c.employer_id)
                .bind(c.kind.code())
                .bind(c.version)
                .bind(c.ad)
                .bind(c.reason)
                .bind($now)
                .execute(&mut *$tx)
                .await?;
            }
        }
    }};
}

/// The columns of a job ad with its employer, for every query that reads ads.
macro_rules! job_select {
    () => {
        "select j.id, j.employer_id, e.slug as employer_slug, e.name as employer_name, e.sector as employer_sector,
                e.requires_review as employer_requires_review,
                j.slug, j.status, j.title,
                j.description, j.description_source, j.description_format, j.role, j.municipality_code, j.more_places, j.remote, j.employment_type, j.extent_percent,
                j.salary_min, j.salary_max, j.salary_period, j.vacancies, j.application_deadline, j.start_text,
                j.apply_url, j.apply_email, j.contacts, j.featured, j.published_at, j.expires_at, j.paid_until, j.closed_at,
                j.rejection_reason, j.is_demo, j.version, j.created_at, j.updated_at, j.publish_at
           from job_ads j
           join employers e on e.id = j.employer_id "
    };
}

macro_rules! employer_select {
    () => {
        "select e.id, e.slug, e.name, e.organization_number, e.website, e.logo_url, e.description, e.sector,
                e.requires_review, e.is_demo, e.created_at, e.updated_at, e.embed_origins, e.billing_mode,
                e.description_source, e.description_format, l.digest as logo_digest, l.width as logo_width,
                l.height as logo_height,
                (select count(*) from job_ads j
                  where j.employer_id = e.id and j.status = 'published' and j.expires_at > $1) as open_jobs
           from employers e
           left join employer_logos l on l.employer_id = e.id "
    };
}

/// Filters of the public job list. `None` means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    pub role: Option<Role>,
    pub municipality_code: Option<String>,
    pub county_code: Option<String>,
    pub employment_type: Option<EmploymentType>,
    pub remote: Option<RemoteMode>,
    pub employer: Option<IdOrSlug>,
    pub sort: JobSort,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum JobSort {
    #[default]
    Newest,
    Deadline,
}

/// A path segment that names a thing by its numeric id or by its slug.
/// Slugs always contain a letter, so the two never collide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdOrSlug {
    Id(i64),
    Slug(String),
}

impl IdOrSlug {
    pub fn parse(raw: &str) -> Option<Self> {
        if !raw.is_empty() && raw.len() <= 18 && raw.bytes().all(|b| b.is_ascii_digit()) {
            return raw.parse().ok().map(IdOrSlug::Id);
        }
        validate::slug("id", raw).ok().map(IdOrSlug::Slug)
    }
}

impl std::fmt::Display for IdOrSlug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdOrSlug::Id(id) => write!(f, "{id}"),
            IdOrSlug::Slug(s) => f.write_str(s),
        }
    }
}

/// A step in an ad's lifecycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lifecycle {
    Publish,
    Close,
    Archive,
    Reopen,
    Approve,
    Reject {
        reason: String,
    },
    /// An operator closes a published ad that breaks the rules, with a
    /// reason its employer sees; only an operator can reopen it.
    TakeDown {
        reason: String,
    },
}

impl Lifecycle {
    fn action(&self) -> &'static str {
        match self {
            Lifecycle::Publish => "publish",
            Lifecycle::Close => "close",
            Lifecycle::Archive => "archive",
            Lifecycle::Reopen => "reopen",
            Lifecycle::Approve => "approve",
            Lifecycle::Reject { .. } => "reject",
            Lifecycle::TakeDown { .. } => "take_down",
        }
    }
}

/// Every timestamp is stored with whole seconds.
/// A write that found the ad's version moved on (optimistic locking).
fn changed_meanwhile() -> Error {
    Error::conflict("version_mismatch", "Annonsen ändrades samtidigt av någon annan; försök igen.")
}

fn ts(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(0)
}

fn parse_url(url: &str) -> Result<(bool, String)> {
    if let Some(rest) = url.strip_prefix("postgres://").or_else(|| url.strip_prefix("postgresql://")) {
        return Ok((true, format!("postgres://{rest}")));
    }
    if url.starts_with("sqlite:") {
        return Ok((false, url.to_owned()));
    }
    if url.contains("://") {
        return Err(Error::invalid(
            "PLATSEN_DATABASE_URL",
            "unsupported_database",
            "Use sqlite:PATH, a file path, or postgres://…",
        ));
    }
    Ok((false, format!("sqlite:{url}")))
}

fn embedded_migrations(postgres: bool) -> Migrator {
    let files: &[(i64, &str, &'static str)] = if postgres {
        &[
            (1, "jobs", include_str!("../../../migrations/postgres/0001_jobs.sql")),
            (2, "search", include_str!("../../../migrations/postgres/0002_search.sql")),
            (3, "outbox visible only", include_str!("../../../migrations/postgres/0003_outbox_visible_only.sql")),
            (4, "salary", include_str!("../../../migrations/postgres/0004_salary.sql")),
            (5, "employer sector", include_str!("../../../migrations/postgres/0005_employer_sector.sql")),
            (6, "accounts", include_str!("../../../migrations/postgres/0006_accounts.sql")),
            (7, "distribution", include_str!("../../../migrations/postgres/0007_distribution.sql")),
            (8, "webhooks", include_str!("../../../migrations/postgres/0008_webhooks.sql")),
            (9, "alerts", include_str!("../../../migrations/postgres/0009_alerts.sql")),
            (10, "description source", include_str!("../../../migrations/postgres/0010_description_source.sql")),
            (11, "saved search format", include_str!("../../../migrations/postgres/0011_saved_search_format.sql")),
            (12, "products", include_str!("../../../migrations/postgres/0012_products.sql")),
            (13, "orders", include_str!("../../../migrations/postgres/0013_orders.sql")),
            (14, "billing", include_str!("../../../migrations/postgres/0014_billing.sql")),
            (15, "builtin index", include_str!("../../../migrations/postgres/0015_builtin_index.sql")),
            (16, "slug counters", include_str!("../../../migrations/postgres/0016_slug_counters.sql")),
            (17, "drop search columns", include_str!("../../../migrations/postgres/0017_drop_search_columns.sql")),
            (18, "change log packed", include_str!("../../../migrations/postgres/0018_change_log_packed.sql")),
            (19, "duties", include_str!("../../../migrations/postgres/0019_duties.sql")),
            (20, "scheduled publishing", include_str!("../../../migrations/postgres/0020_scheduled_publishing.sql")),
            (21, "per-ad daily counts", include_str!("../../../migrations/postgres/0021_ad_daily.sql")),
            (22, "employer profiles", include_str!("../../../migrations/postgres/0022_employer_profiles.sql")),
            (23, "ad places", include_str!("../../../migrations/postgres/0023_ad_places.sql")),
        ]
    } else {
        &[
            (1, "jobs", include_str!("../../../migrations/sqlite/0001_jobs.sql")),
            (2, "search", include_str!("../../../migrations/sqlite/0002_search.sql")),
            (3, "outbox visible only", include_str!("../../../migrations/sqlite/0003_outbox_visible_only.sql")),
            (4, "salary", include_str!("../../../migrations/sqlite/0004_salary.sql")),
            (5, "employer sector", include_str!("../../../migrations/sqlite/0005_employer_sector.sql")),
            (6, "accounts", include_str!("../../../migrations/sqlite/0006_accounts.sql")),
            (7, "distribution", include_str!("../../../migrations/sqlite/0007_distribution.sql")),
            (8, "webhooks", include_str!("../../../migrations/sqlite/0008_webhooks.sql")),
            (9, "alerts", include_str!("../../../migrations/sqlite/0009_alerts.sql")),
            (10, "description source", include_str!("../../../migrations/sqlite/0010_description_source.sql")),
            (11, "saved search format", include_str!("../../../migrations/sqlite/0011_saved_search_format.sql")),
            (12, "products", include_str!("../../../migrations/sqlite/0012_products.sql")),
            (13, "orders", include_str!("../../../migrations/sqlite/0013_orders.sql")),
            (14, "billing", include_str!("../../../migrations/sqlite/0014_billing.sql")),
            (15, "builtin index", include_str!("../../../migrations/sqlite/0015_builtin_index.sql")),
            (16, "slug counters", include_str!("../../../migrations/sqlite/0016_slug_counters.sql")),
            (17, "drop search columns", include_str!("../../../migrations/sqlite/0017_drop_search_columns.sql")),
            (18, "change log packed", include_str!("../../../migrations/sqlite/0018_change_log_packed.sql")),
            (19, "duties", include_str!("../../../migrations/sqlite/0019_duties.sql")),
            (20, "scheduled publishing", include_str!("../../../migrations/sqlite/0020_scheduled_publishing.sql")),
            (21, "per-ad daily counts", include_str!("../../../migrations/sqlite/0021_ad_daily.sql")),
            (22, "employer profiles", include_str!("../../../migrations/sqlite/0022_employer_profiles.sql")),
            (23, "ad places", include_str!("../../../migrations/sqlite/0023_ad_places.sql")),
        ]
    };
    Migrator::with_migrations(
        files
            .iter()
            .map(|(v, d, sql)| Migration::new(*v, (*d).into(), MigrationType::Simple, sql.into_sql_str(), false))
            .collect(),
    )
}

/// When SQLite counts a commit as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteDurability {
    /// The write-ahead log is synced to disk at every commit: an
    /// acknowledged write survives a power loss or an OS crash, not only a
    /// crash of the process. What Platsen runs with.
    Full,
    /// Synced only at checkpoints: survives a crash of the process, but the
    /// last commits may be lost on a power loss. Only for the benchmark
    /// that measures what `Full` costs.
    Normal,
}

impl Store {
    /// Connects to `url`: `postgres://…`, `sqlite:PATH` or a plain file path.
    /// A SQLite file is created if missing, and runs with
    /// [`SqliteDurability::Full`]. Does not migrate.
    pub async fn connect(url: &str) -> Result<Store> {
        Self::connect_with(url, SqliteDurability::Full).await
    }

    /// [`Store::connect`] with a SQLite durability of choice (benchmarks).
    pub async fn connect_with(url: &str, durability: SqliteDurability) -> Result<Store> {
        let (postgres, url) = parse_url(url)?;
        if postgres {
            let opts = PgConnectOptions::from_str(&url)?.application_name("platsen");
            Self::connect_postgres(opts).await
        } else {
            let synchronous = match durability {
                SqliteDurability::Full => SqliteSynchronous::Full,
                SqliteDurability::Normal => SqliteSynchronous::Normal,
            };
            let opts = SqliteConnectOptions::from_str(&url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(synchronous)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // An ad's row is 1–3 KiB: in 4 KiB pages a row just over half
                // a page left the rest empty (a new file only takes this).
                .page_size(8192)
                .pragma("temp_store", "memory")
                .pragma("cache_size", "-16000");
            // sqlx tests every connection as it goes back to the pool, which
            // drops broken ones; testing it again on the way out would cost
            // every query a second trip to the connection's thread (a network
            // round trip on PostgreSQL) for nothing.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(30))
                // SQLite rolls a transaction back by itself on some errors
                // (a full disk, SQLITE_FULL); the ROLLBACK sqlx then sends
                // fails and sqlx goes on believing a transaction is open, so
                // every later BEGIN on the one writing connection would
                // fail until a restart. The ping runs the queued rollback;
                // a connection still "in a transaction" after it is closed
                // and the next write opens a fresh one.
                .after_release(|conn, _| {
                    Box::pin(async move {
                        use sqlx::Connection as _;
                        conn.ping().await?;
                        Ok(!conn.is_in_transaction())
                    })
                })
                .connect_with(opts.clone())
                .await?;
            let readers = std::thread::available_parallelism().map_or(4, |n| n.get() * 2).clamp(2, 16) as u32;
            let read = SqlitePoolOptions::new()
                .max_connections(readers)
                .test_before_acquire(false)
                .min_connections(1)
                .connect_with(opts.read_only(true))
                .await?;
            Ok(Store {
                db: Db::Sqlite { read, write },
                generation: Default::default(),
                changed: Default::default(),
                spares: Spares::new(readers as usize),
            })
        }
    }

    /// Connects to PostgreSQL with options the caller built (tests use this
    /// to give each test its own schema).
    pub async fn connect_postgres(opts: PgConnectOptions) -> Result<Store> {
        // No test on acquiring: see `connect_with`. A connection broken since
        // its last use (a database restart) fails that one query, which
        // answers 503, and is dropped when it goes back.
        let pool = PgPoolOptions::new()
            .max_connections(PG_CONNECTIONS)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(Store {
            db: Db::Postgres(pool),
            generation: Default::default(),
            changed: Default::default(),
            spares: Spares::new(PG_CONNECTIONS as usize),
        })
    }

    /// Notified after every committed write through this store.
    pub fn changes(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.changed.clone()
    }

    /// Changes whenever a write through this store commits.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn is_postgres(&self) -> bool {
        matches!(self.db, Db::Postgres(_))
    }

    pub fn backend(&self) -> &'static str {
        match self.db {
            Db::Sqlite { .. } => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Applies the migrations this binary ships, for its database.
    pub async fn migrate(&self) -> Result<()> {
        match &self.db {
            Db::Sqlite { write, .. } => embedded_migrations(false).run(write).await?,
            Db::Postgres(pool) => embedded_migrations(true).run(pool).await?,
        }
        self.backfill_name_sort().await?;
        self.backfill_changes().await?;
        Ok(())
    }

    /// Applies the migrations up to `version` and no further, without the
    /// backfills: a database as an earlier version of Platsen left it (for
    /// the tests that upgrade one).
    pub async fn migrate_to(&self, version: i64) -> Result<()> {
        match &self.db {
            Db::Sqlite { write, .. } => embedded_migrations(false).run_to(version, write).await?,
            Db::Postgres(pool) => embedded_migrations(true).run_to(version, pool).await?,
        }
        Ok(())
    }

    /// Fills the name sort keys of employers stored before they existed.
    async fn backfill_name_sort(&self) -> Result<()> {
        let rows: Vec<(i64, String)> = read!(self, |pool| {
            sqlx::query_as("select id, name from employers where name_sort = '' order by id").fetch_all(pool).await?
        });
        for chunk in rows.chunks(500) {
            write_tx!(self, |tx| {
                for (id, name) in chunk {
                    sqlx::query("update employers set name_sort = $2 where id = $1")
                        .bind(*id)
                        .bind(platsen_taxonomy::swedish_sort_key(name))
                        .execute(&mut *tx)
                        .await?;
                }
            });
        }
        Ok(())
    }

    /// Forgets pending search-index changes. Without a search engine to keep
    /// in step (the database answers searches itself), nothing consumes the
    /// outbox; an engine connected later starts with a full reindex.
    pub async fn discard_search_outbox(&self) -> Result<u64> {
        let n =
            write_tx!(self, |tx| { sqlx::query("delete from search_outbox").execute(&mut *tx).await?.rows_affected() });
        Ok(n)
    }

    /// Copies an SQLite database, consistently, into a new file at `target`
    /// while the server may be writing: `VACUUM INTO` reads one snapshot
    /// (in WAL mode writers go on meanwhile) and writes a compact copy. The
    /// copy is made under a temporary name beside `target`, checked with
    /// `quick_check`, synced and then renamed, so `target` is either absent
    /// or a whole, checked database. Returns how many job ads it holds.
    ///
    /// PostgreSQL is backed up with its own tools (`pg_dump`); asked for
    /// here, the answer says so.
    pub async fn backup_into(&self, target: &std::path::Path) -> Result<i64> {
        use sqlx::{ConnectOptions as _, Connection as _};
        let Db::Sqlite { write, .. } = &self.db else {
            return Err(Error::invalid(
                "database",
                "postgres",
                "PostgreSQL säkerhetskopieras med pg_dump (se docs/DEPLOYMENT.md).",
            ));
        };
        if target.exists() {
            return Err(Error::invalid("file", "exists", format!("{} finns redan.", target.display())));
        }
        let name = target
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::invalid("file", "invalid", format!("{} är inget filnamn.", target.display())))?;
        let partial = target.with_file_name(format!(".{name}.partial-{:x}", rand::random::<u32>()));
        let copied = async {
            // A connection of its own: the readers' are read-only (the copy
            // is a file to write) and the writer's would hold writes back.
            let mut conn = (*write.connect_options()).clone().connect().await?;
            let out = async {
                sqlx::query("vacuum into ?").bind(partial.to_string_lossy().as_ref()).execute(&mut conn).await?;
                Ok::<_, Error>(())
            }
            .await;
            let _ = conn.close().await;
            out?;
            let copy = SqliteConnectOptions::new().filename(&partial).read_only(true);
            let mut conn = copy.connect().await?;
            let checked: String = sqlx::query_scalar("pragma quick_check").fetch_one(&mut conn).await?;
            let ads: i64 = sqlx::query_scalar("select count(*) from job_ads").fetch_one(&mut conn).await?;
            let _ = conn.close().await;
            if checked != "ok" {
                return Err(Error::invalid("file", "corrupt", format!("Kopian klarade inte kontrollen: {checked}")));
            }
            Ok(ads)
        }
        .await;
        let finished = copied.and_then(|ads| {
            let io = |e: std::io::Error| Error::invalid("file", "io", format!("{}: {e}", target.display()));
            std::fs::File::open(&partial).and_then(|f| f.sync_all()).map_err(io)?;
            // A hard link fails if `target` appeared meanwhile, where a
            // rename would replace it.
            std::fs::hard_link(&partial, target).map_err(io)?;
            if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
            }
            Ok(ads)
        });
        let _ = std::fs::remove_file(&partial);
        finished
    }

    /// Each connection pool's name, size and idle connections (the spares
    /// of `read_one!` are counted with their pool), for the metrics.
    pub fn pool_stats(&self) -> Vec<(&'static str, u32, u32)> {
        match &self.db {
            Db::Sqlite { read, write } => {
                let (open, idle) = self.spares.sqlite.stats();
                vec![
                    ("read", read.size() + open, read.num_idle() as u32 + idle),
                    ("write", write.size(), write.num_idle() as u32),
                ]
            }
            Db::Postgres(pool) => {
                let (open, idle) = self.spares.postgres.stats();
                vec![("postgres", pool.size() + open, pool.num_idle() as u32 + idle)]
            }
        }
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        read!(self, |pool| sqlx::query("select 1").execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// How the database makes a commit durable: SQLite's `synchronous` of
    /// the connection that writes (`full` or `normal`), or `postgres`
    /// (durable once acknowledged, with PostgreSQL's defaults).
    pub async fn durability(&self) -> Result<&'static str> {
        match &self.db {
            Db::Sqlite { write, .. } => {
                let level: i64 = sqlx::query_scalar("pragma synchronous").fetch_one(write).await?;
                Ok(match level {
                    0 => "off",
                    1 => "normal",
                    2 => "full",
                    _ => "extra",
                })
            }
            Db::Postgres(pool) => {
                let on: String = sqlx::query_scalar("show synchronous_commit").fetch_one(pool).await?;
                Ok(if on == "off" { "postgres, synchronous_commit off" } else { "postgres" })
            }
        }
    }

    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite { read, write } => {
                self.spares.sqlite.close().await;
                read.close().await;
                write.close().await;
            }
            Db::Postgres(pool) => {
                self.spares.postgres.close().await;
                pool.close().await
            }
        }
    }

    // ----- employers -------------------------------------------------------

    /// Creates an employer. The organisation number and slug must be free.
    pub async fn create_employer(&self, input: EmployerInput, is_demo: bool, now: DateTime<Utc>) -> Result<Employer> {
        let e: ValidEmployer = input.validate()?;
        let now = ts(now);
        let id: i64 = write_tx!(self, |tx| {
            let taken: Option<i64> = sqlx::query_scalar("select id from employers where organization_number = $1")
                .bind(e.organization_number.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            if taken.is_some() {
                return Err(Error::Conflict {
                    code: "organization_number_taken",
                    field: Some("organization_number"),
                    message: "Det finns redan en arbetsgivare med det organisationsnumret.".into(),
                });
            }
            let slug = allocate_slug!(tx, "employers", &e.slug, &e.name, "arbetsgivare", "Adressnamnet används redan.");
            sqlx::query_scalar(
                "insert into employers (slug, name, organization_number, website, logo_url, description,
                                        requires_review, is_demo, created_at, updated_at, sector, name_sort,
                                        billing_mode, description_source, description_format)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13, $14) returning id",
            )
            .bind(slug)
            .bind(e.name.as_str())
            .bind(e.organization_number.as_str())
            .bind(e.website.as_deref())
            .bind(e.logo_url.as_deref())
            .bind(e.description.as_deref())
            .bind(e.requires_review)
            .bind(is_demo)
            .bind(now)
            .bind(e.sector.map(Sector::code))
            .bind(platsen_taxonomy::swedish_sort_key(&e.name))
            .bind(e.billing_mode.code())
            .bind(e.description_source.as_deref())
            .bind(e.description_format.code())
            .fetch_one(&mut *tx)
            .await
            .map_err(unique_conflict("slug"))?
        });
        tracing::info!(employer_id = id, "employer created");
        self.employer(&IdOrSlug::Id(id), now).await
    }

    /// Changes an employer. A new name reaches its ads' search documents
    /// through the rename trigger.
    pub async fn update_employer(&self, id: i64, patch: EmployerPatch, now: DateTime<Utc>) -> Result<Employer> {
        let now = ts(now);
        let current = self.employer(&IdOrSlug::Id(id), now).await?;
        let next = patch.apply_to(&current).validate()?;
        write_tx!(self, |tx| {
            sqlx::query(
                "update employers set name = $2, website = $3, logo_url = $4, description = $5, requires_review = $6,
                        updated_at = $7, sector = $8, name_sort = $9, billing_mode = $10,
                        description_source = $11, description_format = $12
                  where id = $1",
            )
            .bind(id)
            .bind(next.name.as_str())
            .bind(next.website.as_deref())
            .bind(next.logo_url.as_deref())
            .bind(next.description.as_deref())
            .bind(next.requires_review)
            .bind(now)
            .bind(next.sector.map(Sector::code))
            .bind(platsen_taxonomy::swedish_sort_key(&next.name))
            .bind(next.billing_mode.code())
            .bind(next.description_source.as_deref())
            .bind(next.description_format.code())
            .execute(&mut *tx)
            .await?;
            // A new name changes what the employer's visible ads show.
            let visible: Vec<i64> = sqlx::query_scalar(
                "select id from job_ads where employer_id = $1 and status = 'published' order by id",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            log_changes!(self, tx, visible, now);
        });
        tracing::info!(employer_id = id, "employer updated");
        self.employer(&IdOrSlug::Id(id), now).await
    }

    /// Changes an employer's own profile as `actor`: its users and keys
    /// change only their own employer's description, website and sector
    /// (the operator's fields — name, review, billing — stay the operator's);
    /// operators change anything [`Store::update_employer`] does.
    pub async fn update_employer_as(
        &self,
        actor: Actor,
        id: i64,
        patch: EmployerPatch,
        now: DateTime<Utc>,
    ) -> Result<Employer> {
        if let Some(own) = actor.employer_id() {
            if own != id {
                return Err(Error::Forbidden("an employer changes only its own profile"));
            }
            if patch.name != Patch::Absent
                || patch.requires_review != Patch::Absent
                || patch.billing_mode != Patch::Absent
                || patch.logo_url != Patch::Absent
            {
                return Err(Error::Forbidden("name, review and billing are the operator's to change"));
            }
        }
        self.update_employer(id, patch, now).await
    }

    /// Sets the origins allowed to embed the employer's ads (empty: any).
    /// An employer changes only its own list.
    pub async fn set_embed_origins(
        &self,
        actor: Actor,
        employer_id: i64,
        origins: &[String],
        now: DateTime<Utc>,
    ) -> Result<Employer> {
        if actor.employer_id().is_some_and(|own| own != employer_id) {
            return Err(Error::Forbidden("an employer changes only its own embed origins"));
        }
        let origins = validate::origins("embed_origins", origins).map_err(|e| Error::Invalid(vec![e]))?;
        let now = ts(now);
        let done = write_tx!(self, |tx| {
            sqlx::query("update employers set embed_origins = $2, updated_at = $3 where id = $1")
                .bind(employer_id)
                .bind(origins.join("\n"))
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        });
        if done == 0 {
            return Err(Error::NotFound);
        }
        tracing::info!(employer_id, origins = origins.len(), actor = %actor.label(), "embed origins set");
        self.employer(&IdOrSlug::Id(employer_id), now).await
    }

    /// One employer, with its count of open ads.
    pub async fn employer(&self, key: &IdOrSlug, now: DateTime<Utc>) -> Result<Employer> {
        macro_rules! by {
            ($column:literal, $value:expr) => {
                read_one!(self, |conn| {
                    sqlx::query(concat!(employer_select!(), "where e.", $column, " = $2"))
                        .bind(ts(now))
                        .bind($value)
                        .fetch_optional(conn)
                        .await?
                        .map(|r| employer_from_row(&r))
                        .transpose()?
                })
            };
        }
        let row = match key {
            IdOrSlug::Id(id) => by!("id", *id),
            IdOrSlug::Slug(slug) => by!("slug", slug.as_str()),
        };
        row.ok_or(Error::NotFound)
    }

    /// Employers by name, with their counts of open ads.
    pub async fn employers(&self, page: u32, per_page: u32, now: DateTime<Utc>) -> Result<Page<Employer>> {
        let offset = i64::from(page.saturating_sub(1)) * i64::from(per_page);
        let (items, total) = read!(self, |pool| {
            let items = sqlx::query(concat!(employer_select!(), "order by e.name_sort, e.id limit $2 offset $3"))
                .bind(ts(now))
                .bind(i64::from(per_page))
                .bind(offset)
                .fetch_all(pool)
                .await?
                .iter()
                .map(employer_from_row)
                .collect::<Result<Vec<_>>>()?;
            let total: i64 = sqlx::query_scalar("select count(*) from employers").fetch_one(pool).await?;
            (items, total)
        });
        Ok(Page { items, total, page, per_page })
    }

    // ----- API keys --------------------------------------------------------

    /// Issues a key for an employer. The secret is in the result and nowhere else.
    pub async fn create_key(&self, employer_id: i64, label: Option<&str>, now: DateTime<Utc>) -> Result<NewApiKey> {
        let label = match label.map(str::trim).filter(|l| !l.is_empty()) {
            Some(l) => validate::line("label", l, 1, 100).map_err(|e| Error::Invalid(vec![e]))?,
            None => "API-nyckel".to_owned(),
        };
        let generated = keys::generate();
        let now = ts(now);
        let id: i64 = write_tx!(self, |tx| {
            let exists: Option<i64> = sqlx::query_scalar("select id from employers where id = $1")
                .bind(employer_id)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                return Err(Error::NotFound);
            }
            sqlx::query_scalar(
                "insert into api_keys (employer_id, prefix, secret_hash, label, created_at)
                 values ($1, $2, $3, $4, $5) returning id",
            )
            .bind(employer_id)
            .bind(generated.prefix.as_str())
            .bind(generated.hash.as_str())
            .bind(label.as_str())
            .bind(now)
            .fetch_one(&mut *tx)
            .await?
        });
        tracing::info!(employer_id, key_id = id, prefix = %generated.prefix, "api key issued");
        Ok(NewApiKey {
            key: ApiKey {
                id,
                employer_id,
                prefix: generated.prefix,
                label,
                created_at: now,
                last_used_at: None,
                revoked_at: None,
            },
            secret: generated.secret,
        })
    }

    /// Keys, optionally of one employer and/or starting with a prefix.
    pub async fn keys(&self, employer_id: Option<i64>, prefix: Option<&str>) -> Result<Vec<ApiKey>> {
        // A prefix is matched literally: LIKE wildcards in it are not wildcards.
        let pattern = prefix.map(|p| format!("{}%", p.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
        read!(self, |pool| {
            sqlx::query(
                "select id, employer_id, prefix, label, created_at, last_used_at, revoked_at
                   from api_keys
                  where ($1 is null or employer_id = $1)
                    and ($2 is null or prefix like $2 escape '\\')
                  order by id",
            )
            .bind(employer_id)
            .bind(pattern)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
                Ok(ApiKey {
                    id: r.try_get("id")?,
                    employer_id: r.try_get("employer_id")?,
                    prefix: r.try_get("prefix")?,
                    label: r.try_get("label")?,
                    created_at: r.try_get("created_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                })
            })
            .collect()
        })
    }

    /// Revokes a key; revoking a revoked key changes nothing.
    pub async fn revoke_key(&self, key_id: i64, now: DateTime<Utc>) -> Result<()> {
        let found = write_tx!(self, |tx| {
            sqlx::query("update api_keys set revoked_at = coalesce(revoked_at, $2) where id = $1")
                .bind(key_id)
                .bind(ts(now))
                .execute(&mut *tx)
                .await?
                .rows_affected()
        });
        if found == 0 {
            return Err(Error::NotFound);
        }
        tracing::info!(key_id, "api key revoked");
        Ok(())
    }

    /// The employer and key behind a presented key, if it is valid and not revoked.
    pub async fn authenticate(&self, presented: &str, now: DateTime<Utc>) -> Result<Option<(i64, i64)>> {
        let Some(prefix) = keys::prefix_of(presented) else { return Ok(None) };
        type KeyRow = (i64, i64, String, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
        let row: Option<KeyRow> = read!(self, |pool| {
            sqlx::query_as(
                "select id, employer_id, secret_hash, revoked_at, last_used_at from api_keys where prefix = $1",
            )
            .bind(prefix)
            .fetch_optional(pool)
            .await?
        });
        let Some((key_id, employer_id, hash, revoked, last)) = row else { return Ok(None) };
        if revoked.is_some() || !keys::matches(presented, &hash) {
            return Ok(None);
        }
        // Record use at most every five minutes: a write per request would
        // serialise all API traffic on SQLite's single writer.
        if last.is_none_or(|t| now - t > chrono::Duration::minutes(5)) {
            write_tx!(self, |tx| {
                sqlx::query("update api_keys set last_used_at = $2 where id = $1")
                    .bind(key_id)
                    .bind(ts(now))
                    .execute(&mut *tx)
                    .await?;
            });
        }
        Ok(Some((employer_id, key_id)))
    }

    // ----- reading ads -----------------------------------------------------

    /// A published, unexpired ad by id or slug, for anyone.
    pub async fn public_job(&self, key: &IdOrSlug, now: DateTime<Utc>) -> Result<JobAd> {
        // One static query per key kind, so each is a primary-key or unique
        // index lookup (an `$1 is null or …` pattern would scan the table).
        // The key alone, and whether the ad is public checked here, for the
        // reason `indexable_ads` gives.
        macro_rules! by {
            ($column:literal, $value:expr) => {
                read_one!(self, |conn| {
                    sqlx::query(concat!(job_select!(), "where j.", $column, " = $1"))
                        .bind($value)
                        .fetch_optional(conn)
                        .await?
                        .map(|r| job_from_row(&r, now))
                        .transpose()?
                })
            };
        }
        let row = match key {
            IdOrSlug::Id(id) => by!("id", *id),
            IdOrSlug::Slug(slug) => by!("slug", slug.as_str()),
        };
        row.filter(JobAd::is_public).ok_or(Error::NotFound)
    }

    /// The ad with this slug if it was public once and is not any more
    /// (closed, expired or archived): its page answers 410 Gone, with what
    /// the ad was and similar open ads.
    pub async fn gone_job(&self, slug: &str, now: DateTime<Utc>) -> Result<Option<JobAd>> {
        let row = read!(self, |pool| {
            sqlx::query(concat!(
                job_select!(),
                "where j.slug = $1
                   and (j.status in ('closed', 'expired', 'archived') or (j.status = 'published' and j.expires_at <= $2))"
            ))
            .bind(slug)
            .bind(ts(now))
            .fetch_optional(pool)
            .await?
            .map(|r| job_from_row(&r, now))
            .transpose()?
        });
        Ok(row)
    }

    /// Every open ad's slug, its employer's slug and when it last changed,
    /// newest first (for the sitemap; at most 50,000, the sitemap limit).
    pub async fn open_job_slugs(&self, now: DateTime<Utc>) -> Result<Vec<(String, String, DateTime<Utc>)>> {
        let rows = read!(self, |pool| {
            sqlx::query(
                "select j.slug, e.slug as employer_slug, j.updated_at
                   from job_ads j join employers e on e.id = j.employer_id
                  where j.status = 'published' and j.expires_at > $1
                  order by j.published_at desc, j.id desc
                  limit 50000",
            )
            .bind(ts(now))
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| -> Result<(String, String, DateTime<Utc>)> {
                Ok((r.try_get("slug")?, r.try_get("employer_slug")?, r.try_get("updated_at")?))
            })
            .collect::<Result<Vec<_>>>()?
        });
        Ok(rows)
    }

    /// Open featured ads for the start page's "Utvalda jobb", the newest first.
    pub async fn featured_jobs(&self, limit: i64, now: DateTime<Utc>) -> Result<Vec<JobAd>> {
        let now = ts(now);
        Ok(read!(self, |pool| {
            sqlx::query(concat!(
                job_select!(),
                "where j.status = 'published' and j.expires_at > $1 and j.featured
                 order by j.published_at desc, j.id desc limit $2"
            ))
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| job_from_row(r, now))
            .collect::<Result<Vec<_>>>()?
        }))
    }

    /// An ad as its owner (or an operator) sees it, in any status.
    ///
    /// Another employer gets `NotFound` for an ad the public cannot see and
    /// `Forbidden` for one it can.
    pub async fn job_for(&self, actor: Actor, id: i64, now: DateTime<Utc>) -> Result<JobAd> {
        let row = read!(self, |pool| {
            sqlx::query(concat!(job_select!(), "where j.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .map(|r| job_from_row(&r, now))
                .transpose()?
        });
        let ad = row.ok_or(Error::NotFound)?;
        authorize(actor, &ad)?;
        Ok(ad)
    }

    /// An employer's own ads in every status, newest first.
    pub async fn employer_jobs(
        &self,
        employer_id: i64,
        status: Option<JobStatus>,
        page: u32,
        per_page: u32,
        now: DateTime<Utc>,
    ) -> Result<Page<JobAd>> {
        let offset = i64::from(page.saturating_sub(1)) * i64::from(per_page);
        // The effective status: a published ad past its expiry is expired.
        macro_rules! own {
            ($head:expr, $tail:expr) => {
                concat!(
                    $head,
                    "where j.employer_id = $1
                       and ($2 is null or (case when j.status = 'published' and j.expires_at <= $3
                                                then 'expired' else j.status end) = $2) ",
                    $tail
                )
            };
        }
        let (rows, total) = read!(self, |pool| {
            let rows = sqlx::query(own!(job_select!(), "order by j.updated_at desc, j.id desc limit $4 offset $5"))
                .bind(employer_id)
                .bind(status.map(JobStatus::code))
                .bind(ts(now))
                .bind(i64::from(per_page))
                .bind(offset)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|r| job_from_row(r, now))
                .collect::<Result<Vec<_>>>()?;
            let total: i64 = sqlx::query_scalar(own!("select count(*) from job_ads j ", ""))
                .bind(employer_id)
                .bind(status.map(JobStatus::code))
                .bind(ts(now))
                .fetch_one(pool)
                .await?;
            (rows, total)
        });
        Ok(Page { items: rows, total, page, per_page })
    }

    /// Every ad in any status, for an operator: by status (as of `now`),
    /// employer, and the words of its title or its id (`q`); the most
    /// recently changed first.
    pub async fn all_jobs(
        &self,
        status: Option<JobStatus>,
        employer_id: Option<i64>,
        q: Option<&str>,
        page: u32,
        per_page: u32,
        now: DateTime<Utc>,
    ) -> Result<Page<JobAd>> {
        let offset = i64::from(page.saturating_sub(1)) * i64::from(per_page);
        let q = q.map(str::trim).filter(|q| !q.is_empty());
        let id: Option<i64> = q.and_then(|q| q.parse().ok());
        // Only letters and digits reach the pattern: no LIKE wildcard of the caller's.
        let pattern: Option<String> = match (q, id) {
            (Some(q), None) => {
                let words = crate::search::terms(q);
                (!words.is_empty()).then(|| format!("%{}%", words.join("%")))
            }
            _ => None,
        };
        macro_rules! all {
            ($head:expr, $tail:expr) => {
                concat!(
                    $head,
                    "where ($1 is null or (case when j.status = 'published' and j.expires_at <= $2
                                                then 'expired' else j.status end) = $1)
                       and ($3 is null or j.employer_id = $3)
                       and ($4 is null or j.id = $4)
                       and ($5 is null or lower(j.title) like $5) ",
                    $tail
                )
            };
        }
        let (rows, total) = read!(self, |pool| {
            let rows = sqlx::query(all!(job_select!(), "order by j.updated_at desc, j.id desc limit $6 offset $7"))
                .bind(status.map(JobStatus::code))
                .bind(ts(now))
                .bind(employer_id)
                .bind(id)
                .bind(pattern.as_deref())
                .bind(i64::from(per_page))
                .bind(offset)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|r| job_from_row(r, now))
                .collect::<Result<Vec<_>>>()?;
            let total: i64 = sqlx::query_scalar(all!("select count(*) from job_ads j ", ""))
                .bind(status.map(JobStatus::code))
                .bind(ts(now))
                .bind(employer_id)
                .bind(id)
                .bind(pattern.as_deref())
                .fetch_one(pool)
                .await?;
            (rows, total)
        });
        Ok(Page { items: rows, total, page, per_page })
    }

    /// Ads waiting for review, oldest first (the moderation queue).
    pub async fn pending_review(&self, now: DateTime<Utc>) -> Result<Vec<JobAd>> {
        read!(self, |pool| {
            sqlx::query(concat!(
                job_select!(),
                "where j.status = 'pending_review' order by j.updated_at, j.id limit 500"
            ))
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| job_from_row(r, now))
            .collect()
        })
    }

    /// The audit trail of an ad, oldest first.
    pub async fn job_events(&self, actor: Actor, id: i64, now: DateTime<Utc>) -> Result<Vec<AuditEvent>> {
        // Deleted drafts keep their trail; only operators can read those.
        match self.job_for(actor, id, now).await {
            Ok(_) => {}
            Err(Error::NotFound) if actor.is_operator() => {}
            Err(e) => return Err(e),
        }
        type EventRow = (i64, i64, String, String, String, DateTime<Utc>);
        let rows: Vec<EventRow> = read!(self, |pool| {
            sqlx::query_as(
                "select id, job_id, actor, action, detail, created_at from job_ad_events where job_id = $1 order by id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        if rows.is_empty() {
            return Err(Error::NotFound);
        }
        Ok(rows
            .into_iter()
            .map(|(id, job_id, actor, action, detail, created_at)| AuditEvent {
                id,
                job_id,
                actor,
                action,
                detail: serde_json::from_str(&detail).unwrap_or(Value::Null),
                created_at,
            })
            .collect())
    }

    // ----- changing ads ----------------------------------------------------

    /// Creates a draft ad for `employer_id`.
    pub async fn create_job(
        &self,
        actor: Actor,
        employer_id: i64,
        input: JobInput,
        now: DateTime<Utc>,
    ) -> Result<JobAd> {
        self.insert_job(actor, employer_id, input, None, now).await
    }

    /// A new draft with everything an ad says (not its address, featuring,
    /// schedule or history), for its employer to edit and publish again: a
    /// closed or expired ad reposted, or a template for a similar one. A
    /// last application day that has passed becomes 30 days from today.
    pub async fn copy_job(&self, actor: Actor, id: i64, now: DateTime<Utc>) -> Result<JobAd> {
        let ad = self.job_for(actor, id, now).await?;
        let mut input = JobPatch::default().apply_to(&ad);
        input.slug = None;
        input.featured = None;
        input.expires_at = None;
        let today = today_in_sweden(now);
        if ad.application_deadline < today {
            input.application_deadline = Some(today + chrono::Duration::days(30));
        }
        self.insert_job(actor, ad.employer_id, input, Some(ad.id), now).await
    }

    async fn insert_job(
        &self,
        actor: Actor,
        employer_id: i64,
        input: JobInput,
        copied_from: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<JobAd> {
        if let Some(own) = actor.employer_id()
            && own != employer_id
        {
            return Err(Error::Forbidden("an employer key creates ads only for its own employer"));
        }
        if input.featured == Some(true) && !actor.is_operator() {
            return Err(forbidden_featured());
        }
        let job = input.validate(today_in_sweden(now), DeadlineCheck::MustNotBePast)?;
        let now = ts(now);
        let id: i64 = write_tx!(self, |tx| {
            let employer: Option<bool> = sqlx::query_scalar("select is_demo from employers where id = $1")
                .bind(employer_id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(is_demo) = employer else { return Err(Error::NotFound) };
            let slug = allocate_slug!(
                tx,
                "job_ads",
                &job.slug,
                &job.title,
                "annons",
                "Adressnamnet används redan av en annan annons."
            );
            let contacts = serde_json::to_string(&job.contacts).expect("contacts serialize");
            let id: i64 = sqlx::query_scalar(
                "insert into job_ads (employer_id, slug, status, title, description, role, municipality_code,
                     county_code, remote, employment_type, extent_percent, salary_min, salary_max, salary_period,
                     vacancies, application_deadline, start_text, apply_url, apply_email, contacts, featured,
                     expires_at, is_demo, version, created_at, updated_at, description_source, description_format,
                     more_places)
                 values ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                         $19, $20, $21, $22, 1, $23, $23, $24, $25, $26)
                 returning id",
            )
            .bind(employer_id)
            .bind(slug)
            .bind(job.title.as_str())
            .bind(job.description.as_str())
            .bind(job.role.code())
            .bind(job.municipality.code)
            .bind(job.municipality.county.code)
            .bind(job.remote.code())
            .bind(job.employment_type.code())
            .bind(job.extent_percent)
            .bind(job.salary.and_then(|s| s.min))
            .bind(job.salary.and_then(|s| s.max))
            .bind(job.salary.map(|s| s.period.code()))
            .bind(job.vacancies)
            .bind(job.application_deadline)
            .bind(job.start_text.as_deref())
            .bind(job.apply_url.as_deref())
            .bind(job.apply_email.as_deref())
            .bind(contacts)
            .bind(job.featured)
            .bind(ts(job.expires_at))
            .bind(is_demo)
            .bind(now)
            .bind(sanitize::source_to_store(&job.description_source, job.description_format, &job.description))
            .bind(job.description_format.code())
            .bind(places_column(&job.more_places))
            .fetch_one(&mut *tx)
            .await
            .map_err(unique_conflict("slug"))?;
            let detail = match copied_from {
                Some(from) => json!({ "title": job.title, "copied_from": from }),
                None => json!({ "title": job.title }),
            };
            record!(&mut *tx, id, employer_id, actor, "created", detail, now)?;
            id
        });
        tracing::info!(job_id = id, employer_id, actor = %actor.label(), "job ad created");
        self.job_for(actor, id, now).await
    }

    /// Applies a partial update. With `expected_version`, refuses to apply it
    /// on top of a change the client has not seen.
    pub async fn update_job(
        &self,
        actor: Actor,
        id: i64,
        patch: JobPatch,
        expected_version: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<JobAd> {
        let now = ts(now);
        let current = self.job_for(actor, id, now).await?;
        if current.status == JobStatus::Archived {
            return Err(Error::conflict("invalid_transition", "En arkiverad annons kan inte ändras."));
        }
        if let Some(v) = expected_version
            && v != current.version
        {
            return Err(Error::conflict("version_mismatch", "Annonsen har ändrats sedan du läste den."));
        }
        // Only operators feature ads; an employer may send the current value
        // back unchanged (clients that PATCH whole objects do).
        if !actor.is_operator() && patch.featured != Patch::Absent && patch.featured != Patch::Set(current.featured) {
            return Err(forbidden_featured());
        }
        let deadline_changed =
            matches!(&patch.application_deadline, Patch::Set(d) if *d != current.application_deadline);
        let check = if deadline_changed { DeadlineCheck::MustNotBePast } else { DeadlineCheck::Unchanged };
        let mut next = patch.apply_to(&current).validate(today_in_sweden(now), check)?;
        next.expires_at = ts(next.expires_at);
        // A paid ad runs no longer than its credit paid for.
        if let Some(paid) = current.paid_until.filter(|p| *p > now) {
            next.expires_at = next.expires_at.min(paid);
        }
        let mut changes = diff(&current, &next);
        if changes.as_object().is_some_and(serde_json::Map::is_empty) {
            return Ok(current);
        }
        // An employer whose ads are reviewed cannot change a live ad past the
        // reviewer: the changed ad goes back to the queue.
        let back_to_review = current.status == JobStatus::Published
            && !actor.is_operator()
            && read!(self, |pool| {
                sqlx::query_scalar::<_, bool>("select requires_review from employers where id = $1")
                    .bind(current.employer_id)
                    .fetch_one(pool)
                    .await?
            });
        if back_to_review {
            changes["status"] = json!({ "from": "published", "to": "pending_review" });
        }
        let contacts = serde_json::to_string(&next.contacts).expect("contacts serialize");
        write_tx!(self, |tx| {
            // A published ad already past its expiry is expired: write that
            // down first, as the sweeper would (an edit does not bring the ad
            // back; reopening does).
            let mut version = current.version;
            let expired = sqlx::query(
                "update job_ads set status = 'expired', version = version + 1, updated_at = $3
                  where id = $1 and version = $2 and status = 'published' and expires_at <= $3",
            )
            .bind(id)
            .bind(version)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if expired == 1 {
                let detail = json!({ "from": "published", "to": "expired" });
                record!(&mut *tx, id, current.employer_id, Actor::System, "expire", detail, now)?;
                version += 1;
            }
            let done = sqlx::query(
                "update job_ads set title = $3, description = $4, role = $5, municipality_code = $6, county_code = $7,
                        remote = $8, employment_type = $9, extent_percent = $10, salary_min = $11, salary_max = $12,
                        salary_period = $13, vacancies = $14, application_deadline = $15, start_text = $16,
                        apply_url = $17, apply_email = $18, contacts = $19, featured = $20, expires_at = $21,
                        description_source = $24, description_format = $25, more_places = $26,
                        status = case when $23 and status = 'published' then 'pending_review' else status end,
                        version = version + 1, updated_at = $22
                  where id = $1 and version = $2",
            )
            .bind(id)
            .bind(version)
            .bind(next.title.as_str())
            .bind(next.description.as_str())
            .bind(next.role.code())
            .bind(next.municipality.code)
            .bind(next.municipality.county.code)
            .bind(next.remote.code())
            .bind(next.employment_type.code())
            .bind(next.extent_percent)
            .bind(next.salary.and_then(|s| s.min))
            .bind(next.salary.and_then(|s| s.max))
            .bind(next.salary.map(|s| s.period.code()))
            .bind(next.vacancies)
            .bind(next.application_deadline)
            .bind(next.start_text.as_deref())
            .bind(next.apply_url.as_deref())
            .bind(next.apply_email.as_deref())
            .bind(contacts)
            .bind(next.featured)
            .bind(next.expires_at)
            .bind(now)
            .bind(back_to_review)
            .bind(sanitize::source_to_store(&next.description_source, next.description_format, &next.description))
            .bind(next.description_format.code())
            .bind(places_column(&next.more_places))
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(changed_meanwhile());
            }
            record!(&mut *tx, id, current.employer_id, actor, "updated", changes, now)?;
            log_changes!(self, tx, [id], now);
        });
        tracing::info!(job_id = id, actor = %actor.label(), "job ad updated");
        self.job_for(actor, id, now).await
    }

    /// Moves an ad through its lifecycle.
    pub async fn transition(&self, actor: Actor, id: i64, step: Lifecycle, now: DateTime<Utc>) -> Result<JobAd> {
        let now = ts(now);
        let ad = self.job_for(actor, id, now).await?;
        if matches!(step, Lifecycle::Approve | Lifecycle::Reject { .. } | Lifecycle::TakeDown { .. })
            && !actor.is_operator()
        {
            return Err(Error::Forbidden("only an administrator reviews ads"));
        }
        use JobStatus as S;
        // An ad the operator took down stays down unless the operator says otherwise.
        if matches!(step, Lifecycle::Reopen)
            && ad.status == S::Closed
            && ad.rejection_reason.is_some()
            && !actor.is_operator()
        {
            return Err(Error::conflict(
                "taken_down",
                "Annonsen är stängd av Platsen och kan inte öppnas igen här; kontakta oss.",
            ));
        }
        let going_live = matches!(
            (&step, ad.status),
            (Lifecycle::Publish, S::Draft)
                | (Lifecycle::Reopen, S::Closed | S::Expired)
                | (Lifecycle::Approve, S::PendingReview)
        );
        let target = match (&step, ad.status) {
            (Lifecycle::Publish, S::Draft) | (Lifecycle::Reopen, S::Closed | S::Expired) => {
                let requires_review: bool = read!(self, |pool| {
                    sqlx::query_scalar("select requires_review from employers where id = $1")
                        .bind(ad.employer_id)
                        .fetch_one(pool)
                        .await?
                });
                if requires_review && !actor.is_operator() { S::PendingReview } else { S::Published }
            }
            (Lifecycle::Approve, S::PendingReview) => S::Published,
            (Lifecycle::Reject { .. }, S::PendingReview) => S::Draft,
            (Lifecycle::Close | Lifecycle::TakeDown { .. }, S::Published | S::Expired | S::PendingReview) => S::Closed,
            (Lifecycle::Archive, from) if from != S::Archived => S::Archived,
            (step, from) => {
                return Err(Error::conflict(
                    "invalid_transition",
                    format!(
                        "Det går inte att {} en annons med status {}.",
                        verb_sv(step),
                        from.name_sv().to_lowercase()
                    ),
                ));
            }
        };
        if going_live {
            // An ad goes live only if it would pass as new today: its deadline
            // must not have passed.
            JobPatch::default().apply_to(&ad).validate(today_in_sweden(now), DeadlineCheck::MustNotBePast)?;
        }
        let reason = match &step {
            Lifecycle::Reject { reason } | Lifecycle::TakeDown { reason } => {
                Some(validate::multiline("reason", reason, 3, 2000).map_err(|e| Error::Invalid(vec![e]))?)
            }
            _ => None,
        };
        let detail = match &reason {
            Some(r) => json!({ "from": ad.status.code(), "to": target.code(), "reason": r }),
            None => json!({ "from": ad.status.code(), "to": target.code() }),
        };
        write_tx!(self, |tx| {
            let done = sqlx::query(
                "update job_ads
                    set status = $3,
                        published_at = case when $3 = 'published' then $4 else published_at end,
                        publish_at = case when $3 = 'draft' then publish_at end,
                        closed_at = case when $3 = 'closed' then $4 when $3 = 'published' then null else closed_at end,
                        rejection_reason = case when $3 in ('draft', 'closed') and $5 is not null then $5
                                                when $3 in ('published', 'pending_review') then null
                                                else rejection_reason end,
                        version = version + 1, updated_at = $4
                  where id = $1 and version = $2",
            )
            .bind(id)
            .bind(ad.version)
            .bind(target.code())
            .bind(now)
            .bind(reason.as_deref())
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(changed_meanwhile());
            }
            // Going live is paid for in the same transaction; waiting for
            // review only checks that it could be.
            if going_live && matches!(target, S::Published | S::PendingReview) {
                billing::charge_publication!(self, tx, &ad, now, target == S::Published);
            }
            record!(&mut *tx, id, ad.employer_id, actor, step.action(), detail, now)?;
            log_changes!(self, tx, [id], now);
        });
        tracing::info!(job_id = id, action = step.action(), to = target.code(), actor = %actor.label(), "job ad lifecycle");
        self.job_for(actor, id, now).await
    }

    /// The actor's ad if it is a draft; `refusal` (an invalid transition) if not.
    async fn draft_for(&self, actor: Actor, id: i64, now: DateTime<Utc>, refusal: &'static str) -> Result<JobAd> {
        let ad = self.job_for(actor, id, now).await?;
        if ad.status != JobStatus::Draft {
            return Err(Error::conflict("invalid_transition", refusal));
        }
        Ok(ad)
    }

    /// Schedules a draft to be published at `at` (`None`: not any more).
    /// The time must be in the future, at most a year ahead, and on or
    /// before the ad's last application day; the ad must be one that could
    /// be published today. The expiry sweep publishes it (`due_for_publication`).
    pub async fn schedule_job(
        &self,
        actor: Actor,
        id: i64,
        at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<JobAd> {
        let now = ts(now);
        let ad = self
            .draft_for(actor, id, now, "Bara utkast kan schemaläggas; annonsen är redan skickad eller publicerad.")
            .await?;
        let at = at.map(ts);
        if let Some(at) = at {
            let invalid = |reason: &'static str, message: &str| Error::invalid("publish_at", reason, message);
            if at <= now {
                return Err(invalid("past", "Välj en tidpunkt som inte har passerat."));
            }
            if at > now + chrono::Duration::days(365) {
                return Err(invalid("too_far", "Välj en tidpunkt inom ett år."));
            }
            if today_in_sweden(at) > ad.application_deadline {
                return Err(invalid("after_deadline", "Tidpunkten är efter sista ansökningsdag."));
            }
            JobPatch::default().apply_to(&ad).validate(today_in_sweden(now), DeadlineCheck::MustNotBePast)?;
        }
        write_tx!(self, |tx| {
            let done = sqlx::query(
                "update job_ads set publish_at = $3, version = version + 1, updated_at = $4
                  where id = $1 and version = $2 and status = 'draft'",
            )
            .bind(id)
            .bind(ad.version)
            .bind(at)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(changed_meanwhile());
            }
            let detail = json!({ "publish_at": at.map(|t| t.to_rfc3339()) });
            record!(&mut *tx, id, ad.employer_id, actor, "schedule", detail, now)?;
        });
        tracing::info!(job_id = id, publish_at = ?at, actor = %actor.label(), "job ad scheduled");
        self.job_for(actor, id, now).await
    }

    /// Scheduled drafts whose time has come, oldest first: (id, employer).
    pub async fn due_for_publication(&self, now: DateTime<Utc>) -> Result<Vec<(i64, i64)>> {
        let rows = read!(self, |pool| {
            sqlx::query_as::<_, (i64, i64)>(
                "select id, employer_id from job_ads
                  where status = 'draft' and publish_at is not null and publish_at <= $1
                  order by publish_at, id limit 500",
            )
            .bind(ts(now))
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// A scheduled publication that could not be made (no credits left,
    /// the deadline passed meanwhile): the schedule is dropped, and the
    /// ad's history says why, so its employer sees it.
    pub async fn schedule_failed(&self, id: i64, reason: &str, now: DateTime<Utc>) -> Result<()> {
        let now = ts(now);
        write_tx!(self, |tx| {
            let employer_id: Option<i64> = sqlx::query_scalar(
                "update job_ads set publish_at = null, version = version + 1, updated_at = $2
                  where id = $1 and status = 'draft' and publish_at is not null
                  returning employer_id",
            )
            .bind(id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(employer_id) = employer_id {
                let detail = json!({ "reason": reason });
                record!(&mut *tx, id, employer_id, Actor::Scheduled { employer_id }, "schedule_failed", detail, now)?;
            }
        });
        Ok(())
    }

    /// Deletes a draft. Published ads are closed or archived, never deleted,
    /// so that links and the audit trail stay meaningful.
    pub async fn delete_draft(&self, actor: Actor, id: i64, now: DateTime<Utc>) -> Result<()> {
        let now = ts(now);
        let ad = self
            .draft_for(actor, id, now, "Bara utkast kan raderas; stäng eller arkivera en annons som har publicerats.")
            .await?;
        write_tx!(self, |tx| {
            let done = sqlx::query("delete from job_ads where id = $1 and version = $2 and status = 'draft'")
                .bind(id)
                .bind(ad.version)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(changed_meanwhile());
            }
            record!(&mut *tx, id, ad.employer_id, actor, "deleted", json!({ "title": ad.title }), now)?;
            log_changes!(self, tx, [id], now);
        });
        tracing::info!(job_id = id, actor = %actor.label(), "draft deleted");
        Ok(())
    }

    /// Writes down that published ads past their expiry have expired. Listing
    /// already hides them without this; the sweep makes the status and the
    /// audit trail say so. Returns the ids it expired.
    pub async fn expire_due(&self, now: DateTime<Utc>) -> Result<Vec<i64>> {
        let now = ts(now);
        let ids: Vec<i64> = write_tx!(self, |tx| {
            let due: Vec<(i64, i64)> = sqlx::query_as(
                "select id, employer_id from job_ads where status = 'published' and expires_at <= $1
                  order by expires_at, id limit 1000",
            )
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
            let mut expired = Vec::with_capacity(due.len());
            for (id, employer_id) in due {
                // Guarded again: on PostgreSQL another transaction may have
                // closed or reopened the ad since the select.
                let done = sqlx::query(
                    "update job_ads set status = 'expired', version = version + 1, updated_at = $2
                      where id = $1 and status = 'published' and expires_at <= $2",
                )
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 1 {
                    let detail = json!({ "from": "published", "to": "expired" });
                    record!(&mut *tx, id, employer_id, Actor::System, "expire", detail, now)?;
                    expired.push(id);
                }
            }
            log_changes!(self, tx, expired.iter().copied(), now);
            expired
        });
        if !ids.is_empty() {
            tracing::info!(count = ids.len(), "expired job ads");
        }
        Ok(ids)
    }

    /// Whether there are no employers at all (a fresh database).
    pub async fn is_empty(&self) -> Result<bool> {
        let n: i64 = read!(self, |pool| sqlx::query_scalar("select count(*) from employers").fetch_one(pool).await?);
        Ok(n == 0)
    }

    /// Marks an employer's ads published as of `at`, skipping review; used by
    /// demo seeding and the command line, never by the API.
    pub async fn publish_as_operator(&self, id: i64, at: DateTime<Utc>) -> Result<JobAd> {
        self.transition(Actor::System, id, Lifecycle::Publish, at).await
    }
}

/// Turns a unique-constraint violation (two requests racing for the same
/// slug or organisation number on PostgreSQL) into a conflict naming a field.
fn unique_conflict(default_field: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            let text = format!("{} {}", d.message(), d.constraint().unwrap_or_default());
            let field = if text.contains("organization_number") { "organization_number" } else { default_field };
            Error::Conflict {
                code: if field == "slug" { "slug_taken" } else { "organization_number_taken" },
                field: Some(field),
                message: "Värdet används redan; försök igen eller välj ett annat.".into(),
            }
        }
        _ => Error::Database(e),
    }
}

fn forbidden_featured() -> Error {
    Error::invalid("featured", "forbidden_field", "Bara en administratör kan markera en annons som utvald.")
}

fn verb_sv(step: &Lifecycle) -> &'static str {
    match step {
        Lifecycle::Publish => "publicera",
        Lifecycle::Close => "stänga",
        Lifecycle::Archive => "arkivera",
        Lifecycle::Reopen => "återöppna",
        Lifecycle::Approve => "godkänna",
        Lifecycle::Reject { .. } => "avslå",
        Lifecycle::TakeDown { .. } => "ta ner",
    }
}

/// Another employer may not see an ad the public cannot see (404), nor change
/// one it can (403).
fn authorize(actor: Actor, ad: &JobAd) -> Result<()> {
    match actor.employer_id() {
        Some(employer_id) if employer_id != ad.employer_id => {
            if ad.is_public() {
                Err(Error::Forbidden("the ad belongs to another employer"))
            } else {
                Err(Error::NotFound)
            }
        }
        _ => Ok(()),
    }
}

/// An ad's further places as stored: their codes separated by spaces.
fn places_column(places: &[&Municipality]) -> String {
    places.iter().map(|m| m.code).collect::<Vec<_>>().join(" ")
}

/// The further places read back; `None` if a code is unknown.
pub(crate) fn places_of_column(raw: &str) -> Option<Vec<&'static Municipality>> {
    raw.split_ascii_whitespace().map(platsen_taxonomy::municipality).collect()
}

/// `base`, or `base-2`, `base-3`… whichever is free among `existing`.
/// The fields that differ between an ad and its next version, old and new.
fn diff(old: &JobAd, new: &ValidJob) -> Value {
    let mut changes = serde_json::Map::new();
    let cmp = |changes: &mut serde_json::Map<String, Value>, field: &str, a: Value, b: Value| {
        if a != b {
            changes.insert(field.to_owned(), json!({ "from": a, "to": b }));
        }
    };
    cmp(&mut changes, "title", json!(old.title), json!(new.title));
    // Descriptions are long; record that they changed, not both texts.
    if old.description != new.description || old.description_source() != new.description_source {
        changes.insert("description".into(), json!({ "changed": true }));
    }
    cmp(&mut changes, "role", json!(old.role.code()), json!(new.role.code()));
    cmp(&mut changes, "municipality_code", json!(old.municipality.code), json!(new.municipality.code));
    let codes = |first: &Municipality, more: &[&Municipality]| {
        json!(std::iter::once(first).chain(more.iter().copied()).map(|m| m.code).collect::<Vec<_>>())
    };
    if !old.more_places.is_empty() || !new.more_places.is_empty() {
        cmp(
            &mut changes,
            "municipality_codes",
            codes(old.municipality, &old.more_places),
            codes(new.municipality, &new.more_places),
        );
    }
    cmp(&mut changes, "remote", json!(old.remote.code()), json!(new.remote.code()));
    cmp(&mut changes, "employment_type", json!(old.employment_type.code()), json!(new.employment_type.code()));
    cmp(&mut changes, "extent_percent", json!(old.extent_percent), json!(new.extent_percent));
    cmp(&mut changes, "salary", json!(old.salary), json!(new.salary));
    cmp(&mut changes, "vacancies", json!(old.vacancies), json!(new.vacancies));
    cmp(&mut changes, "application_deadline", json!(old.application_deadline), json!(new.application_deadline));
    cmp(&mut changes, "expires_at", json!(old.expires_at), json!(new.expires_at));
    cmp(&mut changes, "start_text", json!(old.start_text), json!(new.start_text));
    cmp(&mut changes, "apply_url", json!(old.apply_url), json!(new.apply_url));
    cmp(&mut changes, "apply_email", json!(old.apply_email), json!(new.apply_email));
    cmp(&mut changes, "contacts", json!(old.contacts), json!(new.contacts));
    cmp(&mut changes, "featured", json!(old.featured), json!(new.featured));
    Value::Object(changes)
}

fn corrupt(what: &str, value: &str) -> Error {
    Error::Database(sqlx::Error::Decode(format!("unexpected stored {what}: {value:?}").into()))
}

fn employer_from_row<R: Row>(r: &R) -> Result<Employer>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> DateTime<Utc>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(Employer {
        id: r.try_get("id")?,
        slug: r.try_get("slug")?,
        name: r.try_get("name")?,
        organization_number: r.try_get("organization_number")?,
        website: r.try_get("website")?,
        logo_url: r.try_get("logo_url")?,
        description: r.try_get("description")?,
        description_text: r.try_get("description_source")?,
        description_format: {
            let code: String = r.try_get("description_format")?;
            DescriptionFormat::from_code(&code).ok_or_else(|| corrupt("description format", &code))?
        },
        logo: match r.try_get::<Option<String>, _>("logo_digest")? {
            Some(digest) => Some(Logo {
                digest,
                width: r.try_get::<Option<i64>, _>("logo_width")?.unwrap_or_default(),
                height: r.try_get::<Option<i64>, _>("logo_height")?.unwrap_or_default(),
            }),
            None => None,
        },
        sector: r.try_get::<Option<String>, _>("sector")?.as_deref().and_then(Sector::from_code),
        requires_review: r.try_get("requires_review")?,
        is_demo: r.try_get("is_demo")?,
        billing_mode: {
            let code: String = r.try_get("billing_mode")?;
            BillingMode::from_code(&code)
                .ok_or_else(|| Error::Database(sqlx::Error::Decode(format!("unknown billing mode {code:?}").into())))?
        },
        open_jobs: r.try_get("open_jobs")?,
        embed_origins: r.try_get::<String, _>("embed_origins")?.lines().map(str::to_owned).collect(),
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn job_from_row<R: Row>(r: &R, now: DateTime<Utc>) -> Result<JobAd>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> NaiveDate: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> DateTime<Utc>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = r.try_get("status")?;
    let mut status = JobStatus::from_code(&status).ok_or_else(|| corrupt("status", &status))?;
    let expires_at: DateTime<Utc> = r.try_get("expires_at")?;
    if status == JobStatus::Published && expires_at <= now {
        status = JobStatus::Expired;
    }
    let role: String = r.try_get("role")?;
    let municipality: String = r.try_get("municipality_code")?;
    let more_places: String = r.try_get("more_places")?;
    let remote: String = r.try_get("remote")?;
    let employment_type: String = r.try_get("employment_type")?;
    let salary_period: Option<String> = r.try_get("salary_period")?;
    let salary_min: Option<i64> = r.try_get("salary_min")?;
    let salary_max: Option<i64> = r.try_get("salary_max")?;
    let salary = match salary_period.as_deref() {
        Some(p) => Some(Salary {
            min: salary_min,
            max: salary_max,
            period: SalaryPeriod::from_code(p).ok_or_else(|| corrupt("salary period", p))?,
        }),
        None => None,
    };
    let contacts: String = r.try_get("contacts")?;
    let contacts: Vec<Contact> = serde_json::from_str(&contacts).map_err(|_| corrupt("contacts", &contacts))?;
    let description: String = r.try_get("description")?;
    Ok(JobAd {
        id: r.try_get("id")?,
        slug: r.try_get("slug")?,
        employer_id: r.try_get("employer_id")?,
        employer_slug: r.try_get("employer_slug")?,
        employer_name: r.try_get("employer_name")?,
        employer_sector: r.try_get::<Option<String>, _>("employer_sector")?.as_deref().and_then(Sector::from_code),
        employer_requires_review: r.try_get("employer_requires_review")?,
        status,
        title: r.try_get("title")?,
        stored_source: r.try_get("description_source")?,
        description_format: match r.try_get::<String, _>("description_format")?.as_str() {
            "markdown" => DescriptionFormat::Markdown,
            "html" => DescriptionFormat::Html,
            other => return Err(corrupt("description format", other)),
        },
        description,
        role: Role::from_code(&role).ok_or_else(|| corrupt("role", &role))?,
        municipality: platsen_taxonomy::municipality(&municipality)
            .ok_or_else(|| corrupt("municipality", &municipality))?,
        more_places: places_of_column(&more_places).ok_or_else(|| corrupt("more places", &more_places))?,
        remote: RemoteMode::from_code(&remote).ok_or_else(|| corrupt("remote", &remote))?,
        employment_type: EmploymentType::from_code(&employment_type)
            .ok_or_else(|| corrupt("employment type", &employment_type))?,
        extent_percent: r.try_get("extent_percent")?,
        salary,
        vacancies: r.try_get("vacancies")?,
        application_deadline: r.try_get("application_deadline")?,
        start_text: r.try_get("start_text")?,
        apply_url: r.try_get("apply_url")?,
        apply_email: r.try_get("apply_email")?,
        contacts,
        featured: r.try_get("featured")?,
        published_at: r.try_get("published_at")?,
        paid_until: r.try_get("paid_until")?,
        expires_at,
        closed_at: r.try_get("closed_at")?,
        rejection_reason: r.try_get("rejection_reason")?,
        is_demo: r.try_get("is_demo")?,
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        publish_at: r.try_get("publish_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_or_slug() {
        assert_eq!(IdOrSlug::parse("42"), Some(IdOrSlug::Id(42)));
        assert_eq!(IdOrSlug::parse("nacka-kommun"), Some(IdOrSlug::Slug("nacka-kommun".into())));
        for bad in ["", "99999999999999999999", "-1", "Nacka", "a b", "x' or '1'='1"] {
            assert_eq!(IdOrSlug::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn database_urls() {
        assert_eq!(parse_url("platsen.db").unwrap(), (false, "sqlite:platsen.db".into()));
        assert_eq!(parse_url("sqlite::memory:").unwrap(), (false, "sqlite::memory:".into()));
        assert_eq!(parse_url("postgresql://u@h/db").unwrap(), (true, "postgres://u@h/db".into()));
        assert!(parse_url("mysql://u@h/db").is_err());
    }
}

mod accounts;
mod alerts;
pub mod billing;
mod changes;
mod duties;
mod indexing;
mod logos;
pub mod orders;
pub mod products;
mod salary;
mod spare;
mod webhooks;

pub use alerts::{Alert, AlertFrequency, CONFIRM_DAYS, ClaimedAlert};
pub use changes::{Change, ChangeKind, ChangePage, RemovalReason};
pub use webhooks::{DueWebhook, Webhook, WebhookDelivery, WebhookOutcome};

pub use accounts::{
    AdCounts, BoardFigures, DayCounts, INVITE_DAYS, MAX_STATS_DAYS, NewSession, RESET_MINUTES, SESSION_HOURS, Session,
    User,
};

pub use indexing::{OutboxRow, OutboxStatus, SearchLease};
pub use logos::NewLogo;
pub use salary::SalaryImport;
