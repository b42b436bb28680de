//! UTM parsing, source naming and GA4-style channel cases, one or more per channel.

use url::Url;
use waymark_enrich::{
    channel, classify_referrer, source_name, utm_from_url, ClickId, RefKind, ReferrerSource, Utm,
};

fn utm(url: &str) -> Utm {
    utm_from_url(&Url::parse(url).expect("test URL parses"))
}

#[test]
fn utm_tags_are_read() {
    let u = utm("https://example.com/?utm_source=Newsletter&utm_medium=email&utm_campaign=spring+sale&utm_content=hero%20link&utm_term=rust");
    assert_eq!(
        u,
        Utm {
            source: "Newsletter".into(),
            medium: "email".into(),
            campaign: "spring sale".into(),
            content: "hero link".into(),
            term: "rust".into(),
            click_id: None,
        }
    );
}

#[test]
fn source_fallbacks_follow_plausible() {
    assert_eq!(
        utm("https://example.com/?ref=producthunt").source,
        "producthunt"
    );
    assert_eq!(utm("https://example.com/?source=github").source, "github");
    assert_eq!(utm("https://example.com/?via=alice").source, "alice");
    // utm_source beats source beats ref beats via, whatever the order in the URL.
    assert_eq!(utm("https://example.com/?ref=a&utm_source=b").source, "b");
    assert_eq!(utm("https://example.com/?via=c&ref=a&source=s").source, "s");
    assert_eq!(utm("https://example.com/?via=c&ref=a").source, "a");
    // An empty utm_source does not hide a fallback.
    assert_eq!(utm("https://example.com/?utm_source=&ref=hn").source, "hn");
}

#[test]
fn values_are_trimmed_capped_and_first_wins() {
    let u = utm("https://example.com/?utm_source=%20%20google%20%20&utm_source=bing");
    assert_eq!(u.source, "google");
    let long = "x".repeat(5000);
    let u = utm(&format!("https://example.com/?utm_campaign={long}"));
    assert_eq!(u.campaign.len(), waymark_enrich::utm::MAX_TAG_LEN);
    let u = utm("https://example.com/?utm_medium=%00cpc%0A");
    assert_eq!(u.medium, "cpc");
    assert_eq!(utm("https://example.com/"), Utm::default());
    assert_eq!(utm("https://example.com/?a=1&b=2"), Utm::default());
    // Case of the key does not matter.
    assert_eq!(utm("https://example.com/?UTM_Source=x").source, "x");
}

#[test]
fn click_ids_are_recognised() {
    let cases = [
        ("gclid", Some(ClickId::Google)),
        ("gbraid", Some(ClickId::Google)),
        ("wbraid", Some(ClickId::Google)),
        ("dclid", Some(ClickId::Google)),
        ("msclkid", Some(ClickId::Microsoft)),
        ("fbclid", Some(ClickId::Meta)),
        ("ttclid", Some(ClickId::TikTok)),
        ("li_fat_id", Some(ClickId::LinkedIn)),
        ("twclid", Some(ClickId::Twitter)),
        ("yclid", Some(ClickId::Other)),
        ("session", None),
    ];
    for (param, want) in cases {
        let u = utm(&format!("https://example.com/?{param}=abc123"));
        assert_eq!(u.click_id, want, "{param}");
    }
    // An empty id is no click id; the first id in the URL wins.
    assert_eq!(utm("https://example.com/?gclid=").click_id, None);
    assert_eq!(
        utm("https://example.com/?fbclid=1&gclid=2").click_id,
        Some(ClickId::Meta)
    );
}

#[test]
fn hostile_query_strings_do_not_panic() {
    for q in [
        "%",
        "%zz",
        "&&&&",
        "utm_source=%F0%9F%98%80",
        "=x",
        "utm_source",
        "utm_source=%ff%fe",
    ] {
        let _ = utm(&format!("https://example.com/?{q}"));
    }
    let _ = waymark_enrich::utm::utm_from_query(&"a=b&".repeat(100_000));
}

fn referrer(url: &str) -> ReferrerSource {
    classify_referrer(url, "example.com")
}

#[test]
fn source_names() {
    let none = ReferrerSource::none();
    let tagged = |s: &str| Utm {
        source: s.into(),
        ..Default::default()
    };
    // The referrer's source wins over a tag.
    assert_eq!(
        source_name(&referrer("https://www.google.com/"), &tagged("newsletter")),
        "Google"
    );
    assert_eq!(source_name(&none, &tagged("google")), "Google");
    assert_eq!(source_name(&none, &tagged("fb")), "Facebook");
    assert_eq!(source_name(&none, &tagged("facebook")), "Facebook");
    assert_eq!(source_name(&none, &tagged("ig")), "Instagram");
    assert_eq!(source_name(&none, &tagged("reddit")), "Reddit");
    assert_eq!(
        source_name(&none, &tagged("news.ycombinator.com")),
        "Hacker News"
    );
    assert_eq!(source_name(&none, &tagged("newsletter")), "newsletter");
    assert_eq!(
        source_name(&none, &tagged("  Spring Mailing ")),
        "Spring Mailing"
    );
    assert_eq!(source_name(&none, &Utm::default()), "");
    let gclid = Utm {
        click_id: Some(ClickId::Google),
        ..Default::default()
    };
    assert_eq!(source_name(&none, &gclid), "Google");
    assert_eq!(
        source_name(&referrer("https://unknown-blog.net/x"), &Utm::default()),
        "unknown-blog.net"
    );
}

