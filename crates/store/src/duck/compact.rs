//! Compaction: moves whole visits' events from `events_recent` into `events_sorted` (sorted by
//! site and time, so small-site queries skip other sites' row groups), attaching each event's
//! page engagement, and rebuilds those visits' rows in `visits`. A visit whose earlier events
//! were compacted before is rebuilt from all of them: its compacted events (found through its
//! `visits` row) are taken out and written back with the new ones, so stored values always
//! describe whole visits. The rules come from the plan ([`crate::plan::visits`],
//! [`crate::plan::engagement`]), rendered for DuckDB; nothing here decides an answer.
//!
//! Work is done in chunks of visits by the day they began, each chunk in one transaction, so
//! memory stays bounded and an interrupted compaction leaves every visit whole, compacted or
//! not.

use duckdb::{params_from_iter, Connection};

use super::engine::DuckEngine;
use super::transaction::transaction;
use crate::plan::engagement::page_engagement;
use crate::plan::visits::visit_rows;
use crate::plan::{Expr, From, Ident, Query, Select, Table};
use crate::schema::{EVENT_COLUMNS, VISIT_COLUMNS};
use crate::StoreError;

/// Events per chunk, about (a chunk holds whole days of visits).
const CHUNK_EVENTS: i64 = 400_000;

const DAY_MS: i64 = 86_400_000;

/// Which events to compact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Every recent event.
    AllRecent,
    /// The recent events of visits idle since before this instant (no event at or after it).
    IdleRecent { before_ms: i64 },
    /// The compacted visits without page engagement yet (written before migration 5).
    Unbuilt,
}

fn run(c: &Connection, q: &Query, prefix: &str) -> Result<usize, StoreError> {
    let (sql, params) = DuckEngine::sql(q)?;
    tracing::trace!(%prefix, %sql, "compaction step");
    let binds: Vec<duckdb::types::Value> = params.iter().map(super::engine::bind).collect();
    Ok(c.execute(&format!("{prefix} {sql}"), params_from_iter(binds.iter()))?)
}

fn exec(c: &Connection, sql: &str) -> Result<(), StoreError> {
    tracing::trace!(%sql, "compaction step");
    Ok(c.execute_batch(sql)?)
}

fn stored_columns() -> Vec<&'static str> {
    EVENT_COLUMNS
        .iter()
        .map(|c| c.name)
        .filter(|n| !n.starts_with("page_"))
        .collect()
}

