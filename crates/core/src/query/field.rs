//! The one vocabulary of what Waymark counts by: [`Field`] names a visit attribute, an event
//! field, a custom property (of the event, or of the visit), a local-time bucket or a goal.
//! Every surface parses field names here (the Stats API's `visit:source`, the reports'
//! `channel` and `prop:variant`) and every store reads them from here; nothing else spells a
//! field. Column names belong to the stores, never to this file.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::trigger::MAX_PROP_KEY_BYTES;

/// An attribute of a visit, read from the visit's first event (entry page and host: its first
/// pageview; exit page and host: its last pageview), so every event of a visit shares it.
/// "First" breaks ties the same way on every backend: earliest timestamp, then a pageview
/// before a custom event before an engagement event, then arrival order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VisitField {
    Source,
    Channel,
    Referrer,
    UtmSource,
    UtmMedium,
    UtmCampaign,
    UtmContent,
    UtmTerm,
    Country,
    Region,
    City,
    Device,
    Browser,
    BrowserVersion,
    Os,
    OsVersion,
    EntryPage,
    ExitPage,
    EntryPageHostname,
    ExitPageHostname,
}

impl VisitField {
    pub const ALL: [VisitField; 20] = [
        VisitField::Source,
        VisitField::Channel,
        VisitField::Referrer,
        VisitField::UtmSource,
        VisitField::UtmMedium,
        VisitField::UtmCampaign,
        VisitField::UtmContent,
        VisitField::UtmTerm,
        VisitField::Country,
        VisitField::Region,
        VisitField::City,
        VisitField::Device,
        VisitField::Browser,
        VisitField::BrowserVersion,
        VisitField::Os,
        VisitField::OsVersion,
        VisitField::EntryPage,
        VisitField::ExitPage,
        VisitField::EntryPageHostname,
        VisitField::ExitPageHostname,
    ];

    /// The Plausible name after `visit:`.
    pub fn name(self) -> &'static str {
        match self {
            VisitField::Source => "source",
            VisitField::Channel => "channel",
            VisitField::Referrer => "referrer",
            VisitField::UtmSource => "utm_source",
            VisitField::UtmMedium => "utm_medium",
            VisitField::UtmCampaign => "utm_campaign",
            VisitField::UtmContent => "utm_content",
            VisitField::UtmTerm => "utm_term",
            VisitField::Country => "country",
            VisitField::Region => "region",
            VisitField::City => "city",
            VisitField::Device => "device",
            VisitField::Browser => "browser",
            VisitField::BrowserVersion => "browser_version",
            VisitField::Os => "os",
            VisitField::OsVersion => "os_version",
            VisitField::EntryPage => "entry_page",
            VisitField::ExitPage => "exit_page",
            VisitField::EntryPageHostname => "entry_page_hostname",
            VisitField::ExitPageHostname => "exit_page_hostname",
        }
    }

    fn parse(name: &str) -> Option<VisitField> {
        let name = if name == "referrer_domain" {
            "referrer"
        } else {
            name
        };
        VisitField::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The visit's value of this field, taken from one of its events: the first event (by the
    /// tie-break above) for acquisition, device and location; the first pageview for the
    /// entry page and host, the last pageview for the exit page and host.
    pub fn value_of(self, e: &crate::Event) -> &str {
        match self {
            VisitField::Source => &e.source,
            VisitField::Channel => &e.channel,
            VisitField::Referrer => &e.referrer_domain,
            VisitField::UtmSource => &e.utm_source,
            VisitField::UtmMedium => &e.utm_medium,
            VisitField::UtmCampaign => &e.utm_campaign,
            VisitField::UtmContent => &e.utm_content,
            VisitField::UtmTerm => &e.utm_term,
            VisitField::Country => &e.country,
            VisitField::Region => &e.region,
            VisitField::City => &e.city,
            VisitField::Device => &e.device,
            VisitField::Browser => &e.browser,
            VisitField::BrowserVersion => &e.browser_version,
            VisitField::Os => &e.os,
            VisitField::OsVersion => &e.os_version,
            VisitField::EntryPage | VisitField::ExitPage => &e.pathname,
            VisitField::EntryPageHostname | VisitField::ExitPageHostname => &e.hostname,
        }
    }

    /// Whether the value comes from the visit's first or last pageview rather than its first
    /// event.
    pub fn from_pageview(self) -> bool {
        matches!(
            self,
            VisitField::EntryPage
                | VisitField::ExitPage
                | VisitField::EntryPageHostname
                | VisitField::ExitPageHostname
        )
    }

    /// Whether the value comes from the visit's last pageview.
    pub fn from_exit(self) -> bool {
        matches!(self, VisitField::ExitPage | VisitField::ExitPageHostname)
    }
}

/// A field of the event itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventField {
    /// The path (`event:page`).
    Page,
    /// The name: `pageview`, `engagement` or a custom event's (`event:name`).
    Name,
    /// The host name (`event:hostname`).
    Hostname,
}

