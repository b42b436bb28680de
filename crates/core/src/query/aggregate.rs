//! The aggregate query (the Stats API v2, the dashboard's tiles and breakdowns, `waymark
//! stats`): metrics per dimension values over a site and range, filtered, ordered and paged.

use chrono_tz::Tz;

use super::{Field, Filter, Goal};
use crate::TimeBounds;

/// A metric the aggregate query computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Visitors,
    Visits,
    Pageviews,
    ViewsPerVisit,
    BounceRate,
    VisitDuration,
    Events,
    Percentage,
    /// Converting visitors over all visitors (goal filters and property filters left out of
    /// the denominator), in percent with two decimals (as Plausible).
    ConversionRate,
    /// Like [`Metric::ConversionRate`], the denominator counted per row's dimension values.
    GroupConversionRate,
    /// Sum of the revenue the rows' events carry.
    TotalRevenue,
    /// Average revenue per event that carries revenue.
    AverageRevenue,
    /// Deepest scroll per visitor (and row), averaged, in percent; from engagement events.
    ScrollDepth,
    /// Engaged time per visit of a page, in seconds; from engagement events.
    TimeOnPage,
}

impl Metric {
    pub const ALL: [Metric; 14] = [
        Metric::Visitors,
        Metric::Visits,
        Metric::Pageviews,
        Metric::ViewsPerVisit,
        Metric::BounceRate,
        Metric::VisitDuration,
        Metric::Events,
        Metric::Percentage,
        Metric::ConversionRate,
        Metric::GroupConversionRate,
        Metric::TotalRevenue,
        Metric::AverageRevenue,
        Metric::ScrollDepth,
        Metric::TimeOnPage,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::Visitors => "visitors",
            Metric::Visits => "visits",
            Metric::Pageviews => "pageviews",
            Metric::ViewsPerVisit => "views_per_visit",
            Metric::BounceRate => "bounce_rate",
            Metric::VisitDuration => "visit_duration",
            Metric::Events => "events",
            Metric::Percentage => "percentage",
            Metric::ConversionRate => "conversion_rate",
            Metric::GroupConversionRate => "group_conversion_rate",
            Metric::TotalRevenue => "total_revenue",
            Metric::AverageRevenue => "average_revenue",
            Metric::ScrollDepth => "scroll_depth",
            Metric::TimeOnPage => "time_on_page",
        }
    }

    pub fn parse(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Computed per visit (needs the visits a session-level dimension groups).
    pub fn is_session(self) -> bool {
        matches!(
            self,
            Metric::ViewsPerVisit | Metric::BounceRate | Metric::VisitDuration
        )
    }

    /// The decimals answers carry (Plausible's precision): `percentage` one, the conversion
    /// rates and views per visit two, revenue two, everything else whole numbers.
    pub fn decimals(self) -> u32 {
        match self {
            Metric::Percentage => 1,
            Metric::ConversionRate
            | Metric::GroupConversionRate
            | Metric::ViewsPerVisit
            | Metric::TotalRevenue
            | Metric::AverageRevenue => 2,
            _ => 0,
        }
    }

    /// Rounds a computed value to [`Metric::decimals`].
    pub fn round(self, v: f64) -> f64 {
        let f = 10f64.powi(self.decimals() as i32);
        (v * f).round() / f
    }

    /// Whole numbers (counts, rounded rates and durations).
    pub fn is_integer(self) -> bool {
        self.decimals() == 0
    }

    /// Money: the row's [`AggregateRow::currency`] says in which currency.
    pub fn is_revenue(self) -> bool {
        matches!(self, Metric::TotalRevenue | Metric::AverageRevenue)
    }

    /// Computed from engagement events (and absent, `NaN`, for rows without any).
    pub fn is_engagement(self) -> bool {
        matches!(self, Metric::ScrollDepth | Metric::TimeOnPage)
    }
}

/// What `order_by` sorts on.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderKey {
    Metric(Metric),
    /// Index into the query's dimensions.
    Dimension(usize),
}

/// An aggregate query over one site.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateQuery {
    pub site: String,
    pub bounds: TimeBounds,
    /// The site's zone; time buckets and labels are local.
    pub timezone: Tz,
    pub metrics: Vec<Metric>,
    pub dimensions: Vec<Field>,
    pub filter: Option<Filter>,
    /// The site's goals (its conversions), for `event:goal` dimensions and filters.
    pub goals: Vec<Goal>,
    /// `(key, descending)`; dimensions ascending follow as tie-breakers.
    pub order_by: Vec<(OrderKey, bool)>,
    pub limit: usize,
    pub offset: usize,
}

/// One result row: dimension values then metric values, in query order. A metric without a
/// value for the row (scroll depth without engagement events) is `NaN`.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateRow {
    pub dimensions: Vec<String>,
    pub metrics: Vec<f64>,
    /// With a revenue metric: the currencies of the row's revenue, sorted and joined with `+`
    /// (normally one code; empty when no event of the row carries revenue).
    pub currency: String,
}

impl AggregateQuery {
    /// Whether answering needs the site's goals (an `event:goal` dimension or filter).
    pub fn uses_goals(&self) -> bool {
        self.dimensions.contains(&Field::Goal)
            || self.filter.as_ref().is_some_and(Filter::uses_goals)
    }
}

/// Rows of one page plus the number of rows over all pages.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AggregateResult {
    pub rows: Vec<AggregateRow>,
    pub total_rows: u64,
}
