//! The one "source" name a visit is reported under: the referrer's source when there is one,
//! else the `utm_source` tag mapped to a canonical name ("fb" → "Facebook"), else the platform
//! of an ad click id.

use crate::referrer::{self, RefKind, ReferrerSource};
use crate::utm::{ClickId, Utm};

/// Short or alternative `utm_source` spellings that marketers use, lowercase → canonical name.
/// Matched before the referrer data's names, so that e.g. "meta" means Facebook and not the old
/// search engine of that name.
const UTM_ALIASES: &[(&str, &str, RefKind)] = &[
    ("google", "Google", RefKind::Search),
    ("adwords", "Google", RefKind::Search),
    ("googleads", "Google", RefKind::Search),
    ("google_ads", "Google", RefKind::Search),
    ("google-ads", "Google", RefKind::Search),
    ("gads", "Google", RefKind::Search),
    ("bing", "Bing", RefKind::Search),
    ("msads", "Bing", RefKind::Search),
    ("microsoft", "Bing", RefKind::Search),
    ("microsoftads", "Bing", RefKind::Search),
    ("microsoft_ads", "Bing", RefKind::Search),
    ("ddg", "DuckDuckGo", RefKind::Search),
    ("duckduckgo", "DuckDuckGo", RefKind::Search),
    ("fb", "Facebook", RefKind::Social),
    ("facebook", "Facebook", RefKind::Social),
    ("facebookads", "Facebook", RefKind::Social),
    ("facebook_ads", "Facebook", RefKind::Social),
    ("fb_ads", "Facebook", RefKind::Social),
    ("meta", "Facebook", RefKind::Social),
    ("ig", "Instagram", RefKind::Social),
    ("insta", "Instagram", RefKind::Social),
    ("instagram", "Instagram", RefKind::Social),
    ("tw", "Twitter", RefKind::Social),
    ("twitter", "Twitter", RefKind::Social),
    ("x", "Twitter", RefKind::Social),
    ("li", "LinkedIn", RefKind::Social),
    ("linkedin", "LinkedIn", RefKind::Social),
    ("tiktok", "TikTok", RefKind::Social),
    ("hn", "Hacker News", RefKind::Social),
    ("hackernews", "Hacker News", RefKind::Social),
    ("hacker_news", "Hacker News", RefKind::Social),
    ("hacker-news", "Hacker News", RefKind::Social),
    ("yt", "YouTube", RefKind::Video),
    ("youtube", "YouTube", RefKind::Video),
];

/// Canonical name and kind for a `utm_source` value, if Waymark knows it: an alias above, a
/// source name from the referrer data ("reddit" → "Reddit"), or a domain ("t.co" → "Twitter").
pub fn lookup_utm_source(value: &str) -> Option<(&'static str, RefKind)> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if let Some(&(_, name, kind)) = UTM_ALIASES
        .iter()
        .find(|(a, _, _)| a.eq_ignore_ascii_case(v))
    {
        return Some((name, kind));
    }
    if let Some(found) = referrer::lookup_name(v) {
        return Some(found);
    }
    if v.contains('.') && !v.contains(char::is_whitespace) && !v.contains('/') {
        return referrer::lookup_host(v);
    }
    None
}

/// The source a click id implies, used only when neither referrer nor `utm_source` names one.
fn click_id_source(click: ClickId) -> Option<&'static str> {
    match click {
        ClickId::Google => Some("Google"),
        ClickId::Microsoft => Some("Bing"),
        ClickId::Meta => Some("Facebook"),
        ClickId::TikTok => Some("TikTok"),
        ClickId::LinkedIn => Some("LinkedIn"),
        ClickId::Twitter => Some("Twitter"),
        ClickId::Other => None,
    }
}

/// The source name to report. The referrer's source wins; else `utm_source`, canonicalised when
/// known ("google" → "Google", "fb" → "Facebook") and kept as given otherwise ("newsletter");
/// else the platform of a click id ("gclid" → "Google"); else "".
pub fn source_name(referrer: &ReferrerSource, utm: &Utm) -> String {
    if !referrer.source.is_empty() {
        return referrer.source.clone();
    }
    let tagged = utm.source.trim();
    if !tagged.is_empty() {
        return match lookup_utm_source(tagged) {
            Some((name, _)) => name.to_owned(),
            None => tagged.to_owned(),
        };
    }
    utm.click_id
        .and_then(click_id_source)
        .unwrap_or("")
        .to_owned()
}
