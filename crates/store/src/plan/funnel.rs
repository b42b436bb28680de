//! Funnels: the plan selects the events of the kept visits that match at least one step, each
//! with the bit mask of the steps it matches and its visit's segment, narrow and in no order;
//! [`crate::funnel_eval`] applies the semantics of `docs/funnels.md` to them. The backend needs
//! neither window functions nor as-of joins, and every backend answers alike.

use std::collections::HashMap;

use waymark_core::{FunnelCounts, FunnelQuery};

use super::expr::{Expr, Func, Ident, Ty};
use super::filter::{value, visit_props, FilterCx};
use super::rel::{From, Query, Select};
use super::scope::Scope;
use super::trigger::matches;
use super::{Column, Engine, VisitSource};
use crate::funnel_eval::{evaluate, Shape, StepEvent};
use crate::StoreError;

/// The event columns funnels always read.
const EVENT_COLUMNS: [&str; 6] = [
    "visitor_id",
    "session_id",
    "timestamp",
    "seq",
    "name",
    "pathname",
];

/// The visit properties a funnel reads (filters and breakdown).
pub fn props_of(q: &FunnelQuery) -> Vec<String> {
    visit_props(q.filter.as_ref(), q.breakdown.iter())
}

/// Answers `q` over `source`.
pub fn answer(
    engine: &dyn Engine,
    q: &FunnelQuery,
    source: VisitSource,
) -> Result<FunnelCounts, StoreError> {
    let n = q.steps.len();
    if !(2..=waymark_core::funnel::MAX_STEPS).contains(&n) {
        return Err(StoreError::Invalid(format!(
            "a funnel has 2 to {} steps, not {n}",
            waymark_core::funnel::MAX_STEPS
        )));
    }
    if let Some(b) = &q.breakdown {
        if b.is_event() || matches!(b, waymark_core::Field::Time(_)) {
            return Err(StoreError::Invalid(format!(
                "cannot break a funnel down by {b}: use a visit attribute"
            )));
        }
    }
    let scope = Scope {
        site: q.site.clone(),
        bounds: q.bounds,
        source,
    };
    let props = props_of(q);
    let cx = FilterCx {
        goals: &q.goals,
        props: &props,
        host_as_entry: false,
        page_as_entry: false,
        events: Some("ej"),
    };
    let engaged = q.steps.iter().any(|t| t.needs_engagement())
        || q.filter.as_ref().is_some_and(|f| {
            f.conditions()
                .into_iter()
                .filter(|(c, _)| c.field == waymark_core::Field::Goal)
                .flat_map(|(c, _)| waymark_core::Goal::named(c, &q.goals))
                .any(|g| g.trigger.needs_engagement())
        });
    let steps: Vec<&waymark_core::Trigger> = q.steps.iter().collect();
    let cols = super::conversions::columns_for(&EVENT_COLUMNS, &steps, q.filter.as_ref(), &q.goals);
    let mut query = Query::new(Select::from(From::Nothing).rel());
    super::conversions::filtered_events(
        &mut query,
        &scope,
        &cols,
        engaged,
        &cx,
        q.filter.as_ref(),
        q.breakdown.is_some(),
    )?;
    let mask = q
        .steps
        .iter()
        .enumerate()
        .fold(Expr::Int(0), |acc, (i, t)| {
            acc.plus(Expr::when(matches(t), Expr::Int(1 << i), Expr::Int(0)))
        });
    let seg = match &q.breakdown {
        Some(b) => value(b, &cx)?,
        None => Expr::Str(""),
    };
    let m = Select::from(From::cte("fe", "e"))
        .pass("visitor_id")
        .pass("session_id")
        .col(
            Expr::f(Func::Millis, vec![Expr::col("timestamp")]),
            Ident::of("t"),
        )
        .pass("seq")
        .col(seg, Ident::of("seg"))
        .col(mask.cast(Ty::Int), Ident::of("mask"));
    query.with("m", m.rel());
    query.body = Select::from(From::cte("m", "m"))
        .pass("visitor_id")
        .pass("session_id")
        .pass("t")
        .pass("seq")
        .pass("seg")
        .pass("mask")
        .filter(Expr::col("mask").ne(Expr::Int(0)))
        .rel();

    let mut rows: Vec<StepEvent> = Vec::new();
    let mut segments: Vec<String> = Vec::new();
    let mut index: HashMap<String, u32> = HashMap::new();
    let types = [Ty::UInt, Ty::UInt, Ty::Int, Ty::UInt, Ty::Text, Ty::Int];
    engine.batches(&query, &types, &mut |b| {
        let [Column::UInt(v), Column::UInt(s), Column::Int(t), Column::UInt(seq), seg, Column::Int(mask)] =
            b.columns.as_slice()
        else {
            return Err(StoreError::Backend("funnel rows of unexpected types".into()));
        };
        for i in 0..b.len() {
            let name = seg.str(i).unwrap_or("");
            let id = match index.get(name) {
                Some(id) => *id,
                None => {
                    let id = segments.len() as u32;
                    segments.push(name.to_string());
                    index.insert(name.to_string(), id);
                    id
                }
            };
            rows.push(StepEvent {
                visitor: v[i].unwrap_or(0),
                session: s[i].unwrap_or(0),
                t: t[i].unwrap_or(0),
                seq: seq[i].unwrap_or(0),
                seg: id,
                mask: mask[i].unwrap_or(0) as u64,
            });
        }
        Ok(())
    })?;
    // Segment ids in name order, so "the least segment" is the least name (sequence order
    // takes the least of a millisecond's step-1 segments).
    let mut order: Vec<u32> = (0..segments.len() as u32).collect();
    order.sort_by(|a, b| segments[*a as usize].cmp(&segments[*b as usize]));
    let mut rank = vec![0u32; segments.len()];
    for (r, id) in order.iter().enumerate() {
        rank[*id as usize] = r as u32;
    }
    for e in &mut rows {
        e.seg = rank[e.seg as usize];
    }
    let sorted: Vec<String> = order
        .iter()
        .map(|id| segments[*id as usize].clone())
        .collect();
    let shape = Shape {
        steps: n,
        repeats: (0..n)
            .map(|i| i > 0 && q.steps[i] == q.steps[i - 1])
            .collect(),
        window: q.window,
        order: q.order,
    };
    let names: &[String] = if q.breakdown.is_some() { &sorted } else { &[] };
    Ok(evaluate(&shape, rows, names))
}
