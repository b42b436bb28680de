//! Prints how Waymark parses user agents: one per line on stdin, or the arguments.
//! `cargo run --release -p waymark-enrich --example uaparse -- "<user agent>"`

use std::io::BufRead;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let parser = waymark_enrich::UaParser::new()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let lines: Box<dyn Iterator<Item = String>> = if args.is_empty() {
        Box::new(std::io::stdin().lock().lines().map_while(Result::ok))
    } else {
        Box::new(args.into_iter())
    };
    for ua in lines {
        let p = parser.parse_uncached(&ua);
        println!(
            "{:<8} {:<18} {:<10} {:<10} {:<8} bot={:<5} | {}",
            p.device, p.browser, p.browser_version, p.os, p.os_version, p.is_bot, ua
        );
    }
    Ok(())
}