impl EventField {
    pub fn name(self) -> &'static str {
        match self {
            EventField::Page => "page",
            EventField::Name => "name",
            EventField::Hostname => "hostname",
        }
    }

    pub fn value_of(self, e: &crate::Event) -> &str {
        match self {
            EventField::Page => &e.pathname,
            EventField::Name => &e.name,
            EventField::Hostname => &e.hostname,
        }
    }
}

/// Local-time bucket sizes (in the site's zone; weeks start on Monday, months on the 1st).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimeBucket {
    Hour,
    Day,
    Week,
    Month,
}

impl TimeBucket {
    pub fn name(self) -> &'static str {
        match self {
            TimeBucket::Hour => "hour",
            TimeBucket::Day => "day",
            TimeBucket::Week => "week",
            TimeBucket::Month => "month",
        }
    }
}

/// What rows are grouped, filtered and broken down by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// An attribute of the visit (`visit:source`, `channel`, `visit:exit_page`, ...).
    Visit(VisitField),
    /// A field of the event (`event:page`, `event:name`, `event:hostname`).
    Event(EventField),
    /// The event's custom property (`event:props:KEY`); an event without it reads `(none)`.
    Prop(String),
    /// The visit's custom property (`prop:KEY`): its value on the visit's first event that
    /// carries it (an experiment variant, a plan); a visit without it reads as empty.
    VisitProp(String),
    /// The local-time bucket of the event (of the visit's start for visit metrics).
    Time(TimeBucket),
    /// The goal an event counts for (`event:goal`): the site's conversions, by name. An event
    /// matching two goals counts once for each.
    Goal,
}

/// A field name that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FieldError(pub String);

/// Plausible dimensions Waymark does not group by yet (refused by name).
const UNSUPPORTED: &[&str] = &["visit:country_name", "visit:region_name", "visit:city_name"];

impl Field {
    /// Parses a field name as any Waymark surface writes it: the Stats API's `visit:source`,
    /// `event:page`, `event:props:plan`, `event:goal`, `time:day`; the reports' short names
    /// (`source`, `channel`, `referrer`, `utm_medium`, `entry_page`, `country`, ...),
    /// `prop:variant` for a visit's property, `page` and `goal`.
    pub fn parse(name: &str) -> Result<Field, FieldError> {
        let n = name.trim();
        if UNSUPPORTED.contains(&n) {
            return Err(FieldError(format!(
                "dimension {n:?} is not supported by Waymark yet"
            )));
        }
        let prop_key = |key: &str, example: &str| {
            if key.is_empty() || key.len() > MAX_PROP_KEY_BYTES {
                Err(FieldError(format!(
                    "{name:?}: name a property (at most {MAX_PROP_KEY_BYTES} bytes), e.g. {example}"
                )))
            } else {
                Ok(key.to_string())
            }
        };
        if let Some(key) = n.strip_prefix("event:props:") {
            return prop_key(key, "event:props:plan").map(Field::Prop);
        }
        if let Some(key) = n
            .strip_prefix("visit:prop:")
            .or_else(|| n.strip_prefix("prop:"))
            .or_else(|| n.strip_prefix("props."))
        {
            return prop_key(key, "prop:variant").map(Field::VisitProp);
        }
        if let Some(e) = n.strip_prefix("event:") {
            return Ok(match e {
                "page" => Field::Event(EventField::Page),
                "name" => Field::Event(EventField::Name),
                "hostname" => Field::Event(EventField::Hostname),
                "goal" => Field::Goal,
                _ => return Err(unknown(name)),
            });
        }
        if let Some(t) = n.strip_prefix("time") {
            return Ok(Field::Time(match t {
                "" | ":day" => TimeBucket::Day,
                ":hour" => TimeBucket::Hour,
                ":week" => TimeBucket::Week,
                ":month" => TimeBucket::Month,
                _ => return Err(unknown(name)),
            }));
        }
        match n {
            "page" | "pathname" => return Ok(Field::Event(EventField::Page)),
            "goal" => return Ok(Field::Goal),
            _ => {}
        }
        let v = n.strip_prefix("visit:").unwrap_or(n);
        VisitField::parse(&v.to_ascii_lowercase())
            .map(Field::Visit)
            .ok_or_else(|| unknown(name))
    }

    /// Parses a report breakdown: a visit field (`channel`, `entry_page`, `prop:variant`, ...),
    /// as funnels and reports count whole visits.
    pub fn parse_breakdown(name: &str) -> Result<Field, FieldError> {
        match Field::parse(name)? {
            f @ (Field::Visit(_) | Field::VisitProp(_)) => Ok(f),
            other => Err(FieldError(format!(
                "cannot break down by {other}: use a visit attribute (source, channel, referrer, \
                 utm_source, utm_medium, utm_campaign, utm_content, utm_term, entry_page, exit_page, \
                 country, region, city, device, browser, os) or prop:NAME for a custom property"
            ))),
        }
    }

