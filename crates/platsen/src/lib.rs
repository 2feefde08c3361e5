//! The `platsen` program: command line, configuration and wiring. The
//! library half exists so the integration tests can start the real server
//! in-process and run the real commands.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use platsen_api::{AppState, HttpOptions};
use platsen_app::salary::ImportFailure;
use platsen_app::{App, Clock};
use platsen_jobs::input::EmployerInput;
use platsen_jobs::{IdOrSlug, Store};
use poem::listener::{Acceptor, Listener, TcpListener};
use tokio::sync::watch;

/// Platsen: lediga jobb och lönestatistik för offentlig upphandling.
#[derive(Debug, Parser)]
#[command(name = "platsen", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// `postgres://…`, `sqlite:PATH` or a file path.
    #[arg(
        long,
        env = "PLATSEN_DATABASE_URL",
        default_value = "sqlite:platsen.db",
        global = true,
        hide_env_values = true
    )]
    pub database_url: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default, with --demo, when no command is given).
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate,
    /// Operator tasks: employers and API keys.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Print the OpenAPI spec as JSON.
    Openapi,
    /// The Meilisearch index: rebuild or compare with the database.
    #[command(subcommand)]
    Search(SearchCommand),
    /// Lönestatistik: import the year's salary survey.
    #[command(subcommand)]
    Salary(SalaryCommand),
    /// Invoices: the monthly run for agreement customers.
    #[command(subcommand)]
    Invoices(InvoicesCommand),
    /// Copy an SQLite database, consistently, while the server runs (for
    /// PostgreSQL use pg_dump; see docs/DEPLOYMENT.md).
    Backup {
        /// The new file (it must not exist).
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum InvoicesCommand {
    /// Invoice agreement customers for the ads they published in a month
    /// (what the server does by itself each month); running it again
    /// issues nothing new.
    Run {
        /// The month, `YYYY-MM`.
        #[arg(long)]
        month: String,
        #[command(flatten)]
        invoicing: Box<InvoicingArgs>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SalaryCommand {
    /// Import a survey file (CSV). A file with any invalid row is refused
    /// whole, with every problem listed; the same file twice is refused.
    Import {
        /// The CSV file.
        file: std::path::PathBuf,
    },
}

/// Who invoices, and where invoices go.
#[derive(Debug, Clone, Args)]
pub struct InvoicingArgs {
    /// The seller on invoices: name, organisation number, address and bankgiro.
    #[arg(long, env = "PLATSEN_SELLER_NAME", default_value = "Platsen Media AB")]
    pub seller_name: String,
    #[arg(long, env = "PLATSEN_SELLER_ORGANIZATION_NUMBER", default_value = "556036-0793")]
    pub seller_organization_number: String,
    #[arg(long, env = "PLATSEN_SELLER_STREET", default_value = "Sveavägen 1")]
    pub seller_street: String,
    #[arg(long, env = "PLATSEN_SELLER_POSTAL_CODE", default_value = "111 57")]
    pub seller_postal_code: String,
    #[arg(long, env = "PLATSEN_SELLER_CITY", default_value = "Stockholm")]
    pub seller_city: String,
    #[arg(long, env = "PLATSEN_SELLER_BANKGIRO", default_value = "5678-1234")]
    pub seller_bankgiro: String,
    /// Days from an invoice's issue date to its due date.
    #[arg(long, env = "PLATSEN_INVOICE_DUE_DAYS", default_value_t = 30)]
    pub invoice_due_days: i64,
    /// A folder the Peppol access point's client picks invoices up from;
    /// without it, invoices stay in Platsen for the operator to download.
    #[arg(long, env = "PLATSEN_PEPPOL_OUTBOX")]
    pub peppol_outbox: Option<std::path::PathBuf>,
}

impl InvoicingArgs {
    /// The seller as invoices name it.
    pub fn seller(&self) -> platsen_jobs::invoice::Seller {
        platsen_app::invoicing::seller(
            &self.seller_name,
            &self.seller_organization_number,
            &self.seller_street,
            &self.seller_postal_code,
            &self.seller_city,
            &self.seller_bankgiro,
        )
    }
}

#[derive(Debug, Clone, Args)]
pub struct MeiliArgs {
    #[arg(long, env = "PLATSEN_MEILI_URL")]
    pub meili_url: String,
    #[arg(long, env = "PLATSEN_MEILI_MASTER_KEY", hide_env_values = true)]
    pub meili_master_key: String,
    #[arg(long, env = "PLATSEN_MEILI_INDEX", default_value = "jobs")]
    pub meili_index: String,
}

#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// Rebuild the index into a fresh one and swap it in (no downtime).
    Reindex(MeiliArgs),
    /// Compare the index with the database (ids and versions).
    Check {
        #[command(flatten)]
        meili: MeiliArgs,
        /// Fix what differs.
        #[arg(long)]
        repair: bool,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PLATSEN_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Operator token for the admin API; without it, admin routes answer 401.
    #[arg(long, env = "PLATSEN_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Seed the demo board when the database is empty.
    #[arg(long, env = "PLATSEN_DEMO", default_value_t = false, value_parser = boolish())]
    pub demo: bool,
    /// Requests per second per client address; 0 turns the limit off.
    #[arg(long, env = "PLATSEN_RATE_LIMIT", default_value_t = 50)]
    pub rate_limit: u32,
    /// Seconds between a stop signal and closing the listener, while
    /// `/readyz` answers 503 so a load balancer takes the instance out
    /// (longer than its health check's interval × fall count).
    #[arg(long, env = "PLATSEN_DRAIN_SECONDS", default_value_t = 0.0, value_parser = drain_seconds)]
    pub drain_seconds: f64,
    /// The load balancers in front (addresses or networks, comma-separated)
    /// whose X-Forwarded-For names the client.
    #[arg(long, env = "PLATSEN_TRUSTED_PROXIES", value_parser = trusted_proxies, default_value = "")]
    pub trusted_proxies: TrustedProxies,
    /// The public base URL (for links in the spec).
    #[arg(long, env = "PLATSEN_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The licence line of the salary statistics' open data (the CSV and
    /// JSON downloads), as the operator publishes them.
    #[arg(long, env = "PLATSEN_DATA_LICENCE", default_value = platsen_app::DEFAULT_DATA_LICENCE)]
    pub data_licence: String,
    /// Meilisearch to keep in step and search with (e.g. http://127.0.0.1:7700).
    #[arg(long, env = "PLATSEN_MEILI_URL")]
    pub meili_url: Option<String>,
    /// Meilisearch's master key (administration only; searches use a search-only key).
    #[arg(long, env = "PLATSEN_MEILI_MASTER_KEY", hide_env_values = true)]
    pub meili_master_key: Option<String>,
    /// The index name.
    #[arg(long, env = "PLATSEN_MEILI_INDEX", default_value = "jobs")]
    pub meili_index: String,
    /// SMTP server for outgoing mail, `smtp://host:port` (a relay that
    /// forwards it); without it, mails are written to the log.
    #[arg(long, env = "PLATSEN_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of outgoing mail.
    #[arg(long, env = "PLATSEN_MAIL_FROM", default_value = "Platsen <noreply@platsen.localhost>")]
    pub mail_from: String,
    /// Let webhooks target loopback, private and link-local addresses
    /// (development and tests only).
    #[arg(long, env = "PLATSEN_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, value_parser = boolish())]
    pub webhook_allow_private: bool,
    #[command(flatten)]
    pub invoicing: InvoicingArgs,
}

fn drain_seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (0.0..=300.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?}: ange sekunder mellan 0 och 300")),
    }
}

/// `PLATSEN_TRUSTED_PROXIES`, parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<platsen_api::http::client::IpNet>);

fn trusted_proxies(s: &str) -> Result<TrustedProxies, String> {
    platsen_api::http::client::parse_trusted(s).map(TrustedProxies)
}

/// A yes-or-no setting as people write it: `1/0`, `true/false`,
/// `yes/no`, `on/off` (also `y/n`, `t/f`), any case.
fn boolish() -> clap::builder::BoolishValueParser {
    clap::builder::BoolishValueParser::new()
}

/// Lets `ServeArgs` be read from the environment alone.
#[derive(Parser)]
struct ServeFromEnv {
    #[command(flatten)]
    serve: ServeArgs,
}

impl ServeArgs {
    /// What `platsen` with no command serves with: every `PLATSEN_*`
    /// variable applies, and the demo board is on unless `PLATSEN_DEMO` says
    /// otherwise.
    pub fn for_default_run() -> ServeArgs {
        let mut args = ServeFromEnv::parse_from(["platsen"]).serve;
        if std::env::var_os("PLATSEN_DEMO").is_none() {
            args.demo = true;
        }
        args
    }
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an employer.
    CreateEmployer {
        #[arg(long)]
        name: String,
        /// NNNNNN-NNNN
        #[arg(long)]
        org_number: String,
        #[arg(long)]
        website: Option<String>,
        #[arg(long)]
        slug: Option<String>,
        /// kommun, region, stat, offentligt_bolag, privat or konsult (narrows
        /// the market salary shown with its ads).
        #[arg(long)]
        sector: Option<String>,
        /// Send the employer's ads to review before publishing.
        #[arg(long)]
        requires_review: bool,
        /// How it pays: prepaid, agreement or free (the default).
        #[arg(long)]
        billing_mode: Option<String>,
    },
    /// Issue an API key for an employer (printed once).
    CreateKey {
        /// Employer id or slug.
        #[arg(long)]
        employer: String,
        #[arg(long)]
        label: Option<String>,
    },
    /// List API keys (never their secrets).
    ListKeys {
        #[arg(long)]
        employer: Option<String>,
        #[arg(long)]
        prefix: Option<String>,
    },
    /// Revoke an API key by id or by its full prefix.
    RevokeKey { key: String },
    /// Print a new random admin token to put in PLATSEN_ADMIN_TOKEN.
    GenerateToken,
    /// Create a web account that signs in at /konto: an operator (`--admin`)
    /// or a user of an employer (`--employer`). The password is read from
    /// PLATSEN_USER_PASSWORD or, if that is not set, from the first line of
    /// standard input (never from the command line, where `ps` shows it).
    CreateUser {
        #[arg(long)]
        email: String,
        /// Employer id or slug the user acts for.
        #[arg(long, conflicts_with = "admin", required_unless_present = "admin")]
        employer: Option<String>,
        /// An operator who sees the admin pages.
        #[arg(long)]
        admin: bool,
        #[arg(skip)]
        password: Option<String>,
    },
}

/// Sets up structured logging from `PLATSEN_LOG`: an `EnvFilter` directive
/// list, plus `json` or `text` for the format (`PLATSEN_LOG=json,info`).
pub fn init_logging() {
    let raw = std::env::var("PLATSEN_LOG").unwrap_or_else(|_| "info".into());
    let mut json = false;
    let filter: Vec<&str> = raw
        .split(',')
        .filter(|part| match part.trim() {
            "json" => {
                json = true;
                false
            }
            "text" => false,
            _ => true,
        })
        .collect();
    let filter = if filter.is_empty() { "info".to_owned() } else { filter.join(",") };
    let filter =
        tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}

pub async fn open_store(url: &str) -> anyhow::Result<Store> {
    let store = Store::connect(url).await.with_context(|| format!("connecting to the database ({})", redact(url)))?;
    store.migrate().await.context("migrating the database")?;
    Ok(store)
}

/// The database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    // A password may also come as a query parameter.
    let owned;
    let url = match url.find("password=") {
        Some(at) => {
            let start = at + "password=".len();
            let end = url[start..].find('&').map_or(url.len(), |e| start + e);
            owned = format!("{}***{}", &url[..start], &url[end..]);
            owned.as_str()
        }
        None => url,
    };
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Runs the command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => serve(&cli.db, ServeArgs::for_default_run(), Clock::default(), shutdown_signal()).await,
        Some(Command::Serve(args)) => serve(&cli.db, *args, Clock::default(), shutdown_signal()).await,
        Some(Command::Invoices(InvoicesCommand::Run { month, invoicing })) => {
            let month = platsen_jobs::store::billing::parse_month("--month", &month)
                .map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message))?;
            let store = open_store(&cli.db.database_url).await?;
            let app = App::new(store.clone(), Clock::default(), "").with_invoicing(invoicing_of(
                invoicing.seller(),
                invoicing.invoice_due_days,
                invoicing.peppol_outbox.clone(),
            ));
            let issued = app.invoice_agreements(month).await.map_err(describe);
            store.close().await;
            let issued = issued?;
            let numbers: Vec<String> = issued.iter().map(|i| i.number.to_string()).collect();
            match numbers.len() {
                0 => println!("Inga nya fakturor för {}.", month.format("%Y-%m")),
                n => println!("{n} fakturor för {}: nummer {}.", month.format("%Y-%m"), numbers.join(", ")),
            }
            Ok(())
        }
        Some(Command::Backup { file }) => {
            // Not `open_store`: a backup must not migrate the live database.
            let store = Store::connect(&cli.db.database_url)
                .await
                .with_context(|| format!("connecting to the database ({})", redact(&cli.db.database_url)))?;
            let started = std::time::Instant::now();
            tracing::info!(file = %file.display(), "backup started");
            let copied = store.backup_into(&file).await.map_err(describe);
            store.close().await;
            let ads = copied?;
            tracing::info!(file = %file.display(), ads, millis = started.elapsed().as_millis() as u64, "backup finished");
            println!("Säkerhetskopian {} är klar och kontrollerad ({ads} annonser).", file.display());
            Ok(())
        }
        Some(Command::Migrate) => {
            let store = open_store(&cli.db.database_url).await?;
            platsen_app::saved_search::migrate(&store).await.map_err(describe)?;
            println!("Databasen är migrerad ({}).", store.backend());
            store.close().await;
            Ok(())
        }
        Some(Command::Openapi) => {
            let store = Store::connect("sqlite::memory:").await?;
            let app = App::new(store, Clock::default(), "http://127.0.0.1:8080");
            println!("{}", platsen_api::spec_json(&AppState::new(app, None, false)));
            Ok(())
        }
        Some(Command::Search(cmd)) => {
            let store = open_store(&cli.db.database_url).await?;
            let out = search_command(&store, cmd).await;
            store.close().await;
            println!("{}", out?);
            Ok(())
        }
        Some(Command::Salary(cmd)) => {
            let store = open_store(&cli.db.database_url).await?;
            let out = salary_command(&store, cmd, chrono::Utc::now()).await;
            store.close().await;
            println!("{}", out?);
            Ok(())
        }
        Some(Command::Admin(mut cmd)) => {
            if let AdminCommand::CreateUser { password, .. } = &mut cmd {
                *password = Some(read_password()?);
            }
            let store = open_store(&cli.db.database_url).await?;
            let out = admin(&store, cmd).await;
            store.close().await;
            println!("{}", out?);
            Ok(())
        }
    }
}

