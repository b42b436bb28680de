//! The enriched event as it is logged and stored: one append-only row per event and site.

use serde::{Deserialize, Serialize};

/// One custom property of an event. Values are always kept as strings (as Plausible does);
/// numeric comparisons parse them at query time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prop {
    pub key: String,
    pub value: String,
}

/// An event after enrichment: everything Waymark keeps about it. It never holds an IP address
/// or a raw user agent — only the keyed visitor hash and the parsed device facts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The site's domain, e.g. `shop.example`.
    pub site_id: String,
    /// Milliseconds since the Unix epoch, UTC.
    pub timestamp_ms: i64,
    /// Keyed daily hash of (salt, site, IP, user agent); see `waymark_collect::identity`.
    pub visitor_id: u64,
    pub session_id: u64,
    /// `pageview`, `engagement`, or a custom event name.
    pub name: String,
    pub hostname: String,
    pub pathname: String,
    /// Registrable domain of the referrer (`google.com`), empty when direct or same-site.
    pub referrer_domain: String,
    /// Human source name (`Google`, `Hacker News`, or a UTM source when no referrer is known).
    pub source: String,
    /// GA4-style channel (`Organic Search`, `Paid Social`, ...).
    pub channel: String,
    pub utm_source: String,
    pub utm_medium: String,
    pub utm_campaign: String,
    pub utm_content: String,
    pub utm_term: String,
    /// ISO 3166-1 alpha-2, empty when unknown.
    pub country: String,
    pub region: String,
    pub city: String,
    /// `Desktop`, `Mobile`, `Tablet`, or empty.
    pub device: String,
    pub browser: String,
    pub browser_version: String,
    pub os: String,
    pub os_version: String,
    pub props: Vec<Prop>,
    pub revenue_amount: Option<f64>,
    /// ISO 4217 currency code of `revenue_amount`.
    pub revenue_currency: String,
    /// Engaged time on the page in milliseconds (engagement events).
    pub engagement_ms: Option<u32>,
    /// Maximum scroll depth in percent, 0..=100 (engagement events).
    pub scroll_depth: Option<u8>,
    /// `false` for events that must not end a bounce (e.g. automatic engagement pings).
    pub interactive: bool,
    /// Set by authenticated server-side senders so that a retried event is stored once.
    pub idempotency_key: String,
}

impl Event {
    /// Looks up a property value by key.
    pub fn prop(&self, key: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|p| p.key == key)
            .map(|p| p.value.as_str())
    }
}