/// Compacts what `pick` names. Returns the events written to `events_sorted`.
pub fn compact(c: &Connection, pick: Pick) -> Result<u64, StoreError> {
    let (table, having) = match pick {
        Pick::AllRecent => ("events_recent", String::new()),
        Pick::IdleRecent { before_ms } => (
            "events_recent",
            format!(" HAVING max(timestamp) < epoch_ms({before_ms}::BIGINT)"),
        ),
        Pick::Unbuilt => ("events_sorted", String::new()),
    };
    let only = if pick == Pick::Unbuilt {
        " WHERE page_engaged_ms IS NULL"
    } else {
        ""
    };
    exec(
        c,
        &format!(
            "CREATE OR REPLACE TEMP TABLE waymark_candidates AS
         SELECT site_id, session_id, count(*) AS n,
                epoch_ms(min(timestamp)) AS first_ms, epoch_ms(max(timestamp)) AS last_ms,
                epoch_ms(min(timestamp)) // {DAY_MS} AS day
         FROM {table}{only} GROUP BY site_id, session_id{having}"
        ),
    )?;
    let days: Vec<(i64, i64)> = {
        tracing::trace!("compaction days");
        let mut stmt = c.prepare(
            "SELECT day, sum(n)::BIGINT FROM waymark_candidates GROUP BY day ORDER BY day",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    // Adjacent days together up to the chunk size.
    let mut chunks: Vec<(i64, i64)> = Vec::new();
    let mut size = 0;
    for (day, n) in days {
        match chunks.last_mut() {
            Some(last) if size + n <= CHUNK_EVENTS => {
                last.1 = day;
                size += n;
            }
            _ => {
                chunks.push((day, day));
                size = n;
            }
        }
    }
    let total = chunks.len();
    let mut moved = 0u64;
    for (i, (a, b)) in chunks.into_iter().enumerate() {
        let n = transaction(c, |c| chunk(c, pick, a, b))?;
        moved += n;
        if total > 1 {
            tracing::info!(chunk = i + 1, of = total, events = n, "compacting visits");
        }
    }
    exec(c, "DROP TABLE IF EXISTS waymark_candidates")?;
    Ok(moved)
}

/// Rebuilds the visits of candidate days `a..=b`.
fn chunk(c: &Connection, pick: Pick, a: i64, b: i64) -> Result<u64, StoreError> {
    exec(
        c,
        &format!(
            "CREATE OR REPLACE TEMP TABLE waymark_sessions AS
         SELECT site_id, session_id, first_ms, last_ms FROM waymark_candidates
         WHERE day BETWEEN {a} AND {b}"
        ),
    )?;
    // Where these visits' compacted events are.
    let window: (Option<i64>, Option<i64>) = if pick == Pick::Unbuilt {
        c.query_row(
            "SELECT min(first_ms), max(last_ms) FROM waymark_sessions",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
    } else {
        c.query_row(
            "SELECT min(v.first_ms), max(v.last_ms) FROM visits v
             JOIN waymark_sessions s USING (site_id, session_id)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
    };
    let cols = stored_columns().join(", ");
    // Events written before migration 5 are numbered by their storage order as they move.
    let sorted_cols = stored_columns()
        .iter()
        .map(|c| {
            if *c == "seq" {
                "CASE WHEN seq = 0 THEN events_sorted.rowid + 1 ELSE seq END AS seq".to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sorted_part = match window {
        (Some(lo), Some(hi)) => Some(format!(
            "timestamp BETWEEN epoch_ms({lo}::BIGINT) AND epoch_ms({hi}::BIGINT)"
        )),
        _ => None,
    };
    let mut staged = Vec::new();
    if pick != Pick::Unbuilt {
        staged.push(format!(
            "SELECT {cols} FROM events_recent JOIN waymark_sessions USING (site_id, session_id)"
        ));
    }
    if let Some(w) = &sorted_part {
        staged.push(format!(
            "SELECT {sorted_cols} FROM events_sorted JOIN waymark_sessions USING (site_id, session_id) WHERE {w}"
        ));
    }
    exec(
        c,
        &format!(
            "CREATE OR REPLACE TEMP TABLE waymark_staged AS {}",
            staged.join(" UNION ALL ")
        ),
    )?;

    // Page engagement, by the plan's rule.
    let carry = stored_columns();
    let mut q = Query::new(Select::from(From::Nothing).rel());
    let mut staged_rel = Select::from(From::table(Table::Staged, "s"));
    for col in &carry {
        staged_rel = staged_rel.pass(col);
    }
    q.with("staged", staged_rel.rel());
    q.body = page_engagement(&mut q, ("st_pv", "st_pages"), "staged", &carry).rel();
    run(
        c,
        &q,
        "CREATE OR REPLACE TEMP TABLE waymark_staged_engaged AS",
    )?;

    if let Some(w) = &sorted_part {
        exec(
            c,
            &format!(
                "DELETE FROM events_sorted USING waymark_sessions s
             WHERE events_sorted.site_id = s.site_id AND events_sorted.session_id = s.session_id
               AND events_sorted.{w}"
            ),
        )?;
    }
    if pick != Pick::Unbuilt {
        exec(
            c,
            "DELETE FROM events_recent USING waymark_sessions s
             WHERE events_recent.site_id = s.site_id AND events_recent.session_id = s.session_id",
        )?;
    }
    let all = super::schema::event_columns();
    let moved = c.execute(
        &format!(
            "INSERT INTO events_sorted ({all}) SELECT {all} FROM waymark_staged_engaged
             ORDER BY site_id, timestamp, seq"
        ),
        [],
    )?;
    exec(
        c,
        "DELETE FROM visits USING waymark_sessions s
         WHERE visits.site_id = s.site_id AND visits.session_id = s.session_id",
    )?;
    let mut v = visit_rows(From::table(Table::StagedEngaged, "e"), &[]);
    v.order_by = vec![
        (Expr::col("site_id"), false),
        (Expr::ident(Ident::of("first_ms")), false),
    ];
    let names = VISIT_COLUMNS
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ");
    run(
        c,
        &Query::new(v.rel()),
        &format!("INSERT INTO visits ({names})"),
    )?;
    exec(
        c,
        "DROP TABLE IF EXISTS waymark_staged; DROP TABLE IF EXISTS waymark_staged_engaged;
         DROP TABLE IF EXISTS waymark_sessions;",
    )?;
    Ok(moved as u64)
}
