//! Campaign tags: the `utm_*` query parameters, Plausible's `ref` / `source` / `via` fallbacks for
//! the source, and ad click ids (`gclid`, `fbclid`, …), read from the page URL at ingest.

use url::Url;

/// Longest tag value kept, in bytes. Tags are free text from the URL; the cap keeps a hostile
/// link from filling the store with megabytes per event.
pub const MAX_TAG_LEN: usize = 256;

/// Campaign tags of one page view. Empty strings mean "not tagged".
#[derive(Default, Clone, Debug, PartialEq)]
pub struct Utm {
    /// `utm_source`, else `source`, else `ref`, else `via`.
    pub source: String,
    /// `utm_medium`.
    pub medium: String,
    /// `utm_campaign`.
    pub campaign: String,
    /// `utm_content`.
    pub content: String,
    /// `utm_term`.
    pub term: String,
    /// The first ad click id in the URL, if any. The value itself is never kept: it identifies a
    /// person's ad click, and Waymark only needs to know that it was one.
    pub click_id: Option<ClickId>,
}

impl Utm {
    /// No tag and no click id at all.
    pub fn is_empty(&self) -> bool {
        self.source.is_empty()
            && self.medium.is_empty()
            && self.campaign.is_empty()
            && self.content.is_empty()
            && self.term.is_empty()
            && self.click_id.is_none()
    }
}

/// Which ad platform's click id a URL carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClickId {
    /// `gclid`, `gbraid`, `wbraid`, `dclid` (Google Ads, Campaign Manager).
    Google,
    /// `msclkid` (Microsoft Advertising).
    Microsoft,
    /// `fbclid` (Meta; note Facebook adds it to organic outbound links too).
    Meta,
    /// `ttclid`.
    TikTok,
    /// `li_fat_id`.
    LinkedIn,
    /// `twclid`.
    Twitter,
    /// Another platform's id: `yclid` (Yandex), `epik` (Pinterest), `sccid` (Snapchat),
    /// `rdt_cid` (Reddit), `irclickid` (Impact).
    Other,
}

impl ClickId {
    /// Lowercase platform name, for storage.
    pub fn as_str(self) -> &'static str {
        match self {
            ClickId::Google => "google",
            ClickId::Microsoft => "microsoft",
            ClickId::Meta => "meta",
            ClickId::TikTok => "tiktok",
            ClickId::LinkedIn => "linkedin",
            ClickId::Twitter => "twitter",
            ClickId::Other => "other",
        }
    }

    /// The platform of a query parameter name, if it is a click id (case-insensitive).
    pub fn from_param(name: &str) -> Option<ClickId> {
        const PARAMS: &[(&str, ClickId)] = &[
            ("gclid", ClickId::Google),
            ("gbraid", ClickId::Google),
            ("wbraid", ClickId::Google),
            ("dclid", ClickId::Google),
            ("msclkid", ClickId::Microsoft),
            ("fbclid", ClickId::Meta),
            ("ttclid", ClickId::TikTok),
            ("li_fat_id", ClickId::LinkedIn),
            ("twclid", ClickId::Twitter),
            ("yclid", ClickId::Other),
            ("epik", ClickId::Other),
            ("sccid", ClickId::Other),
            ("rdt_cid", ClickId::Other),
            ("irclickid", ClickId::Other),
        ];
        PARAMS
            .iter()
            .find(|(p, _)| p.eq_ignore_ascii_case(name))
            .map(|&(_, c)| c)
    }
}

/// Reads campaign tags from a page URL's query string.
pub fn utm_from_url(url: &Url) -> Utm {
    utm_from_query(url.query().unwrap_or(""))
}

/// Reads campaign tags from a raw query string (without the leading `?`).
///
/// Per parameter the first non-empty value wins. Values are percent-decoded, stripped of control
/// characters, trimmed and cut to [`MAX_TAG_LEN`] bytes. The source comes from `utm_source`,
/// then `source`, then `ref`, then `via` (Plausible's order, with `via` added).
pub fn utm_from_query(query: &str) -> Utm {
    let mut utm = Utm::default();
    // Fallback sources, by precedence: source, ref, via.
    let mut fallback: [String; 3] = Default::default();
    // Bound the work on absurd query strings: real tagged URLs have a handful of parameters.
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()).take(256) {
        let key = key.to_ascii_lowercase();
        let slot = match key.as_str() {
            "utm_source" => &mut utm.source,
            "utm_medium" => &mut utm.medium,
            "utm_campaign" => &mut utm.campaign,
            "utm_content" => &mut utm.content,
            "utm_term" => &mut utm.term,
            "source" => &mut fallback[0],
            "ref" => &mut fallback[1],
            "via" => &mut fallback[2],
            other => {
                if utm.click_id.is_none() && !value.trim().is_empty() {
                    utm.click_id = ClickId::from_param(other);
                }
                continue;
            }
        };
        if slot.is_empty() {
            *slot = clean(&value);
        }
    }
    if utm.source.is_empty() {
        if let Some(f) = fallback.into_iter().find(|f| !f.is_empty()) {
            utm.source = f;
        }
    }
    utm
}

/// Drops control characters, trims, and caps the length.
fn clean(value: &str) -> String {
    let v: String = value.chars().filter(|c| !c.is_control()).collect();
    crate::truncate_str(v.trim(), MAX_TAG_LEN)
        .trim_end()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_caps_and_trims() {
        assert_eq!(clean("  a\u{0}b \n"), "ab");
        let long = "é".repeat(300);
        let c = clean(&long);
        assert!(c.len() <= MAX_TAG_LEN);
        assert!(c.chars().all(|ch| ch == 'é'));
    }

    #[test]
    fn click_id_params() {
        assert_eq!(ClickId::from_param("GCLID"), Some(ClickId::Google));
        assert_eq!(ClickId::from_param("wbraid"), Some(ClickId::Google));
        assert_eq!(ClickId::from_param("utm_id"), None);
    }
}
