//! Waymark's knowledge of the outside world at ingest: user agents and bots, referrers and traffic
//! sources, UTM tags and click ids, GA4-style channels, and GeoIP lookups.
//!
//! Every function here sees attacker-controlled strings, so none of them panics: bad input gives
//! an empty or "none" result. The data sets are embedded at compile time (see `data/SOURCES.md`);
//! nothing is downloaded at build or run time.

pub mod bots;
pub mod channel;
pub mod geo;
pub mod referrer;
pub mod source;
pub mod useragent;
pub mod utm;

pub use bots::{classify, is_bot, Verdict};
pub use channel::channel;
pub use geo::{Geo, GeoDb, GeoError};
pub use referrer::{classify_referrer, RefKind, ReferrerSource};
pub use source::source_name;
pub use useragent::{UaError, UaParser, UserAgent};
pub use utm::{utm_from_url, ClickId, Utm};

/// Cuts `s` to at most `max` bytes without splitting a UTF-8 character.
pub(crate) fn truncate_str(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::truncate_str;

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate_str("abc", 10), "abc");
        assert_eq!(truncate_str("abcdef", 3), "abc");
        // "é" is two bytes: cutting in its middle must back off to before it.
        assert_eq!(truncate_str("aé", 2), "a");
        assert_eq!(truncate_str("", 0), "");
    }
}
