//! Funnel attempts evaluated in Rust over narrow rows, the same for every backend: the store's
//! SQL only selects the events that match some step (with a bit mask of the steps they match,
//! their visit and segment), and this module applies the semantics of `docs/funnels.md` —
//! attempts per unit, each order's rule, windows, the best attempt per visitor, step counts
//! and nearest-rank times. One implementation, so no two engines can disagree, and none
//! needs window functions or as-of joins (ClickHouse 18.16 has neither).
//!
//! Rows must be sorted by `(visitor, t, seq)`; [`evaluate`] sorts them itself.

use std::collections::HashMap;

use waymark_core::{FunnelCounts, FunnelRow, StepCount, StepOrder, Window};

/// One event that matches at least one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepEvent {
    pub visitor: u64,
    pub session: u64,
    /// UTC milliseconds.
    pub t: i64,
    /// Arrival order, the tie-break among events of the same millisecond.
    pub seq: u64,
    /// Index of the event's visit's segment in the segment list (0 without a breakdown).
    pub seg: u32,
    /// Bit `i` set when the event matches step `i`.
    pub mask: u64,
}

/// The funnel's shape, without its triggers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    pub steps: usize,
    /// `repeats[i]`: step `i` has the same trigger as step `i - 1` (then it needs a strictly
    /// later event in `strict` order).
    pub repeats: Vec<bool>,
    pub window: Window,
    pub order: StepOrder,
}

/// One attempt: the level it reaches, its step times and its segment.
#[derive(Debug, Clone)]
struct Attempt {
    level: usize,
    t1: i64,
    seq1: u64,
    times: Vec<i64>,
    seg: u32,
}

impl Shape {
    fn within(&self, first: i64, last: i64) -> bool {
        match self.window {
            Window::Session => true,
            Window::Duration(ms) => last - first <= ms,
        }
    }

    fn bit(i: usize) -> u64 {
        1u64 << i
    }
}

/// Counts per step overall and, with `segments`, per segment (`segments[e.seg]` names them).
pub fn evaluate(shape: &Shape, mut rows: Vec<StepEvent>, segments: &[String]) -> FunnelCounts {
    rows.sort_unstable_by_key(|e| (e.visitor, e.t, e.seq));
    let mut attempts: Vec<(u64, Attempt)> = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let visitor = rows[start].visitor;
        let mut end = start;
        while end < rows.len() && rows[end].visitor == visitor {
            end += 1;
        }
        let events = &rows[start..end];
        match shape.window {
            Window::Duration(_) => unit_attempts(shape, events, visitor, &mut attempts),
            Window::Session => {
                // Units are visits; a visitor's events arrive in time order, so gather each
                // visit's events (visits of one visitor do not interleave in practice, but
                // nothing here relies on it).
                let mut by_session: Vec<(u64, Vec<StepEvent>)> = Vec::new();
                let mut index: HashMap<u64, usize> = HashMap::new();
                for e in events {
                    let i = *index.entry(e.session).or_insert_with(|| {
                        by_session.push((e.session, Vec::new()));
                        by_session.len() - 1
                    });
                    by_session[i].1.push(*e);
                }
                for (_, unit) in &by_session {
                    unit_attempts(shape, unit, visitor, &mut attempts);
                }
            }
        }
        start = end;
    }
    let overall = row(shape, &attempts, None, String::new());
    let mut out = FunnelCounts {
        overall,
        segments: Vec::new(),
    };
    if !segments.is_empty() {
        let mut present: Vec<u32> = attempts.iter().map(|(_, a)| a.seg).collect();
        present.sort_unstable();
        present.dedup();
        for s in present {
            let name = segments.get(s as usize).cloned().unwrap_or_default();
            out.segments.push(row(shape, &attempts, Some(s), name));
        }
        out.segments.sort_by(|a, b| {
            b.steps[0]
                .visitors
                .cmp(&a.steps[0].visitors)
                .then_with(|| a.segment.cmp(&b.segment))
        });
    }
    out
}

/// The attempts of one unit (a visitor's events, or one visit's), in time order.
fn unit_attempts(shape: &Shape, unit: &[StepEvent], visitor: u64, out: &mut Vec<(u64, Attempt)>) {
    match shape.order {
        StepOrder::Strict => strict(shape, unit, visitor, out),
        StepOrder::Sequence => sequence(shape, unit, visitor, out),
        StepOrder::Any => any(shape, unit, visitor, out),
    }
}

