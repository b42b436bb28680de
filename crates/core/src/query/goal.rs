//! Goals: a site's conversions as the queries see them, resolved before a store does. An
//! `event:goal` comparison names goals; [`Goal::named`] decides which, and the goals' triggers
//! decide which events count, so nothing else decides what counts as a conversion.

use super::filter::{Condition, Op};
use crate::trigger::Trigger;

/// One goal: a conversion's name and trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goal {
    pub name: String,
    pub trigger: Trigger,
}

/// An `event:goal` comparison that names an unknown goal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the goal {name:?} is not configured for this site: goals are the site's conversions ({known})"
)]
pub struct UnknownGoal {
    pub name: String,
    /// The site's goal names, joined, or "none are defined yet".
    pub known: String,
}

impl Goal {
    pub fn of(conversions: &[crate::Conversion]) -> Vec<Goal> {
        conversions
            .iter()
            .map(|c| Goal {
                name: c.name.clone(),
                trigger: c.trigger.clone(),
            })
            .collect()
    }

    /// The goals of `goals` (in that order) a goal comparison names, ignoring its negation:
    /// `is`/`is_not` the goals equal to a value, `contains`/`contains_not` those containing one,
    /// `matches`/`matches_not` those a pattern matches.
    pub fn named<'a>(c: &Condition, goals: &'a [Goal]) -> Vec<&'a Goal> {
        let positive = Condition {
            op: c.op.positive(),
            ..c.clone()
        };
        goals
            .iter()
            .filter(|g| positive.keeps(Some(&g.name)))
            .collect()
    }

    /// Refuses `is`/`is_not` goal comparisons naming a goal the site does not define (a typo
    /// would otherwise silently count nothing); `contains` may name none.
    pub fn check(c: &Condition, goals: &[Goal]) -> Result<(), UnknownGoal> {
        if !matches!(c.op, Op::Is | Op::IsNot) {
            return Ok(());
        }
        for v in &c.values {
            let one = Condition {
                op: Op::Is,
                values: vec![v.clone()],
                ..c.clone()
            };
            if Goal::named(&one, goals).is_empty() {
                let names: Vec<&str> = goals.iter().map(|g| g.name.as_str()).collect();
                return Err(UnknownGoal {
                    name: v.clone(),
                    known: if names.is_empty() {
                        "none are defined yet".to_string()
                    } else {
                        names.join(", ")
                    },
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Field;

    #[test]
    fn comparisons_name_goals() {
        let goals: Vec<Goal> = ["Purchase", "Signup", "Add to Cart"]
            .map(|n| Goal {
                name: n.into(),
                trigger: Trigger::event(n),
            })
            .to_vec();
        let c = |op, v: &[&str], cs| Condition {
            field: Field::Goal,
            op,
            values: v.iter().map(|s| s.to_string()).collect(),
            case_sensitive: cs,
        };
        let names = |c: &Condition| -> Vec<String> {
            Goal::named(c, &goals)
                .iter()
                .map(|g| g.name.clone())
                .collect()
        };
        assert_eq!(names(&c(Op::Is, &["Signup", "Nope"], true)), ["Signup"]);
        assert!(names(&c(Op::Is, &["signup"], true)).is_empty());
        assert_eq!(names(&c(Op::IsNot, &["signup"], false)), ["Signup"]);
        assert_eq!(
            names(&c(Op::Contains, &["a"], true)),
            ["Purchase", "Add to Cart"]
        );
        assert!(Goal::check(&c(Op::Is, &["Nope"], true), &goals).is_err());
        assert!(Goal::check(&c(Op::Contains, &["Nope"], true), &goals).is_ok());
        assert!(Goal::check(&c(Op::Is, &["signup"], false), &goals).is_ok());
    }
}
