//! `/api/users`: users with their role and granted sites (admins only). The rules (email,
//! password, role, the last admin) are [`crate::access::accounts`]'s, as for the CLI.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use waymark_store::User;

use super::{blocking, created, hashed, ms_to_rfc3339};
use crate::access::accounts::{
    check_password, checked_email, create_user as create, normalize_email, parse_role, remove_user,
    role_name,
};
use crate::access::{self, Need};
use crate::error::{json_body, off_thread, ApiError};
use crate::state::AppState;

pub(super) async fn list_users(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    access::authorize_with(&state, &headers, None, Need::Admin, false).await?;
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
                "role": role_name(u.admin),
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

pub(super) async fn create_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    access::authorize(&state, &headers, None, Need::Admin).await?;
    let b: UserBody = json_body(&body)?;
    let email = checked_email(&b.email)?;
    let admin = parse_role(&b.role)?;
    check_password(&b.password)?;
    let sites = checked_sites(&state, b.sites).await?;
    let user = User {
        email: email.clone(),
        password_hash: hashed(b.password).await?,
        admin,
        created_ms: state.clock.now_ms(),
    };
    let st = state.clone();
    let grants = sites.clone();
    off_thread(move || create(st.store.as_ref(), &user, &grants)).await?;
    tracing::info!(user = %email, "user created over the API");
    Ok(created(
        json!({"email": email, "role": role_name(admin), "sites": sites}),
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

pub(super) async fn delete_user(
    State(state): State<Arc<AppState>>,
    Path(email): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    access::authorize(&state, &headers, None, Need::Admin).await?;
    let email = normalize_email(&email);
    let st = state.clone();
    let e = email.clone();
    off_thread(move || remove_user(st.store.as_ref(), &e)).await?;
    tracing::info!(user = %email, "user removed over the API");
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantsBody {
    sites: Vec<String>,
}

pub(super) async fn put_grants(
    State(state): State<Arc<AppState>>,
    Path(email): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    access::authorize(&state, &headers, None, Need::Admin).await?;
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
