//! `waymark demo`: creates `demo.waymark.local` with ~90 days of generated traffic (through
//! the live enrichment and identity code) and an admin `demo@waymark.local` with a fresh
//! password it prints, then serves it unless `--no-serve`.

use std::sync::Arc;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use waymark_collect::salt::SaltStore;
use waymark_collect::Collector;
use waymark_core::Site;
use waymark_demo::{DemoOptions, DEMO_SITE};
use waymark_store::{EventStore, User};

use crate::cli::DemoArgs;

/// The demo's admin account.
const DEMO_USER: &str = "demo@waymark.local";

pub fn run(args: DemoArgs) -> Result<()> {
    let config = crate::settings::server_config(&args.common, &args.server)?;
    let dir = config.data_dir.clone();
    {
        let store = Arc::new(super::open_store(&args.common)?);
        let site = Site::new(DEMO_SITE, "Europe/Berlin")?;
        // The demo site is generated from scratch: earlier demo events and definitions go first.
        store.remove_site(&site.domain)?;
        store.add_site(&site)?;

        std::fs::create_dir_all(&dir)?;
        let geo_path = dir.join("demo-geo.mmdb");
        waymark_demo::write_geo_db(&geo_path)?;
        let collector = Collector::new(SaltStore::in_memory(), Some(&geo_path))?;

        let opts = DemoOptions {
            site: site.domain.clone(),
            days: args.days,
            events: args.events,
            seed: args.seed,
            end_ms: chrono::Utc::now().timestamp_millis(),
        };
        let bar = ProgressBar::new(args.events);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} generating {bar:40} {pos}/{len} events ({per_sec}, {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let sink_store = store.clone();
        let mut sink = |events: Vec<waymark_core::Event>| {
            sink_store
                .append(&events)
                .map_err(|e| waymark_demo::DemoError::Sink(e.to_string()))
        };
        let progress = |done: u64, total: u64| {
            bar.set_length(total.max(done));
            bar.set_position(done);
        };
        let summary = waymark_demo::generate(&opts, &collector, &mut sink, &progress)?;
        bar.finish_and_clear();
        // The e-commerce template's conversions and its "Checkout" funnel.
        waymark_insight::manage::apply_template(store.as_ref(), &site.domain, "ecommerce")?;
        // An admin to sign in with; each run sets a new password (printed below).
        let password = waymark_server::accounts::random_password();
        store.save_user(&User {
            email: DEMO_USER.into(),
            password_hash: waymark_server::accounts::hash_password(&password)
                .map_err(anyhow::Error::msg)?,
            admin: true,
            created_ms: chrono::Utc::now().timestamp_millis(),
        })?;
        store.checkpoint()?;
        println!(
            "demo site {} ready: {} events in {} visits over {} days (data: {})",
            site.domain,
            summary.events,
            summary.visits,
            args.days,
            dir.display()
        );
        println!(
            "try: waymark funnel --data-dir {} --site {} --name Checkout --range all --by channel",
            dir.display(),
            site.domain
        );
        println!(
            "sign in at http://{}/login as {DEMO_USER} with password {password}",
            config.listen
        );
    }
    if args.no_serve {
        return Ok(());
    }
    println!(
        "serving http://{} for {DEMO_SITE}: dashboard at /sites/{DEMO_SITE}, Stats API at /api/v2/query, tracker at /js/script.js, events at /api/event",
        config.listen
    );
    super::runtime()?.block_on(waymark_server::run(config))?;
    Ok(())
}
