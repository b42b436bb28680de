//! The Events API end to end against the real binary and store: malformed input, drops,
//! enrichment, identity and sessions, server-side events, and the privacy scan.

mod common;

use common::*;

const SITE: &str = "shop.example";

fn body(name: &str, url: &str) -> String {
    format!(r#"{{"n":"{name}","u":"{url}","d":"{SITE}"}}"#)
}

#[test]
fn malformed_input_gets_a_clear_400_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[SITE], &["--trusted-proxies", "127.0.0.1"]);
    let long = "a".repeat(2_100);
    let long_key = "k".repeat(301);
    let long_url = format!("https://{SITE}/{}", "p".repeat(2_000));
    let long_name = "n".repeat(121);
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("empty body", String::new(), 400, "body"),
        ("truncated JSON", r#"{"n":"#.into(), 400, "body"),
        ("not JSON", "hello".into(), 400, "body"),
        ("JSON array", "[1,2]".into(), 400, "body"),
        ("JSON string", r#""pageview""#.into(), 400, "body"),
        ("JSON null", "null".into(), 400, "body"),
        (
            "missing name",
            format!(r#"{{"u":"https://{SITE}/","d":"{SITE}"}}"#),
            400,
            "name",
        ),
        (
            "blank name",
            body("  ", &format!("https://{SITE}/")),
            400,
            "name",
        ),
        (
            "name is an object",
            format!(r#"{{"n":{{}},"u":"https://{SITE}/","d":"{SITE}"}}"#),
            400,
            "name",
        ),
        (
            "name is a bool",
            format!(r#"{{"n":true,"u":"https://{SITE}/","d":"{SITE}"}}"#),
            400,
            "name",
        ),
        (
            "name too long",
            body(&long_name, &format!("https://{SITE}/")),
            400,
            "name",
        ),
        (
            "missing url",
            format!(r#"{{"n":"pageview","d":"{SITE}"}}"#),
            400,
            "url",
        ),
        ("relative url", body("pageview", "/just/a/path"), 400, "url"),
        (
            "url is a number",
            format!(r#"{{"n":"pageview","u":5,"d":"{SITE}"}}"#),
            400,
            "url",
        ),
        ("url too long", body("pageview", &long_url), 400, "url"),
        (
            "data url",
            body("pageview", "data:text/html,hi"),
            400,
            "url",
        ),
        (
            "domain is a number",
            format!(r#"{{"n":"x","u":"https://{SITE}/","d":3}}"#),
            400,
            "domain",
        ),
        (
            "blank domain",
            format!(r#"{{"n":"x","u":"https://{SITE}/","d":" , "}}"#),
            400,
            "domain",
        ),
        (
            "referrer is an array",
            format!(r#"{{"n":"x","u":"https://{SITE}/","d":"{SITE}","r":[]}}"#),
            400,
            "referrer",
        ),
        (
            "props is a list",
            format!(r#"{{"n":"x","u":"https://{SITE}/","d":"{SITE}","p":[1]}}"#),
            400,
            "props",
        ),
        (
            "props is a number",
            format!(r#"{{"n":"x","u":"https://{SITE}/","d":"{SITE}","p":1}}"#),
            400,
            "props",
        ),
        (
            "props string not an object",
            format!(r#"{{"n":"x","u":"https://{SITE}/","d":"{SITE}","p":"nope"}}"#),
            400,
            "props",
        ),
        (
            "prop value over 2000 bytes",
            format!(r#"{{"n":"x","u":"https://{SITE}/","d":"{SITE}","p":{{"k":"{long}"}}}}"#),
            400,
            "props",
        ),
        (
            "prop key over 300 bytes",
            format!(r#"{{"n":"x","u":"https://{SITE}/","d":"{SITE}","p":{{"{long_key}":"v"}}}}"#),
            400,
            "props",
        ),
        (
            "revenue not an object",
            format!(r#"{{"n":"Purchase","u":"https://{SITE}/","d":"{SITE}","$":5}}"#),
            400,
            "revenue",
        ),
        (
            "revenue amount missing",
            format!(
                r#"{{"n":"Purchase","u":"https://{SITE}/","d":"{SITE}","revenue":{{"currency":"EUR"}}}}"#
            ),
            400,
            "revenue.amount",
        ),
        (
            "revenue amount not numeric",
            format!(
                r#"{{"n":"Purchase","u":"https://{SITE}/","d":"{SITE}","revenue":{{"amount":"ten","currency":"EUR"}}}}"#
            ),
            400,
            "revenue.amount",
        ),
        (
            "revenue currency invalid",
            format!(
                r#"{{"n":"Purchase","u":"https://{SITE}/","d":"{SITE}","revenue":{{"amount":10,"currency":"EURO"}}}}"#
            ),
            400,
            "revenue.currency",
        ),
        (
            "interactive not a bool",
            format!(r#"{{"n":"x","u":"https://{SITE}/","d":"{SITE}","i":"yes"}}"#),
            400,
            "interactive",
        ),
        (
            "hashMode not a flag",
            format!(r#"{{"n":"x","u":"https://{SITE}/","d":"{SITE}","h":"on"}}"#),
            400,
            "hashMode",
        ),
        (
            "engagement without sd or e",
            body("engagement", &format!("https://{SITE}/")),
            400,
            "sd",
        ),
        (
            "engagement with negative sd",
            format!(r#"{{"n":"engagement","u":"https://{SITE}/","d":"{SITE}","sd":-4}}"#),
            400,
            "sd",
        ),
        (
            "engagement with text e",
            format!(r#"{{"n":"engagement","u":"https://{SITE}/","d":"{SITE}","e":"long"}}"#),
            400,
            "e",
        ),
        (
            "timestamp without API key",
            format!(r#"{{"n":"x","u":"https://{SITE}/","d":"{SITE}","timestamp":1700000000000}}"#),
            401,
            "",
        ),
        (
            "idempotency key without API key",
            format!(r#"{{"n":"x","u":"https://{SITE}/","d":"{SITE}","idempotency_key":"a"}}"#),
            401,
            "",
        ),
    ];
    assert!(cases.len() >= 30);
    for (what, b, status, field) in &cases {
        let r = post(&server, b, CHROME_UA, "198.51.100.1", &[]);
        assert_eq!(r.status, *status, "{what}: got {} {}", r.status, r.body);
        let json: serde_json::Value = serde_json::from_str(&r.body)
            .unwrap_or_else(|_| panic!("{what}: error body is not JSON: {}", r.body));
        let msg = json["error"].as_str().unwrap_or_default();
        assert!(!msg.is_empty(), "{what}: no error message");
        if !field.is_empty() {
            assert_eq!(json["field"], *field, "{what}: {}", r.body);
        }
    }
    // Oversized body: 413 with JSON.
    let huge = "a".repeat(3_000_000);
    let r = post(&server, &huge, CHROME_UA, "198.51.100.1", &[]);
    assert_eq!(r.status, 413);
    assert!(r.body.contains("error"));
    // The server is still healthy and nothing was stored.
    let r = post(
        &server,
        &body("pageview", &format!("https://{SITE}/ok")),
        CHROME_UA,
        "198.51.100.1",
        &[],
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let mut server = server;
    server.stop();
    assert_eq!(
        server.sql("select count(*) from events"),
        vec![vec!["1".to_string()]]
    );
    assert!(!server.server_log().contains("panicked"));
}

#[test]
fn enrichment_drops_identity_and_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let geo = dir.path().join("geo.mmdb");
    write_geo_db(&geo);
    let mut server = Server::start(
        dir.path(),
        &[SITE, "other.example"],
        &[
            "--trusted-proxies",
            "127.0.0.1",
            "--geoip",
            geo.to_str().unwrap(),
            "--api-keys",
            "sekret",
        ],
    );
    let ip = "192.0.2.10";
    // A visit from Google search with UTM tags and a Chrome desktop browser.
    let r = post(
        &server,
        &format!(
            r#"{{"n":"pageview","u":"https://www.{SITE}/products/1?utm_source=spring&utm_medium=cpc&utm_campaign=sale&gclid=x","d":"{SITE}","r":"https://www.google.com/"}}"#
        ),
        CHROME_UA,
        ip,
        &[],
    );
    assert_eq!((r.status, r.dropped.as_deref()), (202, None), "{}", r.body);
    // Same visitor: an SPA navigation and a custom event with props and revenue.
    assert_eq!(
        post(
            &server,
            &body("pageview", &format!("https://{SITE}/cart")),
            CHROME_UA,
            ip,
            &[]
        )
        .status,
        202
    );
    let r = post(
        &server,
        &format!(
            r#"{{"n":"Purchase","u":"https://{SITE}/done","d":"{SITE}","p":{{"items":3,"gift":true}},"revenue":{{"amount":"49.90","currency":"eur"}}}}"#
        ),
        CHROME_UA,
        ip,
        &[],
    );
    assert_eq!(r.status, 202);
    let r = post(
        &server,
        &format!(
            r#"{{"n":"engagement","u":"https://{SITE}/done","d":"{SITE}","sd":120,"e":6500,"i":false}}"#
        ),
        CHROME_UA,
        ip,
        &[],
    );
    assert_eq!(r.status, 202);
    // A different visitor: phone, from Facebook, no geo entry.
    assert_eq!(post(&server, &format!(r#"{{"n":"pageview","u":"https://{SITE}/","d":"{SITE}","r":"https://l.facebook.com/"}}"#), IPHONE_UA, "198.51.100.200", &[]).status, 202);
    // Two sites at once (rollup), one of them unknown.
    assert_eq!(post(&server, &format!(r#"{{"n":"pageview","u":"https://{SITE}/x","d":"{SITE},other.example,nope.example"}}"#), CHROME_UA, "192.0.2.99", &[]).status, 202);
    // Drops: a bot, an unknown site. Both still 202, with the reason in a header.
    let bot = post(
        &server,
        &body("pageview", &format!("https://{SITE}/")),
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ip,
        &[],
    );
    assert_eq!((bot.status, bot.dropped.as_deref()), (202, Some("bot")));
    let unknown = post(
        &server,
        r#"{"n":"pageview","u":"https://nope.example/","d":"nope.example"}"#,
        CHROME_UA,
        ip,
        &[],
    );
    assert_eq!(
        (unknown.status, unknown.dropped.as_deref()),
        (202, Some("unknown_site"))
    );
    // Server-side: explicit timestamp and idempotency key, sent twice, stored once.
    let ts = chrono_ms_days_ago(2);
    let server_side = format!(
        r#"{{"n":"Subscription","u":"https://{SITE}/billing","d":"{SITE}","timestamp":{ts},"idempotency_key":"inv-1"}}"#
    );
    let auth = [("Authorization", "Bearer sekret")];
    assert_eq!(
        post(
            &server,
            &server_side,
            "billing-worker/1.0 (Linux; server)",
            "10.0.0.5",
            &auth
        )
        .status,
        202
    );
    let again = post(
        &server,
        &server_side,
        "billing-worker/1.0 (Linux; server)",
        "10.0.0.5",
        &auth,
    );
    assert_eq!(
        (again.status, again.dropped.as_deref()),
        (202, Some("duplicate"))
    );
    let wrong = post(
        &server,
        &server_side,
        CHROME_UA,
        ip,
        &[("Authorization", "Bearer nope")],
    );
    assert_eq!(wrong.status, 401);
    let metrics = agent()
        .get(&server.url("/metrics"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    assert!(
        metrics.contains("waymark_events_dropped_total{reason=\"bot\"} 1"),
        "{metrics}"
    );

    server.stop();
    let rows = server.sql(&format!(
        "select pathname, source, channel, utm_source, utm_medium, utm_campaign, device, browser, os, country, city, hostname \
         from events where site_id = '{SITE}' and pathname = '/products/1'"
    ));
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!(
        &r[..6],
        [
            "/products/1",
            "Google",
            "Paid Search",
            "spring",
            "cpc",
            "sale"
        ]
    );
    assert_eq!(&r[6..9], ["Desktop", "Chrome", "Linux"]);
    assert_eq!(&r[9..], ["DE", "Berlin", SITE]);

    let rows = server.sql(&format!("select count(distinct visitor_id), count(distinct session_id) from events where site_id='{SITE}' and country='DE' and pathname <> '/x'"));
    assert_eq!(
        rows,
        vec![vec!["1".to_string(), "1".to_string()]],
        "one visitor, one session"
    );
    let rows = server.sql("select revenue_amount, revenue_currency, prop_keys, prop_values from events where name='Purchase'");
    assert_eq!(
        rows,
        vec![vec![
            "49.9".to_string(),
            "EUR".into(),
            "[items, gift]".into(),
            "[3, true]".into()
        ]]
    );
    let rows = server
        .sql("select scroll_depth, engagement_ms, interactive from events where name='engagement'");
    assert_eq!(
        rows,
        vec![vec!["100".to_string(), "6500".into(), "false".into()]]
    );
    let rows = server.sql("select source, channel, device, browser, os from events where pathname='/' and site_id='shop.example'");
    assert_eq!(
        rows,
        vec![vec![
            "Facebook".to_string(),
            "Organic Social".into(),
            "Mobile".into(),
            "Safari".into(),
            "iOS".into()
        ]]
    );
    let rows = server.sql("select site_id from events where pathname='/x' order by 1");
    assert_eq!(
        rows,
        vec![vec!["other.example".to_string()], vec![SITE.to_string()]]
    );
    let rows = server.sql(&format!(
        "select count(*), min(timestamp) < epoch_ms({}::BIGINT) from events where name='Subscription'",
        chrono_ms_days_ago(1)
    ));
    assert_eq!(rows, vec![vec!["1".to_string(), "true".into()]]);
    // The same person on two sites is two unlinkable visitors.
    let rows = server.sql("select count(distinct visitor_id) from events where pathname='/x'");
    assert_eq!(rows, vec![vec!["2".to_string()]]);
    // stats works on the stopped server's data.
    let (ok, out, err) = waymark(&[
        "stats",
        "--site",
        SITE,
        "--range",
        "7d",
        "--data-dir",
        server.dir.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains("visitors") && out.contains("Google") && out.contains("Paid Search"),
        "{out}"
    );
}

#[test]
fn no_raw_ip_is_written_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let marker = "203.0.113.77";
    let mut server = Server::start(dir.path(), &[SITE], &["--trusted-proxies", "127.0.0.1"]);
    for i in 0..50 {
        let b = body(
            if i % 5 == 0 { "Signup" } else { "pageview" },
            &format!("https://{SITE}/p/{i}"),
        );
        assert_eq!(post(&server, &b, CHROME_UA, marker, &[]).status, 202);
    }
    // Bad input from that address, too: errors must not echo it.
    assert_eq!(post(&server, "{", CHROME_UA, marker, &[]).status, 400);
    server.crash_and_restart();
    server.stop();
    let (ok, _, _) = waymark(&[
        "stats",
        "--site",
        SITE,
        "--range",
        "7d",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(ok);
    let hits = scan_dir(dir.path(), marker.as_bytes());
    assert!(hits.is_empty(), "raw IP found in {hits:?}");
    assert!(
        !server.server_log().contains(marker),
        "raw IP found in the server log"
    );
    assert_eq!(
        server.sql("select count(*) from events"),
        vec![vec!["50".to_string()]]
    );
}

/// Backfills (authenticated events with past timestamps) are hashed without touching today's
/// salt: today's visitor stays one visitor in one visit, `salts.json` never gains a past day, and
/// keyed retries inside the 7-day window are stored once, also after `kill -9`.
#[test]
fn backfills_leave_todays_salt_and_visitors_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(
        dir.path(),
        &[SITE],
        &["--trusted-proxies", "127.0.0.1", "--api-keys", "k"],
    );
    let auth = [("Authorization", "Bearer k")];
    let salt_days = || -> Vec<String> {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("salts.json")).unwrap()).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["day"].as_str().unwrap().to_string())
            .collect()
    };
    let day = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .date_naive()
            .to_string()
    };
    let today = day(chrono_ms_days_ago(0));
    let yesterday = day(chrono_ms_days_ago(1));

    assert_eq!(
        post(
            &server,
            &body("pageview", &format!("https://{SITE}/c")),
            CHROME_UA,
            "198.51.100.9",
            &[]
        )
        .status,
        202
    );
    let salts_before = std::fs::read(dir.path().join("salts.json")).unwrap();
    for (ip, days) in [
        ("198.51.100.8", 1),
        ("198.51.100.9", 1),
        ("198.51.100.9", 3),
    ] {
        let ts = chrono_ms_days_ago(days);
        let r = post(
            &server,
            &format!(r#"{{"n":"Signup","u":"https://{SITE}/s","d":"{SITE}","timestamp":{ts}}}"#),
            CHROME_UA,
            ip,
            &auth,
        );
        assert_eq!((r.status, r.dropped.as_deref()), (202, None), "{}", r.body);
    }
    assert_eq!(
        post(
            &server,
            &body("pageview", &format!("https://{SITE}/d")),
            CHROME_UA,
            "198.51.100.9",
            &[]
        )
        .status,
        202
    );
    // The salt file holds today's salt (and yesterday's only in the hour after midnight); the
    // backfills neither rewrote it nor added a past day.
    let days = salt_days();
    assert!(days.contains(&today), "{days:?}");
    assert!(
        days.iter().all(|d| *d == today || *d == yesterday),
        "{days:?}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("salts.json")).unwrap(),
        salts_before
    );

    // Keyed events: inside the retry window stored once, also across kill -9; older refused.
    let keyed = |days: i64, key: &str| {
        format!(
            r#"{{"n":"Purchase","u":"https://{SITE}/done","d":"{SITE}","timestamp":{},"idempotency_key":"{key}"}}"#,
            chrono_ms_days_ago(days)
        )
    };
    let r = post(
        &server,
        &keyed(6, "inv-6"),
        "billing-worker/1.0 (Linux; server)",
        "10.0.0.5",
        &auth,
    );
    assert_eq!((r.status, r.dropped.as_deref()), (202, None), "{}", r.body);
    let r = post(
        &server,
        &keyed(6, "inv-6"),
        "billing-worker/1.0 (Linux; server)",
        "10.0.0.5",
        &auth,
    );
    assert_eq!(r.dropped.as_deref(), Some("duplicate"));
    let r = post(
        &server,
        &keyed(8, "inv-8"),
        "billing-worker/1.0 (Linux; server)",
        "10.0.0.5",
        &auth,
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains(r#""field":"idempotency_key""#),
        "{}",
        r.body
    );
    assert!(r.body.contains("7 days"), "{}", r.body);
    server.crash_and_restart();
    let r = post(
        &server,
        &keyed(6, "inv-6"),
        "billing-worker/1.0 (Linux; server)",
        "10.0.0.5",
        &auth,
    );
    assert_eq!(r.dropped.as_deref(), Some("duplicate"), "after kill -9");
    server.stop();

    let rows = server.sql(&format!(
        "select count(distinct visitor_id), count(distinct session_id), count(*) from events where site_id='{SITE}' and pathname in ('/c', '/d')"
    ));
    assert_eq!(
        rows,
        vec![vec!["1".to_string(), "1".into(), "2".into()]],
        "one visitor, one visit"
    );
    // The same person's backfilled events are visitors of their own days, not of today.
    let rows = server.sql(&format!(
        "select count(*) from events where name = 'Signup' and visitor_id in (select visitor_id from events where pathname = '/c') and timestamp < epoch_ms({}::BIGINT)",
        chrono_ms_days_ago(0) - 3_600_000
    ));
    assert_eq!(rows, vec![vec!["0".to_string()]]);
    let rows =
        server.sql("select count(*), count(distinct visitor_id) from events where name = 'Signup'");
    assert_eq!(rows, vec![vec!["3".to_string(), "3".into()]]);
    let rows = server.sql("select count(*) from events where idempotency_key = 'inv-6'");
    assert_eq!(rows, vec![vec!["1".to_string()]]);
}

fn scan_dir(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            hits.extend(scan_dir(&p, needle));
        } else if let Ok(bytes) = std::fs::read(&p) {
            if bytes.windows(needle.len()).any(|w| w == needle) {
                hits.push(p.display().to_string());
            }
        }
    }
    hits
}

fn chrono_ms_days_ago(days: i64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    now - days * 86_400_000
}

/// A GeoIP2-City-shaped database: 192.0.2.0/24 is Berlin, DE.
fn write_geo_db(path: &std::path::Path) {
    let mut w = mmdb_writer::Writer::new("GeoIP2-City");
    w.insert(
        "192.0.2.0/24".parse::<ipnet::IpNet>().unwrap(),
        &serde_json::json!({
            "city": {"names": {"en": "Berlin"}},
            "country": {"iso_code": "DE"},
            "subdivisions": [{"iso_code": "BE"}],
        }),
    )
    .unwrap();
    std::fs::write(path, w.to_bytes().unwrap()).unwrap();
}
