//! Visit attributes that funnels and conversion reports are filtered and broken down by:
//! acquisition (source, channel, UTM fields), device, location, entry page, and any custom
//! property (an experiment variant, a plan). An attribute belongs to a visit (session) and is
//! read from its first event, so every event of a visit shares it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A visit attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Attribute {
    Source,
    Channel,
    ReferrerDomain,
    UtmSource,
    UtmMedium,
    UtmCampaign,
    UtmContent,
    UtmTerm,
    /// The path of the visit's first pageview.
    EntryPage,
    Country,
    Region,
    City,
    Device,
    Browser,
    Os,
    /// The value of a custom property on the first event of the visit that carries it.
    Prop(String),
}

/// How a filter compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterOp {
    Is,
    IsNot,
    Contains,
}

/// Keeps only visits whose attribute compares as given (`channel=Email`, `device!=Mobile`,
/// `utm_campaign~spring`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub attribute: Attribute,
    pub op: FilterOp,
    pub value: String,
}

impl Attribute {
    /// The events column behind a built-in attribute (`None` for properties).
    pub fn column(&self) -> Option<&'static str> {
        Some(match self {
            Attribute::Source => "source",
            Attribute::Channel => "channel",
            Attribute::ReferrerDomain => "referrer_domain",
            Attribute::UtmSource => "utm_source",
            Attribute::UtmMedium => "utm_medium",
            Attribute::UtmCampaign => "utm_campaign",
            Attribute::UtmContent => "utm_content",
            Attribute::UtmTerm => "utm_term",
            Attribute::EntryPage => "pathname",
            Attribute::Country => "country",
            Attribute::Region => "region",
            Attribute::City => "city",
            Attribute::Device => "device",
            Attribute::Browser => "browser",
            Attribute::Os => "os",
            Attribute::Prop(_) => return None,
        })
    }

    /// Parses `source`, `channel`, `utm_medium`, `entry_page`, `country`, `prop:variant`, ...
    pub fn parse(name: &str) -> Result<Attribute, String> {
        let n = name.trim();
        if let Some(key) = n.strip_prefix("prop:").or_else(|| n.strip_prefix("props.")) {
            if key.is_empty() || key.len() > crate::trigger::MAX_PROP_KEY_BYTES {
                return Err(format!("{name:?}: name the property, e.g. prop:variant"));
            }
            return Ok(Attribute::Prop(key.to_string()));
        }
        Ok(match n.to_ascii_lowercase().as_str() {
            "source" => Attribute::Source,
            "channel" => Attribute::Channel,
            "referrer" | "referrer_domain" => Attribute::ReferrerDomain,
            "utm_source" => Attribute::UtmSource,
            "utm_medium" => Attribute::UtmMedium,
            "utm_campaign" => Attribute::UtmCampaign,
            "utm_content" => Attribute::UtmContent,
            "utm_term" => Attribute::UtmTerm,
            "entry_page" => Attribute::EntryPage,
            "country" => Attribute::Country,
            "region" => Attribute::Region,
            "city" => Attribute::City,
            "device" => Attribute::Device,
            "browser" => Attribute::Browser,
            "os" => Attribute::Os,
            _ => {
                return Err(format!(
                    "unknown dimension {name:?}: use source, channel, referrer, utm_source, utm_medium, \
                     utm_campaign, utm_content, utm_term, entry_page, country, region, city, device, \
                     browser, os, or prop:NAME for a custom property"
                ))
            }
        })
    }

    /// The event's value of this attribute (for the first event of a visit).
    pub fn value_of(&self, e: &crate::Event) -> Option<String> {
        Some(match self {
            Attribute::Source => e.source.clone(),
            Attribute::Channel => e.channel.clone(),
            Attribute::ReferrerDomain => e.referrer_domain.clone(),
            Attribute::UtmSource => e.utm_source.clone(),
            Attribute::UtmMedium => e.utm_medium.clone(),
            Attribute::UtmCampaign => e.utm_campaign.clone(),
            Attribute::UtmContent => e.utm_content.clone(),
            Attribute::UtmTerm => e.utm_term.clone(),
            Attribute::EntryPage => e.pathname.clone(),
            Attribute::Country => e.country.clone(),
            Attribute::Region => e.region.clone(),
            Attribute::City => e.city.clone(),
            Attribute::Device => e.device.clone(),
            Attribute::Browser => e.browser.clone(),
            Attribute::Os => e.os.clone(),
            Attribute::Prop(k) => return e.prop(k).map(str::to_string),
        })
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Attribute::Prop(k) => write!(f, "prop:{k}"),
            Attribute::ReferrerDomain => f.write_str("referrer"),
            Attribute::EntryPage => f.write_str("entry_page"),
            other => f.write_str(other.column().unwrap_or("")),
        }
    }
}

impl Serialize for Attribute {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Attribute {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Attribute::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Filter {
    /// Parses `channel=Email`, `device!=Mobile`, `utm_campaign~spring`, `prop:variant=b`.
    pub fn parse(s: &str) -> Result<Filter, String> {
        let (name, op, value) = if let Some((a, b)) = s.split_once("!=") {
            (a, FilterOp::IsNot, b)
        } else if let Some((a, b)) = s.split_once('~') {
            (a, FilterOp::Contains, b)
        } else if let Some((a, b)) = s.split_once('=') {
            (a, FilterOp::Is, b)
        } else {
            return Err(format!(
                "filter {s:?}: write dimension=value, dimension!=value or dimension~text (e.g. channel=Email)"
            ));
        };
        Ok(Filter {
            attribute: Attribute::parse(name)?,
            op,
            value: value.trim().to_string(),
        })
    }

    /// Whether a visit with attribute value `v` (`None`: property missing) passes.
    pub fn keeps(&self, v: Option<&str>) -> bool {
        let v = v.unwrap_or("");
        match self.op {
            FilterOp::Is => v == self.value,
            FilterOp::IsNot => v != self.value,
            FilterOp::Contains => v.contains(self.value.as_str()),
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            FilterOp::Is => "=",
            FilterOp::IsNot => "!=",
            FilterOp::Contains => "~",
        };
        write!(f, "{}{op}{}", self.attribute, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_filters_and_attributes() {
        let f = Filter::parse("channel=Organic Search").unwrap();
        assert_eq!(
            (f.attribute, f.op, f.value.as_str()),
            (Attribute::Channel, FilterOp::Is, "Organic Search")
        );
        let f = Filter::parse("prop:variant!=b").unwrap();
        assert_eq!(f.attribute, Attribute::Prop("variant".into()));
        assert_eq!(f.to_string(), "prop:variant!=b");
        assert!(Filter::parse("channel").is_err());
        assert!(Attribute::parse("colour")
            .unwrap_err()
            .contains("prop:NAME"));
    }
}
