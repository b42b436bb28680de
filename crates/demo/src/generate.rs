//! The day loop: plans each UTC day's visits so that the total lands near the requested event
//! count, sorts the day's requests by time and runs them through the live collector with that
//! day's salt (and yesterday's during the first hour), handing accepted events to the sink.

use std::net::IpAddr;

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use waymark_collect::collector::{Outcome, RequestMeta};
use waymark_collect::payload::Payload;
use waymark_collect::salt::{Salt, SALT_OVERLAP_MS};
use waymark_collect::Collector;
use waymark_core::Event;

use crate::random::stochastic_round;
use crate::traffic::{date_of, new_bot_visit, new_visit, plan_days, DAY_MS, PLANTED_DAYS};
use crate::{journey, DemoError, DemoOptions, DemoSummary};

/// Events handed to the sink at once, at most (a day is usually one chunk).
const CHUNK: usize = 50_000;
/// Share of visits that are crawlers running the tracker (dropped by the collector).
const BOT_SHARE: f64 = 0.03;
/// First guess of stored events per human visit, refined as days are generated.
const EVENTS_PER_VISIT_GUESS: f64 = 6.3;

/// A request waiting for its turn: when, from whom, and the body.
struct Pending {
    ts: i64,
    seq: u64,
    ip: IpAddr,
    user_agent: &'static str,
    body: String,
}

