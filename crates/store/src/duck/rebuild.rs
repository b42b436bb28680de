//! Upgrading a store written before migration 5: existing events get an arrival order (their
//! storage order) and, through the same compaction every new event goes through, their page
//! engagement and their visits' rows. Progress goes to the log.

use duckdb::Connection;

use super::compact::{compact, Pick};
use crate::StoreError;

/// Fills the columns and table migration 5 added, inside its transaction.
pub fn after_v5(c: &Connection) -> Result<(), StoreError> {
    c.execute_batch("UPDATE events_sorted SET seq = rowid + 1")?;
    let base: i64 = c.query_row(
        "SELECT coalesce(max(seq), 0)::BIGINT FROM events_sorted",
        [],
        |r| r.get(0),
    )?;
    c.execute_batch(&format!(
        "UPDATE events_recent SET seq = rowid + 1 + {base}"
    ))?;
    if base > 0 {
        tracing::info!(
            events = base,
            "building visits and page engagement for the stored events (once, at upgrade)"
        );
        let n = compact(c, Pick::AllSorted)?;
        tracing::info!(events = n, "visits built");
    }
    Ok(())
}
