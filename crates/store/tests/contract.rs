//! The `EventStore` contract, written once against the trait and run for every backend
//! (today the embedded DuckDB store, in memory and on disk).

use waymark_core::{Event, Prop, Site, TimeBounds};
use waymark_store::duck::{DuckOptions, DuckStore};
use waymark_store::{Dimension, EventStore};

const H: i64 = 3_600_000;
const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

fn ev(
    site: &str,
    visitor: u64,
    session: u64,
    ts: i64,
    name: &str,
    path: &str,
    source: &str,
) -> Event {
    Event {
        site_id: site.into(),
        timestamp_ms: ts,
        visitor_id: visitor,
        session_id: session,
        name: name.into(),
        pathname: path.into(),
        source: source.into(),
        channel: if source.is_empty() {
            "Direct".into()
        } else {
            "Organic Search".into()
        },
        device: "Desktop".into(),
        interactive: name != "engagement",
        ..Event::default()
    }
}

fn fixture() -> Vec<Event> {
    vec![
        // Visitor 1: two pageviews 2 minutes apart (not a bounce), from Google.
        ev("a.example", 1, 10, T0, "pageview", "/", "Google"),
        ev(
            "a.example",
            1,
            10,
            T0 + 120_000,
            "pageview",
            "/pricing",
            "Google",
        ),
        // Visitor 2: one pageview plus a non-interactive engagement (a bounce).
        ev("a.example", 2, 20, T0 + H, "pageview", "/", ""),
        ev("a.example", 2, 20, T0 + H + 5_000, "engagement", "/", ""),
        // Visitor 2 again, a later session, with a custom event.
        ev("a.example", 2, 21, T0 + 3 * H, "pageview", "/pricing", ""),
        ev(
            "a.example",
            2,
            21,
            T0 + 3 * H + 60_000,
            "Signup",
            "/pricing",
            "",
        ),
        // Another site is never mixed in.
        ev("b.example", 9, 90, T0, "pageview", "/", "Bing"),
    ]
}

