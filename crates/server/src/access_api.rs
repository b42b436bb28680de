//! The JSON API behind the dashboard's session and its settings pages: who is signed in
//! (`/api/session`), sites, personal API keys, shared links and users. Every route goes
//! through [`crate::auth::authorize`]; rules in `docs/access.md`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use waymark_core::{ErrorKind, Site};
use waymark_store::{ApiKey, SharedLink, StoreError, User};

use crate::accounts::{self, hash_password, normalize_email};
use crate::auth::{self, Need, Principal, Scope};
use crate::error::{json_body, off_thread, ApiError};
use crate::state::AppState;

/// Shortest password accepted for users and shared links.
pub const MIN_PASSWORD: usize = 8;

/// The routes, merged into the server's router.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/session", get(session))
        .route("/api/sites", get(list_sites).post(add_site))
        .route("/api/sites/{site}", delete(remove_site))
        .route("/api/keys", get(list_keys).post(create_key))
        .route("/api/keys/{id}", delete(delete_key))
        .route(
            "/api/sites/{site}/shared-links",
            get(list_links).post(create_link),
        )
        .route("/api/sites/{site}/shared-links/{id}", delete(delete_link))
        .route("/api/users", get(list_users).post(create_user))
        .route("/api/users/{email}", delete(delete_user))
        .route("/api/users/{email}/grants", put(put_grants))
}

// ---- plumbing -----------------------------------------------------------------------------

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    off_thread(f).await
}

fn created(body: Value) -> Response {
    (StatusCode::CREATED, Json(body)).into_response()
}

fn role(admin: bool) -> &'static str {
    if admin {
        "admin"
    } else {
        "viewer"
    }
}

fn ms_to_rfc3339(ms: i64) -> Value {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| json!(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
        .unwrap_or(Value::Null)
}

/// 404 for a site that does not exist (checked after authorization, so nobody learns which
/// sites exist beyond those they may see).
async fn existing_site(state: &Arc<AppState>, domain: &str) -> Result<Site, ApiError> {
    let st = state.clone();
    let d = domain.to_string();
    blocking(move || st.store.site(&d))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("unknown site {domain:?}")))
}

/// The sites `principal` may read, as the API lists them.
async fn site_list(state: &Arc<AppState>, principal: &Principal) -> Result<Vec<Value>, ApiError> {
    Ok(auth::visible_sites(state, principal)
        .await?
        .into_iter()
        .map(|s| json!({"domain": s.domain, "timezone": s.timezone}))
        .collect())
}

/// A key's or shared link's name, trimmed: required, up to 100 characters.
fn checked_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::bad_field(
            "name",
            "name: required, up to 100 characters",
        ));
    }
    Ok(name)
}

/// Hashes a password on the blocking pool (argon2 is slow on purpose), among the password
/// checks' permits so a burst of them cannot exhaust memory.
async fn hashed(password: String) -> Result<String, ApiError> {
    accounts::checked_password(move || hash_password(&password))
        .await
        .ok_or_else(|| ApiError::new(ErrorKind::Unavailable, "the password worker failed"))?
        .map_err(|e| ApiError::new(ErrorKind::Internal, e))
}

// ---- session ------------------------------------------------------------------------------

