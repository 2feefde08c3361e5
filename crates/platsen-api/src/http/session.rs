//! What the pages share about who is there: the session cookie, CSRF
//! tokens (the session's own once signed in; before that a random one that
//! must match a `SameSite=Strict` cookie), the sign-in and reset limits,
//! reading a form, and the headers of private pages.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use platsen_jobs::model::Actor;
use platsen_jobs::store::Session;
use poem::http::{StatusCode, header};
use poem::{Body, Request, Response};
use serde::Deserialize;

use super::page::{Layout, message, unavailable};
use crate::AppState;

pub(crate) const SESSION_COOKIE: &str = "platsen_session";
const CSRF_COOKIE: &str = "platsen_csrf";
/// The largest body of a short form (sign-in, a salary to compare, an
/// alert): far more than any of them needs.
const MAX_FORM_BODY: usize = 128 * 1024;
/// The largest body of the ad form: the longest description
/// ([`platsen_jobs::input::limits::DESCRIPTION_MAX`] characters, each up to
/// four bytes in UTF-8 and three characters per byte URL-encoded) and room
/// for the other fields, so the form takes every ad the API takes.
pub(crate) const MAX_AD_FORM_BODY: usize = platsen_jobs::input::limits::DESCRIPTION_MAX * 4 * 3 + 64 * 1024;

/// What the pages keep between requests.
#[derive(Clone, Default)]
pub struct WebState {
    pub sign_in: Arc<SignInLimit>,
    /// Mark cookies `Secure` (the public address is https).
    pub secure_cookies: bool,
}

impl WebState {
    pub fn new(secure_cookies: bool) -> WebState {
        WebState { secure_cookies, ..Default::default() }
    }
}

// ----- sign-in limits -------------------------------------------------------

/// Leaky buckets: each event adds one to its key's level, which drains at a
/// steady rate; a key is full at its burst. Unlike a token bucket whose
/// check consumes a token, a bucket here can be read without adding to it,
/// so only failures need to count.
struct Buckets<K> {
    levels: std::sync::Mutex<HashMap<K, (f64, std::time::Instant)>>,
    burst: f64,
    /// How many events drain away per second.
    per_sec: f64,
}

impl<K: std::hash::Hash + Eq + Clone> Buckets<K> {
    fn new(burst: u32, per: std::time::Duration) -> Self {
        Buckets { levels: Default::default(), burst: f64::from(burst), per_sec: 1.0 / per.as_secs_f64() }
    }

    fn level_at(&self, (level, at): (f64, std::time::Instant), now: std::time::Instant) -> f64 {
        (level - now.duration_since(at).as_secs_f64() * self.per_sec).max(0.0)
    }

    /// How many events the key holds now.
    fn level(&self, key: &K) -> f64 {
        let now = std::time::Instant::now();
        self.levels.lock().expect("limit lock").get(key).map_or(0.0, |v| self.level_at(*v, now))
    }

    fn full(&self, key: &K) -> bool {
        self.level(key) > self.burst - 0.5
    }

    fn add(&self, key: K) {
        let now = std::time::Instant::now();
        let mut levels = self.levels.lock().expect("limit lock");
        if levels.len() > 10_000 {
            // Forget the drained ones so the table stays small.
            levels.retain(|_, v| self.level_at(*v, now) > 0.0);
        }
        let level = levels.get(&key).map_or(0.0, |v| self.level_at(*v, now));
        levels.insert(key, (level + 1.0, now));
    }
}

/// Sign-in and password-reset limits. Only failures count against sign-in,
/// so colleagues behind one office address are never held up by each
/// other's successful sign-ins:
/// - an address with 20 failures (then one every six seconds, on any
///   account) is refused;
/// - an account with 5 failures (then one a minute) refuses the addresses
///   that failed on it, but not an address that has not: the real user
///   still signs in from their own while someone guesses from elsewhere.
///
/// Password-reset requests have their own buckets (five, then one every
/// two minutes per address; three mails, then one every twenty minutes per
/// account), so asking for resets neither locks anyone out of signing in
/// nor floods an inbox.
pub struct SignInLimit {
    failures_by_client: Buckets<IpAddr>,
    failures_by_account: Buckets<String>,
    failures_by_account_and_client: Buckets<(String, Option<IpAddr>)>,
    resets_by_client: Buckets<IpAddr>,
    resets_by_account: Buckets<String>,
}

impl Default for SignInLimit {
    fn default() -> Self {
        let secs = std::time::Duration::from_secs;
        SignInLimit {
            failures_by_client: Buckets::new(20, secs(6)),
            failures_by_account: Buckets::new(5, secs(60)),
            failures_by_account_and_client: Buckets::new(5, secs(60)),
            resets_by_client: Buckets::new(5, secs(120)),
            resets_by_account: Buckets::new(3, secs(20 * 60)),
        }
    }
}

fn account_key(email: &str) -> String {
    email.trim().to_lowercase()
}

impl SignInLimit {
    /// Whether this address may try to sign in to this account now.
    pub(crate) fn may_try(&self, email: &str, client: Option<IpAddr>) -> bool {
        let account = account_key(email);
        if client.is_some_and(|ip| self.failures_by_client.full(&ip)) {
            return false;
        }
        // A guessed-at account refuses only the addresses that guessed.
        !(self.failures_by_account.full(&account)
            && self.failures_by_account_and_client.level(&(account, client)) > 0.0)
    }

