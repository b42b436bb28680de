//! The backend-neutral shape of an aggregate query (the Stats API v2): metrics, dimensions
//! (visit attributes, event fields, local-time buckets), a filter tree, ordering and paging,
//! plus the UTC-offset table stores use to bucket by the site's local time without ICU.

use chrono::{Offset, TimeZone};
pub use chrono_tz::Tz;

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
    /// the denominator), in percent with one decimal.
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

    /// Whole numbers (counts, rounded rates and durations).
    pub fn is_integer(self) -> bool {
        !matches!(
            self,
            Metric::ViewsPerVisit
                | Metric::Percentage
                | Metric::ConversionRate
                | Metric::GroupConversionRate
                | Metric::TotalRevenue
                | Metric::AverageRevenue
        )
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

/// Local-time bucket sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBucket {
    Hour,
    Day,
    Week,
    Month,
}

/// A dimension rows are grouped (and filtered) by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatsDimension {
    /// A visit attribute (`visit:source`, `visit:country`, ...), from the visit's first event.
    Visit(VisitField),
    /// The event's path (`event:page`).
    Page,
    /// The event's name (`event:name`).
    Name,
    /// The event's host name (`event:hostname`).
    Hostname,
    /// A custom property's value (`event:props:<key>`), `(none)` when the event lacks it.
    Prop(String),
    /// The event's local time, truncated (`time:day`, ...).
    Time(TimeBucket),
    /// The goal (a conversion defined for the site, by name) the event counts for
    /// (`event:goal`); an event matching two goals counts once for each. As a filter, the
    /// values are goal names and an event passes when it matches one of the named goals.
    Goal,
}

/// Visit-level fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitField {
    Source,
    Channel,
    Referrer,
    UtmSource,
    UtmMedium,
    UtmCampaign,
    UtmContent,
    UtmTerm,
    Country,
    Region,
    City,
    Device,
    Browser,
    BrowserVersion,
    Os,
    OsVersion,
    EntryPage,
    ExitPage,
}

impl VisitField {
    pub const ALL: [VisitField; 18] = [
        VisitField::Source,
        VisitField::Channel,
        VisitField::Referrer,
        VisitField::UtmSource,
        VisitField::UtmMedium,
        VisitField::UtmCampaign,
        VisitField::UtmContent,
        VisitField::UtmTerm,
        VisitField::Country,
        VisitField::Region,
        VisitField::City,
        VisitField::Device,
        VisitField::Browser,
        VisitField::BrowserVersion,
        VisitField::Os,
        VisitField::OsVersion,
        VisitField::EntryPage,
        VisitField::ExitPage,
    ];

    /// The Plausible name after `visit:`.
    pub fn name(self) -> &'static str {
        match self {
            VisitField::Source => "source",
            VisitField::Channel => "channel",
            VisitField::Referrer => "referrer",
            VisitField::UtmSource => "utm_source",
            VisitField::UtmMedium => "utm_medium",
            VisitField::UtmCampaign => "utm_campaign",
            VisitField::UtmContent => "utm_content",
            VisitField::UtmTerm => "utm_term",
            VisitField::Country => "country",
            VisitField::Region => "region",
            VisitField::City => "city",
            VisitField::Device => "device",
            VisitField::Browser => "browser",
            VisitField::BrowserVersion => "browser_version",
            VisitField::Os => "os",
            VisitField::OsVersion => "os_version",
            VisitField::EntryPage => "entry_page",
            VisitField::ExitPage => "exit_page",
        }
    }
}

impl StatsDimension {
    /// Parses Plausible's names: `visit:source`, `event:page`, `time:day`, ...
    pub fn parse(name: &str) -> Option<StatsDimension> {
        if let Some(v) = name.strip_prefix("visit:") {
            return VisitField::ALL
                .into_iter()
                .find(|f| f.name() == v)
                .map(StatsDimension::Visit);
        }
        if let Some(key) = name.strip_prefix("event:props:") {
            if key.is_empty() || key.len() > crate::trigger::MAX_PROP_KEY_BYTES {
                return None;
            }
            return Some(StatsDimension::Prop(key.to_string()));
        }
        Some(match name {
            "event:page" => StatsDimension::Page,
            "event:hostname" => StatsDimension::Hostname,
            "event:name" => StatsDimension::Name,
            "event:goal" => StatsDimension::Goal,
            "time" | "time:day" => StatsDimension::Time(TimeBucket::Day),
            "time:hour" => StatsDimension::Time(TimeBucket::Hour),
            "time:week" => StatsDimension::Time(TimeBucket::Week),
            "time:month" => StatsDimension::Time(TimeBucket::Month),
            _ => return None,
        })
    }

    pub fn is_event(&self) -> bool {
        matches!(
            self,
            StatsDimension::Page
                | StatsDimension::Name
                | StatsDimension::Hostname
                | StatsDimension::Prop(_)
                | StatsDimension::Goal
        )
    }
}

/// A filter comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsOp {
    Is,
    IsNot,
    Contains,
    ContainsNot,
    Matches,
    MatchesNot,
}

