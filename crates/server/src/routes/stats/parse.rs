//! Request parsing and validation for `POST /api/v2/query`: the body's fields, dimensions,
//! filters, date ranges and `include.comparisons`, each refused by field with a precise 400.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Map, Value};
use waymark_core::query::{
    check_pattern, AggregateQuery, Condition, EventField, Field, Filter, Goal, Metric, Op,
    OrderKey, TimeBucket,
};
use waymark_core::range::local_midnight_ms;
use waymark_core::{DateRange, TimeBounds, Tz};
use waymark_insight::compare::{previous_period, year_over_year};

use super::compare::Comparison;
use super::MAX_LIMIT;
use crate::error::ApiError;

/// Plausible metrics Waymark does not compute yet (refused by name).
const UNSUPPORTED_METRICS: &[&str] = &["exit_rate"];

/// A validated request.
#[derive(Debug)]
pub struct Parsed {
    pub query: AggregateQuery,
    pub total_rows: bool,
    /// `include.time_labels`: the bucket to list labels of.
    pub time_labels: Option<TimeBucket>,
    /// `include.comparisons`: the period to compare with.
    pub comparison: Option<Comparison>,
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
            let parsed = parse_filter(f)?;
            if !matches!(parsed, Filter::Compare(_)) && parsed.uses_goals() {
                return Err(bad(
                    "filters",
                    "\"event:goal\" can only be filtered at the top level, not inside and/or/not",
                ));
            }
            filters.push(parsed);
        }
    }
    check_metric_needs(&metrics, &dimensions, &dim_names, &filters)?;
    let filter = if filters.is_empty() {
        None
    } else {
        Some(Filter::And(filters))
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
    let mut comparison = None;
    let mut comparison_echo = Value::Null;
    if let Some(inc) = obj.get("include") {
        let inc = inc
            .as_object()
            .ok_or_else(|| bad("include", "must be an object"))?;
        for (k, v) in inc {
            if k == "comparisons" {
                if !v.is_null() {
                    let c = parse_comparison(v, range, bounds, tz, now)?;
                    comparison_echo = v.clone();
                    comparison = Some(c);
                }
                continue;
            }
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
                        format!("unknown option {other:?}: use total_rows, imports, time_labels, comparisons"),
                    ))
                }
            }
        }
    }

    let time_bucket = dimensions.iter().find_map(|d| match d {
        Field::Time(b) => Some(*b),
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
    let mut include =
        json!({ "total_rows": total_rows, "time_labels": time_labels, "imports": false });
    if !comparison_echo.is_null() {
        include["comparisons"] = comparison_echo;
    }
    echo.insert("include".into(), include);
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
            goals: Vec::new(),
            order_by,
            limit,
            offset,
        },
        total_rows,
        time_labels: if time_labels { time_bucket } else { None },
        comparison,
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

fn parse_dimension(field: &'static str, name: &str) -> Result<Field, ApiError> {
    let f = Field::parse(name).map_err(|e| bad(field, e.0))?;
    // The Stats API names fields in full (`visit:source`); the reports' short names and a
    // visit's property (`prop:NAME`) are Waymark's report syntax.
    let full = name.starts_with("visit:") || name.starts_with("event:") || name.starts_with("time");
    if !full || matches!(f, Field::VisitProp(_)) {
        return Err(bad(
            field,
            format!("unknown dimension {name:?}: use visit:*, event:* or time:* names, e.g. visit:source, event:page, event:props:plan, time:day"),
        ));
    }
    Ok(f)
}

fn parse_filter(f: &Value) -> Result<Filter, ApiError> {
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
                Filter::And(parts)
            } else {
                Filter::Or(parts)
            })
        }
        "not" => {
            let inner = list
                .get(1)
                .filter(|_| list.len() == 2)
                .ok_or_else(|| bad("filters", "\"not\" takes one filter"))?;
            Ok(Filter::Not(Box::new(parse_filter(inner)?)))
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
            if matches!(dimension, Field::Time(_)) {
                return Err(bad("filters", format!("cannot filter by {name:?}: use date_range")));
            }
            if dimension == Field::Goal
                && !matches!(op, "is" | "is_not" | "contains" | "contains_not")
            {
                return Err(bad(
                    "filters",
                    format!("\"event:goal\" cannot be filtered with {op:?}: use is, is_not, contains or contains_not"),
                ));
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
            let op = Op::parse(op).unwrap_or(Op::Is);
            if matches!(op, Op::Matches | Op::MatchesNot) {
                for v in &values {
                    check_pattern(v).map_err(|e| {
                        bad("filters", format!("invalid regular expression {v:?}: {e}"))
                    })?;
                }
            }
            Ok(Filter::Compare(Condition {
                field: dimension,
                op,
                values,
                case_sensitive,
            }))
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
            if s == "24h" || s == "realtime" {
                // `realtime` (a Waymark extension): the last 5 minutes, as the dashboard's
                // live view counts "current visitors".
                let to = now.timestamp_millis();
                let span = if s == "24h" { 86_400_000 } else { 300_000 };
                return Ok(TimeBounds {
                    from_ms: to - span,
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
                    format!("unknown preset {s:?}: use day, 24h, 7d, 28d, 30d, 91d, month, 6mo, 12mo, year, all, realtime, or [\"YYYY-MM-DD\", \"YYYY-MM-DD\"]"),
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
            // The end second is included, as with dates.
            Ok(TimeBounds {
                from_ms: a.timestamp_millis(),
                to_ms: (b.timestamp() + 1) * 1000,
            })
        }
        other => Err(bad(
            "date_range",
            format!("{other} is not a preset such as \"7d\" nor a pair of dates"),
        )),
    }
}

/// Plausible's rules on what the goal, revenue and engagement metrics need, refused by name.
fn check_metric_needs(
    metrics: &[Metric],
    dimensions: &[Field],
    dim_names: &[String],
    filters: &[Filter],
) -> Result<(), ApiError> {
    let page = Field::Event(EventField::Page);
    let goal_dim = dimensions.contains(&Field::Goal);
    let goals = goal_dim || filters.iter().any(Filter::uses_goals);
    let page_dim = dimensions.contains(&page);
    for m in metrics {
        let name = m.name();
        match m {
            Metric::ConversionRate
            | Metric::GroupConversionRate
            | Metric::TotalRevenue
            | Metric::AverageRevenue
                if !goals =>
            {
                return Err(bad(
                    "metrics",
                    format!("metric {name:?} can only be queried with an event:goal filter or dimension, e.g. [\"is\", \"event:goal\", [\"Purchase\"]]"),
                ));
            }
            Metric::ConversionRate | Metric::GroupConversionRate
                if filters
                    .iter()
                    .any(|f| !matches!(f, Filter::Compare(_)) && prop_anywhere(f)) =>
            {
                return Err(bad(
                    "filters",
                    format!("with metric {name:?}, event:props filters must be at the top level, not inside and/or/not"),
                ));
            }
            Metric::ScrollDepth
                if !page_dim
                    && !filters
                        .iter()
                        .any(|f| matches!(f, Filter::Compare(c) if c.field == page)) =>
            {
                return Err(bad(
                    "metrics",
                    format!("metric {name:?} can only be queried with an event:page dimension or a top-level event:page filter"),
                ));
            }
            Metric::TimeOnPage if !page_dim && !filters.iter().any(|f| f.mentions(&page)) => {
                return Err(bad(
                    "metrics",
                    format!("metric {name:?} can only be queried with an event:page filter or dimension"),
                ));
            }
            Metric::ScrollDepth | Metric::TimeOnPage if goal_dim => {
                let i = dimensions
                    .iter()
                    .position(|d| *d == Field::Goal)
                    .unwrap_or(0);
                return Err(bad(
                    "metrics",
                    format!(
                        "metric {name:?} cannot be grouped by {:?}: it comes from engagement events, which are no conversions",
                        dim_names.get(i).map(String::as_str).unwrap_or("event:goal")
                    ),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn prop_anywhere(f: &Filter) -> bool {
    f.any(|c| matches!(c.field, Field::Prop(_)))
}

/// Parses `include.comparisons` (`{"mode": "previous_period" | "year_over_year" | "custom",
/// "date_range": [...]}`) into the period to compare with.
fn parse_comparison(
    v: &Value,
    range: &Value,
    bounds: TimeBounds,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Comparison, ApiError> {
    let obj = v.as_object().ok_or_else(|| {
        bad(
            "include",
            "comparisons must be an object such as {\"mode\": \"previous_period\"}",
        )
    })?;
    for k in obj.keys() {
        if k != "mode" && k != "date_range" {
            return Err(bad(
                "include",
                format!("comparisons: unknown option {k:?}: use mode, date_range"),
            ));
        }
    }
    let mode = obj.get("mode").and_then(Value::as_str).ok_or_else(|| {
        bad(
            "include",
            "comparisons.mode: required, previous_period, year_over_year or custom",
        )
    })?;
    if !["previous_period", "year_over_year", "custom"].contains(&mode) {
        return Err(bad(
            "include",
            format!("comparisons.mode {mode:?}: use previous_period, year_over_year or custom"),
        ));
    }
    if range.as_str() == Some("all") {
        return Err(bad(
            "include",
            "comparisons cannot compare date_range \"all\": name a period",
        ));
    }
    let custom = obj.get("date_range");
    let bounds = match (mode, custom) {
        ("custom", None) => {
            return Err(bad(
                "include",
                "comparisons.date_range: required with mode \"custom\", e.g. [\"2026-01-01\", \"2026-01-31\"]",
            ))
        }
        ("custom", Some(r)) if r.is_array() => parse_range(r, tz, now)
            .map_err(|e| bad("include", format!("comparisons.{}", e.message())))?,
        ("custom", Some(_)) => {
            return Err(bad(
                "include",
                "comparisons.date_range must be two dates or two ISO 8601 date-times",
            ))
        }
        (_, Some(_)) => {
            return Err(bad(
                "include",
                "comparisons.date_range is only for mode \"custom\"",
            ))
        }
        ("previous_period", None) => previous_period(bounds, tz, now),
        _ => year_over_year(bounds, tz, now),
    };
    Ok(Comparison {
        mode: mode.to_string(),
        bounds,
    })
}

/// Refuses `event:goal` filters naming goals the site does not define (`is`, `is_not`).
pub fn check_goal_names(q: &AggregateQuery) -> Result<(), ApiError> {
    for f in q.filter.iter().flat_map(Filter::top_level) {
        if let Filter::Compare(c) = f {
            if c.field == Field::Goal {
                Goal::check(c, &q.goals).map_err(|e| bad("filters", e.to_string()))?;
            }
        }
    }
    Ok(())
}
