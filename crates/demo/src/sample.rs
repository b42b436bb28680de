//! Raw requests for the HTTP ingest benchmark, without a collector: Events API bodies with the
//! user agent and client address that would come with them, from the same visitor model as the
//! demo, mixed ~70% pageviews, 25% engagement and 5% custom events with properties.

use std::net::IpAddr;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::journey::{requests, Kind};
use crate::traffic::{new_visit, sample_day, DAY_MS};
use crate::DEMO_SITE;

/// One request as a tracker in a browser would send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleRequest {
    /// Plausible Events API JSON for [`DEMO_SITE`].
    pub body: String,
    pub user_agent: String,
    /// The client address (a demo GeoIP range), e.g. for `X-Forwarded-For`.
    pub ip: IpAddr,
}

impl SampleRequest {
    /// The body with the demo site's domain replaced by `site` (in `d` and in the URL).
    pub fn body_for(&self, site: &str) -> String {
        self.body.replace(DEMO_SITE, site)
    }
}

/// `n` varied requests (deterministic for `seed`): many visitors, user agents, countries,
/// sources and pages.
pub fn sample_requests(seed: u64, n: usize) -> Vec<SampleRequest> {
    let mut rng = StdRng::seed_from_u64(seed);
    let day = sample_day();
    let (start, end) = (day.start_ms, day.start_ms + DAY_MS);
    let want_custom = n.div_ceil(20);
    let want_engagement = n / 4;
    let want_pageviews = n - want_custom - want_engagement;
    let (mut pageviews, mut engagement, mut custom) = (Vec::new(), Vec::new(), Vec::new());
    while pageviews.len() < want_pageviews
        || engagement.len() < want_engagement
        || custom.len() < want_custom
    {
        let visit = new_visit(&mut rng, &day, start, end, end);
        for r in requests(&mut rng, DEMO_SITE, &visit) {
            let (pool, want) = match r.kind {
                Kind::Pageview => (&mut pageviews, want_pageviews),
                Kind::Engagement => (&mut engagement, want_engagement),
                Kind::Custom => (&mut custom, want_custom),
            };
            if pool.len() < want {
                pool.push(SampleRequest {
                    body: r.body,
                    user_agent: visit.user_agent.to_string(),
                    ip: visit.ip,
                });
            }
        }
    }
    let mut all = pageviews;
    all.append(&mut engagement);
    all.append(&mut custom);
    all.shuffle(&mut rng);
    all
}
