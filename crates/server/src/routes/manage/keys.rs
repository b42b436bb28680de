//! `/api/keys`: personal API keys. A signed-in person manages their own keys, a personal key
//! with `sites:admin` its owner's; admins (and server-wide keys) see and delete everyone's.
//! The key is in the answer once, at creation; only its digest is stored
//! ([`crate::access::accounts::make_key`]).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use waymark_store::ApiKey;

use super::{blocking, created, ms_to_rfc3339};
use crate::access::accounts::{check_key_request, make_key};
use crate::access::{self, Principal, Scope};
use crate::error::{json_body, ApiError};
use crate::state::AppState;

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
    let p = access::authenticate(state, headers, writes).await?;
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

pub(super) async fn list_keys(
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

pub(super) async fn create_key(
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
    let (key, plain) = make_key(&owner, name, &scopes, state.clock);
    let st = state.clone();
    let stored = key.clone();
    blocking(move || st.store.save_api_key(&stored)).await?;
    tracing::info!(owner = %owner, id = %key.id, "API key created");
    let mut body = key_json(&key);
    body["key"] = json!(plain);
    Ok(created(body))
}

pub(super) async fn delete_key(
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
