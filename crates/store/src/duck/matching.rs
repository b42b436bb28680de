//! Triggers, filters and visit attributes in DuckDB SQL, shared by the conversion and funnel
//! queries. Only column names and numbers chosen here enter the SQL text; every user value
//! (names, paths, property keys and values, patterns) is a numbered bound parameter.
//!
//! [`scoped_events`] builds the `ev` relation both queries start from: the site's events in
//! range, in visits that pass the filters (visit attributes compare; for event filters, the
//! visit includes a non-engagement event that compares, by the same SQL: `event:goal` by the
//! goals' trigger [`condition`]s), with the visit's breakdown value (`seg`) and, when a
//! trigger needs it, the engagement of the page view each event belongs to (`page_engaged_ms`,
//! `page_scroll`): the engagement events of the same visit and path after the latest pageview
//! of that path at or before the event, summed (time) and maxed (scroll).

use duckdb::types::Value;
use waymark_core::query::{Condition, Field, Filter, Goal, Op, VisitField};
use waymark_core::trigger::NUMERIC_PATTERN;
use waymark_core::{PathPattern, PropOp, Subject, TimeBounds, Trigger};

use crate::StoreError;

/// Parameters in the order of their `$n` placeholders.
#[derive(Default)]
pub(crate) struct Binds {
    pub values: Vec<Value>,
}

impl Binds {
    /// Binds a value and returns its placeholder.
    pub fn push(&mut self, v: impl Into<Value>) -> String {
        self.values.push(v.into());
        format!("${}", self.values.len())
    }

    fn text(&mut self, s: &str) -> String {
        self.push(Value::Text(s.to_string()))
    }
}

/// The value of property `key` on the row (`NULL` when missing).
fn prop_value(key_param: &str) -> String {
    format!("list_extract(prop_values, list_position(prop_keys, {key_param}))")
}

/// A numeric-looking property value as a DOUBLE, else `NULL`.
fn numeric_value(v: &str, num_re: &str) -> String {
    format!("(CASE WHEN regexp_full_match({v}, {num_re}) THEN TRY_CAST({v} AS DOUBLE) END)")
}

/// SQL for `=`: numeric when both sides look numeric, else exact text; `NULL` when missing.
fn equals(v: &str, want: &str, b: &mut Binds) -> String {
    match waymark_core::trigger::numeric(want) {
        Some(n) => {
            let num_re = b.text(NUMERIC_PATTERN);
            let n = b.push(Value::Double(n));
            let w = b.text(want);
            format!(
                "(CASE WHEN regexp_full_match({v}, {num_re}) THEN TRY_CAST({v} AS DOUBLE) = {n} ELSE {v} = {w} END)"
            )
        }
        None => {
            let w = b.text(want);
            format!("({v} = {w})")
        }
    }
}

/// `pathname` matches the pattern.
fn path_condition(path: &PathPattern, b: &mut Binds) -> String {
    if path.is_exact() {
        let p = b.text(path.as_str());
        format!("pathname = {p}")
    } else {
        let p = b.text(&path.to_regex());
        format!("regexp_full_match(pathname, {p})")
    }
}

/// The rows whose page engagement can matter to `triggers` (those with engagement
/// conditions): their pageviews, engagement events and custom events, on their paths.
fn engagement_rows(triggers: &[&Trigger], b: &mut Binds) -> String {
    let mut names = vec!["'pageview'".to_string(), "'engagement'".to_string()];
    let mut paths = Vec::new();
    let mut all_paths = false;
    for t in triggers {
        if let Subject::Event(n) = &t.subject {
            names.push(b.text(n));
        }
        match &t.path {
            Some(p) => paths.push(path_condition(p, b)),
            None => all_paths = true,
        }
    }
    let path = if all_paths || paths.is_empty() {
        "true".to_string()
    } else {
        paths.join(" OR ")
    };
    format!("(name IN ({}) AND ({path}))", names.join(", "))
}

