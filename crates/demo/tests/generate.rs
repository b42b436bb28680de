//! The generated demo traffic as stored: deterministic, inside the window, only for the demo
//! site, about the requested size, and enriched by the live collector like real traffic.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use common::*;
use waymark_core::Event;
use waymark_demo::{DemoSummary, DEMO_SITE};

const EVENTS: u64 = 60_000;

fn data() -> &'static (Vec<Event>, DemoSummary, usize) {
    static DATA: OnceLock<(Vec<Event>, DemoSummary, usize)> = OnceLock::new();
    DATA.get_or_init(|| generate(&options(EVENTS, 7), "generate"))
}

fn share(events: &[&Event], pred: impl Fn(&Event) -> bool) -> f64 {
    events.iter().filter(|e| pred(e)).count() as f64 / events.len().max(1) as f64
}

#[test]
fn the_same_seed_gives_the_same_events() {
    let a = generate(&options(15_000, 42), "det-a").0;
    let b = generate(&options(15_000, 42), "det-b").0;
    assert!(!a.is_empty());
    assert_eq!(a.len(), b.len());
    assert!(a == b, "two runs with seed 42 differ");
    let c = generate(&options(15_000, 43), "det-c").0;
    assert!(a != c, "seeds 42 and 43 gave the same events");
}

#[test]
fn events_land_in_the_window_for_the_demo_site() {
    let (events, summary, chunks) = data();
    let start = END_MS - 90 * DAY_MS;
    assert!(events
        .iter()
        .all(|e| e.timestamp_ms >= start && e.timestamp_ms <= END_MS));
    assert!(events
        .iter()
        .all(|e| e.site_id == DEMO_SITE && e.hostname == DEMO_SITE));
    // Both ends of the window are used.
    assert!(events.iter().any(|e| e.timestamp_ms < start + DAY_MS));
    assert!(events.iter().any(|e| e.timestamp_ms > END_MS - DAY_MS));

    let n = events.len() as f64;
    assert!(
        (n - EVENTS as f64).abs() <= 0.15 * EVENTS as f64,
        "{n} events for {EVENTS} asked"
    );
    assert_eq!(summary.events, events.len() as u64);
    assert!(*chunks >= 90, "the sink gets a chunk per day, got {chunks}");
    // Crawlers run the tracker too; the collector drops them.
    assert!(summary.dropped > 0);
    assert!(!events
        .iter()
        .any(|e| e.browser.contains("bot") || e.browser.starts_with("Headless")));
}

#[test]
fn sessions_are_the_generated_visits() {
    let (events, summary, _) = data();
    let sessions: HashSet<u64> = events.iter().map(|e| e.session_id).collect();
    let visitors: HashSet<u64> = events.iter().map(|e| e.visitor_id).collect();
    // No visit is split by the sessionizer, none merged with another.
    assert_eq!(sessions.len() as u64, summary.visits);
    assert!(visitors.len() as f64 > 0.95 * summary.visits as f64);
    // A session keeps one visitor, except across midnight, when the visitor id changes.
    let mut per_session: HashMap<u64, HashSet<u64>> = HashMap::new();
    for e in events {
        per_session
            .entry(e.session_id)
            .or_default()
            .insert(e.visitor_id);
    }
    assert!(per_session.values().all(|v| v.len() <= 2));
    let crossing = per_session.values().filter(|v| v.len() == 2).count();
    assert!(
        crossing > 0,
        "some visits cross midnight and keep their session"
    );
}

#[test]
fn countries_regions_and_cities_come_from_the_demo_mmdb() {
    let (events, _, _) = data();
    assert!(events
        .iter()
        .all(|e| e.country.len() == 2 && !e.city.is_empty()));
    assert!(events
        .iter()
        .all(|e| e.region.starts_with(&format!("{}-", e.country))));
    let countries: HashSet<&str> = events.iter().map(|e| e.country.as_str()).collect();
    assert!(countries.len() >= 12, "{countries:?}");
    for c in [
        "US", "DE", "GB", "FR", "NL", "CA", "IN", "BR", "ES", "SE", "AU", "JP",
    ] {
        assert!(countries.contains(c), "no visitors from {c}");
    }
    assert!(events
        .iter()
        .any(|e| e.country == "DE" && e.region == "DE-BE" && e.city == "Berlin"));
}

