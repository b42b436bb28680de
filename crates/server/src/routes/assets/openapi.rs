//! `GET /api/openapi.json`: an OpenAPI 3 document for every route the server answers.
//!
//! [`ROUTES`] is the one list of documented operations. A unit test reads every source file of
//! the crate for route calls and checks that each (method, path) is documented here and each
//! documented one is routed; the binary's tests then call every documented operation.

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::state::AppState;

/// A documented operation.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// Who may call it (`docs/access.md`): `none` (public), `optional` (public; a server-wide
    /// key unlocks extras), `read` / `write` (Read / Write on the site named in the path or
    /// body), `admin`, `any` (any credentials), `keys` (own API keys), `session` (HTML, signed in).
    pub auth: &'static str,
    /// The request body's media type, if any.
    pub body: Option<&'static str>,
}

const fn r(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    auth: &'static str,
    body: Option<&'static str>,
) -> Route {
    Route {
        method,
        path,
        summary,
        auth,
        body,
    }
}

const JSON: Option<&str> = Some("application/json");
const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

/// Every operation of the HTTP API.
pub const ROUTES: &[Route] = &[
    r("post", "/api/event", "Record an event (Plausible Events API). A key allows explicit timestamps and idempotency keys.", "optional", Some("text/plain")),
    r("get", "/health", "Liveness and store health.", "none", None),
    r("get", "/api/health", "Liveness and store health (alias).", "none", None),
    r("get", "/metrics", "Prometheus metrics.", "none", None),
    r("get", "/js/{name}", "The tracker script (script.js and its variants).", "none", None),
    r("get", "/api/openapi.json", "This document.", "none", None),
    r("post", "/api/v2/query", "Stats API v2 query (Plausible-compatible): metrics by dimensions, filtered, ordered, paged.", "read", JSON),
    r("get", "/api/templates", "Business conversion templates.", "none", None),
    r("post", "/api/triggers/check", "Check a trigger expression.", "none", JSON),
    r("get", "/api/sites/{site}/conversions", "List a site's conversions.", "read", None),
    r("post", "/api/sites/{site}/conversions", "Create a conversion.", "write", JSON),
    r("put", "/api/sites/{site}/conversions/{name}", "Create or replace a conversion by name.", "write", JSON),
    r("delete", "/api/sites/{site}/conversions/{name}", "Delete a conversion.", "write", None),
    r("post", "/api/sites/{site}/templates/{template}", "Apply a conversion template to a site.", "write", None),
    r("get", "/api/sites/{site}/funnels", "List a site's funnels.", "read", None),
    r("post", "/api/sites/{site}/funnels", "Create a funnel.", "write", JSON),
    r("put", "/api/sites/{site}/funnels/{name}", "Create or replace a funnel by name.", "write", JSON),
    r("delete", "/api/sites/{site}/funnels/{name}", "Delete a funnel.", "write", None),
    r("get", "/api/sites/{site}/reports/conversions", "Conversion report (query: range, compare, filter).", "read", None),
    r("get", "/api/sites/{site}/reports/funnels/{name}", "Saved funnel report (query: range, filters, breakdown, compare).", "read", None),
    r("post", "/api/sites/{site}/reports/funnel", "Ad-hoc funnel report for a funnel in the body.", "read", JSON),
    r("get", "/", "Dashboard entry (HTML): redirects to /login without a session; lists the sites the user may read, linked to /sites/{domain}; `?site=` shows its last 30 days.", "session", None),
    r("get", "/login", "Sign-in page (HTML) with a CSRF token; explains first-run setup when no users exist; `?next=` (a same-origin path) is where to go after.", "none", None),
    r("post", "/login", "Sign in (form: email, password, csrf, next); sets the waymark_session cookie, 303 to next or the first site's dashboard.", "none", FORM),
    r("post", "/logout", "Sign out (form: csrf); ends the session, 303 to /login.", "session", FORM),
    r("get", "/api/session", "Who is asking: mode (user, shared, key), email, role, readable sites, and the CSRF token for cookie writes (sets the waymark_csrf cookie when absent).", "any", None),
    r("get", "/api/sites", "Sites the caller may read.", "any", None),
    r("post", "/api/sites", "Add a site (or change its time zone): {domain, timezone}.", "admin", JSON),
    r("delete", "/api/sites/{site}", "Delete a site with its events, definitions, grants and shared links.", "admin", None),
    r("get", "/api/keys", "The caller's personal API keys (admins: everyone's), without the keys themselves.", "keys", None),
    r("post", "/api/keys", "Create a personal API key: {name, scopes}; the answer holds the key, shown only this once.", "keys", JSON),
    r("delete", "/api/keys/{id}", "Delete a personal API key (own, or any for admins).", "keys", None),
    r("get", "/api/sites/{site}/shared-links", "A site's shared read-only links.", "admin", None),
    r("post", "/api/sites/{site}/shared-links", "Create a shared link: {name, password?}; the answer holds its URL /share/{token}.", "admin", JSON),
    r("delete", "/api/sites/{site}/shared-links/{id}", "Delete a shared link.", "admin", None),
    r("get", "/api/users", "Users with their role and granted sites.", "admin", None),
    r("post", "/api/users", "Create a user: {email, password, role (admin|viewer), sites?}.", "admin", JSON),
    r("delete", "/api/users/{email}", "Delete a user with their sessions, grants and keys (not the last admin).", "admin", None),
    r("put", "/api/users/{email}/grants", "Replace the sites a viewer may read: {sites}.", "admin", JSON),
    r("get", "/share/{token}", "A shared link (HTML): the dashboard shell, or a password page when the link is protected and not yet unlocked.", "none", None),
    r("post", "/share/{token}", "Unlock a protected shared link (form: password, csrf); sets its unlock cookie, 303 back. Rate-limited per IP.", "none", FORM),
    r("get", "/sites/{site}", "Dashboard (HTML shell; the page loads its data from the APIs with the session cookie and sends to /login on a 401).", "none", None),
    r("get", "/sites/{site}/{*rest}", "Dashboard views (HTML shell): funnels, realtime, settings.", "none", None),
    r("get", "/assets/{file}", "Dashboard assets (content-hashed names, cached for a year).", "none", None),
];

