//! The Stats API v2 goal, revenue and engagement metrics, comparisons and date-time ranges
//! against the real binary: known events sent through `/api/event`, goals defined through the
//! conversions API, exact numbers for every metric, and precise 400s.

mod common;

use common::*;
use serde_json::{json, Value};

const SITE: &str = "shop.example";
const KEY: &str = "stats-key-1";

fn ok(server: &Server, body: Value) -> Value {
    let (status, v) = stats_query(server, &body, Some(KEY));
    assert_eq!(status, 200, "{body} -> {v}");
    v
}

/// Sends one event; `extra` is merged into the body (`$`, `sd`, `e`, `r`, `timestamp`).
fn send(server: &Server, ip: &str, ua: &str, name: &str, path: &str, extra: Value) {
    let mut body = json!({"n": name, "u": format!("https://{SITE}{path}"), "d": SITE});
    if let (Some(b), Some(x)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in x {
            b.insert(k.clone(), v.clone());
        }
    }
    post_accepted(server, &body, ua, ip, KEY);
}

fn at(t: &str) -> Value {
    json!({ "timestamp": t })
}

fn define(server: &Server, body: Value) {
    let resp = agent()
        .post(&server.url(&format!("/api/sites/{SITE}/conversions")))
        .header("Content-Type", "application/json")
        .header("Authorization", &format!("Bearer {KEY}"))
        .send(body.to_string().as_bytes())
        .expect("request");
    let status = resp.status().as_u16();
    assert!(status == 200 || status == 201, "{body}: {status}");
}

