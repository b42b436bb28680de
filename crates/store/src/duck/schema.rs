//! Schema and numbered migrations. Each migration runs once, in a transaction, and bumps
//! `schema_version`; a store written by a newer Waymark is refused rather than damaged.

use duckdb::Connection;

use crate::StoreError;

/// The event columns, in storage order (shared by both event tables and the appender).
pub const EVENT_COLUMNS: &str = "
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
         CREATE TABLE events_sorted ({EVENT_COLUMNS});
         CREATE TABLE events_recent ({EVENT_COLUMNS});
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
    ]
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
    Ok(())
}
