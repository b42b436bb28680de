//! An acknowledged event survives `kill -9` at any moment: events are sent under load from
//! several threads, the server is killed mid-stream, restarted, and every acknowledged event
//! is found in the store exactly once.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::*;

#[test]
fn acknowledged_events_survive_kill_9_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &["shop.example"], &[]);
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let url = server.url("/api/event");
    let mut workers = Vec::new();
    for t in 0..8 {
        let (acked, stop, url) = (acked.clone(), stop.clone(), url.clone());
        workers.push(std::thread::spawn(move || {
            let agent = agent();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let path = format!("/t{t}/e{i}");
                let body = format!(
                    r#"{{"n":"pageview","u":"https://shop.example{path}","d":"shop.example"}}"#
                );
                let res = agent
                    .post(&url)
                    .header("User-Agent", CHROME_UA)
                    .header("Content-Type", "text/plain")
                    .send(body.as_bytes());
                if let Ok(r) = res {
                    if r.status().as_u16() == 202 {
                        acked.lock().unwrap().push(path);
                    }
                }
                i += 1;
            }
        }));
    }
    // Let load build up, then kill the server while requests are in flight.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    server.crash_and_restart();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    server.stop();
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 100,
        "too little load to prove anything: {}",
        acked.len()
    );
    let rows = server.sql("select pathname, count(*) from events group by pathname");
    let stored: std::collections::HashMap<String, u64> = rows
        .into_iter()
        .map(|r| (r[0].clone(), r[1].parse().unwrap()))
        .collect();
    let dupes: Vec<_> = stored.iter().filter(|(_, n)| **n != 1).collect();
    assert!(dupes.is_empty(), "stored more than once: {dupes:?}");
    let missing: Vec<_> = acked.iter().filter(|p| !stored.contains_key(*p)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged events lost, e.g. {:?}",
        missing.len(),
        missing.first()
    );
}

#[test]
fn graceful_shutdown_flushes_and_a_restart_continues() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &["shop.example"], &[]);
    for i in 0..20 {
        let b = format!(r#"{{"n":"pageview","u":"https://shop.example/{i}","d":"shop.example"}}"#);
        assert_eq!(post(&server, &b, CHROME_UA, "1.2.3.4", &[]).status, 202);
    }
    server.stop();
    assert_eq!(
        server.sql("select count(*) from events"),
        vec![vec!["20".to_string()]]
    );
    // The log holds nothing the store lacks: a restart replays nothing twice.
    server.crash_and_restart();
    server.stop();
    assert_eq!(
        server.sql("select count(*) from events"),
        vec![vec!["20".to_string()]]
    );
}