#[test]
fn devices_browsers_and_channels_are_varied() {
    let (events, _, _) = data();
    let pageviews: Vec<&Event> = events.iter().filter(|e| e.name == "pageview").collect();
    let first: Vec<&Event> = {
        let mut by_session: BTreeMap<u64, &Event> = BTreeMap::new();
        for e in &pageviews {
            let slot = by_session.entry(e.session_id).or_insert(e);
            if e.timestamp_ms < slot.timestamp_ms {
                *slot = e;
            }
        }
        by_session.into_values().collect()
    };
    let mobile = share(&first, |e| e.device == "Mobile");
    let desktop = share(&first, |e| e.device == "Desktop");
    let tablet = share(&first, |e| e.device == "Tablet");
    assert!((0.49..=0.61).contains(&mobile), "mobile {mobile}");
    assert!((0.34..=0.46).contains(&desktop), "desktop {desktop}");
    assert!((0.03..=0.08).contains(&tablet), "tablet {tablet}");
    let browsers: HashSet<&str> = events.iter().map(|e| e.browser.as_str()).collect();
    for b in ["Chrome", "Safari", "Firefox", "Edge", "Samsung Internet"] {
        assert!(browsers.contains(b), "no {b} in {browsers:?}");
    }
    let oses: HashSet<&str> = events.iter().map(|e| e.os.as_str()).collect();
    for o in ["Windows", "macOS", "iOS", "Android", "Linux"] {
        assert!(oses.contains(o), "no {o} in {oses:?}");
    }

    let channels: HashSet<&str> = first.iter().map(|e| e.channel.as_str()).collect();
    for c in [
        "Organic Search",
        "Organic Social",
        "Email",
        "Paid Search",
        "Referral",
        "Direct",
    ] {
        assert!(channels.contains(c), "no {c} in {channels:?}");
    }
    assert_eq!(channels.len(), 6, "unexpected channels: {channels:?}");
    // Social traffic is mostly mobile.
    let social: Vec<&Event> = first
        .iter()
        .copied()
        .filter(|e| e.channel == "Organic Social")
        .collect();
    assert!(share(&social, |e| e.device == "Mobile") > 0.7);
    // Campaign tags survive enrichment.
    assert!(first
        .iter()
        .any(|e| e.channel == "Email" && e.utm_campaign.starts_with("weekly-picks-w")));
    assert!(first
        .iter()
        .any(|e| e.channel == "Paid Search" && e.utm_medium == "cpc" && !e.utm_term.is_empty()));
    let sources: HashSet<&str> = first.iter().map(|e| e.source.as_str()).collect();
    for s in [
        "Google",
        "Bing",
        "DuckDuckGo",
        "Facebook",
        "Instagram",
        "Reddit",
    ] {
        assert!(sources.contains(s), "no {s} in {sources:?}");
    }
}

