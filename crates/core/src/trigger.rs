//! The trigger language: what exactly makes an event count as a conversion or a funnel step.
//!
//! ```text
//! pageview /products/* where engaged >= 5s
//! event Search where results >= 1
//! event "Add to Cart" on /products/** where price > 100 and plan is set
//! ```
//!
//! A trigger names a subject (`pageview` with an optional path pattern, or `event NAME` with an
//! optional `on PATH`), then optional conditions joined by `and`: property comparisons
//! (`=`, `!=`, `>`, `>=`, `<`, `<=`, `contains`, `matches`, `is set`, `is not set`), minimum
//! engaged time on the page (`engaged >= 5s`) and minimum scroll depth (`scroll >= 50%`).
//! Parsing refuses bad input with a message naming the column and the text at fault. Matching
//! in Rust ([`Trigger::matches`]) states the semantics; stores compile the same rules to SQL.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::event::Event;

mod parse;

pub use parse::parse_duration;

/// Longest event name the Events API accepts.
pub const MAX_NAME_CHARS: usize = 120;
/// Longest property key the Events API accepts.
pub const MAX_PROP_KEY_BYTES: usize = 300;
/// Longest accepted property value or pattern.
pub const MAX_VALUE_BYTES: usize = 2_000;
/// Longest engagement threshold (a day).
pub const MAX_ENGAGED_MS: u64 = 86_400_000;

/// The regular expression (RE2 and Rust `regex` syntax alike) a property value must fully match
/// to count as a number. Stores use it verbatim so Rust and SQL agree on what is numeric.
pub const NUMERIC_PATTERN: &str = r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?";

/// What kind of event a trigger starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A `pageview` event.
    Pageview,
    /// A custom event with this exact (case-sensitive) name.
    Event(String),
}

/// A page path pattern: `*` matches within one path segment, `**` across segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern(String);

/// A comparison applied to one event property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropOp {
    /// Equal; numerically when both sides look numeric, else as text.
    Eq(String),
    /// Not equal (also true when the property is missing).
    Ne(String),
    Gt(String),
    Ge(String),
    Lt(String),
    Le(String),
    /// Substring, case-sensitive.
    Contains(String),
    /// Regular expression, matched anywhere in the value (RE2 syntax).
    Matches(String),
    IsSet,
    IsNotSet,
}

/// One property condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropCondition {
    pub key: String,
    pub op: PropOp,
}

/// A precise trigger. Build one by parsing its text form (`"event Search where results >= 1"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    pub subject: Subject,
    pub path: Option<PathPattern>,
    pub props: Vec<PropCondition>,
    /// Minimum engaged time on the page the event happened on, in ms.
    pub min_engaged_ms: Option<u64>,
    /// Minimum scroll depth on that page, in percent.
    pub min_scroll: Option<u8>,
}

/// The engagement measured for one page view: engaged time summed over its engagement events,
/// and the deepest scroll they report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageEngagement {
    pub engaged_ms: u64,
    pub scroll: u8,
}

/// Why a trigger was refused: a message, and where in the text the problem is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at column {column}: {fragment})")]
pub struct TriggerError {
    pub message: String,
    /// 1-based character column of the bad part.
    pub column: usize,
    /// The bad part itself, quoted, or `the end`.
    pub fragment: String,
}

impl PathPattern {
    /// Validates a pattern: starts with `/`, no whitespace, no `***`.
    pub fn new(pattern: &str) -> Result<PathPattern, String> {
        if !pattern.starts_with('/') {
            return Err(format!("path pattern {pattern:?} must start with /"));
        }
        if pattern.len() > MAX_VALUE_BYTES {
            return Err(format!(
                "path pattern is longer than {MAX_VALUE_BYTES} bytes"
            ));
        }
        if pattern.contains("***") {
            return Err(format!(
                "path pattern {pattern:?} has ***: use * (within a segment) or ** (across segments)"
            ));
        }
        if pattern.chars().any(char::is_control) {
            return Err("path pattern has a control character".into());
        }
        Ok(PathPattern(pattern.to_string()))
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when the pattern has no wildcard (compare with `=`).
    pub fn is_exact(&self) -> bool {
        !self.0.contains('*')
    }

    /// A regular expression that must match the whole path (`regexp_full_match`, `match(^…$)`).
    pub fn to_regex(&self) -> String {
        let mut out = String::with_capacity(self.0.len() + 8);
        let mut chars = self.0.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '*' {
                if chars.peek() == Some(&'*') {
                    chars.next();
                    out.push_str(".*");
                } else {
                    out.push_str("[^/]*");
                }
            } else {
                out.push_str(&regex::escape(&c.to_string()));
            }
        }
        out
    }

