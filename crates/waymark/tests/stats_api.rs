//! The Stats API v2 (`POST /api/v2/query`) and the OpenAPI document against the real binary:
//! bearer-key auth, Plausible's request and response shapes, numbers over known events
//! (across a restart), local-time buckets, and precise 400s for bad requests.

mod common;

use common::*;
use serde_json::{json, Value};

const SITE: &str = "shop.example";
const NY: &str = "ny.example";
const KEY: &str = "stats-key-1";

fn ok(server: &Server, body: Value) -> Value {
    let (status, v) = stats_query(server, &body, Some(KEY));
    assert_eq!(status, 200, "{body} -> {v}");
    v
}

#[allow(clippy::too_many_arguments)]
fn send(
    server: &Server,
    site: &str,
    ip: &str,
    ua: &str,
    name: &str,
    url: &str,
    referrer: &str,
    at: &str,
) {
    let mut body = json!({"n": name, "u": url, "d": site, "r": referrer, "timestamp": at});
    if name == "Signup" {
        body["p"] = json!({"plan": "pro"});
    }
    post_accepted(server, &body, ua, ip, KEY);
}

fn seed(server: &Server) {
    let s = |p: &str| format!("https://{SITE}{p}");
    // A: Google, desktop, three events in one visit (2 minutes).
    send(
        server,
        SITE,
        "10.0.0.1",
        CHROME_UA,
        "pageview",
        &s("/"),
        "https://www.google.com/",
        "2026-01-10T10:00:00Z",
    );
    send(
        server,
        SITE,
        "10.0.0.1",
        CHROME_UA,
        "pageview",
        &s("/pricing"),
        "",
        "2026-01-10T10:01:00Z",
    );
    send(
        server,
        SITE,
        "10.0.0.1",
        CHROME_UA,
        "Signup",
        &s("/pricing"),
        "",
        "2026-01-10T10:02:00Z",
    );
    // B: direct, mobile, bounce.
    send(
        server,
        SITE,
        "10.0.0.2",
        IPHONE_UA,
        "pageview",
        &s("/"),
        "",
        "2026-01-10T12:00:00Z",
    );
    // C: newsletter campaign the next day, bounce.
    send(
        server,
        SITE,
        "10.0.0.3",
        CHROME_UA,
        "pageview",
        &s("/blog?utm_source=newsletter"),
        "",
        "2026-01-11T09:00:00Z",
    );
    // New York site: 22:00 on 9 January local, then 10:00 on 10 January local.
    let n = |p: &str| format!("https://{NY}{p}");
    send(
        server,
        NY,
        "10.0.1.1",
        CHROME_UA,
        "pageview",
        &n("/"),
        "",
        "2026-01-10T03:00:00Z",
    );
    send(
        server,
        NY,
        "10.0.1.2",
        CHROME_UA,
        "pageview",
        &n("/"),
        "",
        "2026-01-10T15:00:00Z",
    );
}

