//! The one way the DuckDB backend runs several statements atomically.

use duckdb::Connection;

use crate::StoreError;

/// Runs `f` inside a transaction: committed when it succeeds, rolled back when it fails.
pub(crate) fn transaction<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.execute_batch("BEGIN TRANSACTION")?;
    match f(conn) {
        Ok(v) => {
            conn.execute_batch("COMMIT")?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}
