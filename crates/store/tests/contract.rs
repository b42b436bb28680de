//! The `EventStore` contract, written once against the trait and run for every backend
//! (today the embedded DuckDB store, in memory and on disk).

use waymark_core::query::*;
use waymark_core::{Event, Prop, Site, TimeBounds};
use waymark_store::duck::{DuckOptions, DuckStore};
use waymark_store::{ConfigStore, EventStore, Store};

/// Top-line numbers through the aggregate query.
#[derive(Debug, PartialEq)]
struct Overview {
    visitors: u64,
    visits: u64,
    pageviews: u64,
    events: u64,
    bounce_rate: f64,
    visit_duration_s: f64,
}

fn query(site: &str, bounds: TimeBounds, metrics: Vec<Metric>, dims: Vec<Field>) -> AggregateQuery {
    AggregateQuery {
        site: site.into(),
        bounds,
        timezone: "UTC".parse().unwrap(),
        metrics,
        dimensions: dims,
        filter: None,
        goals: Vec::new(),
        order_by: Vec::new(),
        limit: 10,
        offset: 0,
    }
}

fn overview(store: &dyn Store, site: &str, bounds: TimeBounds) -> Overview {
    use Metric::*;
    let q = query(
        site,
        bounds,
        vec![
            Visitors,
            Visits,
            Pageviews,
            Events,
            BounceRate,
            VisitDuration,
        ],
        vec![],
    );
    let m = store.aggregate(&q).unwrap().rows[0].metrics.clone();
    Overview {
        visitors: m[0] as u64,
        visits: m[1] as u64,
        pageviews: m[2] as u64,
        events: m[3] as u64,
        bounce_rate: m[4],
        visit_duration_s: m[5],
    }
}

/// `(value, visitors, visits)` per value of `field` (pageviews for `event:page`).
fn breakdown(
    store: &dyn Store,
    site: &str,
    bounds: TimeBounds,
    field: Field,
    limit: usize,
) -> Vec<(String, u64, u64)> {
    let count = if field.is_event() {
        Metric::Pageviews
    } else {
        Metric::Visits
    };
    let mut q = query(site, bounds, vec![Metric::Visitors, count], vec![field]);
    q.limit = limit;
    store
        .aggregate(&q)
        .unwrap()
        .rows
        .into_iter()
        .map(|r| {
            (
                r.dimensions[0].clone(),
                r.metrics[0] as u64,
                r.metrics[1] as u64,
            )
        })
        .collect()
}

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

fn contract(store: &dyn Store) {
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
    let o = overview(store, "a.example", day);
    assert_eq!((o.visitors, o.visits, o.pageviews), (3, 4, 4));
    assert_eq!(o.events, 6, "engagement events are not counted as events");
    // Sessions: 10 (2 pageviews), 20 (bounce), 21 (pageview + Signup), 30 (Purchase only → bounce).
    assert_eq!(o.bounce_rate, 50.0);
    // Engagement pings do not lengthen a visit (session 20's ping 5 s after its pageview).
    assert_eq!(o.visit_duration_s, ((120.0f64 + 60.0) / 4.0).round());

    // Groups by local time and props.
    {
        let mut q = query("a.example", day, vec![], vec![]);
        q.timezone = "Europe/Paris".parse().unwrap();
        let by_hour = store
            .aggregate(&AggregateQuery {
                metrics: vec![Metric::Visits],
                dimensions: vec![Field::Time(TimeBucket::Hour)],
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
                dimensions: vec![Field::Prop("plan".into())],
                filter: Some(Filter::compare(
                    Field::Event(EventField::Name),
                    Op::Is,
                    vec!["Purchase".into(), "Signup".into()],
                )),
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
    assert_eq!(overview(store, "a.example", first_hour).visits, 1);

    let v = |f| Field::Visit(f);
    let sources = breakdown(store, "a.example", day, v(VisitField::Source), 10);
    assert_eq!(
        sources,
        vec![
            ("Direct / None".to_string(), 2, 3),
            ("Google".to_string(), 1, 1)
        ]
    );
    let pages = breakdown(store, "a.example", day, Field::Event(EventField::Page), 10);
    // Every event with a path counts for it; pageviews only the pageviews.
    assert_eq!(
        pages,
        vec![
            ("/".to_string(), 2, 2),
            ("/pricing".to_string(), 2, 2),
            ("/done".to_string(), 1, 0)
        ]
    );
    let entry = breakdown(store, "a.example", day, v(VisitField::EntryPage), 10);
    // Session 30 has no pageview: no entry page.
    assert_eq!(
        entry,
        vec![
            ("/".to_string(), 2, 2),
            ("(not set)".to_string(), 1, 1),
            ("/pricing".to_string(), 1, 1)
        ]
    );
    let exit = breakdown(store, "a.example", day, v(VisitField::ExitPage), 1);
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
    assert_eq!(overview(store, "a.example", day), o);

    // Removing a site removes its events and nothing else.
    assert!(store.remove_site("b.example").unwrap());
    assert!(!store.remove_site("b.example").unwrap());
    assert_eq!(overview(store, "b.example", day).visits, 0);
    assert_eq!(overview(store, "a.example", day), o);
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
