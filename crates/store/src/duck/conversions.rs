//! Conversion counts in DuckDB SQL: one pass over the site's scoped events, with one set of
//! filtered aggregates per trigger (unique visitors, events, revenue and its currencies).

use duckdb::{params_from_iter, Connection};
use waymark_core::{ConversionCounts, ConversionQuery, TriggerCount};

use super::matching::{condition, scoped_events, Binds, Scope};
use crate::StoreError;

pub fn counts(conn: &Connection, q: &ConversionQuery) -> Result<ConversionCounts, StoreError> {
    let mut b = Binds::default();
    let ctes = scoped_events(
        &Scope {
            site: &q.site,
            bounds: q.bounds,
            filter: q.filter.as_ref(),
            goals: &q.goals,
            breakdown: None,
            engagement: q.triggers.iter().filter(|t| t.needs_engagement()).collect(),
            rescan: false,
        },
        &mut b,
    )?;
    // Each trigger is evaluated once per event into a flag of a narrow relation `m`: the
    // distinct counts below each read `m` again, and DuckDB materialises what they read, so it
    // holds a few columns rather than the events with their property lists.
    let mut flags = vec!["name <> 'engagement' AS ne".to_string()];
    for (i, t) in q.triggers.iter().enumerate() {
        flags.push(format!("coalesce({}, false) AS c{i}", condition(t, &mut b)));
    }
    // Visitors as the Stats API counts them: engagement events alone do not make a visitor
    // (one may arrive for a page viewed just before the range began).
    let mut cols = vec!["count(DISTINCT visitor_id) FILTER (WHERE ne)".to_string()];
    for i in 0..q.triggers.len() {
        let c = format!("c{i}");
        cols.push(format!("count(DISTINCT visitor_id) FILTER (WHERE {c})"));
        cols.push(format!("count(*) FILTER (WHERE {c})"));
        cols.push(format!(
            "coalesce(sum(revenue_amount) FILTER (WHERE {c}), 0)::DOUBLE"
        ));
        cols.push(format!("count(revenue_amount) FILTER (WHERE {c})"));
        cols.push(format!(
            "coalesce(string_agg(DISTINCT revenue_currency, '+' ORDER BY revenue_currency) \
             FILTER (WHERE {c} AND revenue_amount IS NOT NULL AND revenue_currency <> ''), '')"
        ));
    }
    let sql = format!(
        "WITH {ctes},\nm AS (SELECT visitor_id, revenue_amount, revenue_currency, {} FROM ev)\nSELECT {} FROM m",
        flags.join(", "),
        cols.join(",\n  ")
    );
    tracing::debug!(%sql, params = b.values.len(), "conversion counts query");
    let mut stmt = conn.prepare(&sql)?;
    let counts = stmt.query_row(params_from_iter(b.values.iter()), |r| {
        let visitors: i64 = r.get(0)?;
        let mut rows = Vec::with_capacity(q.triggers.len());
        for i in 0..q.triggers.len() {
            let base = 1 + i * 5;
            let v: i64 = r.get(base)?;
            let e: i64 = r.get(base + 1)?;
            let revenue: f64 = r.get(base + 2)?;
            let revenue_events: i64 = r.get(base + 3)?;
            let currency: String = r.get(base + 4)?;
            rows.push(TriggerCount {
                visitors: v as u64,
                events: e as u64,
                revenue,
                revenue_events: revenue_events as u64,
                currency,
            });
        }
        Ok(ConversionCounts {
            visitors: visitors as u64,
            rows,
        })
    })?;
    Ok(counts)
}