    /// Whether the field belongs to single events (so a filter on it narrows events, and a
    /// visit-scoped filter keeps the visits that include a matching event).
    pub fn is_event(&self) -> bool {
        matches!(self, Field::Event(_) | Field::Prop(_) | Field::Goal)
    }

    /// What an empty value reads as in answers, as in Plausible: `Direct / None` for a visit
    /// without a source or referrer, `(not set)` for other empty visit attributes, `(none)` for
    /// an event without the property. Filters compare against the same label (so
    /// `visit:utm_campaign is (not set)` keeps the visits without a campaign).
    pub fn empty_label(&self) -> Option<&'static str> {
        match self {
            Field::Visit(VisitField::Source | VisitField::Referrer) => Some("Direct / None"),
            Field::Visit(_) => Some("(not set)"),
            Field::Prop(_) => Some("(none)"),
            _ => None,
        }
    }

    /// The value as answers show it: [`Field::empty_label`] for an empty one.
    pub fn label(&self, value: &str) -> String {
        match self.empty_label() {
            Some(l) if value.is_empty() => l.to_string(),
            _ => value.to_string(),
        }
    }
}

fn unknown(name: &str) -> FieldError {
    FieldError(format!(
        "unknown dimension {name:?}: use visit:source, visit:channel, visit:referrer, visit:utm_*, \
         visit:country, visit:region, visit:city, visit:device, visit:browser, visit:browser_version, \
         visit:os, visit:os_version, visit:entry_page, visit:exit_page, visit:entry_page_hostname, \
         visit:exit_page_hostname, event:page, event:name, event:hostname, event:goal, \
         event:props:<key>, prop:<key> (a visit's property) or time:hour|day|week|month"
    ))
}

impl fmt::Display for Field {
    /// The canonical name: `visit:source`, `event:page`, `event:props:plan`, `prop:variant`,
    /// `time:day`, `event:goal`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Visit(v) => write!(f, "visit:{}", v.name()),
            Field::Event(e) => write!(f, "event:{}", e.name()),
            Field::Prop(k) => write!(f, "event:props:{k}"),
            Field::VisitProp(k) => write!(f, "prop:{k}"),
            Field::Time(b) => write!(f, "time:{}", b.name()),
            Field::Goal => f.write_str("event:goal"),
        }
    }
}

impl Field {
    /// The short name reports use (`channel`, `entry_page`, `prop:variant`, `event:page`).
    pub fn short_name(&self) -> String {
        match self {
            Field::Visit(v) => v.name().to_string(),
            other => other.to_string(),
        }
    }
}

impl Serialize for Field {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.short_name())
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Field::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_surface_spelling() {
        let v = |f| Ok(Field::Visit(f));
        assert_eq!(Field::parse("visit:utm_source"), v(VisitField::UtmSource));
        assert_eq!(Field::parse("channel"), v(VisitField::Channel));
        assert_eq!(Field::parse("referrer_domain"), v(VisitField::Referrer));
        assert_eq!(Field::parse("visit:exit_page"), v(VisitField::ExitPage));
        assert_eq!(
            Field::parse("event:page"),
            Ok(Field::Event(EventField::Page))
        );
        assert_eq!(Field::parse("page"), Ok(Field::Event(EventField::Page)));
        assert_eq!(
            Field::parse("event:props:plan"),
            Ok(Field::Prop("plan".into()))
        );
        assert_eq!(
            Field::parse("prop:variant"),
            Ok(Field::VisitProp("variant".into()))
        );
        assert_eq!(Field::parse("time"), Ok(Field::Time(TimeBucket::Day)));
        assert_eq!(Field::parse("time:week"), Ok(Field::Time(TimeBucket::Week)));
        assert_eq!(Field::parse("goal"), Ok(Field::Goal));
        assert!(Field::parse("event:props:").is_err());
        assert!(Field::parse("colour").unwrap_err().0.contains("prop:<key>"));
        assert!(Field::parse("visit:city_name")
            .unwrap_err()
            .0
            .contains("not supported"));
        assert_eq!(Field::Visit(VisitField::Channel).short_name(), "channel");
        assert_eq!(Field::VisitProp("v".into()).to_string(), "prop:v");
    }

    #[test]
    fn empty_values_read_as_plausible_does() {
        let f = Field::Visit(VisitField::UtmCampaign);
        assert_eq!(f.label(""), "(not set)");
        assert_eq!(f.label("spring"), "spring");
        assert_eq!(
            Field::Visit(VisitField::Referrer).label(""),
            "Direct / None"
        );
        assert_eq!(Field::Visit(VisitField::Source).label(""), "Direct / None");
        assert_eq!(Field::Prop("k".into()).label(""), "(none)");
        assert_eq!(Field::Event(EventField::Page).label(""), "");
    }
}
