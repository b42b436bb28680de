//! The Stats API's aggregate query in DuckDB SQL. Only column names, aliases and fixed SQL
//! chosen by matching on the logical query enter the text; every value (site, bounds, filter
//! values, goal names, time-zone offsets, paging) is a bound parameter.
//!
//! Shape: `base` (the site's events in range) → `s` (one row per visit: its attributes from
//! the first event, start, duration, pageviews, interactions) → `e` (non-engagement events
//! joined to their visit, filtered; with an `event:goal` dimension, one row per event and goal
//! it matches) → `ea` (event metrics per dimension values) and, when a per-visit metric is
//! asked for, `sa` (visit metrics over the visits that have an `e` row, time-bucketed by visit
//! start) → `core`. Engagement metrics come from `en` (the engagement events under the same
//! filters) via `sda` (scroll) and `tpa` (time on page); conversion rates divide by the
//! visitors of `ec` (the events without goal and property filters), per row in `gct`. All are
//! joined to `core` by dimension values, ordered and paged.
//!
//! Goals: `gm` lists, for each goal the query names, the events its conversion's trigger
//! matches, by the shared trigger SQL ([`super::matching`]) over the same site and range.
//! Events are matched back to `gm` on the columns a trigger reads, so nothing else decides
//! what counts as a conversion.
//!
//! Local time: the site zone's UTC offsets over the range are computed in Rust
//! ([`waymark_core::stats::utc_offsets`]) and applied with a `CASE`, so no ICU is needed.

use duckdb::params_from_iter;
use duckdb::types::Value;
use duckdb::Connection;
use waymark_core::query::{
    utc_offsets, AggregateQuery, AggregateResult, AggregateRow, Condition, EventField, Field,
    Filter, Goal, Metric, Op, OrderKey, TimeBucket, VisitField,
};

use super::matching::{condition, scoped_events, Binds, Scope, TRIGGER_COLUMNS};
use crate::StoreError;

fn visit_column(f: VisitField) -> &'static str {
    match f {
        VisitField::Source => "v_source",
        VisitField::Channel => "v_channel",
        VisitField::Referrer => "v_referrer",
        VisitField::UtmSource => "v_utm_source",
        VisitField::UtmMedium => "v_utm_medium",
        VisitField::UtmCampaign => "v_utm_campaign",
        VisitField::UtmContent => "v_utm_content",
        VisitField::UtmTerm => "v_utm_term",
        VisitField::Country => "v_country",
        VisitField::Region => "v_region",
        VisitField::City => "v_city",
        VisitField::Device => "v_device",
        VisitField::Browser => "v_browser",
        VisitField::BrowserVersion => "v_browser_version",
        VisitField::Os => "v_os",
        VisitField::OsVersion => "v_os_version",
        VisitField::EntryPage => "v_entry_page",
        VisitField::ExitPage => "v_exit_page",
        VisitField::EntryPageHostname => "v_entry_page_hostname",
        VisitField::ExitPageHostname => "v_exit_page_hostname",
    }
}

/// The per-visit attribute columns of `s`.
fn visit_columns() -> String {
    let mut cols = Vec::new();
    for f in VisitField::ALL {
        let c = visit_column(f);
        let expr = match f {
            VisitField::EntryPage => {
                "arg_min(pathname, timestamp) FILTER (WHERE name = 'pageview')".to_string()
            }
            VisitField::ExitPage => {
                "arg_max(pathname, timestamp) FILTER (WHERE name = 'pageview')".to_string()
            }
            VisitField::EntryPageHostname => {
                "arg_min(hostname, timestamp) FILTER (WHERE name = 'pageview')".to_string()
            }
            VisitField::ExitPageHostname => {
                "arg_max(hostname, timestamp) FILTER (WHERE name = 'pageview')".to_string()
            }
            VisitField::Referrer => "arg_min(referrer_domain, timestamp)".to_string(),
            other => format!("arg_min({}, timestamp)", other.name()),
        };
        cols.push(format!("coalesce({expr}, '') AS {c}"));
    }
    cols.join(", ")
}

/// The local-time shift: `ts + offset`, offsets bound as parameters.
fn local_time(ts: &str, offsets: &[(i64, i64)], b: &mut Binds) -> String {
    if offsets.len() <= 1 {
        let o = b.push(Value::BigInt(offsets.first().map(|o| o.1).unwrap_or(0)));
        return format!("({ts} + to_milliseconds({o}::BIGINT))");
    }
    let mut case = String::from("CASE");
    for w in offsets.windows(2) {
        let until = b.push(Value::BigInt(w[1].0));
        let off = b.push(Value::BigInt(w[0].1));
        case.push_str(&format!(
            " WHEN {ts} < epoch_ms({until}::BIGINT) THEN {off}::BIGINT"
        ));
    }
    let last = b.push(Value::BigInt(offsets.last().map(|o| o.1).unwrap_or(0)));
    format!("({ts} + to_milliseconds({case} ELSE {last}::BIGINT END))")
}

fn time_label(bucket: TimeBucket, ts: &str, offsets: &[(i64, i64)], b: &mut Binds) -> String {
    let local = local_time(ts, offsets, b);
    match bucket {
        TimeBucket::Hour => format!("strftime(date_trunc('hour', {local}), '%Y-%m-%d %H:00:00')"),
        TimeBucket::Day => format!("strftime({local}, '%Y-%m-%d')"),
        TimeBucket::Week => format!("strftime(date_trunc('week', {local}), '%Y-%m-%d')"),
        TimeBucket::Month => format!("strftime(date_trunc('month', {local}), '%Y-%m-%d')"),
    }
}

