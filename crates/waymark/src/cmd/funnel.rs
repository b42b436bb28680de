//! `waymark funnel --site S --name Checkout --range 30d [--by channel] [--compare previous]`:
//! the step table with bars, the weakest step, steps ranked by opportunity, breakdown and
//! comparison; and `waymark funnel list|add|remove`.

use anyhow::{Context, Result};
use waymark_core::{Field, Funnel, FunnelStep, IdentityMode, StepOrder, Trigger, Window};
use waymark_insight::funnel_report::{FunnelReport, StepReport};
use waymark_insight::manage;
use waymark_insight::FunnelOptions;

use crate::cli::{Common, FunnelAddArgs, FunnelArgs, FunnelCommand, FunnelShowArgs};
use crate::table::bar;

pub fn run(args: FunnelArgs) -> Result<()> {
    let common = args.show.common.clone();
    match args.command {
        None => show(args.show),
        Some(FunnelCommand::List { site }) => list(&common, &site.site),
        Some(FunnelCommand::Add(a)) => add(&common, a),
        Some(FunnelCommand::Remove { site, name }) => {
            let store = super::open_store(&common)?;
            manage::delete_funnel(store.as_ref(), &site.site, &name)?;
            println!("funnel {name:?} deleted");
            Ok(())
        }
    }
}

fn list(common: &Common, site: &str) -> Result<()> {
    let store = super::open_store(common)?;
    let site = waymark_insight::site(store.as_ref(), site)?;
    let all = store.funnels(&site.domain)?;
    if all.is_empty() {
        println!("no funnels on {} yet", site.domain);
    }
    for f in all {
        let steps: Vec<&str> = f.steps.iter().map(|s| s.label.as_str()).collect();
        println!(
            "{}  ({} window, {} order): {}",
            f.name,
            f.window,
            f.order,
            steps.join(" → ")
        );
    }
    Ok(())
}

/// `Product View` (a conversion), `Visit: pageview` or `pageview /pricing` (inline triggers).
fn parse_step(s: &str) -> Result<FunnelStep> {
    let starts_trigger = |t: &str| {
        let lower = t.trim_start().to_ascii_lowercase();
        lower == "pageview" || lower.starts_with("pageview ") || lower.starts_with("event ")
    };
    if let Some((label, rest)) = s.split_once(": ") {
        if starts_trigger(rest) {
            let t: Trigger = rest
                .parse()
                .map_err(|e| anyhow::anyhow!("step {s:?}: {e}"))?;
            return Ok(FunnelStep::trigger(label.trim(), t));
        }
    }
    if starts_trigger(s) {
        let t: Trigger = s.parse().map_err(|e| anyhow::anyhow!("step {s:?}: {e}"))?;
        return Ok(FunnelStep::trigger(s.trim(), t));
    }
    Ok(FunnelStep::conversion(s.trim()))
}

fn add(common: &Common, a: FunnelAddArgs) -> Result<()> {
    let f = Funnel {
        name: a.name.clone(),
        steps: a
            .steps
            .iter()
            .map(|s| parse_step(s))
            .collect::<Result<_>>()?,
        window: Window::parse(&a.window).map_err(anyhow::Error::msg)?,
        order: a.order.parse::<StepOrder>().map_err(anyhow::Error::msg)?,
    };
    let store = super::open_store(common)?;
    let change = manage::save_funnel(store.as_ref(), &a.site.site, &f, IdentityMode::Cookieless)?;
    println!(
        "funnel {:?} {}",
        f.name,
        super::conversions::change_word(change)
    );
    Ok(())
}

