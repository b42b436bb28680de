//! Comparisons, written once: the period a range is compared with and how a number changed.
//! The Stats API (`include.comparisons`), the conversion and funnel reports (`compare=`) and
//! the dashboard (which reads both from those answers) all use these rules, as Plausible
//! defines them:
//!
//! - **previous period**: as many days right before the range. A whole-day range ends today
//!   at the latest, so "this month" is compared day for day, and so is a custom range that
//!   runs past today (1–30 November on the 25th: 1–25 against the 25 days before). A
//!   date-time range shifts by its length.
//! - **year over year**: the same local days (or local times) a calendar year earlier, with
//!   the same end-at-today rule; 29 February falls back to the 28th.
//! - **change**: the percent change, rounded, 100 from 0 to anything and 0 from 0 to 0;
//!   `conversion_rate` in percentage points with one decimal; `bounce_rate` in whole points,
//!   none when it was 0 (Plausible's `Stats.Compare`); none when either side has no value.

use chrono::{DateTime, Duration, Months, NaiveDate, TimeZone, Utc};
use serde::Serialize;
use waymark_core::query::Metric;
use waymark_core::range::local_midnight_ms;
use waymark_core::{TimeBounds, Tz};

fn local_date(tz: Tz, ms: i64) -> NaiveDate {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_default()
        .with_timezone(&tz)
        .date_naive()
}

/// The range's first and last local days when it spans whole local days.
fn whole_days(b: TimeBounds, tz: Tz) -> Option<(NaiveDate, NaiveDate)> {
    let (first, last) = (local_date(tz, b.from_ms), local_date(tz, b.to_ms - 1));
    (local_midnight_ms(tz, first) == b.from_ms
        && local_midnight_ms(tz, last + Duration::days(1)) == b.to_ms)
        .then_some((first, last))
}

fn days(tz: Tz, first: NaiveDate, last: NaiveDate) -> TimeBounds {
    TimeBounds {
        from_ms: local_midnight_ms(tz, first),
        to_ms: local_midnight_ms(tz, last + Duration::days(1)),
    }
}

/// A range that has begun counts only up to today.
fn clamp_to_today(first: NaiveDate, last: NaiveDate, tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    let today = now.with_timezone(&tz).date_naive();
    if first <= today {
        last.min(today)
    } else {
        last
    }
}

/// The previous period of `b` (a site's range in `tz`) at instant `now`.
pub fn previous_period(b: TimeBounds, tz: Tz, now: DateTime<Utc>) -> TimeBounds {
    match whole_days(b, tz) {
        Some((first, last)) => {
            let last = clamp_to_today(first, last, tz, now);
            let n = Duration::days((last - first).num_days() + 1);
            days(tz, first - n, last - n)
        }
        None => TimeBounds {
            from_ms: b.from_ms - (b.to_ms - b.from_ms),
            to_ms: b.from_ms,
        },
    }
}

/// The same days (or local times) as `b`, a calendar year earlier.
pub fn year_over_year(b: TimeBounds, tz: Tz, now: DateTime<Utc>) -> TimeBounds {
    let year = Months::new(12);
    match whole_days(b, tz) {
        Some((first, last)) => {
            let last = clamp_to_today(first, last, tz, now);
            days(
                tz,
                first.checked_sub_months(year).unwrap_or(first),
                last.checked_sub_months(year).unwrap_or(last),
            )
        }
        None => {
            let shift = |ms: i64| {
                let local = Utc
                    .timestamp_millis_opt(ms)
                    .single()
                    .unwrap_or_default()
                    .with_timezone(&tz)
                    .naive_local();
                local
                    .checked_sub_months(year)
                    .and_then(|l| tz.from_local_datetime(&l).earliest())
                    .map_or(ms - 365 * 86_400_000, |d| d.timestamp_millis())
            };
            TimeBounds {
                from_ms: shift(b.from_ms),
                to_ms: shift(b.to_ms),
            }
        }
    }
}

/// The percent change, rounded: 100 from 0 to anything, 0 from 0 to 0.
pub fn percent_change(before: f64, now: f64) -> i64 {
    if before == 0.0 {
        if now > 0.0 {
            100
        } else {
            0
        }
    } else {
        ((now - before) / before * 100.0).round() as i64
    }
}

