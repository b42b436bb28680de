//! Insight end to end on an in-memory store: templates, definitions as code, the conversion
//! report, the funnel report (weakest step, opportunities, breakdown, comparison), and date
//! ranges that end at local midnight in the site's time zone.

use chrono::{NaiveDate, TimeZone, Utc};
use waymark_core::{
    Change, Conversion, ConversionValue, DateRange, Event, Funnel, FunnelStep, IdentityMode, Prop,
    Site, StepOrder, TimeBounds, Trigger, Window,
};
use waymark_insight::manage;
use waymark_insight::{FunnelOptions, InsightError, SiteDefinitions};
use waymark_store::duck::DuckStore;
use waymark_store::{ConfigStore, EventStore};

const SITE: &str = "shop.example";
const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const S: i64 = 1000;

fn ev(v: u64, t: i64, name: &str, path: &str, channel: &str) -> Event {
    Event {
        site_id: SITE.into(),
        timestamp_ms: T0 + t,
        visitor_id: v,
        session_id: v,
        name: name.into(),
        pathname: path.into(),
        channel: channel.into(),
        interactive: name != "engagement",
        ..Event::default()
    }
}

/// A visit through the shop that stops after `depth` steps of the checkout funnel.
fn visit(v: u64, start: i64, depth: usize, channel: &str) -> Vec<Event> {
    let mut out = vec![ev(v, start, "pageview", "/", channel)];
    if depth >= 2 {
        out.push(ev(v, start + S, "pageview", "/products/tent", "Direct"));
        out.push(Event {
            engagement_ms: Some(7_000),
            scroll_depth: Some(80),
            ..ev(v, start + 9 * S, "engagement", "/products/tent", "Direct")
        });
    }
    if depth >= 3 {
        out.push(ev(
            v,
            start + 8 * S,
            "Add to Cart",
            "/products/tent",
            "Direct",
        ));
    }
    if depth >= 4 {
        out.push(Event {
            props: vec![Prop {
                key: "items".into(),
                value: "1".into(),
            }],
            ..ev(v, start + 20 * S, "Begin Checkout", "/checkout", "Direct")
        });
    }
    if depth >= 5 {
        out.push(Event {
            revenue_amount: Some(80.0),
            revenue_currency: "EUR".into(),
            ..ev(
                v,
                start + 60 * S,
                "Purchase",
                "/checkout/complete",
                "Direct",
            )
        });
    }
    out
}

/// 100 visitors: 45 view a product, 6 of them add to cart, 4 check out, 3 buy.
fn shop() -> DuckStore {
    let s = DuckStore::in_memory().unwrap();
    s.add_site(&Site::new(SITE, "UTC").unwrap()).unwrap();
    let mut events = Vec::new();
    for v in 1..=100u64 {
        let depth = match v {
            1..=3 => 5,
            4 => 4,
            5..=6 => 3,
            7..=45 => 2,
            _ => 1,
        };
        let channel = if v & 1 == 0 {
            "Organic Search"
        } else {
            "Email"
        };
        events.extend(visit(v, v as i64 * 3_600 * S / 10, depth, channel));
    }
    s.append(&events).unwrap();
    s
}

fn all() -> FunnelOptions {
    FunnelOptions {
        bounds: TimeBounds::ALL,
        compare: None,
        filters: Vec::new(),
        breakdown: None,
        limit: 10,
    }
}

#[test]
fn the_ecommerce_template_names_the_weakest_step() {
    let s = shop();
    let applied = manage::apply_template(&s, SITE, "ecommerce").unwrap();
    assert!(
        applied.iter().all(|a| a.change == Change::Created),
        "{applied:?}"
    );
    assert_eq!(applied.last().map(|a| a.name.as_str()), Some("Checkout"));
    // A second application keeps what exists.
    let again = manage::apply_template(&s, SITE, "ecommerce").unwrap();
    assert!(again.iter().all(|a| a.change == Change::Unchanged));

    let f = manage::find_funnel(&s, SITE, "checkout").unwrap();
    let r = waymark_insight::funnel_report(&s, SITE, &f, &all()).unwrap();
    let visitors: Vec<u64> = r.steps.iter().map(|x| x.visitors).collect();
    assert_eq!(visitors, vec![100, 45, 6, 4, 3]);
    let w = r.weakest.unwrap();
    assert_eq!(
        (w.from.as_str(), w.to.as_str()),
        ("Product View", "Add to Cart")
    );
    assert_eq!(r.opportunities[0].to, "Add to Cart");
    assert_eq!(r.value.source, "revenue");
    assert!((r.value.per_completion - 80.0).abs() < 1e-9);
    assert!((r.conversion_rate - 3.0).abs() < 1e-9);
    assert_eq!(r.steps[3].median_ms, Some(12 * S), "add to cart → checkout");

    let conv = waymark_insight::conversion_report(&s, SITE, TimeBounds::ALL, &[], None).unwrap();
    assert_eq!(conv.visitors, 100);
    let purchase = conv
        .conversions
        .iter()
        .find(|c| c.name == "Purchase")
        .unwrap();
    assert_eq!((purchase.visitors, purchase.conversions), (3, 3));
    assert!((purchase.rate - 3.0).abs() < 1e-9);
    let revenue = purchase.revenue.as_ref().unwrap();
    assert_eq!(
        (revenue.total, revenue.average, revenue.currency.as_str()),
        (240.0, 80.0, "EUR")
    );
    let view = conv
        .conversions
        .iter()
        .find(|c| c.name == "Product View")
        .unwrap();
    assert_eq!(view.visitors, 45, "5+ seconds engaged on a product page");
}

