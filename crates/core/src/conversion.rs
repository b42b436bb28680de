//! Conversion definitions: a named, precise trigger that is either a micro conversion (a step
//! that signals progress) or a macro conversion (the goal the business lives on), optionally
//! carrying a value. Definitions are matched at query time, so they apply to past events too.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::trigger::Trigger;

/// Longest conversion or funnel name.
pub const MAX_DEFINITION_NAME: usize = 120;

/// Micro (a step towards the goal) or macro (the goal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversionKind {
    Macro,
    Micro,
}

/// What one conversion is worth.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ConversionValue {
    /// No value.
    #[default]
    None,
    /// The revenue sent with the event (`revenue: {amount, currency}`).
    Revenue,
    /// A fixed amount per conversion (e.g. the estimated value of a lead).
    Fixed { amount: f64, currency: String },
}

/// A conversion definition for one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conversion {
    pub name: String,
    pub kind: ConversionKind,
    pub trigger: Trigger,
    #[serde(default, skip_serializing_if = "ConversionValue::is_none")]
    pub value: ConversionValue,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// What saving a definition did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Created,
    Updated,
    Unchanged,
}

/// Why a definition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DefinitionError {
    /// The offending field, e.g. `name`, `trigger`, `steps[2]`, `window`.
    pub field: String,
    pub message: String,
    /// The definition is valid but this configuration cannot honour it (a window longer than
    /// cookieless identity can link), rather than malformed.
    pub unsupported: bool,
}

impl DefinitionError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> DefinitionError {
        DefinitionError {
            field: field.into(),
            message: message.into(),
            unsupported: false,
        }
    }

    /// A valid definition this configuration cannot honour.
    pub fn unsupported(field: impl Into<String>, message: impl Into<String>) -> DefinitionError {
        DefinitionError {
            unsupported: true,
            ..DefinitionError::new(field, message)
        }
    }

    /// The top-level field of [`DefinitionError::field`]: `steps[2]` and `steps[2].trigger`
    /// are in `steps`.
    pub fn top_field(&self) -> &str {
        let end = self.field.find(['[', '.']).unwrap_or(self.field.len());
        &self.field[..end]
    }
}

/// Checks a conversion or funnel name: 1 to 120 characters, no control characters, no
/// surrounding spaces.
pub fn check_name(name: &str) -> Result<(), DefinitionError> {
    if name.trim().is_empty() {
        return Err(DefinitionError::new("name", "a name is required"));
    }
    if name.trim() != name {
        return Err(DefinitionError::new(
            "name",
            format!("{name:?} has leading or trailing spaces"),
        ));
    }
    if name.chars().count() > MAX_DEFINITION_NAME {
        return Err(DefinitionError::new(
            "name",
            format!("names are at most {MAX_DEFINITION_NAME} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(DefinitionError::new(
            "name",
            "names may not contain control characters",
        ));
    }
    Ok(())
}

impl ConversionValue {
    pub fn is_none(&self) -> bool {
        matches!(self, ConversionValue::None)
    }

    /// Parses `revenue`, `none`, or a fixed amount such as `25 EUR` / `25EUR` / `25`.
    pub fn parse(s: &str) -> Result<ConversionValue, String> {
        let t = s.trim();
        match t.to_ascii_lowercase().as_str() {
            "" | "none" => return Ok(ConversionValue::None),
            "revenue" => return Ok(ConversionValue::Revenue),
            _ => {}
        }
        let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
        let (num, cur) = t.split_at(split);
        let amount: f64 = num.trim().parse().map_err(|_| {
            format!("value {s:?}: use `revenue`, or a fixed amount such as `25 EUR`")
        })?;
        let currency = cur.trim().to_ascii_uppercase();
        let value = ConversionValue::Fixed { amount, currency };
        value.check().map_err(|e| e.message)?;
        Ok(value)
    }

    fn check(&self) -> Result<(), DefinitionError> {
        if let ConversionValue::Fixed { amount, currency } = self {
            if !amount.is_finite() || *amount < 0.0 {
                return Err(DefinitionError::new(
                    "value",
                    "a fixed value must be a positive number",
                ));
            }
            if !(currency.is_empty()
                || (currency.len() == 3 && currency.chars().all(|c| c.is_ascii_uppercase())))
            {
                return Err(DefinitionError::new(
                    "value",
                    format!("currency {currency:?} is not an ISO 4217 code such as EUR"),
                ));
            }
        }
        Ok(())
    }
}

impl fmt::Display for ConversionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConversionValue::None => f.write_str("none"),
            ConversionValue::Revenue => f.write_str("revenue"),
            ConversionValue::Fixed { amount, currency } if currency.is_empty() => {
                write!(f, "{amount}")
            }
            ConversionValue::Fixed { amount, currency } => write!(f, "{amount} {currency}"),
        }
    }
}

