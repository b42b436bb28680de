//! The one filter type: comparisons of a [`Field`] joined by `and`, `or` and `not`, each at
//! event or visit scope. At event scope (the Stats API's filters) a comparison on an event
//! field keeps the events that compare; at visit scope ([`Filter::Visit`], the reports'
//! filters and Plausible's `has_done`) it keeps every event of the visits that include a
//! non-engagement event that compares. A comparison on a visit field means the same at both
//! scopes, as every event of a visit shares its attributes.

use std::fmt;

use super::field::{Field, FieldError};

/// How a comparison compares. The negated operators keep what the positive one drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Is,
    IsNot,
    Contains,
    ContainsNot,
    Matches,
    MatchesNot,
}

impl Op {
    /// The Stats API's name (`is`, `contains_not`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Op::Is => "is",
            Op::IsNot => "is_not",
            Op::Contains => "contains",
            Op::ContainsNot => "contains_not",
            Op::Matches => "matches",
            Op::MatchesNot => "matches_not",
        }
    }

    pub fn parse(name: &str) -> Option<Op> {
        [
            Op::Is,
            Op::IsNot,
            Op::Contains,
            Op::ContainsNot,
            Op::Matches,
            Op::MatchesNot,
        ]
        .into_iter()
        .find(|o| o.name() == name)
    }

    /// `is_not`, `contains_not`, `matches_not`.
    pub fn is_negated(self) -> bool {
        matches!(self, Op::IsNot | Op::ContainsNot | Op::MatchesNot)
    }

    /// The operator without its negation.
    pub fn positive(self) -> Op {
        match self {
            Op::IsNot => Op::Is,
            Op::ContainsNot => Op::Contains,
            Op::MatchesNot => Op::Matches,
            other => other,
        }
    }
}

/// `field op [values]`: the values are OR-ed (`is ["DE", "FR"]`), then negated for the
/// negated operators.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Condition {
    pub field: Field,
    pub op: Op,
    pub values: Vec<String>,
    pub case_sensitive: bool,
}

/// A filter tree. An empty `And` keeps everything, an empty `Or` nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Filter {
    Compare(Condition),
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    /// Visit scope: every event of the visits that include a non-engagement event passing the
    /// inner filter.
    Visit(Box<Filter>),
    /// Narrows the rows but not the totals behind `percentage` and the conversion rates (a
    /// comparison query keeps to the main query's rows this way).
    NotInTotals(Box<Filter>),
}

/// Whether a filter narrows events or visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Event,
    Visit,
}

impl Condition {
    pub fn new(field: Field, op: Op, values: Vec<String>) -> Condition {
        Condition {
            field,
            op,
            values,
            case_sensitive: true,
        }
    }

    /// Whether a value (`None`: an event without the property) passes, by the same rules
    /// every store's SQL follows: an empty or missing value compares as the field's
    /// [`Field::empty_label`] too; `contains_not` and `matches_not` on an event property keep
    /// only events that have the property (as Plausible). Goals are not values: a goal
    /// comparison is decided by the goals' triggers ([`super::Goal::named`]).
    pub fn keeps(&self, value: Option<&str>) -> bool {
        if value.is_none()
            && matches!(self.field, Field::Prop(_))
            && matches!(self.op, Op::ContainsNot | Op::MatchesNot)
        {
            return false;
        }
        let fold = |s: &str| {
            if self.case_sensitive {
                s.to_string()
            } else {
                s.to_lowercase()
            }
        };
        let raw = value.unwrap_or("");
        let mut candidates = vec![fold(raw)];
        if raw.is_empty() {
            if let Some(l) = self.field.empty_label() {
                candidates.push(fold(l));
            }
        }
        let any = self.values.iter().any(|v| match self.op.positive() {
            Op::Is => candidates.iter().any(|c| *c == fold(v)),
            Op::Contains => candidates.iter().any(|c| c.contains(fold(v).as_str())),
            _ => regex::Regex::new(&self.pattern(v))
                .is_ok_and(|re| candidates.iter().any(|c| re.is_match(c))),
        });
        any != self.op.is_negated()
    }

    /// The regular expression a `matches` value stands for: case-insensitive ones carry RE2's
    /// `(?i)` flag (the pattern itself is never lower-cased, which would change `\D` into `\d`).
    pub fn pattern(&self, value: &str) -> String {
        if self.case_sensitive {
            value.to_string()
        } else {
            format!("(?i){value}")
        }
    }

    /// Parses the reports' short form: `channel=Email`, `device!=Mobile`,
    /// `utm_campaign~spring` (contains), `page!~/blog` (contains not), `prop:variant=b`,
    /// `visit:exit_page=/thanks`, `event:page=/pricing`, `event:props:plan=pro`,
    /// `event:goal=Signup`. The operator is the first `=`, `!=`, `~` or `!~` (field names have
    /// none), so values may contain them.
    pub fn parse(s: &str) -> Result<Condition, FieldError> {
        let bad = || {
            FieldError(format!(
                "filter {s:?}: write field=value, field!=value, field~text or field!~text (e.g. channel=Email)"
            ))
        };
        let at = s.find(['=', '~']).ok_or_else(bad)?;
        let negated = at > 0 && s.as_bytes()[at - 1] == b'!';
        let name = if negated { &s[..at - 1] } else { &s[..at] };
        let op = match (s.as_bytes()[at], negated) {
            (b'~', false) => Op::Contains,
            (b'~', true) => Op::ContainsNot,
            (_, false) => Op::Is,
            (_, true) => Op::IsNot,
        };
        if name.trim().is_empty() {
            return Err(bad());
        }
        let field = Field::parse(name)?;
        if matches!(field, Field::Time(_)) {
            return Err(FieldError(format!(
                "filter {s:?}: time is chosen by the range, not filtered"
            )));
        }
        Ok(Condition::new(
            field,
            op,
            vec![s[at + 1..].trim().to_string()],
        ))
    }
}