fn check_numbers(server: &Server) {
    let range = json!(["2026-01-10", "2026-01-11"]);
    // Top line.
    let v = ok(
        server,
        json!({"site_id": SITE, "date_range": range, "metrics":
            ["visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration", "events"]}),
    );
    assert_eq!(
        result_rows(&v),
        vec![json!([3, 3, 4, 1.33, 67, 40, 5])],
        "{v}"
    );
    assert_eq!(v["meta"]["imports_included"], json!(false));
    assert_eq!(v["query"]["site_id"], json!(SITE));
    assert_eq!(
        v["query"]["date_range"],
        json!(["2026-01-10T00:00:00+00:00", "2026-01-11T23:59:59+00:00"])
    );

    // Sources with percentage (one decimal, as Plausible), ties broken by name.
    let v = ok(
        server,
        json!({"site_id": SITE, "date_range": range, "metrics": ["visitors", "percentage"],
               "dimensions": ["visit:source"]}),
    );
    assert_eq!(
        result_rows(&v),
        vec![
            json!(["Direct / None", 1, 33.3]),
            json!(["Google", 1, 33.3]),
            json!(["newsletter", 1, 33.3])
        ],
        "{v}"
    );

    // Pages, names, days.
    let v = ok(
        server,
        json!({"site_id": SITE, "date_range": range, "metrics": ["pageviews", "visitors"],
               "dimensions": ["event:page"]}),
    );
    assert_eq!(
        result_rows(&v),
        vec![
            json!(["/", 2, 2]),
            json!(["/blog", 1, 1]),
            json!(["/pricing", 1, 1])
        ]
    );
    let v = ok(
        server,
        json!({"site_id": SITE, "date_range": range, "metrics": ["events"],
               "dimensions": ["event:name"]}),
    );
    assert_eq!(
        result_rows(&v),
        vec![json!(["pageview", 4]), json!(["Signup", 1])]
    );
    let v = ok(
        server,
        json!({"site_id": SITE, "date_range": range, "metrics": ["events", "visitors"],
               "dimensions": ["event:hostname", "event:props:plan"],
               "filters": [["is_not", "event:props:plan", ["free"]]]}),
    );
    assert_eq!(
        result_rows(&v),
        vec![json!([SITE, "(none)", 4, 3]), json!([SITE, "pro", 1, 1])]
    );
    let v = ok(
        server,
        json!({"site_id": SITE, "date_range": range, "metrics": ["visitors", "bounce_rate"],
               "dimensions": ["time:day"]}),
    );
    assert_eq!(
        result_rows(&v),
        vec![json!(["2026-01-10", 2, 50]), json!(["2026-01-11", 1, 100])]
    );
    let v = ok(
        server,
        json!({"site_id": SITE, "date_range": range, "metrics": ["visitors"],
               "dimensions": ["visit:entry_page", "visit:exit_page"]}),
    );
    assert_eq!(
        result_rows(&v),
        vec![
            json!(["/", "/", 1]),
            json!(["/", "/pricing", 1]),
            json!(["/blog", "/blog", 1])
        ]
    );

    // Filters.
    let visitors = |filters: Value| {
        let v = ok(
            server,
            json!({"site_id": SITE, "date_range": range, "metrics": ["visitors"], "filters": filters}),
        );
        v["results"][0]["metrics"][0].as_i64().unwrap()
    };
    assert_eq!(visitors(json!([["is", "visit:device", ["Mobile"]]])), 1);
    assert_eq!(visitors(json!([["is_not", "visit:device", ["Mobile"]]])), 2);
    assert_eq!(visitors(json!([["contains", "event:page", ["pric"]]])), 1);
    assert_eq!(
        visitors(json!([["matches", "event:page", ["^/(blog|pricing)$"]]])),
        2
    );
    assert_eq!(
        visitors(json!([["contains", "visit:source", ["GOO"], {"case_sensitive": false}]])),
        1
    );
    assert_eq!(
        visitors(json!([[
            "or",
            [
                ["is", "visit:source", ["Google"]],
                ["is", "visit:utm_source", ["newsletter"]]
            ]
        ]])),
        2
    );
    assert_eq!(
        visitors(json!([["not", ["is", "event:name", ["pageview"]]]])),
        1
    );
    assert_eq!(
        visitors(json!([
            ["is", "visit:channel", ["Direct"]],
            ["is", "event:page", ["/blog"]]
        ])),
        0
    );

    // Order, pagination, total_rows.
    let v = ok(
        server,
        json!({"site_id": SITE, "date_range": range, "metrics": ["pageviews"],
               "dimensions": ["event:page"], "order_by": [["event:page", "desc"]],
               "pagination": {"limit": 1, "offset": 1}, "include": {"total_rows": true}}),
    );
    assert_eq!(result_rows(&v), vec![json!(["/blog", 1])]);
    assert_eq!(v["meta"]["total_rows"], json!(3));
    assert_eq!(v["query"]["pagination"], json!({"limit": 1, "offset": 1}));

    // The site's time zone: New York's days and hours.
    let v = ok(
        server,
        json!({"site_id": NY, "date_range": "all", "metrics": ["visitors"], "dimensions": ["time:day"]}),
    );
    assert_eq!(
        result_rows(&v),
        vec![json!(["2026-01-09", 1]), json!(["2026-01-10", 1])]
    );
    let v = ok(
        server,
        json!({"site_id": NY, "date_range": ["2026-01-09", "2026-01-10"], "metrics": ["pageviews"],
               "dimensions": ["time:hour"]}),
    );
    assert_eq!(
        result_rows(&v),
        vec![
            json!(["2026-01-09 22:00:00", 1]),
            json!(["2026-01-10 10:00:00", 1])
        ]
    );
    let v = ok(
        server,
        json!({"site_id": NY, "date_range": "all", "metrics": ["visitors"], "dimensions": ["time:month"]}),
    );
    assert_eq!(result_rows(&v), vec![json!(["2026-01-01", 2])]);
    let v = ok(
        server,
        json!({"site_id": NY, "date_range": "all", "metrics": ["visitors"], "dimensions": ["time:week"]}),
    );
    assert_eq!(result_rows(&v), vec![json!(["2026-01-05", 2])]);
    let v = ok(
        server,
        json!({"site_id": NY, "date_range": ["2026-01-08", "2026-01-11"], "metrics": ["visitors"],
               "dimensions": ["time:day"], "include": {"time_labels": true}}),
    );
    assert_eq!(
        v["meta"]["time_labels"],
        json!(["2026-01-08", "2026-01-09", "2026-01-10", "2026-01-11"])
    );
    let v = ok(
        server,
        json!({"site_id": NY, "date_range": "all", "metrics": ["visitors"],
               "dimensions": ["time:month"], "include": {"time_labels": true}}),
    );
    assert_eq!(v["meta"]["time_labels"][0], json!("2026-01-01"));

    // Presets resolve (the seeded events are in the past, outside "day").
    for preset in [
        "day", "24h", "7d", "28d", "30d", "91d", "month", "6mo", "12mo", "year", "all",
    ] {
        ok(
            server,
            json!({"site_id": SITE, "date_range": preset, "metrics": ["visitors"]}),
        );
    }
    let v = ok(
        server,
        json!({"site_id": SITE, "date_range": "all", "metrics": ["visitors"]}),
    );
    assert_eq!(result_rows(&v), vec![json!([3])]);
}

