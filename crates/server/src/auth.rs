//! Who is asking and what they may do. [`authorize`] is the one check every non-public handler
//! makes: it finds the caller's credentials (a bearer key, a shared-link token, or the session
//! cookie), turns them into a [`Principal`], and checks the [`Need`] against roles, grants and
//! key scopes. Rules and the route table are in `docs/access.md`.

use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue};
use blake2::{Blake2s256, Digest};
use serde::{Deserialize, Serialize};
use waymark_core::Site;

use crate::accounts::{self, CSRF_COOKIE, SESSION_COOKIE};
use crate::error::{off_thread, ApiError};
use crate::state::AppState;
use crate::ServerConfig;

/// The header carrying a shared-link token on API calls.
pub const SHARE_HEADER: &str = "x-waymark-share";
/// The header a cookie-authenticated write must carry, equal to the `waymark_csrf` cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Unlock cookies of password-protected links are named this plus the link's id.
pub const UNLOCK_COOKIE_PREFIX: &str = "waymark_share_";
/// Personal API keys start with this, so they are recognisable in logs and secret scanners.
pub const KEY_PREFIX: &str = "wmk_";
/// How often a key's last-used time is written at most (a write per request would be waste).
const TOUCH_EVERY_MS: i64 = 60_000;

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Read a site's numbers, reports and definitions.
    Read,
    /// Change a site's definitions (conversions, funnels, templates).
    Write,
    /// Manage sites, users, shared links and settings.
    Admin,
}

/// What a personal API key may be used for. A key never exceeds its owner's rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    /// Stats API, reports, conversion and funnel lists of the sites the owner may read.
    #[serde(rename = "stats:read")]
    StatsRead,
    /// Create, change and delete conversions and funnels, apply templates (admin owners).
    #[serde(rename = "definitions:write")]
    DefinitionsWrite,
    /// Manage sites, users, shared links and keys (admin owners).
    #[serde(rename = "sites:admin")]
    SitesAdmin,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 3] = [Scope::StatsRead, Scope::DefinitionsWrite, Scope::SitesAdmin];

    /// The scope's name as written in the API and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Scope::StatsRead => "stats:read",
            Scope::DefinitionsWrite => "definitions:write",
            Scope::SitesAdmin => "sites:admin",
        }
    }

    /// Parses a scope name.
    pub fn parse(s: &str) -> Result<Scope, String> {
        Scope::ALL
            .into_iter()
            .find(|x| x.name() == s.trim())
            .ok_or_else(|| {
                format!("unknown scope {s:?}: use stats:read, definitions:write or sites:admin")
            })
    }

    /// The scope a need calls for.
    pub fn for_need(need: Need) -> Scope {
        match need {
            Need::Read => Scope::StatsRead,
            Need::Write => Scope::DefinitionsWrite,
            Need::Admin => Scope::SitesAdmin,
        }
    }

    /// Whether a user with this role may hold the scope.
    pub fn allowed_for(self, admin: bool) -> bool {
        admin || self == Scope::StatsRead
    }
}

/// Who is asking.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A signed-in person (session cookie).
    User {
        email: String,
        admin: bool,
        /// Sites granted to a viewer (admins read every site).
        sites: Vec<String>,
    },
    /// An API key: a server-wide key from the settings (`id` and `owner` are `None`; full
    /// access), or a personal key acting for its owner within its scopes.
    ApiKey {
        id: Option<String>,
        owner: Option<String>,
        admin: bool,
        sites: Vec<String>,
        scopes: Vec<Scope>,
    },
    /// A shared link: reads one site.
    Shared { site: String, link_id: String },
}

impl Principal {
    /// The person behind the request (a key's owner), if any.
    pub fn email(&self) -> Option<&str> {
        match self {
            Principal::User { email, .. } => Some(email),
            Principal::ApiKey { owner, .. } => owner.as_deref(),
            Principal::Shared { .. } => None,
        }
    }

    /// Whether this is a server-wide key from the settings.
    pub fn is_server_key(&self) -> bool {
        matches!(self, Principal::ApiKey { id: None, .. })
    }

    /// Whether the person behind the request has the admin role (server-wide keys count).
    pub fn is_admin(&self) -> bool {
        match self {
            Principal::User { admin, .. } | Principal::ApiKey { admin, .. } => *admin,
            Principal::Shared { .. } => false,
        }
    }

    /// Whether the principal may read this site (scopes aside).
    pub fn reads_site(&self, site: &str) -> bool {
        match self {
            Principal::User { admin, sites, .. } | Principal::ApiKey { admin, sites, .. } => {
                *admin || sites.iter().any(|s| s == site)
            }
            Principal::Shared { site: own, .. } => own == site,
        }
    }

