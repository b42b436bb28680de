//! Relations of a plan: selects over the store's tables, common table expressions, joins and
//! unions. Every relation names its columns (no `*`), so no dialect needs `EXCLUDE` or knows
//! more columns than the plan asked for.

use super::expr::{Expr, Ident};

/// The store's tables, spelled by each backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// Every event: compacted and recent.
    Events,
    /// Compacted events, clustered by site and time, with page engagement attached.
    EventsSorted,
    /// Events not compacted yet.
    EventsRecent,
    /// One row per compacted visit.
    Visits,
    /// Events being compacted, without page engagement (a backend's work table).
    Staged,
    /// The same events with their page engagement.
    StagedEngaged,
}

/// Where a select reads from.
#[derive(Debug, Clone, PartialEq)]
pub enum From {
    /// No relation (a select of constants or scalar subqueries).
    Nothing,
    Table(Table, Ident),
    /// A relation of the query's `WITH` list, under an alias.
    Cte(Ident, Ident),
    Sub(Box<Rel>, Ident),
}

impl From {
    pub fn table(t: Table, alias: &'static str) -> From {
        From::Table(t, Ident::of(alias))
    }

    pub fn cte(name: &'static str, alias: &'static str) -> From {
        From::Cte(Ident::of(name), Ident::of(alias))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    Left,
    Full,
    Cross,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    pub kind: JoinKind,
    pub from: From,
    /// `None` for a cross join.
    pub on: Option<Expr>,
}

/// `SELECT columns FROM from joins WHERE filter GROUP BY ... HAVING ... ORDER BY ... LIMIT/OFFSET`.
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    pub distinct: bool,
    pub columns: Vec<(Expr, Ident)>,
    pub from: From,
    pub joins: Vec<Join>,
    pub filter: Option<Expr>,
    pub group_by: Vec<Expr>,
    pub having: Option<Expr>,
    /// `(expression, descending)`.
    pub order_by: Vec<(Expr, bool)>,
    pub limit: Option<Expr>,
    pub offset: Option<Expr>,
}

impl Select {
    pub fn from(from: From) -> Select {
        Select {
            distinct: false,
            columns: Vec::new(),
            from,
            joins: Vec::new(),
            filter: None,
            group_by: Vec::new(),
            having: None,
            order_by: Vec::new(),
            limit: None,
            offset: None,
        }
    }

    /// Adds an output column.
    pub fn col(mut self, e: Expr, name: Ident) -> Select {
        self.columns.push((e, name));
        self
    }

    /// Adds an output column named like the column it reads (`col("site_id")`).
    pub fn pass(self, name: &'static str) -> Select {
        self.col(Expr::col(name), Ident::of(name))
    }

    /// ANDs a condition to the filter.
    pub fn filter(mut self, e: Expr) -> Select {
        self.filter = Some(match self.filter.take() {
            Some(f) => f.and(e),
            None => e,
        });
        self
    }

    pub fn having(mut self, e: Expr) -> Select {
        self.having = Some(e);
        self
    }

    pub fn group(mut self, e: Expr) -> Select {
        self.group_by.push(e);
        self
    }

    pub fn join(mut self, kind: JoinKind, from: From, on: Expr) -> Select {
        self.joins.push(Join {
            kind,
            from,
            on: Some(on),
        });
        self
    }

    pub fn rel(self) -> Rel {
        Rel::Select(Box::new(self))
    }
}

/// A relation: a select or a union of relations with the same columns.
#[derive(Debug, Clone, PartialEq)]
pub enum Rel {
    Select(Box<Select>),
    UnionAll(Vec<Rel>),
}

/// Whether a common table expression is computed once or inlined at each use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// The backend decides.
    Default,
    /// Inline at each use: re-scanning a site-clustered table is cheaper than copying it.
    Inline,
}

/// A query: named relations, then the answer's relation.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub with: Vec<(Ident, Rel, Reuse)>,
    pub body: Rel,
}

impl Query {
    pub fn new(body: Rel) -> Query {
        Query {
            with: Vec::new(),
            body,
        }
    }

    pub fn with(&mut self, name: &'static str, rel: Rel) {
        self.with.push((Ident::of(name), rel, Reuse::Default));
    }

    pub fn with_inline(&mut self, name: &'static str, rel: Rel) {
        self.with.push((Ident::of(name), rel, Reuse::Inline));
    }

    /// Whether a relation of that name is already in the `WITH` list.
    pub fn has(&self, name: &str) -> bool {
        self.with.iter().any(|(n, _, _)| n.as_str() == name)
    }
}
