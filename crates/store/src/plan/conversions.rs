//! Conversion counts: one pass over the site's events in the range (in the visits the filter
//! keeps), each trigger evaluated once per event into a flag of a narrow relation, then per
//! trigger its unique visitors, events, revenue and currencies.

use waymark_core::query::VisitField;
use waymark_core::{ConversionCounts, ConversionQuery, TriggerCount};

use super::expr::{Agg, Expr, Ident, Ty};
use super::filter::{compile, visit_props, FilterCx};
use super::rel::{From, Query, Select};
use super::scope::Scope;
use super::trigger::matches;
use super::{Cell, Engine, VisitSource};
use crate::StoreError;

/// The event columns conversions always read.
const EVENT_COLUMNS: [&str; 7] = [
    "visitor_id",
    "session_id",
    "timestamp",
    "name",
    "pathname",
    "revenue_amount",
    "revenue_currency",
];

/// `base` plus the columns the triggers and the filter read: properties when a trigger or a
/// condition reads one, the host name when a condition compares it.
pub(crate) fn columns_for(
    base: &[&'static str],
    triggers: &[&waymark_core::Trigger],
    filter: Option<&waymark_core::Filter>,
    goals: &[waymark_core::Goal],
) -> Vec<&'static str> {
    use waymark_core::query::{EventField, Field};
    let mut cols = base.to_vec();
    let mut add = |c: &'static str| {
        if !cols.contains(&c) {
            cols.push(c);
        }
    };
    let conditions = filter.map(|f| f.conditions()).unwrap_or_default();
    let goal_triggers: Vec<&waymark_core::Trigger> = conditions
        .iter()
        .filter(|(c, _)| c.field == Field::Goal)
        .flat_map(|(c, _)| waymark_core::Goal::named(c, goals))
        .map(|g| &g.trigger)
        .collect();
    let props = triggers
        .iter()
        .chain(goal_triggers.iter())
        .any(|t| !t.props.is_empty())
        || conditions
            .iter()
            .any(|(c, _)| matches!(c.field, Field::Prop(_)));
    if props {
        add("prop_keys");
        add("prop_values");
    }
    if conditions
        .iter()
        .any(|(c, _)| c.field == Field::Event(EventField::Hostname))
    {
        add("hostname");
    }
    add("name");
    add("pathname");
    cols
}

