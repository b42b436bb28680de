//! The one vocabulary of Waymark's questions, with no SQL and no column names: [`Field`]s
//! (visit and event attributes, properties, time buckets, goals), [`Filter`]s with an event or
//! visit scope, resolved [`Goal`]s, and the three queries every store answers —
//! [`AggregateQuery`] (the Stats API, the dashboard), [`ConversionQuery`] and [`FunnelQuery`]
//! (the reports) — with their answers. The Stats API, the reports, the CLI and the dashboard's
//! API calls all parse into these types; stores compile them.
//!
//! ```
//! use waymark_core::query::{Condition, Field, Filter, Op, VisitField};
//! let c = Condition::parse("channel=Email").unwrap();
//! assert_eq!(c.field, Field::Visit(VisitField::Channel));
//! let f = Filter::visits_passing_all(&[c]).unwrap();
//! assert!(!f.uses_goals());
//! assert_eq!(Op::parse("contains_not"), Some(Op::ContainsNot));
//! ```

mod aggregate;
mod field;
mod filter;
mod goal;
mod report;
mod time;

pub use aggregate::{AggregateQuery, AggregateResult, AggregateRow, Metric, OrderKey};
pub use field::{EventField, Field, FieldError, TimeBucket, VisitField};
pub use filter::{Condition, Filter, Op, Scope};
pub use goal::{Goal, UnknownGoal};
pub use report::{
    ConversionCounts, ConversionQuery, FunnelCounts, FunnelQuery, FunnelRow, StepCount,
    TriggerCount,
};
pub use time::{time_labels, utc_offsets};

/// Checks a `matches` filter pattern (RE2-like syntax, as the stores evaluate it).
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    regex::Regex::new(pattern)
        .map(|_| ())
        .map_err(|e| e.to_string())
}