#[test]
fn breakdown_and_comparison() {
    let s = shop();
    manage::apply_template(&s, SITE, "ecommerce").unwrap();
    let f = manage::find_funnel(&s, SITE, "Checkout").unwrap();
    let opts = FunnelOptions {
        breakdown: Some(waymark_core::Field::Visit(
            waymark_core::query::VisitField::Channel,
        )),
        limit: 1,
        ..all()
    };
    let r = waymark_insight::funnel_report(&s, SITE, &f, &opts).unwrap();
    let b = r.breakdown.unwrap();
    assert_eq!(b.segments.len(), 1);
    assert_eq!(b.more, 1);
    assert_eq!(b.segments[0].segment, "Email", "50 each; ties by name");
    assert_eq!(b.segments[0].steps[0].visitors, 50);

    // The first half of the traffic against the second.
    let half = T0 + 50 * 3_600 * S / 10 + S / 2;
    let opts = FunnelOptions {
        bounds: TimeBounds {
            from_ms: half,
            to_ms: TimeBounds::ALL.to_ms,
        },
        compare: Some(TimeBounds {
            from_ms: 0,
            to_ms: half,
        }),
        ..all()
    };
    let r = waymark_insight::funnel_report(&s, SITE, &f, &opts).unwrap();
    let c = r.comparison.unwrap();
    assert_eq!(c.steps[0].visitors, 50);
    assert_eq!(r.steps[0].visitors, 50);
    assert_eq!(
        c.steps[1].visitors, 45,
        "every product viewer is in the first half"
    );
    assert_eq!(c.changes[1].visitors_change, -45);
    assert_eq!(c.changes[1].significant, Some(true));
}

#[test]
fn definitions_as_code_are_checked_then_applied_by_name() {
    let s = DuckStore::in_memory().unwrap();
    let toml_text = r#"
        [[sites]]
        domain = "www.Shop.example"
        timezone = "Europe/Berlin"
        templates = ["ecommerce"]

        [[sites.conversions]]
        name = "Newsletter Signup"
        kind = "micro"
        trigger = 'event "Newsletter Signup"'

        [[sites.conversions]]
        name = "Purchase"
        kind = "macro"
        trigger = "event Purchase where items >= 1"
        value = "revenue"

        [[sites.funnels]]
        name = "Newsletter"
        window = "30m"
        order = "sequence"
        steps = [{ label = "Blog", trigger = "pageview /blog/**" }, "Newsletter Signup"]
    "#;
    #[derive(serde::Deserialize)]
    struct File {
        sites: Vec<SiteDefinitions>,
    }
    let file: File = toml::from_str(toml_text).unwrap();
    let applied =
        waymark_insight::apply_definitions(&s, &file.sites, IdentityMode::Cookieless).unwrap();
    let site = s.site(SITE).unwrap().unwrap();
    assert_eq!(site.timezone, "Europe/Berlin");
    let purchase = s
        .conversions(SITE)
        .unwrap()
        .into_iter()
        .find(|c| c.name == "Purchase")
        .unwrap();
    assert_eq!(
        purchase.trigger.to_string(),
        "event Purchase where items >= 1",
        "the file wins over the template"
    );
    assert!(applied
        .iter()
        .any(|a| a.name == "Newsletter" && a.change == Change::Created));
    let again =
        waymark_insight::apply_definitions(&s, &file.sites, IdentityMode::Cookieless).unwrap();
    assert!(
        again
            .iter()
            .filter(|a| a.name != "Purchase")
            .all(|a| a.change == Change::Unchanged),
        "{again:?}"
    );

    // A long window is refused in cookieless mode, with the reason, before anything is written.
    let bad: File = toml::from_str(
        r#"
        [[sites]]
        domain = "other.example"
        [[sites.funnels]]
        name = "Week"
        window = "7d"
        steps = [{ trigger = "pageview" }, { trigger = "event Signup" }]
    "#,
    )
    .unwrap();
    let e =
        waymark_insight::apply_definitions(&s, &bad.sites, IdentityMode::Cookieless).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("sites[0].funnels[0]") && msg.contains("cannot be linked"),
        "{msg}"
    );
    assert!(
        s.site("other.example").unwrap().is_none(),
        "nothing written"
    );

    // A step naming an unknown conversion is refused.
    let bad: File = toml::from_str(
        r#"
        [[sites]]
        domain = "shop.example"
        [[sites.funnels]]
        name = "F"
        steps = ["Nope", "Purchase"]
    "#,
    )
    .unwrap();
    let msg = waymark_insight::apply_definitions(&s, &bad.sites, IdentityMode::Cookieless)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("steps[1]") && msg.contains("Nope"), "{msg}");

    // A bad trigger in the file points at its column.
    let err = toml::from_str::<File>(
        r#"
        [[sites]]
        domain = "shop.example"
        [[sites.conversions]]
        name = "X"
        kind = "micro"
        trigger = "event Search where results >= lots"
    "#,
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(
        err.contains("not a number") && err.contains("column"),
        "{err}"
    );
}

