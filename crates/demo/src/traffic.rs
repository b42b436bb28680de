//! Who visits and when: traffic sources with their referrers, campaign tags, device mix and
//! funnel behaviour; daily volume (growth, weekly rhythm, newsletter days, a Reddit spike,
//! noise); the time of day in the visitor's own time zone; and the planted change.
//!
//! The funnel rates are per visit and conditional on the previous step, so that over all
//! traffic they come out near the article's numbers: landing → Product View ≈ 45%,
//! Product View → Add to Cart ≈ 12%, Add to Cart → Begin Checkout ≈ 65%,
//! Begin Checkout → Purchase ≈ 70%.

use std::net::IpAddr;

use chrono::{DateTime, Datelike, NaiveDate, Weekday};
use rand::rngs::StdRng;
use rand::Rng;

use crate::agents::{pick_agent, pick_bot, DeviceClass};
use crate::catalog::{pick_category, url_query};
use crate::geo::{pick_place, Place};
use crate::random::{lognormal, pick, pick_index, token};

pub(crate) const DAY_MS: i64 = 86_400_000;
pub(crate) const HOUR_MS: i64 = 3_600_000;

/// The planted change: during the last `PLANTED_DAYS` days, mobile visitors from social
/// networks add to cart at `PLANTED_FACTOR` times their usual rate (a broken mobile product page).
pub(crate) const PLANTED_DAYS: i64 = 14;
pub(crate) const PLANTED_FACTOR: f64 = 0.4;

/// Where a visit comes from (the channel the collector should derive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    OrganicSearch,
    OrganicSocial,
    Email,
    PaidSearch,
    Referral,
    Direct,
}

/// Which kind of page a visit lands on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Landing {
    Home,
    Category(Option<usize>),
    Product(Option<usize>),
    Blog,
    Extra,
}

/// How one source's visitors behave.
pub(crate) struct Behaviour {
    pub source: Source,
    /// Share of visits on an ordinary weekday.
    pub share: f64,
    /// Funnel: P(product view), P(add to cart | view), P(checkout | cart), P(purchase | checkout).
    pub pv: f64,
    pub atc: f64,
    pub bc: f64,
    pub purchase: f64,
    /// Device mix (desktop is the rest).
    pub mobile: f64,
    pub tablet: f64,
    /// Landing pages: home, category, product, blog, extra.
    pub landing: [f64; 5],
    /// Probability of stopping browsing after each extra page (higher = more direct visits).
    pub browse_stop: f64,
}

const BEHAVIOURS: &[Behaviour] = &[
    Behaviour {
        source: Source::OrganicSearch,
        share: 0.30,
        pv: 0.455,
        atc: 0.12,
        bc: 0.61,
        purchase: 0.67,
        mobile: 0.50,
        tablet: 0.05,
        landing: [0.30, 0.22, 0.33, 0.15, 0.0],
        browse_stop: 0.5,
    },
    Behaviour {
        source: Source::Direct,
        share: 0.22,
        pv: 0.41,
        atc: 0.12,
        bc: 0.63,
        purchase: 0.69,
        mobile: 0.48,
        tablet: 0.05,
        landing: [0.70, 0.08, 0.15, 0.0, 0.07],
        browse_stop: 0.5,
    },
    Behaviour {
        source: Source::OrganicSocial,
        share: 0.18,
        pv: 0.56,
        atc: 0.05,
        bc: 0.53,
        purchase: 0.60,
        mobile: 0.80,
        tablet: 0.05,
        landing: [0.15, 0.0, 0.55, 0.30, 0.0],
        browse_stop: 0.6,
    },
    Behaviour {
        source: Source::PaidSearch,
        share: 0.10,
        pv: 0.50,
        atc: 0.17,
        bc: 0.65,
        purchase: 0.71,
        mobile: 0.55,
        tablet: 0.05,
        landing: [0.15, 0.30, 0.55, 0.0, 0.0],
        browse_stop: 0.55,
    },
    Behaviour {
        source: Source::Email,
        share: 0.08,
        pv: 0.44,
        atc: 0.30,
        bc: 0.79,
        purchase: 0.77,
        mobile: 0.50,
        tablet: 0.06,
        landing: [0.25, 0.20, 0.55, 0.0, 0.0],
        browse_stop: 0.75,
    },
    Behaviour {
        source: Source::Referral,
        share: 0.12,
        pv: 0.33,
        atc: 0.10,
        bc: 0.57,
        purchase: 0.65,
        mobile: 0.35,
        tablet: 0.05,
        landing: [0.35, 0.0, 0.25, 0.35, 0.05],
        browse_stop: 0.5,
    },
];

