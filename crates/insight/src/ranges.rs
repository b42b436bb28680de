//! Date ranges and comparison periods as users write them, resolved in the site's time zone
//! (in Rust, DST-correct) to the UTC bounds stores query with.

use chrono::{DateTime, Utc};
use serde::Serialize;
use waymark_core::range::local_midnight_ms;
use waymark_core::{DateRange, Site, TimeBounds};

use crate::InsightError;

/// A resolved period: what the user asked for and its UTC bounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    pub label: String,
    pub bounds: TimeBounds,
}

/// Resolves `range` (`7d`, `30d`, `month`, `all`, `YYYY-MM-DD,YYYY-MM-DD`, ...) and an optional
/// comparison (`previous` or `previous_period`: as many days right before; `year_over_year`:
/// the same local days a calendar year earlier; or explicit dates) for `site` at `now`.
pub fn resolve_range(
    site: &Site,
    range: &str,
    compare: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(Period, Option<Period>), InsightError> {
    let tz = site.tz();
    let r: DateRange = range.parse().map_err(|e: waymark_core::RangeError| {
        InsightError::invalid("range", format!("range: {e}"))
    })?;
    let current = Period {
        label: range.trim().to_string(),
        bounds: r.bounds(tz, now),
    };
    let previous = match compare.map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(c)
            if c.eq_ignore_ascii_case("previous") || c.eq_ignore_ascii_case("previous_period") =>
        {
            let bounds = r.previous_period(tz, now).ok_or_else(|| {
                InsightError::invalid(
                    "compare",
                    "compare: range `all` has no previous period; compare with explicit dates instead (YYYY-MM-DD,YYYY-MM-DD)"
                        ,
                )
            })?;
            Some(Period {
                label: "previous period".into(),
                bounds,
            })
        }
        Some(c) if c.eq_ignore_ascii_case("year_over_year") => {
            let today = now.with_timezone(&tz).date_naive();
            let (first, last) = r.local_dates(today).ok_or_else(|| {
                InsightError::invalid(
                    "compare",
                    "compare: range `all` has no previous year; compare with explicit dates instead (YYYY-MM-DD,YYYY-MM-DD)"
                        ,
                )
            })?;
            // The same calendar days (29 February falls back to the 28th, as in the Stats API).
            let year = chrono::Months::new(12);
            let shift = |d: chrono::NaiveDate| d.checked_sub_months(year).unwrap_or(d);
            Some(Period {
                label: "previous year".into(),
                bounds: TimeBounds {
                    from_ms: local_midnight_ms(tz, shift(first)),
                    to_ms: local_midnight_ms(tz, shift(last) + chrono::Duration::days(1)),
                },
            })
        }
        Some(c) => {
            let other: DateRange = c.parse().map_err(|e: waymark_core::RangeError| {
                InsightError::invalid(
                    "compare",
                    format!("compare: {e} (or previous_period, year_over_year)"),
                )
            })?;
            Some(Period {
                label: c.to_string(),
                bounds: other.bounds(tz, now),
            })
        }
    };
    Ok((current, previous))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn previous_period_is_the_same_length_before() {
        let site = Site::new("a.example", "UTC").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap();
        let (cur, prev) = resolve_range(&site, "7d", Some("previous"), now).unwrap();
        let prev = prev.unwrap();
        assert_eq!(prev.bounds.to_ms, cur.bounds.from_ms);
        assert_eq!(
            cur.bounds.to_ms - cur.bounds.from_ms,
            prev.bounds.to_ms - prev.bounds.from_ms
        );
        assert!(resolve_range(&site, "all", Some("previous"), now).is_err());
        assert!(resolve_range(&site, "fortnight", None, now).is_err());
    }

    #[test]
    fn year_over_year_is_the_same_days_a_year_earlier() {
        let site = Site::new("a.example", "Europe/Berlin").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap();
        let (cur, prev) =
            resolve_range(&site, "2028-02-28,2028-03-01", Some("year_over_year"), now).unwrap();
        let prev = prev.unwrap();
        let tz = site.tz();
        let day =
            |y, m, d| local_midnight_ms(tz, chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap());
        assert_eq!(cur.bounds.from_ms, day(2028, 2, 28));
        // 28 February to 1 March 2027 (no leap day then): two days.
        assert_eq!(
            prev.bounds,
            TimeBounds {
                from_ms: day(2027, 2, 28),
                to_ms: day(2027, 3, 2)
            }
        );
        let err = resolve_range(&site, "all", Some("year_over_year"), now).unwrap_err();
        assert!(err.to_string().starts_with("compare:"), "{err}");
        let err = resolve_range(&site, "7d", Some("lastweek"), now).unwrap_err();
        assert!(err.to_string().contains("year_over_year"), "{err}");
    }
}
