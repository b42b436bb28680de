//! Visit attributes that funnels and conversion reports are filtered and broken down by:
//! acquisition (source, channel, UTM fields), device, location, entry and exit page, and any
//! custom property (an experiment variant, a plan). An attribute belongs to a visit (session)
//! and is read from its first event (the exit page: its last pageview), so every event of a
//! visit shares it.
//!
//! Filters also take the Stats API's event dimensions (`event:page`, `event:props:KEY`,
//! `event:goal`). A report counts whole visits, so such a filter keeps the visits that include
//! an event the Stats API's filter would keep; every event of those visits then counts.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::trigger::Trigger;

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
    /// The path of the visit's last pageview.
    ExitPage,
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

/// What a filter compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterOn {
    /// An attribute of the visit (`channel`, `visit:entry_page`, `prop:variant`, ...).
    Visit(Attribute),
    /// `event:page`: the path of a pageview or custom event.
    Page,
    /// `event:props:KEY`: an event's property (`(none)` when the event lacks it, as in the
    /// Stats API).
    EventProp(String),
    /// `event:goal`: whether an event matches the named conversions. The triggers are the
    /// conversions the filter names (`=`, `!=`: the one named; `~`: those whose name contains
    /// the text), resolved from the site's definitions before a store sees the filter
    /// (`waymark_insight` does it); empty until then.
    Goal(Vec<Trigger>),
}

/// Keeps only visits whose attribute compares as given (`channel=Email`, `device!=Mobile`,
/// `utm_campaign~spring`), or that include an event that compares as given
/// (`event:page=/pricing`, `event:goal=Signup`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub on: FilterOn,
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
            Attribute::EntryPage | Attribute::ExitPage => "pathname",
            Attribute::Country => "country",
            Attribute::Region => "region",
            Attribute::City => "city",
            Attribute::Device => "device",
            Attribute::Browser => "browser",
            Attribute::Os => "os",
            Attribute::Prop(_) => return None,
        })
    }

    /// Parses `source`, `channel`, `utm_medium`, `entry_page`, `country`, `prop:variant`, ...,
    /// also with the Stats API's `visit:` prefix (`visit:channel`, `visit:exit_page`).
    pub fn parse(name: &str) -> Result<Attribute, String> {
        let n = name.trim();
        let n = n.strip_prefix("visit:").unwrap_or(n);
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
            "exit_page" => Attribute::ExitPage,
            "country" => Attribute::Country,
            "region" => Attribute::Region,
            "city" => Attribute::City,
            "device" => Attribute::Device,
            "browser" => Attribute::Browser,
            "os" => Attribute::Os,
            _ => {
                return Err(format!(
                    "unknown dimension {name:?}: use source, channel, referrer, utm_source, utm_medium, \
                     utm_campaign, utm_content, utm_term, entry_page, exit_page, country, region, city, device, \
                     browser, os, or prop:NAME for a custom property"
                ))
            }
        })
    }

    /// The event's value of this attribute (for the first event of a visit; for the exit
    /// page, pass its last pageview).
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
            Attribute::EntryPage | Attribute::ExitPage => e.pathname.clone(),
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
            Attribute::ExitPage => f.write_str("exit_page"),
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

impl FilterOn {
    /// Parses a visit attribute (see [`Attribute::parse`]) or an event dimension:
    /// `event:page` (or `page`), `event:props:KEY`, `event:goal` (or `goal`).
    pub fn parse(name: &str) -> Result<FilterOn, String> {
        let n = name.trim();
        let event = n.strip_prefix("event:");
        match event.unwrap_or(n) {
            "page" => return Ok(FilterOn::Page),
            "goal" => return Ok(FilterOn::Goal(Vec::new())),
            _ => {}
        }
        if let Some(e) = event {
            return match e.strip_prefix("props:") {
                Some(key) if !key.is_empty() && key.len() <= crate::trigger::MAX_PROP_KEY_BYTES => {
                    Ok(FilterOn::EventProp(key.to_string()))
                }
                Some(_) => Err(format!("{name:?}: name the property, e.g. event:props:variant")),
                None => Err(format!(
                    "unknown event dimension {name:?}: use event:page, event:props:NAME or event:goal"
                )),
            };
        }
        Attribute::parse(n).map(FilterOn::Visit).map_err(|e| {
            format!("{e}; or an event dimension: event:page, event:props:NAME, event:goal")
        })
    }

