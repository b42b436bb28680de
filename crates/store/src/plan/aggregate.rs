//! The aggregate query (Stats API v2, the dashboard, `waymark stats`): metrics per dimension
//! values, filtered, ordered and paged.
//!
//! Shape. A *visit-level* query (dimensions and conditions on visit fields or time only) counts
//! visits: visitors, visits, bounce rate, duration and views per visit over the visits active in
//! the range (`vs`), which the store keeps pre-computed. An *event-level* query counts events
//! in the range (`ev`, joined to their visit when visit fields are read): visitors, visits,
//! pageviews, events and revenue per event dimension, the visit metrics over the visits that
//! include a counted event. Pageviews and events always count events in the range.
//! Relations: `e` (the counted non-engagement events; `eg` with one row per event and goal for an
//! `event:goal` dimension) → `ea` (event metrics); `sel` (the counted visits) → `sa` (visit
//! metrics); `en` → `sda`/`tpa` (scroll depth, time on page); `et` and `ec` (the totals behind
//! `percentage` and the conversion rates); all joined by dimension values onto `keys`.
//!
//! Plausible's rules kept here: `event:hostname` with a visit dimension reads the host the visit
//! landed on; bounce rate under an `event:page` filter counts the visits that entered on it;
//! conversion-rate denominators leave out the top-level goal and property filters.

use waymark_core::query::{
    AggregateQuery, AggregateResult, AggregateRow, EventField, Field, Filter, Goal, Metric,
    OrderKey, VisitField,
};

use super::expr::{Agg, Expr, Func, Ident, Ty};
use super::filter::{compile, labelled, on_visit, visit_props, FilterCx};
use super::rel::{From, JoinKind, Query, Rel, Select, Table};
use super::scope::{visit_alias, Scope, VISIT_FACTS};
use super::time::LocalTime;
use super::trigger::{matches, prop_value};
use super::visits::prop_column;
use super::{Engine, VisitSource};
use crate::StoreError;

/// The event columns `ev` carries.
const EVENT_COLUMNS: [&str; 12] = [
    "visitor_id",
    "session_id",
    "name",
    "pathname",
    "hostname",
    "timestamp",
    "prop_keys",
    "prop_values",
    "revenue_amount",
    "revenue_currency",
    "engagement_ms",
    "scroll_depth",
];

/// The visit properties the query reads (they decide the visit source, see `strategy`).
pub fn props_of(q: &AggregateQuery) -> Vec<String> {
    visit_props(q.filter.as_ref(), &q.dimensions)
}

/// Answers `q` over `source`.
pub fn answer(
    engine: &dyn Engine,
    q: &AggregateQuery,
    source: VisitSource,
) -> Result<AggregateResult, StoreError> {
    let scope = Scope {
        site: q.site.clone(),
        bounds: q.bounds,
        source,
    };
    let local = if q.dimensions.iter().any(|d| matches!(d, Field::Time(_))) {
        match span(engine, &scope)? {
            Some(s) => Some(LocalTime::new(q.timezone, q.bounds, s)),
            None => return Ok(AggregateResult::default()),
        }
    } else {
        None
    };
    let windows = engine.caps().window_functions;
    let (plan, types) = plan(q, &scope, local.as_ref(), windows)?;
    let rows = engine.rows(&plan, &types)?;
    let (nd, nm) = (q.dimensions.len(), q.metrics.len());
    let mut out = AggregateResult::default();
    for r in rows {
        let mut cells = r.into_iter();
        let dimensions = (&mut cells).take(nd).map(super::Cell::text).collect();
        let metrics = (&mut cells)
            .take(nm)
            .map(|c| c.float().unwrap_or(f64::NAN))
            .collect();
        let currency = cells.next().map(super::Cell::text).unwrap_or_default();
        if let Some(t) = cells.next() {
            out.total_rows = t.int() as u64;
        }
        out.rows.push(AggregateRow {
            dimensions,
            metrics,
            currency,
        });
    }
    if !windows || (out.rows.is_empty() && q.offset > 0) {
        out.total_rows = count_rows(engine, q, &scope, local.as_ref())?;
    }
    Ok(out)
}

