//! Known-answer tests for the funnel semantics in `docs/funnels.md`, on small hand-built event
//! sets: every ordering rule, windows, repeated steps, out-of-order events, steps on the same
//! timestamp, engagement thresholds, property conditions, path patterns, breakdowns and filters
//! (time-zone day boundaries: `crates/insight/tests/reports.rs`). Written against the
//! `EventStore` trait so every backend must pass them.

use waymark_core::query::VisitField;
use waymark_core::{
    Condition, Event, Field, Filter, FunnelQuery, Goal, Prop, Site, StepOrder, TimeBounds, Trigger,
    Window,
};
use waymark_store::duck::DuckStore;
use waymark_store::{ConfigStore, EventStore};

const SITE: &str = "shop.example";
const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const S: i64 = 1_000;
const MIN: i64 = 60 * S;
const H: i64 = 60 * MIN;

/// An event of visitor `v` in session `v * 10 + s`.
fn ev(v: u64, s: u64, t: i64, name: &str, path: &str) -> Event {
    Event {
        site_id: SITE.into(),
        timestamp_ms: T0 + t,
        visitor_id: v,
        session_id: v * 10 + s,
        name: name.into(),
        pathname: path.into(),
        channel: "Direct".into(),
        interactive: name != "engagement",
        ..Event::default()
    }
}

fn pv(v: u64, s: u64, t: i64, path: &str) -> Event {
    ev(v, s, t, "pageview", path)
}

fn custom(v: u64, s: u64, t: i64, name: &str) -> Event {
    ev(v, s, t, name, "/")
}

fn engagement(v: u64, s: u64, t: i64, path: &str, ms: u32, scroll: u8) -> Event {
    Event {
        engagement_ms: Some(ms),
        scroll_depth: Some(scroll),
        ..ev(v, s, t, "engagement", path)
    }
}

fn with_props(mut e: Event, props: &[(&str, &str)]) -> Event {
    e.props = props
        .iter()
        .map(|(k, v)| Prop {
            key: k.to_string(),
            value: v.to_string(),
        })
        .collect();
    e
}

fn store(events: &[Event]) -> DuckStore {
    let s = DuckStore::in_memory().unwrap();
    s.add_site(&Site::new(SITE, "UTC").unwrap()).unwrap();
    s.append(events).unwrap();
    s
}

fn t(s: &str) -> Trigger {
    s.parse().unwrap()
}

fn query(steps: &[&str], window: Window, order: StepOrder) -> FunnelQuery {
    FunnelQuery {
        site: SITE.into(),
        bounds: TimeBounds::ALL,
        filter: None,
        goals: Vec::new(),
        steps: steps.iter().map(|s| t(s)).collect(),
        window,
        order,
        breakdown: None,
    }
}

/// Visitors per step.
fn reach(store: &DuckStore, q: &FunnelQuery) -> Vec<u64> {
    store
        .funnel(q)
        .unwrap()
        .overall
        .steps
        .iter()
        .map(|s| s.visitors)
        .collect()
}

const ABC: [&str; 3] = ["event A", "event B", "event C"];
const DAY: Window = Window::Duration(24 * H);

#[test]
fn strict_order_allows_other_events_between() {
    let s = store(&[
        // 1: A, noise, B, A again, C: completes.
        custom(1, 0, 0, "A"),
        pv(1, 0, S, "/x"),
        custom(1, 0, 2 * S, "B"),
        custom(1, 0, 3 * S, "A"),
        custom(1, 0, 4 * S, "C"),
        // 2: A, C (no B): step 1 only.
        custom(2, 0, 0, "A"),
        custom(2, 0, S, "C"),
        // 3: A, B: two steps.
        custom(3, 0, 0, "A"),
        custom(3, 0, S, "B"),
        // 4: B, C without A: nothing.
        custom(4, 0, 0, "B"),
        custom(4, 0, S, "C"),
    ]);
    assert_eq!(
        reach(&s, &query(&ABC, DAY, StepOrder::Strict)),
        vec![3, 2, 1]
    );
}

