//! The embedded backend: one DuckDB file in the data directory.
//!
//! Layout: new rows land in `events_recent`; [`DuckStore::maintain`] compacts the visits that
//! went idle ([`compact`]): their events move, sorted by site and time, into `events_sorted`
//! with their page engagement, and their rows into `visits`, so each row group holds few sites
//! (small-site queries skip the rest by zone maps) and visit questions read one narrow row per
//! visit. Queries combine both at query time ([`crate::plan::scope`]). `events` is a view over
//! both event tables, which is what users query with `waymark sql`, beside `visits`.
//! Extension auto-install and auto-load are off: the store never touches the network.

mod accounts;
mod append;
pub mod compact;
mod config;
mod definitions;
pub mod engine;
mod rebuild;
mod schema;
mod sql;
mod stats;
mod transaction;

use std::path::{Path, PathBuf};

use std::sync::atomic::{AtomicBool, Ordering};

use duckdb::{Config, Connection};
use parking_lot::{Condvar, Mutex};
use waymark_core::{ConversionCounts, ConversionQuery, Event, FunnelCounts, FunnelQuery};

use self::compact::Pick;
use self::engine::DuckEngine;
use crate::plan::strategy::{visit_source, Precomputed};
use crate::plan::VisitSource;
use crate::query::Table;
use crate::{EventStore, StoreError};

/// A visit with no event for this long has ended: compaction may take it.
const IDLE_MS: i64 = 30 * 60 * 1000;

/// Memory and thread settings for DuckDB.
#[derive(Debug, Clone)]
pub struct DuckOptions {
    /// DuckDB `memory_limit`, e.g. `256MB`.
    pub memory_limit: String,
    /// DuckDB worker threads.
    pub threads: u32,
    /// Rows in `events_recent` that trigger a clustering pass in `maintain`.
    pub compact_rows: u64,
}

impl Default for DuckOptions {
    fn default() -> Self {
        DuckOptions {
            memory_limit: "256MB".into(),
            threads: 2,
            compact_rows: 50_000,
        }
    }
}

/// The DuckDB event store.
pub struct DuckStore {
    path: PathBuf,
    /// The single writer; appends and maintenance serialise here.
    writer: Mutex<Connection>,
    /// Idle reader connections to the same database.
    readers: Mutex<Vec<Connection>>,
    /// Reads running now, at most `max_reads` (see [`DuckStore::read`]).
    running: Mutex<usize>,
    read_done: Condvar,
    options: DuckOptions,
    /// The arrival number of the next appended event (appends hold the writer).
    next_seq: Mutex<u64>,
    /// Whether queries read the pre-computed visits (off: every answer from raw events, the
    /// oracle the differential tests compare with).
    precomputed: AtomicBool,
}

/// A running read; dropping it lets a waiting one start.
struct ReadPermit<'a>(&'a DuckStore);

impl Drop for ReadPermit<'_> {
    fn drop(&mut self) {
        *self.0.running.lock() -= 1;
        self.0.read_done.notify_one();
    }
}

/// The database file inside a data directory.
pub fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join("events.duckdb")
}

impl DuckStore {
    /// Opens (creating and migrating) the store in `data_dir`.
    pub fn open(data_dir: &Path, options: DuckOptions) -> Result<DuckStore, StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StoreError::Io(format!("{}: {e}", data_dir.display())))?;
        let path = db_path(data_dir);
        let config = Config::default()
            .enable_autoload_extension(false)?
            .with("autoinstall_known_extensions", "false")?
            .with("allow_community_extensions", "false")?
            // Only ORDER BY decides an order: keeping insertion order costs memory that big
            // compactions and CTAS do not have under the default 256 MB.
            .with("preserve_insertion_order", "false")?
            .max_memory(&options.memory_limit)?
            .threads(i64::from(options.threads.max(1)))?;
        let conn = Connection::open_with_flags(&path, config).map_err(|e| {
            let msg = e.to_string();
            if msg.contains("lock") {
                StoreError::Locked(path.display().to_string())
            } else {
                StoreError::Backend(msg)
            }
        })?;
        // Checkpoint often enough that the WAL stays small even under steady appends.
        conn.execute_batch("SET checkpoint_threshold = '32MB';")?;
        DuckStore::new(path, conn, options)
    }

    fn new(path: PathBuf, conn: Connection, options: DuckOptions) -> Result<DuckStore, StoreError> {
        schema::migrate(&conn)?;
        rebuild::resume(&conn)?;
        let next: u64 = conn.query_row(
            "SELECT greatest(
                 (SELECT coalesce(max(seq), 0) FROM events),
                 (SELECT coalesce(max(rowid), 0) + 1 FROM events_sorted))::UBIGINT + 1",
            [],
            |r| r.get(0),
        )?;
        Ok(DuckStore {
            path,
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            running: Mutex::new(0),
            read_done: Condvar::new(),
            options,
            next_seq: Mutex::new(next),
            precomputed: AtomicBool::new(true),
        })
    }

    /// Answers from the pre-computed visits (the default) or from raw events only.
    pub fn set_precomputed(&self, on: bool) {
        self.precomputed.store(on, Ordering::Relaxed);
    }

    /// Runs a plan's answer on a reader with the visit source for `site` and `bounds`.
    fn answer<T>(
        &self,
        site: &str,
        bounds: waymark_core::TimeBounds,
        props: bool,
        f: impl FnOnce(&DuckEngine<'_>, VisitSource) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pre = if self.precomputed.load(Ordering::Relaxed) {
            Precomputed::Yes
        } else {
            Precomputed::No
        };
        self.read(|conn| {
            let engine = DuckEngine { conn };
            let source = visit_source(&engine, pre, site, bounds, props)?;
            f(&engine, source)
        })
    }

    fn append_numbered(&self, events: &[Event], last_seq: Option<u64>) -> Result<(), StoreError> {
        let conn = self.writer.lock();
        let mut next = self.next_seq.lock();
        append::append(&conn, events, *next, last_seq)?;
        *next += events.len() as u64;
        Ok(())
    }

    /// Opens a throw-away in-memory store (tests).
    pub fn in_memory() -> Result<DuckStore, StoreError> {
        let config = Config::default()
            .enable_autoload_extension(false)?
            .with("autoinstall_known_extensions", "false")?
            .with("preserve_insertion_order", "false")?;
        let conn = Connection::open_in_memory_with_flags(config)?;
        DuckStore::new(PathBuf::from(":memory:"), conn, DuckOptions::default())
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads that may run at once. All connections share one database, so its `threads`
    /// workers and its `memory_limit`: more queries at once add no CPU, only split the memory,
    /// and at 10M events eight dashboard queries together ran out of it (errors, not answers).
    fn max_reads(&self) -> usize {
        (self.options.threads as usize).max(2)
    }

    /// Runs `f` on a reader connection (taken from the pool, returned after), waiting while
    /// [`DuckStore::max_reads`] reads run.
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        {
            let mut running = self.running.lock();
            while *running >= self.max_reads() {
                self.read_done.wait(&mut running);
            }
            *running += 1;
        }
        // Released however `f` ends (errors and panics included).
        let _permit = ReadPermit(self);
        let conn = match self.readers.lock().pop() {
            Some(c) => c,
            None => self.writer.lock().try_clone()?,
        };
        let out = f(&conn);
        let mut pool = self.readers.lock();
        if pool.len() < 8 {
            pool.push(conn);
        }
        out
    }

    /// Compacts every recent event (tests, shutdown, after bulk loads). Returns the events
    /// written to `events_sorted`.
    pub fn compact(&self) -> Result<u64, StoreError> {
        compact::compact(&self.writer.lock(), Pick::AllRecent)
    }
}