#[test]
fn management_rules() {
    let s = shop();
    manage::apply_template(&s, SITE, "ecommerce").unwrap();
    // A conversion used by a funnel is not deleted.
    let e = manage::delete_conversion(&s, SITE, "Add to Cart").unwrap_err();
    assert!(matches!(e, InsightError::Conflict(_)), "{e}");
    // Funnels must refer to known conversions, with a hint on case.
    let f = Funnel {
        name: "F".into(),
        steps: vec![
            FunnelStep::conversion("add to cart"),
            FunnelStep::conversion("Purchase"),
        ],
        window: Window::Session,
        order: StepOrder::Strict,
    };
    let e = manage::save_funnel(&s, SITE, &f, IdentityMode::Cookieless).unwrap_err();
    assert!(
        e.to_string().contains("did you mean \"Add to Cart\""),
        "{e}"
    );
    // Windows over 24 h are refused in cookieless mode and accepted in consented mode.
    let long = Funnel {
        window: Window::Duration(2 * 86_400_000),
        steps: vec![
            FunnelStep::conversion("Add to Cart"),
            FunnelStep::conversion("Purchase"),
        ],
        ..f
    };
    let e = manage::save_funnel(&s, SITE, &long, IdentityMode::Cookieless).unwrap_err();
    assert!(
        matches!(&e, InsightError::Definition(d) if d.field == "window"),
        "{e}"
    );
    assert!(manage::save_funnel(&s, SITE, &long, IdentityMode::Consented).is_ok());
    // Unknown sites and templates are named.
    let c = Conversion::macro_goal("X", Trigger::event("X"), ConversionValue::None);
    assert!(manage::save_conversion(&s, "nope.example", &c)
        .unwrap_err()
        .to_string()
        .contains("nope.example"));
    assert!(manage::apply_template(&s, SITE, "casino")
        .unwrap_err()
        .to_string()
        .contains("ecommerce"));
}

#[test]
fn a_range_of_local_days_ends_at_the_site_s_midnight() {
    // New York is UTC−5 in January: 2 January starts at 05:00 UTC.
    let s = DuckStore::in_memory().unwrap();
    let site = Site::new(SITE, "America/New_York").unwrap();
    s.add_site(&site).unwrap();
    let jan2 = 29 * 3_600 * S; // 2026-01-02T05:00Z from T0
    s.append(&[
        // Visitor 1: both steps on 1 January, local time (the last at 23:59:59.999).
        ev(1, jan2 - 3_600 * S, "A", "/", "Direct"),
        ev(1, jan2 - 1, "B", "/", "Direct"),
        // Visitor 2: A on 1 January, B at local midnight, so on 2 January.
        ev(2, jan2 - 60 * S, "A", "/", "Direct"),
        ev(2, jan2, "B", "/", "Direct"),
    ])
    .unwrap();
    let f = Funnel {
        name: "AB".into(),
        steps: vec![
            FunnelStep::trigger("A", Trigger::event("A")),
            FunnelStep::trigger("B", Trigger::event("B")),
        ],
        window: Window::Duration(86_400_000),
        order: StepOrder::Strict,
    };
    let now = Utc.with_ymd_and_hms(2026, 1, 10, 12, 0, 0).unwrap();
    let day = |a: u32, b: u32| {
        let (a, b) = (
            NaiveDate::from_ymd_opt(2026, 1, a).unwrap(),
            NaiveDate::from_ymd_opt(2026, 1, b).unwrap(),
        );
        FunnelOptions {
            bounds: DateRange::Custom(a, b).bounds(site.tz(), now),
            ..all()
        }
    };
    let reach = |o: &FunnelOptions| -> Vec<u64> {
        waymark_insight::funnel_report(&s, SITE, &f, o)
            .unwrap()
            .steps
            .iter()
            .map(|x| x.visitors)
            .collect()
    };
    assert_eq!(day(1, 1).bounds.to_ms, T0 + jan2);
    assert_eq!(reach(&day(1, 1)), vec![2, 1]);
    assert_eq!(reach(&day(1, 2)), vec![2, 2]);
    assert_eq!(reach(&day(2, 2)), vec![0, 0]);
    // Counted in UTC days instead, all four events fall on 2 January.
    let utc = Site::new(SITE, "UTC").unwrap();
    s.add_site(&utc).unwrap();
    let (p, _) = waymark_insight::resolve_range(&utc, "2026-01-02,2026-01-02", None, now).unwrap();
    assert_eq!(p.bounds.from_ms, T0 + 24 * 3_600 * S);
    let o = FunnelOptions {
        bounds: p.bounds,
        ..all()
    };
    assert_eq!(reach(&o), vec![2, 2], "in UTC every event is on 2 January");
}
