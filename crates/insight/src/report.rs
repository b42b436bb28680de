//! The per-conversion report: unique converting visitors, total conversions, conversion rate
//! (converting visitors / visitors in range, filters applied) and, for valued conversions,
//! revenue total and average per conversion; optionally against a comparison period, with
//! each number's change as the Stats API reports it (percent, the rate in points).

use serde::Serialize;
use waymark_core::{
    Condition, Conversion, ConversionKind, ConversionQuery, ConversionValue, TimeBounds,
    TriggerCount,
};
use waymark_store::Store;

use crate::compare::{percent_change, points_change};
use crate::{percent, InsightError};

/// Revenue of a valued conversion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revenue {
    pub total: f64,
    /// Per conversion that carried a value.
    pub average: f64,
    /// ISO code, `A+B` when events used several currencies, empty when unknown.
    pub currency: String,
}

/// One conversion's numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversionRow {
    pub name: String,
    pub kind: ConversionKind,
    pub trigger: String,
    /// Unique visitors who converted.
    pub visitors: u64,
    /// Matching events.
    pub conversions: u64,
    /// Converting visitors / visitors in range, in percent.
    pub rate: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revenue: Option<Revenue>,
    /// The same conversion in the comparison period, when one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<RowComparison>,
}

/// A conversion's numbers in the comparison period and how they changed since.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowComparison {
    pub visitors: u64,
    pub conversions: u64,
    pub rate: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revenue: Option<Revenue>,
    pub change: RowChange,
}

/// Changes from the comparison period to the reported one, as the Stats API's `change`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowChange {
    /// Percent, rounded (100 from 0 to anything, 0 from 0 to 0).
    pub visitors: i64,
    /// Percent, rounded, likewise.
    pub conversions: i64,
    /// Percentage points, one decimal.
    pub rate: f64,
    /// Percent change of the revenue total, rounded; `null` without a value, or when either
    /// period's revenue is in several currencies or they differ (amounts are not converted).
    pub revenue: Option<i64>,
}

/// The comparison period's totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportComparison {
    pub bounds: TimeBounds,
    /// Unique visitors in the comparison period (after filters).
    pub visitors: u64,
    pub change: TotalsChange,
}

/// How the totals changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TotalsChange {
    /// Percent, rounded.
    pub visitors: i64,
}

/// The report for a site and period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversionReport {
    pub site: String,
    pub bounds: TimeBounds,
    pub filters: Vec<String>,
    /// Unique visitors in range (the denominator).
    pub visitors: u64,
    pub conversions: Vec<ConversionRow>,
    /// The comparison period's totals, when one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<ReportComparison>,
}

/// What to report.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversionOptions {
    pub bounds: TimeBounds,
    /// A period to compare with (e.g. the previous one).
    pub compare: Option<TimeBounds>,
    /// Visit filters, and event filters keeping the visits that include a matching event.
    pub filters: Vec<Condition>,
}

/// The revenue change, when both totals are in one and the same currency (a period without
/// revenue events has no currency and counts as 0 of the other's).
fn revenue_change(before: &Revenue, now: &Revenue) -> Option<i64> {
    let single = |c: &str| !c.contains('+');
    let same =
        before.currency.is_empty() || now.currency.is_empty() || before.currency == now.currency;
    (single(&before.currency) && single(&now.currency) && same)
        .then(|| percent_change(before.total, now.total))
}

/// Revenue for a conversion's value setting and its raw counts.
pub(crate) fn revenue_of(value: &ConversionValue, row: &TriggerCount) -> Option<Revenue> {
    match value {
        ConversionValue::None => None,
        ConversionValue::Revenue => Some(Revenue {
            total: row.revenue,
            average: if row.revenue_events == 0 {
                0.0
            } else {
                row.revenue / row.revenue_events as f64
            },
            currency: row.currency.clone(),
        }),
        ConversionValue::Fixed { amount, currency } => Some(Revenue {
            total: amount * row.events as f64,
            average: *amount,
            currency: currency.clone(),
        }),
    }
}

/// Reports `conversions` (all the site's when `None`) for `bounds` and `filters`.
pub fn conversion_report(
    store: &dyn Store,
    site: &str,
    bounds: TimeBounds,
    filters: &[Condition],
    conversions: Option<Vec<Conversion>>,
) -> Result<ConversionReport, InsightError> {
    let opts = ConversionOptions {
        bounds,
        compare: None,
        filters: filters.to_vec(),
    };
    conversion_report_with(store, site, &opts, conversions)
}

