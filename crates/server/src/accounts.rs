//! Dashboard accounts over HTTP: the sign-in page, sessions and the entry page.
//!
//! - `GET /` redirects to `/login` without a valid session; with one it names the user and
//!   lists the sites they may read, each linked to its dashboard (`/sites/{domain}`;
//!   `/?site=...` adds that site's last-30-days numbers).
//! - After signing in: `?next=` (same-origin paths only), else the first site's dashboard.
//! - `POST /login` verifies the password with argon2 (constant-time comparison of the hash),
//!   then creates a session: a random 32-byte id held by the browser in the `waymark_session`
//!   cookie (HttpOnly, SameSite=Strict, Path=/, Secure when the request came over TLS through
//!   a trusted proxy) and stored only as a BLAKE2s digest, with an expiry.
//! - CSRF: the sign-in and sign-out forms carry a token that must equal the `waymark_csrf`
//!   cookie (double submit; the cookie is SameSite=Strict, so other sites cannot send it).
//! - Failed sign-ins are limited per client IP, in memory: [`MAX_FAILURES`] per
//!   [`FAILURE_WINDOW`], then 429 until the window passes.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use blake2::{Blake2s256, Digest};
use rand::RngCore;
use serde::Deserialize;
use waymark_core::range::DateRange;
use waymark_core::ErrorKind;
use waymark_store::LoginSession;

use crate::auth::{self, Need, Principal};
use crate::client_ip::client_ip;
use crate::error::{off_thread, ApiError};
use crate::pages;
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "waymark_session";
/// The CSRF double-submit cookie's name.
pub const CSRF_COOKIE: &str = "waymark_csrf";
/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// Failed sign-ins allowed per client IP within [`FAILURE_WINDOW`].
pub const MAX_FAILURES: usize = 10;
/// The window failed sign-ins are counted in.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Hashes a password as an argon2id PHC string with a random salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches a PHC hash (false for an unreadable hash).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A random password of 20 characters from an unambiguous alphabet (the demo's admin).
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut buf = [0u8; 20];
    rand::rng().fill_bytes(&mut buf);
    buf.iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// Normalises an email address for lookup.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A hash verified for unknown emails, so their answer takes as long as a wrong password.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password("waymark-no-such-user").unwrap_or_default())
}

pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex(&buf)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored form of a session id.
pub(crate) fn session_hash(id: &str) -> String {
    hex(&Blake2s256::digest(id.as_bytes()))
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Failed sign-ins per client address (IPv6 clients per /64, which one client usually holds).
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<IpAddr, Vec<Instant>>>,
}

/// The address a limit applies to: the IP itself for IPv4, its /64 for IPv6.
fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(std::net::Ipv6Addr::from(bits))
        }
    }
}

impl LoginLimiter {
    /// Counts an attempt from `ip` as failed before the password is checked, so that parallel
    /// attempts cannot all pass the check first; `false` when the address is already at the
    /// limit. A correct password then calls [`LoginLimiter::clear`].
    pub(crate) fn try_attempt(&self, ip: IpAddr) -> bool {
        let key = limit_key(ip);
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        map.retain(|_, v| {
            v.retain(|t| now.duration_since(*t) < FAILURE_WINDOW);
            !v.is_empty()
        });
        let tries = map.entry(key).or_default();
        if tries.len() >= MAX_FAILURES {
            return false;
        }
        tries.push(now);
        true
    }

    pub(crate) fn clear(&self, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&limit_key(ip));
    }
}

/// Password checks running at once. Each argon2 check holds ~19 MiB and a core for a moment;
/// unbounded, a burst of sign-ins could exhaust memory. Others wait their turn.
static PASSWORD_CHECKS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// Runs `verify` (an argon2 password check) on the blocking pool, at most
/// [`PASSWORD_CHECKS`]' permits at a time.
pub(crate) async fn checked_password<T: Send + 'static>(
    verify: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let _permit = PASSWORD_CHECKS.acquire().await.ok()?;
    tokio::task::spawn_blocking(verify).await.ok()
}

