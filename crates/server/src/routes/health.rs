//! `GET /health` (and `/api/health`): whether the store answers; `GET /metrics`: the
//! collector's counters in Prometheus' text format.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

/// The routes, merged into the server's router.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/health", get(health))
        .route("/api/health", get(health))
        .route("/metrics", get(metrics))
}

/// 200 with `{"status": "ok", "store": true}`, or 503 with `"store unavailable"`: a health
/// report, not an error, so it says what it found either way.
async fn health(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let st = state.clone();
    let ok = tokio::task::spawn_blocking(move || st.store.applied_seq().is_ok())
        .await
        .unwrap_or(false);
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(
            serde_json::json!({ "status": if ok { "ok" } else { "store unavailable" }, "store": ok }),
        ),
    )
}

async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let m = &state.collector.metrics;
    let body = format!(
        "# TYPE waymark_events_accepted_total counter\nwaymark_events_accepted_total {}\n\
         # TYPE waymark_events_dropped_total counter\n\
         waymark_events_dropped_total{{reason=\"bot\"}} {}\n\
         waymark_events_dropped_total{{reason=\"unknown_site\"}} {}\n\
         waymark_events_dropped_total{{reason=\"duplicate\"}} {}\n\
         # TYPE waymark_requests_invalid_total counter\nwaymark_requests_invalid_total {}\n",
        m.accepted.load(Ordering::Relaxed),
        m.dropped_bot.load(Ordering::Relaxed),
        m.dropped_unknown_site.load(Ordering::Relaxed),
        m.dropped_duplicate.load(Ordering::Relaxed),
        m.rejected_invalid.load(Ordering::Relaxed),
    );
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        body,
    )
}