/// Reports `conversions` (all the site's when `None`) as `opts` asks, with the comparison.
pub fn conversion_report_with(
    store: &dyn Store,
    site: &str,
    opts: &ConversionOptions,
    conversions: Option<Vec<Conversion>>,
) -> Result<ConversionReport, InsightError> {
    let site = crate::site(store, site)?;
    let known = store.conversions(&site.domain)?;
    let (filter, goals) = crate::report_filter(&opts.filters, &known)?;
    let conversions = conversions.unwrap_or(known);
    let count = |bounds: TimeBounds| {
        store.conversion_counts(&ConversionQuery {
            site: site.domain.clone(),
            bounds,
            filter: filter.clone(),
            goals: goals.clone(),
            triggers: conversions.iter().map(|c| c.trigger.clone()).collect(),
        })
    };
    let counts = count(opts.bounds)?;
    let before = opts.compare.map(count).transpose()?;
    let rows = conversions
        .iter()
        .zip(counts.rows.iter())
        .enumerate()
        .map(|(i, (c, r))| {
            let rate = percent(r.visitors, counts.visitors);
            let revenue = revenue_of(&c.value, r);
            let comparison = before.as_ref().map(|b| {
                let old = b.rows.get(i).cloned().unwrap_or_default();
                let old_rate = percent(old.visitors, b.visitors);
                let old_revenue = revenue_of(&c.value, &old);
                RowComparison {
                    change: RowChange {
                        visitors: percent_change(old.visitors as f64, r.visitors as f64),
                        conversions: percent_change(old.events as f64, r.events as f64),
                        rate: points_change(old_rate, rate),
                        revenue: match (&old_revenue, &revenue) {
                            (Some(o), Some(n)) => revenue_change(o, n),
                            _ => None,
                        },
                    },
                    visitors: old.visitors,
                    conversions: old.events,
                    rate: old_rate,
                    revenue: old_revenue,
                }
            });
            ConversionRow {
                name: c.name.clone(),
                kind: c.kind,
                trigger: c.trigger.to_string(),
                visitors: r.visitors,
                conversions: r.events,
                rate,
                revenue,
                comparison,
            }
        })
        .collect();
    let comparison = opts
        .compare
        .zip(before.as_ref())
        .map(|(bounds, b)| ReportComparison {
            bounds,
            visitors: b.visitors,
            change: TotalsChange {
                visitors: percent_change(b.visitors as f64, counts.visitors as f64),
            },
        });
    Ok(ConversionReport {
        site: site.domain,
        bounds: opts.bounds,
        filters: opts.filters.iter().map(ToString::to_string).collect(),
        visitors: counts.visitors,
        conversions: rows,
        comparison,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revenue_follows_the_value_setting() {
        let row = TriggerCount {
            visitors: 3,
            events: 4,
            revenue: 90.0,
            revenue_events: 3,
            currency: "EUR".into(),
        };
        assert_eq!(revenue_of(&ConversionValue::None, &row), None);
        let r = revenue_of(&ConversionValue::Revenue, &row).unwrap();
        assert_eq!((r.total, r.average), (90.0, 30.0));
        let f = ConversionValue::Fixed {
            amount: 50.0,
            currency: "USD".into(),
        };
        let r = revenue_of(&f, &row).unwrap();
        assert_eq!(
            (r.total, r.average, r.currency.as_str()),
            (200.0, 50.0, "USD")
        );
    }

    #[test]
    fn revenue_changes_only_within_one_currency() {
        let rev = |total: f64, currency: &str| Revenue {
            total,
            average: 0.0,
            currency: currency.into(),
        };
        assert_eq!(
            revenue_change(&rev(50.0, "EUR"), &rev(75.0, "EUR")),
            Some(50)
        );
        assert_eq!(revenue_change(&rev(0.0, ""), &rev(75.0, "EUR")), Some(100));
        assert_eq!(revenue_change(&rev(50.0, "USD"), &rev(75.0, "EUR")), None);
        assert_eq!(
            revenue_change(&rev(50.0, "EUR+USD"), &rev(75.0, "EUR")),
            None
        );
    }
}
