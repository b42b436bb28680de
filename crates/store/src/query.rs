//! The logical query shapes and results shared by every backend.

/// Dimensions a breakdown can group by. Acquisition and device dimensions are taken from a
/// visit's first event (so a visit counts once); `Page` counts pageviews of each path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Source,
    Channel,
    ReferrerDomain,
    UtmSource,
    UtmMedium,
    UtmCampaign,
    UtmContent,
    UtmTerm,
    EntryPage,
    ExitPage,
    Page,
    Country,
    Region,
    City,
    Device,
    Browser,
    Os,
}

impl Dimension {
    /// The events column behind the dimension.
    pub fn column(self) -> &'static str {
        match self {
            Dimension::Source => "source",
            Dimension::Channel => "channel",
            Dimension::ReferrerDomain => "referrer_domain",
            Dimension::UtmSource => "utm_source",
            Dimension::UtmMedium => "utm_medium",
            Dimension::UtmCampaign => "utm_campaign",
            Dimension::UtmContent => "utm_content",
            Dimension::UtmTerm => "utm_term",
            Dimension::EntryPage | Dimension::ExitPage | Dimension::Page => "pathname",
            Dimension::Country => "country",
            Dimension::Region => "region",
            Dimension::City => "city",
            Dimension::Device => "device",
            Dimension::Browser => "browser",
            Dimension::Os => "os",
        }
    }

    /// Parses the names used by the CLI and API (`source`, `utm_medium`, `entry_page`, ...).
    pub fn parse(name: &str) -> Option<Dimension> {
        Some(match name {
            "source" => Dimension::Source,
            "channel" => Dimension::Channel,
            "referrer" | "referrer_domain" => Dimension::ReferrerDomain,
            "utm_source" => Dimension::UtmSource,
            "utm_medium" => Dimension::UtmMedium,
            "utm_campaign" => Dimension::UtmCampaign,
            "utm_content" => Dimension::UtmContent,
            "utm_term" => Dimension::UtmTerm,
            "entry_page" => Dimension::EntryPage,
            "exit_page" => Dimension::ExitPage,
            "page" | "pathname" => Dimension::Page,
            "country" => Dimension::Country,
            "region" => Dimension::Region,
            "city" => Dimension::City,
            "device" => Dimension::Device,
            "browser" => Dimension::Browser,
            "os" => Dimension::Os,
            _ => return None,
        })
    }
}

/// Top-line numbers for a range.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    pub visitors: u64,
    pub visits: u64,
    pub pageviews: u64,
    pub events: u64,
    /// Percent of visits with at most one interactive event.
    pub bounce_rate: f64,
    /// Mean visit duration in seconds.
    pub visit_duration_s: f64,
}

/// One row of a breakdown.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakdownRow {
    pub value: String,
    pub visitors: u64,
    /// Visits for visit dimensions, pageviews for `Page`.
    pub count: u64,
}

/// A generic result table (`waymark sql`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}