/// The route serving the document.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/api/openapi.json", get(serve))
}

async fn serve() -> Json<Value> {
    Json(document())
}

/// The OpenAPI 3.0 document built from [`ROUTES`].
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let params: Vec<Value> = route
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| {
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
            })
            .collect();
        let mut op = json!({
            "summary": route.summary,
            "operationId": format!("{}_{}", route.method, route.path.trim_matches('/').replace(['/', '{', '}', '.'], "_")),
            "parameters": params,
            "x-waymark-auth": route.auth,
            "responses": {
                "200": {"description": "Success"},
                "400": {"description": "Invalid request; `{\"error\": ..., \"field\": ...}` names the problem",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "401": {"description": "Missing or unknown API key",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        });
        if route.auth != "none" {
            op["security"] = json!([{"bearer": []}]);
        }
        if let Some(media) = route.body {
            let schema = if route.path == "/api/v2/query" {
                json!({"$ref": "#/components/schemas/Query"})
            } else {
                json!({"type": if media == "application/json" { "object" } else { "string" }})
            };
            op["requestBody"] = json!({"required": true, "content": {media: {"schema": schema}}});
        }
        if route.path == "/api/v2/query" {
            op["responses"]["200"] = json!({"description": "Results",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueryResult"}}}});
        }
        let entry = paths
            .entry(route.path.to_string())
            .or_insert_with(|| json!({}));
        entry[route.method] = op;
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Waymark HTTP API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Privacy-first web analytics. See docs/api.md for examples."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {
                    "error": {"type": "string"}, "field": {"type": "string"}}},
                "Query": {"type": "object", "required": ["site_id", "metrics", "date_range"], "properties": {
                    "site_id": {"type": "string"},
                    "metrics": {"type": "array", "items": {"type": "string", "enum":
                        ["visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration", "events", "percentage",
                         "conversion_rate", "group_conversion_rate", "total_revenue", "average_revenue", "scroll_depth", "time_on_page"]}},
                    "date_range": {"oneOf": [
                        {"type": "string", "enum": ["day", "24h", "7d", "28d", "30d", "91d", "month", "6mo", "12mo", "year", "all", "realtime"]},
                        {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}]},
                    "dimensions": {"type": "array", "items": {"type": "string"}},
                    "filters": {"type": "array", "items": {"type": "array"}},
                    "order_by": {"type": "array", "items": {"type": "array"}},
                    "include": {"type": "object", "properties": {
                        "total_rows": {"type": "boolean"}, "imports": {"type": "boolean"},
                        "time_labels": {"type": "boolean"},
                        "comparisons": {"type": "object", "required": ["mode"], "properties": {
                            "mode": {"type": "string", "enum": ["previous_period", "year_over_year", "custom"]},
                            "date_range": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}}}}},
                    "pagination": {"type": "object", "properties": {
                        "limit": {"type": "integer", "minimum": 1, "maximum": 10000},
                        "offset": {"type": "integer", "minimum": 0}}}
                }},
                "QueryResult": {"type": "object", "properties": {
                    "results": {"type": "array", "items": {"type": "object", "properties": {
                        "metrics": {"type": "array", "items": {}},
                        "dimensions": {"type": "array", "items": {"type": "string"}},
                        "comparison": {"type": "object"}}}},
                    "meta": {"type": "object"},
                    "query": {"type": "object"}
                }}
            }
        }
    })
}

