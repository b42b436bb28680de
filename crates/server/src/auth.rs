//! API keys: `Authorization: Bearer <key>` checked against `ServerConfig.api_keys` in constant
//! time. Shared by the Events API (optional key) and the Stats API (required key).

use axum::http::{HeaderMap, StatusCode};

use crate::error::ApiError;
use crate::ServerConfig;

/// `Authorization: Bearer <key>`: `Ok(false)` when absent, `Ok(true)` for a configured key,
/// 401 for a malformed header or an unknown key.
pub fn bearer(config: &ServerConfig, headers: &HeaderMap) -> Result<bool, ApiError> {
    let Some(value) = headers.get("authorization") else {
        return Ok(false);
    };
    let key = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Authorization must be `Bearer <api key>`",
            )
        })?;
    if config
        .api_keys
        .iter()
        .any(|k| constant_time_eq(k.as_bytes(), key.as_bytes()))
    {
        Ok(true)
    } else {
        Err(ApiError::new(StatusCode::UNAUTHORIZED, "unknown API key"))
    }
}

/// Like [`bearer`], but a missing key is a 401 too.
pub fn require_bearer(config: &ServerConfig, headers: &HeaderMap) -> Result<(), ApiError> {
    if bearer(config, headers)? {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing API key: send `Authorization: Bearer <api key>` (keys are set with --api-keys)",
        ))
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