/// The new user's password: `PLATSEN_USER_PASSWORD`, or a line of standard input.
fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("PLATSEN_USER_PASSWORD") {
        return Ok(p);
    }
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        eprint!("Lösenord (minst {} tecken, visas när du skriver): ", platsen_jobs::passwords::MIN_LEN);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Carries out an admin command and returns what to print.
pub async fn admin(store: &Store, cmd: AdminCommand) -> anyhow::Result<String> {
    let now = chrono::Utc::now();
    let employer_id = |raw: &str| {
        let key = IdOrSlug::parse(raw)
            .ok_or_else(|| anyhow::anyhow!("{raw:?} är varken ett id eller ett adressnamn för en arbetsgivare"));
        async move { Ok::<_, anyhow::Error>(store.employer(&key?, now).await.map_err(describe)?.id) }
    };
    Ok(match cmd {
        AdminCommand::CreateEmployer { name, org_number, website, slug, sector, requires_review, billing_mode } => {
            let e = store
                .create_employer(
                    EmployerInput {
                        name: Some(name),
                        organization_number: Some(org_number),
                        website,
                        slug,
                        sector,
                        requires_review: Some(requires_review),
                        billing_mode,
                        ..Default::default()
                    },
                    false,
                    now,
                )
                .await
                .map_err(describe)?;
            format!("Arbetsgivare {} skapad: id {}, slug {}", e.name, e.id, e.slug)
        }
        AdminCommand::CreateKey { employer, label } => {
            let id = employer_id(&employer).await?;
            let k = store.create_key(id, label.as_deref(), now).await.map_err(describe)?;
            format!(
                "Nyckel {} (id {}) skapad. Spara den nu, den visas inte igen:\n{}",
                k.key.prefix, k.key.id, k.secret
            )
        }
        AdminCommand::ListKeys { employer, prefix } => {
            let id = match employer {
                Some(e) => Some(employer_id(&e).await?),
                None => None,
            };
            let keys = store.keys(id, prefix.as_deref()).await.map_err(describe)?;
            let mut out = String::from("id\temployer\tprefix\tlabel\tcreated\trevoked");
            for k in keys {
                out.push_str(&format!(
                    "\n{}\t{}\t{}\t{}\t{}\t{}",
                    k.id,
                    k.employer_id,
                    k.prefix,
                    k.label,
                    k.created_at.format("%Y-%m-%d"),
                    k.revoked_at.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_else(|| "-".into())
                ));
            }
            out
        }
        AdminCommand::RevokeKey { key } => {
            let id = match key.parse::<i64>() {
                Ok(id) => id,
                Err(_) => {
                    let found = store.keys(None, Some(&key)).await.map_err(describe)?;
                    match found.as_slice() {
                        [one] if one.prefix == key => one.id,
                        _ => bail!("det finns ingen nyckel med prefixet {key:?}"),
                    }
                }
            };
            store.revoke_key(id, now).await.map_err(describe)?;
            format!("Nyckel {id} återkallad.")
        }
        AdminCommand::GenerateToken => platsen_jobs::keys::generate().secret.replacen("plk_", "pla_", 1),
        AdminCommand::CreateUser { email, employer, admin, password } => {
            let employer_id = match employer {
                Some(e) => Some(employer_id(&e).await?),
                None => None,
            };
            let password = password.unwrap_or_default();
            let u = store.create_user(employer_id, &email, &password, admin, now).await.map_err(describe)?;
            let role = if u.is_admin { "administratör" } else { "användare" };
            format!("Konto {} skapat ({role}, id {}). Logga in på /konto.", u.email, u.id)
        }
    })
}

