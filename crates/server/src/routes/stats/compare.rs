//! `include.comparisons`: the comparison query kept to the main rows, and each row's
//! `comparison` block. The period compared with and the `change` rule are insight's
//! ([`waymark_insight::compare`]), shared with the reports and the dashboard.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};
use waymark_core::query::{
    time_labels, AggregateQuery, AggregateRow, Condition, Field, Filter, Metric, Op, TimeBucket,
};
use waymark_core::{TimeBounds, Tz};
use waymark_insight::metric_change;

use super::revenue::Revenue;
use super::{blocking, metric_values, shown_value, time_dimension, MAX_LIMIT};
use crate::error::ApiError;
use crate::state::AppState;

/// A validated `include.comparisons`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// `previous_period`, `year_over_year` or `custom`.
    pub mode: String,
    /// The period compared with.
    pub bounds: TimeBounds,
}

/// The comparison's query and rows, and how main rows find theirs.
pub(super) struct Compared {
    /// The comparison query (its bounds are echoed as `meta.comparison_date_range`).
    pub query: AggregateQuery,
    rows: Vec<AggregateRow>,
    /// The position of the time dimension, if any.
    time_dim: Option<usize>,
    /// Main-period time label → the comparison's label at the same position.
    labels: HashMap<String, String>,
}

/// Runs the comparison for the main query `q` and its `rows` (a plain time series gets a row
/// for every bucket first, so each can be compared).
pub(super) async fn compared(
    state: &Arc<AppState>,
    q: &AggregateQuery,
    rows: &mut Vec<AggregateRow>,
    cmp: Comparison,
    tz: Tz,
) -> Result<Compared, ApiError> {
    if let ([Field::Time(bucket)], None) = (q.dimensions.as_slice(), q.order_by.first()) {
        // A time series compared: every bucket gets a row, so each can be compared.
        fill_time_rows(rows, q, *bucket, tz);
    }
    let cq = comparison_query(q, rows, cmp.bounds);
    let st = state.clone();
    let asked = cq.clone();
    let result = blocking(move || st.store.aggregate(&asked)).await?;
    let time_dim = time_dimension(q);
    // Time buckets are matched by position: the n-th bucket of each period.
    let labels = match time_dim.map(|i| &q.dimensions[i]) {
        Some(Field::Time(bucket)) => {
            time_labels(*bucket, tz, q.bounds.from_ms, q.bounds.to_ms, 100_000)
                .into_iter()
                .zip(time_labels(
                    *bucket,
                    tz,
                    cq.bounds.from_ms,
                    cq.bounds.to_ms,
                    100_000,
                ))
                .collect()
        }
        _ => HashMap::new(),
    };
    Ok(Compared {
        query: cq,
        rows: result.rows,
        time_dim,
        labels,
    })
}

impl Compared {
    /// The comparison's rows.
    pub(super) fn rows(&self) -> &[AggregateRow] {
        &self.rows
    }

    /// A main row's `comparison`: the comparison row with the same dimension values (time
    /// buckets by position; an empty row when there is none), its metrics and their change.
    pub(super) fn block(&self, metrics: &[Metric], r: &AggregateRow, revenue: &Revenue) -> Value {
        let dims: Vec<Value> = r
            .dimensions
            .iter()
            .enumerate()
            .map(|(i, d)| {
                if Some(i) == self.time_dim {
                    self.labels.get(d).map_or(Value::Null, |l| json!(l))
                } else {
                    json!(d)
                }
            })
            .collect();
        let found = self.rows.iter().find(|c| {
            c.dimensions
                .iter()
                .zip(&dims)
                .all(|(c, d)| d.as_str() == Some(c.as_str()))
        });
        let empty = empty_row(metrics, Vec::new());
        let old = found.unwrap_or(&empty);
        let change: Vec<Value> = metrics
            .iter()
            .enumerate()
            .map(|(i, m)| {
                json!(metric_change(
                    *m,
                    shown_value(*m, old.metrics[i], old, revenue),
                    shown_value(*m, r.metrics[i], r, revenue),
                ))
            })
            .collect();
        json!({
            "dimensions": dims,
            "metrics": metric_values(metrics, old, revenue),
            "change": change,
        })
    }
}

