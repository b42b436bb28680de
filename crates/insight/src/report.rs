//! The per-conversion report: unique converting visitors, total conversions, conversion rate
//! (converting visitors / visitors in range, filters applied) and, for valued conversions,
//! revenue total and average per conversion.

use serde::Serialize;
use waymark_core::{
    Conversion, ConversionKind, ConversionQuery, ConversionValue, Filter, TimeBounds, TriggerCount,
};
use waymark_store::EventStore;

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
    store: &dyn EventStore,
    site: &str,
    bounds: TimeBounds,
    filters: &[Filter],
    conversions: Option<Vec<Conversion>>,
) -> Result<ConversionReport, InsightError> {
    let site = crate::site(store, site)?;
    let conversions = match conversions {
        Some(c) => c,
        None => store.conversions(&site.domain)?,
    };
    let counts = store.conversion_counts(&ConversionQuery {
        site: site.domain.clone(),
        bounds,
        filters: filters.to_vec(),
        triggers: conversions.iter().map(|c| c.trigger.clone()).collect(),
    })?;
    let rows = conversions
        .iter()
        .zip(counts.rows.iter())
        .map(|(c, r)| ConversionRow {
            name: c.name.clone(),
            kind: c.kind,
            trigger: c.trigger.to_string(),
            visitors: r.visitors,
            conversions: r.events,
            rate: percent(r.visitors, counts.visitors),
            revenue: revenue_of(&c.value, r),
        })
        .collect();
    Ok(ConversionReport {
        site: site.domain,
        bounds,
        filters: filters.iter().map(ToString::to_string).collect(),
        visitors: counts.visitors,
        conversions: rows,
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
}