/// From each step-1 event (in a visit, only its first), each next step at the earliest
/// matching event at or after the previous one (strictly after for a repeated step). The
/// earliest choice reaches as far as any other from the same start.
fn strict(shape: &Shape, unit: &[StepEvent], visitor: u64, out: &mut Vec<(u64, Attempt)>) {
    // Times of each step's events, ascending (the unit is in time order).
    let per_step: Vec<Vec<i64>> = (0..shape.steps)
        .map(|i| {
            unit.iter()
                .filter(|e| e.mask & Shape::bit(i) != 0)
                .map(|e| e.t)
                .collect()
        })
        .collect();
    let starts = unit.iter().filter(|e| e.mask & 1 != 0);
    let starts: Vec<&StepEvent> = if shape.window == Window::Session {
        starts.take(1).collect()
    } else {
        starts.collect()
    };
    for s in starts {
        let mut times = vec![s.t];
        for k in 1..shape.steps {
            let prev = times[k - 1];
            let list = &per_step[k];
            let at = if shape.repeats[k] {
                list.partition_point(|&t| t <= prev)
            } else {
                list.partition_point(|&t| t < prev)
            };
            match list.get(at) {
                Some(&t) => times.push(t),
                None => break,
            }
        }
        let level = (1..=times.len())
            .rev()
            .find(|&k| shape.within(s.t, times[k - 1]))
            .unwrap_or(1);
        times.truncate(level);
        out.push((
            visitor,
            Attempt {
                level,
                t1: s.t,
                seq1: s.seq,
                times,
                seg: s.seg,
            },
        ));
    }
}

