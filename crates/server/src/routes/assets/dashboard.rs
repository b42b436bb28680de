//! The dashboard: one HTML shell and its embedded assets; the page itself renders in the browser
//! from the Stats API and the reports API.
//!
//! Assets are compiled into the binary (`include_bytes!`, no Node at build time) and served at
//! `/assets/{name}.{hash}.{ext}`: the hash is the first 10 hex digits of the file's BLAKE2s, so a
//! file can be cached for a year and a new build changes every URL whose content changed. The
//! shell names the hashed files, including in its import map (the vendored libraries are ES
//! modules that import each other by bare name).

use std::sync::{Arc, OnceLock};

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use blake2::{Blake2s256, Digest};

use crate::error::ApiError;
use crate::state::AppState;

/// One embedded file.
struct Asset {
    /// The unhashed name, e.g. `app.js`.
    name: &'static str,
    bytes: &'static [u8],
    content_type: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every file the dashboard loads. Vendored libraries: see `assets/vendor/VERSIONS`.
const ASSETS: &[Asset] = &[
    Asset {
        name: "app.js",
        bytes: include_bytes!("../../dashboard/assets/app.js"),
        content_type: JS,
    },
    Asset {
        name: "app.css",
        bytes: include_bytes!("../../dashboard/assets/app.css"),
        content_type: CSS,
    },
    Asset {
        name: "preact.mjs",
        bytes: include_bytes!("../../dashboard/assets/vendor/preact.mjs"),
        content_type: JS,
    },
    Asset {
        name: "preact-hooks.mjs",
        bytes: include_bytes!("../../dashboard/assets/vendor/preact-hooks.mjs"),
        content_type: JS,
    },
    Asset {
        name: "htm.mjs",
        bytes: include_bytes!("../../dashboard/assets/vendor/htm.mjs"),
        content_type: JS,
    },
    Asset {
        name: "uPlot.iife.min.js",
        bytes: include_bytes!("../../dashboard/assets/vendor/uPlot.iife.min.js"),
        content_type: JS,
    },
    Asset {
        name: "uPlot.min.css",
        bytes: include_bytes!("../../dashboard/assets/vendor/uPlot.min.css"),
        content_type: CSS,
    },
    Asset {
        name: "VERSIONS.txt",
        bytes: include_bytes!("../../dashboard/assets/vendor/VERSIONS"),
        content_type: "text/plain; charset=utf-8",
    },
    Asset {
        name: "LICENSE-preact.txt",
        bytes: include_bytes!("../../dashboard/assets/vendor/LICENSES/preact.LICENSE"),
        content_type: "text/plain; charset=utf-8",
    },
    Asset {
        name: "LICENSE-htm.txt",
        bytes: include_bytes!("../../dashboard/assets/vendor/LICENSES/htm.LICENSE"),
        content_type: "text/plain; charset=utf-8",
    },
    Asset {
        name: "LICENSE-uplot.txt",
        bytes: include_bytes!("../../dashboard/assets/vendor/LICENSES/uplot.LICENSE"),
        content_type: "text/plain; charset=utf-8",
    },
];

/// `app.js` → `app.3f2a9c01d4.js` (the hash goes before the last extension).
fn hashed_name(asset: &Asset) -> String {
    let digest = Blake2s256::digest(asset.bytes);
    let hash: String = digest[..5].iter().map(|b| format!("{b:02x}")).collect();
    match asset.name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
        None => format!("{}.{hash}", asset.name),
    }
}

/// The hashed names, in [`ASSETS`] order (computed once).
fn hashed() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| ASSETS.iter().map(hashed_name).collect())
}

/// The URL of an asset by its plain name (hashed, so it can be cached for good).
pub fn asset_url(name: &str) -> String {
    ASSETS
        .iter()
        .zip(hashed())
        .find(|(a, _)| a.name == name)
        .map(|(_, h)| format!("/assets/{h}"))
        .unwrap_or_else(|| format!("/assets/{name}"))
}

