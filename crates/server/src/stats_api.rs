//! `POST /api/v2/query`: Plausible's Stats API v2 request and response shapes for the metrics
//! and dimensions Waymark supports. Every request needs `Authorization: Bearer <api key>`;
//! every refusal is a 400 naming the field and the problem (unsupported metrics and dimensions
//! by name).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};
use serde_json::{json, Map, Value};
use waymark_core::range::local_midnight_ms;
use waymark_core::stats::{
    check_pattern, time_labels, AggregateQuery, Metric, OrderKey, StatsDimension, StatsFilter,
    StatsOp, TimeBucket, Tz,
};
use waymark_core::{DateRange, TimeBounds};

use crate::error::ApiError;
use crate::state::AppState;

/// Plausible metrics Waymark does not compute yet (refused by name).
const UNSUPPORTED_METRICS: &[&str] = &[
    "conversion_rate",
    "group_conversion_rate",
    "total_revenue",
    "average_revenue",
    "scroll_depth",
    "time_on_page",
    "exit_rate",
];

/// Plausible dimensions Waymark does not group by yet (refused by name).
const UNSUPPORTED_DIMENSIONS: &[&str] = &[
    "event:goal",
    "visit:entry_page_hostname",
    "visit:exit_page_hostname",
    "visit:country_name",
    "visit:region_name",
    "visit:city_name",
];

const MAX_LIMIT: usize = 10_000;

/// The routes, merged into the server's router.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/api/v2/query", post(query))
}

async fn query(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    crate::auth::require_bearer(&state.config, &headers)?;
    let request: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_field("body", format!("the body is not valid JSON: {e}")))?;
    let site_id = request
        .get("site_id")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_field("site_id", "site_id: required, a site's domain"))?
        .to_string();
    let st = state.clone();
    let sid = site_id.clone();
    let site = tokio::task::spawn_blocking(move || st.store.site(&sid))
        .await
        .map_err(|_| internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "store error in the stats API");
            internal()
        })?
        .ok_or_else(|| {
            ApiError::bad_field("site_id", format!("site_id: unknown site {site_id:?}"))
        })?;
    let parsed = parse(&request, site.tz(), Utc::now())?;
    let st = state.clone();
    let q = parsed.query.clone();
    let result = tokio::task::spawn_blocking(move || st.store.aggregate(&q))
        .await
        .map_err(|_| internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "store error in the stats API");
            internal()
        })?;
    let results: Vec<Value> = result
        .rows
        .iter()
        .map(|r| {
            let metrics: Vec<Value> = r
                .metrics
                .iter()
                .zip(&parsed.query.metrics)
                .map(|(v, m)| {
                    if m.is_integer() {
                        json!(v.round() as i64)
                    } else {
                        json!(v)
                    }
                })
                .collect();
            json!({ "metrics": metrics, "dimensions": r.dimensions })
        })
        .collect();
    let mut meta = Map::new();
    meta.insert("imports_included".into(), json!(false));
    if parsed.total_rows {
        meta.insert("total_rows".into(), json!(result.total_rows));
    }
    let tz = site.tz();
    if let Some(bucket) = parsed.time_labels {
        let mut from = parsed.query.bounds.from_ms;
        if from == 0 {
            // "all": from the first bucket with data.
            let ti = parsed
                .query
                .dimensions
                .iter()
                .position(|d| matches!(d, StatsDimension::Time(_)))
                .unwrap_or(0);
            from = result
                .rows
                .iter()
                .filter_map(|r| r.dimensions.get(ti))
                .filter_map(|l| NaiveDate::parse_from_str(l.get(..10)?, "%Y-%m-%d").ok())
                .min()
                .map(|d| local_midnight_ms(tz, d))
                .unwrap_or(parsed.query.bounds.to_ms);
        }
        meta.insert(
            "time_labels".into(),
            json!(time_labels(
                bucket,
                tz,
                from,
                parsed.query.bounds.to_ms,
                100_000
            )),
        );
    }
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