pub(crate) fn behaviour(source: Source) -> &'static Behaviour {
    BEHAVIOURS
        .iter()
        .find(|b| b.source == source)
        .unwrap_or(&BEHAVIOURS[0])
}

/// Relative change of the funnel rates by device: phones add to cart and check out less.
fn device_factor(device: DeviceClass) -> (f64, f64, f64) {
    match device {
        DeviceClass::Mobile => (0.85, 0.95, 0.96),
        DeviceClass::Desktop => (1.2, 1.06, 1.05),
        DeviceClass::Tablet => (1.0, 1.0, 1.0),
    }
}

/// Newsletter-driven email traffic relative to the week's mean, by days since the Tuesday send.
const EMAIL_AFTER_SEND: [f64; 7] = [2.6, 1.4, 0.8, 0.6, 0.5, 0.55, 0.55];

/// Visits by local hour of day (weekdays, then weekends: later mornings).
const DIURNAL_WEEKDAY: [f64; 24] = [
    0.25, 0.15, 0.1, 0.08, 0.08, 0.12, 0.3, 0.6, 0.85, 0.95, 1.0, 1.05, 1.15, 1.1, 1.0, 0.95, 0.95,
    1.0, 1.1, 1.3, 1.4, 1.3, 0.95, 0.55,
];
const DIURNAL_WEEKEND: [f64; 24] = [
    0.35, 0.22, 0.14, 0.1, 0.08, 0.08, 0.15, 0.3, 0.55, 0.8, 1.0, 1.1, 1.15, 1.15, 1.1, 1.05, 1.05,
    1.1, 1.15, 1.3, 1.35, 1.25, 0.95, 0.6,
];

/// Weekly rhythm of total visits, Monday first.
const WEEKDAY_VOLUME: [f64; 7] = [1.0, 1.03, 1.0, 0.98, 0.93, 0.82, 0.9];

/// One UTC day of the plan.
#[derive(Clone, Debug)]
pub(crate) struct Day {
    /// Start of the day, ms since the epoch.
    pub start_ms: i64,
    /// Relative volume (growth × weekday × noise × spike × share of the day inside the window).
    pub weight: f64,
    pub weekday: Weekday,
    /// Days since the last newsletter (Tuesday).
    pub since_send: usize,
    /// The ISO week of the last newsletter send, for campaign names.
    pub send_week: u32,
    /// Extra social traffic (a Reddit thread about the shop).
    pub social_boost: f64,
}

impl Day {
    pub fn weekend(&self) -> bool {
        matches!(self.weekday, Weekday::Sat | Weekday::Sun)
    }

    /// Source shares of this day.
    fn source_weights(&self) -> [f64; 6] {
        let mut w = [0.0; 6];
        for (i, b) in BEHAVIOURS.iter().enumerate() {
            let mut s = b.share;
            match b.source {
                Source::Email => s *= EMAIL_AFTER_SEND[self.since_send.min(6)],
                Source::OrganicSocial => {
                    s *= self.social_boost * if self.weekend() { 1.3 } else { 1.0 }
                }
                Source::PaidSearch if self.weekend() => s *= 0.85,
                Source::Referral if self.weekend() => s *= 0.8,
                _ => {}
            }
            w[i] = s;
        }
        w
    }
}

/// The date of a day number (days since the epoch).
pub(crate) fn date_of(day: i64) -> NaiveDate {
    DateTime::from_timestamp_millis(day * DAY_MS)
        .unwrap_or_default()
        .date_naive()
}

/// Plans the UTC days overlapping `[start_ms, end_ms)`.
pub(crate) fn plan_days(rng: &mut StdRng, start_ms: i64, end_ms: i64) -> Vec<Day> {
    let first = start_ms.div_euclid(DAY_MS);
    let last = (end_ms - 1).div_euclid(DAY_MS);
    let n = (last - first + 1).max(1);
    // A Reddit thread sends a burst of social visits for two days, a bit before the middle.
    let spike = first + n * 2 / 5;
    (first..=last)
        .map(|d| {
            let date = date_of(d);
            let weekday = date.weekday();
            let day_start = d * DAY_MS;
            let inside = (end_ms.min(day_start + DAY_MS) - start_ms.max(day_start)).max(0) as f64
                / DAY_MS as f64;
            let progress = (d - first) as f64 / n as f64;
            let growth = 1.0 + 0.3 * progress;
            let noise = lognormal(rng, 1.0, 0.07);
            let social_boost = match d - spike {
                0 => 3.5,
                1 => 1.8,
                _ => 1.0,
            };
            let since_send = (weekday.num_days_from_monday() + 7 - 1) % 7;
            let send_date = date - chrono::Duration::days(i64::from(since_send));
            let day = Day {
                start_ms: day_start,
                weight: 0.0,
                weekday,
                since_send: since_send as usize,
                send_week: send_date.iso_week().week(),
                social_boost,
            };
            let shares: f64 = day.source_weights().iter().sum();
            let weight = growth
                * WEEKDAY_VOLUME[weekday.num_days_from_monday() as usize]
                * noise
                * inside
                * shares;
            Day { weight, ..day }
        })
        .collect()
}

