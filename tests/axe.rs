//! axe-core for the page tests: audits the page a [`Browser`] shows against
//! WCAG 2.0, 2.1 and 2.2 at levels A and AA.
//!
//! axe-core comes from the npm registry (`npm pack axe-core@VERSION`, then
//! `tar` for `package/axe.min.js`), once per process, into
//! `target/tools/axe-core-VERSION/axe.min.js`, and its SHA-256 is checked
//! every time it is read. `PLATSEN_AXE_JS` names an `axe.min.js` to use
//! instead (it must have the same hash). When npm cannot fetch it the test
//! says so loudly and skips the audit, unless `PLATSEN_REQUIRE_SERVICES=1`,
//! when it fails.
//!
//! The pages send `Content-Security-Policy: default-src 'self'`, which blocks
//! inline `<script>` elements. So axe is not injected as an element: its
//! source is the body of a WebDriver "execute script" command, which
//! chromedriver runs through the DevTools protocol, where the page's CSP
//! does not apply. `axe.run` is asynchronous; it is started by one command
//! and its result polled from a window property, so a slow audit cannot hit
//! WebDriver's 30 s script timeout.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::browser::Browser;
use crate::require_services;

/// The axe-core release, the newest 4.x on the npm registry when pinned.
pub const VERSION: &str = "4.14.1";

/// SHA-256 of `package/axe.min.js` in `axe-core-4.14.1.tgz` from the npm
/// registry (the tarball's own `dist.shasum` is
/// `14d8a6f3f085afd126b8b5ca1e42e50e17fb1d99`).
pub const SHA256: &str = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c";

/// The rule tags audited: WCAG 2.0, 2.1 and 2.2, levels A and AA.
pub const TAGS: &[&str] = &["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/// How long one audit may take.
const AUDIT_TIMEOUT: Duration = Duration::from_secs(120);

/// A rule the page breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The rule, e.g. `color-contrast`.
    pub id: String,
    /// `critical`, `serious`, `moderate` or `minor`.
    pub impact: String,
    /// What the rule asks for, in a sentence.
    pub help: String,
    pub help_url: String,
    pub nodes: Vec<ViolationNode>,
}

/// One element that breaks a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViolationNode {
    /// A CSS selector for the element (frames and shadow roots joined).
    pub target: String,
    /// The start of the element's HTML.
    pub html: String,
    /// What to fix, as axe says it.
    pub failure_summary: String,
}

impl Violation {
    /// Critical or serious.
    pub fn is_serious(&self) -> bool {
        matches!(self.impact.as_str(), "critical" | "serious")
    }
}

/// Why there is no axe-core.
enum Missing {
    /// npm or tar is missing or failed (no registry, say): skip, unless
    /// services are required.
    Unavailable(String),
    /// The file is not the pinned one: always a failure.
    WrongHash(String),
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The workspace's `target/tools/axe-core-VERSION/`.
fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join(format!("target/tools/axe-core-{VERSION}"))
}

/// Reads `path` and checks its hash.
fn read_checked(path: &Path) -> Result<String, Missing> {
    let bytes = std::fs::read(path).map_err(|e| Missing::Unavailable(format!("reading {}: {e}", path.display())))?;
    let hash = sha256_hex(&bytes);
    if hash != SHA256 {
        return Err(Missing::WrongHash(format!(
            "{} has SHA-256 {hash}, but axe-core {VERSION}'s axe.min.js has {SHA256}",
            path.display()
        )));
    }
    String::from_utf8(bytes).map_err(|e| Missing::WrongHash(format!("{} is not UTF-8: {e}", path.display())))
}

/// Runs a command to its end; its stderr is the error.
fn run(cmd: &mut Command, what: &str) -> Result<(), Missing> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| Missing::Unavailable(format!("cannot run {what}: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(Missing::Unavailable(format!("{what} failed ({}): {}", out.status, stderr.trim())))
    }
}

