//! Which rows show revenue, in which currency, and the `meta.metric_warnings` saying why one
//! does not, after Plausible's `Plausible.Stats.Goal.Revenue` (`preload_revenue_currencies`,
//! `extra/lib/plausible/stats/goal/revenue.ex`) and its warnings (`query_result.ex`):
//!
//! - The goals that count are those the top-level `event:goal` filters keep (all of them
//!   without one). A revenue goal is a conversion with a value (`revenue` or a fixed amount).
//! - No revenue goal among them: every revenue metric is `null`, with
//!   `no_revenue_goals_matching`.
//! - Broken down by `event:goal`: a row of a goal without a value is `null`, and that needs no
//!   warning (it is not revenue at all).
//! - A row whose events carry revenue in several currencies is `null` (amounts are not
//!   converted), with `no_single_revenue_currency`.
//! - A row of a revenue goal without revenue events shows 0 in the query's currency (the one
//!   currency its rows and fixed values use), as Plausible shows 0 in the goal's currency.

use serde_json::{json, Map, Value};
use waymark_core::query::{AggregateQuery, AggregateRow, Field, Filter, Goal, Metric};
use waymark_core::{Conversion, ConversionValue};

const NO_GOALS: &str = "no_revenue_goals_matching";
const MIXED: &str = "no_single_revenue_currency";

/// The revenue rule of one query.
#[derive(Debug, Default)]
pub(super) struct Revenue {
    /// Whether any goal the query counts has a value.
    any_goal: bool,
    /// With an `event:goal` dimension: its position and the names of the revenue goals.
    goal_dim: Option<(usize, Vec<String>)>,
    /// The currency of rows without revenue events, when the query has exactly one.
    default: Option<String>,
}

