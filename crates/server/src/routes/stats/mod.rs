//! `POST /api/v2/query`, Plausible's Stats API v2 (read credentials, see [`crate::access`]): the
//! route, the handler and the response's shape; `parse` validates requests, `compare` compares.

mod compare;
mod parse;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{NaiveDate, SecondsFormat, TimeZone, Utc};
use serde_json::{json, Map, Value};
use waymark_core::query::{
    time_labels, AggregateQuery, AggregateResult, AggregateRow, Field, Goal, Metric,
};
use waymark_core::range::local_midnight_ms;
use waymark_core::Site;
use waymark_core::Tz;
use waymark_store::StoreError;

pub use compare::Comparison;
pub use parse::{check_goal_names, parse, Parsed};

use crate::error::ApiError;
use crate::state::AppState;

use compare::Compared;

/// The most rows a page may have (`pagination.limit`), also the comparison query's limit.
const MAX_LIMIT: usize = 10_000;

/// The routes, merged into the server's router.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/api/v2/query", post(query))
}

/// The handler: checks the caller, parses the request, asks the store (and the comparison),
/// then shapes Plausible's `{results, meta, query}`.
async fn query(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    crate::access::authorize_body_site(&state, &headers, &body, crate::access::Need::Read).await?;
    let request: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_field("body", format!("the body is not valid JSON: {e}")))?;
    let site = requested_site(&state, &request).await?;
    let tz = site.tz();
    let mut parsed = parse(&request, tz, Utc::now())?;
    if parsed.query.uses_goals() {
        // Goals are the site's conversion definitions: named goals must exist.
        let st = state.clone();
        let sid = site.domain.clone();
        let conversions = blocking(move || st.store.conversions(&sid)).await?;
        parsed.query.goals = Goal::of(&conversions);
        check_goal_names(&parsed.query)?;
    }
    let st = state.clone();
    let q = parsed.query.clone();
    let result = blocking(move || st.store.aggregate(&q)).await?;
    let mut rows = result.rows.clone();
    let comparison = match parsed.comparison.take() {
        Some(cmp) => Some(compare::compared(&state, &parsed.query, &mut rows, cmp, tz).await?),
        None => None,
    };
    let metrics = &parsed.query.metrics;
    let results: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut row =
                json!({ "metrics": metric_values(metrics, r), "dimensions": r.dimensions });
            if let Some(c) = &comparison {
                row["comparison"] = c.block(metrics, r);
            }
            row
        })
        .collect();
    let meta = meta(&parsed, &result, &rows, comparison.as_ref(), tz);
    let mut echoed = parsed.echo;
    echoed.insert("site_id".into(), json!(site.domain));
    echoed.insert(
        "date_range".into(),
        json!([
            iso(tz, parsed.query.bounds.from_ms),
            iso(tz, parsed.query.bounds.to_ms - 1000)
        ]),
    );
    Ok(Json(
        json!({ "results": results, "meta": meta, "query": Value::Object(echoed) }),
    ))
}

/// Runs a store call on the blocking pool (DuckDB calls block).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    crate::error::off_thread(f).await
}

/// The site the request's `site_id` names (400 when it is missing or unknown).
async fn requested_site(state: &Arc<AppState>, request: &Value) -> Result<Site, ApiError> {
    let site_id = request
        .get("site_id")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_field("site_id", "site_id: required, a site's domain"))?
        .to_string();
    let st = state.clone();
    let sid = site_id.clone();
    blocking(move || st.store.site(&sid))
        .await?
        .ok_or_else(|| ApiError::bad_field("site_id", format!("site_id: unknown site {site_id:?}")))
}

/// The position of the query's time dimension, if it has one.
fn time_dimension(q: &AggregateQuery) -> Option<usize> {
    q.dimensions
        .iter()
        .position(|d| matches!(d, Field::Time(_)))
}