impl fmt::Display for Condition {
    /// The short form [`Condition::parse`] reads (values after the first joined by `|`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            Op::Is => "=",
            Op::IsNot => "!=",
            Op::Contains => "~",
            Op::ContainsNot => "!~",
            Op::Matches => " matches ",
            Op::MatchesNot => " matches_not ",
        };
        write!(
            f,
            "{}{op}{}",
            self.field.short_name(),
            self.values.join("|")
        )
    }
}

impl Filter {
    /// A comparison at event scope.
    pub fn compare(field: Field, op: Op, values: Vec<String>) -> Filter {
        Filter::Compare(Condition::new(field, op, values))
    }

    /// `f` at `scope`.
    pub fn scoped(scope: Scope, f: Filter) -> Filter {
        match scope {
            Scope::Event => f,
            Scope::Visit => Filter::Visit(Box::new(f)),
        }
    }

    /// Every comparison at visit scope, all of them required: the reports' filters.
    pub fn visits_passing_all(comparisons: &[Condition]) -> Option<Filter> {
        if comparisons.is_empty() {
            return None;
        }
        Some(Filter::And(
            comparisons
                .iter()
                .map(|c| Filter::Visit(Box::new(Filter::Compare(c.clone()))))
                .collect(),
        ))
    }

    /// The top-level parts of the filter (the items of a top-level `And`, else itself).
    pub fn top_level(&self) -> Vec<&Filter> {
        match self {
            Filter::And(v) => v.iter().collect(),
            other => vec![other],
        }
    }

    /// The filter without the top-level parts `drop` selects (`None` when nothing is left).
    pub fn without_top_level(&self, drop: impl Fn(&Filter) -> bool) -> Option<Filter> {
        let kept: Vec<Filter> = self
            .top_level()
            .into_iter()
            .filter(|f| !drop(f))
            .cloned()
            .collect();
        if kept.is_empty() {
            None
        } else {
            Some(Filter::And(kept))
        }
    }

    /// Every comparison in the tree, with whether it sits inside a `Visit` scope.
    pub fn conditions(&self) -> Vec<(&Condition, Scope)> {
        fn walk<'a>(f: &'a Filter, scope: Scope, out: &mut Vec<(&'a Condition, Scope)>) {
            match f {
                Filter::Compare(c) => out.push((c, scope)),
                Filter::And(v) | Filter::Or(v) => v.iter().for_each(|f| walk(f, scope, out)),
                Filter::Not(f) | Filter::NotInTotals(f) => walk(f, scope, out),
                Filter::Visit(f) => walk(f, Scope::Visit, out),
            }
        }
        let mut out = Vec::new();
        walk(self, Scope::Event, &mut out);
        out
    }

    /// Whether any comparison of the tree satisfies `p`.
    pub fn any(&self, p: impl Fn(&Condition) -> bool) -> bool {
        self.conditions().into_iter().any(|(c, _)| p(c))
    }

    /// Whether `event:goal` appears anywhere in the tree.
    pub fn uses_goals(&self) -> bool {
        self.any(|c| c.field == Field::Goal)
    }

    /// Whether the tree compares `field` anywhere.
    pub fn mentions(&self, field: &Field) -> bool {
        self.any(|c| &c.field == field)
    }

    /// A top-level comparison on `event:goal` or `event:props:*`: left out of the
    /// conversion rates' denominators, as Plausible does.
    pub fn is_goal_or_prop_compare(&self) -> bool {
        matches!(self, Filter::Compare(c) if matches!(c.field, Field::Goal | Field::Prop(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::field::VisitField;

    #[test]
    fn short_form_round_trips() {
        let c = Condition::parse("channel=Organic Search").unwrap();
        assert_eq!(c.field, Field::Visit(VisitField::Channel));
        assert_eq!((c.op, c.values[0].as_str()), (Op::Is, "Organic Search"));
        assert_eq!(c.to_string(), "channel=Organic Search");
        let c = Condition::parse("event:page=/a=b~c").unwrap();
        assert_eq!((c.op, c.values[0].as_str()), (Op::Is, "/a=b~c"));
        assert_eq!(Condition::parse("page!~/blog").unwrap().op, Op::ContainsNot);
        assert_eq!(
            Condition::parse("prop:variant!=b").unwrap().to_string(),
            "prop:variant!=b"
        );
        assert_eq!(
            Condition::parse("goal=X").unwrap().to_string(),
            "event:goal=X"
        );
        assert!(Condition::parse("channel").is_err());
        assert!(Condition::parse("=x").is_err());
        assert!(Condition::parse("time:day=x").is_err());
    }

    #[test]
    fn keeps_follows_the_store_rules() {
        let c = |f: &str, op, v: &str| Condition::new(Field::parse(f).unwrap(), op, vec![v.into()]);
        assert!(c("visit:utm_campaign", Op::Is, "(not set)").keeps(Some("")));
        assert!(!c("visit:utm_campaign", Op::IsNot, "(not set)").keeps(Some("")));
        assert!(c("event:props:plan", Op::Is, "(none)").keeps(None));
        assert!(!c("event:props:plan", Op::ContainsNot, "pro").keeps(None));
        assert!(c("event:props:plan", Op::ContainsNot, "pro").keeps(Some("free")));
        assert!(c("event:props:plan", Op::IsNot, "pro").keeps(None));
        let mut m = c("event:page", Op::Matches, "^/b");
        assert!(m.keeps(Some("/blog")));
        m.case_sensitive = false;
        m.values = vec!["^/B".into()];
        assert!(m.keeps(Some("/blog")));
    }
}