fn internal() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the store failed; see the server log",
    )
}

fn iso(tz: Tz, ms: i64) -> String {
    tz.timestamp_millis_opt(ms)
        .single()
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, false))
        .unwrap_or_default()
}

/// A validated request.
#[derive(Debug)]
pub struct Parsed {
    pub query: AggregateQuery,
    pub total_rows: bool,
    /// `include.time_labels`: the bucket to list labels of.
    pub time_labels: Option<TimeBucket>,
    /// The normalised query echoed in the response.
    pub echo: Map<String, Value>,
}

fn bad(field: &'static str, msg: impl Into<String>) -> ApiError {
    ApiError::bad_field(field, format!("{field}: {}", msg.into()))
}

/// Validates a Stats API v2 request for a site in `tz` at instant `now`.
pub fn parse(req: &Value, tz: Tz, now: DateTime<Utc>) -> Result<Parsed, ApiError> {
    let obj = req
        .as_object()
        .ok_or_else(|| ApiError::bad_field("body", "the body must be a JSON object"))?;
    for k in obj.keys() {
        if ![
            "site_id",
            "metrics",
            "date_range",
            "dimensions",
            "filters",
            "order_by",
            "include",
            "pagination",
        ]
        .contains(&k.as_str())
        {
            return Err(ApiError::bad_field(
                "body",
                format!("unknown field {k:?}: use site_id, metrics, date_range, dimensions, filters, order_by, include, pagination"),
            ));
        }
    }

    // metrics
    let list = obj
        .get("metrics")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| {
            bad(
                "metrics",
                "required, a non-empty list such as [\"visitors\"]",
            )
        })?;
    let mut metrics = Vec::new();
    for m in list {
        let name = m
            .as_str()
            .ok_or_else(|| bad("metrics", format!("{m} is not a metric name")))?;
        let metric = Metric::parse(name).ok_or_else(|| {
            if UNSUPPORTED_METRICS.contains(&name) {
                bad(
                    "metrics",
                    format!("metric {name:?} is not supported by Waymark yet"),
                )
            } else {
                bad(
                    "metrics",
                    format!(
                        "unknown metric {name:?}: use {}",
                        Metric::ALL.map(|m| m.name()).join(", ")
                    ),
                )
            }
        })?;
        if metrics.contains(&metric) {
            return Err(bad("metrics", format!("metric {name:?} is listed twice")));
        }
        metrics.push(metric);
    }

    // date_range
    let range = obj.get("date_range").ok_or_else(|| {
        bad(
            "date_range",
            "required, e.g. \"7d\" or [\"2026-01-01\", \"2026-01-31\"]",
        )
    })?;
    let bounds = parse_range(range, tz, now)?;

    // dimensions
    let mut dimensions = Vec::new();
    let mut dim_names = Vec::new();
    if let Some(d) = obj.get("dimensions") {
        let list = d
            .as_array()
            .ok_or_else(|| bad("dimensions", "must be a list of dimension names"))?;
        for v in list {
            let name = v
                .as_str()
                .ok_or_else(|| bad("dimensions", format!("{v} is not a dimension name")))?;
            let dim = parse_dimension("dimensions", name)?;
            if dimensions.contains(&dim) {
                return Err(bad(
                    "dimensions",
                    format!("dimension {name:?} is listed twice"),
                ));
            }
            dimensions.push(dim);
            dim_names.push(name.to_string());
        }
    }
    if metrics.contains(&Metric::Percentage) && dimensions.is_empty() {
        return Err(bad(
            "metrics",
            "metric \"percentage\" needs at least one dimension",
        ));
    }
    if let Some(m) = metrics.iter().find(|m| m.is_session()) {
        if let Some(i) = dimensions.iter().position(|d| d.is_event()) {
            return Err(bad(
                "metrics",
                format!(
                    "session metric {:?} cannot be grouped by event dimension {:?}",
                    m.name(),
                    dim_names[i]
                ),
            ));
        }
    }

    // filters
    let mut filters = Vec::new();
    if let Some(f) = obj.get("filters") {
        let list = f
            .as_array()
            .ok_or_else(|| bad("filters", "must be a list of filters"))?;
        for f in list {
            filters.push(parse_filter(f)?);
        }
    }
    let filter = if filters.is_empty() {
        None
    } else {
        Some(StatsFilter::And(filters))
    };

    // order_by
    let mut order_by = Vec::new();
    if let Some(o) = obj.get("order_by") {
        let list = o
            .as_array()
            .ok_or_else(|| bad("order_by", "must be a list of [name, \"asc\"|\"desc\"]"))?;
        for item in list {
            let pair = item.as_array().filter(|p| p.len() == 2).ok_or_else(|| {
                bad(
                    "order_by",
                    format!("{item} is not [name, \"asc\"|\"desc\"]"),
                )
            })?;
            let name = pair[0].as_str().unwrap_or_default();
            let desc = match pair[1].as_str() {
                Some("desc") => true,
                Some("asc") => false,
                _ => {
                    return Err(bad(
                        "order_by",
                        format!("direction {} must be \"asc\" or \"desc\"", pair[1]),
                    ))
                }
            };
            let key = if let Some(m) = Metric::parse(name).filter(|m| metrics.contains(m)) {
                OrderKey::Metric(m)
            } else if let Some(i) = dim_names.iter().position(|d| d == name) {
                OrderKey::Dimension(i)
            } else {
                return Err(bad(
                    "order_by",
                    format!("{name:?} is neither a requested metric nor a requested dimension"),
                ));
            };
            order_by.push((key, desc));
        }
    }

    // include
    let mut total_rows = false;
    let mut time_labels = false;
    if let Some(inc) = obj.get("include") {
        let inc = inc
            .as_object()
            .ok_or_else(|| bad("include", "must be an object"))?;
        for (k, v) in inc {
            let on = v
                .as_bool()
                .ok_or_else(|| bad("include", format!("{k} must be true or false")))?;
            match k.as_str() {
                "total_rows" => total_rows = on,
                "imports" => {}
                "time_labels" => time_labels = on,
                other => {
                    return Err(bad(
                        "include",
                        format!("unknown option {other:?}: use total_rows, imports, time_labels"),
                    ))
                }
            }
        }
    }

    let time_bucket = dimensions.iter().find_map(|d| match d {
        StatsDimension::Time(b) => Some(*b),
        _ => None,
    });
    if time_labels && time_bucket.is_none() {
        return Err(bad(
            "include",
            "time_labels needs a time dimension such as \"time:day\"",
        ));
    }

    // pagination
    let (mut limit, mut offset) = (MAX_LIMIT, 0usize);
    if let Some(p) = obj.get("pagination") {
        let p = p
            .as_object()
            .ok_or_else(|| bad("pagination", "must be {\"limit\": n, \"offset\": n}"))?;
        for (k, v) in p {
            let n = v
                .as_u64()
                .ok_or_else(|| bad("pagination", format!("{k} must be a whole number")))?;
            match k.as_str() {
                "limit" if n == 0 || n > MAX_LIMIT as u64 => {
                    return Err(bad(
                        "pagination",
                        format!("limit must be between 1 and {MAX_LIMIT}"),
                    ))
                }
                "limit" => limit = n as usize,
                "offset" => offset = n as usize,
                other => {
                    return Err(bad(
                        "pagination",
                        format!("unknown option {other:?}: use limit, offset"),
                    ))
                }
            }
        }
    }

    let mut echo = Map::new();
    echo.insert(
        "metrics".into(),
        json!(metrics.iter().map(|m| m.name()).collect::<Vec<_>>()),
    );
    echo.insert("dimensions".into(), json!(dim_names));
    echo.insert(
        "filters".into(),
        obj.get("filters").cloned().unwrap_or(json!([])),
    );
    echo.insert(
        "order_by".into(),
        json!(order_by
            .iter()
            .map(|(k, d)| {
                let name = match k {
                    OrderKey::Metric(m) => m.name().to_string(),
                    OrderKey::Dimension(i) => dim_names[*i].clone(),
                };
                json!([name, if *d { "desc" } else { "asc" }])
            })
            .collect::<Vec<_>>()),
    );
    echo.insert(
        "include".into(),
        json!({ "total_rows": total_rows, "time_labels": time_labels, "imports": false }),
    );
    echo.insert(
        "pagination".into(),
        json!({ "limit": limit, "offset": offset }),
    );

    Ok(Parsed {
        query: AggregateQuery {
            site: String::new(),
            bounds,
            timezone: tz,
            metrics,
            dimensions,
            filter,
            order_by,
            limit,
            offset,
        },
        total_rows,
        time_labels: if time_labels { time_bucket } else { None },
        echo,
    })
    .map(|mut p| {
        p.query.site = obj
            .get("site_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        p
    })
}

