//! Funnel definitions: 2 to 20 ordered steps (each a saved conversion or an inline trigger), a
//! conversion window (same session, or a duration) and an ordering rule (`strict`, `sequence`,
//! `any`). The semantics are written down in `docs/funnels.md`; stores implement them once.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::conversion::{check_name, DefinitionError};
use crate::trigger::Trigger;

/// Fewest steps a funnel has.
pub const MIN_STEPS: usize = 2;
/// Most steps a funnel has.
pub const MAX_STEPS: usize = 20;
/// The default conversion window.
pub const DEFAULT_WINDOW_MS: i64 = 24 * 3_600_000;
/// The longest window cookieless identity can link (visitor ids rotate daily).
pub const COOKIELESS_MAX_WINDOW_MS: i64 = 24 * 3_600_000;

/// How long a visitor has to complete the funnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Every step in one visit (session).
    Session,
    /// The last step at most this many ms after the first.
    Duration(i64),
}

/// Whether and how the steps must be ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepOrder {
    /// In the given order, other events (even other steps) allowed between.
    #[default]
    Strict,
    /// In the given order, with no other funnel-step event between two steps.
    Sequence,
    /// In any order.
    Any,
}

/// How visitors are identified, which bounds the windows a funnel can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdentityMode {
    /// The default: a daily-salted hash, so visits on different days are different visitors.
    #[default]
    Cookieless,
    /// The operator holds consent and the tracker keeps a first-party id.
    Consented,
}

/// What a step matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepSource {
    /// A saved conversion of the same site, by name (its current trigger is used).
    Conversion(String),
    /// A trigger written into the funnel.
    Trigger(Trigger),
}

/// One funnel step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelStep {
    /// What reports show; defaults to the conversion name or the trigger text.
    pub label: String,
    pub source: StepSource,
}

/// A funnel definition for one site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Funnel {
    pub name: String,
    pub steps: Vec<FunnelStep>,
    #[serde(default)]
    pub window: Window,
    #[serde(default)]
    pub order: StepOrder,
}

impl Default for Window {
    fn default() -> Self {
        Window::Duration(DEFAULT_WINDOW_MS)
    }
}

impl Window {
    /// Parses `session`, or a duration such as `30m`, `2h`, `24h`, `1d`, `7d`.
    pub fn parse(s: &str) -> Result<Window, String> {
        let t = s.trim().to_ascii_lowercase();
        if t == "session" || t == "visit" {
            return Ok(Window::Session);
        }
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: i64 = num.parse().map_err(|_| {
            format!("window {s:?}: use session, or a duration such as 30m, 2h, 24h or 7d")
        })?;
        let factor = match unit {
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(format!("window {s:?}: the unit is m, h or d (e.g. 24h)")),
        };
        if n <= 0 || n > 366 * 24 * 60 {
            return Err(format!("window {s:?} is out of range"));
        }
        let ms = n * factor;
        if ms > 366 * 86_400_000 {
            return Err(format!("window {s:?} is longer than a year"));
        }
        Ok(Window::Duration(ms))
    }

    /// Refuses windows the identity mode cannot honour.
    pub fn check(&self, mode: IdentityMode) -> Result<(), DefinitionError> {
        match (self, mode) {
            (Window::Duration(ms), IdentityMode::Cookieless) if *ms > COOKIELESS_MAX_WINDOW_MS => {
                Err(DefinitionError::unsupported(
                    "window",
                    format!(
                        "a {self} window needs consented identity mode: in the default cookieless mode \
                         visitor ids are derived from a salt that rotates every day, so visits on \
                         different days cannot be linked to one visitor and no funnel can span more \
                         than 24h (use 24h or less, or `session`)"
                    ),
                ))
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Window::Session => f.write_str("session"),
            Window::Duration(ms) if ms % 86_400_000 == 0 && *ms > 86_400_000 => {
                write!(f, "{}d", ms / 86_400_000)
            }
            Window::Duration(ms) if ms % 3_600_000 == 0 => write!(f, "{}h", ms / 3_600_000),
            Window::Duration(ms) if ms % 60_000 == 0 => write!(f, "{}m", ms / 60_000),
            Window::Duration(ms) => write!(f, "{ms}ms"),
        }
    }
}

impl Serialize for Window {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Window {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Window::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for StepOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepOrder::Strict => "strict",
            StepOrder::Sequence => "sequence",
            StepOrder::Any => "any",
        })
    }
}

impl std::str::FromStr for StepOrder {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "strict" => Ok(StepOrder::Strict),
            "sequence" => Ok(StepOrder::Sequence),
            "any" => Ok(StepOrder::Any),
            _ => Err(format!("order {s:?}: use strict, sequence or any")),
        }
    }
}

