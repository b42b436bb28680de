//! Shared links in the browser: `GET /share/{token}` serves the dashboard shell (read-only, one
//! site), after a password page when the link is protected. The password form is CSRF-protected
//! and rate-limited per client IP like the sign-in form; success sets an HttpOnly cookie bound
//! to that link (see [`crate::access::unlock`]).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Form, Router};
use serde::Deserialize;
use waymark_core::ErrorKind;

use crate::access::credentials::verify_password;
use crate::access::limiter::checked_password;
use crate::access::unlock::{link_unlocked, unlock_cookie_name, unlock_value, UNLOCK_TTL_S};
use crate::access::{find_link, LoginLimiter};
use crate::html::{self, page, refused, see_other, PageError};
use crate::http::client_ip::client_ip;
use crate::http::cookies::over_tls;
use crate::http::csrf::{csrf_ok, csrf_token};
use crate::state::AppState;

/// The limiter of shared-link password attempts (separate from sign-ins).
#[derive(Clone)]
struct ShareLimiter(Arc<LoginLimiter>);

/// The routes, merged into the server's router.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/share/{token}", get(open).post(unlock))
        .layer(Extension(ShareLimiter(Arc::new(LoginLimiter::default()))))
}

fn missing() -> Response {
    refused(
        ErrorKind::NotFound,
        html::notice(
            "Link not found",
            "This shared link does not exist or was deleted.",
        ),
        &[],
    )
}

async fn open(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let Some(link) = find_link(&state, &token).await? else {
        return Ok(missing());
    };
    if link_unlocked(&headers, &link, state.clock) {
        return Ok(crate::routes::assets::dashboard::shell());
    }
    let secure = over_tls(&state, peer.ip(), &headers);
    let (csrf, new_cookie) = csrf_token(&headers, secure);
    Ok(page(
        StatusCode::OK,
        html::share_password(&csrf, &link.name, &link.token, None),
        &new_cookie.into_iter().collect::<Vec<_>>(),
    ))
}

#[derive(Deserialize)]
struct UnlockForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn unlock(
    State(state): State<Arc<AppState>>,
    Extension(limiter): Extension<ShareLimiter>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(form): Form<UnlockForm>,
) -> Result<Response, PageError> {
    let Some(link) = find_link(&state, &token).await? else {
        return Ok(missing());
    };
    let here = format!("/share/{}", link.token);
    let Some(hash) = link.password_hash.clone() else {
        return Ok(see_other(&here, &[]));
    };
    let secure = over_tls(&state, peer.ip(), &headers);
    let ip = client_ip(peer.ip(), &headers, &state.config.trusted_proxies);
    let (csrf, new_cookie) = csrf_token(&headers, secure);
    let cookies: Vec<String> = new_cookie.into_iter().collect();
    let answer = |kind, message| {
        Ok(refused(
            kind,
            html::share_password(&csrf, &link.name, &link.token, Some(message)),
            &cookies,
        ))
    };
    if !csrf_ok(&headers, &form.csrf) {
        return answer(
            ErrorKind::Forbidden,
            "The form expired or came from elsewhere. Please try again.",
        );
    }
    if !limiter.0.try_attempt(ip) {
        return answer(
            ErrorKind::RateLimited,
            "Too many wrong passwords from this address. Wait 15 minutes and try again.",
        );
    }
    let password = form.password;
    let ok = checked_password(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    if !ok {
        tracing::info!(link = %link.id, "wrong shared-link password");
        return answer(ErrorKind::Unauthenticated, "Wrong password.");
    }
    limiter.0.clear(ip);
    // Lax, not Strict: the link is usually opened from another site (mail, chat), and the
    // cookie must come along on that top-level navigation. It only allows reading.
    let mut unlock = format!(
        "{}={}; HttpOnly; SameSite=Lax; Path=/; Max-Age={UNLOCK_TTL_S}",
        unlock_cookie_name(&link),
        unlock_value(&link, state.clock)
    );
    if secure {
        unlock.push_str("; Secure");
    }
    let mut all = cookies.clone();
    all.push(unlock);
    Ok(see_other(&here, &all))
}