    /// Checks `need` on `site` (or server-wide when `None`); 403 naming what is missing.
    pub fn permit(&self, site: Option<&str>, need: Need) -> Result<(), ApiError> {
        match self {
            Principal::Shared { site: own, .. } => {
                if need != Need::Read {
                    return Err(ApiError::forbidden("forbidden: a shared link is read-only"));
                }
                match site {
                    Some(s) if s == own => Ok(()),
                    _ => Err(ApiError::forbidden(format!(
                        "forbidden: this shared link reads only site {own:?}"
                    ))),
                }
            }
            Principal::ApiKey { id: None, .. } => Ok(()),
            Principal::ApiKey {
                owner,
                admin,
                sites,
                scopes,
                ..
            } => {
                let scope = Scope::for_need(need);
                if !scopes.contains(&scope) {
                    let has: Vec<&str> = scopes.iter().map(|s| s.name()).collect();
                    return Err(ApiError::forbidden(format!(
                        "forbidden: this API key lacks the scope {} (it has: {})",
                        scope.name(),
                        has.join(", ")
                    )));
                }
                let who = format!("the key's owner {}", owner.as_deref().unwrap_or("?"));
                person_permits(&who, *admin, sites, site, need)
            }
            Principal::User {
                email,
                admin,
                sites,
            } => person_permits(email, *admin, sites, site, need),
        }
    }
}

