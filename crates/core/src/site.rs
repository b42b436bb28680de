//! A measured site: its domain (the Events API `domain`) and the time zone its days are counted in.

use serde::{Deserialize, Serialize};

/// A site Waymark collects for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub domain: String,
    /// IANA zone name, e.g. `Europe/Berlin`.
    pub timezone: String,
}

/// Why a site definition was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SiteError {
    #[error(
        "invalid domain {0:?}: use a host name such as shop.example (no scheme, path or spaces)"
    )]
    Domain(String),
    #[error("unknown time zone {0:?}: use an IANA name such as Europe/Berlin or UTC")]
    Timezone(String),
}

impl Site {
    /// Validates and normalises a site: lower-case domain without `www.`, a known time zone.
    pub fn new(domain: &str, timezone: &str) -> Result<Self, SiteError> {
        let domain = normalize_domain(domain);
        let valid = !domain.is_empty()
            && domain.len() <= 253
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
        if !valid {
            return Err(SiteError::Domain(domain));
        }
        if timezone.parse::<chrono_tz::Tz>().is_err() {
            return Err(SiteError::Timezone(timezone.to_string()));
        }
        Ok(Site {
            domain,
            timezone: timezone.to_string(),
        })
    }

    /// The parsed time zone; sites are validated on creation, so a bad stored value falls back to UTC.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::UTC)
    }
}

/// Lower-cases a domain and strips a leading `www.` the way the Events API does.
pub fn normalize_domain(domain: &str) -> String {
    let d = domain.trim().to_ascii_lowercase();
    d.strip_prefix("www.").map(str::to_string).unwrap_or(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_validates() {
        let s = Site::new("WWW.Shop.Example", "Europe/Berlin").unwrap();
        assert_eq!(s.domain, "shop.example");
        assert!(matches!(Site::new("a b", "UTC"), Err(SiteError::Domain(_))));
        assert!(matches!(
            Site::new("x.org", "Mars/Base"),
            Err(SiteError::Timezone(_))
        ));
    }
}
