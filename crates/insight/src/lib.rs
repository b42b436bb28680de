//! The way up: conversion reports, funnel reports (drop-off, weakest step, opportunity ranking,
//! breakdowns, period comparison), business templates and definitions as code. It asks the
//! store's logical queries for raw counts and does the arithmetic; it never touches HTTP or
//! the collector.

pub mod compare;
pub mod config;
pub mod funnel_report;
pub mod manage;
pub mod overview;
pub mod ranges;
pub mod report;
pub mod templates;

pub use compare::{metric_change, percent_change, points_change, Change};
pub use config::{apply_definitions, SiteDefinitions};
pub use funnel_report::{funnel_report, FunnelOptions, FunnelReport, StepReport};
pub use manage::Applied;
pub use overview::{overview, top, Overview};
pub use ranges::{resolve_range, Period};
pub use report::{
    conversion_report, conversion_report_with, ConversionOptions, ConversionReport, ConversionRow,
};
pub use templates::{template, templates, Template};

use waymark_core::{DefinitionError, ErrorKind, HasKind};
use waymark_store::StoreError;

/// Why an insight could not be computed or a definition not saved.
#[derive(Debug, thiserror::Error)]
pub enum InsightError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A definition was refused; the field names the part (`trigger`, `window`, `steps[2]`).
    #[error(transparent)]
    Definition(#[from] DefinitionError),
    #[error("no {what} {name:?}{hint}")]
    NotFound {
        what: &'static str,
        name: String,
        hint: String,
    },
    /// A request that cannot be answered as asked (e.g. `compare previous` with range `all`);
    /// `field` names the parameter (`range`, `compare`, `filter`, `by`, `sites`).
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The change would break something that depends on it.
    #[error("{0}")]
    Conflict(String),
}

impl InsightError {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> InsightError {
        InsightError::Invalid {
            field,
            message: message.into(),
        }
    }

    pub(crate) fn not_found(
        what: &'static str,
        name: &str,
        hint: impl Into<String>,
    ) -> InsightError {
        InsightError::NotFound {
            what,
            name: name.to_string(),
            hint: hint.into(),
        }
    }
}

impl HasKind for InsightError {
    fn kind(&self) -> ErrorKind {
        match self {
            InsightError::Store(e) => e.kind(),
            InsightError::Definition(e) => e.kind(),
            InsightError::NotFound { .. } => ErrorKind::NotFound,
            InsightError::Invalid { field, .. } => ErrorKind::bad_input(*field),
            InsightError::Conflict(_) => ErrorKind::Conflict,
        }
    }
}

/// Looks up a site by domain (normalised as the Events API does).
pub fn site(
    store: &dyn waymark_store::Store,
    domain: &str,
) -> Result<waymark_core::Site, InsightError> {
    let domain = waymark_core::site::normalize_domain(domain);
    store.site(&domain)?.ok_or_else(|| {
        InsightError::not_found(
            "site",
            &domain,
            format!(": add it first (waymark site add {domain})"),
        )
    })
}

/// A report's filter: every comparison at visit scope (the visits that pass them all), with
/// the site's goals for `event:goal` comparisons. A goal comparison with `=`/`!=` must name a
/// defined conversion (refused otherwise, listing the site's), `~` may name none.
pub fn report_filter(
    comparisons: &[waymark_core::Condition],
    known: &[waymark_core::Conversion],
) -> Result<(Option<waymark_core::Filter>, Vec<waymark_core::Goal>), InsightError> {
    let goals = waymark_core::Goal::of(known);
    for c in comparisons {
        if c.field == waymark_core::Field::Goal {
            waymark_core::Goal::check(c, &goals)
                .map_err(|e| InsightError::invalid("filter", format!("filter {c}: {e}")))?;
        }
    }
    Ok((waymark_core::Filter::visits_passing_all(comparisons), goals))
}

/// A percentage `part / whole × 100`, 0 when `whole` is 0.
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}
