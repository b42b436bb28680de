//! `waymark conversions list|add|remove|report|templates|template|check|apply`, and applying
//! the `[[sites]]` definitions of `waymark.toml` (also done by `waymark serve` at start).

use anyhow::{Context, Result};
use waymark_core::{Condition, Conversion, ConversionKind, ConversionValue, IdentityMode, Trigger};
use waymark_insight::manage;

use crate::cli::{Common, ConversionAddArgs, ConversionReportArgs, ConversionsCommand};

pub fn run(cmd: ConversionsCommand) -> Result<()> {
    match cmd {
        ConversionsCommand::List { common, site } => list(&common, &site.site),
        ConversionsCommand::Add(a) => add(a),
        ConversionsCommand::Remove { common, site, name } => {
            let store = super::open_store(&common)?;
            manage::delete_conversion(store.as_ref(), &site.site, &name)?;
            println!("conversion {name:?} deleted");
            Ok(())
        }
        ConversionsCommand::Report(a) => report(a),
        ConversionsCommand::Templates => {
            print_templates();
            Ok(())
        }
        ConversionsCommand::Template {
            common,
            site,
            template,
        } => {
            let store = super::open_store(&common)?;
            for a in manage::apply_template(store.as_ref(), &site.site, &template)? {
                println!("{a}");
            }
            Ok(())
        }
        ConversionsCommand::Check { trigger } => {
            let t: Trigger = trigger
                .parse()
                .map_err(|e| anyhow::anyhow!("invalid trigger: {e}"))?;
            println!("{t}");
            Ok(())
        }
        ConversionsCommand::Apply { common } => {
            let applied = apply_config(&common)?;
            let changed: Vec<_> = applied
                .iter()
                .filter(|a| a.change != waymark_core::Change::Unchanged)
                .collect();
            if changed.is_empty() {
                println!(
                    "nothing to change ({} definitions up to date)",
                    applied.len()
                );
            }
            for a in changed {
                println!("{a}");
            }
            Ok(())
        }
    }
}

/// Parses `--filter` values.
pub fn filters(raw: &[String]) -> Result<Vec<Condition>> {
    raw.iter()
        .map(|f| Condition::parse(f).map_err(anyhow::Error::msg))
        .collect()
}

fn list(common: &Common, site: &str) -> Result<()> {
    let store = super::open_store(common)?;
    let site = waymark_insight::site(store.as_ref(), site)?;
    let all = store.conversions(&site.domain)?;
    if all.is_empty() {
        println!(
            "no conversions on {} yet: waymark conversions template --site {} ecommerce (see `waymark conversions templates`)",
            site.domain, site.domain
        );
        return Ok(());
    }
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                c.kind.to_string(),
                c.trigger.to_string(),
                match c.value {
                    ConversionValue::None => String::new(),
                    ref v => v.to_string(),
                },
            ]
        })
        .collect();
    let cols = ["name", "kind", "trigger", "value"].map(String::from);
    print!("{}", crate::table::render(&cols, &rows));
    Ok(())
}

fn add(a: ConversionAddArgs) -> Result<()> {
    let trigger: Trigger = a
        .trigger
        .parse()
        .map_err(|e| anyhow::anyhow!("invalid --trigger: {e}"))?;
    let kind: ConversionKind = a.kind.parse().map_err(anyhow::Error::msg)?;
    let value = match &a.value {
        Some(v) => ConversionValue::parse(v).map_err(anyhow::Error::msg)?,
        None => ConversionValue::None,
    };
    let c = Conversion {
        name: a.name.clone(),
        kind,
        trigger,
        value,
        description: a.description.clone(),
    };
    let store = super::open_store(&a.common)?;
    let change = manage::save_conversion(store.as_ref(), &a.site.site, &c)?;
    println!(
        "conversion {:?} {}: {}",
        c.name,
        change_word(change),
        c.trigger
    );
    Ok(())
}

pub fn change_word(c: waymark_core::Change) -> &'static str {
    match c {
        waymark_core::Change::Created => "created",
        waymark_core::Change::Updated => "updated",
        waymark_core::Change::Unchanged => "unchanged",
    }
}