/// Fetches axe.min.js with npm and tar into a directory of this call's own
/// inside the cache, checks it, and renames it into place, so tests and
/// test processes running at the same time never see half a file.
fn download(dest: &Path) -> Result<String, Missing> {
    let dir = dest.parent().unwrap();
    let work = dir.join(format!("tmp-{}-{:016x}", std::process::id(), rand::random::<u64>()));
    std::fs::create_dir_all(&work).map_err(|e| Missing::Unavailable(format!("creating {}: {e}", work.display())))?;
    let result = fetch_into(&work, dest);
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn fetch_into(work: &Path, dest: &Path) -> Result<String, Missing> {
    eprintln!("fetching axe-core {VERSION} from the npm registry (npm pack axe-core@{VERSION})");
    let package = format!("axe-core@{VERSION}");
    run(
        Command::new("npm")
            .args(["pack", "--silent", package.as_str()])
            .env("NPM_CONFIG_UPDATE_NOTIFIER", "false")
            .env("NPM_CONFIG_FUND", "false")
            .current_dir(work),
        "npm pack",
    )?;
    let tarball = work.join(format!("axe-core-{VERSION}.tgz"));
    if !tarball.is_file() {
        return Err(Missing::Unavailable(format!("npm pack did not write {}", tarball.display())));
    }
    run(Command::new("tar").arg("xzf").arg(&tarball).arg("package/axe.min.js").current_dir(work), "tar")?;
    let fetched = work.join("package/axe.min.js");
    let source = read_checked(&fetched)?;
    std::fs::rename(&fetched, dest)
        .map_err(|e| Missing::Unavailable(format!("moving axe.min.js to {}: {e}", dest.display())))?;
    Ok(source)
}

/// axe.min.js: `PLATSEN_AXE_JS`, else the cached copy, else a new download.
fn load() -> Result<Arc<str>, Missing> {
    if let Ok(path) = std::env::var("PLATSEN_AXE_JS") {
        return read_checked(Path::new(&path)).map(Arc::<str>::from);
    }
    let dest = cache_dir().join("axe.min.js");
    if dest.is_file() {
        match read_checked(&dest) {
            Ok(source) => return Ok(Arc::from(source)),
            // Left by something else: fetch the real one over it.
            Err(Missing::WrongHash(why)) => eprintln!("{why}; fetching it again"),
            Err(Missing::Unavailable(_)) => {}
        }
    }
    download(&dest).map(Arc::<str>::from)
}

/// The axe-core source, fetched once per process, or `None` (after a loud
/// message) when it cannot be had and services are not required. A file
/// with the wrong hash always fails.
pub async fn source() -> Option<Arc<str>> {
    static SOURCE: OnceLock<Result<Arc<str>, String>> = OnceLock::new();
    let loaded = tokio::task::spawn_blocking(|| {
        SOURCE
            .get_or_init(|| match load() {
                Ok(source) => Ok(source),
                Err(Missing::Unavailable(why)) => Err(why),
                Err(Missing::WrongHash(why)) => panic!("axe-core {VERSION}: {why}"),
            })
            .clone()
    })
    .await;
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("loading axe-core: {e}"),
    };
    match loaded {
        Ok(source) => Some(source),
        Err(why) => {
            let msg = format!("axe-core {VERSION} could not be fetched from the npm registry: {why}");
            if require_services() {
                panic!("PLATSEN_REQUIRE_SERVICES=1 but {msg}");
            }
            eprintln!("\n*** SKIPPED: accessibility audit ({msg}) ***\n");
            None
        }
    }
}

/// Puts axe into the current page, unless it is there already.
async fn inject(b: &Browser, source: &str) {
    let present = b
        .client
        .execute("return !!(window.axe && window.axe.version === arguments[0])", vec![json!(VERSION)])
        .await
        .unwrap_or_else(|e| panic!("looking for axe in the page: {e}"));
    if present == Value::Bool(true) {
        return;
    }
    // The source is the script's body (not a <script> element, which the
    // page's CSP would block); it sets `window.axe`.
    let script = format!("{source}\n;return window.axe ? window.axe.version : null;");
    let version = b.client.execute(&script, vec![]).await.unwrap_or_else(|e| panic!("injecting axe-core: {e}"));
    assert_eq!(version, json!(VERSION), "axe-core did not load into {}", b.url().await);
}

/// Starts `axe.run` and leaves a compact result in `window[key]`.
const START: &str = r#"
const [context, tags, key] = arguments;
if (context && !document.querySelector(context)) {
    return "no element matches " + context;
}
window[key] = { done: false };
const flat = (t) => Array.isArray(t) ? t.map(flat).join(" >>> ") : String(t);
axe.run(context ? { include: [[context]] } : document, {
    runOnly: { type: "tag", values: tags },
    resultTypes: ["violations"],
}).then((r) => {
    window[key] = {
        done: true,
        violations: r.violations.map((v) => ({
            id: v.id,
            impact: v.impact || "",
            help: v.help || "",
            helpUrl: v.helpUrl || "",
            nodes: v.nodes.map((n) => ({
                target: n.target.map(flat).join(" | "),
                html: (n.html || "").slice(0, 200),
                failureSummary: n.failureSummary || "",
            })),
        })),
    };
}).catch((e) => {
    window[key] = { done: true, error: String((e && e.stack) || e) };
});
return null;
"#;

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_owned()
}

