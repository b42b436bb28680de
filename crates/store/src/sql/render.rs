//! Plan → SQL text and parameters, in one pass from left to right, so parameters are bound
//! in exactly the order their placeholders appear (ClickHouse's positional `?` and DuckDB's
//! `$n` alike). Identifiers come only from the plan; values only become parameters.

use crate::plan::{BinOp, Expr, From, Ident, JoinKind, Query, Rel, Select, Value};

use super::dialect::Dialect;

/// A plan the dialect cannot spell (a missing capability the plan should have avoided).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {dialect} dialect cannot render {what}")]
pub struct RenderError {
    pub dialect: &'static str,
    pub what: String,
}

/// The text being written and the parameters bound so far.
pub struct Writer<'d> {
    pub dialect: &'d dyn Dialect,
    pub sql: String,
    pub binds: Vec<Value>,
}

/// Renders a query into text and its parameters.
pub fn render(q: &Query, dialect: &dyn Dialect) -> Result<(String, Vec<Value>), RenderError> {
    let mut w = Writer {
        dialect,
        sql: String::new(),
        binds: Vec::new(),
    };
    w.query(q)?;
    Ok((w.sql, w.binds))
}

impl Writer<'_> {
    pub fn push(&mut self, s: &str) {
        self.sql.push_str(s);
    }

    /// Binds a value and writes its placeholder.
    pub fn param(&mut self, v: &Value) {
        self.binds.push(v.clone());
        let p = self.dialect.placeholder(self.binds.len(), v);
        self.sql.push_str(&p);
    }

    pub fn ident(&mut self, i: &Ident) {
        self.sql.push_str(i.as_str());
    }

    /// Writes `items` separated by `sep`.
    pub fn list<T>(
        &mut self,
        items: &[T],
        sep: &str,
        mut each: impl FnMut(&mut Self, &T) -> Result<(), RenderError>,
    ) -> Result<(), RenderError> {
        for (i, it) in items.iter().enumerate() {
            if i > 0 {
                self.push(sep);
            }
            each(self, it)?;
        }
        Ok(())
    }

    /// `(a, b, c)` of expressions.
    pub fn args(&mut self, args: &[Expr]) -> Result<(), RenderError> {
        self.push("(");
        self.list(args, ", ", |w, e| w.expr(e))?;
        self.push(")");
        Ok(())
    }

    /// `name(args)`.
    pub fn call(&mut self, name: &str, args: &[Expr]) -> Result<(), RenderError> {
        self.push(name);
        self.args(args)
    }

    fn needs_windows(&self) -> Result<(), RenderError> {
        if self.dialect.caps().window_functions {
            Ok(())
        } else {
            Err(RenderError {
                dialect: self.dialect.name(),
                what: "a window function".into(),
            })
        }
    }

    pub fn expr(&mut self, e: &Expr) -> Result<(), RenderError> {
        match e {
            Expr::Col(rel, name) => {
                if let Some(r) = rel {
                    self.ident(r);
                    self.push(".");
                }
                self.ident(name);
            }
            Expr::Param(v) => self.param(v),
            Expr::Int(n) => self.push(&n.to_string()),
            Expr::Str(s) => {
                // Fixed texts chosen by the plan; quotes doubled all the same.
                self.push("'");
                self.push(&s.replace('\'', "''"));
                self.push("'");
            }
            Expr::Null(ty) => {
                let n = self.dialect.null(*ty);
                self.push(&n);
            }
            Expr::Bool(b) => self.push(if *b { "true" } else { "false" }),
            Expr::Fn(f, args) => self.dialect.func(self, *f, args)?,
            Expr::Agg(a, args, filter) => self.dialect.agg(self, *a, args, filter.as_deref())?,
            Expr::Bin(op, a, b) => {
                self.push("(");
                self.expr(a)?;
                self.push(match op {
                    BinOp::Eq => " = ",
                    BinOp::Ne => " <> ",
                    BinOp::Lt => " < ",
                    BinOp::Le => " <= ",
                    BinOp::Gt => " > ",
                    BinOp::Ge => " >= ",
                    BinOp::Add => " + ",
                    BinOp::Sub => " - ",
                    BinOp::Mul => " * ",
                    BinOp::Div => " / ",
                    BinOp::BitAnd => " & ",
                });
                self.expr(b)?;
                self.push(")");
            }
            Expr::Not(x) => {
                self.push("(NOT ");
                self.expr(x)?;
                self.push(")");
            }
            Expr::And(v) | Expr::Or(v) => {
                let sep = if matches!(e, Expr::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                self.push("(");
                self.list(v, sep, |w, e| w.expr(e))?;
                self.push(")");
            }
            Expr::Case(whens, otherwise) => {
                self.push("CASE");
                for (c, v) in whens {
                    self.push(" WHEN ");
                    self.expr(c)?;
                    self.push(" THEN ");
                    self.expr(v)?;
                }
                self.push(" ELSE ");
                self.expr(otherwise)?;
                self.push(" END");
            }
            Expr::InList(x, list) => {
                self.push("(");
                self.expr(x)?;
                self.push(" IN ");
                self.args(list)?;
                self.push(")");
            }
            Expr::InRel(x, rel) => {
                self.push("(");
                self.expr(x)?;
                self.push(" IN (");
                self.rel(rel)?;
                self.push("))");
            }
            Expr::Scalar(rel) => {
                self.push("(");
                self.rel(rel)?;
                self.push(")");
            }
            Expr::Cast(x, ty) => {
                self.push("CAST(");
                self.expr(x)?;
                self.push(" AS ");
                let t = self.dialect.type_name(*ty);
                self.push(t);
                self.push(")");
            }
            Expr::IsNull(x) => {
                self.push("(");
                self.expr(x)?;
                self.push(" IS NULL)");
            }
            Expr::TotalRows => {
                self.needs_windows()?;
                self.push("count(*) OVER ()");
            }
            Expr::RunningCount {
                filter,
                partition,
                order,
            } => {
                self.needs_windows()?;
                self.push("count(*) FILTER (WHERE ");
                self.expr(filter)?;
                self.push(") OVER (PARTITION BY ");
                self.list(partition, ", ", |w, e| w.expr(e))?;
                self.push(" ORDER BY ");
                self.expr(order)?;
                self.push(" RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)");
            }
        }
        Ok(())
    }

    fn from(&mut self, f: &From) -> Result<(), RenderError> {
        match f {
            From::Nothing => {}
            From::Table(t, alias) => {
                let name = self.dialect.table(*t);
                self.push(name);
                self.push(" ");
                self.ident(alias);
            }
            From::Cte(name, alias) => {
                self.ident(name);
                self.push(" ");
                self.ident(alias);
            }
            From::Sub(rel, alias) => {
                self.push("(");
                self.rel(rel)?;
                self.push(") ");
                self.ident(alias);
            }
        }
        Ok(())
    }

    pub fn select(&mut self, s: &Select) -> Result<(), RenderError> {
        self.push("SELECT ");
        if s.distinct {
            self.push("DISTINCT ");
        }
        self.list(&s.columns, ", ", |w, (e, name)| {
            w.expr(e)?;
            w.push(" AS ");
            w.ident(name);
            Ok(())
        })?;
        if s.from != From::Nothing {
            self.push(" FROM ");
            self.from(&s.from)?;
        }
        for j in &s.joins {
            self.push(match j.kind {
                JoinKind::Inner => " JOIN ",
                JoinKind::Left => " LEFT JOIN ",
                JoinKind::Full => " FULL OUTER JOIN ",
                JoinKind::Cross => " CROSS JOIN ",
            });
            self.from(&j.from)?;
            if let Some(on) = &j.on {
                self.push(" ON ");
                self.expr(on)?;
            }
        }
        if let Some(f) = &s.filter {
            self.push(" WHERE ");
            self.expr(f)?;
        }
        if !s.group_by.is_empty() {
            self.push(" GROUP BY ");
            self.list(&s.group_by, ", ", |w, e| w.expr(e))?;
        }
        if let Some(h) = &s.having {
            self.push(" HAVING ");
            self.expr(h)?;
        }
        if !s.order_by.is_empty() {
            self.push(" ORDER BY ");
            self.list(&s.order_by, ", ", |w, (e, desc)| {
                w.expr(e)?;
                w.push(if *desc { " DESC" } else { " ASC" });
                Ok(())
            })?;
        }
        if let Some(l) = &s.limit {
            self.push(" LIMIT ");
            self.expr(l)?;
        }
        if let Some(o) = &s.offset {
            self.push(" OFFSET ");
            self.expr(o)?;
        }
        Ok(())
    }

    pub fn rel(&mut self, r: &Rel) -> Result<(), RenderError> {
        match r {
            Rel::Select(s) => self.select(s),
            Rel::UnionAll(parts) if parts.len() == 1 => self.rel(&parts[0]),
            Rel::UnionAll(parts) => self.list(parts, " UNION ALL ", |w, r| {
                // Parenthesised, so a part's ORDER BY / LIMIT stays its own.
                w.push("(");
                w.rel(r)?;
                w.push(")");
                Ok(())
            }),
        }
    }

    pub fn query(&mut self, q: &Query) -> Result<(), RenderError> {
        if !q.with.is_empty() {
            self.push("WITH ");
            self.list(&q.with, ",\n", |w, (name, rel, reuse)| {
                w.ident(name);
                w.push(" AS ");
                let prefix = w.dialect.cte_prefix(*reuse == crate::plan::Reuse::Inline);
                w.push(prefix);
                w.push("(");
                w.rel(rel)?;
                w.push(")");
                Ok(())
            })?;
            self.push("\n");
        }
        self.rel(&q.body)
    }
}
