//! Runs plans on a DuckDB connection: renders them with [`DuckDialect`], binds the parameters
//! in text order, and reads the answer as Arrow batches (columnar, no per-value calls), cast to
//! the plan's column types.

use std::sync::Arc;

use duckdb::arrow::array::{Array, ArrayRef, AsArray};
use duckdb::arrow::compute::cast;
use duckdb::arrow::datatypes::{DataType, Float64Type, Int64Type, UInt64Type};
use duckdb::types::Value as DuckValue;
use duckdb::Connection;

use crate::plan::{Batch, Column, Engine, Query, Ty, Value};
use crate::sql::duckdb::DuckDialect;
use crate::sql::{render, Caps, Dialect};
use crate::StoreError;

/// A plan runner over one connection.
pub struct DuckEngine<'c> {
    pub conn: &'c Connection,
}

pub(crate) fn bind(v: &Value) -> DuckValue {
    match v {
        Value::Null => DuckValue::Null,
        Value::Bool(b) => DuckValue::Boolean(*b),
        Value::Int(i) => DuckValue::BigInt(*i),
        Value::Float(f) => DuckValue::Double(*f),
        Value::Text(s) => DuckValue::Text(s.clone()),
    }
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// One Arrow column as the plan's type.
fn column(a: &ArrayRef, ty: Ty) -> Result<Column, StoreError> {
    let target = match ty {
        Ty::Int => DataType::Int64,
        Ty::UInt => DataType::UInt64,
        Ty::Float => DataType::Float64,
        Ty::Bool => DataType::Boolean,
        Ty::Text => DataType::Utf8,
    };
    let a: ArrayRef = if a.data_type() == &target {
        Arc::clone(a)
    } else {
        cast(a, &target).map_err(backend)?
    };
    Ok(match ty {
        Ty::Int => Column::Int(a.as_primitive::<Int64Type>().iter().collect()),
        Ty::UInt => Column::UInt(a.as_primitive::<UInt64Type>().iter().collect()),
        Ty::Float => Column::Float(a.as_primitive::<Float64Type>().iter().collect()),
        Ty::Bool => Column::Bool(a.as_boolean().iter().collect()),
        Ty::Text => {
            let s = a.as_string::<i32>();
            let mut bytes = String::new();
            let mut ends = Vec::with_capacity(s.len());
            let mut nulls = Vec::with_capacity(s.len());
            for v in s.iter() {
                nulls.push(v.is_none());
                bytes.push_str(v.unwrap_or(""));
                ends.push(bytes.len());
            }
            Column::Text { bytes, ends, nulls }
        }
    })
}

impl DuckEngine<'_> {
    /// The SQL text and parameters of a plan (for logs and tests).
    pub fn sql(q: &Query) -> Result<(String, Vec<Value>), StoreError> {
        render(q, &DuckDialect).map_err(|e| StoreError::Invalid(e.to_string()))
    }
}

impl Engine for DuckEngine<'_> {
    fn caps(&self) -> Caps {
        DuckDialect.caps()
    }

    fn batches(
        &self,
        q: &Query,
        types: &[Ty],
        each: &mut dyn FnMut(&Batch) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let (sql, params) = DuckEngine::sql(q)?;
        tracing::debug!(%sql, params = params.len(), "plan");
        tracing::trace!(?params, "plan parameters");
        let mut stmt = self.conn.prepare(&sql)?;
        let binds: Vec<DuckValue> = params.iter().map(bind).collect();
        let arrow = stmt.query_arrow(duckdb::params_from_iter(binds.iter()))?;
        for rb in arrow {
            if rb.num_columns() != types.len() {
                return Err(StoreError::Backend(format!(
                    "the plan expects {} columns, the answer has {}",
                    types.len(),
                    rb.num_columns()
                )));
            }
            let columns = rb
                .columns()
                .iter()
                .zip(types)
                .map(|(a, t)| column(a, *t))
                .collect::<Result<Vec<_>, _>>()?;
            each(&Batch { columns })?;
        }
        Ok(())
    }
}