fn person_permits(
    who: &str,
    admin: bool,
    sites: &[String],
    site: Option<&str>,
    need: Need,
) -> Result<(), ApiError> {
    if admin {
        return Ok(());
    }
    if need != Need::Read {
        return Err(ApiError::forbidden(format!(
            "forbidden: needs the admin role ({who} is a viewer)"
        )));
    }
    match site {
        Some(s) if !sites.iter().any(|g| g == s) => Err(ApiError::forbidden(format!(
            "forbidden: {who} has no access to site {s:?}; an admin can grant it \
             (waymark user grant <email> {s})"
        ))),
        _ => Ok(()),
    }
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
    if let Some(id) = accounts::cookie(headers, SESSION_COOKIE) {
        let st = state.clone();
        let found = off_thread(move || {
            let Some(session) = st.store.session(&accounts::session_hash(&id))? else {
                return Ok(None);
            };
            if session.expires_ms <= accounts::now_ms() {
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

/// Whether the `X-CSRF-Token` header equals the `waymark_csrf` cookie (constant time).
pub fn csrf_header_ok(headers: &HeaderMap) -> bool {
    let Some(cookie) = accounts::cookie(headers, CSRF_COOKIE) else {
        return false;
    };
    let header = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    !cookie.is_empty() && constant_time_eq(cookie.as_bytes(), header.as_bytes())
}

async fn key_principal(state: &Arc<AppState>, key: &str) -> Result<Principal, ApiError> {
    if state
        .config
        .api_keys
        .iter()
        .any(|k| constant_time_eq(k.as_bytes(), key.as_bytes()))
    {
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
    let found = off_thread(move || {
        let Some(k) = st.store.api_key_by_hash(&hash)? else {
            return Ok(None);
        };
        let Some(owner) = st.store.user(&k.email)? else {
            return Ok(None);
        };
        let sites = st.store.grants_of(&owner.email)?;
        let now = accounts::now_ms();
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
    if !link_unlocked(headers, &link) {
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

/// The unlock cookie's name for a link.
pub fn unlock_cookie_name(link: &waymark_store::SharedLink) -> String {
    format!("{UNLOCK_COOKIE_PREFIX}{}", link.id)
}

/// How long an unlock cookie opens a password-protected link.
pub const UNLOCK_TTL_S: u64 = 30 * 24 * 3600;

/// The MAC of an unlock issued at `issued_s`: bound to the link's token and password hash
/// (which holds a random salt only the server knows), so it opens that link only, dies with a
/// password change, and cannot be re-dated.
fn unlock_mac(link: &waymark_store::SharedLink, issued_s: u64) -> String {
    let mut h = Blake2s256::new();
    h.update(b"waymark-share-unlock\0");
    h.update(link.token.as_bytes());
    h.update(b"\0");
    h.update(link.password_hash.as_deref().unwrap_or("").as_bytes());
    h.update(b"\0");
    h.update(issued_s.to_le_bytes());
    accounts::hex(&h.finalize())
}

fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The unlock cookie's value, issued now: `<issued seconds>.<mac>`. The server checks the age
/// itself, as a copied cookie does not honour `Max-Age`.
pub fn unlock_value(link: &waymark_store::SharedLink) -> String {
    let issued = now_s();
    format!("{issued}.{}", unlock_mac(link, issued))
}

/// Whether the request may see the link: it has no password, or carries an unlock cookie for
/// it issued within [`UNLOCK_TTL_S`].
pub fn link_unlocked(headers: &HeaderMap, link: &waymark_store::SharedLink) -> bool {
    if link.password_hash.is_none() {
        return true;
    }
    let Some(value) = accounts::cookie(headers, &unlock_cookie_name(link)) else {
        return false;
    };
    let Some((issued, mac)) = value.split_once('.') else {
        return false;
    };
    let Ok(issued) = issued.parse::<u64>() else {
        return false;
    };
    let now = now_s();
    // A minute of clock slack forward; nothing older than the TTL.
    if issued > now + 60 || now.saturating_sub(issued) > UNLOCK_TTL_S {
        return false;
    }
    constant_time_eq(mac.as_bytes(), unlock_mac(link, issued).as_bytes())
}

/// The stored digest of a personal API key. Keys are 32 random bytes, so a fast hash is enough
/// (no dictionary to guess from); it makes the stored value useless as a credential.
pub fn key_hash(key: &str) -> String {
    accounts::hex(&Blake2s256::digest(key.as_bytes()))
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
    if config
        .api_keys
        .iter()
        .any(|k| constant_time_eq(k.as_bytes(), key.as_bytes()))
    {
        Ok(true)
    } else {
        Err(ApiError::unauthenticated("unknown API key"))
    }
}

/// Byte equality in time independent of where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer() -> Principal {
        Principal::User {
            email: "v@x".into(),
            admin: false,
            sites: vec!["a.example".into()],
        }
    }

    #[test]
    fn unlock_cookies_open_their_link_until_they_expire() {
        let link = waymark_store::SharedLink {
            id: "l1".into(),
            site: "a.example".into(),
            name: "board".into(),
            token: "tok".into(),
            password_hash: Some("$argon2id$v=19$secret".into()),
            created_by: "a@x".into(),
            created_ms: 1,
        };
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                header::COOKIE,
                format!("{}={value}", unlock_cookie_name(&link))
                    .parse()
                    .unwrap(),
            );
            h
        };
        assert!(link_unlocked(&with(&unlock_value(&link)), &link));
        assert!(!link_unlocked(&HeaderMap::new(), &link));
        // Re-dated or stale cookies do not open it.
        let old = now_s() - UNLOCK_TTL_S - 10;
        assert!(!link_unlocked(
            &with(&format!("{old}.{}", unlock_mac(&link, old))),
            &link
        ));
        let (_, mac) = unlock_value(&link)
            .split_once('.')
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .unwrap();
        assert!(!link_unlocked(
            &with(&format!("{}.{mac}", now_s() - 5)),
            &link
        ));
        // Another password (or link) makes it worthless.
        let mut changed = link.clone();
        changed.password_hash = Some("$argon2id$v=19$other".into());
        assert!(!link_unlocked(&with(&unlock_value(&link)), &changed));
    }

    #[test]
    fn viewers_read_granted_sites_only() {
        let v = viewer();
        assert!(v.permit(Some("a.example"), Need::Read).is_ok());
        assert!(v.permit(None, Need::Read).is_ok());
        let e = v.permit(Some("b.example"), Need::Read).unwrap_err();
        assert_eq!(e.kind(), &waymark_core::ErrorKind::Forbidden);
        assert!(e.message().contains("b.example"), "{}", e.message());
        let e = v.permit(Some("a.example"), Need::Write).unwrap_err();
        assert!(e.message().contains("admin role"), "{}", e.message());
    }

    #[test]
    fn keys_are_narrowed_by_scopes_and_shared_links_by_site() {
        let key = Principal::ApiKey {
            id: Some("k".into()),
            owner: Some("a@x".into()),
            admin: true,
            sites: vec![],
            scopes: vec![Scope::StatsRead],
        };
        assert!(key.permit(Some("any.example"), Need::Read).is_ok());
        let e = key.permit(Some("any.example"), Need::Write).unwrap_err();
        assert!(e.message().contains("definitions:write"), "{}", e.message());
        let shared = Principal::Shared {
            site: "a.example".into(),
            link_id: "l".into(),
        };
        assert!(shared.permit(Some("a.example"), Need::Read).is_ok());
        assert!(shared.permit(Some("b.example"), Need::Read).is_err());
        assert!(shared.permit(None, Need::Read).is_err());
        assert!(shared.permit(Some("a.example"), Need::Write).is_err());
        assert_eq!(Scope::parse("sites:admin"), Ok(Scope::SitesAdmin));
        assert!(Scope::parse("everything").is_err());
    }
}