fn seed(server: &Server) {
    let google = "https://www.google.com/";
    // 2026-03-10, the day most queries look at.
    // V1 (Google): home (two engagements), pricing (engaged), a 30 EUR purchase.
    let v1 = |name: &str, path: &str, extra: Value| {
        send(server, "10.0.0.1", CHROME_UA, name, path, extra)
    };
    v1(
        "pageview",
        "/",
        json!({"r": google, "timestamp": "2026-03-10T10:00:00Z"}),
    );
    v1(
        "engagement",
        "/",
        json!({"sd": 40, "e": 6000, "timestamp": "2026-03-10T10:00:20Z"}),
    );
    v1(
        "engagement",
        "/",
        json!({"sd": 70, "e": 4000, "timestamp": "2026-03-10T10:00:40Z"}),
    );
    v1("pageview", "/pricing", at("2026-03-10T10:01:00Z"));
    v1(
        "engagement",
        "/pricing",
        json!({"sd": 90, "e": 10000, "timestamp": "2026-03-10T10:01:30Z"}),
    );
    v1(
        "Purchase",
        "/checkout",
        json!({"$": {"amount": 30, "currency": "EUR"}, "timestamp": "2026-03-10T10:02:00Z"}),
    );
    // V2 (direct, mobile): home and pricing, engaged briefly.
    let v2 = |name: &str, path: &str, extra: Value| {
        send(server, "10.0.0.2", IPHONE_UA, name, path, extra)
    };
    v2("pageview", "/", at("2026-03-10T11:00:00Z"));
    v2(
        "engagement",
        "/",
        json!({"sd": 80, "e": 2000, "timestamp": "2026-03-10T11:00:10Z"}),
    );
    v2("pageview", "/pricing", at("2026-03-10T11:01:00Z"));
    v2(
        "engagement",
        "/pricing",
        json!({"sd": 30, "e": 4000, "timestamp": "2026-03-10T11:01:10Z"}),
    );
    // V3 (direct): blog, then a 50 EUR purchase.
    send(
        server,
        "10.0.0.3",
        CHROME_UA,
        "pageview",
        "/blog",
        at("2026-03-10T12:00:00Z"),
    );
    send(
        server,
        "10.0.0.3",
        CHROME_UA,
        "Purchase",
        "/checkout",
        json!({"$": {"amount": "50", "currency": "EUR"}, "timestamp": "2026-03-10T12:01:00Z"}),
    );
    // V4 (Google): a bounce.
    send(
        server,
        "10.0.0.4",
        CHROME_UA,
        "pageview",
        "/",
        json!({"r": google, "timestamp": "2026-03-10T13:00:00Z"}),
    );

    // 2026-03-09, the previous period: V5 (Google) buys for 20 EUR, V6 (direct) bounces.
    send(
        server,
        "10.0.0.5",
        CHROME_UA,
        "pageview",
        "/",
        json!({"r": google, "timestamp": "2026-03-09T10:00:00Z"}),
    );
    send(
        server,
        "10.0.0.5",
        CHROME_UA,
        "Purchase",
        "/checkout",
        json!({"$": {"amount": 20, "currency": "EUR"}, "timestamp": "2026-03-09T10:01:00Z"}),
    );
    send(
        server,
        "10.0.0.6",
        CHROME_UA,
        "pageview",
        "/blog",
        at("2026-03-09T11:00:00Z"),
    );
    // 2025-03-10, a year earlier: one visitor.
    send(
        server,
        "10.0.0.7",
        CHROME_UA,
        "pageview",
        "/",
        at("2025-03-10T10:00:00Z"),
    );
    // 2026-03-01: purchases in two currencies.
    send(
        server,
        "10.0.0.8",
        CHROME_UA,
        "Purchase",
        "/checkout",
        json!({"$": {"amount": 5, "currency": "USD"}, "timestamp": "2026-03-01T10:00:00Z"}),
    );
    send(
        server,
        "10.0.0.9",
        CHROME_UA,
        "Purchase",
        "/checkout",
        json!({"$": {"amount": 7, "currency": "EUR"}, "timestamp": "2026-03-01T11:00:00Z"}),
    );
    // 2026-02-10: Plausible's own revenue example (three purchases with revenue, one of them
    // 0, two without), five buyers and one visitor who only looks.
    for (i, amount) in ["200100300.123", "300100400.123", "0", "", ""]
        .iter()
        .enumerate()
    {
        let revenue = if amount.is_empty() {
            json!({})
        } else {
            json!({"$": {"amount": amount, "currency": "EUR"}})
        };
        let mut extra = revenue;
        extra["timestamp"] = json!(format!("2026-02-10T10:0{i}:00Z"));
        send(
            server,
            &format!("10.0.1.{}", i + 1),
            CHROME_UA,
            "Purchase",
            "/checkout",
            extra,
        );
    }
    send(
        server,
        "10.0.1.9",
        CHROME_UA,
        "pageview",
        "/",
        at("2026-02-10T11:00:00Z"),
    );
    // 2026-02-20 and 21: tiny purchases whose change differs once rounded (0.010 → 0.013).
    send(
        server,
        "10.0.2.1",
        CHROME_UA,
        "Purchase",
        "/checkout",
        json!({"$": {"amount": "0.0104", "currency": "EUR"}, "timestamp": "2026-02-20T10:00:00Z"}),
    );
    send(
        server,
        "10.0.2.2",
        CHROME_UA,
        "Purchase",
        "/checkout",
        json!({"$": {"amount": "0.0126", "currency": "EUR"}, "timestamp": "2026-02-21T10:00:00Z"}),
    );
    // Now: the realtime view's visitor.
    send(server, "10.0.0.10", CHROME_UA, "pageview", "/", json!({}));
}

fn start(dir: &std::path::Path, sites: &[&str]) -> Server {
    Server::start(
        dir,
        sites,
        &["--trusted-proxies", "127.0.0.1", "--api-keys", KEY],
    )
}

