//! Funnel reports: the store counts visitors per step; this module turns the counts into
//! conversion from the previous step and from step 1, drop-off, the weakest step, the ranking by
//! opportunity (visitors lost at a step × the rest of the funnel's conversion rate × the value of
//! the final step), per-segment tables, and the change against a comparison period with a
//! two-proportion z-test per step.

use serde::Serialize;
use waymark_core::{
    Conversion, ConversionQuery, ConversionValue, Field, Filter, Funnel, FunnelCounts, FunnelQuery,
    Goal, StepCount, StepOrder, StepSource, TimeBounds, Trigger,
};
use waymark_store::Store;

use crate::compare::points_change;
use crate::manage::check_steps;
use crate::{percent, InsightError};

/// What to report.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelOptions {
    pub bounds: TimeBounds,
    /// A period to compare with (e.g. the previous one).
    pub compare: Option<TimeBounds>,
    pub filters: Vec<waymark_core::Condition>,
    /// A visit field ([`Field::Visit`] or [`Field::VisitProp`]).
    pub breakdown: Option<Field>,
    /// Most segments listed in a breakdown (the rest are counted in `more`).
    pub limit: usize,
}

/// One step's numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepReport {
    /// 1-based.
    pub step: usize,
    pub label: String,
    pub visitors: u64,
    /// Percent of the previous step's visitors who reached this one (`None` for step 1).
    pub rate_from_previous: Option<f64>,
    /// Percent of step 1's visitors who reached this one.
    pub rate_from_start: f64,
    /// Visitors of the previous step who did not reach this one.
    pub dropped: Option<u64>,
    pub dropped_percent: Option<f64>,
    /// Median and 75th percentile of the time from the previous step (ms).
    pub median_ms: Option<i64>,
    pub p75_ms: Option<i64>,
}

/// The step with the lowest conversion from its previous step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Weakest {
    pub step: usize,
    pub from: String,
    pub to: String,
    /// Percent continuing from `from` to `to`.
    pub rate: f64,
}

/// A step ranked by what improving it is worth.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Opportunity {
    pub step: usize,
    pub from: String,
    pub to: String,
    /// Visitors lost at this step.
    pub lost: u64,
    /// Share (0..1) of this step's visitors who go on to complete the funnel.
    pub rest_rate: f64,
    /// Value of one completion (1 when the final step has no value).
    pub value: f64,
    /// `lost × rest_rate × value`: completions (or value) at stake.
    pub score: f64,
}

/// The value used for opportunities.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelValue {
    pub per_completion: f64,
    pub currency: String,
    /// `revenue` (average of the final step's revenue), `fixed`, or `none` (counted as 1).
    pub source: &'static str,
}

/// One segment of a breakdown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentReport {
    /// The attribute value (`""` when the visit had none).
    pub segment: String,
    pub steps: Vec<StepReport>,
    pub conversion_rate: f64,
    pub weakest: Option<Weakest>,
}

/// A breakdown by one attribute.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breakdown {
    pub dimension: String,
    pub segments: Vec<SegmentReport>,
    /// Segments not listed (beyond the limit).
    pub more: usize,
}

/// How a step changed against the comparison period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepChange {
    pub step: usize,
    pub label: String,
    pub visitors_before: u64,
    pub visitors_change: i64,
    pub rate_from_previous_before: Option<f64>,
    /// Percentage points, one decimal ([`crate::compare::points_change`]).
    pub rate_change_points: Option<f64>,
    /// Two-proportion z-test of the step rate, two-sided, 95% (`None` for step 1 or no data).
    pub significant: Option<bool>,
}

/// The comparison period's funnel and the change per step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub bounds: TimeBounds,
    pub steps: Vec<StepReport>,
    pub conversion_rate: f64,
    /// The overall conversion rate's change, in points (one decimal, [`crate::compare`]).
    pub conversion_rate_change_points: f64,
    pub changes: Vec<StepChange>,
}

/// A funnel report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelReport {
    pub site: String,
    pub funnel: String,
    pub window: String,
    pub order: StepOrder,
    pub bounds: TimeBounds,
    pub filters: Vec<String>,
    pub steps: Vec<StepReport>,
    /// Percent of step-1 visitors completing the funnel.
    pub conversion_rate: f64,
    pub weakest: Option<Weakest>,
    pub value: FunnelValue,
    /// Steps 2..n, highest score first.
    pub opportunities: Vec<Opportunity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<Breakdown>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
}

