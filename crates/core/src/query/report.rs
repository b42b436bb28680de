//! The queries behind conversion reports and funnels, and their raw answers. They carry
//! resolved triggers and goals and UTC bounds only, so every backend compiles the same
//! question and must give the same numbers.

use serde::Serialize;

use crate::funnel::{StepOrder, Window};
use crate::range::TimeBounds;
use crate::trigger::Trigger;

use super::{Field, Filter, Goal};

/// Count visitors and events matching each trigger.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversionQuery {
    pub site: String,
    pub bounds: TimeBounds,
    /// The events counted (reports put each of their filters at visit scope, see
    /// [`Filter::visits_passing_all`]).
    pub filter: Option<Filter>,
    /// The site's goals, for `event:goal` comparisons in `filter`.
    pub goals: Vec<Goal>,
    pub triggers: Vec<Trigger>,
}

/// What a store answers to a [`ConversionQuery`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConversionCounts {
    /// Unique visitors in range (after filters): the denominator of conversion rates.
    pub visitors: u64,
    /// One row per trigger, in query order.
    pub rows: Vec<TriggerCount>,
}

/// Matches of one trigger.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TriggerCount {
    /// Unique visitors with at least one matching event.
    pub visitors: u64,
    /// Matching events.
    pub events: u64,
    /// Sum of `revenue_amount` over matching events that carry revenue.
    pub revenue: f64,
    /// Matching events that carry revenue.
    pub revenue_events: u64,
    /// Their currencies, sorted and joined with `+` (normally one code).
    pub currency: String,
}

/// Reach each funnel step.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelQuery {
    pub site: String,
    pub bounds: TimeBounds,
    /// The events funnels are built from (see [`ConversionQuery::filter`]).
    pub filter: Option<Filter>,
    /// The site's goals, for `event:goal` comparisons in `filter`.
    pub goals: Vec<Goal>,
    /// The step triggers in order (2 to 20).
    pub steps: Vec<Trigger>,
    pub window: Window,
    pub order: StepOrder,
    /// Also count per value of this visit field ([`Field::Visit`] or [`Field::VisitProp`]).
    pub breakdown: Option<Field>,
}

/// Visitors reaching one step, and the time it took them from the previous step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StepCount {
    pub visitors: u64,
    /// Nearest-rank median of the time from the previous step, in ms (`None` for step 1,
    /// for `any` order, and when nobody reached the step).
    pub median_ms: Option<i64>,
    /// Nearest-rank 75th percentile of the same times.
    pub p75_ms: Option<i64>,
}

/// One row of a funnel answer: all visitors, or one segment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FunnelRow {
    /// The segment's attribute value (empty for the overall row, or a missing value).
    pub segment: String,
    pub steps: Vec<StepCount>,
}

/// What a store answers to a [`FunnelQuery`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FunnelCounts {
    pub overall: FunnelRow,
    /// Per segment when a breakdown was asked for, most step-1 visitors first.
    pub segments: Vec<FunnelRow>,
}
