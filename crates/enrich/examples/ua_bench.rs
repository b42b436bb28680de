//! Measures user-agent parsing cost: uncached (regexes) and cached (hash lookup), per call.
//! `cargo run --release -p waymark-enrich --example ua_bench -- [file with one UA per line]`
//! Without a file it uses a few built-in browser UAs.

use std::time::Instant;

const BUILTIN: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let parser = waymark_enrich::UaParser::with_capacity(1 << 16)?;
    println!("UaParser::new: {:.0} ms", t.elapsed().as_secs_f64() * 1e3);

    let uas: Vec<String> = match std::env::args().nth(1) {
        Some(path) => std::fs::read_to_string(path)?
            .lines()
            .take(20_000)
            .map(str::to_owned)
            .collect(),
        None => BUILTIN.iter().map(|s| (*s).to_owned()).collect(),
    };
    let rounds = (20_000 / uas.len()).max(1);

    let t = Instant::now();
    let mut bots = 0usize;
    for _ in 0..rounds {
        for ua in &uas {
            bots += usize::from(parser.parse_uncached(ua).is_bot);
        }
    }
    let n = (rounds * uas.len()) as f64;
    println!(
        "uncached parse: {:.2} µs/UA over {} UAs ({} bot verdicts)",
        t.elapsed().as_secs_f64() * 1e6 / n,
        uas.len(),
        bots / rounds
    );

    let t = Instant::now();
    for ua in &uas {
        waymark_enrich::is_bot(ua);
    }
    println!(
        "is_bot alone: {:.2} µs/UA",
        t.elapsed().as_secs_f64() * 1e6 / uas.len() as f64
    );

    for ua in &uas {
        parser.parse(ua);
    }
    let reps = 200_000 / uas.len() + 1;
    let t = Instant::now();
    for _ in 0..reps {
        for ua in &uas {
            std::hint::black_box(parser.parse(ua));
        }
    }
    println!(
        "cached parse: {:.0} ns/UA",
        t.elapsed().as_secs_f64() * 1e9 / (reps * uas.len()) as f64
    );
    Ok(())
}