/// A dimension's value on an `e`/`en`/`ec` row (`session = false`) or an `s` row
/// (`session = true`), empty values labelled as answers show them ([`Field::label`]).
/// `event:goal` is the `goal` column `e` carries with that dimension.
fn dimension_sql(
    d: &Field,
    session: bool,
    offsets: &[(i64, i64)],
    b: &mut Binds,
) -> Result<String, StoreError> {
    let raw = match d {
        Field::Visit(f) => visit_column(*f).to_string(),
        Field::Event(EventField::Page) => "pathname".to_string(),
        Field::Event(EventField::Name) => "name".to_string(),
        Field::Event(EventField::Hostname) => "hostname".to_string(),
        Field::Goal => "goal".to_string(),
        Field::Prop(key) => {
            let k = b.push(Value::Text(key.clone()));
            format!("coalesce(list_extract(prop_values, list_position(prop_keys, {k})), '')")
        }
        Field::VisitProp(_) => {
            return Err(StoreError::Invalid(format!(
                "{d}: a visit's property is a report dimension; use event:props:KEY here"
            )))
        }
        Field::Time(t) => {
            return Ok(time_label(
                *t,
                if session { "s_start" } else { "timestamp" },
                offsets,
                b,
            ))
        }
    };
    Ok(match d.empty_label() {
        Some(l) => format!("(CASE WHEN {raw} = '' THEN '{l}' ELSE {raw} END)"),
        None => raw,
    })
}

/// Matches an event to `gm` on the columns a trigger reads.
fn match_on(left: &str, right: &str) -> String {
    TRIGGER_COLUMNS
        .iter()
        .map(|c| format!("{left}.{c} = {right}.{c}"))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// What compiling filters needs besides the tree: the site's goals and local offsets.
struct Ctx<'a> {
    offsets: &'a [(i64, i64)],
    /// The site's goals, by which goal comparisons match events.
    goals: &'a [Goal],
}

/// A comparison of a value expression with the comparison's values (OR-ed, then negated for
/// the negated operators), as [`Condition::keeps`] defines it.
fn compare_sql(col: &str, c: &Condition, b: &mut Binds) -> String {
    let col = if c.case_sensitive || matches!(c.op, Op::Matches | Op::MatchesNot) {
        col.to_string()
    } else {
        format!("lower({col})")
    };
    let mut any = Vec::new();
    for v in &c.values {
        any.push(match c.op.positive() {
            Op::Is | Op::Contains => {
                let v = if c.case_sensitive {
                    v.clone()
                } else {
                    v.to_lowercase()
                };
                let p = b.push(Value::Text(v));
                if c.op.positive() == Op::Is {
                    format!("{col} = {p}")
                } else {
                    format!("contains({col}, {p})")
                }
            }
            _ => {
                let p = b.push(Value::Text(c.pattern(v)));
                format!("regexp_matches({col}, {p})")
            }
        });
    }
    let any = if any.is_empty() {
        "false".to_string()
    } else {
        format!("({})", any.join(" OR "))
    };
    if c.op.is_negated() {
        format!("(NOT {any})")
    } else {
        any
    }
}

/// A filter over a `base b JOIN s` row.
fn filter_sql(f: &Filter, cx: &Ctx<'_>, b: &mut Binds) -> Result<String, StoreError> {
    Ok(match f {
        Filter::And(v) if v.is_empty() => "true".into(),
        Filter::Or(v) if v.is_empty() => "false".into(),
        Filter::And(v) => format!(
            "({})",
            v.iter()
                .map(|f| filter_sql(f, cx, b))
                .collect::<Result<Vec<_>, _>>()?
                .join(" AND ")
        ),
        Filter::Or(v) => format!(
            "({})",
            v.iter()
                .map(|f| filter_sql(f, cx, b))
                .collect::<Result<Vec<_>, _>>()?
                .join(" OR ")
        ),
        Filter::Not(f) => format!("(NOT {})", filter_sql(f, cx, b)?),
        Filter::NotInTotals(f) => filter_sql(f, cx, b)?,
        Filter::Visit(inner) => {
            let inner = filter_sql(inner, cx, b)?;
            format!(
                "b.session_id IN (SELECT b.session_id FROM base b JOIN s ON s.sid = b.session_id \
                 WHERE b.name <> 'engagement' AND {inner})"
            )
        }
        Filter::Compare(c) if c.field == Field::Goal => {
            // A goal whose trigger reads only the event row is matched by its condition on
            // the row: `gm` holds exactly the rows of the same site and range that satisfy it,
            // and matching back on the trigger columns would be the same test, only far more
            // expensive. Goals with page-engagement conditions go through `gm`.
            let mut parts = Vec::new();
            let mut via_gm = Vec::new();
            for g in Goal::named(c, cx.goals) {
                if g.trigger.needs_engagement() {
                    via_gm.push(b.push(Value::Text(g.name.clone())));
                } else {
                    parts.push(condition(&g.trigger, b));
                }
            }
            if !via_gm.is_empty() {
                parts.push(format!(
                    "EXISTS (SELECT 1 FROM gm g WHERE g.goal IN ({}) AND {})",
                    via_gm.join(", "),
                    match_on("g", "b")
                ));
            }
            let any = if parts.is_empty() {
                "false".to_string()
            } else {
                format!("({})", parts.join(" OR "))
            };
            if c.op.is_negated() {
                format!("(NOT {any})")
            } else {
                any
            }
        }
        Filter::Compare(c) => {
            let col = dimension_sql(&c.field, false, cx.offsets, b)?;
            compare_sql(&col, c, b)
        }
    })
}