impl EventStore for DuckStore {
    fn append(&self, events: &[Event]) -> Result<(), StoreError> {
        self.append_numbered(events, None)
    }

    fn append_logged(&self, events: &[Event], last_seq: u64) -> Result<(), StoreError> {
        self.append_numbered(events, Some(last_seq))
    }

    fn applied_seq(&self) -> Result<u64, StoreError> {
        let conn = self.writer.lock();
        Ok(conn.query_row(
            "SELECT applied_seq FROM ingest_state WHERE id = 1",
            [],
            |r| r.get(0),
        )?)
    }

    fn idempotency_keys(&self, since_ms: i64) -> Result<Vec<String>, StoreError> {
        self.read(|c| stats::idempotency_keys(c, since_ms))
    }

    fn recent_sessions(&self, since_ms: i64) -> Result<Vec<(String, u64, u64, i64)>, StoreError> {
        self.read(|c| stats::recent_sessions(c, since_ms))
    }

    fn aggregate(
        &self,
        query: &waymark_core::query::AggregateQuery,
    ) -> Result<waymark_core::query::AggregateResult, StoreError> {
        let props = !crate::plan::aggregate::props_of(query).is_empty();
        self.answer(&query.site, query.bounds, props, |e, source| {
            crate::plan::aggregate::answer(e, query, source)
        })
    }

    fn conversion_counts(&self, query: &ConversionQuery) -> Result<ConversionCounts, StoreError> {
        let props = query
            .filter
            .as_ref()
            .is_some_and(|f| !crate::plan::filter::visit_props(Some(f), []).is_empty());
        self.answer(&query.site, query.bounds, props, |e, source| {
            crate::plan::conversions::answer(e, query, source)
        })
    }

    fn funnel(&self, query: &FunnelQuery) -> Result<FunnelCounts, StoreError> {
        let props = !crate::plan::funnel::props_of(query).is_empty();
        self.answer(&query.site, query.bounds, props, |e, source| {
            crate::plan::funnel::answer(e, query, source)
        })
    }

    fn delete_site_events(&self, domain: &str) -> Result<(), StoreError> {
        let conn = self.writer.lock();
        transaction::transaction(&conn, |c| {
            for table in ["events_sorted", "events_recent", "visits"] {
                c.execute(&format!("DELETE FROM {table} WHERE site_id = ?"), [domain])?;
            }
            Ok(())
        })
    }

    fn sql(&self, query: &str) -> Result<Table, StoreError> {
        self.read(|c| sql::run(c, query))
    }

    fn maintain(&self) -> Result<(), StoreError> {
        let conn = self.writer.lock();
        let (pending, oldest): (u64, Option<i64>) = conn.query_row(
            "SELECT count(*), epoch_ms(min(timestamp)) FROM events_recent",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let now = chrono_now_ms();
        // Visits that ended move on; a flood is taken whole (split visits are rebuilt later).
        let pick = if pending >= self.options.compact_rows.saturating_mul(20) {
            Some(Pick::AllRecent)
        } else if pending >= self.options.compact_rows / 10
            || oldest.is_some_and(|t| t < now - IDLE_MS)
        {
            Some(Pick::IdleRecent {
                before_ms: now - IDLE_MS,
            })
        } else {
            None
        };
        if let Some(pick) = pick {
            let moved = compact::compact(&conn, pick)?;
            tracing::debug!(moved, "compacted visits");
        }
        conn.execute_batch("CHECKPOINT")?;
        Ok(())
    }

    fn checkpoint(&self) -> Result<(), StoreError> {
        compact::compact(&self.writer.lock(), Pick::AllRecent)?;
        self.writer.lock().execute_batch("FORCE CHECKPOINT")?;
        Ok(())
    }
}

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