/// Events grouped per millisecond; from each millisecond with a step-1 event, step `i + 1`
/// must be matched at the very next millisecond that has any funnel-step event.
fn sequence(shape: &Shape, unit: &[StepEvent], visitor: u64, out: &mut Vec<(u64, Attempt)>) {
    // (t, mask of the millisecond, first seq, segment of its step-1 events)
    let mut groups: Vec<(i64, u64, u64, Option<u32>)> = Vec::new();
    for e in unit {
        let step1 = (e.mask & 1 != 0).then_some(e.seg);
        match groups.last_mut() {
            Some(g) if g.0 == e.t => {
                g.1 |= e.mask;
                g.3 = match (g.3, step1) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            _ => groups.push((e.t, e.mask, e.seq, step1)),
        }
    }
    for (i, g) in groups.iter().enumerate() {
        let Some(seg) = g.3 else { continue };
        let mut times = vec![g.0];
        for k in 1..shape.steps {
            match groups.get(i + k) {
                Some(next) if next.1 & Shape::bit(k) != 0 && shape.within(g.0, next.0) => {
                    times.push(next.0)
                }
                _ => break,
            }
        }
        out.push((
            visitor,
            Attempt {
                level: times.len(),
                t1: g.0,
                seq1: g.2,
                times,
                seg,
            },
        ));
    }
}

/// The steps present within one window, in any order: anchored at each funnel-step event and
/// looking `window` ahead (same millisecond included), or anywhere in the visit. The attempt
/// belongs to the segment of its earliest step-1 event.
fn any(shape: &Shape, unit: &[StepEvent], visitor: u64, out: &mut Vec<(u64, Attempt)>) {
    let level_of = |mask: u64| {
        (0..shape.steps)
            .take_while(|&i| mask & Shape::bit(i) != 0)
            .count()
    };
    if shape.window == Window::Session {
        let mask = unit.iter().fold(0, |m, e| m | e.mask);
        let level = level_of(mask);
        if let (true, Some(first)) = (level > 0, unit.first()) {
            let seg = unit
                .iter()
                .find(|e| e.mask & 1 != 0)
                .map_or(first.seg, |e| e.seg);
            out.push((
                visitor,
                Attempt {
                    level,
                    t1: first.t,
                    seq1: first.seq,
                    times: Vec::new(),
                    seg,
                },
            ));
        }
        return;
    }
    for (i, a) in unit.iter().enumerate() {
        // Same-millisecond events before the anchor are in its window too.
        let lo = unit[..i].partition_point(|e| e.t < a.t);
        let window = unit[lo..]
            .iter()
            .take_while(|e| shape.within(a.t, e.t))
            .collect::<Vec<_>>();
        let mask = window.iter().fold(0, |m, e| m | e.mask);
        let level = level_of(mask);
        if level == 0 {
            continue;
        }
        let seg = window
            .iter()
            .find(|e| e.mask & 1 != 0)
            .map_or(a.seg, |e| e.seg);
        out.push((
            visitor,
            Attempt {
                level,
                t1: a.t,
                seq1: a.seq,
                times: Vec::new(),
                seg,
            },
        ));
    }
}

/// Nearest rank: the value at rank ⌈q·n⌉ (an observed value).
fn nearest_rank(sorted: &[i64], q: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let idx = ((q * sorted.len() as f64).ceil() as usize).max(1) - 1;
    Some(sorted[idx.min(sorted.len() - 1)])
}

/// The step counts over each visitor's best attempt (highest level, then earliest start, then
/// arrival), all attempts or one segment's.
fn row(shape: &Shape, attempts: &[(u64, Attempt)], seg: Option<u32>, segment: String) -> FunnelRow {
    let mut best: HashMap<u64, &Attempt> = HashMap::new();
    for (v, a) in attempts
        .iter()
        .filter(|(_, a)| seg.is_none_or(|s| a.seg == s))
    {
        let better = match best.get(v) {
            None => true,
            Some(b) => {
                (a.level, std::cmp::Reverse((a.t1, a.seq1)))
                    > (b.level, std::cmp::Reverse((b.t1, b.seq1)))
            }
        };
        if better {
            best.insert(*v, a);
        }
    }
    let times = shape.order != StepOrder::Any;
    let steps = (0..shape.steps)
        .map(|k| {
            let reached: Vec<&&Attempt> = best.values().filter(|a| a.level > k).collect();
            let mut gaps: Vec<i64> = if k == 0 || !times {
                Vec::new()
            } else {
                reached
                    .iter()
                    .map(|a| a.times[k] - a.times[k - 1])
                    .collect()
            };
            gaps.sort_unstable();
            StepCount {
                visitors: reached.len() as u64,
                median_ms: nearest_rank(&gaps, 0.5),
                p75_ms: nearest_rank(&gaps, 0.75),
            }
        })
        .collect();
    FunnelRow { segment, steps }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn ev(visitor: u64, t: i64, mask: u64) -> StepEvent {
        StepEvent {
            visitor,
            session: visitor,
            t,
            seq: t as u64,
            seg: 0,
            mask,
        }
    }

    fn reach(order: StepOrder, events: &[(i64, u64)]) -> usize {
        let shape = Shape {
            steps: 3,
            repeats: vec![false; 3],
            window: Window::Duration(60 * MIN),
            order,
        };
        let rows = events.iter().map(|&(t, m)| ev(1, t * MIN, m)).collect();
        let c = evaluate(&shape, rows, &[]);
        c.overall.steps.iter().filter(|s| s.visitors > 0).count()
    }

    /// The worked examples of `docs/funnels.md` (A = 1, B = 2, C = 4, x never reaches here).
    #[test]
    fn worked_examples() {
        use StepOrder::*;
        let (a, b, c) = (1, 2, 4);
        type Case<'a> = (&'a [(i64, u64)], [usize; 3]);
        let cases: &[Case] = &[
            (&[(0, a), (2, b), (3, c)], [3, 3, 3]),
            (&[(0, a), (1, c), (2, b), (3, c)], [3, 1, 3]),
            (&[(0, a), (1, a), (2, b)], [2, 2, 2]),
            (&[(0, b), (1, a)], [1, 1, 2]),
            (&[(0, c), (1, b), (2, a)], [1, 1, 3]),
            (&[(0, a), (0, b)], [2, 1, 2]),
            (&[(0, a), (1, b), (1, c)], [3, 2, 3]),
            (&[(0, c), (0, b), (0, a)], [3, 1, 3]),
            (&[(0, a), (30, b), (60, c)], [3, 3, 3]),
            (&[(0, a), (120, a), (121, b), (122, c)], [3, 3, 3]),
        ];
        for (events, want) in cases {
            let got = [
                reach(Strict, events),
                reach(Sequence, events),
                reach(Any, events),
            ];
            assert_eq!(&got, want, "{events:?}");
        }
    }

    #[test]
    fn best_attempt_times_and_segments() {
        let shape = Shape {
            steps: 2,
            repeats: vec![false; 2],
            window: Window::Duration(3_600_000),
            order: StepOrder::Strict,
        };
        let s = 1_000;
        let mut rows = vec![
            ev(1, 0, 1),
            ev(1, 10 * s, 2),
            ev(2, 0, 1),
            ev(2, 20 * s, 2),
            ev(3, 0, 1),
            ev(3, 30 * s, 2),
            ev(4, 0, 1),
            ev(4, 60 * s, 1),
            ev(4, 100 * s, 2),
        ];
        rows[0].seg = 1;
        let c = evaluate(&shape, rows, &["x".into(), "y".into()]);
        assert_eq!(c.overall.steps[1].visitors, 4);
        assert_eq!(c.overall.steps[1].median_ms, Some(20 * s));
        assert_eq!(c.overall.steps[1].p75_ms, Some(30 * s));
        assert_eq!(c.segments[0].segment, "x");
        assert_eq!(c.segments[0].steps[0].visitors, 3);
        assert_eq!(c.segments[1].segment, "y");
    }
}
