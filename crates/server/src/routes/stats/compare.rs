//! `include.comparisons`: the period a query is compared with, the comparison query kept to
//! the main rows, and each row's `comparison` block with Plausible's `change`.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::{json, Value};
use waymark_core::query::{
    time_labels, AggregateQuery, AggregateRow, Condition, Field, Filter, Metric, Op, TimeBucket,
};
use waymark_core::range::local_midnight_ms;
use waymark_core::{TimeBounds, Tz};

use super::{blocking, metric_values, single_currency, time_dimension, MAX_LIMIT};
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
    /// A main row's `comparison`: the comparison row with the same dimension values (time
    /// buckets by position; an empty row when there is none), its metrics and their change.
    pub(super) fn block(&self, metrics: &[Metric], r: &AggregateRow) -> Value {
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
                change(
                    *m,
                    value_of(*m, old.metrics[i], &old.currency),
                    value_of(*m, r.metrics[i], &r.currency),
                )
            })
            .collect();
        json!({
            "dimensions": dims,
            "metrics": metric_values(metrics, old),
            "change": change,
        })
    }
}

/// The number a metric is compared by (`None` when it shows as `null`).
fn value_of(m: Metric, v: f64, currency: &str) -> Option<f64> {
    if v.is_nan() || (m.is_revenue() && !single_currency(currency)) {
        None
    } else if m.is_integer() {
        Some(v.round())
    } else {
        Some(v)
    }
}

/// Plausible's change: percentage points for `conversion_rate` (one decimal), points for
/// `bounce_rate` (`null` when the old rate is 0), else the percent change rounded (100 from
/// 0 to anything, 0 from 0 to 0); `null` when either side has no value.
fn change(m: Metric, old: Option<f64>, new: Option<f64>) -> Value {
    let (Some(old), Some(new)) = (old, new) else {
        return Value::Null;
    };
    match m {
        Metric::ConversionRate => json!(((new - old) * 10.0).round() / 10.0),
        Metric::BounceRate if old > 0.0 => json!((new - old).round() as i64),
        Metric::BounceRate => Value::Null,
        _ if old == 0.0 && new > 0.0 => json!(100),
        _ if old == 0.0 => json!(0),
        _ => json!(((new - old) / old * 100.0).round() as i64),
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

fn local_date(tz: Tz, ms: i64) -> NaiveDate {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_default()
        .with_timezone(&tz)
        .date_naive()
}

/// The range's first and last local days when it spans whole local days.
fn whole_days(b: TimeBounds, tz: Tz) -> Option<(NaiveDate, NaiveDate)> {
    let (first, last) = (local_date(tz, b.from_ms), local_date(tz, b.to_ms - 1));
    (local_midnight_ms(tz, first) == b.from_ms
        && local_midnight_ms(tz, last + chrono::Duration::days(1)) == b.to_ms)
        .then_some((first, last))
}

fn days(tz: Tz, first: NaiveDate, last: NaiveDate) -> TimeBounds {
    TimeBounds {
        from_ms: local_midnight_ms(tz, first),
        to_ms: local_midnight_ms(tz, last + chrono::Duration::days(1)),
    }
}

/// Whole-day ranges end today at the latest, as in Plausible (a month in progress is
/// compared day for day).
fn clamp_to_today(first: NaiveDate, last: NaiveDate, tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    let today = now.with_timezone(&tz).date_naive();
    if first <= today {
        last.min(today)
    } else {
        last
    }
}

/// As many days (or, for date-time ranges, as much time) right before the range.
pub(super) fn previous_period(b: TimeBounds, tz: Tz, now: DateTime<Utc>) -> TimeBounds {
    match whole_days(b, tz) {
        Some((first, last)) => {
            let last = clamp_to_today(first, last, tz, now);
            let n = chrono::Duration::days((last - first).num_days() + 1);
            days(tz, first - n, last - n)
        }
        None => TimeBounds {
            from_ms: b.from_ms - (b.to_ms - b.from_ms),
            to_ms: b.from_ms,
        },
    }
}

/// The same days (or local times) a calendar year earlier.
pub(super) fn year_over_year(b: TimeBounds, tz: Tz, now: DateTime<Utc>) -> TimeBounds {
    let year = chrono::Months::new(12);
    match whole_days(b, tz) {
        Some((first, last)) => {
            let last = clamp_to_today(first, last, tz, now);
            days(
                tz,
                first.checked_sub_months(year).unwrap_or(first),
                last.checked_sub_months(year).unwrap_or(last),
            )
        }
        None => {
            let shift = |ms: i64| {
                let local = Utc
                    .timestamp_millis_opt(ms)
                    .single()
                    .unwrap_or_default()
                    .with_timezone(&tz)
                    .naive_local();
                local
                    .checked_sub_months(year)
                    .and_then(|l| tz.from_local_datetime(&l).earliest())
                    .map_or(ms - 365 * 86_400_000, |d| d.timestamp_millis())
            };
            TimeBounds {
                from_ms: shift(b.from_ms),
                to_ms: shift(b.to_ms),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn dates(tz: Tz, a: (i32, u32, u32), b: (i32, u32, u32)) -> TimeBounds {
        let d = |(y, m, d): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        days(tz, d(a), d(b))
    }

    fn compared_bounds(range: Value, mode: &str, tz: Tz, now: DateTime<Utc>) -> TimeBounds {
        let req = json!({"site_id": "a.example", "metrics": ["visitors"], "date_range": range,
                         "include": {"comparisons": {"mode": mode}}});
        parse(&req, tz, now).unwrap().comparison.unwrap().bounds
    }

    #[test]
    fn comparison_periods_follow_plausible() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
        // A month in progress is compared day for day: 1–25 November with 7–31 October.
        assert_eq!(
            compared_bounds(json!("month"), "previous_period", tz, now),
            dates(tz, (2026, 10, 7), (2026, 10, 31))
        );
        assert_eq!(
            compared_bounds(
                json!(["2028-02-28", "2028-03-01"]),
                "year_over_year",
                tz,
                now
            ),
            dates(tz, (2027, 2, 28), (2027, 3, 1))
        );
        // Date-time ranges shift by their length (the end second included).
        let b = compared_bounds(
            json!(["2026-11-25T10:00:00Z", "2026-11-25T10:04:59Z"]),
            "previous_period",
            tz,
            now,
        );
        assert_eq!(b.to_ms - b.from_ms, 300_000);
        assert_eq!(b.to_ms, 1_795_600_800_000);
    }

    #[test]
    fn changes_follow_plausible() {
        use Metric::*;
        assert_eq!(change(Visitors, Some(0.0), Some(5.0)), json!(100));
        assert_eq!(change(Visitors, Some(0.0), Some(0.0)), json!(0));
        assert_eq!(change(Visitors, Some(8.0), Some(2.0)), json!(-75));
        assert_eq!(change(Visitors, None, Some(2.0)), Value::Null);
        assert_eq!(change(BounceRate, Some(0.0), Some(40.0)), Value::Null);
        assert_eq!(change(BounceRate, Some(50.0), Some(40.0)), json!(-10));
        assert_eq!(change(ConversionRate, Some(5.0), Some(7.25)), json!(2.3));
    }
}
