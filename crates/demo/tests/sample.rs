//! The benchmark's raw requests: valid Events API bodies, the promised mix, varied visitors,
//! and accepted by a real collector.

mod common;

use std::collections::HashSet;

use waymark_collect::collector::{Outcome, RequestMeta};
use waymark_collect::payload::Payload;
use waymark_collect::salt::Salt;
use waymark_demo::{sample_requests, DEMO_SITE};

#[test]
fn requests_parse_and_mix_as_promised() {
    let n = 4_000;
    let samples = sample_requests(11, n);
    assert_eq!(samples.len(), n);
    assert_eq!(samples, sample_requests(11, n), "deterministic for a seed");
    assert_ne!(samples, sample_requests(12, n));

    let payloads: Vec<Payload> = samples
        .iter()
        .map(|s| Payload::parse(s.body.as_bytes()).expect("a valid body"))
        .collect();
    let count = |pred: &dyn Fn(&Payload) -> bool| payloads.iter().filter(|p| pred(p)).count();
    let pageviews = count(&|p| p.name == "pageview");
    let engagement = count(&|p| p.name == "engagement");
    let custom = count(&|p| p.name != "pageview" && p.name != "engagement");
    assert_eq!(pageviews + engagement + custom, n);
    assert!((0.68..=0.72).contains(&(pageviews as f64 / n as f64)));
    assert!((0.23..=0.27).contains(&(engagement as f64 / n as f64)));
    assert!((0.04..=0.06).contains(&(custom as f64 / n as f64)));
    assert!(payloads
        .iter()
        .filter(|p| p.name == "engagement")
        .all(|p| p.engagement_ms.is_some() && p.scroll_depth.is_some() && !p.interactive));
    assert!(payloads
        .iter()
        .filter(|p| p.name != "pageview" && p.name != "engagement")
        .all(|p| !p.props.is_empty()));
    // The mix is shuffled, not in blocks.
    assert!(payloads[..100].iter().any(|p| p.name == "engagement"));

    let uas: HashSet<&str> = samples.iter().map(|s| s.user_agent.as_str()).collect();
    let ips: HashSet<_> = samples.iter().map(|s| s.ip).collect();
    let referrers: HashSet<&str> = payloads.iter().map(|p| p.referrer.as_str()).collect();
    assert!(uas.len() >= 20, "{} user agents", uas.len());
    assert!(ips.len() >= n / 10, "{} addresses", ips.len());
    assert!(referrers.len() >= 10, "{referrers:?}");
    assert!(payloads
        .iter()
        .all(|p| p.domains == vec![DEMO_SITE.to_string()]));
}

#[test]
fn body_for_retargets_the_site() {
    let s = &sample_requests(3, 10)[0];
    let body = s.body_for("bench.waymark.local");
    let p = Payload::parse(body.as_bytes()).expect("valid");
    assert_eq!(p.domains, vec!["bench.waymark.local".to_string()]);
    assert_eq!(p.url.host_str(), Some("bench.waymark.local"));
    assert!(!body.contains(DEMO_SITE));
}

#[test]
fn a_collector_accepts_every_sample() {
    let (collector, _geo) = common::collector("sample");
    let salt = Salt::from_key(
        chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("date"),
        [7; 16],
    );
    for (i, s) in sample_requests(5, 1_000).iter().enumerate() {
        let payload = Payload::parse(s.body.as_bytes()).expect("valid");
        let meta = RequestMeta {
            ip: s.ip,
            user_agent: s.user_agent.clone(),
            timestamp_ms: 1_735_700_000_000 + i as i64 * 1_000,
        };
        match collector.process_with_salts(&payload, &meta, &salt, None) {
            Outcome::Accepted(events) => {
                assert_eq!(events.len(), 1);
                assert!(!events[0].country.is_empty() && !events[0].device.is_empty());
            }
            Outcome::Dropped(r) => panic!("sample {i} dropped: {r:?}"),
        }
    }
}