fn parse(violations: &Value) -> Vec<Violation> {
    violations
        .as_array()
        .map(|all| {
            all.iter()
                .map(|v| Violation {
                    id: text(v, "id"),
                    impact: text(v, "impact"),
                    help: text(v, "help"),
                    help_url: text(v, "helpUrl"),
                    nodes: v["nodes"]
                        .as_array()
                        .map(|nodes| {
                            nodes
                                .iter()
                                .map(|n| ViolationNode {
                                    target: text(n, "target"),
                                    html: text(n, "html"),
                                    failure_summary: text(n, "failureSummary"),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Audits the page the browser shows, or `None` (after a loud message) when
/// axe-core cannot be had and services are not required. `context` is a CSS
/// selector for the part to audit; empty, `"html"` or `"document"` audits
/// the whole document.
pub async fn try_audit(b: &Browser, context: &str) -> Option<Vec<Violation>> {
    let source = source().await?;
    inject(b, &source).await;
    let context = match context.trim() {
        "" | "html" | "document" => "",
        css => css,
    };
    let key = format!("__platsenAxe{:016x}", rand::random::<u64>());
    let started = b
        .client
        .execute(START, vec![json!(context), json!(TAGS), json!(key)])
        .await
        .unwrap_or_else(|e| panic!("starting axe.run: {e}"));
    if let Some(problem) = started.as_str() {
        panic!("axe audit of {}: {problem}", b.url().await);
    }
    let poll = "const r = window[arguments[0]]; if (!r || !r.done) return null; delete window[arguments[0]]; return r;";
    let deadline = Instant::now() + AUDIT_TIMEOUT;
    loop {
        let r = b.client.execute(poll, vec![json!(key)]).await.unwrap_or_else(|e| panic!("polling axe.run: {e}"));
        if !r.is_null() {
            if let Some(error) = r["error"].as_str() {
                panic!("axe.run failed on {}: {error}", b.url().await);
            }
            return Some(parse(&r["violations"]));
        }
        if Instant::now() > deadline {
            panic!("axe.run did not finish within {} s on {}", AUDIT_TIMEOUT.as_secs(), b.url().await);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Audits the page the browser shows (see [`try_audit`]). When axe-core
/// cannot be had and services are not required this says so loudly and
/// returns no violations.
pub async fn audit(b: &Browser, context: &str) -> Vec<Violation> {
    try_audit(b, context).await.unwrap_or_default()
}

/// The critical and serious violations.
pub fn serious(v: &[Violation]) -> Vec<&Violation> {
    v.iter().filter(|v| v.is_serious()).collect()
}

/// The violations, readably, for an assertion's message.
pub fn report(v: &[&Violation]) -> String {
    const MAX_NODES: usize = 8;
    let mut out = format!("{} accessibility rule(s) broken (axe-core {VERSION}):\n", v.len());
    for violation in v {
        let count = violation.nodes.len();
        out.push_str(&format!(
            "\n- {} [{}] {} ({count} element{})\n  {}\n",
            violation.id,
            violation.impact,
            violation.help,
            if count == 1 { "" } else { "s" },
            violation.help_url
        ));
        for node in violation.nodes.iter().take(MAX_NODES) {
            out.push_str(&format!("    * {}\n", node.target));
            for line in node.failure_summary.lines() {
                out.push_str(&format!("        {}\n", line.trim()));
            }
            if !node.html.is_empty() {
                out.push_str(&format!("        {}\n", node.html.replace('\n', " ")));
            }
        }
        if count > MAX_NODES {
            out.push_str(&format!("    * … and {} more\n", count - MAX_NODES));
        }
    }
    out
}

/// Audits the whole page the browser shows and fails, naming what to fix,
/// when it breaks a critical or serious rule. Does nothing (after a loud
/// message) when axe-core cannot be had and services are not required.
pub async fn assert_no_serious(b: &Browser, page: &str) {
    let Some(violations) = try_audit(b, "").await else { return };
    let bad = serious(&violations);
    if !bad.is_empty() {
        panic!("{page} ({}) is not accessible: {}", b.url().await, report(&bad));
    }
}