/// Carries out a search command and returns what to print; progress goes to
/// standard error.
pub async fn search_command(store: &Store, cmd: SearchCommand) -> anyhow::Result<String> {
    let args = match &cmd {
        SearchCommand::Reindex(a) | SearchCommand::Check { meili: a, .. } => a.clone(),
    };
    let config =
        platsen_search::MeiliConfig { url: args.meili_url, master_key: args.meili_master_key, index: args.meili_index };
    let engine = platsen_search::MeiliEngine::connect(&config).await.context("connecting to Meilisearch")?;
    let now = chrono::Utc::now();
    Ok(match cmd {
        SearchCommand::Reindex(_) => {
            let started = std::time::Instant::now();
            let drift = engine
                .rebuild(store, now, |done, of| eprintln!("  indexerat {done} av {of} annonser"))
                .await
                .context("rebuilding the index")?;
            format!(
                "Indexet {} är ombyggt på {:.1} s ({} annonser; {} ändringar under bygget hämtades in).",
                config.index,
                started.elapsed().as_secs_f64(),
                drift.expected,
                drift.missing.len() + drift.stale.len() + drift.extra.len()
            )
        }
        SearchCommand::Check { repair, .. } => {
            let drift = engine.check(store, now).await.context("comparing the index with the database")?;
            let mut out = format!(
                "{} öppna annonser i databasen; saknas i indexet: {}, inaktuella: {}, överflödiga: {}.",
                drift.expected,
                drift.missing.len(),
                drift.stale.len(),
                drift.extra.len()
            );
            if repair && !drift.is_clean() {
                engine.repair(store, &drift, now).await.context("repairing the index")?;
                out.push_str(" Reparerat.");
            } else if !drift.is_clean() {
                out.push_str(" Kör med --repair för att rätta.");
            }
            out
        }
    })
}