/// The goals an `event:goal` dimension lists: all, narrowed by the top-level goal filters
/// (so `["is", "event:goal", ["Signup"]]` shows the Signup row only, as in Plausible).
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

/// `gm`: one row per (event, goal) for the named goals, by the shared trigger SQL.
fn goal_matches(q: &AggregateQuery, goals: &[&Goal], b: &mut Binds) -> String {
    if goals.is_empty() {
        return "gm AS (SELECT NULL::UBIGINT AS visitor_id, NULL::UBIGINT AS session_id,
                 NULL::TIMESTAMP AS timestamp, NULL::VARCHAR AS name, NULL::VARCHAR AS pathname,
                 NULL::VARCHAR[] AS prop_keys, NULL::VARCHAR[] AS prop_values,
                 NULL::VARCHAR AS goal WHERE false)"
            .to_string();
    }
    let scoped = scoped_events(
        &Scope {
            site: &q.site,
            bounds: q.bounds,
            filter: None,
            goals: &[],
            breakdown: None,
            engagement: goals
                .iter()
                .map(|g| &g.trigger)
                .filter(|t| t.needs_engagement())
                .collect(),
            rescan: false,
        },
        b,
    )
    .unwrap_or_default();
    let parts: Vec<String> = goals
        .iter()
        .map(|g| {
            let cond = condition(&g.trigger, b);
            let name = b.push(Value::Text(g.name.clone()));
            format!(
                "SELECT DISTINCT {}, {name}::VARCHAR AS goal FROM ev WHERE {cond}",
                TRIGGER_COLUMNS.join(", ")
            )
        })
        .collect();
    format!("gm AS (WITH {scoped}\n{})", parts.join("\nUNION ALL\n"))
}

/// An events relation: `base b` (joined to its visit when `visits`), engagement events or
/// the others, filtered by `filter`.
fn events_cte(
    name: &str,
    engagement: bool,
    filter: Option<&Filter>,
    visits: bool,
    cx: &Ctx<'_>,
    b: &mut Binds,
) -> Result<String, StoreError> {
    let filter = match filter {
        Some(f) => filter_sql(f, cx, b)?,
        None => "true".to_string(),
    };
    let kind = if engagement { "=" } else { "<>" };
    // Every event's visit is in `s` (both come from `base`), so the join only adds columns;
    // without visit attributes to read it is left out, which spares a join of every event.
    let (cols, from) = if visits {
        (", s.*", " JOIN s ON s.sid = b.session_id")
    } else {
        ("", "")
    };
    Ok(format!(
        "{name} AS (SELECT b.visitor_id, b.session_id, b.name, b.pathname, b.hostname, b.timestamp,
             b.prop_keys, b.prop_values, b.revenue_amount, b.revenue_currency, b.engagement_ms,
             b.scroll_depth{cols}
         FROM base b{from}
         WHERE b.name {kind} 'engagement' AND {filter})"
    ))
}

/// Whether `f` compares a visit attribute (read from `s`), or needs `s` for a visit scope.
fn filter_reads_visits(f: &Filter) -> bool {
    match f {
        Filter::Compare(c) => matches!(c.field, Field::Visit(_)),
        Filter::And(v) | Filter::Or(v) => v.iter().any(filter_reads_visits),
        Filter::Visit(_) => true,
        Filter::Not(f) | Filter::NotInTotals(f) => filter_reads_visits(f),
    }
}

