//! The conversion and funnel reports over HTTP against the real binary, with known answers:
//! comparisons (`previous_period`, `year_over_year`) and every filter kind the dashboard sends
//! (visit attributes, `visit:entry_page`/`visit:exit_page`, and `event:page`,
//! `event:props:KEY`, `event:goal`, which keep the visits that include a matching event).

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

const SITE: &str = "shop.example";
const KEY: &str = "reports-key-1";
/// The reported day; the previous period is 2026-01-09, the previous year 2025-01-10.
const DAY: &str = "2026-01-10,2026-01-10";

fn get(server: &Server, path: &str) -> (u16, Value) {
    get_json(server, path, KEY)
}

fn post_json(server: &Server, path: &str, body: &Value) -> (u16, Value) {
    let resp = agent()
        .post(&server.url(path))
        .header("Authorization", &format!("Bearer {KEY}"))
        .header("Content-Type", "application/json")
        .send(body.to_string().as_bytes())
        .expect("request");
    let status = resp.status().as_u16();
    let text = resp.into_body().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// One event of the visitor behind `ip`, at `at` (RFC 3339), with extra fields.
fn send(server: &Server, ip: &str, name: &str, path: &str, at: &str, extra: Value) {
    let mut body =
        json!({"n": name, "u": format!("https://{SITE}{path}"), "d": SITE, "timestamp": at});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    post_accepted(server, &body, CHROME_UA, ip, KEY);
}

fn seed(server: &Server) {
    let none = || json!({});
    let eur = |amount: f64| json!({"revenue": {"amount": amount, "currency": "EUR"}});
    // The reported day. V1: home, pricing, a pro signup, a purchase (30 EUR).
    send(
        server,
        "10.0.1.1",
        "pageview",
        "/",
        "2026-01-10T10:00:00Z",
        none(),
    );
    send(
        server,
        "10.0.1.1",
        "pageview",
        "/pricing",
        "2026-01-10T10:01:00Z",
        none(),
    );
    send(
        server,
        "10.0.1.1",
        "Signup",
        "/pricing",
        "2026-01-10T10:02:00Z",
        json!({"p": {"plan": "pro"}}),
    );
    send(
        server,
        "10.0.1.1",
        "Purchase",
        "/checkout",
        "2026-01-10T10:03:00Z",
        eur(30.0),
    );
    // V2: home and pricing. V3: lands on the blog and buys (20 EUR). V4: home only.
    send(
        server,
        "10.0.1.2",
        "pageview",
        "/",
        "2026-01-10T12:00:00Z",
        none(),
    );
    send(
        server,
        "10.0.1.2",
        "pageview",
        "/pricing",
        "2026-01-10T12:01:00Z",
        none(),
    );
    send(
        server,
        "10.0.1.3",
        "pageview",
        "/blog",
        "2026-01-10T14:00:00Z",
        none(),
    );
    send(
        server,
        "10.0.1.3",
        "Purchase",
        "/checkout",
        "2026-01-10T14:05:00Z",
        eur(20.0),
    );
    send(
        server,
        "10.0.1.4",
        "pageview",
        "/",
        "2026-01-10T16:00:00Z",
        none(),
    );
    // The previous day: P1 signs up on the free plan, P2 visits.
    send(
        server,
        "10.0.2.1",
        "pageview",
        "/",
        "2026-01-09T10:00:00Z",
        none(),
    );
    send(
        server,
        "10.0.2.1",
        "Signup",
        "/pricing",
        "2026-01-09T10:01:00Z",
        json!({"p": {"plan": "free"}}),
    );
    send(
        server,
        "10.0.2.2",
        "pageview",
        "/",
        "2026-01-09T11:00:00Z",
        none(),
    );
    // A year earlier: Y1 buys (10 EUR).
    send(
        server,
        "10.0.3.1",
        "pageview",
        "/",
        "2025-01-10T10:00:00Z",
        none(),
    );
    send(
        server,
        "10.0.3.1",
        "Purchase",
        "/checkout",
        "2025-01-10T10:01:00Z",
        eur(10.0),
    );
}

/// `(name, visitors, rate)` expected per conversion.
type Rows<'a> = &'a [(&'a str, u64, f64)];

fn conversions_url(query: &str) -> String {
    format!("/api/sites/{SITE}/reports/conversions?range={DAY}{query}")
}

fn funnel_url(query: &str) -> String {
    format!("/api/sites/{SITE}/reports/funnels/Pricing?range={DAY}{query}")
}

/// `(name, visitors, rate)` per conversion.
fn rows(r: &Value) -> Vec<(String, u64, f64)> {
    r["conversions"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or("").to_string(),
                c["visitors"].as_u64().unwrap_or(0),
                c["rate"].as_f64().unwrap_or(-1.0),
            )
        })
        .collect()
}

fn row<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["conversions"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == json!(name)))
        .unwrap_or_else(|| panic!("no {name} in {r}"))
}