/// `platsen salary …`.
pub async fn salary_command(
    store: &Store,
    cmd: SalaryCommand,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<String> {
    let SalaryCommand::Import { file } = cmd;
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    eprintln!("  läser {} ({} kB)", file.display(), bytes.len() / 1024);
    let name = file.file_name().map_or_else(|| "enkät.csv".into(), |n| n.to_string_lossy().into_owned());
    let app = App::new(store.clone(), Clock::default(), "");
    let progress = |done, of| eprintln!("  sparat {done} av {of} svar");
    let import = match app.import_survey(bytes, Some(name.clone()), now, progress).await {
        Ok(import) => import,
        Err(ImportFailure::Rejected(rejected)) => {
            let mut report = format!("Filen har {} fel och har inte importerats:\n", rejected.problems);
            for e in &rejected.errors {
                report.push_str(&format!("  rad {}, {}: {}\n", e.line, e.field, e.reason));
            }
            if rejected.problems > rejected.errors.len() {
                report.push_str(&format!("  … och {} till\n", rejected.problems - rejected.errors.len()));
            }
            bail!("{}", report.trim_end());
        }
        Err(ImportFailure::Store(e)) => return Err(describe(e)),
        Err(ImportFailure::Panicked) => bail!("filen kunde inte läsas (ett fel i Platsen; se loggen)"),
    };
    let years: Vec<String> = import.years.iter().map(i32::to_string).collect();
    Ok(format!("Import {}: {} svar för {} från {name}.", import.id, import.responses, years.join(", ")))
}

/// A domain error as the command line prints it, in Swedish (the detail of
/// a database failure stays in the log).
fn describe(e: platsen_jobs::Error) -> anyhow::Error {
    use platsen_jobs::Error as E;
    match e {
        E::Invalid(fields) => {
            anyhow::anyhow!(fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("\n"))
        }
        E::NotFound => anyhow::anyhow!("finns inte (kontrollera id:t eller adressnamnet)"),
        E::Forbidden(why) => anyhow::anyhow!("inte tillåtet: {why}"),
        E::Conflict { message, .. } | E::NoCredit(message) => anyhow::anyhow!("{message}"),
        e @ (E::Database(_) | E::Migrate(_)) => {
            tracing::error!(error = %e, "the database failed");
            anyhow::anyhow!("databasen svarade inte som väntat; se loggen")
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutdown requested; finishing requests in flight");
}

/// A server started by [`start`].
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, and waits.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.task.await?
    }
}

/// Everything `serve` needs, resolved. Tests and benches start from
/// [`ServerConfig::default`] and set what they need.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Meilisearch to keep in step and search with; `None`: the database answers.
    pub meili: Option<platsen_search::MeiliConfig>,
    pub bind: String,
    pub admin_token: Option<String>,
    pub demo: bool,
    pub rate_limit: u32,
    /// Whose `X-Forwarded-For` is believed (`PLATSEN_TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
    /// How long `/readyz` answers 503 before the listener closes on a stop
    /// (`PLATSEN_DRAIN_SECONDS`).
    pub drain: Duration,
    pub public_url: Option<String>,
    /// Outgoing mail: `smtp://host:port`, or `None` to log mails.
    pub smtp_url: Option<String>,
    pub mail_from: String,
    /// Webhooks may target private addresses (`PLATSEN_WEBHOOK_ALLOW_PRIVATE=1`).
    pub webhook_allow_private: bool,
    /// The seller on invoices (`PLATSEN_SELLER_*`).
    pub seller: platsen_jobs::invoice::Seller,
    pub invoice_due_days: i64,
    /// Where invoices are written for the Peppol access point.
    pub peppol_outbox: Option<std::path::PathBuf>,
    /// The licence line of the salary statistics' downloads.
    pub data_licence: String,
}