fn report(a: ConversionReportArgs) -> Result<()> {
    let store = super::open_store(&a.common)?;
    let site = waymark_insight::site(store.as_ref(), &a.site.site)?;
    let (period, compare) =
        waymark_insight::resolve_range(&site, &a.range, a.compare.as_deref(), chrono::Utc::now())?;
    let opts = waymark_insight::ConversionOptions {
        bounds: period.bounds,
        compare: compare.as_ref().map(|c| c.bounds),
        filters: filters(&a.filters)?,
    };
    let r = waymark_insight::conversion_report_with(store.as_ref(), &site.domain, &opts, None)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    let filter_note = if r.filters.is_empty() {
        String::new()
    } else {
        format!(", filters {}", r.filters.join(" "))
    };
    println!(
        "{} — {} ({}{filter_note}): {} visitors",
        site.domain, a.range, site.timezone, r.visitors
    );
    if let (Some(c), Some(label)) = (&r.comparison, compare.as_ref().map(|c| &c.label)) {
        println!(
            "compared with {label}: {} visitors ({})",
            c.visitors,
            signed(c.change.visitors as f64, "%")
        );
    }
    println!();
    let rows: Vec<Vec<String>> = r
        .conversions
        .iter()
        .map(|c| {
            let (total, avg) = match &c.revenue {
                Some(rev) => (
                    format!("{:.2} {}", rev.total, rev.currency)
                        .trim()
                        .to_string(),
                    format!("{:.2} {}", rev.average, rev.currency)
                        .trim()
                        .to_string(),
                ),
                None => (String::new(), String::new()),
            };
            let mut row = vec![
                c.name.clone(),
                c.kind.to_string(),
                c.visitors.to_string(),
                c.conversions.to_string(),
                format!("{:.2}%", c.rate),
                total,
                avg,
            ];
            if let Some(cmp) = &c.comparison {
                row.push(signed(cmp.change.visitors as f64, "%"));
                row.push(signed(cmp.change.rate, " pts"));
            }
            row
        })
        .collect();
    let mut cols: Vec<String> = [
        "conversion",
        "kind",
        "visitors",
        "conversions",
        "rate",
        "revenue",
        "average",
    ]
    .map(String::from)
    .to_vec();
    if r.comparison.is_some() {
        cols.push("visitors Δ".into());
        cols.push("rate Δ".into());
    }
    print!("{}", crate::table::render(&cols, &rows));
    Ok(())
}

/// `+12%`, `-0.4 pts`, `0%`: a change with its sign.
fn signed(v: f64, unit: &str) -> String {
    if v > 0.0 {
        format!("+{v}{unit}")
    } else if v == 0.0 {
        // Also -0.0, which a rounded small drop can produce.
        format!("0{unit}")
    } else {
        format!("{v}{unit}")
    }
}

fn print_templates() {
    for t in waymark_insight::templates() {
        println!(
            "{} ({}) — macro conversion: {}",
            t.business, t.id, t.macro_goal
        );
        for c in &t.conversions {
            println!(
                "  {:<5}  {:<20} {}",
                c.conversion.kind.to_string(),
                c.conversion.name,
                c.conversion.trigger
            );
            println!("         {:<20} tracker: {}", "", c.tracker);
        }
        let steps: Vec<&str> = t.funnel.steps.iter().map(|s| s.label.as_str()).collect();
        println!(
            "  funnel {:?} ({} window): {}",
            t.funnel.name,
            t.funnel.window,
            steps.join(" → ")
        );
        println!();
    }
    println!("apply one with: waymark conversions template --site SITE ecommerce|saas|content|b2b");
}

/// Applies the `[[sites]]` of the settings file (changes are also logged at info level).
pub fn apply_config(common: &Common) -> Result<Vec<waymark_insight::Applied>> {
    let file = crate::settings::load_file(common)?;
    if file.sites.is_empty() {
        return Ok(Vec::new());
    }
    let store = super::open_store(common)?;
    let applied =
        waymark_insight::apply_definitions(store.as_ref(), &file.sites, IdentityMode::Cookieless)
            .context("waymark.toml [[sites]]")?;
    Ok(applied)
}
