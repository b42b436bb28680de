//! `/api/sites`: the sites the caller may read; admins add sites (or change a time zone) and
//! delete them with their data. The collector learns of each change at once.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use waymark_core::Site;

use super::{blocking, created, site_list};
use crate::access::{self, Need};
use crate::error::{json_body, ApiError};
use crate::state::AppState;

pub(super) async fn list_sites(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // Any credentials: everyone sees the sites they may read (a shared link: its own).
    let principal = access::authenticate(&state, &headers, false).await?;
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

pub(super) async fn add_site(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    access::authorize(&state, &headers, None, Need::Admin).await?;
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

pub(super) async fn remove_site(
    State(state): State<Arc<AppState>>,
    Path(site): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    access::authorize(&state, &headers, Some(&site), Need::Admin).await?;
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
