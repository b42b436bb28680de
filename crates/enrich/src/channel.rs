//! GA4-style default channel grouping: which marketing channel a visit belongs to, from its
//! referrer and campaign tags. Rules are an ordered table; the first that matches wins.
//!
//! Inputs, all compared case-insensitively:
//! * **medium**, **source**, **campaign**: the `utm_*` tags (source falls back to `source`, `ref`,
//!   `via`, see [`crate::utm`]).
//! * **category** of the source: search, social, video, shopping or email. Taken from `utm_source`
//!   when Waymark knows it ("google", "fb", "youtube.com"), else from the referrer's kind, else,
//!   when there is no organic referrer, implied by a click id (gclid/msclkid → search;
//!   fbclid/ttclid/li_fat_id/twclid → social).
//! * **paid**: the medium matches GA4's `^(.*cp.*|ppc|retargeting|paid.*)$`, or there is no medium
//!   and the URL has an ad click id that only ads carry (gclid & co., msclkid, ttclid, li_fat_id,
//!   twclid). `fbclid` alone is *not* paid: Facebook adds it to organic outbound links too.
//! * **shop campaign**: the campaign matches GA4's `^(.*(([^a-df-z]|^)shop|shopping).*)$`.
//!
//! | # | Channel | Rule |
//! |---|---|---|
//! | 1 | Direct | no external referrer, no source/medium/campaign tag, no click id |
//! | 2 | Cross-network | campaign contains `cross-network` |
//! | 3 | Paid Shopping | (category shopping or shop campaign) and paid |
//! | 4 | Paid Search | category search and paid (so gclid from a search engine or with no referrer) |
//! | 5 | Paid Social | category social and paid (e.g. fbclid + `utm_medium=paid`) |
//! | 6 | Paid Video | category video and paid |
//! | 7 | Display | medium is display, banner, expandable, interstitial or cpm; or an ad-server referrer with no medium |
//! | 8 | Paid Other | paid |
//! | 9 | Organic Shopping | category shopping or shop campaign |
//! | 10 | Organic Social | category social, or medium is social, social-network, social-media, sm, "social network", "social media" |
//! | 11 | Organic Video | category video, or medium contains `video` |
//! | 12 | Organic Search | category search, or medium is `organic` |
//! | 13 | Email | category email (webmail referrer), or source or medium is email, e-mail, e_mail, "e mail", newsletter |
//! | 14 | Affiliates | medium is affiliate or affiliates |
//! | 15 | Referral | medium is referral, app or link |
//! | 16 | Audio | medium is audio |
//! | 17 | SMS | source or medium is sms |
//! | 18 | Mobile Push Notifications | medium ends with `push` or contains `mobile` or `notification`, or source is firebase |
//! | 19 | Referral | any other visit with an external referrer or a source tag |
//! | 20 | Direct | anything else (e.g. only a campaign name) |
//!
//! Differences from GA4, and why: GA4's "Unassigned" is folded into Referral (a named source we
//! cannot place is still a referral) or Direct (nothing names a source), so every visit gets one
//! of the channels above; Email also accepts `newsletter`, the most common medium GA4 misses;
//! click ids stand in for the auto-tagged medium GA4 gets from Google Ads.

use crate::referrer::{RefKind, ReferrerSource};
use crate::source::lookup_utm_source;
use crate::utm::{ClickId, Utm};

/// Every channel [`channel`] can return, in rule order (without repeats).
pub const CHANNELS: &[&str] = &[
    "Direct",
    "Cross-network",
    "Paid Shopping",
    "Paid Search",
    "Paid Social",
    "Paid Video",
    "Display",
    "Paid Other",
    "Organic Shopping",
    "Organic Social",
    "Organic Video",
    "Organic Search",
    "Email",
    "Affiliates",
    "Referral",
    "Audio",
    "SMS",
    "Mobile Push Notifications",
];

/// The facts the rules look at, computed once per call.
struct Ctx {
    medium: String,
    source: String,
    campaign: String,
    category: Option<RefKind>,
    paid: bool,
    referrer: RefKind,
    direct: bool,
}

