//! The Stats API's aggregate query in DuckDB SQL. Only column names, aliases and fixed SQL
//! chosen by matching on the logical query enter the text; every value (site, bounds, filter
//! values, time-zone offsets, paging) is a bound parameter.
//!
//! Shape: `base` (the site's events in range) → `s` (one row per visit: its attributes from
//! the first event, start, duration, pageviews, interactions) → `e` (non-engagement events
//! joined to their visit, filtered) → `ea` (event metrics per dimension values) and, when a
//! per-visit metric is asked for, `sa` (visit metrics over the visits that have an `e` row,
//! time-bucketed by visit start) → joined, ordered and paged.
//!
//! Local time: the site zone's UTC offsets over the range are computed in Rust
//! ([`waymark_core::stats::utc_offsets`]) and applied with a `CASE`, so no ICU is needed.

use duckdb::params_from_iter;
use duckdb::types::Value;
use duckdb::Connection;
use waymark_core::stats::{
    utc_offsets, AggregateQuery, AggregateResult, AggregateRow, Metric, OrderKey, StatsDimension,
    StatsFilter, StatsOp, TimeBucket, VisitField,
};

use super::matching::Binds;
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

/// A dimension's value on an `e` row (`session = false`) or an `s` row (`session = true`).
fn dimension_sql(
    d: &StatsDimension,
    session: bool,
    offsets: &[(i64, i64)],
    b: &mut Binds,
) -> String {
    match d {
        StatsDimension::Visit(VisitField::Source) => {
            "(CASE WHEN v_source = '' THEN 'Direct / None' ELSE v_source END)".to_string()
        }
        StatsDimension::Visit(f) => visit_column(*f).to_string(),
        StatsDimension::Page => "pathname".to_string(),
        StatsDimension::Name => "name".to_string(),
        StatsDimension::Hostname => "hostname".to_string(),
        StatsDimension::Prop(key) => {
            let k = b.push(Value::Text(key.clone()));
            format!("coalesce(list_extract(prop_values, list_position(prop_keys, {k})), '(none)')")
        }
        StatsDimension::Time(t) => time_label(
            *t,
            if session { "s_start" } else { "timestamp" },
            offsets,
            b,
        ),
    }
}

