//! Definitions as code: the `[[sites]]` tables of `waymark.toml` declare per site its time
//! zone, business templates, conversions and funnels. [`apply_definitions`] checks everything
//! first, then creates or updates by name (never deletes) and reports each change.
//!
//! ```toml
//! [[sites]]
//! domain = "shop.example"
//! timezone = "Europe/Berlin"
//! templates = ["ecommerce"]
//!
//! [[sites.conversions]]
//! name = "Newsletter Signup"
//! kind = "micro"
//! trigger = 'event "Newsletter Signup"'
//!
//! [[sites.funnels]]
//! name = "Checkout"
//! window = "session"
//! steps = [{ label = "Visit", trigger = "pageview" }, "Product View", "Add to Cart", "Purchase"]
//! ```

use serde::Deserialize;
use waymark_core::{Change, Conversion, Funnel, IdentityMode, Site, StepSource};
use waymark_store::Store;

use crate::manage::{apply_template, check_steps, Applied};
use crate::templates::template;
use crate::InsightError;

/// One `[[sites]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteDefinitions {
    pub domain: String,
    /// Creates the site (or sets its zone) when given; a missing site is otherwise created in UTC.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Business templates to apply first (`ecommerce`, `saas`, `content`, `b2b`).
    #[serde(default)]
    pub templates: Vec<String>,
    #[serde(default)]
    pub conversions: Vec<Conversion>,
    #[serde(default)]
    pub funnels: Vec<Funnel>,
}

fn at(i: usize, what: &str, j: usize, name: &str, e: impl std::fmt::Display) -> InsightError {
    InsightError::invalid("sites", format!("sites[{i}].{what}[{j}] ({name:?}): {e}"))
}

/// Validates every definition before anything is written: sites, templates, conversions,
/// funnels (for the identity mode), and that each funnel step names a conversion that exists
/// in the store, a template, or the same table.
fn check(
    store: &dyn Store,
    defs: &[SiteDefinitions],
    mode: IdentityMode,
) -> Result<(), InsightError> {
    for (i, d) in defs.iter().enumerate() {
        Site::new(&d.domain, d.timezone.as_deref().unwrap_or("UTC"))
            .map_err(|e| InsightError::invalid("sites", format!("sites[{i}]: {e}")))?;
        let mut known: Vec<String> = store
            .conversions(&waymark_core::site::normalize_domain(&d.domain))?
            .into_iter()
            .map(|c| c.name)
            .collect();
        for t in &d.templates {
            let t = template(t).ok_or_else(|| {
                InsightError::invalid("sites", format!(
                    "sites[{i}].templates: unknown template {t:?} (use ecommerce, saas, content or b2b)"
                ))
            })?;
            known.extend(t.conversions.into_iter().map(|c| c.conversion.name));
        }
        for (j, c) in d.conversions.iter().enumerate() {
            c.validate()
                .map_err(|e| at(i, "conversions", j, &c.name, e))?;
            known.push(c.name.clone());
        }
        for (j, f) in d.funnels.iter().enumerate() {
            f.validate(mode)
                .map_err(|e| at(i, "funnels", j, &f.name, e))?;
            if let Some((k, c)) = f
                .steps
                .iter()
                .enumerate()
                .find_map(|(k, s)| match &s.source {
                    StepSource::Conversion(c) if !known.contains(c) => Some((k, c)),
                    _ => None,
                })
            {
                return Err(at(
                    i,
                    "funnels",
                    j,
                    &f.name,
                    format!("steps[{}]: no conversion {c:?}; declare it under [[sites.conversions]] or use an inline trigger", k + 1),
                ));
            }
        }
    }
    Ok(())
}

/// Applies the definitions: sites, templates (creating what is missing), then conversions and
/// funnels (created or updated by name). Logs and returns every change.
pub fn apply_definitions(
    store: &dyn Store,
    defs: &[SiteDefinitions],
    mode: IdentityMode,
) -> Result<Vec<Applied>, InsightError> {
    check(store, defs, mode)?;
    let mut out = Vec::new();
    for (i, d) in defs.iter().enumerate() {
        let domain = waymark_core::site::normalize_domain(&d.domain);
        let existing = store.site(&domain)?;
        let wanted_tz = d
            .timezone
            .clone()
            .or_else(|| existing.as_ref().map(|s| s.timezone.clone()))
            .unwrap_or_else(|| "UTC".to_string());
        if existing.as_ref().map(|s| &s.timezone) != Some(&wanted_tz) {
            let site = Site::new(&domain, &wanted_tz)
                .map_err(|e| InsightError::invalid("sites", format!("sites[{i}]: {e}")))?;
            store.add_site(&site)?;
            tracing::info!(site = %domain, timezone = %wanted_tz, "config: site {}", if existing.is_some() { "time zone updated" } else { "created" });
        }
        for t in &d.templates {
            out.extend(apply_template(store, &domain, t)?);
        }
        for (j, c) in d.conversions.iter().enumerate() {
            let change = store
                .save_conversion(&domain, c)
                .map_err(|e| at(i, "conversions", j, &c.name, e))?;
            out.push(Applied {
                site: domain.clone(),
                kind: "conversion",
                name: c.name.clone(),
                change,
            });
        }
        let known = store.conversions(&domain)?;
        for (j, f) in d.funnels.iter().enumerate() {
            check_steps(f, &known).map_err(|e| at(i, "funnels", j, &f.name, e))?;
            let change = store
                .save_funnel(&domain, f)
                .map_err(|e| at(i, "funnels", j, &f.name, e))?;
            out.push(Applied {
                site: domain.clone(),
                kind: "funnel",
                name: f.name.clone(),
                change,
            });
        }
    }
    for a in &out {
        if a.change != Change::Unchanged {
            tracing::info!("config: {a}");
        }
    }
    Ok(out)
}
