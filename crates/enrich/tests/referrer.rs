//! Referrer classification cases: search engines, social sites, mail, apps, same-site and
//! garbage referrers.

use waymark_enrich::{classify_referrer, RefKind, ReferrerSource};

fn rs(domain: &str, source: &str, kind: RefKind) -> ReferrerSource {
    ReferrerSource {
        domain: domain.to_owned(),
        source: source.to_owned(),
        kind,
    }
}

#[test]
fn referrer_table() {
    use RefKind::*;
    let page = "example.com";
    #[rustfmt::skip]
    let cases: &[(&str, ReferrerSource)] = &[
        ("https://www.google.com/", rs("google.com", "Google", Search)),
        ("https://www.google.de/search?q=waymark", rs("google.de", "Google", Search)),
        ("https://www.google.co.uk/", rs("google.co.uk", "Google", Search)),
        ("https://m.facebook.com/", rs("m.facebook.com", "Facebook", Social)),
        ("https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.com", rs("l.facebook.com", "Facebook", Social)),
        ("https://news.ycombinator.com/item?id=1", rs("news.ycombinator.com", "Hacker News", Social)),
        ("https://t.co/AbCdEf", rs("t.co", "Twitter", Social)),
        ("https://duckduckgo.com/", rs("duckduckgo.com", "DuckDuckGo", Search)),
        ("https://www.bing.com/search?q=x", rs("bing.com", "Bing", Search)),
        ("https://www.reddit.com/r/rust/", rs("reddit.com", "Reddit", Social)),
        ("https://www.linkedin.com/feed/", rs("linkedin.com", "LinkedIn", Social)),
        ("https://www.youtube.com/watch?v=1", rs("youtube.com", "YouTube", Video)),
        ("https://mail.google.com/mail/u/0/", rs("mail.google.com", "Gmail", Email)),
        ("https://www.amazon.de/dp/123", rs("amazon.de", "Amazon", Shopping)),
        ("https://ad.doubleclick.net/ddm/clk/1", rs("ad.doubleclick.net", "Doubleclick", Paid)),
        ("https://chatgpt.com/", rs("chatgpt.com", "ChatGPT", Other)),
        ("https://docs.google.com/document/d/1", rs("docs.google.com", "Google", Other)),
        ("https://blog.rust-lang.org/2024/01/01/post.html", rs("blog.rust-lang.org", "blog.rust-lang.org", Other)),
        ("android-app://com.google.android.gm/", rs("com.google.android.gm", "Gmail", Email)),
        ("android-app://com.google.android.googlequicksearchbox", rs("com.google.android.googlequicksearchbox", "Google", Search)),
        ("android-app://com.example.reader/", rs("com.example.reader", "android-app://com.example.reader", Other)),
        // Odd spellings of real referrers.
        ("HTTPS://WWW.GOOGLE.COM./search", rs("google.com", "Google", Search)),
        ("google.com/search?q=x", rs("google.com", "Google", Search)),
        ("https://google.com:443/", rs("google.com", "Google", Search)),
    ];
    assert!(cases.len() >= 15);
    let mut failures = Vec::new();
    for (referrer, want) in cases {
        let got = classify_referrer(referrer, page);
        if &got != want {
            failures.push(format!("{referrer}\n   want {want:?}\n   got  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn same_site_is_none() {
    for (referrer, page) in [
        ("https://www.example.com/pricing", "example.com"),
        ("https://example.com/", "www.example.com"),
        ("https://blog.example.com/post", "www.example.com"),
        ("https://shop.example.co.uk/", "example.co.uk"),
        ("https://example.com/", "example.com:8080"),
        ("https://example.com/", "https://example.com/landing"),
    ] {
        assert_eq!(
            classify_referrer(referrer, page),
            ReferrerSource::none(),
            "{referrer} on {page}"
        );
    }
}

#[test]
fn different_sites_on_a_shared_suffix_are_not_same_site() {
    // github.io is a public suffix: alice's and bob's pages are different sites.
    let got = classify_referrer("https://alice.github.io/post", "bob.github.io");
    assert_eq!(got.domain, "alice.github.io");
    assert_eq!(got.kind, RefKind::Other);
}

#[test]
fn unusable_referrers_are_none_without_panic() {
    let long = format!("https://{}.com/", "a".repeat(100_000));
    for referrer in [
        "",
        "   ",
        "not a url at all",
        "%%%",
        "://",
        "http://",
        "https://",
        "javascript:alert(1)",
        "data:text/html,hi",
        "file:///etc/passwd",
        "about:blank",
        "http://localhost:3000/",
        "http://127.0.0.1/",
        "http://[::1]/",
        "android-app://",
        "android-app://not a package/",
        "\u{0}\u{1}\u{2}",
        "😀😀😀",
    ] {
        assert_eq!(
            classify_referrer(referrer, "example.com"),
            ReferrerSource::none(),
            "{referrer:?}"
        );
    }
    // Garbage that happens to be a URL is still handled, just not as none.
    let _ = classify_referrer(&long, "example.com");
    let _ = classify_referrer("https://xn--80ak6aa92e.com/", "");
    let _ = classify_referrer("https://пример.рф/", "example.com");
}

#[test]
fn empty_page_host_skips_same_site_check() {
    let got = classify_referrer("https://www.google.com/", "");
    assert_eq!(got.source, "Google");
}

#[test]
fn ip_address_referrers() {
    // Different IPs that share trailing octets are not "the same registrable domain".
    let got = classify_referrer("http://192.0.2.1/page", "10.0.2.1");
    assert_eq!(got.domain, "192.0.2.1");
    assert_eq!(got.source, "192.0.2.1");
    assert_eq!(got.kind, RefKind::Other);
    assert_eq!(
        classify_referrer("http://192.0.2.1/page", "192.0.2.1:8080"),
        ReferrerSource::none()
    );
    let v6 = classify_referrer("http://[2001:db8::1]/", "example.com");
    assert_eq!(v6.domain, "[2001:db8::1]");
}
