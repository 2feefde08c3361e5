//! A real browser for the page tests: Debian's Chromium, headless, driven
//! over WebDriver by `chromedriver` (both from the `chromium` and
//! `chromium-driver` packages, which `.ci/run` installs when missing).
//!
//! Each `Browser` starts its own chromedriver on a free port and a Chromium
//! with a fresh profile directory, and stops both when dropped. When the
//! binaries are missing the test says so loudly and skips, unless
//! `PLATSEN_REQUIRE_SERVICES=1`, when it fails.
//!
//! `CHROMIUM` and `CHROMEDRIVER` override where the binaries are looked for.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::require_services;

/// The flags Chromium needs on these machines: headless, no sandbox (tests
/// run as root), and no traffic of its own to the closed network.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--lang=sv-SE",
];

/// A headless Chromium session.
pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: PathBuf,
}

fn find(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    names
        .iter()
        .flat_map(|n| std::env::split_paths(&path).map(move |d| d.join(n)).chain([Path::new("/usr/bin").join(n)]))
        .find(|p| p.is_file())
}

/// Installs Debian's `chromium` and `chromium-driver` once per test run when
/// they are missing and this runs as root with apt (as on CI's machines), so
/// that the README's test command does the set-up on a fresh machine.
/// `PLATSEN_INSTALL_BROWSER=0` turns this off.
fn install_once() {
    static DONE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        if std::env::var("PLATSEN_INSTALL_BROWSER").is_ok_and(|v| v == "0") || !Path::new("/usr/bin/apt-get").exists() {
            return;
        }
        crate::apt_install(&["chromium", "chromium-driver"]);
    });
}

impl Browser {
    /// A browser with its window at `width` × 900 CSS pixels, or `None`
    /// (after a loud message) when Chromium is missing and services are not
    /// required.
    pub async fn start(width: u32) -> Option<Browser> {
        let binaries =
            || (find("CHROMIUM", &["chromium", "chromium-browser"]), find("CHROMEDRIVER", &["chromedriver"]));
        if !matches!(binaries(), (Some(_), Some(_))) {
            tokio::task::spawn_blocking(install_once).await.unwrap();
        }
        let (Some(chromium), Some(driver)) = binaries() else {
            let msg = "Chromium or chromedriver not found (apt-get install chromium chromium-driver)";
            if require_services() {
                panic!("PLATSEN_REQUIRE_SERVICES=1 but {msg}");
            }
            eprintln!("\n*** SKIPPED: browser test ({msg}) ***\n");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", driver.display()));
        let webdriver = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let mut ready = false;
        for _ in 0..100 {
            if let Ok(r) = http.get(format!("{webdriver}/status")).send().await
                && r.json::<Value>().await.is_ok_and(|v| v["value"]["ready"] == true)
            {
                ready = true;
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("chromedriver exited: {status}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready, "chromedriver did not become ready on port {port}");

        let profile = std::env::temp_dir().join(format!("platsen-chromium-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&profile).unwrap();
        let mut args: Vec<String> = FLAGS.iter().map(|s| (*s).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.push(format!("--window-size={width},900"));
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args },
        });
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.as_object().unwrap().clone())
            .connect(&webdriver)
            .await
            .unwrap_or_else(|e| panic!("a Chromium session through {}: {e}", driver.display()));
        let browser = Browser { client, driver: child, profile };
        browser.resize(width, 900).await;
        Some(browser)
    }

    /// Sets the viewport (not the window) to `width` × `height`.
    pub async fn resize(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
        // The window has a frame even headless; grow it by the difference.
        let inner = self.js("return [window.innerWidth, window.innerHeight]").await;
        let (iw, ih) = (inner[0].as_u64().unwrap() as u32, inner[1].as_u64().unwrap() as u32);
        if (iw, ih) != (width, height) {
            self.client.set_window_size(width * 2 - iw, height * 2 - ih).await.unwrap();
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// Runs a script (its `return` value comes back).
    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// The first element that matches a CSS selector, waiting for it.
    pub async fn el(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Waits until a script returns `true`.
    pub async fn until(&self, what: &str, script: &str) {
        for _ in 0..100 {
            if self.js(script).await == Value::Bool(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("waited 10 s for {what}: {script}");
    }

    /// Waits until the first element matching `css` has exactly this text
    /// (after a click, the old page may still be showing for a moment).
    pub async fn wait_text(&self, css: &str, text: &str) {
        let script = format!(
            "const e = document.querySelector({}); return !!e && e.textContent.trim() === {}",
            serde_json::to_string(css).unwrap(),
            serde_json::to_string(text).unwrap()
        );
        for _ in 0..100 {
            if self.js(&script).await == Value::Bool(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let now = self
            .js(&format!(
                "const e = document.querySelector({}); return e && e.textContent",
                serde_json::to_string(css).unwrap()
            ))
            .await;
        panic!("waited 10 s for {css} to read {text:?}; it reads {now} at {}", self.url().await);
    }

    pub async fn url(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }

    /// Saves a screenshot of the whole page at `width` CSS pixels wide as
    /// `target/screenshots/{name}-{width}.png`, and also in
    /// `docs/screenshots/` with `PLATSEN_UPDATE_SCREENSHOTS=1`. Asserts that
    /// nothing sticks out sideways at that width.
    pub async fn screenshot(&self, name: &str, width: u32) {
        self.resize(width, 900).await;
        let overflow = self.js("return document.documentElement.scrollWidth - window.innerWidth").await;
        if overflow.as_i64().unwrap() > 0 {
            // Name the outermost elements that stick out, to say what to fix.
            let culprits = self
                .js("return [...document.querySelectorAll('body *')] \
                     .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 \
                       && !(e.parentElement && e.parentElement.getBoundingClientRect().right > window.innerWidth + 1)) \
                     .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') \
                       + ' ' + Math.round(e.getBoundingClientRect().width) + 'px')")
                .await;
            panic!("{name} scrolls sideways at {width} px: {overflow} px too wide; sticking out: {culprits}");
        }
        let height = self.js("return document.documentElement.scrollHeight").await.as_u64().unwrap() as u32;
        self.resize(width, height.clamp(600, 4000)).await;
        let png = self.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let mut dirs = vec![root.join("target/screenshots")];
        if std::env::var("PLATSEN_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
            dirs.push(root.join("docs/screenshots"));
        }
        for dir in dirs {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("{name}-{width}.png")), &png).unwrap();
        }
        self.resize(width, 900).await;
    }

    /// Signs in on the account page at `url` (`…/konto`) and waits for the
    /// heading of the page it leads to.
    pub async fn sign_in(&self, url: &str, email: &str, password: &str, heading: &str) {
        self.goto(url).await;
        self.el("#email").await.send_keys(email).await.unwrap();
        self.el("#password").await.send_keys(password).await.unwrap();
        self.el("form.account button[type=submit]").await.click().await.unwrap();
        self.wait_text("h1", heading).await;
    }

    /// Screenshots at the desktop and the phone width.
    pub async fn screenshots(&self, name: &str) {
        self.screenshot(name, 390).await;
        self.screenshot(name, 1280).await;
    }

    pub async fn stop(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