    pub(crate) fn failed(&self, email: &str, client: Option<IpAddr>) {
        let account = account_key(email);
        if let Some(ip) = client {
            self.failures_by_client.add(ip);
        }
        self.failures_by_account.add(account.clone());
        self.failures_by_account_and_client.add((account, client));
    }

    /// Whether this address may ask for a reset now (counts the request).
    pub(crate) fn may_ask_reset(&self, client: Option<IpAddr>) -> bool {
        let Some(ip) = client else { return true };
        if self.resets_by_client.full(&ip) {
            return false;
        }
        self.resets_by_client.add(ip);
        true
    }

    /// Whether a reset mail may go to this account now (counts the mail).
    pub(crate) fn may_mail_reset(&self, email: &str) -> bool {
        let account = account_key(email);
        if self.resets_by_account.full(&account) {
            return false;
        }
        self.resets_by_account.add(account);
        true
    }
}

// ----- cookies, sessions, CSRF ---------------------------------------------

pub(crate) fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub(crate) fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    path: &str,
    same_site: &str,
    max_age: i64,
) -> String {
    let secure = if state.web.secure_cookies { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite={same_site}{secure}")
}

/// The signed-in session, if the cookie names a live one.
pub(crate) async fn session(state: &AppState, req: &Request) -> Result<Option<Session>, Response> {
    let Some(token) = cookie(req, SESSION_COOKIE) else { return Ok(None) };
    state.app.store.session(token, state.app.clock.now()).await.map_err(unavailable)
}

fn same_secret(a: &str, b: &str) -> bool {
    platsen_jobs::keys::secrets_equal(a, b)
}

pub(crate) fn csrf_refused() -> Response {
    let mut r = message(
        StatusCode::FORBIDDEN,
        "Formuläret kunde inte skickas",
        "Formuläret saknar en giltig säkerhetskod (det kan ha gått ut). Ladda om sidan och försök igen.",
    );
    r.headers_mut().insert(header::CACHE_CONTROL, "no-store".parse().expect("header"));
    r
}

/// The signed-in session of a form post whose CSRF token matches it.
pub(crate) async fn session_for_post(state: &AppState, req: &Request, csrf: Option<&str>) -> Result<Session, Response> {
    let Some(s) = session(state, req).await? else { return Err(see_other("/konto")) };
    match csrf {
        Some(t) if same_secret(t, &s.csrf) => Ok(s),
        _ => {
            tracing::warn!(user_id = s.user.id, "form post without a valid CSRF token refused");
            Err(csrf_refused())
        }
    }
}

/// A random token for the forms shown before sign-in, and the cookie that
/// must come back with it.
pub(crate) fn anonymous_csrf(state: &AppState, req: &Request) -> (String, Option<String>) {
    match cookie(req, CSRF_COOKIE).filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())) {
        Some(t) => (t.to_owned(), None),
        None => {
            let t = hex::encode(rand::random::<[u8; 32]>());
            // Path `/`: the order form on /platsannonsera posts with it too.
            let c = set_cookie(state, CSRF_COOKIE, &t, "/", "Strict", 60 * 60 * 24);
            (t, Some(c))
        }
    }
}

pub(crate) fn anonymous_csrf_ok(req: &Request, csrf: Option<&str>) -> bool {
    matches!((cookie(req, CSRF_COOKIE), csrf), (Some(c), Some(f)) if !c.is_empty() && same_secret(c, f))
}

pub(crate) fn see_other(to: &str) -> Response {
    Response::builder().status(StatusCode::SEE_OTHER).header(header::LOCATION, to).finish()
}

/// Private pages: never cached, never indexed.
pub(crate) fn private(mut r: Response, set_cookie: Option<String>) -> Response {
    r.headers_mut().insert(header::CACHE_CONTROL, "no-store".parse().expect("header"));
    r.headers_mut().insert("x-robots-tag", "noindex".parse().expect("header"));
    if let Some(c) = set_cookie {
        r.headers_mut().append(header::SET_COOKIE, c.parse().expect("cookie header"));
    }
    r
}

/// Reads an `application/x-www-form-urlencoded` body of at most
/// [`MAX_FORM_BODY`] bytes.
pub(crate) async fn read_form<T: for<'de> Deserialize<'de>>(body: Body) -> Result<T, Response> {
    read_form_within(body, MAX_FORM_BODY).await
}

/// Reads a form body of at most `limit` bytes.
pub(crate) async fn read_form_within<T: for<'de> Deserialize<'de>>(body: Body, limit: usize) -> Result<T, Response> {
    let bytes = body.into_bytes_limit(limit).await.map_err(|_| {
        message(
            StatusCode::PAYLOAD_TOO_LARGE,
            "För mycket text",
            format!("Formuläret får vara högst {} kB.", limit / 1024),
        )
    })?;
    serde_urlencoded::from_bytes(&bytes)
        .map_err(|_| message(StatusCode::BAD_REQUEST, "Formuläret kunde inte läsas", "Skicka formuläret från sidan."))
}

pub(crate) fn actor(s: &Session) -> Option<Actor> {
    match (s.user.is_admin, s.user.employer_id) {
        (_, Some(employer_id)) => Some(Actor::User { employer_id, user_id: s.user.id }),
        (true, None) => Some(Actor::Admin),
        (false, None) => None,
    }
}

/// A form that carries only its CSRF token.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CsrfOnly {
    pub(crate) csrf: Option<String>,
}

/// The layout of a private page (never indexed).
pub(crate) fn layout(title: &str) -> Layout {
    let mut l = Layout::new(title);
    l.noindex = true;
    l
}