#[test]
fn out_of_order_events_do_not_count_until_they_happen_in_order() {
    let s = store(&[
        // B before A does not complete A → B ...
        custom(1, 0, 0, "B"),
        custom(1, 0, S, "A"),
        // 2: ... but a later B does.
        custom(2, 0, 0, "B"),
        custom(2, 0, S, "A"),
        custom(2, 0, 2 * S, "B"),
        // 3: C, B, A in reverse.
        custom(3, 0, 0, "C"),
        custom(3, 0, S, "B"),
        custom(3, 0, 2 * S, "A"),
    ]);
    assert_eq!(
        reach(&s, &query(&ABC, DAY, StepOrder::Strict)),
        vec![3, 1, 0]
    );
    assert_eq!(
        reach(&s, &query(&ABC, DAY, StepOrder::Sequence)),
        vec![3, 1, 0]
    );
    // In any order all three count for visitor 3, and A, B for 1 and 2.
    assert_eq!(reach(&s, &query(&ABC, DAY, StepOrder::Any)), vec![3, 3, 1]);
}

#[test]
fn sequence_forbids_other_step_events_between_steps() {
    let s = store(&[
        // 1: A, noise (not a step), B, C: completes.
        custom(1, 0, 0, "A"),
        pv(1, 0, S, "/x"),
        custom(1, 0, 2 * S, "B"),
        custom(1, 0, 3 * S, "C"),
        // 2: A, C, B, C: the C between A and B breaks A → B; no later A.
        custom(2, 0, 0, "A"),
        custom(2, 0, S, "C"),
        custom(2, 0, 2 * S, "B"),
        custom(2, 0, 3 * S, "C"),
        // 3: A, A, B: the second A starts a clean attempt.
        custom(3, 0, 0, "A"),
        custom(3, 0, S, "A"),
        custom(3, 0, 2 * S, "B"),
    ]);
    assert_eq!(
        reach(&s, &query(&ABC, DAY, StepOrder::Sequence)),
        vec![3, 2, 1]
    );
    // Strict lets visitor 2 through.
    assert_eq!(
        reach(&s, &query(&ABC, DAY, StepOrder::Strict)),
        vec![3, 3, 2]
    );
}

#[test]
fn steps_on_the_same_timestamp() {
    let s = store(&[
        // 1: A and B at the same millisecond.
        custom(1, 0, 0, "A"),
        custom(1, 0, 0, "B"),
        // 2: A, then B and C together.
        custom(2, 0, 0, "A"),
        custom(2, 0, S, "B"),
        custom(2, 0, S, "C"),
        // 3: C, B, A at the same millisecond, as sent in one batch in reverse.
        custom(3, 0, 0, "C"),
        custom(3, 0, 0, "B"),
        custom(3, 0, 0, "A"),
    ]);
    // Strict: a step may share the previous step's moment.
    assert_eq!(
        reach(&s, &query(&ABC, DAY, StepOrder::Strict)),
        vec![3, 3, 2]
    );
    // Sequence: each step strictly later.
    assert_eq!(
        reach(&s, &query(&ABC, DAY, StepOrder::Sequence)),
        vec![3, 1, 0]
    );
    assert_eq!(reach(&s, &query(&ABC, DAY, StepOrder::Any)), vec![3, 3, 2]);
}

#[test]
fn one_event_can_be_a_step_and_the_next_unless_the_step_repeats() {
    let product = "pageview /products/*";
    let s = store(&[
        // 1: lands on a product page: a visit and a product view in one event.
        pv(1, 0, 0, "/products/tent"),
        // 2: lands on the home page, then views a product.
        pv(2, 0, 0, "/"),
        pv(2, 0, S, "/products/tent"),
        // 3: home page only.
        pv(3, 0, 0, "/"),
    ]);
    let q = query(&["pageview", product], Window::Session, StepOrder::Strict);
    assert_eq!(reach(&s, &q), vec![3, 2]);
    // The same trigger twice needs two events, even at the same millisecond.
    let s = store(&[
        pv(1, 0, 0, "/products/tent"),
        pv(2, 0, 0, "/products/tent"),
        pv(2, 0, 0, "/products/stove"),
        pv(3, 0, 0, "/products/tent"),
        pv(3, 0, S, "/products/stove"),
    ]);
    let q = query(&[product, product], Window::Session, StepOrder::Strict);
    assert_eq!(reach(&s, &q), vec![3, 1]);
}

#[test]
fn sequence_with_simultaneous_events_looks_at_the_next_timestamp() {
    let s = store(&[
        // A and an unrelated step event (C) together, then B: C is not *between* A and B.
        custom(1, 0, 0, "A"),
        custom(1, 0, 0, "C"),
        custom(1, 0, S, "B"),
    ]);
    assert_eq!(
        reach(&s, &query(&ABC, DAY, StepOrder::Sequence)),
        vec![1, 1, 0]
    );
}

