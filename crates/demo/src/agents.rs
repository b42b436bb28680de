//! The browsers the demo's visitors use: real user-agent strings by device class (with in-app
//! browsers for social traffic) and a few crawlers the collector must drop.

use rand::rngs::StdRng;

use crate::random::{pick, pick_index};

/// The device class a user agent is meant to parse as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DeviceClass {
    Mobile,
    Desktop,
    Tablet,
}

impl DeviceClass {
    /// The name the collector stores for this class.
    #[cfg(test)]
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceClass::Mobile => "Mobile",
            DeviceClass::Desktop => "Desktop",
            DeviceClass::Tablet => "Tablet",
        }
    }
}

/// A user agent, its device class, its share within the class, and whether it is an
/// in-app browser (picked only for social traffic).
pub(crate) struct Agent {
    pub ua: &'static str,
    pub device: DeviceClass,
    pub weight: f64,
    pub in_app: bool,
}

const fn agent(ua: &'static str, device: DeviceClass, weight: f64) -> Agent {
    Agent {
        ua,
        device,
        weight,
        in_app: false,
    }
}

const fn in_app(ua: &'static str, weight: f64) -> Agent {
    Agent {
        ua,
        device: DeviceClass::Mobile,
        weight,
        in_app: true,
    }
}

use DeviceClass::{Desktop, Mobile, Tablet};

#[rustfmt::skip]
pub(crate) const AGENTS: &[Agent] = &[
    // Desktop: Windows, macOS, Linux, ChromeOS.
    agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", Desktop, 18.0),
    agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36", Desktop, 9.0),
    agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80", Desktop, 10.0),
    agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", Desktop, 6.0),
    agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0", Desktop, 1.5),
    agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15", Desktop, 12.0),
    agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Safari/605.1.15", Desktop, 3.0),
    agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", Desktop, 12.0),
    agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:125.0) Gecko/20100101 Firefox/125.0", Desktop, 3.5),
    agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80", Desktop, 2.0),
    agent("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", Desktop, 2.5),
    agent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", Desktop, 2.5),
    agent("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", Desktop, 1.5),
    agent("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", Desktop, 1.5),
    // Phones: iPhone and Android.
    agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1", Mobile, 20.0),
    agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1", Mobile, 8.0),
    agent("Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1", Mobile, 7.0),
    agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1", Mobile, 3.0),
    agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15", Mobile, 1.0),
    agent("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36", Mobile, 7.0),
    agent("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", Mobile, 15.0),
    agent("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36", Mobile, 6.0),
    agent("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36", Mobile, 7.0),
    agent("Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36", Mobile, 3.0),
    agent("Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0", Mobile, 1.5),
    agent("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 EdgA/124.0.2478.64", Mobile, 1.0),
    agent("Mozilla/5.0 (Linux; Android 13; 23021RAA2Y) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", Mobile, 3.0),
    // In-app browsers (social traffic only).
    in_app("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 330.0.0.40.92 (iPhone14,5; iOS 17_4; en_US; en; scale=3.00; 1170x2532; 603085216)", 5.0),
    in_app("Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/AP1A.240405.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/461.0.0.39.110;]", 4.0),
    // Tablets.
    agent("Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", Tablet, 6.0),
    agent("Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1", Tablet, 2.5),
    agent("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", Tablet, 2.5),
];

/// Crawlers and headless browsers that execute the tracker now and then; the collector drops them.
pub(crate) const BOTS: &[&str] = &[
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.201 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
];

/// A user agent of the given class; in-app browsers only when `social` (then about a third of phones).
pub(crate) fn pick_agent(rng: &mut StdRng, device: DeviceClass, social: bool) -> &'static str {
    let want_in_app = social && device == Mobile && rand::Rng::random_bool(rng, 0.35);
    pick(rng, AGENTS, |a| {
        if a.device == device && a.in_app == want_in_app {
            a.weight
        } else {
            0.0
        }
    })
    .ua
}

/// A crawler's user agent.
pub(crate) fn pick_bot(rng: &mut StdRng) -> &'static str {
    BOTS[pick_index(rng, BOTS, |_| 1.0)]
}

#[cfg(test)]
mod tests {
    use waymark_collect::collector::{Outcome, RequestMeta};
    use waymark_collect::payload::Payload;
    use waymark_collect::salt::{Salt, SaltStore};
    use waymark_collect::Collector;

    use super::*;

    fn run(collector: &Collector, ua: &str) -> Outcome {
        let payload = Payload::parse(
            br#"{"n":"pageview","u":"https://demo.waymark.local/","d":"demo.waymark.local"}"#,
        )
        .expect("valid body");
        let meta = RequestMeta {
            ip: "10.8.0.1".parse().expect("ip"),
            user_agent: ua.to_string(),
            timestamp_ms: 1_735_700_000_000,
        };
        let salt = Salt::from_key(chrono::NaiveDate::default(), [1; 16]);
        collector.process_with_salts(&payload, &meta, &salt, None)
    }

    #[test]
    fn user_agents_parse_as_their_device_class_and_bots_are_dropped() {
        let collector = Collector::new(SaltStore::in_memory(), None).expect("collector");
        collector.add_site("demo.waymark.local");
        assert!(AGENTS.len() >= 30);
        for a in AGENTS {
            match run(&collector, a.ua) {
                Outcome::Accepted(ev) => {
                    assert_eq!(ev[0].device, a.device.as_str(), "{}", a.ua);
                    assert!(
                        !ev[0].browser.is_empty() && !ev[0].os.is_empty(),
                        "{}",
                        a.ua
                    );
                }
                Outcome::Dropped(r) => panic!("{} dropped: {r:?}", a.ua),
            }
        }
        for ua in BOTS {
            assert!(matches!(run(&collector, ua), Outcome::Dropped(_)), "{ua}");
        }
    }
}
