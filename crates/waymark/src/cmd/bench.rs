//! `waymark bench ingest|load`: the benchmark harness. Ingest drives a server over HTTP with
//! realistic, varied requests from many connections and reports durable events/s and
//! acknowledgement latency; load reports bulk rows/s into the embedded store. Numbers go to
//! `docs/BENCHMARKS.md`, never into timed tests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use waymark_collect::salt::SaltStore;
use waymark_collect::Collector;
use waymark_core::Site;
use waymark_store::duck::{DuckOptions, DuckStore};
use waymark_store::EventStore;

use crate::cli::{BenchIngestArgs, BenchLoadArgs};

/// The sample requests name the demo site; a `--url` server needs that site too.
const BENCH_SITE: &str = waymark_demo::DEMO_SITE;

pub fn ingest(args: BenchIngestArgs) -> Result<()> {
    anyhow::ensure!(args.connections >= 1, "--connections must be at least 1");
    let samples = Arc::new(waymark_demo::sample_requests(11, 8_192));
    let rt = super::runtime()?;
    let tmp = std::env::temp_dir().join(format!("waymark-bench-{}", std::process::id()));
    let (url, running) = match &args.url {
        Some(u) => (u.trim_end_matches('/').to_string(), None),
        None => {
            let mut cfg = waymark_server::ServerConfig::new(tmp.clone());
            cfg.listen = "127.0.0.1:0".parse()?;
            cfg.trusted_proxies = waymark_server::client_ip::TrustedProxies::parse("127.0.0.1")
                .map_err(anyhow::Error::msg)?;
            {
                let store = DuckStore::open(&tmp, DuckOptions::default())?;
                store.add_site(&Site::new(BENCH_SITE, "UTC")?)?;
            }
            let running = rt.block_on(waymark_server::runtime::start(cfg))?;
            (format!("http://{}", running.addr), Some(running))
        }
    };
    println!(
        "driving {url} with {} connections for {} s (+2 s warm-up)",
        args.connections, args.seconds
    );

    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(args.connections + 1));
    let mut workers = Vec::new();
    for c in 0..args.connections {
        let (samples, stop, measuring, start, url) = (
            samples.clone(),
            stop.clone(),
            measuring.clone(),
            start.clone(),
            url.clone(),
        );
        workers.push(std::thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(30)))
                .build()
                .into();
            let mut lat = Vec::with_capacity(100_000);
            let (mut ok, mut failed) = (0u64, 0u64);
            let mut i = c * 31;
            start.wait();
            while !stop.load(Ordering::Relaxed) {
                let s = &samples[i % samples.len()];
                i += 1;
                let t = Instant::now();
                let res = agent
                    .post(&format!("{url}/api/event"))
                    .header("Content-Type", "text/plain")
                    .header("User-Agent", &s.user_agent)
                    .header("X-Forwarded-For", &s.ip.to_string())
                    .send(s.body.as_bytes());
                let took = t.elapsed();
                if measuring.load(Ordering::Relaxed) {
                    match res {
                        Ok(r) if r.status().as_u16() == 202 => {
                            ok += 1;
                            lat.push(took.as_micros() as u32);
                        }
                        _ => failed += 1,
                    }
                }
            }
            (ok, failed, lat)
        }));
    }
    start.wait();
    std::thread::sleep(Duration::from_secs(2));
    measuring.store(true, Ordering::Relaxed);
    let t0 = Instant::now();
    let bar = ProgressBar::new(args.seconds);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} s").unwrap_or_else(|_| ProgressStyle::default_bar()));
    for _ in 0..args.seconds {
        std::thread::sleep(Duration::from_secs(1));
        bar.inc(1);
    }
    measuring.store(false, Ordering::Relaxed);
    let elapsed = t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    bar.finish_and_clear();
    let (mut ok, mut failed, mut lat) = (0u64, 0u64, Vec::new());
    for w in workers {
        let (o, f, l) = w.join().map_err(|_| anyhow::anyhow!("a load thread panicked"))?;
        ok += o;
        failed += f;
        lat.extend(l);
    }
    lat.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        lat[((lat.len() as f64 - 1.0) * p).round() as usize] as f64 / 1000.0
    };
    println!("durable events/s:  {:.0}", ok as f64 / elapsed);
    println!("acknowledged:      {ok} in {elapsed:.1} s ({failed} failed)");
    println!("ack latency:       p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms", pct(0.5), pct(0.99), pct(1.0));
    if let Some(running) = running {
        rt.block_on(running.stop());
        let store = DuckStore::open(&tmp, DuckOptions::default())?;
        let t = store.sql("select count(*) from events")?;
        println!("stored after shutdown: {} events (every acknowledged one, plus the warm-up)", t.rows.first().and_then(|r| r.first()).cloned().unwrap_or_default());
        drop(store);
        let _ = std::fs::remove_dir_all(&tmp);
    }
    Ok(())
}

pub fn load(args: BenchLoadArgs) -> Result<()> {
    let tmp = std::env::temp_dir().join(format!("waymark-bench-load-{}", std::process::id()));
    let geo = tmp.join("geo.mmdb");
    std::fs::create_dir_all(&tmp)?;
    waymark_demo::write_geo_db(&geo)?;
    let collector = Collector::new(SaltStore::in_memory(), Some(&geo))?;
    collector.add_site(waymark_demo::DEMO_SITE);
    let opts = waymark_demo::DemoOptions {
        events: args.events,
        end_ms: chrono::Utc::now().timestamp_millis(),
        ..waymark_demo::DemoOptions::default()
    };
    let bar = ProgressBar::new(args.events);
    bar.set_style(ProgressStyle::with_template("generating {bar:40} {pos}/{len}").unwrap_or_else(|_| ProgressStyle::default_bar()));
    let mut events = Vec::new();
    let mut sink = |chunk: Vec<waymark_core::Event>| {
        events.extend(chunk);
        Ok(())
    };
    waymark_demo::generate(&opts, &collector, &mut sink, &|d, t| {
        bar.set_length(t.max(d));
        bar.set_position(d);
    })?;
    bar.finish_and_clear();
    let store = DuckStore::open(&tmp.join("store"), DuckOptions::default())?;
    let t = Instant::now();
    for chunk in events.chunks(100_000) {
        store.append(chunk)?;
    }
    let append_s = t.elapsed().as_secs_f64();
    store.checkpoint()?;
    let total_s = t.elapsed().as_secs_f64();
    let size = std::fs::metadata(store.path())
        .with_context(|| format!("{}", store.path().display()))?
        .len();
    println!("events:            {}", events.len());
    println!("bulk append:       {:.0} rows/s ({append_s:.2} s)", events.len() as f64 / append_s);
    println!("append + cluster:  {:.0} rows/s ({total_s:.2} s)", events.len() as f64 / total_s);
    println!("disk per event:    {:.1} bytes", size as f64 / events.len().max(1) as f64);
    drop(store);
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}