#[test]
fn repeated_steps_need_distinct_later_events() {
    let read = "pageview /blog/*";
    let s = store(&[
        pv(1, 0, 0, "/blog/a"),
        pv(1, 0, MIN, "/blog/b"),
        pv(1, 0, 2 * MIN, "/blog/c"),
        pv(2, 0, 0, "/blog/a"),
        pv(2, 0, MIN, "/blog/a"),
        pv(3, 0, 0, "/blog/a"),
    ]);
    assert_eq!(
        reach(&s, &query(&[read, read, read], DAY, StepOrder::Strict)),
        vec![3, 2, 1]
    );
    assert_eq!(
        reach(&s, &query(&[read, read, read], DAY, StepOrder::Sequence)),
        vec![3, 2, 1]
    );
    // In any order one event may serve several steps.
    assert_eq!(
        reach(&s, &query(&[read, read, read], DAY, StepOrder::Any)),
        vec![3, 3, 3]
    );
}

#[test]
fn duration_windows_include_their_end_and_pick_the_best_start() {
    let w = Window::Duration(H);
    let s = store(&[
        // 1: C exactly one hour after A: inside.
        custom(1, 0, 0, "A"),
        custom(1, 0, 30 * MIN, "B"),
        custom(1, 0, H, "C"),
        // 2: C one hour and 1 ms after A: outside.
        custom(2, 0, 0, "A"),
        custom(2, 0, 30 * MIN, "B"),
        custom(2, 0, H + 1, "C"),
        // 3: the first A is too early, a later A completes within the hour.
        custom(3, 0, 0, "A"),
        custom(3, 0, 2 * H, "A"),
        custom(3, 0, 2 * H + MIN, "B"),
        custom(3, 0, 2 * H + 2 * MIN, "C"),
    ]);
    assert_eq!(reach(&s, &query(&ABC, w, StepOrder::Strict)), vec![3, 3, 2]);
    assert_eq!(
        reach(&s, &query(&ABC, w, StepOrder::Sequence)),
        vec![3, 3, 2]
    );
    assert_eq!(reach(&s, &query(&ABC, w, StepOrder::Any)), vec![3, 3, 2]);
    // A day-long window lets visitor 2 complete too.
    assert_eq!(
        reach(&s, &query(&ABC, DAY, StepOrder::Strict)),
        vec![3, 3, 3]
    );
}

#[test]
fn session_windows_keep_steps_in_one_visit() {
    let s = store(&[
        // 1: A in one visit, B and C in the next: step 1 only with session windows.
        custom(1, 0, 0, "A"),
        custom(1, 1, 2 * H, "B"),
        custom(1, 1, 2 * H + MIN, "C"),
        // 2: everything in one visit.
        custom(2, 0, 0, "A"),
        custom(2, 0, MIN, "B"),
        custom(2, 0, 2 * MIN, "C"),
        // 3: the second visit completes, the first does not.
        custom(3, 0, 0, "A"),
        custom(3, 1, H, "A"),
        custom(3, 1, H + MIN, "B"),
    ]);
    for order in [StepOrder::Strict, StepOrder::Sequence, StepOrder::Any] {
        assert_eq!(
            reach(&s, &query(&ABC, Window::Session, order)),
            vec![3, 2, 1],
            "{order}"
        );
    }
    assert_eq!(
        reach(&s, &query(&ABC, DAY, StepOrder::Strict)),
        vec![3, 3, 2]
    );
}

#[test]
fn step_times_are_nearest_rank_median_and_p75_of_the_best_attempt() {
    let s = store(&[
        custom(1, 0, 0, "A"),
        custom(1, 0, 10 * S, "B"),
        custom(2, 0, 0, "A"),
        custom(2, 0, 20 * S, "B"),
        custom(3, 0, 0, "A"),
        custom(3, 0, 30 * S, "B"),
        // Visitor 4 has two A's before B: of the attempts reaching step 2 the earliest start
        // is used, so its time is 100 s, not 40 s.
        custom(4, 0, 0, "A"),
        custom(4, 0, 60 * S, "A"),
        custom(4, 0, 100 * S, "B"),
    ]);
    let f = s
        .funnel(&query(&["event A", "event B"], DAY, StepOrder::Strict))
        .unwrap();
    let b = f.overall.steps[1];
    assert_eq!(b.visitors, 4);
    assert_eq!(
        b.median_ms,
        Some(20 * S),
        "nearest rank: 2nd of [10, 20, 30, 100] s"
    );
    assert_eq!(b.p75_ms, Some(30 * S));
    assert_eq!(f.overall.steps[0].median_ms, None);
    let any = s
        .funnel(&query(&["event A", "event B"], DAY, StepOrder::Any))
        .unwrap();
    assert_eq!(
        any.overall.steps[1].median_ms, None,
        "no times without an order"
    );
}