fn filter_sql(f: &StatsFilter, offsets: &[(i64, i64)], b: &mut Binds) -> String {
    match f {
        StatsFilter::And(v) if v.is_empty() => "true".into(),
        StatsFilter::Or(v) if v.is_empty() => "false".into(),
        StatsFilter::And(v) => format!(
            "({})",
            v.iter()
                .map(|f| filter_sql(f, offsets, b))
                .collect::<Vec<_>>()
                .join(" AND ")
        ),
        StatsFilter::Or(v) => format!(
            "({})",
            v.iter()
                .map(|f| filter_sql(f, offsets, b))
                .collect::<Vec<_>>()
                .join(" OR ")
        ),
        StatsFilter::Not(f) => format!("(NOT {})", filter_sql(f, offsets, b)),
        StatsFilter::Compare {
            op,
            dimension,
            values,
            case_sensitive,
        } => {
            let mut col = dimension_sql(dimension, false, offsets, b);
            if !case_sensitive {
                col = format!("lower({col})");
            }
            let mut any = Vec::new();
            for v in values {
                let v = if *case_sensitive {
                    v.clone()
                } else {
                    v.to_lowercase()
                };
                let p = b.push(Value::Text(v));
                any.push(match op {
                    StatsOp::Is | StatsOp::IsNot => format!("{col} = {p}"),
                    StatsOp::Contains | StatsOp::ContainsNot => format!("contains({col}, {p})"),
                    StatsOp::Matches | StatsOp::MatchesNot => {
                        format!("regexp_matches({col}, {p})")
                    }
                });
            }
            let any = if any.is_empty() {
                "false".to_string()
            } else {
                format!("({})", any.join(" OR "))
            };
            match op {
                StatsOp::IsNot | StatsOp::ContainsNot | StatsOp::MatchesNot => {
                    format!("(NOT {any})")
                }
                _ => any,
            }
        }
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

pub fn aggregate(conn: &Connection, q: &AggregateQuery) -> Result<AggregateResult, StoreError> {
    let has_time = q
        .dimensions
        .iter()
        .any(|d| matches!(d, StatsDimension::Time(_)));
    let offsets = if has_time {
        match data_span(conn, q)? {
            Some((lo, hi)) => utc_offsets(q.timezone, lo, hi + 1),
            None => return Ok(AggregateResult::default()),
        }
    } else {
        Vec::new()
    };

    let mut b = Binds::default();
    let site = b.push(Value::Text(q.site.clone()));
    let from = b.push(Value::BigInt(q.bounds.from_ms));
    let to = b.push(Value::BigInt(q.bounds.to_ms));
    let filter = match &q.filter {
        Some(f) => filter_sql(f, &offsets, &mut b),
        None => "true".to_string(),
    };
    let need_sessions = q.metrics.iter().any(|m| m.is_session());
    let dims_e: Vec<String> = q
        .dimensions
        .iter()
        .map(|d| dimension_sql(d, false, &offsets, &mut b))
        .collect();
    let dims_s: Vec<String> = if need_sessions {
        q.dimensions
            .iter()
            .map(|d| dimension_sql(d, true, &offsets, &mut b))
            .collect()
    } else {
        Vec::new()
    };

    let mut ctes = vec![
        format!(
            "base AS (SELECT * FROM events WHERE site_id = {site} \
             AND timestamp >= epoch_ms({from}::BIGINT) AND timestamp < epoch_ms({to}::BIGINT))"
        ),
        format!(
            "s AS (SELECT session_id AS sid, {}, min(timestamp) AS s_start,
                 epoch_ms(max(timestamp)) - epoch_ms(min(timestamp)) AS s_duration_ms,
                 count(*) FILTER (WHERE name = 'pageview') AS s_pageviews,
                 count(*) FILTER (WHERE interactive AND name <> 'engagement') AS s_interactions
             FROM base GROUP BY session_id)",
            visit_columns()
        ),
        format!(
            "e AS (SELECT b.visitor_id, b.session_id, b.name, b.pathname, b.hostname, b.timestamp,
                 b.prop_keys, b.prop_values, s.*
             FROM base b JOIN s ON s.sid = b.session_id
             WHERE b.name <> 'engagement' AND {filter})"
        ),
    ];
    let d_alias: Vec<String> = (0..q.dimensions.len()).map(|i| format!("d{i}")).collect();
    let select_dims = |exprs: &[String]| -> String {
        exprs
            .iter()
            .zip(&d_alias)
            .map(|(e, a)| format!("{e} AS {a}, "))
            .collect::<String>()
    };
    let group = if q.dimensions.is_empty() {
        String::new()
    } else {
        format!(" GROUP BY {}", d_alias.join(", "))
    };
    ctes.push(format!(
        "ea AS (SELECT {}count(DISTINCT visitor_id) AS visitors, count(DISTINCT session_id) AS visits,
             count(*) FILTER (WHERE name = 'pageview') AS pageviews, count(*) AS events
         FROM e{group})",
        select_dims(&dims_e)
    ));
    let from_clause = if need_sessions {
        ctes.push(format!(
            "sa AS (SELECT {}count(*) AS s_visits, sum(s_pageviews) AS s_pageviews,
                 avg(CASE WHEN s_interactions <= 1 THEN 100.0 ELSE 0.0 END) AS s_bounce,
                 avg(s_duration_ms) / 1000.0 AS s_duration
             FROM s WHERE sid IN (SELECT session_id FROM e){group})",
            select_dims(&dims_s)
        ));
        if q.dimensions.is_empty() {
            "ea CROSS JOIN sa".to_string()
        } else {
            let on = d_alias
                .iter()
                .map(|a| format!("ea.{a} IS NOT DISTINCT FROM sa.{a}"))
                .collect::<Vec<_>>()
                .join(" AND ");
            format!("ea FULL OUTER JOIN sa ON {on}")
        }
    } else {
        "ea".to_string()
    };
    let dim_out: Vec<String> = d_alias
        .iter()
        .map(|a| {
            if need_sessions {
                format!("coalesce(ea.{a}, sa.{a}, '') AS {a}")
            } else {
                format!("coalesce(ea.{a}, '') AS {a}")
            }
        })
        .collect();
    let metric_out: Vec<String> = q
        .metrics
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let e = match m {
                Metric::Visitors => "coalesce(ea.visitors, 0)".to_string(),
                Metric::Visits => "coalesce(ea.visits, 0)".to_string(),
                Metric::Pageviews => "coalesce(ea.pageviews, 0)".to_string(),
                Metric::Events => "coalesce(ea.events, 0)".to_string(),
                Metric::ViewsPerVisit => {
                    "coalesce(round(sa.s_pageviews / nullif(sa.s_visits, 0), 2), 0)".to_string()
                }
                Metric::BounceRate => "coalesce(round(sa.s_bounce), 0)".to_string(),
                Metric::VisitDuration => "coalesce(round(sa.s_duration), 0)".to_string(),
                Metric::Percentage => "coalesce(round(100.0 * ea.visitors / nullif((SELECT count(DISTINCT visitor_id) FROM e), 0), 2), 0)".to_string(),
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
            if matches!(d, StatsDimension::Time(_)) {
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
    cols.push("count(*) OVER () AS total_rows".to_string());
    let sql = format!(
        "WITH {} SELECT {} FROM {from_clause}{order} LIMIT {limit} OFFSET {offset}",
        ctes.join(",\n"),
        cols.join(", ")
    );

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
            metrics.push(r.get::<_, f64>(nd + i)?);
        }
        out.total_rows = r.get::<_, i64>(nd + nm)? as u64;
        out.rows.push(AggregateRow {
            dimensions,
            metrics,
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
    use waymark_core::stats::*;
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

    fn query(metrics: &[Metric], dims: &[StatsDimension]) -> AggregateQuery {
        AggregateQuery {
            site: "a.test".into(),
            bounds: TimeBounds::ALL,
            timezone: "Europe/Berlin".parse().unwrap(),
            metrics: metrics.to_vec(),
            dimensions: dims.to_vec(),
            filter: None,
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
                &[StatsDimension::Visit(VisitField::Source)],
            ))
            .unwrap();
        assert_eq!(r.total_rows, 2);
        assert_eq!(r.rows[0].dimensions, vec!["Google"]);
        assert_eq!(r.rows[0].metrics, vec![2.0, 66.67, 0.0]);
        assert_eq!(r.rows[1].dimensions, vec!["Direct / None"]);
        let r = s
            .aggregate(&query(
                &[Visitors],
                &[StatsDimension::Time(TimeBucket::Day)],
            ))
            .unwrap();
        let days: Vec<_> = r
            .rows
            .iter()
            .map(|r| (r.dimensions[0].as_str(), r.metrics[0]))
            .collect();
        assert_eq!(days, vec![("2026-01-01", 1.0), ("2026-01-02", 2.0)]);
        let mut q = query(&[Pageviews], &[StatsDimension::Page]);
        q.filter = Some(StatsFilter::Not(Box::new(StatsFilter::Compare {
            op: StatsOp::Contains,
            dimension: StatsDimension::Visit(VisitField::Source),
            values: vec!["goo".into()],
            case_sensitive: false,
        })));
        let r = s.aggregate(&q).unwrap();
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0].dimensions, vec!["/"]);
    }
}