/// A boolean SQL expression over an `ev` row for `t`.
pub(crate) fn condition(t: &Trigger, b: &mut Binds) -> String {
    let mut parts = Vec::new();
    match &t.subject {
        Subject::Pageview => parts.push("name = 'pageview'".to_string()),
        Subject::Event(n) => {
            let p = b.text(n);
            parts.push(format!("name = {p}"));
        }
    }
    if let Some(path) = &t.path {
        parts.push(path_condition(path, b));
    }
    for c in &t.props {
        let key = b.text(&c.key);
        let v = prop_value(&key);
        let sql = match &c.op {
            PropOp::Eq(w) => format!("coalesce({}, false)", equals(&v, w, b)),
            PropOp::Ne(w) => format!("coalesce(NOT {}, true)", equals(&v, w, b)),
            PropOp::Gt(w) | PropOp::Ge(w) | PropOp::Lt(w) | PropOp::Le(w) => {
                let op = match &c.op {
                    PropOp::Gt(_) => ">",
                    PropOp::Ge(_) => ">=",
                    PropOp::Lt(_) => "<",
                    _ => "<=",
                };
                let num_re = b.text(NUMERIC_PATTERN);
                // The parser only accepts numeric operands here.
                let n = b.push(Value::Double(
                    waymark_core::trigger::numeric(w).unwrap_or(f64::NAN),
                ));
                format!("coalesce({} {op} {n}, false)", numeric_value(&v, &num_re))
            }
            PropOp::Contains(w) => {
                let p = b.text(w);
                format!("coalesce(contains({v}, {p}), false)")
            }
            PropOp::Matches(re) => {
                let p = b.text(re);
                format!("coalesce(regexp_matches({v}, {p}), false)")
            }
            PropOp::IsSet => format!("list_contains(prop_keys, {key})"),
            PropOp::IsNotSet => format!("NOT list_contains(prop_keys, {key})"),
        };
        parts.push(sql);
    }
    if let Some(ms) = t.min_engaged_ms {
        let p = b.push(Value::BigInt(ms as i64));
        parts.push(format!("page_engaged_ms >= {p}"));
    }
    if let Some(s) = t.min_scroll {
        let p = b.push(Value::Int(i32::from(s)));
        parts.push(format!("page_scroll >= {p}"));
    }
    format!("({})", parts.join(" AND "))
}

/// The SQL of a visit field, aggregated over a visit's events (`GROUP BY visitor_id, session_id`).
fn visit_attribute(a: &Field, b: &mut Binds) -> Result<String, StoreError> {
    Ok(match a {
        Field::Visit(f) if f.from_pageview() => {
            let col = if matches!(f, VisitField::EntryPage | VisitField::ExitPage) {
                "pathname"
            } else {
                "hostname"
            };
            let pick = if f.from_exit() { "arg_max" } else { "arg_min" };
            format!("{pick}({col}, timestamp) FILTER (WHERE name = 'pageview')")
        }
        Field::Visit(VisitField::Referrer) => "arg_min(referrer_domain, timestamp)".to_string(),
        Field::Visit(f) => format!("arg_min({}, timestamp)", f.name()),
        Field::VisitProp(k) => {
            let key = b.text(k);
            format!(
                "arg_min({}, timestamp) FILTER (WHERE list_contains(prop_keys, {key}))",
                prop_value(&key)
            )
        }
        other => {
            return Err(StoreError::Invalid(format!(
                "{other} is not an attribute of visits: break down by a visit field such as channel or prop:variant"
            )))
        }
    })
}

