//! Schema and numbered migrations. Each migration runs once, in a transaction, and bumps
//! `schema_version`; a store written by a newer Waymark is refused rather than damaged.
//! Migrations are history: their text never changes once released; the current layout is
//! [`crate::schema`]'s catalogue, which migration 5 reaches.

use duckdb::Connection;

use crate::schema::{ColType, Column, EVENT_COLUMNS, VISIT_COLUMNS};
use crate::StoreError;

/// The event columns of the first release (migration 1).
const EVENT_COLUMNS_V1: &str = "
    site_id VARCHAR NOT NULL,
    timestamp TIMESTAMP NOT NULL,
    visitor_id UBIGINT NOT NULL,
    session_id UBIGINT NOT NULL,
    name VARCHAR NOT NULL,
    hostname VARCHAR NOT NULL,
    pathname VARCHAR NOT NULL,
    referrer_domain VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    channel VARCHAR NOT NULL,
    utm_source VARCHAR NOT NULL,
    utm_medium VARCHAR NOT NULL,
    utm_campaign VARCHAR NOT NULL,
    utm_content VARCHAR NOT NULL,
    utm_term VARCHAR NOT NULL,
    country VARCHAR NOT NULL,
    region VARCHAR NOT NULL,
    city VARCHAR NOT NULL,
    device VARCHAR NOT NULL,
    browser VARCHAR NOT NULL,
    browser_version VARCHAR NOT NULL,
    os VARCHAR NOT NULL,
    os_version VARCHAR NOT NULL,
    prop_keys VARCHAR[] NOT NULL,
    prop_values VARCHAR[] NOT NULL,
    revenue_amount DOUBLE,
    revenue_currency VARCHAR NOT NULL,
    engagement_ms UINTEGER,
    scroll_depth UTINYINT,
    interactive BOOLEAN NOT NULL,
    idempotency_key VARCHAR NOT NULL
";