/// `(method, path)` of every route call in router source text (code before any tests).
pub fn routes_in_source(src: &str) -> Vec<(String, String)> {
    // Spelled in two halves so this function's own text does not look like a route call.
    const CALL: &str = concat!(".rou", "te(");
    let src = src.split(concat!("#[cfg", "(test)]")).next().unwrap_or(src);
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(i) = rest.find(CALL) {
        rest = &rest[i + CALL.len()..];
        let Some(q1) = rest.find('"') else { break };
        let Some(q2) = rest[q1 + 1..].find('"') else {
            break;
        };
        let path = &rest[q1 + 1..q1 + 1 + q2];
        // The rest of this call, up to its closing parenthesis.
        let mut depth = 1;
        let mut end = rest.len();
        for (j, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = j;
                        break;
                    }
                }
                _ => {}
            }
        }
        let call = &rest[q1 + q2 + 2..end];
        for m in ["get", "post", "put", "delete", "patch"] {
            let pat = format!("{m}(");
            let found = call.match_indices(&pat).any(|(k, _)| {
                k == 0
                    || !call[..k]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            });
            if found {
                out.push((m.to_string(), path.to_string()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_route_is_documented_and_every_documented_route_exists() {
        // Every source file of the crate, so a new route module cannot be missed.
        fn sources(dir: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        let mut texts = Vec::new();
        sources(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut texts,
        );
        let routed: BTreeSet<(String, String)> =
            texts.iter().flat_map(|s| routes_in_source(s)).collect();
        let documented: BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|r| (r.method.to_string(), r.path.to_string()))
            .collect();
        let undocumented: Vec<_> = routed.difference(&documented).collect();
        let missing: Vec<_> = documented.difference(&routed).collect();
        assert!(
            undocumented.is_empty(),
            "routes missing from ROUTES: {undocumented:?}"
        );
        assert!(missing.is_empty(), "documented but not routed: {missing:?}");
        assert!(routed.len() >= 20, "{routed:?}");
        let doc = document();
        assert_eq!(
            doc["paths"]["/api/v2/query"]["post"]["security"],
            json!([{"bearer": []}])
        );
    }

    #[test]
    fn source_walk_reads_methods() {
        let src = r#"Router::new().route("/a/{x}", get(list).post(crate::x::post_event).layer(c)).route("/b", put(p))"#;
        assert_eq!(
            routes_in_source(src),
            vec![
                ("get".to_string(), "/a/{x}".to_string()),
                ("post".to_string(), "/a/{x}".to_string()),
                ("put".to_string(), "/b".to_string())
            ]
        );
    }
}