/// A comparison of `col` with the values.
fn compare(col: &str, c: &Condition, b: &mut Binds) -> String {
    let parts: Vec<String> = c
        .values
        .iter()
        .map(|v| {
            let v = b.text(v);
            match c.op.positive() {
                Op::Is => format!("{col} = {v}"),
                Op::Contains => format!("contains({col}, {v})"),
                _ => format!("regexp_matches({col}, {v})"),
            }
        })
        .collect();
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

/// A visit field's value (empty values labelled) compared.
fn visit_compare(c: &Condition, b: &mut Binds) -> Result<String, StoreError> {
    let col = format!("coalesce({}, '')", visit_attribute(&c.field, b)?);
    let col = match c.field.empty_label() {
        Some(l) => format!("(CASE WHEN {col} = '' THEN '{l}' ELSE {col} END)"),
        None => col,
    };
    Ok(compare(&col, c, b))
}

/// A filter tree over a visit's rows (`GROUP BY visitor_id, session_id`), as a boolean that is
/// never `NULL`. A visit field compares the visit's value; a visit scope ([`Filter::Visit`])
/// holds when the visit includes a non-engagement event passing the inner comparison (as the
/// Stats API's `e` relation, which leaves engagement events out).
fn visit_filter(f: &Filter, goals: &[Goal], b: &mut Binds) -> Result<String, StoreError> {
    let join = |v: &[Filter], op: &str, b: &mut Binds| -> Result<String, StoreError> {
        let parts = v
            .iter()
            .map(|f| visit_filter(f, goals, b))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(if parts.is_empty() {
            (if op == "AND" { "true" } else { "false" }).to_string()
        } else {
            format!("({})", parts.join(&format!(" {op} ")))
        })
    };
    Ok(match f {
        Filter::And(v) => join(v, "AND", b)?,
        Filter::Or(v) => join(v, "OR", b)?,
        Filter::Not(f) => format!("(NOT {})", visit_filter(f, goals, b)?),
        Filter::NotInTotals(f) => visit_filter(f, goals, b)?,
        Filter::Compare(c) if !c.field.is_event() => visit_compare(c, b)?,
        Filter::Visit(inner) => {
            let Filter::Compare(c) = inner.as_ref() else {
                return Err(StoreError::Invalid(
                    "a visit-scoped filter compares one field".to_string(),
                ));
            };
            if !c.field.is_event() {
                return visit_compare(c, b);
            }
            let event = match &c.field {
                Field::Goal => {
                    let named = Goal::named(c, goals);
                    let any = if named.is_empty() {
                        "false".to_string()
                    } else {
                        let parts: Vec<String> =
                            named.iter().map(|g| condition(&g.trigger, b)).collect();
                        format!("({})", parts.join(" OR "))
                    };
                    if c.op.is_negated() {
                        format!("NOT {any}")
                    } else {
                        any
                    }
                }
                Field::Prop(k) => {
                    let key = b.text(k);
                    compare(&format!("coalesce({}, '(none)')", prop_value(&key)), c, b)
                }
                Field::Event(e) => {
                    let col = match e {
                        waymark_core::query::EventField::Page => "pathname",
                        waymark_core::query::EventField::Name => "name",
                        waymark_core::query::EventField::Hostname => "hostname",
                    };
                    compare(&format!("coalesce({col}, '')"), c, b)
                }
                other => {
                    return Err(StoreError::Invalid(format!("cannot filter by {other}")));
                }
            };
            format!("coalesce(bool_or(name <> 'engagement' AND coalesce({event}, false)), false)")
        }
        Filter::Compare(c) => {
            return Err(StoreError::Invalid(format!(
                "filter {c}: reports filter visits; event filters keep the visits that include a matching event"
            )))
        }
    })
}

/// The event columns a trigger reads: name, path, properties, and the visit and time its page
/// engagement is found by. Events matched by trigger SQL are told apart by these.
pub(crate) const TRIGGER_COLUMNS: [&str; 7] = [
    "visitor_id",
    "session_id",
    "timestamp",
    "name",
    "pathname",
    "prop_keys",
    "prop_values",
];

/// What [`scoped_events`] should attach.
pub(crate) struct Scope<'a> {
    pub site: &'a str,
    pub bounds: TimeBounds,
    pub filter: Option<&'a Filter>,
    /// The site's goals, for goal comparisons in `filter`.
    pub goals: &'a [Goal],
    pub breakdown: Option<&'a Field>,
    /// The triggers with engagement conditions (page engagement is attached when any).
    pub engagement: Vec<&'a Trigger>,
    /// Scan the events again for each relation reading `base` rather than materialise it.
    /// Measured at 10M events: faster for funnels (their window and ASOF joins read few
    /// columns), slower for conversion counts, so each caller chooses.
    pub rescan: bool,
}