/// The salt of `day` (days since the epoch), derived from the seed.
fn salt_for(seed: u64, day: i64) -> Salt {
    let mut rng = StdRng::seed_from_u64(
        seed ^ 0x5a17_d3e0_0000_0000 ^ (day as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
    );
    let mut key = [0u8; 16];
    rng.fill_bytes(&mut key);
    Salt::from_key(date_of(day), key)
}

fn validate(opts: &DemoOptions) -> Result<String, DemoError> {
    let site = waymark_core::site::normalize_domain(&opts.site);
    if site.is_empty() || site.contains(['/', ' ', '?', '#', ',', '"']) {
        return Err(DemoError::Invalid(format!(
            "site {:?} is not a domain such as {}",
            opts.site,
            crate::DEMO_SITE
        )));
    }
    if opts.days == 0 || opts.days > 3_660 {
        return Err(DemoError::Invalid(format!(
            "days must be from 1 to 3660, not {}",
            opts.days
        )));
    }
    if opts.events == 0 {
        return Err(DemoError::Invalid("events must be at least 1".into()));
    }
    if opts.end_ms < i64::from(opts.days) * DAY_MS {
        return Err(DemoError::Invalid(format!(
            "end_ms {} is before the Unix epoch plus {} days",
            opts.end_ms, opts.days
        )));
    }
    Ok(site)
}

/// Generates the demo traffic and hands accepted events to `sink` (one call per day, or per
/// 50,000 events on very busy days). `progress(events_so_far, estimated_total)` is called after
/// each chunk. The collector is told about the site (`add_site`) first. Deterministic for a seed
/// and `end_ms`.
pub fn generate(
    opts: &DemoOptions,
    collector: &Collector,
    sink: &mut dyn FnMut(Vec<Event>) -> Result<(), DemoError>,
    progress: &dyn Fn(u64, u64),
) -> Result<DemoSummary, DemoError> {
    let site = validate(opts)?;
    collector.add_site(&site);

    let end_ms = opts.end_ms;
    let start_ms = end_ms - i64::from(opts.days) * DAY_MS;
    let late_from = end_ms - PLANTED_DAYS * DAY_MS;
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let days = plan_days(&mut rng, start_ms, end_ms);

    let mut summary = DemoSummary::default();
    let mut carry: Vec<Pending> = Vec::new();
    let mut seq: u64 = 0;
    let mut remaining_weight: f64 = days.iter().map(|d| d.weight).sum();
    progress(0, opts.events);

    for day in &days {
        // Visits for today: today's share of the events still to make, at the running rate of
        // events per visit.
        let left = (opts.events as f64 - summary.events as f64).max(0.0);
        let target = if remaining_weight > 0.0 {
            left * day.weight / remaining_weight
        } else {
            0.0
        };
        remaining_weight -= day.weight;
        let per_visit = if summary.visits >= 200 {
            (summary.events as f64 / summary.visits as f64).max(1.0)
        } else {
            EVENTS_PER_VISIT_GUESS
        };
        let visits = stochastic_round(&mut rng, target / per_visit);
        let bots = stochastic_round(&mut rng, visits as f64 * BOT_SHARE);

        let mut pending = std::mem::take(&mut carry);
        for v in 0..visits + bots {
            let visit = if v < visits {
                new_visit(&mut rng, day, start_ms, end_ms, late_from)
            } else {
                new_bot_visit(&mut rng, day, start_ms, end_ms)
            };
            if !visit.bot {
                summary.visits += 1;
            }
            // Requests after the end of the window (now) are never sent.
            for r in journey::requests(&mut rng, &site, &visit)
                .into_iter()
                .filter(|r| r.ts < end_ms)
            {
                seq += 1;
                pending.push(Pending {
                    ts: r.ts,
                    seq,
                    ip: visit.ip,
                    user_agent: visit.user_agent,
                    body: r.body,
                });
            }
        }

        // Requests after midnight wait for tomorrow's salt.
        let day_end = day.start_ms + DAY_MS;
        let (mut today, later): (Vec<Pending>, Vec<Pending>) =
            pending.into_iter().partition(|p| p.ts < day_end);
        carry = later;
        today.sort_unstable_by_key(|p| (p.ts, p.seq));

        let day_no = day.start_ms.div_euclid(DAY_MS);
        let salt = salt_for(opts.seed, day_no);
        let previous = salt_for(opts.seed, day_no - 1);
        let mut out: Vec<Event> = Vec::with_capacity(today.len().min(CHUNK));
        for p in today {
            let payload = Payload::parse(p.body.as_bytes()).map_err(|e| {
                DemoError::Invalid(format!("generated body refused ({e}): {}", p.body))
            })?;
            let meta = RequestMeta {
                ip: p.ip,
                user_agent: p.user_agent.to_string(),
                timestamp_ms: p.ts,
            };
            let prev = (p.ts - day.start_ms < SALT_OVERLAP_MS).then_some(&previous);
            match collector.process_with_salts(&payload, &meta, &salt, prev) {
                Outcome::Accepted(events) => {
                    summary.events += events.len() as u64;
                    out.extend(events);
                }
                Outcome::Dropped(_) => summary.dropped += 1,
            }
            if out.len() >= CHUNK {
                sink(std::mem::take(&mut out))?;
                progress(summary.events, opts.events.max(summary.events));
            }
        }
        if !out.is_empty() {
            sink(out)?;
        }
        progress(summary.events, opts.events.max(summary.events));
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salts_differ_by_day_and_seed() {
        let ip: IpAddr = "10.8.1.2".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let id = |seed, day| salt_for(seed, day).visitor_id("s", ip, "ua");
        assert_eq!(id(7, 20_000), id(7, 20_000));
        assert_ne!(id(7, 20_000), id(7, 20_001));
        assert_ne!(id(7, 20_000), id(8, 20_000));
    }

    #[test]
    fn options_are_validated() {
        let ok = DemoOptions {
            end_ms: 1_750_000_000_000,
            ..DemoOptions::default()
        };
        assert!(validate(&ok).is_ok());
        for bad in [
            DemoOptions {
                days: 0,
                ..ok.clone()
            },
            DemoOptions {
                events: 0,
                ..ok.clone()
            },
            DemoOptions {
                site: "a b".into(),
                ..ok.clone()
            },
            DemoOptions {
                end_ms: 10,
                ..ok.clone()
            },
        ] {
            assert!(
                matches!(validate(&bad), Err(DemoError::Invalid(_))),
                "{bad:?}"
            );
        }
    }
}