/// The account routes: `/`, `/login`, `/logout`.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .layer(Extension(Arc::new(LoginLimiter::default())))
}

pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Whether the request reached the proxy over TLS (believed only from a trusted proxy).
pub(crate) fn over_tls(state: &AppState, peer: IpAddr, headers: &HeaderMap) -> bool {
    state.config.trusted_proxies.contains(peer)
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').next().unwrap_or("").trim() == "https")
}

pub(crate) fn set_cookie(name: &str, value: &str, max_age: Option<u64>, secure: bool) -> String {
    let mut c = format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// The CSRF token of this browser, and a cookie to set when it is new.
pub(crate) fn csrf_token(headers: &HeaderMap, secure: bool) -> (String, Option<String>) {
    match cookie(headers, CSRF_COOKIE).filter(|t| t.len() == 64) {
        Some(t) => (t, None),
        None => {
            let t = random_hex(32);
            let c = set_cookie(CSRF_COOKIE, &t, None, secure);
            (t, Some(c))
        }
    }
}

/// Whether a form's token matches the CSRF cookie (constant-time).
pub(crate) fn csrf_ok(headers: &HeaderMap, form_token: &str) -> bool {
    let Some(cookie) = cookie(headers, CSRF_COOKIE) else {
        return false;
    };
    let (a, b) = (cookie.as_bytes(), form_token.as_bytes());
    a.len() == b.len() && !a.is_empty() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

pub(crate) fn see_other(to: &str, cookies: &[String]) -> Response {
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response();
    for c in cookies {
        if let Ok(v) = c.parse() {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

pub(crate) fn page(status: StatusCode, html: String, cookies: &[String]) -> Response {
    let mut r = (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response();
    for c in cookies {
        if let Ok(v) = c.parse() {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

/// An error on an HTML route: a notice page with the status of its kind (the one mapping in
/// [`crate::error`]); the server's own failures show a fixed text and log their cause.
pub(crate) struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> PageError {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, text) = self.0.public();
        page(status, pages::notice("Waymark", text), &[])
    }
}

/// A page answering a refused form (`kind` picks the status, as for every error).
pub(crate) fn refused(kind: ErrorKind, html: String, cookies: &[String]) -> Response {
    page(crate::error::status(&kind), html, cookies)
}

/// The signed-in user's session, if the cookie names a live one.
async fn current_session(
    state: &Arc<AppState>,
    headers: &HeaderMap,
) -> Result<Option<LoginSession>, ApiError> {
    let Some(id) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let st = state.clone();
    let hash = session_hash(&id);
    let session = off_thread(move || st.store.session(&hash)).await?;
    Ok(session.filter(|s| s.expires_ms > now_ms()))
}

#[derive(Deserialize)]
struct HomeQuery {
    site: Option<String>,
}

/// The entry page needs a signed-in person: other credentials (keys, shared links) go to
/// the sign-in page like no credentials at all.
async fn home(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<HomeQuery>,
) -> Result<Response, PageError> {
    let principal = match auth::authorize(&state, &headers, None, Need::Read).await {
        Ok(p @ Principal::User { .. }) => p,
        Ok(_) => return Ok(see_other("/login", &[])),
        // Not signed in, or credentials that are not a person's (a shared link): sign in.
        Err(e) if matches!(e.kind(), ErrorKind::Unauthenticated | ErrorKind::Forbidden) => {
            return Ok(see_other("/login", &[]))
        }
        Err(e) => return Err(e.into()),
    };
    let email = principal.email().unwrap_or_default().to_string();
    let sites = auth::visible_sites(&state, &principal).await?;
    let secure = over_tls(&state, peer.ip(), &headers);
    let (csrf, new_cookie) = csrf_token(&headers, secure);
    let st = state.clone();
    // Only a site this person may read gets its numbers shown.
    let chosen = q
        .site
        .and_then(|c| sites.iter().find(|s| s.domain == c).cloned());
    let numbers = off_thread(move || {
        let numbers = match chosen {
            Some(site) => {
                let bounds = DateRange::LastDays(30).bounds(site.tz(), chrono::Utc::now());
                let o = waymark_insight::overview(st.store.as_ref(), &site, bounds)?;
                Some(pages::SiteNumbers {
                    domain: site.domain.clone(),
                    visitors: o.visitors,
                    visits: o.visits,
                    pageviews: o.pageviews,
                    bounce_rate: o.bounce_rate,
                    visit_duration_s: o.visit_duration_s,
                })
            }
            None => None,
        };
        Ok::<_, waymark_insight::InsightError>(numbers)
    })
    .await?;
    let domains: Vec<String> = sites.into_iter().map(|s| s.domain).collect();
    Ok(page(
        StatusCode::OK,
        pages::home(&csrf, &email, &domains, numbers.as_ref()),
        &new_cookie.into_iter().collect::<Vec<_>>(),
    ))
}

/// `next` when it is a same-origin relative path (`/…`, not `//…` nor `/\…`), else `None`.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let n = next?.trim();
    let ok = n.starts_with('/')
        && !n.starts_with("//")
        && !n.contains('\\')
        && n.len() <= 2000
        && !n.chars().any(|c| c.is_control() || c.is_whitespace());
    ok.then(|| n.to_string())
}

/// A site's dashboard URL.
pub fn dashboard_path(domain: &str) -> String {
    format!("/sites/{}", pages::query_escape(domain))
}

async fn no_users(state: &Arc<AppState>) -> Result<bool, ApiError> {
    let st = state.clone();
    off_thread(move || st.store.users().map(|u| u.is_empty())).await
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

async fn login_page(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let next = safe_next(q.next.as_deref());
    if current_session(&state, &headers).await?.is_some() {
        return Ok(see_other(next.as_deref().unwrap_or("/"), &[]));
    }
    let empty = no_users(&state).await?;
    let secure = over_tls(&state, peer.ip(), &headers);
    let (csrf, new_cookie) = csrf_token(&headers, secure);
    Ok(page(
        StatusCode::OK,
        pages::login(&csrf, "", None, empty, next.as_deref().unwrap_or("")),
        &new_cookie.into_iter().collect::<Vec<_>>(),
    ))
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    /// Where to go after signing in (a same-origin path; anything else is ignored).
    #[serde(default)]
    next: String,
}

async fn login(
    State(state): State<Arc<AppState>>,
    Extension(limiter): Extension<Arc<LoginLimiter>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let secure = over_tls(&state, peer.ip(), &headers);
    let ip = client_ip(peer.ip(), &headers, &state.config.trusted_proxies);
    let (csrf, new_cookie) = csrf_token(&headers, secure);
    let cookies: Vec<String> = new_cookie.into_iter().collect();
    let email = normalize_email(&form.email);
    let empty = no_users(&state).await.unwrap_or(false);
    let next = safe_next(Some(&form.next));
    let next_field = next.clone().unwrap_or_default();
    let refuse = |kind, message| {
        Ok(refused(
            kind,
            pages::login(&csrf, &email, Some(message), empty, &next_field),
            &cookies,
        ))
    };
    if !csrf_ok(&headers, &form.csrf) {
        return refuse(
            ErrorKind::Forbidden,
            "The form expired or came from elsewhere. Please sign in again.",
        );
    }
    if !limiter.try_attempt(ip) {
        return refuse(
            ErrorKind::RateLimited,
            "Too many failed sign-ins from this address. Wait 15 minutes and try again.",
        );
    }
    let st = state.clone();
    let (lookup, password) = (email.clone(), form.password);
    // The password check and the user's grants: the user when the password matches.
    let checked = checked_password(move || {
        let Some(user) = st.store.user(&lookup)? else {
            verify_password(&password, dummy_hash());
            return Ok(None);
        };
        if !verify_password(&password, &user.password_hash) {
            return Ok(None);
        }
        let sites = st.store.grants_of(&user.email)?;
        Ok::<_, waymark_store::StoreError>(Some((user, sites)))
    })
    .await
    .ok_or_else(|| ApiError::new(ErrorKind::Unavailable, "the sign-in worker failed"))?
    .map_err(ApiError::from)?;
    let Some((user, sites)) = checked else {
        // The attempt was counted before the check; the address is never logged.
        tracing::info!("failed sign-in");
        return refuse(ErrorKind::Unauthenticated, "Wrong email or password.");
    };
    let id = random_hex(32);
    let now = now_ms();
    let session = LoginSession {
        id_hash: session_hash(&id),
        email: user.email.clone(),
        created_ms: now,
        expires_ms: now + SESSION_TTL.as_millis() as i64,
    };
    let st = state.clone();
    off_thread(move || st.store.create_session(&session)).await?;
    limiter.clear(ip);
    tracing::info!(user = %email, "signed in");
    // Without a `next`, the dashboard of the first site this person may read.
    let principal = Principal::User {
        email: user.email,
        admin: user.admin,
        sites,
    };
    let first_site = auth::visible_sites(&state, &principal)
        .await?
        .into_iter()
        .next();
    let mut cookies = cookies;
    cookies.push(set_cookie(
        SESSION_COOKIE,
        &id,
        Some(SESSION_TTL.as_secs()),
        secure,
    ));
    // A fresh CSRF token for the signed-in session: a token planted before sign-in
    // (e.g. from a sibling subdomain) is worthless afterwards.
    cookies.push(set_cookie(CSRF_COOKIE, &random_hex(32), None, secure));
    let to = next
        .or_else(|| first_site.map(|s| dashboard_path(&s.domain)))
        .unwrap_or_else(|| "/".to_string());
    Ok(see_other(&to, &cookies))
}

#[derive(Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Result<Response, PageError> {
    // Nobody signed in: nothing to end.
    let Some(id) = cookie(&headers, SESSION_COOKIE) else {
        return Ok(see_other("/login", &[]));
    };
    if !csrf_ok(&headers, &form.csrf) {
        return Ok(refused(
            ErrorKind::Forbidden,
            "<!doctype html><title>Waymark</title><p>The sign-out form expired. \
             <a href=\"/\">Back</a></p>"
                .to_string(),
            &[],
        ));
    }
    let st = state.clone();
    let hash = session_hash(&id);
    off_thread(move || st.store.delete_session(&hash)).await?;
    let secure = over_tls(&state, peer.ip(), &headers);
    Ok(see_other(
        "/login",
        &[set_cookie(SESSION_COOKIE, "", Some(0), secure)],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(!h.contains("correct horse"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn cookies_and_csrf() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; waymark_csrf=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h, CSRF_COOKIE).as_deref(), Some("abc"));
        assert!(csrf_ok(&h, "abc"));
        assert!(!csrf_ok(&h, "abd"));
        assert!(!csrf_ok(&h, ""));
        assert!(!csrf_ok(&HeaderMap::new(), ""));
    }

    #[test]
    fn next_must_stay_on_this_origin() {
        assert_eq!(
            safe_next(Some("/sites/a.example?x=1")).as_deref(),
            Some("/sites/a.example?x=1")
        );
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "javascript:x",
            "/a b",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad}");
        }
        assert_eq!(safe_next(None), None);
    }

    #[test]
    fn limiter_blocks_after_max_failures() {
        let l = LoginLimiter::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert!(l.try_attempt(ip));
        }
        assert!(!l.try_attempt(ip));
        assert!(l.try_attempt("192.0.2.2".parse().unwrap()));
        l.clear(ip);
        assert!(l.try_attempt(ip));
    }

    #[test]
    fn ipv6_clients_are_limited_per_64() {
        let l = LoginLimiter::default();
        for i in 0..MAX_FAILURES {
            let ip: IpAddr = format!("2001:db8:1:2::{:x}", i + 1).parse().unwrap();
            assert!(l.try_attempt(ip));
        }
        assert!(!l.try_attempt("2001:db8:1:2:ffff::1".parse().unwrap()));
        assert!(l.try_attempt("2001:db8:1:3::1".parse().unwrap()));
    }
}