impl Default for ServerConfig {
    /// A loopback server on a free port: no Meilisearch, no admin token, no
    /// demo board, no rate limit, mail to the log, public webhooks only.
    fn default() -> Self {
        ServerConfig {
            meili: None,
            bind: "127.0.0.1:0".into(),
            admin_token: None,
            demo: false,
            rate_limit: 0,
            trusted_proxies: TrustedProxies::default(),
            drain: Duration::ZERO,
            public_url: None,
            smtp_url: None,
            mail_from: "Platsen <noreply@platsen.test>".into(),
            webhook_allow_private: false,
            seller: platsen_app::invoicing::demo_seller(),
            invoice_due_days: platsen_jobs::store::billing::DEFAULT_DUE_DAYS,
            peppol_outbox: None,
            data_licence: platsen_app::DEFAULT_DATA_LICENCE.into(),
        }
    }
}

impl From<ServeArgs> for ServerConfig {
    fn from(a: ServeArgs) -> Self {
        let meili = match (a.meili_url, a.meili_master_key) {
            (Some(url), Some(master_key)) => {
                Some(platsen_search::MeiliConfig { url, master_key, index: a.meili_index })
            }
            _ => None,
        };
        ServerConfig {
            meili,
            bind: a.bind,
            admin_token: a.admin_token,
            demo: a.demo,
            rate_limit: a.rate_limit,
            trusted_proxies: a.trusted_proxies,
            drain: Duration::from_secs_f64(a.drain_seconds),
            public_url: a.public_url,
            smtp_url: a.smtp_url,
            mail_from: a.mail_from,
            webhook_allow_private: a.webhook_allow_private,
            data_licence: a.data_licence,
            seller: a.invoicing.seller(),
            invoice_due_days: a.invoicing.invoice_due_days,
            peppol_outbox: a.invoicing.peppol_outbox,
        }
    }
}

