//! Bot detection: is a user-agent string a crawler, a script or a headless browser rather than a
//! person's browser? Used by `UaParser::parse` to set `is_bot`, and callable directly.
//!
//! Three layers, cheapest first, any of which flags a bot:
//! 1. empty or very short strings (no real browser sends fewer than a dozen characters);
//! 2. Waymark's own short token list (`bot`, `crawler`, `HeadlessChrome`, `curl`, HTTP libraries…),
//!    which catches generic and new crawlers that no list knows yet;
//! 3. the maintained `crawler-user-agents` list (MIT, see `data/SOURCES.md`): its plain-literal
//!    patterns go into one Aho-Corasick automaton, the rest into one alternation `Regex`.
//!
//! `UaParser` adds a fourth signal: uap-core's `Spider` device family.
//!
//! A headless browser ("HeadlessChrome") with no other bot signal is told apart by [`classify`]:
//! the tracker already skips automated browsers (`navigator.webdriver`), and whether the rest
//! count is the operator's choice (`drop_headless`), so it is not folded into "bot" there.
//!
//! Measured with the `isbot` crate's fixtures (0.1.3): 4,260 of 4,353 bot UAs flagged (97.9 %),
//! and 98 of 165,808 browser UAs (0.06 %), nearly all of them malformed strings such as
//! "Mozilla" or "Chrome". `is_bot` costs about 1 µs per UA.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use regex::{Regex, RegexBuilder};

/// The crawler-user-agents patterns, one JSON array of strings (see `data/refresh.sh`).
const CRAWLER_PATTERNS: &str = include_str!("../data/crawler-user-agents.json");

/// A trimmed user agent shorter than this is treated as a bot: even "Mozilla/5.0" alone is 11
/// characters, and every real browser sends far more.
pub const MIN_BROWSER_UA_LEN: usize = 12;

/// Longest prefix of a user agent that is examined. Real UAs stay well under this; the cap
/// bounds the work an attacker can cause with a huge header.
pub const MAX_UA_LEN: usize = 1024;

/// Generic tokens, case-insensitive. Why each is here: crawlers name themselves `…bot`,
/// `…crawler` or `…spider`; the rest are automation tools and HTTP libraries that never render
/// a page for a person. `\bbot` style boundaries are avoided for `bot` because names such as
/// `Googlebot` glue it to the name; the phone brand `Cubot` is excluded explicitly below.
///
/// A URL in the UA (`+http://example.com/bot.html`) is the crawler convention for "who to contact";
/// no browser in the isbot crate's 165,808 browser fixtures has one, nor any of the words
/// `analyzer`, `checker`, `monitor`, `validator`, `extractor`, `scanner`, `feed`, `survey`,
/// `transcoder`, `health`, or a word starting with `check`, which together catch most of the
/// crawlers the list misses.
const GENERIC_TOKENS: &str = r"(?i)bot\b|bot[/_;:-]|crawl|spider|slurp|scrape|headless|phantomjs|selenium|webdriver|puppeteer|playwright|lighthouse|pagespeed|\bcurl/|\bwget/|python|\bjava/\d|go-http-client|okhttp|axios|node-fetch|undici|libwww|http_?client|http\.rb|guzzle|scrapy|\bfetch/|facebookexternalhit|whatsapp/|\bpreview\b|uptime|https?://|analy[sz]er|checker|\bcheck|monitor|validator|extractor|scanner|feed|survey|transcoder|health|\breader\b";

/// Words that start like a generic token match but belong to real devices: the phone brand
/// Cubot ("CUBOT_NOTE_S", "CUBOT X30").
const NOT_BOT_WORDS: &[&str] = &["cubot"];

/// crawler-user-agents patterns that also match real browsers in the isbot crate's browser
/// fixtures, so they are dropped: "Butterfly" (HTC Butterfly phones), "Blackboard" (the
/// Blackboard app's web view), "008\/" (Opera Mini build numbers like "39008/37"), "Fluid"
/// (a macOS site-specific browser). The crawlers they meant still hit the generic tokens.
const EXCLUDED_PATTERNS: &[&str] = &["Butterfly", "Blackboard", r"008\/", "Fluid"];

struct BotMatcher {
    /// crawler-user-agents patterns that are plain literals (after unescaping `\/`, `\.` …).
    literals: AhoCorasick,
    /// The remaining crawler-user-agents patterns as one alternation.
    patterns: Regex,
}

/// The generic token regex is hand-written and tested, so it cannot fail to compile; it still
/// goes through `Option` so that a mistake degrades detection instead of panicking.
static GENERIC: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(GENERIC_TOKENS).ok());

static MATCHER: LazyLock<Result<BotMatcher, String>> = LazyLock::new(BotMatcher::build);

impl BotMatcher {
    fn build() -> Result<Self, String> {
        let patterns: Vec<String> = serde_json::from_str(CRAWLER_PATTERNS).map_err(|e| {
            format!("embedded crawler-user-agents.json is not a JSON string array: {e}")
        })?;
        let mut literals = Vec::new();
        let mut regexes = Vec::new();
        for p in patterns
            .iter()
            .filter(|p| !EXCLUDED_PATTERNS.contains(&p.as_str()))
        {
            match as_literal(p) {
                Some(lit) => literals.push(lit),
                None => regexes.push(format!("(?:{p})")),
            }
        }
        let literals = AhoCorasick::new(&literals)
            .map_err(|e| format!("crawler-user-agents literals do not build an automaton: {e}"))?;
        let patterns = RegexBuilder::new(&regexes.join("|"))
            // The alternation of a few hundred patterns needs more than the 10 MiB default.
            .size_limit(64 << 20)
            .dfa_size_limit(16 << 20)
            .build()
            .map_err(|e| {
                format!("crawler-user-agents patterns do not compile as one regex: {e}")
            })?;
        Ok(BotMatcher { literals, patterns })
    }

