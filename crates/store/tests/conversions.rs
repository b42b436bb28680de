//! Conversion definitions and counts through the `EventStore` trait: saving by name reports
//! what changed, definitions survive a reopen and go with their site, and counts are matched
//! over raw events at query time (a definition added later applies to history).

use waymark_core::{
    Change, Condition, Conversion, ConversionQuery, ConversionValue, Event, Filter, Funnel,
    FunnelStep, Goal, Prop, Site, StepOrder, TimeBounds, Trigger, Window,
};
use waymark_store::duck::{DuckOptions, DuckStore};
use waymark_store::{ConfigStore, EventStore, Store};

const SITE: &str = "shop.example";
const T0: i64 = 1_767_225_600_000;

fn ev(v: u64, t: i64, name: &str, path: &str) -> Event {
    Event {
        site_id: SITE.into(),
        timestamp_ms: T0 + t,
        visitor_id: v,
        session_id: v,
        name: name.into(),
        pathname: path.into(),
        channel: if v & 1 == 0 {
            "Email".into()
        } else {
            "Direct".into()
        },
        interactive: true,
        ..Event::default()
    }
}

fn purchase(v: u64, t: i64, amount: Option<f64>, currency: &str) -> Event {
    Event {
        revenue_amount: amount,
        revenue_currency: currency.into(),
        props: vec![Prop {
            key: "items".into(),
            value: "2".into(),
        }],
        ..ev(v, t, "Purchase", "/checkout/complete")
    }
}

fn t(s: &str) -> Trigger {
    s.parse().unwrap()
}

#[test]
fn definitions_are_saved_by_name_and_go_with_their_site() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = DuckStore::open(dir.path(), DuckOptions::default()).unwrap();
        s.add_site(&Site::new(SITE, "UTC").unwrap()).unwrap();
        let c = Conversion::macro_goal("Purchase", t("event Purchase"), ConversionValue::Revenue);
        assert_eq!(s.save_conversion(SITE, &c).unwrap(), Change::Created);
        assert_eq!(s.save_conversion(SITE, &c).unwrap(), Change::Unchanged);
        let pv = Conversion::micro(
            "Product View",
            t("pageview /products/* where engaged >= 5s"),
        )
        .described("5+ seconds on a product page");
        assert_eq!(s.save_conversion(SITE, &pv).unwrap(), Change::Created);
        let fixed = Conversion {
            value: ConversionValue::Fixed {
                amount: 40.0,
                currency: "EUR".into(),
            },
            ..c.clone()
        };
        assert_eq!(s.save_conversion(SITE, &fixed).unwrap(), Change::Updated);
        let f = Funnel {
            name: "Checkout".into(),
            steps: vec![
                FunnelStep::trigger("Visit", Trigger::any_pageview()),
                FunnelStep::conversion("Product View"),
                FunnelStep::conversion("Purchase"),
            ],
            window: Window::Session,
            order: StepOrder::Sequence,
        };
        assert_eq!(s.save_funnel(SITE, &f).unwrap(), Change::Created);
        assert_eq!(s.save_funnel(SITE, &f).unwrap(), Change::Unchanged);
        let mut g = f.clone();
        g.window = Window::Duration(3_600_000);
        assert_eq!(s.save_funnel(SITE, &g).unwrap(), Change::Updated);
        assert!(s.conversions("other.example").unwrap().is_empty());
    }
    let s = DuckStore::open(dir.path(), DuckOptions::default()).unwrap();
    let cs = s.conversions(SITE).unwrap();
    assert_eq!(
        cs.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        vec!["Purchase", "Product View"],
        "creation order is kept across updates"
    );
    assert_eq!(
        cs[0].value,
        ConversionValue::Fixed {
            amount: 40.0,
            currency: "EUR".into()
        }
    );
    assert_eq!(cs[1].description, "5+ seconds on a product page");
    assert_eq!(cs[1].trigger, t("pageview /products/* where engaged >= 5s"));
    let fs = s.funnels(SITE).unwrap();
    assert_eq!(fs.len(), 1);
    assert_eq!(fs[0].window, Window::Duration(3_600_000));
    assert_eq!(fs[0].order, StepOrder::Sequence);
    assert_eq!(
        fs[0].steps[0].source,
        waymark_core::StepSource::Trigger(Trigger::any_pageview())
    );
    assert_eq!(fs[0].steps[2], FunnelStep::conversion("Purchase"));

    assert!(s.delete_conversion(SITE, "Product View").unwrap());
    assert!(!s.delete_conversion(SITE, "Product View").unwrap());
    assert!(s.delete_funnel(SITE, "Checkout").unwrap());
    assert!(s.funnels(SITE).unwrap().is_empty());
    s.save_funnel(SITE, &fs[0]).unwrap();
    assert!(s.remove_site(SITE).unwrap());
    assert!(
        s.conversions(SITE).unwrap().is_empty(),
        "a deleted site's definitions go with it"
    );
    assert!(s.funnels(SITE).unwrap().is_empty());
}

