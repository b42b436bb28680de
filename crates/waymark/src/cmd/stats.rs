//! `waymark stats`: top-line numbers and top breakdowns for a site, in its time zone.

use anyhow::{Context, Result};
use waymark_core::query::{EventField, Field, VisitField};
use waymark_core::DateRange;

use crate::cli::StatsArgs;
use crate::table::bar;

pub fn run(args: StatsArgs) -> Result<()> {
    let store = super::open_store(&args.common)?;
    let domain = waymark_core::site::normalize_domain(&args.site);
    let site = store
        .site(&domain)?
        .with_context(|| format!("no site {domain:?}; add it with `waymark site add {domain}`"))?;
    let range: DateRange = args.range.parse()?;
    let bounds = range.bounds(site.tz(), chrono::Utc::now());
    let o = waymark_insight::overview(store.as_ref(), &site, bounds)?;
    println!("{} — {} ({})", site.domain, args.range, site.timezone);
    println!();
    println!("  visitors        {:>10}", o.visitors);
    println!("  visits          {:>10}", o.visits);
    println!("  pageviews       {:>10}", o.pageviews);
    println!("  bounce rate     {:>9.1}%", o.bounce_rate);
    println!("  visit duration  {:>9.0}s", o.visit_duration_s);
    for (title, field) in [
        ("Sources", Field::Visit(VisitField::Source)),
        ("Channels", Field::Visit(VisitField::Channel)),
        ("Pages", Field::Event(EventField::Page)),
        ("Countries", Field::Visit(VisitField::Country)),
        ("Devices", Field::Visit(VisitField::Device)),
    ] {
        let rows = waymark_insight::top(store.as_ref(), &site, bounds, field, args.limit)?;
        println!();
        println!("  {title:<30} {:>9}", "visitors");
        let max = rows.first().map(|r| r.1 as f64).unwrap_or(0.0);
        for (label, visitors) in rows {
            println!(
                "  {:<30} {:>9}  {}",
                truncate(&label, 30),
                visitors,
                bar(visitors as f64, max, 20)
            );
        }
    }
    Ok(())
}
fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}