/// Who is asking, the sites they may read, and the CSRF token for their writes.
async fn session(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let principal = auth::authenticate(&state, &headers, false).await?;
    let sites = site_list(&state, &principal).await?;
    let secure = accounts::over_tls(&state, peer.ip(), &headers);
    let (csrf, new_cookie) = accounts::csrf_token(&headers, secure);
    let body = match &principal {
        Principal::Shared { .. } => json!({"mode": "shared", "sites": sites, "csrf_token": csrf}),
        Principal::User { email, admin, .. } => json!({
            "mode": "user", "email": email, "role": role(*admin), "sites": sites, "csrf_token": csrf
        }),
        Principal::ApiKey {
            owner,
            admin,
            scopes,
            ..
        } => json!({
            "mode": "key",
            "email": owner,
            "role": role(*admin),
            "scopes": scopes.iter().map(|s| s.name()).collect::<Vec<_>>(),
            "sites": sites,
            "csrf_token": csrf
        }),
    };
    let mut resp = Json(body).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(c) = new_cookie.and_then(|c| c.parse().ok()) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

// ---- sites --------------------------------------------------------------------------------

async fn list_sites(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // Any credentials: everyone sees the sites they may read (a shared link: its own).
    let principal = auth::authenticate(&state, &headers, false).await?;
    let sites = site_list(&state, &principal).await?;
    Ok(Json(json!({ "sites": sites })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteBody {
    domain: String,
    #[serde(default)]
    timezone: Option<String>,
}

async fn add_site(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth::authorize(&state, &headers, None, Need::Admin).await?;
    let b: SiteBody = json_body(&body)?;
    let site = Site::new(&b.domain, b.timezone.as_deref().unwrap_or("UTC"))?;
    let st = state.clone();
    let s = site.clone();
    let existed = blocking(move || {
        let existed = st.store.site(&s.domain)?.is_some();
        st.store.add_site(&s)?;
        Ok(existed)
    })
    .await?;
    // The collector accepts events only for sites it knows.
    state.collector.add_site(&site.domain);
    tracing::info!(site = %site.domain, "site added over the API");
    let body = json!({"domain": site.domain, "timezone": site.timezone});
    Ok(if existed {
        Json(body).into_response()
    } else {
        created(body)
    })
}

async fn remove_site(
    State(state): State<Arc<AppState>>,
    Path(site): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    auth::authorize(&state, &headers, Some(&site), Need::Admin).await?;
    let st = state.clone();
    let domain = site.clone();
    let existed = blocking(move || st.store.remove_site(&domain)).await?;
    if !existed {
        return Err(ApiError::not_found(format!("unknown site {site:?}")));
    }
    state.collector.remove_site(&site);
    tracing::info!(%site, "site removed over the API");
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- API keys -----------------------------------------------------------------------------

fn key_json(k: &ApiKey) -> Value {
    json!({
        "id": k.id,
        "name": k.name,
        "owner": k.email,
        "prefix": k.prefix,
        "scopes": k.scopes,
        "created_at": ms_to_rfc3339(k.created_ms),
        "last_used_at": k.last_used_ms.map(ms_to_rfc3339).unwrap_or(Value::Null),
    })
}

/// Key management: a signed-in person for their own keys, a personal key with `sites:admin`
/// for its owner's; admins (and server-wide keys) see and delete everyone's.
async fn key_manager(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    writes: bool,
) -> Result<Principal, ApiError> {
    let p = auth::authenticate(state, headers, writes).await?;
    match &p {
        Principal::Shared { .. } => Err(ApiError::forbidden(
            "forbidden: a shared link cannot manage API keys",
        )),
        Principal::ApiKey {
            id: Some(_),
            scopes,
            ..
        } if !scopes.contains(&Scope::SitesAdmin) => Err(ApiError::forbidden(
            "forbidden: this API key lacks the scope sites:admin",
        )),
        _ => Ok(p),
    }
}

/// Whether `p` sees and may delete `key`: admins every key, others their own.
fn manages(p: &Principal, key: &ApiKey) -> bool {
    p.is_admin() || Some(key.email.as_str()) == p.email()
}

async fn list_keys(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let p = key_manager(&state, &headers, false).await?;
    let st = state.clone();
    let keys = blocking(move || st.store.api_keys()).await?;
    let mine: Vec<Value> = keys
        .iter()
        .filter(|k| manages(&p, k))
        .map(key_json)
        .collect();
    Ok(Json(json!({ "keys": mine })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyBody {
    name: String,
    scopes: Vec<String>,
}

/// A new key: the `wmk_` prefix and 32 random bytes in hex.
pub fn new_key() -> String {
    format!("{}{}", auth::KEY_PREFIX, accounts::random_hex(32))
}

/// Checks a key request against the owner's role: (name, scopes) or a 400/403.
pub fn check_key_request(
    name: &str,
    scopes: &[String],
    owner_admin: bool,
) -> Result<(String, Vec<Scope>), ApiError> {
    let name = checked_name(name)?;
    if scopes.is_empty() {
        return Err(ApiError::bad_field(
            "scopes",
            "scopes: at least one of stats:read, definitions:write, sites:admin",
        ));
    }
    let mut parsed = Vec::new();
    for s in scopes {
        let scope = Scope::parse(s).map_err(|e| ApiError::bad_field("scopes", e))?;
        if !scope.allowed_for(owner_admin) {
            return Err(ApiError::forbidden(format!(
                "forbidden: the scope {} needs the admin role (viewers' keys may only have stats:read)",
                scope.name()
            )));
        }
        if !parsed.contains(&scope) {
            parsed.push(scope);
        }
    }
    Ok((name, parsed))
}

/// Builds the stored form of a new key for `email`; returns it with the plain key.
pub fn make_key(email: &str, name: String, scopes: &[Scope]) -> (ApiKey, String) {
    let plain = new_key();
    let key = ApiKey {
        id: accounts::random_hex(8),
        email: email.to_string(),
        name,
        prefix: plain.chars().take(auth::KEY_PREFIX.len() + 8).collect(),
        key_hash: auth::key_hash(&plain),
        scopes: scopes.iter().map(|s| s.name().to_string()).collect(),
        created_ms: accounts::now_ms(),
        last_used_ms: None,
    };
    (key, plain)
}

async fn create_key(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = key_manager(&state, &headers, true).await?;
    let Some(owner) = p.email().map(str::to_string) else {
        return Err(ApiError::forbidden(
            "forbidden: keys belong to people; sign in (or use a personal key) to create one",
        ));
    };
    let b: KeyBody = json_body(&body)?;
    let (name, scopes) = check_key_request(&b.name, &b.scopes, p.is_admin())?;
    let (key, plain) = make_key(&owner, name, &scopes);
    let st = state.clone();
    let stored = key.clone();
    blocking(move || st.store.save_api_key(&stored)).await?;
    tracing::info!(owner = %owner, id = %key.id, "API key created");
    let mut body = key_json(&key);
    body["key"] = json!(plain);
    Ok(created(body))
}

async fn delete_key(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let p = key_manager(&state, &headers, true).await?;
    let st = state.clone();
    let keys = blocking(move || st.store.api_keys()).await?;
    // Someone else's key is answered like a missing one.
    let Some(key) = keys.into_iter().find(|k| k.id == id && manages(&p, k)) else {
        return Err(ApiError::not_found(format!("no API key {id:?}")));
    };
    let st = state.clone();
    blocking(move || st.store.delete_api_key(&key.id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- shared links -------------------------------------------------------------------------

fn link_json(l: &SharedLink) -> Value {
    json!({
        "id": l.id,
        "site": l.site,
        "name": l.name,
        "url": format!("/share/{}", l.token),
        "protected": l.password_hash.is_some(),
        "created_by": l.created_by,
        "created_at": ms_to_rfc3339(l.created_ms),
    })
}

async fn list_links(
    State(state): State<Arc<AppState>>,
    Path(site): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    auth::authorize_with(&state, &headers, Some(&site), Need::Admin, false).await?;
    existing_site(&state, &site).await?;
    let st = state.clone();
    let links = blocking(move || st.store.shared_links(&site)).await?;
    Ok(Json(json!({ "links": links.iter().map(link_json).collect::<Vec<_>>() })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkBody {
    name: String,
    #[serde(default)]
    password: Option<String>,
}

async fn create_link(
    State(state): State<Arc<AppState>>,
    Path(site): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = auth::authorize(&state, &headers, Some(&site), Need::Admin).await?;
    let b: LinkBody = json_body(&body)?;
    let name = checked_name(&b.name)?;
    let password_hash = match b.password.filter(|p| !p.is_empty()) {
        Some(pw) if pw.chars().count() < MIN_PASSWORD => {
            return Err(ApiError::bad_field(
                "password",
                format!("password: at least {MIN_PASSWORD} characters (or none)"),
            ))
        }
        Some(pw) => Some(hashed(pw).await?),
        None => None,
    };
    let site = existing_site(&state, &site).await?;
    let link = SharedLink {
        id: accounts::random_hex(8),
        site: site.domain,
        name,
        token: accounts::random_hex(24),
        password_hash,
        created_by: p.email().unwrap_or("server key").to_string(),
        created_ms: accounts::now_ms(),
    };
    let st = state.clone();
    let stored = link.clone();
    blocking(move || st.store.save_shared_link(&stored)).await?;
    tracing::info!(site = %link.site, id = %link.id, "shared link created");
    let mut body = link_json(&link);
    body["token"] = json!(link.token);
    Ok(created(body))
}

async fn delete_link(
    State(state): State<Arc<AppState>>,
    Path((site, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    auth::authorize(&state, &headers, Some(&site), Need::Admin).await?;
    let st = state.clone();
    let (s, i) = (site.clone(), id.clone());
    if blocking(move || st.store.delete_shared_link(&s, &i)).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!(
            "no shared link {id:?} on site {site:?}"
        )))
    }
}

// ---- users --------------------------------------------------------------------------------

async fn list_users(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    auth::authorize_with(&state, &headers, None, Need::Admin, false).await?;
    let st = state.clone();
    let (users, grants) = blocking(move || Ok((st.store.users()?, st.store.grants()?))).await?;
    let list: Vec<Value> = users
        .iter()
        .map(|u| {
            let sites: Vec<&str> = grants
                .iter()
                .filter(|(e, _)| *e == u.email)
                .map(|(_, s)| s.as_str())
                .collect();
            json!({
                "email": u.email,
                "role": role(u.admin),
                "sites": sites,
                "created_at": ms_to_rfc3339(u.created_ms),
            })
        })
        .collect();
    Ok(Json(json!({ "users": list })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserBody {
    email: String,
    password: String,
    role: String,
    #[serde(default)]
    sites: Vec<String>,
}

/// Parses a role name: `admin` → true, `viewer` → false.
pub fn parse_role(role: &str) -> Result<bool, String> {
    match role.trim() {
        "admin" => Ok(true),
        "viewer" => Ok(false),
        other => Err(format!("unknown role {other:?}: use admin or viewer")),
    }
}

async fn create_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth::authorize(&state, &headers, None, Need::Admin).await?;
    let b: UserBody = json_body(&body)?;
    let email = normalize_email(&b.email);
    if !email.contains('@') || email.chars().any(char::is_whitespace) || email.len() > 254 {
        return Err(ApiError::bad_field(
            "email",
            format!("{email:?} is not an email address"),
        ));
    }
    let admin = parse_role(&b.role).map_err(|e| ApiError::bad_field("role", e))?;
    if b.password.chars().count() < MIN_PASSWORD {
        return Err(ApiError::bad_field(
            "password",
            format!("password: at least {MIN_PASSWORD} characters"),
        ));
    }
    let sites = checked_sites(&state, b.sites).await?;
    let password_hash = hashed(b.password).await?;
    let st = state.clone();
    let user = User {
        email: email.clone(),
        password_hash,
        admin,
        created_ms: accounts::now_ms(),
    };
    let grants = sites.clone();
    let made = blocking(move || {
        if st.store.user(&user.email)?.is_some() {
            return Ok(false);
        }
        st.store.save_user(&user)?;
        st.store.set_grants(&user.email, &grants)?;
        Ok(true)
    })
    .await?;
    if !made {
        return Err(ApiError::conflict(format!("user {email:?} exists")));
    }
    tracing::info!(user = %email, "user created over the API");
    Ok(created(
        json!({"email": email, "role": role(admin), "sites": sites}),
    ))
}

/// The sites named, each checked to exist (400 naming the first unknown one).
async fn checked_sites(state: &Arc<AppState>, sites: Vec<String>) -> Result<Vec<String>, ApiError> {
    let st = state.clone();
    let all = blocking(move || st.store.sites()).await?;
    let mut out = Vec::new();
    for s in sites {
        let d = waymark_core::site::normalize_domain(&s);
        if !all.iter().any(|x| x.domain == d) {
            return Err(ApiError::bad_field("sites", format!("unknown site {s:?}")));
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

async fn delete_user(
    State(state): State<Arc<AppState>>,
    Path(email): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    auth::authorize(&state, &headers, None, Need::Admin).await?;
    let email = normalize_email(&email);
    let st = state.clone();
    let e = email.clone();
    // Some(false): refused, it is the last admin; None: no such user.
    let outcome = blocking(move || {
        let users = st.store.users()?;
        let Some(user) = users.iter().find(|u| u.email == e) else {
            return Ok(None);
        };
        if user.admin && users.iter().filter(|u| u.admin).count() == 1 {
            return Ok(Some(false));
        }
        st.store.remove_user(&e)?;
        Ok(Some(true))
    })
    .await?;
    match outcome {
        None => Err(ApiError::not_found(format!("no user {email:?}"))),
        Some(false) => Err(ApiError::conflict(format!(
            "{email:?} is the last admin; make someone else admin first"
        ))),
        Some(true) => {
            tracing::info!(user = %email, "user removed over the API");
            Ok(StatusCode::NO_CONTENT.into_response())
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantsBody {
    sites: Vec<String>,
}

async fn put_grants(
    State(state): State<Arc<AppState>>,
    Path(email): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth::authorize(&state, &headers, None, Need::Admin).await?;
    let email = normalize_email(&email);
    let b: GrantsBody = json_body(&body)?;
    let sites = checked_sites(&state, b.sites).await?;
    let st = state.clone();
    let (e, s) = (email.clone(), sites.clone());
    let found = blocking(move || {
        if st.store.user(&e)?.is_none() {
            return Ok(false);
        }
        st.store.set_grants(&e, &s)?;
        Ok(true)
    })
    .await?;
    if !found {
        return Err(ApiError::not_found(format!("no user {email:?}")));
    }
    Ok(Json(json!({"email": email, "sites": sites})).into_response())
}