#[test]
fn counts_are_matched_over_history() {
    let s = DuckStore::in_memory().unwrap();
    s.add_site(&Site::new(SITE, "UTC").unwrap()).unwrap();
    s.append(&[
        ev(1, 0, "pageview", "/"),
        purchase(1, 1_000, Some(30.0), "EUR"),
        purchase(1, 2_000, Some(50.0), "EUR"),
        ev(2, 0, "pageview", "/"),
        purchase(2, 1_000, Some(20.0), "USD"),
        ev(3, 0, "pageview", "/"),
        purchase(3, 1_000, None, ""),
        ev(4, 0, "pageview", "/pricing"),
        ev(5, 0, "engagement", "/"),
    ])
    .unwrap();
    let q = ConversionQuery {
        site: SITE.into(),
        bounds: TimeBounds::ALL,
        filter: None,
        goals: Vec::new(),
        triggers: vec![
            t("event Purchase"),
            t("pageview /pricing"),
            t("event Signup"),
        ],
    };
    let c = s.conversion_counts(&q).unwrap();
    // Visitor 5 sent only an engagement event: not a visitor, as in the Stats API.
    assert_eq!(c.visitors, 4);
    let p = &c.rows[0];
    assert_eq!((p.visitors, p.events, p.revenue_events), (3, 4, 3));
    assert!((p.revenue - 100.0).abs() < 1e-9);
    assert_eq!(p.currency, "EUR+USD");
    assert_eq!((c.rows[1].visitors, c.rows[1].events), (1, 1));
    assert_eq!(
        (c.rows[2].visitors, c.rows[2].events, c.rows[2].revenue),
        (0, 0, 0.0)
    );

    // Filters restrict the denominator too.
    let email = s
        .conversion_counts(&ConversionQuery {
            filter: Filter::visits_passing_all(&[Condition::parse("channel=Email").unwrap()]),
            ..q.clone()
        })
        .unwrap();
    assert_eq!(email.visitors, 2, "visitors 2 and 4");
    assert_eq!(
        (email.rows[0].visitors, email.rows[0].currency.as_str()),
        (1, "USD")
    );

    // Time bounds are half-open.
    let first_second = s
        .conversion_counts(&ConversionQuery {
            bounds: TimeBounds {
                from_ms: T0,
                to_ms: T0 + 1_000,
            },
            ..q
        })
        .unwrap();
    assert_eq!(first_second.rows[0].events, 0);
    assert_eq!(first_second.visitors, 4, "the four pageviews at T0");
}

#[test]
fn event_filters_count_whole_visits_that_include_a_match() {
    let s = DuckStore::in_memory().unwrap();
    s.add_site(&Site::new(SITE, "UTC").unwrap()).unwrap();
    s.append(&[
        ev(1, 0, "pageview", "/"),
        ev(1, 1_000, "pageview", "/pricing"),
        purchase(1, 2_000, Some(30.0), "EUR"),
        ev(2, 0, "pageview", "/pricing"),
        ev(3, 0, "pageview", "/"),
        purchase(3, 1_000, Some(20.0), "EUR"),
        Event {
            props: vec![Prop {
                key: "plan".into(),
                value: "pro".into(),
            }],
            ..ev(4, 0, "Signup", "/pricing")
        },
        // An engagement event alone never makes a visit match.
        ev(5, 0, "engagement", "/pricing"),
    ])
    .unwrap();
    let q = |filters: Vec<Condition>| ConversionQuery {
        site: SITE.into(),
        bounds: TimeBounds::ALL,
        filter: Filter::visits_passing_all(&filters),
        goals: vec![Goal {
            name: "Purchase".into(),
            trigger: t("event Purchase"),
        }],
        triggers: vec![t("event Purchase"), t("event Signup")],
    };
    let counts = |filters: Vec<Condition>| {
        let c = s.conversion_counts(&q(filters)).unwrap();
        (
            c.visitors,
            c.rows[0].visitors,
            c.rows[0].revenue,
            c.rows[1].visitors,
        )
    };
    let f = |s: &str| Condition::parse(s).unwrap();
    assert_eq!(counts(vec![]), (4, 2, 50.0, 1));
    // Visits with a pricing page (pageview or event): 1, 2 and 4; the denominator follows.
    assert_eq!(counts(vec![f("event:page=/pricing")]), (3, 1, 30.0, 1));
    assert_eq!(counts(vec![f("event:props:plan=pro")]), (1, 0, 0.0, 1));
    // Exit page: the last pageview's path (visitor 4 has no pageview: no exit page).
    assert_eq!(counts(vec![f("visit:exit_page=/pricing")]), (2, 1, 30.0, 0));
    assert_eq!(counts(vec![f("visit:entry_page=/")]), (2, 2, 50.0, 0));
    let goal = f("event:goal=Purchase");
    assert_eq!(counts(vec![goal.clone()]), (2, 2, 50.0, 0));
    assert_eq!(
        counts(vec![goal, f("channel=Direct")]),
        (2, 2, 50.0, 0),
        "visitors 1 and 3 came directly"
    );
}
