//! Top-line numbers and top lists through the one aggregate query, for the pages and the CLI
//! that show them outside the Stats API (the sign-in entry page, `waymark stats`).

use waymark_core::query::{AggregateQuery, Field, Metric};
use waymark_core::{Site, TimeBounds};
use waymark_store::Store;

use crate::InsightError;

/// The top-line numbers of a site and range.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    pub visitors: u64,
    pub visits: u64,
    pub pageviews: u64,
    /// Percent of visits with at most one interactive event.
    pub bounce_rate: f64,
    /// Mean visit duration in seconds.
    pub visit_duration_s: f64,
}

fn query(site: &Site, bounds: TimeBounds, metrics: Vec<Metric>) -> AggregateQuery {
    AggregateQuery {
        site: site.domain.clone(),
        bounds,
        timezone: site.tz(),
        metrics,
        dimensions: Vec::new(),
        filter: None,
        goals: Vec::new(),
        order_by: Vec::new(),
        limit: 1,
        offset: 0,
    }
}

/// Visitors, visits, pageviews, bounce rate and visit duration.
pub fn overview(
    store: &dyn Store,
    site: &Site,
    bounds: TimeBounds,
) -> Result<Overview, InsightError> {
    let q = query(
        site,
        bounds,
        vec![
            Metric::Visitors,
            Metric::Visits,
            Metric::Pageviews,
            Metric::BounceRate,
            Metric::VisitDuration,
        ],
    );
    let r = store.aggregate(&q)?;
    let m = r
        .rows
        .first()
        .map(|r| r.metrics.clone())
        .unwrap_or_default();
    let at = |i: usize| m.get(i).copied().filter(|v| v.is_finite()).unwrap_or(0.0);
    Ok(Overview {
        visitors: at(0) as u64,
        visits: at(1) as u64,
        pageviews: at(2) as u64,
        bounce_rate: at(3),
        visit_duration_s: at(4),
    })
}

/// The `limit` values of `field` with the most visitors, labelled as answers show them.
pub fn top(
    store: &dyn Store,
    site: &Site,
    bounds: TimeBounds,
    field: Field,
    limit: usize,
) -> Result<Vec<(String, u64)>, InsightError> {
    let mut q = query(site, bounds, vec![Metric::Visitors]);
    q.dimensions = vec![field];
    q.limit = limit;
    Ok(store
        .aggregate(&q)?
        .rows
        .into_iter()
        .map(|r| {
            let label = r.dimensions.into_iter().next().unwrap_or_default();
            (label, r.metrics.first().copied().unwrap_or(0.0) as u64)
        })
        .collect())
}