/// The response's `meta`: warnings, `total_rows`, the comparison's range and `time_labels`
/// as asked for. `rows` are the rows answered (filled for a compared time series).
fn meta(
    parsed: &Parsed,
    result: &AggregateResult,
    rows: &[AggregateRow],
    comparison: Option<&Compared>,
    tz: Tz,
) -> Map<String, Value> {
    let mut meta = Map::new();
    meta.insert("imports_included".into(), json!(false));
    let warnings = metric_warnings(&parsed.query.metrics, rows);
    if !warnings.is_empty() {
        meta.insert("metric_warnings".into(), Value::Object(warnings));
    }
    if parsed.total_rows {
        meta.insert("total_rows".into(), json!(result.total_rows));
    }
    if let Some(c) = comparison {
        meta.insert(
            "comparison_date_range".into(),
            json!([
                iso(tz, c.query.bounds.from_ms),
                iso(tz, c.query.bounds.to_ms - 1000)
            ]),
        );
    }
    if let Some(bucket) = parsed.time_labels {
        let q = &parsed.query;
        let mut from = q.bounds.from_ms;
        if from == 0 {
            // "all": from the first bucket with data.
            let ti = time_dimension(q).unwrap_or(0);
            from = result
                .rows
                .iter()
                .filter_map(|r| r.dimensions.get(ti))
                .filter_map(|l| NaiveDate::parse_from_str(l.get(..10)?, "%Y-%m-%d").ok())
                .min()
                .map(|d| local_midnight_ms(tz, d))
                .unwrap_or(q.bounds.to_ms);
        }
        meta.insert(
            "time_labels".into(),
            json!(time_labels(bucket, tz, from, q.bounds.to_ms, 100_000)),
        );
    }
    meta
}

/// A metric's value as Plausible returns it: whole numbers for counts, rounded rates and
/// durations; `null` when the row has none; revenue as `{value, currency, short, long}` when
/// the row's revenue is in one currency, else `null` (see `meta.metric_warnings`).
fn metric_values(metrics: &[Metric], row: &AggregateRow) -> Vec<Value> {
    metrics
        .iter()
        .zip(&row.metrics)
        .map(|(m, v)| {
            if v.is_nan() {
                Value::Null
            } else if m.is_revenue() {
                if single_currency(&row.currency) {
                    money(*v, &row.currency)
                } else {
                    Value::Null
                }
            } else if m.is_integer() {
                json!(v.round() as i64)
            } else {
                json!(v)
            }
        })
        .collect()
}

fn single_currency(c: &str) -> bool {
    !c.is_empty() && !c.contains('+')
}

/// `{value, currency, short, long}`: `long` with two decimals and thousands separators,
/// `short` with one decimal and K/M/B; the symbol for common currencies, else the code.
fn money(v: f64, currency: &str) -> Value {
    let symbol = match currency {
        "EUR" => "€",
        "USD" => "$",
        "GBP" => "£",
        "JPY" => "¥",
        "INR" => "₹",
        _ => "",
    };
    let prefix = |amount: String| {
        let (sign, digits) = match amount.strip_prefix('-') {
            Some(d) => ("-", d.to_string()),
            None => ("", amount),
        };
        if symbol.is_empty() {
            format!("{sign}{currency} {digits}")
        } else {
            format!("{sign}{symbol}{digits}")
        }
    };
    let fixed = format!("{:.2}", v.abs());
    let (int, frac) = fixed.split_once('.').unwrap_or((&fixed, "00"));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if v < 0.0 { "-" } else { "" };
    let long = prefix(format!("{sign}{grouped}.{frac}"));
    let a = v.abs();
    let compact = if a >= 1e9 {
        format!("{:.1}B", a / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", a / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}K", a / 1e3)
    } else {
        format!("{a:.1}")
    };
    let short = prefix(format!("{sign}{compact}"));
    json!({ "value": (v * 100.0).round() / 100.0, "currency": currency, "short": short, "long": long })
}

/// Why revenue metrics are `null` in some rows, keyed by metric (Plausible's shape).
fn metric_warnings(metrics: &[Metric], rows: &[AggregateRow]) -> Map<String, Value> {
    let mut out = Map::new();
    for m in metrics.iter().filter(|m| m.is_revenue()) {
        if rows.iter().any(|r| r.currency.contains('+')) {
            out.insert(
                m.name().into(),
                json!({"code": "no_single_revenue_currency",
                       "warning": "Revenue metrics are null where a row's revenue is in more than one currency."}),
            );
        } else if rows.iter().any(|r| r.currency.is_empty()) {
            out.insert(
                m.name().into(),
                json!({"code": "no_revenue_goals_matching",
                       "warning": "Revenue metrics are null where no event of the row carries revenue."}),
            );
        }
    }
    out
}

fn iso(tz: Tz, ms: i64) -> String {
    tz.timestamp_millis_opt(ms)
        .single()
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, false))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_follows_plausible() {
        assert_eq!(
            money(1234.5, "EUR"),
            json!({"value": 1234.5, "currency": "EUR", "short": "€1.2K", "long": "€1,234.50"})
        );
        assert_eq!(money(-3.0, "CHF")["long"], json!("-CHF 3.00"));
        assert_eq!(money(2_500_000.0, "USD")["short"], json!("$2.5M"));
    }
}
