//! `waymark demo` as a person runs it: it generates history, serves it, and plays live visits
//! through the real Events API, so the Realtime view shows visitors with their countries.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{agent, bin, free_port};
use serde_json::{json, Value};

/// Kills the demo server when the test ends, pass or fail.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `waymark_events_accepted_total` from `/metrics` (0 while nothing listens yet).
fn accepted(base: &str) -> u64 {
    let Ok(mut resp) = agent().get(&format!("{base}/metrics")).call() else {
        return 0;
    };
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("waymark_events_accepted_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The realtime answer, or `Null` while the demo is still generating (nothing listens yet).
fn realtime(base: &str, dimensions: Value) -> Value {
    let body = json!({
        "site_id": "demo.waymark.local",
        "metrics": ["visitors", "pageviews"],
        "date_range": "realtime",
        "dimensions": dimensions,
    });
    let Ok(mut resp) = agent()
        .post(&format!("{base}/api/v2/query"))
        .header("Authorization", "Bearer demo-key")
        .header("Content-Type", "application/json")
        .send(body.to_string().as_bytes())
    else {
        return Value::Null;
    };
    serde_json::from_str(&resp.body_mut().read_to_string().expect("body")).expect("json")
}

#[test]
fn the_served_demo_plays_live_visits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(dir.path().join("demo.log")).expect("log");
    let _demo = Running(
        Command::new(bin())
            .args([
                "demo",
                "--events",
                "3000",
                "--days",
                "7",
                "--api-keys",
                "demo-key",
            ])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .stdout(Stdio::from(log.try_clone().expect("log clone")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn waymark demo"),
    );
    // Generating takes a few seconds, then visits start every 2–10 s: allow 90 s in all. The
    // history is bulk-loaded, so the Events API's accepted counter counts live events only.
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut live = 0;
    while live < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
        live = accepted(&base);
    }
    let log = std::fs::read_to_string(dir.path().join("demo.log")).unwrap_or_default();
    assert!(
        live >= 2,
        "no live events reached the Events API; log:\n{log}"
    );
    let rows = realtime(&base, json!(["visit:country"]));
    let located = rows["results"].as_array().is_some_and(|r| {
        r.iter()
            .any(|row| row["dimensions"][0].as_str().is_some_and(|c| c.len() == 2))
    });
    assert!(located, "realtime visitors have countries: {rows}");
    let total = realtime(&base, json!([]));
    assert!(
        total["results"][0]["metrics"][1].as_f64().unwrap_or(0.0) >= 1.0,
        "live pageviews: {total}"
    );
    assert!(
        log.contains("sign in at"),
        "the demo prints how to sign in: {log}"
    );
}