/// A row without data: zero counts and rates, no engagement values, no revenue.
fn empty_row(metrics: &[Metric], dimensions: Vec<String>) -> AggregateRow {
    AggregateRow {
        dimensions,
        metrics: metrics
            .iter()
            .map(|m| if m.is_engagement() { f64::NAN } else { 0.0 })
            .collect(),
        currency: String::new(),
    }
}

/// Adds an empty row for every bucket of the range that has none, in time order.
fn fill_time_rows(rows: &mut Vec<AggregateRow>, q: &AggregateQuery, bucket: TimeBucket, tz: Tz) {
    // Only the first page is filled: later pages' positions depend on the store's rows.
    if q.bounds.from_ms == 0 || q.offset > 0 {
        return;
    }
    for label in time_labels(bucket, tz, q.bounds.from_ms, q.bounds.to_ms, 100_000) {
        if !rows.iter().any(|r| r.dimensions[0] == label) {
            rows.push(empty_row(&q.metrics, vec![label]));
        }
    }
    rows.sort_by(|a, b| a.dimensions.cmp(&b.dimensions));
    rows.truncate(q.limit);
}

/// The comparison query: the same question over `bounds`, kept to the main rows' dimension
/// values (time buckets excepted) without narrowing the totals behind rates.
fn comparison_query(
    q: &AggregateQuery,
    rows: &[AggregateRow],
    bounds: TimeBounds,
) -> AggregateQuery {
    let mut cq = q.clone();
    cq.bounds = bounds;
    cq.offset = 0;
    cq.limit = MAX_LIMIT;
    let keyed: Vec<usize> = q
        .dimensions
        .iter()
        .enumerate()
        .filter(|(_, d)| !matches!(d, Field::Time(_)))
        .map(|(i, _)| i)
        .collect();
    if keyed.is_empty() {
        return cq;
    }
    let alternatives: Vec<Filter> = rows
        .iter()
        .map(|r| {
            Filter::And(
                keyed
                    .iter()
                    .map(|&i| {
                        Filter::Compare(Condition::new(
                            q.dimensions[i].clone(),
                            Op::Is,
                            vec![r.dimensions[i].clone()],
                        ))
                    })
                    .collect(),
            )
        })
        .collect();
    let mut parts = q
        .filter
        .as_ref()
        .map(|f| f.top_level().into_iter().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    parts.push(Filter::NotInTotals(Box::new(Filter::Or(alternatives))));
    cq.filter = Some(Filter::And(parts));
    cq
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};
    use waymark_core::range::local_midnight_ms;

    fn compared_bounds(range: Value, mode: &str) -> TimeBounds {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
        let req = json!({"site_id": "a.example", "metrics": ["visitors"], "date_range": range,
                         "include": {"comparisons": {"mode": mode}}});
        parse(&req, tz, now).unwrap().comparison.unwrap().bounds
    }

    #[test]
    fn comparison_modes_use_insights_periods() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let day = |m, d| local_midnight_ms(tz, NaiveDate::from_ymd_opt(2026, m, d).unwrap());
        // A month in progress, and a custom range past today: compared day for day.
        assert_eq!(
            compared_bounds(json!("month"), "previous_period"),
            TimeBounds {
                from_ms: day(10, 7),
                to_ms: day(11, 1)
            }
        );
        assert_eq!(
            compared_bounds(json!(["2026-11-20", "2026-11-30"]), "previous_period"),
            TimeBounds {
                from_ms: day(11, 14),
                to_ms: day(11, 20)
            }
        );
        // Date-time ranges shift by their length (the end second included).
        let b = compared_bounds(
            json!(["2026-11-25T10:00:00Z", "2026-11-25T10:04:59Z"]),
            "previous_period",
        );
        assert_eq!(b.to_ms - b.from_ms, 300_000);
        assert_eq!(b.to_ms, 1_795_600_800_000);
    }
}
