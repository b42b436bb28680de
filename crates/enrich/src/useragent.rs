//! User-agent parsing: browser, OS and device class from a `User-Agent` header, with uap-core's
//! regexes (via the `ua-parser` crate) and a bounded, sharded cache in front, since real traffic
//! repeats the same few hundred strings and a cache hit costs a hash instead of ~10 µs of regexes.

use std::sync::Arc;

use quick_cache::sync::Cache;

use crate::bots::{self, MAX_UA_LEN};

/// uap-core's `regexes.yaml` converted to compact JSON by `data/refresh.sh`.
const UAP_REGEXES: &str = include_str!("../data/uap-regexes.json");

/// Default number of distinct user agents kept. Keys are capped at [`MAX_UA_LEN`] bytes, so the
/// cache holds at most a few MiB.
pub const DEFAULT_CACHE_CAPACITY: usize = 4096;

/// What Waymark keeps about a user agent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserAgent {
    /// "Desktop", "Mobile", "Tablet", or "" when unknown (and for crawlers uap-core recognises).
    pub device: String,
    /// Browser family with mobile variants folded in ("Chrome Mobile" → "Chrome"); "" if unknown.
    pub browser: String,
    /// "major.minor", or "major" when there is no minor; "" if unknown.
    pub browser_version: String,
    /// OS family ("Windows", "macOS", "iOS", "Android", "Linux", …); "" if unknown.
    pub os: String,
    /// "major.minor" or "major"; "" if unknown.
    pub os_version: String,
    /// A crawler, script or automation tool (see [`crate::bots`]).
    pub is_bot: bool,
    /// A headless browser with no other bot signal (see [`crate::bots::classify`]); whether it
    /// counts is the collector's setting.
    pub headless: bool,
}

/// Why the parser could not be built. Only a broken data refresh can cause these.
#[derive(Debug, thiserror::Error)]
pub enum UaError {
    /// The embedded `data/uap-regexes.json` does not have the shape `ua-parser` expects.
    #[error("embedded uap-core data (data/uap-regexes.json) is not valid: {0}")]
    Data(#[from] serde_json::Error),
    /// A uap-core regex did not compile in Rust's `regex` engine.
    #[error("uap-core regexes (data/uap-regexes.json) do not compile: {0}")]
    Compile(String),
    /// The crawler list did not compile.
    #[error("bot list (data/crawler-user-agents.json) is not usable: {0}")]
    BotList(String),
}

/// A user-agent parser with a result cache. `Send + Sync`; share one behind an `Arc`.
///
/// The cache is `quick_cache`'s concurrent cache: sharded (a lock per shard, so threads rarely
/// contend), bounded by entry count, with S3-FIFO eviction that keeps the hot user agents.
pub struct UaParser {
    extractor: ua_parser::Extractor<'static>,
    cache: Cache<String, Arc<UserAgent>>,
}

impl std::fmt::Debug for UaParser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UaParser")
            .field("cached", &self.cache.len())
            .field("capacity", &self.cache.capacity())
            .finish()
    }
}

impl UaParser {
    /// Compiles the embedded regexes (about 0.1–0.2 s) with a cache of
    /// [`DEFAULT_CACHE_CAPACITY`] entries.
    pub fn new() -> Result<Self, UaError> {
        Self::with_capacity(DEFAULT_CACHE_CAPACITY)
    }

    /// As [`UaParser::new`], with a cache of `capacity` distinct user agents (at least 1).
    pub fn with_capacity(capacity: usize) -> Result<Self, UaError> {
        let regexes: ua_parser::Regexes<'static> = serde_json::from_str(UAP_REGEXES)?;
        let extractor =
            ua_parser::Extractor::try_from(regexes).map_err(|e| UaError::Compile(e.to_string()))?;
        bots::init().map_err(UaError::BotList)?;
        Ok(UaParser {
            extractor,
            cache: Cache::new(capacity.max(1)),
        })
    }

    /// Parses `ua`, answering from the cache when this exact string was seen recently. Only the
    /// first [`MAX_UA_LEN`] bytes are looked at (and used as the cache key).
    pub fn parse(&self, ua: &str) -> Arc<UserAgent> {
        let ua = crate::truncate_str(ua, MAX_UA_LEN);
        if let Some(hit) = self.cache.get(ua) {
            return hit;
        }
        let parsed = Arc::new(self.parse_uncached(ua));
        self.cache.insert(ua.to_owned(), Arc::clone(&parsed));
        parsed
    }

    /// Parses without touching the cache (for benchmarks and one-off use).
    pub fn parse_uncached(&self, ua: &str) -> UserAgent {
        let ua = crate::truncate_str(ua.trim(), MAX_UA_LEN);
        let (browser, os, dev) = self.extractor.extract(ua);

        let (browser, browser_version) = match browser {
            Some(b) => (
                browser_name(&b.family).to_owned(),
                version(b.major, b.minor),
            ),
            None => (String::new(), String::new()),
        };
        let (os, os_version) = match os {
            Some(o) => (
                os_name(&o.os).to_owned(),
                version(o.major.as_deref(), o.minor.as_deref()),
            ),
            None => (String::new(), String::new()),
        };
        let device_family = dev.as_ref().map(|d| d.device.as_ref()).unwrap_or("");
        let spider = device_family == "Spider";
        let device = if spider {
            ""
        } else {
            device_class(ua, device_family, &os)
        };
        let verdict = bots::classify(ua);
        let is_bot = spider || verdict == bots::Verdict::Bot;
        let headless =
            !is_bot && (verdict == bots::Verdict::Headless || browser == "HeadlessChrome");
        UserAgent {
            device: device.to_owned(),
            browser,
            browser_version,
            os,
            os_version,
            is_bot,
            headless,
        }
    }