#[test]
fn stats_api_answers_plausible_queries() {
    let dir = tempfile::tempdir().unwrap();
    let (ok_add, _, err) = waymark(&[
        "site",
        "add",
        NY,
        "--timezone",
        "America/New_York",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(ok_add, "{err}");
    let mut server = Server::start(
        dir.path(),
        &[SITE],
        &["--trusted-proxies", "127.0.0.1", "--api-keys", KEY],
    );

    // Auth first: no key, a wrong key, a malformed header.
    let body = json!({"site_id": SITE, "metrics": ["visitors"], "date_range": "all"});
    let (status, v) = stats_query(&server, &body, None);
    assert_eq!(status, 401, "{v}");
    assert!(v["error"].as_str().unwrap().contains("Bearer"), "{v}");
    let (status, v) = stats_query(&server, &body, Some("wrong"));
    assert_eq!(
        (status, v["error"].as_str()),
        (401, Some("unknown API key"))
    );

    seed(&server);
    // Events go through the batcher: stop (flushes), restart, query.
    server.stop();
    server = Server::start(
        dir.path(),
        &[],
        &["--trusted-proxies", "127.0.0.1", "--api-keys", KEY],
    );
    check_numbers(&server);

    // Bad requests: 400 with the field and the problem named.
    let base = || json!({"site_id": SITE, "metrics": ["visitors"], "date_range": "7d"});
    let with = |k: &str, v: Value| {
        let mut b = base();
        b[k] = v;
        b
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"metrics": ["visitors"], "date_range": "7d"}),
            "site_id",
            "required",
        ),
        (
            with("site_id", json!("nope.example")),
            "site_id",
            "unknown site",
        ),
        (with("metrics", json!([])), "metrics", "non-empty"),
        (
            with("metrics", json!(["conversion_rate"])),
            "metrics",
            "\"conversion_rate\" can only be queried with an event:goal filter or dimension",
        ),
        (
            with("metrics", json!(["time_on_page"])),
            "metrics",
            "\"time_on_page\" can only be queried with an event:page filter or dimension",
        ),
        (
            with("metrics", json!(["exit_rate"])),
            "metrics",
            "\"exit_rate\" is not supported",
        ),
        (
            with("metrics", json!(["visitorz"])),
            "metrics",
            "unknown metric \"visitorz\"",
        ),
        (
            with("metrics", json!(["visitors", "visitors"])),
            "metrics",
            "twice",
        ),
        (
            with("metrics", json!(["percentage"])),
            "metrics",
            "needs at least one dimension",
        ),
        (
            json!({"site_id": SITE, "metrics": ["bounce_rate"], "date_range": "7d", "dimensions": ["event:page"]}),
            "metrics",
            "cannot be grouped by event dimension \"event:page\"",
        ),
        (
            with("date_range", json!("5y")),
            "date_range",
            "unknown preset \"5y\"",
        ),
        (
            with("date_range", json!(["2026-02-01", "2026-01-01"])),
            "date_range",
            "before the start",
        ),
        (
            with("date_range", json!(["2026-02-01", "soon"])),
            "date_range",
            "\"soon\"",
        ),
        (with("date_range", json!(7)), "date_range", "not a preset"),
        (
            with("dimensions", json!(["visit:planet"])),
            "dimensions",
            "unknown dimension \"visit:planet\"",
        ),
        (
            with("dimensions", json!(["visit:country_name"])),
            "dimensions",
            "\"visit:country_name\" is not supported",
        ),
        (
            with("dimensions", json!(["event:props:"])),
            "dimensions",
            "name a property",
        ),
        (
            with("filters", json!([["equals", "visit:country", ["DE"]]])),
            "filters",
            "unknown operator \"equals\"",
        ),
        (
            with("filters", json!([["is", "visit:country", "DE"]])),
            "filters",
            "must be a list",
        ),
        (
            with("filters", json!([["is", "time:day", ["2026-01-01"]]])),
            "filters",
            "cannot filter by \"time:day\"",
        ),
        (
            with("filters", json!([["matches", "event:page", ["("]]])),
            "filters",
            "invalid regular expression",
        ),
        (
            with(
                "filters",
                json!([["has_done", ["is", "event:name", ["Signup"]]]]),
            ),
            "filters",
            "\"has_done\" is not supported",
        ),
        (
            with("filters", json!("country=DE")),
            "filters",
            "must be a list",
        ),
        (
            with("order_by", json!([["pageviews", "desc"]])),
            "order_by",
            "\"pageviews\" is neither",
        ),
        (
            with("order_by", json!([["visitors", "up"]])),
            "order_by",
            "\"asc\" or \"desc\"",
        ),
        (
            with("pagination", json!({"limit": 0})),
            "pagination",
            "between 1 and 10000",
        ),
        (
            with("pagination", json!({"offset": -1})),
            "pagination",
            "whole number",
        ),
        (
            with("include", json!({"time_labels": true})),
            "include",
            "time_labels needs a time dimension",
        ),
        (
            with("include", json!({"colours": true})),
            "include",
            "unknown option \"colours\"",
        ),
        (
            with("period", json!("7d")),
            "body",
            "unknown field \"period\"",
        ),
    ];
    assert_stats_refusals(&server, KEY, cases);
    let resp = agent()
        .post(&server.url("/api/v2/query"))
        .header("Authorization", &format!("Bearer {KEY}"))
        .send(b"{not json".as_slice())
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
}