#[test]
fn engagement_thresholds_use_the_page_view_s_own_engagement() {
    let step = "pageview /products/* where engaged >= 5s";
    let s = store(&[
        // 1: 3 s + 2.5 s on the same view (two engagement events): 5.5 s.
        pv(1, 0, 0, "/products/tent"),
        engagement(1, 0, 3 * S, "/products/tent", 3_000, 40),
        engagement(1, 0, 9 * S, "/products/tent", 2_500, 60),
        // 2: 4 s, then a second view of the page with 6 s: the second view matches.
        pv(2, 0, 0, "/products/tent"),
        engagement(2, 0, 4 * S, "/products/tent", 4_000, 20),
        pv(2, 0, 10 * S, "/products/tent"),
        engagement(2, 0, 16 * S, "/products/tent", 6_000, 20),
        // 3: 4.9 s: not enough; 9 s on another page do not help.
        pv(3, 0, 0, "/products/stove"),
        engagement(3, 0, 5 * S, "/products/stove", 4_900, 90),
        pv(3, 0, 6 * S, "/about"),
        engagement(3, 0, 15 * S, "/about", 9_000, 90),
        // 4: engagement from another visit of the same visitor does not count.
        pv(4, 0, 0, "/products/tent"),
        engagement(4, 1, 2 * H, "/products/tent", 60_000, 90),
        // 5: no engagement event at all (beacon lost).
        pv(5, 0, 0, "/products/tent"),
    ]);
    // `any` order, so the product pageview itself may also be the first step.
    let counts = reach(&s, &query(&["pageview", step], DAY, StepOrder::Any));
    assert_eq!(
        counts,
        vec![5, 2],
        "visitor 2 reaches step 2 on its second view"
    );
    let scroll = "pageview /products/* where scroll >= 50%";
    assert_eq!(
        reach(&s, &query(&["pageview", scroll], DAY, StepOrder::Any)),
        vec![5, 2]
    );
    // An event on a page inherits that page view's engagement.
    let s = store(&[
        pv(1, 0, 0, "/products/tent"),
        ev(1, 0, 2 * S, "Add to Cart", "/products/tent"),
        engagement(1, 0, 8 * S, "/products/tent", 8_000, 50),
        pv(2, 0, 0, "/products/tent"),
        ev(2, 0, 2 * S, "Add to Cart", "/products/tent"),
        engagement(2, 0, 3 * S, "/products/tent", 3_000, 50),
    ]);
    let q = query(
        &["pageview", "event \"Add to Cart\" where engaged >= 5s"],
        DAY,
        StepOrder::Strict,
    );
    assert_eq!(reach(&s, &q), vec![2, 1]);
}

#[test]
fn property_conditions() {
    let search = |v: u64, results: &str| {
        with_props(
            custom(v, 0, S, "Search"),
            &[("results", results), ("query", "Tent 2p")],
        )
    };
    let s = store(&[
        custom(1, 0, 0, "Start"),
        search(1, "3"),
        custom(2, 0, 0, "Start"),
        search(2, "0"),
        custom(3, 0, 0, "Start"),
        search(3, "10"),
        custom(4, 0, 0, "Start"),
        search(4, "many"),
        custom(5, 0, 0, "Start"),
        with_props(custom(5, 0, S, "Search"), &[("query", "stove")]),
    ]);
    let steps = |cond: &str| {
        let step = format!("event Search where {cond}");
        reach(
            &s,
            &query(&["event Start", step.as_str()], DAY, StepOrder::Strict),
        )[1]
    };
    assert_eq!(steps("results >= 1"), 2, "3 and 10, numerically");
    assert_eq!(
        steps("results > 2"),
        2,
        "\"10\" > 2 as numbers, not as text"
    );
    assert_eq!(steps("results < 1"), 1);
    assert_eq!(steps("results = 3.0"), 1, "numeric equality");
    assert_eq!(steps("results = many"), 1, "text equality");
    assert_eq!(steps("results != 0"), 4, "!= includes a missing property");
    assert_eq!(steps("results is set"), 4);
    assert_eq!(steps("results is not set"), 1);
    assert_eq!(steps("query contains Tent"), 4);
    assert_eq!(
        steps("query contains tent"),
        0,
        "contains is case-sensitive"
    );
    assert_eq!(steps("query matches \"(?i)^tent\""), 4);
    assert_eq!(steps("query = stove and results is not set"), 1);
}

