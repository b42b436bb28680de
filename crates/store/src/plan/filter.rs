//! Filters as expressions, written once: a [`Filter`] tree over a row of events joined to their
//! visits (event columns, the visit's `v_*` attributes and `vp{i}` properties, page engagement
//! where goals need it), or over a visit row alone. Values compare as answers show them (an
//! empty attribute as `(not set)`, a missing property as `(none)`), by the rules
//! [`Condition::keeps`] states in Rust.

use waymark_core::query::{Condition, EventField, Field, Filter, Goal, Op, VisitField};

use super::expr::{Expr, Func};
use super::rel::Select;
use super::scope::visit_alias;
use super::trigger::{has_prop, matches, prop_value};
use super::visits::prop_column;
use crate::StoreError;

/// What compiling a filter needs besides the tree.
#[derive(Debug, Clone, Copy)]
pub struct FilterCx<'a> {
    pub goals: &'a [Goal],
    /// The visit properties in the order `vs` carries them (`vp{i}`).
    pub props: &'a [String],
    /// Read `event:hostname` as the visit's entry host (with a visit dimension, Plausible keeps
    /// the visits that landed on the host).
    pub host_as_entry: bool,
    /// Read `event:page` as the visit's entry page (bounce rate under a page filter counts the
    /// visits that entered on the page).
    pub page_as_entry: bool,
    /// The relation (events joined to visits) a visit-scoped filter searches for a matching
    /// non-engagement event; `None` over visit rows, where only visit fields may appear.
    pub events: Option<&'static str>,
}

/// Whether a condition reads the visit rather than the event under `cx`.
pub fn on_visit(c: &Condition, cx: &FilterCx<'_>) -> bool {
    match c.field {
        Field::Visit(_) | Field::VisitProp(_) => true,
        Field::Event(EventField::Hostname) => cx.host_as_entry,
        Field::Event(EventField::Page) => cx.page_as_entry,
        _ => false,
    }
}

/// The empty value as answers show it.
pub fn labelled(field: &Field, raw: Expr) -> Expr {
    match field.empty_label() {
        Some(l) => {
            let v = raw.coalesce(Expr::Str(""));
            Expr::when(v.clone().eq(Expr::Str("")), Expr::Str(l), v)
        }
        None => raw,
    }
}

/// A field's value on the row, labelled.
pub fn value(field: &Field, cx: &FilterCx<'_>) -> Result<Expr, StoreError> {
    let raw = match field {
        Field::Visit(f) => Expr::col(visit_alias(*f)),
        Field::VisitProp(k) => {
            let i = cx.props.iter().position(|p| p == k).ok_or_else(|| {
                StoreError::Invalid(format!("prop:{k} was not planned for this query"))
            })?;
            Expr::ident(prop_column(i))
        }
        Field::Event(EventField::Page) if cx.page_as_entry => {
            Expr::col(visit_alias(VisitField::EntryPage))
        }
        Field::Event(EventField::Hostname) if cx.host_as_entry => {
            Expr::col(visit_alias(VisitField::EntryPageHostname))
        }
        Field::Event(EventField::Page) => Expr::col("pathname"),
        Field::Event(EventField::Name) => Expr::col("name"),
        Field::Event(EventField::Hostname) => Expr::col("hostname"),
        Field::Prop(k) => prop_value(k),
        Field::Time(_) | Field::Goal => {
            return Err(StoreError::Invalid(format!(
                "{field} has no value to compare"
            )))
        }
    };
    Ok(labelled(field, raw))
}

/// One condition as a boolean that is never `NULL`.
pub fn condition(c: &Condition, cx: &FilterCx<'_>) -> Result<Expr, StoreError> {
    if c.field == Field::Goal {
        let any = Expr::any(
            Goal::named(c, cx.goals)
                .into_iter()
                .map(|g| matches(&g.trigger))
                .collect(),
        );
        return Ok(if c.op.is_negated() { any.not() } else { any });
    }
    if matches!(c.field, Field::Time(_)) {
        return Err(StoreError::Invalid(
            "time is chosen by the range, not filtered".to_string(),
        ));
    }
    let v = value(&c.field, cx)?;
    let regex = matches!(c.op, Op::Matches | Op::MatchesNot);
    let v = if c.case_sensitive || regex {
        v
    } else {
        Expr::f(Func::Lower, vec![v])
    };
    let fold = |s: &str| {
        if c.case_sensitive {
            s.to_string()
        } else {
            s.to_lowercase()
        }
    };
    let any = Expr::any(
        c.values
            .iter()
            .map(|x| match c.op.positive() {
                Op::Is => v.clone().eq(Expr::text(fold(x))),
                Op::Contains => Expr::f(Func::Contains, vec![v.clone(), Expr::text(fold(x))]),
                _ => Expr::f(Func::RegexMatch, vec![v.clone(), Expr::text(c.pattern(x))]),
            })
            .collect(),
    );
    let out = if c.op.is_negated() { any.not() } else { any };
    Ok(match (&c.field, c.op) {
        // Plausible: the negated text operators keep only events that have the property.
        (Field::Prop(k), Op::ContainsNot | Op::MatchesNot) => has_prop(k).and(out),
        _ => out,
    })
}

/// Whether every condition of `f` reads the visit (so `f` can be decided on visit rows).
pub fn visit_only(f: &Filter, cx: &FilterCx<'_>) -> bool {
    f.conditions().into_iter().all(|(c, _)| on_visit(c, cx))
}

/// A filter tree as a boolean over a row.
pub fn compile(f: &Filter, cx: &FilterCx<'_>) -> Result<Expr, StoreError> {
    Ok(match f {
        Filter::Compare(c) => condition(c, cx)?,
        Filter::And(v) => Expr::all(v.iter().map(|f| compile(f, cx)).collect::<Result<_, _>>()?),
        Filter::Or(v) => Expr::any(v.iter().map(|f| compile(f, cx)).collect::<Result<_, _>>()?),
        Filter::Not(f) => compile(f, cx)?.not(),
        Filter::NotInTotals(f) => compile(f, cx)?,
        // Every event of a visit shares its visit fields: no search needed.
        Filter::Visit(inner) if visit_only(inner, cx) => compile(inner, cx)?,
        Filter::Visit(inner) => {
            let Some(events) = cx.events else {
                return Err(StoreError::Invalid(
                    "an event filter cannot be decided on visits alone".to_string(),
                ));
            };
            let found = Select::from(super::rel::From::cte(events, "f"))
                .pass("session_id")
                .filter(
                    Expr::col("name")
                        .ne(Expr::Str("engagement"))
                        .and(compile(inner, cx)?),
                );
            Expr::col("session_id").in_rel(found.rel())
        }
    })
}

/// The visit properties (`prop:KEY`) the filter and `dims` read, in first-use order.
pub fn visit_props<'a>(
    f: Option<&'a Filter>,
    dims: impl IntoIterator<Item = &'a Field>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let fields = dims.into_iter().chain(
        f.into_iter()
            .flat_map(|f| f.conditions().into_iter().map(|(c, _)| &c.field)),
    );
    for field in fields {
        if let Field::VisitProp(k) = field {
            if !out.contains(k) {
                out.push(k.clone());
            }
        }
    }
    out
}
