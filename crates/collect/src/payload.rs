//! The Events API request body (Plausible's field names, long and short), parsed and validated
//! into a [`Payload`]. Every refusal names the field so that integrators can fix their calls.

use serde_json::{Map, Value};
use waymark_core::Prop;

/// Name length limit, in characters.
pub const MAX_NAME_CHARS: usize = 120;
/// URL length limit, in bytes.
pub const MAX_URL_BYTES: usize = 2_000;
/// Referrers longer than this are truncated, not refused.
pub const MAX_REFERRER_BYTES: usize = 2_000;
/// Properties past this count are dropped.
pub const MAX_PROPS: usize = 30;
pub const MAX_PROP_KEY_BYTES: usize = 300;
pub const MAX_PROP_VALUE_BYTES: usize = 2_000;
/// Engaged time must be under 30 days to count.
const MAX_ENGAGEMENT_MS: i64 = 30 * 24 * 3600 * 1000;

/// A validated Events API request.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    pub name: String,
    pub url: url::Url,
    /// One or more site domains, normalised (lower case, no `www.`).
    pub domains: Vec<String>,
    pub referrer: String,
    pub props: Vec<Prop>,
    /// Amount and ISO 4217 currency.
    pub revenue: Option<(f64, String)>,
    pub interactive: bool,
    pub hash_mode: bool,
    pub scroll_depth: Option<u8>,
    pub engagement_ms: Option<u32>,
    /// Explicit event time (server-side senders with an API key only).
    pub timestamp_ms: Option<i64>,
    /// Idempotency key (server-side senders with an API key only).
    pub idempotency_key: Option<String>,
}

/// A refused request body: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PayloadError {
    pub field: &'static str,
    pub message: String,
}

impl waymark_core::HasKind for PayloadError {
    fn kind(&self) -> waymark_core::ErrorKind {
        waymark_core::ErrorKind::bad_input(self.field)
    }
}

fn err(field: &'static str, message: impl Into<String>) -> PayloadError {
    PayloadError {
        field,
        message: message.into(),
    }
}

/// Picks the long or short form of a field; giving both is ambiguous only if they differ,
/// and then the long form wins as Plausible's does.
fn field<'a>(obj: &'a Map<String, Value>, long: &str, short: &str) -> Option<&'a Value> {
    obj.get(long)
        .or_else(|| obj.get(short))
        .filter(|v| !v.is_null())
}

