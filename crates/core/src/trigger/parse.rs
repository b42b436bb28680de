//! The trigger language's lexer and parser: text to [`Trigger`], refusing bad input with the
//! column and the text at fault.

use super::{
    numeric, PathPattern, PropCondition, PropOp, Subject, Trigger, TriggerError, KEYWORDS,
    MAX_ENGAGED_MS, MAX_NAME_CHARS, MAX_PROP_KEY_BYTES, MAX_VALUE_BYTES,
};

/// Parses a trigger's text form.
pub(super) fn parse(input: &str) -> Result<Trigger, TriggerError> {
    Parser::new(input)?.trigger()
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Op(&'static str),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// 1-based character column.
    column: usize,
    raw: String,
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    end_column: usize,
}

fn err(message: impl Into<String>, t: Option<&Token>, end_column: usize) -> TriggerError {
    match t {
        Some(t) => TriggerError {
            message: message.into(),
            column: t.column,
            fragment: format!("{:?}", t.raw),
        },
        None => TriggerError {
            message: message.into(),
            column: end_column,
            fragment: "the end".into(),
        },
    }
}

impl Parser {
    fn new(input: &str) -> Result<Parser, TriggerError> {
        let chars: Vec<char> = input.chars().collect();
        let end_column = chars.len() + 1;
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() {
                i += 1;
                continue;
            }
            let start = i;
            let tok = if c == '"' || c == '\'' {
                let mut s = String::new();
                i += 1;
                let mut closed = false;
                while i < chars.len() {
                    match chars[i] {
                        '\\' if i + 1 < chars.len() => {
                            s.push(chars[i + 1]);
                            i += 2;
                        }
                        q if q == c => {
                            closed = true;
                            i += 1;
                            break;
                        }
                        other => {
                            s.push(other);
                            i += 1;
                        }
                    }
                }
                if !closed {
                    return Err(TriggerError {
                        message: format!("unclosed quote {c}"),
                        column: start + 1,
                        fragment: format!("{:?}", chars[start..].iter().collect::<String>()),
                    });
                }
                Tok::Quoted(s)
            } else if matches!(c, '=' | '!' | '<' | '>') {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('=', Some('=')) => ("=", 2),
                    ('=', _) => ("=", 1),
                    ('!', Some('=')) => ("!=", 2),
                    ('<', Some('>')) => ("!=", 2),
                    ('<', Some('=')) => ("<=", 2),
                    ('<', _) => ("<", 1),
                    ('>', Some('=')) => (">=", 2),
                    ('>', _) => (">", 1),
                    _ => {
                        return Err(TriggerError {
                            message: "`!` must be followed by `=`".into(),
                            column: i + 1,
                            fragment: "\"!\"".into(),
                        })
                    }
                };
                i += len;
                Tok::Op(op)
            } else {
                let mut s = String::new();
                while i < chars.len() {
                    let c = chars[i];
                    if c.is_whitespace() || matches!(c, '"' | '\'' | '=' | '!' | '<' | '>') {
                        break;
                    }
                    s.push(c);
                    i += 1;
                }
                Tok::Word(s)
            };
            tokens.push(Token {
                tok,
                column: start + 1,
                raw: chars[start..i].iter().collect(),
            });
        }
        Ok(Parser {
            tokens,
            pos: 0,
            end_column,
        })
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn error(&self, message: impl Into<String>, t: Option<&Token>) -> TriggerError {
        err(message, t, self.end_column)
    }

    /// The next token if it is the bare keyword `kw` (any case).
    fn keyword(&mut self, kw: &str) -> bool {
        match self.peek() {
            Some(Token {
                tok: Tok::Word(w), ..
            }) if w.eq_ignore_ascii_case(kw) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// A name or value: a bare word or a quoted string.
    fn text(&mut self, what: &str) -> Result<(String, Token), TriggerError> {
        match self.next() {
            Some(t) => match &t.tok {
                Tok::Word(w) => Ok((w.clone(), t)),
                Tok::Quoted(q) => Ok((q.clone(), t)),
                Tok::Op(_) => {
                    Err(self.error(format!("expected {what}, found an operator"), Some(&t)))
                }
            },
            None => Err(self.error(format!("expected {what}"), None)),
        }
    }

    fn path(&mut self) -> Result<PathPattern, TriggerError> {
        let (p, t) = self.text("a path pattern such as /products/*")?;
        PathPattern::new(&p).map_err(|m| self.error(m, Some(&t)))
    }

    fn trigger(mut self) -> Result<Trigger, TriggerError> {
        let first = self.next();
        let subject_word = match first.as_ref().map(|t| &t.tok) {
            Some(Tok::Word(w)) => w.to_ascii_lowercase(),
            _ => String::new(),
        };
        let mut trigger = Trigger::any_pageview();
        match subject_word.as_str() {
            "pageview" => {
                if let Some(t) = self.peek() {
                    let is_where =
                        matches!(&t.tok, Tok::Word(w) if w.eq_ignore_ascii_case("where"));
                    if !is_where {
                        let starts_path = match &t.tok {
                            Tok::Word(w) | Tok::Quoted(w) => w.starts_with('/'),
                            Tok::Op(_) => false,
                        };
                        if !starts_path {
                            let t = t.clone();
                            return Err(self.error(
                                "after `pageview` expected a path starting with / or `where`",
                                Some(&t),
                            ));
                        }
                        trigger.path = Some(self.path()?);
                    }
                }
            }
            "event" => {
                let (name, t) = self
                    .text("an event name (quote it when it has spaces: event \"Add to Cart\")")?;
                let lower = name.to_ascii_lowercase();
                if name.trim().is_empty() {
                    return Err(self.error("the event name is empty", Some(&t)));
                }
                if name.chars().count() > MAX_NAME_CHARS {
                    return Err(self.error(
                        format!("event names are at most {MAX_NAME_CHARS} characters"),
                        Some(&t),
                    ));
                }
                if lower == "pageview" {
                    return Err(self.error(
                        "use `pageview [path]` rather than `event pageview`",
                        Some(&t),
                    ));
                }
                if lower == "engagement" {
                    return Err(self.error(
                        "engagement events are not conversions: add `where engaged >= 5s` or `where scroll >= 50%` to a pageview",
                        Some(&t),
                    ));
                }
                if KEYWORDS.contains(&lower.as_str()) && matches!(t.tok, Tok::Word(_)) {
                    return Err(self.error(
                        format!(
                            "{name:?} is a keyword here; quote the event name: event \"{name}\""
                        ),
                        Some(&t),
                    ));
                }
                trigger.subject = Subject::Event(name);
                if self.keyword("on") {
                    trigger.path = Some(self.path()?);
                }
            }
            _ => {
                return Err(self.error(
                    "a trigger starts with `pageview` or `event NAME`",
                    first.as_ref(),
                ))
            }
        }
        if self.peek().is_none() {
            return Ok(trigger);
        }
        if !self.keyword("where") {
            let t = self.peek().cloned();
            let hint = if subject_word == "event" {
                "expected `on /path` or `where` after the event name (quote names with spaces)"
            } else {
                "expected `where` before conditions"
            };
            return Err(self.error(hint, t.as_ref()));
        }
        loop {
            self.condition(&mut trigger)?;
            match self.peek().cloned() {
                None => break,
                Some(t) => {
                    if self.keyword("and") {
                        continue;
                    }
                    let msg = if matches!(&t.tok, Tok::Word(w) if w.eq_ignore_ascii_case("or")) {
                        "only `and` joins conditions; for alternatives define two conversions"
                    } else {
                        "expected `and` between conditions"
                    };
                    return Err(self.error(msg, Some(&t)));
                }
            }
        }
        Ok(trigger)
    }

    fn condition(&mut self, trigger: &mut Trigger) -> Result<(), TriggerError> {
        let Some(key_tok) = self.next() else {
            return Err(self.error("expected a condition after `where`/`and`", None));
        };
        let (key, quoted) = match &key_tok.tok {
            Tok::Word(w) => (w.clone(), false),
            Tok::Quoted(q) => (q.clone(), true),
            Tok::Op(_) => {
                return Err(self.error(
                    "expected a property name, `engaged` or `scroll` before the operator",
                    Some(&key_tok),
                ))
            }
        };
        if !quoted && key.eq_ignore_ascii_case("engaged") {
            self.expect_min(&key_tok, "engaged >= 5s")?;
            let (v, t) = self.text("a duration such as 5s or 500ms")?;
            let ms = parse_duration(&v).map_err(|m| self.error(m, Some(&t)))?;
            if trigger.min_engaged_ms.is_some() {
                return Err(self.error("`engaged` is given twice", Some(&key_tok)));
            }
            trigger.min_engaged_ms = Some(ms);
            return Ok(());
        }
        if !quoted && key.eq_ignore_ascii_case("scroll") {
            self.expect_min(&key_tok, "scroll >= 50%")?;
            let (v, t) = self.text("a scroll depth in percent such as 50%")?;
            let pct = parse_percent(&v).map_err(|m| self.error(m, Some(&t)))?;
            if trigger.min_scroll.is_some() {
                return Err(self.error("`scroll` is given twice", Some(&key_tok)));
            }
            trigger.min_scroll = Some(pct);
            return Ok(());
        }
        if !quoted && KEYWORDS.contains(&key.to_ascii_lowercase().as_str()) {
            return Err(self.error(
                format!("{key:?} is a keyword; quote a property of that name: \"{key}\""),
                Some(&key_tok),
            ));
        }
        if key.is_empty() || key.len() > MAX_PROP_KEY_BYTES {
            return Err(self.error(
                format!("property names are 1 to {MAX_PROP_KEY_BYTES} bytes"),
                Some(&key_tok),
            ));
        }
        let ops = "=, !=, >, >=, <, <=, contains, matches, is set or is not set";
        let Some(op_tok) = self.next() else {
            return Err(self.error(
                format!("expected an operator after property {key:?} ({ops})"),
                None,
            ));
        };
        let op = match &op_tok.tok {
            Tok::Op(o) => {
                let (v, t) = self.text(&format!("a value after {key} {o}"))?;
                self.check_value(&v, &t)?;
                let numeric_only = |v: String| {
                    if numeric(&v).is_some() {
                        Ok(v)
                    } else {
                        Err(err(
                            format!("{o} compares numbers, and {v:?} is not a number (use = or contains for text)"),
                            Some(&t),
                            self.end_column,
                        ))
                    }
                };
                match *o {
                    "=" => PropOp::Eq(v),
                    "!=" => PropOp::Ne(v),
                    ">" => PropOp::Gt(numeric_only(v)?),
                    ">=" => PropOp::Ge(numeric_only(v)?),
                    "<" => PropOp::Lt(numeric_only(v)?),
                    _ => PropOp::Le(numeric_only(v)?),
                }
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("contains") => {
                let (v, t) = self.text(&format!("a value after {key} contains"))?;
                self.check_value(&v, &t)?;
                if v.is_empty() {
                    return Err(self.error("`contains` needs a non-empty value", Some(&t)));
                }
                PropOp::Contains(v)
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("matches") => {
                let (v, t) = self.text(&format!("a regular expression after {key} matches"))?;
                self.check_value(&v, &t)?;
                if let Err(e) = regex::Regex::new(&v) {
                    let detail = e.to_string();
                    let last = detail
                        .lines()
                        .last()
                        .unwrap_or("invalid")
                        .trim()
                        .to_string();
                    return Err(self.error(format!("invalid regular expression: {last}"), Some(&t)));
                }
                PropOp::Matches(v)
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("is") => {
                if self.keyword("set") {
                    PropOp::IsSet
                } else if self.keyword("not") {
                    if !self.keyword("set") {
                        let t = self.peek().cloned();
                        return Err(self.error("expected `set` after `is not`", t.as_ref()));
                    }
                    PropOp::IsNotSet
                } else {
                    let t = self.peek().cloned();
                    return Err(self.error(
                        "expected `set` or `not set` after `is` (for equality use =)",
                        t.as_ref(),
                    ));
                }
            }
            _ => {
                return Err(self.error(
                    format!("expected an operator after property {key:?} ({ops})"),
                    Some(&op_tok),
                ))
            }
        };
        trigger.props.push(PropCondition { key, op });
        Ok(())
    }

    fn expect_min(&mut self, key: &Token, example: &str) -> Result<(), TriggerError> {
        match self.next() {
            Some(Token {
                tok: Tok::Op(">="), ..
            }) => Ok(()),
            other => Err(self.error(
                format!("{} is a minimum: write `{example}`", key.raw),
                other.as_ref(),
            )),
        }
    }

    fn check_value(&self, v: &str, t: &Token) -> Result<(), TriggerError> {
        if v.len() > MAX_VALUE_BYTES {
            return Err(self.error(
                format!("values are at most {MAX_VALUE_BYTES} bytes"),
                Some(t),
            ));
        }
        Ok(())
    }
}

/// `5s`, `500ms`, `1.5s`, `2m`, `2min`, `1h` → milliseconds (a unit is required).
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let t = s.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("{s:?} needs a unit: 5s, 500ms, 2m or 1h"))?;
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 5s or 500ms"))?;
    let factor = match unit {
        "ms" => 1.0,
        "s" | "sec" => 1000.0,
        "m" | "min" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return Err(format!("unknown unit {unit:?} in {s:?}: use ms, s, m or h")),
    };
    let ms = (n * factor).round();
    if !(0.0..=MAX_ENGAGED_MS as f64).contains(&ms) {
        return Err(format!("{s:?} is longer than a day"));
    }
    Ok(ms as u64)
}

fn parse_percent(s: &str) -> Result<u8, String> {
    let t = s.trim().trim_end_matches('%');
    match t.parse::<u8>() {
        Ok(p) if p <= 100 => Ok(p),
        _ => Err(format!("{s:?} is not a scroll depth from 0% to 100%")),
    }
}