/// Per-step numbers from raw counts.
pub fn step_reports(labels: &[String], counts: &[StepCount]) -> Vec<StepReport> {
    let first = counts.first().map_or(0, |c| c.visitors);
    counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let prev = (i > 0).then(|| counts[i - 1].visitors);
            StepReport {
                step: i + 1,
                label: labels.get(i).cloned().unwrap_or_default(),
                visitors: c.visitors,
                rate_from_previous: prev.map(|p| percent(c.visitors, p)),
                rate_from_start: percent(c.visitors, first),
                dropped: prev.map(|p| p.saturating_sub(c.visitors)),
                dropped_percent: prev.map(|p| {
                    if p == 0 {
                        0.0
                    } else {
                        100.0 - percent(c.visitors, p)
                    }
                }),
                median_ms: c.median_ms,
                p75_ms: c.p75_ms,
            }
        })
        .collect()
}

/// The step (2..n) with the lowest rate from its previous step, among steps whose previous
/// step had visitors; the earliest such step on ties.
pub fn weakest(steps: &[StepReport]) -> Option<Weakest> {
    let mut best: Option<&StepReport> = None;
    for (i, s) in steps.iter().enumerate().skip(1) {
        if steps[i - 1].visitors == 0 {
            continue;
        }
        let rate = s.rate_from_previous.unwrap_or(0.0);
        if best.is_none_or(|b| rate < b.rate_from_previous.unwrap_or(0.0)) {
            best = Some(s);
        }
    }
    best.map(|s| Weakest {
        step: s.step,
        from: steps[s.step - 2].label.clone(),
        to: s.label.clone(),
        rate: s.rate_from_previous.unwrap_or(0.0),
    })
}

/// Steps 2..n ranked by `lost × rest_rate × value`, highest first (earlier step on ties).
pub fn opportunities(steps: &[StepReport], value: f64) -> Vec<Opportunity> {
    let last = steps.last().map_or(0, |s| s.visitors);
    let mut out: Vec<Opportunity> = steps
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, s)| {
            let lost = steps[i - 1].visitors.saturating_sub(s.visitors);
            let rest_rate = if s.visitors == 0 {
                0.0
            } else {
                last as f64 / s.visitors as f64
            };
            Opportunity {
                step: s.step,
                from: steps[i - 1].label.clone(),
                to: s.label.clone(),
                lost,
                rest_rate,
                value,
                score: lost as f64 * rest_rate * value,
            }
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.step.cmp(&b.step)));
    out
}

/// Per-step change between two periods' step reports.
pub fn changes(now: &[StepReport], before: &[StepReport]) -> Vec<StepChange> {
    now.iter()
        .zip(before)
        .enumerate()
        .map(|(i, (a, b))| {
            let significant = (i > 0)
                .then(|| {
                    two_proportion_z(
                        a.visitors,
                        now[i - 1].visitors,
                        b.visitors,
                        before[i - 1].visitors,
                    )
                    .map(|z| z.abs() > 1.959_964)
                })
                .flatten();
            StepChange {
                step: a.step,
                label: a.label.clone(),
                visitors_before: b.visitors,
                visitors_change: a.visitors as i64 - b.visitors as i64,
                rate_from_previous_before: b.rate_from_previous,
                rate_change_points: match (a.rate_from_previous, b.rate_from_previous) {
                    (Some(x), Some(y)) => Some(points_change(y, x)),
                    _ => None,
                },
                significant,
            }
        })
        .collect()
}

/// z statistic of `x1/n1` against `x0/n0` with the pooled proportion; `None` without data.
pub fn two_proportion_z(x1: u64, n1: u64, x0: u64, n0: u64) -> Option<f64> {
    if n1 == 0 || n0 == 0 {
        return None;
    }
    let (p1, p0) = (x1 as f64 / n1 as f64, x0 as f64 / n0 as f64);
    let p = (x1 + x0) as f64 / (n1 + n0) as f64;
    let se = (p * (1.0 - p) * (1.0 / n1 as f64 + 1.0 / n0 as f64)).sqrt();
    if se == 0.0 {
        return Some(0.0);
    }
    Some((p1 - p0) / se)
}