#[test]
fn engagement_and_custom_events_carry_their_data() {
    let (events, _, _) = data();
    let by_name = |n: &'static str| events.iter().filter(move |e| e.name == n);

    let engagement: Vec<&Event> = by_name("engagement").collect();
    let pageviews = by_name("pageview").count();
    assert!(engagement.len() as f64 > 0.95 * pageviews as f64);
    assert!(engagement.iter().all(|e| e.engagement_ms.is_some()
        && e.scroll_depth.is_some_and(|sd| sd <= 100)
        && !e.interactive));
    // Product pages hold attention: most engaged times there are over 5 s.
    let product_pages: Vec<&Event> = engagement
        .iter()
        .copied()
        .filter(|e| e.pathname.starts_with("/products/"))
        .collect();
    let long = share(&product_pages, |e| e.engagement_ms.unwrap_or(0) >= 5_000);
    assert!((0.5..0.95).contains(&long), "{long}");
    // Product View means 5 s or more on the page: the engagement beacon that follows it on the
    // same page says so (unless that beacon was lost and a later, short visit is found instead).
    let views: Vec<&Event> = by_name("Product View").collect();
    assert!(!views.is_empty());
    let mut checked = 0;
    let mut short = 0;
    for v in &views {
        assert!(v.pathname.starts_with("/products/"));
        assert!(v.prop("product").is_some() && v.prop("category").is_some());
        let next = product_pages
            .iter()
            .filter(|e| {
                e.session_id == v.session_id
                    && e.pathname == v.pathname
                    && e.timestamp_ms > v.timestamp_ms
            })
            .min_by_key(|e| e.timestamp_ms);
        if let Some(e) = next {
            checked += 1;
            if e.engagement_ms.unwrap_or(0) < 5_000 {
                short += 1;
            }
        }
    }
    assert!(checked as f64 > 0.95 * views.len() as f64);
    assert!(
        (short as f64) < 0.01 * checked as f64,
        "{short} of {checked}"
    );

    let searches: Vec<&Event> = by_name("Search").collect();
    assert!(searches.iter().all(|e| e.pathname == "/search"
        && e.prop("query").is_some()
        && e.prop("results")
            .and_then(|r| r.parse::<u32>().ok())
            .is_some()));
    let empty = share(&searches, |e| e.prop("results") == Some("0"));
    assert!((0.05..0.4).contains(&empty), "{empty}");

    assert!(
        by_name("Filter").all(|e| e.pathname.starts_with("/category/")
            && e.prop("facet").is_some()
            && e.prop("value").is_some())
    );
    assert!(by_name("Filter").count() > 0);
    assert!(by_name("Add to Cart").all(|e| e.prop("product").is_some()
        && e.prop("price")
            .and_then(|p| p.parse::<f64>().ok())
            .is_some_and(|p| p > 0.0)));
    assert!(
        by_name("Begin Checkout").all(|e| e.pathname == "/checkout" && e.prop("items").is_some())
    );

    let purchases: Vec<&Event> = by_name("Purchase").collect();
    assert!(!purchases.is_empty());
    for p in &purchases {
        assert_eq!(p.pathname, "/checkout/complete");
        assert_eq!(p.revenue_currency, "EUR");
        assert!(
            p.revenue_amount.is_some_and(|a| a > 10.0 && a < 2_000.0),
            "{p:?}"
        );
        assert!(p.prop("items").is_some());
    }
    // No revenue anywhere else.
    assert!(events
        .iter()
        .all(|e| (e.name == "Purchase") == e.revenue_amount.is_some()));
}

#[test]
fn traffic_has_rhythm_and_growth() {
    let (events, _, _) = data();
    let pageviews: Vec<&Event> = events.iter().filter(|e| e.name == "pageview").collect();
    let start = END_MS - 90 * DAY_MS;
    let first_month = pageviews
        .iter()
        .filter(|e| e.timestamp_ms < start + 30 * DAY_MS)
        .count();
    let last_month = pageviews
        .iter()
        .filter(|e| e.timestamp_ms >= END_MS - 30 * DAY_MS)
        .count();
    assert!(
        last_month as f64 > 1.08 * first_month as f64,
        "growth: {first_month} → {last_month}"
    );
    // Berlin's night (UTC 1–4) is quieter than its evening (UTC 17–20) for German visitors.
    let hour = |e: &&&Event| e.timestamp_ms.rem_euclid(DAY_MS) / 3_600_000;
    let german: Vec<&&Event> = pageviews.iter().filter(|e| e.country == "DE").collect();
    let night = german.iter().filter(|e| (1..4).contains(&hour(e))).count();
    let evening = german
        .iter()
        .filter(|e| (17..20).contains(&hour(e)))
        .count();
    assert!(3 * night < evening, "night {night}, evening {evening}");
}
