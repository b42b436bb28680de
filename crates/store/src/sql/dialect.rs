//! The seam between a plan and a backend's SQL: what a backend can do ([`Caps`]) and how it
//! spells tables, parameters, functions, aggregates and casts. The renderer writes everything
//! else (selects, joins, `CASE`, `IN`, unions) the same for every backend.

use crate::plan::{Agg, Expr, Func, Table, Ty, Value};

use super::render::{RenderError, Writer};

/// What a backend supports, so plans pick another shape where it lacks a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Window functions (`OVER (...)`); ClickHouse 18.16 has none.
    pub window_functions: bool,
    /// `FULL OUTER JOIN` on arbitrary conditions.
    pub full_join: bool,
}

/// How one backend spells SQL.
pub trait Dialect: Send + Sync {
    /// The backend's name, for errors.
    fn name(&self) -> &'static str;

    fn caps(&self) -> Caps;

    /// The table's name.
    fn table(&self, t: Table) -> &'static str;

    /// The placeholder of the `n`th parameter (1-based, in text order) of value `v`.
    fn placeholder(&self, n: usize, v: &Value) -> String;

    /// A scalar function.
    fn func(&self, w: &mut Writer<'_>, f: Func, args: &[Expr]) -> Result<(), RenderError>;

    /// An aggregate with its optional filter.
    fn agg(
        &self,
        w: &mut Writer<'_>,
        a: Agg,
        args: &[Expr],
        filter: Option<&Expr>,
    ) -> Result<(), RenderError>;

    /// A type's name in `CAST(x AS ty)`.
    fn type_name(&self, ty: Ty) -> &'static str;

    /// `NULL` of a type.
    fn null(&self, ty: Ty) -> String {
        format!("CAST(NULL AS {})", self.type_name(ty))
    }

    /// How an inlined (materialised or not) common table expression is introduced.
    fn cte_prefix(&self, inline: bool) -> &'static str;
}