/// Refuses a configuration that cannot run, and says what the operator
/// should know about the rest.
fn check(config: &ServerConfig) -> anyhow::Result<()> {
    if let Some(t) = &config.admin_token
        && t.len() < 24
    {
        bail!("PLATSEN_ADMIN_TOKEN must be at least 24 characters (try `platsen admin generate-token`)");
    }
    let seller = &config.seller.party;
    if let Err(e) = platsen_jobs::validate::OrganisationNumber::parse(
        "PLATSEN_SELLER_ORGANIZATION_NUMBER",
        &seller.organization_number,
    ) {
        bail!("{}: {}", e.field, e.message);
    }
    if let Err(e) = platsen_jobs::validate::postal_code("PLATSEN_SELLER_POSTAL_CODE", &seller.postal_code) {
        bail!("{}: {}", e.field, e.message);
    }
    if seller.name.trim().is_empty() || seller.street.trim().is_empty() || seller.city.trim().is_empty() {
        bail!("PLATSEN_SELLER_NAME, PLATSEN_SELLER_STREET and PLATSEN_SELLER_CITY must not be empty");
    }
    if !(0..=365).contains(&config.invoice_due_days) {
        bail!("PLATSEN_INVOICE_DUE_DAYS must be between 0 and 365");
    }
    if config.webhook_allow_private {
        tracing::warn!("PLATSEN_WEBHOOK_ALLOW_PRIVATE is set: webhooks may reach loopback and private addresses");
    }
    if config.admin_token.is_none() {
        tracing::info!("admin API disabled: set PLATSEN_ADMIN_TOKEN to enable it");
    }
    if config.smtp_url.is_none() {
        tracing::info!("no PLATSEN_SMTP_URL: outgoing mail is written to the log");
    }
    Ok(())
}