    /// Whether the filter tests events (kept visits are those that include a matching one).
    pub fn is_event(&self) -> bool {
        !matches!(self, FilterOn::Visit(_))
    }
}

impl fmt::Display for FilterOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterOn::Visit(a) => a.fmt(f),
            FilterOn::Page => f.write_str("event:page"),
            FilterOn::EventProp(k) => write!(f, "event:props:{k}"),
            FilterOn::Goal(_) => f.write_str("event:goal"),
        }
    }
}

impl Filter {
    /// Parses `channel=Email`, `device!=Mobile`, `utm_campaign~spring`, `prop:variant=b`,
    /// `visit:exit_page=/thanks`, `event:page=/pricing`, `event:props:plan=pro`,
    /// `event:goal=Signup`. The operator is the first `=`, `!=` or `~` (dimension names have
    /// none), so values may contain them.
    pub fn parse(s: &str) -> Result<Filter, String> {
        let bad = || {
            format!(
                "filter {s:?}: write dimension=value, dimension!=value or dimension~text (e.g. channel=Email)"
            )
        };
        let at = s.find(['=', '~']).ok_or_else(bad)?;
        let (name, op, value) = if s.as_bytes()[at] == b'~' {
            (&s[..at], FilterOp::Contains, &s[at + 1..])
        } else if at > 0 && s.as_bytes()[at - 1] == b'!' {
            (&s[..at - 1], FilterOp::IsNot, &s[at + 1..])
        } else {
            (&s[..at], FilterOp::Is, &s[at + 1..])
        };
        if name.trim().is_empty() {
            return Err(bad());
        }
        Ok(Filter {
            on: FilterOn::parse(name)?,
            op,
            value: value.trim().to_string(),
        })
    }

    /// A visit-attribute filter (`channel=Email`).
    pub fn visit(attribute: Attribute, op: FilterOp, value: impl Into<String>) -> Filter {
        Filter {
            on: FilterOn::Visit(attribute),
            op,
            value: value.into(),
        }
    }

    /// Whether a visit with attribute value `v` (`None`: property missing) passes, or, for
    /// an event filter, whether an event with value `v` matches.
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
        write!(f, "{}{op}{}", self.on, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_filters_and_attributes() {
        let f = Filter::parse("channel=Organic Search").unwrap();
        assert_eq!(
            (f.on, f.op, f.value.as_str()),
            (
                FilterOn::Visit(Attribute::Channel),
                FilterOp::Is,
                "Organic Search"
            )
        );
        let f = Filter::parse("prop:variant!=b").unwrap();
        assert_eq!(f.on, FilterOn::Visit(Attribute::Prop("variant".into())));
        assert_eq!(f.to_string(), "prop:variant!=b");
        assert!(Filter::parse("channel").is_err());
        assert!(Attribute::parse("colour")
            .unwrap_err()
            .contains("prop:NAME"));
    }

    #[test]
    fn parses_stats_api_dimensions() {
        let f = Filter::parse("visit:exit_page=/thanks").unwrap();
        assert_eq!(f.on, FilterOn::Visit(Attribute::ExitPage));
        assert_eq!(f.to_string(), "exit_page=/thanks");
        assert_eq!(Attribute::parse("visit:channel"), Ok(Attribute::Channel));
        let f = Filter::parse("event:page=/a=b~c").unwrap();
        assert_eq!(
            (f.on.clone(), f.op, f.value.as_str()),
            (FilterOn::Page, FilterOp::Is, "/a=b~c")
        );
        assert!(f.on.is_event());
        let f = Filter::parse("event:props:plan!=pro").unwrap();
        assert_eq!(
            (f.on.clone(), f.op),
            (FilterOn::EventProp("plan".into()), FilterOp::IsNot)
        );
        assert_eq!(f.to_string(), "event:props:plan!=pro");
        let f = Filter::parse("event:goal~Sign").unwrap();
        assert_eq!(
            (f.on, f.op),
            (FilterOn::Goal(Vec::new()), FilterOp::Contains)
        );
        assert_eq!(Filter::parse("goal=X").unwrap().to_string(), "event:goal=X");
        assert!(Filter::parse("event:props:=x").is_err());
        assert!(Filter::parse("event:name=x")
            .unwrap_err()
            .contains("event:page"));
        assert!(Filter::parse("=x").is_err());
    }
}