fn parse_dimension(field: &'static str, name: &str) -> Result<StatsDimension, ApiError> {
    StatsDimension::parse(name).ok_or_else(|| {
        if name.starts_with("event:props:") {
            bad(field, format!("{name:?}: name a property (at most 300 bytes), e.g. event:props:plan"))
        } else if UNSUPPORTED_DIMENSIONS.contains(&name) {
            bad(field, format!("dimension {name:?} is not supported by Waymark yet"))
        } else {
            bad(
                field,
                format!(
                    "unknown dimension {name:?}: use visit:source, visit:channel, visit:referrer, \
                     visit:utm_*, visit:country, visit:region, visit:city, visit:device, visit:browser, \
                     visit:os, visit:entry_page, visit:exit_page, event:page, event:name, event:hostname, \
                     event:props:<key> or time:hour|day|week|month"
                ),
            )
        }
    })
}

fn parse_filter(f: &Value) -> Result<StatsFilter, ApiError> {
    let list = f.as_array().filter(|l| !l.is_empty()).ok_or_else(|| {
        bad(
            "filters",
            format!("{f} is not a filter such as [\"is\", \"visit:country\", [\"DE\"]]"),
        )
    })?;
    let op = list[0]
        .as_str()
        .ok_or_else(|| bad("filters", format!("{} is not an operator", list[0])))?;
    match op {
        "and" | "or" => {
            let inner = list
                .get(1)
                .and_then(Value::as_array)
                .filter(|_| list.len() == 2)
                .ok_or_else(|| bad("filters", format!("{op:?} takes one list of filters")))?;
            let parts = inner.iter().map(parse_filter).collect::<Result<Vec<_>, _>>()?;
            Ok(if op == "and" {
                StatsFilter::And(parts)
            } else {
                StatsFilter::Or(parts)
            })
        }
        "not" => {
            let inner = list
                .get(1)
                .filter(|_| list.len() == 2)
                .ok_or_else(|| bad("filters", "\"not\" takes one filter"))?;
            Ok(StatsFilter::Not(Box::new(parse_filter(inner)?)))
        }
        "is" | "is_not" | "contains" | "contains_not" | "matches" | "matches_not" => {
            if !(3..=4).contains(&list.len()) {
                return Err(bad(
                    "filters",
                    format!("{op:?} takes [op, dimension, [values]] and optional {{\"case_sensitive\": bool}}"),
                ));
            }
            let name = list[1]
                .as_str()
                .ok_or_else(|| bad("filters", format!("{} is not a dimension name", list[1])))?;
            let dimension = parse_dimension("filters", name)?;
            if matches!(dimension, StatsDimension::Time(_)) {
                return Err(bad("filters", format!("cannot filter by {name:?}: use date_range")));
            }
            let values = list[2]
                .as_array()
                .ok_or_else(|| bad("filters", format!("the values of {name:?} must be a list")))?
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    other => Err(bad("filters", format!("{other} is not a filter value"))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut case_sensitive = true;
            if let Some(mods) = list.get(3) {
                case_sensitive = mods
                    .get("case_sensitive")
                    .and_then(Value::as_bool)
                    .ok_or_else(|| bad("filters", "modifiers must be {\"case_sensitive\": bool}"))?;
            }
            let op = match op {
                "is" => StatsOp::Is,
                "is_not" => StatsOp::IsNot,
                "contains" => StatsOp::Contains,
                "contains_not" => StatsOp::ContainsNot,
                "matches" => StatsOp::Matches,
                _ => StatsOp::MatchesNot,
            };
            if matches!(op, StatsOp::Matches | StatsOp::MatchesNot) {
                for v in &values {
                    check_pattern(v).map_err(|e| {
                        bad("filters", format!("invalid regular expression {v:?}: {e}"))
                    })?;
                }
            }
            Ok(StatsFilter::Compare {
                op,
                dimension,
                values,
                case_sensitive,
            })
        }
        "has_done" | "has_not_done" => Err(bad(
            "filters",
            format!("behavioural filter {op:?} is not supported by Waymark yet"),
        )),
        other => Err(bad(
            "filters",
            format!("unknown operator {other:?}: use is, is_not, contains, contains_not, matches, matches_not, and, or, not"),
        )),
    }
}

fn parse_range(v: &Value, tz: Tz, now: DateTime<Utc>) -> Result<TimeBounds, ApiError> {
    match v {
        Value::String(s) => {
            if s == "24h" {
                let to = now.timestamp_millis();
                return Ok(TimeBounds {
                    from_ms: to - 86_400_000,
                    to_ms: to,
                });
            }
            let ok = matches!(
                s.as_str(),
                "day" | "7d" | "28d" | "30d" | "91d" | "month" | "6mo" | "12mo" | "year" | "all"
            );
            let r: DateRange = s.parse().ok().filter(|_| ok).ok_or_else(|| {
                bad(
                    "date_range",
                    format!("unknown preset {s:?}: use day, 24h, 7d, 28d, 30d, 91d, month, 6mo, 12mo, year, all, or [\"YYYY-MM-DD\", \"YYYY-MM-DD\"]"),
                )
            })?;
            let mut b = r.bounds(tz, now);
            if r == DateRange::All {
                // Up to the end of today: the echoed range stays readable.
                b.from_ms = 0;
                b.to_ms = DateRange::Day.bounds(tz, now).to_ms;
            }
            Ok(b)
        }
        Value::Array(pair) if pair.len() == 2 => {
            let (Some(a), Some(b)) = (pair[0].as_str(), pair[1].as_str()) else {
                return Err(bad("date_range", "both ends must be strings"));
            };
            if let (Ok(a), Ok(b)) = (
                NaiveDate::parse_from_str(a, "%Y-%m-%d"),
                NaiveDate::parse_from_str(b, "%Y-%m-%d"),
            ) {
                if b < a {
                    return Err(bad("date_range", "the end lies before the start"));
                }
                return Ok(TimeBounds {
                    from_ms: local_midnight_ms(tz, a),
                    to_ms: local_midnight_ms(tz, b + chrono::Duration::days(1)),
                });
            }
            let (Ok(a), Ok(b)) = (
                DateTime::parse_from_rfc3339(a),
                DateTime::parse_from_rfc3339(b),
            ) else {
                return Err(bad(
                    "date_range",
                    format!("{a:?}, {b:?}: use two YYYY-MM-DD dates or two ISO 8601 date-times with offsets"),
                ));
            };
            if b < a {
                return Err(bad("date_range", "the end lies before the start"));
            }
            Ok(TimeBounds {
                from_ms: a.timestamp_millis(),
                to_ms: b.timestamp_millis() + 1000,
            })
        }
        other => Err(bad(
            "date_range",
            format!("{other} is not a preset such as \"7d\" nor a pair of dates"),
        )),
    }
}
