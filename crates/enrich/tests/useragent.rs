//! User-agent table: real browser and bot strings with the device, browser, OS and bot verdict
//! Waymark must report for each.

use std::sync::{Arc, OnceLock};

use waymark_enrich::{is_bot, UaParser};

fn parser() -> &'static UaParser {
    static P: OnceLock<UaParser> = OnceLock::new();
    P.get_or_init(|| UaParser::new().expect("embedded data builds a parser"))
}

/// (user agent, device, browser, browser version, os, os version, is_bot)
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
);

#[rustfmt::skip]
const TABLE: &[Row] = &[
    // Desktop browsers.
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "Desktop", "Chrome", "120.0", "Windows", "10", false),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "Desktop", "Firefox", "121.0", "Windows", "10", false),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
        "Desktop", "Edge", "120.0", "Windows", "10", false),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/105.0.0.0",
        "Desktop", "Opera", "105.0", "Windows", "10", false),
    ("Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
        "Desktop", "Internet Explorer", "11.0", "Windows", "7", false),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
        "Desktop", "Safari", "17.1", "macOS", "10.15", false),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
        "Desktop", "Chrome", "119.0", "macOS", "10.15", false),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
        "Desktop", "Edge", "120.0", "macOS", "10.15", false),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "Desktop", "Firefox", "121.0", "Linux", "", false),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "Desktop", "Chrome", "120.0", "Linux", "", false),
    ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
        "Desktop", "Firefox", "120.0", "Ubuntu", "", false),
    ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "Desktop", "Chrome", "120.0", "Chrome OS", "14541.0", false),
    // Android phones and tablets.
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
        "Mobile", "Chrome", "120.0", "Android", "14", false),
    ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
        "Mobile", "Chrome", "120.0", "Android", "10", false),
    ("Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
        "Mobile", "Samsung Internet", "23.0", "Android", "13", false),
    ("Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0",
        "Mobile", "Firefox", "121.0", "Android", "14", false),
    ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 EdgA/120.0.2210.115",
        "Mobile", "Edge", "120.0", "Android", "10", false),
    ("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "Tablet", "Chrome", "120.0", "Android", "13", false),
    ("Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
        "Mobile", "Chrome", "120.0", "Android", "10", false),
    ("Mozilla/5.0 (Linux; Android 12; SMART TV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "Desktop", "Chrome", "120.0", "Android", "12", false),
    // iOS.
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
        "Mobile", "Safari", "17.1", "iOS", "17.1", false),
    ("Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
        "Tablet", "Safari", "16.6", "iOS", "16.6", false),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
        "Mobile", "Chrome", "120.0", "iOS", "17.2", false),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/121.0 Mobile/15E148 Safari/605.1.15",
        "Mobile", "Firefox", "121.0", "iOS", "17.2", false),
    // Bots and scripts; a headless browser is not a bot here (`headless` is set, see below).
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "", "Googlebot", "2.1", "", "", true),
    ("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "", "Googlebot", "2.1", "Android", "6.0", true),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "", "bingbot", "2.0", "", "", true),
    ("curl/8.4.0", "", "curl", "8.4", "", "", true),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.28 Safari/537.36",
        "Desktop", "HeadlessChrome", "120.0", "Linux", "", false),
    ("python-requests/2.31.0", "", "Python Requests", "2.31", "", "", true),
    ("Wget/1.21.4", "", "Wget", "1.21", "", "", true),
    ("Go-http-client/1.1", "", "Go-http-client", "1.1", "", "", true),
];

#[test]
fn user_agent_table() {
    assert!(TABLE.len() >= 15);
    let mut failures = Vec::new();
    for &(ua, device, browser, bver, os, osver, bot) in TABLE {
        let got = parser().parse(ua);
        let want = (device, browser, bver, os, osver, bot);
        let have = (
            got.device.as_str(),
            got.browser.as_str(),
            got.browser_version.as_str(),
            got.os.as_str(),
            got.os_version.as_str(),
            got.is_bot,
        );
        if want != have {
            failures.push(format!("{ua}\n   want {want:?}\n   got  {have:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn headless_chrome_is_headless_not_bot() {
    let ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.28 Safari/537.36";
    let got = parser().parse(ua);
    assert!(got.headless && !got.is_bot, "{got:?}");
    let normal = parser().parse(&ua.replace("HeadlessChrome", "Chrome"));
    assert!(!normal.headless && !normal.is_bot, "{normal:?}");
}

#[test]
fn more_bots_are_flagged() {
    for ua in [
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 (compatible; Lighthouse)",
        "axios/1.6.2",
        "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
        "Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
        "Java/1.8.0_151",
        "",
        "-",
        "Mozilla/5.0",
    ] {
        assert!(parser().parse(ua).is_bot, "not flagged: {ua:?}");
        assert!(is_bot(ua), "is_bot missed: {ua:?}");
    }
}

#[test]
fn browsers_are_not_bots_via_is_bot() {
    for &(ua, .., bot) in TABLE {
        // `is_bot` alone still flags headless browsers; the parser tells them apart.
        if !bot && !ua.contains("Headless") {
            assert!(!is_bot(ua), "browser flagged: {ua}");
        }
    }
}

#[test]
fn hostile_input_does_not_panic() {
    let long = "Mozilla/5.0 ".repeat(10_000);
    let weird = [
        long.as_str(),
        "\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
        "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 99999999999999999999999999_1 like Mac OS X)",
        "((((((((((((((((((((((((((((((((((((",
        "Chrome/",
    ];
    for ua in weird {
        let p = parser().parse(ua);
        assert!(p.browser_version.len() <= 40);
        let _ = is_bot(ua);
    }
    // A UA cut at the length cap must still be cut on a character boundary.
    let multibyte = format!("Mozilla/5.0 {}", "é".repeat(2000));
    let _ = parser().parse(&multibyte);
}

#[test]
fn cached_results_are_shared() {
    let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:122.0) Gecko/20100101 Firefox/122.0";
    let a = parser().parse(ua);
    let b = parser().parse(ua);
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(*a, parser().parse_uncached(ua));
}

#[test]
fn parser_is_usable_from_threads() {
    let handles: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let ua = format!(
                    "Mozilla/5.0 (X11; Linux x86_64; rv:{i}.0) Gecko/20100101 Firefox/{i}.0"
                );
                parser().parse(&ua).browser.clone()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().expect("thread ran"), "Firefox");
    }
}