/// A filter tree; clauses of one comparison are OR-ed.
#[derive(Debug, Clone, PartialEq)]
pub enum StatsFilter {
    Compare {
        op: StatsOp,
        dimension: StatsDimension,
        values: Vec<String>,
        case_sensitive: bool,
    },
    And(Vec<StatsFilter>),
    Or(Vec<StatsFilter>),
    Not(Box<StatsFilter>),
    /// Narrows the rows but not the totals behind `percentage` and the conversion rates (a
    /// comparison query keeps to the main query's rows this way).
    NotInTotals(Box<StatsFilter>),
}

impl StatsFilter {
    /// The top-level parts of the filter (the items of a top-level `And`, else itself).
    pub fn top_level(&self) -> Vec<&StatsFilter> {
        match self {
            StatsFilter::And(v) => v.iter().collect(),
            other => vec![other],
        }
    }

    /// The filter without the top-level parts `drop` selects (`None` when nothing is left).
    pub fn without_top_level(&self, drop: impl Fn(&StatsFilter) -> bool) -> Option<StatsFilter> {
        let kept: Vec<StatsFilter> = self
            .top_level()
            .into_iter()
            .filter(|f| !drop(f))
            .cloned()
            .collect();
        if kept.is_empty() {
            None
        } else {
            Some(StatsFilter::And(kept))
        }
    }

    /// A top-level comparison on `event:goal` or `event:props:*`: left out of the
    /// conversion rates' denominators, as Plausible does.
    pub fn is_goal_or_prop_compare(&self) -> bool {
        matches!(
            self,
            StatsFilter::Compare {
                dimension: StatsDimension::Goal | StatsDimension::Prop(_),
                ..
            }
        )
    }

    /// Whether `event:goal` appears anywhere in the tree.
    pub fn uses_goals(&self) -> bool {
        match self {
            StatsFilter::Compare { dimension, .. } => *dimension == StatsDimension::Goal,
            StatsFilter::And(v) | StatsFilter::Or(v) => v.iter().any(StatsFilter::uses_goals),
            StatsFilter::Not(f) | StatsFilter::NotInTotals(f) => f.uses_goals(),
        }
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
    pub dimensions: Vec<StatsDimension>,
    pub filter: Option<StatsFilter>,
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
        self.dimensions.contains(&StatsDimension::Goal)
            || self.filter.as_ref().is_some_and(StatsFilter::uses_goals)
    }
}

/// Rows of one page plus the number of rows over all pages.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AggregateResult {
    pub rows: Vec<AggregateRow>,
    pub total_rows: u64,
}

/// The zone's UTC offsets over `[from_ms, to_ms)`: `(starts_at_ms, offset_ms)`, the first
/// starting at `from_ms`. Transitions are found day by day and pinned to the millisecond.
pub fn utc_offsets(tz: Tz, from_ms: i64, to_ms: i64) -> Vec<(i64, i64)> {
    let offset = |ms: i64| -> i64 {
        let dt = chrono::Utc
            .timestamp_millis_opt(ms)
            .single()
            .unwrap_or_default();
        i64::from(
            tz.offset_from_utc_datetime(&dt.naive_utc())
                .fix()
                .local_minus_utc(),
        ) * 1000
    };
    let mut out = vec![(from_ms, offset(from_ms))];
    let day = 86_400_000;
    let mut t = from_ms;
    while t < to_ms {
        let next = (t + day).min(to_ms);
        let cur = out.last().map(|o| o.1).unwrap_or(0);
        if offset(next) != cur {
            // Binary search for the first millisecond with the new offset.
            let (mut lo, mut hi) = (t, next);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset(mid) == cur {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            out.push((hi, offset(hi)));
            t = hi;
        } else {
            t = next;
        }
    }
    out
}

/// Every bucket label of `[from_ms, to_ms)` in `tz`, in order, in the stores' label format
/// (`2026-01-05`, `2026-01-05 13:00:00`; weeks start on Monday, months on the 1st). At most
/// `max` labels.
pub fn time_labels(
    bucket: TimeBucket,
    tz: Tz,
    from_ms: i64,
    to_ms: i64,
    max: usize,
) -> Vec<String> {
    use chrono::{Datelike, Duration};
    let local = |ms: i64| {
        chrono::Utc
            .timestamp_millis_opt(ms)
            .single()
            .unwrap_or_default()
            .with_timezone(&tz)
            .naive_local()
    };
    let mut out: Vec<String> = Vec::new();
    if to_ms <= from_ms {
        return out;
    }
    fn push(out: &mut Vec<String>, label: String) {
        if out.last() != Some(&label) {
            out.push(label);
        }
    }
    match bucket {
        TimeBucket::Hour => {
            let mut t = from_ms - from_ms.rem_euclid(900_000);
            while t < to_ms && out.len() < max {
                push(&mut out, local(t).format("%Y-%m-%d %H:00:00").to_string());
                t += 900_000;
            }
        }
        _ => {
            let (first, last) = (local(from_ms).date(), local(to_ms - 1).date());
            let mut d = first;
            while d <= last && out.len() < max {
                let label = match bucket {
                    TimeBucket::Week => {
                        d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
                    }
                    TimeBucket::Month => d.with_day(1).unwrap_or(d),
                    _ => d,
                };
                push(&mut out, label.format("%Y-%m-%d").to_string());
                d += Duration::days(1);
            }
        }
    }
    out
}

/// The goals of `goals` (names, in that order) an `event:goal` comparison names, ignoring
/// its negation: `is`/`is_not` name the goals equal to a value, `contains`/`contains_not` the
/// goals containing one, `matches`/`matches_not` the goals a pattern matches.
pub fn named_goals<'a>(
    op: StatsOp,
    values: &[String],
    case_sensitive: bool,
    goals: &'a [String],
) -> Vec<&'a str> {
    let fold = |s: &str| {
        if case_sensitive {
            s.to_string()
        } else {
            s.to_lowercase()
        }
    };
    let values: Vec<String> = values.iter().map(|v| fold(v)).collect();
    let patterns: Vec<regex::Regex> = match op {
        StatsOp::Matches | StatsOp::MatchesNot => values
            .iter()
            .filter_map(|v| regex::Regex::new(v).ok())
            .collect(),
        _ => Vec::new(),
    };
    goals
        .iter()
        .filter(|g| {
            let g = fold(g);
            match op {
                StatsOp::Is | StatsOp::IsNot => values.contains(&g),
                StatsOp::Contains | StatsOp::ContainsNot => {
                    values.iter().any(|v| g.contains(v.as_str()))
                }
                StatsOp::Matches | StatsOp::MatchesNot => patterns.iter().any(|p| p.is_match(&g)),
            }
        })
        .map(String::as_str)
        .collect()
}

