//! The tracker script, embedded at build time from `tracker/dist/` (minified and committed, so
//! `cargo build` needs no Node). `script.js` is the small default; `script.full.js` adds every
//! optional feature.

use std::sync::Arc;

use axum::extract::Path;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::error::ApiError;
use crate::state::AppState;

const CORE: &str = include_str!("../../../../../tracker/dist/script.js");
const FULL: &str = include_str!("../../../../../tracker/dist/script.full.js");

fn js(body: &'static str) -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        body,
    )
}

/// The route serving the scripts.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/js/{name}", get(script))
}

/// `GET /js/script.js` and Plausible-style variant names (`script.outbound-links.js`, ...):
/// any variant beyond the default gets the full script, whose features stay off until their
/// attributes switch them on.
async fn script(Path(name): Path<String>) -> impl IntoResponse {
    if name == "script.js" {
        js(CORE).into_response()
    } else if name.starts_with("script.") && name.ends_with(".js") {
        js(FULL).into_response()
    } else {
        ApiError::not_found(format!("no tracker script named {name:?}")).into_response()
    }
}
