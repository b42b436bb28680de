//! Property test: random event sequences (ties, repeats, several visits, two channels) are
//! stored and funnelled by the store, and compared with a plain-Rust reference written here
//! from `docs/funnels.md`: levels by exhaustive search over event chains (not the store's
//! greedy plan), times from the documented attempt, segments per visit.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use waymark_core::query::VisitField;
use waymark_core::{Event, Field, FunnelQuery, Site, StepCount, StepOrder, TimeBounds, Window};
use waymark_store::duck::DuckStore;
use waymark_store::{ConfigStore, EventStore};

const SITE: &str = "prop.example";
const T0: i64 = 1_767_225_600_000;
const NAMES: [&str; 4] = ["A", "B", "C", "D"];

/// One generated event.
#[derive(Debug, Clone)]
struct Ev {
    visitor: u64,
    session: u64,
    t: i64,
    name: usize,
    channel: &'static str,
}

fn events() -> impl Strategy<Value = Vec<Ev>> {
    // Visitors × visits × events; a visit lives in its own 100-second slot, so visits of a
    // visitor never overlap in time (as sessions do not).
    prop::collection::vec(
        prop::collection::vec(
            (
                prop::bool::ANY,
                prop::collection::vec((0i64..12, 0usize..4), 0..7),
            ),
            1..3,
        ),
        1..5,
    )
    .prop_map(|visitors| {
        let mut out = Vec::new();
        for (v, visits) in visitors.into_iter().enumerate() {
            for (s, (x, evs)) in visits.into_iter().enumerate() {
                for (k, name) in evs {
                    out.push(Ev {
                        visitor: v as u64 + 1,
                        session: (v as u64 + 1) * 10 + s as u64,
                        t: (s as i64 * 100 + k) * 1000,
                        name,
                        channel: if x { "X" } else { "Y" },
                    });
                }
            }
        }
        out
    })
}

fn window() -> impl Strategy<Value = Window> {
    prop_oneof![
        Just(Window::Session),
        Just(Window::Duration(1_000)),
        Just(Window::Duration(3_000)),
        Just(Window::Duration(3_600_000)),
    ]
}

fn order() -> impl Strategy<Value = StepOrder> {
    prop_oneof![
        Just(StepOrder::Strict),
        Just(StepOrder::Sequence),
        Just(StepOrder::Any)
    ]
}

// ---- the reference ------------------------------------------------------------------------

/// An attempt: the level it reaches, its first step's time, step times, and its visit.
#[derive(Debug, Clone)]
struct Attempt {
    level: usize,
    t1: i64,
    times: Vec<i64>,
    segment: &'static str,
}

fn within(window: Window, first: i64, last: i64) -> bool {
    match window {
        Window::Session => true,
        Window::Duration(ms) => last - first <= ms,
    }
}

/// Whether `next` may follow `prev` as step `k + 1` after step `k`: in `strict` order at the
/// same moment or later (strictly later when the step repeats the previous trigger), in
/// `sequence` strictly later.
fn follows(prev: i64, next: i64, steps: &[usize], k: usize, order: StepOrder) -> bool {
    if order == StepOrder::Strict && steps[k + 1] != steps[k] {
        next >= prev
    } else {
        next > prev
    }
}

/// The longest prefix of `steps` matched by a chain whose step `k + 1` is event `i`, by
/// exhaustive search: each next event matches the next step, follows the previous one
/// ([`follows`]), lies within the window of the chain's `first` time, and (for `sequence`) no
/// funnel-step event lies strictly between two chained events.
fn longest_chain(
    unit: &[&Ev],
    steps: &[usize],
    order: StepOrder,
    window: Window,
    i: usize,
    k: usize,
    first: i64,
) -> usize {
    let mut best = k + 1;
    if k + 1 == steps.len() {
        return best;
    }
    let prev = unit[i];
    for (j, e) in unit.iter().enumerate() {
        if !follows(prev.t, e.t, steps, k, order)
            || e.name != steps[k + 1]
            || !within(window, first, e.t)
        {
            continue;
        }
        if order == StepOrder::Sequence
            && unit
                .iter()
                .any(|x| x.t > prev.t && x.t < e.t && steps.contains(&x.name))
        {
            continue;
        }
        best = best.max(longest_chain(unit, steps, order, window, j, k + 1, first));
    }
    best
}

