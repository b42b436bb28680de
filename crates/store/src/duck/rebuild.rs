//! Upgrading a store written before migration 5: its compacted events have no page engagement
//! (`NULL`) and no visits rows yet. [`resume`] rebuilds them through the same compaction every
//! new visit goes through, a chunk of days per transaction, so an interrupted upgrade continues
//! where it stopped at the next start. The server answers only after it is done. Old events are
//! numbered in storage order (`rowid`) as they are rewritten. Progress goes to the log.

use duckdb::Connection;

use super::compact::{compact, Pick};
use crate::StoreError;

/// Rebuilds whatever compacted events still lack page engagement (none on a new store).
pub fn resume(c: &Connection) -> Result<(), StoreError> {
    let pending: i64 = c.query_row(
        "SELECT count(*) FROM events_sorted WHERE page_engaged_ms IS NULL",
        [],
        |r| r.get(0),
    )?;
    if pending == 0 {
        return Ok(());
    }
    tracing::info!(
        events = pending,
        "building visits and page engagement for the stored events (once, after the upgrade)"
    );
    let n = compact(c, Pick::Unbuilt)?;
    tracing::info!(events = n, "visits built");
    Ok(())
}