    /// Number of user agents currently cached.
    pub fn cached(&self) -> usize {
        self.cache.len()
    }
}

/// "major.minor", "major", or "". Each part is cut to 16 bytes so that odd UAs cannot inject
/// long strings.
fn version(major: Option<&str>, minor: Option<&str>) -> String {
    fn clean(s: Option<&str>) -> Option<&str> {
        s.map(|s| crate::truncate_str(s.trim(), 16))
            .filter(|s| !s.is_empty())
    }
    match (clean(major), clean(minor)) {
        (Some(ma), Some(mi)) => format!("{ma}.{mi}"),
        (Some(ma), None) => ma.to_owned(),
        _ => String::new(),
    }
}

/// Folds uap-core browser families into the names people expect in a dashboard: the mobile and
/// desktop builds of one browser are one browser.
fn browser_name(family: &str) -> &str {
    match family {
        "Other" => "",
        "Chrome Mobile" | "Chrome Mobile iOS" => "Chrome",
        "Chrome Mobile WebView" => "Android WebView",
        "Mobile Safari" => "Safari",
        "Mobile Safari UI/WKWebView" => "iOS WebView",
        "Firefox Mobile" | "Firefox iOS" => "Firefox",
        "Edge Mobile" => "Edge",
        "Opera Mobile" => "Opera",
        "IE" | "IE Mobile" => "Internet Explorer",
        "Samsung Internet" | "Samsung Internet Browser" => "Samsung Internet",
        f => f,
    }
}

fn os_name(family: &str) -> &str {
    match family {
        "Other" => "",
        "Mac OS X" | "Mac OS" => "macOS",
        f => f,
    }
}

/// Desktop, Mobile or Tablet. uap-core names devices ("iPhone", "Samsung SM-T870") but does not
/// classify them, so this combines its device and OS families with the conventions browsers
/// follow: Android tablets omit "Mobile" from the UA, phones include "Mobi" (MDN's advice).
/// iPadOS 13+ in its default desktop mode sends a macOS UA and so counts as Desktop; no UA
/// parser can tell those apart.
fn device_class(ua: &str, device: &str, os: &str) -> &'static str {
    let has = |needle: &str| ua.contains(needle);
    // Televisions and consoles count as Desktop, as in Plausible: a big screen, not a phone.
    // Checked first because Android TVs would otherwise look like tablets or phones.
    let lower = ua.to_ascii_lowercase();
    let big_screen = [
        "smart-tv",
        "smarttv",
        "smart tv",
        "android tv",
        "googletv",
        "hbbtv",
        "crkey",
        "playstation",
        "xbox",
        "nintendo",
    ];
    // "; AFTxx" is the model prefix of Amazon Fire TV devices.
    if big_screen.iter().any(|t| lower.contains(t)) || has("; AFT") {
        return "Desktop";
    }
    let tablet_word = has("Tablet") && !has("Tablet PC");
    if device == "iPad"
        || device == "Generic Tablet"
        || device.starts_with("Kindle")
        || device.contains("Tablet")
        || device == "HP TouchPad"
        || tablet_word
        || (os == "Android" && !has("Mobile") && !has("TV"))
    {
        return "Tablet";
    }
    if device == "iPhone"
        || device == "iPod"
        || device.starts_with("Generic Smartphone")
        || device.starts_with("Generic Feature Phone")
        || matches!(
            os,
            "iOS"
                | "Android"
                | "Windows Phone"
                | "Windows Mobile"
                | "BlackBerry OS"
                | "KaiOS"
                | "Firefox OS"
                | "Symbian OS"
                | "Symbian^3"
                | "Nokia Series 40"
                | "Nokia Series 30 Plus"
        )
        || has("Mobi")
    {
        return "Mobile";
    }
    if matches!(
        os,
        "Windows"
            | "macOS"
            | "Linux"
            | "Ubuntu"
            | "Debian"
            | "Fedora"
            | "Red Hat"
            | "SUSE"
            | "openSUSE"
            | "Gentoo"
            | "Mint"
            | "Linux Mint"
            | "Arch Linux"
            | "Mageia"
            | "Slackware"
            | "CentOS"
            | "Kubuntu"
            | "Chrome OS"
            | "ChromeOS"
            | "FreeBSD"
            | "OpenBSD"
            | "NetBSD"
            | "Solaris"
    ) || device == "Mac"
    {
        return "Desktop";
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_is_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<UaParser>();
    }

    #[test]
    fn version_formats() {
        assert_eq!(version(Some("120"), Some("0")), "120.0");
        assert_eq!(version(Some("17"), None), "17");
        assert_eq!(version(None, Some("3")), "");
        assert_eq!(version(Some(""), Some("")), "");
    }

    #[test]
    fn cache_returns_same_arc() {
        let p = UaParser::with_capacity(8).expect("parser builds");
        let ua = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
        let a = p.parse(ua);
        let b = p.parse(ua);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(p.cached(), 1);
    }

    #[test]
    fn cache_is_bounded() {
        let p = UaParser::with_capacity(16).expect("parser builds");
        for i in 0..500 {
            p.parse(&format!("Mozilla/5.0 (X11; Linux x86_64) Firefox/{i}.0"));
        }
        assert!(p.cached() <= 32, "cache grew to {}", p.cached());
    }
}