/// The documented attempt times: from the start, each step's earliest qualifying event.
fn greedy_times(
    unit: &[&Ev],
    steps: &[usize],
    order: StepOrder,
    start: &Ev,
    level: usize,
) -> Vec<i64> {
    let mut times = vec![start.t];
    let mut prev = start.t;
    for (k, &step) in steps[1..level].iter().enumerate() {
        let next = match order {
            StepOrder::Sequence => {
                // The next timestamp with any funnel-step event must hold this step.
                let nt = unit
                    .iter()
                    .filter(|x| x.t > prev && steps.contains(&x.name))
                    .map(|x| x.t)
                    .min();
                nt.filter(|&nt| unit.iter().any(|x| x.t == nt && x.name == step))
            }
            _ => unit
                .iter()
                .filter(|x| follows(prev, x.t, steps, k, order) && x.name == step)
                .map(|x| x.t)
                .min(),
        };
        let Some(n) = next else { break };
        times.push(n);
        prev = n;
    }
    times
}

fn attempts(unit: &[&Ev], steps: &[usize], order: StepOrder, window: Window) -> Vec<Attempt> {
    let mut out = Vec::new();
    match order {
        StepOrder::Strict | StepOrder::Sequence => {
            for (i, e) in unit.iter().enumerate() {
                if e.name != steps[0] {
                    continue;
                }
                let level = longest_chain(unit, steps, order, window, i, 0, e.t);
                out.push(Attempt {
                    level,
                    t1: e.t,
                    times: greedy_times(unit, steps, order, e, level),
                    segment: e.channel,
                });
            }
        }
        StepOrder::Any => {
            // Anchored at every funnel-step event: the steps present in [t, t + window]
            // (or anywhere in the visit).
            for a in unit.iter().filter(|a| steps.contains(&a.name)) {
                let present = |s: usize| {
                    unit.iter()
                        .any(|x| x.name == s && x.t >= a.t && within(window, a.t, x.t))
                };
                let level = steps.iter().take_while(|&&s| present(s)).count();
                let level = match window {
                    // In a visit the anchor does not matter: everything counts.
                    Window::Session => steps
                        .iter()
                        .take_while(|&&s| unit.iter().any(|x| x.name == s))
                        .count(),
                    Window::Duration(_) => level,
                };
                // The attempt belongs to the visit where its step 1 happened: the earliest
                // step-1 event of the window (docs/funnels.md).
                let opener = unit
                    .iter()
                    .filter(|x| {
                        x.name == steps[0]
                            && (window == Window::Session
                                || (x.t >= a.t && within(window, a.t, x.t)))
                    })
                    .min_by_key(|x| x.t);
                if level > 0 {
                    out.push(Attempt {
                        level,
                        t1: a.t,
                        times: Vec::new(),
                        segment: opener.map_or(a.channel, |x| x.channel),
                    });
                }
            }
        }
    }
    out
}

fn nearest_rank(sorted: &[i64], q: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let idx = ((q * sorted.len() as f64).ceil() as usize).max(1) - 1;
    Some(sorted[idx.min(sorted.len() - 1)])
}