fn contract(store: &dyn EventStore) {
    // Sites.
    store
        .add_site(&Site::new("a.example", "UTC").unwrap())
        .unwrap();
    store
        .add_site(&Site::new("b.example", "Europe/Berlin").unwrap())
        .unwrap();
    store
        .add_site(&Site::new("a.example", "Europe/Paris").unwrap())
        .unwrap();
    let sites = store.sites().unwrap();
    assert_eq!(sites.len(), 2);
    assert_eq!(
        store.site("a.example").unwrap().unwrap().timezone,
        "Europe/Paris"
    );

    // Appends: logged ones record their sequence number.
    assert_eq!(store.applied_seq().unwrap(), 0);
    let events = fixture();
    store.append_logged(&events[..3], 3).unwrap();
    store.append_logged(&events[3..], 7).unwrap();
    assert_eq!(store.applied_seq().unwrap(), 7);
    let mut with_props = ev("a.example", 3, 30, T0 + 10 * H, "Purchase", "/done", "");
    with_props.props = vec![Prop {
        key: "plan".into(),
        value: "pro".into(),
    }];
    with_props.revenue_amount = Some(19.5);
    with_props.revenue_currency = "EUR".into();
    with_props.idempotency_key = "order-7".into();
    store.append(&[with_props]).unwrap();
    assert_eq!(
        store.applied_seq().unwrap(),
        7,
        "bulk appends do not move the log position"
    );

    let day = TimeBounds {
        from_ms: T0,
        to_ms: T0 + 24 * H,
    };
    let o = store.overview("a.example", day).unwrap();
    assert_eq!((o.visitors, o.visits, o.pageviews), (3, 4, 4));
    assert_eq!(o.events, 6, "engagement events are not counted as events");
    // Sessions: 10 (2 pageviews), 20 (bounce), 21 (pageview + Signup), 30 (Purchase only → bounce).
    assert!((o.bounce_rate - 50.0).abs() < 1e-9, "{}", o.bounce_rate);
    assert!(
        (o.visit_duration_s - (120.0 + 5.0 + 60.0) / 4.0).abs() < 1e-9,
        "{}",
        o.visit_duration_s
    );

    // The Stats API's aggregate agrees with the overview, and groups by local time and props.
    {
        use waymark_core::stats::*;
        let q = AggregateQuery {
            site: "a.example".into(),
            bounds: day,
            timezone: "Europe/Paris".parse().unwrap(),
            metrics: vec![
                Metric::Visitors,
                Metric::Visits,
                Metric::Pageviews,
                Metric::Events,
                Metric::BounceRate,
                Metric::VisitDuration,
            ],
            dimensions: Vec::new(),
            filter: None,
            order_by: Vec::new(),
            limit: 10,
            offset: 0,
        };
        let r = store.aggregate(&q).unwrap();
        assert_eq!(
            r.rows[0].metrics,
            vec![
                o.visitors as f64,
                o.visits as f64,
                o.pageviews as f64,
                o.events as f64,
                o.bounce_rate.round(),
                o.visit_duration_s.round()
            ]
        );
        let by_hour = store
            .aggregate(&AggregateQuery {
                metrics: vec![Metric::Visits],
                dimensions: vec![StatsDimension::Time(TimeBucket::Hour)],
                ..q.clone()
            })
            .unwrap();
        let hours: Vec<_> = by_hour
            .rows
            .iter()
            .map(|r| (r.dimensions[0].as_str(), r.metrics[0]))
            .collect();
        assert_eq!(
            hours,
            vec![
                ("2026-01-01 01:00:00", 1.0),
                ("2026-01-01 02:00:00", 1.0),
                ("2026-01-01 04:00:00", 1.0),
                ("2026-01-01 11:00:00", 1.0)
            ]
        );
        let plans = store
            .aggregate(&AggregateQuery {
                metrics: vec![Metric::Events],
                dimensions: vec![StatsDimension::Prop("plan".into())],
                filter: Some(StatsFilter::Compare {
                    op: StatsOp::Is,
                    dimension: StatsDimension::Name,
                    values: vec!["Purchase".into(), "Signup".into()],
                    case_sensitive: true,
                }),
                ..q.clone()
            })
            .unwrap();
        assert_eq!(plans.total_rows, 2);
        assert_eq!(plans.rows[0].dimensions, vec!["(none)"]);
        assert_eq!(plans.rows[1].dimensions, vec!["pro"]);
    }

    // Time bounds are half-open.
    let first_hour = TimeBounds {
        from_ms: T0,
        to_ms: T0 + H,
    };
    assert_eq!(store.overview("a.example", first_hour).unwrap().visits, 1);

    let sources = store
        .breakdown("a.example", day, Dimension::Source, 10)
        .unwrap();
    assert_eq!(sources[0].value, "");
    assert_eq!((sources[0].visitors, sources[0].count), (2, 3));
    assert_eq!(
        (sources[1].value.as_str(), sources[1].visitors),
        ("Google", 1)
    );
    let pages = store
        .breakdown("a.example", day, Dimension::Page, 10)
        .unwrap();
    assert_eq!(
        pages
            .iter()
            .map(|r| (r.value.as_str(), r.visitors, r.count))
            .collect::<Vec<_>>(),
        vec![("/", 2, 2), ("/pricing", 2, 2)]
    );
    let entry = store
        .breakdown("a.example", day, Dimension::EntryPage, 10)
        .unwrap();
    assert_eq!(
        entry
            .iter()
            .map(|r| (r.value.as_str(), r.count))
            .collect::<Vec<_>>(),
        vec![("/", 2), ("/pricing", 1)]
    );
    let exit = store
        .breakdown("a.example", day, Dimension::ExitPage, 1)
        .unwrap();
    assert_eq!(exit.len(), 1, "limit applies");

    assert_eq!(
        store.idempotency_keys(T0).unwrap(),
        vec!["order-7".to_string()]
    );
    let mut recent = store.recent_sessions(T0 + 2 * H).unwrap();
    recent.sort();
    assert_eq!(
        recent,
        vec![
            ("a.example".to_string(), 2, 21, T0 + 3 * H + 60_000),
            ("a.example".to_string(), 3, 30, T0 + 10 * H)
        ]
    );

    // Upkeep keeps the answers identical.
    store.maintain().unwrap();
    store.checkpoint().unwrap();
    assert_eq!(store.overview("a.example", day).unwrap(), o);

    // Removing a site removes its events and nothing else.
    assert!(store.remove_site("b.example").unwrap());
    assert!(!store.remove_site("b.example").unwrap());
    assert_eq!(store.overview("b.example", day).unwrap().visits, 0);
    assert_eq!(store.overview("a.example", day).unwrap(), o);
}

#[test]
fn duckdb_in_memory_meets_the_contract() {
    contract(&DuckStore::in_memory().unwrap());
}

#[test]
fn duckdb_on_disk_meets_the_contract_and_persists() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = DuckStore::open(dir.path(), DuckOptions::default()).unwrap();
        contract(&store);
    }
    let store = DuckStore::open(dir.path(), DuckOptions::default()).unwrap();
    assert_eq!(store.applied_seq().unwrap(), 7);
    assert_eq!(store.sites().unwrap().len(), 1);
    let t = store
        .sql("select count(*) from events where site_id = 'a.example'")
        .unwrap();
    assert_eq!(t.rows, vec![vec!["7".to_string()]]);
    // No extension may be loaded behind the user's back.
    let t = store.sql("select current_setting('autoload_known_extensions'), current_setting('autoinstall_known_extensions')").unwrap();
    assert_eq!(t.rows, vec![vec!["false".to_string(), "false".to_string()]]);
}