#[test]
fn openapi_documents_every_route_and_every_documented_route_answers() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[SITE], &["--api-keys", KEY]);
    let resp = agent()
        .get(&server.url("/api/openapi.json"))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let doc: Value = serde_json::from_str(&resp.into_body().read_to_string().unwrap()).unwrap();
    assert_eq!(doc["openapi"], json!("3.0.3"));
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 10, "{paths:?}");
    for (path, ops) in paths {
        let url = server.url(
            &path
                .replace("{site}", SITE)
                .replace("{name}", "x")
                .replace("{template}", "saas"),
        );
        for method in ["get", "post", "put", "delete"] {
            let a = agent();
            let resp = match method {
                "get" => a.get(&url).call(),
                "delete" => a
                    .delete(&url)
                    .header("Authorization", &format!("Bearer {KEY}"))
                    .call(),
                "put" => a
                    .put(&url)
                    .header("Authorization", &format!("Bearer {KEY}"))
                    .send(b"{}".as_slice()),
                _ => a
                    .post(&url)
                    .header("Authorization", &format!("Bearer {KEY}"))
                    .send(b"{}".as_slice()),
            }
            .unwrap();
            let status = resp.status().as_u16();
            let body = resp.into_body().read_to_string().unwrap_or_default();
            if ops.get(method).is_some() {
                // A routed operation never answers the router's own 404 (empty) or 405.
                assert!(
                    status != 405 && !(status == 404 && body.is_empty()),
                    "{method} {path}: {status} {body}"
                );
            } else {
                assert_eq!(status, 405, "{method} {path} is routed but not documented");
            }
        }
    }
}