#[test]
fn path_patterns_in_steps() {
    let s = store(&[
        pv(1, 0, 0, "/"),
        pv(1, 0, S, "/products/tent"),
        pv(2, 0, 0, "/"),
        pv(2, 0, S, "/products/tent/reviews"),
        pv(3, 0, 0, "/"),
        pv(3, 0, S, "/products.html"),
    ]);
    assert_eq!(
        reach(
            &s,
            &query(
                &["pageview /", "pageview /products/*"],
                DAY,
                StepOrder::Strict
            )
        ),
        vec![3, 1]
    );
    assert_eq!(
        reach(
            &s,
            &query(
                &["pageview /", "pageview /products/**"],
                DAY,
                StepOrder::Strict
            )
        ),
        vec![3, 2]
    );
    assert_eq!(
        reach(
            &s,
            &query(
                &["pageview /", "pageview /products*"],
                DAY,
                StepOrder::Strict
            )
        ),
        vec![3, 1]
    );
    assert_eq!(
        reach(
            &s,
            &query(
                &["pageview /", "pageview /products**"],
                DAY,
                StepOrder::Strict
            )
        ),
        vec![3, 3]
    );
}

#[test]
fn breakdowns_and_filters_use_the_visit_s_attributes() {
    let mut events = Vec::new();
    for (v, channel, variant, buys) in [
        (1, "Organic Search", "a", true),
        (2, "Organic Search", "b", false),
        (3, "Email", "a", true),
        (4, "Email", "b", true),
        (5, "Direct", "", false),
    ] {
        let mut first = pv(v, 0, 0, "/");
        first.channel = channel.into();
        if !variant.is_empty() {
            first = with_props(first, &[("variant", variant)]);
        }
        events.push(first);
        let mut second = pv(v, 0, S, "/products/x");
        second.channel = "Direct".into(); // later events of a visit carry no referrer
        events.push(second);
        if buys {
            events.push(custom(v, 0, 2 * S, "Purchase"));
        }
    }
    let s = store(&events);
    let mut q = query(
        &["pageview", "event Purchase"],
        Window::Session,
        StepOrder::Strict,
    );
    q.breakdown = Some(Field::Visit(VisitField::Channel));
    let f = s.funnel(&q).unwrap();
    assert_eq!(
        f.overall
            .steps
            .iter()
            .map(|x| x.visitors)
            .collect::<Vec<_>>(),
        vec![5, 3]
    );
    let rows: Vec<(&str, u64, u64)> = f
        .segments
        .iter()
        .map(|r| (r.segment.as_str(), r.steps[0].visitors, r.steps[1].visitors))
        .collect();
    assert_eq!(
        rows,
        vec![("Email", 2, 2), ("Organic Search", 2, 1), ("Direct", 1, 0)]
    );

    q.breakdown = Some(Field::VisitProp("variant".into()));
    let f = s.funnel(&q).unwrap();
    let rows: Vec<(&str, u64, u64)> = f
        .segments
        .iter()
        .map(|r| (r.segment.as_str(), r.steps[0].visitors, r.steps[1].visitors))
        .collect();
    assert_eq!(rows, vec![("a", 2, 2), ("b", 2, 1), ("", 1, 0)]);

    q.breakdown = None;
    let f = |s: &[&str]| {
        let c: Vec<Condition> = s.iter().map(|x| Condition::parse(x).unwrap()).collect();
        Filter::visits_passing_all(&c)
    };
    q.filter = f(&["channel=Email"]);
    assert_eq!(reach(&s, &q), vec![2, 2]);
    q.filter = f(&["channel!=Email", "prop:variant=b"]);
    assert_eq!(reach(&s, &q), vec![1, 0]);
    q.filter = f(&["entry_page=/products/x"]);
    assert_eq!(reach(&s, &q), vec![0, 0]);
}

