//! Batched appends through DuckDB's Arrow appender (one data chunk per 2,048 rows, no per-row
//! SQL) into `events_recent`, each event numbered in arrival order (`seq`). A logged batch and
//! its ingest-log position commit in one transaction. Compaction moves the rows on
//! ([`super::compact`]).

use std::sync::Arc;

use duckdb::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int64Array, ListBuilder, StringBuilder,
    TimestampMicrosecondBuilder, UInt32Builder, UInt64Array, UInt64Builder, UInt8Builder,
};
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::Connection;
use waymark_core::Event;

use super::transaction::transaction;
use crate::StoreError;

/// Rows per Arrow batch handed to the appender.
const CHUNK: usize = 65_536;

/// Appends `events` to `events_recent`, numbered from `first_seq`; with `last_seq`, also
/// records the log position, atomically.
pub fn append(
    conn: &Connection,
    events: &[Event],
    first_seq: u64,
    last_seq: Option<u64>,
) -> Result<(), StoreError> {
    transaction(conn, |conn| {
        {
            let mut app = conn.appender("events_recent")?;
            for (i, chunk) in events.chunks(CHUNK).enumerate() {
                let seq = first_seq + (i * CHUNK) as u64;
                app.append_record_batch(to_batch(chunk, seq)?)?;
            }
            app.flush()?;
        }
        if let Some(seq) = last_seq {
            conn.execute(
                "UPDATE ingest_state SET applied_seq = greatest(applied_seq, ?) WHERE id = 1",
                [seq],
            )?;
        }
        Ok(())
    })
}

macro_rules! strings {
    ($events:expr, $field:ident) => {{
        let mut b = StringBuilder::with_capacity($events.len(), $events.len() * 8);
        for e in $events {
            b.append_value(&e.$field);
        }
        Arc::new(b.finish()) as ArrayRef
    }};
}

fn to_batch(events: &[Event], first_seq: u64) -> Result<RecordBatch, StoreError> {
    let n = events.len();
    let mut ts = TimestampMicrosecondBuilder::with_capacity(n);
    let mut visitor = UInt64Builder::with_capacity(n);
    let mut session = UInt64Builder::with_capacity(n);
    let mut keys = ListBuilder::new(StringBuilder::new());
    let mut values = ListBuilder::new(StringBuilder::new());
    let mut revenue = Float64Builder::with_capacity(n);
    let mut engagement = UInt32Builder::with_capacity(n);
    let mut scroll = UInt8Builder::with_capacity(n);
    let mut interactive = BooleanBuilder::with_capacity(n);
    for e in events {
        ts.append_value(e.timestamp_ms.saturating_mul(1000));
        visitor.append_value(e.visitor_id);
        session.append_value(e.session_id);
        for p in &e.props {
            keys.values().append_value(&p.key);
            values.values().append_value(&p.value);
        }
        keys.append(true);
        values.append(true);
        revenue.append_option(e.revenue_amount);
        engagement.append_option(e.engagement_ms);
        scroll.append_option(e.scroll_depth);
        interactive.append_value(e.interactive);
    }
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("site_id", strings!(events, site_id)),
        ("timestamp", Arc::new(ts.finish())),
        ("visitor_id", Arc::new(visitor.finish())),
        ("session_id", Arc::new(session.finish())),
        ("name", strings!(events, name)),
        ("hostname", strings!(events, hostname)),
        ("pathname", strings!(events, pathname)),
        ("referrer_domain", strings!(events, referrer_domain)),
        ("source", strings!(events, source)),
        ("channel", strings!(events, channel)),
        ("utm_source", strings!(events, utm_source)),
        ("utm_medium", strings!(events, utm_medium)),
        ("utm_campaign", strings!(events, utm_campaign)),
        ("utm_content", strings!(events, utm_content)),
        ("utm_term", strings!(events, utm_term)),
        ("country", strings!(events, country)),
        ("region", strings!(events, region)),
        ("city", strings!(events, city)),
        ("device", strings!(events, device)),
        ("browser", strings!(events, browser)),
        ("browser_version", strings!(events, browser_version)),
        ("os", strings!(events, os)),
        ("os_version", strings!(events, os_version)),
        ("prop_keys", Arc::new(keys.finish())),
        ("prop_values", Arc::new(values.finish())),
        ("revenue_amount", Arc::new(revenue.finish())),
        ("revenue_currency", strings!(events, revenue_currency)),
        ("engagement_ms", Arc::new(engagement.finish())),
        ("scroll_depth", Arc::new(scroll.finish())),
        ("interactive", Arc::new(interactive.finish())),
        ("idempotency_key", strings!(events, idempotency_key)),
        (
            "seq",
            Arc::new(UInt64Array::from_iter_values(
                (0..n as u64).map(|i| first_seq + i),
            )),
        ),
        ("page_engaged_ms", Arc::new(Int64Array::new_null(n))),
        ("page_scroll", Arc::new(Int64Array::new_null(n))),
    ];
    RecordBatch::try_from_iter(columns).map_err(|e| StoreError::Backend(e.to_string()))
}
