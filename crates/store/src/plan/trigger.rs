//! Triggers as expressions over an event row: the one compilation of the trigger language
//! (conversions, goals and funnel steps alike). Rows carry `name`, `pathname`, the property
//! lists and, where a trigger needs them, `page_engaged_ms` and `page_scroll` (the engagement
//! of the page view the event belongs to, see [`super::engagement`]).

use waymark_core::trigger::{numeric, NUMERIC_PATTERN};
use waymark_core::{PathPattern, PropOp, Subject, Trigger};

use super::expr::{Expr, Func};

/// The value of property `key` on the row (`NULL` when missing).
pub fn prop_value(key: &str) -> Expr {
    Expr::f(
        Func::PropValue,
        vec![
            Expr::col("prop_keys"),
            Expr::col("prop_values"),
            Expr::text(key),
        ],
    )
}

/// Whether the row has property `key`.
pub fn has_prop(key: &str) -> Expr {
    Expr::f(Func::HasKey, vec![Expr::col("prop_keys"), Expr::text(key)])
}

/// A numeric-looking value as a float, else `NULL`.
fn numeric_value(v: Expr) -> Expr {
    Expr::when(
        Expr::f(
            Func::RegexFullMatch,
            vec![v.clone(), Expr::text(NUMERIC_PATTERN)],
        ),
        Expr::f(Func::ToFloat, vec![v]),
        Expr::Null(super::expr::Ty::Float),
    )
}

/// `=`: numeric when both sides look numeric, else exact text; `NULL` when missing.
fn equals(v: Expr, want: &str) -> Expr {
    match numeric(want) {
        Some(n) => Expr::when(
            Expr::f(
                Func::RegexFullMatch,
                vec![v.clone(), Expr::text(NUMERIC_PATTERN)],
            ),
            Expr::f(Func::ToFloat, vec![v.clone()]).eq(Expr::float(n)),
            v.eq(Expr::text(want)),
        ),
        None => v.eq(Expr::text(want)),
    }
}

/// `pathname` matches the pattern.
pub fn path_matches(path: &PathPattern) -> Expr {
    if path.is_exact() {
        Expr::col("pathname").eq(Expr::text(path.as_str()))
    } else {
        Expr::f(
            Func::RegexFullMatch,
            vec![Expr::col("pathname"), Expr::text(path.to_regex())],
        )
    }
}

/// A boolean over an event row, never `NULL`, true when the event matches `t`.
pub fn matches(t: &Trigger) -> Expr {
    let mut parts = Vec::new();
    parts.push(match &t.subject {
        Subject::Pageview => Expr::col("name").eq(Expr::Str("pageview")),
        Subject::Event(n) => Expr::col("name").eq(Expr::text(n.clone())),
    });
    if let Some(path) = &t.path {
        parts.push(path_matches(path));
    }
    for c in &t.props {
        let v = prop_value(&c.key);
        parts.push(match &c.op {
            PropOp::Eq(w) => equals(v, w).coalesce(Expr::Bool(false)),
            PropOp::Ne(w) => equals(v, w).not().coalesce(Expr::Bool(true)),
            PropOp::Gt(w) | PropOp::Ge(w) | PropOp::Lt(w) | PropOp::Le(w) => {
                // The parser only accepts numeric operands here.
                let n = Expr::float(numeric(w).unwrap_or(f64::NAN));
                let x = numeric_value(v);
                let cmp = match &c.op {
                    PropOp::Gt(_) => x.gt(n),
                    PropOp::Ge(_) => x.ge(n),
                    PropOp::Lt(_) => x.lt(n),
                    _ => x.le(n),
                };
                cmp.coalesce(Expr::Bool(false))
            }
            PropOp::Contains(w) => {
                Expr::f(Func::Contains, vec![v, Expr::text(w.clone())]).coalesce(Expr::Bool(false))
            }
            PropOp::Matches(re) => Expr::f(Func::RegexMatch, vec![v, Expr::text(re.clone())])
                .coalesce(Expr::Bool(false)),
            PropOp::IsSet => has_prop(&c.key),
            PropOp::IsNotSet => has_prop(&c.key).not(),
        });
    }
    if let Some(ms) = t.min_engaged_ms {
        parts.push(
            Expr::col("page_engaged_ms")
                .coalesce(Expr::Int(0))
                .ge(Expr::int(ms as i64)),
        );
    }
    if let Some(s) = t.min_scroll {
        parts.push(
            Expr::col("page_scroll")
                .coalesce(Expr::Int(0))
                .ge(Expr::int(i64::from(s))),
        );
    }
    Expr::all(parts)
}