/// One visit, before its pages are generated.
#[derive(Clone, Debug)]
pub(crate) struct Visit {
    pub start_ms: i64,
    pub source: Source,
    pub user_agent: &'static str,
    pub ip: IpAddr,
    /// The external referrer of the landing page.
    pub referrer: Option<String>,
    /// Campaign tags and click ids on the landing URL, without `?`.
    pub landing_query: Option<String>,
    pub landing: Landing,
    /// How far down the funnel the visit goes: 0 none, 1 product view, 2 add to cart,
    /// 3 begin checkout, 4 purchase.
    pub depth: u8,
    pub bot: bool,
}

/// Draws a visit starting on `day`, inside `[window_start, window_end)`; `late` (from
/// `late_from`) switches the planted change on.
pub(crate) fn new_visit(
    rng: &mut StdRng,
    day: &Day,
    window_start: i64,
    window_end: i64,
    late_from: i64,
) -> Visit {
    let weights = day.source_weights();
    let source = BEHAVIOURS[pick_index(rng, &weights, |w| *w)].source;
    let b = behaviour(source);

    let weekend_mobile = if day.weekend() { 0.06 } else { 0.0 };
    let x: f64 = rng.random();
    let device = if x < b.tablet {
        DeviceClass::Tablet
    } else if x < b.tablet + b.mobile + weekend_mobile {
        DeviceClass::Mobile
    } else {
        DeviceClass::Desktop
    };
    let user_agent = pick_agent(rng, device, source == Source::OrganicSocial);
    let place = pick_place(rng);
    let v6 = rng.random_bool(if device == DeviceClass::Mobile {
        0.35
    } else {
        0.15
    });
    let ip = place.address(v6, rng);
    let start_ms = start_time(rng, day, place, window_start, window_end);
    let (referrer, landing_query, campaign_category) = acquisition(rng, source, device, place, day);
    let landing = landing(rng, b, campaign_category);

    let (fa, fb, fp) = device_factor(device);
    let mut atc = b.atc * fa;
    if source == Source::OrganicSocial && device == DeviceClass::Mobile && start_ms >= late_from {
        atc *= PLANTED_FACTOR;
    }
    let steps = [b.pv, atc, b.bc * fb, b.purchase * fp];
    let mut depth = 0;
    for p in steps {
        if rng.random_bool(p.clamp(0.0, 1.0)) {
            depth += 1;
        } else {
            break;
        }
    }
    Visit {
        start_ms,
        source,
        user_agent,
        ip,
        referrer,
        landing_query,
        landing,
        depth,
        bot: false,
    }
}

/// A crawler's visit: a few pageviews with a bot user agent.
pub(crate) fn new_bot_visit(
    rng: &mut StdRng,
    day: &Day,
    window_start: i64,
    window_end: i64,
) -> Visit {
    let place = pick_place(rng);
    let ip = place.address(false, rng);
    let start_ms = start_time(rng, day, place, window_start, window_end);
    Visit {
        start_ms,
        source: Source::Direct,
        user_agent: pick_bot(rng),
        ip,
        referrer: None,
        landing_query: None,
        landing: Landing::Home,
        depth: 0,
        bot: true,
    }
}

/// A start time on `day` following the diurnal curve in the visitor's local time, kept inside
/// the window.
fn start_time(
    rng: &mut StdRng,
    day: &Day,
    place: Place,
    window_start: i64,
    window_end: i64,
) -> i64 {
    let curve = if day.weekend() {
        &DIURNAL_WEEKEND
    } else {
        &DIURNAL_WEEKDAY
    };
    let offset = i64::from(place.city().utc_offset_min) * 60_000;
    let lo = window_start.max(day.start_ms);
    let hi = window_end.min(day.start_ms + DAY_MS);
    if hi <= lo {
        return lo;
    }
    for _ in 0..32 {
        let hour = pick_index(rng, curve, |w| *w) as i64;
        let local = hour * HOUR_MS + rng.random_range(0..HOUR_MS);
        let t = day.start_ms + (local - offset).rem_euclid(DAY_MS);
        if (lo..hi).contains(&t) {
            return t;
        }
    }
    rng.random_range(lo..hi)
}

