//! Date ranges as users write them (`7d`, `30d`, `month`, `all`, `2026-01-01,2026-01-31`) and their
//! resolution to UTC instants in a site's time zone, DST-correct, so stores can bucket without ICU.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A range of whole local days, or everything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DateRange {
    /// Today only.
    Day,
    /// The last `n` days, today included.
    LastDays(u32),
    /// The current calendar month so far.
    Month,
    /// The current calendar year so far.
    Year,
    /// The last `n` calendar months, this one included.
    LastMonths(u32),
    /// Inclusive local dates.
    Custom(NaiveDate, NaiveDate),
    /// Every event ever stored.
    All,
}

/// A half-open interval `[from_ms, to_ms)` of UTC milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeBounds {
    pub from_ms: i64,
    pub to_ms: i64,
}

/// Why a range string was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid date range {0:?}: use day, 7d, 30d, 6mo, 12mo, month, year, all, or YYYY-MM-DD,YYYY-MM-DD")]
pub struct RangeError(pub String);

impl TimeBounds {
    /// Everything from 1970 to the end of year 9999 (a range every backend can represent).
    pub const ALL: TimeBounds = TimeBounds {
        from_ms: 0,
        to_ms: 253_402_300_800_000,
    };
}

impl std::str::FromStr for DateRange {
    type Err = RangeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || RangeError(s.to_string());
        let t = s.trim();
        Ok(match t {
            "day" | "today" => DateRange::Day,
            "month" => DateRange::Month,
            "year" => DateRange::Year,
            "all" => DateRange::All,
            _ => {
                if let Some((a, b)) = t.split_once(',') {
                    let a = NaiveDate::parse_from_str(a.trim(), "%Y-%m-%d").map_err(|_| err())?;
                    let b = NaiveDate::parse_from_str(b.trim(), "%Y-%m-%d").map_err(|_| err())?;
                    if b < a {
                        return Err(err());
                    }
                    DateRange::Custom(a, b)
                } else if let Some(n) = t.strip_suffix("mo") {
                    DateRange::LastMonths(n.parse().ok().filter(|n| *n > 0).ok_or_else(err)?)
                } else if let Some(n) = t.strip_suffix('d') {
                    DateRange::LastDays(n.parse().ok().filter(|n| *n > 0).ok_or_else(err)?)
                } else {
                    return Err(err());
                }
            }
        })
    }
}

impl DateRange {
    /// The inclusive local dates this range covers, given "today" in the site's zone
    /// (`None` for `All`).
    pub fn local_dates(&self, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let first_of_month = today.with_day(1).unwrap_or(today);
        Some(match self {
            DateRange::Day => (today, today),
            DateRange::LastDays(n) => (today - Duration::days(i64::from(*n) - 1), today),
            DateRange::Month => (first_of_month, today),
            DateRange::Year => (today.with_ordinal(1).unwrap_or(today), today),
            DateRange::LastMonths(n) => (
                first_of_month
                    .checked_sub_months(chrono::Months::new(n.saturating_sub(1)))
                    .unwrap_or(first_of_month),
                today,
            ),
            DateRange::Custom(a, b) => (*a, *b),
            DateRange::All => return None,
        })
    }

    /// Resolves the range in `tz` at instant `now` to UTC bounds.
    pub fn bounds(&self, tz: Tz, now: DateTime<Utc>) -> TimeBounds {
        let today = now.with_timezone(&tz).date_naive();
        match self.local_dates(today) {
            None => TimeBounds::ALL,
            Some((a, b)) => TimeBounds {
                from_ms: local_midnight_ms(tz, a),
                to_ms: local_midnight_ms(tz, b + Duration::days(1)),
            },
        }
    }
}

/// The UTC instant (ms) at which `date` starts in `tz`. On a DST gap at midnight the first
/// existing local instant is used.
pub fn local_midnight_ms(tz: Tz, date: NaiveDate) -> i64 {
    let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    let mut probe = naive;
    for _ in 0..4 {
        if let Some(dt) = tz.from_local_datetime(&probe).earliest() {
            return dt.timestamp_millis();
        }
        probe += Duration::minutes(30);
    }
    Utc.from_utc_datetime(&naive).timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_presets_and_custom() {
        assert_eq!("30d".parse(), Ok(DateRange::LastDays(30)));
        assert_eq!("6mo".parse(), Ok(DateRange::LastMonths(6)));
        assert_eq!("all".parse(), Ok(DateRange::All));
        assert!("0d".parse::<DateRange>().is_err());
        assert!("2026-02-01,2026-01-01".parse::<DateRange>().is_err());
        assert!("soon".parse::<DateRange>().is_err());
    }

    #[test]
    fn bounds_follow_the_site_zone_across_dst() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 3, 29, 12, 0, 0).unwrap();
        let b = DateRange::Day.bounds(tz, now);
        // 29 March 2026 is the spring-forward day in Berlin: 23 hours long.
        assert_eq!(b.to_ms - b.from_ms, 23 * 3600 * 1000);
        assert_eq!(
            b.from_ms,
            Utc.with_ymd_and_hms(2026, 3, 28, 23, 0, 0)
                .unwrap()
                .timestamp_millis()
        );
    }
}
