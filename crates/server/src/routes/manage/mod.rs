//! The JSON API behind the dashboard's session and its settings pages: who is signed in
//! ([`session`]), [`sites`], personal API [`keys`], shared [`links`] and [`users`]. Every route
//! goes through [`crate::access::authorize`] (or `authenticate`); rules in `docs/access.md`.

mod keys;
mod links;
mod session;
mod sites;
mod users;

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, put};
use axum::{Json, Router};
use serde_json::{json, Value};
use waymark_core::{ErrorKind, Site};
use waymark_store::StoreError;

use crate::access::credentials::hash_password;
use crate::access::limiter::checked_password;
use crate::access::{self, Principal};
use crate::error::{off_thread, ApiError};
use crate::state::AppState;

/// The routes, merged into the server's router.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/session", get(session::session))
        .route("/api/sites", get(sites::list_sites).post(sites::add_site))
        .route("/api/sites/{site}", delete(sites::remove_site))
        .route("/api/keys", get(keys::list_keys).post(keys::create_key))
        .route("/api/keys/{id}", delete(keys::delete_key))
        .route(
            "/api/sites/{site}/shared-links",
            get(links::list_links).post(links::create_link),
        )
        .route(
            "/api/sites/{site}/shared-links/{id}",
            delete(links::delete_link),
        )
        .route(
            "/api/users",
            get(users::list_users).post(users::create_user),
        )
        .route("/api/users/{email}", delete(users::delete_user))
        .route("/api/users/{email}/grants", put(users::put_grants))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    off_thread(f).await
}

fn created(body: Value) -> Response {
    (StatusCode::CREATED, Json(body)).into_response()
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
    Ok(access::visible_sites(state, principal)
        .await?
        .into_iter()
        .map(|s| json!({"domain": s.domain, "timezone": s.timezone}))
        .collect())
}

/// Hashes a password on the blocking pool (argon2 is slow on purpose), among the password
/// checks' permits so a burst of them cannot exhaust memory.
async fn hashed(password: String) -> Result<String, ApiError> {
    checked_password(move || hash_password(&password))
        .await
        .ok_or_else(|| ApiError::new(ErrorKind::Unavailable, "the password worker failed"))?
        .map_err(ApiError::from)
}
