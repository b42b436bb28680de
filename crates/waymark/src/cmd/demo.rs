//! `waymark demo`: creates `demo.waymark.local` with ~90 days of generated traffic (through
//! the live enrichment and identity code) and an admin `demo@waymark.local` with a fresh
//! password it prints, then serves it unless `--no-serve`.

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use waymark_collect::salt::SaltStore;
use waymark_collect::Collector;
use waymark_core::Site;
use waymark_demo::{DemoOptions, DEMO_SITE};
use waymark_server::access;

use crate::cli::DemoArgs;

/// The demo's admin account.
const DEMO_USER: &str = "demo@waymark.local";

pub fn run(args: DemoArgs) -> Result<()> {
    let mut config = crate::settings::server_config(&args.common, &args.server)?;
    let dir = config.data_dir.clone();
    {
        let store = super::open_store(&args.common)?;
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
        let password = access::credentials::random_password();
        access::accounts::save_user(
            store.as_ref(),
            DEMO_USER,
            &password,
            true,
            access::Clock::System,
        )?;
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
    if !args.no_live {
        // The live visits reach the server from this process over loopback, with the demo
        // visitor's address in X-Forwarded-For, so loopback must be a trusted proxy.
        let loopback = waymark_server::http::client_ip::TrustedProxies::parse("127.0.0.1/32")
            .map_err(anyhow::Error::msg)?;
        config.trusted_proxies.0.extend(loopback.0);
        // The live visits come from the demo's address ranges; locate them as the history was.
        if config.geoip.is_none() {
            config.geoip = Some(dir.join("demo-geo.mmdb"));
        }
        let url = format!("http://{}/api/event", config.listen);
        std::thread::Builder::new()
            .name("demo-live".into())
            .spawn(move || play_live(&url, args.seed))?;
        println!("live demo visits arrive every few seconds (Realtime view); --no-live stops them");
    }
    super::runtime()?.block_on(waymark_server::run(config))?;
    Ok(())
}

/// Plays live demo visits against the server at `url` until the process ends. Each visit runs
/// on its own thread, its requests spaced as the visitor model says; failures (the server not
/// up yet, or shutting down) are logged at debug level and the visit goes on.
fn play_live(url: &str, seed: u64) {
    let mut traffic = waymark_demo::LiveTraffic::new(seed ^ 0x5eed);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(5)))
        .http_status_as_error(false)
        .build()
        .into();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(traffic.gap_ms()));
        let visit = traffic.next_visit();
        let (agent, url) = (agent.clone(), url.to_string());
        let spawned = std::thread::Builder::new()
            .name("demo-visit".into())
            .spawn(move || {
                let mut elapsed = 0;
                for (at, body) in visit.requests {
                    std::thread::sleep(std::time::Duration::from_millis(at - elapsed));
                    elapsed = at;
                    let sent = agent
                        .post(&url)
                        .header("Content-Type", "text/plain")
                        .header("User-Agent", &visit.user_agent)
                        .header("X-Forwarded-For", &visit.ip.to_string())
                        .send(body.as_bytes());
                    if let Err(e) = sent {
                        tracing::debug!(error = %e, "live demo event not sent");
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start a live demo visit");
        }
    }
}
