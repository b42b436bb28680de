//! Local time without ICU: a UTC millisecond expression shifted by the site zone's offsets
//! (computed in Rust, DST-correct, bound as parameters), and its bucket label.

use waymark_core::query::{time_labels, utc_offsets, TimeBucket};
use waymark_core::{TimeBounds, Tz};

use super::expr::{Expr, Func};

/// The offsets of a zone over a data span, for [`label`].
#[derive(Debug, Clone, PartialEq)]
pub struct LocalTime {
    offsets: Vec<(i64, i64)>,
    /// The first label of the range (weeks open on the range's first day).
    first_day: String,
}

impl LocalTime {
    /// For events in `span` (the first and last millisecond of the range's events). Visits
    /// are labelled by their start clamped to the range, and a visit that starts before the
    /// range has an event within 30 minutes of its start: an hour before the first event
    /// covers every label.
    pub fn new(tz: Tz, bounds: TimeBounds, span: (i64, i64)) -> LocalTime {
        let from = (span.0 - 3_600_000).max(bounds.from_ms);
        let to = (span.1 + 1).min(bounds.to_ms).max(from + 1);
        LocalTime {
            offsets: utc_offsets(tz, from, to),
            first_day: time_labels(TimeBucket::Day, tz, bounds.from_ms, bounds.from_ms + 1, 1)
                .into_iter()
                .next()
                .unwrap_or_default(),
        }
    }

    /// `ms + offset(ms)`.
    fn local(&self, ms: Expr) -> Expr {
        let offset = match self.offsets.as_slice() {
            [] => Expr::Int(0),
            [(_, o)] => Expr::int(*o),
            many => {
                let whens = many
                    .windows(2)
                    .map(|w| (ms.clone().lt(Expr::int(w[1].0)), Expr::int(w[0].1)))
                    .collect();
                let last = many.last().map_or(0, |o| o.1);
                Expr::Case(whens, Box::new(Expr::int(last)))
            }
        };
        ms.plus(offset)
    }

    /// The local bucket label of a UTC millisecond expression.
    pub fn label(&self, bucket: TimeBucket, ms: Expr) -> Expr {
        let label = Expr::f(Func::Label(bucket), vec![self.local(ms)]);
        if bucket == TimeBucket::Week {
            Expr::f(
                Func::Greatest,
                vec![label, Expr::text(self.first_day.clone())],
            )
        } else {
            label
        }
    }
}
