//! The entry page, sign-in and sign-out (HTML):
//!
//! - `GET /` redirects to `/login` without a valid session; with one it names the user and
//!   lists the sites they may read, each linked to its dashboard (`/sites/{domain}`;
//!   `/?site=...` adds that site's last-30-days numbers).
//! - `POST /login` verifies the password (argon2, [`crate::access::credentials`]), then creates
//!   a session held by the browser in the `waymark_session` cookie and stored only as a
//!   digest ([`crate::access::accounts::new_session`]). After signing in: `?next=`
//!   (same-origin paths only), else the first site's dashboard.
//! - The sign-in and sign-out forms carry a CSRF token ([`crate::http::csrf`]); failed
//!   sign-ins are limited per client IP ([`crate::access::limiter`]), then 429.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use serde::Deserialize;
use waymark_core::range::DateRange;
use waymark_core::ErrorKind;
use waymark_store::LoginSession;

use crate::access::accounts::{new_session, normalize_email, SESSION_TTL};
use crate::access::credentials::{dummy_hash, session_hash, verify_password};
use crate::access::limiter::checked_password;
use crate::access::{self, LoginLimiter, Need, Principal};
use crate::error::{off_thread, ApiError};
use crate::html::{self, page, refused, see_other, PageError};
use crate::http::client_ip::client_ip;
use crate::http::cookies::{cookie, over_tls, set_cookie, SESSION_COOKIE};
use crate::http::csrf::{csrf_ok, csrf_token, fresh_csrf_cookie};
use crate::state::AppState;

/// The account routes: `/`, `/login`, `/logout`.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .layer(Extension(Arc::new(LoginLimiter::default())))
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
    Ok(session.filter(|s| s.expires_ms > state.clock.now_ms()))
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
    let principal = match access::authorize(&state, &headers, None, Need::Read).await {
        Ok(p @ Principal::User { .. }) => p,
        Ok(_) => return Ok(see_other("/login", &[])),
        // Not signed in, or credentials that are not a person's (a shared link): sign in.
        Err(e) if matches!(e.kind(), ErrorKind::Unauthenticated | ErrorKind::Forbidden) => {
            return Ok(see_other("/login", &[]))
        }
        Err(e) => return Err(e.into()),
    };
    let email = principal.email().unwrap_or_default().to_string();
    let sites = access::visible_sites(&state, &principal).await?;
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
                Some(html::SiteNumbers {
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
        html::home(&csrf, &email, &domains, numbers.as_ref()),
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
    format!("/sites/{}", html::query_escape(domain))
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
        html::login(&csrf, "", None, empty, next.as_deref().unwrap_or("")),
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
            html::login(&csrf, &email, Some(message), empty, &next_field),
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
    let (id, session) = new_session(&user.email, state.clock);
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
    let first_site = access::visible_sites(&state, &principal)
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
    cookies.push(fresh_csrf_cookie(secure));
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
}
