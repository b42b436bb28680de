//! DuckDB's spelling: `$n` parameters, `FILTER (WHERE ...)`, `arg_min` with struct keys,
//! list functions for properties, `epoch_ms` between timestamps and milliseconds. The bundled
//! build has no ICU, so local time arrives as milliseconds already shifted by the plan.

use crate::plan::{Agg, Bucket, Expr, Func, Table, Ty, Value};

use super::dialect::{Caps, Dialect};
use super::render::{RenderError, Writer};

/// The embedded store's dialect.
pub struct DuckDialect;

impl Dialect for DuckDialect {
    fn name(&self) -> &'static str {
        "duckdb"
    }

    fn caps(&self) -> Caps {
        Caps {
            window_functions: true,
            full_join: true,
        }
    }

    fn table(&self, t: Table) -> &'static str {
        match t {
            Table::Events => "events",
            Table::EventsSorted => "events_sorted",
            Table::EventsRecent => "events_recent",
            Table::Visits => "visits",
            Table::Staged => "waymark_staged",
            Table::StagedEngaged => "waymark_staged_engaged",
        }
    }

    fn placeholder(&self, n: usize, _v: &Value) -> String {
        format!("${n}")
    }

    fn func(&self, w: &mut Writer<'_>, f: Func, args: &[Expr]) -> Result<(), RenderError> {
        let name = match f {
            Func::Lower => "lower",
            Func::Contains => "contains",
            Func::RegexMatch => "regexp_matches",
            Func::RegexFullMatch => "regexp_full_match",
            Func::Coalesce => "coalesce",
            Func::HasKey => "list_contains",
            Func::Millis => "epoch_ms",
            Func::Round => "round",
            Func::NullIf => "nullif",
            Func::Greatest => "greatest",
            Func::Least => "least",
            Func::PropValue => {
                let [keys, values, key] = args else {
                    return Err(arity("PropValue"));
                };
                w.push("list_extract(");
                w.expr(values)?;
                w.push(", list_position(");
                w.expr(keys)?;
                w.push(", ");
                w.expr(key)?;
                w.push("))");
                return Ok(());
            }
            Func::ToFloat => {
                w.push("TRY_CAST(");
                w.list(args, ", ", |w, e| w.expr(e))?;
                w.push(" AS DOUBLE)");
                return Ok(());
            }
            Func::FromMillis => {
                w.push("epoch_ms(CAST(");
                w.list(args, ", ", |w, e| w.expr(e))?;
                w.push(" AS BIGINT))");
                return Ok(());
            }
            Func::Label(bucket) => {
                let (trunc, fmt) = match bucket {
                    Bucket::Hour => (Some("hour"), "%Y-%m-%d %H:00:00"),
                    Bucket::Day => (None, "%Y-%m-%d"),
                    Bucket::Week => (Some("week"), "%Y-%m-%d"),
                    Bucket::Month => (Some("month"), "%Y-%m-%d"),
                };
                w.push("strftime(");
                if let Some(t) = trunc {
                    w.push("date_trunc('");
                    w.push(t);
                    w.push("', ");
                }
                w.push("epoch_ms(CAST(");
                w.list(args, ", ", |w, e| w.expr(e))?;
                w.push(" AS BIGINT))");
                if trunc.is_some() {
                    w.push(")");
                }
                w.push(", '");
                w.push(fmt);
                w.push("')");
                return Ok(());
            }
            Func::Key => {
                // A struct compares field by field.
                w.push("row");
                return w.args(args);
            }
        };
        w.call(name, args)
    }

    fn agg(
        &self,
        w: &mut Writer<'_>,
        a: Agg,
        args: &[Expr],
        filter: Option<&Expr>,
    ) -> Result<(), RenderError> {
        let filtered = |w: &mut Writer<'_>| -> Result<(), RenderError> {
            if let Some(f) = filter {
                w.push(" FILTER (WHERE ");
                w.expr(f)?;
                w.push(")");
            }
            Ok(())
        };
        match a {
            Agg::CountRows => w.push("count(*)"),
            Agg::CountDistinct => {
                w.push("count(DISTINCT ");
                w.list(args, ", ", |w, e| w.expr(e))?;
                w.push(")");
            }
            Agg::JoinDistinct => {
                let [x] = args else {
                    return Err(arity("JoinDistinct"));
                };
                w.push("coalesce(string_agg(DISTINCT ");
                w.expr(x)?;
                w.push(", '+' ORDER BY ");
                w.expr(x)?;
                w.push(")");
                filtered(w)?;
                w.push(", '')");
                return Ok(());
            }
            other => {
                let name = match other {
                    Agg::Count => "count",
                    Agg::Sum => "sum",
                    Agg::Avg => "avg",
                    Agg::Min => "min",
                    Agg::Max => "max",
                    Agg::ArgMin => "arg_min",
                    Agg::ArgMax => "arg_max",
                    Agg::BoolOr => "bool_or",
                    Agg::AnyValue => "any_value",
                    _ => unreachable!("handled above"),
                };
                w.call(name, args)?;
            }
        }
        filtered(w)
    }

    fn type_name(&self, ty: Ty) -> &'static str {
        match ty {
            Ty::Int => "BIGINT",
            Ty::UInt => "UBIGINT",
            Ty::Float => "DOUBLE",
            Ty::Text => "VARCHAR",
            Ty::Bool => "BOOLEAN",
        }
    }

    fn cte_prefix(&self, inline: bool) -> &'static str {
        if inline {
            "NOT MATERIALIZED "
        } else {
            ""
        }
    }
}

fn arity(what: &str) -> RenderError {
    RenderError {
        dialect: "duckdb",
        what: format!("{what} with these arguments"),
    }
}
