//! Conversions and funnels end to end against the real binary: definitions as code applied at
//! server start, the HTTP API (management, errors, reports over tracked events), and the CLI.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

const SITE: &str = "shop.example";
const KEY: &str = "test-key-1";

fn call(method: &str, server: &Server, path: &str, body: Option<Value>, key: bool) -> (u16, Value) {
    let url = server.url(path);
    let agent = agent();
    let resp = match (method, body) {
        ("GET", _) => {
            let mut r = agent.get(&url);
            if key {
                r = r.header("Authorization", &format!("Bearer {KEY}"));
            }
            r.call()
        }
        ("DELETE", _) => {
            let mut r = agent.delete(&url);
            if key {
                r = r.header("Authorization", &format!("Bearer {KEY}"));
            }
            r.call()
        }
        (m, b) => {
            let mut r = if m == "PUT" {
                agent.put(&url)
            } else {
                agent.post(&url)
            };
            r = r.header("Content-Type", "application/json");
            if key {
                r = r.header("Authorization", &format!("Bearer {KEY}"));
            }
            r.send(b.unwrap_or(Value::Null).to_string().as_bytes())
        }
    }
    .expect("request");
    let status = resp.status().as_u16();
    let text = resp.into_body().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn event(server: &Server, ip: &str, name: &str, path: &str) {
    let body = format!(r#"{{"n":"{name}","u":"https://{SITE}{path}","d":"{SITE}"}}"#);
    let r = post(server, &body, CHROME_UA, ip, &[]);
    assert_eq!(r.status, 202, "{}", r.body);
}

#[test]
fn definitions_as_code_the_api_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("waymark.toml");
    std::fs::write(
        &config,
        r#"
[[sites]]
domain = "shop.example"
templates = ["saas"]

[[sites.conversions]]
name = "Signup"
kind = "macro"
trigger = "event Signup"

[[sites.funnels]]
name = "Signup"
window = "session"
steps = [{ label = "Visit", trigger = "pageview" }, "View Pricing", "Signup"]
"#,
    )
    .unwrap();
    let config_arg = config.to_str().unwrap();
    let server = Server::start(
        dir.path(),
        &[SITE],
        &[
            "--config",
            config_arg,
            "--trusted-proxies",
            "127.0.0.1",
            "--api-keys",
            KEY,
        ],
    );
    let log = server.server_log();
    assert!(log.contains("conversion \"Signup\" created"), "{log}");
    assert!(log.contains("funnel \"Signup\" created"), "{log}");

    // Templates and trigger checks.
    let (status, t) = call("GET", &server, "/api/templates", None, false);
    assert_eq!(status, 200);
    let ids: Vec<&str> = t["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["ecommerce", "saas", "content", "b2b"]);
    let (status, e) = call(
        "POST",
        &server,
        "/api/triggers/check",
        Some(json!({"trigger": "event Add to Cart"})),
        false,
    );
    assert_eq!((status, e["field"].as_str()), (400, Some("trigger")));
    assert!(e["error"].as_str().unwrap().contains("column 11"), "{e}");

    // Management: keys are required, bad input is refused with the field named.
    let search =
        json!({"name": "Search", "kind": "micro", "trigger": "event Search where results >= 1"});
    let (status, _) = call(
        "POST",
        &server,
        "/api/sites/shop.example/conversions",
        Some(search.clone()),
        false,
    );
    assert_eq!(status, 401);
    let (status, body) = call(
        "POST",
        &server,
        "/api/sites/shop.example/conversions",
        Some(search.clone()),
        true,
    );
    assert_eq!(
        (status, body["change"].as_str()),
        (201, Some("created")),
        "{body}"
    );
    let (status, body) = call(
        "PUT",
        &server,
        "/api/sites/shop.example/conversions/Search",
        Some(search),
        true,
    );
    assert_eq!(
        (status, body["change"].as_str()),
        (200, Some("unchanged")),
        "{body}"
    );
    let bad = json!({"name": "X", "kind": "micro", "trigger": "event X where n >= lots"});
    let (status, e) = call(
        "POST",
        &server,
        "/api/sites/shop.example/conversions",
        Some(bad),
        true,
    );
    assert_eq!((status, e["field"].as_str()), (400, Some("trigger")), "{e}");
    let week = json!({"name": "Week", "window": "7d", "steps": ["View Pricing", "Signup"]});
    let (status, e) = call(
        "POST",
        &server,
        "/api/sites/shop.example/funnels",
        Some(week),
        true,
    );
    assert_eq!((status, e["field"].as_str()), (422, Some("window")), "{e}");
    assert!(e["error"].as_str().unwrap().contains("consented"), "{e}");
    // Each refusal names the top-level field it lies in, from the error's kind.
    for (funnel, field) in [
        (
            json!({"name": "T", "steps": [{"trigger": "event"}, "Signup"]}),
            "steps",
        ),
        (
            json!({"name": "T", "steps": ["View Pricing", "Signup"], "order": "sideways"}),
            "order",
        ),
        (
            json!({"name": "T", "steps": ["View Pricing", "Signup"], "window": "soon"}),
            "window",
        ),
        (json!({"steps": ["View Pricing", "Signup"]}), "name"),
        (
            json!({"name": "T", "steps": ["View Pricing", "Nope"]}),
            "steps",
        ),
    ] {
        let (status, e) = call(
            "POST",
            &server,
            "/api/sites/shop.example/funnels",
            Some(funnel.clone()),
            true,
        );
        assert_eq!(
            (status, e["field"].as_str()),
            (400, Some(field)),
            "{funnel}: {e}"
        );
    }
    let (status, _) = call(
        "DELETE",
        &server,
        "/api/sites/shop.example/conversions/Signup",
        None,
        true,
    );
    assert_eq!(status, 409, "used by a funnel");
    let (status, _) = call(
        "DELETE",
        &server,
        "/api/sites/shop.example/conversions/Search",
        None,
        true,
    );
    assert_eq!(status, 204);
    let (status, _) = call(
        "GET",
        &server,
        "/api/sites/nope.example/conversions",
        None,
        true,
    );
    assert_eq!(status, 404);

    // Tracked traffic: 4 visitors; 2 view pricing; 1 signs up.
    for (i, steps) in [3, 2, 1, 1].iter().enumerate() {
        let ip = format!("203.0.113.{}", i + 10);
        event(&server, &ip, "pageview", "/");
        if *steps >= 2 {
            event(&server, &ip, "pageview", "/pricing");
        }
        if *steps >= 3 {
            event(&server, &ip, "Signup", "/pricing");
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let report = loop {
        let (status, r) = call(
            "GET",
            &server,
            "/api/sites/shop.example/reports/funnels/Signup?range=all&by=channel",
            None,
            true,
        );
        assert_eq!(status, 200, "{r}");
        if r["steps"][0]["visitors"] == json!(4) || Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let visitors: Vec<u64> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["visitors"].as_u64().unwrap())
        .collect();
    assert_eq!(visitors, vec![4, 2, 1], "{report}");
    assert_eq!(report["weakest"]["to"], json!("View Pricing"));
    assert_eq!(
        report["breakdown"]["segments"][0]["segment"],
        json!("Direct")
    );
    let (status, c) = call(
        "GET",
        &server,
        "/api/sites/shop.example/reports/conversions?range=all",
        None,
        true,
    );
    assert_eq!(status, 200);
    let signup = c["conversions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == json!("Signup"))
        .unwrap();
    assert_eq!(
        (signup["visitors"].as_u64(), signup["rate"].as_f64()),
        (Some(1), Some(25.0))
    );
    let (status, e) = call(
        "GET",
        &server,
        "/api/sites/shop.example/reports/conversions?range=fortnight",
        None,
        true,
    );
    assert_eq!(status, 400, "{e}");
    // An unsaved funnel, reported from the request body.
    let adhoc = json!({"name": "Adhoc", "order": "any", "steps": [{"trigger": "event Signup"}, {"trigger": "pageview /"}]});
    let (status, r) = call(
        "POST",
        &server,
        "/api/sites/shop.example/reports/funnel?range=all",
        Some(adhoc),
        true,
    );
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["steps"][1]["visitors"], json!(1));
}

#[test]
fn the_cli_manages_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (ok, out, _) = waymark(&["conversions", "templates"]);
    assert!(ok);
    for business in ["E-commerce", "SaaS", "Content/Media", "B2B Services"] {
        assert!(out.contains(business), "{out}");
    }
    let (ok, _, err) = waymark(&["conversions", "check", "pageview /x where engaged > 5s"]);
    assert!(!ok);
    assert!(err.contains("minimum") && err.contains("column"), "{err}");
    assert!(waymark(&["site", "add", SITE, "--data-dir", d]).0);
    let (ok, out, err) = waymark(&[
        "conversions",
        "template",
        "--data-dir",
        d,
        "--site",
        SITE,
        "ecommerce",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("funnel \"Checkout\" created"), "{out}");
    let (ok, _, err) = waymark(&[
        "conversions",
        "add",
        "--data-dir",
        d,
        "--site",
        SITE,
        "--name",
        "Lead",
        "--kind",
        "macro",
        "--trigger",
        "event Lead",
        "--value",
        "40 EUR",
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = waymark(&[
        "funnel",
        "add",
        "--data-dir",
        d,
        "--site",
        SITE,
        "--name",
        "Leads",
        "--window",
        "2d",
        "--step",
        "Visit: pageview",
        "--step",
        "Lead",
    ]);
    assert!(!ok && err.contains("consented"), "{err}");
    let (ok, _, err) = waymark(&[
        "funnel",
        "add",
        "--data-dir",
        d,
        "--site",
        SITE,
        "--name",
        "Leads",
        "--window",
        "30m",
        "--step",
        "Visit: pageview",
        "--step",
        "Lead",
    ]);
    assert!(ok, "{err}");
    let (ok, out, _) = waymark(&["funnel", "list", "--data-dir", d, "--site", SITE]);
    assert!(
        ok && out.contains("Leads") && out.contains("Visit → Lead"),
        "{out}"
    );
    let (ok, out, err) = waymark(&[
        "funnel",
        "--data-dir",
        d,
        "--site",
        SITE,
        "--name",
        "checkout",
        "--range",
        "7d",
        "--json",
    ]);
    assert!(ok, "{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["steps"].as_array().map(Vec::len), Some(5));
    let (ok, _, err) = waymark(&["funnel", "--data-dir", d, "--site", SITE, "--name", "Nope"]);
    assert!(
        !ok && err.contains("Checkout"),
        "the error lists the funnels: {err}"
    );
    let (ok, out, err) = waymark(&["conversions", "list", "--data-dir", d, "--site", SITE]);
    assert!(ok && out.contains("40 EUR"), "{out}{err}");
    // The report, compared with the period before: a comparison line and change columns.
    let (ok, out, err) = waymark(&[
        "conversions",
        "report",
        "--data-dir",
        d,
        "--site",
        SITE,
        "--range",
        "7d",
        "--compare",
        "previous_period",
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains("compared with") && out.contains("rate Δ") && out.contains("Lead"),
        "{out}"
    );
    let (ok, _, err) = waymark(&[
        "conversions",
        "report",
        "--data-dir",
        d,
        "--site",
        SITE,
        "--compare",
        "last-tuesday",
    ]);
    assert!(!ok && err.contains("compare"), "{err}");
}
