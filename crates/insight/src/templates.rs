//! Ready-made conversions and a default funnel for the article's four business types
//! (e-commerce, SaaS, content/media, B2B services), each with the tracker call it expects.
//! Applying one creates what is missing and keeps definitions that already exist, so edits
//! survive a second application.

use serde::Serialize;
use waymark_core::{Conversion, ConversionValue, Funnel, FunnelStep, StepOrder, Trigger, Window};

/// One template conversion and how a site sends it.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateConversion {
    #[serde(flatten)]
    pub conversion: Conversion,
    /// The tracker call (or page) that produces the event.
    pub tracker: &'static str,
}

/// A business template.
#[derive(Debug, Clone, Serialize)]
pub struct Template {
    /// `ecommerce`, `saas`, `content`, `b2b`.
    pub id: &'static str,
    /// The business type as the article names it.
    pub business: &'static str,
    pub macro_goal: &'static str,
    pub conversions: Vec<TemplateConversion>,
    pub funnel: Funnel,
}

fn trigger(text: &str) -> Trigger {
    // Templates are fixed text; `templates_parse` below keeps them valid.
    text.parse().unwrap_or_else(|_| Trigger::event(text))
}

fn micro(name: &str, t: &str, description: &str, tracker: &'static str) -> TemplateConversion {
    TemplateConversion {
        conversion: Conversion::micro(name, trigger(t)).described(description),
        tracker,
    }
}

fn goal(
    name: &str,
    t: &str,
    value: ConversionValue,
    description: &str,
    tracker: &'static str,
) -> TemplateConversion {
    TemplateConversion {
        conversion: Conversion::macro_goal(name, trigger(t), value).described(description),
        tracker,
    }
}

fn funnel(name: &str, window: Window, steps: Vec<FunnelStep>) -> Funnel {
    Funnel {
        name: name.to_string(),
        steps,
        window,
        order: StepOrder::Strict,
    }
}

fn visit() -> FunnelStep {
    FunnelStep::trigger("Visit", Trigger::any_pageview())
}

fn step(label: &str, conversion: &str) -> FunnelStep {
    FunnelStep {
        label: label.to_string(),
        ..FunnelStep::conversion(conversion)
    }
}