fn show(a: FunnelShowArgs) -> Result<()> {
    let site_name = a
        .site
        .as_deref()
        .context("--site is required (or use `waymark funnel list --site S`)")?;
    let name = a
        .name
        .as_deref()
        .context("--name is required: which funnel? (waymark funnel list --site S)")?;
    let store = super::open_store(&a.common)?;
    let site = waymark_insight::site(store.as_ref(), site_name)?;
    let funnel = manage::find_funnel(store.as_ref(), &site.domain, name)?;
    let (period, compare) =
        waymark_insight::resolve_range(&site, &a.range, a.compare.as_deref(), chrono::Utc::now())?;
    let breakdown = match &a.by {
        Some(b) => Some(Field::parse_breakdown(b).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let opts = FunnelOptions {
        bounds: period.bounds,
        compare: compare.as_ref().map(|p| p.bounds),
        filters: super::conversions::filters(&a.filters)?,
        breakdown,
        limit: a.limit,
    };
    let r = waymark_insight::funnel_report(store.as_ref(), &site.domain, &funnel, &opts)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    print!(
        "{}",
        render(
            &r,
            &a.range,
            &site.timezone,
            compare.as_ref().map(|p| p.label.as_str())
        )
    );
    Ok(())
}

/// A duration in ms as `850ms`, `12s`, `3m 05s`, `2h 10m`.
pub fn duration(ms: i64) -> String {
    let s = ms / 1000;
    if ms < 1000 {
        format!("{ms}ms")
    } else if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{}h {:02}m", s / 3600, s / 60 % 60)
    }
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.1}%")).unwrap_or_default()
}

/// `2,395,212 EUR` for large amounts, `165.40 EUR` for small ones.
fn money(v: f64, currency: &str) -> String {
    let text = if v.abs() >= 1000.0 {
        let digits = format!("{:.0}", v.abs());
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && matches!((digits.len() - i) % 3, 0) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        if v < 0.0 {
            format!("-{grouped}")
        } else {
            grouped
        }
    } else {
        format!("{v:.2}")
    };
    format!("{text} {currency}").trim().to_string()
}

/// The text report.
pub fn render(r: &FunnelReport, range: &str, tz: &str, compare: Option<&str>) -> String {
    let mut out = String::new();
    let filters = if r.filters.is_empty() {
        String::new()
    } else {
        format!(", filters {}", r.filters.join(" "))
    };
    out.push_str(&format!(
        "{} — {}, {range} ({tz}), {} window, {} order{filters}\n\n",
        r.funnel, r.site, r.window, r.order
    ));
    out.push_str(&step_table(&r.steps));
    out.push('\n');
    if let (Some(first), Some(last)) = (r.steps.first(), r.steps.last()) {
        out.push_str(&format!(
            "  {:.2}% of \"{}\" reach \"{}\" ({} of {})\n",
            r.conversion_rate, first.label, last.label, last.visitors, first.visitors
        ));
    }
    match &r.weakest {
        Some(w) => out.push_str(&format!(
            "  Weakest step: {} → {} ({:.1}% continue, {:.1}% drop off)\n",
            w.from,
            w.to,
            w.rate,
            100.0 - w.rate
        )),
        None => out.push_str("  Weakest step: none (no visitors in range)\n"),
    }
    if !r.opportunities.is_empty() && r.steps.first().is_some_and(|s| s.visitors > 0) {
        let unit = match r.value.source {
            "none" => "completions".to_string(),
            _ => format!(
                "value ({} per completion)",
                money(r.value.per_completion, &r.value.currency)
            ),
        };
        out.push_str(&format!(
            "\n  Opportunity (visitors lost × rest-of-funnel rate × value), in {unit}:\n"
        ));
        for (i, o) in r.opportunities.iter().enumerate() {
            let score = if r.value.source == "none" {
                money(o.score, "")
            } else {
                money(o.score, &r.value.currency)
            };
            out.push_str(&format!(
                "  {}. {:<40} {:>8} lost × {:>5.1}% = {score}\n",
                i + 1,
                format!("{} → {}", o.from, o.to),
                o.lost,
                o.rest_rate * 100.0
            ));
        }
    }
    if let Some(b) = &r.breakdown {
        out.push_str(&format!("\n  By {}:\n", b.dimension));
        out.push_str(&segment_table(r, b));
        if b.more > 0 {
            out.push_str(&format!("  (+{} more; --limit to show them)\n", b.more));
        }
    }
    if let Some(c) = &r.comparison {
        out.push_str(&format!(
            "\n  Compared with {}: completion {:.2}% → {:.2}%\n",
            compare.unwrap_or("the comparison period"),
            c.conversion_rate,
            r.conversion_rate
        ));
        let rows: Vec<Vec<String>> = c
            .changes
            .iter()
            .map(|ch| {
                let now = r.steps.get(ch.step - 1);
                vec![
                    format!("{} {}", ch.step, ch.label),
                    ch.visitors_before.to_string(),
                    now.map(|s| s.visitors.to_string()).unwrap_or_default(),
                    format!("{:+}", ch.visitors_change),
                    pct(ch.rate_from_previous_before),
                    pct(now.and_then(|s| s.rate_from_previous)),
                    ch.rate_change_points
                        .map(|p| format!("{p:+.1} pts"))
                        .unwrap_or_default(),
                    match ch.significant {
                        Some(true) => "significant".into(),
                        Some(false) => "not significant".into(),
                        None => String::new(),
                    },
                ]
            })
            .collect();
        let cols = [
            "step",
            "before",
            "now",
            "change",
            "rate before",
            "rate now",
            "change",
            "95% z-test",
        ]
        .map(String::from);
        out.push_str(&indent(&crate::table::render(&cols, &rows)));
    }
    out
}

