//! The collector's start-up reads: idempotency keys and sessions still open.

use duckdb::Connection;

use crate::StoreError;

pub fn idempotency_keys(conn: &Connection, since_ms: i64) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT idempotency_key FROM events
         WHERE idempotency_key <> '' AND timestamp >= epoch_ms(?::BIGINT)",
    )?;
    let rows = stmt.query_map([since_ms], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub fn recent_sessions(
    conn: &Connection,
    since_ms: i64,
) -> Result<Vec<(String, u64, u64, i64)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT site_id, visitor_id, arg_max(session_id, timestamp), epoch_ms(max(timestamp))
         FROM events WHERE timestamp >= epoch_ms(?::BIGINT)
         GROUP BY site_id, visitor_id",
    )?;
    let rows = stmt.query_map([since_ms], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
