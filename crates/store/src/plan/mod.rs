//! The way down's single place of decision: what every query computes, as relations and
//! expressions with no SQL text. Each query kind is planned here once — [`aggregate`] (the Stats
//! API and the dashboard), [`conversions`], [`funnel`] — from shared pieces written once: the
//! events and visits a query reads ([`scope`]), visit attributes ([`visits`]), filters
//! ([`filter`]), triggers ([`trigger`]), page engagement ([`engagement`]) and local time
//! ([`time`]). [`strategy`] picks another shape where a backend lacks a feature. A backend only
//! renders plans with its [`crate::sql::Dialect`] and runs them ([`Engine`]).

pub mod aggregate;
pub mod conversions;
pub mod engagement;
pub mod expr;
pub mod filter;
pub mod funnel;
pub mod rel;
pub mod scope;
pub mod strategy;
pub mod time;
pub mod trigger;
pub mod visits;

pub use expr::{Agg, BinOp, Expr, Func, Ident, Ty, Value};
pub use rel::{From, Join, JoinKind, Query, Rel, Reuse, Select, Table};
pub use scope::{Scope, VisitSource};
pub use waymark_core::query::TimeBucket as Bucket;

use crate::sql::Caps;
use crate::StoreError;

/// One value of an answer row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(String),
    Bool(bool),
}

impl Cell {
    pub fn int(&self) -> i64 {
        match self {
            Cell::Int(v) => *v,
            Cell::UInt(v) => *v as i64,
            Cell::Float(v) => *v as i64,
            _ => 0,
        }
    }

    pub fn float(&self) -> Option<f64> {
        match self {
            Cell::Float(v) => Some(*v),
            Cell::Int(v) => Some(*v as f64),
            Cell::UInt(v) => Some(*v as f64),
            _ => None,
        }
    }

    pub fn text(self) -> String {
        match self {
            Cell::Text(s) => s,
            _ => String::new(),
        }
    }
}

/// A column of a batch of answer rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Int(Vec<Option<i64>>),
    UInt(Vec<Option<u64>>),
    Float(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    /// Texts back to back: value `i` is `bytes[ends[i - 1]..ends[i]]` (`None` where null).
    Text {
        bytes: String,
        ends: Vec<usize>,
        nulls: Vec<bool>,
    },
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Column::Int(v) => v.len(),
            Column::UInt(v) => v.len(),
            Column::Float(v) => v.len(),
            Column::Bool(v) => v.len(),
            Column::Text { ends, .. } => ends.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Text value `i` (`None` where null or not a text column).
    pub fn str(&self, i: usize) -> Option<&str> {
        match self {
            Column::Text { bytes, ends, nulls } if !nulls[i] => {
                let start = if i == 0 { 0 } else { ends[i - 1] };
                bytes.get(start..ends[i])
            }
            _ => None,
        }
    }

    /// Value `i` as a cell.
    pub fn cell(&self, i: usize) -> Cell {
        match self {
            Column::Int(v) => v[i].map_or(Cell::Null, Cell::Int),
            Column::UInt(v) => v[i].map_or(Cell::Null, Cell::UInt),
            Column::Float(v) => v[i].map_or(Cell::Null, Cell::Float),
            Column::Bool(v) => v[i].map_or(Cell::Null, Cell::Bool),
            Column::Text { .. } => self
                .str(i)
                .map_or(Cell::Null, |s| Cell::Text(s.to_string())),
        }
    }
}

/// Rows of an answer, column by column.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub columns: Vec<Column>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.columns.first().map_or(0, Column::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Runs plans on one backend: renders them with its dialect, binds the parameters, and reads
/// the rows back as the plan's column types say.
pub trait Engine {
    fn caps(&self) -> Caps;

    /// Streams the rows of `q` in batches with one column per entry of `types`.
    fn batches(
        &self,
        q: &Query,
        types: &[Ty],
        each: &mut dyn FnMut(&Batch) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// The rows of `q`, cell by cell (for small answers).
    fn rows(&self, q: &Query, types: &[Ty]) -> Result<Vec<Vec<Cell>>, StoreError> {
        let mut out = Vec::new();
        self.batches(q, types, &mut |b| {
            for i in 0..b.len() {
                out.push(b.columns.iter().map(|c| c.cell(i)).collect());
            }
            Ok(())
        })?;
        Ok(out)
    }
}