/// How a row's revenue shows.
#[derive(Debug, PartialEq)]
pub(super) enum Shown<'a> {
    In(&'a str),
    /// `null`, with the warning that explains it (if it needs one).
    Null(Option<&'static str>),
}

impl Revenue {
    /// The rule for `q`, the site's `conversions` and the rows to show (both periods').
    pub fn new<'r>(
        q: &AggregateQuery,
        conversions: &[Conversion],
        rows: impl IntoIterator<Item = &'r AggregateRow>,
    ) -> Revenue {
        let mut names: Vec<&str> = conversions.iter().map(|c| c.name.as_str()).collect();
        for f in q.filter.iter().flat_map(Filter::top_level) {
            if let Filter::Compare(c) = f {
                if c.field == Field::Goal {
                    let named: Vec<&str> = Goal::named(c, &q.goals)
                        .iter()
                        .map(|g| g.name.as_str())
                        .collect();
                    names.retain(|n| named.contains(n) != c.op.is_negated());
                }
            }
        }
        let revenue_goals: Vec<&Conversion> = conversions
            .iter()
            .filter(|c| names.contains(&c.name.as_str()) && !c.value.is_none())
            .collect();
        let mut currencies: Vec<&str> = rows
            .into_iter()
            .map(|r| r.currency.as_str())
            .chain(revenue_goals.iter().filter_map(|c| match &c.value {
                ConversionValue::Fixed { currency, .. } => Some(currency.as_str()),
                _ => None,
            }))
            .filter(|c| !c.is_empty())
            .collect();
        currencies.sort_unstable();
        currencies.dedup();
        let default = match currencies.as_slice() {
            [one] if !one.contains('+') => Some(one.to_string()),
            _ => None,
        };
        let goal_dim = q
            .dimensions
            .iter()
            .position(|d| *d == Field::Goal)
            .map(|i| {
                let goals = revenue_goals.iter().map(|c| c.name.clone()).collect();
                (i, goals)
            });
        Revenue {
            any_goal: !revenue_goals.is_empty(),
            goal_dim,
            default,
        }
    }

    /// How `row`'s revenue shows.
    pub fn shown<'a>(&'a self, row: &'a AggregateRow) -> Shown<'a> {
        if !self.any_goal {
            return Shown::Null(Some(NO_GOALS));
        }
        if let Some((i, goals)) = &self.goal_dim {
            if !row.dimensions.get(*i).is_some_and(|g| goals.contains(g)) {
                return Shown::Null(None);
            }
        }
        match row.currency.as_str() {
            c if c.contains('+') => Shown::Null(Some(MIXED)),
            "" => self.default.as_deref().map_or(Shown::Null(None), Shown::In),
            c => Shown::In(c),
        }
    }

    /// `meta.metric_warnings` for the revenue metrics of `metrics`, over the rows shown.
    pub fn warnings<'a>(
        &self,
        metrics: &[Metric],
        rows: impl IntoIterator<Item = &'a AggregateRow>,
    ) -> Map<String, Value> {
        let code = rows
            .into_iter()
            .filter_map(|r| match self.shown(r) {
                Shown::Null(Some(code)) => Some(code),
                _ => None,
            })
            // Plausible's query has one warning; "no goals" covers every row when it applies.
            .min_by_key(|c| *c != NO_GOALS);
        let mut out = Map::new();
        if let Some(code) = code {
            let warning = if code == NO_GOALS {
                "Revenue metrics are null as there are no matching revenue goals."
            } else {
                "Revenue metrics are null as there are multiple currencies for the selected event:goals."
            };
            for m in metrics.iter().filter(|m| m.is_revenue()) {
                out.insert(m.name().into(), json!({"code": code, "warning": warning}));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use waymark_core::query::{Condition, Op};
    use waymark_core::{ConversionKind, TimeBounds};

    fn conversion(name: &str, value: ConversionValue) -> Conversion {
        Conversion {
            name: name.into(),
            kind: ConversionKind::Macro,
            trigger: format!("event {name}").parse().unwrap(),
            value,
            description: String::new(),
        }
    }

    fn row(goal: &str, currency: &str) -> AggregateRow {
        AggregateRow {
            dimensions: vec![goal.into()],
            metrics: vec![1.0],
            currency: currency.into(),
        }
    }

    fn query(conversions: &[Conversion], by_goal: bool, filter: Option<Filter>) -> AggregateQuery {
        AggregateQuery {
            site: "a.example".into(),
            bounds: TimeBounds::ALL,
            timezone: waymark_core::Tz::UTC,
            metrics: vec![Metric::TotalRevenue],
            dimensions: if by_goal { vec![Field::Goal] } else { vec![] },
            filter,
            goals: Goal::of(conversions),
            order_by: vec![],
            limit: 10,
            offset: 0,
        }
    }

    #[test]
    fn a_matching_revenue_goal_means_no_warning() {
        let cs = [
            conversion("Purchase", ConversionValue::Revenue),
            conversion("Signup", ConversionValue::None),
        ];
        let rows = [row("Purchase", "EUR"), row("Signup", "")];
        let r = Revenue::new(&query(&cs, true, None), &cs, &rows);
        assert_eq!(r.shown(&rows[0]), Shown::In("EUR"));
        assert_eq!(r.shown(&rows[1]), Shown::Null(None));
        assert!(r.warnings(&[Metric::TotalRevenue], &rows).is_empty());
        // Filtered to a goal without a value: nothing to show, and the warning says why.
        let signup = Filter::And(vec![Filter::Compare(Condition::new(
            Field::Goal,
            Op::Is,
            vec!["Signup".into()],
        ))]);
        let q = query(&cs, false, Some(signup));
        let rows = [row("", "")];
        let r = Revenue::new(&q, &cs, &rows);
        assert_eq!(r.shown(&rows[0]), Shown::Null(Some(NO_GOALS)));
        assert_eq!(
            r.warnings(&[Metric::TotalRevenue], &rows)["total_revenue"]["code"],
            json!(NO_GOALS)
        );
        // A row of a revenue goal without revenue shows 0 in the query's currency.
        let rows = [row("Purchase", "USD"), row("Purchase", "")];
        let r = Revenue::new(&query(&cs, false, None), &cs, &rows);
        assert_eq!(r.shown(&rows[1]), Shown::In("USD"));
        let mixed = [row("Purchase", "EUR+USD")];
        let r = Revenue::new(&query(&cs, false, None), &cs, &mixed);
        assert_eq!(
            r.warnings(&[Metric::TotalRevenue], &mixed)["total_revenue"]["code"],
            json!(MIXED)
        );
    }
}