/// Whether the comparison is negated (`is_not`, `contains_not`, `matches_not`).
pub fn is_negated(op: StatsOp) -> bool {
    matches!(
        op,
        StatsOp::IsNot | StatsOp::ContainsNot | StatsOp::MatchesNot
    )
}

/// Checks a `matches` filter pattern (RE2-like syntax, as the stores evaluate it).
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    regex::Regex::new(pattern)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goal_comparisons_name_goals() {
        let goals: Vec<String> = ["Purchase", "Signup", "Add to Cart"]
            .map(String::from)
            .to_vec();
        let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            named_goals(StatsOp::Is, &v(&["Signup", "Nope"]), true, &goals),
            vec!["Signup"]
        );
        assert!(named_goals(StatsOp::Is, &v(&["signup"]), true, &goals).is_empty());
        assert_eq!(
            named_goals(StatsOp::IsNot, &v(&["signup"]), false, &goals),
            vec!["Signup"]
        );
        assert_eq!(
            named_goals(StatsOp::Contains, &v(&["a"]), true, &goals),
            vec!["Purchase", "Add to Cart"]
        );
        let f = StatsFilter::And(vec![
            StatsFilter::Compare {
                op: StatsOp::Is,
                dimension: StatsDimension::Goal,
                values: v(&["Signup"]),
                case_sensitive: true,
            },
            StatsFilter::Compare {
                op: StatsOp::Is,
                dimension: StatsDimension::Page,
                values: v(&["/"]),
                case_sensitive: true,
            },
        ]);
        assert!(f.uses_goals());
        let rest = f.without_top_level(StatsFilter::is_goal_or_prop_compare);
        assert_eq!(rest.as_ref().map(StatsFilter::uses_goals), Some(false));
        assert_eq!(rest.map(|r| r.top_level().len()), Some(1));
    }

    #[test]
    fn offsets_follow_dst() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        // 2026-03-01 .. 2026-04-01: one transition, 29 March 01:00 UTC.
        let from = 1_772_323_200_000;
        let to = 1_775_001_600_000;
        let o = utc_offsets(tz, from, to);
        assert_eq!(o.len(), 2, "{o:?}");
        assert_eq!(o[0].1, 3_600_000);
        assert_eq!(o[1], (1_774_746_000_000, 7_200_000));
        assert_eq!(
            StatsDimension::parse("visit:utm_source"),
            Some(StatsDimension::Visit(VisitField::UtmSource))
        );
        assert_eq!(Metric::parse("bounce_rate"), Some(Metric::BounceRate));
        // The spring-forward day has 23 local hours; labels are local.
        let day = crate::DateRange::Day.bounds(
            tz,
            chrono::Utc.with_ymd_and_hms(2026, 3, 29, 12, 0, 0).unwrap(),
        );
        let hours = time_labels(TimeBucket::Hour, tz, day.from_ms, day.to_ms, 1000);
        assert_eq!(hours.len(), 23);
        assert_eq!(hours[2], "2026-03-29 03:00:00");
        let weeks = time_labels(TimeBucket::Week, tz, from, to, 1000);
        assert_eq!(weeks.first().map(String::as_str), Some("2026-02-23"));
        assert_eq!(weeks.len(), 6);
        // `to` is 1 April 02:00 in Berlin.
        assert_eq!(
            time_labels(TimeBucket::Month, tz, from, to, 1000),
            vec!["2026-03-01", "2026-04-01"]
        );
    }
}