fn reach(r: &Value) -> Vec<u64> {
    r["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("no steps in {r}"))
        .iter()
        .map(|s| s["visitors"].as_u64().unwrap_or(0))
        .collect()
}

fn ok(server: &Server, path: &str) -> Value {
    let (status, r) = get(server, path);
    assert_eq!(status, 200, "{path}: {r}");
    r
}

fn refused(server: &Server, path: &str, field: &str, says: &str) {
    let (status, e) = get(server, path);
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some(field)),
        "{path}: {e}"
    );
    let msg = e["error"].as_str().unwrap_or("");
    assert!(msg.contains(says), "{path}: {msg}");
}

#[test]
fn reports_compare_and_honour_every_filter_kind() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[SITE],
        &["--trusted-proxies", "127.0.0.1", "--api-keys", KEY],
    );
    let defs = [
        json!({"name": "Signup", "kind": "macro", "trigger": "event Signup"}),
        json!({"name": "Purchase", "kind": "macro", "trigger": "event Purchase", "value": "revenue"}),
        json!({"name": "View Pricing", "kind": "micro", "trigger": "pageview /pricing"}),
    ];
    for d in defs {
        let (status, body) = post_json(&server, &format!("/api/sites/{SITE}/conversions"), &d);
        assert_eq!(status, 201, "{body}");
    }
    let funnel = json!({"name": "Pricing", "window": "session",
        "steps": [{"label": "Visit", "trigger": "pageview"}, "View Pricing", "Purchase"]});
    let (status, body) = post_json(&server, &format!("/api/sites/{SITE}/funnels"), &funnel);
    assert_eq!(status, 201, "{body}");
    seed(&server);

    // Ingestion is asynchronous: wait until the whole seed is queryable.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = ok(&server, &conversions_url(""));
        let before = ok(&server, &conversions_url("&compare=year_over_year"));
        if (now["visitors"] == json!(4) && before["comparison"]["visitors"] == json!(1))
            || Instant::now() > deadline
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    // ---- conversions: the plain report is unchanged in shape ----
    let r = ok(&server, &conversions_url(""));
    assert_eq!(r["visitors"], json!(4), "{r}");
    let want = |v: &[(&str, u64, f64)]| -> Vec<(String, u64, f64)> {
        v.iter().map(|(n, a, b)| (n.to_string(), *a, *b)).collect()
    };
    assert_eq!(
        rows(&r),
        want(&[
            ("Signup", 1, 25.0),
            ("Purchase", 2, 50.0),
            ("View Pricing", 2, 50.0)
        ])
    );
    assert_eq!(row(&r, "Purchase")["revenue"]["total"], json!(50.0));
    assert!(
        r.get("comparison").is_none(),
        "no comparison unless asked: {r}"
    );
    assert!(row(&r, "Purchase").get("comparison").is_none());

    // ---- conversions compared with the previous period (2026-01-09: P1 signs up, P2) ----
    let r = ok(&server, &conversions_url("&compare=previous_period"));
    assert_eq!(r["comparison"]["visitors"], json!(2), "{r}");
    assert_eq!(r["comparison"]["change"]["visitors"], json!(100));
    let s = &row(&r, "Signup")["comparison"];
    assert_eq!(
        (s["visitors"].clone(), s["rate"].clone()),
        (json!(1), json!(50.0)),
        "{s}"
    );
    assert_eq!(
        s["change"],
        json!({"visitors": 0, "conversions": 0, "rate": -25.0, "revenue": null})
    );
    let p = &row(&r, "Purchase")["comparison"];
    assert_eq!(
        (p["visitors"].clone(), p["rate"].clone()),
        (json!(0), json!(0.0)),
        "{p}"
    );
    assert_eq!(p["revenue"]["total"], json!(0.0));
    // From 0 to anything is +100%, as in the Stats API; the rate moves in points.
    assert_eq!(
        p["change"],
        json!({"visitors": 100, "conversions": 100, "rate": 50.0, "revenue": 100})
    );
    // `previous` is the older spelling of the same period.
    let same = ok(&server, &conversions_url("&compare=previous"));
    assert_eq!(same["comparison"], r["comparison"]);

    // ---- conversions compared year over year (2025-01-10: Y1 buys for 10 EUR) ----
    let r = ok(&server, &conversions_url("&compare=year_over_year"));
    assert_eq!(r["comparison"]["visitors"], json!(1), "{r}");
    assert_eq!(r["comparison"]["change"]["visitors"], json!(300));
    let p = &row(&r, "Purchase")["comparison"];
    assert_eq!(p["revenue"]["total"], json!(10.0), "{p}");
    assert_eq!(
        p["change"],
        json!({"visitors": 100, "conversions": 100, "rate": -50.0, "revenue": 400})
    );
    // Explicit dates still work.
    let r = ok(&server, &conversions_url("&compare=2025-01-10,2025-01-10"));
    assert_eq!(r["comparison"]["visitors"], json!(1), "{r}");

    // ---- conversions with each filter kind: visits that include a match, denominator too ----
    let cases: [(&str, u64, Rows); 7] = [
        // V1 and V2 viewed the pricing page.
        (
            "event:page=/pricing",
            2,
            &[
                ("Signup", 1, 50.0),
                ("Purchase", 1, 50.0),
                ("View Pricing", 2, 100.0),
            ],
        ),
        // V1 sent the pro plan.
        (
            "event:props:plan=pro",
            1,
            &[
                ("Signup", 1, 100.0),
                ("Purchase", 1, 100.0),
                ("View Pricing", 1, 100.0),
            ],
        ),
        // V1 and V3 bought.
        (
            "event:goal=Purchase",
            2,
            &[
                ("Signup", 1, 50.0),
                ("Purchase", 2, 100.0),
                ("View Pricing", 1, 50.0),
            ],
        ),
        (
            "event:goal~Purch",
            2,
            &[
                ("Signup", 1, 50.0),
                ("Purchase", 2, 100.0),
                ("View Pricing", 1, 50.0),
            ],
        ),
        // V3's last (and only) pageview was the blog; a later custom event does not change it.
        (
            "visit:exit_page=/blog",
            1,
            &[
                ("Signup", 0, 0.0),
                ("Purchase", 1, 100.0),
                ("View Pricing", 0, 0.0),
            ],
        ),
        (
            "visit:entry_page=/",
            3,
            &[
                ("Signup", 1, 100.0 / 3.0),
                ("Purchase", 1, 100.0 / 3.0),
                ("View Pricing", 2, 200.0 / 3.0),
            ],
        ),
        // Combined with a visit attribute (everyone came directly).
        (
            "visit:channel=Direct&filter=event:page=/pricing",
            2,
            &[
                ("Signup", 1, 50.0),
                ("Purchase", 1, 50.0),
                ("View Pricing", 2, 100.0),
            ],
        ),
    ];
    for (filter, visitors, want_rows) in cases {
        let r = ok(&server, &conversions_url(&format!("&filter={filter}")));
        assert_eq!(r["visitors"], json!(visitors), "{filter}: {r}");
        assert_eq!(rows(&r), want(want_rows), "{filter}");
    }
    let r = ok(
        &server,
        &conversions_url("&filter=event:page=/pricing&compare=previous_period"),
    );
    assert_eq!(r["filters"], json!(["event:page=/pricing"]));
    // The previous day had no pricing pageview, but P1's signup was sent from /pricing:
    // `event:page` matches custom events' pages too, as in the Stats API.
    assert_eq!(r["comparison"]["visitors"], json!(1), "{r}");
    assert_eq!(row(&r, "Signup")["comparison"]["rate"], json!(100.0));

    // ---- funnel: Visit → View Pricing → Purchase, per visit ----
    assert_eq!(reach(&ok(&server, &funnel_url(""))), vec![4, 2, 1]);
    for (filter, want_reach) in [
        ("event:page=/pricing", vec![2, 2, 1]),
        ("event:goal=Purchase", vec![2, 1, 1]),
        ("event:props:plan=pro", vec![1, 1, 1]),
        ("visit:exit_page=/blog", vec![1, 0, 0]),
        ("visit:entry_page=/blog", vec![1, 0, 0]),
        ("exit_page=/pricing", vec![2, 2, 1]),
    ] {
        let r = ok(&server, &funnel_url(&format!("&filter={filter}")));
        assert_eq!(reach(&r), want_reach, "{filter}: {r}");
    }
    let r = ok(&server, &funnel_url("&compare=previous_period"));
    assert_eq!(reach(&r["comparison"]), vec![2, 0, 0], "{r}");
    let r = ok(
        &server,
        &funnel_url("&compare=year_over_year&filter=event:goal=Purchase"),
    );
    assert_eq!(reach(&r), vec![2, 1, 1]);
    assert_eq!(reach(&r["comparison"]), vec![1, 0, 0], "{r}");
    // An unsaved funnel takes the same parameters.
    let adhoc = json!({"name": "Adhoc", "window": "session",
        "steps": [{"label": "Visit", "trigger": "pageview"}, {"label": "Buy", "trigger": "event Purchase"}]});
    let (status, r) = post_json(
        &server,
        &format!("/api/sites/{SITE}/reports/funnel?range={DAY}&filter=event:goal=Signup"),
        &adhoc,
    );
    assert_eq!(status, 200, "{r}");
    assert_eq!(reach(&r), vec![1, 1], "only V1 signed up: {r}");

    // ---- refused with the parameter named ----
    refused(
        &server,
        &conversions_url("&filter=event:goal=Nope"),
        "filter",
        "Purchase",
    );
    refused(
        &server,
        &funnel_url("&filter=event:goal=Nope"),
        "filter",
        "Signup",
    );
    refused(
        &server,
        &conversions_url("&filter=event:colour=x"),
        "filter",
        "event:page",
    );
    refused(
        &server,
        &conversions_url("&compare=lastweek"),
        "compare",
        "year_over_year",
    );
    refused(
        &server,
        "/api/sites/shop.example/reports/conversions?range=all&compare=year_over_year",
        "compare",
        "all",
    );
    refused(
        &server,
        "/api/sites/shop.example/reports/conversions?range=fortnight",
        "range",
        "range",
    );
}