#[test]
fn goals_revenue_engagement_comparisons_and_datetime_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path(), &[SITE]);
    define(
        &server,
        json!({"name": "Purchase", "kind": "macro", "trigger": "event Purchase", "value": "revenue"}),
    );
    define(
        &server,
        json!({"name": "Pricing", "kind": "micro", "trigger": "pageview /pricing"}),
    );
    define(
        &server,
        json!({"name": "Engaged pricing", "kind": "micro",
               "trigger": "pageview /pricing where scroll >= 50%"}),
    );
    seed(&server);
    // Events go through the batcher: stop (flushes), restart, query.
    server.stop();
    let server = start(dir.path(), &[]);
    let day = json!(["2026-03-10", "2026-03-10"]);

    // event:goal as a dimension: conversions, conversion rate (of 4 visitors), revenue.
    let v = ok(
        &server,
        json!({"site_id": SITE, "date_range": day, "dimensions": ["event:goal"],
               "metrics": ["visitors", "events", "conversion_rate", "total_revenue", "average_revenue"]}),
    );
    let eur = |value: f64, short: &str, long: &str| json!({"value": value, "currency": "EUR", "short": short, "long": long});
    assert_eq!(
        result_rows(&v),
        vec![
            json!(["Pricing", 2, 2, 50.0, null, null]),
            json!([
                "Purchase",
                2,
                2,
                50.0,
                eur(80.0, "€80.0", "€80.00"),
                eur(40.0, "€40.0", "€40.00")
            ]),
            json!(["Engaged pricing", 1, 1, 25.0, null, null]),
        ],
        "{v}"
    );
    // A revenue goal matches (Purchase): the other goals' rows are simply not revenue, so there
    // is nothing to warn about (Plausible's preload_revenue_currencies).
    assert!(v["meta"].get("metric_warnings").is_none(), "{v}");
    // Only goals without a value: null, and the warning Plausible gives.
    let v = ok(
        &server,
        json!({"site_id": SITE, "date_range": day, "metrics": ["total_revenue", "visitors"],
               "filters": [["is", "event:goal", ["Pricing"]]]}),
    );
    assert_eq!(result_rows(&v), vec![json!([null, 2])], "{v}");
    assert_eq!(
        v["meta"]["metric_warnings"]["total_revenue"],
        json!({"code": "no_revenue_goals_matching",
               "warning": "Revenue metrics are null as there are no matching revenue goals."}),
        "{v}"
    );

    // Plausible's precision and formatting: the value at three decimals (the average's
    // division truncates), long with the currency's two, short with one and K/M/B; the
    // conversion rates with two decimals (5 of 6 visitors).
    let feb10 = json!(["2026-02-10", "2026-02-10"]);
    let v = ok(
        &server,
        json!({"site_id": SITE, "date_range": feb10,
               "metrics": ["visitors", "events", "conversion_rate", "average_revenue", "total_revenue"],
               "filters": [["is", "event:goal", ["Purchase"]]]}),
    );
    assert_eq!(
        result_rows(&v),
        vec![json!([
            5,
            5,
            83.33,
            eur(166_733_566.748, "€166.7M", "€166,733,566.75"),
            eur(500_200_700.246, "€500.2M", "€500,200,700.25")
        ])],
        "{v}"
    );
    let v = ok(
        &server,
        json!({"site_id": SITE, "date_range": feb10, "dimensions": ["visit:source"],
               "metrics": ["visitors", "conversion_rate", "group_conversion_rate"],
               "filters": [["is", "event:goal", ["Purchase"]]]}),
    );
    assert_eq!(
        result_rows(&v),
        vec![json!(["Direct / None", 5, 83.33, 83.33])],
        "{v}"
    );
    // The change is computed from the values shown: 0.010 → 0.013 is +30% (the raw amounts,
    // 0.0104 → 0.0126, would say 21).
    let v = ok(
        &server,
        json!({"site_id": SITE, "date_range": ["2026-02-21", "2026-02-21"], "metrics": ["total_revenue"],
               "filters": [["is", "event:goal", ["Purchase"]]],
               "include": {"comparisons": {"mode": "previous_period"}}}),
    );
    assert_eq!(
        v["results"][0],
        json!({"dimensions": [], "metrics": [eur(0.013, "€0.0", "€0.01")],
               "comparison": {"dimensions": [], "metrics": [eur(0.01, "€0.0", "€0.01")], "change": [30]}}),
        "{v}"
    );

    // event:goal as a filter: conversion rate over all visitors, group rate per source.
    let v = ok(
        &server,
        json!({"site_id": SITE, "date_range": day, "dimensions": ["visit:source"],
               "metrics": ["visitors", "conversion_rate", "group_conversion_rate"],
               "filters": [["is", "event:goal", ["Purchase"]]]}),
    );
    assert_eq!(
        result_rows(&v),
        vec![
            json!(["Direct / None", 1, 25.0, 50.0]),
            json!(["Google", 1, 25.0, 50.0])
        ],
        "{v}"
    );
    let v = ok(
        &server,
        json!({"site_id": SITE, "date_range": day,
               "metrics": ["total_revenue", "average_revenue", "events", "conversion_rate"],
               "filters": [["is", "event:goal", ["Purchase"]]]}),
    );
    assert_eq!(
        result_rows(&v),
        vec![json!([
            eur(80.0, "€80.0", "€80.00"),
            eur(40.0, "€40.0", "€40.00"),
            2,
            50.0
        ])],
        "{v}"
    );
    assert!(v["meta"].get("metric_warnings").is_none(), "{v}");
    let events = |filter: Value| {
        let v = ok(
            &server,
            json!({"site_id": SITE, "date_range": day, "metrics": ["events", "visitors"],
                   "filters": [filter]}),
        );
        result_rows(&v)[0].clone()
    };
    // 8 events that day (engagement not counted), 2 of them purchases.
    assert_eq!(
        events(json!(["is_not", "event:goal", ["Purchase"]])),
        json!([6, 4])
    );
    assert_eq!(
        events(json!(["contains", "event:goal", ["Pric"]])),
        json!([2, 2])
    );
    // "Engaged pricing" matches a subset of "Pricing": each event counts once.
    assert_eq!(
        events(json!(["contains", "event:goal", ["PRIC"], {"case_sensitive": false}])),
        json!([2, 2])
    );
    assert_eq!(
        events(json!(["is", "event:goal", ["Engaged pricing", "Purchase"]])),
        json!([3, 2])
    );
    // Mixed currencies: no single value, and a warning saying why.
    let v = ok(
        &server,
        json!({"site_id": SITE, "date_range": ["2026-03-01", "2026-03-01"],
               "metrics": ["total_revenue", "visitors"], "filters": [["is", "event:goal", ["Purchase"]]]}),
    );
    assert_eq!(result_rows(&v), vec![json!([null, 2])], "{v}");
    assert_eq!(
        v["meta"]["metric_warnings"]["total_revenue"]["code"],
        json!("no_single_revenue_currency")
    );

    // Scroll depth (each visitor's deepest, averaged) and time on page (engaged time per
    // visit of the page): "/" 70 and 80 → 75, 12 s over 2 visits → 6; "/pricing" 90 and 30
    // → 60, 14 s → 7; pages without engagement have none.
    let v = ok(
        &server,
        json!({"site_id": SITE, "date_range": day, "dimensions": ["event:page"],
               "metrics": ["visitors", "scroll_depth", "time_on_page"],
               "order_by": [["visitors", "desc"], ["event:page", "asc"]]}),
    );
    assert_eq!(
        result_rows(&v),
        vec![
            json!(["/", 3, 75, 6]),
            json!(["/checkout", 2, null, null]),
            json!(["/pricing", 2, 60, 7]),
            json!(["/blog", 1, null, null]),
        ],
        "{v}"
    );
    let v = ok(
        &server,
        json!({"site_id": SITE, "date_range": day, "metrics": ["scroll_depth", "time_on_page"],
               "filters": [["is", "event:page", ["/pricing"]]]}),
    );
    assert_eq!(result_rows(&v), vec![json!([60, 7])], "{v}");

    // Comparisons: top stats against the previous day (2 visitors, 2 pageviews, 50% bounce).
    let v = ok(
        &server,
        json!({"site_id": SITE, "date_range": day, "metrics": ["visitors", "pageviews", "bounce_rate"],
               "include": {"comparisons": {"mode": "previous_period"}}}),
    );
    assert_eq!(
        v["results"],
        json!([{"metrics": [4, 6, 25], "dimensions": [],
                "comparison": {"dimensions": [], "metrics": [2, 2, 50], "change": [100, 200, -25]}}]),
        "{v}"
    );
    assert_eq!(
        v["meta"]["comparison_date_range"],
        json!(["2026-03-09T00:00:00+00:00", "2026-03-09T23:59:59+00:00"])
    );
    assert_eq!(
        v["query"]["include"]["comparisons"],
        json!({"mode": "previous_period"})
    );
    // Conversion rate changes in points, revenue in percent.
    let v = ok(
        &server,
        json!({"site_id": SITE, "date_range": day, "metrics": ["visitors", "conversion_rate", "total_revenue"],
               "filters": [["is", "event:goal", ["Purchase"]]],
               "include": {"comparisons": {"mode": "custom", "date_range": ["2026-03-09", "2026-03-09"]}}}),
    );
    assert_eq!(
        v["results"][0]["comparison"],
        json!({"dimensions": [], "metrics": [1, 50.0, eur(20.0, "€20.0", "€20.00")], "change": [100, 0.0, 300]}),
        "{v}"
    );
    // Breakdowns compare row by row.
    let v = ok(
        &server,
        json!({"site_id": SITE, "date_range": day, "metrics": ["visitors", "percentage"],
               "dimensions": ["visit:source"], "pagination": {"limit": 1},
               "include": {"comparisons": {"mode": "previous_period"}}}),
    );
    assert_eq!(
        v["results"],
        json!([{"dimensions": ["Direct / None"], "metrics": [2, 50.0],
                "comparison": {"dimensions": ["Direct / None"], "metrics": [1, 50.0], "change": [100, 0]}}]),
        "{v}"
    );
    // A time series gets every bucket, compared with the matching bucket before.
    let v = ok(
        &server,
        json!({"site_id": SITE, "date_range": ["2026-03-10", "2026-03-11"], "metrics": ["visitors"],
               "dimensions": ["time:day"], "include": {"comparisons": {"mode": "previous_period"}}}),
    );
    assert_eq!(
        v["results"],
        json!([
            {"dimensions": ["2026-03-10"], "metrics": [4],
             "comparison": {"dimensions": ["2026-03-08"], "metrics": [0], "change": [100]}},
            {"dimensions": ["2026-03-11"], "metrics": [0],
             "comparison": {"dimensions": ["2026-03-09"], "metrics": [2], "change": [-100]}}
        ]),
        "{v}"
    );
    let v = ok(
        &server,
        json!({"site_id": SITE, "date_range": day, "metrics": ["visitors"],
               "include": {"comparisons": {"mode": "year_over_year"}}}),
    );
    assert_eq!(
        v["results"][0]["comparison"],
        json!({"dimensions": [], "metrics": [1], "change": [300]}),
        "{v}"
    );
    assert_eq!(
        v["meta"]["comparison_date_range"][0],
        json!("2025-03-10T00:00:00+00:00")
    );
    // A custom range that runs past today is compared with its days so far, by the rule the
    // reports (and so the dashboard) use too: yesterday to 5 days ahead is yesterday and today,
    // compared with the two days before. Only the realtime visitor is that recent: 0 → 1.
    let today = chrono::Utc::now().date_naive();
    let d = |n: i64| (today + chrono::Duration::days(n)).to_string();
    let v = ok(
        &server,
        json!({"site_id": SITE, "date_range": [d(-1), d(5)], "metrics": ["visitors"],
               "include": {"comparisons": {"mode": "previous_period"}}}),
    );
    assert_eq!(
        v["meta"]["comparison_date_range"],
        json!([
            format!("{}T00:00:00+00:00", d(-3)),
            format!("{}T23:59:59+00:00", d(-2))
        ]),
        "{v}"
    );
    assert_eq!(
        v["results"][0]["comparison"],
        json!({"dimensions": [], "metrics": [0], "change": [100]}),
        "{v}"
    );
    let (status, report) = get_json(
        &server,
        &format!(
            "/api/sites/{SITE}/reports/conversions?range={},{}&compare=previous_period",
            d(-1),
            d(5)
        ),
        KEY,
    );
    assert_eq!(status, 200, "{report}");
    let day_ms = |n: i64| {
        (today + chrono::Duration::days(n))
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis()
    };
    assert_eq!(
        report["comparison"]["bounds"],
        json!({"from_ms": day_ms(-3), "to_ms": day_ms(-1)}),
        "{report}"
    );
    assert_eq!(
        (
            report["visitors"].as_u64(),
            report["comparison"]["visitors"].as_u64(),
            &report["comparison"]["change"]["visitors"]
        ),
        (Some(1), Some(0), &json!(100)),
        "{report}"
    );

    // Date-time ranges with offsets: 12:00–12:05 at +02:00 is V1's first five minutes.
    let v = ok(
        &server,
        json!({"site_id": SITE, "metrics": ["visitors", "pageviews"],
               "date_range": ["2026-03-10T12:00:00+02:00", "2026-03-10T12:05:00+02:00"],
               "include": {"comparisons": {"mode": "previous_period"}}}),
    );
    assert_eq!(
        v["results"],
        json!([{"dimensions": [], "metrics": [1, 2],
                "comparison": {"dimensions": [], "metrics": [0, 0], "change": [100, 100]}}]),
        "{v}"
    );
    assert_eq!(
        v["query"]["date_range"],
        json!(["2026-03-10T10:00:00+00:00", "2026-03-10T10:05:00+00:00"])
    );
    let v = ok(
        &server,
        json!({"site_id": SITE, "metrics": ["visitors"],
               "date_range": ["2026-03-10T10:01:00Z", "2026-03-10T11:00:00Z"]}),
    );
    assert_eq!(result_rows(&v), vec![json!([2])], "{v}");
    // `realtime`: the last five minutes (only the visitor sent just now).
    let v = ok(
        &server,
        json!({"site_id": SITE, "metrics": ["visitors"], "date_range": "realtime"}),
    );
    assert_eq!(result_rows(&v), vec![json!([1])], "{v}");

    // Refusals name the field and the problem.
    let base = || json!({"site_id": SITE, "metrics": ["visitors"], "date_range": day});
    let with = |pairs: &[(&str, Value)]| {
        let mut b = base();
        for (k, v) in pairs {
            b[*k] = v.clone();
        }
        b
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            with(&[("metrics", json!(["conversion_rate"]))]),
            "metrics",
            "\"conversion_rate\" can only be queried with an event:goal filter or dimension",
        ),
        (
            with(&[("metrics", json!(["group_conversion_rate"]))]),
            "metrics",
            "\"group_conversion_rate\" can only be queried with an event:goal",
        ),
        (
            with(&[("metrics", json!(["total_revenue"]))]),
            "metrics",
            "\"total_revenue\" can only be queried with an event:goal",
        ),
        (
            with(&[("metrics", json!(["average_revenue"]))]),
            "metrics",
            "\"average_revenue\" can only be queried with an event:goal",
        ),
        (
            with(&[
                ("metrics", json!(["scroll_depth"])),
                (
                    "filters",
                    json!([["or", [["is", "event:page", ["/"]], ["is", "event:page", ["/blog"]]]]]),
                ),
            ]),
            "metrics",
            "\"scroll_depth\" can only be queried with an event:page dimension or a top-level event:page filter",
        ),
        (
            with(&[("metrics", json!(["time_on_page"]))]),
            "metrics",
            "\"time_on_page\" can only be queried with an event:page filter or dimension",
        ),
        (
            with(&[
                ("metrics", json!(["scroll_depth"])),
                ("dimensions", json!(["event:page", "event:goal"])),
            ]),
            "metrics",
            "cannot be grouped by \"event:goal\"",
        ),
        (
            with(&[
                ("metrics", json!(["bounce_rate"])),
                ("dimensions", json!(["event:goal"])),
            ]),
            "metrics",
            "cannot be grouped by event dimension \"event:goal\"",
        ),
        (
            with(&[("metrics", json!(["exit_rate"]))]),
            "metrics",
            "\"exit_rate\" is not supported",
        ),
        (
            with(&[("filters", json!([["matches", "event:goal", ["P.*"]]]))]),
            "filters",
            "\"event:goal\" cannot be filtered with \"matches\": use is, is_not, contains or contains_not",
        ),
        (
            with(&[(
                "filters",
                json!([["not", ["is", "event:goal", ["Purchase"]]]]),
            )]),
            "filters",
            "\"event:goal\" can only be filtered at the top level",
        ),
        (
            with(&[("filters", json!([["is", "event:goal", ["Nope"]]]))]),
            "filters",
            "the goal \"Nope\" is not configured for this site",
        ),
        (
            with(&[
                ("metrics", json!(["conversion_rate"])),
                (
                    "filters",
                    json!([["is", "event:goal", ["Purchase"]], ["or", [["is", "event:props:plan", ["pro"]]]]]),
                ),
            ]),
            "filters",
            "event:props filters must be at the top level",
        ),
        (
            with(&[("include", json!({"comparisons": "previous_period"}))]),
            "include",
            "comparisons must be an object",
        ),
        (
            with(&[("include", json!({"comparisons": {}}))]),
            "include",
            "comparisons.mode: required, previous_period, year_over_year or custom",
        ),
        (
            with(&[("include", json!({"comparisons": {"mode": "last_week"}}))]),
            "include",
            "comparisons.mode \"last_week\": use previous_period, year_over_year or custom",
        ),
        (
            with(&[("include", json!({"comparisons": {"mode": "custom"}}))]),
            "include",
            "comparisons.date_range: required with mode \"custom\"",
        ),
        (
            with(&[(
                "include",
                json!({"comparisons": {"mode": "custom", "date_range": ["2026-03-02", "2026-03-01"]}}),
            )]),
            "include",
            "comparisons.date_range: the end lies before the start",
        ),
        (
            with(&[(
                "include",
                json!({"comparisons": {"mode": "previous_period", "date_range": ["2026-03-01", "2026-03-02"]}}),
            )]),
            "include",
            "comparisons.date_range is only for mode \"custom\"",
        ),
        (
            with(&[(
                "include",
                json!({"comparisons": {"mode": "previous_period", "match_day_of_week": true}}),
            )]),
            "include",
            "comparisons: unknown option \"match_day_of_week\": use mode, date_range",
        ),
        (
            with(&[
                ("date_range", json!("all")),
                ("include", json!({"comparisons": {"mode": "previous_period"}})),
            ]),
            "include",
            "comparisons cannot compare date_range \"all\"",
        ),
        (
            with(&[("date_range", json!("30m"))]),
            "date_range",
            "unknown preset \"30m\"",
        ),
        (
            with(&[(
                "date_range",
                json!(["2026-03-10T10:00:00Z", "2026-03-10T09:00:00Z"]),
            )]),
            "date_range",
            "the end lies before the start",
        ),
        (
            with(&[("date_range", json!(["2026-03-10T10:00:00", "2026-03-10T11:00:00"]))]),
            "date_range",
            "two ISO 8601 date-times with offsets",
        ),
    ];
    assert_stats_refusals(&server, KEY, cases);
}
