//! The router: every route module's `routes()` merged into one [`app`], with the layers that
//! apply to all (gzip, except the Events API) or to one route (CORS on the Events API). Tests and `runtime` build the
//! server from here.

use std::sync::Arc;

use axum::routing::post;
use axum::Router;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};

use crate::routes;
use crate::state::AppState;

/// The whole route table.
pub fn app(state: Arc<AppState>) -> Router {
    // Browsers post events from every site that embeds the tracker.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([axum::http::Method::POST, axum::http::Method::OPTIONS])
        .allow_headers(Any);
    Router::new()
        .merge(routes::health::routes())
        .merge(routes::assets::tracker::routes())
        .merge(routes::definitions::routes())
        .merge(routes::reports::routes())
        .merge(routes::stats::routes())
        .merge(routes::assets::openapi::routes())
        .merge(routes::login::routes())
        .merge(routes::manage::routes())
        .merge(routes::share::routes())
        .merge(routes::assets::dashboard::routes())
        // gzip for clients that ask: the dashboard's scripts and JSON shrink about fourfold.
        .layer(CompressionLayer::new().gzip(true))
        // Added after the compression layer, so the hottest route (its answer is "ok") skips it.
        .route("/api/event", post(routes::event::post_event).layer(cors))
        .with_state(state)
}