    /// Whether `path` matches.
    pub fn matches(&self, path: &str) -> bool {
        if self.is_exact() {
            return self.0 == path;
        }
        glob_match(self.0.as_bytes(), path.as_bytes())
    }
}

/// `*` = any bytes but `/`, `**` = any bytes; everything else literal.
fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    match pat.first() {
        None => s.is_empty(),
        Some(b'*') if pat.get(1) == Some(&b'*') => {
            (0..=s.len()).any(|i| glob_match(&pat[2..], &s[i..]))
        }
        Some(b'*') => {
            let max = s.iter().position(|&b| b == b'/').unwrap_or(s.len());
            (0..=max).any(|i| glob_match(&pat[1..], &s[i..]))
        }
        Some(&c) => s.first() == Some(&c) && glob_match(&pat[1..], &s[1..]),
    }
}

/// Parses a value the way triggers decide what is numeric ([`NUMERIC_PATTERN`]).
pub fn numeric(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return None;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return None;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    s.parse().ok()
}

impl PropOp {
    /// Whether a property value (`None` when missing) satisfies the comparison.
    pub fn test(&self, value: Option<&str>) -> bool {
        let num =
            |want: &str, f: fn(f64, f64) -> bool| match (value.and_then(numeric), numeric(want)) {
                (Some(v), Some(w)) => f(v, w),
                _ => false,
            };
        match self {
            PropOp::Eq(w) => value.is_some_and(|v| values_equal(v, w)),
            PropOp::Ne(w) => !value.is_some_and(|v| values_equal(v, w)),
            PropOp::Gt(w) => num(w, |a, b| a > b),
            PropOp::Ge(w) => num(w, |a, b| a >= b),
            PropOp::Lt(w) => num(w, |a, b| a < b),
            PropOp::Le(w) => num(w, |a, b| a <= b),
            PropOp::Contains(w) => value.is_some_and(|v| v.contains(w.as_str())),
            PropOp::Matches(re) => value.is_some_and(|v| {
                regex::Regex::new(re)
                    .map(|r| r.is_match(v))
                    .unwrap_or(false)
            }),
            PropOp::IsSet => value.is_some(),
            PropOp::IsNotSet => value.is_none(),
        }
    }

    fn symbol(&self) -> &'static str {
        match self {
            PropOp::Eq(_) => "=",
            PropOp::Ne(_) => "!=",
            PropOp::Gt(_) => ">",
            PropOp::Ge(_) => ">=",
            PropOp::Lt(_) => "<",
            PropOp::Le(_) => "<=",
            PropOp::Contains(_) => "contains",
            PropOp::Matches(_) => "matches",
            PropOp::IsSet => "is set",
            PropOp::IsNotSet => "is not set",
        }
    }

    /// The operand, if the operator takes one.
    pub fn operand(&self) -> Option<&str> {
        match self {
            PropOp::Eq(v)
            | PropOp::Ne(v)
            | PropOp::Gt(v)
            | PropOp::Ge(v)
            | PropOp::Lt(v)
            | PropOp::Le(v)
            | PropOp::Contains(v)
            | PropOp::Matches(v) => Some(v),
            PropOp::IsSet | PropOp::IsNotSet => None,
        }
    }
}

/// `=` semantics: numeric when both sides look numeric, else exact text.
fn values_equal(value: &str, want: &str) -> bool {
    match (numeric(value), numeric(want)) {
        (Some(a), Some(b)) => a == b,
        _ => value == want,
    }
}

impl Trigger {
    /// A trigger matching every pageview.
    pub fn any_pageview() -> Trigger {
        Trigger {
            subject: Subject::Pageview,
            path: None,
            props: Vec::new(),
            min_engaged_ms: None,
            min_scroll: None,
        }
    }

    /// A trigger matching a custom event by name.
    pub fn event(name: &str) -> Trigger {
        Trigger {
            subject: Subject::Event(name.to_string()),
            ..Trigger::any_pageview()
        }
    }

    /// Whether matching needs the engagement of the event's page view.
    pub fn needs_engagement(&self) -> bool {
        self.min_engaged_ms.is_some() || self.min_scroll.is_some()
    }

