//! Top-line numbers and breakdowns in DuckDB SQL. Only column names chosen by matching on
//! [`Dimension`] enter the SQL text; every value is a bound parameter.

use duckdb::{params, Connection};
use waymark_core::TimeBounds;

use crate::query::{BreakdownRow, Dimension, Overview};
use crate::StoreError;

/// The site and time filter every query starts with (timestamps bound as epoch ms).
const IN_RANGE: &str =
    "site_id = ? AND timestamp >= epoch_ms(?::BIGINT) AND timestamp < epoch_ms(?::BIGINT)";

pub fn overview(conn: &Connection, site: &str, b: TimeBounds) -> Result<Overview, StoreError> {
    let sql = format!(
        "WITH s AS (
            SELECT session_id, any_value(visitor_id) AS visitor_id,
                   epoch_ms(max(timestamp)) - epoch_ms(min(timestamp)) AS duration_ms,
                   count(*) FILTER (WHERE name = 'pageview') AS pageviews,
                   count(*) FILTER (WHERE interactive AND name <> 'engagement') AS interactions,
                   count(*) FILTER (WHERE name <> 'engagement') AS events
            FROM events WHERE {IN_RANGE}
            GROUP BY session_id)
         SELECT count(DISTINCT visitor_id), count(*), coalesce(sum(pageviews), 0)::UBIGINT,
                coalesce(sum(events), 0)::UBIGINT,
                coalesce(avg(CASE WHEN interactions <= 1 THEN 100.0 ELSE 0.0 END), 0),
                coalesce(avg(duration_ms) / 1000.0, 0)
         FROM s"
    );
    Ok(
        conn.query_row(&sql, params![site, b.from_ms, b.to_ms], |r| {
            Ok(Overview {
                visitors: r.get(0)?,
                visits: r.get(1)?,
                pageviews: r.get(2)?,
                events: r.get(3)?,
                bounce_rate: r.get(4)?,
                visit_duration_s: r.get(5)?,
            })
        })?,
    )
}

pub fn breakdown(
    conn: &Connection,
    site: &str,
    b: TimeBounds,
    dim: Dimension,
    limit: usize,
) -> Result<Vec<BreakdownRow>, StoreError> {
    let col = dim.column();
    let sql = match dim {
        Dimension::Page => format!(
            "SELECT pathname, count(DISTINCT visitor_id), count(*)
             FROM events WHERE {IN_RANGE} AND name = 'pageview'
             GROUP BY 1 ORDER BY 2 DESC, 3 DESC, 1 LIMIT ?"
        ),
        _ => {
            let pick = match dim {
                Dimension::ExitPage => format!("arg_max({col}, timestamp)"),
                _ => format!("arg_min({col}, timestamp)"),
            };
            let only_pageviews = if matches!(dim, Dimension::EntryPage | Dimension::ExitPage) {
                " AND name = 'pageview'"
            } else {
                ""
            };
            format!(
                "WITH s AS (
                    SELECT session_id, any_value(visitor_id) AS visitor_id, {pick} AS value
                    FROM events WHERE {IN_RANGE}{only_pageviews}
                    GROUP BY session_id)
                 SELECT value, count(DISTINCT visitor_id), count(*)
                 FROM s GROUP BY 1 ORDER BY 2 DESC, 3 DESC, 1 LIMIT ?"
            )
        }
    };
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![site, b.from_ms, b.to_ms, limit as i64], |r| {
        Ok(BreakdownRow {
            value: r.get(0)?,
            visitors: r.get(1)?,
            count: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub fn idempotency_keys(conn: &Connection, since_ms: i64) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT idempotency_key FROM events
         WHERE idempotency_key <> '' AND timestamp >= epoch_ms(?::BIGINT)",
    )?;
    let rows = stmt.query_map([since_ms], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub fn recent_sessions(
    conn: &Connection,
    since_ms: i64,
) -> Result<Vec<(String, u64, u64, i64)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT site_id, visitor_id, arg_max(session_id, timestamp), epoch_ms(max(timestamp))
         FROM events WHERE timestamp >= epoch_ms(?::BIGINT)
         GROUP BY site_id, visitor_id",
    )?;
    let rows = stmt.query_map([since_ms], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
