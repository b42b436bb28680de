//! Live demo traffic: new visits from the demo's visitor model with each request's delay from
//! the visit's start, so that `waymark demo` can play them against its own server in real time
//! and the dashboard's Realtime view moves.

use std::net::IpAddr;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::journey::requests;
use crate::traffic::{new_visit, sample_day, DAY_MS};
use crate::DEMO_SITE;

/// Longest a live visit plays for; later requests are dropped (a demo, not a replay).
const MAX_VISIT_MS: i64 = 10 * 60_000;

/// One visit to play: its browser, address and the Events API bodies with their delays.
#[derive(Debug, Clone)]
pub struct LiveVisit {
    pub user_agent: String,
    /// A demo GeoIP address, sent as `X-Forwarded-For` by a trusted local caller.
    pub ip: IpAddr,
    /// `(milliseconds after the visit starts, Events API JSON)`, in order.
    pub requests: Vec<(u64, String)>,
}

/// An endless source of visits for [`DEMO_SITE`], deterministic for a seed.
pub struct LiveTraffic {
    rng: StdRng,
}

impl LiveTraffic {
    pub fn new(seed: u64) -> LiveTraffic {
        LiveTraffic {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// The next visit (crawlers included: the server drops them, as it would live).
    pub fn next_visit(&mut self) -> LiveVisit {
        let day = sample_day();
        let (start, end) = (day.start_ms, day.start_ms + DAY_MS);
        let visit = new_visit(&mut self.rng, &day, start, end, end);
        let requests = requests(&mut self.rng, DEMO_SITE, &visit)
            .into_iter()
            .map(|r| (r.ts - visit.start_ms, r.body))
            .filter(|(delay, _)| (0..=MAX_VISIT_MS).contains(delay))
            .map(|(delay, body)| (delay as u64, body))
            .collect();
        LiveVisit {
            user_agent: visit.user_agent.to_string(),
            ip: visit.ip,
            requests,
        }
    }

    /// Milliseconds to wait before starting the next visit: about ten visits a minute.
    pub fn gap_ms(&mut self) -> u64 {
        self.rng.random_range(2_000..10_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visits_start_at_once_and_stay_in_order() {
        let mut t = LiveTraffic::new(1);
        let mut with_requests = 0;
        for _ in 0..50 {
            let v = t.next_visit();
            if let Some((first, _)) = v.requests.first() {
                with_requests += 1;
                assert_eq!(*first, 0, "a visit starts with its first request");
            }
            assert!(v.requests.windows(2).all(|w| w[0].0 <= w[1].0));
            assert!(v
                .requests
                .iter()
                .all(|(d, b)| *d <= MAX_VISIT_MS as u64 && b.contains(DEMO_SITE)));
        }
        assert!(with_requests >= 45);
        let gap = t.gap_ms();
        assert!((2_000..10_000).contains(&gap));
    }
}