impl Serialize for ConversionValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        match self {
            ConversionValue::Fixed { amount, currency } => {
                let mut st = s.serialize_struct("ConversionValue", 2)?;
                st.serialize_field("amount", amount)?;
                st.serialize_field("currency", currency)?;
                st.end()
            }
            other => s.serialize_str(&other.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for ConversionValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(f64),
            Fixed {
                amount: f64,
                #[serde(default)]
                currency: String,
            },
        }
        let value = match Raw::deserialize(d)? {
            Raw::Text(s) => ConversionValue::parse(&s).map_err(serde::de::Error::custom)?,
            Raw::Number(amount) => ConversionValue::Fixed {
                amount,
                currency: String::new(),
            },
            Raw::Fixed { amount, currency } => ConversionValue::Fixed {
                amount,
                currency: currency.to_ascii_uppercase(),
            },
        };
        value
            .check()
            .map_err(|e| serde::de::Error::custom(e.message))?;
        Ok(value)
    }
}

impl fmt::Display for ConversionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConversionKind::Macro => "macro",
            ConversionKind::Micro => "micro",
        })
    }
}

impl std::str::FromStr for ConversionKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "macro" => Ok(ConversionKind::Macro),
            "micro" => Ok(ConversionKind::Micro),
            _ => Err(format!("kind {s:?}: use micro or macro")),
        }
    }
}

impl Conversion {
    /// A micro conversion without value.
    pub fn micro(name: &str, trigger: Trigger) -> Conversion {
        Conversion {
            name: name.to_string(),
            kind: ConversionKind::Micro,
            trigger,
            value: ConversionValue::None,
            description: String::new(),
        }
    }

    /// A macro conversion with the given value.
    pub fn macro_goal(name: &str, trigger: Trigger, value: ConversionValue) -> Conversion {
        Conversion {
            kind: ConversionKind::Macro,
            value,
            ..Conversion::micro(name, trigger)
        }
    }

    /// Adds a description.
    pub fn described(mut self, description: &str) -> Conversion {
        self.description = description.to_string();
        self
    }

    /// Checks name, value and description (the trigger is valid by construction).
    pub fn validate(&self) -> Result<(), DefinitionError> {
        check_name(&self.name)?;
        self.value.check()?;
        if self.description.len() > 2_000 {
            return Err(DefinitionError::new(
                "description",
                "descriptions are at most 2000 bytes",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_and_serialise() {
        assert_eq!(
            ConversionValue::parse("revenue"),
            Ok(ConversionValue::Revenue)
        );
        assert_eq!(
            ConversionValue::parse("25 eur"),
            Ok(ConversionValue::Fixed {
                amount: 25.0,
                currency: "EUR".into()
            })
        );
        assert!(ConversionValue::parse("-3 EUR").is_err());
        assert!(ConversionValue::parse("lots").is_err());
        assert!(ConversionValue::parse("3 EURO").is_err());
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("Add to Cart").is_ok());
        assert_eq!(check_name(" x").unwrap_err().field, "name");
        assert!(check_name("").is_err());
        assert!(check_name(&"x".repeat(121)).is_err());
    }
}
