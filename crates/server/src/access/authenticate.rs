//! Who is calling: [`authenticate`] finds the credentials of a request (a bearer key, a
//! shared-link token, or the session cookie) and turns them into a [`Principal`];
//! [`authorize`] is the one check every non-public route makes, adding the [`Need`] on a site.
//! Rules and the route table are in `docs/access.md`.

use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue};
use waymark_core::Site;

use super::credentials::{constant_time_eq, key_hash, session_hash, KEY_PREFIX};
use super::principal::{Need, Principal, Scope};
use super::unlock::link_unlocked;
use crate::error::{off_thread, ApiError};
use crate::http::cookies::{cookie, SESSION_COOKIE};
use crate::http::csrf::csrf_header_ok;
use crate::state::AppState;
use crate::ServerConfig;

/// The header carrying a shared-link token on API calls.
pub const SHARE_HEADER: &str = "x-waymark-share";
/// How often a key's last-used time is written at most (a write per request would be waste).
const TOUCH_EVERY_MS: i64 = 60_000;

/// Whether `key` is one of the server-wide keys from the settings (full access).
fn server_key(config: &ServerConfig, key: &str) -> bool {
    config
        .api_keys
        .iter()
        .any(|k| constant_time_eq(k.as_bytes(), key.as_bytes()))
}

/// Identifies the caller and checks `need` on `site`: the one check of every non-public route.
///
/// - 401 (JSON) when there are no credentials, or they are unknown or expired;
/// - 403 when a cookie-authenticated write lacks the `X-CSRF-Token` header, or the caller
///   lacks the role, grant or scope (the message names which).
///
/// Every Write route changes state, so Write and Admin needs are treated as changes here;
/// routes that only read admin data call [`authorize_with`] with `changes: false`.
pub async fn authorize(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    site: Option<&str>,
    need: Need,
) -> Result<Principal, ApiError> {
    authorize_with(state, headers, site, need, need != Need::Read).await
}

/// [`authorize`] saying whether the request changes state (`changes`: a cookie-authenticated
/// request must then carry the CSRF header, and a shared link is refused).
pub async fn authorize_with(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    site: Option<&str>,
    need: Need,
    changes: bool,
) -> Result<Principal, ApiError> {
    let principal = authenticate(state, headers, changes).await?;
    principal.permit(site, need)?;
    Ok(principal)
}

/// [`authorize`] for routes naming their site in a JSON body's `site_id` (the Stats API).
/// A body without one is only authenticated: the handler refuses it with a 400 anyway.
pub async fn authorize_body_site(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    body: &[u8],
    need: Need,
) -> Result<Principal, ApiError> {
    let site = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("site_id")?.as_str().map(str::to_string));
    let principal = authenticate(state, headers, need != Need::Read).await?;
    match site {
        Some(s) => principal.permit(Some(&s), need)?,
        // No site to check: only callers with some read right get to see the 400.
        None if matches!(principal, Principal::Shared { .. }) => {}
        None => principal.permit(None, need)?,
    }
    Ok(principal)
}

/// The key of an `Authorization: Bearer <key>` header (401 for any other form).
fn bearer_key(value: &HeaderValue) -> Result<&str, ApiError> {
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| ApiError::unauthenticated("Authorization must be `Bearer <api key>`"))
}

/// Identifies the caller without checking a need. `writes`: the request changes state, so a
/// cookie-authenticated one must carry the CSRF header, and a shared link is refused.
pub async fn authenticate(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    writes: bool,
) -> Result<Principal, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        return key_principal(state, bearer_key(value)?).await;
    }
    if let Some(value) = headers.get(SHARE_HEADER) {
        let token = value.to_str().unwrap_or("").trim().to_string();
        let principal = share_principal(state, headers, &token).await?;
        if writes {
            return Err(ApiError::forbidden("forbidden: a shared link is read-only"));
        }
        return Ok(principal);
    }
    if let Some(id) = cookie(headers, SESSION_COOKIE) {
        let st = state.clone();
        let now_ms = state.clock.now_ms();
        let found = off_thread(move || {
            let Some(session) = st.store.session(&session_hash(&id))? else {
                return Ok(None);
            };
            if session.expires_ms <= now_ms {
                return Ok(None);
            }
            let Some(user) = st.store.user(&session.email)? else {
                return Ok(None);
            };
            let sites = st.store.grants_of(&user.email)?;
            Ok::<_, waymark_store::StoreError>(Some((user, sites)))
        })
        .await?;
        let Some((user, sites)) = found else {
            return Err(ApiError::unauthenticated(
                "your session has expired or ended: sign in again at /login",
            ));
        };
        if writes && !csrf_header_ok(headers) {
            return Err(ApiError::forbidden(
                "forbidden: a signed-in change needs the X-CSRF-Token header equal to the \
                 waymark_csrf cookie (GET /api/session returns it)",
            ));
        }
        return Ok(Principal::User {
            email: user.email,
            admin: user.admin,
            sites,
        });
    }
    Err(ApiError::unauthenticated(
        "not signed in: sign in at /login, or send `Authorization: Bearer <api key>`",
    ))
}