    /// Whether `event` matches. `page` is the engagement of the page view the event belongs to:
    /// for a pageview, itself; for another event, the latest pageview of the same session and
    /// path at or before it (see `docs/conversions.md`). `None` counts as no engagement.
    pub fn matches(&self, event: &Event, page: Option<PageEngagement>) -> bool {
        let subject = match &self.subject {
            Subject::Pageview => event.name == "pageview",
            Subject::Event(n) => event.name == *n,
        };
        if !subject {
            return false;
        }
        if let Some(p) = &self.path {
            if !p.matches(&event.pathname) {
                return false;
            }
        }
        if !self.props.iter().all(|c| c.op.test(event.prop(&c.key))) {
            return false;
        }
        let page = page.unwrap_or_default();
        self.min_engaged_ms.is_none_or(|ms| page.engaged_ms >= ms)
            && self.min_scroll.is_none_or(|s| page.scroll >= s)
    }
}

impl std::str::FromStr for Trigger {
    type Err = TriggerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse::parse(s)
    }
}

impl TryFrom<String> for Trigger {
    type Error = TriggerError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Trigger> for String {
    fn from(t: Trigger) -> String {
        t.to_string()
    }
}

impl Serialize for Trigger {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Trigger {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

// ---- text form ---------------------------------------------------------------------------

/// Words with a meaning in the trigger language (quote them to use them as names).
pub(crate) const KEYWORDS: &[&str] = &[
    "pageview", "event", "on", "where", "and", "or", "is", "not", "set", "contains", "matches",
    "engaged", "scroll",
];

/// Writes a name, value or path bare when that reads back the same, else double-quoted.
fn word(s: &str) -> String {
    let bare = !s.is_empty()
        && !KEYWORDS.contains(&s.to_ascii_lowercase().as_str())
        && s.chars()
            .all(|c| !c.is_whitespace() && !matches!(c, '"' | '\'' | '=' | '!' | '<' | '>' | '\\'));
    if bare {
        s.to_string()
    } else {
        let mut out = String::with_capacity(s.len() + 2);
        out.push('"');
        for c in s.chars() {
            if matches!(c, '"' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        out
    }
}

fn duration_text(ms: u64) -> String {
    match (ms / 60_000, ms % 60_000, ms / 1000, ms % 1000) {
        (m, 0, _, _) if m > 0 => format!("{m}m"),
        (_, _, s, 0) => format!("{s}s"),
        _ => format!("{ms}ms"),
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.subject {
            Subject::Pageview => {
                f.write_str("pageview")?;
                if let Some(p) = &self.path {
                    write!(f, " {}", word(p.as_str()))?;
                }
            }
            Subject::Event(n) => {
                write!(f, "event {}", word(n))?;
                if let Some(p) = &self.path {
                    write!(f, " on {}", word(p.as_str()))?;
                }
            }
        }
        let mut conds: Vec<String> = self
            .props
            .iter()
            .map(|c| match c.op.operand() {
                Some(v) => format!("{} {} {}", word(&c.key), c.op.symbol(), word(v)),
                None => format!("{} {}", word(&c.key), c.op.symbol()),
            })
            .collect();
        if let Some(ms) = self.min_engaged_ms {
            conds.push(format!("engaged >= {}", duration_text(ms)));
        }
        if let Some(s) = self.min_scroll {
            conds.push(format!("scroll >= {s}%"));
        }
        if !conds.is_empty() {
            write!(f, " where {}", conds.join(" and "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Trigger {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn fails(s: &str) -> TriggerError {
        match s.parse::<Trigger>() {
            Ok(t) => panic!("{s} parsed as {t:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn parses_the_article_definitions() {
        let t = parse("pageview /products/* where engaged >= 5s");
        assert_eq!(t.subject, Subject::Pageview);
        assert_eq!(t.path.as_ref().map(|p| p.as_str()), Some("/products/*"));
        assert_eq!(t.min_engaged_ms, Some(5000));
        let t = parse("event Search where results >= 1");
        assert_eq!(t.subject, Subject::Event("Search".into()));
        assert_eq!(
            t.props,
            vec![PropCondition {
                key: "results".into(),
                op: PropOp::Ge("1".into())
            }]
        );
        let t = parse("EVENT 'Add to Cart' ON /products/** WHERE price > 9.5 AND plan is not set and scroll >= 50%");
        assert_eq!(t.subject, Subject::Event("Add to Cart".into()));
        assert_eq!(t.props.len(), 2);
        assert_eq!(t.min_scroll, Some(50));
    }

    #[test]
    fn text_form_round_trips() {
        for s in [
            "pageview",
            "pageview /pricing",
            "event \"Add to Cart\" on /products/** where price > 9.5 and plan is not set",
            "event Signup where plan = pro and source != \"hacker news\" and ref contains x",
            "event Search where query matches ^sho(e|es)$ and results >= 1",
            "pageview /blog/** where engaged >= 1500ms and scroll >= 75%",
            "event \"and\" where \"scroll\" is set",
        ] {
            let t = parse(s);
            assert_eq!(t.to_string(), s);
            assert_eq!(parse(&t.to_string()), t);
        }
        assert_eq!(
            parse("pageview where engaged >= 120s").to_string(),
            "pageview where engaged >= 2m"
        );
    }

    #[test]
    fn refuses_bad_triggers_pointing_at_the_bad_part() {
        let e = fails("event Add to Cart");
        assert_eq!(e.column, 11, "{e}");
        assert!(e.to_string().contains("\"to\""), "{e}");
        let e = fails("event Search where results >= many");
        assert!(e.message.contains("not a number"), "{e}");
        assert_eq!(e.column, 31);
        let e = fails("pageview /x where engaged > 5s");
        assert!(e.message.contains("minimum"), "{e}");
        assert!(fails("pageview /x where engaged >= 5")
            .message
            .contains("unit"));
        assert!(fails("pageview /x where scroll >= 150%")
            .message
            .contains("0% to 100%"));
        assert!(fails("click /x").message.contains("starts with"));
        assert!(fails("pageview products").message.contains("path"));
        assert!(fails("event engagement").message.contains("engaged"));
        assert!(fails("event \"Signup").message.contains("unclosed"));
        assert!(fails("event Signup where plan")
            .message
            .contains("operator"));
        assert!(fails("event Signup where plan = pro or plan = max")
            .message
            .contains("only `and`"));
        assert!(fails("event Signup where q matches \"(\"")
            .message
            .contains("regular expression"));
        assert!(fails("pageview /a***").message.contains("***"));
        assert!(fails("").message.contains("starts with"));
        assert_eq!(fails("event Signup where").fragment, "the end");
    }

    #[test]
    fn path_patterns_follow_segments() {
        let p = PathPattern::new("/products/*").unwrap();
        assert!(p.matches("/products/tent"));
        assert!(p.matches("/products/"));
        assert!(!p.matches("/products/tent/reviews"));
        assert!(!p.matches("/products"));
        let p = PathPattern::new("/blog/**").unwrap();
        assert!(p.matches("/blog/a/b"));
        assert!(!p.matches("/blog"));
        let p = PathPattern::new("/a/*/c.html").unwrap();
        assert!(p.matches("/a/b/c.html"));
        assert!(!p.matches("/a/b/cxhtml"), "the dot is literal");
        assert_eq!(p.to_regex(), "/a/[^/]*/c\\.html");
        let re = regex::Regex::new(&format!(
            "^(?:{})$",
            PathPattern::new("/x/**/y*").unwrap().to_regex()
        ))
        .unwrap();
        assert!(re.is_match("/x/1/2/yz"));
    }

    #[test]
    fn property_comparisons() {
        assert!(
            PropOp::Eq("10".into()).test(Some("10.0")),
            "numeric equality"
        );
        assert!(
            !PropOp::Eq("pro".into()).test(Some("Pro")),
            "text equality is exact"
        );
        assert!(PropOp::Ne("pro".into()).test(None), "!= holds when missing");
        assert!(
            PropOp::Gt("2".into()).test(Some("10")),
            "numbers, not text order"
        );
        assert!(!PropOp::Gt("2".into()).test(Some("ten")));
        assert!(!PropOp::Ge("1".into()).test(None));
        assert!(PropOp::Le("1e3".into()).test(Some("999.5")));
        assert!(PropOp::Contains("oe".into()).test(Some("shoes")));
        assert!(PropOp::Matches("^sh".into()).test(Some("shoes")));
        assert!(PropOp::IsNotSet.test(None));
        assert_eq!(numeric(" 3"), None);
        assert_eq!(numeric("-0.5e2"), Some(-50.0));
        assert_eq!(numeric("1."), None);
        assert_eq!(numeric("inf"), None);
    }

    #[test]
    fn matching_uses_page_engagement() {
        let t = parse("pageview /products/* where engaged >= 5s and scroll >= 30%");
        let ev = Event {
            name: "pageview".into(),
            pathname: "/products/tent".into(),
            ..Event::default()
        };
        assert!(!t.matches(&ev, None));
        assert!(!t.matches(
            &ev,
            Some(PageEngagement {
                engaged_ms: 4999,
                scroll: 90
            })
        ));
        assert!(t.matches(
            &ev,
            Some(PageEngagement {
                engaged_ms: 5000,
                scroll: 30
            })
        ));
    }
}