/// CTEs ending in `ev`: the scoped events with `seg` (the breakdown value, `''` without one)
/// and, with `engagement`, `page_engaged_ms` and `page_scroll`. Returns the text after `WITH`.
pub(crate) fn scoped_events(scope: &Scope<'_>, b: &mut Binds) -> Result<String, StoreError> {
    let site = b.text(scope.site);
    let from = b.push(Value::BigInt(scope.bounds.from_ms));
    let to = b.push(Value::BigInt(scope.bounds.to_ms));
    // Only the columns triggers, values and the asked-for attributes read: the window and
    // join below then move a fraction of each row.
    let mut columns: Vec<&str> = TRIGGER_COLUMNS.to_vec();
    columns.extend([
        "revenue_amount",
        "revenue_currency",
        "engagement_ms",
        "scroll_depth",
    ]);
    let compared: Vec<&Field> = scope
        .filter
        .iter()
        .flat_map(|f| f.conditions())
        .map(|(c, _)| &c.field)
        .collect();
    for a in compared.into_iter().chain(scope.breakdown) {
        let c = match a {
            Field::Visit(VisitField::Referrer) => "referrer_domain",
            Field::Visit(VisitField::EntryPage | VisitField::ExitPage) => "pathname",
            Field::Visit(VisitField::EntryPageHostname | VisitField::ExitPageHostname)
            | Field::Event(waymark_core::query::EventField::Hostname) => "hostname",
            Field::Visit(f) => f.name(),
            _ => continue,
        };
        if !columns.contains(&c) {
            columns.push(c);
        }
    }
    let mut ctes = vec![format!(
        "base AS {}(SELECT {} FROM events WHERE site_id = {site} \
         AND timestamp >= epoch_ms({from}::BIGINT) AND timestamp < epoch_ms({to}::BIGINT))",
        if scope.rescan {
            "NOT MATERIALIZED "
        } else {
            ""
        },
        columns.join(", ")
    )];

    // Goal filters match by their triggers, so those with engagement conditions need the
    // page engagement too, and the visits they filter are then read from the engaged rows.
    let mut engagement = scope.engagement.clone();
    let mut filters_engaged = false;
    for (c, _) in scope.filter.iter().flat_map(|f| f.conditions()) {
        if c.field == Field::Goal {
            for g in Goal::named(c, scope.goals) {
                if g.trigger.needs_engagement() {
                    engagement.push(&g.trigger);
                    filters_engaged = true;
                }
            }
        }
    }

    let rows = if engagement.is_empty() {
        "base"
    } else {
        let paged = engagement_rows(&engagement, b);
        ctes.push(format!(
            "pv AS (SELECT *, count(*) FILTER (WHERE name = 'pageview') OVER (
                 PARTITION BY visitor_id, session_id, pathname ORDER BY timestamp
                 RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS page_view_no
             FROM base WHERE {paged})"
        ));
        ctes.push(
            "pages AS (SELECT visitor_id, session_id, pathname, page_view_no,
                 sum(coalesce(engagement_ms, 0)) AS engaged_ms, max(coalesce(scroll_depth, 0)) AS scroll
             FROM pv WHERE name = 'engagement' AND page_view_no > 0
             GROUP BY visitor_id, session_id, pathname, page_view_no)"
                .to_string(),
        );
        ctes.push(format!(
            "paged AS (
                 SELECT e.* EXCLUDE (page_view_no), coalesce(p.engaged_ms, 0)::BIGINT AS page_engaged_ms,
                        coalesce(p.scroll, 0)::INTEGER AS page_scroll
                 FROM pv e LEFT JOIN pages p ON p.visitor_id = e.visitor_id
                     AND p.session_id = e.session_id AND p.pathname = e.pathname
                     AND p.page_view_no = e.page_view_no
                 UNION ALL
                 SELECT *, 0::BIGINT AS page_engaged_ms, 0::INTEGER AS page_scroll
                 FROM base WHERE NOT {paged})"
        ));
        "paged"
    };

    let need_visits = scope.filter.is_some() || scope.breakdown.is_some();
    let mut visit_cols = Vec::new();
    let mut wheres = Vec::new();
    if need_visits {
        if let Some(f) = scope.filter {
            visit_cols.push(format!("{} AS f0", visit_filter(f, scope.goals, b)?));
            wheres.push("v.f0".to_string());
        }
        if let Some(a) = scope.breakdown {
            visit_cols.push(format!("{} AS seg", visit_attribute(a, b)?));
        }
        let from = if filters_engaged { rows } else { "base" };
        ctes.push(format!(
            "visits AS (SELECT visitor_id, session_id, {} FROM {from} GROUP BY visitor_id, session_id)",
            visit_cols.join(", ")
        ));
    }

    let (seg, visit_join) = match (need_visits, scope.breakdown.is_some()) {
        (true, true) => (
            ", coalesce(v.seg, '') AS seg",
            " JOIN visits v ON v.visitor_id = e.visitor_id AND v.session_id = e.session_id",
        ),
        (true, false) => (
            ", '' AS seg",
            " JOIN visits v ON v.visitor_id = e.visitor_id AND v.session_id = e.session_id",
        ),
        _ => (", '' AS seg", ""),
    };
    let filter = if wheres.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", wheres.join(" AND "))
    };
    ctes.push(format!(
        "ev AS (SELECT e.*{seg} FROM {rows} e{visit_join}{filter})"
    ));
    Ok(ctes.join(",\n"))
}
