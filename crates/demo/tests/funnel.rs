//! The funnel of the generated traffic, computed per session in plain Rust: the article's step
//! rates overall, the article's differences between sources, and the planted change.

mod common;

use std::sync::OnceLock;

use common::*;

fn small() -> &'static Vec<Session> {
    static S: OnceLock<Vec<Session>> = OnceLock::new();
    S.get_or_init(|| sessions(&generate(&options(60_000, 7), "funnel-small").0))
}

/// Enough traffic that a two-week mobile social segment has a measurable cart rate.
fn large() -> &'static Vec<Session> {
    static S: OnceLock<Vec<Session>> = OnceLock::new();
    S.get_or_init(|| sessions(&generate(&options(250_000, 7), "funnel-large").0))
}

fn within(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: {got:.1}% is not within {tol} points of {want}%"
    );
}

#[test]
fn step_rates_match_the_article() {
    let f = Funnel::of(small());
    within("visit → Product View", f.view_rate(), 45.0, 5.0);
    within("Product View → Add to Cart", f.cart_rate(), 12.0, 3.0);
    within("Add to Cart → Begin Checkout", f.checkout_rate(), 65.0, 8.0);
    within("Begin Checkout → Purchase", f.purchase_rate(), 70.0, 8.0);
    // Product view → add to cart is clearly the weakest step.
    let weakest = f.view_rate().min(f.checkout_rate()).min(f.purchase_rate());
    assert!(f.cart_rate() < weakest - 20.0, "{f}");
    // The macro conversion rate is the article's ~2.5%.
    let overall = 100.0 * f.purchases as f64 / f.visits as f64;
    within("visit → Purchase", overall, 2.5, 1.0);
}

#[test]
fn sources_differ_as_the_article_describes() {
    let all = large();
    let by = |c: &str| Funnel::of(all.iter().filter(|s| s.channel == c));
    let (overall, social, email, paid, direct) = (
        Funnel::of(all),
        by("Organic Social"),
        by("Email"),
        by("Paid Search"),
        by("Direct"),
    );
    // Social: many product views, few adds to cart.
    assert!(social.view_rate() > overall.view_rate() + 5.0, "{social}");
    assert!(social.cart_rate() < overall.cart_rate() - 4.0, "{social}");
    // Email: straight to checkout.
    assert!(
        email.cart_rate() > 2.0 * social.cart_rate(),
        "{email} vs {social}"
    );
    assert!(email.cart_rate() > overall.cart_rate() + 8.0, "{email}");
    assert!(email.checkout_rate() > overall.checkout_rate(), "{email}");
    // Paid search converts above average, direct is close to it.
    let purchase_per_visit = |f: &Funnel| f.purchases as f64 / f.visits as f64;
    assert!(
        purchase_per_visit(&paid) > purchase_per_visit(&overall),
        "{paid}"
    );
    assert!(
        (purchase_per_visit(&direct) / purchase_per_visit(&overall) - 1.0).abs() < 0.35,
        "{direct}"
    );
}

#[test]
fn add_to_cart_falls_for_mobile_social_in_the_last_two_weeks_only() {
    let all = large();
    let late_from = END_MS - 14 * DAY_MS;
    let split = |channel: &str, device: &str| {
        let seg = || {
            all.iter()
                .filter(move |s| s.channel == channel && s.device == device)
        };
        (
            Funnel::of(seg().filter(|s| s.first_ms < late_from)),
            Funnel::of(seg().filter(|s| s.first_ms >= late_from)),
        )
    };
    let (before, after) = split("Organic Social", "Mobile");
    assert!(after.views > 300, "too little late traffic: {after}");
    assert!(
        after.cart_rate() < 0.6 * before.cart_rate(),
        "mobile social: before {before}\nafter {after}"
    );
    // Its product views did not change: the drop is at add to cart.
    within(
        "mobile social views",
        after.view_rate(),
        before.view_rate(),
        6.0,
    );

    // Desktop search traffic keeps adding to cart as before.
    let (before, after) = split("Organic Search", "Desktop");
    assert!(
        after.cart_rate() > 0.75 * before.cart_rate(),
        "desktop search: before {before}\nafter {after}"
    );
    // So does all other traffic, taken together.
    let others = |late: bool| {
        Funnel::of(all.iter().filter(|s| {
            !(s.channel == "Organic Social" && s.device == "Mobile")
                && (s.first_ms >= late_from) == late
        }))
    };
    let (before, after) = (others(false), others(true));
    let ratio = after.cart_rate() / before.cart_rate();
    assert!(
        (0.85..1.15).contains(&ratio),
        "other traffic: before {before}\nafter {after}"
    );
}