fn shell_html() -> &'static str {
    static HTML: OnceLock<String> = OnceLock::new();
    HTML.get_or_init(|| {
        let import_map = serde_json::json!({
            "imports": {
                "preact": asset_url("preact.mjs"),
                "preact/hooks": asset_url("preact-hooks.mjs"),
                "htm": asset_url("htm.mjs"),
            }
        });
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta name=\"color-scheme\" content=\"light dark\">\
             <meta name=\"referrer\" content=\"same-origin\">\
             <title>Waymark</title>\
             <link rel=\"stylesheet\" href=\"{uplot_css}\">\
             <link rel=\"stylesheet\" href=\"{app_css}\">\
             <script type=\"importmap\">{import_map}</script>\
             <link rel=\"modulepreload\" href=\"{preact}\">\
             <link rel=\"modulepreload\" href=\"{hooks}\">\
             <link rel=\"modulepreload\" href=\"{htm}\">\
             <script defer src=\"{uplot}\"></script>\
             <script type=\"module\" src=\"{app}\"></script>\
             </head><body><div id=\"app\"><p class=\"boot\">Loading the dashboard…</p></div>\
             <noscript><p class=\"boot\">The Waymark dashboard needs JavaScript. The same numbers \
             are available from the Stats API and <code>waymark stats</code>.</p></noscript>\
             </body></html>\n",
            uplot_css = asset_url("uPlot.min.css"),
            app_css = asset_url("app.css"),
            preact = asset_url("preact.mjs"),
            hooks = asset_url("preact-hooks.mjs"),
            htm = asset_url("htm.mjs"),
            uplot = asset_url("uPlot.iife.min.js"),
            app = asset_url("app.js"),
        )
    })
}

/// The single-page shell, served for every dashboard URL (`/sites/{site}/…` and `/share/{token}`).
/// The page reads its mode (signed in or shared link) from its own URL and `GET /api/session`.
/// It holds no data, so it needs no session; the page sends people to `/login` on a 401.
pub fn shell() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "same-origin"),
        ],
        shell_html(),
    )
        .into_response()
}

/// The dashboard routes: the shell for `/sites/{site}` and below, and `/assets/{file}`.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/sites/{site}", get(site_shell))
        .route("/sites/{site}/{*rest}", get(site_shell))
        .route("/assets/{file}", get(asset))
}

async fn site_shell() -> Response {
    shell()
}

/// A hashed name is immutable (cached for a year); a plain name is served too, revalidated
/// every time, so links to e.g. `/assets/VERSIONS.txt` stay stable.
async fn asset(Path(file): Path<String>) -> Response {
    let found = ASSETS.iter().zip(hashed()).find_map(|(a, h)| {
        if *h == file {
            Some((a, "public, max-age=31536000, immutable"))
        } else if a.name == file {
            Some((a, "no-cache"))
        } else {
            None
        }
    });
    match found {
        Some((a, cache)) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, cache),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            a.bytes,
        )
            .into_response(),
        None => ApiError::not_found(format!("no dashboard asset named {file:?}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_keep_the_extension_and_differ_by_content() {
        let names = hashed();
        assert_eq!(names.len(), ASSETS.len());
        let app = &names[0];
        assert!(
            app.starts_with("app.") && app.ends_with(".js") && app.len() == "app..js".len() + 10,
            "{app}"
        );
        let mut unique = names.to_vec();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn the_shell_names_every_script_by_its_hashed_url() {
        let html = shell_html();
        for name in [
            "app.js",
            "app.css",
            "preact.mjs",
            "preact-hooks.mjs",
            "htm.mjs",
            "uPlot.iife.min.js",
        ] {
            assert!(
                html.contains(&asset_url(name)),
                "{name} missing in the shell"
            );
            assert_ne!(asset_url(name), format!("/assets/{name}"));
        }
        assert!(html.contains("\"preact/hooks\""));
        assert!(html.contains("<div id=\"app\">"));
    }
}