/// The first and last millisecond of the range's events (`None` without any).
fn span(engine: &dyn Engine, scope: &Scope) -> Result<Option<(i64, i64)>, StoreError> {
    let ts = Expr::f(Func::Millis, vec![Expr::col("timestamp")]);
    let s = Select::from(From::table(Table::Events, "e"))
        .col(Expr::agg(Agg::Min, vec![ts.clone()]), Ident::of("lo"))
        .col(Expr::agg(Agg::Max, vec![ts]), Ident::of("hi"))
        .filter(
            Expr::col("site_id")
                .eq(Expr::text(scope.site.clone()))
                .and(scope.in_range()),
        );
    let rows = engine.rows(&Query::new(s.rel()), &[Ty::Int, Ty::Int])?;
    Ok(rows.first().and_then(|r| match (&r[0], &r[1]) {
        (super::Cell::Int(a), super::Cell::Int(b)) => Some((*a, *b)),
        _ => None,
    }))
}

/// The rows over all pages, where the backend cannot count them in the same query.
fn count_rows(
    engine: &dyn Engine,
    q: &AggregateQuery,
    scope: &Scope,
    local: Option<&LocalTime>,
) -> Result<u64, StoreError> {
    let mut all = q.clone();
    all.offset = 0;
    all.limit = usize::MAX / 2;
    all.order_by.clear();
    let (mut plan, _) = plan(&all, scope, local, false)?;
    let inner = std::mem::replace(&mut plan.body, Select::from(From::Nothing).rel());
    plan.body = Select::from(From::Sub(Box::new(inner), Ident::of("r")))
        .col(Expr::count(), Ident::of("n"))
        .rel();
    let rows = engine.rows(&plan, &[Ty::Int])?;
    Ok(rows.first().map_or(0, |r| r[0].int()) as u64)
}

/// How the query counts.
struct Shape<'q> {
    q: &'q AggregateQuery,
    props: Vec<String>,
    /// Counted over visits rather than events.
    visit_level: bool,
    /// `ev` joined to `vs`.
    joined: bool,
    /// Goals a `event:goal` dimension lists.
    dim_goals: Vec<&'q Goal>,
    host_as_entry: bool,
}

impl Shape<'_> {
    fn has(&self, m: Metric) -> bool {
        self.q.metrics.contains(&m)
    }

    fn cx(&self, events: Option<&'static str>) -> FilterCx<'_> {
        FilterCx {
            goals: &self.q.goals,
            props: &self.props,
            host_as_entry: self.host_as_entry,
            page_as_entry: false,
            events,
        }
    }
}

/// The goals an `event:goal` dimension lists: all, narrowed by the top-level goal filters (so
/// `["is", "event:goal", ["Signup"]]` shows the Signup row only, as in Plausible).
fn dimension_goals(q: &AggregateQuery) -> Vec<&Goal> {
    let mut scope: Vec<&Goal> = q.goals.iter().collect();
    for f in q.filter.iter().flat_map(Filter::top_level) {
        if let Filter::Compare(c) = f {
            if c.field == Field::Goal {
                let named = Goal::named(c, &q.goals);
                let negated = c.op.is_negated();
                scope.retain(|g| named.iter().any(|n| n.name == g.name) != negated);
            }
        }
    }
    scope
}

fn shape(q: &AggregateQuery) -> Shape<'_> {
    let props = props_of(q);
    let visit_dims = q
        .dimensions
        .iter()
        .any(|d| matches!(d, Field::Visit(_) | Field::VisitProp(_)));
    let mut s = Shape {
        q,
        props,
        visit_level: false,
        joined: false,
        dim_goals: if q.dimensions.contains(&Field::Goal) {
            dimension_goals(q)
        } else {
            Vec::new()
        },
        host_as_entry: visit_dims,
    };
    let cx = FilterCx {
        goals: &q.goals,
        props: &[],
        host_as_entry: visit_dims,
        page_as_entry: false,
        events: None,
    };
    let conditions = q
        .filter
        .iter()
        .flat_map(|f| f.conditions())
        .collect::<Vec<_>>();
    let event_metric = q.metrics.iter().any(|m| {
        m.is_engagement()
            || m.is_revenue()
            || matches!(m, Metric::ConversionRate | Metric::GroupConversionRate)
    });
    s.visit_level = !event_metric
        && q.dimensions
            .iter()
            .all(|d| matches!(d, Field::Visit(_) | Field::VisitProp(_) | Field::Time(_)))
        && conditions.iter().all(|(c, _)| on_visit(c, &cx));
    let visit_scoped = q.filter.as_ref().is_some_and(has_visit_scope);
    s.joined = visit_dims || visit_scoped || conditions.iter().any(|(c, _)| on_visit(c, &cx));
    s
}