async fn key_principal(state: &Arc<AppState>, key: &str) -> Result<Principal, ApiError> {
    if server_key(&state.config, key) {
        return Ok(Principal::ApiKey {
            id: None,
            owner: None,
            admin: true,
            sites: Vec::new(),
            scopes: Scope::ALL.to_vec(),
        });
    }
    if !key.starts_with(KEY_PREFIX) {
        return Err(ApiError::unauthenticated("unknown API key"));
    }
    let st = state.clone();
    let hash = key_hash(key);
    let now = state.clock.now_ms();
    let found = off_thread(move || {
        let Some(k) = st.store.api_key_by_hash(&hash)? else {
            return Ok(None);
        };
        let Some(owner) = st.store.user(&k.email)? else {
            return Ok(None);
        };
        let sites = st.store.grants_of(&owner.email)?;
        if k.last_used_ms.is_none_or(|t| now - t >= TOUCH_EVERY_MS) {
            if let Err(e) = st.store.touch_api_key(&k.id, now) {
                tracing::warn!(error = %e, "could not record an API key's use");
            }
        }
        Ok::<_, waymark_store::StoreError>(Some((k, owner, sites)))
    })
    .await?;
    let Some((k, owner, sites)) = found else {
        return Err(ApiError::unauthenticated("unknown API key"));
    };
    Ok(Principal::ApiKey {
        id: Some(k.id),
        owner: Some(owner.email),
        admin: owner.admin,
        sites,
        scopes: k
            .scopes
            .iter()
            .filter_map(|s| Scope::parse(s).ok())
            .collect(),
    })
}

async fn share_principal(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    token: &str,
) -> Result<Principal, ApiError> {
    let link = find_link(state, token)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("unknown or deleted shared link"))?;
    if !link_unlocked(headers, &link, state.clock) {
        return Err(ApiError::unauthenticated(format!(
            "this shared link is password-protected: unlock it at /share/{token}"
        )));
    }
    Ok(Principal::Shared {
        site: link.site,
        link_id: link.id,
    })
}

/// The shared link with this token (none for an empty or malformed token).
pub async fn find_link(
    state: &Arc<AppState>,
    token: &str,
) -> Result<Option<waymark_store::SharedLink>, ApiError> {
    if token.is_empty() || token.len() > 128 || !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(None);
    }
    let st = state.clone();
    let token = token.to_string();
    off_thread(move || st.store.shared_link_by_token(&token)).await
}

/// The sites a principal may read, by domain.
pub async fn visible_sites(
    state: &Arc<AppState>,
    principal: &Principal,
) -> Result<Vec<Site>, ApiError> {
    // Scopes are independent: a personal key for definitions only does not list sites.
    if let Principal::ApiKey {
        id: Some(_),
        scopes,
        ..
    } = principal
    {
        if !scopes.contains(&Scope::StatsRead) && !scopes.contains(&Scope::SitesAdmin) {
            return Ok(Vec::new());
        }
    }
    let st = state.clone();
    let all = off_thread(move || st.store.sites()).await?;
    Ok(all
        .into_iter()
        .filter(|s| principal.is_server_key() || principal.reads_site(&s.domain))
        .collect())
}

/// `Authorization: Bearer <key>` against the server-wide keys only: `Ok(false)` when absent,
/// `Ok(true)` for a configured key, 401 for a malformed header or an unknown key. The Events
/// API uses it for its key-only features.
pub fn bearer(config: &ServerConfig, headers: &HeaderMap) -> Result<bool, ApiError> {
    let Some(value) = headers.get("authorization") else {
        return Ok(false);
    };
    let key = bearer_key(value)?;
    if server_key(config, key) {
        Ok(true)
    } else {
        Err(ApiError::unauthenticated("unknown API key"))
    }
}