/// Per segment (`None` = overall): step counts.
fn reference(
    evs: &[Ev],
    steps: &[usize],
    order: StepOrder,
    window: Window,
) -> BTreeMap<Option<&'static str>, Vec<StepCount>> {
    // Units: visitors, or visits.
    let mut units: BTreeMap<(u64, u64), Vec<&Ev>> = BTreeMap::new();
    for e in evs {
        let key = match window {
            Window::Session => (e.visitor, e.session),
            Window::Duration(_) => (e.visitor, 0),
        };
        units.entry(key).or_default().push(e);
    }
    let mut per_visitor: Vec<(u64, Attempt)> = Vec::new();
    for ((visitor, _), unit) in &units {
        for a in attempts(unit, steps, order, window) {
            per_visitor.push((*visitor, a));
        }
    }
    let segments: BTreeSet<&'static str> = per_visitor.iter().map(|(_, a)| a.segment).collect();
    let mut out = BTreeMap::new();
    let keys: Vec<Option<&'static str>> = std::iter::once(None)
        .chain(segments.into_iter().map(Some))
        .collect();
    for key in keys {
        // Each visitor's best attempt: highest level, then earliest start.
        let mut best: BTreeMap<u64, &Attempt> = BTreeMap::new();
        for (v, a) in per_visitor
            .iter()
            .filter(|(_, a)| key.is_none_or(|k| a.segment == k))
        {
            let better = match best.get(v) {
                None => true,
                Some(b) => a.level > b.level || (a.level == b.level && a.t1 < b.t1),
            };
            if better {
                best.insert(*v, a);
            }
        }
        let counts = (0..steps.len())
            .map(|k| {
                let reached: Vec<&&Attempt> = best.values().filter(|a| a.level > k).collect();
                let mut times: Vec<i64> = if k == 0 || order == StepOrder::Any {
                    Vec::new()
                } else {
                    reached
                        .iter()
                        .map(|a| a.times[k] - a.times[k - 1])
                        .collect()
                };
                times.sort_unstable();
                StepCount {
                    visitors: reached.len() as u64,
                    median_ms: nearest_rank(&times, 0.5),
                    p75_ms: nearest_rank(&times, 0.75),
                }
            })
            .collect();
        out.insert(key, counts);
    }
    out
}

// ---- the property -------------------------------------------------------------------------

fn stored(evs: &[Ev]) -> DuckStore {
    let store = DuckStore::in_memory().expect("store");
    store
        .add_site(&Site::new(SITE, "UTC").expect("site"))
        .expect("add site");
    let rows: Vec<Event> = evs
        .iter()
        .map(|e| Event {
            site_id: SITE.into(),
            timestamp_ms: T0 + e.t,
            visitor_id: e.visitor,
            session_id: e.session,
            name: NAMES[e.name].into(),
            pathname: "/".into(),
            channel: e.channel.into(),
            interactive: true,
            ..Event::default()
        })
        .collect();
    store.append(&rows).expect("append");
    store
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn store_funnels_match_the_reference(
        evs in events(),
        steps in prop::collection::vec(0usize..4, 2..5),
        order in order(),
        window in window(),
    ) {
        let store = stored(&evs);
        let q = FunnelQuery {
            site: SITE.into(),
            bounds: TimeBounds::ALL,
            filter: None,
            goals: Vec::new(),
            steps: steps.iter().map(|&s| waymark_core::Trigger::event(NAMES[s])).collect(),
            window,
            order,
            breakdown: Some(Field::Visit(VisitField::Channel)),
        };
        let got = store.funnel(&q).expect("funnel");
        let want = reference(&evs, &steps, order, window);
        let empty = vec![StepCount::default(); steps.len()];
        prop_assert_eq!(&got.overall.steps, want.get(&None).unwrap_or(&empty), "overall");
        let got_segments: BTreeMap<&str, &Vec<StepCount>> =
            got.segments.iter().map(|r| (r.segment.as_str(), &r.steps)).collect();
        let want_segments: BTreeMap<&str, &Vec<StepCount>> =
            want.iter().filter_map(|(k, v)| k.map(|k| (k, v))).collect();
        prop_assert_eq!(got_segments, want_segments, "segments");
    }
}