/// What the store needs before serving: the demo board if asked for, saved
/// searches in the current format.
async fn prepare(store: &Store, config: &ServerConfig, clock: &Clock) -> anyhow::Result<()> {
    if config.demo {
        platsen_jobs::demo::seed_if_empty(store, clock.now()).await.context("seeding the demo board")?;
        platsen_jobs::demo::seed_salaries_if_empty(store, clock.now())
            .await
            .context("seeding the demo salary survey")?;
        platsen_jobs::demo::seed_products_if_empty(store, clock.now()).await.context("seeding the demo offer")?;
    }
    platsen_app::saved_search::migrate(store).await.context("rewriting saved searches")?;
    if store.users(None).await.map(|u| u.is_empty()).unwrap_or(false) {
        tracing::info!(
            "no web accounts yet: `platsen admin create-user --admin --email <address>` makes the first admin for /konto"
        );
    }
    Ok(())
}

/// The application on `store`, configured.
fn application(store: Store, config: &ServerConfig, clock: Clock, public_url: &str) -> anyhow::Result<App> {
    let mailer = match &config.smtp_url {
        Some(url) => platsen_app::Mailer::smtp(url, &config.mail_from)?,
        None => platsen_app::Mailer::Log,
    };
    let outgoing = if config.webhook_allow_private {
        platsen_app::outgoing::Policy::AllowPrivate
    } else {
        platsen_app::outgoing::Policy::PublicOnly
    };
    let invoicing = invoicing_of(config.seller.clone(), config.invoice_due_days, config.peppol_outbox.clone());
    Ok(App::new(store, clock, public_url)
        .with_mailer(mailer)
        .with_search_configured(config.meili.is_some())
        .with_outgoing(outgoing)
        .with_invoicing(invoicing)
        .with_data_licence(&config.data_licence))
}

/// Invoicing as configured: with a folder, invoices are written there for
/// the Peppol access point.
fn invoicing_of(
    seller: platsen_jobs::invoice::Seller,
    due_days: i64,
    outbox: Option<std::path::PathBuf>,
) -> platsen_app::invoicing::Invoicing {
    let access_point = outbox.map(|dir| {
        Arc::new(platsen_app::invoicing::FileAccessPoint { dir }) as Arc<dyn platsen_app::invoicing::AccessPoint>
    });
    platsen_app::invoicing::Invoicing { seller, due_days, access_point }
}

