//! Conversion and funnel definitions in DuckDB tables (`conversions`, `funnels`,
//! `funnel_steps`). Triggers are kept in their canonical text form and parsed when read.
//! Saving replaces a definition by name inside one transaction and reports what changed.

use duckdb::{params, Connection, OptionalExt};
use waymark_core::{
    Change, Conversion, ConversionKind, ConversionValue, Funnel, FunnelStep, StepOrder, StepSource,
    Trigger, Window,
};

use super::transaction::transaction;
use crate::StoreError;

/// Microseconds since the epoch (timestamps come from Rust, so no time-zone functions are needed).
fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

fn corrupt(what: &str, name: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("stored {what} {name:?} is unreadable: {e}"))
}

fn value_columns(v: &ConversionValue) -> (&'static str, Option<f64>, String) {
    match v {
        ConversionValue::None => ("none", None, String::new()),
        ConversionValue::Revenue => ("revenue", None, String::new()),
        ConversionValue::Fixed { amount, currency } => ("fixed", Some(*amount), currency.clone()),
    }
}

pub fn conversions(conn: &Connection, site: &str) -> Result<Vec<Conversion>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT name, kind, trigger_text, value_kind, value_amount, value_currency, description
         FROM conversions WHERE site_id = ? ORDER BY created_at, name",
    )?;
    let rows = stmt.query_map([site], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<f64>>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (name, kind, trigger, value_kind, amount, currency, description) = row?;
        let kind: ConversionKind = kind.parse().map_err(|e| corrupt("conversion", &name, e))?;
        let trigger: Trigger = trigger
            .parse()
            .map_err(|e| corrupt("conversion", &name, e))?;
        let value = match value_kind.as_str() {
            "revenue" => ConversionValue::Revenue,
            "fixed" => ConversionValue::Fixed {
                amount: amount.unwrap_or(0.0),
                currency,
            },
            _ => ConversionValue::None,
        };
        out.push(Conversion {
            name,
            kind,
            trigger,
            value,
            description,
        });
    }
    Ok(out)
}

pub fn save_conversion(
    conn: &Connection,
    site: &str,
    c: &Conversion,
) -> Result<Change, StoreError> {
    transaction(conn, |conn| {
        let existing = conversions(conn, site)?
            .into_iter()
            .find(|x| x.name == c.name);
        if existing.as_ref() == Some(c) {
            return Ok(Change::Unchanged);
        }
        let now = now_us();
        let created_at: Option<i64> = conn
            .query_row(
                "SELECT epoch_us(created_at) FROM conversions WHERE site_id = ? AND name = ?",
                params![site, c.name],
                |r| r.get(0),
            )
            .optional()?;
        conn.execute(
            "DELETE FROM conversions WHERE site_id = ? AND name = ?",
            params![site, c.name],
        )?;
        let (value_kind, amount, currency) = value_columns(&c.value);
        conn.execute(
            "INSERT INTO conversions (site_id, name, kind, trigger_text, value_kind, value_amount,
                 value_currency, description, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, make_timestamp(?::BIGINT), make_timestamp(?::BIGINT))",
            params![
                site,
                c.name,
                c.kind.to_string(),
                c.trigger.to_string(),
                value_kind,
                amount,
                currency,
                c.description,
                created_at.unwrap_or(now),
                now
            ],
        )?;
        Ok(if existing.is_some() {
            Change::Updated
        } else {
            Change::Created
        })
    })
}

pub fn delete_conversion(conn: &Connection, site: &str, name: &str) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "DELETE FROM conversions WHERE site_id = ? AND name = ?",
        params![site, name],
    )? > 0)
}

pub fn funnels(conn: &Connection, site: &str) -> Result<Vec<Funnel>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT name, window_ms, step_order FROM funnels WHERE site_id = ? ORDER BY created_at, name",
    )?;
    let heads = stmt
        .query_map([site], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut steps_stmt = conn.prepare(
        "SELECT label, conversion, trigger_text FROM funnel_steps
         WHERE site_id = ? AND funnel = ? ORDER BY step_no",
    )?;
    let mut out = Vec::with_capacity(heads.len());
    for (name, window_ms, order) in heads {
        let order: StepOrder = order.parse().map_err(|e| corrupt("funnel", &name, e))?;
        let rows = steps_stmt
            .query_map(params![site, name], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut steps = Vec::with_capacity(rows.len());
        for (label, conversion, trigger) in rows {
            let source = match (conversion, trigger) {
                (Some(c), _) => StepSource::Conversion(c),
                (None, Some(t)) => {
                    StepSource::Trigger(t.parse().map_err(|e| corrupt("funnel", &name, e))?)
                }
                (None, None) => return Err(corrupt("funnel", &name, "a step without a source")),
            };
            steps.push(FunnelStep { label, source });
        }
        out.push(Funnel {
            name,
            steps,
            window: window_ms.map_or(Window::Session, Window::Duration),
            order,
        });
    }
    Ok(out)
}

pub fn save_funnel(conn: &Connection, site: &str, f: &Funnel) -> Result<Change, StoreError> {
    transaction(conn, |conn| {
        let existing = funnels(conn, site)?.into_iter().find(|x| x.name == f.name);
        if existing.as_ref() == Some(f) {
            return Ok(Change::Unchanged);
        }
        let now = now_us();
        let created_at: Option<i64> = conn
            .query_row(
                "SELECT epoch_us(created_at) FROM funnels WHERE site_id = ? AND name = ?",
                params![site, f.name],
                |r| r.get(0),
            )
            .optional()?;
        remove_funnel(conn, site, &f.name)?;
        let window_ms = match f.window {
            Window::Session => None,
            Window::Duration(ms) => Some(ms),
        };
        conn.execute(
            "INSERT INTO funnels (site_id, name, window_ms, step_order, created_at, updated_at)
             VALUES (?, ?, ?, ?, make_timestamp(?::BIGINT), make_timestamp(?::BIGINT))",
            params![
                site,
                f.name,
                window_ms,
                f.order.to_string(),
                created_at.unwrap_or(now),
                now
            ],
        )?;
        for (i, s) in f.steps.iter().enumerate() {
            let (conversion, trigger) = match &s.source {
                StepSource::Conversion(c) => (Some(c.clone()), None),
                StepSource::Trigger(t) => (None, Some(t.to_string())),
            };
            conn.execute(
                "INSERT INTO funnel_steps (site_id, funnel, step_no, label, conversion, trigger_text)
                 VALUES (?, ?, ?, ?, ?, ?)",
                params![site, f.name, i as i64 + 1, s.label, conversion, trigger],
            )?;
        }
        Ok(if existing.is_some() {
            Change::Updated
        } else {
            Change::Created
        })
    })
}

fn remove_funnel(conn: &Connection, site: &str, name: &str) -> Result<bool, StoreError> {
    conn.execute(
        "DELETE FROM funnel_steps WHERE site_id = ? AND funnel = ?",
        params![site, name],
    )?;
    Ok(conn.execute(
        "DELETE FROM funnels WHERE site_id = ? AND name = ?",
        params![site, name],
    )? > 0)
}

pub fn delete_funnel(conn: &Connection, site: &str, name: &str) -> Result<bool, StoreError> {
    transaction(conn, |conn| remove_funnel(conn, site, name))
}

/// Deletes every definition of a site (inside the caller's transaction).
pub fn delete_site_definitions(conn: &Connection, site: &str) -> Result<(), StoreError> {
    for table in ["funnel_steps", "funnels", "conversions"] {
        conn.execute(&format!("DELETE FROM {table} WHERE site_id = ?"), [site])?;
    }
    Ok(())
}