type Rule = (&'static str, fn(&Ctx) -> bool);

/// The rule table; see the module comment.
const RULES: &[Rule] = &[
    ("Direct", |c| c.direct),
    ("Cross-network", |c| c.campaign.contains("cross-network")),
    ("Paid Shopping", |c| {
        (c.category == Some(RefKind::Shopping) || shop_campaign(&c.campaign)) && c.paid
    }),
    ("Paid Search", |c| {
        c.category == Some(RefKind::Search) && c.paid
    }),
    ("Paid Social", |c| {
        c.category == Some(RefKind::Social) && c.paid
    }),
    ("Paid Video", |c| {
        c.category == Some(RefKind::Video) && c.paid
    }),
    ("Display", |c| {
        matches!(
            c.medium.as_str(),
            "display" | "banner" | "expandable" | "interstitial" | "cpm"
        ) || (c.referrer == RefKind::Paid && c.medium.is_empty())
    }),
    ("Paid Other", |c| c.paid),
    ("Organic Shopping", |c| {
        c.category == Some(RefKind::Shopping) || shop_campaign(&c.campaign)
    }),
    ("Organic Social", |c| {
        c.category == Some(RefKind::Social)
            || matches!(
                c.medium.as_str(),
                "social"
                    | "social-network"
                    | "social-media"
                    | "sm"
                    | "social network"
                    | "social media"
            )
    }),
    ("Organic Video", |c| {
        c.category == Some(RefKind::Video) || c.medium.contains("video")
    }),
    ("Organic Search", |c| {
        c.category == Some(RefKind::Search) || c.medium == "organic"
    }),
    ("Email", |c| {
        c.category == Some(RefKind::Email) || is_email_word(&c.source) || is_email_word(&c.medium)
    }),
    ("Affiliates", |c| {
        matches!(c.medium.as_str(), "affiliate" | "affiliates")
    }),
    ("Referral", |c| {
        matches!(c.medium.as_str(), "referral" | "app" | "link")
    }),
    ("Audio", |c| c.medium == "audio"),
    ("SMS", |c| c.source == "sms" || c.medium == "sms"),
    ("Mobile Push Notifications", |c| {
        c.medium.ends_with("push")
            || c.medium.contains("mobile")
            || c.medium.contains("notification")
            || c.source == "firebase"
    }),
    ("Referral", |c| {
        c.referrer != RefKind::None || !c.source.is_empty()
    }),
];

fn is_email_word(s: &str) -> bool {
    matches!(s, "email" | "e-mail" | "e_mail" | "e mail" | "newsletter")
}

/// GA4's paid-medium regex `^(.*cp.*|ppc|retargeting|paid.*)$`.
fn paid_medium(m: &str) -> bool {
    m.contains("cp") || m == "ppc" || m == "retargeting" || m.starts_with("paid")
}

/// GA4's shopping-campaign regex `^(.*(([^a-df-z]|^)shop|shopping).*)$`: "shopping" anywhere, or
/// "shop" at the start or after a character that is not a letter other than `e` (so "eshop" and
/// "summer-shop" count, "workshop" does not).
fn shop_campaign(campaign: &str) -> bool {
    if campaign.contains("shopping") {
        return true;
    }
    let bytes = campaign.as_bytes();
    campaign.match_indices("shop").any(|(i, _)| {
        i == 0 || {
            let prev = bytes[i - 1];
            !(prev.is_ascii_lowercase() && prev != b'e')
        }
    })
}

/// Platforms whose click id is only added to ad clicks.
fn paid_click(c: ClickId) -> bool {
    matches!(
        c,
        ClickId::Google
            | ClickId::Microsoft
            | ClickId::TikTok
            | ClickId::LinkedIn
            | ClickId::Twitter
    )
}

fn click_category(c: ClickId) -> Option<RefKind> {
    match c {
        ClickId::Google | ClickId::Microsoft => Some(RefKind::Search),
        ClickId::Meta | ClickId::TikTok | ClickId::LinkedIn | ClickId::Twitter => {
            Some(RefKind::Social)
        }
        ClickId::Other => None,
    }
}

fn is_category(k: RefKind) -> bool {
    matches!(
        k,
        RefKind::Search | RefKind::Social | RefKind::Video | RefKind::Shopping | RefKind::Email
    )
}

fn context(referrer: &ReferrerSource, utm: &Utm) -> Ctx {
    let norm = |s: &str| s.trim().to_lowercase();
    let medium = norm(&utm.medium);
    let source = norm(&utm.source);
    let campaign = norm(&utm.campaign);
    let no_organic_referrer = matches!(referrer.kind, RefKind::None | RefKind::Paid);
    let category = lookup_utm_source(&source)
        .map(|(_, k)| k)
        .filter(|k| is_category(*k))
        .or_else(|| Some(referrer.kind).filter(|k| is_category(*k)))
        .or_else(|| {
            utm.click_id
                .filter(|_| no_organic_referrer)
                .and_then(click_category)
        });
    let paid = paid_medium(&medium) || (medium.is_empty() && utm.click_id.is_some_and(paid_click));
    let direct = referrer.kind == RefKind::None
        && source.is_empty()
        && medium.is_empty()
        && campaign.is_empty()
        && utm.click_id.is_none();
    Ctx {
        medium,
        source,
        campaign,
        category,
        paid,
        referrer: referrer.kind,
        direct,
    }
}

/// The GA4-style channel of a visit; always one of [`CHANNELS`].
pub fn channel(referrer: &ReferrerSource, utm: &Utm) -> &'static str {
    let ctx = context(referrer, utm);
    RULES
        .iter()
        .find(|(_, rule)| rule(&ctx))
        .map(|(name, _)| *name)
        .unwrap_or("Direct")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paid_medium_regex() {
        for m in [
            "cpc",
            "cpm",
            "ppc",
            "retargeting",
            "paid",
            "paidsocial",
            "xcpx",
        ] {
            assert!(paid_medium(m), "{m}");
        }
        for m in ["email", "organic", "social", "", "display"] {
            assert!(!paid_medium(m), "{m}");
        }
    }

    #[test]
    fn shop_campaign_regex() {
        assert!(shop_campaign("shop"));
        assert!(shop_campaign("summer-shop"));
        assert!(shop_campaign("eshop"));
        assert!(shop_campaign("xmas_shopping"));
        assert!(!shop_campaign("workshop"));
        assert!(!shop_campaign("spring"));
    }

    #[test]
    fn rules_only_name_known_channels() {
        for (name, _) in RULES {
            assert!(CHANNELS.contains(name), "{name}");
        }
    }
}