/// Indents a rendered table and drops its "(N rows)" footer.
fn indent(s: &str) -> String {
    let footer = |l: &str| {
        l.strip_prefix('(')
            .and_then(|l| l.split_once(" row"))
            .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
    };
    s.lines()
        .filter(|l| !footer(l))
        .map(|l| format!("  {l}\n"))
        .collect()
}

fn step_table(steps: &[StepReport]) -> String {
    let max = steps.first().map_or(0.0, |s| s.visitors as f64);
    let rows: Vec<Vec<String>> = steps
        .iter()
        .map(|s| {
            vec![
                format!("{} {}", s.step, s.label),
                s.visitors.to_string(),
                pct(s.rate_from_previous),
                pct(Some(s.rate_from_start)),
                match (s.dropped, s.dropped_percent) {
                    (Some(d), Some(p)) => format!("{d} ({p:.1}%)"),
                    _ => String::new(),
                },
                s.median_ms.map(duration).unwrap_or_default(),
                s.p75_ms.map(duration).unwrap_or_default(),
                bar(s.visitors as f64, max, 30),
            ]
        })
        .collect();
    let cols = [
        "step",
        "visitors",
        "from previous",
        "from start",
        "dropped",
        "median time",
        "p75",
        "",
    ]
    .map(String::from);
    indent(&crate::table::render(&cols, &rows))
}

fn segment_table(r: &FunnelReport, b: &waymark_insight::funnel_report::Breakdown) -> String {
    let mut cols = vec![b.dimension.clone()];
    cols.extend(r.steps.iter().map(|s| s.label.clone()));
    cols.push("completion".into());
    cols.push("weakest step".into());
    let row = |name: &str, steps: &[StepReport], rate: f64, weakest: Option<String>| {
        let mut v = vec![name.to_string()];
        v.extend(steps.iter().map(|s| match s.rate_from_previous {
            Some(p) => format!("{} ({p:.0}%)", s.visitors),
            None => s.visitors.to_string(),
        }));
        v.push(format!("{rate:.2}%"));
        v.push(weakest.unwrap_or_default());
        v
    };
    let mut rows = vec![row(
        "(all)",
        &r.steps,
        r.conversion_rate,
        r.weakest.as_ref().map(|w| format!("→ {}", w.to)),
    )];
    for s in &b.segments {
        let name = if s.segment.is_empty() {
            "(none)"
        } else {
            &s.segment
        };
        rows.push(row(
            name,
            &s.steps,
            s.conversion_rate,
            s.weakest.as_ref().map(|w| format!("→ {}", w.to)),
        ));
    }
    indent(&crate::table::render(&cols, &rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_parse_as_conversions_or_inline_triggers() {
        assert_eq!(
            parse_step("Product View").unwrap(),
            FunnelStep::conversion("Product View")
        );
        let s = parse_step("Visit: pageview").unwrap();
        assert_eq!(
            (s.label.as_str(), s.source),
            (
                "Visit",
                waymark_core::StepSource::Trigger(Trigger::any_pageview())
            )
        );
        let s = parse_step("pageview /pricing").unwrap();
        assert_eq!(s.label, "pageview /pricing");
        assert!(parse_step("Home: pageview products").is_err());
        assert_eq!(duration(12_400), "12s");
        assert_eq!(duration(185_000), "3m 05s");
        assert_eq!(money(2_395_212.4, "EUR"), "2,395,212 EUR");
        assert_eq!(money(165.4, ""), "165.40");
    }
}
