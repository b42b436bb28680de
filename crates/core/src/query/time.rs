//! Local time without ICU: the site zone's UTC offsets over a range, computed in Rust
//! (DST-correct) for stores to bucket with, and the bucket labels a range lists.

use chrono::{Offset, TimeZone};
use chrono_tz::Tz;

use super::field::TimeBucket;

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
                    // A range that starts mid-week opens with its first day (as Plausible).
                    TimeBucket::Week => {
                        (d - Duration::days(i64::from(d.weekday().num_days_from_monday())))
                            .max(first)
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

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
        // The spring-forward day has 23 local hours; labels are local.
        let day = crate::DateRange::Day.bounds(
            tz,
            chrono::Utc.with_ymd_and_hms(2026, 3, 29, 12, 0, 0).unwrap(),
        );
        let hours = time_labels(TimeBucket::Hour, tz, day.from_ms, day.to_ms, 1000);
        assert_eq!(hours.len(), 23);
        assert_eq!(hours[2], "2026-03-29 03:00:00");
        // `from` is Sunday 1 March 01:00 in Berlin: the first week opens on the range's day.
        let weeks = time_labels(TimeBucket::Week, tz, from, to, 1000);
        assert_eq!(weeks.first().map(String::as_str), Some("2026-03-01"));
        assert_eq!(weeks.get(1).map(String::as_str), Some("2026-03-02"));
        assert_eq!(weeks.len(), 6);
        // `to` is 1 April 02:00 in Berlin.
        assert_eq!(
            time_labels(TimeBucket::Month, tz, from, to, 1000),
            vec!["2026-03-01", "2026-04-01"]
        );
    }
}