/// Referrer and landing-URL tags for a source, plus the category a paid campaign advertises.
fn acquisition(
    rng: &mut StdRng,
    source: Source,
    device: DeviceClass,
    place: Place,
    day: &Day,
) -> (Option<String>, Option<String>, Option<usize>) {
    let mobile = device == DeviceClass::Mobile;
    match source {
        Source::Direct => (None, None, None),
        Source::OrganicSearch => {
            let google = format!("https://{}/", place.country().google);
            let engines: [(&str, f64); 5] = [
                (google.as_str(), 82.0),
                ("https://www.bing.com/", 8.0),
                ("https://duckduckgo.com/", 6.0),
                ("https://www.ecosia.org/", 2.5),
                ("https://search.yahoo.com/", 1.5),
            ];
            let r = pick(rng, &engines, |e| e.1).0;
            (Some(r.to_string()), None, None)
        }
        Source::OrganicSocial => {
            let facebook = if mobile {
                "https://m.facebook.com/"
            } else {
                "https://www.facebook.com/"
            };
            let networks: [(&str, f64); 6] = [
                (facebook, 28.0),
                ("https://l.instagram.com/", 28.0),
                ("https://www.reddit.com/", 20.0),
                ("https://t.co/", 10.0),
                ("https://www.pinterest.com/", 8.0),
                ("https://news.ycombinator.com/", 6.0),
            ];
            let r = pick(rng, &networks, |n| n.1).0;
            // Facebook tags outbound links with fbclid, organic ones too.
            let q = (r.contains("facebook") && rng.random_bool(0.7))
                .then(|| format!("fbclid={}", token(rng, 40)));
            (Some(r.to_string()), q, None)
        }
        Source::Email => {
            let content = pick(rng, &["hero", "product-grid", "footer"], |_| 1.0);
            let q = format!(
                "utm_source=newsletter&utm_medium=email&utm_campaign=weekly-picks-w{:02}&utm_content={content}",
                day.send_week
            );
            // Mail apps mostly send no referrer; Gmail on Android and webmail do.
            let x: f64 = rng.random();
            let r = if mobile && x < 0.15 {
                Some("android-app://com.google.android.gm/".to_string())
            } else if x < 0.08 {
                Some("https://mail.proton.me/".to_string())
            } else {
                None
            };
            (r, Some(q), None)
        }
        Source::PaidSearch => {
            const CAMPAIGNS: &[(&str, &str, Option<usize>, f64)] = &[
                ("brand", "waymark outfitters", None, 3.0),
                ("generic-backpacks", "hiking backpack", Some(0), 3.0),
                ("generic-jackets", "rain jacket men", Some(1), 3.0),
                ("generic-footwear", "waterproof hiking boots", Some(2), 2.0),
                ("generic-tents", "2 person tent", Some(3), 2.0),
            ];
            let (campaign, term, category, _) = *pick(rng, CAMPAIGNS, |c| c.3);
            let term = url_query(term);
            if rng.random_bool(0.88) {
                let google = format!("https://{}/", place.country().google);
                let q = format!(
                    "utm_source=google&utm_medium=cpc&utm_campaign={campaign}&utm_term={term}&gclid={}",
                    token(rng, 32)
                );
                (Some(google), Some(q), category)
            } else {
                let q = format!(
                    "utm_source=bing&utm_medium=cpc&utm_campaign={campaign}&utm_term={term}&msclkid={}",
                    token(rng, 32)
                );
                (Some("https://www.bing.com/".to_string()), Some(q), category)
            }
        }
        Source::Referral => {
            const SITES: &[(&str, f64)] = &[
                ("https://trailnotes.blog/gear/best-daypacks-this-year", 5.0),
                ("https://www.alpenwandern.de/packliste-tagestour/", 4.0),
                ("https://ultralightcollective.org/reviews/alpine-2", 3.0),
                ("https://www.outdoor-forum.nl/topic/regenjassen", 2.0),
                ("https://campfirestories.net/", 2.0),
                ("https://gearweekly.substack.com/p/issue-112", 2.0),
                ("https://www.wildcampingguide.co.uk/kit-list/", 2.0),
            ];
            let r = pick(rng, SITES, |s| s.1).0;
            (Some(r.to_string()), None, None)
        }
    }
}