#[test]
fn event_filters_keep_the_visits_that_include_a_matching_event() {
    let s = store(&[
        // Visitor 1 compares prices, then buys.
        pv(1, 0, 0, "/"),
        pv(1, 0, S, "/pricing"),
        engagement(1, 0, 2 * S, "/pricing", 6_000, 50),
        custom(1, 0, 3 * S, "Purchase"),
        // Visitor 2 buys without looking at prices, on the pro plan.
        pv(2, 0, 0, "/"),
        with_props(custom(2, 0, S, "Purchase"), &[("plan", "pro")]),
        // Visitor 3 reads the prices briefly in one visit and buys in the next, 2 h later.
        pv(3, 0, 0, "/pricing"),
        engagement(3, 0, S, "/pricing", 2_000, 10),
        pv(3, 1, 2 * H, "/"),
        custom(3, 1, 2 * H + S, "Purchase"),
    ]);
    let mut q = query(&["pageview", "event Purchase"], DAY, StepOrder::Strict);
    assert_eq!(reach(&s, &q), vec![3, 3]);
    let mut with_goals = |filters: Vec<Condition>, goals: Vec<Goal>| {
        q.filter = Filter::visits_passing_all(&filters);
        q.goals = goals;
        reach(&s, &q)
    };
    let f = |s: &str| Condition::parse(s).unwrap();
    let mut with = |filters: Vec<Condition>| with_goals(filters, Vec::new());
    // Only visitor 3's first visit has the pricing page: its purchase came in the other visit.
    assert_eq!(with(vec![f("event:page=/pricing")]), vec![2, 1]);
    assert_eq!(with(vec![f("event:page~pric")]), vec![2, 1]);
    // Every visit has a pageview of another page than /pricing except visitor 3's first.
    assert_eq!(with(vec![f("event:page!=/pricing")]), vec![3, 3]);
    // Exit pages are the last pageview's (a later custom event does not move it): `/` for
    // visitor 2's visit and visitor 3's second, `/pricing` for visitor 1's and 3's first.
    assert_eq!(with(vec![f("visit:exit_page=/")]), vec![2, 2]);
    assert_eq!(with(vec![f("exit_page=/pricing")]), vec![2, 1]);
    assert_eq!(with(vec![f("event:props:plan=pro")]), vec![1, 1]);
    // Events without the property compare as "(none)", as in the Stats API.
    assert_eq!(with(vec![f("event:props:plan=(none)")]), vec![3, 3]);
    // Goals by their triggers, engagement conditions included; an unknown goal keeps nothing.
    // The goals are G0, G1, ... with the given triggers.
    let goals = |triggers: &[&str]| -> Vec<Goal> {
        triggers
            .iter()
            .enumerate()
            .map(|(i, x)| Goal {
                name: format!("G{i}"),
                trigger: t(x),
            })
            .collect()
    };
    assert_eq!(
        with_goals(
            vec![f("event:goal=G0")],
            goals(&["pageview /pricing where engaged >= 5s"])
        ),
        vec![1, 1]
    );
    assert_eq!(
        with_goals(
            vec![f("event:goal~G")],
            goals(&["event Nothing", "event Purchase"])
        ),
        vec![3, 3]
    );
    // `!=`: the visit has an event that is not a purchase (all of them have a pageview).
    assert_eq!(
        with_goals(vec![f("event:goal!=G0")], goals(&["event Purchase"])),
        vec![3, 3]
    );
    assert_eq!(with_goals(vec![f("event:goal=G")], goals(&[])), vec![0, 0]);
    // Filters combine: visits with the pricing page that also include a purchase.
    assert_eq!(
        with_goals(
            vec![f("event:page=/pricing"), f("event:goal=G0")],
            goals(&["event Purchase"])
        ),
        vec![1, 1]
    );
}

#[test]
fn empty_and_foreign_sites_give_zero_rows() {
    let mut other = custom(1, 0, 0, "A");
    other.site_id = "other.example".into();
    let s = store(&[other]);
    let f = s.funnel(&query(&ABC, DAY, StepOrder::Strict)).unwrap();
    assert_eq!(f.overall.steps.len(), 3);
    assert!(f.overall.steps.iter().all(|x| x.visitors == 0));
    let mut q = query(&ABC, DAY, StepOrder::Strict);
    q.steps.truncate(1);
    assert!(s.funnel(&q).is_err(), "one step is not a funnel");
}