fn has_visit_scope(f: &Filter) -> bool {
    match f {
        Filter::Visit(_) => true,
        Filter::And(v) | Filter::Or(v) => v.iter().any(has_visit_scope),
        Filter::Not(f) | Filter::NotInTotals(f) => has_visit_scope(f),
        Filter::Compare(_) => false,
    }
}

/// A dimension's value on an event row (`ej`) or a visit row (`vs`), labelled.
fn dimension(
    d: &Field,
    visit_row: bool,
    s: &Shape<'_>,
    local: Option<&LocalTime>,
) -> Result<Expr, StoreError> {
    let cx = s.cx(None);
    Ok(match d {
        Field::Time(b) => {
            let local = local.ok_or_else(|| {
                StoreError::Invalid("a time dimension needs the range's local time".into())
            })?;
            let ms = if visit_row {
                // A visit counts in the bucket it started in, clamped to the range.
                Expr::f(
                    Func::Greatest,
                    vec![Expr::col("start_ms"), Expr::int(s.q.bounds.from_ms)],
                )
            } else {
                Expr::f(Func::Millis, vec![Expr::col("timestamp")])
            };
            local.label(*b, ms)
        }
        Field::Goal if !visit_row => Expr::col("goal"),
        Field::Prop(k) if !visit_row => labelled(d, prop_value(k)),
        Field::Event(e) if !visit_row => Expr::col(match e {
            EventField::Page => "pathname",
            EventField::Name => "name",
            EventField::Hostname => "hostname",
        }),
        Field::Visit(_) | Field::VisitProp(_) => super::filter::value(d, &cx)?,
        other => {
            return Err(StoreError::Invalid(format!(
                "visit metrics cannot be grouped by {other}"
            )))
        }
    })
}

/// The columns of the joined event rows.
fn ej_columns(s: &Shape<'_>, engaged: bool) -> Vec<Ident> {
    let mut cols: Vec<Ident> = EVENT_COLUMNS.iter().map(|c| Ident::of(c)).collect();
    if engaged {
        cols.extend([Ident::of("page_engaged_ms"), Ident::of("page_scroll")]);
    }
    if s.joined {
        cols.extend(VisitField::ALL.iter().map(|f| Ident::of(visit_alias(*f))));
        cols.extend((0..s.props.len()).map(prop_column));
    }
    cols
}

fn select_all(from: From, cols: &[Ident]) -> Select {
    let mut sel = Select::from(from);
    for c in cols {
        sel = sel.col(Expr::ident(c.clone()), c.clone());
    }
    sel
}

/// Adds an events relation over `ej` of engagement (or other) events passing `filter`.
fn events_rel(
    query: &mut Query,
    name: &'static str,
    engagement: bool,
    filter: Option<&Filter>,
    s: &Shape<'_>,
    cols: &[Ident],
) -> Result<(), StoreError> {
    let kind = if engagement {
        Expr::col("name").eq(Expr::Str("engagement"))
    } else {
        Expr::col("name").ne(Expr::Str("engagement"))
    };
    let cond = match filter {
        Some(f) => compile(f, &s.cx(Some("ej")))?,
        None => Expr::Bool(true),
    };
    query.with_inline(
        name,
        select_all(From::cte("ej", "j"), cols)
            .filter(kind.and(cond))
            .rel(),
    );
    Ok(())
}