fn data_span(conn: &Connection, q: &AggregateQuery) -> Result<Option<(i64, i64)>, StoreError> {
    let (lo, hi): (Option<i64>, Option<i64>) = conn.query_row(
        "SELECT epoch_ms(min(timestamp)), epoch_ms(max(timestamp)) FROM events
         WHERE site_id = ? AND timestamp >= epoch_ms(?::BIGINT) AND timestamp < epoch_ms(?::BIGINT)",
        duckdb::params![q.site, q.bounds.from_ms, q.bounds.to_ms],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(lo.zip(hi))
}

/// `ON` for joining two relations with dimension aliases `aliases` (`true` without any).
fn join_on(left: &str, right: &str, aliases: &[&String]) -> String {
    if aliases.is_empty() {
        return "true".to_string();
    }
    aliases
        .iter()
        .map(|a| format!("{left}.{a} IS NOT DISTINCT FROM {right}.{a}"))
        .collect::<Vec<_>>()
        .join(" AND ")
}

pub fn aggregate(conn: &Connection, q: &AggregateQuery) -> Result<AggregateResult, StoreError> {
    let has_time = q.dimensions.iter().any(|d| matches!(d, Field::Time(_)));
    let offsets = if has_time {
        match data_span(conn, q)? {
            Some((lo, hi)) => utc_offsets(q.timezone, lo, hi + 1),
            None => return Ok(AggregateResult::default()),
        }
    } else {
        Vec::new()
    };
    let goal_dim = q.dimensions.contains(&Field::Goal);
    let dim_goals = if goal_dim {
        dimension_goals(q)
    } else {
        Vec::new()
    };
    // `gm` holds the dimension's goals and the filtered goals with page-engagement
    // conditions (the others are matched on the row, see `filter_sql`).
    let filtered: Vec<&Goal> = q
        .filter
        .iter()
        .flat_map(Filter::conditions)
        .filter(|(c, _)| c.field == Field::Goal)
        .flat_map(|(c, _)| Goal::named(c, &q.goals))
        .collect();
    let used: Vec<&Goal> = q
        .goals
        .iter()
        .filter(|g| {
            dim_goals.iter().any(|d| d.name == g.name)
                || (g.trigger.needs_engagement() && filtered.iter().any(|f| f.name == g.name))
        })
        .collect();
    let cx = Ctx {
        offsets: &offsets,
        goals: &q.goals,
    };

    let mut b = Binds::default();
    let site = b.push(Value::Text(q.site.clone()));
    let from = b.push(Value::BigInt(q.bounds.from_ms));
    let to = b.push(Value::BigInt(q.bounds.to_ms));
    let has = |m: Metric| q.metrics.contains(&m);
    let need_sessions = q.metrics.iter().any(|m| m.is_session());
    let need_engagement = !goal_dim && q.metrics.iter().any(|m| m.is_engagement());
    let need_cr = has(Metric::ConversionRate) || has(Metric::GroupConversionRate);
    // Whether the event relations read visit attributes (dimensions or filters on `visit:*`).
    let visits = q.dimensions.iter().any(|d| matches!(d, Field::Visit(_)))
        || q.filter.as_ref().is_some_and(filter_reads_visits);
    // Without a filter, `e` is every non-engagement event, so "the visits with an `e` row" are
    // those with a non-engagement event, which `s` counts itself (no semi-join with `e`).
    // (With an `event:goal` dimension `e` holds the goals' events only.)
    let unfiltered = !goal_dim
        && match &q.filter {
            None => true,
            Some(Filter::And(v)) => v.is_empty(),
            Some(_) => false,
        };

    // `base` is read by several relations; DuckDB would materialise it (every column read,
    // lists included, copied and at 10M events spilled past the memory limit), while scanning
    // the site-clustered table again is cheap: zone maps skip all but the site's range.
    let mut ctes = vec![
        format!(
            "base AS NOT MATERIALIZED (SELECT * FROM events WHERE site_id = {site} \
             AND timestamp >= epoch_ms({from}::BIGINT) AND timestamp < epoch_ms({to}::BIGINT))"
        ),
        format!(
            "s AS (SELECT session_id AS sid, {}, min(timestamp) AS s_start,
                 epoch_ms(max(timestamp)) - epoch_ms(min(timestamp)) AS s_duration_ms,
                 count(*) FILTER (WHERE name = 'pageview') AS s_pageviews,
                 count(*) FILTER (WHERE interactive AND name <> 'engagement') AS s_interactions,
                 count(*) FILTER (WHERE name <> 'engagement') AS s_events
             FROM base GROUP BY session_id)",
            visit_columns()
        ),
    ];
    if q.uses_goals() {
        ctes.push(goal_matches(q, &used, &mut b));
    }
    if goal_dim {
        ctes.push(events_cte(
            "e0",
            false,
            q.filter.as_ref(),
            visits,
            &cx,
            &mut b,
        )?);
        let list = if dim_goals.is_empty() {
            "NULL".to_string()
        } else {
            dim_goals
                .iter()
                .map(|g| b.push(Value::Text(g.name.clone())))
                .collect::<Vec<_>>()
                .join(", ")
        };
        ctes.push(format!(
            "e AS (SELECT e0.*, g.goal FROM e0 JOIN gm g ON {} AND g.goal IN ({list}))",
            match_on("g", "e0")
        ));
    } else {
        ctes.push(events_cte(
            "e",
            false,
            q.filter.as_ref(),
            visits,
            &cx,
            &mut b,
        )?);
    }
    if need_engagement {
        ctes.push(events_cte(
            "en",
            true,
            q.filter.as_ref(),
            visits,
            &cx,
            &mut b,
        )?);
    }
    // Totals leave out the comparison's row restriction; conversion-rate totals also leave
    // out the top-level goal and property filters (Plausible's denominators).
    let totals_filter = q
        .filter
        .as_ref()
        .and_then(|f| f.without_top_level(|p| matches!(p, Filter::NotInTotals(_))));
    if has(Metric::Percentage) {
        ctes.push(events_cte(
            "et",
            false,
            totals_filter.as_ref(),
            visits,
            &cx,
            &mut b,
        )?);
    }
    if need_cr {
        let cr_filter = totals_filter
            .as_ref()
            .and_then(|f| f.without_top_level(Filter::is_goal_or_prop_compare));
        ctes.push(events_cte(
            "ec",
            false,
            cr_filter.as_ref(),
            visits,
            &cx,
            &mut b,
        )?);
    }

    let d_alias: Vec<String> = (0..q.dimensions.len()).map(|i| format!("d{i}")).collect();
    let all_aliases: Vec<&String> = d_alias.iter().collect();
    let select_dims = |exprs: &[String], only: &[usize]| -> String {
        exprs
            .iter()
            .zip(&d_alias)
            .enumerate()
            .filter(|(i, _)| only.contains(i))
            .map(|(_, (e, a))| format!("{e} AS {a}, "))
            .collect::<String>()
    };
    let every: Vec<usize> = (0..q.dimensions.len()).collect();
    let group_by = |extra: &[&str], only: &[usize]| -> String {
        let mut cols: Vec<String> = only.iter().map(|&i| d_alias[i].clone()).collect();
        cols.extend(extra.iter().map(|s| s.to_string()));
        if cols.is_empty() {
            String::new()
        } else {
            format!(" GROUP BY {}", cols.join(", "))
        }
    };
    let dims_e: Vec<String> = q
        .dimensions
        .iter()
        .map(|d| dimension_sql(d, false, &offsets, &mut b))
        .collect::<Result<_, _>>()?;
    // Only the event metrics the query reads: DuckDB evaluates each distinct aggregate (and the
    // currencies' `string_agg(DISTINCT …)`) as its own grouping of `e`, asked for or not.
    // `events` is always there (cheap), so `ea` has an aggregate even for visit metrics only.
    let mut agg = vec!["count(*) AS events"];
    if [
        Metric::Visitors,
        Metric::Percentage,
        Metric::ConversionRate,
        Metric::GroupConversionRate,
    ]
    .into_iter()
    .any(has)
    {
        agg.push("count(DISTINCT visitor_id) AS visitors");
    }
    if has(Metric::Visits) {
        agg.push("count(DISTINCT session_id) AS visits");
    }
    if has(Metric::Pageviews) {
        agg.push("count(*) FILTER (WHERE name = 'pageview') AS pageviews");
    }
    if has(Metric::TotalRevenue) {
        agg.push("sum(revenue_amount) AS rev_sum");
    }
    if has(Metric::AverageRevenue) {
        agg.push("avg(revenue_amount) AS rev_avg");
    }
    if q.metrics.iter().any(|m| m.is_revenue()) {
        agg.push(
            "coalesce(string_agg(DISTINCT revenue_currency, '+' ORDER BY revenue_currency)
                 FILTER (WHERE revenue_amount IS NOT NULL AND revenue_currency <> ''), '') AS rev_cur",
        );
    }
    ctes.push(format!(
        "ea AS (SELECT {}{} FROM e{})",
        select_dims(&dims_e, &every),
        agg.join(", "),
        group_by(&[], &every)
    ));
    if need_sessions {
        let dims_s: Vec<String> = q
            .dimensions
            .iter()
            .map(|d| dimension_sql(d, true, &offsets, &mut b))
            .collect::<Result<_, _>>()?;
        ctes.push(format!(
            "sa AS (SELECT {}count(*) AS s_visits, sum(s_pageviews) AS s_pageviews_sum,
                 avg(CASE WHEN s_interactions <= 1 THEN 100.0 ELSE 0.0 END) AS s_bounce,
                 avg(s_duration_ms) / 1000.0 AS s_duration
             FROM s WHERE {}{})",
            select_dims(&dims_s, &every),
            if unfiltered {
                "s_events > 0"
            } else {
                "sid IN (SELECT session_id FROM e)"
            },
            group_by(&[], &every)
        ));
        let dims = if d_alias.is_empty() {
            String::new()
        } else {
            let excl = d_alias.join(", ");
            format!(
                "{}, ea.* EXCLUDE ({excl}), sa.* EXCLUDE ({excl})",
                d_alias
                    .iter()
                    .map(|a| format!("coalesce(ea.{a}, sa.{a}) AS {a}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        ctes.push(if d_alias.is_empty() {
            "core AS (SELECT ea.*, sa.* FROM ea CROSS JOIN sa)".to_string()
        } else {
            format!(
                "core AS (SELECT {dims} FROM ea FULL OUTER JOIN sa ON {})",
                join_on("ea", "sa", &all_aliases)
            )
        });
    } else {
        ctes.push("core AS (SELECT * FROM ea)".to_string());
    }
    let mut joins = String::new();
    if need_engagement {
        let dims_n: Vec<String> = q
            .dimensions
            .iter()
            .map(|d| dimension_sql(d, false, &offsets, &mut b))
            .collect::<Result<_, _>>()?;
        let sel = select_dims(&dims_n, &every);
        // Scroll depth: each visitor's deepest scroll (per row), averaged.
        ctes.push(format!(
            "sd1 AS (SELECT {sel}visitor_id, max(scroll_depth) AS deepest FROM en
             WHERE scroll_depth IS NOT NULL AND scroll_depth <= 100{})",
            group_by(&["visitor_id"], &every)
        ));
        let outer: Vec<String> = d_alias.iter().map(|a| format!("{a}, ")).collect();
        ctes.push(format!(
            "sda AS (SELECT {}round(avg(deepest)) AS scroll FROM sd1{})",
            outer.concat(),
            group_by(&[], &every)
        ));
        // Time on page: engaged time over the visits that sent engagement for the page.
        ctes.push(format!(
            "tpa AS (SELECT {sel}round(sum(engagement_ms) / count(DISTINCT session_id) / 1000.0)
                 AS top FROM en WHERE engagement_ms IS NOT NULL{})",
            group_by(&[], &every)
        ));
        joins.push_str(&format!(
            " LEFT JOIN sda ON {} LEFT JOIN tpa ON {}",
            join_on("core", "sda", &all_aliases),
            join_on("core", "tpa", &all_aliases)
        ));
    }
    if has(Metric::GroupConversionRate) {
        // Per row, over the dimensions that group visitors (a goal is not a group of them).
        let groups: Vec<usize> = q
            .dimensions
            .iter()
            .enumerate()
            .filter(|(_, d)| **d != Field::Goal)
            .map(|(i, _)| i)
            .collect();
        let dims_c: Vec<String> = q
            .dimensions
            .iter()
            .map(|d| dimension_sql(d, false, &offsets, &mut b))
            .collect::<Result<_, _>>()?;
        ctes.push(format!(
            "gct AS (SELECT {}count(DISTINCT visitor_id) AS v FROM ec{})",
            select_dims(&dims_c, &groups),
            group_by(&[], &groups)
        ));
        let aliases: Vec<&String> = groups.iter().map(|&i| &d_alias[i]).collect();
        joins.push_str(&format!(
            " LEFT JOIN gct ON {}",
            join_on("core", "gct", &aliases)
        ));
    }

    let dim_out: Vec<String> = d_alias
        .iter()
        .map(|a| format!("coalesce(core.{a}, '') AS {a}"))
        .collect();
    let metric_out: Vec<String> = q
        .metrics
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let e = match m {
                Metric::Visitors => "coalesce(core.visitors, 0)",
                Metric::Visits => "coalesce(core.visits, 0)",
                Metric::Pageviews => "coalesce(core.pageviews, 0)",
                Metric::Events => "coalesce(core.events, 0)",
                Metric::ViewsPerVisit => {
                    "coalesce(round(core.s_pageviews_sum / nullif(core.s_visits, 0), 2), 0)"
                }
                Metric::BounceRate => "coalesce(round(core.s_bounce), 0)",
                Metric::VisitDuration => "coalesce(round(core.s_duration), 0)",
                Metric::Percentage => "coalesce(round(100.0 * core.visitors / nullif((SELECT count(DISTINCT visitor_id) FROM et), 0), 1), 0)",
                Metric::ConversionRate => "coalesce(round(100.0 * core.visitors / nullif((SELECT count(DISTINCT visitor_id) FROM ec), 0), 2), 0)",
                Metric::GroupConversionRate => "coalesce(round(100.0 * core.visitors / nullif(gct.v, 0), 2), 0)",
                Metric::TotalRevenue => "coalesce(core.rev_sum, 0)",
                Metric::AverageRevenue => "coalesce(core.rev_avg, 0)",
                Metric::ScrollDepth if need_engagement => "sda.scroll",
                Metric::TimeOnPage if need_engagement => "tpa.top",
                Metric::ScrollDepth | Metric::TimeOnPage => "NULL",
            };
            format!("({e})::DOUBLE AS m{i}")
        })
        .collect();

    let mut order: Vec<String> = Vec::new();
    for (key, desc) in &q.order_by {
        let col = match key {
            OrderKey::Metric(m) => match q.metrics.iter().position(|x| x == m) {
                Some(i) => format!("m{i}"),
                None => continue,
            },
            OrderKey::Dimension(i) => format!("d{i}"),
        };
        order.push(format!("{col} {}", if *desc { "DESC" } else { "ASC" }));
    }
    if q.order_by.is_empty() {
        for (i, d) in q.dimensions.iter().enumerate() {
            if matches!(d, Field::Time(_)) {
                order.push(format!("d{i} ASC"));
            }
        }
        if !q.metrics.is_empty() {
            order.push("m0 DESC".to_string());
        }
    }
    for a in &d_alias {
        order.push(format!("{a} ASC"));
    }
    let order = if order.is_empty() {
        String::new()
    } else {
        format!(" ORDER BY {}", order.join(", "))
    };
    let limit = b.push(Value::BigInt(q.limit.min(i64::MAX as usize) as i64));
    let offset = b.push(Value::BigInt(q.offset.min(i64::MAX as usize) as i64));
    let mut cols = dim_out;
    cols.extend(metric_out);
    cols.push(if q.metrics.iter().any(|m| m.is_revenue()) {
        "core.rev_cur AS currency".to_string()
    } else {
        "'' AS currency".to_string()
    });
    cols.push("count(*) OVER () AS total_rows".to_string());
    let sql = format!(
        "WITH {} SELECT {} FROM core{joins}{order} LIMIT {limit} OFFSET {offset}",
        ctes.join(",\n"),
        cols.join(", ")
    );
    tracing::debug!(%sql, params = b.values.len(), "stats aggregate query");

    let nd = q.dimensions.len();
    let nm = q.metrics.len();
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(b.values.iter()))?;
    let mut out = AggregateResult::default();
    while let Some(r) = rows.next()? {
        let mut dimensions = Vec::with_capacity(nd);
        for i in 0..nd {
            dimensions.push(r.get::<_, String>(i)?);
        }
        let mut metrics = Vec::with_capacity(nm);
        for i in 0..nm {
            metrics.push(r.get::<_, Option<f64>>(nd + i)?.unwrap_or(f64::NAN));
        }
        let currency = r.get::<_, Option<String>>(nd + nm)?.unwrap_or_default();
        out.total_rows = r.get::<_, i64>(nd + nm + 1)? as u64;
        out.rows.push(AggregateRow {
            dimensions,
            metrics,
            currency,
        });
    }
    if out.rows.is_empty() && q.offset > 0 {
        // Past the last page: count the rows without paging.
        let mut all = q.clone();
        all.offset = 0;
        all.limit = 1;
        out.total_rows = aggregate(conn, &all)?.total_rows;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use waymark_core::query::*;
    use waymark_core::{Event, Site, TimeBounds};

    use crate::duck::DuckStore;
    use crate::EventStore;

    fn ev(session: u64, ms: i64, name: &str, path: &str, source: &str) -> Event {
        Event {
            site_id: "a.test".into(),
            timestamp_ms: ms,
            visitor_id: session,
            session_id: session,
            name: name.into(),
            pathname: path.into(),
            source: source.into(),
            interactive: true,
            ..Event::default()
        }
    }

    fn query(metrics: &[Metric], dims: &[Field]) -> AggregateQuery {
        AggregateQuery {
            site: "a.test".into(),
            bounds: TimeBounds::ALL,
            timezone: "Europe/Berlin".parse().unwrap(),
            metrics: metrics.to_vec(),
            dimensions: dims.to_vec(),
            filter: None,
            goals: Vec::new(),
            order_by: Vec::new(),
            limit: 100,
            offset: 0,
        }
    }

    #[test]
    fn metrics_dimensions_filters_and_local_days() {
        let s = DuckStore::in_memory().unwrap();
        s.add_site(&Site::new("a.test", "Europe/Berlin").unwrap())
            .unwrap();
        // 2026-01-01 23:30 UTC is 2 January in Berlin.
        let t = 1_767_310_200_000;
        s.append(&[
            ev(1, t, "pageview", "/", "Google"),
            ev(1, t + 60_000, "pageview", "/pricing", "Google"),
            ev(2, t + 1000, "pageview", "/", ""),
            ev(3, t - 3_600_000, "pageview", "/pricing", "Google"),
            ev(3, t - 3_500_000, "Signup", "/pricing", "Google"),
        ])
        .unwrap();
        use Metric::*;
        let all = [
            Visitors,
            Visits,
            Pageviews,
            ViewsPerVisit,
            BounceRate,
            VisitDuration,
            Events,
        ];
        let r = s.aggregate(&query(&all, &[])).unwrap();
        assert_eq!(
            r.rows[0].metrics,
            vec![3.0, 3.0, 4.0, 1.33, 33.0, 53.0, 5.0]
        );
        let r = s
            .aggregate(&query(
                &[Visitors, Percentage, BounceRate],
                &[Field::Visit(VisitField::Source)],
            ))
            .unwrap();
        assert_eq!(r.total_rows, 2);
        assert_eq!(r.rows[0].dimensions, vec!["Google"]);
        assert_eq!(r.rows[0].metrics, vec![2.0, 66.7, 0.0]);
        assert_eq!(r.rows[1].dimensions, vec!["Direct / None"]);
        let r = s
            .aggregate(&query(&[Visitors], &[Field::Time(TimeBucket::Day)]))
            .unwrap();
        let days: Vec<_> = r
            .rows
            .iter()
            .map(|r| (r.dimensions[0].as_str(), r.metrics[0]))
            .collect();
        assert_eq!(days, vec![("2026-01-01", 1.0), ("2026-01-02", 2.0)]);
        let mut q = query(&[Pageviews], &[Field::Event(EventField::Page)]);
        q.filter = Some(Filter::Not(Box::new(Filter::Compare(Condition {
            op: Op::Contains,
            field: Field::Visit(VisitField::Source),
            values: vec!["goo".into()],
            case_sensitive: false,
        }))));
        let r = s.aggregate(&q).unwrap();
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0].dimensions, vec!["/"]);
    }

    #[test]
    fn goals_revenue_and_engagement() {
        use waymark_core::{Conversion, ConversionValue, Trigger};
        let s = DuckStore::in_memory().unwrap();
        s.add_site(&Site::new("a.test", "UTC").unwrap()).unwrap();
        let t = 1_767_310_200_000;
        let mut buy = ev(1, t + 60_000, "Purchase", "/checkout", "Google");
        buy.revenue_amount = Some(30.0);
        buy.revenue_currency = "EUR".into();
        let mut buy2 = ev(2, t + 90_000, "Purchase", "/checkout", "");
        buy2.revenue_amount = Some(10.0);
        buy2.revenue_currency = "EUR".into();
        let engage = |session: u64, ms: i64, path: &str, sd: u8, e: u32| {
            let mut x = ev(session, ms, "engagement", path, "");
            x.scroll_depth = Some(sd);
            x.engagement_ms = Some(e);
            x
        };
        s.append(&[
            ev(1, t, "pageview", "/", "Google"),
            engage(1, t + 10_000, "/", 40, 6_000),
            engage(1, t + 20_000, "/", 80, 4_000),
            buy,
            ev(2, t, "pageview", "/", ""),
            engage(2, t + 5_000, "/", 20, 2_000),
            buy2,
            ev(3, t, "pageview", "/pricing", "Google"),
            ev(4, t, "pageview", "/pricing", ""),
        ])
        .unwrap();
        s.save_conversion(
            "a.test",
            &Conversion::macro_goal(
                "Purchase",
                Trigger::event("Purchase"),
                ConversionValue::Revenue,
            ),
        )
        .unwrap();
        s.save_conversion(
            "a.test",
            &Conversion::micro("Pricing", "pageview /pricing".parse().unwrap()),
        )
        .unwrap();
        use Metric::*;
        // Goals are the site's conversions, resolved before the store sees the query.
        let agg = |q: &AggregateQuery| {
            let mut q = q.clone();
            q.goals = Goal::of(&s.conversions("a.test").unwrap());
            s.aggregate(&q).unwrap()
        };
        let goal = |op: Op, v: &[&str]| {
            Filter::Compare(Condition {
                op,
                field: Field::Goal,
                values: v.iter().map(|s| s.to_string()).collect(),
                case_sensitive: true,
            })
        };
        let mut q = query(
            &[
                Visitors,
                Events,
                ConversionRate,
                TotalRevenue,
                AverageRevenue,
            ],
            &[Field::Goal],
        );
        let r = agg(&q);
        let got: Vec<_> = r
            .rows
            .iter()
            .map(|r| {
                (
                    r.dimensions[0].as_str(),
                    r.metrics.clone(),
                    r.currency.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("Pricing", vec![2.0, 2.0, 50.0, 0.0, 0.0], ""),
                ("Purchase", vec![2.0, 2.0, 50.0, 40.0, 20.0], "EUR"),
            ]
        );
        // A goal filter narrows the rows; group conversion rate divides per source.
        q.metrics = vec![Visitors, GroupConversionRate, ConversionRate];
        q.dimensions = vec![Field::Visit(VisitField::Source)];
        q.filter = Some(Filter::And(vec![goal(Op::Is, &["Purchase"])]));
        let r = agg(&q);
        assert_eq!(r.rows.len(), 2);
        assert_eq!(r.rows[0].dimensions, vec!["Direct / None"]);
        assert_eq!(r.rows[0].metrics, vec![1.0, 50.0, 25.0]);
        assert_eq!(r.rows[1].dimensions, vec!["Google"]);
        // is_not keeps events matching none of the named goals.
        q.metrics = vec![Events];
        q.dimensions = vec![];
        q.filter = Some(Filter::And(vec![goal(Op::IsNot, &["Purchase"])]));
        assert_eq!(agg(&q).rows[0].metrics, vec![4.0]);
        q.filter = Some(Filter::And(vec![goal(Op::Contains, &["ric"])]));
        assert_eq!(agg(&q).rows[0].metrics, vec![2.0]);
        // Scroll depth: visitor 1's deepest is 80, visitor 2's 20; time on page: 12 s over
        // 2 visits.
        let mut q = query(
            &[ScrollDepth, TimeOnPage, Visitors],
            &[Field::Event(EventField::Page)],
        );
        let r = agg(&q);
        assert_eq!(r.rows[0].dimensions, vec!["/"]);
        assert_eq!(r.rows[0].metrics, vec![50.0, 6.0, 2.0]);
        assert_eq!(r.rows.len(), 3);
        assert!(r.rows[1..].iter().all(|r| r.metrics[0].is_nan()), "{r:?}");
        q.dimensions = vec![];
        q.filter = Some(Filter::Compare(Condition {
            op: Op::Is,
            field: Field::Event(EventField::Page),
            values: vec!["/".into()],
            case_sensitive: true,
        }));
        assert_eq!(agg(&q).rows[0].metrics, vec![50.0, 6.0, 2.0]);
        // A goal whose trigger reads page engagement (the shared matcher attaches it).
        s.save_conversion(
            "a.test",
            &Conversion::micro(
                "Deep read",
                "pageview / where scroll >= 50%".parse().unwrap(),
            ),
        )
        .unwrap();
        let mut q = query(&[Visitors], &[Field::Visit(VisitField::Source)]);
        q.filter = Some(Filter::And(vec![goal(Op::Is, &["Deep read"])]));
        let r = agg(&q);
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0].dimensions, vec!["Google"]);
        // Property conditions: events are matched back to the goal with their properties.
        let signup = |session: u64, plan: &str| {
            let mut x = ev(session, t + 1_000, "Signup", "/", "");
            x.props = vec![waymark_core::Prop {
                key: "plan".into(),
                value: plan.into(),
            }];
            x
        };
        s.append(&[signup(5, "pro"), signup(6, "free"), signup(6, "free")])
            .unwrap();
        s.save_conversion(
            "a.test",
            &Conversion::micro(
                "Pro signup",
                "event Signup where plan = pro".parse().unwrap(),
            ),
        )
        .unwrap();
        let mut q = query(&[Visitors, Events], &[]);
        q.filter = Some(Filter::And(vec![goal(Op::Is, &["Pro signup"])]));
        assert_eq!(agg(&q).rows[0].metrics, vec![1.0, 1.0]);
        q.filter = Some(Filter::And(vec![
            goal(Op::IsNot, &["Pro signup"]),
            Filter::Compare(Condition {
                op: Op::Is,
                field: Field::Event(EventField::Name),
                values: vec!["Signup".into()],
                case_sensitive: true,
            }),
        ]));
        assert_eq!(agg(&q).rows[0].metrics, vec![1.0, 2.0]);
    }
}
