//! `waymark bench ingest|load`: the benchmark harness. Ingest drives a server over HTTP with
//! realistic, varied requests from many connections and reports durable events/s and
//! acknowledgement latency; load reports bulk rows/s into the embedded store. Numbers go to
//! `docs/BENCHMARKS.md`, never into timed tests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use waymark_collect::salt::SaltStore;
use waymark_collect::Collector;
use waymark_core::Site;
use waymark_store::duck::{DuckOptions, DuckStore};
use waymark_store::{ConfigStore, EventStore};

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
            cfg.trusted_proxies =
                waymark_server::http::client_ip::TrustedProxies::parse("127.0.0.1")
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

    let addr: std::net::SocketAddr = url
        .trim_start_matches("http://")
        .parse()
        .with_context(|| format!("--url {url:?} must be http://host:port with an IP address"))?;
    // Requests are built once: the client should cost as little as possible (like wrk), so the
    // numbers describe the server.
    let requests: Arc<Vec<Vec<u8>>> = Arc::new(
        samples
            .iter()
            .map(|s| {
                format!(
                    "POST /api/event HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain\r\nUser-Agent: {}\r\nX-Forwarded-For: {}\r\nContent-Length: {}\r\n\r\n{}",
                    s.user_agent,
                    s.ip,
                    s.body.len(),
                    s.body
                )
                .into_bytes()
            })
            .collect(),
    );
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let client = {
        let (measuring, stop, requests) = (measuring.clone(), stop.clone(), requests.clone());
        let connections = args.connections;
        std::thread::spawn(move || -> Result<(u64, u64, Vec<u32>)> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let mut tasks = Vec::new();
                for c in 0..connections {
                    let (measuring, stop, requests) =
                        (measuring.clone(), stop.clone(), requests.clone());
                    tasks.push(tokio::spawn(async move {
                        connection(addr, c, &requests, &measuring, &stop).await
                    }));
                }
                let (mut ok, mut failed, mut lat) = (0, 0, Vec::new());
                for t in tasks {
                    let (o, f, l) = t
                        .await
                        .map_err(|e| anyhow::anyhow!("load task failed: {e}"))?;
                    ok += o;
                    failed += f;
                    lat.extend(l);
                }
                Ok((ok, failed, lat))
            })
        })
    };
    std::thread::sleep(Duration::from_secs(2));
    measuring.store(true, Ordering::Relaxed);
    let t0 = Instant::now();
    let bar = ProgressBar::new(args.seconds);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} s")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    for _ in 0..args.seconds {
        std::thread::sleep(Duration::from_secs(1));
        bar.inc(1);
    }
    measuring.store(false, Ordering::Relaxed);
    let elapsed = t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    bar.finish_and_clear();
    let (ok, failed, mut lat) = client
        .join()
        .map_err(|_| anyhow::anyhow!("the load thread panicked"))??;
    lat.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        lat[((lat.len() as f64 - 1.0) * p).round() as usize] as f64 / 1000.0
    };
    println!("durable events/s:  {:.0}", ok as f64 / elapsed);
    println!("acknowledged:      {ok} in {elapsed:.1} s ({failed} failed)");
    println!(
        "ack latency:       p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    if let Some(running) = running {
        rt.block_on(running.stop());
        let store = DuckStore::open(&tmp, DuckOptions::default())?;
        let t = store.sql("select count(*) from events")?;
        println!(
            "stored after shutdown: {} events (every acknowledged one, plus the warm-up)",
            t.rows
                .first()
                .and_then(|r| r.first())
                .cloned()
                .unwrap_or_default()
        );
        drop(store);
        let _ = std::fs::remove_dir_all(&tmp);
    }
    Ok(())
}

/// One keep-alive connection sending requests back to back; returns (acknowledged, failed,
/// latencies in µs) for the measured window.
async fn connection(
    addr: std::net::SocketAddr,
    offset: usize,
    requests: &[Vec<u8>],
    measuring: &AtomicBool,
    stop: &AtomicBool,
) -> (u64, u64, Vec<u32>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut ok, mut failed, mut lat) = (0u64, 0u64, Vec::with_capacity(50_000));
    let mut i = offset * 31;
    let mut buf = vec![0u8; 4096];
    'reconnect: while !stop.load(Ordering::Relaxed) {
        let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
            failed += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        while !stop.load(Ordering::Relaxed) {
            let req = &requests[i % requests.len()];
            i += 1;
            let t = Instant::now();
            if stream.write_all(req).await.is_err() {
                failed += 1;
                continue 'reconnect;
            }
            // Read one response: headers, then Content-Length bytes of body.
            let mut filled = 0;
            let (status, total) = loop {
                match stream.read(&mut buf[filled..]).await {
                    Ok(0) | Err(_) => {
                        failed += 1;
                        continue 'reconnect;
                    }
                    Ok(n) => filled += n,
                }
                if let Some(end) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let status = head
                        .get(9..12)
                        .and_then(|s| s.parse::<u16>().ok())
                        .unwrap_or(0);
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    break (status, end + 4 + len);
                }
                if filled == buf.len() {
                    failed += 1;
                    continue 'reconnect;
                }
            };
            if total > buf.len() {
                failed += 1;
                continue 'reconnect;
            }
            while filled < total {
                match stream.read(&mut buf[filled..]).await {
                    Ok(0) | Err(_) => continue 'reconnect,
                    Ok(n) => filled += n,
                }
            }
            if measuring.load(Ordering::Relaxed) {
                if status == 202 {
                    ok += 1;
                    lat.push(t.elapsed().as_micros() as u32);
                } else {
                    failed += 1;
                }
            }
        }
    }
    (ok, failed, lat)
}

pub fn load(args: BenchLoadArgs) -> Result<()> {
    let tmp = std::env::temp_dir().join(format!("waymark-bench-load-{}", std::process::id()));
    let geo = tmp.join("geo.mmdb");
    std::fs::create_dir_all(&tmp)?;
    waymark_demo::write_geo_db(&geo)?;
    let collector = Collector::new(SaltStore::in_memory(), Some(&geo))?;
    let opts = waymark_demo::DemoOptions {
        events: args.events,
        end_ms: chrono::Utc::now().timestamp_millis(),
        ..waymark_demo::DemoOptions::default()
    };
    let bar = ProgressBar::new(args.events);
    bar.set_style(
        ProgressStyle::with_template("generating {bar:40} {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
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
    println!(
        "bulk append:       {:.0} rows/s ({append_s:.2} s)",
        events.len() as f64 / append_s
    );
    println!(
        "append + cluster:  {:.0} rows/s ({total_s:.2} s)",
        events.len() as f64 / total_s
    );
    println!(
        "disk per event:    {:.1} bytes",
        size as f64 / events.len().max(1) as f64
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}