/// All templates.
pub fn templates() -> Vec<Template> {
    vec![
        Template {
            id: "ecommerce",
            business: "E-commerce",
            macro_goal: "Purchase",
            conversions: vec![
                micro(
                    "Product View",
                    "pageview /products/* where engaged >= 5s",
                    "Product detail page loaded, 5+ seconds on page",
                    "(automatic: a pageview of /products/<slug> and its engagement; adjust the path)",
                ),
                micro(
                    "Search",
                    "event Search where results >= 1",
                    "Search query submitted with 1+ results",
                    "waymark('Search', {props: {query: q, results: n}})",
                ),
                micro(
                    "Filter",
                    "event Filter",
                    "Category or attribute filter applied",
                    "waymark('Filter', {props: {facet: 'colour', value: 'red'}})",
                ),
                micro(
                    "Add to Cart",
                    "event \"Add to Cart\"",
                    "Item added to cart (button click confirmed)",
                    "waymark('Add to Cart', {props: {product: name, price: 49.9}})",
                ),
                micro(
                    "Add to Wishlist",
                    "event \"Add to Wishlist\"",
                    "Item saved to the wishlist",
                    "waymark('Add to Wishlist', {props: {product: name}})",
                ),
                micro(
                    "Begin Checkout",
                    "event \"Begin Checkout\" where items >= 1",
                    "Checkout page loaded with items in cart",
                    "waymark('Begin Checkout', {props: {items: cart.length}})",
                ),
                goal(
                    "Purchase",
                    "event Purchase",
                    ConversionValue::Revenue,
                    "Order completed; its revenue is the value",
                    "waymark('Purchase', {revenue: {amount: 89.90, currency: 'EUR'}, props: {items: 2}})",
                ),
            ],
            funnel: funnel(
                "Checkout",
                Window::Session,
                vec![
                    visit(),
                    FunnelStep::conversion("Product View"),
                    FunnelStep::conversion("Add to Cart"),
                    FunnelStep::conversion("Begin Checkout"),
                    FunnelStep::conversion("Purchase"),
                ],
            ),
        },
        Template {
            id: "saas",
            business: "SaaS",
            macro_goal: "Paid Subscription",
            conversions: vec![
                micro(
                    "View Pricing",
                    "pageview /pricing",
                    "Pricing page viewed",
                    "(automatic: a pageview of /pricing)",
                ),
                micro(
                    "Start Trial",
                    "event \"Start Trial\"",
                    "Free trial started",
                    "waymark('Start Trial', {props: {plan: 'pro'}})",
                ),
                micro(
                    "Complete Onboarding",
                    "event \"Onboarding Complete\"",
                    "Onboarding checklist finished",
                    "waymark('Onboarding Complete')",
                ),
                micro(
                    "Use Key Feature",
                    "event \"Key Feature Used\"",
                    "The feature that predicts retention was used",
                    "waymark('Key Feature Used', {props: {feature: 'reports'}})",
                ),
                micro(
                    "Invite Team Member",
                    "event \"Invite Sent\"",
                    "A team member was invited",
                    "waymark('Invite Sent')",
                ),
                goal(
                    "Paid Subscription",
                    "event Subscribe",
                    ConversionValue::Revenue,
                    "Paid plan bought; its first payment is the value",
                    "waymark('Subscribe', {revenue: {amount: 29, currency: 'EUR'}, props: {plan: 'pro'}})",
                ),
            ],
            funnel: funnel(
                "Trial",
                Window::Duration(waymark_core::funnel::DEFAULT_WINDOW_MS),
                vec![
                    visit(),
                    FunnelStep::conversion("View Pricing"),
                    FunnelStep::conversion("Start Trial"),
                    FunnelStep::conversion("Complete Onboarding"),
                    FunnelStep::conversion("Paid Subscription"),
                ],
            ),
        },
        Template {
            id: "content",
            business: "Content/Media",
            macro_goal: "Subscription",
            conversions: vec![
                micro(
                    "Read Article",
                    "pageview /blog/** where engaged >= 30s and scroll >= 75%",
                    "Article read: 30+ seconds engaged and scrolled to 75%",
                    "(automatic: pageviews of /blog/... and their engagement; adjust the path)",
                ),
                micro(
                    "Share",
                    "event Share",
                    "Article shared",
                    "waymark('Share', {props: {network: 'mastodon'}})",
                ),
                micro(
                    "Comment",
                    "event Comment",
                    "Comment posted",
                    "waymark('Comment')",
                ),
                micro(
                    "Newsletter Signup",
                    "event \"Newsletter Signup\"",
                    "Newsletter subscription confirmed",
                    "waymark('Newsletter Signup')",
                ),
                goal(
                    "Subscription",
                    "event Subscribe",
                    ConversionValue::Revenue,
                    "Paid subscription bought",
                    "waymark('Subscribe', {revenue: {amount: 8, currency: 'EUR'}})",
                ),
            ],
            // "Read 3+ articles": the same conversion as three steps, each a later event.
            funnel: funnel(
                "Reader",
                Window::Session,
                vec![
                    visit(),
                    step("Read 1 article", "Read Article"),
                    step("Read 2 articles", "Read Article"),
                    step("Read 3 articles", "Read Article"),
                    FunnelStep::conversion("Subscription"),
                ],
            ),
        },
        Template {
            id: "b2b",
            business: "B2B Services",
            macro_goal: "Contact Request",
            conversions: vec![
                micro(
                    "Download Whitepaper",
                    "event \"File Download\" where url contains whitepaper",
                    "A whitepaper was downloaded",
                    "(automatic with script.full.js: file-download clicks; name the file *whitepaper*)",
                ),
                micro(
                    "Watch Demo Video",
                    "event \"Demo Video\" where progress >= 50",
                    "Half or more of the demo video watched",
                    "waymark('Demo Video', {props: {progress: 50}})",
                ),
                micro(
                    "View Pricing",
                    "pageview /pricing",
                    "Pricing page viewed",
                    "(automatic: a pageview of /pricing)",
                ),
                micro(
                    "Use Calculator",
                    "event \"Calculator Used\"",
                    "The ROI/price calculator produced a result",
                    "waymark('Calculator Used')",
                ),
                goal(
                    "Contact Request",
                    "event \"Contact Request\"",
                    ConversionValue::None,
                    "Contact form sent (give it a fixed lead value if you know one)",
                    "waymark('Contact Request')",
                ),
            ],
            funnel: funnel(
                "Lead",
                Window::Duration(waymark_core::funnel::DEFAULT_WINDOW_MS),
                vec![
                    visit(),
                    FunnelStep::conversion("View Pricing"),
                    FunnelStep::conversion("Contact Request"),
                ],
            ),
        },
    ]
}

/// A template by id or alias (`e-commerce`, `shop`, `media`, `b2b-services`, ...).
pub fn template(id: &str) -> Option<Template> {
    let key: String = id
        .trim()
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let id = match key.as_str() {
        "ecommerce" | "shop" | "store" => "ecommerce",
        "saas" | "software" => "saas",
        "content" | "media" | "contentmedia" | "publisher" => "content",
        "b2b" | "b2bservices" | "services" => "b2b",
        _ => return None,
    };
    templates().into_iter().find(|t| t.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use waymark_core::{IdentityMode, StepSource};

    #[test]
    fn templates_parse_and_their_funnels_refer_to_their_conversions() {
        let all = templates();
        assert_eq!(all.len(), 4);
        for t in &all {
            for c in &t.conversions {
                // `trigger()` falls back to an event name; the fallback must never be needed.
                let text = c.conversion.trigger.to_string();
                assert!(text.parse::<Trigger>().is_ok(), "{text}");
                c.conversion.validate().unwrap();
            }
            assert_eq!(
                t.conversions
                    .iter()
                    .filter(|c| c.conversion.kind == waymark_core::ConversionKind::Macro)
                    .count(),
                1,
                "{}",
                t.id
            );
            t.funnel.validate(IdentityMode::Cookieless).unwrap();
            for s in &t.funnel.steps {
                if let StepSource::Conversion(name) = &s.source {
                    assert!(
                        t.conversions.iter().any(|c| &c.conversion.name == name),
                        "{name}"
                    );
                }
            }
        }
        assert_eq!(template("E-Commerce").map(|t| t.id), Some("ecommerce"));
        assert_eq!(template("content/media").map(|t| t.id), Some("content"));
        assert!(template("casino").is_none());
    }

    #[test]
    fn ecommerce_templates_use_the_articles_definitions() {
        let t = template("ecommerce").unwrap();
        let pv = &t.conversions[0].conversion;
        assert_eq!(
            pv.trigger.to_string(),
            "pageview /products/* where engaged >= 5s"
        );
        let search = &t.conversions[1].conversion;
        assert_eq!(
            search.trigger.to_string(),
            "event Search where results >= 1"
        );
    }
}