/// Migrations in order; index + 1 is the version they lead to.
fn migrations() -> Vec<String> {
    vec![
        format!(
            "CREATE TABLE sites (
             domain VARCHAR PRIMARY KEY,
             timezone VARCHAR NOT NULL,
             created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
         );
         CREATE TABLE ingest_state (id INTEGER PRIMARY KEY, applied_seq UBIGINT NOT NULL);
         INSERT INTO ingest_state VALUES (1, 0);
         CREATE TABLE events_sorted ({EVENT_COLUMNS_V1});
         CREATE TABLE events_recent ({EVENT_COLUMNS_V1});
         CREATE VIEW events AS
             SELECT * FROM events_sorted UNION ALL SELECT * FROM events_recent;"
        ),
        // 2: conversion and funnel definitions (see `definitions.rs`). No key constraints: the
        // single writer keeps names unique per site and replaces a definition in one transaction.
        "CREATE TABLE conversions (
             site_id VARCHAR NOT NULL,
             name VARCHAR NOT NULL,
             kind VARCHAR NOT NULL,
             trigger_text VARCHAR NOT NULL,
             value_kind VARCHAR NOT NULL,
             value_amount DOUBLE,
             value_currency VARCHAR NOT NULL,
             description VARCHAR NOT NULL,
             created_at TIMESTAMP NOT NULL,
             updated_at TIMESTAMP NOT NULL
         );
         CREATE TABLE funnels (
             site_id VARCHAR NOT NULL,
             name VARCHAR NOT NULL,
             window_ms BIGINT,
             step_order VARCHAR NOT NULL,
             created_at TIMESTAMP NOT NULL,
             updated_at TIMESTAMP NOT NULL
         );
         CREATE TABLE funnel_steps (
             site_id VARCHAR NOT NULL,
             funnel VARCHAR NOT NULL,
             step_no INTEGER NOT NULL,
             label VARCHAR NOT NULL,
             conversion VARCHAR,
             trigger_text VARCHAR
         );"
        .to_string(),
        // 3: dashboard users and login sessions (see `accounts.rs`). Password hashes are argon2
        // PHC strings; sessions are keyed by a hash of the id the browser holds.
        "CREATE TABLE users (
             email VARCHAR NOT NULL,
             password_hash VARCHAR NOT NULL,
             admin BOOLEAN NOT NULL,
             created_ms BIGINT NOT NULL
         );
         CREATE TABLE login_sessions (
             id_hash VARCHAR NOT NULL,
             email VARCHAR NOT NULL,
             created_ms BIGINT NOT NULL,
             expires_ms BIGINT NOT NULL
         );"
        .to_string(),
        // 4: access control (see `accounts.rs`): per-site grants for viewers, personal API keys
        // (only a digest of the key is kept) and shared read-only links per site.
        "CREATE TABLE site_grants (
             email VARCHAR NOT NULL,
             site_id VARCHAR NOT NULL,
             created_ms BIGINT NOT NULL
         );
         CREATE TABLE api_keys (
             id VARCHAR NOT NULL,
             email VARCHAR NOT NULL,
             name VARCHAR NOT NULL,
             prefix VARCHAR NOT NULL,
             key_hash VARCHAR NOT NULL,
             scopes VARCHAR NOT NULL,
             created_ms BIGINT NOT NULL,
             last_used_ms BIGINT
         );
         CREATE TABLE shared_links (
             id VARCHAR NOT NULL,
             site_id VARCHAR NOT NULL,
             name VARCHAR NOT NULL,
             token VARCHAR NOT NULL,
             password_hash VARCHAR,
             created_by VARCHAR NOT NULL,
             created_ms BIGINT NOT NULL
         );"
        .to_string(),
        // 5: arrival order, page engagement and the visits table (see `crate::schema`). Old
        // recent events are numbered after every compacted row; compacted events keep seq 0
        // until `super::rebuild::resume` rewrites them with their page engagement and visits.
        format!(
            "ALTER TABLE events_sorted ADD COLUMN seq UBIGINT DEFAULT 0;
             ALTER TABLE events_sorted ADD COLUMN page_engaged_ms BIGINT;
             ALTER TABLE events_sorted ADD COLUMN page_scroll BIGINT;
             ALTER TABLE events_recent ADD COLUMN seq UBIGINT DEFAULT 0;
             ALTER TABLE events_recent ADD COLUMN page_engaged_ms BIGINT;
             ALTER TABLE events_recent ADD COLUMN page_scroll BIGINT;
             DROP VIEW events;
             CREATE VIEW events AS
                 SELECT {user} FROM events_sorted UNION ALL SELECT {user} FROM events_recent;
             CREATE TABLE visits ({visits});
             UPDATE events_recent SET seq = rowid + 1
                 + (SELECT coalesce(max(rowid), 0) + 1 FROM events_sorted);",
            user = user_columns(),
            visits = ddl(VISIT_COLUMNS),
        ),
    ]
}

/// A column's DuckDB type.
fn duck_type(t: ColType) -> &'static str {
    match t {
        ColType::Text => "VARCHAR",
        ColType::TextList => "VARCHAR[]",
        ColType::U64 => "UBIGINT",
        ColType::I64 => "BIGINT",
        ColType::U32 => "UINTEGER",
        ColType::U8 => "UTINYINT",
        ColType::F64 => "DOUBLE",
        ColType::Bool => "BOOLEAN",
        ColType::Time => "TIMESTAMP",
    }
}

/// Column definitions for `CREATE TABLE`.
pub fn ddl(cols: &[Column]) -> String {
    cols.iter()
        .map(|c| {
            format!(
                "{} {}{}",
                c.name,
                duck_type(c.ty),
                if c.nullable { "" } else { " NOT NULL" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The event columns users see in the `events` view.
pub fn user_columns() -> String {
    crate::schema::user_event_columns()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every event column, in storage order.
pub fn event_columns() -> String {
    EVENT_COLUMNS
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Brings the schema up to date.
pub fn migrate(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
    let found: Option<i64> =
        conn.query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))?;
    let found = found.unwrap_or(0);
    let all = migrations();
    if found > all.len() as i64 {
        return Err(StoreError::TooNew {
            found,
            supported: all.len() as i64,
        });
    }
    for (i, sql) in all.iter().enumerate().skip(found as usize) {
        let version = i as i64 + 1;
        super::transaction::transaction(conn, |c| {
            c.execute_batch(sql)?;
            c.execute("INSERT INTO schema_version VALUES (?)", [version])?;
            Ok(())
        })?;
        tracing::info!(version, "store schema migrated");
    }
    if found < all.len() as i64 {
        // New columns of a big table live in memory until checkpointed: write them out
        // before anything else needs the memory.
        conn.execute_batch("CHECKPOINT")?;
    }
    Ok(())
}