fn completion_rate(steps: &[StepReport]) -> f64 {
    match (steps.first(), steps.last()) {
        (Some(f), Some(l)) => percent(l.visitors, f.visitors),
        _ => 0.0,
    }
}

/// The triggers of a funnel's steps, with saved conversions looked up by name.
pub fn resolve_steps(funnel: &Funnel, known: &[Conversion]) -> Result<Vec<Trigger>, InsightError> {
    check_steps(funnel, known)?;
    Ok(funnel
        .steps
        .iter()
        .map(|s| match &s.source {
            StepSource::Trigger(t) => t.clone(),
            StepSource::Conversion(c) => known
                .iter()
                .find(|k| &k.name == c)
                .map(|k| k.trigger.clone())
                .unwrap_or_else(Trigger::any_pageview),
        })
        .collect())
}

/// The value of completing the funnel: its final step's conversion value.
fn final_value(
    store: &dyn Store,
    site: &str,
    funnel: &Funnel,
    known: &[Conversion],
    bounds: TimeBounds,
    filter: Option<&Filter>,
    goals: &[Goal],
) -> Result<FunnelValue, InsightError> {
    let last = funnel.steps.last().and_then(|s| match &s.source {
        StepSource::Conversion(c) => known.iter().find(|k| &k.name == c),
        StepSource::Trigger(_) => None,
    });
    let none = FunnelValue {
        per_completion: 1.0,
        currency: String::new(),
        source: "none",
    };
    Ok(match last.map(|c| (&c.value, c)) {
        Some((ConversionValue::Fixed { amount, currency }, _)) => FunnelValue {
            per_completion: *amount,
            currency: currency.clone(),
            source: "fixed",
        },
        Some((ConversionValue::Revenue, c)) => {
            let counts = store.conversion_counts(&ConversionQuery {
                site: site.to_string(),
                bounds,
                filter: filter.cloned(),
                goals: goals.to_vec(),
                triggers: vec![c.trigger.clone()],
            })?;
            match counts.rows.first() {
                Some(r) if r.revenue_events > 0 => FunnelValue {
                    per_completion: r.revenue / r.revenue_events as f64,
                    currency: r.currency.clone(),
                    source: "revenue",
                },
                _ => none,
            }
        }
        _ => none,
    })
}

