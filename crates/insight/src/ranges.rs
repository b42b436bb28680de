//! Date ranges and comparison periods as users write them, resolved in the site's time zone
//! (in Rust, DST-correct) to the UTC bounds stores query with.

use chrono::{DateTime, Utc};
use serde::Serialize;
use waymark_core::{DateRange, Site, TimeBounds};

use crate::InsightError;

/// A resolved period: what the user asked for and its UTC bounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    pub label: String,
    pub bounds: TimeBounds,
}

/// Resolves `range` (`7d`, `30d`, `month`, `all`, `YYYY-MM-DD,YYYY-MM-DD`, ...) and an optional
/// comparison (`previous`, or explicit dates) for `site` at `now`.
pub fn resolve_range(
    site: &Site,
    range: &str,
    compare: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(Period, Option<Period>), InsightError> {
    let tz = site.tz();
    let r: DateRange = range
        .parse()
        .map_err(|e: waymark_core::RangeError| InsightError::Invalid(e.to_string()))?;
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
                InsightError::Invalid(
                    "range `all` has no previous period; compare with explicit dates instead (YYYY-MM-DD,YYYY-MM-DD)"
                        .into(),
                )
            })?;
            Some(Period {
                label: "previous period".into(),
                bounds,
            })
        }
        Some(c) => {
            let other: DateRange = c.parse().map_err(|e: waymark_core::RangeError| {
                InsightError::Invalid(format!("compare: {e} (or `previous`)"))
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
}