impl Payload {
    /// Parses a request body (JSON, whatever the content type says).
    pub fn parse(body: &[u8]) -> Result<Payload, PayloadError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| err("body", format!("not valid JSON ({e})")))?;
        let Value::Object(obj) = value else {
            return Err(err("body", "expected a JSON object"));
        };
        Self::from_object(&obj)
    }

    fn from_object(obj: &Map<String, Value>) -> Result<Payload, PayloadError> {
        let name = match field(obj, "name", "n") {
            None => return Err(err("name", "is required")),
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => return Err(err("name", "must be a string")),
        };
        if name.is_empty() {
            return Err(err("name", "must not be blank"));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(err(
                "name",
                format!("is longer than {MAX_NAME_CHARS} characters"),
            ));
        }

        let url_str = match field(obj, "url", "u") {
            None => return Err(err("url", "is required")),
            Some(Value::String(s)) => s.trim(),
            Some(_) => return Err(err("url", "must be a string")),
        };
        if url_str.len() > MAX_URL_BYTES {
            return Err(err("url", format!("is longer than {MAX_URL_BYTES} bytes")));
        }
        let url = url::Url::parse(url_str)
            .map_err(|e| err("url", format!("is not an absolute URL ({e})")))?;
        if url.scheme() == "data" {
            return Err(err("url", "data: URLs are not accepted"));
        }

        let domains = match field(obj, "domain", "d") {
            Some(Value::String(s)) => s
                .split(',')
                .map(waymark_core::site::normalize_domain)
                .filter(|d| !d.is_empty())
                .collect::<Vec<_>>(),
            Some(_) => return Err(err("domain", "must be a string")),
            // Plausible falls back to the page's host.
            None => url
                .host_str()
                .map(waymark_core::site::normalize_domain)
                .into_iter()
                .collect(),
        };
        if domains.is_empty() {
            return Err(err("domain", "must not be blank"));
        }

        let referrer = match field(obj, "referrer", "r") {
            None => String::new(),
            Some(Value::String(s)) => truncate_bytes(s.trim(), MAX_REFERRER_BYTES).to_string(),
            Some(_) => return Err(err("referrer", "must be a string")),
        };

        let props = parse_props(obj)?;
        let revenue = parse_revenue(obj)?;

        let interactive = match field(obj, "interactive", "i") {
            None => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(err("interactive", "must be true or false")),
        };
        let hash_mode = match field(obj, "hashMode", "h") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_i64() == Some(1),
            Some(_) => return Err(err("hashMode", "must be 1, 0, true or false")),
        };

        let (scroll_depth, engagement_ms) = if name == "engagement" {
            let sd = match obj.get("sd").filter(|v| !v.is_null()) {
                None => None,
                Some(v) => match v.as_f64() {
                    Some(x) if x >= 0.0 => Some(x.min(100.0).round() as u8),
                    _ => return Err(err("sd", "must be a number from 0 to 100")),
                },
            };
            let e = match obj.get("e").filter(|v| !v.is_null()) {
                None => None,
                Some(v) => match v.as_f64() {
                    Some(x) if x >= 0.0 && (x as i64) < MAX_ENGAGEMENT_MS => Some(x as u32),
                    Some(_) => None,
                    None => return Err(err("e", "must be a number of milliseconds")),
                },
            };
            if sd.is_none() && e.is_none() {
                return Err(err(
                    "sd",
                    "an engagement event needs a scroll depth (sd) or engaged time (e)",
                ));
            }
            (sd, e)
        } else {
            (None, None)
        };

        let timestamp_ms = match obj.get("timestamp").filter(|v| !v.is_null()) {
            None => None,
            Some(Value::Number(n)) => Some(
                n.as_i64()
                    .filter(|ms| *ms > 0)
                    .ok_or_else(|| err("timestamp", "must be epoch milliseconds or RFC 3339"))?,
            ),
            Some(Value::String(s)) => Some(
                chrono::DateTime::parse_from_rfc3339(s)
                    .map_err(|e| err("timestamp", format!("is not RFC 3339 ({e})")))?
                    .timestamp_millis(),
            ),
            Some(_) => return Err(err("timestamp", "must be epoch milliseconds or RFC 3339")),
        };
        let idempotency_key = match obj.get("idempotency_key").filter(|v| !v.is_null()) {
            None => None,
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 200 => Some(s.clone()),
            Some(_) => {
                return Err(err(
                    "idempotency_key",
                    "must be a non-empty string of at most 200 bytes",
                ))
            }
        };

        Ok(Payload {
            name,
            url,
            domains,
            referrer,
            props,
            revenue,
            interactive,
            hash_mode,
            scroll_depth,
            engagement_ms,
            timestamp_ms,
            idempotency_key,
        })
    }

    /// The pathname as stored: percent-decoded, with the fragment in hash mode.
    pub fn pathname(&self) -> String {
        let raw = self.url.path();
        let mut path = percent_decode(raw);
        let trimmed = path.trim_end().len();
        path.truncate(trimmed);
        if path.is_empty() {
            path.push('/');
        }
        if self.hash_mode {
            if let Some(frag) = self.url.fragment().filter(|f| !f.is_empty()) {
                path.push('#');
                path.push_str(&percent_decode(frag));
            }
        }
        path
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

fn truncate_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn parse_props(obj: &Map<String, Value>) -> Result<Vec<Prop>, PayloadError> {
    let raw = obj
        .get("props")
        .or_else(|| obj.get("p"))
        .or_else(|| obj.get("meta"))
        .or_else(|| obj.get("m"))
        .filter(|v| !v.is_null());
    let decoded;
    let map = match raw {
        None => return Ok(Vec::new()),
        Some(Value::Object(m)) => m,
        // Older trackers send props as a JSON-encoded string.
        Some(Value::String(s)) => {
            decoded = serde_json::from_str::<Value>(s)
                .map_err(|_| err("props", "must be an object (or a JSON-encoded object)"))?;
            match &decoded {
                Value::Object(m) => m,
                _ => return Err(err("props", "must be an object")),
            }
        }
        Some(_) => return Err(err("props", "must be an object")),
    };
    let mut props = Vec::new();
    for (key, value) in map {
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            // Nested values and nulls are dropped, as Plausible does.
            _ => continue,
        };
        let key = key.trim();
        if key.is_empty() || value.trim().is_empty() {
            continue;
        }
        if key.len() > MAX_PROP_KEY_BYTES {
            return Err(err(
                "props",
                format!(
                    "key {:?}… is longer than {MAX_PROP_KEY_BYTES} bytes",
                    truncate_bytes(key, 40)
                ),
            ));
        }
        if value.len() > MAX_PROP_VALUE_BYTES {
            return Err(err(
                "props",
                format!("value of {key:?} is longer than {MAX_PROP_VALUE_BYTES} bytes"),
            ));
        }
        if props.len() < MAX_PROPS {
            props.push(Prop {
                key: key.to_string(),
                value,
            });
        }
    }
    Ok(props)
}

fn parse_revenue(obj: &Map<String, Value>) -> Result<Option<(f64, String)>, PayloadError> {
    let Some(raw) = obj
        .get("revenue")
        .or_else(|| obj.get("$"))
        .filter(|v| !v.is_null())
    else {
        return Ok(None);
    };
    let Value::Object(rev) = raw else {
        return Err(err(
            "revenue",
            "must be an object {\"amount\", \"currency\"}",
        ));
    };
    let amount = match rev.get("amount") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|a| a.is_finite())
    .ok_or_else(|| err("revenue.amount", "must be a finite number"))?;
    let currency = match rev.get("currency") {
        Some(Value::String(s)) if s.len() == 3 && s.chars().all(|c| c.is_ascii_alphabetic()) => {
            s.to_ascii_uppercase()
        }
        _ => {
            return Err(err(
                "revenue.currency",
                "must be a three-letter ISO 4217 code such as EUR",
            ))
        }
    };
    Ok(Some((amount, currency)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_keys() {
        let p = Payload::parse(br#"{"n":"pageview","u":"https://www.Shop.example/a%20b?x=1#frag","d":"www.shop.example,other.example"}"#).unwrap();
        assert_eq!(p.domains, vec!["shop.example", "other.example"]);
        assert_eq!(p.pathname(), "/a b");
        let p = Payload::parse(
            br#"{"name":404,"url":"https://x.example/#/cart","domain":"x.example","hashMode":1}"#,
        )
        .unwrap();
        assert_eq!(p.name, "404");
        assert_eq!(p.pathname(), "/#/cart");
    }

    #[test]
    fn props_keep_thirty_and_stringify() {
        let mut body = String::from(r#"{"n":"x","u":"https://a.example/","p":{"#);
        for i in 0..40 {
            body.push_str(&format!("\"k{i}\":{i},"));
        }
        body.push_str(r#""b":true,"nested":{"a":1}}}"#);
        let p = Payload::parse(body.as_bytes()).unwrap();
        assert_eq!(p.props.len(), MAX_PROPS);
        assert_eq!(p.props[1].value, "1");
    }
}
