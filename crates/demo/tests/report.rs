//! Not a check: prints generation speed and the funnel by channel and device, to compare the
//! demo with the article. Run with
//! `cargo test --release -p waymark-demo --test report -- --ignored --nocapture` (`EVENTS=` to size).

mod common;

use common::*;

#[test]
#[ignore = "a report, not a check"]
fn report() {
    let n: u64 = std::env::var("EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500_000);
    let (collector, _geo) = collector("report");
    let mut events = Vec::new();
    let t = std::time::Instant::now();
    let summary = waymark_demo::generate(
        &options(n, 7),
        &collector,
        &mut |chunk| {
            events.extend(chunk);
            Ok(())
        },
        &|_, _| {},
    )
    .expect("generates");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{summary:?} in {secs:.2} s: {:.0} events/s",
        summary.events as f64 / secs
    );
    let s = sessions(&events);
    println!("all: {}", Funnel::of(&s));
    let mut channels: Vec<&str> = s.iter().map(|x| x.channel.as_str()).collect();
    channels.sort_unstable();
    channels.dedup();
    for c in channels {
        println!("{c}: {}", Funnel::of(s.iter().filter(|x| x.channel == c)));
    }
    for d in ["Mobile", "Desktop", "Tablet"] {
        println!("{d}: {}", Funnel::of(s.iter().filter(|x| x.device == d)));
    }
    let late = END_MS - 14 * DAY_MS;
    for (c, d) in [("Organic Social", "Mobile"), ("Organic Search", "Desktop")] {
        let seg = |l: bool| {
            Funnel::of(
                s.iter()
                    .filter(|x| x.channel == c && x.device == d && (x.first_ms >= late) == l),
            )
        };
        println!(
            "{c}/{d} before: {}\n{c}/{d} last 14 days: {}",
            seg(false),
            seg(true)
        );
    }
}
