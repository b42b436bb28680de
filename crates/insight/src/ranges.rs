//! Date ranges and comparisons as users write them (`30d`, `compare=previous_period`), resolved
//! in the site's time zone (in Rust, DST-correct) to the UTC bounds stores query with; the
//! comparison periods follow [`crate::compare`].

use chrono::{DateTime, Utc};
use serde::Serialize;
use waymark_core::{DateRange, Site, TimeBounds};

use crate::{compare, InsightError};

/// A resolved period: what the user asked for and its UTC bounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    pub label: String,
    pub bounds: TimeBounds,
}

/// Resolves `range` (`7d`, `30d`, `month`, `all`, `YYYY-MM-DD,YYYY-MM-DD`, ...) and an optional
/// comparison (`previous` or `previous_period`, `year_over_year`, both by the rules of
/// [`crate::compare`]; or explicit dates) for `site` at `now`.
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
    let no_all = |what: &str| {
        InsightError::invalid(
            "compare",
            format!("compare: range `all` has no {what}; compare with explicit dates instead (YYYY-MM-DD,YYYY-MM-DD)"),
        )
    };
    let previous = match compare.map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(c)
            if c.eq_ignore_ascii_case("previous") || c.eq_ignore_ascii_case("previous_period") =>
        {
            if r == DateRange::All {
                return Err(no_all("previous period"));
            }
            Some(Period {
                label: "previous period".into(),
                bounds: compare::previous_period(current.bounds, tz, now),
            })
        }
        Some(c) if c.eq_ignore_ascii_case("year_over_year") => {
            if r == DateRange::All {
                return Err(no_all("previous year"));
            }
            Some(Period {
                label: "previous year".into(),
                bounds: compare::year_over_year(current.bounds, tz, now),
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
    use waymark_core::range::local_midnight_ms;

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
    fn a_custom_range_past_today_is_compared_with_its_days_so_far() {
        let site = Site::new("a.example", "UTC").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap();
        let (cur, prev) =
            resolve_range(&site, "2026-03-08,2026-03-20", Some("previous_period"), now).unwrap();
        let day = |d| {
            local_midnight_ms(
                site.tz(),
                chrono::NaiveDate::from_ymd_opt(2026, 3, d).unwrap(),
            )
        };
        // The range itself stays as asked; it is compared as 8–10 March, with 5–7 March.
        assert_eq!(
            cur.bounds,
            TimeBounds {
                from_ms: day(8),
                to_ms: day(21)
            }
        );
        assert_eq!(
            prev.unwrap().bounds,
            TimeBounds {
                from_ms: day(5),
                to_ms: day(8)
            }
        );
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