/// Computes the report for a saved or ad-hoc funnel.
pub fn funnel_report(
    store: &dyn Store,
    site: &str,
    funnel: &Funnel,
    opts: &FunnelOptions,
) -> Result<FunnelReport, InsightError> {
    let site = crate::site(store, site)?;
    let known = store.conversions(&site.domain)?;
    let triggers = resolve_steps(funnel, &known)?;
    let (filter, goals) = crate::report_filter(&opts.filters, &known)?;
    if let Some(b) = &opts.breakdown {
        if !matches!(b, Field::Visit(_) | Field::VisitProp(_)) {
            return Err(InsightError::invalid(
                "by",
                format!(
                "breakdown {b}: break a funnel down by a visit attribute (source, channel, utm_campaign, device, country, entry_page, prop:NAME, ...)"
            )));
        }
    }
    let labels: Vec<String> = funnel.steps.iter().map(|s| s.label.clone()).collect();
    let query = |bounds: TimeBounds, breakdown: Option<Field>| FunnelQuery {
        site: site.domain.clone(),
        bounds,
        filter: filter.clone(),
        goals: goals.clone(),
        steps: triggers.clone(),
        window: funnel.window,
        order: funnel.order,
        breakdown,
    };
    let counts: FunnelCounts = store.funnel(&query(opts.bounds, opts.breakdown.clone()))?;
    let steps = step_reports(&labels, &counts.overall.steps);
    let value = final_value(
        store,
        &site.domain,
        funnel,
        &known,
        opts.bounds,
        filter.as_ref(),
        &goals,
    )?;

    let breakdown = opts.breakdown.as_ref().map(|dim| {
        let total = counts.segments.len();
        let segments: Vec<SegmentReport> = counts
            .segments
            .iter()
            .take(opts.limit.max(1))
            .map(|row| {
                let steps = step_reports(&labels, &row.steps);
                SegmentReport {
                    segment: row.segment.clone(),
                    conversion_rate: completion_rate(&steps),
                    weakest: weakest(&steps),
                    steps,
                }
            })
            .collect();
        Breakdown {
            dimension: dim.short_name(),
            more: total - segments.len(),
            segments,
        }
    });

    let comparison = match opts.compare {
        None => None,
        Some(bounds) => {
            let before = store.funnel(&query(bounds, None))?;
            let before_steps = step_reports(&labels, &before.overall.steps);
            let before_rate = completion_rate(&before_steps);
            Some(Comparison {
                bounds,
                conversion_rate: before_rate,
                conversion_rate_change_points: points_change(before_rate, completion_rate(&steps)),
                changes: changes(&steps, &before_steps),
                steps: before_steps,
            })
        }
    };

    Ok(FunnelReport {
        site: site.domain,
        funnel: funnel.name.clone(),
        window: funnel.window.to_string(),
        order: funnel.order,
        bounds: opts.bounds,
        filters: opts.filters.iter().map(ToString::to_string).collect(),
        conversion_rate: completion_rate(&steps),
        weakest: weakest(&steps),
        opportunities: opportunities(&steps, value.per_completion),
        value,
        steps,
        breakdown,
        comparison,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(v: &[u64]) -> Vec<StepCount> {
        v.iter()
            .map(|&visitors| StepCount {
                visitors,
                median_ms: None,
                p75_ms: None,
            })
            .collect()
    }

    fn labels(n: usize) -> Vec<String> {
        [
            "Visit",
            "Product View",
            "Add to Cart",
            "Begin Checkout",
            "Purchase",
        ][..n]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn the_articles_funnel() {
        // 1000 → 450 (45%) → 54 (12%) → 35 (≈65%) → 25 (≈70%).
        let steps = step_reports(&labels(5), &counts(&[1000, 450, 54, 35, 25]));
        assert_eq!(steps[1].rate_from_previous, Some(45.0));
        assert_eq!(steps[2].rate_from_previous, Some(12.0));
        assert_eq!(steps[2].dropped, Some(396));
        assert!((steps[2].dropped_percent.unwrap() - 88.0).abs() < 1e-9);
        assert!((steps[4].rate_from_start - 2.5).abs() < 1e-9);
        let w = weakest(&steps).unwrap();
        assert_eq!(
            (w.from.as_str(), w.to.as_str(), w.rate),
            ("Product View", "Add to Cart", 12.0)
        );
        let o = opportunities(&steps, 80.0);
        // Lost at add to cart: 396 × 25/54 × 80 ranks first; visit → view: 550 × 25/450 × 80.
        assert_eq!(o[0].step, 3);
        assert!((o[0].score - 396.0 * 25.0 / 54.0 * 80.0).abs() < 1e-6);
        assert_eq!(o[1].step, 2);
    }

    #[test]
    fn a_big_drop_on_a_busy_step_outranks_a_big_rate_drop_on_a_quiet_one() {
        // Step 2 loses 80% of 10,000 visitors; step 4 loses 20% of 1,900.
        let steps = step_reports(&labels(4), &counts(&[10_000, 2_000, 1_900, 1_520]));
        let o = opportunities(&steps, 1.0);
        assert_eq!(
            o.iter().map(|x| x.step).collect::<Vec<_>>(),
            vec![2, 4, 3],
            "{o:?}"
        );
        assert!((o[0].score - 8_000.0 * 1_520.0 / 2_000.0).abs() < 1e-9);
    }

    #[test]
    fn empty_steps_do_not_divide_by_zero() {
        let steps = step_reports(&labels(3), &counts(&[0, 0, 0]));
        assert_eq!(steps[1].rate_from_previous, Some(0.0));
        assert!(weakest(&steps).is_none());
        assert!(opportunities(&steps, 1.0).iter().all(|o| o.score == 0.0));
    }

    #[test]
    fn comparison_tests_each_step_rate() {
        let now = step_reports(&labels(2), &counts(&[10_000, 1_200]));
        let before = step_reports(&labels(2), &counts(&[10_000, 1_500]));
        let c = changes(&now, &before);
        assert_eq!(c[1].visitors_change, -300);
        assert!((c[1].rate_change_points.unwrap() + 3.0).abs() < 1e-9);
        assert_eq!(c[1].significant, Some(true));
        assert_eq!(c[0].significant, None);
        let small = changes(
            &step_reports(&labels(2), &counts(&[100, 12])),
            &step_reports(&labels(2), &counts(&[100, 15])),
        );
        assert_eq!(small[1].significant, Some(false));
    }
}
