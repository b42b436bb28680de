//! `GET /api/session`: who is asking (a person, a key, a shared link), the sites they may
//! read, and the CSRF token their cookie-authenticated writes must carry.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::site_list;
use crate::access::accounts::role_name;
use crate::access::{self, Principal};
use crate::error::ApiError;
use crate::http::cookies::over_tls;
use crate::http::csrf::csrf_token;
use crate::state::AppState;

/// Who is asking, the sites they may read, and the CSRF token for their writes.
pub(super) async fn session(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let principal = access::authenticate(&state, &headers, false).await?;
    let sites = site_list(&state, &principal).await?;
    let secure = over_tls(&state, peer.ip(), &headers);
    let (csrf, new_cookie) = csrf_token(&headers, secure);
    let body = match &principal {
        Principal::Shared { .. } => json!({"mode": "shared", "sites": sites, "csrf_token": csrf}),
        Principal::User { email, admin, .. } => json!({
            "mode": "user", "email": email, "role": role_name(*admin), "sites": sites, "csrf_token": csrf
        }),
        Principal::ApiKey {
            owner,
            admin,
            scopes,
            ..
        } => json!({
            "mode": "key",
            "email": owner,
            "role": role_name(*admin),
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