    fn is_match(&self, ua: &str) -> bool {
        self.literals.is_match(ua) || self.patterns.is_match(ua)
    }
}

/// Returns the literal text a pattern matches if it has no regex operators, unescaping `\x` for
/// punctuation `x`; `None` if the pattern needs the regex engine.
fn as_literal(pattern: &str) -> Option<String> {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) if e.is_ascii_punctuation() => out.push(e),
                _ => return None, // \d, \s, \b … are classes or assertions
            },
            '.' | '^' | '$' | '|' | '?' | '*' | '+' | '(' | ')' | '[' | ']' | '{' | '}' => {
                return None
            }
            c => out.push(c),
        }
    }
    if out.is_empty() {
        None
    } else {
        Some(out)
    }
}

/// Forces the crawler list to compile now, reporting why it cannot. `UaParser::new` calls this so
/// that a broken data refresh fails at startup rather than silently detecting fewer bots.
pub(crate) fn init() -> Result<(), String> {
    match &*MATCHER {
        Ok(_) => Ok(()),
        Err(e) => Err(e.clone()),
    }
}

fn generic_match(ua: &str) -> bool {
    let Some(re) = GENERIC.as_ref() else {
        return false;
    };
    re.find_iter(ua).any(|m| {
        // Go back to the start of the word the match sits in, to compare with NOT_BOT_WORDS.
        let bytes = ua.as_bytes();
        let mut start = m.start();
        while start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
            start -= 1;
        }
        let word = ua.get(start..).unwrap_or("");
        !NOT_BOT_WORDS.iter().any(|w| {
            word.len() >= w.len()
                && word.is_char_boundary(w.len())
                && word[..w.len()].eq_ignore_ascii_case(w)
                && !word[w.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
        })
    })
}

/// What a user agent is, as far as counting visitors goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A person's browser.
    Browser,
    /// A headless browser (its UA says "Headless…") with no other bot signal.
    Headless,
    /// A crawler, script, HTTP library or automation tool.
    Bot,
}

/// Matches the "Headless" marker in a UA ("HeadlessChrome/120.0" → "Chrome/120.0" once removed).
static HEADLESS: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"(?i)headless").ok());

/// Classifies `ua`: a UA that is flagged only because it says "Headless" is [`Verdict::Headless`];
/// one that is still flagged with the marker removed is a [`Verdict::Bot`].
pub fn classify(ua: &str) -> Verdict {
    if !is_bot(ua) {
        return Verdict::Browser;
    }
    let Some(re) = HEADLESS.as_ref() else {
        return Verdict::Bot;
    };
    if !re.is_match(ua) {
        return Verdict::Bot;
    }
    if is_bot(&re.replace_all(ua, "")) {
        Verdict::Bot
    } else {
        Verdict::Headless
    }
}

/// Is `ua` a bot, crawler, script or headless browser? Looks at the first [`MAX_UA_LEN`] bytes.
pub fn is_bot(ua: &str) -> bool {
    let ua = crate::truncate_str(ua.trim(), MAX_UA_LEN);
    if ua.chars().count() < MIN_BROWSER_UA_LEN || !ua.chars().any(|c| c.is_alphabetic()) {
        return true;
    }
    if generic_match(ua) {
        return true;
    }
    match &*MATCHER {
        Ok(m) => m.is_match(ua),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crawler_list_compiles_and_is_split() {
        let m = MATCHER.as_ref().expect("crawler list compiles");
        assert!(
            m.literals.patterns_len() > 1000,
            "most patterns should be literals"
        );
        assert!(init().is_ok());
    }

    #[test]
    fn generic_tokens_compile() {
        assert!(GENERIC.is_some());
    }

    #[test]
    fn literal_extraction() {
        assert_eq!(as_literal(r"Googlebot\/").as_deref(), Some("Googlebot/"));
        assert_eq!(as_literal("bingbot").as_deref(), Some("bingbot"));
        assert_eq!(as_literal("^curl"), None);
        assert_eq!(as_literal(r"[wW]get"), None);
        assert_eq!(as_literal(r"\d"), None);
        assert_eq!(as_literal(""), None);
    }

    #[test]
    fn cubot_phone_is_not_a_bot() {
        let ua = "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36";
        assert!(!is_bot(ua));
    }

    #[test]
    fn excluded_patterns_exist_in_the_list() {
        // If a refresh drops or rewrites one of these, the exclusion is stale: review it.
        let patterns: Vec<String> = serde_json::from_str(CRAWLER_PATTERNS).expect("valid json");
        for p in EXCLUDED_PATTERNS {
            assert!(
                patterns.iter().any(|q| q == p),
                "{p} is no longer in the crawler list"
            );
        }
    }

    #[test]
    fn headless_browsers_are_told_apart() {
        let headless = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36";
        assert_eq!(classify(headless), Verdict::Headless);
        assert!(is_bot(headless));
        let puppeteer = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36 Puppeteer";
        assert_eq!(classify(puppeteer), Verdict::Bot);
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(classify(chrome), Verdict::Browser);
        assert_eq!(
            classify("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
            Verdict::Bot
        );
    }

    #[test]
    fn short_and_empty_are_bots() {
        assert!(is_bot(""));
        assert!(is_bot("   "));
        assert!(is_bot("Mozilla"));
        assert!(is_bot("1234567890123456"));
    }
}