/// A rate's change in percentage points, one decimal.
pub fn points_change(before: f64, now: f64) -> f64 {
    ((now - before) * 10.0).round() / 10.0
}

/// How a metric changed between two periods; serialises as the bare number.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Change {
    /// Percent, rounded.
    Percent(i64),
    /// A whole-number rate's difference in points (`bounce_rate`).
    WholePoints(i64),
    /// A rate's difference in points, one decimal (`conversion_rate`).
    Points(f64),
}

/// The change of `m` from `old` to `new`, the values as answers show them (`None` when
/// either has none, and for a bounce rate that was 0).
pub fn metric_change(m: Metric, old: Option<f64>, new: Option<f64>) -> Option<Change> {
    let (old, new) = (old?, new?);
    match m {
        Metric::ConversionRate => Some(Change::Points(points_change(old, new))),
        Metric::BounceRate if old > 0.0 => Some(Change::WholePoints((new - old).round() as i64)),
        Metric::BounceRate => None,
        _ => Some(Change::Percent(percent_change(old, new))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dates(tz: Tz, a: (i32, u32, u32), b: (i32, u32, u32)) -> TimeBounds {
        let d = |(y, m, d): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        days(tz, d(a), d(b))
    }

    #[test]
    fn periods_end_today_at_the_latest() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
        // A month in progress is compared day for day: 1–25 November with 7–31 October.
        let month = dates(tz, (2026, 11, 1), (2026, 11, 30));
        assert_eq!(
            previous_period(month, tz, now),
            dates(tz, (2026, 10, 7), (2026, 10, 31))
        );
        // So is a custom range that runs past today: 20–30 November is 20–25 so far.
        let custom = dates(tz, (2026, 11, 20), (2026, 11, 30));
        assert_eq!(
            previous_period(custom, tz, now),
            dates(tz, (2026, 11, 14), (2026, 11, 19))
        );
        assert_eq!(
            year_over_year(custom, tz, now),
            dates(tz, (2025, 11, 20), (2025, 11, 25))
        );
        // A range wholly in the past keeps its length; one wholly ahead too.
        let past = dates(tz, (2026, 10, 1), (2026, 10, 10));
        assert_eq!(
            previous_period(past, tz, now),
            dates(tz, (2026, 9, 21), (2026, 9, 30))
        );
        let ahead = dates(tz, (2026, 12, 1), (2026, 12, 2));
        assert_eq!(
            previous_period(ahead, tz, now),
            dates(tz, (2026, 11, 29), (2026, 11, 30))
        );
        // 28 February to 1 March 2028 a year earlier (no leap day then): two days.
        let leap = dates(tz, (2028, 2, 28), (2028, 3, 1));
        assert_eq!(
            year_over_year(leap, tz, now),
            dates(tz, (2027, 2, 28), (2027, 3, 1))
        );
        // Date-time ranges shift by their length.
        let five = TimeBounds {
            from_ms: 1_795_600_800_000,
            to_ms: 1_795_601_100_000,
        };
        assert_eq!(
            previous_period(five, tz, now),
            TimeBounds {
                from_ms: 1_795_600_500_000,
                to_ms: 1_795_600_800_000
            }
        );
    }

    #[test]
    fn changes_follow_plausible() {
        use Metric::*;
        assert_eq!(percent_change(0.0, 5.0), 100);
        assert_eq!(percent_change(0.0, 0.0), 0);
        assert_eq!(percent_change(8.0, 2.0), -75);
        assert_eq!(percent_change(3.0, 4.0), 33);
        assert_eq!(points_change(5.0, 7.25), 2.3);
        let ch = |m, a, b| metric_change(m, a, b);
        assert_eq!(
            ch(Visitors, Some(0.0), Some(5.0)),
            Some(Change::Percent(100))
        );
        assert_eq!(ch(Visitors, Some(0.0), Some(0.0)), Some(Change::Percent(0)));
        assert_eq!(ch(Visitors, None, Some(2.0)), None);
        assert_eq!(ch(BounceRate, Some(0.0), Some(40.0)), None);
        assert_eq!(
            ch(BounceRate, Some(50.0), Some(40.0)),
            Some(Change::WholePoints(-10))
        );
        assert_eq!(
            ch(ConversionRate, Some(5.0), Some(7.25)),
            Some(Change::Points(2.3))
        );
    }
}
