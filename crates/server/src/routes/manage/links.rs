//! `/api/sites/{site}/shared-links`: read-only links to one site's dashboard (admins), with
//! an optional password (stored as an argon2 hash; the browser unlocks it at `/share/{token}`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use waymark_store::SharedLink;

use super::{blocking, created, existing_site, hashed, ms_to_rfc3339};
use crate::access::accounts::{check_password, checked_name};
use crate::access::credentials::random_hex;
use crate::access::{self, Need};
use crate::error::{json_body, ApiError};
use crate::state::AppState;

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

pub(super) async fn list_links(
    State(state): State<Arc<AppState>>,
    Path(site): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    access::authorize_with(&state, &headers, Some(&site), Need::Admin, false).await?;
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

pub(super) async fn create_link(
    State(state): State<Arc<AppState>>,
    Path(site): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = access::authorize(&state, &headers, Some(&site), Need::Admin).await?;
    let b: LinkBody = json_body(&body)?;
    let name = checked_name(&b.name)?;
    let password_hash = match b.password.filter(|p| !p.is_empty()) {
        Some(pw) => {
            check_password(&pw)?;
            Some(hashed(pw).await?)
        }
        None => None,
    };
    let site = existing_site(&state, &site).await?;
    let link = SharedLink {
        id: random_hex(8),
        site: site.domain,
        name,
        token: random_hex(24),
        password_hash,
        created_by: p.email().unwrap_or("server key").to_string(),
        created_ms: state.clock.now_ms(),
    };
    let st = state.clone();
    let stored = link.clone();
    blocking(move || st.store.save_shared_link(&stored)).await?;
    tracing::info!(site = %link.site, id = %link.id, "shared link created");
    let mut body = link_json(&link);
    body["token"] = json!(link.token);
    Ok(created(body))
}

pub(super) async fn delete_link(
    State(state): State<Arc<AppState>>,
    Path((site, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    access::authorize(&state, &headers, Some(&site), Need::Admin).await?;
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