fn landing(rng: &mut StdRng, b: &Behaviour, campaign_category: Option<usize>) -> Landing {
    match pick_index(rng, &b.landing, |w| *w) {
        0 => Landing::Home,
        1 => Landing::Category(campaign_category.or_else(|| Some(pick_category(rng)))),
        2 => Landing::Product(campaign_category),
        3 => Landing::Blog,
        _ => Landing::Extra,
    }
}

/// A day outside any plan, for the benchmark's sample requests.
pub(crate) fn sample_day() -> Day {
    let d = 20_000; // 2024-10-04, a Friday.
    let date = date_of(d);
    Day {
        start_ms: d * DAY_MS,
        weight: 1.0,
        weekday: date.weekday(),
        since_send: 3,
        send_week: date.iso_week().week(),
        social_boost: 1.0,
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use waymark_collect::collector::{Outcome, RequestMeta};
    use waymark_collect::payload::Payload;
    use waymark_collect::salt::{Salt, SaltStore};
    use waymark_collect::Collector;

    use super::*;

    /// Every source's landing request is classified by the live enrichment as the channel the
    /// demo means it to be.
    #[test]
    fn sources_become_their_channels() {
        let collector = Collector::new(SaltStore::in_memory(), None).expect("collector");
        collector.add_site("demo.waymark.local");
        let salt = Salt::from_key(NaiveDate::default(), [1; 16]);
        let mut rng = StdRng::seed_from_u64(1);
        let day = sample_day();
        let mut seen = std::collections::HashMap::new();
        for _ in 0..3_000 {
            let v = new_visit(&mut rng, &day, day.start_ms, day.start_ms + DAY_MS, 0);
            let reqs = crate::journey::requests(&mut rng, "demo.waymark.local", &v);
            let payload = Payload::parse(reqs[0].body.as_bytes()).expect("valid body");
            let meta = RequestMeta {
                ip: v.ip,
                user_agent: v.user_agent.to_string(),
                timestamp_ms: v.start_ms,
            };
            let Outcome::Accepted(ev) = collector.process_with_salts(&payload, &meta, &salt, None)
            else {
                panic!("dropped {v:?}");
            };
            let want = match v.source {
                Source::OrganicSearch => "Organic Search",
                Source::OrganicSocial => "Organic Social",
                Source::Email => "Email",
                Source::PaidSearch => "Paid Search",
                Source::Referral => "Referral",
                Source::Direct => "Direct",
            };
            assert_eq!(
                ev[0].channel, want,
                "{:?} {:?}",
                v.referrer, v.landing_query
            );
            *seen.entry(ev[0].source.clone()).or_insert(0) += 1;
        }
        for s in [
            "Google",
            "Bing",
            "DuckDuckGo",
            "Ecosia",
            "Facebook",
            "Instagram",
            "Reddit",
            "Twitter",
            "Pinterest",
            "Hacker News",
            "Gmail",
            "newsletter",
            "trailnotes.blog",
        ] {
            assert!(seen.contains_key(s), "no {s} in {seen:?}");
        }
    }

    #[test]
    fn the_plan_covers_the_window_and_grows() {
        let mut rng = StdRng::seed_from_u64(7);
        let end = 1_764_000_000_000;
        let days = plan_days(&mut rng, end - 90 * DAY_MS, end);
        assert_eq!(days.len(), 91, "90 days plus the partial first and last");
        let total: f64 = days.iter().map(|d| d.weight).sum();
        let first: f64 = days[1..31].iter().map(|d| d.weight).sum();
        let last: f64 = days[60..90].iter().map(|d| d.weight).sum();
        assert!(last > 1.1 * first, "{first} → {last}");
        assert!(days
            .iter()
            .all(|d| d.weight > 0.0 && d.weight < total / 30.0));
        // Newsletter Tuesdays bring more email traffic.
        let tuesday = days
            .iter()
            .find(|d| d.weekday == Weekday::Tue)
            .expect("a Tuesday");
        let friday = days
            .iter()
            .find(|d| d.weekday == Weekday::Fri)
            .expect("a Friday");
        let email = |d: &Day| d.source_weights()[4] / d.source_weights().iter().sum::<f64>();
        assert!(email(tuesday) > 2.0 * email(friday));
    }
}
