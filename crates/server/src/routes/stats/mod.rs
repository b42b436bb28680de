//! `POST /api/v2/query`, Plausible's Stats API v2 (read credentials, see [`crate::access`]): the
//! route, the handler and the response's shape; `parse` validates requests, `compare` runs the
//! comparison, `revenue` and `money` shape revenue as Plausible does.

mod compare;
mod money;
mod parse;
mod revenue;

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

use crate::error::{json_body, ApiError};
use crate::state::AppState;

use compare::Compared;
use revenue::{Revenue, Shown};

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
    let request: Value = json_body(&body)?;
    let site = requested_site(&state, &request).await?;
    let tz = site.tz();
    let mut parsed = parse(&request, tz, Utc::now())?;
    // Goals are the site's conversion definitions: named goals must exist.
    let mut conversions = Vec::new();
    if parsed.query.uses_goals() {
        let st = state.clone();
        let sid = site.domain.clone();
        conversions = blocking(move || st.store.conversions(&sid)).await?;
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
    let revenue = Revenue::new(
        &parsed.query,
        &conversions,
        rows.iter().chain(comparison.iter().flat_map(|c| c.rows())),
    );
    let metrics = &parsed.query.metrics;
    let results: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut row = json!({ "metrics": metric_values(metrics, r, &revenue),
                                  "dimensions": r.dimensions });
            if let Some(c) = &comparison {
                row["comparison"] = c.block(metrics, r, &revenue);
            }
            row
        })
        .collect();
    let meta = meta(&parsed, &result, &rows, comparison.as_ref(), &revenue, tz);
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
    revenue: &Revenue,
    tz: Tz,
) -> Map<String, Value> {
    let mut meta = Map::new();
    meta.insert("imports_included".into(), json!(false));
    let warnings = revenue.warnings(&parsed.query.metrics, rows);
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

/// A metric's value as the answer shows it: whole numbers for counts and the rates and
/// durations Plausible rounds, the rates with their decimals ([`Metric::round`]), revenue at
/// Plausible's precision when the row shows it ([`Revenue`]); `None` when the row has none.
/// Changes are computed from these, so they agree with the numbers shown.
fn shown_value(m: Metric, v: f64, row: &AggregateRow, revenue: &Revenue) -> Option<f64> {
    if v.is_nan() {
        None
    } else if m.is_revenue() {
        match revenue.shown(row) {
            Shown::In(_) => Some(money::value_of(v, m == Metric::AverageRevenue)),
            Shown::Null(_) => None,
        }
    } else {
        Some(m.round(v))
    }
}

/// The row's metrics as Plausible returns them: [`shown_value`], revenue as
/// `{value, currency, short, long}` ([`money::money`]), `null` for none.
fn metric_values(metrics: &[Metric], row: &AggregateRow, revenue: &Revenue) -> Vec<Value> {
    metrics
        .iter()
        .zip(&row.metrics)
        .map(
            |(m, v)| match (shown_value(*m, *v, row, revenue), revenue.shown(row)) {
                (None, _) => Value::Null,
                (Some(_), Shown::In(currency)) if m.is_revenue() => {
                    money::money(*v, currency, *m == Metric::AverageRevenue)
                }
                (Some(x), _) if m.is_integer() => json!(x as i64),
                (Some(x), _) => json!(x),
            },
        )
        .collect()
}

fn iso(tz: Tz, ms: i64) -> String {
    tz.timestamp_millis_opt(ms)
        .single()
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, false))
        .unwrap_or_default()
}