/// Adds `ej`: the scope's events (with page engagement when `engaged`), joined to their visit
/// when `filter` or a breakdown reads visit fields, and `fe`: those the filter keeps. Shared by
/// conversions and funnels.
pub(crate) fn filtered_events(
    query: &mut Query,
    scope: &Scope,
    cols: &[&'static str],
    engaged: bool,
    cx: &FilterCx<'_>,
    filter: Option<&waymark_core::Filter>,
    needs_visits: bool,
) -> Result<Vec<Ident>, StoreError> {
    scope.events(query, cols, engaged, false);
    let mut out: Vec<Ident> = cols.iter().map(|c| Ident::of(c)).collect();
    if engaged {
        out.extend([Ident::of("page_engaged_ms"), Ident::of("page_scroll")]);
    }
    let joined = needs_visits
        || filter.is_some_and(|f| {
            f.conditions()
                .into_iter()
                .any(|(c, _)| super::filter::on_visit(c, cx))
        });
    let mut ej = Select::from(From::cte("ev", "e"));
    for c in &out {
        ej = ej.col(Expr::Col(Some(Ident::of("e")), c.clone()), c.clone());
    }
    if joined {
        scope.visits(query, cx.props);
        let mut extra = Vec::new();
        for f in VisitField::ALL {
            let a = Ident::of(super::scope::visit_alias(f));
            ej = ej.col(Expr::Col(Some(Ident::of("v")), a.clone()), a.clone());
            extra.push(a);
        }
        for i in 0..cx.props.len() {
            let p = super::visits::prop_column(i);
            ej = ej.col(Expr::Col(Some(Ident::of("v")), p.clone()), p.clone());
            extra.push(p);
        }
        ej = ej.join(
            super::rel::JoinKind::Inner,
            From::cte("vs", "v"),
            Expr::of("v", "session_id").eq(Expr::of("e", "session_id")),
        );
        out.extend(extra);
    }
    query.with_inline("ej", ej.rel());
    let cond = match filter {
        Some(f) => compile(f, cx)?,
        None => Expr::Bool(true),
    };
    let mut fe = Select::from(From::cte("ej", "j"));
    for c in &out {
        fe = fe.col(Expr::ident(c.clone()), c.clone());
    }
    query.with("fe", fe.filter(cond).rel());
    Ok(out)
}

/// Answers `q` over `source`.
pub fn answer(
    engine: &dyn Engine,
    q: &ConversionQuery,
    source: VisitSource,
) -> Result<ConversionCounts, StoreError> {
    let scope = Scope {
        site: q.site.clone(),
        bounds: q.bounds,
        source,
    };
    let props = visit_props(q.filter.as_ref(), []);
    let cx = FilterCx {
        goals: &q.goals,
        props: &props,
        host_as_entry: false,
        page_as_entry: false,
        events: Some("ej"),
    };
    let filter_goals_engaged = q.filter.as_ref().is_some_and(|f| {
        f.conditions()
            .into_iter()
            .filter(|(c, _)| c.field == waymark_core::Field::Goal)
            .flat_map(|(c, _)| waymark_core::Goal::named(c, &q.goals))
            .any(|g| g.trigger.needs_engagement())
    });
    let engaged = filter_goals_engaged || q.triggers.iter().any(|t| t.needs_engagement());
    let triggers: Vec<&waymark_core::Trigger> = q.triggers.iter().collect();
    let cols = columns_for(&EVENT_COLUMNS, &triggers, q.filter.as_ref(), &q.goals);
    let mut query = Query::new(Select::from(From::Nothing).rel());
    filtered_events(
        &mut query,
        &scope,
        &cols,
        engaged,
        &cx,
        q.filter.as_ref(),
        false,
    )?;
    // Each trigger once per event, into a narrow relation the distinct counts read.
    let mut m = Select::from(From::cte("fe", "e"))
        .pass("visitor_id")
        .pass("revenue_amount")
        .pass("revenue_currency")
        .col(
            Expr::col("name").ne(Expr::Str("engagement")),
            Ident::of("ne"),
        );
    for (i, t) in q.triggers.iter().enumerate() {
        m = m.col(matches(t), Ident::numbered("c", i));
    }
    query.with("m", m.rel());
    // Visitors as the Stats API counts them: engagement events alone do not make a visitor.
    let mut body = Select::from(From::cte("m", "m")).col(
        Expr::agg_if(
            Agg::CountDistinct,
            vec![Expr::col("visitor_id")],
            Expr::col("ne"),
        )
        .cast(Ty::Int),
        Ident::of("visitors"),
    );
    let mut types = vec![Ty::Int];
    for i in 0..q.triggers.len() {
        let c = || Expr::ident(Ident::numbered("c", i));
        let revenue = || Expr::col("revenue_amount");
        body = body
            .col(
                Expr::agg_if(Agg::CountDistinct, vec![Expr::col("visitor_id")], c()).cast(Ty::Int),
                Ident::numbered("v", i),
            )
            .col(Expr::count_if(c()).cast(Ty::Int), Ident::numbered("n", i))
            .col(
                Expr::agg_if(Agg::Sum, vec![revenue()], c())
                    .coalesce(Expr::Int(0))
                    .cast(Ty::Float),
                Ident::numbered("r", i),
            )
            .col(
                Expr::agg_if(Agg::Count, vec![revenue()], c()).cast(Ty::Int),
                Ident::numbered("rn", i),
            )
            .col(
                Expr::agg_if(
                    Agg::JoinDistinct,
                    vec![Expr::col("revenue_currency")],
                    c().and(revenue().is_not_null())
                        .and(Expr::col("revenue_currency").ne(Expr::Str(""))),
                ),
                Ident::numbered("cur", i),
            );
        types.extend([Ty::Int, Ty::Int, Ty::Float, Ty::Int, Ty::Text]);
    }
    query.body = body.rel();
    let rows = engine.rows(&query, &types)?;
    let Some(r) = rows.into_iter().next() else {
        return Ok(ConversionCounts {
            visitors: 0,
            rows: vec![TriggerCount::default(); q.triggers.len()],
        });
    };
    let mut cells = r.into_iter();
    let visitors = cells.next().map_or(0, |c| c.int()) as u64;
    let mut out = Vec::with_capacity(q.triggers.len());
    for _ in 0..q.triggers.len() {
        let mut next = || cells.next().unwrap_or(Cell::Null);
        out.push(TriggerCount {
            visitors: next().int() as u64,
            events: next().int() as u64,
            revenue: next().float().unwrap_or(0.0),
            revenue_events: next().int() as u64,
            currency: next().text(),
        });
    }
    Ok(ConversionCounts {
        visitors,
        rows: out,
    })
}