/// Starts the server on an open store and returns once it listens.
pub async fn start(store: Store, config: ServerConfig, clock: Clock) -> anyhow::Result<Running> {
    check(&config)?;
    prepare(&store, &config, &clock).await?;
    let acceptor = TcpListener::bind(config.bind.clone())
        .into_acceptor()
        .await
        .with_context(|| format!("listening on {}", config.bind))?;
    let addr = *acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr())
        .context("the listener has no socket address")?;
    let public_url = config.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
    let app = application(store.clone(), &config, clock, &public_url)?;
    // Searches answer from the first request: the built-in index is filled
    // before the server serves.
    app.builtin.catch_up(&app.store, app.clock.now()).await.context("filling the built-in search index")?;
    let secure_cookies = public_url.starts_with("https://");
    let state = AppState::new(app.clone(), config.admin_token.as_deref(), secure_cookies);
    let endpoint = platsen_api::app(
        state.clone(),
        &HttpOptions { rate_limit_per_sec: config.rate_limit, trusted_proxies: config.trusted_proxies.0.clone() },
    );
    let (stop, mut stopped) = watch::channel(false);
    let workers =
        platsen_app::workers::Workers::start(&app, config.meili.clone(), platsen_api::changes_json(), &stopped);

    tracing::info!(%addr, database = store.backend(), "platsen listening");
    let (drain, draining) = (config.drain, state.draining.clone());
    let task = tokio::spawn(async move {
        poem::Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(
                endpoint,
                async move {
                    let _ = stopped.changed().await;
                    if !drain.is_zero() {
                        draining.store(true, std::sync::atomic::Ordering::Release);
                        tracing::info!(seconds = drain.as_secs_f64(), "draining: /readyz answers 503");
                        tokio::time::sleep(drain).await;
                    }
                },
                Some(Duration::from_secs(30)),
            )
            .await
            .context("serving HTTP")?;
        workers.join().await;
        // Views and apply clicks still summed in memory are written, so a
        // restart loses none.
        app.write_counts().await;
        store.close().await;
        tracing::info!("platsen stopped");
        Ok(())
    });
    Ok(Running { addr, state, stop, task })
}

/// `platsen serve`: runs until `shutdown` resolves.
pub async fn serve(
    db: &DbArgs,
    args: ServeArgs,
    clock: Clock,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let store = open_store(&db.database_url).await?;
    let running = start(store, args.into(), clock).await?;
    eprintln!("Platsen körs på http://{}/ (API-dokumentation: http://{}/api/docs)", running.addr, running.addr);
    shutdown.await;
    running.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://app:s3cret@db:5432/platsen"), "postgres://app:***@db:5432/platsen");
        assert_eq!(redact("postgres://postgres@127.0.0.1/test"), "postgres://postgres@127.0.0.1/test");
        assert_eq!(redact("sqlite:platsen.db"), "sqlite:platsen.db");
        assert_eq!(redact("postgres://h/db?user=a&password=s3cret&x=1"), "postgres://h/db?user=a&password=***&x=1");
    }

    #[test]
    fn cli_parses() {
        Cli::try_parse_from(["platsen"]).unwrap();
        Cli::try_parse_from(["platsen", "serve", "--bind", "0.0.0.0:80"]).unwrap();
        Cli::try_parse_from(["platsen", "admin", "create-key", "--employer", "nacka-kommun"]).unwrap();
        assert!(Cli::try_parse_from(["platsen", "admin", "create-key"]).is_err());
        let Some(Command::Backup { file }) = Cli::try_parse_from(["platsen", "backup", "kopia.db"]).unwrap().command
        else {
            panic!("backup parses")
        };
        assert_eq!(file, std::path::Path::new("kopia.db"));
        assert!(Cli::try_parse_from(["platsen", "backup"]).is_err(), "the file is required");
    }

    #[test]
    fn trusted_proxies_parse_and_garbage_names_the_setting() {
        let Some(Command::Serve(args)) =
            Cli::try_parse_from(["platsen", "serve", "--trusted-proxies", "127.0.0.1, 10.0.0.0/8"]).unwrap().command
        else {
            panic!("serve parses")
        };
        assert_eq!(args.trusted_proxies.0.len(), 2);
        let err =
            Cli::try_parse_from(["platsen", "serve", "--trusted-proxies", "haproxy.local"]).unwrap_err().to_string();
        assert!(err.contains("trusted-proxies") && err.contains("haproxy.local"), "{err}");
    }
}
