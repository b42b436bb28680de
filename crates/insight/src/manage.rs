//! Saving and deleting definitions with the checks the store does not make: names and windows
//! are valid for the identity mode, funnels refer to conversions that exist, and a conversion
//! in use by a funnel is not deleted. Also applies business templates.

use serde::Serialize;
use waymark_core::{Change, Conversion, Funnel, IdentityMode, StepSource};
use waymark_store::Store;

use crate::templates::template;
use crate::InsightError;

/// One definition written (or kept) by a bulk operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applied {
    pub site: String,
    /// `conversion` or `funnel`.
    pub kind: &'static str,
    pub name: String,
    pub change: Change,
}

impl std::fmt::Display for Applied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.change {
            Change::Created => "created",
            Change::Updated => "updated",
            Change::Unchanged => "unchanged",
        };
        write!(f, "{}: {} {:?} {what}", self.site, self.kind, self.name)
    }
}

/// Validates and saves a conversion (create or update by name).
pub fn save_conversion(
    store: &dyn Store,
    site: &str,
    conversion: &Conversion,
) -> Result<Change, InsightError> {
    let site = crate::site(store, site)?;
    conversion.validate()?;
    Ok(store.save_conversion(&site.domain, conversion)?)
}

/// Deletes a conversion unless a funnel uses it.
pub fn delete_conversion(store: &dyn Store, site: &str, name: &str) -> Result<(), InsightError> {
    let site = crate::site(store, site)?;
    let users: Vec<String> = store
        .funnels(&site.domain)?
        .into_iter()
        .filter(|f| f.conversion_names().any(|c| c == name))
        .map(|f| f.name)
        .collect();
    if !users.is_empty() {
        return Err(InsightError::Conflict(format!(
            "conversion {name:?} is a step of funnel {}; change or delete the funnel first",
            users
                .iter()
                .map(|u| format!("{u:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if !store.delete_conversion(&site.domain, name)? {
        return Err(InsightError::not_found("conversion", name, ""));
    }
    Ok(())
}

/// Checks a funnel against the site's conversions and the identity mode, then saves it.
pub fn save_funnel(
    store: &dyn Store,
    site: &str,
    funnel: &Funnel,
    mode: IdentityMode,
) -> Result<Change, InsightError> {
    let site = crate::site(store, site)?;
    funnel.validate(mode)?;
    let known = store.conversions(&site.domain)?;
    check_steps(funnel, &known)?;
    Ok(store.save_funnel(&site.domain, funnel)?)
}

/// Every conversion step names a known conversion.
pub(crate) fn check_steps(funnel: &Funnel, known: &[Conversion]) -> Result<(), InsightError> {
    for (i, s) in funnel.steps.iter().enumerate() {
        if let StepSource::Conversion(c) = &s.source {
            if !known.iter().any(|k| &k.name == c) {
                return Err(waymark_core::DefinitionError::new(
                    format!("steps[{}]", i + 1),
                    format!(
                        "no conversion {c:?} on this site; define it first or give the step an inline `trigger`{}",
                        suggestion(c, known)
                    ),
                )
                .into());
            }
        }
    }
    Ok(())
}

fn suggestion(name: &str, known: &[Conversion]) -> String {
    known
        .iter()
        .find(|k| k.name.eq_ignore_ascii_case(name))
        .map(|k| format!(" (did you mean {:?}?)", k.name))
        .unwrap_or_default()
}

/// Deletes a funnel.
pub fn delete_funnel(store: &dyn Store, site: &str, name: &str) -> Result<(), InsightError> {
    let site = crate::site(store, site)?;
    if !store.delete_funnel(&site.domain, name)? {
        return Err(InsightError::not_found("funnel", name, ""));
    }
    Ok(())
}

/// Finds a saved conversion by name (exact, else case-insensitive).
pub fn find_conversion(
    store: &dyn Store,
    site: &str,
    name: &str,
) -> Result<Conversion, InsightError> {
    let all = store.conversions(site)?;
    pick(all, name, |c| &c.name).ok_or_else(|| {
        InsightError::not_found(
            "conversion",
            name,
            " on this site (waymark conversions list)",
        )
    })
}

/// Finds a saved funnel by name (exact, else case-insensitive).
pub fn find_funnel(store: &dyn Store, site: &str, name: &str) -> Result<Funnel, InsightError> {
    let all = store.funnels(site)?;
    let names: Vec<String> = all.iter().map(|f| f.name.clone()).collect();
    pick(all, name, |f| &f.name).ok_or_else(|| {
        let hint = if names.is_empty() {
            " (this site has no funnels yet: waymark funnel add, or apply a template)".to_string()
        } else {
            format!(" (funnels: {})", names.join(", "))
        };
        InsightError::not_found("funnel", name, hint)
    })
}

fn pick<T>(all: Vec<T>, name: &str, key: impl Fn(&T) -> &String) -> Option<T> {
    let exact = all.iter().position(|x| key(x) == name);
    let index = exact.or_else(|| all.iter().position(|x| key(x).eq_ignore_ascii_case(name)))?;
    all.into_iter().nth(index)
}

/// Applies a business template: creates its conversions and its funnel where no definition of
/// that name exists; existing ones are kept as they are (reported `unchanged`).
pub fn apply_template(
    store: &dyn Store,
    site: &str,
    id: &str,
) -> Result<Vec<Applied>, InsightError> {
    let site = crate::site(store, site)?;
    let t = template(id).ok_or_else(|| {
        InsightError::not_found(
            "template",
            id,
            ": use ecommerce, saas, content or b2b (waymark conversions templates)",
        )
    })?;
    let existing = store.conversions(&site.domain)?;
    let mut out = Vec::new();
    for tc in &t.conversions {
        let c = &tc.conversion;
        let change = if existing.iter().any(|e| e.name == c.name) {
            Change::Unchanged
        } else {
            store.save_conversion(&site.domain, c)?
        };
        out.push(Applied {
            site: site.domain.clone(),
            kind: "conversion",
            name: c.name.clone(),
            change,
        });
    }
    let funnels = store.funnels(&site.domain)?;
    let change = if funnels.iter().any(|f| f.name == t.funnel.name) {
        Change::Unchanged
    } else {
        check_steps(&t.funnel, &store.conversions(&site.domain)?)?;
        store.save_funnel(&site.domain, &t.funnel)?
    };
    out.push(Applied {
        site: site.domain.clone(),
        kind: "funnel",
        name: t.funnel.name.clone(),
        change,
    });
    Ok(out)
}