/// Dimension output columns `d0..` of a grouped select, grouped by their names (parameters
/// in the expressions would make a repeated expression a different one).
fn grouped(mut sel: Select, dims: &[(usize, Expr)]) -> Select {
    for (i, e) in dims {
        let name = Ident::numbered("d", *i);
        sel = sel.col(e.clone(), name.clone()).group(Expr::ident(name));
    }
    sel
}

/// Builds the plan and its column types.
pub fn plan(
    q: &AggregateQuery,
    scope: &Scope,
    local: Option<&LocalTime>,
    windows: bool,
) -> Result<(Query, Vec<Ty>), StoreError> {
    let s = shape(q);
    let goal_dim = !s.dim_goals.is_empty() || q.dimensions.contains(&Field::Goal);
    let filtered_goals: Vec<&Goal> = q
        .filter
        .iter()
        .flat_map(|f| f.conditions())
        .filter(|(c, _)| c.field == Field::Goal)
        .flat_map(|(c, _)| Goal::named(c, &q.goals))
        .collect();
    let engaged = s
        .dim_goals
        .iter()
        .chain(filtered_goals.iter())
        .any(|g| g.trigger.needs_engagement());
    let has = |m| s.has(m);
    let need_cr = has(Metric::ConversionRate) || has(Metric::GroupConversionRate);
    let need_engagement = !goal_dim && q.metrics.iter().any(|m| m.is_engagement());
    let visit_metrics = q.metrics.iter().any(|m| m.is_session())
        || (s.visit_level
            && q.metrics
                .iter()
                .any(|m| matches!(m, Metric::Visitors | Metric::Visits | Metric::Percentage)));
    let event_metrics = q.metrics.iter().any(|m| {
        let from_visits = m.is_session()
            || (s.visit_level
                && matches!(m, Metric::Visitors | Metric::Visits | Metric::Percentage));
        !(from_visits || m.is_engagement())
    });

    let mut query = Query::new(Select::from(From::Nothing).rel());
    scope.events(&mut query, &EVENT_COLUMNS, engaged, true);
    let need_vs = s.joined || visit_metrics;
    if need_vs {
        scope.visits(&mut query, &s.props);
    }
    let cols = ej_columns(&s, engaged);
    // `ej`: the events, with their visit's fields when read.
    if s.joined {
        let mut sel = Select::from(From::cte("ev", "e"));
        for c in EVENT_COLUMNS {
            sel = sel.col(Expr::of("e", c), Ident::of(c));
        }
        if engaged {
            for c in ["page_engaged_ms", "page_scroll"] {
                sel = sel.col(Expr::of("e", c), Ident::of(c));
            }
        }
        for f in VisitField::ALL {
            sel = sel.col(Expr::of("v", visit_alias(f)), Ident::of(visit_alias(f)));
        }
        for i in 0..s.props.len() {
            sel = sel.col(
                Expr::Col(Some(Ident::of("v")), prop_column(i)),
                prop_column(i),
            );
        }
        sel = sel.join(
            JoinKind::Inner,
            From::cte("vs", "v"),
            Expr::of("v", "session_id").eq(Expr::of("e", "session_id")),
        );
        query.with_inline("ej", sel.rel());
    } else {
        query.with_inline("ej", select_all(From::cte("ev", "e"), &cols).rel());
    }

    // Totals leave out the comparison's row restriction; conversion-rate totals also leave
    // out the top-level goal and property filters (Plausible's denominators).
    let totals_filter = q
        .filter
        .as_ref()
        .and_then(|f| f.without_top_level(|p| matches!(p, Filter::NotInTotals(_))));
    let cr_filter = totals_filter
        .as_ref()
        .and_then(|f| f.without_top_level(Filter::is_goal_or_prop_compare));

    let nd = q.dimensions.len();
    let all_dims: Vec<usize> = (0..nd).collect();
    let event_dims = |only: &[usize]| -> Result<Vec<(usize, Expr)>, StoreError> {
        only.iter()
            .map(|&i| Ok((i, dimension(&q.dimensions[i], false, &s, local)?)))
            .collect()
    };
    let visit_dims = |only: &[usize]| -> Result<Vec<(usize, Expr)>, StoreError> {
        only.iter()
            .map(|&i| Ok((i, dimension(&q.dimensions[i], true, &s, local)?)))
            .collect()
    };

    // Relations contributing rows, with the metric columns each provides.
    let mut parts: Vec<&'static str> = Vec::new();

    if event_metrics || !s.visit_level {
        events_rel(&mut query, "e", false, q.filter.as_ref(), &s, &cols)?;
        let from = if goal_dim {
            let mut goal_cols = cols.clone();
            goal_cols.push(Ident::of("goal"));
            let per_goal: Vec<Rel> = s
                .dim_goals
                .iter()
                .map(|g| {
                    select_all(From::cte("e", "x"), &cols)
                        .col(Expr::text(g.name.clone()), Ident::of("goal"))
                        .filter(matches(&g.trigger))
                        .rel()
                })
                .collect();
            let rel = if per_goal.is_empty() {
                select_all(From::cte("e", "x"), &cols)
                    .col(Expr::Null(Ty::Text), Ident::of("goal"))
                    .filter(Expr::Bool(false))
                    .rel()
            } else {
                Rel::UnionAll(per_goal)
            };
            query.with("eg", rel);
            From::cte("eg", "x")
        } else {
            From::cte("e", "x")
        };
        let mut ea = grouped(Select::from(from), &event_dims(&all_dims)?)
            .col(Expr::count(), Ident::of("events"));
        // At visit level, visitors and visits are the visits' own (`sa`).
        if !s.visit_level
            && [
                Metric::Visitors,
                Metric::Percentage,
                Metric::ConversionRate,
                Metric::GroupConversionRate,
            ]
            .into_iter()
            .any(has)
        {
            ea = ea.col(
                Expr::agg(Agg::CountDistinct, vec![Expr::col("visitor_id")]),
                Ident::of("visitors"),
            );
        }
        if has(Metric::Visits) && !s.visit_level {
            ea = ea.col(
                Expr::agg(Agg::CountDistinct, vec![Expr::col("session_id")]),
                Ident::of("visits"),
            );
        }
        if has(Metric::Pageviews) {
            ea = ea.col(
                Expr::count_if(Expr::col("name").eq(Expr::Str("pageview"))),
                Ident::of("pageviews"),
            );
        }
        if has(Metric::TotalRevenue) {
            ea = ea.col(
                Expr::agg(Agg::Sum, vec![Expr::col("revenue_amount")]),
                Ident::of("rev_sum"),
            );
        }
        if has(Metric::AverageRevenue) {
            ea = ea.col(
                Expr::agg(Agg::Avg, vec![Expr::col("revenue_amount")]),
                Ident::of("rev_avg"),
            );
        }
        if q.metrics.iter().any(|m| m.is_revenue()) {
            ea = ea.col(
                Expr::agg_if(
                    Agg::JoinDistinct,
                    vec![Expr::col("revenue_currency")],
                    Expr::col("revenue_amount")
                        .is_not_null()
                        .and(Expr::col("revenue_currency").ne(Expr::Str(""))),
                ),
                Ident::of("rev_cur"),
            );
        }
        query.with("ea", ea.rel());
        parts.push("ea");
    }

    if visit_metrics {
        // The counted visits: by their fields at visit level; else those with a counted event.
        let sel_filter = if s.visit_level {
            match q.filter.as_ref() {
                Some(f) => compile(f, &s.cx(None))?,
                None => Expr::Bool(true),
            }
        } else {
            Expr::col("session_id")
                .in_rel(Select::from(From::cte("e", "c")).pass("session_id").rel())
        };
        let visit_cols = visit_columns(&s);
        query.with(
            "sel",
            select_all(From::cte("vs", "v"), &visit_cols)
                .filter(sel_filter)
                .rel(),
        );
        let mut sa = grouped(Select::from(From::cte("sel", "x")), &visit_dims(&all_dims)?)
            .col(Expr::count(), Ident::of("s_visits"))
            .col(
                Expr::agg(Agg::CountDistinct, vec![Expr::col("visitor_id")]),
                Ident::of("s_visitors"),
            )
            .col(
                Expr::agg(Agg::Sum, vec![Expr::col("pageviews")]),
                Ident::of("s_pageviews"),
            )
            .col(
                Expr::agg(Agg::Avg, vec![Expr::col("duration_ms")]).over(Expr::Int(1000)),
                Ident::of("s_duration"),
            );
        // Bounce rate under a page filter: the visits that entered on the page.
        let page_rule = !s.visit_level
            && q.filter.as_ref().is_some_and(|f| {
                let cx = FilterCx {
                    page_as_entry: true,
                    ..s.cx(None)
                };
                f.mentions(&Field::Event(EventField::Page)) && super::filter::visit_only(f, &cx)
            });
        if !page_rule {
            sa = sa.col(bounce(), Ident::of("s_bounce"));
        }
        query.with("sa", sa.rel());
        parts.push("sa");
        if page_rule && has(Metric::BounceRate) {
            let cx = FilterCx {
                page_as_entry: true,
                ..s.cx(None)
            };
            let f = q.filter.as_ref().map(|f| compile(f, &cx)).transpose()?;
            let sb = grouped(
                Select::from(From::cte("vs", "v")).filter(f.unwrap_or(Expr::Bool(true))),
                &visit_dims(&all_dims)?,
            )
            .col(bounce(), Ident::of("s_bounce"));
            query.with("sb", sb.rel());
            parts.push("sb");
        }
    }

    // Totals.
    if has(Metric::Percentage) {
        let total = if s.visit_level {
            let f = match totals_filter.as_ref() {
                Some(f) => compile(f, &s.cx(None))?,
                None => Expr::Bool(true),
            };
            Select::from(From::cte("vs", "v"))
                .col(
                    Expr::agg(Agg::CountDistinct, vec![Expr::col("visitor_id")]),
                    Ident::of("n"),
                )
                .filter(f)
        } else {
            events_rel(&mut query, "et", false, totals_filter.as_ref(), &s, &cols)?;
            Select::from(From::cte("et", "t")).col(
                Expr::agg(Agg::CountDistinct, vec![Expr::col("visitor_id")]),
                Ident::of("n"),
            )
        };
        query.with("tot", total.rel());
    }
    if need_cr {
        events_rel(&mut query, "ec", false, cr_filter.as_ref(), &s, &cols)?;
        query.with(
            "crt",
            Select::from(From::cte("ec", "t"))
                .col(
                    Expr::agg(Agg::CountDistinct, vec![Expr::col("visitor_id")]),
                    Ident::of("n"),
                )
                .rel(),
        );
    }
    let groups: Vec<usize> = (0..nd)
        .filter(|&i| q.dimensions[i] != Field::Goal)
        .collect();
    if has(Metric::GroupConversionRate) {
        let gct = grouped(Select::from(From::cte("ec", "x")), &event_dims(&groups)?).col(
            Expr::agg(Agg::CountDistinct, vec![Expr::col("visitor_id")]),
            Ident::of("v"),
        );
        query.with("gct", gct.rel());
    }
    if need_engagement {
        events_rel(&mut query, "en", true, q.filter.as_ref(), &s, &cols)?;
        // Scroll depth: each visitor's deepest scroll (per row), averaged.
        let sd1 = grouped(Select::from(From::cte("en", "x")), &event_dims(&all_dims)?)
            .pass("visitor_id")
            .col(
                Expr::agg(Agg::Max, vec![Expr::col("scroll_depth")]),
                Ident::of("deepest"),
            )
            .group(Expr::col("visitor_id"))
            .filter(
                Expr::col("scroll_depth")
                    .is_not_null()
                    .and(Expr::col("scroll_depth").le(Expr::Int(100))),
            );
        query.with("sd1", sd1.rel());
        let outer: Vec<(usize, Expr)> = all_dims
            .iter()
            .map(|&i| (i, Expr::ident(Ident::numbered("d", i))))
            .collect();
        query.with(
            "sda",
            grouped(Select::from(From::cte("sd1", "x")), &outer)
                .col(
                    Expr::agg(Agg::Avg, vec![Expr::col("deepest")]).round(0),
                    Ident::of("scroll"),
                )
                .rel(),
        );
        // Time on page: engaged time over the visits that sent engagement for the page.
        query.with(
            "tpa",
            grouped(Select::from(From::cte("en", "x")), &event_dims(&all_dims)?)
                .col(
                    Expr::agg(Agg::Sum, vec![Expr::col("engagement_ms")])
                        .over(Expr::agg(Agg::CountDistinct, vec![Expr::col("session_id")]))
                        .over(Expr::Int(1000))
                        .round(0),
                    Ident::of("top"),
                )
                .filter(Expr::col("engagement_ms").is_not_null())
                .rel(),
        );
    }

    // `keys`: every row's dimension values, then each part joined on them; a single part is
    // its own key (no join, and DuckDB need not compute it twice).
    let d = |i: usize| Ident::numbered("d", i);
    let single = parts.len() == 1;
    let key_rel: &'static str = if single { parts[0] } else { "k" };
    if !single {
        let keys = if nd == 0 {
            Select::from(From::Nothing).col(Expr::Int(1), Ident::of("one"))
        } else {
            let unions: Vec<Rel> = parts
                .iter()
                .map(|p| {
                    let mut sel = Select::from(From::Cte(Ident::of(p), Ident::of("p")));
                    for i in 0..nd {
                        sel = sel.col(Expr::ident(d(i)), d(i));
                    }
                    sel.rel()
                })
                .collect();
            let from = From::Sub(Box::new(Rel::UnionAll(unions)), Ident::of("u"));
            let mut k = Select::from(from);
            for i in 0..nd {
                k = k.col(Expr::ident(d(i)), d(i));
            }
            k.distinct = true;
            k
        };
        query.with("keys", keys.rel());
    }
    let on = |rel: &'static str, only: &[usize]| {
        Expr::all(
            only.iter()
                .map(|&i| {
                    Expr::Col(Some(Ident::of(rel)), d(i))
                        .eq(Expr::Col(Some(Ident::of(key_rel)), d(i)))
                })
                .collect(),
        )
    };
    let mut body = if single {
        Select::from(From::Cte(Ident::of(key_rel), Ident::of(key_rel)))
    } else {
        let mut b = Select::from(From::cte("keys", "k"));
        for p in &parts {
            b = b.join(
                JoinKind::Left,
                From::Cte(Ident::of(p), Ident::of(p)),
                on(p, &all_dims),
            );
        }
        b
    };
    if need_engagement {
        body = body
            .join(
                JoinKind::Left,
                From::cte("sda", "sda"),
                on("sda", &all_dims),
            )
            .join(
                JoinKind::Left,
                From::cte("tpa", "tpa"),
                on("tpa", &all_dims),
            );
    }
    if has(Metric::GroupConversionRate) {
        body = body.join(JoinKind::Left, From::cte("gct", "gct"), on("gct", &groups));
    }
    for i in 0..nd {
        body = body.col(
            Expr::Col(Some(Ident::of(key_rel)), d(i)).coalesce(Expr::Str("")),
            d(i),
        );
    }
    let zero = |e: Expr| e.coalesce(Expr::Int(0)).cast(Ty::Float);
    let visitors = if s.visit_level {
        Expr::of("sa", "s_visitors")
    } else {
        Expr::of("ea", "visitors")
    };
    let bounce_rel = if parts.contains(&"sb") { "sb" } else { "sa" };
    for (i, m) in q.metrics.iter().enumerate() {
        let e = match m {
            Metric::Visitors => zero(visitors.clone()),
            Metric::Visits if s.visit_level => zero(Expr::of("sa", "s_visits")),
            Metric::Visits => zero(Expr::of("ea", "visits")),
            Metric::Pageviews => zero(Expr::of("ea", "pageviews")),
            Metric::Events => zero(Expr::of("ea", "events")),
            Metric::ViewsPerVisit => zero(
                Expr::of("sa", "s_pageviews")
                    .cast(Ty::Float)
                    .over(Expr::f(
                        Func::NullIf,
                        vec![Expr::of("sa", "s_visits"), Expr::Int(0)],
                    ))
                    .round(m.decimals()),
            ),
            Metric::BounceRate => {
                zero(Expr::Col(Some(Ident::of(bounce_rel)), Ident::of("s_bounce")).round(0))
            }
            Metric::VisitDuration => zero(Expr::of("sa", "s_duration").round(0)),
            Metric::Percentage => zero(
                ratio(
                    visitors.clone(),
                    Expr::Scalar(Box::new(
                        Select::from(From::cte("tot", "t")).pass("n").rel(),
                    )),
                )
                .round(m.decimals()),
            ),
            Metric::ConversionRate => zero(
                ratio(
                    Expr::of("ea", "visitors"),
                    Expr::Scalar(Box::new(
                        Select::from(From::cte("crt", "t")).pass("n").rel(),
                    )),
                )
                .round(m.decimals()),
            ),
            Metric::GroupConversionRate => {
                zero(ratio(Expr::of("ea", "visitors"), Expr::of("gct", "v")).round(m.decimals()))
            }
            Metric::TotalRevenue => zero(Expr::of("ea", "rev_sum")),
            Metric::AverageRevenue => zero(Expr::of("ea", "rev_avg")),
            Metric::ScrollDepth if need_engagement => Expr::of("sda", "scroll").cast(Ty::Float),
            Metric::TimeOnPage if need_engagement => Expr::of("tpa", "top").cast(Ty::Float),
            Metric::ScrollDepth | Metric::TimeOnPage => Expr::Null(Ty::Float),
        };
        body = body.col(e, Ident::numbered("m", i));
    }
    body = body.col(
        if q.metrics.iter().any(|m| m.is_revenue()) {
            Expr::of("ea", "rev_cur").coalesce(Expr::Str(""))
        } else {
            Expr::Str("")
        },
        Ident::of("currency"),
    );
    let mut types: Vec<Ty> = vec![Ty::Text; nd];
    types.extend(std::iter::repeat_n(Ty::Float, q.metrics.len()));
    types.push(Ty::Text);
    if windows {
        body = body.col(Expr::TotalRows, Ident::of("total_rows"));
        types.push(Ty::Int);
    }
    // Order: as asked, else time ascending then the first metric descending; dimension values
    // ascending break ties.
    let mut order: Vec<(Expr, bool)> = Vec::new();
    for (key, desc) in &q.order_by {
        let col = match key {
            OrderKey::Metric(m) => match q.metrics.iter().position(|x| x == m) {
                Some(i) => Ident::numbered("m", i),
                None => continue,
            },
            OrderKey::Dimension(i) => d(*i),
        };
        order.push((Expr::ident(col), *desc));
    }
    if q.order_by.is_empty() {
        for (i, dim) in q.dimensions.iter().enumerate() {
            if matches!(dim, Field::Time(_)) {
                order.push((Expr::ident(d(i)), false));
            }
        }
        if !q.metrics.is_empty() {
            order.push((Expr::ident(Ident::numbered("m", 0)), true));
        }
    }
    for i in 0..nd {
        order.push((Expr::ident(d(i)), false));
    }
    body.order_by = order;
    body.limit = Some(Expr::int(q.limit.min(i64::MAX as usize) as i64));
    body.offset = Some(Expr::int(q.offset.min(i64::MAX as usize) as i64));
    query.body = body.rel();
    Ok((query, types))
}

/// `100 × part / whole`, `NULL` for a zero whole.
fn ratio(part: Expr, whole: Expr) -> Expr {
    Expr::Int(100)
        .cast(Ty::Float)
        .times(part)
        .over(Expr::f(Func::NullIf, vec![whole, Expr::Int(0)]))
}

/// A visit bounces with at most one interactive non-engagement event.
fn bounce() -> Expr {
    Expr::agg(
        Agg::Avg,
        vec![Expr::when(
            Expr::col("interactions").le(Expr::Int(1)),
            Expr::Int(100).cast(Ty::Float),
            Expr::Int(0).cast(Ty::Float),
        )],
    )
}

/// The columns of `vs` a visit selection carries.
fn visit_columns(s: &Shape<'_>) -> Vec<Ident> {
    let mut cols: Vec<Ident> = VISIT_FACTS.iter().map(|c| Ident::of(c)).collect();
    cols.extend(VisitField::ALL.iter().map(|f| Ident::of(visit_alias(*f))));
    cols.extend((0..s.props.len()).map(prop_column));
    cols
}