fn ch(referrer_url: &str, page_url: &str) -> &'static str {
    channel(&referrer(referrer_url), &utm(page_url))
}

#[test]
fn channels() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str)] = &[
        // (referrer, page URL, channel)
        ("", "https://example.com/", "Direct"),
        ("https://www.example.com/other", "https://example.com/", "Direct"),
        ("", "https://example.com/?utm_campaign=launch", "Direct"),
        ("", "https://example.com/?utm_source=google&utm_medium=cpc&utm_campaign=pmax_cross-network", "Cross-network"),
        ("", "https://example.com/?utm_source=amazon&utm_medium=cpc", "Paid Shopping"),
        ("", "https://example.com/?utm_source=partner&utm_medium=paid&utm_campaign=summer-shop", "Paid Shopping"),
        ("", "https://example.com/?utm_source=google&utm_medium=cpc", "Paid Search"),
        ("https://www.google.com/", "https://example.com/?gclid=abc", "Paid Search"),
        ("", "https://example.com/?gclid=abc", "Paid Search"),
        ("https://www.bing.com/", "https://example.com/?msclkid=abc", "Paid Search"),
        ("https://some-publisher.net/", "https://example.com/?gclid=abc", "Paid Other"),
        ("", "https://example.com/?fbclid=abc&utm_medium=paid", "Paid Social"),
        ("https://l.facebook.com/", "https://example.com/?utm_source=facebook&utm_medium=paid_social", "Paid Social"),
        ("", "https://example.com/?ttclid=abc", "Paid Social"),
        ("", "https://example.com/?utm_source=youtube&utm_medium=cpv", "Paid Video"),
        ("", "https://example.com/?utm_source=news-site&utm_medium=display", "Display"),
        ("", "https://example.com/?utm_medium=banner", "Display"),
        ("https://ad.doubleclick.net/ddm/clk/1", "https://example.com/", "Display"),
        ("", "https://example.com/?utm_source=partner&utm_medium=ppc", "Paid Other"),
        ("https://www.amazon.com/", "https://example.com/", "Organic Shopping"),
        ("https://www.facebook.com/", "https://example.com/", "Organic Social"),
        ("https://l.facebook.com/", "https://example.com/?fbclid=abc", "Organic Social"),
        ("", "https://example.com/?fbclid=abc", "Organic Social"),
        ("https://news.ycombinator.com/", "https://example.com/", "Organic Social"),
        ("", "https://example.com/?utm_source=fosstodon&utm_medium=social", "Organic Social"),
        ("https://www.youtube.com/", "https://example.com/", "Organic Video"),
        ("https://www.google.com/", "https://example.com/", "Organic Search"),
        ("https://duckduckgo.com/", "https://example.com/", "Organic Search"),
        ("", "https://example.com/?utm_source=google&utm_medium=organic", "Organic Search"),
        ("", "https://example.com/?utm_source=mailchimp&utm_medium=email", "Email"),
        ("", "https://example.com/?utm_source=newsletter", "Email"),
        ("android-app://com.google.android.gm/", "https://example.com/", "Email"),
        ("", "https://example.com/?utm_source=partner&utm_medium=affiliate", "Affiliates"),
        ("https://some-blog.example.org/", "https://example.com/", "Referral"),
        ("", "https://example.com/?utm_source=partner&utm_medium=referral", "Referral"),
        ("", "https://example.com/?ref=producthunt-clone", "Referral"),
        ("", "https://example.com/?utm_source=podcast&utm_medium=audio", "Audio"),
        ("", "https://example.com/?utm_source=sms&utm_campaign=promo", "SMS"),
        ("", "https://example.com/?utm_source=app&utm_medium=push", "Mobile Push Notifications"),
        ("", "https://example.com/?utm_source=firebase", "Mobile Push Notifications"),
    ];
    let mut failures = Vec::new();
    for &(r, page, want) in cases {
        let got = ch(r, page);
        if got != want {
            failures.push(format!(
                "referrer {r:?} page {page:?}: want {want}, got {got}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Every channel is exercised by the table above.
    for name in waymark_enrich::channel::CHANNELS {
        assert!(cases.iter().any(|c| c.2 == *name), "no case for {name}");
    }
}

#[test]
fn channel_ignores_case_and_whitespace() {
    assert_eq!(
        ch(
            "",
            "https://example.com/?utm_source=Google&utm_medium=%20CPC%20"
        ),
        "Paid Search"
    );
    assert_eq!(ch("", "https://example.com/?utm_medium=EMAIL"), "Email");
}

#[test]
fn kinds_drive_channels_directly() {
    let r = |kind| ReferrerSource {
        domain: "x.test".into(),
        source: "X".into(),
        kind,
    };
    let none = Utm::default();
    assert_eq!(channel(&r(RefKind::Search), &none), "Organic Search");
    assert_eq!(channel(&r(RefKind::Social), &none), "Organic Social");
    assert_eq!(channel(&r(RefKind::Video), &none), "Organic Video");
    assert_eq!(channel(&r(RefKind::Shopping), &none), "Organic Shopping");
    assert_eq!(channel(&r(RefKind::Email), &none), "Email");
    assert_eq!(channel(&r(RefKind::Paid), &none), "Display");
    assert_eq!(channel(&r(RefKind::Other), &none), "Referral");
    assert_eq!(channel(&ReferrerSource::none(), &none), "Direct");
}
