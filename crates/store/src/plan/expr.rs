//! Expressions of a plan: what to compute over a row or a group, never how a backend spells
//! it. Identifiers come only from the plan itself ([`Ident`] holds `'static` names or names
//! the plan numbers, like `d0`); every user value is a [`Value`] the dialect binds in text
//! order. Functions and aggregates are closed enums, so a dialect must decide how to spell
//! each one, and a backend that cannot is found at compile time, not in production.

use std::borrow::Cow;

/// A name chosen by the plan (a column, an alias, a relation). Never built from user input.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ident(Cow<'static, str>);

impl Ident {
    /// A fixed name.
    pub const fn of(name: &'static str) -> Ident {
        Ident(Cow::Borrowed(name))
    }

    /// A numbered name such as `d0`, `m3`, `c12`.
    pub fn numbered(prefix: &'static str, n: usize) -> Ident {
        Ident(Cow::Owned(format!("{prefix}{n}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A value bound as a parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

/// Types the plan casts to and reads back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Int,
    /// Unsigned 64-bit (visitor ids use the full range).
    UInt,
    Float,
    Text,
    Bool,
}

/// Scalar functions. Arguments are listed with each variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// `(text)`: lower-cased (Unicode-aware).
    Lower,
    /// `(haystack, needle)`: substring test.
    Contains,
    /// `(text, pattern)`: the RE2 pattern matches somewhere.
    RegexMatch,
    /// `(text, pattern)`: the RE2 pattern matches the whole text.
    RegexFullMatch,
    /// `(a, b, ...)`: the first that is not `NULL`.
    Coalesce,
    /// `(keys, values, key)`: the value at `key`'s position, `NULL` when the key is missing.
    PropValue,
    /// `(keys, key)`: whether the list holds the key.
    HasKey,
    /// `(text)`: the number a numeric-looking text spells (callers check the look first),
    /// else `NULL`.
    ToFloat,
    /// `(timestamp)`: milliseconds since the epoch.
    Millis,
    /// `(ms)`: the stored timestamp type for milliseconds since the epoch.
    FromMillis,
    /// `(ms)`: the local bucket label for local milliseconds (`2026-01-05`,
    /// `2026-01-05 13:00:00`; weeks start on Monday, months on the 1st).
    Label(crate::plan::Bucket),
    /// `(x, decimals)`: rounded half away from zero.
    Round,
    /// `(x, y)`: `NULL` when `x = y`, else `x`.
    NullIf,
    /// `(a, b)`: the larger.
    Greatest,
    /// `(a, b)`: the smaller.
    Least,
    /// `(a, b, ...)`: an ordered key for [`Agg::ArgMin`]/[`Agg::ArgMax`]: compares by `a`, then `b`, ...
    Key,
}

/// Aggregates, each with an optional filter (`FILTER (WHERE ...)`, ClickHouse's `-If`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agg {
    /// `()`: rows.
    CountRows,
    /// `(x)`: rows where `x` is not `NULL`.
    Count,
    /// `(x)`: distinct values (exact).
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    /// `(x, key)`: `x` of the row with the smallest key.
    ArgMin,
    /// `(x, key)`: `x` of the row with the largest key.
    ArgMax,
    /// `(bool)`: any row true.
    BoolOr,
    /// `(text)`: the distinct values, sorted, joined with `+` (`''` for none).
    JoinDistinct,
    /// `(x)`: some value of the group (all are equal).
    AnyValue,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    BitAnd,
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A column, optionally of a named relation.
    Col(Option<Ident>, Ident),
    /// A bound value.
    Param(Value),
    /// An integer the plan chose (bit masks, fixed numbers), written into the text.
    Int(i64),
    /// A fixed text the plan chose (`'pageview'`, `'(not set)'`), written into the text.
    Str(&'static str),
    /// `NULL` of a type.
    Null(Ty),
    Bool(bool),
    Fn(Func, Vec<Expr>),
    Agg(Agg, Vec<Expr>, Option<Box<Expr>>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    /// `CASE WHEN c1 THEN v1 ... ELSE e END`.
    Case(Vec<(Expr, Expr)>, Box<Expr>),
    /// `x IN (a, b, ...)`.
    InList(Box<Expr>, Vec<Expr>),
    /// `x IN (SELECT one column ...)`.
    InRel(Box<Expr>, Box<crate::plan::Rel>),
    /// `(SELECT one value ...)`.
    Scalar(Box<crate::plan::Rel>),
    Cast(Box<Expr>, Ty),
    IsNull(Box<Expr>),
    /// `count(*) OVER ()`: the rows of the whole answer, before paging (only on backends with
    /// window functions).
    TotalRows,
    /// A window: the rows passing `filter` from the start of the row's partition through the
    /// row and its peers in `order` (only on backends with window functions).
    RunningCount {
        filter: Box<Expr>,
        partition: Vec<Expr>,
        order: Box<Expr>,
    },
}

/// Shorthands, so plans read as what they compute.
impl Expr {
    pub fn col(name: &'static str) -> Expr {
        Expr::Col(None, Ident::of(name))
    }

    pub fn of(rel: &'static str, name: &'static str) -> Expr {
        Expr::Col(Some(Ident::of(rel)), Ident::of(name))
    }

    pub fn ident(name: Ident) -> Expr {
        Expr::Col(None, name)
    }

    pub fn text(v: impl Into<String>) -> Expr {
        Expr::Param(Value::Text(v.into()))
    }

    pub fn int(v: i64) -> Expr {
        Expr::Param(Value::Int(v))
    }

    pub fn float(v: f64) -> Expr {
        Expr::Param(Value::Float(v))
    }

    pub fn f(func: Func, args: Vec<Expr>) -> Expr {
        Expr::Fn(func, args)
    }

    pub fn agg(a: Agg, args: Vec<Expr>) -> Expr {
        Expr::Agg(a, args, None)
    }

    pub fn agg_if(a: Agg, args: Vec<Expr>, filter: Expr) -> Expr {
        Expr::Agg(a, args, Some(Box::new(filter)))
    }

    pub fn count() -> Expr {
        Expr::Agg(Agg::CountRows, Vec::new(), None)
    }

    pub fn count_if(filter: Expr) -> Expr {
        Expr::Agg(Agg::CountRows, Vec::new(), Some(Box::new(filter)))
    }

    fn bin(self, op: BinOp, other: Expr) -> Expr {
        Expr::Bin(op, Box::new(self), Box::new(other))
    }

    pub fn eq(self, other: Expr) -> Expr {
        self.bin(BinOp::Eq, other)
    }

    pub fn ne(self, other: Expr) -> Expr {
        self.bin(BinOp::Ne, other)
    }

    pub fn lt(self, other: Expr) -> Expr {
        self.bin(BinOp::Lt, other)
    }

    pub fn le(self, other: Expr) -> Expr {
        self.bin(BinOp::Le, other)
    }

    pub fn gt(self, other: Expr) -> Expr {
        self.bin(BinOp::Gt, other)
    }

    pub fn ge(self, other: Expr) -> Expr {
        self.bin(BinOp::Ge, other)
    }

    pub fn plus(self, other: Expr) -> Expr {
        self.bin(BinOp::Add, other)
    }

    pub fn minus(self, other: Expr) -> Expr {
        self.bin(BinOp::Sub, other)
    }

    pub fn times(self, other: Expr) -> Expr {
        self.bin(BinOp::Mul, other)
    }

    pub fn over(self, other: Expr) -> Expr {
        self.bin(BinOp::Div, other)
    }

    pub fn bit_and(self, other: Expr) -> Expr {
        self.bin(BinOp::BitAnd, other)
    }

    pub fn and(self, other: Expr) -> Expr {
        Expr::all(vec![self, other])
    }

    pub fn or(self, other: Expr) -> Expr {
        Expr::any(vec![self, other])
    }

    /// `true` for an empty list; a single part stands alone.
    pub fn all(mut parts: Vec<Expr>) -> Expr {
        parts.retain(|p| *p != Expr::Bool(true));
        match parts.len() {
            0 => Expr::Bool(true),
            1 => parts.remove(0),
            _ => Expr::And(parts),
        }
    }

    /// `false` for an empty list; a single part stands alone.
    pub fn any(mut parts: Vec<Expr>) -> Expr {
        parts.retain(|p| *p != Expr::Bool(false));
        match parts.len() {
            0 => Expr::Bool(false),
            1 => parts.remove(0),
            _ => Expr::Or(parts),
        }
    }

    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Expr {
        match self {
            Expr::Bool(b) => Expr::Bool(!b),
            Expr::Not(inner) => *inner,
            other => Expr::Not(Box::new(other)),
        }
    }

    pub fn cast(self, ty: Ty) -> Expr {
        Expr::Cast(Box::new(self), ty)
    }

    pub fn is_null(self) -> Expr {
        Expr::IsNull(Box::new(self))
    }

    pub fn is_not_null(self) -> Expr {
        Expr::IsNull(Box::new(self)).not()
    }

    pub fn coalesce(self, other: Expr) -> Expr {
        Expr::Fn(Func::Coalesce, vec![self, other])
    }

    pub fn in_list(self, list: Vec<Expr>) -> Expr {
        if list.is_empty() {
            Expr::Bool(false)
        } else {
            Expr::InList(Box::new(self), list)
        }
    }

    pub fn in_rel(self, rel: crate::plan::Rel) -> Expr {
        Expr::InRel(Box::new(self), Box::new(rel))
    }

    /// `CASE WHEN cond THEN then ELSE otherwise END`.
    pub fn when(cond: Expr, then: Expr, otherwise: Expr) -> Expr {
        Expr::Case(vec![(cond, then)], Box::new(otherwise))
    }

    pub fn round(self, decimals: u32) -> Expr {
        Expr::Fn(Func::Round, vec![self, Expr::Int(i64::from(decimals))])
    }
}
