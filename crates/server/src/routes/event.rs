//! `POST /api/event`: Plausible's Events API. 202 once the event is durable in the ingest log;
//! 202 plus `x-waymark-dropped` (and Plausible's `x-plausible-dropped`) when it is deliberately
//! not stored, so trackers never retry; 400 naming the field; 413 for oversized bodies.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use waymark_collect::idempotency::{IdempotencyKeys, RETRY_WINDOW_MS};
use waymark_collect::{Outcome, Payload, RequestMeta};
use waymark_core::ErrorKind;

use crate::error::ApiError;
use crate::http::client_ip::client_ip;
use crate::state::AppState;

/// Explicit timestamps may not lie further ahead than this (clock skew).
const MAX_FUTURE_MS: i64 = 5 * 60 * 1000;

pub async fn post_event(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let result = handle(&state, peer, &headers, body).await;
    if matches!(&result, Err(e) if e.kind().is_caller_error()) {
        state
            .collector
            .metrics
            .rejected_invalid
            .fetch_add(1, Ordering::Relaxed);
    }
    result
}

async fn handle(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let limit = state.config.max_body_bytes;
    let bytes = read_body(body, limit).await?;
    let mut payload = Payload::parse(&bytes)?;

    let authenticated = authenticated(state, headers)?;
    if let Some(key) = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty())
    {
        payload.idempotency_key = Some(key.to_string());
    }
    if !authenticated && (payload.timestamp_ms.is_some() || payload.idempotency_key.is_some()) {
        return Err(ApiError::unauthenticated(
            "timestamp and idempotency_key are for server-side senders: send an API key as `Authorization: Bearer <key>`",
        ));
    }
    let now = chrono::Utc::now().timestamp_millis();
    let timestamp_ms = payload.timestamp_ms.unwrap_or(now);
    if timestamp_ms > now + MAX_FUTURE_MS {
        return Err(ApiError::bad_field(
            "timestamp",
            "timestamp: lies in the future",
        ));
    }
    if payload.idempotency_key.is_some() && !IdempotencyKeys::in_window(timestamp_ms, now) {
        // Its retries could no longer be recognised, so it could be stored twice.
        return Err(ApiError::bad_field(
            "idempotency_key",
            format!(
                "idempotency_key: retries are recognised for {} days after an event's timestamp, so a keyed event may be at most that old; send older backfills without a key",
                RETRY_WINDOW_MS / 86_400_000
            ),
        ));
    }

    let user_agent = headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let meta = RequestMeta {
        ip: client_ip(peer.ip(), headers, &state.config.trusted_proxies),
        user_agent,
        timestamp_ms,
    };
    let outcome = state.collector.process_at(&payload, &meta, now)?;
    drop(meta);
    match outcome {
        Outcome::Dropped(reason) => Ok((
            StatusCode::ACCEPTED,
            [
                ("x-waymark-dropped", reason.as_str()),
                ("x-plausible-dropped", "1"),
            ],
            "ok",
        )
            .into_response()),
        Outcome::Accepted(events) => match state.log.append(events).await {
            Ok(_) => Ok((StatusCode::ACCEPTED, "ok").into_response()),
            Err(e) => {
                // Not stored: a retry with the same key must not be taken for a duplicate.
                if let Some(key) = &payload.idempotency_key {
                    state.collector.forget_key(key, timestamp_ms);
                }
                Err(e.into())
            }
        },
    }
}

/// `Authorization: Bearer <key>`: absent is fine (browser events), wrong is an error.
fn authenticated(state: &AppState, headers: &HeaderMap) -> Result<bool, ApiError> {
    crate::access::bearer(&state.config, headers)
}

/// Bodies up to this size are read to the end even when refused, so the client (still
/// writing) receives the 413 instead of a reset connection.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

/// Reads the body, refusing it with 413 past `limit` bytes.
async fn read_body(mut body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    use axum::body::HttpBody;
    let mut buf = Vec::new();
    let mut seen = 0usize;
    let failed =
        |e: axum::Error| ApiError::bad_field("body", format!("body: could not be read ({e})"));
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let Ok(data) = frame.map_err(failed)?.into_data() else {
            continue;
        };
        seen += data.len();
        if seen <= limit {
            buf.extend_from_slice(&data);
        } else if seen > DRAIN_LIMIT {
            break;
        }
    }
    if seen > limit {
        return Err(ApiError::new(
            ErrorKind::TooLarge,
            format!("request body is larger than {limit} bytes"),
        ));
    }
    Ok(buf)
}