impl FunnelStep {
    /// A step on a saved conversion, labelled with its name.
    pub fn conversion(name: &str) -> FunnelStep {
        FunnelStep {
            label: name.to_string(),
            source: StepSource::Conversion(name.to_string()),
        }
    }

    /// A step on an inline trigger.
    pub fn trigger(label: &str, trigger: Trigger) -> FunnelStep {
        FunnelStep {
            label: label.to_string(),
            source: StepSource::Trigger(trigger),
        }
    }
}

/// A step as written in JSON or TOML: a conversion name, or a table with `label` and one of
/// `conversion` / `trigger`.
#[derive(Deserialize)]
#[serde(untagged)]
enum StepSpec {
    Name(String),
    Table {
        #[serde(default)]
        label: Option<String>,
        #[serde(default)]
        conversion: Option<String>,
        #[serde(default)]
        trigger: Option<String>,
    },
}

impl<'de> Deserialize<'de> for FunnelStep {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match StepSpec::deserialize(d)? {
            StepSpec::Name(n) => Ok(FunnelStep::conversion(&n)),
            StepSpec::Table {
                label,
                conversion,
                trigger,
            } => {
                let step = match (conversion, trigger) {
                    (Some(c), None) => FunnelStep::conversion(&c),
                    (None, Some(t)) => {
                        let trig: Trigger = t
                            .parse()
                            .map_err(|e| D::Error::custom(format!("trigger: {e}")))?;
                        FunnelStep::trigger(&t, trig)
                    }
                    _ => {
                        return Err(D::Error::custom(
                            "a step names either a `conversion` or an inline `trigger`",
                        ))
                    }
                };
                Ok(match label {
                    Some(l) => FunnelStep { label: l, ..step },
                    None => step,
                })
            }
        }
    }
}

impl Serialize for FunnelStep {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("FunnelStep", 2)?;
        st.serialize_field("label", &self.label)?;
        match &self.source {
            StepSource::Conversion(c) => st.serialize_field("conversion", c)?,
            StepSource::Trigger(t) => st.serialize_field("trigger", t)?,
        }
        st.end()
    }
}

impl Funnel {
    /// Checks name, step count, labels and window for the identity mode.
    pub fn validate(&self, mode: IdentityMode) -> Result<(), DefinitionError> {
        check_name(&self.name)?;
        if self.steps.len() < MIN_STEPS || self.steps.len() > MAX_STEPS {
            return Err(DefinitionError::new(
                "steps",
                format!(
                    "a funnel has {MIN_STEPS} to {MAX_STEPS} steps; this one has {}",
                    self.steps.len()
                ),
            ));
        }
        for (i, s) in self.steps.iter().enumerate() {
            let field = format!("steps[{}]", i + 1);
            if s.label.trim().is_empty() || s.label.chars().count() > 200 {
                return Err(DefinitionError::new(
                    field,
                    "step labels are 1 to 200 characters",
                ));
            }
            if let StepSource::Conversion(c) = &s.source {
                check_name(c).map_err(|e| DefinitionError::new(field, e.message))?;
            }
        }
        self.window.check(mode)
    }

    /// The conversions the funnel refers to.
    pub fn conversion_names(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().filter_map(|s| match &s.source {
            StepSource::Conversion(c) => Some(c.as_str()),
            StepSource::Trigger(_) => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse_and_cookieless_mode_refuses_long_ones() {
        assert_eq!(Window::parse("session"), Ok(Window::Session));
        assert_eq!(Window::parse("30m"), Ok(Window::Duration(1_800_000)));
        assert_eq!(Window::parse("7d"), Ok(Window::Duration(7 * 86_400_000)));
        assert_eq!(Window::Duration(7 * 86_400_000).to_string(), "7d");
        assert_eq!(Window::Duration(86_400_000).to_string(), "24h");
        assert!(Window::parse("3 weeks").is_err());
        assert!(Window::parse("24h")
            .unwrap()
            .check(IdentityMode::Cookieless)
            .is_ok());
        let e = Window::parse("2d")
            .unwrap()
            .check(IdentityMode::Cookieless)
            .unwrap_err();
        assert!(
            e.message.contains("consented") && e.message.contains("rotates every day"),
            "{e}"
        );
        assert!(Window::parse("2d")
            .unwrap()
            .check(IdentityMode::Consented)
            .is_ok());
    }

    #[test]
    fn step_counts_are_bounded() {
        let step = FunnelStep::trigger("Visit", Trigger::any_pageview());
        let mut f = Funnel {
            name: "F".into(),
            steps: vec![step.clone()],
            window: Window::Session,
            order: StepOrder::Strict,
        };
        assert_eq!(
            f.validate(IdentityMode::Cookieless).unwrap_err().field,
            "steps"
        );
        f.steps = vec![step; 20];
        assert!(f.validate(IdentityMode::Cookieless).is_ok());
    }
}
